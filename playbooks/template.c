/*
 * template.c - group lines into templates ("Invalid user <*> from <*>").
 *
 * A Drain-class miner (after He et al., "Drain: An Online Log Parsing
 * Approach with Fixed Depth Tree", ICWS 2017), made to hold on formats it
 * was not written for:
 *   1. header: the leading timestamp, then the header words before the
 *      message (host, "program[pid]:", a level, "[thread]", a logger name)
 *      are set aside (and "time|comp|pid|" glued to the first word).  They
 *      are shown but never compared, so the same message from two daemons
 *      or hosts joins one template.
 *   2. mask: words holding a digit, hex, paths (also inside a word and
 *      Windows ones), URLs, month and day names, quoted strings and the
 *      values of key=value (but a state: force=false) become <*>; a number
 *      and its unit ("18846 bytes", "(18.4 KB)", "<1 sec") are one <*>; a
 *      list (runs of masks, "a, b, c", the words past MAX_TOKENS) becomes
 *      one <*>, so lines with 3 and 5 items join.
 *   3. tree: the message's word count and its first key_tokens plain words
 *      (letters only: a dotted name or a mask is passed over) select a
 *      leaf, as Drain's fixed-depth tree does; here the path is hashed
 *      into a fixed bucket table.
 *   4. merge: the line joins the leaf's template with the most equal words
 *      if at least `similarity` of them agree; words that differ become
 *      <*>.  State and severity words (up/down, ok/error, true/false...)
 *      never become <*>: a template whose word there differs is skipped,
 *      and so is one where a key has a value and the line's has none.
 *   5. else a template with the same skeleton (constants in order, each
 *      run of variables as one) takes the line: Drain's length-insensitive
 *      pass, kept strict.
 * Everything is bounded: bytes and words per line, templates per miner,
 * templates tried per leaf.  The defaults were chosen once on the LogHub
 * samples (tests/tmpl-eval prints the leave-one-out check) and apply to
 * every input.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define MAX_TOKENS	64
#define LINE_MAX_BYTES	2048	/* longer lines are templated on their head */
#define DEF_SIMILARITY	0.8	/* share of equal message words to join */
#define DEF_KEY_TOKENS	2	/* leading message words in the tree path */
#define HEADER_SCAN	12	/* header words looked at */
#define LEAF_MAX	64	/* templates per leaf before forced joining */
#define BUCKETS		4096
#define EXAMPLE_BYTES	1024
#define BURST_TAU_MS	60000.0	/* burstiness window: one minute */

static const char MASK[] = "<*>";

struct tmpl {
	char		*buf;		/* the words as first seen, NUL-separated */
	const char	*tok[MAX_TOKENS];	/* into buf, or MASK */
	size_t		 ntok, nhdr;	/* header words are tok[0..nhdr) */
	uint64_t	 key;		/* tree path */
	uint64_t	 states;	/* bit i: message word i is a state word */
	uint64_t	 hits;
	char		*example;
	const char	*file;
	uint64_t	 lineno;
	long		 next;		/* bucket chain */
	uint64_t	 lvseed;	/* the header's level classes hashed */
	uint64_t	 skel;		/* lvseed, constants and variable runs */
	long		 snext;		/* skeleton bucket chain */
	/* For the ranking (see pb_miner_salience). */
	enum pb_severity level;		/* worst seen */
	int64_t		 first, last;	/* ms, PB_TIME_NONE if no line had one */
	uint64_t	 timed;		/* hits that had a time */
	double		 rate;		/* hits decayed with BURST_TAU_MS */
	int64_t		 rate_t;	/* time rate was last brought to */
	double		 peak;		/* highest rate seen */
};

struct pb_miner {
	struct tmpl	*t;
	size_t		 n, cap, max;
	long		 bucket[BUCKETS];
	long		 sbucket[BUCKETS];	/* by skeleton */
	long		*rank;
	size_t		 nrank;
	double		 similarity;
	size_t		 key_tokens;
};

/* One line being added: its words after header split, masking, collapse. */
struct cut {
	const char	*tok[MAX_TOKENS];
	size_t		 ntok, nhdr;
	signed char	 st[MAX_TOKENS];	/* is_state() of tok, -1 unknown */
	char		 buf[LINE_MAX_BYTES * 2 + MAX_TOKENS * 4];
	size_t		 used;
};

int
pb_miner_new(size_t max, struct pb_miner **out)
{
	struct pb_miner *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return PB_ENOMEM;
	m->max = max;
	m->similarity = DEF_SIMILARITY;
	m->key_tokens = DEF_KEY_TOKENS;
	memset(m->bucket, 0xff, sizeof(m->bucket));	/* all -1: empty */
	memset(m->sbucket, 0xff, sizeof(m->sbucket));
	*out = m;
	return 0;
}

void
pb_miner_params(struct pb_miner *m, double similarity, size_t key_tokens)
{
	m->similarity = similarity;
	m->key_tokens = key_tokens;
}

void
pb_miner_free(struct pb_miner *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->t[i].buf);
		free(m->t[i].example);
	}
	free(m->t);
	free(m->rank);
	free(m);
}

/* ---- words ---------------------------------------------------------------- */

static int
is_word(int c)
{
	return isalnum(c) || c == '_';
}

static int
has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i]))
			return 1;
	return 0;
}

static int
has_alpha(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isalpha((unsigned char)s[i]))
			return 1;
	return 0;
}

static int
in_list(const char *const *list, const char *s, size_t n)
{
	int c0 = tolower((unsigned char)s[0]);

	/* The first letter first: this runs for many words of every line. */
	for (size_t i = 0; list[i] != NULL; i++)
		if (tolower((unsigned char)list[i][0]) == c0 &&
		    strlen(list[i]) == n && strncasecmp(list[i], s, n) == 0)
			return 1;
	return 0;
}

