/*
 * engine.h - the in-process language model: GGUF file -> tokens -> text.
 *
 * Files, in the order data flows through them:
 *   gguf.c       bounded reader for GGUF v2/v3 over mmap (gguf.h)
 *   quant.c      tensor types: reference dequantize/quantize/dot (quant.h)
 *   kern.c       matmul driver, thread pool, dispatch;
 *                kern-avx2.c, kern-avx512.c SIMD (+ -vnni builds) (kern.h)
 *   att.c        attention over the f16 or 8-bit KV cache (flash
 *                attention for prefill); att-avx2.c, att-avx512.c (att.h)
 *   model.c      architecture table (llama, qwen2, qwen3), hparams, tensors
 *   vocab.c      SentencePiece and byte-level BPE tokenizers (vocab.h)
 *   pretok.c     BPE pre-tokenizers, as llama.cpp splits (pretok.h, PCRE2)
 *   unicode-data.c  Unicode general categories for the pre-tokenizers
 *   chat.c       chat template families (chat.h)
 *   prompt.c     text and chat conversations to tokens
 *   forward.c    KV cache and the transformer forward pass
 *   sampler.c    greedy, temperature, top-k/p, min-p, repetition penalty
 *   grammar.c    constrained decoding: a JSON Schema subset as a byte
 *                automaton, applied as a token mask (grammar.h)
 *   gen.c        streaming generation on a worker thread, with cancel
 *
 * Everything public is behind the eng_ prefix with opaque structs.
 * Fallible functions return 0 or a negative ENG_E* code and, where they
 * take `char **cause`, a malloc'd one-line sentence naming the file and
 * the problem.  Nothing here exits or aborts on file content.
 * Causes, eng_info strings, metadata values and token text quote bytes
 * from the file as they are (a few dozen at most): they are not made safe
 * for a terminal here.  Whoever shows them escapes them; the tui passes
 * every such string through one sanitizer (tui/out.c), so there is one
 * escaping rule, not one per module.
 */
#ifndef TRIAGE_ENGINE_H
#define TRIAGE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	ENG_OK = 0,
	ENG_ENOMEM = -1,
	ENG_EIO = -2,		/* cannot open/read/map the file */
	ENG_EFORMAT = -3,	/* not a valid GGUF, or inconsistent */
	ENG_EUNSUPPORTED = -4,	/* valid, but an architecture/type we lack */
	ENG_ETOOBIG = -5,	/* over the memory limit */
	ENG_EINVAL = -6,	/* bad argument */
	ENG_ECTX = -7,		/* the context is full */
	ENG_ECANCEL = -8,	/* stopped by eng_gen_cancel or a callback */
	ENG_ENAN = -9,		/* the logits are not numbers (NaN weights?) */
};

struct eng_model;
struct eng_session;
struct eng_gen;

/* ---- models -------------------------------------------------------------- */

/*
 * The KV cache's format: f16, as the reference runtime keeps it, or 8 bits
 * with an f16 scale per 32 values of a head (Q8_0's blocks): 34 bytes
 * where f16 takes 64, for logits within a quantized file's tolerance.
 */
enum eng_kv { ENG_KV_F16 = 0, ENG_KV_Q8 = 1 };
/* "f16" or "q8" into *kv; -1 (and *kv untouched) for anything else. */
int	 eng_kv_parse(const char *s, enum eng_kv *kv);

struct eng_load_opts {
	uint32_t	 n_ctx;		/* 0: min(model's limit, 4096) */
	uint64_t	 mem_limit;	/* bytes; 0: 80% of physical memory */
	int		 n_threads;	/* 0: online CPUs */
	bool		 vocab_only;	/* tokenizer and metadata only */
	enum eng_kv	 kv;		/* KV cache format (default f16) */
};

