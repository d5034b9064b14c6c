/*
 * model.c - open a GGUF model: the architecture table, hparams, tensor
 * binding with shape checks, the memory estimate, and model info.
 *
 * Nothing here trusts the file: every hparam is range-checked, every
 * tensor's type and shape is compared with what the hparams imply before
 * the forward pass may index into it.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "att.h"
#include "chat.h"
#include "gguf.h"
#include "kern.h"
#include "model.h"
#include "quant.h"
#include "vocab.h"

/*
 * The architectures we run.  Adding a family that differs only in these
 * switches (say, another llama variant) is a new row; phi3 or gemma need
 * a row plus their few extra tensors in bind_layer().
 */
static const struct arch arches[] = {
	{ "llama",    ARCH_LLAMA,    ROPE_NORM, false, false, 1e-5f },
	{ "qwen2",    ARCH_QWEN2,    ROPE_NEOX, true,  false, 1e-6f },
	{ "qwen3",    ARCH_QWEN3,    ROPE_NEOX, false, true,  1e-6f },
	{ "gemma3",   ARCH_GEMMA3,   ROPE_NEOX, false, true,  1e-6f },
	{ "phi3",     ARCH_PHI3,     ROPE_NEOX, false, false, 1e-5f },
	{ "granite",  ARCH_GRANITE,  ROPE_NORM, false, false, 1e-5f },
	{ "smollm3",  ARCH_SMOLLM3,  ROPE_NORM, false, false, 1e-6f },
	{ "mistral3", ARCH_MISTRAL3, ROPE_NORM, false, false, 1e-5f },
	{ "qwen35",   ARCH_QWEN35,   ROPE_NEOX, false, true,  1e-6f },
	{ "gemma4",   ARCH_GEMMA4,   ROPE_NEOX, false, true,  1e-6f },
};
#define ARCH_NAMES	"llama, qwen2, qwen3, gemma3, phi3, granite, " \
	"smollm3, mistral3, qwen35 and gemma4"

/* Gemma 3: layer il is global iff (il + 1) % 6 == 0, the others slide
 * (a constant of the reference runtime, not a key of the file); its
 * sliding layers rotate with base 10000, unscaled. */
#define GEMMA3_PATTERN		6
#define GEMMA3_SWA_BASE		10000.0
/* SmolLM3: layer il has no RoPE iff (il + 1) % 4 == 0 (also fixed). */
#define SMOLLM3_NOPE_STEP	4
/* Gemma 4: the soft-cap of the logits when the file names none. */
#define GEMMA4_SOFTCAP		30.0f

/* Physical memory share a model may use when the caller gives no limit. */
#define MEM_LIMIT_PERCENT	80
#define DEFAULT_CTX		4096

static int
fail(char **cause, int code, const char *fmt, ...)
{
	va_list ap;

	if (cause != NULL) {
		va_start(ap, fmt);
		if (vasprintf(cause, fmt, ap) < 0)
			*cause = NULL;
		va_end(ap);
	}
	return code;
}

static const struct arch *
arch_find(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
		if (strlen(arches[i].name) == n &&
		    memcmp(arches[i].name, name, n) == 0)
			return &arches[i];
	return NULL;
}

/* "{arch}.suffix" as a key. */
static const char *
akey(char *buf, size_t cap, const struct arch *a, const char *suffix)
{
	snprintf(buf, cap, "%s.%s", a->name, suffix);
	return buf;
}

static int
get_u32(const struct gguf *g, const struct arch *a, const char *suffix,
    bool required, uint32_t def, uint32_t min, uint32_t max, uint32_t *v,
    char **cause)
{
	char key[96];

	akey(key, sizeof key, a, suffix);
	if (gguf_find(g, key) < 0) {
		if (required)
			return fail(cause, ENG_EFORMAT, "missing metadata key %s", key);
		*v = def;
		return 0;
	}
	if (gguf_get_u32(g, key, v) != 0)
		return fail(cause, ENG_EFORMAT, "%s: not an unsigned integer", key);
	if (*v < min || *v > max)
		return fail(cause, ENG_EFORMAT, "%s: %" PRIu32 " is outside %" PRIu32
		    "..%" PRIu32, key, *v, min, max);
	return 0;
}

static int
get_f32(const struct gguf *g, const struct arch *a, const char *suffix,
    float def, float *v, char **cause)
{
	char key[96];

	akey(key, sizeof key, a, suffix);
	if (gguf_find(g, key) < 0) {
		*v = def;
		return 0;
	}
	if (gguf_get_f32(g, key, v) != 0)
		return fail(cause, ENG_EFORMAT, "%s: not a float", key);
	if (!(*v > 0) || *v > 1e30f)	/* also rejects NaN */
		return fail(cause, ENG_EFORMAT, "%s: %g is not a usable value",
		    key, (double)*v);
	return 0;
}

static int bind(struct eng_model *, struct wt *, const char *, uint64_t,
    uint64_t, bool, bool, char **);
static bool rope_still(const struct hparams *, uint32_t);

/* A float key that must be present. */
static int
need_f32(const struct gguf *g, const struct arch *a, const char *suffix,
    float *v, char **cause)
{
	char key[96];

	if (gguf_find(g, akey(key, sizeof key, a, suffix)) < 0)
		return fail(cause, ENG_EFORMAT, "missing metadata key %s", key);
	return get_f32(g, a, suffix, 0, v, cause);
}

