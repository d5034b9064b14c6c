/*
 * att-avx2.c - attention kernels for AVX2 + FMA + F16C: see att.h.
 * Compiled with -mavx2 -mfma -mf16c only; att.c calls them only when
 * kern.c picked an avx2 variant from cpuid.
 *
 * A tile of ATT_TT = 16 queries is two ymm registers; with 16 registers
 * the products go 4 positions (or 4 rows of the head dim) at a time.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "att.h"
#include "quant.h"
#include "vexp-avx2.h"

_Static_assert(ATT_TT == 16, "two ymm registers per tile row");


static void
flash_block(const float *Kf, const float *Vf, size_t vs, size_t np,
    size_t hd, const float *Qt, const int32_t *first, const int32_t *last,
    float *m, float *l, float *Ot, float *S)
{
	const __m256i one = _mm256_set1_epi32(1);
	const __m256 ninf = _mm256_set1_ps(-INFINITY);
	__m256i vf[2], vl[2];
	__m256 mo[2], mx[2], ms[2], alpha[2], sum[2];

	for (int h = 0; h < 2; h++) {
		vf[h] = _mm256_loadu_si256((const __m256i *)(const void *)
		    (first + 8 * h));
		/* p <= last as p < last + 1 */
		vl[h] = _mm256_add_epi32(_mm256_loadu_si256(
		    (const __m256i *)(const void *)(last + 8 * h)), one);
		mo[h] = mx[h] = _mm256_loadu_ps(m + 8 * h);
		sum[h] = _mm256_setzero_ps();
	}
	/* S = K Q^T, 4 positions at a time (Kf has zero rows to 8) */
	for (size_t p0 = 0; p0 < np; p0 += 4) {
		const float *k = Kf + p0 * hd;
		__m256 acc[4][2];

		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++)
			acc[r][0] = acc[r][1] = _mm256_setzero_ps();
		for (size_t d = 0; d < hd; d++) {
			__m256 q0 = _mm256_load_ps(Qt + ATT_TT * d);
			__m256 q1 = _mm256_load_ps(Qt + ATT_TT * d + 8);

			_Pragma("GCC unroll 4")
			for (int r = 0; r < 4; r++) {
				__m256 kv = _mm256_broadcast_ss(k + r * hd + d);

				acc[r][0] = _mm256_fmadd_ps(kv, q0, acc[r][0]);
				acc[r][1] = _mm256_fmadd_ps(kv, q1, acc[r][1]);
			}
		}
		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++) {
			_mm256_store_ps(S + ATT_TT * (p0 + r), acc[r][0]);
			_mm256_store_ps(S + ATT_TT * (p0 + r) + 8, acc[r][1]);
		}
	}
	/* what each query does not see becomes -inf */
	for (size_t p = 0; p < np; p++) {
		__m256i vp = _mm256_set1_epi32((int)p);

		for (int h = 0; h < 2; h++) {
			__m256 out = _mm256_castsi256_ps(_mm256_or_si256(
			    _mm256_cmpgt_epi32(vf[h], vp),
			    _mm256_cmpgt_epi32(_mm256_add_epi32(vp, one),
			    vl[h])));
			__m256 x = _mm256_blendv_ps(_mm256_load_ps(S +
			    ATT_TT * p + 8 * h), ninf, out);

			_mm256_store_ps(S + ATT_TT * p + 8 * h, x);
			mx[h] = _mm256_max_ps(mx[h], x);
		}
	}
	for (int h = 0; h < 2; h++) {
		/* nothing seen yet: every exp is 0, and so is alpha */
		ms[h] = _mm256_blendv_ps(mx[h], _mm256_setzero_ps(),
		    _mm256_cmp_ps(mx[h], ninf, _CMP_EQ_OQ));
		alpha[h] = vexp(_mm256_sub_ps(mo[h], ms[h]));
	}
	for (size_t p = 0; p < np; p++)
		for (int h = 0; h < 2; h++) {
			__m256 e = vexp(_mm256_sub_ps(_mm256_load_ps(S +
			    ATT_TT * p + 8 * h), ms[h]));

			_mm256_store_ps(S + ATT_TT * p + 8 * h, e);
			sum[h] = _mm256_add_ps(sum[h], e);
		}
	for (int h = 0; h < 2; h++) {
		_mm256_storeu_ps(l + 8 * h, _mm256_fmadd_ps(_mm256_loadu_ps(
		    l + 8 * h), alpha[h], sum[h]));
		_mm256_storeu_ps(m + 8 * h, mx[h]);
	}
	/* Ot = alpha Ot + V^T P, 4 rows of the head dim at a time (Vf and
	 * Ot have zero rows up to a multiple of 8) */
	for (size_t d0 = 0; d0 < hd; d0 += 4) {
		const float *v = Vf + d0 * vs;
		__m256 acc[4][2];

		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++) {
			acc[r][0] = _mm256_mul_ps(_mm256_load_ps(Ot + ATT_TT *
			    (d0 + r)), alpha[0]);
			acc[r][1] = _mm256_mul_ps(_mm256_load_ps(Ot + ATT_TT *
			    (d0 + r) + 8), alpha[1]);
		}
		for (size_t p = 0; p < np; p++) {
			__m256 p0 = _mm256_load_ps(S + ATT_TT * p);
			__m256 p1 = _mm256_load_ps(S + ATT_TT * p + 8);

			_Pragma("GCC unroll 4")
			for (int r = 0; r < 4; r++) {
				__m256 vv = _mm256_broadcast_ss(v + r * vs + p);

				acc[r][0] = _mm256_fmadd_ps(vv, p0, acc[r][0]);
				acc[r][1] = _mm256_fmadd_ps(vv, p1, acc[r][1]);
			}
		}
		_Pragma("GCC unroll 4")
		for (int r = 0; r < 4; r++) {
			_mm256_store_ps(Ot + ATT_TT * (d0 + r), acc[r][0]);
			_mm256_store_ps(Ot + ATT_TT * (d0 + r) + 8, acc[r][1]);
		}
	}
}

