/*
 * test-gguf.c - the GGUF reader (engine/gguf.c): every real file under
 * $SHARED parses with the facts we know about it, and every malformed
 * file from reliability-notes table (a) G01-G29 that concerns the reader
 * is refused with a message naming the problem.  Malformed files are
 * built in memory with a small byte builder.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gguf.h"
#include "quant.h"

/* ==== helpers ============================================================ */

static const char *
shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s != NULL && *s != '\0' ? s : "../../shared";
}

static void
shared_path(char *buf, size_t cap, const char *rel)
{
	snprintf(buf, cap, "%s/%s", shared_dir(), rel);
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growable byte buffer for writing GGUF files in memory. */
struct bb {
	uint8_t	*p;
	size_t	 n, cap;
};

static void
bb_raw(struct bb *b, const void *src, size_t n)
{
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->n < n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void
bb_u8(struct bb *b, uint8_t v)
{
	bb_raw(b, &v, 1);
}

static void
bb_le(struct bb *b, uint64_t v, int bytes)
{
	uint8_t t[8];
	int i;

	for (i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	bb_raw(b, t, (size_t)bytes);
}

static void bb_u32(struct bb *b, uint32_t v) { bb_le(b, v, 4); }
static void bb_u64(struct bb *b, uint64_t v) { bb_le(b, v, 8); }

static void
bb_str(struct bb *b, const char *s)
{
	bb_u64(b, strlen(s));
	bb_raw(b, s, strlen(s));
}

static void
bb_zeros(struct bb *b, size_t n)
{
	while (n-- > 0)
		bb_u8(b, 0);
}

static void
bb_pad(struct bb *b, size_t align)
{
	while (b->n % align != 0)
		bb_u8(b, 0);
}

static void
bb_free(struct bb *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static void
hdr(struct bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	bb_raw(b, "GGUF", 4);
	bb_u32(b, version);
	bb_u64(b, n_tensors);
	bb_u64(b, n_kv);
}

static void
kv_head(struct bb *b, const char *key, uint32_t type)
{
	bb_str(b, key);
	bb_u32(b, type);
}

static void
kv_u32(struct bb *b, const char *key, uint32_t v)
{
	kv_head(b, key, GGUF_U32);
	bb_u32(b, v);
}

static void
kv_str(struct bb *b, const char *key, const char *v)
{
	kv_head(b, key, GGUF_STR);
	bb_str(b, v);
}

/* Tensor info with n_dims dims from ne[]. */
static void
tinfo(struct bb *b, const char *name, uint32_t n_dims, const uint64_t *ne,
    uint32_t type, uint64_t offset)
{
	uint32_t d;

	bb_str(b, name);
	bb_u32(b, n_dims);
	for (d = 0; d < n_dims; d++)
		bb_u64(b, ne[d]);
	bb_u32(b, type);
	bb_u64(b, offset);
}

static void
tinfo1(struct bb *b, const char *name, uint64_t ne0, uint32_t type,
    uint64_t offset)
{
	tinfo(b, name, 1, &ne0, type, offset);
}

/* Parse b, which must be accepted. */
static struct gguf *
parse_ok(const struct bb *b, const struct gguf_limits *lim)
{
	struct gguf *g = NULL;
	char *cause = NULL;

	if (gguf_parse_mem(b->p, b->n, lim, &g, &cause) != 0)
		fail_msg("valid file refused: %s", cause ? cause : "(null)");
	assert_non_null(g);
	assert_null(cause);
	return g;
}

/* Parse b, which must be refused with a message containing want. */
static void
parse_bad(const struct bb *b, const struct gguf_limits *lim, const char *want)
{
	struct gguf *g = NULL;
	char *cause = NULL;

	if (gguf_parse_mem(b->p, b->n, lim, &g, &cause) == 0) {
		gguf_free(g);
		fail_msg("malformed file accepted (expected \"%s\")", want);
	}
	assert_null(g);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cause, want);
	/* One line, no raw file bytes that could drive a terminal. */
	for (const char *p = cause; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("message has control/non-ASCII byte: %s", cause);
	free(cause);
}

/*
 * A small valid file exercising every value type, nested arrays and
 * three tensors with padding between them (F32 4x2, Q4_0 32, F16 3).
 */
#define SMALL_N_KV	17
static void
build_small(struct bb *b)
{
	static const uint64_t ne_a[2] = { 4, 2 };
	size_t i;

	hdr(b, 3, 3, SMALL_N_KV);
	kv_str(b, "general.architecture", "llama");
	kv_u32(b, "general.alignment", 32);
	kv_head(b, "v.u8", GGUF_U8); bb_u8(b, 200);
	kv_head(b, "v.i8", GGUF_I8); bb_u8(b, 0xfe);		/* -2 */
	kv_head(b, "v.u16", GGUF_U16); bb_le(b, 65535, 2);
	kv_head(b, "v.i16", GGUF_I16); bb_le(b, 0x8000, 2);	/* -32768 */
	kv_head(b, "v.i32", GGUF_I32); bb_u32(b, 7);
	kv_head(b, "v.f32", GGUF_F32); bb_u32(b, 0x3fc00000);	/* 1.5 */
	kv_head(b, "v.bool", GGUF_BOOL); bb_u8(b, 1);
	kv_head(b, "v.u64", GGUF_U64); bb_u64(b, UINT64_C(1) << 40);
	kv_head(b, "v.i64", GGUF_I64); bb_u64(b, (uint64_t)-5);
	kv_head(b, "v.f64", GGUF_F64); bb_u64(b, 0x3fd0000000000000);	/* .25 */
	kv_head(b, "a.str", GGUF_ARR);
	bb_u32(b, GGUF_STR); bb_u64(b, 3);
	bb_str(b, "a"); bb_str(b, "bc"); bb_str(b, "");
	kv_head(b, "a.f32", GGUF_ARR);
	bb_u32(b, GGUF_F32); bb_u64(b, 2);
	bb_u32(b, 0x3f800000); bb_u32(b, 0x40000000);		/* 1, 2 */
	kv_head(b, "a.nested", GGUF_ARR);			/* [[1,2],[3]] */
	bb_u32(b, GGUF_ARR); bb_u64(b, 2);
	bb_u32(b, GGUF_I32); bb_u64(b, 2); bb_u32(b, 1); bb_u32(b, 2);
	bb_u32(b, GGUF_I32); bb_u64(b, 1); bb_u32(b, 3);
	kv_head(b, "a.empty", GGUF_ARR);
	bb_u32(b, GGUF_U8); bb_u64(b, 0);
	kv_str(b, "v.str", "hello");
	tinfo(b, "a", 2, ne_a, QT_F32, 0);		/* 32 bytes */
	tinfo1(b, "b", 32, QT_Q4_0, 32);		/* 18 bytes */
	tinfo1(b, "c", 3, QT_F16, 64);			/* 6 bytes */
	bb_pad(b, 32);
	for (i = 0; i < 70; i++)
		bb_u8(b, (uint8_t)i);
}

/* Header + one kv whose body the caller writes next. */
static void
one_kv(struct bb *b, const char *key, uint32_t type)
{
	hdr(b, 3, 0, 1);
	kv_head(b, key, type);
}

/* Header with no kv and one tensor info the caller writes. */
static void
one_tensor_hdr(struct bb *b, uint64_t n_tensors)
{
	hdr(b, 3, n_tensors, 0);
}

/* ==== real files ========================================================= */

static struct gguf *
open_shared(const char *rel)
{
	char path[4096];
	struct gguf *g = NULL;
	char *cause = NULL;

	shared_path(path, sizeof path, rel);
	if (gguf_open(path, NULL, &g, &cause) != 0)
		fail_msg("%s: %s", path, cause ? cause : "(null)");
	return g;
}

static bool
str_eq(struct gguf_str s, const char *want)
{
	return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

/* The tensor lies inside the file, after the data start, aligned. */
static void
check_tensor_bounds(const struct gguf *g, const struct gguf_tensor *t)
{
	const uint8_t *base = gguf_base(g);
	const uint8_t *p = t->data;

	assert_true(p >= base);
	assert_true((uint64_t)(p - base) == t->offset);
	assert_true(t->offset + t->nbytes <= gguf_file_size(g));
	assert_int_equal(t->offset % gguf_alignment(g), 0);
}

static void
test_gguf_open_stories260k_facts(void **state)
{
	struct gguf *g = open_shared("models/stories260K.gguf");
	const struct gguf_tensor *emb, *out;
	struct gguf_str s;
	enum gguf_vtype elem;
	uint64_t count, i;
	int64_t idx;
	uint32_t u;
	float f;

	(void)state;
	assert_int_equal(gguf_version(g), 3);
	assert_int_equal(gguf_n_tensors(g), 48);
	assert_int_equal(gguf_n_kv(g), 19);
	assert_int_equal(gguf_file_size(g), 1185376);
	assert_int_equal(gguf_alignment(g), 32);
	assert_int_equal(gguf_get_str(g, "general.architecture", &s), 0);
	assert_true(str_eq(s, "llama"));
	assert_int_equal(gguf_get_str(g, "tokenizer.ggml.model", &s), 0);
	assert_true(str_eq(s, "llama"));

	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.tokens", &elem,
	    &count, &idx), 0);
	assert_int_equal(elem, GGUF_STR);
	assert_int_equal(count, 512);
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 0, &s), 0);
	assert_true(str_eq(s, "<unk>"));
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 1, &s), 0);
	assert_true(str_eq(s, "<s>"));
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 2, &s), 0);
	assert_true(str_eq(s, "</s>"));
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 512, &s), -1);
	assert_null(gguf_arr_data(g, (uint64_t)idx));
	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.scores", &elem,
	    &count, &idx), 0);
	assert_int_equal(elem, GGUF_F32);
	assert_int_equal(count, 512);
	assert_non_null(gguf_arr_data(g, (uint64_t)idx));

	assert_int_equal(gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &u), 0);
	assert_int_equal(u, 2);
	assert_int_equal(gguf_get_u32(g, "llama.block_count", &u), 0);
	assert_int_equal(u, 5);
	assert_int_equal(gguf_get_u32(g, "llama.embedding_length", &u), 0);
	assert_int_equal(u, 64);
	assert_int_equal(gguf_get_u32(g, "llama.context_length", &u), 0);
	assert_int_equal(u, 2048);
	assert_int_equal(gguf_get_f32(g,
	    "llama.attention.layer_norm_rms_epsilon", &f), 0);
	assert_float_equal(f, 1e-5, 1e-9);
	assert_int_equal(gguf_find(g, "general.file_type"), -1);

	emb = gguf_tensor_find(g, "token_embd.weight");
	out = gguf_tensor_find(g, "output.weight");
	assert_non_null(emb);
	assert_non_null(out);
	assert_int_equal(emb->type, QT_F32);
	assert_int_equal(emb->n_dims, 2);
	assert_int_equal(emb->ne[0], 64);
	assert_int_equal(emb->ne[1], 512);
	assert_int_equal(emb->ne[2], 1);
	assert_int_equal(emb->nbytes, 64 * 512 * 4);
	/* The manifest says output.weight has the same bytes as token_embd. */
	assert_int_equal(out->nbytes, emb->nbytes);
	assert_memory_equal(out->data, emb->data, emb->nbytes);
	for (i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);

		assert_int_equal(t->type, QT_F32);
		check_tensor_bounds(g, t);
		assert_ptr_equal(gguf_tensor_find(g, t->name), t);
	}
	assert_null(gguf_tensor(g, 48));
	assert_null(gguf_tensor_find(g, "nope"));
	gguf_free(g);
}

