/*
 * screen-assist.c - the assistant pane: what assist.c decides (the
 * conversation, its brief of cards and selected lines, the budget, the
 * model) drawn, and the keys that drive it.  A question is grounded in the
 * cards found and the marked lines (or the lines up to the cursor, or the
 * open card); follow-ups keep the history and reuse the model's cache; the
 * answer streams into the detail pane while the loop stays responsive.
 *
 * The engine generates on its own thread and makes eng_gen_fd() readable
 * when events wait, so only this (the UI) thread touches curses.  The
 * context budget is shown, never silent: how many tokens of log went in,
 * how many lines were cut, how many are kept for the answer.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../engine/engine.h"
#include "../playbooks/playbook.h"
#include "app.h"
#include "assist.h"
#include "card-model.h"
#include "explain.h"
#include "tui.h"

/* Share of the context that log text may take, in %. */
#define LOG_CTX_PERCENT	60
/* Tokens kept for the answer (at most a quarter of the context). */
#define ANSWER_TOKENS	512
/* Lines around the cursor sent when nothing is marked. */
#define CONTEXT_LINES	40
/* Lines at most given for a model card (the newest of the selection). */
#define CARD_LINES	40

/* What a turn of the pane is (struct turn's kind). */
enum turn_kind {
	TK_ANSWER = 0,
	TK_CARD_RUNNING,	/* a model card being written */
	TK_CARD,		/* a valid model card, checked by triage */
	TK_CARD_REJECTED,	/* the model could not produce a valid one */
};

static const char system_prompt[] =
"You are triage, an offline assistant for field technicians repairing "
"machines. Answer briefly and concretely: the likely cause, then numbered "
"steps to check and fix it. Say so when you are unsure.";

static const char no_model_hint[] =
"No language model is installed, so the assistant is off; cards and the "
"log view work without it. To add one: press I to import a signed model "
"bundle from a USB stick (or :import PATH, or `triage bundle import`), or "
"start with TRIAGE_MODEL=/path/to/model.gguf, or load a file now with "
":model FILE.";

bool
assist_running(struct app *a)
{
	return a->assist != NULL && tui_assist_running(a->assist);
}

/* Readable while an answer or a background prefill runs. */
int
assist_fd(struct app *a)
{
	return a->assist != NULL ? tui_assist_fd(a->assist) : -1;
}

void
assist_free(struct app *a)
{
	tui_assist_free(a->assist);	/* owns the model and the session */
	a->assist = NULL;
	a->sess = NULL;
	a->model = NULL;
	for (size_t i = 0; i < a->nturns; i++) {
		free(a->turns[i].question);
		free(a->turns[i].context);
		free(a->turns[i].answer);
		free(a->turns[i].stats);
		free(a->turns[i].note);
	}
	free(a->turns);
	a->turns = NULL;
	a->nturns = 0;
}

/* the kv setting: written once before any model is opened */
static int open_kv = ENG_KV_F16;
/* answer_timeout: each answer's and card's time limit (assist.c keeps it) */
static uint32_t answer_limit_ms = 120 * 1000;

void
assist_set_kv(int kv)
{
	open_kv = kv;
}

void
assist_set_timeout(long seconds)
{
	answer_limit_ms = seconds > 0 && seconds < 86400 * 7 ?
	    (uint32_t)seconds * 1000 : 0;
}

/*
 * Touches nothing but its arguments (and the kv setting, fixed at start),
 * so the import screen's worker thread can open the next model while the
 * UI runs.
 */
int
assist_open(const char *path, struct eng_model **mp, struct eng_session **sp,
    char **cause)
{
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct eng_load_opts lo;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	/* leave one CPU to the UI thread: keys stay prompt while it runs */
	memset(&lo, 0, sizeof(lo));
	lo.n_threads = ncpu > 1 ? (int)ncpu - 1 : 1;
	lo.kv = (enum eng_kv)open_kv;
	if (eng_model_open(path, &lo, &m, cause) != 0 ||
	    eng_session_new(m, &s, cause) != 0) {
		eng_model_free(m);
		return -1;
	}
	*mp = m;	/* transferred */
	*sp = s;
	return 0;
}

void
assist_unload(struct app *a)
{
	if (a->assist != NULL)
		tui_assist_unload(a->assist);
	a->sess = NULL;
	a->model = NULL;
	a->dirty |= D_DETAIL | D_STATUS;
}

void
assist_adopt(struct app *a, struct eng_model *m, struct eng_session *s,
    const char *path, const char *bundle)
{
	assist_unload(a);
	if (a->assist == NULL && tui_assist_new(&a->assist) != 0) {
		eng_session_free(s);
		eng_model_free(m);
		return;
	}
	tui_assist_adopt(a->assist, m, s, path);
	a->model = m;	/* borrowed views for the status line */
	a->sess = s;
	if (path != a->model_path) {
		free(a->model_path);
		a->model_path = app_xstrdup(path);
	}
	if (bundle != a->model_bundle) {
		free(a->model_bundle);
		a->model_bundle = bundle ? app_xstrdup(bundle) : NULL;
	}
	free(a->model_error);
	a->model_error = NULL;
}

