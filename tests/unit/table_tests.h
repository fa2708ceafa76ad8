/*
 * A cmocka group of named tests followed by one test per case of a table, each case reported by
 * its own name (PREFIX_00, PREFIX_01, ...), so a failing input is named by the runner.
 * Include after <cmocka.h>.
 */
#ifndef MESHSEC_TABLE_TESTS_H
#define MESHSEC_TABLE_TESTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int run_with_table(const char *group, const struct CMUnitTest *named, size_t n_named,
				 CMUnitTestFunction fn, const void *cases, size_t n_cases, size_t case_size,
				 const char *prefix)
{
	struct CMUnitTest *t = calloc(n_named + n_cases, sizeof(*t));
	char (*names)[48] = calloc(n_cases + 1, sizeof(*names));
	int rc;

	if (!t || !names) {
		free(t);
		free(names);
		return 1;
	}
	memcpy(t, named, n_named * sizeof(*t));
	for (size_t i = 0; i < n_cases; i++) {
		snprintf(names[i], sizeof(names[i]), "%s_%02zu", prefix, i);
		t[n_named + i] = (struct CMUnitTest){ names[i], fn, NULL, NULL, (void *)((const char *)cases + i * case_size) };
	}
	rc = _cmocka_run_group_tests(group, t, n_named + n_cases, NULL, NULL);
	free(t);
	free(names);
	return rc;
}

/* The usual call: named tests, then test_bad_input over the table bad. */
#define RUN_WITH_BAD_TABLE(group, named, prefix) \
	run_with_table(group, named, sizeof(named) / sizeof(named[0]), test_bad_input, bad, sizeof(bad) / sizeof(bad[0]), \
		       sizeof(bad[0]), prefix)

#endif
