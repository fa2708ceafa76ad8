/* File watching with inotify, debounced on the event loop. */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

#define SETTLE_MS 250
#define MAX_DELAY_MS 2000	/* changes that never stop still get a reload this often */

struct watch {
	int fd;
	char name[NAME_MAX + 1];
	struct event *ev, *settle;
	void (*cb)(void *arg);
	void *arg;
	struct timespec first;	/* first change not yet reloaded; tv_sec 0: none */
};

static uint64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - t->tv_sec) * 1000 + (uint64_t)((now.tv_nsec - t->tv_nsec) / 1000000);
}

static void on_settled(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;

	(void)fd, (void)what;
	w->first.tv_sec = 0;
	w->cb(w->arg);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct timeval tv = { 0, SETTLE_MS * 1000 };
	bool hit = false;
	ssize_t n;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			if (e->len && (strcmp(e->name, w->name) == 0 || strcmp(e->name, "..data") == 0))
				hit = true;
			p += sizeof(*e) + e->len;
		}
	}
	if (!hit)
		return;
	/* Each change restarts the timer (many writes, one reload), but not beyond MAX_DELAY_MS. */
	if (!w->first.tv_sec)
		clock_gettime(CLOCK_MONOTONIC, &w->first);
	if (ms_since(&w->first) >= MAX_DELAY_MS)
		tv.tv_usec = 0;
	evtimer_add(w->settle, &tv);
}

int watch_open(struct event_base *base, const char *path, void (*cb)(void *arg), void *arg,
	       struct watch **out, struct ms_error *err)
{
	struct watch *w = calloc(1, sizeof(*w));
	char *d = strdup(path), *b = strdup(path);
	int rc = 0;

	if (!w || !d || !b) {
		rc = ms_error_set(err, ENOMEM, "out of memory");
		goto done;
	}
	snprintf(w->name, sizeof(w->name), "%s", basename(b));
	w->cb = cb;
	w->arg = arg;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || inotify_add_watch(w->fd, dirname(d), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		rc = ms_error_set(err, errno, "cannot watch %s for changes: %s (reload with SIGHUP instead)", path, strerror(errno));
		if (w->fd >= 0)
			close(w->fd);
		goto done;
	}
	w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_inotify, w);
	w->settle = evtimer_new(base, on_settled, w);
	event_add(w->ev, NULL);
	*out = w;
	w = NULL;
done:
	free(w);
	free(d);
	free(b);
	return rc;
}

void watch_close(struct watch *w)
{
	if (!w)
		return;
	event_free(w->ev);
	event_free(w->settle);
	close(w->fd);
	free(w);
}
