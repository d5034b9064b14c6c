/*
 * playbook.h - the playbooks module: log lines -> matcher -> cards.
 *
 * Files, in the order data flows through them:
 *   logsrc.c     streams lines from a file, pipe or compressed log (never mmap)
 *   tstamp.c     finds and parses the timestamp in a line's first bytes
 *   playbook.c   loads and validates one playbook JSON file (format 1)
 *   jsonpos.c    maps a field path back to line:column for diagnostics
 *   literal.c    finds the literals every match of a regex must contain
 *   prefilter.c  one pass over a line for all those literals at once
 *   library.c    the set of playbooks: directories, overrides, compiled patterns
 *   match.c      runs rules (any/all/sequence, threshold in a window) per line
 *   card.c       aggregates events into cards; placeholders; JSON document
 *   severity.c   judges how bad a line says it is (level fields, lexicon)
 *   suggest.c    BM25 over the playbooks: "possibly" cards for unknowns
 *   template.c   groups lines no playbook knows into masked templates
 *   sanitize.c   makes untrusted log text safe for a terminal or JSON
 *
 * Everything here is plain C over jansson and PCRE2; nothing includes curses.
 * Functions return 0 on success or a negative PB_E* code and, where a
 * `char **cause` is taken, a one-line sentence the caller shows and frees.
 */
#ifndef TRIAGE_PLAYBOOK_H
#define TRIAGE_PLAYBOOK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PB_FORMAT 1

enum {
	PB_OK = 0,
	PB_ENOMEM = -1,
	PB_EIO = -2,	/* file could not be opened or read */
	PB_EINVAL = -3,	/* bad input: playbook, argument, time */
};

enum pb_severity {
	PB_SEV_CRITICAL = 0,
	PB_SEV_HIGH,
	PB_SEV_MEDIUM,
	PB_SEV_LOW,
	PB_SEV_INFO,
};
const char	*pb_severity_name(enum pb_severity);
/* Problem classes (triage-playbook(5), CLASSES): name i, NULL past the end. */
const char	*pb_class_name(size_t i);
int		 pb_class_valid(const char *name);

/*
 * The severity a log line states (triage(1), UNKNOWN LINES): an
 * explicit level field first, else the failure lexicon with its guards.
 * Returns a pb_severity (PB_SEV_CRITICAL..PB_SEV_INFO), PB_LINE_DEBUG for
 * an explicit debug or trace level, or PB_LINE_NONE when the line says
 * nothing.  Lines judged PB_SEV_LOW or worse are "warnings and errors".
 */
#define PB_LINE_NONE	(-1)
#define PB_LINE_DEBUG	5
int		 pb_line_severity(const char *line, size_t len);

/* A diagnostic sink: gets one finished line, "file:line:col: path: message". */
typedef void	(*pb_diag_fn)(void *arg, const char *line);

/* ---- time ---------------------------------------------------------------- */

#define PB_TIME_NONE INT64_MIN

/*
 * Parse a log line's timestamp, found at any field start in its first 64
 * bytes.  `ref` is the reference time (seconds since
 * the epoch) used to infer a missing year.  Returns milliseconds on the log
 * clock (zone-less times are taken as UTC) or PB_TIME_NONE.
 */
int64_t	 pb_time_parse(const char *line, size_t len, int64_t ref);
/* The same, also giving the offset just past the timestamp (0 if none). */
int64_t	 pb_time_parse_end(const char *line, size_t len, int64_t ref,
	    size_t *endoff);
/*
 * dmesg-style stamps ("[   12.345678]") count seconds since boot, not a
 * date.  They come back as PB_TIME_BOOT + milliseconds since boot: a range
 * below every date, so differences within one boot still work.
 * pb_time_format shows them as "boot+12.345s"; --since and --until do not
 * apply to them.
 */
#define PB_TIME_BOOT (INT64_MIN / 2)
int	 pb_time_is_boot(int64_t t);
/* Parse a --since/--until argument: any format above, "YYYY-MM-DD",
 * "YYYY-MM-DDTHH:MM", "HH:MM[:SS]" (today), or relative to `ref` (seconds):
 * "now", "today", "yesterday", "tomorrow", "-1h", "+30min", "2 days ago". */
int	 pb_time_arg(const char *s, int64_t ref, int64_t *out_ms);
/* Format milliseconds as "YYYY-MM-DDTHH:MM:SS" into buf (>= 24 bytes). */
void	 pb_time_format(int64_t ms, char *buf, size_t size);

/* ---- the playbook library ------------------------------------------------ */

struct pb_playbook;
struct pb_library;

int	 pb_library_new(struct pb_library **out);
void	 pb_library_free(struct pb_library *);
/*
 * Load a playbook file or every *.json file in a directory.  A playbook whose
 * id is already loaded replaces the earlier one (user over shipped).  Invalid
 * playbooks are reported through `diag` once and skipped.  Returns the number
 * of invalid files (>= 0), or PB_EIO if `path` itself cannot be read (cause
 * set).
 */
