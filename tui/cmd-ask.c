/*
 * cmd-ask.c - `triage ask "question"`: one answer from the local model,
 * streamed to stdout as it is generated; counts and speed to stderr.
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
#include <unistd.h>

#include "../engine/engine.h"
#include "tui.h"

static const char ask_usage[] =
"usage: triage ask [options] \"question\"\n"
"\n"
"  --model FILE        GGUF model (default: $TRIAGE_MODEL, then the installed model)\n"
"  --log FILE          include the end of this log in the question\n"
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
read_tail(const char *path, size_t max, char **cause)
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
	if ((size_t)size > max)
		fseek(fp, size - (long)max, SEEK_SET);
	else
		fseek(fp, 0, SEEK_SET);
	if ((buf = malloc(max + 1)) == NULL)
		goto out;
	n = fread(buf, 1, max, fp);
	buf[n] = '\0';
	if ((size_t)size > max && (p = memchr(buf, '\n', n)) != NULL)
		memmove(buf, p + 1, n - (size_t)(p + 1 - buf) + 1);
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

int
cmd_ask(int argc, char **argv)
{
	enum { O_MODEL = 256, O_LOG, O_SYSTEM, O_RAW, O_TEMP, O_TOPK, O_TOPP,
	    O_MINP, O_REP, O_SEED, O_CTX, O_THREADS };
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
		{ "threads", required_argument, NULL, O_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eng_sample_params sp;
	struct eng_load_opts lopt = { 0 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	struct eng_gen *g = NULL;
	const char *model = getenv("TRIAGE_MODEL"), *logpath = NULL;
	const char *system = default_system;
	char *cause = NULL, *logtext = NULL, *user = NULL;
	char *installed = NULL, *ibundle = NULL, *fb;	/* bundle store model */
	int32_t *ids = NULL;
	size_t nids = 0;
	bool raw = false, etty = isatty(STDERR_FILENO);
	struct out_stream answer = { .n = 0 };
	struct sigaction sa, old;
	int ch, status = EXIT_TROUBLE;
	double v;
	uint64_t u;

	eng_sample_defaults(&sp);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (ch) {
		case O_MODEL: model = optarg; break;
		case O_LOG: logpath = optarg; break;
		case O_SYSTEM: system = optarg; break;
		case O_RAW: raw = true; break;
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
		case O_THREADS:
			if (parse_uint("--threads", optarg, 1, 256, &u)) return EXIT_TROUBLE;
			lopt.n_threads = (int)u; break;
		case 'h': fputs(ask_usage, stdout); return 0;
		default: fputs(ask_usage, stderr); return EXIT_TROUBLE;
		}
	}
	if (optind + 1 != argc) {
		fputs(ask_usage, stderr);
		return EXIT_TROUBLE;
	}
	if (model == NULL || *model == '\0')
		model = installed = bundle_model_path(&ibundle);
	if (model == NULL || *model == '\0') {
		out_printf(stderr, "triage: ask: no model: give --model FILE, set "
		    "TRIAGE_MODEL, or import a model bundle\n");
		return EXIT_TROUBLE;
	}
	if (eng_model_open(model, &lopt, &m, &cause) != 0) {
		/* An installed model that fails: back to last-known-good. */
		if (ibundle != NULL &&
		    (fb = bundle_model_fallback(ibundle, cause)) != NULL) {
			free(installed);
			model = installed = fb;
			free(cause);
			cause = NULL;
			if (eng_model_open(model, &lopt, &m, &cause) == 0)
				goto loaded;
		}
		say_safe(stderr, "triage: %s", cause);
		goto out;
	}
loaded:
	if (eng_session_new(m, &s, &cause) != 0) {
		say_safe(stderr, "triage: %s: %s", model, cause);
		goto out;
	}
	if (logpath != NULL) {
		/* about 3 bytes a token in logs: budget the bytes from the context */
		size_t max = (size_t)eng_session_ctx(s) * LOG_CTX_PERCENT / 100 * 3;

		if ((logtext = read_tail(logpath, max, &cause)) == NULL) {
			say_safe(stderr, "triage: ask: %s", cause ? cause :
			    "out of memory");
			goto out;
		}
	}
	if (logtext != NULL && asprintf(&user, "Here is the end of the log "
	    "%s:\n```\n%s\n```\n\n%s", logpath, logtext, argv[optind]) < 0)
		user = NULL;
	else if (logtext == NULL)
		user = strdup(argv[optind]);
	if (user == NULL)
		goto out;
	if (raw) {
		if (eng_tokenize(m, user, strlen(user), true, &ids, &nids) != 0)
			goto out;
	} else {
		struct eng_msg msgs[2] = { { "system", system }, { "user", user } };
		size_t first = *system ? 0 : 1;

		if (eng_chat_tokenize(m, msgs + first, 2 - first, &ids, &nids,
		    NULL, &cause) != 0) {
			say_safe(stderr, "triage: ask: %s", cause);
			goto out;
		}
	}
	if (eng_gen_start(s, ids, nids, &sp, &g, &cause) != 0) {
		say_safe(stderr, "triage: ask: %s", cause);
		goto out;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old);
	for (;;) {
		struct pollfd pfd = { eng_gen_fd(g), POLLIN, 0 };
		struct eng_event ev;

		if (interrupted) {
			eng_gen_cancel(g);
			interrupted = 0;
		}
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		while (eng_gen_next(g, &ev, false) == 1) {
			if (ev.kind == ENG_EV_PROGRESS && etty)
				out_printf(stderr, "\rreading prompt: %zu/%zu tokens",
				    ev.done, ev.total);
			else if (ev.kind == ENG_EV_TEXT) {
				/* model text, like any file content, goes
				 * through the sanitizer (tui/out.c) */
				out_stream(stdout, &answer, ev.text, ev.len, 0);
				fflush(stdout);
			}
			else if (ev.kind == ENG_EV_DONE) {
				static const char *why[] = { "", "end of turn",
				    "token limit", "context full", "cancelled",
				    "error" };

				if (etty)
					out_printf(stderr, "\r\033[K");
				out_stream(stdout, &answer, "\n", 1, 1);
				out_printf(stderr, "prompt: %" PRIu32 " tokens in %.0f ms "
				    "(%.1f tokens/s); answer: %" PRIu32 " tokens in "
				    "%.0f ms (%.1f tokens/s); stop: %s%s%s\n",
				    ev.n_prompt, ev.prompt_ms, ev.prompt_ms > 0 ?
				    ev.n_prompt * 1e3 / ev.prompt_ms : 0, ev.n_gen,
				    ev.gen_ms, ev.gen_ms > 0 ? ev.n_gen * 1e3 /
				    ev.gen_ms : 0, why[ev.stop], ev.len ? ": " : "",
				    ev.text);
				status = ev.stop == ENG_STOP_ERROR ? EXIT_TROUBLE : 0;
				goto done;
			}
		}
	}
done:
	sigaction(SIGINT, &old, NULL);
out:
	eng_gen_free(g);
	eng_session_free(s);
	eng_model_free(m);
	free(ids);
	free(user);
	free(logtext);
	free(cause);
	free(installed);
	free(ibundle);
	return status;
}
