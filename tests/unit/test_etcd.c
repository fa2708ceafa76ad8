/*
 * The etcd inventory source's pure parts: the etcd:// URL (hosts, ports, keys; https, credentials
 * and escapes refused with the fix) and the JSON gateway's answers, as etcd 3.4 writes them
 * (captured from Debian 12's etcd), with hostile variants refused and named by the URL.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/etcd.h"
#include "meshsec/inventory.h"

#define SRC "etcd://127.0.0.1:2379/meshsec/inventory"
#define HDR "\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"7\",\"raft_term\":\"2\"}"

static void test_url_good(void **state)
{
	struct ms_etcd_url u;
	struct ms_error err;

	(void)state;
	assert_int_equal(ms_etcd_url_parse(SRC, &u, &err), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 2379);
	assert_string_equal(u.key, "/meshsec/inventory");
	assert_string_equal(u.text, SRC);
	assert_int_equal(ms_etcd_url_parse("etcd://[::1]:12379/k", &u, &err), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 12379);
	assert_string_equal(u.key, "/k");
	assert_int_equal(ms_etcd_url_parse("etcd://etcd.example-1.internal/a/b", &u, &err), 0);
	assert_string_equal(u.host, "etcd.example-1.internal");
	assert_int_equal(u.port, MS_ETCD_DEFAULT_PORT);
	assert_int_equal(ms_etcd_url_parse("etcd://[fd00::1]/x", &u, &err), 0);
	assert_int_equal(u.port, MS_ETCD_DEFAULT_PORT);
}

static void test_url_is_url(void **state)
{
	(void)state;
	assert_true(ms_etcd_is_url(SRC));
	assert_true(ms_etcd_is_url("https://x/y"));
	assert_false(ms_etcd_is_url("/etc/meshsec/inventory.json"));
	assert_false(ms_etcd_is_url("./a://b"));
	assert_false(ms_etcd_is_url("://x"));
	assert_false(ms_etcd_is_url("inventory.json"));
}

static void test_url_refused(void **state)
{
	static const struct { const char *url, *says; } bad[] = {
		{ "https://127.0.0.1:2379/k", "TLS to etcd is not supported" },
		{ "etcds://127.0.0.1:2379/k", "TLS to etcd is not supported" },
		{ "http://127.0.0.1:2379/k", "unknown scheme" },
		{ "etcd://user:pw@127.0.0.1:2379/k", "passwords in the URL are not supported" },
		{ "etcd://127.0.0.1:2379", "no key after the host" },
		{ "etcd://127.0.0.1:2379/", "no key after the host" },
		{ "etcd:///k", "no host" },
		{ "etcd://:2379/k", "no host" },
		{ "etcd://h:0/k", "the port must be" },
		{ "etcd://h:65536/k", "the port must be" },
		{ "etcd://h:99999999999999999999/k", "the port must be" },
		{ "etcd://h:/k", "the port must be" },
		{ "etcd://h:12ab/k", "the port must be" },
		{ "etcd://[::1/k", "closing ']'" },
		{ "etcd://[::1]x/k", "only \":PORT\"" },
		{ "etcd://[::g]/k", "in an IPv6 address" },
		{ "etcd://h!st/k", "in the host name" },
		{ "etcd://h/k?x=1", "'?' is not allowed" },
		{ "etcd://h/k#f", "'#' is not allowed" },
		{ "etcd://h/k%20", "'%' is not allowed" },
		{ "etcd://h/k y", "control character" },
		{ "etcd://h/k\x01", "control character" },
	};
	struct ms_etcd_url u;
	struct ms_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ms_etcd_url_parse(bad[i].url, &u, &err) != -EINVAL)
			fail_msg("not refused: %s", bad[i].url);
		if (!strstr(err.msg, bad[i].says))
			fail_msg("%s: says \"%s\", not \"%s\"", bad[i].url, err.msg, bad[i].says);
	}
}

static void test_url_lengths(void **state)
{
	char url[MS_ETCD_URL_MAX + 64];
	struct ms_etcd_url u;
	struct ms_error err;

	(void)state;
	snprintf(url, sizeof(url), "etcd://h/%0*d", MS_ETCD_KEY_MAX - 1, 0);
	assert_int_equal(ms_etcd_url_parse(url, &u, &err), 0);
	assert_int_equal(strlen(u.key), MS_ETCD_KEY_MAX);
	snprintf(url, sizeof(url), "etcd://h/%0*d", MS_ETCD_KEY_MAX, 0);
	assert_int_equal(ms_etcd_url_parse(url, &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "key longer than"));
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "etcd://", 7);
	assert_int_equal(ms_etcd_url_parse(url, &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "URL longer than"));
	snprintf(url, sizeof(url), "etcd://%0*d/k", MS_ETCD_HOST_MAX + 1, 0);
	assert_int_equal(ms_etcd_url_parse(url, &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "host name longer than"));
}

static void test_bodies(void **state)
{
	char *r = ms_etcd_range_body("/meshsec/inventory"), *w = ms_etcd_watch_body("/meshsec/inventory", 8);

	(void)state;
	assert_string_equal(r, "{\"key\":\"L21lc2hzZWMvaW52ZW50b3J5\"}");
	assert_non_null(strstr(w, "\"create_request\":{"));
	assert_non_null(strstr(w, "\"key\":\"L21lc2hzZWMvaW52ZW50b3J5\""));
	assert_non_null(strstr(w, "\"start_revision\":\"8\""));
	free(r);
	free(w);
}

struct bad_answer {
	const char *body, *says;
};

typedef int (*answer_parser)(const char *, size_t, const char *, struct ms_etcd_reply *, struct ms_error *);

/* Each answer is refused, allocates nothing, and the message names the URL and says what. */
static void refused(answer_parser parse, const struct bad_answer *bad, size_t n)
{
	struct ms_etcd_reply r;
	struct ms_error err;

	for (size_t i = 0; i < n; i++) {
		if (parse(bad[i].body, strlen(bad[i].body), SRC, &r, &err) == 0)
			fail_msg("not refused: %s", bad[i].body);
		if (!strstr(err.msg, bad[i].says) || strncmp(err.msg, SRC ": ", strlen(SRC) + 2) != 0)
			fail_msg("%s: says \"%s\", not \"%s\"", bad[i].body, err.msg, bad[i].says);
		assert_null(r.value);
	}
}

