/*
 * cmd-sessions.c - `triage sessions list | show ID | erase ID | erase
 * --all`: what the full-screen interface kept (tui/sessions.c), and
 * erasing it.  Erasing a session removes its directory's files (session,
 * pasted text, answers, notes, exports written there) and the lines of
 * the shared readline history that the session typed (its questions,
 * notes, searches and filters); it never touches the logs it names.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <readline/history.h>

#include "app.h"
#include "tui.h"

static const char sessions_usage[] =
"usage: triage sessions list\n"
"       triage sessions show ID\n"
"       triage sessions erase ID | --all\n";

/* The texts a session typed, from its session.json. */
static json_t *
typed_texts(const char *dir)
{
	json_t *doc, *out = json_array(), *v, *o;
	char *path = NULL;
	size_t i;

	if (asprintf(&path, "%s/session.json", dir) < 0)
		return out;
	doc = json_load_file(path, 0, NULL);
	free(path);
	if (doc == NULL)
		return out;
	json_array_foreach(json_object_get(doc, "notes"), i, v)
		if (json_is_string(v))
			json_array_append(out, v);
	json_array_foreach(json_object_get(doc, "answers"), i, o)
		if (json_is_string(v = json_object_get(o, "question")))
			json_array_append(out, v);
	o = json_object_get(doc, "view");
	if (json_is_string(v = json_object_get(o, "search")))
		json_array_append(out, v);
	json_array_foreach(json_object_get(o, "filters"), i, v)
		if (json_is_string(json_object_get(v, "pattern")))
			json_array_append(out, json_object_get(v, "pattern"));
	json_decref(doc);
	return out;
}

/*
 * The app's commands that take a session's text; the prompt keeps a
 * command line without its ':' ("note the cable"), a search or question
 * as typed.
 */
static const char *const text_cmds[] = {
	"note ", "ask ", "filter ", "filter-in ", "filter-out ", NULL
};

/* Is a history line one of the texts, typed alone or after a :command? */
static int
typed_by(const char *line, json_t *texts)
{
	size_t i, c, n = strlen(line), k;
	const char *cmd = line + (line[0] == ':');
	json_t *v;

	json_array_foreach(texts, i, v) {
		const char *s = json_string_value(v);

		k = strlen(s);
		if (k == 0)
			continue;
		if (strcmp(line, s) == 0 || ((line[0] == ':' || line[0] == '/' ||
		    line[0] == '?') && strcmp(line + 1, s) == 0) ||
		    (line[0] == ':' && n > k && line[n - k - 1] == ' ' &&
		    strcmp(line + n - k, s) == 0))
			return 1;
		for (c = 0; text_cmds[c] != NULL; c++)
			if (strncmp(cmd, text_cmds[c], strlen(text_cmds[c])) == 0 &&
			    strcmp(cmd + strlen(text_cmds[c]), s) == 0)
				return 1;
	}
	return 0;
}

/*
 * Rewrite the history without the session's lines (all of them if texts
 * is NULL); a readline timestamp line goes with its entry.
 */
static int
history_erase(json_t *texts, size_t *removed)
{
	char *dir = path_data_dir(), *path = NULL, *tmp = NULL, *line = NULL,
	    *stamp = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *in = NULL, *out = NULL;
	int rc = -1;

	*removed = 0;
	if (dir == NULL || asprintf(&path, "%s/history", dir) < 0) {
		path = NULL;
		goto out;
	}
	if ((in = fopen(path, "r")) == NULL) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (texts == NULL) {
		while ((len = getline(&line, &cap, in)) > 0)
			if (line[0] != '#')
				(*removed)++;
		rc = unlink(path);
		goto out;
	}
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		goto out;
	}
	if ((out = fopen(tmp, "w")) == NULL)
		goto out;
	while ((len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' && line[1] >= '0' && line[1] <= '9') {
			free(stamp);
			stamp = strdup(line);
			continue;
		}
		if (typed_by(line, texts))
			(*removed)++;
		else {
			if (stamp != NULL)
				fprintf(out, "%s\n", stamp);
			fprintf(out, "%s\n", line);
		}
		free(stamp);
		stamp = NULL;
	}
	if (fclose(out) != 0) {
		out = NULL;
		(void)unlink(tmp);
		goto out;
	}
	out = NULL;
	rc = rename(tmp, path);
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL) {
		fclose(out);
		(void)unlink(tmp);
	}
	free(stamp);
	free(line);
	free(tmp);
	free(path);
	free(dir);
	return rc;
}

