/*
 * suggest.c - "possibly: <title>": which playbook does an unknown template
 * resemble?
 *
 * Okapi BM25 (Robertson and Zaragoza, "The Probabilistic Relevance
 * Framework", 2009) over each playbook's title (counted twice), tags,
 * class, explanation and example lines.  Text is split on anything not a
 * letter or digit and at camelCase humps (unseen wording often glues words:
 * "NullPointerException"), then lower-cased; tokens with a digit, one-letter tokens,
 * stop words and level words ("error", "warning": they say how bad, not
 * what) are dropped, and a light suffix strip joins "failed", "failing"
 * and "failure".  A suggestion needs SUGGEST_MIN_TERMS distinct shared
 * terms holding SUGGEST_MIN_COVER of the query's idf mass (words no
 * playbook has weigh as the rarest word), or SUGGEST_OTHER_COVER when the
 * line names a program the playbook does not mention and the playbook is
 * not a generic one (it is about another program: the wording must agree
 * more),
 * so one common word, or a few common words in a long line, never suggest
 * anything; and it must beat every playbook of another class by
 * SUGGEST_MARGIN: the card carries the playbook's class, so a near tie
 * between classes says nothing (fewer suggestions, more of them right).  The index is built
 * once per library, in pb_library_prepare().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BM25_K1			1.2
#define BM25_B			0.75
#define TOK_MAX			48	/* longer tokens are cut */
#define QUERY_MAX		64	/* distinct query terms used */
/* Documented in triage(1), UNKNOWN LINES; keep the two in step. */
#define SUGGEST_MIN_TERMS	3
#define SUGGEST_MIN_COVER	0.5
#define SUGGEST_MARGIN		1.25
#define SUGGEST_OTHER_COVER	0.65	/* about another program */

struct term {
	char		*s;
	uint32_t	 df;		/* playbooks that hold it */
};

struct posting {
	uint32_t	 term;
	uint32_t	 tf;
};

struct doc {
	struct posting	*p;		/* sorted by term */
	size_t		 n;
	size_t		 len;		/* tokens */
};

struct pb_bm25 {
	struct term	*terms;
	size_t		 nterms, cap;
	uint32_t	*hash;		/* open addressing: term index + 1 */
	size_t		 hcap;
	struct doc	*docs;
	size_t		 ndocs;
	double		 avglen;
	const struct pb_library *lib;
};

/* Sorted (bsearch): English stop words, then levels and log furniture
 * ("error", "warning": how bad, not what; months, "pid", "host"). */
static const char *const stop[] = {
	"a", "about", "after", "again", "alert", "all", "also", "an", "and",
	"any", "apr", "are", "as", "at", "aug", "be", "been", "before",
	"being", "but", "by", "can", "could", "crit", "critical", "debug",
	"dec", "did", "do", "does", "each", "emerg", "err", "error",
	"errors", "fatal", "feb", "for", "fri", "from", "had", "has", "have",
	"he", "her", "his", "host", "how", "if", "in", "info", "into", "is",
	"it", "its", "jan", "jul", "jun", "just", "line", "lines", "log",
	"logs", "mar", "may", "me", "message", "messages", "might", "mon",
	"more", "most", "my", "no", "not", "notice", "nov", "now", "oct",
	"of", "off", "on", "one", "only", "or", "other", "our", "out",
	"over", "own", "per", "pid", "same", "sat", "sep", "severe", "she",
	"should", "so", "some", "such", "sun", "than", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "those",
	"thu", "to", "too", "trace", "tue", "under", "up", "us", "very",
	"via", "warn", "warning", "was", "we", "wed", "were", "what", "when",
	"where", "which", "while", "who", "will", "with", "would", "you",
	"your",
};

static int
cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int
is_stop(const char *w)
{
	return bsearch(w, stop, sizeof(stop) / sizeof(stop[0]), sizeof(stop[0]),
	    cmp_word) != NULL;
}

/* "failed", "failing", "failure", "fails" -> "fail"; keeps 4 letters. */
static void
strip_suffix(char *w, size_t *n)
{
	static const char *const suf[] = { "ures", "ure", "ing", "ed", "es",
	    "s", NULL };

	for (size_t i = 0; suf[i] != NULL; i++) {
		size_t l = strlen(suf[i]);
		if (*n >= l + 4 && memcmp(w + *n - l, suf[i], l) == 0) {
			*n -= l;
			w[*n] = '\0';
			return;
		}
	}
}