static __m256
i8x8(const int8_t *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
	    (const __m128i *)(const void *)p)));
}

static void
dq_q8_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;

	for (size_t i = 0; i < n; i += 32, b += 34) {
		uint16_t h;
		__m256 d;

		memcpy(&h, b, 2);
		d = _mm256_set1_ps(_cvtsh_ss(h));
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(dst + i + 8 * k, _mm256_mul_ps(i8x8(
			    (const int8_t *)b + 2 + 8 * k), d));
	}
}

static void
dq_i8(const int8_t *src, const float *sc, float *dst, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_mul_ps(i8x8(src + i),
		    _mm256_loadu_ps(sc + i)));
	for (; i < n; i++)
		dst[i] = (float)src[i] * sc[i];
}

static float
hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
	    _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* nx <= 4: NX (1, 2 or 4; a missing vector repeats the first, its sums
 * dropped) as a constant, so the sums stay in registers */
static inline __attribute__((always_inline)) void
i8_body(const int8_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride,
    const int NX)
{
	const float *xs[4];

	_Pragma("GCC unroll 4")
	for (int g = 0; g < NX; g++)
		xs[g] = x + ((size_t)g < nx ? (size_t)g : 0) * xstride;
	for (size_t r = 0; r < nw; r++) {
		const int8_t *wr = w + r * wstride;
		__m256 acc[4][2];
		size_t i = 0;

		_Pragma("GCC unroll 4")
		for (int g = 0; g < NX; g++)
			acc[g][0] = acc[g][1] = _mm256_setzero_ps();
		for (; i + 16 <= n; i += 16) {
			__m256 w0 = i8x8(wr + i), w1 = i8x8(wr + i + 8);

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NX; g++) {
				acc[g][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(
				    xs[g] + i), acc[g][0]);
				acc[g][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(
				    xs[g] + i + 8), acc[g][1]);
			}
		}
		_Pragma("GCC unroll 4")
		for (int g = 0; g < NX; g++) {
			float sm = hsum(_mm256_add_ps(acc[g][0], acc[g][1]));

			for (size_t k = i; k < n; k++)
				sm += (float)wr[k] * xs[g][k];
			if ((size_t)g < nx)
				out[g * ostride + r] = sm;
		}
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

/* Two Q8_0 rows against NX (1, 2 or 4) vectors: each block is widened
 * to f32 and scaled once for all the vectors; constant loops keep the
 * sums in registers (a missing row or vector repeats the first, its
 * sums dropped). */
static inline __attribute__((always_inline)) void
q8_body(const void *w, size_t nw, const float *x, size_t xstride,
    size_t nx, size_t n, float *out, size_t ostride, const int NX)
{
	size_t rb = n / 32 * 34;
	const float *xs[4];

	_Pragma("GCC unroll 4")
	for (int g = 0; g < NX; g++)
		xs[g] = x + ((size_t)g < nx ? (size_t)g : 0) * xstride;
	for (size_t r = 0; r < nw; r += 2) {
		size_t nr = nw - r < 2 ? nw - r : 2;
		const uint8_t *row[2];
		__m256 acc[2][4];

		_Pragma("GCC unroll 2")
		for (int k = 0; k < 2; k++) {
			row[k] = (const uint8_t *)w + (r + ((size_t)k < nr ?
			    (size_t)k : 0)) * rb;
			_Pragma("GCC unroll 4")
			for (int g = 0; g < NX; g++)
				acc[k][g] = _mm256_setzero_ps();
		}
		for (size_t i = 0; i < n; i += 32) {
			_Pragma("GCC unroll 2")
			for (int k = 0; k < 2; k++) {
				const uint8_t *b = row[k] + i / 32 * 34;
				uint16_t h;
				__m256 d, wv[4];

				memcpy(&h, b, 2);
				d = _mm256_set1_ps(_cvtsh_ss(h));
				_Pragma("GCC unroll 4")
				for (int q = 0; q < 4; q++)
					wv[q] = _mm256_mul_ps(i8x8((const int8_t *)
					    b + 2 + 8 * q), d);
				_Pragma("GCC unroll 4")
				for (int g = 0; g < NX; g++)
					_Pragma("GCC unroll 4")
					for (int q = 0; q < 4; q++)
						acc[k][g] = _mm256_fmadd_ps(wv[q],
						    _mm256_loadu_ps(xs[g] + i +
						    8 * q), acc[k][g]);
			}
		}
		_Pragma("GCC unroll 4")
		for (int g = 0; g < NX; g++)
			_Pragma("GCC unroll 2")
			for (int k = 0; k < 2; k++)
				if ((size_t)g < nx && (size_t)k < nr)
					out[g * ostride + r + k] =
					    hsum(acc[k][g]);
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

/* The sums of 8 vectors, lane j = the sum of v[j]. */
static inline __m256
hsum8(const __m256 v[8])
{
	__m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]),
	    _mm256_hadd_ps(v[2], v[3]));
	__m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]),
	    _mm256_hadd_ps(v[6], v[7]));

	return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20),
	    _mm256_permute2f128_ps(a, b, 0x31));
}

