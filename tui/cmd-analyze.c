/*
 * cmd-analyze.c - `triage analyze`: stream logs through the playbooks and
 * print cards, most severe first, then what no playbook knows.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"
#include "explain.h"
#include "metrics.h"

#define MAX_PLAYBOOK_DIRS 32

static const char usage_text[] =
"usage: triage analyze [--json] [--playbooks DIR] [--since TIME] [--until TIME]\n"
"                      [--color WHEN] [--examples N] [--top N] [--no-unknown]\n"
"                      [--explain --model FILE.gguf]\n"
"                      FILE... | -\n"
"\n"
"Read log files (or - for standard input; gzip/xz/bzip2/zstd are decompressed)\n"
"and print a troubleshooting card for each known problem found, ordered by\n"
"severity, then first seen.  Then \"possibly\" cards (lines no playbook\n"
"matched whose wording resembles one) and the other warning and error lines\n"
"no playbook knows, grouped into templates, most severe first.\n"
"\n"
"  --json           print the JSON document described in triage(1)\n"
"  --playbooks DIR  use the playbooks in DIR (file or directory; repeatable)\n"
"                   instead of the shipped and user library\n"
"  --since TIME     ignore lines before TIME (YYYY-MM-DD or a log timestamp)\n"
"  --until TIME     ignore lines after TIME\n"
"  --color WHEN     auto (default), always or never; NO_COLOR is honoured\n"
"  --examples N     evidence lines per card (default 5)\n"
"  --top N          list at most N unknown templates (default 0: all above\n"
"                   the salience threshold)\n"
"  --no-unknown     do not group unmatched warning/error lines\n"
"  --explain        ask the model (--model FILE.gguf) for a checked model card\n"
"                   on each of the top 3 unknown templates, after the cards\n"
"\n"
"Exit status: 0 cards found, 1 no cards, 2 an error occurred.\n";

/* --json --explain: the analysis document plus "model_cards". */
static int
explain_json(const struct pb_analysis *a, const char *model)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *doc = NULL;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (pb_analysis_write_json(a, f) != 0) {
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0 || (doc = json_loadb(buf, len, 0, NULL)) == NULL)
		goto out;
	(void)tui_explain_unknown(a, model, 3, TUI_EXPLAIN_TOKENS, doc);
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		goto out;
	fputc('\n', stdout);
	rc = 0;
out:
	json_decref(doc);
	free(buf);
	return rc;
}

static const char *
sev_colour(enum pb_severity s)
{
	switch (s) {
	case PB_SEV_CRITICAL:
	case PB_SEV_HIGH:
		return col(C_RED);
	case PB_SEV_MEDIUM:
		return col(C_YELLOW);
	default:
		return col(C_CYAN);
	}
}

static void
upper(char *dst, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i]; i++)
		dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	dst[i] = '\0';
}

static void
print_list(const struct pb_card *c, const char *head, json_t *arr, int numbered)
{
	json_t *v;
	size_t i;
	char *s;

	if (json_array_size(arr) == 0)
		return;
	out_printf(stdout, "  %s%s%s\n", col(C_BOLD), head, col(C_RESET));
	json_array_foreach(arr, i, v) {
		if ((s = pb_card_fill(c, json_string_value(v), 0)) == NULL)
			continue;
		if (numbered)
			out_printf(stdout, "    %zu. %s\n", i + 1, s);
		else
			out_printf(stdout, "    - %s\n", s);
		free(s);
	}
}

