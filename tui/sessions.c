/*
 * sessions.c - the kept sessions of the full-screen app.
 *
 * Why several: a plain start used to replace the one saved session, and
 * with it pasted text, ticked checks, notes and answers.  Now every start
 * gets its own directory under the sessions root
 * ($XDG_DATA_HOME/triage/sessions, or --session DIR), named by its
 * creation time and first source ("20261206-0155-syslog"); --resume opens
 * the one saved last, --resume=ID or :sessions ID a chosen one.  Old
 * sessions expire by the `retention` setting (triage(1), SESSIONS).
 * Only directories whose name is a session id are ever listed or removed,
 * and only the regular files in them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "tui.h"
#include "metrics.h"

/* Sessions looked at, at most: the rest are left alone. */
#define SESSIONS_MAX	1000
/* Characters of the first source's name kept in an id. */
#define SESS_NAME_MAX	40

static int
mkdirs(const char *path)
{
	char *p = strdup(path), *s;

	if (p == NULL)
		return -1;
	for (s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0700);
			*s = '/';
		}
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

char *
sessions_root(const char *given)
{
	char *d, *s = NULL;

	if (given != NULL)
		s = app_xstrdup(given);
	else if ((d = path_data_dir()) != NULL) {
		if (asprintf(&s, "%s/sessions", d) < 0)
			s = NULL;
		free(d);
	}
	if (s != NULL && mkdirs(s) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

bool
sessions_valid_id(const char *id)
{
	size_t n = strlen(id);

	/* YYYYMMDD-HHMMSS then -name: digits first, no dots or slashes
	 * that could leave the root */
	if (n < 15 || n > 15 + 1 + SESS_NAME_MAX + 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (i < 8 || (i > 8 && i < 15)) {
			if (c < '0' || c > '9')
				return false;
		} else if (i == 8 && c != '-')
			return false;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && i > 16)))
			return false;
	}
	return true;
}

char *
sessions_new(const char *root, const char *first, time_t now, char **id)
{
	char stamp[32], name[SESS_NAME_MAX + 1] = "", *dir = NULL;
	const char *b = first ? strrchr(first, '/') : NULL;
	struct tm tm;
	size_t k = 0;

	b = b ? b + 1 : first ? first : "empty";
	for (; *b && k < SESS_NAME_MAX; b++) {
		char c = *b;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (k == 0 && (c == '.' || c == '-'))
			continue;
		name[k++] = keep ? c : '_';
	}
	name[k] = '\0';
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	/* two starts in one second: -2, -3, ... */
	for (int n = 1; n < 100; n++) {
		char suffix[8] = "";

		if (n > 1)
			snprintf(suffix, sizeof(suffix), "-%d", n);
		free(dir);
		if (asprintf(&dir, "%s/%s%s%s%s", root, stamp, k ? "-" : "",
		    name, suffix) < 0)
			return NULL;
		if (mkdir(dir, 0700) == 0) {
			*id = app_xstrdup(dir + strlen(root) + 1);
			return dir;
		}
		if (errno != EEXIST)
			break;
	}
	free(dir);
	return NULL;
}

/* When a session was last saved: its session.json, else the directory. */
static time_t
saved_time(const char *dir, bool *has_json)
{
	struct stat st;
	char *p;

	*has_json = false;
	if (asprintf(&p, "%s/session.json", dir) >= 0) {
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			*has_json = true;
			free(p);
			return st.st_mtime;
		}
		free(p);
	}
	return stat(dir, &st) == 0 ? st.st_mtime : 0;
}

static int
by_newest(const void *x, const void *y)
{
	const struct sess_info *a = x, *b = y;

	if (a->saved != b->saved)
		return a->saved < b->saved ? 1 : -1;
	return strcmp(b->id, a->id);
}

int
sessions_list(const char *root, struct sess_info **out, size_t *n)
{
	DIR *d = opendir(root);
	struct dirent *e;
	struct sess_info *v = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && *n < SESSIONS_MAX) {
		char *dir;
		struct stat st;
		bool json;

		if (!sessions_valid_id(e->d_name) ||
		    asprintf(&dir, "%s/%s", root, e->d_name) < 0)
			continue;
		if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			free(dir);
			continue;
		}
		if (*n == cap) {
			struct sess_info *nv;
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(dir);
				break;
			}
			v = nv;
		}
		v[*n].id = app_xstrdup(e->d_name);
		v[*n].saved = saved_time(dir, &json);
		v[*n].has_json = json;
		(*n)++;
		free(dir);
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), by_newest);
	*out = v;
	return 0;
}

void
sessions_info_free(struct sess_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

int
sessions_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	/* our files only: regular files directly inside */
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			continue;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			(void)unlink(p);
		free(p);
	}
	closedir(d);
	return rmdir(dir);
}

static void
say_nothing(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* An expired session goes as `triage sessions erase` takes it: its files
 * and its lines in the prompt history (read after this, at start). */
int
sessions_expire(const char *root, long max_age, const char *keep)
{
	struct sess_info *v;
	size_t n;
	time_t now = time(NULL);
	int removed = 0;

	if (max_age < 0 || sessions_list(root, &v, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((keep != NULL && strcmp(v[i].id, keep) == 0) ||
		    (now - v[i].saved < max_age && max_age > 0))
			continue;
		if (sessions_erase(root, v[i].id, 1, say_nothing, NULL) == 0)
			removed++;
	}
	sessions_info_free(v, n);
	return removed;
}
