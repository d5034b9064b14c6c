/*
 * test-match.c - the analysis: pb_analysis_* and pb_card_* (match.c,
 * card.c, logsrc.c).  Each test writes small playbooks to a temporary
 * directory, feeds lines or files, and looks at the cards a user would see.
 */
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

#include <jansson.h>

#include "playbook.h"

#define LOG "test.log"		/* file name given to pb_analysis_feed_line */

/* ---- fixture: a temporary playbook directory and an analysis ------------- */

struct fx {
	char		 dir[64];
	struct pb_options opt;
	struct pb_library *lib;
	struct pb_analysis *a;
	uint64_t	 lineno;
	int		 nwarn;
	char		 warn[1024];	/* the last warning */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/triage-test-match.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	pb_options_init(&f->opt);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	pb_analysis_free(f->a);
	pb_library_free(f->lib);
	(void)nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* A path inside the fixture's directory (static buffer, one at a time). */
static const char *
in_dir(struct fx *f, const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return path;
}

/* A line each test playbook (by id) matches: playbooks must pass their own
 * examples to be loaded. */
static const char *
example_for(const char *id)
{
	static const char *const ex[][2] = {
		{ "oom", "kernel: Out of memory: Killed process 1 (java)" },
		{ "any-kill", "app: watchdog Killed process 77" },
		{ "ssh", "sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2" },
		{ "seq", "backup job started" },
		{ "all", "raid array degraded" },
		{ "inv", "Invalid user bob from 10.0.0.1" },
		{ "a-low", "alpha event" }, { "b-high", "bravo event" },
		{ "c-high", "charlie event" }, { "d-crit", "delta event" },
		{ "disk", "kernel: I/O error on sda" },
		{ "slow", "startaaa" },
		{ "mx-deferred", "smtp: status=deferred (connect to mx)" },
		{ "any-timeout", "nc: Connection timed out" },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		if (strcmp(ex[i][0], id) == 0)
			return ex[i][1];
	fail_msg("no example line for test playbook %s", id);
	return NULL;
}

/* Write playbook <id>.json with the given severity and "match" object. */
static void
playbook(struct fx *f, const char *id, const char *severity, const char *match)
{
	char text[4096];
	const char *ex = example_for(id);
	int n;

	n = snprintf(text, sizeof(text),
	    "{\n"
	    "  \"format\": 1, \"id\": \"%s\", \"version\": 1,\n"
	    "  \"title\": \"Test playbook %s\", \"severity\": \"%s\",\n"
	    "  \"tags\": [\"test\"], \"sources\": [\"any\"],\n"
	    "  \"match\": %s,\n"
	    "  \"explanation\": \"Test.\", \"causes\": [\"the test\"],\n"
	    "  \"checks\": [ { \"do\": \"look\", \"command\": \"less {{file}}\", "
	    "\"expect\": \"lines\" } ],\n"
	    "  \"fix\": [\"nothing\"], \"verify\": [\"nothing\"],\n"
	    "  \"escalate\": { \"when\": \"never\", \"attach\": [\"{{file}}\"] },\n"
	    "  \"references\": [\"triage(1)\"],\n"
	    "  \"examples\": { \"match\": [\"%s\", \"%s\", \"%s\"], "
	    "\"no_match\": [\"d\", \"e\", \"f\"] }\n"
	    "}\n", id, id, severity, match, ex, ex, ex);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_file(in_dir(f, "tmp"), text, (size_t)n);
	{
		char dst[256];
		snprintf(dst, sizeof(dst), "%s/%s.json", f->dir, id);
		assert_int_equal(rename(in_dir(f, "tmp"), dst), 0);
	}
}

static void
diag_fail(void *arg, const char *line)
{
	(void)arg;
	fail_msg("unexpected playbook problem: %s", line);
}

/* Load the directory's playbooks and start an analysis with f->opt. */
static void
start(struct fx *f)
{
	char *cause = NULL;

	assert_int_equal(pb_library_new(&f->lib), 0);
	assert_int_equal(pb_library_add(f->lib, f->dir, diag_fail, NULL, &cause), 0);
	assert_int_equal(pb_analysis_new(f->lib, &f->opt, &f->a), 0);
}

/* 2024-06-14T10:00:00Z: the base time of generated lines. */
#define BASE_MS 1718359200000LL
/* The reference time for year-less stamps (2024-07-01). */
#define REF 1719792000LL

/* Feed "<ISO time BASE+sec> host <msg>" as the next line of LOG. */
static void
feed_at(struct fx *f, int sec, const char *msg)
{
	char line[1024], ts[32];
	time_t t = (time_t)(BASE_MS / 1000 + sec);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof(line), "%s host %s", ts, msg);
	pb_analysis_feed_line(f->a, LOG, ++f->lineno, line, strlen(line), REF);
}

/* Feed a line exactly as given (length explicit: it may hold NUL). */
static void
feed_raw(struct fx *f, const char *line, size_t len)
{
	pb_analysis_feed_line(f->a, LOG, ++f->lineno, line, len, REF);
}

static void
warn_cb(void *arg, const char *line)
{
	struct fx *f = arg;

	f->nwarn++;
	snprintf(f->warn, sizeof(f->warn), "%s", line);
}

/* Finish and return the only card (failing if there is not exactly one). */
static const struct pb_card *
only_card(struct fx *f)
{
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ncards(f->a), 1);
	return pb_analysis_card(f->a, 0);
}

static size_t
ncards(struct fx *f)
{
	pb_analysis_finish(f->a);
	return pb_analysis_ncards(f->a);
}

/* Index of capture `name` on a card; fails if absent. */
static size_t
capture_index(const struct pb_card *c, const char *name)
{
	const char *v;
	uint64_t n;

	for (size_t i = 0; i < pb_card_ncaptures(c); i++)
		if (strcmp(pb_card_capture(c, i, 0, &v, &n), name) == 0)
			return i;
	fail_msg("no capture %s", name);
	return 0;
}

#define OOM_MATCH "{ \"patterns\": [ { \"name\": \"oom\", " \
	"\"regex\": \"Out of memory: Killed process (?<pid>\\\\d+)\" } ] }"
