/*
 * explain.c - `triage analyze --explain --model FILE`: a model card for
 * each of the top unknown templates (tui/card-model.c), printed after
 * the rule-based view, never instead of it.  Model cards are labelled as
 * the model's everywhere (text: "MODEL CARD", json: "source": "model");
 * a card failing its checks is reported with its reason and recorded as
 * a fallback (tui/assist.c), and nothing of it is shown as a card.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../playbooks/playbook.h"
#include "assist.h"
#include "card-model.h"
#include "explain.h"
#include "tui.h"

void
tui_explain_req_clear(struct tui_explain_req *r)
{
	for (size_t i = 0; r->lines != NULL && i < r->n; i++)
		free((char *)r->lines[i].text);
	free(r->lines);
	free(r->subject);
	free(r->what);
	free(r->file);
	memset(r, 0, sizeof *r);
}

/* Take lines[0..n) (copied) and the strings (taken). */
static int
req_fill(struct tui_explain_req *r, char *subject, char *what,
    const char *file, const struct tui_mcard_line *lines, size_t n)
{
	memset(r, 0, sizeof *r);
	r->subject = subject;
	r->what = what;
	if (subject == NULL || what == NULL || n == 0 ||
	    (r->file = strdup(file ? file : "")) == NULL ||
	    (r->lines = calloc(n, sizeof *r->lines)) == NULL)
		goto fail;
	for (; r->n < n; r->n++) {
		r->lines[r->n].lineno = lines[r->n].lineno;
		if ((r->lines[r->n].text = strdup(lines[r->n].text)) == NULL)
			goto fail;
	}
	return 0;
fail:
	if (r->subject == NULL || r->what == NULL) {
		free(subject);
		free(what);
		r->subject = r->what = NULL;
	}
	tui_explain_req_clear(r);
	return -1;
}

static char *
dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
dupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int
tui_explain_template(const struct pb_analysis *a, size_t i,
    struct tui_explain_req *r)
{
	const char *text, *ex, *file;
	uint64_t count, lineno;
	struct tui_mcard_line l;

	memset(r, 0, sizeof *r);
	if ((text = pb_analysis_template(a, i, &count, &ex, &file,
	    &lineno)) == NULL)
		return -1;
	l.lineno = lineno;
	l.text = ex;
	return req_fill(r, dupf("unknown template \"%s\"", text),
	    strdup("an unknown log template"), file, &l, 1);
}

int
tui_explain_card(const struct pb_card *c, struct tui_explain_req *r)
{
	const struct pb_playbook *pb = pb_card_playbook(c);
	const char *ex = json_string_value(json_object_get(
	    pb_playbook_json(pb), "explanation"));
	struct tui_mcard_line l[TUI_MCARD_EVIDENCE];
	const char *file = NULL, *f;
	size_t n = 0;

	memset(r, 0, sizeof *r);
	/* the evidence of one file: the lines' numbers must mean one thing */
	for (size_t k = 0; k < pb_card_nexamples(c) && n < TUI_MCARD_EVIDENCE;
	    k++) {
		uint64_t ln;
		const char *t = pb_card_example(c, k, &f, &ln);

		if (t == NULL || (file != NULL && f != NULL &&
		    strcmp(f, file) != 0))
			continue;
		file = f;
		l[n].lineno = ln;
		l[n++].text = t;
	}
	if (n == 0)
		return -1;
	return req_fill(r, dupf("explain the playbook card \"%s\"",
	    pb_playbook_title(pb)), dupf("the playbook card \"%s\" (class %s, "
	    "severity %s), to explain why it applies to these lines; its "
	    "playbook says: %.400s", pb_playbook_title(pb),
	    pb_playbook_class(pb), pb_severity_name(pb_playbook_severity(pb)),
	    ex ? ex : "(no explanation)"), file, l, n);
}

int
tui_explain_lines(const char *file, const struct tui_mcard_line *lines,
    size_t n, struct tui_explain_req *r)
{
	return req_fill(r, dupf("the %zu selected line%s", n, n == 1 ? "" :
	    "s"), strdup("the log lines a technician selected"), file, lines,
	    n);
}

