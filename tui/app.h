/*
 * app.h - the full-screen interface (`triage [FILE...]`): internal API.
 *
 * Files, in the order a key press or a log byte flows through them:
 *   app.c            the poll() loop: keys, signals, log files, engine fd;
 *                    one redraw point driven by dirty flags
 *   keys.c           the one binding table; help is generated from it
 *   prompt.c         GNU readline in callback mode inside curses
 *   logindex.c       lazy line index of a file; tail -F following
 *   screen-text.c    untrusted bytes -> display cells (wcwidth, escapes)
 *   screen-layout.c  pane geometry for a terminal size
 *   screen-log.c     the log view: sources, row map, filters, search
 *   screen-cards.c   cards from the playbook matcher, card detail
 *   screen-assist.c  the assistant: context budget, streaming answers
 *   screen-pager.c   help and :man viewer
 *   screen-import.c  signed bundles: find, inspect, import with progress,
 *                    roll back; switches playbooks and model live
 *   session-save.c   session save/resume, :export to Markdown or JSON
 *
 * Only app.c and the screen-*.c draw functions touch curses; the logic in
 * logindex.c, screen-text.c, screen-layout.c and keys.c is plain C so the
 * cmocka tests link it without a terminal.
 */
#ifndef TRIAGE_APP_H
#define TRIAGE_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <wchar.h>

/* ---- logindex.c ---------------------------------------------------------- */

/* Checkpoint every LIDX_STRIDE lines: 10 M lines cost 2.5 MB of index. */
#define LIDX_STRIDE	32
/* Longer lines are cut into pieces of this size (reliability notes L07). */
#define LIDX_MAX_LINE	(64 * 1024)
/* Rotated files kept open so their lines stay readable. */
#define LIDX_MAX_SEGS	16

enum {
	LIDX_OPEN_FOLLOW = 1 << 1,	/* tail -F: follow the name */
};

/* What lidx_check noticed (bit flags). */
enum {
	LIDX_EV_GREW = 1 << 1,
	LIDX_EV_TRUNCATED = 1 << 2,
	LIDX_EV_ROTATED = 1 << 3,
	LIDX_EV_GONE = 1 << 4,		/* the name vanished or is unreadable */
	LIDX_EV_BACK = 1 << 5,		/* it came back */
	LIDX_EV_STOPPED = 1 << 6,	/* replaced by a non-regular file */
};

struct lidx;
/* A new complete line while indexing: global 0-based number and bytes
 * (no newline, no trailing CR). */
typedef void (*lidx_line_fn)(void *arg, uint64_t line, const char *s,
    size_t len);

/*
 * Open a regular file for lazy indexing; nothing is read yet.  FIFOs,
 * directories and devices are refused (they could block or never end).
 * Returns 0 or -1 with *cause set.
 */
int	 lidx_open(const char *path, int flags, struct lidx **out, char **cause);
void	 lidx_free(struct lidx *);
/*
 * Index up to `budget` more bytes, calling fn for each complete line.
 * Returns 1 if there is more to read now, 0 if caught up, -1 on a read
 * error (the note says which).
 */
int	 lidx_step(struct lidx *, size_t budget, lidx_line_fn fn, void *arg);
/* Re-check the file by name and size (follow mode); returns LIDX_EV_*. */
int	 lidx_check(struct lidx *);
/* Lines known so far, including a final line without newline. */
uint64_t lidx_lines(const struct lidx *);
/* Does the file end in a line without a newline (yet)?  Following, that
 * line is shown but not matched: bytes appended continue it, and it is
 * matched once, when its newline comes. */
bool	 lidx_partial(const struct lidx *);
/* Bytes indexed and the file size at the last check (for progress). */
uint64_t lidx_indexed(const struct lidx *);
uint64_t lidx_size(const struct lidx *);
bool	 lidx_following(const struct lidx *);
const char *lidx_path(const struct lidx *);
/* The last event as a sentence, or NULL; borrowed until the next call. */
const char *lidx_note(const struct lidx *);
/*
 * Line `line` (0-based): *s points into an internal buffer valid until the
 * next call on this index.  Marker lines (rotation, truncation) and lines
 * of a file that was truncated under us come back with *marker set.
 * Returns 0, or -1 if there is no such line or it cannot be read.
 */
