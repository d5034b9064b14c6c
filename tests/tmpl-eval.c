/*
 * tmpl-eval.c - how well do triage's templates agree with LogHub's?
 *
 * usage: tmpl-eval LOG STRUCTURED_CSV...  (pairs)
 * For every line of LOG the miner assigns a template; the CSV gives the
 * true event id.  Grouping accuracy (Zhu et al., ICSE-SEIP 2019): a line
 * counts as right when its predicted group holds exactly the lines of its
 * true group.  Prints one row per file and the line-weighted total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_LINES 100000

/* Second-to-last field of a CSV record (EventId), quotes handled. */
static int
event_id(const char *rec, char *out, size_t cap)
{
	const char *fields[256];
	size_t lens[256], nf = 0;
	const char *p = rec;

	while (*p && *p != '\n' && nf < 256) {
		const char *start = p;
		if (*p == '"') {
			p++;
			while (*p && !(*p == '"' && p[1] != '"'))
				p += (*p == '"') ? 2 : 1;
			if (*p == '"')
				p++;
		} else
			while (*p && *p != ',' && *p != '\n' && *p != '\r')
				p++;
		fields[nf] = start;
		lens[nf++] = (size_t)(p - start);
		if (*p == ',')
			p++;
		else
			break;
	}
	if (nf < 2 || lens[nf - 2] >= cap)
		return -1;
	memcpy(out, fields[nf - 2], lens[nf - 2]);
	out[lens[nf - 2]] = '\0';
	return 0;
}

static long *pred;
static char (*truth)[16];

static int
eval(const char *logpath, const char *csvpath, size_t *n_out, size_t *ok_out)
{
	FILE *lf = fopen(logpath, "r"), *cf = fopen(csvpath, "r");
	char *line = NULL, *rec = NULL;
	size_t cap = 0, rcap = 0, n = 0, ok = 0;
	ssize_t len;
	struct pb_miner *m;

	if (lf == NULL || cf == NULL || pb_miner_new(MAX_LINES, &m) != 0) {
		fprintf(stderr, "tmpl-eval: cannot open %s or %s\n", logpath, csvpath);
		return -1;
	}
	(void)getline(&rec, &rcap, cf);		/* header */
	while ((len = getline(&line, &cap, lf)) > 0 && n < MAX_LINES) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* Records may span lines when quoted; LogHub's do not. */
		if (getline(&rec, &rcap, cf) <= 0 ||
		    event_id(rec, truth[n], sizeof(truth[n])) != 0)
			break;
		pred[n] = pb_miner_add(m, line, (size_t)len);
		n++;
	}
	/* A line is right when pred-group == truth-group as sets. */
	for (size_t i = 0; i < n; i++) {
		int right = 1;
		for (size_t j = 0; j < n && right; j++)
			if ((pred[j] == pred[i]) != (strcmp(truth[j], truth[i]) == 0))
				right = 0;
		ok += right;
	}
	if (getenv("TMPL_DEBUG") != NULL)
		for (size_t i = 0; i < n; i++)
			printf("%s\t%ld\t%s\n", truth[i], pred[i],
			    pb_miner_text(m, pred[i]));
	*n_out = n;
	*ok_out = ok;
	printf("%-40s %6zu lines %5zu templates  grouping accuracy %.3f\n",
	    logpath, n, pb_miner_count(m), n ? (double)ok / (double)n : 0.0);
	pb_miner_free(m);
	free(line);
	free(rec);
	fclose(lf);
	fclose(cf);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t tn = 0, tok = 0, n, ok;

	pred = calloc(MAX_LINES, sizeof(*pred));
	truth = calloc(MAX_LINES, sizeof(*truth));
	if (pred == NULL || truth == NULL)
		return 2;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (eval(argv[i], argv[i + 1], &n, &ok) != 0)
			return 2;
		tn += n;
		tok += ok;
	}
	printf("%-40s %6zu lines                  grouping accuracy %.3f\n",
	    "total", tn, tn ? (double)tok / (double)tn : 0.0);
	return 0;
}