#define OOM(pid) "kernel: Out of memory: Killed process " #pid " (java)"

#define SSH_THRESHOLD "{ \"patterns\": [ { \"name\": \"failed\", " \
	"\"regex\": \"Failed password for \\\\S+ from (?<ip>[0-9.]+)\" } ], " \
	"\"threshold\": 5, \"window\": 60, \"group_by\": \"ip\" }"
#define FAIL_A "sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2"
#define FAIL_B "sshd[1]: Failed password for root from 10.0.0.2 port 22 ssh2"

/* ---- mode any ------------------------------------------------------------ */

static void
test_feed_line_any_threshold_one_counts_every_match(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	for (int i = 0; i < 7; i++) {
		feed_at(f, i, OOM(4242));
		feed_at(f, i, "kernel: all is well");
	}
	c = only_card(f);
	assert_string_equal(pb_playbook_id(pb_card_playbook(c)), "oom");
	assert_int_equal(pb_card_count(c), 7);
	assert_int_equal(pb_card_first(c), BASE_MS);
	assert_int_equal(pb_card_last(c), BASE_MS + 6000);
	assert_int_equal(pb_analysis_lines(f->a), 14);
}

static void
test_feed_line_no_match_no_card(void **state)
{
	struct fx *f = *state;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	feed_at(f, 0, "kernel: Out of memory: but nothing killed");
	feed_at(f, 1, "kernel: out of memory: killed process 1");	/* case */
	assert_int_equal(ncards(f), 0);
}

/* A generic playbook speaks only for lines no specific playbook knows. */
static void
test_generic_playbook_yields_to_a_specific_one(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;

	playbook(f, "oom", "high", OOM_MATCH);
	playbook(f, "any-kill", "medium", "{ \"generic\": true, \"patterns\": "
	    "[ { \"name\": \"k\", \"regex\": \"[Kk]illed process\" } ] }");
	start(f);
	feed_at(f, 0, OOM(4242));			/* both match: oom only */
	feed_at(f, 1, "app: watchdog Killed process 77");	/* generic only */
	pb_analysis_finish(f->a);
	assert_int_equal(ncards(f), 2);
	for (size_t i = 0; i < 2; i++) {
		c = pb_analysis_card(f->a, i);
		assert_int_equal(pb_card_count(c), 1);
	}
}

/*
 * A specific playbook below its threshold does not silence the generic
 * one, and the lines it matched are still listed as a known problem below
 * its threshold (not lost between the cards and the unknowns).
 */
static void
test_below_threshold_is_listed_and_generic_still_speaks(void **state)
{
	struct fx *f = *state;
	const struct pb_playbook *pb;
	const char *ex, *file;
	uint64_t count, lineno;
	size_t exlen;

	playbook(f, "mx-deferred", "medium", "{ \"patterns\": [ { \"name\": "
	    "\"d\", \"regex\": \"status=deferred\" } ], \"threshold\": 5, "
	    "\"window\": 600 }");
	playbook(f, "any-timeout", "medium", "{ \"generic\": true, "
	    "\"patterns\": [ { \"name\": \"t\", \"regex\": "
	    "\"Connection timed out\" } ] }");
	start(f);
	feed_at(f, 0, "smtp: status=deferred (connect to mx: Connection timed out)");
	feed_at(f, 1, "smtp: status=deferred (connect to mx: Connection timed out)");
	pb_analysis_finish(f->a);
	assert_int_equal(ncards(f), 1);
	assert_string_equal(pb_playbook_id(pb_card_playbook(
	    pb_analysis_card(f->a, 0))), "any-timeout");
	assert_int_equal(pb_analysis_nbelow(f->a), 1);
	pb = pb_analysis_below(f->a, 0, &count, &ex, &exlen, &file, &lineno);
	assert_non_null(pb);
	assert_string_equal(pb_playbook_id(pb), "mx-deferred");
	assert_int_equal(count, 2);
	assert_int_equal(lineno, 1);
	assert_true(exlen > 0 && memmem(ex, exlen, "status=deferred", 15) != NULL);
}

/* Once the specific card stands, it speaks for its lines again, and it
 * is no longer listed below its threshold. */
static void
test_specific_card_met_silences_generic_and_leaves_below_list(void **state)
{
	struct fx *f = *state;

	playbook(f, "mx-deferred", "medium", "{ \"patterns\": [ { \"name\": "
	    "\"d\", \"regex\": \"status=deferred\" } ], \"threshold\": 2, "
	    "\"window\": 600 }");
	playbook(f, "any-timeout", "medium", "{ \"generic\": true, "
	    "\"patterns\": [ { \"name\": \"t\", \"regex\": "
	    "\"Connection timed out\" } ] }");
	start(f);
	for (int i = 0; i < 4; i++)
		feed_at(f, i, "smtp: status=deferred (Connection timed out)");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_nbelow(f->a), 0);
	assert_int_equal(ncards(f), 2);	/* generic kept the first line only */
	for (size_t i = 0; i < 2; i++) {
		const struct pb_card *c = pb_analysis_card(f->a, i);
		if (strcmp(pb_playbook_id(pb_card_playbook(c)), "any-timeout") == 0)
			assert_int_equal(pb_card_count(c), 1);
		else
			assert_int_equal(pb_card_count(c), 4);
	}
}

/* ---- threshold within a window, per group_by ------------------------------ */

static void
test_feed_line_threshold_four_events_no_card(void **state)
{
	struct fx *f = *state;

	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	for (int i = 0; i < 4; i++)
		feed_at(f, i * 10, FAIL_A);
	assert_int_equal(ncards(f), 0);
}

static void
test_feed_line_threshold_five_in_window_makes_card(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;

	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	for (int i = 0; i < 5; i++)
		feed_at(f, i * 10, FAIL_A);	/* 0..40 s */
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 5);
	assert_int_equal(pb_card_first(c), BASE_MS);
	assert_int_equal(pb_card_last(c), BASE_MS + 40000);
}

static void
test_feed_line_threshold_events_after_met_keep_counting(void **state)
{
	struct fx *f = *state;

	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	for (int i = 0; i < 8; i++)
		feed_at(f, i * 5, FAIL_A);
	assert_int_equal(pb_card_count(only_card(f)), 8);
}

