/*
 * fuzz-tstamp.c - libFuzzer harness for the timestamp parser
 * (playbooks/tstamp.c).
 *
 * Input: lines separated by '\n', parsed as one file: each through
 * pb_time_parse, pb_time_parse_end and the per-file learner, the first also
 * through pb_time_arg.  Each line is copied into a buffer of exactly its
 * length, so any read past it is caught by AddressSanitizer.
 *
 * Checked besides memory safety (abort() on failure):
 *   - a time is a date between 1969 and 2201, or seconds since boot (a
 *     --since/--until argument may also be up to a century before the
 *     reference: "-36500d" is a time no log holds, but a valid filter);
 *   - the end offset lies inside the line, and is 0 without a time;
 *   - the learner finds a time on every line the stateless parser does;
 *   - pb_time_format writes a NUL-terminated string into 24 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define REF		1718000000	/* 2024-06-10 */
#define MIN_MS		(-86400LL * 1000 * 2)
#define MAX_MS		(7289654400LL * 1000)	/* 2201-01-01 */

#define ARG_MIN_MS	((REF - 100LL * 366 * 86400) * 1000)

static void
check_time_from(int64_t t, int64_t min)
{
	char buf[24];

	if (t == PB_TIME_NONE)
		return;
	if (!pb_time_is_boot(t) && (t < min || t > MAX_MS))
		abort();
	memset(buf, 'x', sizeof(buf));
	pb_time_format(t, buf, sizeof(buf));
	if (memchr(buf, '\0', sizeof(buf)) == NULL)
		abort();
}

static void
check_time(int64_t t)
{
	check_time_from(t, MIN_MS);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_tslearn l;
	const uint8_t *p = data, *end = data + size;
	int first = 1;

	pb_tslearn_reset(&l);
	while (p <= end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p), off = 99;
		char *line = malloc(n ? n : 1);
		int64_t t, te, tl;

		if (line == NULL)
			abort();
		memcpy(line, p, n);
		t = pb_time_parse(line, n, REF);
		te = pb_time_parse_end(line, n, REF, &off);
		tl = pb_time_parse_learn(&l, line, n, REF);
		if (t != te || off > n || (t == PB_TIME_NONE && off != 0) ||
		    (t != PB_TIME_NONE && tl == PB_TIME_NONE))
			abort();
		check_time(t);
		check_time(tl);
		if (first) {
			char *s = malloc(n + 1);
			int64_t out = 42;

			if (s == NULL)
				abort();
			memcpy(s, line, n);
			s[n] = '\0';
			if (pb_time_arg(s, REF, &out) == 0)
				check_time_from(out, ARG_MIN_MS);
			else if (out != 42)
				abort();
			free(s);
			first = 0;
		}
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}
