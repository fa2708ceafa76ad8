/*
 * doctor: firewall rules that stop the mesh (doctor.h).  Reads the ruleset the way an operator
 * would (`nft list ruleset`, `iptables-save`, `ip6tables-save`; read-only, fixed command lines)
 * and flags rules that drop or reject ESP or the agents' UDP port, and input/output chains
 * whose policy is drop with no rule accepting ESP.  It cannot prove a ruleset lets the mesh
 * through; it finds the usual ways it does not.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "doctor.h"

static bool has(const char *line, const char *const words[])
{
	for (size_t i = 0; words[i]; i++)
		if (strstr(line, words[i]))
			return true;
	return false;
}

static const char *const esp_nft[] = { "l4proto esp", "protocol esp", "nexthdr esp", "esp spi", "l4proto 50", NULL };
static const char *const esp_ipt[] = { "-p esp", "-p 50", NULL };
static const char *const drops[] = { " drop", " reject", "-j DROP", "-j REJECT", NULL };

struct chain {
	char name[96];
	bool base_drop;		/* an input or output hook with policy drop */
	bool accepts_esp;
};

static void end_chain(struct doctor *d, const char *tool, const struct chain *c)
{
	if (c->base_drop && !c->accepts_esp)
		doctor_add(d, "firewall", DOC_WARN, "accept ESP (nft: meta l4proto esp accept; iptables: -p esp -j ACCEPT) and the agents' UDP port in that chain",
			   "%s: chain %s drops by default and has no rule accepting ESP", tool, c->name);
}

/* Returns the number of findings from one tool's output. */
static int scan(struct doctor *d, const char *cmd, const char *tool, bool nft, unsigned port)
{
	char line[1024], dport[32], tport[32];
	struct chain c = { .name = "" };
	int found = 0;
	FILE *f = popen(cmd, "r");

	if (!f)
		return 0;
	snprintf(dport, sizeof(dport), nft ? "dport %u" : "--dport %u", port);
	snprintf(tport, sizeof(tport), "th dport %u", port);
	while (fgets(line, sizeof(line), f)) {
		const char *const *esp = nft ? esp_nft : esp_ipt;
		bool is_esp = has(line, esp), is_port = strstr(line, dport) || strstr(line, tport);

		line[strcspn(line, "\n")] = '\0';
		if (nft && sscanf(line, " chain %95s", c.name) == 1) {	/* nft: rules follow their chain */
			end_chain(d, tool, &c);
			memset(&c, 0, sizeof(c));
			sscanf(line, " chain %95s", c.name);
			continue;
		}
		if (!nft && strncmp(line, ":INPUT DROP", 11) == 0) {	/* iptables: policies first, then -A lines */
			snprintf(c.name, sizeof(c.name), "INPUT");
			c.base_drop = true;
			continue;
		}
		if (nft && (strstr(line, "hook input") || strstr(line, "hook output")) && strstr(line, "policy drop"))
			c.base_drop = true;
		if (is_esp && (nft ? strstr(line, "accept") != NULL : strstr(line, "-A INPUT") && strstr(line, "ACCEPT")))
			c.accepts_esp = true;
		if ((is_esp || is_port) && has(line, drops)) {
			found++;
			doctor_add(d, "firewall", DOC_ERROR, "remove that rule, or put an accept for ESP and the agents' UDP port before it",
				   "%s: a rule drops %s: \"%s\"", tool, is_esp ? "ESP" : "the agents' UDP port", line + strspn(line, " \t"));
		}
	}
	end_chain(d, tool, &c);
	pclose(f);
	return found;
}

void doctor_firewall(struct doctor *d)
{
	unsigned port = d->conf.inv ? d->conf.inv->port : MS_DEFAULT_PORT;
	int found = 0;

	found += scan(d, "nft list ruleset 2>/dev/null", "nftables", true, port);
	found += scan(d, "iptables-save 2>/dev/null", "iptables", false, port);
	found += scan(d, "ip6tables-save 2>/dev/null", "ip6tables", false, port);
	if (!found)
		doctor_add(d, "firewall", DOC_OK, "", "no nftables or iptables rule drops ESP or UDP port %u", port);
}
