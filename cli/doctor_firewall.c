/*
 * doctor: firewall rules that stop the mesh (doctor.h).  Reads the ruleset the way an operator
 * would (`nft -a list ruleset`, `iptables-save`, `ip6tables-save`; read-only, fixed command
 * lines) and flags rules that drop or reject ESP or the agents' UDP port, and input chains whose
 * policy is drop with no rule accepting ESP, each with the command that removes or fixes it.
 * It cannot prove a ruleset lets the mesh through; it finds the usual ways it does not.  A tool
 * refused for want of privilege makes the check a skip: an unread ruleset is not a clean one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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
static const char *const denied[] = { "ermission denied", "not permitted", "must be root", NULL };

struct tool {
	const char *cmd, *name, *bin;	/* bin: the command the fixes name (nft, iptables, ip6tables) */
	bool nft;
};

struct scan {
	const struct tool *t;
	unsigned port;
	char table[96], family[16], chain[96];
	bool base_drop;		/* an input hook (nft) or INPUT (iptables) with policy drop */
	bool accepts_esp;
	int found;
};

static void end_chain(struct doctor *d, struct scan *s)
{
	char fix[768];

	if (s->base_drop && !s->accepts_esp) {
		if (s->t->nft)
			snprintf(fix, sizeof(fix), "nft insert rule %s %s %s meta l4proto esp accept; nft insert rule %s %s %s udp dport %u accept",
				 s->family, s->table, s->chain, s->family, s->table, s->chain, s->port);
		else
			snprintf(fix, sizeof(fix), "%s -I INPUT -p esp -j ACCEPT; %s -I INPUT -p udp --dport %u -j ACCEPT", s->t->bin, s->t->bin,
				 s->port);
		doctor_add(d, "firewall", DOC_WARN, fix, "%s: chain %s%s%s drops by default and has no rule accepting ESP", s->t->name,
			   s->t->nft ? s->table : "", s->t->nft ? " " : "", s->chain);
	}
	s->base_drop = s->accepts_esp = false;
}

static void drop_rule(struct doctor *d, struct scan *s, char *line, bool is_esp)
{
	char fix[512], *handle = strstr(line, " # handle ");
	const char *rule = line + strspn(line, " \t");
	unsigned h = 0;

	s->found++;
	if (s->t->nft) {
		if (handle)
			sscanf(handle, " # handle %u", &h), *handle = '\0';
		snprintf(fix, sizeof(fix), "nft delete rule %s %s %s handle %u, or insert an accept for ESP and UDP port %u before it",
			 s->family, s->table, s->chain, h, s->port);
	} else {
		snprintf(fix, sizeof(fix), "%s%s%s -D %s, or insert an accept for ESP and UDP port %u before it", s->t->bin,
			 strcmp(s->table, "filter") ? " -t " : "", strcmp(s->table, "filter") ? s->table : "", rule + 3, s->port);
	}
	doctor_add(d, "firewall", DOC_ERROR, fix, "%s: a rule drops %s: \"%s\"", s->t->name, is_esp ? "ESP" : "the agents' UDP port", rule);
}

static void line_nft(struct doctor *d, struct scan *s, char *line, bool is_esp, bool is_port)
{
	if (sscanf(line, "table %15s %95s", s->family, s->table) == 2)
		return;
	if (sscanf(line, " chain %95s", s->chain) == 1) {	/* rules follow their chain */
		s->base_drop = s->accepts_esp = false;
		return;
	}
	if (strcmp(line + strspn(line, " \t"), "}") == 0 && s->chain[0]) {
		end_chain(d, s);
		s->chain[0] = '\0';
		return;
	}
	if (strstr(line, "hook input") && strstr(line, "policy drop"))
		s->base_drop = true;
	if (is_esp && strstr(line, "accept"))
		s->accepts_esp = true;
	if ((is_esp || is_port) && has(line, drops))
		drop_rule(d, s, line, is_esp);
}

