/*
 * cmd-ask.c - `triage ask "question"`: one answer from the local model,
 * streamed to stdout as it is generated; counts and speed to stderr.
 * The conversation, its brief and budget live in assist.c; this reads the
 * options and the log, prints, and keeps the conversation for --continue.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../engine/engine.h"
#include "assist.h"
#include "tui.h"
#include "metrics.h"

static const char ask_usage[] =
"usage: triage ask [options] \"question\"\n"
"\n"
"  --model FILE        GGUF model (default: $TRIAGE_MODEL, then the installed model)\n"
"  --log FILE          ground the question in the end of this log (60 % of the\n"
"                      context at most, counted in tokens; oldest lines cut)\n"
"  --continue          follow up on the last conversation (`triage ask`'s own)\n"
"  --json              print the answer and its figures as one JSON object\n"
"  --think             let a thinking model reason first (hidden; off by default)\n"
"  --timeout S         give up on an answer after S seconds\n"
"  --system TEXT       system prompt\n"
"  --raw               no chat template: continue the text as written\n"
"  --temp T            temperature (0: greedy; default 0.7)\n"
"  --top-k K           keep the K most likely tokens (default 40; 0: off)\n"
"  --top-p P           nucleus sampling (default 0.95; 1: off)\n"
"  --min-p P           drop tokens below P x the best (default 0.05; 0: off)\n"
"  --repeat-penalty R  penalise recent tokens (default 1.1; 1: off)\n"
"  --seed S            random seed (default 0); same seed, same answer\n"
"  -n N                at most N tokens (default: until the model stops)\n"
"  --ctx N             context size in tokens (default: min(4096, model))\n"
"  --kv q8             8-bit KV cache: half the memory of f16 (the default)\n"
"  --threads N         threads (default: all CPUs)\n";

static const char default_system[] =
"You are triage, an offline assistant for field technicians repairing "
"machines. Answer briefly and concretely: the likely cause, then numbered "
"steps to check and fix it. Say so when you are unsure.";

/* Share of the context a --log may fill; the rest is the question and answer. */
#define LOG_CTX_PERCENT	60

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * Read at most the last `max` bytes of a file, starting on a line.  Only a
 * regular file: opened with O_NONBLOCK and checked before any read, so a
 * FIFO or a device is refused at once instead of blocking.
 */
static char *
read_tail(const char *path, size_t max, size_t *skipped, char **cause)
{
	FILE *fp = NULL;
	char *buf = NULL, *p;
	struct stat st;
	long size;
	size_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (fp = fdopen(fd, "rb")) == NULL) {
		if (asprintf(cause, "%s: not a regular file", path) < 0)
			*cause = NULL;
		close(fd);
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0) {
		if (asprintf(cause, "%s: cannot seek", path) < 0)
			*cause = NULL;
		goto out;
	}
	*skipped = 0;
	fseek(fp, 0, SEEK_SET);
	if ((size_t)size > max) {
		/* the lines before the tail count as cut too */
		long left = size - (long)max;
		char b[65536];

		while (left > 0 && (n = fread(b, 1, left < (long)sizeof b ?
		    (size_t)left : sizeof b, fp)) > 0) {
			for (size_t i = 0; i < n; i++)
				*skipped += b[i] == '\n';
			left -= (long)n;
		}
		fseek(fp, size - (long)max, SEEK_SET);
	}
	if ((buf = malloc(max + 1)) == NULL)
		goto out;
	n = fread(buf, 1, max, fp);
	buf[n] = '\0';
	if ((size_t)size > max && (p = memchr(buf, '\n', n)) != NULL) {
		memmove(buf, p + 1, n - (size_t)(p + 1 - buf) + 1);
		++*skipped;
	}
out:
	fclose(fp);
	return buf;
}

