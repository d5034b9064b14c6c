/*
 * att-avx512.c - attention kernels for AVX-512 (F, BW, VL, DQ): see
 * att.h.  Compiled with -mavx512f ... only; att.c calls them only when
 * kern.c picked an avx512 variant from cpuid.
 *
 * A tile of ATT_TT = 16 queries is one zmm register, so the scores of a
 * position, its softmax weights and a row of the weighted sum are one
 * register each, and the staged K and V^T values are broadcast from
 * memory into the multiply-adds.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "att.h"
#include "quant.h"
#include "vexp-avx512.h"

_Static_assert(ATT_TT == 16, "one zmm register per tile row");


static void
flash_block(const float *Kf, const float *Vf, size_t vs, size_t np,
    size_t hd, const float *Qt, const int32_t *first, const int32_t *last,
    float *m, float *l, float *Ot, float *S)
{
	const __m512i vf = _mm512_loadu_si512((const void *)first);
	const __m512i vl = _mm512_loadu_si512((const void *)last);
	const __m512 ninf = _mm512_set1_ps(-INFINITY);
	__m512 mo = _mm512_loadu_ps(m), mx = mo, ms, alpha;
	__m512 sum = _mm512_setzero_ps();
	__mmask16 seen[ATT_BP];

	/* S = K Q^T, 8 positions at a time (Kf has zero rows to 8) */
	for (size_t p0 = 0; p0 < np; p0 += 8) {
		const float *k = Kf + p0 * hd;
		__m512 acc[8];

		_Pragma("GCC unroll 8")
		for (int r = 0; r < 8; r++)
			acc[r] = _mm512_setzero_ps();
		for (size_t d = 0; d < hd; d++) {
			__m512 q = _mm512_load_ps(Qt + ATT_TT * d);

			_Pragma("GCC unroll 8")
			for (int r = 0; r < 8; r++)
				acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(
				    k[r * hd + d]), q, acc[r]);
		}
		_Pragma("GCC unroll 8")
		for (int r = 0; r < 8; r++)
			_mm512_store_ps(S + ATT_TT * (p0 + r), acc[r]);
	}
	/* the block's maximum over what each query sees */
	for (size_t p = 0; p < np; p++) {
		__m512i vp = _mm512_set1_epi32((int)p);

		seen[p] = _mm512_cmple_epi32_mask(vf, vp) &
		    _mm512_cmpge_epi32_mask(vl, vp);
		mx = _mm512_max_ps(mx, _mm512_mask_blend_ps(seen[p], ninf,
		    _mm512_load_ps(S + ATT_TT * p)));
	}
	/* nothing seen yet: every exp is 0, and so is alpha */
	ms = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ),
	    mx, _mm512_setzero_ps());
	alpha = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mo, ninf, _CMP_NEQ_OQ),
	    vexp(_mm512_sub_ps(mo, ms)));
	for (size_t p = 0; p < np; p++) {
		__m512 e = _mm512_maskz_mov_ps(seen[p], vexp(_mm512_sub_ps(
		    _mm512_load_ps(S + ATT_TT * p), ms)));

		_mm512_store_ps(S + ATT_TT * p, e);
		sum = _mm512_add_ps(sum, e);
	}
	_mm512_storeu_ps(l, _mm512_fmadd_ps(_mm512_loadu_ps(l), alpha, sum));
	_mm512_storeu_ps(m, mx);
	/* Ot = alpha Ot + V^T P, 8 rows of the head dim at a time (Vf and
	 * Ot have zero rows up to a multiple of 8) */
	for (size_t d0 = 0; d0 < hd; d0 += 8) {
		const float *v = Vf + d0 * vs;
		__m512 acc[8];

		_Pragma("GCC unroll 8")
		for (int r = 0; r < 8; r++)
			acc[r] = _mm512_mul_ps(_mm512_load_ps(Ot + ATT_TT *
			    (d0 + r)), alpha);
		for (size_t p = 0; p < np; p++) {
			__m512 pv = _mm512_load_ps(S + ATT_TT * p);

			_Pragma("GCC unroll 8")
			for (int r = 0; r < 8; r++)
				acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(
				    v[r * vs + p]), pv, acc[r]);
		}
		_Pragma("GCC unroll 8")
		for (int r = 0; r < 8; r++)
			_mm512_store_ps(Ot + ATT_TT * (d0 + r), acc[r]);
	}
}

