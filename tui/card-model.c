/*
 * card-model.c - model cards (card-model.h).
 *
 * Fail closed, in two layers.  The engine's constrained decoding
 * (engine/grammar.c) makes the model write JSON of the card schema, so a
 * random or weak model still produces something of the right shape, and
 * a cut-short one is reported incomplete.  Then this file checks what
 * the schema cannot: the cited lines are lines triage gave the model,
 * class and severity are in the playbooks' taxonomy (also enforced by
 * the schema's enums, checked again here because the text is parsed
 * anew), the strings are not empty where they must say something.  Any
 * failure is a reason, never a card.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "../playbooks/playbook.h"
#include "card-model.h"

static const char *const confidences[] = { "low", "medium", "high" };

static int
add_enum(json_t *arr, const char *s)
{
	return json_array_append_new(arr, json_string(s));
}

static json_t *
str_node(int max)
{
	return json_pack("{s:s, s:i}", "type", "string", "maxLength", max);
}

char *
tui_mcard_schema(uint64_t lo, uint64_t hi)
{
	json_t *sc = NULL, *cls = json_array(), *sev = json_array(),
	    *conf = json_array(), *check = NULL;
	const char *c;
	char *out = NULL;
	/* no more items than distinct lines in range: a model cannot fill
	 * the array by citing one line again and again */
	int max_ev = hi >= lo && hi - lo < TUI_MCARD_EVIDENCE ?
	    (int)(hi - lo + 1) : TUI_MCARD_EVIDENCE;

	if (cls == NULL || sev == NULL || conf == NULL)
		goto out;
	for (size_t i = 0; (c = pb_class_name(i)) != NULL; i++)
		add_enum(cls, c);
	for (int i = PB_SEV_CRITICAL; i <= PB_SEV_INFO; i++)
		add_enum(sev, pb_severity_name((enum pb_severity)i));
	for (size_t i = 0; i < 3; i++)
		add_enum(conf, confidences[i]);
	check = json_pack("{s:s, s:[sss], s:{s:o, s:o, s:o}}", "type",
	    "object", "required", "instruction", "command", "expected",
	    "properties", "instruction", str_node(120), "command",
	    str_node(120), "expected", str_node(120));
	if (check == NULL)
		goto out;
	/* json_pack "o" steals: the enums and check go into sc */
	sc = json_pack("{s:s, s:[sssssss], s:{s:o, s:{s:O}, s:{s:O}, s:o, "
	    "s:{s:O}, s:{s:s, s:i, s:O}, s:{s:s, s:i, s:{s:s, s:I, s:I}}}}",
	    "type", "object", "required", "title", "class", "severity", "cause",
	    "confidence", "checks", "evidence", "properties",
	    "title", str_node(80),
	    "class", "enum", cls,
	    "severity", "enum", sev,
	    "cause", str_node(200),
	    "confidence", "enum", conf,
	    "checks", "type", "array", "maxItems", TUI_MCARD_CHECKS, "items",
	    check,
	    "evidence", "type", "array", "maxItems", max_ev,
	    "items", "type", "integer", "minimum", (json_int_t)lo, "maximum",
	    (json_int_t)hi);
	if (sc != NULL)
		out = json_dumps(sc, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(sc);
	json_decref(cls);
	json_decref(sev);
	json_decref(conf);
	json_decref(check);
	return out;
}

void
tui_mcard_clear(struct tui_mcard *c)
{
	free(c->title);
	free(c->class);
	free(c->severity);
	free(c->cause);
	free(c->confidence);
	for (size_t i = 0; i < c->nchecks; i++) {
		free(c->check[i].instruction);
		free(c->check[i].command);
		free(c->check[i].expected);
	}
	memset(c, 0, sizeof *c);
}

static bool
in_list(const char *s, const char *(*name)(size_t), size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = name(i);

		if (v == NULL)
			break;
		if (strcmp(s, v) == 0)
			return true;
	}
	return false;
}

static const char *
sev_at(size_t i)
{
	return i <= PB_SEV_INFO ? pb_severity_name((enum pb_severity)i) : NULL;
}

static const char *
conf_at(size_t i)
{
	return i < 3 ? confidences[i] : NULL;
}

