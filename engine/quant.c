/*
 * quant.c - tensor types: the block layouts of ggml, and the reference
 * (scalar, obviously correct) kernels that the SIMD variants must match.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "quant.h"

/*
 * Determinism: model files written with quant_quantize_row must be
 * byte-identical on every machine, so the quantizers use only IEEE-exact
 * operations (+ - * / sqrtf fabsf roundf and integer code), in the same
 * evaluation order as ggml's *_ref functions.  -std=c11 turns off
 * floating-point contraction in GCC, so no FMA is fused behind our back
 * (GCC ignores `#pragma STDC FP_CONTRACT`; the flag is what counts).
 * Clang fuses by default even in ISO mode, hence the pragma.
 */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

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
	[QT_Q2_K]	= { "Q2_K",	256,	84,	true },
	[QT_Q3_K]	= { "Q3_K",	256,	110,	true },
	[QT_Q4_K]	= { "Q4_K",	256,	144,	true },
	[QT_Q5_K]	= { "Q5_K",	256,	176,	true },
	[QT_Q6_K]	= { "Q6_K",	256,	210,	true },
	[QT_Q8_K]	= { "Q8_K",	256,	292,	false },
	[QT_IQ2_XXS]	= { "IQ2_XXS",	256,	66,	false },
	[QT_IQ2_XS]	= { "IQ2_XS",	256,	74,	false },
	[QT_IQ3_XXS]	= { "IQ3_XXS",	256,	98,	false },
	[QT_IQ1_S]	= { "IQ1_S",	256,	50,	false },
	[QT_IQ4_NL]	= { "IQ4_NL",	32,	18,	true },
	[QT_IQ3_S]	= { "IQ3_S",	256,	110,	false },
	[QT_IQ2_S]	= { "IQ2_S",	256,	82,	false },
	[QT_IQ4_XS]	= { "IQ4_XS",	256,	136,	true },
	[QT_I8]		= { "I8",	1,	1,	false },
	[QT_I16]	= { "I16",	1,	2,	false },
	[QT_I32]	= { "I32",	1,	4,	false },
	[QT_I64]	= { "I64",	1,	8,	false },
	[QT_F64]	= { "F64",	1,	8,	false },
	[QT_IQ1_M]	= { "IQ1_M",	256,	56,	false },
	[QT_BF16]	= { "BF16",	1,	2,	true },
	[QT_TQ1_0]	= { "TQ1_0",	256,	54,	false },
	[QT_TQ2_0]	= { "TQ2_0",	256,	66,	false },
	[QT_MXFP4]	= { "MXFP4",	32,	17,	true },
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

/* ==== block layouts ====================================================== */

/*
 * The blocks of ggml-common.h, written with byte arrays only so that a
 * block may sit at any address (weights come straight from an mmap'd file
 * whose alignment we do not trust).  f16 fields are little-endian halves,
 * read with ld16().  Values are "element e of the block", e from 0.
 */
#define QK_K		256	/* elements in a K-quant superblock */
#define QK_SMALL	32	/* elements in a Q4_0 .. Q8_0 block */
#define K_SCALE_SIZE	12	/* packed 6-bit scales + mins of Q4_K/Q5_K */

/* Q4_0: e in 0..15 is the low nibble of qs[e], e in 16..31 the high
 * nibble of qs[e-16]; value (q - 8) * d. */
struct blk_q4_0 {
	uint8_t	 d[2];		/* f16 scale */
	uint8_t	 qs[16];	/* 32 x 4 bits */
};

/* Q4_1: nibbles as Q4_0; value q * d + m. */
struct blk_q4_1 {
	uint8_t	 d[2];		/* f16 scale */
	uint8_t	 m[2];		/* f16 min (added) */
	uint8_t	 qs[16];
};

/* Q5_0: low 4 bits as Q4_0; bit 4 of element e is bit e of the
 * little-endian u32 qh; value (q - 16) * d. */
struct blk_q5_0 {
	uint8_t	 d[2];
	uint8_t	 qh[4];		/* 32 high bits */
	uint8_t	 qs[16];
};

/* Q5_1: as Q5_0 with value q * d + m. */
struct blk_q5_1 {
	uint8_t	 d[2];
	uint8_t	 m[2];
	uint8_t	 qh[4];
	uint8_t	 qs[16];
};

/* Q8_0: value qs[e] * d. */
struct blk_q8_0 {
	uint8_t	 d[2];
	int8_t	 qs[32];
};

/*
 * Q4_K: 8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min m
 * packed in scales[12] (see get_scale_min_k4).  Sub-block j = 2p is the
 * low nibbles of qs[32p .. 32p+31], j = 2p+1 their high nibbles; value
 * d * sc_j * q - dmin * m_j.
 */
struct blk_q4_k {
	uint8_t	 d[2];		/* f16 super-scale of the scales */
	uint8_t	 dmin[2];	/* f16 super-scale of the mins */
	uint8_t	 scales[K_SCALE_SIZE];
	uint8_t	 qs[QK_K / 2];
};

/*
 * Q5_K: as Q4_K plus a fifth bit: for sub-block j (32 values, index l),
 * bit j of qh[l] is bit 4 of the value.
 */
struct blk_q5_k {
	uint8_t	 d[2];
	uint8_t	 dmin[2];
	uint8_t	 scales[K_SCALE_SIZE];
	uint8_t	 qh[QK_K / 8];
	uint8_t	 qs[QK_K / 2];
};

/*
 * Q6_K: 16 sub-blocks of 16 with signed 8-bit scales; value
 * d * scales[e / 16] * (q - 32).  Each half h (128 values) uses
 * ql[64h .. 64h+63] and qh[32h .. 32h+31]: for l < 32 and quarter g,
 * element 128h + 32g + l has low bits from ql[64h + l + 32(g & 1)]
 * (low nibble for g < 2, high nibble otherwise) and high 2 bits from
 * bits 2g, 2g+1 of qh[32h + l].
 */
struct blk_q6_k {
	uint8_t	 ql[QK_K / 2];	/* low 4 bits */
	uint8_t	 qh[QK_K / 4];	/* high 2 bits */
	int8_t	 scales[QK_K / 16];
	uint8_t	 d[2];
};

