/*
 * library.c - the set of loaded playbooks.
 *
 * Directories are read in sorted order so results never depend on readdir.
 * A playbook with an id already present replaces it: later paths (the
 * user's) override earlier ones (shipped).  Before analysis the patterns are
 * flattened into one table and their literals, plus the literals that let
 * a line be judged a warning or error (severity.c), go into one prefilter.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"


int
pb_library_new(struct pb_library **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return PB_ENOMEM;
	return 0;
}

void
pb_library_free(struct pb_library *lib)
{
	if (lib == NULL)
		return;
	for (size_t i = 0; i < lib->n; i++)
		pb_playbook_free(lib->pbs[i]);
	free(lib->pbs);
	free(lib->gpats);
	free(lib->litstart);
	free(lib->litgp);
	free(lib->litkw);
	pb_prefilter_free(lib->pf);
	pb_bm25_free(lib->bm25);
	free(lib);
}

static int
insert(struct pb_library *lib, struct pb_playbook *pb)
{
	struct pb_playbook **np;

	for (size_t i = 0; i < lib->n; i++)
		if (strcmp(lib->pbs[i]->id, pb->id) == 0) {
			pb_playbook_free(lib->pbs[i]);
			lib->pbs[i] = pb;
			return 0;
		}
	if (lib->n == lib->cap) {
		size_t cap = lib->cap ? lib->cap * 2 : 64;
		if ((np = realloc(lib->pbs, cap * sizeof(*np))) == NULL)
			return PB_ENOMEM;
		lib->pbs = np;
		lib->cap = cap;
	}
	lib->pbs[lib->n++] = pb;
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * List *.json names in dir, sorted.  Hidden files (including macOS "._*"
 * AppleDouble litter from USB sticks) are skipped.
 */
static int
list_dir(const char *dir, char ***out, size_t *nout, char **cause)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, len;
	int rc = PB_EIO;

	if ((d = opendir(dir)) == NULL) {
		pb_cause(cause, "%s: %s", dir, strerror(errno));
		return PB_EIO;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 6 ||
		    strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		if (n == PB_MAX_DIR_FILES) {
			pb_cause(cause, "%s: more than %d playbook files", dir,
			    PB_MAX_DIR_FILES);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[n] = pb_strdupf("%s/%s", dir, e->d_name)) == NULL)
			goto oom;
		n++;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmpstr);
	*out = v;	/* transferred */
	*nout = n;
	v = NULL;
	n = 0;
	rc = 0;
	goto out;
oom:
	pb_cause(cause, "out of memory");
	rc = PB_ENOMEM;
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	closedir(d);
	return rc;
}

