/*
 * test-quant.c - tensor types (quant.c): half-precision conversions, the
 * block layouts (hand-built blocks with independently computed values),
 * quantize/dequantize round trips, determinism of the quantizers, the
 * 8-bit activation format and its dot products, and the real golden GGUF
 * files dequantized against their F32 original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "gguf.h"
#include "quant.h"

/* ---- helpers ------------------------------------------------------------- */

/* splitmix64: integer-only, so the test data is the same everywhere. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1): a 24-bit integer scaled by a power of two (exact). */
static float
rng_unif(uint64_t *s)
{
	return (float)((int32_t)(rng_next(s) >> 40) - (1 << 23)) * 0x1p-23f;
}

/* Roughly normal with standard deviation `sd`: sum of four uniforms. */
static void
fill_normal(float *x, size_t n, float sd, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		float v = rng_unif(&seed) + rng_unif(&seed) + rng_unif(&seed) +
		    rng_unif(&seed);
		x[i] = v * sd * 0.8660254f;	/* sqrt(3/4): unit variance */
	}
}

static uint64_t
fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* sqrt(sum (a-b)^2 / sum b^2) */
static double
rel_rms(const float *a, const float *b, size_t n)
{
	double e = 0, s = 0;

	for (size_t i = 0; i < n; i++) {
		double d = (double)a[i] - b[i];
		e += d * d;
		s += (double)b[i] * b[i];
	}
	return s > 0 ? sqrt(e / s) : sqrt(e);
}

static size_t
row_bytes(uint32_t type, size_t n)
{
	uint64_t b;

	assert_int_equal(quant_row_bytes(type, n, &b), 0);
	return (size_t)b;
}

/* Quantize n floats of `type` and dequantize them back into y. */
static void
round_trip(uint32_t type, const float *x, float *y, size_t n)
{
	void *q = malloc(row_bytes(type, n));

	assert_non_null(q);
	assert_int_equal(quant_quantize_row(type, x, q, n), 0);
	assert_int_equal(quant_dequant_row(type, q, y, n), 0);
	free(q);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Value of an f16 computed from its fields in double precision. */
static double
f16_value(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
	double v;

	if (exp == 0)
		v = ldexp(man, -24);
	else
		v = ldexp(1024 + man, exp - 25);
	return sign ? -v : v;
}

/*
 * Per-type error bound on N(0, 1) data: the relative RMS error measured on
 * this data (noted beside each) with ~20% margin.  The same bounds hold
 * for the golden files' weights.  A wrong layout or scale gives ~100%.
 */
static const struct {
	uint32_t type;
	double	 max_rel_rms;
} bounds[] = {
	{ QT_F32,  0.0 },
	{ QT_F16,  3.0e-4 },	/* 2.1e-4 */
	{ QT_BF16, 2.2e-3 },	/* 1.7e-3 */
	{ QT_Q8_0, 0.0070 },	/* 0.0054 */
	{ QT_Q4_0, 0.105 },	/* 0.086 */
	{ QT_Q4_1, 0.095 },	/* 0.078 */
	{ QT_Q5_0, 0.052 },	/* 0.043 */
	{ QT_Q5_1, 0.046 },	/* 0.038 */
	{ QT_Q4_K, 0.087 },	/* 0.071 */
	{ QT_Q5_K, 0.044 },	/* 0.036 */
	{ QT_Q6_K, 0.022 },	/* 0.0175 */
	{ QT_Q2_K, 0.38 },	/* 0.317 */
	{ QT_Q3_K, 0.18 },	/* 0.150 */
	{ QT_IQ4_NL, 0.093 },	/* 0.0774 */
	{ QT_IQ4_XS, 0.093 },	/* 0.0777 */
	{ QT_MXFP4, 0.135 },	/* 0.113 */
};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

static const uint32_t qtypes[] = {
	QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q8_0, QT_Q4_K, QT_Q5_K, QT_Q6_K,
	QT_Q2_K, QT_Q3_K, QT_IQ4_NL, QT_IQ4_XS, QT_MXFP4,
};
#define NQTYPES (sizeof qtypes / sizeof qtypes[0])

/* ---- type table ---------------------------------------------------------- */

static void
test_quant_info_knows_ggml_ids_only(void **state)
{
	(void)state;
	assert_string_equal(quant_info(QT_Q4_K)->name, "Q4_K");
	assert_int_equal(quant_info(QT_Q6_K)->size, 210);
	assert_null(quant_info(4));	/* removed Q4_2 */
	assert_null(quant_info(5));
	assert_null(quant_info(31));
	assert_null(quant_info(QT_COUNT));
	assert_null(quant_info(UINT32_MAX));
	assert_false(quant_info(QT_IQ2_XS)->supported);
}

static void
test_quant_row_bytes_rejects_partial_blocks_and_overflow(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(quant_row_bytes(QT_Q4_K, 512, &b), 0);
	assert_int_equal(b, 288);
	assert_int_equal(quant_row_bytes(QT_Q8_0, 4096, &b), 0);
	assert_int_equal(b, 4352);
	assert_int_equal(quant_row_bytes(QT_Q4_K, 100, &b), -1);
	assert_int_equal(quant_row_bytes(QT_Q4_0, 33, &b), -1);
	assert_int_equal(quant_row_bytes(QT_F32, UINT64_MAX / 2, &b), -1);
	assert_int_equal(quant_row_bytes(99, 32, &b), -1);
}

static void
test_quant_rows_reject_unsupported_types_and_lengths(void **state)
{
	float x[256] = { 0 }, y[256];
	uint8_t q[512];

	(void)state;
	memset(q, 0, sizeof q);
	assert_int_equal(quant_dequant_row(QT_IQ2_XXS, q, y, 256), -1);
	assert_int_equal(quant_quantize_row(QT_IQ3_S, x, q, 256), -1);
	assert_int_equal(quant_dequant_row(QT_IQ4_XS, q, y, 32), -1);
	assert_int_equal(quant_dequant_row(QT_Q4_K, q, y, 32), -1);
	assert_int_equal(quant_quantize_row(QT_Q8_0, x, q, 48), -1);
	assert_int_equal(quant_dequant_row(77, q, y, 32), -1);
}

/* ---- half precision ------------------------------------------------------ */

static void
test_f16_every_value_round_trips_and_is_exact(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = quant_f16_to_f32((uint16_t)h);
		int exp = (h >> 10) & 31, man = h & 1023;

		if (exp == 31 && man != 0) {
			assert_true(isnan(f));
			assert_true(isnan(quant_f16_to_f32(
			    quant_f32_to_f16(f))));
			continue;
		}
		if (exp == 31)
			assert_true(isinf(f) && (f < 0) == (h >> 15));
		else if ((double)f != f16_value((uint16_t)h))
			fail_msg("f16 %#06x -> %a, want %a", h, f,
			    f16_value((uint16_t)h));
		if (quant_f32_to_f16(f) != h)
			fail_msg("f16 %#06x -> %a -> %#06x", h, f,
			    quant_f32_to_f16(f));
	}
}

