/*
 * kern-avx512.c - AVX-512 (F, BW, DQ, VL) kernels: two 32-value blocks
 * per 512-bit operation for decoding, 16-token tiles for prefill.
 * Compiled with the AVX-512 flags of the Makefile and only called after
 * kern.c has seen them in cpuid.  Types without a decode kernel here
 * (Q4_1, Q5_0, Q5_1) use the AVX2 ones; weight tiles are decoded by the
 * AVX2 code (kern-avx2.c), which every AVX-512 CPU runs.
 *
 * This file is compiled twice: as itself, and included by
 * kern-avx512-vnni.c with KERN_VNNI set, where every 8-bit dot product is
 * one VPDPBUSD instead of the VPMADDUBSW + VPMADDWD + VPADDD sequence.
 * Apart from that one helper the two variants are the same code.
 *
 * The decode kernels follow kern-avx2.c: each body runs over `nr`
 * activation rows and is instantiated for 1 and KERN_TILE rows, with
 * identical per-row arithmetic, so batches match single rows bit for bit.
 * Without VNNI the int8 dot is maddubs + madd, with the weight's sign
 * moved onto the activation by a masked negation.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kern.h"
#include "quant.h"
#include "vexp-avx512.h"

#ifndef KERN_VNNI
#define KERN_VNNI	0
#endif

#if KERN_VNNI
#define KERN_NAME	kern_impl_avx512_vnni
#define KERN_LABEL	"avx512-vnni"
#define KERN_FALLBACK	kern_impl_avx512
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__)
#define KERN_BUILT	1
#endif
#else
#define KERN_NAME	kern_impl_avx512
#define KERN_LABEL	"avx512"
#define KERN_FALLBACK	kern_impl_avx2
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__)
#define KERN_BUILT	1
#endif
#endif

#ifdef KERN_BUILT
#include <immintrin.h>

#define INLINE	static inline __attribute__((always_inline))

/* ---- helpers ------------------------------------------------------------- */

static inline float
hsum512(__m512 v)
{
	__m256 s = _mm256_add_ps(_mm512_castps512_ps256(v),
	    _mm512_extractf32x8_ps(v, 1));
	__m128 t = _mm_add_ps(_mm256_castps256_ps128(s),
	    _mm256_extractf128_ps(s, 1));

	t = _mm_add_ps(t, _mm_movehl_ps(t, t));
	t = _mm_add_ss(t, _mm_movehdup_ps(t));
	return _mm_cvtss_f32(t);
}

/*
 * acc + 16 int32 lanes, each the sum of 4 products u[i] * s[i] (u
 * unsigned).  Without VNNI the products are first summed in pairs to
 * int16, which saturates unless |u[i] * s[i] + u[i+1] * s[i+1]| <= 32767:
 * every caller keeps u <= 128 there (and s is never -128).
 */
static inline __m512i
dpbusd(__m512i acc, __m512i u, __m512i s)
{
#if KERN_VNNI
	return _mm512_dpbusd_epi32(acc, u, s);
#else
	return _mm512_add_epi32(acc, _mm512_madd_epi16(
	    _mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

/* 16 int32 lanes, each the sum of 4 products u[i] * s[i] (u unsigned). */
static inline __m512i
dot_u8_i8(__m512i u, __m512i s)
{
	return dpbusd(_mm512_setzero_si512(), u, s);
}

/* s with the sign of w applied (w == 0 gives s, harmless: |w| is 0). */
static inline __m512i
sign_of(__m512i s, __m512i w)
{
	__mmask64 neg = _mm512_movepi8_mask(w);

	return _mm512_mask_sub_epi8(s, neg, _mm512_setzero_si512(), s);
}

/* Signed w (|w| <= 128) times activations (never -128). */
static inline __m512i
dot_i8_i8(__m512i w, __m512i a)
{
	return dot_u8_i8(_mm512_abs_epi8(w), sign_of(a, w));
}

static inline __m256i
load32(const void *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

static inline __m512i
join(__m256i lo, __m256i hi)
{
	return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* The quants of two consecutive activation blocks. */
static inline __m512i
act2(const struct qa_block *a)
{
	return join(load32(a[0].q), load32(a[1].q));
}

/* acc += [s0 x 8, s1 x 8] * (float)ints */
static inline __m512
fma2_i32(__m512 acc, float s0, float s1, __m512i ints)
{
	__m512 s = _mm512_insertf32x8(_mm512_set1_ps(s0), _mm256_set1_ps(s1),
	    1);

	return _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(ints), acc);
}

/* A little-endian f16 at any address, by F16C (exact, like quant.c). */
static inline float
f16(const uint8_t *p)
{
	uint16_t h;

	memcpy(&h, p, sizeof h);
	return _cvtsh_ss(h);
}

/* ---- float types -------------------------------------------------------- */

static inline __m512
load_f32x16(const uint8_t *p)
{
	return _mm512_loadu_ps((const void *)p);
}

static inline __m512
load_f16x16(const uint8_t *p)
{
	return _mm512_cvtph_ps(load32(p));
}

static inline __m512
load_bf16x16(const uint8_t *p)
{
	return _mm512_castsi512_ps(_mm512_slli_epi32(
	    _mm512_cvtepu16_epi32(load32(p)), 16));
}

static inline float
scalar_f32(const uint8_t *p)
{
	float f;

	memcpy(&f, p, sizeof f);
	return f;
}

static inline float
scalar_f16(const uint8_t *p)
{
	return f16(p);
}

static inline float
scalar_bf16(const uint8_t *p)
{
	return quant_bf16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

#define FLOAT_ROWS(NAME, ESIZE, LOAD, SCALAR)				\
INLINE void								\
NAME(const uint8_t *w, const float *x, size_t stride, size_t n, int nr,\
    float *out)								\
{									\
	__m512 a0[KERN_TILE], a1[KERN_TILE];				\
	size_t i = 0;							\
									\
	_Pragma("GCC unroll 16")					\
	for (int r = 0; r < nr; r++)					\
		a0[r] = a1[r] = _mm512_setzero_ps();			\
	for (; i + 32 <= n; i += 32) {					\
		__m512 w0 = LOAD(w + ESIZE * i);			\
		__m512 w1 = LOAD(w + ESIZE * (i + 16));			\
		_Pragma("GCC unroll 16")					\
		for (int r = 0; r < nr; r++) {				\
			const float *xr = x + r * stride + i;		\
			a0[r] = _mm512_fmadd_ps(w0,			\
			    _mm512_loadu_ps(xr), a0[r]);		\
			a1[r] = _mm512_fmadd_ps(w1,			\
			    _mm512_loadu_ps(xr + 16), a1[r]);		\
		}							\
	}								\
	_Pragma("GCC unroll 16")					\
	for (int r = 0; r < nr; r++) {					\
		float acc = hsum512(_mm512_add_ps(a0[r], a1[r]));	\
		for (size_t k = i; k < n; k++)				\
			acc += SCALAR(w + ESIZE * k) * x[r * stride + k]; \
		out[r] = acc;						\
	}								\
}
FLOAT_ROWS(f32_rows, 4, load_f32x16, scalar_f32)
FLOAT_ROWS(f16_rows, 2, load_f16x16, scalar_f16)
FLOAT_ROWS(bf16_rows, 2, load_bf16x16, scalar_bf16)

/* The sums of four vectors: [sum a, sum b, sum c, sum d] (a transpose
 * by unpacks, about the cost of one reduction). */
static inline __m128
hsum4x512(__m512 a, __m512 b, __m512 c, __m512 d)
{
	/* per 128-bit lane: [a b c d] partial sums */
	__m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b),
	    _mm512_unpackhi_ps(a, b));
	__m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d),
	    _mm512_unpackhi_ps(c, d));
	__m512 t = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(
	    _mm512_castps_pd(ab), _mm512_castps_pd(cd))),
	    _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab),
	    _mm512_castps_pd(cd))));
	__m256 h = _mm256_add_ps(_mm512_castps512_ps256(t),
	    _mm512_extractf32x8_ps(t, 1));

	return _mm_add_ps(_mm256_castps256_ps128(h),
	    _mm256_extractf128_ps(h, 1));
}