int	 lidx_get(struct lidx *, uint64_t line, const char **s, size_t *len,
	    bool *marker);
/* Memory held by the index, for the benchmark and the status bar. */
size_t	 lidx_memory(const struct lidx *);

/* ---- cardlines.c --------------------------------------------------------- */

/*
 * Which cards each line of each source belongs to (0-based line numbers,
 * as in lidx_get).  Adding the same playbook to a line again is a no-op.
 */
struct pb_playbook;
struct cardlines;
struct cardlines *cardlines_new(void);
void	 cardlines_free(struct cardlines *);
int	 cardlines_add(struct cardlines *, int src, uint64_t line,
	    const struct pb_playbook *pb);
/* The playbooks whose cards the line belongs to, most severe first
 * (borrowed until the next add); returns how many. */
size_t	 cardlines_get(const struct cardlines *, int src, uint64_t line,
	    const struct pb_playbook *const **pbs);
size_t	 cardlines_memory(const struct cardlines *);

/* ---- screen-text.c ------------------------------------------------------- */

enum cell_kind {
	CK_TEXT = 0,
	CK_ESCAPE,	/* a neutralized control byte or code point */
	CK_MATCH,	/* a search hit */
};

/* One screen cell: a base character plus up to two combining marks. */
struct cell {
	wchar_t	 wc[3];
	uint8_t	 width;		/* 1 or 2 (0 never stored) */
	uint8_t	 kind;
};

#define TEXT_TABSTOP	8

/*
 * Turn untrusted bytes into display cells: UTF-8 decoded, TAB expanded,
 * C0/DEL/C1/ESC, bidi and line-separator code points and invalid bytes
 * shown as visible escapes ("\x1b", "\u202e"), widths from wcwidth().
 * Appends at most `max` cells to `out`; returns the number of cells that
 * the whole text needs (which may be more than max).  `srcoff`, if not
 * NULL, gets for each stored cell the byte offset it came from.
 */
size_t	 text_cells(const char *s, size_t len, struct cell *out, size_t max,
	    uint32_t *srcoff);
/* Display columns of the whole text (the sum of cell widths). */
size_t	 text_width(const char *s, size_t len);
/*
 * Copy untrusted bytes into printable UTF-8 (as text_cells shows them) in
 * a malloc'd string; for export files and the model's context.
 */
char	*text_clean(const char *s, size_t len);
/*
 * Bytes of the longest head of `s` whose cells fit in `cols` columns (a
 * place to cut it with an ellipsis); `len` if all of it fits.
 */
size_t	 text_fit(const char *s, size_t len, size_t cols);
/*
 * Word wrap: the screen line that starts at cell `from` ends before the
 * returned cell; *next is where the following one starts.  Lines break
 * at spaces, which are dropped at the break (no continuation line starts
 * with one); only a word longer than `cols` is cut.  Call while
 * from < n.
 */
size_t	 text_wrap(const struct cell *c, size_t n, size_t from, size_t cols,
	    size_t *next);
/* Severity of a log line by keyword, for colours and e/E. */
enum line_sev { SEV_NONE = 0, SEV_DEBUG, SEV_INFO, SEV_WARN, SEV_ERROR };
enum line_sev text_severity(const char *s, size_t len);

/* ---- screen-layout.c ----------------------------------------------------- */

#define LAYOUT_MIN_COLS	80
#define LAYOUT_MIN_ROWS	24

struct rect {
	int	 y, x, h, w;
};

enum pane { PANE_LOG, PANE_CARDS, PANE_DETAIL, PANE_COUNT };

struct layout {
	bool		 too_small;	/* below the minimum: a message only */
	bool		 wide;		/* log on the left, cards/detail right */
	struct rect	 title;		/* top line */
	struct rect	 pane[PANE_COUNT];
	struct rect	 status;
	struct rect	 prompt;
};

/*
 * Geometry for a rows x cols terminal.  `zoom` is a pane shown alone, or
 * -1.  Every rect lies inside the terminal and none overlap.
 */
void	 layout_compute(int rows, int cols, int zoom, struct layout *);

/* ---- keys.c -------------------------------------------------------------- */

