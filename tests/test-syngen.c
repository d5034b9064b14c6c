/*
 * test-syngen.c - the GGUF writer (lib-ggufw.c) and the synthetic model
 * generator (lib-syngen.c).
 *
 * Every written file is read back with the engine's own reader
 * (engine/gguf.c); the layouts are compared with the golden files made by
 * llama.cpp's tools, and generated models are run through the reference
 * forward pass.
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
#include <sys/stat.h>

#include <cmocka.h>

#include "gguf.h"
#include "lib-ggufw.h"
#include "lib-refmodel.h"
#include "lib-syngen.h"
#include "quant.h"

static char tmpdir[] = "/tmp/test-syngen-XXXXXX";

static const char *
shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s != NULL && s[0] != '\0' ? s : "../../shared";
}

static char *
shared_path(const char *rel)
{
	char	*p = NULL;

	assert_true(asprintf(&p, "%s/%s", shared_dir(), rel) > 0);
	return p;
}

static char *
tmp_path(const char *name)
{
	char	*p = NULL;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

static bool
exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

static struct gguf *
open_ok(const char *path)
{
	struct gguf	*g = NULL;
	char		*cause = NULL;

	if (gguf_open(path, NULL, &g, &cause) != 0)
		fail_msg("gguf_open %s: %s", path, cause);
	return g;
}

static void
gen_ok(const struct syngen_spec *s, const char *path)
{
	char	*cause = NULL;

	if (syngen_write(s, path, &cause) != 0)
		fail_msg("syngen_write %s: %s", path, cause);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char	*buf;
	struct stat	 st;
	FILE		*f;

	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f),
	    (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

static bool
str_eq(struct gguf_str s, const char *c)
{
	return s.n == strlen(c) && memcmp(s.p, c, s.n) == 0;
}

static uint32_t
get_u32(const struct gguf *g, const char *key)
{
	uint32_t	 v = 0;

	if (gguf_get_u32(g, key, &v) != 0)
		fail_msg("missing %s", key);
	return v;
}

/* Scalar `key` widened to double; fails the test if absent. */
static double
scalar(const struct gguf *g, const char *key)
{
	int64_t	 i = gguf_find(g, key);
	double	 d = 0;

	if (i < 0 || gguf_scalar_f64(g, (uint64_t)i, &d) != 0)
		fail_msg("missing scalar %s", key);
	return d;
}

static enum gguf_vtype
vtype(const struct gguf *g, const char *key)
{
	int64_t	 i = gguf_find(g, key);

	if (i < 0)
		fail_msg("missing %s", key);
	return gguf_type(g, (uint64_t)i);
}

