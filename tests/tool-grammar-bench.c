/*
 * tool-grammar-bench.c - decode speed with and without constrained
 * decoding (engine/grammar.c), for make bench.
 *
 *   tool-grammar-bench MODEL.gguf [-n TOKENS] [-t THREADS]
 *
 * Generates TOKENS tokens (greedy, from a short prompt) three ways:
 * unconstrained, constrained by a schema with one long string (the mask
 * is rarely needed) and by the model-card schema (masks at every
 * structural step); runs restart with a new seed when a value completes.
 * Prints tokens per second of decode (prefill not counted) for each and
 * the ratio to unconstrained.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

static const char card[] =
    "{\"type\":\"object\",\"required\":[\"title\",\"class\",\"severity\","
    "\"cause\",\"confidence\",\"checks\",\"evidence\"],\"properties\":{"
    "\"title\":{\"type\":\"string\",\"maxLength\":80},"
    "\"class\":{\"enum\":[\"storage\",\"network\",\"auth\",\"power\","
    "\"other\"]},\"severity\":{\"enum\":[\"info\",\"low\",\"medium\","
    "\"high\",\"critical\"]},\"cause\":{\"type\":\"string\",\"maxLength\":"
    "160},\"confidence\":{\"enum\":[\"low\",\"medium\",\"high\"]},"
    "\"checks\":{\"type\":\"array\",\"maxItems\":3,\"items\":{\"type\":"
    "\"object\",\"required\":[\"instruction\",\"command\",\"expected\"],"
    "\"properties\":{\"instruction\":{\"type\":\"string\",\"maxLength\":"
    "120},\"command\":{\"type\":\"string\",\"maxLength\":120},"
    "\"expected\":{\"type\":\"string\",\"maxLength\":120}}}},"
    "\"evidence\":{\"type\":\"array\",\"maxItems\":8,\"items\":{\"type\":"
    "\"integer\",\"minimum\":1,\"maximum\":100000}}}}";
static const char longstr[] = "{\"type\":\"string\",\"maxLength\":60000}";

static int
run(struct eng_session *s, const int32_t *ids, size_t n,
    const struct eng_grammar *g, unsigned want, double *tps)
{
	struct eng_sample_params sp;
	unsigned got = 0;
	double ms = 0;
	uint64_t seed = 1;

	while (got < want) {
		struct eng_gen *gen = NULL;
		struct eng_event ev;
		char *cause = NULL;

		eng_session_reset(s);
		eng_sample_defaults(&sp);
		sp.temp = 0;
		sp.seed = seed++;
		sp.max_tokens = want - got;
		sp.grammar = g;
		if (eng_gen_start(s, ids, n, &sp, &gen, &cause) != 0) {
			fprintf(stderr, "tool-grammar-bench: %s\n", cause);
			return -1;
		}
		while (eng_gen_next(gen, &ev, true) == 1)
			if (ev.kind == ENG_EV_DONE) {
				got += ev.n_gen;
				ms += ev.gen_ms;
				if (ev.n_gen == 0)
					got = want;	/* cannot progress */
			}
		eng_gen_free(gen);
		/* greedy repeats itself: vary the prompt's last token */
		((int32_t *)ids)[n - 1] = (int32_t)(ids[n - 1] + 7) % 1000 + 1;
	}
	*tps = ms > 0 ? got / (ms / 1e3) : 0;
	return 0;
}

int
main(int argc, char **argv)
{
	struct eng_load_opts o = { .n_ctx = 1024 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct eng_grammar *gc = NULL, *gl = NULL;
	char *cause = NULL;
	int32_t *ids = NULL;
	size_t n = 0;
	unsigned want = 128;
	double t0, t1, t2;
	int ch;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		if (ch == 'n')
			want = (unsigned)atoi(optarg);
		else if (ch == 't')
			o.n_threads = atoi(optarg);
		else
			goto usage;
	}
	if (optind + 1 != argc || want == 0)
		goto usage;
	if (eng_model_open(argv[optind], &o, &m, &cause) != 0 ||
	    eng_session_new(m, &s, &cause) != 0 ||
	    eng_grammar_new(card, strlen(card), m, &gc, &cause) != 0 ||
	    eng_grammar_new(longstr, strlen(longstr), m, &gl, &cause) != 0) {
		fprintf(stderr, "tool-grammar-bench: %s\n", cause);
		return 1;
	}
	if (eng_tokenize(m, "Fill the card for this log line:", 32, true, &ids,
	    &n) != 0 || n == 0)
		return 1;
	if (run(s, ids, n, NULL, want, &t0) != 0 ||
	    run(s, ids, n, gl, want, &t1) != 0 ||
	    run(s, ids, n, gc, want, &t2) != 0)
		return 1;
	printf("unconstrained    %8.2f tok/s\n", t0);
	printf("long string      %8.2f tok/s  %.3fx\n", t1, t1 / t0);
	printf("model-card       %8.2f tok/s  %.3fx\n", t2, t2 / t0);
	free(ids);
	eng_grammar_free(gc);
	eng_grammar_free(gl);
	eng_session_free(s);
	eng_model_free(m);
	return 0;
usage:
	fprintf(stderr, "usage: tool-grammar-bench MODEL.gguf [-n TOKENS] "
	    "[-t THREADS]\n");
	return 2;
}
