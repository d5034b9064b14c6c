/*
 * tool-prefill-blas.c - the two ways of running a prompt batch, measured
 * per tensor type (issue 4): the engine's batched integer kernels
 * (kern_matmul on a batch: weights decoded to 8-bit tiles, activations
 * quantized to 8 bits) against OpenBLAS sgemm on weight tiles dequantized
 * to f32 (activations kept in f32).  Both use the same number of threads
 * on the same weights and batch; the faster one is what the engine should
 * use, and `make bench` prints the table.
 *
 *   tool-prefill-blas [--threads N] [--rows R] [--n N] [--batch B]
 *
 * For each type: the integer path's time, the sgemm path's time split
 * into dequantization and sgemm, and GFLOP/s (2 per multiply-add).  The
 * sgemm path gets OpenBLAS's own threads for the product and ours for
 * dequantizing; "sgemm only" is the bound that path could reach with a
 * free dequantizer.  Without OpenBLAS at build time only the integer path
 * is measured.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kern.h"
#include "quant.h"

#if defined(HAVE_OPENBLAS) && defined(__has_include)
#if __has_include(<cblas.h>)
#include <cblas.h>
#define USE_BLAS 1
/* OpenBLAS extension: threads for the next calls */
void	openblas_set_num_threads(int);
#endif
#endif

/* Rows dequantized per sgemm call: large enough for sgemm to run at
 * full speed, small enough to stay in the caches. */
#define BLAS_TILE_ROWS	256
#define MAX_ARG		(1L << 20)

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static float
unif(uint64_t *s)
{
	return (float)((int32_t)(rng(s) >> 40) - (1 << 23)) * 0x1p-23f;
}

static int
num_arg(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "tool-prefill-blas: %s: \"%s\" is not a number "
		    "from %ld to %ld\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

struct deq_job {
	uint32_t	 type;
	const uint8_t	*W;
	size_t		 rb, n, r0;
	float		*out;
};

static void
deq_row(void *v, size_t i)
{
	const struct deq_job *j = v;

	quant_dequant_row(j->type, j->W + (j->r0 + i) * j->rb,
	    j->out + i * j->n, j->n);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "rows", required_argument, NULL, 'r' },
		{ "n", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint32_t types[] = { QT_Q8_0, QT_Q4_K, QT_Q5_K, QT_Q6_K,
	    QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_F16, QT_BF16, QT_F32 };
	long nth = sysconf(_SC_NPROCESSORS_ONLN), rows = 2048, n = 2048;
	long nb = 128;
	struct kern_pool *pool;
	float *X, *Y, *row, *deq;
	void *scratch;
	uint8_t *W;
	int ch;

	while ((ch = getopt_long(argc, argv, "t:r:n:b:", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (num_arg("--threads", optarg, 1, 256, &nth) != 0)
				return 2;
			break;
		case 'r':
			if (num_arg("--rows", optarg, 8, MAX_ARG, &rows) != 0)
				return 2;
			break;
		case 'n':
			if (num_arg("--n", optarg, 256, MAX_ARG, &n) != 0)
				return 2;
			break;
		case 'b':
			if (num_arg("--batch", optarg, 1, 4096, &nb) != 0)
				return 2;
			break;
		default:
			fprintf(stderr, "usage: tool-prefill-blas [--threads N] "
			    "[--rows R] [--n N] [--batch B]\n");
			return 2;
		}
	}
	if (n % 256 != 0) {
		fprintf(stderr, "tool-prefill-blas: --n must be a multiple of "
		    "256\n");
		return 2;
	}
	if (nth < 1)
		nth = 1;
	X = malloc((size_t)nb * n * sizeof *X);
	Y = malloc((size_t)nb * rows * sizeof *Y);
	row = malloc((size_t)n * sizeof *row);
	deq = malloc((size_t)BLAS_TILE_ROWS * n * sizeof *deq);
	W = malloc((size_t)rows * n * 4);	/* F32 is the largest */
	scratch = malloc(kern_scratch_bytes((size_t)n, (size_t)nb));
	pool = kern_pool_new((int)nth);
	if (!X || !Y || !row || !deq || !W || !scratch || !pool ||
	    kern_pool_reserve(pool, kern_thread_bytes((size_t)n, 64, 64))) {
		fprintf(stderr, "tool-prefill-blas: out of memory\n");
		return 2;
	}
	{
		uint64_t s = 1;

		for (long i = 0; i < nb * n; i++)
			X[i] = unif(&s);
	}
#ifdef USE_BLAS
	openblas_set_num_threads((int)nth);
#endif
	printf("prefill batch of %ld tokens, %ld x %ld weights, %ld threads, "
	    "kernels %s\n", nb, rows, n, nth, kern_variant());
	printf("%-6s %22s %34s %10s\n", "type", "engine tiles",
	    "dequantize + sgemm (sgemm only)", "faster");
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		uint32_t type = types[t];
		uint64_t rb, s = 99 + t;
		double ti = 1e30, tb = 1e30, ts = 1e30;
		double flop = 2.0 * (double)rows * (double)n * (double)nb;

		quant_row_bytes(type, (uint64_t)n, &rb);
		for (long r = 0; r < rows; r++) {
			for (long i = 0; i < n; i++)
				row[i] = unif(&s) * 0.05f;
			quant_quantize_row(type, row, W + r * rb, (size_t)n);
		}
		/* the best of a few rounds: the machine may be shared */
		for (int round = 0; round < 3; round++) {
			double t0 = now_sec();

			kern_matmul(pool, type, W, (size_t)rows, (size_t)n, X,
			    (size_t)nb, Y, scratch);
			if (now_sec() - t0 < ti)
				ti = now_sec() - t0;
#ifdef USE_BLAS
			double tsum = 0;

			t0 = now_sec();
			for (long r0 = 0; r0 < rows; r0 += BLAS_TILE_ROWS) {
				long nr = rows - r0 < BLAS_TILE_ROWS ?
				    rows - r0 : BLAS_TILE_ROWS;
				struct deq_job dj = { type, W, rb, (size_t)n,
				    (size_t)r0, deq };
				double t1;

				kern_parallel(pool, (size_t)nr, deq_row, &dj);
				t1 = now_sec();
				/* Y (nb x rows) = X (nb x n) . tile^T */
				cblas_sgemm(CblasRowMajor, CblasNoTrans,
				    CblasTrans, (int)nb, (int)nr, (int)n, 1.0f,
				    X, (int)n, deq, (int)n, 0.0f, Y + r0,
				    (int)rows);
				tsum += now_sec() - t1;
			}
			if (now_sec() - t0 < tb)
				tb = now_sec() - t0;
			if (tsum < ts)
				ts = tsum;
#endif
		}
#ifdef USE_BLAS
		printf("%-6s %8.1f ms %6.1f GF/s %8.1f ms %6.1f GF/s (%6.1f GF/s) "
		    "%10s\n", quant_info(type)->name, ti * 1e3, flop / ti * 1e-9,
		    tb * 1e3, flop / tb * 1e-9, flop / ts * 1e-9,
		    ti <= tb ? "engine" : "sgemm");
#else
		printf("%-6s %8.1f ms %6.1f GF/s %34s\n", quant_info(type)->name,
		    ti * 1e3, flop / ti * 1e-9, "(built without OpenBLAS)");
#endif
	}
	kern_pool_free(pool);
	free(X);
	free(Y);
	free(row);
	free(deq);
	free(W);
	free(scratch);
	return 0;
}