static void
test_f16_rounds_to_nearest_even(void **state)
{
	(void)state;
	/* halfway between 1 and 1+2^-10 goes to the even 1 */
	assert_int_equal(quant_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
	/* halfway between 1+2^-10 and 1+2^-9 goes up to the even one */
	assert_int_equal(quant_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
	assert_int_equal(quant_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
	assert_int_equal(quant_f32_to_f16(-2.0f), 0xc000);
	assert_int_equal(quant_f32_to_f16(65504.0f), 0x7bff);
	assert_int_equal(quant_f32_to_f16(65519.0f), 0x7bff);
	assert_int_equal(quant_f32_to_f16(65520.0f), 0x7c00);	/* tie -> inf */
	assert_int_equal(quant_f32_to_f16(1e10f), 0x7c00);
	assert_int_equal(quant_f32_to_f16(-INFINITY), 0xfc00);
	/* subnormal halves: 2^-25 is a tie between 0 and 2^-24 */
	assert_int_equal(quant_f32_to_f16(0x1p-25f), 0x0000);
	assert_int_equal(quant_f32_to_f16(0x1.0002p-25f), 0x0001);
	assert_int_equal(quant_f32_to_f16(3 * 0x1p-25f), 0x0002);
	assert_int_equal(quant_f32_to_f16(-5 * 0x1p-25f), 0x8002);
	/* the largest subnormal rounds up into the smallest normal */
	assert_int_equal(quant_f32_to_f16(1023.5f * 0x1p-24f), 0x0400);
	assert_int_equal(quant_f32_to_f16(1e-30f), 0x0000);
	assert_int_equal(quant_f32_to_f16(-0.0f), 0x8000);
}

/* For random f32 values the result is a nearest f16, ties to even. */
static void
test_f16_random_values_round_to_a_nearest_half(void **state)
{
	uint64_t seed = 42;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint32_t bits = (uint32_t)rng_next(&seed);
		float f;

		/* keep the exponent near the f16 range */
		bits = (bits & 0x80ffffffu) |
		    (uint32_t)(96 + (bits >> 24) % 50) << 23;
		memcpy(&f, &bits, sizeof f);
		uint16_t h = quant_f32_to_f16(f);
		double v = f16_value(h), err = fabs(v - f);
		if ((h & 0x7c00) == 0x7c00) {
			assert_true(fabs(f) >= 65520.0);
			continue;
		}
		/* both neighbours (same sign) are no closer */
		for (int k = -1; k <= 1; k += 2) {
			int nb = (h & 0x7fff) + k;
			if (nb < 0 || nb > 0x7bff)
				continue;
			double e2 = fabs(f16_value((uint16_t)((h & 0x8000) |
			    nb)) - f);
			if (e2 < err || (e2 == err && (h & 1)))
				fail_msg("%a -> %#06x, neighbour %#06x closer "
				    "or even", f, h, nb);
		}
	}
}

static void
test_bf16_every_value_round_trips(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = quant_bf16_to_f32((uint16_t)h);
		uint32_t bits;

		memcpy(&bits, &f, sizeof bits);
		assert_int_equal(bits, h << 16);
		if (isnan(f))
			assert_true(isnan(quant_bf16_to_f32(
			    quant_f32_to_bf16(f))));
		else
			assert_int_equal(quant_f32_to_bf16(f), h);
	}
}

static uint16_t
bf16_of_bits(uint32_t bits)
{
	float f;

	memcpy(&f, &bits, sizeof f);
	return quant_f32_to_bf16(f);
}

static void
test_bf16_rounds_to_nearest_even_and_keeps_nan(void **state)
{
	(void)state;
	assert_int_equal(bf16_of_bits(0x3f808000), 0x3f80);	/* tie, even */
	assert_int_equal(bf16_of_bits(0x3f818000), 0x3f82);	/* tie, up */
	assert_int_equal(bf16_of_bits(0x3f808001), 0x3f81);
	assert_int_equal(bf16_of_bits(0x3f807fff), 0x3f80);
	assert_int_equal(bf16_of_bits(0xbf818000), 0xbf82);
	assert_int_equal(bf16_of_bits(0x7f7fffff), 0x7f80);	/* -> inf */
	/* a NaN whose payload is only in the low half stays a NaN */
	assert_true(isnan(quant_bf16_to_f32(bf16_of_bits(0x7f800001))));
	assert_true(isnan(quant_bf16_to_f32(bf16_of_bits(0xffffffff))));
}

/* ---- known answers: hand-built blocks ------------------------------------ */

static void
expect_values(uint32_t type, const uint8_t *blk, const float *want, size_t n)
{
	float y[256];

	assert_int_equal(quant_dequant_row(type, blk, y, n), 0);
	for (size_t i = 0; i < n; i++)
		if (y[i] != want[i])
			fail_msg("%s element %zu: %g, want %g",
			    quant_info(type)->name, i, y[i], want[i]);
}

static void
test_dequant_q4_0_q4_1_known_block(void **state)
{
	uint8_t b[20];
	float want[32];

	(void)state;
	/* Q4_0: d = 0.5 (f16 0x3800); byte j holds j low, 15-j high */
	put16(b, 0x3800);
	for (int j = 0; j < 16; j++)
		b[2 + j] = (uint8_t)(j | (15 - j) << 4);
	for (int j = 0; j < 16; j++) {
		want[j] = (j - 8) * 0.5f;
		want[16 + j] = (15 - j - 8) * 0.5f;
	}
	expect_values(QT_Q4_0, b, want, 32);

	/* Q4_1: d = 0.25, m = -1.5: value q/4 - 1.5 */
	put16(b, 0x3400);
	put16(b + 2, 0xbe00);
	for (int j = 0; j < 16; j++)
		b[4 + j] = (uint8_t)(j | (15 - j) << 4);
	for (int j = 0; j < 16; j++) {
		want[j] = j * 0.25f - 1.5f;
		want[16 + j] = (15 - j) * 0.25f - 1.5f;
	}
	expect_values(QT_Q4_1, b, want, 32);
}

static void
test_dequant_q5_0_q5_1_high_bit_order(void **state)
{
	uint8_t b[24];
	float want[32];

	(void)state;
	/* Q5_0: d = 1; all nibbles 0; qh bits 0, 5, 16 and 31 set, so
	 * elements 0, 5, 16, 31 are 16 - 16 = 0 and the rest -16. */
	memset(b, 0, sizeof b);
	put16(b, 0x3c00);
	b[2] = 0x21;		/* bits 0 and 5 */
	b[4] = 0x01;		/* bit 16 */
	b[5] = 0x80;		/* bit 31 */
	for (int j = 0; j < 32; j++)
		want[j] = (j == 0 || j == 5 || j == 16 || j == 31) ? 0 : -16;
	/* plus nibble 3 on element 1 (low) and 9 on element 17 (high) */
	b[6 + 1] = 0x93;
	want[1] = 3 - 16;
	want[17] = 9 - 16;
	expect_values(QT_Q5_0, b, want, 32);

	/* Q5_1: d = 2, m = 1; qh = 0xffff0000: high half all +16 */
	memset(b, 0, sizeof b);
	put16(b, 0x4000);
	put16(b + 2, 0x3c00);
	b[4] = 0x00; b[5] = 0x00; b[6] = 0xff; b[7] = 0xff;
	for (int j = 0; j < 16; j++)
		b[8 + j] = (uint8_t)(j << 4 | (j & 1));
	for (int j = 0; j < 16; j++) {
		want[j] = (float)(j & 1) * 2 + 1;
		want[16 + j] = (float)(j + 16) * 2 + 1;
	}
	expect_values(QT_Q5_1, b, want, 32);
}

static void
test_dequant_q8_0_known_block(void **state)
{
	uint8_t b[34];
	float want[32];

	(void)state;
	put16(b, 0xb400);	/* d = -0.25 */
	for (int j = 0; j < 32; j++) {
		int8_t q = (int8_t)(j * 9 - 128);
		memcpy(b + 2 + j, &q, 1);
		want[j] = (float)q * -0.25f;
	}
	expect_values(QT_Q8_0, b, want, 32);
}

/* Sub-block scales and mins for the K-quant blocks below, and their
 * packing worked out by hand from ggml's block_q4_K comment: bytes 0-3
 * hold sc[0..3] plus the top two bits of sc[4..7] in bits 6-7; bytes 4-7
 * mins m[0..3] plus the top bits of m[4..7]; bytes 8-11 the low nibbles of
 * sc[4..7] (low) and m[4..7] (high). */
static const int ksc[8] = { 1, 2, 3, 63, 17, 33, 48, 5 };
static const int kmn[8] = { 0, 1, 62, 7, 20, 40, 63, 9 };
static const uint8_t kpacked[12] = {
	0x41, 0x82, 0xc3, 0x3f,		/* 1|1<<6, 2|2<<6, 3|3<<6, 63|0 */
	0x40, 0x81, 0xfe, 0x07,		/* 0|1<<6, 1|2<<6, 62|3<<6, 7|0 */
	0x41, 0x81, 0xf0, 0x95,		/* 17&15 | (20&15)<<4, ... */
};

static void
test_dequant_q4_k_known_block(void **state)
{
	uint8_t b[144];
	float want[256];

	(void)state;
	put16(b, 0x3c00);		/* d = 1 */
	put16(b + 2, 0x3800);		/* dmin = 0.5 */
	memcpy(b + 4, kpacked, 12);
	for (int i = 0; i < 128; i++)
		b[16 + i] = (uint8_t)(i * 7 + 3);
	/* 64 values per 32 bytes: low nibbles first, then high nibbles */
	for (int e = 0; e < 256; e++) {
		int chunk = e / 64, l = e % 32, hi = (e % 64) >= 32;
		int byte = (uint8_t)((32 * chunk + l) * 7 + 3);
		int q = hi ? byte >> 4 : byte & 15;
		int j = e / 32;
		want[e] = (float)ksc[j] * q - 0.5f * kmn[j];
	}
	expect_values(QT_Q4_K, b, want, 256);
}

static void
test_dequant_q5_k_known_block(void **state)
{
	uint8_t b[176];
	float want[256];

	(void)state;
	put16(b, 0x3800);		/* d = 0.5 */
	put16(b + 2, 0x3400);		/* dmin = 0.25 */
	memcpy(b + 4, kpacked, 12);
	for (int l = 0; l < 32; l++)
		b[16 + l] = (uint8_t)(l * 37 + 11);	/* qh */
	for (int i = 0; i < 128; i++)
		b[48 + i] = (uint8_t)(i * 13 + 5);
	for (int e = 0; e < 256; e++) {
		int chunk = e / 64, l = e % 32, hi = (e % 64) >= 32;
		int byte = (uint8_t)((32 * chunk + l) * 13 + 5);
		int qh = (uint8_t)(l * 37 + 11);
		int j = e / 32;		/* bit j of qh[l] */
		int q = (hi ? byte >> 4 : byte & 15) + ((qh >> j) & 1) * 16;
		want[e] = 0.5f * ksc[j] * q - 0.25f * kmn[j];
	}
	expect_values(QT_Q5_K, b, want, 256);
}

static void
test_dequant_q6_k_known_block(void **state)
{
	uint8_t b[210];
	float want[256];
	int8_t sc[16] = { 1, -1, 2, -3, 5, 8, -13, 21, 34, -55, 89, -128,
	    127, 0, 7, -7 };

	(void)state;
	for (int i = 0; i < 128; i++)
		b[i] = (uint8_t)(i * 29 + 1);		/* ql */
	for (int i = 0; i < 64; i++)
		b[128 + i] = (uint8_t)(i * 53 + 17);	/* qh */
	memcpy(b + 192, sc, 16);
	put16(b + 208, 0x3000);				/* d = 0.125 */
	/* ggml's loop: per 128 values, l < 32 gives four values at
	 * l, l+32, l+64, l+96 from ql[l], ql[l+32] and qh[l] */
	for (int n = 0; n < 2; n++) {
		const uint8_t *ql = b + 64 * n, *qh = b + 128 + 32 * n;
		for (int l = 0; l < 32; l++) {
			int q1 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
			int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
			int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
			int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
			int is = 8 * n + l / 16;
			want[128 * n + l] = 0.125f * sc[is] * q1;
			want[128 * n + l + 32] = 0.125f * sc[is + 2] * q2;
			want[128 * n + l + 64] = 0.125f * sc[is + 4] * q3;
			want[128 * n + l + 96] = 0.125f * sc[is + 6] * q4;
		}
	}
	expect_values(QT_Q6_K, b, want, 256);
}

/*
 * The types added later, each written from ggml's dequantize_row_* loop
 * (nested as there), not from quant.c's element formula.
 */
static void
test_dequant_q2_k_known_block(void **state)
{
	uint8_t b[84];
	float want[256];

	(void)state;
	for (int j = 0; j < 16; j++)
		b[j] = (uint8_t)((j * 5 + 1) & 0xff);	/* sc | mn << 4 */
	for (int i = 0; i < 64; i++)
		b[16 + i] = (uint8_t)(i * 41 + 7);
	put16(b + 80, 0x3800);				/* d = 0.5 */
	put16(b + 82, 0x3400);				/* dmin = 0.25 */
	int is = 0, o = 0;
	for (int n = 0; n < 2; n++) {
		const uint8_t *q = b + 16 + 32 * n;
		for (int shift = 0; shift < 8; shift += 2) {
			for (int half = 0; half < 2; half++, is++) {
				float dl = 0.5f * (b[is] & 0xf);
				float ml = 0.25f * (b[is] >> 4);
				for (int l = 0; l < 16; l++)
					want[o++] = dl * ((q[l + 16 * half] >>
					    shift) & 3) - ml;
			}
		}
	}
	expect_values(QT_Q2_K, b, want, 256);
}

static void
test_dequant_q3_k_known_block(void **state)
{
	uint8_t b[110];
	float want[256];
	int sc[16];

	(void)state;
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(i * 59 + 3);		/* hmask */
	for (int i = 0; i < 64; i++)
		b[32 + i] = (uint8_t)(i * 23 + 9);	/* qs */
	for (int i = 0; i < 12; i++)
		b[96 + i] = (uint8_t)(i * 71 + 13);	/* packed scales */
	put16(b + 108, 0x3000);				/* d = 0.125 */
	/* ggml's unpacking through four u32 words and two masks */
	{
		uint32_t aux[4], tmp;
		int8_t s8[16];

		memcpy(aux, b + 96, 12);
		tmp = aux[2];
		aux[2] = ((aux[0] >> 4) & 0x0f0f0f0f) |
		    (((tmp >> 4) & 0x03030303) << 4);
		aux[3] = ((aux[1] >> 4) & 0x0f0f0f0f) |
		    (((tmp >> 6) & 0x03030303) << 4);
		aux[0] = (aux[0] & 0x0f0f0f0f) | (((tmp >> 0) & 0x03030303) << 4);
		aux[1] = (aux[1] & 0x0f0f0f0f) | (((tmp >> 2) & 0x03030303) << 4);
		memcpy(s8, aux, 16);
		for (int j = 0; j < 16; j++)
			sc[j] = s8[j] - 32;
	}
	int is = 0, o = 0;
	uint8_t m = 1;
	for (int n = 0; n < 2; n++) {
		const uint8_t *q = b + 32 + 32 * n;
		for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
			for (int half = 0; half < 2; half++, is++) {
				float dl = 0.125f * sc[is];
				for (int l = 16 * half; l < 16 * half + 16; l++)
					want[o++] = dl * (((q[l] >> shift) & 3) -
					    ((b[l] & m) ? 0 : 4));
			}
		}
	}
	expect_values(QT_Q3_K, b, want, 256);
}

