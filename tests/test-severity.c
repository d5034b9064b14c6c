/*
 * test-severity.c - the severity a line states (severity.c) and what the
 * analysis does with it: level fields, the failure lexicon and its guards,
 * explicit levels over the lexicon; "possibly" cards from similarity
 * (suggest.c) in the analysis and its JSON document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "playbook.h"
#include "lib-pbwrite.h"

static int
sev(const char *line)
{
	return pb_line_severity(line, strlen(line));
}

/* Print the line on failure: which of many lines broke is the point. */
#define SEV_IS(line, want) do {						\
	int got_ = sev(line);						\
	if (got_ != (want))						\
		fail_msg("\"%s\": judged %d, want %d", (line), got_, (want)); \
} while (0)

/* Worse than LOW means shown as a warning or error. */
#define NOT_WARNING(line) do {						\
	int got_ = sev(line);						\
	if (got_ != PB_LINE_NONE && got_ <= PB_SEV_MEDIUM)		\
		fail_msg("\"%s\": judged %d, want no warning", (line), got_); \
} while (0)

/* ---- explicit level fields -------------------------------------------- */

static void
test_syslog_pri(void **state)
{
	(void)state;
	SEV_IS("<11>Jun 14 15:16:01 host app[1]: something", PB_SEV_HIGH);
	SEV_IS("<12>1 2024-06-14T15:16:01Z host app 1 - - x", PB_SEV_MEDIUM);
	SEV_IS("<2>kernel: x", PB_SEV_CRITICAL);
	SEV_IS("<14>Jun 14 15:16:01 host app[1]: started", PB_SEV_INFO);
	SEV_IS("<15>Jun 14 15:16:01 host app[1]: x", PB_LINE_DEBUG);
	/* not a PRI: too big, no digits */
	SEV_IS("<999>x", PB_LINE_NONE);
	SEV_IS("<br> hello", PB_LINE_NONE);
}

static void
test_journald_priority(void **state)
{
	(void)state;
	SEV_IS("__REALTIME_TIMESTAMP=1718378161000000 PRIORITY=3 MESSAGE=x",
	    PB_SEV_HIGH);
	SEV_IS("{\"PRIORITY\":\"4\",\"MESSAGE\":\"disk slow\"}", PB_SEV_MEDIUM);
	SEV_IS("{\"PRIORITY\":\"6\",\"MESSAGE\":\"session opened\"}",
	    PB_SEV_INFO);
}

static void
test_single_letter_levels(void **state)
{
	(void)state;
	/* Android logcat, brief and threadtime */
	SEV_IS("E/AndroidRuntime( 1234): FATAL EXCEPTION: main", PB_SEV_HIGH);
	SEV_IS("W/ActivityManager(  512): Slow operation", PB_SEV_MEDIUM);
	SEV_IS("F/libc    ( 4242): Fatal signal 11", PB_SEV_CRITICAL);
	SEV_IS("I/ActivityManager(  512): Start proc", PB_SEV_INFO);
	SEV_IS("03-17 16:13:38.811  1702  2395 E WindowManager: bad token",
	    PB_SEV_HIGH);
	SEV_IS("03-17 16:13:38.811  1702  2395 D WindowManager: fine",
	    PB_LINE_DEBUG);
	/* klog / glog */
	SEV_IS("E0928 04:30:30.123456    1234 kubelet.go:1234] sync pod",
	    PB_SEV_HIGH);
	SEV_IS("W0928 04:30:30.123456    1234 reflector.go:42] watch ended",
	    PB_SEV_MEDIUM);
	SEV_IS("I0928 04:30:30.123456    1234 server.go:42] listening",
	    PB_SEV_INFO);
	/* a word that starts with the letter is not a level */
	SEV_IS("Everything is fine", PB_LINE_NONE);
}

