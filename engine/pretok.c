/*
 * pretok.c - byte-level BPE pre-tokenizers: cut text into words the way
 * the reference runtime does, so that merges see the same words.
 *
 * Pipeline for one call (see pretok.h for the why):
 *
 *   text --decode--> code points cp[0..n)
 *        segments = { [0, n) }
 *        for each step of the pre-tokenizer:
 *            each segment -> matches and gaps of the step -> new segments
 *        each segment -> UTF-8 of its code points -> one word
 *
 * Steps are either hand-written (the GPT-2 and Llama 3 splitters, and
 * `\s+$`, which a backtracking engine takes quadratic time for) or PCRE2
 * regexes.  A regex using \p{..} classes is rewritten to run over the
 * collapsed text, one byte per code point; the others run in UTF mode
 * over the code points re-encoded as UTF-8, with non-ASCII white space
 * shown as U+000B and surrogates as U+FFFF (neither is in any class the
 * regexes name, and PCRE2 needs valid UTF-8).
 *
 * Everything a call allocates is local to the call, so one pretok may be
 * shared by threads.  Input sizes are bounded only by memory: the work is
 * linear in the text for every step (no regex here backtracks more than
 * the length of one white-space run per match).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pretok.h"

#define PRETOK_MAX_STEPS	8
#define PRETOK_JIT_STACK_MIN	(32 * 1024)
#define PRETOK_JIT_STACK_MAX	(1024 * 1024)

/* Bytes standing for each class in the collapsed text. */
#define COL_OTHER	0xD0
#define COL_NUMBER	0xD1
#define COL_LETTER	0xD2
#define COL_PUNCT	0xD3
#define COL_MARK	0xD4
#define COL_SYMBOL	0xD5
#define COL_SPACE	0x0B

/* ---- code points ----------------------------------------------------- */

enum ucd_class
ucd_class(uint32_t cp)
{
	size_t lo = 0, hi = ucd_nruns;

	if (cp > 0x10FFFF)
		return UCD_UNDEFINED;
	while (hi - lo > 1) {		/* last run with start <= cp */
		size_t mid = lo + (hi - lo) / 2;

		if (ucd_runs[mid].start <= cp)
			lo = mid;
		else
			hi = mid;
	}
	return (enum ucd_class)ucd_runs[lo].cls;
}

bool
ucd_space(uint32_t cp)
{
	if (cp <= 0x20)
		return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
	if (cp < 0x85)
		return false;
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
	    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

uint32_t
utf8_decode(const unsigned char *s, size_t n, size_t *adv)
{
	unsigned char c = s[0];
	uint32_t cp;

	if (c < 0x80) {
		*adv = 1;
		return c;
	}
	if ((c & 0x40) == 0)
		goto bad;		/* a continuation byte as lead */
	if ((c & 0x20) == 0) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			goto bad;
		*adv = 2;
		return (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if ((c & 0x10) == 0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			goto bad;
		*adv = 3;
		return (uint32_t)(c & 0x0F) << 12 |
		    (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	if ((c & 0x08) == 0) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			goto bad;
		cp = (uint32_t)(c & 0x07) << 18 |
		    (uint32_t)(s[1] & 0x3F) << 12 |
		    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
		/*
		 * The reference decodes up to 0x1FFFFF and then throws when
		 * it re-encodes; treat such a lead byte as junk instead.
		 */
		if (cp > 0x10FFFF)
			goto bad;
		*adv = 4;
		return cp;
	}
bad:
	*adv = 1;
	return 0xFFFD;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18 & 0x07));
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
utf8_len(unsigned char c)
{
	static const unsigned char len[16] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4
	};

	return len[c >> 4];
}

/*
 * GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for
 * themselves, the other 68 bytes for U+0100.. in byte order.
 */
static bool
byte_printable(unsigned b)
{
	return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
	    (b >= 0xAE && b <= 0xFF);
}

uint32_t
bytemap_cp(uint8_t b)
{
	unsigned n = 0;

	if (byte_printable(b))
		return b;
	for (unsigned i = 0; i < b; i++)
		n += !byte_printable(i);
	return 0x100 + n;
}

int
bytemap_byte(uint32_t cp)
{
	unsigned n = 0;

	if (cp < 0x100)
		return byte_printable(cp) ? (int)cp : -1;
	if (cp >= 0x100 + 68)
		return -1;
	for (unsigned b = 0; b < 256; b++) {
		if (byte_printable(b))
			continue;
		if (0x100 + n == cp)
			return (int)b;
		n++;
	}
	return -1;
}

/* ---- the pre-tokenizer table -------------------------------------------- */

#define RE_GPT2 \
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+" \
	"|\\s+(?!\\S)"
#define RE_LLAMA3 \
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])" \
	"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2 \
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])" \
	"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_TRAIL_SPACE "\\s+$"
