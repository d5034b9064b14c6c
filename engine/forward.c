/*
 * forward.c - the session: KV cache and the transformer forward pass.
 *
 * One pass over a chunk of nb tokens at positions pos..pos+nb-1:
 *
 *   x = embed(ids)                                  (nb, n_embd)
 *   per layer:
 *     xb = rmsnorm(x) * attn_norm
 *     q, k, v = xb Wq, xb Wk, xb Wv  (+ bias: qwen2)  (nb, n_head*hd) ...
 *     q, k = per-head rmsnorm (qwen3);  q, k = rope(q, k, pos)
 *     K[pos..], V[pos..] = k, v  (f16 as the reference runtime, or 8-bit)
 *     att = softmax(q K^T / sqrt(hd), causal) V     per head, GQA
 *     x += att Wo
 *     xb = rmsnorm(x) * ffn_norm
 *     x += (silu(xb Wgate) * xb Wup) Wdown
 *   logits = rmsnorm(x) * output_norm Wout
 *
 * The newer families change steps of this (model.h has the switches):
 * the embedding, sub-layer outputs and logits may be scaled (gemma3,
 * granite), sub-layer outputs normed again (gemma3's post-norms), Q|K|V
 * and gate|up come from one matmul each (phi3), the FFN may use GELU
 * (gemma3), a layer may skip RoPE (smollm3) or attend to a sliding window
 * only (gemma3, with its own rope base; kern_attention reads just the
 * window).  Gemma 4's layers each have their own head size and KV
 * heads (struct layer's hd, n_kv; its cache slice starts at kv_base), a
 * global layer may take V from the K projection, V is RMS-normed, the
 * stream is scaled after each layer and the logits soft-capped.  Qwen35
 * replaces most layers by gated DeltaNet, whose
 * fixed-size state (s->rec) lives beside the KV cache: zeroed when a
 * context starts at position 0, and never rolled back (see
 * eng_session_keep_prefix and the error path of eng_session_decode).
 *
 * A long prompt goes through in chunks of MODEL_CHUNK tokens: every
 * weight is read once per chunk and multiplied with all its tokens (the
 * tile kernels of kern.c), so prefill is bound by arithmetic, not by
 * memory; decoding is one token per pass and bound by memory.  The K
 * cache is kept per KV head as (position, head_dim) and the V cache
 * transposed as (head_dim, position), so that both products of the
 * attention read the cache sequentially.
 *
 * Every buffer is allocated once in eng_session_new(), so decoding never
 * allocates and cannot fail half-way for lack of memory.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "att.h"
#include "kern.h"
#include "model.h"
#include "quant.h"
#include "session.h"

#define FWD_ALIGN	64	/* a cache line */

/* The widest activation row a matmul of the model takes. */
static uint64_t
widest_row(const struct hparams *hp)
{
	uint64_t qd = (uint64_t)hp->n_head * hp->head_dim, w = hp->n_ff;

	if (w < qd)
		w = qd;
	if (w < hp->n_embd)
		w = hp->n_embd;
	return w;
}

/* n zeroed floats on a cache line of their own, or NULL. */
static float *
falloc(size_t n)
{
	size_t bytes = (n * sizeof(float) + FWD_ALIGN - 1) / FWD_ALIGN *
	    FWD_ALIGN;
	float *p = aligned_alloc(FWD_ALIGN, bytes ? bytes : FWD_ALIGN);

	if (p != NULL)
		memset(p, 0, bytes);
	return p;
}

