/*
 * grammar.c - constrained decoding: a JSON Schema subset as a byte-level
 * automaton, and the token mask it gives (engine.h, grammar.h).
 *
 * The subset: object (every listed property required, written in the
 * listed order), array (items, maxItems), string (maxLength in code
 * points), enum of strings, integer (minimum, maximum), boolean.  The
 * output is compact JSON: no whitespace, no string escapes.  That keeps
 * the automaton small and deterministic and is still JSON any parser
 * takes.
 *
 * The automaton is a stack of frames, one per open container and one
 * for the leaf being written.  Every state it can reach has a completion
 * (strings can always close, integers are only extended while some
 * in-range value still starts with the digits, enums keep the set of
 * values still possible), so the mask is never empty before the value is
 * complete: the model cannot paint itself into a corner.
 *
 * The mask.  At bind time every token's bytes (vocab_piece) are sorted;
 * lcp[i] is the common prefix with the previous token.  The mask walks
 * that order keeping one state per depth, so a shared prefix is fed once
 * (a trie walk without building a trie), and a byte that kills the state
 * skips every following token sharing that prefix.  Control tokens (no
 * bytes) are never allowed; end-of-generation only once the value is
 * complete.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine.h"
#include "grammar.h"
#include "model.h"
#include "session.h"
#include "vocab.h"

#define GR_MAXNODE	256
#define GR_MAXENUM	64
#define GR_MAXPIECE	64	/* longer pieces are never allowed */

enum nkind { N_OBJ, N_ARR, N_STR, N_ENUM, N_INT };

struct gnode {
	enum nkind	 kind;
	/* OBJ: nkid children and nkid + 1 literal segments; ARR: kid[0] */
	uint16_t	*kid;
	char		**lit;		/* OBJ segments; ENUM raw literals */
	size_t		 nkid, nlit;
	uint32_t	 max;		/* ARR maxItems, STR maxLength */
	int64_t		 lo, hi;	/* INT range */
};

struct eng_grammar {
	struct gnode	 node[GR_MAXNODE];
	size_t		 nnode;
	/* bound vocabulary (eng_grammar_new with a model) */
	const struct vocab *vocab;
	size_t		 n_vocab, nsorted;
	int32_t		*order;		/* token ids, by piece bytes */
	uint8_t		*plen;		/* piece length per sorted slot */
	uint8_t		*lcp;		/* per sorted slot */
	char		*pbytes;	/* GR_MAXPIECE per sorted slot */
	uint8_t		*eog;		/* per token id */
};

/* ---- schema compile ---------------------------------------------------- */

static int fail(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause != NULL && *cause == NULL) {
		va_start(ap, fmt);
		if (vasprintf(cause, fmt, ap) < 0)
			*cause = NULL;
		va_end(ap);
	}
	return ENG_EINVAL;
}

/* A literal needs no escaping: printable ASCII or UTF-8 without " \ */
static bool
plain_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return false;
	return true;
}

static int compile(struct eng_grammar *, json_t *, int depth, char **);

static int
compile_obj(struct eng_grammar *g, struct gnode *n, json_t *sc, int depth,
    char **cause)
{
	json_t *props = json_object_get(sc, "properties"), *req, *v;
	const char *k;
	size_t i = 0, np;
	int rc;

	if (!json_is_object(props))
		return fail(cause, "schema: an object needs %s", "properties");
	np = json_object_size(props);
	req = json_object_get(sc, "required");
	if (req != NULL && (!json_is_array(req) || json_array_size(req) != np))
		return fail(cause, "schema: every property must be %s",
		    "required (optional ones are not supported)");
	n->nkid = np;
	n->nlit = np + 1;
	if ((n->kid = calloc(np + 1, sizeof *n->kid)) == NULL ||
	    (n->lit = calloc(np + 1, sizeof *n->lit)) == NULL)
		return ENG_ENOMEM;
	json_object_foreach(props, k, v) {
		if (!plain_text(k))
			return fail(cause, "schema: property name %s needs "
			    "escaping", "(quote or control)");
		if (asprintf(&n->lit[i], "%s\"%s\":", i == 0 ? "{" : ",",
		    k) < 0) {
			n->lit[i] = NULL;
			return ENG_ENOMEM;
		}
		n->kid[i] = (uint16_t)g->nnode;
		if ((rc = compile(g, v, depth + 1, cause)) != 0)
			return rc;
		i++;
	}
	if ((n->lit[np] = strdup(np == 0 ? "{}" : "}")) == NULL)
		return ENG_ENOMEM;
	return 0;
}

