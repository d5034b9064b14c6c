/*
 * kern-avx2.c - AVX2 + FMA + F16C dot kernels.  Compiled with -mavx2
 * -mfma -mf16c (see the Makefile) and only called after kern.c has seen
 * those features in cpuid.  Each kernel computes what quant_dot_q8 (or
 * the plain float dot) computes; only the order of float additions
 * differs, which test-kern bounds.
 *
 * Integer dot products use the usual trick for int8 x int8 on AVX2:
 * _mm256_maddubs_epi16 wants one unsigned operand, so the weight's sign
 * is moved onto the activation (sign_epi8) and its absolute value taken.
 * That is exact as long as the activation is never -128 (quant_act_q8
 * clamps to [-127, 127]) and pair sums fit in int16 (|w| <= 128).
 */
#include <stdint.h>
#include <string.h>

#include "kern.h"
#include "quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
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

/* 8 int32 lanes, each the sum of 4 products u[i] * s[i] (u unsigned). */
static inline __m256i
dot_u8_i8(__m256i u, __m256i s)
{
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s),
	    _mm256_set1_epi16(1));
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

static inline float
f16(const uint8_t *p)
{
	return quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

/* acc += scale * (float)ints */
static inline __m256
fma_i32(__m256 acc, float scale, __m256i ints)
{
	return _mm256_fmadd_ps(_mm256_set1_ps(scale),
	    _mm256_cvtepi32_ps(ints), acc);
}

/*
 * Every kernel below is written once as an always-inline body over `nr`
 * activation rows (stride apart) and instantiated for nr = 1 (the dot of
 * kern_impl) and nr = KERN_TILE (dot4: one weight row decoded once for
 * four activation rows, for batches).  Each activation row goes through
 * exactly the same operations in both, so a batch gives bit-identical
 * results to one row at a time.
 */
#define INLINE	static inline __attribute__((always_inline))

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
	return quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
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
	for (int r = 0; r < nr; r++)					\
		a0[r] = a1[r] = _mm256_setzero_ps();			\
	for (; i + 16 <= n; i += 16) {					\
		__m256 w0 = LOAD(w + ESIZE * i);			\
		__m256 w1 = LOAD(w + ESIZE * (i + 8));			\
		for (int r = 0; r < nr; r++) {				\
			const float *xr = x + r * stride + i;		\
			a0[r] = _mm256_fmadd_ps(w0,			\
			    _mm256_loadu_ps(xr), a0[r]);		\
			a1[r] = _mm256_fmadd_ps(w1,			\
			    _mm256_loadu_ps(xr + 8), a1[r]);		\
		}							\
	}								\
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
INLINE void
small_rows(uint32_t type, const uint8_t *b, const struct qa_block *a,
    size_t stride, size_t n, int nr, float *out)
{
	__m256 acc[KERN_TILE];
	float mins[KERN_TILE];

	for (int r = 0; r < nr; r++) {
		acc[r] = _mm256_setzero_ps();
		mins[r] = 0.0f;
	}
	for (size_t i = 0; i < n / 32; i++) {
		__m256i q;
		float d = f16(b), m = 0.0f;
		int is_signed = 1;

		switch (type) {
		case QT_Q4_0:
			q = _mm256_sub_epi8(nibbles16(b + 2),
			    _mm256_set1_epi8(8));
			b += Q4_0_SIZE;
			break;
		case QT_Q4_1:
			q = nibbles16(b + 4);
			m = f16(b + 2);
			is_signed = 0;
			b += Q4_1_SIZE;
			break;
		case QT_Q5_0:
			q = _mm256_or_si256(nibbles16(b + 6),
			    bits32_to_0x10(b + 2));
			q = _mm256_sub_epi8(q, _mm256_set1_epi8(16));
			b += Q5_0_SIZE;
			break;
		case QT_Q5_1:
			q = _mm256_or_si256(nibbles16(b + 8),
			    bits32_to_0x10(b + 4));
			m = f16(b + 2);
			is_signed = 0;
			b += Q5_1_SIZE;
			break;
		default:	/* QT_Q8_0 */
			q = load32(b + 2);
			b += Q8_0_SIZE;
			break;
		}
		for (int r = 0; r < nr; r++) {
			const struct qa_block *ar = a + r * stride + i;
			__m256i p = is_signed ? dot_i8_i8(q, load32(ar->q)) :
			    dot_u8_i8(q, load32(ar->q));

			acc[r] = fma_i32(acc[r], d * ar->d, p);
			if (!is_signed)
				mins[r] += m * ar->d * (float)ar->sum;
		}
	}
	for (int r = 0; r < nr; r++)
		out[r] = hsum_ps(acc[r]) + mins[r];
}

/* ---- K-quants: 256-element superblocks over 8 activation blocks --------- */

#define Q4_K_SIZE	144	/* d, dmin, scales[12], qs[128] */
#define Q5_K_SIZE	176	/* d, dmin, scales[12], qh[32], qs[128] */
#define Q6_K_SIZE	210	/* ql[128], qh[64], scales[16], d */

/* The 6-bit scales and mins of a Q4_K/Q5_K block (get_scale_min_k4). */
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

/* Bit j of each of the 32 bytes of qh -> 0x10 or 0 (Q5_K's fifth bit). */
static inline __m256i
k_bit(__m256i qh, int j)
{
	__m256i bit = _mm256_set1_epi8((char)(1 << j));

	return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit),
	    bit), _mm256_set1_epi8(0x10));
}

