/*
 * tstamp.c - timestamps in the first bytes of log lines.
 *
 * The stamp is looked for at the start of every field (after a space, tab,
 * '[', '(', '|', ',', ';' or '"') in the first SCAN_MAX bytes, after an
 * optional "<PRI>" and RFC 5424 version.  Zone-less times are taken as UTC,
 * so results are "log clock" values that compare correctly within and
 * across files written in one zone.  Recognised:
 *   ISO 8601 / RFC 3339   2024-06-14T15:16:01.123+02:00, 2024-06-14 15:16:01,978
 *                         (also journald short-iso, macOS `log show`
 *                         2024-01-02 03:04:05.123456-0800, Windows CBS
 *                         "2016-09-28 04:30:30, Info", RFC 5424 after <PRI>1)
 *   weekday + ISO         Tue 2024-01-02 03:04:05 CET (journald short-full)
 *   nginx error log       2024/06/14 15:16:01
 *   BlueGene-style        2005-06-03-15.42.50.675872
 *   syslog / journald     Jun 14 15:16:01[.123456] (year inferred), also with
 *                         the year before or after: 2024 Jun 14 ..., Jun 14 2024 ...
 *   ctime                 [Sun Dec 04 04:47:44 2005] (Apache error log, dmesg -T)
 *   Apache/nginx access   [10/Oct/2000:13:55:36 -0700] anywhere in the first 200 bytes
 *   Spark (yy/MM/dd)      17/06/09 20:10:40
 *   HDFS (yyMMdd HHmmss)  081109 203615 (first field only)
 *   Android logcat        03-17 16:13:38.811 (year inferred)
 *   Proxifier             [10.30 16:49:06] (year inferred), [2016.05.29 02:48:49]
 *   HealthApp             20171223-22:15:29:606
 *   glog / klog           I0928 04:30:30.123456 (first field only, year inferred)
 *   epoch seconds         1117838570[.123], a whole field among the first
 *                         five, 2000 to 2100
 *   dmesg                 [   12.345678] (first field only): seconds since
 *                         boot, returned as PB_TIME_BOOT + milliseconds
 *   US with AM/PM         2/19/2023 11:07:43 PM (Windows Event Viewer text)
 *   time of day only      [10:07:17], 10:07:17.123 (first field only; the
 *                         day of `ref`, or the day before if later than it)
 *   European              10.01.2017 06:41:19 (dots and a 4-digit year only)
 *   Windows Update        2012-04-10  22:46:58:017 (two spaces, ':' millis)
 *   table columns         | 01/01/2000 | 00:15:20 |, | Nov-25-2024 | 21:47:47 |
 *                         (ipmitool sel list/elist; the date is MM/DD)
 *   structured keys       "timestamp", "time", "ts", "@timestamp" (JSON) or
 *                         ts=, time=, time="..." (logfmt) with an RFC 3339
 *                         value, or JSON epoch seconds "ts":1670000000.123,
 *                         anywhere in the first SCAN_KEY_MAX bytes
 *   grep -n prefix        1:2014-06-04T16:17:42Z (the line is read after "N:")
 * A per-file learner (struct pb_tslearn) remembers which format at which
 * field matched the last lines and tries that first.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SCAN_ACCESS_MAX 200	/* how far into a line to look for [dd/Mon/yyyy */
#define SCAN_MAX	64	/* how far into a line a stamp may start */
#define SCAN_KEY_MAX	512	/* how far to look for "time": / time= keys */
#define EPOCH_FIELDS	5	/* epoch seconds only in the first fields */
#define EPOCH_MIN	946684800LL	/* 2000-01-01 */
#define EPOCH_MAX	4102444800LL	/* 2100-01-01 */
#define LEARN_AFTER	3	/* lines a format must match to be tried first */
#define BOOT_SPAN	(1LL << 50)	/* ms: range of boot-relative times */
#define REL_MAX_SECS	(100LL * 366 * 86400)	/* --since -N units: a century */
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
		/* Windows Update: "2012-04-10  22:46:58:017" */
		int wu = *c.p == ' ' && c.p + 1 < c.end && c.p[1] == ' ';

		c.p += 1 + wu;
		if (clock_hms(&c, &h, &mi, &s, &ms))
			return PB_TIME_NONE;
		if (wu && lit(&c, ':') == 0 && digits(&c, 3, &ms))
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

