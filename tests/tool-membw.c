/*
 * tool-membw.c - this machine's memory read bandwidth, for `make bench`:
 * a parallel sum over a 1 GiB array (far larger than any cache) with a
 * given number of threads, the best of several passes.
 *
 *   tool-membw [--threads N] [--mib N] [--passes N]
 *
 * Prints one line: "read bandwidth: X.XX GB/s (N threads x S streams, M
 * MiB, best of P passes; 1/2/4/8 streams: ...)"; GB is 10^9 bytes, as
 * STREAM counts.  The array is written once before timing so every page
 * is resident and no pass pays for page faults; each thread sums its own
 * contiguous slice, as the engine's threads each read their own rows of a
 * weight matrix.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEMBW_MAX_THREADS	256
#define MEMBW_DEFAULT_MIB	1024
#define MEMBW_DEFAULT_PASSES	5
#define MEMBW_HUGE		(2u << 20)

struct slice {
	const uint64_t	*p;
	size_t		 n;
	uint64_t	 sum;
	int		 streams;
	pthread_barrier_t *start;
};

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Eight independent sums, so the loop is bound by loads rather than by
 * one dependency chain.  Cloned for the widest vectors the CPU has (the
 * engine's kernels read weights with them too): on one core, 64-byte
 * loads measurably pull more bytes per second than 16-byte ones.
 */
/*
 * Sum n words read as `streams` sequential streams at once, one cache
 * line of each in turn.  A core keeps more lines in flight when it reads
 * several streams: measured on a 2-core Sapphire Rapids, one stream per
 * thread gave 20 GB/s and four gave 26-27.  The bound is what the memory
 * system can deliver, so the tool tries 1, 2, 4 and 8 and keeps the best.
 */
static inline __attribute__((always_inline)) uint64_t
sum_streams(const uint64_t *p, size_t n, int streams)
{
	size_t len = n / (size_t)streams / 8 * 8, i;
	uint64_t acc[8][8] = { { 0 } }, tot = 0;

	for (i = 0; i < len; i += 8)
		for (int s = 0; s < streams; s++)
			for (int k = 0; k < 8; k++)
				acc[s][k] += p[(size_t)s * len + i + k];
	for (i = (size_t)streams * len; i < n; i++)
		tot += p[i];
	for (int s = 0; s < streams; s++)
		for (int k = 0; k < 8; k++)
			tot += acc[s][k];
	return tot;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static uint64_t
sum_u64(const uint64_t *p, size_t n, int streams)
{
	switch (streams) {
	case 1:
		return sum_streams(p, n, 1);
	case 2:
		return sum_streams(p, n, 2);
	case 4:
		return sum_streams(p, n, 4);
	default:
		return sum_streams(p, n, 8);
	}
}

static void *
sum_slice(void *v)
{
	struct slice *s = v;

	pthread_barrier_wait(s->start);
	s->sum = sum_u64(s->p, s->n, s->streams);
	return NULL;
}

static int
num_arg(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "tool-membw: %s: \"%s\" is not a number from "
		    "%ld to %ld\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "mib", required_argument, NULL, 'm' },
		{ "passes", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	long nth = sysconf(_SC_NPROCESSORS_ONLN), mib = MEMBW_DEFAULT_MIB;
	long passes = MEMBW_DEFAULT_PASSES;
	struct slice sl[MEMBW_MAX_THREADS];
	pthread_t th[MEMBW_MAX_THREADS];
	pthread_barrier_t start;
	uint64_t *a, check = 0;
	size_t n;
	static const int stream_counts[] = { 1, 2, 4, 8 };
	double best = 1e30, best_s[4];
	int best_streams = 1;
	int ch;

	while ((ch = getopt_long(argc, argv, "t:m:p:", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (num_arg("--threads", optarg, 1, MEMBW_MAX_THREADS,
			    &nth) != 0)
				return 2;
			break;
		case 'm':
			if (num_arg("--mib", optarg, 1, 1 << 20, &mib) != 0)
				return 2;
			break;
		case 'p':
			if (num_arg("--passes", optarg, 1, 1000, &passes) != 0)
				return 2;
			break;
		default:
			fprintf(stderr, "usage: tool-membw [--threads N] "
			    "[--mib N] [--passes N]\n");
			return 2;
		}
	}
	if (nth < 1)
		nth = 1;
	n = (size_t)mib * 1024 * 1024 / sizeof *a;
	/* on 2 MiB pages where the system allows, as the kernel maps a
	 * model file on a filesystem with large folios: the bound should
	 * not be lowered by TLB misses the engine does not have */
	if ((a = aligned_alloc(MEMBW_HUGE, (n * sizeof *a + MEMBW_HUGE - 1) /
	    MEMBW_HUGE * MEMBW_HUGE)) == NULL) {
		fprintf(stderr, "tool-membw: cannot allocate %ld MiB\n", mib);
		return 2;
	}
	(void)madvise(a, n * sizeof *a, MADV_HUGEPAGE);	/* advice only */
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	/* the stream counts take turns, so a busy moment of a shared
	 * machine does not fall on one of them only */
	for (size_t c = 0; c < 4; c++)
		best_s[c] = 1e30;
	for (long it = 0; it < passes * 4; it++) {
		size_t c = (size_t)it % 4;
		double t0, dt;
		long started = 0;
		int err = 0;

		if (pthread_barrier_init(&start, NULL, (unsigned)nth + 1) != 0) {
			fprintf(stderr, "tool-membw: barrier failed\n");
			return 2;
		}
		for (long t = 0; t < nth; t++) {
			size_t lo_i = n / (size_t)nth * (size_t)t;
			size_t hi_i = t == nth - 1 ? n :
			    n / (size_t)nth * (size_t)(t + 1);

			sl[t] = (struct slice){ a + lo_i, hi_i - lo_i, 0,
			    stream_counts[c], &start };
		}
		for (; started < nth; started++)
			if (pthread_create(&th[started], NULL, sum_slice,
			    &sl[started]) != 0)
				break;
		if (started < nth) {
			/* the barrier counts nth + 1: it can never open */
			fprintf(stderr, "tool-membw: cannot start %ld "
			    "threads\n", nth);
			return 2;
		}
		t0 = now_sec();
		pthread_barrier_wait(&start);
		for (long t = 0; t < nth; t++)
			err |= pthread_join(th[t], NULL);
		dt = now_sec() - t0;
		pthread_barrier_destroy(&start);
		if (err != 0)
			return 2;
		for (long t = 0; t < nth; t++)
			check += sl[t].sum;
		if (dt < best_s[c])
			best_s[c] = dt;
		if (dt < best) {
			best = dt;
			best_streams = stream_counts[c];
		}
	}
	/* the sum keeps the loads from being optimized away */
	printf("read bandwidth: %.2f GB/s (%ld threads x %d streams, %ld MiB, "
	    "best of %ld passes; 1/2/4/8 streams:", (double)(n * sizeof *a) /
	    best * 1e-9, nth, best_streams, mib, passes);
	for (size_t c = 0; c < 4; c++)
		printf(" %.2f", (double)(n * sizeof *a) / best_s[c] * 1e-9);
	printf(")%s\n", check == 0 ? " " : "");
	free(a);
	return 0;
}
