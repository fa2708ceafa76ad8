/*
 * Hash index: lookups agree with a plain model through puts, deletions and growth; the table
 * stays short-probed after heavy churn; every table hashes under its own key.
 *
 * The index's source is compiled in here so the tests can see its slots: probe lengths and the
 * table key are what make it safe on hostile input, and they have no public accessor.
 */
#include "../../common/index.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

static size_t key_of(unsigned n, char *buf)
{
	return (size_t)snprintf(buf, 32, "node-%u", n);
}

/* Slots visited by a lookup of an absent key, averaged over every home slot. */
static double miss_cost(const struct ms_index *ix)
{
	size_t total = 0;

	for (size_t h = 0; h <= ix->mask; h++) {
		size_t i = h;

		while (ix->slots[i].ref != REF_EMPTY)
			i = (i + 1) & ix->mask, total++;
		total++;
	}
	return (double)total / (double)(ix->mask + 1);
}

static void test_put_get_del(void **state)
{
	struct ms_index *ix = ms_index_new(4);

	(void)state;
	assert_non_null(ix);
	assert_int_equal(ms_index_count(ix), 0);
	assert_int_equal(ms_index_get(ix, "a", 1), -1);
	assert_int_equal(ms_index_put(ix, "a", 1, 0), 0);
	assert_int_equal(ms_index_put(ix, "bb", 2, 7), 0);
	assert_int_equal(ms_index_put(ix, "b", 1, 3), 0);
	assert_int_equal(ms_index_count(ix), 3);
	assert_int_equal(ms_index_get(ix, "a", 1), 0);
	assert_int_equal(ms_index_get(ix, "bb", 2), 7);
	assert_int_equal(ms_index_get(ix, "b", 1), 3);
	assert_int_equal(ms_index_get(ix, "bb", 1), 3);	/* the length is part of the key */
	assert_int_equal(ms_index_get(ix, "c", 1), -1);

	assert_int_equal(ms_index_del(ix, "a", 1), 0);
	assert_int_equal(ms_index_del(ix, "a", 1), -ENOENT);
	assert_int_equal(ms_index_get(ix, "a", 1), -1);
	assert_int_equal(ms_index_get(ix, "bb", 2), 7);
	assert_int_equal(ms_index_get(ix, "b", 1), 3);
	assert_int_equal(ms_index_count(ix), 2);
	assert_int_equal(ms_index_put(ix, "a", 1, 9), 0);
	assert_int_equal(ms_index_get(ix, "a", 1), 9);
	ms_index_free(ix);
	ms_index_free(NULL);
}

static void test_refusals(void **state)
{
	struct ms_index *ix = ms_index_new(0);
	char big[MS_INDEX_KEY_MAX + 1] = { 0 };

	(void)state;
	assert_non_null(ix);
	assert_int_equal(ms_index_put(ix, "k", 1, 1), 0);
	assert_int_equal(ms_index_put(ix, "k", 1, 2), -EEXIST);
	assert_int_equal(ms_index_get(ix, "k", 1), 1);		/* the first id stays */
	assert_int_equal(ms_index_put(ix, "k", 0, 1), -EINVAL);
	assert_int_equal(ms_index_put(ix, big, sizeof(big), 1), -EINVAL);
	assert_int_equal(ms_index_put(ix, "j", 1, -1), -EINVAL);
	assert_int_equal(ms_index_get(ix, big, sizeof(big)), -1);
	assert_int_equal(ms_index_get(ix, "k", 0), -1);
	assert_int_equal(ms_index_del(ix, "j", 1), -ENOENT);
	assert_int_equal(ms_index_del(ix, big, sizeof(big)), -ENOENT);
	assert_int_equal(ms_index_count(ix), 1);
	ms_index_free(ix);
}

static void test_growth_100k(void **state)
{
	enum { N = 100000 };
	struct ms_index *ix = ms_index_new(0);
	char k[32];

	(void)state;
	assert_non_null(ix);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(ms_index_put(ix, k, key_of(i, k), (int)i), 0);
	assert_int_equal(ms_index_count(ix), N);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(ms_index_get(ix, k, key_of(i, k)), (int)i);
	for (unsigned i = N; i < 2 * N; i++)
		assert_int_equal(ms_index_get(ix, k, key_of(i, k)), -1);
	assert_true(ix->used * 2 <= ix->mask + 1);
	assert_true(miss_cost(ix) < 8);
	ms_index_free(ix);
}

/* A table made for n entries takes them without a rebuild, and is not larger than it needs. */
static void test_sized_for_expected(void **state)
{
	(void)state;
	for (unsigned n = 0; n <= 5000; n += n < 40 ? 1 : 997) {
		struct ms_index *ix = ms_index_new(n);
		size_t slots;
		char k[32];

		assert_non_null(ix);
		slots = ix->mask + 1;
		assert_true(slots <= 16 || slots < 4 * n);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(ms_index_put(ix, k, key_of(i, k), (int)i), 0);
		assert_int_equal(ix->mask + 1, slots);
		assert_true(ix->used * 2 <= slots);
		ms_index_free(ix);
	}
}

