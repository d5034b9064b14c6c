/*
 * tool-eval.c - `make eval`: how well triage's cards transfer to real logs.
 *
 * usage: tool-eval TRIAGE CASES_DIR [SHARED_DIR]
 *
 * Each case is CASES_DIR/ID.json, beside its log excerpt CASES_DIR/ID.log
 * (or a "log" field naming a file under SHARED_DIR as "$SHARED/..."):
 *
 *   { "source":   "where the log and the conclusion come from (URL)",
 *     "problem":  "the problem as the thread concluded",
 *     "platform": "linux", "set": "public" | "shared",
 *     "class":    "dns" | "none" (a negative control: benign noise),
 *     "also":     ["other classes that are also right"],   (optional)
 *     "evidence": "a PCRE2 regex for the lines that show the problem",
 *     "split":    "dev" (default: looked at while building) | "test" |
 *                 "fresh" | "fresh2".  Every split has its own totals
 *                 line.  "fresh2" is the held-out split: only its totals
 *                 are printed, never a case, and it stays out of the
 *                 per-class table.  "test" (development data since
 *                 2026-12-06) is still counted only in totals; "fresh"
 *                 (development data since the second 2026-12-06 session)
 *                 lists its cases like dev.  Only dev (and the shared set)
 *                 feed the per-class table, so its rows stay comparable
 *                 with earlier reports. }
 *
 * For every case it runs `TRIAGE analyze --json --examples 50` and scores:
 *   found     a matched card of the right class whose evidence holds a
 *             labelled line;
 *   suggested no such card, but a suggested card of the right class whose
 *             lines hold one;
 *   visible   a labelled line is in some card's evidence, a suggestion,
 *             a known problem below its threshold or an unknown template
 *             (what a technician would see);
 *   wrong     a card whose class is not the case's (any card on a negative
 *             control); "loud" if it is high or critical on a negative;
 *   wrong suggestion  likewise for a suggested ("possibly") card, of a
 *             playbook or of a whole class: its class is not the case's,
 *             or it is on a negative control.
 * It is a report, not a test: the exit status is 0 unless a case is
 * malformed or triage cannot run.
 */
#include <errno.h>
#include <dirent.h>
#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CASES	4096
#define MAX_CLASSES	64

struct tally {
	char	 name[32];
	int	 cases, found, suggested, visible, cards, wrong;
};

static struct tally classes[MAX_CLASSES];
static size_t nclasses;

static struct tally *
tally_for(const char *name)
{
	for (size_t i = 0; i < nclasses; i++)
		if (strcmp(classes[i].name, name) == 0)
			return &classes[i];
	if (nclasses == MAX_CLASSES)
		return &classes[MAX_CLASSES - 1];
	snprintf(classes[nclasses].name, sizeof(classes[0].name), "%s", name);
	return &classes[nclasses++];
}

/* Run triage on one log and parse its JSON; NULL on failure. */
static json_t *
analyze(const char *triage, const char *log)
{
	int fd[2], status;
	pid_t pid;
	FILE *f;
	json_t *doc = NULL;
	json_error_t err;

	if (pipe(fd) != 0)
		return NULL;
	if ((pid = fork()) < 0) {
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execl(triage, triage, "analyze", "--json", "--examples", "50",
		    log, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	if ((f = fdopen(fd[0], "r")) == NULL) {
		close(fd[0]);
		goto out;
	}
	doc = json_loadf(f, 0, &err);
	fclose(f);
out:
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (doc != NULL && !(WIFEXITED(status) && WEXITSTATUS(status) <= 1)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

static int
re_hit(pcre2_code *re, pcre2_match_data *md, const char *s)
{
	return s != NULL && pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED,
	    0, 0, md, NULL) >= 0;
}

/* Does any string anywhere inside v match? */
static int
any_string_hits(json_t *v, pcre2_code *re, pcre2_match_data *md)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v))
		return re_hit(re, md, json_string_value(v));
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (any_string_hits(x, re, md))
				return 1;
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			if (strcmp(k, "playbook") != 0 && any_string_hits(x, re, md))
				return 1;
	}
	return 0;
}

static int
class_ok(const char *klass, const char *want, json_t *also)
{
	json_t *v;
	size_t i;

	if (klass == NULL)
		return 0;
	if (strcmp(klass, want) == 0)
		return 1;
	json_array_foreach(also, i, v)
		if (json_is_string(v) && strcmp(klass, json_string_value(v)) == 0)
			return 1;
	return 0;
}

static int
evidence_hits(json_t *card, pcre2_code *re, pcre2_match_data *md)
{
	json_t *ev = json_object_get(card, "evidence"), *v;
	size_t i;

	json_array_foreach(ev, i, v)
		if (re_hit(re, md, json_string_value(json_object_get(v, "text"))))
			return 1;
	return 0;
}

/*
 * The split a case belongs to: 0 dev, 1 test, 2 fresh, 3 fresh2; -1 for an
 * unknown name, so a typo cannot quietly turn a held-out case into a listed
 * one.
 */
