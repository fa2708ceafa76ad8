/*
 * Hash index: open addressing with linear probing, hashed by SipHash under a per-table key.
 *
 * Slots are 8 bytes (part of the hash and an entry number), so a probe run stays within a cache
 * line or two; the keys live in a dense entry array, so memory follows the number of entries,
 * not the table size.  A deletion leaves a tombstone and moves the last entry into the freed
 * place.  Entries and tombstones together never fill more than half the slots: when an insert
 * would pass that, the table is rebuilt at most a quarter full, which drops every tombstone, so
 * probe runs stay short however many put/del cycles came before.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meshsec/index.h"

/* slot.ref: empty, tombstone, or the entry number plus REF_FIRST. */
enum { REF_EMPTY = 0, REF_DELETED = 1, REF_FIRST = 2 };
#define MIN_SLOTS 16u
#define MAX_ENTRIES ((size_t)UINT32_MAX - REF_FIRST)

struct slot {
	uint32_t tag;		/* high half of the hash: most mismatches never touch the entry */
	uint32_t ref;
};

struct entry {
	uint64_t hash;		/* kept, so growing never hashes a key again */
	int id;
	uint8_t len;
	unsigned char key[MS_INDEX_KEY_MAX];
};

struct ms_index {
	unsigned char sipkey[crypto_shorthash_KEYBYTES];
	struct slot *slots;
	size_t mask;		/* slots - 1; slots is a power of two */
	size_t used;		/* slots not empty: entries and tombstones */
	struct entry *entries;
	size_t count, cap;
};

static uint64_t hash_of(const struct ms_index *ix, const void *key, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, key, len, ix->sipkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* The smallest power of two at least n and MIN_SLOTS; 0 on overflow. */
static size_t slots_for(size_t n)
{
	size_t s = MIN_SLOTS;

	while (s < n) {
		if (s > SIZE_MAX / 2)
			return 0;
		s <<= 1;
	}
	return s;
}

/*
 * The slot holding key (*found = 1); else the first slot of its probe run an insert may take,
 * a tombstone or the empty slot that ends the run.  The run always ends: at most half the
 * slots are in use.
 */
static size_t probe(const struct ms_index *ix, uint64_t h, const void *key, size_t len, int *found)
{
	uint32_t tag = (uint32_t)(h >> 32);
	size_t free_slot = SIZE_MAX;

	for (size_t i = (size_t)h & ix->mask;; i = (i + 1) & ix->mask) {
		const struct slot *s = &ix->slots[i];
		const struct entry *e;

		if (s->ref == REF_EMPTY) {
			*found = 0;
			return free_slot != SIZE_MAX ? free_slot : i;
		}
		if (s->ref == REF_DELETED) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
			continue;
		}
		if (s->tag != tag)
			continue;
		e = &ix->entries[s->ref - REF_FIRST];
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
			*found = 1;
			return i;
		}
	}
}

static int rebuild(struct ms_index *ix, size_t n_slots)
{
	struct slot *slots;

	if (n_slots == 0 || !(slots = calloc(n_slots, sizeof(*slots))))
		return -ENOMEM;
	for (size_t e = 0; e < ix->count; e++) {
		uint64_t h = ix->entries[e].hash;
		size_t i = (size_t)h & (n_slots - 1);

		while (slots[i].ref != REF_EMPTY)
			i = (i + 1) & (n_slots - 1);
		slots[i].tag = (uint32_t)(h >> 32);
		slots[i].ref = (uint32_t)(e + REF_FIRST);
	}
	free(ix->slots);
	ix->slots = slots;
	ix->mask = n_slots - 1;
	ix->used = ix->count;
	return 0;
}

struct ms_index *ms_index_new(size_t expected)
{
	struct ms_index *ix;
	size_t n_slots;

