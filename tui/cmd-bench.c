/*
 * cmd-bench.c - `triage model bench FILE`: how fast the engine runs a
 * model on this machine, in a table like llama-bench's.
 *
 * Measured, in this order, on one session:
 *   load    eng_model_open + eng_session_new (parse, validate, map,
 *           allocate the KV cache); pages of the file are read later
 *   warm-up one token through the whole network, so every weight page is
 *           in memory before anything is timed (as llama-bench does)
 *   pp      prefill of -p tokens from an empty context, repeated -r times
 *   ttft    time to first token: the first prefill plus picking the token
 *   tg      -n tokens decoded one at a time from an empty context (or
 *           after a prefill of --depth tokens, not timed), each fed the
 *           previous step's greedy pick, repeated -r times
 *   rss     peak resident set size of the process (getrusage)
 * Prompt tokens are a fixed pseudo-random sequence: speed does not depend
 * on which ids they are, and the same command measures the same work.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../engine/engine.h"
#include "tui.h"

/* Anything past these is a typing mistake, not a benchmark. */
#define BENCH_MAX_TOKENS	(1u << 20)
#define BENCH_MAX_REPS		100
#define BENCH_MAX_THREADS	256

static const char bench_usage[] =
"usage: triage model bench [-p N] [-n N] [-r N] [--threads N] [--kv f16|q8]\n"
"                          [--depth N] [--json] FILE\n"
"\n"
"  -p, --prompt N    prompt tokens to prefill (default 512; 0 skips)\n"
"  -n, --gen N       tokens to decode one by one (default 128; 0 skips)\n"
"  -r, --reps N      repetitions of each test (default 3)\n"
"  -t, --threads N   threads (default: the number of online CPUs)\n"
"  --kv q8           8-bit KV cache (default f16)\n"
"  --depth N         decode after N tokens of context (default 0: empty)\n"
"  --json            one JSON object instead of the table\n";

struct stat_acc {
	double	 sum, sum2;	/* of tokens per second */
	int	 n;
};

static void
acc_add(struct stat_acc *a, double v)
{
	a->sum += v;
	a->sum2 += v * v;
	a->n++;
}

static double
acc_mean(const struct stat_acc *a)
{
	return a->n ? a->sum / a->n : 0.0;
}

