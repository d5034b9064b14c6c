/*
 * vocab.c - SentencePiece and byte-level BPE tokenizers from GGUF metadata.
 *
 * Keys read (all under tokenizer.ggml.):
 *   model            "llama" (SentencePiece) or "gpt2" (byte-level BPE)
 *   tokens           string array, the vocabulary; ids are indices
 *   scores           f32 (or i32) array, same length: SentencePiece merge
 *                    priority (optional)
 *   token_type       i32 array, same length: enum vocab_ttype (optional)
 *   merges           string array "left right", rank = index (BPE only)
 *   pre              pre-tokenizer name (BPE only, see pretok.c)
 *   bos_token_id ... special ids; add_bos_token, add_eos_token,
 *   add_space_prefix flags
 *
 * The behaviour is that of the reference runtime (llama.cpp's
 * llama-vocab.cpp), including its defaults, so that token ids match what
 * the model was tuned on:
 *
 *   - special/user tokens are split out of the text first, longest text
 *     first (tokenizer_st_partition).  With parse_special = false only
 *     USER_DEFINED tokens are (the reference and HF tokenizers both do:
 *     they are plain added words such as runs of spaces); CONTROL and
 *     UNKNOWN tokens never come from text;
 *   - SentencePiece: spaces become U+2581, a space is put before the text
 *     at the start and after each special token (add_space_prefix), then
 *     adjacent pieces are merged best score first; a character that is no
 *     token falls back to its <0xNN> byte tokens;
 *   - BPE: pretok.c cuts words; inside a word the lowest-ranked merge of
 *     adjacent symbols is applied first (ties: leftmost).
 *
 * Metadata is input: every array type, length, id, byte-token text and
 * merge is checked, and a bad one is an error naming the key.  Lookups
 * are hash tables and merging is O(n log n) per word, so a 1 MB paste is
 * tokenized in a fraction of a second.
 *
 * Where we differ from the reference, on purpose:
 *   - refused, where it warns or guesses: duplicate token texts, special
 *     ids outside the vocabulary (given or defaulted), merges whose parts
 *     or result are not tokens, NaN scores, malformed <0xNN> texts;
 *   - "</s>" typed USER_DEFINED (Gemma 3/4: an HTML word) stays a word
 *     that text may hold and does not end generation; the reference's
 *     list of end-of-generation texts makes any "</s>" a control token;
 *   - a merge or piece whose result is a CONTROL/UNKNOWN token is never
 *     made from text (the reference would make it if a vocabulary spells
 *     it), and its gpt-oss workaround that demotes <|end|> & co. to
 *     user-defined tokens is not copied;
 *   - a character with neither a piece nor byte tokens becomes <unk> and
 *     a 4-byte UTF-8 value past U+10FFFF is junk bytes (both throw there);
 *   - a merge run longer than MERGE_CHUNK_MAX with no safe cut is cut.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "pretok.h"
#include "vocab.h"

#define VOCAB_MAX_TOKENS	(1u << 24)	/* 64x the largest real one */
#define VOCAB_MAX_TOKEN_BYTES	65536		/* one token's text */
#define VOCAB_MAX_MERGES	(1u << 25)
#define VOCAB_PRE_MAX		32
/*
 * Merging is cut into independent chunks wherever no token can span the
 * cut (see merge_cut()), which is exact; a run with no such place is cut
 * every MERGE_CHUNK_MAX bytes anyway, which can change the tokens near
 * the cut, but only inside a 16 KiB run of text that no token may split
 * (one "word" of 16 KiB: never seen in real logs).
 */
#define MERGE_CHUNK_MAX		16384

#define SPM_SPACE	"\xE2\x96\x81"	/* U+2581: SentencePiece space */
#define SPM_SPACE_LEN	3

/* Extra per-token attributes the reference sets by model name. */
#define VA_RSTRIP	0x01	/* eat white space after the token */

struct tok {
	uint32_t	 off;		/* into vocab.text */
	uint32_t	 len;
	float		 score;
	uint8_t		 type;		/* vocab_ttype, after overrides */
	uint8_t		 attr;		/* VA_* */
	uint8_t		 eog;
};

/* Merge table slot; left == MERGE_EMPTY marks a free one. */
#define MERGE_EMPTY	UINT32_MAX
struct merge {
	uint32_t	 left, right;	/* token ids */
	uint32_t	 rank;
	uint32_t	 result;	/* id of left + right */
};

struct vocab {
	enum vocab_kind	 kind;
	char		 pre[VOCAB_PRE_MAX];
	uint32_t	 n;
	struct tok	*tok;
	char		*text;		/* the texts, NUL-terminated */
	uint32_t	 max_len;	/* longest token text */

	uint32_t	*idx;		/* text hash: id + 1, 0 = free */
	uint32_t	 idx_mask;

	struct merge	*mrg;
	uint32_t	 mrg_mask;
	uint32_t	 nmerges;
	struct pretok	*pt;

	int32_t		 bos, eos, eot, eom, unk, sep, pad, mask;
	int32_t		 fim_pad, fim_rep, fim_sep;
	bool		 add_bos, add_eos, add_space_prefix, ignore_merges;

	int32_t		*special;	/* split order: longest first */
	size_t		 nspecial;

	/*
	 * Byte fallbacks.  SPM: <0xNN> (or the byte as a one-byte token).
	 * BPE: the token of the byte's mapped character, and if there is
	 * none, the one-byte tokens of that character's UTF-8 bytes.
	 */
	int32_t		 byte_id[256];
	int32_t		 byte_fb[256][2];
	int16_t		 unmap[0x144];	/* BPE: mapped cp -> byte */
	/* BPE: first and last byte of each byte's mapped character */
	uint8_t		 mfirst[256], mlast[256];

	/* Byte pairs (a << 8 | b) that occur inside some token's text. */
	uint64_t	 pairs[65536 / 64];
};

/* ---- helpers ------------------------------------------------------------- */

