/*
 * kern.c - matmul dispatch and the thread pool.
 *
 * kern_matmul prepares the activations once per call (f32 as is, rounded
 * to bf16, or quantized to 8-bit blocks into the caller's scratch) and
 * then spreads the weight rows over the pool; each row meets every
 * activation row while it is in cache.  The dot kernels come from one
 * variant (struct kern_impl): the scalar one here, which defers to quant.c
 * for quantized types, or a SIMD one chosen once from cpuid.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "quant.h"

_Static_assert(KERN_NTYPES == QT_COUNT, "kern_impl table covers the types");

/* More threads than this is a configuration error, not a bigger machine. */
#define KERN_MAX_THREADS	256
/* Polls of the job counter before a thread sleeps on its condition
 * variable: between the matmuls of one token the next job arrives within
 * microseconds, and a condvar round trip costs more than that. */
#define KERN_SPIN		4000

/* ==== scalar variant ===================================================== */

static float
ldf(const uint8_t *p)
{
	float f;

	memcpy(&f, p, sizeof f);
	return f;
}

static float
dot_f32_scalar(const void *w, const float *x, size_t n)
{
	const uint8_t *p = w;
	float acc = 0.0f;

	for (size_t i = 0; i < n; i++)
		acc += ldf(p + 4 * i) * x[i];
	return acc;
}

static float
dot_f16_scalar(const void *w, const float *x, size_t n)
{
	const uint8_t *p = w;
	float acc = 0.0f;

	for (size_t i = 0; i < n; i++)
		acc += quant_f16_to_f32((uint16_t)(p[2 * i] |
		    p[2 * i + 1] << 8)) * x[i];
	return acc;
}

static float
dot_bf16_scalar(const void *w, const float *x, size_t n)
{
	const uint8_t *p = w;
	float acc = 0.0f;

	for (size_t i = 0; i < n; i++)
		acc += quant_bf16_to_f32((uint16_t)(p[2 * i] |
		    p[2 * i + 1] << 8)) * x[i];
	return acc;
}

#define SCALAR_Q8(T)							\
static float								\
dot_q8_scalar_##T(const void *w, const struct qa_block *x, size_t n)	\
{									\
	return quant_dot_q8(QT_##T, w, x, n);				\
}
SCALAR_Q8(Q4_0)
SCALAR_Q8(Q4_1)
SCALAR_Q8(Q5_0)
SCALAR_Q8(Q5_1)
SCALAR_Q8(Q8_0)
SCALAR_Q8(Q4_K)
SCALAR_Q8(Q5_K)
SCALAR_Q8(Q6_K)

const struct kern_impl kern_impl_scalar = {
	.name = "scalar",
	.dot_f32 = dot_f32_scalar,
	.dot_f16 = dot_f16_scalar,
	.dot_bf16 = dot_bf16_scalar,
	.dot_q8 = {
		[QT_Q4_0] = dot_q8_scalar_Q4_0,
		[QT_Q4_1] = dot_q8_scalar_Q4_1,
		[QT_Q5_0] = dot_q8_scalar_Q5_0,
		[QT_Q5_1] = dot_q8_scalar_Q5_1,
		[QT_Q8_0] = dot_q8_scalar_Q8_0,
		[QT_Q4_K] = dot_q8_scalar_Q4_K,
		[QT_Q5_K] = dot_q8_scalar_Q5_K,
		[QT_Q6_K] = dot_q8_scalar_Q6_K,
	},
};

/* ==== dispatch =========================================================== */

/* Best first. */
static const struct {
	const char		*name;
	const struct kern_impl	*impl;
} variants[] = {
	{ "avx512",	&kern_impl_avx512 },
	{ "avx2",	&kern_impl_avx2 },
	{ "scalar",	&kern_impl_scalar },
};

static _Atomic(const struct kern_impl *) current;
static pthread_once_t pick_once = PTHREAD_ONCE_INIT;

int
kern_variant_ok(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "scalar") == 0)
		return 1;
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a = 0, b = 0, c = 0, d = 0;

	__builtin_cpu_init();
	/* F16C from cpuid leaf 1: clang's __builtin_cpu_supports lacks it */
	int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
	int avx2 = __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma") && f16c;
	if (strcmp(name, "avx2") == 0)
		return avx2;
	/* it falls back to the AVX2 kernels for some types */
	if (strcmp(name, "avx512") == 0)
		return avx2 && __builtin_cpu_supports("avx512f") &&
		    __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512dq") &&
		    __builtin_cpu_supports("avx512vl");