/* Key contexts: the focused pane or an overlay. */
enum kctx {
	KC_GLOBAL = 1 << 0,
	KC_LOG = 1 << 1,
	KC_CARDS = 1 << 2,
	KC_DETAIL = 1 << 3,
	KC_PAGER = 1 << 4,	/* help and :man */
	KC_GEN = 1 << 5,	/* while the model generates */
	KC_IMPORT = 1 << 6,	/* the import screen */
};

enum action {
	ACT_NONE = 0,
	ACT_QUIT, ACT_HELP, ACT_MAN, ACT_FOCUS_NEXT, ACT_FOCUS_PREV, ACT_ZOOM, ACT_REDRAW,
	ACT_SUSPEND, ACT_COMMAND, ACT_SEARCH, ACT_SEARCH_BACK, ACT_ASK, ACT_PASTE_MODE,
	ACT_STOP, ACT_INTERRUPT,
	ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_HALF_UP, ACT_HALF_DN, ACT_TOP, ACT_BOTTOM,
	ACT_LEFT, ACT_RIGHT, ACT_HOME,
	ACT_NEXT_HIT, ACT_PREV_HIT, ACT_NEXT_ERR, ACT_PREV_ERR, ACT_NEXT_WARN,
	ACT_PREV_WARN, ACT_WRAP, ACT_FOLLOW, ACT_LINENO, ACT_TIME, ACT_MARK,
	ACT_LEVEL, ACT_TO_CARD, ACT_HIDE_FILE, ACT_STRIP,
	ACT_OPEN, ACT_TICK, ACT_CLOSE,
	ACT_IMPORT_SCREEN, ACT_IMPORT_FORCE, ACT_ROLLBACK, ACT_RESCAN,
	ACT_CONFIRM, ACT_YANK, ACT_MCARD,
	ACT_COUNT
};

struct binding {
	int		 key;		/* curses key code or character */
	unsigned	 ctx;		/* KC_* where it applies */
	enum action	 action;
	const char	*keyname;	/* as shown in help */
	const char	*help;		/* NULL: an alias not shown separately */
};

/*
 * Keys are characters (their code point) or curses function keys moved
 * above the Unicode range, so 'A' with a macron and KEY_DOWN never meet.
 */
#define K_FN(k)		(0x110000 + (k))
#define K_IS_FN(k)	((k) >= 0x110000)
#define K_CTRL(c)	((c) & 0x1f)
/* Codes of our own: bracketed paste markers (define_key) and the wheel. */
#define K_PASTE_BEGIN	K_FN(0x1001)
#define K_PASTE_END	K_FN(0x1002)
#define K_WHEEL_UP	K_FN(0x1003)
#define K_WHEEL_DOWN	K_FN(0x1004)

/*
 * The action for `key` in context `ctx` (a KC_* bit of the focused pane,
 * with KC_GEN or'd in while generating); more specific contexts win over
 * KC_GLOBAL.
 */
enum action keys_lookup(int key, unsigned ctx);
/* Is `act` handled by the focused pane (moves, open, tick), not globally
 * (quit, close the card, ...)? */
bool	 keys_pane_action(enum action act);
/* A binding of `key` in a view pane other than `pane` (KC_LOG, ...), the
 * one carrying help when there is one; NULL if none. */
const struct binding *keys_other_pane(int key, unsigned pane);
/* The table, for help and the man page. */
const struct binding *keys_table(size_t *n);
/* Help text lines, generated from the table; malloc'd vector of malloc'd
 * strings, NULL-terminated. */
char	**keys_help_lines(void);
void	 keys_strv_free(char **);

/* ---- shared UI state ------------------------------------------------------ */

struct pb_library;
struct pb_analysis;
struct eng_model;
struct eng_session;
struct eng_gen;
struct tui_assist;
struct import_ui;
typedef struct _win_st WINDOW;

#define APP_MAX_SOURCES	16
/* Row references pack a source (high 8 bits) and its line. */
#define ROW_SRC(r)	((unsigned)((r) >> 56))
#define ROW_LINE(r)	((r) & ((UINT64_C(1) << 56) - 1))
#define ROW_MAKE(s, l)	((uint64_t)(s) << 56 | (l))
#define APP_MAX_FILTERS	8
#define APP_MAX_MARKS	256

