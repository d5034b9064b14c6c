/*
 * literal.c - literals that every match of a PCRE2 pattern must contain.
 *
 * The prefilter looks for these in one pass over each line, so a regex runs
 * only on lines that could match.  The walk is conservative: whatever it
 * does not understand ends the current literal run, so the result is always
 * a substring every match contains (case-folded).  A top-level alternation
 * yields one literal per branch; each branch must have one.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RUN_MAX 128

struct walk {
	char	 run[RUN_MAX];
	size_t	 nrun;
	char	 best[RUN_MAX];
	size_t	 nbest;
	const char *why;
};

static void
flush(struct walk *w)
{
	if (w->nrun > w->nbest) {
		memcpy(w->best, w->run, w->nrun);
		w->nbest = w->nrun;
	}
	w->nrun = 0;
}

static void
push(struct walk *w, char c)
{
	if (w->nrun == RUN_MAX)
		flush(w);
	w->run[w->nrun++] = (char)tolower((unsigned char)c);
}

/* Skip a character class starting at '['; returns the byte after ']'. */
static const char *
skip_class(const char *p, const char *end)
{
	p++;
	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')
		p++;
	while (p < end && *p != ']') {
		if (*p == '\\' && p + 1 < end)
			p += 2;
		else if (*p == '[' && p + 1 < end && p[1] == ':') {
			const char *q = strstr(p + 2, ":]");
			p = (q != NULL && q < end) ? q + 2 : p + 1;
		} else
			p++;
	}
	return p < end ? p + 1 : NULL;
}

/* Skip an escape at '\\'; returns the byte after it. */
static const char *
skip_escape(const char *p, const char *end)
{
	if (p + 1 >= end)
		return NULL;
	p++;
	if (*p == 'Q') {			/* \Q...\E */
		for (p++; p + 1 < end; p++)
			if (p[0] == '\\' && p[1] == 'E')
				return p + 2;
		return end;
	}
	if (strchr("xpPgkNo", *p) && p + 1 < end &&
	    (p[1] == '{' || p[1] == '<' || p[1] == '\'')) {
		char close = p[1] == '{' ? '}' : p[1] == '<' ? '>' : '\'';
		const char *q = memchr(p + 2, close, (size_t)(end - p - 2));
		return q != NULL ? q + 1 : NULL;
	}
	if (*p == 'x') {
		p++;
		for (int i = 0; i < 2 && p < end && isxdigit((unsigned char)*p); i++)
			p++;
		return p;
	}
	if (*p == 'c')
		return p + 2 <= end ? p + 2 : NULL;
	if (isdigit((unsigned char)*p)) {
		while (p < end && isdigit((unsigned char)*p))
			p++;
		return p;
	}
	return p + 1;
}

/* Find the ')' closing the group opened at p; NULL if unbalanced. */
static const char *
find_close(const char *p, const char *end)
{
	int depth = 0;

	while (p != NULL && p < end) {
		if (*p == '\\')
			p = skip_escape(p, end);
		else if (*p == '[')
			p = skip_class(p, end);
		else if (*p == '(') {
			depth++;
			p++;
		} else if (*p == ')') {
			if (--depth == 0)
				return p;
			p++;
		} else
			p++;
	}
	return NULL;
}

/* Does [p, end) have a '|' outside any group? */
static int
has_alternation(const char *p, const char *end)
{
	while (p != NULL && p < end) {
		if (*p == '|')
			return 1;
		if (*p == '\\')
			p = skip_escape(p, end);
		else if (*p == '[')
			p = skip_class(p, end);
		else if (*p == '(') {
			p = find_close(p, end);
			if (p != NULL)
				p++;
		} else
			p++;
	}
	return 0;
}

/* Parse a quantifier at *pp; returns its minimum (1 if none), sets *had. */
static long
quantifier(const char **pp, const char *end, int *had)
{
	const char *p = *pp;
	long min = 1;

	*had = 0;
	if (p >= end)
		return 1;
	if (*p == '?' || *p == '*') {
		min = 0;
		p++;
	} else if (*p == '+') {
		p++;
	} else if (*p == '{' && p + 1 < end && (isdigit((unsigned char)p[1]) ||
	    p[1] == ',')) {
		char *q;
		min = strtol(p + 1, &q, 10);
		if (q >= end)
			return 1;
		while (q < end && *q != '}')
			q++;
		if (q >= end)
			return 1;		/* not a quantifier: literal '{' */
		p = q + 1;
	} else
		return 1;
	if (p < end && (*p == '?' || *p == '+'))	/* lazy, possessive */
		p++;
	*had = 1;
	*pp = p;
	return min;
}

static int seq(struct walk *, const char *, const char *);

