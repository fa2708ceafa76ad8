/*
 * HTTP request heads for the metrics listener: what a scraper sends parses, with the method,
 * target and Authorization found; incomplete heads ask for more; every smuggling-prone or
 * malformed shape is refused.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "meshsec/http_head.h"

static long parse(const char *s, struct http_head *h)
{
	return http_head_parse(s, strlen(s), h);
}

static void test_prometheus_scrape(void **state)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9101\r\nUser-Agent: Prometheus/2.45.0\r\n"
			  "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nAuthorization: Bearer  abc.DEF-123 \r\n"
			  "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\nextra bytes after the head";
	struct http_head h;

	(void)state;
	assert_int_equal(parse(req, &h), (long)(strstr(req, "extra") - req));
	assert_true(http_span_is(h.method, "GET", 0));
	assert_true(http_span_is(h.target, "/metrics", 0));
	assert_true(http_span_is(h.authorization, "Bearer  abc.DEF-123", 0));	/* outer whitespace trimmed */
	assert_false(http_span_is(h.method, "get", 0));
	assert_true(http_span_is(h.method, "get", 1));
}

static void test_lf_only_and_no_authorization(void **state)
{
	struct http_head h;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.0\n\n", &h), (long)strlen("GET / HTTP/1.0\n\n"));
	assert_true(http_span_is(h.target, "/", 0));
	assert_null(h.authorization.p);
	assert_int_equal(parse("GET / HTTP/1.1\r\nauthorization:\r\n\r\n", &h), (long)strlen("GET / HTTP/1.1\r\nauthorization:\r\n\r\n"));
	assert_non_null(h.authorization.p);	/* present, empty */
	assert_int_equal(h.authorization.len, 0);
}

static void test_incomplete(void **state)
{
	static const char *const partial[] = { "", "GET", "GET /metrics HTTP/1.1", "GET /metrics HTTP/1.1\r\n",
					       "GET /metrics HTTP/1.1\r\nHost: x\r\n", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r" };
	struct http_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
		if (parse(partial[i], &h) != 0)
			fail_msg("not asked for more: \"%s\"", partial[i]);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"\r\n\r\n",					/* no request line */
		"GET /metrics\r\n\r\n",				/* HTTP/0.9 */
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET /metrics HTTP/1.1 x\r\n\r\n",		/* a space in the target */
		"GET  /metrics HTTP/1.1\r\n\r\n",		/* empty target */
		"G(T /metrics HTTP/1.1\r\n\r\n",		/* not a token */
		"GET /me\x01trics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",	/* no colon */
		"GET /metrics HTTP/1.1\r\n: x\r\n\r\n",		/* no name */
		"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",	/* space before the colon */
		"GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n",	/* folded line */
		"GET /metrics HTTP/1.1\r\nA: b\rc\r\n\r\n",	/* bare CR */
		"GET /metrics HTTP/1.1\r\nA: b\x7f\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
	};
	struct http_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &h) != -EINVAL)
			fail_msg("not refused: case %zu", i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_scrape),
		cmocka_unit_test(test_lf_only_and_no_authorization),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("http_head", tests, NULL, NULL);
}
