/*
 * The one command-line grammar (opts.h) and --metrics-listen's value (listen.h): every form an
 * operator writes parses; every mistake is refused with a sentence naming the option and the fix.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "meshsec/listen.h"
#include "meshsec/opts.h"

static const struct ms_opt opts[] = {
	{ "json", 'j', NULL, "json" },
	{ "socket", 'S', "PATH", "socket" },
	{ "out", 'o', "PATH", "out" },
	{ NULL, 0, NULL, NULL },
};
static const struct ms_cmd cmd = { .name = "show", .args = "PEER", .min_pos = 1, .max_pos = 1, .summary = "s", .opts = opts };

/* argv from a string of words separated by single spaces; argv[0] is the command. */
static int parse(const char *line, struct ms_args *a, struct ms_error *err)
{
	static char buf[256];
	char *argv[16];
	int argc = 0;

	snprintf(buf, sizeof(buf), "show %s", line);
	for (char *t = strtok(buf, " "); t && argc < 15; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	err->msg[0] = '\0';
	return ms_opts_parse(&cmd, argc, argv, a, err);
}

static void test_forms(void **state)
{
	struct ms_args a;
	struct ms_error err;

	(void)state;
	assert_int_equal(parse("n3 --json --socket /s", &a, &err), 0);
	assert_string_equal(a.pos[0], "n3");
	assert_true(ms_opt_set(&a, "json"));
	assert_string_equal(ms_opt(&a, "socket"), "/s");
	assert_null(ms_opt(&a, "out"));
	assert_int_equal(parse("--socket=/x n3", &a, &err), 0);	/* options before positionals, =VALUE */
	assert_string_equal(ms_opt(&a, "socket"), "/x");
	assert_int_equal(parse("-jS /y n3", &a, &err), 0);		/* a cluster ending in an option with a value */
	assert_true(ms_opt_set(&a, "json"));
	assert_string_equal(ms_opt(&a, "socket"), "/y");
	assert_int_equal(parse("-o/z n3", &a, &err), 0);		/* -xVALUE */
	assert_string_equal(ms_opt(&a, "out"), "/z");
	assert_int_equal(parse("--socket=--json n3", &a, &err), 0);	/* a dash value, said explicitly */
	assert_string_equal(ms_opt(&a, "socket"), "--json");
	assert_false(ms_opt_set(&a, "json"));
	assert_int_equal(parse("-- -n3", &a, &err), 0);		/* -- ends options */
	assert_string_equal(a.pos[0], "-n3");
	assert_int_equal(parse("-", &a, &err), 0);			/* "-" alone is an argument */
	assert_string_equal(a.pos[0], "-");
}

static void test_help_wins(void **state)
{
	struct ms_args a;
	struct ms_error err;

	(void)state;
	assert_int_equal(parse("--bogus --help", &a, &err), 0);
	assert_true(a.help);
	assert_int_equal(parse("-h", &a, &err), 0);			/* no PEER needed for help */
	assert_true(a.help);
	assert_int_equal(parse("n3", &a, &err), 0);
	assert_false(a.help);
}

static void test_refusals(void **state)
{
	struct ms_args a;
	struct ms_error err;

	(void)state;
	assert_int_equal(parse("n3 --socket --json", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--socket needs a PATH; got --json"));
	assert_int_equal(parse("n3 --socket", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--socket needs a PATH"));
	assert_int_equal(parse("n3 --jsno", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option --jsno; did you mean --json?"));
	assert_int_equal(parse("n3 --zzzzzzzz", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option --zzzzzzzz"));
	assert_null(strstr(err.msg, "did you mean"));
	assert_int_equal(parse("n3 -x", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option -x"));
	assert_int_equal(parse("n3 --json=yes", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--json takes no value"));
	assert_int_equal(parse("n3 n4", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unexpected argument \"n4\""));
	assert_int_equal(parse("--json", &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "missing PEER"));
}

static void test_wants_json(void **state)
{
	static const struct ms_opt plain[] = { { "socket", 'S', "PATH", "" }, { "no-check", 'A', NULL, "" }, { NULL, 0, NULL, NULL } };
	static const struct ms_opt flags[] = { { "json", 'j', NULL, "" }, { "socket", 'S', "PATH", "" }, { "all", 'a', NULL, "" },
					       { NULL, 0, NULL, NULL } };
	static const struct ms_cmd nojson = { .name = "keygen", .summary = "s", .opts = plain };
	static const struct ms_cmd own = { .name = "raw", .summary = "s" };	/* parses its own argv */
	static const struct ms_cmd fl = { .name = "status", .summary = "s", .opts = flags };
	char *with[] = { "status", "--socket", "--json", NULL }, *after[] = { "status", "--", "--json", NULL };
	char *j[] = { "status", "-j", "--bogus", NULL }, *cluster[] = { "status", "-aj", NULL }, *first[] = { "status", "-ja", NULL };
	char *value[] = { "status", "-Sj", NULL }, *value2[] = { "status", "-aSj", NULL }, *jafter[] = { "status", "--", "-j", NULL };
	char *opt_then_j[] = { "status", "-S", "-j", NULL }, *none[] = { "status", "-a", "x", NULL };

	(void)state;
	assert_true(ms_opts_wants_json(&fl, 3, with));
	assert_false(ms_opts_wants_json(&fl, 3, after));
	assert_true(ms_opts_wants_json(&fl, 3, j));		/* -j alone */
	assert_true(ms_opts_wants_json(&fl, 2, cluster));	/* -j last in a cluster */
	assert_true(ms_opts_wants_json(&fl, 2, first));	/* -j first in a cluster */
	assert_false(ms_opts_wants_json(&fl, 2, value));	/* -Sj: j is the socket's path */
	assert_false(ms_opts_wants_json(&fl, 2, value2));
	assert_false(ms_opts_wants_json(&fl, 3, jafter));	/* after --: an argument */
	assert_true(ms_opts_wants_json(&fl, 3, opt_then_j));	/* -S refuses -j as its value: -j is an option */
	assert_false(ms_opts_wants_json(&fl, 3, none));
	assert_false(ms_opts_wants_json(&nojson, 3, with));	/* a command without json answers in text */
	assert_false(ms_opts_wants_json(&nojson, 3, j));
	assert_false(ms_opts_wants_json(&own, 3, with));
	assert_true(ms_opts_wants_json(&cmd, 3, j));		/* the table above: -j declared */
}

static void test_listen(void **state)
{
	static const struct {
		const char *spec, *addr;
		unsigned port;
	} good[] = { { "9101", "127.0.0.1", 9101 }, { "0.0.0.0:1", "0.0.0.0", 1 }, { "[::1]:65535", "::1", 65535 },
		     { "[fd00::2]:9101", "fd00::2", 9101 } };
	static const char *const bad[] = { "0", "70000", "garbage", "", ":9101", "1.2.3:80", "::1:9101", "[::1]9101",
					   "10.0.0.1:", "host.example:9101", "[10.0.0.1]:80x", "99999999999999999999999", "[]:1" };
	char addr[MS_LISTEN_ADDR_MAX];
	unsigned port;
	struct ms_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ms_listen_parse(good[i].spec, addr, &port, &err), 0);
		assert_string_equal(addr, good[i].addr);
		assert_int_equal(port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ms_listen_parse(bad[i], addr, &port, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "--metrics-listen"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms), cmocka_unit_test(test_help_wins), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_wants_json), cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
