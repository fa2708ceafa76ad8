/*
 * Mesh secret file: loading refuses a file or directory that someone else could read or replace,
 * a symbolic link and anything but a regular file (a FIFO without blocking), each with the fix;
 * keygen's file is created 0600 and never over an existing one.
 *
 * Run as root (as CI does), the ownership tests chown real files to uid 1000; as anyone, the same
 * rules are checked through ms_secret_check_stat with the owner and the caller's uid made up.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/secret.h"

#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
#define OTHER_UID 1000

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

static const char *write_file(const char *name, const char *content, mode_t mode)
{
	const char *path = at(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* Loading path fails, and the message names path and has each of want. */
static void assert_refused(const char *path, const char *want1, const char *want2)
{
	struct ms_secret *s = (struct ms_secret *)1;
	struct ms_error err = { "" };

	if (ms_secret_load(path, &s, &err) == 0)
		fail_msg("%s: accepted", path);
	assert_null(s);
	if (!strstr(err.msg, path))
		fail_msg("message does not name the file: %s", err.msg);
	if (!strstr(err.msg, want1) || (want2 && !strstr(err.msg, want2)))
		fail_msg("message lacks \"%s\" or \"%s\": %s", want1, want2 ? want2 : "", err.msg);
	if (strstr(err.msg, "AAECAwQFBgcI"))
		fail_msg("message leaks the secret: %s", err.msg);
}

static void assert_loads(const char *path)
{
	struct ms_secret *s = NULL;
	struct ms_error err = { "" };

	if (ms_secret_load(path, &s, &err) != 0)
		fail_msg("%s refused: %s", path, err.msg);
	assert_int_equal(s->key[31], 31);
	ms_secret_free(s);
}

static void test_good_file(void **state)
{
	(void)state;
	assert_loads(write_file("good.key", K32, 0600));
	assert_loads(write_file("good2.key", K32, 0400));
	assert_loads(write_file("blank-lines.key", K32 "\n\n\n\n", 0600));
}

static void test_mode(void **state)
{
	char fix[160];
	const char *path = write_file("open.key", K32, 0644);

	(void)state;
	snprintf(fix, sizeof(fix), "run: chmod 600 %s", path);
	assert_refused(path, "mode 0644 lets group or others access the mesh secret", fix);
	assert_refused(write_file("open.key", K32, 0640), "mode 0640", "chmod 600");
	assert_refused(write_file("open.key", K32, 0602), "mode 0602", "chmod 600");
	unlink(path);
}

static void test_symlink(void **state)
{
	const char *target = write_file("real.key", K32, 0600), *link = at("link.key");

	(void)state;
	assert_int_equal(symlink(target, link), 0);
	assert_refused(link, "is a symbolic link; point --secret at the file itself", target);
	unlink(link);
	unlink(target);
}

/* A FIFO with no writer: refused at once (the old open blocked forever; the alarm ends that). */
static void test_fifo_does_not_hang(void **state)
{
	const char *path = at("fifo.key");
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_refused(path, "is a FIFO, not a regular file", "point --secret at the key file");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	unlink(path);
}

static void test_not_regular_missing_large(void **state)
{
	char big[MS_SECRET_FILE_MAX + 2];

	(void)state;
	assert_refused(dir, "is a directory, not a regular file", NULL);
	assert_refused("/nonexistent/mesh.key", "No such file", "meshsec keygen --out FILE");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_refused(write_file("big.key", big, 0600), "too large for a key file", NULL);
}

/* The rules alone, for any owner and caller. */
struct owner_case {
	uid_t file_uid, dir_uid, euid;
	mode_t dir_mode;
	const char *want;	/* NULL: accepted */
};

static const struct owner_case owner_cases[] = {
	{ 0, 0, 0, 0755, NULL },
	{ 1000, 0, 0, 0755, "owned by uid 1000, not by root or by the user this runs as (uid 0)" },
	{ 1000, 1000, 1000, 0700, NULL },	/* a user's own key, for a user's own meshsec check */
	{ 0, 0, 1000, 0755, NULL },
	{ 1001, 0, 1000, 0755, "owned by uid 1001" },
	{ 0, 1000, 0, 0755, "its directory /d is owned by uid 1000, who could replace the mesh secret; run as root: chown root /d" },
	{ 0, 0, 0, 0775, "its directory /d (mode 0775) lets group or others replace the mesh secret; run: chmod go-w /d" },
	{ 0, 0, 0, 0757, "(mode 0757) lets group or others" },
	{ 0, 0, 0, 01777, "its directory /d (mode 1777) is shared by other users; move the mesh secret" },
	{ 0, 0, 0, 01755, NULL },
};

static void test_owner_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(owner_cases) / sizeof(owner_cases[0]); i++) {
		const struct owner_case *c = &owner_cases[i];
		struct stat f = { .st_mode = S_IFREG | 0600, .st_uid = c->file_uid };
		struct stat d = { .st_mode = S_IFDIR | c->dir_mode, .st_uid = c->dir_uid };
		struct ms_error err = { "" };
		int rc = ms_secret_check_stat("/d/mesh.key", "/d", &f, &d, c->euid, &err);

		if (!c->want && rc != 0)
			fail_msg("case %zu refused: %s", i, err.msg);
		if (c->want && (rc == 0 || !strstr(err.msg, c->want)))
			fail_msg("case %zu: want \"%s\", got %d \"%s\"", i, c->want, rc, err.msg);
	}
}

/* The same rules on real files: needs root to give a file away. */
static void test_owner_real(void **state)
{
	const char *path, *sub = at("sub"), *inner = at("sub/mesh.key"), *link = at("link-to-user.key");

	(void)state;
	if (geteuid() != 0)
		skip();	/* test_owner_rules covers the rule without root */
	path = write_file("user.key", K32, 0600);
	assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
	assert_refused(path, "owned by uid 1000", "chown root");
	assert_int_equal(symlink(path, link), 0);
	assert_refused(link, "is a symbolic link", NULL);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("sub/mesh.key", K32, 0600);
	assert_loads(inner);
	assert_int_equal(chown(sub, OTHER_UID, OTHER_UID), 0);
	assert_refused(inner, "its directory", "is owned by uid 1000");
}

static void test_dir_writable(void **state)
{
	const char *sub = at("shared"), *path = at("shared/mesh.key");

	(void)state;
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("shared/mesh.key", K32, 0600);
	assert_loads(path);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_refused(path, "(mode 0777) lets group or others replace the mesh secret", "chmod go-w");
	assert_int_equal(chmod(sub, 0770), 0);
	assert_refused(path, "(mode 0770)", "chmod go-w");
	assert_int_equal(chmod(sub, 01777), 0);
	assert_refused(path, "is shared by other users", "/etc/meshsec");
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
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_fifo_does_not_hang),
		cmocka_unit_test(test_not_regular_missing_large),
		cmocka_unit_test(test_owner_rules),
		cmocka_unit_test(test_owner_real),
		cmocka_unit_test(test_dir_writable),
		cmocka_unit_test(test_create),
	};

	return cmocka_run_group_tests_name("secret_file", tests, setup, teardown);
}