static void
test_level_words_in_level_position(void **state)
{
	(void)state;
	SEV_IS("2024-06-14 15:16:01,234 ERROR [main] c.e.App - boom", PB_SEV_HIGH);
	SEV_IS("081109 203615 148 WARN dfs.DataNode: slow", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 SEVERE: org.x.Y lost", PB_SEV_HIGH);
	SEV_IS("2024-06-14 15:16:01 CRITICAL app: x", PB_SEV_CRITICAL);
	SEV_IS("2024-06-14 15:16:01 FATAL app: x", PB_SEV_CRITICAL);
	SEV_IS("[Sun Dec 04 04:47:44 2005] [error] mod_jk child init",
	    PB_SEV_HIGH);
	SEV_IS("[Thu Jun 13 10:00:00 2024] [core:crit] [pid 42] x",
	    PB_SEV_CRITICAL);
	SEV_IS("Jun 14 15:16:01 host daemon.err prog: x", PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:01 host kern.emerg kernel: x", PB_SEV_CRITICAL);
	SEV_IS("Alert: power supply 2 removed", PB_SEV_CRITICAL);
	SEV_IS("Emergency: system unusable", PB_SEV_CRITICAL);
	SEV_IS("Dec 10 06:55:46 LabSZ sshd[24200]: error: PAM: bad", PB_SEV_HIGH);
	SEV_IS("Dec 10 06:55:46 h app[1]: warning: disk slow", PB_SEV_MEDIUM);
	/* Windows level column after the timestamp */
	SEV_IS("2016-09-28 04:30:30, Error                 CBS    Failed to "
	    "resolve package", PB_SEV_HIGH);
	SEV_IS("2016-09-28 04:30:31, Warning               CSI    Unable to "
	    "open", PB_SEV_MEDIUM);
	SEV_IS("2016-09-28 04:30:31, Critical              CSI    x",
	    PB_SEV_CRITICAL);
	SEV_IS("2016-09-28 04:30:30, Info                  CBS    Loaded "
	    "Servicing Stack", PB_SEV_INFO);
	/* network equipment and monitoring */
	SEV_IS("Jun 14 15:16:01 sw1 1234: *Jun 14 15:16:01: %LINK-3-UPDOWN: "
	    "Interface Gi0/1, changed state to down", PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:01 sw1 %SYS-5-CONFIG_I: Configured from console",
	    PB_SEV_INFO);
	SEV_IS("Jun 14 15:16:01 sw1 %PLATFORM-2-PS_FAIL: Power supply 1 "
	    "failed", PB_SEV_CRITICAL);
	SEV_IS("system,error,critical login failure for user admin from "
	    "10.0.0.9 via ssh", PB_SEV_HIGH);
	SEV_IS("[1718359281] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;"
	    "CRITICAL - Socket timeout", PB_SEV_CRITICAL);
	SEV_IS("[1718359281] SERVICE ALERT: web01;HTTP;WARNING;SOFT;1;"
	    "HTTP WARNING: slow", PB_SEV_MEDIUM);
	NOT_WARNING("[1718359281] SERVICE ALERT: web01;HTTP;OK;HARD;1;"
	    "HTTP OK: HTTP/1.1 200 OK");
	/* macOS `log show`: the type column after the thread id */
	SEV_IS("2024-06-14 10:00:00.123456+0200 0x1a2b     Error       0x0      "
	    "123    0    kernel: (AppleACPI) x", PB_SEV_HIGH);
	SEV_IS("2024-06-14 10:00:00.123456+0200 0x1a2b     Fault       0x0      "
	    "123    0    WindowServer: x", PB_SEV_HIGH);
	SEV_IS("2024-06-14 10:00:00.123456+0200 0x1a2b     Info        0x0      "
	    "123    0    kernel: link failed over", PB_SEV_LOW);
	/* JSON and key=value levels */
	SEV_IS("{\"ts\":1718378161,\"level\":\"error\",\"msg\":\"x\"}",
	    PB_SEV_HIGH);
	SEV_IS("{\"level\": \"warn\", \"msg\": \"retrying\"}", PB_SEV_MEDIUM);
	SEV_IS("time=\"2024-06-14T15:16:01Z\" level=error msg=\"x\"",
	    PB_SEV_HIGH);
	SEV_IS("ts=2024 lvl=info msg=\"started\"", PB_SEV_INFO);
}

/*
 * Level names in other languages: a German Windows event export (Event
 * Viewer's CSV, level column first), PostgreSQL's translated messages,
 * logrus' four-letter levels.
 */
static void
test_localized_and_short_level_words(void **state)
{
	(void)state;
	SEV_IS("Fehler,10.01.2017 06:41:19,Service Control Manager,7034,Keine,"
	    "\"Dienst \"\"x\"\" wurde unerwartet beendet.\"", PB_SEV_HIGH);
	SEV_IS("Warnung,10.01.2017 06:41:19,test-service,0,Keine,\"Child "
	    "process finished with 1\"", PB_SEV_MEDIUM);
	SEV_IS("Kritisch\t10.01.2017 06:41:19\tKernel-Power\t41\t(63)\tDas "
	    "System wurde neu gestartet", PB_SEV_CRITICAL);
	SEV_IS("Erreur\t10/01/2017 06:41:19\tService Control Manager\t7000",
	    PB_SEV_HIGH);
	SEV_IS("Waarschuwing,10-1-2017 06:41:19,Disk,51,Geen,x", PB_SEV_MEDIUM);
	/* an info column makes a failure word low */
	SEV_IS("Informationen,10.01.2017 06:41:19,Dienst,7036,Keine,\"job "
	    "failed\"", PB_SEV_LOW);
	SEV_IS("2024-06-14 10:00:00.123 CEST [42] FEHLER:  Relation x "
	    "existiert nicht", PB_SEV_HIGH);
	SEV_IS("2024-06-14 10:00:00.123 CET [42] ERREUR:  la relation x "
	    "n'existe pas", PB_SEV_HIGH);
	SEV_IS("ERRO[0000] shim reaped", PB_SEV_HIGH);
	SEV_IS("FATA[0001] starting daemon", PB_SEV_CRITICAL);
	/* the first word after a timestamp with AM/PM, ISO "T" and "Z" */
	SEV_IS("1/10/2017 6:41:19 AM Fehler Service Control Manager 7034",
	    PB_SEV_HIGH);
	SEV_IS("2024-06-14T15:16:04.123Z info proxy: retry 1 failed",
	    PB_SEV_LOW);
	SEV_IS("2024-06-14 15:16:02.114 UTC [2231] PANIC:  could not write",
	    PB_SEV_CRITICAL);
	/* words of a sentence, not a level column */
	SEV_IS("Jun 14 15:16:01 h app: Fout tolerance set", PB_LINE_NONE);
}

/* X.733 alarm severities only after a severity key or in brackets. */
static void
test_alarm_severities(void **state)
{
	(void)state;
	SEV_IS("Jun 14 15:16:01 re0 alarmd: severity: major, fan tray 2 removed",
	    PB_SEV_HIGH);
	SEV_IS("alarm id=42 Severity=Minor text=\"PEM 1 input voltage\"",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 sw1 [major] power supply 2 removed",
	    PB_SEV_HIGH);
	SEV_IS("alarm id=42 severity=cleared text=\"link down\"", PB_SEV_LOW);
	NOT_WARNING("2024-06-14 10:00:00 Major version 5 installed");
	SEV_IS("Jun 14 15:16:01 h kernel: sd 0:0:0:0: minor 16 registered",
	    PB_LINE_NONE);
	SEV_IS("MAJOR MINOR device table loaded", PB_LINE_NONE);
}

/* "[E]" letters (GPFS mmfs.log, many C++ loggers) and numeric levels. */
static void
test_bracket_letters_and_numeric_levels(void **state)
{
	(void)state;
	SEV_IS("2024-03-04_10:12:13.456+0100: [E] File System fs1 unmounted by "
	    "the system with return code 5", PB_SEV_HIGH);
	SEV_IS("10:12:13 [W] slow disk", PB_SEV_MEDIUM);
	SEV_IS("[F] out of cheese", PB_SEV_CRITICAL);
	SEV_IS("2024-03-04_10:12:13.456+0100: [I] Command: unmount fs1 failed",
	    PB_SEV_LOW);
	SEV_IS("Jun 14 15:16:01 h app: see table [A] below", PB_LINE_NONE);
	SEV_IS("Jun 14 15:16:01 h app: x=array[E] set", PB_LINE_NONE);
	SEV_IS("Jun 14 15:16:01 h app: drive [D] mount failed", PB_SEV_MEDIUM);
	SEV_IS("Mar  4 10:12:13 node055 mmfs: [I] Unmounted fs1", PB_SEV_INFO);
	/* bunyan and pino */
	SEV_IS("{\"level\":50,\"time\":1718378161000,\"msg\":\"request "
	    "errored\"}", PB_SEV_HIGH);
	SEV_IS("{\"level\":40,\"msg\":\"slow\"}", PB_SEV_MEDIUM);
	SEV_IS("{\"level\":60,\"msg\":\"x\"}", PB_SEV_CRITICAL);
	SEV_IS("{\"level\":30,\"msg\":\"retry failed\"}", PB_SEV_LOW);
	SEV_IS("{\"level\":20,\"msg\":\"connect failed\"}",
	    PB_LINE_DEBUG);
	SEV_IS("{\"level\":55,\"msg\":\"x\"}", PB_LINE_NONE);
	/* Windows event XML, one event a line */
	SEV_IS("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/"
	    "event'><System><Provider Name='Service Control Manager'/>"
	    "<EventID Qualifiers='49152'>7034</EventID><Version>0</Version>"
	    "<Level>2</Level><Task>0</Task></System></Event>", PB_SEV_HIGH);
	SEV_IS("<Event><System><Level>4</Level></System><EventData>job "
	    "failed</EventData></Event>", PB_SEV_LOW);
	SEV_IS("<Event><System><Level>0</Level></System><EventData>x"
	    "</EventData></Event>", PB_LINE_NONE);
}

/* ---- the lexicon -------------------------------------------------------- */

static const char *const medium[] = {
	"Jun 14 15:16:01 h app[1]: upstream server not responding",
	"Jun 14 15:16:01 h slapd: no free buffers left",
	"Jun 14 15:16:01 h app: spool directory is full",
	"Jun 14 15:16:01 h app: backend unavailable",
	"Jun 14 15:16:01 h app: permission denied for user bob",
	"Jun 14 15:16:01 h app: cannot open /etc/x",
	"Jun 14 15:16:01 h app: unable to connect to 10.0.0.1",
	"Jun 14 15:16:01 h app: could not resolve host",
	"Jun 14 15:16:01 h app: request failed",
	"Jun 14 15:16:01 h app: authentication failure for bob",
	"Jun 14 15:16:01 h app: heartbeat lost to node3",
	"Jun 14 15:16:01 h app: link eth0 is down",
	"Jun 14 15:16:01 h app: port 7 changed state to down",
	"Jun 14 15:16:01 h app: certificate expired",
	"Jun 14 15:16:01 h app: message size exceeds limit",
	"Jun 14 15:16:01 h app: checksum mismatch on block 7",
	"Jun 14 15:16:01 h app: connection timed out",
	"Jun 14 15:16:01 h app: connection refused",
	"Jun 14 15:16:01 h app: host unreachable",
	"Jun 14 15:16:01 h app: CPU1 temperature over threshold",
	"Jun 14 15:16:01 h app: java.lang.NullPointerException thrown: "
	    "exception in thread main",
};
static const char *const high[] = {
	"Jun 14 15:16:01 h kernel: Kernel panic - not syncing",
	"Jun 14 15:16:01 h app: index is corrupt",
	"Jun 14 15:16:01 h kernel: app[42]: segfault at 0 ip x",
	"Jun 14 15:16:01 h app: I/O error on sda",
	"Jun 14 15:16:01 h app: job aborted",
};


static void
test_lexicon_families(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(medium) / sizeof(medium[0]); i++)
		SEV_IS(medium[i], PB_SEV_MEDIUM);
	for (size_t i = 0; i < sizeof(high) / sizeof(high[0]); i++)
		SEV_IS(high[i], PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:01 h app: all good", PB_LINE_NONE);
}

/*
 * A failure word that is a part of a CamelCase name (mdadm events,
 * Kubernetes reasons, .NET and OPC UA status names), with the word guards
 * applied to the whole name.
 */
static void
test_camelcase_parts(void **state)
{
	static const char *const benign[] = {
		"            \"OOMKilled\": false,",
		"Jun 14 15:16:01 h app: isDegraded=false",
		"Jun 14 15:16:01 h app: FailedCount: 0",
		"Jun 14 15:16:01 h app: array is NotDegraded",
		"Jun 14 15:16:01 h app: registered FailedLoginHandler",
		"Jun 14 15:16:01 h app: loaded org.x.AccessDeniedHandler",
		"Jun 14 15:16:01 h app: OfflineFilesService started",
		"Jun 14 15:16:01 h app: DegradedArray: 0",
		/* a word of its own and a word inside another are unchanged */
		"Jun 14 15:16:01 h app: Unlosted items",
		"Jun 14 15:16:01 h app: Download started",
	};

	(void)state;
	SEV_IS("A DegradedArray event had been detected on md device /dev/md/1.",
	    PB_SEV_MEDIUM);
	SEV_IS("      Reason:       OOMKilled", PB_SEV_MEDIUM);
	SEV_IS("    Reason:                BackoffLimitExceeded", PB_SEV_MEDIUM);
	SEV_IS("Opc.Ua.ServiceResultException: BadUserAccessDenied",
	    PB_SEV_MEDIUM);
	SEV_IS("web-7d9c8b-x2xq   0/1     OOMKilled   3 (45s ago)   6m",
	    PB_SEV_MEDIUM);
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		NOT_WARNING(benign[i]);
}

/* strerror(3) and Windows system error texts without a failure word. */
static void
test_errno_and_windows_error_texts(void **state)
{
	(void)state;
	SEV_IS("The OpenSSH SSH Server service terminated unexpectedly.  It has "
	    "done this 1 time(s).", PB_SEV_MEDIUM);
	SEV_IS("Jun 30 04:03:43 combo logrotate: ALERT exited abnormally with "
	    "[1]", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 app01 worker[812]: OSError: [Errno 113] No "
	    "route to host", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:04 app01 agent[600]: setsockopt IP_TRANSPARENT: "
	    "operation not permitted", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 app01 agent[600]: open /var/lib/agent/state: "
	    "read-only file system", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 h kernel: umount: /srv: device or resource busy",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 h app: stat /mnt/nfs/x: stale file handle",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 ecu cansend[950]: write to can0: No buffer space "
	    "available", PB_SEV_MEDIUM);
	SEV_IS("Not enough memory in the system to start the virtual machine "
	    "minikube.", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:05 ws01 installer[900]: Insufficient disk space to "
	    "install the update", PB_SEV_MEDIUM);
	SEV_IS("Mar 14 09:12:01 gw charon: 05[IKE] giving up after 5 "
	    "retransmits", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 h kernel: EXT4-fs error (device sda1): x: "
	    "Structure needs cleaning", PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:01 h app: unrecoverable state, stopping",
	    PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:04 app01 agent[600]: open /etc/agent/agent.yaml: "
	    "no such file or directory", PB_SEV_LOW);
	SEV_IS("Jul 25 23:23:13 combo ftpd[26484]: getpeername (ftpd): Transport "
	    "endpoint is not connected", PB_SEV_LOW);
	SEV_IS("Jun 14 15:16:04 h kernel: sr 1:0:0:0: [sr0] tag#0 Sense Key : "
	    "Not Ready [current]", PB_SEV_LOW);
	NOT_WARNING("Jun 14 15:16:01 h app: sufficient memory, no insufficient "
	    "resources");
}

/* Translated failure words (Windows, glibc and systemd translations). */
static void
test_translated_failure_words(void **state)
{
	static const char *const benign[] = {
		"Jun 14 10:00:00 h app: keine Fehler gefunden",
		"Jun 14 10:00:00 h app: 0 Fehler, 0 Warnungen",
		"Jun 14 10:00:00 h app: termin\xc3\xa9 sans erreur",
		"Jun 14 10:00:00 h app: sin errores",
		"Jun 14 10:00:00 h app: concluido sem erros",
	};

	(void)state;
	SEV_IS("Jun 14 10:00:00 h app: Verbindung zum Server fehlgeschlagen",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: Dienst \"x\" wurde unerwartet beendet.",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: Zeit\xc3\xbc" "berschreitung beim "
	    "Verbinden", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: \xc3\xa9" "chec de la connexion",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: connexion refus\xc3\xa9" "e",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: no se pudo conectar", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: n\xc3\xa3o foi poss\xc3\xadvel "
	    "conectar", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: connessione non riuscita",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: verbinding mislukt", PB_SEV_MEDIUM);
	SEV_IS("Jun 14 10:00:00 h app: Fehler beim Lesen", PB_SEV_HIGH);
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		NOT_WARNING(benign[i]);
}

/* The head of a stack trace names an exception class: a failure. */
static void
test_exception_heads(void **state)
{
	static const char *const benign[] = {
		"\tat com.example.ErrorMapper.map(ErrorMapper.java:42)",
		"    raise KeyError(key)",
		"Jun 14 15:16:01 h app: registered NotFoundExceptionMapper",
		"ErrorHandler: installed",
		"com.example.MyException thrown here",
	};

	(void)state;
	SEV_IS("java.lang.IllegalStateException: Queue full", PB_SEV_MEDIUM);
	SEV_IS(" Caused by: java.lang.NullPointerException", PB_SEV_MEDIUM);
	SEV_IS("KeyError: 'id'", PB_SEV_MEDIUM);
	SEV_IS("yaml.scanner.ScannerError: mapping values are not allowed here",
	    PB_SEV_MEDIUM);
	SEV_IS("System.InvalidOperationException: Sequence contains no elements",
	    PB_SEV_MEDIUM);
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		SEV_IS(benign[i], PB_LINE_NONE);
}

/* A retransmission is a message that got no answer: low, unless guarded. */
static void
test_retransmissions(void **state)
{
	(void)state;
	SEV_IS("3072 Feb 24 16:25:11 dev42 corosync[10654]:   [TOTEM ] "
	    "Retransmit List: 2 3", PB_SEV_LOW);
	SEV_IS("Mar 14 09:12:01 gw charon: 05[IKE] retransmit 1 of request "
	    "with message ID 0", PB_SEV_LOW);
	SEV_IS("Nov 20 15:30:41 gw pluto[812]: \"site-a\" #3: STATE_PARENT_I1: "
	    "retransmission; will wait 0.5 seconds for response", PB_SEV_LOW);
	/* a schedule, a counter, a rate */
	SEV_IS("Jun 16 05:55:07 ip-172-31-41-87 systemd-networkd[30710]: ens5: "
	    "DHCPv6 client: Next retransmission in 1min 52s", PB_LINE_NONE);
	SEV_IS("Jun 16 05:55:07 h app: tcp retransmissions: 0", PB_LINE_NONE);
	SEV_IS("Jun 16 05:55:07 h app: retransmission rate 0.1%",
	    PB_LINE_NONE);
}

/* ---- guards: these must NOT be warnings or errors ------------------------ */

static void
test_guards_false_positives(void **state)
{
	static const char *const benign[] = {
		/* a word inside a package, file or identifier name */
		"Setting up libgpg-error0:amd64 (1.46-1) ...",
		"Jun 14 15:16:01 h nginx: opened /var/log/nginx/error.log",
		"Jun 14 15:16:01 h app: registered ErrorHandler for /api",
		"Jun 14 15:16:01 h gcc: -Wno-error=unused given",
		"Jun 14 15:16:01 h app: option no-error accepted",
		"Jun 14 15:16:01 h systemd[1]: Restart=on-failure set for x",
		"Jun 14 15:16:01 h app: unit --on-failure handler registered",
		"Jun 14 15:16:01 h fsck: /lost+found present",
		"Jun 14 15:16:01 h app: loaded failover_policy module",
		/* counted zero */
		"Jun 14 15:16:01 h fsck: 0 errors, 0 warnings",
		"Jun 14 15:16:01 h app: errors: 0",
		"Jun 14 15:16:01 h app: check done, errors=0",
		"Jun 14 15:16:01 h app: transfer complete, error count: 0",
		"Jun 14 15:16:01 h zpool: scrub repaired 0B, 0 failed",
		"Jun 14 15:16:01 h app: no errors found",
		"Jun 14 15:16:01 h app: completed without error",
		/* test-suite PASS lines */
		"PASS: test-error-handling 3 - refused connections are retried",
		"[  PASSED  ] 12 tests: error paths, timeouts",
		"test parser::fails_on_garbage ... ok",
		"ok 4 - rejects invalid input",
		/* negations */
		"Jun 14 15:16:01 h app: the job has not failed",
		"Jun 14 15:16:01 h app: backup did not fail",
		"Jun 14 15:16:01 h app: never failed over",
		/* informational lines naming an error class */
		"Jun 14 15:16:01 h app: Setting ErrorLevel to 3",
		"Jun 14 15:16:01 h php: error_log = /var/log/php.log",
		"Jun 14 15:16:01 h app: timeout=30 retries=3",
		"Jun 14 15:16:01 h app: installing error handler",
		"Jun 14 15:16:01 h app: using failure policy restart",
		"Jun 14 15:16:01 h kernel: Enabling unmasked SIMD FPU exception "
		    "support... done.",
		"Jun 14 15:16:01 h app: on failure: restart",
		"Jun 14 15:16:01 h zk: Established session 0x14ede63a5a70000 "
		    "with negotiated timeout 10000 for client /10.10.34.11:45307",
		"Jun 14 15:16:01 h app: using default timeout 30s",
		/* a label its value repeats, negated; durations; "no" before a
		 * short noun phrase */
		"errors: No known data errors",
		"Apr 30 13:36:08 h NetworkManager[6739]: dhcp4 (wlp2s0): "
		    "activation: beginning transaction (timeout in 45 seconds)",
		"Jun 04 16:17:42 h wickedd-dhcp4[2563]: enp1s0f0: Requesting "
		    "DHCPv4 lease with timeout 60",
		"Jun 14 15:16:01 h modbus-bridge[1020]: modbus: timeout 500 ms, "
		    "retries 3",
		"Jun 14 15:16:08 h audit[600]: no authentication failures in the "
		    "last 24 hours",
		"No component store corruption detected.",
		/* keys set to nothing */
		"Jun 14 15:16:01 h app: {\"failed\": false, \"error\": null}",
		"Jun 14 15:16:01 h app: last failure: none",
		/* going down on purpose is not a failure */
		"Jun 14 15:16:01 h systemd: shutting down",
		"Jun 14 15:16:01 h app: scale down to 2 workers",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		NOT_WARNING(benign[i]);
}

/* An explicit level decides: INFO with "failed" is below an ERROR line. */
/* The guards above stay narrow: the same words saying a failure count. */
static void
test_guards_stay_narrow(void **state)
{
	(void)state;
	SEV_IS("errors: 3 data errors, use -v for a list", PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:01 h app: connection timeout after 30000 ms",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 h app: Timeout waiting for device",
	    PB_SEV_MEDIUM);
	SEV_IS("Jun 14 15:16:01 h app: no route to host errors", PB_SEV_HIGH);
	SEV_IS("Jun 14 15:16:01 h launchd: timeout: no successful checkins "
	    "from x in 120 seconds", PB_SEV_MEDIUM);
}

static void
test_explicit_level_wins_over_lexicon(void **state)
{
	int info_failed, error_plain;

	(void)state;
	info_failed = sev("2024-06-14 15:16:01 INFO retry 1 failed, retrying");
	error_plain = sev("2024-06-14 15:16:01 ERROR job stopped");
	assert_int_equal(info_failed, PB_SEV_LOW);
	assert_int_equal(error_plain, PB_SEV_HIGH);
	assert_true(error_plain < info_failed);
	SEV_IS("2024-06-14 15:16:01 INFO started", PB_SEV_INFO);
	SEV_IS("2024-06-14 15:16:01 DEBUG connect failed, will retry",
	    PB_LINE_DEBUG);
	/* a WARN line saying "panic" stays a warning */
	SEV_IS("2024-06-14 15:16:01 WARN panic button disabled", PB_SEV_MEDIUM);
}

/* Hostile bytes: no crash, no read past the end. */
static void
test_hostile_lines(void **state)
{
	static const char *const odd[] = {
		"", "<", "<1", "<1>", "E", "E/", "E0", "PRIORITY", "PRIORITY=",
		"level=", "\"level\":\"", "error", "down", "0", "[", "]error[",
	};
	char big[5000];

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *copy = malloc(strlen(odd[i]) + 1);	/* exact size */
		assert_non_null(copy);
		memcpy(copy, odd[i], strlen(odd[i]));
		(void)pb_line_severity(copy, strlen(odd[i]));
		free(copy);
	}
	/* random lines made of the bytes the judgement looks at, each in a
	 * buffer of its exact size, so ASan sees any read past the end */
	srand(11);
	for (int k = 0; k < 20000; k++) {
		static const char alphabet[] = "<>0123456789EWFIDV/ :=\"'[]().,-_"
		    "errorwarnfailedownlostPRIORITYlevelnot \t\x9b\xff";
		size_t len = (size_t)(rand() % 40);
		char *buf = malloc(len ? len : 1);
		assert_non_null(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		(void)pb_line_severity(buf, len);
		free(buf);
	}
	memset(big, 'x', sizeof(big));
	memcpy(big + 4000, " failed", 7);	/* past the scan limit */
	assert_int_equal(pb_line_severity(big, sizeof(big)), PB_LINE_NONE);
	memcpy(big + 10, " failed ", 8);
	assert_int_equal(pb_line_severity(big, sizeof(big)), PB_SEV_MEDIUM);
}

/* ---- the analysis: unknown lines and "possibly" cards -------------------- */

struct fx {
	char		 dir[64];
	struct pb_library *lib;
	struct pb_analysis *a;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/triage-test-severity.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char path[128];

	pb_analysis_free(f->a);
	pb_library_free(f->lib);
	static const char *const ids[] = { "ntp-unsync",
	    "proxy-upstream-timeout", "disk-io-error" };

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s.json", f->dir, ids[i]);
		(void)unlink(path);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
diag_fail(void *arg, const char *line)
{
	(void)arg;
	fail_msg("playbook problem: %s", line);
}

/* A valid playbook with the given id, class, title, explanation, regex. */
static void
playbook(struct fx *f, const char *id, const char *klass,
    const char *title, const char *expl, const char *regex,
    const char *const ex[3])
{
	assert_int_equal(pbw_write(f->dir, id, klass, title, expl, regex, ex), 0);
}

static void
library(struct fx *f)
{
	static const char *const ntp[3] = {
		"ntpd[1]: no servers reachable, time source unreachable",
		"chronyd[2]: Can't synchronise: no selectable sources",
		"ntpd[1]: synchronisation lost, clock unsynchronized",
	};
	static const char *const proxy[3] = {
		"nginx: upstream timed out while reading response header from "
		    "upstream",
		"haproxy: backend web has no server available",
		"nginx: upstream prematurely closed connection while reading "
		    "response header from upstream",
	};
	static const char *const disk[3] = {
		"kernel: I/O error, dev sda, sector 42",
		"kernel: blk_update_request: I/O error, dev sdb",
		"kernel: Buffer I/O error on dev sda1",
	};
	char *cause = NULL;
	struct pb_options o;

	playbook(f, "ntp-unsync", "ntp-clock", "Clock not synchronised: no "
	    "time source reachable", "The time daemon lost its time sources "
	    "and the clock drifts.", "time source unreachable|no selectable "
	    "sources|clock unsynchronized", ntp);
	playbook(f, "proxy-upstream-timeout", "web-proxy", "Reverse proxy: "
	    "upstream server not answering in time", "The proxy waited for an "
	    "upstream backend server response header and gave up; clients "
	    "get 504 gateway errors.", "upstream timed out|no server "
	    "available|upstream prematurely closed", proxy);
	playbook(f, "disk-io-error", "disk-io", "Disk I/O errors",
	    "The kernel could not read or write a block on a disk.",
	    "I/O error", disk);
	assert_int_equal(pb_library_new(&f->lib), 0);
	assert_int_equal(pb_library_add(f->lib, f->dir, diag_fail, NULL,
	    &cause), 0);
	pb_options_init(&o);
	assert_int_equal(pb_analysis_new(f->lib, &o, &f->a), 0);
}

static void
feed(struct fx *f, uint64_t n, const char *line)
{
	pb_analysis_feed_line(f->a, "s.log", n, line, strlen(line), 1718000000);
}

/* A paraphrase of a known problem becomes a "possibly" card. */
static void
test_paraphrase_suggests_the_right_playbook(void **state)
{
	struct fx *f = *state;
	const struct pb_playbook *pb;
	double score;
	size_t t;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 gw lb[77]: upstream server not responding "
	    "while reading response header, backend web1");
	feed(f, 2, "Jun 14 15:16:02 gw app[1]: 0 errors");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ncards(f->a), 0);
	assert_int_equal(pb_analysis_nsuggested(f->a), 1);
	pb = pb_analysis_suggested(f->a, 0, &score, &t);
	assert_non_null(pb);
	assert_string_equal(pb_playbook_id(pb), "proxy-upstream-timeout");
	assert_true(score > 0);
	assert_true(t < pb_analysis_ntemplates(f->a));
}

/* Finishing again (the app does, as a log grows) keeps the suggestion
 * and its count up to date. */
static void
test_suggestion_survives_a_second_finish(void **state)
{
	struct fx *f = *state;
	const char *ex, *file;
	uint64_t count = 0, lineno;
	double score;
	size_t t;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 gw lb[77]: upstream server not responding "
	    "while reading response header, backend web1");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_nsuggested(f->a), 1);
	feed(f, 2, "Jun 14 15:16:05 gw lb[77]: upstream server not responding "
	    "while reading response header, backend web2");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_nsuggested(f->a), 1);
	assert_non_null(pb_analysis_suggested(f->a, 0, &score, &t));
	assert_non_null(pb_analysis_template(f->a, t, &count, &ex, &file,
	    &lineno));
	assert_int_equal(count, 2);
}

