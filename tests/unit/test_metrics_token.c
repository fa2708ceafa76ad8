/*
 * The metrics listener's bearer token: a file kept like a secret loads; exposed, odd or weak
 * files are refused with the fix, never echoing the token; the check takes exactly
 * "Bearer TOKEN".
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "metrics_token.h"

#define TOKEN "s3cr3t-Token-0123456789abcdef"

static char dir[] = "/tmp/meshsec-token-XXXXXX";

/* Each test removes what it wrote, so the directory is empty at the end. */
static int make_dir(void **state)
{
	(void)state;
	return sodium_init() < 0 || !mkdtemp(dir);
}

static int remove_dir(void **state)
{
	(void)state;
	return rmdir(dir);
}

static const char *path_of(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static const char *write_file(const char *name, const char *content, mode_t mode)
{
	const char *path = path_of(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static bool check(const struct metrics_token *t, const char *header)
{
	return metrics_token_check(t, header, header ? strlen(header) : 0);
}

static void test_load_and_check(void **state)
{
	struct metrics_token t;
	struct ms_error err = { "" };

	(void)state;
	if (metrics_token_load(write_file("t", TOKEN "\r\n", 0640), &t, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(check(&t, "Bearer " TOKEN));
	assert_true(check(&t, "bearer   " TOKEN));
	assert_false(check(&t, NULL));
	assert_false(check(&t, ""));
	assert_false(check(&t, TOKEN));
	assert_false(check(&t, "Basic " TOKEN));
	assert_false(check(&t, "Bearer " TOKEN "x"));
	assert_false(check(&t, "Bearer s3cr3t-Token-0123456789abcde"));
	assert_false(check(&t, "Bearer"));
	assert_int_equal(metrics_token_load(write_file("t", TOKEN, 0400), &t, &err), 0);	/* no newline; 0400 */
	assert_true(check(&t, "Bearer " TOKEN));
	unlink(path_of("t"));
}

struct bad_token {
	const char *content;
	mode_t mode;
	const char *want[2];
};

static const struct bad_token bad[] = {
	{ TOKEN "\n", 0644, { "mode 0644", "chmod 640" } },
	{ TOKEN "\n", 0660, { "mode 0660", "chmod 640" } },
	{ TOKEN "\n", 0602, { "mode 0602", "chmod 640" } },
	{ "", 0600, { "0 characters", "at least 16" } },
	{ " \n", 0600, { "0 characters", "at least 16" } },
	{ "short\n", 0600, { "5 characters", "at least 16" } },
	{ "two words are not a token\n", 0600, { "character 4", "alone on one line" } },
	{ TOKEN "\n" TOKEN "\n", 0600, { "character 30", "alone on one line" } },
};

/* Each refused, the message naming the file and the fix, never the token. */
static void test_bad_tokens(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct metrics_token t;
		struct ms_error err = { "" };
		const char *path = write_file("bad", bad[i].content, bad[i].mode);

		if (metrics_token_load(path, &t, &err) == 0)
			fail_msg("case %zu accepted", i);
		if (!strstr(err.msg, path) || !strstr(err.msg, bad[i].want[0]) || !strstr(err.msg, bad[i].want[1]))
			fail_msg("case %zu: want \"%s\", \"%s\" and the path: %s", i, bad[i].want[0], bad[i].want[1], err.msg);
		if (strstr(err.msg, "s3cr3t") || strstr(err.msg, "words"))
			fail_msg("case %zu: the message leaks the token: %s", i, err.msg);
	}
	unlink(path_of("bad"));
}

/* A symlink, a directory, a FIFO (which must not hang), a file too long to be a token. */
static void test_not_a_token_file(void **state)
{
	char big[2048];
	struct metrics_token t;
	struct ms_error err = { "" };

	(void)state;
	write_file("target", TOKEN, 0600);
	assert_int_equal(symlink("target", path_of("link")), 0);
	assert_int_not_equal(metrics_token_load(path_of("link"), &t, &err), 0);
	assert_non_null(strstr(err.msg, "a symlink"));
	assert_int_not_equal(metrics_token_load(dir, &t, &err), 0);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(mkfifo(path_of("fifo"), 0600), 0);
	assert_int_not_equal(metrics_token_load(path_of("fifo"), &t, &err), 0);
	assert_non_null(strstr(err.msg, "not a regular file"));
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_not_equal(metrics_token_load(write_file("big", big, 0600), &t, &err), 0);
	assert_non_null(strstr(err.msg, "longer than 1024 bytes"));
	assert_int_not_equal(metrics_token_load("/nonexistent/token", &t, &err), 0);
	assert_non_null(strstr(err.msg, "No such file"));
	for (const char *const *n = (const char *const[]){ "target", "link", "fifo", "big", NULL }; *n; n++)
		unlink(path_of(*n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_check),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_not_a_token_file),
	};

	return cmocka_run_group_tests_name("metrics_token", tests, make_dir, remove_dir);
}
