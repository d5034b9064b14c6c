/*
 * screen-text.c - untrusted log bytes to display cells.
 *
 * Why: log text goes to a terminal.  An ESC or 8-bit CSI (0x9b) in a line
 * could move the cursor or rewrite earlier lines (rsyslog#1138); bidi
 * overrides can make a line read differently from what it holds; invalid
 * UTF-8 handed to waddnwstr could be mis-decoded.  Every byte becomes
 * either a printable character whose width wcwidth() vouches for, or a
 * visible escape like "\x1b" or "\u202e", so nothing is silently lost and
 * nothing reaches the terminal as a control.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../playbooks/playbook.h"
#include "app.h"

/* Lines longer than this are judged for severity on their head only. */
#define SEV_SCAN_MAX	512

/* Code points that must not reach the terminal as themselves. */
static int
dangerous(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || pb_cp_unsafe(cp) ||
	    cp == 0xfeff;				/* BOM mid-line */
}

/* The decoder shared by the cell and string outputs. */
struct sink {
	struct cell	*out;
	size_t		 max, n;	/* stored, and needed */
	uint32_t	*srcoff;
	size_t		 col;
	char		*str;		/* text_clean output, or NULL */
	size_t		 slen;
};

static void
put(struct sink *k, wchar_t wc, int width, int kind, size_t off)
{
	if (k->str != NULL) {
		/* text_clean writes UTF-8 whatever the locale */
		unsigned cp = (unsigned)wc;
		char mb[4];
		size_t l;

		if (cp < 0x80) {
			mb[0] = (char)cp;
			l = 1;
		} else if (cp < 0x800) {
			mb[0] = (char)(0xc0 | cp >> 6);
			mb[1] = (char)(0x80 | (cp & 0x3f));
			l = 2;
		} else if (cp < 0x10000) {
			mb[0] = (char)(0xe0 | cp >> 12);
			mb[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			mb[2] = (char)(0x80 | (cp & 0x3f));
			l = 3;
		} else {
			mb[0] = (char)(0xf0 | cp >> 18);
			mb[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			mb[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			mb[3] = (char)(0x80 | (cp & 0x3f));
			l = 4;
		}
		memcpy(k->str + k->slen, mb, l);
		k->slen += l;
		return;
	}
	if (width == 0) {
		/* a combining mark joins the previous cell */
		if (k->n > 0 && k->n <= k->max) {
			struct cell *c = &k->out[k->n - 1];
			if (c->wc[1] == 0)
				c->wc[1] = wc;
			else if (c->wc[2] == 0)
				c->wc[2] = wc;
		}
		return;
	}
	if (k->n < k->max) {
		struct cell *c = &k->out[k->n];
		c->wc[0] = wc;
		c->wc[1] = c->wc[2] = 0;
		c->width = (uint8_t)width;
		c->kind = (uint8_t)kind;
		if (k->srcoff != NULL)
			k->srcoff[k->n] = (uint32_t)off;
	}
	k->n++;
	k->col += (size_t)width;
}

/* "\xNN", "\uNNNN" or "\UNNNNNNNN" as escape cells. */
static void
put_escape(struct sink *k, char kind, unsigned v, size_t off)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "\\%c%0*x", kind,
	    kind == 'x' ? 2 : kind == 'u' ? 4 : 8, v);

	for (int i = 0; i < n; i++)
		put(k, (wchar_t)buf[i], 1, CK_ESCAPE, off);
}

static void
decode(struct sink *k, const char *str, size_t len, int use_wcwidth)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	unsigned cp;
	int w;

	while (i < len) {
		if (s[i] == '\t') {
			size_t to = TEXT_TABSTOP - k->col % TEXT_TABSTOP;
			for (size_t t = 0; t < to; t++)
				put(k, L' ', 1, CK_TEXT, i);
			i++;
			continue;
		}
		n = pb_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			put_escape(k, 'x', s[i], i);
			i++;
			continue;
		}
		if (dangerous(cp)) {
			if (cp < 0x80)
				put_escape(k, 'x', cp, i);
			else
				put_escape(k, 'u', cp, i);
			i += n;
			continue;
		}
		if (cp < 0x80)
			w = 1;
		else if (use_wcwidth)
			w = wcwidth((wchar_t)cp);
		else
			w = 1;
		if (w < 0 || w > 2 || (w == 0 && k->n == 0 && k->str == NULL)) {
			/* unprintable here (e.g. LANG=C), or a mark with
			 * nothing to sit on: show it escaped */
			put_escape(k, cp > 0xffff ? 'U' : 'u', cp, i);
			i += n;
			continue;
		}
		put(k, (wchar_t)cp, w, CK_TEXT, i);
		i += n;
	}
}

