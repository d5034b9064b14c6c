/*
 * loggen.c - write a large, realistic syslog-style file for benchmarks.
 *
 * usage: loggen BYTES [SEED] > file
 * About 0.5% of lines are warnings/errors (half of them known to the
 * shipped playbooks, half not); the rest are routine messages from a few
 * hundred templates (programs x message shapes) with varying fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

static const char *const hosts[] = { "plc-gw01", "hmi-02", "edge-7", "scada1" };
static const char *const progs[] = {
	"systemd", "kernel", "CRON", "sshd", "NetworkManager", "dhclient",
	"chronyd", "nginx", "postgres", "modbusd", "rsyslogd", "dbus-daemon",
	"udisksd", "polkitd", "containerd", "kubelet", "snapd", "smartd",
	"collectd", "telegraf", "mosquitto", "node-red", "influxd", "avahi-daemon",
	"wpa_supplicant", "bluetoothd", "cupsd", "named", "ntpd", "haproxy"
};
static const char *const users[] = { "root", "ops", "tech", "admin", "svc-plc" };

static void
routine(FILE *fp, const char *prog)
{
	switch (rnd(12)) {
	case 0: fprintf(fp, "Started session %u of user %s.", rnd(90000), users[rnd(5)]); break;
	case 1: fprintf(fp, "pam_unix(%s:session): session opened for user %s(uid=%u) by (uid=0)", prog, users[rnd(5)], rnd(2000)); break;
	case 2: fprintf(fp, "Accepted publickey for %s from 10.%u.%u.%u port %u ssh2", users[rnd(5)], rnd(256), rnd(256), rnd(256), 1024 + rnd(60000)); break;
	case 3: fprintf(fp, "(%s) CMD (run-parts /etc/cron.hourly)", users[rnd(5)]); break;
	case 4: fprintf(fp, "Selected source 10.0.%u.%u (pool.ntp.org)", rnd(256), rnd(256)); break;
	case 5: fprintf(fp, "10.1.%u.%u - - \"GET /api/v1/tags/%u HTTP/1.1\" 200 %u", rnd(256), rnd(256), rnd(5000), rnd(90000)); break;
	case 6: fprintf(fp, "checkpoint complete: wrote %u buffers (%u.%u%%); %u WAL file(s) added", rnd(9000), rnd(100), rnd(10), rnd(5)); break;
	case 7: fprintf(fp, "poll unit %u: read %u holding registers in %u ms", rnd(32), rnd(125), rnd(80)); break;
	case 8: fprintf(fp, "device (eth%u): state change: activated -> activated (reason 'none')", rnd(3)); break;
	case 9: fprintf(fp, "Device: /dev/sd%c [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from %u to %u", 'a' + rnd(3), 30 + rnd(20), 30 + rnd(20)); break;
	case 10: fprintf(fp, "Received client request to flush runtime journal (pid %u).", rnd(40000)); break;
	default: fprintf(fp, "Finished %s-%u.service - Periodic job %u.", prog, rnd(40), rnd(400)); break;
	}
}

static void
known_error(FILE *fp)
{
	switch (rnd(8)) {
	case 0: fprintf(fp, "kernel: Out of memory: Killed process %u (java) total-vm:%ukB, anon-rss:%ukB, file-rss:0kB, shmem-rss:0kB, UID:%u pgtables:%ukB oom_score_adj:0", rnd(60000), rnd(9000000), rnd(8000000), rnd(2000), rnd(20000)); break;
	case 1: fprintf(fp, "kernel: blk_update_request: I/O error, dev sd%c, sector %u op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0", 'a' + rnd(3), rnd(900000000)); break;
	case 2: fprintf(fp, "sshd[%u]: Failed password for invalid user %s from 203.0.113.%u port %u ssh2", rnd(60000), users[rnd(5)], rnd(4), 1024 + rnd(60000)); break;
	case 3: fprintf(fp, "kernel: e1000e 0000:00:1f.6 eth0: NIC Link is Down"); break;
	case 4: fprintf(fp, "kernel: modbusd[%u]: segfault at %x ip 000055d%07x sp 00007ffd%08x error 4 in modbusd[55d1c000+2000]", rnd(60000), rnd(65536), rnd(1u << 28), rnd(1u << 31)); break;
	case 5: fprintf(fp, "postgres[%u]: FATAL:  sorry, too many clients already", rnd(60000)); break;
	case 6: fprintf(fp, "kernel: EXT4-fs error (device sda%u): ext4_find_entry:1455: inode #%u: comm rsync: reading directory lblock 0", 1 + rnd(3), rnd(9000000)); break;
	default: fprintf(fp, "systemd[1]: modbusd.service: Main process exited, code=exited, status=1/FAILURE"); break;
	}
}

static void
unknown_error(FILE *fp, const char *prog)
{
	switch (rnd(6)) {
	case 0: fprintf(fp, "%s[%u]: error: register block %u returned checksum mismatch 0x%04x", prog, rnd(60000), rnd(500), rnd(65536)); break;
	case 1: fprintf(fp, "%s[%u]: warning: queue depth %u exceeds soft limit", prog, rnd(60000), 1000 + rnd(9000)); break;
	case 2: fprintf(fp, "%s[%u]: failed to publish telemetry batch %u: broker busy", prog, rnd(60000), rnd(100000)); break;
	case 3: fprintf(fp, "%s[%u]: unable to rotate /var/lib/%s/state.%u", prog, rnd(60000), prog, rnd(9)); break;
	case 4: fprintf(fp, "%s[%u]: Exception in worker %u: ValueError('bad tag %u')", prog, rnd(60000), rnd(16), rnd(4000)); break;
	default: fprintf(fp, "%s[%u]: config reload denied for uid %u", prog, rnd(60000), rnd(2000)); break;
	}
}

int
main(int argc, char **argv)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar" };
	unsigned long long want, written = 0;
	long secs = 0;
	char line[1024];
	FILE *mem;

	if (argc < 2) {
		fprintf(stderr, "usage: loggen BYTES [SEED]\n");
		return 2;
	}
	want = strtoull(argv[1], NULL, 10);
	if (argc > 2)
		rng ^= strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15ULL;
	while (written < want) {
		const char *prog = progs[rnd(30)];
		int r = (int)rnd(1000);

		secs += rnd(3);
		if ((mem = fmemopen(line, sizeof(line), "w")) == NULL)
			return 2;
		fprintf(mem, "%s %2ld %02ld:%02ld:%02ld %s ", mon[(secs / 86400 / 28) % 3],
		    1 + (secs / 86400) % 28, secs / 3600 % 24, secs / 60 % 60,
		    secs % 60, hosts[rnd(4)]);
		if (r < 3)
			known_error(mem);
		else if (r < 5)
			unknown_error(mem, prog);
		else {
			fprintf(mem, "%s[%u]: ", prog, rnd(60000));
			routine(mem, prog);
		}
		fputc('\n', mem);
		long n = ftell(mem);
		fclose(mem);
		if (n <= 0 || fwrite(line, 1, (size_t)n, stdout) != (size_t)n)
			return 2;
		written += (unsigned long long)n;
	}
	return 0;
}
