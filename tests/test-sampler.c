/*
 * test-sampler.c - the token sampler (engine/sampler.c): greedy and its
 * tie rule, a PRNG that is the published xoshiro256** / splitmix64 on
 * every machine, draws that follow softmax(logits / temp), the top-k,
 * top-p, min-p and repetition-penalty cuts, hostile logits, and no
 * allocation while sampling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <malloc.h>

#include <cmocka.h>

#include "sampler.h"

/* Draws for the frequency tests; 5 sigma per token keeps them exact-seed stable. */
#define NDRAWS		200000
#define SIGMAS		5.0

static struct sampler_params
params(float temp, int top_k, float top_p, float min_p, uint64_t seed)
{
	struct sampler_params p = {
		.temp = temp, .top_k = top_k, .top_p = top_p, .min_p = min_p,
		.repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = seed,
	};

	return p;
}

static struct sampler *
new_or_fail(const struct sampler_params *p, size_t n)
{
	struct sampler *s = sampler_new(p, n);

	assert_non_null(s);
	return s;
}

static int32_t
sample_once(const struct sampler_params *p, const float *l, size_t n,
    const int32_t *hist, size_t nhist)
{
	struct sampler *s = new_or_fail(p, n);
	int32_t id = sampler_sample(s, l, hist, nhist);

	sampler_free(s);
	return id;
}

/* Count draws per token (counts has n entries). */
static void
draw_counts(const struct sampler_params *p, const float *l, size_t n,
    long ndraws, long *counts)
{
	struct sampler *s = new_or_fail(p, n);

	memset(counts, 0, n * sizeof *counts);
	for (long i = 0; i < ndraws; i++) {
		int32_t id = sampler_sample(s, l, NULL, 0);

		assert_true(id >= 0 && (size_t)id < n);
		counts[id]++;
	}
	sampler_free(s);
}

/*
 * Each count is within SIGMAS standard deviations of ndraws * want[i]
 * (want sums to 1; a zero want means the token must never appear).
 */
static void
expect_frequencies(const long *counts, const double *want, size_t n,
    long ndraws)
{
	for (size_t i = 0; i < n; i++) {
		double mu = ndraws * want[i];
		double sd = sqrt(ndraws * want[i] * (1.0 - want[i]));

		if (want[i] == 0.0) {
			if (counts[i] != 0)
				fail_msg("token %zu drawn %ld times, expected never",
				    i, counts[i]);
			continue;
		}
		if (fabs(counts[i] - mu) > SIGMAS * sd + 1.0)
			fail_msg("token %zu drawn %ld times, expected %.1f +- %.1f",
			    i, counts[i], mu, SIGMAS * sd);
	}
}

/* Probabilities 0.5, 0.3, 0.15, 0.05 as logits. */
static void
four_logits(float *l)
{
	l[0] = logf(0.5f);
	l[1] = logf(0.3f);
	l[2] = logf(0.15f);
	l[3] = logf(0.05f);
}

/* ---- greedy --------------------------------------------------------------- */

static void
test_sampler_greedy_picks_argmax_ties_to_lowest_id(void **state)
{
	float l[] = { 1.0f, 3.0f, -2.0f, 3.0f, 2.9f };
	struct sampler_params p = params(0.0f, 0, 1.0f, 0.0f, 1);

	(void)state;
	assert_int_equal(sample_once(&p, l, 5, NULL, 0), 1);
	l[1] = 2.0f;
	assert_int_equal(sample_once(&p, l, 5, NULL, 0), 3);
	/* Negative and NaN temperatures are greedy too. */
	p.temp = -1.0f;
	assert_int_equal(sample_once(&p, l, 5, NULL, 0), 3);
	p.temp = NAN;
	assert_int_equal(sample_once(&p, l, 5, NULL, 0), 3);
	/* All equal: the lowest id. */
	for (int i = 0; i < 5; i++)
		l[i] = 0.25f;
	assert_int_equal(sample_once(&p, l, 5, NULL, 0), 0);
}

/* ---- the PRNG -------------------------------------------------------------- */

/* Reference generators, written from the published algorithms. */
static uint64_t
ref_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
ref_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
ref_xoshiro(uint64_t s[4])
{
	uint64_t r = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ref_rotl(s[3], 45);
	return r;
}

/*
 * With 2^20 equal logits a draw is the top 20 bits of the generator's
 * output, so the sampler must reproduce xoshiro256** seeded by splitmix64:
 * the references are checked against published vectors first (splitmix64
 * seed 1234567, Rosetta Code; xoshiro256** from state {1,2,3,4}, the
 * rand_xoshiro test), then the draws against them.
 */
