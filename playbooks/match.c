/*
 * match.c - run every playbook over a stream of lines.
 *
 * Per line: one prefilter pass finds which patterns could match; only those
 * regexes run.  Matches become events; a playbook's rule turns events into
 * card occurrences:
 *   any       every event counts (subject to threshold)
 *   all       every pattern seen (within window, if set) completes one
 *   sequence  patterns in order, first to last within window, completes one
 *   threshold N events within window (per group_by value) before counting;
 *             once met, each further event inside the window counts too.
 * State per group_by value lives in a bounded table, so memory does not grow
 * with the input.  Lines no playbook knows but that severity.c judges a
 * warning or worse (LOW and up) go to the template miner with their level.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_HITS	256	/* prefilter hits kept per line */
#define GROUPS		1024	/* tracked group_by values per playbook */
#define KEY_MAX		64
#define STAGE_TEXT	512	/* bytes of an earlier sequence line kept */
#define MAX_TEMPLATES	10000
#define SUGGEST_MAX	1000	/* shown templates looked up for "possibly" */

struct suggestion {
	size_t		 tmpl;		/* rank among the shown templates */
	uint32_t	 pb;		/* library index, when klass < 0 */
	int32_t		 klass;		/* a whole class (suggest.c), or -1 */
	double		 score;
};

/* The last lookup for a template id: redone only when its text changed
 * (the app finishes the analysis again and again while a log grows). */
struct scached {
	uint32_t	 hash;		/* of the template text; 0 = none */
	int32_t		 pb;		/* -1: no suggestion */
	int32_t		 klass;		/* class-level suggestion, or -1 */
	uint32_t	 ntmpl;		/* templates in the log then */
	double		 score;
};
#define LIMIT_STRIKES	3	/* match-limit hits before a playbook is off */

struct stage {
	char		 text[STAGE_TEXT];
	size_t		 len;
	const char	*file;
	uint64_t	 lineno;
	int64_t		 t;
};

struct tick {
	int64_t		 t;
	uint64_t	 n;
	const char	*file;		/* where it was, for pb_line_fn */
	uint64_t	 lineno;
};

struct group {
	int		 used;
	char		 key[KEY_MAX];
	int64_t		 last;
	struct tick	*ring;		/* threshold: recent events */
	int		 rhead, rcount;
	uint64_t	 nev;		/* events seen in this group */
	uint64_t	 counted;	/* events up to this one are on the card */
	int		 stage;		/* sequence: next pattern expected */
	struct stage	*stages;	/* all/sequence evidence, lazily */
	int64_t		 seen[PB_MAX_PATTERNS];	/* all: time of last match */
};

struct pbstate {
	struct group	*groups;	/* GROUPS entries, lazily */
	size_t		 used;
	struct pb_card	*card;
	int		 warned;
	/* Match-limit hits: after LIMIT_STRIKES the playbook is disabled. */
	int		 strikes;
	int		 disabled;
	int		 limit_rc;
	size_t		 limit_pat;
	const char	*limit_file;
	uint64_t	 limit_line;
	/* Events seen while no card stood: kept so that a known problem
	 * below its threshold is still listed (pb_analysis_below). */
	uint64_t	 pending;
	const char	*pend_file;
	uint64_t	 pend_line;
	char		 pend_text[STAGE_TEXT];
	size_t		 pend_len;
};

struct pb_analysis {
	struct pb_library *lib;
	struct pb_options opt;
	struct pbstate	*st;		/* one per playbook */
	struct pb_card	**cards;	/* finished, sorted */
	size_t		 ncards;
	struct pb_miner	*miner;
	uint64_t	 unknown;
	size_t		 nshown;	/* ranked templates above PB_SALIENCE_MIN */
	struct suggestion *sugg;
	size_t		 nsugg;
	long		*tsugg;		/* shown template -> suggestion or -1 */
	struct scached	*scache;	/* MAX_TEMPLATES, lazily */
	uint64_t	 lines, bytes, seq;
	uint32_t	*mark;		/* per pattern: line generation */
	uint32_t	*cand;		/* candidate patterns of this line */
	uint32_t	 gen;
	pcre2_match_data *md, *md2;
	pcre2_match_context *mc;
	pcre2_jit_stack	*js;
	pb_diag_fn	 warn;
	void		*warn_arg;
	int64_t		 last_t;	/* time of the last timestamped candidate */
	const char	*last_file;
	struct pb_tslearn tsl;		/* where this file's stamps are */
	char		**names;	/* file names cards point into */
	size_t		 nnames;
	pb_line_fn	 line_fn;	/* who counts which line, or NULL */
	void		*line_arg;
	/* A record spread over lines (pb_severity_record): its level, and
	 * its text line kept while the level is still to come. */
	int		 rec_sev;
	int		 rec_next;	/* the next line is its text */
	int		 rec_kept;
	struct stage	 rec_text;
};

void
pb_options_init(struct pb_options *o)
{
	o->since_ms = PB_TIME_NONE;
	o->until_ms = PB_TIME_NONE;
	o->unknown = 1;
	o->max_examples = 5;
}

int
pb_analysis_new(struct pb_library *lib, const struct pb_options *opt,
    struct pb_analysis **out)
{
	struct pb_analysis *a;
	int rc = PB_ENOMEM;

