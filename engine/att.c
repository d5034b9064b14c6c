/*
 * att.c - causal attention over the KV cache (f16 or 8-bit), the cache's
 * formats, and the scalar attention kernels.
 *
 * Two paths, as the matmuls have:
 *   decode   a few queries: per token, the query heads that share a KV
 *            head go together, so each row of K and V^T is read once for
 *            all of them (memory-bound); 8-bit rows are widened to f32
 *            in registers, so both paths multiply f32 queries with the
 *            values the cache holds.  The f16 scores (dec_qk_f16) take
 *            16 sums at a time (rows x heads) through one reduction and
 *            keep each head's maximum; the scale is in the queries.  Deep
 *            in a context this is most of a token's extra cost: at 2,048
 *            positions of Llama-3.2-1B's shape (16 layers, 8 KV heads of
 *            64) the attention went from 15.7 to 3.1 ms per token (q8:
 *            11.9 to 4.7) on a Zen 5 EPYC (AVX-512, one thread, the
 *            cache out of L3), where the weights take about 45 ms.
 *   prefill  many queries: flash attention.  A task takes ATT_GROUP
 *            tiles of ATT_TT queries of one KV head and walks their
 *            positions ATT_BP at a time: each block of K and V^T is
 *            converted to f32 once into a few KiB of the thread's scratch
 *            (it stays in L1) and every tile of the task takes it through
 *            flash_block (flash_group: up to four tiles at once), which
 *            computes the scores, updates the running maximum and sum of
 *            the softmax (rescaling what it has summed so far when the
 *            maximum grows) and adds P V.  Nothing proportional to the
 *            context is written: the previous kernel converted all of K
 *            and V^T to f32 per task and kept scores as long as the
 *            context (2.5 MiB of scratch per thread at 4096 tokens of
 *            head size 64).  The multiply-adds are the same, and they set
 *            the pace: on a CPU whose L2 held those copies (Zen 5) the
 *            speed is the same as before.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "att.h"
#include "kern.h"
#include "quant.h"

/* Bytes at the start of each V^T row the decode attention prefetches. */
#define ATT_VPF		256
/* Query tiles that share each staged block of K and V^T (prefill):
 * converting a block costs about what one tile's products with it do,
 * so 8 make it a small part; flash_group takes 4 of them at a time. */
#define ATT_GROUP	8
#define ATT_NT		4
/* Queries (tokens x heads per KV head) from which prefill is tiled. */
#define ATT_MIN_Q	8
#define ATT_ALIGN	64
/* Bytes of one Q8_0 block */
#define Q8_0_BYTES	34

_Static_assert(ATT_TT == KERN_TT, "a tile is the matmul's token tile");
_Static_assert(ATT_BP % 8 == 0, "blocks are whole groups of 8");

/* ==== sizes =============================================================== */

