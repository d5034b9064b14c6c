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

/* ---- internal: the variants, for kern-*.c and tests ------------------- */

struct qa_block;
#define KERN_NTYPES	40	/* = QT_COUNT in quant.h */

#define KERN_TILE	4	/* activation rows per dot4 call */

/*
 * One variant's kernels.  Weight rows may sit at any address (they come
 * from an mmap'd file).  A NULL entry falls back to `fallback`'s kernel
 * (AVX-512 -> AVX2 -> scalar); the scalar table is complete.
 * dot_bf16 takes activations already rounded to bf16 (as floats).
 * dot4_* compute KERN_TILE dots of one weight row with activation rows
 * `stride` floats (or blocks) apart, decoding the weights once; each
 * result must be bit-identical to the single-row kernel's.
 */
struct kern_impl {
	const char	*name;
	const struct kern_impl *fallback;	/* for NULL entries */
	float	(*dot_f32)(const void *w, const float *x, size_t n);
	float	(*dot_f16)(const void *w, const float *x, size_t n);
	float	(*dot_bf16)(const void *w, const float *x, size_t n);
	void	(*dot4_f32)(const void *w, const float *x, size_t stride,
		    size_t n, float *out);
	void	(*dot4_f16)(const void *w, const float *x, size_t stride,
		    size_t n, float *out);
	void	(*dot4_bf16)(const void *w, const float *x, size_t stride,
		    size_t n, float *out);
	/* indexed by ggml type id; n a multiple of the block size */
	float	(*dot_q8[KERN_NTYPES])(const void *w, const struct qa_block *x,
		    size_t n);
	void	(*dot4_q8[KERN_NTYPES])(const void *w,
		    const struct qa_block *x, size_t stride, size_t n,
		    float *out);
};

extern const struct kern_impl kern_impl_scalar;
extern const struct kern_impl kern_impl_avx2;	/* kern-avx2.c */
extern const struct kern_impl kern_impl_avx512;	/* kern-avx512.c */

/*
 * Switch the variant kern_matmul uses ("scalar", "avx2", "avx512");
 * -1 if unknown or the CPU lacks it.  For tests and benchmarks: call it
 * only while no kern_matmul is running.
 */
int	 kern_set_variant(const char *name);
/* True if this CPU can run the named variant. */
int	 kern_variant_ok(const char *name);

#endif
