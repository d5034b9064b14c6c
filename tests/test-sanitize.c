/*
 * test-sanitize.c - pb_sanitize (sanitize.c): untrusted log bytes become
 * printable UTF-8, with anything dangerous shown as a visible escape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "playbook.h"

/* Sanitize len bytes of in and compare with want. */
static void
expect_n(const char *in, size_t len, const char *want)
{
	char *out = pb_sanitize(in, len);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

#define EXPECT(in, want) expect_n((in), sizeof(in) - 1, (want))

static void
test_sanitize_plain_ascii_unchanged(void **state)
{
	(void)state;
	EXPECT("Jun 14 15:16:01 host sshd[1]: Accepted password for bob",
	    "Jun 14 15:16:01 host sshd[1]: Accepted password for bob");
	EXPECT("", "");
}

static void
test_sanitize_escape_sequence_made_visible(void **state)
{
	(void)state;
	/* An ESC that could recolour or clear the terminal. */
	EXPECT("a\x1b[31mred\x1b[0m\x1b]0;title\x07", "a\\x1b[31mred\\x1b[0m\\x1b]0;title\\x07");
	EXPECT("\x1b[2J", "\\x1b[2J");
}

static void
test_sanitize_c0_controls_and_del_escaped(void **state)
{
	(void)state;
	EXPECT("a\rb\nc\bd\x7f", "a\\x0db\\x0ac\\x08d\\x7f");
}

static void
test_sanitize_c1_csi_escaped(void **state)
{
	(void)state;
	/* U+009B (8-bit CSI) and U+0085 (NEL), encoded as valid UTF-8. */
	EXPECT("x\xc2\x9b" "2Jy", "x\\u009b2Jy");
	EXPECT("line\xc2\x85next", "line\\u0085next");
	/* A raw 0x9b byte is not UTF-8 at all. */
	EXPECT("x\x9b" "2J", "x\\x9b2J");
}

static void
test_sanitize_bidi_override_escaped(void **state)
{
	(void)state;
	/* U+202E RIGHT-TO-LEFT OVERRIDE would make "gnp.exe" read "exe.png". */
	EXPECT("file \xe2\x80\xae" "gnp.exe", "file \\u202egnp.exe");
	/* U+2066..U+2069 isolates and U+200F RLM too. */
	EXPECT("\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f", "\\u2066x\\u2069\\u200f");
}

static void
test_sanitize_zero_width_escaped(void **state)
{
	(void)state;
	/* U+200B..U+200D, U+2060 word joiner, U+FEFF BOM: invisible text. */
	EXPECT("a\xe2\x80\x8b" "b\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf",
	    "a\\u200bb\\u200d\\u2060\\ufeff");
}

static void
test_sanitize_line_separators_escaped(void **state)
{
	(void)state;
	EXPECT("one\xe2\x80\xa8two\xe2\x80\xa9three", "one\\u2028two\\u2029three");
}

static void
test_sanitize_overlong_encoding_escaped(void **state)
{
	(void)state;
	/* C0 80: an overlong NUL, a classic filter bypass. */
	EXPECT("a\xc0\x80" "b", "a\\xc0\\x80b");
	EXPECT("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	EXPECT("\xf0\x82\x82\xac", "\\xf0\\x82\\x82\\xac");
}

static void
test_sanitize_surrogate_escaped(void **state)
{
	(void)state;
	EXPECT("\xed\xa0\x80", "\\xed\\xa0\\x80");
}

static void
test_sanitize_truncated_sequence_escaped(void **state)
{
	(void)state;
	/* Euro sign cut short at the end, and in the middle of a line. */
	EXPECT("price \xe2\x82", "price \\xe2\\x82");
	EXPECT("\xe2\x82" "A", "\\xe2\\x82A");
	EXPECT("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
}

static void
test_sanitize_out_of_range_lead_bytes_escaped(void **state)
{
	(void)state;
	EXPECT("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	EXPECT("\xff\xfe", "\\xff\\xfe");
	/* Above U+10FFFF. */
	EXPECT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
}

static void
test_sanitize_nul_escaped_not_truncating(void **state)
{
	(void)state;
	EXPECT("a\0b", "a\\x00b");
}

static void
test_sanitize_valid_multibyte_kept(void **state)
{
	(void)state;
	EXPECT("caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80");
	/* U+00A0 is just above C1 and is printable. */
	EXPECT("\xc2\xa0", "\xc2\xa0");
}

static void
test_sanitize_tab_becomes_space(void **state)
{
	(void)state;
	EXPECT("key\tvalue\t", "key value ");
}

static void
test_sanitize_respects_length(void **state)
{
	(void)state;
	expect_n("abcdef", 3, "abc");
}

/* No byte of the output may be a control character. */
static void
test_sanitize_output_has_no_control_bytes_for_any_byte(void **state)
{
	char in[256], *out;

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	out = pb_sanitize(in, sizeof(in));
	assert_non_null(out);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("control byte 0x%02x in output", *p);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_plain_ascii_unchanged),
		cmocka_unit_test(test_sanitize_escape_sequence_made_visible),
		cmocka_unit_test(test_sanitize_c0_controls_and_del_escaped),
		cmocka_unit_test(test_sanitize_c1_csi_escaped),
		cmocka_unit_test(test_sanitize_bidi_override_escaped),
		cmocka_unit_test(test_sanitize_zero_width_escaped),
		cmocka_unit_test(test_sanitize_line_separators_escaped),
		cmocka_unit_test(test_sanitize_overlong_encoding_escaped),
		cmocka_unit_test(test_sanitize_surrogate_escaped),
		cmocka_unit_test(test_sanitize_truncated_sequence_escaped),
		cmocka_unit_test(test_sanitize_out_of_range_lead_bytes_escaped),
		cmocka_unit_test(test_sanitize_nul_escaped_not_truncating),
		cmocka_unit_test(test_sanitize_valid_multibyte_kept),
		cmocka_unit_test(test_sanitize_tab_becomes_space),
		cmocka_unit_test(test_sanitize_respects_length),
		cmocka_unit_test(test_sanitize_output_has_no_control_bytes_for_any_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