static void line_ipt(struct doctor *d, struct scan *s, char *line, bool is_esp, bool is_port)
{
	if (line[0] == '*') {
		snprintf(s->table, sizeof(s->table), "%.95s", line + 1);
	} else if (strncmp(line, ":INPUT DROP", 11) == 0) {	/* policies first, then -A lines */
		snprintf(s->chain, sizeof(s->chain), "INPUT");
		s->base_drop = true;
	} else if (strcmp(line, "COMMIT") == 0) {
		end_chain(d, s);
	} else if (strncmp(line, "-A ", 3) == 0) {
		if (is_esp && strstr(line, "-A INPUT") && strstr(line, "ACCEPT"))
			s->accepts_esp = true;
		if ((is_esp || is_port) && has(line, drops))
			drop_rule(d, s, line, is_esp);
	}
}

enum { SCANNED, NOT_INSTALLED, NOT_PERMITTED, SHOWN_BY_NFT, FAILED };

/* Scans one tool's output; *found counts the rules reported. */
static int scan(struct doctor *d, const struct tool *t, unsigned port, bool nft_read, int *found)
{
	char line[1024], dport[32], tport[32], first[160] = "";
	struct scan s = { .t = t, .port = port };
	bool perm = false;
	int status;
	FILE *f = popen(t->cmd, "r");

	if (!f)
		return FAILED;
	snprintf(dport, sizeof(dport), t->nft ? "dport %u" : "--dport %u", port);
	snprintf(tport, sizeof(tport), "th dport %u", port);
	while (fgets(line, sizeof(line), f)) {
		bool is_esp = has(line, t->nft ? esp_nft : esp_ipt), is_port = strstr(line, dport) || strstr(line, tport);

		line[strcspn(line, "\n")] = '\0';
		if (!first[0])
			snprintf(first, sizeof(first), "%.159s", line);
		perm |= has(line, denied);
		/* iptables-nft's tables are in nft's ruleset too: report each rule once */
		if (!t->nft && nft_read && strncmp(line, "# Generated by", 14) == 0 && strstr(line, "(nf_tables)")) {
			while (fgets(line, sizeof(line), f))
				;
			pclose(f);
			return SHOWN_BY_NFT;
		}
		if (t->nft)
			line_nft(d, &s, line, is_esp, is_port);
		else
			line_ipt(d, &s, line, is_esp, is_port);
	}
	status = pclose(f);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return NOT_INSTALLED;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (perm)
			return NOT_PERMITTED;
		doctor_add(d, "firewall", DOC_WARN, "run it by hand to see why", "%s failed: %s", t->cmd, first);
		return FAILED;
	}
	*found += s.found;
	return SCANNED;
}

void doctor_firewall(struct doctor *d)
{
	static const struct tool tools[] = {
		{ "nft -a list ruleset 2>&1", "nftables", "nft", true },
		{ "iptables-save 2>&1", "iptables", "iptables", false },
		{ "ip6tables-save 2>&1", "ip6tables", "ip6tables", false },
	};
	unsigned port = d->conf.inv ? d->conf.inv->port : MS_DEFAULT_PORT;
	int found = 0, rc[3];
	size_t read = 0;

	for (size_t i = 0; i < 3; i++) {
		rc[i] = scan(d, &tools[i], port, rc[0] == SCANNED, &found);
		if (rc[i] == NOT_PERMITTED) {
			doctor_skip_root(d, "firewall", "the firewall rules");
			return;
		}
		read += rc[i] == SCANNED || rc[i] == SHOWN_BY_NFT;
	}
	if (!read)
		doctor_add(d, "firewall", DOC_SKIP, "apt-get install nftables (or iptables)",
			   "cannot read the firewall rules: neither nft nor iptables-save could list them");
	else if (!found)
		doctor_add(d, "firewall", DOC_OK, "", "no nftables or iptables rule drops ESP or UDP port %u", port);
}