static void
test_sampler_prng_is_xoshiro256ss_seeded_by_splitmix64(void **state)
{
	static const uint64_t sm[] = {
		6457827717110365317ULL, 3203168211198807973ULL,
		9817491932198370423ULL, 4593380528125082431ULL,
		16408922859458223821ULL,
	};
	static const uint64_t xo[] = {
		11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL,
		1216172134540287360ULL, 607988272756665600ULL,
		16172922978634559625ULL, 8476171486693032832ULL,
		10595114339597558777ULL, 2904607092377533576ULL,
	};
	enum { NV = 1 << 20, ND = 64 };
	uint64_t x = 1234567, s[4] = { 1, 2, 3, 4 }, seed = 0xfeedfacecafeULL;
	struct sampler_params p = params(1.0f, 0, 1.0f, 0.0f, seed);
	struct sampler *smp;
	float *l;

	(void)state;
	for (size_t i = 0; i < sizeof sm / sizeof sm[0]; i++)
		assert_true(ref_splitmix64(&x) == sm[i]);
	for (size_t i = 0; i < sizeof xo / sizeof xo[0]; i++)
		assert_true(ref_xoshiro(s) == xo[i]);

	x = seed;
	for (int i = 0; i < 4; i++)
		s[i] = ref_splitmix64(&x);
	assert_non_null(l = calloc(NV, sizeof *l));
	smp = new_or_fail(&p, NV);
	for (int i = 0; i < ND; i++)
		assert_int_equal(sampler_sample(smp, l, NULL, 0),
		    (int32_t)(ref_xoshiro(s) >> 44));
	sampler_free(smp);
	free(l);
}

static void
test_sampler_same_seed_same_draws_other_seed_differs(void **state)
{
	enum { NV = 50, ND = 1000 };
	float l[NV];
	int32_t a[ND], b[ND], c[ND];
	struct sampler_params p = params(1.0f, 0, 1.0f, 0.0f, 42);
	struct sampler *s1, *s2, *s3;
	int differ = 0;

	(void)state;
	for (int i = 0; i < NV; i++)
		l[i] = (float)((i * 37) % 11) * 0.3f;
	s1 = new_or_fail(&p, NV);
	s2 = new_or_fail(&p, NV);
	p.seed = 43;
	s3 = new_or_fail(&p, NV);
	for (int i = 0; i < ND; i++) {
		a[i] = sampler_sample(s1, l, NULL, 0);
		b[i] = sampler_sample(s2, l, NULL, 0);
		c[i] = sampler_sample(s3, l, NULL, 0);
	}
	assert_memory_equal(a, b, sizeof a);
	for (int i = 0; i < ND; i++)
		differ += a[i] != c[i];
	/* Independent streams over ~50 tokens agree about 1 time in 30. */
	assert_true(differ > ND * 8 / 10);
	sampler_free(s1);
	sampler_free(s2);
	sampler_free(s3);
}

/* ---- the distribution -------------------------------------------------------- */

static void
test_sampler_frequencies_follow_softmax_over_temperature(void **state)
{
	static const float l[] = { 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 2.0f,
	    0.3f, -2.0f };
	enum { NV = sizeof l / sizeof l[0] };
	static const float temps[] = { 0.7f, 1.0f, 1.8f };
	long counts[NV];
	double want[NV], chi2;

	(void)state;
	for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
		struct sampler_params p = params(temps[t], 0, 1.0f, 0.0f,
		    1000 + t);
		double z = 0.0;

		for (int i = 0; i < NV; i++)
			z += want[i] = exp((double)l[i] / temps[t]);
		for (int i = 0; i < NV; i++)
			want[i] /= z;
		draw_counts(&p, l, NV, NDRAWS, counts);
		expect_frequencies(counts, want, NV, NDRAWS);
		/* And jointly: chi-square, 7 degrees of freedom, p = 1e-4. */
		chi2 = 0.0;
		for (int i = 0; i < NV; i++) {
			double e = NDRAWS * want[i];

			chi2 += (counts[i] - e) * (counts[i] - e) / e;
		}
		if (chi2 > 29.88)
			fail_msg("temp %.1f: chi-square %.2f", temps[t], chi2);
	}
}

