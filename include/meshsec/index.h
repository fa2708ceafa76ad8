/*
 * A hash index from short byte strings (node names, addresses) to non-negative ids.
 *
 * Keys come from files and peers we do not control, so each table hashes with its own random
 * SipHash key: nobody can pick keys that collide and turn lookups into scans.  Lookups and
 * updates cost O(1) expected whatever the number of entries and however many were deleted.
 */
#ifndef MESHSEC_INDEX_H
#define MESHSEC_INDEX_H

#include <stddef.h>

#define MS_INDEX_KEY_MAX 64

struct ms_index;

/* An empty index sized for expected entries (it grows as needed); NULL when out of memory. */
struct ms_index *ms_index_new(size_t expected);
void ms_index_free(struct ms_index *ix);

/*
 * Maps a copy of key to id.  0, -EEXIST (key present, its id unchanged), -EINVAL (len 0 or
 * above MS_INDEX_KEY_MAX, id < 0), -ENOMEM.
 */
int ms_index_put(struct ms_index *ix, const void *key, size_t len, int id);

/* The id of key, or -1. */
int ms_index_get(const struct ms_index *ix, const void *key, size_t len);

/* 0, or -ENOENT. */
int ms_index_del(struct ms_index *ix, const void *key, size_t len);

size_t ms_index_count(const struct ms_index *ix);

#endif