static void
test_feed_line_threshold_spread_over_ten_minutes_no_card(void **state)
{
	struct fx *f = *state;

	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	for (int i = 0; i < 5; i++)
		feed_at(f, i * 150, FAIL_A);	/* 0..600 s */
	assert_int_equal(ncards(f), 0);
}

static void
test_feed_line_threshold_group_by_keeps_addresses_apart(void **state)
{
	struct fx *f = *state;

	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	/* Eight failures within 40 s, but only four per address. */
	for (int i = 0; i < 4; i++) {
		feed_at(f, i * 10, FAIL_A);
		feed_at(f, i * 10 + 1, FAIL_B);
	}
	assert_int_equal(ncards(f), 0);
}

static void
test_feed_line_threshold_group_by_counts_only_the_busy_address(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;
	const char *v;
	uint64_t n;
	size_t ip;

	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	for (int i = 0; i < 5; i++) {
		feed_at(f, i * 10, FAIL_A);
		if (i < 4)
			feed_at(f, i * 10 + 1, FAIL_B);
	}
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 5);
	ip = capture_index(c, "ip");
	pb_card_capture(c, ip, 0, &v, &n);
	assert_string_equal(v, "10.0.0.1");
	pb_card_capture(c, ip, 1, &v, &n);
	assert_null(v);		/* 10.0.0.2 never reached the threshold */
}

/* ---- sequence and all ----------------------------------------------------- */

#define SEQ_MATCH "{ \"patterns\": [ " \
	"{ \"name\": \"start\", \"regex\": \"backup job started\" }, " \
	"{ \"name\": \"fail\", \"regex\": \"backup job failed\" } ], " \
	"\"mode\": \"sequence\", \"window\": 300 }"

static void
test_feed_line_sequence_in_order_within_window_fires(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;

	playbook(f, "seq", "medium", SEQ_MATCH);
	start(f);
	feed_at(f, 0, "cron: backup job started");
	feed_at(f, 10, "cron: unrelated line");
	feed_at(f, 60, "cron: backup job failed");
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 1);
	/* Both steps are evidence. */
	assert_int_equal(pb_card_nexamples(c), 2);
}

static void
test_feed_line_sequence_reversed_does_not_fire(void **state)
{
	struct fx *f = *state;

	playbook(f, "seq", "medium", SEQ_MATCH);
	start(f);
	feed_at(f, 0, "cron: backup job failed");
	feed_at(f, 60, "cron: backup job started");
	assert_int_equal(ncards(f), 0);
}

static void
test_feed_line_sequence_too_late_does_not_fire(void **state)
{
	struct fx *f = *state;

	playbook(f, "seq", "medium", SEQ_MATCH);
	start(f);
	feed_at(f, 0, "cron: backup job started");
	feed_at(f, 600, "cron: backup job failed");	/* window is 300 s */
	assert_int_equal(ncards(f), 0);
}

#define ALL_MATCH "{ \"patterns\": [ " \
	"{ \"name\": \"degraded\", \"regex\": \"raid array degraded\" }, " \
	"{ \"name\": \"failing\", \"regex\": \"disk sd[a-z] failing\" } ], " \
	"\"mode\": \"all\", \"window\": 60 }"

static void
test_feed_line_all_both_patterns_in_any_order_fire(void **state)
{
	struct fx *f = *state;

	playbook(f, "all", "high", ALL_MATCH);
	start(f);
	feed_at(f, 0, "smartd: disk sdb failing");
	feed_at(f, 30, "mdadm: raid array degraded");
	assert_int_equal(pb_card_count(only_card(f)), 1);
}

static void
test_feed_line_all_one_pattern_only_does_not_fire(void **state)
{
	struct fx *f = *state;

	playbook(f, "all", "high", ALL_MATCH);
	start(f);
	for (int i = 0; i < 3; i++)
		feed_at(f, i, "mdadm: raid array degraded");
	assert_int_equal(ncards(f), 0);
}

static void
test_feed_line_all_outside_window_does_not_fire(void **state)
{
	struct fx *f = *state;

	playbook(f, "all", "high", ALL_MATCH);
	start(f);
	feed_at(f, 0, "mdadm: raid array degraded");
	feed_at(f, 600, "smartd: disk sdb failing");
	assert_int_equal(ncards(f), 0);
}

/* ---- exclude, captures, placeholders -------------------------------------- */

static void
test_feed_line_exclude_suppresses_event(void **state)
{
	struct fx *f = *state;

	playbook(f, "ssh", "high", "{ \"patterns\": [ { \"name\": \"f\", "
	    "\"regex\": \"Failed password for \\\\S+ from\" } ], "
	    "\"exclude\": [ \"from 127\\\\.0\\\\.0\\\\.1 \" ] }");
	start(f);
	for (int i = 0; i < 3; i++)
		feed_at(f, i, "sshd[1]: Failed password for root from 127.0.0.1 port 22 ssh2");
	feed_at(f, 5, FAIL_A);
	feed_at(f, 6, FAIL_B);
	assert_int_equal(pb_card_count(only_card(f)), 2);
}

#define INVALID_USER "{ \"patterns\": [ { \"name\": \"inv\", " \
	"\"regex\": \"Invalid user (?<user>.+) from (?<ip>[0-9.]+)\" } ] }"

static void
test_card_capture_values_by_falling_count(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;
	const char *v;
	uint64_t n;
	size_t user;

	playbook(f, "inv", "high", INVALID_USER);
	start(f);
	feed_at(f, 0, "sshd[1]: Invalid user admin from 10.0.0.1");
	for (int i = 1; i <= 3; i++)
		feed_at(f, i, "sshd[1]: Invalid user x; rm -rf / from 10.0.0.1");
	feed_at(f, 4, "sshd[1]: Invalid user bob from 10.0.0.2");
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 5);
	assert_int_equal(pb_card_ncaptures(c), 2);
	user = capture_index(c, "user");
	assert_string_equal(pb_card_capture(c, user, 0, &v, &n), "user");
	assert_string_equal(v, "x; rm -rf /");
	assert_int_equal(n, 3);
	pb_card_capture(c, user, 1, &v, &n);
	assert_string_equal(v, "admin");	/* ties: alphabetical */
	assert_int_equal(n, 1);
	pb_card_capture(c, user, 2, &v, &n);
	assert_string_equal(v, "bob");
	pb_card_capture(c, capture_index(c, "ip"), 0, &v, &n);
	assert_string_equal(v, "10.0.0.1");
	assert_int_equal(n, 4);
}