static void
set_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL || *cause != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, then a mix */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
hash_pair(uint32_t a, uint32_t b)
{
	uint64_t x = (uint64_t)a << 32 | b;	/* splitmix64 finalizer */

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint32_t
table_size(uint64_t n)
{
	uint64_t s = 16;

	while (s < n + n / 2 + 1)	/* load factor <= 2/3 */
		s <<= 1;
	return (uint32_t)s;
}

static const char *
tok_text(const struct vocab *v, uint32_t id)
{
	return v->text + v->tok[id].off;
}

/*
 * May text produce this token?  CONTROL and UNKNOWN tokens come only
 * from parse_special (or as the fallback <unk>): even a vocabulary whose
 * merges or pieces spell "<|im_start|>" does not get it from text.
 */
static bool
text_ok(const struct vocab *v, int32_t id)
{
	return id >= 0 && v->tok[id].type != TT_CONTROL &&
	    v->tok[id].type != TT_UNKNOWN;
}

static int32_t
find(const struct vocab *v, const char *s, size_t n)
{
	uint32_t i = (uint32_t)hash_bytes(s, n) & v->idx_mask;

	if (n == 0 || n > v->max_len)
		return -1;
	for (;; i = (i + 1) & v->idx_mask) {
		uint32_t e = v->idx[i];

		if (e == 0)
			return -1;
		if (v->tok[e - 1].len == n &&
		    memcmp(tok_text(v, e - 1), s, n) == 0)
			return (int32_t)(e - 1);
	}
}

/* Returns the merge for (left, right), or NULL. */
static const struct merge *
merge_find(const struct vocab *v, uint32_t left, uint32_t right)
{
	uint32_t i = (uint32_t)hash_pair(left, right) & v->mrg_mask;

	for (;; i = (i + 1) & v->mrg_mask) {
		const struct merge *m = &v->mrg[i];

		if (m->left == MERGE_EMPTY)
			return NULL;
		if (m->left == left && m->right == right)
			return m;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte of a "<0xNN>" text: exactly two hex digits, no sign. */
static int
byte_token_value(const char *s, size_t n)
{
	int hi, lo;

	if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
		return -1;
	if ((hi = hexval(s[3])) < 0 || (lo = hexval(s[4])) < 0)
		return -1;
	return hi << 4 | lo;
}

/* ---- loading --------------------------------------------------------- */

/*
 * Index and type of array `key` (elements of type `want`, or of `alt` if
 * alt != want) with exactly `n` elements (n == 0: any).  Returns 1 if
 * present and valid, 0 if absent, -1 (with *cause) if malformed.
 */
static int
get_array(const struct gguf *g, const char *key, enum gguf_vtype want,
    enum gguf_vtype alt, uint64_t n, int64_t *index, enum gguf_vtype *elem,
    uint64_t *count, char **cause)
{
	int64_t i = gguf_find(g, key);

	if (i < 0)
		return 0;
	if (gguf_type(g, (uint64_t)i) != GGUF_ARR ||
	    gguf_get_arr(g, key, elem, count, index) != 0) {
		set_cause(cause, "%s: not an array (%s)", key,
		    gguf_vtype_name(gguf_type(g, (uint64_t)i)));
		return -1;
	}
	if (*elem != want && *elem != alt) {
		set_cause(cause, "%s: array of %s, expected %s", key,
		    gguf_vtype_name(*elem), gguf_vtype_name(want));
		return -1;
	}
	if (n != 0 && *count != n) {
		set_cause(cause, "%s: %llu entries for %llu tokens", key,
		    (unsigned long long)*count, (unsigned long long)n);
		return -1;
	}
	return 1;
}

/* A boolean key: 1 = *v set, 0 = absent, -1 = wrong type. */
static int
get_flag(const struct gguf *g, const char *key, bool *v, char **cause)
{
	int64_t i = gguf_find(g, key);

	if (i < 0)
		return 0;
	if (gguf_get_bool(g, key, v) != 0) {
		set_cause(cause, "%s: expected a bool, found %s", key,
		    gguf_vtype_name(gguf_type(g, (uint64_t)i)));
		return -1;
	}
	return 1;
}

/*
 * A special token id.  Absent keeps *id (the default).  -1 and
 * 4294967295 mean "none" (converters write them).  Anything else must be
 * an integer below the vocabulary size.
 */
static int
get_id(const struct gguf *g, const char *key, uint32_t n, int32_t *id,
    char **cause)
{
	int64_t i = gguf_find(g, key);
	enum gguf_vtype t;
	double d;

	if (i < 0)
		return 0;
	t = gguf_type(g, (uint64_t)i);
	if (t == GGUF_F32 || t == GGUF_F64 || t == GGUF_BOOL ||
	    t == GGUF_STR || t == GGUF_ARR ||
	    gguf_scalar_f64(g, (uint64_t)i, &d) != 0) {
		set_cause(cause, "%s: expected an integer, found %s", key,
		    gguf_vtype_name(t));
		return -1;
	}
	if (d == -1.0 || d == 4294967295.0) {
		*id = -1;
		return 0;
	}
	if (d < 0 || d >= (double)n) {
		set_cause(cause, "%s: token id %.0f is outside the vocabulary "
		    "(%u tokens)", key, d, n);
		return -1;
	}
	*id = (int32_t)d;
	return 0;
}

static int
load_tokens(struct vocab *v, const struct gguf *g, char **cause)
{
	int64_t ti, si = -1, yi = -1;
	enum gguf_vtype te, se = GGUF_F32, ye;
	uint64_t n, cnt;
	const unsigned char *scores = NULL, *types = NULL;
	size_t total = 0;
	int r;

	if ((r = get_array(g, "tokenizer.ggml.tokens", GGUF_STR, GGUF_STR, 0,
	    &ti, &te, &n, cause)) <= 0) {
		if (r == 0)
			set_cause(cause, "tokenizer.ggml.tokens: missing");
		return -1;
	}
	if (n == 0) {
		set_cause(cause, "tokenizer.ggml.tokens: the vocabulary is "
		    "empty");
		return -1;
	}
	if (n > VOCAB_MAX_TOKENS) {
		set_cause(cause, "tokenizer.ggml.tokens: %llu tokens, over "
		    "the limit of %u", (unsigned long long)n, VOCAB_MAX_TOKENS);
		return -1;
	}
	v->n = (uint32_t)n;
	if ((r = get_array(g, "tokenizer.ggml.scores", GGUF_F32, GGUF_I32, n,
	    &si, &se, &cnt, cause)) < 0)
		return -1;
	if (r > 0 && (scores = gguf_arr_data(g, (uint64_t)si)) == NULL) {
		set_cause(cause, "tokenizer.ggml.scores: no data");
		return -1;
	}
	if ((r = get_array(g, "tokenizer.ggml.token_type", GGUF_I32, GGUF_I32,
	    n, &yi, &ye, &cnt, cause)) < 0)
		return -1;
	if (r > 0 && (types = gguf_arr_data(g, (uint64_t)yi)) == NULL) {
		set_cause(cause, "tokenizer.ggml.token_type: no data");
		return -1;
	}

	if ((v->tok = calloc(n, sizeof *v->tok)) == NULL)
		goto oom;
	for (uint64_t i = 0; i < n; i++) {
		struct gguf_str s;

		if (gguf_arr_str(g, (uint64_t)ti, i, &s) != 0) {
			set_cause(cause, "tokenizer.ggml.tokens[%llu]: "
			    "unreadable", (unsigned long long)i);
			return -1;
		}
		if (s.n > VOCAB_MAX_TOKEN_BYTES) {
			set_cause(cause, "tokenizer.ggml.tokens[%llu]: %llu "
			    "bytes, over the limit of %d",
			    (unsigned long long)i, (unsigned long long)s.n,
			    VOCAB_MAX_TOKEN_BYTES);
			return -1;
		}
		/* "[EMPTY_i]" replaces an empty text, as the reference does. */
		total += (s.n > 0 ? s.n : 32) + 1;
	}
	if (total > UINT32_MAX) {
		set_cause(cause, "tokenizer.ggml.tokens: texts too large");
		return -1;
	}
	if ((v->text = malloc(total)) == NULL)
		goto oom;
	total = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct tok *t = &v->tok[i];
		struct gguf_str s;

		(void)gguf_arr_str(g, (uint64_t)ti, i, &s);
		t->off = (uint32_t)total;
		if (s.n > 0) {
			memcpy(v->text + total, s.p, s.n);
			t->len = (uint32_t)s.n;
		} else
			t->len = (uint32_t)snprintf(v->text + total, 32,
			    "[EMPTY_%llu]", (unsigned long long)i);
		v->text[total + t->len] = '\0';
		total += t->len + 1;
		if (t->len > v->max_len)
			v->max_len = t->len;
		t->type = TT_NORMAL;
		if (types != NULL) {
			int32_t ty;

			memcpy(&ty, types + i * 4, 4);
			t->type = ty >= TT_NORMAL && ty <= TT_BYTE ?
			    (uint8_t)ty : TT_UNDEFINED;
		}
		if (scores != NULL) {
			if (se == GGUF_I32) {
				int32_t iv;

				memcpy(&iv, scores + i * 4, 4);
				t->score = (float)iv;
			} else
				memcpy(&t->score, scores + i * 4, 4);
			if (isnan(t->score)) {
				set_cause(cause, "tokenizer.ggml.scores[%llu]: "
				    "not a number", (unsigned long long)i);
				return -1;
			}
		}
		if (t->type == TT_BYTE &&
		    byte_token_value(v->text + t->off, t->len) < 0) {
			set_cause(cause, "tokenizer.ggml.tokens[%llu]: byte "
			    "token '%.16s' is not <0xNN>",
			    (unsigned long long)i, v->text + t->off);
			return -1;
		}
	}

	for (uint32_t id = 0; id < v->n; id++) {
		const unsigned char *p = (const unsigned char *)tok_text(v, id);

		for (uint32_t i = 1; i < v->tok[id].len; i++) {
			unsigned q = (unsigned)p[i - 1] << 8 | p[i];

			v->pairs[q / 64] |= 1ULL << (q % 64);
		}
	}

	/* Text -> id. */
	v->idx_mask = table_size(n) - 1;
	if ((v->idx = calloc((size_t)v->idx_mask + 1, sizeof *v->idx)) == NULL)
		goto oom;
	for (uint32_t id = 0; id < v->n; id++) {
		const struct tok *t = &v->tok[id];
		uint32_t i = (uint32_t)hash_bytes(tok_text(v, id), t->len) &
		    v->idx_mask;

		for (;; i = (i + 1) & v->idx_mask) {
			uint32_t e = v->idx[i];

			if (e == 0) {
				v->idx[i] = id + 1;
				break;
			}
			if (v->tok[e - 1].len == t->len &&
			    memcmp(tok_text(v, e - 1), tok_text(v, id),
			    t->len) == 0) {
				set_cause(cause, "tokenizer.ggml.tokens: "
				    "'%.32s' appears twice (ids %u and %u)",
				    tok_text(v, id), e - 1, id);
				return -1;
			}
		}
	}
	return 0;
oom:
	set_cause(cause, "out of memory");
	return -1;
}

static int
load_merges(struct vocab *v, const struct gguf *g, char **cause)
{
	int64_t mi;
	enum gguf_vtype me;
	uint64_t n;
	char *buf = NULL;
	int r;

	if ((r = get_array(g, "tokenizer.ggml.merges", GGUF_STR, GGUF_STR, 0,
	    &mi, &me, &n, cause)) <= 0) {
		if (r == 0)
			set_cause(cause, "tokenizer.ggml.merges: missing, "
			    "a BPE vocabulary needs its merges");
		return -1;
	}
	if (n == 0) {
		set_cause(cause, "tokenizer.ggml.merges: empty");
		return -1;
	}
	if (n > VOCAB_MAX_MERGES) {
		set_cause(cause, "tokenizer.ggml.merges: %llu merges, over "
		    "the limit of %u", (unsigned long long)n, VOCAB_MAX_MERGES);
		return -1;
	}
	v->mrg_mask = table_size(n) - 1;
	if ((v->mrg = malloc(((size_t)v->mrg_mask + 1) * sizeof *v->mrg)) ==
	    NULL || (buf = malloc((size_t)v->max_len * 2 + 1)) == NULL) {
		free(buf);
		set_cause(cause, "out of memory");
		return -1;
	}
	for (size_t i = 0; i <= v->mrg_mask; i++)
		v->mrg[i].left = MERGE_EMPTY;
	for (uint64_t k = 0; k < n; k++) {
		struct gguf_str s = { NULL, 0 };
		const char *sp;
		int32_t a, b, c;
		uint32_t i;

		if (gguf_arr_str(g, (uint64_t)mi, k, &s) != 0)
			goto bad;
		/* Split at the first space after the first byte. */
		sp = s.n > 1 ? memchr(s.p + 1, ' ', s.n - 1) : NULL;
		if (sp == NULL)
			goto bad;
		a = find(v, s.p, (size_t)(sp - s.p));
		b = find(v, sp + 1, s.n - (size_t)(sp - s.p) - 1);
		if (a < 0 || b < 0)
			goto bad;
		/* both parts are tokens, so the join fits in 2 * max_len */
		memcpy(buf, s.p, (size_t)(sp - s.p));
		memcpy(buf + (sp - s.p), sp + 1, s.n - (size_t)(sp - s.p) - 1);
		if ((c = find(v, buf, s.n - 1)) < 0)
			goto bad;
		i = (uint32_t)hash_pair((uint32_t)a, (uint32_t)b) & v->mrg_mask;
		for (;; i = (i + 1) & v->mrg_mask) {
			struct merge *m = &v->mrg[i];

			if (m->left == MERGE_EMPTY) {
				m->left = (uint32_t)a;
				m->right = (uint32_t)b;
				m->rank = (uint32_t)k;
				m->result = (uint32_t)c;
				v->nmerges++;
				break;
			}
			if (m->left == (uint32_t)a && m->right == (uint32_t)b)
				break;	/* a repeat: first rank stands */
		}
		continue;
bad:
		set_cause(cause, "tokenizer.ggml.merges[%llu]: '%.*s' is "
		    "not two tokens whose concatenation is a token",
		    (unsigned long long)k, (int)(s.n < 40 ? s.n : 40),
		    s.p != NULL ? s.p : "");
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/* Texts the reference treats as end of turn / generation (and Gemma 4's
 * <turn|>, which closes each of its turns). */
static const char *const eot_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<turn|>",
	"<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
	"<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
	"<end_of_utterance>", NULL
};
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
	"<end_of_turn>", "<turn|>", "<|endoftext|>", "</s>", "<|eom_id|>",
	"<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
	"<end_of_utterance>",
	"<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
	NULL
};
/* Fill-in-the-middle markers: made CONTROL so text never produces them. */
static const char *const fim_texts[] = {
	"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
	"<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>",
	"\xE2\x96\x81<PRE>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
	"<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>", "<SUF>",
	"\xE2\x96\x81<SUF>", "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
	"<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>",
	"\xE2\x96\x81<MID>", NULL
};
/* FIM pad / repository / file separator: also end generation. */
static const char *const fim_eog_texts[] = {
	"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
	"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
	"<|file_sep|>", NULL
};

static int32_t
find_any(const struct vocab *v, const char *const *texts)
{
	int32_t best = -1;

	for (; *texts != NULL; texts++) {
		int32_t id = find(v, *texts, strlen(*texts));

		if (id >= 0 && (best < 0 || id < best))
			best = id;
	}
	return best;
}

static void
make_control(struct vocab *v, int32_t id)
{
	if (id >= 0)
		v->tok[id].type = TT_CONTROL;
}

static void
mark_eog(struct vocab *v, int32_t id)
{
	if (id >= 0)
		v->tok[id].eog = 1;
}

static int
cmp_special(const void *a, const void *b, void *arg)
{
	const struct vocab *v = arg;
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	if (v->tok[x].len != v->tok[y].len)
		return v->tok[x].len > v->tok[y].len ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int
load_specials(struct vocab *v, const struct gguf *g, char **cause)
{
	static const struct {
		const char	*key;
		size_t		 off;
	} ids[] = {
#define ID(k, f) { "tokenizer.ggml." k, offsetof(struct vocab, f) }
		ID("bos_token_id", bos), ID("eos_token_id", eos),
		ID("eot_token_id", eot), ID("eom_token_id", eom),
		ID("unknown_token_id", unk), ID("seperator_token_id", sep),
		ID("padding_token_id", pad), ID("mask_token_id", mask),
		ID("fim_pad_token_id", fim_pad),
		ID("fim_rep_token_id", fim_rep),
		ID("fim_sep_token_id", fim_sep),
#undef ID
	};
	struct gguf_str name;
	char lname[64];
	int32_t id;

	/* Defaults per model type; a default outside the vocabulary is an
	 * error like an explicit one. */
	v->eot = v->eom = v->sep = v->pad = v->mask = -1;
	v->fim_pad = v->fim_rep = v->fim_sep = -1;
	if (v->kind == VOCAB_SPM) {
		v->bos = 1;
		v->eos = 2;
		v->unk = 0;
	} else {
		v->bos = v->eos = 11;
		v->unk = -1;
	}
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (get_id(g, ids[i].key, v->n,
		    (int32_t *)((char *)v + ids[i].off), cause) != 0)
			return -1;
	if (v->bos >= (int32_t)v->n || v->eos >= (int32_t)v->n ||
	    v->unk >= (int32_t)v->n) {
		set_cause(cause, "tokenizer.ggml.bos/eos/unknown_token_id: the "
		    "default ids (bos %d, eos %d, unk %d) are outside the "
		    "vocabulary (%u tokens)", v->bos, v->eos, v->unk, v->n);
		return -1;
	}
	if (get_flag(g, "tokenizer.ggml.add_bos_token", &v->add_bos,
	    cause) < 0 ||
	    get_flag(g, "tokenizer.ggml.add_eos_token", &v->add_eos,
	    cause) < 0 ||
	    get_flag(g, "tokenizer.ggml.add_space_prefix",
	    &v->add_space_prefix, cause) < 0)
		return -1;
	if (v->add_bos && v->bos < 0) {
		set_cause(cause, "tokenizer.ggml.add_bos_token is true but "
		    "there is no BOS token");
		return -1;
	}
	if (v->add_eos && v->eos < 0) {
		set_cause(cause, "tokenizer.ggml.add_eos_token is true but "
		    "there is no EOS token");
		return -1;
	}

	/* Tokens the reference recognises by their text. */
	if (v->eot < 0 && (v->eot = find_any(v, eot_texts)) >= 0)
		make_control(v, v->eot);
	if (v->eom < 0 && (v->eom = find(v, "<|eom_id|>", 10)) >= 0)
		make_control(v, v->eom);
	for (const char *const *t = fim_texts; *t != NULL; t++)
		make_control(v, find(v, *t, strlen(*t)));
	for (const char *const *t = fim_eog_texts; *t != NULL; t++) {
		id = find(v, *t, strlen(*t));
		make_control(v, id);
		mark_eog(v, id);
	}
	for (const char *const *t = eog_texts; *t != NULL; t++) {
		id = find(v, *t, strlen(*t));
		/* Gemma 3/4's "</s>" is a user-defined HTML word that its
		 * own tokenizer finds in text; it ends nothing there. */
		if (id >= 0 && v->tok[id].type == TT_USER_DEFINED &&
		    strcmp(*t, "</s>") == 0)
			continue;
		make_control(v, id);
		mark_eog(v, id);
	}
	mark_eog(v, v->eos);
	mark_eog(v, v->eot);
	mark_eog(v, v->eom);
	mark_eog(v, v->fim_pad);
	mark_eog(v, v->fim_rep);
	mark_eog(v, v->fim_sep);
	/*
	 * Not copied from the reference: its gpt-oss/solar workarounds turn
	 * <|end|>, <|channel|> ... into USER_DEFINED tokens, which would
	 * make them recognisable in plain text.
	 */

	/* Tokens split out of text before tokenizing. */
	for (uint32_t i = 0; i < v->n; i++) {
		uint8_t ty = v->tok[i].type;

		v->nspecial += ty == TT_CONTROL || ty == TT_USER_DEFINED ||
		    ty == TT_UNKNOWN;
	}
	if (v->nspecial > 0) {
		size_t k = 0;

		if ((v->special = malloc(v->nspecial * sizeof *v->special)) ==
		    NULL) {
			set_cause(cause, "out of memory");
			return -1;
		}
		for (uint32_t i = 0; i < v->n; i++) {
			uint8_t ty = v->tok[i].type;

			if (ty == TT_CONTROL || ty == TT_USER_DEFINED ||
			    ty == TT_UNKNOWN)
				v->special[k++] = (int32_t)i;
		}
		qsort_r(v->special, v->nspecial, sizeof *v->special,
		    cmp_special, v);
	}

	/* Phi-3: white space after its special tokens belongs to them. */
	if (gguf_get_str(g, "general.name", &name) == 0) {
		size_t n = name.n < sizeof lname ? name.n : sizeof lname - 1;

		for (size_t i = 0; i < n; i++)
			lname[i] = (char)tolower((unsigned char)name.p[i]);
		lname[n] = '\0';
		if (strstr(lname, "phi-3") != NULL || strstr(lname, "phi3") !=
		    NULL) {
			for (size_t i = 0; i < v->nspecial; i++)
				v->tok[v->special[i]].attr |= VA_RSTRIP;
			if ((id = find(v, "</s>", 4)) >= 0)
				v->tok[id].attr |= VA_RSTRIP;
			if ((id = find(v, "<unk>", 5)) >= 0)
				v->tok[id].attr &= (uint8_t)~VA_RSTRIP;
			if ((id = find(v, "<s>", 3)) >= 0)
				v->tok[id].attr &= (uint8_t)~VA_RSTRIP;
			if ((id = find(v, "<|endoftext|>", 13)) >= 0)
				v->tok[id].attr &= (uint8_t)~VA_RSTRIP;
		}
	}
	return 0;
}

static void
build_bytes(struct vocab *v)
{
	for (unsigned b = 0; b < 256; b++) {
		char s[8];
		size_t n;

		v->byte_fb[b][0] = v->byte_fb[b][1] = -1;
		if (v->kind == VOCAB_SPM) {
			snprintf(s, sizeof s, "<0x%02X>", b);
			v->byte_id[b] = find(v, s, 6);
			if (!text_ok(v, v->byte_id[b])) {
				s[0] = (char)b;
				v->byte_id[b] = find(v, s, 1);
			}
			if (!text_ok(v, v->byte_id[b]))
				v->byte_id[b] = -1;
			continue;
		}
		n = utf8_encode(bytemap_cp((uint8_t)b), s);
		v->mfirst[b] = (uint8_t)s[0];
		v->mlast[b] = (uint8_t)s[n - 1];
		v->byte_id[b] = find(v, s, n);
		if (!text_ok(v, v->byte_id[b]))
			v->byte_id[b] = -1;
		for (size_t i = 0; i < n && i < 2; i++) {
			v->byte_fb[b][i] = find(v, s + i, 1);
			if (!text_ok(v, v->byte_fb[b][i]))
				v->byte_fb[b][i] = -1;
		}
	}
	for (uint32_t cp = 0; cp < sizeof v->unmap / sizeof v->unmap[0]; cp++)
		v->unmap[cp] = (int16_t)bytemap_byte(cp);
}

int
vocab_load(const struct gguf *g, struct vocab **out, char **cause)
{
	struct vocab *v;
	struct gguf_str model, pre;
	bool have_pre;

	if (cause != NULL)
		*cause = NULL;
	if ((v = calloc(1, sizeof *v)) == NULL) {
		set_cause(cause, "out of memory");
		return -1;
	}
	if (gguf_find(g, "tokenizer.ggml.model") < 0) {
		set_cause(cause, "tokenizer.ggml.model: missing");
		goto fail;
	}
	if (gguf_get_str(g, "tokenizer.ggml.model", &model) != 0) {
		set_cause(cause, "tokenizer.ggml.model: not a string");
		goto fail;
	}
	if (model.n == 5 && memcmp(model.p, "llama", 5) == 0)
		v->kind = VOCAB_SPM;
	else if (model.n == 4 && memcmp(model.p, "gpt2", 4) == 0)
		v->kind = VOCAB_BPE;
	else {
		set_cause(cause, "tokenizer.ggml.model: '%.*s' is not "
		    "supported (only llama and gpt2)",
		    (int)(model.n < 32 ? model.n : 32), model.p);
		goto fail;
	}
	have_pre = gguf_find(g, "tokenizer.ggml.pre") >= 0;
	if (have_pre && gguf_get_str(g, "tokenizer.ggml.pre", &pre) != 0) {
		set_cause(cause, "tokenizer.ggml.pre: not a string");
		goto fail;
	}
	if (have_pre && pre.n > 0) {
		if (pre.n >= sizeof v->pre ||
		    memchr(pre.p, '\0', pre.n) != NULL) {
			set_cause(cause, "tokenizer.ggml.pre: unknown "
			    "pre-tokenizer '%.*s'",
			    (int)(pre.n < 32 ? pre.n : 32), pre.p);
			goto fail;
		}
		memcpy(v->pre, pre.p, pre.n);
	} else
		strcpy(v->pre, "default");

	if (load_tokens(v, g, cause) != 0)
		goto fail;
	if (v->kind == VOCAB_SPM) {
		v->add_space_prefix = true;
		v->add_bos = true;
	} else {
		if (pretok_new(v->pre, &v->pt, cause) != 0)
			goto fail;
		if (strcmp(v->pre, "llama3") == 0 ||
		    strcmp(v->pre, "llama-v3") == 0 ||
		    strcmp(v->pre, "llama-bpe") == 0 ||
		    strcmp(v->pre, "falcon3") == 0 ||
		    strcmp(v->pre, "falcon-h1") == 0 ||
		    strcmp(v->pre, "pixtral") == 0 ||
		    strcmp(v->pre, "midm-2.0") == 0 ||
		    strcmp(v->pre, "lfm2") == 0 ||
		    strcmp(v->pre, "tekken") == 0) {
			v->ignore_merges = true;
			v->add_bos = true;
		}
		if (load_merges(v, g, cause) != 0)
			goto fail;
	}
	if (load_specials(v, g, cause) != 0)
		goto fail;
	build_bytes(v);
	*out = v;	/* transferred */
	return 0;
fail:
	if (cause != NULL && *cause == NULL)
		*cause = strdup("tokenizer: invalid metadata");
	vocab_free(v);
	return -1;
}

void
vocab_free(struct vocab *v)
{
	if (v == NULL)
		return;
	pretok_free(v->pt);
	free(v->tok);
	free(v->text);
	free(v->idx);
	free(v->mrg);
	free(v->special);
	free(v);
}

/* ---- accessors ----------------------------------------------------------- */

enum vocab_kind
vocab_kind(const struct vocab *v)
{
	return v->kind;
}

const char *
vocab_pre(const struct vocab *v)
{
	return v->pre;
}

uint32_t
vocab_size(const struct vocab *v)
{
	return v->n;
}

int32_t
vocab_bos(const struct vocab *v)
{
	return v->bos;
}

int32_t
vocab_eos(const struct vocab *v)
{
	return v->eos;
}

bool
vocab_add_bos(const struct vocab *v)
{
	return v->add_bos;
}

bool
vocab_add_eos(const struct vocab *v)
{
	return v->add_eos;
}

bool
vocab_is_eog(const struct vocab *v, int32_t id)
{
	return id >= 0 && (uint32_t)id < v->n && v->tok[id].eog;
}

enum vocab_ttype
vocab_ttype(const struct vocab *v, int32_t id)
{
	if (id < 0 || (uint32_t)id >= v->n)
		return TT_UNDEFINED;
	return (enum vocab_ttype)v->tok[id].type;
}

const char *
vocab_text(const struct vocab *v, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= v->n)
		return NULL;
	if (len != NULL)
		*len = v->tok[id].len;
	return tok_text(v, (uint32_t)id);
}

int32_t
vocab_find(const struct vocab *v, const char *s, size_t n)
{
	return find(v, s, n);
}

/* ---- tokenizing ---------------------------------------------------------- */

static int
push(int32_t **ids, size_t *n, size_t *cap, int32_t id)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int32_t *p = realloc(*ids, nc * sizeof *p);

		if (p == NULL)
			return -1;
		*ids = p;
		*cap = nc;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

/* A piece of the text: raw bytes, or a special token split out of it. */
struct frag {
	size_t		 off, len;
	int32_t		 id;		/* -1: raw text */
	uint32_t	 next;		/* list link; FRAG_END ends it */
};
#define FRAG_END UINT32_MAX

struct frags {
	struct frag	*f;
	uint32_t	 n, cap;
};

static uint32_t
frag_new(struct frags *fs, size_t off, size_t len, int32_t id)
{
	if (fs->n == fs->cap) {
		uint32_t nc = fs->cap ? fs->cap * 2 : 16;
		struct frag *p;

		if (nc <= fs->cap ||
		    (p = realloc(fs->f, nc * sizeof *p)) == NULL)
			return FRAG_END;
		fs->f = p;
		fs->cap = nc;
	}
	fs->f[fs->n] = (struct frag){ off, len, id, FRAG_END };
	return fs->n++;
}

static bool
c_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Make k follow `prev` (FRAG_END: make k the head). */
static void
link_after(struct frags *fs, uint32_t *head, uint32_t prev, uint32_t k)
{
	if (prev == FRAG_END)
		*head = k;
	else
		fs->f[prev].next = k;
}

/*
 * Split the special token `id` out of every raw fragment: the reference's
 * tokenizer_st_partition for one token.  A fragment is replaced by
 * [left] token [left] token ... [rest], stripping white space after the
 * token for RSTRIP tokens.  Links are indices: frag_new may move fs->f.
 */
static int
partition_one(const struct vocab *v, const char *text, struct frags *fs,
    uint32_t *head, int32_t id)
{
	const struct tok *t = &v->tok[id];
	const char *tt = tok_text(v, (uint32_t)id);
	uint32_t prev = FRAG_END, cur = *head;

	while (cur != FRAG_END) {
		uint32_t after = fs->f[cur].next, k;
		size_t off = fs->f[cur].off, len = fs->f[cur].len;
		const char *m;
		bool hit = false;

		if (fs->f[cur].id >= 0 || len < t->len) {
			prev = cur;
			cur = after;
			continue;
		}
		while (len > 0 && (m = memmem(text + off, len, tt, t->len)) !=
		    NULL) {
			size_t mo = (size_t)(m - text);

			hit = true;
			if (mo > off) {
				if ((k = frag_new(fs, off, mo - off, -1)) ==
				    FRAG_END)
					return -1;
				link_after(fs, head, prev, k);
				prev = k;
			}
			if ((k = frag_new(fs, mo, t->len, id)) == FRAG_END)
				return -1;
			link_after(fs, head, prev, k);
			prev = k;
			len -= mo - off + t->len;
			off = mo + t->len;
			if (t->attr & VA_RSTRIP)
				while (len > 0 && c_space(text[off])) {
					off++;
					len--;
				}
		}
		if (!hit) {
			prev = cur;
			cur = after;
			continue;
		}
		if (len > 0) {
			if ((k = frag_new(fs, off, len, -1)) == FRAG_END)
				return -1;
			link_after(fs, head, prev, k);
			prev = k;
		}
		/* fragment `cur` is dropped; its replacement is linked in */
		link_after(fs, head, prev, after);
		cur = after;
	}
	return 0;
}

static int
partition(const struct vocab *v, const char *text, size_t len,
    bool parse_special, struct frags *fs, uint32_t *head)
{
	uint64_t *pairs = NULL;		/* byte pairs in the text */
	int rc = -1;

	*head = FRAG_END;
	if (len == 0)
		return 0;
	if ((*head = frag_new(fs, 0, len, -1)) == FRAG_END)
		return -1;
	if (v->nspecial == 0)
		return 0;
	/*
	 * Most special tokens never occur in a given text; a table of the
	 * byte pairs present lets us skip those without a search.
	 */
	if ((pairs = calloc(65536 / 64, sizeof *pairs)) == NULL)
		return -1;
	for (size_t i = 0; i + 1 < len; i++) {
		unsigned p = (unsigned char)text[i] << 8 |
		    (unsigned char)text[i + 1];

		pairs[p / 64] |= 1ULL << (p % 64);
	}
	for (size_t i = 0; i < v->nspecial; i++) {
		int32_t id = v->special[i];
		const struct tok *t = &v->tok[id];
		const unsigned char *tt = (const unsigned char *)tok_text(v,
		    (uint32_t)id);

		if (!parse_special && t->type != TT_USER_DEFINED)
			continue;
		if (t->len > len)
			continue;
		if (t->len >= 2) {
			unsigned p = tt[0] << 8 | tt[1];

			if (!(pairs[p / 64] & 1ULL << (p % 64)))
				continue;
		}
		if (partition_one(v, text, fs, head, id) != 0)
			goto out;
	}
	rc = 0;
out:
	free(pairs);
	return rc;
}

/*
 * Merge work: symbols in a doubly linked list and a binary heap of
 * candidate pairs, ordered by pri (lower first), then by left position.
 */
struct sym {
	size_t		 start;		/* offset in the merged text */
	uint32_t	 n;		/* bytes; 0 = merged away */
	int32_t		 id;		/* BPE: its token, or -1 */
	int32_t		 prev, next;
};

struct pair {
	uint64_t	 key;		/* priority << 32 | left */
	int32_t		 right;
	uint16_t	 ln, rn;	/* sizes when queued: stale or not */
};

struct work {
	struct sym	*sym;
	size_t		 nsym, capsym;
	struct pair	*heap;
	size_t		 nheap, capheap;
	char		*buf;		/* escaped / mapped text */
	size_t		 capbuf;
	struct pretok_words words;
};

static bool
pair_before(const struct pair *a, const struct pair *b)
{
	return a->key < b->key;
}

/* SentencePiece: higher score first, as an ascending 32-bit key. */
static uint32_t
score_key(float f)
{
	uint32_t u;

	f += 0.0f;		/* -0 -> +0: equal scores must tie */
	memcpy(&u, &f, 4);
	u = (u & 0x80000000u) ? ~u : u | 0x80000000u;	/* ascending */
	return ~u;		/* descending */
}

static int
heap_push(struct work *w, const struct pair *p)
{
	size_t i;

	if (w->nheap == w->capheap) {
		size_t nc = w->capheap ? w->capheap * 2 : 256;
		struct pair *q = realloc(w->heap, nc * sizeof *q);

		if (q == NULL)
			return -1;
		w->heap = q;
		w->capheap = nc;
	}
	i = w->nheap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (!pair_before(p, &w->heap[up]))
			break;
		w->heap[i] = w->heap[up];
		i = up;
	}
	w->heap[i] = *p;
	return 0;
}

static struct pair
heap_pop(struct work *w)
{
	struct pair top = w->heap[0], last = w->heap[--w->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= w->nheap)
			break;
		if (c + 1 < w->nheap &&
		    pair_before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!pair_before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (w->nheap > 0)
		w->heap[i] = last;
	return top;
}

static int
reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t nc = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	if ((q = realloc(*p, nc * elem)) == NULL)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

/*
 * May merging be split between bytes a and b?  A merged symbol is always
 * a token, so if the pair ab occurs in no token text, nothing merges
 * across and the two sides merge independently, in the same order as
 * together (priority ties go to the leftmost pair on either side).
 */
static bool
merge_cut(const struct vocab *v, unsigned char a, unsigned char b)
{
	unsigned q = (unsigned)a << 8 | b;

	return !(v->pairs[q / 64] & 1ULL << (q % 64));
}

/* ---- SentencePiece ---- */

static int
spm_pair(const struct vocab *v, struct work *w, const char *s, int32_t l,
    int32_t r)
{
	const struct sym *a, *b;
	struct pair p;
	int32_t id;

	if (l < 0 || r < 0)
		return 0;
	a = &w->sym[l];
	b = &w->sym[r];
	if (!text_ok(v, id = find(v, s + a->start, (size_t)a->n + b->n)))
		return 0;
	p.key = (uint64_t)score_key(v->tok[id].score) << 32 | (uint32_t)l;
	p.right = r;
	p.ln = (uint16_t)a->n;
	p.rn = (uint16_t)b->n;
	return heap_push(w, &p);
}

/* Merge s[0..n) (already escaped) into pieces: llm_tokenizer_spm. */
static int
spm_tokenize(const struct vocab *v, struct work *w, const char *s, size_t n,
    int32_t **ids, size_t *nids, size_t *cap)
{
	size_t off = 0;

	w->nsym = 0;
	w->nheap = 0;
	if (reserve((void **)&w->sym, &w->capsym, n, sizeof *w->sym) != 0)
		return -1;
	while (off < n) {
		struct sym *y = &w->sym[w->nsym];
		size_t l = utf8_len((unsigned char)s[off]);

		y->start = off;
		y->n = (uint32_t)(l < n - off ? l : n - off);
		y->id = -1;
		y->prev = (int32_t)w->nsym - 1;
		off += y->n;
		y->next = off == n ? -1 : (int32_t)w->nsym + 1;
		w->nsym++;
	}
	for (size_t i = 1; i < w->nsym; i++)
		if (spm_pair(v, w, s, (int32_t)i - 1, (int32_t)i) != 0)
			return -1;
	while (w->nheap > 0) {
		struct pair p = heap_pop(w);
		int32_t left = (int32_t)(uint32_t)p.key;
		struct sym *a = &w->sym[left], *b = &w->sym[p.right];

		/* The reference's staleness test: sizes must still add up. */
		if (a->n == 0 || b->n == 0 ||
		    a->n + b->n != (uint32_t)p.ln + p.rn)
			continue;
		a->n += b->n;
		b->n = 0;
		a->next = b->next;
		if (b->next >= 0)
			w->sym[b->next].prev = left;
		if (spm_pair(v, w, s, a->prev, left) != 0 ||
		    spm_pair(v, w, s, left, a->next) != 0)
			return -1;
	}
	for (int32_t i = w->nsym > 0 ? 0 : -1; i >= 0; i = w->sym[i].next) {
		const struct sym *y = &w->sym[i];
		int32_t id = find(v, s + y->start, y->n);

		if (text_ok(v, id)) {
			if (push(ids, nids, cap, id) != 0)
				return -1;
			continue;
		}
		/* No token for this character: its bytes. */
		for (uint32_t k = 0; k < y->n; k++) {
			id = v->byte_id[(unsigned char)s[y->start + k]];
			if (id < 0)
				id = v->unk;	/* the reference throws */
			if (id >= 0 && push(ids, nids, cap, id) != 0)
				return -1;
		}
	}
	return 0;
}

/* Merge s[0..n) chunk by chunk, cutting between characters. */
static int
spm_chunks(const struct vocab *v, struct work *w, const char *s, size_t n,
    int32_t **ids, size_t *nids, size_t *cap)
{
	size_t c0 = 0, p = 0;

	while (p < n) {
		size_t l = utf8_len((unsigned char)s[p]);

		if (p > c0 && (p - c0 >= MERGE_CHUNK_MAX ||
		    merge_cut(v, (unsigned char)s[p - 1],
		    (unsigned char)s[p]))) {
			if (spm_tokenize(v, w, s + c0, p - c0, ids, nids,
			    cap) != 0)
				return -1;
			c0 = p;
		}
		p += l < n - p ? l : n - p;
	}
	if (n > c0)
		return spm_tokenize(v, w, s + c0, n - c0, ids, nids, cap);
	return 0;
}

static int
spm_fragment(const struct vocab *v, struct work *w, const char *text,
    size_t len, bool prefix, int32_t **ids, size_t *nids, size_t *cap)
{
	size_t n = 0, spaces = prefix;

	for (size_t i = 0; i < len; i++)
		spaces += text[i] == ' ';
	if (reserve((void **)&w->buf, &w->capbuf, len + spaces * 2 + 1, 1) != 0)
		return -1;
	if (prefix) {
		memcpy(w->buf, SPM_SPACE, SPM_SPACE_LEN);
		n = SPM_SPACE_LEN;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(w->buf + n, SPM_SPACE, SPM_SPACE_LEN);
			n += SPM_SPACE_LEN;
		} else
			w->buf[n++] = text[i];
	}
	return spm_chunks(v, w, w->buf, n, ids, nids, cap);
}

/* ---- BPE ---- */

static int
bpe_pair(const struct vocab *v, struct work *w, int32_t l, int32_t r)
{
	const struct sym *a, *b;
	const struct merge *m;
	struct pair p;

	if (l < 0 || r < 0)
		return 0;
	a = &w->sym[l];
	b = &w->sym[r];
	if (a->id < 0 || b->id < 0 ||
	    (m = merge_find(v, (uint32_t)a->id, (uint32_t)b->id)) == NULL ||
	    !text_ok(v, (int32_t)m->result))
		return 0;
	p.key = (uint64_t)m->rank << 32 | (uint32_t)l;
	p.right = r;
	p.ln = (uint16_t)a->n;
	p.rn = (uint16_t)b->n;
	return heap_push(w, &p);
}

/* Merge the bytes s[0..n) of (part of) a word: llm_tokenizer_bpe. */
static int
bpe_merge(const struct vocab *v, struct work *w, const unsigned char *s,
    size_t n, int32_t **ids, size_t *nids, size_t *cap)
{
	w->nsym = 0;
	w->nheap = 0;
	if (reserve((void **)&w->sym, &w->capsym, n, sizeof *w->sym) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sym *y = &w->sym[i];

		/* Each byte is one mapped character, one initial symbol. */
		y->start = i;
		y->n = 1;
		y->id = v->byte_id[s[i]];
		y->prev = (int32_t)i - 1;
		y->next = i + 1 == n ? -1 : (int32_t)i + 1;
	}
	w->nsym = n;
	for (size_t i = 1; i < n; i++)
		if (bpe_pair(v, w, (int32_t)i - 1, (int32_t)i) != 0)
			return -1;
	while (w->nheap > 0) {
		struct pair p = heap_pop(w);
		int32_t left = (int32_t)(uint32_t)p.key;
		struct sym *a = &w->sym[left], *b = &w->sym[p.right];

		if (a->n == 0 || b->n == 0 || a->n != p.ln || b->n != p.rn)
			continue;	/* outdated */
		a->id = (int32_t)merge_find(v, (uint32_t)a->id,
		    (uint32_t)b->id)->result;
		a->n += b->n;
		b->n = 0;
		a->next = b->next;
		if (b->next >= 0)
			w->sym[b->next].prev = left;
		if (bpe_pair(v, w, a->prev, left) != 0 ||
		    bpe_pair(v, w, left, a->next) != 0)
			return -1;
	}
	for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = w->sym[i].next) {
		const struct sym *y = &w->sym[i];

		if (y->id >= 0) {
			if (push(ids, nids, cap, y->id) != 0)
				return -1;
			continue;
		}
		/* An unmerged byte whose character is no token. */
		for (int k = 0; k < 2; k++) {
			int32_t id = v->byte_fb[s[y->start]][k];

			if (id >= 0 && push(ids, nids, cap, id) != 0)
				return -1;
		}
	}
	return 0;
}

