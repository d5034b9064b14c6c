/*
 * test-tui-assist.c - the assistant's conversation logic (tui/assist.c)
 * with stories260K: token-budgeted log trimming, follow-ups that reuse the
 * KV cache and answer as a fresh prefill would, the oldest exchanges
 * dropped (never the brief), reasoning hidden, fallbacks recorded; the
 * brief built again when new lines change the analysis; model cards
 * written like answers and checked as `analyze --explain` checks them;
 * the time limit on answers and cards (answer_timeout); model cards off
 * after TUI_ASSIST_BAD_CARDS invalid ones in a row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../playbooks/playbook.h"
#include "../tui/assist.h"
#include "../tui/card-model.h"
#include "../tui/metrics.h"
#include "lib-syngen.h"

static char model[4096];

static int
setup(void **st)
{
	const char *s = getenv("SHARED");

	(void)st;
	snprintf(model, sizeof model, "%s/models/stories260K.gguf",
	    s && *s ? s : "../../shared");
	return 0;
}

static struct tui_assist *
open_assist(uint32_t n_ctx)
{
	struct eng_load_opts lo = { .n_ctx = n_ctx, .n_threads = 2 };
	struct tui_assist *a = NULL;
	char *cause = NULL;

	assert_int_equal(tui_assist_new(&a), 0);
	if (tui_assist_load(a, model, &lo, &cause) != 0)
		fail_msg("%s", cause);
	return a;
}

/* Run one question to the end; the visible answer, malloc'd. */
static char *
ask(struct tui_assist *a, const char *q, uint32_t ntok,
    struct tui_turn_info *ti)
{
	struct eng_sample_params sp;
	struct eng_event ev;
	char *cause = NULL, *out = calloc(1, 1);
	size_t n = 0;

	eng_sample_defaults(&sp);
	sp.temp = 0;
	sp.repeat_penalty = 1;
	sp.max_tokens = ntok;
	if (tui_assist_ask(a, TUI_TURN_QUESTION, q, &sp, ti, &cause) != 0)
		fail_msg("%s", cause);
	while (tui_assist_next(a, &ev, true) == 1) {
		if (ev.kind == ENG_EV_TEXT) {
			out = realloc(out, n + ev.len + 1);
			memcpy(out + n, ev.text, ev.len);
			n += ev.len;
			out[n] = '\0';
		}
		if (ev.kind == ENG_EV_DONE) {
			assert_int_not_equal(ev.stop, ENG_STOP_ERROR);
			break;
		}
	}
	assert_false(tui_assist_running(a));
	return out;
}

static char *
numbered_log(size_t n)
{
	char *s = malloc(n * 64), *p = s;

	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "Dec 10 11:%02zu:00 host sshd[%zu]: line %zu failed\n",
		    i % 60, 1000 + i, i);
	return s;
}

/* The newest lines that fit, no more, no fewer; the cut ones counted. */
static void
test_fit_lines(void **st)
{
	struct tui_assist *a = open_assist(512);
	char *log = numbered_log(200), *out = NULL, *more;
	size_t ncut, ntok, kept = 0;

	(void)st;
	assert_int_equal(tui_assist_fit_lines(a, log, 300, &out, &ncut, &ntok), 0);
	assert_true(ntok <= 300);
	assert_int_equal(ntok, tui_assist_count(a, out));
	for (const char *p = out; *p; p++)
		kept += *p == '\n';
	assert_true(kept > 0);
	assert_int_equal(kept + ncut, 200);
	assert_non_null(strstr(out, "line 199 failed\n"));	/* the newest */
	assert_int_equal(strncmp(out, "Dec 10", 6), 0);		/* whole lines */
	/* one more line would not have fitted */
	more = strstr(log, out);
	assert_non_null(more);
	assert_true(more > log);
	more--;
	while (more > log && more[-1] != '\n')
		more--;
	assert_true(tui_assist_count(a, more) > 300);
	free(out);
	/* everything fits: nothing cut */
	assert_int_equal(tui_assist_fit_lines(a, "one\ntwo\n", 300, &out,
	    &ncut, &ntok), 0);
	assert_int_equal(ncut, 0);
	assert_string_equal(out, "one\ntwo\n");
	free(out);
	/* nothing fits */
	assert_int_equal(tui_assist_fit_lines(a, log, 3, &out, &ncut, &ntok), 0);
	assert_string_equal(out, "");
	assert_int_equal(ncut, 200);
	free(out);
	free(log);
	tui_assist_free(a);
}

/*
 * A follow-up prefills only what the cache lacks and answers exactly as
 * the same conversation does from an empty cache.
 */
