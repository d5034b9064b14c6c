/*
 * store.c - installed versions, the atomic switch, rollback and clean-up.
 *
 * Layout of the store directory (DATADIR/bundles, mode 0700):
 *
 *   lock                 flock'd by whoever changes the store
 *   state.json           per bundle: kind, active and last-known-good
 *                        version, the kept versions with signer, signing
 *                        time and flags.  The only commit point.
 *   versions/NAME/DIR/   one directory per installed version (DIR is the
 *                        version, or VERSION~N for a re-install), files
 *                        0444, never changed after the switch; beside the
 *                        payload, .install.json records who signed it and
 *                        when (no bundle path starts with '.')
 *   lost+found/NAME/DIR  what recovery could neither adopt nor prove to
 *                        be debris: moved here, never deleted
 *   staging/             private (0700): the unnamed staged copy of the
 *                        archive and import-XXXXXX/ while extracting
 *
 * An import extracts and fsyncs everything into staging/import-XXXXXX,
 * renames it to versions/NAME/DIR, fsyncs versions/NAME, and then
 * replaces state.json (temp file, fsync, rename, fsync the directory).
 * Until that rename the old state is the truth; after it, the new one.
 * Recovery, the first thing every writer does under the lock:
 *   - staging/ and state.json.tmp are debris of an interrupted run: removed.
 *   - For a bundle the state names, a version directory it does not name is
 *     an interrupted import or clean-up: removed.
 *   - A bundle the state lists under "removed" (`bundle remove` was cut
 *     short before its files were gone): its directory is removed.
 *   - A bundle the state does not know at all means the state was lost or
 *     damaged (a missing state.json, or one that lists no bundles), never
 *     a crash of ours: each of its version directories whose files match
 *     its manifest and whose manifest matches its .install.json is adopted
 *     into the state again; anything else is moved to lost+found/.  A
 *     complete version is never deleted because the state forgot it.
 * Every removal, adoption and move is written to the audit log.  A
 * state.json that does not parse is not guessed at: writers refuse and
 * leave everything as it is.  Readers (triage analyze) read state.json
 * without the lock; they see the old or the new file.
 *
 * Kept: the active version, the last-known-good one and at most one more
 * (the newest other); older ones are removed after the state switch.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define STATE_FORMAT	1
#define MAX_STATE	(4 * 1024 * 1024)
#define MAX_BUNDLES	256
#define MAX_REINSTALL	100		/* VERSION~2 .. VERSION~100 */
#define RMTREE_DEPTH	16
#define VREC		".install.json"	/* per-version install record */
#define VREC_TMP	".install.json.tmp"
#define MAX_VREC	(64 * 1024)
#define MAX_DIRENTS	4096		/* entries recovery looks at per dir */
#define LOST_FOUND	"lost+found"

struct version_rec {
	char		*dir;		/* under versions/NAME */
	char		*version;
	char		*signer, *signer_uid;
	char		*model;		/* relative path of the model, or NULL */
	int64_t		 signed_at, installed;
	bool		 downgrade, bad;
};

struct entry {
	char		*name;
	enum bdl_kind	 kind;
	char		*active, *lkg;	/* dir names, or NULL */
	uint64_t	 activated;	/* state seq when made active */
	struct version_rec *v;		/* install order, oldest first */
	size_t		 nv;
};

struct bdl_store {
	char		*dir, *versions, *staging, *state_path, *lock_path;
	char		*audit;
	int		 lockfd;
	uint64_t	 seq;
	struct entry	*e;
	size_t		 n;
	char		**removed;	/* names whose removal may be unfinished */
	size_t		 nremoved;
	bdl_note_fn	 note;		/* what recovery did, for the user */
	void		*note_arg;
};

static bdl_fault_fn fault_hook;

void
bdl_set_fault_hook(bdl_fault_fn fn)
{
	fault_hook = fn;
}

int
bdl_fault(const char *point)
{
	if (fault_hook != NULL && fault_hook(point) != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* ---- file-system helpers --------------------------------------------------- */

int
bdl_fsync_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
rmtree_depth(int at, const char *name, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0);
	if (depth > RMTREE_DEPTH)
		return -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rmtree_depth(dirfd(d), de->d_name, depth + 1) < 0)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int
bdl_rmtree_at(int dirfd, const char *name)
{
	return rmtree_depth(dirfd, name, 0);
}

int
bdl_mkdirs(const char *path, unsigned mode)
{
	char buf[4096], *p;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int
bdl_write_atomic(const char *path, const char *data, size_t len,
    char **cause)
{
	char *tmp = NULL, *dir = NULL;
	int fd = -1, rc = BDL_EIO;
	size_t off = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0 || (dir = dir_of(path)) == NULL) {
		free(dir);
		return BDL_ENOMEM;
	}
	/* A stale temp file from a crash is simply truncated. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (bdl_fault("atomic-fsync") < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (bdl_fault("atomic-rename") < 0 || rename(tmp, path) < 0)
		goto fail;
	if (bdl_fault("atomic-dirsync") < 0 || bdl_fsync_dir(AT_FDCWD, dir) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	bdl_cause(cause, "writing %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return rc;
}

/* ---- state.json ------------------------------------------------------------ */

static void
version_clear(struct version_rec *v)
{
	free(v->dir);
	free(v->version);
	free(v->signer);
	free(v->signer_uid);
	free(v->model);
	memset(v, 0, sizeof(*v));
}

static void
entry_clear(struct entry *e)
{
	for (size_t j = 0; j < e->nv; j++)
		version_clear(&e->v[j]);
	free(e->v);
	free(e->name);
	free(e->active);
	free(e->lkg);
	memset(e, 0, sizeof(*e));
}

static void
state_clear(struct bdl_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		entry_clear(&s->e[i]);
	free(s->e);
	s->e = NULL;
	s->n = 0;
	s->seq = 0;
	for (size_t i = 0; i < s->nremoved; i++)
		free(s->removed[i]);
	free(s->removed);
	s->removed = NULL;
	s->nremoved = 0;
}

static struct version_rec *
find_version(const struct entry *e, const char *dir)
{
	for (size_t j = 0; dir != NULL && j < e->nv; j++)
		if (strcmp(e->v[j].dir, dir) == 0)
			return &e->v[j];
	return NULL;
}

/* VERSION or VERSION~N. */
static int
dirname_ok(const char *d)
{
	char buf[64];
	const char *tilde = strchr(d, '~');
	size_t n = tilde != NULL ? (size_t)(tilde - d) : strlen(d);

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, d, n);
	buf[n] = '\0';
	if (bdl_version_cmp(buf, "0.0.0") == BDL_VERSION_BAD)
		return 0;
	if (tilde != NULL) {
		if (tilde[1] < '1' || tilde[1] > '9')
			return 0;
		for (const char *p = tilde + 1; *p; p++)
			if (*p < '0' || *p > '9' || p - tilde > 3)
				return 0;
	}
	return 1;
}

static char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int	hex_ok(const char *, size_t);
static int	dir_is_version(const char *dir, const char *version);

static int
state_parse(struct bdl_store *s, json_t *root, char **cause)
{
	json_t *arr, *b, *vs, *v;
	size_t i, j;

	if (!json_is_object(root) ||
	    json_integer_value(json_object_get(root, "format")) != STATE_FORMAT ||
	    !json_is_array(arr = json_object_get(root, "bundles")) ||
	    json_array_size(arr) > MAX_BUNDLES) {
		bdl_cause(cause, "%s is damaged: not a format %d state file",
		    s->state_path, STATE_FORMAT);
		return BDL_EFORMAT;
	}
	s->seq = (uint64_t)json_integer_value(json_object_get(root, "seq"));
	if (json_array_size(arr) > 0 &&
	    (s->e = calloc(json_array_size(arr), sizeof(*s->e))) == NULL)
		return BDL_ENOMEM;
	json_array_foreach(arr, i, b) {
		struct entry *e = &s->e[i];
		const char *kind = json_string_value(json_object_get(b, "kind"));

		s->n = i + 1;
		e->name = jstr(b, "name");
		e->active = jstr(b, "active");
		e->lkg = jstr(b, "lkg");
		e->activated = (uint64_t)json_integer_value(json_object_get(b,
		    "activated"));
		e->kind = kind == NULL ? 0 : strcmp(kind, "playbooks") == 0 ?
		    BDL_KIND_PLAYBOOKS : strcmp(kind, "model") == 0 ?
		    BDL_KIND_MODEL : strcmp(kind, "both") == 0 ? BDL_KIND_BOTH : 0;
		vs = json_object_get(b, "versions");
		if (e->name == NULL || bdl_name_problem(e->name) != NULL ||
		    e->kind == 0 || !json_is_array(vs) ||
		    json_array_size(vs) == 0 || json_array_size(vs) > 64)
			goto bad;
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->e[k].name, e->name) == 0)
				goto bad;
		if ((e->v = calloc(json_array_size(vs), sizeof(*e->v))) == NULL)
			return BDL_ENOMEM;
		json_array_foreach(vs, j, v) {
			struct version_rec *r = &e->v[j];

			e->nv = j + 1;
			r->dir = jstr(v, "dir");
			r->version = jstr(v, "version");
			r->signer = jstr(v, "signer");
			r->signer_uid = jstr(v, "signer_uid");
			r->model = jstr(v, "model");
			r->signed_at = json_integer_value(json_object_get(v,
			    "signed"));
			r->installed = json_integer_value(json_object_get(v,
			    "installed"));
			r->downgrade = json_is_true(json_object_get(v,
			    "downgrade"));
			r->bad = json_is_true(json_object_get(v, "bad"));
			/* Checked, not only present: these strings are
			 * printed, and a version must be its directory's. */
			if (r->dir == NULL || !dirname_ok(r->dir) ||
			    r->version == NULL || r->signer == NULL ||
			    !dir_is_version(r->dir, r->version) ||
			    !(hex_ok(r->signer, 40) || hex_ok(r->signer, 64)) ||
			    (r->model != NULL && bdl_path_problem(r->model)))
				goto bad;
			if (find_version(e, r->dir) != r)
				goto bad;
		}
		if (e->active == NULL || find_version(e, e->active) == NULL ||
		    (e->lkg != NULL && find_version(e, e->lkg) == NULL))
			goto bad;
	}
	/* Optional: names whose `bundle remove` may not have finished. */
	arr = json_object_get(root, "removed");
	if (arr != NULL && (!json_is_array(arr) ||
	    json_array_size(arr) > MAX_BUNDLES))
		goto bad;
	if (json_array_size(arr) > 0 && (s->removed =
	    calloc(json_array_size(arr), sizeof(*s->removed))) == NULL)
		return BDL_ENOMEM;
	json_array_foreach(arr, i, v) {
		const char *nm = json_string_value(v);

		if (nm == NULL || bdl_name_problem(nm) != NULL ||
		    (s->removed[s->nremoved] = strdup(nm)) == NULL)
			goto bad;
		s->nremoved++;
	}
	return 0;