/*
 * Q2_K: 16 sub-blocks of 16, scales[j] holding a 4-bit scale (low
 * nibble) and a 4-bit min (high nibble); value d * sc * q - dmin * m,
 * q in 0..3.  Element e = 128h + 32g + l (l < 32) is bits 2g, 2g+1 of
 * qs[32h + l].
 */
struct blk_q2_k {
	uint8_t	 scales[QK_K / 16];
	uint8_t	 qs[QK_K / 4];
	uint8_t	 d[2];
	uint8_t	 dmin[2];
};

/*
 * Q3_K: 16 sub-blocks of 16 with 6-bit scales (stored + 32) packed in
 * scales[12]; value d * (sc - 32) * (q - 4), q in 0..7.  Element
 * e = 128h + 32g + l has its low 2 bits at bits 2g, 2g+1 of qs[32h + l]
 * and its high bit at bit 4h + g of hmask[l].
 */
struct blk_q3_k {
	uint8_t	 hmask[QK_K / 8];
	uint8_t	 qs[QK_K / 4];
	uint8_t	 scales[12];
	uint8_t	 d[2];
};

/* IQ4_NL: nibbles as Q4_0, value d * iq4_values[nibble]. */
struct blk_iq4_nl {
	uint8_t	 d[2];
	uint8_t	 qs[16];
};

/*
 * IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (stored + 32): low 4 bits
 * in the nibbles of scales_l, high 2 bits in scales_h (little-endian
 * u16, bits 2j, 2j+1); sub-block j is 16 bytes of qs, nibbles as Q4_0,
 * value d * (sc - 32) * iq4_values[nibble].
 */
struct blk_iq4_xs {
	uint8_t	 d[2];
	uint8_t	 scales_h[2];
	uint8_t	 scales_l[4];
	uint8_t	 qs[QK_K / 2];
};

/* MXFP4 (OCP microscaling): an E8M0 exponent and 32 FP4 (E2M1) values,
 * nibbles as Q4_0; value mxfp4_values[nibble] * 2^(e - 128) (the table
 * holds twice the E2M1 values, hence 128 and not 127). */
struct blk_mxfp4 {
	uint8_t	 e;
	uint8_t	 qs[16];
};

/* The non-linear 4-bit grid of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl). */
static const int8_t iq4_values[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10,
	1, 13, 25, 38, 53, 69, 89, 113
};
/* E2M1 values doubled (ggml's kvalues_mxfp4). */
static const int8_t mxfp4_values[16] = {
	0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12
};

_Static_assert(sizeof(struct blk_q2_k) == 84, "Q2_K block");
_Static_assert(sizeof(struct blk_q3_k) == 110, "Q3_K block");
_Static_assert(sizeof(struct blk_iq4_nl) == 18, "IQ4_NL block");
_Static_assert(sizeof(struct blk_iq4_xs) == 136, "IQ4_XS block");
_Static_assert(sizeof(struct blk_mxfp4) == 17, "MXFP4 block");
_Static_assert(sizeof(struct blk_q4_0) == 18, "Q4_0 block");
_Static_assert(sizeof(struct blk_q4_1) == 20, "Q4_1 block");
_Static_assert(sizeof(struct blk_q5_0) == 22, "Q5_0 block");
_Static_assert(sizeof(struct blk_q5_1) == 24, "Q5_1 block");
_Static_assert(sizeof(struct blk_q8_0) == 34, "Q8_0 block");
_Static_assert(sizeof(struct blk_q4_k) == 144, "Q4_K block");
_Static_assert(sizeof(struct blk_q5_k) == 176, "Q5_K block");
_Static_assert(sizeof(struct blk_q6_k) == 210, "Q6_K block");