static void
test_followup_reuses_cache(void **st)
{
	struct tui_assist *a = open_assist(1024), *b;
	struct tui_turn_info t1, t2, t3;
	char *a1, *a2, *b2, *cause = NULL, *mp = NULL;
	char path[] = "/tmp/test-tui-assist-XXXXXX";
	int fd;

	(void)st;
	assert_int_equal(tui_assist_set_context(a, "You help.",
	    "Log:\nkernel: disk sda failed\n"), 0);
	a1 = ask(a, "What broke?", 20, &t1);
	assert_int_equal(t1.n_reused, 0);
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(tui_assist_save(a, path, &cause), 0);
	a2 = ask(a, "And then?", 20, &t2);
	assert_int_equal(tui_assist_turns(a), 2);
	assert_int_equal(t2.n_history, 1);
	/* at least the whole first prompt came from the cache */
	assert_true(t2.n_reused >= t1.n_prompt);
	assert_true(t2.n_reused < t2.n_prompt);

	/* the same conversation from an empty cache */
	assert_int_equal(tui_assist_new(&b), 0);
	assert_int_equal(tui_assist_restore(b, path, &mp, &cause), 0);
	assert_string_equal(mp, model);
	{
		struct eng_load_opts lo = { .n_ctx = 1024, .n_threads = 2 };

		assert_int_equal(tui_assist_load(b, mp, &lo, &cause), 0);
	}
	assert_int_equal(tui_assist_turns(b), 1);
	assert_string_equal(tui_assist_answer(b, 0), tui_assist_answer(a, 0));
	b2 = ask(b, "And then?", 20, &t3);
	assert_int_equal(t3.n_reused, 0);
	assert_int_equal(t3.n_prompt, t2.n_prompt);
	assert_true(strlen(a2) > 0);
	assert_string_equal(a2, b2);

	/* a new brief: only what comes before it is reused */
	assert_int_equal(tui_assist_set_context(a, "You help.", "Other log\n"), 0);
	free(ask(a, "Now?", 5, &t3));
	assert_true(t3.n_reused > 0);
	/* the system prompt and the template around it, not the brief */
	assert_true(t3.n_reused >= tui_assist_count(a, "You help."));
	assert_true(t3.n_reused + tui_assist_count(a, "Log:\nkernel: disk sda "
	    "failed\n") <= t1.n_prompt);

	unlink(path);
	free(mp);
	free(a1);
	free(a2);
	free(b2);
	tui_assist_free(a);
	tui_assist_free(b);
}

/* Drive background prefill slices to the end. */
static size_t
warm_all(struct tui_assist *a, size_t slice)
{
	struct eng_event ev;
	size_t slices = 0;
	int r;

	while ((r = tui_assist_warm(a, slice)) == 1) {
		slices++;
		assert_true(tui_assist_warming(a));
		assert_false(tui_assist_running(a));
		/* its events are consumed inside: nothing comes out */
		assert_int_equal(tui_assist_next(a, &ev, true), 0);
		assert_false(tui_assist_warming(a));
	}
	assert_int_equal(r, 0);
	return slices;
}

/*
 * The brief prefilled in the background, in slices: the first question
 * then prefills only itself and answers as without it.  A pause in the
 * middle loses nothing already done; a changed brief starts over.
 */
static void
test_background_prefill(void **st)
{
	struct tui_assist *a = open_assist(1024), *b = open_assist(1024);
	struct tui_turn_info ta, tb;
	char *log = numbered_log(8), *x, *y;

	(void)st;
	assert_int_equal(tui_assist_set_context(a, "You help.", log), 0);
	assert_int_equal(tui_assist_set_context(b, "You help.", log), 0);
	/* one slice, paused at once, then the rest */
	assert_int_equal(tui_assist_warm(a, 32), 1);
	tui_assist_pause(a);
	assert_false(tui_assist_warming(a));
	assert_true(warm_all(a, 32) > 1);
	x = ask(a, "What broke?", 10, &ta);
	y = ask(b, "What broke?", 10, &tb);
	assert_int_equal(tb.n_reused, 0);
	assert_int_equal(ta.n_prompt, tb.n_prompt);
	assert_true(ta.n_reused > 100);
	assert_true(ta.n_prompt - ta.n_reused < 20);	/* the question only */
	assert_string_equal(x, y);
	free(x);
	free(y);
	/* after an answer the history is warmed too */
	warm_all(a, 64);
	free(ask(a, "And?", 5, &ta));
	assert_true(ta.n_prompt - ta.n_reused < 20);
	free(log);
	tui_assist_free(a);
	tui_assist_free(b);
}

/* Past the context, the oldest exchanges go; the brief stays and opens
 * the conversation; the count is reported. */
