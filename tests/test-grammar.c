/*
 * test-grammar.c - constrained decoding (engine/grammar.c): schema
 * compile, byte strings accepted and refused, token masks against a
 * brute-force check on the three vocabulary kinds (SentencePiece
 * stories260K, byte-level BPE llama3 and qwen3), and the property test:
 * random-weight models and many seeds, every output is a value of its
 * schema (parsed by jansson, validated by an independent checker here),
 * or a cut-short one reported as incomplete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine.h"
#include "grammar.h"
#include "lib-syngen.h"

static char tmpdir[] = "/tmp/triage-test-grammar-XXXXXX";

static const char *
shared(void)
{
	const char *s = getenv("SHARED");

	return s && *s ? s : "../../shared";
}

/* The model-card schema (tui/card-model.c uses the same shape). */
static const char card_schema[] =
    "{\"type\":\"object\",\"required\":[\"title\",\"class\",\"severity\","
    "\"cause\",\"confidence\",\"checks\",\"evidence\",\"ok\",\"delta\"],\"properties\":{"
    "\"title\":{\"type\":\"string\",\"maxLength\":40},"
    "\"class\":{\"enum\":[\"disk\",\"network\",\"auth\",\"other\"]},"
    "\"severity\":{\"enum\":[\"low\",\"medium\",\"high\",\"critical\"]},"
    "\"cause\":{\"type\":\"string\",\"maxLength\":30},"
    "\"confidence\":{\"enum\":[\"low\",\"medium\",\"high\"]},"
    "\"checks\":{\"type\":\"array\",\"maxItems\":3,\"items\":{"
    "\"type\":\"object\",\"required\":[\"do\",\"cmd\",\"expect\"],"
    "\"properties\":{\"do\":{\"type\":\"string\",\"maxLength\":20},"
    "\"cmd\":{\"type\":\"string\",\"maxLength\":20},"
    "\"expect\":{\"type\":\"string\",\"maxLength\":20}}}},"
    "\"evidence\":{\"type\":\"array\",\"maxItems\":4,\"items\":"
    "{\"type\":\"integer\",\"minimum\":1,\"maximum\":2000}},"
    "\"ok\":{\"type\":\"boolean\"},"
    "\"delta\":{\"type\":\"integer\",\"minimum\":-15,\"maximum\":7}}}";

static struct eng_grammar *
compile(const char *schema, const struct eng_model *m)
{
	struct eng_grammar *g = NULL;
	char *cause = NULL;

	if (eng_grammar_new(schema, strlen(schema), m, &g, &cause) != 0)
		fail_msg("compile: %s", cause);
	return g;
}

static int
check(const struct eng_grammar *g, const char *s)
{
	return eng_grammar_check(g, s, strlen(s));
}

/* ---- independent validator (jansson) ----------------------------------- */

static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static bool
valid(json_t *v, json_t *sc)
{
	json_t *e = json_object_get(sc, "enum"), *x, *p;
	const char *t = json_string_value(json_object_get(sc, "type"));
	const char *k;
	size_t i;

	if (e != NULL) {
		json_array_foreach(e, i, x)
			if (json_equal(v, x))
				return true;
		return false;
	}
	if (strcmp(t, "object") == 0) {
		p = json_object_get(sc, "properties");
		if (!json_is_object(v) ||
		    json_object_size(v) != json_object_size(p))
			return false;
		json_object_foreach(p, k, x)
			if (json_object_get(v, k) == NULL ||
			    !valid(json_object_get(v, k), x))
				return false;
		return true;
	}
	if (strcmp(t, "array") == 0) {
		if (!json_is_array(v) || (json_object_get(sc, "maxItems") &&
		    json_array_size(v) > (size_t)json_integer_value(
		    json_object_get(sc, "maxItems"))))
			return false;
		json_array_foreach(v, i, x)
			if (!valid(x, json_object_get(sc, "items")))
				return false;
		return true;
	}
	if (strcmp(t, "string") == 0)
		return json_is_string(v) && utf8_len(json_string_value(v)) <=
		    (size_t)json_integer_value(json_object_get(sc, "maxLength"));
	if (strcmp(t, "integer") == 0)
		return json_is_integer(v) && json_integer_value(v) >=
		    json_integer_value(json_object_get(sc, "minimum")) &&
		    json_integer_value(v) <=
		    json_integer_value(json_object_get(sc, "maximum"));
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	return false;
}

/* ---- compile and byte strings ------------------------------------------ */

