/*
 * test-prefilter.c - pb_prefilter_* (prefilter.c): one pass over a line
 * finds every registered literal, case-insensitively.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* Literals in the order added; their index is what the scan reports. */
static const char *const lits[] = { "error", "disk full", "out of memory", "FATAL" };
enum { ID_ERROR, ID_DISK, ID_OOM, ID_FATAL };

static int
setup(void **state)
{
	struct pb_prefilter *pf;
	uint32_t idx;

	if (pb_prefilter_new(&pf) != 0)
		return -1;
	/* Literals arrive lower-cased from pb_literals; "FATAL" checks folding. */
	for (uint32_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++)
		if (pb_prefilter_add(pf, lits[i], strlen(lits[i]), &idx) != 0 ||
		    idx != i) {
			pb_prefilter_free(pf);
			return -1;
		}
	if (pb_prefilter_build(pf) != 0) {
		pb_prefilter_free(pf);
		return -1;
	}
	*state = pf;
	return 0;
}

static int
teardown(void **state)
{
	pb_prefilter_free(*state);
	return 0;
}

/* Scan s; return a bitmask of the indices found. */
static unsigned
scan(void **state, const char *s)
{
	uint32_t ids[16];
	size_t n = pb_prefilter_scan(*state, s, strlen(s), ids, 16);
	unsigned mask = 0;

	for (size_t i = 0; i < n; i++)
		mask |= 1u << ids[i];
	return mask;
}

#define BIT(id) (1u << (id))

static void
test_prefilter_scan_finds_literal_at_start(void **state)
{
	assert_int_equal(scan(state, "ERROR: something broke"), BIT(ID_ERROR));
}

static void
test_prefilter_scan_finds_literal_in_middle(void **state)
{
	assert_int_equal(scan(state, "kernel: Out Of Memory: Killed process 42"),
	    BIT(ID_OOM));
}

static void
test_prefilter_scan_finds_literal_at_end(void **state)
{
	assert_int_equal(scan(state, "write to /dev/sda1 failed: disk FULL"),
	    BIT(ID_DISK));
	assert_int_equal(scan(state, "eRRoR"), BIT(ID_ERROR));
}

static void
test_prefilter_scan_folds_literal_case_too(void **state)
{
	/* Added as "FATAL", found as "fatal". */
	assert_int_equal(scan(state, "java: fatal exception"), BIT(ID_FATAL));
}

static void
test_prefilter_scan_reports_multiple_ids(void **state)
{
	assert_int_equal(scan(state, "FATAL error: disk full, out of memory"),
	    BIT(ID_ERROR) | BIT(ID_DISK) | BIT(ID_OOM) | BIT(ID_FATAL));
}

static void
test_prefilter_scan_misses_return_none(void **state)
{
	uint32_t ids[4];

	assert_int_equal(scan(state, "all systems nominal, nothing to report"), 0);
	/* A literal cut off by the end of the line does not count. */
	assert_int_equal(scan(state, "disk ful"), 0);
	assert_int_equal(scan(state, "erro"), 0);
	/* Nor does one split by a byte in between. */
	assert_int_equal(scan(state, "err-or"), 0);
	assert_int_equal(pb_prefilter_scan(*state, "x", 1, ids, 4), 0);
}

static void
test_prefilter_scan_short_input_is_none(void **state)
{
	uint32_t ids[4];

	assert_int_equal(pb_prefilter_scan(*state, "", 0, ids, 4), 0);
	assert_int_equal(pb_prefilter_scan(*state, "er", 2, ids, 4), 0);
	/* Length is honoured: the literal past len is not seen. */
	assert_int_equal(pb_prefilter_scan(*state, "error", 4, ids, 4), 0);
	assert_int_equal(pb_prefilter_scan(*state, "error", 5, ids, 4), 1);
}

static void
test_prefilter_scan_handles_nul_and_high_bytes(void **state)
{
	static const char line[] = "\0\xff\x80 error \0 disk full";
	uint32_t ids[4];
	unsigned mask = 0;
	size_t n = pb_prefilter_scan(*state, line, sizeof(line) - 1, ids, 4);

	for (size_t i = 0; i < n; i++)
		mask |= 1u << ids[i];
	assert_int_equal(mask, BIT(ID_ERROR) | BIT(ID_DISK));
}

static void
test_prefilter_scan_stops_at_max(void **state)
{
	uint32_t ids[2] = { 0, 0 };

	/* Four literals present, room for two: two stored, no overflow. */
	assert_int_equal(pb_prefilter_scan(*state, "fatal error disk full out of memory",
	    35, ids, 2), 2);
}

static void
test_prefilter_add_rejects_short_literal(void **state)
{
	uint32_t idx = 99;

	assert_int_equal(pb_prefilter_add(*state, "ab", 2, &idx), PB_EINVAL);
	assert_int_equal(pb_prefilter_count(*state), 4);
}

static void
test_prefilter_add_dedupes_case_insensitively(void **state)
{
	uint32_t idx = 99;

	/* A literal shared by many patterns is stored (and reported) once. */
	assert_int_equal(pb_prefilter_add(*state, "Disk Full", 9, &idx), 0);
	assert_int_equal(idx, ID_DISK);
	assert_int_equal(pb_prefilter_count(*state), 4);
	assert_int_equal(pb_prefilter_add(*state, "disk fullness", 13, &idx), 0);
	assert_int_equal(idx, 4);
	assert_int_equal(pb_prefilter_count(*state), 5);
}

static void
test_prefilter_scan_many_literals_all_found(void **state)
{
	struct pb_prefilter *pf;
	char lit[32], line[64];
	uint32_t ids[8], idx;

	(void)state;
	assert_int_equal(pb_prefilter_new(&pf), 0);
	for (uint32_t i = 0; i < 2000; i++) {
		snprintf(lit, sizeof(lit), "word%04u", i);
		assert_int_equal(pb_prefilter_add(pf, lit, strlen(lit), &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(pb_prefilter_build(pf), 0);
	for (uint32_t i = 0; i < 2000; i += 97) {
		snprintf(line, sizeof(line), "prefix WORD%04u suffix", i);
		assert_int_equal(pb_prefilter_scan(pf, line, strlen(line), ids, 8), 1);
		assert_int_equal(ids[0], i);
	}
	pb_prefilter_free(pf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prefilter_scan_finds_literal_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_finds_literal_in_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_finds_literal_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_folds_literal_case_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_reports_multiple_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_misses_return_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_short_input_is_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_handles_nul_and_high_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_scan_stops_at_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_add_rejects_short_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefilter_add_dedupes_case_insensitively, setup, teardown),
		cmocka_unit_test(test_prefilter_scan_many_literals_all_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
