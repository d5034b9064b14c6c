/*
 * tstamp.c - timestamps at the head of log lines.
 *
 * Recognised (zone-less times are taken as UTC, so results are "log clock"
 * values that compare correctly within and across files written in one zone):
 *   ISO 8601 / RFC 3339   2024-06-14T15:16:01.123+02:00, 2024-06-14 15:16:01,978
 *   nginx error log       2024/06/14 15:16:01
 *   BlueGene-style        2005-06-03-15.42.50.675872
 *   syslog / journald     Jun 14 15:16:01[.123456] (year inferred), also with
 *                         the year before or after: 2024 Jun 14 ..., Jun 14 2024 ...
 *   Apache error log      [Sun Dec 04 04:47:44 2005]
 *   Apache/nginx access   [10/Oct/2000:13:55:36 -0700] anywhere in the first 200 bytes
 *   Spark (yy/MM/dd)      17/06/09 20:10:40
 *   HDFS (yyMMdd HHmmss)  081109 203615
 *   Android logcat        03-17 16:13:38.811 (year inferred)
 *   epoch seconds         1117838570[.123]
 * The stamp may follow a "<PRI>" syslog priority, a '[' or one short token.
 */
#include <stdio.h>
#include <string.h>

#include "playbook.h"

#define SCAN_ACCESS_MAX 200	/* how far into a line to look for [dd/Mon/yyyy */
#define DAY_MS (86400LL * 1000)

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

struct cur {
	const char	*p;
	const char	*end;
};

/* Where the last successful parse ended (for pb_time_parse_end). */
static __thread const char *ts_end;

static int64_t
done(const struct cur *c, int64_t t)
{
	ts_end = c->p;
	return t;
}

/* Read exactly n digits. */
static int
digits(struct cur *c, int n, int *out)
{
	int v = 0;

	if (c->end - c->p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (c->p[i] < '0' || c->p[i] > '9')
			return -1;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*out = v;
	return 0;
}

/* Read 1 or 2 digits (syslog pads days with a space). */
static int
digits12(struct cur *c, int *out)
{
	if (digits(c, 2, out) == 0)
		return 0;
	return digits(c, 1, out);
}

static int
lit(struct cur *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 0;
	}
	return -1;
}

static int
month(struct cur *c, int *m)
{
	if (c->end - c->p < 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (strncmp(c->p, months[i], 3) == 0) {
			c->p += 3;
			*m = i + 1;
			return 0;
		}
	return -1;
}

/* Optional fraction after '.' or ','; returns milliseconds. */
static int
fraction(struct cur *c)
{
	int ms = 0, n = 0;

	if (c->p >= c->end || (*c->p != '.' && *c->p != ','))
		return 0;
	if (c->p + 1 >= c->end || c->p[1] < '0' || c->p[1] > '9')
		return 0;
	c->p++;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (n < 3)
			ms = ms * 10 + (*c->p - '0');
		n++;
		c->p++;
	}
	while (n++ < 3)
		ms *= 10;
	return ms;
}

/* Optional zone: Z, +HH:MM, +HHMM, +HH. Returns offset in seconds. */
static int
zone(struct cur *c, int allow_space)
{
	struct cur t = *c;
	int sign, h, m = 0;

	if (allow_space && t.p < t.end && *t.p == ' ')
		t.p++;
	if (t.p < t.end && *t.p == 'Z') {
		c->p = t.p + 1;
		return 0;
	}
	if (t.p >= t.end || (*t.p != '+' && *t.p != '-'))
		return 0;
	sign = *t.p == '-' ? -1 : 1;
	t.p++;
	if (digits(&t, 2, &h) != 0)
		return 0;
	if (lit(&t, ':') == 0) {
		if (digits(&t, 2, &m) != 0)
			return 0;
	} else
		(void)digits(&t, 2, &m);
	if (h > 14 || m > 59)
		return 0;
	c->p = t.p;
	return sign * (h * 3600 + m * 60);
}

static int
valid(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return 0;
	return h <= 23 && mi <= 59 && s <= 60;
}

static int64_t
make(int y, int mo, int d, int h, int mi, int s, int ms, int off)
{
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + s - off;
	return t * 1000 + ms;
}

/* A year-less date gets the year that puts it closest before `ref`. */
static int64_t
infer_year(int mo, int d, int h, int mi, int s, int ms, int64_t ref)
{
	int y, rm, rd;
	int64_t t;

	civil_from_days(ref / 86400, &y, &rm, &rd);
	t = make(y, mo, d, h, mi, s, ms, 0);
	if (t > ref * 1000 + 2 * DAY_MS)	/* December line read in January */
		t = make(y - 1, mo, d, h, mi, s, ms, 0);
	return t;
}

/* HH:MM:SS[.frac] */
static int
clock_hms(struct cur *c, int *h, int *mi, int *s, int *ms)
{
	if (digits(c, 2, h) || lit(c, ':') || digits(c, 2, mi) ||
	    lit(c, ':') || digits(c, 2, s))
		return -1;
	*ms = fraction(c);
	return 0;
}

