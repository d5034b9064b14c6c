/*
 * lib-refmodel.c - double-precision reference forward pass, see
 * lib-refmodel.h.  No caching, no threads, no SIMD: every call
 * dequantizes each weight row once and computes the whole sequence.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "lib-refmodel.h"
#include "quant.h"

#define REF_ARCH_MAX	16
#define REF_KEY_MAX	128
#define REF_MAX_DIM	(1u << 20)	/* sanity bound on any hparam */

struct ref_layer {
	const struct gguf_tensor *attn_norm;	/* (n_embd) */
	const struct gguf_tensor *wq;		/* (n_embd, n_head * hd) */
	const struct gguf_tensor *wk, *wv;	/* (n_embd, n_kv * hd) */
	const struct gguf_tensor *bq;		/* (n_head * hd), qwen2 */
	const struct gguf_tensor *bk, *bv;	/* (n_kv * hd), qwen2 */
	const struct gguf_tensor *q_norm;	/* (hd), qwen3 */
	const struct gguf_tensor *k_norm;	/* (hd), qwen3 */
	const struct gguf_tensor *wo;		/* (n_head * hd, n_embd) */
	const struct gguf_tensor *ffn_norm;	/* (n_embd) */
	const struct gguf_tensor *wg, *wu;	/* (n_embd, n_ff) */
	const struct gguf_tensor *wd;		/* (n_ff, n_embd) */
	/* newer families (golden README section 8) */
	const struct gguf_tensor *wqkv;		/* phi3 (e, q+2kv); qwen35 conv in */
	const struct gguf_tensor *post_att, *post_ffw;	/* gemma3 */
	bool			 swa, nope, rec;
	const struct gguf_tensor *z, *beta, *alpha, *conv, *dt, *a, *snorm,
				 *sout;				/* qwen35 */
	/* gemma4: this layer's head size and KV heads; no wv means V is
	 * the K projection; the stream is scaled by out_scale after it */
	uint32_t		 hd, nkv;
	double			 out_scale;
	const struct gguf_tensor *oscale;	/* (1), or NULL: 1 */
};

enum ref_kind { K_LLAMA, K_QWEN2, K_QWEN3, K_GEMMA3, K_PHI3, K_GRANITE,
	K_SMOLLM3, K_MISTRAL3, K_QWEN35, K_GEMMA4 };

struct refmodel {
	struct gguf		*g;
	struct refmodel_opts	 o;
	char			 arch[REF_ARCH_MAX];
	bool			 neox;		/* pairs (i, i + n_rot/2) */
	uint32_t		 n_embd, n_ff, n_layer, n_head, n_kv, hd;
	uint32_t		 n_rot, n_vocab;
	double			 base, eps;
	double			*freq_div;	/* (n_rot / 2) or 1s */
	const struct gguf_tensor *tok_embd;	/* (n_embd, n_vocab) */
	const struct gguf_tensor *out_norm;	/* (n_embd) */
	/* (n_embd, n_vocab); tok_embd when tied */
	const struct gguf_tensor *output;
	struct ref_layer	*l;		/* [n_layer] */
	enum ref_kind		 kind;
	double			*inv;		/* (n_rot/2) global angle/pos */
	double			*inv_swa;	/* gemma3 sliding layers */
	double			 mscale;	/* LongRoPE attn_factor */
	double			 emb_scale, resid_scale, attn_scale;
	double			 logit_scale, temp_scale, temp_len;
	uint32_t		 n_swa, interval;
	uint32_t		 ck, sd, nk, nv;	/* qwen35 DeltaNet */
	/* gemma4: sliding layers' head size and rotary dims, the global
	 * layers' (hd is the larger of the two, for buffers) */
	uint32_t		 hd_swa, rot_swa, hd_glob;
	double			 base_swa, softcap;
	float			*row;		/* one dequantized row */
	size_t			 row_cap;
};

static int
fail(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
	return -1;
}

/* ==== loading ============================================================= */

static int
hparam(struct refmodel *m, const char *suffix, uint32_t *v, uint32_t dflt,
    bool required, char **cause)
{
	char	 key[REF_KEY_MAX];

	snprintf(key, sizeof(key), "%s.%s", m->arch, suffix);
	if (gguf_get_u32(m->g, key, v) == 0) {
		if (*v == 0 || *v > REF_MAX_DIM)
			return fail(cause, "%s = %u is out of range", key, *v);
		return 0;
	}
	if (required)
		return fail(cause, "missing %s", key);
	*v = dflt;
	return 0;
}

/*
 * Tensor `name` with the given shape (ne1 0 for 1-D), of a type the
 * reference dequantizer supports.  Optional tensors may be absent (NULL).
 */
static int
want(struct refmodel *m, const char *name, int64_t ne0, int64_t ne1,
    bool required, const struct gguf_tensor **out, char **cause)
{
	const struct gguf_tensor	*t = gguf_tensor_find(m->g, name);
	const struct qtype_info		*ti;

	*out = NULL;
	if (t == NULL)
		return required ? fail(cause, "missing tensor %s", name) : 0;
	ti = quant_info(t->type);
	if (ti == NULL || !ti->supported)
		return fail(cause, "tensor %s: type %u is not supported", name,
		    t->type);
	if (t->ne[0] != ne0 || t->ne[1] != (ne1 != 0 ? ne1 : 1) ||
	    t->ne[2] != 1 || t->ne[3] != 1)
		return fail(cause, "tensor %s: shape (%lld, %lld, %lld, %lld), "
		    "expected (%lld, %lld)", name, (long long)t->ne[0],
		    (long long)t->ne[1], (long long)t->ne[2],
		    (long long)t->ne[3], (long long)ne0,
		    (long long)(ne1 != 0 ? ne1 : 1));
	*out = t;
	return 0;
}

/*
 * Element il of a per-layer key (an array of BOOL, INT32 or UINT32), or
 * the key's one value for every layer.  -1 if absent or odd.
 */
static int
layer_u32(struct refmodel *m, const char *suffix, uint32_t il, uint32_t *v)
{
	char		 key[REF_KEY_MAX];
	enum gguf_vtype	 et;
	uint64_t	 cnt;
	int64_t		 idx;
	const uint8_t	*p;

	snprintf(key, sizeof(key), "%s.%s", m->arch, suffix);
	if (gguf_get_u32(m->g, key, v) == 0)
		return 0;
	if (gguf_get_arr(m->g, key, &et, &cnt, &idx) != 0 || cnt <= il ||
	    (p = gguf_arr_data(m->g, (uint64_t)idx)) == NULL)
		return -1;
	if (et == GGUF_BOOL)
		*v = p[il];
	else if (et == GGUF_I32 || et == GGUF_U32)
		memcpy(v, p + 4 * (size_t)il, sizeof(*v));
	else
		return -1;
	return 0;
}

