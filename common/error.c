/* Error messages: formatted once where the error is found, with context added on the way up. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "meshsec/error.h"

int ms_error_set(struct ms_error *err, int errnum, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

int ms_error_prefix(struct ms_error *err, int ret, const char *fmt, ...)
{
	char prefix[MS_ERROR_MAX], old[MS_ERROR_MAX];
	va_list ap;

	if (!err)
		return ret;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Long messages are cut at the end; the front (file and path) is what must survive. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) >= (int)sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	return ret;
}
