/*
 * The mesh secret's text: one base64 line of 32 bytes, decoded straight into guarded memory.
 *
 * Lenient where the intent is unambiguous: whitespace around the line, CRLF, blank lines before
 * or after it, and a missing '=' pad (43 characters).  Exact where it is not, with one message per
 * fault.  A message never quotes the text: it gives a line, a column, a count, and at most names a
 * whitespace or control character, which no key contains.  Only a line that is well-formed base64
 * of the wrong size is called "not a key"; anything else was damaged in copying, and the fix is to
 * copy it again, not to re-key the fleet.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "meshsec/secret.h"

#define B64_UNPADDED (MS_SECRET_B64_LEN - 1)

/* The one non-blank line, without its surrounding whitespace. */
struct key_line {
	const char *s;
	size_t len;
	unsigned lineno;
	size_t col;	/* 1-based column of s[0] in its line */
};

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Names a character without showing it unless it cannot be key material. */
static const char *describe(unsigned char c)
{
	if (c == ' ')
		return "a space";
	if (c == '\t')
		return "a tab";
	if (c == '\r')
		return "a carriage return";
	if (c < 0x20 || c == 0x7f)
		return "a control character";
	if (c >= 0x80)
		return "a non-ASCII byte";
	if (c == '=')
		return "'=' before the end of the line";
	return "a character that";
}

static int find_line(const char *text, size_t len, const char *source, struct key_line *k, struct ms_error *err)
{
	unsigned lineno = 0;

	*k = (struct key_line){ NULL, 0, 0, 0 };
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len, a = at, b = end;

		lineno++;
		while (a < b && is_blank((unsigned char)text[a]))
			a++;
		while (b > a && is_blank((unsigned char)text[b - 1]))
			b--;
		if (a < b) {
			if (k->s)
				return ms_error_set(err, EINVAL, "%s: more than one non-empty line (lines %u and %u); the file must hold only the one base64 line meshsec keygen writes: remove the other lines",
						    source, k->lineno, lineno);
			*k = (struct key_line){ text + a, b - a, lineno, a - at + 1 };
		}
		at = end + 1;
	}
	if (!k->s)
		return ms_error_set(err, EINVAL, "%s: empty file (no key in it); copy the mesh's key file there from another node, or for a new mesh remove it and run: meshsec keygen --out %s",
				    source, source);
	return 0;
}

/* Every character is base64, and '=' only in the run that ends the line. */
static int check_chars(const struct key_line *k, const char *source, struct ms_error *err)
{
	size_t pad_from = k->len;

	while (pad_from > 0 && k->s[pad_from - 1] == '=')
		pad_from--;
	for (size_t i = 0; i < pad_from; i++) {
		unsigned char c = (unsigned char)k->s[i];

		if (!is_b64(c))
			return ms_error_set(err, EINVAL, "%s: line %u, column %zu: %s is not base64 (a key is only A-Z a-z 0-9 + / and '=' at the end); fix the line, or copy the file again from another node",
					    source, k->lineno, k->col + i, describe(c));
	}
	return 0;
}

/* The right count of characters or bytes is missing: say which, and whether this is a key at all. */
static int wrong_size(const struct key_line *k, size_t data, size_t pad, const char *source, struct ms_error *err)
{
	size_t bytes = data * 3 / 4;
	int well_formed = data % 4 != 1 && (pad == 0 || (data + pad) % 4 == 0);
	char what[96];

	if (k->len == MS_SECRET_B64_LEN || k->len == B64_UNPADDED)
		snprintf(what, sizeof(what), "line %u decodes to %zu bytes, a key is %d", k->lineno, bytes, MS_SECRET_LEN);
	else
		snprintf(what, sizeof(what), "line %u has %zu characters, a key is %d (%d without padding)",
			 k->lineno, k->len, MS_SECRET_B64_LEN, B64_UNPADDED);
	if (!well_formed)
		return ms_error_set(err, EINVAL, "%s: %s; the line was cut, joined or mistyped: copy the file again from another node", source, what);
	return ms_error_set(err, EINVAL, "%s: %s; it is base64 of %zu bytes, not a key meshsec keygen made: copy the mesh's key file from another node, or for a new mesh make one with meshsec keygen --out FILE and copy that file to every node",
			    source, what, bytes);
}

int ms_secret_parse(const char *text, size_t len, const char *source,
		    struct ms_secret **out, struct ms_error *err)
{
	struct key_line k;
	struct ms_secret *s;
	size_t data, bin_len = 0;
	int ret;

	*out = NULL;
	if ((ret = find_line(text, len, source, &k, err)) < 0 || (ret = check_chars(&k, source, err)) < 0)
		return ret;
	for (data = k.len; data > 0 && k.s[data - 1] == '=';)
		data--;
	if (data != B64_UNPADDED || k.len - data > 1)
		return wrong_size(&k, data, k.len - data, source, err);
	s = sodium_malloc(sizeof(*s));
	if (!s)
		return ms_error_set(err, ENOMEM, "%s: cannot allocate secure memory for the secret (check RLIMIT_MEMLOCK)", source);
	/* Every character is base64 and the count is right: only stray low bits in the last one fail. */
	if (sodium_base642bin(s->key, sizeof(s->key), k.s, data, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 || bin_len != sizeof(s->key)) {
		sodium_free(s);
		return ms_error_set(err, EINVAL, "%s: line %u, column %zu: the last base64 character is not one a 32-byte key can end with; the line was mistyped: copy the file again from another node",
				    source, k.lineno, k.col + data - 1);
	}
	*out = s;
	return 0;
}

void ms_secret_free(struct ms_secret *s)
{
	if (s)
		sodium_free(s);	/* zeroes before releasing */
}

int ms_secret_generate(char out[MS_SECRET_B64_LEN + 1])
{
	unsigned char *raw = sodium_malloc(MS_SECRET_LEN);

	if (!raw)
		return -ENOMEM;
	randombytes_buf(raw, MS_SECRET_LEN);
	sodium_bin2base64(out, MS_SECRET_B64_LEN + 1, raw, MS_SECRET_LEN, sodium_base64_VARIANT_ORIGINAL);
	sodium_free(raw);
	return 0;
}
