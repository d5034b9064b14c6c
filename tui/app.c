/*
 * app.c - the full-screen interface: one poll() loop, one redraw point.
 *
 * The loop waits on the terminal, a self-pipe that signal handlers write
 * to (SIGWINCH, SIGTERM, SIGHUP, SIGTSTP, SIGCONT), the engine's event fd
 * while the model generates, and a piped standard input.  Log files are
 * checked by name every FOLLOW_MS (tail -F) and indexed in slices of
 * WORK_MS between key presses, so a 1 GB file never blocks a key.  State
 * changes set dirty bits; the top of the loop draws once with
 * wnoutrefresh per window and one doupdate.
 *
 * Why the terminal is restored from a signal handler too: a crash or
 * SIGTERM must not leave a technician's only terminal in raw mode with
 * the alternate screen on.  The handler writes a precomputed reset string
 * and the saved termios (both async-signal-safe), then dies as it would
 * have.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../playbooks/playbook.h"
#include "app.h"
#include "tui.h"
#include "metrics.h"

/* Follow checks (stat by name, fstat size), as GNU tail -F. */
#define FOLLOW_MS	250
/* Indexing and matching per loop iteration before looking at keys. */
#define WORK_MS		8
/* Re-sort cards at most this often while lines stream in. */
#define CARDS_MS	300
/* Status messages fade after this long. */
#define MESSAGE_MS	6000
/* A paste larger than this is refused (it would not be a paste). */
#define PASTE_MAX	(64 * 1024 * 1024)

static struct app *the_app;
static int sigpipe_fd[2] = { -1, -1 };
static struct termios saved_tio;
static bool saved_tio_ok;
static int tty_fd = -1;
static int saved_stderr = -1;
static volatile sig_atomic_t curses_on;
/* What a crash handler writes: leave the alternate screen, show the
 * cursor, reset attributes, turn off mouse and bracketed paste. */
static const char reset_seq[] =
    "\033[?2004l\033[?1000l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";

/* ---- small helpers -------------------------------------------------------- */

double
app_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void *
app_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {	/* tui/ may exit on OOM for small UI allocations */
		if (curses_on)
			endwin();
		fputs("triage: out of memory\n", stderr);
		exit(EXIT_TROUBLE);
	}
	return p;
}

char *
app_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = app_xmalloc(n);

	memcpy(p, s, n);
	return p;
}

void
app_message(struct app *a, bool err, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	free(a->message);
	a->message = s;
	a->message_err = err;
	a->message_where = false;
	a->message_time = app_now();
	a->dirty |= D_STATUS;
}

/* ---- signals and the terminal ---------------------------------------------- */

static void
on_signal(int sig)
{
	int e = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sigpipe_fd[1], &c, 1) < 0) {
		/* full pipe: the loop is already awake */
	}
	errno = e;
}

static void
on_crash(int sig)
{
	if (curses_on && tty_fd >= 0) {
		if (write(tty_fd, reset_seq, sizeof(reset_seq) - 1) < 0) {
			/* nothing more can be done from here */
		}
		if (saved_tio_ok)
			tcsetattr(tty_fd, TCSAFLUSH, &saved_tio);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
restore_terminal(void)
{
	if (curses_on) {
		if (tty_fd >= 0 && write(tty_fd, "\033[?2004l", 8) < 0) {
			/* ignore */
		}
		endwin();
		curses_on = 0;
	}
}

static void
install_signals(void)
{
	static const int loop_sigs[] = { SIGWINCH, SIGTERM, SIGHUP, SIGINT,
	    SIGTSTP, SIGCONT, SIGQUIT };
	static const int crash_sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE,
	    SIGILL };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(loop_sigs) / sizeof(loop_sigs[0]); i++)
		sigaction(loop_sigs[i], &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++)
		sigaction(crash_sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
colours_init(struct app *a)
{
	const char *nc = getenv("NO_COLOR");

	a->colour = has_colors() && (nc == NULL || *nc == '\0');
	if (!a->colour)
		return;
	start_color();
	use_default_colors();
	/* Eight basic colours only: works on 8, 16 and 256-colour terminals. */
	init_pair(1, COLOR_RED, -1);
	init_pair(2, COLOR_YELLOW, -1);
	init_pair(3, COLOR_CYAN, -1);
	init_pair(4, COLOR_GREEN, -1);
	init_pair(5, COLOR_MAGENTA, -1);
	init_pair(6, COLOR_BLACK, COLOR_YELLOW);	/* search hit */
	init_pair(7, COLOR_WHITE, COLOR_BLUE);		/* bars */
	init_pair(8, COLOR_BLACK, COLOR_CYAN);		/* selection */
	init_pair(9, COLOR_BLACK, COLOR_GREEN);		/* focused pane header */
}

/*
 * Pane headers: the focused one has its own colour (reverse and bold
 * without colour) and a marker before its title, so focus does not rest
 * on boldness alone.  begin clears the line with the header's attribute;
 * the caller writes the title from column 0 (it starts with a space,
 * where end puts the marker).
 */
void
pane_header_begin(struct app *a, WINDOW *w, int width, bool focus)
{
	wattrset(w, !focus ? A_REVERSE : a->colour ? COLOR_PAIR(9) | A_BOLD :
	    A_REVERSE | A_BOLD);
	mvwhline(w, 0, 0, ' ', width);
}

void
pane_header_end(struct app *a, WINDOW *w, bool focus)
{
	(void)a;
	if (focus)
		mvwaddstr(w, 0, 0, "\xe2\x96\xb6");	/* U+25B6 */
	wattrset(w, A_NORMAL);
}

static int
term_start(struct app *a)
{
	FILE *in = stdin, *out = stdout;
	SCREEN *scr;

	/* With a pipe on stdin (triage - < log), keys come from the tty. */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			out_printf(stderr, "triage: the full-screen interface needs "
			    "a terminal (/dev/tty: %s)\n", strerror(errno));
			return -1;
		}
		in = fdopen(fd, "r");
		out = fdopen(dup(fd), "w");
		if (in == NULL || out == NULL)
			return -1;
	}
	tty_fd = fileno(in);
	if (tcgetattr(tty_fd, &saved_tio) == 0)
		saved_tio_ok = true;
	if ((scr = newterm(NULL, out, in)) == NULL) {
		out_printf(stderr, "triage: cannot use this terminal (TERM=%s)\n",
		    getenv("TERM") ? getenv("TERM") : "unset");
		return -1;
	}
	set_term(scr);
	curses_on = 1;
	raw();		/* Ctrl-C and Ctrl-Z arrive as keys; we decide */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	colours_init(a);
	mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	/* Bracketed paste: the terminal wraps a paste in these markers. */
	define_key("\033[200~", K_PASTE_BEGIN - 0x110000);
	define_key("\033[201~", K_PASTE_END - 0x110000);
	fputs("\033[?2004h", out);
	fflush(out);
	return 0;
}