static int64_t
try_iso(struct cur c)
{
	int y, mo, d, h, mi, s, ms;
	char sep;

	if (digits(&c, 4, &y))
		return PB_TIME_NONE;
	if (c.p >= c.end || (*c.p != '-' && *c.p != '/'))
		return PB_TIME_NONE;
	sep = *c.p++;
	if (digits(&c, 2, &mo) || lit(&c, sep) || digits(&c, 2, &d))
		return PB_TIME_NONE;
	if (c.p >= c.end || (*c.p != 'T' && *c.p != ' ' && *c.p != '-'))
		return PB_TIME_NONE;
	if (*c.p == '-') {		/* 2005-06-03-15.42.50.675872 */
		c.p++;
		if (digits(&c, 2, &h) || lit(&c, '.') || digits(&c, 2, &mi) ||
		    lit(&c, '.') || digits(&c, 2, &s))
			return PB_TIME_NONE;
		ms = fraction(&c);
	} else {
		c.p++;
		if (clock_hms(&c, &h, &mi, &s, &ms))
			return PB_TIME_NONE;
	}
	if (!valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, zone(&c, 1)));
}

/* [YYYY ]Mon DD [YYYY ]HH:MM:SS[.frac][ YYYY] */
static int64_t
try_syslog(struct cur c, int64_t ref)
{
	int y = -1, mo, d, h, mi, s, ms, yy;
	struct cur t;

	if (digits(&c, 4, &yy) == 0) {
		if (lit(&c, ' '))
			return PB_TIME_NONE;
		y = yy;
	}
	if (month(&c, &mo) || lit(&c, ' '))
		return PB_TIME_NONE;
	if (c.p < c.end && *c.p == ' ')		/* "Jun  4" */
		c.p++;
	if (digits12(&c, &d) || lit(&c, ' '))
		return PB_TIME_NONE;
	t = c;
	if (y < 0 && digits(&t, 4, &yy) == 0 && lit(&t, ' ') == 0) {
		y = yy;
		c = t;
	}
	if (clock_hms(&c, &h, &mi, &s, &ms))
		return PB_TIME_NONE;
	t = c;
	if (y < 0 && lit(&t, ' ') == 0 && digits(&t, 4, &yy) == 0 &&
	    (t.p == t.end || *t.p == ' ' || *t.p == ']')) {
		y = yy;
		c = t;
	}
	if (y < 0) {
		if (!valid(2000, mo, d, h, mi, s))
			return PB_TIME_NONE;
		return done(&c, infer_year(mo, d, h, mi, s, ms, ref));
	}
	if (!valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, zone(&c, 1)));
}

/* Www Mon DD HH:MM:SS[.frac] YYYY  (Apache error log, ctime) */
static int64_t
try_ctime(struct cur c, int64_t ref)
{
	static const char days[] = "SunMonTueWedThuFriSat";

	if (c.end - c.p < 4 || c.p[3] != ' ')
		return PB_TIME_NONE;
	for (int i = 0; i < 7; i++)
		if (strncmp(c.p, days + 3 * i, 3) == 0) {
			c.p += 4;
			return try_syslog(c, ref);
		}
	return PB_TIME_NONE;
}

/* DD/Mon/YYYY:HH:MM:SS +ZZZZ */
static int64_t
try_access(struct cur c)
{
	int y, mo, d, h, mi, s, ms;

	if (digits(&c, 2, &d) || lit(&c, '/') || month(&c, &mo) ||
	    lit(&c, '/') || digits(&c, 4, &y) || lit(&c, ':') ||
	    clock_hms(&c, &h, &mi, &s, &ms))
		return PB_TIME_NONE;
	if (!valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, zone(&c, 1)));
}

/* yy/MM/dd HH:MM:SS (Spark), yyMMdd HHmmss (HDFS), MM-dd HH:MM:SS.mmm (logcat) */
static int64_t
try_short(struct cur c, int64_t ref)
{
	int y, mo, d, h, mi, s, ms = 0;
	struct cur t = c;

	if (digits(&t, 2, &y) == 0 && lit(&t, '/') == 0 &&
	    digits(&t, 2, &mo) == 0 && lit(&t, '/') == 0 &&
	    digits(&t, 2, &d) == 0 && lit(&t, ' ') == 0 &&
	    clock_hms(&t, &h, &mi, &s, &ms) == 0 &&
	    valid(2000 + y, mo, d, h, mi, s))
		return done(&t, make(2000 + y, mo, d, h, mi, s, ms, 0));
	t = c;
	if (digits(&t, 2, &y) == 0 && digits(&t, 2, &mo) == 0 &&
	    digits(&t, 2, &d) == 0 && lit(&t, ' ') == 0 &&
	    digits(&t, 2, &h) == 0 && digits(&t, 2, &mi) == 0 &&
	    digits(&t, 2, &s) == 0 && (t.p == t.end || *t.p == ' ') &&
	    valid(2000 + y, mo, d, h, mi, s))
		return done(&t, make(2000 + y, mo, d, h, mi, s, 0, 0));
	t = c;
	if (digits(&t, 2, &mo) == 0 && lit(&t, '-') == 0 &&
	    digits(&t, 2, &d) == 0 && lit(&t, ' ') == 0 &&
	    clock_hms(&t, &h, &mi, &s, &ms) == 0 &&
	    valid(2000, mo, d, h, mi, s))
		return done(&t, infer_year(mo, d, h, mi, s, ms, ref));
	return PB_TIME_NONE;
}

