/*
 * test-playbook.c - loading and validating playbooks: pb_lint and
 * pb_library_add (playbook.c, jsonpos.c, library.c).
 *
 * Fixtures in tests/fixtures/ (the working directory is tests/) each hold
 * one defect, named by outcome: good-*.json, bad-*.json.  Tests that need
 * many files or a huge one build them in a temporary directory.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define FIX "fixtures/"

/* ---- diagnostics sink ---------------------------------------------------- */

#define MAX_DIAGS 64

struct diags {
	char	*line[MAX_DIAGS];
	int	 n;
};

static void
diag_cb(void *arg, const char *line)
{
	struct diags *d = arg;

	if (d->n < MAX_DIAGS)
		d->line[d->n] = strdup(line);
	d->n++;
}

static void
diags_free(struct diags *d)
{
	for (int i = 0; i < d->n && i < MAX_DIAGS; i++)
		free(d->line[i]);
	d->n = 0;
}

/* Exactly one diagnostic was reported, and it is `want`. */
static void
expect_one_diag(struct diags *d, const char *want)
{
	if (d->n != 1)
		fail_msg("%d diagnostics, expected 1; first: %s", d->n,
		    d->n > 0 ? d->line[0] : "(none)");
	assert_string_equal(d->line[0], want);
}

/* Exactly one diagnostic, containing every string in the NULL-ended list. */
static void
expect_one_diag_with(struct diags *d, ...)
{
	va_list ap;
	const char *s;

	if (d->n != 1)
		fail_msg("%d diagnostics, expected 1; first: %s", d->n,
		    d->n > 0 ? d->line[0] : "(none)");
	va_start(ap, d);
	while ((s = va_arg(ap, const char *)) != NULL)
		if (strstr(d->line[0], s) == NULL)
			fail_msg("diagnostic \"%s\" lacks \"%s\"", d->line[0], s);
	va_end(ap);
}

/*
 * Where `needle` first occurs in a file, as 1-based line and column; the
 * column counts UTF-8 characters, as an editor does.
 */
static void
position_in_file(const char *path, const char *needle, int *line, int *col)
{
	static char text[65536];
	FILE *fp = fopen(path, "rb");
	size_t n;
	const char *hit;

	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	hit = strstr(text, needle);
	if (hit == NULL)
		fail_msg("%s does not contain %s", path, needle);
	*line = 1;
	*col = 1;
	for (const char *p = text; p < hit; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80)
			(*col)++;
	}
}