static size_t
mul_sat(size_t a, size_t b)
{
	return a != 0 && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

static size_t
add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t
ceil_div(size_t a, size_t b)
{
	return a / b + (a % b != 0);
}

static size_t
round8(size_t n)
{
	return ceil_div(n, 8) * 8;
}

static void *
align_up(void *p)
{
	uintptr_t u = (uintptr_t)p;

	return (void *)((u + ATT_ALIGN - 1) / ATT_ALIGN * ATT_ALIGN);
}

int
att_kv_ok(int kv, size_t hd)
{
	return kv == ATT_KV_F16 || (kv == ATT_KV_Q8 && hd % ATT_Q8_BLCK == 0);
}

size_t
att_kv_head_bytes(int kv, size_t n_ctx, size_t hd)
{
	if (kv == ATT_KV_Q8)
		return mul_sat(mul_sat(n_ctx, hd / ATT_Q8_BLCK), Q8_0_BYTES);
	return mul_sat(mul_sat(n_ctx, hd), sizeof(uint16_t));
}

/* decode: KERN_TILE rows of scores, of scaled weights, a row of
 * scales and KERN_TILE scaled queries; prefill: per tile Qt and Ot,
 * then the staged block and its scores */
size_t
att_thread_bytes(size_t n_ctx, size_t hd)
{
	size_t row = add_sat(n_ctx, 8);
	size_t dec = mul_sat(add_sat(add_sat(mul_sat(2 * KERN_TILE, row), row),
	    mul_sat(KERN_TILE, hd)), sizeof(float));
	size_t hdp = round8(hd);
	size_t pre = mul_sat(ATT_GROUP, add_sat(mul_sat(2 * hdp, ATT_TT),
	    2 * ATT_TT));

	pre = add_sat(pre, mul_sat(2 * ATT_BP, hdp));
	pre = mul_sat(add_sat(pre, (ATT_GROUP * ATT_BP + 1) * ATT_TT),
	    sizeof(float));
	return add_sat(dec > pre ? dec : pre, 12 * ATT_ALIGN);
}

void
att_kv_put(int kv, void *K, void *V, size_t n_ctx, size_t hd, size_t p,
    const float *k, const float *v)
{
	if (kv == ATT_KV_Q8) {
		size_t nblk = hd / ATT_Q8_BLCK;
		uint8_t *Kq = (uint8_t *)K + p * nblk * Q8_0_BYTES;
		int8_t *Vq = (int8_t *)V;
		uint16_t *Vs = (uint16_t *)(void *)(Vq + n_ctx * hd);
		uint8_t row[Q8_0_BYTES];

		(void)quant_quantize_row(QT_Q8_0, k, Kq, hd);
		for (size_t b = 0; b < nblk; b++) {
			(void)quant_quantize_row(QT_Q8_0, v + b * ATT_Q8_BLCK,
			    row, ATT_Q8_BLCK);
			memcpy(&Vs[b * n_ctx + p], row, 2);
			for (size_t i = 0; i < ATT_Q8_BLCK; i++)
				Vq[(b * ATT_Q8_BLCK + i) * n_ctx + p] =
				    (int8_t)row[2 + i];
		}
		return;
	}
	{
		uint16_t *Kh = K, *Vt = V, vh[ATT_TT];

		kern_f32_to_f16(k, Kh + p * hd, hd);
		for (size_t i0 = 0; i0 < hd; i0 += ATT_TT) {
			size_t n = hd - i0 < ATT_TT ? hd - i0 : ATT_TT;

			kern_f32_to_f16(v + i0, vh, n);
			for (size_t i = 0; i < n; i++)
				Vt[(i0 + i) * n_ctx + p] = vh[i];
		}
	}
}

/* ==== scalar kernels ====================================================== */

static void
flash_block_scalar(const float *Kf, const float *Vf, size_t vs, size_t np,
    size_t hd, const float *Qt, const int32_t *first, const int32_t *last,
    float *m, float *l, float *Ot, float *S)
{
	float alpha[ATT_TT];

	for (size_t p = 0; p < np; p++)
		for (size_t t = 0; t < ATT_TT; t++) {
			float acc = 0.0f;

			for (size_t d = 0; d < hd; d++)
				acc += Kf[p * hd + d] * Qt[d * ATT_TT + t];
			S[p * ATT_TT + t] = acc;
		}
	for (size_t t = 0; t < ATT_TT; t++) {
		float mx = m[t], ms, sum = 0.0f;

		for (size_t p = 0; p < np; p++)
			if ((int32_t)p >= first[t] && (int32_t)p <= last[t] &&
			    S[p * ATT_TT + t] > mx)
				mx = S[p * ATT_TT + t];
		/* nothing seen yet: every exp is 0, and so is alpha */
		ms = mx == -INFINITY ? 0.0f : mx;
		alpha[t] = expf(m[t] - ms);
		for (size_t p = 0; p < np; p++) {
			float e = (int32_t)p >= first[t] && (int32_t)p <=
			    last[t] ? expf(S[p * ATT_TT + t] - ms) : 0.0f;

			S[p * ATT_TT + t] = e;
			sum += e;
		}
		l[t] = l[t] * alpha[t] + sum;
		m[t] = mx;
	}
	for (size_t d = 0; d < hd; d++)
		for (size_t t = 0; t < ATT_TT; t++) {
			float acc = Ot[d * ATT_TT + t] * alpha[t];

			for (size_t p = 0; p < np; p++)
				acc += Vf[d * vs + p] * S[p * ATT_TT + t];
			Ot[d * ATT_TT + t] = acc;
		}
}

static void
dq_q8_0_scalar(const void *src, float *dst, size_t n)
{
	(void)quant_dequant_row(QT_Q8_0, src, dst, n);
}

static void
dq_i8_scalar(const int8_t *src, const float *sc, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)src[i] * sc[i];
}