bad:
	bdl_cause(cause, "%s is damaged: bundle entry %zu is inconsistent",
	    s->state_path, s->n);
	return BDL_EFORMAT;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

static int	state_take(struct bdl_store *, json_t *root,
		    const json_error_t *err, char **cause);

static int
state_load(struct bdl_store *s, char **cause)
{
	json_error_t err;
	json_t *root;
	struct stat st;
	int fd;

	state_clear(s);
	fd = open(s->state_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		bdl_cause(cause, "%s: %s", s->state_path, strerror(errno));
		return BDL_EIO;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_STATE) {
		close(fd);
		bdl_cause(cause, "%s is not a regular file under 4 MiB",
		    s->state_path);
		return BDL_EFORMAT;
	}
	root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &err);
	close(fd);
	return state_take(s, root, &err, cause);
}

int
bdl_store_state_parse(struct bdl_store *s, const char *buf, size_t len,
    char **cause)
{
	json_error_t err;

	state_clear(s);
	if (len > MAX_STATE) {
		bdl_cause(cause, "%s is not a regular file under 4 MiB",
		    s->state_path);
		return BDL_EFORMAT;
	}
	return state_take(s, json_loadb(buf, len, JSON_REJECT_DUPLICATES,
	    &err), &err, cause);
}

/* The parsed state.json (root NULL: it did not parse, see *err). */
static int
state_take(struct bdl_store *s, json_t *root, const json_error_t *err,
    char **cause)
{
	int rc;

	if (root == NULL) {
		bdl_cause(cause, "%s is damaged: line %d: %s; nothing was "
		    "changed (move it aside and run the command again to "
		    "rebuild it from the installed versions, see "
		    "triage-bundle(5))", s->state_path, err->line, err->text);
		return BDL_EFORMAT;
	}
	rc = state_parse(s, root, cause);
	json_decref(root);
	if (rc < 0) {
		state_clear(s);
		if (rc == BDL_EFORMAT && cause != NULL && *cause != NULL) {
			char *was = *cause;

			*cause = NULL;
			bdl_cause(cause, "%s; nothing was changed (move it "
			    "aside and run the command again to rebuild it from "
			    "the installed versions, see triage-bundle(5))",
			    was);
			free(was);
		}
		return rc;
	}
	if (s->n > 1)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
	return 0;
}

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
state_save(struct bdl_store *s, char **cause)
{
	json_t *root, *arr, *b, *vs;
	char *text;
	int rc;

	root = json_object();
	arr = json_array();
	if (root == NULL || arr == NULL)
		goto nomem;
	json_object_set_new(root, "format", json_integer(STATE_FORMAT));
	json_object_set_new(root, "seq", json_integer((json_int_t)s->seq));
	json_object_set_new(root, "bundles", arr);
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->e[i];

		b = json_pack("{s:s, s:s, s:o, s:o, s:I}", "name", e->name,
		    "kind", bdl_kind_name(e->kind), "active",
		    jstr_or_null(e->active), "lkg", jstr_or_null(e->lkg),
		    "activated", (json_int_t)e->activated);
		vs = json_array();
		if (b == NULL || vs == NULL || json_array_append_new(arr, b) < 0)
			goto nomem;
		json_object_set_new(b, "versions", vs);
		for (size_t j = 0; j < e->nv; j++) {
			const struct version_rec *r = &e->v[j];
			json_t *v = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, "
			    "s:I, s:b, s:b}", "dir", r->dir, "version",
			    r->version, "signer", r->signer, "signer_uid",
			    jstr_or_null(r->signer_uid), "model",
			    jstr_or_null(r->model), "signed",
			    (json_int_t)r->signed_at, "installed",
			    (json_int_t)r->installed, "downgrade", r->downgrade,
			    "bad", r->bad);

			if (v == NULL || json_array_append_new(vs, v) < 0)
				goto nomem;
		}
	}
	if (s->nremoved > 0) {
		json_t *rm = json_array();

		if (rm == NULL || json_object_set_new(root, "removed", rm) < 0)
			goto nomem;
		for (size_t i = 0; i < s->nremoved; i++)
			if (json_array_append_new(rm,
			    json_string(s->removed[i])) < 0)
				goto nomem;
	}
	if ((text = json_dumps(root, JSON_INDENT(1))) == NULL)
		goto nomem;
	json_decref(root);
	rc = bdl_write_atomic(s->state_path, text, strlen(text), cause);
	free(text);
	return rc;
nomem:
	json_decref(root);
	return BDL_ENOMEM;
}

/* ---- opening and locking --------------------------------------------------- */

void
bdl_store_free(struct bdl_store *s)
{
	if (s == NULL)
		return;
	if (s->lockfd >= 0)
		close(s->lockfd);
	state_clear(s);
	free(s->dir);
	free(s->versions);
	free(s->staging);
	free(s->state_path);
	free(s->lock_path);
	free(s->audit);
	free(s);
}

static int
store_paths(struct bdl_store *s, const char *dir, const char *audit)
{
	s->lockfd = -1;
	if ((s->dir = strdup(dir)) == NULL ||
	    asprintf(&s->versions, "%s/versions", dir) < 0 ||
	    asprintf(&s->staging, "%s/staging", dir) < 0 ||
	    asprintf(&s->state_path, "%s/state.json", dir) < 0 ||
	    asprintf(&s->lock_path, "%s/lock", dir) < 0 ||
	    (audit != NULL && (s->audit = strdup(audit)) == NULL))
		return -1;
	return 0;
}

int
bdl_store_open(const char *dir, const char *audit, int flags,
    struct bdl_store **out, char **cause)
{
	struct bdl_store *s;
	struct stat st;
	int rc = BDL_EIO;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return BDL_ENOMEM;
	if (store_paths(s, dir, audit) < 0) {
		rc = BDL_ENOMEM;
		goto out;
	}
	if (flags & BDL_STORE_CREATE) {
		if (bdl_mkdirs(dir, 0700) < 0 ||
		    (mkdir(s->versions, 0755) < 0 && errno != EEXIST) ||
		    (mkdir(s->staging, 0700) < 0 && errno != EEXIST)) {
			bdl_cause(cause, "creating the store in %s: %s", dir,
			    strerror(errno));
			goto out;
		}
		/* The store holds what gets trusted: it must be ours. */
		if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
			bdl_cause(cause, "%s must be a directory owned by this "
			    "user and writable only by it", dir);
			goto out;
		}
	}
	if ((rc = state_load(s, cause)) < 0)
		goto out;
	*out = s;	/* transferred */
	s = NULL;
	rc = 0;