static void
test_card_fill_uses_most_frequent_value_and_quotes_for_shell(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;
	char *s;

	playbook(f, "inv", "high", INVALID_USER);
	start(f);
	feed_at(f, 0, "sshd[1]: Invalid user admin from 10.0.0.1");
	for (int i = 1; i <= 3; i++)
		feed_at(f, i, "sshd[1]: Invalid user x; rm -rf / from 10.0.0.1");
	c = only_card(f);
	s = pb_card_fill(c, "grep -c {{user}} {{file}} # {{ip}} {{nosuch}}", 1);
	assert_non_null(s);
	assert_string_equal(s, "grep -c 'x; rm -rf /' test.log # 10.0.0.1 <nosuch>");
	free(s);
	/* Prose (shell = 0) shows the value as it is. */
	s = pb_card_fill(c, "User {{user}} from {{ip}}.", 0);
	assert_non_null(s);
	assert_string_equal(s, "User x; rm -rf / from 10.0.0.1.");
	free(s);
}

/* Feed one sshd line to the invalid-user playbook, fill tmpl for the shell. */
static void
expect_fill(struct fx *f, const char *line, const char *tmpl, const char *want)
{
	char *s;

	playbook(f, "inv", "high", INVALID_USER);
	start(f);
	feed_at(f, 0, line);
	s = pb_card_fill(only_card(f), tmpl, 1);
	assert_non_null(s);
	assert_null(strchr(s, '\x1b'));	/* never raw ESC */
	assert_string_equal(s, want);
	free(s);
}

static void
test_card_fill_escapes_single_quotes_for_shell(void **state)
{
	expect_fill(*state, "sshd[1]: Invalid user o'brien $(reboot) from 10.0.0.1",
	    "id {{user}}", "id 'o'\\''brien $(reboot)'");
}

static void
test_card_fill_inside_single_quotes_escapes_only_the_quote(void **state)
{
	/* The template already quotes: no second pair of quotes. */
	expect_fill(*state, "sshd[1]: Invalid user o'brien $(reboot) from 10.0.0.1",
	    "grep -c '{{user}}' {{file}}", "grep -c 'o'\\''brien $(reboot)' test.log");
}

static void
test_card_fill_inside_double_quotes_escapes_specials(void **state)
{
	expect_fill(*state, "sshd[1]: Invalid user say \"hi\" $HOME `id` from 10.0.0.1",
	    "grep \"{{user}}\" /var/log/auth.log", "grep \"say \\\"hi\\\" \\$HOME \\`id\\`\" /var/log/auth.log");
}

static void
test_card_fill_sanitizes_control_characters(void **state)
{
	expect_fill(*state, "sshd[1]: Invalid user a\x1b[2Jb from 10.0.0.1",
	    "id {{user}}", "id 'a\\x1b[2Jb'");
}

/* ---- time filters, order, evidence --------------------------------------- */

static void
test_feed_line_since_until_filter_events(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;
	int64_t since, until;

	playbook(f, "oom", "high", OOM_MATCH);
	assert_int_equal(pb_time_arg("2024-06-14", REF, &since), 0);
	assert_int_equal(pb_time_arg("2024-06-14T12:00:00", REF, &until), 0);
	f->opt.since_ms = since;
	f->opt.until_ms = until;
	start(f);
	feed_at(f, -36000 - 1, OOM(1));		/* 2024-06-13T23:59:59: before */
	feed_at(f, 0, OOM(2));			/* 10:00:00 */
	feed_at(f, 7199, OOM(3));		/* 11:59:59 */
	feed_at(f, 7201, OOM(4));		/* 12:00:01: after */
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 2);
	assert_int_equal(pb_card_first(c), BASE_MS);
	assert_int_equal(pb_card_last(c), BASE_MS + 7199000);
}

static void
test_analysis_finish_orders_by_severity_then_first_seen(void **state)
{
	struct fx *f = *state;
	static const char *const want[] = { "d-crit", "c-high", "b-high", "a-low" };

#define ONE(name, re) "{ \"patterns\": [ { \"name\": \"" name "\", " \
	"\"regex\": \"" re "\" } ] }"
	playbook(f, "a-low", "low", ONE("a", "alpha event"));
	playbook(f, "b-high", "high", ONE("b", "bravo event"));
	playbook(f, "c-high", "high", ONE("c", "charlie event"));
	playbook(f, "d-crit", "critical", ONE("d", "delta event"));
#undef ONE
	start(f);
	feed_at(f, 0, "app: alpha event");
	feed_at(f, 300, "app: bravo event");
	feed_at(f, 180, "app: charlie event");	/* later in the file, earlier in time */
	feed_at(f, 540, "app: delta event");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ncards(f->a), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(pb_playbook_id(pb_card_playbook(
		    pb_analysis_card(f->a, i))), want[i]);
	assert_null(pb_analysis_card(f->a, 4));
}

static void
test_card_evidence_keeps_first_lines_and_most_recent(void **state)
{
	struct fx *f = *state;
	const struct pb_card *c;
	const char *text, *file;
	uint64_t lineno;
	char want[128];
	static const uint64_t lines[] = { 1, 2, 10 };

	playbook(f, "oom", "high", OOM_MATCH);
	f->opt.max_examples = 3;
	start(f);
	for (int i = 1; i <= 10; i++) {
		char msg[64];
		snprintf(msg, sizeof(msg), "kernel: Out of memory: Killed process %d", i);
		feed_at(f, i, msg);
	}
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 10);
	assert_int_equal(pb_card_nexamples(c), 3);
	for (size_t i = 0; i < 3; i++) {
		text = pb_card_example(c, i, &file, &lineno);
		assert_string_equal(file, LOG);
		assert_int_equal(lineno, lines[i]);
		snprintf(want, sizeof(want), "Killed process %d", (int)lines[i]);
		assert_non_null(strstr(text, want));
	}
	assert_null(pb_card_example(c, 3, &file, &lineno));
}

