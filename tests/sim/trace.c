/*
 * The trace ring: every log line of every core and every event of the simulator, the newest
 * few thousand kept, so a failing seed shows what led to it without keeping whole runs.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define LINE_MAX_LEN 240

static char (*ring)[LINE_MAX_LEN];
static size_t cap, head, count;
static bool enabled = true;

void trace_reset(size_t n)
{
	free(ring);
	ring = calloc(n, LINE_MAX_LEN);
	cap = ring ? n : 0;
	head = count = 0;
}

void trace_enable(bool on)
{
	enabled = on;
}

bool trace_enabled(void)
{
	return enabled && cap;
}

void trace_vadd(uint64_t now, const char *who, const char *fmt, va_list ap)
{
	char *line;
	int n;

	if (!trace_enabled())
		return;
	line = ring[head];
	n = snprintf(line, LINE_MAX_LEN, "%7llu.%03llu %-6s ", (unsigned long long)(now / 1000),
		     (unsigned long long)(now % 1000), who);
	if (n > 0 && n < LINE_MAX_LEN)
		vsnprintf(line + n, LINE_MAX_LEN - (size_t)n, fmt, ap);
	head = (head + 1) % cap;
	if (count < cap)
		count++;
}

void trace_add(uint64_t now, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	trace_vadd(now, who, fmt, ap);
	va_end(ap);
}

void trace_dump(size_t last)
{
	size_t n = last < count ? last : count;

	for (size_t i = 0; i < n; i++)
		printf("  %s\n", ring[(head + cap - n + i) % cap]);
}