/* yy/MM/dd HH:MM:SS (Spark), MM-dd HH:MM:SS.mmm (logcat) */
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
	if (digits(&t, 2, &mo) == 0 && lit(&t, '-') == 0 &&
	    digits(&t, 2, &d) == 0 && lit(&t, ' ') == 0 &&
	    clock_hms(&t, &h, &mi, &s, &ms) == 0 &&
	    valid(2000, mo, d, h, mi, s))
		return done(&t, infer_year(mo, d, h, mi, s, ms, ref));
	return PB_TIME_NONE;
}

/* Does a field end here (the stamp is the whole field)? */
static int
field_end(const struct cur *c)
{
	return c->p == c->end || *c->p == ' ' || *c->p == '\t' ||
	    *c->p == ']' || *c->p == '|' || *c->p == ',' || *c->p == ';';
}

/* 10-digit epoch seconds between 2000 and 2100, optional fraction, as a
 * whole field: 1117838570 or 1117838570.123, not 1117838570abc. */
static int64_t
try_epoch(struct cur c, int64_t ref)
{
	int64_t v = 0;
	int n = 0, ms;

	(void)ref;
	if (c.p < c.end && *c.p == '0')		/* a zero-padded id */
		return PB_TIME_NONE;
	while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && n < 11) {
		v = v * 10 + (*c.p++ - '0');
		n++;
	}
	if (n != 10 || v < EPOCH_MIN || v >= EPOCH_MAX)
		return PB_TIME_NONE;
	ms = fraction(&c);
	if (!field_end(&c))
		return PB_TIME_NONE;
	return done(&c, v * 1000 + ms);
}

/* Proxifier: [MM.DD HH:MM:SS] (year inferred) or [YYYY.MM.DD HH:MM:SS] */
static int64_t
try_dotted(struct cur c, int64_t ref)
{
	int y = -1, mo, d, h, mi, s, ms;
	struct cur t;

	if (lit(&c, '['))
		return PB_TIME_NONE;
	t = c;
	if (digits(&t, 4, &y) == 0 && lit(&t, '.') == 0)
		c = t;
	else
		y = -1;
	if (digits(&c, 2, &mo) || lit(&c, '.') || digits(&c, 2, &d) ||
	    lit(&c, ' ') || clock_hms(&c, &h, &mi, &s, &ms) || lit(&c, ']'))
		return PB_TIME_NONE;
	if (!valid(y < 0 ? 2000 : y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, y < 0 ? infer_year(mo, d, h, mi, s, ms, ref) :
	    make(y, mo, d, h, mi, s, ms, 0));
}

/* HealthApp: yyyyMMdd-HH:mm:ss:SSS, the milliseconds not zero-padded. */
static int64_t
try_compact(struct cur c, int64_t ref)
{
	int y, mo, d, h, mi, s, ms = 0, n = 0;

	(void)ref;
	if (digits(&c, 4, &y) || digits(&c, 2, &mo) || digits(&c, 2, &d) ||
	    lit(&c, '-') || digits(&c, 2, &h) || lit(&c, ':') ||
	    digits(&c, 2, &mi) || lit(&c, ':') || digits(&c, 2, &s))
		return PB_TIME_NONE;
	if (lit(&c, ':') == 0) {
		while (n < 3 && c.p < c.end && *c.p >= '0' && *c.p <= '9') {
			ms = ms * 10 + (*c.p++ - '0');
			n++;
		}
		if (n == 0)
			return PB_TIME_NONE;
	}
	if (!valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, 0));
}