/* [一-龥ࠀ-一가-퟿]+ */
#define RE_CJK "[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80" \
	"\xEA\xB0\x80-\xED\x9F\xBF]+"

/*
 * DeepSeek LLM's cased letters, written as escapes because several of
 * them (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) are singletons
 * that Unicode normalization of the source text would silently turn into
 * other code points.  Ranges, in order: A-Z a-z B5 C0-D6 D8-F6 F8-1BA
 * 1BC-1BF 1C4-293 295-2AF 370-373 376 377 37B-37D 37F 386 388-38A 38C
 * 38E-3A1 3A3-3F5 3F7-481 48A-52F 531-556 10A0-10C5 13A0-13F5 13F8-13FD
 * 1C90-1CBA 1CBD-1CBF 1D00-1D2B 1D6B-1D77 1D79-1D9A 1E00-1F15 1F18-1F1D
 * 1F20-1F45 1F48-1F4D 1F50-1F57 1F59 1F5B 1F5D 1F5F-1F7D 1F80-1FB4
 * 1FB6-1FBC 1FBE 1FC2-1FC4 1FC6-1FCC 1FD0-1FD3 1FD6-1FDB 1FE0-1FEC
 * 1FF2-1FF4 1FF6-1FFC 2102 2107 210A-2113 2115 2119-211D 2124 2126 2128
 * 212A-212D 212F-2134 2139 213C-213F 2145-2149 214E 2183 2184 2C00-2C7B
 * 2C7E-2CE4 2CEB-2CEE 2CF2 2CF3 A640-A66D A680-A69B A722-A76F A771-A787
 * A78B-A78E AB70-ABBF FB00-FB06 FB13-FB17 FF21-FF3A FF41-FF5A
 * 10400-1044F 104B0-104D3 104D8-104FB 10C80-10CB2 10CC0-10CF2
 * 118A0-118DF 1E900-1E943.
 */
#define RE_DEEPSEEK_LETTERS \
	"\\s?[A-Za-z\xC2\xB5\xC3\x80-\xC3\x96\xC3\x98-\xC3\xB6\xC3\xB8-" \
	"\xC6\xBA\xC6\xBC-\xC6\xBF\xC7\x84-\xCA\x93\xCA\x95-\xCA\xAF\xCD" \
	"\xB0-\xCD\xB3\xCD\xB6\xCD\xB7\xCD\xBB-\xCD\xBD\xCD\xBF\xCE\x86" \
	"\xCE\x88-\xCE\x8A\xCE\x8C\xCE\x8E-\xCE\xA1\xCE\xA3-\xCF\xB5\xCF" \
	"\xB7-\xD2\x81\xD2\x8A-\xD4\xAF\xD4\xB1-\xD5\x96\xE1\x82\xA0-\xE1" \
	"\x83\x85\xE1\x8E\xA0-\xE1\x8F\xB5\xE1\x8F\xB8-\xE1\x8F\xBD\xE1" \
	"\xB2\x90-\xE1\xB2\xBA\xE1\xB2\xBD-\xE1\xB2\xBF\xE1\xB4\x80-\xE1" \
	"\xB4\xAB\xE1\xB5\xAB-\xE1\xB5\xB7\xE1\xB5\xB9-\xE1\xB6\x9A\xE1" \
	"\xB8\x80-\xE1\xBC\x95\xE1\xBC\x98-\xE1\xBC\x9D\xE1\xBC\xA0-\xE1" \
	"\xBD\x85\xE1\xBD\x88-\xE1\xBD\x8D\xE1\xBD\x90-\xE1\xBD\x97\xE1" \
	"\xBD\x99\xE1\xBD\x9B\xE1\xBD\x9D\xE1\xBD\x9F-\xE1\xBD\xBD\xE1" \
	"\xBE\x80-\xE1\xBE\xB4\xE1\xBE\xB6-\xE1\xBE\xBC\xE1\xBE\xBE\xE1" \
	"\xBF\x82-\xE1\xBF\x84\xE1\xBF\x86-\xE1\xBF\x8C\xE1\xBF\x90-\xE1" \
	"\xBF\x93\xE1\xBF\x96-\xE1\xBF\x9B\xE1\xBF\xA0-\xE1\xBF\xAC\xE1" \
	"\xBF\xB2-\xE1\xBF\xB4\xE1\xBF\xB6-\xE1\xBF\xBC\xE2\x84\x82\xE2" \
	"\x84\x87\xE2\x84\x8A-\xE2\x84\x93\xE2\x84\x95\xE2\x84\x99-\xE2" \
	"\x84\x9D\xE2\x84\xA4\xE2\x84\xA6\xE2\x84\xA8\xE2\x84\xAA-\xE2" \
	"\x84\xAD\xE2\x84\xAF-\xE2\x84\xB4\xE2\x84\xB9\xE2\x84\xBC-\xE2" \
	"\x84\xBF\xE2\x85\x85-\xE2\x85\x89\xE2\x85\x8E\xE2\x86\x83\xE2" \
	"\x86\x84\xE2\xB0\x80-\xE2\xB1\xBB\xE2\xB1\xBE-\xE2\xB3\xA4\xE2" \
	"\xB3\xAB-\xE2\xB3\xAE\xE2\xB3\xB2\xE2\xB3\xB3\xEA\x99\x80-\xEA" \
	"\x99\xAD\xEA\x9A\x80-\xEA\x9A\x9B\xEA\x9C\xA2-\xEA\x9D\xAF\xEA" \
	"\x9D\xB1-\xEA\x9E\x87\xEA\x9E\x8B-\xEA\x9E\x8E\xEA\xAD\xB0-\xEA" \
	"\xAE\xBF\xEF\xAC\x80-\xEF\xAC\x86\xEF\xAC\x93-\xEF\xAC\x97\xEF" \
	"\xBC\xA1-\xEF\xBC\xBA\xEF\xBD\x81-\xEF\xBD\x9A\xF0\x90\x90\x80-" \
	"\xF0\x90\x91\x8F\xF0\x90\x92\xB0-\xF0\x90\x93\x93\xF0\x90\x93" \
	"\x98-\xF0\x90\x93\xBB\xF0\x90\xB2\x80-\xF0\x90\xB2\xB2\xF0\x90" \
	"\xB3\x80-\xF0\x90\xB3\xB2\xF0\x91\xA2\xA0-\xF0\x91\xA3\x9F\xF0" \
	"\x9E\xA4\x80-\xF0\x9E\xA5\x83]+"
