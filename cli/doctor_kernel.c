/* doctor: what the kernel can do and what it counts (see doctor.h). */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "meshsec/esp_probe.h"
#include "meshsec/localaddr.h"
#include "meshsec/xnl.h"

/* ESP overhead in transport mode with a 16-byte ICV: header 8, IV 8, trailer 2 + up to 3 pad. */
#define ESP_OVERHEAD_MAX 37

/* Families (1 IPv4, 2 IPv6) this node has addresses of; both when the inventory did not load. */
static unsigned families(const struct doctor *d)
{
	const struct ms_node *self;

	if (!d->conf.inv)
		return 3;
	self = &d->conf.inv->nodes[d->conf.self];
	return (self->v4.family ? 1u : 0u) | (self->v6.family ? 2u : 0u);
}

void doctor_kernel_support(struct doctor *d)
{
	enum ms_cipher cipher = d->conf.inv ? d->conf.inv->cipher : MS_DEFAULT_CIPHER;
	static const int fams[] = { AF_INET, AF_INET6 };
	struct ms_error err;
	struct xnl *x;
	char why[512];
	int rc;

	if ((rc = xnl_open(&x, &err)) < 0) {
		if (rc == -EPERM || rc == -EACCES)
			doctor_skip_root(d, "kernel", "whether this kernel can do ESP with the mesh's cipher");
		else
			doctor_add(d, "kernel", DOC_ERROR, "modprobe xfrm_user (and list it in /etc/modules-load.d/meshsec.conf)", "%s", err.msg);
		return;
	}
	xnl_close(x);
	for (size_t i = 0; i < 2; i++) {
		if (!(families(d) & (1u << i)))
			continue;	/* the mesh does not use it here: its module does not matter */
		if (esp_probe_private(fams[i], cipher, why, sizeof(why)) == 0) {
			doctor_add(d, "kernel", DOC_OK, "", "%s SAs with %s (%s) work", fams[i] == AF_INET ? "IPv4" : "IPv6",
				   ms_cipher_name(cipher), ms_cipher_kernel_name(cipher));
		} else {
			d->no_esp |= 1u << i;
			doctor_add(d, "kernel", DOC_ERROR, "modprobe the module named; a kernel without it cannot carry this mesh's traffic",
				   "%s", why);
		}
	}
}

/* Rising counters and what usually causes them. */
static const struct { const char *name, *cause, *fix; } causes[] = {
	{ "XfrmInNoStates", "ESP arrives for an SA this node does not have: a peer still uses keys this node dropped (restart, reboot, meshsec down)",
	  "wait a few seconds for the re-handshake, or meshsec rekey PEER; if it persists, meshsec status on both nodes" },
	{ "XfrmInStateProtoError", "ESP fails authentication: the two ends hold different keys for the same SPI",
	  "meshsec rekey PEER; if it persists, the peer's agent is not running (systemctl restart meshsecd there)" },
	{ "XfrmInStateSeqError", "ESP sequence numbers outside the replay window: reordering beyond 1024 packets, or a replay",
	  "look for a device reordering traffic; meshsec rekey PEER resets the window" },
	{ "XfrmInNoPols", "ESP or cleartext arrives with no matching inbound policy", "systemctl restart meshsecd (it reinstalls its policies)" },
	{ "XfrmInPolBlock", "inbound packets blocked by a policy", "check policies of other owners (ip xfrm policy)" },
	{ "XfrmInTmplMismatch", "cleartext arrives from a member whose traffic must be ESP: the peer sends without IPsec",
	  "check the peer's agent (meshsec status there); the peer may have run meshsec down" },
	{ "XfrmOutNoStates", "packets to a member wait for an SA that does not exist yet: the pair is not up (dropped, never sent in clear)",
	  "meshsec status shows which peer is not up; the peers finding says why" },
	{ "XfrmOutPolBlock", "outbound packets blocked by a policy", "check policies of other owners (ip xfrm policy)" },
	{ "XfrmOutStateSeqError", "an outbound SA ran out of sequence numbers", "meshsec rekey PEER" },
	{ "XfrmInStateExpired", "packets for an expired SA", "meshsec rekey PEER" },
	{ "XfrmInStateMismatch", "ESP matched an SA whose selector does not fit the packet", "systemctl restart meshsecd (it reconciles its SAs)" },
};

static int read_stat(unsigned long long v[], size_t n)
{
	FILE *f = fopen("/proc/net/xfrm_stat", "r");
	char name[64];
	unsigned long long val;

	if (!f)
		return -1;
	memset(v, 0, n * sizeof(*v));
	while (fscanf(f, "%63s %llu", name, &val) == 2)
		for (size_t i = 0; i < n; i++)
			if (strcmp(name, causes[i].name) == 0)
				v[i] = val;
	fclose(f);
	return 0;
}

void doctor_xfrm_stat(struct doctor *d)
{
	enum { N = sizeof(causes) / sizeof(causes[0]) };
	unsigned long long a[N], b[N];
	struct timespec ts = { d->interval_ms / 1000, (long)(d->interval_ms % 1000) * 1000000 };
	int rising = 0;

	if (read_stat(a, N) < 0) {
		doctor_add(d, "xfrm_stat", DOC_WARN, "a kernel built with CONFIG_XFRM_STATISTICS shows them",
			   "/proc/net/xfrm_stat is not available: the kernel's IPsec error counters cannot be watched");
		return;
	}
	nanosleep(&ts, NULL);
	read_stat(b, N);
	for (size_t i = 0; i < N; i++)
		if (b[i] > a[i]) {
			rising++;
			doctor_add(d, "xfrm_stat", DOC_WARN, causes[i].fix, "%s rose by %llu in %u ms: %s", causes[i].name, b[i] - a[i],
				   d->interval_ms, causes[i].cause);
		}
	if (!rising)
		doctor_add(d, "xfrm_stat", DOC_OK, "", "no IPsec error counter rose in %u ms", d->interval_ms);
}

void doctor_mtu(struct doctor *d)
{
	const struct ms_node *self;
	struct ifaddrs *ifa, *i;
	int fd;

	if (!d->conf.inv || getifaddrs(&ifa) < 0)
		return;
	self = &d->conf.inv->nodes[d->conf.self];
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (i = ifa; i && fd >= 0; i = i->ifa_next) {
		struct ms_addr a;
		struct ifreq ifr;
		int min;

		if (!i->ifa_addr || localaddr_from_sockaddr(i->ifa_addr, &a) < 0 ||
		    !(ms_addr_equal(&a, &self->v4) || ms_addr_equal(&a, &self->v6)))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->ifa_name);
		if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
			continue;
		min = (a.family == AF_INET6 ? 1280 : 576) + ESP_OVERHEAD_MAX;
		if (ifr.ifr_mtu < min)
			doctor_add(d, "mtu", DOC_ERROR, "raise the MTU (ip link set DEV mtu N) on this node and its peers",
				   "%s (carrying %s) has MTU %d: with up to %d bytes of ESP overhead, %s packets need at least %d",
				   i->ifa_name, a.family == AF_INET6 ? "IPv6" : "IPv4", ifr.ifr_mtu, ESP_OVERHEAD_MAX,
				   a.family == AF_INET6 ? "IPv6's minimum 1280-byte" : "576-byte", min);
		else
			doctor_add(d, "mtu", DOC_OK, "", "%s MTU %d leaves %d bytes per packet after ESP", i->ifa_name, ifr.ifr_mtu,
				   ifr.ifr_mtu - ESP_OVERHEAD_MAX);
	}
	if (fd >= 0)
		close(fd);
	freeifaddrs(ifa);
}
