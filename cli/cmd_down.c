/*
 * meshsec down: removes every kernel object carrying meshsec's tag (SAs and SPs), and nothing
 * else.  If the agent is running, it is asked to do it and stop (so it does not install them
 * again); otherwise this command does it directly.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ctl_client.h"
#include "meshsec/xnl.h"

int cmd_down_main(int argc, char **argv)
{
	const char *sock = cli_socket_path(argc, argv);
	size_t n_sps, n_sas;
	struct ms_error err;
	json_t *resp;
	struct xnl *x = NULL;
	int rc;

	if (cli_wants_help(argc, argv) || argc > (sock == cli_default_socket() ? 1 : 3)) {
		printf("usage: meshsec down [--socket PATH]\n"
		       "Removes every SA and policy meshsec installed (reqid %#x-%#x), and only those.\n"
		       "A running meshsecd is asked to do it and stop; traffic between members is then unprotected.\n",
		       MS_REQID_NODE, MS_REQID_MAX);
		return cli_wants_help(argc, argv) ? 0 : 2;
	}
	rc = ctl_call(sock, json_pack("{s:s}", "request", "down"), &resp, &err);
	if (rc == 0) {
		printf("meshsecd removed %lld policies and %lld SAs and stopped\n",
		       (long long)json_integer_value(json_object_get(resp, "policies_removed")),
		       (long long)json_integer_value(json_object_get(resp, "sas_removed")));
		json_decref(resp);
		return 0;
	}
	if (rc != CTL_UNREACHABLE) {
		fprintf(stderr, "meshsec down: %s\n", err.msg);
		return 1;
	}
	if (xnl_open(&x, &err) < 0 || xnl_remove_all_tagged(x, &n_sps, &n_sas, &err) < 0) {
		fprintf(stderr, "meshsec down: %s\n", err.msg);
		xnl_close(x);
		return 1;
	}
	printf("removed %zu policies and %zu SAs tagged by meshsec\n", n_sps, n_sas);
	xnl_close(x);
	return 0;
}