struct eng_info {
	char		 arch[32];	/* general.architecture */
	char		 name[128];	/* general.name ("" if absent) */
	char		 license[64];
	char		 ftype[32];	/* "Q4_K_M", "F32", ... from general.file_type or the mix */
	uint64_t	 n_params;
	uint64_t	 file_bytes;
	uint32_t	 n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim;
	uint32_t	 n_ctx_train;	/* the model's context limit */
	uint32_t	 n_ctx;		/* the context this load uses */
	uint32_t	 n_vocab;
	char		 vocab_kind[16];	/* "SentencePiece", "BPE" */
	char		 vocab_pre[32];
	char		 chat_family[16];
	float		 rope_base;
	uint64_t	 mem_weights;	/* bytes mapped for weights */
	uint64_t	 mem_kv;	/* KV cache at n_ctx */
	char		 kv[8];		/* its format: "f16" or "q8" */
	uint64_t	 mem_scratch;	/* activations and logits */
	/* tensor type mix: count and bytes per ggml type */
	uint32_t	 type_count[40];
	uint64_t	 type_bytes[40];
	/* layer kinds: attention layers hold the KV cache (mem_kv), the
	 * recurrent ones (DeltaNet) a fixed state per session (mem_rec);
	 * sliding-window layers attend to the last n_swa positions */
	uint32_t	 n_att_layers, n_rec_layers, n_swa_layers, n_swa;
	uint64_t	 mem_rec;
	char		 features[256];	/* "", or the architecture's special
					 * features in words, "; " apart */
};

/*
 * Open a model: parse and validate the GGUF, check the architecture,
 * tensors, hparams and tokenizer, estimate memory and refuse past
 * opts->mem_limit (ENG_ETOOBIG, with the estimate in *cause).  The file is
 * mmap'd; weights are not copied.  opts may be NULL.
 */
int	 eng_model_open(const char *path, const struct eng_load_opts *opts,
	    struct eng_model **out, char **cause);
void	 eng_model_free(struct eng_model *);
const struct eng_info *eng_model_info(const struct eng_model *);
/* Name of a ggml tensor type ("Q4_K"), or NULL. */
const char *eng_type_name(uint32_t type);
/* The matrix kernels in use on this CPU ("avx512-vnni", "avx2", ...). */
const char *eng_backend(void);
/*
 * probe.c, for `triage doctor`: the best memory read bandwidth in GB/s of
 * a parallel sum over mib MiB, repeated for about secs seconds; and the
 * batched (prefill) matmul rate of a ggml tensor type in GFLOP/s over
 * about secs seconds.  0 if it could not be measured.
 */
double	 eng_probe_membw(int threads, size_t mib, double secs);
double	 eng_probe_matmul(uint32_t type, int threads, double secs);
/*
 * Metadata of a model for display: calls fn once per key with the value
 * rendered as short text (arrays summarised).  For `triage model info -v`.
 */
void	 eng_model_each_kv(const struct eng_model *,
	    void (*fn)(void *arg, const char *key, const char *value), void *arg);

/* ---- text <-> tokens ------------------------------------------------------ */

/* Tokenize plain text (never parses special tokens).  *ids is malloc'd. */
int	 eng_tokenize(const struct eng_model *, const char *text, size_t len,
	    bool add_bos, int32_t **ids, size_t *n);

struct eng_msg {
	const char	*role;		/* "system", "user", "assistant" */
	const char	*content;
};
/*
 * Render a conversation with the model's chat template and tokenize it:
 * template text may hold special tokens, message contents never do.
 * *ids is malloc'd; *text (if not NULL) gets the rendering, malloc'd.
 */
int	 eng_chat_tokenize(const struct eng_model *, const struct eng_msg *msgs,
	    size_t n, int32_t **ids, size_t *nids, char **text, char **cause);
/* Bytes of one token, see vocab_piece(). */
int	 eng_token_piece(const struct eng_model *, int32_t id, char *buf,
	    size_t cap);
bool	 eng_token_is_eog(const struct eng_model *, int32_t id);
/* The chat template has a thinking switch (Qwen3's enable_thinking). */
bool	 eng_chat_has_think(const struct eng_model *);

/* ---- sessions: KV cache and forward pass --------------------------------- */

/* A session owns the KV cache (n_ctx positions) and all scratch buffers. */
int	 eng_session_new(struct eng_model *, struct eng_session **out,
	    char **cause);
void	 eng_session_free(struct eng_session *);
uint32_t eng_session_pos(const struct eng_session *);	/* tokens in the cache */
uint32_t eng_session_ctx(const struct eng_session *);
void	 eng_session_reset(struct eng_session *);
/*
 * Reuse the cache for a prompt: keep the longest common prefix of what is
 * cached and ids[0..n), drop the rest, and return how many tokens were
 * kept (at most n - 1, so that the rest of the prompt is never empty).
 * Decoding ids[kept..n) then gives the logits a fresh prefill of all n
 * would.  The caller invalidates (eng_session_reset) when the model, the
 * context size or the meaning of the cached text changes.
 */
size_t	 eng_session_keep_prefix(struct eng_session *, const int32_t *ids,
	    size_t n);

/*
 * Called between chunks of a long prefill: done of total tokens read.
 * Return non-zero to stop (ENG_ECANCEL).
 */