/*
 * NT tiles at once: every broadcast value of K or V^T meets NT query
 * vectors (NT + 4 loads for 4 NT multiply-adds where one tile takes 5
 * for 4), the softmax as flash_block's per tile.
 */
static inline __attribute__((always_inline)) void
group_body(const float *Kf, const float *Vf, size_t vs, size_t np,
    size_t hd, const float *Qt, size_t ts, const int32_t *first,
    const int32_t *last, float *ml, float *Ot, float *S, const int NT)
{
	const __m512 ninf = _mm512_set1_ps(-INFINITY);
	float alpha[4][ATT_TT] __attribute__((aligned(64)));

	/* S_i = K Q_i^T, 4 positions at a time (Kf has zero rows to 8) */
	for (size_t p0 = 0; p0 < np; p0 += 4) {
		const float *k = Kf + p0 * hd;
		__m512 acc[4][4];

		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++)
			_Pragma("GCC unroll 4")
			for (int i = 0; i < NT; i++)
				acc[r][i] = _mm512_setzero_ps();
		for (size_t d = 0; d < hd; d++) {
			__m512 q[4];

			_Pragma("GCC unroll 4")
			for (int i = 0; i < NT; i++)
				q[i] = _mm512_load_ps(Qt + i * ts + ATT_TT * d);
			_Pragma("GCC unroll 4")
			for (int r = 0; r < 4; r++) {
				__m512 kv = _mm512_set1_ps(k[r * hd + d]);

				_Pragma("GCC unroll 4")
				for (int i = 0; i < NT; i++)
					acc[r][i] = _mm512_fmadd_ps(kv, q[i],
					    acc[r][i]);
			}
		}
		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++)
			_Pragma("GCC unroll 4")
			for (int i = 0; i < NT; i++)
				_mm512_store_ps(S + (i * ATT_BP + p0 + r) *
				    ATT_TT, acc[r][i]);
	}
	/* the online softmax of each tile */
	for (int i = 0; i < NT; i++) {
		const __m512i vf = _mm512_loadu_si512((const void *)(first +
		    i * ATT_TT));
		const __m512i vl = _mm512_loadu_si512((const void *)(last +
		    i * ATT_TT));
		float *m = ml + i * 2 * ATT_TT, *l = m + ATT_TT;
		float *Si = S + i * ATT_BP * ATT_TT;
		__m512 mo = _mm512_loadu_ps(m), mx = mo, ms, al;
		__m512 sum = _mm512_setzero_ps();
		__mmask16 seen[ATT_BP];

		for (size_t p = 0; p < np; p++) {
			__m512i vp = _mm512_set1_epi32((int)p);

			seen[p] = _mm512_cmple_epi32_mask(vf, vp) &
			    _mm512_cmpge_epi32_mask(vl, vp);
			mx = _mm512_max_ps(mx, _mm512_mask_blend_ps(seen[p],
			    ninf, _mm512_load_ps(Si + ATT_TT * p)));
		}
		ms = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(mx, ninf,
		    _CMP_EQ_OQ), mx, _mm512_setzero_ps());
		al = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mo, ninf,
		    _CMP_NEQ_OQ), vexp(_mm512_sub_ps(mo, ms)));
		for (size_t p = 0; p < np; p++) {
			__m512 e = _mm512_maskz_mov_ps(seen[p], vexp(
			    _mm512_sub_ps(_mm512_load_ps(Si + ATT_TT * p),
			    ms)));

			_mm512_store_ps(Si + ATT_TT * p, e);
			sum = _mm512_add_ps(sum, e);
		}
		_mm512_storeu_ps(l, _mm512_fmadd_ps(_mm512_loadu_ps(l), al,
		    sum));
		_mm512_storeu_ps(m, mx);
		_mm512_store_ps(alpha[i], al);
	}
	/* Ot_i = alpha_i Ot_i + V^T P_i, 4 rows of the head dim at a time
	 * (Vf and Ot have zero rows up to a multiple of 8) */
	for (size_t d0 = 0; d0 < hd; d0 += 4) {
		const float *v = Vf + d0 * vs;
		__m512 acc[4][4];

		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++)
			_Pragma("GCC unroll 4")
			for (int i = 0; i < NT; i++)
				acc[r][i] = _mm512_mul_ps(_mm512_load_ps(Ot +
				    i * ts + ATT_TT * (d0 + r)),
				    _mm512_load_ps(alpha[i]));
		for (size_t p = 0; p < np; p++) {
			__m512 pv[4];

			_Pragma("GCC unroll 4")
			for (int i = 0; i < NT; i++)
				pv[i] = _mm512_load_ps(S + (i * ATT_BP + p) *
				    ATT_TT);
			_Pragma("GCC unroll 4")
			for (int r = 0; r < 4; r++) {
				__m512 vv = _mm512_set1_ps(v[r * vs + p]);

				_Pragma("GCC unroll 4")
				for (int i = 0; i < NT; i++)
					acc[r][i] = _mm512_fmadd_ps(vv, pv[i],
					    acc[r][i]);
			}
		}
		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++)
			_Pragma("GCC unroll 4")
			for (int i = 0; i < NT; i++)
				_mm512_store_ps(Ot + i * ts + ATT_TT * (d0 + r),
				    acc[r][i]);
	}
}

