/*
 * tool-kv-bench.c - prefill and decode deep in a context, timed by the
 * wall clock and by the CPU time the process used (on a shared, loaded
 * machine the second says what the work costs; the first what a user
 * would have waited).
 *
 *   tool-kv-bench MODEL [-p N] [-n G] [-t THREADS] [--kv f16|q8]
 *
 * Prefills N pseudo-random tokens from an empty context, then decodes G
 * tokens one at a time after them (each fed the previous greedy pick).
 * Prints one line: tokens per second by wall and per CPU-second, for both,
 * and the KV cache's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

static double
clk(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct eng_load_opts o = { 0 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	const char *path = NULL, *kvs = "f16";
	unsigned long np = 512, ng = 0;
	char *cause = NULL;
	int32_t *ids, tok;
	float *lg;
	double w0, c0, pw, pc, gw = 0, gc = 0;
	uint32_t nv;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			np = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			ng = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			o.n_threads = atoi(argv[++i]);
#ifndef NO_KV
		else if (strcmp(argv[i], "--kv") == 0 && i + 1 < argc) {
			kvs = argv[++i];
			if (eng_kv_parse(kvs, &o.kv) != 0)
				return 2;
		}
#endif
		else
			path = argv[i];
	}
	if (path == NULL || np == 0) {
		fprintf(stderr, "usage: tool-kv-bench MODEL [-p N] [-n G] "
		    "[-t THREADS] [--kv f16|q8]\n");
		return 2;
	}
	o.n_ctx = (uint32_t)(np + ng + 1);
	if (eng_model_open(path, &o, &m, &cause) != 0 ||
	    eng_session_new(m, &s, &cause) != 0) {
		fprintf(stderr, "%s\n", cause ? cause : "cannot load");
		return 1;
	}
	nv = eng_model_info(m)->n_vocab;
	ids = malloc(np * sizeof *ids);
	lg = malloc(nv * sizeof *lg);
	if (ids == NULL || lg == NULL)
		return 1;
	for (unsigned long i = 0; i < np; i++)
		ids[i] = (int32_t)(1 + (i * 7919 + 17) % (nv - 1));
	/* one token first, so every weight page is in memory */
	if (eng_session_decode(s, ids, 1, lg, false, NULL, NULL) != 0)
		return 1;
	eng_session_reset(s);
	w0 = clk(CLOCK_MONOTONIC);
	c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	if (eng_session_decode(s, ids, np, lg, false, NULL, NULL) != 0)
		return 1;
	pw = clk(CLOCK_MONOTONIC) - w0;
	pc = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (ng > 0) {
		w0 = clk(CLOCK_MONOTONIC);
		c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
		for (unsigned long i = 0; i < ng; i++) {
			tok = 0;
			for (uint32_t v = 1; v < nv; v++)
				if (lg[v] > lg[tok])
					tok = (int32_t)v;
			if (eng_session_decode(s, &tok, 1, lg, false, NULL,
			    NULL) != 0)
				return 1;
		}
		gw = clk(CLOCK_MONOTONIC) - w0;
		gc = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
	}
	printf("kv %s threads %d pp%lu %.1f tok/s wall %.1f tok/cpu-s",
	    kvs, o.n_threads, np, np / pw, np / pc);
	if (ng > 0)
		printf("  tg%lu@%lu %.2f tok/s wall %.2f tok/cpu-s", ng, np,
		    ng / gw, ng / gc);
	printf("  kv %.1f MiB\n", eng_model_info(m)->mem_kv / 1048576.0);
	eng_session_free(s);
	eng_model_free(m);
	free(ids);
	free(lg);
	free(cause);
	return 0;
}
