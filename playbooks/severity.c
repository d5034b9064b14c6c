/*
 * severity.c - how bad does a log line say it is?
 *
 * Two sources, in this order (triage(1), UNKNOWN LINES):
 *   1. an explicit level field: syslog PRI "<NN>", journald PRIORITY=N,
 *      single-letter levels (logcat "E/Tag(", klog "E0928 ", logcat
 *      threadtime " E "), a level word in level position ("ERROR",
 *      "[error]", "level=error", "\"level\":\"error\"", "daemon.err",
 *      the first word after a timestamp such as a Windows "Error" column,
 *      "prog: error:"; localized Windows/PostgreSQL names like "Fehler",
 *      logrus' "ERRO[0000]", X.733 alarm "severity: major" after a key),
 *      "[E]", numeric "\"level\":50" (pino) and "<Level>2</Level>"
 *      (Windows XML).  It decides, whatever the text says: an INFO line
 *      that says "failed" is only LOW, a DEBUG line stays DEBUG.
 *   2. a lexicon of failure phrases ("not responding", "no free", "timed
 *      out", "denied", ...), each with a level, guarded against the usual
 *      false positives: the word inside a name (libgpg-error0, error.log,
 *      ErrorHandler, --on-failure), counted zero ("0 errors", "errors: 0"),
 *      negated ("not failed", "no errors", "without error"), a
 *      configuration key ("error_log = ..", "timeout=30"), a word that
 *      names an error class ("error handler", "error log level"), a key
 *      set to nothing ("\"failed\": false"), and test-suite PASS lines.
 *      Some phrases also count as a part of a CamelCase name
 *      ("DegradedArray", "OOMKilled"), the guards applied to the name.
 * A record spread over lines (Windows event text exports) lends its level
 * field to its text's first line (pb_severity_record, match.c).
 * The prefilter literals that gate the judgement (pb_severity_literals)
 * cover every way a line can be judged LOW or worse, so lines without any
 * of them are skipped before this file is ever called.
 */
#include <string.h>

#include "internal.h"

#define LEVEL_SCAN	200	/* level fields sit in a line's head */
#define LEX_SCAN	2048	/* phrases are looked for this far */

/* ---- explicit level fields --------------------------------------------- */

enum {
	LV_KEYED = 1,	/* only after a level key or in brackets */
};

struct lvword {
	const char	*w;
	int		 sev;
	int		 flags;
};

static const struct lvword lvwords[] = {
	{ "emerg", PB_SEV_CRITICAL, 0 }, { "emergency", PB_SEV_CRITICAL, 0 },
	{ "alert", PB_SEV_CRITICAL, 0 }, { "panic", PB_SEV_CRITICAL, 0 },
	{ "crit", PB_SEV_CRITICAL, 0 }, { "critical", PB_SEV_CRITICAL, 0 },
	{ "fatal", PB_SEV_CRITICAL, 0 }, { "severe", PB_SEV_HIGH, 0 },
	{ "err", PB_SEV_HIGH, 0 }, { "error", PB_SEV_HIGH, 0 },
	{ "fault", PB_SEV_HIGH, 0 },	/* macOS log type, worse than Error */
	{ "warn", PB_SEV_MEDIUM, 0 }, { "warning", PB_SEV_MEDIUM, 0 },
	{ "notice", PB_SEV_INFO, 0 }, { "info", PB_SEV_INFO, 0 },
	{ "information", PB_SEV_INFO, 0 }, { "informational", PB_SEV_INFO, 0 },
	{ "verbose", PB_LINE_DEBUG, 0 },
	{ "debug", PB_LINE_DEBUG, 0 }, { "trace", PB_LINE_DEBUG, 0 },
	/* logrus' text format cuts levels to four letters: "ERRO[0000]" */
	{ "erro", PB_SEV_HIGH, 0 }, { "fata", PB_SEV_CRITICAL, 0 },
	{ "pani", PB_SEV_CRITICAL, 0 }, { "debu", PB_LINE_DEBUG, 0 },
	/* the level names of localized Windows event logs (Event Viewer's
	 * Level column, LevelDisplayName) and of PostgreSQL's translated
	 * messages: German, French, Spanish, Italian, Dutch, Portuguese (the
	 * ASCII ones; "Crítico" is not matched) */
	{ "kritisch", PB_SEV_CRITICAL, 0 }, { "critique", PB_SEV_CRITICAL, 0 },
	{ "critico", PB_SEV_CRITICAL, 0 }, { "kritiek", PB_SEV_CRITICAL, 0 },
	{ "panik", PB_SEV_CRITICAL, 0 },
	{ "fehler", PB_SEV_HIGH, 0 }, { "erreur", PB_SEV_HIGH, 0 },
	{ "errore", PB_SEV_HIGH, 0 }, { "fout", PB_SEV_HIGH, 0 },
	{ "warnung", PB_SEV_MEDIUM, 0 }, { "avertissement", PB_SEV_MEDIUM, 0 },
	{ "advertencia", PB_SEV_MEDIUM, 0 }, { "avviso", PB_SEV_MEDIUM, 0 },
	{ "aviso", PB_SEV_MEDIUM, 0 }, { "waarschuwing", PB_SEV_MEDIUM, 0 },
	{ "informationen", PB_SEV_INFO, 0 }, { "informazioni", PB_SEV_INFO, 0 },
	{ "informatie", PB_SEV_INFO, 0 }, { "hinweis", PB_SEV_INFO, 0 },
	/* alarm severities (ITU-T X.733 perceived severity, as in Cisco,
	 * Juniper and SNMP alarm tables): words elsewhere ("major version"),
	 * so only after a severity key or in brackets */
	{ "major", PB_SEV_HIGH, LV_KEYED }, { "minor", PB_SEV_MEDIUM, LV_KEYED },
	{ "cleared", PB_SEV_INFO, LV_KEYED },
};

/* syslog(3) severities 0..7 */
static const int pri_sev[8] = {
	PB_SEV_CRITICAL, PB_SEV_CRITICAL, PB_SEV_CRITICAL, PB_SEV_HIGH,
	PB_SEV_MEDIUM, PB_SEV_INFO, PB_SEV_INFO, PB_LINE_DEBUG
};

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "local0", "local1", "local2",
	"local3", "local4", "local5", "local6", "local7", "security", NULL
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
alnum(int c)
{
	return alpha(c) || digit(c);
}

/* Case-insensitive: does s[0..n) equal the lower-case word w? */
static int
eqword(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n && w[i]; i++)
		if (lower((unsigned char)s[i]) != (unsigned char)w[i])
			return 0;
	return i == n && w[i] == '\0';
}

/* A single-letter level: V D I W E F A. */
static int
letter_sev(int c)
{
	switch (c) {
	case 'V': case 'D': return PB_LINE_DEBUG;
	case 'I': return PB_SEV_INFO;
	case 'W': return PB_SEV_MEDIUM;
	case 'E': return PB_SEV_HIGH;
	case 'F': case 'A': return PB_SEV_CRITICAL;
	default: return PB_LINE_NONE;
	}
}

