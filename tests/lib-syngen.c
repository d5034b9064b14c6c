/*
 * lib-syngen.c - synthetic GGUF models with deterministic weights, see
 * lib-syngen.h.
 *
 * Reproducibility rules followed below (the file must be byte-identical
 * on every machine for the same spec):
 *   - weights come from splitmix64, one stream per tensor seeded from the
 *     spec's seed and the tensor name, so adding a tensor never shifts
 *     another's values;
 *   - a normal is approximated by the sum of four 16-bit uniforms, an
 *     integer; converting it to float and scaling by a power of two is
 *     exact, and the remaining `* std` and `+ mean` are single IEEE
 *     operations written as separate statements (nothing to fuse);
 *   - rope_freqs needs exp/log: det_exp/det_log use + - * / only, so no
 *     libm with its machine-dependent last bit is involved;
 *   - the quantizers are the engine's reference ones, which promise the
 *     same bytes everywhere;
 *   - metadata and tensors are written in one fixed order.
 * Block layouts are host structs, so hosts must be little-endian (checked).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gguf.h"
#include "lib-ggufw.h"
#include "lib-syngen.h"
#include "quant.h"

#define SYN_QK_K		256	/* K-quant super-block */
#define SYN_SPM_FIXED		259	/* <unk> <s> </s> + 256 byte tokens */
#define SYN_DEFAULT_VOCAB	512
#define SYN_PIECE_MAX		64
#define SYN_DET_TERMS		40	/* series terms in det_exp/det_log */

/* llama.cpp token types */
enum {
	TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER = 4,
	TOK_UNUSED = 5, TOK_BYTE = 6,
};

/* llama_ftype values for general.file_type */
enum {
	FT_ALL_F32 = 0, FT_F16 = 1, FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7,
	FT_Q5_0 = 8, FT_Q5_1 = 9, FT_Q4_K_M = 15, FT_Q5_K_M = 17,
	FT_Q6_K = 18, FT_BF16 = 32,
};

/* What --type names: a base type for every 2-D weight, maybe a mix. */
struct syn_ftype {
	const char	*name;
	uint32_t	 base;
	uint32_t	 ftype;
	bool		 mix;		/* llama-quantize's _M rules */
};

static const struct syn_ftype syn_ftypes[] = {
	{ "F32",	QT_F32,		FT_ALL_F32,	false },
	{ "F16",	QT_F16,		FT_F16,		false },
	{ "BF16",	QT_BF16,	FT_BF16,	false },
	{ "Q8_0",	QT_Q8_0,	FT_Q8_0,	false },
	{ "Q4_0",	QT_Q4_0,	FT_Q4_0,	false },
	{ "Q4_1",	QT_Q4_1,	FT_Q4_1,	false },
	{ "Q5_0",	QT_Q5_0,	FT_Q5_0,	false },
	{ "Q5_1",	QT_Q5_1,	FT_Q5_1,	false },
	/* pure K files still say Q4_K_M / Q5_K_M, as llama-quantize writes */
	{ "Q4_K",	QT_Q4_K,	FT_Q4_K_M,	false },
	{ "Q5_K",	QT_Q5_K,	FT_Q5_K_M,	false },
	{ "Q6_K",	QT_Q6_K,	FT_Q6_K,	false },
	{ "Q4_K_M",	QT_Q4_K,	FT_Q4_K_M,	true },
	{ "Q5_K_M",	QT_Q5_K,	FT_Q5_K_M,	true },
};

const char *const syngen_presets[] = { "qwen3-0.6b", "llama-3.2-1b",
    "gemma-3-1b", "qwen3.5-0.8b", NULL };

/* ==== errors ============================================================== */

static int
fail(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL || *cause != NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
	return -1;
}

/* ==== deterministic numbers =============================================== */

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t	 z;

	*s += 0x9e3779b97f4a7c15ULL;
	z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
fnv1a64(const char *s)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * n values ~ mean + N(0, std^2), approximately: the sum of four 16-bit
 * uniforms has variance 4/12 in units of 2^16, so v below is centred with
 * standard deviation 1/sqrt(3) and v * (std * sqrt 3) has std `std`.  The
 * tails are cut at 2 sqrt(3) std, which suits synthetic weights.
 */
static void
gen_normal(uint64_t *state, float std, float mean, float *dst, size_t n)
{
	const float	 sqrt3 = 1.7320508f;
	float		 k, v, w;
	uint64_t	 r;
	int32_t		 sum;
	size_t		 i;

	k = std * sqrt3;
	for (i = 0; i < n; i++) {
		r = splitmix64(state);
		sum = (int32_t)(r & 0xffff) + (int32_t)((r >> 16) & 0xffff) +
		    (int32_t)((r >> 32) & 0xffff) + (int32_t)(r >> 48);
		/* exact: an integer below 2^18, times a power of two */
		v = (float)(sum - 2 * 65536) * (1.0f / 65536.0f);
		w = v * k;
		w = w + mean;
		dst[i] = w;
	}
}

#define DET_LN2		0.69314718055994530942
#define DET_SQRT2	1.41421356237309504880
#define DET_PI		3.14159265358979323846

/* ln x for finite x > 0, from + - * / only. */
static double
det_log(double x)
{
	double	 s, s2, term, sum, t;
	int	 e = 0, k;

	while (x >= DET_SQRT2) {
		x = x / 2;	/* exact */
		e++;
	}
	while (x < DET_SQRT2 / 2) {
		x = x * 2;
		e--;
	}
	/* ln x = 2 atanh((x-1)/(x+1)), |s| < 0.172 */
	s = (x - 1) / (x + 1);
	s2 = s * s;
	term = s;
	sum = 0;
	for (k = 1; k < 2 * SYN_DET_TERMS; k += 2) {
		t = term / k;
		sum = sum + t;
		term = term * s2;
	}
	sum = 2 * sum;
	t = e * DET_LN2;
	return sum + t;
}

/* e^y for moderate y, from + - * / only. */
static double
det_exp(double y)
{
	double	 n, r, t, term, sum;
	long	 k;
	int	 j;

	n = y / DET_LN2;
	k = (long)(n >= 0 ? n + 0.5 : n - 0.5);
	t = (double)k * DET_LN2;
	r = y - t;		/* |r| <= ln2/2 (+ rounding) */
	term = 1;
	sum = 1;
	for (j = 1; j < SYN_DET_TERMS; j++) {
		term = term * r;
		term = term / j;
		sum = sum + term;
	}
	for (; k > 0; k--)
		sum = sum * 2;
	for (; k < 0; k++)
		sum = sum / 2;
	return sum;
}