/*
 * R f16 rows at a time against NX vectors (R * NX = 4, 8 or 16 sums in
 * flight): each row load serves every vector, each vector load every
 * row, and the sums are reduced four at a time.  A ragged end of n is
 * read with masked loads, so rows of any length never touch memory past
 * their end.  Missing rows or vectors repeat the first; their sums are
 * dropped.
 * The loops over R and NX are unrolled by pragma: at -O2 GCC kept acc[]
 * in memory, a load and a store around every multiply-add (the decode
 * attention at 2,048 positions ran 2.3x slower).
 */
INLINE void
dotn_body(const uint16_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride,
    const int R, const int NX)
{
	size_t tail = n % 16;
	__mmask16 tm = (__mmask16)((1u << tail) - 1);
	const float *xs[4];

	_Pragma("GCC unroll 8")
	for (int g = 0; g < NX; g++)
		xs[g] = x + ((size_t)g < nx ? (size_t)g : 0) * xstride;
	for (size_t r = 0; r < nw; r += (size_t)R) {
		size_t nr = nw - r < (size_t)R ? nw - r : (size_t)R, i = 0;
		const uint16_t *wr[4];
		__m512 acc[16];
		float o[16];

		_Pragma("GCC unroll 8")
		for (int k = 0; k < R; k++)
			wr[k] = w + (r + ((size_t)k < nr ? (size_t)k : 0)) *
			    wstride;
		_Pragma("GCC unroll 16")
		for (int k = 0; k < R * NX; k++)
			acc[k] = _mm512_setzero_ps();
		for (; i + 16 <= n; i += 16) {
			__m512 xv[4];

			_Pragma("GCC unroll 8")
			for (int g = 0; g < NX; g++)
				xv[g] = _mm512_loadu_ps(xs[g] + i);
			_Pragma("GCC unroll 8")
			for (int k = 0; k < R; k++) {
				__m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256(
				    (const __m256i *)(const void *)(wr[k] + i)));

				_Pragma("GCC unroll 8")
				for (int g = 0; g < NX; g++)
					acc[k * NX + g] = _mm512_fmadd_ps(wv,
					    xv[g], acc[k * NX + g]);
			}
		}
		if (tail != 0) {
			__m512 xv[4];

			_Pragma("GCC unroll 8")
			for (int g = 0; g < NX; g++)
				xv[g] = _mm512_maskz_loadu_ps(tm, xs[g] + i);
			_Pragma("GCC unroll 8")
			for (int k = 0; k < R; k++) {
				__m512 wv = _mm512_cvtph_ps(
				    _mm256_maskz_loadu_epi16(tm, wr[k] + i));

				_Pragma("GCC unroll 8")
				for (int g = 0; g < NX; g++)
					acc[k * NX + g] = _mm512_fmadd_ps(wv,
					    xv[g], acc[k * NX + g]);
			}
		}
		_Pragma("GCC unroll 16")
		for (int k = 0; k < R * NX; k += 4)
			_mm_storeu_ps(o + k, hsum4x512(acc[k], acc[k + 1],
			    acc[k + 2], acc[k + 3]));
		for (size_t k = 0; k < nr; k++)
			for (size_t g = 0; g < nx; g++)
				out[g * ostride + r + k] = o[k * NX + g];
	}
}

static void
dotn_f16(const uint16_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride)
{
	/* constant shapes, so each compiles to its own unrolled loop */
	if (nx == 1)
		dotn_body(w, wstride, nw, x, xstride, nx, n, out, ostride,
		    4, 1);
	else if (nx == 2)
		dotn_body(w, wstride, nw, x, xstride, nx, n, out, ostride,
		    4, 2);
	else	/* 16 sums: 4 loads of the vectors for 16 multiply-adds */
		dotn_body(w, wstride, nw, x, xstride, nx, n, out, ostride,
		    4, 4);
}

/* Sixteen floats a step, squared and summed in double (a float's square
 * is exact in double, so only the order of the sums differs from the
 * scalar loop). */