/*
 * A window of live keys slides over a million puts and deletions: without rebuilds that drop
 * tombstones, every slot would end up a tombstone and a miss would scan the whole table.
 */
static void test_churn(void **state)
{
	enum { LIVE = 100, CYCLES = 1000000 };
	struct ms_index *ix = ms_index_new(LIVE);
	char k[32];

	(void)state;
	assert_non_null(ix);
	for (unsigned i = 0; i < LIVE; i++)
		assert_int_equal(ms_index_put(ix, k, key_of(i, k), (int)i), 0);
	for (unsigned i = LIVE; i < LIVE + CYCLES; i++) {
		assert_int_equal(ms_index_del(ix, k, key_of(i - LIVE, k)), 0);
		assert_int_equal(ms_index_put(ix, k, key_of(i, k), (int)i), 0);
	}
	assert_int_equal(ms_index_count(ix), LIVE);
	for (unsigned i = CYCLES; i < LIVE + CYCLES; i++)
		assert_int_equal(ms_index_get(ix, k, key_of(i, k)), (int)i);
	for (unsigned i = 0; i < CYCLES; i += 997)
		assert_int_equal(ms_index_get(ix, k, key_of(i, k)), -1);
	assert_true(ix->mask + 1 <= 8 * LIVE);	/* rebuilt, not grown */
	assert_true(miss_cost(ix) < 8);
	ms_index_free(ix);
}

/* Random puts and deletions over a small key space, checked against a plain array. */
static void test_against_model(void **state)
{
	enum { KEYS = 300, OPS = 200000 };
	static int model[KEYS];
	struct ms_index *ix = ms_index_new(1);
	uint32_t x = 12345;
	char k[32];

	(void)state;
	assert_non_null(ix);
	for (unsigned i = 0; i < KEYS; i++)
		model[i] = -1;
	for (unsigned op = 0; op < OPS; op++) {
		unsigned n;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		n = x % KEYS;
		if (x & (1u << 20)) {
			int ret = ms_index_put(ix, k, key_of(n, k), (int)op);

			assert_int_equal(ret, model[n] < 0 ? 0 : -EEXIST);
			if (ret == 0)
				model[n] = (int)op;
		} else {
			assert_int_equal(ms_index_del(ix, k, key_of(n, k)), model[n] < 0 ? -ENOENT : 0);
			model[n] = -1;
		}
		if (op % 1000 == 0)
			for (unsigned i = 0; i < KEYS; i++)
				assert_int_equal(ms_index_get(ix, k, key_of(i, k)), model[i]);
	}
	ms_index_free(ix);
}

/* Keys of every length, each a prefix of the next, some holding NUL bytes. */
static void test_key_lengths(void **state)
{
	struct ms_index *ix = ms_index_new(0);
	unsigned char key[MS_INDEX_KEY_MAX];

	(void)state;
	assert_non_null(ix);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i % 3 == 0 ? 0 : 'a' + i);
	for (size_t len = 1; len <= MS_INDEX_KEY_MAX; len++)
		assert_int_equal(ms_index_put(ix, key, len, (int)len), 0);
	assert_int_equal(ms_index_put(ix, key, MS_INDEX_KEY_MAX + 1, 0), -EINVAL);
	assert_int_equal(ms_index_count(ix), MS_INDEX_KEY_MAX);
	for (size_t len = 1; len <= MS_INDEX_KEY_MAX; len++)
		assert_int_equal(ms_index_get(ix, key, len), (int)len);
	for (size_t len = 1; len <= MS_INDEX_KEY_MAX; len += 2)
		assert_int_equal(ms_index_del(ix, key, len), 0);
	for (size_t len = 1; len <= MS_INDEX_KEY_MAX; len++)
		assert_int_equal(ms_index_get(ix, key, len), len % 2 ? -1 : (int)len);
	key[MS_INDEX_KEY_MAX - 1] ^= 1;
	assert_int_equal(ms_index_get(ix, key, MS_INDEX_KEY_MAX), -1);	/* the last byte counts */
	ms_index_free(ix);
}

/* Collisions found against one table (or one run of the agent) are worth nothing against another. */
static void test_tables_have_own_keys(void **state)
{
	struct ms_index *a = ms_index_new(0), *b = ms_index_new(0);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_not_equal(a->sipkey, b->sipkey, sizeof(a->sipkey));
	assert_true(hash_of(a, "web-1", 5) != hash_of(b, "web-1", 5));
	ms_index_free(a);
	ms_index_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_growth_100k),
		cmocka_unit_test(test_sized_for_expected),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_key_lengths),
		cmocka_unit_test(test_tables_have_own_keys),
	};

	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