static void
test_gguf_open_q4_k_m_output_is_q6_k(void **state)
{
	struct gguf *g = open_shared("golden/syn-llama-q4_k_m.gguf");
	const struct gguf_tensor *t;
	uint32_t ft;

	(void)state;
	t = gguf_tensor_find(g, "output.weight");
	assert_non_null(t);
	assert_int_equal(t->type, QT_Q6_K);
	assert_int_equal(t->n_dims, 2);
	assert_int_equal(t->ne[0], 256);
	assert_int_equal(t->ne[1], 512);
	assert_int_equal(t->nelem, 256 * 512);
	assert_int_equal(t->nbytes, 512 * 210);	/* one Q6_K block per row */
	check_tensor_bounds(g, t);
	t = gguf_tensor_find(g, "blk.1.attn_v.weight");
	assert_non_null(t);
	assert_int_equal(t->type, QT_Q6_K);
	t = gguf_tensor_find(g, "blk.0.attn_v.weight");
	assert_non_null(t);
	assert_int_equal(t->type, QT_Q4_K);
	assert_int_equal(gguf_n_tensors(g), 21);
	assert_int_equal(gguf_get_u32(g, "general.file_type", &ft), 0);
	assert_int_equal(ft, 15);	/* MOSTLY_Q4_K_M */
	gguf_free(g);
}

/* Every .gguf in one shared folder parses, with sane tensors and tokens. */
static int
check_folder(const char *rel)
{
	char dir[4096], path[8192];
	DIR *d;
	struct dirent *de;
	int n = 0;

	shared_path(dir, sizeof dir, rel);
	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct gguf *g = NULL;
		char *cause = NULL;
		enum gguf_vtype elem;
		uint64_t count, i;
		int64_t idx;

		if (len < 5 || strcmp(de->d_name + len - 5, ".gguf") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (gguf_open(path, NULL, &g, &cause) != 0)
			fail_msg("%s: %s", path, cause ? cause : "(null)");
		assert_int_equal(gguf_version(g), 3);
		for (i = 0; i < gguf_n_tensors(g); i++)
			check_tensor_bounds(g, gguf_tensor(g, i));
		/* Every file here carries a vocab; walk all of it. */
		if (gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &count,
		    &idx) != 0)
			fail_msg("%s: no tokenizer.ggml.tokens", path);
		assert_int_equal(elem, GGUF_STR);
		assert_true(count >= 512);
		for (i = 0; i < count; i++) {
			struct gguf_str s;

			assert_int_equal(gguf_arr_str(g, (uint64_t)idx, i, &s), 0);
			assert_true((const uint8_t *)s.p + s.n <=
			    (const uint8_t *)gguf_base(g) + gguf_file_size(g));
		}
		gguf_free(g);
		n++;
	}
	closedir(d);
	return n;
}

static void
test_gguf_open_every_shared_file(void **state)
{
	(void)state;
	assert_int_equal(check_folder("models"), 1);
	assert_int_equal(check_folder("models/vocab"), 12);
	assert_true(check_folder("golden") >= 20);
}

