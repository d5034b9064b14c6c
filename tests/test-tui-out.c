/*
 * test-tui-out.c - the output gate (tui/out.c): every %s and %c argument
 * reaches the terminal escaped, whatever it holds, while colours, widths,
 * precisions and numbers come out as printf would print them; model text
 * streamed in pieces is escaped without breaking characters split between
 * pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <cmocka.h>

#include "tui.h"

/* Run one out_printf into memory and compare. */
static char *
capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
capture(const char *fmt, ...)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);
	va_list ap;

	assert_non_null(fp);
	va_start(ap, fmt);
	out_vprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	return buf;
}

#define EXPECT(want, ...) do {						\
	char *got_ = capture(__VA_ARGS__);				\
	assert_string_equal(got_, want);				\
	free(got_);							\
} while (0)

static void
test_string_arguments_are_escaped(void **state)
{
	(void)state;
	/* OSC 52 (clipboard), BEL, C1 CSI as UTF-8 and raw, bidi override */
	EXPECT("model: X\\x1b]52;c;SGk=\\x07 \\u009b \\x9b \\u202e.",
	    "model: %s.", "X\x1b]52;c;SGk=\x07 \xc2\x9b \x9b \xe2\x80\xae");
	/* zero-width characters, newline */
	EXPECT("a\\u200bb\\ufeff\\x0a", "%s", "a\xe2\x80\x8b" "b\xef\xbb\xbf\n");
	/* %c too */
	EXPECT("[\\x1b]", "[%c]", '\x1b');
	/* the format itself is program text and passes */
	EXPECT("\tline\n", "\t%s\n", "line");
}

static void
test_colours_pass_only_from_col(void **state)
{
	(void)state;
	out_colour = 1;
	EXPECT("\033[1mtitle\\x1b[1m\033[0m", "%s%s%s", col(C_BOLD),
	    "title\x1b[1m", col(C_RESET));
	/* the same bytes from elsewhere are escaped */
	EXPECT("\\x1b[1m", "%s", (char[]){ "\033[1m" });
	out_colour = 0;
	EXPECT("plain", "%s%s%s", col(C_BOLD), "plain", col(C_RESET));
}

static void
test_widths_and_precision(void **state)
{
	(void)state;
	EXPECT("ab    |", "%-6s|", "ab");
	EXPECT("    ab|", "%6s|", "ab");
	EXPECT("abc|", "%.3s|", "abcdef");
	EXPECT("ab|", "%.*s|", 2, "abcdef");
	EXPECT("  ab|", "%*s|", 4, "ab");
	EXPECT("ab  |", "%*s|", -4, "ab");
	/* precision cuts the raw bytes, escaping follows */
	EXPECT("a\\x1b|", "%.2s|", "a\x1b" "bc");
}

static void
test_numbers_print_as_printf(void **state)
{
	size_t z = 42;
	uint64_t u = UINT64_MAX;

	(void)state;
	EXPECT("-7 3.1 42 18446744073709551615 ff 100%",
	    "%d %.1f %zu %" PRIu64 " %x %d%%", -7, 3.14159, z, u, 255, 100);
	EXPECT("   12|12   |0012|", "%5d|%-5d|%04d|", 12, 12, 12);
	EXPECT("1e+06 -5 9", "%g %ld %lld", 1e6, -5L, 9LL);
	EXPECT("  7|7  |", "%*d|%*d|", 3, 7, -3, 7);
	EXPECT("[ 2.50]", "[%5.2f]", 2.5);
}

static char *
stream(const char *const *pieces)
{
	struct out_stream st = { .n = 0 };
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);

	assert_non_null(fp);
	for (; *pieces != NULL; pieces++)
		out_stream(fp, &st, *pieces, strlen(*pieces), 0);
	out_stream(fp, &st, "", 0, 1);
	fclose(fp);
	return buf;
}

static void
test_stream_keeps_split_characters_and_escapes(void **state)
{
	/* é and U+202E split across pieces, an ESC, newline and tab kept */
	static const char *const p1[] = { "caf\xc3", "\xa9 \xe2\x80", "\xae" "x\n",
	    "\x1b[2J\ty", NULL };
	/* a truncated sequence at the end is shown as bytes */
	static const char *const p2[] = { "ok\xe2\x80", NULL };
	char *s;

	(void)state;
	s = stream(p1);
	assert_string_equal(s, "caf\xc3\xa9 \\u202ex\n\\x1b[2J\ty");
	free(s);
	s = stream(p2);
	assert_string_equal(s, "ok\\xe2\\x80");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_arguments_are_escaped),
		cmocka_unit_test(test_colours_pass_only_from_col),
		cmocka_unit_test(test_widths_and_precision),
		cmocka_unit_test(test_numbers_print_as_printf),
		cmocka_unit_test(test_stream_keeps_split_characters_and_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
