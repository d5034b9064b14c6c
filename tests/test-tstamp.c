/*
 * test-tstamp.c - pb_time_parse, pb_time_arg, pb_time_format (tstamp.c).
 *
 * Expected values are computed with timegm(3), independently of the code
 * under test.  Zone-less stamps are UTC; year-less stamps take their year
 * from the reference time `ref` (seconds).  Lines are shaped after the
 * LogHub samples (logpai/loghub: Proxifier, HealthApp, HPC, Thunderbird,
 * OpenStack, Windows) and vendor documentation (RFC 5424 section 6.5,
 * glog, dmesg, journalctl(1) output modes, macOS log(1) show).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"

/* Seconds since the epoch of a UTC civil time. */
static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* The same, in milliseconds, plus ms. */
static int64_t
utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	return utc(y, mo, d, h, mi, s) * 1000 + ms;
}

static int64_t
parse(const char *line, int64_t ref)
{
	return pb_time_parse(line, strlen(line), ref);
}

#define DAY_S 86400LL

/* A reference time well inside 2024, for stamps that carry their year. */
#define REF2024 (utc(2024, 7, 1, 0, 0, 0))

/* ---- ISO 8601 / RFC 3339 ------------------------------------------------ */

static void
test_time_parse_iso_positive_offset_converts_to_utc(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-14T15:16:01.123+02:00 host app: x", REF2024),
	    utc_ms(2024, 6, 14, 13, 16, 1, 123));
}

static void
test_time_parse_iso_negative_offset_converts_to_utc(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-14T15:16:01-05:30 host app: x", REF2024),
	    utc_ms(2024, 6, 14, 20, 46, 1, 0));
	/* +HHMM without a colon, and +HH alone */
	assert_int_equal(parse("2024-06-14T15:16:01+0100 x", REF2024),
	    utc_ms(2024, 6, 14, 14, 16, 1, 0));
	assert_int_equal(parse("2024-06-14T15:16:01+03 x", REF2024),
	    utc_ms(2024, 6, 14, 12, 16, 1, 0));
}

static void
test_time_parse_iso_z_is_utc(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-14T15:16:01.5Z kernel: x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 500));
}

static void
test_time_parse_iso_comma_millis(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-14 15:16:01,978 INFO [main] Started", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 978));
}

static void
test_time_parse_iso_fraction_beyond_millis_truncates(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-14T15:16:01.123456789Z x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 123));
}