/* The same lines from the history in memory (the app writes it back at
 * exit); nothing in the command-line tool, which never read it. */
static void
history_forget(json_t *texts)
{
	int i;

	for (i = history_length - 1; i >= 0; i--) {
		HIST_ENTRY *h = history_get(history_base + i);

		if (h != NULL && h->line != NULL && typed_by(h->line, texts))
			free_history_entry(remove_history(i));
	}
}

/* `triage ask`'s kept conversation (tui/cmd-ask.c), malloc'd. */
static char *
ask_conversation(void)
{
	char *d = path_data_dir(), *p = NULL;

	if (d != NULL && asprintf(&p, "%s/ask/last.json", d) < 0)
		p = NULL;
	free(d);
	return p;
}

/*
 * The conversation holds a brief with log lines, questions and answers:
 * it goes by the sessions' retention (0: at once).  1 if removed.
 */
int
ask_conversation_expire(long max_age)
{
	char *p = ask_conversation();
	struct stat st;
	int rc = 0;

	if (p != NULL && max_age >= 0 && lstat(p, &st) == 0 &&
	    S_ISREG(st.st_mode) && (max_age == 0 ||
	    time(NULL) - st.st_mtime >= max_age))
		rc = unlink(p) == 0;
	free(p);
	return rc;
}

static void
say_stdout(void *arg, const char *line)
{
	(void)arg;
	out_printf(stdout, "%s\n", line);
}

/*
 * Remove ROOT/ID, naming every file it removes through say(); with
 * `history`, the lines it typed leave the history file and memory too.
 * 0 if all went.
 */
int
sessions_erase(const char *root, const char *id, int history,
    void (*say)(void *, const char *), void *arg)
{
	char *dir = NULL, *p;
	DIR *d;
	struct dirent *e;
	struct stat st;
	json_t *texts = NULL;
	size_t nh = 0;
	int rc = -1;

	if (asprintf(&dir, "%s/%s", root, id) < 0)
		return -1;
	if ((d = opendir(dir)) == NULL) {
		out_printf(stderr, "triage: sessions: %s: %s\n", id, strerror(errno));
		goto out;
	}
	texts = typed_texts(dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    strcmp(e->d_name, "..") == 0))
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			continue;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			char *l;

			if (asprintf(&l, "removed %s", p) >= 0) {
				say(arg, l);
				free(l);
			}
		}
		free(p);
	}
	closedir(d);
	if (history) {
		char *l = NULL;

		history_forget(texts);
		if (history_erase(texts, &nh) != 0)
			say(arg, "cannot rewrite the history");
		else if (nh > 0 && asprintf(&l, "removed %zu line%s of %s from "
		    "the history", nh, nh == 1 ? "" : "s", id) >= 0)
			say(arg, l);
		free(l);
	}
	if (sessions_remove(dir) != 0) {
		out_printf(stderr, "triage: sessions: %s: not all removed: %s\n",
		    dir, strerror(errno));
		goto out;
	}
	{
		char *l;

		if (asprintf(&l, "removed %s/", dir) >= 0) {
			say(arg, l);
			free(l);
		}
	}
	rc = 0;
out:
	json_decref(texts);
	free(dir);
	return rc;
}