	/* sodium_init() seeds the generator the table key comes from; it is idempotent. */
	if (sodium_init() < 0 || expected > MAX_ENTRIES)
		return NULL;
	n_slots = slots_for(2 * expected);	/* expected entries fit without a rebuild */
	if (!n_slots || !(ix = calloc(1, sizeof(*ix))))
		return NULL;
	ix->cap = expected > 8 ? expected : 8;
	ix->entries = reallocarray(NULL, ix->cap, sizeof(*ix->entries));
	ix->slots = calloc(n_slots, sizeof(*ix->slots));
	if (!ix->entries || !ix->slots) {
		ms_index_free(ix);
		return NULL;
	}
	ix->mask = n_slots - 1;
	crypto_shorthash_keygen(ix->sipkey);
	return ix;
}

void ms_index_free(struct ms_index *ix)
{
	if (!ix)
		return;
	free(ix->slots);
	free(ix->entries);
	free(ix);
}

int ms_index_put(struct ms_index *ix, const void *key, size_t len, int id)
{
	struct entry *e;
	uint64_t h;
	size_t i;
	int found, ret;

	if (len == 0 || len > MS_INDEX_KEY_MAX || id < 0)
		return -EINVAL;
	h = hash_of(ix, key, len);
	i = probe(ix, h, key, len, &found);
	if (found)
		return -EEXIST;
	if (ix->count >= MAX_ENTRIES)
		return -ENOMEM;
	if (ix->count == ix->cap) {
		e = reallocarray(ix->entries, ix->cap * 2, sizeof(*e));
		if (!e)
			return -ENOMEM;
		ix->entries = e;
		ix->cap *= 2;
	}
	if (ix->slots[i].ref == REF_EMPTY && ix->used + 1 > (ix->mask + 1) / 2) {
		if ((ret = rebuild(ix, slots_for(4 * (ix->count + 1)))) < 0)
			return ret;
		i = probe(ix, h, key, len, &found);
	}
	e = &ix->entries[ix->count];
	e->hash = h;
	e->id = id;
	e->len = (uint8_t)len;
	memcpy(e->key, key, len);
	if (ix->slots[i].ref == REF_EMPTY)
		ix->used++;
	ix->slots[i].tag = (uint32_t)(h >> 32);
	ix->slots[i].ref = (uint32_t)(ix->count + REF_FIRST);
	ix->count++;
	return 0;
}

int ms_index_get(const struct ms_index *ix, const void *key, size_t len)
{
	size_t i;
	int found;

	if (len == 0 || len > MS_INDEX_KEY_MAX)
		return -1;
	i = probe(ix, hash_of(ix, key, len), key, len, &found);
	return found ? ix->entries[ix->slots[i].ref - REF_FIRST].id : -1;
}

int ms_index_del(struct ms_index *ix, const void *key, size_t len)
{
	size_t i, e, last;
	int found;

	if (len == 0 || len > MS_INDEX_KEY_MAX)
		return -ENOENT;
	i = probe(ix, hash_of(ix, key, len), key, len, &found);
	if (!found)
		return -ENOENT;
	e = ix->slots[i].ref - REF_FIRST;
	ix->slots[i].ref = REF_DELETED;
	/*
	 * A run's last slot can be emptied outright, as can the tombstones just before it: no probe
	 * run passes through them to reach an entry.
	 */
	while (ix->slots[i].ref == REF_DELETED && ix->slots[(i + 1) & ix->mask].ref == REF_EMPTY) {
		ix->slots[i].ref = REF_EMPTY;
		ix->used--;
		i = (i - 1) & ix->mask;
	}
	last = --ix->count;
	if (e != last) {
		/* Keep the entries dense: the last one moves into the hole and its slot follows it. */
		size_t j = (size_t)ix->entries[last].hash & ix->mask;

		while (ix->slots[j].ref != last + REF_FIRST)
			j = (j + 1) & ix->mask;
		ix->entries[e] = ix->entries[last];
		ix->slots[j].ref = (uint32_t)(e + REF_FIRST);
	}
	return 0;
}

size_t ms_index_count(const struct ms_index *ix)
{
	return ix->count;
}