struct source {
	char		*name;		/* shown and used for evidence */
	char		*abspath;	/* kept in the session (resume elsewhere) */
	struct lidx	*ix;
	int64_t		 ref;		/* mtime: year for syslog stamps */
	uint64_t	 merged;	/* lines placed in the row map */
	int64_t		 head_t;	/* time of line `merged`, if head_ok */
	int64_t		 last_t;	/* last time seen (for lines without) */
	bool		 head_ok;
	bool		 spool;		/* our own paste/stdin file */
	uint64_t	 fed;		/* lines handed to the matcher so far */
	uint64_t	 refed;		/* ... and to the re-match (an_next) */
};

struct filter {
	char		*pattern;
	bool		 out;		/* hide matches (else show only them) */
	void		*re;		/* pcre2_code * */
};

/* A background scan over rows: search, e/E, w/W. */
enum job_kind { JOB_NONE, JOB_SEARCH, JOB_SEV };

struct logview {
	/* Row map: rows[i] is a ROW_MAKE(src, line).  With one source and
	 * no filter, direct mode skips it and row i is line i. */
	bool		 direct;
	uint64_t	*rows;
	size_t		 nrows, caprows;
	struct filter	 filters[APP_MAX_FILTERS];
	int		 nfilters;
	uint64_t	 top, cur;	/* first shown row, cursor row */
	int		 top_sub;	/* wrapped: screen lines of `top` skipped */
	size_t		 hcol;
	bool		 wrap, lineno, timecol, follow;
	char		*pattern;	/* search */
	void		*re;
	void		*md;		/* pcre2_match_data * */
	enum job_kind	 job;
	int		 job_dir;
	uint64_t	 job_row, job_start;
	enum line_sev	 job_sev;
	bool		 job_wrapped;
	enum line_sev	 minsev;	/* L: only lines this bad, or SEV_NONE */
	bool		 hidden[APP_MAX_SOURCES];	/* H: files not shown */
	bool		 strip;		/* S: error timeline under the log */
	uint64_t	 strip_rows;	/* rows it was counted over */
	uint16_t	 strip_err[256], strip_warn[256];	/* per column */
	int		 strip_w;
	int64_t		 strip_t0, strip_t1;
	uint64_t	 marks[APP_MAX_MARKS];	/* row refs, for the assistant */
	int		 nmarks;
	int		 page;		/* rows on the last draw */
};

struct tick {
	char		*card;		/* playbook id */
	int		 check;
};

struct dline {				/* a line of the detail pane */
	char		*text;
	int		 style;		/* enum dstyle in screen-cards.c */
	int		 item;		/* check number or evidence index, -1 */
	int		 indent;
};

struct turn {				/* one question and its answer */
	char		*question;
	char		*context;	/* what went to the model, described */
	char		*answer;
	size_t		 alen, acap;
	char		*stats;
	char		*note;		/* e.g. the model fell back */
	bool		 stopped;
	int		 kind;		/* enum turn_kind in screen-assist.c */
};

enum detail_mode { DETAIL_ASSIST, DETAIL_CARD };
enum prompt_mode { PM_NONE, PM_COMMAND, PM_SEARCH, PM_ASK, PM_FILTER };

/* Dirty bits: what to draw at the end of this loop iteration. */
enum {
	D_TITLE = 1 << 0, D_LOG = 1 << 1, D_CARDS = 1 << 2, D_DETAIL = 1 << 3,
	D_STATUS = 1 << 4, D_PROMPT = 1 << 5, D_PAGER = 1 << 6,
	D_LAYOUT = 1 << 7, D_ALL = 0xff,
};