/* ---- unknown lines -------------------------------------------------------- */

static void
test_feed_line_unknown_keyword_lines_become_templates(void **state)
{
	struct fx *f = *state;
	const char *t, *ex, *file;
	uint64_t count, lineno;

	playbook(f, "disk", "high", "{ \"patterns\": [ { \"name\": \"io\", "
	    "\"regex\": \"I/O error on (?<dev>sd[a-z])\" } ] }");
	start(f);
	feed_at(f, 0, "kernel: I/O error on sda");		/* matched: not unknown */
	feed_at(f, 1, "app: connection refused by upstream 10.0.0.1");
	feed_at(f, 2, "app: all good");				/* no keyword */
	feed_at(f, 3, "app: connection refused by upstream 10.0.0.2");
	feed_at(f, 4, "kernel: I/O error on sdb");
	feed_at(f, 5, "app: connection refused by upstream 10.0.0.3");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ncards(f->a), 1);
	assert_int_equal(pb_analysis_unknown_lines(f->a), 3);
	assert_int_equal(pb_analysis_ntemplates(f->a), 1);
	t = pb_analysis_template(f->a, 0, &count, &ex, &file, &lineno);
	assert_non_null(t);
	assert_non_null(strstr(t, "connection refused by upstream"));
	assert_null(strstr(t, "I/O"));
	assert_int_equal(count, 3);
	assert_string_equal(file, LOG);
	assert_int_equal(lineno, 2);
	assert_non_null(strstr(ex, "10.0.0.1"));
	assert_null(pb_analysis_template(f->a, 1, &count, &ex, &file, &lineno));
}

static void
test_feed_line_unknown_disabled_keeps_no_templates(void **state)
{
	struct fx *f = *state;

	playbook(f, "oom", "high", OOM_MATCH);
	f->opt.unknown = 0;
	start(f);
	feed_at(f, 1, "app: connection refused by upstream");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ntemplates(f->a), 0);
	assert_int_equal(pb_analysis_unknown_lines(f->a), 0);
}

/* ---- lines with odd bytes -------------------------------------------------- */

static void
test_feed_line_nul_bytes_match_and_are_escaped(void **state)
{
	struct fx *f = *state;
	static const char line[] = "2024-06-14T10:00:00Z host a\0b kernel: "
	    "Out of memory: Killed process 42";
	const char *text, *file;
	uint64_t lineno;
	const struct pb_card *c;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	feed_raw(f, line, sizeof(line) - 1);
	c = only_card(f);
	text = pb_card_example(c, 0, &file, &lineno);
	assert_non_null(strstr(text, "a\\x00b kernel: Out of memory"));
}

/* ---- files ------------------------------------------------------------------ */

static void
test_feed_file_reads_lines_with_numbers(void **state)
{
	struct fx *f = *state;
	static const char log[] =
	    "Jun 14 10:00:00 host kernel: booting\n"
	    "Jun 14 10:00:01 host kernel: Out of memory: Killed process 7 (java)\n"
	    "Jun 14 10:00:02 host kernel: done";		/* no final newline */
	const char *file, *path;
	uint64_t lineno;
	char *cause = NULL;
	const struct pb_card *c;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	path = in_dir(f, "messages");
	write_file(path, log, sizeof(log) - 1);
	assert_int_equal(pb_analysis_feed_file(f->a, path, warn_cb, f, &cause), 0);
	assert_null(cause);
	assert_int_equal(f->nwarn, 0);
	assert_int_equal(pb_analysis_lines(f->a), 3);
	c = only_card(f);
	pb_card_example(c, 0, &file, &lineno);
	assert_string_equal(file, in_dir(f, "messages"));
	assert_int_equal(lineno, 2);
}