static double
sumsq(const float *x, size_t n)
{
	__m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
	size_t i = 0;
	double s;

	for (; i + 16 <= n; i += 16) {
		__m512d lo = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
		__m512d hi = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8));

		a0 = _mm512_fmadd_pd(lo, lo, a0);
		a1 = _mm512_fmadd_pd(hi, hi, a1);
	}
	s = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}

/* ---- 32-element blocks: Q8_0 and Q4_0 ----------------------------------- */

#define Q4_0_SIZE	18	/* d, qs[16] */
#define Q8_0_SIZE	34	/* d, qs[32] */

static inline __m256i
nibbles16(const uint8_t *p)
{
	__m128i t = _mm_loadu_si128((const __m128i *)p);
	__m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);

	return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/*
 * The decode kernels below are written once over nw weight rows
 * (wstride bytes apart) and na activation rows (stride blocks apart),
 * out[wr * na + ra], and instantiated for (1, 1), (1, KERN_TILE) and
 * (KERN_TILE, 1).  Every (weight row, activation row) pair goes through
 * the same operations in the same order in all three, so batches and
 * groups of rows give bit-identical results to one dot at a time.
 * Several weight rows per call share the activation loads and gathers,
 * and give the out-of-order core independent chains to overlap.
 */
#define MAXW	KERN_TILE	/* nw * na <= KERN_TILE */

static inline __m512i
iota16(int step)
{
	return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7,
	    8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(step));
}

/* Lanes 0-7 take element i, lanes 8-15 element j of a 16-float vector. */
static inline __m512
pick2x(__m512 v, int i, int j)
{
	__m512i idx = _mm512_inserti64x4(
	    _mm512_castsi256_si512(_mm256_set1_epi32(i)),
	    _mm256_set1_epi32(j), 1);

	return _mm512_permutexvar_ps(idx, v);
}

/* The signed quants of two consecutive Q8_0 (four = 0) or Q4_0 blocks. */
static inline __m512i
small_pair(int four, const uint8_t *b, size_t bs)
{
	if (four)
		return _mm512_sub_epi8(join(nibbles16(b + 2),
		    nibbles16(b + bs + 2)), _mm512_set1_epi8(8));
	return join(load32(b + 2), load32(b + bs + 2));
}

/*
 * Q4_0's quants plus the bias of 8 that makes them unsigned, as the
 * integer dot wants them: the nibbles as they are.  The bias comes off
 * again in the integer sums (small_bias, once per activation row for all
 * weight rows), so every dot is the same integer as with signed quants,
 * without the subtraction, abs, sign mask and masked negation per weight
 * register.  (Q8_0 the same way, its bytes XOR 0x80 against VNNI, cut
 * its instructions per byte 0.272 -> 0.198 but ran 1.3 % slower in cache
 * on a Zen 5 EPYC: the vector ports, not the instruction count, bound
 * it; it stays signed.)
 */
#define SMALL_UNSIGNED(four)	(four)

static inline __m512i
small_upair(const uint8_t *b, size_t bs)
{
	return join(nibbles16(b + 2), nibbles16(b + bs + 2));
}

/* -8 * (the sum of each 4 activations of x), per int32 lane. */
static inline __m512i
small_bias(__m512i x)
{
	return _mm512_sub_epi32(_mm512_setzero_si512(), dot_u8_i8(
	    _mm512_set1_epi8(8), x));
}

/*
 * Q8_0 and Q4_0: sixteen blocks per step.  Their weight scales come in
 * by one gather (the f16 at the start of each block), the activation
 * scales by another; per pair of blocks one integer dot, and one FMA
 * with the two products of scales picked out of a vector.  A last odd
 * group of blocks goes two at a time with scalar scales.
 */
INLINE void
small_rows(int four, const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const size_t bs = four ? Q4_0_SIZE : Q8_0_SIZE;
	const size_t nblk = n / 32;
	__m512 acc[MAXW];
	size_t i = 0;

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = _mm512_setzero_ps();
	for (; i + 16 <= nblk; i += 16) {
		__m512 da[MAXW];

		__m512i bias[SMALL_UNSIGNED(four) ? MAXW : 1][8];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++) {
			da[ra] = _mm512_i32gather_ps(iota16(10),
			    &a[ra * stride + i].d, 4);
			if (!SMALL_UNSIGNED(four))
				continue;
			_Pragma("GCC unroll 16")
			for (int p = 0; p < 8; p++)
				bias[ra][p] = small_bias(act2(a +
				    ra * stride + i + 2 * p));
		}
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * bs;
			_Pragma("GCC unroll 16")
			for (size_t o = 0; o < 16 * bs; o += 64)
				__builtin_prefetch(b + KERN_PREFETCH + o, 0, 3);
			__m512 wd = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(
			    _mm512_i32gather_epi32(iota16((int)bs), b, 1)));
			__m512 sc[MAXW];

			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++)
				sc[ra] = _mm512_mul_ps(wd, da[ra]);
			if (SMALL_UNSIGNED(four)) {
				_Pragma("GCC unroll 16")
				for (int p = 0; p < 8; p++) {
					__m512i u = small_upair(
					    b + 2 * p * bs, bs);

					_Pragma("GCC unroll 16")
					for (int ra = 0; ra < na; ra++) {
						__m512i dp = dpbusd(
						    bias[ra][p], u, act2(a +
						    ra * stride + i + 2 * p));

						acc[wr * na + ra] =
						    _mm512_fmadd_ps(pick2x(
						    sc[ra], 2 * p, 2 * p + 1),
						    _mm512_cvtepi32_ps(dp),
						    acc[wr * na + ra]);
					}
				}
				continue;
			}
			_Pragma("GCC unroll 16")
			for (int p = 0; p < 8; p++) {
				__m512i q = small_pair(four, b + 2 * p * bs, bs);
				__m512i aq = _mm512_abs_epi8(q);
				__mmask64 ng = _mm512_movepi8_mask(q);

				_Pragma("GCC unroll 16")
				for (int ra = 0; ra < na; ra++) {
					__m512i x = act2(a + ra * stride + i +
					    2 * p);
					__m512i dp = dot_u8_i8(aq,
					    _mm512_mask_sub_epi8(x, ng,
					    _mm512_setzero_si512(), x));

					acc[wr * na + ra] = _mm512_fmadd_ps(
					    pick2x(sc[ra], 2 * p, 2 * p + 1),
					    _mm512_cvtepi32_ps(dp),
					    acc[wr * na + ra]);
				}
			}
		}
	}
	for (; i < nblk; i += 2) {
		int two = i + 1 < nblk;

		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * bs;
			float d0 = f16(b), d1 = two ? f16(b + bs) : 0.0f;
			__m256i q0, q1 = _mm256_setzero_si256();
			__m512i q;

			if (four) {
				q0 = _mm256_sub_epi8(nibbles16(b + 2),
				    _mm256_set1_epi8(8));
				if (two)
					q1 = _mm256_sub_epi8(nibbles16(b + bs +
					    2), _mm256_set1_epi8(8));
			} else {
				q0 = load32(b + 2);
				if (two)
					q1 = load32(b + bs + 2);
			}
			q = join(q0, q1);
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				const struct qa_block *ar = a + ra * stride + i;
				__m512i aq = join(load32(ar[0].q), two ?
				    load32(ar[1].q) : _mm256_setzero_si256());

				acc[wr * na + ra] = fma2_i32(acc[wr * na + ra],
				    d0 * ar[0].d, two ? d1 * ar[1].d : 0.0f,
				    dot_i8_i8(q, aq));
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum512(acc[k]);
}