	if ((rc = pb_library_prepare(lib)) != 0)
		return rc;
	rc = PB_ENOMEM;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return PB_ENOMEM;
	a->lib = lib;
	a->opt = *opt;
	if (a->opt.max_examples < 1)
		a->opt.max_examples = 1;
	a->last_t = PB_TIME_NONE;
	a->rec_sev = PB_LINE_NONE;
	if ((a->st = calloc(lib->n ? lib->n : 1, sizeof(*a->st))) == NULL ||
	    (a->mark = calloc(lib->ngpats + 1, sizeof(*a->mark))) == NULL ||
	    (a->cand = calloc(lib->ngpats + 1, sizeof(*a->cand))) == NULL ||
	    (a->md = pcre2_match_data_create(256, NULL)) == NULL ||
	    (a->md2 = pcre2_match_data_create(16, NULL)) == NULL ||
	    (a->mc = pb_match_context_new(&a->js)) == NULL ||
	    pb_miner_new(MAX_TEMPLATES, &a->miner) != 0)
		goto out;
	*out = a;	/* transferred */
	a = NULL;
	rc = 0;
out:
	pb_analysis_free(a);
	return rc;
}

static void
groups_free(struct pbstate *s)
{
	if (s->groups == NULL)
		return;
	for (size_t i = 0; i < GROUPS; i++) {
		free(s->groups[i].ring);
		free(s->groups[i].stages);
	}
	free(s->groups);
	s->groups = NULL;
	s->used = 0;
}

void
pb_analysis_free(struct pb_analysis *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; a->st != NULL && i < a->lib->n; i++) {
		groups_free(&a->st[i]);
		pb_card_free(a->st[i].card);
	}
	free(a->st);
	free(a->cards);
	free(a->sugg);
	free(a->tsugg);
	free(a->scache);
	free(a->mark);
	free(a->cand);
	pcre2_match_data_free(a->md);
	pcre2_match_data_free(a->md2);
	pcre2_match_context_free(a->mc);
	pcre2_jit_stack_free(a->js);
	pb_miner_free(a->miner);
	for (size_t i = 0; i < a->nnames; i++)
		free(a->names[i]);
	free(a->names);
	free(a);
}

/* A copy of name owned by the analysis. */
static const char *
intern(struct pb_analysis *a, const char *name)
{
	char **nn;

	for (size_t i = 0; i < a->nnames; i++)
		if (strcmp(a->names[i], name) == 0)
			return a->names[i];
	if ((nn = realloc(a->names, (a->nnames + 1) * sizeof(*nn))) == NULL)
		return NULL;
	a->names = nn;
	if ((nn[a->nnames] = strdup(name)) == NULL)
		return NULL;
	return nn[a->nnames++];
}

static uint32_t
fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void
group_reset(struct group *g)
{
	struct tick *ring = g->ring;
	struct stage *stages = g->stages;

	memset(g, 0, sizeof(*g));
	g->ring = ring;
	g->stages = stages;
	for (int i = 0; i < PB_MAX_PATTERNS; i++)
		g->seen[i] = PB_TIME_NONE;
}

/*
 * Find or make the group for key.  When the table fills, groups idle for
 * longer than the window are dropped; failing that, tracking restarts.
 */
static struct group *
group_get(struct pbstate *s, const struct pb_playbook *pb, const char *key,
    size_t klen, int64_t t)
{
	struct group *g;
	uint32_t h;

	if (klen >= KEY_MAX)
		klen = KEY_MAX - 1;
	if (s->groups == NULL) {
		if ((s->groups = calloc(GROUPS, sizeof(*s->groups))) == NULL)
			return NULL;
	}
	if (s->used >= GROUPS * 3 / 4) {
		int64_t idle = (int64_t)pb->window * 1000;
		for (size_t i = 0; i < GROUPS; i++) {
			g = &s->groups[i];
			if (g->used && (pb->window == 0 || t == PB_TIME_NONE ||
			    g->last == PB_TIME_NONE || t - g->last > idle)) {
				group_reset(g);
				s->used--;
			}
		}
		/* Open addressing needs no tombstones: rehash survivors. */
		if (s->used >= GROUPS * 3 / 4) {
			for (size_t i = 0; i < GROUPS; i++)
				if (s->groups[i].used) {
					group_reset(&s->groups[i]);
				}
			s->used = 0;
		} else {
			struct group *old = s->groups;
			if ((s->groups = calloc(GROUPS, sizeof(*s->groups))) == NULL) {
				s->groups = old;
				return NULL;
			}
			for (size_t i = 0; i < GROUPS; i++) {
				if (!old[i].used) {
					free(old[i].ring);
					free(old[i].stages);
					continue;
				}
				h = fnv(old[i].key, strlen(old[i].key)) & (GROUPS - 1);
				while (s->groups[h].used)
					h = (h + 1) & (GROUPS - 1);
				s->groups[h] = old[i];
			}
			free(old);
		}
	}
	h = fnv(key, klen) & (GROUPS - 1);
	for (;;) {
		g = &s->groups[h];
		if (!g->used)
			break;
		if (strlen(g->key) == klen && memcmp(g->key, key, klen) == 0)
			return g;
		h = (h + 1) & (GROUPS - 1);
	}
	group_reset(g);
	g->used = 1;
	memcpy(g->key, key, klen);
	g->key[klen] = '\0';
	s->used++;
	return g;
}

static struct pb_card *
card_of(struct pb_analysis *a, size_t pbi)
{
	struct pbstate *s = &a->st[pbi];

	if (s->card == NULL) {
		s->card = pb_card_new(a->lib->pbs[pbi], a->opt.max_examples);
		if (s->card != NULL)
			pb_card_set_seq(s->card, a->seq);
	}
	return s->card;
}

/* Record the named captures of the pattern that just matched. */
static void
captures(struct pb_analysis *a, struct pb_card *card,
    const struct pb_playbook *pb, const struct pb_pattern *pt,
    const char *line)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(a->md);
	uint32_t n = pcre2_get_ovector_count(a->md);

	for (int k = 0; k < pt->ncap; k++) {
		uint32_t gi = (uint32_t)pt->cap_group[k];
		if (gi >= n || ov[2 * gi] == PCRE2_UNSET)
			continue;
		(void)pb_card_add_capture(card, pb->capnames[pt->cap_slot[k]],
		    line + ov[2 * gi], ov[2 * gi + 1] - ov[2 * gi]);
	}
}