static void
dotn_i8_scalar(const int8_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride)
{
	for (size_t g = 0; g < nx; g++)
		for (size_t r = 0; r < nw; r++) {
			float acc = 0.0f;

			for (size_t i = 0; i < n; i++)
				acc += (float)w[r * wstride + i] *
				    x[g * xstride + i];
			out[g * ostride + r] = acc;
		}
}

static void
dotn_q8_0_scalar(const void *w, size_t nw, const float *x, size_t xstride,
    size_t nx, size_t n, float *out, size_t ostride)
{
	const uint8_t *p = w;

	for (size_t r = 0; r < nw; r++)
		for (size_t g = 0; g < nx; g++) {
			const uint8_t *b = p + r * (n / 32) * Q8_0_BYTES;
			float acc = 0.0f;

			for (size_t i = 0; i < n; i += 32, b += Q8_0_BYTES) {
				float d = quant_f16_to_f32((uint16_t)(b[0] |
				    b[1] << 8)), s = 0.0f;

				for (size_t k = 0; k < 32; k++)
					s += (float)(int8_t)b[2 + k] *
					    x[g * xstride + i + k];
				acc += d * s;
			}
			out[g * ostride + r] = acc;
		}
}

/* Each row is widened once, 64 values at a time, for all the queries:
 * the conversion, not the multiply, is the cost here. */
static void
dec_qk_f16_scalar(const uint16_t *K, size_t np, size_t hd, const float *q,
    size_t nq, float *S, size_t sst, float *mx)
{
	float kf[64];

	for (size_t g = 0; g < nq; g++)
		mx[g] = -INFINITY;
	for (size_t p = 0; p < np; p++) {
		float acc[KERN_TILE] = { 0 };

		for (size_t d0 = 0; d0 < hd; d0 += 64) {
			size_t n = hd - d0 < 64 ? hd - d0 : 64;

			for (size_t d = 0; d < n; d++)
				kf[d] = quant_f16_to_f32(K[p * hd + d0 + d]);
			for (size_t g = 0; g < nq; g++)
				for (size_t d = 0; d < n; d++)
					acc[g] += kf[d] * q[g * hd + d0 + d];
		}
		for (size_t g = 0; g < nq; g++) {
			S[g * sst + p] = acc[g];
			mx[g] = acc[g] > mx[g] ? acc[g] : mx[g];
		}
	}
}

const struct att_impl att_impl_scalar = {
	.name = "scalar",
	.flash_block = flash_block_scalar,
	.dq_q8_0 = dq_q8_0_scalar,
	.dq_i8 = dq_i8_scalar,
	.dotn_i8 = dotn_i8_scalar,
	.dotn_q8_0 = dotn_q8_0_scalar,
	.dec_qk_f16 = dec_qk_f16_scalar,
};

const struct att_impl *
att_impl_for(const char *variant)
{
#if defined(__x86_64__)
	if (strncmp(variant, "avx512", 6) == 0)
		return &att_impl_avx512;
	if (strncmp(variant, "avx2", 4) == 0)
		return &att_impl_avx2;
#endif
	(void)variant;
	return &att_impl_scalar;
}

/* ==== the driver ========================================================== */

struct att_job {
	const struct kern_att *A;
	const struct att_impl *a;	/* complete: NULLs filled in */
	void	(*dotn_f16)(const uint16_t *, size_t, size_t, const float *,
		    size_t, size_t, size_t, float *, size_t);
	void	(*cvt_f16)(const void *, float *, size_t);
	float	(*softmax_exp)(float *, size_t, float);
	size_t		 G, nq, ntile, ntasks, nblk;
	size_t		 ngrp;		/* decode: head groups per token */
	bool		 tiles;
	struct kern_pool *pool;
	atomic_size_t	 next;
};

