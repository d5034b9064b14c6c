/*
 * metrics.h - coarse, content-free local metrics (triage(1) METRICS).
 *
 * Lines "DAY<TAB>KEY<TAB>N" appended to $XDG_STATE_HOME/triage/metrics.
 * Keys are built only from fixed words and identifiers checked against
 * [a-z0-9._+-]{1,64}; anything else becomes "other", so no log text, file
 * name, host or user name can be written.  "metrics = off" in the config
 * stops collection.  The file is compacted past METRICS_MAX bytes.
 */
#ifndef TRIAGE_METRICS_H
#define TRIAGE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct pb_analysis;
struct eng_event;
struct eng_info;

#define METRICS_MAX	(256 * 1024)

/* Add n to a key made of up to three parts joined by '.'. */
void	 metrics_count(const char *a, const char *b, const char *c, long n);
/* One line per card: cards.<class>.<severity>. */
void	 metrics_cards(const struct pb_analysis *);
/* A model answer: outcome word, time to first token and decode rate,
 * recorded as buckets. */
void	 metrics_answer(const char *outcome, double ttft_ms, double tok_s);
/* The same from an answer's DONE event (tui/assist.c, for `triage ask`
 * and the app alike): ok, token-limit, context-full, stopped,
 * invalid-output, error, or timeout when the caller's limit stopped it. */
void	 metrics_gen_done(const struct eng_event *, bool timed_out);
/* A model loaded: model.<arch>.<size>-<quantization>. */
void	 metrics_model(const struct eng_info *);
/* A refused import: bundle.refused.<kind of reason> from a BDL_E code. */
void	 metrics_bundle_refused(int code);
/* Path of the metrics file (malloc'd), or NULL without a home. */
char	*metrics_path(void);
int	 metrics_enabled(void);

int	 cmd_stats(int argc, char **argv);	/* cmd-stats.c */
int	 cmd_doctor(int argc, char **argv);	/* cmd-doctor.c */
int	 cmd_sessions(int argc, char **argv);	/* cmd-sessions.c */
/* cmd-sessions.c: erase ROOT/ID (files, history lines), naming each
 * removal through say(); and ":sessions erase ID" in the app. */
int	 sessions_erase(const char *root, const char *id, int history,
	    void (*say)(void *, const char *), void *arg);
struct app;
void	 session_erase_command(struct app *, const char *id);
/* Remove `triage ask`'s kept conversation if older than max_age seconds
 * (0: whatever its age); 1 if removed. */
int	 ask_conversation_expire(long max_age);

#endif