/* glog / klog: I0928 04:30:30.123456 (severity letter, month and day). */
static int64_t
try_glog(struct cur c, int64_t ref)
{
	int mo, d, h, mi, s, ms;

	if (c.p >= c.end || strchr("IWEF", *c.p) == NULL || *c.p == '\0')
		return PB_TIME_NONE;
	c.p++;
	if (digits(&c, 2, &mo) || digits(&c, 2, &d) || lit(&c, ' ') ||
	    clock_hms(&c, &h, &mi, &s, &ms) || !valid(2000, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, infer_year(mo, d, h, mi, s, ms, ref));
}

/* dmesg and journalctl -o short-monotonic: [   12.345678] */
static int64_t
try_boot(struct cur c, int64_t ref)
{
	int64_t secs = 0;
	int n = 0, ms;

	(void)ref;
	if (lit(&c, '['))
		return PB_TIME_NONE;
	while (c.p < c.end && *c.p == ' ')
		c.p++;
	while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && n < 10) {
		secs = secs * 10 + (*c.p++ - '0');
		n++;
	}
	if (n == 0 || c.p >= c.end || *c.p != '.')
		return PB_TIME_NONE;
	ms = fraction(&c);
	if (lit(&c, ']'))
		return PB_TIME_NONE;
	return done(&c, PB_TIME_BOOT + secs * 1000 + ms);
}

/* journald short-full: Tue 2024-01-02 03:04:05 CET */
static int64_t
try_wday_iso(struct cur c, int64_t ref)
{
	static const char days[] = "SunMonTueWedThuFriSat";

	(void)ref;
	if (c.end - c.p < 5 || c.p[3] != ' ')
		return PB_TIME_NONE;
	for (int i = 0; i < 7; i++)
		if (strncmp(c.p, days + 3 * i, 3) == 0) {
			c.p += 4;
			return try_iso(c);
		}
	return PB_TIME_NONE;
}

static int64_t
try_iso_r(struct cur c, int64_t ref)
{
	(void)ref;
	return try_iso(c);
}

static int64_t
try_access_r(struct cur c, int64_t ref)
{
	(void)ref;
	return try_access(c);
}

static int64_t
try_hdfs(struct cur c, int64_t ref)
{
	int y, mo, d, h, mi, s;

	(void)ref;
	if (digits(&c, 2, &y) == 0 && digits(&c, 2, &mo) == 0 &&
	    digits(&c, 2, &d) == 0 && lit(&c, ' ') == 0 &&
	    digits(&c, 2, &h) == 0 && digits(&c, 2, &mi) == 0 &&
	    digits(&c, 2, &s) == 0 && field_end(&c) &&
	    valid(2000 + y, mo, d, h, mi, s))
		return done(&c, make(2000 + y, mo, d, h, mi, s, 0, 0));
	return PB_TIME_NONE;
}

/*
 * A time of day alone, first on the line: [10:07:17] (Minecraft/Bukkit
 * servers), 10:07:17.123.  The day is the reference time's, or the day
 * before when that would put the line after it.
 */
static int64_t
try_clock_only(struct cur c, int64_t ref)
{
	int h, mi, s, ms, br = lit(&c, '[') == 0, y, mo, d;
	int64_t t;

	if (clock_hms(&c, &h, &mi, &s, &ms) || (br && lit(&c, ']')) ||
	    !field_end(&c) || !valid(2000, 1, 1, h, mi, s))
		return PB_TIME_NONE;
	civil_from_days(ref / 86400, &y, &mo, &d);
	t = make(y, mo, d, h, mi, s, ms, 0);
	if (t > ref * 1000 + 3600 * 1000)
		t -= DAY_MS;
	return done(&c, t);
}

/* US locale: 2/19/2023 11:07:43 PM (Windows Event Viewer text).  Only with
 * AM or PM, which tells month/day from day/month order. */
