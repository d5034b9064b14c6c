/*
 * screen-cards.c - the card list (cards, then lines no playbook knows)
 * and the detail pane that shows one card: checks to tick off, evidence
 * to jump to, {{placeholders}} filled from the log.
 */
#include <curses.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../playbooks/playbook.h"
#include "app.h"
#include "tui.h"

/* Unknown templates listed under the cards (all above the salience
 * threshold, up to this many). */
#define MAX_TEMPLATES	1000

enum dstyle { DS_TEXT, DS_TITLE, DS_HEAD, DS_EVID, DS_CHECK, DS_CMD, DS_DIM };

/*
 * The list is: matched cards, then "possibly" cards (unknown templates
 * that resemble a playbook), then the other unknown templates.  Only
 * templates ranked by the last pb_analysis_finish() are listed; lines fed
 * since then may have made new ones, which have no rank (and no text to
 * show) until the next refresh.
 */
static size_t
n_suggested(struct app *a)
{
	return pb_analysis_nsuggested(a->an);
}

/* Template index of the k-th listed unknown template, or -1. */
static long
template_at(struct app *a, size_t k)
{
	size_t n = pb_analysis_ntemplates(a->an);
	const char *ex, *file;
	uint64_t count, lineno;

	for (size_t i = 0; i < n && i < MAX_TEMPLATES; i++) {
		if (pb_analysis_template_suggestion(a->an, i) >= 0)
			continue;
		if (k-- == 0)
			return pb_analysis_template(a->an, i, &count, &ex, &file,
			    &lineno) != NULL ? (long)i : -1;
	}
	return -1;
}

static size_t
n_templates(struct app *a)
{
	size_t n = pb_analysis_ntemplates(a->an), k = 0;
	const char *ex, *file;
	uint64_t count, lineno;

	for (size_t i = 0; i < n && i < MAX_TEMPLATES; i++)
		if (pb_analysis_template_suggestion(a->an, i) < 0 &&
		    pb_analysis_template(a->an, i, &count, &ex, &file,
		    &lineno) != NULL)
			k++;
	return k;
}

static size_t
n_items(struct app *a)
{
	return pb_analysis_ncards(a->an) + n_suggested(a) + n_templates(a);
}

/* Text for the detail pane: placeholders filled from the card, or left
 * as written when there is no card (a "possibly" card matched nothing). */
static char *
fill(const struct pb_card *c, const char *tmpl, int shell)
{
	if (tmpl == NULL)
		return NULL;
	return c != NULL ? pb_card_fill(c, tmpl, shell) : app_xstrdup(tmpl);
}

/* ---- ticks ----------------------------------------------------------------- */

bool
tick_get(struct app *a, const char *card, int check)
{
	for (size_t i = 0; i < a->nticks; i++)
		if (a->ticks[i].check == check && strcmp(a->ticks[i].card, card) == 0)
			return true;
	return false;
}

void
tick_set(struct app *a, const char *card, int check, bool on)
{
	for (size_t i = 0; i < a->nticks; i++)
		if (a->ticks[i].check == check && strcmp(a->ticks[i].card, card) == 0) {
			if (!on) {
				free(a->ticks[i].card);
				a->ticks[i] = a->ticks[--a->nticks];
			}
			return;
		}
	if (on) {
		struct tick *t = realloc(a->ticks, (a->nticks + 1) * sizeof(*t));
		if (t == NULL)
			return;
		a->ticks = t;
		t[a->nticks].card = app_xstrdup(card);
		t[a->nticks].check = check;
		a->nticks++;
	}
}

/* ---- the detail lines ---------------------------------------------------- */

static void
dl_clear(struct app *a)
{
	for (size_t i = 0; i < a->ndl; i++)
		free(a->dl[i].text);
	free(a->dl);
	a->dl = NULL;
	a->ndl = 0;
}

static void
dl_add(struct app *a, int style, int item, int indent, const char *text)
{
	struct dline *d = realloc(a->dl, (a->ndl + 1) * sizeof(*d));

	if (d == NULL)
		return;
	a->dl = d;
	d[a->ndl].text = app_xstrdup(text ? text : "");
	d[a->ndl].style = style;
	d[a->ndl].item = item;
	d[a->ndl].indent = indent;
	a->ndl++;
}