static void
test_gguf_open_vocab_sizes(void **state)
{
	static const struct { const char *f; uint64_t n; } v[] = {
		{ "models/vocab/ggml-vocab-llama-spm.gguf", 32000 },
		{ "models/vocab/ggml-vocab-gpt-2.gguf", 50257 },
		{ "models/vocab/ggml-vocab-deepseek-llm.gguf", 102400 },
		{ "models/vocab/ggml-vocab-bert-bge.gguf", 30522 },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof v / sizeof v[0]; k++) {
		struct gguf *g = open_shared(v[k].f);
		uint64_t count;

		assert_int_equal(gguf_n_tensors(g), 0);
		assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.tokens", NULL,
		    &count, NULL), 0);
		assert_int_equal(count, v[k].n);
		gguf_free(g);
	}
}

/* ==== the small built file: getters ====================================== */

static void
test_gguf_parse_small_file_every_type(void **state)
{
	struct bb b = { 0 };
	struct gguf *g;
	struct gguf_str s;
	enum gguf_vtype elem;
	uint64_t count, u64;
	int64_t idx;
	uint32_t u;
	float f;
	double d;
	bool bo;
	const uint8_t *raw;
	const struct gguf_tensor *t;

	(void)state;
	build_small(&b);
	g = parse_ok(&b, NULL);
	assert_int_equal(gguf_n_kv(g), SMALL_N_KV);
	assert_int_equal(gguf_find(g, "general.architecture"), 0);
	s = gguf_key(g, 2);
	assert_true(str_eq(s, "v.u8"));
	assert_null(gguf_key(g, SMALL_N_KV).p);
	assert_int_equal(gguf_type(g, 2), GGUF_U8);
	assert_int_equal(gguf_type(g, 12), GGUF_ARR);
	assert_string_equal(gguf_vtype_name(GGUF_F64), "f64");
	assert_string_equal(gguf_vtype_name((enum gguf_vtype)13), "?");

	/* u32 accepts every integer type whose value fits */
	assert_int_equal(gguf_get_u32(g, "v.u8", &u), 0);
	assert_int_equal(u, 200);
	assert_int_equal(gguf_get_u32(g, "v.u16", &u), 0);
	assert_int_equal(u, 65535);
	assert_int_equal(gguf_get_u32(g, "v.i32", &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(gguf_get_u32(g, "v.i8", &u), -1);	/* -2 */
	assert_int_equal(gguf_get_u32(g, "v.i16", &u), -1);
	assert_int_equal(gguf_get_u32(g, "v.u64", &u), -1);	/* 2^40 */
	assert_int_equal(gguf_get_u32(g, "v.f32", &u), -1);
	assert_int_equal(gguf_get_u32(g, "v.str", &u), -1);
	assert_int_equal(gguf_get_u32(g, "missing", &u), -1);
	assert_int_equal(gguf_get_u64(g, "v.u64", &u64), 0);
	assert_int_equal(u64, UINT64_C(1) << 40);
	assert_int_equal(gguf_get_u64(g, "v.i64", &u64), -1);
	/* f32 accepts F32 and F64 */
	assert_int_equal(gguf_get_f32(g, "v.f32", &f), 0);
	assert_float_equal(f, 1.5, 0);
	assert_int_equal(gguf_get_f32(g, "v.f64", &f), 0);
	assert_float_equal(f, 0.25, 0);
	assert_int_equal(gguf_get_f32(g, "v.u8", &f), -1);
	assert_int_equal(gguf_get_bool(g, "v.bool", &bo), 0);
	assert_true(bo);
	assert_int_equal(gguf_get_bool(g, "v.u8", &bo), -1);
	assert_int_equal(gguf_get_str(g, "v.str", &s), 0);
	assert_true(str_eq(s, "hello"));
	assert_int_equal(gguf_get_str(g, "a.str", &s), -1);
	/* scalars widened for display */
	assert_int_equal(gguf_scalar_f64(g, (uint64_t)gguf_find(g, "v.i16"), &d), 0);
	assert_float_equal(d, -32768, 0);
	assert_int_equal(gguf_scalar_f64(g, (uint64_t)gguf_find(g, "v.i64"), &d), 0);
	assert_float_equal(d, -5, 0);
	assert_int_equal(gguf_scalar_f64(g, (uint64_t)gguf_find(g, "v.bool"), &d), 0);
	assert_float_equal(d, 1, 0);
	assert_int_equal(gguf_scalar_f64(g, (uint64_t)gguf_find(g, "v.str"), &d), -1);
	assert_int_equal(gguf_scalar_f64(g, 999, &d), -1);
	assert_int_equal(gguf_scalar_f64(g, (uint64_t)gguf_find(g, "v.f32"), &d), 0);
	assert_float_equal(d, 1.5, 0);
	assert_int_equal(gguf_scalar_f64(g, (uint64_t)gguf_find(g, "v.f64"), &d), 0);
	assert_float_equal(d, 0.25, 0);
	assert_int_equal(gguf_get_f32(g, "missing", &f), -1);
	assert_int_equal(gguf_get_bool(g, "missing", &bo), -1);
	assert_int_equal(gguf_get_str(g, "missing", &s), -1);
	assert_int_equal(gguf_get_arr(g, "missing", &elem, &count, &idx), -1);
	assert_int_equal(gguf_arr_str(g, 999, 0, &s), -1);
	assert_null(gguf_arr_data(g, 999));
	assert_true((unsigned)gguf_type(g, 999) > GGUF_F64);

	/* arrays */
	assert_int_equal(gguf_get_arr(g, "a.str", &elem, &count, &idx), 0);
	assert_int_equal(elem, GGUF_STR);
	assert_int_equal(count, 3);
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 1, &s), 0);
	assert_true(str_eq(s, "bc"));
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 2, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 3, &s), -1);
	assert_int_equal(gguf_get_arr(g, "a.f32", &elem, &count, &idx), 0);
	assert_int_equal(elem, GGUF_F32);
	raw = gguf_arr_data(g, (uint64_t)idx);
	assert_non_null(raw);
	assert_int_equal(raw[4 + 3], 0x40);	/* 2.0f little-endian */
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 0, &s), -1);
	assert_int_equal(gguf_get_arr(g, "a.nested", &elem, &count, &idx), 0);
	assert_int_equal(elem, GGUF_ARR);
	assert_int_equal(count, 2);
	assert_null(gguf_arr_data(g, (uint64_t)idx));
	assert_int_equal(gguf_get_arr(g, "a.empty", &elem, &count, &idx), 0);
	assert_int_equal(count, 0);
	assert_int_equal(gguf_get_arr(g, "v.u8", &elem, &count, &idx), -1);
	assert_null(gguf_arr_data(g, (uint64_t)gguf_find(g, "v.u8")));

	/* tensors: offsets are absolute; padding between them */
	assert_int_equal(gguf_n_tensors(g), 3);
	t = gguf_tensor_find(g, "b");
	assert_non_null(t);
	assert_int_equal(t->type, QT_Q4_0);
	assert_int_equal(t->nbytes, 18);
	assert_int_equal(t->n_dims, 1);
	assert_int_equal(t->ne[1], 1);
	assert_int_equal(t->offset, gguf_tensor(g, 0)->offset + 32);
	assert_int_equal(((const uint8_t *)t->data)[0], 32);	/* data byte 32 */
	t = gguf_tensor(g, 2);
	assert_int_equal(t->offset + t->nbytes, b.n);
	gguf_free(g);
	gguf_free(NULL);
	bb_free(&b);
}

/* ==== gguf_open on things that are not files ============================= */