static void
stage_keep(struct group *g, int i, const char *file, uint64_t lineno,
    const char *line, size_t len, int64_t t)
{
	struct stage *s;

	if (g->stages == NULL &&
	    (g->stages = calloc(PB_MAX_PATTERNS, sizeof(*g->stages))) == NULL)
		return;
	s = &g->stages[i];
	s->len = len < STAGE_TEXT ? len : STAGE_TEXT;
	memcpy(s->text, line, s->len);
	s->file = file;
	s->lineno = lineno;
	s->t = t;
}

void
pb_analysis_set_line_cb(struct pb_analysis *a, pb_line_fn fn, void *arg)
{
	a->line_fn = fn;
	a->line_arg = arg;
}

/* Tell the caller that line (file, lineno) belongs to playbook pbi's card. */
static void
line_report(struct pb_analysis *a, size_t pbi, const char *file,
    uint64_t lineno, uint64_t n)
{
	if (a->line_fn != NULL && file != NULL && lineno > 0)
		a->line_fn(a->line_arg, file, lineno, a->lib->pbs[pbi], n);
}

/* Does playbook pbi show this line on a card (after its event)? */
static int
speaks_for_line(const struct pb_analysis *a, size_t pbi)
{
	const struct pbstate *s = &a->st[pbi];

	return s->card != NULL && pb_card_count(s->card) > 0;
}

/* One event: pattern pi of playbook pbi matched this line (md holds it). */
static void
event(struct pb_analysis *a, size_t pbi, size_t pi, const char *file,
    uint64_t lineno, const char *line, size_t len, int64_t t)
{
	const struct pb_playbook *pb = a->lib->pbs[pbi];
	const struct pb_pattern *pt = &pb->pats[pi];
	struct pbstate *s = &a->st[pbi];
	struct pb_card *card;
	struct group *g;
	const char *key = "";
	size_t klen = 0;
	int64_t win = (int64_t)pb->window * 1000;

	if (pt->group_by_group >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(a->md);
		uint32_t gi = (uint32_t)pt->group_by_group;
		if (gi < pcre2_get_ovector_count(a->md) && ov[2 * gi] != PCRE2_UNSET) {
			key = line + ov[2 * gi];
			klen = ov[2 * gi + 1] - ov[2 * gi];
		}
	}
	if ((card = card_of(a, pbi)) == NULL)
		return;
	if (pb->mode == PB_MODE_ANY && pb->threshold <= 1) {
		captures(a, card, pb, pt, line);
		(void)pb_card_add(card, file, lineno, line, len, t, 1);
		line_report(a, pbi, file, lineno, 1);
		return;
	}
	if (pb_card_count(card) == 0) {
		if (s->pending++ == 0) {
			s->pend_len = len < STAGE_TEXT ? len : STAGE_TEXT;
			memcpy(s->pend_text, line, s->pend_len);
			s->pend_file = file;
			s->pend_line = lineno;
		}
	}
	if ((g = group_get(s, pb, key, klen, t)) == NULL)
		return;
	g->last = t;
	if (pb->mode == PB_MODE_ANY) {
		int cap = pb->threshold;
		struct tick *old;
		if (g->ring == NULL &&
		    (g->ring = calloc((size_t)cap, sizeof(*g->ring))) == NULL)
			return;
		g->nev++;
		g->ring[(g->rhead + g->rcount) % cap] = (struct tick){ t, g->nev,
		    file, lineno };
		if (g->rcount < cap)
			g->rcount++;
		else
			g->rhead = (g->rhead + 1) % cap;
		old = &g->ring[g->rhead];
		/* Lines without any time count as simultaneous. */
		if (g->rcount < cap || (t != PB_TIME_NONE &&
		    old->t != PB_TIME_NONE && t - old->t > win))
			return;
		/* Met: every event in the window not yet on the card counts
		 * once, so overlapping bursts are not counted twice. */
		uint64_t add = 0;
		int64_t first = t;
		for (int i = 0; i < cap; i++) {
			struct tick *k = &g->ring[(g->rhead + i) % cap];
			if (k->n <= g->counted)
				continue;
			if (add++ == 0)
				first = k->t;
			/* the burst's earlier lines count only now */
			line_report(a, pbi, k->file, k->lineno, 1);
		}
		g->counted = g->nev;
		captures(a, card, pb, pt, line);
		(void)pb_card_add(card, file, lineno, line, len, first, add);
		if (t != PB_TIME_NONE)
			(void)pb_card_add(card, NULL, 0, NULL, 0, t, 0);
		return;
	}
	if (pb->mode == PB_MODE_ALL) {
		int64_t lo = t, hi = t;
		g->seen[pi] = t == PB_TIME_NONE ? 0 : t;
		stage_keep(g, (int)pi, file, lineno, line, len, t);
		captures(a, card, pb, pt, line);
		for (size_t i = 0; i < pb->npats; i++) {
			if (g->seen[i] == PB_TIME_NONE)
				return;
			if (g->seen[i] < lo) lo = g->seen[i];
			if (g->seen[i] > hi) hi = g->seen[i];
		}
		if (win > 0 && t != PB_TIME_NONE && hi - lo > win)
			return;
	} else {				/* sequence */
		if (g->stage > 0 && t != PB_TIME_NONE && g->stages != NULL &&
		    g->stages[0].t != PB_TIME_NONE && t - g->stages[0].t > win)
			g->stage = 0;		/* too late: start over */
		if (pi == 0)
			g->stage = 0;		/* the most recent start counts */
		if ((int)pi != g->stage)
			return;
		stage_keep(g, (int)pi, file, lineno, line, len, t);
		captures(a, card, pb, pt, line);
		if (++g->stage < (int)pb->npats)
			return;
		g->stage = 0;
	}
	/* Completed: earlier stages become evidence, this line the count. */
	for (size_t i = 0; g->stages != NULL && i < pb->npats; i++) {
		if (i == pi)
			continue;
		struct stage *st = &g->stages[i];
		int again = st->lineno == lineno && st->file == file;
		(void)pb_card_add(card, st->file, st->lineno, st->text, st->len,
		    st->t, 0);
		/* one line can fill several stages: report it once */
		for (size_t k = 0; k < i && !again; k++)
			again = k != pi && g->stages[k].lineno == st->lineno &&
			    g->stages[k].file == st->file;
		if (!again)
			line_report(a, pbi, st->file, st->lineno, 0);
	}
	(void)pb_card_add(card, file, lineno, line, len, t, 1);
	line_report(a, pbi, file, lineno, 1);
	for (int i = 0; i < PB_MAX_PATTERNS; i++)
		g->seen[i] = PB_TIME_NONE;
}

