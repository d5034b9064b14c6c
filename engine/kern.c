/*
 * kern.c - the matmul driver, the thread pool, the scalar variant and
 * dispatch (attention, on the same pool and variants, is in att.c).
 *
 * kern_matmul prepares the activations once per call (f32 as is, rounded
 * to bf16, or quantized to 8-bit blocks into the caller's scratch) and
 * then spreads the weight rows over the pool.  A few activation rows
 * (decoding) take the dot kernels: every weight row is streamed once and
 * meets each activation row while it is in cache.  Many rows (prefill)
 * take the tile kernels: a thread decodes KERN_TR weight rows into 8-bit
 * integers in its own scratch and multiplies them with every tile of
 * KERN_TT tokens, so the work per weight byte grows with the batch and
 * the integer dot-product units, not memory, set the pace.
 *
 * The kernels come from one variant (struct kern_impl): the scalar one
 * here, which defers to quant.c for quantized types, or a SIMD one chosen
 * once from cpuid.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "att.h"
#include "kern.h"
#include "quant.h"

_Static_assert(KERN_NTYPES == QT_COUNT, "kern_impl table covers the types");
_Static_assert(sizeof(struct kern_ablk) == 32 * KERN_TT + 12 * KERN_TT,
    "activation tiles are packed");

/* More threads than this is a configuration error, not a bigger machine. */
#define KERN_MAX_THREADS	256
/*
 * How long a thread polls for the next job before it sleeps on a
 * condition variable.  Within one token the next matmul comes within
 * microseconds and a futex round trip costs more than that; between
 * tokens (sampling, the UI drawing) or when the model is idle, a pool
 * that kept spinning would eat a core the user wants.  50 us is long
 * enough to bridge the gaps inside a token and short enough that an idle
 * pool costs nothing measurable.
 */
#define KERN_SPIN_NS		50000
/* Polls between two looks at the clock. */
#define KERN_SPIN_CHECK		64
/* Spinning this long, a thread starts to yield its core (see spin_until). */
#define KERN_SPIN_YIELD_NS	5000
/* Batches of at least this many rows take the tile kernels (a tile has
 * room for KERN_TT; measured with Q4_K rows of 2048 on AVX-512 VNNI, the
 * tiles win from 6 rows, the dot kernels below). */
#define KERN_GEMM_MIN_NB	6
/* Bytes of weights per unit of decode work: its lanes must be long
 * streams, and threads should finish together.  Measured on 2 cores
 * (Qwen3-0.6B Q8_0 decode): 64 KiB units were 20 % slower than 256 KiB,
 * which were 5-10 % slower than 512 KiB-1 MiB; smaller units claimed at
 * the end of a matmul (guided scheduling) lost more in stream length than
 * they gained in balance. */
#define KERN_DECODE_UNIT	(512 * 1024)
/* Streams a thread reads side by side when decoding (see decode_rows);
 * 8 measured no faster than 4. */
#define KERN_LANES		4
/* Scratch alignment: a cache line, and what the widest loads like. */
#define KERN_ALIGN		64
/* Outputs per token in one unit of tile work: a cache line of floats. */
#define KERN_Y_LINE		(KERN_ALIGN / (int)sizeof(float))
_Static_assert(KERN_Y_LINE % KERN_TR == 0, "units are whole tiles");

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
SCALAR_Q8(Q2_K)
SCALAR_Q8(Q3_K)
SCALAR_Q8(IQ4_NL)
SCALAR_Q8(IQ4_XS)
SCALAR_Q8(MXFP4)

static void
cvt_f16_scalar(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;

	for (size_t i = 0; i < n; i++)
		dst[i] = quant_f16_to_f32((uint16_t)(p[2 * i] |
		    p[2 * i + 1] << 8));
}

static void
cvt_bf16_scalar(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;

	for (size_t i = 0; i < n; i++)
		dst[i] = quant_bf16_to_f32((uint16_t)(p[2 * i] |
		    p[2 * i + 1] << 8));
}