static void
test_sampler_top_k_1_equals_greedy(void **state)
{
	enum { NV = 300, ROUNDS = 200 };
	float l[NV];
	uint64_t x = 7;

	(void)state;
	for (int r = 0; r < ROUNDS; r++) {
		struct sampler_params g = params(0.0f, 0, 1.0f, 0.0f, r);
		struct sampler_params k = params(1.5f, 1, 0.9f, 0.0f, r);

		for (int i = 0; i < NV; i++)
			l[i] = (float)(ref_splitmix64(&x) % 64) / 8.0f;
		if (r % 2)
			l[NV - 1] = l[NV - 2] = 9.0f;	/* a tie at the top */
		assert_int_equal(sample_once(&k, l, NV, NULL, 0),
		    sample_once(&g, l, NV, NULL, 0));
	}
}

static void
test_sampler_top_k_keeps_the_k_best(void **state)
{
	float l[] = { 0.1f, 2.0f, 0.2f, 1.9f, 1.8f, 0.3f, 1.7f };
	double want[7];
	long counts[7];
	struct sampler_params p = params(1.0f, 3, 1.0f, 0.0f, 5);
	double z = exp(2.0) + exp(1.9) + exp(1.8);

	(void)state;
	memset(want, 0, sizeof want);
	want[1] = exp(2.0) / z;
	want[3] = exp(1.9) / z;
	want[4] = exp(1.8) / z;
	draw_counts(&p, l, 7, NDRAWS / 4, counts);
	expect_frequencies(counts, want, 7, NDRAWS / 4);
}

static void
test_sampler_top_p_keeps_smallest_set_reaching_p(void **state)
{
	float l[4];
	long counts[4];
	double two[] = { 0.5 / 0.8, 0.3 / 0.8, 0, 0 };
	double three[] = { 0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0 };
	double one[] = { 1, 0, 0, 0 };
	double all[] = { 0.5, 0.3, 0.15, 0.05 };
	struct sampler_params p = params(1.0f, 0, 0.75f, 0.0f, 9);

	(void)state;
	four_logits(l);
	draw_counts(&p, l, 4, NDRAWS / 4, counts);	/* 0.5 + 0.3 >= 0.75 */
	expect_frequencies(counts, two, 4, NDRAWS / 4);
	p.top_p = 0.9f;					/* needs 0.15 too */
	draw_counts(&p, l, 4, NDRAWS / 4, counts);
	expect_frequencies(counts, three, 4, NDRAWS / 4);
	p.top_p = 0.4f;					/* the top alone */
	draw_counts(&p, l, 4, NDRAWS / 4, counts);
	expect_frequencies(counts, one, 4, NDRAWS / 4);
	p.top_p = 1.0f;					/* off */
	draw_counts(&p, l, 4, NDRAWS / 4, counts);
	expect_frequencies(counts, all, 4, NDRAWS / 4);
}

/* A large vocabulary, where top-p sorts more than its first prefix. */
static void
test_sampler_top_p_over_a_flat_large_vocabulary(void **state)
{
	enum { NV = 5000 };
	static float l[NV];
	static long counts[NV];
	struct sampler_params p = params(1.0f, 0, 0.5f, 0.0f, 11);
	long inside = 0;

	(void)state;
	/* Equal logits for ids < 1000, far lower for the rest. */
	for (int i = 0; i < NV; i++)
		l[i] = i < 1000 ? 0.0f : -1000.0f;	/* exp() is 0 there */
	draw_counts(&p, l, NV, 10000, counts);
	/* Mass 0.5 of 1000 equal tokens: the best 500, i.e. ids 0..499. */
	for (int i = 0; i < NV; i++) {
		if (i < 500)
			inside += counts[i];
		else if (counts[i] != 0)
			fail_msg("token %d drawn outside the top-p set", i);
	}
	assert_int_equal(inside, 10000);
	for (int i = 0; i < 500; i++)
		assert_true(counts[i] >= 3 && counts[i] <= 50);	/* mean 20 */
}

static void
test_sampler_min_p_drops_tokens_below_fraction_of_best(void **state)
{
	float l[4];
	long counts[4];
	double three[] = { 0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0 };
	double two[] = { 0.5 / 0.8, 0.3 / 0.8, 0, 0 };
	struct sampler_params p = params(1.0f, 0, 1.0f, 0.2f, 13);

	(void)state;
	four_logits(l);
	draw_counts(&p, l, 4, NDRAWS / 4, counts);	/* floor 0.1: 0.05 out */
	expect_frequencies(counts, three, 4, NDRAWS / 4);
	p.min_p = 0.5f;					/* floor 0.25 */
	draw_counts(&p, l, 4, NDRAWS / 4, counts);
	expect_frequencies(counts, two, 4, NDRAWS / 4);
}

