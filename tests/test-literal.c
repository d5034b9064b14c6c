/*
 * test-literal.c - pb_literals (literal.c): the literal every match of a
 * pattern must contain, which the prefilter looks for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* The pattern yields exactly one literal, equal to `want`. */
static void
expect_one(const char *re, const char *want)
{
	struct pb_litset ls;
	const char *why = NULL;

	if (pb_literals(re, &ls, &why) != 0)
		fail_msg("pattern %s rejected: %s", re, why);
	assert_int_equal(ls.n, 1);
	assert_string_equal(ls.lit[0], want);
	assert_int_equal(ls.len[0], strlen(want));
	pb_litset_release(&ls);
}

/* The pattern is rejected with a reason containing `reason`. */
static void
expect_rejected(const char *re, const char *reason)
{
	struct pb_litset ls;
	const char *why = NULL;

	assert_int_equal(pb_literals(re, &ls, &why), PB_EINVAL);
	assert_non_null(why);
	if (strstr(why, reason) == NULL)
		fail_msg("pattern %s: reason \"%s\" lacks \"%s\"", re, why, reason);
	assert_int_equal(ls.n, 0);
}

static void
test_literals_simple_text_is_the_literal(void **state)
{
	(void)state;
	expect_one("Out of memory", "out of memory");
}

static void
test_literals_are_lowercased(void **state)
{
	(void)state;
	expect_one("KERNEL PANIC - Not Syncing", "kernel panic - not syncing");
}

static void
test_literals_longest_run_between_escapes_wins(void **state)
{
	(void)state;
	/* \S+ and \d+ break the run; the longest piece is kept. */
	expect_one("Failed password for \\S+ from \\d+", "failed password for ");
}

static void
test_literals_escaped_punctuation_is_literal(void **state)
{
	(void)state;
	expect_one("error\\[42\\] at \\(main\\)", "error[42] at (main)");
	expect_one("a\\.b\\.example\\.com", "a.b.example.com");
}

static void
test_literals_optional_group_dropped(void **state)
{
	(void)state;
	/* "invalid user " may be absent, so it cannot join the literal. */
	expect_one("Failed password for (invalid user )?root", "failed password for ");
	expect_one("Failed password for (?:invalid user )*root", "failed password for ");
	expect_one("Failed password for (?:invalid user ){0,1}root", "failed password for ");
}

static void
test_literals_required_group_joins_run(void **state)
{
	(void)state;
	expect_one("(?:Out of) memory", "out of memory");
}

static void
test_literals_optional_char_breaks_run(void **state)
{
	(void)state;
	/* "colour" and "color" share only "colo" and "r mismatch". */
	expect_one("colou?r mismatch", "r mismatch");
	expect_one("ab*cdef", "cdef");
}

static void
test_literals_repeated_char_ends_run(void **state)
{
	(void)state;
	/* "o+" matches "oo...", so the literal may include one 'o' and stop. */
	expect_one("No+ space", " space");
	expect_one("abc{2}defgh", "defgh");
}

static void
test_literals_top_level_alternation_one_per_branch(void **state)
{
	struct pb_litset ls;
	const char *why = NULL;

	(void)state;
	assert_int_equal(pb_literals("Disk Full|No space left|\\d+ quota exceeded",
	    &ls, &why), 0);
	assert_int_equal(ls.n, 3);
	assert_string_equal(ls.lit[0], "disk full");
	assert_string_equal(ls.lit[1], "no space left");
	assert_string_equal(ls.lit[2], " quota exceeded");
	pb_litset_release(&ls);
}

static void
test_literals_alternation_branch_without_literal_rejected(void **state)
{
	(void)state;
	expect_rejected("disk full|\\d+", "at least 3 characters");
}

static void
test_literals_alternation_inside_group_breaks(void **state)
{
	(void)state;
	expect_one("link (up|down) on eth", " on eth");
	expect_one("connection (?:reset|refused) by peer", "connection ");
}

