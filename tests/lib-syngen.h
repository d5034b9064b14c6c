/*
 * lib-syngen.h - synthetic GGUF models with deterministic weights.
 *
 * syngen_write() produces a complete, loadable model file for llama,
 * qwen2 or qwen3 (optionally llama with Llama-3 rope_freqs, tied or
 * separate output) at any shape, with every weight drawn from a seeded
 * integer PRNG and quantized with the engine's reference quantizers.  The
 * same spec gives the same bytes on every (little-endian, IEEE-754)
 * machine: weights use integer arithmetic plus single, exactly specified
 * float operations; the few transcendental values (rope_freqs) come from
 * our own exp/log built from + - * / only; metadata has a fixed order.
 *
 * Layout follows llama.cpp and $SHARED/golden/README.md: ne[0] of every
 * 2-D weight is its input dimension; 1-D tensors (norms, biases, qk-norms,
 * rope_freqs) are always F32; tensor and key order as llama.cpp writes it.
 * tools: tests/tool-gguf-gen.c is the command-line front end.
 */
#ifndef TRIAGE_TESTS_SYNGEN_H
#define TRIAGE_TESTS_SYNGEN_H

#include <stdbool.h>
#include <stdint.h>

/* Limits on what a spec may ask for (named so the tool can report them). */
#define SYNGEN_MAX_DIM		(1u << 16)	/* n_embd, n_ff, q rows */
#define SYNGEN_MAX_LAYER	256
#define SYNGEN_MAX_HEAD		1024
#define SYNGEN_MAX_VOCAB	(1u << 22)

struct syngen_spec {
	const char	*arch;		/* "llama", "qwen2", "qwen3", "gemma3",
					   "qwen35" */
	const char	*name;		/* general.name; NULL: "syn-<arch>" */
	const char	*type;		/* "F32" ... "Q6_K", "Q4_K_M" */
	uint32_t	 n_embd, n_ff, n_layer, n_head, n_head_kv;
	uint32_t	 head_dim;	/* 0: n_embd / n_head */
	uint32_t	 n_ctx;		/* {arch}.context_length */
	uint32_t	 n_vocab;	/* 0: from the vocabulary source */
	float		 rope_base;	/* 0: 10000 */
	float		 rms_eps;	/* 0: 1e-5 for llama, 1e-6 for qwen */
	uint32_t	 alignment;	/* 0: 32 */
	/* Llama 3 rope scaling, written as the rope_freqs.weight tensor */
	bool		 rope_freqs;
	float		 rf_factor, rf_low, rf_high;
	uint32_t	 rf_orig_ctx;
	bool		 tied;		/* no output.weight */
	uint32_t	 n_rot;		/* rope.dimension_count; 0: head_dim */
	uint32_t	 n_swa;		/* gemma3: attention.sliding_window */
	/* qwen35: every rec_interval-th layer is attention, the others
	 * gated DeltaNet (conv kernel, state size d, k and v heads) */
	uint32_t	 rec_interval, ssm_k, ssm_d, ssm_nk, ssm_nv;
	int32_t		 rope_sections[4];	/* qwen35 IMROPE */
	/*
	 * Vocabulary, one of: vocab_from (copy every tokenizer.* key of that
	 * GGUF), tok_json (+ optional tok_config: a byte-level BPE from a HF
	 * tokenizer.json), or neither (a synthetic SentencePiece vocab of
	 * n_vocab tokens, default 512).
	 */
	const char	*vocab_from;
	const char	*tok_json;
	const char	*tok_config;
	const char	*tok_pre;	/* tokenizer.ggml.pre; NULL: by arch */
	uint64_t	 seed;
	int		 n_threads;	/* 0: all CPUs; bytes unchanged */
};

/* The shapes of the golden syn-llama files: 256/512/2 layers/4:2 heads. */
void	 syngen_defaults(struct syngen_spec *);
/*
 * Overwrite the shape fields with a real model's: "qwen3-0.6b",
 * "llama-3.2-1b", "gemma-3-1b", "qwen3.5-0.8b".  Returns -1 for an
 * unknown name.
 */
int	 syngen_preset(struct syngen_spec *, const char *name);
/* Names of the presets, NULL-terminated, for usage messages. */
extern const char *const syngen_presets[];

/*
 * Write the model to `path` (created or truncated; removed on failure).
 * Returns 0, or -1 with a malloc'd one-line *cause.  Memory stays small:
 * one row of weights at a time, plus the vocabulary while it is copied.
 */
int	 syngen_write(const struct syngen_spec *, const char *path,
	    char **cause);

/*
 * The ggml type llama-quantize would give tensor `name` (e.g.
 * "blk.3.attn_v.weight", a 2-D weight whose rows hold ne0 values) for the
 * spec's type, following $SHARED/golden/README.md section 2: plain types
 * as with --pure, Q4_K_M/Q5_K_M with the use_more_bits mix.  -1 if the
 * spec's type is unknown or ne0 does not fit it.
 */
int	 syngen_tensor_type(const struct syngen_spec *, const char *name,
	    uint64_t ne0);

/*
 * Llama 3 rope frequency divisors for `n` = rope dims / 2 pairs, as
 * convert_hf_to_gguf.py computes them, deterministically.
 */
void	 syngen_llama3_factors(float base, uint32_t n_rot, float factor,
	    float low, float high, uint32_t orig_ctx, float *out);

#endif
