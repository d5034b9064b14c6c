/*
 * fuzz-vocab.c - libFuzzer harness for the tokenizers (engine/vocab.c,
 * engine/pretok.c).
 *
 * Input: one mode byte, then the payload.
 *   mode 0xFF      the payload is a GGUF file: parse it, load its
 *                  tokenizer (hostile metadata), tokenize a fixed text;
 *   other modes    the payload is text, tokenized with vocabulary
 *                  (mode & 0x3F) % (number of vocabularies), with
 *                  add_special = mode & 0x40 and parse_special =
 *                  mode & 0x80, then decoded piece by piece through the
 *                  streaming detokenizer.
 *
 * Vocabularies: small ones built here in memory (a byte-level BPE under
 * every supported pre-tokenizer, and two SentencePiece ones), so the
 * harness needs no file.  TRIAGE_FUZZ_VOCAB=path.gguf adds a real one.
 *
 * Checked besides memory safety (abort() on failure):
 *   - every id is inside the vocabulary;
 *   - with parse_special = false no CONTROL token comes out of the text;
 *   - BPE: valid UTF-8 decodes back to itself; SentencePiece: any bytes
 *     do (its byte fallback covers all 256), minus the prefix space;
 *   - the detokenizer never writes more than it is given room for.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "pretok.h"
#include "vocab.h"

#define MAX_TEXT	(64 * 1024)	/* keep iterations fast */
#define MODE_GGUF	0xFF
#define NVOCAB_MAX	16

/* ---- a minimal GGUF writer for the built-in vocabularies ---------------- */

struct gb {
	unsigned char	*p;
	size_t		 n, cap;
	uint64_t	 nkv;
};

static void
gb_raw(struct gb *b, const void *s, size_t n)
{
	if (n == 0)
		return;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void gb_u32(struct gb *b, uint32_t v) { gb_raw(b, &v, 4); }
static void gb_u64(struct gb *b, uint64_t v) { gb_raw(b, &v, 8); }

static void
gb_str(struct gb *b, const char *s, size_t n)
{
	gb_u64(b, n);
	gb_raw(b, s, n);
}

static void
gb_key(struct gb *b, const char *k, uint32_t type)
{
	gb_str(b, k, strlen(k));
	gb_u32(b, type);
	b->nkv++;
}

static void
kv_str(struct gb *b, const char *k, const char *v)
{
	gb_key(b, k, GGUF_STR);
	gb_str(b, v, strlen(v));
}

static void
kv_u32(struct gb *b, const char *k, uint32_t v)
{
	gb_key(b, k, GGUF_U32);
	gb_u32(b, v);
}

struct strs {
	char	**s;
	size_t	*len;
	size_t	 n, cap;
};

static void
strs_add(struct strs *a, const char *s, size_t n)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 512;
		a->s = realloc(a->s, a->cap * sizeof *a->s);
		a->len = realloc(a->len, a->cap * sizeof *a->len);
		if (a->s == NULL || a->len == NULL)
			abort();
	}
	if ((a->s[a->n] = malloc(n + 1)) == NULL)
		abort();
	memcpy(a->s[a->n], s, n);
	a->s[a->n][n] = '\0';
	a->len[a->n++] = n;
}

static void
strs_free(struct strs *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->s[i]);
	free(a->s);
	free(a->len);
}

static void
kv_strs(struct gb *b, const char *k, const struct strs *a)
{
	gb_key(b, k, GGUF_ARR);
	gb_u32(b, GGUF_STR);
	gb_u64(b, a->n);
	for (size_t i = 0; i < a->n; i++)
		gb_str(b, a->s[i], a->len[i]);
}

static void
kv_arr(struct gb *b, const char *k, uint32_t et, const void *v, size_t n)
{
	gb_key(b, k, GGUF_ARR);
	gb_u32(b, et);
	gb_u64(b, n);
	gb_raw(b, v, 4 * n);
}