static void
silu_mul_scalar(float *g, const float *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static float
softmax_exp_scalar(float *x, size_t n, float max)
{
	float sum = 0.0f;

	for (size_t i = 0; i < n; i++) {
		x[i] = expf(x[i] - max);
		sum += x[i];
	}
	return sum;
}

static void
softmax_tile_scalar(float *s, size_t np, const int32_t *last, float scale,
    float *sum)
{
	for (size_t t = 0; t < KERN_TT; t++) {
		float mx = -INFINITY;

		for (size_t p = 0; p < np; p++) {
			float *x = &s[p * KERN_TT + t];

			*x = (int64_t)p > last[t] ? -INFINITY : *x * scale;
			if (*x > mx)
				mx = *x;
		}
		sum[t] = 0.0f;
		for (size_t p = 0; p < np; p++) {
			float *x = &s[p * KERN_TT + t];

			*x = (int64_t)p > last[t] ? 0.0f : expf(*x - mx);
			sum[t] += *x;
		}
	}
}

static double
sumsq_scalar(const float *x, size_t n)
{
	/* four partial sums: one chain of double additions would wait on
	 * the adder's latency for every element */
	double s4[4] = { 0, 0, 0, 0 };
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		for (int k = 0; k < 4; k++)
			s4[k] += (double)x[i + k] * x[i + k];
	for (; i < n; i++)
		s4[0] += (double)x[i] * x[i];
	return (s4[0] + s4[1]) + (s4[2] + s4[3]);
}

/* Each row is widened once, 64 values at a time, for all the vectors
 * (nx <= KERN_TILE): the conversion is the cost here, not the multiply. */
static void
dotn_f16_scalar(const uint16_t *w, size_t wstride, size_t nw, const float *x,
    size_t xstride, size_t nx, size_t n, float *out, size_t ostride)
{
	float wf[64];

	for (size_t r = 0; r < nw; r++) {
		float acc[KERN_TILE] = { 0 };

		for (size_t i0 = 0; i0 < n; i0 += 64) {
			size_t m = n - i0 < 64 ? n - i0 : 64;

			for (size_t i = 0; i < m; i++)
				wf[i] = quant_f16_to_f32(w[r * wstride + i0 +
				    i]);
			for (size_t g = 0; g < nx; g++)
				for (size_t i = 0; i < m; i++)
					acc[g] += wf[i] * x[g * xstride + i0 +
					    i];
		}
		for (size_t g = 0; g < nx; g++)
			out[g * ostride + r] = acc[g];
	}
}

static void
cvt_to_f16_scalar(const float *src, uint16_t *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = quant_f32_to_f16(src[i]);
}

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
		[QT_Q2_K] = dot_q8_scalar_Q2_K,
		[QT_Q3_K] = dot_q8_scalar_Q3_K,
		[QT_IQ4_NL] = dot_q8_scalar_IQ4_NL,
		[QT_IQ4_XS] = dot_q8_scalar_IQ4_XS,
		[QT_MXFP4] = dot_q8_scalar_MXFP4,
	},
	.act_q8 = quant_act_q8,
	.cvt_f16 = cvt_f16_scalar,
	.cvt_bf16 = cvt_bf16_scalar,
	.silu_mul = silu_mul_scalar,
	.softmax_exp = softmax_exp_scalar,
	.softmax_tile = softmax_tile_scalar,
	.cvt_to_f16 = cvt_to_f16_scalar,
	.dotn_f16 = dotn_f16_scalar,
	.sumsq = sumsq_scalar,
};

/* ==== dispatch =========================================================== */

/* Best first. */
static const struct {
	const char		*name;
	const struct kern_impl	*impl;
} variants[] = {
	{ "avx512-vnni",	&kern_impl_avx512_vnni },
	{ "avx512",		&kern_impl_avx512 },
	{ "avx2-vnni",		&kern_impl_avx2_vnni },
	{ "avx2",		&kern_impl_avx2 },
	{ "scalar",		&kern_impl_scalar },
};
#define NVARIANTS	(sizeof variants / sizeof variants[0])

static _Atomic(const struct kern_impl *) current;
static pthread_once_t pick_once = PTHREAD_ONCE_INIT;
static atomic_int batch_mode;

#if defined(__x86_64__) || defined(__i386__)
/* What the CPU and the OS (XSAVE state) let us run. */
struct cpu {
	bool	 avx2, avx512, avx_vnni, avx512_vnni;
};


static void
cpu_probe(struct cpu *c)
{
	unsigned int a = 0, b = 0, cx = 0, d = 0;
	bool f16c;

	memset(c, 0, sizeof *c);
	__builtin_cpu_init();
	/* F16C from cpuid leaf 1: clang's __builtin_cpu_supports lacks it */
	f16c = __get_cpuid(1, &a, &b, &cx, &d) && (cx & bit_F16C);
	c->avx2 = __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma") && f16c;
	c->avx512 = c->avx2 && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl");
	/* leaf 7: ECX bit 11 AVX512_VNNI; subleaf 1: EAX bit 4 AVX_VNNI
	 * (the compiler builtins of older GCCs know neither) */
	if (__get_cpuid_count(7, 0, &a, &b, &cx, &d))
		c->avx512_vnni = c->avx512 && (cx & (1u << 11));
	if (__get_cpuid_count(7, 1, &a, &b, &cx, &d))
		c->avx_vnni = c->avx2 && (a & (1u << 4));
}
#endif

int
kern_variant_ok(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "scalar") == 0)
		return 1;
#if defined(__x86_64__) || defined(__i386__)
	struct cpu c;

	cpu_probe(&c);
	if (strcmp(name, "avx2") == 0)
		return c.avx2;
	if (strcmp(name, "avx2-vnni") == 0)
		return c.avx_vnni;
	if (strcmp(name, "avx512") == 0)
		return c.avx512;
	if (strcmp(name, "avx512-vnni") == 0)
		return c.avx512_vnni;
#endif
	return 0;
}

const struct kern_impl *
kern_variant_impl(const char *name)
{
	if (name == NULL)
		return NULL;
	/* "vnni": the best variant with integer dot-product instructions */
	if (strcmp(name, "vnni") == 0)
		return kern_variant_impl("avx512-vnni") != NULL ?
		    kern_variant_impl("avx512-vnni") :
		    kern_variant_impl("avx2-vnni");
	for (size_t i = 0; i < NVARIANTS; i++)
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
		k = kern_variant_impl(env);
	for (size_t i = 0; k == NULL && i < NVARIANTS; i++)
		k = kern_variant_impl(variants[i].name);
	atomic_store(&current, k);
}

static const struct kern_impl *
impl(void)
{
	pthread_once(&pick_once, pick);
	return atomic_load_explicit(&current, memory_order_relaxed);
}

