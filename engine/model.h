/*
 * model.h - a loaded model: architecture, hparams and bound tensors.
 * Internal to engine/ (model.c loads, forward.c computes, gen.c streams).
 */
#ifndef TRIAGE_ENGINE_MODEL_H
#define TRIAGE_ENGINE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

struct gguf;
struct gguf_tensor;
struct vocab;

/* Limits on hparams: anything past these is a broken or hostile file. */
#define MODEL_MAX_LAYERS	512
#define MODEL_MAX_EMBD		65536
#define MODEL_MAX_HEADS		1024
#define MODEL_MAX_HEAD_DIM	1024
#define MODEL_MAX_CTX		(1u << 20)
#define MODEL_MAX_VOCAB		(1u << 22)

enum rope_style { ROPE_NORM, ROPE_NEOX };

/* Families whose layers differ in more than the switches below. */
enum arch_id {
	ARCH_LLAMA, ARCH_QWEN2, ARCH_QWEN3,
	ARCH_GEMMA3,	/* sliding window 5:1, pre+post norms, GELU */
	ARCH_PHI3,	/* fused QKV and gate|up, partial rotary, LongRoPE */
	ARCH_GRANITE,	/* embedding/residual/attention/logit scales */
	ARCH_SMOLLM3,	/* every 4th layer without RoPE */
	ARCH_MISTRAL3,	/* YaRN and attention temperature */
	ARCH_QWEN35,	/* gated DeltaNet layers + gated attention */
	ARCH_GEMMA4,	/* per-layer head size and KV heads, K as V */
};

/* One row of the architecture table: what differs between families. */
struct arch {
	const char	*name;		/* general.architecture */
	enum arch_id	 id;
	enum rope_style	 rope;
	bool		 qkv_bias;	/* qwen2: blk.N.attn_{q,k,v}.bias */
	bool		 qk_norm;	/* qwen3: per-head RMSNorm of Q and K */
	float		 rms_eps;	/* default when the key is absent */
};

/* A weight: a tensor in the mapping.  ne0 is the input dimension. */
struct wt {
	const void	*data;
	uint32_t	 type;
	uint64_t	 ne0, ne1;
	uint64_t	 row_bytes;
};

struct layer {
	struct wt	 attn_norm;	/* (n_embd) F32 */
	struct wt	 wq;		/* (n_embd, n_head*hd) */
	struct wt	 wk;		/* (n_embd, n_head_kv*hd) */
	struct wt	 wv;		/* (n_embd, n_head_kv*hd) */
	struct wt	 wo;		/* (n_head*hd, n_embd) */
	struct wt	 bq, bk, bv;	/* qwen2 biases, F32, or data NULL */
	struct wt	 q_norm, k_norm;	/* qwen3 (hd) F32, or data NULL */
	struct wt	 ffn_norm;	/* (n_embd) F32 */
	struct wt	 w_gate;	/* (n_embd, n_ff) */
	struct wt	 w_up;		/* (n_embd, n_ff) */
	struct wt	 w_down;	/* (n_ff, n_embd) */
	/* phi3: wqkv (n_embd, qd + 2 kvd) replaces wq, wk, wv; w_up is
	 * (n_embd, 2 n_ff), gate rows first, and w_gate is absent */
	struct wt	 wqkv;
	/* gemma3: RMS norms of each sub-layer's output, or data NULL */
	struct wt	 post_attn_norm, post_ffw_norm;
	/* qwen35 gated DeltaNet ("recurrent") layer: wqkv is the input of
	 * the short convolution (n_embd, conv_ch), then these */
	bool		 rec;
	uint32_t	 rec_idx;	/* its slot in the session's state */
	uint32_t	 kv_idx;	/* attention layers: its KV cache slot */
	struct wt	 ssm_z;		/* attn_gate (n_embd, nv*d) */
	struct wt	 ssm_beta, ssm_alpha;	/* (n_embd, nv) */
	struct wt	 ssm_conv;	/* (conv_k, conv_ch) F32 */
	struct wt	 ssm_dt, ssm_a;	/* (nv) F32 */
	struct wt	 ssm_norm;	/* (d) F32 */
	struct wt	 ssm_out;	/* (nv*d, n_embd) */
	bool		 swa;		/* attends to the last n_swa positions */
	bool		 nope;		/* no rotation of Q and K */
	uint8_t		 rope_set;	/* 0 global, 1 sliding (gemma3, 4) */
	/* attention shape of this layer: the hparams' for every family but
	 * gemma4, whose sliding and global layers differ */
	uint32_t	 hd, n_kv;
	uint64_t	 kv_base;	/* its cache: kv_base * n_ctx values in */
	/* gemma4: V = the K projection when wv is absent, V RMS-normed
	 * without a weight, and x *= out_scale after the layer */
	bool		 v_from_k, v_norm;
	float		 out_scale;
};