static struct vocab *
gb_vocab(struct gb *b)
{
	struct gb f = { 0 };
	struct gguf *g = NULL;
	struct vocab *v = NULL;
	char *cause = NULL;

	gb_raw(&f, "GGUF", 4);
	gb_u32(&f, 3);
	gb_u64(&f, 0);
	gb_u64(&f, b->nkv);
	gb_raw(&f, b->p, b->n);
	if (gguf_parse_mem(f.p, f.n, NULL, &g, &cause) != 0 ||
	    vocab_load(g, &v, &cause) != 0) {
		fprintf(stderr, "fuzz-vocab: built-in vocab: %s\n", cause);
		abort();
	}
	gguf_free(g);
	free(f.p);
	free(b->p);
	memset(b, 0, sizeof *b);
	return v;
}

/* Words the built-in vocabularies know, beyond single bytes. */
static const char *const words[] = {
	"in", "er", "the", "ing", "at", "on", "re", "error", "fail", "ed",
	"00", "000", "12", "ss", "ssh", "ERR", "OR", "ERROR", "::", "//",
	"\xE2\x82\xAC", "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80",
};

/*
 * A byte-level BPE: the 256 mapped bytes, then merges building the words
 * above (and their Ġ-prefixed forms) pair by pair, then special tokens.
 */
static struct vocab *
build_bpe(const char *pre)
{
	struct gb b = { 0 };
	struct strs toks = { 0 }, merges = { 0 };
	int32_t *types;
	size_t nspecial = 4;
	static const char *const special[] = { "<|im_start|>", "<|im_end|>",
		"<think>", "<|endoftext|>" };

	for (unsigned c = 0; c < 256; c++) {
		char s[4];

		strs_add(&toks, s, utf8_encode(bytemap_cp((uint8_t)c), s));
	}
	for (int sp = 0; sp < 2; sp++)
		for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
			char acc[64], m[160];
			size_t na = 0;
			const unsigned char *p =
			    (const unsigned char *)words[w];

			if (sp)
				na = utf8_encode(bytemap_cp(' '), acc);
			for (; *p != '\0'; p++) {
				char one[4];
				size_t n1 = utf8_encode(bytemap_cp(*p), one);
				int32_t have;

				if (na == 0) {
					memcpy(acc, one, n1);
					na = n1;
					continue;
				}
				snprintf(m, sizeof m, "%.*s %.*s", (int)na, acc,
				    (int)n1, one);
				memcpy(acc + na, one, n1);
				na += n1;
				have = -1;
				for (size_t i = 0; i < toks.n; i++)
					if (toks.len[i] == na &&
					    memcmp(toks.s[i], acc, na) == 0)
						have = (int32_t)i;
				if (have < 0) {
					strs_add(&toks, acc, na);
					strs_add(&merges, m, strlen(m));
				}
			}
		}
	for (size_t i = 0; i < nspecial; i++)
		strs_add(&toks, special[i], strlen(special[i]));
	if ((types = malloc(toks.n * sizeof *types)) == NULL)
		abort();
	for (size_t i = 0; i < toks.n; i++)
		types[i] = i + nspecial < toks.n ? 1 : 3;
	types[toks.n - 2] = 4;	/* <think> is user-defined, as in Qwen3 */

	kv_str(&b, "tokenizer.ggml.model", "gpt2");
	kv_str(&b, "tokenizer.ggml.pre", pre);
	kv_strs(&b, "tokenizer.ggml.tokens", &toks);
	kv_arr(&b, "tokenizer.ggml.token_type", GGUF_I32, types, toks.n);
	kv_strs(&b, "tokenizer.ggml.merges", &merges);
	kv_u32(&b, "tokenizer.ggml.bos_token_id", (uint32_t)toks.n - 1);
	kv_u32(&b, "tokenizer.ggml.eos_token_id", (uint32_t)toks.n - 3);
	free(types);
	strs_free(&toks);
	strs_free(&merges);
	return gb_vocab(&b);
}

/*
 * A SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, "▁",
 * letters, and pieces with scores.  `phi3` names it so the reference's
 * Phi-3 rule (strip white space after special tokens) applies, and adds
 * a user-defined token.
 */
