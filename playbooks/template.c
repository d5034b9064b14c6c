/*
 * template.c - group lines into templates ("Invalid user <*> from <*>").
 *
 * Two steps, after Drain (He et al., ICWS 2017):
 *   1. mask: every run of letters/digits that holds a digit, hex numbers,
 *      paths and month/day names become <*>; runs of masks joined by
 *      punctuation collapse to one <*> (10.0.0.1:22 -> <*>).
 *   2. merge: lines with the same token count, program and first KEY_TOKENS
 *      constant message tokens join the most similar template if at least
 *      SIMILARITY of their tokens agree; differing tokens become <*>.
 * Everything is bounded: tokens per line, templates per miner.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_TOKENS	64
#define LINE_MAX_BYTES	4096	/* longer lines are templated on their head */
#define SIMILARITY	0.8	/* share of equal tokens to join */
#define KEY_TOKENS	2	/* leading constant message tokens that agree */
#define HEADER_MAX	5	/* where to look for the "program:" token */
#define BUCKETS		4096
#define EXAMPLE_BYTES	1024
#define BURST_TAU_MS	60000.0	/* burstiness window: one minute */

static const char MASK[] = "<*>";

struct tmpl {
	char		*tok[MAX_TOKENS];
	size_t		 ntok;
	uint64_t	 hits;
	char		*example;
	const char	*file;
	uint64_t	 lineno;
	long		 next;		/* bucket chain */
	/* For the ranking (see pb_miner_salience). */
	enum pb_severity level;		/* worst seen */
	int64_t		 first, last;	/* ms, PB_TIME_NONE if no line had one */
	uint64_t	 timed;		/* hits that had a time */
	double		 rate;		/* hits decayed with BURST_TAU_MS */
	int64_t		 rate_t;	/* time rate was last brought to */
	double		 peak;		/* highest rate seen */
};

struct pb_miner {
	struct tmpl	*t;
	size_t		 n, cap, max;
	long		 bucket[BUCKETS];
	long		*rank;
	size_t		 nrank;
};

int
pb_miner_new(size_t max, struct pb_miner **out)
{
	struct pb_miner *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return PB_ENOMEM;
	m->max = max;
	for (size_t i = 0; i < BUCKETS; i++)
		m->bucket[i] = -1;
	*out = m;
	return 0;
}

void
pb_miner_free(struct pb_miner *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->t[i].ntok; j++)
			free(m->t[i].tok[j]);
		free(m->t[i].example);
	}
	free(m->t);
	free(m->rank);
	free(m);
}

static int
is_word(int c)
{
	return isalnum(c) || c == '_';
}

static int
is_name(const char *s, size_t n)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec"
	    "MonTueWedThuFriSatSun";

	if (n != 3)
		return 0;
	for (size_t i = 0; i + 3 <= sizeof(names) - 1; i += 3)
		if (memcmp(s, names + i, 3) == 0)
			return 1;
	return 0;
}

