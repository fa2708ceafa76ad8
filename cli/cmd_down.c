/*
 * meshsec down: removes every kernel object carrying meshsec's tag (SAs and SPs), and nothing
 * else.  If the agent is running, it is asked to do it and stop (so it does not install them
 * again); otherwise this command does it directly.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ctl_client.h"
#include "meshsec/xnl.h"

static void done(const struct ms_args *a, const char *by, long long sps, long long sas)
{
	if (cli_json(a))
		cli_print_json(json_pack("{s:s,s:I,s:I}", "removed_by", by, "policies_removed", (json_int_t)sps, "sas_removed",
					 (json_int_t)sas));
	else if (by[0] == 'a')
		printf("meshsecd removed %lld %s and %lld %s and stopped\n", sps, sps == 1 ? "policy" : "policies", sas,
		       sas == 1 ? "SA" : "SAs");
	else
		printf("removed %lld %s and %lld %s tagged by meshsec\n", sps, sps == 1 ? "policy" : "policies", sas, sas == 1 ? "SA" : "SAs");
}

static int down_main(int argc, char **argv)
{
	size_t n_sps, n_sas;
	struct ms_args a;
	struct ms_error err;
	const char *sock;
	json_t *resp;
	struct xnl *x = NULL;
	int rc = cli_begin(&cli_cmd_down, argc, argv, &a);

	if (rc >= 0)
		return rc;
	sock = ms_opt(&a, "socket") ? ms_opt(&a, "socket") : MS_DEFAULT_SOCKET;
	rc = ctl_call(sock, json_pack("{s:s}", "request", "down"), &resp, &err);
	if (rc == 0) {
		done(&a, "agent", (long long)json_integer_value(json_object_get(resp, "policies_removed")),
		     (long long)json_integer_value(json_object_get(resp, "sas_removed")));
		json_decref(resp);
		return 0;
	}
	if (rc != CTL_UNREACHABLE) {
		cli_error(&a, NULL, "%s", err.msg);
		return 1;
	}
	if ((rc = xnl_open(&x, &err)) < 0 || (rc = xnl_remove_all_tagged(x, &n_sps, &n_sas, &err)) < 0) {
		cli_error(&a, rc == -EPERM || rc == -EACCES ? CLI_NEEDS_ROOT : NULL, "%s", err.msg);
		xnl_close(x);
		return 1;
	}
	done(&a, "meshsec", (long long)n_sps, (long long)n_sas);
	xnl_close(x);
	return 0;
}

static const struct ms_opt down_opts[] = { CLI_OPT_JSON, CLI_OPT_SOCKET, { NULL, 0, NULL, NULL } };

const struct ms_cmd cli_cmd_down = {
	.name = "down", .summary = "remove every SA and policy meshsec installed, and stop the agent",
	.help = "Removes every SA and policy meshsec installed (its reqid range), and only those.\n"
		"A running meshsecd is asked to do it and stop; traffic between members is then unprotected.\n"
		"Without an agent it needs root (CAP_NET_ADMIN).  Exit status: 0 done, 1 failed, 2 usage.",
	.opts = down_opts, .main = down_main,
};
