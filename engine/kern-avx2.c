/*
 * kern-avx2.c - AVX2 + FMA + F16C kernels.  Compiled with -mavx2 -mfma
 * -mf16c (see the Makefile) and only called after kern.c has seen those
 * features in cpuid.  Each kernel computes what quant_dot_q8 (or the
 * plain float dot) computes; only the order of float additions differs,
 * which test-kern bounds.
 *
 * Integer dot products use the usual trick for int8 x int8 on AVX2:
 * _mm256_maddubs_epi16 wants one unsigned operand, so the weight's sign
 * is moved onto the activation (sign_epi8) and its absolute value taken.
 * That is exact as long as the activation is never -128 (quant_act_q8
 * clamps to [-127, 127]) and pair sums fit in int16 (|w| <= 128).
 *
 * This file also holds the weight-tile decoders every SIMD variant uses
 * (a decoded tile has one layout, see kern.h), and it is compiled a
 * second time by kern-avx2-vnni.c with KERN_VNNI set, where the 8-bit
 * dot products are AVX-VNNI's VPDPBUSD.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kern.h"
#include "quant.h"
#include "vexp-avx2.h"

#ifndef KERN_VNNI
#define KERN_VNNI	0
#endif

#if KERN_VNNI
#define KERN_NAME	kern_impl_avx2_vnni
#define KERN_LABEL	"avx2-vnni"
#define KERN_FALLBACK	kern_impl_avx2
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && \
    defined(__AVXVNNI__)
#define KERN_BUILT	1
#endif
#else
#define KERN_NAME	kern_impl_avx2
#define KERN_LABEL	"avx2"
#define KERN_FALLBACK	kern_impl_scalar
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define KERN_BUILT	1
#endif
#endif

#ifdef KERN_BUILT
#include <immintrin.h>

/* ---- helpers: the only places intrinsics appear in raw form ------------ */

static inline float
hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
	    _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/*
 * acc + 8 int32 lanes, each the sum of 4 products u[i] * s[i] (u
 * unsigned).  Without VNNI the products are first summed in pairs to
 * int16, which saturates unless |u[i] * s[i] + u[i+1] * s[i+1]| <= 32767:
 * every caller keeps u <= 128 there (and s is never -128).
 */