/* ---- temporary directories and generated playbooks ----------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Tests that write files get a fresh temporary directory as *state. */
static int
tmp_setup(void **state)
{
	char *dir = strdup("/tmp/triage-test-playbook.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int
tmp_teardown(void **state)
{
	rm_rf(*state);
	free(*state);
	return 0;
}

/* A new subdirectory of the test's directory; the caller frees the path. */
static char *
subdir(void **state, const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", (char *)*state, name) > 0);
	assert_int_equal(mkdir(path, 0700), 0);
	return path;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* A complete, valid playbook <dir>/<id>.json. */
static void
write_playbook(const char *dir, const char *id, int version, const char *title)
{
	char path[512], text[4096];
	int n;

	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	n = snprintf(text, sizeof(text),
	    "{\n"
	    "  \"format\": 1, \"id\": \"%s\", \"version\": %d,\n"
	    "  \"title\": \"%s\", \"class\": \"auth\", \"severity\": \"medium\",\n"
	    "  \"tags\": [\"test\"], \"sources\": [\"any\"],\n"
	    "  \"match\": { \"patterns\": [ { \"name\": \"p\", "
	    "\"regex\": \"generated event (?<n>\\\\d+)\" } ] },\n"
	    "  \"explanation\": \"A generated playbook.\",\n"
	    "  \"causes\": [\"the test\"],\n"
	    "  \"checks\": [ { \"do\": \"look\", \"command\": \"grep {{n}} {{file}}\", "
	    "\"expect\": \"lines\" } ],\n"
	    "  \"fix\": [\"nothing\"], \"verify\": [\"nothing\"],\n"
	    "  \"escalate\": { \"when\": \"never\", \"attach\": [\"{{file}}\"] },\n"
	    "  \"references\": [\"triage(1)\"],\n"
	    "  \"examples\": {\n"
	    "    \"match\": [\"x generated event 1\", \"x generated event 22\", "
	    "\"x generated event 333\"],\n"
	    "    \"no_match\": [\"x generated event\", \"x generated\", \"event 1\"]\n"
	    "  }\n"
	    "}\n", id, version, title);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_file(path, text, (size_t)n);
}

/* ---- lint: fixtures ---------------------------------------------------- */

static void
test_lint_good_playbook_has_no_problems(void **state)
{
	struct diags d = { 0 };
	char *cause = NULL;

	(void)state;
	/* It also holds an "x-notes" field, which must be accepted. */
	assert_int_equal(pb_lint(FIX "good-ssh-brute-force.json", diag_cb, &d, &cause), 0);
	assert_int_equal(d.n, 0);
	assert_null(cause);
}

static void
test_lint_duplicate_key_rejected(void **state)
{
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(pb_lint(FIX "bad-duplicate-key.json", diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, FIX "bad-duplicate-key.json:8:", "json: ",
	    "duplicate object key", "title", NULL);
	diags_free(&d);
}

static void
test_lint_unknown_field_rejected_at_its_position(void **state)
{
	struct diags d = { 0 };
	char want[256];
	int line, col;

	(void)state;
	position_in_file(FIX "bad-unknown-field.json", "\"red\"", &line, &col);
	snprintf(want, sizeof(want), FIX "bad-unknown-field.json:%d:%d: colour: "
	    "unknown field (custom notes must start with \"x-\")", line, col);
	assert_int_equal(pb_lint(FIX "bad-unknown-field.json", diag_cb, &d, NULL), 1);
	expect_one_diag(&d, want);
	diags_free(&d);
}

static void
test_lint_missing_top_level_field_reported_at_root(void **state)
{
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(pb_lint(FIX "bad-missing-title.json", diag_cb, &d, NULL), 1);
	expect_one_diag(&d, FIX "bad-missing-title.json:1:1: title: missing");
	diags_free(&d);
}

static void
test_lint_missing_nested_field_reported_at_parent(void **state)
{
	struct diags d = { 0 };
	char want[256];
	int line, col;

	(void)state;
	position_in_file(FIX "bad-missing-when.json", "{ \"attach\"", &line, &col);
	snprintf(want, sizeof(want), FIX "bad-missing-when.json:%d:%d: "
	    "escalate.when: missing", line, col);
	assert_int_equal(pb_lint(FIX "bad-missing-when.json", diag_cb, &d, NULL), 1);
	expect_one_diag(&d, want);
	diags_free(&d);
}

static void
test_lint_bad_regex_reported_with_offset(void **state)
{
	struct diags d = { 0 };
	char want[256];
	int line, col;

	(void)state;
	/* "Invalid user (?<user>\S+ from (?<ip>[0-9a-fA-F:.]+)": 51 bytes,
	 * the group opened at "(?<user>" never closes. */
	position_in_file(FIX "bad-regex.json", "\"Invalid user (?<user>", &line, &col);
	snprintf(want, sizeof(want), FIX "bad-regex.json:%d:%d: match.patterns[1].regex: "
	    "missing closing parenthesis at offset 51", line, col);
	assert_int_equal(pb_lint(FIX "bad-regex.json", diag_cb, &d, NULL), 1);
	expect_one_diag(&d, want);
	diags_free(&d);
}

static void
test_lint_unknown_placeholder_reported_at_command(void **state)
{
	struct diags d = { 0 };
	char want[256];
	int line, col;

	(void)state;
	/* The line holds a non-ASCII "é" before the command: columns count
	 * characters, so this is 26:55 (26:56 if bytes were counted). */
	position_in_file(FIX "bad-placeholder.json", "\"grep {{usr}}", &line, &col);
	assert_int_equal(line, 26);
	assert_int_equal(col, 55);
	snprintf(want, sizeof(want), FIX "bad-placeholder.json:%d:%d: "
	    "checks[1].command: unknown placeholder {{usr}}", line, col);
	assert_int_equal(pb_lint(FIX "bad-placeholder.json", diag_cb, &d, NULL), 1);
	expect_one_diag(&d, want);
	diags_free(&d);
}

static void
test_lint_id_must_match_file_name(void **state)
{
	struct diags d = { 0 };
	char want[256];
	int line, col;

	(void)state;
	position_in_file(FIX "bad-id-mismatch.json", "\"ssh-brute-force\"", &line, &col);
	snprintf(want, sizeof(want), FIX "bad-id-mismatch.json:%d:%d: id: "
	    "\"ssh-brute-force\" does not match the file name", line, col);
	assert_int_equal(pb_lint(FIX "bad-id-mismatch.json", diag_cb, &d, NULL), 1);
	expect_one_diag(&d, want);
	diags_free(&d);
}

static void
test_lint_example_that_does_not_match_reported(void **state)
{
	struct diags d = { 0 };

	(void)state;
	/* "invalid user" in lower case: the pattern is case-sensitive. */
	assert_int_equal(pb_lint(FIX "bad-example-nomatch.json", diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, FIX "bad-example-nomatch.json:",
	    "examples.match[2]: does not match any pattern", NULL);
	diags_free(&d);
}

static void
test_lint_invalid_utf8_rejected(void **state)
{
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(pb_lint(FIX "bad-utf8.json", diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, FIX "bad-utf8.json:5:", "json: ", "0xff", NULL);
	diags_free(&d);
}

/* Found by fuzz-playbook: jansson's message quotes the file, newline and
 * all; the diagnostic must stay one line with no raw control bytes. */
static void
test_lint_json_error_quoting_the_file_stays_one_safe_line(void **state)
{
	const char *dir = *state;
	char path[512];
	struct diags d = { 0 };
	static const char text[] = "{\"title\": \"from 127\\\n\x1b[2J\"}";

	snprintf(path, sizeof(path), "%s/nl.json", dir);
	write_file(path, text, sizeof(text) - 1);
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, "nl.json:", ": json: ", NULL);
	for (const char *p = d.line[0]; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("raw control byte 0x%02x in \"%s\"", *p, d.line[0]);
	diags_free(&d);
}

static void
test_lint_missing_file_is_eio_with_cause(void **state)
{
	struct diags d = { 0 };
	char *cause = NULL;

	(void)state;
	assert_int_equal(pb_lint(FIX "no-such-playbook.json", diag_cb, &d, &cause), PB_EIO);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "no-such-playbook.json"));
	assert_int_equal(d.n, 0);
	free(cause);
}

/* ---- lint: generated files ----------------------------------------------- */

static void
test_lint_file_over_size_cap_rejected_before_parsing(void **state)
{
	const char *dir = *state;
	char path[512];
	size_t size = 1024 * 1024 + 1;
	char *text = malloc(size);
	struct diags d = { 0 };

	assert_non_null(text);
	/* Not JSON at all: a parse would say "json: ...". */
	memset(text, '{', size);
	snprintf(path, sizeof(path), "%s/huge.json", dir);
	write_file(path, text, size);
	free(text);
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, path, "larger than 1048576 bytes", NULL);
	assert_null(strstr(d.line[0], ": json: "));
	diags_free(&d);
}

static void
test_lint_threshold_without_window_rejected(void **state)
{
	const char *dir = *state;
	char path[512], want[700];
	struct diags d = { 0 };
	int line, col;
	static const char text[] =
	    "{\"format\": 1, \"id\": \"thr\", \"version\": 1,\n"
	    " \"title\": \"Threshold with no window at all\", \"class\": \"auth\", \"severity\": \"low\",\n"
	    " \"tags\": [\"t\"], \"sources\": [\"any\"],\n"
	    " \"match\": {\"patterns\": [{\"name\": \"p\", \"regex\": \"disk error\"}],\n"
	    "   \"threshold\": 3},\n"
	    " \"explanation\": \"x\", \"causes\": [\"x\"],\n"
	    " \"checks\": [{\"do\": \"x\", \"expect\": \"x\"}], \"fix\": [\"x\"],\n"
	    " \"verify\": [\"x\"], \"escalate\": {\"when\": \"x\", \"attach\": [\"x\"]},\n"
	    " \"references\": [\"x\"],\n"
	    " \"examples\": {\"match\": [\"disk error\", \"a disk error\", \"disk error b\"],\n"
	    "   \"no_match\": [\"disk\", \"error\", \"disk ok\"]}}\n";

	snprintf(path, sizeof(path), "%s/thr.json", dir);
	write_file(path, text, sizeof(text) - 1);
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 1);
	/* "window" is absent: reported where the match object starts. */
	position_in_file(path, "{\"patterns\"", &line, &col);
	snprintf(want, sizeof(want), "%s:%d:%d: match.window: required when "
	    "threshold is above 1", path, line, col);
	expect_one_diag(&d, want);
	diags_free(&d);
}

static void
test_lint_threshold_in_sequence_mode_rejected(void **state)
{
	const char *dir = *state;
	char path[512];
	struct diags d = { 0 };
	static const char text[] =
	    "{\"format\": 1, \"id\": \"seq\", \"version\": 1,\n"
	    " \"title\": \"Sequence with a threshold set\", \"class\": \"auth\", \"severity\": \"low\",\n"
	    " \"tags\": [\"t\"], \"sources\": [\"any\"],\n"
	    " \"match\": {\"patterns\": [{\"name\": \"a\", \"regex\": \"job started\"},\n"
	    "   {\"name\": \"b\", \"regex\": \"job failed\"}],\n"
	    "   \"mode\": \"sequence\", \"window\": 60, \"threshold\": 3},\n"
	    " \"explanation\": \"x\", \"causes\": [\"x\"],\n"
	    " \"checks\": [{\"do\": \"x\", \"expect\": \"x\"}], \"fix\": [\"x\"],\n"
	    " \"verify\": [\"x\"], \"escalate\": {\"when\": \"x\", \"attach\": [\"x\"]},\n"
	    " \"references\": [\"x\"],\n"
	    " \"examples\": {\"match\": [\"job started\", \"job failed\", \"a job failed\"],\n"
	    "   \"no_match\": [\"job\", \"started\", \"failed\"]}}\n";

	snprintf(path, sizeof(path), "%s/seq.json", dir);
	write_file(path, text, sizeof(text) - 1);
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, ":6:", "match.threshold: only mode any", NULL);
	diags_free(&d);
}

/* ---- catastrophic backtracking (issue 16, defect 4) ---------------------- */

/* The pattern from the report: it keeps its literal and its examples. */
#define UPS_EVIL "upsmon\\[\\d+\\]: UPS (?<ups>(?:[\\w.@-]+)+)+ on battery"
#define UPS_LINE "Jun 14 15:16:01 srv01 upsmon[1234]: UPS ups01@localhost on battery"

/* <dir>/<id>.json with one pattern and the given example lines. */
static void
write_one_pattern(const char *dir, const char *id, const char *re,
    const char *m1, const char *n1)
{
	char path[512];
	json_t *doc;

	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	doc = json_pack("{s:i,s:s,s:i,s:s,s:s,s:s,s:[s],s:[s],"
	    "s:{s:[{s:s,s:s}]},s:s,s:[s],s:[{s:s,s:s,s:s}],s:[s],s:[s],"
	    "s:{s:s,s:[s]},s:[s],s:{s:[s,s,s],s:[s,s,s]}}",
	    "format", 1, "id", id, "version", 1, "title", "A generated playbook",
	    "class", "thermal-power", "severity", "high", "tags", "t",
	    "sources", "any", "match", "patterns", "name", "p", "regex", re,
	    "explanation", "x", "causes", "c",
	    "checks", "do", "d", "command", "true", "expect", "e",
	    "fix", "f", "verify", "v", "escalate", "when", "w", "attach", "a",
	    "references", "r", "examples", "match", m1, m1, m1,
	    "no_match", n1, "all fine", "ok");
	assert_non_null(doc);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	json_decref(doc);
}

static void
test_lint_catastrophic_regex_from_report_rejected(void **state)
{
	const char *dir = *state;
	char path[512];
	struct diags d = { 0 };

	write_one_pattern(dir, "ups-evil", UPS_EVIL, UPS_LINE,
	    "Jun 14 15:20:01 srv01 upsmon[1234]: UPS ups01@localhost on line power");
	snprintf(path, sizeof(path), "%s/ups-evil.json", dir);
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, "ups-evil.json:", "match.patterns[0].regex: ",
	    "catastrophic backtracking", NULL);
	diags_free(&d);
}

