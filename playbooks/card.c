/*
 * card.c - a playbook's findings: count, first/last seen, evidence lines,
 * captured values, and the playbook's advice with placeholders filled.
 *
 * A problem repeated 10,000 times is one card: the first few evidence lines
 * and the most recent one are kept, values are counted in a bounded table.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define EXAMPLE_MAX	2048	/* bytes of an evidence line kept */
#define CAP_VALUES	32	/* distinct values kept per capture */
#define VALUE_MAX	256

struct example {
	char		*raw;		/* EXAMPLE_MAX bytes */
	size_t		 len;
	char		*text;		/* sanitized at finish */
	const char	*file;
	uint64_t	 lineno;
};

struct capval {
	char		*val;		/* sanitized, for display */
	char		*raw;		/* as captured, for counting */
	size_t		 len;
	uint64_t	 count;
};

struct capture {
	const char	*name;
	struct capval	 vals[CAP_VALUES];
	size_t		 n;
	uint64_t	 other;
};

struct pb_card {
	const struct pb_playbook *pb;
	uint64_t	 count;
	int64_t		 first, last;
	uint64_t	 seq;
	struct example	*ex;
	size_t		 nex, maxex;
	struct capture	 caps[PB_MAX_CAPTURES];
	size_t		 ncaps;
};

struct pb_card *
pb_card_new(const struct pb_playbook *pb, size_t max_examples)
{
	struct pb_card *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->ex = calloc(max_examples, sizeof(*c->ex))) == NULL) {
		free(c);
		return NULL;
	}
	c->pb = pb;
	c->maxex = max_examples;
	c->first = c->last = PB_TIME_NONE;
	return c;
}

void
pb_card_free(struct pb_card *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->maxex; i++) {
		free(c->ex[i].raw);
		free(c->ex[i].text);
	}
	free(c->ex);
	for (size_t i = 0; i < c->ncaps; i++)
		for (size_t j = 0; j < c->caps[i].n; j++) {
			free(c->caps[i].vals[j].val);
			free(c->caps[i].vals[j].raw);
		}
	free(c);
}

static int
keep(struct example *e, const char *file, uint64_t lineno, const char *line,
    size_t len)
{
	if (e->raw == NULL && (e->raw = malloc(EXAMPLE_MAX)) == NULL)
		return PB_ENOMEM;
	e->len = len < EXAMPLE_MAX ? len : EXAMPLE_MAX;
	memcpy(e->raw, line, e->len);
	e->file = file;
	e->lineno = lineno;
	return 0;
}

int
pb_card_add(struct pb_card *c, const char *file, uint64_t lineno,
    const char *line, size_t len, int64_t t, uint64_t count)
{
	c->count += count;
	if (t != PB_TIME_NONE) {
		if (c->first == PB_TIME_NONE || t < c->first)
			c->first = t;
		if (c->last == PB_TIME_NONE || t > c->last)
			c->last = t;
	}
	if (line == NULL)
		return 0;
	for (size_t i = 0; i < c->nex; i++)
		if (c->ex[i].lineno == lineno && c->ex[i].file == file)
			return 0;
	/* The first maxex-1 lines stay; the last slot follows the newest. */
	if (c->nex < c->maxex)
		return keep(&c->ex[c->nex++], file, lineno, line, len);
	return keep(&c->ex[c->maxex - 1], file, lineno, line, len);
}

int
pb_card_add_capture(struct pb_card *c, const char *name, const char *val,
    size_t len)
{
	struct capture *cp = NULL;

	if (len > VALUE_MAX)
		len = VALUE_MAX;
	for (size_t i = 0; i < c->ncaps; i++)
		if (c->caps[i].name == name) {	/* names are interned */
			cp = &c->caps[i];
			break;
		}
	if (cp == NULL) {
		if (c->ncaps == PB_MAX_CAPTURES)
			return 0;
		cp = &c->caps[c->ncaps++];
		cp->name = name;
	}
	for (size_t i = 0; i < cp->n; i++)
		if (cp->vals[i].len == len && memcmp(cp->vals[i].raw, val, len) == 0) {
			cp->vals[i].count++;
			return 0;
		}
	if (cp->n == CAP_VALUES) {
		cp->other++;
		return 0;
	}
	if ((cp->vals[cp->n].raw = malloc(len ? len : 1)) == NULL)
		return PB_ENOMEM;
	memcpy(cp->vals[cp->n].raw, val, len);
	if ((cp->vals[cp->n].val = pb_sanitize(val, len)) == NULL) {
		free(cp->vals[cp->n].raw);
		return PB_ENOMEM;
	}
	cp->vals[cp->n].len = len;
	cp->vals[cp->n++].count = 1;
	return 0;
}