#endif
	return 0;
}

static const struct kern_impl *
lookup(const char *name)
{
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
		if (strcmp(variants[i].name, name) == 0)
			return kern_variant_ok(name) ? variants[i].impl : NULL;
	return NULL;
}

/* The best variant the CPU has, unless TRIAGE_KERN names an available
 * one (an unknown or unavailable name is ignored: the CPU decides). */
static void
pick(void)
{
	const char *env = getenv("TRIAGE_KERN");
	const struct kern_impl *k = NULL;

	if (env != NULL)
		k = lookup(env);
	for (size_t i = 0; k == NULL && i < sizeof variants / sizeof variants[0];
	    i++)
		k = lookup(variants[i].name);
	atomic_store(&current, k);
}

static const struct kern_impl *
impl(void)
{
	pthread_once(&pick_once, pick);
	return atomic_load_explicit(&current, memory_order_relaxed);
}

const char *
kern_variant(void)
{
	return impl()->name;
}

int
kern_set_variant(const char *name)
{
	const struct kern_impl *k;

	pthread_once(&pick_once, pick);
	if (name == NULL || (k = lookup(name)) == NULL)
		return -1;
	atomic_store(&current, k);
	return 0;
}

/* ==== thread pool ======================================================== */

struct kern_pool {
	int		 nthreads;	/* including the caller */
	pthread_t	*th;		/* nthreads - 1 workers */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_work;	/* gen moved or stop */
	pthread_cond_t	 cv_done;	/* pending reached 0 */

	/* The job: written by the caller before gen is bumped (release),
	 * read by workers after they see the new gen (acquire). */
	void		(*fn)(void *, size_t);
	void		*arg;
	size_t		 n;

	atomic_uint	 gen;		/* job generation */
	atomic_int	 pending;	/* workers still on this job */
	atomic_bool	 stop;
};