static int deq_vec(struct refmodel *, const struct gguf_tensor *, double *);

/* A Gemma 4 layer (golden README 8.7): its kind sets its shape. */
static int
load_gemma4_layer(struct refmodel *m, uint32_t il, char **cause)
{
	struct ref_layer	*L = &m->l[il];
	char			 n[GGUF_MAX_NAME];
	uint32_t		 sw, nkv;
	int64_t			 e = m->n_embd, f = m->n_ff, q, kv;
	double			 os;

	if (layer_u32(m, "attention.sliding_window_pattern", il, &sw) != 0 ||
	    layer_u32(m, "attention.head_count_kv", il, &nkv) != 0 ||
	    nkv == 0 || m->n_head % nkv != 0 || sw > 1)
		return fail(cause, "gemma4 layer %u: odd sliding_window_pattern "
		    "or head_count_kv", il);
	L->swa = sw != 0;
	L->hd = L->swa ? m->hd_swa : m->hd_glob;
	L->nkv = nkv;
	q = (int64_t)m->n_head * L->hd;
	kv = (int64_t)nkv * L->hd;
#define W(field, suffix, a, b, req) \
	(snprintf(n, sizeof(n), "blk.%u." suffix, il), \
	    want(m, n, a, b, req, &L->field, cause))
	if (W(attn_norm, "attn_norm.weight", e, 0, true) != 0 ||
	    W(wq, "attn_q.weight", e, q, true) != 0 ||
	    W(wk, "attn_k.weight", e, kv, true) != 0 ||
	    W(wv, "attn_v.weight", e, kv, false) != 0 ||
	    W(q_norm, "attn_q_norm.weight", L->hd, 0, true) != 0 ||
	    W(k_norm, "attn_k_norm.weight", L->hd, 0, true) != 0 ||
	    W(wo, "attn_output.weight", q, e, true) != 0 ||
	    W(post_att, "post_attention_norm.weight", e, 0, true) != 0 ||
	    W(ffn_norm, "ffn_norm.weight", e, 0, true) != 0 ||
	    W(wg, "ffn_gate.weight", e, f, true) != 0 ||
	    W(wu, "ffn_up.weight", e, f, true) != 0 ||
	    W(wd, "ffn_down.weight", f, e, true) != 0 ||
	    W(post_ffw, "post_ffw_norm.weight", e, 0, true) != 0 ||
	    W(oscale, "layer_output_scale.weight", 1, 0, false) != 0)
		return -1;
#undef W
	L->out_scale = 1.0;
	if (L->oscale != NULL) {
		if (deq_vec(m, L->oscale, &os) != 0)
			return fail(cause, "blk.%u.layer_output_scale: unreadable",
			    il);
		L->out_scale = os;
	}
	return 0;
}

static int
load_layer(struct refmodel *m, uint32_t il, char **cause)
{
	struct ref_layer	*L = &m->l[il];
	char			 n[GGUF_MAX_NAME];
	int64_t			 e = m->n_embd, q = (int64_t)m->n_head * m->hd;
	int64_t			 kv = (int64_t)m->n_kv * m->hd, f = m->n_ff;
	bool			 qwen2 = m->kind == K_QWEN2;
	bool			 qkn = m->kind == K_QWEN3 ||
				     m->kind == K_GEMMA3;
	int64_t			 vd = (int64_t)m->nv * m->sd;
	int64_t			 cc = 2 * (int64_t)m->nk * m->sd + vd;

	L->hd = m->hd;
	L->nkv = m->n_kv;
	L->out_scale = 1.0;
	if (m->kind == K_GEMMA4)
		return load_gemma4_layer(m, il, cause);
#define W(field, suffix, a, b, req) \
	(snprintf(n, sizeof(n), "blk.%u." suffix, il), \
	    want(m, n, a, b, req, &L->field, cause))
	L->swa = m->kind == K_GEMMA3 ? (il + 1) % 6 != 0 :
	    m->kind == K_PHI3 && m->n_swa > 0;
	L->nope = m->kind == K_SMOLLM3 && (il + 1) % 4 == 0;
	L->rec = m->kind == K_QWEN35 && (il + 1) % m->interval != 0;
	if (m->kind == K_QWEN35) {
		if (W(attn_norm, "attn_norm.weight", e, 0, true) != 0 ||
		    W(ffn_norm, "post_attention_norm.weight", e, 0, true) != 0 ||
		    W(wg, "ffn_gate.weight", e, f, true) != 0 ||
		    W(wu, "ffn_up.weight", e, f, true) != 0 ||
		    W(wd, "ffn_down.weight", f, e, true) != 0)
			return -1;
		if (L->rec)
			return W(wqkv, "attn_qkv.weight", e, cc, true) != 0 ||
			    W(z, "attn_gate.weight", e, vd, true) != 0 ||
			    W(beta, "ssm_beta.weight", e, m->nv, true) != 0 ||
			    W(alpha, "ssm_alpha.weight", e, m->nv, true) != 0 ||
			    W(conv, "ssm_conv1d.weight", m->ck, cc, true) != 0 ||
			    W(dt, "ssm_dt.bias", m->nv, 0, true) != 0 ||
			    W(a, "ssm_a", m->nv, 0, true) != 0 ||
			    W(snorm, "ssm_norm.weight", m->sd, 0, true) != 0 ||
			    W(sout, "ssm_out.weight", vd, e, true) != 0 ? -1 : 0;
		return W(wq, "attn_q.weight", e, 2 * q, true) != 0 ||
		    W(wk, "attn_k.weight", e, kv, true) != 0 ||
		    W(wv, "attn_v.weight", e, kv, true) != 0 ||
		    W(q_norm, "attn_q_norm.weight", m->hd, 0, true) != 0 ||
		    W(k_norm, "attn_k_norm.weight", m->hd, 0, true) != 0 ||
		    W(wo, "attn_output.weight", q, e, true) != 0 ? -1 : 0;
	}
	if (m->kind == K_PHI3)
		return W(attn_norm, "attn_norm.weight", e, 0, true) != 0 ||
		    W(wqkv, "attn_qkv.weight", e, q + 2 * kv, true) != 0 ||
		    W(wo, "attn_output.weight", q, e, true) != 0 ||
		    W(ffn_norm, "ffn_norm.weight", e, 0, true) != 0 ||
		    W(wu, "ffn_up.weight", e, 2 * f, true) != 0 ||
		    W(wd, "ffn_down.weight", f, e, true) != 0 ? -1 : 0;
	if (W(post_att, "post_attention_norm.weight", e, 0,
	    m->kind == K_GEMMA3) != 0 ||
	    W(post_ffw, "post_ffw_norm.weight", e, 0, m->kind == K_GEMMA3) != 0)
		return -1;
	if (W(attn_norm, "attn_norm.weight", e, 0, true) != 0 ||
	    W(wq, "attn_q.weight", e, q, true) != 0 ||
	    W(wk, "attn_k.weight", e, kv, true) != 0 ||
	    W(wv, "attn_v.weight", e, kv, true) != 0 ||
	    W(bq, "attn_q.bias", q, 0, qwen2) != 0 ||
	    W(bk, "attn_k.bias", kv, 0, qwen2) != 0 ||
	    W(bv, "attn_v.bias", kv, 0, qwen2) != 0 ||
	    W(q_norm, "attn_q_norm.weight", m->hd, 0, qkn) != 0 ||
	    W(k_norm, "attn_k_norm.weight", m->hd, 0, qkn) != 0 ||
	    W(wo, "attn_output.weight", q, e, true) != 0 ||
	    W(ffn_norm, "ffn_norm.weight", e, 0, true) != 0 ||
	    W(wg, "ffn_gate.weight", e, f, true) != 0 ||
	    W(wu, "ffn_up.weight", e, f, true) != 0 ||
	    W(wd, "ffn_down.weight", f, e, true) != 0)
		return -1;
#undef W
	return 0;
}