/* One word (UTF-8 bytes, before the byte mapping). */
static int
bpe_word(const struct vocab *v, struct work *w, const unsigned char *s,
    size_t n, int32_t **ids, size_t *nids, size_t *cap)
{
	size_t c0 = 0;

	if (v->ignore_merges && n <= v->max_len) {
		size_t m = 0;
		int32_t id;

		if (reserve((void **)&w->buf, &w->capbuf, n * 2 + 1, 1) != 0)
			return -1;
		for (size_t i = 0; i < n && m <= v->max_len; i++)
			m += utf8_encode(bytemap_cp(s[i]), w->buf + m);
		if (m <= v->max_len && text_ok(v, id = find(v, w->buf, m)))
			return push(ids, nids, cap, id);
	}
	for (size_t p = 1; p < n; p++) {
		bool cut = merge_cut(v, v->mlast[s[p - 1]], v->mfirst[s[p]]);

		/* a forced cut waits for a character boundary, if it can */
		if (!cut && p - c0 >= MERGE_CHUNK_MAX)
			cut = (s[p] & 0xC0) != 0x80 ||
			    p - c0 >= MERGE_CHUNK_MAX + 4;
		if (cut) {
			if (bpe_merge(v, w, s + c0, p - c0, ids, nids,
			    cap) != 0)
				return -1;
			c0 = p;
		}
	}
	return n > c0 ? bpe_merge(v, w, s + c0, n - c0, ids, nids, cap) : 0;
}