static int
compile_enum(struct gnode *n, json_t *e, char **cause)
{
	json_t *v;
	size_t i;

	n->kind = N_ENUM;
	if (!json_is_array(e) || json_array_size(e) == 0 ||
	    json_array_size(e) > GR_MAXENUM)
		return fail(cause, "schema: enum needs %s", "1 to 64 strings");
	n->nlit = json_array_size(e);
	if ((n->lit = calloc(n->nlit, sizeof *n->lit)) == NULL)
		return ENG_ENOMEM;
	json_array_foreach(e, i, v) {
		if (!json_is_string(v) || !plain_text(json_string_value(v)))
			return fail(cause, "schema: enum values must be %s",
			    "strings without quotes or control characters");
		if (asprintf(&n->lit[i], "\"%s\"", json_string_value(v)) < 0) {
			n->lit[i] = NULL;
			return ENG_ENOMEM;
		}
	}
	return 0;
}

static int
compile(struct eng_grammar *g, json_t *sc, int depth, char **cause)
{
	struct gnode *n;
	const char *t;
	json_t *v;

	if (depth >= GR_MAXDEPTH - 1)
		return fail(cause, "schema: nested deeper than %s", "6 levels");
	if (g->nnode >= GR_MAXNODE)
		return fail(cause, "schema: more than %s nodes", "256");
	if (!json_is_object(sc))
		return fail(cause, "schema: %s is not an object", "a node");
	n = &g->node[g->nnode++];
	if ((v = json_object_get(sc, "enum")) != NULL)
		return compile_enum(n, v, cause);
	t = json_string_value(json_object_get(sc, "type"));
	if (t == NULL)
		return fail(cause, "schema: a node has no %s", "type");
	if (strcmp(t, "object") == 0) {
		n->kind = N_OBJ;
		return compile_obj(g, n, sc, depth, cause);
	}
	if (strcmp(t, "array") == 0) {
		n->kind = N_ARR;
		v = json_object_get(sc, "maxItems");
		n->max = json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) < 65536 ?
		    (uint32_t)json_integer_value(v) : 65535;
		if ((n->kid = calloc(1, sizeof *n->kid)) == NULL)
			return ENG_ENOMEM;
		n->nkid = 1;
		n->kid[0] = (uint16_t)g->nnode;
		return compile(g, json_object_get(sc, "items"), depth + 1,
		    cause);
	}
	if (strcmp(t, "string") == 0) {
		n->kind = N_STR;
		v = json_object_get(sc, "maxLength");
		n->max = json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) < 65536 ?
		    (uint32_t)json_integer_value(v) : 65535;
		return 0;
	}
	if (strcmp(t, "integer") == 0) {
		n->kind = N_INT;
		n->lo = -((int64_t)1 << 53);
		n->hi = (int64_t)1 << 53;
		if (json_is_integer(v = json_object_get(sc, "minimum")))
			n->lo = json_integer_value(v);
		if (json_is_integer(v = json_object_get(sc, "maximum")))
			n->hi = json_integer_value(v);
		if (n->lo > n->hi || n->lo < -((int64_t)1 << 53) ||
		    n->hi > (int64_t)1 << 53)
			return fail(cause, "schema: integer range %s",
			    "is empty or beyond 2^53");
		return 0;
	}
	if (strcmp(t, "boolean") == 0) {
		n->kind = N_ENUM;
		n->nlit = 2;
		if ((n->lit = calloc(2, sizeof *n->lit)) == NULL ||
		    (n->lit[0] = strdup("true")) == NULL ||
		    (n->lit[1] = strdup("false")) == NULL)
			return ENG_ENOMEM;
		return 0;
	}
	return fail(cause, "schema: type %s is not supported",
	    plain_text(t) ? t : "(unprintable)");
}

void
eng_grammar_free(struct eng_grammar *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->nnode; i++) {
		for (size_t j = 0; g->node[i].lit != NULL && j < g->node[i].nlit;
		    j++)
			free(g->node[i].lit[j]);
		free(g->node[i].lit);
		free(g->node[i].kid);
	}
	free(g->order);
	free(g->plen);
	free(g->lcp);
	free(g->pbytes);
	free(g->eog);
	free(g);
}

/* ---- the automaton ------------------------------------------------------ */

static void
push(struct gstate *st, uint16_t node)
{
	struct gframe *f = &st->f[st->depth++];

	memset(f, 0, sizeof *f);
	f->node = node;
	f->cand = ~(uint64_t)0;
}

void
gstate_init(const struct eng_grammar *g, struct gstate *st)
{
	(void)g;
	memset(st, 0, sizeof *st);
	push(st, 0);
}

