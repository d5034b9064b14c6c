/*
 * vexp-avx512.h - e^x on sixteen floats, shared by kern-avx512.c
 * (softmax, SiLU) and att-avx512.c (flash attention); include only from
 * files compiled with -mavx512f.
 */
#ifndef VEXP_AVX512_H
#define VEXP_AVX512_H

#include <immintrin.h>

/*
 * e^x to about 1 ulp (Cephes expf): x = k ln2 + r with |r| <= ln2/2, a
 * degree-6 polynomial for e^r, and VSCALEFPS for the 2^k.  Inputs below
 * -104 (and -inf) give 0 (or a denormal at most), above 88.7 +inf.
 */
static inline __m512
vexp(__m512 x)
{
	const __m512 hi = _mm512_set1_ps(88.72283f), lo = _mm512_set1_ps(-104.0f);
	__m512 k, r, p;

	x = _mm512_max_ps(_mm512_min_ps(x, hi), lo);
	k = _mm512_roundscale_ps(_mm512_mul_ps(x,
	    _mm512_set1_ps(1.44269504088896341f)),
	    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
	r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
	p = _mm512_set1_ps(1.9875691500e-4f);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
	p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r),
	    _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
	return _mm512_scalef_ps(p, k);
}

#endif