void
syngen_llama3_factors(float base, uint32_t n_rot, float factor, float low,
    float high, uint32_t orig_ctx, float *out)
{
	double	 lnb, x, p, wavelen, lo_wl, hi_wl, smooth, t;
	float	 freq;
	uint32_t i;

	lnb = det_log(base);
	lo_wl = (double)orig_ctx / low;
	hi_wl = (double)orig_ctx / high;
	for (i = 0; i < n_rot / 2; i++) {
		/* freq = 1 / base^(2i/d), a float32 as torch computes it */
		x = (double)(2 * i) / n_rot;
		x = x * lnb;
		p = det_exp(x);
		freq = (float)(1.0 / p);
		wavelen = 2 * DET_PI;
		wavelen = wavelen / freq;
		if (wavelen < hi_wl) {
			out[i] = 1.0f;
		} else if (wavelen > lo_wl) {
			out[i] = factor;
		} else {
			smooth = (double)orig_ctx / wavelen;
			smooth = smooth - low;
			smooth = smooth / ((double)high - low);
			t = (1 - smooth) / factor;
			t = t + smooth;
			out[i] = (float)(1 / t);
		}
	}
}

/* ==== spec ================================================================ */

void
syngen_defaults(struct syngen_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->arch = "llama";
	s->type = "F32";
	s->n_embd = 256;
	s->n_ff = 512;
	s->n_layer = 2;
	s->n_head = 4;
	s->n_head_kv = 2;
	s->head_dim = 64;
	s->n_ctx = 256;
	s->rf_factor = 32;
	s->rf_low = 1;
	s->rf_high = 4;
	s->rf_orig_ctx = 8192;
	s->seed = 1;
}

int
syngen_preset(struct syngen_spec *s, const char *name)
{
	if (strcmp(name, "qwen3-0.6b") == 0) {
		s->arch = "qwen3";
		s->n_embd = 1024;
		s->n_ff = 3072;
		s->n_layer = 28;
		s->n_head = 16;
		s->n_head_kv = 8;
		s->head_dim = 128;
		s->n_ctx = 40960;
		s->n_vocab = 151936;
		s->rope_base = 1000000.0f;
		s->rms_eps = 1e-6f;
		s->rope_freqs = false;
		s->tied = true;
		return 0;
	}
	if (strcmp(name, "llama-3.2-1b") == 0) {
		s->arch = "llama";
		s->n_embd = 2048;
		s->n_ff = 8192;
		s->n_layer = 16;
		s->n_head = 32;
		s->n_head_kv = 8;
		s->head_dim = 64;
		s->n_ctx = 131072;
		s->n_vocab = 128256;
		s->rope_base = 500000.0f;
		s->rms_eps = 1e-5f;
		s->rope_freqs = true;
		s->rf_factor = 32;
		s->rf_low = 1;
		s->rf_high = 4;
		s->rf_orig_ctx = 8192;
		s->tied = true;
		return 0;
	}
	/* google/gemma-3-1b-it config.json (text only, no rope scaling) */
	if (strcmp(name, "gemma-3-1b") == 0) {
		s->arch = "gemma3";
		s->n_embd = 1152;
		s->n_ff = 6912;
		s->n_layer = 26;
		s->n_head = 4;
		s->n_head_kv = 1;
		s->head_dim = 256;
		s->n_swa = 512;
		s->n_ctx = 32768;
		s->n_vocab = 262144;
		s->rope_base = 1000000.0f;	/* global layers */
		s->rms_eps = 1e-6f;
		s->rope_freqs = false;
		s->tied = true;
		return 0;
	}
	/*
	 * Qwen3.5-0.8B's text model: 24 layers of 1024, 8:2 heads of 256
	 * with a quarter rotary, one attention layer in four; the DeltaNet
	 * head counts and n_ff are those of the published 0.8B-derived
	 * configs (see tests/engine-bench.sh).
	 */
	if (strcmp(name, "qwen3.5-0.8b") == 0) {
		s->arch = "qwen35";
		s->n_embd = 1024;
		s->n_ff = 3584;
		s->n_layer = 24;
		s->n_head = 8;
		s->n_head_kv = 2;
		s->head_dim = 256;
		s->n_rot = 64;
		s->n_ctx = 262144;
		s->n_vocab = 248320;
		s->rope_base = 10000000.0f;
		s->rms_eps = 1e-6f;
		s->rope_freqs = false;
		s->tied = true;
		s->rec_interval = 4;
		s->ssm_k = 4;
		s->ssm_d = 128;
		s->ssm_nk = 16;
		s->ssm_nv = 16;
		s->rope_sections[0] = 11;
		s->rope_sections[1] = 11;
		s->rope_sections[2] = 10;
		s->rope_sections[3] = 0;
		return 0;
	}
	return -1;
}

static const struct syn_ftype *
find_ftype(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(syn_ftypes) / sizeof(syn_ftypes[0]); i++)
		if (strcasecmp(syn_ftypes[i].name, name) == 0)
			return &syn_ftypes[i];
	return NULL;
}

static bool
is_qwen(const char *arch)
{
	return strcmp(arch, "qwen2") == 0 || strcmp(arch, "qwen3") == 0 ||
	    strcmp(arch, "qwen35") == 0;
}

static bool
is_arch(const struct syngen_spec *s, const char *arch)
{
	return strcmp(s->arch, arch) == 0;
}

static uint32_t
spec_head_dim(const struct syngen_spec *s)
{
	return s->head_dim != 0 ? s->head_dim : s->n_embd / s->n_head;
}

/* ==== tensor types ======================================================== */

/* llama-quantize: the layers whose attn_v / ffn_down get more bits. */
static bool
use_more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* Layer of "blk.N.*", or -1. */
static int
layer_of(const char *name)
{
	long	 v;
	char	*end;

	if (strncmp(name, "blk.", 4) != 0)
		return -1;
	errno = 0;
	v = strtol(name + 4, &end, 10);
	if (errno != 0 || end == name + 4 || *end != '.' || v < 0 ||
	    v > SYNGEN_MAX_LAYER)
		return -1;
	return (int)v;
}

static bool
fits(uint32_t type, uint64_t ne0)
{
	const struct qtype_info *ti = quant_info(type);

	return ti != NULL && ne0 % ti->blck == 0;
}

int
syngen_tensor_type(const struct syngen_spec *s, const char *name, uint64_t ne0)
{
	const struct syn_ftype	*ft = find_ftype(s->type);
	uint32_t		 t;
	int			 il;

	if (ft == NULL)
		return -1;
	t = ft->base;
	if (ft->mix) {
		il = layer_of(name);
		if (strcmp(name, "output.weight") == 0 ||
		    (s->tied && strcmp(name, "token_embd.weight") == 0)) {
			/* the output (or the tied embedding standing in) */
			t = ne0 % SYN_QK_K != 0 ? QT_Q8_0 : QT_Q6_K;
		} else if (strstr(name, "attn_v.weight") != NULL && il >= 0) {
			if (use_more_bits(il, (int)s->n_layer))
				t = QT_Q6_K;
			else if (s->n_head_kv != 0 &&
			    s->n_head / s->n_head_kv >= 4)
				/* GQA: a small attn_v; ik_llama.cpp bumps it */
				t = t == QT_Q4_K ? QT_Q5_K : QT_Q6_K;
		} else if (strstr(name, "ffn_down") != NULL && il >= 0) {
			if (use_more_bits(il, (int)s->n_layer))
				t = QT_Q6_K;
		}
	}
	if (!fits(t, ne0)) {
		/* llama-quantize's fallbacks for rows that are not 256-wide */
		switch (t) {
		case QT_Q4_K: t = QT_Q5_0; break;
		case QT_Q5_K: t = QT_Q5_1; break;
		case QT_Q6_K: t = QT_Q8_0; break;
		default: return -1;
		}
		if (!fits(t, ne0))
			t = QT_F16;
	}
	return (int)t;
}