static void
test_history_dropped_not_brief(void **st)
{
	struct tui_assist *a = open_assist(384);
	struct tui_turn_info ti;
	size_t dropped = 0, i;
	char q[64];

	(void)st;
	tui_assist_set_reserve(a, 64);
	assert_int_equal(tui_assist_set_context(a, "", "BRIEF: disk sda failed\n"), 0);
	for (i = 0; i < 12; i++) {
		snprintf(q, sizeof q, "question %zu?", i);
		free(ask(a, q, 30, &ti));
		assert_true(ti.n_prompt + 64 <= 384);
		dropped += ti.n_dropped;
	}
	assert_true(dropped > 0);
	assert_int_equal(tui_assist_dropped(a), dropped);
	assert_int_equal(tui_assist_turns(a) + dropped, 12);
	assert_string_equal(tui_assist_question(a, tui_assist_turns(a) - 1),
	    "question 11?");
	assert_string_equal(tui_assist_brief(a), "BRIEF: disk sda failed\n");
	tui_assist_free(a);
}

/* A brief that cannot fit is a fallback with a reason, not a crash. */
static void
test_brief_too_big(void **st)
{
	struct tui_assist *a = open_assist(128);
	struct eng_sample_params sp;
	struct tui_turn_info ti;
	char *log = numbered_log(50), *cause = NULL;
	const char *detail;

	(void)st;
	eng_sample_defaults(&sp);
	assert_int_equal(tui_assist_set_context(a, "", log), 0);
	assert_int_not_equal(tui_assist_ask(a, TUI_TURN_QUESTION, "why?", &sp,
	    &ti, &cause), 0);
	assert_non_null(strstr(cause, "the context holds 128"));
	assert_int_equal(tui_assist_fallbacks(a), 1);
	assert_int_equal(tui_assist_fallback_at(a, 0, &detail), TUI_FB_CONTEXT);
	free(cause);
	free(log);
	tui_assist_free(a);
}

static void
test_fallbacks_recorded(void **st)
{
	struct tui_assist *a, *b;
	struct eng_sample_params sp;
	struct tui_turn_info ti;
	struct eng_load_opts lo = { 0 };
	char *cause = NULL, *mp = NULL;
	char path[] = "/tmp/test-tui-assist-XXXXXX";
	const char *detail;
	int fd;

	(void)st;
	assert_int_equal(tui_assist_new(&a), 0);
	eng_sample_defaults(&sp);
	assert_int_not_equal(tui_assist_ask(a, TUI_TURN_QUESTION, "why?", &sp,
	    &ti, &cause), 0);
	free(cause);
	assert_int_not_equal(tui_assist_load(a, "/nonexistent/m.gguf", &lo,
	    &cause), 0);
	assert_non_null(strstr(cause, "/nonexistent/m.gguf"));
	free(cause);
	assert_false(tui_assist_has_model(a));
	assert_int_equal(tui_assist_fallbacks(a), 2);
	assert_int_equal(tui_assist_fallback_at(a, 0, NULL), TUI_FB_NO_MODEL);
	assert_int_equal(tui_assist_fallback_at(a, 1, &detail), TUI_FB_LOAD);
	assert_string_equal(tui_fallback_name(TUI_FB_LOAD), "load-failed");
	tui_assist_fallback(a, TUI_FB_NAN, "the model computed NaN");
	/* kept with the conversation and read back */
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(tui_assist_save(a, path, &cause), 0);
	assert_int_equal(tui_assist_new(&b), 0);
	assert_int_equal(tui_assist_restore(b, path, &mp, &cause), 0);
	assert_int_equal(tui_assist_fallbacks(b), 3);
	assert_int_equal(tui_assist_fallback_at(b, 2, &detail), TUI_FB_NAN);
	assert_string_equal(detail, "the model computed NaN");
	unlink(path);
	free(mp);
	tui_assist_free(a);
	tui_assist_free(b);
}

/* A timeout cancels the answer and is recorded. */
static void
test_timeout_recorded(void **st)
{
	struct tui_assist *a = open_assist(512);
	struct eng_sample_params sp;
	struct tui_turn_info ti;
	struct eng_event ev;
	char *cause = NULL;

	(void)st;
	eng_sample_defaults(&sp);
	assert_int_equal(tui_assist_ask(a, TUI_TURN_QUESTION, "Tell a story",
	    &sp, &ti, &cause), 0);
	tui_assist_cancel(a, true);
	while (tui_assist_next(a, &ev, true) == 1 && ev.kind != ENG_EV_DONE)
		;
	assert_false(tui_assist_running(a));
	assert_int_equal(tui_assist_fallback_at(a, tui_assist_fallbacks(a) - 1,
	    NULL), TUI_FB_TIMEOUT);
	tui_assist_free(a);
}

static char *
filter_all(const char *const *pieces, size_t *hidden)
{
	struct tui_think f = { .npend = 0 };
	char *out = calloc(1, 1024);
	size_t n = 0;

	for (size_t i = 0; pieces[i] != NULL; i++)
		n += tui_think_filter(&f, pieces[i], strlen(pieces[i]), out + n);
	*hidden = f.hidden;
	return out;
}

