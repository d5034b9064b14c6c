/*
 * tool-att-bench.c - the decode attention alone deep in a context (issue
 * 17): one token's kern_attention over every layer of a KV cache of the
 * Llama-3.2-1B shape (16 layers, 32 query heads, 8 KV heads of 64 by
 * default), the cache filled with random values by att_kv_put, timed by
 * the CPU time of the process (a loaded machine moves it less than the
 * wall clock), the best of R sweeps.
 *
 *   tool-att-bench [--depth D] [--kv f16|q8] [--layers L] [--reps R]
 *                  [--threads N]
 *
 * Prints ms per token and the cache bytes read per second.  With
 * --layers 1 the cache (4 MiB at 2,048 positions) stays in L2/L3: the
 * in-cache speed, beside the 16 layers' 64 MiB read from memory.
 * TRIAGE_KERN picks the kernel variant.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "att.h"
#include "kern.h"

static double
cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float
frand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)(*s >> 40) / (float)(1u << 24) - 0.5f;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "depth", required_argument, NULL, 'd' },
		{ "kv", required_argument, NULL, 'k' },
		{ "layers", required_argument, NULL, 'l' },
		{ "reps", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	size_t D = 2048, L = 16, nkv = 8, nh = 32, hd = 64, n_ctx, hb;
	int kv = ATT_KV_F16, reps = 20, nt = 1, ch, status = 1;
	uint64_t seed = 1;
	char *K = NULL, *V = NULL;
	float *q = NULL, *o = NULL, k[64], v[64];
	struct kern_pool *pool = NULL;
	double best = 1e30, bytes;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': D = strtoul(optarg, NULL, 10); break;
		case 'k': kv = strcmp(optarg, "q8") == 0 ? ATT_KV_Q8 :
		    ATT_KV_F16; break;
		case 'l': L = strtoul(optarg, NULL, 10); break;
		case 'r': reps = atoi(optarg); break;
		case 't': nt = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc || L == 0 || reps <= 0 || nt <= 0 ||
	    D > 1u << 20) {
usage:
		fprintf(stderr, "usage: tool-att-bench [--depth D] [--kv f16|q8] "
		    "[--layers L] [--reps R] [--threads N]\n");
		return 2;
	}
	n_ctx = D + 65;
	hb = att_kv_head_bytes(kv, n_ctx, hd);
	K = malloc(L * nkv * hb);
	V = malloc(L * nkv * hb);
	q = malloc(nh * hd * sizeof *q);
	o = malloc(nh * hd * sizeof *o);
	if (K == NULL || V == NULL || q == NULL || o == NULL ||
	    (pool = kern_pool_new(nt)) == NULL ||
	    kern_pool_reserve(pool, kern_thread_bytes(2048, n_ctx, hd)) != 0) {
		fprintf(stderr, "tool-att-bench: out of memory\n");
		goto out;
	}
	for (size_t h = 0; h < L * nkv; h++)
		for (size_t p = 0; p < n_ctx; p++) {
			for (size_t i = 0; i < hd; i++) {
				k[i] = frand(&seed);
				v[i] = frand(&seed);
			}
			att_kv_put(kv, K + h * hb, V + h * hb, n_ctx, hd, p, k, v);
		}
	for (size_t i = 0; i < nh * hd; i++)
		q[i] = frand(&seed);
	for (int r = 0; r < reps; r++) {
		double t0 = cpu_sec(), t;

		for (size_t l = 0; l < L; l++) {
			struct kern_att A = {
				.K = (const uint16_t *)(const void *)(K + l *
				    nkv * hb),
				.Vt = (const uint16_t *)(const void *)(V + l *
				    nkv * hb),
				.Kq = K + l * nkv * hb, .Vq = V + l * nkv * hb,
				.kv = kv, .n_ctx = n_ctx, .Q = q, .O = o,
				.n_head = (uint32_t)nh, .n_kv = (uint32_t)nkv,
				.hd = (uint32_t)hd, .nb = 1, .pos = (uint32_t)D,
				.scale = 0.125f,
			};

			if (kern_attention(pool, &A) != 0) {
				fprintf(stderr, "tool-att-bench: kern_attention "
				    "refused the shape\n");
				goto out;
			}
		}
		t = cpu_sec() - t0;
		best = t < best ? t : best;
	}
	bytes = 2.0 * (double)L * (double)nkv * (double)att_kv_head_bytes(kv,
	    D + 1, hd);
	printf("%s %s depth %zu, %zu layers: %.3f ms per token (%.3f per "
	    "layer), %.2f GB/s of cache, best of %d by CPU time\n",
	    kern_variant(), kv == ATT_KV_Q8 ? "q8" : "f16", D, L,
	    best * 1e3, best * 1e3 / (double)L, bytes / best / 1e9, reps);
	status = 0;
out:
	kern_pool_free(pool);
	free(K);
	free(V);
	free(q);
	free(o);
	return status;
}