static struct vocab *
build_spm(bool phi3)
{
	static const char *const pieces[] = { "\xE2\x96\x81", "a", "e", "r",
		"o", "\xE2\x96\x81" "e", "er", "ro", "err", "or", "\xE2\x96\x81"
		"err", "error", "\xE2\x96\x81\xE2\x96\x81", "\xE2\x82\xAC",
		"\xE2\x96\x81" "a" };
	struct gb b = { 0 };
	struct strs toks = { 0 };
	float *scores;
	int32_t *types;
	size_t npieces = sizeof pieces / sizeof pieces[0];

	strs_add(&toks, "<unk>", 5);
	strs_add(&toks, "<s>", 3);
	strs_add(&toks, "</s>", 4);
	for (unsigned c = 0; c < 256; c++) {
		char s[8];

		snprintf(s, sizeof s, "<0x%02X>", c);
		strs_add(&toks, s, 6);
	}
	for (size_t i = 0; i < npieces; i++)
		strs_add(&toks, pieces[i], strlen(pieces[i]));
	if (phi3)
		strs_add(&toks, "<|user|>", 8);
	scores = calloc(toks.n, sizeof *scores);
	types = calloc(toks.n, sizeof *types);
	if (scores == NULL || types == NULL)
		abort();
	for (size_t i = 0; i < toks.n; i++) {
		types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
		scores[i] = i < 259 ? 0.0f : -(float)(i % 7) - 0.5f;
	}
	if (phi3)
		types[toks.n - 1] = 4;
	kv_str(&b, "tokenizer.ggml.model", "llama");
	if (phi3)
		kv_str(&b, "general.name", "Phi3-fuzz");
	kv_strs(&b, "tokenizer.ggml.tokens", &toks);
	kv_arr(&b, "tokenizer.ggml.scores", GGUF_F32, scores, toks.n);
	kv_arr(&b, "tokenizer.ggml.token_type", GGUF_I32, types, toks.n);
	free(scores);
	free(types);
	strs_free(&toks);
	return gb_vocab(&b);
}

static struct vocab *vocabs[NVOCAB_MAX];
static size_t nvocab;
static bool vocab_has_user[NVOCAB_MAX];

static void
setup(void)
{
	static const char *const pres[] = { "default", "llama-bpe", "qwen2",
		"deepseek-llm", "deepseek-coder", "falcon", "starcoder",
		"gpt-2" };
	const char *path = getenv("TRIAGE_FUZZ_VOCAB");

	for (size_t i = 0; i < sizeof pres / sizeof pres[0]; i++)
		vocabs[nvocab++] = build_bpe(pres[i]);
	vocabs[nvocab++] = build_spm(false);
	vocabs[nvocab++] = build_spm(true);
	if (path != NULL && *path != '\0') {
		struct gguf *g = NULL;
		char *cause = NULL;

		if (gguf_open(path, NULL, &g, &cause) == 0 &&
		    vocab_load(g, &vocabs[nvocab], &cause) == 0)
			nvocab++;
		else
			fprintf(stderr, "fuzz-vocab: %s: %s (ignored)\n", path,
			    cause);
		free(cause);
		gguf_free(g);
	}
	for (size_t k = 0; k < nvocab; k++)
		for (uint32_t i = 0; i < vocab_size(vocabs[k]); i++)
			if (vocab_ttype(vocabs[k], (int32_t)i) ==
			    TT_USER_DEFINED)
				vocab_has_user[k] = true;
}

/* Strictly valid UTF-8 (what decodes to itself through byte-level BPE). */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t adv;
		uint32_t cp = utf8_decode(s + i, n - i, &adv);
		char buf[4];

		if ((cp == 0xFFFD && adv == 1) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) ||
		    utf8_encode(cp, buf) != adv || memcmp(buf, s + i, adv) != 0)
			return false;
		i += adv;
	}
	return true;
}