/* ---- repetition penalty -------------------------------------------------------- */

static void
test_sampler_repetition_penalty_changes_the_choice(void **state)
{
	float pos[] = { 2.0f, 1.9f, 0.0f };
	float neg[] = { -1.0f, -1.1f, -5.0f };
	float once[] = { 2.0f, 1.5f };
	int32_t h0[] = { 0 }, h000[] = { 0, 0, 0 }, hwin[] = { 0, 2, 2, 2 };
	int32_t hbad[] = { -7, 1 << 30, INT32_MIN, 0 };
	struct sampler_params p = params(0.0f, 0, 1.0f, 0.0f, 1);

	(void)state;
	assert_int_equal(sample_once(&p, pos, 3, h0, 1), 0);	/* off */
	p.repeat_penalty = 1.2f;
	/* 2.0 / 1.2 = 1.67 < 1.9 */
	assert_int_equal(sample_once(&p, pos, 3, h0, 1), 1);
	/* -1.0 * 1.2 = -1.2 < -1.1 */
	assert_int_equal(sample_once(&p, neg, 3, h0, 1), 1);
	/* Distinct tokens: three 0s penalise once (1.67 > 1.5). */
	assert_int_equal(sample_once(&p, once, 2, h000, 3), 0);
	/* Only the last repeat_last_n tokens count. */
	p.repeat_last_n = 3;
	assert_int_equal(sample_once(&p, pos, 3, hwin, 4), 0);
	p.repeat_last_n = 4;
	assert_int_equal(sample_once(&p, pos, 3, hwin, 4), 1);
	p.repeat_last_n = 0;					/* off */
	assert_int_equal(sample_once(&p, pos, 3, hwin, 4), 0);
	p.repeat_last_n = -1;					/* all of hist */
	assert_int_equal(sample_once(&p, pos, 3, hwin, 4), 1);
	/* Ids outside the vocabulary are ignored, the valid one counts. */
	assert_int_equal(sample_once(&p, pos, 3, hbad, 4), 1);
	/* A penalty that is not a positive number is off. */
	p.repeat_penalty = NAN;
	assert_int_equal(sample_once(&p, pos, 3, h0, 1), 0);
	p.repeat_penalty = -2.0f;
	assert_int_equal(sample_once(&p, pos, 3, h0, 1), 0);
}

/* The same sampler is reused across calls with changing histories. */
static void
test_sampler_penalty_marks_reset_between_calls(void **state)
{
	float pos[] = { 2.0f, 1.9f };
	int32_t h0[] = { 0 }, h1[] = { 1 };
	struct sampler_params p = params(0.0f, 0, 1.0f, 0.0f, 1);
	struct sampler *s;

	(void)state;
	p.repeat_penalty = 1.2f;
	s = new_or_fail(&p, 2);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(sampler_sample(s, pos, h0, 1), 1);
		assert_int_equal(sampler_sample(s, pos, h1, 1), 0);
		assert_int_equal(sampler_sample(s, pos, NULL, 0), 0);
	}
	sampler_free(s);
}

/* ---- hostile numbers ------------------------------------------------------------- */

static void
test_sampler_nan_and_inf_logits(void **state)
{
	float nanmax[] = { NAN, 1.0f, 3.0f, NAN, 2.0f };
	float allnan[] = { NAN, NAN, NAN };
	float allneg[] = { -INFINITY, -INFINITY, -INFINITY };
	float posinf[] = { 1.0f, 2.0f, INFINITY, -INFINITY, NAN };
	float oneok[] = { -INFINITY, NAN, -INFINITY, 0.5f };
	struct sampler_params g = params(0.0f, 0, 1.0f, 0.0f, 3);
	struct sampler_params r = params(1.0f, 0, 1.0f, 0.0f, 3);
	struct sampler_params f = params(0.8f, 40, 0.95f, 0.05f, 3);
	long counts[5];
	double only2[] = { 0, 0, 1, 0, 0 };

	(void)state;
	assert_int_equal(sample_once(&g, nanmax, 5, NULL, 0), 2);
	draw_counts(&r, nanmax, 5, 10000, counts);
	assert_int_equal(counts[0] + counts[3], 0);
	assert_true(counts[1] > 0 && counts[2] > counts[4]);
	/* Nothing finite: token 0, in every mode. */
	assert_int_equal(sample_once(&g, allnan, 3, NULL, 0), 0);
	assert_int_equal(sample_once(&r, allnan, 3, NULL, 0), 0);
	assert_int_equal(sample_once(&f, allneg, 3, NULL, 0), 0);
	/* +inf wins outright. */
	assert_int_equal(sample_once(&g, posinf, 5, NULL, 0), 2);
	draw_counts(&f, posinf, 5, 2000, counts);
	expect_frequencies(counts, only2, 5, 2000);
	draw_counts(&r, oneok, 4, 2000, counts);
	assert_int_equal(counts[3], 2000);
	/* A penalty below 1 boosts: past the largest float it stays finite. */
	{
		float big[] = { 1.0f, 3.0e38f };
		int32_t h[] = { 1 };
		struct sampler_params b = params(1.0f, 0, 1.0f, 0.0f, 3);

		b.repeat_penalty = 0.5f;
		for (int i = 0; i < 100; i++)
			assert_int_equal(sample_once(&b, big, 2, h, 1), 1);
	}
}