static inline __m256i
dpbusd(__m256i acc, __m256i u, __m256i s)
{
#if KERN_VNNI
	return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
	return _mm256_add_epi32(acc, _mm256_madd_epi16(
	    _mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* 8 int32 lanes, each the sum of 4 products u[i] * s[i] (u unsigned). */
static inline __m256i
dot_u8_i8(__m256i u, __m256i s)
{
	return dpbusd(_mm256_setzero_si256(), u, s);
}

/* The same for signed w (|w| <= 128) and activations a (never -128). */
static inline __m256i
dot_i8_i8(__m256i w, __m256i a)
{
	return dot_u8_i8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

static inline __m256i
load32(const void *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

/* 16 bytes of nibbles -> 32 bytes: low nibbles first, then high ones. */
static inline __m256i
nibbles16(const uint8_t *p)
{
	__m128i t = _mm_loadu_si128((const __m128i *)p);
	__m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);

	return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* Bit i of the little-endian u32 at p -> byte i is 0x10 or 0. */
static inline __m256i
bits32_to_0x10(const uint8_t *p)
{
	uint32_t x;
	__m256i v;

	memcpy(&x, p, sizeof x);
	v = _mm256_set1_epi32((int)x);
	/* byte i gets byte i/8 of x ... */
	v = _mm256_shuffle_epi8(v, _mm256_set_epi64x(0x0303030303030303LL,
	    0x0202020202020202LL, 0x0101010101010101LL, 0));
	/* ... and is all ones iff its bit (i % 8) was set */
	v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL));
	v = _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
	return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* A little-endian f16 at any address, by F16C (exact, like quant.c). */
static inline float
f16(const uint8_t *p)
{
	uint16_t h;

	memcpy(&h, p, sizeof h);
	return _cvtsh_ss(h);
}

/* acc += scale * (float)ints */
static inline __m256
fma_i32(__m256 acc, float scale, __m256i ints)
{
	return _mm256_fmadd_ps(_mm256_set1_ps(scale),
	    _mm256_cvtepi32_ps(ints), acc);
}

/*
 * Every kernel below is written once as an always-inline body over a few
 * activation rows (stride apart) and instantiated for one row (the dot
 * of kern_impl) and KERN_TILE rows (dot4: one weight row decoded once for
 * four activation rows, for batches).  The quantized bodies also take
 * `nw` weight rows (wstride bytes apart, nw * na <= KERN_TILE) for dotw4:
 * four rows far apart against one token, so that a core reads four
 * streams, each row prefetching its own.  Every (weight row, activation
 * row) pair goes through exactly the same operations in all instances,
 * so the results are bit-identical to one dot at a time.
 */
#define INLINE	static inline __attribute__((always_inline))
#define MAXW	KERN_TILE	/* nw * na <= KERN_TILE */

/* ---- float types -------------------------------------------------------- */

static inline __m256
load_f32x8(const uint8_t *p)
{
	return _mm256_loadu_ps((const float *)(const void *)p);
}

static inline __m256
load_f16x8(const uint8_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256
load_bf16x8(const uint8_t *p)
{
	__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));

	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
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

/* Two accumulators per activation row, 16 values per step. */
#define FLOAT_ROWS(NAME, ESIZE, LOAD, SCALAR)				\
INLINE void								\
NAME(const uint8_t *w, const float *x, size_t stride, size_t n, int nr,\
    float *out)								\
{									\
	__m256 a0[KERN_TILE], a1[KERN_TILE];				\
	size_t i = 0;							\
									\
	_Pragma("GCC unroll 16")					\
	for (int r = 0; r < nr; r++)					\
		a0[r] = a1[r] = _mm256_setzero_ps();			\
	for (; i + 16 <= n; i += 16) {					\
		__m256 w0 = LOAD(w + ESIZE * i);			\
		__m256 w1 = LOAD(w + ESIZE * (i + 8));			\
		_Pragma("GCC unroll 16")					\
		for (int r = 0; r < nr; r++) {				\
			const float *xr = x + r * stride + i;		\
			a0[r] = _mm256_fmadd_ps(w0,			\
			    _mm256_loadu_ps(xr), a0[r]);		\
			a1[r] = _mm256_fmadd_ps(w1,			\
			    _mm256_loadu_ps(xr + 8), a1[r]);		\
		}							\
	}								\
	_Pragma("GCC unroll 16")					\
	for (int r = 0; r < nr; r++) {					\
		float acc = hsum_ps(_mm256_add_ps(a0[r], a1[r]));	\
		for (size_t k = i; k < n; k++)				\
			acc += SCALAR(w + ESIZE * k) * x[r * stride + k]; \
		out[r] = acc;						\
	}								\
}
FLOAT_ROWS(f32_rows, 4, load_f32x8, scalar_f32)
FLOAT_ROWS(f16_rows, 2, load_f16x8, scalar_f16)
FLOAT_ROWS(bf16_rows, 2, load_bf16x8, scalar_bf16)

/*
 * R f16 rows at a time against NX vectors (R * NX = 4 or 8 sums in
 * flight): each row load serves every vector, each vector load every
 * row, and the sums are reduced four at a time by horizontal adds.  A
 * ragged end of n goes element by element.  Missing rows or vectors
 * repeat the first; their sums are dropped.
 * The loops over R and NX are unrolled by pragma: at -O2 GCC kept acc[]
 * in memory, a load and a store around every multiply-add (the decode
 * attention at 2,048 positions ran 2.3x slower).
 */
INLINE void
dotn_body(const uint16_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride,
    const int R, const int NX)
{
	const float *xs[4];

	_Pragma("GCC unroll 8")
	for (int g = 0; g < NX; g++)
		xs[g] = x + ((size_t)g < nx ? (size_t)g : 0) * xstride;
	for (size_t r = 0; r < nw; r += (size_t)R) {
		size_t nr = nw - r < (size_t)R ? nw - r : (size_t)R, i = 0;
		const uint16_t *wr[4];
		__m256 acc[8];
		float o[8];

		_Pragma("GCC unroll 8")
		for (int k = 0; k < R; k++)
			wr[k] = w + (r + ((size_t)k < nr ? (size_t)k : 0)) *
			    wstride;
		_Pragma("GCC unroll 8")
		for (int k = 0; k < R * NX; k++)
			acc[k] = _mm256_setzero_ps();
		for (; i + 8 <= n; i += 8) {
			__m256 xv[4];

			_Pragma("GCC unroll 8")
			for (int g = 0; g < NX; g++)
				xv[g] = _mm256_loadu_ps(xs[g] + i);
			_Pragma("GCC unroll 8")
			for (int k = 0; k < R; k++) {
				__m256 wv = _mm256_cvtph_ps(_mm_loadu_si128(
				    (const __m128i *)(const void *)(wr[k] + i)));

				_Pragma("GCC unroll 8")
				for (int g = 0; g < NX; g++)
					acc[k * NX + g] = _mm256_fmadd_ps(wv,
					    xv[g], acc[k * NX + g]);
			}
		}
		_Pragma("GCC unroll 8")
		for (int k = 0; k < R * NX; k += 4) {
			__m256 t = _mm256_hadd_ps(_mm256_hadd_ps(acc[k],
			    acc[k + 1]), _mm256_hadd_ps(acc[k + 2],
			    acc[k + 3]));

			_mm_storeu_ps(o + k, _mm_add_ps(
			    _mm256_castps256_ps128(t),
			    _mm256_extractf128_ps(t, 1)));
		}
		for (size_t k = 0; k < nr; k++) {
			for (size_t g = 0; g < nx; g++) {
				float v = o[k * (size_t)NX + g];

				for (size_t e = i; e < n; e++)
					v += scalar_f16((const uint8_t *)
					    (wr[k] + e)) * xs[g][e];
				out[g * ostride + r + k] = v;
			}
		}
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
	else
		dotn_body(w, wstride, nw, x, xstride, nx, n, out, ostride,
		    2, 4);
}

/* Eight floats a step, squared and summed in double (a float's square is
 * exact in double: only the order of the sums differs from the scalar
 * loop). */
static double
sumsq(const float *x, size_t n)
{
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
	size_t i = 0;
	double s[4];

	for (; i + 8 <= n; i += 8) {
		__m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
		__m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));

		a0 = _mm256_fmadd_pd(lo, lo, a0);
		a1 = _mm256_fmadd_pd(hi, hi, a1);
	}
	_mm256_storeu_pd(s, _mm256_add_pd(a0, a1));
	s[0] = (s[0] + s[1]) + (s[2] + s[3]);
	for (; i < n; i++)
		s[0] += (double)x[i] * x[i];
	return s[0];
}

/* ---- 32-element blocks ---------------------------------------------------- */

/* Block sizes (see the layouts in quant.c). */
#define Q4_0_SIZE	18	/* d, qs[16] */
#define Q4_1_SIZE	20	/* d, m, qs[16] */
#define Q5_0_SIZE	22	/* d, qh[4], qs[16] */
#define Q5_1_SIZE	24	/* d, m, qh[4], qs[16] */
#define Q8_0_SIZE	34	/* d, qs[32] */

/*
 * The legacy types share one body: decode a block to 32 bytes once
 * (signed, or unsigned with an added min), then one integer dot and one
 * FMA per activation row.  `type` is a constant at every call site.
 */
static inline size_t
small_size(uint32_t type)
{
	switch (type) {
	case QT_Q4_0:
		return Q4_0_SIZE;
	case QT_Q4_1:
		return Q4_1_SIZE;
	case QT_Q5_0:
		return Q5_0_SIZE;
	case QT_Q5_1:
		return Q5_1_SIZE;
	default:	/* QT_Q8_0 */
		return Q8_0_SIZE;
	}
}

/* The 32 quants of block b, and its min for the unsigned types. */
INLINE __m256i
small_quants(uint32_t type, const uint8_t *b, float *m)
{
	switch (type) {
	case QT_Q4_0:
		return _mm256_sub_epi8(nibbles16(b + 2), _mm256_set1_epi8(8));
	case QT_Q4_1:
		*m = f16(b + 2);
		return nibbles16(b + 4);
	case QT_Q5_0:
		return _mm256_sub_epi8(_mm256_or_si256(nibbles16(b + 6),
		    bits32_to_0x10(b + 2)), _mm256_set1_epi8(16));
	case QT_Q5_1:
		*m = f16(b + 2);
		return _mm256_or_si256(nibbles16(b + 8), bits32_to_0x10(b + 4));
	default:	/* QT_Q8_0 */
		return load32(b + 2);
	}
}

INLINE void
small_rows(uint32_t type, const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const size_t bs = small_size(type);
	const int is_signed = type != QT_Q4_1 && type != QT_Q5_1;
	__m256 acc[MAXW];
	float mins[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++) {
		acc[k] = _mm256_setzero_ps();
		mins[k] = 0.0f;
	}
	for (size_t i = 0; i < n / 32; i++) {
		__m256i x[MAXW];

		/* the activations, once per block for all weight rows */
		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++)
			x[ra] = load32(a[ra * stride + i].q);
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * bs;
			float d = f16(b), m = 0.0f;
			__m256i q;

			kern_prefetch(b, 32);
			q = small_quants(type, b, &m);
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				const struct qa_block *ar = a + ra * stride + i;
				__m256i p = is_signed ? dot_i8_i8(q, x[ra]) :
				    dot_u8_i8(q, x[ra]);
				int k = wr * na + ra;

				acc[k] = fma_i32(acc[k], d * ar->d, p);
				if (!is_signed)
					mins[k] += m * ar->d * (float)ar->sum;
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum_ps(acc[k]) + mins[k];
}

/* ---- K-quants: 256-element superblocks over 8 activation blocks --------- */

#define Q4_K_SIZE	144	/* d, dmin, scales[12], qs[128] */
#define Q5_K_SIZE	176	/* d, dmin, scales[12], qh[32], qs[128] */
#define Q6_K_SIZE	210	/* ql[128], qh[64], scales[16], d */

/*
 * The 6-bit scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K/Q5_K
 * block: get_scale_min_k4 for all j at once, with 32-bit masks as ggml
 * does (bytes picked one by one cost more than the block's dots).
 */
static inline __m128i
scales_k4(const uint8_t *q)
{
	uint32_t u[3];

	memcpy(u, q, sizeof u);
	return _mm_setr_epi32((int)(u[0] & 0x3f3f3f3f),
	    (int)((u[2] & 0x0f0f0f0f) | ((u[0] >> 6 & 0x03030303) << 4)),
	    (int)(u[1] & 0x3f3f3f3f),
	    (int)((u[2] >> 4 & 0x0f0f0f0f) | ((u[1] >> 6 & 0x03030303) << 4)));
}

/* Sub-block j (0..7) of 4-bit quants: 32 bytes of nibbles, low for even
 * j and high for odd j. */
static inline __m256i
k_nibbles(const uint8_t *qs, int j)
{
	__m256i v = load32(qs + 32 * (j / 2));

	if (j & 1)
		v = _mm256_srli_epi16(v, 4);
	return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* Bit j of each of the 32 bytes of qh -> 0x10 or 0 (Q5_K's fifth bit):
 * one 16-bit shift to bit 4, and the bits crossing bytes masked off. */
static inline __m256i
k_bit(__m256i qh, int j)
{
	__m256i v = j < 4 ? _mm256_slli_epi16(qh, 4 - j) :
	    _mm256_srli_epi16(qh, j - 4);

	return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* The d and the sum of eight consecutive activation blocks (40 bytes
 * apart), by gather. */
static inline __m256
act_d8(const struct qa_block *a)
{
	return _mm256_i32gather_ps(&a->d, _mm256_setr_epi32(0, 10, 20, 30,
	    40, 50, 60, 70), 4);
}

static inline __m256
act_sum8(const struct qa_block *a)
{
	return _mm256_cvtepi32_ps(_mm256_i32gather_epi32(
	    (const int *)(const void *)&a->sum, _mm256_setr_epi32(0, 10, 20,
	    30, 40, 50, 60, 70), 4));
}

/* v[j] in every lane. */
static inline __m256
lane(__m256 v, int j)
{
	return _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(j));
}

/*
 * Q4_K (five = 0) and Q5_K (five = 1): unsigned quants with 6-bit
 * scales and mins per 32 values.  Per block and activation row the eight
 * scales d * sc_j * a_j.d are one vector and the mins another, so each
 * sub-block is one integer dot, one permute and one FMA.
 */
INLINE void
k45_rows(int five, const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const size_t bs = five ? Q5_K_SIZE : Q4_K_SIZE;
	__m256 acc[MAXW], macc[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = macc[k] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 256; i++) {
		__m256 da[MAXW], dsum[MAXW];

		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * bs;
			const uint8_t *qs = b + (five ? 48 : 16);
			__m256i qh = five ? load32(b + 16) :
			    _mm256_setzero_si256();
			__m128i scm = scales_k4(b + 4);
			__m256 dsc, dm, s[MAXW];

			kern_prefetch(b, bs);
			dsc = _mm256_mul_ps(_mm256_set1_ps(f16(b)),
			    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(scm)));
			dm = _mm256_mul_ps(_mm256_set1_ps(f16(b + 2)),
			    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
			    _mm_unpackhi_epi64(scm, scm))));
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				const struct qa_block *ar = a + ra * stride +
				    8 * i;
				int k = wr * na + ra;

				/* the gathers once per block, kept for the
				 * other weight rows (wr is a constant) */
				if (wr == 0) {
					da[ra] = act_d8(ar);
					dsum[ra] = _mm256_mul_ps(da[ra],
					    act_sum8(ar));
				}
				s[ra] = _mm256_mul_ps(dsc, da[ra]);
				macc[k] = _mm256_fmadd_ps(dm, dsum[ra],
				    macc[k]);
			}
			_Pragma("GCC unroll 16")
			for (int j = 0; j < 8; j++) {
				__m256i q = k_nibbles(qs, j);

				if (five)
					q = _mm256_or_si256(q, k_bit(qh, j));
				_Pragma("GCC unroll 16")
				for (int ra = 0; ra < na; ra++) {
					const struct qa_block *ar = a +
					    ra * stride + 8 * i + j;
					int k = wr * na + ra;

					acc[k] = _mm256_fmadd_ps(lane(s[ra], j),
					    _mm256_cvtepi32_ps(dot_u8_i8(q,
					    load32(ar->q))), acc[k]);
				}
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)	/* the mins, then one sum */
		out[k] = hsum_ps(_mm256_sub_ps(acc[k], macc[k]));
}

/*
 * Q6_K: eight groups of 32 values (one activation block each), every 16
 * values with a signed 8-bit scale.  The 6-bit quants are used unsigned
 * and the offset comes off the 16-bit pair sums, q a - 32 a (exact: the
 * pairs stay within int16), where 32 a is once per activation block for
 * all weight rows; the 16-bit pairs of each half are then weighted by
 * their scale while summing to 32 bits.
 */
INLINE void
q6k_rows(const uint8_t *w, size_t wstride, int nw, const struct qa_block *a,
    size_t stride, int na, size_t n, float *out)
{
	__m256 acc[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 256; i++) {
		__m256 da[MAXW];
		__m256i off[MAXW][8];

		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * Q6_K_SIZE;
			/* the 16 scales in both halves: group j's int16
			 * weights are then one byte shuffle, 256 * scale
			 * (the scale in the high byte), and d / 256 undoes
			 * that exactly in the float scale (powers of two) */
			__m256i sc = _mm256_broadcastsi128_si256(
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (b + 192)));
			__m256 d = _mm256_set1_ps(f16(b + 208) * 0x1p-8f),
			    dd[MAXW];

			kern_prefetch(b, Q6_K_SIZE);
			/* the gather once per block, kept for the other
			 * weight rows (wr is a constant) */
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				if (wr == 0)
					da[ra] = act_d8(a + ra * stride +
					    8 * i);
				dd[ra] = _mm256_mul_ps(d, da[ra]);
			}
			_Pragma("GCC unroll 16")
			for (int h = 0; h < 2; h++) {
				__m256i qh = load32(b + 128 + 32 * h);

				_Pragma("GCC unroll 16")
				for (int g = 0; g < 4; g++) {
					const int j = 4 * h + g;
					__m256i idx = _mm256_set1_epi32(j);
					__m256i lo = load32(b + 64 * h +
					    32 * (g & 1));
					__m256i hi, q, s16;

					lo = _mm256_and_si256(_mm256_srli_epi16(
					    lo, 4 * (g >> 1)),
					    _mm256_set1_epi8(0x0f));
					/* bits 2g, 2g+1 to bits 4, 5 (bits
					 * crossing bytes are masked off) */
					hi = g < 2 ? _mm256_slli_epi16(qh,
					    4 - 2 * g) : _mm256_srli_epi16(qh,
					    2 * g - 4);
					q = _mm256_or_si256(lo, _mm256_and_si256(
					    hi, _mm256_set1_epi8(0x30)));
					/* [sc 2j << 8] x 8, [sc 2j+1 << 8] x 8:
					 * |pair sums| <= 8128, so the int32
					 * sums stay below 2^30 */
					s16 = _mm256_shuffle_epi8(sc,
					    _mm256_setr_epi8(-1, (char)(2 * j),
					    -1, (char)(2 * j), -1, (char)(2 * j),
					    -1, (char)(2 * j), -1, (char)(2 * j),
					    -1, (char)(2 * j), -1, (char)(2 * j),
					    -1, (char)(2 * j), -1,
					    (char)(2 * j + 1), -1, (char)(2 * j + 1),
					    -1, (char)(2 * j + 1), -1,
					    (char)(2 * j + 1), -1, (char)(2 * j + 1),
					    -1, (char)(2 * j + 1), -1,
					    (char)(2 * j + 1), -1,
					    (char)(2 * j + 1)));
					_Pragma("GCC unroll 16")
					for (int ra = 0; ra < na; ra++) {
						const struct qa_block *ar = a +
						    ra * stride + 8 * i + j;
						__m256i x = load32(ar->q), p;
						int k = wr * na + ra;

						if (wr == 0)
							off[ra][j] =
							    _mm256_maddubs_epi16(
							    _mm256_set1_epi8(32),
							    x);
						p = _mm256_madd_epi16(
						    _mm256_sub_epi16(
						    _mm256_maddubs_epi16(q, x),
						    off[ra][j]), s16);
						/* d * a.d of block j */
						acc[k] = _mm256_fmadd_ps(
						    _mm256_permutevar8x32_ps(
						    dd[ra], idx),
						    _mm256_cvtepi32_ps(p), acc[k]);
					}
				}
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum_ps(acc[k]);
}

/* ---- activations, conversions, exp ---------------------------------------- */

static inline int32_t
hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v),
	    _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

static inline float
hmax_ps(__m256 v)
{
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(v),
	    _mm256_extractf128_ps(v, 1));

	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	s = _mm_max_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

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
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	size_t i = 0;

	for (; i + QA_BLCK <= n; i += QA_BLCK, out++) {
		__m256 v[4], m, vid;
		__m256i q[4], lim = _mm256_set1_epi32(127);
		__m256i nlim = _mm256_set1_epi32(-127);
		int bad = 0;

		_Pragma("GCC unroll 16")
		for (int k = 0; k < 4; k++) {
			v[k] = _mm256_loadu_ps(x + i + 8 * k);
			bad |= _mm256_movemask_ps(_mm256_cmp_ps(v[k], v[k],
			    _CMP_UNORD_Q));
		}
		m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask),
		    _mm256_and_ps(v[1], absmask)), _mm256_max_ps(
		    _mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
		float amax = hmax_ps(m);

		if (bad != 0 || !isfinite(amax)) {
			quant_act_q8(x + i, out, QA_BLCK);
			continue;
		}
		float d = quant_bf16_to_f32(quant_f32_to_bf16(amax / 127.f));
		float id = d > 0 ? 1 / d : 0.f;

		vid = _mm256_set1_ps(id);
		_Pragma("GCC unroll 16")
		for (int k = 0; k < 4; k++)
			q[k] = _mm256_max_epi32(_mm256_min_epi32(
			    _mm256_cvtps_epi32(_mm256_mul_ps(v[k], vid)), lim),
			    nlim);
		out->d = d;
		out->sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0],
		    q[1]), _mm256_add_epi32(q[2], q[3])));
		/* int32 -> int8 in order: packs work within 128-bit lanes */
		__m256i w16a = _mm256_packs_epi32(q[0], q[1]);
		__m256i w16b = _mm256_packs_epi32(q[2], q[3]);
		__m256i b8 = _mm256_packs_epi16(w16a, w16b);

		b8 = _mm256_permutevar8x32_epi32(b8,
		    _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
		_mm256_storeu_si256((__m256i *)(void *)out->q, b8);
	}
	if (i < n)
		quant_act_q8(x + i, out, n - i);
}