/* ---- K-quants ------------------------------------------------------------ */

#define Q4_K_SIZE	144	/* d, dmin, scales[12], qs[128] */
#define Q5_K_SIZE	176	/* d, dmin, scales[12], qh[32], qs[128] */
#define Q6_K_SIZE	210	/* ql[128], qh[64], scales[16], d */

/*
 * The eight 6-bit scales and eight mins of a Q4_K/Q5_K block (at b: d,
 * dmin, scales[12]) times d and dmin: lanes 0-7 d * sc_j, lanes 8-15
 * dmin * m_j (get_scale_min_k4 for all j at once, with 32-bit masks as
 * ggml does).
 */
static inline __m512
scales_k4(const uint8_t *b)
{
	uint32_t u[4], dd;

	memcpy(u, b + 4, 12);
	u[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
	uint32_t mins_lo = u[1] & 0x3f3f3f3f;
	u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
	u[0] &= 0x3f3f3f3f;
	u[2] = mins_lo;
	memcpy(&dd, b, 4);
	/* bytes 0..7: scales, 8..15: mins */
	__m512 scm = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(
	    _mm_loadu_si128((const __m128i *)(const void *)u)));
	__m512 d2 = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0,
	    0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_castps128_ps512(
	    _mm_cvtph_ps(_mm_cvtsi32_si128((int)dd))));

	return _mm512_mul_ps(scm, d2);
}

/* The d and the sum of eight consecutive activation blocks (40 bytes
 * apart), by gather. */
static inline __m256i
act_idx8(void)
{
	return _mm256_setr_epi32(0, 10, 20, 30, 40, 50, 60, 70);
}

static inline __m256
act_d8(const struct qa_block *a)
{
	return _mm256_i32gather_ps(&a->d, act_idx8(), 4);
}

static inline __m256
act_sum8(const struct qa_block *a)
{
	return _mm256_cvtepi32_ps(_mm256_i32gather_epi32(
	    (const int *)(const void *)&a->sum, act_idx8(), 4));
}

/* The quants of activation blocks j0 and j1. */
static inline __m512i
act_pair(const struct qa_block *a, int j0, int j1)
{
	return join(load32(a[j0].q), load32(a[j1].q));
}

/*
 * Q4_K (five = 0) and Q5_K (five = 1): unsigned 4/5-bit quants with a
 * 6-bit scale and min per 32 values.  A 64-byte load of quants gives
 * sub-blocks (0, 2) in its low nibbles and (1, 3) in its high ones (and
 * the next 64 bytes 4..7), so each register pairs sub-blocks j and j+2.
 * Per block and activation row the eight scales d * sc_j * a_j.d are one
 * vector; each register is one integer dot and one FMA with two of them;
 * the mins go into a vector of their own.  The activation registers are
 * loaded once per block for all weight rows.
 */
INLINE void
k45_rows(int five, const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	static const int sb[4][2] = { { 0, 2 }, { 1, 3 }, { 4, 6 }, { 5, 7 } };
	const size_t bs = five ? Q5_K_SIZE : Q4_K_SIZE;
	__m512 acc[MAXW], macc[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++) {
		acc[k] = _mm512_setzero_ps();
		macc[k] = _mm512_setzero_ps();
	}
	for (size_t i = 0; i < n / 256; i++) {
		__m512 da[MAXW];
		__m512i x[MAXW][4];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++) {
			const struct qa_block *ar = a + ra * stride + 8 * i;
			__m256 d8 = act_d8(ar);

			/* [a.d | a.d * a.sum] per sub-block */
			da[ra] = _mm512_insertf32x8(_mm512_castps256_ps512(d8),
			    _mm256_mul_ps(d8, act_sum8(ar)), 1);
			_Pragma("GCC unroll 16")
			for (int p = 0; p < 4; p++)
				x[ra][p] = act_pair(ar, sb[p][0], sb[p][1]);
		}
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * bs;
			const uint8_t *qs = b + (five ? 48 : 16);
			kern_prefetch(b, bs);
			const __m512i m4 = _mm512_set1_epi8(0x0f);
			__m512i v0 = _mm512_loadu_si512((const void *)qs);
			__m512i v1 = _mm512_loadu_si512((const void *)(qs + 64));
			__m512i q[4] = {
				_mm512_and_si512(v0, m4),
				_mm512_and_si512(_mm512_srli_epi16(v0, 4), m4),
				_mm512_and_si512(v1, m4),
				_mm512_and_si512(_mm512_srli_epi16(v1, 4), m4),
			};
			__m512 scm = scales_k4(b);

			if (five) {
				__m512i qh = _mm512_broadcast_i64x4(load32(b + 16));

				_Pragma("GCC unroll 16")
				for (int p = 0; p < 4; p++) {
					__m512i bit = join(_mm256_set1_epi8(
					    (char)(1 << sb[p][0])),
					    _mm256_set1_epi8((char)(1 <<
					    sb[p][1])));

					q[p] = _mm512_or_si512(q[p],
					    _mm512_maskz_mov_epi8(
					    _mm512_test_epi8_mask(qh, bit),
					    _mm512_set1_epi8(0x10)));
				}
			}
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				/* lanes 0-7: d sc_j a_j.d; 8-15: the mins */
				__m512 y = _mm512_mul_ps(scm, da[ra]);
				int k = wr * na + ra;

				macc[k] = _mm512_mask_add_ps(macc[k], 0xff00,
				    macc[k], y);
				_Pragma("GCC unroll 16")
				for (int p = 0; p < 4; p++)
					acc[k] = _mm512_fmadd_ps(pick2x(y,
					    sb[p][0], sb[p][1]),
					    _mm512_cvtepi32_ps(dot_u8_i8(q[p],
					    x[ra][p])), acc[k]);
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)	/* the mins, then one sum */
		out[k] = hsum512(_mm512_sub_ps(acc[k], macc[k]));
}