/* Dequantize row r of t (ne[0] values) into m->row. */
static int
deq_row(struct refmodel *m, const struct gguf_tensor *t, int64_t r)
{
	uint64_t	 rb;

	if (quant_row_bytes(t->type, (uint64_t)t->ne[0], &rb) != 0 ||
	    (uint64_t)t->ne[0] > m->row_cap)
		return -1;
	return quant_dequant_row(t->type, (const uint8_t *)t->data + rb * r,
	    m->row, (size_t)t->ne[0]);
}

/* A 1-D tensor as doubles (n = ne[0] values). */
static int
deq_vec(struct refmodel *m, const struct gguf_tensor *t, double *dst)
{
	int64_t	 i;

	if (deq_row(m, t, 0) != 0)
		return -1;
	for (i = 0; i < t->ne[0]; i++)
		dst[i] = m->row[i];
	return 0;
}

static double
keyf(struct refmodel *m, const char *suffix, double dflt)
{
	char	 key[REF_KEY_MAX];
	float	 f;

	snprintf(key, sizeof(key), "%s.%s", m->arch, suffix);
	return gguf_get_f32(m->g, key, &f) == 0 ? f : dflt;
}

static uint32_t
keyu(struct refmodel *m, const char *suffix, uint32_t dflt)
{
	char	 key[REF_KEY_MAX];
	uint32_t v;

	snprintf(key, sizeof(key), "%s.%s", m->arch, suffix);
	return gguf_get_u32(m->g, key, &v) == 0 ? v : dflt;
}

/*
 * The per-family switches, written from the golden README section 8:
 * angles per pair (inv: pos * inv[i]), scales, windows.
 */
static int
kind_params(struct refmodel *m, const char *path, char **cause)
{
	size_t		 half = m->n_rot / 2, i;
	const struct gguf_tensor *lf = NULL, *sf = NULL;
	double		*fac = NULL, lin = 1.0;
	char		 key[REF_KEY_MAX];
	struct gguf_str	 st;
	int		 rc = -1;

	m->mscale = 1.0;
	m->emb_scale = 1.0;
	m->resid_scale = 1.0;
	m->attn_scale = 1.0 / sqrt((double)m->hd);
	m->logit_scale = 1.0;
	if ((m->inv = calloc(half + 1, sizeof(double))) == NULL ||
	    (m->inv_swa = calloc(half + 1, sizeof(double))) == NULL ||
	    (fac = calloc(half + m->hd / 2 + 1, sizeof(double))) == NULL)
		return fail(cause, "out of memory");
	for (i = 0; i < half; i++)
		fac[i] = m->freq_div[i];
	snprintf(key, sizeof(key), "%s.rope.scaling.type", m->arch);
	if (gguf_get_str(m->g, key, &st) == 0 && st.n == 6 &&
	    memcmp(st.p, "linear", 6) == 0)
		lin = 1.0 / keyf(m, "rope.scaling.factor", 1.0);
	switch (m->kind) {
	case K_GEMMA3:
		m->n_swa = keyu(m, "attention.sliding_window", 0);
		m->emb_scale = sqrtf((float)m->n_embd);
		break;
	case K_GEMMA4:
		/* no 1/sqrt(hd): the Q and K norms set the scores' scale */
		m->n_swa = keyu(m, "attention.sliding_window", 0);
		m->emb_scale = sqrtf((float)m->n_embd);
		m->attn_scale = 1.0;
		break;
	case K_PHI3:
		m->n_swa = keyu(m, "attention.sliding_window", 0);
		if (want(m, "rope_factors_long.weight", m->hd / 2, 0, false, &lf,
		    cause) != 0 ||
		    want(m, "rope_factors_short.weight", m->hd / 2, 0, false,
		    &sf, cause) != 0)
			goto out;
		if (lf != NULL && sf != NULL) {
			/* the model's own context is over the original one:
			 * the long factors */
			const struct gguf_tensor *use = keyu(m,
			    "context_length", 0) > keyu(m,
			    "rope.scaling.original_context_length", 0) ? lf : sf;

			if (deq_vec(m, use, fac) != 0)
				goto out;
			m->mscale = keyf(m, "rope.scaling.attn_factor", 1.0);
		}
		break;
	case K_GRANITE:
		m->emb_scale = keyf(m, "embedding_scale", 1.0);
		m->resid_scale = keyf(m, "residual_scale", 1.0);
		m->attn_scale = keyf(m, "attention.scale", m->attn_scale);
		m->logit_scale = keyf(m, "logit_scale", 1.0);
		break;
	case K_MISTRAL3:
		m->temp_scale = keyf(m, "attention.temperature_scale", 0.0);
		m->temp_len = keyu(m, "rope.scaling.original_context_length", 1);
		break;
	default:
		break;
	}
	for (i = 0; i < half; i++) {
		double th = pow(m->base, -2.0 * (double)i / m->n_rot);

		m->inv_swa[i] = pow(10000.0, -2.0 * (double)i / m->n_rot);
		m->inv[i] = th * lin / fac[i];
	}
	/* gemma4's sliding layers: their own dims and base, no factors */
	for (i = 0; m->kind == K_GEMMA4 && i < half; i++)
		m->inv_swa[i] = i < m->rot_swa / 2 ? pow(m->base_swa,
		    -2.0 * (double)i / m->rot_swa) : 0;
	if (m->kind == K_MISTRAL3 && gguf_get_str(m->g, key, &st) == 0 &&
	    st.n == 4 && memcmp(st.p, "yarn", 4) == 0) {
		/* YaRN: blend interpolated (s = 1/factor) and original angles
		 * by a ramp between the correction dims; HF's attention
		 * factor is 1 here (mscale = mscale_all_dims) */
		double sc = 1.0 / keyf(m, "rope.scaling.factor", 1.0);
		double orig = m->temp_len, bf = keyf(m,
		    "rope.scaling.yarn_beta_fast", 32.0), bs = keyf(m,
		    "rope.scaling.yarn_beta_slow", 1.0);
		double lo = floor(m->n_rot * log(orig / (bf * 2 * M_PI)) /
		    (2 * log(m->base)));
		double hi = ceil(m->n_rot * log(orig / (bs * 2 * M_PI)) /
		    (2 * log(m->base)));

		lo = lo < 0 ? 0 : lo;
		hi = hi > m->n_rot - 1 ? m->n_rot - 1 : hi;
		for (i = 0; i < half; i++) {
			double r = ((double)i - lo) / fmax(0.001, hi - lo);

			r = 1.0 - fmin(1.0, fmax(0.0, r));
			m->inv[i] = pow(m->base, -2.0 * (double)i / m->n_rot) *
			    (sc * (1.0 - r) + r);
		}
	}
	if (m->kind == K_QWEN35) {
		/* IMROPE for text: streams t, h, w at pos, e at 0 */
		int32_t sec[4];
		enum gguf_vtype et;
		uint64_t cnt;
		int64_t idx;

		snprintf(key, sizeof(key), "%s.rope.dimension_sections",
		    m->arch);
		if (gguf_get_arr(m->g, key, &et, &cnt, &idx) != 0 || cnt != 4) {
			fail(cause, "%s: no %s", path, key);
			goto out;
		}
		memcpy(sec, gguf_arr_data(m->g, (uint64_t)idx), sizeof sec);
		for (i = 0; i < half; i++) {
			int64_t tot = (int64_t)sec[0] + sec[1] + sec[2] + sec[3];
			int64_t sct = tot > 0 ? (int64_t)i % tot : 0;
			bool moves = (sct % 3 == 0 && sct < 3 * sec[0]) ||
			    (sct % 3 == 1 && sct < 3 * sec[1]) ||
			    (sct % 3 == 2 && sct < 3 * sec[2]);

			if (!moves)
				m->inv[i] = 0;
		}
	}
	rc = 0;
out:
	free(fac);
	return rc;
}