static const int8_t kv_iq4[16] = { -127, -104, -83, -65, -49, -35, -22,
	-10, 1, 13, 25, 38, 53, 69, 89, 113 };

static void
test_dequant_iq4_nl_iq4_xs_known_blocks(void **state)
{
	uint8_t b[136];
	float want[256];

	(void)state;
	/* IQ4_NL: d = 0.5, byte j holds j low, 15-j high */
	put16(b, 0x3800);
	for (int j = 0; j < 16; j++)
		b[2 + j] = (uint8_t)(j | (15 - j) << 4);
	for (int j = 0; j < 16; j++) {
		want[j] = 0.5f * kv_iq4[j];
		want[16 + j] = 0.5f * kv_iq4[15 - j];
	}
	expect_values(QT_IQ4_NL, b, want, 32);

	/* IQ4_XS: d = 0.25, scales_h 0xb4e1, scales_l */
	put16(b, 0x3400);
	put16(b + 2, 0xb4e1);
	b[4] = 0x5a; b[5] = 0x0f; b[6] = 0xc3; b[7] = 0x71;
	for (int i = 0; i < 128; i++)
		b[8 + i] = (uint8_t)(i * 43 + 21);
	for (int ib = 0; ib < 8; ib++) {
		int ls = ((b[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) |
		    (((0xb4e1 >> 2 * ib) & 3) << 4);
		float dl = 0.25f * (ls - 32);
		const uint8_t *qs = b + 8 + 16 * ib;
		for (int j = 0; j < 16; j++) {
			want[32 * ib + j] = dl * kv_iq4[qs[j] & 0xf];
			want[32 * ib + j + 16] = dl * kv_iq4[qs[j] >> 4];
		}
	}
	expect_values(QT_IQ4_XS, b, want, 256);
}

static void
test_dequant_mxfp4_known_blocks(void **state)
{
	static const float e2m1[16] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6,
		-0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6 };
	static const uint8_t es[] = { 127, 130, 0, 1, 120, 254 };
	uint8_t b[17];
	float want[32];

	(void)state;
	for (int j = 0; j < 16; j++)
		b[1 + j] = (uint8_t)(j | (15 - j) << 4);
	/* OCP MX: value = E2M1 * 2^(e - 127), subnormal scales included */
	for (size_t k = 0; k < sizeof es; k++) {
		b[0] = es[k];
		for (int j = 0; j < 16; j++) {
			want[j] = e2m1[j] * ldexpf(1.0f, es[k] - 127);
			want[16 + j] = e2m1[15 - j] * ldexpf(1.0f, es[k] - 127);
		}
		expect_values(QT_MXFP4, b, want, 32);
	}
}

static void
test_dequant_float_types_read_little_endian(void **state)
{
	uint8_t b[8] = { 0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x49, 0x40 };
	float y[4];

	(void)state;
	assert_int_equal(quant_dequant_row(QT_F16, b, y, 4), 0);
	assert_true(y[0] == 1.0f && y[1] == -2.0f);
	assert_int_equal(quant_dequant_row(QT_BF16, b + 4, y, 2), 0);
	assert_true(y[0] == 1.0f && y[1] == 3.140625f);
}

/* ---- round trips --------------------------------------------------------- */

#define RT_N	4096

static void
test_round_trip_errors_within_type_bounds(void **state)
{
	float *x = malloc(RT_N * sizeof *x), *y = malloc(RT_N * sizeof *y);

	(void)state;
	fill_normal(x, RT_N, 1.0f, 7);
	for (size_t i = 0; i < NBOUNDS; i++) {
		round_trip(bounds[i].type, x, y, RT_N);
		double e = rel_rms(y, x, RT_N);
		if (e > bounds[i].max_rel_rms)
			fail_msg("%s: relative RMS %.5f > %.5f",
			    quant_info(bounds[i].type)->name, e,
			    bounds[i].max_rel_rms);
		/* and it is a real quantization, not a copy */
		if (bounds[i].type != QT_F32)
			assert_true(e > bounds[i].max_rel_rms / 4);
	}
	free(x);
	free(y);
}

static void
test_round_trip_all_zero_blocks_give_zeros(void **state)
{
	float x[512] = { 0 }, y[512];

	(void)state;
	for (size_t i = 0; i < NBOUNDS; i++) {
		round_trip(bounds[i].type, x, y, 512);
		for (int j = 0; j < 512; j++)
			if (y[j] != 0.0f)
				fail_msg("%s: zero -> %g",
				    quant_info(bounds[i].type)->name, y[j]);
	}
}

/* One value 1000x the rest: it survives, and nothing turns non-finite. */
static void
test_round_trip_one_huge_value(void **state)
{
	float x[512], y[512];

	(void)state;
	for (size_t i = 0; i < NBOUNDS; i++) {
		fill_normal(x, 512, 1.0f, 11);
		x[77] = 1000.0f;
		x[300] = -2500.0f;
		round_trip(bounds[i].type, x, y, 512);
		for (int j = 0; j < 512; j++)
			assert_true(isfinite(y[j]));
		/* MXFP4's scale is a power of two and its grid 4, 6, 8, 12:
		 * a value between grid points may be off by up to 1/5 */
		float tol = bounds[i].type == QT_MXFP4 ? 0.2f : 0.02f;

		if (fabsf(y[77] - 1000.0f) > 1000.0f * tol ||
		    fabsf(y[300] + 2500.0f) > 2500.0f * tol)
			fail_msg("%s: huge values -> %g, %g",
			    quant_info(bounds[i].type)->name, y[77], y[300]);
	}
}

static void
test_round_trip_negative_only_blocks(void **state)
{
	float x[RT_N], y[RT_N];

	(void)state;
	fill_normal(x, RT_N, 1.0f, 13);
	for (int j = 0; j < RT_N; j++)
		x[j] = -3.0f - fabsf(x[j]);	/* in (-inf, -3] */
	for (size_t i = 0; i < NBOUNDS; i++) {
		round_trip(bounds[i].type, x, y, RT_N);
		/* relative to the spread the error stays that of the type;
		 * compare against the values' magnitude (>= 3), generous */
		double e = rel_rms(y, x, RT_N);
		if (e > bounds[i].max_rel_rms)
			fail_msg("%s: negative-only relative RMS %.5f",
			    quant_info(bounds[i].type)->name, e);
		for (int j = 0; j < RT_N; j++)
			assert_true(y[j] <= 0.0f);
	}
}

/* Values near the bottom of f32 (subnormals): scales underflow in f16;
 * every type must give finite values no larger than the input's. */
static void
test_round_trip_tiny_values_stay_finite_and_small(void **state)
{
	static const float mags[] = { 1e-39f, 1e-30f, 1e-8f, 3e-6f };
	float x[512], y[512];

	(void)state;
	for (size_t m = 0; m < sizeof mags / sizeof mags[0]; m++) {
		fill_normal(x, 512, mags[m], 17 + m);
		for (size_t i = 0; i < NBOUNDS; i++) {
			round_trip(bounds[i].type, x, y, 512);
			for (int j = 0; j < 512; j++) {
				if (!isfinite(y[j]) ||
				    fabsf(y[j]) > 4 * mags[m] + 6e-8f)
					fail_msg("%s at %g: element %d -> %g",
					    quant_info(bounds[i].type)->name,
					    mags[m], j, y[j]);
			}
		}
	}
}

/* Non-finite input must not crash (or trip UBSan); bytes are whatever
 * ggml's x86 code would write. */
static void
test_quantize_non_finite_input_is_defined(void **state)
{
	float x[256];
	uint8_t q[2][512];

	(void)state;
	fill_normal(x, 256, 1.0f, 5);
	x[3] = NAN;
	x[40] = INFINITY;
	x[200] = -INFINITY;
	for (size_t i = 0; i < NQTYPES; i++) {
		assert_int_equal(quant_quantize_row(qtypes[i], x, q[0], 256), 0);
		assert_int_equal(quant_quantize_row(qtypes[i], x, q[1], 256), 0);
		assert_memory_equal(q[0], q[1], row_bytes(qtypes[i], 256));
	}
}

/*
 * The bytes of every quantizer on a fixed input.  These were recorded on
 * x86-64; a different hash on another machine means model files written
 * by the generator would differ there.
 */
static void
test_quantize_row_is_deterministic(void **state)
{
	static const struct {
		uint32_t type;
		uint64_t hash;
	} want[] = {
		{ QT_F16,  0x6a4344754768daefULL },
		{ QT_BF16, 0x572a860e291e3ad9ULL },
		{ QT_Q8_0, 0x7cc0858b4012211cULL },
		{ QT_Q4_0, 0x0c60e23e025db8c4ULL },
		{ QT_Q4_1, 0x2e2b958b720703e3ULL },
		{ QT_Q5_0, 0x229fbd5d0ee8e54fULL },
		{ QT_Q5_1, 0x8ac1ef830bb65f58ULL },
		{ QT_Q4_K, 0xdfe5e00c0d3cfd23ULL },
		{ QT_Q5_K, 0x0799c0af1a4e265fULL },
		{ QT_Q6_K, 0x118e7bc2a375d83fULL },
		{ QT_Q2_K, 0x1f7d6b0220da6f3cULL },
		{ QT_Q3_K, 0xf75ca961490091c3ULL },
		{ QT_IQ4_NL, 0x9d9461a36dbcb7feULL },
		{ QT_IQ4_XS, 0x0d065cc38a57955dULL },
		{ QT_MXFP4, 0xba91469d596a69b0ULL },
	};
	float *x = malloc(RT_N * sizeof *x);
	uint8_t *q = malloc(RT_N * 4);
	int bad = 0;

	(void)state;
	fill_normal(x, RT_N, 0.06f, 1001);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		size_t nb = row_bytes(want[i].type, RT_N);
		assert_int_equal(quant_quantize_row(want[i].type, x, q, RT_N), 0);
		uint64_t h = fnv1a(q, nb);
		if (h != want[i].hash) {
			print_message("%s: hash %#018llx\n",
			    quant_info(want[i].type)->name,
			    (unsigned long long)h);
			bad++;
		}
	}
	free(x);
	free(q);
	assert_int_equal(bad, 0);
}