/* \s?[!-/:-~！-／：-～‘-‟　-。]+ */
#define RE_DEEPSEEK_PUNCT \
	"\\s?[!-/:-~\xEF\xBC\x81-\xEF\xBC\x8F\xEF\xBC\x9A-\xEF\xBD\x9E" \
	"\xE2\x80\x98-\xE2\x80\x9F\xE3\x80\x80-\xE3\x80\x82]+"

/*
 * Regex lists per pre-tokenizer, as the reference's llm_tokenizer_bpe
 * chooses them; names mapping to one list share a row.
 */
static const char *const re_default[] = {
	"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]",
	NULL
};
static const char *const re_llama3[] = { RE_LLAMA3, NULL };
static const char *const re_deepseek_llm[] = {
	"[\r\n]", RE_DEEPSEEK_LETTERS, RE_DEEPSEEK_PUNCT, RE_TRAIL_SPACE,
	RE_CJK, "\\p{N}+", NULL
};
static const char *const re_deepseek_coder[] = {
	"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}", NULL
};
static const char *const re_falcon[] = {
	"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]", NULL
};
static const char *const re_starcoder[] = { "\\p{N}", RE_GPT2, NULL };
static const char *const re_gpt2[] = { RE_GPT2, NULL };
static const char *const re_qwen2[] = { RE_QWEN2, NULL };
/* Qwen2's list with combining marks kept inside words (Qwen3.5). */
static const char *const re_qwen35[] = {
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
	"|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}"
	"| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	NULL
};
/*
 * o200k (GPT-4o, Phi-4-mini) and tekken (Mistral) split words at case
 * changes.  These run as tokenizer.json writes them, on code points with
 * Unicode properties ((*UCP)): the reference runtime's rewrite over the
 * collapsed text sees only ASCII case and splits a letter from the
 * combining mark after it, which the reference tokenizers do not.
 */
#define RE_O200K_WORD(c)						\
	"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"	\
	"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" c				\
	"|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"	\
	"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" c
#define RE_UCP	"(*UCP)"
static const char *const re_gpt4o[] = {
	RE_UCP RE_O200K_WORD("(?i:'s|'t|'re|'ve|'m|'ll|'d)?")
	"|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+"
	"|\\s+(?!\\S)|\\s+",
	NULL
};
static const char *const re_tekken[] = {
	RE_UCP RE_O200K_WORD("")
	"|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+"
	"|\\s+(?!\\S)|\\s+",
	NULL
};