out:
	bdl_store_free(s);
	return rc;
}

const char *
bdl_store_staging(const struct bdl_store *s)
{
	return s->staging;
}

static int	recover(struct bdl_store *, char **cause);
static void	audit(struct bdl_store *, const char *event, const char *name,
		    const char *version, const char *signer, int rc,
		    const char *reason, const char *override);

void
bdl_store_set_note(struct bdl_store *s, bdl_note_fn fn, void *arg)
{
	s->note = fn;
	s->note_arg = arg;
}

static int
lock_store(struct bdl_store *s, char **cause)
{
	int rc;

	if (s->lockfd >= 0)
		return 0;
	if (bdl_mkdirs(s->dir, 0700) < 0 ||
	    (mkdir(s->versions, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(s->staging, 0700) < 0 && errno != EEXIST)) {
		bdl_cause(cause, "creating the store in %s: %s", s->dir,
		    strerror(errno));
		return BDL_EIO;
	}
	s->lockfd = open(s->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		bdl_cause(cause, "%s: %s", s->lock_path, strerror(errno));
		return BDL_EIO;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		bdl_cause(cause, errno == EWOULDBLOCK ? "another triage is "
		    "changing the bundle store (%s); try again when it is done" :
		    "locking %s failed", s->lock_path);
		close(s->lockfd);
		s->lockfd = -1;
		return BDL_EBUSY;
	}
	/* What we read before may be stale: re-read under the lock. */
	if ((rc = state_load(s, cause)) < 0) {
		close(s->lockfd);
		s->lockfd = -1;
		return rc;
	}
	if ((rc = recover(s, cause)) < 0) {
		close(s->lockfd);
		s->lockfd = -1;
		return rc;
	}
	return 0;
}

static void
unlock_store(struct bdl_store *s)
{
	if (s->lockfd >= 0) {
		close(s->lockfd);	/* releases the flock */
		s->lockfd = -1;
	}
}

int
bdl_store_recover(struct bdl_store *s, char **cause)
{
	struct stat st;
	int rc;

	/* No store yet: nothing to recover, and nothing to create. */
	if (lstat(s->versions, &st) < 0 && errno == ENOENT)
		return 0;
	rc = lock_store(s, cause);
	unlock_store(s);
	return rc;
}

/* ---- queries --------------------------------------------------------------- */

size_t
bdl_store_count(const struct bdl_store *s)
{
	return s->n;
}

const char *
bdl_store_name(const struct bdl_store *s, size_t i)
{
	return i < s->n ? s->e[i].name : NULL;
}

enum bdl_kind
bdl_store_kind(const struct bdl_store *s, size_t i)
{
	return i < s->n ? s->e[i].kind : 0;
}

const char *
bdl_store_active(const struct bdl_store *s, size_t i)
{
	const struct version_rec *r;

	if (i >= s->n || (r = find_version(&s->e[i], s->e[i].active)) == NULL)
		return NULL;
	return r->version;
}

const char *
bdl_store_lkg(const struct bdl_store *s, size_t i)
{
	const struct version_rec *r;

	if (i >= s->n || (r = find_version(&s->e[i], s->e[i].lkg)) == NULL)
		return NULL;
	return r->version;
}

size_t
bdl_store_nversions(const struct bdl_store *s, size_t i)
{
	return i < s->n ? s->e[i].nv : 0;
}

const char *
bdl_store_version(const struct bdl_store *s, size_t i, size_t j,
    const char **signer, int64_t *signed_at, bool *downgrade, bool *bad)
{
	const struct version_rec *r;

	if (i >= s->n || j >= s->e[i].nv)
		return NULL;
	r = &s->e[i].v[j];
	if (signer != NULL)
		*signer = r->signer;
	if (signed_at != NULL)
		*signed_at = r->signed_at;
	if (downgrade != NULL)
		*downgrade = r->downgrade;
	if (bad != NULL)
		*bad = r->bad;
	return r->version;
}

int
bdl_store_find(const struct bdl_store *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0)
			return (int)i;
	return -1;
}

char *
bdl_store_active_dir(const struct bdl_store *s, size_t i)
{
	char *p;

	if (i >= s->n || s->e[i].active == NULL ||
	    asprintf(&p, "%s/%s/%s", s->versions, s->e[i].name,
	    s->e[i].active) < 0)
		return NULL;
	return p;
}

void
bdl_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
bdl_store_active_paths(const char *dir, char ***dirs, char **model,
    char **model_bundle, char **cause)
{
	struct bdl_store *s;
	char **v = NULL;
	const struct entry *best = NULL;
	size_t n = 0;
	int rc;

	*dirs = NULL;
	if (model != NULL)
		*model = NULL;
	if (model_bundle != NULL)
		*model_bundle = NULL;
	if ((rc = bdl_store_open(dir, NULL, 0, &s, cause)) < 0)
		return rc;
	rc = BDL_ENOMEM;
	if ((v = calloc(s->n + 1, sizeof(*v))) == NULL)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->e[i];
		const struct version_rec *r = find_version(e, e->active);

		if ((e->kind & BDL_KIND_PLAYBOOKS) &&
		    asprintf(&v[n++], "%s/%s/%s/playbooks", s->versions, e->name,
		    e->active) < 0) {
			v[--n] = NULL;
			goto out;
		}
		if ((e->kind & BDL_KIND_MODEL) && r != NULL && r->model != NULL &&
		    (best == NULL || e->activated > best->activated))
			best = e;
	}
	if (best != NULL) {
		const struct version_rec *r = find_version(best, best->active);

		if (model != NULL && asprintf(model, "%s/%s/%s/%s", s->versions,
		    best->name, best->active, r->model) < 0) {
			*model = NULL;
			goto out;
		}
		if (model_bundle != NULL &&
		    (*model_bundle = strdup(best->name)) == NULL)
			goto out;
	}
	*dirs = v;	/* transferred */
	v = NULL;
	rc = 0;
out:
	bdl_strv_free(v);
	bdl_store_free(s);
	return rc;
}

/* ---- audit ----------------------------------------------------------------- */

static void
audit(struct bdl_store *s, const char *event, const char *name,
    const char *version, const char *signer, int rc, const char *reason,
    const char *override)
{
	struct bdl_audit a = {
		.event = event, .bundle = name, .version = version,
		.signer = signer, .reason = reason, .override = override,
		.result = rc == 0 ? "ok" : (rc == BDL_ESIG || rc == BDL_EFORMAT ||
		    rc == BDL_EREFUSED || rc == BDL_ECHECK ||
		    rc == BDL_ENOENT) ? "refused" : "failed",
	};

	if (s->audit != NULL)
		(void)bdl_audit_append(s->audit, &a, NULL);
}

/* ---- checking installed files ---------------------------------------------- */

static int
read_small(int dirfd, const char *name, size_t max, char **buf, size_t *len)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t r;

	*buf = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max ||
	    (*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	r = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (r != st.st_size) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[r] = '\0';
	*len = (size_t)r;
	return 0;
}

static int
hash_file(int dirfd, const char *path, uint64_t *size, unsigned char d[32])
{
	gcry_md_hd_t md;
	struct stat st;
	char *buf;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (buf = malloc(BDL_IO_CHUNK)) == NULL) {
		close(fd);
		return -1;
	}
	if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
		free(buf);
		close(fd);
		return -1;
	}
	*size = 0;
	while ((r = read(fd, buf, BDL_IO_CHUNK)) > 0) {
		gcry_md_write(md, buf, (size_t)r);
		*size += (uint64_t)r;
	}
	if (r == 0) {
		memcpy(d, gcry_md_read(md, GCRY_MD_SHA256), 32);
		rc = 0;
	}
	gcry_md_close(md);
	free(buf);
	close(fd);
	return rc;
}

/* What an unexpected directory entry is, for the message. */
static const char *
extra_kind(mode_t mode)
{
	return S_ISLNK(mode) ? "a symbolic link" : S_ISDIR(mode) ?
	    "a directory" : S_ISFIFO(mode) ? "a named pipe" : S_ISSOCK(mode) ?
	    "a socket" : S_ISCHR(mode) || S_ISBLK(mode) ? "a device node" :
	    S_ISREG(mode) ? "a file" : "of an unknown type";
}