const struct kern_impl *
kern_impl_current(void)
{
	return impl();
}

int
kern_batch_mode(void)
{
	return atomic_load_explicit(&batch_mode, memory_order_relaxed);
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
	if ((k = kern_variant_impl(name)) == NULL)
		return -1;
	atomic_store(&current, k);
	return 0;
}

void
kern_set_batch_mode(int mode)
{
	atomic_store(&batch_mode, mode);
}

const struct kern_impl *
kern_impl_for(const struct kern_impl *k, uint32_t type)
{
	for (; k != NULL; k = k->fallback) {
		switch (type) {
		case QT_F32:
			if (k->dot_f32 != NULL)
				return k;
			break;
		case QT_F16:
			if (k->dot_f16 != NULL)
				return k;
			break;
		case QT_BF16:
			if (k->dot_bf16 != NULL)
				return k;
			break;
		default:
			if (type < KERN_NTYPES && k->dot_q8[type] != NULL)
				return k;
			break;
		}
	}
	return NULL;
}

/* The first table in k's chain that has member `m`. */
#define FIND(k, m) ({							\
	const struct kern_impl *k_ = (k);				\
	while (k_ != NULL && k_->m == NULL)				\
		k_ = k_->fallback;					\
	k_ != NULL ? k_->m : kern_impl_scalar.m;			\
})

/* ==== thread pool ======================================================== */

struct kern_pool {
	int		 nthreads;	/* including the caller */
	pthread_t	*th;		/* nthreads - 1 workers */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_work;	/* gen moved or stop */
	pthread_cond_t	 cv_done;	/* pending reached 0 */

	/* The job: written by the caller before gen is bumped (release),
	 * read by workers after they see the new gen (acquire). */
	void		(*fn)(void *, int, int);
	void		*arg;

	atomic_uint	 gen;		/* job generation */
	atomic_int	 pending;	/* workers still on this job */
	atomic_bool	 stop;
	int		 sleepers;	/* workers in cv_work (under mu) */

	void		**tbuf;		/* per-thread scratch */
	size_t		 tbytes;
};

struct worker_arg {
	struct kern_pool *p;
	int		 t;	/* 1 .. nthreads-1; the caller is 0 */
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Poll until done(p) or KERN_SPIN_NS pass; true if done.  The clock is
 * read every KERN_SPIN_CHECK polls only, since a pause costs from 10 to
 * 150 cycles depending on the CPU.  Past KERN_SPIN_YIELD_NS each look at
 * the clock also yields the core: if another thread is waiting for it
 * (the UI, or a pool thread the OS preempted, which everyone is waiting
 * for), it runs now rather than at the end of our time slice.
 */
static bool
spin_until(struct kern_pool *p, bool (*done)(struct kern_pool *, unsigned),
    unsigned arg)
{
	uint64_t t0 = 0;

	for (unsigned i = 0;; i++) {
		if (done(p, arg))
			return true;
		if (i % KERN_SPIN_CHECK == 0) {
			uint64_t t = now_ns();

			if (t0 == 0)
				t0 = t;
			else if (t - t0 > KERN_SPIN_NS)
				return false;
			else if (t - t0 > KERN_SPIN_YIELD_NS)
				sched_yield();
		}
		cpu_relax();
	}
}

static bool
new_job(struct kern_pool *p, unsigned seen)
{
	return atomic_load_explicit(&p->gen, memory_order_acquire) != seen ||
	    atomic_load_explicit(&p->stop, memory_order_relaxed);
}

static bool
job_done(struct kern_pool *p, unsigned unused)
{
	(void)unused;
	return atomic_load_explicit(&p->pending, memory_order_acquire) == 0;
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
		if (!spin_until(p, new_job, seen)) {
			pthread_mutex_lock(&p->mu);
			p->sleepers++;
			while (!new_job(p, seen))
				pthread_cond_wait(&p->cv_work, &p->mu);
			p->sleepers--;
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->stop))
			break;
		seen = atomic_load_explicit(&p->gen, memory_order_acquire);
		p->fn(p->arg, t, p->nthreads);
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

static void
pool_stop(struct kern_pool *p, int started)
{
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < started; i++)
		pthread_join(p->th[i], NULL);
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
	if ((p->tbuf = calloc((size_t)nthreads, sizeof *p->tbuf)) == NULL)
		goto fail_mu;
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
	pool_stop(p, started);
	free(p->th);
	pthread_cond_destroy(&p->cv_done);
fail_cv_done:
	pthread_cond_destroy(&p->cv_work);
fail_cv_work:
	pthread_mutex_destroy(&p->mu);
fail_mu:
	free(p->tbuf);
	free(p);
	return NULL;
}

