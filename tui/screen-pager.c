/*
 * screen-pager.c - a full-screen reader for help (made from the key
 * table) and for triage's own man pages, rendered by mandoc(1) into
 * overstruck text ("c\bc" bold, "_\bc" underlined) that we draw with
 * curses attributes.  Scrolls and searches like the log view.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"

/* A rendered page larger than this is cut (ours are ~100 KB). */
#define PAGER_MAX_BYTES	(8 * 1024 * 1024)

static const char *const command_help[] = {
	"Commands (type : first; Tab completes)",
	"  :open FILE             add a log file to the view",
	"  :follow FILE           add a file and follow it (tail -F)",
	"  :filter REGEX          show only matching lines (:filter-in)",
	"  :filter-out REGEX      hide matching lines; :filter alone clears",
	"  :search REGEX          search, like /",
	"  :ask QUESTION          ask the assistant, like a",
	"  :explain [TOKENS]      a model card, like M (at most TOKENS tokens)",
	"  :explain on            model cards again after 3 invalid in a row",
	"  :note TEXT             add a note to the session report",
	"  :export FILE           write the report: FILE.json as JSON, else Markdown",
	"  :model [FILE]          show or load the language model",
	"  :import [PATH]         the import screen (also I): bundles on USB media",
	"                         and in PATH (a .tbundle file or a directory)",
	"  :man [PAGE]            read a manual page (triage, triage-playbook, ...)",
	"  :paste                 paste mode (Ctrl-D ends)",
	"  :goto N, :N            go to line N",
	"  :sessions [ID]         list the kept sessions, or open one",
	"  :help                  this help",
	"  :quit, :q              quit (the session is saved; triage --resume)",
	NULL
};

void
pager_close(struct app *a)
{
	for (size_t i = 0; i < a->pg_n; i++)
		free(a->pg_lines[i]);
	free(a->pg_lines);
	a->pg_lines = NULL;
	a->pg_n = 0;
	a->pg_top = 0;
	free(a->pg_title);
	a->pg_title = NULL;
	a->pager = false;
	/* the wheel again (the yank view turned mouse reporting off) */
	mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	a->dirty |= D_ALL;
}

static void
pg_add(struct app *a, const char *s, size_t len)
{
	char **v = realloc(a->pg_lines, (a->pg_n + 1) * sizeof(*v));
	char *p = app_xmalloc(len + 1);

	if (v == NULL) {
		free(p);
		return;
	}
	memcpy(p, s, len);
	p[len] = '\0';
	a->pg_lines = v;
	a->pg_lines[a->pg_n++] = p;
}

void
pager_lines(struct app *a, const char *title, char *const *lines, size_t n)
{
	pager_close(a);
	a->pg_title = app_xstrdup(title);
	for (size_t i = 0; i < n; i++)
		pg_add(a, lines[i], strlen(lines[i]));
	a->pager = true;
	a->dirty |= D_ALL;
}

void
pager_help(struct app *a)
{
	char **v = keys_help_lines();

	pager_close(a);
	a->pg_title = app_xstrdup("Help");
	pg_add(a, "triage - keys (from the binding table) and commands", 52);
	pg_add(a, "", 0);
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		pg_add(a, v[i], strlen(v[i]));
	keys_strv_free(v);
	for (size_t i = 0; command_help[i] != NULL; i++)
		pg_add(a, command_help[i], strlen(command_help[i]));
	pg_add(a, "", 0);
	pg_add(a, "The manual: :man triage", 23);
	a->pager = true;
	a->dirty |= D_ALL;
}