static void
cvt_f16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, load_f16x8(p + 2 * i));
	for (; i < n; i++)
		dst[i] = scalar_f16(p + 2 * i);
}

static void
cvt_bf16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, load_bf16x8(p + 2 * i));
	for (; i < n; i++)
		dst[i] = scalar_bf16(p + 2 * i);
}

/* vexp: e^x, vexp-avx2.h */

static void
silu_mul(float *g, const float *u, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(g + i);
		__m256 e = vexp(_mm256_sub_ps(_mm256_setzero_ps(), x));
		__m256 y = _mm256_div_ps(x, _mm256_add_ps(e,
		    _mm256_set1_ps(1.0f)));

		_mm256_storeu_ps(g + i, _mm256_mul_ps(y, _mm256_loadu_ps(u + i)));
	}
	for (; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static float
softmax_exp(float *x, size_t n, float max)
{
	__m256 vm = _mm256_set1_ps(max), sum = _mm256_setzero_ps();
	size_t i = 0;
	float tail = 0.0f;

	for (; i + 8 <= n; i += 8) {
		__m256 e = vexp(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));

		_mm256_storeu_ps(x + i, e);
		sum = _mm256_add_ps(sum, e);
	}
	for (; i < n; i++) {
		x[i] = expf(x[i] - max);
		tail += x[i];
	}
	return hsum_ps(sum) + tail;
}