/* A real number in lo..hi (temperatures, probabilities, penalties). */
static int
parse_num(const char *opt, const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !(*v >= lo && *v <= hi)) {
		say_safe(stderr, "triage: ask: %s: \"%s\" is not a number in "
		    "%g..%g", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

/* A whole number in lo..hi, read exactly (a seed needs all 64 bits) and
 * the range printed as integers. */
static int
parse_uint(const char *opt, const char *s, uint64_t lo, uint64_t hi,
    uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' ||
	    *v < lo || *v > hi) {
		say_safe(stderr, "triage: ask: %s: \"%s\" is not a whole number "
		    "in %" PRIu64 "..%" PRIu64, opt, s, lo, hi);
		return -1;
	}
	return 0;
}

/* Where `triage ask` keeps its last conversation (malloc'd), creating the
 * directory; NULL if there is no data directory. */
static char *
conversation_path(bool create)
{
	char *d = path_data_dir(), *dir = NULL, *p = NULL;

	if (d == NULL || asprintf(&dir, "%s/ask", d) < 0)
		goto out;
	for (char *s = create ? dir + 1 : NULL; s != NULL && *s; s++)
		if (*s == '/') {	/* mkdir -p */
			*s = '\0';
			(void)mkdir(dir, 0700);
			*s = '/';
		}
	if (create)
		(void)mkdir(dir, 0700);
	if (asprintf(&p, "%s/last.json", dir) < 0)
		p = NULL;
out:
	free(d);
	free(dir);
	return p;
}

static void
keep_conversation(struct tui_assist *as)
{
	char *path = conversation_path(true), *cause = NULL;

	if (path != NULL && tui_assist_save(as, path, &cause) != 0)
		say_safe(stderr, "triage: ask: %s", cause ? cause :
		    "cannot keep the conversation");
	free(cause);
	free(path);
}

static void
quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/*
 * The brief for --log: the cards and unknown templates the playbooks find
 * in the whole file, then its end, within `budget` tokens.
 */
static int
brief_from_log(struct tui_assist *as, const char *path, const char *tail,
    size_t budget, char **brief, struct tui_brief_cut *bc)
{
	struct pb_library *lib = NULL;
	struct pb_analysis *an = NULL;
	struct pb_options o;
	char *label = NULL, *cause = NULL;
	int rc = -1;

	pb_options_init(&o);
	o.max_examples = 2;
	if (pb_library_new(&lib) != 0)
		goto out;
	(void)library_default(lib, quiet, NULL);
	if (pb_library_count(lib) > 0 && pb_analysis_new(lib, &o, &an) == 0) {
		if (pb_analysis_feed_file(an, path, quiet, NULL, &cause) != 0) {
			/* the tail was read: answer from it alone */
			pb_analysis_free(an);
			an = NULL;
		} else
			pb_analysis_finish(an);
	}
	if (asprintf(&label, "the end of the log %s", path) < 0) {
		label = NULL;
		goto out;
	}
	rc = tui_assist_brief_build(as, an, label, tail, budget, brief, bc);
out:
	pb_analysis_free(an);
	pb_library_free(lib);
	free(label);
	free(cause);
	return rc;
}

/* The answer and its figures as one JSON object on stdout. */
static void
print_json(struct tui_assist *as, const char *answer, size_t alen,
    const struct eng_event *ev, const struct tui_turn_info *ti,
    const char *logpath, size_t lkept, size_t lcut, size_t ltok)
{
	static const char *why[] = { "", "end of turn", "token limit",
	    "context full", "cancelled", "error" };
	char *safe = pb_sanitize(answer ? answer : "", alen);
	json_t *o = json_object(), *fb = json_null();
	size_t nf = tui_assist_fallbacks(as);
	const char *detail = NULL;

	if (ev != NULL && ev->stop == ENG_STOP_ERROR && nf > 0) {
		enum tui_fallback f = tui_assist_fallback_at(as, nf - 1, &detail);
		char *d = pb_sanitize(detail, strlen(detail));

		fb = json_pack("{s:s, s:s}", "reason", tui_fallback_name(f),
		    "detail", d ? d : "");
		free(d);
	}
	json_object_set_new(o, "answer", json_string(safe ? safe : ""));
	json_object_set_new(o, "stop", json_string(ev ? why[ev->stop] : ""));
	json_object_set_new(o, "reasoning_hidden_bytes",
	    json_integer((json_int_t)tui_assist_hidden(as)));
	json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)ti->n_prompt));
	json_object_set_new(o, "reused_tokens", json_integer((json_int_t)ti->n_reused));
	json_object_set_new(o, "answer_tokens", json_integer(ev ? ev->n_gen : 0));
	json_object_set_new(o, "prompt_ms", json_real(ev ? ev->prompt_ms : 0));
	json_object_set_new(o, "answer_ms", json_real(ev ? ev->gen_ms : 0));
	json_object_set_new(o, "turn", json_integer((json_int_t)tui_assist_turns(as)));
	json_object_set_new(o, "dropped_exchanges", json_integer((json_int_t)ti->n_dropped));
	json_object_set_new(o, "think", json_boolean(tui_assist_think(as)));
	if (logpath != NULL) {
		char *lp = pb_sanitize(logpath, strlen(logpath));

		json_object_set_new(o, "log", json_pack("{s:s, s:I, s:I, s:I}",
		    "file", lp ? lp : "", "lines_kept", (json_int_t)lkept,
		    "lines_cut", (json_int_t)lcut, "tokens", (json_int_t)ltok));
		free(lp);
	}
	json_object_set_new(o, "fallback", fb);
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
	free(safe);
}

