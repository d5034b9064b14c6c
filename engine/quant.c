/*
 * quant.c - tensor types: the block layouts of ggml, and the reference
 * (scalar, obviously correct) kernels that the SIMD variants must match.
 */
#include <math.h>
#include <string.h>

#include "quant.h"

/* ==== type table ========================================================= */

/*
 * Every ggml type id a GGUF file may carry, with its block size, so the
 * reader can bound any tensor's bytes even when we cannot compute with it
 * (model info then names the type instead of calling the file corrupt).
 * Ids 4, 5, 31-33 and 36-38 were removed from ggml and stay NULL.
 */
static const struct qtype_info types[QT_COUNT] = {
	[QT_F32]	= { "F32",	1,	4,	true },
	[QT_F16]	= { "F16",	1,	2,	true },
	[QT_Q4_0]	= { "Q4_0",	32,	18,	true },
	[QT_Q4_1]	= { "Q4_1",	32,	20,	true },
	[QT_Q5_0]	= { "Q5_0",	32,	22,	true },
	[QT_Q5_1]	= { "Q5_1",	32,	24,	true },
	[QT_Q8_0]	= { "Q8_0",	32,	34,	true },
	[QT_Q8_1]	= { "Q8_1",	32,	36,	false },
	[QT_Q2_K]	= { "Q2_K",	256,	84,	false },
	[QT_Q3_K]	= { "Q3_K",	256,	110,	false },
	[QT_Q4_K]	= { "Q4_K",	256,	144,	true },
	[QT_Q5_K]	= { "Q5_K",	256,	176,	true },
	[QT_Q6_K]	= { "Q6_K",	256,	210,	true },
	[QT_Q8_K]	= { "Q8_K",	256,	292,	false },
	[QT_IQ2_XXS]	= { "IQ2_XXS",	256,	66,	false },
	[QT_IQ2_XS]	= { "IQ2_XS",	256,	74,	false },
	[QT_IQ3_XXS]	= { "IQ3_XXS",	256,	98,	false },
	[QT_IQ1_S]	= { "IQ1_S",	256,	50,	false },
	[QT_IQ4_NL]	= { "IQ4_NL",	32,	18,	false },
	[QT_IQ3_S]	= { "IQ3_S",	256,	110,	false },
	[QT_IQ2_S]	= { "IQ2_S",	256,	82,	false },
	[QT_IQ4_XS]	= { "IQ4_XS",	256,	136,	false },
	[QT_I8]		= { "I8",	1,	1,	false },
	[QT_I16]	= { "I16",	1,	2,	false },
	[QT_I32]	= { "I32",	1,	4,	false },
	[QT_I64]	= { "I64",	1,	8,	false },
	[QT_F64]	= { "F64",	1,	8,	false },
	[QT_IQ1_M]	= { "IQ1_M",	256,	56,	false },
	[QT_BF16]	= { "BF16",	1,	2,	true },
	[QT_TQ1_0]	= { "TQ1_0",	256,	54,	false },
	[QT_TQ2_0]	= { "TQ2_0",	256,	66,	false },
	[QT_MXFP4]	= { "MXFP4",	32,	17,	false },
};

const struct qtype_info *
quant_info(uint32_t type)
{
	if (type >= QT_COUNT || types[type].name == NULL)
		return NULL;
	return &types[type];
}

int
quant_row_bytes(uint32_t type, uint64_t n, uint64_t *bytes)
{
	const struct qtype_info *ti = quant_info(type);

	if (ti == NULL || n % ti->blck != 0)
		return -1;
	/* n / blck <= n, and size <= 292, so only the product can overflow. */
	if (__builtin_mul_overflow(n / ti->blck, (uint64_t)ti->size, bytes))
		return -1;
	return 0;
}

/* ==== half precision ===================================================== */

float
quant_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;
	uint32_t bits;
	float f;

	if (exp == 0) {
		/* zero or subnormal: man * 2^-24, exact in f32 */
		f = (float)man * 0x1p-24f;
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7f800000 | (man << 13);	/* inf, nan */
	else
		bits = sign | ((exp + 112) << 23) | (man << 13);
	memcpy(&f, &bits, sizeof f);
	return f;
}

uint16_t
quant_f32_to_f16(float f)
{
	uint32_t x, sign, exp, man;

	memcpy(&x, &f, sizeof x);
	sign = (x >> 16) & 0x8000;
	exp = (x >> 23) & 0xff;
	man = x & 0x7fffff;
	if (exp == 0xff)	/* inf or nan (keep nan quiet and non-zero) */
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
	int e = (int)exp - 127 + 15;
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) {
		/* subnormal half: shift the full mantissa, round half to even */
		if (e < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		uint32_t shift = (uint32_t)(14 - e);
		uint32_t half = 1u << (shift - 1);
		uint32_t r = man >> shift;
		uint32_t rem = man & ((1u << shift) - 1);
		if (rem > half || (rem == half && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	uint32_t r = ((uint32_t)e << 10) | (man >> 13);
	uint32_t rem = man & 0x1fff;
	/* a carry out of the mantissa correctly bumps the exponent */
	if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
		r++;
	return (uint16_t)(sign | r);
}

float
quant_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;

	memcpy(&f, &bits, sizeof f);
	return f;
}

uint16_t
quant_f32_to_bf16(float f)
{
	uint32_t x;

	memcpy(&x, &f, sizeof x);
	if ((x & 0x7fffffff) > 0x7f800000)	/* nan: keep it a quiet nan */
		return (uint16_t)((x >> 16) | 64);
	/* round to nearest even, as ggml_compute_fp32_to_bf16 */
	return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}