/*
 * Call fn for each content token of s.  Returns what the last fn call
 * returned if non-zero (an error), else 0.
 */
static int
tokens(const char *s, int (*fn)(void *, const char *), void *arg)
{
	char w[TOK_MAX + 1];
	size_t n = 0;
	int has_digit = 0, rc;

	for (;; s++) {
		unsigned char c = (unsigned char)*s;
		int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
		/* camelCase is two words: "NullPointer" says "null pointer" */
		int hump = c >= 'A' && c <= 'Z' && n > 0 && w[n - 1] >= 'a' &&
		    w[n - 1] <= 'z' && s[-1] >= 'a' && s[-1] <= 'z';
		if (word && !hump) {
			if (c >= '0' && c <= '9')
				has_digit = 1;
			if (n < TOK_MAX)
				w[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			continue;
		}
		if (n >= 2 && !has_digit) {
			w[n] = '\0';
			if (!is_stop(w)) {
				strip_suffix(w, &n);
				if ((rc = fn(arg, w)) != 0)
					return rc;
			}
		}
		n = 0;
		has_digit = 0;
		if (c == '\0')
			return 0;
		if (hump)
			s--;	/* the capital starts the next word */
	}
}

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Index of term s, or -1. */
static long
term_find(const struct pb_bm25 *ix, const char *s)
{
	size_t h;

	if (ix->hcap == 0)
		return -1;
	for (h = hash_str(s) & (ix->hcap - 1); ix->hash[h] != 0;
	    h = (h + 1) & (ix->hcap - 1))
		if (strcmp(ix->terms[ix->hash[h] - 1].s, s) == 0)
			return (long)ix->hash[h] - 1;
	return -1;
}

static int
rehash(struct pb_bm25 *ix, size_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));

	if (h == NULL)
		return PB_ENOMEM;
	for (size_t i = 0; i < ix->nterms; i++) {
		size_t k = hash_str(ix->terms[i].s) & (cap - 1);
		while (h[k] != 0)
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i + 1;
	}
	free(ix->hash);
	ix->hash = h;
	ix->hcap = cap;
	return 0;
}

static long
term_add(struct pb_bm25 *ix, const char *s)
{
	long t = term_find(ix, s);
	struct term *nt;

	if (t >= 0)
		return t;
	if ((ix->nterms + 1) * 2 > ix->hcap &&
	    rehash(ix, ix->hcap ? ix->hcap * 2 : 1024) != 0)
		return -1;
	if (ix->nterms == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 1024;
		if ((nt = realloc(ix->terms, cap * sizeof(*nt))) == NULL)
			return -1;
		ix->terms = nt;
		ix->cap = cap;
	}
	if ((ix->terms[ix->nterms].s = strdup(s)) == NULL)
		return -1;
	ix->terms[ix->nterms].df = 0;
	{
		size_t k = hash_str(s) & (ix->hcap - 1);
		while (ix->hash[k] != 0)
			k = (k + 1) & (ix->hcap - 1);
		ix->hash[k] = (uint32_t)ix->nterms + 1;
	}
	return (long)ix->nterms++;
}

/* Building one document: a growing list of term ids. */
struct dbuild {
	struct pb_bm25	*ix;
	uint32_t	*ids;
	size_t		 n, cap;
};

static int
add_tok(void *p, const char *w)
{
	struct dbuild *b = p;
	long t = term_add(b->ix, w);
	uint32_t *ni;

	if (t < 0)
		return PB_ENOMEM;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		if ((ni = realloc(b->ids, cap * sizeof(*ni))) == NULL)
			return PB_ENOMEM;
		b->ids = ni;
		b->cap = cap;
	}
	b->ids[b->n++] = (uint32_t)t;
	return 0;
}

