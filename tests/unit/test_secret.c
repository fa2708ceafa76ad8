/*
 * Mesh secret text: keygen output round-trips; every unambiguous spelling of a key is accepted;
 * every other text is refused with what exactly is wrong, only a line that is a well-formed value
 * of the wrong size is called "not a key", and no message quotes the text.
 * (The file's ownership, type and creation: test_secret_file.c.)
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/secret.h"

/* base64 of the bytes 0..31, padded and not. */
#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K43 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0;
}

/* No 8 characters in a row of the text reach the message. */
static void assert_no_quote(const char *msg, const char *text, size_t len)
{
	char window[9] = "";

	for (size_t i = 0; i + 8 <= len; i++) {
		memcpy(window, text + i, 8);
		if (memchr(window, '\0', 8) == NULL && strstr(msg, window))
			fail_msg("message quotes the text (\"%s\"): %s", window, msg);
	}
}

static void test_keygen_round_trip(void **state)
{
	char line[MS_SECRET_B64_LEN + 1], other[MS_SECRET_B64_LEN + 1];
	struct ms_secret *s = NULL;
	struct ms_error err = { "" };
	unsigned char raw[MS_SECRET_LEN];
	size_t raw_len;

	(void)state;
	assert_int_equal(ms_secret_generate(line), 0);
	assert_int_equal(strlen(line), MS_SECRET_B64_LEN);
	assert_int_equal(ms_secret_generate(other), 0);
	assert_string_not_equal(line, other);	/* fresh randomness each time */
	if (ms_secret_parse(line, strlen(line), "mesh.key", &s, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), line, MS_SECRET_B64_LEN, NULL, &raw_len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_memory_equal(s->key, raw, MS_SECRET_LEN);
	ms_secret_free(s);
}

/* Unambiguous: each of these is the key 0..31. */
static const char *const good[] = {
	K32 "\n",
	K32,
	K32 "  \t\n",			/* trailing whitespace */
	K32 "\r\n",			/* CRLF */
	K32 "\n\n\n",			/* trailing blank lines */
	K32 "\r\n\r\n  \r\n",
	"\n  " K32 "  \n\n",		/* a blank line and indentation before it */
	K43 "\n",			/* unpadded */
	K43,
	"\t" K43 " \r\n\n",
};

static void test_good_spellings(void **state)
{
	unsigned char want[MS_SECRET_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)i;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ms_secret *s = NULL;
		struct ms_error err = { "" };

		if (ms_secret_parse(good[i], strlen(good[i]), "mesh.key", &s, &err) != 0)
			fail_msg("good[%zu] refused: %s", i, err.msg);
		assert_memory_equal(s->key, want, MS_SECRET_LEN);
		ms_secret_free(s);
	}
}

struct bad_text {
	const char *text;
	size_t len;		/* 0: strlen(text) */
	const char *want[3];
	const char *forbid[2];	/* a fleet re-key suggested for a typo; the bad character echoed */
};