static void
print_card(const struct tui_mcard *c, const char *file)
{
	out_printf(stdout, "%sMODEL CARD%s (suggested by the model, not a "
	    "playbook; checked by triage)\n  %s%s%s\n", col(C_MAGENTA),
	    col(C_RESET), col(C_BOLD), c->title, col(C_RESET));
	out_printf(stdout, "  class %s, severity %s, model's confidence %s\n",
	    c->class, c->severity, c->confidence);
	out_printf(stdout, "  Likely cause (model): %s\n", c->cause);
	out_printf(stdout, "  Evidence:");
	for (size_t i = 0; i < c->nevidence; i++)
		out_printf(stdout, " %s:%llu", file,
		    (unsigned long long)c->evidence[i]);
	out_printf(stdout, "\n");
	for (size_t i = 0; i < c->nchecks; i++) {
		out_printf(stdout, "  Check %zu: %s\n", i + 1,
		    c->check[i].instruction);
		if (c->check[i].command[0] != '\0')
			out_printf(stdout, "    $ %s   %s(suggested by the "
			    "model, not run; read it before you run it)%s\n",
			    c->check[i].command, col(C_DIM), col(C_RESET));
		if (c->check[i].expected[0] != '\0')
			out_printf(stdout, "    expected: %s\n",
			    c->check[i].expected);
	}
	out_printf(stdout, "\n");
}

int
tui_explain_unknown(const struct pb_analysis *a, const char *model,
    size_t max_cards, uint32_t max_tokens, json_t *doc)
{
	struct tui_assist *as = NULL;
	struct eng_session *s = NULL;
	struct eng_load_opts lo = { .n_ctx = 2048 };
	json_t *cards = json_array(), *rej = json_array();
	char *cause = NULL;
	size_t done = 0;
	int rc = -1;

	if (cards == NULL || rej == NULL || tui_assist_new(&as) != 0)
		goto out;
	if (tui_assist_load(as, model, &lo, &cause) != 0 ||
	    eng_session_new(tui_assist_model(as), &s, &cause) != 0) {
		out_printf(stderr, "triage: --explain: %s; the rule-based "
		    "view stands\n", cause ? cause : "cannot load the model");
		goto out;
	}
	if (doc == NULL)
		out_printf(stdout, "%sModel cards%s for unknown templates "
		    "(the model's reading, checked by triage; the cards above "
		    "are the rule-based view)\n", col(C_BOLD), col(C_RESET));
	for (size_t i = 0; i < pb_analysis_ntemplates(a) && done < max_cards;
	    i++) {
		const char *text, *ex, *file;
		uint64_t count, lineno;
		struct tui_explain_req rq;
		struct tui_mcard c;
		char *why = NULL;
		int r;

		if (pb_analysis_template_suggestion(a, i) >= 0 ||
		    (text = pb_analysis_template(a, i, &count, &ex, &file,
		    &lineno)) == NULL || tui_explain_template(a, i, &rq) != 0)
			continue;
		done++;
		/* the request the app makes for the same template */
		r = tui_mcard_ask(tui_assist_model(as), s, rq.what, rq.lines,
		    rq.n, max_tokens, &c, &why);
		tui_explain_req_clear(&rq);
		if (r != 0) {
			tui_assist_fallback(as, TUI_FB_INVALID_CARD, why);
			if (doc != NULL)
				json_array_append_new(rej, json_pack(
				    "{s:s, s:s, s:s}", "template", text,
				    "fallback", "invalid-card", "reason",
				    why ? why : ""));
			else
				out_printf(stdout, "  The model could not "
				    "produce a valid card for \"%s\": %s. The "
				    "rule-based view stands.\n\n", text,
				    why ? why : "unknown reason");
			free(why);
			continue;
		}
		if (doc != NULL) {
			json_t *o = tui_mcard_json(&c);

			if (o != NULL) {
				json_object_set_new(o, "template",
				    json_string(text));
				json_object_set_new(o, "file", json_string(file));
				json_array_append_new(cards, o);
			}
		} else
			print_card(&c, file);
		tui_mcard_clear(&c);
	}
	if (doc == NULL)
		out_printf(stdout, "%zu template%s explained: %zu valid card%s, "
		    "%zu rejected\n\n", done, done == 1 ? "" : "s",
		    done - tui_assist_fallbacks(as),
		    done - tui_assist_fallbacks(as) == 1 ? "" : "s",
		    tui_assist_fallbacks(as));
	rc = 0;
out:
	if (doc != NULL) {
		json_object_set(doc, "model_cards", cards);
		json_object_set(doc, "model_cards_rejected", rej);
	}
	json_decref(cards);
	json_decref(rej);
	free(cause);
	eng_session_free(s);
	tui_assist_free(as);
	return rc;
}