static void
test_feed_file_catastrophic_regex_hits_limit_quickly(void **state)
{
	struct fx *f = *state;
	enum { NLINES = 50, NA = 5000 };
	char *cause = NULL, *log;
	size_t n = 0;
	struct timespec t0, t1;
	double secs;

	/*
	 * (a+)+$ against aaaa...ab backtracks exponentially.  Each such line
	 * costs one match limit of work: about 2 ms at the playbook limit of
	 * 1e6 steps, ten times that at PCRE2's default, so 50 lines show
	 * whether the limit is in force.
	 */
	playbook(f, "slow", "high", "{ \"patterns\": [ { \"name\": \"bad\", "
	    "\"regex\": \"start(a+)+$\" } ] }");
	start(f);
	log = malloc(NLINES * (NA + 8) + 16);
	assert_non_null(log);
	for (int k = 0; k < NLINES; k++) {
		memcpy(log + n, "start", 5);
		memset(log + n + 5, 'a', NA);
		n += 5 + NA;
		memcpy(log + n, "b\n", 2);
		n += 2;
	}
	memcpy(log + n, "startaaa\n", 9);	/* not matched: disabled by then */
	n += 9;
	write_file(in_dir(f, "slow.log"), log, n);
	free(log);

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(pb_analysis_feed_file(f->a, in_dir(f, "slow.log"), warn_cb,
	    f, &cause), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* CPU time, not wall time, so a loaded CI machine cannot fail it;
	 * a generous bound against runaway backtracking (the limit itself
	 * is proven by the message below) */
	if (secs >= 5.0)
		fail_msg("%d catastrophic lines took %.2f s of CPU", NLINES, secs);
	/* Reported once, naming the playbook and where it first happened;
	 * after three hits the playbook is off for the rest of the input, so
	 * even the harmless last line no longer counts. */
	assert_int_equal(f->nwarn, 1);
	assert_non_null(strstr(f->warn, "playbook slow disabled"));
	assert_non_null(strstr(f->warn, "pattern bad"));
	assert_non_null(strstr(f->warn, "first at "));
	assert_non_null(strstr(f->warn, "slow.log:1"));
	assert_int_equal(ncards(f), 0);
}

static void
test_feed_file_missing_is_eio_naming_file(void **state)
{
	struct fx *f = *state;
	char *cause = NULL;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	assert_int_equal(pb_analysis_feed_file(f->a, in_dir(f, "nope.log"), warn_cb,
	    f, &cause), PB_EIO);
	assert_non_null(cause);
	assert_non_null(strstr(cause, in_dir(f, "nope.log")));
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
}

static void
test_feed_file_directory_is_refused(void **state)
{
	struct fx *f = *state;
	char *cause = NULL;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	assert_int_equal(pb_analysis_feed_file(f->a, f->dir, warn_cb, f, &cause), PB_EIO);
	assert_non_null(cause);
	assert_non_null(strstr(cause, f->dir));
	assert_non_null(strstr(cause, "is a directory"));
	free(cause);
}

static void
test_feed_file_dev_zero_is_refused(void **state)
{
	struct fx *f = *state;
	char *cause = NULL;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	assert_int_equal(pb_analysis_feed_file(f->a, "/dev/zero", warn_cb, f, &cause),
	    PB_EIO);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/dev/zero"));
	assert_non_null(strstr(cause, "not a regular file"));
	assert_int_equal(pb_analysis_lines(f->a), 0);
	free(cause);
}

static void
test_feed_file_gzip_is_decompressed(void **state)
{
	struct fx *f = *state;
	char cmd[512], gz[256], *cause = NULL;
	const char *file;
	uint64_t lineno;
	const struct pb_card *c;
	FILE *fp;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	snprintf(cmd, sizeof(cmd), "gzip -n -c > '%s/kern.log.gz'", f->dir);
	fp = popen(cmd, "w");
	assert_non_null(fp);
	fprintf(fp, "Jun 14 10:00:00 host kernel: booting\n");
	for (int i = 0; i < 4; i++)
		fprintf(fp, "Jun 14 10:00:0%d host " OOM(99) "\n", i + 1);
	assert_int_equal(pclose(fp), 0);
	snprintf(gz, sizeof(gz), "%s/kern.log.gz", f->dir);
	assert_int_equal(pb_analysis_feed_file(f->a, gz, warn_cb, f, &cause), 0);
	assert_int_equal(f->nwarn, 0);
	assert_int_equal(pb_analysis_lines(f->a), 5);
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 4);
	pb_card_example(c, 0, &file, &lineno);
	assert_string_equal(file, gz);
	assert_int_equal(lineno, 2);
}

/* A file whose first line is `longlen` bytes of 'x', then an OOM line. */
static void
write_long_line_log(struct fx *f, const char *name, size_t longlen)
{
	static const char tail[] = "\nJun 14 10:00:01 host " OOM(7) "\n";
	char *buf = malloc(longlen + sizeof(tail));

	assert_non_null(buf);
	memset(buf, 'x', longlen);
	memcpy(buf + longlen, tail, sizeof(tail) - 1);
	write_file(in_dir(f, name), buf, longlen + sizeof(tail) - 1);
	free(buf);
}

static void
test_feed_file_very_long_line_then_match_keeps_line_number(void **state)
{
	struct fx *f = *state;
	char *cause = NULL;
	const char *file, *text;
	uint64_t lineno;
	const struct pb_card *c;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	write_long_line_log(f, "long.log", 1500000);
	assert_int_equal(pb_analysis_feed_file(f->a, in_dir(f, "long.log"), warn_cb,
	    f, &cause), 0);
	assert_int_equal(pb_analysis_lines(f->a), 2);
	c = only_card(f);
	text = pb_card_example(c, 0, &file, &lineno);
	assert_int_equal(lineno, 2);
	assert_non_null(strstr(text, "Killed process 7"));
}

static void
test_feed_file_line_longer_than_buffer_is_cut_and_warned(void **state)
{
	struct fx *f = *state;
	char *cause = NULL;
	const char *file;
	uint64_t lineno;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	write_long_line_log(f, "huge.log", 3000000);
	assert_int_equal(pb_analysis_feed_file(f->a, in_dir(f, "huge.log"), warn_cb,
	    f, &cause), 0);
	assert_int_equal(pb_analysis_lines(f->a), 2);
	pb_card_example(only_card(f), 0, &file, &lineno);
	assert_int_equal(lineno, 2);
	assert_int_equal(f->nwarn, 1);
	assert_non_null(strstr(f->warn, "1 line(s) longer than 1048576 bytes"));
}

static void
test_feed_file_crlf_lines_match_without_cr(void **state)
{
	struct fx *f = *state;
	static const char log[] =
	    "Jun 14 10:00:00 host sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2\r\n"
	    "Jun 14 10:00:01 host sshd[1]: Failed password for bob from 10.0.0.1 port 22 ssh2\r\n";
	char *cause = NULL;
	const char *file, *text;
	uint64_t lineno;
	const struct pb_card *c;

	/* "ssh2$": would not match if the CR were left on the line. */
	playbook(f, "ssh", "high", "{ \"patterns\": [ { \"name\": \"f\", "
	    "\"regex\": \"Failed password for \\\\S+ from \\\\S+ port \\\\d+ ssh2$\" } ] }");
	start(f);
	write_file(in_dir(f, "auth.log"), log, sizeof(log) - 1);
	assert_int_equal(pb_analysis_feed_file(f->a, in_dir(f, "auth.log"), warn_cb,
	    f, &cause), 0);
	c = only_card(f);
	assert_int_equal(pb_card_count(c), 2);
	for (size_t i = 0; i < pb_card_nexamples(c); i++) {
		text = pb_card_example(c, i, &file, &lineno);
		assert_null(strchr(text, '\r'));
		assert_null(strstr(text, "\\x0d"));
		assert_true(strlen(text) > 3 &&
		    strcmp(text + strlen(text) - 4, "ssh2") == 0);
	}
}