void
kern_pool_free(struct kern_pool *p)
{
	if (p == NULL)
		return;
	pool_stop(p, p->nthreads - 1);
	for (int i = 0; i < p->nthreads; i++)
		free(p->tbuf[i]);
	free(p->tbuf);
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

size_t
kern_pool_scratch(const struct kern_pool *p)
{
	return p != NULL ? p->tbytes : 0;
}

void *
kern_pool_tbuf(const struct kern_pool *p, int t)
{
	return p != NULL && p->tbuf != NULL ? p->tbuf[t] : NULL;
}

int
kern_pool_reserve(struct kern_pool *p, size_t bytes)
{
	void **nb;

	if (p == NULL || bytes <= p->tbytes)
		return 0;
	bytes = (bytes + KERN_ALIGN - 1) / KERN_ALIGN * KERN_ALIGN;
	if ((nb = calloc((size_t)p->nthreads, sizeof *nb)) == NULL)
		return -1;
	for (int i = 0; i < p->nthreads; i++) {
		if ((nb[i] = aligned_alloc(KERN_ALIGN, bytes)) == NULL) {
			for (int j = 0; j < i; j++)
				free(nb[j]);
			free(nb);
			return -1;
		}
	}
	for (int i = 0; i < p->nthreads; i++)
		free(p->tbuf[i]);
	free(p->tbuf);
	p->tbuf = nb;
	p->tbytes = bytes;
	return 0;
}

/*
 * Run fn(arg, t, nthreads) once on each thread t of the pool (the caller
 * is t = 0) and return when all are done.  One caller at a time per pool,
 * and fn must not use the same pool.  A NULL pool runs fn(arg, 0, 1).
 */
static void
kern_run(struct kern_pool *p, void (*fn)(void *, int, int), void *arg)
{
	if (p == NULL || p->nthreads == 1) {
		fn(arg, 0, 1);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	atomic_store_explicit(&p->pending, p->nthreads - 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	/* spinning workers see gen move; only sleepers need the futex */
	if (p->sleepers > 0)
		pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);

	fn(arg, 0, p->nthreads);

	if (spin_until(p, job_done, 0))
		return;
	pthread_mutex_lock(&p->mu);
	while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void
kern_pool_run(struct kern_pool *p, void (*fn)(void *, int, int), void *arg)
{
	kern_run(p, fn, arg);
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

struct par_job {
	void		(*fn)(void *, size_t);
	void		*arg;
	size_t		 n;
};

static void
par_run(void *v, int t, int nt)
{
	const struct par_job *j = v;
	size_t lo, hi;

	chunk(j->n, nt, t, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		j->fn(j->arg, i);
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
	struct par_job j = { fn, arg, n };

	if (n == 0)
		return;
	if (p == NULL || p->nthreads == 1 || n == 1) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	kern_run(p, par_run, &j);
}

/* ==== scratch sizes ======================================================= */

/* Saturating, so an absurd size asks for SIZE_MAX instead of wrapping. */
static size_t
mul_sat(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

static size_t
add_sat(size_t a, size_t b)
{
	return a + b < a ? SIZE_MAX : a + b;
}

static size_t
max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

static size_t
ceil_div(size_t a, size_t b)
{
	return a / b + (a % b != 0);
}

/*
 * The caller's scratch holds one of: quantized rows (decode kernels),
 * quantized tiles (tile kernels), f32 rows rounded to bf16, or f32 tiles.
 * One call never needs two at once (see matmul_class).
 */
size_t
kern_scratch_bytes(size_t n, size_t nb)
{
	size_t nblk = ceil_div(n, QA_BLCK), ntile = ceil_div(nb, KERN_TT);
	size_t q8 = mul_sat(mul_sat(nblk, nb), sizeof(struct qa_block));
	size_t q8t = mul_sat(mul_sat(nblk, ntile), sizeof(struct kern_ablk));
	size_t f32 = mul_sat(mul_sat(n, nb), sizeof(float));
	size_t f32t = mul_sat(mul_sat(n, mul_sat(ntile, KERN_TT)),
	    sizeof(float));

	return add_sat(max_sz(max_sz(q8, q8t), max_sz(f32, f32t)),
	    KERN_ALIGN);
}

/* A weight tile of KERN_TR rows of n elements, carved from t's scratch. */
static size_t
wtile_bytes(size_t n)
{
	size_t nblk = ceil_div(n, QA_BLCK);
	size_t q = mul_sat(mul_sat(nblk, KERN_TR), 32 + 3 * sizeof(float));
	size_t f = mul_sat(mul_sat(n, KERN_TR), sizeof(float));

	return add_sat(max_sz(q, f), 2 * KERN_ALIGN);
}

size_t
kern_thread_bytes(size_t n, size_t n_ctx, size_t hd)
{
	return max_sz(wtile_bytes(n), att_thread_bytes(n_ctx, hd));
}

static void *
align_up(void *p)
{
	uintptr_t u = (uintptr_t)p;

	return (void *)((u + KERN_ALIGN - 1) / KERN_ALIGN * KERN_ALIGN);
}

/* ==== matmul ============================================================= */

static bool
is_float_type(uint32_t t)
{
	return t == QT_F32 || t == QT_F16 || t == QT_BF16;
}

/* The activations as one call prepares them for all its weights. */
struct mm_act {
	size_t		 n, nb, nblk;
	const float	*X;		/* nb x n, as given */
	const float	*Xr;		/* nb x n, for float dot kernels */
	const struct qa_block *A;	/* nb x nblk (quantized, dot) */
	const struct kern_ablk *T;	/* ntile x nblk (quantized, tiles) */
	const float	*F;		/* ntile x n x KERN_TT (float) */
};

/* One weight's kernels and geometry. */
struct mm_mat {
	const uint8_t	*W;
	size_t		 row_bytes, nrows;
	float		*Y;
	uint32_t	 type;
	float	(*dotf)(const void *, const float *, size_t);
	void	(*dot4f)(const void *, const float *, size_t, size_t,
		    float *);
	float	(*dotq)(const void *, const struct qa_block *, size_t);
	void	(*dot4q)(const void *, const struct qa_block *, size_t,
		    size_t, float *);
	void	(*dotw4q)(const void *, size_t, const struct qa_block *,
		    size_t, float *);
	void	(*decode)(const void *, size_t, struct kern_wtile *, int);
	void	(*cvt)(const void *, float *, size_t);	/* f16, bf16 */
	size_t		 unit_rows;	/* rows per unit of work */
	size_t		 first_unit;	/* in the job's numbering */
};

#define MM_MAX_MATS	8

struct mm_job {
	const struct kern_impl *k;
	/* the tile kernels, from k's chain */
	void	(*gemm_q8)(const struct kern_wtile *,
		    const struct kern_ablk *, float *, int);
	void	(*gemm_f32)(const float *, size_t, const float *, float *,
		    int);
	struct mm_act	 a;
	struct mm_mat	 m[MM_MAX_MATS];
	size_t		 nm, nunits;
	bool		 tiles;
	struct kern_pool *pool;
	atomic_size_t	 next;		/* next unit to claim */
};

/* Weight row r against every activation row, KERN_TILE at a time where
 * the variant has a tiled kernel (same results, weights decoded once). */
static void
dot_row(const struct mm_job *j, const struct mm_mat *m, size_t r)
{
	const uint8_t *w = m->W + r * m->row_bytes;
	size_t n = j->a.n, nb = j->a.nb, nblk = j->a.nblk, b = 0;
	float out[KERN_TILE];

	if (m->dotq != NULL) {
		for (; m->dot4q != NULL && b + KERN_TILE <= nb;
		    b += KERN_TILE) {
			m->dot4q(w, j->a.A + b * nblk, nblk, n, out);
			for (size_t t = 0; t < KERN_TILE; t++)
				m->Y[(b + t) * m->nrows + r] = out[t];
		}
		for (; b < nb; b++)
			m->Y[b * m->nrows + r] = m->dotq(w, j->a.A + b * nblk,
			    n);
	} else {
		const float *X = m->type == QT_BF16 ? j->a.Xr : j->a.X;

		for (; m->dot4f != NULL && b + KERN_TILE <= nb;
		    b += KERN_TILE) {
			m->dot4f(w, X + b * n, n, n, out);
			for (size_t t = 0; t < KERN_TILE; t++)
				m->Y[(b + t) * m->nrows + r] = out[t];
		}
		for (; b < nb; b++)
			m->Y[b * m->nrows + r] = m->dotf(w, X + b * n, n);
	}
}

/* A tile's outputs (token-major) into Y: tokens [t0, t0 + tn), rows
 * [r0, r0 + nr); a whole tile's rows are a constant-size copy. */
static void
store_rows(const struct mm_mat *m, float out[KERN_TT][KERN_TR], size_t t0,
    size_t tn, size_t r0, size_t nr)
{
	for (size_t tt = 0; tt < tn; tt++) {
		float *y = m->Y + (t0 + tt) * m->nrows + r0;

		if (nr == KERN_TR)
			memcpy(y, out[tt], KERN_TR * sizeof(float));
		else
			memcpy(y, out[tt], nr * sizeof(float));
	}
}

/*
 * Ask for the next tile's weights while this tile is multiplied: decoding
 * a tile is a burst of reads from memory too short for the hardware
 * prefetchers to get ahead of, and the multiplications that follow take
 * far longer than fetching the next KERN_TR rows.
 */
static void
prefetch_rows(const struct mm_mat *m, size_t r)
{
	size_t end = r + KERN_TR < m->nrows ? r + KERN_TR : m->nrows;
	const char *p = (const char *)m->W + r * m->row_bytes;
	const char *e = (const char *)m->W + end * m->row_bytes;

	for (; p < e; p += KERN_ALIGN)
		__builtin_prefetch(p, 0, 2);
}

/* Rows [r0, r0 + nr) of m against every token tile (tile kernels). */
static void
tile_rows(const struct mm_job *j, const struct mm_mat *m, size_t r0,
    size_t nr, void *buf)
{
	size_t n = j->a.n, nb = j->a.nb, nblk = j->a.nblk;
	size_t ntile = ceil_div(nb, KERN_TT);
	float out[KERN_TT][KERN_TR];	/* token-major, as Y */

	if (m->decode != NULL) {
		struct kern_wtile t;
		uint8_t *p = align_up(buf);

		t.u = p;
		t.fs = align_up(p + KERN_TR * nblk * 32);
		t.fm = t.fs + KERN_TR * nblk * 2;
		t.nblk = nblk;
		for (size_t r = 0; r < KERN_TR; r++) {
			if (r < nr)
				m->decode(m->W + (r0 + r) * m->row_bytes, nblk,
				    &t, (int)r);
			else	/* a zero row: its outputs are not stored */
				memset(t.u + r * nblk * 32, 0, nblk * 32);
		}
		if (nr < KERN_TR) {
			memset(t.fs + nr * nblk * 2, 0,
			    (KERN_TR - nr) * nblk * 2 * sizeof(float));
			memset(t.fm + nr * nblk, 0,
			    (KERN_TR - nr) * nblk * sizeof(float));
		}
		prefetch_rows(m, r0 + nr);
		for (size_t i = 0; i < ntile; i++) {
			size_t tn = nb - i * KERN_TT < KERN_TT ?
			    nb - i * KERN_TT : KERN_TT;

			j->gemm_q8(&t, j->a.T + i * nblk, out[0], 1);
			store_rows(m, out, i * KERN_TT, tn, r0, nr);
		}
	} else {
		float *w = align_up(buf);

		for (size_t r = 0; r < KERN_TR; r++) {
			const uint8_t *src = m->W + (r0 + r) * m->row_bytes;

			if (r >= nr)
				memset(w + r * n, 0, n * sizeof *w);
			else if (m->type == QT_F32)
				memcpy(w + r * n, src, n * sizeof *w);
			else
				m->cvt(src, w + r * n, n);
		}
		for (size_t i = 0; i < ntile; i++) {
			size_t tn = nb - i * KERN_TT < KERN_TT ?
			    nb - i * KERN_TT : KERN_TT;

			j->gemm_f32(w, n, j->a.F + i * n * KERN_TT, out[0], 1);
			store_rows(m, out, i * KERN_TT, tn, r0, nr);
		}
	}
}

/*
 * Rows [r0, r0 + nr) against the few activation rows of a decode step.
 * The rows go as KERN_LANES lanes of L rows each, one row of every lane
 * at a time: a core reading one sequential stream gets about 10 GB/s
 * here however it is prefetched, and reading four streams at once it
 * gets about 13-14 (measured on a 2-core Sapphire Rapids: 20 GB/s with
 * both cores on one stream each, 26-27 on four each).  The results do
 * not depend on the order: every row is its own dot product.
 */
static void
decode_rows(const struct mm_job *j, const struct mm_mat *m, size_t r0,
    size_t nr)
{
	size_t L = nr / KERN_LANES, r;
	float out[KERN_TILE];

	/* the kernels prefetch KERN_PREFETCH ahead of where they read:
	 * start every lane's stream before the first read waits on it */
	for (size_t g = 0; g < KERN_LANES && L > 0; g++)
		kern_prefetch((const char *)m->W + (r0 + g * L) * m->row_bytes -
		    KERN_PREFETCH, KERN_PREFETCH < L * m->row_bytes ?
		    KERN_PREFETCH : L * m->row_bytes);

	for (size_t i = 0; i < L; i++) {
		for (size_t g = 0; g < KERN_LANES; g += KERN_TILE) {
			r = r0 + g * L + i;
			if (m->dotw4q != NULL && j->a.nb == 1) {
				/* one token: four weight rows share its loads */
				m->dotw4q(m->W + r * m->row_bytes,
				    L * m->row_bytes, j->a.A, j->a.n, out);
				for (size_t k = 0; k < KERN_TILE; k++)
					m->Y[r + k * L] = out[k];
			} else {
				for (size_t k = 0; k < KERN_TILE; k++)
					dot_row(j, m, r + k * L);
			}
		}
	}
	for (r = r0 + L * KERN_LANES; r < r0 + nr; r++)
		dot_row(j, m, r);
}

/* The unit u of the job: which weight and which rows. */
static const struct mm_mat *
unit_of(const struct mm_job *j, size_t u, size_t *r0, size_t *nr)
{
	size_t i = j->nm - 1;

	while (i > 0 && j->m[i].first_unit > u)
		i--;
	*r0 = (u - j->m[i].first_unit) * j->m[i].unit_rows;
	*nr = j->m[i].nrows - *r0 < j->m[i].unit_rows ?
	    j->m[i].nrows - *r0 : j->m[i].unit_rows;
	return &j->m[i];
}

/* Units are claimed one at a time, so a thread the OS preempts for a
 * while delays the others by one unit at most. */
static void
mm_run(void *v, int t, int nt)
{
	struct mm_job *j = v;
	void *buf = j->tiles ? j->pool->tbuf[t] : NULL;
	size_t u;

	(void)nt;
	while ((u = atomic_fetch_add_explicit(&j->next, 1,
	    memory_order_relaxed)) < j->nunits) {
		size_t r0, nr;
		const struct mm_mat *m = unit_of(j, u, &r0, &nr);

		if (j->tiles) {
			for (size_t r = 0; r < nr; r += KERN_TR)
				tile_rows(j, m, r0 + r, nr - r < KERN_TR ?
				    nr - r : KERN_TR, buf);
		} else {
			decode_rows(j, m, r0, nr);
		}
	}
}

/* ---- activation preparation ---------------------------------------------- */

/* What a weight asks of the activations. */
enum mm_class { CLS_Q8, CLS_F32, CLS_BF16, CLS_NONE };

static enum mm_class
class_of(uint32_t type)
{
	const struct qtype_info *ti = quant_info(type);

	if (ti == NULL || !ti->supported)
		return CLS_NONE;
	return type == QT_BF16 ? CLS_BF16 : is_float_type(type) ? CLS_F32 :
	    CLS_Q8;
}

static float
round_bf16(float x)
{
	return quant_bf16_to_f32(quant_f32_to_bf16(x));
}

/* Token b's 8-bit blocks into slot `slot` of its tile. */
static void
interleave_q8(struct kern_ablk *tile, const struct qa_block *a, size_t nblk,
    size_t slot)
{
	for (size_t k = 0; k < nblk; k++) {
		struct kern_ablk *t = tile + k;
		int32_t s0 = 0;

		for (int g = 0; g < 8; g++)
			memcpy(t->q[g][slot], a[k].q + 4 * g, 4);
		for (int i = 0; i < 16; i++)
			s0 += a[k].q[i];
		t->d[slot] = a[k].d;
		t->sum0[slot] = s0;
		t->sum1[slot] = a[k].sum - s0;
	}
}

struct prep_job {
	void		(*act_q8)(const float *, struct qa_block *, size_t);
	enum mm_class	 cls;
	bool		 tiles;
	const float	*X;
	size_t		 n, nb, nblk;
	struct qa_block	*A;		/* dot rows (Q8) */
	float		*Xr;		/* dot rows (BF16) */
	struct kern_ablk *T;		/* tiles (Q8) */
	float		*F;		/* tiles (F32, BF16) */
	void		**tbuf;		/* per-thread staging (Q8 tiles) */
	atomic_size_t	 next;
	size_t		 nunits;	/* tiles, or rows */
};

static void
prep_tile(struct prep_job *j, size_t i, void *buf)
{
	size_t b0 = i * KERN_TT, n = j->n, nblk = j->nblk;
	size_t tn = j->nb - b0 < KERN_TT ? j->nb - b0 : KERN_TT;

	if (j->cls == CLS_Q8) {
		struct kern_ablk *tile = j->T + i * nblk;
		struct qa_block *a = align_up(buf);

		if (tn < KERN_TT)	/* empty slots compute zeros */
			memset(tile, 0, nblk * sizeof *tile);
		for (size_t s = 0; s < tn; s++) {
			j->act_q8(j->X + (b0 + s) * n, a, n);
			interleave_q8(tile, a, nblk, s);
		}
		return;
	}
	float *f = j->F + i * n * KERN_TT;

	for (size_t kk = 0; kk < n; kk++) {
		for (size_t s = 0; s < KERN_TT; s++) {
			float x = s < tn ? j->X[(b0 + s) * n + kk] : 0.0f;

			f[kk * KERN_TT + s] = j->cls == CLS_BF16 ?
			    round_bf16(x) : x;
		}
	}
}

static void
prep_row(struct prep_job *j, size_t b)
{
	const float *x = j->X + b * j->n;

	if (j->cls == CLS_Q8) {
		j->act_q8(x, j->A + b * j->nblk, j->n);
	} else if (j->cls == CLS_BF16) {
		for (size_t i = 0; i < j->n; i++)
			j->Xr[b * j->n + i] = round_bf16(x[i]);
	}
}

static void
prep_run(void *v, int t, int nt)
{
	struct prep_job *j = v;
	size_t u;

	(void)nt;
	while ((u = atomic_fetch_add_explicit(&j->next, 1,
	    memory_order_relaxed)) < j->nunits) {
		if (j->tiles)
			prep_tile(j, u, j->tbuf[t]);
		else
			prep_row(j, u);
	}
}

/* ---- the drivers -------------------------------------------------------- */

static void
fill_nan(float *Y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		Y[i] = __builtin_nanf("");
}

/* Can the tile kernels run this class with this pool? */
static bool
use_tiles(const struct kern_impl *k, struct kern_pool *pool,
    enum mm_class cls, const struct kern_mat *mats, size_t nm, size_t n,
    size_t nb)
{
	int mode = atomic_load_explicit(&batch_mode, memory_order_relaxed);

	if (mode == 1 || (mode == 0 && nb < KERN_GEMM_MIN_NB))
		return false;
	if (pool == NULL || pool->tbytes < wtile_bytes(n))
		return false;
	if (cls != CLS_Q8)
		return FIND(k, gemm_f32) != NULL;
	if (FIND(k, gemm_q8) == NULL)
		return false;
	for (size_t i = 0; i < nm; i++)
		if (FIND(k, decode[mats[i].type]) == NULL)
			return false;
	return true;
}

/* Up to MM_MAX_MATS weights of one class against X. */
static void
mm_class(struct kern_pool *pool, enum mm_class cls,
    const struct kern_mat *mats, size_t nm, size_t n, const float *X,
    size_t nb, void *scratch)
{
	const struct kern_impl *k = impl();
	struct mm_job j;
	struct prep_job pj;
	void *sc = align_up(scratch);

	memset(&j, 0, sizeof j);
	memset(&pj, 0, sizeof pj);
	j.k = k;
	j.gemm_q8 = FIND(k, gemm_q8);
	j.gemm_f32 = FIND(k, gemm_f32);
	j.pool = pool;
	j.tiles = use_tiles(k, pool, cls, mats, nm, n, nb);
	j.a.n = n;
	j.a.nb = nb;
	j.a.nblk = n / QA_BLCK;
	j.a.X = X;
	j.a.Xr = X;

	/* activations, once for every weight of the call */
	pj.act_q8 = FIND(k, act_q8);
	pj.cls = cls;
	pj.tiles = j.tiles;
	pj.X = X;
	pj.n = n;
	pj.nb = nb;
	pj.nblk = j.a.nblk;
	pj.tbuf = pool != NULL ? pool->tbuf : NULL;
	atomic_init(&pj.next, 0);
	if (j.tiles) {
		pj.nunits = ceil_div(nb, KERN_TT);
		if (cls == CLS_Q8)
			j.a.T = pj.T = sc;
		else
			j.a.F = pj.F = sc;
	} else {
		pj.nunits = cls == CLS_F32 ? 0 : nb;
		if (cls == CLS_Q8)
			j.a.A = pj.A = sc;
		else if (cls == CLS_BF16)
			j.a.Xr = pj.Xr = sc;
	}
	if (pj.nunits > 1 && (j.tiles || nb >= KERN_GEMM_MIN_NB))
		kern_run(pool, prep_run, &pj);
	else
		prep_run(&pj, 0, 1);

	/* the weights, in units of rows */
	for (size_t i = 0; i < nm; i++) {
		struct mm_mat *m = &j.m[j.nm++];
		const struct kern_impl *kt = kern_impl_for(k, mats[i].type);
		uint64_t rb;

		(void)quant_row_bytes(mats[i].type, n, &rb);
		m->W = mats[i].W;
		m->row_bytes = (size_t)rb;
		m->nrows = mats[i].nrows;
		m->Y = mats[i].Y;
		m->type = mats[i].type;
		switch (m->type) {
		case QT_F32:
			m->dotf = kt->dot_f32;
			m->dot4f = kt->dot4_f32;
			break;
		case QT_F16:
			m->dotf = kt->dot_f16;
			m->dot4f = kt->dot4_f16;
			m->cvt = FIND(k, cvt_f16);
			break;
		case QT_BF16:
			m->dotf = kt->dot_bf16;
			m->dot4f = kt->dot4_bf16;
			m->cvt = FIND(k, cvt_bf16);
			break;
		default:
			m->dotq = kt->dot_q8[m->type];
			m->dot4q = kt->dot4_q8[m->type];
			m->dotw4q = kt->dotw4_q8[m->type];
			if (j.tiles)
				m->decode = FIND(k, decode[m->type]);
			break;
		}
		if (j.tiles) {
			/* 16 rows: each token's outputs of a unit fill a
			 * whole cache line of Y, which two threads writing
			 * halves of would pass back and forth */
			m->unit_rows = KERN_Y_LINE;
		} else {
			/* whole groups of KERN_TILE rows, for dotw4 */
			m->unit_rows = KERN_DECODE_UNIT / (m->row_bytes + 1) /
			    KERN_TILE * KERN_TILE;
			if (m->unit_rows < KERN_TILE)
				m->unit_rows = KERN_TILE;
		}
		m->first_unit = j.nunits;
		j.nunits += ceil_div(m->nrows, m->unit_rows);
	}
	atomic_init(&j.next, 0);
	if (j.nunits > 1)
		kern_run(pool, mm_run, &j);
	else
		mm_run(&j, 0, 1);
}

/*
 * The types and shapes are the loader's to validate; given a type we
 * cannot compute or a row length that is not a whole number of blocks,
 * every output is NaN so the mistake cannot pass for a result.
 */
void
kern_matmul_n(struct kern_pool *pool, const struct kern_mat *mats,
    size_t nmats, size_t n, const float *X, size_t nb, void *scratch)
{
	if (nb == 0)
		return;
	for (int c = CLS_Q8; c < CLS_NONE; c++) {
		struct kern_mat group[MM_MAX_MATS];
		size_t ng = 0;

		for (size_t i = 0; i <= nmats; i++) {
			if (i < nmats && mats[i].nrows > 0 &&
			    class_of(mats[i].type) == (enum mm_class)c) {
				uint64_t rb;

				if (quant_row_bytes(mats[i].type, n,
				    &rb) != 0 || rb > SIZE_MAX ||
				    (c == CLS_Q8 && n % QA_BLCK != 0))
					fill_nan(mats[i].Y, nb * mats[i].nrows);
				else
					group[ng++] = mats[i];
			}
			if (ng > 0 && (ng == MM_MAX_MATS || i == nmats)) {
				mm_class(pool, (enum mm_class)c, group, ng, n,
				    X, nb, scratch);
				ng = 0;
			}
		}
	}
	for (size_t i = 0; i < nmats; i++)
		if (mats[i].nrows > 0 && class_of(mats[i].type) == CLS_NONE)
			fill_nan(mats[i].Y, nb * mats[i].nrows);
}

void
kern_matmul(struct kern_pool *pool, uint32_t type, const void *W,
    size_t nrows, size_t n, const float *X, size_t nb, float *Y,
    void *scratch)
{
	struct kern_mat m = { type, W, nrows, Y };

	kern_matmul_n(pool, &m, 1, n, X, nb, scratch);
}

/* ==== feed-forward activation ============================================= */

struct silu_job {
	void		(*fn)(float *, const float *, size_t);
	float		*g;
	const float	*u;
	size_t		 n;
};

#define SILU_CHUNK	4096

static void
silu_part(void *v, size_t i)
{
	const struct silu_job *j = v;
	size_t lo = i * SILU_CHUNK;
	size_t len = j->n - lo < SILU_CHUNK ? j->n - lo : SILU_CHUNK;

	j->fn(j->g + lo, j->u + lo, len);
}

void
kern_silu_mul(struct kern_pool *pool, float *g, const float *u, size_t n)
{
	struct silu_job j = { FIND(impl(), silu_mul), g, u, n };

	kern_parallel(pool, ceil_div(n, SILU_CHUNK), silu_part, &j);
}

double
kern_sumsq(const float *x, size_t n)
{
	return FIND(impl(), sumsq)(x, n);
}

void
kern_f32_to_f16(const float *src, uint16_t *dst, size_t n)
{
	FIND(impl(), cvt_to_f16)(src, dst, n);
}
