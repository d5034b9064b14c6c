/*
 * tmpl-eval.c - how well do triage's templates agree with LogHub's?
 *
 * usage: tmpl-eval LOG STRUCTURED_CSV...  (pairs)
 * For every line of LOG the miner assigns a template; the CSV gives the
 * true event id.  Grouping accuracy (Zhu et al., ICSE-SEIP 2019): a line
 * counts as right when its predicted group holds exactly the lines of its
 * true group.
 *
 * Prints two tables:
 *   1. each file with the miner's fixed default parameters, and the mean;
 *   2. leave-one-out: for each file, the parameters (similarity threshold,
 *      words in the tree path) are chosen from a small fixed grid by the
 *      mean accuracy on the other files, then that file is scored with
 *      them.  If the defaults were over-fit to some file, its held-out
 *      score drops here.
 * TMPL_DEBUG=1 prints, for the first file, every line's true event, its
 * template id and template text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_LINES	100000
#define MAX_FILES	32
#define TRUTH_BYTES	32

static const double grid_sim[] = { 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 };
static const size_t grid_key[] = { 1, 2, 3 };
#define NSIM (sizeof(grid_sim) / sizeof(grid_sim[0]))
#define NKEY (sizeof(grid_key) / sizeof(grid_key[0]))
#define NGRID (NSIM * NKEY)

struct sample {
	const char	*path;
	char		**line;
	size_t		*len;
	int		*truth;		/* event id as a small integer */
	size_t		 n, ntruth;
};

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

static int
load(struct sample *s, const char *logpath, const char *csvpath)
{
	FILE *lf = fopen(logpath, "r"), *cf = fopen(csvpath, "r");
	char *line = NULL, *rec = NULL, (*names)[TRUTH_BYTES] = NULL, id[TRUTH_BYTES];
	size_t cap = 0, rcap = 0, k;
	ssize_t len;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->path = logpath;
	s->line = calloc(MAX_LINES, sizeof(*s->line));
	s->len = calloc(MAX_LINES, sizeof(*s->len));
	s->truth = calloc(MAX_LINES, sizeof(*s->truth));
	names = calloc(MAX_LINES, sizeof(*names));
	if (lf == NULL || cf == NULL) {
		fprintf(stderr, "tmpl-eval: cannot open %s or %s\n", logpath, csvpath);
		goto out;
	}
	if (s->line == NULL || s->len == NULL || s->truth == NULL || names == NULL)
		goto out;
	(void)getline(&rec, &rcap, cf);		/* header */
	while ((len = getline(&line, &cap, lf)) > 0 && s->n < MAX_LINES) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* Records may span lines when quoted; LogHub's do not. */
		if (getline(&rec, &rcap, cf) <= 0 ||
		    event_id(rec, id, sizeof(id)) != 0)
			break;
		for (k = 0; k < s->ntruth && strcmp(names[k], id) != 0; k++)
			;
		if (k == s->ntruth)
			memcpy(names[s->ntruth++], id, sizeof(id));
		if ((s->line[s->n] = strdup(line)) == NULL)
			goto out;
		s->len[s->n] = (size_t)len;
		s->truth[s->n++] = (int)k;
	}
	rc = 0;
out:
	free(names);
	free(line);
	free(rec);
	if (lf != NULL)
		fclose(lf);
	if (cf != NULL)
		fclose(cf);
	return rc;
}

/*
 * Grouping accuracy of one run: a line is right when its predicted group
 * is pure (one true event) and as large as its true group.  A line the
 * miner refused (-1) is a group of its own.
 */