static void
print_card(const struct pb_card *c, size_t idx)
{
	const struct pb_playbook *pb = pb_card_playbook(c);
	const json_t *doc = pb_playbook_json(pb);
	json_t *checks, *v, *esc;
	char sev[16], first[32], last[32], *s;
	const char *file, *name, *val;
	uint64_t lineno, n;
	size_t i;

	upper(sev, pb_severity_name(pb_playbook_severity(pb)), sizeof(sev));
	pb_time_format(pb_card_first(c), first, sizeof(first));
	pb_time_format(pb_card_last(c), last, sizeof(last));
	out_printf(stdout, "%s%s[%zu] %-8s%s %s%s%s  %s(%s, %s)%s\n", col(C_BOLD),
	    sev_colour(pb_playbook_severity(pb)), idx, sev, col(C_RESET),
	    col(C_BOLD), pb_playbook_title(pb), col(C_RESET), col(C_DIM),
	    pb_playbook_class(pb), pb_playbook_id(pb), col(C_RESET));
	out_printf(stdout, "  seen %llu time%s, first %s, last %s\n",
	    (unsigned long long)pb_card_count(c), pb_card_count(c) == 1 ? "" : "s",
	    first, last);
	for (i = 0; i < pb_card_ncaptures(c); i++) {
		name = pb_card_capture(c, i, 0, &val, &n);
		out_printf(stdout, "  %s%s:%s", col(C_DIM), name, col(C_RESET));
		for (size_t k = 0; k < 5; k++) {
			if (pb_card_capture(c, i, k, &val, &n) == NULL || val == NULL)
				break;
			out_printf(stdout, "%s %s (%llu)", k ? "," : "", val, (unsigned long long)n);
		}
		if (pb_card_capture(c, i, 5, &val, &n) != NULL && val != NULL)
			out_printf(stdout, ", ...");
		out_printf(stdout, "\n");
	}
	out_printf(stdout, "  %sEvidence%s\n", col(C_BOLD), col(C_RESET));
	for (i = 0; i < pb_card_nexamples(c); i++) {
		const char *text = pb_card_example(c, i, &file, &lineno);
		out_printf(stdout, "    %s%s:%llu%s  %s\n", col(C_MAGENTA), file,
		    (unsigned long long)lineno, col(C_RESET), text);
	}
	if ((s = pb_card_fill(c, json_string_value(json_object_get(doc,
	    "explanation")), 0)) != NULL) {
		out_printf(stdout, "  %sWhat it is%s\n    %s\n", col(C_BOLD), col(C_RESET), s);
		free(s);
	}
	print_list(c, "Likely causes", json_object_get(doc, "causes"), 1);
	checks = json_object_get(doc, "checks");
	out_printf(stdout, "  %sChecks%s\n", col(C_BOLD), col(C_RESET));
	json_array_foreach(checks, i, v) {
		const char *keys[3] = { "do", "command", "expect" };
		for (int k = 0; k < 3; k++) {
			json_t *f = json_object_get(v, keys[k]);
			if (f == NULL)
				continue;
			if ((s = pb_card_fill(c, json_string_value(f), k == 1)) == NULL)
				continue;
			if (k == 0)
				out_printf(stdout, "    %zu. %s\n", i + 1, s);
			else if (k == 1)
				out_printf(stdout, "       %s$ %s%s\n", col(C_GREEN), s, col(C_RESET));
			else
				out_printf(stdout, "       expect: %s\n", s);
			free(s);
		}
	}
	print_list(c, "Fix", json_object_get(doc, "fix"), 1);
	print_list(c, "Verify", json_object_get(doc, "verify"), 0);
	esc = json_object_get(doc, "escalate");
	if ((s = pb_card_fill(c, json_string_value(json_object_get(esc,
	    "when")), 0)) != NULL) {
		out_printf(stdout, "  %sEscalate%s when %s\n", col(C_BOLD), col(C_RESET), s);
		free(s);
	}
	print_list(c, "Attach", json_object_get(esc, "attach"), 0);
	print_list(c, "References", json_object_get(doc, "references"), 0);
	out_printf(stdout, "\n");
}

/*
 * "Possibly" cards: unknown templates that read like a known problem.
 * Kept apart from matched cards and marked as a guess: no playbook
 * pattern matched, only the wording is similar.
 */