/* Could digits appended to v (absolute value) still land in [lo, hi]? */
static bool
int_viable(uint64_t v, bool neg, int64_t lo, int64_t hi)
{
	/* the range of absolute values allowed for this sign */
	uint64_t alo, ahi;

	if (neg) {
		if (lo >= 0)
			return false;
		alo = hi < 0 ? (uint64_t)(-hi) : 0;
		ahi = (uint64_t)(-lo);
	} else {
		if (hi < 0)
			return false;
		alo = lo > 0 ? (uint64_t)lo : 0;
		ahi = (uint64_t)hi;
	}
	for (uint64_t p = 1; p <= ((uint64_t)1 << 54); p *= 10) {
		uint64_t a = v * p, b = a + p - 1;

		if (a > ahi)
			return false;
		if (b >= alo)
			return true;
		if (v == 0)
			return false;	/* a lone 0 cannot grow */
	}
	return false;
}

static bool
int_in(const struct gframe *f, const struct gnode *n)
{
	int64_t v;

	if (f->n == 0)
		return false;
	v = f->neg ? -(int64_t)f->v : (int64_t)f->v;
	return v >= n->lo && v <= n->hi;
}

/* May the top frame end here (a value is complete but could go on)? */
static bool
can_end(const struct eng_grammar *g, const struct gframe *f)
{
	const struct gnode *n = &g->node[f->node];

	if (n->kind == N_INT)
		return int_in(f, n);
	if (n->kind == N_ENUM) {
		for (size_t i = 0; i < n->nlit; i++)
			if ((f->cand >> i & 1) && n->lit[i][f->pos] == '\0')
				return true;
	}
	return false;
}

static void child_done(const struct eng_grammar *, struct gstate *);

/* The top frame finished its value: pop it and tell the parent. */
static void
pop(const struct eng_grammar *g, struct gstate *st)
{
	st->depth--;
	if (st->depth == 0)
		st->done = true;
	else
		child_done(g, st);
}

static void
child_done(const struct eng_grammar *g, struct gstate *st)
{
	struct gframe *f = &st->f[st->depth - 1];
	const struct gnode *n = &g->node[f->node];

	if (n->kind == N_OBJ) {
		f->idx++;
		f->pos = 0;
	} else {	/* N_ARR */
		f->phase = 2;
		f->n++;
	}
}

/* UTF-8: the allowed range of the next continuation byte. */
static bool
utf8_lead(struct gframe *f, unsigned char c)
{
	f->ulo = 0x80;
	f->uhi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		f->need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		f->need = 2;
		if (c == 0xe0)
			f->ulo = 0xa0;
		else if (c == 0xed)
			f->uhi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		f->need = 3;
		if (c == 0xf0)
			f->ulo = 0x90;
		else if (c == 0xf4)
			f->uhi = 0x8f;
	} else
		return false;
	return true;
}

/* Feed one byte to the top frame; false if it cannot take it. */
static bool
take(const struct eng_grammar *g, struct gstate *st, unsigned char c)
{
	struct gframe *f = &st->f[st->depth - 1];
	const struct gnode *n = &g->node[f->node];

	switch (n->kind) {
	case N_OBJ: {
		const char *l = n->lit[f->idx];

		if ((unsigned char)l[f->pos] != c)
			return false;
		f->pos++;
		if (l[f->pos] == '\0') {
			if (f->idx == n->nkid)
				pop(g, st);
			else if (st->depth < GR_MAXDEPTH)
				push(st, n->kid[f->idx]);
			else
				return false;
		}
		return true;
	}
	case N_ARR:
		if (f->phase == 0) {
			if (c != '[')
				return false;
			f->phase = n->max == 0 ? 4 : 1;
			return true;
		}
		if ((f->phase == 1 || f->phase == 2 || f->phase == 4) &&
		    c == ']') {
			pop(g, st);
			return true;
		}
		if (f->phase == 2) {
			if (c != ',' || f->n >= n->max)
				return false;
			f->phase = 3;
			return true;
		}
		if (f->phase == 1 || f->phase == 3) {
			if (st->depth >= GR_MAXDEPTH)
				return false;
			push(st, n->kid[0]);
			if (take(g, st, c))
				return true;
			st->depth--;
			return false;
		}
		return false;
	case N_STR:
		if (f->phase == 0) {
			if (c != '"')
				return false;
			f->phase = 1;
			return true;
		}
		if (f->need > 0) {
			if (c < f->ulo || c > f->uhi)
				return false;
			f->need--;
			f->ulo = 0x80;
			f->uhi = 0xbf;
			return true;
		}
		if (c == '"') {
			pop(g, st);
			return true;
		}
		if (c < 0x20 || c == '\\' || c == 0x7f || f->n >= n->max)
			return false;
		if (c >= 0x80 && !utf8_lead(f, c))
			return false;
		f->n++;
		return true;
	case N_ENUM: {
		uint64_t keep = 0;

		for (size_t i = 0; i < n->nlit; i++)
			if ((f->cand >> i & 1) &&
			    (unsigned char)n->lit[i][f->pos] == c)
				keep |= (uint64_t)1 << i;
		if (keep == 0)
			return false;
		f->cand = keep;
		f->pos++;
		/* a value no other candidate extends ends at once */
		for (size_t i = 0; i < n->nlit; i++)
			if ((keep >> i & 1) && n->lit[i][f->pos] != '\0')
				return true;
		pop(g, st);
		return true;
	}
	case N_INT:
		if (c == '-' && f->n == 0 && !f->neg) {
			if (!int_viable(0, true, n->lo, n->hi) || n->lo >= 0)
				return false;
			f->neg = 1;
			return true;
		}
		if (c < '0' || c > '9')
			return false;
		if (f->n > 0 && f->v == 0)
			return false;	/* no leading zeros */
		if (f->v > ((uint64_t)1 << 54))
			return false;
		if (!int_viable(f->v * 10 + (uint64_t)(c - '0'), f->neg,
		    n->lo, n->hi))
			return false;
		if (f->neg && c == '0' && f->n == 0)
			return false;	/* no -0 */
		f->v = f->v * 10 + (uint64_t)(c - '0');
		f->n++;
		return true;
	}
	return false;
}