static double
score(const struct sample *s, double sim, size_t key, int debug)
{
	static long pred[MAX_LINES];
	static size_t psize[MAX_LINES], tsize[MAX_LINES];
	static int pfirst[MAX_LINES], ppure[MAX_LINES];
	struct pb_miner *m;
	size_t ok = 0, i;

	if (pb_miner_new(MAX_LINES, &m) != 0)
		return -1;
	if (sim > 0)
		pb_miner_params(m, sim, key);
	memset(psize, 0, sizeof(psize));
	memset(tsize, 0, sizeof(tsize));
	for (i = 0; i < s->n; i++) {
		pred[i] = pb_miner_add(m, s->line[i], s->len[i]);
		tsize[s->truth[i]]++;
		if (pred[i] < 0)
			continue;
		if (psize[pred[i]]++ == 0) {
			pfirst[pred[i]] = s->truth[i];
			ppure[pred[i]] = 1;
		} else if (pfirst[pred[i]] != s->truth[i])
			ppure[pred[i]] = 0;
	}
	for (i = 0; i < s->n; i++) {
		size_t t = (size_t)s->truth[i];
		if (pred[i] < 0)
			ok += tsize[t] == 1;
		else
			ok += ppure[pred[i]] && psize[pred[i]] == tsize[t];
	}
	if (debug)
		for (i = 0; i < s->n; i++)
			printf("%d\t%ld\t%s\n", s->truth[i], pred[i],
			    pred[i] >= 0 ? pb_miner_text(m, pred[i]) : "");
	pb_miner_free(m);
	return s->n ? (double)ok / (double)s->n : 0.0;
}

static const char *
base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b != NULL ? b + 1 : path;
}

int
main(int argc, char **argv)
{
	static struct sample smp[MAX_FILES];
	static double acc[NGRID][MAX_FILES];
	size_t ns = 0, lines = 0, g, f, i;
	double mean = 0, loo = 0;

	for (int a = 1; a + 1 < argc && ns < MAX_FILES; a += 2)
		if (load(&smp[ns++], argv[a], argv[a + 1]) != 0)
			return 2;
	if (ns == 0) {
		fprintf(stderr, "usage: tmpl-eval LOG STRUCTURED_CSV...\n");
		return 2;
	}
	if (getenv("TMPL_DEBUG") != NULL) {
		score(&smp[0], 0, 0, 1);
		return 0;
	}

	printf("== grouping accuracy, fixed default parameters\n");
	for (f = 0; f < ns; f++) {
		double a = score(&smp[f], 0, 0, 0);
		printf("%-28s %6zu lines  %.3f\n", base(smp[f].path), smp[f].n, a);
		mean += a;
		lines += smp[f].n;
	}
	printf("%-28s %6zu lines  %.3f (mean of files)\n", "all", lines,
	    mean / (double)ns);

	for (g = 0; g < NGRID; g++)
		for (f = 0; f < ns; f++)
			acc[g][f] = score(&smp[f], grid_sim[g / NKEY],
			    grid_key[g % NKEY], 0);
	if (getenv("TMPL_GRID") != NULL)
		for (g = 0; g < NGRID; g++) {
			printf("grid %.1f/%zu:", grid_sim[g / NKEY], grid_key[g % NKEY]);
			for (f = 0; f < ns; f++)
				printf(" %.3f", acc[g][f]);
			printf("\n");
		}
	printf("== leave-one-out: parameters chosen on the other files "
	    "(grid: similarity");
	for (i = 0; i < NSIM; i++)
		printf(" %.1f", grid_sim[i]);
	printf(" x path words");
	for (i = 0; i < NKEY; i++)
		printf(" %zu", grid_key[i]);
	printf(")\n");
	for (f = 0; f <= ns; f++) {
		/* f == ns: chosen on all files (what the defaults should be). */
		size_t bg = 0;
		double bm = -1;
		for (g = 0; g < NGRID; g++) {
			double m = 0;
			for (i = 0; i < ns; i++)
				if (i != f)
					m += acc[g][i];
			if (m > bm + 1e-12) {
				bm = m;
				bg = g;
			}
		}
		if (f < ns) {
			printf("%-28s similarity %.1f, path words %zu: held out %.3f"
			    "  (others %.3f)\n", base(smp[f].path),
			    grid_sim[bg / NKEY], grid_key[bg % NKEY], acc[bg][f],
			    bm / (double)(ns > 1 ? ns - 1 : 1));
			loo += acc[bg][f];
		} else {
			printf("%-28s %.3f (mean of held-out scores)\n", "all",
			    loo / (double)ns);
			printf("chosen on all files: similarity %.1f, path words "
			    "%zu, mean %.3f\n", grid_sim[bg / NKEY],
			    grid_key[bg % NKEY], bm / (double)ns);
		}
	}
	for (f = 0; f < ns; f++) {
		for (i = 0; i < smp[f].n; i++)
			free(smp[f].line[i]);
		free(smp[f].line);
		free(smp[f].len);
		free(smp[f].truth);
	}
	return 0;
}