struct app {
	unsigned	 dirty;
	bool		 quit;
	int		 rows, cols;
	struct layout	 lay;
	WINDOW		*win[PANE_COUNT];
	WINDOW		*wtitle, *wstatus, *wprompt, *wpager;
	int		 focus;		/* enum pane */
	int		 zoom;		/* pane alone, or -1 */
	bool		 colour;
	bool		 osc52;		/* y also sets the terminal clipboard */
	/* sources and the log view */
	struct source	 src[APP_MAX_SOURCES];
	int		 nsrc;
	struct logview	 lv;
	char		*session_dir;	/* this session's own directory */
	char		*sessions_root;	/* where all sessions are kept */
	char		*session_id;
	char		*switch_to;	/* :sessions ID: reopen with that one */
	struct missing {		/* resumed sources that could not open */
		char	*path;
		bool	 follow;
	}		*missing;
	size_t		 nmissing;
	long		 retention;	/* seconds sessions are kept */
	int		 paste_src;	/* index of the paste spool, or -1 */
	int		 paste_fd;	/* append end of the spool */
	int		 stdin_fd;	/* a piped stdin still being read */
	bool		 pasting;	/* between bracketed-paste markers */
	bool		 paste_mode;	/* P: typing goes to the spool */
	bool		 paste_cr;	/* the last pasted key was a lone CR */
	char		*pbuf;		/* bracketed paste being collected */
	size_t		 plen, pcap;
	/* cards */
	struct pb_library *lib;
	struct pb_analysis *an;
	/* After a bundle changed the playbooks: the new library, matched
	 * over the open logs in slices; it replaces lib/an when caught up. */
	struct pb_library *lib_next;
	struct pb_analysis *an_next;
	uint64_t	 rematch_lines;
	bool		 cards_stale;	/* lines fed since the last finish */
	double		 cards_time;
	size_t		 card_sel, card_top;
	char		*open_card;	/* playbook id in the detail pane */
	/* Every line of every card (of an, and of an_next while it
	 * re-matches): the log view marks them, c opens their card. */
	struct cardlines *cl, *cl_next;
	struct tick	*ticks;
	size_t		 nticks;
	enum detail_mode detail;
	struct dline	*dl;
	size_t		 ndl, dsel, dtop;
	/* assistant */
	char		*model_path;
	char		*model_error;
	char		*model_bundle;	/* the bundle it came from, or NULL */
	bool		 model_pinned;	/* --model, TRIAGE_MODEL or :model */
	bool		 model_switching;	/* a new one is being opened */
	struct eng_model *model;
	struct eng_session *sess;
	struct tui_assist *assist;	/* owns model and sess; see assist.h */
	struct turn	*turns;
	size_t		 nturns;
	size_t		 atop;		/* scroll of the assistant pane */
	bool		 afollow;	/* keep the newest text in view */
	size_t		 prefill_done, prefill_total;
	double		 gen_t0;
	uint32_t	 gen_tokens;
	double		 last_tps;
	char		*budget;	/* context budget, one line */
	char		**notes;
	size_t		 nnotes;
	/* pager overlay: help or a man page */
	bool		 pager;
	char		**pg_lines;	/* with \b overstrike as mandoc makes */
	size_t		 pg_n, pg_top;
	char		*pg_title;
	char		*pg_pattern;
	/* the import screen (screen-import.c) */
	struct import_ui *imp;
	bool		 import_on;	/* shown, in the pager's window */
	/* prompt */
	enum prompt_mode pmode;
	char		*message;	/* status bar message */
	bool		 message_err;
	bool		 message_where;	/* "FILE line N": the next move ends it */
	double		 message_time;
	char		*hist_path;
};

