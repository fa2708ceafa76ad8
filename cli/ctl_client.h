/* The CLI's side of the control socket: one request, one response, and clear failures. */
#ifndef MESHSEC_CTL_CLIENT_H
#define MESHSEC_CTL_CLIENT_H

#include <jansson.h>

#include "meshsec/error.h"

#define CTL_UNREACHABLE 1	/* no agent answers on the socket; err says why and what to do */
#define CTL_REFUSED 2		/* the agent answered with an error result; err has its message */
#define CTL_NOT_FOUND 3		/* the agent has nothing of that name (result "not-found") */

const char *cli_default_socket(void);

/*
 * Sends req (taken; "version" is added) and reads the response into *resp (caller frees).
 * Returns 0, CTL_UNREACHABLE, CTL_REFUSED, CTL_NOT_FOUND, or -errno.
 */
int ctl_call(const char *path, json_t *req, json_t **resp, struct ms_error *err);
/* The same, without parsing: *line is the answer's text (malloc'd, NUL-terminated, no newline). */
int ctl_call_raw(const char *path, json_t *req, char **line, size_t *len, struct ms_error *err);

/*
 * Sends req (taken) and, once the agent said ok, leaves the connection open for what it streams
 * (events): *fd, to read lines from.  Returns 0, CTL_UNREACHABLE, CTL_REFUSED, or -errno.
 */
int ctl_stream(const char *path, json_t *req, int *fd, struct ms_error *err);

#endif
