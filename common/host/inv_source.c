/* The inventory's text from a file or an etcd key (include/meshsec/inv_source.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "meshsec/etcd_http.h"
#include "meshsec/inv_source.h"
#include "meshsec/inventory.h"

bool ms_inv_source_is_url(const char *source)
{
	return ms_etcd_is_url(source);
}

int ms_inv_source_read(const char *source, struct ms_inv_text *t, struct ms_error *err)
{
	struct ms_etcd_url u;
	struct ms_etcd_reply r;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!ms_inv_source_is_url(source))
		return ms_inventory_read(source, &t->text, &t->len, err);
	if ((rc = ms_etcd_url_parse(source, &u, err)) < 0 || (rc = ms_etcd_get(&u, &r, err)) < 0)
		return rc;
	t->text = r.value;
	t->len = r.value_len;
	t->revision = r.mod_revision;
	return 0;
}

int ms_inv_source_load(const char *source, struct ms_inventory **out, struct ms_error *err)
{
	struct ms_inv_text t;
	int rc;

	*out = NULL;
	if ((rc = ms_inv_source_read(source, &t, err)) < 0)
		return rc;
	rc = ms_inventory_parse(t.text, t.len, source, out, err);
	ms_inv_text_free(&t);
	return rc;
}

void ms_inv_text_free(struct ms_inv_text *t)
{
	free(t->text);
	memset(t, 0, sizeof(*t));
}
