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
	struct kern_pool *pool;
	uint32_t	 n_ctx;
	uint32_t	 pos;		/* tokens in the cache */
	uint64_t	 kv_dim;	/* n_head_kv * head_dim */
	uint16_t	*kcache;	/* (n_layer, n_ctx, kv_dim) f16 */
	uint16_t	*vcache;	/* (n_layer, n_ctx, kv_dim) f16 */
	float		*x;		/* (chunk, n_embd) residual stream */
	float		*xb;		/* (chunk, max(n_embd, n_ff, q_dim)) */
	float		*q;		/* (chunk, n_head * head_dim) */
	float		*k, *v;		/* (chunk, kv_dim) */
	float		*att;		/* (chunk, n_head * head_dim) */
	float		*gate, *up;	/* (chunk, n_ff) */
	float		*scores;	/* (n_head, n_ctx) */
	float		*logits;	/* (n_vocab) for the sampler */
	void		*kscratch;	/* activations quantized for kern */
	double		*inv_freq;	/* (n_rot / 2) rope angle per position */
	atomic_int	*cancel;	/* set by gen.c; checked between layers */
};

#endif