/* ---- 8-bit activations --------------------------------------------------- */

static void
test_act_q8_scale_is_bf16_and_rounding_is_half_even(void **state)
{
	float x[64];
	struct qa_block a[2];

	(void)state;
	/* block 0: amax 127 -> d = 1 exactly; ties go to even */
	for (int j = 0; j < 32; j++)
		x[j] = 0.0f;
	x[0] = 127.0f;
	x[1] = 63.5f;	/* -> 64 */
	x[2] = 62.5f;	/* -> 62 */
	x[3] = -0.5f;	/* -> 0 */
	x[4] = -1.5f;	/* -> -2 */
	x[5] = 2.5f;	/* -> 2 */
	x[6] = -127.0f;
	/* block 1: amax 1 -> d = 1/127 rounded to bf16 */
	fill_normal(x + 32, 32, 0.3f, 3);
	x[40] = -1.0f;
	for (int j = 32; j < 64; j++)
		if (fabsf(x[j]) > 1.0f)
			x[j] = 0.5f;
	quant_act_q8(x, a, 64);
	assert_true(a[0].d == 1.0f);
	assert_int_equal(a[0].q[0], 127);
	assert_int_equal(a[0].q[1], 64);
	assert_int_equal(a[0].q[2], 62);
	assert_int_equal(a[0].q[3], 0);
	assert_int_equal(a[0].q[4], -2);
	assert_int_equal(a[0].q[5], 2);
	assert_int_equal(a[0].q[6], -127);
	assert_int_equal(a[0].sum, 127 + 64 + 62 - 2 + 2 - 127);

	/* 1/127 = 0.0078740...; bf16 keeps 8 bits: 0x3c01 = 0.00787353515625 */
	assert_true(a[1].d == 0.00787353515625f);
	int32_t sum = 0;
	for (int j = 0; j < 32; j++) {
		float v = x[32 + j] * (1.0f / a[1].d);
		assert_true(fabsf(v - a[1].q[j]) <= 0.5f);
		sum += a[1].q[j];
	}
	assert_int_equal(a[1].q[8], -127);
	assert_int_equal(a[1].sum, sum);
}