static void
test_sampler_rejects_bad_construction(void **state)
{
	struct sampler_params p = params(1.0f, 0, 1.0f, 0.0f, 1);

	(void)state;
	assert_null(sampler_new(&p, 0));
	assert_null(sampler_new(NULL, 10));
	sampler_free(NULL);
}

/*
 * Sampling does not allocate.  Under ASan every malloc is counted through
 * the sanitizer's hooks; a plain build can only see memory kept (mallinfo2).
 */
#if defined(__SANITIZE_ADDRESS__)
int	__sanitizer_install_malloc_and_free_hooks(
	    void (*)(const volatile void *, size_t), void (*)(const volatile void *));
static volatile long nallocs;
static void
on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	nallocs++;
}
static void
on_free(const volatile void *p)
{
	(void)p;
}
#endif

static long
alloc_mark(void)
{
#if defined(__SANITIZE_ADDRESS__)
	static bool hooked;

	if (!hooked) {
		assert_true(__sanitizer_install_malloc_and_free_hooks(on_malloc,
		    on_free) != 0);
		hooked = true;
	}
	return nallocs;
#else
	struct mallinfo2 mi = mallinfo2();

	return (long)(mi.uordblks + mi.hblkhd);
#endif
}

static void
test_sampler_sample_does_not_allocate(void **state)
{
	enum { NV = 32000 };
	static float l[NV];
	static const struct { int top_k; float top_p, min_p, temp; } cfg[] = {
		{ 40, 0.95f, 0.05f, 0.8f },	/* the engine's defaults */
		{ 0, 0.95f, 0.0f, 0.8f },	/* top-p over the whole vocabulary */
		{ 0, 1.0f, 0.1f, 1.2f },
		{ 0, 1.0f, 0.0f, 0.0f },	/* greedy */
	};
	int32_t hist[64];

	(void)state;
	for (int i = 0; i < NV; i++)
		l[i] = (float)((i * 7919) % 1000) / 100.0f;
	for (int i = 0; i < 64; i++)
		hist[i] = i * 13;
	for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
		struct sampler_params p = params(cfg[k].temp, cfg[k].top_k,
		    cfg[k].top_p, cfg[k].min_p, 17 + k);
		struct sampler *s;
		long before, after;

		p.repeat_penalty = 1.1f;
		s = new_or_fail(&p, NV);
		before = alloc_mark();
		for (int i = 0; i < 20; i++)
			(void)sampler_sample(s, l, hist, 64);
		after = alloc_mark();
		assert_int_equal(before, after);
		sampler_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sampler_greedy_picks_argmax_ties_to_lowest_id),
		cmocka_unit_test(test_sampler_prng_is_xoshiro256ss_seeded_by_splitmix64),
		cmocka_unit_test(test_sampler_same_seed_same_draws_other_seed_differs),
		cmocka_unit_test(test_sampler_frequencies_follow_softmax_over_temperature),
		cmocka_unit_test(test_sampler_top_k_1_equals_greedy),
		cmocka_unit_test(test_sampler_top_k_keeps_the_k_best),
		cmocka_unit_test(test_sampler_top_p_keeps_smallest_set_reaching_p),
		cmocka_unit_test(test_sampler_top_p_over_a_flat_large_vocabulary),
		cmocka_unit_test(test_sampler_min_p_drops_tokens_below_fraction_of_best),
		cmocka_unit_test(test_sampler_repetition_penalty_changes_the_choice),
		cmocka_unit_test(test_sampler_penalty_marks_reset_between_calls),
		cmocka_unit_test(test_sampler_nan_and_inf_logits),
		cmocka_unit_test(test_sampler_rejects_bad_construction),
		cmocka_unit_test(test_sampler_sample_does_not_allocate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
