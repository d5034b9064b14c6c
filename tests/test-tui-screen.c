/*
 * test-tui-screen.c - the pure parts of the screen: display cells from
 * hostile log bytes (tui/screen-text.c), pane geometry at every size
 * (tui/screen-layout.c) and the key table (tui/keys.c).
 */
#include <curses.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"

/* The cells as a plain string, escapes included, for comparison. */
static const char *
shown(const char *s, size_t len, size_t *cols)
{
	static char out[4096];
	struct cell c[1024];
	size_t n = text_cells(s, len, c, 1024, NULL), o = 0;

	*cols = 0;
	for (size_t i = 0; i < n && i < 1024; i++) {
		for (int k = 0; k < 3 && c[i].wc[k]; k++) {
			int m = wctomb(out + o, c[i].wc[k]);
			if (m > 0)
				o += (size_t)m;
		}
		*cols += c[i].width;
	}
	out[o] = '\0';
	return out;
}

static void
test_text_plain_ascii(void **state)
{
	size_t cols;

	(void)state;
	assert_string_equal(shown("hello", 5, &cols), "hello");
	assert_int_equal(cols, 5);
}

static void
test_text_escape_sequences_neutralized(void **state)
{
	/* rsyslog#1138: CSI that would clear the screen; OSC that retitles;
	 * 8-bit CSI; lone CR; backspace; DEL */
	const char in[] = "a\033[2Jb\033]0;pwn\007c\xc2\x9b" "31md\re\bf\x7fg";
	size_t cols;
	const char *s = shown(in, sizeof(in) - 1, &cols);

	(void)state;
	assert_null(strchr(s, '\033'));
	assert_null(strchr(s, '\r'));
	assert_null(strchr(s, '\b'));
	assert_null(strchr(s, '\007'));
	assert_null(strstr(s, "\xc2\x9b"));
	assert_non_null(strstr(s, "\\x1b[2J"));
	assert_non_null(strstr(s, "\\u009b"));
	assert_non_null(strstr(s, "\\x0d"));
	assert_non_null(strstr(s, "\\x7f"));
	/* every cell is one column: nothing invisible */
	assert_int_equal(cols, strlen(s));
}

static void
test_text_bidi_and_separators_escaped(void **state)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2028 LINE SEPARATOR */
	const char in[] = "user \xe2\x80\xae" "nimda\xe2\x80\xa8x";
	size_t cols;
	const char *s = shown(in, sizeof(in) - 1, &cols);

	(void)state;
	assert_non_null(strstr(s, "\\u202e"));
	assert_non_null(strstr(s, "\\u2028"));
	assert_null(strstr(s, "\xe2\x80\xae"));
}

static void
test_text_invalid_utf8_escaped(void **state)
{
	/* overlong '/', a surrogate, a 5-byte form, a cut sequence */
	const char in[] = "a\xc0\xaf" "b\xed\xa0\x80" "c\xf8\x88\x80\x80\x80" "d\xe2\x82";
	size_t cols;
	const char *s = shown(in, sizeof(in) - 1, &cols);

	(void)state;
	assert_non_null(strstr(s, "\\xc0\\xaf"));
	assert_non_null(strstr(s, "\\xed\\xa0\\x80"));
	assert_non_null(strstr(s, "\\xf8"));
	assert_non_null(strstr(s, "d\\xe2\\x82"));
}

static void
test_text_wide_and_combining_widths(void **state)
{
	struct cell c[16];
	size_t n;

	(void)state;
	/* CJK is two columns; e + U+0301 is one cell of one column */
	assert_int_equal(text_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4);
	n = text_cells("e\xcc\x81x", 4, c, 16, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].wc[0], L'e');
	assert_int_equal(c[0].wc[1], 0x301);
	assert_int_equal(c[0].width, 1);
	/* a mark with nothing to sit on is shown, not lost */
	n = text_cells("\xcc\x81", 2, c, 16, NULL);
	assert_true(n > 1);
	assert_int_equal(c[0].kind, CK_ESCAPE);
}

static void
test_text_tabs_expand_to_stops(void **state)
{
	size_t cols;

	(void)state;
	assert_string_equal(shown("ab\tc", 4, &cols), "ab      c");
	assert_int_equal(cols, TEXT_TABSTOP + 1);
}