static void
expect_open_fails(const char *path, const char *want)
{
	struct gguf *g = NULL;
	char *cause = NULL;

	assert_int_equal(gguf_open(path, NULL, &g, &cause), -1);
	assert_null(g);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", path, cause, want);
	free(cause);
}

static void
test_gguf_open_rejects_non_files(void **state)
{
	char tmpl[] = "/tmp/test-gguf-XXXXXX";
	int fd;

	(void)state;
	expect_open_fails(".", "directory");
	expect_open_fails("/dev/null", "not a regular file");
	expect_open_fails("/nonexistent/x.gguf", "cannot open");
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	expect_open_fails(tmpl, "empty");
	assert_int_equal(write(fd, "GGUF\3\0\0", 7), 7);
	expect_open_fails(tmpl, "too short");
	close(fd);
	unlink(tmpl);
}

/* ==== G01-G03: header and truncation ===================================== */

static void
test_gguf_parse_rejects_bad_magic_and_short_files(void **state)	/* G01 */
{
	struct bb b = { 0 }, v = { 0 };
	size_t n;

	(void)state;
	parse_bad(&b, NULL, "empty");
	bb_raw(&b, "GGML", 4);
	bb_zeros(&b, 60);
	parse_bad(&b, NULL, "bad magic");
	bb_free(&b);
	bb_raw(&b, "\0\0\0\0", 4);
	parse_bad(&b, NULL, "bad magic");
	bb_free(&b);
	hdr(&v, 3, 0, 0);
	assert_int_equal(v.n, 24);
	for (n = 1; n < 24; n++) {
		b.p = v.p;
		b.n = n;
		parse_bad(&b, NULL, "too short");
	}
	/* a header alone, with nothing in it, is a valid empty file */
	gguf_free(parse_ok(&v, NULL));
	bb_free(&v);
}

static void
test_gguf_parse_rejects_bad_versions(void **state)		/* G02 */
{
	static const struct { uint32_t v; const char *want; } c[] = {
		{ 0, "version 0 is not supported" },
		{ 1, "version 1 is not supported" },
		{ 4, "version 4 is not supported" },
		{ 0xffffffffu, "version 4294967295 is not supported" },
		{ 0x03000000u, "wrong endianness" },
		{ 0x02000000u, "byte-swapped" },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof c / sizeof c[0]; k++) {
		struct bb b = { 0 };

		hdr(&b, c[k].v, 0, 0);
		parse_bad(&b, NULL, c[k].want);
		bb_free(&b);
	}
	{
		struct bb b = { 0 };
		struct gguf *g;

		hdr(&b, 2, 0, 0);
		g = parse_ok(&b, NULL);
		assert_int_equal(gguf_version(g), 2);
		gguf_free(g);
		bb_free(&b);
	}
}

/* Messages a truncated file may legitimately produce. */
static bool
is_truncation_msg(const char *m)
{
	return strstr(m, "past the end of the file") != NULL ||
	    strstr(m, "larger than the file allows") != NULL ||
	    strstr(m, "too short") != NULL || strstr(m, "empty") != NULL;
}

/*
 * Every prefix of buf with a length in [from, to) is refused as truncated.
 * Each prefix is parsed from its own exact-size allocation, so a read one
 * byte past the end trips ASan.
 */
static void
sweep(const uint8_t *buf, size_t from, size_t to)
{
	size_t n;

	for (n = from; n < to; n++) {
		struct gguf *g = NULL;
		char *cause = NULL;
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, buf, n);
		if (gguf_parse_mem(copy, n, NULL, &g, &cause) == 0) {
			gguf_free(g);
			fail_msg("prefix of %zu bytes accepted", n);
		}
		free(copy);
		assert_non_null(cause);
		if (!is_truncation_msg(cause))
			fail_msg("prefix of %zu bytes: \"%s\"", n, cause);
		free(cause);
	}
}

static void
test_gguf_parse_prefix_sweep_small(void **state)		/* G03 */
{
	struct bb b = { 0 };

	(void)state;
	build_small(&b);
	sweep(b.p, 0, b.n);
	gguf_free(parse_ok(&b, NULL));
	bb_free(&b);
}

static void
test_gguf_parse_prefix_sweep_stories260k(void **state)		/* G03 */
{
	char path[4096];
	struct gguf *g = NULL;
	FILE *fp;
	uint8_t *buf;
	long len;
	uint64_t meta, i;
	double t0 = now_sec();
	char *cause = NULL;

	(void)state;
	shared_path(path, sizeof path, "models/stories260K.gguf");
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len > 0);
	rewind(fp);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	assert_int_equal(gguf_parse_mem(buf, (size_t)len, NULL, &g, &cause), 0);
	/* every prefix through the metadata and the data-section start */
	meta = gguf_tensor(g, 0)->offset;
	sweep(buf, 0, meta + 1);
	/* and around every tensor end (no trailing bytes in this file) */
	for (i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);

		sweep(buf, t->offset + t->nbytes - 1, t->offset + t->nbytes);
	}
	assert_int_equal(gguf_tensor(g, 47)->offset + gguf_tensor(g, 47)->nbytes,
	    (uint64_t)len);
	gguf_free(g);
	free(buf);
	/* the budget from the brief: a few seconds even under ASan */
	assert_true(now_sec() - t0 < 30.0);
}

/* ==== G04-G05: counts ==================================================== */

static void
test_gguf_parse_rejects_huge_n_tensors(void **state)		/* G04 */
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };

	(void)state;
	hdr(&b, 3, UINT64_MAX, 0);
	parse_bad(&b, NULL,
	    "header: n_tensors 18446744073709551615 is larger than the file allows");
	bb_free(&b);
	hdr(&b, 3, UINT64_C(1) << 63, 0);
	parse_bad(&b, NULL, "n_tensors 9223372036854775808 is larger");
	bb_free(&b);
	/* within the file's bytes but over the limit */
	lim.max_tensors = 2;
	hdr(&b, 3, 3, 0);
	bb_zeros(&b, 3 * 40);
	parse_bad(&b, &lim, "n_tensors 3 exceeds the limit of 2");
	bb_free(&b);
	/* default limit + 1: bounded by the file first, no allocation */
	hdr(&b, 3, (UINT64_C(1) << 20) + 1, 0);
	parse_bad(&b, NULL, "n_tensors 1048577 is larger than the file allows");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_huge_n_kv(void **state)		/* G05 */
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };

	(void)state;
	hdr(&b, 3, 0, UINT64_MAX);
	parse_bad(&b, NULL,
	    "header: n_kv 18446744073709551615 is larger than the file allows");
	bb_free(&b);
	hdr(&b, 3, 0, UINT64_C(1) << 63);
	parse_bad(&b, NULL, "n_kv 9223372036854775808 is larger");
	bb_free(&b);
	lim.max_kv = 4;
	hdr(&b, 3, 0, 5);
	bb_zeros(&b, 5 * 14);
	parse_bad(&b, &lim, "n_kv 5 exceeds the limit of 4");
	bb_free(&b);
	/* n_kv says 2 but only one pair follows */
	hdr(&b, 3, 0, 2);
	kv_u32(&b, "a", 1);
	bb_u64(&b, 5);
	bb_raw(&b, "abc", 3);
	parse_bad(&b, NULL, "kv 1: key of 5 bytes runs past the end of the file");
	bb_free(&b);
}

/* ==== G06-G10: keys and values =========================================== */