/*
 * The one message about a playbook's match-limit hits: when it is disabled,
 * or at the end of a file for fewer hits.
 */
static void
limit_warning(struct pb_analysis *a, size_t pbi)
{
	struct pbstate *st = &a->st[pbi];
	const struct pb_playbook *pb = a->lib->pbs[pbi];
	char msg[160], *s;

	if (st->warned || st->strikes == 0 || a->warn == NULL)
		return;
	st->warned = 1;
	pcre2_get_error_message(st->limit_rc, (PCRE2_UCHAR *)msg, sizeof(msg));
	if (st->disabled)
		s = pb_strdupf("%s: playbook %s disabled for the rest of the "
		    "input: pattern %s: %s on %d lines, first at %s:%llu",
		    pb->path, pb->id, pb->pats[st->limit_pat].name, msg,
		    st->strikes, st->limit_file,
		    (unsigned long long)st->limit_line);
	else
		s = pb_strdupf("%s: playbook %s, pattern %s: %s at %s:%llu; "
		    "%d line(s) skipped", pb->path, pb->id,
		    pb->pats[st->limit_pat].name, msg, st->limit_file,
		    (unsigned long long)st->limit_line, st->strikes);
	if (s != NULL) {
		a->warn(a->warn_arg, s);
		free(s);
	}
}

/*
 * A pattern ran out of match limit on this line.  A playbook that keeps
 * doing so is disabled, so a hostile log costs at most LIMIT_STRIKES
 * limits per playbook instead of one per line.
 */
