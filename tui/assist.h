/*
 * assist.h - the assistant: one conversation with the local model, the
 * context it is grounded in, the token budget and the model in use, for
 * `triage ask` and the app alike.  Callers draw; this decides.
 *
 * A conversation is: the system prompt, a brief (what triage found, what
 * the technician selected) that opens the first user turn, then questions
 * and answers.  Each question is rendered with the whole history; what the
 * session's KV cache already holds of that rendering is kept
 * (eng_session_keep_prefix) and only the rest is prefilled.  When the
 * history no longer fits, the oldest exchanges are dropped, never the
 * brief, and the caller is told how many.
 *
 * Kinds of turn: TUI_TURN_QUESTION; a model card (tui_assist_card) is a
 * structured request outside the conversation, on the same model.
 */
#ifndef TRIAGE_TUI_ASSIST_H
#define TRIAGE_TUI_ASSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/engine.h"

struct tui_assist;

/* Why the assistant could not answer; stable names for counting. */
enum tui_fallback {
	TUI_FB_NONE = 0,
	TUI_FB_NO_MODEL,	/* "no-model" */
	TUI_FB_LOAD,		/* "load-failed" */
	TUI_FB_TIMEOUT,		/* "timeout" */
	TUI_FB_NAN,		/* "nan" */
	TUI_FB_CONTEXT,		/* "context-full": even the brief does not fit */
	TUI_FB_ERROR,		/* "error" */
	TUI_FB_INVALID_CARD,	/* "invalid-card": a model card failed its
				   checks (tui/card-model.c) */
	TUI_FB_CARDS_OFF,	/* "cards-off": TUI_ASSIST_BAD_CARDS invalid
				   cards in a row; no more are asked */
};
const char *tui_fallback_name(enum tui_fallback);

enum tui_turn_kind {
	TUI_TURN_QUESTION = 1,
	TUI_TURN_RAW,		/* no template, no history: text continued */
};

/* What a turn cost, for the pane and `ask --json`. */
struct tui_turn_info {
	size_t		 n_prompt;	/* tokens of the whole rendering */
	size_t		 n_reused;	/* of which the KV cache already held */
	size_t		 n_dropped;	/* exchanges dropped to fit, this turn */
	size_t		 n_history;	/* exchanges sent before this question */
};

int	 tui_assist_new(struct tui_assist **out);
void	 tui_assist_free(struct tui_assist *);

/*
 * Load (or switch to) a model; the old one, its cache and any running
 * answer go.  On failure the reason is recorded (TUI_FB_LOAD) and the
 * assistant has no model.
 */
int	 tui_assist_load(struct tui_assist *, const char *path,
	    const struct eng_load_opts *, char **cause);
/* Take over a model and session opened elsewhere (the import screen's
 * worker); drop the model, keeping the conversation. */
void	 tui_assist_adopt(struct tui_assist *, struct eng_model *,
	    struct eng_session *, const char *path);
void	 tui_assist_unload(struct tui_assist *);
bool	 tui_assist_has_model(const struct tui_assist *);
const char *tui_assist_model_path(const struct tui_assist *);
struct eng_model *tui_assist_model(struct tui_assist *);
uint32_t tui_assist_ctx(const struct tui_assist *);

/*
 * System prompt and brief.  The cache is matched token by token at the
 * next question, so a changed brief is read again from where it differs;
 * nothing after a difference is ever reused.
 */
int	 tui_assist_set_context(struct tui_assist *, const char *system,
	    const char *brief);
const char *tui_assist_brief(const struct tui_assist *);
/* Thinking (Qwen3-style templates): off unless switched on. */
void	 tui_assist_set_think(struct tui_assist *, bool on);
bool	 tui_assist_think(const struct tui_assist *);
/* Tokens kept free for the answer when fitting the history. */
void	 tui_assist_set_reserve(struct tui_assist *, size_t tokens);