static int reason(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
reason(char **r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(r, fmt, ap) < 0)
		*r = NULL;
	va_end(ap);
	return -1;
}

/* A string member that must say something (not only spaces). */
static char *
text_of(json_t *o, const char *k, bool may_be_empty)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL)
		return NULL;
	if (!may_be_empty && s[strspn(s, " ")] == '\0')
		return NULL;
	return strdup(s);
}

/* Does word w[0..len) occur in s, ignoring ASCII case? */
static bool
has_word(const char *s, const char *w, size_t len)
{
	for (; *s; s++)
		if (strncasecmp(s, w, len) == 0)
			return true;
	return false;
}

/*
 * Grounding: some word of 4+ letters or digits of the lines given (a
 * program, a device, an error word) appears in the card's own text.  A
 * card that could be about anything is not a reading of these lines.
 */
static bool
grounded(const struct tui_mcard *c, const struct tui_mcard_line *lines,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = lines[i].text;

		while (*p) {
			size_t len = 0;

			while (p[len] && (isalnum((unsigned char)p[len]) ||
			    p[len] == '_'))
				len++;
			if (len >= 4 && len < 64 && (has_word(c->title, p, len) ||
			    has_word(c->cause, p, len) || (c->nchecks > 0 &&
			    has_word(c->check[0].instruction, p, len))))
				return true;
			p += len ? len : 1;
		}
	}
	return false;
}

int
tui_mcard_parse(const char *text, size_t len,
    const struct tui_mcard_line *lines, size_t n, struct tui_mcard *card,
    char **why)
{
	static const char *const strs[] = { "title", "cause" };
	json_t *o = NULL, *v, *x;
	size_t i;
	int rc = -1;

	memset(card, 0, sizeof *card);
	*why = NULL;
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o)) {
		reason(why, "the output is not a JSON object%s", "");
		goto out;
	}
	card->title = text_of(o, "title", false);
	card->cause = text_of(o, "cause", false);
	for (i = 0; i < 2; i++)
		if ((i == 0 ? card->title : card->cause) == NULL) {
			reason(why, "the %s is missing or empty", strs[i]);
			goto out;
		}
	card->class = text_of(o, "class", false);
	card->severity = text_of(o, "severity", false);
	card->confidence = text_of(o, "confidence", false);
	if (card->title == NULL || card->cause == NULL) {
		reason(why, "out of memory%s", "");
		goto out;
	}
	if (card->class == NULL || !pb_class_valid(card->class)) {
		reason(why, "the class is not one of the playbooks' classes%s",
		    "");
		goto out;
	}
	if (card->severity == NULL || !in_list(card->severity, sev_at, 5)) {
		reason(why, "the severity is not one of triage's%s", "");
		goto out;
	}
	if (card->confidence == NULL || !in_list(card->confidence, conf_at,
	    3)) {
		reason(why, "the confidence is not low, medium or high%s", "");
		goto out;
	}
	v = json_object_get(o, "checks");
	if (!json_is_array(v) || json_array_size(v) > TUI_MCARD_CHECKS) {
		reason(why, "the checks are missing or more than %s", "three");
		goto out;
	}
	json_array_foreach(v, i, x) {
		struct tui_mcard_check *c = &card->check[card->nchecks];

		c->instruction = text_of(x, "instruction", false);
		c->command = text_of(x, "command", true);
		c->expected = text_of(x, "expected", true);
		card->nchecks++;
		if (c->instruction == NULL || c->command == NULL ||
		    c->expected == NULL) {
			reason(why, "check %s has no instruction", i == 0 ?
			    "1" : i == 1 ? "2" : "3");
			goto out;
		}
	}
	v = json_object_get(o, "evidence");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > TUI_MCARD_EVIDENCE) {
		reason(why, "the card cites %s", json_is_array(v) &&
		    json_array_size(v) == 0 ? "no evidence lines" :
		    "its evidence wrongly");
		goto out;
	}
	json_array_foreach(v, i, x) {
		json_int_t ln = json_integer_value(x);
		bool found = false;
		char num[32];

		for (size_t j = 0; j < n && json_is_integer(x); j++)
			found |= (json_int_t)lines[j].lineno == ln;
		if (!found) {
			snprintf(num, sizeof num, "%lld", (long long)ln);
			reason(why, "the card cites line %s, which it was not "
			    "given", num);
			goto out;
		}
		for (size_t j = 0; j < card->nevidence; j++)
			if (card->evidence[j] == (uint64_t)ln) {
				snprintf(num, sizeof num, "%lld", (long long)ln);
				reason(why, "the card cites line %s twice", num);
				goto out;
			}
		card->evidence[card->nevidence++] = (uint64_t)ln;
	}
	if (!grounded(card, lines, n)) {
		reason(why, "the title, cause and checks name nothing in the "
		    "lines given%s", "");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		tui_mcard_clear(card);
	json_decref(o);
	return rc;
}