/* 9-10 digit epoch seconds between 2001 and 2286, optional fraction. */
static int64_t
try_epoch(struct cur c)
{
	int64_t v = 0;
	int n = 0, ms;

	while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && n < 11) {
		v = v * 10 + (*c.p++ - '0');
		n++;
	}
	if (n < 9 || n > 10 || v < 1000000000LL)
		return PB_TIME_NONE;
	ms = fraction(&c);
	if (c.p < c.end && *c.p != ' ' && *c.p != ']' && *c.p != '\t')
		return PB_TIME_NONE;
	return done(&c, v * 1000 + ms);
}

static int64_t
try_at(const char *p, const char *end, int64_t ref)
{
	struct cur c = { p, end };
	int64_t t;

	if (c.p < c.end && *c.p == '[')
		c.p++;
	if (c.p >= c.end)
		return PB_TIME_NONE;
	if (*c.p >= '0' && *c.p <= '9') {
		if ((t = try_iso(c)) != PB_TIME_NONE ||
		    (t = try_short(c, ref)) != PB_TIME_NONE ||
		    (t = try_epoch(c)) != PB_TIME_NONE ||
		    (t = try_syslog(c, ref)) != PB_TIME_NONE ||
		    (t = try_access(c)) != PB_TIME_NONE)
			return t;
		return PB_TIME_NONE;
	}
	if ((t = try_syslog(c, ref)) != PB_TIME_NONE ||
	    (t = try_ctime(c, ref)) != PB_TIME_NONE)
		return t;
	return PB_TIME_NONE;
}

int64_t
pb_time_parse_end(const char *line, size_t len, int64_t ref, size_t *endoff)
{
	int64_t t = pb_time_parse(line, len, ref);

	*endoff = t != PB_TIME_NONE ? (size_t)(ts_end - line) : 0;
	return t;
}

int64_t
pb_time_parse(const char *line, size_t len, int64_t ref)
{
	const char *p = line, *end = line + len, *q;
	int64_t t;

	if (p < end && *p == '<') {		/* syslog <PRI> */
		for (q = p + 1; q < end && q < p + 5 && *q >= '0' && *q <= '9'; q++)
			;
		if (q < end && *q == '>')
			p = q + 1;
	}
	if ((t = try_at(p, end, ref)) != PB_TIME_NONE)
		return t;
	/* One short leading token ("- 1117838570", "host: ..."). */
	for (q = p; q < end && q < p + 24 && *q != ' '; q++)
		;
	if (q < end && *q == ' ') {
		while (q < end && *q == ' ')
			q++;
		if ((t = try_at(q, end, ref)) != PB_TIME_NONE)
			return t;
	}
	/* Access logs: host ident user [10/Oct/2000:13:55:36 -0700] */
	size_t n = len < SCAN_ACCESS_MAX ? len : SCAN_ACCESS_MAX;
	for (q = line; (q = memchr(q, '[', (size_t)(line + n - q))) != NULL; q++) {
		struct cur c = { q + 1, end };
		if ((t = try_access(c)) != PB_TIME_NONE)
			return t;
		if (q + 1 >= line + n)
			break;
	}
	return PB_TIME_NONE;
}

int
pb_time_arg(const char *s, int64_t ref, int64_t *out_ms)
{
	size_t len = strlen(s);
	int y, mo, d;
	struct cur c = { s, s + len };
	int64_t t;

	if (digits(&c, 4, &y) == 0 && lit(&c, '-') == 0 &&
	    digits(&c, 2, &mo) == 0 && lit(&c, '-') == 0 &&
	    digits(&c, 2, &d) == 0 && c.p == c.end) {
		if (!valid(y, mo, d, 0, 0, 0))
			return PB_EINVAL;
		*out_ms = make(y, mo, d, 0, 0, 0, 0, 0);
		return 0;
	}
	t = pb_time_parse(s, len, ref);
	if (t == PB_TIME_NONE)
		return PB_EINVAL;
	*out_ms = t;
	return 0;
}

void
pb_time_format(int64_t ms, char *buf, size_t size)
{
	int y, mo, d;
	int64_t secs, day, rem;

	if (ms == PB_TIME_NONE) {
		snprintf(buf, size, "-");
		return;
	}
	secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	day = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	rem = secs - day * 86400;
	civil_from_days(day, &y, &mo, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d,
	    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
