/*
 * meshsec down: removes every kernel object carrying meshsec's tag (SAs and SPs), and nothing
 * else.  Run it after stopping the agent; member traffic then flows in the clear again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "xfrm_nl.h"

int cmd_down_main(int argc, char **argv)
{
	struct ms_sp *sps = NULL;
	struct xnl_sa *sas = NULL;
	size_t n_sps = 0, n_sas = 0;
	struct ms_error err;
	struct xnl *x;
	int rc;

	if (cli_wants_help(argc, argv) || argc > 1) {
		printf("usage: meshsec down\n"
		       "Removes every SA and policy meshsec installed (reqid %#x-%#x), and only those.\n"
		       "Stop meshsecd first, or it installs them again.  Traffic between members is then unprotected.\n",
		       MS_REQID_MIN, MS_REQID_MAX);
		return argc > 1 && !cli_wants_help(argc, argv) ? 2 : 0;
	}
	if (xnl_open(&x, &err) < 0 || xnl_dump_sp(x, &sps, &n_sps, &err) < 0 || xnl_dump_sa(x, &sas, &n_sas, &err) < 0) {
		fprintf(stderr, "meshsec down: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < n_sps; i++)
		xnl_sp_del(x, &sps[i]);
	for (size_t i = 0; i < n_sas; i++)
		xnl_sa_del(x, &sas[i].dst, sas[i].spi);
	rc = xnl_commit(x, &err);
	if (rc != 0)
		fprintf(stderr, "meshsec down: %s\n", err.msg);
	else
		printf("removed %zu policies and %zu SAs tagged by meshsec\n", n_sps, n_sas);
	free(sps);
	free(sas);
	xnl_close(x);
	return rc == 0 ? 0 : 1;
}