static void
load_failed(struct app *a, const char *path, const char *cause)
{
	free(a->model_error);
	if (asprintf(&a->model_error, "the model could not be loaded: %s",
	    cause ? cause : path) < 0)
		a->model_error = NULL;
	app_message(a, true, "%s", a->model_error ? a->model_error : path);
}

int
assist_load(struct app *a, const char *path)
{
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	char *cause = NULL;

	if (assist_open(path, &m, &s, &cause) != 0) {
		load_failed(a, path, cause);
		free(cause);
		return -1;
	}
	assist_adopt(a, m, s, path, path == a->model_path ? a->model_bundle :
	    NULL);
	a->dirty |= D_DETAIL | D_STATUS;
	return 0;
}

/*
 * Load the configured or installed model on first use.  An installed
 * model that does not load sends its bundle back to the last-known-good
 * version, as `triage ask` does, and says so.
 */
static int
ensure_model(struct app *a, struct turn *t)
{
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	char *bundle = NULL, *p, *cause = NULL, *back, *c2 = NULL;
	int rc = -1;

	if (a->model != NULL)
		return 0;
	if (a->model_error != NULL)
		return -1;
	if (a->model_path == NULL) {
		if ((p = bundle_model_path(&bundle)) == NULL) {
			free(bundle);
			return -1;
		}
		a->model_path = p;
		free(a->model_bundle);
		a->model_bundle = import_model_origin(bundle);
		free(bundle);
	}
	if (a->model_pinned || a->model_bundle == NULL)
		return assist_load(a, a->model_path);
	if (assist_open(a->model_path, &m, &s, &cause) == 0) {
		assist_adopt(a, m, s, a->model_path, a->model_bundle);
		return 0;
	}
	/* the bundle's name is the first word of "NAME VERSION" */
	bundle = app_xstrdup(a->model_bundle);
	bundle[strcspn(bundle, " ")] = '\0';
	if ((back = bundle_model_fallback(bundle, cause)) == NULL) {
		load_failed(a, a->model_path, cause);
		goto out;
	}
	if (assist_open(back, &m, &s, &c2) != 0) {
		load_failed(a, back, c2);
		free(back);
		goto out;
	}
	p = import_model_origin(bundle);
	free(t->note);
	if (asprintf(&t->note, "fallback: %s did not load (%s); switched back "
	    "to the last-known-good %s", a->model_bundle, cause ? cause : "?",
	    p ? p : back) < 0)
		t->note = NULL;
	app_message(a, true, "%s", t->note ? t->note : "model fallback");
	assist_adopt(a, m, s, back, p);
	if (a->assist != NULL)	/* kept with the session, with its reason */
		tui_assist_fallback(a->assist, TUI_FB_LOAD, t->note ? t->note :
		    cause);
	free(p);
	free(back);
	rc = 0;
out:
	free(c2);
	free(cause);
	free(bundle);
	return rc;
}

static struct turn *
turn_new(struct app *a, const char *q)
{
	struct turn *t = realloc(a->turns, (a->nturns + 1) * sizeof(*t));

	if (t == NULL)
		return NULL;
	a->turns = t;
	t = &a->turns[a->nturns++];
	memset(t, 0, sizeof(*t));
	t->question = app_xstrdup(q);
	return t;
}

static void
turn_append(struct turn *t, const char *s, size_t n)
{
	if (t->alen + n + 1 > t->acap) {
		size_t cap = t->acap ? t->acap : 256;
		char *p;
		while (cap < t->alen + n + 1)
			cap *= 2;
		if ((p = realloc(t->answer, cap)) == NULL)
			return;
		t->answer = p;
		t->acap = cap;
	}
	memcpy(t->answer + t->alen, s, n);
	t->alen += n;
	t->answer[t->alen] = '\0';
}