/* "<NN>" at the head (RFC 3164/5424, the kernel's printk prefix). */
static int
pri_level(const char *s, size_t n)
{
	size_t i = 1;
	unsigned v = 0;

	if (n < 3 || s[0] != '<')
		return PB_LINE_NONE;
	while (i < n && i < 4 && digit((unsigned char)s[i]))
		v = v * 10 + (unsigned)(s[i++] - '0');
	if (i == 1 || i >= n || s[i] != '>' || v > 191)
		return PB_LINE_NONE;
	return pri_sev[v & 7];
}

/* journald: PRIORITY=N (export format) or "PRIORITY":"N" (JSON). */
static int
journald_level(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	while ((p = memmem(p, (size_t)(end - p), "PRIORITY", 8)) != NULL) {
		p += 8;
		while (p < end && (*p == '"' || *p == '=' || *p == ':' ||
		    *p == ' '))
			p++;
		if (p < end && *p >= '0' && *p <= '7' &&
		    (p + 1 == end || !digit((unsigned char)p[1])))
			return pri_sev[*p - '0'];
	}
	return PB_LINE_NONE;
}

/* Single letters at the head: logcat "E/Tag(", klog/glog "E0928 ". */
static int
letter_head(const char *s, size_t n)
{
	int sev;

	if (n < 3 || (sev = letter_sev((unsigned char)s[0])) == PB_LINE_NONE)
		return PB_LINE_NONE;
	if (s[1] == '/' && alnum((unsigned char)s[2]))
		return sev;
	if (n > 6 && digit((unsigned char)s[1]) && digit((unsigned char)s[2]) &&
	    digit((unsigned char)s[3]) && digit((unsigned char)s[4]) &&
	    s[5] == ' ' && strchr("IWEF", s[0]) != NULL)
		return sev;
	return PB_LINE_NONE;
}

/*
 * logcat threadtime: "MM-DD HH:MM:SS.mmm  PID  TID E Tag: text" (also with
 * the year) - a letter between spaces after a number, with nothing but
 * the time, pid and tid (digits, spaces, - : .) before it.  A letter
 * after words is a word: "2 A records", "5 W jobs".
 */
static int
letter_threadtime(const char *s, size_t n)
{
	size_t colons = 0;

	if (n < 8 || !digit((unsigned char)s[0]))
		return PB_LINE_NONE;
	if (n > 64)
		n = 64;
	for (size_t i = 1; i + 2 < n; i++) {
		int c = (unsigned char)s[i - 1];
		if (c == ':')
			colons++;
		else if (!digit(c) && c != ' ' && c != '-' && c != '.')
			return PB_LINE_NONE;
		if (i >= 2 && colons >= 2 && c == ' ' && s[i + 1] == ' ' &&
		    digit((unsigned char)s[i - 2]) &&
		    letter_sev((unsigned char)s[i]) != PB_LINE_NONE &&
		    alnum((unsigned char)s[i + 2]))
			return letter_sev((unsigned char)s[i]);
	}
	return PB_LINE_NONE;
}

/* A bracketed letter among the first fields: "[E] ...", "10:00:01 [W] x" */
static int
letter_bracket(const char *s, size_t n)
{
	if (n > LEVEL_SCAN)
		n = LEVEL_SCAN;
	for (size_t i = 0; i + 2 < n; i++) {
		int c = (unsigned char)s[i + 1];
		if (s[i] != '[' || s[i + 2] != ']' || c == 'A' ||
		    letter_sev(c) == PB_LINE_NONE)
			continue;
		/* in the head: at the start, or after a stamp, a "prog:" or
		 * another bracket; not "drive [D] failed" */
		if ((i == 0 || s[i - 1] == ']' || ((s[i - 1] == ' ' ||
		    s[i - 1] == '\t') && i > 1 && (s[i - 2] == ':' ||
		    s[i - 2] == ']' || s[i - 2] == ')' ||
		    digit((unsigned char)s[i - 2])))) && (i + 3 == n ||
		    s[i + 3] == ' ' || s[i + 3] == ':' || s[i + 3] == '[' ||
		    s[i + 3] == '\t'))
			return letter_sev(c);
	}
	return PB_LINE_NONE;
}

/* Windows event levels (winmeta.xml), 0 log-always saying nothing */
static const int win_level[6] = {
	PB_LINE_NONE, PB_SEV_CRITICAL, PB_SEV_HIGH, PB_SEV_MEDIUM,
	PB_SEV_INFO, PB_LINE_DEBUG
};

/*
 * Numbers after a level key: bunyan and pino JSON ("level":50; 10 trace,
 * 20 debug, 30 info, 40 warn, 50 error, 60 fatal) and Windows event XML
 * ("<Level>2</Level>"; winmeta.xml: 1 critical, 2 error, 3 warning, 4
 * information, 5 verbose, 0 log-always says nothing).
 */
static int
numeric_level(const char *s, size_t n)
{
	static const int pino[7] = {
		PB_LINE_NONE, PB_LINE_DEBUG, PB_LINE_DEBUG, PB_SEV_INFO,
		PB_SEV_MEDIUM, PB_SEV_HIGH, PB_SEV_CRITICAL
	};
	const char *p, *end = s + n;

	if ((p = memmem(s, n, "\"level\":", 8)) != NULL && end - p >= 10 &&
	    p[8] >= '1' && p[8] <= '6' && p[9] == '0' &&
	    (end - p == 10 || !digit((unsigned char)p[10])))
		return pino[p[8] - '0'];
	if ((p = memmem(s, n, "<Level>", 7)) != NULL && end - p >= 16 &&
	    p[7] >= '0' && p[7] <= '5' && memcmp(p + 8, "</Level>", 8) == 0)
		return win_level[p[7] - '0'];
	return PB_LINE_NONE;
}

/* Is the key before s[i] (skipping = : " ' and spaces) a level key? */
static int
after_level_key(const char *s, size_t i)
{
	static const char *const keys[] = {
		"level", "severity", "lvl", "loglevel", "levelname",
		"log_level", "log.level", "sev", "priority", NULL
	};
	size_t j = i, k, skipped = 0;

	while (j > 0 && skipped < 4 && strchr("=:\"' ", s[j - 1]) != NULL &&
	    s[j - 1] != '\0')
		j--, skipped++;
	if (skipped == 0 || (s[j] != '=' && s[j] != ':' && s[j] != '"' &&
	    s[j] != '\''))
		return 0;
	for (k = 0; keys[k] != NULL; k++) {
		size_t l = strlen(keys[k]);
		if (j >= l && eqword(s + j - l, l, keys[k]) &&
		    (j == l || !alnum((unsigned char)s[j - l - 1])))
			return 1;
	}
	return 0;
}

/* "daemon.err", "kern.warning": a syslog facility before the dot. */
static int
after_facility(const char *s, size_t i)
{
	size_t j;

	if (i < 3 || s[i - 1] != '.')
		return 0;
	for (j = i - 1; j > 0 && alnum((unsigned char)s[j - 1]); j--)
		;
	for (size_t k = 0; facilities[k] != NULL; k++)
		if (eqword(s + j, i - 1 - j, facilities[k]))
			return 1;
	return 0;
}

