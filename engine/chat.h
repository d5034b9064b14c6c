/*
 * chat.h - chat templates, internal to engine/.
 *
 * The family is recognised from tokenizer.chat_template (a Jinja text we do
 * not execute: we match it, like llama.cpp's built-in formatters).  The
 * rendering is a list of segments so that only template text is ever
 * parsed for special tokens; message contents never are.
 */
#ifndef TRIAGE_ENGINE_CHAT_H
#define TRIAGE_ENGINE_CHAT_H

#include <stdbool.h>
#include <stddef.h>

enum chat_family {
	CHAT_FALLBACK = 0,	/* unknown template: a plain documented format */
	CHAT_CHATML,		/* <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM) */
	CHAT_LLAMA3,		/* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
	CHAT_LLAMA2,		/* [INST] <<SYS>>...<</SYS>> ... [/INST] */
	CHAT_MISTRAL,		/* [INST] ... [/INST] (system folded into the first user turn) */
	CHAT_ZEPHYR,		/* <|system|>\n...</s>\n<|user|>\n... */
	CHAT_PHI3,		/* <|system|>\n...<|end|>\n<|user|>\n... */
	/* Variants the reference runtime tells apart by the template text: */
	CHAT_LLAMA2_SYS,	/* Llama 2 with <<SYS>>, contents not trimmed */
	CHAT_LLAMA2_SYS_BOS,	/* ... and <s> before each later [INST] */
	CHAT_MISTRAL_V1,	/* " [INST] ... [/INST] ...</s>" (Mistral v0.2 and later v1) */
	CHAT_MISTRAL_V3,	/* "[INST] ...[/INST] ...</s>" (Mistral v0.3) */
	CHAT_MISTRAL_V3_TEKKEN,	/* "[INST]...[/INST]...</s>" (Mistral Nemo) */
	CHAT_MISTRAL_V7,	/* [SYSTEM_PROMPT] ... [/SYSTEM_PROMPT][INST] ... */
	CHAT_GEMMA,		/* <start_of_turn>user\n...<end_of_turn>\n (Gemma 2, 3) */
	CHAT_PHI4,		/* <|im_start|>role<|im_sep|>...<|im_end|> */
	CHAT_GRANITE,		/* <|start_of_role|>role<|end_of_role|>...<|end_of_text|>\n */
	CHAT_MISTRAL_V7_TEKKEN,	/* v7 without the spaces (Mistral Small 3.1, Ministral 3) */
	CHAT_CHATML_THINK,	/* ChatML with a thinking switch (Qwen3, Qwen3.5, SmolLM3) */
	CHAT_GEMMA4,		/* <|turn>role\n...<turn|>\n, a system turn (Gemma 4) */
	CHAT_GEMMA4_CHANNEL,	/* ... whose reply opens on an empty thought channel */
};

struct chat_msg {
	const char	*role;		/* "system", "user", "assistant" */
	const char	*content;
};

struct chat_seg {
	size_t		 off;		/* into chat_out.text */
	size_t		 len;
	bool		 special;	/* template text: parse special tokens */
};

struct chat_out {
	char		*text;		/* the whole rendering, NUL-terminated */
	size_t		 len;
	struct chat_seg	*segs;
	size_t		 nsegs;
};

/* Family of a template text (NULL or empty: CHAT_FALLBACK). */
enum chat_family chat_detect(const char *tmpl);
const char *chat_family_name(enum chat_family);

/*
 * Render msgs in family f; add_assistant appends the opening of the
 * assistant's turn.  No family writes BOS at the start: the tokenizer adds
 * it (as the vocabulary's add_bos says).  Returns 0, or -1 with *cause for
 * out of memory or a malformed conversation (see chat.c: unknown role,
 * system not first, turns not alternating).  *out is set only on success;
 * release it with chat_out_release.
 */
int	 chat_render(enum chat_family f, const struct chat_msg *msgs, size_t n,
	    bool add_assistant, struct chat_out *out, char **cause);
void	 chat_out_release(struct chat_out *);

#endif