/* "error" alone, or a zero count, suggests nothing. */
static void
test_no_suggestion_from_one_common_word(void **state)
{
	struct fx *f = *state;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 h app[1]: 0 errors");
	feed(f, 2, "Jun 14 15:16:02 h app[1]: error in widget 7");
	feed(f, 3, "Jun 14 15:16:03 h app[1]: ERROR");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_nsuggested(f->a), 0);
	/* but the real error is not hidden either */
	assert_true(pb_analysis_ntemplates(f->a) >= 1);
}

/* A warning that states no failure in words suggests nothing. */
static void
test_no_suggestion_for_a_warning_without_failure_words(void **state)
{
	struct fx *f = *state;

	library(f);
	feed(f, 1, "2024-06-14 15:16:01 WARN lb[77]: upstream server reading "
	    "response header from backend web1");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ntemplates(f->a), 1);	/* shown */
	assert_int_equal(pb_analysis_nsuggested(f->a), 0);	/* no guess */
}

/*
 * The same loose wording suggests a playbook that knows the line's program
 * ("nginx"), not one about other programs ("ciod" is in none): that line
 * may only read like the class as a whole ("possibly web-proxy").
 */
static void
test_another_programs_playbook_needs_closer_wording(void **state)
{
	struct fx *f = *state;
	size_t n = 0;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 h nginx: upstream header timed out, "
	    "closing stream to client example");
	feed(f, 2, "Jun 14 15:16:02 h ciod: upstream header timed out, "
	    "closing the stream to client example");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ntemplates(f->a), 2);
	for (size_t i = 0; i < pb_analysis_nsuggested(f->a); i++) {
		double score;
		size_t t;
		const char *text;

		if (pb_analysis_suggested(f->a, i, &score, &t) == NULL)
			continue;	/* a class-level card */
		n++;
		text = pb_analysis_template(f->a, t, &(uint64_t){ 0 },
		    &(const char *){ NULL }, &(const char *){ NULL },
		    &(uint64_t){ 0 });
		assert_non_null(strstr(text, "nginx"));
	}
	assert_int_equal(n, 1);
}