static void
print_suggested(const struct pb_analysis *a)
{
	size_t n = pb_analysis_nsuggested(a);

	for (size_t i = 0; i < n; i++) {
		const struct pb_playbook *pb;
		const char *text, *ex, *file, *klass, *desc = "";
		uint64_t count, lineno;
		enum pb_severity lv;
		int64_t first, last;
		char f[32], l[32];
		double score, sal;
		size_t t;

		pb = pb_analysis_suggested(a, i, &score, &t);
		klass = pb_analysis_suggested_class(a, i, &desc);
		if ((pb == NULL && klass == NULL) ||
		    (text = pb_analysis_template(a, t, &count, &ex, &file,
		    &lineno)) == NULL ||
		    pb_analysis_template_info(a, t, &lv, &sal, &first, &last) != 0)
			continue;
		pb_time_format(first, f, sizeof(f));
		pb_time_format(last, l, sizeof(l));
		if (pb == NULL) {	/* a whole class, no one playbook */
			out_printf(stdout, "%s[?%zu] possibly %s:%s %s  %s(class; "
			    "similarity %.1f)%s\n", col(C_DIM), i + 1, klass,
			    col(C_RESET), desc, col(C_DIM), score, col(C_RESET));
			out_printf(stdout, "  %sno pattern matched and no playbook "
			    "is close: the wording resembles this class of "
			    "problem%s\n", col(C_DIM), col(C_RESET));
		} else {
			out_printf(stdout, "%s[?%zu] possibly:%s %s  %s(%s, %s; "
			    "similarity %.1f)%s\n", col(C_DIM), i + 1,
			    col(C_RESET), pb_playbook_title(pb), col(C_DIM),
			    pb_playbook_class(pb), pb_playbook_id(pb), score,
			    col(C_RESET));
			out_printf(stdout, "  %sno pattern matched: suggested "
			    "because the wording resembles this playbook%s\n",
			    col(C_DIM), col(C_RESET));
		}
		out_printf(stdout, "  seen %llu time%s (%s), first %s, last %s\n",
		    (unsigned long long)count, count == 1 ? "" : "s",
		    pb_severity_name(lv), f, l);
		out_printf(stdout, "  %sTemplate%s  %s\n", col(C_BOLD), col(C_RESET),
		    text);
		out_printf(stdout, "  %sEvidence%s\n", col(C_BOLD), col(C_RESET));
		out_printf(stdout, "    %s%s:%llu%s  %s\n", col(C_MAGENTA), file,
		    (unsigned long long)lineno, col(C_RESET), ex);
		if (pb != NULL)
			out_printf(stdout, "  %splaybook %s%s\n", col(C_DIM),
			    pb_playbook_path(pb), col(C_RESET));
		out_printf(stdout, "\n");
	}
}

/*
 * Known problems that matched but stayed below their playbook's
 * threshold: no card, but the technician sees that triage recognised
 * the lines and what it would take to raise the card.
 */
static void
print_below(const struct pb_analysis *a)
{
	size_t n = pb_analysis_nbelow(a);

	if (n == 0)
		return;
	out_printf(stdout, "%sKnown problems below their threshold%s (seen, "
	    "too few times for a card): %zu\n", col(C_BOLD), col(C_RESET), n);
	for (size_t i = 0; i < n; i++) {
		const struct pb_playbook *pb;
		const char *ex, *file;
		uint64_t count, lineno;
		size_t exlen;
		int thr;

		if ((pb = pb_analysis_below(a, i, &count, &ex, &exlen, &file,
		    &lineno)) == NULL)
			break;
		thr = pb_playbook_threshold(pb);
		out_printf(stdout, "  %s%7llu%s  %s  %s(%s, %s", col(C_BOLD),
		    (unsigned long long)count, col(C_RESET), pb_playbook_title(pb),
		    col(C_DIM), pb_playbook_class(pb), pb_playbook_id(pb));
		if (thr > 1)
			out_printf(stdout, "; a card needs %d in %d s", thr,
			    pb_playbook_window(pb));
		else
			out_printf(stdout, "; a card needs the whole sequence");
		out_printf(stdout, ")%s\n", col(C_RESET));
		out_printf(stdout, "           %se.g. %s:%llu%s  %.*s\n", col(C_DIM),
		    file != NULL ? file : "-", (unsigned long long)lineno,
		    col(C_RESET), (int)exlen, ex);
	}
	out_printf(stdout, "\n");
}

/*
 * Every template above the salience threshold, most salient first
 * (severity, then rarity and burstiness), except those already shown as
 * "possibly" cards.  --top caps the list; what it leaves out is counted.
 */