int
refmodel_open(const char *path, const struct refmodel_opts *opts,
    struct refmodel **out, char **cause)
{
	struct refmodel			*m;
	const struct gguf_tensor	*rf = NULL;
	struct gguf_str			 a;
	char				*err = NULL;
	uint32_t			 kl, vl, il;
	float				 f;
	size_t				 i;
	int				 rc = -1;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return fail(cause, "out of memory");
	if (opts != NULL)
		m->o = *opts;
	if (gguf_open(path, NULL, &m->g, &err) != 0) {
		fail(cause, "%s", err != NULL ? err : path);
		goto out;
	}
	if (gguf_get_str(m->g, "general.architecture", &a) != 0 ||
	    a.n >= sizeof(m->arch)) {
		fail(cause, "%s: no usable general.architecture", path);
		goto out;
	}
	memcpy(m->arch, a.p, a.n);
	m->arch[a.n] = '\0';
	{
		static const struct { const char *n; enum ref_kind k; bool nx; }
		kinds[] = {
			{ "llama", K_LLAMA, false }, { "qwen2", K_QWEN2, true },
			{ "qwen3", K_QWEN3, true }, { "gemma3", K_GEMMA3, true },
			{ "phi3", K_PHI3, true }, { "granite", K_GRANITE, false },
			{ "smollm3", K_SMOLLM3, false },
			{ "mistral3", K_MISTRAL3, false },
			{ "qwen35", K_QWEN35, true },
			{ "gemma4", K_GEMMA4, true },
		};

		for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			if (strcmp(m->arch, kinds[i].n) == 0)
				break;
		if (i == sizeof kinds / sizeof kinds[0]) {
			fail(cause, "%s: architecture '%s' is not supported by "
			    "the reference", path, m->arch);
			goto out;
		}
		m->kind = kinds[i].k;
		m->neox = kinds[i].nx;
	}
	if (hparam(m, "embedding_length", &m->n_embd, 0, true, cause) != 0 ||
	    hparam(m, "feed_forward_length", &m->n_ff, 0, true, cause) != 0 ||
	    hparam(m, "block_count", &m->n_layer, 0, true, cause) != 0 ||
	    hparam(m, "attention.head_count", &m->n_head, 0, true,
	    cause) != 0 ||
	    hparam(m, "attention.head_count_kv", &m->n_kv, m->n_head, false,
	    cause) != 0)
		goto out;
	if (m->n_head % m->n_kv != 0 || (m->n_embd % m->n_head != 0 &&
	    gguf_find(m->g, "gemma3.attention.key_length") < 0)) {
		fail(cause, "%s: %u heads do not split into %u KV heads or "
		    "n_embd %u", path, m->n_head, m->n_kv, m->n_embd);
		goto out;
	}
	if (hparam(m, "attention.key_length", &kl, m->n_embd / m->n_head,
	    false, cause) != 0 ||
	    hparam(m, "attention.value_length", &vl, kl, false, cause) != 0)
		goto out;
	if (kl != vl) {
		fail(cause, "%s: key_length %u != value_length %u", path, kl,
		    vl);
		goto out;
	}
	m->hd = kl;
	if (hparam(m, "rope.dimension_count", &m->n_rot, m->hd, false,
	    cause) != 0)
		goto out;
	if (m->n_rot % 2 != 0 || m->n_rot > m->hd) {
		fail(cause, "%s: rope.dimension_count %u for head_dim %u", path,
		    m->n_rot, m->hd);
		goto out;
	}
	{
		char key[REF_KEY_MAX];

		snprintf(key, sizeof(key), "%s.rope.freq_base", m->arch);
		m->base = gguf_get_f32(m->g, key, &f) == 0 ? f : 10000.0;
		snprintf(key, sizeof(key),
		    "%s.attention.layer_norm_rms_epsilon", m->arch);
		m->eps = gguf_get_f32(m->g, key, &f) == 0 ? f :
		    m->neox ? 1e-6 : 1e-5;
	}
	if (m->kind == K_GEMMA4) {
		m->hd_glob = m->hd;
		if (hparam(m, "attention.key_length_swa", &m->hd_swa, m->hd,
		    false, cause) != 0 ||
		    hparam(m, "rope.dimension_count_swa", &m->rot_swa,
		    m->n_rot, false, cause) != 0)
			goto out;
		if (m->rot_swa % 2 != 0 || m->rot_swa > m->hd_swa ||
		    m->rot_swa > m->n_rot) {
			fail(cause, "%s: rope.dimension_count_swa %u", path,
			    m->rot_swa);
			goto out;
		}
		m->base_swa = keyf(m, "rope.freq_base_swa", m->base);
		m->softcap = keyf(m, "final_logit_softcapping", 30.0);
		/* buffers fit the largest layer; each has its own shape */
		m->hd = m->hd_swa > m->hd ? m->hd_swa : m->hd;
		m->n_kv = m->n_head;
	}
	if (m->kind == K_QWEN35 &&
	    (hparam(m, "full_attention_interval", &m->interval, 4, false,
	    cause) != 0 ||
	    hparam(m, "ssm.conv_kernel", &m->ck, 0, true, cause) != 0 ||
	    hparam(m, "ssm.state_size", &m->sd, 0, true, cause) != 0 ||
	    hparam(m, "ssm.group_count", &m->nk, 0, true, cause) != 0 ||
	    hparam(m, "ssm.time_step_rank", &m->nv, 0, true, cause) != 0))
		goto out;
	if (m->kind == K_QWEN35 && (m->ck > 16 || m->sd > 1024 ||
	    m->nv % m->nk != 0)) {
		fail(cause, "%s: odd DeltaNet shape", path);
		goto out;
	}

