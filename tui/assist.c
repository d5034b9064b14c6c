/*
 * assist.c - the assistant's conversation, context, budget and model
 * (see assist.h).  No drawing here: `triage ask` prints and the app's
 * pane draws what this decides.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../playbooks/playbook.h"
#include "assist.h"
#include "card-model.h"
#include "metrics.h"

/* Tokens kept for the answer by default. */
#define RESERVE_DEFAULT	512
/* Qwen3's soft switch: the model then writes an empty think block. */
static const char no_think[] = " /no_think";

struct exchange {
	char		*q, *a;
};

struct fb {
	enum tui_fallback why;
	char		*detail;
	time_t		 when;
};

struct tui_assist {
	struct eng_model *m;
	struct eng_session *s;
	char		*path;
	char		*system, *brief;
	bool		 think;
	size_t		 reserve;
	struct exchange	*ex;
	size_t		 nex, capex;
	size_t		 dropped;
	struct fb	*fb;
	size_t		 nfb, capfb;
	/* the answer being generated */
	struct eng_gen	*g;
	char		*q;		/* its question */
	char		*ans;
	size_t		 nans, capans;
	char		*vis;		/* visible text of the last event */
	size_t		 capvis;
	struct tui_think think_f;	/* reasoning held back */
	bool		 warm;		/* g is a background prefill */
	bool		 warm_ok;	/* the cache holds what warm would read */
	bool		 timed_out;	/* the running answer was cancelled by a
					 * time limit (metrics) */
	uint32_t	 limit_ms;	/* per answer or card; 0: none */
	double		 t0;		/* when it started (mono_ms) */
	struct tui_turn_info last;
	/* what the brief was built from (tui_assist_ground), to build it
	 * again when the analysis changes */
	bool		 grounded;
	uint64_t	 an_version;
	char		*sel_label, *sel;
	size_t		 brief_budget;
	struct tui_brief_cut cut;
	/* the model card being written (g is then that generation) */
	struct {
		bool	 on;
		struct eng_grammar *grammar;
		struct mc *mc;		/* subject, file and lines given */
	}		 req;
	int		 card_state;	/* last request: 1 valid, 0 not, -1 none */
	char		*card_reason;
	struct mc	**mcs;		/* valid model cards, oldest first */
	size_t		 nmcs, capmcs;
	/* invalid cards in a row, and the model that wrote them: at
	 * TUI_ASSIST_BAD_CARDS no more are asked of it */
	size_t		 bad_cards;
	char		*bad_model;
};

/* A model card with what it was about and the lines it was given. */
struct mc {
	struct tui_mcard card;
	char		*subject, *file;
	struct tui_mcard_line *lines;	/* texts owned */
	size_t		 nlines;
};

static void
mc_free(struct mc *m)
{
	if (m == NULL)
		return;
	tui_mcard_clear(&m->card);
	for (size_t i = 0; i < m->nlines; i++)
		free((char *)m->lines[i].text);
	free(m->lines);
	free(m->subject);
	free(m->file);
	free(m);
}

static struct mc *
mc_new(const char *subject, const char *file,
    const struct tui_mcard_line *lines, size_t n)
{
	struct mc *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->subject = strdup(subject ? subject : "");
	m->file = strdup(file ? file : "");
	m->lines = calloc(n ? n : 1, sizeof *m->lines);
	if (m->subject == NULL || m->file == NULL || m->lines == NULL)
		goto fail;
	for (; m->nlines < n; m->nlines++)
		if ((m->lines[m->nlines].text = strdup(lines[m->nlines].text ?
		    lines[m->nlines].text : "")) == NULL)
			goto fail;
		else
			m->lines[m->nlines].lineno = lines[m->nlines].lineno;
	return m;
fail:
	mc_free(m);
	return NULL;
}

/* Keep a checked card; the list owns it then. */
static int
mc_keep(struct tui_assist *a, struct mc *m)
{
	if (a->nmcs == a->capmcs) {
		size_t cap = a->capmcs ? 2 * a->capmcs : 4;
		struct mc **v = realloc(a->mcs, cap * sizeof *v);

		if (v == NULL)
			return -1;
		a->mcs = v;
		a->capmcs = cap;
	}
	a->mcs[a->nmcs++] = m;
	return 0;
}

static const char *const fb_names[] = {
	"none", "no-model", "load-failed", "timeout", "nan", "context-full",
	"error", "invalid-card", "cards-off"
};

const char *
tui_fallback_name(enum tui_fallback f)
{
	return (unsigned)f < sizeof fb_names / sizeof fb_names[0] ?
	    fb_names[f] : "error";
}

int
tui_assist_new(struct tui_assist **out)
{
	struct tui_assist *a = calloc(1, sizeof *a);

	if (a == NULL)
		return -1;
	a->reserve = RESERVE_DEFAULT;
	a->card_state = -1;
	*out = a;
	return 0;
}

static void
gen_drop(struct tui_assist *a)
{
	eng_gen_free(a->g);
	a->g = NULL;
	a->warm = false;
	eng_grammar_free(a->req.grammar);	/* after the gen that used it */
	mc_free(a->req.mc);
	memset(&a->req, 0, sizeof a->req);
	free(a->q);
	a->q = NULL;
	a->nans = 0;
	memset(&a->think_f, 0, sizeof a->think_f);
}

static void
unload(struct tui_assist *a)
{
	gen_drop(a);
	a->warm_ok = false;
	eng_session_free(a->s);
	eng_model_free(a->m);
	a->s = NULL;
	a->m = NULL;
	free(a->path);
	a->path = NULL;
}

void
tui_assist_free(struct tui_assist *a)
{
	if (a == NULL)
		return;
	unload(a);
	for (size_t i = 0; i < a->nex; i++) {
		free(a->ex[i].q);
		free(a->ex[i].a);
	}
	for (size_t i = 0; i < a->nfb; i++)
		free(a->fb[i].detail);
	for (size_t i = 0; i < a->nmcs; i++)
		mc_free(a->mcs[i]);
	free(a->mcs);
	free(a->card_reason);
	free(a->bad_model);
	free(a->sel_label);
	free(a->sel);
	free(a->ex);
	free(a->fb);
	free(a->system);
	free(a->brief);
	free(a->ans);
	free(a->vis);
	free(a);
}

