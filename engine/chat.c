/*
 * chat.c - chat templates: recognise a model's conversation format from its
 * tokenizer.chat_template and render messages in it (chat.h).
 *
 * We do not run Jinja.  Like the reference runtime (llama.cpp's
 * llm_chat_detect_template and llm_chat_apply_template in
 * src/llama-chat.cpp), chat_detect() looks for substrings that only one
 * family's template contains, in the same order, and chat_render() writes
 * that family's format with a built-in formatter.  The renders match the
 * reference's byte for byte, including where it differs from the Jinja
 * text (Llama 3 trims contents; the Mistral v3 system prompt goes into the
 * first [INST], not the last).
 *
 * Families, what gives them away, and one user turn ("S" the system
 * prompt, "A" an assistant reply):
 *
 *   chatml          <|im_start|> (not with <|im_sep|> or <end_of_utterance>)
 *                   <|im_start|>user\nHi<|im_end|>\n
 *   llama3          <|start_header_id|> and <|end_header_id|>
 *                   <|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>
 *   llama2          [INST], content.strip() (Meta's Llama 2 chat)
 *                   [INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST]A</s>
 *   llama2-sys      [INST], <<SYS>>: the same, contents not trimmed
 *   llama2-sys-bos  [INST], bos_token + '[INST]: also <s> before later turns
 *   mistral         [INST] alone (Mistral v0.1, first v0.2, Mixtral)
 *                   [INST] S\nHi [/INST]A</s>
 *   mistral-v1      ' [INST] ' + system_message (Mistral v0.2 today)
 *                    [INST] S\n\nHi [/INST] A</s>
 *   mistral-v3      [AVAILABLE_TOOLS] (Mistral v0.3)
 *                   [INST] S\n\nHi[/INST] A</s>
 *   mistral-tekken  [AVAILABLE_TOOLS] and "[INST]" (Mistral Nemo)
 *                   [INST]S\n\nHi[/INST]A</s>
 *   mistral-v7      [SYSTEM_PROMPT]
 *                   [SYSTEM_PROMPT] S[/SYSTEM_PROMPT][INST] Hi[/INST] A</s>
 *   tekken-v7       [SYSTEM_PROMPT] without the spaces (Ministral 3)
 *                   [SYSTEM_PROMPT]S[/SYSTEM_PROMPT][INST]Hi[/INST]A</s>
 *   gemma           <start_of_turn> (Gemma 2, 3)
 *                   <start_of_turn>user\nS\n\nHi<end_of_turn>\n
 *   gemma4          <|turn> (Gemma 4): a system turn of its own,
 *                   "model" for the assistant, contents trimmed
 *                   <|turn>system\nS<turn|>\n<|turn>user\nHi<turn|>\n
 *                   and the reply opens with <|turn>model\n
 *   gemma4-channel  <|turn> and an empty thought channel after it
 *                   (the 26B and 31B templates, thinking off): the reply
 *                   opens with <|turn>model\n<|channel>thought\n<channel|>
 *   phi4            <|im_start|> and <|im_sep|>
 *                   <|im_start|>user<|im_sep|>Hi<|im_end|>
 *   granite         <|start_of_role|> (Granite 3, 4)
 *                   <|start_of_role|>user<|end_of_role|>Hi<|end_of_text|>\n
 *   chatml-think    <|im_start|> and enable_thinking (Qwen3, Qwen3.5,
 *                   SmolLM3): ChatML, and after a last user message
 *                   ending in "/no_think" the assistant's turn opens with
 *                   <think>\n\n</think>\n\n (enable_thinking = false)
 *   phi3            <|assistant|> and <|end|>
 *                   <|user|>\nHi<|end|>\n
 *   zephyr          <|user|>, <|assistant|> and eos_token or </s>
 *                   <|user|>\nHi</s>\n
 *
 * Zephyr ends every turn with "</s>", the EOS of the Llama and Mistral
 * vocabularies that TinyLlama-Chat and Zephyr-7B use (their templates say
 * eos_token).  Here we part from the reference on purpose: its detector
 * files TinyLlama's template under GLM-Edge (no end of turn at all), and
 * its Zephyr writes <|endoftext|>, StableLM's EOS.
 *
 * Fallback.  A missing template, or one we do not recognise (Command-R,
 * ... and anything new), gets a plain transcript:
 *
 *   System: You are a helpful assistant.\n\n
 *   User: Hello!\n\n
 *   Assistant: Hi there.\n\n
 *   User: And now?\n\n
 *   Assistant:
 *
 * It uses no special tokens at all, because we cannot know which ones the
 * vocabulary has; a model trained on some other format still reads it as
 * a dialogue, and end of generation comes from its EOS token.  Its
 * template text is marked special = false too: there is nothing in it to
 * find.
 *
 * Segments.  Template text goes into special segments and each message's
 * content into its own non-special one, so the tokenizer looks for
 * special tokens only in text this file wrote: a user message holding
 * "<|im_start|>system" stays those characters.  Roles never reach the
 * text unchecked: only "system", "user" and "assistant" are accepted.
 *
 * Conversation rules (the strictest of the supported templates, which
 * raise exceptions otherwise): at least one message; a system message
 * only first; then user and assistant alternate, starting with the user;
 * add_assistant only after a user message.  NULL content is an error, ""
 * is fine.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

#define CHAT_ROLE_SHOWN	32	/* bytes of a bad role quoted in causes */
#define CHAT_BUF_MIN	256	/* first allocation of the text */
#define CHAT_SEGS_MIN	16	/* first allocation of the segments */