static void
test_gguf_parse_rejects_bad_keys(void **state)		/* G06 */
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };

	(void)state;
	hdr(&b, 3, 0, 1);
	bb_u64(&b, UINT64_MAX);
	bb_zeros(&b, 16);
	parse_bad(&b, NULL, "kv 0: key of 18446744073709551615 bytes exceeds "
	    "the limit");
	bb_free(&b);
	/* within the limit but past the end */
	lim.max_string = UINT64_MAX;
	hdr(&b, 3, 0, 1);
	bb_u64(&b, 100);
	bb_raw(&b, "abcdefghijklmn", 14);
	parse_bad(&b, &lim, "kv 0: key of 100 bytes runs past the end of the file");
	bb_free(&b);
	hdr(&b, 3, 0, 1);
	bb_u64(&b, UINT64_MAX - 3);
	bb_zeros(&b, 16);
	parse_bad(&b, &lim, "runs past the end of the file");
	bb_free(&b);
	/* empty key */
	hdr(&b, 3, 0, 1);
	kv_u32(&b, "", 1);
	parse_bad(&b, NULL, "kv 0: empty key");
	bb_free(&b);
	/* embedded NUL */
	hdr(&b, 3, 0, 1);
	bb_u64(&b, 3);
	bb_raw(&b, "a\0b", 3);
	bb_u32(&b, GGUF_U8);
	bb_u8(&b, 1);
	parse_bad(&b, NULL, "kv 0 'a\\x00b': key contains a NUL byte");
	bb_free(&b);
}

static void
test_gguf_parse_key_bytes_are_escaped_in_messages(void **state)
{
	struct bb b = { 0 };
	char key[200];

	(void)state;
	hdr(&b, 3, 0, 1);
	kv_head(&b, "\x1b[2Jevil\n", 13);
	parse_bad(&b, NULL, "kv 0 '\\x1b[2Jevil\\x0a': unknown value type 13");
	bb_free(&b);
	/* long keys are cut */
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	hdr(&b, 3, 0, 1);
	kv_head(&b, key, 99);
	parse_bad(&b, NULL, "kkk...': unknown value type 99");
	bb_free(&b);
	/* invalid UTF-8 in keys is allowed, and found by its bytes */
	{
		struct gguf *g;
		uint32_t u;

		hdr(&b, 3, 0, 1);
		kv_u32(&b, "k\xff\xfe", 9);
		g = parse_ok(&b, NULL);
		assert_int_equal(gguf_get_u32(g, "k\xff\xfe", &u), 0);
		assert_int_equal(u, 9);
		gguf_free(g);
		bb_free(&b);
	}
}

static void
test_gguf_parse_rejects_duplicate_key(void **state)		/* G07 */
{
	struct bb b = { 0 };

	(void)state;
	hdr(&b, 3, 0, 3);
	kv_u32(&b, "general.alignment", 32);
	kv_str(&b, "general.name", "x");
	kv_u32(&b, "general.alignment", 64);
	parse_bad(&b, NULL, "kv 2 'general.alignment': duplicate key");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_bad_value_types(void **state)		/* G08 */
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };

	(void)state;
	one_kv(&b, "x", 13);
	bb_zeros(&b, 8);
	parse_bad(&b, NULL, "kv 0 'x': unknown value type 13");
	bb_free(&b);
	one_kv(&b, "x", 0xffffffffu);
	bb_zeros(&b, 8);
	parse_bad(&b, NULL, "kv 0 'x': unknown value type 4294967295");
	bb_free(&b);
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, 13);
	bb_u64(&b, 0);
	parse_bad(&b, NULL, "kv 0 'x': array of unknown type 13");
	bb_free(&b);
	/* array of arrays, when the limit allows no nesting */
	lim.max_depth = 1;
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, GGUF_ARR);
	bb_u64(&b, 1);
	bb_u32(&b, GGUF_U8);
	bb_u64(&b, 0);
	parse_bad(&b, &lim, "kv 0 'x': arrays nested deeper than 1");
	/* ... and with no arrays at all */
	lim.max_depth = 0;
	parse_bad(&b, &lim, "arrays nested deeper than 0");
	bb_free(&b);
}

/* kv "x" = array nested `levels` deep, innermost [u8 7]. */
static void
nested(struct bb *b, uint32_t levels)
{
	uint32_t l;

	one_kv(b, "x", GGUF_ARR);
	for (l = 1; l < levels; l++) {
		bb_u32(b, GGUF_ARR);
		bb_u64(b, 1);
	}
	bb_u32(b, GGUF_U8);
	bb_u64(b, 1);
	bb_u8(b, 7);
}

static void
test_gguf_parse_nested_arrays_up_to_depth_limit(void **state)
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };
	struct gguf *g;
	enum gguf_vtype elem;
	uint64_t count;

	(void)state;
	nested(&b, 8);
	g = parse_ok(&b, NULL);
	assert_int_equal(gguf_get_arr(g, "x", &elem, &count, NULL), 0);
	assert_int_equal(elem, GGUF_ARR);
	assert_int_equal(count, 1);
	gguf_free(g);
	bb_free(&b);
	nested(&b, 9);
	parse_bad(&b, NULL, "kv 0 'x': arrays nested deeper than 8");
	bb_free(&b);
	/* a caller's limit is capped, so the recursion stays bounded */
	lim.max_depth = UINT32_MAX;
	nested(&b, 64);
	gguf_free(parse_ok(&b, &lim));
	bb_free(&b);
	nested(&b, 5000);
	parse_bad(&b, &lim, "arrays nested deeper than 64");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_huge_arrays(void **state)		/* G09 */
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };

	(void)state;
	/* the message from the brief */
	hdr(&b, 3, 0, 4);
	kv_u32(&b, "a", 1);
	kv_u32(&b, "b", 1);
	kv_u32(&b, "c", 1);
	kv_head(&b, "tokenizer.ggml.scores", GGUF_ARR);
	bb_u32(&b, GGUF_F32);
	bb_u64(&b, UINT64_C(4294967296));
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "kv 3 'tokenizer.ggml.scores': array of 4294967296 "
	    "elements exceeds the limit");
	bb_free(&b);
	/* within the limit, larger than the file */
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, GGUF_U8);
	bb_u64(&b, 1000);
	bb_zeros(&b, 999);
	parse_bad(&b, NULL, "kv 0 'x': array of 1000 elements is larger than "
	    "the file allows");
	bb_free(&b);
	/* count * 8 overflows 64 bits */
	lim.max_array = UINT64_MAX;
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, GGUF_U64);
	bb_u64(&b, (UINT64_C(1) << 61) + 1);
	bb_zeros(&b, 64);
	parse_bad(&b, &lim, "array of 2305843009213693953 elements is larger "
	    "than the file allows");
	bb_free(&b);
	/* string array whose count * 8 exceeds the bytes left: refused
	 * before the offsets table is allocated */
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, GGUF_STR);
	bb_u64(&b, 100);
	bb_zeros(&b, 799);
	parse_bad(&b, NULL, "kv 0 'x': array of 100 elements is larger than "
	    "the file allows");
	bb_free(&b);
	/* nested arrays: 12 bytes per element at least */
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, GGUF_ARR);
	bb_u64(&b, 10);
	bb_zeros(&b, 119);
	parse_bad(&b, NULL, "array of 10 elements is larger than the file allows");
	bb_free(&b);
	/* the count fits, a string inside does not */
	one_kv(&b, "x", GGUF_ARR);
	bb_u32(&b, GGUF_STR);
	bb_u64(&b, 2);
	bb_str(&b, "ok");
	bb_u64(&b, 5);
	bb_raw(&b, "abc", 3);
	parse_bad(&b, NULL, "kv 0 'x': string of 5 bytes runs past the end");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_long_strings(void **state)		/* G10 */
{
	struct gguf_limits lim = gguf_limits_default;
	struct bb b = { 0 };

	(void)state;
	lim.max_string = 1 << 20;
	one_kv(&b, "x", GGUF_STR);
	bb_u64(&b, (1 << 20) + 1);
	bb_zeros(&b, (1 << 20) + 1);
	parse_bad(&b, &lim, "kv 0 'x': string of 1048577 bytes exceeds the "
	    "limit of 1048576");
	bb_free(&b);
	one_kv(&b, "x", GGUF_STR);
	bb_u64(&b, 1000);
	bb_zeros(&b, 10);
	parse_bad(&b, NULL, "kv 0 'x': string of 1000 bytes runs past the end "
	    "of the file");
	bb_free(&b);
	/* the default cap is 16 MiB */
	one_kv(&b, "x", GGUF_STR);
	bb_u64(&b, (UINT64_C(16) << 20) + 1);
	parse_bad(&b, NULL, "exceeds the limit of 16777216");
	bb_free(&b);
	/* scalar value cut short */
	one_kv(&b, "x", GGUF_U64);
	bb_zeros(&b, 7);
	parse_bad(&b, NULL, "kv 0 'x': u64 value runs past the end of the file");
	bb_free(&b);
}

