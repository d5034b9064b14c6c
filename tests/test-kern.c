/*
 * test-kern.c - kern.c and kern-*.c: every kernel variant this CPU has
 * against the reference in quant.c, kern_matmul against a double-precision
 * dot product, the thread pool, and dispatch.
 *
 * With TRIAGE_BENCH=1 in the environment a last test prints single-thread
 * matvec timings for each variant instead of being skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "att.h"
#include "kern.h"
#include "quant.h"

/*
 * Tolerances, relative to sum |w_i * x_i| of the dot product: the kernels
 * differ from the reference only in the order of f32 additions (and
 * FMA), so errors stay at a few f32 epsilons times sqrt(n); 2e-5 leaves
 * room for n = 4096 while a wrong scale, min or layout is off by O(1).
 */
#define TOL_KERNEL_VS_REF	2e-5
#define TOL_MATMUL_VS_DOUBLE	3e-5

static const char *variant_names[] = { "scalar", "avx2", "avx2-vnni",
	"avx512", "avx512-vnni" };
#define NVARIANTS (sizeof variant_names / sizeof variant_names[0])

static const uint32_t all_types[] = {
	QT_F32, QT_F16, QT_BF16, QT_Q8_0, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1,
	QT_Q4_K, QT_Q5_K, QT_Q6_K, QT_Q2_K, QT_Q3_K, QT_IQ4_NL, QT_IQ4_XS,
	QT_MXFP4,
};
#define NTYPES (sizeof all_types / sizeof all_types[0])

/* ---- helpers ------------------------------------------------------------- */

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static float
rng_unif(uint64_t *s)
{
	return (float)((int32_t)(rng_next(s) >> 40) - (1 << 23)) * 0x1p-23f;
}

/* Weights with a per-row offset (so min/offset terms matter) and a few
 * large values (so scales differ between blocks). */
static void
fill(float *x, size_t n, float sd, float offset, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		float v = rng_unif(&seed) + rng_unif(&seed) + rng_unif(&seed);
		x[i] = v * sd + offset;
		if (rng_next(&seed) % 97 == 0)
			x[i] *= 8.0f;
	}
}

static size_t
row_bytes(uint32_t type, size_t n)
{
	uint64_t b;

	assert_int_equal(quant_row_bytes(type, n, &b), 0);
	return (size_t)b;
}

static int
is_quantized(uint32_t t)
{
	return t != QT_F32 && t != QT_F16 && t != QT_BF16;
}

/* A weight matrix of `type`: quantized bytes and the dequantized floats. */
struct wmat {
	uint32_t type;
	size_t	 nrows, n, rb;
	uint8_t	*q;		/* nrows * rb */
	float	*deq;		/* nrows * n */
};

static void
wmat_make(struct wmat *m, uint32_t type, size_t nrows, size_t n,
    uint64_t seed)
{
	float *row = malloc(n * sizeof *row);

	m->type = type;
	m->nrows = nrows;
	m->n = n;
	m->rb = row_bytes(type, n);
	m->q = malloc(nrows * m->rb);
	m->deq = malloc(nrows * n * sizeof *m->deq);
	assert_true(row && m->q && m->deq);
	for (size_t r = 0; r < nrows; r++) {
		fill(row, n, 0.05f, (float)(r % 5) * 0.02f - 0.03f, seed + r);
		assert_int_equal(quant_quantize_row(type, row, m->q + r * m->rb,
		    n), 0);
		assert_int_equal(quant_dequant_row(type, m->q + r * m->rb,
		    m->deq + r * n, n), 0);
	}
	free(row);
}

static void
wmat_free(struct wmat *m)
{
	free(m->q);
	free(m->deq);
}

/* The activations as the reference runtime sees them, in double: the
 * 8-bit blocks for quantized types, bf16 for BF16, else as they are. */
static void
effective_x(uint32_t type, const float *x, double *out, size_t n)
{
	if (is_quantized(type)) {
		struct qa_block *a = malloc((n / QA_BLCK) * sizeof *a);
		quant_act_q8(x, a, n);
		for (size_t i = 0; i < n; i++)
			out[i] = (double)a[i / 32].d * a[i / 32].q[i % 32];
		free(a);
	} else if (type == QT_BF16) {
		for (size_t i = 0; i < n; i++)
			out[i] = quant_bf16_to_f32(quant_f32_to_bf16(x[i]));
	} else {
		for (size_t i = 0; i < n; i++)
			out[i] = x[i];
	}
}

/* The kernel table of a variant this CPU can run, else NULL. */
static const struct kern_impl *
impl_of(const char *name)
{
	return kern_variant_impl(name);
}

/* The table that really serves `type` in variant k (kern.c follows the
 * fallback chain the same way). */
static const struct kern_impl *
serving(const struct kern_impl *k, uint32_t type)
{
	const struct kern_impl *r = kern_impl_for(k, type);

	if (r == NULL)
		fail_msg("no kernel for type %u", type);
	return r;
}

/* The first table in k's fallback chain that has member m (kern.c's
 * FIND): a variant may leave entries to the one below it. */
#define CHAIN(k, m) ({						\
	const struct kern_impl *k_ = (k);			\
	while (k_ != NULL && k_->m == NULL)			\
		k_ = k_->fallback;				\
	assert_non_null(k_);					\
	k_;							\
})

static const char *
best_variant(void)
{
	for (size_t v = NVARIANTS; v-- > 0;)
		if (kern_variant_ok(variant_names[v]))
			return variant_names[v];
	return "scalar";
}

static void
check_close(const char *what, double got, double want, double mag,
    double tol)
{
	if (!(fabs(got - want) <= tol * mag + 1e-30))
		fail_msg("%s: %.9g, want %.9g (|diff| %.3g, tolerance %.3g)",
		    what, got, want, fabs(got - want), tol * mag);
}

/* ---- kernels against the reference --------------------------------------- */

/*
 * Each variant's row kernel for each type against the reference dot
 * (quant_dot_q8 for quantized types, a double dot of the dequantized row
 * for float types), on n = 96 (32-blocks only), 256 (one superblock),
 * 512 and 4096.
 */
static void
test_kernels_match_reference_for_every_type(void **state)
{
	/* 96 = 3 blocks: an odd count, for kernels that pair blocks */
	static const size_t lens[] = { 96, 256, 512, 4096 };

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k = impl_of(variant_names[v]);

		if (k == NULL)
			continue;
		for (size_t t = 0; t < NTYPES; t++) {
			for (size_t li = 0; li < 4; li++) {
				uint32_t type = all_types[t];
				size_t n = lens[li];

				if (n % quant_info(type)->blck != 0)
					continue;
				struct wmat m;
				float *x = malloc(n * sizeof *x);
				double *xe = malloc(n * sizeof *xe);
				struct qa_block *a = malloc(n / 32 * sizeof *a);
				float *xb = malloc(n * sizeof *xb);
				char what[96];

				wmat_make(&m, type, 3, n, 1000 * t + li);
				fill(x, n, 1.0f, 0.0f, 77 + li);
				effective_x(type, x, xe, n);
				quant_act_q8(x, a, n);
				for (size_t i = 0; i < n; i++)
					xb[i] = (float)xe[i];
				const struct kern_impl *kt = serving(k, type);

				for (size_t r = 0; r < m.nrows; r++) {
					const uint8_t *w = m.q + r * m.rb;
					double want = 0, mag = 0, got;

					for (size_t i = 0; i < n; i++) {
						want += m.deq[r * n + i] * xe[i];
						mag += fabs(m.deq[r * n + i] * xe[i]);
					}
					if (is_quantized(type)) {
						got = kt->dot_q8[type](w, a, n);
						/* the reference itself first */
						check_close("quant_dot_q8",
						    quant_dot_q8(type, w, a, n),
						    want, mag, TOL_KERNEL_VS_REF);
					} else if (type == QT_F32) {
						got = kt->dot_f32(w, x, n);
					} else if (type == QT_F16) {
						got = kt->dot_f16(w, x, n);
					} else {
						got = kt->dot_bf16(w, xb, n);
					}
					snprintf(what, sizeof what, "%s (%s) %s n=%zu row %zu",
					    variant_names[v], kt->name,
					    quant_info(type)->name, n, r);
					check_close(what, got, want, mag,
					    TOL_KERNEL_VS_REF);
				}
				wmat_free(&m);
				free(x);
				free(xe);
				free(a);
				free(xb);
			}
		}
	}
}

/*
 * The tiled kernels (KERN_TILE activation rows per weight row) give
 * bit-identical results to the single-row kernels, so a prompt batch
 * and token-by-token decoding agree exactly.
 */
