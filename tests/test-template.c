/*
 * test-template.c - pb_miner_* (template.c): lines no playbook knows are
 * grouped into templates with variable parts masked as <*>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"

static int
setup(void **state)
{
	struct pb_miner *m;

	if (pb_miner_new(100, &m) != 0)
		return -1;
	*state = m;
	return 0;
}

static int
teardown(void **state)
{
	pb_miner_free(*state);
	return 0;
}

static long
add(void **state, const char *line)
{
	return pb_miner_add(*state, line, strlen(line));
}

/* Add one line to a fresh template and return its text. */
static const char *
text_of(void **state, const char *line)
{
	long id = add(state, line);

	assert_true(id >= 0);
	return pb_miner_text(*state, id);
}

static void
test_miner_add_masks_numbers(void **state)
{
	assert_string_equal(text_of(state, "worker exited with status 137 after 42 retries"),
	    "worker exited with status <*> after <*> retries");
}

static void
test_miner_add_masks_ip_and_port_as_one(void **state)
{
	assert_string_equal(text_of(state, "Connection from 10.0.0.1:22 closed"),
	    "Connection from <*> closed");
}

static void
test_miner_add_masks_hex(void **state)
{
	assert_string_equal(text_of(state, "segfault at 0x7f3a9c0b ip deadbeef01 sp cafe"),
	    "segfault at <*> ip <*> sp cafe");
}

static void
test_miner_add_masks_paths(void **state)
{
	assert_string_equal(text_of(state, "cannot open /var/lib/app/state.db for writing"),
	    "cannot open <*> for writing");
}

static void
test_miner_add_masks_tokens_with_digits(void **state)
{
	assert_string_equal(text_of(state, "web sshd[2231]: node R02-M1-N0 down"),
	    "web sshd[<*>]: node <*> down");
}

static void
test_miner_add_masks_value_of_key_value(void **state)
{
	assert_string_equal(text_of(state, "request failed status=503 path=/api"),
	    "request failed status=<*> path=<*>");
}

static void
test_miner_add_masks_host_names(void **state)
{
	long a = add(state, "reverse mapping checking getaddrinfo for ns.example.com [10.1.2.3] failed");
	long b = add(state, "reverse mapping checking getaddrinfo for 10-1-2-4.dyn.example.net [10.1.2.4] failed");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	/* A Java class is a name, not a host. */
	assert_string_equal(text_of(state, "retry policy org.example.RetryPolicy gave up"),
	    "retry policy org.example.RetryPolicy gave up");
}

static void
test_miner_add_skips_leading_timestamp(void **state)
{
	long a = add(state, "Jun 14 15:16:01 disk quota exceeded for bob");
	long b = add(state, "2024-06-14T15:16:01.123+02:00 disk quota exceeded for alice");
	long c = add(state, "[Sun Dec 04 04:47:44 2005] disk quota exceeded for carol");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_string_equal(pb_miner_text(*state, a), "disk quota exceeded for <*>");
}

static void
test_miner_add_same_shape_joins_one_template(void **state)
{
	long a = add(state, "Invalid user admin from 1.2.3.4 port 5022");
	long b = add(state, "Invalid user oracle from 5.6.7.8 port 6011");
	long c = add(state, "Invalid user test from 9.9.9.9 port 1");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_string_equal(pb_miner_text(*state, a), "Invalid user <*> from <*> port <*>");
	assert_int_equal(pb_miner_hits(*state, a), 3);
	assert_int_equal(pb_miner_count(*state), 1);
}

static void
test_miner_add_different_messages_stay_apart(void **state)
{
	long a = add(state, "Connection reset by peer 10.0.0.1");
	long b = add(state, "Connection closed by peer 10.0.0.2");
	long c = add(state, "Disk quota exceeded for user bob");
	long d = add(state, "Connection reset by peer 10.0.0.3");

	assert_true(a >= 0 && b >= 0 && c >= 0);
	assert_int_not_equal(a, b);
	assert_int_not_equal(a, c);
	assert_int_not_equal(b, c);
	assert_int_equal(d, a);
	assert_string_equal(pb_miner_text(*state, a), "Connection reset by peer <*>");
	assert_string_equal(pb_miner_text(*state, b), "Connection closed by peer <*>");
	assert_int_equal(pb_miner_count(*state), 3);
}