/* ==== the tensor list ===================================================== */

enum syn_init {
	INIT_NORMAL = 1,	/* mean + N(0, std^2), mean 0 but for ssm_a */
	INIT_NORM,		/* 1 + N(0, std^2) */
	INIT_ROPE_FREQS,	/* computed Llama 3 factors */
};

struct syn_tensor {
	char		 name[GGUF_MAX_NAME];
	uint32_t	 n_dims;
	int64_t		 ne[2];
	uint32_t	 type;
	enum syn_init	 init;
	float		 std, mean;
};

struct syn_list {
	struct syn_tensor	*t;
	size_t			 n, cap;
};

/* std of the golden README's init, by tensor role */
#define STD_EMBD	0.1f
#define STD_ATTN	0.06f
#define STD_DOWN	0.04f
#define STD_NORM	0.05f
#define STD_QKNORM	0.1f
#define STD_BIAS	0.1f

static int
add(struct syn_list *l, const struct syngen_spec *s, const char *name,
    uint32_t n_dims, int64_t ne0, int64_t ne1, enum syn_init init, float std,
    char **cause)
{
	struct syn_tensor	*t, *nt;
	size_t			 ncap;
	int			 type;

	if (l->n == l->cap) {
		ncap = l->cap != 0 ? 2 * l->cap : 64;
		if ((nt = realloc(l->t, ncap * sizeof(*nt))) == NULL)
			return fail(cause, "out of memory");
		l->t = nt;
		l->cap = ncap;
	}
	if (n_dims == 1 || strstr(name, "ssm_conv1d") != NULL) {
		/* 1-D tensors are never quantized, nor the DeltaNet conv */
		type = QT_F32;
	} else if ((type = syngen_tensor_type(s, name, (uint64_t)ne0)) < 0) {
		return fail(cause, "tensor %s: rows of %lld values do not fit "
		    "type %s", name, (long long)ne0, s->type);
	}
	t = &l->t[l->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->n_dims = n_dims;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->type = (uint32_t)type;
	t->init = init;
	t->std = std;
	return 0;
}

/* A Qwen3.5 layer, in llama.cpp's order: gated DeltaNet or attention. */
static int
qwen35_layer(struct syn_list *l, const struct syngen_spec *s, uint32_t il,
    int64_t q, int64_t kv, int64_t vd, int64_t conv, char **cause)
{
	char		 nm[GGUF_MAX_NAME];
	int64_t		 e = s->n_embd, f = s->n_ff, hd = spec_head_dim(s);
	int		 rc = 0;

#define T2(n, a, b, std)	add(l, s, n, 2, a, b, INIT_NORMAL, std, cause)
#define NORM(n, a, std)	add(l, s, n, 1, a, 1, INIT_NORM, std, cause)
#define BLK(suffix)	(snprintf(nm, sizeof(nm), "blk.%u." suffix, il), nm)
	rc |= NORM(BLK("attn_norm.weight"), e, STD_NORM);
	if ((il + 1) % s->rec_interval != 0) {
		rc |= T2(BLK("attn_qkv.weight"), e, conv, STD_ATTN);
		rc |= T2(BLK("attn_gate.weight"), e, vd, STD_ATTN);
		rc |= T2(BLK("ssm_beta.weight"), e, s->ssm_nv, STD_ATTN);
		rc |= T2(BLK("ssm_alpha.weight"), e, s->ssm_nv, STD_ATTN);
		rc |= add(l, s, BLK("ssm_conv1d.weight"), 2, s->ssm_k, conv,
		    INIT_NORMAL, 0.5f, cause);
		rc |= add(l, s, BLK("ssm_dt.bias"), 1, s->ssm_nv, 1,
		    INIT_NORMAL, 0.5f, cause);
		/* decay rates: negative, about -0.5 */
		rc |= add(l, s, BLK("ssm_a"), 1, s->ssm_nv, 1, INIT_NORMAL,
		    0.1f, cause);
		if (rc == 0)
			l->t[l->n - 1].mean = -0.5f;
		rc |= NORM(BLK("ssm_norm.weight"), s->ssm_d, STD_NORM);
		rc |= T2(BLK("ssm_out.weight"), vd, e, STD_ATTN);
	} else {
		/* per head, the query rows then the output gate's */
		rc |= T2(BLK("attn_q.weight"), e, 2 * q, STD_ATTN);
		rc |= T2(BLK("attn_k.weight"), e, kv, STD_ATTN);
		rc |= T2(BLK("attn_v.weight"), e, kv, STD_ATTN);
		rc |= NORM(BLK("attn_q_norm.weight"), hd, STD_QKNORM);
		rc |= NORM(BLK("attn_k_norm.weight"), hd, STD_QKNORM);
		rc |= T2(BLK("attn_output.weight"), q, e, STD_ATTN);
	}
	/* the FFN's pre-norm has this name in qwen35 */
	rc |= NORM(BLK("post_attention_norm.weight"), e, STD_NORM);
	rc |= T2(BLK("ffn_gate.weight"), e, f, STD_ATTN);
	rc |= T2(BLK("ffn_up.weight"), e, f, STD_ATTN);
	rc |= T2(BLK("ffn_down.weight"), f, e, STD_DOWN);
#undef T2
#undef NORM
#undef BLK
	return rc != 0 ? -1 : 0;
}

static int
build_list(const struct syngen_spec *s, uint32_t n_vocab, struct syn_list *l,
    char **cause)
{
	char		 nm[GGUF_MAX_NAME];
	int64_t		 e = s->n_embd, f = s->n_ff, hd = spec_head_dim(s);
	int64_t		 q = hd * s->n_head, kv = hd * s->n_head_kv;
	int64_t		 vd = (int64_t)s->ssm_nv * s->ssm_d;
	int64_t		 conv = 2 * (int64_t)s->ssm_nk * s->ssm_d + vd;
	uint32_t	 il;
	int		 rc = 0;
	bool		 gemma = is_arch(s, "gemma3"), q35 = is_arch(s, "qwen35");

#define T2(n, a, b, std)	add(l, s, n, 2, a, b, INIT_NORMAL, std, cause)
#define NORM(n, a, std)	add(l, s, n, 1, a, 1, INIT_NORM, std, cause)
#define BIAS(n, a)	add(l, s, n, 1, a, 1, INIT_NORMAL, STD_BIAS, cause)
#define BLK(suffix)	(snprintf(nm, sizeof(nm), "blk.%u." suffix, il), nm)

	rc |= T2("token_embd.weight", e, n_vocab, STD_EMBD);
	rc |= NORM("output_norm.weight", e, STD_NORM);
	if (!s->tied)
		rc |= T2("output.weight", e, n_vocab, STD_EMBD);
	if (s->rope_freqs)
		rc |= add(l, s, "rope_freqs.weight", 1, hd / 2, 1,
		    INIT_ROPE_FREQS, 0, cause);
	for (il = 0; il < s->n_layer && rc == 0; il++) {
		if (q35) {
			rc |= qwen35_layer(l, s, il, q, kv, vd, conv, cause);
			continue;
		}
		rc |= NORM(BLK("attn_norm.weight"), e, STD_NORM);
		rc |= T2(BLK("attn_q.weight"), e, q, STD_ATTN);
		rc |= T2(BLK("attn_k.weight"), e, kv, STD_ATTN);
		rc |= T2(BLK("attn_v.weight"), e, kv, STD_ATTN);
		if (strcmp(s->arch, "qwen2") == 0) {
			rc |= BIAS(BLK("attn_q.bias"), q);
			rc |= BIAS(BLK("attn_k.bias"), kv);
			rc |= BIAS(BLK("attn_v.bias"), kv);
		}
		if (strcmp(s->arch, "qwen3") == 0 || gemma) {
			rc |= NORM(BLK("attn_q_norm.weight"), hd, STD_QKNORM);
			rc |= NORM(BLK("attn_k_norm.weight"), hd, STD_QKNORM);
		}
		rc |= T2(BLK("attn_output.weight"), q, e, STD_ATTN);
		if (gemma)
			rc |= NORM(BLK("post_attention_norm.weight"), e,
			    STD_NORM);
		rc |= NORM(BLK("ffn_norm.weight"), e, STD_NORM);
		rc |= T2(BLK("ffn_gate.weight"), e, f, STD_ATTN);
		rc |= T2(BLK("ffn_up.weight"), e, f, STD_ATTN);
		rc |= T2(BLK("ffn_down.weight"), f, e, STD_DOWN);
		if (gemma)
			rc |= NORM(BLK("post_ffw_norm.weight"), e, STD_NORM);
	}
#undef T2
#undef NORM
#undef BIAS
#undef BLK
	return rc != 0 ? -1 : 0;
}

/* ==== vocabularies ======================================================== */

/* Copy every tokenizer.* key of a GGUF, in its order.  *n_vocab: tokens. */
static int
vocab_copy(struct ggufw *w, const char *path, uint32_t *n_vocab, char **cause)
{
	static const char prefix[] = "tokenizer.";
	struct gguf	*g = NULL;
	struct gguf_str	 k;
	enum gguf_vtype	 elem;
	uint64_t	 i, count;
	int64_t		 idx;
	char		*err = NULL;
	int		 rc = -1;

	if (gguf_open(path, NULL, &g, &err) != 0) {
		fail(cause, "%s", err != NULL ? err : path);
		goto out;
	}
	if (gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &count, &idx)
	    != 0 || elem != GGUF_STR || count == 0 ||
	    count > SYNGEN_MAX_VOCAB) {
		fail(cause, "%s: no usable tokenizer.ggml.tokens array", path);
		goto out;
	}
	for (i = 0; i < gguf_n_kv(g); i++) {
		k = gguf_key(g, i);
		if (k.n < sizeof(prefix) - 1 ||
		    memcmp(k.p, prefix, sizeof(prefix) - 1) != 0)
			continue;
		if (ggufw_kv_copy(w, g, i) != 0)
			goto out;	/* the writer holds the cause */
	}
	*n_vocab = (uint32_t)count;
	rc = 0;
out:
	free(err);
	gguf_free(g);
	return rc;
}

