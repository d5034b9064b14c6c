/*
 * quant.h - tensor types: block layouts, reference (scalar) dequantization
 * and quantization, and dot products against 8-bit activations.  The code
 * in quant.c is the specification; SIMD kernels (kern-*.c) are tested
 * against it.  Internal to engine/.
 */
#ifndef TRIAGE_ENGINE_QUANT_H
#define TRIAGE_ENGINE_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ggml type ids (the GGUF tensor `type` field). */
enum qtype {
	QT_F32 = 0, QT_F16 = 1, QT_Q4_0 = 2, QT_Q4_1 = 3,
	QT_Q5_0 = 6, QT_Q5_1 = 7, QT_Q8_0 = 8, QT_Q8_1 = 9,
	QT_Q2_K = 10, QT_Q3_K = 11, QT_Q4_K = 12, QT_Q5_K = 13, QT_Q6_K = 14,
	QT_Q8_K = 15, QT_IQ2_XXS = 16, QT_IQ2_XS = 17, QT_IQ3_XXS = 18,
	QT_IQ1_S = 19, QT_IQ4_NL = 20, QT_IQ3_S = 21, QT_IQ2_S = 22,
	QT_IQ4_XS = 23, QT_I8 = 24, QT_I16 = 25, QT_I32 = 26, QT_I64 = 27,
	QT_F64 = 28, QT_IQ1_M = 29, QT_BF16 = 30, QT_TQ1_0 = 34, QT_TQ2_0 = 35,
	QT_MXFP4 = 39,
	QT_COUNT = 40
};

struct qtype_info {
	const char	*name;		/* "Q4_K" */
	uint32_t	 blck;		/* elements per block */
	uint32_t	 size;		/* bytes per block */
	bool		 supported;	/* the engine can compute with it */
};

/* NULL for ids that are not (or no longer) ggml types. */
const struct qtype_info *quant_info(uint32_t type);
/* Bytes for n elements of `type`; -1 if unknown type, n % blck, or overflow. */
int	 quant_row_bytes(uint32_t type, uint64_t n, uint64_t *bytes);

/* Half-precision helpers (exact, round-to-nearest-even on the way down). */
float	 quant_f16_to_f32(uint16_t);
uint16_t quant_f32_to_f16(float);
float	 quant_bf16_to_f32(uint16_t);
uint16_t quant_f32_to_bf16(float);

/*
 * Reference dequantization of n elements (n a multiple of the block size)
 * of a supported type into f32.  Returns -1 for unsupported types.
 */
int	 quant_dequant_row(uint32_t type, const void *src, float *dst, size_t n);
/*
 * Reference quantization (round-to-nearest with the format's own scale
 * search, as ggml's *_ref quantizers) of n floats into dst, which holds
 * quant_row_bytes(type, n) bytes.  Returns -1 for unsupported types.
 * Deterministic: the same input gives the same bytes on every machine.
 */
int	 quant_quantize_row(uint32_t type, const float *src, void *dst, size_t n);

/*
 * 8-bit activations: x is split into blocks of 32; each block has a scale
 * d = amax/127 rounded to bf16 and q = round-half-even(x/d).  This is what
 * the reference runtime does to activations before a quantized matmul, so
 * matching it keeps our logits close to its own.
 */
#define QA_BLCK 32
struct qa_block {
	float	 d;		/* bf16-representable */
	int32_t	 sum;		/* sum of q, for types with a min/offset */
	int8_t	 q[QA_BLCK];
};
void	 quant_act_q8(const float *x, struct qa_block *out, size_t n);

/*
 * Reference dot product of one row of a quantized weight (n elements,
 * n a multiple of 256 for K types, 32 otherwise) with quantized
 * activations.  Supported quantized types only.
 */
float	 quant_dot_q8(uint32_t type, const void *row, const struct qa_block *x,
	    size_t n);

#endif
