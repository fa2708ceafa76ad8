/*
 * Where the inventory comes from: a file path, or an etcd:// URL (include/meshsec/etcd.h).
 * The agent and `meshsec check` read it through here, so both judge a source the same way;
 * its text then goes through the same parser, which names the source in every message.
 */
#ifndef MESHSEC_INV_SOURCE_H
#define MESHSEC_INV_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

struct ms_inv_text {
	char *text;		/* NUL-terminated */
	size_t len;
	int64_t revision;	/* etcd: the value's mod_revision; a file: 0 */
};

/* True for an etcd:// (or any scheme://) source; false for a file path. */
bool ms_inv_source_is_url(const char *source);

/* Reads the text once (etcd: blocks up to MS_ETCD_TIMEOUT_S).  Nothing is kept on error. */
int ms_inv_source_read(const char *source, struct ms_inv_text *t, struct ms_error *err);

/* Reads and parses (ms_inventory_parse names the source in its messages). */
int ms_inv_source_load(const char *source, struct ms_inventory **out, struct ms_error *err);

void ms_inv_text_free(struct ms_inv_text *t);

#endif