static void
test_time_parse_nginx_slashes(void **state)
{
	(void)state;
	assert_int_equal(parse("2024/06/14 15:16:01 [error] 1234#0: *1 open() failed",
	    REF2024), utc_ms(2024, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_bgl_dashed(void **state)
{
	(void)state;
	assert_int_equal(parse("2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS",
	    REF2024), utc_ms(2005, 6, 3, 15, 42, 50, 675));
}

/* ---- syslog -------------------------------------------------------------- */

static void
test_time_parse_syslog_without_year_takes_year_of_ref(void **state)
{
	(void)state;
	assert_int_equal(parse("Jun 14 15:16:01 host sshd[1]: Accepted", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_syslog_space_padded_day(void **state)
{
	(void)state;
	assert_int_equal(parse("Jun  4 09:08:07 host cron[2]: x", REF2024),
	    utc_ms(2024, 6, 4, 9, 8, 7, 0));
}

static void
test_time_parse_syslog_fraction(void **state)
{
	(void)state;
	assert_int_equal(parse("Jun 14 15:16:01.123456 host kernel: x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 123));
}

static void
test_time_parse_syslog_with_year_before_month(void **state)
{
	(void)state;
	/* The year in the line wins over the reference year. */
	assert_int_equal(parse("2019 Jun 14 15:16:01 host app: x", REF2024),
	    utc_ms(2019, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_syslog_with_year_after_day(void **state)
{
	(void)state;
	assert_int_equal(parse("Jun 14 2019 15:16:01 host app: x", REF2024),
	    utc_ms(2019, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_syslog_with_year_after_time(void **state)
{
	(void)state;
	assert_int_equal(parse("Jun 14 15:16:01 2019 host app: x", REF2024),
	    utc_ms(2019, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_syslog_infers_previous_year(void **state)
{
	(void)state;
	/* A December line read just after New Year belongs to the old year. */
	int64_t ref = utc(2025, 1, 1, 0, 10, 0);

	assert_int_equal(parse("Dec 31 23:59:00 host app: x", ref),
	    utc_ms(2024, 12, 31, 23, 59, 0, 0));
	/* ...while a line from the first minutes of the new year stays there. */
	assert_int_equal(parse("Jan  1 00:05:00 host app: x", ref),
	    utc_ms(2025, 1, 1, 0, 5, 0, 0));
}

static void
test_time_parse_syslog_infers_previous_year_for_any_future_date(void **state)
{
	(void)state;
	/* June read in January: last June, not five months ahead. */
	assert_int_equal(parse("Jun 14 15:16:01 host app: x", utc(2025, 1, 10, 0, 0, 0)),
	    utc_ms(2024, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_syslog_tolerates_slightly_future_clock(void **state)
{
	(void)state;
	/* A day ahead of ref (clock skew) keeps ref's year. */
	assert_int_equal(parse("Jan  2 08:00:00 host app: x", utc(2025, 1, 1, 12, 0, 0)),
	    utc_ms(2025, 1, 2, 8, 0, 0, 0));
}

static void
test_time_parse_syslog_pri_prefix(void **state)
{
	(void)state;
	assert_int_equal(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
	    REF2024), utc_ms(2023, 10, 11, 22, 14, 15, 0));
	assert_int_equal(parse("<191>2024-06-14T15:16:01Z host app: x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 0));
}

/* ---- other formats -------------------------------------------------------- */

static void
test_time_parse_apache_ctime_in_brackets(void **state)
{
	(void)state;
	assert_int_equal(parse("[Sun Dec 04 04:47:44 2005] [error] mod_jk child "
	    "workerEnv in error state 6", REF2024), utc_ms(2005, 12, 4, 4, 47, 44, 0));
}

static void
test_time_parse_access_log_offset_converts_to_utc(void **state)
{
	(void)state;
	assert_int_equal(parse("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "
	    "\"GET /apache_pb.gif HTTP/1.0\" 200 2326", REF2024),
	    utc_ms(2000, 10, 10, 20, 55, 36, 0));
}

static void
test_time_parse_access_log_beyond_scan_limit_is_none(void **state)
{
	char line[400];

	(void)state;
	/* The [dd/Mon/yyyy stamp is looked for in the first 200 bytes only. */
	memset(line, 'x', 250);
	strcpy(line + 250, " [10/Oct/2000:13:55:36 -0700] GET /");
	assert_int_equal(parse(line, REF2024), PB_TIME_NONE);
}

static void
test_time_parse_spark_short_year(void **state)
{
	(void)state;
	assert_int_equal(parse("17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: "
	    "Registered signal handlers", REF2024), utc_ms(2017, 6, 9, 20, 10, 40, 0));
}

static void
test_time_parse_hdfs_compact(void **state)
{
	(void)state;
	assert_int_equal(parse("081109 203615 148 INFO dfs.DataNode$PacketResponder: "
	    "PacketResponder 1 for block blk_38865049064139660 terminating", REF2024),
	    utc_ms(2008, 11, 9, 20, 36, 15, 0));
}

static void
test_time_parse_android_logcat_infers_year(void **state)
{
	(void)state;
	assert_int_equal(parse("03-17 16:13:38.811  1702  2395 D WindowManager: "
	    "printFreezingDisplayLogs", REF2024), utc_ms(2024, 3, 17, 16, 13, 38, 811));
	/* Read in early January, a December logcat line is last year's. */
	assert_int_equal(parse("12-30 23:00:00.000  1702  2395 D x: y",
	    utc(2025, 1, 3, 0, 0, 0)), utc_ms(2024, 12, 30, 23, 0, 0, 0));
}

static void
test_time_parse_epoch_with_fraction(void **state)
{
	(void)state;
	assert_int_equal(parse("1117838570.123 node-1 RAS KERNEL INFO", REF2024),
	    1117838570123LL);
}

static void
test_time_parse_epoch_after_short_token(void **state)
{
	(void)state;
	/* BGL: "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 ..." */
	assert_int_equal(parse("- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 "
	    "2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO", REF2024),
	    1117838570000LL);
}

static void
test_time_parse_epoch_glued_to_text_is_none(void **state)
{
	(void)state;
	/* A number that runs into letters is an id, not a time. */
	assert_int_equal(parse("1117838570abc happened", REF2024), PB_TIME_NONE);
}

/* ---- rejection ------------------------------------------------------------ */

static void
test_time_parse_garbage_is_none(void **state)
{
	(void)state;
	assert_int_equal(parse("hello world, nothing to see", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("Foo 14 15:16:01 host", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("12345 short number", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_month_13_is_none(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-13-01T00:00:00Z x", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("2024/13/01 00:00:00 x", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("13-17 16:13:38.811 x", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_hour_25_is_none(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-14T25:00:00Z x", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("Jun 14 25:00:00 host x", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("2024-06-14 12:61:00 x", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_day_zero_is_none(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-06-00T10:00:00Z x", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("2024-06-32T10:00:00Z x", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_respects_length(void **state)
{
	(void)state;
	/* Only the first len bytes are read: a stamp cut short is no stamp. */
	assert_int_equal(pb_time_parse("2024-06-14T15:16:01Z", 12, REF2024),
	    PB_TIME_NONE);
}

/* ---- pb_time_arg, pb_time_format ------------------------------------------- */

static void
test_time_arg_date_is_midnight_utc(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(pb_time_arg("2024-06-14", REF2024, &t), 0);
	assert_int_equal(t, utc_ms(2024, 6, 14, 0, 0, 0, 0));
}

static void
test_time_arg_accepts_full_timestamp(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(pb_time_arg("2024-06-14T12:30:00", REF2024, &t), 0);
	assert_int_equal(t, utc_ms(2024, 6, 14, 12, 30, 0, 0));
	assert_int_equal(pb_time_arg("Jun 14 12:30:00", REF2024, &t), 0);
	assert_int_equal(t, utc_ms(2024, 6, 14, 12, 30, 0, 0));
}

/* A relative offset beyond a century is refused, not turned into a time no
 * log can hold (found by fuzz-tstamp: "-136813136d"). */
static void
test_time_arg_relative_out_of_range_refused(void **state)
{
	int64_t t = 42;

	(void)state;
	assert_int_equal(pb_time_arg("-136813136d", REF2024, &t), PB_EINVAL);
	assert_int_equal(t, 42);
	assert_int_equal(pb_time_arg("+99999999w", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("-36500d", REF2024, &t), 0);
}

/* What journalctl users type, relative forms counted from the reference. */
static void
test_time_arg_journalctl_forms(void **state)
{
	int64_t ref = utc(2024, 7, 1, 15, 20, 30), t = 0;

	(void)state;
	assert_int_equal(pb_time_arg("2025-12-10T10:00", ref, &t), 0);
	assert_int_equal(t, utc_ms(2025, 12, 10, 10, 0, 0, 0));
	assert_int_equal(pb_time_arg("2025-12-10 10:00", ref, &t), 0);
	assert_int_equal(t, utc_ms(2025, 12, 10, 10, 0, 0, 0));
	assert_int_equal(pb_time_arg("10:00", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 10, 0, 0, 0));
	assert_int_equal(pb_time_arg("08:13:05", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 8, 13, 5, 0));
	assert_int_equal(pb_time_arg("now", ref, &t), 0);
	assert_int_equal(t, ref * 1000);
	assert_int_equal(pb_time_arg("today", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 0, 0, 0, 0));
	assert_int_equal(pb_time_arg("yesterday", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 6, 30, 0, 0, 0, 0));
	assert_int_equal(pb_time_arg("tomorrow", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 2, 0, 0, 0, 0));
	assert_int_equal(pb_time_arg("-1h", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 14, 20, 30, 0));
	assert_int_equal(pb_time_arg("-30min", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 14, 50, 30, 0));
	assert_int_equal(pb_time_arg("+2d", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 3, 15, 20, 30, 0));
	assert_int_equal(pb_time_arg("-2 days", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 6, 29, 15, 20, 30, 0));
	assert_int_equal(pb_time_arg("3 hours ago", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 12, 20, 30, 0));
	assert_int_equal(pb_time_arg("-90s", ref, &t), 0);
	assert_int_equal(t, utc_ms(2024, 7, 1, 15, 19, 0, 0));
}

static void
test_time_parse_rejects_day_past_month_end(void **state)
{
	(void)state;
	assert_true(pb_time_parse("2024-02-31T10:00:00Z x", 22, REF2024) ==
	    PB_TIME_NONE);
	assert_true(pb_time_parse("Apr 31 10:00:00 host x", 22, REF2024) ==
	    PB_TIME_NONE);
}

static void
test_time_arg_invalid_date_is_einval(void **state)
{
	int64_t t = 42;

	(void)state;
	assert_int_equal(pb_time_arg("2024-13-01", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("yesterdays", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("-1", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("-1 fortnight", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("1h", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("25:00", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("-99999999999999999999h", REF2024, &t),
	    PB_EINVAL);
	assert_int_equal(pb_time_arg("", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("2023-02-29", REF2024, &t), PB_EINVAL);
	assert_int_equal(pb_time_arg("2024-04-31", REF2024, &t), PB_EINVAL);
	assert_int_equal(t, 42);	/* untouched on error */
	assert_int_equal(pb_time_arg("2024-02-29", REF2024, &t), 0);
}

static void
test_time_format_epoch_and_value(void **state)
{
	char buf[32];

	(void)state;
	pb_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00");
	pb_time_format(utc_ms(2024, 2, 29, 13, 16, 1, 999), buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T13:16:01");
}

static void
test_time_format_negative_rounds_down(void **state)
{
	char buf[32];

	(void)state;
	pb_time_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59");
}

static void
test_time_format_none_is_dash(void **state)
{
	char buf[32];

	(void)state;
	pb_time_format(PB_TIME_NONE, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void
test_time_format_round_trips_through_parse(void **state)
{
	char buf[32];
	int64_t t = utc_ms(2031, 12, 31, 23, 59, 58, 0);

	(void)state;
	pb_time_format(t, buf, sizeof(buf));
	assert_int_equal(parse(buf, REF2024), t);
}

/* ---- found anywhere in the first 64 bytes (issue 11, section 4) ---------- */

static void
test_time_parse_proxifier_month_dot_day_infers_year(void **state)
{
	(void)state;
	assert_int_equal(parse("[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 "
	    "open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS", REF2024),
	    utc_ms(2023, 10, 30, 16, 49, 6, 0));
	assert_int_equal(parse("[2016.05.29 02:49:04] svchost.exe (820, System) *64 - "
	    "resolve win10.ipv6.microsoft.com. : DNS", REF2024),
	    utc_ms(2016, 5, 29, 2, 49, 4, 0));
	assert_int_equal(parse("[13.30 16:49:06] x", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_healthapp_compact_unpadded_millis(void **state)
{
	(void)state;
	assert_int_equal(parse("20171223-22:15:29:606|Step_LSC|30002312|"
	    "onStandStepChanged 3579", REF2024), utc_ms(2017, 12, 23, 22, 15, 29, 606));
	assert_int_equal(parse("20171223-22:15:35:11|Step_SPUtils|30002312| "
	    "getTodayTotalDetailSteps = 1514038440000##7015", REF2024),
	    utc_ms(2017, 12, 23, 22, 15, 35, 11));
}

static void
test_time_parse_epoch_in_fifth_field(void **state)
{
	(void)state;
	/* HPC: node, component, state, then the epoch. */
	assert_int_equal(parse("134681 node-246 unix.hw state_change.unavailable "
	    "1077804742 1 Component State Change: Component \"alt0\" is in the "
	    "unavailable state (HWID=1973)", REF2024), 1077804742000LL);
	/* Thunderbird: after "-". */
	assert_int_equal(parse("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 "
	    "dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
	    REF2024), 1131566461000LL);
	/* journalctl -o short-unix */
	assert_int_equal(parse("1704164645.123456 host kernel: x", REF2024),
	    1704164645123LL);
}

static void
test_time_parse_epoch_needs_whole_field_early_and_sane(void **state)
{
	(void)state;
	assert_int_equal(parse("a b c d e 1077804742 x", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("job 9999999999 done", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("id 0999999999 done", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("blk 1077804742x done", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("blk_1077804742 done", REF2024), PB_TIME_NONE);
	assert_int_equal(parse("size 10778047420 done", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_bgl_dashed_later_in_line(void **state)
{
	(void)state;
	assert_int_equal(parse("R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
	    "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error "
	    "corrected", REF2024), utc_ms(2005, 6, 3, 15, 42, 50, 675));
}

static void
test_time_parse_access_stamp_without_brackets(void **state)
{
	(void)state;
	assert_int_equal(parse("10/Oct/2000:13:55:36 -0700 GET /apache_pb.gif 200",
	    REF2024), utc_ms(2000, 10, 10, 20, 55, 36, 0));
}

static void
test_time_parse_rfc5424_after_pri_and_version(void **state)
{
	(void)state;
	assert_int_equal(parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com "
	    "su - ID47 - 'su root' failed for lonvick on /dev/pts/8", REF2024),
	    utc_ms(2003, 10, 11, 22, 14, 15, 3));
	assert_int_equal(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 "
	    "myproc 8710 - - %% It's time to make the do-nuts.", REF2024),
	    utc_ms(2003, 8, 24, 12, 14, 15, 0));
}

static void
test_time_parse_glog_klog_infers_year(void **state)
{
	(void)state;
	assert_int_equal(parse("I0817 16:33:28.373429       1 server.go:440] "
	    "Version: v1.21.0", REF2024), utc_ms(2023, 8, 17, 16, 33, 28, 373));
	assert_int_equal(parse("E0228 04:30:30.123456   12345 reflector.go:138] "
	    "failed to list", REF2024), utc_ms(2024, 2, 28, 4, 30, 30, 123));
	/* Only as the first field: "I0817 ..." inside a message is no stamp. */
	assert_int_equal(parse("x I0817 16:33:28.373429 y", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_windows_cbs(void **state)
{
	(void)state;
	assert_int_equal(parse("2016-09-28 04:30:30, Info                  CBS    "
	    "Loaded Servicing Stack v6.1.7601.23505 with Core: C:\\Windows\\winsxs",
	    REF2024), utc_ms(2016, 9, 28, 4, 30, 30, 0));
}

static void
test_time_parse_journald_and_log_show_formats(void **state)
{
	(void)state;
	/* macOS log show */
	assert_int_equal(parse("2024-01-02 03:04:05.123456-0800 0x1a2b     Default"
	    "     0x0                  123    0    kernel: (AppleACPIPlatform) x",
	    REF2024), utc_ms(2024, 1, 2, 11, 4, 5, 123));
	/* journalctl -o short-iso, short-full */
	assert_int_equal(parse("2024-01-02T03:04:05+0100 host sshd[1]: x", REF2024),
	    utc_ms(2024, 1, 2, 2, 4, 5, 0));
	assert_int_equal(parse("Tue 2024-01-02 03:04:05 CET host sshd[1]: x",
	    REF2024), utc_ms(2024, 1, 2, 3, 4, 5, 0));
}

static void
test_time_parse_stamp_after_a_long_first_field(void **state)
{
	(void)state;
	/* OpenStack: the file name comes first. */
	assert_int_equal(parse("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 "
	    "00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b] "
	    "10.11.10.1 \"GET /v2/servers/detail HTTP/1.1\" status: 200", REF2024),
	    utc_ms(2017, 5, 16, 0, 0, 0, 8));
	assert_int_equal(parse("host42 [pid 7] 2024-06-14T15:16:01Z x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_stamp_past_64_bytes_is_none(void **state)
{
	char line[200];

	(void)state;
	memset(line, 'x', 70);
	strcpy(line + 70, " 2024-06-14T15:16:01Z x");
	assert_int_equal(parse(line, REF2024), PB_TIME_NONE);
}

static void
test_time_parse_dmesg_is_seconds_since_boot(void **state)
{
	char buf[32];
	int64_t t, t2, out = 42;

	(void)state;
	t = parse("[    5.123456] usb 1-1: new high-speed USB device number 2 "
	    "using xhci_hcd", REF2024);
	assert_true(pb_time_is_boot(t));
	assert_int_equal(t - PB_TIME_BOOT, 5123);
	t2 = parse("[12345.678901] EXT4-fs error (device sda1): x", REF2024);
	assert_int_equal(t2 - t, 12345678 - 5123);	/* differences hold */
	pb_time_format(t2, buf, sizeof(buf));
	assert_string_equal(buf, "boot+12345.678s");
	/* Below every date, and no --since/--until value. */
	assert_true(t2 < utc_ms(1970, 1, 1, 0, 0, 0, 0) - 1000000LL * DAY_S);
	assert_false(pb_time_is_boot(utc_ms(2024, 1, 1, 0, 0, 0, 0)));
	assert_false(pb_time_is_boot(PB_TIME_NONE));
	assert_int_equal(pb_time_arg("[    5.123456]", REF2024, &out), PB_EINVAL);
	assert_int_equal(out, 42);
	/* dmesg -T prints dates instead. */
	assert_int_equal(parse("[Sun Dec 04 04:47:44 2005] usb 1-1: x", REF2024),
	    utc_ms(2005, 12, 4, 4, 47, 44, 0));
}

static void
test_time_parse_us_date_with_am_pm(void **state)
{
	(void)state;
	assert_int_equal(parse("Date:          2/19/2023 11:07:43 PM", REF2024),
	    utc_ms(2023, 2, 19, 23, 7, 43, 0));
	assert_int_equal(parse("Date:          12/01/2023 12:07:43 AM", REF2024),
	    utc_ms(2023, 12, 1, 0, 7, 43, 0));
	/* Without AM/PM, 03/11/2016 may be either order: not a time. */
	assert_int_equal(parse("Date:          03/11/2016 23:22:06", REF2024),
	    PB_TIME_NONE);
	assert_int_equal(parse("Date: 2/30/2023 11:07:43 PM", REF2024), PB_TIME_NONE);
}

static void
test_time_parse_time_of_day_takes_day_of_ref(void **state)
{
	int64_t ref = utc(2024, 3, 10, 12, 0, 0);

	(void)state;
	assert_int_equal(parse("[10:07:17] [pool-31-thread-3/WARN]: at java."
	    "security.cert.CertPathValidator.validate(CertPathValidator.java:292)",
	    ref), utc_ms(2024, 3, 10, 10, 7, 17, 0));
	/* Later than the reference (the file's mtime): the day before. */
	assert_int_equal(parse("[23:59:58] [Server thread/INFO]: x", ref),
	    utc_ms(2024, 3, 9, 23, 59, 58, 0));
	assert_int_equal(parse("x [10:07:17] y", ref), PB_TIME_NONE);
	assert_int_equal(parse("10:07:17abc", ref), PB_TIME_NONE);
}

/* ---- the per-file learner ------------------------------------------------- */

static void
test_time_learn_prefers_the_field_seen_before(void **state)
{
	struct pb_tslearn l;
	static const char odd[] = "1718359200 2024-06-14T11:00:00Z x";

	(void)state;
	pb_tslearn_reset(&l);
	for (int i = 0; i < 3; i++) {
		static const char ln[] = "node1 2024-06-14T10:00:00Z x";
		assert_int_equal(pb_time_parse_learn(&l, ln, sizeof(ln) - 1,
		    REF2024), utc_ms(2024, 6, 14, 10, 0, 0, 0));
	}
	/* Alone, the epoch in the first field wins; this file's stamps are
	 * in the second field. */
	assert_int_equal(parse(odd, REF2024), utc_ms(2024, 6, 14, 10, 0, 0, 0));
	assert_int_equal(pb_time_parse_learn(&l, odd, sizeof(odd) - 1, REF2024),
	    utc_ms(2024, 6, 14, 11, 0, 0, 0));
	/* A new file starts over. */
	pb_tslearn_reset(&l);
	assert_int_equal(pb_time_parse_learn(&l, odd, sizeof(odd) - 1, REF2024),
	    utc_ms(2024, 6, 14, 10, 0, 0, 0));
	/* A line the learnt format does not fit is still scanned. */
	assert_int_equal(pb_time_parse_learn(&l, "Jun 14 15:16:01 h x", 19,
	    REF2024), utc_ms(2024, 6, 14, 15, 16, 1, 0));
}

static void
test_time_parse_json_and_logfmt_keys_anywhere(void **state)
{
	char line[600];

	(void)state;
	/* The key may come after SCAN_MAX bytes of other fields. */
	assert_int_equal(parse("{\"level\":\"error\",\"caller\":\"virt-launcher/"
	    "main.go:123\",\"msg\":\"Failed to start domain\",\"timestamp\":"
	    "\"2024-06-14T15:16:01.123456789Z\"}", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 123));
	assert_int_equal(parse("{\"msg\":\"x\", \"@timestamp\" : "
	    "\"2024-06-14T15:16:01.5+02:00\"}", REF2024),
	    utc_ms(2024, 6, 14, 13, 16, 1, 500));
	assert_int_equal(parse("{\"level\":\"warn\",\"ts\":1670000000.123,"
	    "\"msg\":\"x\"}", REF2024), 1670000000LL * 1000 + 123);
	assert_int_equal(parse("level=warn component=cluster.........................."
	    "............ ts=2024-06-14T15:16:01.12Z msg=x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 120));
	assert_int_equal(parse("level=error msg=\"abcdefghijklmnopqrstuvwxyzabcdefghij"
	    "klmnopqrstuvwxyz\" time=\"2016-11-23T10:53:56.577585843-05:00\"",
	    REF2024), utc_ms(2016, 11, 23, 15, 53, 56, 577));
	/* Not a key: glued to a word, or past the bound. */
	assert_int_equal(parse("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxx uptime=2024-06-14T15:16:01Z", REF2024), PB_TIME_NONE);
	memset(line, 'x', 520);
	strcpy(line + 520, " ts=2024-06-14T15:16:01Z");
	assert_int_equal(parse(line, REF2024), PB_TIME_NONE);
}

static void
test_time_parse_european_dotted_date(void **state)
{
	(void)state;
	assert_int_equal(parse("Fehler,10.01.2017 06:41:19,Service Control "
	    "Manager,7034,Keine,\"Dienst\"", REF2024),
	    utc_ms(2017, 1, 10, 6, 41, 19, 0));
	/* A two-digit year is ambiguous: not taken. */
	assert_int_equal(parse("Fehler,10.01.17 06:41:19,x", REF2024),
	    PB_TIME_NONE);
}

static void
test_time_parse_windows_update_colon_millis(void **state)
{
	(void)state;
	assert_int_equal(parse("2012-04-10  22:46:58:017     956    728 AU  AU "
	    "received approval", REF2024), utc_ms(2012, 4, 10, 22, 46, 58, 17));
}

static void
test_time_parse_ipmitool_date_and_time_columns(void **state)
{
	(void)state;
	assert_int_equal(parse("   1 | 01/02/2000 | 00:15:20 | System Firmware "
	    "Progress #0x05 | Asserted", REF2024),
	    utc_ms(2000, 1, 2, 0, 15, 20, 0));
	assert_int_equal(parse("  3c | Nov-25-2024 | 21:47:47 | Power Supply PS2 "
	    "| Failure detected | Asserted", REF2024),
	    utc_ms(2024, 11, 25, 21, 47, 47, 0));
}

static void
test_time_parse_grep_n_line_number_prefix(void **state)
{
	(void)state;
	assert_int_equal(parse("1:2014-06-04T16:17:42.020445+02:00 fux "
	    "wickedd-dhcp4[2563]: enp1s0f0: Request", REF2024),
	    utc_ms(2014, 6, 4, 14, 17, 42, 20));
	assert_int_equal(parse("1234:Jun 14 15:16:01 host sshd[1]: x", REF2024),
	    utc_ms(2024, 6, 14, 15, 16, 1, 0));
	/* A time of day first is still that, not "line 10". */
	assert_int_equal(parse("10:07:17 x", utc(2024, 6, 14, 12, 0, 0)),
	    utc_ms(2024, 6, 14, 10, 7, 17, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse_rejects_day_past_month_end),
		cmocka_unit_test(test_time_parse_iso_positive_offset_converts_to_utc),
		cmocka_unit_test(test_time_parse_iso_negative_offset_converts_to_utc),
		cmocka_unit_test(test_time_parse_iso_z_is_utc),
		cmocka_unit_test(test_time_parse_iso_comma_millis),
		cmocka_unit_test(test_time_parse_iso_fraction_beyond_millis_truncates),
		cmocka_unit_test(test_time_parse_nginx_slashes),
		cmocka_unit_test(test_time_parse_bgl_dashed),
		cmocka_unit_test(test_time_parse_syslog_without_year_takes_year_of_ref),
		cmocka_unit_test(test_time_parse_syslog_space_padded_day),
		cmocka_unit_test(test_time_parse_syslog_fraction),
		cmocka_unit_test(test_time_parse_syslog_with_year_before_month),
		cmocka_unit_test(test_time_parse_syslog_with_year_after_day),
		cmocka_unit_test(test_time_parse_syslog_with_year_after_time),
		cmocka_unit_test(test_time_parse_syslog_infers_previous_year),
		cmocka_unit_test(test_time_parse_syslog_infers_previous_year_for_any_future_date),
		cmocka_unit_test(test_time_parse_syslog_tolerates_slightly_future_clock),
		cmocka_unit_test(test_time_parse_syslog_pri_prefix),
		cmocka_unit_test(test_time_parse_apache_ctime_in_brackets),
		cmocka_unit_test(test_time_parse_access_log_offset_converts_to_utc),
		cmocka_unit_test(test_time_parse_access_log_beyond_scan_limit_is_none),
		cmocka_unit_test(test_time_parse_spark_short_year),
		cmocka_unit_test(test_time_parse_hdfs_compact),
		cmocka_unit_test(test_time_parse_android_logcat_infers_year),
		cmocka_unit_test(test_time_parse_epoch_with_fraction),
		cmocka_unit_test(test_time_parse_epoch_after_short_token),
		cmocka_unit_test(test_time_parse_epoch_glued_to_text_is_none),
		cmocka_unit_test(test_time_parse_proxifier_month_dot_day_infers_year),
		cmocka_unit_test(test_time_parse_healthapp_compact_unpadded_millis),
		cmocka_unit_test(test_time_parse_epoch_in_fifth_field),
		cmocka_unit_test(test_time_parse_epoch_needs_whole_field_early_and_sane),
		cmocka_unit_test(test_time_parse_bgl_dashed_later_in_line),
		cmocka_unit_test(test_time_parse_access_stamp_without_brackets),
		cmocka_unit_test(test_time_parse_rfc5424_after_pri_and_version),
		cmocka_unit_test(test_time_parse_glog_klog_infers_year),
		cmocka_unit_test(test_time_parse_windows_cbs),
		cmocka_unit_test(test_time_parse_journald_and_log_show_formats),
		cmocka_unit_test(test_time_parse_stamp_after_a_long_first_field),
		cmocka_unit_test(test_time_parse_stamp_past_64_bytes_is_none),
		cmocka_unit_test(test_time_parse_dmesg_is_seconds_since_boot),
		cmocka_unit_test(test_time_parse_us_date_with_am_pm),
		cmocka_unit_test(test_time_parse_time_of_day_takes_day_of_ref),
		cmocka_unit_test(test_time_learn_prefers_the_field_seen_before),
		cmocka_unit_test(test_time_parse_json_and_logfmt_keys_anywhere),
		cmocka_unit_test(test_time_parse_european_dotted_date),
		cmocka_unit_test(test_time_parse_windows_update_colon_millis),
		cmocka_unit_test(test_time_parse_ipmitool_date_and_time_columns),
		cmocka_unit_test(test_time_parse_grep_n_line_number_prefix),
		cmocka_unit_test(test_time_parse_garbage_is_none),
		cmocka_unit_test(test_time_parse_month_13_is_none),
		cmocka_unit_test(test_time_parse_hour_25_is_none),
		cmocka_unit_test(test_time_parse_day_zero_is_none),
		cmocka_unit_test(test_time_parse_respects_length),
		cmocka_unit_test(test_time_arg_date_is_midnight_utc),
		cmocka_unit_test(test_time_arg_accepts_full_timestamp),
		cmocka_unit_test(test_time_arg_invalid_date_is_einval),
		cmocka_unit_test(test_time_arg_journalctl_forms),
		cmocka_unit_test(test_time_format_epoch_and_value),
		cmocka_unit_test(test_time_format_negative_rounds_down),
		cmocka_unit_test(test_time_format_none_is_dash),
		cmocka_unit_test(test_time_arg_relative_out_of_range_refused),
		cmocka_unit_test(test_time_format_round_trips_through_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