_Static_assert(KERN_TT == 16, "two ymm registers per token tile row");

static void
softmax_tile(float *s, size_t np, const int32_t *last, float scale,
    float *sum)
{
	const __m256 ninf = _mm256_set1_ps(-INFINITY), vs = _mm256_set1_ps(scale);

	for (int h = 0; h < 2; h++) {
		__m256i lim = load32(last + 8 * h);
		__m256 mx = ninf, acc = _mm256_setzero_ps();
		float *c = s + 8 * h;

		for (size_t p = 0; p < np; p++) {
			/* lanes whose query is before position p are masked */
			__m256 out = _mm256_castsi256_ps(_mm256_cmpgt_epi32(
			    _mm256_set1_epi32((int)p), lim));
			__m256 x = _mm256_blendv_ps(_mm256_mul_ps(
			    _mm256_loadu_ps(c + 16 * p), vs), ninf, out);

			_mm256_storeu_ps(c + 16 * p, x);
			mx = _mm256_max_ps(mx, x);
		}
		/* a column masked entirely: exp(-inf - 0) = 0 */
		mx = _mm256_blendv_ps(mx, _mm256_setzero_ps(),
		    _mm256_cmp_ps(mx, ninf, _CMP_EQ_OQ));
		for (size_t p = 0; p < np; p++) {
			__m256 e = vexp(_mm256_sub_ps(_mm256_loadu_ps(c +
			    16 * p), mx));

			_mm256_storeu_ps(c + 16 * p, e);
			acc = _mm256_add_ps(acc, e);
		}
		_mm256_storeu_ps(sum + 8 * h, acc);
	}
}

static void
cvt_to_f16(const float *src, uint16_t *dst, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *)(void *)(dst + i),
		    _mm256_cvtps_ph(_mm256_loadu_ps(src + i),
		    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	for (; i < n; i++)
		dst[i] = quant_f32_to_f16(src[i]);
}

#if !KERN_VNNI
/* ---- weight-tile decoders (shared by every SIMD variant) ------------------ */

/* Where block k of row r of a tile goes. */
static inline uint8_t *
tile_u(struct kern_wtile *t, int r, size_t k)
{
	return t->u + ((size_t)r * t->nblk + k) * 32;
}

static inline void
tile_scales(struct kern_wtile *t, int r, size_t k, float fs0, float fs1,
    float fm)
{
	size_t b = (size_t)r * t->nblk + k;

	t->fs[2 * b] = fs0;
	t->fs[2 * b + 1] = fs1;
	t->fm[b] = fm;
}

static inline void
tile_kind(struct kern_wtile *t, int off, int halves, int has_min)
{
	t->off = off;
	t->halves = halves;
	t->has_min = has_min;
}

static void
decode_q8_0(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	const uint8_t *b = row;

	tile_kind(t, 128, 0, 0);
	for (size_t k = 0; k < nblk; k++, b += Q8_0_SIZE) {
		float d = f16(b);

		/* w + 128 as unsigned: w ^ 0x80 */
		_mm256_storeu_si256((__m256i *)(void *)tile_u(t, r, k),
		    _mm256_xor_si256(load32(b + 2), _mm256_set1_epi8((char)0x80)));
		tile_scales(t, r, k, d, d, 0.0f);
	}
}

/* Q4_0, Q4_1, Q5_0, Q5_1: `type` is a constant at every call site. */
INLINE void
decode_small(uint32_t type, const uint8_t *b, size_t nblk,
    struct kern_wtile *t, int r)
{
	for (size_t k = 0; k < nblk; k++) {
		float d = f16(b), m = 0.0f;
		__m256i q;

		switch (type) {
		case QT_Q4_0:
			q = nibbles16(b + 2);
			b += Q4_0_SIZE;
			break;
		case QT_Q4_1:
			q = nibbles16(b + 4);
			m = f16(b + 2);
			b += Q4_1_SIZE;
			break;
		case QT_Q5_0:
			q = _mm256_or_si256(nibbles16(b + 6),
			    bits32_to_0x10(b + 2));
			b += Q5_0_SIZE;
			break;
		default:	/* QT_Q5_1 */
			q = _mm256_or_si256(nibbles16(b + 8),
			    bits32_to_0x10(b + 4));
			m = f16(b + 2);
			b += Q5_1_SIZE;
			break;
		}
		_mm256_storeu_si256((__m256i *)(void *)tile_u(t, r, k), q);
		/* value q * d + m is d * q - (-m); 0 - m keeps a zero min
		 * +0, as the reference's dmin * 0 */
		tile_scales(t, r, k, d, d, 0.0f - m);
	}
}

static void
decode_q4_0(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	tile_kind(t, 8, 0, 0);
	decode_small(QT_Q4_0, row, nblk, t, r);
}

static void
decode_q4_1(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	tile_kind(t, 0, 0, 1);
	decode_small(QT_Q4_1, row, nblk, t, r);
}

static void
decode_q5_0(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	tile_kind(t, 16, 0, 0);
	decode_small(QT_Q5_0, row, nblk, t, r);
}

static void
decode_q5_1(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	tile_kind(t, 0, 0, 1);
	decode_small(QT_Q5_1, row, nblk, t, r);
}