static void
flash_group(const float *Kf, const float *Vf, size_t vs, size_t np,
    size_t hd, size_t nt, const float *Qt, size_t ts, const int32_t *first,
    const int32_t *last, float *ml, float *Ot, float *S)
{
	/* constant counts, so each compiles to its own unrolled loop */
	switch (nt) {
	case 1:
		group_body(Kf, Vf, vs, np, hd, Qt, ts, first, last, ml, Ot, S,
		    1);
		break;
	case 2:
		group_body(Kf, Vf, vs, np, hd, Qt, ts, first, last, ml, Ot, S,
		    2);
		break;
	case 3:
		group_body(Kf, Vf, vs, np, hd, Qt, ts, first, last, ml, Ot, S,
		    3);
		break;
	default:
		group_body(Kf, Vf, vs, np, hd, Qt, ts, first, last, ml, Ot, S,
		    4);
		break;
	}
}

static __m512
i8x16(const int8_t *p)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(
	    (const __m128i *)(const void *)p)));
}

static void
dq_q8_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;

	for (size_t i = 0; i < n; i += 32, b += 34) {
		uint16_t h;
		__m512 d;

		memcpy(&h, b, 2);
		d = _mm512_set1_ps(_cvtsh_ss(h));
		_mm512_storeu_ps(dst + i, _mm512_mul_ps(i8x16((const int8_t *)
		    b + 2), d));
		_mm512_storeu_ps(dst + i + 16, _mm512_mul_ps(i8x16(
		    (const int8_t *)b + 18), d));
	}
}

static void
dq_i8(const int8_t *src, const float *sc, float *dst, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dst + i, _mm512_mul_ps(i8x16(src + i),
		    _mm512_loadu_ps(sc + i)));
	for (; i < n; i++)
		dst[i] = (float)src[i] * sc[i];
}

static inline __m512 hsum16(const __m512 v[16]);

/*
 * dotn_i8: 16 / NX rows against NX (1, 2 or 4; a missing vector repeats
 * the first, its sums dropped) vectors, 16 sums in flight: each vector
 * load serves every row and the sums are reduced together (hsum16).
 * Constant loops keep them in registers; a ragged end of n is read with
 * masked loads.
 */