enum role { R_SYSTEM, R_USER, R_ASSISTANT, R_BAD };

/* Names: this program's, also accepted by chat_detect as a whole text. */
static const char *const family_names[] = {
	[CHAT_FALLBACK] = "fallback",
	[CHAT_CHATML] = "chatml",
	[CHAT_LLAMA3] = "llama3",
	[CHAT_LLAMA2] = "llama2",
	[CHAT_MISTRAL] = "mistral",
	[CHAT_ZEPHYR] = "zephyr",
	[CHAT_PHI3] = "phi3",
	[CHAT_LLAMA2_SYS] = "llama2-sys",
	[CHAT_LLAMA2_SYS_BOS] = "llama2-sys-bos",
	[CHAT_MISTRAL_V1] = "mistral-v1",
	[CHAT_MISTRAL_V3] = "mistral-v3",
	[CHAT_MISTRAL_V3_TEKKEN] = "mistral-tekken",
	[CHAT_MISTRAL_V7] = "mistral-v7",
	[CHAT_GEMMA] = "gemma",
	[CHAT_PHI4] = "phi4",
	[CHAT_GRANITE] = "granite",
	[CHAT_MISTRAL_V7_TEKKEN] = "tekken-v7",
	[CHAT_CHATML_THINK] = "chatml-think",
	[CHAT_GEMMA4] = "gemma4",
	[CHAT_GEMMA4_CHANNEL] = "gemma4-channel",
};
#define NFAMILIES	(sizeof family_names / sizeof family_names[0])

/* ---- detection -------------------------------------------------------- */

static bool
has(const char *t, const char *needle)
{
	return strstr(t, needle) != NULL;
}

/* The [INST] families, as the reference tells them apart. */
static enum chat_family
detect_inst(const char *t)
{
	if (has(t, "[SYSTEM_PROMPT]")) {
		/* v7 writes "[SYSTEM_PROMPT] " and "[INST] "; tekken not */
		if (has(t, "[SYSTEM_PROMPT] ") || has(t, "[INST] "))
			return CHAT_MISTRAL_V7;
		return CHAT_MISTRAL_V7_TEKKEN;
	}
	if (has(t, "' [INST] ' + system_message") ||
	    has(t, "[AVAILABLE_TOOLS]")) {
		if (has(t, " [INST]"))
			return CHAT_MISTRAL_V1;
		if (has(t, "\"[INST]\""))
			return CHAT_MISTRAL_V3_TEKKEN;
		return CHAT_MISTRAL_V3;
	}
	if (has(t, "content.strip()"))
		return CHAT_LLAMA2;
	if (has(t, "bos_token + '[INST]"))
		return CHAT_LLAMA2_SYS_BOS;
	if (has(t, "<<SYS>>"))
		return CHAT_LLAMA2_SYS;
	return CHAT_MISTRAL;
}