static int
split_of(json_t *c)
{
	json_t *v = json_object_get(c, "split");
	const char *s = json_string_value(v);

	if (v == NULL || (s != NULL && strcmp(s, "dev") == 0))
		return 0;
	if (s != NULL && strcmp(s, "test") == 0)
		return 1;
	if (s != NULL && strcmp(s, "fresh") == 0)
		return 2;
	if (s != NULL && strcmp(s, "fresh2") == 0)
		return 3;
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct totals {
	int	 incidents, found, suggested, visible, negatives, cards, wrong,
		 loud;
	int	 sugg, wsugg, negsugg;	/* suggestions: all, wrong, on negatives */
};

static int
eval_case(const char *triage, const char *dir, const char *shared,
    const char *name, struct totals *tot, struct totals *byset,
    struct totals *bysplit)
{
	char path[4096], log[4096];
	json_t *c = NULL, *doc = NULL, *cards, *sugg, *unk, *v, *also;
	json_error_t err;
	const char *klass, *evre, *logf, *set;
	pcre2_code *re = NULL;
	pcre2_match_data *md = NULL;
	int rc = -1, errc, found = 0, suggested = 0, visible = 0, wrong = 0;
	int loud = 0, negative, listed, tabled, split, wsugg = 0;
	PCRE2_SIZE erroff;
	struct tally *t;
	size_t i, n = strlen(name) - 5;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((c = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		fprintf(stderr, "eval: %s:%d: %s\n", path, err.line, err.text);
		goto out;
	}
	klass = json_string_value(json_object_get(c, "class"));
	evre = json_string_value(json_object_get(c, "evidence"));
	logf = json_string_value(json_object_get(c, "log"));
	set = json_string_value(json_object_get(c, "set"));
	also = json_object_get(c, "also");
	if (klass == NULL || evre == NULL || set == NULL ||
	    json_object_get(c, "source") == NULL) {
		fprintf(stderr, "eval: %s: needs class, evidence, set, source\n",
		    path);
		goto out;
	}
	if ((split = split_of(c)) < 0) {
		fprintf(stderr, "eval: %s: split must be dev, test, fresh or "
		    "fresh2\n", path);
		goto out;
	}
	/* dev and fresh list their cases; test and fresh2 are only counted. */
	listed = split == 0 || split == 2;
	/* Only dev reaches the per-class table (see below). */
	tabled = split == 0;
	negative = strcmp(klass, "none") == 0;
	if (logf != NULL && strncmp(logf, "$SHARED/", 8) == 0)
		snprintf(log, sizeof(log), "%s/%s", shared, logf + 8);
	else
		snprintf(log, sizeof(log), "%s/%.*s.log", dir, (int)n, name);
	if ((re = pcre2_compile((PCRE2_SPTR)evre, PCRE2_ZERO_TERMINATED, 0,
	    &errc, &erroff, NULL)) == NULL) {
		fprintf(stderr, "eval: %s: evidence regex does not compile\n",
		    path);
		goto out;
	}
	md = pcre2_match_data_create_from_pattern(re, NULL);
	if ((doc = analyze(triage, log)) == NULL) {
		fprintf(stderr, "eval: %s: triage analyze failed\n", log);
		goto out;
	}
	cards = json_object_get(doc, "cards");
	sugg = json_object_get(doc, "suggested");
	unk = json_object_get(json_object_get(doc, "unknown"), "templates");
	json_array_foreach(cards, i, v) {
		const char *k = json_string_value(json_object_get(v, "class"));
		const char *sev = json_string_value(json_object_get(v, "severity"));
		int hit = evidence_hits(v, re, md);

		visible |= hit;
		if (negative) {
			wrong++;
			if (sev != NULL && (strcmp(sev, "high") == 0 ||
			    strcmp(sev, "critical") == 0))
				loud++;
		} else if (!class_ok(k, klass, also))
			wrong++;
		else if (hit)
			found = 1;
	}
	json_array_foreach(sugg, i, v) {
		const char *k = json_string_value(json_object_get(v, "class"));
		int hit = any_string_hits(v, re, md);

		visible |= hit;
		if (negative || !class_ok(k, klass, also))
			wsugg++;
		else if (hit)
			suggested = 1;
	}
	json_array_foreach(unk, i, v)
		visible |= any_string_hits(v, re, md);
	json_array_foreach(json_object_get(doc, "below_threshold"), i, v)
		visible |= any_string_hits(v, re, md);
	if (found)
		suggested = 0;
	/* Held-out cases are only ever counted, never listed. */
	if (listed)
		printf("%-44s %-17s %-6s %3zu cards %2d wrong  %s\n", name, klass, set,
	    json_array_size(cards), wrong, negative ?
	    (loud ? "LOUD" : (wrong ? "noisy" : "quiet")) :
	    found ? "FOUND" : suggested ? "suggested" : visible ? "visible" :
	    "MISSED");
	if (listed && json_array_size(sugg) > 0)
		printf("%-44s   %zu suggested, %d wrong\n", "", json_array_size(sugg),
		    wsugg);
	for (int k = 0; k < 3; k++) {
		struct totals *x = k == 2 ? bysplit : k ? byset : tot;
		if (x == NULL)
			continue;
		x->cards += (int)json_array_size(cards);
		x->wrong += wrong;
		x->sugg += (int)json_array_size(sugg);
		x->wsugg += wsugg;
		if (negative) {
			x->negatives++;
			x->loud += loud;
			x->negsugg += (int)json_array_size(sugg);
		} else {
			x->incidents++;
			x->found += found;
			x->suggested += suggested;
			x->visible += visible | found | suggested;
		}
	}
	/*
	 * Nor do they reach the per-class table: with one or two cases in a
	 * class, its row would name the cases that miss.  fresh is listed but
	 * kept out too, so the table still means what earlier reports meant.
	 */
	if (!tabled)
		goto done;
	if (!negative) {
		t = tally_for(klass);
		t->cases++;
		t->found += found;
		t->suggested += suggested;
		t->visible += visible | found | suggested;
	}
	json_array_foreach(cards, i, v) {
		const char *k = json_string_value(json_object_get(v, "class"));
		t = tally_for(k != NULL ? k : "?");
		t->cards++;
		t->wrong += negative || !class_ok(k, klass, also);
	}
done:
	rc = 0;
out:
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	json_decref(doc);
	json_decref(c);
	return rc;
}

static void
pct(const char *what, int n, int d)
{
	if (d == 0)
		printf("  %-34s   n/a\n", what);
	else
		printf("  %-34s %5.1f%%  (%d/%d)\n", what, 100.0 * n / d, n, d);
}

static void
report(const char *title, const struct totals *t)
{
	printf("\n%s: %d incidents, %d negative controls, %d cards\n", title,
	    t->incidents, t->negatives, t->cards);
	pct("recall (card of the right class)", t->found, t->incidents);
	pct("recall incl. suggested", t->found + t->suggested, t->incidents);
	pct("visible (card, suggestion, unknown)", t->visible, t->incidents);
	pct("wrong cards", t->wrong, t->cards);
	pct("wrong suggestions", t->wsugg, t->sugg);
	printf("  %-34s %5d\n", "suggestions on negatives", t->negsugg);
	printf("  %-34s %5d\n", "high/critical cards on negatives", t->loud);
}

int
main(int argc, char **argv)
{
	struct totals tot = { 0 }, shared_t = { 0 }, public_t = { 0 };
	struct totals dev_t = { 0 }, test_t = { 0 }, fresh_t = { 0 };
	struct totals fresh2_t = { 0 };
	struct totals *bysplit;
	char *names[MAX_CASES];
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: tool-eval TRIAGE CASES_DIR [SHARED]\n");
		return 2;
	}
	if ((d = opendir(argv[2])) == NULL) {
		fprintf(stderr, "eval: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	while ((de = readdir(d)) != NULL && n < MAX_CASES) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			if ((names[n] = strdup(de->d_name)) != NULL)
				n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		json_t *c;
		const char *set;
		int shared_set, split;

		snprintf(path, sizeof(path), "%s/%s", argv[2], names[i]);
		c = json_load_file(path, 0, NULL);
		set = json_string_value(json_object_get(c, "set"));
		split = split_of(c);
		shared_set = set != NULL && strcmp(set, "shared") == 0;
		bysplit = shared_set ? NULL : split == 3 ? &fresh2_t :
		    split == 2 ? &fresh_t : split == 1 ? &test_t : &dev_t;
		if (eval_case(argv[1], argv[2], argc > 3 ? argv[3] : "../shared",
		    names[i], &tot, shared_set ? &shared_t : &public_t,
		    bysplit) != 0)
			bad++;
		json_decref(c);
		free(names[i]);
	}
	report("all cases", &tot);
	report("public bug reports and forums (set public)", &public_t);
	report("  public, dev split (cases looked at while building)", &dev_t);
	report("  public, test split (development data since 2026-12-06: totals only)",
	    &test_t);
	report("  public, fresh split (development data since the second "
	    "2026-12-06 session)", &fresh_t);
	report("  public, fresh2 split (held out: totals only)", &fresh2_t);
	report("the nine samples in ../shared (set shared; the library was "
	    "written on them)", &shared_t);
	printf("\nper class, dev split and shared set only (incidents: "
	    "found+suggested/cases, visible; cards: wrong/cards)\n");
	for (size_t i = 0; i < nclasses; i++)
		printf("  %-17s %2d+%d/%-3d visible %-3d  cards %d/%d wrong\n",
		    classes[i].name, classes[i].found, classes[i].suggested,
		    classes[i].cases, classes[i].visible, classes[i].wrong,
		    classes[i].cards);
	return bad ? 2 : 0;
}