/* ==== G11: alignment ===================================================== */

static void
test_gguf_parse_rejects_bad_alignment(void **state)		/* G11 */
{
	static const uint32_t bad[] = { 0, 13, 0x80000000u, 96, 1u << 21 };
	struct bb b = { 0 };
	struct gguf *g;
	size_t k;

	(void)state;
	one_kv(&b, "general.alignment", GGUF_I32);
	bb_u32(&b, 32);
	parse_bad(&b, NULL, "kv 0 'general.alignment': type i32, must be u32");
	bb_free(&b);
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char want[64];

		hdr(&b, 3, 0, 1);
		kv_u32(&b, "general.alignment", bad[k]);
		snprintf(want, sizeof want, "'general.alignment': %lu is not a "
		    "power of two", (unsigned long)bad[k]);
		parse_bad(&b, NULL, want);
		bb_free(&b);
	}
	/* a custom alignment is used for tensor offsets and the data start */
	hdr(&b, 3, 2, 1);
	kv_u32(&b, "general.alignment", 64);
	tinfo1(&b, "a", 4, QT_F32, 0);
	tinfo1(&b, "b", 4, QT_F32, 64);
	bb_pad(&b, 64);
	bb_zeros(&b, 64 + 16);
	g = parse_ok(&b, NULL);
	assert_int_equal(gguf_alignment(g), 64);
	assert_int_equal(gguf_tensor(g, 1)->offset % 64, 0);
	gguf_free(g);
	bb_free(&b);
	/* the same file read with the default 32 has the wrong offset */
	hdr(&b, 3, 2, 0);
	tinfo1(&b, "a", 4, QT_F32, 0);
	tinfo1(&b, "b", 4, QT_F32, 64);
	bb_pad(&b, 32);
	bb_zeros(&b, 64 + 16);
	parse_bad(&b, NULL, "tensor 'b': offset 64 is not the expected 32");
	bb_free(&b);
}

/* ==== G12-G18: tensor infos ============================================== */

/* A file with one tensor "name" (F32, 8 elements) and its data. */
static void
one_tensor(struct bb *b, const char *name, size_t nlen)
{
	hdr(b, 3, 1, 0);
	bb_u64(b, nlen);
	bb_raw(b, name, nlen);
	bb_u32(b, 1);
	bb_u64(b, 8);
	bb_u32(b, QT_F32);
	bb_u64(b, 0);
	bb_pad(b, 32);
	bb_zeros(b, 32);
}

static void
test_gguf_parse_rejects_bad_tensor_names(void **state)	/* G12 */
{
	char name[80];
	struct bb b = { 0 };
	struct gguf *g;

	(void)state;
	memset(name, 'n', sizeof name);
	one_tensor(&b, name, 63);
	g = parse_ok(&b, NULL);
	assert_int_equal(strlen(gguf_tensor(g, 0)->name), 63);
	gguf_free(g);
	bb_free(&b);
	one_tensor(&b, name, 64);
	parse_bad(&b, NULL, "name of 64 bytes is too long (limit 63)");
	bb_free(&b);
	one_tensor(&b, "", 0);
	parse_bad(&b, NULL, "tensor 0: empty name");
	bb_free(&b);
	one_tensor(&b, "a\0b", 3);
	parse_bad(&b, NULL, "tensor 'a\\x00b': name contains a NUL byte");
	bb_free(&b);
	one_tensor(&b, "w\xff", 2);
	parse_bad(&b, NULL, "tensor 'w\\xff': name is not valid UTF-8");
	bb_free(&b);
	one_tensor(&b, "w\xc0\x80", 3);			/* overlong NUL */
	parse_bad(&b, NULL, "not valid UTF-8");
	bb_free(&b);
	one_tensor(&b, "w\xed\xa0\x80", 4);		/* surrogate */
	parse_bad(&b, NULL, "not valid UTF-8");
	bb_free(&b);
	one_tensor(&b, "w\xe2\x82", 3);			/* cut sequence */
	parse_bad(&b, NULL, "not valid UTF-8");
	bb_free(&b);
	one_tensor(&b, "w\xf4\x90\x80\x80", 5);		/* past U+10FFFF */
	parse_bad(&b, NULL, "not valid UTF-8");
	bb_free(&b);
	one_tensor(&b, "w\xc3\xa9\xf0\x9f\x98\x80", 7);	/* é and an emoji */
	gguf_free(parse_ok(&b, NULL));
	bb_free(&b);
	/* duplicate */
	hdr(&b, 3, 2, 0);
	tinfo1(&b, "blk.0.attn_q.weight", 8, QT_F32, 0);
	tinfo1(&b, "blk.0.attn_q.weight", 8, QT_F32, 32);
	bb_pad(&b, 32);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 'blk.0.attn_q.weight': duplicate tensor name");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_bad_n_dims(void **state)		/* G13 */
{
	static const uint32_t bad[] = { 0, 5, 0xffffffffu };
	static const uint64_t ne[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	struct bb b = { 0 };
	size_t k;

	(void)state;
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char want[64];

		one_tensor_hdr(&b, 1);
		tinfo(&b, "t", bad[k] < 8 ? bad[k] : 8, ne, QT_F32, 0);
		/* patch n_dims for the huge value */
		if (bad[k] >= 8)
			memset(b.p + 24 + 8 + 1, 0xff, 4);
		bb_zeros(&b, 64);
		snprintf(want, sizeof want, "tensor 't': n_dims %lu is not between "
		    "1 and 4", (unsigned long)bad[k]);
		parse_bad(&b, NULL, want);
		bb_free(&b);
	}
}

static void
test_gguf_parse_rejects_bad_shapes(void **state)		/* G14 */
{
	static const uint64_t neg[2] = { 8, (uint64_t)-1 };
	static const uint64_t big[2] = { INT64_MAX, 2 };
	static const uint64_t sq[2] = { UINT64_C(1) << 32, UINT64_C(1) << 32 };
	static const uint64_t s63[2] = { UINT64_C(1) << 31, UINT64_C(1) << 32 };
	struct bb b = { 0 };

	(void)state;
	one_tensor_hdr(&b, 1);
	tinfo(&b, "t", 2, neg, QT_F32, 0);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 't': dimension 1 is negative (-1)");
	bb_free(&b);
	one_tensor_hdr(&b, 1);
	tinfo(&b, "t", 2, big, QT_F32, 0);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 't': element count overflows");
	bb_free(&b);
	one_tensor_hdr(&b, 1);
	tinfo(&b, "t", 2, sq, QT_F32, 0);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 't': element count overflows");
	bb_free(&b);
	/* 2^63 elements: fits u64, not int64 */
	one_tensor_hdr(&b, 1);
	tinfo(&b, "t", 2, s63, QT_I8, 0);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "element count overflows");
	bb_free(&b);
	/* the element count fits, the bytes do not */
	one_tensor_hdr(&b, 1);
	tinfo1(&b, "t", UINT64_C(1) << 62, QT_F32, 0);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 't': size of 4611686018427387904 F32 "
	    "elements overflows");
	bb_free(&b);
}