/* The raw elements of scalar array `key`. */
static const void *
arr(const struct gguf *g, const char *key)
{
	enum gguf_vtype	 elem;
	uint64_t	 count;
	int64_t		 idx;

	if (gguf_get_arr(g, key, &elem, &count, &idx) != 0)
		fail_msg("missing array %s", key);
	return gguf_arr_data(g, (uint64_t)idx);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char	*cmd = NULL;

	(void)state;
	if (asprintf(&cmd, "rm -rf '%s'", tmpdir) > 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	free(cmd);
	return 0;
}

/* ==== the writer ========================================================== */

static void
test_ggufw_roundtrip_every_value_type(void **state)
{
	static const int16_t	 i16s[] = { -32768, -1, 0, 32767 };
	static const float	 f32s[] = { 1.5f, -0.0f, 3.25e-7f };
	static const double	 f64s[] = { 1e300, -2.5 };
	static const uint8_t	 bools[] = { 1, 0, 1 };
	static const uint64_t	 u64s[] = { 0, UINT64_MAX };
	struct ggufw		*w = NULL;
	struct gguf		*g;
	const struct gguf_tensor *t0, *t1;
	struct gguf_str		 s;
	enum gguf_vtype		 elem;
	uint64_t		 count, u64;
	int64_t			 idx;
	float			 f, vec[3] = { 1, 2, 3 }, row[64];
	unsigned char		 q8[2 * 34];
	char			*path = tmp_path("kv.gguf"), *cause = NULL;
	int64_t			 ne1[1] = { 3 }, ne2[2] = { 32, 2 };
	bool			 b;
	int			 i;

	(void)state;
	assert_int_equal(ggufw_open(path, 64, &w, &cause), 0);
	ggufw_kv_u32(w, "general.alignment", 64);
	ggufw_kv_u8(w, "t.u8", 200);
	ggufw_kv_i8(w, "t.i8", -100);
	ggufw_kv_u16(w, "t.u16", 65535);
	ggufw_kv_i16(w, "t.i16", -30000);
	ggufw_kv_i32(w, "t.i32", -2000000000);
	ggufw_kv_u64(w, "t.u64", UINT64_MAX);
	ggufw_kv_i64(w, "t.i64", -5);
	ggufw_kv_f32(w, "t.f32", 0.1f);
	ggufw_kv_f64(w, "t.f64", 0.1);
	ggufw_kv_bool(w, "t.bool", true);
	ggufw_kv_str(w, "t.str", "a\0b", 3);
	ggufw_kv_arr(w, "t.ai16", GGUF_I16, i16s, 4);
	ggufw_kv_arr(w, "t.af32", GGUF_F32, f32s, 3);
	ggufw_kv_arr(w, "t.af64", GGUF_F64, f64s, 2);
	ggufw_kv_arr(w, "t.abool", GGUF_BOOL, bools, 3);
	ggufw_kv_arr(w, "t.au64", GGUF_U64, u64s, 2);
	ggufw_kv_arr(w, "t.aempty", GGUF_U32, NULL, 0);
	ggufw_kv_arr_str(w, "t.astr", 3);
	ggufw_arr_str(w, "one", 3);
	ggufw_arr_str(w, "", 0);
	ggufw_arr_str(w, "\xe2\x96\x81three", 8);
	assert_int_equal(ggufw_tensor(w, "vec", QT_F32, 1, ne1), 0);
	assert_int_equal(ggufw_tensor(w, "mat", QT_Q8_0, 2, ne2), 0);
	assert_int_equal(ggufw_data_left(w), 12 + 2 * 34);
	for (i = 0; i < 64; i++)
		row[i] = (float)(i - 20) / 8;
	assert_int_equal(quant_quantize_row(QT_Q8_0, row, q8, 64), 0);
	/* chunks that straddle the tensor boundary */
	assert_int_equal(ggufw_data(w, vec, 8), 0);
	memcpy(row, (unsigned char *)vec + 8, 4);
	memcpy((unsigned char *)row + 4, q8, 10);
	assert_int_equal(ggufw_data(w, row, 14), 0);
	assert_int_equal(ggufw_data(w, q8 + 10, sizeof(q8) - 10), 0);
	assert_int_equal(ggufw_data_left(w), 0);
	if (ggufw_close(w, &cause) != 0)
		fail_msg("%s", cause);

	g = open_ok(path);
	assert_int_equal(gguf_version(g), 3);
	assert_int_equal(gguf_alignment(g), 64);
	assert_int_equal(gguf_n_kv(g), 19);
	assert_int_equal(get_u32(g, "t.u8"), 200);
	assert_true(scalar(g, "t.i8") == -100);
	assert_int_equal(get_u32(g, "t.u16"), 65535);
	assert_true(scalar(g, "t.i16") == -30000);
	assert_true(scalar(g, "t.i32") == -2000000000);
	assert_int_equal(gguf_get_u64(g, "t.u64", &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(vtype(g, "t.i64"), GGUF_I64);
	assert_true(scalar(g, "t.i64") == -5);
	assert_int_equal(gguf_get_f32(g, "t.f32", &f), 0);
	assert_true(f == 0.1f);
	assert_int_equal(vtype(g, "t.f64"), GGUF_F64);
	assert_true(scalar(g, "t.f64") == 0.1);
	assert_int_equal(gguf_get_bool(g, "t.bool", &b), 0);
	assert_true(b);
	assert_int_equal(gguf_get_str(g, "t.str", &s), 0);
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.p, "a\0b", 3);
	assert_int_equal(gguf_get_arr(g, "t.ai16", &elem, &count, &idx), 0);
	assert_int_equal(elem, GGUF_I16);
	assert_int_equal(count, 4);
	assert_memory_equal(arr(g, "t.ai16"), i16s, sizeof(i16s));
	assert_memory_equal(arr(g, "t.af32"), f32s, sizeof(f32s));
	assert_memory_equal(arr(g, "t.af64"), f64s, sizeof(f64s));
	assert_int_equal(gguf_get_arr(g, "t.abool", &elem, &count, &idx), 0);
	assert_int_equal(elem, GGUF_BOOL);
	assert_memory_equal(gguf_arr_data(g, (uint64_t)idx), bools, 3);
	assert_memory_equal(arr(g, "t.au64"), u64s, sizeof(u64s));
	assert_int_equal(gguf_get_arr(g, "t.aempty", &elem, &count, &idx), 0);
	assert_int_equal(count, 0);
	assert_int_equal(gguf_get_arr(g, "t.astr", &elem, &count, &idx), 0);
	assert_int_equal(elem, GGUF_STR);
	assert_int_equal(count, 3);
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 0, &s), 0);
	assert_true(str_eq(s, "one"));
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 1, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(gguf_arr_str(g, (uint64_t)idx, 2, &s), 0);
	assert_true(str_eq(s, "\xe2\x96\x81three"));

	assert_int_equal(gguf_n_tensors(g), 2);
	t0 = gguf_tensor_find(g, "vec");
	t1 = gguf_tensor_find(g, "mat");
	assert_non_null(t0);
	assert_non_null(t1);
	assert_int_equal(t0->offset % 64, 0);
	assert_int_equal(t1->offset, t0->offset + 64);	/* 12 bytes, padded */
	assert_int_equal(t1->type, QT_Q8_0);
	assert_int_equal(t1->ne[0], 32);
	assert_int_equal(t1->ne[1], 2);
	assert_memory_equal(t0->data, vec, sizeof(vec));
	assert_memory_equal(t1->data, q8, sizeof(q8));
	gguf_free(g);
	free(path);
}