static void
test_json_has_suggested_array(void **state)
{
	struct fx *f = *state;
	json_t *doc, *s, *ex;
	json_error_t err;
	char *buf = NULL;
	size_t sz = 0;
	FILE *fp;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 gw lb[77]: upstream server not responding "
	    "while reading response header, backend web1");
	pb_analysis_finish(f->a);
	assert_non_null(fp = open_memstream(&buf, &sz));
	assert_int_equal(pb_analysis_write_json(f->a, fp), 0);
	fclose(fp);
	doc = json_loads(buf, 0, &err);
	free(buf);
	assert_non_null(doc);
	s = json_object_get(doc, "suggested");
	assert_true(json_is_array(s));
	assert_int_equal(json_array_size(s), 1);
	s = json_array_get(s, 0);
	assert_string_equal(json_string_value(json_object_get(s, "id")),
	    "proxy-upstream-timeout");
	assert_string_equal(json_string_value(json_object_get(s, "class")),
	    "web-proxy");
	assert_non_null(json_string_value(json_object_get(s, "title")));
	assert_true(json_real_value(json_object_get(s, "score")) > 0);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(s,
	    "template")), "not responding"));
	ex = json_array_get(json_object_get(s, "examples"), 0);
	assert_string_equal(json_string_value(json_object_get(ex, "file")),
	    "s.log");
	assert_int_equal(json_integer_value(json_object_get(ex, "line")), 1);
	/* an unknown template says its level */
	s = json_array_get(json_object_get(json_object_get(doc, "unknown"),
	    "templates"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "level")),
	    "medium");
	json_decref(doc);
}

