/*
 * metrics.c - append-only local metrics, content-free by construction
 * (metrics.h).  Writing never fails a command: a metrics problem is
 * silently skipped, because it is not the technician's concern.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../bundles/bundle.h"
#include "../engine/engine.h"
#include "tui.h"
#include "metrics.h"

#define WORD_MAX 64

/* An identifier we may record, or "other". */
static const char *
word(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	for (n = 0; s[n] != '\0'; n++)
		if (n >= WORD_MAX || strchr("abcdefghijklmnopqrstuvwxyz"
		    "0123456789._+-", s[n]) == NULL)
			return "other";
	return n > 0 ? s : "other";
}

static char *
state_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	char *p = NULL;

	if (x != NULL && x[0] == '/') {
		if (asprintf(&p, "%s/triage", x) < 0)
			p = NULL;
	} else if (h != NULL && h[0] == '/') {
		if (asprintf(&p, "%s/.local/state/triage", h) < 0)
			p = NULL;
	}
	return p;
}

char *
metrics_path(void)
{
	char *d = state_dir(), *p = NULL;

	if (d != NULL && asprintf(&p, "%s/metrics", d) < 0)
		p = NULL;
	free(d);
	return p;
}

/* The config's "metrics = on|off" (config.c accepts and checks the key). */
int
metrics_enabled(void)
{
	static int known = -1;
	char *path, line[512], *k, *v;
	FILE *fp;

	if (known >= 0)
		return known;
	known = 1;
	if ((path = path_config_file()) == NULL)
		return known;
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			k = line + strspn(line, " \t");
			if (strncmp(k, "metrics", 7) != 0)
				continue;
			v = k + 7 + strspn(k + 7, " \t");
			if (*v != '=')
				continue;
			v += 1 + strspn(v + 1, " \t");
			known = strncmp(v, "off", 3) != 0;
		}
		fclose(fp);
	}
	free(path);
	return known;
}

static void
mkdirs(char *dir)
{
	char *s;

	for (s = dir + 1; *s != '\0'; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(dir, 0700);
			*s = '/';
		}
	(void)mkdir(dir, 0700);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Past METRICS_MAX: sum the lines per day and key, and keep the newest
 * days that fit in half of it, written to a temporary file and renamed.
 */
static void
compact(const char *path)
{
	json_t *sum = json_object();
	FILE *in = NULL, *out = NULL;
	char line[256], *tmp = NULL, **keys = NULL;
	const char *k;
	json_t *v;
	size_t n = 0, i, total = 0, first = 0;
	long long c;

	if (sum == NULL || (in = fopen(path, "r")) == NULL)
		goto out;
	while (fgets(line, sizeof(line), in) != NULL) {
		char *t2 = strrchr(line, '\t');

		if (t2 == NULL || t2 == line)
			continue;
		*t2 = '\0';
		c = strtoll(t2 + 1, NULL, 10);
		v = json_object_get(sum, line);
		json_object_set_new(sum, line, json_integer(c +
		    (v ? json_integer_value(v) : 0)));
	}
	if ((keys = calloc(json_object_size(sum) + 1, sizeof *keys)) == NULL)
		goto out;
	json_object_foreach(sum, k, v)
		keys[n++] = (char *)k;
	qsort(keys, n, sizeof *keys, cmpstr);	/* by day, then key */
	for (i = n; i > 0; i--) {
		total += strlen(keys[i - 1]) + 24;
		if (total > METRICS_MAX / 2) {
			first = i;
			break;
		}
	}
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		goto out;
	}
	if ((out = fopen(tmp, "w")) == NULL)
		goto out;
	for (i = first; i < n; i++)
		fprintf(out, "%s\t%lld\n", keys[i],
		    (long long)json_integer_value(json_object_get(sum, keys[i])));
	if (fclose(out) == 0)
		(void)rename(tmp, path);
	else
		(void)unlink(tmp);
	out = NULL;
out:
	if (in != NULL)
		fclose(in);
	free(keys);
	free(tmp);
	json_decref(sum);
}

void
metrics_count(const char *a, const char *b, const char *c, long n)
{
	char *path = NULL, day[16], buf[256];
	struct stat st;
	time_t now = time(NULL);
	struct tm tm;
	int fd = -1, len;

	a = word(a), b = word(b), c = word(c);
	if (a == NULL || n <= 0 || !metrics_enabled())
		return;
	if ((path = metrics_path()) == NULL)
		goto out;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	len = snprintf(buf, sizeof(buf), "%s\t%s%s%s%s%s\t%ld\n", day, a,
	    b ? "." : "", b ? b : "", c ? "." : "", c ? c : "", n);
	if (len < 0 || (size_t)len >= sizeof(buf))
		goto out;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0 &&
	    errno == ENOENT) {
		char *d = state_dir();

		if (d != NULL)
			mkdirs(d);
		free(d);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		goto out;
	/* One write of a short line: concurrent runs do not interleave. */
	if (write(fd, buf, (size_t)len) != len)
		goto out;
	if (fstat(fd, &st) == 0 && st.st_size > METRICS_MAX)
		compact(path);
out:
	if (fd >= 0)
		close(fd);
	free(path);
}