static int
is_name(const char *s, size_t n)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Mon", "Tue",
	    "Wed", "Thu", "Fri", "Sat", "Sun", NULL };

	return n == 3 && in_list(names, s, n);
}

/*
 * A level field of a header ("INFO", "[error]", "W", "<warn>"): its class
 * as one letter (E for ERROR, ERR, SEVERE and E), or 0.
 */
static int
level_class(const char *s, size_t n)
{
	static const char *const levels[] = { "TRACE", "DEBUG", "INFO",
	    "INFORMATION", "NOTICE", "WARN", "WARNING", "ERROR", "ERR",
	    "SEVERE", "CRIT", "CRITICAL", "FATAL", "ALERT", "EMERG",
	    "EMERGENCY", "VERBOSE", "FINE", "FINER", "FINEST", "CONFIG", NULL };
	static const char cls[] = "TDIINWWEEECCFAMMVDDDI";

	while (n > 0 && strchr("[<(", s[0]) != NULL)
		s++, n--;
	while (n > 0 && strchr("]>):", s[n - 1]) != NULL)
		n--;
	/* Level words in a header are written in capitals or Capitalized. */
	if (n == 0 || !isupper((unsigned char)s[0]))
		return 0;
	if (n == 1)
		return strchr("VDIWEFA", s[0]) != NULL ? s[0] : 0;
	for (size_t i = 0; levels[i] != NULL; i++)
		if (strlen(levels[i]) == n && strncasecmp(levels[i], s, n) == 0)
			return cls[i];
	return 0;
}

static int
is_level(const char *s, size_t n)
{
	return level_class(s, n) != 0;
}

/*
 * Words whose change is the news: a state or severity that differs makes
 * a different template ("link up" is not "link down").
 */
