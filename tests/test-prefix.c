/*
 * test-prefix.c - KV prefix reuse (eng_session_keep_prefix): a follow-up
 * that keeps the longest common prefix of the cache and prefills only the
 * rest gives the logits of a fresh prefill of the whole prompt, on the
 * golden models and on a generated one with several prefill chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "lib-syngen.h"

static const char *
shared(void)
{
	const char *s = getenv("SHARED");

	return s && *s ? s : "../../shared";
}

/* Logits of the last token of ids[0..n) from an empty cache. */
static float *
fresh(struct eng_session *s, const int32_t *ids, size_t n, size_t nv)
{
	float *l = malloc(nv * sizeof *l);

	assert_non_null(l);
	eng_session_reset(s);
	assert_int_equal(eng_session_decode(s, ids, n, l, false, NULL, NULL), 0);
	return l;
}

static float
maxdiff(const float *a, const float *b, size_t n)
{
	float mx = 0;

	for (size_t i = 0; i < n; i++) {
		assert_false(isnan(a[i]) || isnan(b[i]));
		if (fabsf(a[i] - b[i]) > mx)
			mx = fabsf(a[i] - b[i]);
	}
	return mx;
}

/*
 * Conversation A = prefix + turn1, then B = prefix + turn2 (diverging
 * after `common` tokens): reuse must keep exactly `common` tokens and give
 * B's logits as a fresh prefill does.  Also: B equal to the cache keeps
 * all but one; an empty cache keeps nothing.
 */
static void
check_reuse(const char *path, size_t na, size_t common, size_t nb, float tol)
{
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct eng_load_opts o = { .n_ctx = 1024, .n_threads = 2 };
	int32_t *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
	float *want, *got;
	size_t nv, keep;
	char *cause = NULL;

	assert_true(common < na && common < nb);
	if (eng_model_open(path, &o, &m, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	assert_int_equal(eng_session_new(m, &s, NULL), 0);
	nv = eng_model_info(m)->n_vocab;
	for (size_t i = 0; i < na; i++)
		a[i] = (int32_t)(1 + (i * 7919) % (nv - 1));
	for (size_t i = 0; i < nb; i++)
		b[i] = i < common ? a[i] : (int32_t)(1 + (i * 104729 + 13) % (nv - 1));
	b[common] = a[common] == 1 ? 2 : 1;	/* diverge exactly here */

	want = fresh(s, b, nb, nv);
	/* the cache holds A; B reuses its common prefix */
	eng_session_reset(s);
	assert_int_equal(eng_session_decode(s, a, na, NULL, false, NULL, NULL), 0);
	keep = eng_session_keep_prefix(s, b, nb);
	assert_int_equal(keep, common);
	assert_int_equal(eng_session_pos(s), common);
	got = malloc(nv * sizeof *got);
	assert_int_equal(eng_session_decode(s, b + keep, nb - keep, got, false,
	    NULL, NULL), 0);
	assert_true(maxdiff(want, got, nv) <= tol);

	/* the same prompt again: all but the last token come from the cache */
	keep = eng_session_keep_prefix(s, b, nb);
	assert_int_equal(keep, nb - 1);
	assert_int_equal(eng_session_decode(s, b + keep, 1, got, false, NULL,
	    NULL), 0);
	assert_true(maxdiff(want, got, nv) <= tol);

	/* a reset cache keeps nothing */
	eng_session_reset(s);
	assert_int_equal(eng_session_keep_prefix(s, b, nb), 0);

	free(want);
	free(got);
	free(a);
	free(b);
	eng_session_free(s);
	eng_model_free(m);
	free(cause);
}

static void
golden(const char *name, float tol)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/golden/%s", shared(), name);
	check_reuse(path, 40, 17, 33, tol);
}

/* Reuse is exact arithmetic on the same cache rows: tolerances are those
 * of chunking differences only, far tighter than the golden ones. */
static void test_llama_f32(void **st) { (void)st; golden("syn-llama-f32.gguf", 1e-4f); }
static void test_llama_q4_k_m(void **st) { (void)st; golden("syn-llama-q4_k_m.gguf", 1e-3f); }
static void test_qwen3_q8_0(void **st) { (void)st; golden("syn-qwen3-q8_0.gguf", 1e-3f); }
static void test_llama3rope_f32(void **st) { (void)st; golden("syn-llama3rope-f32.gguf", 1e-4f); }

static void
test_stories260k(void **st)
{
	char path[4096];

	(void)st;
	snprintf(path, sizeof path, "%s/models/stories260K.gguf", shared());
	check_reuse(path, 200, 130, 190, 1e-3f);
}

/* A generated model and prompts longer than a prefill chunk, diverging in
 * the middle of one. */
static void
test_synthetic_long(void **st)
{
	struct syngen_spec sp;
	char path[] = "/tmp/test-prefix-XXXXXX";
	char *cause = NULL;
	int fd;

	(void)st;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	syngen_defaults(&sp);
	sp.arch = "qwen2";
	sp.type = "Q8_0";
	sp.n_ctx = 2048;
	sp.seed = 12;
	if (syngen_write(&sp, path, &cause) != 0)
		fail_msg("%s", cause);
	check_reuse(path, 700, 301, 650, 1e-3f);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_llama_f32),
		cmocka_unit_test(test_llama_q4_k_m),
		cmocka_unit_test(test_qwen3_q8_0),
		cmocka_unit_test(test_llama3rope_f32),
		cmocka_unit_test(test_stories260k),
		cmocka_unit_test(test_synthetic_long),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
