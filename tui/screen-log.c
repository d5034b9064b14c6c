/*
 * screen-log.c - the log view: sources indexed and matched in slices,
 * several files interleaved by time, filters, search, e/E, follow.
 *
 * With one source and no filter, row i is line i (direct mode, no memory
 * per line).  Otherwise a row map lists (source, line) pairs: lines are
 * merged by their parsed timestamps (a line without one keeps the time of
 * the line before it) and filtered as they are indexed, so the map grows
 * in the background like the index does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <curses.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../playbooks/playbook.h"
#include "app.h"

/* Bytes indexed per lidx_step call. */
#define INDEX_SLICE	(1024 * 1024)
/* Rows examined per search or row-map step before looking at the clock. */
#define SCAN_SLICE	2048
/* Width of the line-number column. */
#define LINENO_W	8
/* Horizontal scroll step. */
#define HSTEP		8

static struct cell *cells;
static uint32_t *coff;
static size_t ccap;

static bool
ensure_cells(size_t n)
{
	if (n <= ccap)
		return true;
	free(cells);
	free(coff);
	cells = app_xmalloc(n * sizeof(*cells));
	coff = app_xmalloc(n * sizeof(*coff));
	ccap = n;
	return true;
}

/* ---- rows ------------------------------------------------------------------ */

uint64_t
log_nrows(struct app *a)
{
	if (a->lv.direct)
		return a->nsrc > 0 ? lidx_lines(a->src[0].ix) : 0;
	return a->lv.nrows;
}

static uint64_t
row_ref(struct app *a, uint64_t r)
{
	if (a->lv.direct)
		return ROW_MAKE(0, r);
	return r < a->lv.nrows ? a->lv.rows[r] : ROW_MAKE(0, 0);
}

int
log_source_line(struct app *a, int src, uint64_t line, const char **s,
    size_t *len)
{
	bool marker;

	if (src < 0 || src >= a->nsrc)
		return -1;
	return lidx_get(a->src[src].ix, line, s, len, &marker);
}

static int
row_line(struct app *a, uint64_t r, const char **s, size_t *len, bool *marker)
{
	uint64_t ref = row_ref(a, r);

	if (ROW_SRC(ref) >= (unsigned)a->nsrc)
		return -1;
	return lidx_get(a->src[ROW_SRC(ref)].ix, ROW_LINE(ref), s, len, marker);
}

static bool
filters_pass(struct app *a, const char *s, size_t len)
{
	bool any_in = false, in = false;

	for (int i = 0; i < a->lv.nfilters; i++) {
		struct filter *f = &a->lv.filters[i];
		int rc = pcre2_match(f->re, (PCRE2_SPTR)s, len, 0, 0, a->lv.md,
		    NULL);
		if (f->out) {
			if (rc >= 0)
				return false;
		} else {
			any_in = true;
			if (rc >= 0)
				in = true;
		}
	}
	return !any_in || in;
}

static void
rows_push(struct app *a, uint64_t ref)
{
	struct logview *v = &a->lv;

	if (v->nrows == v->caprows) {
		size_t cap = v->caprows ? v->caprows * 2 : 4096;
		uint64_t *p = realloc(v->rows, cap * sizeof(*p));
		if (p == NULL)
			return;	/* the map stops growing; the view still works */
		v->rows = p;
		v->caprows = cap;
	}
	v->rows[v->nrows++] = ref;
}

static enum line_sev row_sev(struct app *a, uint64_t ref, const char *s,
    size_t len);

/* Are the level filter (L) and hidden files (H) in effect? */
static bool
view_narrowed(const struct app *a)
{
	if (a->lv.minsev != SEV_NONE)
		return true;
	for (int i = 0; i < a->nsrc; i++)
		if (a->lv.hidden[i])
			return true;
	return false;
}

/* Merge newly indexed lines into the row map; 1 if more may follow. */
static int
rows_step(struct app *a, size_t budget)
{
	size_t n = 0;

	while (n++ < budget) {
		int best = -1;
		int64_t bt = 0;

		for (int i = 0; i < a->nsrc; i++) {
			struct source *s = &a->src[i];
			const char *t;
			size_t len;
			bool marker;

			if (s->merged >= lidx_lines(s->ix)) {
				/* still indexing: its next line may come first */
				if (lidx_indexed(s->ix) < lidx_size(s->ix))
					return 1;
				continue;
			}
			if (!s->head_ok) {
				s->head_t = PB_TIME_NONE;
				if (lidx_get(s->ix, s->merged, &t, &len, &marker) == 0
				    && !marker)
					s->head_t = pb_time_parse(t, len, s->ref);
				if (s->head_t == PB_TIME_NONE)
					s->head_t = s->last_t;
				s->head_ok = true;
			}
			if (best < 0 || s->head_t < bt) {
				best = i;
				bt = s->head_t;
			}
		}
		if (best < 0)
			return 0;
		{
			struct source *s = &a->src[best];
			const char *t;
			size_t len;
			bool marker;

			if (a->lv.hidden[best])
				;	/* H: this file is not shown */
			else if ((a->lv.nfilters == 0 && a->lv.minsev == SEV_NONE) ||
			    (lidx_get(s->ix, s->merged, &t, &len, &marker) == 0 &&
			    (marker || (filters_pass(a, t, len) &&
			    (a->lv.minsev == SEV_NONE || row_sev(a, ROW_MAKE(best,
			    s->merged), t, len) >= a->lv.minsev)))))
				rows_push(a, ROW_MAKE(best, s->merged));
			s->last_t = s->head_t;
			s->merged++;
			s->head_ok = false;
		}
	}
	return 1;
}

