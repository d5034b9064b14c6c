/*
 * usb.c - find bundles on mounted removable media.
 *
 * Removable media are the mount points listed in /proc/self/mounts that
 * lie under /media (udisks and usbmount: /media/$USER/LABEL, /media/usb0),
 * /run/media/$USER (udisks on Fedora-like systems) or /mnt (mounted by
 * hand).  Each is searched for *.tbundle files at its top and one
 * directory level below; names starting with '.' are skipped, which also
 * skips the "._NAME" resource-fork files macOS writes on FAT sticks, and
 * symlinks are not followed.  Paths given by the user are searched the
 * same way (or taken as they are when they name a file).  Nothing found
 * here is trusted: it is only a list of candidates for bdl_bundle_open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_FOUND	1000	/* bundles listed */
#define MAX_SCAN	10000	/* directory entries looked at per directory */
#define MAX_LINE	8192	/* a line of the mounts file */
#define MAX_MOUNTS	4096

struct found {
	char		**v;
	size_t		 n;
};

static int
add(struct found *f, const char *dir, const char *name)
{
	char **nv;

	if (f->n >= MAX_FOUND)
		return 0;
	if ((nv = realloc(f->v, (f->n + 2) * sizeof(*nv))) == NULL)
		return -1;
	f->v = nv;
	if (name == NULL ? (f->v[f->n] = strdup(dir)) == NULL :
	    asprintf(&f->v[f->n], "%s%s%s", dir,
	    dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
		return -1;
	f->v[++f->n] = NULL;
	return 0;
}

static int
is_bundle_name(const char *name)
{
	size_t n = strlen(name), s = strlen(BDL_SUFFIX);

	return name[0] != '.' && n > s && strcmp(name + n - s, BDL_SUFFIX) == 0;
}

static int
scan(struct found *f, const char *dir, int depth)
{
	struct dirent *de;
	size_t seen = 0;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;	/* unreadable media are simply not listed */
	while (rc == 0 && (de = readdir(d)) != NULL && seen++ < MAX_SCAN) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && is_bundle_name(de->d_name))
			rc = add(f, dir, de->d_name);
		else if (S_ISDIR(st.st_mode) && depth == 0) {
			char *sub;

			if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
				rc = -1;
			else {
				rc = scan(f, sub, depth + 1);
				free(sub);
			}
		}
	}
	closedir(d);
	return rc;
}

/* Undo the octal escapes (\040 for a space) of /proc/self/mounts. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

static int
under(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	return strncmp(path, root, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
bdl_usb_find(const char *mounts, const char *const *roots,
    const char *const *paths, char ***found, char **cause)
{
	struct found f = { NULL, 0 };
	const char *user = getenv("USER");
	const char *defroots[4];
	char *runmedia = NULL, line[MAX_LINE];
	struct passwd *pw;
	FILE *fp;
	int rc = BDL_ENOMEM, nmounts = 0;

	if (user == NULL || *user == '\0' || strchr(user, '/') != NULL)
		user = (pw = getpwuid(geteuid())) != NULL ? pw->pw_name : "";
	if (roots == NULL) {
		if (asprintf(&runmedia, "/run/media/%s", user) < 0)
			return BDL_ENOMEM;
		defroots[0] = "/media";
		defroots[1] = runmedia;
		defroots[2] = "/mnt";
		defroots[3] = NULL;
		roots = defroots;
	}
	if ((f.v = calloc(1, sizeof(*f.v))) == NULL)
		goto out;
	if (mounts != NULL && (fp = fopen(mounts, "re")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL &&
		    nmounts++ < MAX_MOUNTS) {
			char *save = NULL, *mnt;

			if (strtok_r(line, " \t\n", &save) == NULL ||
			    (mnt = strtok_r(NULL, " \t\n", &save)) == NULL)
				continue;
			unescape(mnt);
			for (size_t i = 0; roots[i] != NULL; i++)
				if (under(mnt, roots[i])) {
					if (scan(&f, mnt, 0) < 0) {
						fclose(fp);
						goto out;
					}
					break;
				}
		}
		fclose(fp);
	}
	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
		struct stat st;

		if (stat(paths[i], &st) < 0) {
			bdl_cause(cause, "%s: %s", paths[i], strerror(errno));
			rc = BDL_ENOENT;
			goto out;
		}
		if ((S_ISDIR(st.st_mode) ? scan(&f, paths[i], 0) :
		    add(&f, paths[i], NULL)) < 0)
			goto out;
	}
	qsort(f.v, f.n, sizeof(*f.v), cmp_str);
	/* The same stick can be mounted twice, or given by hand too. */
	for (size_t i = 1, k = 1; i <= f.n; i++) {
		if (i == f.n) {
			f.n = f.n == 0 ? 0 : k;
			f.v[f.n] = NULL;
			break;
		}
		if (strcmp(f.v[i], f.v[k - 1]) == 0)
			free(f.v[i]);
		else
			f.v[k++] = f.v[i];
	}
	*found = f.v;	/* transferred */
	f.v = NULL;
	rc = 0;
out:
	bdl_strv_free(f.v);
	free(runmedia);
	return rc;
}