/*
 * Letters that belong to a timestamp, at s[k] (before n): ISO 8601's "T"
 * between date and time and "Z" after it, "AM"/"PM", "UTC"/"GMT".  Returns
 * the end of them, or k.
 */
static size_t
stamp_letters(const char *s, size_t n, size_t k)
{
	size_t t = k;

	while (t < n && alpha((unsigned char)s[t]))
		t++;
	if (t == k || k == 0 || (!digit((unsigned char)s[k - 1]) &&
	    s[k - 1] != ' '))
		return k;
	if (t - k == 1 && digit((unsigned char)s[k - 1]) && ((s[k] == 'T' &&
	    t < n && digit((unsigned char)s[t])) || s[k] == 'Z'))
		return t;
	if (s[k - 1] == ' ' && (t == n || !alnum((unsigned char)s[t]))) {
		static const char *const marks[] = { "AM", "PM", "UTC", "GMT",
		    NULL };
		for (size_t m = 0; marks[m] != NULL; m++)
			if (strlen(marks[m]) == t - k &&
			    memcmp(s + k, marks[m], t - k) == 0)
				return t;
	}
	return k;
}

/* After a level key or in brackets: "severity: major", "[minor]". */
static int
keyed_position(const char *s, size_t n, size_t i, size_t e)
{
	char before = i > 0 ? s[i - 1] : '\0', after = e < n ? s[e] : '\0';

	if ((before == '[' || before == '<' || before == '(') &&
	    (after == ']' || after == '>' || after == ')'))
		return 1;
	return after_level_key(s, i);
}

/*
 * Is the word s[i..e) in level position?  Upper case anywhere in the head;
 * bracketed ("[error]", "<Error>", "[core:error]"); after a level key or
 * a facility; the first word after a timestamp (everything before it is
 * digits and punctuation: a Windows "Error" column); or "prog: error:".
 */
static int
level_position(const char *s, size_t n, size_t i, size_t e)
{
	int up = 1;
	char before = i > 0 ? s[i - 1] : '\0', after = e < n ? s[e] : '\0';

	for (size_t k = i; k < e; k++)
		if (!(s[k] >= 'A' && s[k] <= 'Z'))
			up = 0;
	/* capitals anywhere, but not ALERT or PANIC: in capitals those are
	 * words ("SERVICE ALERT: web01;HTTP;OK"), not levels */
	if (up && e - i >= 3 && !eqword(s + i, e - i, "alert") &&
	    !eqword(s + i, e - i, "panic") && (after == '\0' || after == ' ' ||
	    after == ':' || after == ']' || after == '>' || after == '|' ||
	    after == ',' || after == '\t' || after == ')' || after == '"' ||
	    after == ';' || after == '['))	/* logrus "ERRO[0000]" */
		return 1;
	if ((before == '[' || before == '<' || before == '(' || before == ':' ||
	    before == '|') && (after == ']' || after == '>' || after == ')' ||
	    after == '|'))
		return 1;
	/* a field of a list: MikroTik topics "system,error,critical",
	 * Nagios "web01;HTTP;CRITICAL;HARD" */
	if ((before == ',' && (after == ',' || after == ' ')) ||
	    (before == ';' && after == ';'))
		return 1;
	if (after_level_key(s, i) || after_facility(s, i))
		return 1;
	/* first word, after nothing but a timestamp and hexadecimal ids
	 * (macOS `log show`: "... 0x1a2b  Error  0x0  123  0  kernel:") */
	{
		size_t k = 0, t;
		while (k < i) {
			if ((t = stamp_letters(s, i, k)) > k) {
				k = t;
				continue;
			}
			if (s[k] == '0' && k + 1 < i && s[k + 1] == 'x' &&
			    (k == 0 || !alnum((unsigned char)s[k - 1]))) {
				for (k += 2; k < i && (digit((unsigned char)s[k]) ||
				    (lower((unsigned char)s[k]) >= 'a' &&
				    lower((unsigned char)s[k]) <= 'f')); k++)
					;
				continue;
			}
			if (alpha((unsigned char)s[k]))
				break;
			k++;
		}
		if (k == i && (after == ' ' || after == ':' || after == ',' ||
		    after == '\t' || after == '\0'))
			return 1;
	}
	/* "prog[pid]: error: ..." */
	if (after == ':' && i >= 2 && s[i - 1] == ' ' && s[i - 2] == ':')
		return 1;
	return 0;
}

static int
lvword_position(const struct lvword *lw, const char *s, size_t n, size_t i,
    size_t e)
{
	if (lw->flags & LV_KEYED)
		return keyed_position(s, n, i, e);
	return level_position(s, n, i, e);
}

static int
level_words(const char *s, size_t n)
{
	if (n > LEVEL_SCAN)
		n = LEVEL_SCAN;
	for (size_t i = 0; i < n; ) {
		size_t e;

		if (!alpha((unsigned char)s[i])) {
			i++;
			continue;
		}
		for (e = i; e < n && alpha((unsigned char)s[e]); e++)
			;
		/* whole words only: "ErrorHandler", "error0", "err_x" are not */
		if ((i == 0 || (!digit((unsigned char)s[i - 1]) &&
		    s[i - 1] != '_')) && (e == n || (!digit((unsigned char)s[e]) &&
		    s[e] != '_' && s[e] != '-'))) {
			for (size_t k = 0; k < sizeof(lvwords) / sizeof(lvwords[0]);
			    k++)
				if (eqword(s + i, e - i, lvwords[k].w) &&
				    lvword_position(&lvwords[k], s, n, i, e))
					return lvwords[k].sev;
		}
		i = e;
	}
	return PB_LINE_NONE;
}

/*
 * Cisco IOS/NX-OS "%FACILITY-SEVERITY-MNEMONIC:" ("%LINK-3-UPDOWN:"):
 * the digit is a syslog severity.
 */
static int
cisco_level(const char *s, size_t n)
{
	const char *p = s, *end = s + (n < LEVEL_SCAN ? n : LEVEL_SCAN);

	while ((p = memchr(p, '%', (size_t)(end - p))) != NULL) {
		const char *q = ++p;
		while (q < end && ((*q >= 'A' && *q <= 'Z') ||
		    digit((unsigned char)*q) || *q == '_'))
			q++;
		if (q > p && q + 3 < end && q[0] == '-' && q[1] >= '0' &&
		    q[1] <= '7' && q[2] == '-' && q[3] >= 'A' && q[3] <= 'Z')
			return pri_sev[q[1] - '0'];
	}
	return PB_LINE_NONE;
}

static int
explicit_level(const char *s, size_t n)
{
	int v;

	if ((v = pri_level(s, n)) != PB_LINE_NONE ||
	    (v = cisco_level(s, n)) != PB_LINE_NONE ||
	    (v = letter_head(s, n)) != PB_LINE_NONE ||
	    (v = journald_level(s, n < LEVEL_SCAN * 4 ? n : LEVEL_SCAN * 4)) !=
	    PB_LINE_NONE ||
	    /* before level words: the tag after the letter is no level
	     * ("A DEBUG   : signal 11" is an assert) */
	    (v = letter_threadtime(s, n)) != PB_LINE_NONE ||
	    (v = level_words(s, n)) != PB_LINE_NONE ||
	    (v = letter_bracket(s, n)) != PB_LINE_NONE ||
	    (v = numeric_level(s, n < LEVEL_SCAN * 4 ? n : LEVEL_SCAN * 4)) !=
	    PB_LINE_NONE)
		return v;
	return PB_LINE_NONE;
}

