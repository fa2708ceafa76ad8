/* Logging for the agent: one line per event, to stderr or syslog. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

/*
 * Identical lines (same level and text) within REPEAT_WINDOW_S are counted, not written; the
 * next one after the window says how many were held back.  A flood of forged datagrams at
 * debug level, or a kernel error on every tick, cannot fill the disk.
 */
#define REPEAT_SLOTS 32
#define REPEAT_WINDOW_S 10

static struct {
	uint64_t hash;
	time_t last;
	unsigned held;
} recent[REPEAT_SLOTS];

static int to_stderr = 1;
static enum log_level cur = LOG_LVL_INFO;
static const char *const names[] = { "error", "warn", "info", "debug" };
static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_init(int foreground, enum log_level level)
{
	to_stderr = foreground;
	cur = level;
	if (!foreground)
		openlog("meshsecd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	cur = level;
}

enum log_level log_get_level(void)
{
	return cur;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return names[level];
}

static uint64_t line_hash(enum log_level level, const char *line, const char *suffix)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)level;

	for (const char *p = line; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (const char *p = suffix ? suffix : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

/* Returns the number of identical lines held back before this one, or -1 to hold this one too. */
static long repeats(uint64_t h, time_t now)
{
	size_t oldest = 0;
	unsigned held;

	for (size_t i = 0; i < REPEAT_SLOTS; i++) {
		if (recent[i].hash == h) {
			if (now - recent[i].last < REPEAT_WINDOW_S && recent[i].held < UINT_MAX) {
				recent[i].held++;
				return -1;
			}
			held = recent[i].held;
			recent[i].last = now;
			recent[i].held = 0;
			return held;
		}
		if (recent[i].last < recent[oldest].last)
			oldest = i;
	}
	recent[oldest].hash = h;
	recent[oldest].last = now;
	recent[oldest].held = 0;
	return 0;
}

static void vlog(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];
	long held;

	if (level > cur)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if ((held = repeats(line_hash(level, line, suffix), time(NULL))) < 0)
		return;
	if (held > 0) {
		size_t n = strlen(line);

		snprintf(line + n, sizeof(line) - n, " [%ld identical lines held back in the last %d s]", held, REPEAT_WINDOW_S);
	}
	if (to_stderr) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s %s%s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, names[level], line, suffix ? ": " : "", suffix ? suffix : "");
	} else {
		syslog(prio[level], "%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "");
	}
}

#define LOG_FN(fn, level, with_errno)                                   \
	void fn(const char *fmt, ...)                                   \
	{                                                               \
		const char *suffix = (with_errno) ? strerror(errno) : NULL; \
		va_list ap;                                             \
		va_start(ap, fmt);                                      \
		vlog(level, suffix, fmt, ap);                           \
		va_end(ap);                                             \
	}

LOG_FN(log_error, LOG_LVL_ERROR, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	vlog(level, NULL, fmt, ap);
}