/* Reasoning never reaches the answer, however the tags are split. */
static void
test_think_hidden(void **st)
{
	static const char *const a[] = { "<think>\nhmm, disk?\n</think>\n\n",
	    "Check the disk.", NULL };
	static const char *const b[] = { "<th", "ink>x<y", "</", "think", ">",
	    "a<b and <thin", "g>", NULL };
	static const char *const c[] = { "<<think>z</think>ok", NULL };
	size_t h;
	char *s;

	(void)st;
	s = filter_all(a, &h);
	assert_string_equal(s, "\n\nCheck the disk.");
	assert_int_equal(h, strlen("<think>\nhmm, disk?\n</think>"));
	free(s);
	s = filter_all(b, &h);
	assert_string_equal(s, "a<b and <thing>");
	free(s);
	s = filter_all(c, &h);
	assert_string_equal(s, "<ok");
	free(s);
}

/*
 * The brief from an analysis: the cards with their evidence first, the
 * selection's newest lines in the rest, never over the budget, and what
 * was cut counted.
 */
static void
test_brief_from_cards(void **st)
{
	struct tui_assist *a = open_assist(2048);
	struct pb_library *lib = NULL;
	struct pb_analysis *an = NULL;
	struct pb_options o;
	struct tui_brief_cut cut;
	char *log = numbered_log(100), *brief = NULL, *cause = NULL;

	(void)st;
	assert_int_equal(pb_library_new(&lib), 0);
	assert_true(pb_library_add(lib, "../share/playbooks", NULL, NULL,
	    &cause) >= 0);
	pb_options_init(&o);
	o.max_examples = 2;
	assert_int_equal(pb_analysis_new(lib, &o, &an), 0);
	for (int i = 0; i < 12; i++) {
		char line[160];

		snprintf(line, sizeof line, "Dec 10 07:28:%02d LabSZ sshd[24243]: "
		    "Failed password for root from 112.95.230.3 port 5266%d ssh2",
		    i, i % 10);
		pb_analysis_feed_line(an, "auth.log", (uint64_t)i + 1, line,
		    strlen(line), 1765324800000);
	}
	pb_analysis_finish(an);
	assert_true(pb_analysis_ncards(an) >= 1);

	assert_int_equal(tui_assist_brief_build(a, an, "the marked lines", log,
	    800, &brief, &cut), 0);
	assert_true(cut.tokens <= 800);
	assert_int_equal(cut.tokens, tui_assist_count(a, brief));
	assert_true(cut.cards_in >= 1);
	assert_non_null(strstr(brief, "Problems triage found"));
	assert_non_null(strstr(brief, "line 12: Dec 10 07:28:11"));	/* evidence */
	assert_non_null(strstr(brief, "selection, the marked lines:"));
	assert_non_null(strstr(brief, "line 99 failed"));	/* newest kept */
	assert_true(cut.lines > 0);
	assert_null(strstr(brief, "line 0 failed\n"));
	/* cards come before the selection */
	assert_true(strstr(brief, "Problems") < strstr(brief, "marked lines"));
	free(brief);

	/* a tiny budget: the cards are cut too, and said so */
	assert_int_equal(tui_assist_brief_build(a, an, NULL, log, 20, &brief,
	    &cut), 0);
	assert_true(cut.tokens <= 20);
	assert_true(cut.cards > 0);
	assert_int_equal(cut.lines, 100);
	free(brief);

	pb_analysis_free(an);
	pb_library_free(lib);
	free(log);
	free(cause);
	tui_assist_free(a);
}


/* An analysis of `n` sshd failures and, if disk, kernel I/O errors. */
static void
feed(struct pb_analysis *an, int from, int n, bool disk)
{
	char line[160];

	for (int i = from; i < from + n; i++) {
		if (disk)
			snprintf(line, sizeof line, "Dec 10 07:30:%02d host kernel: "
			    "I/O error, dev sda, sector %d", i % 60, 1000 + i);
		else
			snprintf(line, sizeof line, "Dec 10 07:28:%02d LabSZ "
			    "sshd[24243]: Failed password for root from "
			    "112.95.230.3 port 5266%d ssh2", i % 60, i % 10);
		pb_analysis_feed_line(an, "auth.log", (uint64_t)i + 1, line,
		    strlen(line), 1765324800000);
	}
	pb_analysis_finish(an);
}

static struct pb_analysis *
new_analysis(struct pb_library **lib)
{
	struct pb_analysis *an = NULL;
	struct pb_options o;
	char *cause = NULL;

	assert_int_equal(pb_library_new(lib), 0);
	if (pb_library_add(*lib, "../share/playbooks", NULL, NULL, &cause) < 0)
		fail_msg("%s", cause);
	pb_options_init(&o);
	o.max_examples = 2;
	assert_int_equal(pb_analysis_new(*lib, &o, &an), 0);
	return an;
}

/*
 * New lines after the background prefill: the brief is built again (the
 * new card in it), read again in the background, and the next question
 * reuses that fresh prefix and answers exactly as an assistant that
 * never saw the old brief.
 */