/* Ranking: an error seen once comes before a warning seen 500 times. */
static void
test_unknown_ranked_by_severity_not_count(void **state)
{
	struct fx *f = *state;
	const char *t, *ex, *file;
	uint64_t count, lineno;
	char line[128];

	library(f);
	for (int i = 0; i < 500; i++) {
		snprintf(line, sizeof(line), "Jun 14 15:%02d:01 h app[1]: cache "
		    "miss rate exceeds target %d", i % 60, i);
		feed(f, (uint64_t)i + 1, line);
	}
	feed(f, 600, "Jun 14 16:00:01 h app[1]: CRITICAL database shard 4 "
	    "offline");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ntemplates(f->a), 2);
	t = pb_analysis_template(f->a, 0, &count, &ex, &file, &lineno);
	assert_non_null(t);
	assert_non_null(strstr(t, "shard"));
	assert_int_equal(count, 1);
}

/* A level in the head alone makes a line unknown; guarded lines stay out. */
static void
test_unknown_lines_follow_the_judgement(void **state)
{
	struct fx *f = *state;
	const char *t, *ex, *file;
	uint64_t count, lineno;
	enum pb_severity lv;
	double sal;
	int64_t first, last;

	library(f);
	feed(f, 1, "<11>Jun 14 15:16:01 h app[1]: something odd happened");
	feed(f, 2, "Jun 14 15:16:02 h fsck[2]: 0 errors, 0 warnings");
	feed(f, 3, "Setting up libgpg-error0:amd64 (1.46-1) ...");
	feed(f, 4, "Jun 14 15:16:03 h app[1]: the job has not failed");
	feed(f, 5, "Jun 14 15:16:04 h app[1]: DEBUG connect failed, retrying");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_unknown_lines(f->a), 1);
	assert_int_equal(pb_analysis_ntemplates(f->a), 1);
	t = pb_analysis_template(f->a, 0, &count, &ex, &file, &lineno);
	assert_non_null(t);
	assert_non_null(strstr(t, "something odd"));
	assert_int_equal(pb_analysis_template_info(f->a, 0, &lv, &sal, &first,
	    &last), 0);
	assert_int_equal(lv, PB_SEV_HIGH);
	assert_true(sal >= PB_SALIENCE_MIN);
	assert_int_equal(pb_analysis_template_info(f->a, 1, &lv, &sal, &first,
	    &last), PB_EINVAL);
}