int
cmd_ask(int argc, char **argv)
{
	enum { O_MODEL = 256, O_LOG, O_SYSTEM, O_RAW, O_TEMP, O_TOPK, O_TOPP,
	    O_MINP, O_REP, O_SEED, O_CTX, O_THREADS, O_CONT, O_JSON, O_THINK,
	    O_TIMEOUT, O_KV };
	static const struct option lo[] = {
		{ "model", required_argument, NULL, O_MODEL },
		{ "log", required_argument, NULL, O_LOG },
		{ "system", required_argument, NULL, O_SYSTEM },
		{ "raw", no_argument, NULL, O_RAW },
		{ "temp", required_argument, NULL, O_TEMP },
		{ "top-k", required_argument, NULL, O_TOPK },
		{ "top-p", required_argument, NULL, O_TOPP },
		{ "min-p", required_argument, NULL, O_MINP },
		{ "repeat-penalty", required_argument, NULL, O_REP },
		{ "seed", required_argument, NULL, O_SEED },
		{ "ctx", required_argument, NULL, O_CTX },
		{ "kv", required_argument, NULL, O_KV },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "continue", no_argument, NULL, O_CONT },
		{ "json", no_argument, NULL, O_JSON },
		{ "think", no_argument, NULL, O_THINK },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eng_sample_params sp;
	struct eng_load_opts lopt = { 0 };
	enum eng_kv kv_opt;
	bool kv_given = false;
	struct tui_assist *as = NULL;
	struct tui_turn_info ti = { 0 };
	const char *model = getenv("TRIAGE_MODEL"), *logpath = NULL;
	const char *system = NULL;
	char *cause = NULL, *logtext = NULL, *brief = NULL;
	char *installed = NULL, *ibundle = NULL, *fb, *saved_model = NULL;
	char *cpath = NULL, *answer = NULL;
	size_t lcut = 0, lskip = 0, ltok = 0, lkept = 0, nanswer = 0;
	struct tui_brief_cut bc = { 0 };
	bool raw = false, cont = false, json = false, think = false;
	bool model_opt = false;
	bool etty = isatty(STDERR_FILENO), timed_out = false;
	struct out_stream ost = { .n = 0 };
	struct sigaction sa, old;
	struct eng_event last = { .kind = 0 };
	int ch, status = EXIT_TROUBLE, have_last = 0;
	uint64_t timeout_s = 0;
	struct config cfg;
	time_t t0;
	double v;
	uint64_t u;

	eng_sample_defaults(&sp);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (ch) {
		case O_MODEL: model = optarg; model_opt = true; break;
		case O_LOG: logpath = optarg; break;
		case O_SYSTEM: system = optarg; break;
		case O_RAW: raw = true; break;
		case O_CONT: cont = true; break;
		case O_JSON: json = true; break;
		case O_THINK: think = true; break;
		case O_TIMEOUT:
			if (parse_uint("--timeout", optarg, 1, 86400, &timeout_s)) return EXIT_TROUBLE;
			break;
		case O_TEMP:
			if (parse_num("--temp", optarg, 0, 100, &v)) return EXIT_TROUBLE;
			sp.temp = (float)v; break;
		case O_TOPK:
			if (parse_uint("--top-k", optarg, 0, 1000000000, &u)) return EXIT_TROUBLE;
			sp.top_k = (int)u; break;
		case O_TOPP:
			if (parse_num("--top-p", optarg, 0, 1, &v)) return EXIT_TROUBLE;
			sp.top_p = (float)v; break;
		case O_MINP:
			if (parse_num("--min-p", optarg, 0, 1, &v)) return EXIT_TROUBLE;
			sp.min_p = (float)v; break;
		case O_REP:
			if (parse_num("--repeat-penalty", optarg, 0.01, 10, &v)) return EXIT_TROUBLE;
			sp.repeat_penalty = (float)v; break;
		case O_SEED:
			if (parse_uint("--seed", optarg, 0, UINT64_MAX, &u)) return EXIT_TROUBLE;
			sp.seed = u; break;
		case 'n':
			if (parse_uint("-n", optarg, 1, 10000000, &u)) return EXIT_TROUBLE;
			sp.max_tokens = (uint32_t)u; break;
		case O_CTX:
			if (parse_uint("--ctx", optarg, 16, 1 << 20, &u)) return EXIT_TROUBLE;
			lopt.n_ctx = (uint32_t)u; break;
		case O_KV:
			if (eng_kv_parse(optarg, &kv_opt) != 0) {
				say_safe(stderr, "triage: ask: --kv: \"%s\" is "
				    "not f16 or q8", optarg);
				return EXIT_TROUBLE;
			}
			kv_given = true;
			break;
		case O_THREADS:
			if (parse_uint("--threads", optarg, 1, 256, &u)) return EXIT_TROUBLE;
			lopt.n_threads = (int)u; break;
		case 'h': fputs(ask_usage, stdout); return 0;
		default: fputs(ask_usage, stderr); return EXIT_TROUBLE;
		}
	}
	if (optind + 1 != argc || (raw && cont)) {
		if (raw && cont)
			out_printf(stderr, "triage: ask: --raw has no conversation "
			    "to --continue\n");
		fputs(ask_usage, stderr);
		return EXIT_TROUBLE;
	}
	/* the kept conversation goes by the retention setting (triage(1)) */
	config_load(&cfg);
	(void)ask_conversation_expire(cfg.retention);
	/* the kv setting, unless --kv says otherwise */
	lopt.kv = kv_given ? kv_opt : (enum eng_kv)cfg.kv;
	if (tui_assist_new(&as) != 0)
		return EXIT_TROUBLE;
	if (cont) {
		if ((cpath = conversation_path(false)) == NULL ||
		    access(cpath, F_OK) != 0) {
			out_printf(stderr, "triage: ask: --continue: no earlier "
			    "conversation to continue\n");
			goto out;
		}
		if (tui_assist_restore(as, cpath, &saved_model, &cause) != 0) {
			say_safe(stderr, "triage: ask: %s", cause);
			goto out;
		}
		/* the conversation's own model unless one is named */
		if (!model_opt && saved_model != NULL)
			model = saved_model;
	}
	if (think)
		tui_assist_set_think(as, true);
	if (model == NULL || *model == '\0')
		model = installed = bundle_model_path(&ibundle);
	if (model == NULL || *model == '\0') {
		out_printf(stderr, "triage: ask: no model: give --model FILE, set "
		    "TRIAGE_MODEL, or import a model bundle\n");
		tui_assist_fallback(as, TUI_FB_NO_MODEL, "no model was given "
		    "or installed");
		if (!raw)
			keep_conversation(as);
		goto out;
	}
	if (tui_assist_load(as, model, &lopt, &cause) != 0) {
		/* An installed model that fails: back to last-known-good. */
		if (ibundle != NULL &&
		    (fb = bundle_model_fallback(ibundle, cause)) != NULL) {
			free(installed);
			model = installed = fb;
			free(cause);
			cause = NULL;
			if (tui_assist_load(as, model, &lopt, &cause) == 0)
				goto loaded;
		}
		say_safe(stderr, "triage: %s", cause);
		if (!raw)
			keep_conversation(as);
		goto out;
	}