int	 pb_library_add(struct pb_library *, const char *path,
	    pb_diag_fn diag, void *arg, char **cause);
size_t	 pb_library_count(const struct pb_library *);
/* Borrowed; valid until the library is freed. */
const struct pb_playbook *pb_library_get(const struct pb_library *, size_t i);

const char	*pb_playbook_id(const struct pb_playbook *);
const char	*pb_playbook_title(const struct pb_playbook *);
const char	*pb_playbook_class(const struct pb_playbook *);
/* match.threshold (1 when unset) and match.window in seconds (0: none). */
int		 pb_playbook_threshold(const struct pb_playbook *);
int		 pb_playbook_window(const struct pb_playbook *);
const char	*pb_playbook_path(const struct pb_playbook *);
int		 pb_playbook_version(const struct pb_playbook *);
enum pb_severity pb_playbook_severity(const struct pb_playbook *);
/* The validated JSON document (a jansson json_t *), borrowed. */
const void	*pb_playbook_json(const struct pb_playbook *);

/*
 * Lint: validate a file or directory of playbooks and run every example.
 * Each problem is one diag line.  Returns the number of problems, or
 * PB_EIO with `cause` set when a path cannot be read.
 */
int	 pb_lint(const char *path, pb_diag_fn diag, void *arg, char **cause);
/* The same, also counting the playbook files read into *nfiles. */
int	 pb_lint_files(const char *path, pb_diag_fn diag, void *arg,
	    size_t *nfiles, char **cause);

/* ---- analysis ------------------------------------------------------------ */

struct pb_analysis;
struct pb_card;

struct pb_options {
	int64_t	 since_ms;	/* PB_TIME_NONE: no lower bound */
	int64_t	 until_ms;	/* PB_TIME_NONE: no upper bound */
	int	 unknown;	/* group unmatched warning/error lines */
	size_t	 max_examples;	/* evidence lines kept per card (>= 1) */
};
void	 pb_options_init(struct pb_options *);

/* The library must outlive the analysis. */
int	 pb_analysis_new(struct pb_library *, const struct pb_options *,
	    struct pb_analysis **out);
void	 pb_analysis_free(struct pb_analysis *);
/*
 * Stream a whole file ("-" is standard input) through the matcher.  Returns
 * 0, or PB_EIO with `cause` naming the file and the problem.  `warn` gets
 * one-line notes that do not stop the run (binary data, long lines, a
 * pattern hitting its match limit).
 */
int	 pb_analysis_feed_file(struct pb_analysis *, const char *path,
	    pb_diag_fn warn, void *arg, char **cause);
/* Feed one line (no newline); `file` must stay valid while the analysis lives. */
void	 pb_analysis_feed_line(struct pb_analysis *, const char *file,
	    uint64_t lineno, const char *line, size_t len, int64_t ref);
/*
 * Which lines make up which card.  With a callback set, `fn` is called for
 * every line a card counts, with n = 1: exactly the lines that make up
 * pb_card_count, after exclusions and after a generic playbook has yielded
 * to a specific one.  When an all or sequence rule completes, the earlier
 * lines that complete it come too, with n = 0 (evidence, not counted).
 * `file` is the pointer given to pb_analysis_feed_line (the analysis' own
 * copy of the name for pb_analysis_feed_file).  A threshold rule reports
 * the lines of a burst when it is met, after lines fed later; no line is
 * reported twice for one playbook.  The matcher keeps no list of them (a
 * card seen millions of times costs nothing here): a caller that wants
 * one keeps it.  fn = NULL turns it off.
 */
typedef void	(*pb_line_fn)(void *arg, const char *file, uint64_t lineno,
	    const struct pb_playbook *pb, uint64_t n);
void	 pb_analysis_set_line_cb(struct pb_analysis *, pb_line_fn fn,
	    void *arg);
/* Sort cards by severity then first seen; call once after feeding. */
void	 pb_analysis_finish(struct pb_analysis *);

uint64_t pb_analysis_lines(const struct pb_analysis *);
uint64_t pb_analysis_bytes(const struct pb_analysis *);
size_t	 pb_analysis_ncards(const struct pb_analysis *);
const struct pb_card *pb_analysis_card(const struct pb_analysis *, size_t i);

/* Card accessors; pointers borrowed from the analysis. */
const struct pb_playbook *pb_card_playbook(const struct pb_card *);
uint64_t pb_card_count(const struct pb_card *);
int64_t	 pb_card_first(const struct pb_card *);	/* ms or PB_TIME_NONE */
int64_t	 pb_card_last(const struct pb_card *);
size_t	 pb_card_nexamples(const struct pb_card *);
/* Example i: sanitized text, its file and 1-based line number. */
const char *pb_card_example(const struct pb_card *, size_t i,
	    const char **file, uint64_t *lineno);