static void
rows_reset(struct app *a)
{
	struct logview *v = &a->lv;

	v->direct = a->nsrc <= 1 && v->nfilters == 0 && !view_narrowed(a);
	v->nrows = 0;
	for (int i = 0; i < a->nsrc; i++) {
		a->src[i].merged = 0;
		a->src[i].head_ok = false;
		a->src[i].last_t = INT64_MIN + 1;
	}
	if (v->cur >= log_nrows(a) && !v->direct)
		v->cur = 0;
	v->top = v->cur;
	v->top_sub = 0;
}

/* ---- setup ----------------------------------------------------------------- */

void
log_init(struct app *a)
{
	if (a->lv.md == NULL)
		a->lv.md = pcre2_match_data_create(16, NULL);
	rows_reset(a);
	a->dirty |= D_LOG;
}

void
log_free(struct app *a)
{
	log_clear_filters(a);
	pcre2_code_free(a->lv.re);
	pcre2_match_data_free(a->lv.md);
	free(a->lv.pattern);
	free(a->lv.rows);
	free(cells);
	free(coff);
	cells = NULL;
	coff = NULL;
	ccap = 0;
}

/* Smart case: a pattern with no capital letter ignores case. */
static pcre2_code *
compile(const char *pattern, char **cause)
{
	uint32_t opt = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_SIZE eoff;
	int err;
	pcre2_code *re;

	for (const char *p = pattern; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			goto cased;
	opt |= PCRE2_CASELESS;
cased:
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opt, &err,
	    &eoff, NULL);
	if (re == NULL && cause != NULL) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(err, msg, sizeof(msg));
		if (asprintf(cause, "bad regular expression at %zu: %s",
		    (size_t)eoff, (char *)msg) < 0)
			*cause = NULL;
	}
	return re;
}

int
log_add_filter(struct app *a, const char *pattern, bool out, char **cause)
{
	struct filter *f;
	pcre2_code *re;

	if (a->lv.nfilters == APP_MAX_FILTERS) {
		if (asprintf(cause, "at most %d filters; :filter alone clears "
		    "them", APP_MAX_FILTERS) < 0)
			*cause = NULL;
		return -1;
	}
	if ((re = compile(pattern, cause)) == NULL)
		return -1;
	f = &a->lv.filters[a->lv.nfilters++];
	f->pattern = app_xstrdup(pattern);
	f->out = out;
	f->re = re;
	rows_reset(a);
	a->lv.cur = a->lv.top = 0;
	a->dirty |= D_LOG | D_STATUS;
	return 0;
}

void
log_clear_filters(struct app *a)
{
	for (int i = 0; i < a->lv.nfilters; i++) {
		free(a->lv.filters[i].pattern);
		pcre2_code_free(a->lv.filters[i].re);
	}
	a->lv.nfilters = 0;
	rows_reset(a);
	a->dirty |= D_LOG;
}

/* ---- background work ----------------------------------------------------- */

struct feed {
	struct app	*a;
	int		 src;
};

static void
on_line(void *arg, uint64_t line, const char *s, size_t len)
{
	struct feed *f = arg;

	cards_feed(f->a, f->src, line, s, len);
}

static void ensure_visible(struct app *a);
static int job_step(struct app *a, size_t budget);

int
log_work(struct app *a, double ms)
{
	double end = app_now() + ms;
	uint64_t before = log_nrows(a);
	int more;

	do {
		more = 0;
		for (int i = 0; i < a->nsrc; i++) {
			struct feed f = { a, i };
			int r = lidx_step(a->src[i].ix, INDEX_SLICE, on_line, &f);
			if (r > 0)
				more = 1;
			else if (r < 0 && lidx_note(a->src[i].ix))
				app_message(a, true, "%s", lidx_note(a->src[i].ix));
		}
		if (!a->lv.direct && rows_step(a, SCAN_SLICE * 8) > 0 &&
		    a->lv.nrows < UINT64_MAX)
			more |= 0;	/* the map follows the index */
		if (a->lv.job != JOB_NONE && job_step(a, SCAN_SLICE))
			more = 1;
	} while (more && app_now() < end);
	if (log_nrows(a) != before) {
		if (a->lv.follow && log_nrows(a) > 0)
			a->lv.cur = log_nrows(a) - 1;
		ensure_visible(a);
		a->dirty |= D_LOG | D_STATUS;
	} else if (more)
		a->dirty |= D_STATUS;
	return more || a->lv.job != JOB_NONE;
}