INLINE void
decode_k45(int five, const uint8_t *b, size_t nblk, struct kern_wtile *t,
    int r)
{
	/* this row's slots, once: stores through t->u would make the
	 * compiler reload t's fields after every store */
	uint8_t *ub = t->u + (size_t)r * nblk * 32;
	float *fs = t->fs + (size_t)r * nblk * 2, *fm = t->fm + (size_t)r * nblk;

	tile_kind(t, 0, 0, 1);
	for (size_t i = 0; i < nblk / 8; i++) {
		const uint8_t *qs = b + (five ? 48 : 16);
		__m256i qh = five ? load32(b + 16) : _mm256_setzero_si256();
		__m256 vsc, vm, d8, lo, hi;
		uint32_t u[4];
		__m128i v;

		/* the eight 6-bit scales and mins (get_scale_min_k4 for
		 * all j at once, with 32-bit masks as ggml does) */
		memcpy(u, b + 4, 12);
		u[3] = ((u[2] >> 4) & 0x0f0f0f0f) |
		    (((u[1] >> 6) & 0x03030303) << 4);
		uint32_t mins_lo = u[1] & 0x3f3f3f3f;
		u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
		u[0] &= 0x3f3f3f3f;
		u[2] = mins_lo;
		v = _mm_loadu_si128((const __m128i *)(const void *)u);
		vsc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
		vm = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v,
		    8)));
		/* d * sc_j and dmin * m_j, the reference's products; each
		 * scale twice, for both halves of its block */
		d8 = _mm256_mul_ps(_mm256_set1_ps(f16(b)), vsc);
		lo = _mm256_unpacklo_ps(d8, d8);
		hi = _mm256_unpackhi_ps(d8, d8);
		_mm256_storeu_ps(fs + 16 * i, _mm256_permute2f128_ps(lo, hi,
		    0x20));
		_mm256_storeu_ps(fs + 16 * i + 8, _mm256_permute2f128_ps(lo, hi,
		    0x31));
		_mm256_storeu_ps(fm + 8 * i, _mm256_mul_ps(_mm256_set1_ps(
		    f16(b + 2)), vm));
		_Pragma("GCC unroll 16")
		for (int p = 0; p < 4; p++) {
			__m256i x = load32(qs + 32 * p), m4 = _mm256_set1_epi8(0x0f);
			__m256i q0 = _mm256_and_si256(x, m4);
			__m256i q1 = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);

			if (five) {
				q0 = _mm256_or_si256(q0, k_bit(qh, 2 * p));
				q1 = _mm256_or_si256(q1, k_bit(qh, 2 * p + 1));
			}
			_mm256_storeu_si256((__m256i *)(void *)(ub + 256 * i +
			    64 * p), q0);
			_mm256_storeu_si256((__m256i *)(void *)(ub + 256 * i +
			    64 * p + 32), q1);
		}
		b += five ? Q5_K_SIZE : Q4_K_SIZE;
	}
}

static void
decode_q4_k(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	decode_k45(0, row, nblk, t, r);
}

static void
decode_q5_k(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	decode_k45(1, row, nblk, t, r);
}

/* Q6_K: unsigned 6-bit values (offset 32 left in), a scale per 16. */
static void
decode_q6_k(const void *row, size_t nblk, struct kern_wtile *t, int r)
{
	const uint8_t *b = row;

	tile_kind(t, 32, 1, 0);
	for (size_t i = 0; i < nblk / 8; i++, b += Q6_K_SIZE) {
		const int8_t *sc = (const int8_t *)(b + 192);
		float d = f16(b + 208);

		_Pragma("GCC unroll 16")
		for (int h = 0; h < 2; h++) {
			__m256i qh = load32(b + 128 + 32 * h);

			_Pragma("GCC unroll 16")
			for (int g = 0; g < 4; g++) {
				__m256i lo = load32(b + 64 * h + 32 * (g & 1));
				__m256i hi;
				size_t k = 8 * i + 4 * h + g;

				lo = _mm256_and_si256(_mm256_srli_epi16(lo,
				    4 * (g >> 1)), _mm256_set1_epi8(0x0f));
				hi = _mm256_and_si256(_mm256_srli_epi16(qh,
				    2 * g), _mm256_set1_epi8(3));
				_mm256_storeu_si256((__m256i *)(void *)
				    tile_u(t, r, k), _mm256_or_si256(lo,
				    _mm256_slli_epi16(hi, 4)));
			}
		}
		/* block 4h + g has scales 8h + 2g and 8h + 2g + 1: the
		 * sixteen scales in order are the eight blocks' pairs */
		{
			size_t bi = (size_t)r * t->nblk + 8 * i;
			__m128i sc16 = _mm_loadu_si128((const __m128i *)
			    (const void *)sc);
			__m256 vd = _mm256_set1_ps(d);

			_mm256_storeu_ps(t->fs + 2 * bi, _mm256_mul_ps(vd,
			    _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc16))));
			_mm256_storeu_ps(t->fs + 2 * bi + 8, _mm256_mul_ps(vd,
			    _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
			    _mm_srli_si128(sc16, 8)))));
			_mm256_storeu_ps(t->fm + bi, _mm256_setzero_ps());
		}
	}
}
#endif	/* !KERN_VNNI: the VNNI build reuses the decoders above */

/* ---- prefill tiles --------------------------------------------------------- */

static inline __m256i
bcast32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof v);
	return _mm256_set1_epi32(v);
}

/* Eight tokens (t0 ..) of row r into out, row-major or token-major. */
static inline void
store8(float *out, int tr, int r, int t0, __m256 v)
{
	float tmp[8];

	if (!tr) {
		_mm256_storeu_ps(out + KERN_TT * r + t0, v);
		return;
	}
	_mm256_storeu_ps(tmp, v);
	for (int i = 0; i < 8; i++)
		out[(t0 + i) * KERN_TR + r] = tmp[i];
}

/*
 * One weight tile against one activation tile, as kern-avx512.c's
 * gemm_body, for 8-lane registers: the 16 tokens are two halves of 8, and
 * the KERN_TR rows go four at a time so that the integer and float
 * accumulators fit in the 16 registers.
 */