static void
test_lint_backtracking_shapes(void **state)
{
	static const char *const bad[] = {
		UPS_EVIL, "(a|a)*x", "start(a+)+$", "(\\w+\\s?)+$", "(.*)*x",
		"(?:x+x+)+y", "(\\w|\\d)+x", "(\\d{1,3})+x", "(?i)(a|A)+x",
		"\\w+\\w+x", "\\d+\\s*\\d+$", ".*.*x", "(?=(a+)+b)x",
		"(\\w+)\\1*x",
	};
	static const char *const good[] = {
		"(?:[\\w-]+\\.)+com", "(\\d+\\.){3}\\d+", "foo.*bar.*baz",
		"(?:a|b)+c", "(?<x>[^ ]+) +(?<y>\\S+)$", "(?:\\s+\\S+)+$",
		"Device: (?<dev>/dev/[\\w/.:-]+).*?FAILED",
		"\\((?<proc>[^)'\\s]+)[^)]*\\)", "\\w+\\w+", "UPS [\\w.@-]+ on",
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pb_regex_redos(bad[i], 0, &why) != PB_EINVAL)
			fail_msg("%s passed the backtracking check", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (pb_regex_redos(good[i], 0, &why) != 0)
			fail_msg("%s rejected: %s", good[i], why);
}

/* The dynamic check alone catches the report's pattern from its example. */
static void
test_lint_provoking_lines_hit_the_limit(void **state)
{
	static const char *const res[2] = { UPS_EVIL, "UPS (?<ups>[\\w.@-]+) on battery" };
	const char *lines[1] = { UPS_LINE };
	size_t lens[1] = { strlen(UPS_LINE) };
	uint64_t tried;

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct pb_litset ls;
		const char *why;
		int err;
		PCRE2_SIZE off;
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)res[k],
		    PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);

		assert_non_null(code);
		(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		assert_int_equal(pb_literals(res[k], &ls, &why), 0);
		assert_int_equal(pb_regex_stress(code, &ls, lines, lens, 1, &tried),
		    k == 0 ? PB_EINVAL : 0);
		assert_true(tried > 0);
		pb_litset_release(&ls);
		pcre2_code_free(code);
	}
}