static bool
str_is(const struct gguf_str *s, const char *lit)
{
	return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

/*
 * YaRN (mistral3): pair i blends the interpolated angle (pos * s) and the
 * original one by a ramp between the correction dims of beta_fast and
 * beta_slow, as ggml's rope_yarn.  The attention factor is HF's
 * get_mscale(f, mscale) / get_mscale(f, mscale_all_dims) = 1 for the
 * Ministral 3 files (both 1): no scaling of cos and sin.
 */
static double
yarn_dim(uint32_t n_rot, double orig, double beta, double base)
{
	return n_rot * log(orig / (beta * 2 * M_PI)) / (2 * log(base));
}

/* Angles of every rope set, once n_ctx is known (LongRoPE picks its
 * factors by the context length). */
static int
rope_tables(struct eng_model *m, char **cause)
{
	struct hparams *hp = &m->hp;
	const struct arch *a = m->arch;
	uint32_t half = hp->n_rot / 2;
	const float *fac = m->rope_freqs;
	double yarn_s = 0, lo = 0, hi = 0;
	int rc;

	hp->n_rope_sets = a->id == ARCH_GEMMA3 || a->id == ARCH_GEMMA4 ? 2 : 1;
	/* gemma4's sliding layers rotate their own (smaller) head size,
	 * checked <= n_rot, so every table fits n_rot / 2 pairs */
	hp->rot_dims[0] = hp->rot_dims[1] = hp->n_rot;
	if (a->id == ARCH_GEMMA4)
		hp->rot_dims[1] = hp->n_rot_swa;
	if (a->id == ARCH_PHI3) {
		struct wt lf, sf;
		uint32_t orig;
		uint64_t nf = hp->head_dim / 2;

		/* the reference wants head_dim/2 factors; Phi-4-mini ships
		 * n_rot/2: either serves, only the first n_rot/2 are used */
		if (gguf_tensor_find(m->g, "rope_factors_long.weight") != NULL &&
		    gguf_tensor_find(m->g, "rope_factors_long.weight")->ne[0] ==
		    (int64_t)half)
			nf = half;
		if ((rc = bind(m, &lf, "rope_factors_long.weight", nf, 1, false,
		    true, cause)) ||
		    (rc = bind(m, &sf, "rope_factors_short.weight", nf, 1,
		    lf.data != NULL, true, cause)))
			return rc;
		if (lf.data == NULL && sf.data != NULL)
			return fail(cause, ENG_EFORMAT, "tensor "
			    "'rope_factors_long.weight' is missing");
		if (lf.data != NULL) {
			if ((rc = get_u32(m->g, a,
			    "rope.scaling.original_context_length", true, 0, 1,
			    MODEL_MAX_CTX, &orig, cause)) ||
			    (rc = get_f32(m->g, a, "rope.scaling.attn_factor",
			    1.0f, &hp->rope_mscale, cause)))
				return rc;
			/* the context this load uses picks the factors, for
			 * every position (as the reference runtime) */
			fac = m->n_ctx > orig ? lf.data : sf.data;
		}
	}
	if (a->id == ARCH_MISTRAL3 && hp->rope_scale != 1.0f) {
		float bf, bs;
		uint32_t orig;

		if ((rc = get_u32(m->g, a, "rope.scaling.original_context_length",
		    true, 0, 1, MODEL_MAX_CTX, &orig, cause)) ||
		    (rc = get_f32(m->g, a, "rope.scaling.yarn_beta_fast", 32.0f,
		    &bf, cause)) ||
		    (rc = get_f32(m->g, a, "rope.scaling.yarn_beta_slow", 1.0f,
		    &bs, cause)))
			return rc;
		yarn_s = hp->rope_scale;
		lo = floor(yarn_dim(hp->n_rot, orig, bf, hp->rope_base));
		hi = ceil(yarn_dim(hp->n_rot, orig, bs, hp->rope_base));
		lo = lo < 0 ? 0 : lo;
		hi = hi > hp->n_rot - 1 ? hp->n_rot - 1 : hi;
	}
	for (uint32_t k = 0; k < hp->n_rope_sets; k++) {
		bool swa = k == 1;
		double base = !swa ? hp->rope_base : a->id == ARCH_GEMMA4 ?
		    hp->rope_base_swa : GEMMA3_SWA_BASE;
		double scale = swa ? 1.0 : hp->rope_scale;
		uint32_t nrot = hp->rot_dims[k];

		hp->inv_freq[k] = calloc(half + 1, sizeof(double));
		if (hp->inv_freq[k] == NULL)
			return fail(cause, ENG_ENOMEM, "out of memory");
		for (uint32_t i = 0; i < nrot / 2; i++) {
			double f = pow(base, -2.0 * i / (double)nrot);

			if (yarn_s != 0) {
				double r = (i - lo) / (hi - lo > 0.001 ? hi - lo :
				    0.001);

				r = 1 - (r < 0 ? 0 : r > 1 ? 1 : r);
				f *= yarn_s * (1 - r) + r;
			} else
				f *= scale;
			if (fac != NULL && !swa)
				f /= fac[i];
			if (a->id == ARCH_QWEN35 && rope_still(hp, i))
				f = 0;
			hp->inv_freq[k][i] = f;
		}
	}
	return 0;
}

/*
 * Qwen3.5: every full_attention_interval-th layer is attention, the
 * others gated DeltaNet.  Its IMROPE gives text tokens the same position
 * in the t, h and w streams and 0 in the fourth: a pair rotates with the
 * position unless its section falls in the fourth stream, where it keeps
 * angle 0 (inv_freq 0, set in rope_tables through rope_still).
 */
static int
load_qwen35(struct eng_model *m, char **cause)
{
	const struct gguf *g = m->g;
	const struct arch *a = m->arch;
	struct hparams *hp = &m->hp;
	uint32_t inner, iv;
	enum gguf_vtype et;
	uint64_t cnt;
	int64_t idx;
	char key[96];
	int rc;

	if ((rc = get_u32(g, a, "full_attention_interval", false, 4, 1,
	    MODEL_MAX_LAYERS, &iv, cause)) ||
	    (rc = get_u32(g, a, "ssm.conv_kernel", true, 0, 2, 16, &hp->ssm_k,
	    cause)) ||
	    (rc = get_u32(g, a, "ssm.state_size", true, 0, 1, 512, &hp->ssm_d,
	    cause)) ||
	    (rc = get_u32(g, a, "ssm.group_count", true, 0, 1, MODEL_MAX_HEADS,
	    &hp->ssm_nk, cause)) ||
	    (rc = get_u32(g, a, "ssm.time_step_rank", true, 0, 1,
	    MODEL_MAX_HEADS, &hp->ssm_nv, cause)) ||
	    (rc = get_u32(g, a, "ssm.inner_size", true, 0, 1, 1u << 20, &inner,
	    cause)))
		return rc;
	if (inner != hp->ssm_nv * hp->ssm_d || hp->ssm_nv % hp->ssm_nk != 0)
		return fail(cause, ENG_EFORMAT, "qwen35.ssm.inner_size %" PRIu32
		    " is not time_step_rank %" PRIu32 " x state_size %" PRIu32
		    " with time_step_rank a multiple of group_count %" PRIu32,
		    inner, hp->ssm_nv, hp->ssm_d, hp->ssm_nk);
	hp->conv_ch = 2ull * hp->ssm_nk * hp->ssm_d + (uint64_t)inner;
	hp->attn_gate = true;
	hp->rec_interval = iv;
	akey(key, sizeof key, a, "rope.dimension_sections");
	if (gguf_get_arr(g, key, &et, &cnt, &idx) != 0 || cnt != 4 ||
	    (et != GGUF_I32 && et != GGUF_U32))
		return fail(cause, ENG_EFORMAT, "%s: missing, or not an array of "
		    "4 integers", key);
	memcpy(hp->rope_sections, gguf_arr_data(g, (uint64_t)idx),
	    sizeof hp->rope_sections);
	for (int i = 0; i < 4; i++)
		if (hp->rope_sections[i] < 0 || hp->rope_sections[i] > 4096)
			return fail(cause, ENG_EFORMAT, "%s: element %d is %" PRId32,
			    key, i, hp->rope_sections[i]);
	if (hp->rope_sections[0] + hp->rope_sections[1] +
	    hp->rope_sections[2] + hp->rope_sections[3] == 0)
		return fail(cause, ENG_EFORMAT, "%s: all sections are 0", key);
	return 0;
}

/* Qwen3.5 IMROPE: does pair i keep angle 0 for text tokens? */
static bool
rope_still(const struct hparams *hp, uint32_t i)
{
	const int32_t *sec = hp->rope_sections;
	uint32_t s = i % (uint32_t)(sec[0] + sec[1] + sec[2] + sec[3]);

	return !((s % 3 == 0 && s < 3u * sec[0]) ||
	    (s % 3 == 1 && s < 3u * sec[1]) || (s % 3 == 2 && s < 3u * sec[2]));
}

/*
 * A per-layer integer key: an array of n_layer BOOL, INT32 or UINT32
 * elements or, when scalar_ok, one unsigned integer for every layer.
 * Every value must lie in min..max.
 */
static int
get_layer_u32(const struct gguf *g, const struct arch *a, const char *suffix,
    uint32_t n_layer, bool scalar_ok, uint32_t min, uint32_t max,
    uint32_t *v, char **cause)
{
	char key[96];
	enum gguf_vtype et;
	uint64_t cnt;
	int64_t idx;
	const uint8_t *p;
	int rc;

	akey(key, sizeof key, a, suffix);
	if ((idx = gguf_find(g, key)) < 0)
		return fail(cause, ENG_EFORMAT, "missing metadata key %s", key);
	if (gguf_type(g, (uint64_t)idx) != GGUF_ARR && scalar_ok) {
		if ((rc = get_u32(g, a, suffix, true, 0, min, max, v, cause)))
			return rc;
		for (uint32_t i = 1; i < n_layer; i++)
			v[i] = v[0];
		return 0;
	}
	if (gguf_get_arr(g, key, &et, &cnt, &idx) != 0 || cnt != n_layer ||
	    (et != GGUF_BOOL && et != GGUF_I32 && et != GGUF_U32) ||
	    (p = gguf_arr_data(g, (uint64_t)idx)) == NULL)
		return fail(cause, ENG_EFORMAT, "%s: not an array of %" PRIu32
		    " booleans or integers (one per layer)", key, n_layer);
	for (uint32_t i = 0; i < n_layer; i++) {
		int64_t x;

		if (et == GGUF_BOOL)
			x = p[i];
		else if (et == GGUF_I32) {
			int32_t t;

			memcpy(&t, p + 4 * (size_t)i, sizeof t);
			x = t;
		} else {
			uint32_t t;

			memcpy(&t, p + 4 * (size_t)i, sizeof t);
			x = t;
		}
		if (x < min || x > max)
			return fail(cause, ENG_EFORMAT, "%s: element %" PRIu32
			    " is %" PRId64 ", outside %" PRIu32 "..%" PRIu32,
			    key, i, x, min, max);
		v[i] = (uint32_t)x;
	}
	return 0;
}

/*
 * Gemma 4, dense (golden README 8.7): sliding and global layers by a
 * per-layer pattern, each kind with its own head size, rotary dims and
 * rope base, KV heads per layer.  What the dense files do not use (per-
 * layer input embeddings, KV shared between layers, experts) is refused
 * by name rather than computed wrongly.  Allocates m->layers to hold the
 * per-layer shapes; bind_gemma4_layer checks the tensors against them.
 */
static int
load_gemma4(struct eng_model *m, char **cause)
{
	const struct gguf *g = m->g;
	const struct arch *a = m->arch;
	struct hparams *hp = &m->hp;
	uint32_t *swa = NULL, *nkv = NULL, kl, vl, ple, shared, nexp;
	int64_t idx;
	char key[96];
	int rc;

	if ((rc = get_u32(g, a, "embedding_length_per_layer_input", true, 0, 0,
	    MODEL_MAX_EMBD, &ple, cause)) ||
	    (rc = get_u32(g, a, "attention.shared_kv_layers", false, 0, 0,
	    hp->n_layer, &shared, cause)) ||
	    (rc = get_u32(g, a, "expert_count", false, 0, 0, 1u << 16, &nexp,
	    cause)))
		return rc;
	if (ple != 0)
		return fail(cause, ENG_EUNSUPPORTED, "gemma4: per-layer input "
		    "embeddings (embedding_length_per_layer_input %" PRIu32
		    ") are not supported", ple);
	if (shared != 0)
		return fail(cause, ENG_EUNSUPPORTED, "gemma4: layers sharing "
		    "another layer's KV cache (attention.shared_kv_layers %"
		    PRIu32 ") are not supported", shared);
	if (nexp != 0)
		return fail(cause, ENG_EUNSUPPORTED, "gemma4: mixture-of-"
		    "experts layers (expert_count %" PRIu32 ") are not "
		    "supported; the dense models are", nexp);
	{
		struct gguf_str st;

		if (gguf_get_str(g, akey(key, sizeof key, a,
		    "rope.scaling.type"), &st) == 0 && !str_is(&st, "none"))
			return fail(cause, ENG_EUNSUPPORTED, "gemma4: rope "
			    "scaling is not supported");
	}
	if ((rc = get_u32(g, a, "attention.sliding_window", true, 0, 1,
	    MODEL_MAX_CTX, &hp->n_swa, cause)) ||
	    (rc = get_u32(g, a, "attention.key_length_swa", false,
	    hp->head_dim, 2, MODEL_MAX_HEAD_DIM, &kl, cause)) ||
	    (rc = get_u32(g, a, "attention.value_length_swa", false, kl, 2,
	    MODEL_MAX_HEAD_DIM, &vl, cause)))
		return rc;
	if (kl != vl || kl % 2 != 0)
		return fail(cause, ENG_EUNSUPPORTED, "gemma4.attention."
		    "key_length_swa %" PRIu32 " and value_length_swa %" PRIu32
		    " must be equal and even", kl, vl);
	hp->head_dim_swa = kl;
	/* the sliding tables share the global ones' size: at most n_rot */
	if ((rc = get_u32(g, a, "rope.dimension_count_swa", false, hp->n_rot,
	    2, kl < hp->n_rot ? kl : hp->n_rot, &hp->n_rot_swa, cause)) ||
	    (rc = get_f32(g, a, "rope.freq_base_swa", hp->rope_base,
	    &hp->rope_base_swa, cause)))
		return rc;
	if (hp->n_rot_swa % 2 != 0)
		return fail(cause, ENG_EFORMAT, "gemma4.rope."
		    "dimension_count_swa %" PRIu32 " is odd", hp->n_rot_swa);
	/* 0 turns the soft-cap off, so get_f32 (> 0) does not fit */
	hp->softcap = GEMMA4_SOFTCAP;
	if ((idx = gguf_find(g, akey(key, sizeof key, a,
	    "final_logit_softcapping"))) >= 0 && (gguf_get_f32(g, key,
	    &hp->softcap) != 0 || !(hp->softcap >= 0) ||
	    hp->softcap > 1e30f))
		return fail(cause, ENG_EFORMAT, "%s: not a float from 0 (off) "
		    "up", key);
	if ((m->layers = calloc(hp->n_layer, sizeof *m->layers)) == NULL ||
	    (swa = calloc(hp->n_layer, sizeof *swa)) == NULL ||
	    (nkv = calloc(hp->n_layer, sizeof *nkv)) == NULL) {
		rc = fail(cause, ENG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = get_layer_u32(g, a, "attention.sliding_window_pattern",
	    hp->n_layer, false, 0, 1, swa, cause)) ||
	    (rc = get_layer_u32(g, a, "attention.head_count_kv", hp->n_layer,
	    true, 1, MODEL_MAX_HEADS, nkv, cause)))
		goto out;
	{
		uint32_t hd_max = hp->head_dim > kl ? hp->head_dim : kl;
		uint32_t kv_max = 0;

		for (uint32_t i = 0; i < hp->n_layer; i++) {
			struct layer *l = &m->layers[i];

			if (hp->n_head % nkv[i] != 0) {
				rc = fail(cause, ENG_EFORMAT, "gemma4.attention."
				    "head_count %" PRIu32 " is not a multiple "
				    "of head_count_kv %" PRIu32 " of layer %"
				    PRIu32, hp->n_head, nkv[i], i);
				goto out;
			}
			l->swa = swa[i] != 0;
			l->rope_set = l->swa;
			l->n_kv = nkv[i];
			l->hd = l->swa ? kl : hp->head_dim;
			kv_max = nkv[i] > kv_max ? nkv[i] : kv_max;
		}
		/* buffers are sized by the largest layer */
		hp->head_dim = hd_max;
		hp->n_head_kv = kv_max;
	}
	hp->emb_scale = sqrtf((float)hp->n_embd);
	hp->attn_scale = 1.0f;	/* the Q and K norms scale the scores */
	hp->gelu = true;
	rc = 0;
out:
	free(swa);
	free(nkv);
	return rc;
}

/* The switches of the families past llama/qwen: scales, windows, layer
 * patterns.  Defaults first, so llama, qwen2 and qwen3 keep theirs. */
static int
load_arch_hparams(struct eng_model *m, char **cause)
{
	const struct gguf *g = m->g;
	const struct arch *a = m->arch;
	struct hparams *hp = &m->hp;
	float f;
	int rc;

	hp->rope_mscale = 1.0f;
	hp->emb_scale = 1.0f;
	hp->resid_scale = 1.0f;
	hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
	hp->logit_mul = 1.0f;
	switch (a->id) {
	case ARCH_GEMMA3:
		if ((rc = get_u32(g, a, "attention.sliding_window", true, 0, 1,
		    MODEL_MAX_CTX, &hp->n_swa, cause)))
			return rc;
		hp->emb_scale = sqrtf((float)hp->n_embd);
		hp->gelu = true;
		break;
	case ARCH_PHI3:
		/* Phi-4-mini writes a window past any context; 0 is none */
		if ((rc = get_u32(g, a, "attention.sliding_window", false, 0, 0,
		    UINT32_MAX, &hp->n_swa, cause)))
			return rc;
		if (hp->n_embd % hp->n_head != 0 ||
		    hp->head_dim != hp->n_embd / hp->n_head)
			return fail(cause, ENG_EFORMAT, "phi3: head size %" PRIu32
			    " is not embedding_length / head_count", hp->head_dim);
		hp->fused_qkv = hp->fused_up = true;
		break;
	case ARCH_GRANITE:
		if ((rc = need_f32(g, a, "embedding_scale", &hp->emb_scale,
		    cause)) ||
		    (rc = need_f32(g, a, "residual_scale", &hp->resid_scale,
		    cause)) ||
		    (rc = need_f32(g, a, "attention.scale", &hp->attn_scale,
		    cause)) ||
		    (rc = need_f32(g, a, "logit_scale", &f, cause)))
			return rc;
		hp->logit_mul = 1.0f / f;
		break;
	case ARCH_MISTRAL3:
		if (hp->n_rot != hp->head_dim)
			return fail(cause, ENG_EUNSUPPORTED, "mistral3: partial "
			    "rotary (%" PRIu32 " of %" PRIu32 ") is not supported",
			    hp->n_rot, hp->head_dim);
		{
			char key[96];

			if (gguf_find(g, akey(key, sizeof key, a,
			    "attention.temperature_scale")) >= 0) {
				if ((rc = get_f32(g, a,
				    "attention.temperature_scale", 0,
				    &hp->temp_scale, cause)) ||
				    (rc = get_u32(g, a,
				    "rope.scaling.original_context_length",
				    true, 0, 1, MODEL_MAX_CTX, &hp->temp_len,
				    cause)))
					return rc;
			}
		}
		break;
	case ARCH_QWEN35:
		if ((rc = load_qwen35(m, cause)))
			return rc;
		break;
	case ARCH_GEMMA4:
		if ((rc = load_gemma4(m, cause)))
			return rc;
		break;
	default:
		break;
	}
	return 0;
}

static int
load_hparams(struct eng_model *m, char **cause)
{
	const struct gguf *g = m->g;
	const struct arch *a = m->arch;
	struct hparams *hp = &m->hp;
	uint32_t kl, vl;
	int64_t kvi = gguf_find(g, akey((char[96]){0}, 96, a,
	    "attention.head_count_kv"));
	/* gemma4 lists KV heads per layer: load_gemma4 reads the array */
	bool kv_arr = a->id == ARCH_GEMMA4 && kvi >= 0 &&
	    gguf_type(g, (uint64_t)kvi) == GGUF_ARR;
	int rc;

	if ((rc = get_u32(g, a, "embedding_length", true, 0, 1, MODEL_MAX_EMBD,
	    &hp->n_embd, cause)) ||
	    (rc = get_u32(g, a, "feed_forward_length", true, 0, 1, 1u << 20,
	    &hp->n_ff, cause)) ||
	    (rc = get_u32(g, a, "block_count", true, 0, 1, MODEL_MAX_LAYERS,
	    &hp->n_layer, cause)) ||
	    (rc = get_u32(g, a, "attention.head_count", true, 0, 1,
	    MODEL_MAX_HEADS, &hp->n_head, cause)) ||
	    (!kv_arr && (rc = get_u32(g, a, "attention.head_count_kv", false,
	    hp->n_head, 1, MODEL_MAX_HEADS, &hp->n_head_kv, cause))) ||
	    (rc = get_u32(g, a, "context_length", true, 0, 1, MODEL_MAX_CTX,
	    &hp->n_ctx_train, cause)))
		return rc;
	if (kv_arr)
		hp->n_head_kv = hp->n_head;	/* until load_gemma4 */
	if (hp->n_head % hp->n_head_kv != 0)
		return fail(cause, ENG_EFORMAT, "%s.attention.head_count %" PRIu32
		    " is not a multiple of head_count_kv %" PRIu32, a->name,
		    hp->n_head, hp->n_head_kv);
	if (hp->n_embd % hp->n_head != 0 &&
	    gguf_find(g, akey((char[96]){0}, 96, a, "attention.key_length")) < 0)
		return fail(cause, ENG_EFORMAT, "%s.embedding_length %" PRIu32
		    " is not a multiple of head_count %" PRIu32, a->name,
		    hp->n_embd, hp->n_head);
	if ((rc = get_u32(g, a, "attention.key_length", false,
	    hp->n_embd / hp->n_head, 2, MODEL_MAX_HEAD_DIM, &kl, cause)) ||
	    (rc = get_u32(g, a, "attention.value_length", false, kl, 2,
	    MODEL_MAX_HEAD_DIM, &vl, cause)))
		return rc;
	if (kl != vl || kl % 2 != 0)
		return fail(cause, ENG_EUNSUPPORTED, "%s.attention.key_length %"
		    PRIu32 " and value_length %" PRIu32 " must be equal and even",
		    a->name, kl, vl);
	hp->head_dim = kl;
	if ((rc = get_u32(g, a, "rope.dimension_count", false, kl, 2, kl,
	    &hp->n_rot, cause)))
		return rc;
	if (hp->n_rot % 2 != 0)
		return fail(cause, ENG_EFORMAT, "%s.rope.dimension_count %" PRIu32
		    " is odd", a->name, hp->n_rot);
	if ((rc = get_f32(g, a, "attention.layer_norm_rms_epsilon", a->rms_eps,
	    &hp->rms_eps, cause)) ||
	    (rc = get_f32(g, a, "rope.freq_base", 10000.0f, &hp->rope_base,
	    cause)))
		return rc;

	/* Rope scaling: none, or linear; llama3-style scaling comes as the
	 * rope_freqs tensor.  Others (yarn, longrope) change every angle, and
	 * guessing would give plausible but wrong text: refuse. */
	hp->rope_scale = 1.0f;
	{
		char key[96];
		struct gguf_str s;
		float f;

		akey(key, sizeof key, a, "rope.scaling.type");
		if (gguf_get_str(g, key, &s) == 0 && !(s.n == 4 &&
		    memcmp(s.p, "none", 4) == 0)) {
			bool yarn = str_is(&s, "yarn") && a->id == ARCH_MISTRAL3;

			if (!str_is(&s, "linear") && !yarn)
				return fail(cause, ENG_EUNSUPPORTED,
				    "%s: rope scaling \"%.*s\" is not supported "
				    "(none and linear are; yarn for mistral3)",
				    key, (int)(s.n > 32 ? 32 : s.n), s.p);
			if (get_f32(g, a, "rope.scaling.factor", 1.0f, &f, cause))
				return ENG_EFORMAT;
			hp->rope_scale = 1.0f / f;
		}
	}
	return load_arch_hparams(m, cause);
}

/* Bind one tensor, checking its type and shape: (ne0) or (ne0, ne1). */
static int
bind(struct eng_model *m, struct wt *w, const char *name, uint64_t ne0,
    uint64_t ne1, bool required, bool f32_only, char **cause)
{
	const struct gguf_tensor *t = gguf_tensor_find(m->g, name);
	const struct qtype_info *ti;

	memset(w, 0, sizeof *w);
	if (t == NULL) {
		if (required)
			return fail(cause, ENG_EFORMAT, "tensor '%s' is missing", name);
		return 0;
	}
	ti = quant_info(t->type);
	if (ti == NULL || !ti->supported)
		return fail(cause, ENG_EUNSUPPORTED, "tensor '%s' has type %s, "
		    "which triage cannot compute with (it supports F32 F16 BF16 "
		    "Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL "
		    "IQ4_XS MXFP4)", name,
		    ti ? ti->name : "unknown");
	if (f32_only && t->type != QT_F32)
		return fail(cause, ENG_EUNSUPPORTED, "tensor '%s' has type %s; "
		    "norms and biases must be F32", name, ti->name);
	if ((uint64_t)t->ne[0] != ne0 || (uint64_t)t->ne[1] != ne1 ||
	    t->ne[2] != 1 || t->ne[3] != 1)
		return fail(cause, ENG_EFORMAT, "tensor '%s' has shape (%" PRId64
		    ", %" PRId64 "%s), expected (%" PRIu64 ", %" PRIu64 ")", name,
		    t->ne[0], t->ne[1], t->ne[2] != 1 || t->ne[3] != 1 ? ", ..." : "",
		    ne0, ne1);
	w->data = t->data;
	w->type = t->type;
	w->ne0 = ne0;
	w->ne1 = ne1;
	w->row_bytes = ne1 ? t->nbytes / ne1 : 0;
	return 0;
}

/* A Qwen3.5 layer: gated DeltaNet, or gated attention. */
static int
bind_qwen35_layer(struct eng_model *m, uint32_t i, char **cause)
{
	struct hparams *hp = &m->hp;
	struct layer *l = &m->layers[i];
	uint64_t qd = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t kvd = (uint64_t)hp->n_head_kv * hp->head_dim;
	uint64_t vd = (uint64_t)hp->ssm_nv * hp->ssm_d;
	char name[GGUF_MAX_NAME];
	int rc;

#define B(field, suffix, n0, n1, f32) \
	snprintf(name, sizeof name, "blk.%" PRIu32 ".%s", i, suffix); \
	if ((rc = bind(m, &l->field, name, n0, n1, true, f32, cause))) \
		return rc;
	l->rec = (i + 1) % hp->rec_interval != 0;
	B(attn_norm, "attn_norm.weight", hp->n_embd, 1, true);
	/* the FFN's pre-norm is called post_attention_norm here */
	B(ffn_norm, "post_attention_norm.weight", hp->n_embd, 1, true);
	B(w_gate, "ffn_gate.weight", hp->n_embd, hp->n_ff, false);
	B(w_up, "ffn_up.weight", hp->n_embd, hp->n_ff, false);
	B(w_down, "ffn_down.weight", hp->n_ff, hp->n_embd, false);
	if (l->rec) {
		l->rec_idx = hp->n_rec++;
		B(wqkv, "attn_qkv.weight", hp->n_embd, hp->conv_ch, false);
		B(ssm_z, "attn_gate.weight", hp->n_embd, vd, false);
		B(ssm_beta, "ssm_beta.weight", hp->n_embd, hp->ssm_nv, false);
		B(ssm_alpha, "ssm_alpha.weight", hp->n_embd, hp->ssm_nv, false);
		B(ssm_conv, "ssm_conv1d.weight", hp->ssm_k, hp->conv_ch, true);
		B(ssm_dt, "ssm_dt.bias", hp->ssm_nv, 1, true);
		B(ssm_a, "ssm_a", hp->ssm_nv, 1, true);
		B(ssm_norm, "ssm_norm.weight", hp->ssm_d, 1, true);
		B(ssm_out, "ssm_out.weight", vd, hp->n_embd, false);
	} else {
		B(wq, "attn_q.weight", hp->n_embd, 2 * qd, false);
		B(wk, "attn_k.weight", hp->n_embd, kvd, false);
		B(wv, "attn_v.weight", hp->n_embd, kvd, false);
		B(q_norm, "attn_q_norm.weight", hp->head_dim, 1, true);
		B(k_norm, "attn_k_norm.weight", hp->head_dim, 1, true);
		B(wo, "attn_output.weight", qd, hp->n_embd, false);
	}
#undef B
	return 0;
}

/*
 * A Gemma 4 layer, shaped by its kind (load_gemma4): attn_v may be
 * absent (V is then the K projection), layer_output_scale too (1).
 */
static int
bind_gemma4_layer(struct eng_model *m, uint32_t i, char **cause)
{
	struct hparams *hp = &m->hp;
	struct layer *l = &m->layers[i];
	uint64_t qd = (uint64_t)hp->n_head * l->hd;
	uint64_t kvd = (uint64_t)l->n_kv * l->hd;
	char name[GGUF_MAX_NAME];
	struct wt os;
	int rc;

#define B(field, suffix, n0, n1, req, f32) \
	snprintf(name, sizeof name, "blk.%" PRIu32 ".%s", i, suffix); \
	if ((rc = bind(m, field, name, n0, n1, req, f32, cause))) \
		return rc;
	B(&l->attn_norm, "attn_norm.weight", hp->n_embd, 1, true, true);
	B(&l->wq, "attn_q.weight", hp->n_embd, qd, true, false);
	B(&l->wk, "attn_k.weight", hp->n_embd, kvd, true, false);
	B(&l->wv, "attn_v.weight", hp->n_embd, kvd, false, false);
	B(&l->q_norm, "attn_q_norm.weight", l->hd, 1, true, true);
	B(&l->k_norm, "attn_k_norm.weight", l->hd, 1, true, true);
	B(&l->wo, "attn_output.weight", qd, hp->n_embd, true, false);
	B(&l->post_attn_norm, "post_attention_norm.weight", hp->n_embd, 1,
	    true, true);
	B(&l->ffn_norm, "ffn_norm.weight", hp->n_embd, 1, true, true);
	B(&l->w_gate, "ffn_gate.weight", hp->n_embd, hp->n_ff, true, false);
	B(&l->w_up, "ffn_up.weight", hp->n_embd, hp->n_ff, true, false);
	B(&l->w_down, "ffn_down.weight", hp->n_ff, hp->n_embd, true, false);
	B(&l->post_ffw_norm, "post_ffw_norm.weight", hp->n_embd, 1, true,
	    true);
	B(&os, "layer_output_scale.weight", 1, 1, false, true);
#undef B
	l->out_scale = os.data != NULL ? *(const float *)os.data : 1.0f;
	if (!isfinite(l->out_scale) || fabsf(l->out_scale) > 1e30f)
		return fail(cause, ENG_EFORMAT, "tensor '%s' is not a finite "
		    "number", name);
	l->v_from_k = l->wv.data == NULL;
	l->v_norm = true;
	return 0;
}

static int
bind_tensors(struct eng_model *m, char **cause)
{
	const struct hparams *hp = &m->hp;
	uint64_t qd = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t kvd = (uint64_t)hp->n_head_kv * hp->head_dim;
	char name[GGUF_MAX_NAME];
	int rc;

	if ((rc = bind(m, &m->tok_embd, "token_embd.weight", hp->n_embd,
	    hp->n_vocab, true, false, cause)) ||
	    (rc = bind(m, &m->out_norm, "output_norm.weight", hp->n_embd, 1,
	    true, true, cause)) ||
	    (rc = bind(m, &m->output, "output.weight", hp->n_embd, hp->n_vocab,
	    false, false, cause)))
		return rc;
	if (m->output.data == NULL)	/* tied embeddings */
		m->output = m->tok_embd;
	{
		struct wt rf;

		if ((rc = bind(m, &rf, "rope_freqs.weight", hp->n_rot / 2, 1,
		    false, true, cause)))
			return rc;
		m->rope_freqs = rf.data;
		/* gemma4's global layers rotate only the pairs these let
		 * turn: without them every pair would */
		if (m->arch->id == ARCH_GEMMA4 && rf.data == NULL)
			return fail(cause, ENG_EFORMAT, "tensor "
			    "'rope_freqs.weight' is missing");
		for (uint32_t i = 0; m->rope_freqs && i < hp->n_rot / 2; i++)
			if (!(m->rope_freqs[i] > 0) || m->rope_freqs[i] > 1e30f)
				return fail(cause, ENG_EFORMAT, "tensor "
				    "'rope_freqs.weight': element %" PRIu32
				    " is not a positive number", i);
	}
	/* gemma4 has them from load_gemma4, with the per-layer shapes */
	if (m->layers == NULL &&
	    (m->layers = calloc(hp->n_layer, sizeof *m->layers)) == NULL)
		return fail(cause, ENG_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < hp->n_layer; i++) {
		struct layer *l = &m->layers[i];
		const struct arch *a = m->arch;

		if (a->id == ARCH_QWEN35) {
			if ((rc = bind_qwen35_layer(m, i, cause)))
				return rc;
			continue;
		}
		if (a->id == ARCH_GEMMA4) {
			if ((rc = bind_gemma4_layer(m, i, cause)))
				return rc;
			continue;
		}
#define B(field, suffix, n0, n1, req, f32) \
		snprintf(name, sizeof name, "blk.%" PRIu32 ".%s", i, suffix); \
		if ((rc = bind(m, &l->field, name, n0, n1, req, f32, cause))) \
			return rc;
		bool fq = hp->fused_qkv, fu = hp->fused_up;
		bool post = a->id == ARCH_GEMMA3;

		B(attn_norm, "attn_norm.weight", hp->n_embd, 1, true, true);
		B(wq, "attn_q.weight", hp->n_embd, qd, !fq, false);
		B(wk, "attn_k.weight", hp->n_embd, kvd, !fq, false);
		B(wv, "attn_v.weight", hp->n_embd, kvd, !fq, false);
		B(wqkv, "attn_qkv.weight", hp->n_embd, qd + 2 * kvd, fq, false);
		if (fq && l->wq.data != NULL)
			return fail(cause, ENG_EFORMAT, "blk.%" PRIu32 ": both "
			    "attn_qkv and attn_q are present", i);
		if (!fq && l->wqkv.data != NULL)
			return fail(cause, ENG_EUNSUPPORTED, "blk.%" PRIu32
			    ".attn_qkv.weight: a fused QKV is not supported "
			    "for %s", i, a->name);
		B(wo, "attn_output.weight", qd, hp->n_embd, true, false);
		B(bq, "attn_q.bias", qd, 1, a->qkv_bias, true);
		B(bk, "attn_k.bias", kvd, 1, a->qkv_bias, true);
		B(bv, "attn_v.bias", kvd, 1, a->qkv_bias, true);
		B(q_norm, "attn_q_norm.weight", hp->head_dim, 1, a->qk_norm, true);
		B(k_norm, "attn_k_norm.weight", hp->head_dim, 1, a->qk_norm, true);
		B(ffn_norm, "ffn_norm.weight", hp->n_embd, 1, true, true);
		B(w_gate, "ffn_gate.weight", hp->n_embd, hp->n_ff, !fu, false);
		B(w_up, "ffn_up.weight", hp->n_embd,
		    fu ? 2ull * hp->n_ff : hp->n_ff, true, false);
		B(w_down, "ffn_down.weight", hp->n_ff, hp->n_embd, true, false);
		B(post_attn_norm, "post_attention_norm.weight", hp->n_embd, 1,
		    post, true);
		B(post_ffw_norm, "post_ffw_norm.weight", hp->n_embd, 1, post,
		    true);
		if (!post && (l->post_attn_norm.data || l->post_ffw_norm.data))
			return fail(cause, ENG_EUNSUPPORTED, "blk.%" PRIu32
			    ": post-norms are not supported for %s", i, a->name);
		if (a->id == ARCH_GEMMA3)
			l->swa = (i + 1) % GEMMA3_PATTERN != 0;
		else if (a->id == ARCH_PHI3)
			l->swa = hp->n_swa != 0;
		l->rope_set = a->id == ARCH_GEMMA3 && l->swa;
		l->nope = a->id == ARCH_SMOLLM3 &&
		    (i + 1) % SMOLLM3_NOPE_STEP == 0;
#undef B
	}
	/* KV cache slots for the attention layers only, each as wide as
	 * its own KV heads (gemma4's layers differ) */
	for (uint32_t i = 0, n = 0; i < hp->n_layer; i++) {
		struct layer *l = &m->layers[i];

		if (m->arch->id != ARCH_GEMMA4) {
			l->hd = hp->head_dim;
			l->n_kv = hp->n_head_kv;
			l->out_scale = 1.0f;
		}
		if (l->rec)
			continue;
		l->kv_idx = n++;
		l->kv_base = m->hp.kv_sum;
		m->hp.kv_sum += (uint64_t)l->n_kv * l->hd;
	}
	return 0;
}

uint64_t
model_kv_bytes(const struct eng_model *m, uint32_t n_ctx)
{
	/* K and V, f16 or 8-bit (att.h), per attention layer and position
	 * (DeltaNet layers keep a fixed-size state instead,
	 * model_rec_floats) */
	const struct hparams *hp = &m->hp;
	uint64_t sum = hp->kv_sum;

	/* not bound (opened for the tokenizer): from the hparams */
	for (uint32_t i = 0; hp->kv_sum == 0 && i < hp->n_layer; i++)
		sum += m->arch->id == ARCH_GEMMA4 && m->layers != NULL ?
		    (uint64_t)m->layers[i].n_kv * m->layers[i].hd :
		    (uint64_t)hp->n_head_kv * hp->head_dim;
	return 2ull * att_kv_head_bytes(m->kv, n_ctx, (size_t)sum);
}

_Static_assert((int)ENG_KV_F16 == (int)ATT_KV_F16 &&
    (int)ENG_KV_Q8 == (int)ATT_KV_Q8,
    "one numbering of the cache formats");

int
eng_kv_parse(const char *s, enum eng_kv *kv)
{
	if (strcmp(s, "f16") == 0)
		*kv = ENG_KV_F16;
	else if (strcmp(s, "q8") == 0)
		*kv = ENG_KV_Q8;
	else
		return -1;
	return 0;
}

/* An 8-bit cache keeps a scale per 32 values of a head. */
static int
check_kv(const struct eng_model *m, char **cause)
{
	for (uint32_t i = 0; i < m->hp.n_layer; i++) {
		const struct layer *L = &m->layers[i];

		if (!L->rec && !att_kv_ok(m->kv, L->hd))
			return fail(cause, ENG_EUNSUPPORTED, "an 8-bit KV "
			    "cache needs head sizes that are multiples of "
			    "%d; layer %" PRIu32 " has %" PRIu32,
			    ATT_Q8_BLCK, i, L->hd);
	}
	return 0;
}

uint64_t
model_rec_floats(const struct eng_model *m)
{
	const struct hparams *hp = &m->hp;

	return (uint64_t)(hp->ssm_k - 1) * hp->conv_ch +
	    (uint64_t)hp->ssm_nv * hp->ssm_d * hp->ssm_d;
}

uint64_t
model_fused_width(const struct eng_model *m)
{
	const struct hparams *hp = &m->hp;
	uint64_t w = 0;

	/* qwen35: attention Q|gate; DeltaNet conv input, z, beta, alpha */
	if (hp->attn_gate)
		w = 2ull * hp->n_head * hp->head_dim;
	if (hp->n_rec > 0 && w < hp->conv_ch + (uint64_t)hp->ssm_nv *
	    (hp->ssm_d + 2))
		w = hp->conv_ch + (uint64_t)hp->ssm_nv * (hp->ssm_d + 2);

	if (hp->fused_qkv)
		w = (uint64_t)(hp->n_head + 2 * hp->n_head_kv) * hp->head_dim;
	if (hp->fused_up && w < 2ull * hp->n_ff)
		w = 2ull * hp->n_ff;
	return w;
}

uint64_t
model_scratch_bytes(const struct eng_model *m, uint32_t nb)
{
	const struct hparams *hp = &m->hp;
	uint64_t qd = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t kvd = (uint64_t)hp->n_head_kv * hp->head_dim;
	uint64_t widest = hp->n_ff > qd ? hp->n_ff : qd;
	uint64_t f = 0, threads = m->n_threads > 0 ? (uint64_t)m->n_threads : 1;

	if (widest < hp->n_embd)
		widest = hp->n_embd;
	f += 2ull * nb * hp->n_embd;		/* x, xb */
	f += (uint64_t)nb * (qd + 2 * kvd + qd);	/* q, k, v, attention out */
	f += 2ull * nb * hp->n_ff;		/* gate, up */
	f += (uint64_t)hp->n_vocab;		/* last logits */
	/* rope angles, per set */
	f += (uint64_t)nb * (hp->n_rot / 2 + 1) * 2 * MODEL_ROPE_SETS;
	f += (uint64_t)nb * model_fused_width(m);	/* fused outputs */
	/* hparams are bounded (MODEL_MAX_*) before this: no overflow */
	return f * 4 + kern_scratch_bytes((size_t)widest, nb) +
	    threads * kern_thread_bytes((size_t)widest, m->n_ctx,
	    hp->head_dim);
}

/* Name for general.file_type, as llama.cpp's llama_model_ftype_name. */
static const char *
ftype_name(uint32_t ft)
{
	static const char *names[] = {
		[0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1",
		[7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1", [10] = "Q2_K",
		[11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L",
		[14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S",
		[17] = "Q5_K_M", [18] = "Q6_K", [32] = "BF16",
	};
	if (ft < sizeof names / sizeof names[0] && names[ft] != NULL)
		return names[ft];
	return NULL;
}

static uint64_t
phys_mem(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || psz <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)psz;
}

static void
strlcpy_n(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i, j = 0;

	/* metadata is untrusted text: keep printable ASCII and UTF-8 bytes */
	for (i = 0; i < n && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[j] = '\0';
}

/* Append a feature to the list in buf, "; " apart. */
static void
feat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n > 0 && n + 2 < cap) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* What `model info` says about an architecture beyond its shape. */
static void
describe_features(const struct eng_model *m, char *buf, size_t cap)
{
	const struct hparams *hp = &m->hp;
	uint32_t nswa = 0;

	buf[0] = '\0';
	if (m->layers == NULL)
		return;
	for (uint32_t i = 0; i < hp->n_layer; i++)
		nswa += m->layers[i].swa;
	if (m->arch->id == ARCH_GEMMA3)
		feat(buf, cap, "sliding window %" PRIu32 " in %" PRIu32 " of %"
		    PRIu32 " layers (every %dth global, local rope base %g)",
		    hp->n_swa, nswa, hp->n_layer, GEMMA3_PATTERN,
		    GEMMA3_SWA_BASE);
	else if (m->arch->id == ARCH_GEMMA4) {
		uint32_t kv_v = 0, hd_g = 0, kv_lo = UINT32_MAX, kv_hi = 0;

		for (uint32_t i = 0; i < hp->n_layer; i++) {
			const struct layer *l = &m->layers[i];

			kv_v += l->v_from_k;
			hd_g = l->swa ? hd_g : l->hd;
			kv_lo = l->n_kv < kv_lo ? l->n_kv : kv_lo;
			kv_hi = l->n_kv > kv_hi ? l->n_kv : kv_hi;
		}
		feat(buf, cap, "sliding window %" PRIu32 " in %" PRIu32 " of %"
		    PRIu32 " layers (head %" PRIu32 ", rope %" PRIu32 " dims, "
		    "base %g)", hp->n_swa, nswa, hp->n_layer, hp->head_dim_swa,
		    hp->n_rot_swa, (double)hp->rope_base_swa);
		if (nswa < hp->n_layer)
			feat(buf, cap, "global layers: head %" PRIu32 ", rope %"
			    PRIu32 " dims, base %g, freq factors%s", hd_g,
			    hp->n_rot, (double)hp->rope_base, kv_v > 0 &&
			    !m->vocab_only ? ", K as V" : "");
		feat(buf, cap, "KV heads %" PRIu32 " to %" PRIu32 " per layer",
		    kv_lo, kv_hi);
		feat(buf, cap, "post-norms, V norm, layer scales, GELU, "
		    "embedding x%.4g", (double)hp->emb_scale);
		if (hp->softcap > 0)
			feat(buf, cap, "logit soft-cap %g",
			    (double)hp->softcap);
	} else if (nswa > 0)
		feat(buf, cap, "sliding window %" PRIu32 " (in all layers)",
		    hp->n_swa);
	if (hp->n_rec > 0)
		feat(buf, cap, "%" PRIu32 " recurrent gated-DeltaNet layers "
		    "and %" PRIu32 " gated attention layers (every %" PRIu32
		    "th); conv kernel %" PRIu32 ", state %" PRIu32 "x%" PRIu32
		    " per v head", hp->n_rec, hp->n_layer - hp->n_rec,
		    hp->rec_interval, hp->ssm_k, hp->ssm_d, hp->ssm_d);
	if (m->arch->id == ARCH_SMOLLM3)
		feat(buf, cap, "no RoPE in every %dth layer", SMOLLM3_NOPE_STEP);
	if (hp->n_rot < hp->head_dim && m->arch->id != ARCH_GEMMA4)
		feat(buf, cap, "partial rotary %" PRIu32 " of %" PRIu32,
		    hp->n_rot, hp->head_dim);
	if (hp->fused_qkv)
		feat(buf, cap, "fused QKV and gate|up");
	if (hp->rope_mscale != 1.0f)
		feat(buf, cap, "LongRoPE (attn factor %.4g)",
		    (double)hp->rope_mscale);
	if (m->arch->id == ARCH_MISTRAL3 && hp->rope_scale != 1.0f)
		feat(buf, cap, "YaRN x%g", 1.0 / hp->rope_scale);
	else if (hp->rope_scale != 1.0f)
		feat(buf, cap, "linear rope scaling x%g", 1.0 / hp->rope_scale);
	if (hp->temp_scale > 0)
		feat(buf, cap, "attention temperature %g", (double)hp->temp_scale);
	if (m->arch->id == ARCH_GEMMA3)
		feat(buf, cap, "pre+post norms, GELU(tanh), embedding x%.4g",
		    (double)hp->emb_scale);
	if (m->arch->id == ARCH_GRANITE)
		feat(buf, cap, "scales: embedding %g, residual %g, attention "
		    "%g, logits 1/%g", (double)hp->emb_scale,
		    (double)hp->resid_scale, (double)hp->attn_scale,
		    1.0 / hp->logit_mul);
}

static void
fill_info(struct eng_model *m)
{
	struct eng_info *in = &m->info;
	const struct gguf *g = m->g;
	struct gguf_str s;
	uint32_t ft;
	uint64_t best = 0;

	if (gguf_get_str(g, "general.architecture", &s) == 0)
		strlcpy_n(in->arch, sizeof in->arch, s.p, s.n);
	if (gguf_get_str(g, "general.name", &s) == 0)
		strlcpy_n(in->name, sizeof in->name, s.p, s.n);
	if (gguf_get_str(g, "general.license", &s) == 0)
		strlcpy_n(in->license, sizeof in->license, s.p, s.n);
	in->file_bytes = gguf_file_size(g);
	for (uint64_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);

		in->n_params += t->nelem;
		if (t->type < 40) {
			in->type_count[t->type]++;
			in->type_bytes[t->type] += t->nbytes;
		}
		in->mem_weights += t->nbytes;
	}
	if (gguf_get_u32(g, "general.file_type", &ft) == 0 && ftype_name(ft))
		snprintf(in->ftype, sizeof in->ftype, "%s", ftype_name(ft));
	else
		for (uint32_t t = 0; t < 40; t++)
			if (in->type_bytes[t] > best && quant_info(t)) {
				best = in->type_bytes[t];
				snprintf(in->ftype, sizeof in->ftype, "mostly %s",
				    quant_info(t)->name);
			}
	if (m->vocab != NULL) {
		in->n_vocab = vocab_size(m->vocab);
		snprintf(in->vocab_kind, sizeof in->vocab_kind, "%s",
		    vocab_kind(m->vocab) == VOCAB_SPM ? "SentencePiece" : "BPE");
		snprintf(in->vocab_pre, sizeof in->vocab_pre, "%s",
		    vocab_pre(m->vocab));
	}
	snprintf(in->chat_family, sizeof in->chat_family, "%s",
	    chat_family_name((enum chat_family)m->chat_family));
	if (m->arch != NULL) {
		in->n_layer = m->hp.n_layer;
		in->n_embd = m->hp.n_embd;
		in->n_ff = m->hp.n_ff;
		in->n_head = m->hp.n_head;
		in->n_head_kv = m->hp.n_head_kv;
		in->head_dim = m->hp.head_dim;
		in->n_ctx_train = m->hp.n_ctx_train;
		in->n_ctx = m->n_ctx;
		in->rope_base = m->hp.rope_base;
		in->mem_kv = model_kv_bytes(m, m->n_ctx);
		snprintf(in->kv, sizeof in->kv, "%s", m->kv == ENG_KV_Q8 ?
		    "q8" : "f16");
		in->mem_scratch = model_scratch_bytes(m, MODEL_CHUNK);
		in->mem_rec = 4ull * m->hp.n_rec * (m->hp.n_rec ?
		    model_rec_floats(m) : 0);
		in->n_rec_layers = m->hp.n_rec;
		in->n_att_layers = m->hp.n_layer - m->hp.n_rec;
		in->n_swa = m->hp.n_swa;
		for (uint32_t i = 0; m->layers != NULL && i < m->hp.n_layer; i++)
			in->n_swa_layers += m->layers[i].swa;
		describe_features(m, in->features, sizeof in->features);
	}
}

int
eng_model_open(const char *path, const struct eng_load_opts *opts,
    struct eng_model **out, char **cause)
{
	struct eng_load_opts o = { 0 };
	struct eng_model *m = NULL;
	struct gguf_str s;
	char *why = NULL;
	int rc;

	if (opts != NULL)
		o = *opts;
	if (cause != NULL)
		*cause = NULL;
	if ((m = calloc(1, sizeof *m)) == NULL || (m->path = strdup(path)) == NULL) {
		rc = fail(&why, ENG_ENOMEM, "out of memory");
		goto out;
	}
	if (gguf_open(path, NULL, &m->g, &why) != 0) {
		rc = errno == ENOMEM ? ENG_ENOMEM : ENG_EFORMAT;
		if (why == NULL)
			why = strdup("cannot read the file");
		goto out;
	}
	if ((rc = vocab_load(m->g, &m->vocab, &why)) != 0) {
		rc = ENG_EFORMAT;
		goto out;
	}
	{
		struct gguf_str t;
		char *tmpl = NULL;

		if (gguf_get_str(m->g, "tokenizer.chat_template", &t) == 0 &&
		    (tmpl = strndup(t.p, t.n)) == NULL) {
			rc = fail(&why, ENG_ENOMEM, "out of memory");
			goto out;
		}
		m->chat_family = chat_detect(tmpl);
		free(tmpl);
	}
	if (model_specials_build(m) != 0) {
		rc = fail(&why, ENG_ENOMEM, "out of memory");
		goto out;
	}
	if (gguf_get_str(m->g, "general.architecture", &s) != 0) {
		rc = fail(&why, ENG_EFORMAT, "missing metadata key general.architecture");
		goto out;
	}
	m->vocab_only = o.vocab_only;
	if ((m->arch = arch_find(s.p, s.n)) == NULL) {
		const char *why_not = NULL;

		if (o.vocab_only)
			goto info;	/* tokenizer only: any architecture */
		/* families people ask for, with what is missing */
		if (s.n == 6 && memcmp(s.p, "gemma2", 6) == 0)
			why_not = ": its attention soft-capping is not "
			    "implemented; Gemma 3 files work";
		rc = fail(&why, ENG_EUNSUPPORTED, "architecture \"%.*s\" is not "
		    "supported%s (" ARCH_NAMES " are)",
		    (int)(s.n > 32 ? 32 : s.n), s.p, why_not ? why_not : "");
		goto out;
	}
	if ((rc = load_hparams(m, &why)) != 0)
		goto out;
	m->hp.n_vocab = vocab_size(m->vocab);
	if (o.kv != ENG_KV_F16 && o.kv != ENG_KV_Q8) {
		rc = fail(&why, ENG_EINVAL, "unknown KV cache format %d",
		    (int)o.kv);
		goto out;
	}
	m->kv = (int)o.kv;
	m->n_ctx = o.n_ctx ? o.n_ctx : DEFAULT_CTX;
	if (m->n_ctx > m->hp.n_ctx_train)
		m->n_ctx = m->hp.n_ctx_train;
	m->n_threads = o.n_threads > 0 ? o.n_threads :
	    (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (m->n_threads < 1)
		m->n_threads = 1;
	if (!o.vocab_only && ((rc = bind_tensors(m, &why)) != 0 ||
	    (rc = check_kv(m, &why)) != 0 ||
	    (rc = rope_tables(m, &why)) != 0))
		goto out;
info:
	fill_info(m);
	if (!o.vocab_only && m->arch != NULL) {
		uint64_t limit = o.mem_limit ? o.mem_limit :
		    phys_mem() / 100 * MEM_LIMIT_PERCENT;
		uint64_t need = m->info.mem_weights + m->info.mem_kv +
		    m->info.mem_scratch + m->info.mem_rec;

		if (limit != 0 && need > limit) {
			rc = fail(&why, ENG_ETOOBIG, "needs %.1f MiB (weights %.1f, "
			    "KV cache %.1f at %" PRIu32 " tokens, scratch %.1f), "
			    "over the limit of %.1f MiB", need / 1048576.0,
			    m->info.mem_weights / 1048576.0,
			    m->info.mem_kv / 1048576.0, m->n_ctx,
			    m->info.mem_scratch / 1048576.0, limit / 1048576.0);
			goto out;
		}
	}
	*out = m;	/* transferred */
	m = NULL;
	rc = 0;
out:
	if (rc != 0 && cause != NULL) {
		/* one line naming the file and the problem */
		if (asprintf(cause, "%s: %s", path, why ? why : "error") < 0)
			*cause = NULL;
	}
	free(why);
	eng_model_free(m);
	return rc;
}

void
eng_model_free(struct eng_model *m)
{
	if (m == NULL)
		return;
	free(m->layers);
	for (int k = 0; k < MODEL_ROPE_SETS; k++)
		free(m->hp.inv_freq[k]);
	free(m->specials);
	vocab_free(m->vocab);
	gguf_free(m->g);
	free(m->path);
	free(m);
}

const struct eng_info *
eng_model_info(const struct eng_model *m)
{
	return &m->info;
}

const char *
eng_type_name(uint32_t type)
{
	const struct qtype_info *ti = quant_info(type);

	return ti ? ti->name : NULL;
}

void
eng_model_each_kv(const struct eng_model *m,
    void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	const struct gguf *g = m->g;
	char key[256], val[256];

	for (uint64_t i = 0; i < gguf_n_kv(g); i++) {
		struct gguf_str k = gguf_key(g, i);
		enum gguf_vtype t = gguf_type(g, i);
		double d;

		strlcpy_n(key, sizeof key, k.p, k.n);
		if (t == GGUF_STR) {
			struct gguf_str s;

			if (gguf_get_str(g, key, &s) != 0)
				continue;
			strlcpy_n(val, 81, s.p, s.n);
			if (s.n > 80)
				snprintf(val + 80, sizeof val - 80, "... (%" PRIu64
				    " bytes)", s.n);
		} else if (t == GGUF_ARR) {
			enum gguf_vtype et;
			uint64_t cnt;
			int64_t idx;

			if (gguf_get_arr(g, key, &et, &cnt, &idx) != 0)
				continue;
			snprintf(val, sizeof val, "[%s x %" PRIu64 "]",
			    gguf_vtype_name(et), cnt);
		} else if (gguf_scalar_f64(g, i, &d) == 0) {
			if (t == GGUF_F32 || t == GGUF_F64)
				snprintf(val, sizeof val, "%g", d);
			else if (t == GGUF_BOOL)
				snprintf(val, sizeof val, "%s", d != 0 ? "true" : "false");
			else
				snprintf(val, sizeof val, "%.0f", d);
		} else
			continue;
		fn(arg, key, val);
	}
}
