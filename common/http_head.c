/* HTTP/1.x request heads: see meshsec/http_head.h (syntax: RFC 9112, sections 2 to 5). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "meshsec/http_head.h"

/* tchar (RFC 9110, 5.6.2): what methods and field names are made of. */
static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int all_tchar(struct http_span s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!is_tchar((unsigned char)s.p[i]))
			return 0;
	return s.len > 0;
}

int http_span_is(struct http_span span, const char *s, int icase)
{
	size_t n = strlen(s);

	return span.p && span.len == n && (icase ? strncasecmp(span.p, s, n) : memcmp(span.p, s, n)) == 0;
}

/* The line at *at, without its LF or CRLF: 1, or 0 while it is incomplete, or -EINVAL for a bare CR. */
static int next_line(const char *buf, size_t len, size_t *at, struct http_span *line)
{
	const char *nl = memchr(buf + *at, '\n', len - *at);
	size_t n;

	if (!nl)
		return 0;
	n = (size_t)(nl - (buf + *at));
	line->p = buf + *at;
	line->len = n > 0 && line->p[n - 1] == '\r' ? n - 1 : n;
	*at += n + 1;
	return memchr(line->p, '\r', line->len) ? -EINVAL : 1;
}

/* METHOD SP TARGET SP HTTP/1.x */
static int request_line(struct http_span l, struct http_head *out)
{
	const char *sp1 = memchr(l.p, ' ', l.len), *sp2, *end = l.p + l.len;
	struct http_span version;

	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))))
		return -EINVAL;
	out->method = (struct http_span){ l.p, (size_t)(sp1 - l.p) };
	out->target = (struct http_span){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	version = (struct http_span){ sp2 + 1, (size_t)(end - sp2 - 1) };
	if (!all_tchar(out->method) || out->target.len == 0 || !(http_span_is(version, "HTTP/1.1", 0) || http_span_is(version, "HTTP/1.0", 0)))
		return -EINVAL;
	for (size_t i = 0; i < out->target.len; i++)
		if (out->target.p[i] <= ' ' || out->target.p[i] > '~')
			return -EINVAL;
	return 0;
}

/* NAME ":" OWS VALUE OWS; a line that starts with a space (an obsolete fold) has no valid name. */
static int field_line(struct http_span l, struct http_head *out)
{
	const char *colon = memchr(l.p, ':', l.len), *v, *end = l.p + l.len;
	struct http_span name;

	if (!colon)
		return -EINVAL;
	name = (struct http_span){ l.p, (size_t)(colon - l.p) };
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (!all_tchar(name))
		return -EINVAL;
	for (const char *c = v; c < end; c++)
		if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f)
			return -EINVAL;
	if (http_span_is(name, "Authorization", 1)) {
		if (out->authorization.p)
			return -EINVAL;	/* two: which one would a proxy in front have checked? */
		out->authorization = (struct http_span){ v, (size_t)(end - v) };
	}
	return 0;
}

long http_head_parse(const char *buf, size_t len, struct http_head *out)
{
	struct http_span line;
	size_t at = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = next_line(buf, len, &at, &line)) <= 0)
		return rc;
	if (request_line(line, out) < 0)
		return -EINVAL;
	for (;;) {
		if ((rc = next_line(buf, len, &at, &line)) <= 0)
			return rc;
		if (line.len == 0)
			return (long)at;
		if (field_line(line, out) < 0)
			return -EINVAL;
	}
}
