/*
 * Control protocol (agent/CONTROL.md): requests from `meshsec` to the agent over its unix
 * socket.  One JSON object per line each way.  This is the request parser (pure, fuzzed);
 * the agent builds the responses.
 */
#ifndef MESHSEC_CTL_H
#define MESHSEC_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "meshsec/model.h"

#define MS_CTL_VERSION 1
#define MS_CTL_MAX_REQUEST 4096		/* bytes in one request line, newline included */

enum ms_ctl_type {
	MS_CTL_STATUS,		/* the whole mesh: self, counts, every peer */
	MS_CTL_PEERS,		/* every peer, one line each (same objects as status) */
	MS_CTL_SHOW,		/* one peer in full: peer */
	MS_CTL_METRICS,		/* Prometheus text exposition */
	MS_CTL_RELOAD,		/* re-read the inventory (root) */
	MS_CTL_REKEY,		/* fresh keys with peer, or every peer when none (root) */
	MS_CTL_LOG_LEVEL,	/* read, or set when level is given (setting: root) */
	MS_CTL_DOWN,		/* remove every tagged object and stop (root) */
	MS_CTL_EVENTS,		/* switch the connection to a stream of events */
	MS_CTL_NETCHECK,	/* probe what the network lets through to peer (root: it sends traffic) */
	MS_CTL_TYPE_COUNT
};

/* Result codes, in every response's "result". */
enum ms_ctl_result {
	MS_CTL_OK,
	MS_CTL_E_MALFORMED,	/* not a JSON object, or a field of the wrong type */
	MS_CTL_E_TOO_LARGE,	/* longer than MS_CTL_MAX_REQUEST */
	MS_CTL_E_VERSION,	/* "version" missing or not MS_CTL_VERSION */
	MS_CTL_E_UNKNOWN,	/* unknown "request" or unknown field */
	MS_CTL_E_FORBIDDEN,	/* changes state and the client is not root */
	MS_CTL_E_NOT_FOUND,	/* no such peer */
	MS_CTL_E_FAILED,	/* understood, but it did not work (the message says why) */
	MS_CTL_RESULT_COUNT
};

struct ms_ctl_req {
	enum ms_ctl_type type;
	char peer[MS_NAME_MAX + 1];	/* "" when not given */
	int level;			/* log-level: -1 to read, else 0 error .. 3 debug */
	unsigned timeout_s;		/* netcheck: 0 for the default */
};
#define MS_CTL_NETCHECK_MAX_S 8		/* under the CLI's 10 s wait for an answer */

const char *ms_ctl_type_name(enum ms_ctl_type t);
const char *ms_ctl_result_name(enum ms_ctl_result r);
/* True for the requests only root may make. */
bool ms_ctl_changes_state(const struct ms_ctl_req *r);
/* Why only root may make it, for the refusal. */
const char *ms_ctl_root_why(const struct ms_ctl_req *r);

/* Parses one request (without its newline); on error, msg says what is wrong, for the reply. */
enum ms_ctl_result ms_ctl_parse(const char *buf, size_t len, struct ms_ctl_req *r, char *msg, size_t msg_len);

#endif
