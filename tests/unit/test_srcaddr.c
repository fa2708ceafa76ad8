/*
 * Which host addresses the kernel may pick as source for member traffic: the classification
 * of a given address list (the doctor's "source" check reads the real one).
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "meshsec/srcaddr.h"

static struct ms_host_addr host(const char *s, const char *ifname, unsigned flags, int use_tempaddr)
{
	struct ms_host_addr a = { .flags = flags, .use_tempaddr = use_tempaddr };

	a.addr.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.addr.family, s, a.addr.u.raw), 1);
	snprintf(a.ifname, sizeof(a.ifname), "%s", ifname);
	return a;
}

static struct ms_node node(const char *v4, const char *v6)
{
	struct ms_node n = { .name = "a" };

	if (v4)
		n.v4 = host(v4, "", 0, 0).addr;
	if (v6)
		n.v6 = host(v6, "", 0, 0).addr;
	return n;
}

static enum ms_src_kind kind(const struct ms_node *self, const char *s, const char *ifname, unsigned flags, int use_tempaddr)
{
	struct ms_host_addr a = host(s, ifname, flags, use_tempaddr);

	return ms_src_classify(self, &a);
}

#define G MS_HOST_GLOBAL

static void test_classify_v4(void **state)
{
	struct ms_node self = node("10.0.0.1", NULL);

	(void)state;
	assert_int_equal(kind(&self, "10.0.0.1", "eth0", G, -1), MS_SRC_NONE);
	assert_int_equal(kind(&self, "127.0.0.1", "lo", 0, -1), MS_SRC_NONE);
	/* A primary on another subnet or interface, a VIP /32: the kernel may pick them. */
	assert_int_equal(kind(&self, "10.88.0.1", "eth0", G, -1), MS_SRC_MAY_PICK);
	assert_int_equal(kind(&self, "192.168.1.5", "eth1", G, -1), MS_SRC_MAY_PICK);
	/* IPv4 source selection ignores the preferred lifetime: a deprecated primary is still picked. */
	assert_int_equal(kind(&self, "10.88.0.1", "eth0", G | MS_HOST_DEPRECATED, -1),
			 MS_SRC_MAY_PICK);
	/* A secondary (same subnet as a primary) is never the kernel's own choice. */
	assert_int_equal(kind(&self, "10.0.0.100", "eth0", G | MS_HOST_SECONDARY, -1),
			 MS_SRC_BOUND_ONLY);
	/* IPv6 addresses do not concern a node without an IPv6 member address. */
	assert_int_equal(kind(&self, "fd00::5", "eth0", G, 0), MS_SRC_NONE);
}

static void test_classify_v6(void **state)
{
	struct ms_node self = node(NULL, "fd00::1");

	(void)state;
	assert_int_equal(kind(&self, "fd00::1", "eth0", G, 2), MS_SRC_NONE);
	assert_int_equal(kind(&self, "fe80::1", "eth0", 0, 2), MS_SRC_NONE);
	assert_int_equal(kind(&self, "fd00::5", "eth0", G, 0), MS_SRC_MAY_PICK);
	/* Temporary: preferred with use_tempaddr 2, used only on request with 1. */
	assert_int_equal(kind(&self, "fd00::d0a3:1", "eth0", G | MS_HOST_TEMPORARY, 2),
			 MS_SRC_TEMPORARY);
	assert_int_equal(kind(&self, "fd00::d0a3:1", "eth0", G | MS_HOST_TEMPORARY, 1),
			 MS_SRC_BOUND_ONLY);
	/* Deprecated (preferred_lft 0, or an old temporary): RFC 6724 rule 3 puts it last. */
	assert_int_equal(kind(&self, "fd00::5", "eth0", G | MS_HOST_DEPRECATED, 0),
			 MS_SRC_BOUND_ONLY);
	assert_int_equal(kind(&self, "fd00::d0a3:1", "eth0", G | MS_HOST_TEMPORARY | MS_HOST_DEPRECATED, 2),
			 MS_SRC_BOUND_ONLY);
	assert_int_equal(kind(&self, "fd00::5", "eth0", G | MS_HOST_DADFAILED, 0),
			 MS_SRC_NONE);
	assert_int_equal(kind(&self, "10.0.0.5", "eth0", G, -1), MS_SRC_NONE);
}

static void test_tempaddr_armed(void **state)
{
	struct ms_node self = node("10.0.0.1", "fd00::1");
	struct ms_host_addr a[] = { host("10.0.0.1", "eth0", G, -1), host("fd00::1", "eth0", G, 2), host("fd00::7", "eth1", G | MS_HOST_TEMPORARY, 2) };

	(void)state;
	/* use_tempaddr 2 where the member address is, and no temporary there yet. */
	assert_ptr_equal(ms_src_tempaddr_armed(&self, a, 3), &a[1]);
	a[2] = host("fd00::7", "eth0", G | MS_HOST_TEMPORARY, 2);	/* there is one: classify reports it */
	assert_null(ms_src_tempaddr_armed(&self, a, 3));
	a[1].use_tempaddr = 1;
	a[2].flags = G;
	assert_null(ms_src_tempaddr_armed(&self, a, 3));
	self.v6.family = 0;
	assert_null(ms_src_tempaddr_armed(&self, a, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_v4),
		cmocka_unit_test(test_classify_v6),
		cmocka_unit_test(test_tempaddr_armed),
	};

	return cmocka_run_group_tests_name("srcaddr", tests, NULL, NULL);
}