static void
test_tiled_kernels_equal_single_row_bitwise(void **state)
{
	enum { N = 512 };

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k = impl_of(variant_names[v]);

		if (k == NULL)
			continue;
		for (size_t t = 0; t < NTYPES; t++) {
			uint32_t type = all_types[t];
			struct wmat m;
			float x[KERN_TILE * N], one[KERN_TILE], four[KERN_TILE];
			struct qa_block a[KERN_TILE * N / QA_BLCK];
			void (*dot4f)(const void *, const float *, size_t,
			    size_t, float *) = NULL;
			float (*dotf)(const void *, const float *, size_t);

			wmat_make(&m, type, 1, N, 40 + t);
			fill(x, KERN_TILE * N, 1.0f, 0.0f, 41 + t);
			k = serving(impl_of(variant_names[v]), type);
			if (is_quantized(type)) {
				if (k->dot4_q8[type] == NULL)
					goto next;
				quant_act_q8(x, a, KERN_TILE * N);
				k->dot4_q8[type](m.q, a, N / QA_BLCK, N, four);
				for (int r = 0; r < KERN_TILE; r++)
					one[r] = k->dot_q8[type](m.q,
					    a + r * N / QA_BLCK, N);
			} else {
				dotf = type == QT_F32 ? k->dot_f32 :
				    type == QT_F16 ? k->dot_f16 : k->dot_bf16;
				dot4f = type == QT_F32 ? k->dot4_f32 :
				    type == QT_F16 ? k->dot4_f16 : k->dot4_bf16;
				if (dot4f == NULL)
					goto next;
				dot4f(m.q, x, N, N, four);
				for (int r = 0; r < KERN_TILE; r++)
					one[r] = dotf(m.q, x + r * N, N);
			}
			for (int r = 0; r < KERN_TILE; r++)
				if (memcmp(&one[r], &four[r], sizeof(float)))
					fail_msg("%s %s row %d: tiled %.9g, "
					    "single %.9g", k->name,
					    quant_info(type)->name, r, four[r],
					    one[r]);
next:
			wmat_free(&m);
		}
	}
}

/* The kernels that take KERN_TILE weight rows against one activation row
 * (decoding one token) give each row's single dot bit for bit, for rows
 * of one to eight superblocks and 32-blocks left over. */
static void
test_row_group_kernels_equal_single_dots_bitwise(void **state)
{
	static const size_t lens[] = { 256, 512, 2048, 96, 544 };

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k0 = impl_of(variant_names[v]);

		if (k0 == NULL)
			continue;
		for (size_t t = 0; t < NTYPES; t++) {
			uint32_t type = all_types[t];

			if (!is_quantized(type) || k0->dotw4_q8[type] == NULL)
				continue;
			for (size_t li = 0; li < sizeof lens / sizeof lens[0];
			    li++) {
				size_t n = lens[li];
				struct wmat m;
				float x[2048], four[KERN_TILE];
				struct qa_block a[2048 / QA_BLCK];

				if (n % quant_info(type)->blck != 0)
					continue;
				/* rows `gap` apart, as the decode lanes
				 * call it (gap 1: neighbours) */
				size_t gap = li % 2 ? 3 : 1;

				wmat_make(&m, type, KERN_TILE * gap, n,
				    300 + t + li);
				fill(x, n, 1.0f, 0.0f, 301 + li);
				quant_act_q8(x, a, n);
				k0->dotw4_q8[type](m.q, gap * m.rb, a, n, four);
				for (int r = 0; r < KERN_TILE; r++) {
					float one = k0->dot_q8[type](m.q + r *
					    gap * m.rb, a, n);

					if (memcmp(&one, &four[r], sizeof one))
						fail_msg("%s %s n=%zu row %d: "
						    "group %.9g, single %.9g",
						    variant_names[v],
						    quant_info(type)->name, n, r,
						    (double)four[r], (double)one);
				}
				wmat_free(&m);
			}
		}
	}
}

/* kern_matmul of a batch of 6 (a tile of 4 and 2 single rows) equals six
 * calls with one row each, bit for bit. */
static void
test_matmul_batch_equals_row_by_row(void **state)
{
	enum { NROWS = 9, N = 512, NB = 6 };
	float X[NB * N], Yb[NB * NROWS], Y1[NROWS];
	void *scratch = malloc(kern_scratch_bytes(N, NB));
	struct kern_pool *p = kern_pool_new(2);

	(void)state;
	fill(X, NB * N, 1.0f, 0.0f, 8);
	for (size_t t = 0; t < NTYPES; t++) {
		struct wmat m;

		wmat_make(&m, all_types[t], NROWS, N, 90 + t);
		kern_matmul(p, m.type, m.q, NROWS, N, X, NB, Yb, scratch);
		for (int b = 0; b < NB; b++) {
			kern_matmul(p, m.type, m.q, NROWS, N, X + b * N, 1, Y1,
			    scratch);
			assert_memory_equal(Y1, Yb + b * NROWS, sizeof Y1);
		}
		wmat_free(&m);
	}
	kern_pool_free(p);
	free(scratch);
}

/* Float kernels handle lengths that are not a multiple of the vector. */
static void
test_float_kernels_handle_odd_lengths(void **state)
{
	(void)state;
	for (size_t n = 1; n < 70; n++) {
		for (size_t t = 0; t < 3; t++) {
			uint32_t type = all_types[t];
			struct wmat m;
			float x[70];
			double xe[70], want = 0, mag = 0;

			wmat_make(&m, type, 1, n, n);
			fill(x, n, 1.0f, 0.1f, n + 5);
			effective_x(type, x, xe, n);
			for (size_t i = 0; i < n; i++) {
				want += m.deq[i] * xe[i];
				mag += fabs(m.deq[i] * xe[i]);
			}
			for (size_t v = 0; v < NVARIANTS; v++) {
				const struct kern_impl *k =
				    impl_of(variant_names[v]);
				float xb[70], got;

				if (k == NULL)
					continue;
				k = serving(k, type);
				for (size_t i = 0; i < n; i++)
					xb[i] = (float)xe[i];
				got = type == QT_F32 ? k->dot_f32(m.q, x, n) :
				    type == QT_F16 ? k->dot_f16(m.q, x, n) :
				    k->dot_bf16(m.q, xb, n);
				check_close(k->name, got, want, mag,
				    TOL_KERNEL_VS_REF);
			}
			wmat_free(&m);
		}
	}
}

/* One dotn_f16 result against a double dot of its row and vector. */
static void
check_dotn(const char *name, const uint16_t *w, const float *x, size_t n,
    float got)
{
	double want = 0, mag = 0;

	for (size_t i = 0; i < n; i++) {
		double t = (double)quant_f16_to_f32(w[i]) * x[i];

		want += t;
		mag += fabs(t);
	}
	check_close(name, got, want, mag, TOL_KERNEL_VS_REF);
}

/*
 * dotn_f16 (the decode attention's rows of K and V^T against the query
 * heads of one KV head) for every variant that has one: any row count
 * (whole groups and a rest), 1 to 4 vectors, any length (vector steps
 * and a ragged end), rows and vectors apart by more than their length,
 * the last row ending at the end of its allocation (ASan sees a read
 * past it), against a double dot.
 */
static void
test_dotn_f16_matches_double(void **state)
{
	static const size_t nws[] = { 1, 3, 4, 7, 9 };
	static const size_t ns[] = { 1, 15, 16, 17, 64, 128, 133 };

	(void)state;
	for (size_t a = 0; a < sizeof nws / sizeof nws[0]; a++) {
		for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
			size_t nw = nws[a], n = ns[b], ws = n + 5, xs = n + 3;
			size_t len = (nw - 1) * ws + n, os = nw + 2;
			uint16_t *w = malloc(len * sizeof *w);
			float x[4 * 136], out[4 * 11];

			assert_non_null(w);
			fill(x, 4 * xs, 1.0f, 0.0f, 40 + a * 8 + b);
			for (size_t i = 0; i < len; i++)
				w[i] = quant_f32_to_f16((float)((int)((i * 37 +
				    a) % 61) - 30) / 16.0f);
			for (size_t v = 0; v < NVARIANTS; v++) {
				const struct kern_impl *k =
				    impl_of(variant_names[v]);

				if (k == NULL || k->dotn_f16 == NULL)
					continue;
				for (size_t nx = 1; nx <= 4; nx++) {
					k->dotn_f16(w, ws, nw, x, xs, nx, n, out,
					    os);
					for (size_t g = 0; g < nx; g++)
						for (size_t r = 0; r < nw; r++)
							check_dotn(k->name, w +
							    r * ws, x + g * xs,
							    n, out[g * os + r]);
				}
			}
			free(w);
		}
	}
}