static void
test_ggufw_rejects_misuse(void **state)
{
	struct ggufw	*w = NULL;
	char		*path = tmp_path("bad.gguf"), *cause = NULL;
	int64_t		 ne[2] = { 4, 1 }, ne33[1] = { 33 };
	float		 v[8] = { 0 };

	(void)state;
	/* alignment must be a power of two */
	assert_int_equal(ggufw_open(path, 48, &w, &cause), -1);
	assert_non_null(strstr(cause, "power of two"));
	free(cause);
	cause = NULL;

	/* more data than declared */
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "t", QT_F32, 2, ne), 0);
	assert_int_equal(ggufw_data(w, v, sizeof(v)), -1);
	assert_int_equal(ggufw_close(w, &cause), -1);
	assert_non_null(strstr(cause, "beyond"));
	assert_false(exists(path));	/* no half-written model left */
	free(cause);
	cause = NULL;

	/* less data than declared */
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "t", QT_F32, 2, ne), 0);
	assert_int_equal(ggufw_data(w, v, 8), 0);
	assert_int_equal(ggufw_close(w, &cause), -1);
	assert_non_null(strstr(cause, "missing 8 bytes"));
	assert_false(exists(path));
	free(cause);
	cause = NULL;

	/* metadata after data; errors are sticky */
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "t", QT_F32, 2, ne), 0);
	assert_int_equal(ggufw_data(w, v, 16), 0);
	assert_int_equal(ggufw_kv_u32(w, "late", 1), -1);
	assert_int_equal(ggufw_tensor(w, "u", QT_F32, 2, ne), -1);
	assert_int_equal(ggufw_close(w, &cause), -1);
	assert_non_null(strstr(cause, "late"));
	free(cause);
	cause = NULL;

	/* a string array short of its count */
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_kv_arr_str(w, "a", 2), 0);
	assert_int_equal(ggufw_arr_str(w, "x", 1), 0);
	assert_int_equal(ggufw_kv_u32(w, "next", 1), -1);
	ggufw_abort(w);
	assert_false(exists(path));

	/* bad tensors: duplicate name, partial block, unknown type, 5 dims */
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "t", QT_F32, 2, ne), 0);
	assert_int_equal(ggufw_tensor(w, "t", QT_F32, 2, ne), -1);
	ggufw_abort(w);
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "q", QT_Q4_0, 1, ne33), -1);
	ggufw_abort(w);
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "q", 4, 1, ne33), -1);
	ggufw_abort(w);
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	assert_int_equal(ggufw_tensor(w, "q", QT_F32, 5, ne), -1);
	ggufw_abort(w);
	ggufw_abort(NULL);
	assert_int_equal(ggufw_close(NULL, NULL), -1);
	assert_false(exists(path));
	free(path);
}

/* Every pair of a and b equal in key, type and value. */
static void
assert_kv_equal(const struct gguf *a, uint64_t ia, const struct gguf *b,
    uint64_t ib)
{
	struct gguf_str	 ka = gguf_key(a, ia), kb = gguf_key(b, ib), sa, sb;
	enum gguf_vtype	 ea, eb;
	uint64_t	 ca, cb, j, ua, ub;
	int64_t		 xa, xb;
	double		 da, db;
	char		 key[256];

	assert_int_equal(ka.n, kb.n);
	assert_memory_equal(ka.p, kb.p, ka.n);
	snprintf(key, sizeof(key), "%.*s", (int)ka.n, ka.p);
	if (gguf_type(a, ia) != gguf_type(b, ib))
		fail_msg("%s: type %d vs %d", key, gguf_type(a, ia),
		    gguf_type(b, ib));
	switch (gguf_type(a, ia)) {
	case GGUF_STR:
		assert_int_equal(gguf_get_str(a, key, &sa), 0);
		assert_int_equal(gguf_get_str(b, key, &sb), 0);
		assert_int_equal(sa.n, sb.n);
		assert_memory_equal(sa.p, sb.p, sa.n);
		break;
	case GGUF_ARR:
		assert_int_equal(gguf_get_arr(a, key, &ea, &ca, &xa), 0);
		assert_int_equal(gguf_get_arr(b, key, &eb, &cb, &xb), 0);
		assert_int_equal(ea, eb);
		assert_int_equal(ca, cb);
		if (ea == GGUF_STR) {
			for (j = 0; j < ca; j++) {
				assert_int_equal(gguf_arr_str(a, (uint64_t)xa,
				    j, &sa), 0);
				assert_int_equal(gguf_arr_str(b, (uint64_t)xb,
				    j, &sb), 0);
				if (sa.n != sb.n ||
				    memcmp(sa.p, sb.p, sa.n) != 0)
					fail_msg("%s[%llu] differs", key,
					    (unsigned long long)j);
			}
		} else {
			const char *pa = gguf_arr_data(a, (uint64_t)xa);
			const char *pb = gguf_arr_data(b, (uint64_t)xb);
			size_t sz = ea == GGUF_U8 || ea == GGUF_I8 ||
			    ea == GGUF_BOOL ? 1 : ea == GGUF_U16 ||
			    ea == GGUF_I16 ? 2 : ea == GGUF_U64 ||
			    ea == GGUF_I64 || ea == GGUF_F64 ? 8 : 4;

			assert_memory_equal(pa, pb, ca * sz);
		}
		break;
	case GGUF_U64:
		assert_int_equal(gguf_get_u64(a, key, &ua), 0);
		assert_int_equal(gguf_get_u64(b, key, &ub), 0);
		assert_true(ua == ub);
		break;
	default:
		assert_int_equal(gguf_scalar_f64(a, ia, &da), 0);
		assert_int_equal(gguf_scalar_f64(b, ib, &db), 0);
		if (da != db)
			fail_msg("%s: %.17g vs %.17g", key, da, db);
		break;
	}
}