int
eng_session_new(struct eng_model *m, struct eng_session **out, char **cause)
{
	struct eng_session *s = NULL;
	const struct hparams *hp = &m->hp;
	size_t qd = (size_t)hp->n_head * hp->head_dim;
	size_t kvd = (size_t)hp->n_head_kv * hp->head_dim;
	size_t nb = MODEL_CHUNK, widest, kv_all;
	int rc = ENG_ENOMEM;

	if (cause != NULL)
		*cause = NULL;
	if (m->arch == NULL || m->vocab_only || m->layers == NULL) {
		rc = ENG_EINVAL;
		if (cause != NULL)
			*cause = strdup("the model was opened for its tokenizer only");
		goto out;
	}
	widest = (size_t)widest_row(hp);
	if ((s = calloc(1, sizeof *s)) == NULL)
		goto out;
	s->m = m;
	s->n_ctx = m->n_ctx;
	s->kv_dim = kvd;
	/* attention layers only, each its own width (gemma4): DeltaNet
	 * layers keep s->rec instead */
	kv_all = hp->kv_sum ? (size_t)hp->kv_sum : ATT_Q8_BLCK;
	s->kcache = calloc(att_kv_head_bytes(m->kv, s->n_ctx, kv_all), 1);
	s->vcache = calloc(att_kv_head_bytes(m->kv, s->n_ctx, kv_all), 1);
	s->rec = calloc(hp->n_rec ? hp->n_rec * (size_t)model_rec_floats(m) :
	    1, sizeof(float));
	/* matmul outputs on cache lines: threads write neighbouring rows */
	s->x = falloc(nb * hp->n_embd);
	s->xb = falloc(nb * hp->n_embd);
	s->q = falloc(nb * qd);
	s->k = falloc(nb * kvd);
	s->v = falloc(nb * kvd);
	s->att = falloc(nb * qd);
	s->gate = falloc(nb * hp->n_ff);
	s->up = falloc(nb * hp->n_ff);
	s->logits = falloc(hp->n_vocab);
	s->kscratch = malloc(kern_scratch_bytes(widest, nb));
	s->rope = calloc(MODEL_ROPE_SETS * nb * (hp->n_rot / 2 + 1) * 2,
	    sizeof(float));
	s->fused = falloc(nb * (size_t)model_fused_width(m));
	s->ids = calloc(s->n_ctx, sizeof *s->ids);
	if (!s->ids || !s->kcache || !s->vcache || !s->x || !s->xb || !s->q || !s->k ||
	    !s->v || !s->att || !s->gate || !s->up || !s->logits ||
	    !s->kscratch || !s->rope || !s->fused || !s->rec)
		goto out;
	if ((s->pool = kern_pool_new(m->n_threads)) == NULL ||
	    kern_pool_reserve(s->pool, kern_thread_bytes(widest, s->n_ctx,
	    hp->head_dim)) != 0)
		goto out;
	*out = s;	/* transferred */
	s = NULL;
	rc = 0;
out:
	if (rc == ENG_ENOMEM && cause != NULL && *cause == NULL &&
	    asprintf(cause, "out of memory for a %u-token context", m->n_ctx) < 0)
		*cause = NULL;
	eng_session_free(s);
	return rc;
}

void
eng_session_free(struct eng_session *s)
{
	if (s == NULL)
		return;
	kern_pool_free(s->pool);
	free(s->ids);
	free(s->kcache);
	free(s->vcache);
	free(s->x);
	free(s->xb);
	free(s->q);
	free(s->k);
	free(s->v);
	free(s->att);
	free(s->gate);
	free(s->up);
	free(s->logits);
	free(s->kscratch);
	free(s->fused);
	free(s->rec);
	free(s->rope);
	free(s);
}

uint32_t
eng_session_pos(const struct eng_session *s)
{
	return s->pos;
}

uint32_t
eng_session_ctx(const struct eng_session *s)
{
	return s->n_ctx;
}

void
eng_session_reset(struct eng_session *s)
{
	s->pos = 0;
}

/*
 * All cache reuse goes through here, so state that is not a plain
 * per-position KV entry (recurrent layers) has one place to be rolled
 * back.  Attention reads positions < pos only, so cutting pos is a
 * complete rollback of the KV cache: later entries are overwritten before
 * they are read again.
 */