/*
 * Count files below fd (depth <= 2) not listed in the manifest; each is
 * one line to `note` and the first (malloc'd) to *first if that is unset.
 */
static size_t
extra_files(int fd, const struct bdl_manifest *m, const char *prefix,
    bdl_note_fn note, void *arg, const char *where, char **first)
{
	struct dirent *de;
	size_t n = 0;
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char path[2 * 256 + 2];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", prefix, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && prefix[0] == '\0') {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char pre[256 + 2];

			if (sub >= 0) {
				snprintf(pre, sizeof(pre), "%s/", de->d_name);
				n += extra_files(sub, m, pre, note, arg, where,
				    first);
				close(sub);
			}
			continue;
		}
		if (strcmp(path, "manifest.json") == 0 || strcmp(path, VREC) == 0 ||
		    (S_ISREG(st.st_mode) && bdl_manifest_lookup(m, path) != NULL))
			continue;
		{
			char *msg;

			if (asprintf(&msg, "%s: unexpected file %s: %s not "
			    "listed in the manifest", where, path,
			    extra_kind(st.st_mode)) >= 0) {
				if (note != NULL)
					note(arg, msg);
				if (first != NULL && *first == NULL)
					*first = msg;
				else
					free(msg);
			}
		}
		n++;
	}
	closedir(d);
	return n;
}

/* Check one installed version: 0 if intact, else the number of problems. */
static int
check_version(struct bdl_store *s, const char *name, const char *dir,
    bdl_note_fn note, void *arg, char **first)
{
	struct bdl_manifest *m = NULL;
	char *where = NULL, *buf = NULL, *msg = NULL;
	size_t len;
	int fd, problems = 0;

	if (asprintf(&where, "%s/%s/%s", s->versions, name, dir) < 0)
		return 1;
#define PROBLEM(...) do {						\
		problems++;						\
		if (asprintf(&msg, __VA_ARGS__) >= 0) {			\
			if (note != NULL)				\
				note(arg, msg);				\
			if (first != NULL && *first == NULL)		\
				*first = msg;				\
			else						\
				free(msg);				\
			msg = NULL;					\
		}							\
	} while (0)
	fd = open(where, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		PROBLEM("%s: %s", where, strerror(errno));
		goto out;
	}
	if (read_small(fd, "manifest.json", BDL_MAX_MANIFEST, &buf, &len) < 0 ||
	    bdl_manifest_parse(buf, len, &m, NULL) < 0) {
		PROBLEM("%s: manifest.json is missing or damaged", where);
		goto out;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct bdl_file *f = &m->files[i];
		unsigned char d[32];
		uint64_t size;

		if (hash_file(fd, f->path, &size, d) < 0)
			PROBLEM("%s: %s is missing or unreadable", where, f->path);
		else if (size != f->size)
			PROBLEM("%s: %s has %llu bytes, the manifest says %llu",
			    where, f->path, (unsigned long long)size,
			    (unsigned long long)f->size);
		else if (memcmp(d, f->digest, 32) != 0)
			PROBLEM("%s: %s does not match its SHA-256", where,
			    f->path);
	}
	problems += (int)extra_files(fd, m, "", note, arg, where, first);
#undef PROBLEM
out:
	if (fd >= 0)
		close(fd);
	bdl_manifest_free(m);
	free(buf);
	free(where);
	return problems;
}

int
bdl_store_check(struct bdl_store *s, bdl_note_fn note, void *arg,
    char **cause)
{
	int problems = 0, rc;

	if (bdl_sha256_init() < 0)
		return BDL_EIO;
	if ((rc = state_load(s, cause)) < 0)
		return rc;
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->e[i].nv; j++)
			problems += check_version(s, s->e[i].name,
			    s->e[i].v[j].dir,
			    note, arg, NULL);
	return problems;
}

/* ---- install records --------------------------------------------------------- */

/*
 * versions/NAME/DIR/.install.json: what state.json says about the version,
 * written into the directory before it is renamed into place, so that the
 * state can be rebuilt if state.json is lost.  The signature cannot be
 * checked again (the archive is not kept); the record holds the signer
 * that import verified, and the SHA-256 of manifest.json ties the record
 * to the manifest, which in turn pins every file.
 */
static int
vrec_write(const char *dir, const char *name, const struct version_rec *r,
    const unsigned char mdigest[32], char **cause)
{
	char hex[65], *path = NULL, *text = NULL;
	json_t *o;
	int rc = BDL_ENOMEM;

	bdl_hex(mdigest, 32, hex);
	o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:b, s:s}",
	    "format", STATE_FORMAT, "name", name, "version", r->version,
	    "signer", r->signer, "signer_uid", jstr_or_null(r->signer_uid),
	    "model", jstr_or_null(r->model), "signed", (json_int_t)r->signed_at,
	    "installed", (json_int_t)r->installed, "downgrade", r->downgrade,
	    "manifest_sha256", hex);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(1))) == NULL ||
	    asprintf(&path, "%s/%s", dir, VREC) < 0) {
		path = NULL;
		goto out;
	}
	rc = bdl_write_atomic(path, text, strlen(text), cause);
out:
	json_decref(o);
	free(text);
	free(path);
	return rc;
}

static int
hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return i == n;
}

/* DIR is VERSION or VERSION~N. */
static int
dir_is_version(const char *dir, const char *version)
{
	size_t n = strlen(version);

	return dirname_ok(dir) && strncmp(dir, version, n) == 0 &&
	    (dir[n] == '\0' || dir[n] == '~');
}

/*
 * Can versions/NAME/DIR be adopted?  0 with *r and *kind filled if its
 * record is well-formed and names it, manifest.json has the recorded
 * SHA-256 and names the same bundle and version, and every file matches
 * the manifest; else -1 with *why (malloc'd) saying what is wrong.
 */
static int
adoptable(struct bdl_store *s, int ndfd, const char *name, const char *dir,
    struct version_rec *r, enum bdl_kind *kind, char **why)
{
	struct bdl_manifest *m = NULL;
	json_error_t jerr;
	json_t *o = NULL, *v;
	char *rbuf = NULL, *mbuf = NULL, hex[65], *first = NULL;
	const char *p;
	unsigned char d[32];
	size_t rlen, mlen;
	int fd, rc = -1;

