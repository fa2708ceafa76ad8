/*
 * Mesh secret: keygen output round-trips; every malformed or exposed secret file is refused
 * with the reason and the fix; no message ever contains the secret's text.
 */
#include "config.h"

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

static char dir[] = "/tmp/meshsec-secret-XXXXXX";

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

static const char *write_file(const char *name, const char *content, size_t len, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_keygen_round_trip(void **state)
{
	char line[MS_SECRET_B64_LEN + 2], other[MS_SECRET_B64_LEN + 1];
	struct ms_secret *s = NULL;
	struct ms_error err = { "" };
	unsigned char raw[MS_SECRET_LEN];
	size_t raw_len;

	(void)state;
	assert_int_equal(ms_secret_generate(line), 0);
	assert_int_equal(strlen(line), MS_SECRET_B64_LEN);
	assert_int_equal(ms_secret_generate(other), 0);
	assert_string_not_equal(line, other);	/* fresh randomness each time */
	strcat(line, "\n");
	if (ms_secret_load(write_file("good.key", line, strlen(line), 0600), &s, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), line, MS_SECRET_B64_LEN, NULL, &raw_len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_memory_equal(s->key, raw, MS_SECRET_LEN);
	ms_secret_free(s);
	/* Without the final newline too; 0400 is fine. */
	assert_int_equal(ms_secret_load(write_file("good2.key", line, MS_SECRET_B64_LEN, 0400), &s, &err), 0);
	ms_secret_free(s);
}

struct bad_secret {
	const char *content;
	mode_t mode;
	const char *want[2];
};

#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
static const struct bad_secret bad[] = {
	{ K32 "\n", 0644, { "mode 0644", "chmod 600" } },
	{ K32 "\n", 0640, { "group or others", "chmod 600" } },
	{ K32 "\n", 0602, { "mode 0602", "chmod 600" } },
	{ "", 0600, { "empty", "meshsec keygen" } },
	{ "\n", 0600, { "empty", "meshsec keygen" } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n", 0600, { "decodes to 30 bytes", "not 32" } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIj\n", 0600, { "longer than 32 bytes", "44-character" } },
	{ "AAECAwQFBgcICQoLDA0ODx!REhMUFRYXGBkaGxwdHh8=\n", 0600, { "not valid base64", "character 23" } },
	{ K32 "\nsecond line\n", 0600, { "extra content", "one base64 line" } },
	{ K32 "\n\n", 0600, { "extra content", "one base64 line" } },
	{ K32 " trailing\n", 0600, { "not valid base64", "character 45" } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n", 0600, { "longer than 32 bytes", "" } },
};

static void test_bad_secret(void **state)
{
	const struct bad_secret *c = *state;
	struct ms_secret *s = (struct ms_secret *)1;
	struct ms_error err = { "" };
	const char *path = write_file("bad.key", c->content, strlen(c->content), c->mode);

	if (ms_secret_load(path, &s, &err) == 0)
		fail_msg("accepted: \"%s\" mode %o", c->content, (unsigned)c->mode);
	assert_null(s);
	if (!strstr(err.msg, path))
		fail_msg("message does not name the file: %s", err.msg);
	for (int w = 0; w < 2; w++)
		if (c->want[w] && *c->want[w] && !strstr(err.msg, c->want[w]))
			fail_msg("message lacks \"%s\": %s", c->want[w], err.msg);
	if (strstr(err.msg, "AAECAwQFBgcICQoL"))
		fail_msg("message leaks the secret: %s", err.msg);
}

static void test_not_regular_or_missing(void **state)
{
	struct ms_secret *s;
	struct ms_error err = { "" };

	(void)state;
	assert_int_not_equal(ms_secret_load(dir, &s, &err), 0);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_not_equal(ms_secret_load("/nonexistent/mesh.key", &s, &err), 0);
	assert_non_null(strstr(err.msg, "meshsec keygen"));
	/* Larger than a line: refused without reading it all. */
	{
		char big[4096];

		memset(big, 'A', sizeof(big));
		assert_int_not_equal(ms_secret_load(write_file("big.key", big, sizeof(big), 0600), &s, &err), 0);
		assert_non_null(strstr(err.msg, "extra content"));
	}
}

int main(void)
{
	enum { N_BAD = sizeof(bad) / sizeof(bad[0]) };
	static char names[N_BAD][32];
	struct CMUnitTest tests[2 + N_BAD] = {
		cmocka_unit_test(test_keygen_round_trip),
		cmocka_unit_test(test_not_regular_or_missing),
	};

	for (size_t i = 0; i < N_BAD; i++) {
		snprintf(names[i], sizeof(names[i]), "bad_secret_%02zu", i);
		tests[2 + i] = (struct CMUnitTest){ names[i], test_bad_secret, NULL, NULL, (void *)&bad[i] };
	}
	return _cmocka_run_group_tests("secret", tests, 2 + N_BAD, setup, teardown);
}