static void
test_reground_new_lines(void **st)
{
	struct tui_assist *a = open_assist(2048), *b = open_assist(2048);
	struct pb_library *lib = NULL;
	struct pb_analysis *an = new_analysis(&lib);
	struct tui_brief_cut cut;
	struct tui_turn_info ta, tb;
	char *x, *y;

	(void)st;
	feed(an, 0, 12, false);
	assert_int_equal(tui_assist_ground(a, "You help.", an, 1, NULL, NULL,
	    900, &cut), 0);
	assert_non_null(strstr(tui_assist_brief(a), "Problems triage found"));
	assert_null(strstr(tui_assist_brief(a), "Disk I/O errors"));
	assert_true(warm_all(a, 64) > 0);
	/* the same analysis: nothing to do */
	assert_int_equal(tui_assist_reground(a, an, 1), 0);
	assert_int_equal(tui_assist_warm(a, 64), 0);

	/* new lines (follow mode, a paste): a new card */
	feed(an, 12, 5, true);
	assert_int_equal(tui_assist_reground(a, an, 2), 1);
	assert_non_null(strstr(tui_assist_brief(a), "Disk I/O errors"));
	assert_int_equal(tui_assist_cut(a)->tokens,
	    tui_assist_count(a, tui_assist_brief(a)));
	assert_int_equal(tui_assist_reground(a, an, 2), 0);
	/* read again in the background, in slices, from where it differs */
	assert_true(warm_all(a, 64) > 0);
	x = ask(a, "What broke?", 12, &ta);
	assert_true(ta.n_reused > 100);
	assert_true(ta.n_prompt - ta.n_reused < 20);	/* the question only */

	/* a fresh assistant grounded once in the final analysis */
	assert_int_equal(tui_assist_ground(b, "You help.", an, 2, NULL, NULL,
	    900, &cut), 0);
	assert_string_equal(tui_assist_brief(a), tui_assist_brief(b));
	y = ask(b, "What broke?", 12, &tb);
	assert_int_equal(tb.n_reused, 0);
	assert_int_equal(ta.n_prompt, tb.n_prompt);
	assert_string_equal(x, y);
	free(x);
	free(y);

	/* with a conversation: the brief of the first turn changes, the
	 * history follows, and the follow-up still matches a fresh one */
	feed(an, 17, 3, true);
	assert_int_equal(tui_assist_reground(a, an, 3), 1);
	assert_int_equal(tui_assist_reground(b, an, 3), 1);
	warm_all(a, 64);
	x = ask(a, "And?", 8, &ta);
	assert_true(ta.n_prompt - ta.n_reused < 20);
	y = ask(b, "And?", 8, &tb);
	assert_int_equal(ta.n_history, 1);
	assert_int_equal(ta.n_prompt, tb.n_prompt);
	assert_string_equal(x, y);
	free(x);
	free(y);
	pb_analysis_free(an);
	pb_library_free(lib);
	tui_assist_free(a);
	tui_assist_free(b);
}

/* The sum of one key's counts in the metrics file (0 when none). */
static long
metric(const char *key)
{
	char *path = metrics_path(), line[512], *k, *v;
	size_t kl = strlen(key);
	long sum = 0;
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "r")) == NULL) {
		free(path);
		return 0;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		if ((k = strchr(line, '\t')) == NULL || (v = strchr(++k, '\t')) == NULL)
			continue;
		if ((size_t)(v - k) == kl && strncmp(k, key, kl) == 0)
			sum += strtol(v + 1, NULL, 10);
	}
	fclose(fp);
	free(path);
	return sum;
}

/* Drive a model card to its end; the result (1 valid, 0 not). */
static int
card(struct tui_assist *a, const struct tui_mcard_line *l, size_t n,
    uint32_t ntok, const char **reason)
{
	struct eng_event ev;
	char *cause = NULL;
	size_t text = 0;

	if (tui_assist_card(a, "a template", "story.log",
	    "an unknown log template", l, n, ntok, &cause) != 0)
		fail_msg("%s", cause);
	assert_true(tui_assist_running(a));
	assert_true(tui_assist_carding(a));
	assert_int_equal(tui_assist_card_result(a, NULL), -1);
	while (tui_assist_next(a, &ev, true) == 1 && ev.kind != ENG_EV_DONE)
		text += ev.kind == ENG_EV_TEXT ? ev.len : 0;
	assert_int_equal(text, 0);	/* the raw JSON is nobody's answer */
	assert_false(tui_assist_running(a));
	assert_int_equal(tui_assist_turns(a), 0);	/* not a conversation turn */
	return tui_assist_card_result(a, reason);
}

/*
 * A model card in the app's way (on the engine's thread, events through
 * tui_assist_next) ends exactly as tui_mcard_ask (`analyze --explain`)
 * ends on the same lines; a limit that cuts it is no card and a recorded
 * fallback; kept cards are checked again when read back.
 */
