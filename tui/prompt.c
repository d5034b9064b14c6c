/*
 * prompt.c - the prompt line: GNU readline in callback mode inside the
 * curses loop.
 *
 * Readline never touches the terminal here: rl_getc_function hands it the
 * bytes of keys curses already read, rl_redisplay_function only marks the
 * prompt dirty, and the terminal preparation hooks do nothing.  So emacs
 * keys, history and ~/.inputrc work while curses keeps the screen.  Keys
 * curses decoded (arrows, Home, Delete) are turned back into the ANSI
 * sequences readline binds by default.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "app.h"
#include "tui.h"

/* Lines of history kept in $XDG_DATA_HOME/triage/history. */
#define HISTORY_MAX	1000
/* Bytes waiting for readline (one key's worth, or a pasted line). */
#define QUEUE_MAX	65536

static struct app *pa;
static unsigned char queue[QUEUE_MAX];
static size_t qhead, qlen;
static FILE *devnull;
static bool installed;

static const char *const commands[] = {
	"open", "follow", "filter", "filter-in", "filter-out", "search",
	"export", "model", "import", "man", "help", "quit", "ask", "note",
	"paste", "wrap", "goto", "sessions", "explain", "think", NULL
};
static const char *const pages[] = {
	"triage", "triage-playbook", "triage-bundle", "triage-model", NULL
};

static int
rl_getc_cb(FILE *fp)
{
	(void)fp;
	if (qlen == 0)
		return EOF;	/* never happens: we call only with bytes queued */
	qlen--;
	return queue[qhead++ % QUEUE_MAX];
}

/* Readline asks before batching typeahead: only what we queued counts,
 * never bytes still waiting on the terminal (curses reads those). */
static int
rl_avail_cb(void)
{
	return qlen > 0;
}

static void
rl_redisplay_cb(void)
{
	if (pa != NULL)
		pa->dirty |= D_PROMPT;
}

static void
rl_noprep(int meta)
{
	(void)meta;
}

static void
rl_nodeprep(void)
{
}

static void
close_prompt(struct app *a)
{
	if (installed) {
		rl_callback_handler_remove();
		installed = false;
	}
	a->pmode = PM_NONE;
	a->dirty |= D_PROMPT | D_STATUS;
}

static void
on_line(char *line)
{
	struct app *a = pa;
	enum prompt_mode m = a->pmode;

	close_prompt(a);
	if (line == NULL)
		return;		/* Ctrl-D on an empty line: cancel */
	if (*line != '\0')
		add_history(line);	/* one history for every mode */
	switch (m) {
	case PM_COMMAND:
		app_command(a, line);
		break;
	case PM_SEARCH:
		if (a->pager)
			pager_search(a, line, 1);
		else
			log_set_search(a, line, 1);
		break;
	case PM_ASK:
		if (*line)
			assist_ask(a, line);
		break;
	case PM_FILTER: {
		char *cause = NULL;
		if (*line && log_add_filter(a, line, false, &cause) != 0) {
			app_message(a, true, "%s", cause ? cause : "bad filter");
			free(cause);
		}
		break;
	}
	default:
		break;
	}
	free(line);
}

/* ---- completion ------------------------------------------------------------- */

static const char *const *cands;

static char *
gen_word(const char *text, int state)
{
	static size_t i, len;

	if (state == 0) {
		i = 0;
		len = strlen(text);
	}
	while (cands[i] != NULL) {
		const char *w = cands[i++];
		if (strncmp(w, text, len) == 0)
			return strdup(w);
	}
	return NULL;
}

static char **
complete(const char *text, int start, int end)
{
	char cmd[32];
	size_t n;
	const char *p = rl_line_buffer;

	(void)end;
	if (pa == NULL || pa->pmode != PM_COMMAND) {
		rl_attempted_completion_over = 1;
		return NULL;
	}
	while (*p == ' ' || *p == ':')
		p++;
	if (start <= (int)(p - rl_line_buffer)) {
		cands = commands;
		rl_attempted_completion_over = 1;
		return rl_completion_matches(text, gen_word);
	}
	n = strcspn(p, " ");
	if (n >= sizeof(cmd))
		n = sizeof(cmd) - 1;
	memcpy(cmd, p, n);
	cmd[n] = '\0';
	if (strcmp(cmd, "man") == 0) {
		cands = pages;
		rl_attempted_completion_over = 1;
		return rl_completion_matches(text, gen_word);
	}
	if (strcmp(cmd, "open") == 0 || strcmp(cmd, "follow") == 0 ||
	    strcmp(cmd, "export") == 0 || strcmp(cmd, "import") == 0 ||
	    strcmp(cmd, "model") == 0)
		return NULL;	/* readline's file name completion */
	rl_attempted_completion_over = 1;
	return NULL;
}

/* Several matches: list them in the status bar, not on the terminal. */
static void
show_matches(char **matches, int num, int max)
{
	char buf[512];
	size_t off = 0;

	(void)max;
	for (int i = 1; i <= num && off + 2 < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s ",
		    matches[i]);
	if (off >= sizeof(buf))
		off = sizeof(buf) - 1;
	buf[off] = '\0';
	app_message(pa, false, "%s", buf);
}

/* ---- setup ------------------------------------------------------------------ */