static double
acc_sd(const struct stat_acc *a)
{
	double m = acc_mean(a), v;

	if (a->n < 2)
		return 0.0;
	v = (a->sum2 - a->n * m * m) / (a->n - 1);
	return v > 0 ? sqrt(v) : 0.0;
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
argmax(const float *v, uint32_t n)
{
	uint32_t b = 0;

	for (uint32_t i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return (int)b;
}

/* Peak RSS of this process in bytes (Linux reports KiB). */
static uint64_t
peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;
}

static int
parse_count(const char *opt, const char *s, unsigned long lo,
    unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < lo || v > hi) {
		out_printf(stderr, "triage: %s: \"%s\" is not a number from %lu "
		    "to %lu\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* "Q4_K_M" etc. for the table, with the model name's size if known. */
static void
model_label(const struct eng_info *in, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %.2fB %s", in->arch, (double)in->n_params / 1e9,
	    in->ftype[0] ? in->ftype : "?");
}

struct bench_result {
	double		 load_s;
	double		 ttft_s;	/* first prefill + argmax */
	struct stat_acc	 pp, tg;	/* tokens per second */
	uint64_t	 rss;
	unsigned long	 depth;		/* tg: tokens in the context first */
};

/*
 * Run the tests on an open session; 0 or an ENG_E code with *cause set
 * for the caller to print.
 */
static int
run_tests(struct eng_session *s, uint32_t n_vocab, unsigned long np,
    unsigned long ng, unsigned long reps, struct bench_result *res,
    char **cause)
{
	float *logits = NULL;
	int32_t *ids = NULL;
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	int rc;

	if ((logits = malloc((size_t)n_vocab * sizeof *logits)) == NULL ||
	    (ids = malloc((np > res->depth ? np : res->depth ? res->depth :
	    1) * sizeof *ids)) == NULL) {
		rc = ENG_ENOMEM;
		goto out;
	}
	for (unsigned long i = 0; i < np || i < res->depth; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ids[i] = (int32_t)((seed >> 33) % n_vocab);
	}
	/* warm-up: every weight is read once */
	{
		int32_t one = np ? ids[0] : 0;

		if ((rc = eng_session_decode(s, &one, 1, logits, false, NULL,
		    NULL)) != 0)
			goto out;
		eng_session_reset(s);
	}
	for (unsigned long r = 0; np > 0 && r < reps; r++) {
		double t0 = now_sec(), dt;

		eng_session_reset(s);
		if ((rc = eng_session_decode(s, ids, np, logits, false, NULL,
		    NULL)) != 0)
			goto out;
		(void)argmax(logits, n_vocab);
		dt = now_sec() - t0;
		if (r == 0)
			res->ttft_s = dt;
		acc_add(&res->pp, (double)np / dt);
	}
	for (unsigned long r = 0; ng > 0 && r < reps; r++) {
		int32_t tok = 1 % (int32_t)n_vocab;
		double t0;

		eng_session_reset(s);
		/* decoding deep in a context reads its whole KV cache */
		if (res->depth > 0 && (rc = eng_session_decode(s, ids,
		    res->depth, NULL, false, NULL, NULL)) != 0)
			goto out;
		t0 = now_sec();
		for (unsigned long i = 0; i < ng; i++) {
			if ((rc = eng_session_decode(s, &tok, 1, logits, false,
			    NULL, NULL)) != 0)
				goto out;
			tok = argmax(logits, n_vocab);
		}
		acc_add(&res->tg, (double)ng / (now_sec() - t0));
	}
	rc = 0;
out:
	if (rc == ENG_ENOMEM && cause != NULL && *cause == NULL)
		*cause = strdup("out of memory for the benchmark buffers");
	else if (rc == ENG_ECTX && cause != NULL && *cause == NULL)
		*cause = strdup("the test does not fit in the context "
		    "(a smaller -p or -n?)");
	else if (rc != 0 && cause != NULL && *cause == NULL &&
	    asprintf(cause, "decoding failed (engine status %d)", rc) < 0)
		*cause = NULL;
	free(logits);
	free(ids);
	return rc;
}

/* A JSON string by jansson: made printable first (a file name need not be
 * UTF-8), then ASCII only, as analyze --json is. */
static void
json_str(const char *s)
{
	char *safe = pb_sanitize(s, strlen(s)), *j = NULL;
	json_t *v = safe != NULL ? json_string(safe) : NULL;

	if (v != NULL)
		j = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	fputs(j != NULL ? j : "null", stdout);
	free(j);
	json_decref(v);
	free(safe);
}

static void
print_json(const char *path, const struct eng_info *in, int threads,
    unsigned long np, unsigned long ng, const struct bench_result *r)
{
	out_printf(stdout, "{\"file\": ");
	json_str(path);
	out_printf(stdout, ", \"arch\": ");
	json_str(in->arch);
	out_printf(stdout, ", \"ftype\": ");
	json_str(in->ftype);
	out_printf(stdout, ", \"file_bytes\": %" PRIu64 ", \"n_params\": %" PRIu64
	    ", \"backend\": ", in->file_bytes, in->n_params);
	json_str(eng_backend());
	out_printf(stdout, ", \"threads\": %d, \"n_ctx\": %" PRIu32 ", \"load_s\": %.4f",
	    threads, in->n_ctx, r->load_s);
	if (np > 0)
		out_printf(stdout, ", \"n_prompt\": %lu, \"pp_tps\": %.3f, \"pp_sd\": %.3f"
		    ", \"ttft_s\": %.4f", np, acc_mean(&r->pp), acc_sd(&r->pp),
		    r->ttft_s);
	if (ng > 0)
		out_printf(stdout, ", \"n_gen\": %lu, \"tg_tps\": %.3f, \"tg_sd\": %.3f"
		    ", \"depth\": %lu", ng, acc_mean(&r->tg), acc_sd(&r->tg),
		    r->depth);
	/* what one decoding step reads: every weight once (with tied
	 * embeddings; an untied token_embd is read one row per token, so
	 * for those files this is an upper bound) */
	out_printf(stdout, ", \"kv\": \"%s\"", in->kv);
	out_printf(stdout, ", \"weight_bytes\": %" PRIu64 ", \"mem_kv\": %" PRIu64
	    ", \"peak_rss\": %" PRIu64 "}\n", in->mem_weights, in->mem_kv,
	    r->rss);
}

static void
print_table(const struct eng_info *in, int threads, unsigned long np,
    unsigned long ng, const struct bench_result *r)
{
	char label[96], size[32], params[32], backend[48];

	model_label(in, label, sizeof label);
	snprintf(size, sizeof size, "%.2f MiB", (double)in->file_bytes /
	    (1024.0 * 1024.0));
	snprintf(params, sizeof params, "%.2f B", (double)in->n_params / 1e9);
	snprintf(backend, sizeof backend, "CPU %s", eng_backend());
	out_printf(stdout, "| %-26s | %10s | %8s | %-16s | %7s | %8s | %17s |\n", "model",
	    "size", "params", "backend", "threads", "test", "t/s");
	out_printf(stdout, "| %.26s | %.10s | %.8s | %.16s | %.7s | %.8s | %.17s |\n",
	    "----------------------------------------", "---------:",
	    "-------:", "--------------------", "------:", "-------:",
	    "----------------:");
	if (np > 0) {
		char test[24], tps[32];

		snprintf(test, sizeof test, "pp%lu", np);
		snprintf(tps, sizeof tps, "%.2f ± %.2f", acc_mean(&r->pp),
		    acc_sd(&r->pp));
		/* 18: "±" is two bytes and one column */
		out_printf(stdout, "| %-26s | %10s | %8s | %-16s | %7d | %8s | %18s |\n",
		    label, size, params, backend, threads, test, tps);
	}
	if (ng > 0) {
		char test[48], tps[32];

		if (r->depth > 0)
			snprintf(test, sizeof test, "tg%lu@d%lu", ng, r->depth);
		else
			snprintf(test, sizeof test, "tg%lu", ng);
		snprintf(tps, sizeof tps, "%.2f ± %.2f", acc_mean(&r->tg),
		    acc_sd(&r->tg));
		/* 18: "±" is two bytes and one column */
		out_printf(stdout, "| %-26s | %10s | %8s | %-16s | %7d | %8s | %18s |\n",
		    label, size, params, backend, threads, test, tps);
	}
	out_printf(stdout, "\nload %.3f s", r->load_s);
	if (np > 0)
		out_printf(stdout, "   time to first token (%lu-token prompt) %.3f s", np,
		    r->ttft_s);
	out_printf(stdout, "   peak RSS %.1f MiB (file %.1f MiB + %s KV cache %.1f MiB "
	    "at %" PRIu32 " tokens)\n", (double)r->rss / (1024.0 * 1024.0),
	    (double)in->file_bytes / (1024.0 * 1024.0), in->kv,
	    (double)in->mem_kv / (1024.0 * 1024.0), in->n_ctx);
}

int
cmd_model_bench(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "prompt", required_argument, NULL, 'p' },
		{ "gen", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "kv", required_argument, NULL, 'k' },
		{ "depth", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eng_load_opts o = { 0 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct bench_result res = { 0 };
	const struct eng_info *in;
	unsigned long np = 512, ng = 128, reps = 3, th = 0, need;
	char *cause = NULL;
	bool json = false;
	int ch, status = EXIT_TROUBLE;
	double t0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:n:r:t:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_count("-p", optarg, 0, BENCH_MAX_TOKENS,
			    &np) != 0)
				return EXIT_TROUBLE;
			break;
		case 'n':
			if (parse_count("-n", optarg, 0, BENCH_MAX_TOKENS,
			    &ng) != 0)
				return EXIT_TROUBLE;
			break;
		case 'r':
			if (parse_count("-r", optarg, 1, BENCH_MAX_REPS,
			    &reps) != 0)
				return EXIT_TROUBLE;
			break;
		case 't':
			if (parse_count("--threads", optarg, 1,
			    BENCH_MAX_THREADS, &th) != 0)
				return EXIT_TROUBLE;
			break;
		case 'k':
			if (eng_kv_parse(optarg, &o.kv) != 0) {
				out_printf(stderr, "triage: --kv: \"%s\" is not "
				    "f16 or q8\n", optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'd':
			if (parse_count("--depth", optarg, 0,
			    BENCH_MAX_TOKENS, &res.depth) != 0)
				return EXIT_TROUBLE;
			break;
		case 'j': json = true; break;
		case 'h': fputs(bench_usage, stdout); return 0;
		default: fputs(bench_usage, stderr); return EXIT_TROUBLE;
		}
	}
	if (optind + 1 != argc) {
		fputs(bench_usage, stderr);
		return EXIT_TROUBLE;
	}
	/* a context just big enough: the KV cache is part of the RSS bound */
	need = (np > ng + res.depth ? np : ng + res.depth) + 1;
	o.n_ctx = (uint32_t)(need < 512 ? 512 : need);
	o.n_threads = (int)th;
	t0 = now_sec();
	if (eng_model_open(argv[optind], &o, &m, &cause) != 0) {
		out_printf(stderr, "triage: %s\n", cause ? cause :
		    "cannot load the model");
		goto out;
	}
	in = eng_model_info(m);
	/* before the KV cache is allocated for a context we cannot use */
	if (need > in->n_ctx) {
		out_printf(stderr, "triage: %lu tokens do not fit in the model's "
		    "%" PRIu32 "-token context\n", need, in->n_ctx);
		goto out;
	}
	if (eng_session_new(m, &s, &cause) != 0) {
		out_printf(stderr, "triage: %s\n", cause ? cause :
		    "cannot load the model");
		goto out;
	}
	res.load_s = now_sec() - t0;
	if (run_tests(s, in->n_vocab, np, ng, reps, &res, &cause) != 0) {
		out_printf(stderr, "triage: %s: %s\n", argv[optind], cause);
		goto out;
	}
	res.rss = peak_rss();
	if (th == 0)	/* the engine's default */
		th = (unsigned long)sysconf(_SC_NPROCESSORS_ONLN);
	if (json)
		print_json(argv[optind], in, (int)th, np, ng, &res);
	else
		print_table(in, (int)th, np, ng, &res);
	status = 0;
out:
	eng_session_free(s);
	eng_model_free(m);
	free(cause);
	return status;
}
