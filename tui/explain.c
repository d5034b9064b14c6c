/*
 * explain.c - `triage analyze --explain --model FILE`: a model card for
 * each of the top unknown templates (tui/card-model.c), printed after
 * the rule-based view, never instead of it.  Model cards are labelled as
 * the model's everywhere (text: "MODEL CARD", json: "source": "model");
 * a card failing its checks is reported with its reason and recorded as
 * a fallback (tui/assist.c), and nothing of it is shown as a card.
 */
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
		struct tui_mcard_line l;
		struct tui_mcard c;
		char *why = NULL;

		if (pb_analysis_template_suggestion(a, i) >= 0 ||
		    (text = pb_analysis_template(a, i, &count, &ex, &file,
		    &lineno)) == NULL)
			continue;
		done++;
		l.lineno = lineno;
		l.text = ex;
		if (tui_mcard_ask(tui_assist_model(as), s,
		    "an unknown log template", &l, 1, max_tokens, &c,
		    &why) != 0) {
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
