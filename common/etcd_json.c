/*
 * etcd's JSON gateway, both ways: request bodies and the range and watch answers.  The gateway
 * writes 64-bit integers as decimal strings and omits zero values (proto3), keys and values
 * in base64.  Nothing here trusts the answer: every field is type-checked and bounded.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/etcd.h"
#include "meshsec/inventory.h"

static char *b64(const char *s)
{
	size_t len = strlen(s), n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);

	if (out)
		sodium_bin2base64(out, n, (const unsigned char *)s, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

char *ms_etcd_range_body(const char *key)
{
	char *k = b64(key);
	json_t *o = k ? json_pack("{ss}", "key", k) : NULL;

	free(k);
	return dump(o);
}

char *ms_etcd_watch_body(const char *key, int64_t start_revision)
{
	char *k = b64(key), rev[24];
	json_t *o;

	snprintf(rev, sizeof(rev), "%lld", (long long)start_revision);
	/* progress_notify: an idle stream still hears from the server now and then. */
	o = k ? json_pack("{s{sssssb}}", "create_request", "key", k, "start_revision", rev, "progress_notify", 1) : NULL;
	free(k);
	return dump(o);
}

size_t ms_etcd_reply_max(void)
{
	return sodium_base64_ENCODED_LEN(MS_INVENTORY_MAX_BYTES, sodium_base64_VARIANT_ORIGINAL) + 64 * 1024;
}

/* An int64 the gateway wrote as a string (or, leniently, a number); absent: 0. */
static int get_int64(const json_t *obj, const char *name, const char *source, int64_t *out, struct ms_error *err)
{
	const json_t *v = json_object_get(obj, name);
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || !*(s = json_string_value(v)) || *s < '0' || *s > '9')
		return ms_error_set(err, EPROTO, "%s: etcd answered a bad %s (%s); is this an etcd v3 gateway?", source, name, ms_json_type_name(v));
	errno = 0;
	n = strtoll(s, &end, 10);
	if (*end || errno)
		return ms_error_set(err, EPROTO, "%s: etcd answered a bad %s \"%.32s\"; is this an etcd v3 gateway?", source, name, s);
	*out = n;
	return 0;
}

/* kv.value (base64; absent: empty) into r->value. */
static int get_value(const json_t *kv, const char *source, struct ms_etcd_reply *r, struct ms_error *err)
{
	const json_t *v = json_object_get(kv, "value");
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t len = json_is_string(v) ? json_string_length(v) : 0, max = len / 4 * 3 + 3;

	if (v && !json_is_string(v))
		return ms_error_set(err, EPROTO, "%s: etcd answered a value that is %s, not base64 text", source, ms_json_type_name(v));
	if (max > MS_INVENTORY_MAX_BYTES + 3)
		return ms_error_set(err, EFBIG, "%s: the value is larger than the inventory's limit of %u MiB", source, MS_INVENTORY_MAX_BYTES >> 20);
	if (!(r->value = malloc(max + 1)))
		return ms_error_set(err, ENOMEM, "%s: out of memory", source);
	if (sodium_base642bin((unsigned char *)r->value, max, s, len, NULL, &r->value_len, NULL, sodium_base64_VARIANT_ORIGINAL) < 0) {
		ms_etcd_reply_free(r);
		return ms_error_set(err, EPROTO, "%s: etcd answered a value that is not valid base64", source);
	}
	r->value[r->value_len] = '\0';
	if (r->value_len > MS_INVENTORY_MAX_BYTES) {
		ms_etcd_reply_free(r);
		return ms_error_set(err, EFBIG, "%s: the value is larger than the inventory's limit of %u MiB", source, MS_INVENTORY_MAX_BYTES >> 20);
	}
	r->found = true;
	return get_int64(kv, "mod_revision", source, &r->mod_revision, err);
}

