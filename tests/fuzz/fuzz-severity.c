/*
 * fuzz-severity.c - libFuzzer harness for the severity judgement of a
 * log line (playbooks/severity.c) on arbitrary bytes.
 *
 * Input: lines separated by '\n'; each is judged whole, and every prefix
 * of the first one too (level fields and guards look back and ahead, so
 * the end of the buffer is where a read would overrun).  Each judgement is
 * made on a copy in a buffer of exactly its size.
 *
 * Checked besides memory safety (abort() on failure):
 *   - the result is PB_LINE_NONE, a pb_severity or PB_LINE_DEBUG;
 *   - the lexicon alone never says more than nothing where the whole
 *     judgement says nothing (it is part of it);
 *   - a line judged low or worse holds a prefilter literal of
 *     pb_severity_literals or has a pb_severity_head(): otherwise the
 *     analysis would skip a line the judgement counts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define INPUT_MAX	(64 * 1024)
#define MAX_LINES	64

static int
has_literal(const char *s, size_t n)
{
	for (size_t k = 0; pb_severity_literals[k] != NULL; k++) {
		const char *lit = pb_severity_literals[k];
		size_t l = strlen(lit);
		for (size_t i = 0; i + l <= n; i++) {
			size_t j;
			for (j = 0; j < l; j++) {
				int c = (unsigned char)s[i + j];
				if (c >= 'A' && c <= 'Z')
					c += 32;
				if (c != lit[j])
					break;
			}
			if (j == l)
				return 1;
		}
	}
	return 0;
}

static void
judge(const char *p, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int v, lx;

	if (copy == NULL)
		return;
	memcpy(copy, p, len);
	v = pb_line_severity(copy, len);
	lx = pb_severity_lexicon(copy, len);
	if (v < PB_LINE_NONE || v > PB_LINE_DEBUG ||
	    lx < PB_LINE_NONE || lx > PB_SEV_INFO)
		abort();
	if (v == PB_LINE_NONE && lx != PB_LINE_NONE)
		abort();
	if (v != PB_LINE_NONE && v <= PB_SEV_LOW && !has_literal(copy, len) &&
	    !pb_severity_head(copy, len))
		abort();
	free(copy);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	size_t lines = 0;

	if (size > INPUT_MAX)
		return 0;
	while (p < end && lines++ < MAX_LINES) {
		size_t len;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		judge(p, len);
		if (lines == 1)
			for (size_t k = 0; k < len && k < 256; k++)
				judge(p, k);
		p += len + (nl != NULL);
	}
	return 0;
}