/* Is there an unknown template whose example is `text`, of level `lv`? */
static int
has_unknown(struct fx *f, const char *text, enum pb_severity lv)
{
	const char *ex, *file;
	uint64_t count, lineno;
	enum pb_severity l;
	double sal;
	int64_t first, last;

	for (size_t i = 0; i < pb_analysis_ntemplates_all(f->a); i++) {
		if (pb_analysis_template(f->a, i, &count, &ex, &file,
		    &lineno) == NULL || ex == NULL || strcmp(ex, text) != 0)
			continue;
		return pb_analysis_template_info(f->a, i, &l, &sal, &first,
		    &last) == 0 && l == lv;
	}
	return 0;
}

/*
 * Records spread over lines: the level field on one line, the text on
 * another (after it: wevtutil and Event Viewer text, Get-EventLog |
 * Format-List; before it: Get-WinEvent | Format-List *).  The text's
 * first line is an unknown line of the record's level; an Information
 * record's is not.
 */
static void
test_records_over_lines(void **state)
{
	static const char *const lines[] = {
		"Event[0]:",
		"  Log Name: System",
		"  Source: Service Control Manager",
		"  Event ID: 7034",
		"  Level: Error",
		"  Computer: host",
		"  Description: ",
		"The Acme Sync service stopped after 1 run.",
		"",
		"Event[1]:",
		"  Log Name: System",
		"  Level: Information",
		"  Description: ",
		"The Acme Sync service entered the running state.",
		"",
		"Index              : 1234",
		"EntryType          : Warning",
		"Message            : The Acme Mail queue holds 300 items.",
		"Source             : Acme",
		"",
		"Message          : The Acme Print spooler stopped after 2 runs.",
		"",
		"                   It has done this 2 time(s).",
		"Id               : 7034",
		"Level            : 2",
		"LevelDisplayName : Error",
		"",
		"Message          : The Acme Print spooler started.",
		"Id               : 7036",
		"Level            : 4",
		"",
		"The Acme Sync service stopped, no record around it.",
	};
	struct fx *f = *state;

	library(f);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		feed(f, i + 1, lines[i]);
	pb_analysis_finish(f->a);
	assert_true(has_unknown(f, "The Acme Sync service stopped after 1 run.",
	    PB_SEV_HIGH));
	assert_true(has_unknown(f, "Message            : The Acme Mail queue "
	    "holds 300 items.", PB_SEV_MEDIUM));
	assert_true(has_unknown(f, "Message          : The Acme Print spooler "
	    "stopped after 2 runs.", PB_SEV_HIGH));
	assert_false(has_unknown(f, "The Acme Sync service entered the running "
	    "state.", PB_SEV_INFO));
	assert_false(has_unknown(f, "Message          : The Acme Print spooler "
	    "started.", PB_SEV_INFO));
	assert_false(has_unknown(f, "The Acme Sync service stopped, no record "
	    "around it.", PB_SEV_HIGH));
	assert_false(has_unknown(f, "  Computer: host", PB_SEV_HIGH));
}