	memset(r, 0, sizeof(*r));
	*why = NULL;
	fd = openat(ndfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !dirname_ok(dir)) {
		bdl_cause(why, "not a version directory");
		goto out;
	}
	if (read_small(fd, VREC, MAX_VREC, &rbuf, &rlen) < 0) {
		bdl_cause(why, "no readable %s (installed by an older triage?): "
		    "who signed it is not known", VREC);
		goto out;
	}
	o = json_loadb(rbuf, rlen, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o) || json_integer_value(json_object_get(o,
	    "format")) != STATE_FORMAT ||
	    (p = json_string_value(json_object_get(o, "name"))) == NULL ||
	    strcmp(p, name) != 0 ||
	    (p = json_string_value(json_object_get(o, "version"))) == NULL ||
	    !dir_is_version(dir, p) ||
	    (p = json_string_value(json_object_get(o, "signer"))) == NULL ||
	    !(hex_ok(p, 40) || hex_ok(p, 64)) ||
	    !json_is_integer(json_object_get(o, "signed")) ||
	    !json_is_integer(json_object_get(o, "installed")) ||
	    (p = json_string_value(json_object_get(o,
	    "manifest_sha256"))) == NULL || !hex_ok(p, 64) ||
	    ((v = json_object_get(o, "signer_uid")) != NULL &&
	    !json_is_null(v) && (!json_is_string(v) ||
	    strlen(json_string_value(v)) > 255)) ||
	    ((v = json_object_get(o, "model")) != NULL && !json_is_null(v) &&
	    (!json_is_string(v) || bdl_path_problem(json_string_value(v))))) {
		bdl_cause(why, "%s is damaged", VREC);
		goto out;
	}
	if (read_small(fd, "manifest.json", BDL_MAX_MANIFEST, &mbuf,
	    &mlen) < 0) {
		bdl_cause(why, "manifest.json is missing");
		goto out;
	}
	gcry_md_hash_buffer(GCRY_MD_SHA256, d, mbuf, mlen);
	bdl_hex(d, 32, hex);
	if (strcasecmp(hex, json_string_value(json_object_get(o,
	    "manifest_sha256"))) != 0 ||
	    bdl_manifest_parse(mbuf, mlen, &m, NULL) < 0 ||
	    strcmp(m->name, name) != 0 || strcmp(m->version,
	    json_string_value(json_object_get(o, "version"))) != 0 ||
	    (m->model == NULL) != (jstr(o, "model") == NULL ? 1 : 0) ||
	    (m->model != NULL && strcmp(m->model, json_string_value(
	    json_object_get(o, "model"))) != 0)) {
		bdl_cause(why, "manifest.json does not match %s", VREC);
		goto out;
	}
	if (check_version(s, name, dir, NULL, NULL, &first) != 0) {
		bdl_cause(why, "%s", first != NULL ? first : "damaged");
		goto out;
	}
	*kind = m->kind;
	r->dir = strdup(dir);
	r->version = jstr(o, "version");
	r->signer = jstr(o, "signer");
	r->signer_uid = jstr(o, "signer_uid");
	r->model = jstr(o, "model");
	r->signed_at = json_integer_value(json_object_get(o, "signed"));
	r->installed = json_integer_value(json_object_get(o, "installed"));
	r->downgrade = json_is_true(json_object_get(o, "downgrade"));
	if (r->dir == NULL || r->version == NULL || r->signer == NULL ||
	    (m->model != NULL && r->model == NULL)) {
		version_clear(r);
		bdl_cause(why, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	bdl_manifest_free(m);
	json_decref(o);
	free(rbuf);
	free(mbuf);
	free(first);
	return rc;
}

/* ---- recovery ------------------------------------------------------------------ */

/* Tell the user (if anyone listens) and the audit log. */
static void
recovered(struct bdl_store *s, const char *name, const char *version,
    const char *signer, int rc, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
recovered(struct bdl_store *s, const char *name, const char *version,
    const char *signer, int rc, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	audit(s, "recover", name, version, signer, rc, msg, NULL);
	if (s->note != NULL && msg != NULL) {
		char *line;

		if (asprintf(&line, "bundle store: %s", msg) >= 0) {
			s->note(s->note_arg, line);
			free(line);
		}
	}
	free(msg);
}

/* Remove debris `rel` (below the store) at dirfd/leaf, audited. */
static void
drop(struct bdl_store *s, int dirfd, const char *leaf, const char *name,
    const char *rel, const char *why)
{
	int rc = bdl_rmtree_at(dirfd, leaf) < 0 ? BDL_EIO : 0;

	recovered(s, name, NULL, NULL, rc, "%s %s: %s", rc == 0 ? "removed" :
	    "could not remove", rel, why);
}

/*
 * Move versions/NAME/DIR (DIR NULL: all of versions/NAME) to
 * lost+found/NAME/DIR, under a free name; audited.  0 or BDL_EIO.
 */
static int
quarantine(struct bdl_store *s, const char *name, const char *dir,
    const char *why, char **cause)
{
	char *from = NULL, *lf = NULL, *to = NULL;
	struct stat st;
	int rc = BDL_ENOMEM;

	if ((dir != NULL ? asprintf(&from, "%s/%s/%s", s->versions, name,
	    dir) : asprintf(&from, "%s/%s", s->versions, name)) < 0) {
		from = NULL;
		goto out;
	}
	if (asprintf(&lf, "%s/%s/%s", s->dir, LOST_FOUND, name) < 0) {
		lf = NULL;
		goto out;
	}
	rc = BDL_EIO;
	if (bdl_mkdirs(lf, 0700) < 0)
		goto fail;
	for (int n = 1; n <= MAX_REINSTALL; n++) {
		free(to);
		if ((n == 1 ? asprintf(&to, "%s/%s", lf, dir != NULL ? dir :
		    "all") : asprintf(&to, "%s/%s~%d", lf, dir != NULL ? dir :
		    "all", n)) < 0) {
			to = NULL;
			rc = BDL_ENOMEM;
			goto out;
		}
		if (lstat(to, &st) < 0 && errno == ENOENT)
			break;
	}
	if (bdl_fault("recover-move") < 0 || rename(from, to) < 0)
		goto fail;
	recovered(s, name, NULL, NULL, 0, "moved versions/%s%s%s to %s/%s%s "
	    "(kept, not used): %s", name, dir != NULL ? "/" : "",
	    dir != NULL ? dir : "", LOST_FOUND, name, to + strlen(lf), why);
	rc = 0;
	goto out;
fail:
	bdl_cause(cause, "bundle store recovery: cannot move %s to %s: %s; "
	    "nothing was deleted", from, lf, strerror(errno));
	recovered(s, name, NULL, NULL, BDL_EIO, "could not move versions/%s%s%s "
	    "to %s: %s", name, dir != NULL ? "/" : "", dir != NULL ? dir : "",
	    LOST_FOUND, strerror(errno));
out:
	free(from);
	free(lf);
	free(to);
	return rc;
}

/* The names in a directory, sorted (at most MAX_DIRENTS); NULL on error. */
static char **
list_dir(int fd, size_t *n)
{
	char **v = NULL, **nv;
	struct dirent *de;
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	*n = 0;
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL && *n < MAX_DIRENTS) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((nv = realloc(v, (*n + 2) * sizeof(*v))) == NULL) {
			bdl_strv_free(v);
			v = NULL;
			goto out;
		}
		v = nv;
		if ((v[*n] = strdup(de->d_name)) == NULL) {
			bdl_strv_free(v);
			v = NULL;
			goto out;
		}
		v[++*n] = NULL;
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_str);
out:
	closedir(d);
	return v;
}

static int
cmp_installed(const void *a, const void *b)
{
	const struct version_rec *x = a, *y = b;
	int c;

	if (x->installed != y->installed)
		return x->installed < y->installed ? -1 : 1;
	c = bdl_version_cmp(x->version, y->version);
	return c < -1 || c == 0 ? strcmp(x->dir, y->dir) : c;
}