/*
 * Q6_K: per half of 128 values, groups (0, 1) are the low nibbles of the
 * 64 ql bytes and groups (2, 3) their high nibbles.  The 6-bit values are
 * used unsigned (0..63): sum (q - 32) a = sum q a - 32 sum a, where the
 * sums of the activations per 16 values come once per block for all
 * weight rows.  Each 16 values have their own scale: lane k of an integer
 * dot covers 4 values, so lanes 4g..4g+3 of a 64-value step take the
 * float scale of group g, d * sc_g * a.d, picked from one vector of the
 * block's 16 group scales.
 */
INLINE void
q6k_rows(const uint8_t *w, size_t wstride, int nw, const struct qa_block *a,
    size_t stride, int na, size_t n, float *out)
{
	__m512 acc[MAXW];
	/* group scale index of each lane, for steps (h, p) = 4h + 2p */
	const __m512i lane_grp = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1,
	    2, 2, 2, 2, 3, 3, 3, 3);
	/* activation block of each group: g / 2 */
	const __m512i grp_blk = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3,
	    4, 4, 5, 5, 6, 6, 7, 7);

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = _mm512_setzero_ps();
	for (size_t i = 0; i < n / 256; i++) {
		__m512 da[MAXW], off[MAXW];
		__m512i x[MAXW][4];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++) {
			const struct qa_block *ar = a + ra * stride + 8 * i;
			__m512i g4[4];

			da[ra] = _mm512_permutexvar_ps(grp_blk,
			    _mm512_castps256_ps512(act_d8(ar)));
			_Pragma("GCC unroll 16")
			for (int st = 0; st < 4; st++) {
				x[ra][st] = act2(ar + 2 * st);
				/* sums of 4 activations per lane */
				g4[st] = dot_u8_i8(_mm512_set1_epi8(1),
				    x[ra][st]);
			}
			/* -32 * (sum of each group of 16), groups in order:
			 * lanes 4g..4g+3 of g4[st] hold group 4st + g */
			__m512i s01 = _mm512_add_epi32(
			    _mm512_unpacklo_epi32(g4[0], g4[1]),
			    _mm512_unpackhi_epi32(g4[0], g4[1]));
			__m512i s23 = _mm512_add_epi32(
			    _mm512_unpacklo_epi32(g4[2], g4[3]),
			    _mm512_unpackhi_epi32(g4[2], g4[3]));
			__m512i t = _mm512_add_epi32(
			    _mm512_unpacklo_epi64(s01, s23),
			    _mm512_unpackhi_epi64(s01, s23));
			/* t lane 4j + c: group 4c + j (c: which g4) */
			t = _mm512_permutexvar_epi32(_mm512_setr_epi32(
			    0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14,
			    3, 7, 11, 15), t);
			off[ra] = _mm512_mul_ps(_mm512_cvtepi32_ps(t),
			    _mm512_set1_ps(-32.0f));
		}
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * Q6_K_SIZE;
			kern_prefetch(b, Q6_K_SIZE);
			__m512 dsc = _mm512_mul_ps(_mm512_set1_ps(f16(b + 208)),
			    _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (b + 192)))));
			__m512i q[4];

			_Pragma("GCC unroll 16")
			for (int h = 0; h < 2; h++) {
				__m512i ql = _mm512_loadu_si512((const void *)
				    (b + 64 * h));
				__m512i qh = _mm512_broadcast_i64x4(load32(b +
				    128 + 32 * h));

				/* group g's two high bits are bits 2g, 2g+1
				 * of qh: moved to bits 4, 5 by one 16-bit
				 * shift (bits crossing bytes are masked) */
				__m512i h01 = _mm512_and_si512(_mm512_sllv_epi16(
				    qh, join(_mm256_set1_epi16(4),
				    _mm256_set1_epi16(2))), _mm512_set1_epi8(0x30));
				__m512i h23 = _mm512_and_si512(_mm512_srlv_epi16(
				    qh, join(_mm256_set1_epi16(0),
				    _mm256_set1_epi16(2))), _mm512_set1_epi8(0x30));

				q[2 * h] = _mm512_or_si512(h01, _mm512_and_si512(
				    ql, _mm512_set1_epi8(0x0f)));
				q[2 * h + 1] = _mm512_or_si512(h23,
				    _mm512_and_si512(_mm512_srli_epi16(ql, 4),
				    _mm512_set1_epi8(0x0f)));
			}
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				__m512 s = _mm512_mul_ps(dsc, da[ra]);
				int k = wr * na + ra;

				/* the offset: -32 * sum of each group */
				acc[k] = _mm512_fmadd_ps(s, off[ra], acc[k]);
				_Pragma("GCC unroll 16")
				for (int st = 0; st < 4; st++) {
					__m512i dp = dot_u8_i8(q[st],
					    x[ra][st]);
					__m512 sl = _mm512_permutexvar_ps(
					    _mm512_add_epi32(lane_grp,
					    _mm512_set1_epi32(4 * st)), s);

					acc[k] = _mm512_fmadd_ps(sl,
					    _mm512_cvtepi32_ps(dp), acc[k]);
				}
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum512(acc[k]);
}