/* Q4_K (five = 0) and Q5_K (five = 1): unsigned quants with 6-bit
 * scales and mins per 32 values. */
INLINE void
k45_rows(int five, const uint8_t *b, const struct qa_block *a,
    size_t stride, size_t n, int nr, float *out)
{
	__m256 acc[KERN_TILE];
	float mins[KERN_TILE];

	for (int r = 0; r < nr; r++) {
		acc[r] = _mm256_setzero_ps();
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
		for (int j = 0; j < 8; j++) {
			__m256i q = k_nibbles(qs, j);

			if (five)
				q = _mm256_or_si256(q, k_bit(qh, j));
			for (int r = 0; r < nr; r++) {
				const struct qa_block *ar = a + r * stride +
				    8 * i + j;

				acc[r] = fma_i32(acc[r], d * (float)sc[j] *
				    ar->d, dot_u8_i8(q, load32(ar->q)));
				m_acc[r] += ar->d * (float)(m[j] * ar->sum);
			}
		}
		for (int r = 0; r < nr; r++)
			mins[r] += dmin * m_acc[r];
		b += five ? Q5_K_SIZE : Q4_K_SIZE;
	}
	for (int r = 0; r < nr; r++)
		out[r] = hsum_ps(acc[r]) - mins[r];
}

INLINE void
q6k_rows(const uint8_t *b, const struct qa_block *a, size_t stride,
    size_t n, int nr, float *out)
{
	__m256 acc[KERN_TILE];

	for (int r = 0; r < nr; r++)
		acc[r] = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 256; i++, b += Q6_K_SIZE) {
		const int8_t *sc = (const int8_t *)(b + 192);
		float d = f16(b + 208);

		for (int h = 0; h < 2; h++) {
			__m256i qh = load32(b + 128 + 32 * h);

			for (int g = 0; g < 4; g++) {
				__m256i lo = load32(b + 64 * h + 32 * (g & 1));
				__m256i hi, q, aq, s16;

				lo = _mm256_and_si256(_mm256_srli_epi16(lo,
				    4 * (g >> 1)), _mm256_set1_epi8(0x0f));
				hi = _mm256_and_si256(_mm256_srli_epi16(qh,
				    2 * g), _mm256_set1_epi8(3));
				q = _mm256_sub_epi8(_mm256_or_si256(lo,
				    _mm256_slli_epi16(hi, 4)),
				    _mm256_set1_epi8(32));
				aq = _mm256_sign_epi8(q, q);
				/* values 0..15 and 16..31 have their own
				 * scale: the 16-bit pair sums of each half
				 * are weighted before summing to 32 bits */
				s16 = _mm256_set_m128i(
				    _mm_set1_epi16(sc[8 * h + 2 * g + 1]),
				    _mm_set1_epi16(sc[8 * h + 2 * g]));
				for (int r = 0; r < nr; r++) {
					const struct qa_block *ar = a +
					    r * stride + 8 * i + 4 * h + g;
					__m256i p = _mm256_madd_epi16(
					    _mm256_maddubs_epi16(aq,
					    _mm256_sign_epi8(load32(ar->q), q)),
					    s16);

					acc[r] = fma_i32(acc[r], d * ar->d, p);
				}
			}
		}
	}
	for (int r = 0; r < nr; r++)
		out[r] = hsum_ps(acc[r]);
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
Q8_INSTANCES(q4_0, small_rows(QT_Q4_0, w, a, stride, n, nr, out))
Q8_INSTANCES(q4_1, small_rows(QT_Q4_1, w, a, stride, n, nr, out))
Q8_INSTANCES(q5_0, small_rows(QT_Q5_0, w, a, stride, n, nr, out))
Q8_INSTANCES(q5_1, small_rows(QT_Q5_1, w, a, stride, n, nr, out))
Q8_INSTANCES(q8_0, small_rows(QT_Q8_0, w, a, stride, n, nr, out))
Q8_INSTANCES(q4_k, k45_rows(0, w, a, stride, n, nr, out))
Q8_INSTANCES(q5_k, k45_rows(1, w, a, stride, n, nr, out))
Q8_INSTANCES(q6_k, q6k_rows(w, a, stride, n, nr, out))

const struct kern_impl kern_impl_avx2 = {
	.name = "avx2",
	.fallback = &kern_impl_scalar,
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
	},
};

#else	/* not built for AVX2: an empty table; kern.c never selects it */

const struct kern_impl kern_impl_avx2 = {
	.name = "avx2",
	.fallback = &kern_impl_scalar,
};

#endif
