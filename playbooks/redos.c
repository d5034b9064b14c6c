/*
 * redos.c - lint's check for regular expressions that backtrack
 * catastrophically.
 *
 * Structural check.  The pattern is turned into a position automaton
 * (Glushkov): one state per character-consuming item, each labelled with the
 * set of bytes it accepts, edges for "may follow".  An edge that the pattern
 * produces twice (the same item repeated by an inner and an outer
 * quantifier, as in (a+)+) is kept with multiplicity 2.  A backtracking
 * matcher takes exponential time exactly when some loop of the automaton can
 * read one text along two different paths (Weideman et al., "Analyzing
 * matching time behavior of backtracking regular expression matchers by
 * using ambiguity of NFA", 2016).  That is tested on the product of each
 * strongly connected component with itself: a pair of different states
 * that is reachable from the diagonal and reaches it again, or a doubled
 * edge inside a loop, is such an ambiguity.  Two loops right after each
 * other over the same class (\w+\w+ before something that can fail) are
 * rejected too: quadratic per start position, cubic over a line.
 *
 * Everything the walk does not model is approximated by a superset (back
 * references and recursion match "anything, repeated"; counted repeats above
 * REP_EXACT become unbounded; caseless matching folds every set), so the
 * check can reject a safe pattern but not pass an ambiguous one.
 *
 * Dynamic check.  Each pattern also runs, under a small match limit, on
 * lines built to provoke backtracking: every example line cut at each change
 * of character class and continued by a long run of the character there,
 * and every literal followed by runs of common log characters, each ending
 * in a byte no pattern expects and followed by the original text again.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define POS_MAX		512	/* automaton states per pattern */
#define DEPTH_MAX	64	/* group nesting */
#define REP_EXACT	16	/* larger counts are taken as unbounded */
#define PAIR_MAX	(128 * 128)	/* product states per loop */

#define STRESS_RUN	256	/* length of a provoking run */
#define STRESS_LIMIT	100000	/* match limit for the dynamic check */
#define STRESS_CUTS	48	/* cut points per example line */

struct bits {
	uint64_t	 w[POS_MAX / 64];
};

struct cset {
	uint64_t	 w[4];
};

struct frag {
	struct bits	 first, last;
	struct bits	 flast;		/* may end here with no assertion left */
	int		 nullable;
	int		 fnull;		/* nullable without passing an assertion */
};

struct rx {
	const char	*p, *end;
	const char	*why;
	int		 depth;
	int		 fold;		/* caseless anywhere: fold every set */
	int		 n;		/* positions */
	struct cset	 label[POS_MAX];
	uint8_t		*edge;		/* POS_MAX * POS_MAX multiplicities */
};

static void bset(struct bits *b, int i) { b->w[i / 64] |= 1ULL << (i % 64); }
static int bget(const struct bits *b, int i) { return b->w[i / 64] >> (i % 64) & 1; }

static void
bor(struct bits *d, const struct bits *s)
{
	for (size_t i = 0; i < POS_MAX / 64; i++)
		d->w[i] |= s->w[i];
}

static void cs_add(struct cset *c, int ch) { c->w[ch >> 6] |= 1ULL << (ch & 63); }
static int cs_has(const struct cset *c, int ch) { return c->w[ch >> 6] >> (ch & 63) & 1; }

static void
cs_range(struct cset *c, int lo, int hi)
{
	for (int ch = lo; ch <= hi; ch++)
		cs_add(c, ch);
}

static int
cs_meet(const struct cset *a, const struct cset *b)
{
	return ((a->w[0] & b->w[0]) | (a->w[1] & b->w[1]) |
	    (a->w[2] & b->w[2]) | (a->w[3] & b->w[3])) != 0;
}

static void
cs_not(struct cset *c)
{
	for (int i = 0; i < 4; i++)
		c->w[i] = ~c->w[i];
}

static void
cs_or(struct cset *d, const struct cset *s)
{
	for (int i = 0; i < 4; i++)
		d->w[i] |= s->w[i];
}

static void
cs_fill(struct cset *c)
{
	memset(c, 0xff, sizeof(*c));
}