static int64_t
try_us_ampm(struct cur c, int64_t ref)
{
	int y, mo, d, h, mi, s, ms;

	(void)ref;
	if (digits12(&c, &mo) || lit(&c, '/') || digits12(&c, &d) ||
	    lit(&c, '/') || digits(&c, 4, &y) || lit(&c, ' '))
		return PB_TIME_NONE;
	if (digits(&c, 2, &h) != 0 && digits(&c, 1, &h) != 0)
		return PB_TIME_NONE;
	if (lit(&c, ':') || digits(&c, 2, &mi) || lit(&c, ':') ||
	    digits(&c, 2, &s))
		return PB_TIME_NONE;
	ms = fraction(&c);
	if (lit(&c, ' ') || c.end - c.p < 2 || (c.p[0] != 'A' && c.p[0] != 'P') ||
	    c.p[1] != 'M' || h < 1 || h > 12)
		return PB_TIME_NONE;
	h = h % 12 + (c.p[0] == 'P' ? 12 : 0);
	c.p += 2;
	if (!field_end(&c) || !valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, 0));
}

/* European: 10.01.2017 06:41:19.  Only with dots and a 4-digit year, which
 * no other format here writes, so day and month are not guessed. */
static int64_t
try_eu(struct cur c, int64_t ref)
{
	int y, mo, d, h, mi, s, ms;

	(void)ref;
	if (digits(&c, 2, &d) || lit(&c, '.') || digits(&c, 2, &mo) ||
	    lit(&c, '.') || digits(&c, 4, &y) || lit(&c, ' ') ||
	    clock_hms(&c, &h, &mi, &s, &ms) || !valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, 0));
}

/* ipmitool sel list / elist: date and time in their own columns,
 * "01/01/2000 | 00:15:20" or "Nov-25-2024 | 21:47:47". */
static int64_t
try_table(struct cur c, int64_t ref)
{
	int y, mo, d, h, mi, s, ms;

	(void)ref;
	if (digits(&c, 2, &mo) == 0) {
		if (lit(&c, '/') || digits(&c, 2, &d) || lit(&c, '/'))
			return PB_TIME_NONE;
	} else if (month(&c, &mo) || lit(&c, '-') || digits(&c, 2, &d) ||
	    lit(&c, '-'))
		return PB_TIME_NONE;
	if (digits(&c, 4, &y) || lit(&c, ' ') || lit(&c, '|') || lit(&c, ' ') ||
	    clock_hms(&c, &h, &mi, &s, &ms) || !field_end(&c) ||
	    !valid(y, mo, d, h, mi, s))
		return PB_TIME_NONE;
	return done(&c, make(y, mo, d, h, mi, s, ms, 0));
}

/* The formats, in the order they are tried at each field. */
enum { ANY = 0, FIRST = 1, DIGIT = 2, ALPHA = 4, BRACKET = 8 };
static const struct fmt {
	int64_t	(*fn)(struct cur, int64_t);
	int	 flags;
	int	 maxfield;	/* highest field index it may start at */
} fmts[] = {
	{ try_iso_r, DIGIT, SCAN_MAX },
	{ try_compact, DIGIT, SCAN_MAX },
	{ try_short, DIGIT, SCAN_MAX },		/* Spark, logcat */
	{ try_hdfs, DIGIT, 0 },
	{ try_epoch, DIGIT, EPOCH_FIELDS - 1 },
	{ try_syslog, DIGIT | ALPHA, SCAN_MAX },
	{ try_access_r, DIGIT, SCAN_MAX },
	{ try_us_ampm, DIGIT, SCAN_MAX },
	{ try_eu, DIGIT, SCAN_MAX },
	{ try_table, DIGIT | ALPHA, SCAN_MAX },
	{ try_clock_only, DIGIT | BRACKET, 0 },
	{ try_ctime, ALPHA, SCAN_MAX },
	{ try_wday_iso, ALPHA, SCAN_MAX },
	{ try_glog, ALPHA, 0 },
	{ try_dotted, BRACKET, SCAN_MAX },
	{ try_boot, BRACKET, 0 },
};
#define NFMT ((int)(sizeof(fmts) / sizeof(fmts[0])))

static int
kind(char ch)
{
	if (ch >= '0' && ch <= '9')
		return DIGIT;
	if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))
		return ALPHA;
	return ch == '[' ? BRACKET : 0;
}