/* The log lines to send, one string, oldest first; *nlines set. */
static char *
gather_lines(struct app *a, size_t *nlines, char **where)
{
	char *out = NULL, *s;
	size_t len = 0;
	uint64_t rows[APP_MAX_MARKS + CONTEXT_LINES];
	size_t n = 0;
	uint64_t total = log_nrows(a);
	FILE *fp;

	*nlines = 0;
	if (a->lv.nmarks > 0) {
		/* marked lines, in view order */
		for (uint64_t r = 0; r < total && n < (size_t)a->lv.nmarks; r++) {
			uint64_t ref = a->lv.direct ? ROW_MAKE(0, r) : a->lv.rows[r];
			for (int i = 0; i < a->lv.nmarks; i++)
				if (a->lv.marks[i] == ref)
					rows[n++] = r;
		}
		*where = app_xstrdup("the marked lines");
	} else if (total > 0) {
		uint64_t from = a->lv.cur >= CONTEXT_LINES - 1 ?
		    a->lv.cur - (CONTEXT_LINES - 1) : 0;
		for (uint64_t r = from; r <= a->lv.cur && r < total; r++)
			rows[n++] = r;
		*where = app_xstrdup("the lines up to the cursor");
	} else {
		*where = app_xstrdup("no log lines");
		return NULL;
	}
	if ((fp = open_memstream(&out, &len)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *file;
		uint64_t lineno;
		if ((s = log_row_text(a, rows[i], &file, &lineno)) == NULL)
			continue;
		fprintf(fp, "%s\n", s);
		free(s);
		(*nlines)++;
	}
	fclose(fp);
	return out;
}

static char *
card_text(struct app *a)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (fp == NULL)
		return NULL;
	for (size_t i = 0; i < a->ndl; i++)
		fprintf(fp, "%*s%s\n", a->dl[i].indent, "", a->dl[i].text);
	fclose(fp);
	return out;
}

/* Background prefill slices: small, so a question waits for none. */
#define WARM_SLICE	64

/*
 * Read ahead what the next question starts with, when a model is loaded,
 * the analysis has settled and nothing runs.  Before the first question
 * the brief is the cards found (the selection is known only when asked).
 */
/*
 * A number that changes whenever the analysis may have: lines fed to
 * the matcher, and the matcher itself (a re-match swaps it).
 */
static uint64_t
an_version(struct app *a)
{
	uint64_t v = (uint64_t)(uintptr_t)a->an;

	for (int i = 0; i < a->nsrc; i++)
		v = v * 1000003u + a->src[i].fed;
	return v + pb_analysis_ncards(a->an);
}

static void
warm(struct app *a)
{
	uint32_t nctx;

	if (a->assist == NULL || !tui_assist_has_model(a->assist) ||
	    tui_assist_running(a->assist) || a->model_switching ||
	    a->cards_stale || a->an == NULL)
		return;
	/* before the first question the brief is the cards found (the
	 * selection is known only when asked); after it, new lines that
	 * change the brief build it again with the same selection */
	if (*tui_assist_brief(a->assist) == '\0') {
		nctx = tui_assist_ctx(a->assist);
		(void)tui_assist_ground(a->assist, system_prompt, a->an,
		    an_version(a), NULL, NULL, nctx * LOG_CTX_PERCENT / 100,
		    NULL);
	} else
		(void)tui_assist_reground(a->assist, a->an, an_version(a));
	if (!tui_assist_warming(a->assist))
		(void)tui_assist_warm(a->assist, WARM_SLICE);
}

void
assist_ask(struct app *a, const char *question)
{
	struct eng_sample_params sp;
	struct tui_turn_info ti;
	struct tui_brief_cut bc;
	struct turn *t;
	char *ctx = NULL, *where = NULL, *cause = NULL;
	size_t nlines = 0;
	uint32_t nctx, reserve, budget;
	bool card = a->detail == DETAIL_CARD && a->open_card != NULL;

	if (assist_running(a)) {
		app_message(a, true, "the model is still answering (Esc stops it)");
		return;
	}
	if (a->model_switching) {
		app_message(a, true, "the new model is being opened; ask again in "
		    "a moment");
		return;
	}
	a->detail = DETAIL_ASSIST;
	a->afollow = true;
	a->dirty |= D_DETAIL | D_STATUS;
	if ((t = turn_new(a, question)) == NULL)
		return;
	if (ensure_model(a, t) != 0) {
		const char *msg = a->model_error ? a->model_error : no_model_hint;

		if (a->assist == NULL)
			(void)tui_assist_new(&a->assist);
		if (a->assist != NULL)
			tui_assist_fallback(a->assist, a->model_error ?
			    TUI_FB_LOAD : TUI_FB_NO_MODEL, msg);
		turn_append(t, msg, strlen(msg));
		t->stopped = true;
		return;
	}
	nctx = tui_assist_ctx(a->assist);
	reserve = nctx / 4 < ANSWER_TOKENS ? nctx / 4 : ANSWER_TOKENS;
	budget = nctx * LOG_CTX_PERCENT / 100;
	if (card && a->ndl > 0) {
		ctx = card_text(a);
		where = app_xstrdup("the open card");
		nlines = a->ndl;
	} else
		ctx = gather_lines(a, &nlines, &where);
	/* the cards found, the unknown templates, then the selection; from
	 * the analysis as it is now, never an older brief */
	if (a->cards_stale)
		cards_refresh(a);
	if (tui_assist_ground(a->assist, system_prompt, a->an, an_version(a),
	    where, ctx, budget, &bc) != 0)
		goto out;
	tui_assist_set_reserve(a->assist, reserve);
	tui_assist_set_limit(a->assist, answer_limit_ms);
	eng_sample_defaults(&sp);
	sp.max_tokens = reserve;
	if (tui_assist_ask(a->assist, TUI_TURN_QUESTION, question, &sp, &ti,
	    &cause) != 0) {
		const char *m = cause ? cause : "cannot build the prompt";

		turn_append(t, m, strlen(m));
		t->stopped = true;
		goto out;
	}
	free(t->context);
	/* two lines at most in a narrow pane: the figures, tersely */
	if (asprintf(&t->context, "brief: %zu tokens: %zu cards, %zu templates, "
	    "%zu lines (cut: %zu, %zu, %zu); prompt %zu/%u%s%.0zu%s%s%.0zu%s",
	    bc.tokens, bc.cards_in, bc.templates_in, nlines - (bc.lines <
	    nlines ? bc.lines : nlines), bc.cards, bc.templates, bc.lines,
	    ti.n_prompt, nctx, ti.n_dropped ? "; " : "", ti.n_dropped,
	    ti.n_dropped ? " oldest dropped to fit" : "", ti.n_history ?
	    "; with " : "", ti.n_history, ti.n_history == 1 ?
	    " earlier exchange" : ti.n_history ? " earlier exchanges" : "") < 0)
		t->context = NULL;
	free(a->budget);
	a->budget = t->context ? app_xstrdup(t->context) : NULL;
	a->prefill_done = 0;
	a->prefill_total = ti.n_prompt - ti.n_reused;
	a->gen_t0 = 0;
	a->gen_tokens = 0;
out:
	free(ctx);
	free(where);
	free(cause);
}

