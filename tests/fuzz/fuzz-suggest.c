/*
 * fuzz-suggest.c - libFuzzer harness for the "possibly" suggestions
 * (playbooks/suggest.c): playbook similarity and class-level suggestions
 * of unknown templates, on arbitrary bytes.
 *
 * The index is built once over the shipped library (share/playbooks from
 * the working directory, or $FUZZ_PLAYBOOKS); where there is none, over
 * an empty library (the class documents alone).
 *
 * Input: lines separated by '\n' (at most MAX_LINES), each a template as
 * it is given (a C string: a NUL ends it) and as the miner makes it from
 * the line.  All go into one log vocabulary, as rank_unknown() does, then
 * each is looked up: pb_bm25_best, and pb_bm25_class with that vocabulary
 * and without.
 *
 * Checked besides memory safety (abort() on failure):
 *   - a playbook suggestion is a library index, a class one names a class;
 *   - the score is finite and positive with a suggestion, 0 without;
 *   - the same lookup again gives the same answer (no state kept).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define INPUT_MAX	(64 * 1024)	/* keep iterations fast */
#define MAX_LINES	64
#define LINE_BYTES	4096

static struct pb_library *lib;
static struct pb_bm25 *ix;

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static int
index_once(void)
{
	const char *dir = getenv("FUZZ_PLAYBOOKS");
	char *cause = NULL;

	if (ix != NULL)
		return 0;
	if (pb_library_new(&lib) != 0)
		return -1;
	if (pb_library_add(lib, dir != NULL ? dir : "share/playbooks", quiet,
	    NULL, &cause) < 0) {
		/* no library here: the class documents alone */
		free(cause);
		pb_library_free(lib);
		if (pb_library_new(&lib) != 0)
			return -1;
	}
	return pb_bm25_new(lib, &ix) != 0 ? -1 : 0;
}

static void
check_best(const char *text)
{
	double sc = -1, sc2 = -1;
	long b = pb_bm25_best(ix, text, &sc);

	if (b < -1 || (b >= 0 && (size_t)b >= pb_library_count(lib)) ||
	    !isfinite(sc) || (b >= 0 ? !(sc > 0) : sc != 0))
		abort();
	if (pb_bm25_best(ix, text, &sc2) != b || sc2 != sc)
		abort();
}

static void
check_class(const struct pb_bm25_bg *bg, const char *text)
{
	double sc = -1, sc2 = -1;
	long k = pb_bm25_class(ix, bg, text, &sc);

	if (k < -1 || (k >= 0 && pb_bm25_class_name(k, NULL) == NULL) ||
	    !isfinite(sc) || (k >= 0 ? !(sc > 0) : sc != 0))
		abort();
	if (pb_bm25_class(ix, bg, text, &sc2) != k || sc2 != sc)
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	static char text[MAX_LINES * 2][LINE_BYTES];
	struct pb_miner *m = NULL;
	struct pb_bm25_bg *bg;
	size_t n = 0;

	if (size > INPUT_MAX || index_once() != 0)
		return 0;
	if (pb_miner_new(MAX_LINES, &m) != 0)
		return 0;
	while (p < end && n + 2 <= MAX_LINES * 2) {
		size_t len;
		long id;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		/* as given: a C string, cut where a template would be */
		memcpy(text[n], p, len < LINE_BYTES ? len : LINE_BYTES - 1);
		text[n++][len < LINE_BYTES ? len : LINE_BYTES - 1] = '\0';
		/* as the miner shows it */
		if ((id = pb_miner_add(m, p, len)) >= 0)
			snprintf(text[n++], LINE_BYTES, "%s",
			    pb_miner_text(m, id));
		p += len + (nl != NULL);
	}
	pb_miner_free(m);
	if ((bg = pb_bm25_bg_new()) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pb_bm25_bg_add(bg, text[i]) != 0)
			abort();
	for (size_t i = 0; i < n; i++) {
		check_best(text[i]);
		check_class(bg, text[i]);
		check_class(NULL, text[i]);
	}
	pb_bm25_bg_free(bg);
	return 0;
}
