/*
 * meshsec doctor: finds what breaks meshes and says how to fix each thing.  Each check is a
 * function that adds findings; cmd_doctor.c runs them and prints the findings as text or JSON.
 */
#ifndef MESHSEC_DOCTOR_H
#define MESHSEC_DOCTOR_H

#include <jansson.h>
#include <stddef.h>

#include "meshsec/conf.h"

enum doctor_severity { DOC_OK, DOC_WARN, DOC_ERROR };

struct finding {
	const char *check;
	enum doctor_severity severity;
	char message[512];
	char fix[384];
};

struct doctor {
	/* inputs */
	const struct conf_paths *paths;
	const char *socket;
	struct conf conf;		/* inventory (and self) if they load; conf.inv NULL otherwise */
	json_t *status;			/* the agent's status document, NULL if it did not answer */
	unsigned interval_ms;		/* how long to watch the kernel's counters */
	/* outputs */
	struct finding *f;
	size_t n, cap;
};

void doctor_add(struct doctor *d, const char *check, enum doctor_severity sev, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void doctor_kernel_support(struct doctor *d);	/* xfrm_user, esp4/esp6, the configured AEAD */
void doctor_xfrm_stat(struct doctor *d);	/* /proc/net/xfrm_stat counters rising, with causes */
void doctor_mtu(struct doctor *d);		/* the member address's interface MTU vs ESP overhead */
void doctor_kernel_state(struct doctor *d);	/* tagged SPs/SAs against the plan; socket bypass */
void doctor_agent(struct doctor *d);		/* the agent's own view: peers down, drift */
void doctor_firewall(struct doctor *d);		/* nftables/iptables rules dropping ESP or the port */
void doctor_source(struct doctor *d);		/* local addresses the kernel may use for member traffic */

#endif