static inline __attribute__((always_inline)) void
i8_body(const int8_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride,
    const int NX)
{
	const int R = 16 / NX;
	size_t tail = n % 16;
	__mmask16 tm = (__mmask16)((1u << tail) - 1);
	const float *xs[4];

	_Pragma("GCC unroll 4")
	for (int g = 0; g < NX; g++)
		xs[g] = x + ((size_t)g < nx ? (size_t)g : 0) * xstride;
	for (size_t r = 0; r < nw; r += (size_t)R) {
		size_t nr = nw - r < (size_t)R ? nw - r : (size_t)R, i = 0;
		const int8_t *wr[16];
		__m512 acc[16];
		float o[16];

		_Pragma("GCC unroll 16")
		for (int k = 0; k < R; k++)
			wr[k] = w + (r + ((size_t)k < nr ? (size_t)k : 0)) *
			    wstride;
		_Pragma("GCC unroll 16")
		for (int k = 0; k < 16; k++)
			acc[k] = _mm512_setzero_ps();
		for (; i + 16 <= n; i += 16) {
			__m512 xv[4];

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NX; g++)
				xv[g] = _mm512_loadu_ps(xs[g] + i);
			_Pragma("GCC unroll 16")
			for (int k = 0; k < R; k++) {
				__m512 wv = i8x16(wr[k] + i);

				_Pragma("GCC unroll 4")
				for (int g = 0; g < NX; g++)
					acc[k * NX + g] = _mm512_fmadd_ps(wv,
					    xv[g], acc[k * NX + g]);
			}
		}
		if (tail != 0) {
			__m512 xv[4];

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NX; g++)
				xv[g] = _mm512_maskz_loadu_ps(tm, xs[g] + i);
			_Pragma("GCC unroll 16")
			for (int k = 0; k < R; k++) {
				__m512 wv = _mm512_cvtepi32_ps(
				    _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(tm,
				    wr[k] + i)));

				_Pragma("GCC unroll 4")
				for (int g = 0; g < NX; g++)
					acc[k * NX + g] = _mm512_fmadd_ps(wv,
					    xv[g], acc[k * NX + g]);
			}
		}
		_mm512_storeu_ps(o, hsum16(acc));
		for (size_t k = 0; k < nr; k++)
			for (size_t g = 0; g < nx; g++)
				out[g * ostride + r + k] = o[k * (size_t)NX + g];
	}
}

static void
dotn_i8(const int8_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride)
{
	if (nx == 1)
		i8_body(w, wstride, nw, x, xstride, nx, n, out, ostride, 1);
	else if (nx == 2)
		i8_body(w, wstride, nw, x, xstride, nx, n, out, ostride, 2);
	else
		i8_body(w, wstride, nw, x, xstride, nx, n, out, ostride, 4);
}

