/*
 * meshsec events [--json] [--socket PATH]: what happens in the mesh, live, one line per event
 * (agent/CONTROL.md, "Events"), until interrupted or the agent goes away.  --json passes each
 * event object through as the agent sent it.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctl_client.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: meshsec events [--json] [--socket PATH]\n"
		   "Streams what the agent does: handshakes, rekeys, peers going down (with why) and up,\n"
		   "reloads, policy conflicts, self-healing.  One line per event; --json: one JSON object per line.\n");
}

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* "2026-11-23T10:04:05.123Z rekey     b  handshake 3" */
static void print_text(const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL), *reason;

	if (!json_is_object(ev)) {
		printf("%.*s\n", (int)len, line);	/* not ours to judge: show it as it came */
		json_decref(ev);
		return;
	}
	printf("%s %-15s %-16s", str(ev, "time"), str(ev, "type"), json_is_string(json_object_get(ev, "peer")) ? str(ev, "peer") : "-");
	if (json_is_object(reason = json_object_get(ev, "reason")))
		printf(" %s: %s (fix: %s)", str(reason, "code"), str(reason, "message"), str(reason, "fix"));
	if (json_is_integer(json_object_get(ev, "handshakes")))
		printf(" handshake %lld", (long long)json_integer_value(json_object_get(ev, "handshakes")));
	if (json_is_integer(json_object_get(ev, "count")))
		printf(" %lld events dropped: this reader fell behind", (long long)json_integer_value(json_object_get(ev, "count")));
	if (*str(ev, "detail"))
		printf(" %s", str(ev, "detail"));
	putchar('\n');
	json_decref(ev);
}

/* Lines from fd until it closes; each is flushed at once, so a pipe sees events as they come. */
static int relay(int fd, int json)
{
	char buf[65536];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, sizeof(buf) - n)) > 0) {
		char *start = buf, *nl;

		n += (size_t)r;
		while ((nl = memchr(start, '\n', n - (size_t)(start - buf))) != NULL) {
			if (json)
				printf("%.*s\n", (int)(nl - start), start);
			else
				print_text(start, (size_t)(nl - start));
			start = nl + 1;
		}
		n -= (size_t)(start - buf);
		memmove(buf, start, n);
		if (n == sizeof(buf))
			n = 0;	/* a line longer than any event: skip it */
		fflush(stdout);
	}
	fprintf(stderr, "meshsec events: the agent closed the stream\n");
	return 1;
}

int cmd_events_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sock = cli_default_socket();
	struct ms_error err;
	int opt, json = 0, fd, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 's': sock = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "meshsec events: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	rc = ctl_stream(sock, json_pack("{s:s}", "request", "events"), &fd, &err);
	if (rc != 0) {
		fprintf(stderr, "meshsec events: %s\n", err.msg);
		return rc == CTL_REFUSED ? 1 : 2;
	}
	rc = relay(fd, json);
	close(fd);
	return rc;
}
