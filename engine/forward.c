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
 *     K[pos..], V[pos..] = k, v  (stored as f16, as the reference runtime)
 *     att = softmax(q K^T / sqrt(hd), causal) V     per head, GQA
 *     x += att Wo
 *     xb = rmsnorm(x) * ffn_norm
 *     x += (silu(xb Wgate) * xb Wup) Wdown
 *   logits = rmsnorm(x) * output_norm Wout
 *
 * Every buffer is allocated once in eng_session_new(), so decoding never
 * allocates and cannot fail half-way for lack of memory.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "model.h"
#include "quant.h"
#include "session.h"

/* f16 -> f32 by table: the attention loop converts every cached value. */
static float f16tab[65536];
static pthread_once_t f16once = PTHREAD_ONCE_INIT;

static void
f16tab_init(void)
{
	for (uint32_t i = 0; i < 65536; i++)
		f16tab[i] = quant_f16_to_f32((uint16_t)i);
}

int
eng_session_new(struct eng_model *m, struct eng_session **out, char **cause)
{
	struct eng_session *s = NULL;
	const struct hparams *hp = &m->hp;
	uint64_t qd = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t kvd = (uint64_t)hp->n_head_kv * hp->head_dim;
	uint64_t widest = hp->n_ff;
	uint32_t nb = MODEL_CHUNK;
	int rc = ENG_ENOMEM;

	if (cause != NULL)
		*cause = NULL;
	if (m->arch == NULL || m->vocab_only || m->layers == NULL) {
		rc = ENG_EINVAL;
		if (cause != NULL)
			*cause = strdup("the model was opened for its tokenizer only");
		goto out;
	}
	pthread_once(&f16once, f16tab_init);
	if (widest < qd)
		widest = qd;
	if (widest < hp->n_embd)
		widest = hp->n_embd;
	if ((s = calloc(1, sizeof *s)) == NULL)
		goto out;
	s->m = m;
	s->n_ctx = m->n_ctx;
	s->kv_dim = kvd;
	s->kcache = calloc((size_t)hp->n_layer * s->n_ctx * kvd, sizeof(uint16_t));
	s->vcache = calloc((size_t)hp->n_layer * s->n_ctx * kvd, sizeof(uint16_t));
	s->x = calloc((size_t)nb * hp->n_embd, sizeof(float));
	s->xb = calloc((size_t)nb * widest, sizeof(float));
	s->q = calloc((size_t)nb * qd, sizeof(float));
	s->k = calloc((size_t)nb * kvd, sizeof(float));
	s->v = calloc((size_t)nb * kvd, sizeof(float));
	s->att = calloc((size_t)nb * qd, sizeof(float));
	s->gate = calloc((size_t)nb * hp->n_ff, sizeof(float));
	s->up = calloc((size_t)nb * hp->n_ff, sizeof(float));
	s->scores = calloc((size_t)hp->n_head * s->n_ctx, sizeof(float));
	s->logits = calloc(hp->n_vocab, sizeof(float));
	s->kscratch = malloc(kern_scratch_bytes(widest, nb));
	s->inv_freq = calloc(hp->n_rot / 2, sizeof(double));
	if (!s->kcache || !s->vcache || !s->x || !s->xb || !s->q || !s->k ||
	    !s->v || !s->att || !s->gate || !s->up || !s->scores ||
	    !s->logits || !s->kscratch || !s->inv_freq)
		goto out;
	/* theta_i = pos * base^(-2i/n_rot) / freq_factor_i (llama3 rope) */
	for (uint32_t i = 0; i < hp->n_rot / 2; i++) {
		s->inv_freq[i] = pow((double)hp->rope_base,
		    -2.0 * i / (double)hp->n_rot) * hp->rope_scale;
		if (m->rope_freqs != NULL)
			s->inv_freq[i] /= m->rope_freqs[i];
	}
	if ((s->pool = kern_pool_new(m->n_threads)) == NULL)
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
	free(s->scores);
	free(s->logits);
	free(s->kscratch);
	free(s->inv_freq);
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

/* ==== building blocks ===================================================== */

static void
rmsnorm(float *out, const float *x, const float *w, size_t n, float eps)
{
	double ss = 0;

	for (size_t i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	float scale = (float)(1.0 / sqrt(ss / (double)n + eps));
	for (size_t i = 0; i < n; i++)
		out[i] = x[i] * scale * w[i];
}

static void
matmul(struct eng_session *s, const struct wt *w, const float *x, size_t nb,
    float *y)
{
	kern_matmul(s->pool, w->type, w->data, w->ne1, w->ne0, x, nb, y,
	    s->kscratch);
}

static void
add_bias(float *y, const struct wt *b, size_t nb, size_t n)
{
	const float *bias = b->data;

	if (bias == NULL)
		return;
	for (size_t t = 0; t < nb; t++)
		for (size_t i = 0; i < n; i++)
			y[t * n + i] += bias[i];
}

/* Rotate one head's vector in place at position pos. */
static void
rope(const struct eng_session *s, float *v, uint32_t pos)
{
	const struct hparams *hp = &s->m->hp;
	uint32_t half = hp->n_rot / 2;

	for (uint32_t i = 0; i < half; i++) {
		double th = (double)pos * s->inv_freq[i];
		float c = (float)cos(th), sn = (float)sin(th);
		uint32_t a, b;

		if (s->m->arch->rope == ROPE_NEOX) {
			a = i;			/* (x[i], x[i + n_rot/2]) */
			b = i + half;
		} else {
			a = 2 * i;		/* adjacent pairs */
			b = 2 * i + 1;
		}
		float x0 = v[a], x1 = v[b];
		v[a] = x0 * c - x1 * sn;
		v[b] = x0 * sn + x1 * c;
	}
}

/* Attention for one head over every token of the chunk (a pool task). */
struct att_job {
	struct eng_session	*s;
	uint32_t		 layer, nb;
};

static void
att_head(void *arg, size_t h)
{
	const struct att_job *j = arg;
	struct eng_session *s = j->s;
	const struct hparams *hp = &s->m->hp;
	uint32_t hd = hp->head_dim, group = hp->n_head / hp->n_head_kv;
	uint32_t kh = (uint32_t)h / group;
	size_t qd = (size_t)hp->n_head * hd;
	const uint16_t *K = s->kcache + (size_t)j->layer * s->n_ctx * s->kv_dim;
	const uint16_t *V = s->vcache + (size_t)j->layer * s->n_ctx * s->kv_dim;
	float *sc = s->scores + h * s->n_ctx;
	float scale = 1.0f / sqrtf((float)hd);

	for (uint32_t t = 0; t < j->nb; t++) {
		const float *q = s->q + t * qd + h * hd;
		float *o = s->att + t * qd + h * hd;
		uint32_t npos = s->pos + t + 1;	/* causal: up to itself */
		float mx = -INFINITY, sum = 0;

		for (uint32_t p = 0; p < npos; p++) {
			const uint16_t *kr = K + (size_t)p * s->kv_dim + kh * hd;
			float d = 0;

			for (uint32_t i = 0; i < hd; i++)
				d += q[i] * f16tab[kr[i]];
			sc[p] = d * scale;
			if (sc[p] > mx)
				mx = sc[p];
		}
		for (uint32_t p = 0; p < npos; p++) {
			sc[p] = expf(sc[p] - mx);
			sum += sc[p];
		}
		memset(o, 0, hd * sizeof *o);
		for (uint32_t p = 0; p < npos; p++) {
			const uint16_t *vr = V + (size_t)p * s->kv_dim + kh * hd;
			float w = sc[p] / sum;

			for (uint32_t i = 0; i < hd; i++)
				o[i] += w * f16tab[vr[i]];
		}
	}
}

static inline float
silu(float x)
{
	return x / (1.0f + expf(-x));
}

static bool
cancelled(const struct eng_session *s)
{
	return s->cancel != NULL && atomic_load(s->cancel) != 0;
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
	uint32_t hd = hp->head_dim, E = hp->n_embd;
	size_t qd = (size_t)hp->n_head * hd, kvd = s->kv_dim;

	for (uint32_t t = 0; t < nb; t++) {
		const uint8_t *row = (const uint8_t *)m->tok_embd.data +
		    (size_t)ids[t] * m->tok_embd.row_bytes;

		quant_dequant_row(m->tok_embd.type, row, s->x + (size_t)t * E, E);
	}
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct layer *L = &m->layers[l];
		uint16_t *Kc = s->kcache + ((size_t)l * s->n_ctx + s->pos) * kvd;
		uint16_t *Vc = s->vcache + ((size_t)l * s->n_ctx + s->pos) * kvd;

		if (cancelled(s))
			return ENG_ECANCEL;
		for (uint32_t t = 0; t < nb; t++)
			rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E,
			    L->attn_norm.data, E, hp->rms_eps);
		matmul(s, &L->wq, s->xb, nb, s->q);
		matmul(s, &L->wk, s->xb, nb, s->k);
		matmul(s, &L->wv, s->xb, nb, s->v);
		add_bias(s->q, &L->bq, nb, qd);
		add_bias(s->k, &L->bk, nb, kvd);
		add_bias(s->v, &L->bv, nb, kvd);
		for (uint32_t t = 0; t < nb; t++) {
			for (uint32_t h = 0; h < hp->n_head; h++) {
				float *qh = s->q + t * qd + (size_t)h * hd;

				if (L->q_norm.data)
					rmsnorm(qh, qh, L->q_norm.data, hd, hp->rms_eps);
				rope(s, qh, s->pos + t);
			}
			for (uint32_t h = 0; h < hp->n_head_kv; h++) {
				float *kh = s->k + t * kvd + (size_t)h * hd;

				if (L->k_norm.data)
					rmsnorm(kh, kh, L->k_norm.data, hd, hp->rms_eps);
				rope(s, kh, s->pos + t);
			}
			for (size_t i = 0; i < kvd; i++) {
				Kc[t * kvd + i] = quant_f32_to_f16(s->k[t * kvd + i]);
				Vc[t * kvd + i] = quant_f32_to_f16(s->v[t * kvd + i]);
			}
		}
		struct att_job job = { s, l, nb };
		kern_parallel(s->pool, hp->n_head, att_head, &job);
		matmul(s, &L->wo, s->att, nb, s->xb);
		for (size_t i = 0; i < (size_t)nb * E; i++)
			s->x[i] += s->xb[i];

		for (uint32_t t = 0; t < nb; t++)
			rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E,
			    L->ffn_norm.data, E, hp->rms_eps);
		matmul(s, &L->w_gate, s->xb, nb, s->gate);
		matmul(s, &L->w_up, s->xb, nb, s->up);
		for (size_t i = 0; i < (size_t)nb * hp->n_ff; i++)
			s->gate[i] = silu(s->gate[i]) * s->up[i];
		matmul(s, &L->w_down, s->gate, nb, s->xb);
		for (size_t i = 0; i < (size_t)nb * E; i++)
			s->x[i] += s->xb[i];
	}
	if (out != NULL && first_out < nb) {
		uint32_t n_out = nb - first_out;

		for (uint32_t t = 0; t < n_out; t++)
			rmsnorm(s->xb + (size_t)t * E,
			    s->x + (size_t)(first_out + t) * E,
			    m->out_norm.data, E, hp->rms_eps);
		matmul(s, &m->output, s->xb, n_out, out);
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
		done += nb;
		if (progress != NULL && progress(arg, done, n) != 0 && done < n) {
			rc = ENG_ECANCEL;
			break;
		}
	}
	if (rc != 0)
		s->pos = start;	/* what was cached past start is never read */
	return rc;
}