static int64_t
try_fmt(int f, const char *p, const char *end, int field, int64_t ref)
{
	struct cur c = { p, end };

	if (field > fmts[f].maxfield || !(fmts[f].flags & kind(*p)))
		return PB_TIME_NONE;
	return fmts[f].fn(c, ref);
}

/* Skip "<PRI>" and an RFC 5424 version ("<165>1 "). */
static const char *
skip_pri(const char *p, const char *end)
{
	const char *q;

	if (p >= end || *p != '<')
		return p;
	for (q = p + 1; q < end && q < p + 5 && *q >= '0' && *q <= '9'; q++)
		;
	if (q >= end || *q != '>' || q == p + 1)
		return p;
	p = q + 1;
	for (q = p; q < end && q < p + 2 && *q >= '0' && *q <= '9'; q++)
		;
	if (q > p && q < end && *q == ' ')
		p = q + 1;
	return p;
}

static int
delim(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '[' || ch == '(' || ch == '|' ||
	    ch == ',' || ch == ';' || ch == '"';
}

/* The start of field `k` (fields start after a delimiter), or NULL. */
static const char *
field_start(const char *p, const char *limit, int k)
{
	const char *start = p;

	for (int n = 0; p < limit; p++) {
		if (p != start && !(delim(p[-1]) && p[0] != ' ' && p[0] != '\t'))
			continue;
		if (n++ == k)
			return p;
	}
	return NULL;
}

/* JSON epoch seconds after "ts": and the like: 1670000000[.123], ended
 * by a JSON delimiter. */
static int64_t
key_epoch(struct cur c)
{
	int64_t v = 0;
	int n = 0, ms;

	while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && n < 11) {
		v = v * 10 + (*c.p++ - '0');
		n++;
	}
	if (n != 10 || v < EPOCH_MIN || v >= EPOCH_MAX)
		return PB_TIME_NONE;
	ms = fraction(&c);
	if (c.p < c.end && *c.p != ',' && *c.p != '}' && *c.p != ' ')
		return PB_TIME_NONE;
	return done(&c, v * 1000 + ms);
}

/*
 * A time under a key, at q (on the 't'): "time":"<RFC 3339>" (also
 * "timestamp", "ts", "@timestamp"; or an epoch number) in JSON, ts=... or
 * time="..." in logfmt.  `line` is where the line starts.
 */
static int64_t
try_key(const char *line, const char *q, const char *end)
{
	static const char *const keys[] = { "timestamp", "time", "ts" };
	int json = q > line && (q[-1] == '"' ||
	    (q[-1] == '@' && q - 1 > line && q[-2] == '"'));
	struct cur c;

	if (!json && q > line && q[-1] != ' ' && q[-1] != '\t')
		return PB_TIME_NONE;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t kl = strlen(keys[i]);
		if ((size_t)(end - q) <= kl || memcmp(q, keys[i], kl) != 0)
			continue;
		c = (struct cur){ q + kl, end };
		if (!json) {
			if (lit(&c, '='))
				return PB_TIME_NONE;
			(void)lit(&c, '"');
			return try_iso(c);
		}
		if (lit(&c, '"'))
			return PB_TIME_NONE;
		while (c.p < c.end && *c.p == ' ')
			c.p++;
		if (lit(&c, ':'))
			return PB_TIME_NONE;
		while (c.p < c.end && *c.p == ' ')
			c.p++;
		if (lit(&c, '"') == 0)
			return try_iso(c);
		return key_epoch(c);
	}
	return PB_TIME_NONE;
}

/* Structured keys anywhere in the first SCAN_KEY_MAX bytes. */
static int64_t
scan_keys(const char *line, size_t len)
{
	const char *end = line + len, *q = line;
	const char *lim = line + (len < SCAN_KEY_MAX ? len : SCAN_KEY_MAX);
	int64_t t;

	while (q < lim && (q = memchr(q, 't', (size_t)(lim - q))) != NULL) {
		if ((t = try_key(line, q, end)) != PB_TIME_NONE)
			return t;
		q++;
	}
	return PB_TIME_NONE;
}

