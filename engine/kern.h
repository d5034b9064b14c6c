/*
 * kern.h - matrix kernels with runtime CPU dispatch, internal to engine/.
 *
 * kern.c picks one variant at start-up from cpuid (best first:
 * avx512-vnni, avx512, avx2-vnni, avx2, scalar); every variant is tested
 * against the scalar one, which calls quant.c.
 *
 * Two shapes of work, two kinds of kernel:
 *   decode   a few activation rows: each weight row is streamed once from
 *            memory and meets every activation row while it is in cache
 *            (dot / dot4 / dotw4 kernels, memory-bound); a thread's rows
 *            go as KERN_LANES lanes read side by side, since one core
 *            keeps more reads in flight over several streams than one;
 *   prefill  many activation rows: weights are decoded a tile of rows at
 *            a time into 8-bit integers (or f32) that stay in cache, and
 *            a register-blocked kernel multiplies the tile with every
 *            group of KERN_TT tokens (gemm kernels, compute-bound).
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
/*
 * Give every thread of the pool `bytes` of scratch for prefill tiles and
 * attention (see kern_thread_bytes); 0 or -1 if out of memory (the pool
 * keeps what it had).  Without it, batches use the decode kernels.
 */
int	 kern_pool_reserve(struct kern_pool *, size_t bytes);
/* Per-thread scratch for matmuls of rows up to n elements and attention
 * over n_ctx positions of head_dim hd. */
size_t	 kern_thread_bytes(size_t n, size_t n_ctx, size_t hd);

/*
 * Name of the variant in use: "scalar", "avx2", "avx2-vnni", "avx512",
 * "avx512-vnni".  TRIAGE_KERN=<name> in the environment forces one (if
 * the CPU has it; "vnni" is short for the best VNNI variant).
 */
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
 * A few rows (decoding) give bit for bit what one row at a time gives;
 * a batch large enough for the tile kernels (prefill, with a reserved
 * pool) sums in another order and matches within rounding, as both
 * match the reference (test-kern bounds them).
 */
void	 kern_matmul(struct kern_pool *, uint32_t type, const void *W,
	    size_t nrows, size_t n, const float *X, size_t nb, float *Y,
	    void *scratch);

/* One weight of a kern_matmul_n: its rows go to Y (nb x nrows). */
struct kern_mat {
	uint32_t	 type;
	const void	*W;
	size_t		 nrows;
	float		*Y;
};
/*
 * Several weights against the same activations (Q, K and V; gate and
 * up): the activations are prepared once and all rows share one pass of
 * the pool.  Same results as one kern_matmul per weight.
 */
void	 kern_matmul_n(struct kern_pool *, const struct kern_mat *mats,
	    size_t nmats, size_t n, const float *X, size_t nb, void *scratch);

/*
 * Causal attention of nb query tokens (at positions pos .. pos+nb-1) over
 * an f16 or 8-bit cache (att.h), every head, spread over the pool.  K is
 * laid out (n_kv, n_ctx, hd) and V transposed (n_kv, hd, n_ctx), so both
 * the scores and the weighted sum read memory sequentially.  Query head
 * h uses KV head h / (n_head / n_kv).  Returns -1 (and does nothing) if the pool has no
 * kern_pool_reserve'd scratch for n_ctx and hd, or the shape is wrong.
 */
struct kern_att {
	const uint16_t	*K;		/* (n_kv, n_ctx, hd) f16 */
	const uint16_t	*Vt;		/* (n_kv, hd, n_ctx) f16 */
	size_t		 n_ctx;
	const float	*Q;		/* (nb, n_head * hd) */
	float		*O;		/* (nb, n_head * hd) */
	uint32_t	 n_head, n_kv, hd;
	uint32_t	 nb, pos;
	float		 scale;		/* 1/sqrt(hd) */
	/* sliding window: a query at position p sees only positions
	 * p - window + 1 .. p, and only those are read; 0: all */
	uint32_t	 window;
	/* the cache's format (att.h): ATT_KV_F16 reads K and Vt;
	 * ATT_KV_Q8 reads Kq (Q8_0 rows) and Vq (int8 V^T, then its
	 * scales), each n_kv heads of att_kv_head_bytes */
	int		 kv;
	const void	*Kq;
	const void	*Vq;
};
/* att.c */
int	 kern_attention(struct kern_pool *, const struct kern_att *);