static int
show(const char *root, const char *id)
{
	char *path = NULL;
	json_t *doc = NULL, *v;
	size_t i;
	int rc = EXIT_TROUBLE;

	if (asprintf(&path, "%s/%s/session.json", root, id) < 0)
		return EXIT_TROUBLE;
	if ((doc = json_load_file(path, 0, NULL)) == NULL) {
		out_printf(stderr, "triage: sessions: %s: no such session or an "
		    "unreadable session.json\n", id);
		goto out;
	}
	out_printf(stdout, "session %s\n", id);
	out_printf(stdout, "created: %.4s-%.2s-%.2s %.2s:%.2s\n", id, id + 4,
	    id + 6, id + 9, id + 11);
	if (json_is_string(v = json_object_get(doc, "saved")))
		out_printf(stdout, "saved:   %s\n", json_string_value(v));
	json_array_foreach(json_object_get(doc, "sources"), i, v)
		out_printf(stdout, "source:  %s%s\n",
		    json_string_value(json_object_get(v, "path")) ?
		    json_string_value(json_object_get(v, "path")) : "?",
		    json_is_true(json_object_get(v, "missing")) ? " (missing)" : "");
	out_printf(stdout, "notes: %zu, answers: %zu, ticked checks: %zu\n",
	    json_array_size(json_object_get(doc, "notes")),
	    json_array_size(json_object_get(doc, "answers")),
	    json_array_size(json_object_get(doc, "ticks")));
	rc = 0;
out:
	json_decref(doc);
	free(path);
	return rc;
}

int
cmd_sessions(int argc, char **argv)
{
	char *root = NULL;
	struct sess_info *v = NULL;
	size_t n = 0, i;
	int rc = EXIT_TROUBLE, bad = 0;
	size_t nh;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(sessions_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_TROUBLE : 0;
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		return session_print_list(NULL);
	if ((strcmp(argv[1], "show") != 0 && strcmp(argv[1], "erase") != 0) ||
	    argc != 3) {
		fputs(sessions_usage, stderr);
		return EXIT_TROUBLE;
	}
	if ((root = sessions_root(NULL)) == NULL) {
		out_printf(stderr, "triage: sessions: no data directory\n");
		return EXIT_TROUBLE;
	}
	if (strcmp(argv[1], "erase") == 0 && strcmp(argv[2], "--all") == 0) {
		if (sessions_list(root, &v, &n) != 0) {
			out_printf(stderr, "triage: sessions: %s: cannot list\n", root);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (sessions_erase(root, v[i].id, 0, say_stdout, NULL) != 0)
				bad = 1;
		if (history_erase(NULL, &nh) != 0)
			bad = 1;
		else
			out_printf(stdout, "removed the history (%zu lines)\n", nh);
		{
			char *p = ask_conversation();

			if (p != NULL && ask_conversation_expire(0))
				out_printf(stdout, "removed %s\n", p);
			free(p);
		}
		rc = bad ? EXIT_TROUBLE : 0;
		goto out;
	}
	if (!sessions_valid_id(argv[2])) {
		out_printf(stderr, "triage: sessions: \"%s\" is not a session id "
		    "(see triage sessions list)\n", argv[2]);
		goto out;
	}
	if (strcmp(argv[1], "show") == 0)
		rc = show(root, argv[2]);
	else
		rc = sessions_erase(root, argv[2], 1, say_stdout, NULL) == 0 ? 0 :
		    EXIT_TROUBLE;
out:
	sessions_info_free(v, n);
	free(root);
	return rc;
}

struct erase_note {
	struct app	*a;
	size_t		 n;
};

static void
count_line(void *arg, const char *line)
{
	struct erase_note *e = arg;

	size_t n = strlen(line);

	/* the files, not the directory or the history summary */
	if (strncmp(line, "removed /", 9) == 0 && line[n - 1] != '/')
		e->n++;
}

/* ":sessions erase ID" in the app: not this session, which is saved at
 * exit (quit, then `triage sessions erase ID`). */
void
session_erase_command(struct app *a, const char *id)
{
	struct erase_note e = { a, 0 };

	id += strspn(id, " ");
	if (!sessions_valid_id(id))
		app_message(a, true, "%s: not a session id (:sessions lists them)", id);
	else if (a->session_id != NULL && strcmp(id, a->session_id) == 0)
		app_message(a, true, "%s is this session: quit, then triage "
		    "sessions erase %s", id, id);
	else if (sessions_erase(a->sessions_root, id, 1, count_line, &e) != 0)
		app_message(a, true, "%s: not erased (no such session?)", id);
	else
		app_message(a, false, "%s erased (%zu files and its history lines)",
		    id, e.n);
}