void
assist_stop(struct app *a)
{
	if (!assist_running(a))
		return;
	tui_assist_cancel(a->assist, false);
	app_message(a, false, "stopping the answer");
}

/* A key was pressed: the background prefill makes way at once. */
void
assist_pause(struct app *a)
{
	if (a->assist != NULL)
		tui_assist_pause(a->assist);
}

/* ---- model cards ------------------------------------------------------------ */

/* Said when model cards go off (tui_assist_cards_off), and how to turn
 * them back on. */
static const char cards_off_hint[] =
" To ask the model again: :explain on, or load another model "
"with :model FILE.";

/* The card just checked (or why there is none), into its turn; refused:
 * none was asked, model cards being off. */
static void
card_done(struct app *a, struct turn *t, bool refused)
{
	const char *reason, *file;
	size_t n = tui_assist_mcards(a->assist);
	const struct tui_mcard *c;
	char *text = NULL;

	free(t->answer);
	t->answer = NULL;
	t->alen = t->acap = 0;
	if (tui_assist_card_result(a->assist, &reason) == 1 && n > 0 &&
	    (c = tui_assist_mcard(a->assist, n - 1, NULL, &file)) != NULL &&
	    (text = tui_mcard_text(c, file)) != NULL) {
		t->kind = TK_CARD;
		turn_append(t, text, strlen(text));
		app_message(a, false, "model card: suggested by the model, "
		    "checked by triage");
	} else if (refused) {
		/* cards are off: no request was made */
		t->kind = TK_CARD_REJECTED;
		if (asprintf(&text, "No model card: %s.%s", reason && *reason ?
		    reason : "model cards are off", cards_off_hint) < 0)
			text = NULL;
		if (text != NULL)
			turn_append(t, text, strlen(text));
		app_message(a, true, "model cards are off for this session "
		    "(:explain on asks again)");
	} else {
		bool off = tui_assist_cards_off(a->assist);

		t->kind = TK_CARD_REJECTED;
		if (asprintf(&text, "The model could not produce a valid card: "
		    "%s. The rule-based view stands.", reason && *reason ?
		    reason : "no card") < 0)
			text = NULL;
		if (text != NULL)
			turn_append(t, text, strlen(text));
		free(text);
		text = NULL;
		if (off && asprintf(&text, "\nThe model produced %d invalid "
		    "cards in a row: model cards are off for this session.%s",
		    TUI_ASSIST_BAD_CARDS, cards_off_hint) < 0)
			text = NULL;
		if (text != NULL)
			turn_append(t, text, strlen(text));
		if (tui_assist_timed_out(a->assist))
			app_message(a, true, "the model card timed out; the "
			    "rule-based view stands");
		else if (off)
			app_message(a, true, "model cards are off for this "
			    "session: %d invalid cards in a row",
			    TUI_ASSIST_BAD_CARDS);
		else
			app_message(a, true, "the model could not produce a "
			    "valid card");
	}
	free(text);
}