static void
test_act_q8_zero_and_non_finite_blocks(void **state)
{
	float x[64] = { 0 };
	struct qa_block a[2];

	(void)state;
	x[33] = NAN;
	x[34] = 1.0f;
	quant_act_q8(x, a, 64);
	assert_true(a[0].d == 0.0f);
	assert_int_equal(a[0].sum, 0);
	for (int j = 0; j < 32; j++)
		assert_int_equal(a[0].q[j], 0);
	/* a NaN in a block makes no crash; the other values stay sane */
	for (int j = 0; j < 32; j++)
		assert_true(a[1].q[j] >= -128 && a[1].q[j] <= 127);
}

/* quant_dot_q8 equals the double dot of the dequantized row with the
 * dequantized activations, for every type (this covers the min terms). */
static void
test_dot_q8_matches_dequantized_dot(void **state)
{
	enum { N = 1024 };
	float *w = malloc(N * sizeof *w), *x = malloc(N * sizeof *x);
	float *wd = malloc(N * sizeof *wd);
	uint8_t *q = malloc(N * 2);
	struct qa_block a[N / QA_BLCK];

	(void)state;
	fill_normal(x, N, 1.0f, 99);
	quant_act_q8(x, a, N);
	for (size_t t = 0; t < NQTYPES; t++) {
		for (int shift = 0; shift < 2; shift++) {
			fill_normal(w, N, 0.05f, 100 + t);
			/* shifted weights make the min/offset terms matter */
			for (int j = 0; j < N; j++)
				w[j] += shift * 0.08f;
			assert_int_equal(quant_quantize_row(qtypes[t], w, q, N), 0);
			assert_int_equal(quant_dequant_row(qtypes[t], q, wd, N), 0);
			double ref = 0, mag = 0;
			for (int j = 0; j < N; j++) {
				double av = (double)a[j / 32].d * a[j / 32].q[j % 32];
				ref += (double)wd[j] * av;
				mag += fabs((double)wd[j] * av);
			}
			float got = quant_dot_q8(qtypes[t], q, a, N);
			if (fabs(got - ref) > 1e-5 * mag)
				fail_msg("%s shift %d: dot %.7g, want %.7g",
				    quant_info(qtypes[t])->name, shift, got, ref);
		}
	}
	free(w);
	free(x);
	free(wd);
	free(q);
}