static const struct {
	const char		*name;
	const char *const	*re;
} pre_table[] = {
	{ "default", re_default },
	{ "llama3", re_llama3 }, { "llama-v3", re_llama3 },
	{ "llama-bpe", re_llama3 }, { "falcon3", re_llama3 },
	{ "falcon-h1", re_llama3 }, { "pixtral", re_llama3 },
	{ "midm-2.0", re_llama3 }, { "lfm2", re_llama3 },
	{ "dbrx", re_llama3 }, { "smaug-bpe", re_llama3 },
	{ "deepseek-llm", re_deepseek_llm },
	{ "deepseek-coder", re_deepseek_coder },
	{ "falcon", re_falcon },
	{ "starcoder", re_starcoder }, { "refact", re_starcoder },
	{ "command-r", re_starcoder }, { "smollm", re_starcoder },
	{ "codeshell", re_starcoder }, { "exaone", re_starcoder },
	{ "minerva-7b", re_starcoder },
	{ "gpt-2", re_gpt2 }, { "phi-2", re_gpt2 }, { "mpt", re_gpt2 },
	{ "olmo", re_gpt2 }, { "jais", re_gpt2 }, { "roberta-bpe", re_gpt2 },
	{ "qwen2", re_qwen2 }, { "deepseek-r1-qwen", re_qwen2 },
	{ "stablelm2", re_qwen2 }, { "megrez", re_qwen2 },
	{ "hunyuan", re_qwen2 },
	{ "qwen35", re_qwen35 },
	{ "gpt-4o", re_gpt4o }, { "minimax-m2", re_gpt4o },
	{ "tekken", re_tekken },
};

/* ---- steps ------------------------------------------------------------ */

enum step_kind {
	STEP_GPT2,		/* hand-written RE_GPT2 */
	STEP_LLAMA3,		/* hand-written RE_LLAMA3 */
	STEP_TRAIL_SPACE,	/* \s+$ */
	STEP_COLLAPSED,		/* PCRE2 over the collapsed bytes */
	STEP_UTF,		/* PCRE2 over re-encoded code points */
};

struct step {
	enum step_kind	 kind;
	pcre2_code	*re;
};

struct pretok {
	struct step	 steps[PRETOK_MAX_STEPS];
	size_t		 nsteps;
	bool		 need_collapsed, need_utf, need_flags;
};

/* Does the regex name one of the classes the collapsed text stands for? */
static bool
uses_classes(const char *re)
{
	static const char *const cls[] = {
		"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"
	};

	for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++)
		if (strstr(re, cls[i]) != NULL)
			return true;
	return false;
}

/*
 * Rewrite \p{X} as the class's collapsed byte plus its ASCII members, in
 * brackets unless already inside a bracket expression (the reference's
 * transformation, which assumes no nested brackets).
 */
static char *
collapse_regex(const char *re)
{
	static const struct {
		const char	*name;
		const char	*repl;
	} map[] = {
		{ "\\p{N}", "\xD1" "0-9" },
		{ "\\p{L}", "\xD2" "A-Za-z" },
		{ "\\p{P}", "\xD3" "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}" },
		{ "\\p{M}", "\xD4" },
		{ "\\p{S}", "\xD5" "\\$\\+<->^`\\|" },
	};
	size_t n = strlen(re), o = 0;
	char *out;
	bool inside = false;

	if ((out = malloc(n * 16 + 1)) == NULL)	/* each \p{X} grows < 16x */
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) {
			out[o++] = '[';
			inside = true;
			continue;
		}
		if (inside && re[i] == ']' && re[i - 1] != '\\') {
			out[o++] = ']';
			inside = false;
			continue;
		}
		for (k = 0; k < sizeof map / sizeof map[0]; k++)
			if (strncmp(re + i, map[k].name, 5) == 0)
				break;
		if (k == sizeof map / sizeof map[0]) {
			out[o++] = re[i];
			continue;
		}
		if (!inside)
			out[o++] = '[';
		memcpy(out + o, map[k].repl, strlen(map[k].repl));
		o += strlen(map[k].repl);
		if (!inside)
			out[o++] = ']';
		i += 4;
	}
	out[o] = '\0';
	return out;
}

