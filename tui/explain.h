/*
 * explain.h - model cards for `triage analyze --explain` (explain.c).
 */
#ifndef TRIAGE_TUI_EXPLAIN_H
#define TRIAGE_TUI_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct pb_analysis;
struct pb_card;
struct tui_mcard_line;

/* Tokens a model card may take (the CLI and the app). */
#define TUI_EXPLAIN_TOKENS	400

/*
 * What to ask the model for a card about, built the same way for
 * `analyze --explain` and the app: the subject (said to the user), the
 * task phrase for the prompt, the lines given (numbered as in file).
 * Everything is owned; tui_explain_req_clear frees it.
 */
struct tui_explain_req {
	char		*subject, *what, *file;
	struct tui_mcard_line *lines;
	size_t		 n;
};
/* Unknown template i of the analysis: its example line. */
int	 tui_explain_template(const struct pb_analysis *, size_t i,
	    struct tui_explain_req *);
/* "Explain" a playbook card: why it applies here, from its evidence
 * lines and what its playbook says. */
int	 tui_explain_card(const struct pb_card *, struct tui_explain_req *);
/* Lines the technician selected. */
int	 tui_explain_lines(const char *file, const struct tui_mcard_line *lines,
	    size_t n, struct tui_explain_req *);
void	 tui_explain_req_clear(struct tui_explain_req *);
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
