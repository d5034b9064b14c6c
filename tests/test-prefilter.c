/*
 * test-prefilter.c - pb_prefilter_* (prefilter.c): one pass over a line
 * finds every registered literal, case-insensitively.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "playbook.h"

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

/*
 * Property: on random lines built around the shipped library's literals
 * (every pattern literal and severity word, as pb_library_prepare feeds
 * them), the scan reports exactly the literals a naive case-insensitive
 * search finds -- none missed, none invented.
 */
struct corpus {
	const char	**lit;
	size_t		 *len;
	size_t		  n;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % below);
}

static int
has_fold(const char *line, size_t n, const char *lit, size_t len)
{
	for (size_t i = 0; i + len <= n; i++) {
		size_t j = 0;
		while (j < len && tolower((unsigned char)line[i + j]) ==
		    tolower((unsigned char)lit[j]))
			j++;
		if (j == len)
			return 1;
	}
	return 0;
}

static void
diag_fail(void *arg, const char *msg)
{
	(void)arg;
	fail_msg("%s", msg);
}

static void
test_prefilter_never_misses_library_literal(void **state)
{
	struct pb_library *lib;
	struct pb_prefilter *pf;
	char *cause = NULL, line[600];
	static const char filler[] = " :[]=/.-_0123456789abcdefghijklmnopqrstuvwxyzAEIOUXYZ\xff\t";
	const char **lit;
	size_t *len, n = 0, cap = 4096, lines = 0, hits = 0;
	uint32_t idx, ids[1024];
	unsigned char *want, *got;

	(void)state;
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, "../share/playbooks", diag_fail, NULL,
	    &cause), 0);
	assert_int_equal(pb_prefilter_new(&pf), 0);
	lit = calloc(cap, sizeof(*lit));
	len = calloc(cap, sizeof(*len));
	assert_non_null(lit);
	assert_non_null(len);
	for (size_t i = 0; i < pb_library_count(lib); i++) {
		const struct pb_playbook *pb = pb_library_get(lib, i);
		for (size_t j = 0; j < pb->npats; j++)
			for (size_t l = 0; l < pb->pats[j].lits.n; l++) {
				assert_int_equal(pb_prefilter_add(pf, pb->pats[j].lits.lit[l],
				    pb->pats[j].lits.len[l], &idx), 0);
				if (idx == n) {
					assert_true(n < cap);
					lit[n] = pb->pats[j].lits.lit[l];
					len[n++] = pb->pats[j].lits.len[l];
				}
			}
	}
	for (size_t i = 0; pb_severity_literals[i] != NULL; i++) {
		assert_int_equal(pb_prefilter_add(pf, pb_severity_literals[i],
		    strlen(pb_severity_literals[i]), &idx), 0);
		if (idx == n) {
			assert_true(n < cap);
			lit[n] = pb_severity_literals[i];
			len[n++] = strlen(pb_severity_literals[i]);
		}
	}
	/* The larger library: well over a thousand distinct literals. */
	assert_true(n > 1000);
	assert_int_equal(pb_prefilter_build(pf), 0);
	want = calloc(n, 1);
	got = calloc(n, 1);
	assert_non_null(want);
	assert_non_null(got);
	for (int round = 0; round < 3000; round++) {
		size_t ln = 0, target = rnd(300), nids;

		/* Random filler with 0-4 literals in random case, sometimes one
		 * cut short (a near miss) and sometimes one flush at the end. */
		while (ln < target) {
			uint32_t what = rnd(8);
			if (what < 2 && ln + 80 < sizeof(line)) {
				size_t k = rnd((uint32_t)n), m = len[k];
				if (m > 80)
					m = 80;
				if (what == 1 && m > 3)
					m -= 1 + rnd(2);
				for (size_t c = 0; c < m; c++)
					line[ln++] = rnd(2) ? (char)toupper((unsigned char)lit[k][c]) : lit[k][c];
			} else if (ln + 1 < sizeof(line)) {
				line[ln++] = filler[rnd(sizeof(filler) - 1)];
			} else
				break;
		}
		if (rnd(4) == 0 && ln + 80 < sizeof(line)) {
			size_t k = rnd((uint32_t)n);
			for (size_t c = 0; c < len[k] && ln < sizeof(line); c++)
				line[ln++] = lit[k][c];
		}
		memset(want, 0, n);
		memset(got, 0, n);
		for (size_t k = 0; k < n; k++)
			want[k] = (unsigned char)has_fold(line, ln, lit[k], len[k]);
		nids = pb_prefilter_scan(pf, line, ln, ids, 1024);
		assert_true(nids < 1024);
		for (size_t i = 0; i < nids; i++) {
			assert_true(ids[i] < n);
			got[ids[i]] = 1;
		}
		for (size_t k = 0; k < n; k++) {
			if (want[k] != got[k])
				fail_msg("literal \"%.*s\" %s in line \"%.*s\"", (int)len[k], lit[k],
				    want[k] ? "missed" : "invented", (int)ln, line);
			hits += want[k];
		}
		lines++;
	}
	/* The lines did hold literals: the property was not vacuous. */
	assert_true(hits > lines);
	free(want);
	free(got);
	free(lit);
	free(len);
	pb_prefilter_free(pf);
	pb_library_free(lib);
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
		cmocka_unit_test(test_prefilter_never_misses_library_literal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
