/*
 * fuzz-miner.c - libFuzzer harness for the path a log line takes to the
 * unknown-templates list: pb_sanitize (playbooks/sanitize.c), then the
 * template miner (playbooks/template.c) on arbitrary bytes.
 *
 * Input: lines separated by '\n' (at most MAX_LINES), fed to one miner
 * with a small table so that "full" is reached too.  The first byte of a
 * line, when it is < 8, picks the severity and whether a time goes with
 * it (the rest of the line is the text), so the ranking code runs as well.
 *
 * Checked besides memory safety (abort() on failure):
 *   - a returned id is valid and its hit count grew by one;
 *   - template text is sanitized (no control bytes, no ESC), bounded, and
 *     no longer than the message it came from allows;
 * (the per-line checks run on the first 8 lines)
 *   - the same line added again joins a template (it matches the one it
 *     made or joined fully) and makes none;
 *   - sanitized text holds no byte < 0x20 or 0x7f;
 *   - the ranking lists each template once, with salience in [0, 5).
 *
 * Many templates: each of the first EXPAND_LINES lines holding '#' is also
 * fed EXPAND_TIMES times to a second, larger miner with every '#' made a
 * word of its own per round, in the style the byte after the first '#'
 * picks: digits (masked: the lines join), lower-case letters (constants:
 * templates pile up in one leaf past LEAF_MAX) or capitals (state words:
 * nothing may join, the leaf grows until the table is full), each also
 * one word longer every other round (the length-insensitive pass).  Ids
 * stay valid, the table never holds more than its size, and every
 * template's text stays clean.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define INPUT_MAX	(256 * 1024)	/* keep iterations fast */
#define MAX_LINES	32
#define MAX_TEMPLATES	32
#define EXPAND_LINES	4
#define EXPAND_TIMES	160
#define EXPAND_MAX	128	/* templates: full before the rounds end */
#define EXPAND_LEN	512	/* bytes of a line that are expanded */

static void
check_clean(const char *s, const char *what)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "fuzz-miner: control byte 0x%02x in %s\n",
			    *p, what);
			abort();
		}
}

/* Round r's word for '#' number k in style c: digits, letters, capitals. */
static size_t
expand_word(char *out, unsigned r, unsigned k, int c)
{
	unsigned v = r * 7 + k;
	size_t n = 0;

	if (c % 3 == 0)
		return (size_t)sprintf(out, "%u", v);
	do {
		out[n++] = (char)((c % 3 == 1 ? 'a' : 'A') + v % 26);
		v /= 26;
	} while (v > 0 || n < 3);
	return n;
}

static void
expand(struct pb_miner *big, const char *p, size_t len)
{
	static char line[EXPAND_LEN * 24];
	const char *hash = memchr(p, '#', len);
	int style = hash + 1 < p + len ? (unsigned char)hash[1] : 0;

	for (unsigned r = 0; r < EXPAND_TIMES; r++) {
		size_t o = 0;
		unsigned k = 0;
		long id;

		for (size_t i = 0; i < len; i++) {
			if (p[i] != '#') {
				line[o++] = p[i];
				continue;
			}
			o += expand_word(line + o, r, k++, style);
			/* every other round one variable word longer */
			if (r % 2 && style % 3 == 0)
				o += (size_t)sprintf(line + o, " %u", r);
		}
		id = pb_miner_add(big, line, o);
		if (id < -1 || (size_t)(id + 1) > pb_miner_count(big) ||
		    pb_miner_count(big) > EXPAND_MAX)
			abort();
		if (id >= 0)
			check_clean(pb_miner_text(big, id), "expanded template");
	}
}

/* The lines holding '#', each expanded into many (see the top). */
static void
expand_all(const char *p, const char *end)
{
	struct pb_miner *big;
	size_t lines = 0;

	if (memchr(p, '#', (size_t)(end - p)) == NULL ||
	    pb_miner_new(EXPAND_MAX, &big) != 0)
		return;
	while (p < end && lines < EXPAND_LINES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		if (memchr(p, '#', len < EXPAND_LEN ? len : EXPAND_LEN) != NULL) {
			expand(big, p, len < EXPAND_LEN ? len : EXPAND_LEN);
			lines++;
		}
		p += len + (nl != NULL);
	}
	pb_miner_sort(big);
	for (size_t i = 0; i < pb_miner_count(big); i++)
		if (pb_miner_rank(big, i) < 0)
			abort();
	pb_miner_free(big);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_miner *m;
	const char *p = (const char *)data, *end = p + size, *nl;
	size_t lines = 0;
	char *s;

	if (size > INPUT_MAX)
		return 0;
	/* The sanitizer on the whole input. */
	if ((s = pb_sanitize(p, size)) != NULL) {
		check_clean(s, "pb_sanitize output");
		free(s);
	}
	if (pb_miner_new(MAX_TEMPLATES, &m) != 0)
		return 0;
	expand_all(p, end);
	while (p < end && lines++ < MAX_LINES) {
		enum pb_severity lv = PB_SEV_INFO;
		int64_t t = PB_TIME_NONE;
		size_t len, n;
		long id, again;
		uint64_t before;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		if (len > 0 && (unsigned char)p[0] < 8) {
			lv = (enum pb_severity)(p[0] % 5);
			if (p[0] & 4)
				t = (int64_t)lines * 7000;
			p++;
			len--;
		}
		id = pb_miner_add_ev(m, p, len, lv, t);
		if (id < -1 || (size_t)(id + 1) > pb_miner_count(m))
			abort();
		if (id >= 0 && lines <= 8) {
			/* The checks on the first lines only: fast iterations. */
			const char *txt = pb_miner_text(m, id);
			if (txt == NULL || (size_t)id >= pb_miner_count(m))
				abort();
			check_clean(txt, "template text");
			if (strlen(txt) > 2 * 2048 + 64 * 4)
				abort();
			if (pb_miner_level(m, id) > lv)
				abort();
			n = pb_miner_count(m);
			again = pb_miner_add_ev(m, p, len, lv, t);
			before = again >= 0 ? pb_miner_hits(m, again) : 0;
			if (again < 0 || pb_miner_count(m) != n || before < 2) {
				fprintf(stderr, "fuzz-miner: line re-added made "
				    "a template (%ld, first %ld)\n", again, id);
				abort();
			}
			pb_miner_set_example(m, id, "fuzz", lines, p, len);
		}
		p += len + (nl != NULL);
	}
	pb_miner_sort(m);
	{
		size_t n = pb_miner_count(m);
		unsigned char seen[MAX_TEMPLATES] = { 0 };
		for (size_t i = 0; i < n; i++) {
			long id = pb_miner_rank(m, i);
			double sal = pb_miner_salience(m, id);
			if (id < 0 || (size_t)id >= n || seen[id]++ ||
			    !(sal >= 0.0 && sal < 5.0))
				abort();
		}
		if (pb_miner_rank(m, n) != -1)
			abort();
	}
	pb_miner_free(m);
	return 0;
}