struct warns {
	int	 n;
	char	 first[1024];
};

static void
warn_cb(void *arg, const char *line)
{
	struct warns *w = arg;

	if (w->n++ == 0)
		snprintf(w->first, sizeof(w->first), "%s", line);
}

/*
 * Loaded without lint (its examples pass), the report's playbook meets
 * 10,000 bait lines.  Each costs one match limit (about 1 ms): 11 s before
 * the fix.  Now the playbook is off after a few lines, with one message.
 */
static void
test_analyze_catastrophic_playbook_disabled_with_one_message(void **state)
{
	const char *dir = *state;
	char pbdir[512], logpath[512], pbpath[600];
	struct pb_library *lib;
	struct pb_analysis *a;
	struct pb_options o;
	struct diags d = { 0 };
	struct warns w = { 0 };
	struct timespec t0, t1;
	char *cause = NULL;
	double secs;
	FILE *fp;

	snprintf(pbdir, sizeof(pbdir), "%s/pb", dir);
	assert_int_equal(mkdir(pbdir, 0700), 0);
	write_one_pattern(pbdir, "ups-evil", UPS_EVIL, UPS_LINE, "ok");
	snprintf(pbpath, sizeof(pbpath), "%s/ups-evil.json", pbdir);
	snprintf(logpath, sizeof(logpath), "%s/bait.log", dir);
	assert_non_null(fp = fopen(logpath, "w"));
	for (int i = 0; i < 10000; i++)
		fprintf(fp, "Jun 14 15:16:01 srv01 upsmon[1234]: UPS "
		    "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuu! on battery\n");
	fprintf(fp, "%s\n", UPS_LINE);
	assert_int_equal(fclose(fp), 0);

	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, pbdir, diag_cb, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	pb_options_init(&o);
	assert_int_equal(pb_analysis_new(lib, &o, &a), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(pb_analysis_feed_file(a, logpath, warn_cb, &w, &cause), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* CPU time, not wall time: a loaded CI machine must not fail it;
	 * without a match limit this would take minutes, not seconds */
	if (secs >= 5.0)
		fail_msg("10,000 bait lines took %.2f s of CPU", secs);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.first, "playbook ups-evil disabled"));
	assert_non_null(strstr(w.first, pbpath));
	assert_non_null(strstr(w.first, "bait.log:1"));
	pb_analysis_finish(a);
	assert_int_equal(pb_analysis_ncards(a), 0);
	pb_analysis_free(a);
	pb_library_free(lib);
}