void
log_check_follow(struct app *a)
{
	for (int i = 0; i < a->nsrc; i++) {
		int ev;

		bool partial;
		uint64_t last;

		if (!lidx_following(a->src[i].ix))
			continue;
		partial = lidx_partial(a->src[i].ix);
		last = lidx_lines(a->src[i].ix);
		ev = lidx_check(a->src[i].ix);
		/* Writers flush half lines: what comes next continues the
		 * last line, which may run past the right edge; say so. */
		if (partial && (ev & LIDX_EV_GREW) && !(ev & (LIDX_EV_TRUNCATED |
		    LIDX_EV_ROTATED)))
			app_message(a, false, "line %llu had no newline: the "
			    "new text continues it", (unsigned long long)last);
		if (ev & (LIDX_EV_TRUNCATED | LIDX_EV_ROTATED | LIDX_EV_GONE |
		    LIDX_EV_BACK | LIDX_EV_STOPPED)) {
			const char *n = lidx_note(a->src[i].ix);
			app_message(a, (ev & (LIDX_EV_GONE | LIDX_EV_STOPPED)) != 0,
			    "%s", n ? n : a->src[i].name);
			a->dirty |= D_LOG | D_TITLE;
		}
	}
}

/* ---- search and jumps ---------------------------------------------------- */

/* How bad a row is: what the line says (the analyzer's judgement), or
 * worse when it belongs to a card (every line of one). */
static enum line_sev
row_sev(struct app *a, uint64_t ref, const char *s, size_t len)
{
	enum line_sev t = text_severity(s, len), e = cards_evidence_sev(a, ref);

	return e > t ? e : t;
}

static bool
row_hits(struct app *a, uint64_t r)
{
	const char *s;
	size_t len;
	bool marker;

	if (row_line(a, r, &s, &len, &marker) != 0)
		return false;
	if (a->lv.job == JOB_SEV)
		return !marker && row_sev(a, row_ref(a, r), s, len) ==
		    a->lv.job_sev;
	return a->lv.re != NULL && pcre2_match(a->lv.re, (PCRE2_SPTR)s, len, 0,
	    0, a->lv.md, NULL) >= 0;
}

/*
 * "hit 3/17": which hit the cursor is on, of how many.  Counting reads
 * every row, so past HIT_COUNT_MAX rows it says so instead of stalling.
 */
#define HIT_COUNT_MAX	2000000
static void
hit_count(struct app *a, bool wrapped)
{
	uint64_t n = log_nrows(a), k = 0, total = 0;
	enum job_kind j = a->lv.job;

	if (n > HIT_COUNT_MAX) {
		app_message(a, false, "hit (not counted: more than %d lines)%s",
		    HIT_COUNT_MAX, wrapped ? ", search wrapped" : "");
		return;
	}
	a->lv.job = JOB_SEARCH;	/* row_hits tests the pattern */
	for (uint64_t r = 0; r < n; r++)
		if (row_hits(a, r)) {
			total++;
			if (r <= a->lv.cur)
				k++;
		}
	a->lv.job = j;
	app_message(a, false, "hit %llu/%llu%s", (unsigned long long)k,
	    (unsigned long long)total, wrapped ? ", search wrapped" : "");
}

/* Advance the running scan; 1 while it goes on. */
static int
job_step(struct app *a, size_t budget)
{
	struct logview *v = &a->lv;
	uint64_t n = log_nrows(a);

	for (size_t i = 0; i < budget; i++) {
		if (n == 0 || (v->job_wrapped && v->job_row == v->job_start)) {
			app_message(a, false, "%s: not found", v->job == JOB_SEV ?
			    (v->job_sev == SEV_ERROR ? "no other error" :
			    "no other warning") : v->pattern);
			/* a pattern found nowhere is not kept in the header
			 * nor in the session */
			if (v->job == JOB_SEARCH && (n == 0 ||
			    !row_hits(a, v->cur))) {
				pcre2_code_free(v->re);
				v->re = NULL;
				free(v->pattern);
				v->pattern = NULL;
				a->dirty |= D_LOG;
			}
			v->job = JOB_NONE;
			return 0;
		}
		if (row_hits(a, v->job_row)) {
			bool search = v->job == JOB_SEARCH;
			v->cur = v->job_row;
			v->follow = false;
			v->job = JOB_NONE;
			ensure_visible(a);
			a->dirty |= D_LOG | D_STATUS;
			if (search)
				hit_count(a, v->job_wrapped);
			else if (v->job_wrapped)
				app_message(a, false, "search wrapped");
			return 0;
		}
		if (v->job_dir > 0) {
			if (++v->job_row >= n) {
				v->job_row = 0;
				v->job_wrapped = true;
			}
		} else {
			if (v->job_row == 0) {
				v->job_row = n - 1;
				v->job_wrapped = true;
			} else
				v->job_row--;
		}
	}
	return 1;
}

static void
job_start(struct app *a, enum job_kind k, int dir)
{
	struct logview *v = &a->lv;
	uint64_t n = log_nrows(a);

	if (n == 0)
		return;
	v->job = k;
	v->job_dir = dir;
	v->job_wrapped = false;
	if (dir > 0)
		v->job_row = v->cur + 1 >= n ? 0 : v->cur + 1;
	else
		v->job_row = v->cur == 0 ? n - 1 : v->cur - 1;
	if ((dir > 0 && v->cur + 1 >= n) || (dir < 0 && v->cur == 0))
		v->job_wrapped = true;
	v->job_start = v->job_row;
	/* the start row itself is tested last, after wrapping */
	if (v->job_wrapped)
		v->job_start = v->cur;
	else
		v->job_start = v->cur;
	a->dirty |= D_STATUS;
}