static void
limit_hit(struct pb_analysis *a, size_t pbi, size_t pi, int rc,
    const char *file, uint64_t lineno)
{
	struct pbstate *st = &a->st[pbi];

	if (st->strikes++ == 0) {
		st->limit_rc = rc;
		st->limit_pat = pi;
		st->limit_file = file;
		st->limit_line = lineno;
	}
	if (st->strikes >= LIMIT_STRIKES) {
		st->disabled = 1;
		limit_warning(a, pbi);
	}
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static void
add_unknown(struct pb_analysis *a, const char *file, uint64_t lineno,
    const char *line, size_t len, int sev, int64_t t)
{
	long id;

	if (sev == PB_LINE_NONE || sev > PB_SEV_LOW)
		return;
	id = pb_miner_add_ev(a->miner, line, len, (enum pb_severity)sev, t);
	a->unknown++;
	if (id >= 0 && pb_miner_hits(a->miner, id) == 1)
		pb_miner_set_example(a->miner, id, file, lineno, line, len);
}

/*
 * Follow records spread over lines (Windows event text exports): returns
 * 1 when this line is a record's text, whose level is then a->rec_sev
 * (PB_LINE_NONE while the level field is still to come).  Only the text's
 * first line counts: a Windows message says what happened there.
 */
static int
record_line(struct pb_analysis *a, const char *line, size_t len)
{
	int lv = PB_LINE_NONE, next = a->rec_next;
	size_t text = 0;

	a->rec_next = 0;
	switch (pb_severity_record(line, len, &lv, &text)) {
	case PB_REC_BLANK:
		if (next) {	/* "Description:" may stand apart */
			a->rec_next = 1;
			return 0;
		}
		/* a kept text waits on: a message's own blank lines come
		 * before its level field; the next record's text replaces it */
		a->rec_sev = PB_LINE_NONE;
		return 0;
	case PB_REC_START:
		a->rec_sev = PB_LINE_NONE;
		a->rec_kept = 0;
		return 0;
	case PB_REC_LEVEL:
		a->rec_sev = lv;
		if (a->rec_kept) {	/* Get-WinEvent: the message came first */
			a->rec_kept = 0;
			add_unknown(a, a->rec_text.file, a->rec_text.lineno,
			    a->rec_text.text, a->rec_text.len,
			    pb_line_severity_in(a->rec_text.text,
			    a->rec_text.len, lv), a->rec_text.t);
		}
		return 0;
	case PB_REC_TEXT_NEXT:
		a->rec_next = 1;
		return 0;
	case PB_REC_TEXT:
		return 1;
	default:
		return next;
	}
}

void
pb_analysis_feed_line(struct pb_analysis *a, const char *file,
    uint64_t lineno, const char *line, size_t len, int64_t ref)
{
	const struct pb_library *lib = a->lib;
	uint32_t ids[MAX_HITS], *cand = a->cand;
	size_t nids, ncand = 0, i, j;
	int keyword = 0, matched = 0, rectext = 0;
	struct gen_hit { uint32_t pbi, pi; } gen[8];
	size_t ngen = 0;
	int speaks = 0;
	int64_t t;

	a->lines++;
	a->bytes += len + 1;
	a->seq++;
	if (file != a->last_file) {
		a->last_file = file;
		a->last_t = PB_TIME_NONE;
		pb_tslearn_reset(&a->tsl);
		a->rec_sev = PB_LINE_NONE;
		a->rec_next = a->rec_kept = 0;
	}
	nids = pb_prefilter_scan(lib->pf, line, len, ids, MAX_HITS);
	/* Besides the literals, only a "<3>" or "E/" head can make a line a
	 * warning: a line with neither costs the one scan. */
	keyword = a->opt.unknown && pb_severity_head(line, len);
	rectext = a->opt.unknown && record_line(a, line, len);
	if (nids == 0 && !keyword && !rectext)
		return;
	if (++a->gen == 0) {			/* wrapped: clear marks */
		memset(a->mark, 0, (lib->ngpats + 1) * sizeof(*a->mark));
		a->gen = 1;
	}
	for (i = 0; i < nids; i++) {
		uint32_t li = ids[i];
		keyword |= lib->litkw[li];
		for (uint32_t k = lib->litstart[li]; k < lib->litstart[li + 1]; k++) {
			uint32_t gp = lib->litgp[k];
			if (a->mark[gp] == a->gen)
				continue;
			a->mark[gp] = a->gen;
			cand[ncand++] = gp;
		}
	}
	/* Sorted, one playbook's patterns sit together and run in order. */
	if (ncand > 16)
		qsort(cand, ncand, sizeof(*cand), cmp_u32);
	else
		for (i = 1; i < ncand; i++) {
			uint32_t v = cand[i];
			for (j = i; j > 0 && cand[j - 1] > v; j--)
				cand[j] = cand[j - 1];
			cand[j] = v;
		}
	if (ncand == 0 && !((keyword || rectext) && a->opt.unknown))
		return;
	t = pb_time_parse_learn(&a->tsl, line, len, ref);
	if (t == PB_TIME_NONE)
		t = a->last_t;
	else
		a->last_t = t;
	/* Seconds since boot are no date: --since/--until cannot judge them. */
	if (t != PB_TIME_NONE && !pb_time_is_boot(t) &&
	    ((a->opt.since_ms != PB_TIME_NONE &&
	    t < a->opt.since_ms) || (a->opt.until_ms != PB_TIME_NONE &&
	    t > a->opt.until_ms)))
		return;
	for (i = 0; i < ncand; ) {
		uint32_t pbi = lib->gpats[cand[i]].pb;
		const struct pb_playbook *pb = lib->pbs[pbi];
		int excluded = -1, done = 0;
		for (; i < ncand && lib->gpats[cand[i]].pb == pbi; i++) {
			uint32_t pi = lib->gpats[cand[i]].pat;
			int rc;
			if (done || a->st[pbi].disabled)
				continue;
			rc = pb_playbook_match_line(pb, pi, line, len, a->md, a->mc);
			if (rc < 0)
				limit_hit(a, pbi, pi, rc, file, lineno);
			if (rc <= 0)
				continue;
			if (excluded < 0)
				excluded = pb_playbook_excluded(pb, line, len,
				    a->md2, a->mc);
			if (excluded) {
				done = 1;
				continue;
			}
			if (pb->generic) {
				/* Held back: a specific playbook that knows
				 * this line says more than the generic one. */
				if (ngen < sizeof(gen) / sizeof(gen[0]))
					gen[ngen++] = (struct gen_hit){ pbi, pi };
				done = 1;
				continue;
			}
			matched = 1;
			event(a, pbi, pi, file, lineno, line, len, t);
			speaks |= speaks_for_line(a, pbi);
			if (pb->mode == PB_MODE_ANY)
				done = 1;
		}
	}
	/* A generic playbook yields only to a specific one that raises a
	 * card for this line; one still below its threshold does not
	 * speak yet, so the generic card keeps the line visible. */
	for (i = 0; !speaks && i < ngen; i++) {
		const struct pb_playbook *gpb = lib->pbs[gen[i].pbi];
		/* md now holds a later pattern's match: redo this one so
		 * captures and group_by read the right groups. */
		if (pb_playbook_match_line(gpb, gen[i].pi, line, len, a->md,
		    a->mc) > 0)
			event(a, gen[i].pbi, gen[i].pi, file, lineno, line, len,
			    t);
	}
	matched |= ngen > 0;
	if (matched || !a->opt.unknown)
		return;
	if (rectext && a->rec_sev == PB_LINE_NONE) {
		/* its level field comes later in the record: keep it */
		struct stage *k = &a->rec_text;
		k->len = len < sizeof(k->text) - 1 ? len : sizeof(k->text) - 1;
		memcpy(k->text, line, k->len);
		k->text[k->len] = '\0';
		k->file = file;
		k->lineno = lineno;
		k->t = t;
		a->rec_kept = 1;
	} else if (rectext)
		add_unknown(a, file, lineno, line, len,
		    pb_line_severity_in(line, len, a->rec_sev), t);
	else if (keyword)
		add_unknown(a, file, lineno, line, len,
		    pb_line_severity(line, len), t);
}

int
pb_analysis_feed_file(struct pb_analysis *a, const char *path,
    pb_diag_fn warn, void *arg, char **cause)
{
	struct pb_logsrc *ls;
	const char *line, *name;
	size_t len;
	int rc;

	a->warn = warn;
	a->warn_arg = arg;
	if ((rc = pb_logsrc_open(path, &ls, cause)) != 0)
		return rc;
	/* Cards keep pointers to the file name for the analysis' lifetime.
	 * It is kept as shown: printable, valid UTF-8 (a hostile name
	 * reaches no terminal, and JSON can hold it). */
	{
		char *shown = pb_sanitize(strcmp(path, "-") == 0 ? "(stdin)" :
		    path, strcmp(path, "-") == 0 ? 7 : strlen(path));

		name = shown != NULL ? intern(a, shown) : NULL;
		free(shown);
	}
	if (name == NULL) {
		pb_logsrc_close(ls);
		return PB_ENOMEM;
	}
	while ((rc = pb_logsrc_next(ls, &line, &len, cause)) == 1)
		pb_analysis_feed_line(a, name, pb_logsrc_lineno(ls), line, len,
		    pb_logsrc_mtime(ls));
	for (size_t i = 0; i < a->lib->n; i++)
		limit_warning(a, i);
	if (rc == 0 && warn != NULL) {
		char *s = NULL;
		if (pb_logsrc_binary(ls))
			s = pb_strdupf("%s: contains NUL bytes (binary data?); "
			    "matched as text", name);
		if (s != NULL) {
			warn(arg, s);
			free(s);
			s = NULL;
		}
		if (pb_logsrc_long_lines(ls) > 0)
			s = pb_strdupf("%s: %llu line(s) longer than %d bytes were "
			    "matched on their first %d bytes", name,
			    (unsigned long long)pb_logsrc_long_lines(ls),
			    LOGSRC_MAX_LINE, LOGSRC_MAX_LINE);
		if (s != NULL) {
			warn(arg, s);
			free(s);
		}
	}
	pb_logsrc_close(ls);
	return rc;
}

/*
 * Look template id up in the similarity index: a playbook, else (for a
 * line that states a failure in words) a whole class.  Cached per template
 * text while the log's template count grows by less than a quarter (the
 * class lookup weighs the log's chatter).
 */
static void
suggest_one(struct pb_analysis *a, long id, const struct pb_bm25_bg *bg,
    long *best, long *klass, double *score)
{
	const char *text = pb_miner_text(a->miner, id), *ex, *file;
	uint32_t h = fnv(text, strlen(text)) | 1;
	uint32_t nt = (uint32_t)pb_miner_count(a->miner);
	uint64_t lineno;
	struct scached *c;
	double ks;
	long k;

	if (a->scache == NULL)	/* out of memory: look up each time */
		a->scache = calloc(MAX_TEMPLATES, sizeof(*a->scache));
	c = a->scache != NULL && id < MAX_TEMPLATES ? &a->scache[id] : NULL;
	if (c != NULL && c->hash == h && (uint64_t)nt * 4 <=
	    (uint64_t)c->ntmpl * 5) {
		*best = c->pb;
		*klass = c->klass;
		*score = c->score;
		return;
	}
	*klass = -1;
	*best = pb_bm25_best(a->lib->bm25, text, score);
	if ((ex = pb_miner_example(a->miner, id, &file, &lineno)) != NULL &&
	    pb_severity_lexicon(ex, strlen(ex)) != PB_LINE_NONE &&
	    (k = pb_bm25_class(a->lib->bm25, bg, text, &ks)) >= 0) {
		/* a clear class that is not the playbook's overrules it */
		if (*best < 0 || (a->lib->pbs[*best]->klass != NULL &&
		    strcmp(a->lib->pbs[*best]->klass, pb_bm25_class_name(k,
		    NULL)) != 0)) {
			*best = -1;
			*klass = k;
			*score = ks;
		}
	}
	if (c != NULL)
		*c = (struct scached){ h, (int32_t)*best, (int32_t)*klass, nt,
		    *score };
}

/*
 * Keep the templates above the salience threshold (they are ranked, so a
 * prefix) and look each up in the library's similarity index.
 */
static void
rank_unknown(struct pb_analysis *a)
{
	size_t n = pb_miner_count(a->miner), i;
	const char *ex, *file;
	struct pb_bm25_bg *bg = NULL;
	uint64_t lineno;
	double score;
	long id, best, klass;

	a->nshown = a->nsugg = 0;
	free(a->sugg);
	free(a->tsugg);
	a->sugg = NULL;
	a->tsugg = NULL;
	for (i = 0; i < n; i++) {
		if ((id = pb_miner_rank(a->miner, i)) < 0 ||
		    pb_miner_salience(a->miner, id) < PB_SALIENCE_MIN)
			break;
	}
	a->nshown = i;
	if (a->nshown == 0 || a->lib->bm25 == NULL)
		return;
	if ((a->tsugg = calloc(a->nshown, sizeof(*a->tsugg))) == NULL ||
	    (a->sugg = calloc(a->nshown < SUGGEST_MAX ? a->nshown : SUGGEST_MAX,
	    sizeof(*a->sugg))) == NULL) {
		free(a->tsugg);
		a->tsugg = NULL;
		return;
	}
	/* the log's own words, for the class lookup (NULL: not weighed) */
	if ((bg = pb_bm25_bg_new()) != NULL)
		for (i = 0; i < n && i < MAX_TEMPLATES; i++)
			if (pb_bm25_bg_add(bg, pb_miner_text(a->miner,
			    (long)i)) != 0) {
				pb_bm25_bg_free(bg);
				bg = NULL;
				break;
			}
	for (i = 0; i < a->nshown; i++) {
		a->tsugg[i] = -1;
		if (i >= SUGGEST_MAX)
			continue;
		id = pb_miner_rank(a->miner, i);
		/* an info line that merely says "failed" is no known problem,
		 * nor is a warning that names no failure in words ("WARN Send
		 * worker leaving thread"): similarity alone would be a guess */
		if (pb_miner_level(a->miner, id) > PB_SEV_MEDIUM ||
		    (pb_miner_level(a->miner, id) == PB_SEV_MEDIUM &&
		    ((ex = pb_miner_example(a->miner, id, &file, &lineno)) ==
		    NULL || pb_severity_lexicon(ex, strlen(ex)) == PB_LINE_NONE)))
			continue;
		suggest_one(a, id, bg, &best, &klass, &score);
		if (best < 0 && klass < 0)
			continue;
		a->tsugg[i] = (long)a->nsugg;
		a->sugg[a->nsugg++] = (struct suggestion){ i, best < 0 ? 0 :
		    (uint32_t)best, best < 0 ? (int32_t)klass : -1, score };
	}
	pb_bm25_bg_free(bg);
}

void
pb_analysis_finish(struct pb_analysis *a)
{
	size_t n = 0;

	free(a->cards);
	a->cards = calloc(a->lib->n ? a->lib->n : 1, sizeof(*a->cards));
	if (a->cards == NULL) {
		a->ncards = 0;
		return;
	}
	for (size_t i = 0; i < a->lib->n; i++)
		if (a->st[i].card != NULL && pb_card_count(a->st[i].card) > 0) {
			pb_card_finish(a->st[i].card);
			a->cards[n++] = a->st[i].card;
		}
	qsort(a->cards, n, sizeof(*a->cards), pb_card_cmp);
	a->ncards = n;
	pb_miner_sort(a->miner);
	rank_unknown(a);
}

uint64_t pb_analysis_lines(const struct pb_analysis *a) { return a->lines; }
uint64_t pb_analysis_bytes(const struct pb_analysis *a) { return a->bytes; }
size_t pb_analysis_ncards(const struct pb_analysis *a) { return a->ncards; }
uint64_t pb_analysis_unknown_lines(const struct pb_analysis *a) { return a->unknown; }

const struct pb_card *
pb_analysis_card(const struct pb_analysis *a, size_t i)
{
	return i < a->ncards ? a->cards[i] : NULL;
}

size_t
pb_analysis_ntemplates(const struct pb_analysis *a)
{
	return a->nshown;
}

size_t
pb_analysis_ntemplates_all(const struct pb_analysis *a)
{
	return pb_miner_count(a->miner);
}

const char *
pb_analysis_template(const struct pb_analysis *a, size_t i, uint64_t *count,
    const char **example, const char **file, uint64_t *lineno)
{
	long id = i < a->nshown ? pb_miner_rank(a->miner, i) : -1;

	if (id < 0)
		return NULL;
	*count = pb_miner_hits(a->miner, id);
	*example = pb_miner_example(a->miner, id, file, lineno);
	return pb_miner_text(a->miner, id);
}

int
pb_analysis_template_info(const struct pb_analysis *a, size_t i,
    enum pb_severity *level, double *salience, int64_t *first, int64_t *last)
{
	long id = i < a->nshown ? pb_miner_rank(a->miner, i) : -1;

	if (id < 0)
		return PB_EINVAL;
	*level = pb_miner_level(a->miner, id);
	*salience = pb_miner_salience(a->miner, id);
	*first = pb_miner_first(a->miner, id);
	*last = pb_miner_last(a->miner, id);
	return 0;
}

long
pb_analysis_template_suggestion(const struct pb_analysis *a, size_t i)
{
	return a->tsugg != NULL && i < a->nshown ? a->tsugg[i] : -1;
}

size_t
pb_analysis_nbelow(const struct pb_analysis *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->lib->n; i++)
		n += a->st[i].pending > 0 && (a->st[i].card == NULL ||
		    pb_card_count(a->st[i].card) == 0);
	return n;
}