typedef int (*eng_progress_fn)(void *arg, size_t done, size_t total);

/*
 * Feed n tokens at the current position.  If logits is not NULL it gets
 * n_vocab floats per token when all_logits, else only the last token's.
 * ENG_ECTX if the tokens do not fit; the cache is left unchanged then.
 */
int	 eng_session_decode(struct eng_session *, const int32_t *ids, size_t n,
	    float *logits, bool all_logits, eng_progress_fn, void *arg);

/* ---- constrained output ----------------------------------------------------- */

struct eng_grammar;
/*
 * Compile a JSON Schema (the subset: object whose properties are all
 * required, array with items and maxItems, string with maxLength, enum of
 * strings, integer with minimum/maximum, boolean) into an automaton for
 * compact JSON (no whitespace, no string escapes).  With a model, the
 * token table for its vocabulary is built too (once; the grammar can then
 * constrain eng_gen_start through eng_sample_params.grammar).  m may be
 * NULL for eng_grammar_check only.
 */
int	 eng_grammar_new(const char *schema, size_t len,
	    const struct eng_model *m, struct eng_grammar **out, char **cause);
void	 eng_grammar_free(struct eng_grammar *);
enum {
	ENG_GRAMMAR_COMPLETE = 0,	/* a whole value of the schema */
	ENG_GRAMMAR_INCOMPLETE = 1,	/* a prefix of one: cut short */
	ENG_GRAMMAR_INVALID = 2,	/* not even a prefix */
};
/* Whether text is a value of the schema, the start of one, or neither. */
int	 eng_grammar_check(const struct eng_grammar *, const char *text,
	    size_t len);

/* ---- streaming generation ------------------------------------------------- */

struct eng_sample_params {
	float		 temp;		/* 0: greedy */
	int		 top_k;
	float		 top_p;
	float		 min_p;
	float		 repeat_penalty;
	int		 repeat_last_n;
	uint64_t	 seed;
	uint32_t	 max_tokens;	/* 0: until end of generation or context */
	/* NULL, or a grammar bound to this session's model: only tokens it
	 * allows are sampled, and the end of the turn only once the value
	 * is complete.  Not owned; must outlive the generation. */
	const struct eng_grammar *grammar;
};
void	 eng_sample_defaults(struct eng_sample_params *);

enum eng_event_kind {
	ENG_EV_PROGRESS = 1,	/* prefill: done/total */
	ENG_EV_TEXT,		/* text: whole UTF-8 characters */
	ENG_EV_DONE,		/* status: why it ended */
};

enum eng_stop {
	ENG_STOP_EOG = 1,	/* the model ended its turn */
	ENG_STOP_LENGTH,	/* max_tokens reached */
	ENG_STOP_CTX,		/* the context is full */
	ENG_STOP_CANCEL,	/* eng_gen_cancel() */
	ENG_STOP_ERROR,
	ENG_STOP_INCOMPLETE,	/* constrained: stopped (max_tokens, context)
				   before the value was complete */
};

struct eng_event {
	enum eng_event_kind kind;
	size_t		 done, total;	/* PROGRESS */
	const char	*text;		/* TEXT: the text; DONE: a reason ("" or
					 * e.g. "the context is full").  Valid
					 * until the next eng_gen_next. */
	size_t		 len;
	enum eng_stop	 stop;		/* DONE */
	uint32_t	 n_prompt, n_gen;
	double		 prompt_ms, gen_ms;
};

/*
 * Start generating on a worker thread: prefill `prompt` (n tokens) after
 * whatever the session already holds, then sample until the end of the
 * turn, max_tokens or the context limit.  The session must not be used
 * by the caller until eng_gen_free().
 */
int	 eng_gen_start(struct eng_session *, const int32_t *prompt, size_t n,
	    const struct eng_sample_params *, struct eng_gen **out, char **cause);
/* A descriptor that becomes readable when events are waiting (for poll). */
int	 eng_gen_fd(const struct eng_gen *);
/*
 * Next event without blocking (wait = false: returns 0 if none) or
 * blocking.  Returns 1 with *ev filled, 0 if none, and after ENG_EV_DONE
 * keeps returning 0.
 */
int	 eng_gen_next(struct eng_gen *, struct eng_event *ev, bool wait);
/* Ask it to stop; takes effect within one token (or one prefill chunk). */
void	 eng_gen_cancel(struct eng_gen *);
/* Cancel if running, join the thread, free. */
void	 eng_gen_free(struct eng_gen *);

#endif