static void
test_compile_refusals(void **st)
{
	static const char *const bad[] = {
		"not json",
		"{\"type\":\"number\"}",
		"{\"type\":\"object\"}",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},"
		    "\"b\":{\"type\":\"string\"}},\"required\":[\"a\"]}",
		"{\"enum\":[]}",
		"{\"enum\":[\"a\\\"b\"]}",
		"{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}",
		"{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":"
		    "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":"
		    "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":"
		    "{\"type\":\"array\",\"items\":{\"type\":\"boolean\"}}}}}}}}",
	};
	struct eng_grammar *g;
	char *cause;

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		g = NULL;
		cause = NULL;
		assert_int_equal(eng_grammar_new(bad[i], strlen(bad[i]), NULL,
		    &g, &cause), ENG_EINVAL);
		assert_null(g);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "schema"));
		assert_null(strchr(cause, '\n'));
		free(cause);
	}
}

static void
test_bytes(void **st)
{
	struct eng_grammar *g = compile(card_schema, NULL);
	static const char ok[] = "{\"title\":\"Disk full\",\"class\":\"disk\","
	    "\"severity\":\"high\",\"cause\":\"\",\"confidence\":\"low\","
	    "\"checks\":[{\"do\":\"df\",\"cmd\":\"df -h\",\"expect\":\"<90%\"}],"
	    "\"evidence\":[1,2000,17],\"ok\":false,\"delta\":-15}";

	(void)st;
	assert_int_equal(check(g, ok), ENG_GRAMMAR_COMPLETE);
	/* every proper prefix is incomplete, never complete */
	for (size_t i = 0; i < strlen(ok); i++)
		assert_int_equal(eng_grammar_check(g, ok, i),
		    ENG_GRAMMAR_INCOMPLETE);
	/* out of range, out of enum, too long, whitespace, escapes */
	assert_int_equal(check(g, "{\"title\":\"x\",\"class\":\"cpu\""),
	    ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{ \"title\""), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{\"title\":\"a\\n\""), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{\"title\":\"0123456789012345678901234567890"
	    "123456789X\""), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{\"title\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f"
	    "\x98\x80\""), ENG_GRAMMAR_INCOMPLETE);
	/* bad UTF-8: overlong, surrogate, lone continuation, > U+10FFFF */
	assert_int_equal(check(g, "{\"title\":\"\xc0\xaf"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{\"title\":\"\xed\xa0\x80"),
	    ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{\"title\":\"\x80"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "{\"title\":\"\xf4\x90\x80\x80"),
	    ENG_GRAMMAR_INVALID);
	eng_grammar_free(g);

	g = compile("{\"type\":\"integer\",\"minimum\":-15,\"maximum\":7}",
	    NULL);
	assert_int_equal(check(g, "7"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "0"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "-15"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "-1"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "-"), ENG_GRAMMAR_INCOMPLETE);
	assert_int_equal(check(g, "8"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "-16"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "-0"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "07"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "-2"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "-20"), ENG_GRAMMAR_INVALID);
	eng_grammar_free(g);

	g = compile("{\"type\":\"integer\",\"minimum\":100,\"maximum\":250}",
	    NULL);
	assert_int_equal(check(g, "1"), ENG_GRAMMAR_INCOMPLETE);
	assert_int_equal(check(g, "3"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "25"), ENG_GRAMMAR_INCOMPLETE);
	assert_int_equal(check(g, "251"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "250"), ENG_GRAMMAR_COMPLETE);
	eng_grammar_free(g);

	g = compile("{\"type\":\"array\",\"maxItems\":2,\"items\":{\"enum\":"
	    "[\"a\",\"ab\"]}}", NULL);
	assert_int_equal(check(g, "[]"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "[\"a\",\"ab\"]"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "[\"a\",\"ab\","), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "[\"abc\"]"), ENG_GRAMMAR_INVALID);
	assert_int_equal(check(g, "[\"a\"]x"), ENG_GRAMMAR_INVALID);
	eng_grammar_free(g);

	g = compile("{\"type\":\"boolean\"}", NULL);
	assert_int_equal(check(g, "true"), ENG_GRAMMAR_COMPLETE);
	assert_int_equal(check(g, "fals"), ENG_GRAMMAR_INCOMPLETE);
	assert_int_equal(check(g, "null"), ENG_GRAMMAR_INVALID);
	eng_grammar_free(g);
}

/* ---- token masks on each vocabulary kind ------------------------------- */

