/*
 * vexp-avx2.h - e^x on eight floats, shared by kern-avx2.c (softmax,
 * SiLU) and att-avx2.c (flash attention); include only from files
 * compiled with -mavx2 -mfma.
 */
#ifndef VEXP_AVX2_H
#define VEXP_AVX2_H

#include <immintrin.h>

/*
 * e^x to about 1 ulp (Cephes expf): x = k ln2 + r with |r| <= ln2/2, a
 * degree-6 polynomial for e^r, and 2^k built in the exponent bits.
 * Inputs below -87.3 (and -inf) give 0, above 88.37 they saturate.
 */
static inline __m256
vexp(__m256 x)
{
	const __m256 hi = _mm256_set1_ps(88.3762626647949f);
	const __m256 lo = _mm256_set1_ps(-87.3365447505531f);
	__m256 k, r, p, zero = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
	__m256i e;

	x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
	k = _mm256_round_ps(_mm256_mul_ps(x,
	    _mm256_set1_ps(1.44269504088896341f)),
	    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
	p = _mm256_set1_ps(1.9875691500e-4f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r),
	    _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
	e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k),
	    _mm256_set1_epi32(127)), 23);
	p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
	return _mm256_andnot_ps(zero, p);
}

#endif
