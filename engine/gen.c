/*
 * gen.c - streaming generation on a worker thread.
 *
 * Why a thread: one token of a 3B model takes a few hundred milliseconds
 * on a field laptop and a pasted log's prefill takes seconds; the curses
 * loop must keep reading keys meanwhile.  Only the caller's thread
 * touches the terminal: the worker queues events and writes a byte to a
 * pipe, which the caller's poll() loop watches (the self-pipe pattern).
 * Text events are coalesced, so a slow reader gets fewer, larger pieces,
 * never a split UTF-8 character.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grammar.h"
#include "model.h"
#include "sampler.h"
#include "session.h"
#include "vocab.h"

struct eng_gen {
	struct eng_session *s;
	struct sampler	*smp;
	struct eng_sample_params sp;
	int32_t		*hist;		/* prompt tail + generated ids */
	size_t		 nhist, hcap;
	int32_t		*prompt;
	size_t		 nprompt;

	pthread_t	 th;
	bool		 started;
	atomic_int	 cancel;
	int		 pfd[2];	/* worker writes, caller polls */

	pthread_mutex_t	 mu;		/* guards everything below */
	pthread_cond_t	 cv;
	char		*pend;		/* text not yet handed out */
	size_t		 npend, pcap;
	bool		 have_prog;
	size_t		 pdone, ptotal;
	bool		 done;		/* final event queued */
	bool		 done_given;
	struct eng_event last;		/* the DONE event */
	char		 msg[160];	/* DONE text for errors */

	char		*cur;		/* text of the event last returned */
	size_t		 ccap;

	struct gstate	 gst;		/* constrained: bytes so far */
	uint32_t	*gbits;		/* constrained: the token mask */
};

/*
 * Constrained sampling: sample as usual and keep the token if the grammar
 * takes it (most steps, one check); otherwise mask every token it does
 * not take and sample again.  For greedy decoding that is exactly the
 * best allowed token; for a draw, the second draw has the masked
 * distribution.  -1 if no token fits (cannot happen for a complete
 * schema, see grammar.c, but never trusted).
 */
static int32_t
sample_constrained(struct eng_gen *g, float *logits, char *piece, size_t cap)
{
	const struct eng_grammar *gr = g->sp.grammar;
	int32_t id = sampler_sample(g->smp, logits, g->hist, g->nhist);

	if (gstate_allows(gr, &g->gst, id, piece, cap))
		return id;
	if (gstate_mask(gr, &g->gst, g->gbits) == 0)
		return -1;
	sampler_mask(logits, g->s->m->hp.n_vocab, g->gbits);
	id = sampler_sample(g->smp, logits, g->hist, g->nhist);
	return gstate_allows(gr, &g->gst, id, piece, cap) ? id : -1;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
wake(struct eng_gen *g)
{
	char c = 1;
	ssize_t r;

	/* A full pipe already means "readable": EAGAIN is fine. */
	do
		r = write(g->pfd[1], &c, 1);
	while (r < 0 && errno == EINTR);
	pthread_cond_broadcast(&g->cv);
}

static void
post_text(struct eng_gen *g, const char *p, size_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&g->mu);
	if (g->npend + n > g->pcap) {
		size_t nc = (g->npend + n) * 2 + 64;
		char *q = realloc(g->pend, nc);

		if (q == NULL) {	/* drop text rather than crash the UI */
			pthread_mutex_unlock(&g->mu);
			return;
		}
		g->pend = q;
		g->pcap = nc;
	}
	memcpy(g->pend + g->npend, p, n);
	g->npend += n;
	wake(g);
	pthread_mutex_unlock(&g->mu);
}

static int
on_progress(void *arg, size_t done, size_t total)
{
	struct eng_gen *g = arg;

	pthread_mutex_lock(&g->mu);
	g->have_prog = true;
	g->pdone = done;
	g->ptotal = total;
	wake(g);
	pthread_mutex_unlock(&g->mu);
	return atomic_load(&g->cancel);
}

static void
finish(struct eng_gen *g, enum eng_stop stop, uint32_t n_gen,
    double prompt_ms, double gen_ms, const char *msg)
{
	pthread_mutex_lock(&g->mu);
	g->last.kind = ENG_EV_DONE;
	g->last.stop = stop;
	g->last.n_prompt = (uint32_t)g->nprompt;
	g->last.n_gen = n_gen;
	g->last.prompt_ms = prompt_ms;
	g->last.gen_ms = gen_ms;
	snprintf(g->msg, sizeof g->msg, "%s", msg ? msg : "");
	g->done = true;
	wake(g);
	pthread_mutex_unlock(&g->mu);
}

static enum eng_stop
stop_of(int rc)
{
	return rc == ENG_ECANCEL ? ENG_STOP_CANCEL :
	    rc == ENG_ECTX ? ENG_STOP_CTX : ENG_STOP_ERROR;
}