/* Named captures seen: name i, and its values by falling count. */
size_t	 pb_card_ncaptures(const struct pb_card *);
const char *pb_card_capture(const struct pb_card *, size_t i,
	    size_t nth, const char **value, uint64_t *count);
/*
 * Fill {{name}} placeholders in `tmpl` with the most frequent value of each
 * capture (and {{file}} with the evidence file).  With `shell`, values that
 * are not plain words are single-quoted, so a hostile log cannot smuggle
 * shell syntax into a command the technician copies.  Returns a new string
 * the caller frees, or NULL on out-of-memory.  Missing values become <name>.
 */
char	*pb_card_fill(const struct pb_card *, const char *tmpl, int shell);

/*
 * Unmatched lines judged warnings or worse (pb_line_severity), grouped
 * into templates and ranked by salience (severity, then rarity and
 * burstiness).  Only templates above the salience threshold (triage(1),
 * UNKNOWN LINES) are listed: pb_analysis_ntemplates counts them,
 * pb_analysis_ntemplates_all every template.
 */
/*
 * The threshold: salience is (4 - level) + 0.49 rarity + 0.49 burst
 * (template.c), so every medium or worse template is listed, a low one
 * (an info line that says "failed") only when rare or bursty.
 */
#define PB_SALIENCE_MIN	1.5
uint64_t pb_analysis_unknown_lines(const struct pb_analysis *);
size_t	 pb_analysis_ntemplates(const struct pb_analysis *);
size_t	 pb_analysis_ntemplates_all(const struct pb_analysis *);
const char *pb_analysis_template(const struct pb_analysis *, size_t i,
	    uint64_t *count, const char **example, const char **file,
	    uint64_t *lineno);
/* Template i's worst level, salience, first and last time (ms or
 * PB_TIME_NONE).  PB_EINVAL past the end. */
int	 pb_analysis_template_info(const struct pb_analysis *, size_t i,
	    enum pb_severity *level, double *salience, int64_t *first,
	    int64_t *last);
/*
 * "Possibly" cards: unknown templates that resemble a playbook (BM25 over
 * its title, explanation, tags and examples; suggest.c), in template rank
 * order.  Suggestion i gives the playbook, its score and the template
 * index; pb_analysis_template_suggestion maps a template to its
 * suggestion, or -1.
 */
/*
 * Known problems below their threshold: playbooks whose patterns matched
 * but that raised no card (too few events in the window, or a sequence
 * never completed).  Example i: the playbook, how many events, and the
 * first matching line (raw bytes, exlen long: sanitize before showing).
 */
size_t	 pb_analysis_nbelow(const struct pb_analysis *);
const struct pb_playbook *pb_analysis_below(const struct pb_analysis *,
	    size_t i, uint64_t *count, const char **example, size_t *exlen,
	    const char **file, uint64_t *lineno);
size_t	 pb_analysis_nsuggested(const struct pb_analysis *);
const struct pb_playbook *pb_analysis_suggested(const struct pb_analysis *,
	    size_t i, double *score, size_t *tmpl);
long	 pb_analysis_template_suggestion(const struct pb_analysis *, size_t i);
/*
 * A suggestion may name a whole problem class instead of one playbook
 * ("possibly disk-io: ..."): then pb_analysis_suggested returns NULL (it
 * still sets the score and template) and this returns the class and its
 * description; NULL for a playbook suggestion.
 */
const char *pb_analysis_suggested_class(const struct pb_analysis *,
	    size_t i, const char **description);

/* Write the stable JSON document (see triage(1), JSON OUTPUT). */
int	 pb_analysis_write_json(const struct pb_analysis *, FILE *);

/* ---- template mining (also used by tests to measure agreement) ----------- */

struct pb_miner;
int	 pb_miner_new(size_t max_templates, struct pb_miner **out);
void	 pb_miner_free(struct pb_miner *);
/*
 * Add a line's message (caller strips nothing: the leading timestamp is
 * skipped here).  Returns the template id (>= 0) the line joined, or -1 when
 * the table is full.
 */
long	 pb_miner_add(struct pb_miner *, const char *line, size_t len);
const char *pb_miner_text(const struct pb_miner *, long id);

/* ---- text safety --------------------------------------------------------- */

/*
 * Copy untrusted bytes into valid, printable UTF-8: control characters, ESC
 * sequences, C1, bidi and line-separator code points become visible escapes;
 * invalid UTF-8 becomes \xNN.  Returns a new string or NULL (out of memory).
 */
/*
 * One valid UTF-8 sequence at s (n bytes available): its length with the
 * code point in *cp, or 0 if invalid (overlong, surrogate, truncated).
 */
size_t	 pb_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);
/* Code points that must not reach a terminal as themselves: C1 (8-bit
 * CSI), bidi controls and line separators. */
int	 pb_cp_unsafe(unsigned cp);
char	*pb_sanitize(const char *s, size_t len);

#endif