/* ---- the real files ------------------------------------------------------ */

static const char *
shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s != NULL && *s != '\0' ? s : "../../shared";
}

static struct gguf *
open_golden(const char *name)
{
	char path[1024], *cause = NULL;
	struct gguf *g = NULL;

	snprintf(path, sizeof path, "%s/golden/%s", shared_dir(), name);
	if (gguf_open(path, NULL, &g, &cause) != 0)
		fail_msg("%s: %s", path, cause ? cause : "cannot open");
	return g;
}

/*
 * Every golden syn-llama-<type>.gguf holds the same synthetic weights as
 * syn-llama-f32.gguf, quantized by llama-quantize.  Dequantizing ours
 * must land within the type's quantization error of the original (a
 * wrong layout gives ~100%); bounds are the measured errors + ~20%.
 */
static void
test_golden_files_dequantize_close_to_f32(void **state)
{
	static const struct {
		const char *file;
		uint32_t type;
		double	 max_rel_rms;	/* measured on blk.0.ffn_up */
	} files[] = {
		{ "syn-llama-q4_0.gguf", QT_Q4_0, 0.103 },	/* 0.0857 */
		{ "syn-llama-q4_1.gguf", QT_Q4_1, 0.094 },	/* 0.0783 */
		{ "syn-llama-q5_0.gguf", QT_Q5_0, 0.051 },	/* 0.0427 */
		{ "syn-llama-q5_1.gguf", QT_Q5_1, 0.045 },	/* 0.0377 */
		{ "syn-llama-q8_0.gguf", QT_Q8_0, 0.0064 },	/* 0.00533 */
		{ "syn-llama-q4_k.gguf", QT_Q4_K, 0.085 },	/* 0.0712 */
		{ "syn-llama-q5_k.gguf", QT_Q5_K, 0.043 },	/* 0.0361 */
		{ "syn-llama-q6_k.gguf", QT_Q6_K, 0.021 },	/* 0.0175 */
		{ "syn-llama-f16.gguf",  QT_F16,  2.5e-4 },	/* 2.1e-4 */
		{ "syn-llama-bf16.gguf", QT_BF16, 2.0e-3 },	/* 1.66e-3 */
	};
	static const char *tensors[] = {
		"blk.0.ffn_up.weight", "blk.1.ffn_down.weight",
		"token_embd.weight",
	};
	struct gguf *ref = open_golden("syn-llama-f32.gguf");

	(void)state;
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		struct gguf *g = open_golden(files[f].file);

		for (size_t k = 0; k < sizeof tensors / sizeof tensors[0]; k++) {
			const struct gguf_tensor *t, *r;
			t = gguf_tensor_find(g, tensors[k]);
			r = gguf_tensor_find(ref, tensors[k]);
			assert_non_null(t);
			assert_non_null(r);
			assert_int_equal(t->type, files[f].type);
			assert_int_equal(t->nelem, r->nelem);
			float *y = malloc(t->nelem * sizeof *y);
			assert_int_equal(quant_dequant_row(t->type, t->data, y,
			    t->nelem), 0);
			double e = rel_rms(y, r->data, t->nelem);
			free(y);
			if (e > files[f].max_rel_rms)
				fail_msg("%s %s: relative RMS %.5f > %.5f",
				    files[f].file, tensors[k], e,
				    files[f].max_rel_rms);
		}
		gguf_free(g);
	}
	gguf_free(ref);
}