/* Rotation angles of one kind of layer: pair i turns by
 * pos * inv_freq[i] (model.c computes them), cos and sin times mscale. */
#define MODEL_ROPE_SETS	2

struct hparams {
	uint32_t	 n_vocab, n_embd, n_ff, n_layer;
	uint32_t	 n_head, n_head_kv, head_dim;	/* head_dim: key_length */
	uint32_t	 n_rot;		/* rope.dimension_count (<= head_dim) */
	uint32_t	 n_ctx_train;
	float		 rms_eps;
	float		 rope_base;
	float		 rope_scale;	/* linear: positions are multiplied by it */
	uint32_t	 n_swa;		/* sliding window (positions), 0: none */
	uint32_t	 n_rope_sets;	/* 1, or 2 when sliding layers differ */
	uint32_t	 rot_dims[MODEL_ROPE_SETS];	/* n_rot of each set */
	double		*inv_freq[MODEL_ROPE_SETS];	/* (n_rot / 2) each */
	float		 rope_mscale;	/* LongRoPE attn_factor on cos, sin */
	float		 emb_scale;	/* x = embedding * emb_scale */
	float		 resid_scale;	/* x += resid_scale * sub-layer */
	float		 attn_scale;	/* softmax scale of q.k */
	float		 logit_mul;	/* logits *= logit_mul */
	float		 softcap;	/* logits = c tanh(l / c); 0: none */
	float		 temp_scale;	/* mistral3: q *= 1 + t ln(1 + */
	uint32_t	 temp_len;	/*   floor((pos + 1) / temp_len)) */
	bool		 gelu;		/* FFN GELU(tanh) instead of SiLU */
	bool		 fused_qkv, fused_up;	/* phi3 */
	/* qwen35: attention output gate rows interleaved with Q per head;
	 * DeltaNet shapes (d: head size, nk q/k heads, nv v heads) */
	bool		 attn_gate;
	uint32_t	 n_rec;		/* recurrent layers */
	uint32_t	 rec_interval;	/* layer il attends iff (il+1) % it == 0 */
	int32_t		 rope_sections[4];	/* IMROPE t, h, w, e */
	uint32_t	 ssm_k, ssm_d, ssm_nk, ssm_nv;
	uint64_t	 conv_ch;	/* 2 nk d + nv d */
	/* gemma4: head_dim and n_head_kv above are the largest of any
	 * layer (buffer sizes); the sliding layers' own values */
	uint32_t	 head_dim_swa, n_rot_swa;
	float		 rope_base_swa;
	uint64_t	 kv_sum;	/* n_kv * hd summed over attention layers */
};

struct eng_model {
	char		*path;
	struct gguf	*g;
	struct vocab	*vocab;
	const struct arch *arch;
	struct hparams	 hp;
	struct layer	*layers;	/* n_layer */
	struct wt	 tok_embd;	/* (n_embd, n_vocab) */
	struct wt	 out_norm;	/* (n_embd) */
	struct wt	 output;	/* (n_embd, n_vocab); = tok_embd when tied */
	const float	*rope_freqs;	/* (n_rot/2) divisors, or NULL */
	int		 chat_family;	/* enum chat_family */
	int32_t		*specials;	/* control/user-defined ids, longest text first */
	size_t		 n_specials;
	uint32_t	 n_ctx;		/* context this load uses */
	int		 n_threads;
	int		 kv;		/* ENG_KV_F16 or ENG_KV_Q8 */
	bool		 vocab_only;
	struct eng_info	 info;
};

/* prompt.c: list the special tokens of m->vocab (m->specials). */
int	 model_specials_build(struct eng_model *);

/* Bytes of scratch a session needs for chunks of `nb` tokens (buffers,
 * activation scratch and the pool's per-thread tiles). */
uint64_t model_scratch_bytes(const struct eng_model *, uint32_t nb);
/* Bytes of the KV cache for n_ctx positions. */
uint64_t model_kv_bytes(const struct eng_model *, uint32_t n_ctx);
/* Floats of the staging buffer of fused projections, per token. */
uint64_t model_fused_width(const struct eng_model *);
/* Floats of one recurrent layer's state: the convolution's last
 * ssm_k - 1 inputs, then nv matrices of d x d. */
uint64_t model_rec_floats(const struct eng_model *);

/*
 * Tokens a session feeds through the network at once during prefill.
 * Each weight is read from memory once per chunk, so a larger chunk does
 * more arithmetic per byte; past about a hundred tokens the tile kernels
 * are bound by arithmetic anyway, and every token costs scratch (some
 * 50 KB for a 1B model, see model_scratch_bytes) and makes the progress
 * callback and cancel coarser.
 */
#define MODEL_CHUNK 128

#endif