/* grep -n output: "12:" before the line.  Where the line starts, or NULL. */
static const char *
skip_lineno(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && q < p + 9 && *q >= '0' && *q <= '9')
		q++;
	if (q == p || q + 1 >= end || *q != ':' || delim(q[1]))
		return NULL;
	return q + 1;
}

/*
 * Try every format at every field start in the first SCAN_MAX bytes; the
 * first that parses wins.  *fmt and *field say which.
 */
static int64_t
scan(const char *line, size_t len, int64_t ref, int *fmt, int *field,
    int lineno)
{
	const char *end = line + len, *p = skip_pri(line, end), *start = p, *q;
	const char *limit = p + SCAN_MAX < end ? p + SCAN_MAX : end;
	int64_t t;
	int n = 0;

	for (q = p; q < limit; q++) {
		int k;
		if (q != start && !(delim(q[-1]) && q[0] != ' ' && q[0] != '\t'))
			continue;
		if ((k = kind(*q)) != 0)
			for (int f = 0; f < NFMT; f++)
				if ((fmts[f].flags & k) && n <= fmts[f].maxfield &&
				    (t = fmts[f].fn((struct cur){ q, end }, ref)) !=
				    PB_TIME_NONE) {
					*fmt = f;
					*field = n;
					return t;
				}
		n++;
	}
	/* Access logs: host ident user [10/Oct/2000:13:55:36 -0700] */
	size_t lim = len < SCAN_ACCESS_MAX ? len : SCAN_ACCESS_MAX;
	for (q = line; (q = memchr(q, '[', (size_t)(line + lim - q))) != NULL; q++) {
		struct cur c = { q + 1, end };
		if ((t = try_access(c)) != PB_TIME_NONE) {
			*fmt = -1;
			*field = -1;
			return t;
		}
		if (q + 1 >= line + lim)
			break;
	}
	*fmt = -1;
	*field = -1;
	if ((t = scan_keys(line, len)) != PB_TIME_NONE)
		return t;
	if (lineno && (q = skip_lineno(line, end)) != NULL &&
	    (t = scan(q, (size_t)(end - q), ref, fmt, field, 0)) !=
	    PB_TIME_NONE) {
		*fmt = -1;		/* the learner's field count is off */
		*field = -1;
	}
	return t;
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
	int fmt, field;

	return scan(line, len, ref, &fmt, &field, 1);
}

void
pb_tslearn_reset(struct pb_tslearn *l)
{
	l->fmt = l->field = -1;
	l->hits = 0;
}

int64_t
pb_time_parse_learn(struct pb_tslearn *l, const char *line, size_t len,
    int64_t ref)
{
	const char *end = line + len, *p, *q;
	int64_t t;
	int fmt, field;

	if (l->hits >= LEARN_AFTER && l->fmt >= 0) {
		p = skip_pri(line, end);
		q = field_start(p, p + SCAN_MAX < end ? p + SCAN_MAX : end,
		    l->field);
		if (q != NULL && (t = try_fmt(l->fmt, q, end, l->field, ref)) !=
		    PB_TIME_NONE)
			return t;
	}
	if ((t = scan(line, len, ref, &fmt, &field, 1)) == PB_TIME_NONE)
		return t;
	if (fmt == l->fmt && field == l->field) {
		if (l->hits < LEARN_AFTER)
			l->hits++;
	} else {
		l->fmt = fmt;
		l->field = field;
		l->hits = 1;
	}
	return t;
}

int
pb_time_is_boot(int64_t t)
{
	return t != PB_TIME_NONE && t >= PB_TIME_BOOT &&
	    t < PB_TIME_BOOT + BOOT_SPAN;
}

/*
 * What journalctl users type: "now", "today", "yesterday", "tomorrow",
 * "-1h", "+30min", "-2 days", "2 hours ago" (all counted from `ref`).
 * PB_TIME_NONE if s is none of them.
 */
