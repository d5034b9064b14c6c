/*
 * lib-refmodel.h - the reference forward pass: plain, obviously correct,
 * double precision.  It is the yardstick the optimized engine
 * (engine/model.c + forward.c) is measured against.
 *
 * Every weight row is dequantized with quant_dequant_row() (the reference
 * kernels) as it is needed and all arithmetic is in double, following
 * $SHARED/golden/README.md section 1:
 *   x = token_embd[id]
 *   per layer: h = rmsnorm(x) * attn_norm
 *              q, k, v = Wq h, Wk h, Wv h  (+ bias: qwen2)
 *              qwen3: q, k per head = rmsnorm(.) * attn_{q,k}_norm
 *              RoPE on q, k: llama rotates adjacent pairs (x[2i], x[2i+1]),
 *                qwen2/3 (NEOX) pairs (x[i], x[i + n_rot/2]); angle
 *                pos * base^(-2i/n_rot) / rope_freqs[i]
 *              causal softmax attention, scale 1/sqrt(head_dim), query
 *                head h reads KV head h / (n_head / n_head_kv)
 *              x += Wo attn;  h = rmsnorm(x) * ffn_norm
 *              x += Wdown (silu(Wgate h) * Wup h)
 *   logits = Wout (rmsnorm(x) * output_norm), Wout = token_embd if tied
 * Readability wins over speed: each call recomputes the whole sequence.
 */
#ifndef TRIAGE_TESTS_REFMODEL_H
#define TRIAGE_TESTS_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct refmodel;

struct refmodel_opts {
	/* Round K (after RoPE) and V to f16, as the runtime's KV cache. */
	bool	 kv_f16;
	/*
	 * Round the input of every weight matmul the way ik_llama.cpp does
	 * on x86: quantized weights see 8-bit activation blocks
	 * (quant_act_q8), BF16 weights see bf16-rounded activations; F32
	 * and F16 weights see the activations unchanged.
	 */
	bool	 act_runtime;
};

/*
 * Load `path` (llama, qwen2, qwen3, gemma3, phi3, granite, smollm3,
 * mistral3, qwen35 or gemma4; section 8 of the golden README gives the newer
 * ones' formulas) and check every tensor the forward
 * pass needs against the hparams.  opts NULL means all false.  Returns 0
 * or -1 with a malloc'd *cause.  The file stays mapped until refmodel_free.
 */
int	 refmodel_open(const char *path, const struct refmodel_opts *opts,
	    struct refmodel **out, char **cause);
void	 refmodel_free(struct refmodel *);	/* NULL is a no-op */

uint32_t refmodel_n_vocab(const struct refmodel *);
uint32_t refmodel_n_embd(const struct refmodel *);
uint32_t refmodel_n_layer(const struct refmodel *);

/*
 * Logits for tokens ids[0..n) at positions 0..n-1: out holds n * n_vocab
 * floats, row t being the logits after token t.  Returns -1 if n is 0, an
 * id is out of range, memory runs out, or a weight cannot be dequantized.
 */
int	 refmodel_logits(struct refmodel *, const int32_t *ids, size_t n,
	    float *out);

#endif