static void
print_unknown(const struct pb_analysis *a, size_t top)
{
	size_t n = pb_analysis_ntemplates(a), all = pb_analysis_ntemplates_all(a);
	size_t listed = 0, capped = 0, nsug = pb_analysis_nsuggested(a);
	const char *text, *ex, *file;
	uint64_t count, lineno;

	if (all == 0)
		return;
	out_printf(stdout, "%sWarnings and errors no playbook knows%s: %llu "
	    "line%s in %zu template%s, most severe first", col(C_BOLD),
	    col(C_RESET), (unsigned long long)pb_analysis_unknown_lines(a),
	    pb_analysis_unknown_lines(a) == 1 ? "" : "s", all,
	    all == 1 ? "" : "s");
	if (nsug > 0)
		out_printf(stdout, "; %zu shown above as possibly", nsug);
	if (all > n)
		out_printf(stdout, "; %zu of low salience not listed (below %.1f)",
		    all - n, PB_SALIENCE_MIN);
	out_printf(stdout, "\n");
	for (size_t i = 0; i < n; i++) {
		enum pb_severity lv;
		int64_t first, last;
		double sal;
		char sev[16];

		if (pb_analysis_template_suggestion(a, i) >= 0)
			continue;
		if (top > 0 && listed >= top) {
			capped++;
			continue;
		}
		if ((text = pb_analysis_template(a, i, &count, &ex, &file,
		    &lineno)) == NULL ||
		    pb_analysis_template_info(a, i, &lv, &sal, &first, &last) != 0)
			break;
		upper(sev, pb_severity_name(lv), sizeof(sev));
		out_printf(stdout, "  %s%-8s%s %7llu  %s\n", sev_colour(lv), sev,
		    col(C_RESET), (unsigned long long)count, text);
		out_printf(stdout, "                    %se.g. %s:%llu%s\n", col(C_DIM),
		    file, (unsigned long long)lineno, col(C_RESET));
		listed++;
	}
	if (capped > 0)
		out_printf(stdout, "  ... and %zu more (--top 0 lists all)\n",
		    capped);
	out_printf(stdout, "\n");
}

static void
print_summary(const struct pb_analysis *a, int nfiles)
{
	size_t by[5] = { 0 }, n = pb_analysis_ncards(a);
	int first = 1;

	for (size_t i = 0; i < n; i++)
		by[pb_playbook_severity(pb_card_playbook(pb_analysis_card(a, i)))]++;
	out_printf(stdout, "%s%zu card%s%s", col(C_BOLD), n, n == 1 ? "" : "s", col(C_RESET));
	for (int s = 0; s < 5; s++)
		if (by[s] > 0) {
			out_printf(stdout, "%s%zu %s", first ? " (" : ", ", by[s],
			    pb_severity_name((enum pb_severity)s));
			first = 0;
		}
	out_printf(stdout, "%s from %llu lines in %d file%s\n", first ? "" : ")",
	    (unsigned long long)pb_analysis_lines(a), nfiles,
	    nfiles == 1 ? "" : "s");
}