bool
gstate_feed(const struct eng_grammar *g, struct gstate *st, unsigned char c)
{
	for (;;) {
		struct gframe save;

		if (st->depth == 0)
			return false;	/* the value is complete */
		save = st->f[st->depth - 1];
		if (take(g, st, c))
			return true;
		st->f[st->depth - 1] = save;
		if (!can_end(g, &st->f[st->depth - 1]))
			return false;
		pop(g, st);	/* a number or enum ended; the parent reads c */
	}
}

bool
gstate_accepting(const struct eng_grammar *g, const struct gstate *st)
{
	struct gstate t = *st;

	while (t.depth > 0) {
		if (!can_end(g, &t.f[t.depth - 1]))
			return false;
		pop(g, &t);
	}
	return t.done;
}

int
eng_grammar_check(const struct eng_grammar *g, const char *text, size_t len)
{
	struct gstate st;

	gstate_init(g, &st);
	for (size_t i = 0; i < len; i++)
		if (!gstate_feed(g, &st, (unsigned char)text[i]))
			return ENG_GRAMMAR_INVALID;
	return gstate_accepting(g, &st) ? ENG_GRAMMAR_COMPLETE :
	    ENG_GRAMMAR_INCOMPLETE;
}

/* ---- binding to a vocabulary ------------------------------------------- */