static void
test_gguf_parse_zero_dim_is_an_empty_tensor(void **state)	/* G15 */
{
	static const uint64_t ne[2] = { 8, 0 };
	struct bb b = { 0 };
	struct gguf *g;
	const struct gguf_tensor *t;

	(void)state;
	hdr(&b, 3, 2, 0);
	tinfo(&b, "empty", 2, ne, QT_F32, 0);
	tinfo1(&b, "next", 8, QT_F32, 0);	/* same offset: empty took none */
	bb_pad(&b, 32);
	bb_zeros(&b, 32);
	g = parse_ok(&b, NULL);
	t = gguf_tensor_find(g, "empty");
	assert_non_null(t);
	assert_int_equal(t->nelem, 0);
	assert_int_equal(t->nbytes, 0);
	assert_int_equal(t->ne[1], 0);
	assert_int_equal(gguf_tensor_find(g, "next")->offset, t->offset);
	gguf_free(g);
	bb_free(&b);
}

static void
test_gguf_parse_rejects_unknown_types(void **state)		/* G16 */
{
	static const uint32_t bad[] = { 4, 5, 31, 36, 40, 41, 0x7fffffffu,
	    0xffffffffu };
	struct bb b = { 0 };
	struct gguf *g;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char want[80];

		one_tensor_hdr(&b, 1);
		tinfo1(&b, "blk.0.attn_q.weight", 256, bad[k], 0);
		bb_zeros(&b, 2048);
		snprintf(want, sizeof want, "tensor 'blk.0.attn_q.weight': "
		    "unknown type %lu", (unsigned long)bad[k]);
		parse_bad(&b, NULL, want);
		bb_free(&b);
	}
	/* known to ggml but not computed by the engine: the loader's call */
	one_tensor_hdr(&b, 1);
	tinfo1(&b, "t", 256, QT_IQ4_XS, 0);
	bb_pad(&b, 32);
	bb_zeros(&b, 136);
	g = parse_ok(&b, NULL);
	assert_int_equal(gguf_tensor(g, 0)->type, QT_IQ4_XS);
	assert_int_equal(gguf_tensor(g, 0)->nbytes, 136);
	gguf_free(g);
	bb_free(&b);
}

static void
test_gguf_parse_rejects_partial_blocks(void **state)		/* G17 */
{
	static const uint64_t ne[2] = { 33, 2 };
	struct bb b = { 0 };

	(void)state;
	one_tensor_hdr(&b, 1);
	tinfo(&b, "t", 2, ne, QT_Q4_0, 0);
	bb_zeros(&b, 256);
	parse_bad(&b, NULL, "tensor 't': row of 33 elements is not a multiple "
	    "of the Q4_0 block size 32");
	bb_free(&b);
	one_tensor_hdr(&b, 1);
	tinfo1(&b, "t", 128, QT_Q4_K, 0);
	bb_zeros(&b, 256);
	parse_bad(&b, NULL, "not a multiple of the Q4_K block size 256");
	bb_free(&b);
}

/* Two F32 tensors of 8 elements (32 bytes each) at the given offsets. */
static void
two_tensors(struct bb *b, uint64_t off_a, uint64_t off_b)
{
	hdr(b, 3, 2, 0);
	tinfo1(b, "a", 8, QT_F32, off_a);
	tinfo1(b, "b", 8, QT_F32, off_b);
	bb_pad(b, 32);
	bb_zeros(b, 256);
}

