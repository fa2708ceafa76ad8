/* The namespace's policy hash thresholds for meshsec's layout (spd_hash.h). */
#include "config.h"

#include "meshsec/spd_hash.h"

int spd_hash_ensure(struct xnl *x, bool *changed, struct ms_error *err)
{
	static const struct xnl_hthresh want = { .v4_local = 0, .v4_remote = 32, .v6_local = 0, .v6_remote = 128 };
	struct xnl_hthresh have;
	int rc;

	*changed = false;
	if ((rc = xnl_hthresh_get(x, &have, err)) < 0)
		return rc;
	if (have.v4_local == want.v4_local && have.v4_remote == want.v4_remote && have.v6_local == want.v6_local &&
	    have.v6_remote == want.v6_remote)
		return 0;
	*changed = true;
	return xnl_hthresh_set(x, &want, err);
}
