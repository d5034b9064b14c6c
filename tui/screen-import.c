/*
 * screen-import.c - the import screen: signed bundles found on mounted
 * removable media and at the paths given, each with its signer and
 * verification status; what importing one would change; the import with
 * a progress bar through the stages copy, verify, extract, check and
 * switch; rollback; the installed versions.  After an import or rollback
 * the playbooks and the model in use switch without a restart.
 *
 * Copying, gpg, hashing, the model self-check and opening a model take
 * seconds on a big bundle, so they run on one worker thread.  The worker
 * touches neither curses nor the app: it appends events to a queue under
 * a mutex and writes a byte to a pipe that the poll() loop watches, as
 * the engine's generator does.  Progress is not queued but overwritten
 * (only the newest matters).  Every string that came from a stick or a
 * key (file names, user ids, changelogs, refusal reasons) goes through
 * text_cells() before it reaches the terminal.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundles/bundle.h"
#include "../engine/engine.h"
#include "../playbooks/playbook.h"
#include "app.h"
#include "tui.h"
#include "metrics.h"

/* Places given with :import PATH, kept for rescans. */
#define IMP_MAX_PATHS	16
/* Changelog lines kept per bundle. */
#define IMP_MAX_CHANGES	8
/* Width of the progress bar, in cells. */
#define IMP_BAR		40
/* Lines the selected bundle's details may take. */
#define IMP_DETAIL	8

enum item_state { IT_WAIT, IT_OK, IT_REFUSED };

/* One bundle file found, and what checking it showed. */
struct item {
	char		*path;
	enum item_state	 state;
	char		*reason;	/* why it is refused */
	char		*note;		/* a warning that does not refuse */
	bool		 signed_ok;	/* the signature was good */
	struct bdl_signer signer;
	char		 name[65], version[32];
	enum bdl_kind	 kind;
	uint64_t	 size;
	char		*model, *license, *provenance;
	char		*changes[IMP_MAX_CHANGES + 1];
};

enum imp_job { JB_NONE, JB_SCAN, JB_IMPORT, JB_ROLLBACK, JB_MODEL };
enum ev_kind { EV_FOUND, EV_ITEM, EV_NOTE, EV_DONE };

struct ev {
	struct ev	*next;
	enum ev_kind	 kind;
	size_t		 index;
	char		**found;	/* EV_FOUND */
	struct item	 item;		/* EV_ITEM */
	char		*text;		/* EV_NOTE; EV_DONE: the cause */
	int		 rc;		/* EV_DONE */
	struct bdl_import_result res;
	struct eng_model *model;	/* EV_DONE of JB_MODEL */
	struct eng_session *sess;
	char		*model_path;
	bool		 fell_back;
};

struct import_ui;

/* What the worker was asked to do; it owns this while it runs. */
struct job {
	enum imp_job	 kind;
	struct import_ui *u;
	char		*datadir;
	char		**paths;	/* JB_SCAN, NULL-terminated */
	char		*arg;		/* a file, bundle name or model */
	char		*bundle;	/* JB_MODEL: the bundle it comes from */
	bool		 allow_downgrade;
};

struct import_ui {
	/* shared with the worker: only under mu */
	pthread_mutex_t	 mu;
	struct ev	*head, *tail;
	enum bdl_stage	 stage;
	uint64_t	 done, total;
	size_t		 cur;		/* the item being checked */
	bool		 cancel;	/* stop scanning (the app ends) */
	bool		 lost_done;	/* no memory for the end event */
	int		 pfd[2];	/* the worker's wake-up pipe */
	/* the UI thread's own */
	pthread_t	 th;
	bool		 running;
	enum imp_job	 job;
	struct item	*items;
	size_t		 nitems;
	bool		 scanning;
	char		*paths[IMP_MAX_PATHS + 1];
	size_t		 npaths;
	char		*want;		/* select this path after a scan */
	size_t		 sel;
	size_t		 top;
	struct bdl_store *store;	/* what is installed (re-read) */
	char		*store_error;
	char		*store_model;	/* "NAME VERSION" of its model */
	/* the last import or rollback, as the screen shows it */
	char		*what;
	enum bdl_stage	 reached;
	bool		 failed;
	char		*result;
	bool		 result_err;
	char		*note;
	/* a question waiting for y */
	enum action	 confirm;
	char		*confirm_text;
	char		*confirm_arg;
	/* an import or rollback asked for while the list is being checked */
	enum action	 queued;
	char		*queued_arg;
	/* after a change: switch the model once the answer has stopped */
	bool		 model_wanted;
	bool		 stop_sent;
	char		*next_path;	/* the model to open */
	char		*model_bundle;	/* its bundle name, for the fallback */
};

/* ---- small helpers ------------------------------------------------------- */

static bool
utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && strcmp(cs, "UTF-8") == 0;
}

static const char *
arrow(void)
{
	return utf8() ? "\xe2\x86\x92" : "->";
}

