/*
 * internal.h - shared between the files of playbooks/ only; never included
 * from outside the folder.
 */
#ifndef TRIAGE_PB_INTERNAL_H
#define TRIAGE_PB_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdarg.h>
#include <time.h>

#include "playbook.h"

/* Limits, named so they are easy to find and document. */
#define LOGSRC_MAX_LINE		(1024 * 1024)	/* longer lines are cut */
#define PB_MAX_FILE		(1024 * 1024)	/* playbook JSON size cap */
#define PB_MAX_PATTERNS		16
#define PB_MAX_CAPTURES		32	/* distinct capture names per playbook */
#define PB_MAX_THRESHOLD	1000
#define PB_MAX_WINDOW		604800	/* one week, seconds */
#define PB_MAX_DIR_FILES	10000
#define PB_MIN_LITERAL		3
#define PB_MATCH_LIMIT		1000000	/* PCRE2 backtracking steps per match */
#define PB_DEPTH_LIMIT		10000
#define PB_JIT_STACK		(1024 * 1024)

void	 pb_cause(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
char	*pb_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- logsrc.c ---- */
struct pb_logsrc;
int	 pb_logsrc_open(const char *path, struct pb_logsrc **out, char **cause);
void	 pb_logsrc_close(struct pb_logsrc *);
/* 1: a line (borrowed until the next call), 0: end, <0: error (cause). */
int	 pb_logsrc_next(struct pb_logsrc *, const char **line, size_t *len,
	    char **cause);
uint64_t pb_logsrc_lineno(const struct pb_logsrc *);
uint64_t pb_logsrc_long_lines(const struct pb_logsrc *);
int	 pb_logsrc_binary(const struct pb_logsrc *);
int64_t	 pb_logsrc_mtime(const struct pb_logsrc *);

/* ---- tstamp.c ---- */
/* What one source's lines looked like: the format and field that matched
 * the last lines, tried first once they matched LEARN_AFTER in a row. */
struct pb_tslearn {
	int	 fmt, field, hits;
};
void	 pb_tslearn_reset(struct pb_tslearn *);
/* pb_time_parse, trying the learnt format first. */
int64_t	 pb_time_parse_learn(struct pb_tslearn *, const char *line,
	    size_t len, int64_t ref);

/* ---- sanitize.c ---- */
/* pb_sanitize into out, which holds at least 4 * len + 1 bytes. */
void	 pb_sanitize_into(const char *s, size_t len, char *out);

/* ---- literal.c ---- */
#define LIT_MAX 8		/* alternatives per pattern */
struct pb_litset {
	size_t	 n;
	char	*lit[LIT_MAX];	/* lower-cased, NUL-free */
	size_t	 len[LIT_MAX];
};
/* 0 and the set, or PB_EINVAL with a reason in `why` (static string). */
int	 pb_literals(const char *re, struct pb_litset *out, const char **why);
void	 pb_litset_release(struct pb_litset *);

/* ---- redos.c ---- */
/* 0 if the pattern has no catastrophic-backtracking shape, else PB_EINVAL
 * with a reason in `why` (static string).  For lint. */
int	 pb_regex_redos(const char *re, int icase, const char **why);
/* Run a pattern on provoking lines built from its literals and the given
 * lines under a small match limit: 0, or PB_EINVAL if it hit the limit.
 * *tried gets the number of lines run. */
int	 pb_regex_stress(const pcre2_code *code, const struct pb_litset *lits,
	    const char *const *lines, const size_t *lens, size_t nlines,
	    uint64_t *tried);

/* ---- prefilter.c ---- */
struct pb_prefilter;
int	 pb_prefilter_new(struct pb_prefilter **out);
void	 pb_prefilter_free(struct pb_prefilter *);
/* Add a literal (deduplicated, case-folded); *idx gets its index. */
int	 pb_prefilter_add(struct pb_prefilter *, const char *lit, size_t len,
	    uint32_t *idx);
int	 pb_prefilter_build(struct pb_prefilter *);
size_t	 pb_prefilter_count(const struct pb_prefilter *);
/* Indices of literals found in s (may repeat); returns how many stored. */
size_t	 pb_prefilter_scan(const struct pb_prefilter *, const char *s, size_t n,
	    uint32_t *ids, size_t max);

/* ---- severity.c ---- */
/* Prefilter literals that gate pb_line_severity (NULL-terminated). */
extern const char *const pb_severity_literals[];
/* A level at the very head that no literal covers ("<3>", "E/", "E0928"). */
int	 pb_severity_head(const char *line, size_t len);
/* The lexicon alone, level fields left out: the worst failure phrase the
 * text states in words, or PB_LINE_NONE. */
int	 pb_severity_lexicon(const char *line, size_t len);
/*
 * Records spread over lines (Windows event text exports, PowerShell
 * Format-List): what the line is to its record.  PB_REC_LEVEL sets *level
 * (a pb_line_severity value); PB_REC_TEXT sets *text to where the text
 * starts; PB_REC_TEXT_NEXT says the text is on the next line.
 */
enum {
	PB_REC_NONE, PB_REC_BLANK, PB_REC_START, PB_REC_LEVEL, PB_REC_TEXT,
	PB_REC_TEXT_NEXT
};
int	 pb_severity_record(const char *line, size_t len, int *level,
	    size_t *text);
/* pb_line_severity with the level of the line's record (or PB_LINE_NONE)
 * standing for a level field the line lacks. */
int	 pb_line_severity_in(const char *line, size_t len, int record);

/* ---- suggest.c ---- */
struct pb_bm25;
int	 pb_bm25_new(const struct pb_library *, struct pb_bm25 **out);
void	 pb_bm25_free(struct pb_bm25 *);
/*
 * The playbook (library index) a text resembles clearly enough to
 * suggest, with its BM25 score; -1 when none does.
 */
long	 pb_bm25_best(const struct pb_bm25 *, const char *text, double *score);
/*
 * A log's own vocabulary (how many of its templates hold each word), so
 * that its chatter counts less in pb_bm25_class.
 */
struct pb_bm25_bg;
struct pb_bm25_bg *pb_bm25_bg_new(void);
void	 pb_bm25_bg_free(struct pb_bm25_bg *);
int	 pb_bm25_bg_add(struct pb_bm25_bg *, const char *text);
/*
 * The problem class (index for pb_bm25_class_name) whose document a
 * failure line resembles clearly enough for "possibly <class>", with its
 * score; -1 when none does.  bg may be NULL.
 */
long	 pb_bm25_class(const struct pb_bm25 *, const struct pb_bm25_bg *bg,
	    const char *text, double *score);
/* Class k's name and description (triage-playbook(5)), or NULL. */
const char *pb_bm25_class_name(long k, const char **desc);

/* ---- jsonpos.c ---- */
/* Position of the value at `path` ("a.b[2].c") in JSON text; 0 if found. */
int	 pb_jsonpos(const char *text, size_t len, const char *path,
	    int *line, int *col);

/* ---- playbook.c ---- */
enum pb_mode { PB_MODE_ANY, PB_MODE_ALL, PB_MODE_SEQUENCE };

struct pb_pattern {
	char		*name;
	pcre2_code	*code;
	struct pb_litset lits;
	int		 ncap;
	int		 cap_group[PB_MAX_CAPTURES];	/* group number */
	int		 cap_slot[PB_MAX_CAPTURES];	/* index in pb->capnames */
	int		 group_by_group;		/* group number or -1 */
};

struct pb_playbook {
	char		*path;
	json_t		*doc;
	const char	*id, *title;	/* borrowed from doc */
	const char	*klass;		/* borrowed from doc */
	int		 version;
	enum pb_severity severity;
	struct pb_pattern pats[PB_MAX_PATTERNS];
	size_t		 npats;
	pcre2_code	**excl;
	size_t		 nexcl;
	enum pb_mode	 mode;
	int		 generic;	/* only where no specific playbook matched */
	int		 threshold;
	int		 window;	/* seconds, 0 = none */
	int		 group_by;	/* slot in capnames or -1 */
	char		*capnames[PB_MAX_CAPTURES];
	size_t		 ncapnames;
};

struct pb_diags;
/*
 * Load and validate one playbook file.  Problems go to `diag` as complete
 * lines; returns the playbook, or NULL after reporting at least one problem.
 * With `examples`, every example line is matched too (lint).
 */
struct pb_playbook *pb_playbook_load(const char *path, int examples,
	    pb_diag_fn diag, void *arg, int *nproblems);
/* The same from text in memory; `path` names it in messages and must end in
 * "<id>.json".  Diagnostics point into `text`, which needs no NUL. */
struct pb_playbook *pb_playbook_parse(const char *path, const char *text,
	    size_t len, int examples, pb_diag_fn diag, void *arg,
	    int *nproblems);
void	 pb_playbook_free(struct pb_playbook *);
/* Does a single line match pattern i (not excluded)? 1 yes, 0 no, <0 error */
int	 pb_playbook_match_line(const struct pb_playbook *, size_t i,
	    const char *line, size_t len, pcre2_match_data *md,
	    pcre2_match_context *mctx);
int	 pb_playbook_excluded(const struct pb_playbook *, const char *line,
	    size_t len, pcre2_match_data *md, pcre2_match_context *mctx);
pcre2_match_context *pb_match_context_new(pcre2_jit_stack **stack);

/* ---- library.c ---- */
struct pb_gpat {
	uint32_t	 pb;		/* playbook index */
	uint32_t	 pat;		/* pattern index in that playbook */
};

struct pb_library {
	struct pb_playbook **pbs;
	size_t		 n, cap;
	/* Built lazily by pb_library_prepare(). */
	struct pb_prefilter *pf;
	struct pb_gpat	*gpats;
	size_t		 ngpats;
	uint32_t	*litstart;	/* literal i -> gpats litgp[litstart[i]..] */
	uint32_t	*litgp;
	uint8_t		*litkw;		/* literal i is a severity keyword */
	struct pb_bm25	*bm25;		/* similarity index (suggest.c) */
	int		 prepared;
};
int	 pb_library_prepare(struct pb_library *);

/* ---- card.c ---- */
struct pb_card *pb_card_new(const struct pb_playbook *, size_t max_examples);
void	 pb_card_free(struct pb_card *);
/* Record one event line; text is copied (sanitized) only while kept. */
int	 pb_card_add(struct pb_card *, const char *file, uint64_t lineno,
	    const char *line, size_t len, int64_t t, uint64_t count);
int	 pb_card_add_capture(struct pb_card *, const char *name,
	    const char *val, size_t len);
int	 pb_card_cmp(const void *, const void *);
void	 pb_card_finish(struct pb_card *);
uint64_t pb_card_seq(const struct pb_card *);
void	 pb_card_set_seq(struct pb_card *, uint64_t);
json_t	*pb_card_json(const struct pb_card *);

/* ---- template.c ---- */
size_t	 pb_miner_count(const struct pb_miner *);
/*
 * pb_miner_add with what the ranking needs: the line's judged severity
 * (PB_SEV_CRITICAL..PB_SEV_INFO) and its time in ms or PB_TIME_NONE.
 * pb_miner_add is this with PB_SEV_INFO and PB_TIME_NONE.
 */
long	 pb_miner_add_ev(struct pb_miner *, const char *line, size_t len,
	    enum pb_severity level, int64_t t_ms);
/*
 * Set the similarity threshold and the number of leading message words in
 * the tree path (the defaults suit every input; tests/tmpl-eval searches
 * a grid with this to check that they do).
 */
void	 pb_miner_params(struct pb_miner *, double similarity,
	    size_t key_tokens);
/* Worst level seen; first and last time (ms) or PB_TIME_NONE. */
enum pb_severity pb_miner_level(const struct pb_miner *, long id);
int64_t	 pb_miner_first(const struct pb_miner *, long id);
int64_t	 pb_miner_last(const struct pb_miner *, long id);
/*
 * (4 - worst level) + 0.49 * rarity + 0.49 * burst, in [0, 5): severity
 * first, then rare and bursty templates above chatty, spread-out ones
 * (formula in template.c).
 */
double	 pb_miner_salience(const struct pb_miner *, long id);
/* Rank templates by salience, then count; pb_miner_rank gives the i-th id. */
void	 pb_miner_sort(struct pb_miner *);
long	 pb_miner_rank(const struct pb_miner *, size_t i);
uint64_t pb_miner_hits(const struct pb_miner *, long id);
void	 pb_miner_set_example(struct pb_miner *, long id, const char *file,
	    uint64_t lineno, const char *line, size_t len);
const char *pb_miner_example(const struct pb_miner *, long id,
	    const char **file, uint64_t *lineno);

#endif