static int
bpe_fragment(const struct vocab *v, struct work *w, const char *text,
    size_t len, int32_t **ids, size_t *nids, size_t *cap)
{
	size_t lo = 0;

	if (pretok_split(v->pt, text, len, &w->words) != 0)
		return -1;
	for (size_t i = 0; i < w->words.n; i++) {
		size_t hi = w->words.end[i];

		if (bpe_word(v, w, (const unsigned char *)w->words.buf + lo,
		    hi - lo, ids, nids, cap) != 0)
			return -1;
		lo = hi;
	}
	return 0;
}

int
vocab_tokenize(const struct vocab *v, const char *text, size_t len,
    bool add_special, bool parse_special, int32_t **ids, size_t *n,
    size_t *cap)
{
	struct frags fs = { NULL, 0, 0 };
	struct work w;
	uint32_t head;
	bool prev_special = true;	/* SPM: space before first word */
	int rc = -1;

	memset(&w, 0, sizeof w);
	if (add_special && v->add_bos && v->bos >= 0 &&
	    push(ids, n, cap, v->bos) != 0)
		goto out;
	if (partition(v, text, len, parse_special, &fs, &head) != 0)
		goto out;
	for (uint32_t i = head; i != FRAG_END; i = fs.f[i].next) {
		const struct frag *f = &fs.f[i];

		if (f->id >= 0) {
			if (push(ids, n, cap, f->id) != 0)
				goto out;
			prev_special = true;
			continue;
		}
		if (v->kind == VOCAB_SPM) {
			if (spm_fragment(v, &w, text + f->off, f->len,
			    v->add_space_prefix && prev_special, ids, n,
			    cap) != 0)
				goto out;
			prev_special = false;
		} else if (bpe_fragment(v, &w, text + f->off, f->len, ids, n,
		    cap) != 0)
			goto out;
	}
	if (add_special && v->add_eos && v->eos >= 0 &&
	    push(ids, n, cap, v->eos) != 0)
		goto out;
	rc = 0;
out:
	free(fs.f);
	free(w.sym);
	free(w.heap);
	free(w.buf);
	pretok_words_release(&w.words);
	return rc;
}

