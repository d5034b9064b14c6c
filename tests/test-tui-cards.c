/*
 * test-tui-cards.c - cards while the app runs: pb_analysis_finish() called
 * again and again between lines (the card list refreshes that way) must
 * count every line once, and a new playbook library (after a bundle
 * import or rollback) must be matched over every line of every open log,
 * including lines that arrive while the re-match runs
 * (tui/screen-cards.c: cards_feed, cards_reload, cards_rematch).
 */
#include <curses.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../playbooks/playbook.h"
#include "app.h"

/* Lines in the big log: several re-match slices. */
#define BIG_LINES	5000

static char tmpdir[64];

static const char playbook_fmt[] =
"{\n"
"  \"format\": 1, \"id\": \"site-conveyor-jam\", \"version\": 1,\n"
"  \"title\": \"%s\", \"severity\": \"high\", \"tags\": [\"conveyor\"],\n"
"  \"sources\": [\"any\"],\n"
"  \"match\": { \"patterns\": [ { \"name\": \"jam\", \"regex\":\n"
"    \"conveyor (?<belt>[A-Z][0-9]+) jammed at station (?<station>[0-9]+)\" } ] },\n"
"  \"explanation\": \"Belt {{belt}} stopped at station {{station}}.\",\n"
"  \"causes\": [\"A misaligned part\"],\n"
"  \"checks\": [ { \"do\": \"Look at station {{station}}\", \"command\":\n"
"    \"grep -n jam {{file}}\", \"expect\": \"The jam\" } ],\n"
"  \"fix\": [\"Clear it\"], \"verify\": [\"No new jams\"],\n"
"  \"escalate\": { \"when\": \"Again within an hour\", \"attach\": [\"{{file}}\"] },\n"
"  \"references\": [\"site manual\"], \"false_positives\": [\"A test jam\"],\n"
"  \"examples\": {\n"
"    \"match\": [\"Mar 14 08:00:00 plc1 c[7]: conveyor B2 jammed at station 4\",\n"
"      \"Mar 14 08:01:00 plc1 c[7]: conveyor A1 jammed at station 12\",\n"
"      \"Mar 14 08:02:00 plc2 c[9]: conveyor C3 jammed at station 1\"],\n"
"    \"no_match\": [\"Mar 14 08:03:00 plc1 c[7]: conveyor B2 running at station 4\",\n"
"      \"Mar 14 08:04:00 plc1 c[7]: conveyor B2 restarted\",\n"
"      \"Mar 14 08:05:00 plc1 c[7]: jam cleared at station 4\"] }\n"
"}\n";

static void
write_file(const char *path, const char *mode, const char *fmt, ...)
{
	FILE *fp = fopen(path, mode);
	va_list ap;

	assert_non_null(fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(fp), 0);
}

static void
write_playbook(const char *title)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/share/playbooks/site-conveyor-jam.json",
	    tmpdir);
	write_file(p, "w", playbook_fmt, title);
}

/* Line i of the big log: every 7th a jam, every 11th an error no
 * playbook knows, the rest noise. */
static void
big_line(char *buf, size_t size, int i)
{
	if (i % 7 == 0)
		snprintf(buf, size, "Mar 14 09:%02d:%02d plc1 c[7]: conveyor "
		    "B%d jammed at station %d", i / 60 % 60, i % 60, i % 3, i % 5);
	else if (i % 11 == 0)
		snprintf(buf, size, "Mar 14 09:%02d:%02d plc1 app[1]: error: "
		    "sensor %d timed out", i / 60 % 60, i % 60, i % 4);
	else
		snprintf(buf, size, "Mar 14 09:%02d:%02d plc1 app[1]: cycle %d ok",
		    i / 60 % 60, i % 60, i);
}

/* The big log in one go; returns how many jam lines it holds. */
static uint64_t
write_big(const char *path)
{
	FILE *fp = fopen(path, "w");
	char line[256];
	uint64_t jams = 0;

	assert_non_null(fp);
	for (int i = 1; i <= BIG_LINES; i++) {
		big_line(line, sizeof(line), i);
		fprintf(fp, "%s\n", line);
		jams += i % 7 == 0;
	}
	assert_int_equal(fclose(fp), 0);
	return jams;
}