static void
check(size_t k, const unsigned char *text, size_t n, bool add_special,
    bool parse_special)
{
	const struct vocab *v = vocabs[k];
	int32_t *ids = NULL;
	size_t nids = 0, cap = 0, o = 0;
	char piece[512], *dec, *out;
	struct detok d;
	bool had_user = false;

	if (vocab_tokenize(v, (const char *)text, n, add_special, parse_special,
	    &ids, &nids, &cap) != 0)
		abort();	/* only out of memory may fail */
	/* Room for the worst case: every byte replaced by U+FFFD. */
	if ((dec = malloc(n * 3 + nids * 3 * sizeof piece + 16)) == NULL ||
	    (out = malloc(3 * sizeof piece + 16)) == NULL)
		abort();
	detok_init(&d, v);
	for (size_t i = 0; i < nids; i++) {
		int pl;
		size_t w;

		if (ids[i] < 0 || (uint32_t)ids[i] >= vocab_size(v))
			abort();
		if (!parse_special && !add_special &&
		    vocab_ttype(v, ids[i]) == TT_CONTROL)
			abort();	/* user text became a control token */
		had_user |= vocab_ttype(v, ids[i]) == TT_USER_DEFINED;
		pl = vocab_piece(v, ids[i], (i & 1) != 0, piece, sizeof piece);
		if (pl < 0)
			abort();
		pl = vocab_piece(v, ids[i], false, piece, sizeof piece);
		if (pl > (int)sizeof piece)
			pl = sizeof piece;
		w = detok_push(&d, piece, (size_t)pl, out, 3 * (size_t)pl + 3);
		if (w > 3 * (size_t)pl + 3)
			abort();
		memcpy(dec + o, out, w);
		o += w;
	}
	o += detok_flush(&d, dec + o, 3);

	/* Round trip where the reference has one. */
	if (!parse_special && !add_special) {
		bool spm = vocab_kind(v) == VOCAB_SPM;

		if (spm && !vocab_has_user[k] && !had_user &&
		    memmem(text, n, "\xE2\x96\x81", 3) == NULL) {
			/*
			 * Byte fallback keeps any bytes, but the detokenizer
			 * replaces invalid UTF-8, and a literal U+2581 comes
			 * back as a space (as in the reference).
			 */
			if (valid_utf8(text, n) && (o != n ||
			    memcmp(dec, text, n) != 0))
				abort();
		} else if (!spm && valid_utf8(text, n) &&
		    (o != n || memcmp(dec, text, n) != 0))
			abort();
	}
	free(out);
	free(dec);
	free(ids);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;

	if (nvocab == 0)
		setup();
	if (size == 0)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (mode == MODE_GGUF) {
		struct gguf *g = NULL;
		struct vocab *v = NULL;
		char *cause = NULL;
		static const struct gguf_limits lim = { 1 << 16, 1 << 16,
			1 << 10, 16, 4 };

		if (gguf_parse_mem(data, size, &lim, &g, &cause) == 0 &&
		    vocab_load(g, &v, &cause) == 0) {
			static const char t[] = "x <|im_start|> y\n\xFF\xC3 "
			    "<s>[INST] 123 caf\xC3\xA9 \xF0\x9F\x98\x80";
			int32_t *ids = NULL;
			size_t n = 0, cap = 0;

			if (vocab_tokenize(v, t, sizeof t - 1, false, false,
			    &ids, &n, &cap) != 0)
				abort();
			for (size_t i = 0; i < n; i++)
				if (ids[i] < 0 ||
				    (uint32_t)ids[i] >= vocab_size(v) ||
				    vocab_ttype(v, ids[i]) == TT_CONTROL)
					abort();
			free(ids);
		}
		vocab_free(v);
		gguf_free(g);
		free(cause);
		return 0;
	}
	if (size > MAX_TEXT)
		size = MAX_TEXT;
	check((mode & 0x3F) % nvocab, data, size, (mode & 0x40) != 0,
	    (mode & 0x80) != 0);
	return 0;
}
