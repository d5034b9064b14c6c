/*
 * att.h - attention over the KV cache and the cache's layouts, internal
 * to engine/ (att.c; SIMD in att-avx2.c, att-avx512.c).
 *
 * kern_attention (declared in kern.h with struct kern_att) is the entry
 * point; this header has the cache formats and the per-variant kernels.
 *
 * Two cache formats, per KV head of an attention layer:
 *   f16  K (n_ctx, hd) f16 rows; V^T (hd, n_ctx) f16
 *   q8   K (n_ctx, hd) as Q8_0 rows (an f16 scale and 32 int8 per 32
 *        values of the head dim, as the reference runtime's q8_0 cache);
 *        V^T (hd, n_ctx) int8 with an f16 scale per 32 values of the head
 *        dim of each position, kept beside it as (hd / 32, n_ctx)
 * so both products read memory sequentially and q8 takes 34 bytes per 32
 * values where f16 takes 64.
 */
#ifndef TRIAGE_ENGINE_ATT_H
#define TRIAGE_ENGINE_ATT_H

#include <stddef.h>
#include <stdint.h>

enum { ATT_KV_F16 = 0, ATT_KV_Q8 = 1 };

#define ATT_Q8_BLCK	32	/* values per scale along the head dim */
#define ATT_BP		32	/* positions per block of the prefill kernel */
#define ATT_TT		16	/* queries per tile (= KERN_TT) */
#define ATT_PF		4096	/* bytes ahead the decode scores prefetch K */

/* True if a cache of `kv` can hold heads of hd values (q8: hd % 32). */
int	 att_kv_ok(int kv, size_t hd);
/* Bytes of one KV head's K (and again of its V, scales included) over
 * n_ctx positions. */
size_t	 att_kv_head_bytes(int kv, size_t n_ctx, size_t hd);
/*
 * Store one position p of one KV head: k and v (hd floats each) into K
 * and V (the head's base, att_kv_head_bytes each), rounded to f16 or
 * quantized to 8 bits.
 */
void	 att_kv_put(int kv, void *K, void *V, size_t n_ctx, size_t hd,
	    size_t p, const float *k, const float *v);
/* Per-thread scratch kern_attention needs for n_ctx positions of hd. */
size_t	 att_thread_bytes(size_t n_ctx, size_t hd);

/*
 * One variant's attention kernels (a NULL entry: the scalar one's).
 *
 * flash_block: one tile of ATT_TT queries against np (<= ATT_BP)
 * positions staged in f32, the online softmax of flash attention.  Kf
 * holds np rows of hd (zero rows up to a multiple of 8), Vf hd rows
 * (zero rows up to a multiple of 8) of vs values, positions fastest; Qt
 * is (hd, ATT_TT), the queries already scaled.  Query t sees the block's
 * positions first[t] .. last[t] (may be empty).  m and l are the running
 * maximum and sum, Ot (hd rounded up to 8, ATT_TT) the running weighted
 * sum; S is ATT_BP x ATT_TT floats of scratch.
 */
struct att_impl {
	const char	*name;
	void	(*flash_block)(const float *Kf, const float *Vf, size_t vs,
		    size_t np, size_t hd, const float *Qt,
		    const int32_t *first, const int32_t *last, float *m,
		    float *l, float *Ot, float *S);
	/*
	 * The same for nt (1 to 4) tiles at once, so that each staged value
	 * loaded meets several tiles' queries: Qt and Ot of tile i at
	 * i * ts floats, its first and last at i * ATT_TT, its m and l at
	 * ml + i * 2 * ATT_TT and ml + i * 2 * ATT_TT + ATT_TT; S has
	 * nt * ATT_BP * ATT_TT floats.  NULL: flash_block per tile.
	 */
	void	(*flash_group)(const float *Kf, const float *Vf, size_t vs,
		    size_t np, size_t hd, size_t nt, const float *Qt,
		    size_t ts, const int32_t *first, const int32_t *last,
		    float *ml, float *Ot, float *S);
	/* n values of Q8_0 blocks -> f32 (n % 32 == 0) */
	void	(*dq_q8_0)(const void *src, float *dst, size_t n);
	/* dst[i] = src[i] * sc[i] */
	void	(*dq_i8)(const int8_t *src, const float *sc, float *dst,
		    size_t n);
	/* out[g * ostride + r] = dot(int8 row r, x row g): nw rows
	 * wstride apart, nx (<= 4) vectors xstride apart, n values */
	void	(*dotn_i8)(const int8_t *w, size_t wstride, size_t nw,
		    const float *x, size_t xstride, size_t nx, size_t n,
		    float *out, size_t ostride);
	/* the same for nw contiguous rows of n (% 32 == 0) values in
	 * Q8_0 blocks: the decode scores of a q8 cache, each K row read
	 * once for all the query heads that share it */
	void	(*dotn_q8_0)(const void *w, size_t nw, const float *x,
		    size_t xstride, size_t nx, size_t n, float *out,
		    size_t ostride);
	/*
	 * The decode scores of an f16 cache: S[g * sst + p] = dot(K row p,
	 * query g) for np contiguous rows of hd values and nq (1 to 4)
	 * queries hd apart (already scaled), and mx[g] the largest of
	 * query g's.  Each row is read once for all the queries and their
	 * sums are reduced together, not one horizontal sum per dot.
	 */
	void	(*dec_qk_f16)(const uint16_t *K, size_t np, size_t hd,
		    const float *q, size_t nq, float *S, size_t sst,
		    float *mx);
};

extern const struct att_impl att_impl_scalar;
extern const struct att_impl att_impl_avx2;	/* att-avx2.c */
extern const struct att_impl att_impl_avx512;	/* att-avx512.c */

/* The table for a kernel variant name ("avx512-vnni" -> avx512's). */
const struct att_impl *att_impl_for(const char *variant);

#endif