/* ---- layout and drawing ---------------------------------------------------- */

static void
windows_free(struct app *a)
{
	WINDOW **all[] = { &a->win[0], &a->win[1], &a->win[2], &a->wtitle,
	    &a->wstatus, &a->wprompt, &a->wpager };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i] != NULL) {
			delwin(*all[i]);
			*all[i] = NULL;
		}
}

static WINDOW *
mkwin(const struct rect *r)
{
	if (r->h <= 0 || r->w <= 0)
		return NULL;
	return newwin(r->h, r->w, r->y, r->x);
}

static void
relayout(struct app *a)
{
	getmaxyx(stdscr, a->rows, a->cols);
	windows_free(a);
	layout_compute(a->rows, a->cols, a->zoom, &a->lay);
	if (!a->lay.too_small) {
		for (int i = 0; i < PANE_COUNT; i++)
			a->win[i] = mkwin(&a->lay.pane[i]);
		a->wtitle = mkwin(&a->lay.title);
		a->wstatus = mkwin(&a->lay.status);
		a->wprompt = mkwin(&a->lay.prompt);
		{
			struct rect r = { 0, 0, a->rows - 1, a->cols };
			a->wpager = mkwin(&r);
		}
		if (a->focus != a->zoom && a->zoom >= 0)
			a->focus = a->zoom;
	}
	a->dirty = D_ALL;
}

static void
draw_title(struct app *a)
{
	WINDOW *w = a->wtitle;
	char buf[512 + 4];	/* + an ellipsis */
	int n = 0;

	werase(w);
	wbkgdset(w, a->colour ? COLOR_PAIR(7) : A_REVERSE);
	werase(w);
	n += snprintf(buf + n, 512 - (size_t)n, " triage");
	for (int i = 0; i < a->nsrc && n < 512 - 40; i++) {
		char *clean = text_clean(a->src[i].name, strlen(a->src[i].name));
		n += snprintf(buf + n, 512 - (size_t)n, "%s%s%s",
		    i ? ", " : " - ", clean ? clean : "?",
		    lidx_following(a->src[i].ix) ? " (following)" : "");
		free(clean);
	}
	if (a->nsrc == 0)
		n += snprintf(buf + n, 512 - (size_t)n,
		    " - no log yet: paste one, or :open FILE");
	(void)n;
	{
		/* the help hint stays; the names give way, with an ellipsis */
		const char *right = "F1/? help  q quit ";
		int rw = (int)strlen(right), room = a->cols - rw - 1;
		size_t len = strlen(buf);

		if (room < 8) {
			room = a->cols;
			rw = 0;
		}
		if (text_width(buf, len) > (size_t)room) {
			size_t k = text_fit(buf, len, (size_t)room - 1);
			memcpy(buf + k, "\xe2\x80\xa6", 4);
		}
		mvwaddstr(w, 0, 0, buf);
		if (rw > 0)
			mvwaddstr(w, 0, a->cols - rw, right);
	}
	wnoutrefresh(w);
}

static void
draw_status(struct app *a)
{
	WINDOW *w = a->wstatus;
	char buf[1024], gen[256], idx[32] = "", imp[128];
	uint64_t size = 0, done = 0;
	int n;

	wbkgdset(w, a->colour ? COLOR_PAIR(7) : A_REVERSE);
	werase(w);
	for (int i = 0; i < a->nsrc; i++) {
		size += lidx_size(a->src[i].ix);
		done += lidx_indexed(a->src[i].ix);
	}
	if (done < size)
		snprintf(idx, sizeof(idx), " indexing %d%%",
		    (int)(done * 100 / size));
	assist_status(a, gen, sizeof(gen));
	import_status(a, imp, sizeof(imp));
	n = snprintf(buf, sizeof(buf), " %s%llu/%llu%s%s%s | %s%s",
	    a->lv.follow ? "FOLLOW " : "",
	    (unsigned long long)(log_nrows(a) ? a->lv.cur + 1 : 0),
	    (unsigned long long)log_nrows(a), idx,
	    a->lv.nfilters ? " filtered" : "",
	    a->lv.job != JOB_NONE ? " searching..." : "", gen, imp);
	mvwaddnstr(w, 0, 0, buf, a->cols);
	/* a message follows, bold if it reports a problem */
	if (a->message != NULL && app_now() - a->message_time < MESSAGE_MS &&
	    n + 4 < a->cols) {
		char *clean = text_clean(a->message, strlen(a->message));
		if (a->message_err)
			wattron(w, A_BOLD);
		waddstr(w, " | ");
		waddnstr(w, clean ? clean : "", a->cols - n - 4);
		wattroff(w, A_BOLD);
		free(clean);
	}
	wnoutrefresh(w);
}