loaded:
	if (logpath != NULL) {
		/* read generously (a token is rarely 8 bytes), then count
		 * tokens with the model's own tokenizer */
		size_t budget = (size_t)tui_assist_ctx(as) * LOG_CTX_PERCENT / 100;

		if ((logtext = read_tail(logpath, budget * 8, &lskip, &cause))
		    == NULL) {
			say_safe(stderr, "triage: ask: %s", cause ? cause :
			    "out of memory");
			goto out;
		}
		if (brief_from_log(as, logpath, logtext, budget, &brief,
		    &bc) != 0)
			goto out;
		lcut = bc.lines + lskip;
		ltok = bc.tokens;
		for (const char *p = logtext; *p; p++)
			lkept += *p == '\n';
		if (*logtext && logtext[strlen(logtext) - 1] != '\n')
			lkept++;
		lkept -= bc.lines <= lkept ? bc.lines : lkept;
		if (lcut > 0)
			say_safe(stderr, "triage: ask: %s: the oldest %zu lines "
			    "were cut to fit the brief in %zu tokens (%d %% of the "
			    "%u-token context); %zu lines kept", logpath, lcut,
			    budget, LOG_CTX_PERCENT, tui_assist_ctx(as), lkept);
		say_safe(stderr, "brief: %zu tokens: %zu cards (%zu cut), %zu "
		    "unknown templates (%zu cut), %zu log lines (%zu cut)",
		    bc.tokens, bc.cards_in, bc.cards, bc.templates_in,
		    bc.templates, lkept, lcut);
	}
	if (tui_assist_set_context(as, system ? system : cont ? NULL :
	    default_system, brief ? brief : cont ? NULL : "") != 0)
		goto out;
	if (tui_assist_ask(as, raw ? TUI_TURN_RAW : TUI_TURN_QUESTION,
	    argv[optind], &sp, &ti, &cause) != 0) {
		say_safe(stderr, "triage: ask: %s", cause ? cause : "out of memory");
		if (!raw)
			keep_conversation(as);
		goto out;
	}
	if (ti.n_dropped > 0)
		out_printf(stderr, "triage: ask: the %zu oldest exchanges were "
		    "dropped to fit the context (the brief is kept)\n",
		    ti.n_dropped);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old);
	t0 = time(NULL);
	for (;;) {
		struct pollfd pfd = { tui_assist_fd(as), POLLIN, 0 };
		struct eng_event ev;

		if (interrupted) {
			tui_assist_cancel(as, false);
			interrupted = 0;
		}
		if (timeout_s && !timed_out && time(NULL) - t0 >= (time_t)timeout_s) {
			tui_assist_cancel(as, true);
			timed_out = true;
		}
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		while (tui_assist_next(as, &ev, false) == 1) {
			if (ev.kind == ENG_EV_PROGRESS && etty && !json)
				out_printf(stderr, "\rreading prompt: %zu/%zu tokens",
				    ev.done, ev.total);
			else if (ev.kind == ENG_EV_TEXT && json) {
				char *na = realloc(answer, nanswer + ev.len + 1);

				if (na == NULL)
					continue;
				answer = na;
				memcpy(answer + nanswer, ev.text, ev.len);
				nanswer += ev.len;
				answer[nanswer] = '\0';
			} else if (ev.kind == ENG_EV_TEXT) {
				/* model text, like any file content, goes
				 * through the sanitizer (tui/out.c) */
				out_stream(stdout, &ost, ev.text, ev.len, 0);
				fflush(stdout);
			} else if (ev.kind == ENG_EV_DONE) {
				last = ev;
				have_last = 1;
				goto done;
			}
		}
	}