/* Lanes lo .. hi-1 set. */
static inline __m256i
lanes8(int lo, int hi)
{
	__m256i i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

	return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), i),
	    _mm256_cmpgt_epi32(i, _mm256_set1_epi32(lo - 1)));
}

/*
 * att-avx512.c's qk_body with 8 lanes: NQ queries (1, 2 or 4) against
 * 8 / NQ rows at a time, 8 sums in flight.  A ragged end of hd comes
 * from a zero-padded copy (AVX2 has no masked 16-bit load).
 */
static inline __attribute__((always_inline)) void
qk_body(const uint16_t *K, size_t np, size_t hd, const float *q, size_t nq,
    float *S, size_t sst, float *mx, const int NQ)
{
	const int P = 8 / NQ;
	size_t tail = hd % 8, hb = hd - tail;
	__m256i tm = lanes8(0, (int)tail);
	const float *qs[4];
	__m256i perm;
	__m256 vmx = _mm256_set1_ps(-INFINITY), ninf = vmx;
	int32_t idx[8];
	float m[8];

	for (int g = 0; g < NQ; g++) {
		qs[g] = q + ((size_t)g < nq ? (size_t)g : 0) * hd;
		for (int p = 0; p < P; p++)
			idx[g * P + p] = p * NQ + g;
	}
	perm = _mm256_loadu_si256((const __m256i *)(const void *)idx);
	for (size_t p0 = 0; p0 < np; p0 += (size_t)P) {
		size_t n = np - p0 < (size_t)P ? np - p0 : (size_t)P, i = 0;
		const uint16_t *kr[8];
		__m256 acc[8], s;

		_Pragma("GCC unroll 8")
		for (int p = 0; p < P; p++)
			kr[p] = K + (p0 + ((size_t)p < n ? (size_t)p : n - 1)) *
			    hd;
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 8; j++)
			acc[j] = _mm256_setzero_ps();
		for (size_t o = 0; o < (size_t)P * hd * 2; o += 64)
			__builtin_prefetch((const char *)(K + p0 * hd) +
			    ATT_PF + o, 0, 3);
		for (; i < hb; i += 8) {
			__m256 qv[4];

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NQ; g++)
				qv[g] = _mm256_loadu_ps(qs[g] + i);
			_Pragma("GCC unroll 8")
			for (int p = 0; p < P; p++) {
				__m256 kv = _mm256_cvtph_ps(_mm_loadu_si128(
				    (const __m128i *)(const void *)(kr[p] + i)));

				_Pragma("GCC unroll 4")
				for (int g = 0; g < NQ; g++)
					acc[p * NQ + g] = _mm256_fmadd_ps(kv,
					    qv[g], acc[p * NQ + g]);
			}
		}
		if (tail != 0) {
			__m256 qv[4];

			_Pragma("GCC unroll 4")
			for (int g = 0; g < NQ; g++)
				qv[g] = _mm256_maskload_ps(qs[g] + i, tm);
			_Pragma("GCC unroll 8")
			for (int p = 0; p < P; p++) {
				uint16_t h[8] = { 0 };
				__m256 kv;

				memcpy(h, kr[p] + i, tail * sizeof *h);
				kv = _mm256_cvtph_ps(_mm_loadu_si128(
				    (const __m128i *)(const void *)h));
				_Pragma("GCC unroll 4")
				for (int g = 0; g < NQ; g++)
					acc[p * NQ + g] = _mm256_fmadd_ps(kv,
					    qv[g], acc[p * NQ + g]);
			}
		}
		/* lane g * P + p: query g, position p */
		s = _mm256_permutevar8x32_ps(hsum8(acc), perm);
		for (int g = 0; g < NQ; g++) {
			__m256i vm = lanes8(g * P, g * P + (int)n);

			vmx = _mm256_max_ps(vmx, _mm256_blendv_ps(ninf, s,
			    _mm256_castsi256_ps(vm)));
			if ((size_t)g < nq)
				_mm256_maskstore_ps(S + g * sst + p0 -
				    (size_t)g * P, vm, s);
		}
	}
	_mm256_storeu_ps(m, vmx);
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

const struct att_impl att_impl_avx2 = {
	.name = "avx2",
	.flash_block = flash_block,
	.dq_q8_0 = dq_q8_0,
	.dq_i8 = dq_i8,
	.dotn_i8 = dotn_i8,
	.dotn_q8_0 = dotn_q8_0,
	.dec_qk_f16 = dec_qk_f16,
};
