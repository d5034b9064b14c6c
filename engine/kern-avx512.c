/*
 * kern-avx512.c - AVX-512 (F, BW, DQ) dot kernels: two 32-value blocks
 * per 512-bit operation.  Compiled with the AVX-512 flags of the Makefile
 * and only called after kern.c has seen avx512f/bw/dq in cpuid.  Types
 * without a kernel here (Q4_1, Q5_0, Q5_1) use the AVX2 ones.
 *
 * The structure follows kern-avx2.c: each kernel body runs over `nr`
 * activation rows and is instantiated for 1 and KERN_TILE rows, with
 * identical per-row arithmetic, so batches match single rows bit for bit.
 * Without VNNI (not assumed) the int8 dot is maddubs + madd, with the
 * weight's sign moved onto the activation by a masked negation.
 */
#include <stdint.h>
#include <string.h>

#include "kern.h"
#include "quant.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
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

/* 16 int32 lanes, each the sum of 4 products u[i] * s[i] (u unsigned). */
static inline __m512i
dot_u8_i8(__m512i u, __m512i s)
{
	return _mm512_madd_epi16(_mm512_maddubs_epi16(u, s),
	    _mm512_set1_epi16(1));
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

static inline float
f16(const uint8_t *p)
{
	return quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
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
	return quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
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
	for (int r = 0; r < nr; r++)					\
		a0[r] = a1[r] = _mm512_setzero_ps();			\
	for (; i + 32 <= n; i += 32) {					\
		__m512 w0 = LOAD(w + ESIZE * i);			\
		__m512 w1 = LOAD(w + ESIZE * (i + 16));			\
		for (int r = 0; r < nr; r++) {				\
			const float *xr = x + r * stride + i;		\
			a0[r] = _mm512_fmadd_ps(w0,			\
			    _mm512_loadu_ps(xr), a0[r]);		\
			a1[r] = _mm512_fmadd_ps(w1,			\
			    _mm512_loadu_ps(xr + 16), a1[r]);		\
		}							\
	}								\
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

/* Q8_0 (four = 0) and Q4_0 (four = 1), two blocks per step; an odd last
 * block runs with a zero second half. */
INLINE void
small_rows(int four, const uint8_t *b, const struct qa_block *a,
    size_t stride, size_t n, int nr, float *out)
{
	const size_t bs = four ? Q4_0_SIZE : Q8_0_SIZE;
	size_t nblk = n / 32;
	__m512 acc[KERN_TILE];

	for (int r = 0; r < nr; r++)
		acc[r] = _mm512_setzero_ps();
	for (size_t i = 0; i < nblk; i += 2, b += 2 * bs) {
		int two = i + 1 < nblk;
		__m256i q0, q1 = _mm256_setzero_si256();
		float d0 = f16(b), d1 = two ? f16(b + bs) : 0.0f;
		__m512i q;

		if (four) {
			q0 = _mm256_sub_epi8(nibbles16(b + 2),
			    _mm256_set1_epi8(8));
			if (two)
				q1 = _mm256_sub_epi8(nibbles16(b + bs + 2),
				    _mm256_set1_epi8(8));
		} else {
			q0 = load32(b + 2);
			if (two)
				q1 = load32(b + bs + 2);
		}
		q = join(q0, q1);
		for (int r = 0; r < nr; r++) {
			const struct qa_block *ar = a + r * stride + i;
			__m512i aq = join(load32(ar[0].q),
			    two ? load32(ar[1].q) : _mm256_setzero_si256());

			acc[r] = fma2_i32(acc[r], d0 * ar[0].d,
			    two ? d1 * ar[1].d : 0.0f, dot_i8_i8(q, aq));
		}
	}
	for (int r = 0; r < nr; r++)
		out[r] = hsum512(acc[r]);
}

/* ---- K-quants ------------------------------------------------------------ */

#define Q4_K_SIZE	144	/* d, dmin, scales[12], qs[128] */
#define Q5_K_SIZE	176	/* d, dmin, scales[12], qh[32], qs[128] */
#define Q6_K_SIZE	210	/* ql[128], qh[64], scales[16], d */

static inline void
scales_k4(const uint8_t *q, uint8_t sc[8], uint8_t m[8])
{
	for (int j = 0; j < 4; j++) {
		sc[j] = q[j] & 63;
		m[j] = q[j + 4] & 63;
		sc[j + 4] = (uint8_t)((q[j + 8] & 0xf) | ((q[j] >> 6) << 4));
		m[j + 4] = (uint8_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
	}
}

/* Sub-blocks 2p and 2p+1: low then high nibbles of the same 32 bytes. */
static inline __m512i
k_nibble_pair(const uint8_t *qs, int p)
{
	__m256i v = load32(qs + 32 * p), m = _mm256_set1_epi8(0x0f);

	return join(_mm256_and_si256(v, m),
	    _mm256_and_si256(_mm256_srli_epi16(v, 4), m));
}

/* Bits 2p and 2p+1 of each byte of qh as 0x10 in the matching half. */
static inline __m512i
k_bit_pair(__m256i qh, int p)
{
	__m512i q = join(qh, qh);
	__m512i bit = join(_mm256_set1_epi8((char)(1 << (2 * p))),
	    _mm256_set1_epi8((char)(2 << (2 * p))));
	__mmask64 set = _mm512_test_epi8_mask(q, bit);

	return _mm512_maskz_mov_epi8(set, _mm512_set1_epi8(0x10));
}

INLINE void
k45_rows(int five, const uint8_t *b, const struct qa_block *a,
    size_t stride, size_t n, int nr, float *out)
{
	__m512 acc[KERN_TILE];
	float mins[KERN_TILE];

	for (int r = 0; r < nr; r++) {
		acc[r] = _mm512_setzero_ps();
		mins[r] = 0.0f;
	}
	for (size_t i = 0; i < n / 256; i++) {
		const uint8_t *qs = b + (five ? 48 : 16);
		float d = f16(b), dmin = f16(b + 2), m_acc[KERN_TILE];
		__m256i qh = five ? load32(b + 16) : _mm256_setzero_si256();
		uint8_t sc[8], m[8];

		scales_k4(b + 4, sc, m);
		for (int r = 0; r < nr; r++)
			m_acc[r] = 0.0f;
		for (int p = 0; p < 4; p++) {
			__m512i q = k_nibble_pair(qs, p);

			if (five)
				q = _mm512_or_si512(q, k_bit_pair(qh, p));
			for (int r = 0; r < nr; r++) {
				const struct qa_block *ar = a + r * stride +
				    8 * i + 2 * p;

				acc[r] = fma2_i32(acc[r],
				    d * (float)sc[2 * p] * ar[0].d,
				    d * (float)sc[2 * p + 1] * ar[1].d,
				    dot_u8_i8(q, act2(ar)));
				m_acc[r] += ar[0].d *
				    (float)(m[2 * p] * ar[0].sum);
				m_acc[r] += ar[1].d *
				    (float)(m[2 * p + 1] * ar[1].sum);
			}
		}
		for (int r = 0; r < nr; r++)
			mins[r] += dmin * m_acc[r];
		b += five ? Q5_K_SIZE : Q4_K_SIZE;
	}
	for (int r = 0; r < nr; r++)
		out[r] = hsum512(acc[r]) - mins[r];
}

/*
 * Q6_K: per half of 128 values, groups (0, 1) are the low nibbles of the
 * 64 ql bytes and groups (2, 3) their high nibbles; each 16 values have
 * their own scale, applied to the 16-bit pair sums (lane k of 128 bits
 * covers 16 values and takes scale k of the four).
 */
INLINE void
q6k_rows(const uint8_t *b, const struct qa_block *a, size_t stride,
    size_t n, int nr, float *out)
{
	__m512 acc[KERN_TILE];
	const __m512i lane_of = _mm512_set_epi16(
	    3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2,
	    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);

	for (int r = 0; r < nr; r++)
		acc[r] = _mm512_setzero_ps();
	for (size_t i = 0; i < n / 256; i++, b += Q6_K_SIZE) {
		float d = f16(b + 208);
		/* the 16 scales as int16 */
		__m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(
		    _mm_loadu_si128((const __m128i *)(b + 192))));

		for (int h = 0; h < 2; h++) {
			__m512i ql = _mm512_loadu_si512((const void *)
			    (b + 64 * h));
			__m256i qh = load32(b + 128 + 32 * h);

			for (int p = 0; p < 2; p++) {
				__m512i lo = _mm512_and_si512(
				    _mm512_srli_epi16(ql, 4 * p),
				    _mm512_set1_epi8(0x0f));
				__m256i m3 = _mm256_set1_epi8(3);
				__m512i hi = join(
				    _mm256_and_si256(_mm256_srli_epi16(qh,
				    4 * p), m3),
				    _mm256_and_si256(_mm256_srli_epi16(qh,
				    4 * p + 2), m3));
				__m512i q = _mm512_sub_epi8(_mm512_or_si512(lo,
				    _mm512_slli_epi16(hi, 4)),
				    _mm512_set1_epi8(32));
				__m512i aq = _mm512_abs_epi8(q);
				__m512i s16 = _mm512_permutexvar_epi16(
				    _mm512_add_epi16(lane_of,
				    _mm512_set1_epi16((short)(8 * h + 4 * p))),
				    sc16);

				for (int r = 0; r < nr; r++) {
					const struct qa_block *ar = a +
					    r * stride + 8 * i + 4 * h + 2 * p;
					__m512i s = _mm512_madd_epi16(
					    _mm512_maddubs_epi16(aq,
					    sign_of(act2(ar), q)), s16);

					acc[r] = fma2_i32(acc[r], d * ar[0].d,
					    d * ar[1].d, s);
				}
			}
		}
	}
	for (int r = 0; r < nr; r++)
		out[r] = hsum512(acc[r]);
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

#define Q8_INSTANCES(NAME, CALL)					\
static float								\
dot_##NAME(const void *w, const struct qa_block *a, size_t n)		\
{									\
	const size_t stride = 0;					\
	const int nr = 1;						\
	float o, *out = &o;						\
	CALL;								\
	return o;							\
}									\
static void								\
dot4_##NAME(const void *w, const struct qa_block *a, size_t stride,	\
    size_t n, float *out)						\
{									\
	const int nr = KERN_TILE;					\
	CALL;								\
}
Q8_INSTANCES(q4_0, small_rows(1, w, a, stride, n, nr, out))
Q8_INSTANCES(q8_0, small_rows(0, w, a, stride, n, nr, out))
Q8_INSTANCES(q4_k, k45_rows(0, w, a, stride, n, nr, out))
Q8_INSTANCES(q5_k, k45_rows(1, w, a, stride, n, nr, out))
Q8_INSTANCES(q6_k, q6k_rows(w, a, stride, n, nr, out))

const struct kern_impl kern_impl_avx512 = {
	.name = "avx512",
	.fallback = &kern_impl_avx2,
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
};

#else	/* not built for AVX-512: only the fallback; kern.c never picks it */

const struct kern_impl kern_impl_avx512 = {
	.name = "avx512",
	.fallback = &kern_impl_avx2,
};

#endif