/* Mask one whitespace-free token into out (cap bytes); returns length. */
static size_t
mask_token(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0, i = 0;
	int last_mask = 0;

	if ((n > 1 && s[0] == '/' && memchr(s + 1, '/', n - 1) != NULL) ||
	    is_name(s, n)) {
		memcpy(out, MASK, 3);
		return 3;
	}
	/* "sshd[42]:" keeps the program name: it is what a reader scans for. */
	const char *br = memchr(s, '[', n);
	if (br != NULL && br > s && isalpha((unsigned char)s[0]) &&
	    (size_t)(br - s) + 8 < cap && n - (size_t)(br - s) < 16) {
		size_t k = (size_t)(br - s) + 1, d = 0;
		while (k < n && isdigit((unsigned char)s[k]))
			k++, d++;
		if (d > 0 && k < n && s[k] == ']' && (k + 1 == n ||
		    (k + 2 == n && s[k + 1] == ':'))) {
			memcpy(out, s, (size_t)(br - s) + 1);
			o = (size_t)(br - s) + 1;
			memcpy(out + o, "<*>", 3);
			o += 3;
			memcpy(out + o, s + k, n - k);
			return o + n - k;
		}
	}
	/* A token with a digit is a variable (R02-M1-N0, 0x1f, 10.0.0.1:22),
	 * except key=value, where only the value varies. */
	if (memchr(s, '=', n) == NULL) {
		for (size_t k = 0; k < n; k++)
			if (isdigit((unsigned char)s[k])) {
				memcpy(out, MASK, 3);
				return 3;
			}
	}
	while (i < n && o + 4 < cap) {
		if (is_word((unsigned char)s[i]) ||
		    (s[i] == '-' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
			size_t j = i + 1, digit = isdigit((unsigned char)s[i]);
			while (j < n && is_word((unsigned char)s[j])) {
				digit |= isdigit((unsigned char)s[j]);
				j++;
			}
			if (digit) {
				/* Collapse "<*>.<*>" and "<*>:<*>" into one. */
				if (last_mask && o > 0 && strchr(".:-/", out[o - 1])) {
					o--;
				} else {
					memcpy(out + o, MASK, 3);
					o += 3;
				}
				last_mask = 1;
			} else {
				size_t k = j - i < cap - o - 1 ? j - i : cap - o - 1;
				memcpy(out + o, s + i, k);
				o += k;
				last_mask = 0;
			}
			i = j;
		} else
			out[o++] = s[i++];
	}
	return o;
}

/*
 * Bucket key: token count, the "program:" token that ends a syslog-style
 * header (if one of the first HEADER_MAX tokens ends in ':'), and the first
 * KEY_TOKENS constant tokens of the message after it.
 */
static uint32_t
hash_key(size_t ntok, char **tok)
{
	uint32_t h = 2166136261u ^ (uint32_t)ntok;
	size_t used = 0, start = 0;

	for (size_t i = 0; i < ntok && i < HEADER_MAX; i++) {
		size_t n = strlen(tok[i]);
		if (n > 1 && tok[i][n - 1] == ':') {
			for (const char *p = tok[i]; *p; p++)
				h = (h ^ (unsigned char)*p) * 16777619u;
			start = i + 1;
			break;
		}
	}
	for (size_t i = start; i < ntok && used < KEY_TOKENS; i++) {
		if (strcmp(tok[i], MASK) == 0)
			continue;
		for (const char *p = tok[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ ' ') * 16777619u;
		used++;
	}
	return h % BUCKETS;
}

static double
similarity(const struct tmpl *t, char **tok, size_t ntok)
{
	size_t same = 0;

	for (size_t i = 0; i < ntok; i++)
		if (strcmp(t->tok[i], tok[i]) == 0)
			same++;
	return (double)same / (double)ntok;
}

#define BUF_BYTES (LINE_MAX_BYTES * 2)

static long
add(struct pb_miner *m, const char *line, size_t len, char *buf, char **tok)
{
	char *p;
	size_t ntok = 0, o = 0, i = 0, j;
	long best = -1, id;
	double bsim = 0, s;
	uint32_t b;

	if (len > LINE_MAX_BYTES)
		len = LINE_MAX_BYTES;

	/* Tokenize and mask into buf; the last token takes any excess. */
	while (i < len) {
		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i == len)
			break;
		j = i;
		while (j < len && (ntok == MAX_TOKENS - 1 ||
		    !isspace((unsigned char)line[j])))
			j++;
		tok[ntok++] = buf + o;
		o += mask_token(line + i, j - i, buf + o, BUF_BYTES - o - 1);
		buf[o++] = '\0';
		i = j;
	}
	if (ntok == 0)
		return -1;
	b = hash_key(ntok, tok);
	for (id = m->bucket[b]; id >= 0; id = m->t[id].next) {
		if (m->t[id].ntok != ntok)
			continue;
		s = similarity(&m->t[id], tok, ntok);
		if (s > bsim) {
			bsim = s;
			best = id;
		}
	}
	if (best >= 0 && bsim >= SIMILARITY) {
		struct tmpl *t = &m->t[best];
		for (i = 0; i < ntok; i++)
			if (strcmp(t->tok[i], tok[i]) != 0 &&
			    strcmp(t->tok[i], MASK) != 0) {
				if ((p = strdup(MASK)) == NULL)
					return -1;
				free(t->tok[i]);
				t->tok[i] = p;
			}
		t->hits++;
		return best;
	}
	if (m->n == m->max)
		return -1;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct tmpl *nt = realloc(m->t, cap * sizeof(*nt));
		if (nt == NULL)
			return -1;
		m->t = nt;
		m->cap = cap;
	}
	struct tmpl *t = &m->t[m->n];
	memset(t, 0, sizeof(*t));
	for (i = 0; i < ntok; i++)
		if ((t->tok[i] = strdup(tok[i])) == NULL) {
			for (j = 0; j < i; j++)
				free(t->tok[j]);
			return -1;
		}
	t->ntok = ntok;
	t->hits = 1;
	t->level = PB_SEV_INFO;
	t->first = t->last = t->rate_t = PB_TIME_NONE;
	t->next = m->bucket[b];
	m->bucket[b] = (long)m->n;
	return (long)m->n++;
}