/* The class a backslash letter names, in PCRE2's non-UTF byte mode. */
static int
cs_escape(struct cset *c, char e)
{
	struct cset t;

	memset(&t, 0, sizeof(t));
	switch (tolower((unsigned char)e)) {
	case 'd':
		cs_range(&t, '0', '9');
		break;
	case 'w':
		cs_range(&t, '0', '9');
		cs_range(&t, 'a', 'z');
		cs_range(&t, 'A', 'Z');
		cs_add(&t, '_');
		break;
	case 's':
		cs_range(&t, 9, 13);
		cs_add(&t, ' ');
		break;
	case 'h':
		cs_add(&t, 9);
		cs_add(&t, ' ');
		cs_add(&t, 0xa0);
		break;
	case 'v':
		cs_range(&t, 10, 13);
		cs_add(&t, 0x85);
		break;
	default:
		return 0;
	}
	if (isupper((unsigned char)e))
		cs_not(&t);
	cs_or(c, &t);
	return 1;
}

/* A single-byte escape (\n, \x41, \x{41}, \101, \cX, or a quoted
 * punctuation character) at p (just past the backslash); -1 if not one. */
static int
byte_escape(const char **pp, const char *end)
{
	const char *p = *pp;
	int v = 0, k;

	if (p >= end)
		return -1;
	switch (*p) {
	case 'n': *pp = p + 1; return '\n';
	case 't': *pp = p + 1; return '\t';
	case 'r': *pp = p + 1; return '\r';
	case 'f': *pp = p + 1; return '\f';
	case 'e': *pp = p + 1; return 27;
	case 'a': *pp = p + 1; return 7;
	case 'c':
		if (p + 1 >= end)
			return -1;
		*pp = p + 2;
		return toupper((unsigned char)p[1]) ^ 0x40;
	case 'x':
		p++;
		if (p < end && *p == '{') {
			for (p++; p < end && isxdigit((unsigned char)*p); p++)
				v = (v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
				    tolower((unsigned char)*p) - 'a' + 10)) & 0xfff;
			if (p >= end || *p != '}')
				return -1;
			*pp = p + 1;
			return v & 0xff;
		}
		for (k = 0; k < 2 && p < end && isxdigit((unsigned char)*p); k++, p++)
			v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
			    tolower((unsigned char)*p) - 'a' + 10);
		*pp = p;
		return v;
	case '0':
		for (k = 0; k < 3 && p < end && *p >= '0' && *p <= '7'; k++, p++)
			v = v * 8 + (*p - '0');
		*pp = p;
		return v & 0xff;
	case 'o':
		if (p + 1 < end && p[1] == '{') {
			for (p += 2; p < end && *p >= '0' && *p <= '7'; p++)
				v = (v * 8 + (*p - '0')) & 0xfff;
			if (p >= end || *p != '}')
				return -1;
			*pp = p + 1;
			return v & 0xff;
		}
		return -1;
	default:
		if (!isalnum((unsigned char)*p)) {
			*pp = p + 1;
			return (unsigned char)*p;
		}
		return -1;
	}
}