static void
test_ggufw_kv_copy_is_verbatim(void **state)
{
	struct ggufw	*w = NULL;
	struct gguf	*src, *dst;
	char		*spath = shared_path("golden/ggml-vocab-qwen3.gguf");
	char		*path = tmp_path("copy.gguf"), *cause = NULL;
	uint64_t	 i;

	(void)state;
	src = open_ok(spath);
	assert_int_equal(ggufw_open(path, 0, &w, NULL), 0);
	for (i = 0; i < gguf_n_kv(src); i++)
		assert_int_equal(ggufw_kv_copy(w, src, i), 0);
	if (ggufw_close(w, &cause) != 0)
		fail_msg("%s", cause);
	dst = open_ok(path);
	assert_int_equal(gguf_n_kv(dst), gguf_n_kv(src));
	for (i = 0; i < gguf_n_kv(src); i++)
		assert_kv_equal(src, i, dst, i);
	gguf_free(src);
	gguf_free(dst);
	free(spath);
	free(path);
}

/* ==== the generator ======================================================= */

static void
test_syngen_same_args_same_bytes(void **state)
{
	struct syngen_spec	 s;
	char			*stories = shared_path(
				    "models/stories260K.gguf");
	char			*a = tmp_path("det-a.gguf");
	char			*b = tmp_path("det-b.gguf");
	unsigned char		*ba, *bb;
	size_t			 la, lb;
	int			 k;

	(void)state;
	for (k = 0; k < 2; k++) {
		syngen_defaults(&s);
		if (k == 0) {
			s.type = "Q4_K_M";
			s.vocab_from = stories;
		} else {
			s.arch = "qwen3";
			s.type = "Q8_0";
		}
		s.seed = 42;
		gen_ok(&s, a);
		gen_ok(&s, b);
		ba = slurp(a, &la);
		bb = slurp(b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(ba, bb, la);
		free(bb);
		/* another seed: same size, other weights */
		s.seed = 43;
		gen_ok(&s, b);
		bb = slurp(b, &lb);
		assert_int_equal(la, lb);
		assert_memory_not_equal(ba, bb, la);
		free(ba);
		free(bb);
	}
	free(stories);
	free(a);
	free(b);
}

/*
 * Threads split each batch of rows; the bytes must not depend on how
 * many there are (token_embd here spans several 8 MiB batches).
 */
static void
test_syngen_threads_do_not_change_bytes(void **state)
{
	struct syngen_spec	 s;
	char			*a = tmp_path("th-a.gguf");
	char			*b = tmp_path("th-b.gguf");
	unsigned char		*ba, *bb;
	size_t			 la, lb;

	(void)state;
	syngen_defaults(&s);
	s.n_layer = 1;
	s.n_vocab = 40000;
	s.n_threads = 1;
	gen_ok(&s, a);
	s.n_threads = 3;
	gen_ok(&s, b);
	ba = slurp(a, &la);
	bb = slurp(b, &lb);
	assert_true(la > 40000 * 256 * 4);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(ba);
	free(bb);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}

/* Each 2-D weight has `want`; 1-D tensors are F32. */
static void
assert_types(const struct gguf *g, uint32_t want)
{
	const struct gguf_tensor	*t;
	uint64_t			 i;

	for (i = 0; i < gguf_n_tensors(g); i++) {
		t = gguf_tensor(g, i);
		if (t->n_dims == 1 ? t->type != QT_F32 : t->type != want)
			fail_msg("%s: type %u, expected %u", t->name, t->type,
			    t->n_dims == 1 ? QT_F32 : want);
	}
}

static void
test_syngen_every_type_opens(void **state)
{
	static const struct {
		const char	*name;
		uint32_t	 type, ftype;
	} types[] = {
		{ "F32", QT_F32, 0 }, { "F16", QT_F16, 1 },
		{ "BF16", QT_BF16, 32 }, { "Q8_0", QT_Q8_0, 7 },
		{ "Q4_0", QT_Q4_0, 2 }, { "Q4_1", QT_Q4_1, 3 },
		{ "Q5_0", QT_Q5_0, 8 }, { "Q5_1", QT_Q5_1, 9 },
		{ "q4_k", QT_Q4_K, 15 }, { "Q5_K", QT_Q5_K, 17 },
		{ "Q6_K", QT_Q6_K, 18 },
	};
	static const char *const archs[] = { "llama", "qwen2", "qwen3" };
	struct syngen_spec	 s;
	struct gguf		*g;
	struct gguf_str		 a;
	char			*path = tmp_path("type.gguf");
	size_t			 i, j;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (j = 0; j < 3; j++) {
			syngen_defaults(&s);
			s.arch = archs[j];
			s.type = types[i].name;
			s.n_layer = 1;
			gen_ok(&s, path);
			g = open_ok(path);
			assert_int_equal(gguf_get_str(g, "general.architecture",
			    &a), 0);
			assert_true(str_eq(a, archs[j]));
			assert_int_equal(get_u32(g, "general.file_type"),
			    types[i].ftype);
			assert_types(g, types[i].type);
			assert_int_equal(gguf_n_tensors(g), 3 + 9 +
			    (j == 1 ? 3 : j == 2 ? 2 : 0));
			gguf_free(g);
		}
	}
	free(path);
}