int
log_set_search(struct app *a, const char *pattern, int dir)
{
	char *cause = NULL;
	pcre2_code *re;

	if (*pattern == '\0')
		return 0;
	if ((re = compile(pattern, &cause)) == NULL) {
		app_message(a, true, "%s", cause ? cause : "bad pattern");
		free(cause);
		return -1;
	}
	pcre2_code_free(a->lv.re);
	free(a->lv.pattern);
	a->lv.re = re;
	a->lv.pattern = app_xstrdup(pattern);
	job_start(a, JOB_SEARCH, dir);
	a->dirty |= D_LOG;
	return 0;
}

void
log_goto(struct app *a, const char *file, uint64_t lineno)
{
	int s = -1;
	uint64_t line = lineno ? lineno - 1 : 0, n = log_nrows(a);

	for (int i = 0; i < a->nsrc; i++)
		if (strcmp(a->src[i].name, file) == 0)
			s = i;
	if (s < 0) {
		app_message(a, true, "%s is not open", file);
		return;
	}
	if (a->lv.direct) {
		if (line >= n) {
			app_message(a, true, "line %llu is not indexed yet",
			    (unsigned long long)lineno);
			return;
		}
		a->lv.cur = line;
	} else {
		uint64_t best = UINT64_MAX;
		for (uint64_t r = 0; r < n; r++) {
			uint64_t ref = a->lv.rows[r];
			if (ROW_SRC(ref) == (unsigned)s && ROW_LINE(ref) >= line) {
				best = r;
				break;
			}
		}
		if (best == UINT64_MAX) {
			app_message(a, true, "line %llu is hidden or not "
			    "indexed yet", (unsigned long long)lineno);
			return;
		}
		a->lv.cur = best;
	}
	a->lv.follow = false;
	/* show the line mid-pane, with what led up to it */
	a->lv.top = a->lv.cur > (uint64_t)(a->lv.page / 2) ?
	    a->lv.cur - (uint64_t)(a->lv.page / 2) : 0;
	a->lv.top_sub = 0;
	ensure_visible(a);
	app_message(a, false, "%s line %llu", file, (unsigned long long)lineno);
	a->message_where = true;
	a->dirty |= D_LOG;
}