enum chat_family
chat_detect(const char *t)
{
	if (t == NULL || *t == '\0')
		return CHAT_FALLBACK;
	for (size_t i = 0; i < NFAMILIES; i++)
		if (strcmp(t, family_names[i]) == 0)
			return (enum chat_family)i;

	if (has(t, "<|im_start|>")) {
		/* Phi-4 and SmolVLM use <|im_start|> but are not ChatML. */
		if (has(t, "<|im_sep|>"))
			return CHAT_PHI4;
		if (has(t, "<end_of_utterance>"))
			return CHAT_FALLBACK;
		if (has(t, "enable_thinking"))
			return CHAT_CHATML_THINK;
		return CHAT_CHATML;
	}
	if (has(t, "<|turn>")) {
		/* the Jinja source writes the newline as backslash-n */
		if (has(t, "'<|channel>thought\\n<channel|>'"))
			return CHAT_GEMMA4_CHANNEL;
		return CHAT_GEMMA4;
	}
	if (has(t, "<start_of_turn>"))
		return CHAT_GEMMA;
	if (has(t, "<|start_of_role|>"))
		return CHAT_GRANITE;
	if (strncmp(t, "mistral", 7) == 0 || has(t, "[INST]"))
		return detect_inst(t);
	if (has(t, "<|assistant|>") && has(t, "<|end|>"))
		return CHAT_PHI3;
	if (has(t, "[gMASK]<sop>"))
		return CHAT_FALLBACK;		/* ChatGLM 4 */
	if (has(t, "<|assistant|>") && has(t, "<|user|>")) {
		/* Zephyr closes each turn with EOS; GLM-Edge does not. */
		if (has(t, "eos_token") || has(t, "</s>"))
			return CHAT_ZEPHYR;
		return CHAT_FALLBACK;
	}
	if (has(t, "<|user|>") && has(t, "<|endoftext|>"))
		return CHAT_ZEPHYR;
	if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>"))
		return CHAT_LLAMA3;
	return CHAT_FALLBACK;
}

const char *
chat_family_name(enum chat_family f)
{
	if ((size_t)f >= NFAMILIES)
		return "unknown";
	return family_names[f];
}

/* ---- output buffer ---------------------------------------------------- */

/* The rendering under construction; `oom` makes later appends no-ops. */
struct rbuf {
	char		*text;
	size_t		 len, cap;
	struct chat_seg	*segs;
	size_t		 nsegs, segcap;
	bool		 oom;
};

static bool
grow(void **p, size_t *cap, size_t need, size_t elem, size_t min)
{
	size_t nc = *cap ? *cap : min;
	void *np;

	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return false;
		nc *= 2;
	}
	if (nc > SIZE_MAX / elem)
		return false;
	if ((np = realloc(*p, nc * elem)) == NULL)
		return false;
	*p = np;
	*cap = nc;
	return true;
}

/*
 * Append s[0..n) as template text (special) or message content.  A piece
 * of the same kind as the one before extends its segment; empty pieces
 * leave no segment.
 */