/*
 * Keep what the ranking needs, in constant space per template: the worst
 * level, the first and last time, and a hit rate that decays by e every
 * BURST_TAU_MS.  Its highest value is roughly the most hits in any minute
 * (n hits at once give n; the same n spread over a day give about 1).
 * Lines from several files may come out of time order: a line older than
 * the last one counts as if it came at that time.
 */
static void
record(struct tmpl *t, enum pb_severity level, int64_t t_ms)
{
	if ((unsigned)level < (unsigned)t->level)
		t->level = level;
	if (t_ms == PB_TIME_NONE)
		return;
	if (t->first == PB_TIME_NONE || t_ms < t->first)
		t->first = t_ms;
	if (t->last == PB_TIME_NONE || t_ms > t->last)
		t->last = t_ms;
	if (t->rate_t != PB_TIME_NONE && t_ms > t->rate_t)
		t->rate *= exp(-(double)(t_ms - t->rate_t) / BURST_TAU_MS);
	if (t->rate_t == PB_TIME_NONE || t_ms > t->rate_t)
		t->rate_t = t_ms;
	t->rate += 1.0;
	if (t->rate > t->peak)
		t->peak = t->rate;
	t->timed++;
}

long
pb_miner_add(struct pb_miner *m, const char *raw, size_t rawlen)
{
	return pb_miner_add_ev(m, raw, rawlen, PB_SEV_INFO, PB_TIME_NONE);
}

long
pb_miner_add_ev(struct pb_miner *m, const char *raw, size_t rawlen,
    enum pb_severity level, int64_t t_ms)
{
	/* Per-thread scratch, so a line costs no allocation. */
	static __thread char buf[BUF_BYTES], line[LINE_MAX_BYTES * 4 + 1];
	char *tok[MAX_TOKENS];
	size_t off = 0;

	/* The timestamp says nothing about the message: skip it. */
	if (pb_time_parse_end(raw, rawlen, 0, &off) != PB_TIME_NONE) {
		while (off < rawlen && (raw[off] == ']' || raw[off] == ' '))
			off++;
		raw += off;
		rawlen -= off;
	}
	/* Templates are shown and written as JSON: work on safe text. */
	pb_sanitize_into(raw, rawlen < LINE_MAX_BYTES ? rawlen : LINE_MAX_BYTES,
	    line);
	long id = add(m, line, strlen(line), buf, tok);
	if (id >= 0)
		record(&m->t[id], level, t_ms);
	return id;
}