/* sumsq (RMS norms) for every variant with one, any length, against a
 * double sum: only the order of double additions may differ. */
static void
test_sumsq_matches_double(void **state)
{
	float x[1100];

	(void)state;
	fill(x, 1100, 3.0f, 0.0f, 77);
	for (size_t n = 0; n <= 1100; n += n < 70 ? 1 : 343) {
		double want = 0;

		for (size_t i = 0; i < n; i++)
			want += (double)x[i] * x[i];
		for (size_t v = 0; v < NVARIANTS; v++) {
			const struct kern_impl *k = impl_of(variant_names[v]);
			double got;

			if (k == NULL || k->sumsq == NULL)
				continue;
			got = k->sumsq(x, n);
			if (fabs(got - want) > 1e-12 * want)
				fail_msg("%s sumsq n=%zu: %.17g, want %.17g",
				    k->name, n, got, want);
		}
	}
}

/* Hand-made extreme blocks: Q8_0 weights of -128 and 127, activations at
 * +-127, all nibbles 15; the sign trick and int16 pair sums must hold. */
static void
test_kernels_exact_on_extreme_quants(void **state)
{
	enum { N = 256 };
	uint8_t w[N / 32 * 34];
	float x[N];
	struct qa_block a[N / 32];

	(void)state;
	for (int i = 0; i < N; i++)
		x[i] = (i & 1) ? 1.0f : -1.0f;
	quant_act_q8(x, a, N);
	for (int b = 0; b < N / 32; b++) {
		w[34 * b] = 0x00;
		w[34 * b + 1] = 0x3c;		/* d = 1 */
		for (int j = 0; j < 32; j++)
			w[34 * b + 2 + j] = (j & 2) ? 0x80 : 0x7f;
	}
	float ref = quant_dot_q8(QT_Q8_0, w, a, N);
	/* per pair of elements: (-1 * wa + 1 * wb) * 127 * d_a */
	double want = 0;
	for (int i = 0; i < N; i++) {
		int q = ((i % 32) & 2) ? -128 : 127;
		want += (double)q * a[i / 32].q[i % 32] * a[i / 32].d;
	}
	assert_true(fabs(ref - want) <= 1e-6 * fabs(want) + 1e-6);
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k = impl_of(variant_names[v]);
		if (k != NULL) {
			float got = serving(k, QT_Q8_0)->dot_q8[QT_Q8_0](w, a, N);
			assert_true(fabs(got - want) <= 1e-6 * fabs(want) + 1e-6);
		}
	}
}

/* ---- kern_matmul --------------------------------------------------------- */

struct mm_case {
	size_t	 nrows, n, nb;
};

/*
 * kern_matmul for every available variant, type, thread count 1/2/3,
 * odd row counts and nb = 1 and 3, against a double dot of the
 * dequantized weights with the activations as the runtime rounds them.
 * Results must also be identical for every thread count.
 */
static void
test_matmul_matches_double_reference(void **state)
{
	static const struct mm_case cases[] = {
		{ 37, 512, 1 }, { 37, 512, 3 }, { 5, 256, 2 }, { 1, 1024, 1 },
		/* several decode units of four lanes, and a ragged last */
		{ 1203, 1024, 1 },
	};

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		if (kern_set_variant(variant_names[v]) != 0)
			continue;
		assert_string_equal(kern_variant(), variant_names[v]);
		for (size_t t = 0; t < NTYPES; t++) {
			for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
				uint32_t type = all_types[t];
				const struct mm_case *mc = &cases[c];
				struct wmat m;
				float *X = malloc(mc->n * mc->nb * sizeof *X);
				float *Y[4];
				double *xe = malloc(mc->n * sizeof *xe);
				void *scratch = malloc(kern_scratch_bytes(mc->n,
				    mc->nb));

				wmat_make(&m, type, mc->nrows, mc->n, 31 * t + c);
				fill(X, mc->n * mc->nb, 1.0f, 0.0f, 500 + c);
				for (int th = 1; th <= 3; th++) {
					struct kern_pool *p = kern_pool_new(th);
					assert_non_null(p);
					assert_int_equal(kern_pool_threads(p), th);
					Y[th] = malloc(mc->nrows * mc->nb * sizeof(float));
					kern_matmul(p, type, m.q, mc->nrows, mc->n, X,
					    mc->nb, Y[th], scratch);
					kern_pool_free(p);
				}
				for (size_t b = 0; b < mc->nb; b++) {
					effective_x(type, X + b * mc->n, xe, mc->n);
					for (size_t r = 0; r < mc->nrows; r++) {
						double want = 0, mag = 0;
						char what[96];
						const float *wr = m.deq + r * mc->n;

						for (size_t i = 0; i < mc->n; i++) {
							want += wr[i] * xe[i];
							mag += fabs(wr[i] * xe[i]);
						}
						snprintf(what, sizeof what,
						    "%s %s %zux%zu nb=%zu b=%zu r=%zu",
						    variant_names[v],
						    quant_info(type)->name,
						    mc->nrows, mc->n, mc->nb, b, r);
						check_close(what,
						    Y[1][b * mc->nrows + r], want,
						    mag, TOL_MATMUL_VS_DOUBLE);
					}
				}
				for (int th = 2; th <= 3; th++)
					assert_memory_equal(Y[1], Y[th],
					    mc->nrows * mc->nb * sizeof(float));
				for (int th = 1; th <= 3; th++)
					free(Y[th]);
				wmat_free(&m);
				free(X);
				free(xe);
				free(scratch);
			}
		}
	}
	kern_set_variant(best_variant());
}

/* Weights at an odd address (a GGUF with alignment 1) give the same
 * results as aligned ones. */
static void
test_matmul_accepts_unaligned_weights(void **state)
{
	enum { NROWS = 7, N = 256 };
	float X[N], Y0[NROWS], Y1[NROWS];
	void *scratch = malloc(kern_scratch_bytes(N, 1));

	(void)state;
	fill(X, N, 1.0f, 0.0f, 3);
	for (size_t t = 0; t < NTYPES; t++) {
		struct wmat m;
		uint8_t *odd;

		wmat_make(&m, all_types[t], NROWS, N, t);
		odd = malloc(NROWS * m.rb + 1);
		memcpy(odd + 1, m.q, NROWS * m.rb);
		kern_matmul(NULL, m.type, m.q, NROWS, N, X, 1, Y0, scratch);
		kern_matmul(NULL, m.type, odd + 1, NROWS, N, X, 1, Y1, scratch);
		assert_memory_equal(Y0, Y1, sizeof Y0);
		free(odd);
		wmat_free(&m);
	}
	free(scratch);
}

static void
test_matmul_unsupported_type_or_length_gives_nan(void **state)
{
	float X[64] = { 0 }, Y[4];
	uint8_t W[1024] = { 0 };
	char scratch[4096];

	(void)state;
	kern_matmul(NULL, QT_IQ2_XXS, W, 2, 256, X, 1, Y, scratch);
	assert_true(isnan(Y[0]) && isnan(Y[1]));
	kern_matmul(NULL, QT_Q4_K, W, 2, 64, X, 1, Y, scratch);
	assert_true(isnan(Y[0]) && isnan(Y[1]));
	kern_matmul(NULL, 1234, W, 2, 32, X, 2, Y, scratch);
	assert_true(isnan(Y[0]) && isnan(Y[3]));
}

/* ---- prefill tiles and helpers ------------------------------------------ */

/* Every SIMD variant's activation quantizer gives quant_act_q8's bytes,
 * for ordinary rows, blocks of zeros, tiny and huge values, a partial
 * last block and non-finite values. */
