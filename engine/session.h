/*
 * session.h - the session struct, shared by forward.c (which owns it) and
 * gen.c (which drives it from a worker thread).  Internal to engine/.
 */
#ifndef TRIAGE_ENGINE_SESSION_H
#define TRIAGE_ENGINE_SESSION_H

#include <stdatomic.h>
#include <stdint.h>

struct eng_model;
struct kern_pool;

struct eng_session {
	struct eng_model *m;
	struct kern_pool *pool;		/* with per-thread tile scratch */
	uint32_t	 n_ctx;
	uint32_t	 pos;		/* tokens in the cache */
	int32_t		*ids;		/* (n_ctx) the token at each cached
					 * position, for eng_session_keep_prefix */
	uint64_t	 kv_dim;	/* n_head_kv * head_dim */
	/* per attention layer and KV head, att_kv_head_bytes each, in
	 * the format of m->kv (att.h): K as (n_ctx, hd), V transposed */
	uint8_t		*kcache;
	uint8_t		*vcache;
	float		*x;		/* (chunk, n_embd) residual stream */
	float		*xb;		/* (chunk, n_embd) */
	float		*q;		/* (chunk, n_head * head_dim) */
	float		*k, *v;		/* (chunk, kv_dim) */
	float		*att;		/* (chunk, n_head * head_dim) */
	float		*gate, *up;	/* (chunk, n_ff) */
	float		*logits;	/* (n_vocab) for the sampler */
	void		*kscratch;	/* activations prepared by kern */
	float		*rope;		/* (MODEL_ROPE_SETS, chunk, n_rot / 2
					 * + 1, 2) cos, sin */
	float		*fused;		/* (chunk, model_fused_width) */
	float		*rec;		/* (n_rec, model_rec_floats): the
					 * DeltaNet state at pos */
	atomic_int	*cancel;	/* set by gen.c; checked between layers */
};

#endif