/* A [...] class at p ('['); the set into c, returns the byte after ']'. */
static const char *
parse_class(struct rx *r, const char *p, struct cset *c)
{
	static const struct { const char *name; const char *set; } posix[] = {
		{ "alpha", "a-zA-Z" }, { "digit", "0-9" }, { "alnum", "a-zA-Z0-9" },
		{ "upper", "A-Z" }, { "lower", "a-z" }, { "space", "\t-\r " },
		{ "blank", "\t " }, { "xdigit", "0-9a-fA-F" }, { "word", "a-zA-Z0-9_" },
		{ "punct", "!-/:-@[-`{-~" }, { "print", " -~" }, { "graph", "!-~" },
		{ "cntrl", "\x01-\x1f" }, { "ascii", "\x01-\x7f" },
	};
	const char *end = r->end;
	int neg = 0, first = 1;
	struct cset t;

	memset(&t, 0, sizeof(t));
	p++;
	if (p < end && *p == '^') {
		neg = 1;
		p++;
	}
	while (p < end && (*p != ']' || first)) {
		int ch = -1;

		first = 0;
		if (*p == '[' && p + 1 < end && p[1] == ':') {
			const char *q = p + 2, *e;
			int pn = 0;
			size_t i;

			if (q < end && *q == '^') {
				pn = 1;
				q++;
			}
			for (e = q; e < end && isalpha((unsigned char)*e); e++)
				;
			if (e + 1 >= end || e[0] != ':' || e[1] != ']') {
				r->why = "unknown POSIX class";
				return NULL;
			}
			for (i = 0; i < sizeof(posix) / sizeof(posix[0]); i++)
				if (strlen(posix[i].name) == (size_t)(e - q) &&
				    memcmp(posix[i].name, q, (size_t)(e - q)) == 0)
					break;
			if (i == sizeof(posix) / sizeof(posix[0])) {
				r->why = "unknown POSIX class";
				return NULL;
			}
			{
				struct cset u;
				const char *s = posix[i].set;

				memset(&u, 0, sizeof(u));
				while (*s) {
					if (s[1] == '-' && s[2]) {
						cs_range(&u, (unsigned char)s[0],
						    (unsigned char)s[2]);
						s += 3;
					} else
						cs_add(&u, (unsigned char)*s++);
				}
				if (pn)
					cs_not(&u);
				cs_or(&t, &u);
			}
			p = e + 2;
			continue;
		}
		if (*p == '\\') {
			const char *q = p + 1;
			if (q < end && cs_escape(&t, *q)) {
				p = q + 1;
					continue;
			}
			if (q < end && (*q == 'p' || *q == 'P')) {
				cs_fill(&t);		/* Unicode property: anything */
				p = q + 1;
				if (p < end && *p == '{') {
					while (p < end && *p != '}')
						p++;
					p++;
				} else
					p++;
				continue;
			}
			if (q < end && *q == 'b') {
				ch = 8;
				p = q + 1;
			} else if (q < end && *q == 'Q') {
				/* \Q...\E inside a class: each byte literal */
				for (p = q + 1; p < end; p++) {
					if (p + 1 < end && p[0] == '\\' && p[1] == 'E') {
						p += 2;
						break;
					}
					cs_add(&t, (unsigned char)*p);
				}
					continue;
			} else if (q < end && *q == 'E') {
				p = q + 1;
				continue;
			} else {
				p = q;
				if ((ch = byte_escape(&p, end)) < 0) {
					r->why = "unknown escape in a character class";
					return NULL;
				}
			}
		} else
			ch = (unsigned char)*p++;
		/* A range a-z: the '-' is followed by something but ']'. */
		if (p + 1 < end && *p == '-' && p[1] != ']') {
			const char *q = p + 1;
			int hi;

			if (*q == '\\') {
				q++;
				if (q < end && (isalpha((unsigned char)*q) &&
				    strchr("dDwWsShHvVpP", *q) != NULL)) {
					cs_add(&t, ch);	/* [a-\d]: '-' literal */
					cs_add(&t, '-');
					p = q;
							continue;
				}
				if ((hi = byte_escape(&q, end)) < 0) {
					r->why = "unknown escape in a character class";
					return NULL;
				}
			} else if (*q == '[' && q + 1 < end && q[1] == ':') {
				cs_add(&t, ch);
				cs_add(&t, '-');
				p = q;
				continue;
			} else
				hi = (unsigned char)*q++;
			if (hi < ch) {
				r->why = "range out of order in a character class";
				return NULL;
			}
			cs_range(&t, ch, hi);
			p = q;
			continue;
		}
		cs_add(&t, ch);
	}
	if (p >= end) {
		r->why = "unbalanced character class";
		return NULL;
	}
	if (neg)
		cs_not(&t);
	*c = t;
	return p + 1;
}

static int
newpos(struct rx *r, const struct cset *c, struct frag *f)
{
	memset(f, 0, sizeof(*f));
	if (r->n == POS_MAX) {
		r->why = "too long to check for catastrophic backtracking "
		    "(use fewer or smaller repeats)";
		return -1;
	}
	r->label[r->n] = *c;
	bset(&f->first, r->n);
	bset(&f->last, r->n);
	bset(&f->flast, r->n);
	r->n++;
	return 0;
}

/* Every p in `from` may be followed by every q in `to` (set bits only). */
static void
edges(struct rx *r, const struct bits *from, const struct bits *to)
{
	for (int i = 0; i < POS_MAX / 64; i++)
		for (uint64_t fw = from->w[i]; fw != 0; fw &= fw - 1) {
			int p = i * 64 + __builtin_ctzll(fw);
			for (int j = 0; j < POS_MAX / 64; j++)
				for (uint64_t tw = to->w[j]; tw != 0; tw &= tw - 1) {
					int q = j * 64 + __builtin_ctzll(tw);
					if (r->edge[p * POS_MAX + q] < 2)
						r->edge[p * POS_MAX + q]++;
				}
		}
}

static void
f_empty(struct frag *f, int assertion)
{
	memset(f, 0, sizeof(*f));
	f->nullable = 1;
	f->fnull = !assertion;
}