static float
ld16(const uint8_t p[2])
{
	return quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

static void
st16(uint8_t p[2], float f)
{
	uint16_t h = quant_f32_to_f16(f);

	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(h >> 8);
}

static uint32_t
ld32(const uint8_t p[4])
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block:
 * j < 4 sit in the low 6 bits of q[j] and q[j+4]; j >= 4 have their low
 * 4 bits in the nibbles of q[j+4] and their top 2 bits in the top bits of
 * q[j-4] (scale) and q[j] (min). */
static void
get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (uint8_t)((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
	}
}

/* ==== decoding =========================================================== */

/*
 * Every quantized block, whatever its packing, decodes to integers and
 * scales with one meaning: element e is
 *	(d * sc[e / 16]) * q[e] - dmin * mn[e / 16]
 * which is exactly the float expression ggml's dequantize_row_* computes
 * for each type (for types without a min, dmin and mn are 0).  Keeping the
 * integers lets quant_dot_q8 do exact integer dot products per 32 values.
 */
struct qdec {
	float	 d, dmin;
	int32_t	 sc[QK_K / 16];	/* integer scale of each 16 values */
	int32_t	 mn[QK_K / 16];	/* integer min of each 16 values */
	int8_t	 q[QK_K];	/* signed quants, offset removed */
};

static void
dec_simple(struct qdec *o, float d, float dmin, int mn)
{
	o->d = d;
	o->dmin = dmin;
	o->sc[0] = o->sc[1] = 1;
	o->mn[0] = o->mn[1] = mn;
}

/* Low and high nibbles of 16 bytes: elements 0..15 and 16..31. */
static void
dec_nibbles(int8_t *q, const uint8_t *qs, int off)
{
	for (int j = 0; j < 16; j++) {
		q[j] = (int8_t)((qs[j] & 0xf) - off);
		q[j + 16] = (int8_t)((qs[j] >> 4) - off);
	}
}

static void
dec_q4_0(const void *p, struct qdec *o)
{
	const struct blk_q4_0 *b = p;

	dec_simple(o, ld16(b->d), 0.0f, 0);
	dec_nibbles(o->q, b->qs, 8);
}

static void
dec_q4_1(const void *p, struct qdec *o)
{
	const struct blk_q4_1 *b = p;

	/* value q*d + m is q*d - (-m)*1 */
	dec_simple(o, ld16(b->d), -ld16(b->m), 1);
	dec_nibbles(o->q, b->qs, 0);
}

static void
dec_q5(int8_t *q, const uint8_t *qs, uint32_t qh, int off)
{
	for (int j = 0; j < 16; j++) {
		int h0 = (int)((qh >> j) & 1) << 4;
		int h1 = (int)((qh >> (j + 16)) & 1) << 4;

		q[j] = (int8_t)(((qs[j] & 0xf) | h0) - off);
		q[j + 16] = (int8_t)(((qs[j] >> 4) | h1) - off);
	}
}

static void
dec_q5_0(const void *p, struct qdec *o)
{
	const struct blk_q5_0 *b = p;

	dec_simple(o, ld16(b->d), 0.0f, 0);
	dec_q5(o->q, b->qs, ld32(b->qh), 16);
}

static void
dec_q5_1(const void *p, struct qdec *o)
{
	const struct blk_q5_1 *b = p;

	dec_simple(o, ld16(b->d), -ld16(b->m), 1);
	dec_q5(o->q, b->qs, ld32(b->qh), 0);
}

static void
dec_q8_0(const void *p, struct qdec *o)
{
	const struct blk_q8_0 *b = p;

	dec_simple(o, ld16(b->d), 0.0f, 0);
	memcpy(o->q, b->qs, QK_SMALL);
}

static void
dec_q4_k(const void *p, struct qdec *o)
{
	const struct blk_q4_k *b = p;

	o->d = ld16(b->d);
	o->dmin = ld16(b->dmin);
	for (int j = 0; j < QK_K / 32; j++) {
		uint8_t sc, m;
		const uint8_t *qs = b->qs + 32 * (j / 2);
		int shift = 4 * (j & 1);

		get_scale_min_k4(j, b->scales, &sc, &m);
		o->sc[2 * j] = o->sc[2 * j + 1] = sc;
		o->mn[2 * j] = o->mn[2 * j + 1] = m;
		for (int l = 0; l < 32; l++)
			o->q[32 * j + l] = (int8_t)((qs[l] >> shift) & 0xf);
	}
}

static void
dec_q5_k(const void *p, struct qdec *o)
{
	const struct blk_q5_k *b = p;

	o->d = ld16(b->d);
	o->dmin = ld16(b->dmin);
	for (int j = 0; j < QK_K / 32; j++) {
		uint8_t sc, m;
		const uint8_t *qs = b->qs + 32 * (j / 2);
		int shift = 4 * (j & 1);

		get_scale_min_k4(j, b->scales, &sc, &m);
		o->sc[2 * j] = o->sc[2 * j + 1] = sc;
		o->mn[2 * j] = o->mn[2 * j + 1] = m;
		for (int l = 0; l < 32; l++)
			o->q[32 * j + l] = (int8_t)(((qs[l] >> shift) & 0xf) |
			    (((b->qh[l] >> j) & 1) << 4));
	}
}

static void
dec_q6_k(const void *p, struct qdec *o)
{
	const struct blk_q6_k *b = p;

	o->d = ld16(b->d);
	o->dmin = 0.0f;
	for (int j = 0; j < QK_K / 16; j++)
		o->sc[j] = b->scales[j];
	for (int j = 0; j < QK_K / 16; j++)
		o->mn[j] = 0;
	for (int h = 0; h < 2; h++) {
		const uint8_t *ql = b->ql + 64 * h;
		const uint8_t *qh = b->qh + 32 * h;

		for (int g = 0; g < 4; g++) {
			for (int l = 0; l < 32; l++) {
				int lo = ql[l + 32 * (g & 1)] >> (4 * (g >> 1));
				int hi = (qh[l] >> (2 * g)) & 3;

				o->q[128 * h + 32 * g + l] =
				    (int8_t)(((lo & 0xf) | hi << 4) - 32);
			}
		}
	}
}

static void
dec_q2_k(const void *p, struct qdec *o)
{
	const struct blk_q2_k *b = p;

	o->d = ld16(b->d);
	o->dmin = ld16(b->dmin);
	for (int j = 0; j < QK_K / 16; j++) {
		o->sc[j] = b->scales[j] & 0xf;
		o->mn[j] = b->scales[j] >> 4;
	}
	for (int e = 0; e < QK_K; e++) {
		int h = e / 128, g = (e / 32) % 4, l = e % 32;

		o->q[e] = (int8_t)((b->qs[32 * h + l] >> (2 * g)) & 3);
	}
}

/* The 6-bit scale j (0..15) of a Q3_K block, offset removed: low 4 bits
 * in the nibbles of bytes 0-7, high 2 bits in bytes 8-11. */
static int
q3k_scale(const uint8_t *sc, int j)
{
	int lo = j < 8 ? sc[j] & 0xf : sc[j - 8] >> 4;
	int hi = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;

	return (lo | hi << 4) - 32;
}

static void
dec_q3_k(const void *p, struct qdec *o)
{
	const struct blk_q3_k *b = p;

	o->d = ld16(b->d);
	o->dmin = 0.0f;
	for (int j = 0; j < QK_K / 16; j++) {
		o->sc[j] = q3k_scale(b->scales, j);
		o->mn[j] = 0;
	}
	for (int e = 0; e < QK_K; e++) {
		int h = e / 128, g = (e / 32) % 4, l = e % 32;
		int lo = (b->qs[32 * h + l] >> (2 * g)) & 3;
		int hi = (b->hmask[l] >> (4 * h + g)) & 1;

		o->q[e] = (int8_t)(lo - (hi ? 0 : 4));
	}
}

static void
dec_lut_nibbles(int8_t *q, const uint8_t *qs, const int8_t *lut)
{
	for (int j = 0; j < 16; j++) {
		q[j] = lut[qs[j] & 0xf];
		q[j + 16] = lut[qs[j] >> 4];
	}
}

static void
dec_iq4_nl(const void *p, struct qdec *o)
{
	const struct blk_iq4_nl *b = p;

	dec_simple(o, ld16(b->d), 0.0f, 0);
	dec_lut_nibbles(o->q, b->qs, iq4_values);
}

static void
dec_iq4_xs(const void *p, struct qdec *o)
{
	const struct blk_iq4_xs *b = p;
	unsigned sh = (unsigned)(b->scales_h[0] | b->scales_h[1] << 8);

	o->d = ld16(b->d);
	o->dmin = 0.0f;
	for (int j = 0; j < QK_K / 32; j++) {
		int ls = ((b->scales_l[j / 2] >> (4 * (j % 2))) & 0xf) |
		    (int)(((sh >> (2 * j)) & 3) << 4);

		o->sc[2 * j] = o->sc[2 * j + 1] = ls - 32;
		o->mn[2 * j] = o->mn[2 * j + 1] = 0;
		dec_lut_nibbles(o->q + 32 * j, b->qs + 16 * j, iq4_values);
	}
}

/* 2^(e - 128) exactly, subnormal for e < 2 (ggml's E8M0_TO_FP32_HALF);
 * e = 255 (the format's NaN) gives 2^127 as ggml does. */
static float
e8m0_half(uint8_t e)
{
	return ldexpf(1.0f, (int)e - 128);
}

static void
dec_mxfp4(const void *p, struct qdec *o)
{
	const struct blk_mxfp4 *b = p;

	dec_simple(o, e8m0_half(b->e), 0.0f, 0);
	dec_lut_nibbles(o->q, b->qs, mxfp4_values);
}

typedef void (*dec_fn)(const void *, struct qdec *);

static dec_fn
decoder(uint32_t type)
{
	switch (type) {
	case QT_Q4_0:	return dec_q4_0;
	case QT_Q4_1:	return dec_q4_1;
	case QT_Q5_0:	return dec_q5_0;
	case QT_Q5_1:	return dec_q5_1;
	case QT_Q8_0:	return dec_q8_0;
	case QT_Q4_K:	return dec_q4_k;
	case QT_Q5_K:	return dec_q5_k;
	case QT_Q6_K:	return dec_q6_k;
	case QT_Q2_K:	return dec_q2_k;
	case QT_Q3_K:	return dec_q3_k;
	case QT_IQ4_NL:	return dec_iq4_nl;
	case QT_IQ4_XS:	return dec_iq4_xs;
	case QT_MXFP4:	return dec_mxfp4;
	default:	return NULL;
	}
}

/* ==== dequantization ===================================================== */

int
quant_dequant_row(uint32_t type, const void *src, float *dst, size_t n)
{
	const struct qtype_info *ti = quant_info(type);
	const uint8_t *p = src;
	struct qdec dq;
	dec_fn dec;

	if (ti == NULL || !ti->supported || n % ti->blck != 0)
		return -1;
	switch (type) {
	case QT_F32:
		memcpy(dst, src, n * sizeof *dst);
		return 0;
	case QT_F16:
		for (size_t i = 0; i < n; i++)
			dst[i] = quant_f16_to_f32((uint16_t)(p[2 * i] |
			    p[2 * i + 1] << 8));
		return 0;
	case QT_BF16:
		for (size_t i = 0; i < n; i++)
			dst[i] = quant_bf16_to_f32((uint16_t)(p[2 * i] |
			    p[2 * i + 1] << 8));
		return 0;
	}
	if ((dec = decoder(type)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i += ti->blck, p += ti->size) {
		dec(p, &dq);
		for (uint32_t e = 0; e < ti->blck; e++)
			dst[i + e] = (dq.d * (float)dq.sc[e / 16]) *
			    (float)dq.q[e] - dq.dmin * (float)dq.mn[e / 16];
	}
	return 0;
}

/* ==== quantization (ggml's *_ref quantizers) ============================= */

/*
 * The C conversions ggml's quantizers use ((int8_t)f, (uint8_t)f) are
 * undefined for NaN and out-of-range floats; on x86-64 they compile to
 * cvttss2si, which yields INT32_MIN, and the low byte is kept.  We spell
 * that out so a pathological input (a tiny scale whose inverse overflows)
 * gives the same bytes as llama-quantize instead of undefined behaviour.
 */
static int32_t
cvtt_i32(float f)
{
	if (!(f > -2147483904.0f && f < 2147483648.0f))
		return INT32_MIN;
	return (int32_t)f;
}

static int
low_i8(int32_t v)
{
	int b = (int)((uint32_t)v & 0xff);

	return b >= 128 ? b - 256 : b;
}

/* Round to nearest (ties to even) for |f| < 2^22 by the 1.5*2^23 trick;
 * exactly ggml's nearest_int, including what it does outside that range. */
static int
nearest_int(float f)
{
	float v = f + 12582912.0f;
	int32_t i;

	memcpy(&i, &v, sizeof i);
	return (i & 0x007fffff) - 0x00400000;
}

static int
imin(int a, int b)
{
	return a < b ? a : b;
}

static int
imax(int a, int b)
{
	return a > b ? a : b;
}

/* Below this a group counts as all zero (ggml's GROUP_MAX_EPS). */
#define GROUP_MAX_EPS	1e-15f

static void
quant_q4_0(const float *x, struct blk_q4_0 *y)
{
	float amax = 0.0f, max = 0.0f;

	for (int j = 0; j < QK_SMALL; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	/* the largest magnitude maps to -8, so its sign picks d's */
	float d = max / -8;
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	st16(y->d, d);
	for (int j = 0; j < 16; j++) {
		int x0 = imin(15, low_i8(cvtt_i32(x[j] * id + 8.5f)));
		int x1 = imin(15, low_i8(cvtt_i32(x[j + 16] * id + 8.5f)));

		y->qs[j] = (uint8_t)((uint8_t)x0 | (uint8_t)x1 << 4);
	}
}

static void
quant_q4_1(const float *x, struct blk_q4_1 *y)
{
	float min = FLT_MAX, max = -FLT_MAX;

	for (int j = 0; j < QK_SMALL; j++) {
		if (x[j] < min)
			min = x[j];
		if (x[j] > max)
			max = x[j];
	}
	float d = (max - min) / 15;
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	st16(y->d, d);
	st16(y->m, min);
	for (int j = 0; j < 16; j++) {
		int x0 = imin(15, low_i8(cvtt_i32((x[j] - min) * id + 0.5f)));
		int x1 = imin(15,
		    low_i8(cvtt_i32((x[j + 16] - min) * id + 0.5f)));

		y->qs[j] = (uint8_t)((uint8_t)x0 | (uint8_t)x1 << 4);
	}
}

static void
put_qh(uint8_t qh[4], uint32_t v)
{
	for (int k = 0; k < 4; k++)
		qh[k] = (uint8_t)(v >> (8 * k));
}

static void
quant_q5_0(const float *x, struct blk_q5_0 *y)
{
	float amax = 0.0f, max = 0.0f;
	uint32_t qh = 0;

	for (int j = 0; j < QK_SMALL; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	float d = max / -16;
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	st16(y->d, d);
	for (int j = 0; j < 16; j++) {
		uint8_t x0 = (uint8_t)imin(31,
		    low_i8(cvtt_i32(x[j] * id + 16.5f)));
		uint8_t x1 = (uint8_t)imin(31,
		    low_i8(cvtt_i32(x[j + 16] * id + 16.5f)));

		y->qs[j] = (uint8_t)((x0 & 0xf) | (x1 & 0xf) << 4);
		qh |= (uint32_t)((x0 & 0x10) >> 4) << j;
		qh |= (uint32_t)((x1 & 0x10) >> 4) << (j + 16);
	}
	put_qh(y->qh, qh);
}

static void
quant_q5_1(const float *x, struct blk_q5_1 *y)
{
	float min = FLT_MAX, max = -FLT_MAX;
	uint32_t qh = 0;

	for (int j = 0; j < QK_SMALL; j++) {
		if (x[j] < min)
			min = x[j];
		if (x[j] > max)
			max = x[j];
	}
	float d = (max - min) / 31;
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	st16(y->d, d);
	st16(y->m, min);
	for (int j = 0; j < 16; j++) {
		/* ggml has no clamp here: (uint8_t)(x + 0.5f) */
		uint8_t x0 = (uint8_t)cvtt_i32((x[j] - min) * id + 0.5f);
		uint8_t x1 = (uint8_t)cvtt_i32((x[j + 16] - min) * id + 0.5f);

		y->qs[j] = (uint8_t)((x0 & 0xf) | (x1 & 0xf) << 4);
		qh |= (uint32_t)((x0 & 0x10) >> 4) << j;
		qh |= (uint32_t)((x1 & 0x10) >> 4) << (j + 16);
	}
	put_qh(y->qh, qh);
}

static void
quant_q8_0(const float *x, struct blk_q8_0 *y)
{
	float amax = 0.0f;

	for (int j = 0; j < QK_SMALL; j++)
		amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
	float d = amax / 127;
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	st16(y->d, d);
	for (int j = 0; j < QK_SMALL; j++)
		y->qs[j] = (int8_t)low_i8(cvtt_i32(roundf(x[j] * id)));
}

/*
 * ggml's make_qkx2_quants: fit x ~ scale * L - min with L in [0, nmax],
 * min >= 0, minimising the weighted squared error; tries nstep+1 inverse
 * scales around nmax / (max - min) and solves least squares for each.
 * Returns the scale, stores the (positive) min in *the_min.
 */
static float
make_qkx2_quants(int n, int nmax, const float *x, const float *w,
    uint8_t *L, float *the_min, uint8_t *Laux, float rmin, float rdelta,
    int nstep)
{
	float min = x[0], max = x[0];
	float sum_w = w[0];
	float sum_x = sum_w * x[0];

	for (int i = 1; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		sum_w += w[i];
		sum_x += w[i] * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		*the_min = -min;
		return 0.0f;
	}
	float iscale = nmax / (max - min);
	float scale = 1 / iscale;
	float best_error = 0;

	for (int i = 0; i < n; i++) {
		int l = nearest_int(iscale * (x[i] - min));

		L[i] = (uint8_t)imax(0, imin(nmax, l));
		float diff = scale * L[i] + min - x[i];
		best_error += w[i] * (diff * diff);
	}
	for (int is = 0; is <= nstep; is++) {
		float sum_l = 0, sum_l2 = 0, sum_xl = 0;

		iscale = (rmin + rdelta * is + nmax) / (max - min);
		for (int i = 0; i < n; i++) {
			int l = nearest_int(iscale * (x[i] - min));

			l = imax(0, imin(nmax, l));
			Laux[i] = (uint8_t)l;
			sum_l += w[i] * l;
			sum_l2 += w[i] * l * l;
			sum_xl += w[i] * l * x[i];
		}
		float D = sum_w * sum_l2 - sum_l * sum_l;
		if (D > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
			float cur_error = 0;

			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			for (int i = 0; i < n; i++) {
				float diff = this_scale * Laux[i] + this_min -
				    x[i];
				cur_error += w[i] * (diff * diff);
			}
			if (cur_error < best_error) {
				memcpy(L, Laux, (size_t)n);
				best_error = cur_error;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

/*
 * ggml's make_qx_quants with rmse_type 1 and no importance weights (the
 * only use here, Q6_K): symmetric L in [-nmax, nmax-1] (stored + nmax),
 * weights x^2, 19 candidate scales around -nmax / max.
 */
static float
make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
	float max = 0, amax = 0;

	for (int i = 0; i < n; i++) {
		float ax = fabsf(x[i]);
		if (ax > amax) {
			amax = ax;
			max = x[i];
		}
	}
	if (amax < GROUP_MAX_EPS) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		return 0.0f;
	}
	float iscale = -nmax / max;
	float sumlx = 0, suml2 = 0;

	for (int i = 0; i < n; i++) {
		int l = nearest_int(iscale * x[i]);
		float w = x[i] * x[i];

		l = imax(-nmax, imin(nmax - 1, l));
		L[i] = (int8_t)(l + nmax);
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
	float best = scale * sumlx;

	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = suml2 = 0;
		for (int i = 0; i < n; i++) {
			int l = nearest_int(iscale * x[i]);
			float w = x[i] * x[i];

			l = imax(-nmax, imin(nmax - 1, l));
			sumlx += w * x[i] * l;
			suml2 += w * l * l;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (int i = 0; i < n; i++) {
				int l = nearest_int(iscale * x[i]);
				L[i] = (int8_t)(nmax +
				    imax(-nmax, imin(nmax - 1, l)));
			}
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

/* Pack 6-bit scale ls and min lm of sub-block j (inverse of
 * get_scale_min_k4); j must run upwards from 0. */
static void
put_scale_min_k4(int j, uint8_t *q, uint8_t ls, uint8_t lm)
{
	if (j < 4) {
		q[j] = ls;
		q[j + 4] = lm;
	} else {
		q[j + 4] = (uint8_t)((ls & 0xf) | (lm & 0xf) << 4);
		q[j - 4] |= (uint8_t)((ls >> 4) << 6);
		q[j] |= (uint8_t)((lm >> 4) << 6);
	}
}

/*
 * Shared by Q4_K (nmax 15) and Q5_K (nmax 31): per sub-block of 32 an
 * affine fit, then the 8 scales and 8 mins quantized to 6 bits against
 * their maxima, then every value requantized with the rounded scales.
 * L receives the 256 quants.
 */
static void
quant_kx(const float *x, uint8_t *d16, uint8_t *dmin16, uint8_t *scales,
    uint8_t *L, int nmax, float rmin, float rdelta, int nstep)
{
	float mins[QK_K / 32], sc[QK_K / 32], w[32];
	uint8_t Laux[32];
	float max_scale = 0, max_min = 0;

	for (int j = 0; j < QK_K / 32; j++) {
		const float *xj = x + 32 * j;
		float sum_x2 = 0;

		for (int l = 0; l < 32; l++)
			sum_x2 += xj[l] * xj[l];
		float av_x = sqrtf(sum_x2 / 32);
		for (int l = 0; l < 32; l++)
			w[l] = av_x + fabsf(xj[l]);
		sc[j] = make_qkx2_quants(32, nmax, xj, w, L + 32 * j, &mins[j],
		    Laux, rmin, rdelta, nstep);
		if (sc[j] > max_scale)
			max_scale = sc[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	float inv_min = max_min > 0 ? 63.f / max_min : 0.f;

	for (int j = 0; j < QK_K / 32; j++) {
		uint8_t ls = (uint8_t)nearest_int(inv_scale * sc[j]);
		uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);

		put_scale_min_k4(j, scales, ls < 63 ? ls : 63,
		    lm < 63 ? lm : 63);
	}
	st16(d16, max_scale / 63.f);
	st16(dmin16, max_min / 63.f);
	for (int j = 0; j < QK_K / 32; j++) {
		uint8_t s, m;

		get_scale_min_k4(j, scales, &s, &m);
		float d = ld16(d16) * s;
		if (d == 0.0f)
			continue;
		float dm = ld16(dmin16) * m;
		for (int ii = 0; ii < 32; ii++) {
			int l = nearest_int((x[32 * j + ii] + dm) / d);
			L[32 * j + ii] = (uint8_t)imax(0, imin(nmax, l));
		}
	}
}

static void
quant_q4_k(const float *x, struct blk_q4_k *y)
{
	uint8_t L[QK_K];

	memset(y, 0, sizeof *y);
	quant_kx(x, y->d, y->dmin, y->scales, L, 15, -1.0f, 0.1f, 20);
	for (int j = 0; j < QK_K; j += 64)
		for (int l = 0; l < 32; l++)
			y->qs[j / 2 + l] = (uint8_t)(L[j + l] |
			    L[j + l + 32] << 4);
}

static void
quant_q5_k(const float *x, struct blk_q5_k *y)
{
	uint8_t L[QK_K];

	memset(y, 0, sizeof *y);
	quant_kx(x, y->d, y->dmin, y->scales, L, 31, -0.5f, 0.1f, 15);
	for (int j = 0; j < QK_K / 32; j++) {
		for (int l = 0; l < 32; l++) {
			int q = L[32 * j + l];

			if (q > 15)
				y->qh[l] |= (uint8_t)(1u << j);
			y->qs[32 * (j / 2) + l] |=
			    (uint8_t)((q & 0xf) << (4 * (j & 1)));
		}
	}
}

static void
quant_q6_k(const float *x, struct blk_q6_k *y)
{
	int8_t L[QK_K];
	float scales[QK_K / 16];
	float max_scale = 0, max_abs_scale = 0;

	for (int ib = 0; ib < QK_K / 16; ib++) {
		scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
		if (fabsf(scales[ib]) > max_abs_scale) {
			max_abs_scale = fabsf(scales[ib]);
			max_scale = scales[ib];
		}
	}
	memset(y, 0, sizeof *y);
	if (max_abs_scale < GROUP_MAX_EPS)
		return;		/* all zero, d = +0 */

	float iscale = -128.f / max_scale;
	st16(y->d, 1 / iscale);
	for (int ib = 0; ib < QK_K / 16; ib++)
		y->scales[ib] = (int8_t)low_i8(imin(127,
		    nearest_int(iscale * scales[ib])));
	for (int j = 0; j < QK_K / 16; j++) {
		float d = ld16(y->d) * y->scales[j];
		if (d == 0.0f)
			continue;
		for (int ii = 0; ii < 16; ii++) {
			int l = nearest_int(x[16 * j + ii] / d);
			L[16 * j + ii] = (int8_t)(imax(-32, imin(31, l)) + 32);
		}
	}
	for (int h = 0; h < 2; h++) {
		const int8_t *Lh = L + 128 * h;
		uint8_t *ql = y->ql + 64 * h, *qh = y->qh + 32 * h;

		for (int l = 0; l < 32; l++) {
			int q1 = Lh[l], q2 = Lh[l + 32];
			int q3 = Lh[l + 64], q4 = Lh[l + 96];

			ql[l] = (uint8_t)((q1 & 0xf) | (q3 & 0xf) << 4);
			ql[l + 32] = (uint8_t)((q2 & 0xf) | (q4 & 0xf) << 4);
			qh[l] = (uint8_t)((q1 >> 4 & 3) | (q2 >> 4 & 3) << 2 |
			    (q3 >> 4 & 3) << 4 | (q4 >> 4 & 3) << 6);
		}
	}
}

/*
 * Quantizers for the types below are our own (round to nearest on a
 * max-based scale, no search): they exist to make test blocks whose
 * meaning the decoders above define, not to match llama-quantize's bytes.
 */

/* Index of the grid value nearest to v (the first on a tie). */
static int
nearest_of(const int8_t *grid, int n, float v)
{
	int best = 0;
	float bd = fabsf(v - grid[0]);

	for (int i = 1; i < n; i++) {
		float dd = fabsf(v - grid[i]);

		if (dd < bd) {
			bd = dd;
			best = i;
		}
	}
	return best;
}

/* The element of largest magnitude, with its sign. */
static float
signed_max(const float *x, int n)
{
	float amax = 0.0f, max = 0.0f;

	for (int i = 0; i < n; i++)
		if (fabsf(x[i]) > amax) {
			amax = fabsf(x[i]);
			max = x[i];
		}
	return max;
}

/* 32 values on the grid lut scaled by d, nibbles as Q4_0. */
static void
quant_lut32(const float *x, float d, const int8_t *lut, uint8_t *qs)
{
	float id = d != 0.0f ? 1.0f / d : 0.0f;

	for (int j = 0; j < 16; j++) {
		int lo = nearest_of(lut, 16, x[j] * id);
		int hi = nearest_of(lut, 16, x[j + 16] * id);

		qs[j] = (uint8_t)(lo | hi << 4);
	}
}

static void
quant_iq4_nl(const float *x, struct blk_iq4_nl *y)
{
	/* the extreme element lands on the grid's end, -127 */
	float d = signed_max(x, QK_SMALL) / -127.0f;

	st16(y->d, d);
	quant_lut32(x, ld16(y->d), iq4_values, y->qs);
}

static void
quant_iq4_xs(const float *x, struct blk_iq4_xs *y)
{
	float sub[QK_K / 32], d;
	unsigned sh = 0;

	for (int j = 0; j < QK_K / 32; j++)
		sub[j] = signed_max(x + 32 * j, 32) / -127.0f;
	d = signed_max(sub, QK_K / 32) / -32.0f;
	st16(y->d, d);
	d = ld16(y->d);
	memset(y->scales_l, 0, sizeof y->scales_l);
	for (int j = 0; j < QK_K / 32; j++) {
		int ls = d != 0.0f ? nearest_int(sub[j] / d) : 0;

		ls = imin(31, imax(-32, ls)) + 32;
		y->scales_l[j / 2] |= (uint8_t)((ls & 0xf) << (4 * (j % 2)));
		sh |= (unsigned)(ls >> 4) << (2 * j);
		quant_lut32(x + 32 * j, d * (float)(ls - 32), iq4_values,
		    y->qs + 16 * j);
	}
	y->scales_h[0] = (uint8_t)sh;
	y->scales_h[1] = (uint8_t)(sh >> 8);
}

static void
quant_mxfp4(const float *x, struct blk_mxfp4 *y)
{
	float amax = 0.0f;
	int e = 0;

	for (int i = 0; i < QK_SMALL; i++)
		amax = fmaxf(amax, fabsf(x[i]));
	/* the smallest exponent whose grid (up to 12 * 2^(e-128)) covers amax */
	while (e < 254 && 12.0f * e8m0_half((uint8_t)e) < amax)
		e++;
	y->e = (uint8_t)e;
	quant_lut32(x, e8m0_half(y->e), mxfp4_values, y->qs);
}

static void
quant_q3_k(const float *x, struct blk_q3_k *y)
{
	float sub[QK_K / 16], d;

	for (int j = 0; j < QK_K / 16; j++)
		sub[j] = signed_max(x + 16 * j, 16) / -4.0f;
	d = signed_max(sub, QK_K / 16) / -32.0f;
	st16(y->d, d);
	d = ld16(y->d);
	memset(y->scales, 0, sizeof y->scales);
	memset(y->hmask, 0, sizeof y->hmask);
	memset(y->qs, 0, sizeof y->qs);
	for (int j = 0; j < QK_K / 16; j++) {
		int ls = d != 0.0f ? nearest_int(sub[j] / d) : 0;
		float dl;

		ls = imin(31, imax(-32, ls)) + 32;
		if (j < 8)
			y->scales[j] |= (uint8_t)(ls & 0xf);
		else
			y->scales[j - 8] |= (uint8_t)((ls & 0xf) << 4);
		y->scales[8 + j % 4] |= (uint8_t)((ls >> 4) << (2 * (j / 4)));
		dl = d * (float)(ls - 32);
		for (int i = 0; i < 16; i++) {
			int e = 16 * j + i, h = e / 128, g = (e / 32) % 4;
			int l = e % 32;
			int q = dl != 0.0f ? nearest_int(x[e] / dl) : 0;

			q = imin(3, imax(-4, q)) + 4;
			y->qs[32 * h + l] |= (uint8_t)((q & 3) << (2 * g));
			if (q & 4)
				y->hmask[l] |= (uint8_t)(1u << (4 * h + g));
		}
	}
}

static void
quant_q2_k(const float *x, struct blk_q2_k *y)
{
	float sc[QK_K / 16], mn[QK_K / 16], d = 0.0f, dmin = 0.0f;

	for (int j = 0; j < QK_K / 16; j++) {
		float lo = 0.0f, hi = 0.0f;

		for (int i = 0; i < 16; i++) {
			lo = fminf(lo, x[16 * j + i]);
			hi = fmaxf(hi, x[16 * j + i]);
		}
		sc[j] = (hi - lo) / 3.0f;
		mn[j] = -lo;
		d = fmaxf(d, sc[j]);
		dmin = fmaxf(dmin, mn[j]);
	}
	st16(y->d, d / 15.0f);
	st16(y->dmin, dmin / 15.0f);
	d = ld16(y->d);
	dmin = ld16(y->dmin);
	memset(y->qs, 0, sizeof y->qs);
	for (int j = 0; j < QK_K / 16; j++) {
		int ls = d != 0.0f ? imin(15, nearest_int(sc[j] / d)) : 0;
		int lm = dmin != 0.0f ? imin(15, nearest_int(mn[j] / dmin)) : 0;
		float dl = d * (float)ls, ml = dmin * (float)lm;

		y->scales[j] = (uint8_t)(ls | lm << 4);
		for (int i = 0; i < 16; i++) {
			int e = 16 * j + i, h = e / 128, g = (e / 32) % 4;
			int q = dl != 0.0f ? nearest_int((x[e] + ml) / dl) : 0;

			q = imin(3, imax(0, q));
			y->qs[32 * h + e % 32] |= (uint8_t)(q << (2 * g));
		}
	}
}

int
quant_quantize_row(uint32_t type, const float *src, void *dst, size_t n)
{
	const struct qtype_info *ti = quant_info(type);
	uint8_t *p = dst;

	if (ti == NULL || !ti->supported || n % ti->blck != 0)
		return -1;
	for (size_t i = 0; i < n; i += ti->blck, p += ti->size) {
		const float *x = src + i;

		switch (type) {
		case QT_F32:
			memcpy(p, x, sizeof *x);
			break;
		case QT_F16: {
			uint16_t h = quant_f32_to_f16(*x);
			p[0] = (uint8_t)h;
			p[1] = (uint8_t)(h >> 8);
			break;
		}
		case QT_BF16: {
			uint16_t h = quant_f32_to_bf16(*x);
			p[0] = (uint8_t)h;
			p[1] = (uint8_t)(h >> 8);
			break;
		}
		case QT_Q4_0:	quant_q4_0(x, (struct blk_q4_0 *)p); break;
		case QT_Q4_1:	quant_q4_1(x, (struct blk_q4_1 *)p); break;
		case QT_Q5_0:	quant_q5_0(x, (struct blk_q5_0 *)p); break;
		case QT_Q5_1:	quant_q5_1(x, (struct blk_q5_1 *)p); break;
		case QT_Q8_0:	quant_q8_0(x, (struct blk_q8_0 *)p); break;
		case QT_Q4_K:	quant_q4_k(x, (struct blk_q4_k *)p); break;
		case QT_Q5_K:	quant_q5_k(x, (struct blk_q5_k *)p); break;
		case QT_Q6_K:	quant_q6_k(x, (struct blk_q6_k *)p); break;
		case QT_Q2_K:	quant_q2_k(x, (struct blk_q2_k *)p); break;
		case QT_Q3_K:	quant_q3_k(x, (struct blk_q3_k *)p); break;
		case QT_IQ4_NL:	quant_iq4_nl(x, (struct blk_iq4_nl *)p); break;
		case QT_IQ4_XS:	quant_iq4_xs(x, (struct blk_iq4_xs *)p); break;
		case QT_MXFP4:	quant_mxfp4(x, (struct blk_mxfp4 *)p); break;
		default:
			return -1;
		}
	}
	return 0;
}

/* ==== 8-bit activations and dot products ================================= */

/*
 * ik_llama.cpp's quantize_row_q8_2_x4: d = amax / 127 rounded to bf16,
 * then each x multiplied by the f32 inverse of that d and rounded to
 * nearest even.  (It multiplies by 1/d rather than dividing; the two
 * differ in the last bit now and then, and we follow the runtime.)
 * With a bf16 d, amax / d < 127.5 for finite input, so q stays in
 * [-127, 127]; we clamp to that range anyway, which only matters for
 * non-finite or subnormal input (where the runtime's conversion gives
 * INT_MIN garbage), and it lets the SIMD kernels use the sign trick of
 * _mm256_sign_epi8, which cannot negate -128.  NaN quantizes to 0.
 */
static void
act_block(const float *x, size_t n, struct qa_block *o)
{
	float amax = 0.0f;

	for (size_t j = 0; j < n; j++)
		amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
	float d = quant_bf16_to_f32(quant_f32_to_bf16(amax / 127.f));
	float id = d > 0 ? 1 / d : 0.f;
	int32_t sum = 0;

	o->d = d;
	for (size_t j = 0; j < QA_BLCK; j++) {
		float v = j < n ? nearbyintf(x[j] * id) : 0.0f;
		int q = 0;

		if (v == v)	/* not NaN */
			q = v < -127.f ? -127 : v > 127.f ? 127 : (int)v;
		o->q[j] = (int8_t)q;
		sum += q;
	}
	o->sum = sum;
}

/* A final partial block is padded with zeros: out holds
 * (n + QA_BLCK - 1) / QA_BLCK blocks. */
void
quant_act_q8(const float *x, struct qa_block *out, size_t n)
{
	for (size_t i = 0; i < n; i += QA_BLCK) {
		size_t len = n - i < QA_BLCK ? n - i : QA_BLCK;

		act_block(x + i, len, out + i / QA_BLCK);
	}
}

/*
 * One weight block against its activation blocks: per 32 values the
 * exact integer dot (split in halves of 16 for Q6_K's per-16 scales),
 * scaled by the block's d and the activation's d; a min contributes
 * dmin * mn * (sum of the activation quants).
 */
static float
dot_dec(const struct qdec *w, const struct qa_block *a, uint32_t blck)
{
	float acc = 0.0f;

	for (uint32_t k = 0; k < blck / QA_BLCK; k++, a++) {
		const int8_t *q = w->q + QA_BLCK * k;
		int32_t s0 = 0, s1 = 0;

		for (int l = 0; l < 16; l++) {
			s0 += q[l] * a->q[l];
			s1 += q[l + 16] * a->q[l + 16];
		}
		int32_t isum = w->sc[2 * k] * s0 + w->sc[2 * k + 1] * s1;
		int32_t msum = w->mn[2 * k] * a->sum;

		if (w->mn[2 * k] != w->mn[2 * k + 1]) {
			/* Q2_K: a min per 16 values */
			int32_t h = 0;

			for (int l = 16; l < 32; l++)
				h += a->q[l];
			msum = w->mn[2 * k] * (a->sum - h) +
			    w->mn[2 * k + 1] * h;
		}
		acc += a->d * (w->d * (float)isum -
		    w->dmin * (float)msum);
	}
	return acc;
}

/* Float and unsupported types give 0 (kern.c never asks); a trailing
 * partial block of the row is ignored. */
float
quant_dot_q8(uint32_t type, const void *row, const struct qa_block *x,
    size_t n)
{
	const struct qtype_info *ti = quant_info(type);
	const uint8_t *p = row;
	struct qdec dq;
	dec_fn dec;
	float acc = 0.0f;

	if (ti == NULL || (dec = decoder(type)) == NULL)
		return 0.0f;
	for (size_t i = 0; i + ti->blck <= n; i += ti->blck, p += ti->size) {
		dec(p, &dq);
		acc += dot_dec(&dq, x + i / QA_BLCK, ti->blck);
	}
	return acc;
}