static int
compile_step(struct step *st, const char *re, bool collapsed, char **cause)
{
	char *pat = NULL;
	uint32_t opt = PCRE2_DOLLAR_ENDONLY;
	int err = 0;
	PCRE2_SIZE erroff = 0;

	if (collapsed) {
		if ((pat = collapse_regex(re)) == NULL) {
			if (cause != NULL)
				*cause = strdup("out of memory");
			return -1;
		}
	} else
		opt |= PCRE2_UTF | PCRE2_NO_UTF_CHECK;
	st->re = pcre2_compile((PCRE2_SPTR)(pat != NULL ? pat : re),
	    PCRE2_ZERO_TERMINATED, opt, &err, &erroff, NULL);
	free(pat);
	if (st->re == NULL) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(err, msg, sizeof msg);
		if (cause != NULL && asprintf(cause,
		    "pre-tokenizer regex does not compile at %zu: %s",
		    (size_t)erroff, (const char *)msg) < 0)
			*cause = NULL;
		return -1;
	}
	/* JIT is an optimization only: without it the interpreter runs. */
	(void)pcre2_jit_compile(st->re, PCRE2_JIT_COMPLETE);
	st->kind = collapsed ? STEP_COLLAPSED : STEP_UTF;
	return 0;
}

int
pretok_new(const char *pre, struct pretok **out, char **cause)
{
	const char *const *re = NULL;
	struct pretok *pt;

	if (cause != NULL)
		*cause = NULL;
	if (pre == NULL || *pre == '\0')
		pre = "default";
	for (size_t i = 0; i < sizeof pre_table / sizeof pre_table[0]; i++)
		if (strcmp(pre, pre_table[i].name) == 0)
			re = pre_table[i].re;
	if (re == NULL) {
		if (cause != NULL && asprintf(cause,
		    "tokenizer.ggml.pre: unknown pre-tokenizer '%.64s'",
		    pre) < 0)
			*cause = NULL;
		return -1;
	}
	if ((pt = calloc(1, sizeof *pt)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		return -1;
	}
	for (; *re != NULL && pt->nsteps < PRETOK_MAX_STEPS; re++) {
		struct step *st = &pt->steps[pt->nsteps];

		if (strcmp(*re, RE_GPT2) == 0)
			st->kind = STEP_GPT2;
		else if (strcmp(*re, RE_LLAMA3) == 0)
			st->kind = STEP_LLAMA3;
		else if (strcmp(*re, RE_TRAIL_SPACE) == 0)
			st->kind = STEP_TRAIL_SPACE;
		else if (compile_step(st, *re, strncmp(*re, RE_UCP,
		    strlen(RE_UCP)) != 0 && uses_classes(*re), cause) != 0) {
			pretok_free(pt);
			return -1;
		}
		pt->need_flags |= st->kind == STEP_GPT2 ||
		    st->kind == STEP_LLAMA3;
		pt->need_collapsed |= st->kind == STEP_COLLAPSED;
		pt->need_utf |= st->kind == STEP_UTF;
		pt->nsteps++;
	}
	*out = pt;	/* transferred */
	return 0;
}

void
pretok_free(struct pretok *pt)
{
	if (pt == NULL)
		return;
	for (size_t i = 0; i < pt->nsteps; i++)
		pcre2_code_free(pt->steps[i].re);
	free(pt);
}

void
pretok_words_release(struct pretok_words *w)
{
	free(w->buf);
	free(w->end);
	memset(w, 0, sizeof *w);
}

/* ---- one split -------------------------------------------------------- */

/* Per code point flags for the hand-written splitters; 0 = none. */
#define F_ANY	0x01	/* a code point (the reference's flags != 0) */
#define F_L	0x02
#define F_N	0x04
#define F_WS	0x08

struct split {
	const struct pretok *pt;
	uint32_t	*cp;		/* code points */
	size_t		 n;
	unsigned char	*flags;		/* F_* per code point */
	unsigned char	*col;		/* collapsed text */
	char		*utf;		/* re-encoded text for STEP_UTF */
	size_t		 nutf;
	uint32_t	*seg, *nseg;	/* segment lengths, in code points */
	size_t		 nseg_in, nseg_out;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack	*js;
};

static void
emit(struct split *sp, size_t len)
{
	if (len > 0)
		sp->nseg[sp->nseg_out++] = (uint32_t)len;
}

static unsigned
flags_at(const struct split *sp, size_t lo, size_t hi, size_t pos)
{
	return pos >= lo && pos < hi ? sp->flags[pos] : 0;
}

#define OUT_OF_RANGE 0xFFFFFFFFu

static uint32_t
cp_at(const struct split *sp, size_t lo, size_t hi, size_t pos)
{
	return pos >= lo && pos < hi ? sp->cp[pos] : OUT_OF_RANGE;
}

/*
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
 * over [lo, hi), step for step as the reference's custom splitter.
 */
static void
split_gpt2(struct split *sp, size_t lo, size_t hi)
{
	size_t pos = lo, prev = lo;

#define ADD(end) do { emit(sp, (end) - prev); prev = (end); } while (0)
	while (pos < hi) {
		uint32_t c = sp->cp[pos], c1, c2;
		unsigned f = sp->flags[pos], f2;
		size_t nws;

		if (c == '\'' && pos + 1 < hi) {
			c1 = sp->cp[pos + 1];
			if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
				ADD(pos + 2);
				pos += 2;
				continue;
			}
			if (pos + 2 < hi) {
				c2 = sp->cp[pos + 2];
				if ((c1 == 'r' && c2 == 'e') ||
				    (c1 == 'v' && c2 == 'e') ||
				    (c1 == 'l' && c2 == 'l')) {
					ADD(pos + 3);
					pos += 3;
					continue;
				}
			}
		}
		f2 = c == ' ' ? flags_at(sp, lo, hi, pos + 1) : f;
		if (f2 & F_L) {
			pos += c == ' ';
			while (flags_at(sp, lo, hi, pos) & F_L)
				pos++;
			ADD(pos);
			continue;
		}
		if (f2 & F_N) {
			pos += c == ' ';
			while (flags_at(sp, lo, hi, pos) & F_N)
				pos++;
			ADD(pos);
			continue;
		}
		if (!(f2 & (F_WS | F_L | F_N)) && (f2 & F_ANY)) {
			pos += c == ' ';
			for (;;) {
				f2 = flags_at(sp, lo, hi, pos);
				if ((f2 & (F_WS | F_L | F_N)) || !(f2 & F_ANY))
					break;
				pos++;
			}
			ADD(pos);
			continue;
		}
		nws = 0;
		while (flags_at(sp, lo, hi, pos + nws) & F_WS)
			nws++;
		if (nws > 1 && cp_at(sp, lo, hi, pos + nws) != OUT_OF_RANGE) {
			pos += nws - 1;
			ADD(pos);
			continue;
		}
		if (nws > 0) {
			pos += nws;
			ADD(pos);
			continue;
		}
		ADD(pos + 1);
		pos++;
	}
#undef ADD
}

