/*
 * test-tui-cardlines.c - which cards each log line belongs to
 * (tui/cardlines.c): the gutter marks and c in the log view.  What a
 * technician would notice: a line of a card without its mark, c opening
 * a milder card than the line's worst, and a big log with a busy card
 * eating memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../playbooks/playbook.h"
#include "app.h"

/* Shipped playbooks of three severities (tests run from tests/). */
static struct pb_library *lib;
static const struct pb_playbook *oom, *panic, *link_down;

static void
diag_ignore(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static const struct pb_playbook *
by_id(const char *id)
{
	for (size_t i = 0; i < pb_library_count(lib); i++)
		if (strcmp(pb_playbook_id(pb_library_get(lib, i)), id) == 0)
			return pb_library_get(lib, i);
	fail_msg("no playbook %s", id);
	return NULL;
}

static int
setup(void **state)
{
	char *cause = NULL;
	const char *f[] = { "../share/playbooks/oom-killer.json",
	    "../share/playbooks/kernel-panic.json",
	    "../share/playbooks/mikrotik-interface-link-down.json" };

	(void)state;
	if (pb_library_new(&lib) != 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (pb_library_add(lib, f[i], diag_ignore, NULL, &cause) != 0) {
			free(cause);
			return -1;
		}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pb_library_free(lib);
	return 0;
}

static void
find_playbooks(void)
{
	oom = by_id("oom-killer");
	panic = by_id("kernel-panic");
	link_down = by_id("mikrotik-interface-link-down");
	assert_int_equal(pb_playbook_severity(oom), PB_SEV_CRITICAL);
	assert_int_equal(pb_playbook_severity(link_down), PB_SEV_MEDIUM);
}

static void
test_lines_keep_their_cards_worst_first(void **state)
{
	struct cardlines *cl = cardlines_new();
	const struct pb_playbook *const *pbs;

	(void)state;
	find_playbooks();
	assert_non_null(cl);
	assert_int_equal(cardlines_get(cl, 0, 7, &pbs), 0);
	assert_int_equal(cardlines_add(cl, 0, 7, link_down), 0);
	assert_int_equal(cardlines_add(cl, 0, 7, oom), 0);
	assert_int_equal(cardlines_add(cl, 0, 7, link_down), 0);	/* again */
	assert_int_equal(cardlines_get(cl, 0, 7, &pbs), 2);
	assert_ptr_equal(pbs[0], oom);		/* the worst first */
	assert_ptr_equal(pbs[1], link_down);
	/* the same set, built the other way round, is the same */
	assert_int_equal(cardlines_add(cl, 1, 9000, oom), 0);
	assert_int_equal(cardlines_add(cl, 1, 9000, link_down), 0);
	assert_int_equal(cardlines_get(cl, 1, 9000, &pbs), 2);
	assert_ptr_equal(pbs[0], oom);
	/* neighbours, other sources and far lines are untouched */
	assert_int_equal(cardlines_get(cl, 0, 6, &pbs), 0);
	assert_int_equal(cardlines_get(cl, 0, 8, &pbs), 0);
	assert_int_equal(cardlines_get(cl, 2, 7, &pbs), 0);
	assert_int_equal(cardlines_get(cl, 0, UINT64_C(1) << 50, &pbs), 0);
	assert_int_equal(cardlines_get(cl, -1, 7, &pbs), 0);
	assert_int_equal(cardlines_get(cl, APP_MAX_SOURCES, 7, &pbs), 0);
	assert_int_not_equal(cardlines_add(cl, APP_MAX_SOURCES, 7, oom), 0);
	/* three cards on one line */
	assert_int_equal(cardlines_add(cl, 0, 7, panic), 0);
	assert_int_equal(cardlines_get(cl, 0, 7, &pbs), 3);
	assert_int_equal(pb_playbook_severity(pbs[0]), PB_SEV_CRITICAL);
	assert_int_equal(pb_playbook_severity(pbs[1]), PB_SEV_CRITICAL);
	assert_ptr_equal(pbs[2], link_down);
	cardlines_free(cl);
	cardlines_free(NULL);
}

/*
 * A card seen on every one of 5 million lines costs two bytes a line
 * (10 MB), and lines far apart cost a page each, not the lines between.
 */
static void
test_a_busy_card_costs_two_bytes_a_line(void **state)
{
	struct cardlines *cl = cardlines_new();
	const struct pb_playbook *const *pbs;
	const uint64_t n = 5000000;
	size_t mem;

	(void)state;
	find_playbooks();
	assert_non_null(cl);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(cardlines_add(cl, 0, i, oom), 0);
	mem = cardlines_memory(cl);
	assert_true(mem >= 2 * n);
	assert_true(mem < 2 * n + 64 * 1024);
	assert_int_equal(cardlines_get(cl, 0, n - 1, &pbs), 1);
	assert_ptr_equal(pbs[0], oom);
	assert_int_equal(cardlines_get(cl, 0, n, &pbs), 0);
	/* sparse: one line in each of 100 far-apart pages */
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(cardlines_add(cl, 1, i * 1000000, panic), 0);
	/* 100 pages of 8 KB, and a page table of 8 bytes per 4096 lines
	 * (grown by doubling) */
	assert_true(cardlines_memory(cl) - mem < 100 * 8192 +
	    2 * 8 * (99000000 / 4096 + 1) + 4096);
	cardlines_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_keep_their_cards_worst_first),
		cmocka_unit_test(test_a_busy_card_costs_two_bytes_a_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