/* a := a b */
static void
f_cat(struct rx *r, struct frag *a, const struct frag *b)
{
	struct frag o;

	edges(r, &a->last, &b->first);
	o.first = a->first;
	if (a->nullable)
		bor(&o.first, &b->first);
	o.last = b->last;
	if (b->nullable)
		bor(&o.last, &a->last);
	o.flast = b->flast;
	if (b->fnull)
		bor(&o.flast, &a->flast);
	o.nullable = a->nullable && b->nullable;
	o.fnull = a->fnull && b->fnull;
	*a = o;
}

static void
f_alt(struct frag *a, const struct frag *b)
{
	bor(&a->first, &b->first);
	bor(&a->last, &b->last);
	bor(&a->flast, &b->flast);
	a->nullable |= b->nullable;
	a->fnull |= b->fnull;
}

/* "Anything, any number of times": what a back reference may match. */
static int
f_anything(struct rx *r, struct frag *f)
{
	struct cset all;

	cs_fill(&all);
	if (newpos(r, &all, f) != 0)
		return -1;
	edges(r, &f->last, &f->first);
	f->nullable = f->fnull = 1;
	return 0;
}

static int alt(struct rx *, struct frag *);

static const char *
skip_name(const char *p, const char *end, char close)
{
	while (p < end && *p != close)
		p++;
	return p < end ? p + 1 : NULL;
}

/* A group at r->p ('('); r->p moves past its ')'. */
static int
group(struct rx *r, struct frag *f)
{
	const char *p = r->p + 1, *end = r->end;
	int assertion = 0, rc;

	if (p < end && *p == '*') {			/* (*VERB) */
		const char *q = memchr(p, ')', (size_t)(end - p));
		if (q == NULL) {
			r->why = "unbalanced parentheses";
			return -1;
		}
		r->p = q + 1;
		f_empty(f, 0);
		return 0;
	}
	if (p < end && *p == '?') {
		p++;
		if (p >= end)
			goto bad;
		if (*p == '#') {
			const char *q = memchr(p, ')', (size_t)(end - p));
			if (q == NULL)
				goto bad;
			r->p = q + 1;
			f_empty(f, 0);
			return 0;
		}
		if (*p == 'R' || *p == '&' || isdigit((unsigned char)*p) ||
		    ((*p == '+' || *p == '-') && p + 1 < end &&
		    isdigit((unsigned char)p[1])) ||
		    (*p == 'P' && p + 1 < end && (p[1] == '>' || p[1] == '='))) {
			const char *q = memchr(p, ')', (size_t)(end - p));
			if (q == NULL)
				goto bad;
			r->p = q + 1;
			return f_anything(r, f);
		}
		if (*p == '(' || *p == 'C') {
			r->why = "conditional groups and callouts cannot be "
			    "checked for catastrophic backtracking";
			return -1;
		}
		if (*p == '=' || *p == '!') {
			assertion = 1;
			p++;
		} else if (*p == '<' && p + 1 < end && (p[1] == '=' || p[1] == '!')) {
			assertion = 1;
			p += 2;
		} else if (*p == ':' || *p == '|' || *p == '>')
			p++;
		else if (*p == '<' || *p == '\'' || (*p == 'P' && p + 1 < end &&
		    p[1] == '<')) {
			char close = *p == '\'' ? '\'' : '>';
			if ((p = skip_name(p, end, close)) == NULL)
				goto bad;
		} else {
			/* Option letters: (?i) or (?i:...) */
			const char *q = p;
			int on = 1;
			while (q < end && (isalpha((unsigned char)*q) || *q == '-' ||
			    *q == '^')) {
				if (*q == '-')
					on = 0;
				if (*q == 'i' && on)
					r->fold = 1;
				q++;
			}
			if (q >= end)
				goto bad;
			if (*q == ')') {
				r->p = q + 1;
				f_empty(f, 0);
				return 0;
			}
			if (*q != ':')
				goto bad;
			p = q + 1;
		}
	}
	if (++r->depth > DEPTH_MAX) {
		r->why = "groups nested too deeply";
		return -1;
	}
	r->p = p;
	if ((rc = alt(r, f)) != 0)
		return rc;
	r->depth--;
	if (r->p >= end || *r->p != ')')
		goto bad;
	r->p++;
	/* A lookaround consumes nothing: its own states stay in the graph
	 * (its loops backtrack too), but it joins the sequence as a test. */
	if (assertion)
		f_empty(f, 1);
	return 0;
bad:
	r->why = "unbalanced parentheses";
	return -1;
}