/* Keep a fallback in the conversation; a restored one is not counted
 * again in the metrics. */
static int
fb_add(struct tui_assist *a, enum tui_fallback why, const char *detail)
{
	struct fb *v;

	if (a->nfb == a->capfb) {
		size_t cap = a->capfb ? 2 * a->capfb : 4;

		if ((v = realloc(a->fb, cap * sizeof *v)) == NULL)
			return -1;
		a->fb = v;
		a->capfb = cap;
	}
	a->fb[a->nfb].why = why;
	a->fb[a->nfb].detail = strdup(detail ? detail : "");
	a->fb[a->nfb].when = time(NULL);
	a->nfb++;
	return 0;
}

void
tui_assist_fallback(struct tui_assist *a, enum tui_fallback why,
    const char *detail)
{
	metrics_count("fallback", tui_fallback_name(why), NULL, 1);
	(void)fb_add(a, why, detail);
}

size_t
tui_assist_fallbacks(const struct tui_assist *a)
{
	return a->nfb;
}

enum tui_fallback
tui_assist_fallback_at(const struct tui_assist *a, size_t i,
    const char **detail)
{
	if (i >= a->nfb)
		return TUI_FB_NONE;
	if (detail != NULL)
		*detail = a->fb[i].detail ? a->fb[i].detail : "";
	return a->fb[i].why;
}

/* Invalid cards counted against another model do not count for this
 * one: model cards are on again. */
