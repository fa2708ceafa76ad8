/* Control request parsing: strict, bounded, and every refusal says what to send instead. */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "meshsec/ctl.h"
#include "meshsec/inventory.h"

static const char *const type_names[MS_CTL_TYPE_COUNT] = {
	"status", "peers", "show", "metrics", "reload", "rekey", "log-level", "down", "events", "netcheck",
};

static const char *const result_names[MS_CTL_RESULT_COUNT] = {
	"ok", "malformed", "too-large", "version", "unknown", "forbidden", "not-found", "failed",
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *ms_ctl_type_name(enum ms_ctl_type t)
{
	return t < MS_CTL_TYPE_COUNT ? type_names[t] : "?";
}

const char *ms_ctl_result_name(enum ms_ctl_result r)
{
	return r < MS_CTL_RESULT_COUNT ? result_names[r] : "?";
}

bool ms_ctl_changes_state(const struct ms_ctl_req *r)
{
	return r->type == MS_CTL_RELOAD || r->type == MS_CTL_REKEY || r->type == MS_CTL_DOWN || r->type == MS_CTL_NETCHECK ||
	       (r->type == MS_CTL_LOG_LEVEL && r->level >= 0);
}

const char *ms_ctl_root_why(const struct ms_ctl_req *r)
{
	return r->type == MS_CTL_NETCHECK ? "sends probes to a peer" : "changes the agent's state";
}

static enum ms_ctl_result fail(char *msg, size_t n, enum ms_ctl_result r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum ms_ctl_result fail(char *msg, size_t n, enum ms_ctl_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	return r;
}

/* Which fields each request may carry besides "version" and "request". */
static bool field_allowed(enum ms_ctl_type t, const char *key)
{
	if (strcmp(key, "peer") == 0)
		return t == MS_CTL_SHOW || t == MS_CTL_REKEY || t == MS_CTL_NETCHECK;
	if (strcmp(key, "timeout") == 0)
		return t == MS_CTL_NETCHECK;
	if (strcmp(key, "level") == 0)
		return t == MS_CTL_LOG_LEVEL;
	return false;
}

static enum ms_ctl_result parse_fields(json_t *o, struct ms_ctl_req *r, char *msg, size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		if (strcmp(key, "version") == 0 || strcmp(key, "request") == 0)
			continue;
		if (!field_allowed(r->type, key))
			return fail(msg, n, MS_CTL_E_UNKNOWN, "unknown field \"%.40s\" for this request", key);
		if (strcmp(key, "timeout") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > MS_CTL_NETCHECK_MAX_S)
				return fail(msg, n, MS_CTL_E_MALFORMED, "\"timeout\" must be whole seconds, 1 to %d", MS_CTL_NETCHECK_MAX_S);
			r->timeout_s = (unsigned)json_integer_value(v);
			continue;
		}
		if (!json_is_string(v))
			return fail(msg, n, MS_CTL_E_MALFORMED, "\"%s\" must be a string", key);
		if (strcmp(key, "peer") == 0) {
			if (ms_name_check(json_string_value(v), "peer", NULL) != 0)
				return fail(msg, n, MS_CTL_E_MALFORMED, "\"peer\" must be a node name (%s)",
					    "1-63 characters of A-Z a-z 0-9 . _ -");
			snprintf(r->peer, sizeof(r->peer), "%s", json_string_value(v));
		} else {
			for (int l = 0; l < 4; l++)
				if (strcmp(json_string_value(v), level_names[l]) == 0)
					r->level = l;
			if (r->level < 0)
				return fail(msg, n, MS_CTL_E_MALFORMED, "\"level\" must be %s", "error, warn, info or debug");
		}
	}
	if ((r->type == MS_CTL_SHOW || r->type == MS_CTL_NETCHECK) && !r->peer[0])
		return fail(msg, n, MS_CTL_E_MALFORMED, "\"%s\" needs %s", type_names[r->type], "\"peer\": NAME");
	return MS_CTL_OK;
}

enum ms_ctl_result ms_ctl_parse(const char *buf, size_t len, struct ms_ctl_req *r, char *msg, size_t n)
{
	json_error_t jerr;
	json_t *o, *v, *req;
	enum ms_ctl_result rc = MS_CTL_E_UNKNOWN;

	memset(r, 0, sizeof(*r));
	r->level = -1;
	msg[0] = '\0';
	if (len >= MS_CTL_MAX_REQUEST)
		return fail(msg, n, MS_CTL_E_TOO_LARGE, "requests are at most %s bytes", "4095");
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return fail(msg, n, MS_CTL_E_MALFORMED, "%s; send one JSON object per line", o ? "not a JSON object" : jerr.text);
	}
	v = json_object_get(o, "version");
	req = json_object_get(o, "request");
	if (!json_is_integer(v) || json_integer_value(v) != MS_CTL_VERSION) {
		rc = fail(msg, n, MS_CTL_E_VERSION, "\"version\" must be %s", "1");
		goto out;
	}
	if (!json_is_string(req)) {
		rc = fail(msg, n, MS_CTL_E_MALFORMED, "\"request\" must be a string, one of %s",
			  "status, peers, show, metrics, reload, rekey, log-level, down, events, netcheck");
		goto out;
	}
	for (int t = 0; t < MS_CTL_TYPE_COUNT; t++)
		if (strcmp(json_string_value(req), type_names[t]) == 0) {
			r->type = (enum ms_ctl_type)t;
			rc = parse_fields(o, r, msg, n);
			goto out;
		}
	rc = fail(msg, n, MS_CTL_E_UNKNOWN, "unknown request \"%.40s\"", json_string_value(req));
out:
	json_decref(o);
	return rc;
}