/* g[i] = silu(g[i]) * u[i], vectorized and spread over the pool. */
void	 kern_silu_mul(struct kern_pool *, float *g, const float *u,
	    size_t n);

/* The sum of the squares of n floats, in double (RMS norms). */
double	 kern_sumsq(const float *x, size_t n);

/* n floats to f16, round to nearest even (quant_f32_to_f16, vectorized). */
void	 kern_f32_to_f16(const float *src, uint16_t *dst, size_t n);

/* Run fn(arg, i) for i in [0, n) spread over the pool; returns when done. */
void	 kern_parallel(struct kern_pool *, size_t n,
	    void (*fn)(void *arg, size_t i), void *arg);

/* ---- internal: the variants, for kern-*.c and tests ------------------- */

/*
 * How far ahead of the block they are on the decode kernels ask for
 * weights.  Decoding streams every weight once per token, and the
 * hardware prefetchers alone keep only a few lines in flight per core:
 * measured on a 2-core Sapphire Rapids, a Q4_K row kernel read 55-60 % of
 * the plain-read bandwidth without this and 90-100 % with it (4 KiB; 2
 * KiB was short, 8 KiB no better).  Prefetches never fault, so running
 * past the end of a matrix is harmless.
 */
#define KERN_PREFETCH	4096

static inline void
kern_prefetch(const void *block, size_t bytes)
{
	const char *p = (const char *)block + KERN_PREFETCH;

	for (size_t o = 0; o < bytes; o += 64)
		__builtin_prefetch(p + o, 0, 3);
}

struct qa_block;
#define KERN_NTYPES	40	/* = QT_COUNT in quant.h */

#define KERN_TILE	4	/* activation rows per dot4 call */

/*
 * Prefill tiles.  A weight tile is KERN_TR rows decoded block by block
 * (32 elements) into unsigned 8-bit values u, with per-block float scales,
 * so that every quantized type means
 *	w = fs * (u - off) - fm		(Q6_K: fs per 16 values)
 * An activation tile holds KERN_TT tokens interleaved 4 bytes at a time,
 * as the integer dot-product instructions want them (a vector register
 * holds 4 consecutive values of each of KERN_TT tokens).  Every variant
 * uses the same layouts; a variant with narrower registers covers a tile
 * with several vectors.
 */
#define KERN_TT		16	/* tokens per activation tile */
#define KERN_TR		8	/* weight rows per weight tile */

struct kern_wtile {
	uint8_t		*u;		/* (KERN_TR, nblk, 32) */
	float		*fs;		/* (KERN_TR, nblk, 2): per half */
	float		*fm;		/* (KERN_TR, nblk): min term */
	size_t		 nblk;
	int		 off;		/* 0, 8, 16, 32 or 128 */
	int		 halves;	/* Q6_K: fs differs between halves */
	int		 has_min;
};

/* The activation tile of block k: q (32 x KERN_TT bytes: group g of 4
 * values for token t at [g][t][4]), then d, the sum of each half. */
struct kern_ablk {
	int8_t		 q[8][KERN_TT][4];
	float		 d[KERN_TT];
	int32_t		 sum0[KERN_TT];	/* values 0..15 */
	int32_t		 sum1[KERN_TT];	/* values 16..31 */
};