static void
test_model_card(void **st)
{
	static const struct tui_mcard_line l[] = {
		{ 3, "Mar 14 08:00:03 hmi app[7]: warning: once upon a time "
		    "they played with happy bird" },
	};
	struct tui_assist *a = open_assist(2048), *b;
	struct eng_session *s = NULL;
	struct tui_mcard c;
	const struct tui_mcard *k;
	const char *reason, *subject, *file, *detail;
	char *why = NULL, *cause = NULL, *mp = NULL, *text = NULL;
	char path[] = "/tmp/test-tui-assist-XXXXXX";
	int fd, rs;

	(void)st;
	/* the CLI's way, on a session of its own */
	assert_int_equal(eng_session_new(tui_assist_model(a), &s, &cause), 0);
	rs = tui_mcard_ask(tui_assist_model(a), s, "an unknown log template",
	    l, 1, 400, &c, &why);
	assert_int_equal(card(a, l, 1, 400, &reason), rs == 0 ? 1 : 0);
	if (rs == 0) {
		k = tui_assist_mcard(a, 0, &subject, &file);
		assert_non_null(k);
		assert_string_equal(k->title, c.title);
		assert_string_equal(k->cause, c.cause);
		assert_string_equal(subject, "a template");
		assert_string_equal(file, "story.log");
		assert_int_equal(k->evidence[0], 3);
		text = tui_mcard_text(k, file);
		assert_non_null(strstr(text, "MODEL CARD - suggested by the model"));
		assert_non_null(strstr(text, "story.log:3"));
		free(text);
		tui_mcard_clear(&c);
	} else {
		assert_string_equal(reason, why);
		free(why);
	}
	/* stories260K does write this one valid: the app's test relies on it */
	assert_int_equal(rs, 0);
	assert_int_equal(tui_assist_mcards(a), 1);

	/* forced garbage: five tokens cannot finish a card */
	assert_int_equal(card(a, l, 1, 5, &reason), 0);
	assert_non_null(strstr(reason, "incomplete"));
	assert_int_equal(tui_assist_mcards(a), 1);
	assert_int_equal(tui_assist_fallback_at(a, tui_assist_fallbacks(a) - 1,
	    &detail), TUI_FB_INVALID_CARD);
	assert_string_equal(detail, reason);

	/* the cache holds the card's prompt now: a question afterwards
	 * answers as from an empty cache all the same */
	{
		struct tui_assist *f = open_assist(2048);
		struct tui_turn_info ti, tf;
		char *x, *y;

		assert_int_equal(tui_assist_set_context(a, "You help.", "x\n"), 0);
		assert_int_equal(tui_assist_set_context(f, "You help.", "x\n"), 0);
		x = ask(a, "Why?", 8, &ti);
		y = ask(f, "Why?", 8, &tf);
		assert_true(ti.n_reused < ti.n_prompt);
		assert_string_equal(x, y);
		free(x);
		free(y);
		tui_assist_free(f);
	}

	/* kept and read back, checked again; a tampered one is dropped */
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(tui_assist_save(a, path, &cause), 0);
	assert_int_equal(tui_assist_new(&b), 0);
	assert_int_equal(tui_assist_restore(b, path, &mp, &cause), 0);
	assert_int_equal(tui_assist_mcards(b), 1);
	assert_string_equal(tui_assist_mcard(b, 0, NULL, NULL)->title,
	    tui_assist_mcard(a, 0, NULL, NULL)->title);
	tui_assist_free(b);
	free(mp);
	{
		json_t *o = json_load_file(path, 0, NULL), *ev;

		assert_non_null(o);
		ev = json_object_get(json_object_get(json_array_get(
		    json_object_get(o, "model_cards"), 0), "card"), "evidence");
		json_array_set_new(ev, 0, json_integer(99));	/* not given */
		assert_int_equal(json_dump_file(o, path, 0), 0);
		json_decref(o);
	}
	assert_int_equal(tui_assist_new(&b), 0);
	assert_int_equal(tui_assist_restore(b, path, &mp, &cause), 0);
	assert_int_equal(tui_assist_mcards(b), 0);
	unlink(path);
	free(mp);
	eng_session_free(s);
	tui_assist_free(a);
	tui_assist_free(b);
}

/* A synthetic model (random weights, stories260K's vocabulary) at path;
 * a big one writes slowly enough for a time limit to stop it. */
static void
syn_model(const char *path, uint32_t n_embd, uint32_t n_ff, uint32_t n_layer)
{
	struct syngen_spec sp;
	char vpath[4200], *cause = NULL;

	snprintf(vpath, sizeof vpath, "%s", model);
	syngen_defaults(&sp);
	sp.arch = "llama";
	sp.type = "Q8_0";
	sp.n_embd = n_embd;
	sp.n_ff = n_ff;
	sp.n_layer = n_layer;
	sp.n_head = 8;
	sp.n_head_kv = 4;
	sp.n_ctx = 2048;
	sp.vocab_from = vpath;
	sp.seed = 5;
	if (syngen_write(&sp, path, &cause) != 0)
		fail_msg("syngen: %s", cause);
}