static void
test_text_cells_counts_past_max(void **state)
{
	struct cell c[4];
	uint32_t off[4];

	(void)state;
	/* the return value is the full need, so callers can clip safely */
	assert_int_equal(text_cells("abcdefgh", 8, c, 4, off), 8);
	assert_int_equal(off[3], 3);
}

static void
test_text_clean_is_valid_printable(void **state)
{
	char *s = text_clean("ok\033[31m\xff\n", 9);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "ok\\x1b[31m\\xff\\x0a");
	free(s);
}

static void
test_text_severity_words(void **state)
{
	(void)state;
	assert_int_equal(text_severity("kernel: I/O error, dev sda", 26), SEV_ERROR);
	assert_int_equal(text_severity("app: WARNING low disk", 21), SEV_WARN);
	/* the playbooks module's judgement: a failure phrase is a warning,
	 * an explicit level decides (triage(1), UNKNOWN LINES) */
	assert_int_equal(text_severity("sshd: Failed password", 21), SEV_WARN);
	assert_int_equal(text_severity("2024-06-14 10:00:00 INFO retry failed",
	    37), SEV_INFO);
	assert_int_equal(text_severity("<11>app: x", 10), SEV_ERROR);
	assert_int_equal(text_severity("opened /var/log/error.log", 25),
	    SEV_NONE);
	/* inside a word is not a keyword: "terror", "errand" */
	assert_int_equal(text_severity("the terror errand", 17), SEV_NONE);
	assert_int_equal(text_severity("<info> link up", 14), SEV_INFO);
}

static void
test_layout_every_size_fits(void **state)
{
	struct layout l;

	(void)state;
	for (int rows = 0; rows <= 80; rows += 1)
		for (int cols = 0; cols <= 260; cols += 3) {
			layout_compute(rows, cols, -1, &l);
			if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
				assert_true(l.too_small);
				continue;
			}
			assert_false(l.too_small);
			for (int p = 0; p < PANE_COUNT; p++) {
				struct rect *r = &l.pane[p];
				assert_true(r->h >= 3 && r->w >= 20);
				assert_true(r->y >= 1 && r->y + r->h <= rows - 2);
				assert_true(r->x >= 0 && r->x + r->w <= cols);
				for (int q = p + 1; q < PANE_COUNT; q++) {
					struct rect *o = &l.pane[q];
					bool apart = r->x + r->w <= o->x ||
					    o->x + o->w <= r->x ||
					    r->y + r->h <= o->y || o->y + o->h <= r->y;
					assert_true(apart);
				}
			}
			assert_int_equal(l.status.y, rows - 2);
			assert_int_equal(l.prompt.y, rows - 1);
		}
}

static void
test_layout_zoom_and_wide(void **state)
{
	struct layout l;

	(void)state;
	layout_compute(24, 80, PANE_CARDS, &l);
	assert_int_equal(l.pane[PANE_CARDS].w, 80);
	assert_int_equal(l.pane[PANE_LOG].h, 0);
	layout_compute(50, 200, -1, &l);
	assert_true(l.wide);
	/* the log gets the left side, full height */
	assert_int_equal(l.pane[PANE_LOG].x, 0);
	assert_int_equal(l.pane[PANE_LOG].h, 50 - 3);
	layout_compute(23, 80, -1, &l);
	assert_true(l.too_small);
	layout_compute(24, 79, -1, &l);
	assert_true(l.too_small);
}

/* Wrap `s` at `cols` and join the screen lines with '|'. */
static const char *
wrapped(const char *s, size_t cols)
{
	static char out[4096];
	struct cell c[1024];
	size_t n = text_cells(s, strlen(s), c, 1024, NULL), from = 0, o = 0;

	while (from < n) {
		size_t next, end = text_wrap(c, n, from, cols, &next);
		if (o)
			out[o++] = '|';
		for (size_t i = from; i < end; i++) {
			int m = wctomb(out + o, c[i].wc[0]);
			if (m > 0)
				o += (size_t)m;
		}
		assert_true(next > from);
		from = next;
	}
	out[o] = '\0';
	return out;
}