size_t
eng_session_keep_prefix(struct eng_session *s, const int32_t *ids, size_t n)
{
	size_t keep = 0;

	while (keep < n && keep < s->pos && s->ids[keep] == ids[keep])
		keep++;
	/* the next decode needs a token of its own to produce logits */
	if (keep == n && keep > 0)
		keep--;
	/* DeltaNet layers hold one state, at s->pos, and cannot step back:
	 * a prefix that stops short of it is prefilled again from 0 */
	if (s->m->hp.n_rec > 0 && keep < s->pos)
		keep = 0;
	s->pos = (uint32_t)keep;
	return keep;
}

const char *
eng_backend(void)
{
	return kern_variant();
}

/* ==== building blocks ===================================================== */

static void
rmsnorm(float *out, const float *x, const float *w, size_t n, float eps)
{
	double ss = kern_sumsq(x, n);
	float scale = (float)(1.0 / sqrt(ss / (double)n + eps));

	for (size_t i = 0; i < n; i++)
		out[i] = x[i] * scale * w[i];
}

static void
add_bias(float *y, const struct wt *b, size_t n)
{
	const float *bias = b->data;

	if (bias == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		y[i] += bias[i];
}

/* Rotate one head's vector in place with the chunk's angle table cs
 * (cos, sin of each pair for this token), half pairs. */
static void
rope(const struct eng_session *s, float *v, const float *cs, uint32_t half)
{
	bool neox = s->m->arch->rope == ROPE_NEOX;

	for (uint32_t i = 0; i < half; i++) {
		float c = cs[2 * i], sn = cs[2 * i + 1];
		/* neox: (x[i], x[i + n_rot/2]); else adjacent pairs */
		uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
		float x0 = v[a], x1 = v[b];

		v[a] = x0 * c - x1 * sn;
		v[b] = x0 * sn + x1 * c;
	}
}

static bool
cancelled(const struct eng_session *s)
{
	return s->cancel != NULL && atomic_load(s->cancel) != 0;
}

/* ---- per-token steps, spread over the pool ------------------------------ */

struct tok_job {
	struct eng_session	*s;
	const struct layer	*L;
	uint32_t		 layer;
	const float		*norm;	/* for norm_rows */
	const float		*post;	/* add_norm_rows: post-norm, or NULL */
	float			 xscale;	/* add_norm_rows: then x *= */
	size_t			 first;	/* norm_rows: first source row */
};

/* xb[t] = rmsnorm(x[first + t]) * norm */
static void
norm_rows(void *arg, size_t t)
{
	const struct tok_job *j = arg;
	const struct hparams *hp = &j->s->m->hp;

	rmsnorm(j->s->xb + t * hp->n_embd,
	    j->s->x + (j->first + t) * hp->n_embd, j->norm, hp->n_embd,
	    hp->rms_eps);
}

/* x[t] += xb[t], then xb[t] = rmsnorm(x[t]) * norm (the next block's
 * input), for one token. */
static void
add_norm_rows(void *arg, size_t t)
{
	const struct tok_job *j = arg;
	const struct hparams *hp = &j->s->m->hp;
	float *x = j->s->x + t * hp->n_embd;
	float *y = j->s->xb + t * hp->n_embd, rs = hp->resid_scale;

	/* gemma3 normalizes the sub-layer's output; granite scales it */
	if (j->post != NULL)
		rmsnorm(y, y, j->post, hp->n_embd, hp->rms_eps);
	for (size_t i = 0; i < hp->n_embd; i++)
		x[i] += rs * y[i];
	/* gemma4 scales the whole stream after a layer */
	for (size_t i = 0; j->xscale != 1.0f && i < hp->n_embd; i++)
		x[i] *= j->xscale;
	if (j->norm != NULL)
		rmsnorm(j->s->xb + t * hp->n_embd, x, j->norm, hp->n_embd,
		    hp->rms_eps);
}

/* Token t's biases, Q/K norms and rotations, and its K, V into the cache. */
static void
qkv_rows(void *arg, size_t t)
{
	const struct tok_job *j = arg;
	struct eng_session *s = j->s;
	const struct hparams *hp = &s->m->hp;
	const struct layer *L = j->L;
	size_t hd = L->hd, qd = (size_t)hp->n_head * hd;
	size_t kvd = (size_t)L->n_kv * hd, nc = s->n_ctx, p = s->pos + t;
	const float *cs = s->rope + ((size_t)L->rope_set * MODEL_CHUNK + t) *
	    (hp->n_rot / 2 + 1) * 2;
	uint32_t half = hp->rot_dims[L->rope_set] / 2;
	float *q = s->q + t * qd, *k = s->k + t * kvd, *v = s->v + t * kvd;
	float temp = 1.0f;

	if (hp->attn_gate)	/* qwen35: per head, hd rows of Q then gate */
		for (uint32_t h = 0; h < hp->n_head; h++)
			memcpy(q + h * hd, s->fused + t * 2 * qd + 2 * h * hd,
			    hd * sizeof *q);
	if (hp->fused_qkv) {	/* phi3: rows [q | k | v] of one matmul */
		const float *f = s->fused + t * (qd + 2 * kvd);

		memcpy(q, f, qd * sizeof *q);
		memcpy(k, f + qd, kvd * sizeof *k);
		memcpy(v, f + qd + kvd, kvd * sizeof *v);
	}
	/* mistral3's attention temperature grows with the position */
	if (hp->temp_scale > 0)
		temp = (float)(1.0 + hp->temp_scale *
		    log(1.0 + floor((double)(p + 1) / hp->temp_len)));
	add_bias(q, &L->bq, qd);
	add_bias(k, &L->bk, kvd);
	add_bias(v, &L->bv, kvd);
	for (uint32_t h = 0; h < hp->n_head; h++) {
		if (L->q_norm.data)
			rmsnorm(q + h * hd, q + h * hd, L->q_norm.data, hd,
			    hp->rms_eps);
		if (!L->nope)
			rope(s, q + h * hd, cs, half);
		for (size_t i = 0; temp != 1.0f && i < hd; i++)
			q[h * hd + i] *= temp;
	}
	for (uint32_t h = 0; h < L->n_kv; h++) {
		/* this layer's KV head h: K (n_ctx, hd), V^T (hd, n_ctx) */
		size_t base = att_kv_head_bytes(s->m->kv, nc, (size_t)
		    L->kv_base) + h * att_kv_head_bytes(s->m->kv, nc, hd);

		/* gemma4: no attn_v, V is K before its norm and rotation;
		 * then V is RMS-normed without a weight */
		if (L->v_from_k)
			memcpy(v + h * hd, k + h * hd, hd * sizeof *v);
		if (L->v_norm) {
			float sc = (float)(1.0 / sqrt(kern_sumsq(v + h * hd,
			    hd) / (double)hd + hp->rms_eps));

			for (size_t i = 0; i < hd; i++)
				v[h * hd + i] *= sc;
		}
		if (L->k_norm.data)
			rmsnorm(k + h * hd, k + h * hd, L->k_norm.data, hd,
			    hp->rms_eps);
		if (!L->nope)
			rope(s, k + h * hd, cs, half);
		att_kv_put(s->m->kv, s->kcache + base, s->vcache + base, nc,
		    hd, p, k + h * hd, v + h * hd);
	}
}

/* qwen35: attention output times sigmoid(gate), for token t. */
static void
att_gate_rows(void *arg, size_t t)
{
	const struct tok_job *j = arg;
	const struct hparams *hp = &j->s->m->hp;
	size_t hd = hp->head_dim, qd = (size_t)hp->n_head * hd;
	float *o = j->s->att + t * qd;
	const float *g = j->s->fused + t * 2 * qd;

	for (size_t h = 0; h < hp->n_head; h++)
		for (size_t i = 0; i < hd; i++)
			o[h * hd + i] /= 1.0f + expf(-g[2 * h * hd + hd + i]);
}

/*
 * Gated DeltaNet (qwen35), golden README 8.5.  The chunk's projections
 * sit in s->fused as regions of MODEL_CHUNK rows: M (conv input, conv_ch),
 * Z (output gate, nv*d; the layer's output replaces it), B (beta, nv) and
 * A (alpha, nv).  The state of layer L is s->rec + rec_idx * rec_floats:
 * the convolution's last ssm_k - 1 inputs (oldest first), then per v
 * head a d x d matrix S (rows: v dims, columns: k dims).  Cost per token
 * is fixed, whatever the context length.
 */
struct dn_job {
	struct eng_session	*s;
	const struct layer	*L;
	uint32_t		 nb;
	float			*M, *Z, *B, *A, *st;
};

#define DN_CONV_PART	64	/* channels per task of dn_conv */

/* Causal depthwise convolution and SiLU of channels of one task. */
static void
dn_conv(void *arg, size_t part)
{
	const struct dn_job *j = arg;
	const struct hparams *hp = &j->s->m->hp;
	size_t C = hp->conv_ch, K = hp->ssm_k;
	size_t c1 = (part + 1) * DN_CONV_PART < C ? (part + 1) *
	    DN_CONV_PART : C;
	const float *w = j->L->ssm_conv.data;

	for (size_t ch = part * DN_CONV_PART; ch < c1; ch++) {
		const float *wc = w + ch * K;
		float hist[16];

		for (size_t i = 0; i + 1 < K; i++)
			hist[i] = j->st[i * C + ch];
		for (size_t t = 0; t < j->nb; t++) {
			float x = j->M[t * C + ch], acc = wc[K - 1] * x;

			for (size_t i = 0; i + 1 < K; i++)
				acc += wc[i] * hist[i];
			for (size_t i = 0; i + 2 < K; i++)
				hist[i] = hist[i + 1];
			hist[K - 2] = x;
			j->M[t * C + ch] = acc / (1.0f + expf(-acc));
		}
		for (size_t i = 0; i + 1 < K; i++)
			j->st[i * C + ch] = hist[i];
	}
}

/* u / max(|u|, eps) */
static void
l2norm(float *dst, const float *u, size_t n, float eps)
{
	double ss = 0;
	float inv;

	for (size_t i = 0; i < n; i++)
		ss += (double)u[i] * u[i];
	inv = 1.0f / fmaxf((float)sqrt(ss), eps);
	for (size_t i = 0; i < n; i++)
		dst[i] = u[i] * inv;
}

/* The recurrence of v head h over the chunk's tokens, and its gated,
 * normalized output into Z. */
static void
dn_head(void *arg, size_t h)
{
	const struct dn_job *j = arg;
	const struct hparams *hp = &j->s->m->hp;
	const struct layer *L = j->L;
	size_t d = hp->ssm_d, nk = hp->ssm_nk, nv = hp->ssm_nv;
	size_t C = hp->conv_ch, vd = nv * d, kh = h % nk;
	float *S = j->st + (hp->ssm_k - 1) * C + h * d * d;
	const float *dt = L->ssm_dt.data, *sa = L->ssm_a.data;
	float qn[512], kn[512], o[512];
	float qs = 1.0f / sqrtf((float)d);

	for (size_t t = 0; t < j->nb; t++) {
		const float *c = j->M + t * C;
		const float *v = c + 2 * nk * d + h * d;
		float *z = j->Z + t * vd + h * d;
		float beta = 1.0f / (1.0f + expf(-j->B[t * nv + h]));
		float ga = j->A[t * nv + h] + dt[h];
		float g = (ga > 20.0f ? ga : log1pf(expf(ga))) * sa[h];
		float alpha = expf(g < 50.0f ? g : 50.0f);

		/* V head h reads q/k head h mod nk (the tiled layout) */
		l2norm(qn, c + kh * d, d, hp->rms_eps);
		l2norm(kn, c + nk * d + kh * d, d, hp->rms_eps);
		for (size_t r = 0; r < d; r++) {
			float *row = S + r * d, kv = 0, delta, out = 0;

			for (size_t i = 0; i < d; i++) {
				row[i] *= alpha;
				kv += row[i] * kn[i];
			}
			delta = beta * (v[r] - kv);
			for (size_t i = 0; i < d; i++) {
				row[i] += delta * kn[i];
				out += row[i] * qn[i];
			}
			o[r] = out * qs;
		}
		rmsnorm(o, o, L->ssm_norm.data, d, hp->rms_eps);
		for (size_t r = 0; r < d; r++)
			z[r] = o[r] * (z[r] / (1.0f + expf(-z[r])));
	}
}

static void
deltanet_layer(struct eng_session *s, const struct layer *L, uint32_t nb)
{
	const struct hparams *hp = &s->m->hp;
	size_t C = hp->conv_ch, nv = hp->ssm_nv, vd = nv * hp->ssm_d;
	struct dn_job j = { .s = s, .L = L, .nb = nb };

	j.M = s->fused;
	j.Z = j.M + (size_t)MODEL_CHUNK * C;
	j.B = j.Z + (size_t)MODEL_CHUNK * vd;
	j.A = j.B + (size_t)MODEL_CHUNK * nv;
	j.st = s->rec + (size_t)L->rec_idx * model_rec_floats(s->m);
	{
		struct kern_mat mats[4] = {
			{ L->wqkv.type, L->wqkv.data, L->wqkv.ne1, j.M },
			{ L->ssm_z.type, L->ssm_z.data, L->ssm_z.ne1, j.Z },
			{ L->ssm_beta.type, L->ssm_beta.data, nv, j.B },
			{ L->ssm_alpha.type, L->ssm_alpha.data, nv, j.A },
		};

		kern_matmul_n(s->pool, mats, 4, hp->n_embd, s->xb, nb,
		    s->kscratch);
	}
	kern_parallel(s->pool, (C + DN_CONV_PART - 1) / DN_CONV_PART, dn_conv,
	    &j);
	kern_parallel(s->pool, nv, dn_head, &j);
	kern_matmul(s->pool, L->ssm_out.type, L->ssm_out.data, L->ssm_out.ne1,
	    vd, j.Z, nb, s->xb, s->kscratch);
}

/* phi3's fused gate|up output of token t into gate and up. */
static void
split_up_rows(void *arg, size_t t)
{
	const struct tok_job *j = arg;
	struct eng_session *s = j->s;
	size_t nf = s->m->hp.n_ff;
	const float *f = s->fused + t * 2 * nf;

	memcpy(s->gate + t * nf, f, nf * sizeof *f);
	memcpy(s->up + t * nf, f + nf, nf * sizeof *f);
}

/* gate = gelu(gate) * up for token t, GELU in its tanh form as the
 * reference runtime computes it (gemma). */
static void
gelu_rows(void *arg, size_t t)
{
	const struct tok_job *j = arg;
	size_t nf = j->s->m->hp.n_ff;
	float *g = j->s->gate + t * nf;
	const float *u = j->s->up + t * nf;

	for (size_t i = 0; i < nf; i++) {
		float x = g[i];

		g[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f *
		    (x + 0.044715f * x * x * x))) * u[i];
	}
}