const struct pb_playbook *
pb_analysis_below(const struct pb_analysis *a, size_t i, uint64_t *count,
    const char **example, size_t *exlen, const char **file, uint64_t *lineno)
{
	for (size_t k = 0; k < a->lib->n; k++) {
		const struct pbstate *s = &a->st[k];
		if (s->pending == 0 || (s->card != NULL &&
		    pb_card_count(s->card) > 0) || i-- > 0)
			continue;
		*count = s->pending;
		*example = s->pend_text;
		*exlen = s->pend_len;
		*file = s->pend_file;
		*lineno = s->pend_line;
		return a->lib->pbs[k];
	}
	return NULL;
}

size_t
pb_analysis_nsuggested(const struct pb_analysis *a)
{
	return a->nsugg;
}

const struct pb_playbook *
pb_analysis_suggested(const struct pb_analysis *a, size_t i, double *score,
    size_t *tmpl)
{
	if (i >= a->nsugg)
		return NULL;
	*score = a->sugg[i].score;
	*tmpl = a->sugg[i].tmpl;
	return a->sugg[i].klass < 0 ? a->lib->pbs[a->sugg[i].pb] : NULL;
}

const char *
pb_analysis_suggested_class(const struct pb_analysis *a, size_t i,
    const char **desc)
{
	if (i >= a->nsugg || a->sugg[i].klass < 0)
		return NULL;
	return pb_bm25_class_name(a->sugg[i].klass, desc);
}