/* Tokens of text with the model's tokenizer (no BOS); 0 without a model. */
size_t	 tui_assist_count(struct tui_assist *, const char *text);
/*
 * Keep the newest whole lines of text that fit in `budget` tokens
 * (counted with the model's tokenizer).  *out is malloc'd; *ncut lines
 * were cut from the start; *ntok the tokens of *out.
 */
int	 tui_assist_fit_lines(struct tui_assist *, const char *text,
	    size_t budget, char **out, size_t *ncut, size_t *ntok);

/*
 * The brief from an analysis, within `budget` tokens: the cards (class,
 * title, severity, count, first and last seen, two evidence lines each),
 * then the top unknown templates, then the selection (lines or the open
 * card, newest lines kept), in that order of priority.  What did not fit
 * is counted in *cut (cards, templates, selection lines), for the caller
 * to show.  analysis may be NULL, selection NULL or "".
 */
struct pb_analysis;
struct tui_brief_cut {
	size_t		 cards, templates, lines;	/* cut */
	size_t		 cards_in, templates_in;	/* in the brief */
	size_t		 tokens;	/* of the brief */
};
int	 tui_assist_brief_build(struct tui_assist *, const struct pb_analysis *,
	    const char *selection_label, const char *selection, size_t budget,
	    char **brief, struct tui_brief_cut *cut);

/*
 * Ground the conversation: build the brief (tui_assist_brief_build) from
 * the analysis as of `version` (any number that changes when the analysis
 * does) and the selection, and make it the context.  The selection and
 * budget are kept, so tui_assist_reground can build the brief again when
 * new lines change the analysis: it returns 1 if the brief changed (a
 * background prefill then reads it again from where it differs, and
 * nothing after a difference is reused), 0 if not or not now (an answer
 * or a card is being written), -1 on error.
 */
int	 tui_assist_ground(struct tui_assist *, const char *system,
	    const struct pb_analysis *, uint64_t version, const char *label,
	    const char *selection, size_t budget, struct tui_brief_cut *cut);
int	 tui_assist_reground(struct tui_assist *, const struct pb_analysis *,
	    uint64_t version);
/* What the last ground or reground cut from the brief. */
const struct tui_brief_cut *tui_assist_cut(const struct tui_assist *);

/*
 * Model cards (tui/card-model.c) on the assistant's model: the card
 * schema's prompt about lines[0..n) (what: "an unknown log template", ...)
 * generated on the engine's thread like an answer, greedy, at most
 * max_tokens; the session's cache is the card's afterwards (the next
 * question reads its prefix again).  Events come from tui_assist_next
 * (TEXT empty: the raw JSON is nobody's answer); at DONE the card is
 * checked as `triage analyze --explain` checks it and either kept
 * (tui_assist_mcard) or recorded as an invalid-card fallback with the
 * reason.  subject says what it was about, file names the lines.
 */
struct tui_mcard;
struct tui_mcard_line;
int	 tui_assist_card(struct tui_assist *, const char *subject,
	    const char *file, const char *what,
	    const struct tui_mcard_line *lines, size_t n, uint32_t max_tokens,
	    char **cause);
bool	 tui_assist_carding(const struct tui_assist *);
/*
 * After this many invalid model cards in a row (a valid one resets the
 * count; a timed-out one counts neither way) tui_assist_card asks the
 * model no more: it fails with the reason, recorded once as a cards-off
 * fallback.  Another model (tui_assist_load, tui_assist_adopt with a
 * different path) or tui_assist_cards_on turns them back on.
 */
#define TUI_ASSIST_BAD_CARDS	3
bool	 tui_assist_cards_off(const struct tui_assist *);
void	 tui_assist_cards_on(struct tui_assist *);
/* The last card request: 1 a valid card (the newest kept), 0 none could be
 * made (*reason says why), -1 none asked or still running. */
int	 tui_assist_card_result(const struct tui_assist *, const char **reason);
/* Valid model cards, oldest first. */
size_t	 tui_assist_mcards(const struct tui_assist *);
const struct tui_mcard *tui_assist_mcard(const struct tui_assist *, size_t i,
	    const char **subject, const char **file);

