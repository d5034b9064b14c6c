/*
 * session-save.c - the session survives the app: sources, pasted text,
 * ticked checks, notes and the model's answers are saved (atomically:
 * write a temporary file, then rename) to session.json in the session's
 * own directory (sessions.c: $XDG_DATA_HOME/triage/sessions/ID/), and
 * `triage --resume` reopens them.  :export writes the same findings as a
 * work-order report in Markdown or JSON.
 *
 * Sources are kept by absolute path, so a session resumes from any
 * directory; one that cannot be opened on resume keeps its entry, marked
 * missing, so a later save never loses it.
 *
 * session.json (format 1):
 *   { "format": 1, "saved": "2024-06-14T15:16:01",
 *     "sources": [ { "path": "/var/log/syslog", "follow": true,
 *                    "missing": false } ],
 *     "model": "/path/to/model.gguf",
 *     "ticks":   [ { "card": "modbus-timeout", "check": 0 } ],
 *     "notes":   [ "replaced the cable" ],
 *     "answers": [ { "question": "...", "context": "...", "answer": "...",
 *                    "stats": "...", "kind": 2 } ],    (kind: a model card's
 *                    turn, screen-assist.c; absent for an answer)
 *     "view":    { "row": 120, "wrap": false, "search": "timeout",
 *                  "filters": [ { "pattern": "modbus", "out": false } ] } }
 * The pasted text is the file pasted.log beside it; the model's side of
 * the conversation (history, fallbacks, model cards) is assist.json
 * (tui_assist_save, written by screen-assist.c).  Everything read back
 * is checked like any input: a bad or foreign file is refused whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../playbooks/playbook.h"
#include "app.h"
#include "tui.h"
#include "metrics.h"

#define SESSION_FORMAT	1
/* session.json larger than this is not ours. */
#define SESSION_MAX	(16 * 1024 * 1024)
/* Unknown templates in a report. */
#define REPORT_TEMPLATES	10

/* Multi-line untrusted text made printable line by line. */
static char *
clean_ml(const char *s)
{
	char *out = NULL, *c;
	size_t len = 0;
	FILE *fp;
	const char *p = s, *nl;

	if (s == NULL)
		return NULL;
	if ((fp = open_memstream(&out, &len)) == NULL)
		return NULL;
	for (;;) {
		nl = strchr(p, '\n');
		c = text_clean(p, nl ? (size_t)(nl - p) : strlen(p));
		if (c != NULL)
			fputs(c, fp);
		free(c);
		if (nl == NULL)
			break;
		fputc('\n', fp);
		p = nl + 1;
	}
	fclose(fp);
	return out;
}

static json_t *
jstr(const char *s)
{
	char *c = clean_ml(s ? s : "");
	json_t *j = json_string(c ? c : "");

	free(c);
	return j;
}

/* A path kept exactly when it is UTF-8 (to be opened again), else shown. */
static json_t *
jpath(const char *s)
{
	json_t *j = json_string(s);

	return j != NULL ? j : jstr(s);
}

/* ---- save and resume ---------------------------------------------------- */

/* Nothing worth keeping: no file, paste, tick, note or answer. */
static bool
session_empty(struct app *a)
{
	return a->nsrc == 0 && a->nmissing == 0 && a->nticks == 0 &&
	    a->nnotes == 0 && a->nturns == 0;
}