/* ---- the lexicon --------------------------------------------------------- */

enum {
	G_NEG	= 1,	/* negation before it cancels it ("not failed") */
	G_DOWN	= 2,	/* "down" needs a subject: "link down", "is down" */
	G_CAMEL	= 4,	/* also a part of a CamelCase name: "DegradedArray" */
};

struct phrase {
	const char	*p;
	int		 sev;
	int		 flags;
};

/* Documented in triage(1), UNKNOWN LINES; keep the two in step. */
static const struct phrase lexicon[] = {
	/* crashes and data loss */
	{ "panic", PB_SEV_HIGH, G_NEG }, { "panicked", PB_SEV_HIGH, G_NEG | G_CAMEL },
	{ "segfault", PB_SEV_HIGH, G_CAMEL }, { "segmentation fault", PB_SEV_HIGH, 0 },
	{ "general protection", PB_SEV_HIGH, 0 },
	{ "core dumped", PB_SEV_HIGH, 0 }, { "dumped core", PB_SEV_HIGH, 0 },
	{ "oops", PB_SEV_HIGH, 0 }, { "out of memory", PB_SEV_HIGH, 0 },
	{ "corrupt", PB_SEV_HIGH, G_NEG | G_CAMEL }, { "corrupted", PB_SEV_HIGH, G_NEG | G_CAMEL },
	{ "corruption", PB_SEV_HIGH, G_NEG },
	{ "uncorrectable", PB_SEV_HIGH, G_CAMEL },
	{ "fatal", PB_SEV_HIGH, G_NEG }, { "critical", PB_SEV_HIGH, G_NEG },
	{ "emergency", PB_SEV_HIGH, G_NEG },
	{ "error", PB_SEV_HIGH, G_NEG }, { "errors", PB_SEV_HIGH, G_NEG },
	{ "crashed", PB_SEV_HIGH, G_NEG | G_CAMEL }, { "crash", PB_SEV_MEDIUM, G_NEG },
	{ "abort", PB_SEV_HIGH, G_NEG }, { "aborted", PB_SEV_HIGH, G_NEG | G_CAMEL },
	{ "aborting", PB_SEV_HIGH, G_NEG },
	{ "exception", PB_SEV_MEDIUM, G_NEG },
	{ "traceback", PB_SEV_MEDIUM, 0 },
	/* failing */
	{ "fail", PB_SEV_MEDIUM, G_NEG }, { "fails", PB_SEV_MEDIUM, G_NEG },
	{ "failed", PB_SEV_MEDIUM, G_NEG | G_CAMEL }, { "failing", PB_SEV_MEDIUM, G_NEG },
	{ "failure", PB_SEV_MEDIUM, G_NEG }, { "failures", PB_SEV_MEDIUM, G_NEG },
	{ "cannot", PB_SEV_MEDIUM, 0 }, { "can't", PB_SEV_MEDIUM, 0 },
	{ "can not", PB_SEV_MEDIUM, 0 },
	{ "unable to", PB_SEV_MEDIUM, 0 }, { "could not", PB_SEV_MEDIUM, 0 },
	{ "couldn't", PB_SEV_MEDIUM, 0 },
	/* peers and services */
	{ "not responding", PB_SEV_MEDIUM, 0 }, { "not respond", PB_SEV_MEDIUM, 0 },
	{ "unresponsive", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "no response", PB_SEV_MEDIUM, 0 }, { "no answer", PB_SEV_MEDIUM, 0 },
	{ "not answer", PB_SEV_MEDIUM, 0 }, { "not answering", PB_SEV_MEDIUM, 0 },
	{ "no reply", PB_SEV_MEDIUM, 0 }, { "not reachable", PB_SEV_MEDIUM, 0 },
	{ "not running", PB_SEV_MEDIUM, 0 }, { "offline", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "unhealthy", PB_SEV_MEDIUM, G_NEG | G_CAMEL }, { "no carrier", PB_SEV_MEDIUM, 0 },
	{ "connection reset", PB_SEV_MEDIUM, 0 },
	{ "broken pipe", PB_SEV_MEDIUM, 0 }, { "servfail", PB_SEV_MEDIUM, 0 },
	{ "deadlock", PB_SEV_HIGH, G_NEG },
	{ "overloaded", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "throttled", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "throttling", PB_SEV_MEDIUM, G_NEG },
	{ "unreachable", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "unavailable", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "refused", PB_SEV_MEDIUM, G_NEG | G_CAMEL }, { "denied", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "rejected", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "timed out", PB_SEV_MEDIUM, G_NEG }, { "timeout", PB_SEV_MEDIUM, G_NEG },
	{ "lost", PB_SEV_MEDIUM, G_NEG | G_CAMEL }, { "down", PB_SEV_MEDIUM, G_DOWN },
	{ "degraded", PB_SEV_MEDIUM, G_NEG | G_CAMEL }, { "hung", PB_SEV_MEDIUM, G_NEG },
	{ "killed", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	/* limits */
	{ "no free", PB_SEV_MEDIUM, 0 }, { "is full", PB_SEV_MEDIUM, 0 },
	{ "no space", PB_SEV_MEDIUM, 0 }, { "too many", PB_SEV_MEDIUM, 0 },
	{ "exhausted", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "exceeds", PB_SEV_MEDIUM, G_NEG }, { "exceeded", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "over threshold", PB_SEV_MEDIUM, 0 },
	{ "above threshold", PB_SEV_MEDIUM, 0 },
	{ "overheating", PB_SEV_MEDIUM, 0 }, { "overflow", PB_SEV_MEDIUM, G_NEG },
	/* validity */
	{ "expired", PB_SEV_MEDIUM, G_NEG | G_CAMEL }, { "mismatch", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "violation", PB_SEV_MEDIUM, G_NEG | G_CAMEL },
	{ "warning", PB_SEV_MEDIUM, G_NEG }, { "warn", PB_SEV_MEDIUM, G_NEG },
	{ "invalid", PB_SEV_LOW, G_NEG }, { "unexpected", PB_SEV_LOW, G_NEG },
	{ "not found", PB_SEV_LOW, 0 },
	/* strerror(3) texts of POSIX/Linux errno values (EPERM, EHOSTUNREACH,
	 * EROFS, EBUSY, ESTALE, ENOBUFS, EUCLEAN, ENOENT, ENODEV, ENOTCONN)
	 * and Windows system error and Service Control Manager texts (7031,
	 * 7034 "terminated unexpectedly", ERROR_NOT_ENOUGH_MEMORY,
	 * ERROR_NO_SYSTEM_RESOURCES "insufficient", ERROR_NOT_READY) that
	 * hold none of the words above */
	{ "structure needs cleaning", PB_SEV_HIGH, 0 },
	{ "unrecoverable", PB_SEV_HIGH, G_NEG },
	{ "unexpectedly", PB_SEV_MEDIUM, G_NEG },
	{ "abnormally", PB_SEV_MEDIUM, G_NEG },
	{ "not permitted", PB_SEV_MEDIUM, 0 }, { "no route", PB_SEV_MEDIUM, 0 },
	{ "read-only file system", PB_SEV_MEDIUM, 0 },
	{ "resource busy", PB_SEV_MEDIUM, 0 },
	{ "stale file handle", PB_SEV_MEDIUM, 0 },
	{ "no buffer space", PB_SEV_MEDIUM, 0 },
	{ "not enough", PB_SEV_MEDIUM, 0 },
	{ "insufficient", PB_SEV_MEDIUM, G_NEG },
	{ "giving up", PB_SEV_MEDIUM, 0 }, { "gave up", PB_SEV_MEDIUM, 0 },
	{ "no such file", PB_SEV_LOW, 0 }, { "no such device", PB_SEV_LOW, 0 },
	{ "not connected", PB_SEV_LOW, 0 }, { "not ready", PB_SEV_LOW, 0 },
	/* the same families in the words of translated Windows message
	 * tables and glibc/systemd translations (de, fr, es, pt, it, nl) */
	{ "fehler", PB_SEV_HIGH, G_NEG }, { "erreur", PB_SEV_HIGH, G_NEG },
	{ "erreurs", PB_SEV_HIGH, G_NEG }, { "errores", PB_SEV_HIGH, G_NEG },
	{ "erro", PB_SEV_HIGH, G_NEG }, { "erros", PB_SEV_HIGH, G_NEG },
	{ "errore", PB_SEV_HIGH, G_NEG }, { "errori", PB_SEV_HIGH, G_NEG },
	{ "fout", PB_SEV_HIGH, G_NEG }, { "fouten", PB_SEV_HIGH, G_NEG },
	{ "fehlgeschlagen", PB_SEV_MEDIUM, G_NEG },
	{ "\xc3\xa9" "chec", PB_SEV_MEDIUM, G_NEG },		/* échec */
	{ "\xc3\xa9" "chou\xc3\xa9", PB_SEV_MEDIUM, G_NEG },	/* échoué */
	{ "fallo", PB_SEV_MEDIUM, G_NEG }, { "fall\xc3\xb3", PB_SEV_MEDIUM, G_NEG },
	{ "falha", PB_SEV_MEDIUM, G_NEG }, { "falhou", PB_SEV_MEDIUM, G_NEG },
	{ "mislukt", PB_SEV_MEDIUM, G_NEG },
	{ "non riuscito", PB_SEV_MEDIUM, 0 }, { "non riuscita", PB_SEV_MEDIUM, 0 },
	{ "unerwartet", PB_SEV_MEDIUM, G_NEG },
	{ "abgebrochen", PB_SEV_MEDIUM, G_NEG },
	{ "verweigert", PB_SEV_MEDIUM, G_NEG }, { "abgelehnt", PB_SEV_MEDIUM, G_NEG },
	{ "refus\xc3\xa9", PB_SEV_MEDIUM, G_NEG },		/* refusé */
	{ "refus\xc3\xa9" "e", PB_SEV_MEDIUM, G_NEG },
	{ "denegado", PB_SEV_MEDIUM, G_NEG }, { "denegada", PB_SEV_MEDIUM, G_NEG },
	{ "negado", PB_SEV_MEDIUM, G_NEG }, { "negada", PB_SEV_MEDIUM, G_NEG },
	{ "negato", PB_SEV_MEDIUM, G_NEG }, { "negata", PB_SEV_MEDIUM, G_NEG },
	{ "geweigerd", PB_SEV_MEDIUM, G_NEG },
	{ "nicht erreichbar", PB_SEV_MEDIUM, 0 },
	{ "konnte nicht", PB_SEV_MEDIUM, 0 }, { "kann nicht", PB_SEV_MEDIUM, 0 },
	{ "impossible de", PB_SEV_MEDIUM, 0 }, { "impossibile", PB_SEV_MEDIUM, 0 },
	{ "no se pudo", PB_SEV_MEDIUM, 0 }, { "no se puede", PB_SEV_MEDIUM, 0 },
	{ "n\xc3\xa3o foi poss\xc3\xadvel", PB_SEV_MEDIUM, 0 }, /* não foi possível */
	{ "zeit\xc3\xbc" "berschreitung", PB_SEV_MEDIUM, G_NEG },
	{ "expir\xc3\xa9", PB_SEV_MEDIUM, G_NEG },		/* expiré */
	{ "agotado", PB_SEV_MEDIUM, G_NEG },
	{ "nicht gefunden", PB_SEV_LOW, 0 }, { "introuvable", PB_SEV_LOW, 0 },
	/* a message sent again for want of an answer (TCP, RFC 6298; DHCP,
	 * RFC 2131 4.1; IKE, RFC 7296 2.1; corosync's TOTEM "Retransmit
	 * List"): routine once, so low, listed when rare or in a burst */
	{ "retransmit", PB_SEV_LOW, G_NEG }, { "retransmits", PB_SEV_LOW, G_NEG },
	{ "retransmitted", PB_SEV_LOW, G_NEG },
	{ "retransmitting", PB_SEV_LOW, G_NEG },
	{ "retransmission", PB_SEV_LOW, G_NEG },
	{ "retransmissions", PB_SEV_LOW, G_NEG },
};

/*
 * Literals for the prefilter: every level word and lexicon phrase holds
 * one of them, so a line without any is never judged LOW or worse.  The
 * prefilter keys on a literal's first three bytes, so each is cut to
 * start where those bytes are rare in log text ("espon" for "response",
 * not "res" as in "restart"; "full", not "is "): common keys would
 * wake the comparison on most lines.  The " e "-style ones stand for
 * logcat's threadtime letter (not " a ": the article would match every
 * English line); "<N>", "E/", "E0928" heads and threadtime's "A" are
 * checked by pb_severity_head().
 */
const char *const pb_severity_literals[] = {
	/* level words */
	"emerg", "alert", "crit", "fatal", "severe", "err", "warn", "panic",
	"fault",
	"iority", " e ", " w ", " f ", "-0-", "-1-", "-2-", "-3-", "-4-",
	/* lexicon */
	"segfault", "segmentation", "l protection", "dumped", "oops",
	"f memory", "corrupt", "uncorrectable", "crash", "abort", "exception",
	"ceback", "fail", "nnot", "n not", "an't", "unable to", "ould not",
	"ldn't", "espon", "nswer", "unreachable", "unavailable", "efused",
	"enied", "ejected", "med out", "meout", "lost", "down", "raded",
	"hung", "killed", "free", "full", "space", "oo many", "exhausted",
	"exceed", "eshold", "erheat", "rflow", "xpired", "ismatch", "iolation",
	"nvalid", "unexpected", "found", "o reply", "eachable",
	"unning", "ffline", "unhealthy", "o carrier", "n reset", "n pipe",
	"rvfail", "dlock", "rload", "ottl", "unresponsive", "retransmi",
	"eds cleaning", "nrecoverab", "bnormal", "ermitted", "o route",
	"read-only file", "ce busy", "stale file", "t enough", "nsufficien",
	"iving up", "gave up", "such file", "such device", "t connected",
	"t ready",
	/* translated */
	"eschlagen", "\xc3\xa9" "chec", "chou\xc3\xa9", "fallo", "fall\xc3\xb3",
	"falha", "mislukt", "riuscit", "erwartet", "gebrochen", "weigert",
	"gelehnt", "efus\xc3\xa9", "negad", "negat", "weigerd", "erreichbar",
	"nte nicht", "nn nicht", "mpossib", "se pud", "se pue",
	"o foi poss", "berschreitung", "xpir\xc3\xa9", "agotado", "gefunden",
	"ntrouvable",
	/* logrus, localized and alarm level words; "[E]", numeric levels */
	"fata", "pani", "ehler", "kritis", "kritie", "avertis", "dverten",
	"aviso", "avviso", "aarsch", "fout", "major", "minor",
	"[e]", "[w]", "[f]", "level\":40", "level\":50", "level\":60",
	"<level>1<", "<level>2<", "<level>3<",
	NULL
};

int
pb_severity_head(const char *s, size_t n)
{
	return pri_level(s, n) != PB_LINE_NONE ||
	    letter_head(s, n) != PB_LINE_NONE ||
	    /* threadtime's "A": no literal stands for it */
	    letter_threadtime(s, n) == PB_SEV_CRITICAL;
}

/* Characters that make a word part of a name: error.log, no-error, err_x */
static int
namechar(int c)
{
	return alnum(c) || c == '_' || c == '-' || c == '/' || c == '+' ||
	    c == '$' || c == '@' || c == '\\';
}

/* The word before s[i] (skipping spaces): bounds in *ws, *we; 0 if none. */
static int
word_before(const char *s, size_t i, size_t *ws, size_t *we)
{
	size_t j = i;

	while (j > 0 && s[j - 1] == ' ')
		j--;
	if (j == 0 || j == i)
		return 0;
	*we = j;
	while (j > 0 && (alpha((unsigned char)s[j - 1]) || s[j - 1] == '\''))
		j--;
	*ws = j;
	return *we > *ws;
}

static int
word_in(const char *s, size_t ws, size_t we, const char *const *list)
{
	for (size_t k = 0; list[k] != NULL; k++)
		if (eqword(s + ws, we - ws, list[k]))
			return 1;
	return 0;
}

static int
word_after(const char *s, size_t n, size_t e, size_t *ws, size_t *we)
{
	size_t j = e;

	while (j < n && s[j] == ' ')
		j++;
	if (j == e && e < n)
		return 0;
	*ws = j;
	while (j < n && alpha((unsigned char)s[j]))
		j++;
	*we = j;
	return *we > *ws;
}

/* "errors: 0", "errors=0", "error count: 0", "failed 0" */
static int
zero_after(const char *s, size_t n, size_t e)
{
	size_t j = e, ws, we;

	if (word_after(s, n, e, &ws, &we) && (eqword(s + ws, we - ws, "count") ||
	    eqword(s + ws, we - ws, "total")))
		j = we;
	while (j < n && (s[j] == ' ' || s[j] == ':' || s[j] == '=' ||
	    s[j] == '\t'))
		j++;
	return j > e && j < n && s[j] == '0' && (j + 1 == n ||
	    !alnum((unsigned char)s[j + 1]) || s[j + 1] == '.');
}

/* A key set to nothing: "failed": false, error: null, OOMKilled=no */
static int
false_after(const char *s, size_t n, size_t e)
{
	static const char *const nothing[] = {
		"false", "null", "none", "no", "off", "nil", NULL
	};
	size_t j = e, k;

	if (j < n && (s[j] == '"' || s[j] == '\''))
		j++;
	while (j < n && s[j] == ' ')
		j++;
	if (j >= n || (s[j] != ':' && s[j] != '='))
		return 0;
	for (j++; j < n && (s[j] == ' ' || s[j] == '"' || s[j] == '\''); j++)
		;
	for (k = j; k < n && alpha((unsigned char)s[k]); k++)
		;
	/* the whole value: "timeout: no successful checkins" says more */
	if (k == j || (k < n && strchr(",;}])\"' \t", s[k]) == NULL))
		return 0;
	if (k < n && s[k] == ' ' && k + 1 < n && alnum((unsigned char)s[k + 1]))
		return 0;
	return word_in(s, j, k, nothing);
}

/* "0 errors", "0 failed", "zero errors" */
static int
zero_before(const char *s, size_t i)
{
	size_t j = i, ws, we;

	while (j > 0 && s[j - 1] == ' ')
		j--;
	if (j > 0 && s[j - 1] == '0' && (j == 1 || !digit((unsigned char)s[j - 2])))
		return 1;
	return word_before(s, i, &ws, &we) && eqword(s + ws, we - ws, "zero");
}

/* Lines a test suite prints for a test that passed. */
static int
pass_line(const char *s, size_t n)
{
	static const char *const marks[] = {
		"PASS:", "PASS ", "PASSED", "[  PASSED  ]", "[       OK ]",
		" ... ok", " ... passed", "[ OK ]", NULL
	};

	for (size_t k = 0; marks[k] != NULL; k++)
		if (memmem(s, n, marks[k], strlen(marks[k])) != NULL)
			return 1;
	return n >= 3 && memcmp(s, "ok ", 3) == 0;	/* TAP */
}

static const char *const negations[] = {
	"not", "no", "never", "without", "didn't", "didnt", "doesn't", "don't",
	"wasn't", "isn't", "won't", "non", "nothing", "zero", "none", "neither",
	"nor",
	/* de, fr, es, pt, it, nl */
	"kein", "keine", "keinen", "keiner", "ohne", "sans", "aucun", "aucune",
	"sin", "sem", "nenhum", "nenhuma", "nessun", "nessuna", "senza", "geen",
	"zonder", NULL
};

/* "error handler", "failure policy": names of an error class, not one */
static const char *const naming_after[] = {
	"log", "logs", "logfile", "level", "levels", "handler", "handlers",
	"handling", "page", "pages", "reporting", "policy", "action", "domain",
	"mode", "file", "files", "threshold", "thresholds", "correction",
	"checking", "detection", "callback", "class", "type", "types",
	"counter", "counters", "stats", "statistics", "budget", "rate",
	"tolerance", "recovery", "support", "vector", "vectors", "table",
	"injection", NULL
};

static const char *const naming_before[] = {
	"on", "if", "setting", "set", "ignore", "ignoring", "suppress",
	"suppressing", "log", "simulate", "simulated", "test", "testing",
	"negotiated", "configured", "default", "max", "maximum", "min",
	"minimum", "next", NULL
};

/* "down" counts only with a subject that goes down. */
static const char *const down_subjects[] = {
	"is", "are", "was", "were", "went", "gone", "goes", "be", "been",
	"link", "port", "interface", "iface", "peer", "node", "host", "state",
	"to", "marked", "became", "carrier", "nic", "lan", "wan", "tunnel",
	"bgp", "ospf", "neighbor", "neighbour", "server", "backend", "member",
	"session", "adjacency", NULL
};

/*
 * A label whose value says it again: "errors: No known data errors" (zpool
 * status); the phrase in the value is judged on its own.
 */
static int
label_of_itself(const char *s, size_t n, size_t i, size_t e)
{
	size_t l = e - i;

	if (e >= n || s[e] != ':')
		return 0;
	for (size_t j = e + 1; j + l <= n; j++) {
		size_t k = 0;
		if (alpha((unsigned char)s[j - 1]))
			continue;
		while (k < l && lower((unsigned char)s[j + k]) ==
		    lower((unsigned char)s[i + k]))
			k++;
		if (k == l && (j + l == n || !alpha((unsigned char)s[j + l])))
			return 1;
	}
	return 0;
}

/*
 * A duration, not an event: "timeout in 45 seconds", "with timeout 60",
 * "timeout of 30s" (the time allowed; "timed out" says it ran out).
 */
static int
duration_after(const char *s, size_t n, size_t i, size_t e)
{
	static const char *const links[] = { "in", "of", "is", NULL };
	size_t j = e, ws, we;

	if (!eqword(s + i, e - i, "timeout"))
		return 0;
	if (word_after(s, n, e, &ws, &we) && word_in(s, ws, we, links))
		j = we;
	while (j < n && s[j] == ' ')
		j++;
	return j > e && j < n && digit((unsigned char)s[j]);
}

/*
 * "no" before a short noun phrase that ends in the word: "No known data
 * errors", "no new failures" (up to two words between, none of them a
 * preposition or conjunction that would start another phrase).
 */
static int
no_before(const char *s, size_t i)
{
	static const char *const stops[] = {
		"to", "from", "for", "with", "in", "on", "at", "by", "of", "and",
		"or", "but", "so", "after", "because", "then", NULL
	};
	size_t at = i, ws, we;

	for (int k = 0; k < 3; k++) {
		if (!word_before(s, at, &ws, &we) || (we < at && s[we] != ' '))
			return 0;
		if (eqword(s + ws, we - ws, "no"))
			return k > 0;
		if (word_in(s, ws, we, stops) || ws == 0 ||
		    (s[ws - 1] != ' '))
			return 0;
		at = ws;
	}
	return 0;
}

/* Is the phrase at s[i..e) a real failure word here? */
static int
guarded(const char *s, size_t n, size_t i, size_t e, int flags)
{
	size_t ws, we;

	/* part of a name: libgpg-error0, error.log, no-error, on_failure */
	if (i > 0 && (namechar((unsigned char)s[i - 1]) || (s[i - 1] == '.' &&
	    i > 1 && alnum((unsigned char)s[i - 2]))))
		return 1;
	if (e < n && (namechar((unsigned char)s[e]) || (s[e] == '.' &&
	    e + 1 < n && alnum((unsigned char)s[e + 1]))))
		return 1;
	/* a configuration key: "error_log = ", "timeout=30", "fail: false" */
	{
		size_t j = e;
		while (j < n && s[j] == ' ')
			j++;
		if (j < n && s[j] == '=' && (j + 1 >= n || s[j + 1] != '='))
			return 1;
	}
	if (zero_after(s, n, e) || zero_before(s, i) || false_after(s, n, e) ||
	    label_of_itself(s, n, i, e) || duration_after(s, n, i, e))
		return 1;
	if ((flags & G_NEG) && no_before(s, i))
		return 1;
	if ((flags & G_NEG) && word_before(s, i, &ws, &we)) {
		if (word_in(s, ws, we, negations))
			return 1;
		/* "did not fail", "has not failed": one word in between */
		if ((eqword(s + ws, we - ws, "been") || eqword(s + ws, we - ws,
		    "any") || eqword(s + ws, we - ws, "longer") ||
		    eqword(s + ws, we - ws, "yet") || eqword(s + ws, we - ws,
		    "ever")) && ws > 0) {
			size_t w2s, w2e;
			if (word_before(s, ws, &w2s, &w2e) &&
			    word_in(s, w2s, w2e, negations))
				return 1;
		}
	}
	if ((flags & G_NEG) && word_after(s, n, e, &ws, &we) &&
	    word_in(s, ws, we, naming_after))
		return 1;
	if ((flags & G_NEG) && word_before(s, i, &ws, &we) &&
	    word_in(s, ws, we, naming_before))
		return 1;
	if (flags & G_DOWN) {
		if (i > 0 && (s[i - 1] == '=' || (s[i - 1] == ' ' && i > 1 &&
		    (s[i - 2] == ':' || s[i - 2] == '>'))))
			return 0;
		if (i > 0 && s[i - 1] == ':')
			return 0;
		if (!word_before(s, i, &ws, &we) ||
		    !word_in(s, ws, we, down_subjects))
			return 1;
	}
	return 0;
}

static int
upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

/* Does a CamelCase part start at s[i]: "degradedArray", "OOMKilled"? */
static int
camel_at(const char *s, size_t n, size_t i)
{
	if (i == 0 || i >= n || !upper((unsigned char)s[i]))
		return 0;
	if (s[i - 1] >= 'a' && s[i - 1] <= 'z')
		return 1;
	return upper((unsigned char)s[i - 1]) && i + 1 < n &&
	    s[i + 1] >= 'a' && s[i + 1] <= 'z';
}

/*
 * Guards for a phrase that is a part of a CamelCase name s[i..e): the
 * name as a whole must pass the word guards (java.io.FooDeniedException,
 * isDegraded=false, FailedCount: 0), the part before it must not negate
 * it (NotDegraded), nor a part or the word after it name a class of
 * errors (FailedLoginHandler, OfflineFiles).
 */
static int
camel_guarded(const char *s, size_t n, size_t i, size_t e, int flags)
{
	size_t a = i, b = e, p, q, ws, we;

	while (a > 0 && alnum((unsigned char)s[a - 1]))
		a--;
	while (b < n && alnum((unsigned char)s[b]))
		b++;
	if (guarded(s, n, a, b, 0))
		return 1;
	/* a key ("OOMKilled": true, DegradedArray: 2) names the state; its
	 * value says whether it holds */
	q = b;
	if (q < n && (s[q] == '"' || s[q] == '\''))
		for (q++; q < n && s[q] == ' '; q++)
			;
	if (q < n && s[q] == ':')
		return 1;
	if (i > a) {
		for (p = i - 1; p > a && !camel_at(s, n, p); p--)
			;
		if (word_in(s, p, i, negations))
			return 1;
	} else if ((flags & G_NEG) && word_before(s, a, &ws, &we) &&
	    (word_in(s, ws, we, negations) || word_in(s, ws, we,
	    naming_before)))
		return 1;
	/* any later part: FailedLoginHandler is a handler */
	for (p = e; p < b; p = q) {
		for (q = p + 1; q < b && !camel_at(s, n, q); q++)
			;
		if (word_in(s, p, q, naming_after))
			return 1;
	}
	if (e < b)
		return 0;
	return (flags & G_NEG) && word_after(s, n, b, &ws, &we) &&
	    word_in(s, ws, we, naming_after);
}

/* Is s[i..e) a level word in level position ("WARN", "[error]")? */
static int
is_level_field(const char *s, size_t n, size_t i, size_t e)
{
	for (size_t k = 0; k < sizeof(lvwords) / sizeof(lvwords[0]); k++)
		if (eqword(s + i, e - i, lvwords[k].w))
			return lvword_position(&lvwords[k], s, n, i, e);
	return 0;
}

/*
 * A line that starts with the name of an exception or error class and its
 * message: the head of a Java, .NET or Python stack trace
 * ("java.net.ConnectException: x", "Caused by: x.y.FooException",
 * "KeyError: 'id'").  The name ends in Exception or Error after more of a
 * name (not "Error:" itself), and only a colon or the end follows it.
 */
static int
exception_head(const char *s, size_t n)
{
	static const char *const sfx[] = { "Exception", "Error", NULL };
	size_t i = 0, seg, e;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i > 11 && memcmp(s + i, "Caused by: ", 11) == 0)
		i += 11;
	for (seg = i, e = i; e < n; e++) {
		if (s[e] == '.' && e > seg && e + 1 < n &&
		    alpha((unsigned char)s[e + 1])) {
			seg = e + 1;
			continue;
		}
		if (!alnum((unsigned char)s[e]) && s[e] != '_' && s[e] != '$')
			break;
	}
	if (e == seg || !alpha((unsigned char)s[seg]) || (e < n && s[e] != ':'))
		return 0;
	for (size_t k = 0; sfx[k] != NULL; k++) {
		size_t l = strlen(sfx[k]);
		if (e - seg > l && memcmp(s + e - l, sfx[k], l) == 0)
			return 1;
	}
	return 0;
}