const char *
pb_miner_text(const struct pb_miner *m, long id)
{
	static __thread char out[LINE_MAX_BYTES * 2];
	size_t o = 0, n;

	if (id < 0 || (size_t)id >= m->n)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < m->t[id].ntok; i++) {
		n = strlen(m->t[id].tok[i]);
		if (o + n + 2 >= sizeof(out))
			break;
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, m->t[id].tok[i], n);
		o += n;
		out[o] = '\0';
	}
	return out;
}

size_t pb_miner_count(const struct pb_miner *m) { return m->n; }

uint64_t
pb_miner_hits(const struct pb_miner *m, long id)
{
	return id >= 0 && (size_t)id < m->n ? m->t[id].hits : 0;
}

void
pb_miner_set_example(struct pb_miner *m, long id, const char *file,
    uint64_t lineno, const char *line, size_t len)
{
	struct tmpl *t = &m->t[id];

	free(t->example);
	t->example = pb_sanitize(line, len < EXAMPLE_BYTES ? len : EXAMPLE_BYTES);
	t->file = file;
	t->lineno = lineno;
}

const char *
pb_miner_example(const struct pb_miner *m, long id, const char **file,
    uint64_t *lineno)
{
	*file = m->t[id].file;
	*lineno = m->t[id].lineno;
	return m->t[id].example != NULL ? m->t[id].example : "";
}

static const struct tmpl *
get(const struct pb_miner *m, long id)
{
	return id >= 0 && (size_t)id < m->n ? &m->t[id] : NULL;
}

enum pb_severity
pb_miner_level(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);

	return t != NULL ? t->level : PB_SEV_INFO;
}

int64_t
pb_miner_first(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);

	return t != NULL ? t->first : PB_TIME_NONE;
}

int64_t
pb_miner_last(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);

	return t != NULL ? t->last : PB_TIME_NONE;
}

/*
 * salience = (4 - level) + 0.49 * rarity + 0.49 * burst, in [0, 5):
 *   level   0 critical .. 4 info, the worst seen; a step of it outweighs
 *           the rest, so severity ranks first;
 *   rarity  1 / (1 + log10(hits)): 1 for a single line, 0.2 for 10000;
 *   burst   peak / timed: the most hits in about a minute (the decayed
 *           rate above) over the hits that had a time; 1 when they all
 *           came together, near 0 when spread out; 0 without times.
 * Unknown ids get 0.
 */
double
pb_miner_salience(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);
	double rarity, burst;

	if (t == NULL)
		return 0.0;
	rarity = 1.0 / (1.0 + log10((double)(t->hits ? t->hits : 1)));
	burst = t->timed ? t->peak / (double)t->timed : 0.0;
	if (burst > 1.0)
		burst = 1.0;
	return (double)(PB_SEV_INFO - t->level) + 0.49 * rarity + 0.49 * burst;
}

static const struct pb_miner *sort_m;	/* qsort has no context argument */

static int
rank_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	double sx = pb_miner_salience(sort_m, x), sy = pb_miner_salience(sort_m, y);

	if (sx != sy)
		return sx < sy ? 1 : -1;
	if (sort_m->t[x].hits != sort_m->t[y].hits)
		return sort_m->t[x].hits < sort_m->t[y].hits ? 1 : -1;
	return x < y ? -1 : 1;
}

void
pb_miner_sort(struct pb_miner *m)
{
	free(m->rank);
	m->nrank = 0;
	if ((m->rank = calloc(m->n ? m->n : 1, sizeof(*m->rank))) == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		m->rank[i] = (long)i;
	sort_m = m;
	qsort(m->rank, m->n, sizeof(*m->rank), rank_cmp);
	m->nrank = m->n;
}

long
pb_miner_rank(const struct pb_miner *m, size_t i)
{
	return i < m->nrank ? m->rank[i] : -1;
}