/* The sums of four vectors (kern-avx512.c's hsum4x512). */
static inline __m128
hsum4(__m512 a, __m512 b, __m512 c, __m512 d)
{
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

/* Four Q8_0 rows against NX (1, 2 or 4) vectors: each block is widened
 * to f32 and scaled once for all the vectors; 16 sums in flight, kept in
 * registers by constant loops (a missing row or vector repeats the
 * first, its sums dropped). */
static inline __attribute__((always_inline)) void
q8_body(const void *w, size_t nw, const float *x, size_t xstride,
    size_t nx, size_t n, float *out, size_t ostride, const int NX)
{
	size_t rb = n / 32 * 34;
	const float *xs[4];

	_Pragma("GCC unroll 4")
	for (int g = 0; g < NX; g++)
		xs[g] = x + ((size_t)g < nx ? (size_t)g : 0) * xstride;
	for (size_t r = 0; r < nw; r += 4) {
		size_t nr = nw - r < 4 ? nw - r : 4;
		const uint8_t *row[4];
		__m512 acc[4][4];
		float o[4][4];

		_Pragma("GCC unroll 4")
		for (int k = 0; k < 4; k++) {
			row[k] = (const uint8_t *)w + (r + ((size_t)k < nr ?
			    (size_t)k : 0)) * rb;
			_Pragma("GCC unroll 4")
			for (int g = 0; g < NX; g++)
				acc[k][g] = _mm512_setzero_ps();
		}
		for (size_t i = 0; i < n; i += 32) {
			_Pragma("GCC unroll 4")
			for (int k = 0; k < 4; k++) {
				const uint8_t *b = row[k] + i / 32 * 34;
				uint16_t h;
				__m512 d, w0, w1;

				memcpy(&h, b, 2);
				d = _mm512_set1_ps(_cvtsh_ss(h));
				w0 = _mm512_mul_ps(i8x16((const int8_t *)b + 2),
				    d);
				w1 = _mm512_mul_ps(i8x16((const int8_t *)b +
				    18), d);
				_Pragma("GCC unroll 4")
				for (int g = 0; g < NX; g++) {
					acc[k][g] = _mm512_fmadd_ps(w0,
					    _mm512_loadu_ps(xs[g] + i),
					    acc[k][g]);
					acc[k][g] = _mm512_fmadd_ps(w1,
					    _mm512_loadu_ps(xs[g] + i + 16),
					    acc[k][g]);
				}
			}
		}
		_Pragma("GCC unroll 4")
		for (int g = 0; g < NX; g++)
			_mm_storeu_ps(o[g], hsum4(acc[0][g], acc[1][g],
			    acc[2][g], acc[3][g]));
		for (size_t g = 0; g < nx; g++)
			for (size_t k = 0; k < nr; k++)
				out[g * ostride + r + k] = o[g][k];
	}
}

static void
dotn_q8_0(const void *w, size_t nw, const float *x, size_t xstride,
    size_t nx, size_t n, float *out, size_t ostride)
{
	if (nx == 1)
		q8_body(w, nw, x, xstride, nx, n, out, ostride, 1);
	else if (nx == 2)
		q8_body(w, nw, x, xstride, nx, n, out, ostride, 2);
	else
		q8_body(w, nw, x, xstride, nx, n, out, ostride, 4);
}

/* ---- decode: the scores of a few queries against K rows ------------------ */

/*
 * The sums of 16 vectors, lane j = the sum of v[j]: pairs, then quads,
 * then the 128-bit lanes (45 instructions for 16 sums, and one store).
 */
static inline __m512
hsum16(const __m512 v[16])
{
	__m512 u[8], w[4], z0, z1;

	_Pragma("GCC unroll 8")
	for (int m = 0; m < 8; m++)
		u[m] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * m], v[2 * m + 1]),
		    _mm512_unpackhi_ps(v[2 * m], v[2 * m + 1]));
	_Pragma("GCC unroll 4")
	for (int m = 0; m < 4; m++) {
		__m512d a = _mm512_castps_pd(u[2 * m]);
		__m512d b = _mm512_castps_pd(u[2 * m + 1]);

		w[m] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
		    _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
	}
	z0 = _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], 0x88),
	    _mm512_shuffle_f32x4(w[0], w[1], 0xdd));
	z1 = _mm512_add_ps(_mm512_shuffle_f32x4(w[2], w[3], 0x88),
	    _mm512_shuffle_f32x4(w[2], w[3], 0xdd));
	return _mm512_add_ps(_mm512_shuffle_f32x4(z0, z1, 0x88),
	    _mm512_shuffle_f32x4(z0, z1, 0xdd));
}

/*
 * NQ queries (1, 2 or 4) against 16 / NQ rows of K at a time: 16 sums
 * in flight, each K value widened once for all the queries, the sums
 * reduced together (hsum16: lane p * NQ + g is position p, query g) and
 * put in S's rows by a permutation and a masked store per query.  A
 * ragged end of hd is read with masked loads, a ragged end of the rows
 * repeats the last row and stores only what is there.
 */
