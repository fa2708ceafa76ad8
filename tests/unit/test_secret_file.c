/*
 * Mesh secret file: keygen's file is created 0600 and never over an existing one.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/secret.h"

static char dir[] = "/tmp/meshsec-secret-file-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 || !mkdtemp(dir);
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0;
}

/* dir/name, in one of eight rotating buffers so a test can hold a few paths at once. */
static const char *at(const char *name)
{
	static char paths[8][128];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

static void test_create(void **state)
{
	const char *path = at("new.key"), *dangling = at("dangling.key"), *target = at("nowhere.key");
	struct ms_error err = { "" };
	struct stat st;
	char before[MS_SECRET_B64_LEN + 2] = "", after[MS_SECRET_B64_LEN + 2] = "";
	FILE *f;
	mode_t old = umask(0);	/* the mode must not depend on the caller's umask */

	(void)state;
	if (ms_secret_create(path, &err) != 0)
		fail_msg("%s", err.msg);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, MS_SECRET_B64_LEN + 1);
	f = fopen(path, "r");
	assert_non_null(fgets(before, sizeof(before), f));
	fclose(f);
	{
		struct ms_secret *s;

		assert_int_equal(ms_secret_load(path, &s, &err), 0);
		ms_secret_free(s);
	}
	/* An existing file is never overwritten. */
	assert_int_equal(ms_secret_create(path, &err), -EEXIST);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "already exists; not overwriting it"));
	f = fopen(path, "r");
	assert_non_null(fgets(after, sizeof(after), f));
	fclose(f);
	assert_string_equal(before, after);
	/* Nor is a symbolic link followed, even to a file that does not exist yet. */
	assert_int_equal(symlink(target, dangling), 0);
	assert_int_equal(ms_secret_create(dangling, &err), -EEXIST);
	assert_int_equal(access(target, F_OK), -1);
	/* A umask that takes the owner's bits too still gives 0600. */
	old = umask(0277);
	assert_int_equal(ms_secret_create(at("strict.key"), &err), 0);
	umask(old);
	assert_int_equal(stat(at("strict.key"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
	};

	return cmocka_run_group_tests_name("secret_file", tests, setup, teardown);
}