/*
 * Run nb (<= MODEL_CHUNK) tokens at s->pos.  The logits of the rows
 * [first_out, nb) go to out (n_vocab each) when out is not NULL.
 */
static int
forward_chunk(struct eng_session *s, const int32_t *ids, uint32_t nb,
    float *out, uint32_t first_out)
{
	const struct eng_model *m = s->m;
	const struct hparams *hp = &m->hp;
	uint32_t E = hp->n_embd, half = hp->n_rot / 2;
	struct tok_job tj = { .s = s, .xscale = 1.0f };

	for (uint32_t t = 0; t < nb; t++) {
		const uint8_t *row = (const uint8_t *)m->tok_embd.data +
		    (size_t)ids[t] * m->tok_embd.row_bytes;
		float *cs = s->rope + (size_t)t * (half + 1) * 2;

		quant_dequant_row(m->tok_embd.type, row, s->x + (size_t)t * E, E);
		for (uint32_t i = 0; hp->emb_scale != 1.0f && i < E; i++)
			s->x[(size_t)t * E + i] *= hp->emb_scale;
		/* the chunk's rotation angles, once for every layer */
		for (uint32_t k = 0; k < hp->n_rope_sets; k++, cs += (size_t)
		    MODEL_CHUNK * (half + 1) * 2)
			for (uint32_t i = 0; i < half; i++) {
				double th = (double)(s->pos + t) *
				    hp->inv_freq[k][i];

				cs[2 * i] = (float)cos(th) * hp->rope_mscale;
				cs[2 * i + 1] = (float)sin(th) * hp->rope_mscale;
			}
	}
	/* a context starts with an empty DeltaNet state */
	if (s->pos == 0 && hp->n_rec > 0)
		memset(s->rec, 0, hp->n_rec * (size_t)model_rec_floats(m) *
		    sizeof *s->rec);
	tj.norm = m->layers[0].attn_norm.data;
	kern_parallel(s->pool, nb, norm_rows, &tj);
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct layer *L = &m->layers[l];
		/* the layer's own attention shape (gemma4's layers differ) */
		uint32_t hd = L->hd;
		size_t qd = (size_t)hp->n_head * hd;
		struct kern_mat qkv[3] = {
			{ L->wq.type, L->wq.data, L->wq.ne1, s->q },
			{ L->wk.type, L->wk.data, L->wk.ne1, s->k },
			{ L->wv.type, L->wv.data, L->wv.ne1, s->v },
		};
		struct kern_mat ffn[2] = {
			{ L->w_gate.type, L->w_gate.data, L->w_gate.ne1,
			    s->gate },
			{ L->w_up.type, L->w_up.data, L->w_up.ne1, s->up },
		};
		size_t kvl = att_kv_head_bytes(m->kv, s->n_ctx,
		    (size_t)L->kv_base);
		struct kern_att att = {
			.K = (const uint16_t *)(const void *)(s->kcache + kvl),
			.Vt = (const uint16_t *)(const void *)(s->vcache + kvl),
			.kv = m->kv, .Kq = s->kcache + kvl,
			.Vq = s->vcache + kvl,
			.n_ctx = s->n_ctx, .Q = s->q, .O = s->att,
			.n_head = hp->n_head, .n_kv = L->n_kv, .hd = hd,
			.nb = nb, .pos = s->pos,
			.scale = hp->attn_scale,
			.window = L->swa ? hp->n_swa : 0,
		};

		if (cancelled(s))
			return ENG_ECANCEL;
		tj.L = L;
		tj.layer = l;
		/* xb holds rmsnorm(x) * attn_norm here */
		if (L->rec)
			deltanet_layer(s, L, nb);
		else if (hp->attn_gate) {
			qkv[0].Y = s->fused;
			qkv[0].nrows = 2 * qd;
			kern_matmul_n(s->pool, qkv, 3, E, s->xb, nb,
			    s->kscratch);
		} else if (hp->fused_qkv)
			kern_matmul(s->pool, L->wqkv.type, L->wqkv.data,
			    L->wqkv.ne1, E, s->xb, nb, s->fused, s->kscratch);
		else
			kern_matmul_n(s->pool, qkv, 3, E, s->xb, nb,
			    s->kscratch);
		if (!L->rec) {
			kern_parallel(s->pool, nb, qkv_rows, &tj);
			if (kern_attention(s->pool, &att) != 0)
				return ENG_EINVAL;	/* sized by the session */
			if (hp->attn_gate)
				kern_parallel(s->pool, nb, att_gate_rows, &tj);
			kern_matmul(s->pool, L->wo.type, L->wo.data, L->wo.ne1,
			    qd, s->att, nb, s->xb, s->kscratch);
		}
		tj.norm = L->ffn_norm.data;
		tj.post = L->post_attn_norm.data;
		kern_parallel(s->pool, nb, add_norm_rows, &tj);

		if (hp->fused_up) {
			kern_matmul(s->pool, L->w_up.type, L->w_up.data,
			    L->w_up.ne1, E, s->xb, nb, s->fused, s->kscratch);
			kern_parallel(s->pool, nb, split_up_rows, &tj);
		} else
			kern_matmul_n(s->pool, ffn, 2, E, s->xb, nb,
			    s->kscratch);
		if (hp->gelu)
			kern_parallel(s->pool, nb, gelu_rows, &tj);
		else
			kern_silu_mul(s->pool, s->gate, s->up,
			    (size_t)nb * hp->n_ff);
		kern_matmul(s->pool, L->w_down.type, L->w_down.data,
		    L->w_down.ne1, hp->n_ff, s->gate, nb, s->xb, s->kscratch);
		tj.norm = l + 1 < hp->n_layer ?
		    m->layers[l + 1].attn_norm.data : NULL;
		tj.post = L->post_ffw_norm.data;
		tj.xscale = L->out_scale;
		kern_parallel(s->pool, nb, add_norm_rows, &tj);
		tj.post = NULL;
		tj.xscale = 1.0f;
	}
	if (out != NULL && first_out < nb) {
		uint32_t n_out = nb - first_out;

		tj.norm = m->out_norm.data;
		tj.first = first_out;
		kern_parallel(s->pool, n_out, norm_rows, &tj);
		kern_matmul(s->pool, m->output.type, m->output.data,
		    m->output.ne1, E, s->xb, n_out, out, s->kscratch);
		for (size_t i = 0; hp->logit_mul != 1.0f &&
		    i < (size_t)n_out * hp->n_vocab; i++)
			out[i] *= hp->logit_mul;
		/* gemma4: c tanh(l / c) bounds the logits to (-c, c) */
		for (size_t i = 0; hp->softcap > 0 &&
		    i < (size_t)n_out * hp->n_vocab; i++)
			out[i] = hp->softcap * tanhf(out[i] / hp->softcap);
		/* NaN or inf weights poison every later token: stop here with
		 * a clear status rather than sample garbage */
		for (size_t i = 0; i < (size_t)n_out * hp->n_vocab; i++)
			if (!isfinite(out[i]))
				return ENG_ENAN;
	}
	s->pos += nb;
	return 0;
}