/* "class:disk-io" for a class-level suggestion, else the playbook id. */
static const char *
suggestion_id(const struct pb_analysis *a, const struct suggestion *sg,
    char *buf, size_t len)
{
	if (sg->klass < 0)
		return a->lib->pbs[sg->pb]->id;
	snprintf(buf, len, "class:%s", pb_bm25_class_name(sg->klass, NULL));
	return buf;
}

/* A time as "YYYY-MM-DDTHH:MM:SS", or null. */
static json_t *
time_json(int64_t ms)
{
	char buf[32];

	if (ms == PB_TIME_NONE)
		return json_null();
	pb_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

/*
 * One "possibly" card: the playbook (or, "kind": "class", a whole class:
 * id "class:NAME", its description as title, severity low), how close,
 * and the lines.
 */
static json_t *
suggestion_json(const struct pb_analysis *a, const struct suggestion *sg)
{
	const struct pb_playbook *pb = sg->klass < 0 ? a->lib->pbs[sg->pb] :
	    NULL;
	const char *text, *ex, *file, *desc = "";
	const char *klass = pb ? pb->klass : pb_bm25_class_name(sg->klass,
	    &desc);
	uint64_t count, lineno;
	char id[64];

	text = pb_analysis_template(a, sg->tmpl, &count, &ex, &file, &lineno);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:I,s:s,s:s,"
	    "s:[{s:s,s:I,s:s}]}",
	    "id", suggestion_id(a, sg, id, sizeof(id)), "kind", pb ?
	    "playbook" : "class", "class", klass ? klass : "",
	    "title", pb ? pb->title : desc, "severity", pb_severity_name(pb ?
	    pb->severity : PB_SEV_LOW),
	    "score", floor(sg->score * 100 + 0.5) / 100, "count",
	    (json_int_t)count, "level", pb_severity_name(pb_miner_level(a->miner,
	    pb_miner_rank(a->miner, sg->tmpl))), "template", text ? text : "",
	    "examples", "file", file ? file : "", "line", (json_int_t)lineno,
	    "text", ex ? ex : "");
}