/* ---- decoding ------------------------------------------------------------ */

/* Append what fits of s[0..n) and count all of it. */
static void
put(char *buf, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o < cap)
		memcpy(buf + *o, s, n < cap - *o ? n : cap - *o);
	*o += n;
}

int
vocab_piece(const struct vocab *v, int32_t id, bool special, char *buf,
    size_t cap)
{
	const struct tok *t;
	const char *s;
	size_t o = 0;

	if (id < 0 || (uint32_t)id >= v->n)
		return -1;
	t = &v->tok[id];
	s = tok_text(v, (uint32_t)id);
	switch (t->type) {
	case TT_CONTROL:
	case TT_UNKNOWN:
		if (special)
			put(buf, cap, &o, s, t->len);
		break;
	case TT_USER_DEFINED:
		put(buf, cap, &o, s, t->len);
		break;
	case TT_BYTE: {
		char b = (char)byte_token_value(s, t->len);

		put(buf, cap, &o, &b, 1);
		break;
	}
	case TT_NORMAL:
		if (v->kind == VOCAB_SPM) {
			for (size_t i = 0; i < t->len; i++) {
				if (i + SPM_SPACE_LEN <= t->len && memcmp(s + i,
				    SPM_SPACE, SPM_SPACE_LEN) == 0) {
					put(buf, cap, &o, " ", 1);
					i += SPM_SPACE_LEN - 1;
				} else
					put(buf, cap, &o, s + i, 1);
			}
			break;
		}
		for (size_t i = 0; i < t->len;) {
			size_t adv;
			uint32_t cp = utf8_decode((const unsigned char *)s + i,
			    t->len - i, &adv);
			int b = cp < sizeof v->unmap / sizeof v->unmap[0] ?
			    v->unmap[cp] : -1;

			if (b >= 0) {
				char c = (char)b;

				put(buf, cap, &o, &c, 1);
			} else	/* not a byte-level character: keep it */
				put(buf, cap, &o, s + i, adv);
			i += adv;
		}
		break;
	default:	/* UNUSED, UNDEFINED: nothing, as the reference */
		break;
	}
	return o > INT32_MAX ? INT32_MAX : (int)o;
}