static int
capval_cmp(const void *a, const void *b)
{
	const struct capval *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->val, y->val);
}

void
pb_card_finish(struct pb_card *c)
{
	for (size_t i = 0; i < c->nex; i++) {
		free(c->ex[i].text);
		c->ex[i].text = pb_sanitize(c->ex[i].raw, c->ex[i].len);
	}
	for (size_t i = 0; i < c->ncaps; i++)
		qsort(c->caps[i].vals, c->caps[i].n, sizeof(struct capval),
		    capval_cmp);
}

int
pb_card_cmp(const void *a, const void *b)
{
	const struct pb_card *x = *(struct pb_card *const *)a;
	const struct pb_card *y = *(struct pb_card *const *)b;

	if (x->pb->severity != y->pb->severity)
		return x->pb->severity < y->pb->severity ? -1 : 1;
	if (x->first != y->first) {
		if (x->first == PB_TIME_NONE)
			return 1;
		if (y->first == PB_TIME_NONE)
			return -1;
		return x->first < y->first ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

uint64_t pb_card_seq(const struct pb_card *c) { return c->seq; }
void pb_card_set_seq(struct pb_card *c, uint64_t s) { c->seq = s; }
const struct pb_playbook *pb_card_playbook(const struct pb_card *c) { return c->pb; }
uint64_t pb_card_count(const struct pb_card *c) { return c->count; }
int64_t pb_card_first(const struct pb_card *c) { return c->first; }
int64_t pb_card_last(const struct pb_card *c) { return c->last; }
size_t pb_card_nexamples(const struct pb_card *c) { return c->nex; }
size_t pb_card_ncaptures(const struct pb_card *c) { return c->ncaps; }

const char *
pb_card_example(const struct pb_card *c, size_t i, const char **file,
    uint64_t *lineno)
{
	if (i >= c->nex)
		return NULL;
	*file = c->ex[i].file;
	*lineno = c->ex[i].lineno;
	return c->ex[i].text != NULL ? c->ex[i].text : "";
}

const char *
pb_card_capture(const struct pb_card *c, size_t i, size_t nth,
    const char **value, uint64_t *count)
{
	if (i >= c->ncaps)
		return NULL;
	if (nth < c->caps[i].n) {
		*value = c->caps[i].vals[nth].val;
		*count = c->caps[i].vals[nth].count;
	} else {
		*value = NULL;
		*count = nth == c->caps[i].n ? c->caps[i].other : 0;
	}
	return c->caps[i].name;
}

/* A value that can stand bare in a command: a plain word that cannot be
 * taken for an option. */
static int
shell_safe(const char *v)
{
	if (*v == '\0' || *v == '-')
		return 0;
	for (; *v; v++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._:/@%+=,-", *v))
			return 0;
	return 1;
}

/* Append s (n bytes) to the growing buffer. */
static int
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	char *nb;

	if (*len + n + 1 > *cap) {
		size_t nc = (*len + n + 1) * 2;
		if ((nb = realloc(*buf, nc)) == NULL)
			return -1;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/*
 * Quote a value for where it lands in a shell command: bare words stay,
 * anything else is single-quoted; inside the template's own '...' or "..."
 * only the characters that would end that quoting are escaped, and a '!'
 * inside "..." is written "'!'" (closing and reopening the double quotes)
 * because interactive bash expands history there, and a backslash before
 * it would stay in the word.  Why: a log line is attacker-controlled and
 * the technician may paste the command.
 */
enum quote { Q_NONE, Q_SINGLE, Q_DOUBLE };

/* Where the template text so far leaves the shell: quoting, how many
 * characters the current word has, and whether this command has had a
 * "--" word (after which nothing is taken for an option). */
struct shell_pos {
	enum quote	 q;
	size_t		 wlen;
	char		 w[2];		/* the word's first two characters */
	int		 dashdash;
};

static int
append_value(char **buf, size_t *len, size_t *cap, const char *v, int shell,
    enum quote q)
{
	if (!shell || (q == Q_NONE && shell_safe(v)))
		return append(buf, len, cap, v, strlen(v));
	if (q == Q_NONE && append(buf, len, cap, "'", 1) != 0)
		return -1;
	for (; *v; v++) {
		int rc;
		if (q != Q_DOUBLE && *v == '\'')
			rc = append(buf, len, cap, "'\\''", 4);
		else if (q == Q_DOUBLE && *v == '!')
			rc = append(buf, len, cap, "\"'!'\"", 5);
		else if (q == Q_DOUBLE && strchr("\"$`\\", *v) != NULL) {
			char esc[2] = { '\\', *v };
			rc = append(buf, len, cap, esc, 2);
		} else
			rc = append(buf, len, cap, v, 1);
		if (rc != 0)
			return -1;
	}
	return q == Q_NONE ? append(buf, len, cap, "'", 1) : 0;
}

static void
word_char(struct shell_pos *sp, char c)
{
	if (sp->wlen < 2)
		sp->w[sp->wlen] = c;
	sp->wlen++;
}

static void
word_end(struct shell_pos *sp)
{
	if (sp->wlen == 2 && sp->w[0] == '-' && sp->w[1] == '-')
		sp->dashdash = 1;
	sp->wlen = 0;
}

/* Follow the template text [p, e) as the shell would read it. */
static void
shell_follow(struct shell_pos *sp, const char *p, const char *e)
{
	for (; p < e; p++) {
		if (sp->q == Q_NONE) {
			if (*p == '\\' && p + 1 < e)
				word_char(sp, *++p);
			else if (*p == '\'')
				sp->q = Q_SINGLE;
			else if (*p == '"')
				sp->q = Q_DOUBLE;
			else if (*p == ' ' || *p == '\t')
				word_end(sp);
			else if (strchr(";|&()\n", *p) != NULL) {
				word_end(sp);
				sp->dashdash = 0;	/* a new command */
			} else
				word_char(sp, *p);
		} else if (sp->q == Q_SINGLE) {
			if (*p == '\'')
				sp->q = Q_NONE;
			else
				word_char(sp, *p);
		} else {
			if (*p == '\\' && p + 1 < e)
				word_char(sp, *++p);
			else if (*p == '"')
				sp->q = Q_NONE;
			else
				word_char(sp, *p);
		}
	}
}

/*
 * Fill {{name}} placeholders.  In a command (shell), a value that starts
 * with '-' and would start a word before any "--" could be taken for an
 * option, and no quoting prevents that: such a value is not filled in, the
 * placeholder stays as <name> for the technician to fill by hand (the value
 * is on the card).  Authors put "--" before operands to have them filled
 * (triage-playbook(5), PLACEHOLDERS).  {{file}} is the evidence file's name
 * made printable like every value.
 */
char *
pb_card_fill(const struct pb_card *c, const char *tmpl, int shell)
{
	char *buf = NULL, name[80], *file = NULL;
	size_t len = 0, cap = 0, n;
	const char *p = tmpl, *o, *e, *v;
	struct shell_pos sp = { Q_NONE, 0, { 0, 0 }, 0 };

	if (append(&buf, &len, &cap, "", 0) != 0)
		return NULL;
	while ((o = strstr(p, "{{")) != NULL && (e = strstr(o + 2, "}}")) != NULL) {
		if (append(&buf, &len, &cap, p, (size_t)(o - p)) != 0)
			goto fail;
		shell_follow(&sp, p, o);
		n = (size_t)(e - o - 2);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, o + 2, n);
		name[n] = '\0';
		v = NULL;
		if (strcmp(name, "file") == 0 && c->nex > 0) {
			if (file == NULL && (file = pb_sanitize(c->ex[0].file,
			    strlen(c->ex[0].file))) == NULL)
				goto fail;
			v = file;
		}
		for (size_t i = 0; v == NULL && i < c->ncaps; i++)
			if (strcmp(c->caps[i].name, name) == 0 && c->caps[i].n > 0)
				v = c->caps[i].vals[0].val;
		if (v != NULL && shell && v[0] == '-' && sp.wlen == 0 &&
		    !sp.dashdash)
			v = NULL;	/* could be an option: left to the reader */
		if (v != NULL) {
			if (append_value(&buf, &len, &cap, v, shell, sp.q) != 0)
				goto fail;
		} else {
			char ph[96];
			snprintf(ph, sizeof(ph), "<%s>", name);
			if (append(&buf, &len, &cap, ph, strlen(ph)) != 0)
				goto fail;
		}
		sp.wlen += 3;	/* the word has begun, and is not "--" */
		p = e + 2;
	}
	if (append(&buf, &len, &cap, p, strlen(p)) != 0)
		goto fail;
	free(file);
	return buf;
fail:
	free(file);
	free(buf);
	return NULL;
}

/* ---- JSON document ------------------------------------------------------- */

static json_t *
filled_array(const struct pb_card *c, json_t *src, int shell)
{
	json_t *out = json_array(), *v;
	size_t i;
	char *s;

	json_array_foreach(src, i, v) {
		if ((s = pb_card_fill(c, json_string_value(v), shell)) == NULL)
			continue;
		json_array_append_new(out, json_string(s));
		free(s);
	}
	return out;
}

static json_t *
time_json(int64_t t)
{
	char buf[32];

	if (t == PB_TIME_NONE)
		return json_null();
	pb_time_format(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *
pb_card_json(const struct pb_card *c)
{
	json_t *doc = c->pb->doc, *o, *caps, *ev, *checks, *v, *esc;
	size_t i;
	char *s;

	o = json_object();
	json_object_set_new(o, "id", json_string(c->pb->id));
	json_object_set_new(o, "version", json_integer(c->pb->version));
	json_object_set_new(o, "title", json_string(c->pb->title));
	json_object_set_new(o, "class", json_string(c->pb->klass));
	json_object_set_new(o, "severity",
	    json_string(pb_severity_name(c->pb->severity)));
	json_object_set_new(o, "playbook", json_string(c->pb->path));
	json_object_set_new(o, "count", json_integer((json_int_t)c->count));
	json_object_set_new(o, "first_seen", time_json(c->first));
	json_object_set_new(o, "last_seen", time_json(c->last));
	json_object_set(o, "tags", json_object_get(doc, "tags"));
	json_object_set(o, "sources", json_object_get(doc, "sources"));
	caps = json_object();
	for (i = 0; i < c->ncaps; i++) {
		json_t *a = json_array();
		for (size_t j = 0; j < c->caps[i].n; j++)
			json_array_append_new(a, json_pack("{s:s,s:I}", "value",
			    c->caps[i].vals[j].val, "count",
			    (json_int_t)c->caps[i].vals[j].count));
		if (c->caps[i].other > 0)
			json_array_append_new(a, json_pack("{s:n,s:I}", "value",
			    "count", (json_int_t)c->caps[i].other));
		json_object_set_new(caps, c->caps[i].name, a);
	}
	json_object_set_new(o, "captures", caps);
	ev = json_array();
	for (i = 0; i < c->nex; i++)
		json_array_append_new(ev, json_pack("{s:s,s:I,s:s}", "file",
		    c->ex[i].file, "line", (json_int_t)c->ex[i].lineno, "text",
		    c->ex[i].text != NULL ? c->ex[i].text : ""));
	json_object_set_new(o, "evidence", ev);
	if ((s = pb_card_fill(c, json_string_value(json_object_get(doc,
	    "explanation")), 0)) != NULL) {
		json_object_set_new(o, "explanation", json_string(s));
		free(s);
	}
	json_object_set_new(o, "causes",
	    filled_array(c, json_object_get(doc, "causes"), 0));
	checks = json_array();
	json_array_foreach(json_object_get(doc, "checks"), i, v) {
		json_t *ck = json_object();
		const char *keys[3] = { "do", "command", "expect" };
		for (int k = 0; k < 3; k++) {
			json_t *f = json_object_get(v, keys[k]);
			if (f == NULL)
				continue;
			if ((s = pb_card_fill(c, json_string_value(f), k == 1)) != NULL) {
				json_object_set_new(ck, keys[k], json_string(s));
				free(s);
			}
		}
		json_array_append_new(checks, ck);
	}
	json_object_set_new(o, "checks", checks);
	json_object_set_new(o, "fix", filled_array(c, json_object_get(doc, "fix"), 0));
	json_object_set_new(o, "verify",
	    filled_array(c, json_object_get(doc, "verify"), 0));
	esc = json_object_get(doc, "escalate");
	s = pb_card_fill(c, json_string_value(json_object_get(esc, "when")), 0);
	json_object_set_new(o, "escalate", json_pack("{s:s?,s:o}", "when", s,
	    "attach", filled_array(c, json_object_get(esc, "attach"), 0)));
	free(s);
	json_object_set(o, "references", json_object_get(doc, "references"));
	v = json_object_get(doc, "false_positives");
	json_object_set_new(o, "false_positives",
	    v != NULL ? json_incref(v) : json_array());
	return o;
}
