/*
 * test-tui-mcard.c - model cards (tui/card-model.c): the schema triage
 * gives the engine, and the checks a card must pass before it is shown:
 * cited lines among those given, class and severity in the taxonomy,
 * at most three checks, grounded in the lines; and a run on stories260K
 * that ends valid or rejected with a reason, never anything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "card-model.h"

static const struct tui_mcard_line lines[] = {
	{ 12, "kernel: EXT4-fs error (device sda1): bad block bitmap" },
	{ 40, "kernel: EXT4-fs (sda1): remounted read-only" },
};

static const char good[] =
    "{\"title\":\"sda1 filesystem errors\",\"class\":\"%s\","
    "\"severity\":\"%s\",\"cause\":\"failing disk\",\"confidence\":\"medium\","
    "\"checks\":[%s],\"evidence\":[%s]}";

static int
parse(const char *cls, const char *sev, const char *checks, const char *ev,
    struct tui_mcard *c, char **why)
{
	char buf[2048];

	snprintf(buf, sizeof buf, good, cls, sev, checks, ev);
	return tui_mcard_parse(buf, strlen(buf), lines, 2, c, why);
}

static const char chk[] = "{\"instruction\":\"read SMART\",\"command\":"
    "\"smartctl -a /dev/sda\",\"expected\":\"no reallocated sectors\"}";

static void
test_valid(void **st)
{
	struct tui_mcard c;
	char *why = NULL;

	(void)st;
	assert_int_equal(parse("filesystem", "high", chk, "12,40", &c, &why), 0);
	assert_null(why);
	assert_string_equal(c.class, "filesystem");
	assert_int_equal(c.nevidence, 2);
	assert_int_equal(c.nchecks, 1);
	assert_string_equal(c.check[0].command, "smartctl -a /dev/sda");
	json_t *o = tui_mcard_json(&c);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "source")),
	    "model");
	assert_true(json_is_true(json_object_get(json_array_get(
	    json_object_get(o, "checks"), 0), "suggested_by_model")));
	json_decref(o);
	tui_mcard_clear(&c);
}

static void
rejected(const char *cls, const char *sev, const char *checks,
    const char *ev, const char *want)
{
	struct tui_mcard c;
	char *why = NULL;

	assert_int_equal(parse(cls, sev, checks, ev, &c, &why), -1);
	assert_non_null(why);
	if (strstr(why, want) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why, want);
	assert_null(c.title);	/* nothing of it survives */
	free(why);
}

static void
test_rejections(void **st)
{
	char four[1024];
	struct tui_mcard c;
	char *why = NULL;

	(void)st;
	rejected("filesystem", "high", chk, "12,41", "line 41, which it was not");
	rejected("filesystem", "high", chk, "", "no evidence");
	rejected("filesystem", "high", chk, "12,12", "twice");
	rejected("disks", "high", chk, "12", "class");
	rejected("filesystem", "urgent", chk, "12", "severity");
	snprintf(four, sizeof four, "%s,%s,%s,%s", chk, chk, chk, chk);
	rejected("filesystem", "high", four, "12", "three");
	assert_int_equal(tui_mcard_parse("{\"title\":", 9, lines, 2, &c, &why),
	    -1);
	assert_non_null(strstr(why, "not a JSON object"));
	free(why);
	/* a card about nothing in the lines */
	static const char vague[] = "{\"title\":\"Lily said\",\"class\":"
	    "\"filesystem\",\"severity\":\"high\",\"cause\":\"Anna smiled\","
	    "\"confidence\":\"low\",\"checks\":[],\"evidence\":[12]}";
	assert_int_equal(tui_mcard_parse(vague, strlen(vague), lines, 2, &c,
	    &why), -1);
	assert_non_null(strstr(why, "name nothing in the lines"));
	free(why);
}