static int
cmp_piece(const void *a, const void *b, void *arg)
{
	const struct eng_grammar *g = arg;
	size_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	size_t la = g->plen[ia], lb = g->plen[ib];
	int c = memcmp(g->pbytes + ia * GR_MAXPIECE,
	    g->pbytes + ib * GR_MAXPIECE, la < lb ? la : lb);

	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

static int
bind_vocab(struct eng_grammar *g, const struct eng_model *m)
{
	const struct vocab *v = m->vocab;
	size_t nv = m->hp.n_vocab, k = 0;
	uint32_t *idx = NULL;
	uint8_t *plen = NULL, *lcp = NULL;
	char *pb = NULL, *spb = NULL;
	int rc = ENG_ENOMEM;

	g->n_vocab = nv;
	if ((idx = malloc(nv * sizeof *idx)) == NULL ||
	    (plen = malloc(nv)) == NULL || (lcp = calloc(nv, 1)) == NULL ||
	    (pb = malloc(nv * GR_MAXPIECE)) == NULL ||
	    (g->eog = calloc(nv, 1)) == NULL ||
	    (g->order = malloc(nv * sizeof *g->order)) == NULL)
		goto out;
	for (size_t i = 0; i < nv; i++) {
		int l = vocab_piece(v, (int32_t)i, false, pb + i * GR_MAXPIECE,
		    GR_MAXPIECE);

		g->eog[i] = vocab_is_eog(v, (int32_t)i);
		plen[i] = l > 0 && l <= GR_MAXPIECE ? (uint8_t)l : 0;
		if (plen[i] > 0)
			idx[k++] = (uint32_t)i;
	}
	g->plen = plen;
	g->pbytes = pb;
	qsort_r(idx, k, sizeof *idx, cmp_piece, g);
	/* repack in sorted order */
	if ((spb = malloc(k * GR_MAXPIECE + 1)) == NULL)
		goto out;
	for (size_t i = 0; i < k; i++) {
		memcpy(spb + i * GR_MAXPIECE, pb + (size_t)idx[i] * GR_MAXPIECE,
		    GR_MAXPIECE);
		g->order[i] = (int32_t)idx[i];
	}
	for (size_t i = 0; i < k; i++) {
		uint8_t l = plen[idx[i]];

		lcp[i] = l;	/* lengths first, reused below */
	}
	memcpy(plen, lcp, k);
	memset(lcp, 0, nv);
	for (size_t i = 1; i < k; i++) {
		size_t j = 0, m2 = plen[i] < plen[i - 1] ? plen[i] : plen[i - 1];

		while (j < m2 && spb[i * GR_MAXPIECE + j] ==
		    spb[(i - 1) * GR_MAXPIECE + j])
			j++;
		lcp[i] = (uint8_t)j;
	}
	free(pb);
	pb = NULL;
	g->pbytes = spb;
	spb = NULL;
	g->lcp = lcp;
	lcp = NULL;
	g->n_vocab = nv;
	g->nsorted = k;
	rc = 0;
out:
	if (rc != 0) {
		g->plen = NULL;
		g->pbytes = NULL;
		free(plen);
	}
	free(idx);
	free(lcp);
	free(pb);
	free(spb);
	return rc;
}

size_t
gstate_mask(const struct eng_grammar *g, const struct gstate *st,
    uint32_t *bits)
{
	static _Thread_local struct gstate at[GR_MAXPIECE + 1];
	size_t nallow = 0, i = 0;
	bool acc = gstate_accepting(g, st);

	memset(bits, 0, ((g->n_vocab + 31) / 32) * sizeof *bits);
	for (size_t t = 0; t < g->n_vocab; t++)
		if (g->eog[t] && acc) {
			bits[t / 32] |= 1u << (t % 32);
			nallow++;
		}
	at[0] = *st;
	while (i < g->nsorted) {
		const char *p = g->pbytes + i * GR_MAXPIECE;
		size_t l = g->plen[i], d = g->lcp[i];
		bool ok = true;

		/* at[d] holds the state after this token's first d bytes */
		for (; d < l; d++) {
			at[d + 1] = at[d];
			if (!gstate_feed(g, &at[d + 1], (unsigned char)p[d])) {
				ok = false;
				break;
			}
		}
		if (ok) {
			int32_t id = g->order[i];

			bits[id / 32] |= 1u << (id % 32);
			nallow++;
			i++;
			continue;
		}
		/* every following token with this dead prefix is dead too */
		i++;
		while (i < g->nsorted && g->lcp[i] > d)
			i++;
	}
	return nallow;
}

bool
gstate_allows(const struct eng_grammar *g, const struct gstate *st,
    int32_t id, char *piece, size_t cap)
{
	struct gstate t = *st;
	int l;

	if (id < 0 || (size_t)id >= g->n_vocab)
		return false;
	if (g->eog[id])
		return gstate_accepting(g, st);
	l = vocab_piece(g->vocab, id, false, piece, cap);
	/* as in the mask: empty (control) and over-long pieces never fit */
	if (l <= 0 || (size_t)l > cap || l > GR_MAXPIECE)
		return false;
	for (int i = 0; i < l; i++)
		if (!gstate_feed(g, &t, (unsigned char)piece[i]))
			return false;
	return true;
}

int
eng_grammar_new(const char *schema, size_t len, const struct eng_model *m,
    struct eng_grammar **out, char **cause)
{
	struct eng_grammar *g = NULL;
	json_error_t je;
	json_t *sc = NULL;
	int rc = ENG_ENOMEM;

	if (cause != NULL)
		*cause = NULL;
	*out = NULL;
	if ((g = calloc(1, sizeof *g)) == NULL)
		goto out;
	if ((sc = json_loadb(schema, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		rc = fail(cause, "schema: %s", "not valid JSON");
		goto out;
	}
	if ((rc = compile(g, sc, 0, cause)) != 0)
		goto out;
	if (m != NULL) {
		g->vocab = m->vocab;
		if ((rc = bind_vocab(g, m)) != 0)
			goto out;
	}
	*out = g;
	g = NULL;
	rc = 0;
out:
	if (rc == ENG_ENOMEM && cause != NULL && *cause == NULL)
		*cause = strdup("out of memory");
	json_decref(sc);
	eng_grammar_free(g);
	return rc;
}

size_t
eng_grammar_vocab(const struct eng_grammar *g)
{
	return g->n_vocab;
}
