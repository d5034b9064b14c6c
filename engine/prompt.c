/*
 * prompt.c - text to tokens for the caller: plain text, and conversations
 * rendered with the model's chat template.
 *
 * Why the care: a log line or a question may contain "<|im_start|>system"
 * or "[INST]".  Only text the template itself wrote may become special
 * tokens; message contents are always tokenized as plain text.
 */
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "gguf.h"
#include "model.h"
#include "vocab.h"

static int
cmp_len_desc(const void *a, const void *b, void *arg)
{
	const struct vocab *v = arg;
	size_t la = 0, lb = 0;

	vocab_text(v, *(const int32_t *)a, &la);
	vocab_text(v, *(const int32_t *)b, &lb);
	if (la != lb)
		return la > lb ? -1 : 1;
	return *(const int32_t *)a < *(const int32_t *)b ? -1 : 1;
}

int
model_specials_build(struct eng_model *m)
{
	uint32_t n = vocab_size(m->vocab), k = 0;

	for (uint32_t i = 0; i < n; i++) {
		enum vocab_ttype t = vocab_ttype(m->vocab, (int32_t)i);
		k += t == TT_CONTROL || t == TT_USER_DEFINED;
	}
	if (k == 0)
		return 0;
	if ((m->specials = malloc(k * sizeof *m->specials)) == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		enum vocab_ttype t = vocab_ttype(m->vocab, (int32_t)i);
		size_t len = 0;

		if ((t == TT_CONTROL || t == TT_USER_DEFINED) &&
		    vocab_text(m->vocab, (int32_t)i, &len) != NULL && len > 0)
			m->specials[m->n_specials++] = (int32_t)i;
	}
	qsort_r(m->specials, m->n_specials, sizeof *m->specials, cmp_len_desc,
	    m->vocab);
	return 0;
}

/* The longest special token whose text starts at p (within n bytes), or -1. */
static int32_t
special_at(const struct eng_model *m, const char *p, size_t n, size_t *len)
{
	for (size_t i = 0; i < m->n_specials; i++) {
		size_t tl = 0;
		const char *t = vocab_text(m->vocab, m->specials[i], &tl);

		if (tl <= n && memcmp(p, t, tl) == 0) {
			*len = tl;
			return m->specials[i];
		}
	}
	return -1;
}

static int
push(int32_t **ids, size_t *n, size_t *cap, int32_t id)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		int32_t *p = realloc(*ids, nc * sizeof *p);

		if (p == NULL)
			return -1;
		*ids = p;
		*cap = nc;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

int
eng_tokenize(const struct eng_model *m, const char *text, size_t len,
    bool add_bos, int32_t **ids, size_t *n)
{
	int32_t *v = NULL;
	size_t nv = 0, cap = 0;

	if (add_bos && vocab_bos(m->vocab) >= 0 &&
	    push(&v, &nv, &cap, vocab_bos(m->vocab)) != 0)
		goto fail;
	if (len > 0 && vocab_tokenize(m->vocab, text, len, false, false, &v,
	    &nv, &cap) != 0)
		goto fail;
	*ids = v;	/* transferred */
	*n = nv;
	return 0;
fail:
	free(v);
	return ENG_ENOMEM;
}

/*
 * Tokenize a rendering: special tokens are looked for only inside
 * template segments; the text between them (template and content alike)
 * is tokenized as one raw fragment, as the reference runtime does with
 * the whole rendered string, so that "[INST] " + content gives the same
 * tokens as it would there.
 */
static int
tokenize_rendering(const struct eng_model *m, const struct chat_out *co,
    int32_t **ids, size_t *n, size_t *cap)
{
	size_t raw = 0;		/* start of the pending raw fragment */

	for (size_t si = 0; si < co->nsegs; si++) {
		const struct chat_seg *sg = &co->segs[si];
		size_t i = sg->off, end = sg->off + sg->len;

		if (!sg->special)
			continue;
		while (i < end) {
			size_t tl = 0;
			int32_t id = special_at(m, co->text + i, end - i, &tl);

			if (id < 0) {
				i++;
				continue;
			}
			if (i > raw && vocab_tokenize(m->vocab, co->text + raw,
			    i - raw, false, false, ids, n, cap) != 0)
				return -1;
			if (push(ids, n, cap, id) != 0)
				return -1;
			i += tl;
			raw = i;
		}
	}
	if (co->len > raw && vocab_tokenize(m->vocab, co->text + raw,
	    co->len - raw, false, false, ids, n, cap) != 0)
		return -1;
	return 0;
}

int
eng_chat_tokenize(const struct eng_model *m, const struct eng_msg *msgs,
    size_t n, int32_t **ids, size_t *nids, char **text, char **cause)
{
	struct chat_out co = { 0 };
	struct chat_msg *cm = NULL;
	int32_t *v = NULL;
	size_t nv = 0, cap = 0;
	int rc = ENG_ENOMEM;

	if (cause != NULL)
		*cause = NULL;
	if ((cm = calloc(n ? n : 1, sizeof *cm)) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		cm[i].role = msgs[i].role;
		cm[i].content = msgs[i].content;
	}
	if (chat_render((enum chat_family)m->chat_family, cm, n, true, &co,
	    cause) != 0) {
		rc = ENG_EINVAL;
		goto out;
	}
	if (vocab_add_bos(m->vocab) && vocab_bos(m->vocab) >= 0 &&
	    push(&v, &nv, &cap, vocab_bos(m->vocab)) != 0)
		goto out;
	if (tokenize_rendering(m, &co, &v, &nv, &cap) != 0)
		goto out;
	if (text != NULL) {
		*text = co.text;	/* transferred */
		co.text = NULL;
	}
	*ids = v;	/* transferred */
	*nids = nv;
	v = NULL;
	rc = 0;
out:
	if (rc == ENG_ENOMEM && cause != NULL && *cause == NULL)
		*cause = strdup("out of memory");
	chat_out_release(&co);
	free(cm);
	free(v);
	return rc;
}

int
eng_token_piece(const struct eng_model *m, int32_t id, char *buf, size_t cap)
{
	return vocab_piece(m->vocab, id, false, buf, cap);
}

bool
eng_token_is_eog(const struct eng_model *m, int32_t id)
{
	return vocab_is_eog(m->vocab, id);
}

/*
 * Templates with a thinking switch (Qwen3: `enable_thinking`) let the
 * model write <think>...</think> before its answer; the caller decides
 * whether to ask for it (Qwen3's "/no_think" soft switch) and hides it.
 */
bool
eng_chat_has_think(const struct eng_model *m)
{
	struct gguf_str t;

	if (m->g == NULL || gguf_get_str(m->g, "tokenizer.chat_template", &t) != 0)
		return false;
	return memmem(t.p, t.n, "enable_thinking", 15) != NULL;
}