/* ---- activations, conversions, exp ---------------------------------------- */

/*
 * quant_act_q8 bit for bit: the block's |max| and scale are computed as
 * the reference does (scalar, the same C expressions), the products
 * x * (1/d) are IEEE-exact in any width, and VCVTPS2DQ rounds half to
 * even as nearbyintf does in the default rounding mode.  A block with a
 * NaN or an infinity, or a partial last block, is left to the reference.
 */
static void
act_q8(const float *x, struct qa_block *out, size_t n)
{
	size_t i = 0;

	for (; i + QA_BLCK <= n; i += QA_BLCK, out++) {
		__m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
		__m512 m = _mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b));
		__mmask16 bad = _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) |
		    _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
		float amax = _mm512_reduce_max_ps(m);

		if (bad != 0 || !isfinite(amax)) {
			quant_act_q8(x + i, out, QA_BLCK);
			continue;
		}
		float d = quant_bf16_to_f32(quant_f32_to_bf16(amax / 127.f));
		float id = d > 0 ? 1 / d : 0.f;
		__m512 vid = _mm512_set1_ps(id);
		__m512i lim = _mm512_set1_epi32(127);
		__m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, vid));
		__m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, vid));

		qa = _mm512_max_epi32(_mm512_min_epi32(qa, lim),
		    _mm512_sub_epi32(_mm512_setzero_si512(), lim));
		qb = _mm512_max_epi32(_mm512_min_epi32(qb, lim),
		    _mm512_sub_epi32(_mm512_setzero_si512(), lim));
		out->d = d;
		out->sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
		_mm_storeu_si128((__m128i *)(void *)out->q,
		    _mm512_cvtepi32_epi8(qa));
		_mm_storeu_si128((__m128i *)(void *)(out->q + 16),
		    _mm512_cvtepi32_epi8(qb));
	}
	if (i < n)
		quant_act_q8(x + i, out, n - i);
}

static void
cvt_f16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dst + i, load_f16x16(p + 2 * i));
	for (; i < n; i++)
		dst[i] = scalar_f16(p + 2 * i);
}

static void
cvt_bf16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dst + i, load_bf16x16(p + 2 * i));
	for (; i < n; i++)
		dst[i] = scalar_bf16(p + 2 * i);
}

/* vexp: e^x, vexp-avx512.h */

static void
silu_mul(float *g, const float *u, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m512 x = _mm512_loadu_ps(g + i);
		__m512 e = vexp(_mm512_sub_ps(_mm512_setzero_ps(), x));
		__m512 y = _mm512_div_ps(x, _mm512_add_ps(e,
		    _mm512_set1_ps(1.0f)));

		_mm512_storeu_ps(g + i, _mm512_mul_ps(y, _mm512_loadu_ps(u + i)));
	}
	for (; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static float
softmax_exp(float *x, size_t n, float max)
{
	__m512 vm = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
	size_t i = 0;
	float tail = 0.0f;

	for (; i + 16 <= n; i += 16) {
		__m512 e = vexp(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));

		_mm512_storeu_ps(x + i, e);
		sum = _mm512_add_ps(sum, e);
	}
	for (; i < n; i++) {
		x[i] = expf(x[i] - max);
		tail += x[i];
	}
	return hsum512(sum) + tail;
}

_Static_assert(KERN_TT == 16, "one zmm register per token tile row");

static void
softmax_tile(float *s, size_t np, const int32_t *last, float scale,
    float *sum)
{
	__m512i lim = _mm512_loadu_si512((const void *)last);
	__m512 vs = _mm512_set1_ps(scale), mx = _mm512_set1_ps(-INFINITY);
	__m512 acc = _mm512_setzero_ps(), ninf = _mm512_set1_ps(-INFINITY);

	for (size_t p = 0; p < np; p++) {
		/* lanes whose query is before position p are masked */
		__mmask16 out = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(
		    (int)p), lim);
		__m512 x = _mm512_mask_blend_ps(out, _mm512_mul_ps(
		    _mm512_loadu_ps(s + 16 * p), vs), ninf);

		_mm512_storeu_ps(s + 16 * p, x);
		mx = _mm512_max_ps(mx, x);
	}
	/* a column masked entirely: exp(-inf - 0) = 0 */
	mx = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ),
	    mx, _mm512_setzero_ps());
	for (size_t p = 0; p < np; p++) {
		__m512 e = vexp(_mm512_sub_ps(_mm512_loadu_ps(s + 16 * p), mx));

		_mm512_storeu_ps(s + 16 * p, e);
		acc = _mm512_add_ps(acc, e);
	}
	_mm512_storeu_ps(sum, acc);
}

static void
cvt_to_f16(const float *src, uint16_t *dst, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *)(void *)(dst + i),
		    _mm512_cvtps_ph(_mm512_loadu_ps(src + i),
		    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	for (; i < n; i++)
		dst[i] = quant_f32_to_f16(src[i]);
}

/* ---- prefill tiles --------------------------------------------------------- */

static inline __m512i
bcast32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof v);
	return _mm512_set1_epi32(v);
}

/*
 * The KERN_TR accumulators (a row each, a token per lane) to out: as they
 * are (row-major) or transposed to token-major (tr), the layout of a
 * matmul's Y, by an in-register 8 x 16 transpose instead of 128 scalar
 * moves.
 */
_Static_assert(KERN_TR == 8, "an 8 x 16 transpose");