/* :files: every open file by its full name, shown or hidden (H). */
void
log_files(struct app *a)
{
	char **v = app_xmalloc(((size_t)a->nsrc + 2) * sizeof(*v));
	size_t n = 0;

	for (int i = 0; i < a->nsrc; i++) {
		const char *p = a->src[i].abspath ? a->src[i].abspath :
		    a->src[i].name;
		char *c = text_clean(p, strlen(p));
		if (asprintf(&v[n], "%2d  %-6s  %s  (%llu lines)", i + 1,
		    a->lv.hidden[i] ? "hidden" : "shown", c ? c : "?",
		    (unsigned long long)lidx_lines(a->src[i].ix)) >= 0)
			n++;
		free(c);
	}
	if (asprintf(&v[n], "H hides the file of the line under the cursor; "
	    ":show N or :show brings files back") >= 0)
		n++;
	pager_lines(a, "open files", v, n);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* :show N brings file N back; :show alone, all of them. */
void
log_show(struct app *a, const char *arg)
{
	long k = *arg ? strtol(arg, NULL, 10) : 0;

	if (*arg && (k < 1 || k > a->nsrc)) {
		app_message(a, true, ":show %s: no such file (:files lists them)",
		    arg);
		return;
	}
	for (int i = 0; i < a->nsrc; i++)
		if (k == 0 || i == k - 1)
			a->lv.hidden[i] = false;
	rows_reset(a);
	a->lv.cur = a->lv.top = 0;
	app_message(a, false, "%s shown again", k ? "the file is" : "all files are");
	a->dirty |= D_LOG | D_STATUS;
}

/* H: hide the file of the line under the cursor (one stays shown). */
static void
hide_file(struct app *a)
{
	struct logview *v = &a->lv;
	int shown = 0, s;

	for (int i = 0; i < a->nsrc; i++)
		shown += !v->hidden[i];
	if (log_nrows(a) == 0 || shown <= 1) {
		app_message(a, false, "H hides one of several files; this is the "
		    "only one shown (:files lists them)");
		return;
	}
	s = (int)ROW_SRC(row_ref(a, v->cur));
	v->hidden[s] = true;
	rows_reset(a);
	v->cur = v->top = 0;
	/* the base name: a long path would push the hint off the status */
	app_message(a, false, "%s hidden (:show %d brings it back)",
	    strrchr(a->src[s].name, '/') ? strrchr(a->src[s].name, '/') + 1 :
	    a->src[s].name, s + 1);
}

/* The time of row r, or of the first of the next rows that has one. */
static int64_t
row_time(struct app *a, uint64_t r, uint64_t n)
{
	for (uint64_t k = 0; k < 64 && r + k < n; k++) {
		uint64_t ref = row_ref(a, r + k);
		const char *s;
		size_t len;
		bool marker;
		int64_t t;

		if (row_line(a, r + k, &s, &len, &marker) != 0 || marker)
			continue;
		t = pb_time_parse(s, len, a->src[ROW_SRC(ref)].ref);
		if (t != PB_TIME_NONE && !pb_time_is_boot(t))
			return t;
	}
	return INT64_MAX;
}

int
log_goto_time(struct app *a, const char *when)
{
	uint64_t n = log_nrows(a), lo = 0, hi = n;
	int64_t t, here = n ? row_time(a, a->lv.cur, n) : INT64_MAX;
	char buf[32];

	/* "08:13" is that time on the day of the line under the cursor, and
	 * "-1h" an hour before it: the log's clock, not today's */
	if (here == INT64_MAX)
		here = a->nsrc ? a->src[0].ref * 1000 : 0;
	if (a->nsrc == 0 || pb_time_arg(when, here / 1000, &t) != 0) {
		app_message(a, true, ":goto %s: not a line number or a time "
		    "(08:13, 2024-03-14T08:13, yesterday, -1h)", when);
		return -1;
	}
	/* the rows are merged in time order: bisect */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (row_time(a, mid, n) < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	pb_time_format(t, buf, sizeof(buf));
	if (lo >= n) {
		app_message(a, true, "no line at or after %s", buf);
		return -1;
	}
	a->lv.cur = lo;
	a->lv.follow = false;
	a->lv.top = lo > (uint64_t)(a->lv.page / 2) ?
	    lo - (uint64_t)(a->lv.page / 2) : 0;
	a->lv.top_sub = 0;
	ensure_visible(a);
	app_message(a, false, "first line at or after %s", buf);
	a->message_where = true;
	a->dirty |= D_LOG | D_STATUS;
	return 0;
}

char *
log_row_text(struct app *a, uint64_t r, const char **file, uint64_t *lineno)
{
	uint64_t ref = row_ref(a, r);
	const char *s;
	size_t len;
	bool marker;

	if (row_line(a, r, &s, &len, &marker) != 0)
		return NULL;
	*file = a->src[ROW_SRC(ref)].name;
	*lineno = ROW_LINE(ref) + 1;
	return text_clean(s, len);
}

/* ---- cursor and scrolling -------------------------------------------------- */

static int
text_x0(struct app *a)
{
	int x = 1;	/* the mark gutter */

	if (a->lv.lineno)
		x += LINENO_W;
	if (a->lv.timecol)
		x += 21 + (a->nsrc > 1 ? 13 : 0);
	return x;
}

/* Screen lines row r takes in a pane of width w. */
static int
row_height(struct app *a, uint64_t r, int w)
{
	const char *s;
	size_t len, cols;
	bool marker;
	int avail = w - text_x0(a);

	if (!a->lv.wrap || avail <= 0)
		return 1;
	if (row_line(a, r, &s, &len, &marker) != 0)
		return 1;
	cols = text_width(s, len);
	return cols == 0 ? 1 : (int)((cols + (size_t)avail - 1) / (size_t)avail);
}

static void
ensure_visible(struct app *a)
{
	struct logview *v = &a->lv;
	uint64_t n = log_nrows(a);
	int h = v->page > 0 ? v->page : 20, used = 0;
	int w = a->lay.pane[PANE_LOG].w;

	if (n == 0) {
		v->cur = v->top = 0;
		return;
	}
	if (v->cur >= n)
		v->cur = n - 1;
	if (v->cur < v->top) {
		v->top = v->cur;
		v->top_sub = 0;
		return;
	}
	if (v->cur - v->top > (uint64_t)h * 4)
		v->top = v->cur - (uint64_t)h * 4;
	for (uint64_t r = v->top; r <= v->cur; r++)
		used += row_height(a, r, w);
	used -= v->top_sub;
	while (used > h && v->top < v->cur) {
		used -= row_height(a, v->top, w) - v->top_sub;
		v->top_sub = 0;
		v->top++;
	}
}

void
log_action(struct app *a, enum action act)
{
	struct logview *v = &a->lv;
	uint64_t n = log_nrows(a), page = v->page > 1 ? (uint64_t)v->page - 1 : 1;

	/* where :goto or an evidence line took us is stale once we move */
	if (a->message_where) {
		free(a->message);
		a->message = NULL;
		a->message_where = false;
		a->dirty |= D_STATUS;
	}
	switch (act) {
	case ACT_UP:
		if (v->cur > 0)
			v->cur--;
		v->follow = false;
		break;
	case ACT_DOWN:
		if (v->cur + 1 < n)
			v->cur++;
		break;
	case ACT_PGUP:
	case ACT_HALF_UP:
		if (act == ACT_HALF_UP)
			page = page / 2 + 1;
		v->cur = v->cur > page ? v->cur - page : 0;
		v->top = v->top > page ? v->top - page : 0;
		v->follow = false;
		break;
	case ACT_PGDN:
	case ACT_HALF_DN:
		if (act == ACT_HALF_DN)
			page = page / 2 + 1;
		v->cur = v->cur + page < n ? v->cur + page : n ? n - 1 : 0;
		if (v->top + page + page <= n)
			v->top += page;
		break;
	case ACT_TOP:
		v->cur = v->top = 0;
		v->top_sub = 0;
		v->follow = false;
		break;
	case ACT_BOTTOM:
		v->cur = n ? n - 1 : 0;
		v->follow = true;
		break;
	case ACT_LEFT:
		v->hcol = v->hcol > HSTEP ? v->hcol - HSTEP : 0;
		break;
	case ACT_RIGHT:
		if (!v->wrap)
			v->hcol += HSTEP;
		break;
	case ACT_HOME:
		v->hcol = 0;
		break;
	case ACT_NEXT_HIT:
	case ACT_PREV_HIT:
		if (v->re == NULL) {
			app_message(a, false, "no search yet: / starts one");
			break;
		}
		job_start(a, JOB_SEARCH, act == ACT_NEXT_HIT ? 1 : -1);
		break;
	case ACT_NEXT_ERR:
	case ACT_PREV_ERR:
	case ACT_NEXT_WARN:
	case ACT_PREV_WARN:
		v->job_sev = act == ACT_NEXT_ERR || act == ACT_PREV_ERR ? SEV_ERROR :
		    SEV_WARN;
		job_start(a, JOB_SEV, act == ACT_NEXT_ERR || act == ACT_NEXT_WARN ?
		    1 : -1);
		break;
	case ACT_WRAP:
		v->wrap = !v->wrap;
		v->hcol = 0;
		v->top_sub = 0;
		app_message(a, false, "long lines %s", v->wrap ? "wrap" :
		    "scroll sideways (Left/Right)");
		break;
	case ACT_FOLLOW:
		v->follow = !v->follow;
		if (v->follow && n > 0)
			v->cur = n - 1;
		app_message(a, false, "follow %s", v->follow ? "on" : "off");
		break;
	case ACT_LINENO:
		v->lineno = !v->lineno;
		break;
	case ACT_TIME:
		v->timecol = !v->timecol;
		break;
	case ACT_MARK: {
		uint64_t ref = row_ref(a, v->cur);
		int i;
		for (i = 0; i < v->nmarks; i++)
			if (v->marks[i] == ref)
				break;
		if (i < v->nmarks) {
			v->marks[i] = v->marks[--v->nmarks];
		} else if (v->nmarks < APP_MAX_MARKS && n > 0) {
			v->marks[v->nmarks++] = ref;
		}
		app_message(a, false, "%d line%s marked for the assistant",
		    v->nmarks, v->nmarks == 1 ? "" : "s");
		break;
	}
	case ACT_STRIP:
		v->strip = !v->strip;
		v->strip_rows = 0;
		app_message(a, false, "timeline strip %s", v->strip ? "on: errors "
		    "(red) and warnings (yellow) over the time of the log" : "off");
		break;
	case ACT_HIDE_FILE:
		hide_file(a);
		break;
	case ACT_LEVEL:
		/* all lines -> warnings and errors -> errors -> all */
		v->minsev = v->minsev == SEV_NONE ? SEV_WARN :
		    v->minsev == SEV_WARN ? SEV_ERROR : SEV_NONE;
		rows_reset(a);
		v->cur = v->top = 0;
		app_message(a, false, "%s", v->minsev == SEV_NONE ? "all lines" :
		    v->minsev == SEV_WARN ? "warnings and errors only (L: errors "
		    "only)" : "errors only (L: all lines)");
		break;
	case ACT_TO_CARD: {
		size_t nlc = 0;
		long c = n ? cards_of_line(a, row_ref(a, v->cur), &nlc) : -1;
		if (c < 0) {
			app_message(a, false, "this line is not evidence of a card "
			    "(lines marked in the gutter are)");
			break;
		}
		a->card_sel = (size_t)c;
		cards_open(a, (size_t)c);
		a->focus = PANE_DETAIL;
		a->dirty |= D_ALL;
		/* cards_open clears the message line: say it after */
		if (nlc > 1)
			app_message(a, false, "line belongs to %zu cards: the most "
			    "severe is open (the others are in the list)", nlc);
		break;
	}
	default:
		break;
	}
	ensure_visible(a);
	a->dirty |= D_LOG | D_STATUS;
}

/* ---- drawing --------------------------------------------------------------- */

/*
 * S: errors and warnings of the rows shown (hidden files and filters
 * apply), counted per column over the time from the first line to the
 * last.  Counted again only when the rows or the width change; past
 * STRIP_MAX rows only the first STRIP_MAX are counted.
 */
#define STRIP_MAX	2000000
static void
strip_count(struct app *a, int w)
{
	struct logview *v = &a->lv;
	uint64_t n = log_nrows(a), m = n < STRIP_MAX ? n : STRIP_MAX;
	int64_t last;

	if (w > 256)
		w = 256;
	if (v->strip_rows == n && v->strip_w == w)
		return;
	v->strip_rows = n;
	v->strip_w = w;
	memset(v->strip_err, 0, sizeof(v->strip_err));
	memset(v->strip_warn, 0, sizeof(v->strip_warn));
	if (m == 0 || w <= 0)
		return;
	v->strip_t0 = row_time(a, 0, m);
	v->strip_t1 = row_time(a, m > 64 ? m - 64 : 0, m);
	for (uint64_t r = m > 64 ? m - 64 : 0; r < m; r++) {
		int64_t t = row_time(a, r, r + 1);
		if (t != INT64_MAX && t > v->strip_t1)
			v->strip_t1 = t;
	}
	if (v->strip_t0 == INT64_MAX)
		return;		/* no times: nothing to place */
	last = v->strip_t0;
	for (uint64_t r = 0; r < m; r++) {
		const char *s;
		size_t len;
		bool marker;
		enum line_sev sv;
		int64_t t, span = v->strip_t1 - v->strip_t0 + 1;
		uint64_t ref = row_ref(a, r);
		int col;

		if (row_line(a, r, &s, &len, &marker) != 0 || marker)
			continue;
		sv = row_sev(a, ref, s, len);
		if (sv < SEV_WARN)
			continue;
		t = pb_time_parse(s, len, a->src[ROW_SRC(ref)].ref);
		if (t == PB_TIME_NONE || pb_time_is_boot(t))
			t = last;
		last = t;
		if (t < v->strip_t0)
			t = v->strip_t0;
		col = span > 0 ? (int)((double)(t - v->strip_t0) / (double)span *
		    w) : 0;
		if (col >= w)
			col = w - 1;
		if (sv == SEV_ERROR && v->strip_err[col] < UINT16_MAX)
			v->strip_err[col]++;
		else if (sv == SEV_WARN && v->strip_warn[col] < UINT16_MAX)
			v->strip_warn[col]++;
	}
}

static void
strip_draw(struct app *a, WINDOW *win, int y, int w)
{
	static const char *blk[] = { "\xe2\x96\x81", "\xe2\x96\x82",
	    "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
	    "\xe2\x96\x87", "\xe2\x96\x88" };
	struct logview *v = &a->lv;
	unsigned max = 1;

	strip_count(a, w);
	w = v->strip_w;
	for (int i = 0; i < w; i++) {
		unsigned c = v->strip_err[i] ? v->strip_err[i] : v->strip_warn[i];
		if (c > max)
			max = c;
	}
	wmove(win, y, 0);
	wclrtoeol(win);
	for (int i = 0; i < w; i++) {
		unsigned c = v->strip_err[i] ? v->strip_err[i] : v->strip_warn[i];
		short pair = a->colour ? (v->strip_err[i] ? 1 : 2) : 0;
		if (c == 0) {
			mvwaddstr(win, y, i, " ");
			continue;
		}
		wattr_set(win, v->strip_err[i] && !a->colour ? A_BOLD : A_NORMAL,
		    pair, NULL);
		mvwaddstr(win, y, i, blk[(c * 7 + max - 1) / max]);
		wattr_set(win, A_NORMAL, 0, NULL);
	}
}

static attr_t
sev_attr(struct app *a, enum line_sev s, short *pair)
{
	*pair = 0;
	switch (s) {
	case SEV_ERROR:
		*pair = a->colour ? 1 : 0;
		return a->colour ? 0 : A_BOLD;
	case SEV_WARN:
		/* in monochrome: errors bold, warnings underlined */
		*pair = a->colour ? 2 : 0;
		return a->colour ? 0 : A_UNDERLINE;
	case SEV_DEBUG:
		return A_DIM;
	default:
		return 0;
	}
}

/* A card's severity as the card list shows it: CRIT red, HIGH magenta,
 * MEDIUM yellow, LOW and INFO cyan (in monochrome CRIT also underlined,
 * HIGH bold), so a gutter mark and its card look alike. */
static attr_t
card_sev_attr(struct app *a, int s, short *pair)
{
	*pair = 0;
	if (a->colour)
		*pair = s == PB_SEV_CRITICAL ? 1 : s == PB_SEV_HIGH ? 5 :
		    s == PB_SEV_MEDIUM ? 2 : 3;
	if (s == PB_SEV_CRITICAL)
		return a->colour ? A_BOLD : A_BOLD | A_UNDERLINE;
	return s == PB_SEV_HIGH && !a->colour ? A_BOLD : 0;
}

/* Draw cells [from, to) at (y, x), at most w columns; returns columns. */
static int
put_cells(WINDOW *win, int y, int x, int w, const struct cell *c, size_t from,
    size_t to, attr_t attr, short pair, struct app *a)
{
	int col = 0;

	for (size_t i = from; i < to && col < w; i++) {
		cchar_t cc;
		attr_t at = attr;
		short pr = pair;

		if (c[i].kind == CK_MATCH) {
			at = a->colour ? attr : attr | A_REVERSE;
			pr = a->colour ? 6 : pair;
		} else if (c[i].kind == CK_ESCAPE) {
			at |= a->colour ? 0 : A_UNDERLINE;
			pr = a->colour ? 5 : pair;
		}
		if (c[i].width == 2 && col + 2 > w) {
			mvwaddch(win, y, x + col, ' ' | at);
			col++;
			break;
		}
		if (setcchar(&cc, c[i].wc, at, pr, NULL) == OK)
			mvwadd_wch(win, y, x + col, &cc);
		col += c[i].width;
	}
	return col;
}

void
log_draw(struct app *a, WINDOW *win, const struct rect *rect)
{
	struct logview *v = &a->lv;
	struct rect below = *rect;	/* the rows above the strip */
	const struct rect *r = &below;
	uint64_t n = log_nrows(a), row;
	int y = 1, x0 = text_x0(a), avail = r->w - x0;
	bool focus = a->focus == PANE_LOG;
	char head[256];

	werase(win);
	if (v->strip && below.h > 3)
		below.h--;
	v->page = r->h - 1;
	/* header */
	pane_header_begin(a, win, r->w, focus);
	snprintf(head, sizeof(head), " Log%s%s%s%s%s", n ? "" : " (empty)",
	    v->wrap ? "  [wrap]" : "", v->follow ? "  [follow]" : "",
	    v->minsev == SEV_WARN ? "  [warnings+]" : v->minsev == SEV_ERROR ?
	    "  [errors]" : "", v->pattern ? "  /" : "");
	mvwaddnstr(win, 0, 0, head, r->w);
	if (v->pattern) {
		char *c = text_clean(v->pattern, strlen(v->pattern));
		waddnstr(win, c ? c : "", r->w / 2);
		free(c);
	}
	pane_header_end(a, win, focus);
	if (avail < 4) {
		wnoutrefresh(win);
		return;
	}
	for (row = v->top; row < n && y < r->h; row++) {
		const char *s;
		size_t len, ncell, need, from = 0;
		bool marker, is_cur = row == v->cur, marked = false;
		uint64_t ref = row_ref(a, row);
		short pair;
		attr_t attr;
		int sub = row == v->top ? v->top_sub : 0;

		if (row_line(a, row, &s, &len, &marker) != 0)
			continue;
		int evid = marker ? -1 : cards_line_severity(a, ref);

		for (int i = 0; i < v->nmarks; i++)
			marked |= v->marks[i] == ref;
		attr = marker ? A_BOLD : sev_attr(a, row_sev(a, ref, s, len),
		    &pair);
		if (marker)
			pair = a->colour ? 5 : 0;
		if (is_cur)
			attr |= focus ? A_REVERSE : A_UNDERLINE;
		need = v->wrap ? (size_t)avail * (size_t)(r->h + sub) :
		    v->hcol + (size_t)avail + 2;
		ensure_cells(need);
		ncell = text_cells(s, len, cells, need, coff);
		if (ncell > need)
			ncell = need;
		/* search hits, on the raw bytes */
		if (v->re != NULL && !marker) {
			PCRE2_SIZE off = 0, *ov;
			while (off <= len && pcre2_match(v->re, (PCRE2_SPTR)s, len,
			    off, 0, v->md, NULL) >= 0) {
				ov = pcre2_get_ovector_pointer(v->md);
				for (size_t i = 0; i < ncell; i++)
					if (coff[i] >= ov[0] && coff[i] < ov[1])
						cells[i].kind = CK_MATCH;
				off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
			}
		}
		/* skip hcol columns */
		if (!v->wrap) {
			size_t col = 0;
			while (from < ncell && col + cells[from].width <= v->hcol)
				col += cells[from++].width;
		}
		for (int line = 0; y < r->h; line++) {
			int used;

			if (line >= sub) {
				if (is_cur)
					mvwhline(win, y, 0, ' ' | attr, r->w);
				mvwaddch(win, y, 0, marked ? '*' | A_BOLD : ' ');
				if (!marked && line == sub && evid >= 0) {
					/* a line of a card: c opens it */
					short ep;
					attr_t ea = card_sev_attr(a, evid, &ep);
					wattr_set(win, ea | A_BOLD, ep, NULL);
					mvwaddstr(win, y, 0, "\xe2\x80\xa2");	/* U+2022 */
					wattr_set(win, A_NORMAL, 0, NULL);
				}
				if (line == 0 && v->lineno) {
					char num[32];
					snprintf(num, sizeof(num), "%*llu ",
					    LINENO_W - 1, (unsigned long long)
					    (ROW_LINE(ref) + 1));
					wattron(win, A_DIM);
					mvwaddnstr(win, y, 1, num, LINENO_W);
					wattroff(win, A_DIM);
				}
				if (line == 0 && v->timecol) {
					char tb[64] = "", nm[16];
					int64_t t = marker ? PB_TIME_NONE :
					    pb_time_parse(s, len, a->src[ROW_SRC(ref)].ref);
					int x = 1 + (v->lineno ? LINENO_W : 0);
					if (t != PB_TIME_NONE)
						pb_time_format(t, tb, sizeof(tb));
					if (a->nsrc > 1) {
						const char *b = strrchr(a->src[ROW_SRC(ref)].name, '/');
						char *c;
						b = b ? b + 1 : a->src[ROW_SRC(ref)].name;
						c = text_clean(b, strlen(b));
						snprintf(nm, sizeof(nm), "%-12.12s", c ? c : "");
						free(c);
						mvwaddnstr(win, y, x, nm, 12);
						x += 13;
					}
					wattron(win, A_DIM);
					mvwaddnstr(win, y, x, tb, 20);
					wattroff(win, A_DIM);
				}
				{
					size_t to = from;
					int cw = 0;
					while (to < ncell && cw + cells[to].width <= avail)
						cw += cells[to++].width;
					used = put_cells(win, y, x0, avail, cells, from,
					    v->wrap ? to : ncell, attr, pair, a);
					(void)used;
					from = to;
				}
				y++;
			} else {
				size_t to = from;
				int cw = 0;
				while (to < ncell && cw + cells[to].width <= avail)
					cw += cells[to++].width;
				from = to;
			}
			if (!v->wrap || from >= ncell)
				break;
		}
	}
	if (n == 0) {
		mvwaddnstr(win, 2, 2, a->nsrc ? "(no lines yet)" :
		    "No log open.  Paste one (bracketed paste, or P), "
		    ":open FILE, or :follow FILE.", r->w - 4);
	}
	if (v->strip && below.h < rect->h)
		strip_draw(a, win, rect->h - 1, rect->w);
	wnoutrefresh(win);
}