/*
 * The worst unguarded lexicon phrase in the line, or PB_LINE_NONE.  With
 * `words_only`, a level word in level position is the level field, not a
 * phrase ("WARN Send worker leaving thread" states no failure in words).
 */
static int
lexicon_level(const char *s, size_t n, int words_only)
{
	static unsigned char first[256];
	static int ready;
	int best = PB_LINE_NONE;

	if (!ready) {		/* idempotent, so a race only repeats it */
		for (size_t k = 0; k < sizeof(lexicon) / sizeof(lexicon[0]); k++)
			first[(unsigned char)lexicon[k].p[0]] = 1;
		ready = 1;
	}
	if (n > LEX_SCAN)
		n = LEX_SCAN;
	if (pass_line(s, n))
		return PB_LINE_NONE;
	if (exception_head(s, n))
		best = PB_SEV_MEDIUM;
	for (size_t i = 0; i < n; i++) {
		int camel = camel_at(s, n, i);
		if (i > 0 && alpha((unsigned char)s[i - 1]) && !camel)
			continue;
		if (!first[lower((unsigned char)s[i])])
			continue;
		for (size_t k = 0; k < sizeof(lexicon) / sizeof(lexicon[0]); k++) {
			const struct phrase *ph = &lexicon[k];
			size_t l = strlen(ph->p), e = i + l;
			int part;
			if (e > n || (best != PB_LINE_NONE && ph->sev >= best))
				continue;
			if (!eqword(s + i, l, ph->p))
				continue;
			if (e < n && alpha((unsigned char)s[e]) &&
			    !camel_at(s, n, e))
				continue;
			/* a part of a CamelCase name, not a word of its own */
			part = (i > 0 && alpha((unsigned char)s[i - 1])) ||
			    (e < n && alpha((unsigned char)s[e]));
			if (part && (!(ph->flags & G_CAMEL) ||
			    camel_guarded(s, n, i, e, ph->flags)))
				continue;
			if (!part && guarded(s, n, i, e, ph->flags))
				continue;
			if (words_only && i < LEVEL_SCAN && is_level_field(s,
			    n < LEVEL_SCAN ? n : LEVEL_SCAN, i, e))
				continue;
			best = ph->sev;
		}
	}
	return best;
}