static void
test_act_q8_bit_exact_every_variant(void **state)
{
	enum { N = 32 * 9 + 20 };
	float x[N];
	struct qa_block want[N / 32 + 1], got[N / 32 + 1];

	(void)state;
	for (int round = 0; round < 6; round++) {
		fill(x, N, round == 2 ? 1e-30f : round == 3 ? 3e37f : 1.0f,
		    0.0f, 600 + round);
		memset(x + 64, 0, 32 * sizeof *x);	/* an all-zero block */
		if (round == 4)
			x[40] = __builtin_nanf("");
		if (round == 5)
			x[100] = -__builtin_inff();
		for (int i = 0; i < N; i += 7)	/* exact halves: ties */
			if (round == 1)
				x[i] = (float)(i % 50) - 24.5f;
		memset(want, 0, sizeof want);
		quant_act_q8(x, want, N);
		for (size_t v = 0; v < NVARIANTS; v++) {
			const struct kern_impl *k = impl_of(variant_names[v]);

			if (k == NULL)
				continue;
			k = CHAIN(k, act_q8);
			memset(got, 0, sizeof got);
			k->act_q8(x, got, N);
			for (size_t b = 0; b < N / 32 + 1; b++)
				if (memcmp(&got[b], &want[b], sizeof got[b]))
					fail_msg("%s: block %zu of round %d "
					    "differs (d %g vs %g, sum %d vs %d)",
					    variant_names[v], b, round,
					    (double)got[b].d, (double)want[b].d,
					    got[b].sum, want[b].sum);
		}
	}
}

static const uint32_t quant_types[] = {
	QT_Q8_0, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q4_K, QT_Q5_K, QT_Q6_K,
	QT_Q2_K, QT_Q3_K, QT_IQ4_NL, QT_IQ4_XS, QT_MXFP4,
};
#define NQTYPES (sizeof quant_types / sizeof quant_types[0])

struct tile_buf {
	struct kern_wtile t;
	uint8_t	*u;
	float	*fs, *fm;
};

static void
tile_alloc(struct tile_buf *b, size_t nblk)
{
	b->u = calloc(KERN_TR * nblk, 32);
	b->fs = calloc(KERN_TR * nblk * 2, sizeof(float));
	b->fm = calloc(KERN_TR * nblk, sizeof(float));
	assert_true(b->u && b->fs && b->fm);
	b->t = (struct kern_wtile){ .u = b->u, .fs = b->fs, .fm = b->fm,
	    .nblk = nblk };
}

static void
tile_free(struct tile_buf *b)
{
	free(b->u);
	free(b->fs);
	free(b->fm);
}

/* A decoded tile means w = fs * (u - off) - fm: exactly the floats of
 * the reference dequantization (the same products in the same order). */
static void
test_tile_decoders_reproduce_dequant(void **state)
{
	enum { N = 512, NBLK = N / 32 };

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k0 = impl_of(variant_names[v]);

		if (k0 == NULL || k0->gemm_q8 == NULL)
			continue;
		for (size_t ti = 0; ti < NQTYPES; ti++) {
			uint32_t type = quant_types[ti];
			const struct kern_impl *k = k0;
			struct tile_buf b;
			struct wmat m;

			while (k != NULL && k->decode[type] == NULL)
				k = k->fallback;
			if (k == NULL)	/* no tile decoder: matvec rows only */
				continue;
			wmat_make(&m, type, KERN_TR, N, 70 + ti);
			tile_alloc(&b, NBLK);
			for (int r = 0; r < KERN_TR; r++)
				k->decode[type](m.q + r * m.rb, NBLK, &b.t, r);
			for (int r = 0; r < KERN_TR; r++) {
				for (size_t e = 0; e < N; e++) {
					size_t blk = (size_t)r * NBLK + e / 32;
					int half = b.t.halves && e % 32 >= 16;
					float w = b.fs[2 * blk + half] *
					    (float)((int)b.u[blk * 32 + e % 32] -
					    b.t.off) - b.fm[blk];

					if (memcmp(&w, &m.deq[r * N + e], 4))
						fail_msg("%s %s row %d elt %zu: "
						    "%.9g, want %.9g",
						    variant_names[v],
						    quant_info(type)->name, r, e,
						    (double)w,
						    (double)m.deq[r * N + e]);
				}
			}
			tile_free(&b);
			wmat_free(&m);
		}
	}
}

/* Interleave nb (<= KERN_TT) rows of 8-bit blocks as kern.c does. */
static void
make_atile(struct kern_ablk *t, const struct qa_block *a, size_t nblk,
    size_t nb)
{
	memset(t, 0, nblk * sizeof *t);
	for (size_t s = 0; s < nb; s++) {
		for (size_t k = 0; k < nblk; k++) {
			const struct qa_block *q = &a[s * nblk + k];
			int32_t s0 = 0;

			for (int g = 0; g < 8; g++)
				memcpy(t[k].q[g][s], q->q + 4 * g, 4);
			for (int i = 0; i < 16; i++)
				s0 += q->q[i];
			t[k].d[s] = q->d;
			t[k].sum0[s] = s0;
			t[k].sum1[s] = q->sum - s0;
		}
	}
}

/* The tile kernel against the reference dot for every row and token,
 * with empty token slots and an all-zero weight row. */
static void
test_gemm_q8_matches_reference(void **state)
{
	enum { N = 1024, NBLK = N / 32, NB = 13 };
	float *x = malloc(NB * N * sizeof *x);
	struct qa_block *a = malloc(NB * NBLK * sizeof *a);
	struct kern_ablk *at = aligned_alloc(64, NBLK * sizeof *at);

	(void)state;
	assert_true(x && a && at);
	fill(x, NB * N, 1.0f, 0.0f, 91);
	for (size_t i = 0; i < N; i++)	/* extremes: |q| = 127 */
		x[2 * N + i] = (i & 1) ? 1.0f : -1.0f;
	quant_act_q8(x, a, NB * N);
	make_atile(at, a, NBLK, NB);
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k0 = impl_of(variant_names[v]);

		if (k0 == NULL || k0->gemm_q8 == NULL)
			continue;
		for (size_t ti = 0; ti < NQTYPES; ti++) {
			uint32_t type = quant_types[ti];
			const struct kern_impl *k = k0;
			float out[KERN_TR][KERN_TT];
			struct tile_buf b;
			struct wmat m;

			while (k != NULL && k->decode[type] == NULL)
				k = k->fallback;
			if (k == NULL)	/* no tile decoder: matvec rows only */
				continue;
			wmat_make(&m, type, KERN_TR, N, 170 + ti);
			tile_alloc(&b, NBLK);
			for (int r = 0; r < KERN_TR - 1; r++)
				k->decode[type](m.q + r * m.rb, NBLK, &b.t, r);
			/* the last row stays zero, as kern.c pads tiles */
			k0->gemm_q8(&b.t, at, out[0], 0);
			/* the transposed layout holds the same numbers */
			{
				float tr[KERN_TT][KERN_TR];

				k0->gemm_q8(&b.t, at, tr[0], 1);
				for (int r = 0; r < KERN_TR; r++)
					for (int t = 0; t < KERN_TT; t++)
						assert_true(memcmp(&tr[t][r],
						    &out[r][t], 4) == 0);
			}
			for (int r = 0; r < KERN_TR; r++) {
				for (int t = 0; t < KERN_TT; t++) {
					double want = 0, mag = 0;
					char what[96];

					if (r == KERN_TR - 1 || t >= NB) {
						if (out[r][t] != 0.0f)
							fail_msg("%s %s: empty "
							    "slot %d,%d is %g",
							    variant_names[v],
							    quant_info(type)->name,
							    r, t, (double)out[r][t]);
						continue;
					}
					for (size_t i = 0; i < N; i++) {
						const struct qa_block *q =
						    &a[t * NBLK + i / 32];
						double p = m.deq[r * N + i] *
						    (double)q->d * q->q[i % 32];

						want += p;
						mag += fabs(p);
					}
					snprintf(what, sizeof what, "%s gemm %s "
					    "row %d token %d", variant_names[v],
					    quant_info(type)->name, r, t);
					check_close(what, out[r][t], want, mag,
					    TOL_KERNEL_VS_REF);
					check_close("quant_dot_q8", quant_dot_q8(type,
					    m.q + r * m.rb, a + t * NBLK, N),
					    want, mag, TOL_KERNEL_VS_REF);
				}
			}
			tile_free(&b);
			wmat_free(&m);
		}
	}
	free(x);
	free(a);
	free(at);
}