int
eng_session_decode(struct eng_session *s, const int32_t *ids, size_t n,
    float *logits, bool all_logits, eng_progress_fn progress, void *arg)
{
	const struct hparams *hp = &s->m->hp;
	uint32_t start = s->pos;
	size_t done = 0;
	int rc = 0;

	if (n == 0)
		return ENG_EINVAL;
	if (n > s->n_ctx - s->pos)
		return ENG_ECTX;
	for (size_t i = 0; i < n; i++)
		if (ids[i] < 0 || (uint32_t)ids[i] >= hp->n_vocab)
			return ENG_EINVAL;
	while (done < n) {
		uint32_t nb = n - done > MODEL_CHUNK ? MODEL_CHUNK : (uint32_t)(n - done);
		bool last = done + nb == n;
		float *out = NULL;
		uint32_t first = 0;

		if (logits != NULL && all_logits)
			out = logits + done * hp->n_vocab;
		else if (logits != NULL && last) {
			out = logits;
			first = nb - 1;
		}
		if ((rc = forward_chunk(s, ids + done, nb, out, first)) != 0)
			break;
		memcpy(s->ids + s->pos - nb, ids + done, nb * sizeof *ids);
		done += nb;
		if (progress != NULL && progress(arg, done, n) != 0 && done < n) {
			rc = ENG_ECANCEL;
			break;
		}
	}
	if (rc != 0)
		s->pos = start;	/* what was cached past start is never read */
	/* but a DeltaNet state already took the failed chunk in: it is
	 * dropped, and the next decode starts the context afresh */
	if (rc != 0 && hp->n_rec > 0)
		s->pos = 0;
	return rc;
}