static uint32_t
tensor_type(const struct gguf *g, const char *name)
{
	const struct gguf_tensor	*t = gguf_tensor_find(g, name);

	if (t == NULL)
		fail_msg("no tensor %s", name);
	return t->type;
}

/* Type of blk.<il>.<suffix>. */
static uint32_t
blk_type(const struct gguf *g, int il, const char *suffix)
{
	char	 name[GGUF_MAX_NAME];

	snprintf(name, sizeof(name), "blk.%d.%s", il, suffix);
	return tensor_type(g, name);
}

/*
 * llama-quantize's use_more_bits(i, 8): i < 1, i >= 7 or (i - 1) % 3 == 2,
 * so layers 0, 3, 6 and 7 get Q6_K attn_v and ffn_down.
 */
static void
test_syngen_q4_k_m_mix_8_layers(void **state)
{
	static const bool	 more[8] = { 1, 0, 0, 1, 0, 0, 1, 1 };
	static const char *const plain[] = {
		"attn_q.weight", "attn_k.weight", "attn_output.weight",
		"ffn_gate.weight", "ffn_up.weight",
	};
	struct syngen_spec	 s;
	struct gguf		*g;
	char			*path = tmp_path("mix.gguf");
	int			 il, k, variant;
	uint32_t		 base, v_other;

	(void)state;
	for (variant = 0; variant < 4; variant++) {
		syngen_defaults(&s);
		s.n_layer = 8;
		s.type = variant == 3 ? "Q5_K_M" : "Q4_K_M";
		base = variant == 3 ? QT_Q5_K : QT_Q4_K;
		v_other = base;
		if (variant >= 1) {
			/* GQA >= 4: attn_v a step up in the other layers */
			s.n_head = 8;
			s.n_head_kv = 2;
			s.head_dim = 32;
			v_other = base == QT_Q4_K ? QT_Q5_K : QT_Q6_K;
		}
		s.tied = variant == 2;
		gen_ok(&s, path);
		g = open_ok(path);
		assert_int_equal(get_u32(g, "general.file_type"),
		    variant == 3 ? 17 : 15);
		for (il = 0; il < 8; il++) {
			assert_int_equal(blk_type(g, il, "attn_v.weight"),
			    more[il] ? QT_Q6_K : v_other);
			assert_int_equal(blk_type(g, il, "ffn_down.weight"),
			    more[il] ? QT_Q6_K : base);
			for (k = 0; k < 5; k++)
				assert_int_equal(blk_type(g, il, plain[k]),
				    base);
			assert_int_equal(blk_type(g, il, "attn_norm.weight"),
			    QT_F32);
		}
		if (s.tied) {
			/* the embedding stands in for the output */
			assert_null(gguf_tensor_find(g, "output.weight"));
			assert_int_equal(tensor_type(g, "token_embd.weight"),
			    QT_Q6_K);
		} else {
			assert_int_equal(tensor_type(g, "output.weight"),
			    QT_Q6_K);
			assert_int_equal(tensor_type(g, "token_embd.weight"),
			    base);
		}
		gguf_free(g);
	}
	free(path);
}

/* Rows that are not 256 wide fall back as llama-quantize does. */
static void
test_syngen_k_quant_fallback_for_narrow_rows(void **state)
{
	struct syngen_spec	 s;
	struct gguf		*g;
	char			*path = tmp_path("narrow.gguf"), *cause = NULL;

	(void)state;
	syngen_defaults(&s);
	s.type = "Q4_K_M";
	s.n_embd = 288;	/* 9 x 32 */
	s.head_dim = 72;
	s.n_ff = 768;	/* 3 x 256 */
	gen_ok(&s, path);
	g = open_ok(path);
	assert_int_equal(tensor_type(g, "output.weight"), QT_Q8_0);
	assert_int_equal(tensor_type(g, "token_embd.weight"), QT_Q5_0);
	assert_int_equal(blk_type(g, 1, "attn_v.weight"), QT_Q8_0);
	assert_int_equal(blk_type(g, 1, "ffn_down.weight"), QT_Q6_K);
	assert_int_equal(blk_type(g, 0, "ffn_down.weight"), QT_Q4_K);
	gguf_free(g);

	/* plain types cannot fall back: a clear error, no file */
	s.type = "Q4_0";
	s.n_embd = 264;
	s.head_dim = 66;
	assert_int_equal(syngen_write(&s, path, &cause), -1);
	assert_non_null(strstr(cause, "token_embd.weight"));
	assert_false(exists(path));
	free(cause);
	free(path);
}

/*
 * Generated with the golden files' hparams, the layout is theirs: the same
 * keys and values (but general.name, plus our general.alignment), the
 * same tensors in the same order with the same shapes, types and
 * relative offsets.
 */