static int range(const char *body, struct ms_etcd_reply *r, struct ms_error *err)
{
	return ms_etcd_range_parse(body, strlen(body), SRC, r, err);
}

static void test_range(void **state)
{
	struct ms_etcd_reply r;
	struct ms_error err;

	(void)state;
	/* Verbatim from etcd 3.4.23 (the value is {"a":1}). */
	assert_int_equal(range("{" HDR ",\"kvs\":[{\"key\":\"L21lc2hzZWMvaW52ZW50b3J5\",\"create_revision\":\"2\",\"mod_revision\":\"5\","
			       "\"version\":\"1\",\"value\":\"eyJhIjoxfQ==\"}],\"count\":\"1\"}", &r, &err), 0);
	assert_true(r.found);
	assert_int_equal(r.revision, 7);
	assert_int_equal(r.mod_revision, 5);
	assert_int_equal(r.value_len, 7);
	assert_string_equal(r.value, "{\"a\":1}");
	ms_etcd_reply_free(&r);
	/* No such key: no kvs at all. */
	assert_int_equal(range("{" HDR "}", &r, &err), 0);
	assert_false(r.found);
	assert_null(r.value);
	/* An empty value: proto3 leaves "value" out. */
	assert_int_equal(range("{" HDR ",\"kvs\":[{\"key\":\"aw==\",\"mod_revision\":\"3\"}]}", &r, &err), 0);
	assert_true(r.found);
	assert_int_equal(r.value_len, 0);
	ms_etcd_reply_free(&r);
}