/*
 * Ask: render the conversation plus `question`, drop the oldest
 * exchanges if it does not fit (the brief stays), reuse the cached
 * prefix, and start generating.  Events then come from tui_assist_next.
 */
int	 tui_assist_ask(struct tui_assist *, enum tui_turn_kind,
	    const char *question, const struct eng_sample_params *,
	    struct tui_turn_info *, char **cause);
/*
 * Background prefill of what every next question starts with (system,
 * brief, history): one slice of at most `slice` tokens per call, on the
 * engine's thread, so a key press or a question (tui_assist_pause,
 * tui_assist_ask) stops it at once and loses one slice at most.  Call it
 * again when tui_assist_next reports the slice done.  Returns 1 if a slice
 * started, 0 if the cache already holds the prefix, -1 on error.
 */
int	 tui_assist_warm(struct tui_assist *, size_t slice);
bool	 tui_assist_warming(const struct tui_assist *);
/* Stop a background prefill (not an answer). */
void	 tui_assist_pause(struct tui_assist *);
bool	 tui_assist_running(const struct tui_assist *);
/* What the last tui_assist_ask cost. */
const struct tui_turn_info *tui_assist_last(const struct tui_assist *);
int	 tui_assist_fd(const struct tui_assist *);
/*
 * Like eng_gen_next, but for answers only (a background prefill's events
 * are consumed here, 0 returned), and TEXT events carry only the visible answer:
 * reasoning (<think>...</think>) is held back and counted.  On DONE the
 * exchange joins the history, and a NaN or error is recorded as a
 * fallback; the generation is freed.
 */
int	 tui_assist_next(struct tui_assist *, struct eng_event *, bool wait);
/* Stop the answer (or a background prefill); timed_out records TUI_FB_TIMEOUT. */
void	 tui_assist_cancel(struct tui_assist *, bool timed_out);
/*
 * A time limit on each answer and model card, from its start (prefill
 * included); 0, the default, is none.  tui_assist_next stops one that
 * has run longer (as tui_assist_cancel(a, true) does: a timeout fallback
 * with the limit in its detail), so the caller must call it at least as
 * often as it wants the limit kept (the app: every pass of its loop).
 */
void	 tui_assist_set_limit(struct tui_assist *, uint32_t ms);
uint32_t tui_assist_limit(const struct tui_assist *);
/* The last answer or card was stopped by the time limit. */
bool	 tui_assist_timed_out(const struct tui_assist *);
/* Bytes of reasoning hidden in the last answer. */
size_t	 tui_assist_hidden(const struct tui_assist *);

/*
 * Reasoning filter: streamed text in, the visible part out (at most n +
 * sizeof pend bytes).  "<think>...</think>" is held back and counted in
 * hidden; a tag split across pieces is recognised.
 */
struct tui_think {
	char		 pend[16];
	size_t		 npend;
	bool		 in;
	size_t		 hidden;
};
size_t	 tui_think_filter(struct tui_think *, const char *s, size_t n,
	    char *out);

/* History, oldest first. */
size_t	 tui_assist_turns(const struct tui_assist *);
const char *tui_assist_question(const struct tui_assist *, size_t i);
const char *tui_assist_answer(const struct tui_assist *, size_t i);
/* Exchanges dropped so far to fit the context. */
size_t	 tui_assist_dropped(const struct tui_assist *);

/* Record a fallback (why the model did not answer) with a detail line. */
void	 tui_assist_fallback(struct tui_assist *, enum tui_fallback,
	    const char *detail);
size_t	 tui_assist_fallbacks(const struct tui_assist *);
enum tui_fallback tui_assist_fallback_at(const struct tui_assist *, size_t i,
	    const char **detail);

/*
 * The conversation as JSON (model path, system, brief, think, turns,
 * dropped, fallbacks, the selection it was grounded in, model cards with
 * the lines they were given) and back; restore does not load the model,
 * and checks every model card again (one that fails is dropped).
 */
int	 tui_assist_save(const struct tui_assist *, const char *path,
	    char **cause);
int	 tui_assist_restore(struct tui_assist *, const char *path,
	    char **model_path, char **cause);

#endif