/*
 * A SentencePiece-style vocab: <unk> <s> </s>, the 256 byte tokens, then
 * made-up pieces "▁a", "▁b", ... "▁aa", ... with descending scores.
 */
static void
synth_piece(uint32_t i, char *buf, size_t cap)
{
	char		 rev[16];
	size_t		 n = 0, o;
	uint32_t	 k;

	if (i == 0) {
		snprintf(buf, cap, "<unk>");
		return;
	}
	if (i == 1 || i == 2) {
		snprintf(buf, cap, i == 1 ? "<s>" : "</s>");
		return;
	}
	if (i < SYN_SPM_FIXED) {
		snprintf(buf, cap, "<0x%02X>", i - 3);
		return;
	}
	/* bijective base 26 of the index: a..z, aa.. */
	k = i - SYN_SPM_FIXED + 1;
	while (k > 0 && n < sizeof(rev)) {
		k--;
		rev[n++] = (char)('a' + k % 26);
		k /= 26;
	}
	o = (size_t)snprintf(buf, cap, "\xe2\x96\x81");	/* U+2581 */
	while (n > 0 && o + 1 < cap)
		buf[o++] = rev[--n];
	buf[o] = '\0';
}

static int
vocab_synth(struct ggufw *w, uint32_t n, char **cause)
{
	char		 piece[SYN_PIECE_MAX];
	float		*scores = NULL;
	int32_t		*types = NULL;
	uint32_t	 i;
	int		 rc = -1;

	if (n <= SYN_SPM_FIXED)
		return fail(cause, "a synthetic vocabulary needs more than %d "
		    "tokens, not %u", SYN_SPM_FIXED, n);
	if ((scores = calloc(n, sizeof(*scores))) == NULL ||
	    (types = calloc(n, sizeof(*types))) == NULL) {
		fail(cause, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		types[i] = i == 0 ? TOK_UNKNOWN : i < 3 ? TOK_CONTROL :
		    i < SYN_SPM_FIXED ? TOK_BYTE : TOK_NORMAL;
		scores[i] = i < SYN_SPM_FIXED ? 0.0f :
		    -(float)(i - SYN_SPM_FIXED);	/* exact below 2^24 */
	}
	ggufw_kv_str(w, "tokenizer.ggml.model", "llama", 5);
	ggufw_kv_arr_str(w, "tokenizer.ggml.tokens", n);
	for (i = 0; i < n; i++) {
		synth_piece(i, piece, sizeof(piece));
		ggufw_arr_str(w, piece, strlen(piece));
	}
	ggufw_kv_arr(w, "tokenizer.ggml.scores", GGUF_F32, scores, n);
	ggufw_kv_arr(w, "tokenizer.ggml.token_type", GGUF_I32, types, n);
	ggufw_kv_u32(w, "tokenizer.ggml.unknown_token_id", 0);
	ggufw_kv_u32(w, "tokenizer.ggml.bos_token_id", 1);
	ggufw_kv_u32(w, "tokenizer.ggml.eos_token_id", 2);
	ggufw_kv_bool(w, "tokenizer.ggml.add_bos_token", true);
	ggufw_kv_bool(w, "tokenizer.ggml.add_eos_token", false);
	rc = 0;	/* write errors are sticky in w */
out:
	free(scores);
	free(types);
	return rc;
}

/* ---- HF tokenizer.json (byte-level BPE) ---------------------------------- */

struct hf_vocab {
	const char	**tok;		/* [n] borrowed from the json */
	size_t		 *len;
	int32_t		 *type;
	uint32_t	  n;
};

/* convert_hf_to_gguf.py's does_token_look_special, the common cases */
static bool
looks_special(const char *s, size_t n)
{
	/* deepseek-coder's full-width bars */
	static const char fw_open[] = "<\xef\xbd\x9c";
	static const char fw_close[] = "\xef\xbd\x9c>";

	if ((n == 5 && memcmp(s, "<pad>", 5) == 0) ||
	    (n == 6 && memcmp(s, "<mask>", 6) == 0))
		return true;
	if (n >= 4 && memcmp(s, "<|", 2) == 0 &&
	    memcmp(s + n - 2, "|>", 2) == 0)
		return true;
	return n >= 8 && memcmp(s, fw_open, 4) == 0 &&
	    memcmp(s + n - 4, fw_close, 4) == 0;
}

static json_t *
load_json(const char *path, char **cause)
{
	json_error_t	 jerr;
	json_t		*j;

	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		fail(cause, "%s:%d: %s", path, jerr.line, jerr.text);
	else if (!json_is_object(j)) {
		fail(cause, "%s: not a JSON object", path);
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The id of special token `which` of tokenizer_config.json, or -1. */
static int
config_token(json_t *cfg, const char *which, const struct hf_vocab *v,
    const char *path, int64_t *id, char **cause)
{
	json_t		*t = json_object_get(cfg, which);
	const char	*s;
	size_t		 n;
	uint32_t	 i;

	*id = -1;
	if (t == NULL || json_is_null(t))
		return 0;
	if (json_is_object(t))
		t = json_object_get(t, "content");
	if (!json_is_string(t))
		return fail(cause, "%s: %s is not a string", path, which);
	s = json_string_value(t);
	n = json_string_length(t);
	for (i = 0; i < v->n; i++) {
		if (v->tok[i] != NULL && v->len[i] == n &&
		    memcmp(v->tok[i], s, n) == 0) {
			*id = i;
			return 0;
		}
	}
	return fail(cause, "%s: %s '%s' is not in the vocabulary", path, which,
	    s);
}

static int
hf_put_raw(struct hf_vocab *v, int64_t id, const char *p, size_t n,
    int32_t type, bool replace, const char *path, char **cause)
{
	if (id < 0 || id >= v->n)
		return fail(cause, "%s: token id %lld out of range", path,
		    (long long)id);
	if (v->tok[id] != NULL && !replace)
		return fail(cause, "%s: token id %lld used twice", path,
		    (long long)id);
	v->tok[id] = p;
	v->len[id] = n;
	v->type[id] = type;
	return 0;
}

static int
vocab_hf(struct ggufw *w, const struct syngen_spec *s, uint32_t *n_vocab,
    char **cause)
{
	struct hf_vocab	 v = { NULL, NULL, NULL, 0 };
	json_t		*tj = NULL, *cfg = NULL;
	json_t		*model, *vocab, *merges, *added;
	json_t		*val, *m, *content, *tmpl, *b;
	const char	*key, *pre, *mt;
	char		 pad[32], *merge = NULL;
	size_t		 i, mlen, l0, l1;
	int64_t		 maxid = -1, id, bos, eos, unk, padid;
	int32_t		 type;
	int		 rc = -1;

	if ((tj = load_json(s->tok_json, cause)) == NULL)
		goto out;
	if (s->tok_config != NULL &&
	    (cfg = load_json(s->tok_config, cause)) == NULL)
		goto out;
	model = json_object_get(tj, "model");
	vocab = json_object_get(model, "vocab");
	merges = json_object_get(model, "merges");
	added = json_object_get(tj, "added_tokens");
	mt = json_string_value(json_object_get(model, "type"));
	if (!json_is_object(vocab) || !json_is_array(merges) ||
	    (mt != NULL && strcmp(mt, "BPE") != 0)) {
		fail(cause, "%s: not a BPE tokenizer (model.vocab object and "
		    "model.merges array needed)", s->tok_json);
		goto out;
	}
	if (added != NULL && !json_is_array(added)) {
		fail(cause, "%s: added_tokens is not an array", s->tok_json);
		goto out;
	}
	/* ids must be small non-negative integers */
	json_object_foreach(vocab, key, val) {
		if (!json_is_integer(val) || json_integer_value(val) < 0 ||
		    json_integer_value(val) >= SYNGEN_MAX_VOCAB) {
			fail(cause, "%s: token '%s' has a bad id", s->tok_json,
			    key);
			goto out;
		}
		if (json_integer_value(val) > maxid)
			maxid = json_integer_value(val);
	}
	json_array_foreach(added, i, val) {
		id = json_integer_value(json_object_get(val, "id"));
		if (!json_is_integer(json_object_get(val, "id")) || id < 0 ||
		    id >= SYNGEN_MAX_VOCAB ||
		    !json_is_string(json_object_get(val, "content"))) {
			fail(cause, "%s: added_tokens[%zu] needs an id and a "
			    "content", s->tok_json, i);
			goto out;
		}
		if (id > maxid)
			maxid = id;
	}
	if (maxid < 0) {
		fail(cause, "%s: empty vocabulary", s->tok_json);
		goto out;
	}
	v.n = s->n_vocab != 0 ? s->n_vocab : (uint32_t)maxid + 1;
	if (v.n < (uint64_t)maxid + 1) {
		fail(cause, "%s: token id %lld does not fit --n-vocab %u",
		    s->tok_json, (long long)maxid, s->n_vocab);
		goto out;
	}
	if ((v.tok = calloc(v.n, sizeof(*v.tok))) == NULL ||
	    (v.len = calloc(v.n, sizeof(*v.len))) == NULL ||
	    (v.type = calloc(v.n, sizeof(*v.type))) == NULL) {
		fail(cause, "out of memory");
		goto out;
	}
	/* the object keys are the tokens, owned by the document */
	json_object_foreach(vocab, key, val) {
		if (hf_put_raw(&v, json_integer_value(val), key, strlen(key),
		    TOK_NORMAL, false, s->tok_json, cause) != 0)
			goto out;
	}
	json_array_foreach(added, i, val) {
		content = json_object_get(val, "content");
		b = json_object_get(val, "special");
		type = json_is_true(b) ||
		    looks_special(json_string_value(content),
		    json_string_length(content)) ? TOK_CONTROL : TOK_USER;
		if (hf_put_raw(&v, json_integer_value(json_object_get(val,
		    "id")), json_string_value(content),
		    json_string_length(content), type, true, s->tok_json,
		    cause) != 0)
			goto out;
	}
	bos = eos = unk = padid = -1;
	if (cfg != NULL &&
	    (config_token(cfg, "bos_token", &v, s->tok_config, &bos,
	    cause) != 0 ||
	    config_token(cfg, "eos_token", &v, s->tok_config, &eos,
	    cause) != 0 ||
	    config_token(cfg, "unk_token", &v, s->tok_config, &unk,
	    cause) != 0 ||
	    config_token(cfg, "pad_token", &v, s->tok_config, &padid,
	    cause) != 0))
		goto out;

	pre = s->tok_pre != NULL ? s->tok_pre :
	    is_qwen(s->arch) ? "qwen2" : "llama-bpe";
	ggufw_kv_str(w, "tokenizer.ggml.model", "gpt2", 4);
	ggufw_kv_str(w, "tokenizer.ggml.pre", pre, strlen(pre));
	ggufw_kv_arr_str(w, "tokenizer.ggml.tokens", v.n);
	for (i = 0; i < v.n; i++) {
		if (v.tok[i] != NULL) {
			ggufw_arr_str(w, v.tok[i], v.len[i]);
		} else {
			snprintf(pad, sizeof(pad), "[PAD%zu]", i);
			v.type[i] = TOK_UNUSED;
			ggufw_arr_str(w, pad, strlen(pad));
		}
	}
	ggufw_kv_arr(w, "tokenizer.ggml.token_type", GGUF_I32, v.type, v.n);
	ggufw_kv_arr_str(w, "tokenizer.ggml.merges", json_array_size(merges));
	json_array_foreach(merges, i, m) {
		/* "a b" (older files) or ["a", "b"] (tokenizers >= 0.20) */
		if (json_is_string(m)) {
			ggufw_arr_str(w, json_string_value(m),
			    json_string_length(m));
			continue;
		}
		if (!json_is_array(m) || json_array_size(m) != 2 ||
		    !json_is_string(json_array_get(m, 0)) ||
		    !json_is_string(json_array_get(m, 1))) {
			fail(cause, "%s: merges[%zu] is neither \"a b\" nor "
			    "[\"a\", \"b\"]", s->tok_json, i);
			goto out;
		}
		l0 = json_string_length(json_array_get(m, 0));
		l1 = json_string_length(json_array_get(m, 1));
		mlen = l0 + 1 + l1;
		if ((merge = malloc(mlen)) == NULL) {
			fail(cause, "out of memory");
			goto out;
		}
		memcpy(merge, json_string_value(json_array_get(m, 0)), l0);
		merge[l0] = ' ';
		memcpy(merge + l0 + 1, json_string_value(json_array_get(m, 1)),
		    l1);
		ggufw_arr_str(w, merge, mlen);
		free(merge);
		merge = NULL;
	}
	if (bos >= 0)
		ggufw_kv_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
	if (eos >= 0)
		ggufw_kv_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
	if (unk >= 0)
		ggufw_kv_u32(w, "tokenizer.ggml.unknown_token_id",
		    (uint32_t)unk);
	if (padid >= 0)
		ggufw_kv_u32(w, "tokenizer.ggml.padding_token_id",
		    (uint32_t)padid);
	if (cfg != NULL) {
		b = json_object_get(cfg, "add_bos_token");
		if (json_is_boolean(b))
			ggufw_kv_bool(w, "tokenizer.ggml.add_bos_token",
			    json_is_true(b));
		b = json_object_get(cfg, "add_eos_token");
		if (json_is_boolean(b))
			ggufw_kv_bool(w, "tokenizer.ggml.add_eos_token",
			    json_is_true(b));
		tmpl = json_object_get(cfg, "chat_template");
		if (json_is_array(tmpl)) {
			/* named templates: the one called "default" */
			json_t *named = tmpl;

			tmpl = NULL;
			json_array_foreach(named, i, val) {
				key = json_string_value(json_object_get(val,
				    "name"));
				if (key != NULL && strcmp(key, "default") == 0)
					tmpl = json_object_get(val, "template");
			}
		}
		if (json_is_string(tmpl))
			ggufw_kv_str(w, "tokenizer.chat_template",
			    json_string_value(tmpl), json_string_length(tmpl));
	}
	*n_vocab = v.n;
	rc = 0;
out:
	free(merge);
	free(v.tok);
	free(v.len);
	free(v.type);
	json_decref(tj);
	json_decref(cfg);
	return rc;
}

/* ==== writing ============================================================= */

static int
check_spec(const struct syngen_spec *s, char **cause)
{
	uint16_t	 one = 1;
	uint32_t	 hd;
	unsigned char	 lo;

	memcpy(&lo, &one, 1);
	if (lo != 1)
		return fail(cause, "big-endian hosts are not supported");
	if (s->arch == NULL || (strcmp(s->arch, "llama") != 0 &&
	    !is_qwen(s->arch) && strcmp(s->arch, "gemma3") != 0))
		return fail(cause, "unknown architecture '%s' (llama, qwen2, "
		    "qwen3, gemma3, qwen35)", s->arch != NULL ? s->arch : "");
	if (is_arch(s, "gemma3") && s->n_swa == 0)
		return fail(cause, "gemma3 needs a sliding window (a preset)");
	if (is_arch(s, "qwen35") && (s->rec_interval == 0 || s->ssm_k < 2 ||
	    s->ssm_d == 0 || s->ssm_nk == 0 || s->ssm_nv % s->ssm_nk != 0 ||
	    s->rope_sections[0] + s->rope_sections[1] +
	    s->rope_sections[2] + s->rope_sections[3] <= 0))
		return fail(cause, "qwen35 needs DeltaNet and rope-section "
		    "sizes (a preset)");
	if (find_ftype(s->type) == NULL)
		return fail(cause, "unknown type '%s'", s->type != NULL ?
		    s->type : "");
	if (s->n_embd == 0 || s->n_embd > SYNGEN_MAX_DIM || s->n_ff == 0 ||
	    s->n_ff > SYNGEN_MAX_DIM)
		return fail(cause, "n_embd and n_ff must be 1..%u",
		    SYNGEN_MAX_DIM);
	if (s->n_layer == 0 || s->n_layer > SYNGEN_MAX_LAYER)
		return fail(cause, "n_layer must be 1..%u", SYNGEN_MAX_LAYER);
	if (s->n_head == 0 || s->n_head > SYNGEN_MAX_HEAD ||
	    s->n_head_kv == 0 || s->n_head % s->n_head_kv != 0)
		return fail(cause, "n_head (1..%u) must be a multiple of "
		    "n_head_kv", SYNGEN_MAX_HEAD);
	hd = spec_head_dim(s);
	if (hd == 0 || hd % 2 != 0 || (uint64_t)hd * s->n_head > SYNGEN_MAX_DIM)
		return fail(cause, "head_dim %u must be even and head_dim * "
		    "n_head at most %u", hd, SYNGEN_MAX_DIM);
	if (s->n_rot % 2 != 0 || s->n_rot > hd)
		return fail(cause, "n_rot %u must be even and at most head_dim",
		    s->n_rot);
	if (s->rope_freqs && strcmp(s->arch, "llama") != 0)
		return fail(cause, "rope_freqs is a llama (Llama 3) feature");
	if (s->rope_freqs && (!(s->rf_factor > 0) || !(s->rf_low > 0) ||
	    !(s->rf_high > s->rf_low) || s->rf_orig_ctx == 0))
		return fail(cause, "rope_freqs needs factor > 0, "
		    "0 < low < high and an original context");
	if (!(s->rope_base >= 0) || !(s->rms_eps >= 0) || s->rope_base > 1e12f)
		return fail(cause, "bad rope base or rms eps");
	if (s->vocab_from != NULL && s->tok_json != NULL)
		return fail(cause, "choose one vocabulary source");
	if (s->tok_config != NULL && s->tok_json == NULL)
		return fail(cause, "a tokenizer config needs a tokenizer.json");
	if (s->n_vocab > SYNGEN_MAX_VOCAB)
		return fail(cause, "n_vocab above %u", SYNGEN_MAX_VOCAB);
	if (s->n_ctx == 0)
		return fail(cause, "n_ctx must be positive");
	return 0;
}

static int
write_hparams(struct ggufw *w, const struct syngen_spec *s, uint32_t n_vocab)
{
	char		 k[96];
	const char	*a = s->arch;
	uint32_t	 hd = spec_head_dim(s);
	float		 eps = s->rms_eps != 0 ? s->rms_eps :
			    is_qwen(a) ? 1e-6f : 1e-5f;

#define KEY(suffix)	(snprintf(k, sizeof(k), "%s." suffix, a), k)
	ggufw_kv_u32(w, KEY("context_length"), s->n_ctx);
	ggufw_kv_u32(w, KEY("embedding_length"), s->n_embd);
	ggufw_kv_u32(w, KEY("block_count"), s->n_layer);
	ggufw_kv_u32(w, KEY("feed_forward_length"), s->n_ff);
	ggufw_kv_u32(w, KEY("attention.head_count"), s->n_head);
	ggufw_kv_u32(w, KEY("attention.head_count_kv"), s->n_head_kv);
	ggufw_kv_f32(w, KEY("rope.freq_base"),
	    s->rope_base != 0 ? s->rope_base : 10000.0f);
	ggufw_kv_f32(w, KEY("attention.layer_norm_rms_epsilon"), eps);
	ggufw_kv_u32(w, KEY("rope.dimension_count"),
	    s->n_rot != 0 ? s->n_rot : hd);
	/* explicit whenever head_dim is not n_embd / n_head (and for qwen3) */
	if (strcmp(a, "qwen3") == 0 || hd * s->n_head != s->n_embd) {
		ggufw_kv_u32(w, KEY("attention.key_length"), hd);
		ggufw_kv_u32(w, KEY("attention.value_length"), hd);
	}
	ggufw_kv_u32(w, KEY("vocab_size"), n_vocab);
	if (strcmp(a, "gemma3") == 0)
		ggufw_kv_u32(w, KEY("attention.sliding_window"), s->n_swa);
	if (strcmp(a, "qwen35") == 0) {
		ggufw_kv_u32(w, KEY("full_attention_interval"),
		    s->rec_interval);
		ggufw_kv_u32(w, KEY("ssm.conv_kernel"), s->ssm_k);
		ggufw_kv_u32(w, KEY("ssm.state_size"), s->ssm_d);
		ggufw_kv_u32(w, KEY("ssm.group_count"), s->ssm_nk);
		ggufw_kv_u32(w, KEY("ssm.time_step_rank"), s->ssm_nv);
		ggufw_kv_u32(w, KEY("ssm.inner_size"), s->ssm_nv * s->ssm_d);
		ggufw_kv_arr(w, KEY("rope.dimension_sections"), GGUF_I32,
		    s->rope_sections, 4);
	}
#undef KEY
	return 0;
}

/*
 * Rows are generated in batches of about SYN_BATCH_BYTES of output, each
 * batch split between threads.  A row's values come from its own place in
 * the tensor's splitmix64 stream (the state advances by a constant per
 * value, so row r starts at state0 + r * ne0 * step): the bytes do not
 * depend on the number of threads.
 */
#define SYN_BATCH_BYTES		(8u << 20)
#define SYN_MAX_THREADS		64
#define SPLITMIX_STEP		0x9e3779b97f4a7c15ULL

struct syn_job {
	const struct syngen_spec *s;
	const struct syn_tensor	*t;
	uint64_t		 state0;	/* the tensor's stream */
	uint64_t		 row_bytes;
	int64_t			 r0, r1;	/* rows of this job */
	float			*row;		/* (ne0) scratch */
	unsigned char		*out;		/* (r1 - r0) * row_bytes */
	int			 rc;
};

static void *
syn_job_run(void *arg)
{
	struct syn_job		*j = arg;
	const struct syn_tensor	*t = j->t;
	const struct syngen_spec *s = j->s;
	size_t			 ne0 = (size_t)t->ne[0];
	uint64_t		 state;
	int64_t			 r;

	j->rc = 0;
	for (r = j->r0; r < j->r1; r++) {
		state = j->state0 + (uint64_t)r * ne0 * SPLITMIX_STEP;
		switch (t->init) {
		case INIT_NORMAL:
			gen_normal(&state, t->std, t->mean, j->row, ne0);
			break;
		case INIT_NORM:
			gen_normal(&state, t->std, 1.0f, j->row, ne0);
			break;
		case INIT_ROPE_FREQS:
			syngen_llama3_factors(s->rope_base != 0 ? s->rope_base :
			    10000.0f, (uint32_t)(2 * ne0), s->rf_factor,
			    s->rf_low, s->rf_high, s->rf_orig_ctx, j->row);
			break;
		}
		if (quant_quantize_row(t->type, j->row,
		    j->out + (size_t)(r - j->r0) * j->row_bytes, ne0) != 0) {
			j->rc = -1;
			break;
		}
	}
	return NULL;
}

struct syn_pool {
	int		 n;			/* threads */
	float		*rows[SYN_MAX_THREADS];	/* (max ne0) each */
	unsigned char	*buf;			/* one batch */
	size_t		 cap;
};

/* Stream one tensor's values, batch by batch, in row order. */
static int
write_tensor(struct ggufw *w, const struct syngen_spec *s,
    const struct syn_tensor *t, struct syn_pool *p, char **cause)
{
	struct syn_job	 job[SYN_MAX_THREADS];
	pthread_t	 tid[SYN_MAX_THREADS];
	bool		 started[SYN_MAX_THREADS];
	uint64_t	 row_bytes;
	int64_t		 batch, b0, b1, per;
	int		 i, nj;

	if (quant_row_bytes(t->type, (uint64_t)t->ne[0], &row_bytes) != 0 ||
	    row_bytes == 0 || row_bytes > p->cap)
		return fail(cause, "tensor %s: bad row", t->name);
	batch = (int64_t)(p->cap / row_bytes);
	for (b0 = 0; b0 < t->ne[1]; b0 = b1) {
		b1 = b0 + batch < t->ne[1] ? b0 + batch : t->ne[1];
		nj = (int64_t)p->n < b1 - b0 ? p->n : (int)(b1 - b0);
		per = (b1 - b0 + nj - 1) / nj;
		for (i = 0; i < nj; i++) {
			job[i].s = s;
			job[i].t = t;
			job[i].state0 = s->seed ^ fnv1a64(t->name);
			job[i].row_bytes = row_bytes;
			job[i].r0 = b0 + i * per < b1 ? b0 + i * per : b1;
			job[i].r1 = job[i].r0 + per < b1 ? job[i].r0 + per : b1;
			job[i].row = p->rows[i];
			job[i].out = p->buf +
			    (size_t)(job[i].r0 - b0) * row_bytes;
			/* the last job runs here; a failed start runs inline */
			started[i] = i + 1 < nj && pthread_create(&tid[i],
			    NULL, syn_job_run, &job[i]) == 0;
			if (!started[i] && i + 1 < nj)
				syn_job_run(&job[i]);
		}
		syn_job_run(&job[nj - 1]);
		for (i = 0; i < nj; i++)
			if (started[i])
				pthread_join(tid[i], NULL);
		for (i = 0; i < nj; i++)
			if (job[i].rc != 0)
				return fail(cause, "tensor %s: cannot quantize "
				    "to %s", t->name,
				    quant_info(t->type)->name);
		if (ggufw_data(w, p->buf, (size_t)(b1 - b0) * row_bytes) != 0)
			return -1;
	}
	return 0;
}

static int
pool_init(struct syn_pool *p, int n_threads, size_t maxne, uint64_t maxrow)
{
	long	 ncpu;
	int	 i;

	memset(p, 0, sizeof(*p));
	if (n_threads <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = ncpu > 0 ? (int)ncpu : 1;
	}
	p->n = n_threads < SYN_MAX_THREADS ? n_threads : SYN_MAX_THREADS;
	p->cap = maxrow > SYN_BATCH_BYTES ? (size_t)maxrow : SYN_BATCH_BYTES;
	if ((p->buf = malloc(p->cap)) == NULL)
		return -1;
	for (i = 0; i < p->n; i++)
		if ((p->rows[i] = malloc((maxne + 1) * sizeof(float))) == NULL)
			return -1;
	return 0;
}

static void
pool_release(struct syn_pool *p)
{
	int	 i;

	for (i = 0; i < p->n; i++)
		free(p->rows[i]);
	free(p->buf);
}

int
syngen_write(const struct syngen_spec *s, const char *path, char **cause)
{
	const struct syn_ftype	*ft;
	struct syn_list		 l = { NULL, 0, 0 };
	struct ggufw		*w = NULL;
	char			 nm[96], *werr = NULL;
	const char		*name;
	struct syn_pool		 pool;
	uint64_t		 maxrow = 0, rb;
	uint32_t		 n_vocab = 0;
	size_t			 i, maxne = 0;
	int			 rc = -1;

	memset(&pool, 0, sizeof(pool));
	if (cause != NULL)
		*cause = NULL;
	if (check_spec(s, cause) != 0)
		goto out;
	ft = find_ftype(s->type);
	if (ggufw_open(path, s->alignment, &w, cause) != 0)
		goto out;

	/* general.* first, as llama.cpp's converter writes them */
	ggufw_kv_str(w, "general.architecture", s->arch, strlen(s->arch));
	if ((name = s->name) == NULL) {
		snprintf(nm, sizeof(nm), "syn-%s", s->arch);
		name = nm;
	}
	ggufw_kv_str(w, "general.name", name, strlen(name));
	ggufw_kv_u32(w, "general.alignment",
	    s->alignment != 0 ? s->alignment : GGUFW_ALIGN_DEFAULT);

	if (s->vocab_from != NULL) {
		if (vocab_copy(w, s->vocab_from, &n_vocab, cause) != 0)
			goto out;
	} else if (s->tok_json != NULL) {
		if (vocab_hf(w, s, &n_vocab, cause) != 0)
			goto out;
	} else {
		n_vocab = s->n_vocab != 0 ? s->n_vocab : SYN_DEFAULT_VOCAB;
		if (vocab_synth(w, n_vocab, cause) != 0)
			goto out;
	}
	if (s->n_vocab != 0 && n_vocab != s->n_vocab) {
		fail(cause, "the vocabulary has %u tokens, not %u", n_vocab,
		    s->n_vocab);
		goto out;
	}

	write_hparams(w, s, n_vocab);
	ggufw_kv_u32(w, "general.file_type", ft->ftype);
	/* llama-quantize writes it for every type, the converter for none */
	if (ft->base != QT_F32)
		ggufw_kv_u32(w, "general.quantization_version", 2);

	if (build_list(s, n_vocab, &l, cause) != 0)
		goto out;
	for (i = 0; i < l.n; i++) {
		if (ggufw_tensor(w, l.t[i].name, l.t[i].type, l.t[i].n_dims,
		    l.t[i].ne) != 0)
			goto out;	/* the writer holds the cause */
		if (quant_row_bytes(l.t[i].type, (uint64_t)l.t[i].ne[0], &rb)
		    == 0 && rb > maxrow)
			maxrow = rb;
		if ((size_t)l.t[i].ne[0] > maxne)
			maxne = (size_t)l.t[i].ne[0];
	}
	if (pool_init(&pool, s->n_threads, maxne, maxrow) != 0) {
		fail(cause, "out of memory");
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (write_tensor(w, s, &l.t[i], &pool, cause) != 0)
			break;
	if (i == l.n && (cause == NULL || *cause == NULL))
		rc = 0;
out:
	if (w != NULL) {
		/* the writer's own error, if any, is the first cause */
		if (ggufw_close(w, &werr) != 0) {
			if (cause != NULL && *cause == NULL) {
				*cause = werr;
				werr = NULL;
			}
			rc = -1;
		} else if (rc != 0) {
			remove(path);
		}
	}
	free(werr);
	pool_release(&pool);
	free(l.t);
	return rc;
}