int
pb_analysis_write_json(const struct pb_analysis *a, FILE *fp)
{
	json_t *doc, *cards, *tmpls, *files, *sugg, *below;
	const char *file, *ex, *text;
	char idbuf[64];
	uint64_t count, lineno;
	int rc;

	doc = json_object();
	json_object_set_new(doc, "format", json_integer(1));
	files = json_array();
	for (size_t i = 0; i < a->nnames; i++)
		json_array_append_new(files, json_string(a->names[i]));
	json_object_set_new(doc, "files", files);
	json_object_set_new(doc, "lines", json_integer((json_int_t)a->lines));
	json_object_set_new(doc, "bytes", json_integer((json_int_t)a->bytes));
	json_object_set_new(doc, "playbooks",
	    json_integer((json_int_t)a->lib->n));
	cards = json_array();
	for (size_t i = 0; i < a->ncards; i++)
		json_array_append_new(cards, pb_card_json(a->cards[i]));
	json_object_set_new(doc, "cards", cards);
	sugg = json_array();
	for (size_t i = 0; i < a->nsugg; i++)
		json_array_append_new(sugg, suggestion_json(a, &a->sugg[i]));
	json_object_set_new(doc, "suggested", sugg);
	below = json_array();
	for (size_t i = 0; i < pb_analysis_nbelow(a); i++) {
		const struct pb_playbook *pb;
		const char *bfile;
		size_t exlen;
		char *safe;

		pb = pb_analysis_below(a, i, &count, &ex, &exlen, &bfile,
		    &lineno);
		if (pb == NULL || (safe = pb_sanitize(ex, exlen)) == NULL)
			break;
		json_array_append_new(below, json_pack(
		    "{s:s,s:s,s:s,s:s,s:I,s:i,s:i,s:{s:s,s:I,s:s}}",
		    "id", pb->id, "class", pb->klass ? pb->klass : "",
		    "title", pb->title, "severity",
		    pb_severity_name(pb->severity), "count", (json_int_t)count,
		    "threshold", pb->threshold, "window", pb->window,
		    "example", "file", bfile ? bfile : "", "line",
		    (json_int_t)lineno, "text", safe));
		free(safe);
	}
	json_object_set_new(doc, "below_threshold", below);
	tmpls = json_array();
	for (size_t i = 0; i < pb_analysis_ntemplates(a); i++) {
		json_t *t;
		text = pb_analysis_template(a, i, &count, &ex, &file, &lineno);
		if (text == NULL)
			break;
		t = json_pack("{s:s,s:I,s:o,s:s,s:f,s:{s:s,s:I,s:s}}",
		    "template", text, "count", (json_int_t)count,
		    "first", time_json(pb_miner_first(a->miner, pb_miner_rank(
		    a->miner, i))), "level", pb_severity_name(pb_miner_level(
		    a->miner, pb_miner_rank(a->miner, i))), "salience",
		    pb_miner_salience(a->miner, pb_miner_rank(a->miner, i)),
		    "example", "file", file, "line", (json_int_t)lineno,
		    "text", ex);
		json_object_set_new(t, "last", time_json(pb_miner_last(a->miner,
		    pb_miner_rank(a->miner, i))));
		json_object_set_new(t, "suggested", a->tsugg != NULL &&
		    a->tsugg[i] >= 0 ? json_string(suggestion_id(a,
		    &a->sugg[a->tsugg[i]], idbuf, sizeof(idbuf))) :
		    json_null());
		json_array_append_new(tmpls, t);
	}
	json_object_set_new(doc, "unknown", json_pack("{s:I,s:I,s:I,s:f,s:o}",
	    "lines", (json_int_t)a->unknown, "templates_total",
	    (json_int_t)pb_miner_count(a->miner), "templates_shown",
	    (json_int_t)a->nshown, "salience_min", PB_SALIENCE_MIN,
	    "templates", tmpls));
	/* ASCII only: every other character is a \uXXXX escape, so no
	 * playbook or log text reaches a terminal that shows the document. */
	rc = json_dumpf(doc, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII) == 0 &&
	    fputc('\n', fp) != EOF ? 0 : PB_EIO;
	json_decref(doc);
	return rc;
}