/* The cache of KV head kh: K rows, V^T rows (and q8 scales). */
static const uint16_t *
k16(const struct kern_att *A, size_t kh)
{
	return A->K + kh * A->n_ctx * A->hd;
}

static const uint16_t *
vt16(const struct kern_att *A, size_t kh)
{
	return A->Vt + kh * A->hd * A->n_ctx;
}

static const uint8_t *
kq8(const struct kern_att *A, size_t kh)
{
	return (const uint8_t *)A->Kq + kh * att_kv_head_bytes(ATT_KV_Q8,
	    A->n_ctx, A->hd);
}

static const int8_t *
vq8(const struct kern_att *A, size_t kh)
{
	return (const int8_t *)A->Vq + kh * att_kv_head_bytes(ATT_KV_Q8,
	    A->n_ctx, A->hd);
}

static const uint16_t *
vs8(const struct kern_att *A, size_t kh)
{
	return (const uint16_t *)(const void *)(vq8(A, kh) + A->n_ctx *
	    A->hd);
}

/*
 * Query heads h0 .. h0+gn-1 (gn <= KERN_TILE, all of KV head kh) of token
 * t over their positions: the decode path.  S has room for KERN_TILE
 * rows of n_ctx + 8 scores, then as many of weights times scales and a
 * row of scales.
 */
static void
att_group(const struct att_job *j, uint32_t h0, uint32_t gn, uint32_t t,
    float *S)
{
	const struct kern_att *A = j->A;
	size_t hd = A->hd, qd = (size_t)A->n_head * hd, n_ctx = A->n_ctx;
	size_t kh = h0 / j->G, npos = (size_t)A->pos + t + 1;
	size_t sst = n_ctx + 8;		/* S row stride */
	/* a sliding window reads only its last `window` positions */
	size_t p0 = A->window && npos > A->window ? npos - A->window : 0;
	const float *q = A->Q + t * qd + h0 * hd;
	float *o = A->O + t * qd + h0 * hd, inv[KERN_TILE];
	float *Pb = S + KERN_TILE * sst, *sc = Pb + KERN_TILE * sst;
	size_t vlen;

	npos -= p0;
	vlen = npos * 2 < ATT_VPF ? npos * 2 : ATT_VPF;
	/* V^T is hd rows n_ctx apart and a short context reads only the
	 * start of each: a string of misses the prefetchers cannot see
	 * coming.  Ask for them now, to arrive while the scores are done
	 * (longer rows are streams the hardware follows by itself). */
	for (size_t d = 0; A->kv != ATT_KV_Q8 && d < hd; d++)
		for (size_t off = 0; off < vlen; off += ATT_ALIGN)
			__builtin_prefetch((const char *)(vt16(A, kh) +
			    d * n_ctx + p0) + off, 0, 3);
	if (A->kv != ATT_KV_Q8) {
		/* the scale goes into the queries, and the kernel finds
		 * each row's maximum as it goes: one pass over the scores
		 * (the exponentials) instead of two */
		float *qs = align_up(sc + sst), mx[KERN_TILE];

		for (size_t i = 0; i < gn * hd; i++)
			qs[i] = q[i] * A->scale;
		j->a->dec_qk_f16(k16(A, kh) + p0 * hd, npos, hd, qs, gn, S,
		    sst, mx);
		for (size_t g = 0; g < gn; g++)
			inv[g] = 1.0f / j->softmax_exp(S + g * sst, npos,
			    mx[g]);
	} else {
		/* each Q8_0 row of K is widened to f32 in registers and
		 * read once for all the heads */
		j->a->dotn_q8_0(kq8(A, kh) + p0 * j->nblk * Q8_0_BYTES, npos,
		    q, hd, gn, hd, S, sst);
		for (size_t g = 0; g < gn; g++) {
			float *sg = S + g * sst, mx = -INFINITY;

			for (size_t p = 0; p < npos; p++) {
				sg[p] *= A->scale;
				if (sg[p] > mx)
					mx = sg[p];
			}
			inv[g] = 1.0f / j->softmax_exp(sg, npos, mx);
		}
	}
	if (A->kv != ATT_KV_Q8)
		j->dotn_f16(vt16(A, kh) + p0, n_ctx, hd, S, sst, gn, npos, o,
		    hd);
	else
		/* per 32 values of the head dim: the weights times that
		 * block's scale of each position, then int8 rows */
		for (size_t b = 0; b < j->nblk; b++) {
			j->cvt_f16(vs8(A, kh) + b * n_ctx + p0, sc, npos);
			for (size_t g = 0; g < gn; g++)
				for (size_t p = 0; p < npos; p++)
					Pb[g * sst + p] = S[g * sst + p] *
					    sc[p];
			j->a->dotn_i8(vq8(A, kh) + b * ATT_Q8_BLCK * n_ctx + p0,
			    n_ctx, ATT_Q8_BLCK, Pb, sst, gn, npos,
			    o + b * ATT_Q8_BLCK, hd);
		}
	for (size_t g = 0; g < gn; g++)
		for (size_t d = 0; d < hd; d++)
			o[g * hd + d] *= inv[g];
}