/* Call fn for the file, or for every *.json in the directory. */
static int
each_file(const char *path, int (*fn)(void *, const char *), void *arg,
    char **cause)
{
	struct stat st;
	char **files = NULL;
	size_t n = 0;
	int rc, bad = 0;

	if (stat(path, &st) != 0) {
		pb_cause(cause, "%s: %s", path, strerror(errno));
		return PB_EIO;
	}
	if (!S_ISDIR(st.st_mode))
		return fn(arg, path);
	if ((rc = list_dir(path, &files, &n, cause)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = fn(arg, files[i]);
		if (rc < 0 && bad >= 0)
			bad = rc;
		else if (rc > 0 && bad >= 0)
			bad += rc;
		free(files[i]);
	}
	free(files);
	return bad;
}

struct add_arg {
	struct pb_library *lib;
	pb_diag_fn	 diag;
	void		*arg;
	int		 lint;
	size_t		 files;		/* playbook files read */
};

static int
add_one(void *p, const char *file)
{
	struct add_arg *a = p;
	struct pb_playbook *pb;
	int n = 0;

	a->files++;
	pb = pb_playbook_load(file, a->lint, a->diag, a->arg, &n);
	if (pb == NULL)
		return n > 0 ? n : 1;
	if (a->lib == NULL) {		/* lint only */
		pb_playbook_free(pb);
		return 0;
	}
	if (insert(a->lib, pb) != 0) {
		pb_playbook_free(pb);
		return PB_ENOMEM;
	}
	a->lib->prepared = 0;
	return 0;
}

/* The number of invalid files, not problems, is what callers count. */
static int
add_count(void *p, const char *file)
{
	int rc = add_one(p, file);
	return rc > 0 ? 1 : rc;
}

int
pb_library_add(struct pb_library *lib, const char *path, pb_diag_fn diag,
    void *arg, char **cause)
{
	struct add_arg a = { lib, diag, arg, 0, 0 };

	return each_file(path, add_count, &a, cause);
}

int
pb_lint(const char *path, pb_diag_fn diag, void *arg, char **cause)
{
	return pb_lint_files(path, diag, arg, NULL, cause);
}

int
pb_lint_files(const char *path, pb_diag_fn diag, void *arg, size_t *nfiles,
    char **cause)
{
	struct add_arg a = { NULL, diag, arg, 1, 0 };
	int rc = each_file(path, add_one, &a, cause);

	if (nfiles != NULL)
		*nfiles = a.files;
	return rc;
}

size_t
pb_library_count(const struct pb_library *lib)
{
	return lib->n;
}

const struct pb_playbook *
pb_library_get(const struct pb_library *lib, size_t i)
{
	return i < lib->n ? lib->pbs[i] : NULL;
}

/*
 * Flatten patterns into gpats, put every literal in one prefilter and map
 * each literal back to the patterns (and keyword flag) it stands for.
 */
int
pb_library_prepare(struct pb_library *lib)
{
	struct pb_prefilter *pf = NULL;
	struct pb_gpat *g = NULL;
	uint32_t *pairs = NULL, *start = NULL, *items = NULL, idx;
	uint8_t *kw = NULL;
	struct pb_bm25 *bm = NULL;
	size_t n = 0, k = 0, np = 0, nl;
	int rc = PB_ENOMEM;

	if (lib->prepared)
		return 0;
	for (size_t i = 0; i < lib->n; i++)
		for (size_t j = 0; j < lib->pbs[i]->npats; j++, n++)
			np += lib->pbs[i]->pats[j].lits.n;
	/* pairs: (literal index, gpat) for every literal of every pattern */
	if ((g = calloc(n ? n : 1, sizeof(*g))) == NULL ||
	    (pairs = calloc(2 * (np ? np : 1), sizeof(*pairs))) == NULL ||
	    pb_prefilter_new(&pf) != 0)
		goto out;
	np = 0;
	for (size_t i = 0; i < lib->n; i++) {
		const struct pb_playbook *pb = lib->pbs[i];
		for (size_t j = 0; j < pb->npats; j++, k++) {
			const struct pb_litset *ls = &pb->pats[j].lits;
			g[k].pb = (uint32_t)i;
			g[k].pat = (uint32_t)j;
			for (size_t l = 0; l < ls->n; l++) {
				if ((rc = pb_prefilter_add(pf, ls->lit[l],
				    ls->len[l], &idx)) != 0)
					goto out;
				pairs[2 * np] = idx;
				pairs[2 * np++ + 1] = (uint32_t)k;
			}
		}
	}
	for (size_t i = 0; pb_severity_literals[i] != NULL; i++)
		if ((rc = pb_prefilter_add(pf, pb_severity_literals[i], strlen(pb_severity_literals[i]),
		    &idx)) != 0)
			goto out;
	rc = PB_ENOMEM;
	nl = pb_prefilter_count(pf);
	if ((start = calloc(nl + 1, sizeof(*start))) == NULL ||
	    (items = calloc(np ? np : 1, sizeof(*items))) == NULL ||
	    (kw = calloc(nl ? nl : 1, 1)) == NULL)
		goto out;
	for (size_t i = 0; pb_severity_literals[i] != NULL; i++) {
		(void)pb_prefilter_add(pf, pb_severity_literals[i], strlen(pb_severity_literals[i]), &idx);
		kw[idx] = 1;
	}
	for (size_t i = 0; i < np; i++)
		start[pairs[2 * i] + 1]++;
	for (size_t i = 0; i < nl; i++)
		start[i + 1] += start[i];
	/* Fill in order, so each literal's patterns stay sorted by gpat. */
	{
		uint32_t *fill = calloc(nl ? nl : 1, sizeof(*fill));
		if (fill == NULL)
			goto out;
		for (size_t i = 0; i < np; i++) {
			uint32_t li = pairs[2 * i];
			items[start[li] + fill[li]++] = pairs[2 * i + 1];
		}
		free(fill);
	}
	if ((rc = pb_prefilter_build(pf)) != 0 ||
	    (rc = pb_bm25_new(lib, &bm)) != 0)
		goto out;
	free(lib->gpats);
	free(lib->litstart);
	free(lib->litgp);
	free(lib->litkw);
	pb_prefilter_free(lib->pf);
	pb_bm25_free(lib->bm25);
	lib->bm25 = bm;
	bm = NULL;
	lib->gpats = g;
	lib->ngpats = n;
	lib->litstart = start;
	lib->litgp = items;
	lib->litkw = kw;
	lib->pf = pf;
	lib->prepared = 1;
	g = NULL;
	pf = NULL;
	start = items = NULL;
	kw = NULL;
	rc = 0;
out:
	free(g);
	free(pairs);
	free(start);
	free(items);
	free(kw);
	pb_prefilter_free(pf);
	pb_bm25_free(bm);
	return rc;
}
