/* The kernel's ESP support for the mesh's cipher: see esp_probe.h. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "meshsec/esp_probe.h"

const char *esp_module(int family)
{
	return family == AF_INET ? "esp4" : "esp6";
}

static int refuse(struct ms_error *err, int family, enum ms_cipher cipher, const char *why)
{
	return ms_error_set(err, EPROTONOSUPPORT,
			    "this kernel cannot install an %s ESP SA with %s (%s): %s. Load the module (modprobe %s, and "
			    "list it in /etc/modules-load.d/meshsec.conf) and start again: without it the mesh's policies "
			    "would drop all member traffic with no way to encrypt it",
			    family == AF_INET ? "IPv4" : "IPv6", ms_cipher_name(cipher), ms_cipher_kernel_name(cipher), why,
			    esp_module(family));
}

int esp_probe(struct xnl *x, const struct ms_addr *self, enum ms_cipher cipher, struct ms_error *err)
{
	uint8_t key[MS_CIPHER_KEY_MAX];
	struct ms_sa sa = { .src = *self, .dst = *self, .reqid = MS_REQID_NODE, .cipher = cipher, .key = key, .larval = 1 };
	struct ms_error why, ignored;
	int rc;

	if ((rc = xnl_alloc_spi(x, self, self, MS_REQID_NODE, &sa.spi, &why)) < 0)
		return refuse(err, self->family, cipher, why.msg);
	randombytes_buf(key, sizeof(key));	/* never used for traffic: self -> self, deleted below */
	rc = xnl_sa_add(x, &sa);
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		rc = xnl_commit(x, &why);
	else
		snprintf(why.msg, sizeof(why.msg), "%s", strerror(-rc));
	xnl_sa_del(x, self, sa.spi);	/* the larval state is ours (ALLOCSPI), filled or not */
	xnl_commit(x, &ignored);
	return rc == 0 ? 0 : refuse(err, self->family, cipher, why.msg);
}

int esp_probe_private(int family, enum ms_cipher cipher, char *why, size_t len)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) < 0 || (pid = fork()) < 0)
		return snprintf(why, len, "cannot fork a probe: %s", strerror(errno)), -1;
	if (pid == 0) {
		struct ms_addr self = { .family = family };
		struct ms_error err = { .msg = "" };
		struct xnl *x = NULL;
		int ok;

		close(fds[0]);
		self.u.raw[family == AF_INET ? 0 : 15] = family == AF_INET ? 127 : 1;
		if (family == AF_INET)
			self.u.raw[3] = 1;
		ok = sodium_init() >= 0 && unshare(CLONE_NEWNET) == 0 && xnl_open(&x, &err) == 0 &&
		     esp_probe(x, &self, cipher, &err) == 0;
		if (!ok && !err.msg[0])
			snprintf(err.msg, sizeof(err.msg), "%s", strerror(errno));
		if (!ok && write(fds[1], err.msg, strlen(err.msg)) < 0)
			_exit(2);
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], why, len - 1);
	why[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