static char *
xstrdup0(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
item_clear(struct item *it)
{
	free(it->path);
	free(it->reason);
	free(it->note);
	free(it->model);
	free(it->license);
	free(it->provenance);
	for (size_t i = 0; it->changes[i] != NULL; i++)
		free(it->changes[i]);
	memset(it, 0, sizeof(*it));
}

static void
items_free(struct import_ui *u)
{
	for (size_t i = 0; i < u->nitems; i++)
		item_clear(&u->items[i]);
	free(u->items);
	u->items = NULL;
	u->nitems = 0;
}

static void
ev_free(struct ev *e)
{
	strv_free(e->found);
	item_clear(&e->item);
	free(e->text);
	free(e->model_path);
	eng_session_free(e->sess);
	eng_model_free(e->model);
	free(e);
}

static char *
store_dir(const char *datadir)
{
	char *p;

	return asprintf(&p, "%s/bundles", datadir) < 0 ? NULL : p;
}

/* ---- the worker: posting ------------------------------------------------- */

static void
wake(struct import_ui *u)
{
	if (write(u->pfd[1], "", 1) < 0) {
		/* a full pipe: the loop is already awake */
	}
}

/* Takes ownership of e. */
static void
post(struct import_ui *u, struct ev *e)
{
	pthread_mutex_lock(&u->mu);
	if (u->tail != NULL)
		u->tail->next = e;
	else
		u->head = e;
	u->tail = e;
	pthread_mutex_unlock(&u->mu);
	wake(u);
}

static struct ev *
ev_new(enum ev_kind kind)
{
	struct ev *e = calloc(1, sizeof(*e));

	if (e != NULL)
		e->kind = kind;
	return e;
}

static void
post_done(struct import_ui *u, int rc, char *cause,
    const struct bdl_import_result *res)
{
	struct ev *e = ev_new(EV_DONE);

	if (e == NULL) {
		/* the loop must still learn that the job ended */
		free(cause);
		pthread_mutex_lock(&u->mu);
		u->lost_done = true;
		pthread_mutex_unlock(&u->mu);
		wake(u);
		return;
	}
	e->rc = rc;
	e->text = cause;	/* transferred */
	if (res != NULL)
		e->res = *res;
	post(u, e);
}

static void
on_progress(void *arg, enum bdl_stage st, uint64_t done, uint64_t total)
{
	struct import_ui *u = arg;

	pthread_mutex_lock(&u->mu);
	u->stage = st;
	u->done = done;
	u->total = total;
	pthread_mutex_unlock(&u->mu);
	wake(u);
}

static void
on_note(void *arg, const char *line)
{
	struct import_ui *u = arg;
	struct ev *e = ev_new(EV_NOTE);

	if (e == NULL || (e->text = strdup(line)) == NULL) {
		free(e);
		return;
	}
	post(u, e);
}

static void
on_item_note(void *arg, const char *line)
{
	struct item *it = arg;
	char *n;

	if (asprintf(&n, "%s%s%s", it->note ? it->note : "", it->note ? "; " :
	    "", line) < 0)
		return;
	free(it->note);
	it->note = n;
}

static bool
cancelled(struct import_ui *u)
{
	bool c;

	pthread_mutex_lock(&u->mu);
	c = u->cancel;
	pthread_mutex_unlock(&u->mu);
	return c;
}

/* ---- the worker: jobs ---------------------------------------------------- */

/* Check one bundle as `triage bundle scan` does, writing nothing. */
static void
check_one(struct import_ui *u, struct bdl_keyring *kr, const char *stage,
    const char *path, struct item *it)
{
	struct bdl_bundle *b = NULL;
	const struct bdl_manifest *m;
	struct bdl_env env;
	const char *model, *lic = NULL, *prov = NULL;
	char *cause = NULL;
	int r;

	it->path = strdup(path);
	it->state = IT_REFUSED;
	if ((r = bdl_bundle_open(path, stage, on_progress, u, &b, &cause)) < 0)
		goto out;
	it->size = bdl_bundle_size(b);
	on_progress(u, BDL_STAGE_VERIFY, 0, it->size);
	if ((r = bdl_bundle_verify(b, kr, on_item_note, it, &cause)) < 0)
		goto out;
	it->signed_ok = true;
	it->signer = *bdl_bundle_signer(b);
	if ((r = bdl_bundle_manifest(b, &cause)) < 0)
		goto out;
	m = bdl_bundle_get_manifest(b);
	snprintf(it->name, sizeof(it->name), "%s", bdl_manifest_name(m));
	snprintf(it->version, sizeof(it->version), "%s",
	    bdl_manifest_version(m));
	it->kind = bdl_manifest_kind(m);
	if ((model = bdl_manifest_model(m, &lic, &prov)) != NULL) {
		it->model = strdup(model);
		it->license = xstrdup0(lic);
		it->provenance = xstrdup0(prov);
	}
	for (size_t i = 0; i < bdl_manifest_nchanges(m) && i < IMP_MAX_CHANGES;
	    i++)
		it->changes[i] = strdup(bdl_manifest_change(m, i));
	if ((r = bdl_bundle_extract(b, -1, on_progress, u, &cause)) < 0)
		goto out;
	bundle_env(&env);
	if ((r = bdl_manifest_compat(m, &env, &cause)) < 0)
		goto out;
	it->state = IT_OK;
out:
	if (it->state == IT_REFUSED)
		it->reason = cause != NULL ? cause : strdup(bdl_strerror(r));
	else
		free(cause);
	bdl_bundle_free(b);
}

static char *
temp_stage(void)
{
	const char *t = getenv("TMPDIR");
	char *d;

	if (asprintf(&d, "%s/triage-XXXXXX", t != NULL && *t == '/' ? t :
	    "/tmp") < 0)
		return NULL;
	if (mkdtemp(d) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

static void
job_scan(struct job *j)
{
	struct import_ui *u = j->u;
	struct bdl_keyring *kr = NULL;
	char **found = NULL, *cause = NULL, *stage = NULL;
	struct ev *e;
	size_t n;
	int r;

	if ((r = bdl_usb_find("/proc/self/mounts", NULL,
	    (const char *const *)j->paths, &found, &cause)) < 0)
		goto out;
	for (n = 0; found[n] != NULL; n++)
		;
	if ((e = ev_new(EV_FOUND)) == NULL) {
		r = BDL_ENOMEM;
		goto out;
	}
	e->found = found;	/* transferred; the loop below reads its copy */
	found = calloc(n + 1, sizeof(*found));
	for (size_t i = 0; found != NULL && i < n; i++)
		found[i] = strdup(e->found[i]);
	post(u, e);
	if (found == NULL || n == 0)
		goto out;
	if ((r = bdl_keyring_open(j->datadir, &kr, &cause)) < 0)
		goto out;
	if ((stage = temp_stage()) == NULL) {
		r = BDL_EIO;
		cause = strdup("cannot make a private staging directory in "
		    "TMPDIR");
		goto out;
	}
	for (size_t i = 0; i < n && !cancelled(u); i++) {
		if (found[i] == NULL || (e = ev_new(EV_ITEM)) == NULL)
			continue;
		pthread_mutex_lock(&u->mu);
		u->cur = i;
		pthread_mutex_unlock(&u->mu);
		check_one(u, kr, stage, found[i], &e->item);
		e->index = i;
		post(u, e);
	}
	r = 0;
out:
	if (stage != NULL) {
		rmdir(stage);
		free(stage);
	}
	bdl_keyring_free(kr);
	strv_free(found);
	post_done(u, r, cause, NULL);
}

static void
job_import(struct job *j)
{
	struct bdl_keyring *kr = NULL;
	struct bdl_store *s = NULL;
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *dir = store_dir(j->datadir), *audit = NULL, *cause = NULL;
	int r;

	memset(&res, 0, sizeof(res));
	if (dir == NULL || asprintf(&audit, "%s/audit.log", j->datadir) < 0) {
		r = BDL_ENOMEM;
		goto out;
	}
	if ((r = bdl_keyring_open(j->datadir, &kr, &cause)) < 0 ||
	    (r = bdl_store_open(dir, audit, BDL_STORE_CREATE, &s, &cause)) < 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.allow_downgrade = j->allow_downgrade;
	bundle_env(&o.env);
	o.check = bundle_selfcheck;
	o.progress = on_progress;
	o.note = on_note;
	o.arg = j->u;
	r = bdl_store_import(s, kr, j->arg, &o, &res, &cause);
	/* counted as `triage bundle import` counts (tui/metrics.c) */
	if (r < 0)
		metrics_bundle_refused(r);
	else {
		metrics_count("bundle", "imported", NULL, 1);
		metrics_count("active", res.name, res.version, 1);
	}
out:
	bdl_store_free(s);
	bdl_keyring_free(kr);
	free(dir);
	free(audit);
	post_done(j->u, r, cause, &res);
}

static void
job_rollback(struct job *j)
{
	struct bdl_store *s = NULL;
	struct bdl_import_result res;
	char *dir = store_dir(j->datadir), *audit = NULL, *cause = NULL;
	int r, i;

	memset(&res, 0, sizeof(res));
	if (dir == NULL || asprintf(&audit, "%s/audit.log", j->datadir) < 0) {
		r = BDL_ENOMEM;
		goto out;
	}
	if ((r = bdl_store_open(dir, audit, BDL_STORE_CREATE, &s, &cause)) < 0)
		goto out;
	snprintf(res.name, sizeof(res.name), "%s", j->arg);
	if ((i = bdl_store_find(s, j->arg)) >= 0 &&
	    bdl_store_active(s, (size_t)i) != NULL)
		snprintf(res.previous, sizeof(res.previous), "%s",
		    bdl_store_active(s, (size_t)i));
	r = bdl_store_rollback(s, j->arg, "rollback", "by the user, from the "
	    "import screen", &cause);
	if (r == 0)
		metrics_count("bundle", "rollback", "user", 1);
	if (r == 0 && (i = bdl_store_find(s, j->arg)) >= 0 &&
	    bdl_store_active(s, (size_t)i) != NULL) {
		snprintf(res.version, sizeof(res.version), "%s",
		    bdl_store_active(s, (size_t)i));
		metrics_count("active", res.name, res.version, 1);
	}
out:
	bdl_store_free(s);
	free(dir);
	free(audit);
	post_done(j->u, r, cause, &res);
}

/*
 * Open the new model.  If it does not load, its bundle goes back to the
 * last-known-good version (bundle_model_fallback, as `triage ask` does)
 * and that model is opened instead.
 */
static void
job_model(struct job *j)
{
	struct ev *e = ev_new(EV_DONE);
	char *cause = NULL, *back = NULL;

	if (e == NULL) {
		post_done(j->u, BDL_ENOMEM, NULL, NULL);
		return;
	}
	if (assist_open(j->arg, &e->model, &e->sess, &cause) == 0) {
		e->model_path = strdup(j->arg);
		goto out;
	}
	e->rc = -1;
	e->text = cause;
	if (j->bundle == NULL || (back = bundle_model_fallback(j->bundle,
	    cause)) == NULL)
		goto out;
	e->fell_back = true;
	e->model_path = back;
	cause = NULL;
	if (assist_open(back, &e->model, &e->sess, &cause) == 0)
		e->rc = 0;
	else {
		/* keep the first reason: it is why we are here */
		free(cause);
	}
out:
	post(j->u, e);
}

static void
job_free(struct job *j)
{
	strv_free(j->paths);
	free(j->datadir);
	free(j->arg);
	free(j->bundle);
	free(j);
}

static void *
worker(void *arg)
{
	struct job *j = arg;

	switch (j->kind) {
	case JB_SCAN: job_scan(j); break;
	case JB_IMPORT: job_import(j); break;
	case JB_ROLLBACK: job_rollback(j); break;
	case JB_MODEL: job_model(j); break;
	default: post_done(j->u, BDL_EINVAL, NULL, NULL); break;
	}
	job_free(j);
	return NULL;
}

/* ---- the UI thread: starting jobs ---------------------------------------- */

static struct import_ui *
ui_new(void)
{
	struct import_ui *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	if (pipe(u->pfd) != 0) {
		free(u);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(u->pfd[i], F_SETFL, O_NONBLOCK);
		fcntl(u->pfd[i], F_SETFD, FD_CLOEXEC);
	}
	pthread_mutex_init(&u->mu, NULL);
	u->confirm = ACT_NONE;
	u->queued = ACT_NONE;
	return u;
}

/* Takes ownership of j.  0, or -1 with a message shown. */
static int
job_start(struct app *a, struct job *j)
{
	struct import_ui *u = a->imp;
	enum imp_job kind = j->kind;	/* j is the worker's once it runs */
	sigset_t all, old;
	int r;

	if ((j->datadir = path_data_dir()) == NULL) {
		app_message(a, true, "no data directory (set HOME or "
		    "XDG_DATA_HOME): bundles cannot be read or installed");
		job_free(j);
		return -1;
	}
	j->u = u;
	pthread_mutex_lock(&u->mu);
	u->stage = 0;
	u->done = u->total = 0;
	u->cur = 0;
	u->cancel = false;
	pthread_mutex_unlock(&u->mu);
	/* signals stay with the UI thread, whose loop handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&u->th, NULL, worker, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		app_message(a, true, "cannot start the import worker: %s",
		    strerror(r));
		job_free(j);
		return -1;
	}
	u->running = true;
	u->job = kind;
	a->dirty |= D_PAGER | D_STATUS;
	return 0;
}

static struct job *
job_new(enum imp_job kind)
{
	struct job *j = app_xmalloc(sizeof(*j));

	memset(j, 0, sizeof(*j));
	j->kind = kind;
	return j;
}

static void
store_refresh(struct import_ui *u)
{
	char *d = path_data_dir(), *dir = d ? store_dir(d) : NULL;
	char *bundle = NULL, *model;

	bdl_store_free(u->store);
	u->store = NULL;
	free(u->store_error);
	u->store_error = NULL;
	if (dir != NULL)
		(void)bdl_store_open(dir, NULL, 0, &u->store, &u->store_error);
	free(dir);
	free(d);
	free(u->store_model);
	u->store_model = NULL;
	if ((model = bundle_model_path(&bundle)) != NULL)
		u->store_model = import_model_origin(bundle);
	free(model);
	free(bundle);
}

static void
start_scan(struct app *a)
{
	struct import_ui *u = a->imp;
	struct job *j;

	if (u->running)
		return;
	j = job_new(JB_SCAN);
	j->paths = calloc(u->npaths + 1, sizeof(*j->paths));
	for (size_t i = 0; j->paths != NULL && i < u->npaths; i++)
		j->paths[i] = app_xstrdup(u->paths[i]);
	if (job_start(a, j) == 0)
		u->scanning = true;
}

static void
set_result(struct import_ui *u, bool err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_result(struct import_ui *u, bool err, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(u->result);
	u->result = s;
	u->result_err = err;
}

static void
start_import(struct app *a, const char *path, bool downgrade)
{
	struct import_ui *u = a->imp;
	struct job *j = job_new(JB_IMPORT);
	const char *b = strrchr(path, '/');

	j->arg = app_xstrdup(path);
	j->allow_downgrade = downgrade;
	if (job_start(a, j) != 0)
		return;
	free(u->what);
	if (asprintf(&u->what, "importing %s%s", b ? b + 1 : path,
	    downgrade ? " (allowing a downgrade)" : "") < 0)
		u->what = NULL;
	u->reached = BDL_STAGE_COPY;
	u->failed = false;
	free(u->note);
	u->note = NULL;
	set_result(u, false, "working...");
}

static void
start_rollback(struct app *a, const char *name)
{
	struct import_ui *u = a->imp;
	struct job *j = job_new(JB_ROLLBACK);

	j->arg = app_xstrdup(name);
	if (job_start(a, j) != 0)
		return;
	free(u->what);
	if (asprintf(&u->what, "rolling back %s", name) < 0)
		u->what = NULL;
	u->reached = 0;
	u->failed = false;
	set_result(u, false, "checking the last-known-good files...");
}

/* ACT_OPEN (import), ACT_IMPORT_FORCE or ACT_ROLLBACK of `arg`. */
static void
run_now(struct app *a, enum action what, const char *arg)
{
	if (what == ACT_ROLLBACK)
		start_rollback(a, arg);
	else
		start_import(a, arg, what == ACT_IMPORT_FORCE);
}

static void
say_busy(struct app *a)
{
	app_message(a, true, "busy: wait for the work in progress");
}

/* Run it, or after the check of the list that is running. */
static void
run_or_queue(struct app *a, enum action what, const char *arg)
{
	struct import_ui *u = a->imp;

	if (!u->running) {
		run_now(a, what, arg);
		return;
	}
	if (u->job != JB_SCAN) {
		say_busy(a);
		return;
	}
	free(u->queued_arg);
	u->queued_arg = app_xstrdup(arg);
	u->queued = what;
	app_message(a, false, "the %s starts when the bundles are checked",
	    what == ACT_ROLLBACK ? "rollback" : "import");
}

/* ---- after a change: playbooks and model --------------------------------- */

char *
import_model_origin(const char *bundle)
{
	struct bdl_store *s = NULL;
	char *d = path_data_dir(), *dir = d ? store_dir(d) : NULL, *o = NULL;
	int i;

	if (bundle != NULL && dir != NULL &&
	    bdl_store_open(dir, NULL, 0, &s, NULL) == 0 &&
	    (i = bdl_store_find(s, bundle)) >= 0 &&
	    bdl_store_active(s, (size_t)i) != NULL &&
	    asprintf(&o, "%s %s", bundle, bdl_store_active(s, (size_t)i)) < 0)
		o = NULL;
	bdl_store_free(s);
	free(dir);
	free(d);
	return o;
}

/*
 * Does the model in use have to follow the store?  Not if it was given
 * (--model, TRIAGE_MODEL, :model), not if it is the same file, and not if
 * no model was opened yet and the change was to another bundle (the
 * installed model still opens on the first question, as at start-up).
 */
static void
want_model(struct app *a, const char *name)
{
	struct import_ui *u = a->imp;
	char *path, *bundle = NULL;

	if (a->model_pinned || (path = bundle_model_path(&bundle)) == NULL) {
		free(bundle);
		return;
	}
	if ((a->model_path != NULL && strcmp(path, a->model_path) == 0 &&
	    a->model_error == NULL) || (a->model_path == NULL &&
	    (bundle == NULL || strcmp(bundle, name) != 0))) {
		free(path);
		free(bundle);
		return;
	}
	free(u->next_path);
	free(u->model_bundle);
	u->next_path = path;	/* transferred */
	u->model_bundle = bundle;
	u->model_wanted = true;
	u->stop_sent = false;
	/* no new question until the switch is done */
	a->model_switching = true;
}

/* The store changed under bundle `name`: follow it. */
static void
apply_change(struct app *a, const char *name)
{
	struct import_ui *u = a->imp;
	char *cause = NULL;
	int i;

	store_refresh(u);
	i = u->store != NULL ? bdl_store_find(u->store, name) : -1;
	if (i >= 0 && (bdl_store_kind(u->store, (size_t)i) &
	    BDL_KIND_PLAYBOOKS)) {
		if (cards_reload(a, &cause) != 0) {
			app_message(a, true, "%s", cause ? cause : "playbooks");
			free(cause);
		}
	}
	want_model(a, name);
}

void
import_poll(struct app *a)
{
	struct import_ui *u = a->imp;
	struct job *j;

	if (u == NULL || !u->model_wanted || u->running)
		return;
	if (assist_running(a)) {
		/* the answer stops first; we come back when it has */
		if (!u->stop_sent) {
			assist_stop(a);
			app_message(a, false, "stopping the answer: the model "
			    "is being switched");
			u->stop_sent = true;
		}
		return;
	}
	/* close the old model first: two never share the memory */
	assist_unload(a);
	free(a->model_error);
	a->model_error = NULL;
	j = job_new(JB_MODEL);
	free(a->model_path);
	a->model_path = app_xstrdup(u->next_path);
	j->arg = u->next_path;	/* transferred */
	u->next_path = NULL;
	j->bundle = app_xstrdup(u->model_bundle);
	free(a->model_bundle);
	a->model_bundle = import_model_origin(u->model_bundle);
	u->model_wanted = false;
	if (job_start(a, j) != 0)
		a->model_switching = false;
}

/* ---- the UI thread: events ----------------------------------------------- */

int
import_fd(struct app *a)
{
	return a->imp != NULL && a->imp->running ? a->imp->pfd[0] : -1;
}

bool
import_busy(struct app *a)
{
	return a->imp != NULL && a->imp->running;
}

static void
select_path(struct import_ui *u, const char *p)
{
	size_t len = strlen(p);

	for (size_t i = 0; i < u->nitems; i++)
		if (strcmp(u->items[i].path, p) == 0 ||
		    (strncmp(u->items[i].path, p, len) == 0 &&
		    u->items[i].path[len] == '/')) {
			u->sel = i;
			return;
		}
}

/* A new list: keep the selection on the same file (or installed row),
 * unless :import PATH asked for another. */
static void
on_found(struct import_ui *u, char **found)
{
	size_t n = 0, old = u->nitems, sel = u->sel;
	char *keep = sel < old ? u->items[sel].path : NULL;

	while (found[n] != NULL)
		n++;
	if (keep != NULL)
		u->items[sel].path = NULL;	/* kept past items_free */
	items_free(u);
	u->items = calloc(n ? n : 1, sizeof(*u->items));
	if (u->items == NULL) {
		free(keep);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		u->items[i].path = found[i];	/* transferred */
		found[i] = NULL;
	}
	u->nitems = n;
	u->sel = 0;
	if (u->want != NULL) {
		select_path(u, u->want);
		free(u->want);
		u->want = NULL;
	} else if (keep != NULL)
		select_path(u, keep);
	else if (sel >= old)
		u->sel = n + (sel - old);	/* an installed row */
	free(keep);
}

static void
on_model_done(struct app *a, struct ev *e)
{
	struct import_ui *u = a->imp;
	char *origin = import_model_origin(u->model_bundle);

	a->model_switching = false;
	if (e->fell_back)
		store_refresh(u);	/* the fallback moved the version */
	if (e->rc == 0 && e->model != NULL) {
		if (e->fell_back) {
			/* a->model_bundle still names the one that failed */
			set_result(u, true, "fallback: %s did not load (%s); "
			    "switched back to the last-known-good %s",
			    a->model_bundle ? a->model_bundle : "the new model",
			    e->text ? e->text : "?", origin ? origin :
			    "version");
			app_message(a, true, "%s", u->result);
		} else
			app_message(a, false, "model switched to %s", origin ?
			    origin : e->model_path);
		assist_adopt(a, e->model, e->sess, e->model_path, origin);
		e->model = NULL;	/* transferred */
		e->sess = NULL;
	} else {
		free(a->model_error);
		if (asprintf(&a->model_error, "the model could not be loaded: "
		    "%s%s", e->text ? e->text : "?", e->fell_back ? "" :
		    "; no version to fall back to") < 0)
			a->model_error = NULL;
		if (e->model_path != NULL) {
			free(a->model_path);
			a->model_path = app_xstrdup(e->model_path);
		}
		set_result(u, true, "%s", a->model_error ? a->model_error : "");
		app_message(a, true, "%s", u->result ? u->result : "");
	}
	free(origin);
	a->dirty |= D_ALL;
}

static void
on_done(struct app *a, struct ev *e)
{
	struct import_ui *u = a->imp;
	enum imp_job kind = u->job;
	const char *why = e->text ? e->text : bdl_strerror(e->rc);

	pthread_join(u->th, NULL);
	u->running = false;
	u->job = JB_NONE;
	switch (kind) {
	case JB_SCAN:
		u->scanning = false;
		if (e->rc < 0)
			app_message(a, true, "scan: %s", why);
		/* bundles the scan did not get to (no keyring, or stopped) */
		for (size_t i = 0; i < u->nitems; i++)
			if (u->items[i].state == IT_WAIT) {
				u->items[i].state = IT_REFUSED;
				free(u->items[i].reason);
				u->items[i].reason = app_xstrdup(e->rc < 0 ?
				    why : "not checked");
			}
		if (u->queued != ACT_NONE) {
			enum action what = u->queued;
			char *arg = u->queued_arg;

			u->queued = ACT_NONE;
			u->queued_arg = NULL;
			run_now(a, what, arg);
			free(arg);
		}
		break;
	case JB_IMPORT:
		if (e->rc < 0) {
			u->failed = true;
			set_result(u, true, "REFUSED: %s", why);
			app_message(a, true, "import refused: %s", why);
			store_refresh(u);
			break;
		}
		u->reached = BDL_STAGE_SWITCH;
		if (e->res.previous[0] != '\0')
			set_result(u, false, "imported %s %s %s %s%s, signed "
			    "by %s", e->res.name, e->res.previous, arrow(),
			    e->res.version, e->res.downgrade ? " (a downgrade, "
			    "recorded)" : "", e->res.signer.uid);
		else
			set_result(u, false, "imported %s %s, signed by %s",
			    e->res.name, e->res.version, e->res.signer.uid);
		app_message(a, false, "%s", u->result);
		apply_change(a, e->res.name);
		break;
	case JB_ROLLBACK:
		if (e->rc < 0) {
			u->failed = true;
			set_result(u, true, "rollback refused: %s", why);
			app_message(a, true, "%s", u->result);
			store_refresh(u);
			break;
		}
		set_result(u, false, "rolled back %s %s %s %s", e->res.name,
		    e->res.previous, arrow(), e->res.version);
		app_message(a, false, "%s", u->result);
		apply_change(a, e->res.name);
		break;
	case JB_MODEL:
		on_model_done(a, e);
		break;
	default:
		break;
	}
}

void
import_events(struct app *a)
{
	struct import_ui *u = a->imp;
	struct ev *list, *next;
	char buf[256];
	bool lost;

	if (u == NULL)
		return;
	while (read(u->pfd[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&u->mu);
	list = u->head;
	u->head = u->tail = NULL;
	if (u->job == JB_IMPORT && u->stage > u->reached)
		u->reached = u->stage;
	lost = u->lost_done;
	u->lost_done = false;
	pthread_mutex_unlock(&u->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		switch (list->kind) {
		case EV_FOUND:
			on_found(u, list->found);
			break;
		case EV_ITEM:
			if (list->index < u->nitems) {
				struct item *it = &u->items[list->index];

				if (list->item.path == NULL) {	/* no memory */
					list->item.path = it->path;
					it->path = NULL;
				}
				item_clear(it);
				*it = list->item;	/* transferred */
				memset(&list->item, 0, sizeof(list->item));
			}
			break;
		case EV_NOTE:
			free(u->note);
			u->note = list->text;
			list->text = NULL;
			break;
		case EV_DONE:
			on_done(a, list);
			break;
		}
		ev_free(list);
	}
	if (lost && u->running) {
		struct ev oom;

		memset(&oom, 0, sizeof(oom));
		oom.kind = EV_DONE;
		oom.rc = BDL_ENOMEM;
		on_done(a, &oom);
	}
	a->dirty |= D_PAGER | D_STATUS;
}

void
import_status(struct app *a, char *buf, size_t size)
{
	struct import_ui *u = a->imp;
	enum bdl_stage st;
	uint64_t done, total;

	*buf = '\0';
	if (u != NULL && u->running) {
		pthread_mutex_lock(&u->mu);
		st = u->stage;
		done = u->done;
		total = u->total;
		pthread_mutex_unlock(&u->mu);
		switch (u->job) {
		case JB_SCAN:
			snprintf(buf, size, " | checking bundles");
			break;
		case JB_IMPORT:
			if (st != 0 && total > 0)
				snprintf(buf, size, " | import: %s %d%%",
				    bdl_stage_name(st),
				    (int)(done * 100 / total));
			else
				snprintf(buf, size, " | import: %s", st != 0 ?
				    bdl_stage_name(st) : "starting");
			break;
		case JB_ROLLBACK:
			snprintf(buf, size, " | rolling back");
			break;
		default:
			break;
		}
	} else if (a->an_next != NULL)
		snprintf(buf, size, " | re-matching the log: %llu lines",
		    (unsigned long long)a->rematch_lines);
}

/* ---- opening, closing, keys ---------------------------------------------- */

/* A file given with :import that the scan would silently skip: say why,
 * as `triage bundle import` would. */
static void
given_check(struct app *a, const char *path)
{
	struct import_ui *u = a->imp;
	struct stat st;
	size_t n = strlen(path);
	char *sig = NULL;

	if (stat(path, &st) != 0)
		set_result(u, true, "%s: %s", path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		return;
	else if (n < 8 || strcmp(path + n - 8, ".tbundle") != 0)
		set_result(u, true, "%s: not a bundle (a bundle is NAME.tbundle "
		    "with its signature NAME.tbundle.sig beside it)", path);
	else if (asprintf(&sig, "%s.sig", path) >= 0 && stat(sig, &st) != 0)
		set_result(u, true, "%s: no signature (%s.sig is missing)",
		    path, path);
	else {
		free(sig);
		return;
	}
	free(sig);
	if (u->result != NULL)
		app_message(a, true, "%s", u->result);
}

void
import_open(struct app *a, const char *path)
{
	struct import_ui *u = a->imp;

	if (u == NULL && (u = a->imp = ui_new()) == NULL) {
		app_message(a, true, "cannot open the import screen: %s",
		    strerror(errno));
		return;
	}
	if (path != NULL && *path != '\0') {
		bool known = false;

		for (size_t i = 0; i < u->npaths; i++)
			known |= strcmp(u->paths[i], path) == 0;
		if (!known && u->npaths == IMP_MAX_PATHS) {
			free(u->paths[0]);
			memmove(u->paths, u->paths + 1, (IMP_MAX_PATHS - 1) *
			    sizeof(*u->paths));
			u->npaths--;
		}
		if (!known)
			u->paths[u->npaths++] = app_xstrdup(path);
		free(u->want);
		u->want = app_xstrdup(path);
		select_path(u, path);
		given_check(a, path);
	}
	a->import_on = true;
	a->pager = false;
	store_refresh(u);
	start_scan(a);
	a->dirty |= D_ALL;
}

void
import_close(struct app *a)
{
	a->import_on = false;
	a->dirty |= D_ALL;
}

static size_t
n_installed(const struct import_ui *u)
{
	return u->store != NULL ? bdl_store_count(u->store) : 0;
}

static void
ask(struct import_ui *u, enum action act, const char *arg, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
ask(struct import_ui *u, enum action act, const char *arg, const char *fmt,
    ...)
{
	va_list ap;

	free(u->confirm_text);
	free(u->confirm_arg);
	va_start(ap, fmt);
	if (vasprintf(&u->confirm_text, fmt, ap) < 0)
		u->confirm_text = NULL;
	va_end(ap);
	u->confirm_arg = app_xstrdup(arg);
	u->confirm = act;
}

static void
ask_clear(struct import_ui *u)
{
	free(u->confirm_text);
	free(u->confirm_arg);
	u->confirm_text = u->confirm_arg = NULL;
	u->confirm = ACT_NONE;
}

/* The bundle name the selection is about (a found one or an installed). */
static const char *
selected_name(struct import_ui *u)
{
	if (u->sel < u->nitems)
		return u->items[u->sel].name[0] ? u->items[u->sel].name : NULL;
	if (u->sel - u->nitems < n_installed(u))
		return bdl_store_name(u->store, u->sel - u->nitems);
	return NULL;
}

static void
do_rollback(struct app *a)
{
	struct import_ui *u = a->imp;
	const char *name = selected_name(u), *act, *lkg;
	int i;

	if (name == NULL || u->store == NULL ||
	    (i = bdl_store_find(u->store, name)) < 0) {
		app_message(a, true, "rollback: select an installed bundle");
		return;
	}
	act = bdl_store_active(u->store, (size_t)i);
	lkg = bdl_store_lkg(u->store, (size_t)i);
	if (lkg == NULL) {
		app_message(a, true, "%s has no last-known-good version to go "
		    "back to", name);
		return;
	}
	ask(u, ACT_ROLLBACK, name, "Roll back %s from %s to %s?  y rolls back, "
	    "any other key cancels", name, act ? act : "-", lkg);
}

static void
do_import(struct app *a, bool force)
{
	struct import_ui *u = a->imp;
	struct item *it;

	if (u->sel >= u->nitems) {
		app_message(a, true, "select a bundle from the list first");
		return;
	}
	it = &u->items[u->sel];
	if (force) {
		ask(u, ACT_IMPORT_FORCE, it->path, "Import %s %s even if it is "
		    "not newer than the installed version?  The downgrade is "
		    "recorded in the audit log.  y imports, any other key "
		    "cancels", it->name[0] ? it->name : it->path, it->version);
		return;
	}
	/* a refused bundle is still tried: the refusal is then audited */
	run_or_queue(a, ACT_OPEN, it->path);
}

void
import_action(struct app *a, enum action act)
{
	struct import_ui *u = a->imp;
	size_t n = u->nitems + n_installed(u);
	size_t page = a->rows > 12 ? (size_t)a->rows / 3 : 1;

	if (u->confirm != ACT_NONE) {
		enum action what = u->confirm;
		char *arg = u->confirm_arg;

		u->confirm_arg = NULL;
		ask_clear(u);
		if (act == ACT_CONFIRM)
			run_or_queue(a, what, arg);
		else
			app_message(a, false, "cancelled");
		free(arg);
		a->dirty |= D_PAGER;
		return;
	}
	switch (act) {
	case ACT_UP: if (u->sel > 0) u->sel--; break;
	case ACT_DOWN: if (u->sel + 1 < n) u->sel++; break;
	case ACT_PGUP: case ACT_HALF_UP:
		u->sel = u->sel > page ? u->sel - page : 0; break;
	case ACT_PGDN: case ACT_HALF_DN:
		u->sel = u->sel + page < n ? u->sel + page : n ? n - 1 : 0;
		break;
	case ACT_TOP: u->sel = 0; break;
	case ACT_BOTTOM: u->sel = n ? n - 1 : 0; break;
	case ACT_CLOSE:
		import_close(a);
		return;
	case ACT_RESCAN:
		if (u->running)
			say_busy(a);
		else {
			store_refresh(u);
			start_scan(a);
		}
		break;
	case ACT_OPEN:
	case ACT_IMPORT_FORCE:
	case ACT_ROLLBACK:
		if (u->running && u->job != JB_SCAN) {
			say_busy(a);
			break;
		}
		if (act == ACT_ROLLBACK)
			do_rollback(a);
		else
			do_import(a, act == ACT_IMPORT_FORCE);
		break;
	default:
		break;
	}
	a->dirty |= D_PAGER;
}

void
import_free(struct app *a)
{
	struct import_ui *u = a->imp;
	struct ev *e, *next;

	if (u == NULL)
		return;
	if (u->running) {
		/* a scan stops between bundles; an import is let finish, so
		 * the audit log and the store see it complete */
		pthread_mutex_lock(&u->mu);
		u->cancel = true;
		pthread_mutex_unlock(&u->mu);
		pthread_join(u->th, NULL);
	}
	for (e = u->head; e != NULL; e = next) {
		next = e->next;
		ev_free(e);
	}
	close(u->pfd[0]);
	close(u->pfd[1]);
	pthread_mutex_destroy(&u->mu);
	items_free(u);
	for (size_t i = 0; i < u->npaths; i++)
		free(u->paths[i]);
	free(u->want);
	bdl_store_free(u->store);
	free(u->store_error);
	free(u->store_model);
	free(u->what);
	free(u->result);
	free(u->note);
	free(u->model_bundle);
	free(u->next_path);
	free(u->queued_arg);
	ask_clear(u);
	free(u);
	a->imp = NULL;
}

/* ---- drawing ------------------------------------------------------------- */

/* Colour pairs (app.c), used only when the terminal has colour. */
enum { P_RED = 1, P_GREEN = 4 };

/* Where the next line goes: lines [y, h) of w, `wd` columns wide. */
struct pen {
	WINDOW	*w;
	int	 y, h, wd;
	bool	 colour;
};

static short
pen_pair(const struct pen *p, short pair)
{
	return p->colour ? pair : 0;
}

/*
 * Untrusted text at (y, x) through text_cells(), onto at most `lines`
 * screen lines of `width` columns, continuations indented by `indent`.
 * Returns the columns used on the last line.
 */
static int
put(WINDOW *win, int y, int x, int width, int lines, int indent,
    const char *s, attr_t at, short pair)
{
	size_t len = strlen(s), n, i = 0;
	struct cell *c = app_xmalloc((len + 1) * sizeof(*c));
	int col = 0;

	n = text_cells(s, len, c, len + 1, NULL);
	if (n > len + 1)
		n = len + 1;
	for (int l = 0; l < lines && i < n; l++, y++) {
		col = l ? indent : 0;
		while (l > 0 && i < n && c[i].wc[0] == L' ')
			i++;
		while (i < n && col + c[i].width <= width) {
			cchar_t cc;

			if (setcchar(&cc, c[i].wc, at, pair, NULL) == OK)
				mvwadd_wch(win, y, x + col, &cc);
			col += c[i].width;
			i++;
		}
	}
	free(c);
	return col;
}

static char *
vformat(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

/* One line (or up to `lines` wrapped ones) at the pen, which moves down. */
static void
pen_text(struct pen *p, int lines, attr_t at, short pair, const char *fmt,
    ...) __attribute__((format(printf, 5, 6)));

static void
pen_text(struct pen *p, int lines, attr_t at, short pair, const char *fmt,
    ...)
{
	va_list ap;
	char *s;
	int cols;

	if (p->y >= p->h)
		return;
	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return;
	if (lines > p->h - p->y)
		lines = p->h - p->y;
	/* wrapped lines align under the text after a "label    " */
	cols = text_width(s, strlen(s));
	put(p->w, p->y, 1, p->wd - 2, lines, 9, s, at, pen_pair(p, pair));
	p->y += cols > p->wd - 2 && lines > 1 ? lines : 1;
	free(s);
}

/* Text at column x of line y (not moving the pen); returns its width. */
static int
put_at(struct pen *p, int y, int x, attr_t at, short pair, const char *fmt,
    ...) __attribute__((format(printf, 6, 7)));

static int
put_at(struct pen *p, int y, int x, attr_t at, short pair, const char *fmt,
    ...)
{
	va_list ap;
	char *s;
	int n;

	if (x >= p->wd)
		return 0;
	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return 0;
	n = put(p->w, y, x, p->wd - x, 1, 0, s, at, pen_pair(p, pair));
	free(s);
	return n;
}

/* What importing this bundle would change, as one phrase. */
static void
change_text(const struct import_ui *u, const struct item *it, char *buf,
    size_t size)
{
	int i = u->store != NULL ? bdl_store_find(u->store, it->name) : -1;
	const char *cur = i >= 0 ? bdl_store_active(u->store, (size_t)i) : NULL;
	const char *kind = bdl_kind_name(it->kind);
	int c;

	if (it->name[0] == '\0') {
		snprintf(buf, size, "unknown until the bundle verifies");
		return;
	}
	if (cur == NULL) {
		snprintf(buf, size, "%s: new bundle %s %s", kind, it->name,
		    it->version);
		return;
	}
	c = bdl_version_cmp(it->version, cur);
	if (c > 0)
		snprintf(buf, size, "%s %s %s %s %s", kind, it->name, cur,
		    arrow(), it->version);
	else if (c == 0)
		snprintf(buf, size, "none: %s %s is installed (D imports it "
		    "again)", it->name, cur);
	else
		snprintf(buf, size, "a downgrade: %s %s %s %s (refused; D "
		    "imports it anyway, recorded)", it->name, cur, arrow(),
		    it->version);
}

static const char *
state_word(const struct item *it)
{
	switch (it->state) {
	case IT_OK: return "verified";
	case IT_REFUSED: return "REFUSED";
	default: return "checking";
	}
}

/* One found bundle: file, status, name and version, signer. */
static void
draw_item(struct import_ui *u, struct pen *p, size_t i)
{
	const struct item *it = &u->items[i];
	const char *b = strrchr(it->path, '/');
	bool sel = i == u->sel;
	attr_t at = sel ? A_REVERSE : 0;
	short pair = it->state == IT_REFUSED ? P_RED : it->state == IT_OK ?
	    P_GREEN : 0;
	int x = 1, y = p->y++;

	if (sel)
		mvwhline(p->w, y, 0, ' ' | A_REVERSE, p->wd);
	x += put_at(p, y, x, at, 0, "%s %-26s", sel ? ">" : " ",
	    b ? b + 1 : it->path);
	x += put_at(p, y, x, at | (it->state == IT_REFUSED ? A_BOLD : 0),
	    pair, " %-8s", state_word(it));
	if (it->name[0])
		x += put_at(p, y, x, at, 0, " %s %s (%s)", it->name,
		    it->version, bdl_kind_name(it->kind));
	if (it->signed_ok)
		put_at(p, y, x, at, 0, "  by %s", it->signer.uid);
	else if (it->state == IT_REFUSED && it->reason != NULL)
		put_at(p, y, x, at, 0, " %s", it->reason);
}

/* The selected bundle file: signer, status, change, model, changelog. */
static void
detail_item(struct import_ui *u, struct pen *p, const struct item *it)
{
	char when[32], buf[512], sz[32];

	pen_text(p, 1, 0, 0, "file     %s (%s)", it->path, it->size ?
	    out_size(it->size, sz, sizeof(sz)) : "size unknown");
	if (it->signed_ok) {
		bdl_time_format(it->signer.time, when, sizeof(when));
		pen_text(p, 1, 0, 0, "signer   %s", it->signer.uid);
		pen_text(p, 1, 0, 0, "key      %s, signed %s", it->signer.fpr,
		    when);
	}
	if (it->state == IT_OK)
		pen_text(p, 1, 0, P_GREEN, "status   verified: good signature, "
		    "every file matches the manifest, fits this machine");
	else if (it->state == IT_REFUSED)
		pen_text(p, 2, A_BOLD, P_RED, "status   REFUSED: %s",
		    it->reason ? it->reason : "?");
	else
		pen_text(p, 1, 0, 0, "status   checking...");
	if (it->note != NULL)
		pen_text(p, 1, 0, 0, "note     %s", it->note);
	if (it->name[0]) {
		change_text(u, it, buf, sizeof(buf));
		pen_text(p, 1, A_BOLD, 0, "change   %s", buf);
	}
	if (it->model != NULL)
		pen_text(p, 1, 0, 0, "model    %s, licence %s; %s", it->model,
		    it->license ? it->license : "?",
		    it->provenance ? it->provenance : "");
	for (size_t i = 0; it->changes[i] != NULL; i++)
		pen_text(p, 1, 0, 0, "%s - %s", i ? "        " : "changes ",
		    it->changes[i]);
}

/* The selected installed bundle: its versions and what r would do. */
static void
detail_installed(struct import_ui *u, struct pen *p, size_t i)
{
	const char *act = bdl_store_active(u->store, i);
	const char *lkg = bdl_store_lkg(u->store, i);
	char when[32];

	pen_text(p, 1, 0, 0, "bundle   %s (%s): active %s, last-known-good %s",
	    bdl_store_name(u->store, i), bdl_kind_name(bdl_store_kind(u->store,
	    i)), act ? act : "-", lkg ? lkg : "none");
	for (size_t j = 0; j < bdl_store_nversions(u->store, i); j++) {
		const char *signer = NULL, *v;
		int64_t t = 0;
		bool down = false, bad = false;

		v = bdl_store_version(u->store, i, j, &signer, &t, &down, &bad);
		bdl_time_format(t, when, sizeof(when));
		pen_text(p, 1, 0, 0, "%s %-10s signed %s by %s%s%s", j ?
		    "        " : "versions", v, when, signer ? signer : "?",
		    down ? ", a downgrade" : "", bad ? ", rolled back" : "");
	}
	pen_text(p, 1, A_DIM, 0, "%s", lkg ? "r rolls back to the "
	    "last-known-good version" : "nothing to roll back to");
}

/* Lines the details take, for the layout (at most IMP_DETAIL). */
static int
detail_need(const struct import_ui *u)
{
	int n = 0;

	if (u->sel < u->nitems) {
		const struct item *it = &u->items[u->sel];

		n = 2 + (it->signed_ok ? 2 : 0) + (it->state == IT_REFUSED) +
		    (it->note != NULL) + (it->name[0] != '\0') +
		    (it->model != NULL);
		for (size_t i = 0; it->changes[i] != NULL; i++)
			n++;
	} else if (u->sel - u->nitems < n_installed(u))
		n = 2 + (int)bdl_store_nversions(u->store, u->sel - u->nitems);
	return n < IMP_DETAIL ? n : IMP_DETAIL;
}

static void
draw_detail(struct import_ui *u, struct pen *p)
{
	struct pen d = *p;

	d.h = p->y + IMP_DETAIL < p->h ? p->y + IMP_DETAIL : p->h;
	if (u->sel < u->nitems)
		detail_item(u, &d, &u->items[u->sel]);
	else if (u->sel - u->nitems < n_installed(u))
		detail_installed(u, &d, u->sel - u->nitems);
	p->y = d.y;
}

/* The stages of the last import, each ticked off as it is passed. */
static void
draw_stages(struct import_ui *u, struct pen *p)
{
	const char *tick = utf8() ? "\xe2\x9c\x93" : "ok";
	const char *cross = utf8() ? "\xe2\x9c\x97" : "FAILED";
	int x = 1, y = p->y++;

	for (int s = BDL_STAGE_COPY; s <= BDL_STAGE_SWITCH; s++) {
		bool here = s == (int)u->reached;
		bool busy = u->running && here;
		bool bad = !u->running && u->failed && here;
		bool ok = s < (int)u->reached || (here && !u->running &&
		    !u->failed);

		x += put_at(p, y, x, busy ? A_REVERSE : bad ? A_BOLD : ok ? 0 :
		    A_DIM, bad ? P_RED : 0, " %s %s ",
		    bdl_stage_name((enum bdl_stage)s), ok ? tick : bad ? cross :
		    busy ? ".." : " ");
	}
}

static void
draw_progress(struct import_ui *u, struct pen *p)
{
	char bar[IMP_BAR + 3], a1[32], a2[32];
	enum bdl_stage st;
	uint64_t done, total;
	int fill;

	if (u->what == NULL)
		return;
	pthread_mutex_lock(&u->mu);
	st = u->stage;
	done = u->done;
	total = u->total;
	pthread_mutex_unlock(&u->mu);
	pen_text(p, 1, A_BOLD, 0, "%s", u->what);
	if (u->reached != 0)
		draw_stages(u, p);
	if (u->running && u->job == JB_IMPORT && st != 0) {
		fill = total > 0 ? (int)(done * IMP_BAR / total) : 0;
		bar[0] = '[';
		for (int i = 0; i < IMP_BAR; i++)
			bar[1 + i] = i < fill ? '#' : '-';
		bar[IMP_BAR + 1] = ']';
		bar[IMP_BAR + 2] = '\0';
		if (total > 0)
			pen_text(p, 1, 0, 0, "%s %3d%%  %s  %s of %s", bar,
			    (int)(done * 100 / total), bdl_stage_name(st),
			    out_size(done, a1, sizeof(a1)),
			    out_size(total, a2, sizeof(a2)));
		else
			pen_text(p, 1, 0, 0, "%s  %s", bar, bdl_stage_name(st));
	}
	if (u->result != NULL)
		pen_text(p, 2, u->result_err ? A_BOLD : 0, u->result_err ?
		    P_RED : 0, "%s", u->result);
	if (u->note != NULL)
		pen_text(p, 1, 0, 0, "note: %s", u->note);
}

/* Installed bundles: a row each, selectable after the found ones. */
static void
draw_installed(struct import_ui *u, struct pen *p)
{
	size_t n = n_installed(u);

	pen_text(p, 1, A_BOLD | A_UNDERLINE, 0, "%-24s %-10s %-10s %-16s %s",
	    "Installed", "kind", "active", "last-known-good", "also kept");
	if (n == 0)
		pen_text(p, 1, 0, 0, "  %s", u->store_error ? u->store_error :
		    "no bundles installed yet");
	for (size_t i = 0; i < n && p->y < p->h; i++) {
		const char *act = bdl_store_active(u->store, i);
		const char *lkg = bdl_store_lkg(u->store, i), *v;
		bool sel = u->sel == u->nitems + i, down, bad;
		char kept[128] = "";
		size_t off = 0;

		for (size_t j = 0; j < bdl_store_nversions(u->store, i) &&
		    off < sizeof(kept); j++) {
			v = bdl_store_version(u->store, i, j, NULL, NULL, &down,
			    &bad);
			if ((act && strcmp(v, act) == 0) ||
			    (lkg && strcmp(v, lkg) == 0))
				continue;
			off += (size_t)snprintf(kept + off, sizeof(kept) - off,
			    "%s%s%s", off ? " " : "", v,
			    bad ? " (rolled back)" : "");
		}
		if (sel)
			mvwhline(p->w, p->y, 0, ' ' | A_REVERSE, p->wd);
		pen_text(p, 1, sel ? A_REVERSE : 0, 0, "%s %-22s %-10s %-10s "
		    "%-16s %s", sel ? ">" : " ", bdl_store_name(u->store, i),
		    bdl_kind_name(bdl_store_kind(u->store, i)), act ? act : "-",
		    lkg ? lkg : "-", kept);
	}
}

/* The playbooks and model in use now. */
static void
draw_in_use(struct app *a, struct pen *p)
{
	struct import_ui *u = a->imp;
	char model[256];

	if (a->model_pinned)
		snprintf(model, sizeof(model), "%s (given; bundles do not "
		    "change it)", a->model_path ? a->model_path : "?");
	else if (a->model_switching)
		snprintf(model, sizeof(model), "opening %s...",
		    a->model_bundle ? a->model_bundle : "the new model");
	else if (a->model != NULL || a->model_path != NULL)
		snprintf(model, sizeof(model), "%s%s", a->model_bundle ?
		    a->model_bundle : a->model_path, a->model ? "" :
		    " (opens on the first question)");
	else if (u->store_model != NULL)
		snprintf(model, sizeof(model), "%s (opens on the first "
		    "question)", u->store_model);
	else
		snprintf(model, sizeof(model), "none");
	if (a->an_next != NULL)
		pen_text(p, 1, 0, 0, "In use: %zu playbooks, re-matching the "
		    "log for the new ones (%llu lines); model: %s",
		    pb_library_count(a->lib),
		    (unsigned long long)a->rematch_lines, model);
	else
		pen_text(p, 1, 0, 0, "In use: %zu playbooks; model: %s",
		    pb_library_count(a->lib), model);
}

void
import_draw(struct app *a, WINDOW *w)
{
	struct import_ui *u = a->imp;
	struct pen p;
	size_t n, shown, cur;
	enum bdl_stage st;
	int list_h, rest;

	if (w == NULL || u == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.w = w;
	p.colour = a->colour;
	getmaxyx(w, p.h, p.wd);
	p.h--;		/* the status line is drawn over the last row */
	n = u->nitems + n_installed(u);
	if (u->sel >= n)
		u->sel = n > 0 ? n - 1 : 0;
	werase(w);
	wattron(w, A_REVERSE);
	mvwhline(w, 0, 0, ' ', p.wd);
	mvwaddnstr(w, 0, 0, " Import signed bundles   Enter imports  r rolls "
	    "back  s scans again  q closes", p.wd);
	wattroff(w, A_REVERSE);
	p.y = 1;
	pthread_mutex_lock(&u->mu);
	st = u->stage;
	cur = u->cur;
	pthread_mutex_unlock(&u->mu);
	if (u->scanning && u->nitems > 0)
		pen_text(&p, 1, A_BOLD, 0, "Found on USB media and given "
		    "paths: %zu  (checking %zu of %zu: %s)", u->nitems,
		    cur + 1, u->nitems, st ? bdl_stage_name(st) : "...");
	else
		pen_text(&p, 1, A_BOLD, 0, "Found on USB media and given "
		    "paths: %zu%s", u->nitems, u->scanning ?
		    "  (looking...)" : "");
	/* the list takes what the rest leaves, at least two lines */
	rest = 1 + detail_need(u) + 1 + (u->what ? 6 : 0) + 1 + 1 +
	    (int)(n_installed(u) ? n_installed(u) : 1) + 1 +
	    (u->confirm != ACT_NONE);
	list_h = p.h - p.y - rest;
	if (list_h < 2)
		list_h = 2;
	if (u->nitems == 0) {
		if (!u->scanning)
			pen_text(&p, 2, 0, 0, "  No bundles found.  Insert a "
			    "USB stick and press s, or type :import PATH (a "
			    ".tbundle file or a directory).");
		list_h--;
	}
	if (u->sel < u->nitems) {
		if (u->sel < u->top)
			u->top = u->sel;
		if (u->sel >= u->top + (size_t)list_h)
			u->top = u->sel - (size_t)list_h + 1;
	}
	for (shown = 0; u->top + shown < u->nitems && shown < (size_t)list_h &&
	    p.y < p.h; shown++)
		draw_item(u, &p, u->top + shown);
	p.y++;
	draw_detail(u, &p);
	p.y++;
	draw_progress(u, &p);
	if (u->what != NULL)
		p.y++;
	draw_installed(u, &p);
	draw_in_use(a, &p);
	if (u->confirm != ACT_NONE && u->confirm_text != NULL) {
		p.y = p.h - 1;
		pen_text(&p, 1, A_BOLD | A_REVERSE, 0, "%s", u->confirm_text);
	}
	wnoutrefresh(w);
}