struct worker_arg {
	struct kern_pool *p;
	int		 t;		/* 1 .. nthreads-1; the caller is 0 */
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Thread t's contiguous share of [0, n). */
static void
chunk(size_t n, int nthreads, int t, size_t *lo, size_t *hi)
{
	size_t base = n / (size_t)nthreads, rem = n % (size_t)nthreads;
	size_t ut = (size_t)t;

	*lo = ut * base + (ut < rem ? ut : rem);
	*hi = *lo + base + (ut < rem ? 1 : 0);
}

static void
run_chunk(struct kern_pool *p, int t)
{
	size_t lo, hi;

	chunk(p->n, p->nthreads, t, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		p->fn(p->arg, i);
}

static void *
worker(void *v)
{
	struct worker_arg *wa = v;
	struct kern_pool *p = wa->p;
	int t = wa->t;
	unsigned seen = 0;

	free(wa);
	for (;;) {
		unsigned g = 0;

		for (int s = 0; s < KERN_SPIN; s++) {
			g = atomic_load_explicit(&p->gen, memory_order_acquire);
			if (g != seen || atomic_load(&p->stop))
				break;
			cpu_relax();
		}
		if (g == seen && !atomic_load(&p->stop)) {
			pthread_mutex_lock(&p->mu);
			while ((g = atomic_load(&p->gen)) == seen &&
			    !atomic_load(&p->stop))
				pthread_cond_wait(&p->cv_work, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->stop))
			break;
		seen = g;
		run_chunk(p, t);
		if (atomic_fetch_sub_explicit(&p->pending, 1,
		    memory_order_acq_rel) == 1) {
			/* under the lock, so the caller cannot miss it
			 * between its check and its wait */
			pthread_mutex_lock(&p->mu);
			pthread_cond_broadcast(&p->cv_done);
			pthread_mutex_unlock(&p->mu);
		}
	}
	return NULL;
}

struct kern_pool *
kern_pool_new(int nthreads)
{
	struct kern_pool *p;
	int started = 0;

	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > KERN_MAX_THREADS)
		nthreads = KERN_MAX_THREADS;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->nthreads = nthreads;
	atomic_init(&p->gen, 0);
	atomic_init(&p->pending, 0);
	atomic_init(&p->stop, false);
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&p->cv_work, NULL) != 0)
		goto fail_cv_work;
	if (pthread_cond_init(&p->cv_done, NULL) != 0)
		goto fail_cv_done;
	if (nthreads > 1 &&
	    (p->th = calloc((size_t)nthreads - 1, sizeof *p->th)) == NULL)
		goto fail_threads;
	for (; started < nthreads - 1; started++) {
		struct worker_arg *wa = malloc(sizeof *wa);

		if (wa == NULL)
			goto fail_threads;
		wa->p = p;
		wa->t = started + 1;
		if (pthread_create(&p->th[started], NULL, worker, wa) != 0) {
			free(wa);
			goto fail_threads;
		}
	}
	return p;

fail_threads:
	p->nthreads = started + 1;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < started; i++)
		pthread_join(p->th[i], NULL);
	free(p->th);
	pthread_cond_destroy(&p->cv_done);
fail_cv_done:
	pthread_cond_destroy(&p->cv_work);
fail_cv_work:
	pthread_mutex_destroy(&p->mu);
fail_mu:
	free(p);
	return NULL;
}

void
kern_pool_free(struct kern_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads - 1; i++)
		pthread_join(p->th[i], NULL);
	free(p->th);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int
kern_pool_threads(const struct kern_pool *p)
{
	return p != NULL ? p->nthreads : 1;
}

/*
 * One caller at a time per pool, and fn must not call kern_parallel on
 * the same pool (the workers are busy with the outer job).  A NULL pool
 * runs everything on the caller.
 */