static void
draw_pane_frame(struct app *a, int pane)
{
	/* the vertical divider in the wide layout */
	if (a->lay.wide && a->zoom < 0 && pane == PANE_LOG) {
		const struct rect *r = &a->lay.pane[PANE_LOG];
		for (int y = 0; y < r->h; y++)
			mvaddch(r->y + y, r->x + r->w, ACS_VLINE);
		wnoutrefresh(stdscr);
	}
}

static void
draw(struct app *a)
{
	if (a->dirty & D_LAYOUT) {
		erase();
		wnoutrefresh(stdscr);
	}
	if (a->lay.too_small) {
		char msg[128];

		erase();
		snprintf(msg, sizeof(msg), "triage needs at least %dx%d "
		    "(this is %dx%d)", LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS,
		    a->cols, a->rows);
		mvaddnstr(a->rows / 2, 0, msg, a->cols);
		wnoutrefresh(stdscr);
		doupdate();
		a->dirty = 0;
		return;
	}
	if (a->pager) {
		if (a->dirty & (D_PAGER | D_LAYOUT | D_LOG))
			pager_draw(a, a->wpager);
	} else if (a->import_on) {
		if (a->dirty & (D_PAGER | D_LAYOUT | D_CARDS | D_STATUS))
			import_draw(a, a->wpager);
	} else {
		if (a->dirty & (D_TITLE | D_LAYOUT))
			draw_title(a);
		if ((a->dirty & (D_LOG | D_LAYOUT)) && a->win[PANE_LOG]) {
			log_draw(a, a->win[PANE_LOG], &a->lay.pane[PANE_LOG]);
			draw_pane_frame(a, PANE_LOG);
		}
		if ((a->dirty & (D_CARDS | D_LAYOUT)) && a->win[PANE_CARDS])
			cards_draw(a, a->win[PANE_CARDS], &a->lay.pane[PANE_CARDS]);
		if ((a->dirty & (D_DETAIL | D_LAYOUT)) && a->win[PANE_DETAIL]) {
			if (a->detail == DETAIL_CARD)
				detail_draw(a, a->win[PANE_DETAIL],
				    &a->lay.pane[PANE_DETAIL]);
			else
				assist_draw(a, a->win[PANE_DETAIL],
				    &a->lay.pane[PANE_DETAIL]);
		}
	}
	if (a->dirty & (D_STATUS | D_LAYOUT | D_LOG))
		draw_status(a);
	/* the prompt last: it owns the cursor */
	prompt_draw(a, a->wprompt);
	doupdate();
	a->dirty = 0;
}

/* ---- sources and paste ------------------------------------------------------ */

/* NUL bytes in the head of a file, as `triage analyze` warns of them. */
static bool
looks_binary(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memchr(buf, '\0', (size_t)n) != NULL;
}

int
app_open_source(struct app *a, const char *path, bool follow, bool spool)
{
	struct source *s;
	struct stat st;
	char *cause = NULL;

	if (a->nsrc == APP_MAX_SOURCES) {
		app_message(a, true, "%s: at most %d files at once", path,
		    APP_MAX_SOURCES);
		return -1;
	}
	s = &a->src[a->nsrc];
	memset(s, 0, sizeof(*s));
	if (lidx_open(path, follow ? LIDX_OPEN_FOLLOW : 0, &s->ix, &cause) != 0) {
		app_message(a, true, "%s", cause ? cause : path);
		free(cause);
		return -1;
	}
	/* our own spool file is named for what it holds, here and in
	 * reports; a log by the name it was given */
	s->name = app_xstrdup(!spool ? path : a->stdin_fd >= 0 ?
	    "standard input" : "pasted text");
	if ((s->abspath = realpath(path, NULL)) == NULL)
		s->abspath = app_xstrdup(path);
	s->spool = spool;
	s->ref = stat(path, &st) == 0 ? (int64_t)st.st_mtime : time(NULL);
	if (!spool && looks_binary(path))
		app_message(a, true, "%s: contains NUL bytes (binary data?); "
		    "shown and matched as text", path);
	a->nsrc++;
	log_init(a);
	a->dirty |= D_ALL;
	return a->nsrc - 1;
}