/* One item without its quantifier; r->p moves past it. */
static int
atom(struct rx *r, struct frag *f)
{
	const char *p = r->p, *end = r->end;
	struct cset c;
	int ch;

	memset(&c, 0, sizeof(c));
	switch (*p) {
	case '(':
		return group(r, f);
	case '[':
		if ((r->p = parse_class(r, p, &c)) == NULL)
			return -1;
		return newpos(r, &c, f);
	case '.':
		cs_fill(&c);
		c.w[0] &= ~(1ULL << '\n');
		r->p = p + 1;
		return newpos(r, &c, f);
	case '^':
		r->p = p + 1;
		f_empty(f, 0);
		return 0;
	case '$':
		r->p = p + 1;
		f_empty(f, 1);
		return 0;
	case '\\':
		p++;
		if (p >= end) {
			r->why = "pattern ends in a backslash";
			return -1;
		}
		if (cs_escape(&c, *p) || *p == 'N' || *p == 'C' || *p == 'R' ||
		    *p == 'p' || *p == 'P' || *p == 'X') {
			if (*p == 'N' || *p == 'C' || *p == 'R' || *p == 'p' ||
			    *p == 'P' || *p == 'X')
				cs_fill(&c);
			if (*p == 'N')
				c.w[0] &= ~(1ULL << '\n');
			if ((*p == 'p' || *p == 'P') && p + 1 < end && p[1] == '{') {
				const char *q = memchr(p, '}', (size_t)(end - p));
				if (q == NULL) {
					r->why = "bad \\p escape";
					return -1;
				}
				p = q;
			} else if (*p == 'p' || *p == 'P')
				p++;
			r->p = p + 1;
			return newpos(r, &c, f);
		}
		if (strchr("bBAzZGK", *p) != NULL) {
			r->p = p + 1;
			f_empty(f, *p != 'K' && *p != 'A' && *p != 'G');
			return 0;
		}
		if (*p == 'E') {
			r->p = p + 1;
			f_empty(f, 0);
			return 0;
		}
		if (*p == 'Q') {
			struct frag one;
			f_empty(f, 0);
			for (p++; p < end; p++) {
				if (p + 1 < end && p[0] == '\\' && p[1] == 'E') {
					p += 2;
					break;
				}
				memset(&c, 0, sizeof(c));
				cs_add(&c, (unsigned char)*p);
				if (newpos(r, &c, &one) != 0)
					return -1;
				f_cat(r, f, &one);
			}
			r->p = p;
			return 0;
		}
		if ((*p >= '1' && *p <= '9') || *p == 'g' || *p == 'k') {
			/* Back reference (or \g subroutine): skip its name. */
			p++;
			if (p < end && (*p == '{' || *p == '<' || *p == '\'')) {
				char close = *p == '{' ? '}' : *p == '<' ? '>' : '\'';
				if ((p = skip_name(p + 1, end, close)) == NULL) {
					r->why = "bad back reference";
					return -1;
				}
			} else
				while (p < end && (isdigit((unsigned char)*p) ||
				    *p == '-' || *p == '+'))
					p++;
			r->p = p;
			return f_anything(r, f);
		}
		if ((ch = byte_escape(&p, end)) < 0) {
			r->why = "unknown escape";
			return -1;
		}
		cs_add(&c, ch);
		r->p = p;
		return newpos(r, &c, f);
	default:
		cs_add(&c, (unsigned char)*p);
		r->p = p + 1;
		return newpos(r, &c, f);
	}
}

/* A quantifier at r->p: min and max (-1 unbounded); 0 if there is none. */
static int
quant(struct rx *r, long *min, long *max)
{
	const char *p = r->p, *end = r->end;
	char *q;

	if (p >= end)
		return 0;
	if (*p == '?') {
		*min = 0;
		*max = 1;
		p++;
	} else if (*p == '*') {
		*min = 0;
		*max = -1;
		p++;
	} else if (*p == '+') {
		*min = 1;
		*max = -1;
		p++;
	} else if (*p == '{') {
		const char *s = p + 1;
		*min = 0;
		*max = -1;
		if (s < end && isdigit((unsigned char)*s))
			*min = strtol(s, &q, 10);
		else if (s < end && *s == ',' && s + 1 < end &&
		    isdigit((unsigned char)s[1]))
			q = (char *)s;
		else
			return 0;		/* a literal '{' */
		if (q < end && *q == ',') {
			q++;
			if (q < end && isdigit((unsigned char)*q))
				*max = strtol(q, &q, 10);
		} else
			*max = *min;
		if (q >= end || *q != '}')
			return 0;
		p = q + 1;
	} else
		return 0;
	if (p < end && (*p == '?' || *p == '+'))	/* lazy, possessive */
		p++;
	r->p = p;
	return 1;
}

