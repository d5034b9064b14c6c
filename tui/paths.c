/*
 * paths.c - where data lives (XDG base directories).
 *
 *   shipped playbooks   $TRIAGE_DATADIR/playbooks, else <dir of the binary>/share/playbooks
 *                       when running from a source tree, else DATADIR/playbooks
 *                       (DATADIR is PREFIX/share/triage at build time)
 *   user playbooks      $XDG_DATA_HOME/triage/playbooks (~/.local/share/triage/playbooks)
 *   data directory      $XDG_DATA_HOME/triage: bundles/ (the bundle store),
 *                       gnupg/ and trusted-keys (who may sign), audit.log
 *   config              $XDG_CONFIG_HOME/triage/config (~/.config/triage/config)
 *
 * Playbooks load in this order, later ones replacing earlier ones with the
 * same id: shipped < installed bundles (active versions, by bundle name)
 * < the user's own.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundles/bundle.h"
#include "tui.h"

#ifndef DATADIR
#define DATADIR "/usr/local/share/triage"
#endif

static char *
join(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *
path_shipped_playbooks(void)
{
	const char *env = getenv("TRIAGE_DATADIR");
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;

	if (env != NULL && *env != '\0')
		return join(env, "playbooks");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* The binary may be ./triage or build/<variant>/triage. */
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')) != NULL; up++) {
			*slash = '\0';
			if ((p = join(exe, "share/playbooks")) == NULL)
				return NULL;
			if (is_dir(p) && access(p, R_OK) == 0) {
				char *mk = join(exe, "Makefile");
				int src = mk != NULL && access(mk, R_OK) == 0;
				free(mk);
				if (src)
					return p;
			}
			free(p);
		}
	}
	return join(DATADIR, "playbooks");
}

static char *
xdg(const char *var, const char *fallback, const char *leaf)
{
	const char *v = getenv(var), *home = getenv("HOME");
	char *s;

	if (v != NULL && v[0] == '/') {		/* relative values are ignored */
		if (asprintf(&s, "%s/triage/%s", v, leaf) < 0)
			return NULL;
		return s;
	}
	if (home == NULL || *home == '\0')
		return NULL;
	if (asprintf(&s, "%s/%s/triage/%s", home, fallback, leaf) < 0)
		return NULL;
	return s;
}

char *
path_user_playbooks(void)
{
	return xdg("XDG_DATA_HOME", ".local/share", "playbooks");
}

char *
path_config_file(void)
{
	return xdg("XDG_CONFIG_HOME", ".config", "config");
}

char *
path_data_dir(void)
{
	char *s = xdg("XDG_DATA_HOME", ".local/share", "");
	size_t n;

	if (s != NULL && (n = strlen(s)) > 1 && s[n - 1] == '/')
		s[n - 1] = '\0';
	return s;
}

/* 1 if the store's versions/ directory holds an installed bundle. */
static int
store_has_versions(const char *store)
{
	char *v = NULL;
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (asprintf(&v, "%s/versions", store) < 0 || (d = opendir(v)) == NULL) {
		free(v);
		return 0;
	}
	while (!found && (de = readdir(d)) != NULL)
		found = de->d_name[0] != '.';
	closedir(d);
	free(v);
	return found;
}

/*
 * The active playbook directories of installed bundles (see bundle.h).
 * Reading changes nothing in the store: when its state.json is damaged,
 * or lost or emptied while versions/ still holds bundles, their playbooks
 * are not used, and one line says so (a bundle command repairs the store).
 */
static void
add_bundle_playbooks(struct pb_library *lib, pb_diag_fn diag, void *arg)
{
	char *data = path_data_dir(), *store = NULL, *cause = NULL, **dirs = NULL;
	char *msg = NULL;

	if (data == NULL || asprintf(&store, "%s/bundles", data) < 0) {
		free(data);
		return;
	}
	if (bdl_store_active_paths(store, &dirs, NULL, NULL, &cause) < 0) {
		if (asprintf(&msg, "%s; the playbooks of installed bundles are "
		    "not used", cause != NULL ? cause :
		    "the bundle store cannot be read") < 0)
			msg = NULL;
		diag(arg, msg != NULL ? msg : "the bundle store cannot be read");
		free(cause);
		cause = NULL;
	} else if ((dirs == NULL || dirs[0] == NULL) && store_has_versions(store)) {
		if (asprintf(&msg, "%s/state.json is missing or names no bundle, "
		    "but %s/versions holds some: the playbooks of installed "
		    "bundles are not used (triage bundle list repairs the store)",
		    store, store) < 0)
			msg = NULL;
		if (msg != NULL)
			diag(arg, msg);
	}
	free(msg);
	for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++)
		if (pb_library_add(lib, dirs[i], diag, arg, &cause) < 0) {
			diag(arg, cause != NULL ? cause : dirs[i]);
			free(cause);
			cause = NULL;
		}
	bdl_strv_free(dirs);
	free(store);
	free(data);
}

int
library_default(struct pb_library *lib, pb_diag_fn diag, void *arg)
{
	char *shipped = path_shipped_playbooks(), *user = path_user_playbooks();
	char *cause = NULL;
	int rc = 0;

	if (shipped == NULL) {
		rc = -1;
		goto out;
	}
	if (pb_library_add(lib, shipped, diag, arg, &cause) < 0) {
		diag(arg, cause != NULL ? cause : shipped);
		free(cause);
		cause = NULL;
	}
	add_bundle_playbooks(lib, diag, arg);
	if (user != NULL && is_dir(user) &&
	    pb_library_add(lib, user, diag, arg, &cause) < 0) {
		diag(arg, cause != NULL ? cause : user);
		free(cause);
	}
out:
	free(shipped);
	free(user);
	return rc;
}
