/*
 * The meshsec CLI: one ms_cmd per subcommand (its options and help, opts.h), each in its cmd_*.c,
 * listed in meshsec.c's table; the helpers below give every command the same errors and output.
 */
#ifndef MESHSEC_CLI_H
#define MESHSEC_CLI_H

#include <jansson.h>
#include <stddef.h>

#include "meshsec/conf.h"
#include "meshsec/opts.h"

extern const struct ms_cmd cli_cmd_status, cli_cmd_peers, cli_cmd_show, cli_cmd_doctor, cli_cmd_check, cli_cmd_reload,
	cli_cmd_rekey, cli_cmd_log_level, cli_cmd_metrics, cli_cmd_keygen, cli_cmd_install_policies, cli_cmd_down, cli_cmd_events,
	cli_cmd_netcheck, cli_cmd_kube_inventory;

/* Every command's --json, --socket, --inventory ... declared once. */
#define CLI_OPT_JSON { "json", 'j', NULL, "machine-readable output on stdout, errors included ({\"error\": {\"message\", \"fix\"}})" }
#define CLI_OPT_SOCKET { "socket", 'S', "PATH", "the agent's control socket (default " MS_DEFAULT_SOCKET ")" }
#define CLI_OPT_INVENTORY { "inventory", 'i', "PATH|URL", "inventory JSON file, or etcd://HOST[:PORT]/KEY (default " MS_DEFAULT_INVENTORY ")" }
#define CLI_OPT_SECRET { "secret", 's', "PATH", "mesh secret (default " MS_DEFAULT_SECRET ")" }
#define CLI_OPT_NODE { "node", 'n', "NAME", "this node's name (default: found by this host's addresses)" }
#define CLI_OPT_NO_ADDRESS_CHECK { "no-address-check", 'A', NULL, "with --node: do not require its address on this host (NAT)" }

/* The fix when the control socket does not answer. */
#define CLI_FIX_UNREACHABLE "start the agent (systemctl start meshsecd), or point --socket at its socket"

#define CLI_NEEDS_ROOT "needs root (CAP_NET_ADMIN): run with sudo"

/*
 * Parses argv for cmd.  Returns -1 to go on with *a filled; otherwise the exit status, having
 * printed the help (0) or the error (2).
 */
int cli_begin(const struct ms_cmd *cmd, int argc, char **argv, struct ms_args *a);

/* True when the command runs with --json. */
int cli_json(const struct ms_args *a);

/*
 * An error of the command: "meshsec CMD: MESSAGE" and the fix on stderr, or with --json
 * {"error": {"message": ..., "fix": ...}} on stdout (fix null when the message holds it).
 */
void cli_error(const struct ms_args *a, const char *fix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints doc (taken) as indented JSON and a newline. */
void cli_print_json(json_t *doc);

/* "1 peer", "2 peers" */
const char *cli_count(char *buf, size_t len, long long n, const char *one, const char *many);

/* The closest of the agent's peer names to name, for "did you mean" (NULL if none is close). */
const char *cli_suggest_peer(const char *sock, const char *name, char *buf, size_t len);

#endif