static void
test_gemm_f32_matches_double(void **state)
{
	enum { N = 77 };
	float w[KERN_TR * N], a[N * KERN_TT], out[KERN_TR][KERN_TT];

	(void)state;
	fill(w, KERN_TR * N, 1.0f, 0.1f, 5);
	fill(a, N * KERN_TT, 1.0f, -0.2f, 6);
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k = impl_of(variant_names[v]);

		if (k == NULL || k->gemm_f32 == NULL)
			continue;	/* none, or tested with its fallback */
		float tr[KERN_TT][KERN_TR];

		k->gemm_f32(w, N, a, out[0], 0);
		k->gemm_f32(w, N, a, tr[0], 1);
		for (int r = 0; r < KERN_TR; r++)
			for (int t = 0; t < KERN_TT; t++)
				assert_true(memcmp(&tr[t][r], &out[r][t], 4) == 0);
		for (int r = 0; r < KERN_TR; r++)
			for (int t = 0; t < KERN_TT; t++) {
				double want = 0, mag = 0;

				for (int i = 0; i < N; i++) {
					want += (double)w[r * N + i] *
					    a[i * KERN_TT + t];
					mag += fabs((double)w[r * N + i] *
					    a[i * KERN_TT + t]);
				}
				check_close(variant_names[v], out[r][t], want,
				    mag, TOL_KERNEL_VS_REF);
			}
	}
}

/* exp-based helpers to a few ulps of libm's double results; conversions
 * exactly. */
#define TOL_EXP	4e-7

static void
test_vector_math_matches_libm(void **state)
{
	enum { N = 203 };
	float g[N], u[N], x[N], s[5 * KERN_TT], sum[KERN_TT];
	int32_t last[KERN_TT];
	uint16_t h[N];

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct kern_impl *k = impl_of(variant_names[v]);
		float got, gsum = 0;
		double want = 0;

		if (k == NULL || CHAIN(k, silu_mul) != k)
			continue;	/* tested with the variant that has it */
		fill(g, N, 4.0f, 0.0f, 11);
		fill(u, N, 1.0f, 0.0f, 12);
		g[0] = -90.0f;
		g[1] = 90.0f;
		memcpy(x, g, sizeof x);
		k->silu_mul(x, u, N);
		for (int i = 0; i < N; i++) {
			double e = (double)g[i] / (1.0 + exp(-(double)g[i])) *
			    u[i];

			check_close("silu_mul", x[i], e, fabs(e) + 1e-30,
			    TOL_EXP);
		}
		memcpy(x, g, sizeof x);
		x[5] = -__builtin_inff();
		got = k->softmax_exp(x, N, 3.0f);
		for (int i = 0; i < N; i++) {
			/* the kernels subtract in f32, as the reference */
			double e = i == 5 ? 0.0 : exp((double)(g[i] - 3.0f));

			check_close("softmax_exp", x[i], e, e + 1e-38, TOL_EXP);
			want += e;
			gsum += x[i];
		}
		check_close("softmax_exp sum", got, want, want, 1e-6);
		/* a score tile: 5 positions, columns masked after position
		 * last[t] (-1: all), scaled by 0.5 */
		fill(s, 5 * KERN_TT, 3.0f, 0.0f, 13);
		for (int t = 0; t < KERN_TT; t++)
			last[t] = t % 7 - 1;
		memcpy(x, s, sizeof s);
		k->softmax_tile(x, 5, last, 0.5f, sum);
		for (int t = 0; t < KERN_TT; t++) {
			double ws = 0, mxd = -1e300;

			for (int p = 0; p <= last[t] && p < 5; p++)
				if (s[p * KERN_TT + t] * 0.5f > mxd)
					mxd = s[p * KERN_TT + t] * 0.5f;
			for (int p = 0; p < 5; p++) {
				double e = p > last[t] ? 0.0 : exp((double)(
				    s[p * KERN_TT + t] * 0.5f - (float)mxd));

				check_close("softmax_tile", x[p * KERN_TT + t],
				    e, e + 1e-38, TOL_EXP);
				ws += e;
			}
			check_close("softmax_tile sum", sum[t], ws, ws + 1e-38,
			    1e-6);
		}
		/* f16 conversions: random bit patterns, every class */
		for (int i = 0; i < N; i++) {
			uint32_t bits = (uint32_t)rng_next(&(uint64_t){ (uint64_t)i
			    + 1234 });
			float f;

			memcpy(&f, &bits, sizeof f);
			/* exponents around the f16 range, and NaN, inf */
			f = i % 3 == 0 ? ldexpf(f / (fabsf(f) + 1), i % 40 - 26) :
			    f;
			g[i] = f;
		}
		k->cvt_to_f16(g, h, N);
		for (int i = 0; i < N; i++)
			if (h[i] != quant_f32_to_f16(g[i]))
				fail_msg("%s cvt_to_f16(%a) = %04x, want %04x",
				    variant_names[v], (double)g[i], h[i],
				    quant_f32_to_f16(g[i]));
		for (int i = 0; i < N; i++)
			h[i] = (uint16_t)(rng_next(&(uint64_t){ (uint64_t)i +
			    99 }) & 0x7bff);
		k->cvt_f16(h, x, N);
		for (int i = 0; i < N; i++)
			assert_true(x[i] == quant_f16_to_f32(h[i]));
		k->cvt_bf16(h, x, N);
		for (int i = 0; i < N; i++)
			assert_true(x[i] == quant_bf16_to_f32(h[i]));
	}
}

/*
 * kern_matmul on batches large enough for the tile kernels, with a
 * reserved pool: every variant and type against the double reference,
 * odd row counts (a partial weight tile) and batches that end in a
 * partial token tile; the result must not depend on the thread count.
 */
static void
test_matmul_tiles_match_double_reference(void **state)
{
	static const struct mm_case cases[] = {
		{ 37, 512, 40 }, { 9, 256, 17 }, { 16, 1024, 8 },
	};

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		if (kern_set_variant(variant_names[v]) != 0)
			continue;
		for (size_t t = 0; t < NTYPES; t++) {
			for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
				uint32_t type = all_types[t];
				const struct mm_case *mc = &cases[c];
				struct wmat m;
				float *X = malloc(mc->n * mc->nb * sizeof *X);
				float *Y[4];
				double *xe = malloc(mc->n * sizeof *xe);
				void *scratch = malloc(kern_scratch_bytes(mc->n,
				    mc->nb));

				wmat_make(&m, type, mc->nrows, mc->n, 41 * t + c);
				fill(X, mc->n * mc->nb, 1.0f, 0.0f, 700 + c);
				for (int th = 1; th <= 3; th++) {
					struct kern_pool *p = kern_pool_new(th);

					assert_non_null(p);
					assert_int_equal(kern_pool_reserve(p,
					    kern_thread_bytes(mc->n, 64, 64)), 0);
					Y[th] = malloc(mc->nrows * mc->nb *
					    sizeof(float));
					kern_matmul(p, type, m.q, mc->nrows, mc->n,
					    X, mc->nb, Y[th], scratch);
					kern_pool_free(p);
				}
				for (size_t b = 0; b < mc->nb; b++) {
					effective_x(type, X + b * mc->n, xe, mc->n);
					for (size_t r = 0; r < mc->nrows; r++) {
						double want = 0, mag = 0;
						char what[160];
						const float *wr = m.deq + r * mc->n;

						for (size_t i = 0; i < mc->n; i++) {
							want += wr[i] * xe[i];
							mag += fabs(wr[i] * xe[i]);
						}
						snprintf(what, sizeof what,
						    "tiles %s %s %zux%zu nb=%zu "
						    "b=%zu r=%zu", variant_names[v],
						    quant_info(type)->name,
						    mc->nrows, mc->n, mc->nb, b, r);
						check_close(what,
						    Y[1][b * mc->nrows + r], want,
						    mag, TOL_MATMUL_VS_DOUBLE);
					}
				}
				for (int th = 2; th <= 3; th++)
					assert_memory_equal(Y[1], Y[th],
					    mc->nrows * mc->nb * sizeof(float));
				for (int th = 1; th <= 3; th++)
					free(Y[th]);
				wmat_free(&m);
				free(X);
				free(xe);
				free(scratch);
			}
		}
	}
	kern_set_variant(best_variant());
}

/* Several weights in one kern_matmul_n equal one kern_matmul each. */
static void
test_matmul_n_equals_separate_calls(void **state)
{
	enum { N = 256 };
	static const uint32_t types[3] = { QT_Q4_K, QT_Q6_K, QT_Q8_0 };
	static const size_t nbs[] = { 1, 5, 24 };
	struct kern_pool *p = kern_pool_new(2);
	void *scratch = malloc(kern_scratch_bytes(N, 24));
	float X[24 * N];

	(void)state;
	assert_int_equal(kern_pool_reserve(p, kern_thread_bytes(N, 64, 64)), 0);
	fill(X, 24 * N, 1.0f, 0.0f, 3);
	for (size_t bi = 0; bi < 3; bi++) {
		struct wmat m[3];
		struct kern_mat km[3];
		float *Y[3], *Z = malloc(24 * 40 * sizeof *Z);

		for (int i = 0; i < 3; i++) {
			wmat_make(&m[i], types[i], 20 + 10 * (size_t)i, N, 9 + i);
			Y[i] = malloc(24 * 40 * sizeof *Y[i]);
			km[i] = (struct kern_mat){ types[i], m[i].q, m[i].nrows,
			    Y[i] };
		}
		kern_matmul_n(p, km, 3, N, X, nbs[bi], scratch);
		for (int i = 0; i < 3; i++) {
			kern_matmul(p, types[i], m[i].q, m[i].nrows, N, X,
			    nbs[bi], Z, scratch);
			assert_memory_equal(Z, Y[i],
			    nbs[bi] * m[i].nrows * sizeof *Z);
			wmat_free(&m[i]);
			free(Y[i]);
		}
		free(Z);
	}
	free(scratch);
	kern_pool_free(p);
}

