/*
 * tool-kern-rate.c - the decode kernels' cost per weight byte, for `make
 * bench` and for A/B work on engine/kern-*.c (issue 17):
 *
 *   tool-kern-rate [--variant NAME] [--types T,T,...] [--icount]
 *                  [--model FILE --threads N]
 *
 * For each quantized type: a matrix of random rows at a real row length
 * (2048), small enough to stay in the L2 cache, is multiplied with one
 * token the way a decode step does it (dotw4 over groups of four rows,
 * the single-row kernel where a variant has none), and the tool prints
 *   rate     weight bytes per nanosecond on one thread, in cache (the best
 *            of several timed passes): the kernel's peak, a compute bound
 *   icount   (--icount) user-mode instructions per weight byte, exact:
 *            the pass runs once in a child that this process single-steps
 *            with ptrace, minus an empty pass.  Deterministic, and it
 *            counts every instruction set natively (valgrind stops at
 *            AVX2).  Fewer instructions are not always faster: on a Zen 5
 *            EPYC, vector scale unpacking for Q4_K cut them by a quarter
 *            and ran 5 % slower (the vector ports, not the front end, are
 *            the limit), so a change is judged by the rate, whose best of
 *            40 short windows repeats to 1 % even on a loaded machine.
 * With --model the model's compute bound is printed too: threads / the
 * sum over its matrices of bytes / rate (every weight is read once per
 * token; token_embd only when there is no output.weight).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gguf.h"
#include "kern.h"
#include "quant.h"

#define RATE_N		2048		/* elements per row */
#define RATE_BYTES	(192u << 10)	/* matrix size for the timed rate */
#define ICOUNT_ROWS	16		/* rows for the counted pass */
#define RATE_PASSES	40

static const uint32_t all_types[] = {
	QT_Q8_0, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q2_K, QT_Q3_K,
	QT_Q4_K, QT_Q5_K, QT_Q6_K, QT_IQ4_NL, QT_IQ4_XS, QT_MXFP4,
};
#define NTYPES	(sizeof all_types / sizeof all_types[0])

struct mat {
	uint32_t	 type;
	size_t		 nrows, rb;
	uint8_t		*w;
	struct qa_block	*x;
	float		*y;
	const struct kern_impl *k;	/* serving this type */
};

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static float
rndf(uint64_t *s)	/* about N(0, 1): a sum of four uniforms */
{
	float v = 0;

	for (int i = 0; i < 4; i++)
		v += (float)rnd(s) / 2147483648.0f - 0.5f;
	return v * 1.7f;
}

static int
mat_make(struct mat *m, const struct kern_impl *k, uint32_t type,
    size_t nrows)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ type, rb;
	float *row = malloc(RATE_N * sizeof *row);

	memset(m, 0, sizeof *m);
	if (row == NULL || quant_row_bytes(type, RATE_N, &rb) != 0)
		goto fail;
	m->type = type;
	m->nrows = nrows;
	m->rb = rb;
	m->k = kern_impl_for(k, type);
	m->w = malloc(nrows * rb);
	m->x = malloc(RATE_N / QA_BLCK * sizeof *m->x);
	m->y = malloc(nrows * sizeof *m->y);
	if (m->k == NULL || m->w == NULL || m->x == NULL || m->y == NULL)
		goto fail;
	for (size_t r = 0; r < nrows; r++) {
		for (size_t i = 0; i < RATE_N; i++)
			row[i] = 0.05f * rndf(&seed);
		if (quant_quantize_row(type, row, m->w + r * rb, RATE_N) != 0)
			goto fail;
	}
	for (size_t i = 0; i < RATE_N; i++)
		row[i] = rndf(&seed);
	quant_act_q8(row, m->x, RATE_N);
	free(row);
	return 0;
fail:
	free(row);
	free(m->w);
	free(m->x);
	free(m->y);
	memset(m, 0, sizeof *m);
	return -1;
}

static void
mat_free(struct mat *m)
{
	free(m->w);
	free(m->x);
	free(m->y);
}

/* One decode pass over the matrix, as kern.c's decode_rows does it. */
__attribute__((noinline)) static void
pass(const struct mat *m)
{
	const struct kern_impl *k = m->k;
	size_t r = 0;

	if (k->dotw4_q8[m->type] != NULL)
		for (; r + KERN_TILE <= m->nrows; r += KERN_TILE)
			k->dotw4_q8[m->type](m->w + r * m->rb, m->rb, m->x,
			    RATE_N, m->y + r);
	for (; r < m->nrows; r++)
		m->y[r] = k->dot_q8[m->type](m->w + r * m->rb, m->x, RATE_N);
}

__attribute__((noinline)) static void
empty_pass(const struct mat *m)
{
	__asm__ volatile("" : : "r"(m) : "memory");
}

/* Bytes per nanosecond: the best of RATE_PASSES timings of enough passes
 * for about 2 ms each: on a shared machine a short window is more
 * likely to run undisturbed. */
static double
rate(const struct mat *m)
{
	double best = 0, bytes = (double)m->nrows * (double)m->rb;
	unsigned reps = 1;

	pass(m);	/* warm the cache */
	for (;;) {
		double t0 = now_sec();

		for (unsigned i = 0; i < reps; i++)
			pass(m);
		if (now_sec() - t0 > 0.002 || reps > (1u << 20))
			break;
		reps *= 2;
	}
	for (int p = 0; p < RATE_PASSES; p++) {
		double t0 = now_sec(), dt;

		for (unsigned i = 0; i < reps; i++)
			pass(m);
		dt = now_sec() - t0;
		if (dt > 0 && bytes * reps / dt / 1e9 > best)
			best = bytes * reps / dt / 1e9;
	}
	return best;
}

