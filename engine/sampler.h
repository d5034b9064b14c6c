/*
 * sampler.h - choosing the next token from logits, internal to engine/.
 * Deterministic for a given seed (its own PRNG, no rand()).
 */
#ifndef TRIAGE_ENGINE_SAMPLER_H
#define TRIAGE_ENGINE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct sampler_params {
	float		 temp;		/* <= 0: greedy (ties -> lowest id) */
	int		 top_k;		/* <= 0: off */
	float		 top_p;		/* >= 1: off */
	float		 min_p;		/* <= 0: off */
	float		 repeat_penalty;	/* 1 (or <= 0, NaN): off */
	int		 repeat_last_n;	/* how many recent tokens it looks at;
					   0: off, < 0: all of hist */
	uint64_t	 seed;
};

struct sampler;

/*
 * Scratch for n_vocab candidates is allocated here, once.  NULL on ENOMEM,
 * or for a NULL params or n_vocab 0 (or > INT32_MAX).  The params are
 * copied.  sampler_free(NULL) is a no-op.
 */
struct sampler *sampler_new(const struct sampler_params *, size_t n_vocab);
void	 sampler_free(struct sampler *);
/*
 * Pick a token.  logits (n_vocab) are read, not kept; hist/nhist are the
 * tokens so far (for the repetition penalty).  Order (llama.cpp's default
 * chain): repetition penalty, then greedy, or top-k, top-p, min-p,
 * temperature, draw.  Never allocates or fails.  A NaN logit counts as
 * -inf and +inf as FLT_MAX; if no logit is finite the result is 0 (the
 * tie rule on an all -inf row), so the id is always < n_vocab.  hist
 * entries outside the vocabulary are ignored.
 */
int32_t	 sampler_sample(struct sampler *, const float *logits,
	    const int32_t *hist, size_t nhist);
/*
 * Constrained decoding: a logit whose bit is clear in bits (one per
 * token, (n + 31) / 32 words) becomes -inf, so sampler_sample never picks
 * it while an allowed token has a finite logit.  The caller still checks
 * the token it gets (an all -inf row gives token 0).
 */
void	 sampler_mask(float *logits, size_t n, const uint32_t *bits);

#endif