/* A stale .install.json.tmp from a killed write; audited. */
static void
drop_vrec_tmp(struct bdl_store *s, int ndfd, const char *name,
    const char *dir)
{
	struct stat st;
	char leaf[300], rel[400];
	int fd = openat(ndfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstatat(fd, VREC_TMP, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		snprintf(leaf, sizeof(leaf), "%s", VREC_TMP);
		snprintf(rel, sizeof(rel), "versions/%s/%s/%s", name, dir,
		    VREC_TMP);
		drop(s, fd, leaf, name, rel, "left by an interrupted write");
	}
	close(fd);
}

/* Give a named version that has none its install record. */
static void
backfill(struct bdl_store *s, int ndfd, const char *name,
    const struct version_rec *r)
{
	struct stat st;
	char *buf = NULL, *dir = NULL, *c = NULL;
	unsigned char d[32];
	size_t len;
	int fd = openat(ndfd, r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstatat(fd, VREC, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT &&
	    read_small(fd, "manifest.json", BDL_MAX_MANIFEST, &buf, &len) == 0 &&
	    asprintf(&dir, "%s/%s/%s", s->versions, name, r->dir) >= 0) {
		gcry_md_hash_buffer(GCRY_MD_SHA256, d, buf, len);
		(void)vrec_write(dir, name, r, d, &c);
		free(c);
		free(dir);
	}
	free(buf);
	close(fd);
}

/*
 * versions/NAME for a NAME the state does not know: the state lost it.
 * Adopt every version that proves complete; move the rest aside.
 */
static int
adopt(struct bdl_store *s, int vfd, const char *name, int *dirty,
    char **cause)
{
	struct version_rec *c = NULL, *nc;
	enum bdl_kind *kinds = NULL, *nk, kind;
	struct entry *ne, *e;
	char **dirs = NULL, *why = NULL;
	size_t ndirs = 0, nc_ = 0, k;
	int ndfd, rc = 0;

	ndfd = openat(vfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (ndfd < 0 || (dirs = list_dir(ndfd, &ndirs)) == NULL) {
		if (ndfd >= 0)
			close(ndfd);
		return 0;	/* unreadable: leave it alone */
	}
	for (k = 0; k < ndirs; k++) {
		struct version_rec r;

		drop_vrec_tmp(s, ndfd, name, dirs[k]);
		if (bdl_name_problem(name) == NULL && nc_ < 64 &&
		    s->n < MAX_BUNDLES &&
		    adoptable(s, ndfd, name, dirs[k], &r, &kind, &why) == 0) {
			if ((nc = realloc(c, (nc_ + 1) * sizeof(*c))) != NULL)
				c = nc;
			if ((nk = realloc(kinds, (nc_ + 1) *
			    sizeof(*kinds))) != NULL)
				kinds = nk;
			if (nc == NULL || nk == NULL) {
				version_clear(&r);
				rc = BDL_ENOMEM;
				goto out;
			}
			c[nc_] = r;
			kinds[nc_++] = kind;
			continue;
		}
		rc = quarantine(s, name, dirs[k], why != NULL ? why :
		    "too many versions", cause);
		free(why);
		why = NULL;
		if (rc < 0)
			goto out;
	}
	if (nc_ == 0) {
		(void)unlinkat(vfd, name, AT_REMOVEDIR);	/* if empty */
		goto out;
	}
	/* Newest install last: it becomes active, the one before it the
	 * last-known-good (which versions were rolled back from is not
	 * known any more). */
	for (k = 0; k + 1 < nc_; k++)
		for (size_t j = k + 1; j < nc_; j++)
			if (cmp_installed(&c[j], &c[k]) < 0) {
				struct version_rec t = c[j];
				enum bdl_kind tk = kinds[j];

				c[j] = c[k];
				kinds[j] = kinds[k];
				c[k] = t;
				kinds[k] = tk;
			}
	kind = kinds[nc_ - 1];
	for (k = 0; k < nc_; k++)
		if (kinds[k] != kind) {
			/* Two kinds under one name: keep the newest kind. */
			if ((rc = quarantine(s, name, c[k].dir, "of another kind "
			    "than the newest version", cause)) < 0)
				goto out;
			version_clear(&c[k]);
		}
	if ((ne = realloc(s->e, (s->n + 1) * sizeof(*ne))) == NULL) {
		rc = BDL_ENOMEM;
		goto out;
	}
	s->e = ne;
	e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL ||
	    (e->v = calloc(nc_, sizeof(*e->v))) == NULL) {
		free(e->name);
		rc = BDL_ENOMEM;
		goto out;
	}
	s->n++;
	e->kind = kind;
	for (k = 0; k < nc_; k++)
		if (c[k].dir != NULL) {
			e->v[e->nv++] = c[k];
			memset(&c[k], 0, sizeof(c[k]));
		}
	e->active = strdup(e->v[e->nv - 1].dir);
	e->lkg = e->nv > 1 ? strdup(e->v[e->nv - 2].dir) : NULL;
	if (e->active == NULL || (e->nv > 1 && e->lkg == NULL)) {
		rc = BDL_ENOMEM;
		goto out;
	}
	e->activated = ++s->seq;
	*dirty = 1;
	for (k = 0; k < e->nv; k++) {
		const struct version_rec *r = &e->v[k];

		recovered(s, name, r->version, r->signer, 0, "adopted "
		    "versions/%s/%s again (state.json did not list it; its "
		    "files match its manifest and %s)%s", name, r->dir, VREC,
		    strcmp(r->dir, e->active) == 0 ? "; active" :
		    e->lkg != NULL && strcmp(r->dir, e->lkg) == 0 ?
		    "; last-known-good" : "");
	}
out:
	for (k = 0; k < nc_; k++)
		version_clear(&c[k]);
	free(c);
	free(kinds);
	free(why);
	bdl_strv_free(dirs);
	close(ndfd);
	return rc;
}

static int
is_removed(const struct bdl_store *s, const char *name, size_t *at)
{
	for (size_t i = 0; i < s->nremoved; i++)
		if (strcmp(s->removed[i], name) == 0) {
			if (at != NULL)
				*at = i;
			return 1;
		}
	return 0;
}

static void
unremove(struct bdl_store *s, size_t i)
{
	free(s->removed[i]);
	memmove(&s->removed[i], &s->removed[i + 1], (s->nremoved - i - 1) *
	    sizeof(*s->removed));
	s->nremoved--;
}

/*
 * Clean up after an interrupted run and re-adopt what a lost state
 * forgot (see the top of this file).  0, or an error when the state could
 * not be saved or something could not be moved aside; nothing complete is
 * deleted either way.
 */
static int
recover(struct bdl_store *s, char **cause)
{
	char *tmp, **names = NULL, rel[400];
	struct dirent *de;
	struct stat st;
	size_t nnames = 0;
	int vfd = -1, dirty = 0, rc = 0;
	DIR *d;

	if (bdl_sha256_init() < 0) {
		bdl_cause(cause, "bundle store recovery: libgcrypt failed");
		return BDL_EIO;
	}
	if (asprintf(&tmp, "%s.tmp", s->state_path) >= 0) {
		if (unlink(tmp) == 0)
			recovered(s, NULL, NULL, NULL, 0, "removed state.json.tmp: "
			    "left by an interrupted state switch");
		free(tmp);
	}
	if ((d = opendir(s->staging)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0) {
				snprintf(rel, sizeof(rel), "staging/%s",
				    de->d_name);
				drop(s, dirfd(d), de->d_name, NULL, rel,
				    "left by an interrupted import");
			}
		closedir(d);
	}
	vfd = open(s->versions, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (vfd < 0 || (names = list_dir(vfd, &nnames)) == NULL)
		goto done;
	for (size_t i = 0; i < nnames; i++) {
		const char *x = names[i];
		int idx = bdl_store_find(s, x), ndfd;

		if (fstatat(vfd, x, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(rel, sizeof(rel), "versions/%s", x);
		if (!S_ISDIR(st.st_mode)) {
			if (idx < 0)
				drop(s, vfd, x, NULL, rel, "not a directory");
			continue;
		}
		if (idx < 0 && is_removed(s, x, NULL)) {
			drop(s, vfd, x, x, rel, "its `bundle remove` was "
			    "interrupted");
			continue;
		}
		if (idx < 0) {
			if (bdl_name_problem(x) != NULL)
				rc = quarantine(s, x, NULL, "not a bundle name",
				    cause);
			else
				rc = adopt(s, vfd, x, &dirty, cause);
			if (rc < 0)
				goto out;
			continue;
		}
		/* The state names the bundle: it is the truth for it. */
		ndfd = openat(vfd, x, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (ndfd < 0)
			continue;
		{
			size_t nd;
			char **dd = list_dir(ndfd, &nd);

			for (size_t k = 0; dd != NULL && k < nd; k++) {
				const struct version_rec *r =
				    find_version(&s->e[idx], dd[k]);

				if (r == NULL) {
					snprintf(rel, sizeof(rel),
					    "versions/%s/%s", x, dd[k]);
					drop(s, ndfd, dd[k], x, rel, "not in "
					    "state.json (left by an interrupted "
					    "import or clean-up)");
					continue;
				}
				drop_vrec_tmp(s, ndfd, x, dd[k]);
				backfill(s, ndfd, x, r);
			}
			bdl_strv_free(dd);
		}
		close(ndfd);
	}
done:
	/* Removals that finished: forget them. */
	for (size_t i = s->nremoved; i-- > 0;) {
		char *p;

		if (asprintf(&p, "%s/%s", s->versions, s->removed[i]) < 0)
			continue;
		if (lstat(p, &st) < 0 && errno == ENOENT) {
			unremove(s, i);
			dirty = 1;
		}
		free(p);
	}
	if (dirty) {
		if (s->n > 1)
			qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
		if ((rc = state_save(s, cause)) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		/* Back to what is on disk; nothing was deleted that held a
		 * complete version. */
		char *c2 = NULL;

		(void)state_load(s, &c2);
		free(c2);
	}
	bdl_strv_free(names);
	if (vfd >= 0)
		close(vfd);
	return rc;
}

/* ---- import ---------------------------------------------------------------- */

static int
policy(struct bdl_store *s, struct bdl_bundle *b,
    const struct bdl_import_opts *o, struct bdl_import_result *res,
    char **cause)
{
	const struct bdl_manifest *m = b->manifest;
	const struct version_rec *act;
	const struct entry *e;
	char t1[32], t2[32];
	int idx, c, rc;

	if ((rc = bdl_manifest_compat(m, &o->env, cause)) < 0)
		return rc;
	if ((idx = bdl_store_find(s, m->name)) < 0)
		return 0;
	e = &s->e[idx];
	if (e->kind != m->kind) {
		bdl_cause(cause, "%s is installed as a %s bundle; this one is "
		    "of kind %s (remove the old one first)", m->name,
		    bdl_kind_name(e->kind), bdl_kind_name(m->kind));
		return BDL_EREFUSED;
	}
	if ((act = find_version(e, e->active)) == NULL)
		return 0;
	snprintf(res->previous, sizeof(res->previous), "%s", act->version);
	c = bdl_version_cmp(m->version, act->version);
	if (c <= 0) {
		if (!o->allow_downgrade) {
			if (c == 0)
				bdl_cause(cause, "%s %s is already installed "
				    "(use --allow-downgrade to install it "
				    "again)", m->name, m->version);
			else
				bdl_cause(cause, "%s %s is older than the "
				    "installed %s: refused as a downgrade (use "
				    "--allow-downgrade to install it anyway)",
				    m->name, m->version, act->version);
			return BDL_EREFUSED;
		}
		res->downgrade = true;
	}
	/* The clock may be wrong, so compare signing times with each
	 * other, never with now: a bundle signed before the installed one
	 * is a replay or a back-dated release. */
	if (b->signer.time < act->signed_at) {
		if (!o->allow_downgrade) {
			bdl_time_format(b->signer.time, t1, sizeof(t1));
			bdl_time_format(act->signed_at, t2, sizeof(t2));
			bdl_cause(cause, "%s %s was signed at %s, before the "
			    "installed %s (signed at %s): refused as a "
			    "possible replay (use --allow-downgrade to install "
			    "it anyway)", m->name, m->version, t1, act->version,
			    t2);
			return BDL_EREFUSED;
		}
		res->downgrade = true;
	}
	if (res->downgrade && o->note != NULL) {
		char *msg;

		if (asprintf(&msg, "note: installing %s %s over %s as an allowed "
		    "downgrade (recorded in the audit log)", m->name,
		    m->version, act->version) >= 0) {
			o->note(o->arg, msg);
			free(msg);
		}
	}
	return 0;
}

/* Which versions stay: active, lkg, and the newest other one. */
static void
prune_list(struct entry *e, char ***gone, size_t *ngone)
{
	size_t keep_other = (size_t)-1, j, k = 0;

	for (j = e->nv; j-- > 0;)
		if (strcmp(e->v[j].dir, e->active) != 0 &&
		    (e->lkg == NULL || strcmp(e->v[j].dir, e->lkg) != 0)) {
			keep_other = j;
			break;
		}
	*ngone = 0;
	*gone = calloc(e->nv + 1, sizeof(**gone));
	for (j = 0; j < e->nv; j++) {
		struct version_rec *r = &e->v[j];

		if (strcmp(r->dir, e->active) == 0 ||
		    (e->lkg != NULL && strcmp(r->dir, e->lkg) == 0) ||
		    j == keep_other || *gone == NULL) {
			e->v[k++] = *r;
			continue;
		}
		(*gone)[(*ngone)++] = r->dir;
		r->dir = NULL;
		version_clear(r);
	}
	e->nv = k;
}

static char *
pick_dirname(struct bdl_store *s, const char *name, const struct entry *e,
    const char *version)
{
	struct stat st;
	char *d, *p;
	int exists;

	for (int n = 1; n <= MAX_REINSTALL; n++) {
		if ((n == 1 ? asprintf(&d, "%s", version) :
		    asprintf(&d, "%s~%d", version, n)) < 0)
			return NULL;
		if (e != NULL && find_version(e, d) != NULL) {
			free(d);
			continue;
		}
		if (asprintf(&p, "%s/%s/%s", s->versions, name, d) < 0) {
			free(d);
			return NULL;
		}
		exists = lstat(p, &st) == 0;
		free(p);
		if (!exists)
			return d;
		free(d);
	}
	return NULL;
}

static int
commit(struct bdl_store *s, struct bdl_bundle *b, const char *xdir,
    const struct bdl_import_opts *o, struct bdl_import_result *res,
    char **cause)
{
	const struct bdl_manifest *m = b->manifest;
	struct entry *e, *ne;
	struct version_rec *r, *nv;
	char *vname = NULL, *dname = NULL, *target = NULL, **gone = NULL;
	size_t ngone = 0;
	int idx, rc = BDL_EIO, created = 0;

	(void)o;
	/* Verify-then-commit: every flag, from bit 1 up, must be set. */
	if ((b->flags & (BDL_F_STAGED | BDL_F_SIG_OK | BDL_F_MANIFEST_OK |
	    BDL_F_FILES_OK)) != (BDL_F_STAGED | BDL_F_SIG_OK |
	    BDL_F_MANIFEST_OK | BDL_F_FILES_OK)) {
		bdl_cause(cause, "%s: refusing to install an unverified bundle",
		    b->path);
		return BDL_ESIG;
	}
	idx = bdl_store_find(s, m->name);
	e = idx >= 0 ? &s->e[idx] : NULL;
	if (asprintf(&vname, "%s/%s", s->versions, m->name) < 0) {
		rc = BDL_ENOMEM;
		goto out;
	}
	if ((dname = pick_dirname(s, m->name, e, m->version)) == NULL) {
		bdl_cause(cause, "%s %s: too many re-installs", m->name,
		    m->version);
		goto out;
	}
	if (asprintf(&target, "%s/%s", vname, dname) < 0) {
		rc = BDL_ENOMEM;
		goto out;
	}
	if (mkdir(vname, 0755) == 0) {
		if (bdl_fault("switch-mkdir") < 0 ||
		    bdl_fsync_dir(AT_FDCWD, s->versions) < 0)
			goto fail;
	} else if (errno != EEXIST)
		goto fail;
	/* The record that lets a lost state be rebuilt travels with the
	 * files: it is in place before the directory is. */
	{
		/* Only read: the casts do not let anything write. */
		struct version_rec rec = {
			.version = (char *)m->version, .signer = b->signer.fpr,
			.signer_uid = b->signer.uid, .model = (char *)m->model,
			.signed_at = b->signer.time, .installed = time(NULL),
			.downgrade = res->downgrade,
		};

		if ((rc = vrec_write(xdir, m->name, &rec, m->digest,
		    cause)) < 0)
			goto out;
		rc = BDL_EIO;
	}
	if (chmod(xdir, 0755) < 0 || bdl_fault("switch-rename") < 0 ||
	    rename(xdir, target) < 0)
		goto fail;
	created = 1;
	if (bdl_fault("switch-dirsync") < 0 || bdl_fsync_dir(AT_FDCWD, vname) < 0)
		goto fail;

	/* The new state, in memory. */
	if (e == NULL) {
		if ((ne = realloc(s->e, (s->n + 1) * sizeof(*ne))) == NULL)
			goto nomem;
		s->e = ne;
		e = &s->e[s->n++];
		memset(e, 0, sizeof(*e));
		e->kind = m->kind;
		if ((e->name = strdup(m->name)) == NULL)
			goto nomem;
	}
	if ((nv = realloc(e->v, (e->nv + 1) * sizeof(*nv))) == NULL)
		goto nomem;
	e->v = nv;
	r = &e->v[e->nv++];
	memset(r, 0, sizeof(*r));
	if ((r->dir = strdup(dname)) == NULL)
		goto nomem;
	if ((r->version = strdup(m->version)) == NULL ||
	    (r->signer = strdup(b->signer.fpr)) == NULL ||
	    (r->signer_uid = strdup(b->signer.uid)) == NULL ||
	    (m->model != NULL && (r->model = strdup(m->model)) == NULL))
		goto nomem;
	r->signed_at = b->signer.time;
	r->installed = (int64_t)time(NULL);
	r->downgrade = res->downgrade;
	/* The version being replaced ran and passed its own check: it is
	 * the last known good one now. */
	if (e->active != NULL) {
		struct version_rec *old = find_version(e, e->active);

		if (old != NULL && !old->bad) {
			free(e->lkg);
			e->lkg = e->active;
			e->active = NULL;
		}
	}
	free(e->active);
	if ((e->active = strdup(r->dir)) == NULL)
		goto nomem;
	e->activated = ++s->seq;
	{
		size_t at;

		if (is_removed(s, m->name, &at))
			unremove(s, at);
	}
	prune_list(e, &gone, &ngone);
	qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
	if ((rc = state_save(s, cause)) < 0)
		goto fail_state;
	/* Committed.  Clean-up failures only leave debris for recover(). */
	for (size_t i = 0; i < ngone; i++) {
		char *p;

		if (asprintf(&p, "%s/%s", vname, gone[i]) >= 0) {
			if (bdl_fault("gc") == 0)
				(void)bdl_rmtree_at(AT_FDCWD, p);
			free(p);
		}
	}
	rc = 0;
	goto out;
nomem:
	rc = BDL_ENOMEM;
	goto fail_state;
fail:
	bdl_cause(cause, "installing %s %s: %s", m->name, m->version,
	    strerror(errno));
	rc = BDL_EIO;
fail_state:
	/* Back to what is on disk; the new directory is debris, unless the
	 * state file was already renamed and only its flush failed. */
	{
		char *c2 = NULL, *was;
		const struct entry *ce;

		(void)state_load(s, &c2);
		free(c2);
		idx = bdl_store_find(s, m->name);
		ce = idx >= 0 ? &s->e[idx] : NULL;
		if (ce != NULL && ce->active != NULL && dname != NULL &&
		    strcmp(ce->active, dname) == 0) {
			created = 0;
			if (cause != NULL) {
				was = *cause;
				*cause = NULL;
				bdl_cause(cause, "%s %s is active, but the switch "
				    "may not survive a power cut: %s", m->name,
				    m->version, was != NULL ? was : "?");
				free(was);
			}
		}
	}
	if (created)
		(void)bdl_rmtree_at(AT_FDCWD, target);
out:
	for (size_t i = 0; i < ngone; i++)
		free(gone[i]);
	free(gone);
	free(vname);
	free(dname);
	free(target);
	return rc;
}

int
bdl_store_import(struct bdl_store *s, struct bdl_keyring *kr,
    const char *path, const struct bdl_import_opts *o,
    struct bdl_import_result *res, char **cause)
{
	struct bdl_import_result tmp;
	struct bdl_bundle *b = NULL;
	char *xdir = NULL, *why = NULL, *why2 = NULL;
	int xfd = -1, rc;

	if (res == NULL)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	if ((rc = lock_store(s, cause)) < 0)
		goto out;
	if ((rc = bdl_bundle_open(path, s->staging, o->progress, o->arg, &b,
	    cause)) < 0)
		goto out;
	if (o->progress != NULL)
		o->progress(o->arg, BDL_STAGE_VERIFY, 0, b->size);
	if ((rc = bdl_bundle_verify(b, kr, o->note, o->arg, cause)) < 0)
		goto out;
	res->signer = b->signer;
	if (o->progress != NULL)
		o->progress(o->arg, BDL_STAGE_VERIFY, b->size, b->size);
	if ((rc = bdl_bundle_manifest(b, cause)) < 0)
		goto out;
	snprintf(res->name, sizeof(res->name), "%s", b->manifest->name);
	snprintf(res->version, sizeof(res->version), "%s",
	    b->manifest->version);
	if ((rc = policy(s, b, o, res, cause)) < 0)
		goto out;
	rc = BDL_EIO;
	if (asprintf(&xdir, "%s/import-XXXXXX", s->staging) < 0) {
		xdir = NULL;
		rc = BDL_ENOMEM;
		goto out;
	}
	if (mkdtemp(xdir) == NULL || (xfd = open(xdir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0) {
		bdl_cause(cause, "creating %s: %s", xdir, strerror(errno));
		free(xdir);
		xdir = NULL;
		goto out;
	}
	if ((rc = bdl_bundle_extract(b, xfd, o->progress, o->arg, cause)) < 0)
		goto out;
	if (o->check != NULL) {
		if (o->progress != NULL)
			o->progress(o->arg, BDL_STAGE_CHECK, 0, 0);
		if (o->check(o->check_arg, b->manifest, xdir, &why) != 0) {
			bdl_cause(cause, "%s %s failed its self-check and was not "
			    "activated: %s", res->name, res->version,
			    why != NULL ? why : "no reason given");
			rc = BDL_ECHECK;
			goto out;
		}
	}
	if (o->progress != NULL)
		o->progress(o->arg, BDL_STAGE_SWITCH, 0, 0);
	if ((rc = commit(s, b, xdir, o, res, cause)) < 0)
		goto out;
	if (o->progress != NULL)
		o->progress(o->arg, BDL_STAGE_SWITCH, 1, 1);
out:
	if (rc == 0 && res->previous[0] != '\0' &&
	    asprintf(&why2, "replaces %s", res->previous) < 0)
		why2 = NULL;
	if (rc != BDL_EBUSY)
		audit(s, "import", res->name[0] ? res->name : NULL,
		    res->version[0] ? res->version : NULL,
		    res->signer.fpr[0] ? res->signer.fpr : NULL, rc,
		    rc == 0 ? why2 : (cause != NULL ? *cause : NULL),
		    res->downgrade ? "allow-downgrade" : NULL);
	free(why2);
	if (xfd >= 0)
		close(xfd);
	if (xdir != NULL) {
		(void)bdl_rmtree_at(AT_FDCWD, xdir);
		free(xdir);
	}
	free(why);
	bdl_bundle_free(b);
	unlock_store(s);
	return rc;
}

/* ---- rollback and removal -------------------------------------------------- */

int
bdl_store_rollback(struct bdl_store *s, const char *name, const char *event,
    const char *reason, char **cause)
{
	struct version_rec *from, *to, *r;
	struct entry *e;
	char *first = NULL, *msg = NULL, ver[32] = "", signer[65] = "";
	int idx, rc;

	if (event == NULL)
		event = "rollback";
	if ((rc = lock_store(s, cause)) < 0)
		return rc;
	if (bdl_sha256_init() < 0) {
		rc = BDL_EIO;
		goto out;
	}
	rc = BDL_ENOENT;
	if ((idx = bdl_store_find(s, name)) < 0) {
		bdl_cause(cause, "no bundle \"%s\" is installed", name);
		goto out;
	}
	e = &s->e[idx];
	from = find_version(e, e->active);
	to = find_version(e, e->lkg);
	rc = BDL_EREFUSED;
	if (to == NULL) {
		bdl_cause(cause, "%s has no last-known-good version to roll "
		    "back to", name);
		goto out;
	}
	snprintf(ver, sizeof(ver), "%s", to->version);
	snprintf(signer, sizeof(signer), "%s", to->signer);
	/* Do not switch to something damaged since it was installed. */
	if (check_version(s, e->name, to->dir, NULL, NULL, &first) != 0) {
		bdl_cause(cause, "the last-known-good version %s of %s is "
		    "damaged: %s", to->version, name, first != NULL ? first :
		    "its files do not match its manifest");
		goto out;
	}
	if (from != NULL)
		from->bad = true;
	free(e->active);
	e->active = e->lkg;
	e->lkg = NULL;
	/* The next fallback: the newest other version not marked bad. */
	for (size_t j = e->nv; j-- > 0;) {
		r = &e->v[j];
		if (!r->bad && strcmp(r->dir, e->active) != 0) {
			if ((e->lkg = strdup(r->dir)) == NULL) {
				rc = BDL_ENOMEM;
				goto reload;
			}
			break;
		}
	}
	e->activated = ++s->seq;
	if ((rc = state_save(s, cause)) < 0)
		goto reload;
	rc = 0;
	if (from != NULL && asprintf(&msg, "from %s%s%s", from->version,
	    reason != NULL ? ": " : "", reason != NULL ? reason : "") < 0)
		msg = NULL;
	audit(s, event, name, ver, signer, 0, msg != NULL ? msg : reason, NULL);
	goto out_noaudit;
reload:
	{
		char *c2 = NULL;

		(void)state_load(s, &c2);
		free(c2);
	}
out:
	audit(s, event, name, ver[0] ? ver : NULL, signer[0] ? signer : NULL,
	    rc, cause != NULL ? *cause : NULL, NULL);
out_noaudit:
	free(first);
	free(msg);
	unlock_store(s);
	return rc;
}

int
bdl_store_remove(struct bdl_store *s, const char *name, char **cause)
{
	struct entry gone;
	char *p = NULL;
	int idx, rc;

	if ((rc = lock_store(s, cause)) < 0)
		return rc;
	if ((idx = bdl_store_find(s, name)) < 0) {
		bdl_cause(cause, "no bundle \"%s\" is installed", name);
		rc = BDL_ENOENT;
		goto out;
	}
	gone = s->e[idx];
	memmove(&s->e[idx], &s->e[idx + 1], (s->n - (size_t)idx - 1) *
	    sizeof(*s->e));
	s->n--;
	/* Until its files are gone, the state says the bundle was removed:
	 * recovery finishes the job instead of taking the files for a
	 * version the state has lost. */
	if (!is_removed(s, name, NULL)) {
		char **nr = realloc(s->removed, (s->nremoved + 1) *
		    sizeof(*nr));

		if (nr == NULL || (nr[s->nremoved] = strdup(name)) == NULL) {
			if (nr != NULL)
				s->removed = nr;
			entry_clear(&gone);
			(void)state_load(s, NULL);
			rc = BDL_ENOMEM;
			goto out;
		}
		s->removed = nr;
		s->nremoved++;
	}
	if ((rc = state_save(s, cause)) < 0) {
		entry_clear(&gone);
		(void)state_load(s, NULL);
		goto out;
	}
	if (asprintf(&p, "%s/%s", s->versions, name) >= 0 &&
	    bdl_fault("gc") == 0)
		(void)bdl_rmtree_at(AT_FDCWD, p);
	entry_clear(&gone);
	rc = 0;
out:
	audit(s, "remove", name, NULL, NULL, rc, rc == 0 ? NULL :
	    (cause != NULL ? *cause : NULL), NULL);
	free(p);
	unlock_store(s);
	return rc;
}
