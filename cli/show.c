/*
 * meshsec show PEER: everything the status document says about one peer, one fact a line, so an
 * operator sees why it is not up without reading JSON.  The "reason" object (code, message,
 * fix) is printed when the agent sends one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "show.h"

const char *show_age(json_t *v, char *buf, size_t len)
{
	double t = json_number_value(v);

	if (!json_is_number(v))
		return "-";
	if (t < 60)
		snprintf(buf, len, "%.1fs", t);
	else if (t < 3600)
		snprintf(buf, len, "%dm%02ds", (int)t / 60, (int)t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%dh%02dm", (int)t / 3600, (int)t % 3600 / 60);
	else
		snprintf(buf, len, "%dd%02dh", (int)t / 86400, (int)t % 86400 / 3600);
	return buf;
}

const char *show_bytes(long long b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1000 && u < 4)
		v /= 1000, u++;
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, unit[u]);
	return buf;
}

const char *show_str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

long long show_num(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return (long long)json_integer_value(b ? json_object_get(v, b) : v);
}

static void spis(json_t *spi, int family, const char *label)
{
	long long in = (long long)json_integer_value(json_array_get(json_object_get(spi, "in"), (size_t)family));
	long long out = (long long)json_integer_value(json_array_get(json_object_get(spi, "out"), (size_t)family));

	if (in || out)
		printf("  %-11s in %08llx  out %08llx\n", label, in, out);
	else
		printf("  %-11s none\n", label);
}

static void traffic(json_t *p, const char *dir)
{
	char b[16];
	long long pk = show_num(p, dir, "packets");

	printf("%s %s / %lld packet%s", dir, show_bytes(show_num(p, dir, "bytes"), b, sizeof(b)), pk, pk == 1 ? "" : "s");
}

static void reason(json_t *r)
{
	if (!json_is_object(r))
		return;
	printf("  %-11s %s (%s)\n", "reason", show_str(r, "message"), show_str(r, "code"));
	if (json_is_string(json_object_get(r, "fix")))
		printf("  %-11s %s\n", "fix", show_str(r, "fix"));
}

void show_peer(json_t *p)
{
	json_t *v;
	size_t i;
	char a1[16], a2[16];
	long long hs = show_num(p, "handshakes", NULL);

	printf("%s  %s for %s\n", show_str(p, "name"), show_str(p, "state"), show_age(json_object_get(p, "since_s"), a1, sizeof(a1)));
	reason(json_object_get(p, "reason"));
	printf("  %-11s %s, mode %s: %s\n", "protection", show_str(p, "traffic"), show_str(p, "mode"),
	       strcmp(show_str(p, "traffic"), "encrypted") == 0 ? "ESP through the pair's SAs" :
	       strcmp(show_str(p, "traffic"), "clear") == 0 ? "no SA yet, so traffic passes in clear until the pair is up" :
	       strcmp(show_str(p, "traffic"), "foreign") == 0 ? "another owner's policy holds a selector of the pair and decides" :
	       "no SA, so the kernel drops the pair's traffic until it is up");
	printf("  %-11s", "addresses");
	json_array_foreach(json_object_get(p, "addresses"), i, v)
		printf(" %s", json_string_value(v));
	printf("\n  %-11s %s ago; %lld handshake%s (the first and every rekey)\n", "handshake",
	       show_age(json_object_get(p, "last_handshake_age_s"), a1, sizeof(a1)), hs, hs == 1 ? "" : "s");
	printf("  %-11s %s ago\n", "last seen", show_age(json_object_get(p, "last_seen_age_s"), a2, sizeof(a2)));
	if (json_is_number(json_object_get(p, "rtt_ms")))
		printf("  %-11s %.1fms\n", "rtt", json_number_value(json_object_get(p, "rtt_ms")));
	else
		printf("  %-11s -\n", "rtt");
	printf("  %-11s %s\n", "cipher", show_str(p, "cipher"));
	spis(json_object_get(p, "spi"), 0, "spi ipv4");
	spis(json_object_get(p, "spi"), 1, "spi ipv6");
	printf("  %-11s ", "traffic");
	traffic(p, "in");
	printf("   ");
	traffic(p, "out");
	printf("\n  %-11s bad_mac %lld (failed authentication: another secret or mesh name), replay %lld, failed %lld\n", "errors",
	       show_num(p, "errors", "bad_mac"), show_num(p, "errors", "replay"), show_num(p, "errors", "failed"));
	printf("  %-11s %s%s\n", "inventory", json_is_string(json_object_get(p, "inventory_digest")) ? show_str(p, "inventory_digest") : "not heard yet",
	       json_is_true(json_object_get(p, "drift")) ? " (differs from ours: ship the current inventory to it)" : "");
}