static void
test_feed_file_nul_bytes_warned_and_matched(void **state)
{
	struct fx *f = *state;
	static const char log[] = "garbage\0\0\0 here\n"
	    "Jun 14 10:00:01 host kernel:\0 Out of memory: Killed process 9\n";
	char *cause = NULL;
	const char *file, *text;
	uint64_t lineno;
	const struct pb_card *c;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	write_file(in_dir(f, "bin.log"), log, sizeof(log) - 1);
	assert_int_equal(pb_analysis_feed_file(f->a, in_dir(f, "bin.log"), warn_cb,
	    f, &cause), 0);
	assert_int_equal(f->nwarn, 1);
	assert_non_null(strstr(f->warn, "NUL"));
	c = only_card(f);
	text = pb_card_example(c, 0, &file, &lineno);
	assert_int_equal(lineno, 2);
	assert_non_null(strstr(text, "kernel:\\x00 Out of memory"));
}

/* ---- JSON document ------------------------------------------------------- */

static void
test_analysis_write_json_lists_cards_and_counts(void **state)
{
	struct fx *f = *state;
	FILE *fp = tmpfile();
	json_t *doc, *card;
	json_error_t err;

	playbook(f, "oom", "high", OOM_MATCH);
	start(f);
	feed_at(f, 0, OOM(1));
	feed_at(f, 1, OOM(2));
	feed_at(f, 2, "app: connection refused");
	pb_analysis_finish(f->a);
	assert_non_null(fp);
	assert_int_equal(pb_analysis_write_json(f->a, fp), 0);
	rewind(fp);
	doc = json_loadf(fp, 0, &err);
	fclose(fp);
	if (doc == NULL)
		fail_msg("invalid JSON: %s", err.text);
	assert_int_equal(json_integer_value(json_object_get(doc, "lines")), 3);
	card = json_array_get(json_object_get(doc, "cards"), 0);
	assert_string_equal(json_string_value(json_object_get(card, "id")), "oom");
	assert_int_equal(json_integer_value(json_object_get(card, "count")), 2);
	assert_string_equal(json_string_value(json_object_get(card, "first_seen")),
	    "2024-06-14T10:00:00");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc,
	    "unknown"), "lines")), 1);
	json_decref(doc);
}

/* ---- which line belongs to which card (pb_analysis_set_line_cb) ------------ */

#define MAX_REPORTS 256
struct reports {
	size_t		 n;
	struct report {
		const char	*file;
		uint64_t	 lineno;
		char		 id[32];
		uint64_t	 n;
	}		 r[MAX_REPORTS];
};

static void
on_card_line(void *arg, const char *file, uint64_t lineno,
    const struct pb_playbook *pb, uint64_t n)
{
	struct reports *rs = arg;

	assert_true(rs->n < MAX_REPORTS);
	rs->r[rs->n].file = file;
	rs->r[rs->n].lineno = lineno;
	snprintf(rs->r[rs->n].id, sizeof(rs->r[rs->n].id), "%s",
	    pb_playbook_id(pb));
	rs->r[rs->n++].n = n;
}

/* How often line was reported for playbook id (any id if NULL). */
static int
reported(const struct reports *rs, uint64_t lineno, const char *id)
{
	int k = 0;

	for (size_t i = 0; i < rs->n; i++)
		k += rs->r[i].lineno == lineno && (id == NULL ||
		    strcmp(rs->r[i].id, id) == 0);
	return k;
}

/* The counted lines reported for a card add up to its count. */
static void
assert_counts_match(struct fx *f, const struct reports *rs)
{
	pb_analysis_finish(f->a);
	for (size_t c = 0; c < pb_analysis_ncards(f->a); c++) {
		const struct pb_card *card = pb_analysis_card(f->a, c);
		const char *id = pb_playbook_id(pb_card_playbook(card));
		uint64_t sum = 0;

		for (size_t i = 0; i < rs->n; i++)
			if (strcmp(rs->r[i].id, id) == 0)
				sum += rs->r[i].n;
		assert_int_equal(sum, pb_card_count(card));
	}
}

static void
test_line_cb_reports_every_counted_line_once_with_its_card(void **state)
{
	struct fx *f = *state;
	struct reports *rs = calloc(1, sizeof(*rs));
	char line[128];

	assert_non_null(rs);
	playbook(f, "oom", "high", OOM_MATCH);
	playbook(f, "any-kill", "medium", "{ \"generic\": true, \"patterns\": "
	    "[ { \"name\": \"k\", \"regex\": \"[Kk]illed process\" } ] }");
	playbook(f, "ssh", "high", "{ \"patterns\": [ { \"name\": \"f\", "
	    "\"regex\": \"Failed password for \\\\S+ from\" } ], "
	    "\"exclude\": [ \"from 127\\\\.0\\\\.0\\\\.1 \" ] }");
	start(f);
	pb_analysis_set_line_cb(f->a, on_card_line, rs);
	/* lines 1..60: 30 OOM lines (a card keeps 5 examples), 30 others */
	for (int i = 1; i <= 30; i++) {
		snprintf(line, sizeof(line), "kernel: Out of memory: Killed "
		    "process %d (java)", 1000 + i);
		feed_at(f, i, line);
		feed_at(f, i, "kernel: all is well");
	}
	feed_at(f, 40, "app: watchdog Killed process 77");	/* 61: generic */
	feed_at(f, 41, "sshd[1]: Failed password for root from 127.0.0.1 "
	    "port 22 ssh2");					/* 62: excluded */
	feed_at(f, 42, FAIL_A);					/* 63 */
	for (uint64_t ln = 1; ln <= 60; ln += 2) {
		/* the generic playbook yielded every OOM line to oom */
		assert_int_equal(reported(rs, ln, "oom"), 1);
		assert_int_equal(reported(rs, ln, NULL), 1);
		assert_int_equal(reported(rs, ln + 1, NULL), 0);
	}
	assert_int_equal(reported(rs, 61, "any-kill"), 1);
	assert_int_equal(reported(rs, 61, NULL), 1);
	assert_int_equal(reported(rs, 62, NULL), 0);
	assert_int_equal(reported(rs, 63, "ssh"), 1);
	assert_int_equal(rs->n, 32);
	for (size_t i = 0; i < rs->n; i++) {
		assert_int_equal(rs->r[i].n, 1);
		assert_string_equal(rs->r[i].file, LOG);
	}
	assert_counts_match(f, rs);
	/* the card itself kept only a few of them */
	for (size_t c = 0; c < pb_analysis_ncards(f->a); c++)
		assert_true(pb_card_nexamples(pb_analysis_card(f->a, c)) <= 5);
	free(rs);
}