/* Rows of the marked lines (view order), or the lines up to the cursor. */
static size_t
selected_rows(struct app *a, uint64_t *rows, size_t max, bool *marked)
{
	uint64_t total = log_nrows(a);
	size_t n = 0;

	*marked = a->lv.nmarks > 0;
	if (*marked) {
		for (uint64_t r = 0; r < total && n < (size_t)a->lv.nmarks; r++) {
			uint64_t ref = a->lv.direct ? ROW_MAKE(0, r) : a->lv.rows[r];

			for (int i = 0; i < a->lv.nmarks; i++)
				if (a->lv.marks[i] == ref)
					rows[n++ % max] = r;
		}
		/* the newest max of them, oldest first */
		if (n > max) {
			uint64_t tmp[CARD_LINES];

			for (size_t i = 0; i < max; i++)
				tmp[i] = rows[(n + i) % max];
			memcpy(rows, tmp, max * sizeof *rows);
			n = max;
		}
		return n;
	}
	if (total == 0)
		return 0;
	for (uint64_t r = a->lv.cur >= max - 1 ? a->lv.cur - (max - 1) : 0;
	    r <= a->lv.cur && r < total; r++)
		rows[n++] = r;
	return n;
}

/* The selection as a request: the lines of the first line's file. */
static int
selection_req(struct app *a, struct tui_explain_req *rq)
{
	uint64_t rows[CARD_LINES];
	struct tui_mcard_line l[CARD_LINES];
	char *text[CARD_LINES], *file = NULL;
	size_t nr, n = 0;
	bool marked;
	int rc;

	nr = selected_rows(a, rows, CARD_LINES, &marked);
	for (size_t i = 0; i < nr; i++) {
		const char *f;
		uint64_t ln;
		char *s = log_row_text(a, rows[i], &f, &ln);

		if (s == NULL || (file != NULL && strcmp(f, file) != 0)) {
			free(s);
			continue;
		}
		if (file == NULL)
			file = app_xstrdup(f);
		text[n] = s;
		l[n].lineno = ln;
		l[n].text = s;
		n++;
	}
	rc = n > 0 ? tui_explain_lines(file, l, n, rq) : -1;
	for (size_t i = 0; i < n; i++)
		free(text[i]);
	free(file);
	return rc;
}

void
assist_card(struct app *a, const char *arg)
{
	struct tui_explain_req rq;
	struct turn *t;
	char *cause = NULL, *q = NULL;
	unsigned long ntok = TUI_EXPLAIN_TOKENS;
	const char *o = a->detail == DETAIL_CARD ? a->open_card : NULL;
	bool on = arg != NULL && strcmp(arg, "on") == 0, was_off;
	int rc;

	if (on)
		arg = NULL;
	if (arg != NULL && *arg != '\0') {
		char *end;

		ntok = strtoul(arg, &end, 10);
		if (*end != '\0' || ntok == 0 || ntok > 4096) {
			app_message(a, true, ":explain [TOKENS | on]: a number "
			    "of tokens from 1 to 4096, or on");
			return;
		}
	}
	if (assist_running(a) || a->model_switching) {
		app_message(a, true, "the model is busy (Esc stops the answer)");
		return;
	}
	if (a->cards_stale)
		cards_refresh(a);
	/* what the card is about: the open card or template, else the
	 * marked lines (or the lines up to the cursor) */
	memset(&rq, 0, sizeof rq);
	if (o != NULL && o[0] == '?')
		rc = tui_explain_template(a->an, strtoul(o + 1, NULL, 10), &rq);
	else if (o != NULL && o[0] == '~') {
		double score;
		size_t ti = 0, si = strtoul(o + 1, NULL, 10);

		/* a class-level suggestion has no playbook, but its template */
		(void)pb_analysis_suggested(a->an, si, &score, &ti);
		rc = si < pb_analysis_nsuggested(a->an) ?
		    tui_explain_template(a->an, ti, &rq) : -1;
	} else if (o != NULL) {
		rc = -1;
		for (size_t i = 0; i < pb_analysis_ncards(a->an) && rc != 0; i++) {
			const struct pb_card *c = pb_analysis_card(a->an, i);

			if (strcmp(pb_playbook_id(pb_card_playbook(c)), o) == 0)
				rc = tui_explain_card(c, &rq);
		}
	} else
		rc = selection_req(a, &rq);
	if (rc != 0) {
		app_message(a, true, "nothing to explain: open a card or an "
		    "unknown template, or mark lines with m");
		return;
	}
	a->detail = DETAIL_ASSIST;
	a->afollow = true;
	a->dirty |= D_DETAIL | D_STATUS;
	if (asprintf(&q, "model card: %s", rq.subject) < 0 ||
	    (t = turn_new(a, q)) == NULL) {
		free(q);
		tui_explain_req_clear(&rq);
		return;
	}
	free(q);
	t->kind = TK_CARD_RUNNING;
	if (ensure_model(a, t) != 0) {
		const char *msg = a->model_error ? a->model_error : no_model_hint;

		if (a->assist == NULL)
			(void)tui_assist_new(&a->assist);
		if (a->assist != NULL)
			tui_assist_fallback(a->assist, a->model_error ?
			    TUI_FB_LOAD : TUI_FB_NO_MODEL, msg);
		t->kind = TK_CARD_REJECTED;
		turn_append(t, msg, strlen(msg));
		t->stopped = true;
		tui_explain_req_clear(&rq);
		session_save(a);
		return;
	}
	if (on)	/* model cards back on after too many invalid ones */
		tui_assist_cards_on(a->assist);
	was_off = tui_assist_cards_off(a->assist);
	tui_assist_set_limit(a->assist, answer_limit_ms);
	if (tui_assist_card(a->assist, rq.subject, rq.file, rq.what, rq.lines,
	    rq.n, (uint32_t)ntok, &cause) != 0) {
		/* the reason, as for a failed check */
		card_done(a, t, was_off);
		t->stopped = true;
		session_save(a);
	} else {
		a->prefill_done = 0;
		a->prefill_total = 0;
		a->gen_t0 = 0;
		a->gen_tokens = 0;
	}
	free(cause);
	tui_explain_req_clear(&rq);
}