static void test_range_refused(void **state)
{
	static const struct bad_answer bad[] = {
		{ "", "not JSON" },
		{ "[]", "not an object" },
		{ "<html>", "not JSON" },
		{ "{}", "no \"header\" object" },
		{ "{\"error\":\"x\",\"code\":3,\"message\":\"no\"}", "etcd refused" },
		{ "{\"header\":{\"revision\":\"-1\"}}", "bad revision" },
		{ "{\"header\":{\"revision\":\"12x\"}}", "bad revision" },
		{ "{\"header\":{\"revision\":\"99999999999999999999\"}}", "bad revision" },
		{ "{\"header\":{\"revision\":true}}", "bad revision" },
		{ "{" HDR ",\"kvs\":{}}", "for one key" },
		{ "{" HDR ",\"kvs\":[{},{}]}", "several values" },
		{ "{" HDR ",\"kvs\":[1]}", "several values" },
		{ "{" HDR ",\"kvs\":[{\"value\":\"!!!!\"}]}", "not valid base64" },
		{ "{" HDR ",\"kvs\":[{\"value\":\"eyJhIjoxfQ\"}]}", "not valid base64" },
		{ "{" HDR ",\"kvs\":[{\"value\":5}]}", "not base64 text" },
		{ "{" HDR ",\"kvs\":[{\"value\":\"eyJhIjoxfQ==\",\"mod_revision\":[]}]}", "bad mod_revision" },
	};

	(void)state;
	refused(ms_etcd_range_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

/* A value above the inventory's limit is refused before it is decoded. */
static void test_range_too_large(void **state)
{
	size_t n = MS_INVENTORY_MAX_BYTES / 3 * 4 + 8, len;
	char *body = malloc(n + 256);
	struct ms_etcd_reply r;
	struct ms_error err;

	(void)state;
	len = (size_t)sprintf(body, "{" HDR ",\"kvs\":[{\"value\":\"");
	memset(body + len, 'A', n);
	strcpy(body + len + n, "\"}]}");
	assert_int_not_equal(ms_etcd_range_parse(body, strlen(body), SRC, &r, &err), 0);
	assert_non_null(strstr(err.msg, "larger than the inventory's limit"));
	free(body);
	assert_int_not_equal(ms_etcd_range_parse("{}", ms_etcd_reply_max() + 1, SRC, &r, &err), 0);
	assert_non_null(strstr(err.msg, "larger than"));
}

static int watch(const char *body, struct ms_etcd_reply *r, struct ms_error *err)
{
	return ms_etcd_watch_parse(body, strlen(body), SRC, r, err);
}

static void test_watch(void **state)
{
	struct ms_etcd_reply r;
	struct ms_error err;

	(void)state;
	/* Verbatim from etcd 3.4.23: created, a put, a delete, a cancel after compaction. */
	assert_int_equal(watch("{\"result\":{" HDR ",\"created\":true}}", &r, &err), 0);
	assert_true(r.created);
	assert_false(r.found || r.deleted || r.canceled);
	assert_int_equal(watch("{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"L21lc2hzZWMvaW52ZW50b3J5\",\"create_revision\":\"2\","
			       "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"eyJhIjoxfQ==\"}}]}}", &r, &err), 0);
	assert_true(r.found);
	assert_int_equal(r.mod_revision, 2);
	assert_string_equal(r.value, "{\"a\":1}");
	ms_etcd_reply_free(&r);
	assert_int_equal(watch("{\"result\":{" HDR ",\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"L21lc2hzZWMvaW52ZW50b3J5\","
			       "\"mod_revision\":\"3\"}}]}}", &r, &err), 0);
	assert_true(r.deleted);
	assert_false(r.found);
	assert_int_equal(r.mod_revision, 3);
	assert_int_equal(watch("{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":\"2\"},\"canceled\":true,\"compact_revision\":\"3\"}}",
			       &r, &err), 0);
	assert_true(r.canceled);
	assert_string_equal(r.cancel_reason, "history compacted");
	/* Several events: the last one decides. */
	assert_int_equal(watch("{\"result\":{" HDR ",\"events\":[{\"kv\":{\"mod_revision\":\"4\",\"value\":\"eyJhIjoxfQ==\"}},"
			       "{\"type\":\"DELETE\",\"kv\":{\"mod_revision\":\"5\"}},{\"type\":\"PUT\",\"kv\":{\"mod_revision\":\"6\",\"value\":\"Yg==\"}}]}}",
			       &r, &err), 0);
	assert_string_equal(r.value, "b");
	assert_int_equal(r.mod_revision, 6);
	ms_etcd_reply_free(&r);
}

static void test_watch_refused(void **state)
{
	static const struct bad_answer bad[] = {
		{ "{}", "no \"result\" object" },
		{ "{\"result\":{}}", "no \"header\" object" },
		{ "{\"error\":{\"grpc_code\":14,\"message\":\"unavailable\"}}", "etcd refused: unavailable" },
		{ "{\"result\":{" HDR ",\"events\":{}}}", "not an array" },
		{ "{\"result\":{" HDR ",\"events\":[1]}}", "malformed watch event" },
		{ "{\"result\":{" HDR ",\"events\":[{\"type\":\"PUT\"}]}}", "malformed watch event" },
		{ "{\"result\":{" HDR ",\"events\":[{\"type\":7,\"kv\":{}}]}}", "malformed watch event" },
		{ "{\"result\":{" HDR ",\"events\":[{\"type\":\"MOVE\",\"kv\":{}}]}}", "unknown type" },
		{ "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"value\":\"%%%%\"}}]}}", "not valid base64" },
	};

	(void)state;
	refused(ms_etcd_watch_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_is_url),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_url_lengths),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_range_refused),
		cmocka_unit_test(test_range_too_large),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_watch_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("etcd", tests, NULL, NULL);
}