static void
bad_cards_model(struct tui_assist *a)
{
	if (a->bad_model != NULL && (a->path == NULL ||
	    strcmp(a->path, a->bad_model) != 0))
		tui_assist_cards_on(a);
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
tui_assist_load(struct tui_assist *a, const char *path,
    const struct eng_load_opts *lo, char **cause)
{
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	char *p = NULL;

	*cause = NULL;
	unload(a);	/* a new model never sees the old one's cache */
	if (eng_model_open(path, lo, &m, cause) != 0 ||
	    eng_session_new(m, &s, cause) != 0 ||
	    (p = strdup(path)) == NULL) {
		tui_assist_fallback(a, TUI_FB_LOAD, *cause ? *cause :
		    "out of memory");
		eng_session_free(s);
		eng_model_free(m);
		return -1;
	}
	a->m = m;
	a->s = s;
	a->path = p;
	bad_cards_model(a);
	metrics_model(eng_model_info(m));
	return 0;
}

void
tui_assist_adopt(struct tui_assist *a, struct eng_model *m,
    struct eng_session *s, const char *path)
{
	unload(a);
	a->m = m;
	a->s = s;
	a->path = path ? strdup(path) : NULL;
	bad_cards_model(a);
	if (m != NULL)
		metrics_model(eng_model_info(m));
}

void
tui_assist_unload(struct tui_assist *a)
{
	unload(a);
}

bool
tui_assist_has_model(const struct tui_assist *a)
{
	return a->m != NULL;
}

const char *
tui_assist_model_path(const struct tui_assist *a)
{
	return a->path;
}

struct eng_model *
tui_assist_model(struct tui_assist *a)
{
	return a->m;
}

uint32_t
tui_assist_ctx(const struct tui_assist *a)
{
	return a->s ? eng_session_ctx(a->s) : 0;
}

static int
set_str(char **dst, const char *src, bool *changed)
{
	char *v;

	if (src == NULL)	/* keep what is there */
		src = *dst ? *dst : "";
	if (*dst != NULL && strcmp(*dst, src) == 0)
		return 0;
	if ((v = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = v;
	*changed = true;
	return 0;
}

int
tui_assist_set_context(struct tui_assist *a, const char *system,
    const char *brief)
{
	bool changed = false;

	if (set_str(&a->system, system, &changed) != 0 ||
	    set_str(&a->brief, brief, &changed) != 0)
		return -1;
	/* eng_session_keep_prefix compares the tokens: nothing to drop here */
	if (changed)
		a->warm_ok = false;
	return 0;
}

const char *
tui_assist_brief(const struct tui_assist *a)
{
	return a->brief ? a->brief : "";
}

void
tui_assist_set_think(struct tui_assist *a, bool on)
{
	a->think = on;
}

bool
tui_assist_think(const struct tui_assist *a)
{
	return a->think;
}

void
tui_assist_set_reserve(struct tui_assist *a, size_t tokens)
{
	a->reserve = tokens;
}

size_t
tui_assist_count(struct tui_assist *a, const char *text)
{
	int32_t *ids = NULL;
	size_t n = 0;

	if (a->m == NULL || eng_tokenize(a->m, text, strlen(text), false, &ids,
	    &n) != 0)
		n = 0;
	free(ids);
	return n;
}

int
tui_assist_fit_lines(struct tui_assist *a, const char *text, size_t budget,
    char **out, size_t *ncut, size_t *ntok)
{
	size_t len = strlen(text), start = len, used = 0, nlines = 0, total = 0;
	const char *p;

	*out = NULL;
	*ncut = 0;
	*ntok = 0;
	for (p = text; *p; p++)
		total += *p == '\n';
	if (len > 0 && text[len - 1] != '\n')
		total++;
	/* newest lines first, each counted with its newline */
	while (start > 0) {
		size_t end = start, b = end;
		size_t n;
		char *line;

		if (b > 0 && text[b - 1] == '\n')
			b--;
		while (b > 0 && text[b - 1] != '\n')
			b--;
		if ((line = strndup(text + b, end - b)) == NULL)
			return -1;
		n = tui_assist_count(a, line);
		free(line);
		if (used + n > budget)
			break;
		used += n;
		start = b;
		nlines++;
	}
	/* pieces merge at line starts: check the whole and cut on if over */
	for (;;) {
		if ((*out = strdup(text + start)) == NULL)
			return -1;
		*ntok = tui_assist_count(a, *out);
		if (*ntok <= budget || nlines == 0)
			break;
		free(*out);
		start += strcspn(text + start, "\n");
		start += text[start] == '\n';
		nlines--;
	}
	if (nlines == 0) {
		**out = '\0';
		*ntok = 0;
	}
	*ncut = total - nlines;
	return 0;
}

/* ---- the brief ----------------------------------------------------------- */

/* Cards and templates take at most this share of the brief's budget, so
 * the technician's selection always has room. */
#define BRIEF_FINDINGS_PERCENT	60
#define BRIEF_TEMPLATES	5
#define BRIEF_EVIDENCE	2

/* Append s to the brief if its tokens fit; 1 if added. */
static int
brief_add(struct tui_assist *a, FILE *fp, const char *s, size_t *used,
    size_t budget)
{
	size_t n = tui_assist_count(a, s);

	if (*used + n > budget)
		return 0;
	fputs(s, fp);
	*used += n;
	return 1;
}

static void
when(int64_t ms, char *buf, size_t size)
{
	if (ms == PB_TIME_NONE)
		snprintf(buf, size, "?");
	else
		pb_time_format(ms, buf, size);
}

int
tui_assist_brief_build(struct tui_assist *a, const struct pb_analysis *an,
    const char *label, const char *sel, size_t budget, char **brief,
    struct tui_brief_cut *cut)
{
	char *out = NULL, *item = NULL, *lines = NULL;
	size_t len = 0, used = 0, nc = 0, nt = 0, fb, ntok, ncut;
	FILE *fp = open_memstream(&out, &len);
	int rc = -1;

	memset(cut, 0, sizeof *cut);
	*brief = NULL;
	if (fp == NULL)
		return -1;
	fb = budget * BRIEF_FINDINGS_PERCENT / 100;
	if (an != NULL) {
		nc = pb_analysis_ncards(an);
		nt = pb_analysis_ntemplates(an);
		if (nt > BRIEF_TEMPLATES) {
			cut->templates = nt - BRIEF_TEMPLATES;
			nt = BRIEF_TEMPLATES;
		}
		/* nothing found (or not yet): no claim either way */
		if (nc > 0)
			brief_add(a, fp, "Problems triage found (playbook cards, "
			    "most severe first):\n", &used, fb);
	}
	for (size_t i = 0; i < nc; i++) {
		const struct pb_card *c = pb_analysis_card(an, i);
		const struct pb_playbook *p = pb_card_playbook(c);
		char f[48], l[48];
		FILE *ip;
		size_t ilen = 0;

		when(pb_card_first(c), f, sizeof f);
		when(pb_card_last(c), l, sizeof l);
		if ((ip = open_memstream(&item, &ilen)) == NULL)
			goto out;
		fprintf(ip, "- [%s] %s (class %s, %llu lines, first %s, last %s)\n",
		    pb_severity_name(pb_playbook_severity(p)), pb_playbook_title(p),
		    pb_playbook_class(p), (unsigned long long)pb_card_count(c), f, l);
		for (size_t k = 0; k < pb_card_nexamples(c) && k < BRIEF_EVIDENCE; k++) {
			const char *file;
			uint64_t ln;
			const char *ex = pb_card_example(c, k, &file, &ln);

			fprintf(ip, "    line %llu: %s\n", (unsigned long long)ln, ex);
		}
		fclose(ip);
		if (!brief_add(a, fp, item, &used, fb))
			cut->cards++;
		else
			cut->cards_in++;
		free(item);
		item = NULL;
	}
	if (nt > 0)
		brief_add(a, fp, "Warning and error lines no playbook knows "
		    "(templates, most salient first):\n", &used, fb);
	for (size_t i = 0; i < nt; i++) {
		uint64_t count, ln;
		const char *ex, *file;
		const char *tp = pb_analysis_template(an, i, &count, &ex, &file, &ln);

		if (asprintf(&item, "- %s (%llu lines; e.g. line %llu: %s)\n",
		    tp ? tp : "?", (unsigned long long)count,
		    (unsigned long long)ln, ex ? ex : "") < 0) {
			item = NULL;
			goto out;
		}
		if (!brief_add(a, fp, item, &used, fb))
			cut->templates++;
		else
			cut->templates_in++;
		free(item);
		item = NULL;
	}
	if (sel != NULL && *sel) {
		const char *hdr = label ? label : "the selected lines";
		size_t hl;

		if (asprintf(&item, "\nThe technician's selection, %s:\n```\n", hdr) < 0) {
			item = NULL;
			goto out;
		}
		hl = tui_assist_count(a, item) + tui_assist_count(a, "```\n");
		if (used + hl < budget &&
		    tui_assist_fit_lines(a, sel, budget - used - hl, &lines,
		    &ncut, &ntok) == 0 && *lines) {
			fputs(item, fp);
			fputs(lines, fp);
			if (lines[strlen(lines) - 1] != '\n')
				fputc('\n', fp);
			fputs("```\n", fp);
			used += hl + ntok;
			cut->lines = ncut;
		} else {
			size_t n = 0;

			for (const char *s = sel; *s; s++)
				n += *s == '\n';
			cut->lines = n + (sel[strlen(sel) - 1] != '\n');
		}
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		goto out;
	}
	fp = NULL;
	cut->tokens = tui_assist_count(a, out);
	*brief = out;
	out = NULL;
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(out);
	free(item);
	free(lines);
	return rc;
}

int
tui_assist_ground(struct tui_assist *a, const char *system,
    const struct pb_analysis *an, uint64_t version, const char *label,
    const char *sel, size_t budget, struct tui_brief_cut *cut)
{
	char *brief = NULL, *l = NULL, *t = NULL;
	struct tui_brief_cut c;
	int rc = -1;

	if ((label != NULL && (l = strdup(label)) == NULL) ||
	    (sel != NULL && (t = strdup(sel)) == NULL))
		goto out;
	if (tui_assist_brief_build(a, an, label, sel, budget, &brief, &c) != 0 ||
	    tui_assist_set_context(a, system, brief) != 0)
		goto out;
	free(a->sel_label);
	free(a->sel);
	a->sel_label = l;
	a->sel = t;
	l = t = NULL;
	a->brief_budget = budget;
	a->an_version = version;
	a->grounded = true;
	a->cut = c;
	if (cut != NULL)
		*cut = c;
	rc = 0;
out:
	free(brief);
	free(l);
	free(t);
	return rc;
}

int
tui_assist_reground(struct tui_assist *a, const struct pb_analysis *an,
    uint64_t version)
{
	struct tui_brief_cut c;
	char *brief = NULL;
	int rc = 0;

	/* an answer or a card in progress keeps its brief; asked again
	 * when idle */
	if (!a->grounded || version == a->an_version || a->m == NULL ||
	    (a->g != NULL && !a->warm))
		return 0;
	if (tui_assist_brief_build(a, an, a->sel_label, a->sel,
	    a->brief_budget, &brief, &c) != 0)
		return -1;
	if (strcmp(brief, tui_assist_brief(a)) != 0) {
		tui_assist_pause(a);	/* it was reading the old one */
		if (tui_assist_set_context(a, NULL, brief) != 0)
			rc = -1;
		else {
			a->cut = c;
			rc = 1;
		}
	}
	if (rc >= 0)
		a->an_version = version;
	free(brief);
	return rc;
}

const struct tui_brief_cut *
tui_assist_cut(const struct tui_assist *a)
{
	return &a->cut;
}

/* ---- a turn --------------------------------------------------------------- */

static char *
user_text(const struct tui_assist *a, const char *q, bool first, bool last)
{
	const char *brief = a->brief && *a->brief ? a->brief : NULL;
	const char *nt = last && !a->think && eng_chat_has_think(a->m) ?
	    no_think : "";
	char *s;

	if (asprintf(&s, "%s%s%s%s", first && brief ? brief : "",
	    first && brief ? "\n\n" : "", q, nt) < 0)
		return NULL;
	return s;
}

/* Render system, brief + exchanges from `from`, and the question. */
static int
render(struct tui_assist *a, size_t from, const char *q, int32_t **ids,
    size_t *n, char **cause)
{
	size_t nm = 0, cap = 2 + 2 * (a->nex - from) + 1;
	struct eng_msg *m = calloc(cap, sizeof *m);
	char **owned = calloc(cap, sizeof *owned);
	int rc = -1;

	if (m == NULL || owned == NULL)
		goto out;
	if (a->system && *a->system) {
		m[nm].role = "system";
		m[nm++].content = a->system;
	}
	for (size_t i = from; i < a->nex; i++) {
		if ((owned[nm] = user_text(a, a->ex[i].q, i == from, false)) == NULL)
			goto out;
		m[nm].role = "user";
		m[nm].content = owned[nm];
		nm++;
		m[nm].role = "assistant";
		m[nm++].content = a->ex[i].a;
	}
	if ((owned[nm] = user_text(a, q, from == a->nex, true)) == NULL)
		goto out;
	m[nm].role = "user";
	m[nm].content = owned[nm];
	nm++;
	rc = eng_chat_tokenize(a->m, m, nm, ids, n, NULL, cause) == 0 ? 0 : -1;
out:
	for (size_t i = 0; owned != NULL && i < cap; i++)
		free(owned[i]);
	free(owned);
	free(m);
	return rc;
}

int
tui_assist_ask(struct tui_assist *a, enum tui_turn_kind kind,
    const char *question, const struct eng_sample_params *sp,
    struct tui_turn_info *info, char **cause)
{
	int32_t *ids = NULL;
	size_t n = 0, ctx, from = 0, keep;
	int rc = -1;

	*cause = NULL;
	memset(info, 0, sizeof *info);
	tui_assist_pause(a);	/* a question goes before the warm-up */
	a->warm_ok = false;
	a->timed_out = false;
	a->t0 = mono_ms();
	if ((kind != TUI_TURN_QUESTION && kind != TUI_TURN_RAW) || a->g != NULL) {
		*cause = strdup(a->g ? "an answer is still running" :
		    "unknown kind of turn");
		return -1;
	}
	metrics_count("questions", NULL, NULL, 1);
	if (a->m == NULL) {
		*cause = strdup("no language model is loaded");
		tui_assist_fallback(a, TUI_FB_NO_MODEL, *cause);
		return -1;
	}
	ctx = eng_session_ctx(a->s);
	if (kind == TUI_TURN_RAW) {
		if (eng_tokenize(a->m, question, strlen(question), true, &ids,
		    &n) != 0)
			goto out;
		eng_session_reset(a->s);
		info->n_prompt = n;
		if (eng_gen_start(a->s, ids, n, sp, &a->g, cause) != 0)
			goto out;
		rc = 0;
		goto out;
	}
	/* drop the oldest exchanges until the rest and an answer fit */
	for (;;) {
		free(ids);
		ids = NULL;
		if (render(a, from, question, &ids, &n, cause) != 0)
			goto out;
		if (n + (a->reserve < ctx / 4 ? a->reserve : ctx / 4) <= ctx)
			break;
		if (from == a->nex) {
			free(*cause);
			if (asprintf(cause, "the brief and the question are %zu "
			    "tokens; the context holds %zu", n, ctx) < 0)
				*cause = NULL;
			tui_assist_fallback(a, TUI_FB_CONTEXT, *cause);
			goto out;
		}
		from++;
	}
	/* dropped for good: the pane says so through info->n_dropped */
	for (size_t i = 0; i < from; i++) {
		free(a->ex[i].q);
		free(a->ex[i].a);
	}
	if (from > 0)
		memmove(a->ex, a->ex + from, (a->nex - from) * sizeof *a->ex);
	a->nex -= from;
	a->dropped += from;
	if (from > 0)
		eng_session_reset(a->s);	/* the brief moved to another turn */
	keep = eng_session_keep_prefix(a->s, ids, n);
	info->n_prompt = n;
	info->n_reused = keep;
	info->n_dropped = from;
	info->n_history = a->nex;
	a->last = *info;
	if ((a->q = strdup(question)) == NULL)
		goto out;
	a->nans = 0;
	memset(&a->think_f, 0, sizeof a->think_f);
	if (eng_gen_start(a->s, ids + keep, n - keep, sp, &a->g, cause) != 0) {
		tui_assist_fallback(a, TUI_FB_ERROR, *cause);
		free(a->q);
		a->q = NULL;
		goto out;
	}
	rc = 0;
out:
	free(ids);
	return rc;
}

bool
tui_assist_running(const struct tui_assist *a)
{
	return a->g != NULL && !a->warm;
}

const struct tui_turn_info *
tui_assist_last(const struct tui_assist *a)
{
	return &a->last;
}

bool
tui_assist_warming(const struct tui_assist *a)
{
	return a->g != NULL && a->warm;
}

void
tui_assist_pause(struct tui_assist *a)
{
	if (a->g != NULL && a->warm)
		gen_drop(a);	/* cancels and joins: within one layer */
}

/*
 * The tokens every next question starts with: the rendering with two
 * different questions agree up to where the question begins.
 */
static int
common_prefix(struct tui_assist *a, int32_t **ids, size_t *n)
{
	int32_t *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0, k = 0;
	char *cause = NULL;
	int rc = -1;

	if (render(a, 0, "A", &x, &nx, &cause) != 0 ||
	    render(a, 0, "Z", &y, &ny, &cause) != 0)
		goto out;
	while (k < nx && k < ny && x[k] == y[k])
		k++;
	*ids = x;
	*n = k;
	x = NULL;
	rc = 0;
out:
	free(x);
	free(y);
	free(cause);
	return rc;
}

int
tui_assist_warm(struct tui_assist *a, size_t slice)
{
	struct eng_sample_params sp;
	int32_t *ids = NULL;
	size_t n = 0, keep, end;
	char *cause = NULL;
	int rc = -1;

	if (a->m == NULL || a->g != NULL || slice == 0 || a->warm_ok)
		return 0;
	if (common_prefix(a, &ids, &n) != 0)
		goto out;
	/* keep_prefix keeps n - 1 at most: the last token waits for the
	 * question, which needs one of its own anyway */
	keep = eng_session_keep_prefix(a->s, ids, n);
	if (n == 0 || keep + 1 >= n || n + a->reserve > eng_session_ctx(a->s)) {
		a->warm_ok = true;	/* until the conversation changes */
		rc = 0;
		goto out;
	}
	end = n - 1 - keep > slice ? keep + slice : n - 1;
	eng_sample_defaults(&sp);
	sp.temp = 0;
	sp.max_tokens = 1;	/* prefill, sample one token, never decode it */
	if (eng_gen_start(a->s, ids + keep, end - keep, &sp, &a->g, &cause) != 0)
		goto out;
	a->warm = true;
	rc = 1;
out:
	free(ids);
	free(cause);
	return rc;
}

int
tui_assist_fd(const struct tui_assist *a)
{
	return a->g ? eng_gen_fd(a->g) : -1;
}

/* What a timeout is said as: the card's reason, the fallback's detail. */
static char *
timeout_text(const struct tui_assist *a)
{
	char *s;

	if (a->limit_ms == 0)
		return strdup(a->req.on ? "the model card took too long" :
		    "the answer took too long");
	if (asprintf(&s, "the %s took longer than the %.3g s limit "
	    "(answer_timeout)", a->req.on ? "model card" : "answer",
	    a->limit_ms / 1e3) < 0)
		return NULL;
	return s;
}

void
tui_assist_cancel(struct tui_assist *a, bool timed_out)
{
	char *why;

	if (a->g == NULL)
		return;
	eng_gen_cancel(a->g);
	if (timed_out && !a->timed_out && !a->warm) {
		a->timed_out = true;
		why = timeout_text(a);
		tui_assist_fallback(a, TUI_FB_TIMEOUT, why ? why :
		    "the answer took too long");
		free(why);
	}
}

void
tui_assist_set_limit(struct tui_assist *a, uint32_t ms)
{
	a->limit_ms = ms;
}

uint32_t
tui_assist_limit(const struct tui_assist *a)
{
	return a->limit_ms;
}

bool
tui_assist_timed_out(const struct tui_assist *a)
{
	return a->timed_out;
}

bool
tui_assist_cards_off(const struct tui_assist *a)
{
	return a->bad_cards >= TUI_ASSIST_BAD_CARDS;
}

void
tui_assist_cards_on(struct tui_assist *a)
{
	a->bad_cards = 0;
	free(a->bad_model);
	a->bad_model = NULL;
}

/* One more invalid card from this model; at the limit, cards go off,
 * said once as a fallback. */
static void
bad_card(struct tui_assist *a)
{
	char msg[200];

	if (a->bad_model == NULL && a->path != NULL)
		a->bad_model = strdup(a->path);
	if (++a->bad_cards != TUI_ASSIST_BAD_CARDS)
		return;
	snprintf(msg, sizeof msg, "the model produced %d invalid cards in a "
	    "row; model cards are off for this session, the rule-based view "
	    "stands", TUI_ASSIST_BAD_CARDS);
	tui_assist_fallback(a, TUI_FB_CARDS_OFF, msg);
}

size_t
tui_assist_hidden(const struct tui_assist *a)
{
	return a->think_f.hidden;
}

static int
grow(char **buf, size_t *cap, size_t need)
{
	char *v;
	size_t c = *cap ? *cap : 256;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if ((v = realloc(*buf, c)) == NULL)
		return -1;
	*buf = v;
	*cap = c;
	return 0;
}

/*
 * Split streamed text into answer and reasoning.  A '<' that may begin
 * "<think>" or "</think>" is held in pend until it is decided.
 */
size_t
tui_think_filter(struct tui_think *f, const char *s, size_t n, char *out)
{
	static const char open[] = "<think>", close[] = "</think>";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *tag = f->in ? close : open;
		size_t tl = strlen(tag);

		if (f->npend > 0 || s[i] == '<') {
			f->pend[f->npend++] = s[i];
			if (f->npend <= tl && memcmp(f->pend, tag, f->npend) == 0) {
				if (f->npend == tl) {
					f->in = !f->in;
					f->hidden += tl;
					f->npend = 0;
				}
				continue;
			}
			/* not a tag: release what was held (a new '<' may
			 * start one, so it is looked at again) */
			if (s[i] == '<' && f->npend > 1) {
				f->npend--;
				i--;
			}
			for (size_t k = 0; k < f->npend; k++) {
				if (f->in)
					f->hidden++;
				else
					out[o++] = f->pend[k];
			}
			f->npend = 0;
			continue;
		}
		if (f->in)
			f->hidden++;
		else
			out[o++] = s[i];
	}
	return o;
}

static void
record_answer(struct tui_assist *a)
{
	struct exchange *v;
	char *ans;
	size_t b = 0;

	/* the empty think block leaves blank lines before the answer */
	while (b < a->nans && (a->ans[b] == '\n' || a->ans[b] == ' '))
		b++;
	if ((ans = strndup(a->ans ? a->ans + b : "", a->nans - b)) == NULL)
		return;
	if (a->nex == a->capex) {
		size_t cap = a->capex ? 2 * a->capex : 8;

		if ((v = realloc(a->ex, cap * sizeof *v)) == NULL) {
			free(ans);
			return;
		}
		a->ex = v;
		a->capex = cap;
	}
	a->ex[a->nex].q = a->q;
	a->ex[a->nex].a = ans;
	a->q = NULL;
	a->nex++;
}

/*
 * An event of a model card's generation: its text is the raw JSON, not
 * an answer (TEXT events go out empty, to count tokens by); at DONE the
 * card is checked (tui_mcard_finish, as `analyze --explain` does) and
 * kept, or recorded as an invalid-card fallback with the reason.
 */
static int
card_event(struct tui_assist *a, struct eng_event *ev)
{
	struct mc *m = a->req.mc;
	char *why = NULL, msg[160];

	if (ev->kind == ENG_EV_TEXT) {
		if (grow(&a->ans, &a->capans, a->nans + ev->len + 1) == 0) {
			memcpy(a->ans + a->nans, ev->text, ev->len);
			a->nans += ev->len;
		}
		ev->text = "";
		ev->len = 0;
		return 1;
	}
	if (ev->kind != ENG_EV_DONE)
		return 1;
	snprintf(msg, sizeof msg, "%.*s", (int)ev->len, ev->text ? ev->text :
	    "");
	if (a->timed_out) {
		/* recorded as a timeout when stopped; not the model's fault
		 * more than the limit's, so not counted as invalid */
		a->card_state = 0;
		a->card_reason = timeout_text(a);
	} else if (tui_mcard_finish(a->ans, a->nans, ev->stop, msg, m->lines,
	    m->nlines, &m->card, &why) == 0 && mc_keep(a, m) == 0) {
		a->req.mc = NULL;	/* kept */
		a->card_state = 1;
		tui_assist_cards_on(a);	/* a valid one: the count starts again */
	} else {
		a->card_state = 0;
		a->card_reason = why ? why : strdup("out of memory");
		why = NULL;
		tui_assist_fallback(a, TUI_FB_INVALID_CARD, a->card_reason);
		if (ev->stop != ENG_STOP_CANCEL)	/* Esc is not the model's */
			bad_card(a);
	}
	free(why);
	/* a card is a model answer too: counted by how it ended, a finished
	 * one that failed its checks as invalid structured output */
	if (a->timed_out || ev->stop == ENG_STOP_CANCEL ||
	    ev->stop == ENG_STOP_ERROR || a->card_state == 1)
		metrics_gen_done(ev, a->timed_out);
	else
		metrics_answer("invalid-output", ev->prompt_ms, ev->gen_ms > 0 &&
		    ev->n_gen > 0 ? ev->n_gen * 1e3 / ev->gen_ms : 0);
	if (grow(&a->vis, &a->capvis, ev->len + 1) == 0) {
		memcpy(a->vis, ev->text, ev->len);
		a->vis[ev->len] = '\0';
		ev->text = a->vis;
	} else {
		ev->text = "";
		ev->len = 0;
	}
	gen_drop(a);
	a->nans = 0;
	return 1;
}

int
tui_assist_card(struct tui_assist *a, const char *subject, const char *file,
    const char *what, const struct tui_mcard_line *lines, size_t n,
    uint32_t max_tokens, char **cause)
{
	struct eng_sample_params sp;
	int32_t *ids = NULL;
	size_t nids = 0;
	int rc = -1;

	*cause = NULL;
	tui_assist_pause(a);
	if (a->g != NULL) {
		*cause = strdup("the model is still answering");
		return -1;
	}
	a->card_state = -1;
	free(a->card_reason);
	a->card_reason = NULL;
	a->timed_out = false;
	if (a->m == NULL) {
		*cause = strdup("no language model is loaded");
		tui_assist_fallback(a, TUI_FB_NO_MODEL, *cause);
		return -1;
	}
	if (tui_assist_cards_off(a)) {
		/* said and recorded when they went off */
		if (asprintf(cause, "the model produced %zu invalid cards in a "
		    "row; model cards are off for this session, the rule-based "
		    "view stands", a->bad_cards) < 0)
			*cause = NULL;
		a->card_state = 0;
		a->card_reason = *cause ? strdup(*cause) : NULL;
		return -1;
	}
	if ((a->req.mc = mc_new(subject, file, lines, n)) == NULL) {
		*cause = strdup("out of memory");
		goto out;
	}
	if (tui_mcard_prepare(a->m, what, lines, n, &ids, &nids,
	    &a->req.grammar, cause) != 0)
		goto invalid;
	eng_session_reset(a->s);	/* its own prompt, not the conversation */
	a->warm_ok = false;
	eng_sample_defaults(&sp);
	sp.temp = 0;
	sp.max_tokens = max_tokens;
	sp.grammar = a->req.grammar;
	a->nans = 0;
	a->t0 = mono_ms();
	if (eng_gen_start(a->s, ids, nids, &sp, &a->g, cause) != 0)
		goto invalid;
	a->req.on = true;
	rc = 0;
	goto out;
invalid:
	/* no card can come of it: as for a card that failed its checks */
	a->card_state = 0;
	a->card_reason = *cause ? strdup(*cause) : NULL;
	tui_assist_fallback(a, TUI_FB_INVALID_CARD, *cause ? *cause :
	    "out of memory");
out:
	free(ids);
	if (rc != 0) {
		eng_grammar_free(a->req.grammar);
		mc_free(a->req.mc);
		memset(&a->req, 0, sizeof a->req);
	}
	return rc;
}

bool
tui_assist_carding(const struct tui_assist *a)
{
	return a->g != NULL && a->req.on;
}

int
tui_assist_card_result(const struct tui_assist *a, const char **reason)
{
	if (reason != NULL)
		*reason = a->card_reason ? a->card_reason : "";
	return a->card_state;
}

size_t
tui_assist_mcards(const struct tui_assist *a)
{
	return a->nmcs;
}

const struct tui_mcard *
tui_assist_mcard(const struct tui_assist *a, size_t i, const char **subject,
    const char **file)
{
	if (i >= a->nmcs)
		return NULL;
	if (subject != NULL)
		*subject = a->mcs[i]->subject;
	if (file != NULL)
		*file = a->mcs[i]->file;
	return &a->mcs[i]->card;
}

int
tui_assist_next(struct tui_assist *a, struct eng_event *ev, bool wait)
{
	int r;

	/* the limit is kept here, whatever the caller's loop does */
	if (a->g != NULL && !a->warm && a->limit_ms > 0 && !a->timed_out &&
	    mono_ms() - a->t0 >= a->limit_ms)
		tui_assist_cancel(a, true);
	if (a->g == NULL || (r = eng_gen_next(a->g, ev, wait)) != 1)
		return 0;
	/* a background prefill: its events (and the one token sampled after
	 * the slice) are nobody's answer */
	while (a->warm) {
		if (ev->kind == ENG_EV_DONE) {
			gen_drop(a);
			return 0;
		}
		if (eng_gen_next(a->g, ev, wait) != 1)
			return 0;
	}
	if (a->req.on)
		return card_event(a, ev);
	if (ev->kind == ENG_EV_TEXT) {
		size_t n;

		if (grow(&a->vis, &a->capvis, ev->len + sizeof a->think_f.pend + 1) != 0 ||
		    grow(&a->ans, &a->capans, a->nans + ev->len +
		    sizeof a->think_f.pend + 1) != 0) {
			ev->len = 0;
			return 1;
		}
		n = tui_think_filter(&a->think_f, ev->text, ev->len, a->vis);
		memcpy(a->ans + a->nans, a->vis, n);
		a->nans += n;
		a->vis[n] = '\0';
		ev->text = a->vis;
		ev->len = n;
	} else if (ev->kind == ENG_EV_DONE) {
		/* every answer, from `triage ask` or the app, counted here */
		metrics_gen_done(ev, a->timed_out);
		if (ev->stop == ENG_STOP_ERROR)
			tui_assist_fallback(a, strstr(ev->text, "NaN") ?
			    TUI_FB_NAN : TUI_FB_ERROR, ev->text);
		if (ev->stop != ENG_STOP_ERROR && a->q != NULL)
			record_answer(a);
		/* ev->text lives in the gen: copy it before freeing */
		if (grow(&a->vis, &a->capvis, ev->len + 1) == 0) {
			memcpy(a->vis, ev->text, ev->len);
			a->vis[ev->len] = '\0';
			ev->text = a->vis;
		} else {
			ev->text = "";
			ev->len = 0;
		}
		eng_gen_free(a->g);
		a->g = NULL;
		free(a->q);
		a->q = NULL;
	}
	return 1;
}

size_t
tui_assist_turns(const struct tui_assist *a)
{
	return a->nex;
}

const char *
tui_assist_question(const struct tui_assist *a, size_t i)
{
	return i < a->nex ? a->ex[i].q : NULL;
}

const char *
tui_assist_answer(const struct tui_assist *a, size_t i)
{
	return i < a->nex ? a->ex[i].a : NULL;
}

size_t
tui_assist_dropped(const struct tui_assist *a)
{
	return a->dropped;
}

/* ---- kept conversations --------------------------------------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The model cards with what each was given, so a restore checks them
 * again exactly as when they were made. */
static json_t *
mcards_json(const struct tui_assist *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < a->nmcs; i++) {
		const struct mc *m = a->mcs[i];
		json_t *lines = json_array();

		for (size_t k = 0; lines != NULL && k < m->nlines; k++)
			json_array_append_new(lines, json_pack("{s:I, s:s}",
			    "line", (json_int_t)m->lines[k].lineno, "text",
			    m->lines[k].text));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o}",
		    "subject", m->subject, "file", m->file, "card",
		    tui_mcard_json(&m->card), "lines", lines ? lines :
		    json_array()));
	}
	return arr;
}