static uint32_t
ascii_lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 * | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * over [lo, hi), as the reference's custom splitter.  Its case folding
 * of the contraction letters is a table lookup; only ASCII letters (and
 * U+212A KELVIN SIGN, which folds to 'k', not a contraction letter) fold
 * to the letters tested, so ASCII folding gives the same results.
 */
static void
split_llama3(struct split *sp, size_t lo, size_t hi)
{
	size_t pos = lo, prev = lo;

#define ADD(end) do { emit(sp, (end) - prev); prev = (end); } while (0)
	while (pos < hi) {
		uint32_t c = sp->cp[pos], c1, c2;
		unsigned f = sp->flags[pos], f2;
		size_t nws, last_rn;

		if (c == '\'' && pos + 1 < hi) {
			c1 = ascii_lower(sp->cp[pos + 1]);
			if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
				ADD(pos + 2);
				pos += 2;
				continue;
			}
			if (pos + 2 < hi) {
				c2 = ascii_lower(sp->cp[pos + 2]);
				if ((c1 == 'r' && c2 == 'e') ||
				    (c1 == 'v' && c2 == 'e') ||
				    (c1 == 'l' && c2 == 'l')) {
					ADD(pos + 3);
					pos += 3;
					continue;
				}
			}
		}
		if (!(c == '\r' || c == '\n' || (f & F_N)) &&
		    ((f & F_L) || (flags_at(sp, lo, hi, pos + 1) & F_L))) {
			pos++;
			while (flags_at(sp, lo, hi, pos) & F_L)
				pos++;
			ADD(pos);
			continue;
		}
		if (f & F_N) {
			size_t ini = pos;

			while (flags_at(sp, lo, hi, pos) & F_N) {
				if (++pos - ini >= 3) {
					ADD(pos);
					ini = pos;
				}
			}
			ADD(pos);
			continue;
		}
		f2 = c == ' ' ? flags_at(sp, lo, hi, pos + 1) : f;
		/* The reference tests `f` (not f2) for "any" here. */
		if (!(f2 & (F_WS | F_L | F_N)) && (f & F_ANY)) {
			pos += c == ' ';
			for (;;) {
				f2 = flags_at(sp, lo, hi, pos);
				if ((f2 & (F_WS | F_L | F_N)) || !(f2 & F_ANY))
					break;
				pos++;
			}
			for (;;) {
				c2 = cp_at(sp, lo, hi, pos);
				if (c2 != '\r' && c2 != '\n')
					break;
				pos++;
			}
			ADD(pos);
			continue;
		}
		nws = 0;
		last_rn = 0;
		while (flags_at(sp, lo, hi, pos + nws) & F_WS) {
			c2 = sp->cp[pos + nws];
			if (c2 == '\r' || c2 == '\n')
				last_rn = pos + nws + 1;
			nws++;
		}
		if (last_rn > 0) {
			pos = last_rn;
			ADD(pos);
			continue;
		}
		if (nws > 1 && cp_at(sp, lo, hi, pos + nws) != OUT_OF_RANGE) {
			pos += nws - 1;
			ADD(pos);
			continue;
		}
		if (nws > 0) {
			pos += nws;
			ADD(pos);
			continue;
		}
		ADD(pos + 1);
		pos++;
	}