void
kern_parallel(struct kern_pool *p, size_t n, void (*fn)(void *, size_t),
    void *arg)
{
	if (n == 0)
		return;
	if (p == NULL || p->nthreads == 1 || n == 1) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n = n;
	atomic_store_explicit(&p->pending, p->nthreads - 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);

	run_chunk(p, 0);

	for (int s = 0; s < KERN_SPIN; s++) {
		if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* ==== matmul ============================================================= */

/* Saturating, so an absurd size asks for SIZE_MAX instead of wrapping. */
static size_t
mul_sat(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

size_t
kern_scratch_bytes(size_t n, size_t nb)
{
	size_t blocks = mul_sat(n / QA_BLCK + (n % QA_BLCK != 0), nb);
	size_t q8 = mul_sat(blocks, sizeof(struct qa_block));
	size_t f32 = mul_sat(mul_sat(n, nb), sizeof(float));

	return q8 > f32 ? q8 : f32;
}

struct mm_job {
	const uint8_t	*W;
	size_t		 row_bytes;
	size_t		 nrows, n, nb;
	const float	*X;		/* nb x n floats (F32, F16, BF16) */
	const struct qa_block *A;	/* nb x n/32 blocks (quantized) */
	float		*Y;		/* nb x nrows */
	/* one of the two pairs is set */
	float	(*dotf)(const void *, const float *, size_t);
	void	(*dot4f)(const void *, const float *, size_t, size_t, float *);
	float	(*dotq)(const void *, const struct qa_block *, size_t);
	void	(*dot4q)(const void *, const struct qa_block *, size_t, size_t,
		    float *);
};

/* Weight row r against every activation row, KERN_TILE at a time where
 * the variant has a tiled kernel (same results, weights decoded once). */
static void
mm_row(void *arg, size_t r)
{
	const struct mm_job *j = arg;
	const uint8_t *w = j->W + r * j->row_bytes;
	size_t nblk = j->n / QA_BLCK, b = 0;
	float out[KERN_TILE];

	if (j->dotq != NULL) {
		for (; j->dot4q != NULL && b + KERN_TILE <= j->nb;
		    b += KERN_TILE) {
			j->dot4q(w, j->A + b * nblk, nblk, j->n, out);
			for (size_t t = 0; t < KERN_TILE; t++)
				j->Y[(b + t) * j->nrows + r] = out[t];
		}
		for (; b < j->nb; b++)
			j->Y[b * j->nrows + r] = j->dotq(w, j->A + b * nblk,
			    j->n);
	} else {
		for (; j->dot4f != NULL && b + KERN_TILE <= j->nb;
		    b += KERN_TILE) {
			j->dot4f(w, j->X + b * j->n, j->n, j->n, out);
			for (size_t t = 0; t < KERN_TILE; t++)
				j->Y[(b + t) * j->nrows + r] = out[t];
		}
		for (; b < j->nb; b++)
			j->Y[b * j->nrows + r] = j->dotf(w, j->X + b * j->n,
			    j->n);
	}
}

/*
 * The types and shapes are the loader's to validate; given a type we
 * cannot compute or a row length that is not a whole number of blocks,
 * every output is NaN so the mistake cannot pass for a result.
 */
void
kern_matmul(struct kern_pool *pool, uint32_t type, const void *W,
    size_t nrows, size_t n, const float *X, size_t nb, float *Y,
    void *scratch)
{
	const struct qtype_info *ti = quant_info(type);
	const struct kern_impl *k = impl();
	struct mm_job j = {
		.W = W, .nrows = nrows, .n = n, .nb = nb, .X = X, .Y = Y,
	};
	uint64_t rb;

	if (nrows == 0 || nb == 0)
		return;
	if (ti == NULL || !ti->supported ||
	    quant_row_bytes(type, n, &rb) != 0 || rb > SIZE_MAX) {
		for (size_t i = 0; i < nb * nrows; i++)
			Y[i] = __builtin_nanf("");
		return;
	}
	j.row_bytes = (size_t)rb;
	switch (type) {
	case QT_F32:
		/* the first table in the chain that has the kernel gives both
		 * the single and the tiled one (they must agree bitwise) */
		while (k->dot_f32 == NULL)
			k = k->fallback;
		j.dotf = k->dot_f32;
		j.dot4f = k->dot4_f32;
		break;
	case QT_F16:
		while (k->dot_f16 == NULL)
			k = k->fallback;
		j.dotf = k->dot_f16;
		j.dot4f = k->dot4_f16;
		break;
	case QT_BF16: {
		/* the runtime rounds activations to bf16 for bf16 weights */
		float *xr = scratch;

		for (size_t i = 0; i < nb * n; i++)
			xr[i] = quant_bf16_to_f32(quant_f32_to_bf16(X[i]));
		j.X = xr;
		while (k->dot_bf16 == NULL)
			k = k->fallback;
		j.dotf = k->dot_bf16;
		j.dot4f = k->dot4_bf16;
		break;
	}
	default: {
		struct qa_block *a = scratch;
		size_t nblk = n / QA_BLCK;

		/* every supported quantized type has blocks of 32 or 256 */
		for (size_t b = 0; b < nb; b++)
			quant_act_q8(X + b * n, a + b * nblk, n);
		j.A = a;
		while (k->dot_q8[type] == NULL)
			k = k->fallback;
		j.dotq = k->dot_q8[type];
		j.dot4q = k->dot4_q8[type];
		break;
	}
	}
	kern_parallel(pool, nrows, mm_row, &j);
}
