/*
 * sampler.c - choosing the next token from the logits (sampler.h).
 *
 * The chain is llama.cpp's default order:
 *
 *   1. repetition penalty over the distinct tokens among the last
 *      repeat_last_n of the history: a positive logit is divided by the
 *      penalty, a negative (or zero) one multiplied;
 *   2. temp <= 0: greedy, the highest logit, ties to the lowest id; else
 *   3. top-k: keep the k highest logits;
 *   4. top-p: keep the smallest set of most likely tokens whose
 *      probability (softmax at temperature 1) adds up to >= top_p;
 *   5. min-p: drop tokens whose probability is below min_p times the most
 *      likely one's (logit < max + log(min_p));
 *   6. temperature: p ~ exp((logit - max) / temp);
 *   7. a draw from our own PRNG, xoshiro256** seeded through splitmix64,
 *      so a seed gives the same tokens on every machine (the candidates
 *      are walked best first once top-k or top-p has sorted them, in id
 *      order otherwise: either way an order fixed by the logits alone).
 *
 * Hostile numbers.  A NaN logit counts as -inf (never chosen while a
 * finite one exists), +inf as the largest float.  If no logit is finite
 * the result is token 0, which is what the tie rule gives for an all -inf
 * row: always a valid id, never a crash.  Parameters outside their
 * domain switch their stage off (NaN temp: greedy; top_p NaN or >= 1,
 * min_p NaN or <= 0, penalty NaN or <= 0: off); hist entries outside the
 * vocabulary are ignored.
 *
 * Memory.  sampler_new() allocates the candidate array and the marks for
 * the penalty once; sampler_sample() never allocates (no qsort either:
 * glibc's may malloc), so it cannot fail.  Sorting is a heap: a bounded
 * one for top-k, and for top-p only the candidates in the bins that hold
 * the wanted mass.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

/*
 * top-p without top-k: candidates are binned by how far their logit lies
 * below the best, TOPP_BINS_PER_UNIT bins per unit, everything past
 * TOPP_RANGE units in the last bin.  Bins are ordered like the logits, so
 * only the bins up to the one where the mass reaches top_p need sorting.
 */
#define TOPP_RANGE		32
#define TOPP_BINS_PER_UNIT	8
#define TOPP_BINS		(TOPP_RANGE * TOPP_BINS_PER_UNIT + 1)

struct cand {
	int32_t		 id;
	float		 logit;
	float		 p;		/* unnormalised probability */
};

struct sampler {
	struct sampler_params par;
	size_t		 n_vocab;
	struct cand	*c;		/* (n_vocab) */
	uint32_t	*mark;		/* (n_vocab) penalty stamps */
	uint32_t	 stamp;
	uint64_t	 s[4];		/* xoshiro256** state */
	double		 bin[TOPP_BINS];	/* mass per top-p bin */
};

/* ---- PRNG ------------------------------------------------------------- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
xoshiro_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double
uniform(uint64_t s[4])
{
	return (double)(xoshiro_next(s) >> 11) * 0x1.0p-53;
}

/* ---- ordering: higher logit first, then lower id ---------------------- */

