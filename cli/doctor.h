/*
 * meshsec doctor: finds what breaks meshes and says how to fix each thing.  Each check is a
 * function that adds findings, registered in doctor.c's table with what it needs (root, the
 * inventory, the agent); doctor_run runs those whose needs are met and says, as a "skip"
 * finding, why it did not run the others.  cmd_doctor.c parses options and prints.
 */
#ifndef MESHSEC_DOCTOR_H
#define MESHSEC_DOCTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "meshsec/conf.h"

/* DOC_SKIP: the check could not run (and why); it is neither ok nor a problem found. */
enum doctor_severity { DOC_OK, DOC_WARN, DOC_ERROR, DOC_SKIP };

/* How many items a finding names before it only counts the rest. */
#define DOCTOR_SHOW 5

struct finding {
	const char *check;
	enum doctor_severity severity;
	char message[1024];
	char fix[512];
};

struct doctor {
	/* inputs */
	struct conf_paths *paths;	/* inventory/node NULL: the agent's, else the defaults */
	const char *socket;
	struct conf conf;		/* inventory and self if they load (conf.inv NULL otherwise); never the secret */
	json_t *status;			/* the agent's status document, NULL if it did not answer */
	unsigned interval_ms;		/* how long to watch the kernel's counters */
	bool root;			/* CAP_NET_ADMIN and CAP_SYS_ADMIN: may read the kernel's IPsec state and firewall */
	unsigned no_esp;		/* families (1 IPv4, 2 IPv6) whose ESP the kernel check found missing */
	/* outputs */
	struct finding *f;
	size_t n, cap;
};

/* Adds a finding; one equal to an earlier one (check, severity, message) is dropped. */
void doctor_add(struct doctor *d, const char *check, enum doctor_severity sev, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A skip finding for a check that needs root, naming what it would have checked. */
void doctor_skip_root(struct doctor *d, const char *check, const char *what);

const char *doctor_severity_name(enum doctor_severity s);

/* Asks the agent, loads the inventory (the agent's unless paths name one), runs every check. */
void doctor_run(struct doctor *d);
void doctor_free(struct doctor *d);

/* "a, b, c" then " and N more" past DOCTOR_SHOW: appends item number *count (counted from 0). */
void doctor_list_add(char *buf, size_t len, size_t *count, const char *item);
void doctor_list_end(char *buf, size_t len, size_t count);

/* The fix for a peer that does not answer: the firewall's, unless the kernel lacks ESP. */
const char *doctor_unreachable_fix(const struct doctor *d);

void doctor_secret(struct doctor *d);		/* the secret file's owner, mode and contents */
void doctor_kernel_support(struct doctor *d);	/* xfrm_user, esp4/esp6 for the mesh's families, the AEAD */
void doctor_xfrm_stat(struct doctor *d);	/* /proc/net/xfrm_stat counters rising, with causes */
void doctor_mtu(struct doctor *d);		/* the member address's interface MTU vs ESP overhead */
void doctor_policies(struct doctor *d);		/* tagged SPs against the plan; socket bypass */
void doctor_sas(struct doctor *d);		/* an SA pair with every peer, each shared family */
void doctor_agent(struct doctor *d);		/* the agent's own view: peers not up and why, drift */
void doctor_firewall(struct doctor *d);		/* nftables/iptables rules dropping ESP or the port */
void doctor_source(struct doctor *d);		/* local addresses the kernel may use for member traffic */

#endif