/*
 * Our quantizers against llama-quantize's bytes on the same weights.  The
 * legacy types match exactly (they have no search); the K types search
 * scales in float, where compiler contraction and ik_llama.cpp's own
 * changes (its Q6_K quantizer is a different algorithm) shift a few
 * choices, so for Q4_K/Q5_K we only require most bytes to agree.
 */
static void
test_golden_requantize_matches_llama_quantize(void **state)
{
	static const struct {
		const char *file;
		double	 min_same;	/* fraction of equal bytes */
	} files[] = {
		{ "syn-llama-q4_0.gguf", 1.0 },
		{ "syn-llama-q4_1.gguf", 1.0 },
		{ "syn-llama-q5_0.gguf", 1.0 },
		{ "syn-llama-q5_1.gguf", 1.0 },
		{ "syn-llama-q8_0.gguf", 1.0 },
		{ "syn-llama-q4_k.gguf", 0.99 },	/* 0.9964 */
		{ "syn-llama-q5_k.gguf", 0.95 },	/* 0.968 */
	};
	struct gguf *ref = open_golden("syn-llama-f32.gguf");
	const struct gguf_tensor *r = gguf_tensor_find(ref,
	    "blk.0.ffn_up.weight");

	(void)state;
	assert_non_null(r);
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		struct gguf *g = open_golden(files[f].file);
		const struct gguf_tensor *t = gguf_tensor_find(g,
		    "blk.0.ffn_up.weight");
		size_t nb = row_bytes(t->type, t->nelem), same = 0;
		uint8_t *q = malloc(nb);

		assert_int_equal(t->nbytes, nb);
		assert_int_equal(quant_quantize_row(t->type, r->data, q,
		    t->nelem), 0);
		for (size_t i = 0; i < nb; i++)
			same += q[i] == ((const uint8_t *)t->data)[i];
		if ((double)same / nb < files[f].min_same)
			fail_msg("%s: %zu of %zu bytes equal", files[f].file,
			    same, nb);
		free(q);
		gguf_free(g);
	}
	gguf_free(ref);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quant_info_knows_ggml_ids_only),
		cmocka_unit_test(test_quant_row_bytes_rejects_partial_blocks_and_overflow),
		cmocka_unit_test(test_quant_rows_reject_unsupported_types_and_lengths),
		cmocka_unit_test(test_f16_every_value_round_trips_and_is_exact),
		cmocka_unit_test(test_f16_rounds_to_nearest_even),
		cmocka_unit_test(test_f16_random_values_round_to_a_nearest_half),
		cmocka_unit_test(test_bf16_every_value_round_trips),
		cmocka_unit_test(test_bf16_rounds_to_nearest_even_and_keeps_nan),
		cmocka_unit_test(test_dequant_q4_0_q4_1_known_block),
		cmocka_unit_test(test_dequant_q5_0_q5_1_high_bit_order),
		cmocka_unit_test(test_dequant_q8_0_known_block),
		cmocka_unit_test(test_dequant_q4_k_known_block),
		cmocka_unit_test(test_dequant_q5_k_known_block),
		cmocka_unit_test(test_dequant_q6_k_known_block),
		cmocka_unit_test(test_dequant_q2_k_known_block),
		cmocka_unit_test(test_dequant_q3_k_known_block),
		cmocka_unit_test(test_dequant_iq4_nl_iq4_xs_known_blocks),
		cmocka_unit_test(test_dequant_mxfp4_known_blocks),
		cmocka_unit_test(test_dequant_float_types_read_little_endian),
		cmocka_unit_test(test_round_trip_errors_within_type_bounds),
		cmocka_unit_test(test_round_trip_all_zero_blocks_give_zeros),
		cmocka_unit_test(test_round_trip_one_huge_value),
		cmocka_unit_test(test_round_trip_negative_only_blocks),
		cmocka_unit_test(test_round_trip_tiny_values_stay_finite_and_small),
		cmocka_unit_test(test_quantize_non_finite_input_is_defined),
		cmocka_unit_test(test_quantize_row_is_deterministic),
		cmocka_unit_test(test_act_q8_scale_is_bf16_and_rounding_is_half_even),
		cmocka_unit_test(test_act_q8_zero_and_non_finite_blocks),
		cmocka_unit_test(test_dot_q8_matches_dequantized_dot),
		cmocka_unit_test(test_golden_files_dequantize_close_to_f32),
		cmocka_unit_test(test_golden_requantize_matches_llama_quantize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
