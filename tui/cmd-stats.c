/*
 * cmd-stats.c - `triage stats [--since D] [--json] [--export FILE]`: the
 * local metrics (metrics.h) summed per key, per day and in total.  The
 * JSON holds no path, so an exported file names nothing about the laptop.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tui.h"
#include "metrics.h"

static const char stats_usage[] =
"usage: triage stats [--since D] [--json] [--export FILE]\n"
"  --since D      only days from D on: YYYY-MM-DD, or 7d for the last 7 days\n"
"  --json         print the figures as JSON\n"
"  --export FILE  write the JSON to FILE (for a fleet owner to collect)\n";

/* "YYYY-MM-DD" or a duration back from today, as "YYYY-MM-DD". */
static int
since_day(const char *v, char *out, size_t cap)
{
	struct tm tm;
	long secs;
	time_t t;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%Y-%m-%d", &tm);
	if (end != NULL && *end == '\0' && strlen(v) == 10) {
		snprintf(out, cap, "%s", v);
		return 0;
	}
	if ((secs = config_duration(v)) < 0)
		return -1;
	t = time(NULL) - secs;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d", &tm);
	return 0;
}

/* Well-formed lines only: DAY, a key of recordable characters, a count. */
static int
parse(char *line, char **day, char **key, long long *n)
{
	char *t1 = strchr(line, '\t'), *t2, *end;

	if (t1 == NULL || t1 - line != 10 || (t2 = strchr(t1 + 1, '\t')) == NULL)
		return -1;
	*t1 = *t2 = '\0';
	*day = line;
	*key = t1 + 1;
	if (strspn(*key, "abcdefghijklmnopqrstuvwxyz0123456789._+-") != strlen(*key))
		return -1;
	*n = strtoll(t2 + 1, &end, 10);
	return *n > 0 && (*end == '\n' || *end == '\0') ? 0 : -1;
}

static int
strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
add(json_t *o, const char *key, long long n)
{
	json_t *v = json_object_get(o, key);

	json_object_set_new(o, key, json_integer(n + (v ? json_integer_value(v) : 0)));
}

int
cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "export", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char since[16] = "", line[512], *day, *key, *path = NULL;
	const char *export = NULL, *k;
	json_t *doc = NULL, *days, *totals, *v;
	long long n;
	int c, json = 0, rc = EXIT_TROUBLE;
	size_t bad = 0;
	FILE *fp = NULL;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		switch (c) {
		case 's':
			if (since_day(optarg, since, sizeof(since)) != 0) {
				out_printf(stderr, "triage: stats: --since \"%s\": "
				    "expected YYYY-MM-DD or a duration like 7d\n", optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'j': json = 1; break;
		case 'e': export = optarg; break;
		case 'h': fputs(stats_usage, stdout); return 0;
		default: fputs(stats_usage, stderr); return EXIT_TROUBLE;
		}
	if (optind != argc) {
		fputs(stats_usage, stderr);
		return EXIT_TROUBLE;
	}
	doc = json_object();
	days = json_object();
	totals = json_object();
	json_object_set_new(doc, "format", json_integer(1));
	json_object_set_new(doc, "version", json_string(TRIAGE_VERSION));
	json_object_set_new(doc, "collecting", json_boolean(metrics_enabled()));
	json_object_set_new(doc, "since", since[0] ? json_string(since) : json_null());
	json_object_set_new(doc, "days", days);
	json_object_set_new(doc, "totals", totals);
	path = metrics_path();
	if (path != NULL && (fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			json_t *d;

			if (parse(line, &day, &key, &n) != 0) {
				bad++;
				continue;
			}
			if (since[0] && strcmp(day, since) < 0)
				continue;
			if ((d = json_object_get(days, day)) == NULL) {
				d = json_object();
				json_object_set_new(days, day, d);
			}
			add(d, key, n);
			add(totals, key, n);
		}
		fclose(fp);
	}
	json_object_set_new(doc, "bad_lines", json_integer((json_int_t)bad));
	if (export != NULL && json_dump_file(doc, export,
	    JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
		out_printf(stderr, "triage: stats: %s: cannot write\n", export);
		goto out;
	}
	if (json) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else if (export == NULL) {
		const char **keys = calloc(json_object_size(totals) + 1, sizeof *keys);
		size_t i, nk = 0;

		out_printf(stdout, "metrics: %s (%s)\n", path ? path : "(no home)",
		    metrics_enabled() ? "collecting" : "off in the config");
		out_printf(stdout, "days: %zu%s%s\n", json_object_size(days),
		    since[0] ? " since " : "", since);
		json_object_foreach(totals, k, v)
			if (keys != NULL)
				keys[nk++] = k;
		if (keys != NULL)
			qsort(keys, nk, sizeof *keys, strcmp_ptr);
		for (i = 0; i < nk; i++)
			out_printf(stdout, "  %-48s %lld\n", keys[i], (long long)
			    json_integer_value(json_object_get(totals, keys[i])));
		free(keys);
		if (bad > 0)
			out_printf(stdout, "%zu malformed lines skipped\n", bad);
	}
	rc = 0;
out:
	json_decref(doc);
	free(path);
	return rc;
}