static inline void
store_tile(const __m512 acc[KERN_TR], float *out, int tr)
{
	__m512 t[8], u[8];

	if (!tr) {
		_Pragma("GCC unroll 16")
		for (int r = 0; r < KERN_TR; r++)
			_mm512_storeu_ps(out + 16 * r, acc[r]);
		return;
	}
	/* per 128-bit lane L: u[c] rows 0-3 and u[4+c] rows 4-7 of token
	 * 4L + c */
	_Pragma("GCC unroll 16")
	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm512_unpacklo_ps(acc[i], acc[i + 1]);
		t[i + 1] = _mm512_unpackhi_ps(acc[i], acc[i + 1]);
	}
	_Pragma("GCC unroll 16")
	for (int h = 0; h < 8; h += 4) {
		u[h + 0] = _mm512_shuffle_ps(t[h + 0], t[h + 2], 0x44);
		u[h + 1] = _mm512_shuffle_ps(t[h + 0], t[h + 2], 0xee);
		u[h + 2] = _mm512_shuffle_ps(t[h + 1], t[h + 3], 0x44);
		u[h + 3] = _mm512_shuffle_ps(t[h + 1], t[h + 3], 0xee);
	}
	_Pragma("GCC unroll 16")
	for (int c = 0; c < 4; c++) {
		/* [lo.L0, hi.L0, lo.L1, hi.L1]: tokens c and 4 + c */
		__m512 a = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
		__m512 b = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xee);

		a = _mm512_shuffle_f32x4(a, a, 0xd8);
		b = _mm512_shuffle_f32x4(b, b, 0xd8);
		_mm256_storeu_ps(out + 8 * c, _mm512_castps512_ps256(a));
		_mm256_storeu_ps(out + 8 * (4 + c), _mm512_extractf32x8_ps(a, 1));
		_mm256_storeu_ps(out + 8 * (8 + c), _mm512_castps512_ps256(b));
		_mm256_storeu_ps(out + 8 * (12 + c),
		    _mm512_extractf32x8_ps(b, 1));
	}
}

/*
 * One weight tile (KERN_TR rows, decoded) against one activation tile
 * (16 tokens, one per 32-bit lane).  Per block and row: the integer dot
 * of u with the activations (8 VPDPBUSD, the weights broadcast), minus
 * off * (sum of the activations), times fs, minus fm * sum, times the
 * activation scale d, into a float accumulator: the reference's
 * a.d * (w.d * isum - w.dmin * (mn * a.sum)) in a different grouping.
 * `sh` is log2(off) (0: no offset); `halves` (Q6_K) keeps two integer
 * sums per block for the two scales.
 */
INLINE void
gemm_body(const struct kern_wtile *t, const struct kern_ablk *a,
    float *out, int tr, const int sh, const int halves, const int has_min)
{
	const size_t nblk = t->nblk;
	__m512 acc[KERN_TR];

	_Pragma("GCC unroll 16")
	for (int r = 0; r < KERN_TR; r++)
		acc[r] = _mm512_setzero_ps();
	for (size_t k = 0; k < nblk; k++, a++) {
		__m512i p0[KERN_TR], p1[KERN_TR];
		__m512i s0 = _mm512_load_si512(a->sum0);
		__m512i s1 = _mm512_load_si512(a->sum1);
		__m512 d = _mm512_load_ps(a->d);

		_Pragma("GCC unroll 16")
		for (int r = 0; r < KERN_TR; r++)
			p0[r] = p1[r] = _mm512_setzero_si512();
		_Pragma("GCC unroll 16")
		for (int g = 0; g < 8; g++) {
			__m512i av = _mm512_load_si512(a->q[g]);
#if !KERN_VNNI
			/* Q8_0 without VNNI: u = w + 128 would overflow the
			 * 16-bit pair sums, so use |w| and move w's sign onto
			 * the activation */
			__m512i bias = _mm512_set1_epi8((char)0x80);
#endif

			_Pragma("GCC unroll 16")
			for (int r = 0; r < KERN_TR; r++) {
				const uint8_t *u = t->u + (r * nblk + k) * 32 +
				    4 * g;
				__m512i wb = bcast32(u);

#if !KERN_VNNI
				if (sh == 7) {
					wb = _mm512_xor_si512(wb, bias);
					p0[r] = dpbusd(p0[r],
					    _mm512_abs_epi8(wb),
					    sign_of(av, wb));
					continue;
				}
#endif
				/* Q6_K: a chain per half (values 0-15 and
				 * 16-31 have their own scales).  Others:
				 * one chain per row, which saves adding two
				 * per block; the integer sum is the same,
				 * and 8 chains nearly feed VPDPBUSD (2 a
				 * cycle, latency 5): measured 8 % faster */
				if (halves && g >= 4)
					p1[r] = dpbusd(p1[r], wb, av);
				else
					p0[r] = dpbusd(p0[r], wb, av);
			}
		}
		if (halves) {
			__m512i c0 = _mm512_slli_epi32(s0, sh);
			__m512i c1 = _mm512_slli_epi32(s1, sh);

			_Pragma("GCC unroll 16")
			for (int r = 0; r < KERN_TR; r++) {
				const float *fs = t->fs + (r * nblk + k) * 2;
				__m512 f = _mm512_mul_ps(_mm512_set1_ps(fs[0]),
				    _mm512_cvtepi32_ps(_mm512_sub_epi32(p0[r],
				    c0)));

				f = _mm512_fmadd_ps(_mm512_set1_ps(fs[1]),
				    _mm512_cvtepi32_ps(_mm512_sub_epi32(p1[r],
				    c1)), f);
				acc[r] = _mm512_fmadd_ps(d, f, acc[r]);
			}
		} else {
			__m512i s = _mm512_add_epi32(s0, s1);
			__m512i c = _mm512_slli_epi32(s, sh);
			__m512 sf = _mm512_cvtepi32_ps(s);

#if !KERN_VNNI
			if (sh == 7)	/* signed weights: no offset */
				c = _mm512_setzero_si512();
#endif
			_Pragma("GCC unroll 16")
			for (int r = 0; r < KERN_TR; r++) {
				size_t b = r * nblk + k;
				__m512i pa = p0[r];
				__m512i pi = sh ? _mm512_sub_epi32(pa, c) : pa;
				__m512 f = _mm512_mul_ps(_mm512_set1_ps(
				    t->fs[2 * b]), _mm512_cvtepi32_ps(pi));

				if (has_min)
					f = _mm512_fnmadd_ps(_mm512_set1_ps(
					    t->fm[b]), sf, f);
				acc[r] = _mm512_fmadd_ps(d, f, acc[r]);
			}
		}
	}
	store_tile(acc, out, tr);
}