static int
add_str(struct dbuild *b, const json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return tokens(json_string_value(v), add_tok, b);
	if (json_is_array(v))
		json_array_foreach(v, i, e)
			if (json_is_string(e)) {
				int rc = tokens(json_string_value(e), add_tok, b);
				if (rc != 0)
					return rc;
			}
	return 0;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* The words of one playbook into d. */
static int
doc_build(struct pb_bm25 *ix, const struct pb_playbook *pb, struct doc *d)
{
	const json_t *doc = pb->doc;
	struct dbuild b = { ix, NULL, 0, 0 };
	int rc;

	if ((rc = add_str(&b, json_object_get(doc, "title"))) != 0 ||
	    (rc = add_str(&b, json_object_get(doc, "title"))) != 0 ||
	    (rc = add_str(&b, json_object_get(doc, "tags"))) != 0 ||
	    (rc = add_str(&b, json_object_get(doc, "class"))) != 0 ||
	    (rc = add_str(&b, json_object_get(doc, "explanation"))) != 0 ||
	    (rc = add_str(&b, json_object_get(json_object_get(doc,
	    "examples"), "match"))) != 0)
		goto out;
	d->len = b.n;
	if (b.n == 0)
		goto out;
	qsort(b.ids, b.n, sizeof(*b.ids), cmp_u32);
	rc = PB_ENOMEM;
	if ((d->p = calloc(b.n, sizeof(*d->p))) == NULL)
		goto out;
	for (size_t i = 0; i < b.n; i++) {
		if (d->n > 0 && d->p[d->n - 1].term == b.ids[i]) {
			d->p[d->n - 1].tf++;
			continue;
		}
		d->p[d->n].term = b.ids[i];
		d->p[d->n++].tf = 1;
		ix->terms[b.ids[i]].df++;
	}
	rc = 0;
out:
	free(b.ids);
	return rc;
}

void
pb_bm25_free(struct pb_bm25 *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nterms; i++)
		free(ix->terms[i].s);
	free(ix->terms);
	free(ix->hash);
	for (size_t i = 0; i < ix->ndocs; i++)
		free(ix->docs[i].p);
	free(ix->docs);
	free(ix);
}

int
pb_bm25_new(const struct pb_library *lib, struct pb_bm25 **out)
{
	struct pb_bm25 *ix;
	size_t total = 0;
	int rc = PB_ENOMEM;

	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return PB_ENOMEM;
	ix->lib = lib;
	if ((ix->docs = calloc(lib->n ? lib->n : 1, sizeof(*ix->docs))) == NULL)
		goto out;
	ix->ndocs = lib->n;
	for (size_t i = 0; i < lib->n; i++) {
		if ((rc = doc_build(ix, lib->pbs[i], &ix->docs[i])) != 0)
			goto out;
		total += ix->docs[i].len;
	}
	ix->avglen = lib->n ? (double)total / (double)lib->n : 1;
	if (ix->avglen < 1)
		ix->avglen = 1;
	*out = ix;	/* transferred */
	ix = NULL;
	rc = 0;
out:
	pb_bm25_free(ix);
	return rc;
}

static uint32_t
tf_of(const struct doc *d, uint32_t term)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->p[mid].term < term)
			lo = mid + 1;
		else if (d->p[mid].term > term)
			hi = mid;
		else
			return d->p[mid].tf;
	}
	return 0;
}

/* Query terms, each once; words no playbook has are NOTERM and weigh as
 * much as the rarest playbook word. */
#define NOTERM UINT32_MAX
struct qbuild {
	const struct pb_bm25 *ix;
	uint32_t	 t[QUERY_MAX];
	char		 unk[QUERY_MAX][TOK_MAX + 1];
	size_t		 n, nunk;
};

static int
add_query(void *p, const char *w)
{
	struct qbuild *q = p;
	long t = term_find(q->ix, w);

	if (q->n == QUERY_MAX)
		return 0;
	if (t < 0) {
		for (size_t i = 0; i < q->nunk; i++)
			if (strcmp(q->unk[i], w) == 0)
				return 0;
		strcpy(q->unk[q->nunk++], w);
		q->t[q->n++] = NOTERM;
		return 0;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->t[i] == (uint32_t)t)
			return 0;
	q->t[q->n++] = (uint32_t)t;
	return 0;
}

static double
idf(const struct pb_bm25 *ix, uint32_t t)
{
	double n = (double)ix->ndocs, df = t == NOTERM ? 1 : ix->terms[t].df;

	return log(1 + (n - df + 0.5) / (df + 0.5));
}