/* dmesg times are seconds since boot: --since cannot judge them, and the
 * card shows them as such (issue 11, section 4). */
static void
test_analyze_boot_relative_times_kept_and_shown(void **state)
{
	const char *dir = *state;
	char pbdir[512];
	struct pb_library *lib;
	struct pb_analysis *a;
	struct pb_options o;
	struct diags d = { 0 };
	const struct pb_card *c;
	char buf[32];
	static const char l1[] = "[    5.123456] EXT4-fs error (device sda1): x";
	static const char l2[] = "[   65.500000] EXT4-fs error (device sda1): y";

	snprintf(pbdir, sizeof(pbdir), "%s/pb", dir);
	assert_int_equal(mkdir(pbdir, 0700), 0);
	write_one_pattern(pbdir, "ext4", "EXT4-fs error \\(device (?<dev>\\w+)\\)",
	    l1, "EXT4-fs (sda1): mounted");
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, pbdir, diag_cb, &d, NULL), 0);
	pb_options_init(&o);
	assert_int_equal(pb_time_arg("2024-01-01", 0, &o.since_ms), 0);
	assert_int_equal(pb_analysis_new(lib, &o, &a), 0);
	pb_analysis_feed_line(a, "dmesg.txt", 1, l1, sizeof(l1) - 1, 1718000000);
	pb_analysis_feed_line(a, "dmesg.txt", 2, l2, sizeof(l2) - 1, 1718000000);
	pb_analysis_finish(a);
	assert_int_equal(pb_analysis_ncards(a), 1);
	c = pb_analysis_card(a, 0);
	assert_int_equal(pb_card_count(c), 2);
	pb_time_format(pb_card_first(c), buf, sizeof(buf));
	assert_string_equal(buf, "boot+5.123s");
	pb_time_format(pb_card_last(c), buf, sizeof(buf));
	assert_string_equal(buf, "boot+65.500s");
	pb_analysis_free(a);
	pb_library_free(lib);
}