static int
is_state(const char *s)
{
	static const char *const states[] = {
		"ok", "okay", "error", "errors", "err", "fail", "failed",
		"failure", "failing", "success", "succeeded", "successful",
		"successfully", "warning", "warn", "critical", "crit", "fatal",
		"info", "notice", "debug", "alert", "emergency", "severe",
		"up", "down", "true", "false", "yes", "no", "on", "off",
		"enabled", "disabled", "enable", "disable", "open", "opened",
		"closed", "close", "started", "stopped", "start", "stop",
		"accepted", "rejected", "denied", "allowed", "granted",
		"online", "offline", "connected", "disconnected", "active",
		"inactive", "running", "timeout", "lost", "good", "bad", "pass",
		"passed", "valid", "invalid", "high", "low", "normal", "alarm",
		"degraded", "healthy", "unhealthy", "ready", "full", "empty",
		"idle", "alive", "dead", "reachable", "unreachable", "present",
		"absent", "missing", "attached", "detached", "mounted",
		"unmounted", "locked", "unlocked", "recovered", "restored",
		"ignored", "killed", "aborted", "refused", "expired",
		"corrected", "uncorrectable", "begin", "end", "starting",
		"stopping", "finished", "completed", NULL };
	size_t n = strlen(s), i;
	const char *eq = strrchr(s, '=');

	/* "force=false": the value is the state. */
	if (eq != NULL && eq > s && eq[1] != '\0') {
		s = eq + 1;
		n = strlen(s);
	}
	/* "down," and "(up)" are the same words. */
	while (n > 0 && strchr(",.;:)]!", s[n - 1]) != NULL)
		n--;
	while (n > 0 && strchr("([\"'", s[0]) != NULL)
		s++, n--;
	if (n >= 2 && n <= 14 && in_list(states, s, n))
		return 1;
	/* An enum constant in capitals (RUNNING, JOB_SETUP) is a state too. */
	if (n < 3)
		return 0;
	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* All hex digits and long enough to be an id, not a word ("deadbeef"). */
static int
is_hexid(const char *s, size_t n)
{
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return 1;
	if (n < 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != ':')
			return 0;
	return 1;
}

/* A host name: three or more labels, the last a short lower-case word
 * ("ns.example.com", "db-2.corp.local"); not a Java class (Capitalized). */
static int
is_hostname(const char *s, size_t n)
{
	size_t dots = 0, last = 0, i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '.') {
			if (i == 0 || s[i - 1] == '.')
				return 0;
			dots++;
			last = i + 1;
		} else if (!islower(ch) && !isdigit(ch) && ch != '-')
			return 0;
	}
	if (dots < 2 || n - last < 2 || n - last > 6)
		return 0;
	for (i = last; i < n; i++)
		if (!islower((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "db-2.corp.example.com:5432", "04DN8IQ.fareast.corp:54883": a dotted
 * host and a port; not "index:0" or "localhost:80" (no dot). */
static int
is_hostport(const char *s, size_t n)
{
	const char *c;
	size_t h, i;

	if (n < 4 || !isdigit((unsigned char)s[n - 1]) ||
	    (c = memrchr(s, ':', n)) == NULL || (h = (size_t)(c - s)) == 0 || n - h - 1 == 0 ||
	    n - h - 1 > 5 || memchr(s, '.', h) == NULL || s[0] == '.')
		return 0;
	for (i = h + 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	for (i = 0; i < h; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(".-_", s[i]) == NULL)
			return 0;
	return 1;
}

/* "user@example.com", "<a.b@c.org>": a word with "@" and a dot after it. */
static int
is_email(const char *s, size_t n)
{
	const char *at = n >= 5 ? memchr(s + 1, '@', n - 1) : NULL;

	return at != NULL && at + 1 < s + n &&
	    isalnum((unsigned char)at[1]) &&
	    memchr(at + 1, '.', n - (size_t)(at - s) - 1) != NULL;
}

/* A Windows path: "C:\Windows\x.dll", "\\server\share". */
static int
is_winpath(const char *s, size_t n)
{
	return (n > 3 && isalpha((unsigned char)s[0]) && s[1] == ':' &&
	    s[2] == '\\') || (n > 2 && s[0] == '\\' && s[1] == '\\');
}

/* ---- the header ------------------------------------------------------------ */

/* "sshd[42]:", "kernel:", "dfs.DataNode$PacketResponder:" - not "::" or "http:". */
static int
is_tag(const char *s, size_t n)
{
	if (n < 2 || s[n - 1] != ':' || s[n - 2] == ':' || !has_alpha(s, n))
		return 0;
	return 1;
}

static int
is_bracketed(const char *s, size_t n)
{
	return n >= 2 && ((s[0] == '[' && s[n - 1] == ']') ||
	    (s[0] == '<' && s[n - 1] == '>'));
}

/* Time-like, id-like or filler words before the message. */
static int
is_headerish(const char *s, size_t n)
{
	return has_digit(s, n) || is_name(s, n) || is_bracketed(s, n) ||
	    (n <= 2 && strspn(s, "-|:") == n);
}

/* A Java or Python logger name: dotted identifier ("nova.compute.manager"). */
static int
is_logger(const char *s, size_t n)
{
	size_t dots = 0;

	if (n < 3 || !isalpha((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (!is_word((unsigned char)s[i]) && s[i] != '$')
			return 0;
	}
	return dots > 0 && s[n - 1] != '.';
}

/* After a bracket group with spaces at w[i] ("[req-1 - - -]"), or i. */
static size_t
bracket_group(char **w, const size_t *wl, size_t n, size_t i)
{
	size_t j;

	if (i + 1 >= n || w[i][0] != '[' || memchr(w[i], ']', wl[i]) != NULL)
		return i;
	for (j = i + 1; j + 1 < n && j < i + 8 &&
	    memchr(w[j], ']', wl[j]) == NULL; j++)
		;
	return j + 1 < n && memchr(w[j], ']', wl[j]) != NULL ? j + 1 : i;
}

/*
 * How many leading words are header.  The header ends after a "program:"
 * tag that has at most one plain word (a host) before it, or after a level
 * word and what follows a level in the common layouts ("[thread]", "-",
 * a logger name with or without ':').  Leading time and id words alone are
 * header too.  At least one word is left for the message.
 */
static size_t
header_len(char **w, const size_t *wl, size_t n)
{
	size_t words = 0, end = 0, i;

	for (i = 0; i + 1 < n && i < HEADER_SCAN; i++) {
		const char *s = w[i];
		size_t l = wl[i];

		if (is_level(s, l) && (l > 1 || (i + 1 < n &&
		    is_tag(w[i + 1], wl[i + 1])))) {
			end = i + 1;
			while (end + 1 < n && (is_bracketed(w[end], wl[end]) ||
			    (wl[end] <= 2 && strspn(w[end], "-|:") == wl[end])))
				end++;
			end = bracket_group(w, wl, n, end);
			if (end + 1 < n && (is_tag(w[end], wl[end]) ||
			    is_logger(w[end], wl[end]))) {
				end++;
				/* OpenStack: "INFO nova.x [req-1 - - -] msg". */
				if (end + 1 < n && is_bracketed(w[end], wl[end]))
					end++;
				else
					end = bracket_group(w, wl, n, end);
			}
			while (end + 1 < n && wl[end] <= 2 &&
			    strspn(w[end], "-|:") == wl[end])
				end++;
			return end;
		}
		if (is_tag(s, l) && (words <= 1 || (words <= 2 &&
		    (memchr(s, '[', l) != NULL || memchr(s, '(', l) != NULL))))
			return i + 1;
		/* "host prog: msg", "host prog - msg"; first on the line only
		 * "prog - msg" or "prog *64 - msg" (Proxifier), where one word
		 * with a digit or in brackets may stand before the dash. */
		if (words <= 1 && !is_headerish(s, l) && i + 2 < n) {
			size_t d = i + 1;
			if (i == 0 && i + 3 < n && wl[d] > 1 &&
			    is_headerish(w[d], wl[d]))
				d++;
			if (wl[d] == 1 && (w[d][0] == '-' ||
			    (w[d][0] == ':' && i > 0)))
				return d + 1;
		}
		if (is_headerish(s, l)) {
			if (words == 0)
				end = i + 1;
			continue;
		}
		if (++words > 2)
			break;
	}
	return end;
}

/* ---- masking --------------------------------------------------------------- */

/* Append to the cut's buffer; returns the copy. */
static const char *
put(struct cut *c, const char *s, size_t n)
{
	char *p = c->buf + c->used;

	/* Masking at most doubles a word ("1,2" -> "<*>,<*>"), so 2048 bytes
	 * of line fit; should they not, the rest is one variable. */
	if (c->used + n + 1 > sizeof(c->buf)) {
		if (c->used + 4 > sizeof(c->buf))
			return MASK;
		n = sizeof(c->buf) - c->used - 1;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	if (n == 3 && memcmp(p, MASK, 3) == 0)
		return MASK;
	return p;
}

static int
state_value(const char *s, size_t n)
{
	char v[32];

	if (n >= sizeof(v) || memchr(s, '=', n) != NULL)
		return 0;
	memcpy(v, s, n);
	v[n] = '\0';
	return is_state(v);
}

/*
 * A path inside a word, after a bracket, "=" or ":" ("chdir(/p/a/b)",
 * "file=/var/x/y"): where it ends, or i when there is none.
 */
static size_t
inner_path(const char *s, size_t n, size_t i)
{
	size_t j;

	if (s[i] != '/' || i == 0 || strchr("([{=:,<", s[i - 1]) == NULL)
		return i;
	for (j = i + 1; j < n && strchr(")]}>,;\"'", s[j]) == NULL; j++)
		;
	return j > i + 2 && memchr(s + i + 1, '/', j - i - 2) != NULL ? j : i;
}

/* Mask one whitespace-free word into the cut; MASK when all of it varies. */
static const char *
mask_word(struct cut *c, const char *s, size_t n)
{
	char out[LINE_MAX_BYTES + 8];
	size_t o = 0, i = 0;
	int last_mask = 0;
	const char *eq = memchr(s, '=', n);

	if ((n > 1 && s[0] == '/' && memchr(s + 1, '/', n - 1) != NULL) ||
	    is_name(s, n) || is_hexid(s, n) || is_hostname(s, n) ||
	    is_winpath(s, n) || is_email(s, n) || is_hostport(s, n) ||
	    (n > 3 && memmem(s, n, "://", 3) != NULL) ||
	    (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]))
		return MASK;
	/* An empty value, or a host, address or path in brackets. */
	if (n >= 2 && ((s[0] == '(' && s[n - 1] == ')') ||
	    (s[0] == '[' && s[n - 1] == ']')) && (n == 2 ||
	    has_digit(s, n) || strpbrk(s, "./:") != NULL))
		return MASK;
	/* A name-like word with a digit is a variable as a whole (R02-M1-N0,
	 * host-12.example.com, job_1445_0020, 5ms, v1.2.3), and so is one with
 * an escape the sanitizer wrote for a control byte ("\x1b[H"). */
	if (has_digit(s, n) && (memchr(s, '\\', n) != NULL ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-+#@$") == n))
		return MASK;
	/* key=value: the key stays, the value is a variable unless it is a
	 * state ("force=false"). */
	if (eq != NULL && eq > s && (size_t)(eq - s) + 1 < n &&
	    !state_value(eq + 1, n - (size_t)(eq - s) - 1)) {
		size_t k = (size_t)(eq - s) + 1;
		memcpy(out, s, k);
		memcpy(out + k, MASK, 3);
		return put(c, out, k + 3);
	}
	/* In other words, each run of letters and digits holding a digit is
	 * masked, and masks joined by . : - / are one: "10.0.0.1:22" is <*>,
	 * "sshd[42]:" is "sshd[<*>]:", "index:0," is "index:<*>,". */
	while (i < n && o + 4 < sizeof(out)) {
		size_t p = inner_path(s, n, i);
		if (p > i) {
			/* "chdir(/p/gb2/t800)" is "chdir(<*>)". */
			memcpy(out + o, MASK, 3);
			o += 3;
			last_mask = 1;
			i = p;
		} else if (is_word((unsigned char)s[i]) ||
		    (s[i] == '-' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
			size_t j = i + 1;
			while (j < n && is_word((unsigned char)s[j]))
				j++;
			if (has_digit(s + i, j - i)) {
				if (last_mask && strchr(".:-/,", out[o - 1]) != NULL)
					o--;
				else {
					memcpy(out + o, MASK, 3);
					o += 3;
				}
				last_mask = 1;
			} else {
				/* Masks may have grown the word: the rest is
				 * cut where out ends. */
				size_t k = j - i < sizeof(out) - 4 - o ?
				    j - i : sizeof(out) - 4 - o;
				memcpy(out + o, s + i, k);
				o += k;
				last_mask = 0;
			}
			i = j;
		} else
			out[o++] = s[i++];
	}
	return put(c, out, o);
}

/*
 * A number as a word of its own: digits with . , : between them, after
 * at most two of "([<>~=+-" ("12", "18.4", "(5.05", "<1", "00:01").
 */
static int
is_number(const char *s, size_t n)
{
	size_t i = 0;

	/* Most words fail at the first or last byte: no strchr() for them. */
	if (n == 0 || isalpha((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[n - 1]))
		return 0;
	while (i < n && i < 2 && strchr("([<>~=+-", s[i]) != NULL)
		i++;
	if (i == n || !isdigit((unsigned char)s[i]))
		return 0;
	for (; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != ',' && s[i] != ':')
			return 0;
	return 1;
}

/*
 * A unit after a number ("KB", "ms", "bytes)", "sec,"): returns the length
 * of the unit name, the rest being closing punctuation, or 0.
 */
static size_t
unit_len(const char *s, size_t n)
{
	/* By first letter, so a word after a number costs a few compares. */
	static const char *const units[26] = {
		['b' - 'a'] = "|b|byte|bytes|bit|bits|bps|",
		['d' - 'a'] = "|day|days|",
		['g' - 'a'] = "|gb|gib|gbps|gb/s|ghz|",
		['h' - 'a'] = "|h|hr|hrs|hour|hours|hz|",
		['k' - 'a'] = "|kb|kib|kbps|kb/s|khz|",
		['m' - 'a'] = "|mb|mib|mbps|mb/s|mhz|ms|msec|msecs|millis|"
		    "milliseconds|microseconds|min|mins|minute|minutes|",
		['n' - 'a'] = "|ns|nsec|nsecs|nanoseconds|",
		['p' - 'a'] = "|pb|",
		['s' - 'a'] = "|s|sec|secs|second|seconds|",
		['t' - 'a'] = "|tb|tib|",
		['u' - 'a'] = "|us|usec|usecs|",
	};
	char key[16];
	size_t u = n, i;
	int c0;

	while (u > 0 && strchr(")]},;:.", s[u - 1]) != NULL)
		u--;
	if (u == 1 && s[0] == '%')
		return 1;
	if (u == 0 || u > 12 || !isalpha((unsigned char)s[0]))
		return 0;
	c0 = tolower((unsigned char)s[0]);
	if (c0 < 'a' || c0 > 'z' || units[c0 - 'a'] == NULL)
		return 0;
	key[0] = '|';
	for (i = 0; i < u; i++)
		key[i + 1] = (char)tolower((unsigned char)s[i]);
	key[u + 1] = '|';
	key[u + 2] = '\0';
	return strstr(units[c0 - 'a'], key) != NULL ? u : 0;
}

/*
 * "18846 bytes", "(18.4 KB)", "<1 sec", "5.2 KB,": a number and its unit
 * are one variable, so a size or a time written with one word more or less
 * does not make another template.  Returns the mask (with the punctuation
 * after the unit that is not closing a bracket the number opened), or NULL.
 */
static const char *
number_unit(struct cut *c, const char *num, size_t nl, const char *unit,
    size_t ul)
{
	size_t u, k;
	char out[8];

	if (!is_number(num, nl) || (u = unit_len(unit, ul)) == 0)
		return NULL;
	/* Closing brackets matched by the number's opening ones are eaten. */
	k = u;
	for (size_t i = 0; i < nl && k < ul && strchr("([", num[i]) != NULL; i++)
		if (unit[k] == (num[i] == '(' ? ')' : ']'))
			k++;
	if (k == ul)
		return MASK;
	if (ul - k > 4)
		return NULL;
	memcpy(out, MASK, 3);
	memcpy(out + 3, unit + k, ul - k);
	return put(c, out, 3 + ul - k);
}

/* Three to ten capitals: a verb or an enum ("GET", "POST"). */
static int
caps_word(const char *s, size_t n)
{
	if (n < 3 || n > 10)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Does the quoted span starting at word i end at word j?  Within 16 words. */
static size_t
quote_end(char **w, const size_t *wl, size_t n, size_t i)
{
	const char *q = w[i];
	char qc;

	if (q[0] != '"' && q[0] != '\'') {
		const char *eq = memchr(q, '=', wl[i]);
		if (eq == NULL || (size_t)(eq - q) + 1 >= wl[i] ||
		    (eq[1] != '"' && eq[1] != '\''))
			return 0;
		q = eq + 1;
	}
	qc = q[0];
	/* Opened here and not closed in the same word. */
	if (memchr(q + 1, qc, wl[i] - (size_t)(q - w[i]) - 1) != NULL)
		return 0;
	for (size_t j = i + 1; j < n && j <= i + 16; j++)
		if (memchr(w[j], qc, wl[j]) != NULL)
			return j;
	return 0;
}

/* A word ending a list item: "a," "(1," "[TERM,". */
static int
is_item(const char *s, size_t n)
{
	return n >= 2 && n <= 40 && s[n - 1] == ',' &&
	    memchr(s, '=', n) == NULL && memchr(s, ':', n) == NULL;
}

/*
 * Split, set the header aside, mask and collapse.  w/wl: the words of the
 * sanitized line; fields: w[0] is a "|"-separated header (split_fields).
 */
static void
cut_line(struct cut *c, char **w, size_t *wl, size_t n, int fields)
{
	size_t h = fields ? 1 : header_len(w, wl, n), i, j;

	c->ntok = 0;
	c->used = 0;
	memset(c->st, -1, sizeof(c->st));
	for (i = 0; i < h; i++)
		c->tok[c->ntok++] = mask_word(c, w[i], wl[i]);
	c->nhdr = c->ntok;
	for (i = h; i < n; i++) {
		const char *t;

		if (i + 1 == MAX_TOKENS && (memchr(w[i], ' ', wl[i]) != NULL ||
		    memchr(w[i], '\t', wl[i]) != NULL)) {
			/* The words past the limit: a long list, one variable. */
			t = MASK;
		} else if ((j = quote_end(w, wl, n, i)) > 0) {
			/* key="a b c" -> key=<*>; "a b c" -> <*> */
			const char *eq = w[i][0] == '"' || w[i][0] == '\'' ?
			    NULL : memchr(w[i], '=', wl[i]);
			if (eq != NULL) {
				char kb[LINE_MAX_BYTES + 8];
				size_t k = (size_t)(eq - w[i]) + 1;
				memcpy(kb, w[i], k);
				memcpy(kb + k, MASK, 3);
				t = put(c, kb, k + 3);
			} else if (caps_word(w[i] + 1, wl[i] - 1) &&
			    c->ntok + 1 < MAX_TOKENS) {
				/* "GET /x HTTP/1.1" -> "GET <*>: a verb in
				 * capitals leading a quoted request stays. */
				c->tok[c->ntok++] = put(c, w[i], wl[i]);
				t = MASK;
			} else
				t = MASK;
			i = j;
		} else if (is_item(w[i], wl[i]) && i + 2 < n &&
		    is_item(w[i + 1], wl[i + 1])) {
			/* Two or more items and the last: one list. */
			for (j = i + 1; j + 1 < n && is_item(w[j], wl[j]); j++)
				;
			t = MASK;
			i = j;
		} else if (i + 1 < n && (t = number_unit(c, w[i], wl[i],
		    w[i + 1], wl[i + 1])) != NULL)
			i++;
		else
			t = mask_word(c, w[i], wl[i]);
		/* Runs of variables are one variable, however long. */
		if (t == MASK && c->ntok > c->nhdr &&
		    c->tok[c->ntok - 1] == MASK)
			continue;
		c->tok[c->ntok++] = t;
	}
}

/* ---- the tree and the merge ------------------------------------------------- */

/* Letters, "_" and inner "-" or "'", with at most one ":" "," or ";" after. */
static int
plain_word(const char *s)
{
	size_t n = strlen(s), i;

	if (n > 0 && strchr(":,;", s[n - 1]) != NULL)
		n--;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalpha((unsigned char)s[i]) && s[i] != '_' &&
		    ((s[i] != '-' && s[i] != '\'') || i == 0 || i + 1 == n))
			return 0;
	return 1;
}

static uint64_t
hash_word(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;
}

static uint64_t
level_seed(const char *const *tok, size_t nhdr)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < nhdr; i++) {
		int lc = level_class(tok[i], strlen(tok[i]));
		if (lc != 0)
			h = (h ^ (unsigned)lc) * 1099511628211ull;
	}
	return h;
}

/* seed: level_seed() of the header, whose level stays a constant (INFO
 * and ERROR lines differ). */
static uint64_t
path_key(const struct pb_miner *m, const struct cut *c, uint64_t seed)
{
	uint64_t h = (seed ^ (uint64_t)(c->ntok - c->nhdr)) * 1099511628211ull;
	size_t i, k = 0;

	/* The first plain words choose the leaf; others (a dotted name, a
	 * call, a mask) are passed over, as Drain passes numbers, so
	 * "com.apple.a: told me" and "com.apple.b: told me" meet and the
	 * similarity decides.  A message without plain words uses its first
	 * words as they are. */
	for (i = c->nhdr; i < c->ntok && k < m->key_tokens; i++)
		if (plain_word(c->tok[i])) {
			h = hash_word(h, c->tok[i]);
			k++;
		}
	for (i = c->nhdr; k == 0 && i < c->ntok && i < c->nhdr + m->key_tokens; i++)
		h = hash_word(h, c->tok[i]);
	return h;
}

/*
 * The skeleton of a message: its constant words in order, each run of
 * variables counted as one, and the header's level class.  Templates with
 * equal skeletons differ only in how many variables stand somewhere
 * ("<*> bytes sent" and "<*> bytes <*> sent" do not; "sent <*>" and
 * "sent <*> <*>" do).
 */
static uint64_t
skeleton(uint64_t h, const char *const *tok, size_t ntok, size_t nhdr)
{
	size_t i;

	for (i = nhdr; i < ntok; i++) {
		if (tok[i] == MASK && i > nhdr && tok[i - 1] == MASK)
			continue;
		h = hash_word(h, tok[i]);
	}
	return h;
}

/* The same skeleton word by word (the hashes agree). */
static int
same_skeleton(const struct tmpl *t, const struct cut *c)
{
	size_t i = t->nhdr, j = c->nhdr;

	while (i < t->ntok && j < c->ntok) {
		if (t->tok[i] == MASK || c->tok[j] == MASK) {
			if (t->tok[i] != c->tok[j])
				return 0;
			while (i < t->ntok && t->tok[i] == MASK)
				i++;
			while (j < c->ntok && c->tok[j] == MASK)
				j++;
		} else if (strcmp(t->tok[i++], c->tok[j++]) != 0)
			return 0;
	}
	return i == t->ntok && j == c->ntok;
}

static void
skel_link(struct pb_miner *m, long id)
{
	struct tmpl *t = &m->t[id];
	uint32_t b;

	t->skel = skeleton(t->lvseed, t->tok, t->ntok, t->nhdr);
	b = (uint32_t)(t->skel % BUCKETS);
	t->snext = m->sbucket[b];
	m->sbucket[b] = id;
}

static void
skel_unlink(struct pb_miner *m, long id)
{
	long *p = &m->sbucket[m->t[id].skel % BUCKETS];

	while (*p >= 0 && *p != id)
		p = &m->t[*p].snext;
	if (*p == id)
		*p = m->t[id].snext;
}

/* "rhost=" and "rhost=<*>": a value missing is not a value that varies. */
static int
empty_value(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > lb)
		return empty_value(b, a);
	return la >= 2 && a[la - 1] == '=' && lb > la &&
	    memcmp(a, b, la) == 0;
}

/* Share of equal message words, or -1 when a state word differs or a
 * key's value is there in one and not in the other. */
/* is_state() of the line's word i, worked out once per line. */
static int
cut_state(struct cut *c, size_t i)
{
	if (c->st[i] < 0)
		c->st[i] = (signed char)is_state(c->tok[i]);
	return c->st[i];
}

static double
similarity(const struct tmpl *t, struct cut *c)
{
	size_t same = 0, n = c->ntok - c->nhdr;

	for (size_t i = 0; i < n; i++) {
		const char *a = t->tok[t->nhdr + i], *b = c->tok[c->nhdr + i];
		if (a == MASK || strcmp(a, b) == 0)
			same++;
		else if (((t->states >> i) & 1) || cut_state(c, c->nhdr + i) ||
		    empty_value(a, b))
			return -1;
	}
	return (double)same / (double)n;
}

/* Returns whether a message word became a variable. */
static int
merge(struct tmpl *t, const struct cut *c)
{
	size_t i;
	int changed = 0;

	for (i = 0; i < c->ntok - c->nhdr; i++) {
		const char **a = &t->tok[t->nhdr + i];
		if (*a != MASK && strcmp(*a, c->tok[c->nhdr + i]) != 0) {
			*a = MASK;
			t->states &= ~((uint64_t)1 << i);
			changed = 1;
		}
	}
	/* The header is shown only: mask what differs, or all of it. */
	if (t->nhdr == c->nhdr) {
		for (i = 0; i < t->nhdr; i++)
			if (t->tok[i] != MASK && strcmp(t->tok[i], c->tok[i]) != 0)
				t->tok[i] = MASK;
	} else if (t->nhdr > 0) {
		t->tok[0] = MASK;
		memmove(&t->tok[1], &t->tok[t->nhdr],
		    (t->ntok - t->nhdr) * sizeof(t->tok[0]));
		t->ntok -= t->nhdr - 1;
		t->nhdr = 1;
	}
	return changed;
}

static long
create(struct pb_miner *m, const struct cut *c, uint64_t key, uint32_t b,
    uint64_t seed)
{
	struct tmpl *t;
	size_t i, len = 0;
	char *p;

	if (m->n == m->max)
		return -1;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct tmpl *nt;
		if (cap > m->max)
			cap = m->max;
		if ((nt = realloc(m->t, cap * sizeof(*nt))) == NULL)
			return -1;
		m->t = nt;
		m->cap = cap;
	}
	for (i = 0; i < c->ntok; i++)
		if (c->tok[i] != MASK)
			len += strlen(c->tok[i]) + 1;
	t = &m->t[m->n];
	memset(t, 0, sizeof(*t));
	if ((t->buf = p = malloc(len ? len : 1)) == NULL)
		return -1;
	for (i = 0; i < c->ntok; i++) {
		if (c->tok[i] == MASK) {
			t->tok[i] = MASK;
			continue;
		}
		size_t l = strlen(c->tok[i]) + 1;
		memcpy(p, c->tok[i], l);
		t->tok[i] = p;
		p += l;
	}
	t->ntok = c->ntok;
	t->nhdr = c->nhdr;
	for (i = c->nhdr; i < c->ntok; i++)
		if (c->tok[i] != MASK && is_state(c->tok[i]))
			t->states |= (uint64_t)1 << (i - c->nhdr);
	t->key = key;
	t->lvseed = seed;
	t->hits = 1;
	t->level = PB_SEV_INFO;
	t->first = t->last = t->rate_t = PB_TIME_NONE;
	t->next = m->bucket[b];
	m->bucket[b] = (long)m->n;
	skel_link(m, (long)m->n);
	return (long)m->n++;
}

static long
add(struct pb_miner *m, struct cut *c)
{
	long best = -1, id;
	double bsim = -1, s;
	size_t inleaf = 0;
	uint64_t key, seed, sk;
	uint32_t b;

	if (c->ntok == c->nhdr)
		return -1;
	seed = level_seed(c->tok, c->nhdr);
	key = path_key(m, c, seed);
	b = (uint32_t)(key % BUCKETS);
	/* At most LEAF_MAX of the leaf's templates are tried, the newest
	 * (chains are newest first): a leaf outgrows that only with lines
	 * none may take (a state word differs: "state AAAB"), and those must
	 * not make each line cost the whole leaf.  A line seen before still
	 * finds its older template by skeleton below. */
	for (id = m->bucket[b]; id >= 0 && inleaf < LEAF_MAX;
	    id = m->t[id].next) {
		const struct tmpl *t = &m->t[id];
		if (t->key != key || t->ntok - t->nhdr != c->ntok - c->nhdr)
			continue;
		inleaf++;
		s = similarity(t, c);
		if (s > bsim) {
			bsim = s;
			best = id;
		}
	}
	/* A full leaf takes the line into its closest template (Drain's
	 * maxChild): the time per line stays bounded. */
	if (best >= 0 && bsim >= m->similarity)
		goto join;
	/* Drain's second, length-insensitive pass, kept strict: a template
	 * with the same constants in the same order, differing only in how
	 * long a run of variables is, takes the line as it is. */
	sk = skeleton(seed, c->tok, c->ntok, c->nhdr);
	for (id = m->sbucket[sk % BUCKETS]; id >= 0; id = m->t[id].snext)
		if (m->t[id].skel == sk && same_skeleton(&m->t[id], c)) {
			m->t[id].hits++;
			return id;
		}
	if (best >= 0 && inleaf >= LEAF_MAX && bsim >= 0)
		goto join;
	return create(m, c, key, b, seed);
join:
	if (merge(&m->t[best], c)) {
		skel_unlink(m, best);
		skel_link(m, best);
	}
	m->t[best].hits++;
	return best;
}

/* ---- the API --------------------------------------------------------------- */

/*
 * Keep what the ranking needs, in constant space per template: the worst
 * level, the first and last time, and a hit rate that decays by e every
 * BURST_TAU_MS.  Its highest value is roughly the most hits in any minute
 * (n hits at once give n; the same n spread over a day give about 1).
 * Lines from several files may come out of time order: a line older than
 * the last one counts as if it came at that time.
 */
static void
record(struct tmpl *t, enum pb_severity level, int64_t t_ms)
{
	if ((unsigned)level < (unsigned)t->level)
		t->level = level;
	if (t_ms == PB_TIME_NONE)
		return;
	if (t->first == PB_TIME_NONE || t_ms < t->first)
		t->first = t_ms;
	if (t->last == PB_TIME_NONE || t_ms > t->last)
		t->last = t_ms;
	if (t->rate_t != PB_TIME_NONE && t_ms > t->rate_t)
		t->rate *= exp(-(double)(t_ms - t->rate_t) / BURST_TAU_MS);
	if (t->rate_t == PB_TIME_NONE || t_ms > t->rate_t)
		t->rate_t = t_ms;
	t->rate += 1.0;
	if (t->rate > t->peak)
		t->peak = t->rate;
	t->timed++;
}

/*
 * "time|component|pid|message": when the first word holds two or more
 * "|", what follows the last one is the message's first word and what
 * comes before it is the whole header.  Returns whether it split.
 */
static int
split_fields(char **w, size_t *wl, size_t *n)
{
	const char *bar = memchr(w[0], '|', wl[0]), *last;
	size_t k;

	if (bar == NULL || *n >= MAX_TOKENS ||
	    memchr(bar + 1, '|', wl[0] - (size_t)(bar - w[0]) - 1) == NULL)
		return 0;
	last = memrchr(w[0], '|', wl[0]);
	k = (size_t)(last - w[0]) + 1;
	if (k == wl[0] || k < 2)
		return 0;
	memmove(&w[1], &w[0], *n * sizeof(w[0]));
	memmove(&wl[1], &wl[0], *n * sizeof(wl[0]));
	w[1] = w[0] + k;
	wl[1] = wl[0] - k;
	/* The last "|" ends the header word: words stay C strings. */
	w[0][k - 1] = '\0';
	wl[0] = k - 1;
	(*n)++;
	return 1;
}

long
pb_miner_add(struct pb_miner *m, const char *raw, size_t rawlen)
{
	return pb_miner_add_ev(m, raw, rawlen, PB_SEV_INFO, PB_TIME_NONE);
}

long
pb_miner_add_ev(struct pb_miner *m, const char *raw, size_t rawlen,
    enum pb_severity level, int64_t t_ms)
{
	/* Per-thread scratch, so a line costs no allocation. */
	static __thread char line[LINE_MAX_BYTES * 4 + 1];
	static __thread struct cut c;
	char *w[MAX_TOKENS];
	size_t wl[MAX_TOKENS], n = 0, i = 0, j, len, off = 0;
	long id;
	int fields;

	/* The timestamp says nothing about the message: skip it. */
	if (pb_time_parse_end(raw, rawlen, 0, &off) != PB_TIME_NONE &&
	    off <= rawlen) {
		while (off < rawlen && (raw[off] == ']' || raw[off] == ' '))
			off++;
		raw += off;
		rawlen -= off;
	}
	/* Templates are shown and written as JSON: work on safe text. */
	pb_sanitize_into(raw, rawlen < LINE_MAX_BYTES ? rawlen : LINE_MAX_BYTES,
	    line);
	len = strlen(line);
	if (len > LINE_MAX_BYTES)
		len = LINE_MAX_BYTES;	/* escapes may have grown it */
	/* Words at white space; the last takes any excess. */
	while (i < len) {
		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i == len)
			break;
		j = i;
		while (j < len && (n == MAX_TOKENS - 1 ||
		    !isspace((unsigned char)line[j])))
			j++;
		w[n] = line + i;
		wl[n++] = j - i;
		line[j] = '\0';
		i = j + 1;
	}
	if (n == 0)
		return -1;
	fields = split_fields(w, wl, &n);
	cut_line(&c, w, wl, n, fields);
	if ((id = add(m, &c)) >= 0)
		record(&m->t[id], level, t_ms);
	return id;
}

const char *
pb_miner_text(const struct pb_miner *m, long id)
{
	static __thread char out[LINE_MAX_BYTES * 2];
	size_t o = 0, n;

	if (id < 0 || (size_t)id >= m->n)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < m->t[id].ntok; i++) {
		n = strlen(m->t[id].tok[i]);
		if (o + n + 2 >= sizeof(out))
			break;
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, m->t[id].tok[i], n);
		o += n;
		out[o] = '\0';
	}
	return out;
}

size_t pb_miner_count(const struct pb_miner *m) { return m->n; }

uint64_t
pb_miner_hits(const struct pb_miner *m, long id)
{
	return id >= 0 && (size_t)id < m->n ? m->t[id].hits : 0;
}

void
pb_miner_set_example(struct pb_miner *m, long id, const char *file,
    uint64_t lineno, const char *line, size_t len)
{
	struct tmpl *t = &m->t[id];

	free(t->example);
	t->example = pb_sanitize(line, len < EXAMPLE_BYTES ? len : EXAMPLE_BYTES);
	t->file = file;
	t->lineno = lineno;
}

const char *
pb_miner_example(const struct pb_miner *m, long id, const char **file,
    uint64_t *lineno)
{
	*file = m->t[id].file;
	*lineno = m->t[id].lineno;
	return m->t[id].example != NULL ? m->t[id].example : "";
}

static const struct tmpl *
get(const struct pb_miner *m, long id)
{
	return id >= 0 && (size_t)id < m->n ? &m->t[id] : NULL;
}

enum pb_severity
pb_miner_level(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);

	return t != NULL ? t->level : PB_SEV_INFO;
}

int64_t
pb_miner_first(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);

	return t != NULL ? t->first : PB_TIME_NONE;
}

int64_t
pb_miner_last(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);

	return t != NULL ? t->last : PB_TIME_NONE;
}

