/*
 * explain.h - model cards for `triage analyze --explain` (explain.c).
 */
#ifndef TRIAGE_TUI_EXPLAIN_H
#define TRIAGE_TUI_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct pb_analysis;
/*
 * Load model, ask for a card on each of the first max_cards unknown
 * templates (max_tokens each).  doc NULL: print text after the rule-based
 * view; else add "model_cards" and "model_cards_rejected" to doc.  -1 if
 * the model could not be used (said on stderr; the rule-based view
 * stands).
 */
int	 tui_explain_unknown(const struct pb_analysis *, const char *model,
	    size_t max_cards, uint32_t max_tokens, json_t *doc);

#endif