/* Per card raised: cards.<class>.<severity>; the class is a word of the
 * fixed taxonomy (triage-playbook(5)), never a name a playbook author
 * chose, which might be a host's. */
void
metrics_cards(const struct pb_analysis *an)
{
	size_t i, n = pb_analysis_ncards(an);

	for (i = 0; i < n; i++) {
		const struct pb_playbook *pb = pb_card_playbook(pb_analysis_card(an, i));
		const char *cls = pb_playbook_class(pb);

		metrics_count("cards", pb_class_valid(cls) ? cls : "other",
		    pb_severity_name(pb_playbook_severity(pb)), 1);
	}
}

void
metrics_answer(const char *outcome, double ttft_ms, double tok_s)
{
	static const double tb[] = { 500, 1000, 2000, 5000, 10000, 30000 };
	static const char *tn[] = { "lt0.5s", "lt1s", "lt2s", "lt5s", "lt10s",
	    "lt30s", "ge30s" };
	static const double rb[] = { 2, 5, 10, 20, 50 };
	static const char *rn[] = { "lt2", "lt5", "lt10", "lt20", "lt50", "ge50" };
	size_t i;

	metrics_count("answers", outcome, NULL, 1);
	if (ttft_ms > 0) {
		for (i = 0; i < 6 && ttft_ms >= tb[i]; i++)
			;
		metrics_count("ttft", tn[i], NULL, 1);
	}
	if (tok_s > 0) {
		for (i = 0; i < 5 && tok_s >= rb[i]; i++)
			;
		metrics_count("tokps", rn[i], NULL, 1);
	}
}

void
metrics_gen_done(const struct eng_event *ev, bool timed_out)
{
	const char *o;

	switch (ev->stop) {
	case ENG_STOP_EOG: o = "ok"; break;
	case ENG_STOP_LENGTH: o = "token-limit"; break;
	case ENG_STOP_CTX: o = "context-full"; break;
	case ENG_STOP_CANCEL: o = "stopped"; break;
	case ENG_STOP_INCOMPLETE: o = "invalid-output"; break;
	default: o = "error"; break;
	}
	if (timed_out)
		o = "timeout";
	/* the prompt's prefill ends with the first token sampled */
	metrics_answer(o, ev->prompt_ms, ev->gen_ms > 0 && ev->n_gen > 0 ?
	    ev->n_gen * 1e3 / ev->gen_ms : 0);
}

/*
 * The model in use: architecture, size and quantization, e.g.
 * model.qwen3.600m-q8_0; never its file name or its general.name, which
 * are free text.
 */
void
metrics_model(const struct eng_info *in)
{
	char size[16], kind[48];
	const char *q;
	double p = (double)in->n_params;
	size_t i;

	if (p >= 1e9)
		snprintf(size, sizeof size, "%.*fb", p < 1e10 ? 1 : 0, p / 1e9);
	else if (p >= 1e6)
		snprintf(size, sizeof size, "%.0fm", p / 1e6);
	else
		snprintf(size, sizeof size, "%.0fk", p / 1e3);
	/* "mostly F32" is F32 */
	q = strncmp(in->ftype, "mostly ", 7) == 0 ? in->ftype + 7 : in->ftype;
	snprintf(kind, sizeof kind, "%s-%s", size, q[0] ? q : "unknown");
	for (i = 0; kind[i] != '\0'; i++)
		if (kind[i] >= 'A' && kind[i] <= 'Z')
			kind[i] = (char)(kind[i] - 'A' + 'a');
		else if (strchr("abcdefghijklmnopqrstuvwxyz0123456789._+-",
		    kind[i]) == NULL)
			kind[i] = '_';
	metrics_count("model", in->arch[0] ? in->arch : "unknown", kind, 1);
}

/* An import refused, by the kind of reason (bundle.h's codes). */
void
metrics_bundle_refused(int code)
{
	const char *why;

	switch (code) {
	case BDL_ESIG: why = "signature"; break;
	case BDL_EFORMAT: why = "format"; break;
	case BDL_EREFUSED: why = "policy"; break;
	case BDL_ECHECK: why = "self-check"; break;
	case BDL_EIO: why = "io"; break;
	case BDL_EBUSY: why = "busy"; break;
	default: why = "other"; break;
	}
	metrics_count("bundle", "refused", why, 1);
}