	m->tok_embd = gguf_tensor_find(m->g, "token_embd.weight");
	if (m->tok_embd == NULL || m->tok_embd->ne[1] <= 0 ||
	    m->tok_embd->ne[1] > (int64_t)REF_MAX_DIM * 4) {
		fail(cause, "%s: missing or odd token_embd.weight", path);
		goto out;
	}
	m->n_vocab = (uint32_t)m->tok_embd->ne[1];
	m->row_cap = m->n_embd;
	if (m->n_ff > m->row_cap)
		m->row_cap = m->n_ff;
	if ((size_t)m->n_head * m->hd * 2 > m->row_cap)
		m->row_cap = (size_t)m->n_head * m->hd * 2;
	if ((size_t)m->nv * m->sd > m->row_cap)
		m->row_cap = (size_t)m->nv * m->sd;
	if ((m->row = malloc(m->row_cap * sizeof(*m->row))) == NULL ||
	    (m->l = calloc(m->n_layer, sizeof(*m->l))) == NULL ||
	    (m->freq_div = malloc((m->n_rot / 2 + 1) *
	    sizeof(*m->freq_div))) == NULL) {
		fail(cause, "out of memory");
		goto out;
	}
	if (want(m, "token_embd.weight", m->n_embd, m->n_vocab, true,
	    &m->tok_embd, cause) != 0 ||
	    want(m, "output_norm.weight", m->n_embd, 0, true, &m->out_norm,
	    cause) != 0 ||
	    want(m, "output.weight", m->n_embd, m->n_vocab, false, &m->output,
	    cause) != 0 ||
	    want(m, "rope_freqs.weight", m->n_rot / 2, 0, false, &rf,
	    cause) != 0)
		goto out;
	if (m->output == NULL)
		m->output = m->tok_embd;	/* tied embeddings */
	for (i = 0; i < m->n_rot / 2; i++)
		m->freq_div[i] = 1.0;
	if (rf != NULL && deq_vec(m, rf, m->freq_div) != 0) {
		fail(cause, "%s: cannot read rope_freqs.weight", path);
		goto out;
	}
	if (kind_params(m, path, cause) != 0)
		goto out;
	for (il = 0; il < m->n_layer; il++)
		if (load_layer(m, il, cause) != 0)
			goto out;
	*out = m;	/* transferred */
	m = NULL;
	rc = 0;
out:
	free(err);
	refmodel_free(m);
	return rc;
}

void
refmodel_free(struct refmodel *m)
{
	if (m == NULL)
		return;
	gguf_free(m->g);
	free(m->row);
	free(m->l);
	free(m->freq_div);
	free(m->inv);
	free(m->inv_swa);
	free(m);
}

uint32_t
refmodel_n_vocab(const struct refmodel *m)
{
	return m->n_vocab;
}

uint32_t
refmodel_n_embd(const struct refmodel *m)
{
	return m->n_embd;
}

uint32_t
refmodel_n_layer(const struct refmodel *m)
{
	return m->n_layer;
}

/* ==== the math ============================================================ */

/* dst = x / sqrt(mean(x^2) + eps) * w, n values */
static void
rmsnorm(double *dst, const double *x, const double *w, size_t n, double eps)
{
	double	 ss = 0, scale;
	size_t	 i;

	for (i = 0; i < n; i++)
		ss += x[i] * x[i];
	scale = 1.0 / sqrt(ss / n + eps);
	for (i = 0; i < n; i++)
		dst[i] = x[i] * scale * w[i];
}

/*
 * What the reference runtime feeds a matmul with weight type `type`:
 * 8-bit blocks for quantized weights, bf16 for BF16, as is otherwise.
 */
static int
round_act(uint32_t type, const double *x, double *dst, size_t n)
{
	struct qa_block	*b = NULL;
	float		*xf = NULL;
	size_t		 i;

	if (type == QT_F32 || type == QT_F16) {
		memcpy(dst, x, n * sizeof(*x));
		return 0;
	}
	if (type == QT_BF16) {
		for (i = 0; i < n; i++)
			dst[i] = quant_bf16_to_f32(
			    quant_f32_to_bf16((float)x[i]));
		return 0;
	}
	if (n % QA_BLCK != 0 ||
	    (xf = malloc(n * sizeof(*xf))) == NULL ||
	    (b = malloc(n / QA_BLCK * sizeof(*b))) == NULL) {
		free(xf);
		return -1;
	}
	for (i = 0; i < n; i++)
		xf[i] = (float)x[i];
	quant_act_q8(xf, b, n);
	for (i = 0; i < n; i++)
		dst[i] = (double)b[i / QA_BLCK].d *
		    b[i / QA_BLCK].q[i % QA_BLCK];
	free(xf);
	free(b);
	return 0;
}