/* ---- kept with the session ----------------------------------------------- */

void
assist_session_save(struct app *a, const char *dir)
{
	char *path = NULL, *tmp = NULL, *cause = NULL;

	if (a->assist == NULL || (tui_assist_turns(a->assist) == 0 &&
	    tui_assist_fallbacks(a->assist) == 0 &&
	    tui_assist_mcards(a->assist) == 0))
		return;
	/* written aside and renamed, as session.json is */
	if (asprintf(&path, "%s/assist.json", dir) >= 0 &&
	    asprintf(&tmp, "%s/.assist.json.tmp", dir) >= 0 &&
	    (tui_assist_save(a->assist, tmp, &cause) != 0 ||
	    rename(tmp, path) != 0))
		unlink(tmp);
	free(cause);
	free(path);
	free(tmp);
}

void
assist_session_load(struct app *a, const char *dir)
{
	char *path = NULL, *cause = NULL, *mp = NULL;
	struct tui_assist *as = NULL;

	if (asprintf(&path, "%s/assist.json", dir) < 0 ||
	    access(path, F_OK) != 0 || tui_assist_new(&as) != 0)
		goto out;
	/* the model is the session's (session.json), not the one named here */
	if (tui_assist_restore(as, path, &mp, &cause) != 0) {
		app_message(a, true, "%s", cause ? cause : path);
		goto out;
	}
	tui_assist_free(a->assist);
	a->assist = as;
	as = NULL;
	a->model = NULL;
	a->sess = NULL;
out:
	tui_assist_free(as);
	free(mp);
	free(cause);
	free(path);
}

json_t *
assist_report(struct app *a)
{
	json_t *o = json_object(), *cards = json_array(), *fbs = json_array();
	size_t n = a->assist ? tui_assist_mcards(a->assist) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *subject, *file;
		const struct tui_mcard *c = tui_assist_mcard(a->assist, i,
		    &subject, &file);
		json_t *j = tui_mcard_json(c);
		char *text = tui_mcard_text(c, file);

		if (j == NULL) {
			free(text);
			continue;
		}
		/* raw here: the report makes every string printable */
		json_object_set_new(j, "subject", json_string(subject));
		json_object_set_new(j, "file", json_string(file));
		json_object_set_new(j, "text", json_string(text ? text : ""));
		free(text);
		json_array_append_new(cards, j);
	}
	for (size_t i = 0; a->assist != NULL &&
	    i < tui_assist_fallbacks(a->assist); i++) {
		const char *detail;
		enum tui_fallback f = tui_assist_fallback_at(a->assist, i,
		    &detail);

		json_array_append_new(fbs, json_pack("{s:s, s:s}", "reason",
		    tui_fallback_name(f), "detail", detail));
	}
	json_object_set_new(o, "model_cards", cards);
	json_object_set_new(o, "fallbacks", fbs);
	return o;
}