#undef ADD
}

/* \s+$: the white space run that ends the segment, if any. */
static void
split_trail_space(struct split *sp, size_t lo, size_t hi)
{
	size_t p = hi;

	while (p > lo && ucd_space(sp->cp[p - 1]))
		p--;
	emit(sp, p - lo);
	emit(sp, hi - p);
}

/* Code points in utf[a..b) (valid UTF-8 written by us). */
static size_t
count_cp(const char *utf, size_t a, size_t b)
{
	size_t k = 0;

	for (size_t i = a; i < b; i++)
		k += ((unsigned char)utf[i] & 0xC0) != 0x80;
	return k;
}

/*
 * Matches and gaps of a regex over subject[0..len), as the reference's
 * regex_iterator loop records them.  For STEP_UTF the offsets are bytes
 * and get converted to code points.
 */
static void
split_regex(struct split *sp, const struct step *st, const char *subject,
    size_t len)
{
	size_t pos = 0, last = 0;
	bool utf = st->kind == STEP_UTF;

	while (pos <= len) {
		PCRE2_SIZE *ov;
		size_t ms, me;
		int rc;

		rc = pcre2_match(st->re, (PCRE2_SPTR)subject, len, pos,
		    utf ? PCRE2_NO_UTF_CHECK : 0, sp->md, sp->mc);
		if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
			rc = pcre2_match(st->re, (PCRE2_SPTR)subject, len, pos,
			    (utf ? PCRE2_NO_UTF_CHECK : 0) | PCRE2_NO_JIT,
			    sp->md, sp->mc);
		if (rc < 0)	/* no match, or a limit hit: rest is a gap */
			break;
		ov = pcre2_get_ovector_pointer(sp->md);
		ms = ov[0];
		me = ov[1];
		if (me <= ms) {
			/* None of the regexes can match empty; be safe. */
			pos = ms + (utf && ms < len ?
			    utf8_len((unsigned char)subject[ms]) : 1);
			continue;
		}
		emit(sp, utf ? count_cp(subject, last, ms) : ms - last);
		emit(sp, utf ? count_cp(subject, ms, me) : me - ms);
		last = pos = me;
	}
	if (last < len)
		emit(sp, utf ? count_cp(subject, last, len) : len - last);
}

static int
prepare(struct split *sp)
{
	const struct pretok *pt = sp->pt;
	size_t n = sp->n;

	if (pt->need_flags) {
		if ((sp->flags = malloc(n ? n : 1)) == NULL)
			return -1;
		for (size_t i = 0; i < n; i++) {
			enum ucd_class c = ucd_class(sp->cp[i]);
			unsigned f = F_ANY;

			f |= c == UCD_LETTER ? F_L : 0;
			f |= c == UCD_NUMBER ? F_N : 0;
			f |= ucd_space(sp->cp[i]) ? F_WS : 0;
			sp->flags[i] = (unsigned char)f;
		}
	}
	if (pt->need_collapsed) {
		if ((sp->col = malloc(n ? n : 1)) == NULL)
			return -1;
		for (size_t i = 0; i < n; i++) {
			uint32_t c = sp->cp[i];
			unsigned char b;

			if (c < 0x80)
				b = (unsigned char)c;
			else if (ucd_space(c))
				b = COL_SPACE;
			else {
				switch (ucd_class(c)) {
				case UCD_NUMBER:	b = COL_NUMBER; break;
				case UCD_LETTER:	b = COL_LETTER; break;
				case UCD_PUNCT:		b = COL_PUNCT; break;
				case UCD_MARK:		b = COL_MARK; break;
				case UCD_SYMBOL:	b = COL_SYMBOL; break;
				default:		b = COL_OTHER; break;
				}
			}
			sp->col[i] = b;
		}
	}
	if (pt->need_utf) {
		if ((sp->utf = malloc(n * 4 + 1)) == NULL)
			return -1;
		for (size_t i = 0; i < n; i++) {
			uint32_t c = sp->cp[i];

			if (c >= 0x80 && ucd_space(c))
				c = 0x0B;
			else if (c >= 0xD800 && c <= 0xDFFF)
				c = 0xFFFF;
			sp->nutf += utf8_encode(c, sp->utf + sp->nutf);
		}
	}
	if (pt->need_collapsed || pt->need_utf) {
		sp->mc = pcre2_match_context_create(NULL);
		sp->js = pcre2_jit_stack_create(PRETOK_JIT_STACK_MIN,
		    PRETOK_JIT_STACK_MAX, NULL);
		/* one pair: only the whole match is used */
		sp->md = pcre2_match_data_create(1, NULL);
		if (sp->mc == NULL || sp->md == NULL)
			return -1;
		if (sp->js != NULL)
			pcre2_jit_stack_assign(sp->mc, NULL, sp->js);
	}
	return 0;
}