/*
 * Y[t] = W X[t] for t < n: W has ne = (in, out), X is n x in, Y n x out.
 * Each weight row is dequantized once and dotted with every token.
 */
static int
matmul(struct refmodel *m, const struct gguf_tensor *w, const double *x,
    double *y, size_t n)
{
	size_t		 in = (size_t)w->ne[0], out = (size_t)w->ne[1];
	double		*xa = NULL, s;
	const double	*xs = x;
	size_t		 r, t, k;
	int		 rc = -1;

	if (m->o.act_runtime) {
		if ((xa = malloc(n * in * sizeof(*xa))) == NULL)
			goto out;
		for (t = 0; t < n; t++)
			if (round_act(w->type, x + t * in, xa + t * in,
			    in) != 0)
				goto out;
		xs = xa;
	}
	for (r = 0; r < out; r++) {
		if (deq_row(m, w, (int64_t)r) != 0)
			goto out;
		for (t = 0; t < n; t++) {
			s = 0;
			for (k = 0; k < in; k++)
				s += (double)m->row[k] * xs[t * in + k];
			y[t * out + r] = s;
		}
	}
	rc = 0;
out:
	free(xa);
	return rc;
}

/* y[t] += b for t < n (b has `dim` values). */
static int
add_bias(struct refmodel *m, const struct gguf_tensor *b, double *y, size_t n,
    size_t dim, double *tmp)
{
	size_t	 t, i;

	if (b == NULL)
		return 0;
	if (deq_vec(m, b, tmp) != 0)
		return -1;
	for (t = 0; t < n; t++)
		for (i = 0; i < dim; i++)
			y[t * dim + i] += tmp[i];
	return 0;
}

/* Rotate the first n_rot values of one head vector at position pos with
 * the angles inv (pos * inv[i]); cos and sin times m->mscale. */
static void
rope(const struct refmodel *m, const double *inv, double *v, size_t pos,
    uint32_t n_rot)
{
	size_t	 i, half = n_rot / 2, a, b;
	double	 theta, c, s, x0, x1;

	for (i = 0; i < half; i++) {
		theta = (double)pos * inv[i];
		c = cos(theta) * m->mscale;
		s = sin(theta) * m->mscale;
		a = m->neox ? i : 2 * i;
		b = m->neox ? i + half : 2 * i + 1;
		x0 = v[a];
		x1 = v[b];
		v[a] = x0 * c - x1 * s;
		v[b] = x0 * s + x1 * c;
	}
}

static double
to_f16(double v)
{
	return quant_f16_to_f32(quant_f32_to_f16((float)v));
}

/*
 * Gated DeltaNet layer (qwen35, golden README 8.5), written plainly in
 * double: h (n x E) is the normed input, o (n x E) gets the output.
 */
static int
deltanet(struct refmodel *m, const struct ref_layer *L, const double *h,
    double *o, size_t n)
{
	size_t	 d = m->sd, nk = m->nk, nv = m->nv, K = m->ck;
	size_t	 C = 2 * nk * d + nv * d, vd = nv * d, t, c, j, hh, r, i;
	double	*mm = calloc(n * C, sizeof(double));
	double	*cv = calloc(n * C, sizeof(double));
	double	*z = calloc(n * vd, sizeof(double));
	double	*b = calloc(n * nv, sizeof(double));
	double	*al = calloc(n * nv, sizeof(double));
	double	*w = calloc(K * C, sizeof(double));
	double	*S = calloc(d * d, sizeof(double));
	double	*y = calloc(n * vd, sizeof(double));
	double	*vec = calloc(nv > d ? nv : d, sizeof(double));
	double	 dt[1024], av[1024], nw[1024], qn[1024], kn[1024], ov[1024];
	int	 rc = -1;

	if (!mm || !cv || !z || !b || !al || !w || !S || !y || !vec ||
	    nv > 1024 || d > 1024)
		goto out;
	if (matmul(m, L->wqkv, h, mm, n) != 0 || matmul(m, L->z, h, z, n) ||
	    matmul(m, L->beta, h, b, n) || matmul(m, L->alpha, h, al, n) ||
	    deq_vec(m, L->dt, dt) || deq_vec(m, L->a, av) ||
	    deq_vec(m, L->snorm, nw))
		goto out;
	for (c = 0; c < C; c++) {
		if (deq_row(m, L->conv, (int64_t)c) != 0)
			goto out;
		for (j = 0; j < K; j++)
			w[c * K + j] = m->row[j];
	}
	/* causal depthwise conv over positions, zeros before 0; silu */
	for (t = 0; t < n; t++)
		for (c = 0; c < C; c++) {
			double acc = 0;

			for (j = 0; j < K; j++)
				if (t + j + 1 >= K)
					acc += w[c * K + j] *
					    mm[(t + j + 1 - K) * C + c];
			cv[t * C + c] = acc / (1.0 + exp(-acc));
		}
	for (hh = 0; hh < nv; hh++) {
		size_t kh = hh % nk;	/* the tiled head mapping */

		memset(S, 0, d * d * sizeof(*S));
		for (t = 0; t < n; t++) {
			const double *cq = cv + t * C + kh * d;
			const double *ck = cv + t * C + nk * d + kh * d;
			const double *vv = cv + t * C + 2 * nk * d + hh * d;
			double nq = 0, nkk = 0, beta, g, alpha, ss = 0;

			for (i = 0; i < d; i++) {
				nq += cq[i] * cq[i];
				nkk += ck[i] * ck[i];
			}
			nq = fmax(sqrt(nq), m->eps);
			nkk = fmax(sqrt(nkk), m->eps);
			for (i = 0; i < d; i++) {
				qn[i] = cq[i] / nq;
				kn[i] = ck[i] / nkk;
			}
			beta = 1.0 / (1.0 + exp(-b[t * nv + hh]));
			g = al[t * nv + hh] + dt[hh];
			g = (g > 20 ? g : log1p(exp(g))) * av[hh];
			alpha = exp(fmin(g, 50.0));
			/* S <- alpha S + beta (v - alpha S k) k^T */
			for (r = 0; r < d; r++) {
				double sk = 0, delta, out = 0;

				for (i = 0; i < d; i++)
					sk += alpha * S[r * d + i] * kn[i];
				delta = beta * (vv[r] - sk);
				for (i = 0; i < d; i++) {
					S[r * d + i] = alpha * S[r * d + i] +
					    delta * kn[i];
					out += S[r * d + i] * qn[i];
				}
				ov[r] = out / sqrt((double)d);
			}
			for (r = 0; r < d; r++)
				ss += ov[r] * ov[r];
			ss = 1.0 / sqrt(ss / d + m->eps);
			for (r = 0; r < d; r++) {
				double zz = z[t * vd + hh * d + r];

				y[t * vd + hh * d + r] = ov[r] * ss * nw[r] *
				    zz / (1.0 + exp(-zz));
			}
		}
	}
	rc = matmul(m, L->sout, y, o, n);
out:
	free(mm);
	free(cv);
	free(z);
	free(b);
	free(al);
	free(w);
	free(S);
	free(y);
	free(vec);
	return rc;
}

