/*
 * The head of an HTTP/1.x request, as the agent's metrics listener reads it: the request line
 * and the one header it needs (Authorization).  Pure and fuzzed; the listener owns the socket.
 * Strict where being lenient would let two readers disagree: no folded lines, no bare CR, no
 * second Authorization.
 */
#ifndef MESHSEC_HTTP_HEAD_H
#define MESHSEC_HTTP_HEAD_H

#include <stddef.h>

struct http_span {
	const char *p;		/* into the parsed buffer; NULL when absent */
	size_t len;
};

struct http_head {
	struct http_span method, target, authorization;
};

/*
 * Parses buf[0..len), which starts with a request.  Returns the head's length (its blank line
 * included) once buf holds all of it, 0 while it does not yet, and -EINVAL when it is not an
 * HTTP/1.x request head.  Lines end with LF or CRLF.
 */
long http_head_parse(const char *buf, size_t len, struct http_head *out);

/* True when span equals the NUL-terminated s, ASCII case ignored when icase. */
int http_span_is(struct http_span span, const char *s, int icase);

#endif