INLINE void
gemm_body(const struct kern_wtile *t, const struct kern_ablk *a,
    float *out, int tr, const int sh, const int halves, const int has_min)
{
	const size_t nblk = t->nblk;

	_Pragma("GCC unroll 16")
	for (int h = 0; h < 2; h++) {
		_Pragma("GCC unroll 16")
		for (int rg = 0; rg < KERN_TR; rg += 4) {
			__m256 acc[4];
			const struct kern_ablk *b = a;

			_Pragma("GCC unroll 16")
			for (int r = 0; r < 4; r++)
				acc[r] = _mm256_setzero_ps();
			for (size_t k = 0; k < nblk; k++, b++) {
				__m256i p0[4], p1[4];

				_Pragma("GCC unroll 16")
				for (int r = 0; r < 4; r++)
					p0[r] = p1[r] = _mm256_setzero_si256();
				_Pragma("GCC unroll 16")
				for (int g = 0; g < 8; g++) {
					__m256i av = load32(b->q[g][8 * h]);

					_Pragma("GCC unroll 16")
					for (int r = 0; r < 4; r++) {
						__m256i wb = bcast32(t->u +
						    ((rg + r) * nblk + k) * 32 +
						    4 * g);
#if !KERN_VNNI
						if (sh == 7) {
							/* signed w: |w| and its
							 * sign on a (see the
							 * comment at dpbusd) */
							wb = _mm256_xor_si256(wb,
							    _mm256_set1_epi8(
							    (char)0x80));
							if (g >= 4)
								p1[r] = dpbusd(
								    p1[r],
								    _mm256_sign_epi8(
								    wb, wb),
								    _mm256_sign_epi8(
								    av, wb));
							else
								p0[r] = dpbusd(
								    p0[r],
								    _mm256_sign_epi8(
								    wb, wb),
								    _mm256_sign_epi8(
								    av, wb));
							continue;
						}
#endif
						/* two chains per row */
						if (g >= 4)
							p1[r] = dpbusd(p1[r],
							    wb, av);
						else
							p0[r] = dpbusd(p0[r],
							    wb, av);
					}
				}
				__m256 d = _mm256_loadu_ps(b->d + 8 * h);
				__m256i s0 = load32(b->sum0 + 8 * h);
				__m256i s1 = load32(b->sum1 + 8 * h);

				if (halves) {
					__m256i c0 = _mm256_slli_epi32(s0, sh);
					__m256i c1 = _mm256_slli_epi32(s1, sh);

					_Pragma("GCC unroll 16")
					for (int r = 0; r < 4; r++) {
						const float *fs = t->fs +
						    ((rg + r) * nblk + k) * 2;
						__m256 f = _mm256_mul_ps(
						    _mm256_set1_ps(fs[0]),
						    _mm256_cvtepi32_ps(
						    _mm256_sub_epi32(p0[r],
						    c0)));

						f = _mm256_fmadd_ps(
						    _mm256_set1_ps(fs[1]),
						    _mm256_cvtepi32_ps(
						    _mm256_sub_epi32(p1[r],
						    c1)), f);
						acc[r] = _mm256_fmadd_ps(d, f,
						    acc[r]);
					}
				} else {
					__m256i s = _mm256_add_epi32(s0, s1);
					__m256i c = _mm256_slli_epi32(s, sh);
					__m256 sf = _mm256_cvtepi32_ps(s);

#if !KERN_VNNI
					if (sh == 7)
						c = _mm256_setzero_si256();
#endif
					_Pragma("GCC unroll 16")
					for (int r = 0; r < 4; r++) {
						size_t bi = (rg + r) * nblk + k;
						__m256i pa = _mm256_add_epi32(
						    p0[r], p1[r]);
						__m256i pi = sh ?
						    _mm256_sub_epi32(pa, c) : pa;
						__m256 f = _mm256_mul_ps(
						    _mm256_set1_ps(t->fs[2 * bi]),
						    _mm256_cvtepi32_ps(pi));

						if (has_min)
							f = _mm256_fnmadd_ps(
							    _mm256_set1_ps(
							    t->fm[bi]), sf, f);
						acc[r] = _mm256_fmadd_ps(d, f,
						    acc[r]);
					}
				}
			}
			_Pragma("GCC unroll 16")
			for (int r = 0; r < 4; r++)
				store8(out, tr, rg + r, 8 * h, acc[r]);
		}
	}
}

static void
gemm_q8(const struct kern_wtile *t, const struct kern_ablk *a, float *out,
    int tr)
{
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
	_Pragma("GCC unroll 16")
	for (int h = 0; h < 2; h++) {
		__m256 acc[KERN_TR];

		_Pragma("GCC unroll 16")
		for (int r = 0; r < KERN_TR; r++)
			acc[r] = _mm256_setzero_ps();
		for (size_t k = 0; k < n; k++) {
			__m256 av = _mm256_loadu_ps(a + 16 * k + 8 * h);

			_Pragma("GCC unroll 16")
			for (int r = 0; r < KERN_TR; r++)
				acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(
				    w[r * n + k]), av, acc[r]);
		}
		_Pragma("GCC unroll 16")
		for (int r = 0; r < KERN_TR; r++)
			store8(out, tr, r, 8 * h, acc[r]);
	}
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
/* ---- Q2_K, Q3_K, IQ4_NL, IQ4_XS, MXFP4 --------------------------------- */

#define IQ4_NL_SIZE	18	/* d, qs[16] */
#define MXFP4_SIZE	17	/* e, qs[16] */
#define IQ4_XS_SIZE	136	/* d, scales_h, scales_l[4], qs[128] */
#define Q2_K_SIZE	84	/* scales[16], qs[64], d, dmin */
#define Q3_K_SIZE	110	/* hmask[32], qs[64], scales[12], d */

/* The 4-bit grids of quant.c, in both 128-bit lanes for vpshufb. */
static inline __m256i
grid16(int mx)
{
	static const int8_t iq4[16] = { -127, -104, -83, -65, -49, -35, -22,
		-10, 1, 13, 25, 38, 53, 69, 89, 113 };
	static const int8_t fp4[16] = { 0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2,
		-3, -4, -6, -8, -12 };
	__m128i t = _mm_loadu_si128((const __m128i *)(const void *)
	    (mx ? fp4 : iq4));

	return _mm256_set_m128i(t, t);
}

/* 2^(e - 128) from its bits, subnormal below e = 2 (ggml's
 * E8M0_TO_FP32_HALF). */
static inline float
e8m0_half(uint8_t e)
{
	uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
	float f;

	memcpy(&f, &bits, sizeof f);
	return f;
}

/* IQ4_NL (mx = 0) and MXFP4 (mx = 1): nibbles looked up in a grid. */
INLINE void
grid_rows(int mx, const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const size_t bs = mx ? MXFP4_SIZE : IQ4_NL_SIZE;
	const __m256i grid = grid16(mx);
	__m256 acc[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 32; i++) {
		__m256i x[MAXW];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++)
			x[ra] = load32(a[ra * stride + i].q);
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * bs;
			float d = mx ? e8m0_half(b[0]) : f16(b);
			__m256i q;

			kern_prefetch(b, 32);
			q = _mm256_shuffle_epi8(grid, nibbles16(b + (mx ? 1 : 2)));
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				const struct qa_block *ar = a + ra * stride + i;
				int k = wr * na + ra;

				acc[k] = fma_i32(acc[k], d * ar->d,
				    dot_i8_i8(q, x[ra]));
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum_ps(acc[k]);
}

/*
 * IQ4_XS: eight IQ4_NL-like groups of 32 with 6-bit scales.  The eight
 * scales come out of the block in one vector (variable shifts of the
 * nibbles and of the high bits), times d and each activation row's a.d
 * once per block; a group then takes its float scale by one permute.
 */
INLINE void
iq4xs_rows(const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const __m256i grid = grid16(0);
	__m256 acc[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 256; i++) {
		__m256 da[MAXW];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++)
			da[ra] = act_d8(a + ra * stride + 8 * i);
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * IQ4_XS_SIZE;
			uint32_t lo4, hi2;
			__m256i ls;
			__m256 dj, s[MAXW];

			/* ls_j = nibble j of scales_l | 2 bits j of
			 * scales_h << 4 */
			memcpy(&lo4, b + 4, 4);
			hi2 = (uint32_t)(b[2] | b[3] << 8);
			ls = _mm256_or_si256(_mm256_and_si256(_mm256_srlv_epi32(
			    _mm256_set1_epi32((int)lo4), _mm256_setr_epi32(0,
			    4, 8, 12, 16, 20, 24, 28)), _mm256_set1_epi32(0xf)),
			    _mm256_slli_epi32(_mm256_and_si256(
			    _mm256_srlv_epi32(_mm256_set1_epi32((int)hi2),
			    _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
			    _mm256_set1_epi32(3)), 4));
			dj = _mm256_mul_ps(_mm256_set1_ps(f16(b)),
			    _mm256_cvtepi32_ps(_mm256_sub_epi32(ls,
			    _mm256_set1_epi32(32))));
			kern_prefetch(b, IQ4_XS_SIZE);
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++)
				s[ra] = _mm256_mul_ps(dj, da[ra]);
			_Pragma("GCC unroll 8")
			for (int j = 0; j < 8; j++) {
				__m256i q = _mm256_shuffle_epi8(grid,
				    nibbles16(b + 8 + 16 * j));

				_Pragma("GCC unroll 16")
				for (int ra = 0; ra < na; ra++) {
					const struct qa_block *ar =
					    a + ra * stride + 8 * i + j;
					int k = wr * na + ra;

					acc[k] = _mm256_fmadd_ps(
					    _mm256_permutevar8x32_ps(s[ra],
					    _mm256_set1_epi32(j)),
					    _mm256_cvtepi32_ps(dot_i8_i8(q,
					    load32(ar->q))), acc[k]);
				}
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum_ps(acc[k]);
}

/*
 * sum over 32 bytes of u * s (u unsigned, s signed), each half of 16
 * weighted by its own 16-bit factor (lo for bytes 0-15, hi for 16-31):
 * the factor rides in the pairwise add, so no 32-bit multiply is needed.
 * |u| <= 7 here, so the 16-bit pair sums cannot saturate.
 */
static inline __m256i
dot16x2(__m256i u, __m256i s, int lo, int hi)
{
	__m256i f = _mm256_set_m128i(_mm_set1_epi16((short)hi),
	    _mm_set1_epi16((short)lo));

	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), f);
}