static void
dl_addf(struct app *a, int style, int item, int indent, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
dl_addf(struct app *a, int style, int item, int indent, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	dl_add(a, style, item, indent, s);
	free(s);
}

static void
dl_list(struct app *a, const struct pb_card *c, const char *head,
    json_t *arr, bool numbered)
{
	json_t *v;
	size_t i;
	char *s;

	if (json_array_size(arr) == 0)
		return;
	dl_add(a, DS_HEAD, -1, 0, head);
	json_array_foreach(arr, i, v) {
		if ((s = fill(c, json_string_value(v), 0)) == NULL)
			continue;
		if (numbered)
			dl_addf(a, DS_TEXT, -1, 2, "%zu. %s", i + 1, s);
		else
			dl_addf(a, DS_TEXT, -1, 2, "- %s", s);
		free(s);
	}
}

static const struct pb_card *
find_card(struct app *a, const char *id)
{
	for (size_t i = 0; i < pb_analysis_ncards(a->an); i++) {
		const struct pb_card *c = pb_analysis_card(a->an, i);
		if (strcmp(pb_playbook_id(pb_card_playbook(c)), id) == 0)
			return c;
	}
	return NULL;
}

static void build_body(struct app *, const struct pb_card *,
    const struct pb_playbook *, const char *);

static void
build_card(struct app *a, const struct pb_card *c)
{
	const struct pb_playbook *pb = pb_card_playbook(c);
	const char *id = pb_playbook_id(pb), *file, *name, *val;
	char first[32], last[32];
	uint64_t lineno, n;
	size_t i;

	dl_addf(a, DS_TITLE, -1, 0, "%s", pb_playbook_title(pb));
	pb_time_format(pb_card_first(c), first, sizeof(first));
	pb_time_format(pb_card_last(c), last, sizeof(last));
	dl_addf(a, DS_DIM, -1, 0, "%s  %s  %s  seen %llu time%s, first %s, last %s",
	    pb_severity_name(pb_playbook_severity(pb)), pb_playbook_class(pb), id,
	    (unsigned long long)pb_card_count(c), pb_card_count(c) == 1 ? "" :
	    "s", first, last);
	for (i = 0; i < pb_card_ncaptures(c); i++) {
		char buf[512];
		int off;

		name = pb_card_capture(c, i, 0, &val, &n);
		off = snprintf(buf, sizeof(buf), "%s:", name);
		for (size_t k = 0; k < 5 && off < (int)sizeof(buf); k++) {
			if (pb_card_capture(c, i, k, &val, &n) == NULL || val == NULL)
				break;
			off += snprintf(buf + off, sizeof(buf) - (size_t)off,
			    "%s %s (%llu)", k ? "," : "", val,
			    (unsigned long long)n);
		}
		dl_add(a, DS_DIM, -1, 2, buf);
	}
	dl_add(a, DS_HEAD, -1, 0, "Evidence (Enter shows the line in the log)");
	for (i = 0; i < pb_card_nexamples(c); i++) {
		const char *text = pb_card_example(c, i, &file, &lineno);
		const char *b = strrchr(file, '/');
		dl_addf(a, DS_EVID, (int)i, 2, "%s:%llu  %s", b ? b + 1 : file,
		    (unsigned long long)lineno, text);
	}
	build_body(a, c, pb, id);
}

/*
 * What the playbook says: explanation, causes, checks, fix, verify,
 * escalation, references.  With no card (a "possibly" card) the text is
 * shown as written and checks cannot be ticked.
 */
static void
build_body(struct app *a, const struct pb_card *c, const struct pb_playbook *pb,
    const char *id)
{
	const json_t *doc = pb_playbook_json(pb);
	json_t *checks, *v, *esc;
	size_t i;
	char *s;

	if ((s = fill(c, json_string_value(json_object_get(doc,
	    "explanation")), 0)) != NULL) {
		dl_add(a, DS_HEAD, -1, 0, "What it is");
		dl_add(a, DS_TEXT, -1, 2, s);
		free(s);
	}
	dl_list(a, c, "Likely causes", json_object_get(doc, "causes"), true);
	checks = json_object_get(doc, "checks");
	if (json_array_size(checks) > 0)
		dl_add(a, DS_HEAD, -1, 0, "Checks (Space ticks one off)");
	json_array_foreach(checks, i, v) {
		const char *keys[3] = { "do", "command", "expect" };
		for (int k = 0; k < 3; k++) {
			json_t *f = json_object_get(v, keys[k]);
			if (f == NULL)
				continue;
			if ((s = fill(c, json_string_value(f), k == 1)) == NULL)
				continue;
			if (k == 0 && c == NULL)
				dl_addf(a, DS_TEXT, -1, 2, "%zu. %s", i + 1, s);
			else if (k == 0)
				dl_addf(a, DS_CHECK, (int)i, 2, "[%c] %zu. %s",
				    tick_get(a, id, (int)i) ? 'x' : ' ', i + 1, s);
			else if (k == 1)
				dl_addf(a, DS_CMD, (int)i, 9, "$ %s", s);
			else
				dl_addf(a, DS_TEXT, (int)i, 9, "expect: %s", s);
			free(s);
		}
	}
	dl_list(a, c, "Fix", json_object_get(doc, "fix"), true);
	dl_list(a, c, "Verify", json_object_get(doc, "verify"), false);
	esc = json_object_get(doc, "escalate");
	if ((s = fill(c, json_string_value(json_object_get(esc,
	    "when")), 0)) != NULL) {
		dl_add(a, DS_HEAD, -1, 0, "Escalate when");
		dl_add(a, DS_TEXT, -1, 2, s);
		free(s);
	}
	dl_list(a, c, "Attach", json_object_get(esc, "attach"), false);
	dl_list(a, c, "References", json_object_get(doc, "references"), false);
}

static void
build_template(struct app *a, size_t t)
{
	const char *text, *ex, *file;
	uint64_t count, lineno;

	if ((text = pb_analysis_template(a->an, t, &count, &ex, &file,
	    &lineno)) == NULL)
		return;
	dl_add(a, DS_TITLE, -1, 0, "A warning or error no playbook knows");
	dl_addf(a, DS_DIM, -1, 0, "seen %llu time%s", (unsigned long long)count,
	    count == 1 ? "" : "s");
	dl_add(a, DS_HEAD, -1, 0, "Template");
	dl_add(a, DS_TEXT, -1, 2, text);
	dl_add(a, DS_HEAD, -1, 0, "Example (Enter shows the line in the log)");
	dl_addf(a, DS_EVID, 0, 2, "%s:%llu  %s", file, (unsigned long long)lineno,
	    ex);
	dl_add(a, DS_TEXT, -1, 0, "");
	dl_add(a, DS_DIM, -1, 0, "Ask the assistant about it with a, get the "
	    "model's card for it with M, or write a playbook "
	    "(triage-playbook(5)).");
}

/* A "possibly" card: the lines, then the playbook they resemble. */
static void
build_suggested(struct app *a, size_t si)
{
	const struct pb_playbook *pb;
	const char *text, *ex, *file, *klass, *desc = "";
	uint64_t count, lineno;
	enum pb_severity lv;
	int64_t first, last;
	char f[32], l[32];
	double score, sal;
	size_t t;

	pb = pb_analysis_suggested(a->an, si, &score, &t);
	klass = pb_analysis_suggested_class(a->an, si, &desc);
	if ((pb == NULL && klass == NULL) ||
	    (text = pb_analysis_template(a->an, t, &count, &ex, &file,
	    &lineno)) == NULL ||
	    pb_analysis_template_info(a->an, t, &lv, &sal, &first, &last) != 0)
		return;
	pb_time_format(first, f, sizeof(f));
	pb_time_format(last, l, sizeof(l));
	if (pb == NULL) {	/* a whole class: no playbook to show */
		dl_addf(a, DS_TITLE, -1, 0, "possibly %s: %s", klass, desc);
		dl_addf(a, DS_DIM, -1, 0, "Suggested by similarity of wording "
		    "to this class of problem (score %.1f): no playbook "
		    "matched these lines or is close to them.", score);
		dl_addf(a, DS_DIM, -1, 0, "class %s  seen %llu time%s (%s), "
		    "first %s, last %s", klass, (unsigned long long)count,
		    count == 1 ? "" : "s", pb_severity_name(lv), f, l);
	} else {
		dl_addf(a, DS_TITLE, -1, 0, "possibly: %s",
		    pb_playbook_title(pb));
		dl_addf(a, DS_DIM, -1, 0, "Suggested by similarity of wording "
		    "(score %.1f), not matched: no pattern of this playbook "
		    "matched these lines.", score);
		dl_addf(a, DS_DIM, -1, 0, "%s  %s  %s  seen %llu time%s (%s), "
		    "first %s, last %s", pb_severity_name(
		    pb_playbook_severity(pb)), pb_playbook_class(pb),
		    pb_playbook_id(pb), (unsigned long long)count,
		    count == 1 ? "" : "s", pb_severity_name(lv), f, l);
	}
	dl_add(a, DS_HEAD, -1, 0, "Template");
	dl_add(a, DS_TEXT, -1, 2, text);
	dl_add(a, DS_HEAD, -1, 0, "Example (Enter shows the line in the log)");
	dl_addf(a, DS_EVID, 0, 2, "%s:%llu  %s", strrchr(file, '/') ?
	    strrchr(file, '/') + 1 : file, (unsigned long long)lineno, ex);
	if (pb != NULL)
		build_body(a, NULL, pb, pb_playbook_id(pb));
}

void
cards_build_detail(struct app *a)
{
	const struct pb_card *c;

	dl_clear(a);
	if (a->open_card == NULL)
		return;
	if (a->open_card[0] == '?') {
		size_t t = (size_t)strtoul(a->open_card + 1, NULL, 10);
		build_template(a, t);
	} else if (a->open_card[0] == '~') {
		build_suggested(a, (size_t)strtoul(a->open_card + 1, NULL, 10));
	} else if ((c = find_card(a, a->open_card)) != NULL)
		build_card(a, c);
	if (a->dsel >= a->ndl)
		a->dsel = a->ndl ? a->ndl - 1 : 0;
	a->dirty |= D_DETAIL;
}

/* ---- which card a line belongs to ------------------------------------------ */

/* The source a matcher's file name is (cards_feed passes src->name). */
static int
source_of(const struct app *a, const char *file)
{
	for (int j = 0; j < a->nsrc; j++)
		if (a->src[j].name == file)
			return j;
	for (int j = 0; j < a->nsrc; j++)
		if (a->src[j].name != NULL && strcmp(a->src[j].name, file) == 0)
			return j;
	return -1;
}

static void
line_of_card(struct app *a, struct cardlines *cl, const char *file,
    uint64_t lineno, const struct pb_playbook *pb)
{
	int src = source_of(a, file);

	if (src >= 0 && lineno > 0)
		(void)cardlines_add(cl, src, lineno - 1, pb);
}

static void
on_card_line(void *arg, const char *file, uint64_t lineno,
    const struct pb_playbook *pb, uint64_t n)
{
	struct app *a = arg;

	(void)n;	/* counted or evidence of a sequence: both are its lines */
	/* no redraw per line: new rows redraw the log, and marks that come
	 * late (a threshold met) show at the next cards_refresh */
	line_of_card(a, a->cl, file, lineno, pb);
}

static void
on_card_line_next(void *arg, const char *file, uint64_t lineno,
    const struct pb_playbook *pb, uint64_t n)
{
	struct app *a = arg;

	(void)n;
	line_of_card(a, a->cl_next, file, lineno, pb);
}

int
cards_attach(struct app *a)
{
	cardlines_free(a->cl);
	if ((a->cl = cardlines_new()) == NULL)
		return -1;
	pb_analysis_set_line_cb(a->an, on_card_line, a);
	return 0;
}

/* The playbooks of a row's line. */
static size_t
line_cards(const struct app *a, uint64_t ref,
    const struct pb_playbook *const **pbs)
{
	return cardlines_get(a->cl, (int)ROW_SRC(ref), ROW_LINE(ref), pbs);
}

int
cards_line_severity(const struct app *a, uint64_t ref)
{
	const struct pb_playbook *const *pbs;

	if (line_cards(a, ref, &pbs) == 0)
		return -1;
	return (int)pb_playbook_severity(pbs[0]);
}

enum line_sev
cards_evidence_sev(const struct app *a, uint64_t ref)
{
	int ps = cards_line_severity(a, ref);

	/* the analyzer's judgement: a HIGH or CRIT card is an error, a
	 * MEDIUM or LOW one a warning */
	if (ps < 0)
		return SEV_NONE;
	return ps <= PB_SEV_HIGH ? SEV_ERROR : ps <= PB_SEV_LOW ? SEV_WARN :
	    SEV_INFO;
}

long
cards_of_line(struct app *a, uint64_t ref, size_t *n)
{
	const struct pb_playbook *const *pbs;
	size_t np = line_cards(a, ref, &pbs), nc;
	long best = -1;

	*n = np;
	if (np == 0)
		return -1;
	if (a->cards_stale)
		cards_refresh(a);
	nc = pb_analysis_ncards(a->an);
	/* the list is sorted worst first: the first card of the line */
	for (size_t i = 0; i < nc && best < 0; i++) {
		const struct pb_playbook *pb = pb_card_playbook(
		    pb_analysis_card(a->an, i));
		for (size_t k = 0; k < np; k++)
			if (pbs[k] == pb)
				best = (long)i;
	}
	return best;
}

void
cards_refresh(struct app *a)
{
	pb_analysis_finish(a->an);
	a->cards_stale = false;
	a->dirty |= D_LOG;
	if (a->card_sel >= n_items(a))
		a->card_sel = n_items(a) ? n_items(a) - 1 : 0;
	if (a->detail == DETAIL_CARD)
		cards_build_detail(a);
	a->dirty |= D_CARDS | D_DETAIL;
}

/* ---- new playbooks while the app runs -------------------------------------- */

void
cards_feed(struct app *a, int i, uint64_t line, const char *s, size_t len)
{
	struct source *src = &a->src[i];

	pb_analysis_feed_line(a->an, src->name, line + 1, s, len, src->ref);
	if (line + 1 > src->fed)
		src->fed = line + 1;
	/* a re-match that has caught up with this source takes it live */
	if (a->an_next != NULL && src->refed == line) {
		pb_analysis_feed_line(a->an_next, src->name, line + 1, s, len,
		    src->ref);
		src->refed = line + 1;
		a->rematch_lines++;
	}
	a->cards_stale = true;
}

static void
diag_ignore(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/*
 * Load the library again (shipped, installed bundles, the user's) and
 * start matching every line fed so far against it.  The cards on screen
 * stay those of the old library until the new one has caught up, so the
 * list never shows half a re-match.
 */
int
cards_reload(struct app *a, char **cause)
{
	struct pb_library *lib = NULL;
	struct pb_analysis *an = NULL;
	struct pb_options po;

	if (pb_library_new(&lib) != 0) {
		*cause = app_xstrdup("out of memory for the playbooks");
		return -1;
	}
	(void)library_default(lib, diag_ignore, NULL);
	pb_options_init(&po);
	if (pb_analysis_new(lib, &po, &an) != 0) {
		*cause = app_xstrdup("the new playbooks cannot be prepared for "
		    "matching");
		pb_library_free(lib);
		return -1;
	}
	/* a second reload while one runs starts over */
	pb_analysis_free(a->an_next);
	pb_library_free(a->lib_next);
	cardlines_free(a->cl_next);
	a->an_next = an;	/* transferred */
	a->lib_next = lib;
	/* no memory for the marks: the new cards come without them */
	if ((a->cl_next = cardlines_new()) != NULL)
		pb_analysis_set_line_cb(an, on_card_line_next, a);
	a->rematch_lines = 0;
	for (int i = 0; i < a->nsrc; i++)
		a->src[i].refed = 0;
	a->dirty |= D_STATUS;
	return 0;
}

/* Lines re-matched between looks at the clock. */
#define REMATCH_SLICE	256

int
cards_rematch(struct app *a, double ms)
{
	double end = app_now() + ms;
	size_t n = 0;

	if (a->an_next == NULL)
		return 0;
	for (int i = 0; i < a->nsrc; i++) {
		struct source *src = &a->src[i];

		while (src->refed < src->fed) {
			const char *s;
			size_t len;
			bool marker;

			/* lines rotated or truncated away are gone for both */
			if (lidx_get(src->ix, src->refed, &s, &len, &marker) == 0 &&
			    !marker)
				pb_analysis_feed_line(a->an_next, src->name,
				    src->refed + 1, s, len, src->ref);
			src->refed++;
			a->rematch_lines++;
			if (++n % REMATCH_SLICE == 0 && app_now() >= end) {
				a->dirty |= D_STATUS | D_PAGER;
				return 1;
			}
		}
	}
	/* caught up with every source: the new playbooks take over */
	pb_analysis_free(a->an);
	pb_library_free(a->lib);
	cardlines_free(a->cl);
	a->an = a->an_next;
	a->lib = a->lib_next;
	a->cl = a->cl_next;
	a->an_next = NULL;
	a->lib_next = NULL;
	a->cl_next = NULL;
	pb_analysis_set_line_cb(a->an, a->cl != NULL ? on_card_line : NULL, a);
	cards_refresh(a);
	/* an open card whose playbook no longer matches, or an unknown-line
	 * group whose number may now mean another, is closed */
	if (a->open_card != NULL && (a->open_card[0] == '?' ||
	    a->open_card[0] == '~' || find_card(a, a->open_card) == NULL)) {
		free(a->open_card);
		a->open_card = NULL;
		a->detail = DETAIL_ASSIST;
		dl_clear(a);
	}
	app_message(a, false, "playbooks switched: %zu loaded; cards re-matched "
	    "over %llu line%s", pb_library_count(a->lib),
	    (unsigned long long)a->rematch_lines, a->rematch_lines == 1 ? "" :
	    "s");
	a->dirty |= D_ALL;
	return 0;
}

void
cards_open(struct app *a, size_t i)
{
	char buf[32];
	size_t nc, ns;

	if (i >= n_items(a))
		return;
	free(a->open_card);
	nc = pb_analysis_ncards(a->an);
	ns = n_suggested(a);
	if (i < nc)
		a->open_card = app_xstrdup(pb_playbook_id(pb_card_playbook(
		    pb_analysis_card(a->an, i))));
	else if (i < nc + ns) {
		snprintf(buf, sizeof(buf), "~%zu", i - nc);
		a->open_card = app_xstrdup(buf);
	} else {
		snprintf(buf, sizeof(buf), "?%ld", template_at(a, i - nc - ns));
		a->open_card = app_xstrdup(buf);
	}
	a->detail = DETAIL_CARD;
	/* open at the top: title, severity and count first (Down goes to
	 * the first evidence line) */
	a->dsel = a->dtop = 0;
	cards_build_detail(a);
	a->focus = PANE_DETAIL;
	a->dirty |= D_ALL;
}

/* ---- keys ------------------------------------------------------------------ */

static void
move_sel(size_t *sel, size_t n, enum action act, size_t page)
{
	if (n == 0) {
		*sel = 0;
		return;
	}
	switch (act) {
	case ACT_UP: if (*sel > 0) (*sel)--; break;
	case ACT_DOWN: if (*sel + 1 < n) (*sel)++; break;
	case ACT_PGUP: case ACT_HALF_UP: *sel = *sel > page ? *sel - page : 0; break;
	case ACT_PGDN: case ACT_HALF_DN:
		*sel = *sel + page < n ? *sel + page : n - 1; break;
	case ACT_TOP: *sel = 0; break;
	case ACT_BOTTOM: *sel = n - 1; break;
	default: break;
	}
}

void
cards_action(struct app *a, enum action act)
{
	size_t page = a->lay.pane[PANE_CARDS].h > 2 ?
	    (size_t)a->lay.pane[PANE_CARDS].h - 2 : 1;

	if (act == ACT_OPEN) {
		cards_open(a, a->card_sel);
		return;
	}
	move_sel(&a->card_sel, n_items(a), act, page);
	a->dirty |= D_CARDS;
}

void
detail_action(struct app *a, enum action act)
{
	size_t page = a->lay.pane[PANE_DETAIL].h > 2 ?
	    (size_t)a->lay.pane[PANE_DETAIL].h - 2 : 1;

	if (a->detail != DETAIL_CARD) {
		/* the assistant transcript scrolls */
		if (act == ACT_UP || act == ACT_PGUP || act == ACT_HALF_UP) {
			size_t k = act == ACT_UP ? 1 : page;
			a->atop = a->atop > k ? a->atop - k : 0;
			a->afollow = false;
		} else if (act == ACT_DOWN || act == ACT_PGDN || act == ACT_HALF_DN) {
			a->atop += act == ACT_DOWN ? 1 : page;
		} else if (act == ACT_TOP) {
			a->atop = 0;
			a->afollow = false;
		} else if (act == ACT_BOTTOM)
			a->afollow = true;
		a->dirty |= D_DETAIL;
		return;
	}
	if (act == ACT_OPEN || act == ACT_TICK) {
		struct dline *d = a->dsel < a->ndl ? &a->dl[a->dsel] : NULL;
		if (d == NULL || d->item < 0)
			return;
		if (d->style == DS_EVID && act == ACT_OPEN) {
			const struct pb_card *c = a->open_card[0] == '?' ||
			    a->open_card[0] == '~' ? NULL :
			    find_card(a, a->open_card);
			const char *file = NULL, *ex, *text;
			uint64_t lineno = 0, count;
			size_t t = strtoul(a->open_card + 1, NULL, 10);
			double score;

			if (a->open_card[0] == '~' && t >=
			    pb_analysis_nsuggested(a->an))
				return;
			if (a->open_card[0] == '~')
				(void)pb_analysis_suggested(a->an, t, &score, &t);
			if (c != NULL)
				pb_card_example(c, (size_t)d->item, &file, &lineno);
			else if ((text = pb_analysis_template(a->an, t, &count, &ex,
			    &file, &lineno)) == NULL)
				return;
			if (file != NULL) {
				log_goto(a, file, lineno);
				a->focus = PANE_LOG;
			}
		} else if (d->style == DS_CHECK || d->style == DS_CMD ||
		    act == ACT_TICK) {
			if (a->open_card[0] == '?' || a->open_card[0] == '~' ||
			    d->style == DS_EVID)
				return;
			tick_set(a, a->open_card, d->item,
			    !tick_get(a, a->open_card, d->item));
			cards_build_detail(a);
			session_save(a);
		}
		a->dirty |= D_ALL;
		return;
	}
	if (act == ACT_UP || act == ACT_DOWN) {
		/* Up and Down go from item to item: evidence and checks */
		size_t i = a->dsel;
		while (act == ACT_DOWN ? i + 1 < a->ndl : i > 0) {
			i += act == ACT_DOWN ? 1 : (size_t)-1;
			if (a->dl[i].style == DS_EVID || a->dl[i].style == DS_CHECK) {
				a->dsel = i;
				break;
			}
		}
		/* past the last item: the text below still scrolls into view */
		if (i == a->dsel && act == ACT_DOWN && a->dsel + 1 < a->ndl &&
		    a->dl[a->dsel].style != DS_EVID &&
		    a->dl[a->dsel].style != DS_CHECK)
			a->dsel++;
		else if (act == ACT_DOWN && i + 1 >= a->ndl && a->dsel + 1 < a->ndl &&
		    !(a->dl[i].style == DS_EVID || a->dl[i].style == DS_CHECK))
			a->dsel = a->ndl - 1;
	} else
		move_sel(&a->dsel, a->ndl, act, page);
	a->dirty |= D_DETAIL;
}

/* ---- drawing --------------------------------------------------------------- */

static void
header(struct app *a, WINDOW *w, int width, bool focus, const char *text)
{
	pane_header_begin(a, w, width, focus);
	mvwaddnstr(w, 0, 0, text, width);
	pane_header_end(a, w, focus);
}

/* Untrusted text through the cell converter, clipped to w columns. */
static int
put_text(WINDOW *w, int y, int x, int width, const char *s, attr_t at,
    short pair)
{
	struct cell c[512];
	size_t n = text_cells(s, strlen(s), c, 512, NULL);
	int col = 0;

	if (n > 512)
		n = 512;
	for (size_t i = 0; i < n && col + c[i].width <= width; i++) {
		cchar_t cc;
		if (setcchar(&cc, c[i].wc, at, pair, NULL) == OK)
			mvwadd_wch(w, y, x + col, &cc);
		col += c[i].width;
	}
	return col;
}

/*
 * A list line: `head` and `tail` (severity; count and class) always shown,
 * the title between them cut with an ellipsis to what is left.
 */
static void
put_item(WINDOW *w, int y, int width, const char *head, const char *title,
    const char *tail, attr_t at, short pair)
{
	int col = put_text(w, y, 1, width, head, at, pair);
	int room = width - col - (int)text_width(tail, strlen(tail));
	size_t tlen = strlen(title);

	if (room >= 0 && text_width(title, tlen) <= (size_t)room)
		col += put_text(w, y, 1 + col, width - col, title, at, pair);
	else if (room >= 2) {
		char *cut = app_xmalloc(tlen + 4);
		size_t k = text_fit(title, tlen, (size_t)room - 1);

		memcpy(cut, title, k);
		memcpy(cut + k, "\xe2\x80\xa6", 4);	/* ellipsis */
		col += put_text(w, y, 1 + col, width - col, cut, at, pair);
		free(cut);
	}
	put_text(w, y, 1 + col, width - col, tail, at, pair);
}

void
cards_draw(struct app *a, WINDOW *w, const struct rect *r)
{
	size_t nc = pb_analysis_ncards(a->an), ns = n_suggested(a);
	size_t n = n_items(a), h;
	char head[160];

	werase(w);
	snprintf(head, sizeof(head), " Cards: %zu known problem%s, %zu possibly, "
	    "%zu unknown template%s", nc, nc == 1 ? "" : "s", ns, n_templates(a),
	    n_templates(a) == 1 ? "" : "s");
	header(a, w, r->w, a->focus == PANE_CARDS, head);
	h = r->h > 1 ? (size_t)r->h - 1 : 0;
	if (a->card_sel < a->card_top)
		a->card_top = a->card_sel;
	if (h > 0 && a->card_sel >= a->card_top + h)
		a->card_top = a->card_sel - h + 1;
	for (size_t i = a->card_top, y = 1; i < n && y <= h; i++, y++) {
		bool sel = i == a->card_sel;
		attr_t at = sel ? (a->focus == PANE_CARDS ? A_REVERSE : A_BOLD) : 0;
		short pair = 0;
		const char *lead = "", *title = "";
		char tail[160], lbuf[64];
		bool open = false;

		if (i < nc) {
			const struct pb_card *c = pb_analysis_card(a->an, i);
			const struct pb_playbook *pb = pb_card_playbook(c);
			enum pb_severity s = pb_playbook_severity(pb);
			const char *sv[] = { "CRIT ", "HIGH ", "MED  ", "LOW  ",
			    "INFO " };
			const char *cls = pb_playbook_class(pb);

			/* CRIT red and bold, HIGH magenta: never one colour;
			 * in monochrome CRIT is also underlined */
			if (a->colour)
				pair = s == PB_SEV_CRITICAL ? 1 : s == PB_SEV_HIGH ?
				    5 : s == PB_SEV_MEDIUM ? 2 : 3;
			if (s == PB_SEV_CRITICAL)
				at |= a->colour ? A_BOLD : A_BOLD | A_UNDERLINE;
			else if (s == PB_SEV_HIGH && !a->colour)
				at |= A_BOLD;
			open = a->detail == DETAIL_CARD && a->open_card != NULL &&
			    strcmp(a->open_card, pb_playbook_id(pb)) == 0;
			lead = sv[s];
			title = pb_playbook_title(pb);
			snprintf(tail, sizeof(tail), " (%llu)%s%s",
			    (unsigned long long)pb_card_count(c),
			    cls && *cls ? " " : "", cls ? cls : "");
		} else if (i < nc + ns) {
			/* a guess, not a match: dim, and says so first */
			const struct pb_playbook *pb;
			const char *ex, *file, *klass, *desc = "";
			uint64_t count = 0, lineno;
			double score;
			size_t t;

			pb = pb_analysis_suggested(a->an, i - nc, &score, &t);
			klass = pb_analysis_suggested_class(a->an, i - nc,
			    &desc);
			if (pb != NULL || klass != NULL)
				(void)pb_analysis_template(a->an, t, &count, &ex,
				    &file, &lineno);
			if (pb == NULL && klass != NULL) {
				snprintf(lbuf, sizeof(lbuf), "  ~  possibly %s: ",
				    klass);
				lead = lbuf;
				title = desc;
			} else {
				lead = "  ~  possibly: ";
				title = pb ? pb_playbook_title(pb) : "";
			}
			snprintf(tail, sizeof(tail), " (%llu)",
			    (unsigned long long)count);
			at |= A_DIM;
		} else {
			const char *ex, *file, *t = NULL;
			uint64_t count = 0, lineno;
			long ti = template_at(a, i - nc - ns);
			if (ti >= 0)
				t = pb_analysis_template(a->an, (size_t)ti, &count,
				    &ex, &file, &lineno);
			lead = "  ?  ";
			title = t ? t : "";
			snprintf(tail, sizeof(tail), " (%llu)",
			    (unsigned long long)count);
			at |= A_DIM;
		}
		if (sel)
			mvwhline(w, (int)y, 0, ' ' | at, r->w);
		put_item(w, (int)y, r->w - 1, lead, title, tail, at, pair);
		if (open)	/* the card shown in the detail pane */
			mvwaddstr(w, (int)y, 0, "\xe2\x97\x8f");	/* U+25CF */
	}
	if (n == 0)
		mvwaddnstr(w, 2, 2, a->nsrc ? "No known problem found (yet)." :
		    "Cards appear here as log lines arrive.", r->w - 3);
	wnoutrefresh(w);
}

/* Cells of a detail line, in a buffer reused from draw to draw. */
static struct cell *
dl_cells(const struct dline *d, size_t *n)
{
	static struct cell *c;
	static size_t cc;
	size_t len = strlen(d->text);

	if (len + 16 > cc) {
		free(c);
		cc = len * 2 + 64;
		c = app_xmalloc(cc * sizeof(*c));
	}
	*n = text_cells(d->text, len, c, cc, NULL);
	if (*n > cc)
		*n = cc;
	return c;
}

static int
dl_avail(const struct dline *d, int width)
{
	int avail = width - 1 - d->indent;

	return avail < 8 ? width - 1 : avail;
}

/* Screen lines of a detail line at this width (wrapped at spaces). */
static int
dl_height(const struct dline *d, int width)
{
	size_t n, from = 0, next;
	const struct cell *c = dl_cells(d, &n);
	int avail = dl_avail(d, width), lines = 0;

	if (avail < 1)
		return 1;
	while (from < n) {
		(void)text_wrap(c, n, from, (size_t)avail, &next);
		from = next;
		lines++;
	}
	return lines ? lines : 1;
}

void
detail_draw(struct app *a, WINDOW *w, const struct rect *r)
{
	int y = 1, h = r->h - 1;

	werase(w);
	header(a, w, r->w, a->focus == PANE_DETAIL,
	    " Card  (Esc closes; Enter on evidence jumps; Space ticks)");
	/* keep the selection in view */
	if (a->dsel < a->dtop)
		a->dtop = a->dsel;
	for (;;) {
		int used = 0;
		for (size_t i = a->dtop; i <= a->dsel && i < a->ndl; i++)
			used += dl_height(&a->dl[i], r->w);
		if (used <= h || a->dtop >= a->dsel)
			break;
		a->dtop++;
	}
	for (size_t i = a->dtop; i < a->ndl && y < r->h; i++) {
		const struct dline *d = &a->dl[i];
		size_t n, from = 0, end, next;
		const struct cell *c = dl_cells(d, &n);
		int avail = dl_avail(d, r->w);
		attr_t at = 0;
		short pair = 0;

		switch (d->style) {
		case DS_TITLE: at = A_BOLD; break;
		case DS_HEAD: at = A_BOLD | A_UNDERLINE; break;
		case DS_DIM: at = A_DIM; break;
		case DS_EVID: pair = a->colour ? 5 : 0; break;
		case DS_CMD: pair = a->colour ? 4 : 0; break;
		default: break;
		}
		if (i == a->dsel && a->focus == PANE_DETAIL)
			at |= A_REVERSE;
		do {
			int col = 0;
			if (at & A_REVERSE)
				mvwhline(w, y, 0, ' ' | A_REVERSE, r->w);
			end = from < n ? text_wrap(c, n, from, (size_t)avail,
			    &next) : (next = n);
			for (; from < end; from++) {
				cchar_t ch;
				if (setcchar(&ch, c[from].wc, at, pair, NULL) == OK)
					mvwadd_wch(w, y, 1 + d->indent + col, &ch);
				col += c[from].width;
			}
			from = next;
			y++;
		} while (from < n && y < r->h);
	}
	wnoutrefresh(w);
}
