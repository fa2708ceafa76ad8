/* Closest-word suggestions (Levenshtein distance), so a typo's error message names the fix. */
#include "config.h"

#include <string.h>

#include "meshsec/suggest.h"

#define WORD_MAX 64

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[WORD_MAX + 1];

	if (la > WORD_MAX || lb > WORD_MAX)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *ms_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) / 3 + 1;

	if (limit < 2)
		limit = 2;
	for (; *candidates; candidates++) {
		size_t d = distance(word, *candidates);

		if (d < best_d) {
			best_d = d;
			best = *candidates;
		}
	}
	return best_d <= limit ? best : NULL;
}