int
session_save(struct app *a)
{
	json_t *doc, *arr, *o, *view, *fl;
	char *path = NULL, *tmp = NULL, ts[32];
	int rc = -1;

	if (a->session_dir == NULL || session_empty(a))
		return -1;
	doc = json_object();
	json_object_set_new(doc, "format", json_integer(SESSION_FORMAT));
	pb_time_format((int64_t)time(NULL) * 1000, ts, sizeof(ts));
	json_object_set_new(doc, "saved", json_string(ts));
	arr = json_array();
	for (int i = 0; i < a->nsrc; i++) {
		if (a->src[i].spool)
			continue;
		o = json_object();
		json_object_set_new(o, "path", jpath(a->src[i].abspath));
		json_object_set_new(o, "follow",
		    json_boolean(lidx_following(a->src[i].ix)));
		json_array_append_new(arr, o);
	}
	for (size_t i = 0; i < a->nmissing; i++) {
		o = json_object();
		json_object_set_new(o, "path", jpath(a->missing[i].path));
		json_object_set_new(o, "follow",
		    json_boolean(a->missing[i].follow));
		json_object_set_new(o, "missing", json_true());
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "sources", arr);
	arr = json_array();
	for (size_t i = 0; i < a->nticks; i++) {
		o = json_object();
		json_object_set_new(o, "card", jstr(a->ticks[i].card));
		json_object_set_new(o, "check", json_integer(a->ticks[i].check));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "ticks", arr);
	arr = json_array();
	for (size_t i = 0; i < a->nnotes; i++)
		json_array_append_new(arr, jstr(a->notes[i]));
	json_object_set_new(doc, "notes", arr);
	arr = json_array();
	for (size_t i = 0; i < a->nturns; i++) {
		struct turn *t = &a->turns[i];
		o = json_object();
		json_object_set_new(o, "question", jstr(t->question));
		json_object_set_new(o, "context", jstr(t->context));
		json_object_set_new(o, "answer", jstr(t->answer));
		json_object_set_new(o, "stats", jstr(t->stats));
		if (t->kind != 0)	/* a model card's turn (screen-assist.c) */
			json_object_set_new(o, "kind", json_integer(t->kind));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "answers", arr);
	if (a->model_pinned && a->model_path != NULL)
		json_object_set_new(doc, "model", jpath(a->model_path));
	view = json_object();
	json_object_set_new(view, "row", json_integer((json_int_t)a->lv.cur));
	json_object_set_new(view, "wrap", json_boolean(a->lv.wrap));
	if (a->lv.pattern)
		json_object_set_new(view, "search", jstr(a->lv.pattern));
	fl = json_array();
	for (int i = 0; i < a->lv.nfilters; i++) {
		o = json_object();
		json_object_set_new(o, "pattern", jstr(a->lv.filters[i].pattern));
		json_object_set_new(o, "out", json_boolean(a->lv.filters[i].out));
		json_array_append_new(fl, o);
	}
	json_object_set_new(view, "filters", fl);
	json_object_set_new(doc, "view", view);
	if (asprintf(&path, "%s/session.json", a->session_dir) < 0 ||
	    asprintf(&tmp, "%s/.session.json.tmp", a->session_dir) < 0)
		goto out;
	if (json_dump_file(doc, tmp, JSON_INDENT(1)) != 0 ||
	    rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	/* the model's side: history, fallbacks, model cards */
	assist_session_save(a, a->session_dir);
	rc = 0;
out:
	json_decref(doc);
	free(path);
	free(tmp);
	return rc;
}

int
session_load(struct app *a, char **cause)
{
	json_t *doc = NULL, *v, *o, *view;
	json_error_t err;
	char *path = NULL, *paste = NULL;
	struct stat st;
	json_int_t kind;
	size_t i;
	int rc = -1;

	if (a->session_dir == NULL) {
		*cause = strdup("no data directory (set HOME or XDG_DATA_HOME)");
		return -1;
	}
	if (asprintf(&path, "%s/session.json", a->session_dir) < 0)
		return -1;
	if (stat(path, &st) != 0) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SESSION_MAX) {
		if (asprintf(cause, "%s: not a session file", path) < 0)
			*cause = NULL;
		goto out;
	}
	if ((doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL ||
	    !json_is_object(doc) || json_integer_value(json_object_get(doc,
	    "format")) != SESSION_FORMAT) {
		if (asprintf(cause, "%s: not a triage session (format %d)", path,
		    SESSION_FORMAT) < 0)
			*cause = NULL;
		goto out;
	}
	json_array_foreach(json_object_get(doc, "sources"), i, o) {
		const char *p = json_string_value(json_object_get(o, "path"));
		bool follow = json_is_true(json_object_get(o, "follow"));
		struct missing *m;

		if (p == NULL || *p == '\0' ||
		    app_open_source(a, p, follow, false) >= 0)
			continue;
		/* kept, marked missing: the next save must not drop it */
		m = realloc(a->missing, (a->nmissing + 1) * sizeof(*m));
		if (m == NULL)
			continue;
		a->missing = m;
		m[a->nmissing].path = app_xstrdup(p);
		m[a->nmissing++].follow = follow;
	}
	if (a->nmissing > 0)
		app_message(a, true, "missing, kept in the session: %s%s",
		    strrchr(a->missing[0].path, '/') ? strrchr(a->missing[0].path,
		    '/') + 1 : a->missing[0].path, a->nmissing > 1 ?
		    " and others" : "");
	if ((v = json_object_get(doc, "model")) != NULL && json_is_string(v) &&
	    a->model_path == NULL) {
		a->model_path = app_xstrdup(json_string_value(v));
		a->model_pinned = true;
	}
	if (asprintf(&paste, "%s/pasted.log", a->session_dir) >= 0 &&
	    stat(paste, &st) == 0 && S_ISREG(st.st_mode)) {
		a->paste_fd = open(paste, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (a->paste_fd >= 0)
			a->paste_src = app_open_source(a, paste, true, true);
	}
	json_array_foreach(json_object_get(doc, "ticks"), i, o) {
		const char *c = json_string_value(json_object_get(o, "card"));
		json_int_t k = json_integer_value(json_object_get(o, "check"));
		if (c != NULL && k >= 0 && k < 1000)
			tick_set(a, c, (int)k, true);
	}
	json_array_foreach(json_object_get(doc, "notes"), i, v) {
		char **n;
		if (!json_is_string(v) ||
		    (n = realloc(a->notes, (a->nnotes + 1) * sizeof(*n))) == NULL)
			continue;
		a->notes = n;
		a->notes[a->nnotes++] = app_xstrdup(json_string_value(v));
	}
	json_array_foreach(json_object_get(doc, "answers"), i, o) {
		struct turn *t = realloc(a->turns, (a->nturns + 1) * sizeof(*t));
		const char *q = json_string_value(json_object_get(o, "question"));
		const char *an = json_string_value(json_object_get(o, "answer"));
		const char *cx = json_string_value(json_object_get(o, "context"));
		const char *stt = json_string_value(json_object_get(o, "stats"));
		if (t == NULL || q == NULL)
			continue;
		a->turns = t;
		t = &a->turns[a->nturns++];
		memset(t, 0, sizeof(*t));
		t->question = app_xstrdup(q);
		t->answer = app_xstrdup(an ? an : "");
		t->alen = strlen(t->answer);
		t->acap = t->alen + 1;
		t->context = cx && *cx ? app_xstrdup(cx) : NULL;
		t->stats = stt && *stt ? app_xstrdup(stt) : NULL;
		kind = json_integer_value(json_object_get(o, "kind"));
		t->kind = kind >= 0 && kind < 16 ? (int)kind : 0;
	}
	/* the conversation the model had, so a follow-up has it too */
	assist_session_load(a, a->session_dir);
	view = json_object_get(doc, "view");
	json_array_foreach(json_object_get(view, "filters"), i, o) {
		const char *p = json_string_value(json_object_get(o, "pattern"));
		char *c2 = NULL;
		if (p != NULL && log_add_filter(a, p, json_is_true(
		    json_object_get(o, "out")), &c2) != 0)
			free(c2);
	}
	if (json_is_true(json_object_get(view, "wrap")))
		a->lv.wrap = true;
	if ((v = json_object_get(view, "search")) != NULL && json_is_string(v)) {
		log_set_search(a, json_string_value(v), 1);
	}
	if (json_integer_value(json_object_get(view, "row")) > 0)
		a->lv.cur = (uint64_t)json_integer_value(json_object_get(view,
		    "row"));
	rc = 0;
out:
	json_decref(doc);
	free(path);
	free(paste);
	return rc;
}

int
session_pick(struct app *a, const char *id, char **cause)
{
	struct sess_info *v = NULL;
	size_t n = 0;

	*cause = NULL;
	if (a->sessions_root == NULL) {
		*cause = strdup("no data directory (set HOME or XDG_DATA_HOME)");
		return -1;
	}
	if (id != NULL && !sessions_valid_id(id)) {
		if (asprintf(cause, "%s: not a session id (triage --resume=list "
		    "shows them)", id) < 0)
			*cause = NULL;
		return -1;
	}
	if (id == NULL) {
		(void)sessions_list(a->sessions_root, &v, &n);
		for (size_t i = 0; i < n && id == NULL; i++)
			if (v[i].has_json)
				id = v[i].id;
		if (id == NULL) {
			sessions_info_free(v, n);
			if (asprintf(cause, "no saved session in %s",
			    a->sessions_root) < 0)
				*cause = NULL;
			return -1;
		}
	}
	a->session_id = app_xstrdup(id);
	sessions_info_free(v, n);
	if (asprintf(&a->session_dir, "%s/%s", a->sessions_root,
	    a->session_id) < 0)
		a->session_dir = NULL;
	return a->session_dir != NULL ? 0 : -1;
}

static void
say_nothing(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

void
session_end(struct app *a)
{
	char *p = NULL, *json = NULL;
	struct stat st;
	bool keep_log;

	if (a->session_dir == NULL)
		return;
	/* a start that did nothing leaves nothing behind, unless the
	 * library said something worth reading in stderr.log */
	keep_log = asprintf(&p, "%s/stderr.log", a->session_dir) >= 0 &&
	    stat(p, &st) == 0 && st.st_size > 0;
	if (asprintf(&json, "%s/session.json", a->session_dir) < 0)
		json = NULL;
	if (a->retention == 0 && a->sessions_root != NULL &&
	    a->session_id != NULL)
		/* keep nothing: its history lines go too, as on erase (the
		 * history was written just before) */
		(void)sessions_erase(a->sessions_root, a->session_id, 1,
		    say_nothing, NULL);
	else if (a->retention == 0 ||
	    (!keep_log && json != NULL && stat(json, &st) != 0))
		(void)sessions_remove(a->session_dir);
	free(p);
	free(json);
}

/* One line about a session: id, when, first source, what it holds. */
static char *
session_describe(const char *root, const struct sess_info *si)
{
	char *path = NULL, *line = NULL, when[32] = "-";
	const char *first = "(pasted text only)";
	json_t *doc = NULL;
	size_t nsrc = 0, nnotes = 0, nticks = 0;
	struct stat st;
	struct tm tm;

	localtime_r(&si->saved, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	if (asprintf(&path, "%s/%s/session.json", root, si->id) >= 0 &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size <= SESSION_MAX)
		doc = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	if (doc != NULL) {
		json_t *src = json_object_get(doc, "sources");
		nsrc = json_array_size(src);
		nnotes = json_array_size(json_object_get(doc, "notes"));
		nticks = json_array_size(json_object_get(doc, "ticks"));
		if (nsrc > 0 && json_string_value(json_object_get(
		    json_array_get(src, 0), "path")) != NULL)
			first = json_string_value(json_object_get(
			    json_array_get(src, 0), "path"));
	}
	if (asprintf(&line, "%-40s  %s  %s%s, %zu note%s, %zu tick%s", si->id,
	    when, doc ? first : "(not saved)", nsrc > 1 ? " and more" : "",
	    nnotes, nnotes == 1 ? "" : "s", nticks, nticks == 1 ? "" : "s") < 0)
		line = NULL;
	json_decref(doc);
	free(path);
	return line;
}

int
session_print_list(const char *root_given)
{
	char *root = sessions_root(root_given);
	struct sess_info *v = NULL;
	size_t n = 0;

	if (root == NULL) {
		out_printf(stderr, "triage: --resume=list: no data directory "
		    "(set HOME or XDG_DATA_HOME)\n");
		return 2;
	}
	(void)sessions_list(root, &v, &n);
	if (n == 0)
		out_printf(stdout, "no sessions kept in %s\n", root);
	for (size_t i = 0; i < n; i++) {
		char *line = session_describe(root, &v[i]);
		if (line != NULL)
			out_printf(stdout, "%s%s\n", line, i == 0 ?
			    "  (--resume opens this one)" : "");
		free(line);
	}
	sessions_info_free(v, n);
	free(root);
	return 0;
}

void
session_command(struct app *a, const char *arg)
{
	struct sess_info *v = NULL;
	size_t n = 0;
	char **lines;

	if (a->sessions_root == NULL) {
		app_message(a, true, "no data directory: no sessions kept");
		return;
	}
	if (strncmp(arg, "erase ", 6) == 0) {
		session_erase_command(a, arg + 6);	/* cmd-sessions.c */
		return;
	}
	if (*arg != '\0') {
		char *dir = NULL;
		struct stat st;

		if (!sessions_valid_id(arg) || asprintf(&dir, "%s/%s",
		    a->sessions_root, arg) < 0 || stat(dir, &st) != 0) {
			app_message(a, true, "%s: no such session (:sessions "
			    "lists them)", arg);
		} else if (a->session_id != NULL &&
		    strcmp(arg, a->session_id) == 0)
			app_message(a, false, "%s is this session", arg);
		else if (assist_running(a))
			app_message(a, true, "the model is answering: Esc stops "
			    "it first");
		else {
			/* this one is saved at exit; the app starts again on
			 * the chosen one */
			a->switch_to = app_xstrdup(arg);
			a->quit = true;
		}
		free(dir);
		return;
	}
	session_save(a);
	(void)sessions_list(a->sessions_root, &v, &n);
	lines = app_xmalloc((n + 4) * sizeof(*lines));
	lines[0] = app_xstrdup("Kept sessions, last saved first: :sessions ID "
	    "opens one (this one is saved first).");
	lines[1] = app_xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *d = session_describe(a->sessions_root, &v[i]), *l;
		bool cur = a->session_id && strcmp(v[i].id, a->session_id) == 0;
		if (asprintf(&l, "%s %s", cur ? "*" : " ", d ? d : v[i].id) < 0)
			l = app_xstrdup(v[i].id);
		lines[i + 2] = l;
		free(d);
	}
	lines[n + 2] = app_xstrdup("");
	if (asprintf(&lines[n + 3], "(* this session; kept in %s for %ld days "
	    "after their last use: retention in triage(1))", a->sessions_root,
	    a->retention / 86400) < 0)
		lines[n + 3] = app_xstrdup("");
	pager_lines(a, "Sessions", lines, n + 4);
	for (size_t i = 0; i < n + 4; i++)
		free(lines[i]);
	free(lines);
	sessions_info_free(v, n);
}

/* ---- export --------------------------------------------------------------- */

static json_t *
card_json(struct app *a, const struct pb_card *c)
{
	const struct pb_playbook *pb = pb_card_playbook(c);
	const json_t *doc = pb_playbook_json(pb);
	const char *id = pb_playbook_id(pb), *file;
	json_t *o = json_object(), *ev = json_array(), *ck = json_array(), *v;
	char first[32], last[32], *s;
	uint64_t lineno;
	size_t i;

	json_object_set_new(o, "id", jstr(id));
	json_object_set_new(o, "title", jstr(pb_playbook_title(pb)));
	json_object_set_new(o, "severity",
	    json_string(pb_severity_name(pb_playbook_severity(pb))));
	json_object_set_new(o, "count", json_integer((json_int_t)pb_card_count(c)));
	pb_time_format(pb_card_first(c), first, sizeof(first));
	pb_time_format(pb_card_last(c), last, sizeof(last));
	json_object_set_new(o, "first", json_string(first));
	json_object_set_new(o, "last", json_string(last));
	for (i = 0; i < pb_card_nexamples(c); i++) {
		const char *text = pb_card_example(c, i, &file, &lineno);
		json_t *e = json_object();
		json_object_set_new(e, "file", jstr(file));
		json_object_set_new(e, "line", json_integer((json_int_t)lineno));
		json_object_set_new(e, "text", jstr(text));
		json_array_append_new(ev, e);
	}
	json_object_set_new(o, "evidence", ev);
	json_array_foreach(json_object_get(doc, "checks"), i, v) {
		json_t *e = json_object();
		json_object_set_new(e, "n", json_integer((json_int_t)i + 1));
		if ((s = pb_card_fill(c, json_string_value(json_object_get(v, "do")),
		    0)) != NULL) {
			json_object_set_new(e, "do", jstr(s));
			free(s);
		}
		if ((s = pb_card_fill(c, json_string_value(json_object_get(v,
		    "command")), 1)) != NULL) {
			json_object_set_new(e, "command", jstr(s));
			free(s);
		}
		json_object_set_new(e, "ticked", json_boolean(tick_get(a, id,
		    (int)i)));
		json_array_append_new(ck, e);
	}
	json_object_set_new(o, "checks", ck);
	return o;
}

static json_t *
report_json(struct app *a)
{
	json_t *doc = json_object(), *arr;
	char ts[32];

	json_object_set_new(doc, "format", json_integer(1));
	pb_time_format((int64_t)time(NULL) * 1000, ts, sizeof(ts));
	json_object_set_new(doc, "created", json_string(ts));
	arr = json_array();
	for (int i = 0; i < a->nsrc; i++)
		json_array_append_new(arr, jstr(a->src[i].name));
	json_object_set_new(doc, "sources", arr);
	arr = json_array();
	for (size_t i = 0; i < pb_analysis_ncards(a->an); i++)
		json_array_append_new(arr, card_json(a, pb_analysis_card(a->an, i)));
	json_object_set_new(doc, "cards", arr);
	arr = json_array();
	for (size_t i = 0; i < pb_analysis_ntemplates(a->an) &&
	    i < REPORT_TEMPLATES; i++) {
		const char *ex, *file, *t;
		uint64_t count, lineno;
		json_t *o;
		if ((t = pb_analysis_template(a->an, i, &count, &ex, &file,
		    &lineno)) == NULL)
			break;
		o = json_object();
		json_object_set_new(o, "template", jstr(t));
		json_object_set_new(o, "count", json_integer((json_int_t)count));
		json_object_set_new(o, "example", jstr(ex));
		json_object_set_new(o, "file", jstr(file));
		json_object_set_new(o, "line", json_integer((json_int_t)lineno));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "unknown", arr);
	arr = json_array();
	for (size_t i = 0; i < a->nnotes; i++)
		json_array_append_new(arr, jstr(a->notes[i]));
	json_object_set_new(doc, "notes", arr);
	/* model cards, marked as the model's; and why the model fell back */
	{
		json_t *mr = assist_report(a), *c;
		const char *const keys[] = { "subject", "file", "text" };
		size_t i;

		json_array_foreach(json_object_get(mr, "model_cards"), i, c)
			for (size_t k = 0; k < 3; k++)
				json_object_set_new(c, keys[k], jstr(
				    json_string_value(json_object_get(c,
				    keys[k]))));
		json_object_set(doc, "model_cards", json_object_get(mr,
		    "model_cards"));
		json_object_set(doc, "fallbacks", json_object_get(mr,
		    "fallbacks"));
		json_decref(mr);
	}
	arr = json_array();
	for (size_t i = 0; i < a->nturns; i++) {
		json_t *o;

		if (a->turns[i].kind != 0)	/* model cards: above */
			continue;
		o = json_object();
		json_object_set_new(o, "question", jstr(a->turns[i].question));
		json_object_set_new(o, "context", jstr(a->turns[i].context));
		json_object_set_new(o, "answer", jstr(a->turns[i].answer));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "answers", arr);
	return doc;
}

/* Markdown from the JSON report, so both say the same. */
static void
report_md(json_t *doc, FILE *fp)
{
	json_t *c, *e, *v;
	size_t i, k;

	fprintf(fp, "# Triage report\n\nCreated %s from:\n\n",
	    json_string_value(json_object_get(doc, "created")));
	json_array_foreach(json_object_get(doc, "sources"), i, v)
		fprintf(fp, "- `%s`\n", json_string_value(v));
	fprintf(fp, "\n## Cards (%zu)\n\n", json_array_size(json_object_get(doc,
	    "cards")));
	json_array_foreach(json_object_get(doc, "cards"), i, c) {
		fprintf(fp, "### %s (%s, %s)\n\nSeen %lld times, first %s, last "
		    "%s.\n\nEvidence:\n\n",
		    json_string_value(json_object_get(c, "title")),
		    json_string_value(json_object_get(c, "severity")),
		    json_string_value(json_object_get(c, "id")),
		    json_integer_value(json_object_get(c, "count")),
		    json_string_value(json_object_get(c, "first")),
		    json_string_value(json_object_get(c, "last")));
		json_array_foreach(json_object_get(c, "evidence"), k, e)
			fprintf(fp, "    %s:%lld  %s\n",
			    json_string_value(json_object_get(e, "file")),
			    json_integer_value(json_object_get(e, "line")),
			    json_string_value(json_object_get(e, "text")));
		fprintf(fp, "\nChecks:\n\n");
		json_array_foreach(json_object_get(c, "checks"), k, e) {
			const char *cmd = json_string_value(json_object_get(e,
			    "command"));
			fprintf(fp, "- [%c] %lld. %s\n",
			    json_is_true(json_object_get(e, "ticked")) ? 'x' : ' ',
			    json_integer_value(json_object_get(e, "n")),
			    json_string_value(json_object_get(e, "do")) ?
			    json_string_value(json_object_get(e, "do")) : "");
			if (cmd != NULL)
				fprintf(fp, "\n      $ %s\n\n", cmd);
		}
		fprintf(fp, "\n");
	}
	if (json_array_size(json_object_get(doc, "unknown")) > 0) {
		fprintf(fp, "## Warnings and errors no playbook knows\n\n");
		json_array_foreach(json_object_get(doc, "unknown"), i, e)
			fprintf(fp, "- %lld x `%s`\n\n      e.g. %s:%lld  %s\n\n",
			    json_integer_value(json_object_get(e, "count")),
			    json_string_value(json_object_get(e, "template")),
			    json_string_value(json_object_get(e, "file")),
			    json_integer_value(json_object_get(e, "line")),
			    json_string_value(json_object_get(e, "example")));
	}
	if (json_array_size(json_object_get(doc, "notes")) > 0) {
		fprintf(fp, "## Notes\n\n");
		json_array_foreach(json_object_get(doc, "notes"), i, v)
			fprintf(fp, "- %s\n", json_string_value(v));
		fprintf(fp, "\n");
	}
	if (json_array_size(json_object_get(doc, "model_cards")) > 0) {
		fprintf(fp, "## Model cards (suggested by the model, not "
		    "playbooks; checked by triage; commands not run)\n\n");
		json_array_foreach(json_object_get(doc, "model_cards"), i, e) {
			fprintf(fp, "### Model card: %s\n\n",
			    json_string_value(json_object_get(e, "subject")));
			/* indented: Markdown shows it as written */
			for (const char *p = json_string_value(json_object_get(e,
			    "text")); p != NULL && *p;) {
				const char *nl = strchr(p, '\n');
				size_t l = nl ? (size_t)(nl - p) : strlen(p);
				fprintf(fp, "    %.*s\n", (int)l, p);
				p = nl ? nl + 1 : NULL;
			}
			fprintf(fp, "\n");
		}
	}
	if (json_array_size(json_object_get(doc, "fallbacks")) > 0) {
		fprintf(fp, "## Assistant fallbacks (the rule-based cards "
		    "stood)\n\n");
		json_array_foreach(json_object_get(doc, "fallbacks"), i, e)
			fprintf(fp, "- %s: %s\n", json_string_value(
			    json_object_get(e, "reason")), json_string_value(
			    json_object_get(e, "detail")));
		fprintf(fp, "\n");
	}
	if (json_array_size(json_object_get(doc, "answers")) > 0) {
		fprintf(fp, "## Assistant answers\n\n");
		json_array_foreach(json_object_get(doc, "answers"), i, e) {
			const char *ans = json_string_value(json_object_get(e,
			    "answer")), *p;
			fprintf(fp, "**Q:** %s\n\n_%s_\n\n",
			    json_string_value(json_object_get(e, "question")),
			    json_string_value(json_object_get(e, "context")));
			/* the answer quoted, line by line */
			for (p = ans; p != NULL && *p;) {
				const char *nl = strchr(p, '\n');
				size_t l = nl ? (size_t)(nl - p) : strlen(p);
				fprintf(fp, "> %.*s\n", (int)l, p);
				p = nl ? nl + 1 : NULL;
			}
			fprintf(fp, "\n");
		}
	}
}

int
session_export(struct app *a, const char *path, char **cause)
{
	size_t n = strlen(path);
	bool json = n > 5 && strcmp(path + n - 5, ".json") == 0;
	json_t *doc;
	FILE *fp;
	int rc = 0;

	if (a->cards_stale)
		cards_refresh(a);
	if ((fp = fopen(path, "w")) == NULL) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		return -1;
	}
	doc = report_json(a);
	if (json)
		rc = json_dumpf(doc, fp, JSON_INDENT(2)) != 0 ? -1 : 0;
	else
		report_md(doc, fp);
	if (json)
		fputc('\n', fp);
	json_decref(doc);
	if (fclose(fp) != 0 || rc != 0) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		return -1;
	}
	return 0;
}