static inline __attribute__((always_inline)) void
qk_body(const uint16_t *K, size_t np, size_t hd, const float *q, size_t nq,
    float *S, size_t sst, float *mx, const int NQ)
{
	const int P = 16 / NQ;
	size_t tail = hd % 16;
	__mmask16 tm = (__mmask16)((1u << tail) - 1);
	const float *qs[4];
	__m512i perm;
	__m512 vmx = _mm512_set1_ps(-INFINITY);
	int32_t idx[16];
	float m[16];

	for (int g = 0; g < NQ; g++) {
		qs[g] = q + ((size_t)g < nq ? (size_t)g : 0) * hd;
		for (int p = 0; p < P; p++)
			idx[g * P + p] = p * NQ + g;
	}
	perm = _mm512_loadu_si512((const void *)idx);
	for (size_t p0 = 0; p0 < np; p0 += (size_t)P) {
		size_t n = np - p0 < (size_t)P ? np - p0 : (size_t)P, i = 0;
		const uint16_t *kr[16];
		__m512 acc[16], s;
		__mmask16 valid;

		_Pragma("GCC unroll 16")
		for (int p = 0; p < P; p++)
			kr[p] = K + (p0 + ((size_t)p < n ? (size_t)p : n - 1)) *
			    hd;
		_Pragma("GCC unroll 16")
		for (int j = 0; j < 16; j++)
			acc[j] = _mm512_setzero_ps();
		/* the rows a few KiB on: one contiguous stream per head */
		for (size_t o = 0; o < (size_t)P * hd * 2; o += 64)
			__builtin_prefetch((const char *)(K + p0 * hd) +
			    ATT_PF + o, 0, 3);
		for (; i + 16 <= hd; i += 16) {
			__m512 qv[4];

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NQ; g++)
				qv[g] = _mm512_loadu_ps(qs[g] + i);
			_Pragma("GCC unroll 16")
			for (int p = 0; p < P; p++) {
				__m512 kv = _mm512_cvtph_ps(_mm256_loadu_si256(
				    (const __m256i *)(const void *)(kr[p] + i)));

				_Pragma("GCC unroll 4")
				for (int g = 0; g < NQ; g++)
					acc[p * NQ + g] = _mm512_fmadd_ps(kv,
					    qv[g], acc[p * NQ + g]);
			}
		}
		if (tail != 0) {
			__m512 qv[4];

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NQ; g++)
				qv[g] = _mm512_maskz_loadu_ps(tm, qs[g] + i);
			_Pragma("GCC unroll 16")
			for (int p = 0; p < P; p++) {
				__m512 kv = _mm512_cvtph_ps(
				    _mm256_maskz_loadu_epi16(tm, kr[p] + i));

				_Pragma("GCC unroll 4")
				for (int g = 0; g < NQ; g++)
					acc[p * NQ + g] = _mm512_fmadd_ps(kv,
					    qv[g], acc[p * NQ + g]);
			}
		}
		/* lane g * P + p: query g, position p */
		s = _mm512_permutexvar_ps(perm, hsum16(acc));
		valid = 0;
		for (int g = 0; g < NQ; g++)
			valid |= (__mmask16)(((1u << n) - 1) << (g * P));
		vmx = _mm512_mask_max_ps(vmx, valid, vmx, s);
		for (int g = 0; g < NQ && (size_t)g < nq; g++)
			_mm512_mask_storeu_ps(S + g * sst + p0 - (size_t)g * P,
			    (__mmask16)(((1u << n) - 1) << (g * P)), s);
	}
	_mm512_storeu_ps(m, vmx);
	for (size_t g = 0; g < nq; g++) {
		mx[g] = -INFINITY;
		for (int p = 0; p < P; p++)
			mx[g] = m[g * P + p] > mx[g] ? m[g * P + p] : mx[g];
	}
}

static void
dec_qk_f16(const uint16_t *K, size_t np, size_t hd, const float *q,
    size_t nq, float *S, size_t sst, float *mx)
{
	if (nq == 1)
		qk_body(K, np, hd, q, nq, S, sst, mx, 1);
	else if (nq == 2)
		qk_body(K, np, hd, q, nq, S, sst, mx, 2);
	else
		qk_body(K, np, hd, q, nq, S, sst, mx, 4);
}

const struct att_impl att_impl_avx512 = {
	.name = "avx512",
	.flash_block = flash_block,
	.flash_group = flash_group,
	.dq_q8_0 = dq_q8_0,
	.dq_i8 = dq_i8,
	.dotn_i8 = dotn_i8,
	.dotn_q8_0 = dotn_q8_0,
	.dec_qk_f16 = dec_qk_f16,
};