/* A group at p ('('); handles its content and quantifier. */
static const char *
group(struct walk *w, const char *p, const char *end)
{
	const char *close = find_close(p, end), *in = p + 1, *after;
	long min;
	int had;

	if (close == NULL) {
		w->why = "unbalanced parentheses";
		return NULL;
	}
	if (in < close && *in == '*') {			/* (*VERB) */
		flush(w);
		return close + 1;
	}
	if (in < close && *in == '?') {
		in++;
		if (in < close && *in == '#')		/* comment */
			return close + 1;
		/* Recursion, subroutine calls and back references: (?R) (?1)
		 * (?-1) (?&name) (?P>name) (?P=name) match unknown text. */
		if (in < close && (*in == 'R' || *in == '&' || isdigit((unsigned char)*in) ||
		    ((*in == '+' || *in == '-') && in + 1 < close &&
		    isdigit((unsigned char)in[1])) ||
		    (*in == 'P' && in + 1 < close && (in[1] == '>' || in[1] == '=')))) {
			flush(w);
			after = close + 1;
			(void)quantifier(&after, end, &had);
			return after;
		}
		if (in < close && (*in == '=' || *in == '!' ||
		    (*in == '<' && in + 1 < close && (in[1] == '=' || in[1] == '!')))) {
			flush(w);			/* lookaround */
			after = close + 1;
			(void)quantifier(&after, end, &had);
			return after;
		}
		if (*in == ':' || *in == '|' || *in == '>')
			in++;
		else if (*in == '<' || *in == '\'' || *in == 'P') {
			char c = *in == 'P' ? '>' : *in == '<' ? '>' : '\'';
			const char *q = memchr(in, c, (size_t)(close - in));
			if (q == NULL) {
				flush(w);
				return close + 1;
			}
			in = q + 1;
		} else {
			/* Option letters: (?i) or (?i:...) */
			const char *q = in;
			while (q < close && (isalpha((unsigned char)*q) || *q == '-' || *q == '^'))
				q++;
			if (memchr(in, 'x', (size_t)(q - in)) != NULL) {
				w->why = "extended mode (?x) is not supported";
				return NULL;
			}
			if (q == close)
				return close + 1;	/* flags only */
			if (*q != ':') {
				flush(w);
				return close + 1;
			}
			in = q + 1;
		}
	}
	after = close + 1;
	min = quantifier(&after, end, &had);
	if (min == 0 || has_alternation(in, close)) {
		flush(w);
		return after;
	}
	if (had)
		flush(w);
	if (seq(w, in, close) != 0)
		return NULL;
	if (had)
		flush(w);
	return after;
}

/* Walk one branch (no top-level '|'). */
static int
seq(struct walk *w, const char *p, const char *end)
{
	long min;
	int had, literal;
	char c = 0;
	const char *q;

	while (p < end) {
		literal = 0;
		switch (*p) {
		case '\\':
			if (p + 1 < end && p[1] == 'Q') {
				for (q = p + 2; q < end; q++) {
					if (q + 1 < end && q[0] == '\\' && q[1] == 'E')
						break;
					push(w, *q);
				}
				p = q < end ? q + 2 : end;
				continue;
			}
			if (p + 1 < end && !isalnum((unsigned char)p[1])) {
				c = p[1];
				literal = 1;
				p += 2;
			} else {
				p = skip_escape(p, end);
				if (p == NULL) {
					w->why = "bad escape";
					return -1;
				}
			}
			break;
		case '[':
			if ((p = skip_class(p, end)) == NULL) {
				w->why = "unbalanced character class";
				return -1;
			}
			break;
		case '(':
			if ((p = group(w, p, end)) == NULL)
				return -1;
			continue;
		case '.': case '^': case '$':
			p++;
			break;
		default:
			c = *p++;
			literal = 1;
			break;
		}
		min = quantifier(&p, end, &had);
		if (!literal || min == 0) {
			flush(w);
			continue;
		}
		push(w, c);
		if (had)
			flush(w);
	}
	return 0;
}

void
pb_litset_release(struct pb_litset *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->lit[i]);
	memset(ls, 0, sizeof(*ls));
}

int
pb_literals(const char *re, struct pb_litset *out, const char **why)
{
	const char *p = re, *end = re + strlen(re), *start = re;
	struct walk w;
	int rc = PB_EINVAL;

	memset(out, 0, sizeof(*out));
	for (;;) {
		/* Find the end of this top-level branch. */
		const char *b = p;
		while (b != NULL && b < end && *b != '|') {
			if (*b == '\\')
				b = skip_escape(b, end);
			else if (*b == '[')
				b = skip_class(b, end);
			else if (*b == '(') {
				b = find_close(b, end);
				if (b != NULL)
					b++;
			} else
				b++;
		}
		if (b == NULL || b > end) {
			*why = "cannot parse the pattern";
			goto out;
		}
		memset(&w, 0, sizeof(w));
		if (seq(&w, start, b) != 0) {
			*why = w.why;
			goto out;
		}
		flush(&w);
		if (w.nbest < PB_MIN_LITERAL) {
			*why = "needs a literal of at least 3 characters that every "
			    "match contains (for the prefilter)";
			goto out;
		}
		if (out->n == LIT_MAX) {
			*why = "too many top-level alternatives (at most 8)";
			goto out;
		}
		if ((out->lit[out->n] = malloc(w.nbest + 1)) == NULL) {
			*why = "out of memory";
			goto out;
		}
		memcpy(out->lit[out->n], w.best, w.nbest);
		out->lit[out->n][w.nbest] = '\0';
		out->len[out->n++] = w.nbest;
		if (b == end)
			break;
		p = start = b + 1;
	}
	rc = 0;
out:
	if (rc != 0)
		pb_litset_release(out);
	return rc;
}