void
assist_events(struct app *a)
{
	static const char *why[] = { "", "end of turn", "token limit",
	    "context full", "stopped", "error" };
	struct turn *t = a->nturns ? &a->turns[a->nturns - 1] : NULL;
	struct eng_event ev;
	int n = 0;

	while (a->assist != NULL && tui_assist_next(a->assist, &ev, false) == 1) {
		n++;
		if (ev.kind == ENG_EV_PROGRESS) {
			a->prefill_done = ev.done;
			a->prefill_total = ev.total;
		} else if (ev.kind == ENG_EV_TEXT) {
			if (a->gen_t0 == 0)
				a->gen_t0 = app_now();
			a->gen_tokens++;
			if (t != NULL)
				turn_append(t, ev.text, ev.len);
		} else if (ev.kind == ENG_EV_DONE) {
			size_t hid = tui_assist_hidden(a->assist);
			bool late = tui_assist_timed_out(a->assist);
			char tw[128];

			/* the last line of the turn, so it is seen where the
			 * answer stopped */
			snprintf(tw, sizeof tw, "timed out after %.3g s (the "
			    "answer_timeout setting); the rule-based cards stand",
			    tui_assist_limit(a->assist) / 1e3);
			if (t != NULL) {
				free(t->stats);
				if (asprintf(&t->stats, "%u tokens in %.0f ms (%.1f "
				    "tokens/s); prompt %u tokens in %.0f ms; %s%s%s%s",
				    ev.n_gen, ev.gen_ms, ev.gen_ms > 0 ? ev.n_gen *
				    1e3 / ev.gen_ms : 0, ev.n_prompt, ev.prompt_ms,
				    late ? tw : why[ev.stop <= ENG_STOP_ERROR ?
				    ev.stop : 0], ev.len && !late ? ": " : "",
				    ev.len && !late ? ev.text : "",
				    hid ? "; reasoning hidden" : "") < 0)
					t->stats = NULL;
				t->stopped = ev.stop == ENG_STOP_CANCEL;
			}
			if (t != NULL && t->kind == TK_CARD_RUNNING)
				card_done(a, t, false);
			else if (late)	/* the fallback: recorded by assist.c */
				app_message(a, true, "the answer timed out after "
				    "%.3g s; the rule-based cards stand",
				    tui_assist_limit(a->assist) / 1e3);
			else if (ev.stop == ENG_STOP_CANCEL)
				app_message(a, false, "answer stopped");
			a->last_tps = ev.gen_ms > 0 ? ev.n_gen * 1e3 / ev.gen_ms : 0;
			session_save(a);
			break;
		}
	}
	/* idle again (or a slice done): read ahead for the next question */
	warm(a);
	if (n > 0)
		a->dirty |= D_DETAIL | D_STATUS;
}

void
assist_think(struct app *a, const char *arg)
{
	bool on;

	if (a->assist == NULL && tui_assist_new(&a->assist) != 0)
		return;
	on = arg == NULL || *arg == '\0' ? !tui_assist_think(a->assist) :
	    strcmp(arg, "on") == 0;
	tui_assist_set_think(a->assist, on);
	app_message(a, false, "thinking %s for the next questions%s", on ?
	    "on" : "off", on ? " (the reasoning stays hidden)" : "");
	a->dirty |= D_STATUS;
}

void
assist_status(struct app *a, char *buf, size_t size)
{
	const struct eng_info *in = a->model ? eng_model_info(a->model) : NULL;
	const char *name = in && in->name[0] ? in->name : a->model_path ?
	    a->model_path : NULL;
	char nm[160] = "?";

	if (name != NULL) {
		const char *b = strrchr(name, '/');
		snprintf(nm, sizeof(nm), "%s", b ? b + 1 : name);
	}
	if (assist_running(a)) {
		double el = a->gen_t0 > 0 ? app_now() - a->gen_t0 : 0;
		if (tui_assist_carding(a->assist))
			snprintf(buf, size, "%s: writing a model card, %u tokens | "
			    "Esc stops", nm, a->gen_tokens);
		else if (a->gen_tokens == 0)
			snprintf(buf, size, "%s: reading the prompt %zu/%zu | Esc "
			    "stops", nm, a->prefill_done, a->prefill_total);
		else
			snprintf(buf, size, "%s: answering, %u tokens, %.1f "
			    "tokens/s | Esc stops", nm, a->gen_tokens,
			    el > 0 ? a->gen_tokens * 1e3 / el : 0);
	} else if (a->model_switching)
		snprintf(buf, size, "opening the model %s", a->model_bundle ?
		    a->model_bundle : nm);
	else if (in != NULL) {
		size_t re = a->assist ? tui_assist_last(a->assist)->n_reused : 0;
		char reuse[64] = "";

		if (re > 0)
			snprintf(reuse, sizeof reuse, "; %zu tokens of the last "
			    "prompt were cached", re);
		snprintf(buf, size, "model %s (%s %s, ctx %u)%s%s%s", nm, in->arch,
		    in->ftype, in->n_ctx, a->model_bundle ? " from " : "",
		    a->model_bundle ? a->model_bundle : "", reuse);
	} else if (a->model_error != NULL)
		snprintf(buf, size, "model failed to load (see assistant)");
	else if (a->model_path != NULL)
		snprintf(buf, size, "model %s (loads on first question)", nm);
	else
		snprintf(buf, size, "no model: cards only (a to see how to add one)");
}

/* ---- drawing --------------------------------------------------------------- */

struct wline {
	const char	*s;
	size_t		 len;
	attr_t		 at;
	short		 pair;
};