static json_t *load(const char *body, size_t len, const char *source, struct ms_error *err)
{
	json_error_t jerr;
	json_t *root;
	const json_t *e;

	if (len > ms_etcd_reply_max()) {
		ms_error_set(err, EFBIG, "%s: etcd's answer is larger than %zu bytes (the inventory's limit in base64)", source, ms_etcd_reply_max());
		return NULL;
	}
	if (!(root = json_loadb(body, len, 0, &jerr))) {
		ms_error_set(err, EPROTO, "%s: etcd's answer is not JSON (%d:%d: %s); is this an etcd v3 gateway?", source, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		ms_error_set(err, EPROTO, "%s: etcd's answer is %s, not an object; is this an etcd v3 gateway?", source, ms_json_type_name(root));
		json_decref(root);
		return NULL;
	}
	if ((e = json_object_get(root, "error"))) {
		const json_t *m = json_object_get(e, "message");

		ms_error_set(err, EPROTO, "%s: etcd refused: %.200s", source, json_is_string(m) ? json_string_value(m) : "(no message)");
		json_decref(root);
		return NULL;
	}
	return root;
}

static const json_t *object(const json_t *parent, const char *name, const char *source, struct ms_error *err)
{
	const json_t *o = json_object_get(parent, name);

	if (!json_is_object(o))
		ms_error_set(err, EPROTO, "%s: etcd's answer has no \"%s\" object; is this an etcd v3 gateway?", source, name);
	return json_is_object(o) ? o : NULL;
}

int ms_etcd_range_parse(const char *body, size_t len, const char *source, struct ms_etcd_reply *r, struct ms_error *err)
{
	json_t *root = load(body, len, source, err);
	const json_t *header, *kvs;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!root)
		return -EPROTO;
	kvs = json_object_get(root, "kvs");
	if (!(header = object(root, "header", source, err)))
		rc = -EPROTO;
	else if ((rc = get_int64(header, "revision", source, &r->revision, err)) < 0)
		;
	else if (kvs && (!json_is_array(kvs) || json_array_size(kvs) != 1 || !json_is_object(json_array_get(kvs, 0))))
		rc = ms_error_set(err, EPROTO, "%s: etcd answered %s for one key; is this an etcd v3 gateway?", source,
				  json_is_array(kvs) ? "several values" : ms_json_type_name(kvs));
	else if (kvs)
		rc = get_value(json_array_get(kvs, 0), source, r, err);
	json_decref(root);
	if (rc < 0)
		ms_etcd_reply_free(r);
	return rc;
}

/* The last event decides: a put carries the value, a delete leaves the key empty. */
static int watch_events(const json_t *events, const char *source, struct ms_etcd_reply *r, struct ms_error *err)
{
	const json_t *last, *type, *kv;

	if (!json_is_array(events))
		return ms_error_set(err, EPROTO, "%s: etcd's watch events are %s, not an array", source, ms_json_type_name(events));
	if (!json_array_size(events))
		return 0;
	last = json_array_get(events, json_array_size(events) - 1);
	type = json_object_get(last, "type");
	if (!json_is_object(last) || !json_is_object(kv = json_object_get(last, "kv")) || (type && !json_is_string(type)))
		return ms_error_set(err, EPROTO, "%s: etcd sent a malformed watch event", source);
	if (type && strcmp(json_string_value(type), "DELETE") == 0) {
		r->deleted = true;
		return get_int64(kv, "mod_revision", source, &r->mod_revision, err);
	}
	if (type && strcmp(json_string_value(type), "PUT") != 0)
		return ms_error_set(err, EPROTO, "%s: etcd sent a watch event of unknown type \"%.32s\"", source, json_string_value(type));
	return get_value(kv, source, r, err);
}

int ms_etcd_watch_parse(const char *body, size_t len, const char *source, struct ms_etcd_reply *r, struct ms_error *err)
{
	json_t *root = load(body, len, source, err);
	const json_t *res, *header = NULL, *reason, *events;
	int rc = -EPROTO;

	memset(r, 0, sizeof(*r));
	if (!root)
		return -EPROTO;
	if ((res = object(root, "result", source, err)) && (header = object(res, "header", source, err)))
		rc = get_int64(header, "revision", source, &r->revision, err);
	if (rc == 0) {
		r->created = json_is_true(json_object_get(res, "created"));
		r->canceled = json_is_true(json_object_get(res, "canceled"));
		reason = json_object_get(res, "cancel_reason");
		snprintf(r->cancel_reason, sizeof(r->cancel_reason), "%s", json_is_string(reason) ? json_string_value(reason) : "");
		if (r->canceled && !r->cancel_reason[0] && json_object_get(res, "compact_revision"))
			snprintf(r->cancel_reason, sizeof(r->cancel_reason), "history compacted");
		if ((events = json_object_get(res, "events")))
			rc = watch_events(events, source, r, err);
	}
	json_decref(root);
	if (rc < 0)
		ms_etcd_reply_free(r);
	return rc;
}

void ms_etcd_reply_free(struct ms_etcd_reply *r)
{
	free(r->value);
	r->value = NULL;
	r->value_len = 0;
	r->found = false;
}