static int
run_steps(struct split *sp)
{
	for (size_t s = 0; s < sp->pt->nsteps; s++) {
		const struct step *st = &sp->pt->steps[s];
		size_t lo = 0, blo = 0;
		uint32_t *t;

		sp->nseg_out = 0;
		for (size_t k = 0; k < sp->nseg_in; k++) {
			size_t hi = lo + sp->seg[k];

			switch (st->kind) {
			case STEP_GPT2:
				split_gpt2(sp, lo, hi);
				break;
			case STEP_LLAMA3:
				split_llama3(sp, lo, hi);
				break;
			case STEP_TRAIL_SPACE:
				split_trail_space(sp, lo, hi);
				break;
			case STEP_COLLAPSED:
				split_regex(sp, st, (const char *)sp->col + lo,
				    hi - lo);
				break;
			case STEP_UTF: {
				size_t bhi = blo;

				for (size_t i = lo; i < hi; i++)
					bhi += utf8_len(
					    (unsigned char)sp->utf[bhi]);
				split_regex(sp, st, sp->utf + blo, bhi - blo);
				blo = bhi;
				break;
			}
			}
			lo = hi;
		}
		t = sp->seg;
		sp->seg = sp->nseg;
		sp->nseg = t;
		sp->nseg_in = sp->nseg_out;
	}
	return 0;
}

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
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

int
pretok_split(const struct pretok *pt, const char *text, size_t len,
    struct pretok_words *w)
{
	const unsigned char *s = (const unsigned char *)text;
	struct split sp;
	size_t off = 0, lo = 0;
	int rc = -1;

	memset(&sp, 0, sizeof sp);
	sp.pt = pt;
	w->len = 0;
	w->n = 0;
	if (len == 0)
		return 0;
	if ((sp.cp = malloc(len * sizeof *sp.cp)) == NULL ||
	    (sp.seg = malloc(len * sizeof *sp.seg)) == NULL ||
	    (sp.nseg = malloc(len * sizeof *sp.nseg)) == NULL)
		goto out;
	while (off < len) {
		size_t adv;

		sp.cp[sp.n++] = utf8_decode(s + off, len - off, &adv);
		off += adv;
	}
	if (prepare(&sp) != 0)
		goto out;
	if (sp.n > UINT32_MAX)	/* segment lengths are 32-bit */
		goto out;
	sp.seg[0] = (uint32_t)sp.n;
	sp.nseg_in = 1;
	if (run_steps(&sp) != 0)
		goto out;

	/* Words: the UTF-8 of each segment's code points. */
	if (grow((void **)&w->buf, &w->cap, sp.n * 4, 1) != 0 ||
	    grow((void **)&w->end, &w->ncap, sp.nseg_in, sizeof *w->end) != 0)
		goto out;
	for (size_t k = 0; k < sp.nseg_in; k++) {
		size_t hi = lo + sp.seg[k];

		for (size_t i = lo; i < hi; i++)
			w->len += utf8_encode(sp.cp[i], w->buf + w->len);
		w->end[w->n++] = w->len;
		lo = hi;
	}
	rc = 0;
out:
	pcre2_match_data_free(sp.md);
	pcre2_match_context_free(sp.mc);
	pcre2_jit_stack_free(sp.js);
	free(sp.cp);
	free(sp.flags);
	free(sp.col);
	free(sp.utf);
	free(sp.seg);
	free(sp.nseg);
	return rc;
}