/*
 * A kept model card read back: checked again against the lines it was
 * given (tui_mcard_parse); one that fails is not a card and is dropped.
 */
static void
mcard_restore(struct tui_assist *a, json_t *v)
{
	json_t *jl = json_object_get(v, "lines"), *x;
	struct tui_mcard_line *lines;
	struct mc *m = NULL;
	char *text = NULL, *why = NULL;
	size_t n = json_array_size(jl), i;

	if (n == 0 || n > 4096 || (lines = calloc(n, sizeof *lines)) == NULL)
		return;
	json_array_foreach(jl, i, x) {
		json_int_t ln = json_integer_value(json_object_get(x, "line"));

		lines[i].lineno = ln > 0 ? (uint64_t)ln : 0;
		lines[i].text = jstr(x, "text");
	}
	if ((text = json_dumps(json_object_get(v, "card"), JSON_COMPACT)) ==
	    NULL || (m = mc_new(jstr(v, "subject"), jstr(v, "file"), lines,
	    n)) == NULL)
		goto out;
	if (tui_mcard_parse(text, strlen(text), m->lines, m->nlines, &m->card,
	    &why) == 0 && mc_keep(a, m) == 0)
		m = NULL;
out:
	mc_free(m);
	free(why);
	free(text);
	free(lines);
}