done:
	sigaction(SIGINT, &old, NULL);
	if (have_last) {
		static const char *why[] = { "", "end of turn", "token limit",
		    "context full", "cancelled", "error" };

		if (etty && !json)
			out_printf(stderr, "\r\033[K");
		if (json)
			print_json(as, answer, nanswer, &last, &ti, logpath, lkept,
			    lcut, ltok);
		else
			out_stream(stdout, &ost, "\n", 1, 1);
		out_printf(stderr, "prompt: %" PRIu32 " tokens in %.0f ms "
		    "(%.1f tokens/s); answer: %" PRIu32 " tokens in "
		    "%.0f ms (%.1f tokens/s); stop: %s%s%s\n",
		    last.n_prompt, last.prompt_ms, last.prompt_ms > 0 ?
		    last.n_prompt * 1e3 / last.prompt_ms : 0, last.n_gen,
		    last.gen_ms, last.gen_ms > 0 ? last.n_gen * 1e3 /
		    last.gen_ms : 0, timed_out ? "timed out" : why[last.stop],
		    last.len ? ": " : "", last.text);
		if (ti.n_reused > 0)
			out_printf(stderr, "reused: %zu of %zu prompt tokens "
			    "from the cache\n", ti.n_reused, ti.n_prompt);
		if (tui_assist_hidden(as) > 0)
			out_printf(stderr, "reasoning: %zu bytes hidden\n",
			    tui_assist_hidden(as));
		status = last.stop == ENG_STOP_ERROR || timed_out ?
		    EXIT_TROUBLE : 0;
		if (!raw)
			keep_conversation(as);
	}
out:
	if (cfg.retention == 0)	/* nothing kept after exit */
		(void)ask_conversation_expire(0);
	tui_assist_free(as);
	free(logtext);
	free(brief);
	free(answer);
	free(cause);
	free(installed);
	free(ibundle);
	free(saved_model);
	free(cpath);
	return status;
}