/* Model text is hostile like log text: C1 and bidi controls are escaped. */
static void
test_json_sanitized(void **st)
{
	static const char bidi[] = "{\"title\":\"sda1 \xe2\x80\xae"
	    "evil \xc2\x9b" "31m\",\"class\":\"filesystem\",\"severity\":"
	    "\"high\",\"cause\":\"bitmap\",\"confidence\":\"low\","
	    "\"checks\":[],\"evidence\":[40]}";
	struct tui_mcard c;
	char *why = NULL, *dump;
	json_t *o;

	(void)st;
	if (tui_mcard_parse(bidi, strlen(bidi), lines, 2, &c, &why) != 0)
		fail_msg("%s", why);
	o = tui_mcard_json(&c);
	dump = json_dumps(o, 0);
	assert_null(strstr(dump, "\xe2\x80\xae"));
	assert_null(strstr(dump, "\xc2\x9b"));
	assert_non_null(strstr(json_string_value(json_object_get(o, "title")),
	    "evil"));
	free(dump);
	json_decref(o);
	tui_mcard_clear(&c);
}

static void
test_schema(void **st)
{
	char *s = tui_mcard_schema(12, 40);
	json_t *o, *p;

	(void)st;
	assert_non_null(s);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	p = json_object_get(o, "properties");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(p, "evidence"), "items"), "minimum")), 12);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    p, "checks"), "maxItems")), 3);
	assert_true(json_array_size(json_object_get(json_object_get(p,
	    "class"), "enum")) > 3);
	/* the engine takes it */
	struct eng_grammar *g = NULL;
	char *cause = NULL;
	assert_int_equal(eng_grammar_new(s, strlen(s), NULL, &g, &cause), 0);
	eng_grammar_free(g);
	json_decref(o);
	free(s);
}

/*
 * stories260K is no instruct model: whatever it writes must end as a
 * checked card or a rejection with a reason.  MCARD_RUNS=1000 for the
 * figure in the notes (lines and limits vary per run; a limit of 5 on
 * every fifth run can never finish a card).
 */
static void
test_stories(void **st)
{
	const char *sh = getenv("SHARED");
	char path[512], *why = NULL, *cause = NULL, text[2][128];
	struct eng_load_opts lo = { .n_ctx = 1024, .n_threads = 1 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct tui_mcard c;
	int runs = getenv("MCARD_RUNS") ? atoi(getenv("MCARD_RUNS")) : 10;
	int valid = 0, rej = 0, incomplete = 0;

	(void)st;
	snprintf(path, sizeof path, "%s/models/stories260K.gguf",
	    sh && *sh ? sh : "../../shared");
	if (eng_model_open(path, &lo, &m, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(eng_session_new(m, &s, &cause), 0);
	for (int i = 0; i < runs; i++) {
		struct tui_mcard_line l[2] = {
			{ (uint64_t)(10 + i), text[0] },
			{ (uint64_t)(20 + 3 * i), text[1] },
		};
		uint32_t lim = i % 5 == 0 ? 5 : 400;
		int rc;

		snprintf(text[0], sizeof text[0], "kernel: sd%c%d: I/O error, "
		    "sector %d", 'a' + i % 26, i % 7, 1000 * i);
		snprintf(text[1], sizeof text[1], "smartd[%d]: Device: /dev/sd%c, "
		    "%d Currently unreadable sectors", 100 + i, 'a' + i % 26, i);
		rc = tui_mcard_ask(m, s, "these lines", l, 2, lim, &c, &why);
		if (rc == 0) {
			valid++;
			assert_null(why);
			assert_true(c.nevidence > 0);
			tui_mcard_clear(&c);
		} else {
			rej++;
			assert_non_null(why);
			assert_null(c.title);
			if (strstr(why, "incomplete") != NULL)
				incomplete++;
			if (lim == 5)	/* too short to finish: said so */
				assert_non_null(strstr(why, "incomplete"));
			free(why);
			why = NULL;
		}
	}
	print_message("stories260K: %d runs, %d valid cards, %d rejected with "
	    "a reason (%d incomplete)\n", runs, valid, rej, incomplete);
	assert_int_equal(valid + rej, runs);
	eng_session_free(s);
	eng_model_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_json_sanitized),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_stories),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
