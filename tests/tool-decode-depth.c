/*
 * tool-decode-depth.c - decode deep in a context, for `make bench`
 * (issue 17): tg N from an empty context beside tg N after D tokens of
 * context, on one session, interleaved rep by rep so that a shared
 * machine's load falls on both alike.
 *
 *   tool-decode-depth [--threads N] [--depth D] [--gen N] [--reps R]
 *                     [--kv f16|q8] FILE
 *
 * Each rep: reset, decode N tokens one at a time (each fed the previous
 * step's greedy pick), timed; then reset, prefill D tokens of a fixed
 * pseudo-random prompt (not timed), and decode N more, timed.  Prints
 * one JSON object: tokens per second from empty ("tg_tps") and after
 * the context ("tg_depth_tps"), the best rep of each (the least
 * disturbed), and their ratio; the same per CPU-second of the process
 * ("cpu_tps", "cpu_depth_tps", "cpu_ratio"), which a shared machine's
 * load disturbs less (with one thread; more threads add their spinning).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine.h"

static double
now_sec(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int32_t
argmax(const float *v, uint32_t n)
{
	uint32_t b = 0;

	for (uint32_t i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return (int32_t)b;
}

/* ng greedy steps from the session's current position: tokens per
 * second (tps[0]) and per CPU-second of the process (tps[1]). */
static int
gen(struct eng_session *s, float *logits, uint32_t n_vocab, unsigned ng,
    double tps[2])
{
	int32_t tok = 1 % (int32_t)n_vocab;
	double t0 = now_sec(CLOCK_MONOTONIC);
	double c0 = now_sec(CLOCK_PROCESS_CPUTIME_ID);
	int rc;

	for (unsigned i = 0; i < ng; i++) {
		if ((rc = eng_session_decode(s, &tok, 1, logits, false, NULL,
		    NULL)) != 0)
			return rc;
		tok = argmax(logits, n_vocab);
	}
	tps[0] = ng / (now_sec(CLOCK_MONOTONIC) - t0);
	tps[1] = ng / (now_sec(CLOCK_PROCESS_CPUTIME_ID) - c0);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "depth", required_argument, NULL, 'd' },
		{ "gen", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "kv", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct eng_load_opts o = { 0 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	const struct eng_info *in;
	float *logits = NULL;
	int32_t *ids = NULL;
	char *cause = NULL;
	unsigned depth = 2048, ng = 128, reps = 3;
	double best0[2] = { 0, 0 }, bestd[2] = { 0, 0 };
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	int ch, rc, status = 1;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 't': o.n_threads = atoi(optarg); break;
		case 'd': depth = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': ng = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': reps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k':
			if (eng_kv_parse(optarg, &o.kv) != 0)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || ng == 0 || reps == 0 || depth > 1u << 20 ||
	    ng > 1u << 20) {
usage:
		fprintf(stderr, "usage: tool-decode-depth [--threads N] "
		    "[--depth D] [--gen N] [--reps R] [--kv f16|q8] FILE\n");
		return 2;
	}
	o.n_ctx = depth + ng + 1;
	if (eng_model_open(argv[optind], &o, &m, &cause) != 0 ||
	    eng_session_new(m, &s, &cause) != 0) {
		fprintf(stderr, "tool-decode-depth: %s: %s\n", argv[optind],
		    cause ? cause : "cannot load the model");
		goto out;
	}
	in = eng_model_info(m);
	if (in->n_ctx < depth + ng + 1) {
		fprintf(stderr, "tool-decode-depth: %s: %u + %u tokens do not "
		    "fit in its %" PRIu32 "-token context\n", argv[optind],
		    depth, ng, in->n_ctx);
		goto out;
	}
	if ((logits = malloc(in->n_vocab * sizeof *logits)) == NULL ||
	    (ids = malloc((depth ? depth : 1) * sizeof *ids)) == NULL) {
		fprintf(stderr, "tool-decode-depth: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < depth; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ids[i] = (int32_t)((seed >> 33) % in->n_vocab);
	}
	/* warm-up: every weight page in memory before anything is timed */
	if ((rc = gen(s, logits, in->n_vocab, 1, best0)) != 0)
		goto fail;
	best0[0] = best0[1] = 0;
	for (unsigned r = 0; r < reps; r++) {
		double t0[2], td[2];

		eng_session_reset(s);
		if ((rc = gen(s, logits, in->n_vocab, ng, t0)) != 0)
			goto fail;
		eng_session_reset(s);
		if (depth > 0 && (rc = eng_session_decode(s, ids, depth, logits,
		    false, NULL, NULL)) != 0)
			goto fail;
		if ((rc = gen(s, logits, in->n_vocab, ng, td)) != 0)
			goto fail;
		for (int c = 0; c < 2; c++) {
			best0[c] = t0[c] > best0[c] ? t0[c] : best0[c];
			bestd[c] = td[c] > bestd[c] ? td[c] : bestd[c];
		}
	}
	printf("{\"depth\": %u, \"n_gen\": %u, \"reps\": %u, \"tg_tps\": %.3f, "
	    "\"tg_depth_tps\": %.3f, \"ratio\": %.4f, \"cpu_tps\": %.3f, "
	    "\"cpu_depth_tps\": %.3f, \"cpu_ratio\": %.4f}\n", depth, ng,
	    reps, best0[0], bestd[0], bestd[0] / best0[0], best0[1], bestd[1],
	    bestd[1] / best0[1]);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "tool-decode-depth: %s: decoding failed (engine "
	    "status %d)\n", argv[optind], rc);
out:
	free(logits);
	free(ids);
	free(cause);
	eng_session_free(s);
	eng_model_free(m);
	return status;
}