static void
test_syngen_matches_golden_layout(void **state)
{
	static const struct {
		const char	*golden, *arch, *type;
		bool		 rope3;
	} files[] = {
		{ "syn-llama-f32.gguf", "llama", "F32", false },
		{ "syn-llama-q4_k_m.gguf", "llama", "Q4_K_M", false },
		{ "syn-llama-q5_k_m.gguf", "llama", "Q5_K_M", false },
		{ "syn-llama-q4_k.gguf", "llama", "Q4_K", false },
		{ "syn-llama-bf16.gguf", "llama", "BF16", false },
		{ "syn-llama-f16.gguf", "llama", "F16", false },
		{ "syn-llama-q4_0.gguf", "llama", "Q4_0", false },
		{ "syn-llama-q5_1.gguf", "llama", "Q5_1", false },
		{ "syn-llama-q6_k.gguf", "llama", "Q6_K", false },
		{ "syn-qwen3-f32.gguf", "qwen3", "F32", false },
		{ "syn-qwen2-q8_0.gguf", "qwen2", "Q8_0", false },
		{ "syn-qwen3-q8_0.gguf", "qwen3", "Q8_0", false },
		{ "syn-llama3rope-q8_0.gguf", "llama", "Q8_0", true },
	};
	struct syngen_spec	 s;
	struct gguf		*gg, *gn;
	const struct gguf_tensor *a, *b;
	struct gguf_str		 k;
	char			 rel[96];
	char			*gpath, *path = tmp_path("layout.gguf");
	char			*stories;
	uint64_t		 i, j, n_extra = 0;
	int64_t			 ix;
	size_t			 f;

	(void)state;
	stories = shared_path("models/stories260K.gguf");
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		syngen_defaults(&s);
		s.arch = files[f].arch;
		s.type = files[f].type;
		s.vocab_from = stories;
		if (files[f].rope3) {
			s.rope_base = 500000.0f;
			s.rope_freqs = true;
			s.rf_orig_ctx = 256;
			s.tied = true;
		}
		gen_ok(&s, path);
		snprintf(rel, sizeof(rel), "golden/%s", files[f].golden);
		gpath = shared_path(rel);
		gg = open_ok(gpath);
		gn = open_ok(path);
		for (i = 0; i < gguf_n_kv(gg); i++) {
			k = gguf_key(gg, i);
			if (str_eq(k, "general.name"))
				continue;
			snprintf(rel, sizeof(rel), "%.*s", (int)k.n, k.p);
			if ((ix = gguf_find(gn, rel)) < 0)
				fail_msg("%s: key %s missing", files[f].golden,
				    rel);
			assert_kv_equal(gg, i, gn, (uint64_t)ix);
		}
		/* only general.alignment is ours */
		for (j = 0, n_extra = 0; j < gguf_n_kv(gn); j++) {
			k = gguf_key(gn, j);
			snprintf(rel, sizeof(rel), "%.*s", (int)k.n, k.p);
			if (gguf_find(gg, rel) < 0) {
				assert_string_equal(rel, "general.alignment");
				n_extra++;
			}
		}
		assert_true(n_extra <= 1);
		assert_int_equal(gguf_n_tensors(gn), gguf_n_tensors(gg));
		for (i = 0; i < gguf_n_tensors(gg); i++) {
			a = gguf_tensor(gg, i);
			b = gguf_tensor(gn, i);
			assert_string_equal(a->name, b->name);
			if (a->type != b->type)
				fail_msg("%s: %s type %u, golden %u",
				    files[f].golden, a->name, b->type, a->type);
			assert_int_equal(a->n_dims, b->n_dims);
			assert_memory_equal(a->ne, b->ne, sizeof(a->ne));
			assert_int_equal(a->offset - gguf_tensor(gg, 0)->offset,
			    b->offset - gguf_tensor(gn, 0)->offset);
		}
		gguf_free(gg);
		gguf_free(gn);
		free(gpath);
	}
	free(stories);
	free(path);
}

/* README section 1: [1 x6, 1.202, 2.203, 4.923, 27.27, 32 x22]. */
static void
test_syngen_rope_freqs_match_golden(void **state)
{
	struct gguf			*g;
	const struct gguf_tensor	*t;
	char				*gpath;
	float				 f[32];
	const float			*gold;
	int				 i;

	(void)state;
	syngen_llama3_factors(500000.0f, 64, 32, 1, 4, 256, f);
	gpath = shared_path("golden/syn-llama3rope-f32.gguf");
	g = open_ok(gpath);
	t = gguf_tensor_find(g, "rope_freqs.weight");
	assert_non_null(t);
	assert_int_equal(t->ne[0], 32);
	gold = t->data;
	for (i = 0; i < 32; i++)
		if (fabsf(f[i] - gold[i]) > 1e-6f * gold[i])
			fail_msg("factor %d: %.9g, golden %.9g", i, f[i],
			    gold[i]);
	assert_true(f[5] == 1.0f && f[10] == 32.0f);
	assert_true(fabsf(f[6] - 1.202f) < 1e-3f);
	assert_true(fabsf(f[9] - 27.27f) < 1e-2f);
	/* Llama 3.1/3.2 shape: factor 32 over 8192 positions, head 64 */
	syngen_llama3_factors(500000.0f, 64, 32, 1, 4, 8192, f);
	assert_true(f[0] == 1.0f && f[31] == 32.0f);
	gguf_free(g);
	free(gpath);
}