static const char *const vocabs[] = {
	"models/stories260K.gguf",		/* SentencePiece, byte fallback */
	"golden/ggml-vocab-llama3.gguf",	/* byte-level BPE */
	"golden/ggml-vocab-qwen3.gguf",		/* byte-level BPE */
};

static struct eng_model *
open_vocab(const char *rel)
{
	char path[512], *cause = NULL;
	struct eng_load_opts o = { .vocab_only = true, .n_threads = 1 };
	struct eng_model *m = NULL;

	snprintf(path, sizeof path, "%s/%s", shared(), rel);
	if (eng_model_open(path, &o, &m, &cause) != 0)
		fail_msg("%s: %s", path, cause);
	return m;
}

/* The mask at the state after `prefix` equals a per-token check. */
static void
mask_matches(const struct eng_grammar *g, const struct eng_model *m,
    const char *prefix, size_t *nallowed)
{
	size_t nv = eng_model_info(m)->n_vocab, n = 0;
	uint32_t *bits = calloc((nv + 31) / 32, sizeof *bits);
	struct gstate st;
	char piece[256];

	assert_non_null(bits);
	gstate_init(g, &st);
	for (const char *p = prefix; *p; p++)
		assert_true(gstate_feed(g, &st, (unsigned char)*p));
	*nallowed = gstate_mask(g, &st, bits);
	for (size_t id = 0; id < nv; id++) {
		bool want = gstate_allows(g, &st, (int32_t)id, piece,
		    sizeof piece);
		bool got = bits[id / 32] >> (id % 32) & 1;

		if (want != got)
			fail_msg("token %zu after '%s': mask %d, check %d", id,
			    prefix, got, want);
		n += got;
	}
	assert_int_equal(n, *nallowed);
	free(bits);
}

static void
test_masks(void **st)
{
	static const char *const prefixes[] = {
		"", "{", "{\"title\":\"", "{\"title\":\"\xe2\x82",
		"{\"title\":\"ab\",\"class\":\"", "{\"title\":\"ab\",\"class\":"
		"\"disk\",\"severity\":\"high\",\"cause\":\"c\",\"confidence\":"
		"\"low\",\"checks\":[", "{\"title\":\"ab\",\"class\":\"disk\","
		"\"severity\":\"high\",\"cause\":\"c\",\"confidence\":\"low\","
		"\"checks\":[],\"evidence\":[1",
		"{\"title\":\"ab\",\"class\":\"disk\",\"severity\":\"high\","
		"\"cause\":\"c\",\"confidence\":\"low\",\"checks\":[],"
		"\"evidence\":[],\"ok\":true,\"delta\":-1",
	};

	(void)st;
	for (size_t v = 0; v < sizeof vocabs / sizeof *vocabs; v++) {
		struct eng_model *m = open_vocab(vocabs[v]);
		struct eng_grammar *g = compile(card_schema, m);
		size_t n;

		for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes;
		    i++) {
			mask_matches(g, m, prefixes[i], &n);
			assert_true(n > 0);	/* never a dead end */
		}
		/* inside a string most tokens fit; after '{' only '"'-ones */
		mask_matches(g, m, "{\"title\":\"", &n);
		assert_true(n > eng_model_info(m)->n_vocab / 2);
		mask_matches(g, m, "{", &n);
		assert_true(n < 50);
		eng_grammar_free(g);
		eng_model_free(m);
	}
}

/* ---- property test: random models, many seeds --------------------------- */

struct run {
	char		 text[8192];
	size_t		 len;
	enum eng_stop	 stop;
};

static void
generate(struct eng_session *s, const int32_t *ids, size_t n,
    const struct eng_grammar *g, uint64_t seed, uint32_t max, struct run *r)
{
	struct eng_sample_params sp;
	struct eng_gen *gen = NULL;
	struct eng_event ev;
	char *cause = NULL;

	eng_session_reset(s);
	eng_sample_defaults(&sp);
	sp.temp = seed % 4 == 0 ? 0 : 1.0f + (float)(seed % 3);
	sp.top_k = seed % 2 ? 0 : 40;
	sp.top_p = 1;
	sp.min_p = 0;
	sp.seed = seed;
	sp.max_tokens = max;
	sp.grammar = g;
	memset(r, 0, sizeof *r);
	if (eng_gen_start(s, ids, n, &sp, &gen, &cause) != 0)
		fail_msg("gen: %s", cause);
	while (eng_gen_next(gen, &ev, true) == 1) {
		if (ev.kind == ENG_EV_TEXT && r->len + ev.len < sizeof r->text) {
			memcpy(r->text + r->len, ev.text, ev.len);
			r->len += ev.len;
		} else if (ev.kind == ENG_EV_DONE)
			r->stop = ev.stop;
	}
	eng_gen_free(gen);
}