static int
is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *
pager_find_page(const char *page)
{
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;

	/* only plain page names: no paths, no options for man(1) */
	if (*page == '\0' || *page == '-' || strchr(page, '/') != NULL ||
	    strlen(page) > 64)
		return NULL;
	for (const char *c = page; *c; c++)
		if (!(*c == '-' || *c == '_' || *c == '.' ||
		    (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9')))
			return NULL;
	/* the source tree beside the binary, then the installed pages */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')) != NULL;
		    up++) {
			*slash = '\0';
			for (int sec = 1; sec <= 8; sec++) {
				if (asprintf(&p, "%s/man/%s.%d", exe, page, sec) < 0)
					return NULL;
				if (is_file(p))
					return p;
				free(p);
				if (asprintf(&p, "%s/share/man/man%d/%s.%d", exe, sec,
				    page, sec) < 0)
					return NULL;
				if (is_file(p))
					return p;
				free(p);
			}
		}
	}
	{
		static const char *const dirs[] = { "/usr/local/share/man",
		    "/usr/share/man" };
		for (size_t d = 0; d < 2; d++)
			for (int sec = 1; sec <= 8; sec++) {
				if (asprintf(&p, "%s/man%d/%s.%d", dirs[d], sec, page,
				    sec) < 0)
					return NULL;
				if (is_file(p))
					return p;
				free(p);
			}
	}
	return NULL;
}

/* Run a formatter and collect its output; argv[0] is looked up in PATH. */
static char *
run_capture(char *const argv[], size_t *len, int cols)
{
	int pfd[2];
	pid_t pid;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int st;

	*len = 0;
	if (pipe(pfd) != 0)
		return NULL;
	if ((pid = fork()) == 0) {
		char w[32];
		int nul = open("/dev/null", O_RDWR);
		snprintf(w, sizeof(w), "%d", cols);
		setenv("MANWIDTH", w, 1);
		setenv("MAN_KEEP_FORMATTING", "1", 1);
		unsetenv("MANPAGER");
		unsetenv("PAGER");
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 2);
		}
		dup2(pfd[1], 1);
		close(pfd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return NULL;
	}
	for (;;) {
		if (*len + 65536 > cap) {
			char *p;
			cap = cap ? cap * 2 : 131072;
			if (cap > PAGER_MAX_BYTES + 65536 ||
			    (p = realloc(buf, cap)) == NULL)
				break;
			buf = p;
		}
		n = read(pfd[0], buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || *len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
pager_man(struct app *a, const char *page, char **cause)
{
	char *path = pager_find_page(page), *out, w[32], *p, *nl;
	size_t len;

	if (path == NULL) {
		if (asprintf(cause, "no manual page \"%s\" (try :man triage)",
		    page) < 0)
			*cause = NULL;
		return -1;
	}
	snprintf(w, sizeof(w), "width=%d", a->cols > 20 ? a->cols - 2 : 78);
	{
		char *mandoc[] = { "mandoc", "-Tutf8", "-O", w, path, NULL };
		char *man[] = { "man", "-l", path, NULL };
		if ((out = run_capture(mandoc, &len, a->cols - 2)) == NULL)
			out = run_capture(man, &len, a->cols - 2);
	}
	if (out == NULL) {
		if (asprintf(cause, "%s: cannot format it (is mandoc installed?)",
		    path) < 0)
			*cause = NULL;
		free(path);
		return -1;
	}
	pager_close(a);
	if (asprintf(&a->pg_title, "%s(%s)", page, strrchr(path, '.') + 1) < 0)
		a->pg_title = NULL;
	for (p = out; p < out + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(out + len - p));
		if (nl == NULL)
			nl = out + len;
		pg_add(a, p, (size_t)(nl - p));
	}
	free(out);
	free(path);
	a->pager = true;
	a->dirty |= D_ALL;
	return 0;
}

/* Strip overstrike: plain text plus an attribute per byte. */
static size_t
unstrike(const char *s, char *plain, attr_t *at)
{
	size_t n = 0, i = 0, len = strlen(s);

	while (i < len) {
		/* a character is 1..4 bytes of UTF-8 */
		size_t cl = 1;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xf0) cl = 4;
		else if (c >= 0xe0) cl = 3;
		else if (c >= 0xc0) cl = 2;
		if (i + cl > len)
			cl = len - i;
		if (i + cl < len && s[i + cl] == '\b') {
			/* X\bY: underline if X is '_', else bold; keep Y */
			size_t j = i + cl + 1, cl2 = 1;
			unsigned char d = j < len ? (unsigned char)s[j] : ' ';
			attr_t a = s[i] == '_' && cl == 1 ? A_UNDERLINE : A_BOLD;
			if (d >= 0xf0) cl2 = 4;
			else if (d >= 0xe0) cl2 = 3;
			else if (d >= 0xc0) cl2 = 2;
			if (j + cl2 > len)
				cl2 = len - j;
			/* "_\b_" is a bold underscore */
			if (s[i] == '_' && j < len && s[j] == '_')
				a = A_BOLD;
			for (size_t k = 0; k < cl2; k++) {
				at[n] = a;
				plain[n++] = s[j + k];
			}
			i = j + cl2;
			continue;
		}
		for (size_t k = 0; k < cl; k++) {
			at[n] = 0;
			plain[n++] = s[i + k];
		}
		i += cl;
	}
	plain[n] = '\0';
	return n;
}

/* Smart case, as in the log view: a capital letter makes it exact. */
static char *
find(const char *hay, const char *needle)
{
	for (const char *p = needle; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return strstr(hay, needle);
	return strcasestr(hay, needle);
}

void
pager_search(struct app *a, const char *pattern, int dir)
{
	size_t n = a->pg_n;

	if (*pattern == '\0' || n == 0)
		return;
	if (pattern != a->pg_pattern) {
		free(a->pg_pattern);
		a->pg_pattern = app_xstrdup(pattern);
	}
	for (size_t k = 1; k <= n; k++) {
		size_t i = dir > 0 ? (a->pg_top + k) % n : (a->pg_top + n - k) % n;
		char *plain = app_xmalloc(strlen(a->pg_lines[i]) + 1);
		attr_t *at = app_xmalloc((strlen(a->pg_lines[i]) + 1) *
		    sizeof(*at));
		bool hit;

		unstrike(a->pg_lines[i], plain, at);
		hit = find(plain, a->pg_pattern) != NULL;
		free(plain);
		free(at);
		if (hit) {
			a->pg_top = i;
			a->dirty |= D_PAGER;
			return;
		}
	}
	app_message(a, false, "%s: not found", a->pg_pattern);
}

void
pager_action(struct app *a, enum action act)
{
	size_t page = a->rows > 3 ? (size_t)a->rows - 3 : 1;
	size_t max = a->pg_n > page ? a->pg_n - page : 0;

	switch (act) {
	case ACT_CLOSE:
		pager_close(a);
		return;
	case ACT_UP: if (a->pg_top > 0) a->pg_top--; break;
	case ACT_DOWN: if (a->pg_top < max) a->pg_top++; break;
	case ACT_PGUP: a->pg_top = a->pg_top > page ? a->pg_top - page : 0; break;
	case ACT_HALF_UP:
		a->pg_top = a->pg_top > page / 2 ? a->pg_top - page / 2 : 0; break;
	case ACT_PGDN: a->pg_top = a->pg_top + page < max ? a->pg_top + page : max;
		break;
	case ACT_HALF_DN:
		a->pg_top = a->pg_top + page / 2 < max ? a->pg_top + page / 2 : max;
		break;
	case ACT_TOP: a->pg_top = 0; break;
	case ACT_BOTTOM: a->pg_top = max; break;
	case ACT_NEXT_HIT:
	case ACT_PREV_HIT:
		if (a->pg_pattern)
			pager_search(a, a->pg_pattern, act == ACT_NEXT_HIT ? 1 : -1);
		break;
	default:
		break;
	}
	a->dirty |= D_PAGER;
}

void
pager_draw(struct app *a, WINDOW *w)
{
	int h, wd;
	char head[256];

	if (w == NULL)
		return;
	getmaxyx(w, h, wd);
	werase(w);
	wattron(w, A_REVERSE);
	mvwhline(w, 0, 0, ' ', wd);
	snprintf(head, sizeof(head), " %s  (q closes, / searches, n/N next)  "
	    "line %zu of %zu", a->pg_title ? a->pg_title : "", a->pg_top + 1,
	    a->pg_n);
	mvwaddnstr(w, 0, 0, head, wd);
	wattroff(w, A_REVERSE);
	for (int y = 1; y < h && a->pg_top + (size_t)y - 1 < a->pg_n; y++) {
		const char *s = a->pg_lines[a->pg_top + (size_t)y - 1];
		size_t len = strlen(s), n, col = 0;
		char *plain = app_xmalloc(len + 1);
		attr_t *at = app_xmalloc((len + 1) * sizeof(*at));
		struct cell *c = app_xmalloc((len * 4 + 8) * sizeof(*c));
		uint32_t *off = app_xmalloc((len * 4 + 8) * sizeof(*off));
		char *hit = NULL;
		size_t hl = 0;

		len = unstrike(s, plain, at);
		n = text_cells(plain, len, c, len * 4 + 8, off);
		if (n > len * 4 + 8)
			n = len * 4 + 8;
		if (a->pg_pattern && *a->pg_pattern) {
			hit = find(plain, a->pg_pattern);
			hl = strlen(a->pg_pattern);
		}
		for (size_t i = 0; i < n && col + c[i].width <= (size_t)wd - 1; i++) {
			cchar_t cc;
			attr_t x = off[i] < len ? at[off[i]] : 0;
			if (hit && off[i] >= (size_t)(hit - plain) &&
			    off[i] < (size_t)(hit - plain) + hl)
				x |= A_REVERSE;
			if (setcchar(&cc, c[i].wc, x, 0, NULL) == OK)
				mvwadd_wch(w, y, 1 + (int)col, &cc);
			col += c[i].width;
		}
		free(plain);
		free(at);
		free(c);
		free(off);
	}
	wnoutrefresh(w);
}
