/*
 * probe.c - how fast this machine can run the engine, for `triage
 * doctor`: the memory read bandwidth (which bounds decoding: every token
 * reads every weight) and the batched matmul rate of a tensor type
 * (which bounds prefill).  Both time the real thing for about the time
 * asked and keep the best pass.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "kern.h"
#include "quant.h"

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct bw_arg {
	const uint64_t	*p;
	size_t		 n;
	uint64_t	 sum;
};

/* Four lines in flight per thread (see tests/tool-membw.c: more streams
 * keep more loads outstanding), eight independent sums. */
static void *
bw_sum(void *v)
{
	struct bw_arg *a = v;
	size_t q = a->n / 4 / 8 * 8, i, k;
	uint64_t s[8] = { 0 };

	for (i = 0; i < q; i += 8)
		for (k = 0; k < 8; k++)
			s[k] += a->p[i + k] + a->p[q + i + k] +
			    a->p[2 * q + i + k] + a->p[3 * q + i + k];
	for (k = 0; k < 8; k++)
		a->sum += s[k];
	return NULL;
}

double
eng_probe_membw(int threads, size_t mib, double secs)
{
	size_t n = mib * ((size_t)1 << 20) / sizeof(uint64_t), i, per;
	pthread_t tid[64];
	struct bw_arg arg[64];
	uint64_t *p;
	double best = 0, t0, start;
	int t, started;

	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;
	if (n < (size_t)threads * 64 || (p = malloc(n * sizeof *p)) == NULL)
		return 0;
	for (i = 0; i < n; i++)	/* resident before timing */
		p[i] = i;
	per = n / (size_t)threads;
	start = now_sec();
	do {
		t0 = now_sec();
		for (t = 0, started = 0; t < threads; t++) {
			arg[t].p = p + (size_t)t * per;
			arg[t].n = per;
			arg[t].sum = 0;
			if (t > 0 && pthread_create(&tid[t], NULL, bw_sum, &arg[t]) != 0)
				break;
			started = t + 1;
		}
		bw_sum(&arg[0]);
		for (t = 1; t < started; t++)
			pthread_join(tid[t], NULL);
		t0 = now_sec() - t0;
		if (t0 > 0 && (double)per * (size_t)started * sizeof *p / t0 / 1e9 > best)
			best = (double)per * (size_t)started * sizeof *p / t0 / 1e9;
	} while (now_sec() - start < secs);
	free(p);
	return best;
}

double
eng_probe_matmul(uint32_t type, int threads, double secs)
{
	const size_t n = 2048, rows = 2048, nb = 64;
	struct kern_pool *pool = NULL;
	uint64_t rb = 0;
	void *W = NULL, *scratch = NULL;
	float *X = NULL, *Y = NULL;
	double flops = 0, start, el = 0, rate = 0;
	size_t i;

	if (quant_row_bytes(type, n, &rb) != 0 || rb == 0)
		goto out;
	if ((pool = kern_pool_new(threads)) == NULL ||
	    kern_pool_reserve(pool, kern_thread_bytes(n, nb, 64)) != 0)
		goto out;
	if ((W = malloc(rb * rows)) == NULL ||
	    (X = malloc(nb * n * sizeof *X)) == NULL ||
	    (Y = malloc(nb * rows * sizeof *Y)) == NULL ||
	    (scratch = malloc(kern_scratch_bytes(n, nb))) == NULL)
		goto out;
	/* 0x11 bytes: small normal f16 scales, no denormals to slow a pass */
	memset(W, 0x11, rb * rows);
	for (i = 0; i < nb * n; i++)
		X[i] = (float)((i * 7919) % 201) / 100.0f - 1.0f;
	start = now_sec();
	do {
		kern_matmul(pool, type, W, rows, n, X, nb, Y, scratch);
		flops += 2.0 * (double)n * (double)rows * (double)nb;
		el = now_sec() - start;
	} while (el < secs);
	rate = el > 0 ? flops / el / 1e9 : 0;
out:
	free(W);
	free(X);
	free(Y);
	free(scratch);
	kern_pool_free(pool);
	return rate;
}