/*
 * answer_timeout: an answer or a model card that runs past the limit is
 * stopped by tui_assist_next, whatever the caller does, and recorded as
 * a timeout fallback with the limit; a timed-out card is no card but
 * does not count towards turning model cards off; 0 is no limit.
 */
static void
test_time_limit(void **st)
{
	static const struct tui_mcard_line l[] = {
		{ 7, "Mar 14 08:00:07 hmi app[7]: error: pump 2 pressure low" },
	};
	char path[] = "/tmp/test-tui-assist-slow-XXXXXX";
	struct eng_load_opts lo = { .n_ctx = 2048, .n_threads = 2 };
	struct eng_sample_params sp;
	struct tui_turn_info ti;
	struct tui_assist *a = NULL;
	struct eng_event ev, done = { .kind = 0 };
	const char *detail, *reason;
	char *cause = NULL;
	size_t nfb;
	int fd;

	(void)st;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	syn_model(path, 512, 1536, 4);
	assert_int_equal(tui_assist_new(&a), 0);
	if (tui_assist_load(a, path, &lo, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(tui_assist_set_context(a, "You help.", "x\n"), 0);
	assert_int_equal(tui_assist_limit(a), 0);	/* none by default */
	tui_assist_set_limit(a, 30);
	eng_sample_defaults(&sp);
	sp.temp = 0;
	sp.max_tokens = 1500;
	assert_int_equal(tui_assist_ask(a, TUI_TURN_QUESTION, "Why?", &sp,
	    &ti, &cause), 0);
	while (tui_assist_next(a, &ev, true) == 1)
		if (ev.kind == ENG_EV_DONE) {
			done = ev;
			break;
		}
	assert_int_equal(done.kind, ENG_EV_DONE);
	assert_int_equal(done.stop, ENG_STOP_CANCEL);
	assert_true(done.n_gen < 1500);
	assert_false(tui_assist_running(a));
	assert_true(tui_assist_timed_out(a));
	nfb = tui_assist_fallbacks(a);
	assert_int_equal(tui_assist_fallback_at(a, nfb - 1, &detail),
	    TUI_FB_TIMEOUT);
	assert_string_equal(detail, "the answer took longer than the 0.03 s "
	    "limit (answer_timeout)");

	/* a model card: stopped the same way, no card, the reason said */
	for (int i = 0; i < TUI_ASSIST_BAD_CARDS; i++) {
		if (tui_assist_card(a, "a line", "pump.log", "an unknown log "
		    "template", l, 1, 1500, &cause) != 0)
			fail_msg("%s", cause);
		while (tui_assist_next(a, &ev, true) == 1 &&
		    ev.kind != ENG_EV_DONE)
			;
		assert_false(tui_assist_running(a));
		assert_true(tui_assist_timed_out(a));
		assert_int_equal(tui_assist_card_result(a, &reason), 0);
		assert_string_equal(reason, "the model card took longer than "
		    "the 0.03 s limit (answer_timeout)");
		assert_int_equal(tui_assist_fallback_at(a,
		    tui_assist_fallbacks(a) - 1, &detail), TUI_FB_TIMEOUT);
		assert_string_equal(detail, reason);
	}
	assert_int_equal(tui_assist_mcards(a), 0);
	/* timeouts are not invalid cards: cards stay on */
	assert_false(tui_assist_cards_off(a));
	assert_int_equal(tui_assist_fallbacks(a), nfb + TUI_ASSIST_BAD_CARDS);

	/* no limit: the answer runs to its token limit */
	tui_assist_set_limit(a, 0);
	sp.max_tokens = 3;
	assert_int_equal(tui_assist_ask(a, TUI_TURN_QUESTION, "And?", &sp,
	    &ti, &cause), 0);
	while (tui_assist_next(a, &ev, true) == 1 && ev.kind != ENG_EV_DONE)
		;
	assert_int_equal(ev.stop, ENG_STOP_LENGTH);
	assert_false(tui_assist_timed_out(a));
	assert_int_equal(tui_assist_fallbacks(a), nfb + TUI_ASSIST_BAD_CARDS);
	unlink(path);
	tui_assist_free(a);
}

/*
 * Repeated invalid structured outputs: TUI_ASSIST_BAD_CARDS invalid cards
 * in a row (forced garbage: a limit of five tokens) turn model cards off
 * with a cards-off fallback saying why, once; the next request asks the
 * model nothing; a valid card resets the count; off stays off when the
 * session is read back, until cards are turned on or another model is
 * loaded.
 */
static void
test_cards_off(void **st)
{
	static const struct tui_mcard_line l[] = {
		{ 3, "Mar 14 08:00:03 hmi app[7]: warning: once upon a time "
		    "they played with happy bird" },
	};
	static const char off_why[] = "the model produced 3 invalid cards in "
	    "a row; model cards are off for this session, the rule-based "
	    "view stands";
	struct tui_assist *a = open_assist(2048), *b;
	struct eng_load_opts lo = { .n_ctx = 2048, .n_threads = 2 };
	char path[] = "/tmp/test-tui-assist-XXXXXX";
	char other[] = "/tmp/test-tui-assist-other-XXXXXX";
	const char *detail, *reason;
	char *cause = NULL, *mp = NULL;
	size_t nfb;
	int fd;

	(void)st;
	assert_int_equal(TUI_ASSIST_BAD_CARDS, 3);	/* as triage(1) says */
	for (int i = 0; i < TUI_ASSIST_BAD_CARDS; i++) {
		assert_false(tui_assist_cards_off(a));
		assert_int_equal(card(a, l, 1, 5, &reason), 0);
		assert_non_null(strstr(reason, "incomplete"));
	}
	assert_true(tui_assist_cards_off(a));
	nfb = tui_assist_fallbacks(a);
	assert_int_equal(nfb, TUI_ASSIST_BAD_CARDS + 1);
	assert_int_equal(tui_assist_fallback_at(a, nfb - 2, NULL),
	    TUI_FB_INVALID_CARD);
	assert_int_equal(tui_assist_fallback_at(a, nfb - 1, &detail),
	    TUI_FB_CARDS_OFF);
	assert_string_equal(detail, off_why);
	assert_string_equal(tui_fallback_name(TUI_FB_CARDS_OFF), "cards-off");

	/* off: not asked, the reason given, recorded once only */
	assert_int_not_equal(tui_assist_card(a, "a template", "story.log",
	    "an unknown log template", l, 1, 400, &cause), 0);
	assert_string_equal(cause, off_why);
	free(cause);
	cause = NULL;
	assert_false(tui_assist_running(a));
	assert_int_equal(tui_assist_card_result(a, &reason), 0);
	assert_string_equal(reason, off_why);
	assert_int_equal(tui_assist_fallbacks(a), nfb);

	/* read back: still off for the same model, with its reason kept */
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(tui_assist_save(a, path, &cause), 0);
	assert_int_equal(tui_assist_new(&b), 0);
	assert_int_equal(tui_assist_restore(b, path, &mp, &cause), 0);
	assert_true(tui_assist_cards_off(b));
	assert_int_equal(tui_assist_fallback_at(b, nfb - 1, NULL),
	    TUI_FB_CARDS_OFF);
	if (tui_assist_load(b, mp, &lo, &cause) != 0)
		fail_msg("%s", cause);
	assert_true(tui_assist_cards_off(b));
	/* another model: cards on again */
	assert_true((fd = mkstemp(other)) >= 0);
	close(fd);
	syn_model(other, 64, 128, 1);
	if (tui_assist_load(b, other, &lo, &cause) != 0)
		fail_msg("%s", cause);
	assert_false(tui_assist_cards_off(b));
	tui_assist_free(b);
	unlink(other);
	unlink(path);
	free(mp);

	/* turned on again; a valid card resets the count */
	tui_assist_cards_on(a);
	assert_false(tui_assist_cards_off(a));
	assert_int_equal(card(a, l, 1, 5, &reason), 0);
	assert_int_equal(card(a, l, 1, 5, &reason), 0);
	/* a card is a model answer too, counted by how it ended */
	if (metrics_enabled()) {
		long ok = metric("answers.ok"), bad = metric("answers.invalid-output");

		assert_int_equal(card(a, l, 1, 400, &reason), 1);
		assert_int_equal(metric("answers.ok"), ok + 1);
		assert_int_equal(card(a, l, 1, 5, &reason), 0);
		assert_int_equal(metric("answers.invalid-output"), bad + 1);
		assert_int_equal(metric("answers.ok"), ok + 1);
	} else {
		assert_int_equal(card(a, l, 1, 400, &reason), 1);
		assert_int_equal(card(a, l, 1, 5, &reason), 0);
	}
	assert_int_equal(card(a, l, 1, 5, &reason), 0);
	assert_false(tui_assist_cards_off(a));
	assert_int_equal(card(a, l, 1, 5, &reason), 0);
	assert_true(tui_assist_cards_off(a));
	tui_assist_free(a);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_fit_lines),
		cmocka_unit_test(test_followup_reuses_cache),
		cmocka_unit_test(test_background_prefill),
		cmocka_unit_test(test_history_dropped_not_brief),
		cmocka_unit_test(test_brief_too_big),
		cmocka_unit_test(test_fallbacks_recorded),
		cmocka_unit_test(test_timeout_recorded),
		cmocka_unit_test(test_think_hidden),
		cmocka_unit_test(test_brief_from_cards),
		cmocka_unit_test(test_reground_new_lines),
		cmocka_unit_test(test_model_card),
		cmocka_unit_test(test_time_limit),
		cmocka_unit_test(test_cards_off),
	};

	return cmocka_run_group_tests(t, setup, NULL);
}