/* ---- text safety (issue 16, defect 5) ------------------------------------ */

/* The good fixture with `field` (a JSON pointer-ish path) set to value,
 * written as <dir>/good-ssh-brute-force.json. */
static void
write_fixture_with(const char *dir, const char *field, size_t idx,
    const char *key, const char *value, char *path, size_t size)
{
	json_t *doc = json_load_file(FIX "good-ssh-brute-force.json", 0, NULL);
	json_t *v;

	assert_non_null(doc);
	v = json_object_get(doc, field);
	if (json_is_array(v))
		v = json_array_get(v, idx);
	if (key == NULL && json_is_object(doc) && !json_is_object(v) &&
	    json_array_get(json_object_get(doc, field), idx) == NULL)
		assert_int_equal(json_object_set_new(doc, field,
		    json_string(value)), 0);
	else if (key == NULL)
		assert_int_equal(json_array_set_new(json_object_get(doc, field),
		    idx, json_string(value)), 0);
	else if (json_is_array(json_object_get(v, key)))
		assert_int_equal(json_array_set_new(json_object_get(v, key), 0,
		    json_string(value)), 0);
	else
		assert_int_equal(json_object_set_new(v, key, json_string(value)), 0);
	snprintf(path, size, "%s/good-ssh-brute-force.json", dir);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	json_decref(doc);
}

static void
test_lint_control_and_invisible_characters_rejected_in_text(void **state)
{
	static const struct { const char *field; const char *key; } fields[] = {
		{ "title", NULL }, { "explanation", NULL }, { "causes", NULL },
		{ "fix", NULL }, { "verify", NULL }, { "references", NULL },
		{ "false_positives", NULL }, { "x-notes", NULL },
		{ "checks", "do" }, { "checks", "command" }, { "checks", "expect" },
		{ "escalate", "when" }, { "escalate", "attach" },
		{ "examples", "match" },
	};
	static const struct { const char *s; const char *cp; } bad[] = {
		{ "\x1b]52;c;SGVsbG8=\x07", "U+001B" }, { "ring\x07", "U+0007" },
		{ "del\x7f", "U+007F" }, { "csi \xc2\x9b" "2J", "U+009B" },
		{ "evil \xe2\x80\xae" "fdp.exe", "U+202E" },
		{ "zero\xe2\x80\x8bwidth", "U+200B" }, { "bom\xef\xbb\xbf", "U+FEFF" },
		{ "iso\xe2\x81\xa6late", "U+2066" }, { "new\nline", "U+000A" },
	};
	const char *dir = *state;
	char path[512], value[256];
	struct diags d = { 0 };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			/* Examples keep matching: the pattern's text comes first. */
			snprintf(value, sizeof(value), "%s%s",
			    strcmp(fields[i].field, "examples") == 0 ?
			    "Failed password for root from 10.1.2.3 port 1 " : "",
			    bad[j].s);
			write_fixture_with(dir, fields[i].field, 0, fields[i].key,
			    value, path, sizeof(path));
			assert_true(pb_lint(path, diag_cb, &d, NULL) >= 1);
			if (d.n < 1 || strstr(d.line[0], bad[j].cp) == NULL ||
			    strstr(d.line[0], fields[i].field) == NULL)
				fail_msg("%s with %s: %s", fields[i].field, bad[j].cp,
				    d.n > 0 ? d.line[0] : "(no problem reported)");
			diags_free(&d);
		}
}