static void
test_text_wrap_at_spaces(void **state)
{
	(void)state;
	/* words are not cut; no continuation line starts with a space */
	assert_string_equal(wrapped("could not write file today", 12),
	    "could not|write file|today");
	assert_string_equal(wrapped("PANIC:  cannot   open", 8),
	    "PANIC:|cannot|open");
	/* a space right at the edge */
	assert_string_equal(wrapped("abcd efgh", 4), "abcd|efgh");
	/* only a word longer than the line is broken */
	assert_string_equal(wrapped("see averyveryverylongword now", 8),
	    "see|averyver|yverylon|gword|now");
	assert_string_equal(wrapped("fits", 10), "fits");
	/* leading indentation of the first line is kept */
	assert_string_equal(wrapped("  ab cd", 5), "  ab|cd");
}

static void
test_text_fit_cuts_at_columns(void **state)
{
	(void)state;
	assert_int_equal(text_fit("hello world", 11, 5), 5);
	assert_int_equal(text_fit("hello", 5, 10), 5);
	/* a wide character is not split: 2 columns each */
	assert_int_equal(text_fit("\xe6\x97\xa5\xe6\x9c\xac", 6, 3), 3);
	/* an escape shown as \x1b (4 cells) is not split either */
	assert_int_equal(text_fit("a\033b", 3, 3), 1);
}

static void
test_keys_esc_closes_from_every_pane(void **state)
{
	(void)state;
	/* Esc closes the card from the list and the log too, and is
	 * handled globally rather than by the focused pane */
	assert_int_equal(keys_lookup(27, KC_GLOBAL | KC_CARDS), ACT_CLOSE);
	assert_int_equal(keys_lookup(27, KC_GLOBAL | KC_LOG), ACT_CLOSE);
	assert_false(keys_pane_action(ACT_CLOSE));
	assert_false(keys_pane_action(ACT_QUIT));
	assert_true(keys_pane_action(ACT_OPEN));
	assert_true(keys_pane_action(ACT_TICK));
	assert_true(keys_pane_action(ACT_DOWN));
}

static void
test_keys_context_wins(void **state)
{
	(void)state;
	/* q quits from a view, closes the pager */
	assert_int_equal(keys_lookup('q', KC_GLOBAL | KC_LOG), ACT_QUIT);
	assert_int_equal(keys_lookup('q', KC_PAGER), ACT_CLOSE);
	/* Ctrl-C never quits; while the model runs it stops the answer */
	assert_int_equal(keys_lookup(K_CTRL('c'), KC_GLOBAL | KC_LOG),
	    ACT_INTERRUPT);
	assert_int_equal(keys_lookup(K_CTRL('c'), KC_GLOBAL | KC_LOG | KC_GEN),
	    ACT_STOP);
	assert_int_equal(keys_lookup(27, KC_GLOBAL | KC_DETAIL | KC_GEN),
	    ACT_STOP);
	assert_int_equal(keys_lookup(27, KC_GLOBAL | KC_DETAIL), ACT_CLOSE);
	/* e is "next error" in the log only */
	assert_int_equal(keys_lookup('e', KC_GLOBAL | KC_LOG), ACT_NEXT_ERR);
	assert_int_equal(keys_lookup('e', KC_GLOBAL | KC_CARDS), ACT_NONE);
	assert_int_equal(keys_lookup(K_FN(KEY_DOWN), KC_GLOBAL | KC_CARDS),
	    ACT_DOWN);
	assert_int_equal(keys_lookup('\r', KC_GLOBAL | KC_CARDS), ACT_OPEN);
	/* the pager does not fall through to global keys like : or a */
	assert_int_equal(keys_lookup(':', KC_PAGER), ACT_NONE);
	assert_int_equal(keys_lookup('a', KC_GLOBAL | KC_LOG), ACT_ASK);
}