int
refmodel_logits(struct refmodel *m, const int32_t *ids, size_t n, float *out)
{
	size_t		 E = m->n_embd, F = m->n_ff, hd = m->hd;
	size_t		 Q = (size_t)m->n_head * hd, KV = (size_t)m->n_kv * hd;
	size_t		 V = m->n_vocab, gqa = m->n_head / m->n_kv;
	double		*x = NULL, *h = NULL, *q = NULL, *k = NULL, *v = NULL;
	double		*att = NULL, *o = NULL, *g = NULL, *u = NULL;
	double		*wv = NULL, *sc = NULL, *lg = NULL;
	double		*gate = NULL;
	double		 mx, sum, d, scale = m->attn_scale;
	size_t		 t, j, i, hh, il, kvh, maxw;
	int		 rc = -1;

	if (n == 0 || ids == NULL || out == NULL)
		return -1;
	for (t = 0; t < n; t++)
		if (ids[t] < 0 || (uint32_t)ids[t] >= m->n_vocab)
			return -1;
	maxw = E > F ? E : F;
	if (m->nv * (size_t)m->sd > maxw)
		maxw = m->nv * (size_t)m->sd;
	if (Q > maxw)
		maxw = Q;
	if ((x = calloc(n * E, sizeof(*x))) == NULL ||
	    (h = calloc(n * E, sizeof(*h))) == NULL ||
	    (q = calloc(n * Q, sizeof(*q))) == NULL ||
	    (k = calloc(n * KV, sizeof(*k))) == NULL ||
	    (v = calloc(n * KV, sizeof(*v))) == NULL ||
	    (att = calloc(n * Q, sizeof(*att))) == NULL ||
	    (o = calloc(n * E, sizeof(*o))) == NULL ||
	    (g = calloc(n * F, sizeof(*g))) == NULL ||
	    (u = calloc(n * F, sizeof(*u))) == NULL ||
	    (wv = calloc(maxw, sizeof(*wv))) == NULL ||
	    (sc = calloc(n, sizeof(*sc))) == NULL ||
	    (lg = calloc(n * V, sizeof(*lg))) == NULL)
		goto out;

	/* embeddings: row id of token_embd */
	for (t = 0; t < n; t++) {
		if (deq_row(m, m->tok_embd, ids[t]) != 0)
			goto out;
		for (i = 0; i < E; i++)
			x[t * E + i] = m->row[i] * m->emb_scale;
	}

	for (il = 0; il < m->n_layer; il++) {
		const struct ref_layer *L = &m->l[il];

		/* this layer's shape (only gemma4's layers differ) */
		hd = L->hd;
		Q = (size_t)m->n_head * hd;
		KV = (size_t)L->nkv * hd;
		gqa = m->n_head / L->nkv;
		if (deq_vec(m, L->attn_norm, wv) != 0)
			goto out;
		for (t = 0; t < n; t++)
			rmsnorm(h + t * E, x + t * E, wv, E, m->eps);
		if (L->rec) {
			if (deltanet(m, L, h, o, n) != 0)
				goto out;
			goto residual;
		}
		if (L->wqkv != NULL) {	/* phi3: rows q | k | v */
			double *f3 = calloc(n * (Q + 2 * KV), sizeof(*f3));

			if (f3 == NULL || matmul(m, L->wqkv, h, f3, n) != 0) {
				free(f3);
				goto out;
			}
			for (t = 0; t < n; t++) {
				memcpy(q + t * Q, f3 + t * (Q + 2 * KV),
				    Q * sizeof(*q));
				memcpy(k + t * KV, f3 + t * (Q + 2 * KV) + Q,
				    KV * sizeof(*k));
				memcpy(v + t * KV, f3 + t * (Q + 2 * KV) + Q + KV,
				    KV * sizeof(*v));
			}
			free(f3);
		} else if (m->kind == K_QWEN35) {
			/* per head: hd query rows, then hd gate rows */
			if (gate == NULL && (gate = calloc(n * 2 * Q,
			    sizeof(*gate))) == NULL)
				goto out;
			if (matmul(m, L->wq, h, gate, n) != 0 ||
			    matmul(m, L->wk, h, k, n) != 0 ||
			    matmul(m, L->wv, h, v, n) != 0)
				goto out;
			for (t = 0; t < n; t++)
				for (hh = 0; hh < m->n_head; hh++)
					memcpy(q + t * Q + hh * hd, gate +
					    t * 2 * Q + 2 * hh * hd,
					    hd * sizeof(*q));
		} else if (m->kind == K_GEMMA4) {
			/* no wv: V is the K projection, before the K norm;
			 * then V is RMS-normed per head without a weight */
			if (matmul(m, L->wq, h, q, n) != 0 ||
			    matmul(m, L->wk, h, k, n) != 0 ||
			    (L->wv != NULL && matmul(m, L->wv, h, v, n) != 0))
				goto out;
			if (L->wv == NULL)
				memcpy(v, k, n * KV * sizeof(*v));
			for (t = 0; t < n * L->nkv; t++) {
				double ss = 0;

				for (i = 0; i < hd; i++)
					ss += v[t * hd + i] * v[t * hd + i];
				ss = 1.0 / sqrt(ss / hd + m->eps);
				for (i = 0; i < hd; i++)
					v[t * hd + i] *= ss;
			}
		} else if (matmul(m, L->wq, h, q, n) != 0 ||
		    matmul(m, L->wk, h, k, n) != 0 ||
		    matmul(m, L->wv, h, v, n) != 0 ||
		    add_bias(m, L->bq, q, n, Q, wv) != 0 ||
		    add_bias(m, L->bk, k, n, KV, wv) != 0 ||
		    add_bias(m, L->bv, v, n, KV, wv) != 0)
			goto out;
		if (L->q_norm != NULL) {
			/* qwen3: RMSNorm of each head, before RoPE */
			if (deq_vec(m, L->q_norm, wv) != 0)
				goto out;
			for (t = 0; t < n * m->n_head; t++)
				rmsnorm(q + t * hd, q + t * hd, wv, hd, m->eps);
			if (deq_vec(m, L->k_norm, wv) != 0)
				goto out;
			for (t = 0; t < n * L->nkv; t++)
				rmsnorm(k + t * hd, k + t * hd, wv, hd, m->eps);
		}
		for (t = 0; t < n && !L->nope; t++) {
			bool sw = L->swa && (m->kind == K_GEMMA3 ||
			    m->kind == K_GEMMA4);
			const double *inv = sw ? m->inv_swa : m->inv;
			uint32_t nr = sw && m->kind == K_GEMMA4 ? m->rot_swa :
			    m->n_rot;

			for (hh = 0; hh < m->n_head; hh++)
				rope(m, inv, q + t * Q + hh * hd, t, nr);
			for (hh = 0; hh < L->nkv; hh++)
				rope(m, inv, k + t * KV + hh * hd, t, nr);
		}
		/* mistral3: attention temperature, after RoPE */
		for (t = 0; t < n && m->temp_scale > 0; t++) {
			double tf = 1.0 + m->temp_scale * log(1.0 +
			    floor((double)(t + 1) / m->temp_len));

			for (i = 0; i < Q; i++)
				q[t * Q + i] *= tf;
		}
		if (m->o.kv_f16)
			for (i = 0; i < n * KV; i++) {
				k[i] = to_f16(k[i]);
				v[i] = to_f16(v[i]);
			}
		/* causal softmax attention, GQA; a sliding layer's query t
		 * sees keys j with t - n_swa < j <= t */
		for (t = 0; t < n; t++) {
			size_t j0 = L->swa && m->n_swa > 0 && t + 1 > m->n_swa ?
			    t + 1 - m->n_swa : 0;

			for (hh = 0; hh < m->n_head; hh++) {
				const double *qh = q + t * Q + hh * hd;
				double *ah = att + t * Q + hh * hd;

				kvh = hh / gqa;
				mx = -INFINITY;
				for (j = j0; j <= t; j++) {
					const double *kj =
					    k + j * KV + kvh * hd;

					d = 0;
					for (i = 0; i < hd; i++)
						d += qh[i] * kj[i];
					sc[j] = d * scale;
					if (sc[j] > mx)
						mx = sc[j];
				}
				sum = 0;
				for (j = j0; j <= t; j++) {
					sc[j] = exp(sc[j] - mx);
					sum += sc[j];
				}
				for (i = 0; i < hd; i++)
					ah[i] = 0;
				for (j = j0; j <= t; j++) {
					const double *vj =
					    v + j * KV + kvh * hd;

					for (i = 0; i < hd; i++)
						ah[i] += sc[j] / sum * vj[i];
				}
				/* qwen35: output gate sigmoid */
				for (i = 0; gate != NULL && i < hd; i++)
					ah[i] /= 1.0 + exp(-gate[t * 2 * Q +
					    2 * hh * hd + hd + i]);
			}
		}
		if (matmul(m, L->wo, att, o, n) != 0)
			goto out;
residual:
		if (L->post_att != NULL) {
			if (deq_vec(m, L->post_att, wv) != 0)
				goto out;
			for (t = 0; t < n; t++)
				rmsnorm(o + t * E, o + t * E, wv, E, m->eps);
		}
		for (i = 0; i < n * E; i++)
			x[i] += m->resid_scale * o[i];

		/* feed-forward block: SwiGLU, or GELU(tanh) for gemma3 */
		if (deq_vec(m, L->ffn_norm, wv) != 0)
			goto out;
		for (t = 0; t < n; t++)
			rmsnorm(h + t * E, x + t * E, wv, E, m->eps);
		if (L->wg == NULL) {	/* phi3: one matmul, gate rows first */
			double *f2 = calloc(n * 2 * F, sizeof(*f2));

			if (f2 == NULL || matmul(m, L->wu, h, f2, n) != 0) {
				free(f2);
				goto out;
			}
			for (t = 0; t < n; t++) {
				memcpy(g + t * F, f2 + t * 2 * F, F * sizeof(*g));
				memcpy(u + t * F, f2 + t * 2 * F + F,
				    F * sizeof(*u));
			}
			free(f2);
		} else if (matmul(m, L->wg, h, g, n) != 0 ||
		    matmul(m, L->wu, h, u, n) != 0)
			goto out;
		for (i = 0; i < n * F; i++)
			g[i] = m->kind == K_GEMMA3 || m->kind == K_GEMMA4 ?
			    0.5 * g[i] * (1.0 +
			    tanh(sqrt(2.0 / M_PI) * (g[i] + 0.044715 * g[i] *
			    g[i] * g[i]))) * u[i] :
			    g[i] / (1.0 + exp(-g[i])) * u[i];
		if (matmul(m, L->wd, g, o, n) != 0)
			goto out;
		if (L->post_ffw != NULL) {
			if (deq_vec(m, L->post_ffw, wv) != 0)
				goto out;
			for (t = 0; t < n; t++)
				rmsnorm(o + t * E, o + t * E, wv, E, m->eps);
		}
		for (i = 0; i < n * E; i++)
			x[i] = (x[i] + m->resid_scale * o[i]) * L->out_scale;
	}

	if (deq_vec(m, m->out_norm, wv) != 0)
		goto out;
	for (t = 0; t < n; t++)
		rmsnorm(h + t * E, x + t * E, wv, E, m->eps);
	if (matmul(m, m->output, h, lg, n) != 0)
		goto out;
	for (i = 0; i < n * V; i++)
		out[i] = (float)(m->softcap > 0 ? m->softcap *
		    tanh(lg[i] / m->logit_scale / m->softcap) :
		    lg[i] / m->logit_scale);
	rc = 0;
out:
	free(x);
	free(h);
	free(q);
	free(k);
	free(v);
	free(att);
	free(o);
	free(g);
	free(u);
	free(wv);
	free(sc);
	free(lg);
	free(gate);
	return rc;
}