static void
put(struct rbuf *b, const char *s, size_t n, bool special)
{
	struct chat_seg *last;

	if (b->oom || n == 0)
		return;
	if (n > SIZE_MAX - 1 - b->len || !grow((void **)&b->text, &b->cap,
	    b->len + n + 1, 1, CHAT_BUF_MIN)) {
		b->oom = true;
		return;
	}
	last = b->nsegs ? &b->segs[b->nsegs - 1] : NULL;
	if (last == NULL || last->special != special) {
		if (!grow((void **)&b->segs, &b->segcap, b->nsegs + 1,
		    sizeof *b->segs, CHAT_SEGS_MIN)) {
			b->oom = true;
			return;
		}
		last = &b->segs[b->nsegs++];
		last->off = b->len;
		last->len = 0;
		last->special = special;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
	last->len += n;
}

static void
tmpl(struct rbuf *b, const char *s)
{
	put(b, s, strlen(s), true);
}

static void
content(struct rbuf *b, const char *s, bool trim)
{
	size_t n = strlen(s);

	if (trim) {
		/* The reference's trim(): isspace() in the C locale. */
		while (n > 0 && strchr(" \t\n\v\f\r", s[n - 1]) != NULL)
			n--;
		while (n > 0 && strchr(" \t\n\v\f\r", *s) != NULL) {
			s++;
			n--;
		}
	}
	put(b, s, n, false);
}

/* ---- validation ------------------------------------------------------- */

static enum role
role_of(const char *r)
{
	if (r == NULL)
		return R_BAD;
	if (strcmp(r, "system") == 0)
		return R_SYSTEM;
	if (strcmp(r, "user") == 0)
		return R_USER;
	if (strcmp(r, "assistant") == 0)
		return R_ASSISTANT;
	return R_BAD;
}

/* A role from outside, quoted tamely: printable ASCII, bounded. */
static void
quote_role(char out[CHAT_ROLE_SHOWN + 1], const char *role)
{
	size_t k = 0;

	for (const char *p = role; p != NULL && *p != '\0' &&
	    k < CHAT_ROLE_SHOWN; p++)
		out[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	out[k] = '\0';
}

static void
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

/* Check the conversation rules (top of file); 0 or -1 with *cause. */
static int
validate(const struct chat_msg *m, size_t n, bool add_assistant, char **cause)
{
	enum role want = R_USER, r = R_BAD;
	bool user = false;

	if (n == 0) {
		set_cause(cause, "chat: the conversation has no messages");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((r = role_of(m[i].role)) == R_BAD) {
			char shown[CHAT_ROLE_SHOWN + 1];

			quote_role(shown, m[i].role);
			set_cause(cause, "chat: message %zu has an unknown "
			    "role \"%s\" (system, user or assistant)", i + 1,
			    shown);
			return -1;
		}
		if (m[i].content == NULL) {
			set_cause(cause, "chat: message %zu (%s) has no "
			    "content", i + 1, m[i].role);
			return -1;
		}
		if (r == R_SYSTEM && i != 0) {
			set_cause(cause, "chat: message %zu is a system "
			    "message; only the first may be", i + 1);
			return -1;
		}
		if (r == R_SYSTEM)
			continue;
		if (r != want) {
			set_cause(cause, "chat: message %zu is from the %s; "
			    "after the system message, turns alternate user, "
			    "assistant, starting with the user", i + 1,
			    m[i].role);
			return -1;
		}
		if (r == R_USER)
			user = true;
		want = r == R_USER ? R_ASSISTANT : R_USER;
	}
	if (!user) {
		set_cause(cause, "chat: the conversation has no user message");
		return -1;
	}
	if (add_assistant && r != R_USER) {
		set_cause(cause, "chat: an assistant turn can only follow a "
		    "user message");
		return -1;
	}
	return 0;
}

/* ---- formatters ------------------------------------------------------- */

static void
render_chatml(struct rbuf *b, const struct chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++) {
		tmpl(b, "<|im_start|>");
		tmpl(b, m[i].role);
		tmpl(b, "\n");
		content(b, m[i].content, false);
		tmpl(b, "<|im_end|>\n");
	}
	if (add)
		tmpl(b, "<|im_start|>assistant\n");
}

/*
 * ChatML with a thinking switch.  The app asks for an answer without
 * thinking by ending the last user message with "/no_think" (the soft
 * switch of Qwen3 and SmolLM3; the text stays as the user wrote it).
 * These templates' hard switch, enable_thinking = false, then opens the
 * assistant's turn with an empty think block, which Qwen3.5 (that has no
 * soft switch) needs: we write it whenever that request is there.
 */
static bool
wants_no_think(const struct chat_msg *m, size_t n)
{
	const char *c = n > 0 ? m[n - 1].content : NULL;
	size_t len;

	if (c == NULL || role_of(m[n - 1].role) != R_USER)
		return false;
	len = strlen(c);
	while (len > 0 && strchr(" \t\n\r", c[len - 1]) != NULL)
		len--;
	return len >= 9 && memcmp(c + len - 9, "/no_think", 9) == 0;
}

static void
render_chatml_think(struct rbuf *b, const struct chat_msg *m, size_t n,
    bool add)
{
	render_chatml(b, m, n, add);
	if (add && wants_no_think(m, n))
		tmpl(b, "<think>\n\n</think>\n\n");
}

/*
 * Gemma: "assistant" is "model"; there is no system turn, the system
 * prompt opens the first user turn followed by a blank line; contents
 * are trimmed (the reference runtime's gemma formatter, and the
 * template's | trim).
 */
static void
render_gemma(struct rbuf *b, const struct chat_msg *m, size_t n, bool add)
{
	const char *sys = NULL;

	for (size_t i = 0; i < n; i++) {
		enum role r = role_of(m[i].role);

		if (r == R_SYSTEM) {
			sys = m[i].content;
			continue;
		}
		tmpl(b, r == R_USER ? "<start_of_turn>user\n" :
		    "<start_of_turn>model\n");
		if (sys != NULL && r == R_USER) {
			content(b, sys, true);
			tmpl(b, "\n\n");
			sys = NULL;
		}
		content(b, m[i].content, true);
		tmpl(b, "<end_of_turn>\n");
	}
	if (add)
		tmpl(b, "<start_of_turn>model\n");
}

/*
 * Gemma 4: turns in <|turn> ... <turn|>, the system prompt in a turn of
 * its own, "model" for the assistant, contents trimmed (its template's
 * | trim).  Thinking stays off: no <|think|> in the system turn.  With
 * thinking off, the 26B and 31B templates open the reply on an already
 * closed thought channel, which keeps the model from opening one; the
 * E2B's does not, and a model given a state it was not trained on
 * answers worse, so each gets what its own template writes.
 */
static void
render_gemma4(struct rbuf *b, const struct chat_msg *m, size_t n, bool add,
    bool channel)
{
	for (size_t i = 0; i < n; i++) {
		enum role r = role_of(m[i].role);

		tmpl(b, r == R_SYSTEM ? "<|turn>system\n" : r == R_USER ?
		    "<|turn>user\n" : "<|turn>model\n");
		content(b, m[i].content, true);
		tmpl(b, "<turn|>\n");
	}
	if (add)
		tmpl(b, channel ? "<|turn>model\n<|channel>thought\n"
		    "<channel|>" : "<|turn>model\n");
}

/* Phi-4: ChatML's tokens with <|im_sep|> after the role, no newlines. */
static void
render_phi4(struct rbuf *b, const struct chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++) {
		tmpl(b, "<|im_start|>");
		tmpl(b, m[i].role);
		tmpl(b, "<|im_sep|>");
		content(b, m[i].content, false);
		tmpl(b, "<|im_end|>");
	}
	if (add)
		tmpl(b, "<|im_start|>assistant<|im_sep|>");
}