/*
 * salience = (4 - level) + 0.49 * rarity + 0.49 * burst, in [0, 5):
 *   level   0 critical .. 4 info, the worst seen; a step of it outweighs
 *           the rest, so severity ranks first;
 *   rarity  1 / (1 + log10(hits)): 1 for a single line, 0.2 for 10000;
 *   burst   peak / timed: the most hits in about a minute (the decayed
 *           rate above) over the hits that had a time; 1 when they all
 *           came together, near 0 when spread out; 0 without times.
 * Unknown ids get 0.
 */
double
pb_miner_salience(const struct pb_miner *m, long id)
{
	const struct tmpl *t = get(m, id);
	double rarity, burst;

	if (t == NULL)
		return 0.0;
	rarity = 1.0 / (1.0 + log10((double)(t->hits ? t->hits : 1)));
	burst = t->timed ? t->peak / (double)t->timed : 0.0;
	if (burst > 1.0)
		burst = 1.0;
	return (double)(PB_SEV_INFO - t->level) + 0.49 * rarity + 0.49 * burst;
}

static const struct pb_miner *sort_m;	/* qsort has no context argument */

static int
rank_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	double sx = pb_miner_salience(sort_m, x), sy = pb_miner_salience(sort_m, y);

	if (sx != sy)
		return sx < sy ? 1 : -1;
	if (sort_m->t[x].hits != sort_m->t[y].hits)
		return sort_m->t[x].hits < sort_m->t[y].hits ? 1 : -1;
	return x < y ? -1 : 1;
}

void
pb_miner_sort(struct pb_miner *m)
{
	free(m->rank);
	m->nrank = 0;
	if ((m->rank = calloc(m->n ? m->n : 1, sizeof(*m->rank))) == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		m->rank[i] = (long)i;
	sort_m = m;
	qsort(m->rank, m->n, sizeof(*m->rank), rank_cmp);
	m->nrank = m->n;
}

long
pb_miner_rank(const struct pb_miner *m, size_t i)
{
	return i < m->nrank ? m->rank[i] : -1;
}