/* Copy k of the item at `start`: the one already parsed, or a new parse. */
static int
copy(struct rx *r, const char *start, long k, const struct frag *first,
    struct frag *out)
{
	if (k == 0) {
		*out = *first;
		return 0;
	}
	r->p = start;
	return atom(r, out);
}

/*
 * The item at `start` (parsed once into *f) repeated min..max times; the
 * result replaces *f.  Further copies are parsed again from the text, so
 * every copy has states of its own.
 */
static int
repeat(struct rx *r, const char *start, long min, long max, struct frag *f)
{
	const char *after = r->p;
	struct frag first = *f, one, tail;
	long k = 0;

	if (max >= 0 && max < min) {
		r->why = "numbers out of order in a {} quantifier";
		return -1;
	}
	if (min > REP_EXACT || max > REP_EXACT) {
		min = min > 1 ? 1 : min;
		max = -1;
	}
	f_empty(f, 0);
	if (max < 0) {
		long n = min > 1 ? min : 1;
		for (long i = 0; i < n; i++) {
			if (copy(r, start, k++, &first, &one) != 0)
				return -1;
			if (i == n - 1)		/* the last copy loops */
				edges(r, &one.last, &one.first);
			if (min == 0)
				one.nullable = one.fnull = 1;
			f_cat(r, f, &one);
		}
	} else {
		for (long i = 0; i < min; i++) {
			if (copy(r, start, k++, &first, &one) != 0)
				return -1;
			f_cat(r, f, &one);
		}
		/* (x(x(x)?)?)?: one way to match each number of copies. */
		f_empty(&tail, 0);
		for (long i = min; i < max; i++) {
			if (copy(r, start, k++, &first, &one) != 0)
				return -1;
			f_cat(r, &one, &tail);
			one.nullable = one.fnull = 1;
			tail = one;
		}
		f_cat(r, f, &tail);
	}
	r->p = after;
	return 0;
}

static int
seq(struct rx *r, struct frag *f)
{
	struct frag item;
	const char *start;
	long min, max;

	f_empty(f, 0);
	while (r->p < r->end && *r->p != '|' && *r->p != ')') {
		start = r->p;
		if (atom(r, &item) != 0)
			return -1;
		if (quant(r, &min, &max)) {
			if (repeat(r, start, min, max, &item) != 0)
				return -1;
			if (r->p < r->end && (*r->p == '*' || *r->p == '+' ||
			    *r->p == '?' || *r->p == '{')) {
				if (*r->p != '{' || quant(r, &min, &max)) {
					r->why = "quantifier does not follow a "
					    "repeatable item";
					return -1;
				}
			}
		}
		f_cat(r, f, &item);
	}
	return 0;
}

static int
alt(struct rx *r, struct frag *f)
{
	struct frag b;

	if (seq(r, f) != 0)
		return -1;
	while (r->p < r->end && *r->p == '|') {
		r->p++;
		if (seq(r, &b) != 0)
			return -1;
		f_alt(f, &b);
	}
	return 0;
}

static void
fold_labels(struct rx *r)
{
	for (int i = 0; i < r->n; i++)
		for (int ch = 'A'; ch <= 'Z'; ch++)
			if (cs_has(&r->label[i], ch) ||
			    cs_has(&r->label[i], tolower(ch))) {
				cs_add(&r->label[i], ch);
				cs_add(&r->label[i], tolower(ch));
			}
}

/* Tarjan's strongly connected components, recursive (n <= POS_MAX). */
struct scc {
	const struct rx	*r;
	int		 idx[POS_MAX], low[POS_MAX], comp[POS_MAX];
	int		 stack[POS_MAX], on[POS_MAX];
	int		 sp, counter, ncomp;
};

static void
strong(struct scc *s, int v)
{
	const struct rx *r = s->r;

	s->idx[v] = s->low[v] = ++s->counter;
	s->stack[s->sp++] = v;
	s->on[v] = 1;
	for (int w = 0; w < r->n; w++) {
		if (!r->edge[v * POS_MAX + w])
			continue;
		if (s->idx[w] == 0) {
			strong(s, w);
			if (s->low[w] < s->low[v])
				s->low[v] = s->low[w];
		} else if (s->on[w] && s->idx[w] < s->low[v])
			s->low[v] = s->idx[w];
	}
	if (s->low[v] == s->idx[v]) {
		int w;
		do {
			w = s->stack[--s->sp];
			s->on[w] = 0;
			s->comp[w] = s->ncomp;
		} while (w != v);
		s->ncomp++;
	}
}