/* Positions b0 .. b0+np-1 of KV head kh into Kf (np rows of hd, zero
 * rows up to a multiple of 8) and Vf (hd rows of ATT_BP). */
static void
stage(const struct att_job *j, size_t kh, size_t b0, size_t np, float *Kf,
    float *Vf, float *sc)
{
	const struct kern_att *A = j->A;
	size_t hd = A->hd, n_ctx = A->n_ctx;

	if (A->kv == ATT_KV_Q8) {
		j->a->dq_q8_0(kq8(A, kh) + b0 * j->nblk * Q8_0_BYTES, Kf,
		    np * hd);
		for (size_t b = 0; b < j->nblk; b++) {
			j->cvt_f16(vs8(A, kh) + b * n_ctx + b0, sc, np);
			for (size_t d = b * ATT_Q8_BLCK; d < (b + 1) *
			    ATT_Q8_BLCK; d++)
				j->a->dq_i8(vq8(A, kh) + d * n_ctx + b0, sc,
				    Vf + d * ATT_BP, np);
		}
	} else {
		j->cvt_f16(k16(A, kh) + b0 * hd, Kf, np * hd);
		for (size_t d = 0; d < hd; d++)
			j->cvt_f16(vt16(A, kh) + d * n_ctx + b0,
			    Vf + d * ATT_BP, np);
	}
	memset(Kf + np * hd, 0, (round8(np) - np) * hd * sizeof *Kf);
}

/*
 * Query tiles i0 .. i0+ni-1 of KV head kh (ATT_TT queries a tile; query
 * i is token i / G, head kh*G + i % G): the prefill path (see the top).
 */