/* Split text at newlines and wrap each piece to width columns. */
static void
wrap_add(struct wline **v, size_t *n, size_t *cap, const char *s, attr_t at,
    short pair, int width, const char *prefix)
{
	const char *p = s;

	(void)prefix;
	if (width < 8)
		width = 8;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t off = 0;

		do {
			/* how many bytes fit in width columns */
			size_t take = 0, cols = 0;
			while (off + take < len) {
				size_t cl = 1;
				unsigned char c = (unsigned char)p[off + take];
				if (c >= 0xf0) cl = 4;
				else if (c >= 0xe0) cl = 3;
				else if (c >= 0xc0) cl = 2;
				if (off + take + cl > len)
					cl = len - off - take;
				size_t w = text_width(p + off + take, cl);
				if (cols + w > (size_t)width)
					break;
				cols += w;
				take += cl;
			}
			if (take == 0 && off < len)
				take = 1;
			/* break at a space when the line is cut */
			if (off + take < len) {
				size_t b = take;
				while (b > 0 && p[off + b - 1] != ' ')
					b--;
				if (b > take / 2)
					take = b;
			}
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				*v = realloc(*v, *cap * sizeof(**v));
				if (*v == NULL) {
					*n = *cap = 0;
					return;
				}
			}
			(*v)[(*n)++] = (struct wline){ p + off, take, at, pair };
			off += take;
		} while (off < len);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

void
assist_draw(struct app *a, WINDOW *w, const struct rect *r)
{
	struct wline *v = NULL;
	char **qs;
	size_t n = 0, cap = 0, h = r->h > 1 ? (size_t)r->h - 1 : 0, top;
	int width = r->w - 2;
	char intro[512];

	werase(w);
	pane_header_begin(a, w, r->w, a->focus == PANE_DETAIL);
	mvwaddnstr(w, 0, 0, " Assistant  (a asks; Esc stops an answer)", r->w);
	pane_header_end(a, w, a->focus == PANE_DETAIL);
	if (a->nturns == 0) {
		const char *m = a->model_path;
		if (a->model_error != NULL)
			snprintf(intro, sizeof(intro), "%s", a->model_error);
		else if (m == NULL) {
			/* the bundle store is read once, not on every draw */
			static int installed = -1;
			if (installed < 0) {
				char *b = NULL, *p = bundle_model_path(&b);
				installed = p != NULL;
				free(b);
				free(p);
			}
			if (installed)
				snprintf(intro, sizeof(intro), "Ask about the log "
				    "with a, or :ask QUESTION.  Mark lines with m "
				    "first to choose what the model sees.");
			else
				snprintf(intro, sizeof(intro), "%s", no_model_hint);
		} else
			snprintf(intro, sizeof(intro), "Ask about the log with a, "
			    "or :ask QUESTION.  Mark lines with m first to choose "
			    "what the model sees; with a card open, the card goes "
			    "along.");
		wrap_add(&v, &n, &cap, intro, 0, 0, width, NULL);
	}
	/* the wrapped lines point into these: they live until the end */
	qs = calloc(a->nturns + 1, sizeof(*qs));
	for (size_t i = 0; i < a->nturns && qs != NULL; i++) {
		struct turn *t = &a->turns[i];

		if (asprintf(&qs[i], "> %s", t->question) < 0)
			qs[i] = NULL;
		wrap_add(&v, &n, &cap, qs[i] ? qs[i] : ">", A_BOLD, 0, width,
		    NULL);
		if (t->note)
			wrap_add(&v, &n, &cap, t->note, A_BOLD, a->colour ? 2 : 0,
			    width, NULL);
		if (t->context)
			wrap_add(&v, &n, &cap, t->context, A_DIM, 0, width, NULL);
		if (t->kind == TK_CARD)	/* the model's, never a playbook's */
			wrap_add(&v, &n, &cap, t->answer ? t->answer : "",
			    a->colour ? 0 : A_BOLD, a->colour ? 5 : 0, width,
			    NULL);
		else
			wrap_add(&v, &n, &cap, t->answer ? t->answer :
			    t->kind == TK_CARD_RUNNING && assist_running(a) &&
			    i + 1 == a->nturns ? "writing a model card (triage "
			    "checks it before it is shown)..." :
			    (assist_running(a) && i + 1 == a->nturns ? "..." :
			    ""), 0, 0, width, NULL);
		if (t->stats)
			wrap_add(&v, &n, &cap, t->stats, A_DIM, a->colour ? 3 : 0,
			    width, NULL);
		wrap_add(&v, &n, &cap, "", 0, 0, width, NULL);
	}
	if (a->afollow || a->atop + h > n)
		a->atop = n > h ? n - h : 0;
	top = a->atop;
	for (size_t i = top, y = 1; i < n && y <= h; i++, y++) {
		struct cell c[1024];
		size_t nc = text_cells(v[i].s, v[i].len, c, 1024, NULL), col = 0;

		if (nc > 1024)
			nc = 1024;
		for (size_t k = 0; k < nc && col + c[k].width <= (size_t)width; k++) {
			cchar_t cc;
			if (setcchar(&cc, c[k].wc, v[i].at, v[i].pair, NULL) == OK)
				mvwadd_wch(w, (int)y, 1 + (int)col, &cc);
			col += c[k].width;
		}
	}
	free(v);
	for (size_t i = 0; qs != NULL && i < a->nturns; i++)
		free(qs[i]);
	free(qs);
	wnoutrefresh(w);
}