/*
 * One variant's kernels.  Weight rows may sit at any address (they come
 * from an mmap'd file).  A NULL entry falls back to `fallback`'s kernel
 * (avx512-vnni -> avx512 -> avx2 -> scalar); the scalar table is
 * complete.  dot_bf16 takes activations already rounded to bf16 (as
 * floats).  dot4_* compute KERN_TILE dots of one weight row with
 * activation rows `stride` floats (or blocks) apart, decoding the weights
 * once; each result must be bit-identical to the single-row kernel's.
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
	float	(*dot_q8[KERN_NTYPES])(const void *w,
		    const struct qa_block *x, size_t n);
	void	(*dot4_q8[KERN_NTYPES])(const void *w,
		    const struct qa_block *x, size_t stride, size_t n,
		    float *out);
	/* KERN_TILE weight rows, row_bytes apart, against one activation
	 * row: bit-identical to KERN_TILE calls of dot_q8 */
	void	(*dotw4_q8[KERN_NTYPES])(const void *w, size_t row_bytes,
		    const struct qa_block *x, size_t n, float *out);

	/* quant_act_q8, bit for bit */
	void	(*act_q8)(const float *x, struct qa_block *out, size_t n);
	/* n f16 (or bf16) values at any address -> f32 */
	void	(*cvt_f16)(const void *src, float *dst, size_t n);
	void	(*cvt_bf16)(const void *src, float *dst, size_t n);
	/* g = silu(g) * u */
	void	(*silu_mul)(float *g, const float *u, size_t n);
	/* x[i] = exp(x[i] - max) for i < n; returns the sum */
	float	(*softmax_exp)(float *x, size_t n, float max);
	/*
	 * Causal softmax numerators of a score tile s (np positions x
	 * KERN_TT queries, query fastest): column t is scaled, masked past
	 * position last[t] (-1: all of it), and becomes exp(x - max of the
	 * column) (0 where masked); sum[t] gets the column sum.
	 */
	void	(*softmax_tile)(float *s, size_t np, const int32_t *last,
		    float scale, float *sum);
	/* n floats -> f16 (round to nearest even, as quant_f32_to_f16) */
	void	(*cvt_to_f16)(const float *src, uint16_t *dst, size_t n);
	/*
	 * out[g * ostride + r] = dot(f16 row r, x row g) for nw rows of n
	 * values, wstride apart, and nx (1 to KERN_TILE) vectors, xstride
	 * apart: the decode attention's scores (rows of K against the
	 * query heads that share them) and weighted sums (rows of V^T).
	 * Each row is read once for all nx.  Any n; the order of the sums
	 * is the variant's own.
	 */
	void	(*dotn_f16)(const uint16_t *w, size_t wstride, size_t nw,
		    const float *x, size_t xstride, size_t nx, size_t n,
		    float *out, size_t ostride);
	/* the sum of x[i]^2 in double (for RMS norms) */
	double	(*sumsq)(const float *x, size_t n);

	/*
	 * Prefill.  decode[type] fills row r (< KERN_TR) of a weight tile
	 * from nblk blocks of one weight row; gemm_q8 multiplies the tile
	 * with one activation tile of nblk blocks, giving out[r * KERN_TT
	 * + t] for r < KERN_TR, t < KERN_TT, or out[t * KERN_TR + r] if
	 * `tr` (the layout of the matmul's Y).  gemm_f32 does the same for
	 * float weights (w: KERN_TR rows of n f32) against an f32
	 * activation tile (n x KERN_TT, token fastest).  A variant without
	 * gemm_q8 runs batches with the dot kernels.
	 */
	void	(*decode[KERN_NTYPES])(const void *row, size_t nblk,
		    struct kern_wtile *t, int r);
	void	(*gemm_q8)(const struct kern_wtile *t,
		    const struct kern_ablk *a, float *out, int tr);
	void	(*gemm_f32)(const float *w, size_t n, const float *a,
		    float *out, int tr);
};

extern const struct kern_impl kern_impl_scalar;
extern const struct kern_impl kern_impl_avx2;		/* kern-avx2.c */
extern const struct kern_impl kern_impl_avx2_vnni;	/* kern-avx2-vnni.c */
extern const struct kern_impl kern_impl_avx512;	/* kern-avx512.c */
/* kern-avx512-vnni.c */
extern const struct kern_impl kern_impl_avx512_vnni;

/* For att.c: the variant in use, the batch mode, a thread's scratch
 * (kern_pool_reserve'd bytes each) and running fn(arg, t, nt) on every
 * thread of the pool (t = 0 is the caller). */
const struct kern_impl *kern_impl_current(void);
int	 kern_batch_mode(void);
size_t	 kern_pool_scratch(const struct kern_pool *);
void	*kern_pool_tbuf(const struct kern_pool *, int t);
void	 kern_pool_run(struct kern_pool *, void (*fn)(void *, int, int),
	    void *arg);

/* The table serving `type` in k (following the fallback chain), or NULL. */
const struct kern_impl *kern_impl_for(const struct kern_impl *k,
	    uint32_t type);

/*
 * Switch the variant kern_matmul uses (a name as kern_variant's); -1 if
 * unknown or the CPU lacks it.  For tests and benchmarks: call it only
 * while no kern_matmul is running.
 */
int	 kern_set_variant(const char *name);
/* True if this CPU can run the named variant. */
int	 kern_variant_ok(const char *name);
/* The table of a variant this CPU can run, or NULL. */
const struct kern_impl *kern_variant_impl(const char *name);

/*
 * For benchmarks and tests: force batches onto the decode kernels
 * (mode 1), the prefill tiles (2) or let kern_matmul choose (0).
 */
void	 kern_set_batch_mode(int mode);

#endif
