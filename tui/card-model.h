/*
 * card-model.h - model cards: the model fills a fixed-form card about
 * some log lines, under a schema (constrained decoding), and triage
 * checks it before anyone sees it (tui/card-model.c, triage(1) MODEL
 * CARDS).  A card that fails any check is never shown as a card.
 */
#ifndef TRIAGE_TUI_CARD_MODEL_H
#define TRIAGE_TUI_CARD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/engine.h"

#define TUI_MCARD_CHECKS	3
#define TUI_MCARD_EVIDENCE	8

/* One line of the context the model is given: its number and text. */
struct tui_mcard_line {
	uint64_t	 lineno;
	const char	*text;
};

struct tui_mcard_check {
	char		*instruction;
	char		*command;	/* "" if none; only ever shown */
	char		*expected;
};

struct tui_mcard {
	char		*title, *class, *severity, *cause, *confidence;
	struct tui_mcard_check check[TUI_MCARD_CHECKS];
	size_t		 nchecks;
	uint64_t	 evidence[TUI_MCARD_EVIDENCE];
	size_t		 nevidence;
};

/* The card's JSON Schema (classes and severities from playbooks), malloc'd. */
char	*tui_mcard_schema(uint64_t lo, uint64_t hi);

/*
 * Parse and check a model's output against the context it was given:
 * JSON of the schema, class and severity in the taxonomy, at most three
 * checks, every cited line among lines[0..n).  0 and *card filled, or -1
 * with a malloc'd one-line *reason (the output is then not a card).
 */
int	 tui_mcard_parse(const char *text, size_t len,
	    const struct tui_mcard_line *lines, size_t n,
	    struct tui_mcard *card, char **reason);
void	 tui_mcard_clear(struct tui_mcard *);

/*
 * Ask the model for a card about lines[0..n) (what = a short phrase such
 * as "an unknown log template"), constrained by the schema, on session s
 * (reset first), at most max_tokens, greedy.  0 with *card, or -1 with
 * *reason ("incomplete: the token limit ...", a failed check, an engine
 * error).
 */
int	 tui_mcard_ask(struct eng_model *, struct eng_session *,
	    const char *what, const struct tui_mcard_line *lines, size_t n,
	    uint32_t max_tokens, struct tui_mcard *card, char **reason);

/*
 * The two halves of tui_mcard_ask, for callers that run the generation
 * themselves (the app, on the engine's thread): the prompt's tokens and
 * the schema's grammar (both to free), then the checks on what came out
 * (stop is how it ended, stop_msg the engine's word on it).
 */
struct eng_grammar;
int	 tui_mcard_prepare(struct eng_model *, const char *what,
	    const struct tui_mcard_line *lines, size_t n, int32_t **ids,
	    size_t *nids, struct eng_grammar **g, char **reason);
int	 tui_mcard_finish(const char *text, size_t len, enum eng_stop stop,
	    const char *stop_msg, const struct tui_mcard_line *lines, size_t n,
	    struct tui_mcard *card, char **reason);

/*
 * The card as plain text lines for a pane or a report, marked as the
 * model's: a first line "model card - suggested by the model, not a
 * playbook; checked by triage", every command "(suggested by the model,
 * not run)".  file names the evidence lines.  malloc'd.
 */
char	*tui_mcard_text(const struct tui_mcard *, const char *file);

/* The card as a JSON object with "source": "model" (for --json). */
struct json_t;
struct json_t *tui_mcard_json(const struct tui_mcard *);

#endif