/* BM25 of document d for the query; shared terms and their idf mass. */
static double
bm25(const struct pb_bm25 *ix, const struct qbuild *q, size_t d,
    size_t *shared, double *mass)
{
	const struct doc *dc = &ix->docs[d];
	double s = 0, norm = BM25_K1 * (1 - BM25_B + BM25_B *
	    (double)dc->len / ix->avglen);

	*shared = 0;
	*mass = 0;
	for (size_t k = 0; k < q->n; k++) {
		uint32_t tf = q->t[k] == NOTERM ? 0 : tf_of(dc, q->t[k]);
		if (tf == 0)
			continue;
		++*shared;
		*mass += idf(ix, q->t[k]);
		s += idf(ix, q->t[k]) * tf * (BM25_K1 + 1) / (tf + norm);
	}
	return s;
}

/*
 * The message of a template without the host before its program tag:
 * "gw lb[<*>]: upstream ..." -> "lb[<*>]: upstream ...".  The host name
 * is noise for similarity; the program name often is not.
 */
static const char *
message(const char *text)
{
	const char *colon = strstr(text, ": "), *p;

	if (colon == NULL || colon - text > 80)
		return text;
	for (p = colon; p > text && p[-1] != ' '; p--)
		;
	return p;
}

/* The first token of a program tag, as tokens() makes it. */
struct prog {
	char	 w[TOK_MAX + 1];
	int	 found;
};

static int
first_token(void *p, const char *w)
{
	struct prog *pr = p;

	if (!pr->found) {
		snprintf(pr->w, sizeof(pr->w), "%s", w);
		pr->found = 1;
	}
	return 1;	/* stop after the first */
}

/*
 * The term of the program a template names ("ciod: ...", "sshd[<*>]:
 * ..."): its index, NOTERM if no playbook has it, or -1 when the template
 * names no program.
 */
static long
program_term(const struct pb_bm25 *ix, const char *text)
{
	const char *msg = message(text), *colon;
	char tag[TOK_MAX + 1];
	struct prog pr = { "", 0 };
	size_t n;
	long t;

	if ((colon = strstr(msg, ": ")) == NULL || colon - msg > 80)
		return -1;
	n = (size_t)(colon - msg) < TOK_MAX ? (size_t)(colon - msg) : TOK_MAX;
	memcpy(tag, msg, n);
	tag[n] = '\0';
	(void)tokens(tag, first_token, &pr);
	if (!pr.found)
		return -1;
	return (t = term_find(ix, pr.w)) < 0 ? (long)NOTERM : t;
}

long
pb_bm25_best(const struct pb_bm25 *ix, const char *text, double *score)
{
	struct qbuild *q;
	double best = 0, other = 0, total = 0, bmass = 0, sc, mass;
	long bi = -1;
	size_t shared;
	long prog;

	*score = 0;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->ix = ix;
	(void)tokens(message(text), add_query, q);
	prog = program_term(ix, text);
	for (size_t k = 0; k < q->n; k++)
		total += idf(ix, q->t[k]);
	for (size_t d = 0; q->n >= SUGGEST_MIN_TERMS && d < ix->ndocs; d++) {
		sc = bm25(ix, q, d, &shared, &mass);
		/* a playbook about another program must agree more */
		if (prog >= 0 && !ix->lib->pbs[d]->generic &&
		    (prog == (long)NOTERM || tf_of(&ix->docs[d],
		    (uint32_t)prog) == 0) && mass < SUGGEST_OTHER_COVER * total)
			continue;
		if (shared >= SUGGEST_MIN_TERMS && sc > best) {
			best = sc;
			bi = (long)d;
			bmass = mass;
		}
	}
	/* most of what the line says must be in the playbook */
	if (bi < 0 || bmass < SUGGEST_MIN_COVER * total)
		goto none;
	/* and no playbook of another class may come close */
	for (size_t d = 0; d < ix->ndocs; d++) {
		const char *kb = ix->lib->pbs[bi]->klass, *kd = ix->lib->pbs[d]->klass;
		if (d == (size_t)bi || (kb != NULL && kd != NULL &&
		    strcmp(kb, kd) == 0))
			continue;
		if ((sc = bm25(ix, q, d, &shared, &mass)) > other)
			other = sc;
	}
	if (best < other * SUGGEST_MARGIN)
		goto none;
	free(q);
	*score = best;
	return bi;
none:
	free(q);
	return -1;
}