static void *
worker(void *arg)
{
	struct eng_gen *g = arg;
	struct eng_session *s = g->s;
	const struct eng_model *m = s->m;
	struct detok dt;
	char piece[256], text[3 * 256 + 16];	/* U+FFFD may triple bytes */
	double t0 = now_ms(), t1, t2;
	uint32_t n_gen = 0;
	size_t n;
	int rc;

	detok_init(&dt, m->vocab);
	rc = eng_session_decode(s, g->prompt, g->nprompt, s->logits, false,
	    on_progress, g);
	t1 = now_ms();
	if (rc != 0) {
		finish(g, stop_of(rc), 0, t1 - t0, 0, rc == ENG_ECTX ?
		    "the prompt does not fit in the context" : rc == ENG_ENAN ?
		    "the model computed NaN (are its weights broken?)" : NULL);
		return NULL;
	}
	for (;;) {
		int32_t id;
		int len;

		if (atomic_load(&g->cancel)) {
			rc = ENG_ECANCEL;
			break;
		}
		if (g->sp.grammar == NULL)
			id = sampler_sample(g->smp, s->logits, g->hist,
			    g->nhist);
		else if ((id = sample_constrained(g, s->logits, piece,
		    sizeof piece)) < 0) {
			rc = ENG_EINVAL;
			break;
		}
		if (vocab_is_eog(m->vocab, id)) {
			t2 = now_ms();
			n = detok_flush(&dt, text, sizeof text);
			post_text(g, text, n);
			finish(g, ENG_STOP_EOG, n_gen, t1 - t0, t2 - t1, NULL);
			return NULL;
		}
		n_gen++;
		if (g->nhist < g->hcap)
			g->hist[g->nhist++] = id;
		else if (g->hcap > 0) {
			memmove(g->hist, g->hist + 1, (g->hcap - 1) * sizeof *g->hist);
			g->hist[g->hcap - 1] = id;
		}
		len = vocab_piece(m->vocab, id, false, piece, sizeof piece);
		if (len > (int)sizeof piece)
			len = sizeof piece;	/* no real token is this long */
		if (g->sp.grammar != NULL)
			for (int i = 0; i < len; i++)
				(void)gstate_feed(g->sp.grammar, &g->gst,
				    (unsigned char)piece[i]);
		if (len > 0) {
			n = detok_push(&dt, piece, (size_t)len, text, sizeof text);
			post_text(g, text, n);
		}
		if (g->sp.max_tokens && n_gen >= g->sp.max_tokens) {
			rc = 1;
			break;
		}
		if (s->pos >= s->n_ctx) {
			rc = ENG_ECTX;
			break;
		}
		if ((rc = eng_session_decode(s, &id, 1, s->logits, false, NULL,
		    NULL)) != 0)
			break;
	}
	t2 = now_ms();
	n = detok_flush(&dt, text, sizeof text);
	post_text(g, text, n);
	if (g->sp.grammar != NULL && (rc == 1 || rc == ENG_ECTX)) {
		/* cut short: say so, never let a prefix pass for a value */
		finish(g, ENG_STOP_INCOMPLETE, n_gen, t1 - t0, t2 - t1,
		    rc == 1 ? "incomplete: the token limit came before the "
		    "end of the value" : "incomplete: the context filled up "
		    "before the end of the value");
		return NULL;
	}
	finish(g, rc == 1 ? ENG_STOP_LENGTH : stop_of(rc), n_gen, t1 - t0,
	    t2 - t1, rc == ENG_ECTX ? "the context is full" : rc == ENG_ENAN ?
	    "the model computed NaN (are its weights broken?)" :
	    rc == ENG_EINVAL ? "no token fits the output schema" : NULL);
	return NULL;
}

void
eng_sample_defaults(struct eng_sample_params *p)
{
	memset(p, 0, sizeof *p);
	p->temp = 0.7f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repeat_penalty = 1.1f;
	p->repeat_last_n = 64;
	p->seed = 0;
}