/* "[E]" in the head reaches the unknowns through its prefilter literal. */
static void
test_bracket_letter_reaches_the_unknowns(void **state)
{
	static const char *const lines[] = {
		"2024-03-04_10:12:13.456+0100: [E] File System fs1 unmounted",
		"Mar  4 10:12:13 node055 mmfs: [W] slow disk sdb",
		"[F] out of cheese",
	};
	struct fx *f = *state;

	library(f);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		feed(f, i + 1, lines[i]);
		if (pb_analysis_unknown_lines(f->a) != i + 1)
			fail_msg("\"%s\": not among the unknowns", lines[i]);
	}
}

/* A burst of low lines (corosync's retransmit lists) is listed. */
static void
test_low_burst_is_listed(void **state)
{
	struct fx *f = *state;
	enum pb_severity lv;
	double sal;
	int64_t first, last;

	library(f);
	for (int i = 0; i < 10; i++)
		feed(f, (uint64_t)i + 1, "3072 Feb 24 16:25:11 dev42 "
		    "corosync[10654]:   [TOTEM ] Retransmit List: 2 3");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ntemplates(f->a), 1);
	assert_int_equal(pb_analysis_template_info(f->a, 0, &lv, &sal, &first,
	    &last), 0);
	assert_int_equal(lv, PB_SEV_LOW);
	assert_true(sal >= PB_SALIENCE_MIN);
}

/*
 * Every lexicon phrase and level word of triage(1) is judged, and reaches
 * the unknowns through the prefilter (its literals must cover them all).
 */