static void
test_gguf_parse_rejects_bad_offsets(void **state)		/* G18 */
{
	struct bb b = { 0 };

	(void)state;
	two_tensors(&b, 0, 32);
	gguf_free(parse_ok(&b, NULL));
	bb_free(&b);
	two_tensors(&b, 0, 33);			/* unaligned */
	parse_bad(&b, NULL, "tensor 'b': offset 33 is not a multiple of the "
	    "alignment 32");
	bb_free(&b);
	two_tensors(&b, 32, 0);			/* out of order */
	parse_bad(&b, NULL, "tensor 'a': offset 32 is not the expected 0");
	bb_free(&b);
	two_tensors(&b, 0, 0);			/* overlapping */
	parse_bad(&b, NULL, "tensor 'b': offset 0 is not the expected 32");
	bb_free(&b);
	two_tensors(&b, 0, 64);			/* gap */
	parse_bad(&b, NULL, "tensor 'b': offset 64 is not the expected 32 "
	    "(tensors must be contiguous and in order)");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_data_past_eof(void **state)		/* G19 */
{
	struct bb b = { 0 };
	char want[160];

	(void)state;
	hdr(&b, 3, 2, 0);
	tinfo1(&b, "blk.0.attn_q.weight", 8, QT_F32, 0);
	tinfo1(&b, "x", 8, QT_F32, 32);
	bb_pad(&b, 32);
	bb_zeros(&b, 63);			/* one byte short */
	snprintf(want, sizeof want, "tensor 'x': data ends past the end of the "
	    "file (needs %zu bytes, file has %zu)", b.n + 1, b.n);
	parse_bad(&b, NULL, want);
	bb_free(&b);
	/* a huge tensor in a small file ("Bleeding Llama") */
	hdr(&b, 3, 1, 0);
	tinfo1(&b, "blk.0.attn_q.weight", UINT64_C(1) << 40, QT_F32, 0);
	bb_pad(&b, 32);
	bb_zeros(&b, 64);
	snprintf(want, sizeof want, "tensor 'blk.0.attn_q.weight': data ends "
	    "past the end of the file (needs %zu bytes, file has %zu)",
	    (size_t)(b.n - 64 + (UINT64_C(4) << 40)), b.n);
	parse_bad(&b, NULL, want);
	bb_free(&b);
	/* 2^64 - 32 bytes: the end itself is past 2^64 */
	hdr(&b, 3, 1, 0);
	tinfo1(&b, "t", (UINT64_C(1) << 62) - 8, QT_F32, 0);
	bb_pad(&b, 32);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 't': data ends past the end of the file "
	    "(needs more than 2^64 bytes");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_size_sum_overflow(void **state)	/* G20 */
{
	const uint64_t big = UINT64_C(0x7FFFFFFFFFFFFFC0);
	const uint64_t half = UINT64_C(0x7FFFFFFFFFFFFFE0);
	struct bb b = { 0 };

	(void)state;
	/* CVE-2025-53630: two I8 tensors of 0x7FFFFFFFFFFFFFC0 elements */
	hdr(&b, 3, 2, 0);
	tinfo1(&b, "a", big, QT_I8, 0);
	tinfo1(&b, "b", big, QT_I8, big);
	bb_pad(&b, 32);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 'a': data ends past the end of the file");
	bb_free(&b);
	/* three of them: the running sum itself would wrap */
	hdr(&b, 3, 3, 0);
	tinfo1(&b, "a", half, QT_I8, 0);
	tinfo1(&b, "b", half, QT_I8, half);
	tinfo1(&b, "c", half, QT_I8, 2 * half);
	bb_pad(&b, 32);
	bb_zeros(&b, 64);
	parse_bad(&b, NULL, "tensor 'c': data of 9223372036854775776 bytes "
	    "overflows the data section");
	bb_free(&b);
}

static void
test_gguf_parse_rejects_data_start_past_eof(void **state)	/* G21 */
{
	static const uint64_t ne[1] = { 0 };
	struct bb b = { 0 };
	struct gguf *g;

	(void)state;
	/* an empty tensor, but the padding to the data start is missing */
	hdr(&b, 3, 1, 0);
	tinfo(&b, "t", 1, ne, QT_F32, 0);
	assert_true(b.n % 32 != 0);
	parse_bad(&b, NULL, "data: the data section starts at byte 64, past the "
	    "end of the file (57 bytes)");
	bb_pad(&b, 32);
	g = parse_ok(&b, NULL);
	assert_int_equal(gguf_tensor(g, 0)->nbytes, 0);
	gguf_free(g);
	bb_free(&b);
	/* without tensors the data section may be absent (vocab files) */
	hdr(&b, 3, 0, 1);
	kv_str(&b, "general.name", "v");
	assert_true(b.n % 32 != 0);
	gguf_free(parse_ok(&b, NULL));
	/* trailing bytes after the last tensor (or the metadata) are allowed */
	bb_zeros(&b, 1000);
	gguf_free(parse_ok(&b, NULL));
	bb_free(&b);
}

/* ==== G28-G29 ============================================================ */

static long
max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
test_gguf_parse_million_keys_in_bounded_time(void **state)	/* G28 */
{
	const uint64_t n = UINT64_C(1) << 20;
	struct bb b = { 0 };
	struct gguf *g = NULL;
	char key[16], *cause = NULL;
	uint64_t i;
	uint32_t u;
	double t0, t1;
	long rss0;

	(void)state;
	hdr(&b, 3, 0, n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%07llx", (unsigned long long)i);
		kv_head(&b, key, GGUF_U8);
		bb_u8(&b, (uint8_t)i);
	}
	rss0 = max_rss_kib();
	t0 = now_sec();
	if (gguf_parse_mem(b.p, b.n, NULL, &g, &cause) != 0)
		fail_msg("%s", cause);
	t1 = now_sec();
	assert_int_equal(gguf_n_kv(g), n);
	for (i = 0; i < n; i += 997) {
		snprintf(key, sizeof key, "k%07llx", (unsigned long long)i);
		assert_int_equal(gguf_find(g, key), (int64_t)i);
		assert_int_equal(gguf_get_u32(g, key, &u), 0);
		assert_int_equal(u, (uint8_t)i);
	}
	assert_int_equal(gguf_find(g, "k1000000"), -1);
	/* budget: linear in the pairs, a few seconds even under ASan on a
	 * loaded machine (a quadratic duplicate check takes hours) */
	if (t1 - t0 > 10.0)
		fail_msg("1M keys took %.2f s", t1 - t0);
	/* memory: the file is 21 MiB; index + table stay under 100 MiB */
	if (max_rss_kib() - rss0 > 100 * 1024)
		fail_msg("1M keys grew the peak RSS by %ld KiB",
		    max_rss_kib() - rss0);
	print_message("1M keys: %.3f s, peak RSS +%ld KiB\n", t1 - t0,
	    max_rss_kib() - rss0);
	gguf_free(g);
	/* one pair over the default limit is refused */
	for (i = 0; i < 8; i++)		/* n_kv is the u64 at byte 16 */
		b.p[16 + i] = (uint8_t)((n + 1) >> (8 * i));
	bb_zeros(&b, 14);
	parse_bad(&b, NULL, "n_kv 1048577 exceeds the limit of 1048576");
	bb_free(&b);
}

/* Validation must not live in assert(), which -DNDEBUG removes. */
static void
test_gguf_source_has_no_assert(void **state)			/* G29 */
{
	FILE *fp = fopen("../engine/gguf.c", "r");
	char line[1024];
	int n = 0;

	(void)state;
	if (fp == NULL)
		skip();
	while (fgets(line, sizeof line, fp) != NULL) {
		n++;
		if (strstr(line, "assert(") != NULL ||
		    strstr(line, "assert.h") != NULL ||
		    strstr(line, "abort(") != NULL ||
		    strstr(line, "exit(") != NULL)
			fail_msg("gguf.c:%d: %s", n, line);
	}
	fclose(fp);
	assert_true(n > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gguf_open_stories260k_facts),
		cmocka_unit_test(test_gguf_open_q4_k_m_output_is_q6_k),
		cmocka_unit_test(test_gguf_open_every_shared_file),
		cmocka_unit_test(test_gguf_open_vocab_sizes),
		cmocka_unit_test(test_gguf_parse_small_file_every_type),
		cmocka_unit_test(test_gguf_open_rejects_non_files),
		cmocka_unit_test(test_gguf_parse_rejects_bad_magic_and_short_files),
		cmocka_unit_test(test_gguf_parse_rejects_bad_versions),
		cmocka_unit_test(test_gguf_parse_prefix_sweep_small),
		cmocka_unit_test(test_gguf_parse_prefix_sweep_stories260k),
		cmocka_unit_test(test_gguf_parse_rejects_huge_n_tensors),
		cmocka_unit_test(test_gguf_parse_rejects_huge_n_kv),
		cmocka_unit_test(test_gguf_parse_rejects_bad_keys),
		cmocka_unit_test(test_gguf_parse_key_bytes_are_escaped_in_messages),
		cmocka_unit_test(test_gguf_parse_rejects_duplicate_key),
		cmocka_unit_test(test_gguf_parse_rejects_bad_value_types),
		cmocka_unit_test(test_gguf_parse_nested_arrays_up_to_depth_limit),
		cmocka_unit_test(test_gguf_parse_rejects_huge_arrays),
		cmocka_unit_test(test_gguf_parse_rejects_long_strings),
		cmocka_unit_test(test_gguf_parse_rejects_bad_alignment),
		cmocka_unit_test(test_gguf_parse_rejects_bad_tensor_names),
		cmocka_unit_test(test_gguf_parse_rejects_bad_n_dims),
		cmocka_unit_test(test_gguf_parse_rejects_bad_shapes),
		cmocka_unit_test(test_gguf_parse_zero_dim_is_an_empty_tensor),
		cmocka_unit_test(test_gguf_parse_rejects_unknown_types),
		cmocka_unit_test(test_gguf_parse_rejects_partial_blocks),
		cmocka_unit_test(test_gguf_parse_rejects_bad_offsets),
		cmocka_unit_test(test_gguf_parse_rejects_data_past_eof),
		cmocka_unit_test(test_gguf_parse_rejects_size_sum_overflow),
		cmocka_unit_test(test_gguf_parse_rejects_data_start_past_eof),
		cmocka_unit_test(test_gguf_parse_million_keys_in_bounded_time),
		cmocka_unit_test(test_gguf_source_has_no_assert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