static void
att_flash(const struct att_job *j, size_t kh, size_t i0, size_t ni,
    void *buf)
{
	const struct kern_att *A = j->A;
	size_t hd = A->hd, hdp = round8(hd), qd = (size_t)A->n_head * hd;
	size_t G = j->G;
	size_t qe = (i0 + ni) * ATT_TT < j->nq ? (i0 + ni) * ATT_TT : j->nq;
	/* positions lo .. hi are all the task reads: with a sliding
	 * window, lo is where its first query's window starts */
	size_t qp0 = A->pos + i0 * ATT_TT / G, hi = A->pos + (qe - 1) / G;
	size_t lo = A->window && qp0 + 1 > A->window ? qp0 + 1 - A->window : 0;
	float *Qt = align_up(buf);
	float *Ot = align_up(Qt + ATT_GROUP * hdp * ATT_TT);
	float *ml = align_up(Ot + ATT_GROUP * hdp * ATT_TT);
	float *Kf = align_up(ml + ATT_GROUP * 2 * ATT_TT);
	float *Vf = align_up(Kf + ATT_BP * hdp);
	float *S = align_up(Vf + hdp * ATT_BP);
	float *sc = align_up(S + ATT_GROUP * ATT_BP * ATT_TT);
	/* per tile: where query s sits in Q and O, the positions it sees,
	 * and the span of the tile */
	size_t at[ATT_GROUP][ATT_TT], qn[ATT_GROUP];
	int64_t fa[ATT_GROUP][ATT_TT], la[ATT_GROUP][ATT_TT];
	size_t tlo[ATT_GROUP], thi[ATT_GROUP];

	memset(Vf + hd * ATT_BP, 0, (hdp - hd) * ATT_BP * sizeof *Vf);
	for (size_t i = 0; i < ni; i++) {
		size_t q0 = (i0 + i) * ATT_TT;
		float *qt = Qt + i * hdp * ATT_TT;

		qn[i] = j->nq - q0 < ATT_TT ? j->nq - q0 : ATT_TT;
		tlo[i] = SIZE_MAX;
		thi[i] = 0;
		for (size_t s = 0; s < ATT_TT; s++) {
			size_t qi = q0 + s, qp = A->pos + qi / G;

			if (s >= qn[i]) {	/* an empty slot sees nothing */
				fa[i][s] = 1;
				la[i][s] = 0;
				for (size_t d = 0; d < hd; d++)
					qt[d * ATT_TT + s] = 0.0f;
				continue;
			}
			at[i][s] = qi / G * qd + (kh * G + qi % G) * hd;
			fa[i][s] = A->window && qp + 1 > A->window ?
			    (int64_t)(qp + 1 - A->window) : 0;
			la[i][s] = (int64_t)qp;
			tlo[i] = (size_t)fa[i][s] < tlo[i] ? (size_t)fa[i][s] :
			    tlo[i];
			thi[i] = qp > thi[i] ? qp : thi[i];
			/* the scale goes into the query once */
			for (size_t d = 0; d < hd; d++)
				qt[d * ATT_TT + s] = A->Q[at[i][s] + d] *
				    A->scale;
		}
		memset(Ot + i * hdp * ATT_TT, 0, hdp * ATT_TT * sizeof *Ot);
		for (size_t s = 0; s < ATT_TT; s++) {
			ml[i * 2 * ATT_TT + s] = -INFINITY;
			ml[i * 2 * ATT_TT + ATT_TT + s] = 0.0f;
		}
	}
	for (size_t b0 = lo; b0 <= hi; b0 += ATT_BP) {
		size_t np = hi + 1 - b0 < ATT_BP ? hi + 1 - b0 : ATT_BP;

		int32_t first[ATT_GROUP][ATT_TT], last[ATT_GROUP][ATT_TT];
		size_t ilo = ni, ihi = 0;

		stage(j, kh, b0, np, Kf, Vf, sc);
		for (size_t i = 0; i < ni; i++) {
			/* (a tile that sees none of the block gets an empty
			 * range for every query) */
			if (b0 <= thi[i] && b0 + np > tlo[i]) {
				ilo = i < ilo ? i : ilo;
				ihi = i + 1;
			}
			for (size_t s = 0; s < ATT_TT; s++) {
				int64_t f = fa[i][s] - (int64_t)b0;
				int64_t e = la[i][s] - (int64_t)b0;

				first[i][s] = f < 0 ? 0 : f > ATT_BP ? ATT_BP :
				    (int32_t)f;
				last[i][s] = e < -1 ? -1 : e >= ATT_BP ?
				    ATT_BP - 1 : (int32_t)e;
			}
		}
		/* the tiles that see the block are consecutive (their
		 * positions grow with i): all at once if the variant can */
		for (size_t i = ilo; j->a->flash_group != NULL && i < ihi;
		    i += ATT_NT)
			j->a->flash_group(Kf, Vf, ATT_BP, np, hd, ihi - i <
			    ATT_NT ? ihi - i : ATT_NT, Qt + i * hdp * ATT_TT,
			    hdp * ATT_TT, first[i], last[i],
			    ml + i * 2 * ATT_TT, Ot + i * hdp * ATT_TT, S);
		if (j->a->flash_group != NULL)
			continue;
		for (size_t i = ilo; i < ihi; i++)
			j->a->flash_block(Kf, Vf, ATT_BP, np, hd,
			    Qt + i * hdp * ATT_TT, first[i], last[i],
			    ml + i * 2 * ATT_TT, ml + i * 2 * ATT_TT + ATT_TT,
			    Ot + i * hdp * ATT_TT, S);
	}
	for (size_t i = 0; i < ni; i++) {
		const float *ot = Ot + i * hdp * ATT_TT;
		const float *l = ml + i * 2 * ATT_TT + ATT_TT;

		for (size_t s = 0; s < qn[i]; s++) {
			float *o = A->O + at[i][s], inv = 1.0f / l[s];

			for (size_t d = 0; d < hd; d++)
				o[d] = ot[d * ATT_TT + s] * inv;
		}
	}
}

