/*
 * yank.c - y: copy the line in focus (a log line, a check's command, an
 * evidence line) out of the app.
 *
 * Two ways at once, since neither works everywhere: the text goes to the
 * terminal's clipboard with OSC 52 (xterm's "set selection"; tmux, kitty,
 * foot, WezTerm, iTerm2 and others honour it), and it is shown alone in a
 * full-width view with mouse reporting off, so the terminal's own
 * selection can pick it up.  What goes into OSC 52 is base64 of the
 * sanitized text, as shown on screen: never raw file bytes.
 */
#include <curses.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

/* Larger selections are refused by some terminals (xterm: 100 000). */
#define YANK_MAX	65536

char *
yank_base64(const char *s, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	if ((out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 |
		    (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

bool
yank_osc52_default(const char *term)
{
	/* The Linux console and dumb terminals print unknown OSC strings
	 * or worse; the xterm family and the multiplexers take them. */
	static const char *yes[] = { "xterm", "tmux", "screen", "foot",
	    "alacritty", "kitty", "wezterm", "rxvt", "st-", "vte", "konsole",
	    "contour", "ghostty" };

	if (term == NULL)
		return false;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strncmp(term, yes[i], strlen(yes[i])) == 0)
			return true;
	return false;
}

/* OSC 52 to the controlling terminal; 0, or -1 if it could not be sent. */
static int
osc52(const char *text)
{
	char *b = yank_base64(text, strlen(text));
	int fd = -1, rc = -1;
	size_t n;

	if (b == NULL)
		goto out;
	if ((fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0)
		goto out;
	n = strlen(b);
	if (write(fd, "\033]52;c;", 7) == 7 && write(fd, b, n) == (ssize_t)n &&
	    write(fd, "\a", 1) == 1)
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(b);
	return rc;
}

/* The text in focus, sanitized and malloc'd, and what it is; NULL if none. */
static char *
focused_text(struct app *a, const char **what)
{
	const struct dline *d;
	const char *file;
	uint64_t lineno;

	if (a->focus == PANE_LOG) {
		*what = "log line";
		return log_nrows(a) ? log_row_text(a, a->lv.cur, &file,
		    &lineno) : NULL;
	}
	if (a->focus != PANE_DETAIL || a->detail != DETAIL_CARD ||
	    a->dsel >= a->ndl)
		return NULL;
	d = &a->dl[a->dsel];
	*what = "text";
	if (d->item >= 0 && (strncmp(d->text, "[ ] ", 4) == 0 ||
	    strncmp(d->text, "[x] ", 4) == 0)) {
		/* a check: its command, the line that follows it with "$ " */
		for (size_t i = a->dsel + 1; i < a->ndl &&
		    a->dl[i].item == d->item; i++)
			if (strncmp(a->dl[i].text, "$ ", 2) == 0) {
				*what = "command";
				return text_clean(a->dl[i].text + 2,
				    strlen(a->dl[i].text + 2));
			}
	}
	if (strncmp(d->text, "$ ", 2) == 0) {
		*what = "command";
		return text_clean(d->text + 2, strlen(d->text + 2));
	}
	return text_clean(d->text, strlen(d->text));
}

void
app_yank(struct app *a)
{
	const char *what = "text";
	char *text = focused_text(a, &what), **lines = NULL, title[160];
	size_t n = 0, len, w = a->cols > 1 ? (size_t)a->cols : 80, off, k;
	bool sent = false;

	if (text == NULL) {
		app_message(a, false, "y copies the log line or the card line "
		    "in focus: nothing there");
		return;
	}
	len = strlen(text);
	if (len > YANK_MAX)
		text[len = text_fit(text, len, YANK_MAX)] = '\0';
	if (a->osc52)
		sent = osc52(text) == 0;
	/* shown alone, cut to the width (never mid-character), no gutter */
	lines = app_xmalloc((len + 1) * sizeof(*lines));
	for (off = 0; off < len || n == 0; off += k) {
		k = text_fit(text + off, len - off, w);
		if (k == 0 && off < len)
			k = 1;
		lines[n] = app_xmalloc(k + 1);
		memcpy(lines[n], text + off, k);
		lines[n][k] = '\0';
		n++;
		if (off + k >= len)
			break;
	}
	snprintf(title, sizeof(title), "%s copied%s; select it with the mouse, "
	    "q closes", what, sent ? " to the clipboard (OSC 52)" : "");
	pager_lines(a, title, lines, n);
	mousemask(0, NULL);	/* the terminal's own selection; see pager_close */
	app_message(a, false, "%s %s", what, sent ? "copied to the terminal "
	    "clipboard" : "shown for copying (clipboard = off)");
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(text);
}