/* A generated model runs through the reference and gives sane logits. */
static void
test_syngen_ref_logits_finite(void **state)
{
	static const int32_t	 ids[] = { 1, 300, 301, 7, 511, 259, 42, 2 };
	static const char *const archs[] = { "llama", "qwen2", "qwen3",
	    "llama" };
	struct syngen_spec	 s;
	struct refmodel		*m = NULL;
	struct refmodel_opts	 o = { .kv_f16 = false };
	char			*path = tmp_path("ref.gguf"), *cause = NULL;
	float			*out;
	double			 sum, sq, mean, sd;
	size_t			 n = sizeof(ids) / sizeof(ids[0]), i, k;

	(void)state;
	out = calloc(n * 512, sizeof(float));
	assert_non_null(out);
	for (k = 0; k < 4; k++) {
		syngen_defaults(&s);
		s.arch = archs[k];
		s.rope_freqs = k == 3;
		s.tied = k == 3;
		gen_ok(&s, path);
		if (refmodel_open(path, &o, &m, &cause) != 0)
			fail_msg("%s", cause);
		assert_int_equal(refmodel_logits(m, ids, n, out), 0);
		sum = sq = 0;
		for (i = 0; i < n * 512; i++) {
			assert_true(isfinite(out[i]));
			sum += out[i];
			sq += (double)out[i] * out[i];
		}
		mean = sum / (n * 512);
		sd = sqrt(sq / (n * 512) - mean * mean);
		printf("    generated %s%s: logit mean %.3f sd %.3f\n",
		    archs[k], k == 3 ? " (rope_freqs, tied)" : "", mean, sd);
		assert_true(sd > 0.3 && sd < 30);
		refmodel_free(m);
		m = NULL;
	}
	free(out);
	free(path);
}

static void
test_syngen_synthetic_vocab(void **state)
{
	struct syngen_spec	 s;
	struct gguf		*g;
	struct gguf_str		 t, u;
	enum gguf_vtype		 elem;
	uint64_t		 n, i, j;
	int64_t			 ix, it;
	int32_t			 types[1000];
	char			*path = tmp_path("spm.gguf");

	(void)state;
	syngen_defaults(&s);
	s.n_vocab = 1000;
	gen_ok(&s, path);
	g = open_ok(path);
	assert_int_equal(get_u32(g, "llama.vocab_size"), 1000);
	assert_int_equal(gguf_tensor_find(g, "token_embd.weight")->ne[1], 1000);
	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n,
	    &ix), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.token_type", &elem,
	    NULL, &it), 0);
	assert_int_equal(elem, GGUF_I32);
	/* array data sits unaligned in the file */
	memcpy(types, gguf_arr_data(g, (uint64_t)it), sizeof(types));
	gguf_arr_str(g, (uint64_t)ix, 0, &t);
	assert_true(str_eq(t, "<unk>"));
	gguf_arr_str(g, (uint64_t)ix, 1, &t);
	assert_true(str_eq(t, "<s>"));
	gguf_arr_str(g, (uint64_t)ix, 3, &t);
	assert_true(str_eq(t, "<0x00>"));
	gguf_arr_str(g, (uint64_t)ix, 258, &t);
	assert_true(str_eq(t, "<0xFF>"));
	gguf_arr_str(g, (uint64_t)ix, 259, &t);
	assert_true(str_eq(t, "\xe2\x96\x81" "a"));
	gguf_arr_str(g, (uint64_t)ix, 259 + 26, &t);
	assert_true(str_eq(t, "\xe2\x96\x81" "aa"));
	assert_int_equal(types[0], 2);
	assert_int_equal(types[1], 3);
	assert_int_equal(types[100], 6);
	assert_int_equal(types[999], 1);
	/* pieces are distinct (a tokenizer needs that) */
	for (i = 259; i < n; i++)
		for (j = i + 1; j < n; j++) {
			gguf_arr_str(g, (uint64_t)ix, i, &t);
			gguf_arr_str(g, (uint64_t)ix, j, &u);
			if (t.n == u.n && memcmp(t.p, u.p, t.n) == 0)
				fail_msg("tokens %llu and %llu are equal",
				    (unsigned long long)i,
				    (unsigned long long)j);
		}
	assert_int_equal(get_u32(g, "tokenizer.ggml.bos_token_id"), 1);
	assert_int_equal(get_u32(g, "tokenizer.ggml.eos_token_id"), 2);
	gguf_free(g);
	free(path);
}