/* Log lines hold tabs: an example may, no other text may. */
static void
test_lint_tab_allowed_in_examples_only(void **state)
{
	const char *dir = *state;
	char path[512];
	struct diags d = { 0 };

	write_fixture_with(dir, "examples", 0, "match",
	    "Failed password for root from 10.1.2.3\tport 1", path, sizeof(path));
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 0);
	write_fixture_with(dir, "explanation", 0, NULL, "a\ttab", path,
	    sizeof(path));
	assert_int_equal(pb_lint(path, diag_cb, &d, NULL), 1);
	expect_one_diag_with(&d, "explanation: contains U+0009", NULL);
	diags_free(&d);
}

/* Values quoted in messages (a tag here) cannot break the line either. */
static void
test_lint_values_quoted_in_messages_are_escaped(void **state)
{
	const char *dir = *state;
	char path[512];
	struct diags d = { 0 };

	write_fixture_with(dir, "tags", 0, NULL, "ssh\n\x1b[2Jx", path,
	    sizeof(path));
	assert_true(pb_lint(path, diag_cb, &d, NULL) >= 2);
	for (int i = 0; i < d.n && i < MAX_DIAGS; i++)
		for (const char *p = d.line[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				fail_msg("raw control byte in \"%s\"", d.line[i]);
	diags_free(&d);
}

/* ---- examples at load time (issue 16, defect 9) -------------------------- */

static void
test_library_add_skips_playbook_failing_its_examples(void **state)
{
	const char *dir = *state;
	struct pb_library *lib;
	struct diags d = { 0 };

	write_playbook(dir, "a-good", 1, "A good playbook that works");
	write_one_pattern(dir, "b-fails", "disk (?<dev>sd[a-z]) failed",
	    "disk sda failed", "disk sdb failed");	/* no_match matches */
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, dir, diag_cb, &d, NULL), 1);
	assert_int_equal(pb_library_count(lib), 1);
	assert_string_equal(pb_playbook_id(pb_library_get(lib, 0)), "a-good");
	expect_one_diag_with(&d, "b-fails.json:", "examples.no_match[0]: "
	    "matches, but must not", "not used", NULL);
	diags_free(&d);
	pb_library_free(lib);
}

/* ---- library ------------------------------------------------------------- */

static void
test_library_add_good_playbook_loads(void **state)
{
	struct pb_library *lib;
	const struct pb_playbook *pb;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, FIX "good-ssh-brute-force.json", diag_cb,
	    &d, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(pb_library_count(lib), 1);
	pb = pb_library_get(lib, 0);
	assert_non_null(pb);
	assert_string_equal(pb_playbook_id(pb), "good-ssh-brute-force");
	assert_string_equal(pb_playbook_title(pb),
	    "Many failed SSH logins from one address (Linux server, sshd)");
	assert_int_equal(pb_playbook_version(pb), 3);
	assert_int_equal(pb_playbook_severity(pb), PB_SEV_HIGH);
	assert_string_equal(pb_playbook_path(pb), FIX "good-ssh-brute-force.json");
	assert_non_null(pb_playbook_json(pb));
	assert_null(pb_library_get(lib, 1));
	pb_library_free(lib);
}

static void
test_library_add_bad_file_counts_one_and_loads_nothing(void **state)
{
	struct pb_library *lib;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, FIX "bad-unknown-field.json", diag_cb,
	    &d, NULL), 1);
	assert_int_equal(pb_library_count(lib), 0);
	assert_int_equal(d.n, 1);
	diags_free(&d);
	pb_library_free(lib);
}

static void
test_library_add_missing_path_is_eio(void **state)
{
	struct pb_library *lib;
	char *cause = NULL;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, "/nonexistent/playbooks", diag_cb, &d,
	    &cause), PB_EIO);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/nonexistent/playbooks"));
	free(cause);
	pb_library_free(lib);
}

static void
test_library_add_directory_of_1000_playbooks(void **state)
{
	const char *dir = *state;
	char id[32];
	struct pb_library *lib;
	struct diags d = { 0 };

	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "gen-%04d", i);
		write_playbook(dir, id, 1, "Generated playbook number one");
	}
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, dir, diag_cb, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(pb_library_count(lib), 1000);
	/* Read in sorted order, whatever readdir returns. */
	assert_string_equal(pb_playbook_id(pb_library_get(lib, 0)), "gen-0000");
	assert_string_equal(pb_playbook_id(pb_library_get(lib, 999)), "gen-0999");
	pb_library_free(lib);
}