/*
 * Q3_K: group g of half h (activation block 4h + g) is bits 2g, 2g+1 of
 * qs[32h ..] plus bit 4h + g of hmask as the third bit; value (q - 4)
 * times a 6-bit scale per 16.  The quants go in unsigned (0..7) and the
 * 4 comes off the int16 pair sums (4 a, once per activation block for all
 * weight rows); the sixteen scales are unpacked in a vector register and
 * each group's int16 scales are one byte shuffle (256 * scale, undone
 * exactly by d / 256 in the float scale).
 */
INLINE void
q3k_rows(const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4);
	__m256 acc[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 256; i++) {
		__m256 da[MAXW];
		__m256i off[MAXW][8];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++) {
			const struct qa_block *ar = a + ra * stride + 8 * i;

			da[ra] = act_d8(ar);
			_Pragma("GCC unroll 8")
			for (int kb = 0; kb < 8; kb++)
				off[ra][kb] = _mm256_maddubs_epi16(m4,
				    load32(ar[kb].q));
		}
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * Q3_K_SIZE;
			const __m256i hm = load32(b);
			/* bytes 2..13: scales[12] (the load ends at the
			 * block's last byte) */
			__m128i v = _mm_loadu_si128((const __m128i *)
			    (const void *)(b + 94));
			/* low 4 bits: j < 8 low nibble of sc[j], else the
			 * high nibble of sc[j - 8] */
			__m128i l = _mm_shuffle_epi8(v, _mm_setr_epi8(2, 3, 4,
			    5, 6, 7, 8, 9, 2, 3, 4, 5, 6, 7, 8, 9));
			__m128i lo = _mm_or_si128(_mm_and_si128(l,
			    _mm_setr_epi8(15, 15, 15, 15, 15, 15, 15, 15, 0,
			    0, 0, 0, 0, 0, 0, 0)), _mm_and_si128(
			    _mm_srli_epi16(l, 4), _mm_setr_epi8(0, 0, 0, 0,
			    0, 0, 0, 0, 15, 15, 15, 15, 15, 15, 15, 15)));
			/* high 2 bits: bits 2(j/4) of sc[8 + j%4], dword
			 * j/4 of sc[8..11] shifted by 2(j/4) */
			__m128i hi = _mm_and_si128(_mm_srlv_epi32(
			    _mm_shuffle_epi8(v, _mm_setr_epi8(10, 11, 12, 13,
			    10, 11, 12, 13, 10, 11, 12, 13, 10, 11, 12, 13)),
			    _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
			__m256i sc = _mm256_broadcastsi128_si256(_mm_sub_epi8(
			    _mm_or_si128(lo, _mm_slli_epi16(hi, 4)),
			    _mm_set1_epi8(32)));
			__m256 dd = _mm256_set1_ps(f16(b + 108) * 0x1p-8f);
			__m256 s[MAXW];

			kern_prefetch(b, Q3_K_SIZE);
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++)
				s[ra] = _mm256_mul_ps(dd, da[ra]);
			_Pragma("GCC unroll 2")
			for (int h = 0; h < 2; h++) {
				const __m256i qv = load32(b + 32 + 32 * h);

				_Pragma("GCC unroll 4")
				for (int g = 0; g < 4; g++) {
					const int kb = 4 * h + g;
					const char c0 = (char)(2 * kb);
					const char c1 = (char)(2 * kb + 1);
					/* bit kb of hmask to bit 2 (bits
					 * crossing bytes are masked off) */
					__m256i hb = kb <= 2 ?
					    _mm256_slli_epi16(hm, 2 - kb) :
					    _mm256_srli_epi16(hm, kb - 2);
					__m256i u = _mm256_or_si256(
					    _mm256_and_si256(_mm256_srli_epi16(
					    qv, 2 * g), m3),
					    _mm256_and_si256(hb, m4));
					/* [sc 2kb << 8] x 8, [sc 2kb+1 << 8] x 8 */
					__m256i s16 = _mm256_shuffle_epi8(sc,
					    _mm256_setr_epi8(-1, c0, -1, c0, -1,
					    c0, -1, c0, -1, c0, -1, c0, -1, c0,
					    -1, c0, -1, c1, -1, c1, -1, c1, -1,
					    c1, -1, c1, -1, c1, -1, c1, -1, c1));

					_Pragma("GCC unroll 16")
					for (int ra = 0; ra < na; ra++) {
						const struct qa_block *ar = a +
						    ra * stride + 8 * i + kb;
						int k = wr * na + ra;
						/* (u - 4) a in int16 pairs:
						 * |pair| <= 1016, so the
						 * int32 sums stay below 2^24 */
						__m256i p = _mm256_madd_epi16(
						    _mm256_sub_epi16(
						    _mm256_maddubs_epi16(u,
						    load32(ar->q)),
						    off[ra][kb]), s16);

						acc[k] = _mm256_fmadd_ps(
						    _mm256_permutevar8x32_ps(
						    s[ra], _mm256_set1_epi32(kb)),
						    _mm256_cvtepi32_ps(p), acc[k]);
					}
				}
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum_ps(acc[k]);
}

/*
 * Q2_K: unsigned 2-bit quants laid out as Q3_K's low bits, a 4-bit scale
 * and a 4-bit min per 16; the min meets the activations' per-16 sums.
 * Per block and activation row (shared by the weight rows): the eight
 * a.d and the sixteen half sums times a.d.  Per weight row: the mins are
 * two vectors against those, and each group's scales one byte shuffle
 * (256 * scale in int16, undone exactly by d / 256 in the float scale),
 * so a group is one maddubs, one madd, one permute and one FMA.
 */
INLINE void
q2k_rows(const uint8_t *w, size_t wstride, int nw,
    const struct qa_block *a, size_t stride, int na, size_t n, float *out)
{
	const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
	const __m256i one16 = _mm256_set1_epi16(1), nib = _mm256_set1_epi8(0xf);
	__m256 acc[MAXW], accm[MAXW];

	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		acc[k] = accm[k] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 256; i++) {
		__m256 da[MAXW], hs[MAXW][2];

		_Pragma("GCC unroll 16")
		for (int ra = 0; ra < na; ra++) {
			const struct qa_block *ar = a + ra * stride + 8 * i;
			__m256i v[8], h[2];

			da[ra] = act_d8(ar);
			_Pragma("GCC unroll 8")
			for (int kb = 0; kb < 8; kb++)
				v[kb] = _mm256_madd_epi16(_mm256_maddubs_epi16(
				    one, load32(ar[kb].q)), one16);
			/* lanes [group 4c..4c+3, first 16 | the same, last
			 * 16] of h[c]: j = 2 kb + half in that order */
			_Pragma("GCC unroll 2")
			for (int c = 0; c < 2; c++)
				h[c] = _mm256_hadd_epi32(_mm256_hadd_epi32(
				    v[4 * c], v[4 * c + 1]), _mm256_hadd_epi32(
				    v[4 * c + 2], v[4 * c + 3]));
			hs[ra][0] = _mm256_mul_ps(_mm256_cvtepi32_ps(h[0]),
			    _mm256_permutevar8x32_ps(da[ra], _mm256_setr_epi32(
			    0, 1, 2, 3, 0, 1, 2, 3)));
			hs[ra][1] = _mm256_mul_ps(_mm256_cvtepi32_ps(h[1]),
			    _mm256_permutevar8x32_ps(da[ra], _mm256_setr_epi32(
			    4, 5, 6, 7, 4, 5, 6, 7)));
		}
		_Pragma("GCC unroll 16")
		for (int wr = 0; wr < nw; wr++) {
			const uint8_t *b = w + wr * wstride + i * Q2_K_SIZE;
			__m128i sm = _mm_loadu_si128((const __m128i *)
			    (const void *)b);
			/* the scales in both halves; the mins in h's order */
			__m256i sc = _mm256_and_si256(
			    _mm256_broadcastsi128_si256(sm), nib);
			__m128i mo = _mm_shuffle_epi8(_mm_and_si128(
			    _mm_srli_epi16(sm, 4), _mm256_castsi256_si128(nib)),
			    _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14,
			    9, 11, 13, 15));
			__m256 mf0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(mo));
			__m256 mf1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
			    _mm_srli_si128(mo, 8)));
			__m256 dd = _mm256_set1_ps(f16(b + 80) * 0x1p-8f);
			__m256 dmin = _mm256_set1_ps(f16(b + 82)), s[MAXW];

			kern_prefetch(b, Q2_K_SIZE);
			_Pragma("GCC unroll 16")
			for (int ra = 0; ra < na; ra++) {
				int k = wr * na + ra;

				accm[k] = _mm256_fmadd_ps(dmin, _mm256_fmadd_ps(
				    mf1, hs[ra][1], _mm256_mul_ps(mf0,
				    hs[ra][0])), accm[k]);
				s[ra] = _mm256_mul_ps(dd, da[ra]);
			}
			_Pragma("GCC unroll 2")
			for (int hh = 0; hh < 2; hh++) {
				const __m256i qv = load32(b + 16 + 32 * hh);

				_Pragma("GCC unroll 4")
				for (int g = 0; g < 4; g++) {
					const int kb = 4 * hh + g;
					const char lo = (char)(2 * kb);
					const char hi = (char)(2 * kb + 1);
					__m256i q = _mm256_and_si256(
					    _mm256_srli_epi16(qv, 2 * g), m3);
					/* [sc 2kb << 8] x 8, [sc 2kb+1 << 8] x 8 */
					__m256i s16 = _mm256_shuffle_epi8(sc,
					    _mm256_setr_epi8(-1, lo, -1, lo, -1,
					    lo, -1, lo, -1, lo, -1, lo, -1, lo,
					    -1, lo, -1, hi, -1, hi, -1, hi, -1,
					    hi, -1, hi, -1, hi, -1, hi, -1, hi));

					_Pragma("GCC unroll 16")
					for (int ra = 0; ra < na; ra++) {
						const struct qa_block *ar = a +
						    ra * stride + 8 * i + kb;
						int k = wr * na + ra;
						__m256i p = _mm256_madd_epi16(
						    _mm256_maddubs_epi16(q,
						    load32(ar->q)), s16);

						acc[k] = _mm256_fmadd_ps(
						    _mm256_permutevar8x32_ps(
						    s[ra], _mm256_set1_epi32(kb)),
						    _mm256_cvtepi32_ps(p), acc[k]);
					}
				}
			}
		}
	}
	_Pragma("GCC unroll 16")
	for (int k = 0; k < nw * na; k++)
		out[k] = hsum_ps(acc[k]) - hsum_ps(accm[k]);
}

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
#define Q4_0_BODY(...)	small_rows(QT_Q4_0, __VA_ARGS__)
#define Q4_1_BODY(...)	small_rows(QT_Q4_1, __VA_ARGS__)
#define Q5_0_BODY(...)	small_rows(QT_Q5_0, __VA_ARGS__)
#define Q5_1_BODY(...)	small_rows(QT_Q5_1, __VA_ARGS__)
#define Q8_0_BODY(...)	small_rows(QT_Q8_0, __VA_ARGS__)
#define Q4_K_BODY(...)	k45_rows(0, __VA_ARGS__)
#define Q5_K_BODY(...)	k45_rows(1, __VA_ARGS__)
#define Q6_K_BODY(...)	q6k_rows(__VA_ARGS__)
Q8_INSTANCES(q4_0, Q4_0_BODY)
Q8_INSTANCES(q4_1, Q4_1_BODY)
Q8_INSTANCES(q5_0, Q5_0_BODY)
Q8_INSTANCES(q5_1, Q5_1_BODY)
Q8_INSTANCES(q8_0, Q8_0_BODY)
Q8_INSTANCES(q4_k, Q4_K_BODY)
Q8_INSTANCES(q5_k, Q5_K_BODY)
Q8_INSTANCES(q6_k, Q6_K_BODY)
#define IQ4_NL_BODY(...) grid_rows(0, __VA_ARGS__)
#define MXFP4_BODY(...)	grid_rows(1, __VA_ARGS__)
Q8_INSTANCES(iq4_nl, IQ4_NL_BODY)
Q8_INSTANCES(mxfp4, MXFP4_BODY)
Q8_INSTANCES(iq4_xs, iq4xs_rows)
Q8_INSTANCES(q3_k, q3k_rows)
Q8_INSTANCES(q2_k, q2k_rows)

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
		[QT_Q4_1] = dot_q4_1,
		[QT_Q5_0] = dot_q5_0,
		[QT_Q5_1] = dot_q5_1,
		[QT_Q8_0] = dot_q8_0,
		[QT_Q4_K] = dot_q4_k,
		[QT_Q5_K] = dot_q5_k,
		[QT_Q6_K] = dot_q6_k,
		[QT_Q2_K] = dot_q2_k,
		[QT_Q3_K] = dot_q3_k,
		[QT_IQ4_NL] = dot_iq4_nl,
		[QT_IQ4_XS] = dot_iq4_xs,
		[QT_MXFP4] = dot_mxfp4,
	},
	.dot4_q8 = {
		[QT_Q4_0] = dot4_q4_0,
		[QT_Q4_1] = dot4_q4_1,
		[QT_Q5_0] = dot4_q5_0,
		[QT_Q5_1] = dot4_q5_1,
		[QT_Q8_0] = dot4_q8_0,
		[QT_Q4_K] = dot4_q4_k,
		[QT_Q5_K] = dot4_q5_k,
		[QT_Q6_K] = dot4_q6_k,
		[QT_Q2_K] = dot4_q2_k,
		[QT_Q3_K] = dot4_q3_k,
		[QT_IQ4_NL] = dot4_iq4_nl,
		[QT_IQ4_XS] = dot4_iq4_xs,
		[QT_MXFP4] = dot4_mxfp4,
	},
	.dotw4_q8 = {
		[QT_Q4_0] = dotw4_q4_0,
		[QT_Q4_1] = dotw4_q4_1,
		[QT_Q5_0] = dotw4_q5_0,
		[QT_Q5_1] = dotw4_q5_1,
		[QT_Q8_0] = dotw4_q8_0,
		[QT_Q4_K] = dotw4_q4_k,
		[QT_Q5_K] = dotw4_q5_k,
		[QT_Q6_K] = dotw4_q6_k,
		[QT_Q2_K] = dotw4_q2_k,
		[QT_Q3_K] = dotw4_q3_k,
		[QT_IQ4_NL] = dotw4_iq4_nl,
		[QT_IQ4_XS] = dotw4_iq4_xs,
		[QT_MXFP4] = dotw4_mxfp4,
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
#if !KERN_VNNI
	.decode = {
		[QT_Q4_0] = decode_q4_0,
		[QT_Q4_1] = decode_q4_1,
		[QT_Q5_0] = decode_q5_0,
		[QT_Q5_1] = decode_q5_1,
		[QT_Q8_0] = decode_q8_0,
		[QT_Q4_K] = decode_q4_k,
		[QT_Q5_K] = decode_q5_k,
		[QT_Q6_K] = decode_q6_k,
	},
#endif
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