static void
gemm_q8(const struct kern_wtile *t, const struct kern_ablk *a, float *out,
    int tr)
{
	/* constant arguments, so each kind compiles to its own loop */
	if (t->halves)
		gemm_body(t, a, out, tr, 5, 1, 0);	/* Q6_K: off 32 */
	else if (t->has_min)
		gemm_body(t, a, out, tr, 0, 0, 1);
	else if (t->off == 8)
		gemm_body(t, a, out, tr, 3, 0, 0);
	else if (t->off == 16)
		gemm_body(t, a, out, tr, 4, 0, 0);
	else
		gemm_body(t, a, out, tr, 7, 0, 0);	/* Q8_0: off 128 */
}

/* Float weights (KERN_TR rows of n) against n x 16 activations. */
static void
gemm_f32(const float *w, size_t n, const float *a, float *out, int tr)
{
	__m512 acc[KERN_TR];

	_Pragma("GCC unroll 16")
	for (int r = 0; r < KERN_TR; r++)
		acc[r] = _mm512_setzero_ps();
	for (size_t k = 0; k < n; k++) {
		__m512 av = _mm512_loadu_ps(a + 16 * k);

		_Pragma("GCC unroll 16")
		for (int r = 0; r < KERN_TR; r++)
			acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w[r * n + k]),
			    av, acc[r]);
	}
	store_tile(acc, out, tr);
}

/* ---- instances ------------------------------------------------------------ */

#define FLOAT_INSTANCES(T)						\
static float								\
dot_##T(const void *w, const float *x, size_t n)			\
{									\
	float o;							\
	T##_rows(w, x, 0, n, 1, &o);					\
	return o;							\
}									\
static void								\
dot4_##T(const void *w, const float *x, size_t stride, size_t n,	\
    float *out)								\
{									\
	T##_rows(w, x, stride, n, KERN_TILE, out);			\
}
FLOAT_INSTANCES(f32)
FLOAT_INSTANCES(f16)
FLOAT_INSTANCES(bf16)

/* dot: one by one; dot4: one weight row, KERN_TILE activation rows;
 * dotw4: KERN_TILE weight rows (row_bytes apart), one activation row. */
#define Q8_INSTANCES(NAME, BODY)					\
static float								\
dot_##NAME(const void *w, const struct qa_block *a, size_t n)		\
{									\
	float o;							\
	BODY(w, 0, 1, a, 0, 1, n, &o);					\
	return o;							\
}									\
static void								\
dot4_##NAME(const void *w, const struct qa_block *a, size_t stride,	\
    size_t n, float *out)						\
{									\
	BODY(w, 0, 1, a, stride, KERN_TILE, n, out);			\
}									\
static void								\
dotw4_##NAME(const void *w, size_t row_bytes,				\
    const struct qa_block *a, size_t n, float *out)			\
{									\
	BODY(w, row_bytes, KERN_TILE, a, 0, 1, n, out);		\
}
#define Q4_0_BODY(...)	small_rows(1, __VA_ARGS__)
#define Q8_0_BODY(...)	small_rows(0, __VA_ARGS__)
#define Q4_K_BODY(...)	k45_rows(0, __VA_ARGS__)
#define Q5_K_BODY(...)	k45_rows(1, __VA_ARGS__)
#define Q6_K_BODY(...)	q6k_rows(__VA_ARGS__)
Q8_INSTANCES(q4_0, Q4_0_BODY)
Q8_INSTANCES(q8_0, Q8_0_BODY)
Q8_INSTANCES(q4_k, Q4_K_BODY)
Q8_INSTANCES(q5_k, Q5_K_BODY)
Q8_INSTANCES(q6_k, Q6_K_BODY)

const struct kern_impl KERN_NAME = {
	.name = KERN_LABEL,
	.fallback = &KERN_FALLBACK,
	.dot_f32 = dot_f32,
	.dot_f16 = dot_f16,
	.dot_bf16 = dot_bf16,
	.dot4_f32 = dot4_f32,
	.dot4_f16 = dot4_f16,
	.dot4_bf16 = dot4_bf16,
	.dot_q8 = {
		[QT_Q4_0] = dot_q4_0,
		[QT_Q8_0] = dot_q8_0,
		[QT_Q4_K] = dot_q4_k,
		[QT_Q5_K] = dot_q5_k,
		[QT_Q6_K] = dot_q6_k,
	},
	.dot4_q8 = {
		[QT_Q4_0] = dot4_q4_0,
		[QT_Q8_0] = dot4_q8_0,
		[QT_Q4_K] = dot4_q4_k,
		[QT_Q5_K] = dot4_q5_k,
		[QT_Q6_K] = dot4_q6_k,
	},
	.dotw4_q8 = {
		[QT_Q4_0] = dotw4_q4_0,
		[QT_Q8_0] = dotw4_q8_0,
		[QT_Q4_K] = dotw4_q4_k,
		[QT_Q5_K] = dotw4_q5_k,
		[QT_Q6_K] = dotw4_q6_k,
	},
	.act_q8 = act_q8,
	.cvt_f16 = cvt_f16,
	.cvt_bf16 = cvt_bf16,
	.silu_mul = silu_mul,
	.softmax_exp = softmax_exp,
	.softmax_tile = softmax_tile,
	.cvt_to_f16 = cvt_to_f16,
	.dotn_f16 = dotn_f16,
	.sumsq = sumsq,
	.gemm_q8 = gemm_q8,
	.gemm_f32 = gemm_f32,
};

#else	/* not built for this instruction set: only the fallback, and
	 * kern.c never picks it */

const struct kern_impl KERN_NAME = {
	.name = KERN_LABEL,
	.fallback = &KERN_FALLBACK,
};

#endif