/*
 * Within one loop (component `k`, states `st`), can two different paths
 * leave the diagonal and come back to it on the same text?
 */
static int
ambiguous_loop(const struct rx *r, const int *st, int m)
{
	uint8_t *fw = NULL, *bw = NULL;
	int *queue = NULL, head, tail, hit = 0;
	size_t np = (size_t)m * (size_t)m;

	if ((fw = calloc(np, 1)) == NULL || (bw = calloc(np, 1)) == NULL ||
	    (queue = malloc(np * sizeof(*queue))) == NULL) {
		hit = -1;
		goto out;
	}
	for (int dir = 0; dir < 2; dir++) {
		uint8_t *seen = dir == 0 ? fw : bw;
		head = tail = 0;
		for (int i = 0; i < m; i++) {
			seen[i * m + i] = 1;
			queue[tail++] = i * m + i;
		}
		while (head < tail) {
			int pq = queue[head++], a = pq / m, b = pq % m;
			for (int x = 0; x < m; x++) {
				int ea = dir == 0 ? r->edge[st[a] * POS_MAX + st[x]] :
				    r->edge[st[x] * POS_MAX + st[a]];
				if (!ea)
					continue;
				for (int y = 0; y < m; y++) {
					int eb = dir == 0 ?
					    r->edge[st[b] * POS_MAX + st[y]] :
					    r->edge[st[y] * POS_MAX + st[b]];
					/* Forward, the pair reads the labels of
					 * x and y; backward, those of a and b. */
					const struct cset *la = &r->label[st[dir ? a : x]];
					const struct cset *lb = &r->label[st[dir ? b : y]];
					if (!eb || seen[x * m + y] || !cs_meet(la, lb))
						continue;
					seen[x * m + y] = 1;
					queue[tail++] = x * m + y;
				}
			}
		}
	}
	for (int a = 0; a < m && !hit; a++)
		for (int b = 0; b < m && !hit; b++)
			if (a != b && fw[a * m + b] && bw[a * m + b])
				hit = 1;
out:
	free(fw);
	free(bw);
	free(queue);
	return hit;
}

int
pb_regex_redos(const char *re, int icase, const char **why)
{
	struct rx *r = NULL;
	struct scc *s = NULL;
	struct frag root;
	int rc = PB_EINVAL, st[POS_MAX];

	*why = "out of memory";
	if ((r = calloc(1, sizeof(*r))) == NULL || (s = calloc(1, sizeof(*s))) == NULL ||
	    (r->edge = calloc((size_t)POS_MAX * POS_MAX, 1)) == NULL)
		goto out;
	r->p = re;
	r->end = re + strlen(re);
	r->fold = icase;
	if (alt(r, &root) != 0) {
		*why = r->why;
		goto out;
	}
	if (r->p != r->end) {
		*why = "unbalanced parentheses";
		goto out;
	}
	if (r->fold)
		fold_labels(r);
	s->r = r;
	for (int v = 0; v < r->n; v++)
		if (s->idx[v] == 0)
			strong(s, v);
	/* An edge made twice, inside a loop: (a+)+, (a*)*, (\w+\s?)+ */
	for (int p = 0; p < r->n; p++)
		for (int q = 0; q < r->n; q++)
			if (r->edge[p * POS_MAX + q] > 1 && s->comp[p] == s->comp[q]) {
				*why = "nested repeats can match the same text in "
				    "exponentially many ways (catastrophic "
				    "backtracking); make the inner and outer "
				    "repeats match different characters";
				goto out;
			}
	/* Two ways around one loop on the same text: (a|a)*, (\w|\d)+ */
	for (int k = 0; k < s->ncomp; k++) {
		int m = 0, h;
		for (int v = 0; v < r->n; v++)
			if (s->comp[v] == k)
				st[m++] = v;
		if (m < 2)
			continue;
		if ((size_t)m * (size_t)m > PAIR_MAX) {
			*why = "a repeated group too large to check for "
			    "catastrophic backtracking";
			goto out;
		}
		if ((h = ambiguous_loop(r, st, m)) != 0) {
			*why = h < 0 ? "out of memory" : "a repeated group can "
			    "match the same text in exponentially many ways "
			    "(catastrophic backtracking); make its alternatives "
			    "or parts match different characters";
			goto out;
		}
	}
	/* Loop right after loop over the same class, with something after
	 * them that can fail: \w+\w+x, \d+\s*\d+$.  Only the same class:
	 * \d+.*?x or [^)\s]+[^)]*\) are quadratic too, but common and cut
	 * short by PCRE2's required-byte check; the dynamic check and the
	 * run-time limit cover them. */
	for (int p = 0; p < r->n; p++) {
		if (!r->edge[p * POS_MAX + p] || bget(&root.flast, p))
			continue;
		for (int q = 0; q < r->n; q++)
			if (q != p && r->edge[p * POS_MAX + q] &&
			    r->edge[q * POS_MAX + q] && s->comp[p] != s->comp[q] &&
			    !bget(&root.flast, q) &&
			    memcmp(&r->label[p], &r->label[q], sizeof(struct cset)) == 0) {
				*why = "two repeats in a row over the same characters "
				    "(polynomial backtracking); make the first "
				    "stop where the second starts";
				goto out;
			}
	}
	rc = 0;
	*why = NULL;
out:
	if (r != NULL)
		free(r->edge);
	free(r);
	free(s);
	return rc;
}