/* ---- streaming detokenizer ---------------------------------------------- */

#define REPLACEMENT	"\xEF\xBF\xBD"

void
detok_init(struct detok *d, const struct vocab *v)
{
	memset(d, 0, sizeof *d);
	d->first = v != NULL && v->kind == VOCAB_SPM && v->add_space_prefix;
}

static void
out_bytes(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + n <= cap) {	/* whole characters only */
		memcpy(out + *o, s, n);
		*o += n;
	}
}

/* Bytes expected after lead byte c, or -1 if c cannot start a character. */
static int
utf8_need(unsigned char c)
{
	if (c < 0x80)
		return 0;
	if (c >= 0xC2 && c <= 0xDF)
		return 1;
	if (c >= 0xE0 && c <= 0xEF)
		return 2;
	if (c >= 0xF0 && c <= 0xF4)
		return 3;
	return -1;
}

/* May byte c follow the bytes in pend? (Unicode's well-formed table.) */
static bool
utf8_cont_ok(const char *pend, size_t npend, unsigned char c)
{
	unsigned char l = (unsigned char)pend[0];

	if ((c & 0xC0) != 0x80)
		return false;
	if (npend != 1)
		return true;
	if (l == 0xE0)
		return c >= 0xA0;
	if (l == 0xED)
		return c <= 0x9F;
	if (l == 0xF0)
		return c >= 0x90;
	if (l == 0xF4)
		return c <= 0x8F;
	return true;
}