/* ---- attention ------------------------------------------------------------ */

struct att_case {
	uint32_t n_head, n_kv, hd, nb, pos;
	uint32_t window;	/* sliding window, 0: none */
};

/* kern_attention against a double-precision causal softmax attention
 * over the same f16 cache, for single tokens (the decode path) and
 * batches (the tile path), GQA groups of 1, 2 and 4. */
static void
test_attention_matches_double_reference(void **state)
{
	static const struct att_case cases[] = {
		{ 4, 4, 64, 1, 0, 0 }, { 4, 2, 64, 1, 50, 0 }, { 8, 2, 128, 1, 77, 0 },
		{ 4, 4, 64, 19, 0, 0 }, { 4, 2, 128, 24, 33, 0 }, { 8, 2, 64, 9, 70, 0 },
		{ 2, 1, 40, 5, 11, 0 }, { 6, 3, 32, 3, 0, 0 },
		/* decode with 3 and 5 heads per KV head: groups of up
		 * to four heads, the last one short */
		{ 6, 2, 64, 1, 40, 0 }, { 10, 2, 32, 1, 20, 0 }, { 10, 2, 32, 2, 9, 0 },
		/* prefill with several groups of query tiles sharing a
		 * conversion of K and V^T, the last group short */
		{ 4, 1, 32, 40, 10, 0 }, { 2, 2, 64, 70, 5, 0 },
		/* a head size that is no whole number of weight tiles */
		{ 4, 2, 6, 20, 3, 0 }, { 4, 2, 20, 1, 30, 0 },
		/* sliding windows: decode past and inside the window, a
		 * batch whose queries' windows start at different places
		 * (over tile groups), a window of one position */
		{ 4, 2, 64, 1, 50, 8 }, { 4, 2, 64, 1, 3, 8 },
		{ 4, 2, 64, 24, 10, 8 }, { 4, 1, 32, 40, 10, 5 },
		{ 2, 2, 64, 70, 5, 16 }, { 4, 2, 32, 9, 0, 1 },
		{ 6, 2, 64, 2, 40, 3 },
	};
	enum { NCTX = 96 };

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		if (kern_set_variant(variant_names[v]) != 0)
			continue;
		for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			const struct att_case *ac = &cases[c];
			size_t hd = ac->hd, qd = (size_t)ac->n_head * hd;
			size_t kvn = (size_t)ac->n_kv * NCTX * hd;
			uint16_t *K = malloc(kvn * 2), *Vt = malloc(kvn * 2);
			float *Q = malloc(ac->nb * qd * sizeof *Q);
			float *O = malloc(ac->nb * qd * sizeof *O);
			float *tmp = malloc(kvn * sizeof *tmp);
			struct kern_pool *p = kern_pool_new(2);
			struct kern_att a = { K, Vt, NCTX, Q, O, ac->n_head,
			    ac->n_kv, ac->hd, ac->nb, ac->pos,
			    1.0f / sqrtf((float)hd), ac->window, ATT_KV_F16,
			    NULL, NULL };

			assert_int_equal(kern_pool_reserve(p,
			    kern_thread_bytes(64, NCTX, hd)), 0);
			fill(tmp, kvn, 1.0f, 0.0f, 31 + c);
			for (size_t i = 0; i < kvn; i++)
				K[i] = quant_f32_to_f16(tmp[i]);
			fill(tmp, kvn, 1.0f, 0.1f, 41 + c);
			for (size_t i = 0; i < kvn; i++)
				Vt[i] = quant_f32_to_f16(tmp[i]);
			fill(Q, ac->nb * qd, 1.0f, 0.0f, 51 + c);
			assert_int_equal(kern_attention(p, &a), 0);
			for (uint32_t t = 0; t < ac->nb; t++) {
				for (uint32_t h = 0; h < ac->n_head; h++) {
					size_t kh = h / (ac->n_head / ac->n_kv);
					size_t np = ac->pos + t + 1;
					const float *q = Q + t * qd + h * hd;
					double sc[NCTX], mx = -1e300, sum = 0;
					size_t p0 = ac->window && np >
					    ac->window ? np - ac->window : 0;

					for (size_t pp = 0; pp < p0; pp++)
						sc[pp] = 0;	/* not seen */
					for (size_t pp = p0; pp < np; pp++) {
						double d = 0;

						for (size_t i = 0; i < hd; i++)
							d += q[i] * (double)
							    quant_f16_to_f32(K[(kh *
							    NCTX + pp) * hd + i]);
						sc[pp] = d / sqrt((double)hd);
						mx = sc[pp] > mx ? sc[pp] : mx;
					}
					for (size_t pp = p0; pp < np; pp++)
						sum += (sc[pp] = exp(sc[pp] - mx));
					for (size_t d = 0; d < hd; d++) {
						double o = 0, mag = 0;
						char what[96];

						for (size_t pp = 0; pp < np; pp++) {
							double vv = quant_f16_to_f32(
							    Vt[(kh * hd + d) *
							    NCTX + pp]);

							o += sc[pp] / sum * vv;
							mag += sc[pp] / sum *
							    fabs(vv);
						}
						snprintf(what, sizeof what,
						    "%s attention case %zu t=%u "
						    "h=%u d=%zu", variant_names[v],
						    c, t, h, d);
						check_close(what, O[t * qd + h * hd +
						    d], o, mag + 1e-6, 1e-5);
					}
				}
			}
			kern_pool_free(p);
			free(K);
			free(Vt);
			free(Q);
			free(O);
			free(tmp);
		}
	}
	kern_set_variant(best_variant());
}

/*
 * The decode scores of an f16 cache (att_impl.dec_qk_f16) of every
 * variant against a double dot: 1 to 4 queries (a GQA group's share of
 * a KV head), head sizes that are and are not multiples of 16 and 8,
 * position counts that end inside a group of rows; S's rows past np keep
 * what they had, and mx is each row's maximum.
 */
static void
test_decode_scores_match_double(void **state)
{
	static const size_t hds[] = { 64, 128, 40, 72, 24, 6 };
	static const size_t nps[] = { 1, 3, 5, 16, 17, 70 };
	enum { SST = 80 };
	const float canary = 1234.5f;

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		const struct att_impl *a;

		if (!kern_variant_ok(variant_names[v]))
			continue;
		a = att_impl_for(variant_names[v]);
		assert_non_null(a->dec_qk_f16);
		for (size_t h = 0; h < sizeof hds / sizeof hds[0]; h++)
		for (size_t c = 0; c < sizeof nps / sizeof nps[0]; c++)
		for (size_t nq = 1; nq <= 4; nq++) {
			size_t hd = hds[h], np = nps[c];
			uint16_t *K = malloc(np * hd * sizeof *K);
			float *tmp = malloc(np * hd * sizeof *tmp);
			float q[4 * 128], S[4 * SST], mx[4];

			fill(tmp, np * hd, 1.0f, 0.0f, 61 + 7 * h + c);
			for (size_t i = 0; i < np * hd; i++)
				K[i] = quant_f32_to_f16(tmp[i]);
			fill(q, nq * hd, 0.5f, 0.0f, 71 + nq);
			for (size_t i = 0; i < 4 * SST; i++)
				S[i] = canary;
			a->dec_qk_f16(K, np, hd, q, nq, S, SST, mx);
			for (size_t g = 0; g < nq; g++) {
				double best = -INFINITY;

				for (size_t p = 0; p < np; p++) {
					double d = 0, mag = 0;
					char what[96];

					for (size_t i = 0; i < hd; i++) {
						double t = (double)q[g * hd +
						    i] * quant_f16_to_f32(
						    K[p * hd + i]);

						d += t;
						mag += fabs(t);
					}
					snprintf(what, sizeof what, "%s scores "
					    "hd=%zu np=%zu nq=%zu g=%zu p=%zu",
					    a->name, hd, np, nq, g, p);
					check_close(what, S[g * SST + p], d,
					    mag + 1e-6, 1e-5);
					best = S[g * SST + p] > best ?
					    S[g * SST + p] : best;
				}
				if (mx[g] != (float)best)
					fail_msg("%s scores hd=%zu np=%zu nq=%zu: "
					    "max %g, want %g", a->name, hd, np,
					    nq, mx[g], best);
				for (size_t p = np; p < SST; p++)
					if (S[g * SST + p] != canary)
						fail_msg("%s scores hd=%zu np=%zu "
						    "nq=%zu: wrote S[%zu][%zu]",
						    a->name, hd, np, nq, g, p);
			}
			for (size_t i = nq * SST; i < 4 * SST; i++)
				if (S[i] != canary)
					fail_msg("%s scores hd=%zu np=%zu nq=%zu: "
					    "wrote row %zu", a->name, hd, np,
					    nq, i / SST);
			free(K);
			free(tmp);
		}
	}
}

