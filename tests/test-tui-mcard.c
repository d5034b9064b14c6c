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

static void
test_stories(void **st)
{
	const char *sh = getenv("SHARED");
	char path[512], *why = NULL, *cause = NULL;
	struct eng_load_opts lo = { .n_ctx = 1024, .n_threads = 1 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct tui_mcard c;
	int valid = 0, rej = 0;

	(void)st;
	snprintf(path, sizeof path, "%s/models/stories260K.gguf",
	    sh && *sh ? sh : "../../shared");
	if (eng_model_open(path, &lo, &m, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(eng_session_new(m, &s, &cause), 0);
	for (uint32_t lim = 5; lim <= 405; lim += 100) {
		int rc = tui_mcard_ask(m, s, "these lines", lines, 2, lim, &c,
		    &why);

		if (rc == 0) {
			valid++;
			assert_null(why);
			tui_mcard_clear(&c);
		} else {
			rej++;
			assert_non_null(why);
			if (lim == 5)	/* too short to finish: said so */
				assert_non_null(strstr(why, "incomplete"));
			free(why);
			why = NULL;
		}
	}
	assert_int_equal(valid + rej, 5);
	eng_session_free(s);
	eng_model_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_stories),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