int
tui_assist_save(const struct tui_assist *a, const char *path, char **cause)
{
	json_t *o = json_object(), *turns = json_array(), *fbs = json_array();
	int rc = -1;

	*cause = NULL;
	if (o == NULL || turns == NULL || fbs == NULL)
		goto out;
	for (size_t i = 0; i < a->nex; i++)
		json_array_append_new(turns, json_pack("{s:s, s:s}", "question",
		    a->ex[i].q, "answer", a->ex[i].a));
	for (size_t i = 0; i < a->nfb; i++)
		json_array_append_new(fbs, json_pack("{s:s, s:s, s:I}", "reason",
		    tui_fallback_name(a->fb[i].why), "detail", a->fb[i].detail ?
		    a->fb[i].detail : "", "time", (json_int_t)a->fb[i].when));
	json_object_set_new(o, "format", json_integer(1));
	json_object_set_new(o, "model", json_string(a->path ? a->path : ""));
	json_object_set_new(o, "system", json_string(a->system ? a->system : ""));
	json_object_set_new(o, "brief", json_string(a->brief ? a->brief : ""));
	json_object_set_new(o, "think", json_boolean(a->think));
	json_object_set_new(o, "dropped", json_integer((json_int_t)a->dropped));
	json_object_set(o, "turns", turns);
	json_object_set(o, "fallbacks", fbs);
	if (a->grounded) {
		json_object_set_new(o, "selection_label",
		    json_string(a->sel_label ? a->sel_label : ""));
		json_object_set_new(o, "selection", json_string(a->sel ?
		    a->sel : ""));
		json_object_set_new(o, "brief_budget",
		    json_integer((json_int_t)a->brief_budget));
	}
	json_object_set_new(o, "model_cards", mcards_json(a));
	if (a->bad_cards > 0)	/* off stays off on --resume */
		json_object_set_new(o, "invalid_cards", json_pack("{s:I, s:s}",
		    "in_a_row", (json_int_t)a->bad_cards, "model",
		    a->bad_model ? a->bad_model : ""));
	if (json_dump_file(o, path, JSON_INDENT(1)) != 0) {
		if (asprintf(cause, "%s: cannot write: %s", path,
		    strerror(errno)) < 0)
			*cause = NULL;
		goto out;
	}
	rc = 0;
out:
	json_decref(turns);
	json_decref(fbs);
	json_decref(o);
	return rc;
}