static void
test_miner_add_different_token_count_stays_apart(void **state)
{
	long a = add(state, "backup job failed");
	long b = add(state, "backup job failed again today");

	assert_int_not_equal(a, b);
}

static void
test_miner_program_name_is_not_in_the_key(void **state)
{
	/* The same message from two daemons on two hosts is one template. */
	long a = add(state, "Mar 14 08:00:01 web1 sshd[2231]: fatal: Timeout before authentication for 10.0.0.1");
	long b = add(state, "Mar 14 08:00:02 gw dropbear[77]: fatal: Timeout before authentication for 10.0.0.9");
	long c = add(state, "2024-03-14T08:00:03Z db2 sshd: fatal: Timeout before authentication for 10.0.0.3");
	/* Different messages of one daemon are not. */
	long d = add(state, "Mar 14 08:00:04 web1 sshd[2231]: Received disconnect from 10.0.0.1 port 22");
	long e = add(state, "Mar 14 08:00:05 web1 sshd[2231]: Connection closed by 10.0.0.1 port 22");

	assert_true(a >= 0 && d >= 0 && e >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_int_not_equal(d, a);
	assert_int_not_equal(e, a);
	assert_int_not_equal(d, e);
	assert_non_null(strstr(pb_miner_text(*state, a),
	    "fatal: Timeout before authentication for <*>"));
}

static void
test_miner_program_name_after_a_level_is_not_in_the_key(void **state)
{
	/* Java/Android style headers: level, then a logger name. */
	long a = add(state, "2015-10-18 18:01:47,978 ERROR [main] org.apache.hadoop.ipc.Client: Retrying connect to server");
	long b = add(state, "2015-10-18 18:01:48,978 ERROR [pool-3] com.example.Uploader: Retrying connect to server");
	long c = add(state, "03-17 16:13:38.811  1702  2395 E NetClient: Retrying connect to server");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
}

static void
test_miner_state_words_stay_constant(void **state)
{
	long up = add(state, "kernel: e1000e: eth0 NIC Link is up 1000 Mbps Full Duplex");
	long down = add(state, "kernel: e1000e: eth0 NIC Link is down 1000 Mbps Full Duplex");
	long up2 = add(state, "kernel: e1000e: eth1 NIC Link is up 100 Mbps Full Duplex");
	long ok = add(state, "healthcheck backend web3 status ok after 3 tries");
	long err = add(state, "healthcheck backend web3 status error after 3 tries");
	long st1 = add(state, "job 12 moved from RUNNING to FAILED");
	long st2 = add(state, "job 13 moved from RUNNING to SUCCEEDED");

	assert_true(up >= 0 && down >= 0 && ok >= 0 && err >= 0);
	assert_int_not_equal(up, down);
	assert_int_equal(up2, up);
	assert_int_not_equal(ok, err);
	assert_int_not_equal(st1, st2);
	assert_non_null(strstr(pb_miner_text(*state, down), "Link is down"));
}

static void
test_miner_variable_length_lists_collapse(void **state)
{
	long a = add(state, "raid: dropped disks 3, 5, 9 from array md0");
	long b = add(state, "raid: dropped disks 1, 2, 4, 6, 8 from array md1");
	long c = add(state, "raid: dropped disks sda, sdb, sdc, sdd from array md2");
	long d = add(state, "raid: dropped disks 7 from array md3");
	long e = add(state, "watchdog: cpus 0 1 2 3 stuck for 22s");
	long f = add(state, "watchdog: cpus 5 stuck for 23s");

	assert_true(a >= 0 && e >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_int_equal(d, a);
	assert_int_equal(f, e);
	assert_int_not_equal(a, e);
	assert_string_equal(pb_miner_text(*state, a),
	    "raid: dropped disks <*> from array <*>");
}

static void
test_miner_number_and_unit_are_one_variable(void **state)
{
	/* Proxifier writes a size as "N bytes" or "N bytes (M KB)", a time
	 * as "00:01" or "<1 sec": one event either way. */
	long a = add(state, "chrome.exe - proxy:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01");
	long b = add(state, "chrome.exe - proxy:5070 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime <1 sec");
	long c = add(state, "chrome.exe - proxy:5070 close, 451 bytes sent, 18846 bytes (18.4 KB) received, lifetime 02:19");
	long d = add(state, "PM response took 2010 ms (54, powerd)");
	long e = add(state, "worker retried 3 times before giving up");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_non_null(strstr(pb_miner_text(*state, a),
	    "close, <*> sent, <*> received, lifetime <*>"));
	/* The punctuation after the unit stays; a count of things is no unit. */
	assert_string_equal(pb_miner_text(*state, d), "PM response took <*> (<*>, powerd)");
	assert_string_equal(pb_miner_text(*state, e), "worker retried <*> times before giving up");
}

static void
test_miner_dotted_first_word_is_not_in_the_key(void **state)
{
	/* A job name in front of the message (Mac com.apple.cts): the first
	 * plain words choose the leaf, and the words then agree enough. */
	long a = add(state, "Jul  1 09:19:13 mac com.apple.cts[258]: com.apple.icloud.fmfd.heartbeat: scheduler_evaluate_activity told me to run this job; however, the start time isn't for 439034 seconds.");
	long b = add(state, "Jul  1 09:19:13 mac com.apple.cts[258]: com.apple.Safari.SafeBrowsing.Update: scheduler_evaluate_activity told me to run this job; however, the start time isn't for 2450 seconds.");
	long c = add(state, "Jul  1 09:19:13 mac com.apple.cts[258]: com.apple.CacheDelete.daily: scheduler_evaluate_activity told me to run this job; however, the start time isn't for 12119 seconds.");
	/* Messages of one plain word or none still keep apart. */
	long d = add(state, "setLightsOn(true)");
	long e = add(state, "querySoundEffectsEnabled...");

	assert_true(a >= 0 && d >= 0 && e >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_int_not_equal(d, e);
}

static void
test_miner_templates_differing_in_a_variable_run_join(void **state)
{
	/* Drain's length-insensitive second pass, kept strict: the same
	 * constants in the same order, a variable run one word longer. */
	long a = add(state, "deleted cache entry alpha 12");
	long b = add(state, "deleted cache entry beta 13");
	long c = add(state, "deleted cache entry 14");
	long d = add(state, "deleted cache 14");
	long e = add(state, "deleted entry 14");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_string_equal(pb_miner_text(*state, a), "deleted cache entry <*> <*>");
	assert_int_equal(c, a);
	assert_int_equal(pb_miner_hits(*state, a), 3);
	/* Other constants are another template. */
	assert_int_not_equal(d, a);
	assert_int_not_equal(e, a);
	assert_int_not_equal(e, d);
}

static void
test_miner_words_past_the_limit_are_one_variable(void **state)
{
	/* HDFS "ask H to delete blk_1 ... blk_100": 110 words or 11. */
	char line[4096];
	size_t o;
	long a, b;

	o = (size_t)snprintf(line, sizeof(line), "BLOCK* ask 10.0.0.1:50010 to delete");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " blk_%d", 1000 + i);
	a = add(state, line);
	b = add(state, "BLOCK* ask 10.0.0.2:50010 to delete blk_77 blk_78");
	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_string_equal(pb_miner_text(*state, a), "BLOCK* ask <*> to delete <*>");
}

static void
test_miner_state_value_of_key_value_stays_constant(void **state)
{
	long a = add(state, "animateCollapsePanels:flags=0, force=false, delayed=false");
	long b = add(state, "animateCollapsePanels:flags=2, force=true, delayed=false");
	long c = add(state, "animateCollapsePanels:flags=4, force=false, delayed=false");

	assert_true(a >= 0 && b >= 0);
	assert_int_not_equal(a, b);
	assert_int_equal(c, a);
	assert_string_equal(pb_miner_text(*state, a),
	    "animateCollapsePanels:flags=<*> force=false, delayed=false");
}

static void
test_miner_path_inside_a_word_is_masked(void **state)
{
	long a = add(state, "ciod: LOGIN chdir(/p/gb2/glosli/8M_5000K/t800) failed: No such file or directory");
	long b = add(state, "ciod: LOGIN chdir(/p/gb1/da) failed: No such file or directory");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_non_null(strstr(pb_miner_text(*state, a), "LOGIN chdir(<*>) failed:"));
}

static void
test_miner_program_before_a_dash_is_header(void **state)
{
	/* Proxifier: "[time] program[ *64] - host:port message". */
	long a = add(state, "[07.26 21:42:16] chrome.exe *64 - mtalk.google.com:443 open through proxy proxy.example.edu:5070 HTTPS");
	long b = add(state, "[07.26 22:01:22] Dropbox.exe - d.dropbox.com:443 open through proxy proxy.example.edu:5070 HTTPS");
	long c = add(state, "[07.27 05:05:53] Dropbox.exe - client-cf.dropbox.com:443 error : Could not connect to proxy proxy.example.edu:5070 - connection attempt failed with error 10061");
	long d = add(state, "[07.27 05:05:54] chrome.exe *64 - www.google.com:443 error : Could not connect to proxy proxy.example.edu:5070 - connection attempt failed with error 10061");

	assert_true(a >= 0 && c >= 0);
	assert_int_equal(b, a);
	assert_int_equal(d, c);
	assert_int_not_equal(a, c);
}

static void
test_miner_begin_and_end_are_states(void **state)
{
	long a = add(state, "WindowManager: The change in focus caused us to need to do a layout begin");
	long b = add(state, "WindowManager: The change in focus caused us to need to do a layout end");

	assert_true(a >= 0 && b >= 0);
	assert_int_not_equal(a, b);
}

static void
test_miner_windows_path_is_masked(void **state)
{
	assert_string_equal(text_of(state, "Loaded Servicing Stack with Core: C:\\Windows\\winsxs\\cbscore.dll"),
	    "Loaded Servicing Stack with Core: <*>");
}

static void
test_miner_email_is_masked(void **state)
{
	long a = add(state, "postfix/smtp: delivered mail for alice@example.com");
	long b = add(state, "postfix/smtp: delivered mail for <bob.smith@corp.example.org>");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_string_equal(pb_miner_text(*state, a), "postfix/smtp: delivered mail for <*>");
}

static void
test_miner_host_and_port_are_one_variable(void **state)
{
	long a = add(state, "Opening proxy : MININT-FNANLI5.fareast.corp.example.com:52368");
	long b = add(state, "Opening proxy : 04DN8IQ.fareast.corp.example.com:54883");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_string_equal(pb_miner_text(*state, a), "Opening proxy : <*>");
	/* A key and a number stay apart. */
	assert_string_equal(text_of(state, "cancelNotification index:0"),
	    "cancelNotification index:<*>");
}

static void
test_miner_pipe_separated_header(void **state)
{
	/* "time|component|pid|message": the fields are the header. */
	long a = add(state, "20171223-22:15:29:615|Step_LSC|30002312|onExtend:1514038530000 14 0 4");
	long b = add(state, "20171223-22:15:29:649|Step_StandReportReceiver|30002312|REPORT : 7007 5002 150089 240");
	long c = add(state, "20171223-22:15:29:737|Step_LSC|30002312|onExtend:1514038530000 0 0 4");

	assert_true(a >= 0 && b >= 0);
	assert_int_not_equal(a, b);
	assert_int_equal(c, a);
	assert_non_null(strstr(pb_miner_text(*state, b), "REPORT : <*>"));
}

static void
test_miner_bracket_group_after_a_logger_is_header(void **state)
{
	/* OpenStack: "[req-... - - -]" or "[-]" after the logger name. */
	long a = add(state, "2017-05-16 00:00:10.302 2931 INFO nova.virt.libvirt.driver [-] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] Instance spawned successfully.");
	long b = add(state, "2017-05-16 00:00:10.303 2931 INFO nova.compute.manager [req-8e64797b-fb99-4c8a-87e5-9a8de673412f 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] Instance spawned successfully.");

	assert_true(a >= 0);
	assert_int_equal(b, a);
}

static void
test_miner_comma_joined_values_are_one_variable(void **state)
{
	long a = add(state, "client 10.11.21.122,10.11.10.1 fetched meta_data.json");
	long b = add(state, "client 10.11.10.1 fetched meta_data.json");

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_string_equal(pb_miner_text(*state, a), "client <*> fetched meta_data.json");
}

static void
test_miner_verb_of_a_quoted_request_stays(void **state)
{
	long a = add(state, "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [-] 10.11.10.1 \"GET /v2/54fadb/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829");
	long b = add(state, "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [-] 10.11.10.1 \"POST /v2/e97469/os-server-external-events HTTP/1.1\" status: 200 len: 380 time: 0.0913219");
	long c = add(state, "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [-] 10.11.21.122 \"GET /openstack/2013-10-17 HTTP/1.1\" status: 200 len: 157 time: 0.0008290");

	assert_true(a >= 0 && b >= 0);
	assert_int_not_equal(a, b);
	assert_int_equal(c, a);
	assert_non_null(strstr(pb_miner_text(*state, a), "] <*> \"GET <*> status: <*> len: <*> time: <*>"));
}

static void
test_miner_empty_value_differs_from_a_value(void **state)
{
	/* Linux pam: "rhost=" (local) and "rhost=<host>" are two events. */
	long a = add(state, "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=zummit.com");
	long b = add(state, "authentication failure; logname= uid=0 euid=0 tty=:0 ruser= rhost=");
	long c = add(state, "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4");

	assert_true(a >= 0 && b >= 0);
	assert_int_not_equal(a, b);
	assert_int_equal(c, a);
}

static void
test_miner_add_sanitizes_text(void **state)
{
	const char *t = text_of(state, "bad \x1b[H request");

	/* The ESC becomes the text "\x1b[H" (then masked): never raw. */
	assert_null(strchr(t, '\x1b'));
	assert_string_equal(t, "bad <*> request");
}

static void
test_miner_add_empty_line_is_rejected(void **state)
{
	assert_int_equal(add(state, ""), -1);
	assert_int_equal(add(state, "   \t "), -1);
	assert_int_equal(pb_miner_count(*state), 0);
}

static void
test_miner_add_table_full_returns_minus_one(void **state)
{
	struct pb_miner *m;
	long a, b;

	(void)state;
	assert_int_equal(pb_miner_new(2, &m), 0);
	a = pb_miner_add(m, "alpha service stopped", 21);
	b = pb_miner_add(m, "beta queue overflowed", 21);
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(pb_miner_add(m, "gamma disk unmounted", 20), -1);
	/* A line that joins an existing template still gets its id. */
	assert_int_equal(pb_miner_add(m, "alpha service stopped", 21), a);
	assert_int_equal(pb_miner_hits(m, a), 2);
	assert_int_equal(pb_miner_count(m), 2);
	pb_miner_free(m);
}

static void
test_miner_sort_same_level_ranks_rare_above_chatty(void **state)
{
	long once = add(state, "alpha service stopped");
	long thrice = add(state, "beta queue overflowed 1");

	add(state, "beta queue overflowed 2");
	add(state, "beta queue overflowed 3");
	pb_miner_sort(*state);
	assert_int_equal(pb_miner_rank(*state, 0), once);
	assert_int_equal(pb_miner_rank(*state, 1), thrice);
	assert_int_equal(pb_miner_rank(*state, 2), -1);
}

static void
test_miner_sort_one_critical_line_above_10000_info_lines(void **state)
{
	char line[64];
	long info = -1, crit;
	int n;

	for (int i = 0; i < 10000; i++) {
		n = snprintf(line, sizeof(line), "cache refresh took %d ms", i);
		info = pb_miner_add_ev(*state, line, (size_t)n, PB_SEV_INFO,
		    (int64_t)i * 1000);
	}
	crit = pb_miner_add_ev(*state, "controller reset lost all queued writes",
	    39, PB_SEV_CRITICAL, 5000000);
	assert_true(info >= 0 && crit >= 0 && info != crit);
	assert_int_equal(pb_miner_hits(*state, info), 10000);
	pb_miner_sort(*state);
	assert_int_equal(pb_miner_rank(*state, 0), crit);
	assert_int_equal(pb_miner_rank(*state, 1), info);
	assert_int_equal(pb_miner_level(*state, crit), PB_SEV_CRITICAL);
	assert_true(pb_miner_salience(*state, crit) >
	    pb_miner_salience(*state, info));
}

static void
test_miner_sort_burst_above_same_count_spread_over_a_day(void **state)
{
	char line[64];
	long spread = -1, burst = -1;
	int n;

	/* 20 lines each: one every 72 minutes, or all within 20 seconds. */
	for (int i = 0; i < 20; i++) {
		n = snprintf(line, sizeof(line), "fan speed low on tray %d", i);
		spread = pb_miner_add_ev(*state, line, (size_t)n, PB_SEV_MEDIUM,
		    (int64_t)i * 72 * 60000);
		n = snprintf(line, sizeof(line), "queue depth high on shard %d", i);
		burst = pb_miner_add_ev(*state, line, (size_t)n, PB_SEV_MEDIUM,
		    (int64_t)40000000 + i * 1000);
	}
	assert_true(spread >= 0 && burst >= 0 && spread != burst);
	assert_int_equal(pb_miner_hits(*state, spread), 20);
	assert_int_equal(pb_miner_hits(*state, burst), 20);
	pb_miner_sort(*state);
	assert_int_equal(pb_miner_rank(*state, 0), burst);
	assert_int_equal(pb_miner_rank(*state, 1), spread);
}

static void
test_miner_level_first_last_track_the_lines(void **state)
{
	const char *l1 = "read latency is high on disk sda";
	const char *l2 = "read latency is high on disk sdb";
	const char *l3 = "read latency is high on disk sdc";
	long a = pb_miner_add_ev(*state, l1, strlen(l1), PB_SEV_LOW, 9000);
	long b = pb_miner_add_ev(*state, l2, strlen(l2), PB_SEV_HIGH, 3000);
	long c = pb_miner_add_ev(*state, l3, strlen(l3), PB_SEV_MEDIUM,
	    PB_TIME_NONE);

	assert_true(a >= 0);
	assert_int_equal(b, a);
	assert_int_equal(c, a);
	assert_int_equal(pb_miner_level(*state, a), PB_SEV_HIGH);
	assert_int_equal(pb_miner_first(*state, a), 3000);
	assert_int_equal(pb_miner_last(*state, a), 9000);
	/* Without any time there is none to report. */
	long d = add(state, "printer jammed");
	assert_true(pb_miner_first(*state, d) == PB_TIME_NONE);
	assert_int_equal(pb_miner_level(*state, d), PB_SEV_INFO);
}

static void
test_miner_text_unknown_id_is_null(void **state)
{
	assert_null(pb_miner_text(*state, 0));
	assert_null(pb_miner_text(*state, -1));
}

static void
test_miner_add_long_line_is_bounded(void **state)
{
	static char line[20000];
	long id;

	for (size_t i = 0; i + 1 < sizeof(line); i++)
		line[i] = i % 8 == 7 ? ' ' : 'w';
	id = pb_miner_add(*state, line, sizeof(line) - 1);
	assert_true(id >= 0);
	assert_true(strlen(pb_miner_text(*state, id)) < sizeof(line));
	/* Words that grow when masked ("1,2" -> "<*>,<*>"), and values. */
	for (size_t i = 0; i + 1 < sizeof(line); i++)
		line[i] = i % 32 == 31 ? ' ' : i % 2 ? (i % 7 ? ',' : '=') : '1';
	id = pb_miner_add(*state, line, sizeof(line) - 1);
	assert_true(id >= 0);
	assert_non_null(strstr(pb_miner_text(*state, id), "<*>"));
}

/* A word whose masks grow it ("1(" -> "<*>(") and then a long run of
 * letters: the masked copy must stay in its buffer (it once wrote past it:
 * a stack overflow from one 2,000-byte line). */
static void
test_miner_word_grown_by_masks_is_bounded(void **state)
{
	char line[2001];
	const char *txt;
	long id;

	for (size_t i = 0; i < 1000; i += 2)
		memcpy(line + i, "1(", 2);
	memset(line + 1000, 'a', 1000);
	line[2000] = '\0';
	id = add(state, line);
	assert_true(id >= 0);
	txt = pb_miner_text(*state, id);
	assert_memory_equal(txt, "<*>(<*>(", 8);
	assert_true(strlen(txt) <= 2 * 2048);
}

/*
 * Lines that differ only in a state word ("link state AAAB") never join,
 * so their leaf grows until the table is full.  Each line tried every
 * template of it: 30,000 such lines into a table of 10,000 took about 5 s
 * of CPU (a 10 MB log 45 s).  Bounded, they take a few ms; a line seen
 * before still finds its own template.
 */
static void
test_miner_leaf_of_state_words_costs_bounded_time(void **state)
{
	struct pb_miner *m;
	struct timespec t0, t1;
	char line[64];
	size_t n0;
	double secs;
	long id;

	(void)state;
	assert_int_equal(pb_miner_new(10000, &m), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (unsigned i = 0; i < 30000; i++) {
		int len = snprintf(line, sizeof(line), "app: link state %c%c%c%c",
		    'A' + i / 17576 % 26, 'A' + i / 676 % 26, 'A' + i / 26 % 26,
		    'A' + i % 26);
		pb_miner_add(m, line, (size_t)len);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* CPU time, so a loaded machine cannot fail it; generous */
	if (secs >= 1.5)
		fail_msg("30000 state-word lines took %.2f s of CPU", secs);
	assert_int_equal(pb_miner_count(m), 10000);
	n0 = pb_miner_count(m);
	id = pb_miner_add(m, "app: link state AAAA", 20);
	assert_int_equal(id, 0);
	id = pb_miner_add(m, "app: link state AAHP", 20);
	assert_int_equal(id, 197);
	assert_int_equal(pb_miner_count(m), n0);
	assert_int_equal(pb_miner_hits(m, 0), 2);
	pb_miner_free(m);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_miner_add_masks_numbers),
		T(test_miner_add_masks_ip_and_port_as_one),
		T(test_miner_add_masks_hex),
		T(test_miner_add_masks_paths),
		T(test_miner_add_masks_tokens_with_digits),
		T(test_miner_add_masks_value_of_key_value),
		T(test_miner_add_masks_host_names),
		T(test_miner_add_skips_leading_timestamp),
		T(test_miner_add_same_shape_joins_one_template),
		T(test_miner_add_different_messages_stay_apart),
		T(test_miner_add_different_token_count_stays_apart),
		T(test_miner_program_name_is_not_in_the_key),
		T(test_miner_program_name_after_a_level_is_not_in_the_key),
		T(test_miner_state_words_stay_constant),
		T(test_miner_variable_length_lists_collapse),
		T(test_miner_number_and_unit_are_one_variable),
		T(test_miner_dotted_first_word_is_not_in_the_key),
		T(test_miner_templates_differing_in_a_variable_run_join),
		T(test_miner_words_past_the_limit_are_one_variable),
		T(test_miner_state_value_of_key_value_stays_constant),
		T(test_miner_path_inside_a_word_is_masked),
		T(test_miner_program_before_a_dash_is_header),
		T(test_miner_begin_and_end_are_states),
		T(test_miner_windows_path_is_masked),
		T(test_miner_empty_value_differs_from_a_value),
		T(test_miner_email_is_masked),
		T(test_miner_host_and_port_are_one_variable),
		T(test_miner_pipe_separated_header),
		T(test_miner_bracket_group_after_a_logger_is_header),
		T(test_miner_comma_joined_values_are_one_variable),
		T(test_miner_verb_of_a_quoted_request_stays),
		T(test_miner_add_sanitizes_text),
		T(test_miner_add_empty_line_is_rejected),
		T(test_miner_add_table_full_returns_minus_one),
		T(test_miner_sort_same_level_ranks_rare_above_chatty),
		T(test_miner_sort_one_critical_line_above_10000_info_lines),
		T(test_miner_sort_burst_above_same_count_spread_over_a_day),
		T(test_miner_level_first_last_track_the_lines),
		T(test_miner_text_unknown_id_is_null),
		T(test_miner_add_long_line_is_bounded),
		T(test_miner_word_grown_by_masks_is_bounded),
		T(test_miner_leaf_of_state_words_costs_bounded_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
