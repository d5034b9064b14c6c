/*
 * kern.h - matrix kernels with runtime CPU dispatch, internal to engine/.
 *
 * kern.c picks one variant at start-up (scalar, AVX2, AVX-512) from cpuid;
 * every variant is tested against the scalar one, which calls quant.c.
 */
#ifndef TRIAGE_ENGINE_KERN_H
#define TRIAGE_ENGINE_KERN_H

#include <stddef.h>
#include <stdint.h>

struct kern_pool;

/* A pool of n-1 worker threads (n <= 1: everything runs on the caller). */
struct kern_pool *kern_pool_new(int nthreads);
void	 kern_pool_free(struct kern_pool *);	/* NULL is a no-op */
int	 kern_pool_threads(const struct kern_pool *);

/* Name of the variant in use: "scalar", "avx2", "avx512".  TRIAGE_KERN=scalar|avx2|avx512 in the environment forces one (if the CPU has it). */
const char *kern_variant(void);

/* Bytes of scratch kern_matmul needs for nb rows of n activations. */
size_t	 kern_scratch_bytes(size_t n, size_t nb);

/*
 * Y[b*nrows + r] = dot(W row r, X[b*n ...]) for b < nb, r < nrows.
 * W holds nrows rows of n elements of `type` (rows are contiguous,
 * quant_row_bytes(type, n) bytes each).  Activations are treated as the
 * reference runtime does: f32 for F32/F16 weights, rounded to bf16 for
 * BF16 weights, quantized to 8 bits (quant_act_q8) for quantized types.
 * `scratch` has kern_scratch_bytes(n, nb) bytes.  Never allocates.
 */
void	 kern_matmul(struct kern_pool *, uint32_t type, const void *W,
	    size_t nrows, size_t n, const float *X, size_t nb, float *Y,
	    void *scratch);

/* Run fn(arg, i) for i in [0, n) spread over the pool; returns when done. */
void	 kern_parallel(struct kern_pool *, size_t n,
	    void (*fn)(void *arg, size_t i), void *arg);

#endif