int
prompt_init(struct app *a)
{
	char *dir = path_data_dir();

	pa = a;
	devnull = fopen("/dev/null", "w");
	rl_readline_name = "triage";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = rl_noprep;
	rl_deprep_term_function = rl_nodeprep;
	rl_getc_function = rl_getc_cb;
	rl_redisplay_function = rl_redisplay_cb;
	rl_input_available_hook = rl_avail_cb;
	rl_outstream = devnull;
	rl_attempted_completion_function = complete;
	rl_completion_display_matches_hook = show_matches;
	rl_initialize();	/* reads ~/.inputrc */
	rl_variable_bind("enable-bracketed-paste", "off");
	rl_variable_bind("horizontal-scroll-mode", "on");
	using_history();
	stifle_history(HISTORY_MAX);
	if (dir != NULL && asprintf(&a->hist_path, "%s/history", dir) >= 0)
		read_history(a->hist_path);
	free(dir);
	return 0;
}

void
prompt_end(struct app *a)
{
	if (installed)
		rl_callback_handler_remove();
	installed = false;
	if (a->hist_path != NULL) {
		char *dir = strdup(a->hist_path), *slash;
		if (dir != NULL && (slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			(void)mkdir(dir, 0700);
		}
		free(dir);
		write_history(a->hist_path);
	}
	if (devnull != NULL)
		fclose(devnull);
	devnull = NULL;
	pa = NULL;
}

static const char *
prompt_text(enum prompt_mode m)
{
	switch (m) {
	case PM_COMMAND: return ":";
	case PM_SEARCH: return "/";
	case PM_ASK: return "ask: ";
	case PM_FILTER: return "filter: ";
	default: return "";
	}
}

void
prompt_open(struct app *a, enum prompt_mode m, const char *initial)
{
	if (installed)
		rl_callback_handler_remove();
	a->pmode = m;
	rl_callback_handler_install(prompt_text(m), on_line);
	installed = true;
	if (initial != NULL)
		rl_insert_text(initial);
	a->dirty |= D_PROMPT;
}

static void
feed(const char *bytes, size_t n)
{
	for (size_t i = 0; i < n && qlen < QUEUE_MAX; i++) {
		queue[(qhead + qlen) % QUEUE_MAX] = (unsigned char)bytes[i];
		qlen++;
	}
	/* readline may close the prompt (Enter) with bytes still queued:
	 * those belong to nobody and are dropped */
	while (qlen > 0 && installed)
		rl_callback_read_char();
	qlen = 0;
}

void
prompt_insert(struct app *a, const char *text)
{
	if (!installed)
		return;
	/* a pasted line goes in as text: never run line by line */
	for (const char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			return;
	rl_insert_text(text);
	a->dirty |= D_PROMPT;
}

void
prompt_key(struct app *a, int key)
{
	char mb[8];
	const char *seq = NULL;
	int n;

	if (key == 27 || key == K_CTRL('c') || key == K_CTRL('g')) {
		close_prompt(a);	/* cancel */
		return;
	}
	if (K_IS_FN(key)) {
		switch (key - 0x110000) {
		case KEY_LEFT: seq = "\033[D"; break;
		case KEY_RIGHT: seq = "\033[C"; break;
		case KEY_UP: seq = "\033[A"; break;
		case KEY_DOWN: seq = "\033[B"; break;
		case KEY_HOME: seq = "\033[H"; break;
		case KEY_END: seq = "\033[F"; break;
		case KEY_DC: seq = "\004"; break;
		case KEY_BACKSPACE: seq = "\177"; break;
		case KEY_ENTER: seq = "\r"; break;
		default: return;
		}
		feed(seq, strlen(seq));
		return;
	}
	if (key == K_CTRL('d') && rl_end > 0) {
		feed("\004", 1);	/* delete-char, not end of input */
		return;
	}
	if (key < 0x80) {
		mb[0] = (char)key;
		feed(mb, 1);
		return;
	}
	if ((n = wctomb(mb, (wchar_t)key)) > 0)
		feed(mb, (size_t)n);
}

void
prompt_draw(struct app *a, WINDOW *w)
{
	const char *pt;
	size_t before, plen;
	int width, x0, cur;

	if (w == NULL)
		return;
	getmaxyx(w, cur, width);
	werase(w);
	if (a->pmode == PM_NONE || !installed) {
		if (a->paste_mode) {
			char buf[128];
			snprintf(buf, sizeof(buf), "-- PASTE MODE -- %zu bytes so "
			    "far; Ctrl-D adds them, Esc cancels", a->plen);
			wattron(w, A_BOLD);
			mvwaddnstr(w, 0, 0, buf, width);
			wattroff(w, A_BOLD);
		}
		curs_set(0);
		wnoutrefresh(w);
		return;
	}
	pt = prompt_text(a->pmode);
	plen = strlen(pt);
	mvwaddstr(w, 0, 0, pt);
	x0 = (int)plen;
	/* columns before the cursor; scroll so the cursor stays in view */
	before = text_width(rl_line_buffer, (size_t)rl_point);
	{
		size_t len = strlen(rl_line_buffer), skip = 0, col = 0, from = 0;
		struct cell c[1024];
		size_t nc = text_cells(rl_line_buffer, len, c, 1024, NULL);
		int avail = width - x0 - 1;

		if (nc > 1024)
			nc = 1024;
		if (avail < 1)
			avail = 1;
		if (before >= (size_t)avail)
			skip = before - (size_t)avail + 1;
		while (from < nc && col + c[from].width <= skip)
			col += c[from++].width;
		skip = col;
		col = 0;
		for (size_t i = from; i < nc && col + c[i].width <= (size_t)avail; i++) {
			cchar_t cc;
			if (setcchar(&cc, c[i].wc, 0, 0, NULL) == OK)
				mvwadd_wch(w, 0, x0 + (int)col, &cc);
			col += c[i].width;
		}
		cur = x0 + (int)(before - skip);
	}
	curs_set(1);
	wmove(w, 0, cur < width ? cur : width - 1);
	wnoutrefresh(w);
}