static void
check_tiny_vocab(const char *json)
{
	static const char *const tokens[16] = {
		"a", "b", "c", "\xc4\xa0", "ab", "\xc4\xa0" "a",
		"\xc4\xa0" "ab", "abc", "bc", "\xc4\xa0\xc4\xa0",
		"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>",
		"[PAD14]", "<|tool|>",
	};
	static const int32_t types[16] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 4, 5, 3,
	};
	static const char *const merges[] = {
		"a b", "\xc4\xa0 a", "\xc4\xa0" "a b", "ab c", "b c",
		"\xc4\xa0 \xc4\xa0",
	};
	struct syngen_spec	 s;
	struct gguf		*g;
	struct gguf_str		 t;
	enum gguf_vtype		 elem;
	uint64_t		 n, i;
	int64_t			 ix;
	bool			 b;
	char			*path = tmp_path("bpe.gguf");

	syngen_defaults(&s);
	s.arch = "qwen3";
	s.tok_json = json;
	s.tok_config = "fixtures/good-tokenizer-tiny-config.json";
	s.n_embd = 64;
	s.head_dim = 16;
	s.n_ff = 128;
	gen_ok(&s, path);
	g = open_ok(path);
	assert_int_equal(gguf_get_str(g, "tokenizer.ggml.model", &t), 0);
	assert_true(str_eq(t, "gpt2"));
	assert_int_equal(gguf_get_str(g, "tokenizer.ggml.pre", &t), 0);
	assert_true(str_eq(t, "qwen2"));
	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n,
	    &ix), 0);
	assert_int_equal(n, 16);
	for (i = 0; i < n; i++) {
		assert_int_equal(gguf_arr_str(g, (uint64_t)ix, i, &t), 0);
		if (!str_eq(t, tokens[i]))
			fail_msg("token %llu: '%.*s', expected '%s'",
			    (unsigned long long)i, (int)t.n, t.p, tokens[i]);
	}
	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.token_type", &elem,
	    &n, &ix), 0);
	assert_int_equal(elem, GGUF_I32);
	assert_memory_equal(gguf_arr_data(g, (uint64_t)ix), types,
	    sizeof(types));
	assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.merges", &elem, &n,
	    &ix), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		assert_int_equal(gguf_arr_str(g, (uint64_t)ix, i, &t), 0);
		assert_true(str_eq(t, merges[i]));
	}
	assert_int_equal(gguf_find(g, "tokenizer.ggml.bos_token_id"), -1);
	assert_int_equal(get_u32(g, "tokenizer.ggml.eos_token_id"), 12);
	assert_int_equal(get_u32(g, "tokenizer.ggml.padding_token_id"), 10);
	assert_int_equal(gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b),
	    0);
	assert_false(b);
	assert_int_equal(gguf_get_str(g, "tokenizer.chat_template", &t), 0);
	assert_true(t.n > 20 && memcmp(t.p, "{% for message", 14) == 0);
	assert_int_equal(get_u32(g, "qwen3.vocab_size"), 16);
	assert_int_equal(gguf_tensor_find(g, "token_embd.weight")->ne[1], 16);
	gguf_free(g);
	free(path);
}

static void
test_syngen_tokenizer_json_vocab(void **state)
{
	struct syngen_spec	 s;
	char			*path = tmp_path("bad.gguf"), *cause = NULL;

	(void)state;
	check_tiny_vocab("fixtures/good-tokenizer-tiny.json");
	/* tokenizers >= 0.20 write merges as pairs: same result */
	check_tiny_vocab("fixtures/good-tokenizer-tiny-pairs.json");

	syngen_defaults(&s);
	s.tok_json = "fixtures/bad-tokenizer-negative-id.json";
	assert_int_equal(syngen_write(&s, path, &cause), -1);
	assert_non_null(strstr(cause, "bad id"));
	assert_false(exists(path));
	free(cause);
	cause = NULL;
	/* a vocab size below the largest id */
	s.tok_json = "fixtures/good-tokenizer-tiny.json";
	s.n_vocab = 12;
	assert_int_equal(syngen_write(&s, path, &cause), -1);
	assert_non_null(strstr(cause, "does not fit"));
	free(cause);
	free(path);
}

static void
test_syngen_rejects_bad_specs(void **state)
{
	struct syngen_spec	 s;
	char			*path = tmp_path("reject.gguf"), *cause = NULL;
	int			 k;

	(void)state;
	for (k = 0; k < 9; k++) {
		syngen_defaults(&s);
		switch (k) {
		case 0: s.arch = "gpt2"; break;
		case 1: s.type = "Q3_K"; break;
		case 2: s.n_head_kv = 3; break;
		case 3: s.arch = "qwen2"; s.rope_freqs = true; break;
		case 4: s.n_layer = 0; break;
		case 5: s.head_dim = 63; break;
		case 6: s.vocab_from = "no-such-vocab.gguf"; break;
		case 7: s.n_vocab = 100; break;	/* < 259 fixed SPM tokens */
		case 8: s.alignment = 24; break;
		}
		assert_int_equal(syngen_write(&s, path, &cause), -1);
		assert_non_null(cause);
		assert_false(exists(path));
		free(cause);
		cause = NULL;
	}
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ggufw_roundtrip_every_value_type),
		cmocka_unit_test(test_ggufw_rejects_misuse),
		cmocka_unit_test(test_ggufw_kv_copy_is_verbatim),
		cmocka_unit_test(test_syngen_same_args_same_bytes),
		cmocka_unit_test(test_syngen_threads_do_not_change_bytes),
		cmocka_unit_test(test_syngen_every_type_opens),
		cmocka_unit_test(test_syngen_q4_k_m_mix_8_layers),
		cmocka_unit_test(test_syngen_k_quant_fallback_for_narrow_rows),
		cmocka_unit_test(test_syngen_matches_golden_layout),
		cmocka_unit_test(test_syngen_rope_freqs_match_golden),
		cmocka_unit_test(test_syngen_ref_logits_finite),
		cmocka_unit_test(test_syngen_synthetic_vocab),
		cmocka_unit_test(test_syngen_tokenizer_json_vocab),
		cmocka_unit_test(test_syngen_rejects_bad_specs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
