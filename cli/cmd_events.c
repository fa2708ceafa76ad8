/*
 * meshsec events (options: cli_cmd_events below): what happens in the mesh, live, one line per event
 * (agent/CONTROL.md, "Events"), until interrupted or the agent goes away.  --json passes each
 * event object through as the agent sent it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctl_client.h"
#include "show.h"

/* "2026-11-23T10:04:05.123Z rekey     b  handshake 3" */
static void print_text(const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL), *reason;

	if (!json_is_object(ev)) {
		printf("%.*s\n", (int)len, line);	/* not ours to judge: show it as it came */
		json_decref(ev);
		return;
	}
	printf("%s %-15s %-16s", show_str(ev, "time"), show_str(ev, "type"), show_str(ev, "peer"));
	if (json_is_object(reason = json_object_get(ev, "reason")))
		printf(" %s: %s (fix: %s)", show_str(reason, "code"), show_str(reason, "message"), show_str(reason, "fix"));
	if (json_is_integer(json_object_get(ev, "handshakes")))
		printf(" handshake %lld", (long long)json_integer_value(json_object_get(ev, "handshakes")));
	if (json_is_integer(json_object_get(ev, "count")))
		printf(" %lld events dropped: this reader fell behind", (long long)json_integer_value(json_object_get(ev, "count")));
	if (json_is_string(json_object_get(ev, "detail")))
		printf(" %s", show_str(ev, "detail"));
	putchar('\n');
	json_decref(ev);
}

/*
 * Lines from fd until it closes; each is flushed at once, so a pipe sees events as they come.
 * A line longer than buf (no event is) is thrown away whole: the rest of it, up to its newline,
 * is skipped too, so no tail of it is ever printed as a line of its own.
 */
static int relay(int fd, int json)
{
	char buf[65536];
	size_t n = 0;
	ssize_t r;
	int skipping = 0;	/* inside a line too long for buf: drop up to its newline */

	while ((r = read(fd, buf + n, sizeof(buf) - n)) > 0) {
		char *start = buf, *nl;

		n += (size_t)r;
		while ((nl = memchr(start, '\n', n - (size_t)(start - buf))) != NULL) {
			if (skipping)
				skipping = 0;
			else if (json)
				printf("%.*s\n", (int)(nl - start), start);
			else
				print_text(start, (size_t)(nl - start));
			start = nl + 1;
		}
		n -= (size_t)(start - buf);
		memmove(buf, start, n);
		if (n == sizeof(buf))
			n = 0, skipping = 1;	/* a line longer than any event: skip it to its end */
		fflush(stdout);
	}
	fprintf(stderr, "meshsec events: the agent closed the stream\n");
	return 1;
}

static int events_main(int argc, char **argv)
{
	struct ms_args a;
	struct ms_error err;
	int fd, rc = cli_begin(&cli_cmd_events, argc, argv, &a);

	if (rc >= 0)
		return rc;
	rc = ctl_stream(ms_opt(&a, "socket") ? ms_opt(&a, "socket") : cli_default_socket(), json_pack("{s:s}", "request", "events"),
			&fd, &err);
	if (rc != 0) {
		cli_error(&a, rc == CTL_UNREACHABLE ? CLI_FIX_UNREACHABLE : NULL, "%s", err.msg);
		return rc == CTL_REFUSED ? 1 : 2;
	}
	rc = relay(fd, cli_json(&a));
	close(fd);
	return rc;
}

static const struct ms_opt events_opts[] = { CLI_OPT_JSON, CLI_OPT_SOCKET, { NULL, 0, NULL, NULL } };

const struct ms_cmd cli_cmd_events = {
	.name = "events", .summary = "what happens, live: handshakes, rekeys, down (with why) and up, reloads",
	.help = "Streams what the agent does: handshakes, rekeys, peers going down (with why) and up,\n"
		"reloads, policy conflicts, self-healing.  One line per event; --json: one JSON object per line,\n"
		"as the agent sent it.  Runs until interrupted or the agent goes away (exit 1).",
	.opts = events_opts, .main = events_main,
};