/*
 * Decode deep in a context (issue 17): one token at position 2,048 of
 * an f16 cache, GQA ratios 1, 4 and 8, head sizes 64, 40 and 72, every
 * variant, against the double attention over the values the cache
 * holds.  A wrong position, query or order of the sums anywhere in the
 * 2,049 shows in the weighted sum.
 */
static void
test_decode_attention_deep_matches_double(void **state)
{
	static const struct att_case cases[] = {
		{ 4, 4, 64, 1, 2048, 0 }, { 8, 2, 64, 1, 2048, 0 },
		{ 16, 2, 64, 1, 2048, 0 }, { 8, 2, 40, 1, 2048, 0 },
		{ 8, 1, 72, 1, 2047, 0 }, { 4, 4, 40, 1, 2045, 0 },
	};
	enum { NCTX = 2060 };

	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		if (kern_set_variant(variant_names[v]) != 0)
			continue;
		for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			const struct att_case *ac = &cases[c];
			size_t hd = ac->hd, qd = (size_t)ac->n_head * hd;
			size_t kvn = (size_t)ac->n_kv * NCTX * hd;
			size_t np = ac->pos + 1;
			uint16_t *K = malloc(kvn * 2), *Vt = malloc(kvn * 2);
			float *Q = malloc(qd * sizeof *Q);
			float *O = malloc(qd * sizeof *O);
			float *tmp = malloc(kvn * sizeof *tmp);
			double *sc = malloc(np * sizeof *sc);
			struct kern_pool *p = kern_pool_new(2);
			struct kern_att a = { K, Vt, NCTX, Q, O, ac->n_head,
			    ac->n_kv, ac->hd, 1, ac->pos,
			    1.0f / sqrtf((float)hd), 0, ATT_KV_F16, NULL,
			    NULL };

			assert_int_equal(kern_pool_reserve(p,
			    kern_thread_bytes(64, NCTX, hd)), 0);
			fill(tmp, kvn, 1.0f, 0.0f, 131 + c);
			for (size_t i = 0; i < kvn; i++)
				K[i] = quant_f32_to_f16(tmp[i]);
			fill(tmp, kvn, 1.0f, 0.1f, 141 + c);
			for (size_t i = 0; i < kvn; i++)
				Vt[i] = quant_f32_to_f16(tmp[i]);
			/* large queries: a peaked softmax, so one wrong
			 * score moves the output */
			fill(Q, qd, 3.0f, 0.0f, 151 + c);
			assert_int_equal(kern_attention(p, &a), 0);
			for (uint32_t h = 0; h < ac->n_head; h++) {
				size_t kh = h / (ac->n_head / ac->n_kv);
				const float *q = Q + h * hd;
				double mx = -1e300, sum = 0;

				for (size_t pp = 0; pp < np; pp++) {
					double d = 0;

					for (size_t i = 0; i < hd; i++)
						d += q[i] * (double)
						    quant_f16_to_f32(K[(kh *
						    NCTX + pp) * hd + i]);
					sc[pp] = d / sqrt((double)hd);
					mx = sc[pp] > mx ? sc[pp] : mx;
				}
				for (size_t pp = 0; pp < np; pp++)
					sum += (sc[pp] = exp(sc[pp] - mx));
				for (size_t d = 0; d < hd; d++) {
					double o = 0, mag = 0;
					char what[96];

					for (size_t pp = 0; pp < np; pp++) {
						double vv = quant_f16_to_f32(
						    Vt[(kh * hd + d) * NCTX +
						    pp]);

						o += sc[pp] / sum * vv;
						mag += sc[pp] / sum * fabs(vv);
					}
					snprintf(what, sizeof what, "%s deep "
					    "attention case %zu h=%u d=%zu",
					    variant_names[v], c, h, d);
					check_close(what, O[h * hd + d], o,
					    mag + 1e-6, 1e-4);
				}
			}
			kern_pool_free(p);
			free(K);
			free(Vt);
			free(Q);
			free(O);
			free(tmp);
			free(sc);
		}
	}
	kern_set_variant(best_variant());
}

static void
test_attention_refuses_without_scratch_or_bad_shape(void **state)
{
	uint16_t kv[64] = { 0 };
	float q[16] = { 0 }, o[16];
	struct kern_att a = { kv, kv, 4, q, o, 2, 2, 8, 1, 0, 1.0f, 0,
	    ATT_KV_F16, NULL, NULL };
	struct kern_pool *p = kern_pool_new(1);

	(void)state;
	assert_int_equal(kern_attention(p, &a), -1);	/* no scratch */
	assert_int_equal(kern_pool_reserve(p, kern_thread_bytes(8, 4, 8)), 0);
	assert_int_equal(kern_attention(p, &a), 0);
	a.pos = 4;	/* past the context */
	assert_int_equal(kern_attention(p, &a), -1);
	a.pos = 0;
	a.n_kv = 3;	/* 2 heads cannot share 3 KV heads */
	assert_int_equal(kern_attention(p, &a), -1);
	kern_pool_free(p);
}

static void
test_scratch_bytes_cover_both_formats_and_saturate(void **state)
{
	(void)state;
	assert_true(kern_scratch_bytes(4096, 3) >= 3 * 4096 * sizeof(float));
	assert_true(kern_scratch_bytes(4096, 3) >=
	    3 * 128 * sizeof(struct qa_block));
	assert_int_equal(kern_scratch_bytes(SIZE_MAX / 2, 16), SIZE_MAX);
}

/* ---- thread pool --------------------------------------------------------- */

struct count_arg {
	atomic_int	*hits;
	atomic_long	 sum;
};

static void
count_fn(void *v, size_t i)
{
	struct count_arg *c = v;

	atomic_fetch_add(&c->hits[i], 1);
	atomic_fetch_add(&c->sum, (long)i);
}

static void
test_parallel_runs_each_index_exactly_once(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 5, 64, 1001 };

	(void)state;
	for (int th = 1; th <= 4; th++) {
		struct kern_pool *p = kern_pool_new(th);

		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			size_t n = sizes[s];
			struct count_arg c;

			c.hits = calloc(n + 1, sizeof *c.hits);
			atomic_init(&c.sum, 0);
			kern_parallel(p, n, count_fn, &c);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(atomic_load(&c.hits[i]), 1);
			assert_int_equal(atomic_load(&c.sum),
			    (long)(n * (n ? n - 1 : 0) / 2));
			free(c.hits);
		}
		kern_pool_free(p);
	}
	kern_pool_free(NULL);
	assert_int_equal(kern_pool_threads(NULL), 1);
}

/* Many back-to-back jobs: a lost wake-up or a worker running a stale job
 * shows up as a wrong count or a hang. */
static void
test_parallel_survives_many_quick_jobs(void **state)
{
	struct kern_pool *p = kern_pool_new(3);
	atomic_int hits[8];
	struct count_arg c = { hits, 0 };

	(void)state;
	for (int i = 0; i < 8; i++)
		atomic_init(&hits[i], 0);
	for (int job = 0; job < 20000; job++)
		kern_parallel(p, 1 + job % 8, count_fn, &c);
	long total = 0;
	for (int i = 0; i < 8; i++)
		total += atomic_load(&hits[i]);
	assert_int_equal(total, 20000 / 8 * (1 + 8) * 8 / 2);
	kern_pool_free(p);
}