static void
att_run(void *v, int t, int nt)
{
	struct att_job *j = v;
	const struct kern_att *A = j->A;
	void *buf = kern_pool_tbuf(j->pool, t);
	size_t u;

	(void)nt;
	while ((u = atomic_fetch_add_explicit(&j->next, 1,
	    memory_order_relaxed)) < j->ntasks) {
		if (j->tiles) {
			size_t per = ceil_div(j->ntile, ATT_GROUP);
			size_t i0 = u % per * ATT_GROUP;

			att_flash(j, u / per, i0, j->ntile - i0 < ATT_GROUP ?
			    j->ntile - i0 : ATT_GROUP, buf);
		} else {
			/* task u: group u % ngrp of token u / ngrp; a
			 * group is up to KERN_TILE heads of one KV head */
			size_t gi = u % j->ngrp, per = j->ngrp / A->n_kv;
			size_t kh = gi / per, g0 = gi % per * KERN_TILE;
			size_t gn = j->G - g0 < KERN_TILE ? j->G - g0 :
			    KERN_TILE;

			att_group(j, (uint32_t)(kh * j->G + g0),
			    (uint32_t)gn, (uint32_t)(u / j->ngrp),
			    align_up(buf));
		}
	}
}

/* The first table in k's chain that has member `m`. */
#define KFIND(k, m) ({							\
	const struct kern_impl *k_ = (k);				\
	while (k_ != NULL && k_->m == NULL)				\
		k_ = k_->fallback;					\
	k_ != NULL ? k_->m : kern_impl_scalar.m;			\
})
#define AFIND(a, m) ((a)->m != NULL ? (a)->m : att_impl_scalar.m)

int
kern_attention(struct kern_pool *pool, const struct kern_att *A)
{
	const struct kern_impl *k = kern_impl_current();
	const struct att_impl *ai = att_impl_for(k->name);
	struct att_impl a;
	struct att_job j;

	if (pool == NULL || A->n_kv == 0 || A->n_head % A->n_kv != 0 ||
	    A->nb == 0 || (size_t)A->pos + A->nb > A->n_ctx ||
	    !att_kv_ok(A->kv, A->hd) ||
	    kern_pool_scratch(pool) < att_thread_bytes(A->n_ctx, A->hd))
		return -1;
	a.name = ai->name;
	a.flash_block = AFIND(ai, flash_block);
	a.flash_group = ai->flash_group;	/* optional */
	a.dq_q8_0 = AFIND(ai, dq_q8_0);
	a.dq_i8 = AFIND(ai, dq_i8);
	a.dotn_i8 = AFIND(ai, dotn_i8);
	a.dotn_q8_0 = AFIND(ai, dotn_q8_0);
	a.dec_qk_f16 = AFIND(ai, dec_qk_f16);
	memset(&j, 0, sizeof j);
	j.A = A;
	j.a = &a;
	j.pool = pool;
	j.dotn_f16 = KFIND(k, dotn_f16);
	j.cvt_f16 = KFIND(k, cvt_f16);
	j.softmax_exp = KFIND(k, softmax_exp);
	j.nblk = A->hd / ATT_Q8_BLCK;
	j.G = A->n_head / A->n_kv;
	j.nq = (size_t)A->nb * j.G;
	j.tiles = j.nq >= ATT_MIN_Q && kern_batch_mode() != 1;
	if (j.tiles) {
		j.ntile = ceil_div(j.nq, ATT_TT);
		j.ntasks = A->n_kv * ceil_div(j.ntile, ATT_GROUP);
	} else {
		j.ngrp = A->n_kv * ceil_div(j.G, KERN_TILE);
		j.ntasks = j.ngrp * A->nb;
	}
	atomic_init(&j.next, 0);
	kern_pool_run(pool, att_run, &j);
	return 0;
}