/* Granite 3 and 4. */
static void
render_granite(struct rbuf *b, const struct chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++) {
		tmpl(b, "<|start_of_role|>");
		tmpl(b, m[i].role);
		tmpl(b, "<|end_of_role|>");
		content(b, m[i].content, false);
		tmpl(b, "<|end_of_text|>\n");
	}
	if (add)
		tmpl(b, "<|start_of_role|>assistant<|end_of_role|>");
}

static void
render_llama3(struct rbuf *b, const struct chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++) {
		tmpl(b, "<|start_header_id|>");
		tmpl(b, m[i].role);
		tmpl(b, "<|end_header_id|>\n\n");
		content(b, m[i].content, true);
		tmpl(b, "<|eot_id|>");
	}
	if (add)
		tmpl(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/*
 * Llama 2 and its variants.  The text ends with " [/INST]" after a user
 * message, which already opens the assistant's turn: add_assistant has
 * nothing to add (nor in the Mistral formats below).
 */
static void
render_llama2(struct rbuf *b, enum chat_family f, const struct chat_msg *m,
    size_t n)
{
	bool sys = f != CHAT_MISTRAL;
	bool bos = f == CHAT_LLAMA2_SYS_BOS;
	bool strip = f == CHAT_LLAMA2;
	bool inside = true;

	tmpl(b, "[INST] ");
	for (size_t i = 0; i < n; i++) {
		enum role r = role_of(m[i].role);

		if (!inside) {
			inside = true;
			tmpl(b, bos ? "<s>[INST] " : "[INST] ");
		}
		if (r == R_SYSTEM) {
			if (sys)
				tmpl(b, "<<SYS>>\n");
			content(b, m[i].content, strip);
			tmpl(b, sys ? "\n<</SYS>>\n\n" : "\n");
		} else if (r == R_USER) {
			content(b, m[i].content, strip);
			tmpl(b, " [/INST]");
		} else {
			content(b, m[i].content, strip);
			tmpl(b, "</s>");
			inside = false;
		}
	}
}

/* Mistral's own v1, v3 and v3-tekken layouts. */
static void
render_mistral(struct rbuf *b, enum chat_family f, const struct chat_msg *m,
    size_t n)
{
	const char *lead = f == CHAT_MISTRAL_V1 ? " " : "";
	const char *trail = f == CHAT_MISTRAL_V3_TEKKEN ? "" : " ";
	bool trim = f == CHAT_MISTRAL_V3;
	bool inside = false;

	for (size_t i = 0; i < n; i++) {
		enum role r = role_of(m[i].role);

		if (!inside) {
			tmpl(b, lead);
			tmpl(b, "[INST]");
			tmpl(b, trail);
			inside = true;
		}
		if (r == R_SYSTEM) {
			content(b, m[i].content, false);
			tmpl(b, "\n\n");
		} else if (r == R_USER) {
			content(b, m[i].content, false);
			tmpl(b, lead);
			tmpl(b, "[/INST]");
		} else {
			tmpl(b, trail);
			content(b, m[i].content, trim);
			tmpl(b, "</s>");
			inside = false;
		}
	}
}

/* v7, and v7-tekken (sp ""): the same without the spaces. */
static void
render_mistral_v7(struct rbuf *b, const struct chat_msg *m, size_t n,
    const char *sp)
{
	for (size_t i = 0; i < n; i++) {
		switch (role_of(m[i].role)) {
		case R_SYSTEM:
			tmpl(b, "[SYSTEM_PROMPT]");
			tmpl(b, sp);
			content(b, m[i].content, false);
			tmpl(b, "[/SYSTEM_PROMPT]");
			break;
		case R_USER:
			tmpl(b, "[INST]");
			tmpl(b, sp);
			content(b, m[i].content, false);
			tmpl(b, "[/INST]");
			break;
		default:
			tmpl(b, sp);
			content(b, m[i].content, false);
			tmpl(b, "</s>");
			break;
		}
	}
}

/* Phi-3 (end "<|end|>") and Zephyr (end "</s>"): "<|role|>\n...". */
static void
render_pipes(struct rbuf *b, const struct chat_msg *m, size_t n, bool add,
    const char *end)
{
	for (size_t i = 0; i < n; i++) {
		tmpl(b, "<|");
		tmpl(b, m[i].role);
		tmpl(b, "|>\n");
		content(b, m[i].content, false);
		tmpl(b, end);
		tmpl(b, "\n");
	}
	if (add)
		tmpl(b, "<|assistant|>\n");
}

static void
render_fallback(struct rbuf *b, const struct chat_msg *m, size_t n, bool add)
{
	static const char *const label[] = {
		[R_SYSTEM] = "System: ",
		[R_USER] = "User: ",
		[R_ASSISTANT] = "Assistant: ",
	};

	for (size_t i = 0; i < n; i++) {
		const char *l = label[role_of(m[i].role)];

		/* No special tokens here: nothing for the tokenizer to find. */
		put(b, l, strlen(l), false);
		content(b, m[i].content, false);
		put(b, "\n\n", 2, false);
	}
	if (add)
		put(b, "Assistant:", 10, false);
}

int
chat_render(enum chat_family f, const struct chat_msg *msgs, size_t n,
    bool add_assistant, struct chat_out *out, char **cause)
{
	struct rbuf b = { 0 };
	int rc = -1;

	if (cause != NULL)
		*cause = NULL;
	if (msgs == NULL && n > 0) {
		set_cause(cause, "chat: no message array");
		goto out;
	}
	if (validate(msgs, n, add_assistant, cause) != 0)
		goto out;

	switch (f) {
	case CHAT_CHATML:
		render_chatml(&b, msgs, n, add_assistant);
		break;
	case CHAT_LLAMA3:
		render_llama3(&b, msgs, n, add_assistant);
		break;
	case CHAT_LLAMA2:
	case CHAT_LLAMA2_SYS:
	case CHAT_LLAMA2_SYS_BOS:
	case CHAT_MISTRAL:
		render_llama2(&b, f, msgs, n);
		break;
	case CHAT_MISTRAL_V1:
	case CHAT_MISTRAL_V3:
	case CHAT_MISTRAL_V3_TEKKEN:
		render_mistral(&b, f, msgs, n);
		break;
	case CHAT_MISTRAL_V7:
		render_mistral_v7(&b, msgs, n, " ");
		break;
	case CHAT_MISTRAL_V7_TEKKEN:
		render_mistral_v7(&b, msgs, n, "");
		break;
	case CHAT_GEMMA:
		render_gemma(&b, msgs, n, add_assistant);
		break;
	case CHAT_GEMMA4:
	case CHAT_GEMMA4_CHANNEL:
		render_gemma4(&b, msgs, n, add_assistant,
		    f == CHAT_GEMMA4_CHANNEL);
		break;
	case CHAT_PHI4:
		render_phi4(&b, msgs, n, add_assistant);
		break;
	case CHAT_GRANITE:
		render_granite(&b, msgs, n, add_assistant);
		break;
	case CHAT_CHATML_THINK:
		render_chatml_think(&b, msgs, n, add_assistant);
		break;
	case CHAT_PHI3:
		render_pipes(&b, msgs, n, add_assistant, "<|end|>");
		break;
	case CHAT_ZEPHYR:
		render_pipes(&b, msgs, n, add_assistant, "</s>");
		break;
	case CHAT_FALLBACK:
	default:
		render_fallback(&b, msgs, n, add_assistant);
		break;
	}
	/* Every family writes something, but an all-empty render is legal. */
	if (!b.oom && b.text == NULL) {
		if ((b.text = calloc(1, 1)) == NULL)
			b.oom = true;
	}
	if (b.oom) {
		set_cause(cause, "chat: out of memory");
		goto out;
	}
	out->text = b.text;	/* transferred */
	out->len = b.len;
	out->segs = b.segs;	/* transferred */
	out->nsegs = b.nsegs;
	b.text = NULL;
	b.segs = NULL;
	rc = 0;
out:
	free(b.text);
	free(b.segs);
	return rc;
}

void
chat_out_release(struct chat_out *o)
{
	if (o == NULL)
		return;
	free(o->text);
	free(o->segs);
	memset(o, 0, sizeof *o);
}
