/*
 * tui.h - the triage program: command dispatch and presentation.
 *
 *   main.c          options common to every command, dispatch, exit codes
 *   paths.c         XDG data and config locations, shipped data directory
 *   cmd-analyze.c   `triage analyze`: cards as text or JSON
 *   cmd-playbook.c  `triage playbook lint|list`
 *   cmd-model.c     `triage model info`: describe a GGUF model
 *   cmd-bench.c     `triage model bench`: prefill and decode speed
 *   cmd-ask.c       `triage ask`: stream an answer from the local model
 *   cmd-bundle.c    `triage bundle ...`: signed bundles, the installed store
 *   cmd-keys.c      `triage keys add|list|remove`: who may sign bundles
 *   config.c        $XDG_CONFIG_HOME/triage/config defaults
 *   out.c           colour and terminal-safe text output
 *   app.c ...       the full-screen interface (`triage [FILE...]`); its
 *                   files are listed in app.h
 */
#ifndef TRIAGE_TUI_H
#define TRIAGE_TUI_H

#include <stdint.h>
#include <stdio.h>

#include "../playbooks/playbook.h"

#ifndef TRIAGE_VERSION
#define TRIAGE_VERSION "0.1.0"
#endif

/* Exit statuses, like grep(1). */
#define EXIT_FOUND	0
#define EXIT_NONE	1
#define EXIT_TROUBLE	2

int	 cmd_analyze(int argc, char **argv);
int	 cmd_playbook(int argc, char **argv);
int	 cmd_model(int argc, char **argv);
int	 cmd_model_bench(int argc, char **argv);	/* cmd-bench.c */
int	 cmd_ask(int argc, char **argv);
int	 cmd_bundle(int argc, char **argv);
int	 cmd_keys(int argc, char **argv);

/* paths.c: each returns a new string (caller frees) or NULL. */
char	*path_shipped_playbooks(void);
char	*path_user_playbooks(void);
char	*path_config_file(void);
char	*path_data_dir(void);		/* $XDG_DATA_HOME/triage */
/* Load the default library: shipped, installed bundles, then the user's
 * (later ones override earlier ones). */
int	 library_default(struct pb_library *, pb_diag_fn, void *);

/* config.c: defaults for options; problems are reported, never fatal. */
struct config {
	const char	*colour;	/* NULL: auto */
	size_t		 examples;
	size_t		 top;
	long		 retention;	/* seconds a session is kept; 0: none */
	int		 clipboard;	/* y sets it by OSC 52: 1, 0, -1 auto */
	int		 kv;		/* the model's KV cache: ENG_KV_F16 or
					 * ENG_KV_Q8 (kv = f16 | q8) */
	long		 answer_timeout; /* seconds an answer or model card
					 * may take in the app; 0: no limit */
};
/* "30d", "12h", "0" (days if no unit) to seconds; -1 if malformed. */
long	 config_duration(const char *v);
/* "120s", "2m", "1h", "0" (seconds if no unit) to seconds, at most a
 * day; -1 if malformed. */
long	 config_seconds(const char *v);
void	 config_load(struct config *);

/* cmd-bundle.c: the installed model, from the bundle store. */
/* Path of the active model file (malloc'd) and its bundle, or NULL. */
char	*bundle_model_path(char **bundle);
/*
 * The active model of `bundle` failed to load (`reason`): switch the
 * bundle to its last-known-good version, say so on stderr, and return the
 * new model path (malloc'd), or NULL if there is none.
 */
char	*bundle_model_fallback(const char *bundle, const char *reason);
struct bdl_manifest;
struct bdl_env;
/* The self-check of a new version (a bdl_check_fn) and what this machine
 * offers, shared with the import screen. */
int	 bundle_selfcheck(void *arg, const struct bdl_manifest *,
	    const char *dir, char **cause);
void	 bundle_env(struct bdl_env *);
/* cmd-keys.c: ask "QUESTION [y/N]" on stderr; 1 yes.  assume_yes skips it. */
int	 ask_yes(const char *question, int assume_yes);

/* out.c */
enum colour { C_RESET, C_BOLD, C_DIM, C_RED, C_YELLOW, C_CYAN, C_MAGENTA,
	C_GREEN };
extern int out_colour;
/* Decide colour from --color=WHEN, NO_COLOR and isatty; 0 ok, -1 bad WHEN. */
int	 out_colour_init(const char *when, FILE *fp);
const char *col(enum colour);
void	 warn_line(void *arg, const char *line);	/* "triage: ..." */
/* Bytes as "1.5 GiB" into buf (cap bytes); returns buf. */
const char *out_size(uint64_t bytes, char *buf, size_t cap);
void	 diag_line(void *arg, const char *line);	/* plain, stdout */
/*
 * The gate for untrusted text (see out.c): printf, except that every %s
 * and %c argument is passed through pb_sanitize() (colour sequences from
 * col() excepted).  say_safe adds a newline.  Use these for every line
 * that can hold a file name, file content, metadata or another module's
 * message.
 */
#include <stdarg.h>
void	 out_vprintf(FILE *fp, const char *fmt, va_list ap);
void	 out_printf(FILE *fp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 say_safe(FILE *fp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Text streamed in pieces (model output): an incomplete UTF-8 sequence
 * waits for the next piece; end flushes it.  Newlines and tabs pass. */
struct out_stream {
	char	 pend[4];
	size_t	 n;
};
void	 out_stream(FILE *fp, struct out_stream *, const char *s, size_t n,
	    int end);

#endif