int
tui_assist_restore(struct tui_assist *a, const char *path, char **model_path,
    char **cause)
{
	json_error_t err;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &err), *t, *v;
	size_t i;
	int rc = -1;

	*cause = NULL;
	*model_path = NULL;
	if (o == NULL || !json_is_object(o) ||
	    json_integer_value(json_object_get(o, "format")) != 1 ||
	    !json_is_array(t = json_object_get(o, "turns"))) {
		if (asprintf(cause, "%s: not a saved conversation%s%s", path,
		    o == NULL ? ": " : "", o == NULL ? err.text : "") < 0)
			*cause = NULL;
		goto out;
	}
	if (tui_assist_set_context(a, jstr(o, "system"), jstr(o, "brief")) != 0)
		goto out;
	a->think = json_is_true(json_object_get(o, "think"));
	a->dropped = (size_t)json_integer_value(json_object_get(o, "dropped"));
	json_array_foreach(t, i, v) {
		struct exchange *e;

		if (a->nex == a->capex) {
			size_t cap = a->capex ? 2 * a->capex : 8;

			if ((e = realloc(a->ex, cap * sizeof *e)) == NULL)
				goto out;
			a->ex = e;
			a->capex = cap;
		}
		a->ex[a->nex].q = strdup(jstr(v, "question"));
		a->ex[a->nex].a = strdup(jstr(v, "answer"));
		if (a->ex[a->nex].q == NULL || a->ex[a->nex].a == NULL) {
			free(a->ex[a->nex].q);
			free(a->ex[a->nex].a);
			goto out;
		}
		a->nex++;
	}
	json_array_foreach(json_object_get(o, "fallbacks"), i, v) {
		const char *r = jstr(v, "reason");
		enum tui_fallback f = TUI_FB_ERROR;

		for (size_t k = 1; k < sizeof fb_names / sizeof fb_names[0]; k++)
			if (strcmp(r, fb_names[k]) == 0)
				f = (enum tui_fallback)k;
		if (fb_add(a, f, jstr(v, "detail")) != 0)
			goto out;
		a->fb[a->nfb - 1].when = (time_t)json_integer_value(
		    json_object_get(v, "time"));
	}
	json_array_foreach(json_object_get(o, "model_cards"), i, v)
		mcard_restore(a, v);
	if ((v = json_object_get(o, "invalid_cards")) != NULL &&
	    json_integer_value(json_object_get(v, "in_a_row")) > 0 &&
	    *jstr(v, "model")) {
		json_int_t k = json_integer_value(json_object_get(v,
		    "in_a_row"));

		free(a->bad_model);
		a->bad_model = strdup(jstr(v, "model"));
		a->bad_cards = a->bad_model == NULL ? 0 :
		    k > TUI_ASSIST_BAD_CARDS ? TUI_ASSIST_BAD_CARDS : (size_t)k;
	}
	if (json_is_string(json_object_get(o, "selection"))) {
		free(a->sel_label);
		free(a->sel);
		a->sel_label = *jstr(o, "selection_label") ?
		    strdup(jstr(o, "selection_label")) : NULL;
		a->sel = *jstr(o, "selection") ? strdup(jstr(o, "selection")) :
		    NULL;
		a->brief_budget = (size_t)json_integer_value(json_object_get(o,
		    "brief_budget"));
		/* built again from the analysis at the next reground */
		a->grounded = a->brief_budget > 0;
		a->an_version = UINT64_MAX;
	}
	if (*jstr(o, "model") && (*model_path = strdup(jstr(o, "model"))) == NULL)
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}