/* The paste spool: a file in the session directory, followed like a log. */
static int
paste_spool(struct app *a)
{
	char *path;

	if (a->paste_src >= 0)
		return 0;
	if (a->session_dir == NULL) {
		app_message(a, true, "no session directory: cannot keep pasted "
		    "text (set HOME or XDG_DATA_HOME)");
		return -1;
	}
	if (asprintf(&path, "%s/pasted.log", a->session_dir) < 0)
		return -1;
	a->paste_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (a->paste_fd < 0) {
		app_message(a, true, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	a->paste_src = app_open_source(a, path, true, true);
	free(path);
	return a->paste_src >= 0 ? 0 : -1;
}

static void
paste_append(struct app *a, const char *text, size_t len)
{
	size_t lines = 0, off = 0;

	if (len == 0 || paste_spool(a) != 0)
		return;
	while (off < len) {
		ssize_t n = write(a->paste_fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			app_message(a, true, "pasted text: %s", strerror(errno));
			return;
		}
		off += (size_t)n;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (text[len - 1] != '\n') {
		if (write(a->paste_fd, "\n", 1) == 1)
			lines++;
	}
	/* make the index see it now rather than at the next tick */
	lidx_check(a->src[a->paste_src].ix);
	a->lv.follow = true;
	app_message(a, false, "pasted %zu line%s (kept with the session)",
	    lines, lines == 1 ? "" : "s");
	a->dirty |= D_LOG | D_TITLE;
}

static void
pbuf_add(struct app *a, const char *s, size_t n)
{
	if (a->plen + n > PASTE_MAX)
		return;
	if (a->plen + n + 1 > a->pcap) {
		size_t cap = a->pcap ? a->pcap : 4096;
		char *p;
		while (cap < a->plen + n + 1)
			cap *= 2;
		if ((p = realloc(a->pbuf, cap)) == NULL)
			return;
		a->pbuf = p;
		a->pcap = cap;
	}
	memcpy(a->pbuf + a->plen, s, n);
	a->plen += n;
	a->pbuf[a->plen] = '\0';
}

static void
pbuf_add_key(struct app *a, int key)
{
	char mb[8];
	int n;

	if (K_IS_FN(key)) {
		if (key == K_FN(KEY_ENTER))
			pbuf_add(a, "\n", 1);
		return;
	}
	/* CR LF, and CR CR from terminals that turn LF into CR, end one
	 * line; the state outlives the paste so a CR at the end of one
	 * chunk and the LF starting the next make no blank line. */
	if (key == '\r' || key == '\n') {
		bool second = a->paste_cr;
		a->paste_cr = key == '\r' && !second;
		if (second)
			return;
		key = '\n';
	} else
		a->paste_cr = false;
	if ((n = wctomb(mb, (wchar_t)key)) > 0)
		pbuf_add(a, mb, (size_t)n);
}

static void
paste_finish(struct app *a)
{
	bool multi = memchr(a->pbuf ? a->pbuf : "", '\n', a->plen) != NULL;

	if (a->plen == 0)
		return;
	if (a->pmode != PM_NONE && (!multi || (a->plen > 0 &&
	    memchr(a->pbuf, '\n', a->plen) == a->pbuf + a->plen - 1))) {
		/* one line into the prompt, not run line by line */
		if (a->pbuf[a->plen - 1] == '\n')
			a->pbuf[--a->plen] = '\0';
		prompt_insert(a, a->pbuf);
	} else
		paste_append(a, a->pbuf, a->plen);
	a->plen = 0;
}

/* A piped standard input is copied into the spool as it arrives. */
static void
read_stdin(struct app *a)
{
	char buf[65536];
	ssize_t n = read(a->stdin_fd, buf, sizeof(buf));

	if (n > 0) {
		if (paste_spool(a) == 0 &&
		    write(a->paste_fd, buf, (size_t)n) != n)
			app_message(a, true, "standard input: cannot keep it: %s",
			    strerror(errno));
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	a->stdin_fd = -1;	/* end of input */
}

/* ---- actions and keys ---------------------------------------------------- */

static void
suspend(struct app *a)
{
	if (tty_fd >= 0 && write(tty_fd, "\033[?2004l", 8) < 0) {
		/* ignore */
	}
	endwin();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	/* ... resumed */
	install_signals();
	if (tty_fd >= 0 && write(tty_fd, "\033[?2004h", 8) < 0) {
		/* ignore */
	}
	refresh();
	relayout(a);
}

static void
global_action(struct app *a, enum action act)
{
	switch (act) {
	case ACT_QUIT:
		a->quit = true;
		break;
	case ACT_HELP:
		pager_help(a);
		break;
	case ACT_MAN:
		if (a->focus != PANE_LOG && a->detail == DETAIL_CARD) {
			char *cause = NULL;
			if (pager_man(a, "triage-playbook", &cause) != 0) {
				app_message(a, true, "%s", cause ? cause : "");
				free(cause);
			}
		} else
			pager_help(a);
		break;
	case ACT_FOCUS_NEXT:
	case ACT_FOCUS_PREV:
		if (a->zoom >= 0) {
			a->zoom = (a->zoom + (act == ACT_FOCUS_NEXT ? 1 :
			    PANE_COUNT - 1)) % PANE_COUNT;
			a->focus = a->zoom;
			relayout(a);
		} else
			a->focus = (a->focus + (act == ACT_FOCUS_NEXT ? 1 :
			    PANE_COUNT - 1)) % PANE_COUNT;
		a->dirty |= D_ALL;
		break;
	case ACT_ZOOM:
		a->zoom = a->zoom >= 0 ? -1 : a->focus;
		relayout(a);
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		relayout(a);
		break;
	case ACT_SUSPEND:
		suspend(a);
		break;
	case ACT_COMMAND:
		prompt_open(a, PM_COMMAND, NULL);
		break;
	case ACT_SEARCH:
		prompt_open(a, PM_SEARCH, NULL);
		break;
	case ACT_ASK:
		prompt_open(a, PM_ASK, NULL);
		break;
	case ACT_MCARD:
		assist_card(a, NULL);
		break;
	case ACT_IMPORT_SCREEN:
		import_open(a, NULL);
		break;
	case ACT_PASTE_MODE:
		a->paste_mode = true;
		a->plen = 0;
		app_message(a, false, "paste mode: paste or type lines; Ctrl-D "
		    "adds them to the session, Esc cancels");
		break;
	case ACT_STOP:
		assist_stop(a);
		break;
	case ACT_INTERRUPT:
		app_message(a, false, "Ctrl-C does not quit: press q or type "
		    ":quit (Esc or Ctrl-C stops an answer)");
		break;
	case ACT_CLOSE:
		if (a->detail == DETAIL_CARD) {
			/* back to the list the card came from */
			a->detail = DETAIL_ASSIST;
			if (a->focus == PANE_DETAIL)
				a->focus = PANE_CARDS;
			a->dirty |= D_ALL;
		}
		break;
	case ACT_YANK:
		app_yank(a);
		break;
	default:
		break;
	}
}

/*
 * A key of another pane: the log's keys (e, w, n, f, ...) act on the log
 * from any pane, since it is always the view they are about; the others
 * say where they work.
 */
static void
other_pane_key(struct app *a, int key, unsigned pane)
{
	const struct binding *b = keys_other_pane(key, pane);
	char name[2] = { (char)key, '\0' };

	if (b == NULL)
		return;
	if ((b->ctx & KC_LOG) && keys_pane_action(b->action)) {
		log_action(a, b->action);
		a->dirty |= D_LOG | D_STATUS;
		return;
	}
	app_message(a, false, "%s (%s) works in the %s pane: Tab moves there",
	    key > ' ' && key < 127 ? name : b->keyname ? b->keyname : "that key",
	    b->help ? b->help : "",
	    b->ctx & KC_CARDS ? "cards" : b->ctx & KC_DETAIL ? "card" : "log");
}

static void
handle_key(struct app *a, int key)
{
	unsigned ctx;
	enum action act;

	if (key == K_PASTE_BEGIN) {
		a->pasting = true;
		a->plen = 0;
		return;
	}
	if (a->pasting) {
		if (key == K_PASTE_END) {
			a->pasting = false;
			paste_finish(a);
		} else
			pbuf_add_key(a, key);
		return;
	}
	if (a->paste_mode) {
		if (key == K_CTRL('d')) {
			a->paste_mode = false;
			if (a->plen > 0)
				paste_append(a, a->pbuf, a->plen);
			else
				app_message(a, false, "paste mode: nothing added");
			a->plen = 0;
		} else if (key == 27) {
			a->paste_mode = false;
			a->plen = 0;
			app_message(a, false, "paste mode: cancelled");
		} else
			pbuf_add_key(a, key);
		a->dirty |= D_STATUS;
		return;
	}
	/* a key between two pastes: a CR pending from the first one no
	 * longer pairs with an LF starting the next */
	a->paste_cr = false;
	if (a->pmode != PM_NONE) {
		/* Ctrl-C still stops an answer while the prompt is open */
		if (key == K_CTRL('c') && assist_running(a)) {
			assist_stop(a);
			return;
		}
		prompt_key(a, key);
		return;
	}
	if (a->pager) {
		ctx = KC_PAGER | (assist_running(a) ? KC_GEN : 0);
		act = keys_lookup(key, ctx);
		if (act == ACT_SEARCH)
			prompt_open(a, PM_SEARCH, NULL);
		else if (act == ACT_HELP || act == ACT_MAN)
			pager_help(a);
		else if (act == ACT_REDRAW || act == ACT_SUSPEND || act == ACT_STOP)
			global_action(a, act);
		else
			pager_action(a, act);
		return;
	}
	if (a->import_on) {
		ctx = KC_IMPORT | (assist_running(a) ? KC_GEN : 0);
		act = keys_lookup(key, ctx);
		if (act == ACT_COMMAND || act == ACT_REDRAW ||
		    act == ACT_SUSPEND || act == ACT_STOP)
			global_action(a, act);
		else
			import_action(a, act);
		return;
	}
	ctx = KC_GLOBAL | (assist_running(a) ? KC_GEN : 0) |
	    (a->focus == PANE_LOG ? KC_LOG : a->focus == PANE_CARDS ?
	    KC_CARDS : KC_DETAIL);
	act = keys_lookup(key, ctx);
	if (act == ACT_NONE) {
		other_pane_key(a, key, ctx & (KC_LOG | KC_CARDS | KC_DETAIL));
		return;
	}
	if (act == ACT_QUIT && assist_running(a)) {
		app_message(a, false, "the model is answering: Esc stops it, "
		    "then q quits");
		return;
	}
	if (keys_pane_action(act)) {
		if (a->focus == PANE_LOG)
			log_action(a, act);
		else if (a->focus == PANE_CARDS)
			cards_action(a, act);
		else
			detail_action(a, act);
		return;
	}
	global_action(a, act);
}

static void
handle_mouse(struct app *a)
{
	MEVENT ev;

	if (getmouse(&ev) != OK)
		return;
	/* the wheel scrolls the pane under the pointer */
	for (int i = 0; i < PANE_COUNT; i++) {
		const struct rect *r = &a->lay.pane[i];
		if (ev.y >= r->y && ev.y < r->y + r->h && ev.x >= r->x &&
		    ev.x < r->x + r->w && !a->pager && !a->import_on) {
			a->focus = i;
			a->dirty |= D_ALL;
		}
	}
	if (ev.bstate & BUTTON4_PRESSED)
		for (int i = 0; i < 3; i++)
			handle_key(a, K_WHEEL_UP);
	else if (ev.bstate & BUTTON5_PRESSED)
		for (int i = 0; i < 3; i++)
			handle_key(a, K_WHEEL_DOWN);
}

static void
read_keys(struct app *a)
{
	wint_t wc;
	int r, n = 0;

	while ((r = get_wch(&wc)) != ERR) {
		if (r == KEY_CODE_YES) {
			if (wc == KEY_RESIZE) {
				relayout(a);
				continue;
			}
			if (wc == KEY_MOUSE) {
				handle_mouse(a);
				continue;
			}
			handle_key(a, K_FN((int)wc));
		} else
			handle_key(a, (int)wc);
		/* a big paste: let the screen breathe every few thousand keys */
		if (++n > 200000)
			break;
	}
}

static void
handle_signals(struct app *a)
{
	unsigned char sig[64];
	ssize_t n = read(sigpipe_fd[0], sig, sizeof(sig));

	for (ssize_t i = 0; i < n; i++) {
		switch (sig[i]) {
		case SIGWINCH:
			/* curses learns the size from KEY_RESIZE; be sure */
			endwin();
			refresh();
			relayout(a);
			break;
		case SIGTSTP:
			suspend(a);
			break;
		case SIGCONT:
			relayout(a);
			break;
		case SIGINT:
			if (assist_running(a))
				assist_stop(a);
			break;
		default:	/* SIGTERM, SIGHUP, SIGQUIT: leave cleanly */
			a->quit = true;
			break;
		}
	}
}

/* ---- commands -------------------------------------------------------------- */

static char *
skipws(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

void
app_command(struct app *a, const char *line)
{
	char *buf = app_xstrdup(line), *cmd, *arg, *p;

	cmd = skipws(buf);
	if (*cmd == ':')
		cmd++;
	for (p = cmd; *p && *p != ' ' && *p != '\t'; p++)
		;
	if (*p) {
		*p++ = '\0';
		arg = skipws(p);
	} else
		arg = p;
	for (p = arg + strlen(arg); p > arg && (p[-1] == ' ' || p[-1] == '\t');)
		*--p = '\0';
	if (*cmd == '\0')
		goto out;
	if (strcmp(cmd, "q") == 0 || strcmp(cmd, "quit") == 0) {
		if (assist_running(a))
			assist_stop(a);
		a->quit = true;
	} else if (strcmp(cmd, "open") == 0 || strcmp(cmd, "follow") == 0) {
		if (*arg == '\0')
			app_message(a, true, ":%s FILE", cmd);
		else if (app_open_source(a, arg, cmd[0] == 'f', false) >= 0) {
			app_message(a, false, "%s %s", cmd[0] == 'f' ?
			    "following" : "opened", arg);
			if (cmd[0] == 'f')
				a->lv.follow = true;
		}
	} else if (strcmp(cmd, "filter") == 0 || strcmp(cmd, "filter-in") == 0 ||
	    strcmp(cmd, "filter-out") == 0) {
		char *cause = NULL;
		if (*arg == '\0') {
			log_clear_filters(a);
			app_message(a, false, "filters cleared");
		} else if (log_add_filter(a, arg, strcmp(cmd, "filter-out") == 0,
		    &cause) != 0) {
			app_message(a, true, "%s", cause ? cause : "bad filter");
			free(cause);
		} else
			app_message(a, false, "%s: %s", cmd, arg);
	} else if (strcmp(cmd, "search") == 0) {
		if (a->pager)
			pager_search(a, arg, 1);
		else
			log_set_search(a, arg, 1);
	} else if (strcmp(cmd, "export") == 0) {
		char *cause = NULL;
		if (*arg == '\0')
			app_message(a, true, ":export FILE (.json for JSON, else "
			    "Markdown)");
		else if (session_export(a, arg, &cause) != 0) {
			app_message(a, true, "%s", cause ? cause : arg);
			free(cause);
		} else
			app_message(a, false, "exported the report to %s", arg);
	} else if (strcmp(cmd, "model") == 0) {
		if (*arg == '\0') {
			app_message(a, false, "model: %s", a->model_path ?
			    a->model_path : "none (:model FILE, or import a "
			    "model bundle)");
		} else if (assist_running(a) || a->model_switching)
			app_message(a, true, "the model is busy; stop the answer "
			    "first (Esc)");
		else if (assist_load(a, arg) == 0) {
			/* a model chosen by hand stays when bundles change */
			a->model_pinned = true;
			free(a->model_bundle);
			a->model_bundle = NULL;
			app_message(a, false, "model loaded: %s", arg);
		}
	} else if (strcmp(cmd, "import") == 0) {
		import_open(a, *arg ? arg : NULL);
	} else if (strcmp(cmd, "man") == 0) {
		char *cause = NULL;
		if (pager_man(a, *arg ? arg : "triage", &cause) != 0) {
			app_message(a, true, "%s", cause ? cause : "no manual");
			free(cause);
		}
	} else if (strcmp(cmd, "help") == 0) {
		pager_help(a);
	} else if (strcmp(cmd, "ask") == 0) {
		if (*arg)
			assist_ask(a, arg);
		else
			prompt_open(a, PM_ASK, NULL);
	} else if (strcmp(cmd, "think") == 0) {
		assist_think(a, arg);
	} else if (strcmp(cmd, "explain") == 0) {
		assist_card(a, arg);
	} else if (strcmp(cmd, "note") == 0) {
		char **v = realloc(a->notes, (a->nnotes + 1) * sizeof(*v));
		if (v != NULL && *arg) {
			a->notes = v;
			a->notes[a->nnotes++] = app_xstrdup(arg);
			app_message(a, false, "note added (%zu)", a->nnotes);
			session_save(a);
		}
	} else if (strcmp(cmd, "sessions") == 0) {
		session_command(a, arg);
	} else if (strcmp(cmd, "paste") == 0) {
		global_action(a, ACT_PASTE_MODE);
	} else if (strcmp(cmd, "wrap") == 0) {
		log_action(a, ACT_WRAP);
	} else if (strcmp(cmd, "files") == 0) {
		log_files(a);
	} else if (strcmp(cmd, "show") == 0) {
		log_show(a, arg);
	} else if (strcmp(cmd, "goto") == 0 || (*cmd >= '0' && *cmd <= '9')) {
		const char *num = *cmd >= '0' && *cmd <= '9' ? cmd : arg;
		char *end;
		unsigned long long v = strtoull(num, &end, 10);
		if (*end != '\0' || v == 0)	/* a time: 08:13, a date */
			log_goto_time(a, num);
		else if (a->nsrc > 0)
			log_goto(a, a->src[0].name, v);
	} else
		app_message(a, true, "unknown command :%s (try :help)", cmd);
out:
	free(buf);
	a->dirty |= D_ALL;
}

/* ---- the loop -------------------------------------------------------------- */

static int
loop(struct app *a)
{
	double next_check = 0, now;

	while (!a->quit) {
		struct pollfd pfd[5];
		int nfd = 0, timeout, work = 0, gfd, ifd = -1, bfd;

		if (a->dirty)
			draw(a);
		pfd[nfd++] = (struct pollfd){ tty_fd, POLLIN, 0 };
		pfd[nfd++] = (struct pollfd){ sigpipe_fd[0], POLLIN, 0 };
		if ((gfd = assist_fd(a)) >= 0)
			pfd[nfd++] = (struct pollfd){ gfd, POLLIN, 0 };
		if ((bfd = import_fd(a)) >= 0)
			pfd[nfd++] = (struct pollfd){ bfd, POLLIN, 0 };
		if (a->stdin_fd >= 0) {
			ifd = nfd;
			pfd[nfd++] = (struct pollfd){ a->stdin_fd, POLLIN, 0 };
		}
		now = app_now();
		timeout = next_check > now ? (int)(next_check - now) + 1 : 0;
		if (a->message != NULL && now - a->message_time < MESSAGE_MS &&
		    timeout > MESSAGE_MS)
			timeout = MESSAGE_MS;
		if (a->lv.job != JOB_NONE || a->cards_stale)
			timeout = timeout < 50 ? timeout : 50;
		{
			static int pending;
			if (pending)
				timeout = 0;
			if (poll(pfd, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
				return -1;
			if (pfd[1].revents & POLLIN)
				handle_signals(a);
			if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
				assist_pause(a);	/* keys first */
				read_keys(a);
			}
			/* the terminal went away: a hung-up tty also reports
			 * POLLIN forever, so POLLIN must not keep us looping */
			if (pfd[0].revents & (POLLHUP | POLLERR))
				a->quit = true;
			assist_events(a);	/* and background prefill */
			if (bfd >= 0)
				import_events(a);
			import_poll(a);
			if (ifd >= 0 && (pfd[ifd].revents & (POLLIN | POLLHUP)))
				read_stdin(a);
			now = app_now();
			if (now >= next_check) {
				log_check_follow(a);
				next_check = now + FOLLOW_MS;
				if (a->message != NULL &&
				    now - a->message_time >= MESSAGE_MS) {
					free(a->message);
					a->message = NULL;
					a->dirty |= D_STATUS;
				}
			}
			work = log_work(a, WORK_MS);
			if (cards_rematch(a, WORK_MS))
				work = 1;
			if (a->cards_stale && (!work ||
			    app_now() - a->cards_time > CARDS_MS)) {
				cards_refresh(a);
				a->cards_time = app_now();
			}
			pending = work;
		}
	}
	return 0;
}

/* ---- start and end ----------------------------------------------------------- */

static void
app_free(struct app *a)
{
	import_free(a);
	assist_free(a);
	log_free(a);
	for (int i = 0; i < a->nsrc; i++) {
		lidx_free(a->src[i].ix);
		free(a->src[i].name);
		free(a->src[i].abspath);
	}
	for (size_t i = 0; i < a->nmissing; i++)
		free(a->missing[i].path);
	free(a->missing);
	free(a->sessions_root);
	cardlines_free(a->cl);
	cardlines_free(a->cl_next);
	free(a->session_id);
	pb_analysis_free(a->an);
	pb_library_free(a->lib);
	pb_analysis_free(a->an_next);
	pb_library_free(a->lib_next);
	for (size_t i = 0; i < a->nticks; i++)
		free(a->ticks[i].card);
	free(a->ticks);
	for (size_t i = 0; i < a->ndl; i++)
		free(a->dl[i].text);
	free(a->dl);
	for (size_t i = 0; i < a->nnotes; i++)
		free(a->notes[i]);
	free(a->notes);
	pager_close(a);
	free(a->open_card);
	free(a->session_dir);
	free(a->message);
	free(a->pbuf);
	free(a->pg_pattern);
	free(a->model_path);
	free(a->model_error);
	free(a->model_bundle);
	free(a->budget);
	free(a->hist_path);
	if (a->paste_fd >= 0)
		close(a->paste_fd);
}

static void
diag_quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void
exit_restore(void)
{
	restore_terminal();
}

int
app_run(const struct app_opts *o, char **next)
{
	struct app a;
	struct config cfg;
	struct pb_options po;
	char *cause = NULL;
	int rc = EXIT_TROUBLE;

	memset(&a, 0, sizeof(a));
	a.zoom = -1;
	a.paste_src = -1;
	a.paste_fd = -1;
	a.stdin_fd = -1;
	a.afollow = true;
	a.lv.direct = true;
	the_app = &a;
	if (pipe(sigpipe_fd) != 0)
		return EXIT_TROUBLE;
	fcntl(sigpipe_fd[0], F_SETFL, O_NONBLOCK);
	fcntl(sigpipe_fd[1], F_SETFL, O_NONBLOCK);
	fcntl(sigpipe_fd[0], F_SETFD, FD_CLOEXEC);
	fcntl(sigpipe_fd[1], F_SETFD, FD_CLOEXEC);

	/* the playbook library and a matcher that stays open */
	if (pb_library_new(&a.lib) != 0)
		goto out;
	(void)library_default(a.lib, diag_quiet, NULL);
	pb_options_init(&po);
	if (pb_analysis_new(a.lib, &po, &a.an) != 0)
		goto out;
	(void)cards_attach(&a);		/* without memory: no gutter marks */

	config_load(&cfg);
	a.retention = cfg.retention;
	assist_set_kv(cfg.kv);
	assist_set_timeout(cfg.answer_timeout);
	/* clipboard = auto: on where the terminal likely takes OSC 52 */
	a.osc52 = cfg.clipboard < 0 ? yank_osc52_default(getenv("TERM")) :
	    cfg.clipboard == 1;
	a.sessions_root = sessions_root(o->session_dir);
	if (o->resume) {
		if (session_pick(&a, o->resume_id, &cause) != 0 ||
		    session_load(&a, &cause) != 0) {
			out_printf(stderr, "triage: --resume: %s\n", cause ? cause :
			    "no saved session");
			free(cause);
			goto out;
		}
	} else if (a.sessions_root != NULL) {
		const char *first = o->nfiles == 0 ? NULL :
		    strcmp(o->files[0], "-") == 0 ? "stdin" : o->files[0];
		a.session_dir = sessions_new(a.sessions_root, first ? first :
		    "pasted", time(NULL), &a.session_id);
	}
	metrics_count("sessions", NULL, NULL, 1);
	/* old sessions go by the retention setting (triage(1), SESSIONS) */
	if (a.sessions_root != NULL)
		(void)sessions_expire(a.sessions_root, a.retention,
		    a.session_id);
	(void)ask_conversation_expire(a.retention);	/* `triage ask`'s */
	for (int i = 0; i < o->nfiles; i++) {
		if (strcmp(o->files[i], "-") == 0) {
			a.stdin_fd = STDIN_FILENO;
			fcntl(STDIN_FILENO, F_SETFL, O_NONBLOCK);
			if (paste_spool(&a) != 0) {
				out_printf(stderr, "triage: -: %s\n", a.message ?
				    a.message : "cannot keep standard input");
				goto out;
			}
			continue;
		}
		if (app_open_source(&a, o->files[i], o->follow, false) < 0) {
			out_printf(stderr, "triage: %s\n", a.message);
			goto out;
		}
	}
	if (o->follow)
		a.lv.follow = true;
	if (o->model != NULL) {
		free(a.model_path);	/* --model wins over the session's */
		a.model_path = app_xstrdup(o->model);
		a.model_pinned = true;
	}

	install_signals();
	if (term_start(&a) != 0)
		goto out;
	/* Library chatter on stderr would scribble over the screen: keep it
	 * in the session directory while curses owns the terminal. */
	if (a.session_dir != NULL) {
		char *p;
		int fd;
		if (asprintf(&p, "%s/stderr.log", a.session_dir) >= 0) {
			fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd >= 0) {
				saved_stderr = dup(STDERR_FILENO);
				dup2(fd, STDERR_FILENO);
				close(fd);
			}
			free(p);
		}
	}
	atexit(exit_restore);
	prompt_init(&a);
	relayout(&a);
	if (a.nsrc == 0 && a.stdin_fd < 0 && a.message == NULL)
		app_message(&a, false, "paste a log (or P for paste mode), "
		    ":open FILE, or ? for help");
	rc = loop(&a) == 0 ? 0 : EXIT_TROUBLE;
	metrics_cards(a.an);	/* the cards this run raised */
	session_save(&a);
	if (a.switch_to != NULL && rc == 0) {
		*next = a.switch_to;
		a.switch_to = NULL;
		rc = APP_SWITCH;
	}
	prompt_end(&a);
	restore_terminal();
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
out:
	session_end(&a);
	app_free(&a);
	the_app = NULL;
	close(sigpipe_fd[0]);
	close(sigpipe_fd[1]);
	sigpipe_fd[0] = sigpipe_fd[1] = -1;
	return rc;
}

bool
app_wants(const char *arg)
{
	static const char *const cmds[] = { "analyze", "playbook", "model",
	    "ask", "bundle", "keys", "help", NULL };
	static const char *const opts[] = { "-", "-f", "--follow", "--resume",
	    "--model", "--session", NULL };

	for (size_t i = 0; cmds[i] != NULL; i++)
		if (strcmp(arg, cmds[i]) == 0)
			return false;
	for (size_t i = 0; opts[i] != NULL; i++)
		if (strcmp(arg, opts[i]) == 0 || (strncmp(arg, opts[i],
		    strlen(opts[i])) == 0 && arg[strlen(opts[i])] == '='))
			return true;
	if (arg[0] == '-')
		return false;
	/* a file; a bare word that is no file is a mistyped command */
	return access(arg, F_OK) == 0 || strchr(arg, '/') != NULL ||
	    strchr(arg, '.') != NULL;
}

int
app_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "resume", optional_argument, NULL, 'r' },
		{ "model", required_argument, NULL, 'm' },
		{ "session", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct app_opts o;
	char *sw = NULL;	/* the session :sessions switched to */
	int ch;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+f", lo, NULL)) != -1) {
		switch (ch) {
		case 'f': o.follow = true; break;
		case 'r': o.resume = true; o.resume_id = optarg; break;
		case 'm': o.model = optarg; break;
		case 's': o.session_dir = optarg; break;
		default: return -1;
		}
	}
	o.files = argv + optind;
	o.nfiles = argc - optind;
	if (o.model == NULL && getenv("TRIAGE_MODEL") != NULL &&
	    *getenv("TRIAGE_MODEL") != '\0')
		o.model = getenv("TRIAGE_MODEL");
	if (o.resume_id != NULL && strcmp(o.resume_id, "list") == 0)
		return session_print_list(o.session_dir);
	for (;;) {
		char *next = NULL;
		int rc = app_run(&o, &next);

		free(sw);
		sw = next;
		if (rc != APP_SWITCH) {
			free(sw);
			return rc;
		}
		/* :sessions ID: the same program on the chosen session */
		o.resume = true;
		o.resume_id = sw;
		o.nfiles = 0;
	}
}