static void
test_library_add_later_directory_overrides_same_id(void **state)
{
	char *shipped = subdir(state, "shipped"), *user = subdir(state, "user");
	struct pb_library *lib;
	const struct pb_playbook *pb;
	struct diags d = { 0 };

	write_playbook(shipped, "disk-full", 1, "Shipped title for disk full");
	write_playbook(shipped, "other", 1, "Another shipped playbook");
	write_playbook(user, "disk-full", 7, "User override for disk full");
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, shipped, diag_cb, &d, NULL), 0);
	assert_int_equal(pb_library_add(lib, user, diag_cb, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(pb_library_count(lib), 2);
	pb = pb_library_get(lib, 0);
	assert_string_equal(pb_playbook_id(pb), "disk-full");
	assert_int_equal(pb_playbook_version(pb), 7);
	assert_string_equal(pb_playbook_title(pb), "User override for disk full");
	assert_string_equal(pb_playbook_title(pb_library_get(lib, 1)),
	    "Another shipped playbook");
	pb_library_free(lib);
	free(shipped);
	free(user);
}

static void
test_library_add_directory_with_one_bad_file_loads_the_rest(void **state)
{
	const char *dir = *state;
	char path[512];
	struct pb_library *lib;
	struct diags d = { 0 };
	static const char broken[] = "{ \"format\": 1, \"id\": \"b-broken\", }";

	write_playbook(dir, "a-first", 1, "First good playbook here");
	snprintf(path, sizeof(path), "%s/b-broken.json", dir);
	write_file(path, broken, sizeof(broken) - 1);
	write_playbook(dir, "c-third", 1, "Third good playbook here");
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, dir, diag_cb, &d, NULL), 1);
	assert_int_equal(pb_library_count(lib), 2);
	assert_string_equal(pb_playbook_id(pb_library_get(lib, 0)), "a-first");
	assert_string_equal(pb_playbook_id(pb_library_get(lib, 1)), "c-third");
	expect_one_diag_with(&d, "b-broken.json:1:", "json: ", NULL);
	diags_free(&d);
	pb_library_free(lib);
}

static void
test_library_add_directory_skips_hidden_and_non_json(void **state)
{
	const char *dir = *state;
	char path[512];
	struct pb_library *lib;
	struct diags d = { 0 };

	write_playbook(dir, "real", 1, "The only real playbook");
	/* macOS AppleDouble litter and notes are not playbooks. */
	snprintf(path, sizeof(path), "%s/._real.json", dir);
	write_file(path, "\0\5\26\7", 4);
	snprintf(path, sizeof(path), "%s/README.txt", dir);
	write_file(path, "notes", 5);
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, dir, diag_cb, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(pb_library_count(lib), 1);
	pb_library_free(lib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_good_playbook_has_no_problems),
		cmocka_unit_test(test_lint_duplicate_key_rejected),
		cmocka_unit_test(test_lint_unknown_field_rejected_at_its_position),
		cmocka_unit_test(test_lint_missing_top_level_field_reported_at_root),
		cmocka_unit_test(test_lint_missing_nested_field_reported_at_parent),
		cmocka_unit_test(test_lint_bad_regex_reported_with_offset),
		cmocka_unit_test(test_lint_unknown_placeholder_reported_at_command),
		cmocka_unit_test(test_lint_id_must_match_file_name),
		cmocka_unit_test(test_lint_example_that_does_not_match_reported),
		cmocka_unit_test(test_lint_invalid_utf8_rejected),
		cmocka_unit_test_setup_teardown(test_lint_json_error_quoting_the_file_stays_one_safe_line,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lint_values_quoted_in_messages_are_escaped,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test(test_lint_missing_file_is_eio_with_cause),
		cmocka_unit_test_setup_teardown(test_lint_file_over_size_cap_rejected_before_parsing,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lint_threshold_without_window_rejected,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lint_threshold_in_sequence_mode_rejected,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lint_catastrophic_regex_from_report_rejected,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test(test_lint_backtracking_shapes),
		cmocka_unit_test(test_lint_provoking_lines_hit_the_limit),
		cmocka_unit_test_setup_teardown(test_analyze_catastrophic_playbook_disabled_with_one_message,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_analyze_boot_relative_times_kept_and_shown,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lint_control_and_invisible_characters_rejected_in_text,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lint_tab_allowed_in_examples_only,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_library_add_skips_playbook_failing_its_examples,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test(test_library_add_good_playbook_loads),
		cmocka_unit_test(test_library_add_bad_file_counts_one_and_loads_nothing),
		cmocka_unit_test(test_library_add_missing_path_is_eio),
		cmocka_unit_test_setup_teardown(test_library_add_directory_of_1000_playbooks,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_library_add_later_directory_overrides_same_id,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_library_add_directory_with_one_bad_file_loads_the_rest,
		    tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_library_add_directory_skips_hidden_and_non_json,
		    tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