/* A threshold card: the lines before the threshold was met count too (they
 * come when it is met); a group that never met it reports nothing. */
static void
test_line_cb_threshold_reports_the_whole_burst(void **state)
{
	struct fx *f = *state;
	struct reports *rs = calloc(1, sizeof(*rs));

	assert_non_null(rs);
	playbook(f, "ssh", "high", SSH_THRESHOLD);
	start(f);
	pb_analysis_set_line_cb(f->a, on_card_line, rs);
	feed_at(f, 0, FAIL_A);			/* 1 */
	feed_at(f, 1, FAIL_B);			/* 2: B never reaches 5 */
	feed_at(f, 2, FAIL_A);			/* 3 */
	feed_at(f, 3, FAIL_A);			/* 4 */
	feed_at(f, 4, FAIL_B);			/* 5 */
	feed_at(f, 5, FAIL_A);			/* 6 */
	assert_int_equal(rs->n, 0);		/* not met yet */
	feed_at(f, 6, FAIL_A);			/* 7: met */
	assert_int_equal(rs->n, 5);
	feed_at(f, 7, FAIL_A);			/* 8: counts at once */
	feed_at(f, 8, "sshd[1]: Accepted password for root");	/* 9 */
	assert_int_equal(rs->n, 6);
	for (uint64_t ln = 1; ln <= 9; ln++)
		assert_int_equal(reported(rs, ln, "ssh"),
		    ln == 2 || ln == 5 || ln == 9 ? 0 : 1);
	assert_counts_match(f, rs);
	assert_int_equal(pb_card_count(only_card(f)), 6);
	free(rs);
}

/* A sequence: its first step is evidence (n = 0), the last one counts; a
 * start that never completes belongs to no card. */
static void
test_line_cb_sequence_steps_are_evidence_the_last_counts(void **state)
{
	struct fx *f = *state;
	struct reports *rs = calloc(1, sizeof(*rs));

	assert_non_null(rs);
	playbook(f, "seq", "medium", SEQ_MATCH);
	start(f);
	pb_analysis_set_line_cb(f->a, on_card_line, rs);
	feed_at(f, 0, "cron: backup job started");	/* 1 */
	feed_at(f, 10, "cron: unrelated line");		/* 2 */
	feed_at(f, 60, "cron: backup job failed");	/* 3 */
	feed_at(f, 100, "cron: backup job started");	/* 4: never completes */
	assert_int_equal(rs->n, 2);
	assert_int_equal(reported(rs, 1, "seq"), 1);
	assert_int_equal(reported(rs, 3, "seq"), 1);
	for (size_t i = 0; i < rs->n; i++)
		assert_int_equal(rs->r[i].n, rs->r[i].lineno == 3 ? 1 : 0);
	assert_counts_match(f, rs);
	/* turned off: nothing more */
	pb_analysis_set_line_cb(f->a, NULL, NULL);
	feed_at(f, 120, "cron: backup job failed");
	assert_int_equal(rs->n, 2);
	assert_int_equal(pb_card_count(only_card(f)), 2);
	free(rs);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_feed_line_any_threshold_one_counts_every_match),
		T(test_feed_line_no_match_no_card),
	T(test_generic_playbook_yields_to_a_specific_one),
		T(test_below_threshold_is_listed_and_generic_still_speaks),
		T(test_specific_card_met_silences_generic_and_leaves_below_list),
		T(test_feed_line_threshold_four_events_no_card),
		T(test_feed_line_threshold_five_in_window_makes_card),
		T(test_feed_line_threshold_events_after_met_keep_counting),
		T(test_feed_line_threshold_spread_over_ten_minutes_no_card),
		T(test_feed_line_threshold_group_by_keeps_addresses_apart),
		T(test_feed_line_threshold_group_by_counts_only_the_busy_address),
		T(test_feed_line_sequence_in_order_within_window_fires),
		T(test_feed_line_sequence_reversed_does_not_fire),
		T(test_feed_line_sequence_too_late_does_not_fire),
		T(test_feed_line_all_both_patterns_in_any_order_fire),
		T(test_feed_line_all_one_pattern_only_does_not_fire),
		T(test_feed_line_all_outside_window_does_not_fire),
		T(test_feed_line_exclude_suppresses_event),
		T(test_card_capture_values_by_falling_count),
		T(test_card_fill_uses_most_frequent_value_and_quotes_for_shell),
		T(test_card_fill_escapes_single_quotes_for_shell),
		T(test_card_fill_inside_single_quotes_escapes_only_the_quote),
		T(test_card_fill_inside_double_quotes_escapes_specials),
		T(test_card_fill_sanitizes_control_characters),
		T(test_feed_line_since_until_filter_events),
		T(test_analysis_finish_orders_by_severity_then_first_seen),
		T(test_card_evidence_keeps_first_lines_and_most_recent),
		T(test_feed_line_unknown_keyword_lines_become_templates),
		T(test_feed_line_unknown_disabled_keeps_no_templates),
		T(test_feed_line_nul_bytes_match_and_are_escaped),
		T(test_feed_file_reads_lines_with_numbers),
		T(test_feed_file_catastrophic_regex_hits_limit_quickly),
		T(test_feed_file_missing_is_eio_naming_file),
		T(test_feed_file_directory_is_refused),
		T(test_feed_file_dev_zero_is_refused),
		T(test_feed_file_gzip_is_decompressed),
		T(test_feed_file_very_long_line_then_match_keeps_line_number),
		T(test_feed_file_line_longer_than_buffer_is_cut_and_warned),
		T(test_feed_file_crlf_lines_match_without_cr),
		T(test_feed_file_nul_bytes_warned_and_matched),
		T(test_analysis_write_json_lists_cards_and_counts),
		T(test_line_cb_reports_every_counted_line_once_with_its_card),
		T(test_line_cb_threshold_reports_the_whole_burst),
		T(test_line_cb_sequence_steps_are_evidence_the_last_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
