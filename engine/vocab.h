/*
 * vocab.h - tokenizers read from GGUF metadata, internal to engine/.
 *
 *   tokenizer.ggml.model = "llama": SentencePiece (scores, byte fallback <0xNN>)
 *   tokenizer.ggml.model = "gpt2":  byte-level BPE (merges) with the
 *       pre-tokenizer named by tokenizer.ggml.pre (PCRE2 regexes)
 *
 * Text from a user or a log is tokenized with parse_special = false, so a
 * log line containing "<|im_start|>" stays plain text to the model.
 */
#ifndef TRIAGE_ENGINE_VOCAB_H
#define TRIAGE_ENGINE_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf;
struct vocab;

enum vocab_kind { VOCAB_SPM = 1, VOCAB_BPE = 2 };

/* Token types, as tokenizer.ggml.token_type numbers them. */
enum vocab_ttype {
	TT_UNDEFINED = 0, TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3,
	TT_USER_DEFINED = 4, TT_UNUSED = 5, TT_BYTE = 6,
};

/*
 * Build the tokenizer from g's tokenizer.* keys.  Validates array types and
 * lengths, special ids against the vocabulary size, byte tokens, merges.
 * Returns 0, or -1 with *cause naming the key and the problem.  The vocab
 * copies what it needs: it does not keep pointers into g.
 */
int	 vocab_load(const struct gguf *g, struct vocab **out, char **cause);
void	 vocab_free(struct vocab *);

enum vocab_kind vocab_kind(const struct vocab *);
const char *vocab_pre(const struct vocab *);	/* "llama-bpe", "default", ... */
uint32_t vocab_size(const struct vocab *);
int32_t	 vocab_bos(const struct vocab *);	/* -1 if none */
int32_t	 vocab_eos(const struct vocab *);
bool	 vocab_add_bos(const struct vocab *);
bool	 vocab_add_eos(const struct vocab *);
/* End of generation: eos, eot (<|eot_id|>, <|im_end|>, <|end|>, ...). */
bool	 vocab_is_eog(const struct vocab *, int32_t id);
enum vocab_ttype vocab_ttype(const struct vocab *, int32_t id);
/* Raw token text (as stored) and its length; NULL for a bad id. */
const char *vocab_text(const struct vocab *, int32_t id, size_t *len);
/* Id of a token whose text is exactly s[0..n), or -1. */
int32_t	 vocab_find(const struct vocab *, const char *s, size_t n);

/*
 * Tokenize text[0..len) and append the ids to *ids (a growable array with
 * *n used and *cap allocated; realloc'd as needed, caller frees).
 * add_special: add BOS (and EOS) as the vocabulary's flags say.
 * parse_special: recognise control token texts in the text; only for text
 * the program built itself (chat templates).  Without it no CONTROL or
 * UNKNOWN token ever comes out of the text.  USER_DEFINED tokens (plain
 * added words: runs of spaces, Qwen3's <think>) are split out of any text,
 * as the reference runtime and the HF tokenizers do.
 * Returns 0 or -1 (out of memory).
 */
int	 vocab_tokenize(const struct vocab *, const char *text, size_t len,
	    bool add_special, bool parse_special, int32_t **ids, size_t *n,
	    size_t *cap);

/*
 * The bytes token `id` stands for (SentencePiece "▁" as a space, <0xNN> as
 * the byte, byte-level BPE unmapped).  Control tokens give "" unless
 * `special`.  Writes up to cap bytes; returns the full length, or -1 for
 * a bad id.  The bytes may be part of a UTF-8 character: see detok.
 */
int	 vocab_piece(const struct vocab *, int32_t id, bool special, char *buf,
	    size_t cap);

/*
 * Streaming detokenizer: feeds pieces in, gives out only whole UTF-8
 * characters, so a character split over two tokens never reaches the
 * screen in halves.  Invalid sequences come out as U+FFFD (one per
 * maximal invalid subsequence, as Unicode recommends).
 */
struct detok {
	char	 pend[8];
	size_t	 npend;
	bool	 first;	/* SentencePiece: drop the space before the first
			 * word (a leading ' ' of the first non-empty piece) */
};
void	 detok_init(struct detok *, const struct vocab *);
/* Append the complete characters of piece (and pending bytes) to out
 * (cap bytes, cap >= n + 8); returns the number of bytes written.  Never
 * writes more than cap: valid UTF-8 needs at most n + 3 bytes, but each
 * invalid byte grows to a 3-byte U+FFFD, so only cap >= 3 * n + 3 keeps
 * every replacement of a garbage piece (the excess is dropped). */
size_t	 detok_push(struct detok *, const char *piece, size_t n, char *out,
	    size_t cap);
/* Flush what is pending at the end of a stream (as U+FFFD). */
size_t	 detok_flush(struct detok *, char *out, size_t cap);

#endif
