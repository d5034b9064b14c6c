/*
 * test-tstamp.c - pb_time_parse, pb_time_arg, pb_time_format (tstamp.c).
 *
 * Expected values are computed with timegm(3), independently of the code
 * under test.  Zone-less stamps are UTC; year-less stamps take their year
 * from the reference time `ref` (seconds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "playbook.h"

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
	assert_int_equal(pb_time_arg("yesterday", REF2024, &t), PB_EINVAL);
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
		cmocka_unit_test(test_time_parse_garbage_is_none),
		cmocka_unit_test(test_time_parse_month_13_is_none),
		cmocka_unit_test(test_time_parse_hour_25_is_none),
		cmocka_unit_test(test_time_parse_day_zero_is_none),
		cmocka_unit_test(test_time_parse_respects_length),
		cmocka_unit_test(test_time_arg_date_is_midnight_utc),
		cmocka_unit_test(test_time_arg_accepts_full_timestamp),
		cmocka_unit_test(test_time_arg_invalid_date_is_einval),
		cmocka_unit_test(test_time_format_epoch_and_value),
		cmocka_unit_test(test_time_format_negative_rounds_down),
		cmocka_unit_test(test_time_format_none_is_dash),
		cmocka_unit_test(test_time_format_round_trips_through_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