/* The prompt: what to do, the allowed values, then the numbered lines. */
static char *
prompt_of(const char *what, const struct tui_mcard_line *lines, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *c;

	if (f == NULL)
		return NULL;
	fprintf(f, "Fill a troubleshooting card for %s as one JSON object "
	    "with title, class, severity, cause, confidence (low, medium, "
	    "high), up to three checks (instruction, command, expected) and "
	    "evidence (the numbers of the lines below that show it). Classes:",
	    what);
	for (size_t i = 0; (c = pb_class_name(i)) != NULL; i++)
		fprintf(f, " %s", c);
	fprintf(f, ".\nLines:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llu: %s\n", (unsigned long long)lines[i].lineno,
		    lines[i].text);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
tui_mcard_prepare(struct eng_model *m, const char *what,
    const struct tui_mcard_line *lines, size_t n, int32_t **ids,
    size_t *nids, struct eng_grammar **gp, char **why)
{
	struct eng_grammar *g = NULL;
	struct eng_msg msg[2];
	char *schema = NULL, *prompt = NULL, *user = NULL, *cause = NULL;
	uint64_t lo = UINT64_MAX, hi = 0;
	int rc = -1;

	*why = NULL;
	*ids = NULL;
	*nids = 0;
	*gp = NULL;
	if (n == 0)
		return reason(why, "there are no lines to explain%s", "");
	for (size_t i = 0; i < n; i++) {
		lo = lines[i].lineno < lo ? lines[i].lineno : lo;
		hi = lines[i].lineno > hi ? lines[i].lineno : hi;
	}
	if ((schema = tui_mcard_schema(lo, hi)) == NULL ||
	    (prompt = prompt_of(what, lines, n)) == NULL)
		goto oom;
	if (eng_grammar_new(schema, strlen(schema), m, &g, &cause) != 0) {
		*why = cause;
		cause = NULL;
		goto out;
	}
	if (asprintf(&user, "%s%s", prompt, eng_chat_has_think(m) ?
	    " /no_think" : "") < 0) {
		user = NULL;
		goto oom;
	}
	msg[0].role = "system";
	msg[0].content = "You are a log triage assistant. Answer with JSON only.";
	msg[1].role = "user";
	msg[1].content = user;
	if (eng_chat_tokenize(m, msg, 2, ids, nids, NULL, &cause) != 0) {
		/* no chat template (a base model): the plain text */
		free(cause);
		cause = NULL;
		if (eng_tokenize(m, prompt, strlen(prompt), true, ids,
		    nids) != 0)
			goto oom;
	}
	*gp = g;
	g = NULL;
	rc = 0;
	goto out;
oom:
	free(*why);
	*why = strdup("out of memory");
out:
	eng_grammar_free(g);
	free(cause);
	free(schema);
	free(prompt);
	free(user);
	return rc;
}

int
tui_mcard_finish(const char *text, size_t len, enum eng_stop stop,
    const char *stop_msg, const struct tui_mcard_line *lines, size_t n,
    struct tui_mcard *card, char **why)
{
	memset(card, 0, sizeof *card);
	*why = NULL;
	if (stop != ENG_STOP_EOG)
		return reason(why, "%s", stop_msg && *stop_msg ? stop_msg :
		    stop == ENG_STOP_CANCEL ? "cancelled" :
		    "the model stopped early");
	return tui_mcard_parse(text ? text : "", len, lines, n, card, why);
}

int
tui_mcard_ask(struct eng_model *m, struct eng_session *s, const char *what,
    const struct tui_mcard_line *lines, size_t n, uint32_t max_tokens,
    struct tui_mcard *card, char **why)
{
	struct eng_grammar *g = NULL;
	struct eng_gen *gen = NULL;
	struct eng_sample_params sp;
	struct eng_event ev;
	char *out = NULL, *cause = NULL;
	int32_t *ids = NULL;
	size_t nids = 0, nout = 0, cap = 0;
	enum eng_stop stop = ENG_STOP_ERROR;
	char done_msg[160] = "";
	int rc = -1;

	*why = NULL;
	memset(card, 0, sizeof *card);
	if (tui_mcard_prepare(m, what, lines, n, &ids, &nids, &g, why) != 0)
		return -1;
	eng_session_reset(s);
	eng_sample_defaults(&sp);
	sp.temp = 0;
	sp.max_tokens = max_tokens;
	sp.grammar = g;
	if (eng_gen_start(s, ids, nids, &sp, &gen, &cause) != 0) {
		*why = cause;
		cause = NULL;
		goto out;
	}
	while (eng_gen_next(gen, &ev, true) == 1) {
		if (ev.kind == ENG_EV_TEXT) {
			if (nout + ev.len + 1 > cap) {
				size_t nc = (nout + ev.len + 1) * 2;
				char *p = realloc(out, nc);

				if (p == NULL) {
					*why = strdup("out of memory");
					goto out;
				}
				out = p;
				cap = nc;
			}
			memcpy(out + nout, ev.text, ev.len);
			nout += ev.len;
		} else if (ev.kind == ENG_EV_DONE) {
			stop = ev.stop;
			snprintf(done_msg, sizeof done_msg, "%.*s", (int)ev.len,
			    ev.text ? ev.text : "");
		}
	}
	rc = tui_mcard_finish(out, nout, stop, done_msg, lines, n, card, why);
out:
	eng_gen_free(gen);
	eng_grammar_free(g);
	free(cause);
	free(ids);
	free(out);
	return rc;
}

/* A string for JSON, made safe like log text (pb_sanitize); NULL: "". */
static json_t *
safe(const char *s)
{
	char *t = pb_sanitize(s, strlen(s));
	json_t *j = json_string(t != NULL ? t : "");

	free(t);
	return j;
}

json_t *
tui_mcard_json(const struct tui_mcard *c)
{
	json_t *o, *checks = json_array(), *ev = json_array();

	for (size_t i = 0; checks != NULL && i < c->nchecks; i++)
		json_array_append_new(checks, json_pack("{s:o, s:o, s:o, s:b}",
		    "instruction", safe(c->check[i].instruction), "command",
		    safe(c->check[i].command), "expected",
		    safe(c->check[i].expected), "suggested_by_model", 1));
	for (size_t i = 0; ev != NULL && i < c->nevidence; i++)
		json_array_append_new(ev, json_integer((json_int_t)c->evidence[i]));
	o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:o}", "source",
	    "model", "title", safe(c->title), "class", c->class, "severity",
	    c->severity, "cause", safe(c->cause), "confidence", c->confidence,
	    "checks", checks, "evidence", ev);
	return o;
}

char *
tui_mcard_text(const struct tui_mcard *c, const char *file)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "MODEL CARD - suggested by the model, not a playbook; "
	    "checked by triage\n%s\nclass %s, severity %s, model's confidence "
	    "%s\nLikely cause (model): %s\nEvidence:", c->title, c->class,
	    c->severity, c->confidence, c->cause);
	for (size_t i = 0; i < c->nevidence; i++)
		fprintf(f, " %s:%llu", file ? file : "line",
		    (unsigned long long)c->evidence[i]);
	fputc('\n', f);
	for (size_t i = 0; i < c->nchecks; i++) {
		fprintf(f, "Check %zu: %s\n", i + 1, c->check[i].instruction);
		if (c->check[i].command[0] != '\0')
			fprintf(f, "  $ %s   (suggested by the model, not run; "
			    "read it before you run it)\n", c->check[i].command);
		if (c->check[i].expected[0] != '\0')
			fprintf(f, "  expected: %s\n", c->check[i].expected);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