size_t
text_cells(const char *s, size_t len, struct cell *out, size_t max,
    uint32_t *srcoff)
{
	struct sink k = { out, max, 0, srcoff, 0, NULL, 0 };

	decode(&k, s, len, 1);
	return k.n;
}

size_t
text_width(const char *s, size_t len)
{
	struct sink k = { NULL, 0, 0, NULL, 0, NULL, 0 };

	decode(&k, s, len, 1);
	return k.col;
}

char *
text_clean(const char *s, size_t len)
{
	struct sink k = { NULL, 0, 0, NULL, 0, NULL, 0 };

	/* worst case: a byte becomes "\xNN" (4), a tab 8 spaces */
	if (len > (SIZE_MAX - 1) / 10)
		return NULL;
	if ((k.str = malloc(len * 10 + 1)) == NULL)
		return NULL;
	decode(&k, s, len, 0);
	k.str[k.slen] = '\0';
	return k.str;
}

/* The playbooks module's judgement (triage(1), UNKNOWN LINES), so
 * the log view colours what `triage analyze` counts as a warning. */
enum line_sev
text_severity(const char *s, size_t len)
{
	if (len > SEV_SCAN_MAX)
		len = SEV_SCAN_MAX;
	switch (pb_line_severity(s, len)) {
	case PB_SEV_CRITICAL:
	case PB_SEV_HIGH:
		return SEV_ERROR;
	case PB_SEV_MEDIUM:
		return SEV_WARN;
	case PB_SEV_LOW:	/* an info line that says "failed" */
	case PB_SEV_INFO:
		return SEV_INFO;
	case PB_LINE_DEBUG:
		return SEV_DEBUG;
	default:
		return SEV_NONE;
	}
}

size_t
text_fit(const char *s, size_t len, size_t cols)
{
	struct cell *c;
	uint32_t *off;
	size_t n, col = 0, cut = len;

	/* a cell is at least one column: cols + 1 cells show an overflow */
	c = app_xmalloc((cols + 1) * sizeof(*c));
	off = app_xmalloc((cols + 1) * sizeof(*off));
	n = text_cells(s, len, c, cols + 1, off);
	if (n > cols + 1)
		n = cols + 1;
	for (size_t i = 0; i < n; i++) {
		if (col + c[i].width > cols) {
			cut = off[i];
			break;
		}
		col += c[i].width;
	}
	free(c);
	free(off);
	return cut;
}

static bool
cell_space(const struct cell *c)
{
	return c->kind == CK_TEXT && c->wc[0] == L' ';
}

size_t
text_wrap(const struct cell *c, size_t n, size_t from, size_t cols,
    size_t *next)
{
	size_t i = from, col = 0, k, end;

	while (i < n && col + c[i].width <= cols)
		col += c[i++].width;
	if (i >= n) {
		*next = n;
		return n;
	}
	if (i == from) {	/* one cell wider than the line */
		*next = from + 1;
		return from + 1;
	}
	/* the last space at or before the first cell that does not fit */
	for (k = i + 1; k > from + 1 && !cell_space(&c[k - 1]); k--)
		;
	k--;
	if (k == from || !cell_space(&c[k])) {
		/* one word longer than the line: break it */
		*next = i;
		return i;
	}
	for (end = k; end > from && cell_space(&c[end - 1]); end--)
		;
	for (i = k; i < n && cell_space(&c[i]); i++)
		;
	*next = i;
	return end > from ? end : k;
}