size_t
detok_push(struct detok *d, const char *piece, size_t n, char *out,
    size_t cap)
{
	size_t o = 0;

	if (d->first && n > 0) {
		if (piece[0] == ' ') {
			piece++;
			n--;
		}
		d->first = false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)piece[i];
		int need;

		if (d->npend > 0) {
			if (utf8_cont_ok(d->pend, d->npend, c)) {
				d->pend[d->npend++] = (char)c;
				if ((int)d->npend == utf8_need(
				    (unsigned char)d->pend[0]) + 1) {
					out_bytes(out, cap, &o, d->pend,
					    d->npend);
					d->npend = 0;
				}
				continue;
			}
			/* A truncated character: one U+FFFD, then c afresh. */
			out_bytes(out, cap, &o, REPLACEMENT, 3);
			d->npend = 0;
		}
		need = utf8_need(c);
		if (need == 0)
			out_bytes(out, cap, &o, (const char *)&piece[i], 1);
		else if (need < 0)
			out_bytes(out, cap, &o, REPLACEMENT, 3);
		else
			d->pend[d->npend++] = (char)c;
	}
	return o;
}

size_t
detok_flush(struct detok *d, char *out, size_t cap)
{
	size_t o = 0;

	if (d->npend > 0)
		out_bytes(out, cap, &o, REPLACEMENT, 3);
	d->npend = 0;
	return o;
}
