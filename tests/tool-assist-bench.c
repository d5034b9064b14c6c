/*
 * tool-assist-bench.c - time to first token of the assistant (issue 12),
 * for `make bench`: a grounded brief of about N tokens (the newest lines
 * of a log, counted with the model's tokenizer), then
 *   first      the first question, from an empty cache
 *   followup   a follow-up in the same conversation (KV prefix reuse)
 *   warmed     the first question after the background prefill of the
 *              brief has finished (a second conversation)
 * Prints one line per figure: "name ms prompt_tokens reused_tokens".
 *
 * usage: tool-assist-bench MODEL LOG [BRIEF_TOKENS [THREADS [REPS]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tui/assist.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		if (fp)
			fclose(fp);
		return NULL;
	}
	buf[fread(buf, 1, (size_t)n, fp)] = '\0';
	fclose(fp);
	return buf;
}

/* Ask, wait for the first token (or the end), let the answer finish. */
static int
ttft(struct tui_assist *a, const char *q, double *ms, struct tui_turn_info *ti)
{
	struct eng_sample_params sp;
	struct eng_event ev;
	char *cause = NULL;
	double t0 = now_ms();
	bool first = true;

	eng_sample_defaults(&sp);
	sp.temp = 0;
	sp.max_tokens = 4;
	if (tui_assist_ask(a, TUI_TURN_QUESTION, q, &sp, ti, &cause) != 0) {
		fprintf(stderr, "tool-assist-bench: %s\n", cause);
		free(cause);
		return -1;
	}
	while (tui_assist_next(a, &ev, true) == 1) {
		if (first && (ev.kind == ENG_EV_TEXT || ev.kind == ENG_EV_DONE)) {
			*ms = now_ms() - t0;
			first = false;
		}
		if (ev.kind == ENG_EV_DONE)
			return ev.stop == ENG_STOP_ERROR ? -1 : 0;
	}
	return -1;
}

static struct tui_assist *
open_with_brief(const char *model, const char *brief, int threads)
{
	struct eng_load_opts lo = { .n_ctx = 4096, .n_threads = threads };
	struct tui_assist *a = NULL;
	char *cause = NULL;

	if (tui_assist_new(&a) != 0)
		return NULL;
	if (tui_assist_load(a, model, &lo, &cause) != 0 ||
	    tui_assist_set_context(a, "You are triage, an offline assistant "
	    "for field technicians.", brief) != 0) {
		fprintf(stderr, "tool-assist-bench: %s\n", cause ? cause : "?");
		free(cause);
		tui_assist_free(a);
		return NULL;
	}
	return a;
}

int
main(int argc, char **argv)
{
	struct tui_assist *a = NULL;
	struct tui_turn_info ti;
	struct eng_event ev;
	char *log, *fitted = NULL, *brief = NULL;
	size_t budget = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
	int threads = argc > 4 ? atoi(argv[4]) : 0;
	int reps = argc > 5 ? atoi(argv[5]) : 1, rc = 1;
	size_t ncut, ntok;
	double ms;

	if (argc < 3) {
		fprintf(stderr, "usage: tool-assist-bench MODEL LOG "
		    "[BRIEF_TOKENS [THREADS [REPS]]]\n");
		return 2;
	}
	if ((log = slurp(argv[2])) == NULL) {
		fprintf(stderr, "tool-assist-bench: %s: cannot read\n", argv[2]);
		return 2;
	}
	if ((a = open_with_brief(argv[1], "", threads)) == NULL ||
	    tui_assist_fit_lines(a, log, budget, &fitted, &ncut, &ntok) != 0 ||
	    asprintf(&brief, "Here is the end of the log:\n```\n%s```", fitted) < 0)
		goto out;
	tui_assist_free(a);
	a = NULL;
	printf("brief %zu tokens of log (%zu lines cut)\n", ntok, ncut);
	for (int r = 0; r < reps; r++) {
		if ((a = open_with_brief(argv[1], brief, threads)) == NULL)
			goto out;
		if (ttft(a, "Which problem should I look at first?", &ms, &ti) != 0)
			goto out;
		printf("first %.1f %zu %zu\n", ms, ti.n_prompt, ti.n_reused);
		if (ttft(a, "And if the disk is fine?", &ms, &ti) != 0)
			goto out;
		printf("followup %.1f %zu %zu\n", ms, ti.n_prompt, ti.n_reused);
		tui_assist_free(a);
		if ((a = open_with_brief(argv[1], brief, threads)) == NULL)
			goto out;
		while (tui_assist_warm(a, 64) == 1)
			while (tui_assist_next(a, &ev, true) == 1 &&
			    ev.kind != ENG_EV_DONE)
				;
		if (ttft(a, "Which problem should I look at first?", &ms, &ti) != 0)
			goto out;
		printf("warmed %.1f %zu %zu\n", ms, ti.n_prompt, ti.n_reused);
		tui_assist_free(a);
		a = NULL;
	}
	rc = 0;
out:
	tui_assist_free(a);
	free(log);
	free(fitted);
	free(brief);
	return rc;
}