int
eng_gen_start(struct eng_session *s, const int32_t *prompt, size_t n,
    const struct eng_sample_params *sp, struct eng_gen **out, char **cause)
{
	struct eng_gen *g = NULL;
	struct sampler_params p;
	int rc = ENG_ENOMEM;
	size_t keep;

	if (cause != NULL)
		*cause = NULL;
	if (n == 0) {
		rc = ENG_EINVAL;
		if (cause != NULL)
			*cause = strdup("the prompt is empty");
		goto out;
	}
	if (n > s->n_ctx - s->pos) {
		rc = ENG_ECTX;
		if (cause != NULL && asprintf(cause, "the prompt is %zu tokens; "
		    "%u of the %u-token context are free", n, s->n_ctx - s->pos,
		    s->n_ctx) < 0)
			*cause = NULL;
		goto out;
	}
	if ((g = calloc(1, sizeof *g)) == NULL)
		goto out;
	g->pfd[0] = g->pfd[1] = -1;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->s = s;
	g->sp = *sp;
	p.temp = sp->temp;
	p.top_k = sp->top_k;
	p.top_p = sp->top_p;
	p.min_p = sp->min_p;
	p.repeat_penalty = sp->repeat_penalty;
	p.repeat_last_n = sp->repeat_last_n;
	p.seed = sp->seed;
	if ((g->smp = sampler_new(&p, s->m->hp.n_vocab)) == NULL)
		goto out;
	if (sp->grammar != NULL) {
		if (eng_grammar_vocab(sp->grammar) != s->m->hp.n_vocab) {
			rc = ENG_EINVAL;
			if (cause != NULL)
				*cause = strdup("the output schema was not "
				    "compiled for this model");
			goto out;
		}
		if ((g->gbits = malloc((s->m->hp.n_vocab + 31) / 32 *
		    sizeof *g->gbits)) == NULL)
			goto out;
		gstate_init(sp->grammar, &g->gst);
	}
	g->hcap = sp->repeat_last_n > 0 ? (size_t)sp->repeat_last_n : 0;
	if ((g->prompt = malloc(n * sizeof *g->prompt)) == NULL ||
	    (g->hcap && (g->hist = malloc(g->hcap * sizeof *g->hist)) == NULL))
		goto out;
	memcpy(g->prompt, prompt, n * sizeof *prompt);
	g->nprompt = n;
	keep = n < g->hcap ? n : g->hcap;
	memcpy(g->hist, prompt + n - keep, keep * sizeof *prompt);
	g->nhist = keep;
	if (pipe2(g->pfd, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = ENG_EIO;
		goto out;
	}
	s->cancel = &g->cancel;
	if (pthread_create(&g->th, NULL, worker, g) != 0) {
		s->cancel = NULL;
		goto out;
	}
	g->started = true;
	*out = g;	/* transferred */
	g = NULL;
	rc = 0;
out:
	if (rc == ENG_ENOMEM && cause != NULL && *cause == NULL)
		*cause = strdup("out of memory");
	eng_gen_free(g);
	return rc;
}

int
eng_gen_fd(const struct eng_gen *g)
{
	return g->pfd[0];
}

/* Hand out the pending text as the current event's text (under mu). */
static int
take_text(struct eng_gen *g, struct eng_event *ev)
{
	if (g->npend + 1 > g->ccap) {
		char *q = realloc(g->cur, g->npend + 1);

		if (q == NULL)
			return -1;
		g->cur = q;
		g->ccap = g->npend + 1;
	}
	memcpy(g->cur, g->pend, g->npend);
	g->cur[g->npend] = '\0';
	ev->kind = ENG_EV_TEXT;
	ev->text = g->cur;
	ev->len = g->npend;
	g->npend = 0;
	return 0;
}

int
eng_gen_next(struct eng_gen *g, struct eng_event *ev, bool wait)
{
	char buf[64];
	int got = 0;

	/* drain wake-ups first: a byte written after this is a new event */
	while (read(g->pfd[0], buf, sizeof buf) > 0)
		;
	memset(ev, 0, sizeof *ev);
	pthread_mutex_lock(&g->mu);
	for (;;) {
		if (g->have_prog) {
			ev->kind = ENG_EV_PROGRESS;
			ev->done = g->pdone;
			ev->total = g->ptotal;
			g->have_prog = false;
			got = 1;
		} else if (g->npend > 0 && take_text(g, ev) == 0) {
			got = 1;
		} else if (g->done && !g->done_given) {
			*ev = g->last;
			ev->text = g->msg;
			ev->len = strlen(g->msg);
			g->done_given = true;
			got = 1;
		}
		if (got || !wait || g->done_given)
			break;
		pthread_cond_wait(&g->cv, &g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return got;
}

void
eng_gen_cancel(struct eng_gen *g)
{
	if (g != NULL)
		atomic_store(&g->cancel, 1);
}

void
eng_gen_free(struct eng_gen *g)
{
	if (g == NULL)
		return;
	if (g->started) {
		atomic_store(&g->cancel, 1);
		pthread_join(g->th, NULL);
		g->s->cancel = NULL;
	}
	if (g->pfd[0] >= 0)
		close(g->pfd[0]);
	if (g->pfd[1] >= 0)
		close(g->pfd[1]);
	sampler_free(g->smp);
	free(g->gbits);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g->pend);
	free(g->cur);
	free(g->prompt);
	free(g->hist);
	free(g);
}