static void
property(const char *vocab, int seeds, int *ncomplete)
{
	struct syngen_spec sp;
	char path[512], *cause = NULL, vpath[512];
	struct eng_load_opts o = { .n_ctx = 512, .n_threads = 1 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct eng_grammar *g;
	json_t *sc = json_loads(card_schema, 0, NULL);
	int32_t *ids = NULL;
	size_t n = 0;
	struct run r;

	snprintf(vpath, sizeof vpath, "%s/%s", shared(), vocab);
	snprintf(path, sizeof path, "%s/m.gguf", tmpdir);
	syngen_defaults(&sp);
	sp.arch = "llama";
	sp.type = "Q8_0";
	sp.n_embd = 64;
	sp.n_ff = 128;
	sp.n_layer = 1;
	sp.n_head = 2;
	sp.n_head_kv = 1;
	sp.n_ctx = 512;
	sp.vocab_from = vpath;
	sp.seed = 12;
	if (syngen_write(&sp, path, &cause) != 0)
		fail_msg("syngen: %s", cause);
	if (eng_model_open(path, &o, &m, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(eng_session_new(m, &s, &cause), 0);
	g = compile(card_schema, m);
	assert_int_equal(eng_tokenize(m, "Card:", 5, true, &ids, &n), 0);
	for (int seed = 0; seed < seeds; seed++) {
		json_t *v;

		/* a limit of 5 can never finish the card */
		generate(s, ids, n, g, (uint64_t)seed, seed % 5 == 0 ? 5 : 400,
		    &r);
		v = json_loadb(r.text, r.len, 0, NULL);
		if (r.stop == ENG_STOP_EOG) {
			if (v == NULL || !valid(v, sc))
				fail_msg("%s seed %d: not valid: %.*s", vocab,
				    seed, (int)r.len, r.text);
			assert_int_equal(eng_grammar_check(g, r.text, r.len),
			    ENG_GRAMMAR_COMPLETE);
			(*ncomplete)++;
		} else {
			/* cut short: reported, and really not a value */
			assert_int_equal(r.stop, ENG_STOP_INCOMPLETE);
			assert_true(v == NULL);
			assert_int_equal(eng_grammar_check(g, r.text, r.len),
			    ENG_GRAMMAR_INCOMPLETE);
		}
		if (seed % 5 == 0)
			assert_int_equal(r.stop, ENG_STOP_INCOMPLETE);
		json_decref(v);
	}
	free(ids);
	json_decref(sc);
	eng_grammar_free(g);
	eng_session_free(s);
	eng_model_free(m);
	unlink(path);
}

static void
test_property(void **st)
{
	int seeds = getenv("GRAMMAR_SEEDS") ? atoi(getenv("GRAMMAR_SEEDS")) :
	    40;

	(void)st;
	for (size_t v = 0; v < sizeof vocabs / sizeof *vocabs; v++) {
		int ncomplete = 0;

		property(vocabs[v], seeds, &ncomplete);
		print_message("%s: %d of %d seeds complete and valid, the rest "
		    "reported incomplete\n", vocabs[v], ncomplete, seeds);
		assert_true(ncomplete >= seeds / 2);
	}
}

static void
test_unbound_refused(void **st)
{
	char path[512], *cause = NULL;
	struct eng_load_opts o = { .n_ctx = 64, .n_threads = 1 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct eng_grammar *g = compile(card_schema, NULL);
	struct eng_sample_params sp;
	struct eng_gen *gen = NULL;
	int32_t id = 1;

	(void)st;
	snprintf(path, sizeof path, "%s/models/stories260K.gguf", shared());
	if (eng_model_open(path, &o, &m, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(eng_session_new(m, &s, &cause), 0);
	eng_sample_defaults(&sp);
	sp.grammar = g;
	/* a grammar compiled without this vocabulary cannot constrain it */
	assert_int_equal(eng_gen_start(s, &id, 1, &sp, &gen, &cause),
	    ENG_EINVAL);
	assert_null(gen);
	assert_non_null(strstr(cause, "schema"));
	free(cause);
	eng_grammar_free(g);
	eng_session_free(s);
	eng_model_free(m);
}

static int
setup(void **st)
{
	(void)st;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **st)
{
	(void)st;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_refusals),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_unbound_refused),
		cmocka_unit_test(test_property),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