int
pb_severity_lexicon(const char *s, size_t n)
{
	return lexicon_level(s, n, 1);
}

/*
 * Records spread over lines: Event Viewer's "Copy details as text" and
 * `wevtutil qe /f:text` ("Level: Error" ... "Description:" then the text
 * on the next line), PowerShell Format-List of Get-EventLog and
 * Get-WinEvent ("EntryType : Error", "Message : text", "Level : 2").
 */
static const char *const rec_starts[] = { "log name", NULL };
static const char *const rec_levels[] = {
	"level", "entrytype", "leveldisplayname", NULL
};
static const char *const rec_texts[] = { "description", "message", NULL };

int
pb_severity_record(const char *s, size_t n, int *level, size_t *text)
{
	size_t i = 0, ke, v, ve;

	if (n > LEVEL_SCAN)
		n = LEVEL_SCAN;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '\r')
		return PB_REC_BLANK;
	if (!alpha((unsigned char)s[i]))
		return PB_REC_NONE;
	/* "Event[0]:" heads a wevtutil record */
	if (n - i > 6 && memcmp(s + i, "Event[", 6) == 0)
		return PB_REC_START;
	/* the key: words, then spaces, then a colon */
	for (ke = i; ke < n && ke - i < 24 && (alpha((unsigned char)s[ke]) ||
	    s[ke] == ' '); ke++)
		;
	for (v = ke; v > i && s[v - 1] == ' '; v--)
		;
	if (ke >= n || s[ke] != ':')
		return PB_REC_NONE;
	ke = v;
	for (v = ke; v < n && s[v] != ':'; v++)
		;
	for (v++; v < n && (s[v] == ' ' || s[v] == '\t'); v++)
		;
	for (ve = n; ve > v && (s[ve - 1] == ' ' || s[ve - 1] == '\r' ||
	    s[ve - 1] == '\t'); ve--)
		;
	if (word_in(s, i, ke, rec_starts))
		return PB_REC_START;
	if (word_in(s, i, ke, rec_texts)) {
		*text = v;
		return v < ve ? PB_REC_TEXT : PB_REC_TEXT_NEXT;
	}
	if (!word_in(s, i, ke, rec_levels))
		return PB_REC_NONE;
	/* "Level : 2": the Windows level number (numeric_level) */
	if (ve - v == 1 && s[v] >= '1' && s[v] <= '5') {
		*level = win_level[s[v] - '0'];
		return PB_REC_LEVEL;
	}
	for (size_t k = 0; k < sizeof(lvwords) / sizeof(lvwords[0]); k++)
		if (eqword(s + v, ve - v, lvwords[k].w)) {
			*level = lvwords[k].sev;
			return PB_REC_LEVEL;
		}
	return PB_REC_NONE;
}

int
pb_line_severity_in(const char *s, size_t n, int record)
{
	int lv = explicit_level(s, n), lx;

	if (lv == PB_LINE_NONE)
		lv = record;
	if (lv == PB_LINE_DEBUG || (lv != PB_LINE_NONE && lv <= PB_SEV_MEDIUM))
		return lv;
	lx = lexicon_level(s, n, 0);
	if (lv == PB_SEV_INFO)		/* an info line saying "failed" */
		return lx != PB_LINE_NONE ? PB_SEV_LOW : PB_SEV_INFO;
	return lx;
}

int
pb_line_severity(const char *s, size_t n)
{
	return pb_line_severity_in(s, n, PB_LINE_NONE);
}
