/* "Did you mean" for unknown keys and values: the closest candidate by edit distance. */
#ifndef MESHSEC_SUGGEST_H
#define MESHSEC_SUGGEST_H

/* Returns the candidate (NULL-terminated list) closest to word, or NULL if none is close. */
const char *ms_suggest(const char *word, const char *const *candidates);

#endif