static void
test_pool_create_and_free_repeatedly(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		struct kern_pool *p = kern_pool_new(1 + i % 4);
		struct count_arg c;
		atomic_int hits[3] = { 0 };

		assert_non_null(p);
		c.hits = hits;
		atomic_init(&c.sum, 0);
		if (i % 2)	/* half of them never get a job */
			kern_parallel(p, 3, count_fn, &c);
		kern_pool_free(p);
	}
	/* absurd sizes are clamped, not trusted */
	struct kern_pool *p = kern_pool_new(-5);
	assert_int_equal(kern_pool_threads(p), 1);
	kern_pool_free(p);
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * An idle pool costs no CPU: after a burst of jobs its threads spin for
 * a few tens of microseconds at most, then sleep until the next job.
 * (Between tokens the UI thread and the sampler need the cores.)  Over
 * 300 ms of idleness the whole process may use 15 ms of CPU: a pool that
 * kept polling would use 300 ms per worker.
 */
static void
test_pool_idle_costs_no_cpu(void **state)
{
	struct kern_pool *p = kern_pool_new(3);
	atomic_int hits[8];
	struct count_arg c = { hits, 0 };
	struct timespec nap = { 0, 300 * 1000 * 1000 };
	double t0, used;

	(void)state;
	for (int i = 0; i < 8; i++)
		atomic_init(&hits[i], 0);
	for (int job = 0; job < 1000; job++)
		kern_parallel(p, 8, count_fn, &c);
	t0 = cpu_seconds();
	nanosleep(&nap, NULL);
	used = cpu_seconds() - t0;
	print_message("idle pool of 3 threads: %.2f ms of CPU in 300 ms\n",
	    used * 1e3);
	assert_true(used < 0.015);
	/* and it still works after sleeping */
	kern_parallel(p, 8, count_fn, &c);
	assert_int_equal(atomic_load(&hits[7]), 1001);
	kern_pool_free(p);
}

/* ---- dispatch ------------------------------------------------------------ */

static void
test_variant_is_the_best_the_cpu_has(void **state)
{
	(void)state;
	if (getenv("TRIAGE_KERN") != NULL)
		skip();
	assert_string_equal(kern_variant(), best_variant());
	assert_int_equal(kern_set_variant("nonsense"), -1);
	assert_int_equal(kern_set_variant(NULL), -1);
	assert_true(kern_variant_ok("scalar"));
}

/* TRIAGE_KERN is read once at start-up, so it is checked in a child. */
static void
test_variant_env_override(void **state)
{
	static const struct {
		const char *env, *want;
	} cases[] = {
		{ "scalar", "scalar" },
		{ "avx2", "avx2" },
		{ "vnni", "vnni" },	/* the best VNNI variant */
		{ "bogus", NULL },	/* ignored: the CPU's best */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int fd[2], status;
		char buf[32] = { 0 };
		const char *want = cases[i].want;
		pid_t pid;

		if (want != NULL && strcmp(want, "vnni") == 0)
			want = kern_variant_ok("avx512-vnni") ? "avx512-vnni" :
			    kern_variant_ok("avx2-vnni") ? "avx2-vnni" : NULL;
		else if (want != NULL && !kern_variant_ok(want))
			want = NULL;	/* unavailable: ignored too */

		assert_int_equal(pipe(fd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			dup2(fd[1], 1);
			setenv("TRIAGE_KERN", cases[i].env, 1);
			execl("/proc/self/exe", "test-kern", "--print-variant",
			    (char *)NULL);
			_exit(127);
		}
		close(fd[1]);
		ssize_t got = read(fd[0], buf, sizeof buf - 1);
		close(fd[0]);
		waitpid(pid, &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_true(got > 0);
		assert_string_equal(buf, want ? want : best_variant());
	}
}

/* ---- benchmark (TRIAGE_BENCH=1) ------------------------------------------ */

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Time kern_matmul of an R x N weight against nb activation rows: the
 * best of several 50 ms rounds, since the machine may be shared. */
static void
bench_one(const struct wmat *m, size_t nb, const float *X, float *Y,
    void *scratch, const char *variant)
{
	/* one thread with tile scratch: batches take the tile kernels */
	struct kern_pool *p = kern_pool_new(1);
	double best = 1e30;

	assert_int_equal(kern_pool_reserve(p, kern_thread_bytes(m->n, 64,
	    64)), 0);
	kern_matmul(p, m->type, m->q, m->nrows, m->n, X, nb, Y, scratch);
	for (int round = 0; round < 10; round++) {
		int reps = 0;
		double t0 = now_sec(), dt;

		do {
			kern_matmul(p, m->type, m->q, m->nrows, m->n, X, nb,
			    Y, scratch);
			reps++;
		} while ((dt = now_sec() - t0) < 0.05);
		if (dt / reps < best)
			best = dt / reps;
	}
	print_message("%-5s %-11s %zux%zu nb=%-3zu 1 thread: %9.1f us, "
	    "%6.2f GFLOP/s\n", quant_info(m->type)->name, variant, m->nrows,
	    m->n, nb, best * 1e6, 2.0 * m->nrows * m->n * nb / best * 1e-9);
	kern_pool_free(p);
}

static void
test_bench_matvec_2048(void **state)
{
	enum { R = 2048, N = 2048, NB = 24 };
	static const uint32_t types[] = { QT_Q4_K, QT_Q8_0, QT_Q5_K, QT_Q6_K,
	    QT_Q4_0, QT_F32, QT_F16, QT_Q2_K, QT_Q3_K, QT_IQ4_NL, QT_IQ4_XS,
	    QT_MXFP4 };
	float *X, *Y;
	void *scratch;

	(void)state;
	if (getenv("TRIAGE_BENCH") == NULL)
		skip();
	X = malloc(N * NB * sizeof *X);
	Y = malloc(R * NB * sizeof *Y);
	scratch = malloc(kern_scratch_bytes(N, NB));
	fill(X, N * NB, 1.0f, 0.0f, 1);
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		struct wmat m;

		wmat_make(&m, types[t], R, N, 9);
		for (size_t v = 0; v < NVARIANTS; v++) {
			if (kern_set_variant(variant_names[v]) != 0)
				continue;
			bench_one(&m, 1, X, Y, scratch, variant_names[v]);
			bench_one(&m, NB, X, Y, scratch, variant_names[v]);
		}
		wmat_free(&m);
	}
	kern_set_variant(best_variant());
	free(X);
	free(Y);
	free(scratch);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variant_is_the_best_the_cpu_has),
		cmocka_unit_test(test_variant_env_override),
		cmocka_unit_test(test_kernels_match_reference_for_every_type),
		cmocka_unit_test(test_tiled_kernels_equal_single_row_bitwise),
		cmocka_unit_test(test_row_group_kernels_equal_single_dots_bitwise),
		cmocka_unit_test(test_matmul_batch_equals_row_by_row),
		cmocka_unit_test(test_float_kernels_handle_odd_lengths),
		cmocka_unit_test(test_dotn_f16_matches_double),
		cmocka_unit_test(test_sumsq_matches_double),
		cmocka_unit_test(test_kernels_exact_on_extreme_quants),
		cmocka_unit_test(test_matmul_matches_double_reference),
		cmocka_unit_test(test_matmul_accepts_unaligned_weights),
		cmocka_unit_test(test_matmul_unsupported_type_or_length_gives_nan),
		cmocka_unit_test(test_act_q8_bit_exact_every_variant),
		cmocka_unit_test(test_tile_decoders_reproduce_dequant),
		cmocka_unit_test(test_gemm_q8_matches_reference),
		cmocka_unit_test(test_gemm_f32_matches_double),
		cmocka_unit_test(test_vector_math_matches_libm),
		cmocka_unit_test(test_matmul_tiles_match_double_reference),
		cmocka_unit_test(test_matmul_n_equals_separate_calls),
		cmocka_unit_test(test_attention_matches_double_reference),
		cmocka_unit_test(test_decode_scores_match_double),
		cmocka_unit_test(test_decode_attention_deep_matches_double),
		cmocka_unit_test(test_attention_refuses_without_scratch_or_bad_shape),
		cmocka_unit_test(test_scratch_bytes_cover_both_formats_and_saturate),
		cmocka_unit_test(test_parallel_runs_each_index_exactly_once),
		cmocka_unit_test(test_parallel_survives_many_quick_jobs),
		cmocka_unit_test(test_pool_create_and_free_repeatedly),
		cmocka_unit_test(test_pool_idle_costs_no_cpu),
		cmocka_unit_test(test_bench_matvec_2048),
	};

	if (argc == 2 && strcmp(argv[1], "--print-variant") == 0) {
		fputs(kern_variant(), stdout);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