static void
test_keys_import_screen(void **state)
{
	(void)state;
	/* I opens it from any pane */
	assert_int_equal(keys_lookup('I', KC_GLOBAL | KC_LOG), ACT_IMPORT_SCREEN);
	assert_int_equal(keys_lookup('I', KC_GLOBAL | KC_CARDS),
	    ACT_IMPORT_SCREEN);
	/* inside it: its own meanings for keys the log uses otherwise */
	assert_int_equal(keys_lookup('r', KC_GLOBAL | KC_LOG), ACT_WRAP);
	assert_int_equal(keys_lookup('r', KC_IMPORT), ACT_ROLLBACK);
	assert_int_equal(keys_lookup('\r', KC_IMPORT), ACT_OPEN);
	assert_int_equal(keys_lookup('D', KC_IMPORT), ACT_IMPORT_FORCE);
	assert_int_equal(keys_lookup('y', KC_IMPORT), ACT_CONFIRM);
	assert_int_equal(keys_lookup('s', KC_IMPORT), ACT_RESCAN);
	assert_int_equal(keys_lookup(K_FN(KEY_DOWN), KC_IMPORT), ACT_DOWN);
	assert_int_equal(keys_lookup('G', KC_IMPORT), ACT_BOTTOM);
	/* q closes it rather than quitting; : still opens the prompt */
	assert_int_equal(keys_lookup('q', KC_IMPORT), ACT_CLOSE);
	assert_int_equal(keys_lookup(27, KC_IMPORT), ACT_CLOSE);
	assert_int_equal(keys_lookup(':', KC_IMPORT), ACT_COMMAND);
	/* it does not fall through to the views' keys */
	assert_int_equal(keys_lookup('a', KC_IMPORT), ACT_NONE);
	assert_int_equal(keys_lookup('e', KC_IMPORT), ACT_NONE);
	/* while the model answers, Esc stops it there too */
	assert_int_equal(keys_lookup(27, KC_IMPORT | KC_GEN), ACT_STOP);
	/* outside it y copies (log, card), and means nothing in the list */
	assert_int_equal(keys_lookup('y', KC_GLOBAL | KC_LOG), ACT_YANK);
	assert_int_equal(keys_lookup('y', KC_GLOBAL | KC_DETAIL), ACT_YANK);
	assert_int_equal(keys_lookup('y', KC_GLOBAL | KC_CARDS), ACT_NONE);
}

static void
test_keys_help_lists_every_action(void **state)
{
	char **v = keys_help_lines();
	size_t n, k;
	const struct binding *t = keys_table(&n);

	(void)state;
	assert_non_null(v);
	/* every key with help text appears, by name, in the help */
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		if (t[i].help == NULL)
			continue;
		for (k = 0; v[k] != NULL; k++)
			if (strstr(v[k], t[i].help) != NULL &&
			    strstr(v[k], t[i].keyname) != NULL)
				found = true;
		if (!found)
			fail_msg("help misses %s: %s", t[i].keyname, t[i].help);
	}
	/* aliases share a line: "Down, j, wheel" */
	for (k = 0; v[k] != NULL; k++)
		if (strstr(v[k], "next line") != NULL)
			break;
	assert_non_null(v[k]);
	assert_non_null(strstr(v[k], "Down, j"));
	/* the import screen has its own group */
	for (k = 0; v[k] != NULL; k++)
		if (strstr(v[k], "Import screen") != NULL)
			break;
	assert_non_null(v[k]);
	keys_strv_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_plain_ascii),
		cmocka_unit_test(test_text_escape_sequences_neutralized),
		cmocka_unit_test(test_text_bidi_and_separators_escaped),
		cmocka_unit_test(test_text_invalid_utf8_escaped),
		cmocka_unit_test(test_text_wide_and_combining_widths),
		cmocka_unit_test(test_text_tabs_expand_to_stops),
		cmocka_unit_test(test_text_cells_counts_past_max),
		cmocka_unit_test(test_text_clean_is_valid_printable),
		cmocka_unit_test(test_text_severity_words),
		cmocka_unit_test(test_layout_every_size_fits),
		cmocka_unit_test(test_layout_zoom_and_wide),
		cmocka_unit_test(test_text_wrap_at_spaces),
		cmocka_unit_test(test_text_fit_cuts_at_columns),
		cmocka_unit_test(test_keys_esc_closes_from_every_pane),
		cmocka_unit_test(test_keys_context_wins),
		cmocka_unit_test(test_keys_import_screen),
		cmocka_unit_test(test_keys_help_lists_every_action),
	};

	/* widths need a UTF-8 locale; C.UTF-8 is always there on Debian */
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		setlocale(LC_ALL, "");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