/* app.c */
void	 app_message(struct app *, bool err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
double	 app_now(void);
/* yank.c: y copies the line in focus (OSC 52 and a plain view) */
void	 app_yank(struct app *);
char	*yank_base64(const char *s, size_t n);	/* malloc'd, NUL-ended */
bool	 yank_osc52_default(const char *term);	/* clipboard = auto */
void	 pane_header_begin(struct app *, WINDOW *, int width, bool focus);
void	 pane_header_end(struct app *, WINDOW *, bool focus);
void	*app_xmalloc(size_t);
char	*app_xstrdup(const char *);
void	 app_command(struct app *, const char *line);
int	 app_open_source(struct app *, const char *path, bool follow,
	    bool spool);

/* screen-log.c */
void	 log_init(struct app *);
void	 log_free(struct app *);
/* Index and match for about `ms` milliseconds; 1 if more work waits. */
int	 log_work(struct app *, double ms);
void	 log_check_follow(struct app *);
uint64_t log_nrows(struct app *);
void	 log_action(struct app *, enum action);
int	 log_set_search(struct app *, const char *pattern, int dir);
int	 log_add_filter(struct app *, const char *pattern, bool out,
	    char **cause);
void	 log_clear_filters(struct app *);
void	 log_goto(struct app *, const char *file, uint64_t lineno);
void	 log_files(struct app *);			/* :files */
void	 log_show(struct app *, const char *arg);	/* :show [N] */
/* :goto 08:13, :goto 2024-03-14T08:13: the first line at or after it */
int	 log_goto_time(struct app *, const char *when);
/* The text of row r, sanitized, malloc'd; file and 1-based line number. */
char	*log_row_text(struct app *, uint64_t r, const char **file,
	    uint64_t *lineno);
void	 log_draw(struct app *, WINDOW *, const struct rect *);
int	 log_source_line(struct app *, int src, uint64_t line, const char **s,
	    size_t *len);

/* screen-cards.c */
void	 cards_refresh(struct app *);
void	 cards_action(struct app *, enum action);
void	 detail_action(struct app *, enum action);
void	 cards_open(struct app *, size_t i);
void	 cards_build_detail(struct app *);
void	 cards_draw(struct app *, WINDOW *, const struct rect *);
void	 detail_draw(struct app *, WINDOW *, const struct rect *);
bool	 tick_get(struct app *, const char *card, int check);
/* Start recording which line belongs to which card of a->an (call after
 * pb_analysis_new); -1 when out of memory (no marks, all else works). */
int	 cards_attach(struct app *);
/* The severity a line has as a line of a card (SEV_NONE if none): that
 * of the worst card it belongs to, as e/E and w/W judge it. */
enum line_sev cards_evidence_sev(const struct app *, uint64_t ref);
/* That worst card's own severity (a pb_severity), or -1 if none. */
int	 cards_line_severity(const struct app *, uint64_t ref);
/* The card (index) of the line, the worst one, and how many cards the
 * line belongs to in *n; -1 if none.  Finish stale cards first. */
long	 cards_of_line(struct app *, uint64_t ref, size_t *n);
void	 tick_set(struct app *, const char *card, int check, bool on);

/* screen-assist.c */
void	 assist_ask(struct app *, const char *question);
void	 assist_stop(struct app *);
void	 assist_pause(struct app *);	/* a key: background prefill waits */
void	 assist_think(struct app *, const char *arg);	/* :think [on|off] */
void	 assist_events(struct app *);
int	 assist_fd(struct app *);
bool	 assist_running(struct app *);
int	 assist_load(struct app *, const char *path);
void	 assist_free(struct app *);
void	 assist_draw(struct app *, WINDOW *, const struct rect *);
void	 assist_status(struct app *, char *buf, size_t size);
/* M, :explain [TOKENS]: a model card about the open card or template,
 * or the marked lines. */
void	 assist_card(struct app *, const char *arg);
/* The conversation (history, fallbacks, model cards) kept with the
 * session as assist.json in dir, and read back on --resume. */
void	 assist_session_save(struct app *, const char *dir);
void	 assist_session_load(struct app *, const char *dir);
/* Model cards and fallbacks for :export (a JSON object, new reference). */
struct json_t;
struct json_t *assist_report(struct app *);

/* screen-assist.c: open a model and a session without touching the app
 * (any thread); adopt them in the app (UI thread). */
int	 assist_open(const char *path, struct eng_model **m,
	    struct eng_session **s, char **cause);
/* The KV cache format assist_open loads with (the kv setting); set once
 * at start, before any thread opens a model. */
void	 assist_set_kv(int kv);
/* answer_timeout: seconds an answer or model card may take; 0: no limit. */
void	 assist_set_timeout(long seconds);
void	 assist_adopt(struct app *, struct eng_model *, struct eng_session *,
	    const char *path, const char *bundle);
/* Close the model (the answer must have stopped). */
void	 assist_unload(struct app *);

/* screen-cards.c: after the playbooks changed */
int	 cards_reload(struct app *, char **cause);
/* Re-match the open logs for about `ms`; 1 while more waits. */
int	 cards_rematch(struct app *, double ms);
/* One indexed line, for the current matcher and a re-match. */
void	 cards_feed(struct app *, int src, uint64_t line, const char *s,
	    size_t len);

/* screen-import.c */
/* Open the screen; `path` (may be NULL) is added to the places scanned. */
void	 import_open(struct app *, const char *path);
void	 import_close(struct app *);
void	 import_action(struct app *, enum action);
void	 import_draw(struct app *, WINDOW *);
/* The worker's wake-up fd, or -1; import_events reads what it posted. */
int	 import_fd(struct app *);
void	 import_events(struct app *);
/* Work that waits for the model to stop answering; each loop turn. */
void	 import_poll(struct app *);
/* A running job, as a short phrase for the status line (or ""). */
void	 import_status(struct app *, char *buf, size_t size);
bool	 import_busy(struct app *);
/* "NAME VERSION" of the active version of an installed bundle (malloc'd),
 * or NULL. */
char	*import_model_origin(const char *bundle);
/* Stop scanning, wait for a running import, free everything. */
void	 import_free(struct app *);

/* screen-pager.c */
void	 pager_help(struct app *);
/* Show lines of text (shown through the cell converter) in the pager. */
void	 pager_lines(struct app *, const char *title, char *const *lines,
	    size_t n);
int	 pager_man(struct app *, const char *page, char **cause);
void	 pager_close(struct app *);
void	 pager_action(struct app *, enum action);
void	 pager_search(struct app *, const char *pattern, int dir);
void	 pager_draw(struct app *, WINDOW *);
/* Find a man page: source tree, then installed; malloc'd path or NULL. */
char	*pager_find_page(const char *page);

/* prompt.c */
int	 prompt_init(struct app *);
void	 prompt_end(struct app *);
void	 prompt_open(struct app *, enum prompt_mode, const char *initial);
/* A key for the prompt; returns true if consumed. */
void	 prompt_key(struct app *, int key);
void	 prompt_insert(struct app *, const char *text);
void	 prompt_draw(struct app *, WINDOW *);

/* session-save.c */
int	 session_save(struct app *);
/* Choose the session to resume: `id`, or the last saved (NULL). */
int	 session_pick(struct app *, const char *id, char **cause);
int	 session_load(struct app *, char **cause);
/* At exit: an empty session is not kept, nor any with retention 0. */
void	 session_end(struct app *);
/* :sessions lists them in the pager; :sessions ID switches to one. */
void	 session_command(struct app *, const char *arg);
/* --resume=list: print the kept sessions; returns an exit status. */
int	 session_print_list(const char *root_given);
int	 session_export(struct app *, const char *path, char **cause);

/* sessions.c: the kept sessions, one directory each under a root */
struct sess_info {
	char		*id;		/* the directory's name */
	time_t		 saved;		/* session.json's mtime */
	bool		 has_json;
};
/* The root: `given` or $XDG_DATA_HOME/triage/sessions, made if missing. */
char	*sessions_root(const char *given);
/* Is `id` the name of a session directory (never a path)? */
bool	 sessions_valid_id(const char *id);
/* Make ROOT/ID for a new session named by `now` and the first source's
 * base name; returns the directory (malloc'd) and *id, or NULL. */
char	*sessions_new(const char *root, const char *first, time_t now,
	    char **id);
/* The sessions under root, the last saved first. */
int	 sessions_list(const char *root, struct sess_info **, size_t *n);
void	 sessions_info_free(struct sess_info *, size_t n);
/* Remove a session directory and the regular files in it. */
int	 sessions_remove(const char *dir);
/* Remove sessions saved more than max_age seconds ago (0: all) but
 * `keep`; returns how many went. */
int	 sessions_expire(const char *root, long max_age, const char *keep);

/* ---- the app ------------------------------------------------------------- */

struct app_opts {
	char	**files;	/* to open; "-" reads standard input */
	int	  nfiles;
	bool	  follow;	/* -f: follow every file */
	bool	  resume;	/* --resume: reopen the last session */
	const char *resume_id;	/* --resume=ID, or NULL for the last */
	const char *model;	/* --model FILE */
	const char *session_dir;	/* --session DIR (tests) */
};

/* Does `triage ARG ...` mean the full-screen UI (a file, -, -f, ...)? */
bool	 app_wants(const char *arg);
/* Run the full-screen UI; returns an exit status, or APP_SWITCH with
 * *next set (malloc'd) to the session id :sessions asked for. */
#define APP_SWITCH	(-2)
int	 app_run(const struct app_opts *, char **next);
/* Parse `triage [-f] [--resume] [FILE...]`; returns -1 to fall back to
 * usage, else the exit status of the UI. */
int	 app_main(int argc, char **argv);

#endif