static bool
better(const struct cand *a, const struct cand *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static void
swap(struct cand *a, struct cand *b)
{
	struct cand t = *a;

	*a = *b;
	*b = t;
}

/* A heap with the worst candidate on top. */
static void
sift_down(struct cand *c, size_t n, size_t i)
{
	for (;;) {
		size_t w = i, l = 2 * i + 1, r = l + 1;

		if (l < n && better(&c[w], &c[l]))
			w = l;
		if (r < n && better(&c[w], &c[r]))
			w = r;
		if (w == i)
			return;
		swap(&c[i], &c[w]);
		i = w;
	}
}

/* Sort c[0..n) best first, in place (heapsort: no allocation, no recursion). */
static void
sort_best(struct cand *c, size_t n)
{
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(c, n, i);
	for (size_t end = n - 1; end > 0; end--) {
		swap(&c[0], &c[end]);
		sift_down(c, end, 0);
	}
}

/*
 * Move the k best of c[0..n) to c[0..k), sorted best first: one pass
 * keeping the k best seen in a heap at the front, so the cost is about
 * one comparison per candidate.
 */
static void
keep_best(struct cand *c, size_t n, size_t k)
{
	if (k == 0 || k >= n)
		return;
	for (size_t i = k / 2; i-- > 0;)
		sift_down(c, k, i);
	for (size_t i = k; i < n; i++)
		if (better(&c[i], &c[0])) {
			swap(&c[i], &c[0]);
			sift_down(c, k, 0);
		}
	sort_best(c, k);
}

/* ---- stages ----------------------------------------------------------- */

static float
clean(float x)
{
	if (isnan(x))
		return -INFINITY;
	if (x == INFINITY)
		return FLT_MAX;
	return x;
}

static void
penalize(struct sampler *s, const int32_t *hist, size_t nhist)
{
	float pen = s->par.repeat_penalty;
	size_t from;

	if (!(pen > 0.0f) || pen == 1.0f || hist == NULL || nhist == 0 ||
	    s->par.repeat_last_n == 0)
		return;
	from = 0;
	if (s->par.repeat_last_n > 0 && (size_t)s->par.repeat_last_n < nhist)
		from = nhist - (size_t)s->par.repeat_last_n;
	/* A fresh stamp marks "already penalised" without clearing marks. */
	if (++s->stamp == 0) {
		memset(s->mark, 0, s->n_vocab * sizeof *s->mark);
		s->stamp = 1;
	}
	for (size_t i = from; i < nhist; i++) {
		int32_t t = hist[i];
		float *l;

		if (t < 0 || (size_t)t >= s->n_vocab || s->mark[t] == s->stamp)
			continue;
		s->mark[t] = s->stamp;
		l = &s->c[t].logit;	/* c[] is still in id order here */
		/* A penalty below 1 boosts, which can overflow: clean again. */
		*l = clean(*l <= 0.0f ? *l * pen : *l / pen);
	}
}

/* Index of the best candidate of c[0..n) (greedy). */
static size_t
best_of(const struct cand *c, size_t n)
{
	size_t b = 0;

	for (size_t i = 1; i < n; i++)
		if (better(&c[i], &c[b]))
			b = i;
	return b;
}

/* p = exp((logit - max) / temp) for c[0..n); returns their sum. */
static double
weigh(struct cand *c, size_t n, float max, double temp)
{
	double sum = 0.0;

	for (size_t i = 0; i < n; i++) {
		double d = (double)c[i].logit - (double)max;

		c[i].p = c[i].logit == -INFINITY ? 0.0f : (float)exp(d / temp);
		sum += c[i].p;
	}
	return sum;
}

/* Length of the shortest prefix of sorted c[0..n) with mass >= want. */
static size_t
prefix_reaching(const struct cand *c, size_t n, double want)
{
	double acc = 0.0;

	for (size_t i = 0; i < n; i++) {
		acc += c[i].p;
		if (acc >= want)
			return i + 1;
	}
	return n;	/* rounding: keep them all */
}

static size_t
bin_of(float logit, float max)
{
	double d = ((double)max - (double)logit) * TOPP_BINS_PER_UNIT;

	return d < TOPP_BINS - 1 ? (size_t)d : TOPP_BINS - 1;
}

/*
 * top-p over c[0..n): keep the smallest best-first set whose mass is >=
 * top_p of the whole.  sorted: c[] is already best first (after top-k).
 * Returns the new n; c[0..n) is then sorted.
 */
static size_t
top_p(struct sampler *s, size_t n, float max, float p, bool sorted)
{
	struct cand *c = s->c;
	double want = (double)p * weigh(c, n, max, 1.0), acc = 0.0;
	size_t last, m = 0;

	if (sorted)
		return prefix_reaching(c, n, want);
	memset(s->bin, 0, sizeof s->bin);
	for (size_t i = 0; i < n; i++)
		s->bin[bin_of(c[i].logit, max)] += c[i].p;
	for (last = 0; last < TOPP_BINS - 1; last++)
		if ((acc += s->bin[last]) >= want)
			break;
	/* Everything in bins 0..last comes first; sort just those. */
	for (size_t i = 0; i < n; i++)
		if (bin_of(c[i].logit, max) <= last)
			swap(&c[m++], &c[i]);
	sort_best(c, m);
	return prefix_reaching(c, m, want);
}

/* ---- API -------------------------------------------------------------- */

struct sampler *
sampler_new(const struct sampler_params *p, size_t n_vocab)
{
	struct sampler *s;
	uint64_t x;

	if (p == NULL || n_vocab == 0 || n_vocab > INT32_MAX)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->par = *p;
	s->n_vocab = n_vocab;
	if ((s->c = calloc(n_vocab, sizeof *s->c)) == NULL ||
	    (s->mark = calloc(n_vocab, sizeof *s->mark)) == NULL) {
		sampler_free(s);
		return NULL;
	}
	x = p->seed;
	for (int i = 0; i < 4; i++)
		s->s[i] = splitmix64(&x);
	return s;
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	free(s->c);
	free(s->mark);
	free(s);
}

int32_t
sampler_sample(struct sampler *s, const float *logits, const int32_t *hist,
    size_t nhist)
{
	const struct sampler_params *par = &s->par;
	struct cand *c = s->c;
	size_t n = s->n_vocab, keep, b;
	bool sorted = false;
	float max;
	double sum, r;

	for (size_t i = 0; i < n; i++) {
		c[i].id = (int32_t)i;
		c[i].logit = clean(logits[i]);
	}
	penalize(s, hist, nhist);

	/* Greedy, and the row with nothing finite in it. */
	b = best_of(c, n);
	max = c[b].logit;
	if (!(par->temp > 0.0f) || max == -INFINITY)
		return c[b].id;

	if (par->top_k > 0 && (size_t)par->top_k < n) {
		n = (size_t)par->top_k;
		keep_best(c, s->n_vocab, n);
		sorted = true;
		if (n == 1)
			return c[0].id;
	}
	if (par->top_p < 1.0f && !isnan(par->top_p)) {
		n = top_p(s, n, max, par->top_p > 0.0f ? par->top_p : 0.0f,
		    sorted);
		sorted = true;
	}
	if (par->min_p > 0.0f) {
		/* The reference's form: logit >= max + log(min_p). */
		double floor_ = (double)max + log((double)par->min_p);

		keep = 0;
		for (size_t i = 0; i < n; i++)
			if ((double)c[i].logit >= floor_ || c[i].logit == max)
				c[keep++] = c[i];
		n = keep;
	}

	sum = weigh(c, n, max, (double)par->temp);
	r = uniform(s->s) * sum;
	for (size_t i = 0; i < n; i++) {
		if (r < c[i].p)
			return c[i].id;
		r -= c[i].p;
	}
	/* Rounding left r just past the end: the last one with weight. */
	for (size_t i = n; i-- > 0;)
		if (c[i].p > 0.0f)
			return c[i].id;
	return c[0].id;
}

void
sampler_mask(float *logits, size_t n, const uint32_t *bits)
{
	for (size_t w = 0; w < (n + 31) / 32; w++) {
		uint32_t b = bits[w];

		if (b == 0xffffffffu)
			continue;
		for (size_t i = w * 32; i < n && i < w * 32 + 32; i++)
			if (!(b >> (i - w * 32) & 1))
				logits[i] = -INFINITY;
	}
}
