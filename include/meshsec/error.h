/*
 * Errors that carry their own explanation.
 *
 * Every function below main() returns 0 or a negative errno and, on failure, fills a
 * struct ms_error with one sentence that names the file, the JSON path or the field, the bad
 * value and the fix.  Only the caller that handles the error prints or logs it, once.
 */
#ifndef MESHSEC_ERROR_H
#define MESHSEC_ERROR_H

#include <stddef.h>

#define MS_ERROR_MAX 512

struct ms_error {
	char msg[MS_ERROR_MAX];
};

/* Formats the message into err (if err is not NULL) and returns -errnum (errnum > 0). */
int ms_error_set(struct ms_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message, for adding context on the way up. */
int ms_error_prefix(struct ms_error *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