static void
test_literals_class_breaks_run(void **state)
{
	(void)state;
	expect_one("[Ee]rror code", "rror code");
	expect_one("temp[0-9]+ too high", " too high");
	/* A ']' or '|' inside a class is not structure. */
	expect_one("x[]|]yz too hot", "yz too hot");
}

static void
test_literals_lookaround_not_part_of_literal(void **state)
{
	(void)state;
	/* The lookahead text is not consumed, so "abc" and "ghi" never join. */
	expect_one("abc(?=def)ghi", "abc");
	expect_one("(?<=user )root login", "root login");
	expect_one("(?!foo)barbaz", "barbaz");
}

static void
test_literals_quoted_sequence_is_literal(void **state)
{
	(void)state;
	expect_one("\\Q[x]*(y)\\E tail", "[x]*(y) tail");
}

static void
test_literals_named_group_content_counts(void **state)
{
	(void)state;
	expect_one("user (?<name>root) logged in", "user root logged in");
}

static void
test_literals_extended_mode_rejected(void **state)
{
	(void)state;
	/* In (?x) mode whitespace is not literal; refuse instead of guessing. */
	expect_rejected("(?x) out of memory", "(?x)");
	expect_rejected("(?ix:out of memory)", "(?x)");
}

static void
test_literals_no_three_char_literal_rejected(void **state)
{
	(void)state;
	expect_rejected("\\d+\\s+\\w+", "at least 3 characters");
	expect_rejected("ab.cd.ef", "at least 3 characters");
	expect_rejected("(?:foo)?(?:bar)?", "at least 3 characters");
	expect_rejected("[a-z]+", "at least 3 characters");
}

static void
test_literals_unbalanced_parenthesis_rejected(void **state)
{
	struct pb_litset ls;
	const char *why = NULL;

	(void)state;
	assert_int_equal(pb_literals("out of (memory", &ls, &why), PB_EINVAL);
	assert_non_null(why);
}

static void
test_literals_more_than_eight_alternatives_rejected(void **state)
{
	(void)state;
	expect_rejected("aaa|bbb|ccc|ddd|eee|fff|ggg|hhh|iii", "at most 8");
}

static void
test_literals_subroutine_calls_break_the_run(void **state)
{
	(void)state;
	/* (?P>w) matches "foo" again, not the text "w" */
	expect_one("(?<w>foo)(?P>w) barbaz", " barbaz");
	expect_one("xyz(?R)?abcd", "abcd");
	expect_one("(a)(?1)qwerty", "qwerty");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_subroutine_calls_break_the_run),
		cmocka_unit_test(test_literals_simple_text_is_the_literal),
		cmocka_unit_test(test_literals_are_lowercased),
		cmocka_unit_test(test_literals_longest_run_between_escapes_wins),
		cmocka_unit_test(test_literals_escaped_punctuation_is_literal),
		cmocka_unit_test(test_literals_optional_group_dropped),
		cmocka_unit_test(test_literals_required_group_joins_run),
		cmocka_unit_test(test_literals_optional_char_breaks_run),
		cmocka_unit_test(test_literals_repeated_char_ends_run),
		cmocka_unit_test(test_literals_top_level_alternation_one_per_branch),
		cmocka_unit_test(test_literals_alternation_branch_without_literal_rejected),
		cmocka_unit_test(test_literals_alternation_inside_group_breaks),
		cmocka_unit_test(test_literals_class_breaks_run),
		cmocka_unit_test(test_literals_lookaround_not_part_of_literal),
		cmocka_unit_test(test_literals_quoted_sequence_is_literal),
		cmocka_unit_test(test_literals_named_group_content_counts),
		cmocka_unit_test(test_literals_extended_mode_rejected),
		cmocka_unit_test(test_literals_no_three_char_literal_rejected),
		cmocka_unit_test(test_literals_unbalanced_parenthesis_rejected),
		cmocka_unit_test(test_literals_more_than_eight_alternatives_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