/*
 * User-mode instructions of fn(m), by single-stepping a child; -1 if
 * ptrace is not allowed here.  The child stops itself before and after
 * the call; what lies between the two stops is counted.
 */
static int64_t
steps(void (*fn)(const struct mat *), const struct mat *m)
{
	int64_t n = 0;
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
			_exit(2);
		raise(SIGSTOP);
		fn(m);
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0 ||
		    waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
			n = -1;
			break;
		}
		if (WSTOPSIG(st) == SIGSTOP)
			break;
		n++;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return n;
}

static double
icount(const struct kern_impl *k, uint32_t type)
{
	struct mat m;
	int64_t full, base;

	if (mat_make(&m, k, type, ICOUNT_ROWS) != 0)
		return -1;
	full = steps(pass, &m);
	base = steps(empty_pass, &m);
	mat_free(&m);
	if (full < 0 || base < 0)
		return -1;
	return (double)(full - base) / ((double)ICOUNT_ROWS * (double)m.rb);
}

static int
parse_types(const char *s, uint32_t *out, size_t *n)
{
	char *copy = strdup(s), *save = NULL;

	*n = 0;
	if (copy == NULL)
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < NTYPES; i++)
			if (strcasecmp(quant_info(all_types[i])->name, t) == 0)
				break;
		if (i == NTYPES || *n == NTYPES) {
			fprintf(stderr, "tool-kern-rate: unknown type \"%s\"\n",
			    t);
			free(copy);
			return -1;
		}
		out[(*n)++] = all_types[i];
	}
	free(copy);
	return 0;
}

/* The model's bytes per token by type: its matrices, each read once. */
static int
model_bytes(const char *path, double bytes[QT_COUNT])
{
	struct gguf *g = NULL;
	char *cause = NULL;
	int tied;

	if (gguf_open(path, NULL, &g, &cause) != 0) {
		fprintf(stderr, "tool-kern-rate: %s: %s\n", path,
		    cause ? cause : "cannot open");
		free(cause);
		return -1;
	}
	tied = gguf_tensor_find(g, "output.weight") == NULL;
	for (uint64_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);

		if (t->n_dims < 2 || t->type >= QT_COUNT ||
		    (!tied && strcmp(t->name, "token_embd.weight") == 0))
			continue;
		bytes[t->type] += (double)t->nbytes;
	}
	gguf_free(g);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "variant", required_argument, NULL, 'v' },
		{ "types", required_argument, NULL, 'T' },
		{ "icount", no_argument, NULL, 'i' },
		{ "model", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *variant = NULL, *model = NULL;
	uint32_t types[NTYPES];
	size_t ntypes = NTYPES;
	double rates[QT_COUNT] = { 0 }, mb[QT_COUNT] = { 0 };
	const struct kern_impl *k;
	int ch, do_icount = 0, threads = 1;

	memcpy(types, all_types, sizeof types);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'v': variant = optarg; break;
		case 'T':
			if (parse_types(optarg, types, &ntypes) != 0)
				return 2;
			break;
		case 'i': do_icount = 1; break;
		case 'm': model = optarg; break;
		case 't': threads = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: tool-kern-rate [--variant NAME] "
			    "[--types T,...] [--icount] [--model FILE "
			    "--threads N]\n");
			return 2;
		}
	}
	if (variant == NULL)
		variant = kern_variant();
	if ((k = kern_variant_impl(variant)) == NULL) {
		fprintf(stderr, "tool-kern-rate: this CPU cannot run the "
		    "\"%s\" kernels\n", variant);
		return 2;
	}
	if (threads < 1)
		threads = 1;
	if (model != NULL) {
		if (model_bytes(model, mb) != 0)
			return 1;
		ntypes = 0;
		for (size_t i = 0; i < NTYPES; i++)
			if (mb[all_types[i]] > 0)
				types[ntypes++] = all_types[i];
	}
	printf("%-8s %-12s %12s %10s%s\n", "type", "kernels", "bytes/row",
	    "GB/s", do_icount ? "   instr/byte" : "");
	for (size_t i = 0; i < ntypes; i++) {
		struct mat m;
		uint32_t t = types[i];

		if (mat_make(&m, k, t, RATE_BYTES / (quant_info(t)->size *
		    (RATE_N / quant_info(t)->blck)) / 16 * 16) != 0) {
			fprintf(stderr, "tool-kern-rate: %s: out of memory\n",
			    quant_info(t)->name);
			return 1;
		}
		rates[t] = rate(&m);
		printf("%-8s %-12s %12zu %10.2f", quant_info(t)->name,
		    m.k->name, m.rb, rates[t]);
		mat_free(&m);
		if (do_icount) {
			double ic = icount(k, t);

			if (ic < 0)
				printf("   %10s", "(no ptrace)");
			else
				printf("   %10.4f", ic);
		}
		putchar('\n');
	}
	if (model != NULL) {
		double ns = 0, bytes = 0, other = 0;

		for (size_t i = 0; i < ntypes; i++) {
			ns += mb[types[i]] / rates[types[i]];
			bytes += mb[types[i]];
		}
		for (uint32_t t = 0; t < QT_COUNT; t++)
			other += mb[t];
		if (other > bytes)	/* float matrices: not decode kernels */
			printf("(%.1f MB of matrices of other types not in the "
			    "bound)\n", (other - bytes) / 1e6);
		printf("compute bound: %.1f tok/s (%d threads x the in-cache "
		    "rates above; %.1f MB of matrices per token)\n",
		    ns > 0 ? threads * 1e9 / ns : 0.0, threads, bytes / 1e6);
	}
	return 0;
}