static int
positive(const char *s, long max, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * "now" on the clock the logs are read on: zone-less times are taken as
 * written, and a local syslog writes local wall-clock time, so "-1h" and
 * "10:00" count from the local wall clock, not from UTC.
 */
static int64_t
wall_now(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return now;
	return now + tm.tm_gmtoff;
}

int
cmd_analyze(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "playbooks", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "color", required_argument, NULL, 'c' },
		{ "colour", required_argument, NULL, 'c' },
		{ "examples", required_argument, NULL, 'e' },
		{ "top", required_argument, NULL, 't' },
		{ "no-unknown", no_argument, NULL, 'n' },
		{ "explain", no_argument, NULL, 'x' },
		{ "model", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dirs[MAX_PLAYBOOK_DIRS], *colour = NULL;
	struct pb_library *lib = NULL;
	struct pb_analysis *a = NULL;
	struct pb_options o;
	int ndirs = 0, json = 0, ch, rc = EXIT_TROUBLE, trouble = 0, nread = 0;
	long top = 0, v;
	char *cause = NULL;
	int64_t now = (int64_t)time(NULL);
	const char *model = NULL;
	int explain = 0;

	struct config cfg;

	pb_options_init(&o);
	config_load(&cfg);
	colour = cfg.colour;
	o.max_examples = cfg.examples;
	top = (long)cfg.top;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hjp:", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'p':
			if (ndirs == MAX_PLAYBOOK_DIRS) {
				out_printf(stderr, "triage: too many --playbooks\n");
				return EXIT_TROUBLE;
			}
			dirs[ndirs++] = optarg;
			break;
		case 's':
		case 'u':
			if (pb_time_arg(optarg, wall_now(now), ch == 's' ? &o.since_ms :
			    &o.until_ms) != 0) {
				out_printf(stderr, "triage: --%s: cannot read time \"%s\" "
				    "(try 2024-06-14, 2024-06-14T15:16, 10:00, "
				    "yesterday, -1h or -30min)\n",
				    ch == 's' ? "since" : "until", optarg);
				return EXIT_TROUBLE;
			}
			if (ch == 'u' && strlen(optarg) == 10)
				o.until_ms += 86400 * 1000LL - 1;	/* whole day */
			break;
		case 'c':
			colour = optarg;
			break;
		case 'e':
			if (positive(optarg, 100, &v) != 0 || v == 0) {
				out_printf(stderr, "triage: --examples: need 1..100\n");
				return EXIT_TROUBLE;
			}
			o.max_examples = (size_t)v;
			break;
		case 't':
			if (positive(optarg, 1000000, &top) != 0) {
				out_printf(stderr, "triage: --top: need a number\n");
				return EXIT_TROUBLE;
			}
			break;
		case 'n':
			o.unknown = 0;
			break;
		case 'x':
			explain = 1;
			break;
		case 'm':
			model = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_FOUND;
		default:
			fputs(usage_text, stderr);
			return EXIT_TROUBLE;
		}
	}
	if (optind >= argc) {
		out_printf(stderr, "triage: analyze: no input (give FILE... or - for "
		    "standard input)\n");
		fputs(usage_text, stderr);
		return EXIT_TROUBLE;
	}
	if (explain && model == NULL) {
		out_printf(stderr, "triage: analyze: --explain needs --model "
		    "FILE.gguf\n");
		return EXIT_TROUBLE;
	}
	if (out_colour_init(colour, stdout) != 0) {
		out_printf(stderr, "triage: --color: must be auto, always or never\n");
		return EXIT_TROUBLE;
	}
	if (json)
		out_colour = 0;
	if (pb_library_new(&lib) != 0)
		goto oom;
	if (ndirs == 0)
		(void)library_default(lib, warn_line, NULL);
	for (int i = 0; i < ndirs; i++)
		if (pb_library_add(lib, dirs[i], warn_line, NULL, &cause) < 0) {
			out_printf(stderr, "triage: %s\n", cause);
			free(cause);
			cause = NULL;
			trouble = 1;
		}
	if (pb_library_count(lib) == 0) {
		out_printf(stderr, "triage: no usable playbooks (see triage-playbook(5))\n");
		goto out;
	}
	if (pb_analysis_new(lib, &o, &a) != 0)
		goto oom;
	for (int i = optind; i < argc; i++) {
		if (pb_analysis_feed_file(a, argv[i], warn_line, NULL, &cause) != 0) {
			out_printf(stderr, "triage: %s\n", cause ? cause : argv[i]);
			free(cause);
			cause = NULL;
			trouble = 1;
		} else
			nread++;
	}
	pb_analysis_finish(a);
	metrics_count("analyses", NULL, NULL, 1);
	metrics_cards(a);
	if (json && explain) {
		/* the rule-based document, with the model cards added */
		if (explain_json(a, model) != 0)
			trouble = 1;
	} else if (json) {
		if (pb_analysis_write_json(a, stdout) != 0)
			trouble = 1;
	} else {
		for (size_t i = 0; i < pb_analysis_ncards(a); i++)
			print_card(pb_analysis_card(a, i), i + 1);
		if (o.unknown) {
			print_suggested(a);
			print_below(a);
			print_unknown(a, (size_t)top);
		}
		print_summary(a, nread);
		if (explain && o.unknown)
			(void)tui_explain_unknown(a, model, 3, TUI_EXPLAIN_TOKENS, NULL);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		trouble = 1;
	rc = trouble ? EXIT_TROUBLE :
	    pb_analysis_ncards(a) > 0 ? EXIT_FOUND : EXIT_NONE;
	goto out;
oom:
	out_printf(stderr, "triage: out of memory\n");
out:
	pb_analysis_free(a);
	pb_library_free(lib);
	return rc;
}