#define DAMAGED "copy the file again from another node"
#define NOT_A_KEY "not a key meshsec keygen made"
static const struct bad_text bad[] = {
	{ "", 0, { "mesh.key: empty file", "meshsec keygen --out mesh.key" }, { NULL } },
	{ "\n\n  \n", 0, { "mesh.key: empty file" }, { NULL } },
	{ "\r\n", 0, { "mesh.key: empty file" }, { NULL } },
	{ K32 "\nsecond line\n", 0, { "more than one non-empty line (lines 1 and 2)", "remove the other lines" }, { "keygen --out" } },
	{ K32 "\n\n" K32 "\n", 0, { "more than one non-empty line (lines 1 and 3)" }, { "keygen --out" } },
	/* Well-formed base64 of another size: not a key. */
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n", 0,
	  { "mesh.key: line 1 has 40 characters, a key is 44 (43 without padding)", "base64 of 30 bytes", NOT_A_KEY }, { NULL } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIj\n", 0,
	  { "line 1 has 48 characters, a key is 44 (43 without padding)", "base64 of 36 bytes", "meshsec keygen --out FILE" }, { NULL } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n", 0, { "line 1 has 64 characters", NOT_A_KEY }, { NULL } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n", 0, { "line 1 decodes to 33 bytes, a key is 32", NOT_A_KEY }, { NULL } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", 0, { "line 1 decodes to 31 bytes, a key is 32", NOT_A_KEY }, { NULL } },
	/* Cut, joined or mistyped: copy it again, no re-key. */
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH\n", 0, { "line 1 has 41 characters, a key is 44", DAMAGED }, { "keygen" } },
	{ K43 "==\n", 0, { "line 1 has 45 characters", DAMAGED }, { "keygen" } },
	{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n", 0,
	  { "line 1, column 43: the last base64 character is not one a 32-byte key can end with", DAMAGED }, { "keygen" } },
	{ "AAECAwQFBgcICQoLDA0ODx!REhMUFRYXGBkaGxwdHh8=\n", 0,
	  { "line 1, column 23: a character that is not base64", "A-Z a-z 0-9 + /", DAMAGED }, { "keygen", "!" } },
	{ "AAECAwQFB gcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", 0, { "line 1, column 10: a space is not base64" }, { "keygen" } },
	{ "AAECAwQFB\tgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", 0, { "column 10: a tab is not base64" }, { "keygen" } },
	{ K32 " trailing\n", 0, { "line 1, column 44: '=' before the end of the line is not base64" }, { "keygen" } },
	{ "AAEC\0wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", 45, { "line 1, column 5: a control character is not base64" }, { "keygen" } },
	{ "AAECAwQFBgcICQoLDA0OD\xc3\xa9REhMUFRYXGBkaGxwdHh8=\n", 0, { "column 22: a non-ASCII byte is not base64" }, { "keygen" } },
	{ "\n\n   AAEC-wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", 0, { "mesh.key: line 3, column 8: a character that is not base64" }, { "keygen", "'-'" } },
	{ "AAECAwQFBgcICQoLDA0ODx\rAREhMUFRYXGBkaGxwdHh8=\n", 0, { "column 23: a carriage return is not base64" }, { "keygen" } },
};

static void test_bad_text(void **state)
{
	const struct bad_text *c = *state;
	size_t len = c->len ? c->len : strlen(c->text);
	struct ms_secret *s = (struct ms_secret *)1;
	struct ms_error err = { "" };

	if (ms_secret_parse(c->text, len, "mesh.key", &s, &err) == 0)
		fail_msg("accepted: \"%s\"", c->text);
	assert_null(s);
	for (int w = 0; w < 3; w++)
		if (c->want[w] && !strstr(err.msg, c->want[w]))
			fail_msg("message lacks \"%s\": %s", c->want[w], err.msg);
	for (int f = 0; f < 2; f++)
		if (c->forbid[f] && strstr(err.msg, c->forbid[f]))
			fail_msg("message has \"%s\": %s", c->forbid[f], err.msg);
	if (strstr(err.msg, "regenerate"))
		fail_msg("message sends the operator to re-key for a fault in the file: %s", err.msg);
	assert_no_quote(err.msg, c->text, len);
}

int main(void)
{
	enum { N_BAD = sizeof(bad) / sizeof(bad[0]) };
	static char names[N_BAD][32];
	struct CMUnitTest tests[2 + N_BAD] = {
		cmocka_unit_test(test_keygen_round_trip),
		cmocka_unit_test(test_good_spellings),
	};

	for (size_t i = 0; i < N_BAD; i++) {
		snprintf(names[i], sizeof(names[i]), "bad_text_%02zu", i);
		tests[2 + i] = (struct CMUnitTest){ names[i], test_bad_text, NULL, NULL, (void *)&bad[i] };
	}
	return _cmocka_run_group_tests("secret", tests, 2 + N_BAD, setup, NULL);
}