static void
test_every_phrase_reaches_the_unknowns(void **state)
{
	static const char *const phrases[] = {
		"panic", "panicked", "segfault", "segmentation fault",
		"general protection", "core dumped", "dumped core", "oops",
		"out of memory", "corrupt", "corrupted", "corruption",
		"uncorrectable", "fatal", "critical", "emergency", "error",
		"errors", "crashed", "abort", "aborted", "aborting", "crash",
		"exception", "traceback", "fail", "fails", "failed", "failing",
		"failure", "failures", "cannot", "can't", "can not", "unable to",
		"could not", "couldn't", "not responding", "no response",
		"no answer", "did not respond", "unresponsive", "did not answer",
		"not answering", "no reply", "not reachable", "not running",
		"offline", "unhealthy", "no carrier", "connection reset",
		"broken pipe", "SERVFAIL", "deadlock", "overloaded", "throttled",
		"throttling", "unreachable", "unavailable", "refused", "denied",
		"rejected", "timed out", "timeout", "lost", "is down", "degraded",
		"hung", "killed", "no free", "is full", "no space", "too many",
		"exhausted", "exceeds", "exceeded", "over threshold",
		"above threshold", "overheating", "overflow", "expired",
		"mismatch", "violation", "warning", "warn", "invalid",
		"unexpected", "not found",
		/* level words in level position */
		"EMERG", "CRIT", "SEVERE", "ERR", "WARN", "%LINK-3-UPDOWN:",
		"[fault]",
		"[emergency]", "[alert]", "[crit]", "[err]", "[warning]",
		/* localized, logrus and alarm level words, letters, numbers */
		"[fehler]", "[kritisch]", "[warnung]", "[erreur]",
		"[critique]", "[avertissement]", "[advertencia]", "[errore]",
		"[critico]", "[avviso]", "[aviso]", "[fout]", "[kritiek]",
		"[waarschuwing]", "[erro]", "[panik]", "[fata]", "[pani]",
		"[major]", "[minor]",
		"{\"level\":40}", "{\"level\":50}", "{\"level\":60}",
		"<Level>1</Level>", "<Level>2</Level>", "<Level>3</Level>",
		/* CamelCase parts and retransmissions */
		"DegradedArray", "OOMKilled", "AccessDenied", "ConnectionRefused",
		"retransmit", "retransmits", "retransmitted", "retransmitting",
		"retransmission", "retransmissions",
		/* errno and Windows error texts */
		"structure needs cleaning", "unrecoverable", "unexpectedly",
		"abnormally", "not permitted", "no route", "read-only file system",
		"resource busy", "stale file handle", "no buffer space",
		"not enough", "insufficient", "giving up", "gave up",
		"no such file", "no such device", "not connected", "not ready",
		/* translated */
		"fehlgeschlagen", "unerwartet", "\xc3\xa9" "chec", "fallo",
		"fall\xc3\xb3", "falha", "mislukt", "verweigert", "refus\xc3\xa9",
		"denegado", "negato", "nicht erreichbar", "konnte nicht",
		"impossible de", "no se pudo", "zeit\xc3\xbc" "berschreitung",
		"expir\xc3\xa9", "agotado", "nicht gefunden", "introuvable",
		"Fehler", "erreur", "errores", "erros", "errore", "fouten",
	};
	struct fx *f = *state;
	char line[160];
	size_t n = sizeof(phrases) / sizeof(phrases[0]);

	library(f);
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "Jun 14 15:16:01 h app[1]: job "
		    "seven %s here", phrases[i]);
		if (sev(line) == PB_LINE_NONE || sev(line) > PB_SEV_LOW)
			fail_msg("\"%s\": not judged a warning", line);
		feed(f, i + 1, line);
		if (pb_analysis_unknown_lines(f->a) != i + 1)
			fail_msg("\"%s\": judged, but the prefilter skipped it",
			    line);
	}
}

/*
 * logcat threadtime's letter "A" (assert, the worst) has no prefilter
 * literal (" a " would wake on every English line): the line head stands
 * for it, as for "A/Tag(".  It was judged critical but never reached the
 * unknowns (the fuzzer's "2 A 29"), a tombstone's "A DEBUG" tag was taken
 * for the level, and a letter after words ("2 A records") for one.
 */
static void
test_logcat_assert_letter_reaches_the_unknowns(void **state)
{
	static const char *const lines[] = {
		"03-17 16:13:38.811  1702  2395 A DEBUG   : signal 11 (SIGSEGV), "
		    "code 1 (SEGV_MAPERR), fault addr 0x0",
		"2024-03-17 16:13:38.812  1702  2395 A libc    : heap tracker "
		    "says bye",
	};
	struct fx *f = *state;

	library(f);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (sev(lines[i]) != PB_SEV_CRITICAL)
			fail_msg("\"%s\": judged %d", lines[i], sev(lines[i]));
		feed(f, i + 1, lines[i]);
		assert_int_equal(pb_analysis_unknown_lines(f->a), i + 1);
	}
	SEV_IS("2024-03-17 16:13:38.811  1702  2395 W Tag: slow", PB_SEV_MEDIUM);
	/* a letter after words is a word */
	SEV_IS("2024-06-10T10:00:00Z dns: got 2 A records for x", PB_LINE_NONE);
	SEV_IS("10:00:01 queue has 5 W jobs", PB_LINE_NONE);
	SEV_IS("2 A 29 x", PB_LINE_NONE);
}

int
main(void)
{
#define T(f) cmocka_unit_test(f)
#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_syslog_pri),
		T(test_journald_priority),
		T(test_single_letter_levels),
		T(test_level_words_in_level_position),
		T(test_localized_and_short_level_words),
		T(test_alarm_severities),
		T(test_bracket_letters_and_numeric_levels),
		TF(test_bracket_letter_reaches_the_unknowns),
		T(test_camelcase_parts),
		T(test_errno_and_windows_error_texts),
		T(test_translated_failure_words),
		T(test_exception_heads),
		T(test_retransmissions),
		T(test_lexicon_families),
		T(test_guards_false_positives),
		T(test_guards_stay_narrow),
		T(test_explicit_level_wins_over_lexicon),
		T(test_hostile_lines),
		TF(test_paraphrase_suggests_the_right_playbook),
		TF(test_no_suggestion_from_one_common_word),
		TF(test_suggestion_survives_a_second_finish),
		TF(test_no_suggestion_for_a_warning_without_failure_words),
		TF(test_another_programs_playbook_needs_closer_wording),
		TF(test_json_has_suggested_array),
		TF(test_unknown_ranked_by_severity_not_count),
		TF(test_unknown_lines_follow_the_judgement),
		TF(test_every_phrase_reaches_the_unknowns),
		TF(test_low_burst_is_listed),
		TF(test_records_over_lines),
		TF(test_logcat_assert_letter_reaches_the_unknowns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