/* ---- dynamic check ------------------------------------------------------- */

struct stress {
	const pcre2_code	*code;
	pcre2_match_context	*mc;
	pcre2_match_data	*md;
	char			*buf;
	int			 hit;
	uint64_t		 lines;
};

/*
 * head, a run of ch, a byte no pattern expects, then tail.  The tail puts
 * back the bytes the pattern needs further on, so PCRE2's quick "required
 * byte is missing" exit does not hide the backtracking at the run.
 */
static void
try_line(struct stress *s, const char *head, size_t hn, int ch,
    const char *tail, size_t tn)
{
	size_t n = 0;
	int rc;

	if (s->hit)
		return;
	memcpy(s->buf, head, hn);
	n += hn;
	memset(s->buf + n, ch, STRESS_RUN);
	n += STRESS_RUN;
	s->buf[n++] = '\x01';
	memcpy(s->buf + n, tail, tn);
	n += tn;
	s->lines++;
	rc = pcre2_match(s->code, (PCRE2_SPTR)s->buf, n, 0, 0, s->md, s->mc);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT)
		s->hit = 1;
}

static int
cclass(unsigned char c)
{
	return isalpha(c) ? 1 : isdigit(c) ? 2 : isspace(c) ? 3 : c < 0x80 ? 4 + c : 300;
}

int
pb_regex_stress(const pcre2_code *code, const struct pb_litset *lits,
    const char *const *lines, const size_t *lens, size_t nlines,
    uint64_t *tried)
{
	static const char runch[] = " a0.-:/_@A\t=,";
	pcre2_jit_stack *js = NULL;
	struct stress s = { code, NULL, NULL, NULL, 0, 0 };
	size_t maxlen = PB_MIN_LITERAL;
	int rc = PB_ENOMEM;

	for (size_t i = 0; i < nlines; i++)
		if (lens[i] > maxlen)
			maxlen = lens[i];
	for (size_t i = 0; i < lits->n; i++)
		if (lits->len[i] > maxlen)
			maxlen = lits->len[i];
	if ((s.mc = pb_match_context_new(&js)) == NULL ||
	    (s.md = pcre2_match_data_create(16, NULL)) == NULL ||
	    (s.buf = malloc(2 * maxlen + STRESS_RUN + 2)) == NULL)
		goto out;
	pcre2_set_match_limit(s.mc, STRESS_LIMIT);
	for (size_t i = 0; i < lits->n; i++)
		for (size_t k = 0; k < sizeof(runch) - 1; k++)
			try_line(&s, lits->lit[i], lits->len[i], runch[k],
			    lits->lit[i], lits->len[i]);
	for (size_t i = 0; i < nlines; i++) {
		const unsigned char *l = (const unsigned char *)lines[i];
		int cuts = 0;
		for (size_t j = 0; j < lens[i] && cuts < STRESS_CUTS; j++) {
			if (j > 0 && cclass(l[j]) == cclass(l[j - 1]))
				continue;
			cuts++;
			try_line(&s, lines[i], j, l[j], lines[i], lens[i]);
		}
	}
	rc = s.hit ? PB_EINVAL : 0;
out:
	if (tried != NULL)
		*tried = s.lines;
	free(s.buf);
	pcre2_match_data_free(s.md);
	pcre2_match_context_free(s.mc);
	pcre2_jit_stack_free(js);
	return rc;
}