static int64_t
relative_arg(const char *s, int64_t ref)
{
	static const struct { const char *name; int64_t secs; } units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 },
		{ "seconds", 1 }, { "m", 60 }, { "min", 60 }, { "mins", 60 },
		{ "minute", 60 }, { "minutes", 60 }, { "h", 3600 },
		{ "hr", 3600 }, { "hour", 3600 }, { "hours", 3600 },
		{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
		{ "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
	};
	int64_t day = ref - (ref % 86400 + 86400) % 86400, n = 0;
	int sign = 0, nd = 0;
	size_t i, ul;
	const char *u, *ue;

	if (strcmp(s, "now") == 0)
		return ref * 1000;
	if (strcmp(s, "today") == 0)
		return day * 1000;
	if (strcmp(s, "yesterday") == 0)
		return (day - 86400) * 1000;
	if (strcmp(s, "tomorrow") == 0)
		return (day + 86400) * 1000;
	if (*s == '-' || *s == '+')
		sign = *s++ == '-' ? -1 : 1;
	for (; *s >= '0' && *s <= '9'; s++, nd++) {
		if (n > 100000000)	/* three thousand years of seconds */
			return PB_TIME_NONE;
		n = n * 10 + (*s - '0');
	}
	while (*s == ' ')
		s++;
	for (u = s; *s >= 'a' && *s <= 'z'; s++)
		;
	ue = s;
	while (*s == ' ')
		s++;
	if (sign == 0 && strcmp(s, "ago") == 0)
		sign = -1, s += 3;
	if (sign == 0 || nd == 0 || *s != '\0')
		return PB_TIME_NONE;
	ul = (size_t)(ue - u);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == ul &&
		    memcmp(units[i].name, u, ul) == 0) {
			/* At most a century either way: "-136813136d" is a
			 * typo, not a time any log holds. */
			if (n > REL_MAX_SECS / units[i].secs)
				return PB_TIME_NONE;
			return (ref + sign * n * units[i].secs) * 1000;
		}
	return PB_TIME_NONE;
}

int
pb_time_arg(const char *s, int64_t ref, int64_t *out_ms)
{
	size_t len = strlen(s);
	int y, mo, d, h, mi, sec = 0;
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
	/* YYYY-MM-DD[T ]HH:MM, without seconds */
	c.p = s;
	if (digits(&c, 4, &y) == 0 && lit(&c, '-') == 0 &&
	    digits(&c, 2, &mo) == 0 && lit(&c, '-') == 0 &&
	    digits(&c, 2, &d) == 0 && (lit(&c, 'T') == 0 || lit(&c, ' ') == 0) &&
	    digits(&c, 2, &h) == 0 && lit(&c, ':') == 0 &&
	    digits(&c, 2, &mi) == 0 && c.p == c.end) {
		if (!valid(y, mo, d, h, mi, 0))
			return PB_EINVAL;
		*out_ms = make(y, mo, d, h, mi, 0, 0, 0);
		return 0;
	}
	/* HH:MM or HH:MM:SS: that time today (journalctl's reading) */
	c.p = s;
	if (digits(&c, 2, &h) == 0 && lit(&c, ':') == 0 &&
	    digits(&c, 2, &mi) == 0 && (c.p == c.end ||
	    (lit(&c, ':') == 0 && digits(&c, 2, &sec) == 0 && c.p == c.end))) {
		if (!valid(2000, 1, 1, h, mi, sec))
			return PB_EINVAL;
		*out_ms = (ref - (ref % 86400 + 86400) % 86400) * 1000 +
		    (h * 3600 + mi * 60 + sec) * 1000LL;
		return 0;
	}
	if ((t = relative_arg(s, ref)) != PB_TIME_NONE) {
		*out_ms = t;
		return 0;
	}
	t = pb_time_parse(s, len, ref);
	if (t == PB_TIME_NONE || pb_time_is_boot(t))
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
	if (pb_time_is_boot(ms)) {		/* seconds since boot */
		ms -= PB_TIME_BOOT;
		snprintf(buf, size, "boot+%lld.%03llds", (long long)(ms / 1000),
		    (long long)(ms % 1000));
		return;
	}
	secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	day = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	rem = secs - day * 86400;
	civil_from_days(day, &y, &mo, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d,
	    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