static int
setup(void **state)
{
	char p[128];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-tui-cards.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(p, sizeof(p), "%s/share", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/share/playbooks", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/data", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	/* only our playbook: no installed bundles, no user playbooks */
	snprintf(p, sizeof(p), "%s/share", tmpdir);
	setenv("TRIAGE_DATADIR", p, 1);
	snprintf(p, sizeof(p), "%s/data", tmpdir);
	setenv("XDG_DATA_HOME", p, 1);
	setenv("HOME", tmpdir, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- pb_analysis_finish between lines ------------------------------------ */

static void
diag_fail(void *arg, const char *line)
{
	(void)arg;
	fail_msg("playbook problem: %s", line);
}

static struct pb_library *
load_library(void)
{
	struct pb_library *lib;
	char p[128], *cause = NULL;

	snprintf(p, sizeof(p), "%s/share/playbooks", tmpdir);
	assert_int_equal(pb_library_new(&lib), 0);
	assert_int_equal(pb_library_add(lib, p, diag_fail, NULL, &cause), 0);
	assert_null(cause);
	return lib;
}

/* Everything a card list shows, as text, to compare two analyses. */
static char *
describe(const struct pb_analysis *an)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	assert_non_null(fp);
	fprintf(fp, "lines %llu cards %zu templates %zu unknown %llu\n",
	    (unsigned long long)pb_analysis_lines(an), pb_analysis_ncards(an),
	    pb_analysis_ntemplates(an),
	    (unsigned long long)pb_analysis_unknown_lines(an));
	for (size_t i = 0; i < pb_analysis_ncards(an); i++) {
		const struct pb_card *c = pb_analysis_card(an, i);
		const char *file, *val;
		uint64_t lineno, n;

		fprintf(fp, "card %s count %llu first %lld last %lld\n",
		    pb_playbook_id(pb_card_playbook(c)),
		    (unsigned long long)pb_card_count(c),
		    (long long)pb_card_first(c), (long long)pb_card_last(c));
		for (size_t k = 0; k < pb_card_nexamples(c); k++) {
			const char *t = pb_card_example(c, k, &file, &lineno);
			fprintf(fp, "  ex %s:%llu %s\n", file,
			    (unsigned long long)lineno, t);
		}
		for (size_t k = 0; k < pb_card_ncaptures(c); k++)
			for (size_t v = 0; pb_card_capture(c, k, v, &val, &n) &&
			    val != NULL; v++)
				fprintf(fp, "  cap %s=%s %llu\n", pb_card_capture(c, k,
				    0, &val, &n), val, (unsigned long long)n);
	}
	for (size_t i = 0; i < pb_analysis_ntemplates(an); i++) {
		const char *ex, *file, *t;
		uint64_t count, lineno;

		t = pb_analysis_template(an, i, &count, &ex, &file, &lineno);
		fprintf(fp, "tmpl %s %llu %s:%llu\n", t ? t : "(null)",
		    (unsigned long long)count, file ? file : "",
		    (unsigned long long)lineno);
	}
	fclose(fp);
	return out;
}

static void
test_finish_between_lines_counts_each_line_once(void **state)
{
	struct pb_library *lib;
	struct pb_analysis *once, *live;
	struct pb_options po;
	char line[256], *a1, *a2, *a3;

	(void)state;
	write_playbook("Site conveyor jam");
	lib = load_library();
	pb_options_init(&po);
	assert_int_equal(pb_analysis_new(lib, &po, &once), 0);
	assert_int_equal(pb_analysis_new(lib, &po, &live), 0);
	for (int i = 1; i <= 700; i++) {
		big_line(line, sizeof(line), i);
		pb_analysis_feed_line(once, "big.log", (uint64_t)i, line,
		    strlen(line), 0);
		pb_analysis_feed_line(live, "big.log", (uint64_t)i, line,
		    strlen(line), 0);
		/* the card list refreshes every few lines, as the app does */
		if (i % 13 == 0)
			pb_analysis_finish(live);
	}
	pb_analysis_finish(once);
	pb_analysis_finish(live);
	a1 = describe(once);
	a2 = describe(live);
	assert_string_equal(a1, a2);
	/* and again: nothing changes when no line came in between */
	pb_analysis_finish(live);
	pb_analysis_finish(live);
	a3 = describe(live);
	assert_string_equal(a1, a3);
	/* 100 jam lines (every 7th of 700), counted once */
	assert_int_equal(pb_analysis_ncards(live), 1);
	assert_int_equal(pb_card_count(pb_analysis_card(live, 0)), 100);
	free(a1);
	free(a2);
	free(a3);
	pb_analysis_free(once);
	pb_analysis_free(live);
	pb_library_free(lib);
}

/* Between two refreshes the matcher knows templates the list has no rank
 * (and no text) for yet: the list must not offer them. */
static void
test_unranked_templates_not_listed(void **state)
{
	struct app a;
	struct pb_options po;
	char line[128];

	(void)state;
	memset(&a, 0, sizeof(a));
	write_playbook("Site conveyor jam");
	a.lib = load_library();
	pb_options_init(&po);
	assert_int_equal(pb_analysis_new(a.lib, &po, &a.an), 0);
	snprintf(line, sizeof(line), "Mar 14 08:00:00 h app[1]: error: pump "
	    "%d stalled", 1);
	pb_analysis_feed_line(a.an, "x.log", 1, line, strlen(line), 0);
	cards_refresh(&a);
	/* one known template: item 0 */
	cards_open(&a, 0);
	assert_non_null(a.open_card);
	assert_string_equal(a.open_card, "?0");
	assert_true(a.ndl > 0);
	/* a new kind of error arrives; no refresh yet */
	snprintf(line, sizeof(line), "Mar 14 08:00:01 h kernel: error: "
	    "thermal zone %d tripped", 3);
	pb_analysis_feed_line(a.an, "x.log", 2, line, strlen(line), 0);
	assert_int_equal(pb_analysis_ntemplates_all(a.an), 2);
	free(a.open_card);
	a.open_card = NULL;
	cards_open(&a, 1);
	assert_null(a.open_card);
	/* after the refresh it is there, with its text */
	cards_refresh(&a);
	cards_open(&a, 1);
	assert_non_null(a.open_card);
	assert_true(a.ndl > 0);
	for (size_t i = 0; i < a.ndl; i++)
		free(a.dl[i].text);
	free(a.dl);
	free(a.open_card);
	pb_analysis_free(a.an);
	pb_library_free(a.lib);
}

/* ---- a new library matched over the open logs ---------------------------- */

struct feed {
	struct app	*a;
	int		 src;
};

static void
on_line(void *arg, uint64_t line, const char *s, size_t len)
{
	struct feed *f = arg;

	cards_feed(f->a, f->src, line, s, len);
}

static void
index_all(struct app *a, int src)
{
	struct feed f = { a, src };

	lidx_check(a->src[src].ix);
	while (lidx_step(a->src[src].ix, 1 << 20, on_line, &f) > 0)
		;
}

static void
open_source(struct app *a, const char *path)
{
	struct source *s = &a->src[a->nsrc];
	char *cause = NULL;

	memset(s, 0, sizeof(*s));
	assert_int_equal(lidx_open(path, LIDX_OPEN_FOLLOW, &s->ix, &cause), 0);
	s->name = strdup(path);
	a->nsrc++;
}

static uint64_t
jam_count(struct app *a, const char **title)
{
	*title = NULL;
	for (size_t i = 0; i < pb_analysis_ncards(a->an); i++) {
		const struct pb_card *c = pb_analysis_card(a->an, i);
		const struct pb_playbook *pb = pb_card_playbook(c);

		if (strcmp(pb_playbook_id(pb), "site-conveyor-jam") == 0) {
			*title = pb_playbook_title(pb);
			return pb_card_count(c);
		}
	}
	return 0;
}

static void
test_rematch_covers_every_line_of_every_log(void **state)
{
	struct app a;
	struct pb_options po;
	char small[128], big[128], *cause = NULL;
	const char *title;
	uint64_t want = 0;
	int rounds = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(small, sizeof(small), "%s/small.log", tmpdir);
	snprintf(big, sizeof(big), "%s/big.log", tmpdir);
	write_file(small, "w", "Mar 14 08:00:00 plc1 c[7]: conveyor A1 jammed "
	    "at station 1\n");
	want = 1 + write_big(big);
	write_playbook("Site conveyor jam v1");
	a.lib = load_library();
	pb_options_init(&po);
	assert_int_equal(pb_analysis_new(a.lib, &po, &a.an), 0);
	assert_int_equal(cards_attach(&a), 0);
	open_source(&a, small);
	open_source(&a, big);
	index_all(&a, 0);
	index_all(&a, 1);
	cards_refresh(&a);
	assert_int_equal(jam_count(&a, &title), want);
	assert_string_equal(title, "Site conveyor jam v1");

	/* a bundle changed the playbook: reload and re-match in slices */
	write_playbook("Site conveyor jam v2");
	assert_int_equal(cards_reload(&a, &cause), 0);
	assert_non_null(a.an_next);
	/* one slice: the small log is caught up, the big one is not */
	assert_int_equal(cards_rematch(&a, 0), 1);
	assert_int_equal(a.src[0].refed, a.src[0].fed);
	assert_true(a.src[1].refed < a.src[1].fed);
	/* the old cards stay on screen meanwhile */
	assert_int_equal(jam_count(&a, &title), want);
	assert_string_equal(title, "Site conveyor jam v1");
	/* lines arrive: the caught-up log feeds both matchers live, the
	 * other one is re-matched up to them later */
	write_file(small, "a", "Mar 14 10:00:00 plc1 c[7]: conveyor C9 jammed "
	    "at station 9\n");
	write_file(big, "a", "Mar 14 10:00:01 plc1 c[7]: conveyor D4 jammed "
	    "at station 2\n");
	want += 2;
	index_all(&a, 0);
	index_all(&a, 1);
	assert_int_equal(a.src[0].refed, a.src[0].fed);
	while (cards_rematch(&a, 1) == 1)
		assert_true(++rounds < 100000);
	assert_null(a.an_next);
	assert_null(a.lib_next);
	assert_int_equal(jam_count(&a, &title), want);
	assert_string_equal(title, "Site conveyor jam v2");
	assert_int_equal(pb_analysis_lines(a.an), 1 + BIG_LINES + 2);
	assert_non_null(strstr(a.message, "playbooks switched"));

	/* lines after the switch go to the new matcher only, once */
	write_file(small, "a", "Mar 14 11:00:00 plc1 c[7]: conveyor E5 jammed "
	    "at station 5\n");
	index_all(&a, 0);
	cards_refresh(&a);
	assert_int_equal(jam_count(&a, &title), want + 1);
	/* every line of the card is marked for the log view (by the new
	 * playbooks' matcher), not only the few it keeps as examples, and
	 * only lines of an open source */
	{
		uint64_t marked = 0;
		size_t nlc;
		for (int i = 0; i < a.nsrc; i++)
			for (uint64_t ln = 0; ln < lidx_lines(a.src[i].ix); ln++) {
				uint64_t ref = ROW_MAKE(i, ln);
				if (cards_evidence_sev(&a, ref) == SEV_NONE)
					continue;
				marked++;
				/* a HIGH card: an error for e/E */
				assert_int_equal(cards_evidence_sev(&a, ref),
				    SEV_ERROR);
				assert_int_equal(cards_line_severity(&a, ref),
				    PB_SEV_HIGH);
				assert_true(cards_of_line(&a, ref, &nlc) >= 0);
				assert_int_equal(nlc, 1);
			}
		assert_int_equal(marked, want + 1);
		assert_true(marked > pb_card_nexamples(pb_analysis_card(a.an,
		    0)));
	}
	assert_int_equal(cards_evidence_sev(&a, ROW_MAKE(a.nsrc, 0)), SEV_NONE);

	for (int i = 0; i < a.nsrc; i++) {
		lidx_free(a.src[i].ix);
		free(a.src[i].name);
	}
	pb_analysis_free(a.an);
	pb_library_free(a.lib);
	free(a.message);
	free(a.dl);
	cardlines_free(a.cl);
}

static void
test_reload_while_rematching_starts_over(void **state)
{
	struct app a;
	struct pb_options po;
	char big[128], *cause = NULL;
	const char *title;
	uint64_t want = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(big, sizeof(big), "%s/big2.log", tmpdir);
	want = write_big(big);
	write_playbook("Conveyor jam, first");
	a.lib = load_library();
	pb_options_init(&po);
	assert_int_equal(pb_analysis_new(a.lib, &po, &a.an), 0);
	assert_int_equal(cards_attach(&a), 0);
	open_source(&a, big);
	index_all(&a, 0);
	write_playbook("Conveyor jam, second");
	assert_int_equal(cards_reload(&a, &cause), 0);
	assert_int_equal(cards_rematch(&a, 0), 1);
	/* a rollback right after the import: the second reload wins */
	write_playbook("Conveyor jam, third");
	assert_int_equal(cards_reload(&a, &cause), 0);
	assert_int_equal(a.src[0].refed, 0);
	while (cards_rematch(&a, 1) == 1)
		;
	assert_int_equal(jam_count(&a, &title), want);
	assert_string_equal(title, "Conveyor jam, third");
	lidx_free(a.src[0].ix);
	free(a.src[0].name);
	pb_analysis_free(a.an);
	pb_library_free(a.lib);
	free(a.message);
	free(a.dl);
	cardlines_free(a.cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finish_between_lines_counts_each_line_once),
		cmocka_unit_test(test_unranked_templates_not_listed),
		cmocka_unit_test(test_rematch_covers_every_line_of_every_log),
		cmocka_unit_test(test_reload_while_rematching_starts_over),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
