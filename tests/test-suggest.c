/*
 * test-suggest.c - class-level "possibly" cards (suggest.c): a failure
 * line that resembles no single playbook but plainly belongs to a problem
 * class is suggested as that class; informational, zero-count and negated
 * lines are not; the host and program words, and the words the log says
 * everywhere, do not decide the class.
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

struct fx {
	char		 dir[64];
	struct pb_library *lib;
	struct pb_analysis *a;
};

static const char *const ids[] = { "ntp-unsync", "proxy-upstream-timeout",
    "disk-io-error" };

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/triage-test-suggest.XXXXXX");
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
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
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
playbook(struct fx *f, const char *id, const char *klass, const char *title,
    const char *expl, const char *regex, const char *const ex[3])
{
	assert_int_equal(pbw_write(f->dir, id, klass, title, expl, regex, ex), 0);
}

/* Three playbooks; none is about NVMe or SCSI transports. */
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

	playbook(f, ids[0], "ntp-clock", "Clock not synchronised: no time "
	    "source reachable", "The time daemon lost its time sources and "
	    "the clock drifts.", "time source unreachable|no selectable "
	    "sources|clock unsynchronized", ntp);
	playbook(f, ids[1], "web-proxy", "Reverse proxy: upstream server not "
	    "answering in time", "The proxy waited for an upstream backend "
	    "server response header and gave up; clients get 504 gateway "
	    "errors.", "upstream timed out|no server available|upstream "
	    "prematurely closed", proxy);
	playbook(f, ids[2], "disk-io", "Disk I/O errors", "The kernel could not "
	    "read or write a block on a disk.", "I/O error", disk);
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

/* The class of suggestion i, checking it is a class-level one. */
static const char *
class_of(struct fx *f, size_t i, const char **tmpl)
{
	const char *klass, *desc = NULL, *ex, *file;
	uint64_t count, lineno;
	double score = 0;
	size_t t = (size_t)-1;

	assert_null(pb_analysis_suggested(f->a, i, &score, &t));
	klass = pb_analysis_suggested_class(f->a, i, &desc);
	assert_non_null(klass);
	assert_non_null(desc);
	assert_true(score > 0);
	*tmpl = pb_analysis_template(f->a, t, &count, &ex, &file, &lineno);
	assert_non_null(*tmpl);
	return klass;
}

/*
 * A storage failure in words no playbook has ("transport ... submit
 * command", NVMe, SCSI) is "possibly disk-io"; the lines around it that
 * only name an error class, count zero errors or deny a failure are not.
 */
static void
test_class_suggestion_without_a_playbook(void **state)
{
	struct fx *f = *state;
	const char *tmpl;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 esx01 vmkernel: NVMe transport failed to "
	    "submit command to the SCSI initiator");
	feed(f, 2, "Jun 14 15:16:02 esx01 vmkernel: INFO NVMe SCSI transport "
	    "error handler registered for the initiator");
	feed(f, 3, "Jun 14 15:16:03 esx01 vmkernel: NVMe SCSI transport "
	    "initiator: 0 errors");
	feed(f, 4, "Jun 14 15:16:04 esx01 vmkernel: NVMe SCSI transport did "
	    "not fail, initiator without errors");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_ncards(f->a), 0);
	assert_int_equal(pb_analysis_nsuggested(f->a), 1);
	assert_string_equal(class_of(f, 0, &tmpl), "disk-io");
	assert_non_null(strstr(tmpl, "submit"));
}

/*
 * The host ("ntp-chrony-gw") and program ("ntpd") say time keeping; the
 * message says storage.  The message decides.  A line whose only class
 * words are its host and program suggests nothing.
 */
static void
test_header_words_do_not_decide(void **state)
{
	struct fx *f = *state;
	const char *tmpl;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 ntp-chrony-gw ntpd[12]: NVMe transport "
	    "failed to submit command to the SCSI initiator");
	feed(f, 2, "Jun 14 15:16:02 nvme-scsi-sata-host nvme[7]: widget "
	    "frobnication failed, retrying later");
	pb_analysis_finish(f->a);
	assert_int_equal(pb_analysis_nsuggested(f->a), 1);
	assert_string_equal(class_of(f, 0, &tmpl), "disk-io");
	assert_non_null(strstr(tmpl, "ntpd"));
}

/*
 * Words the log says in most of its warnings are its own chatter (here a
 * Kubernetes node's "kubelet", "pod", "docker", "container"): they do not
 * make each of those
 * warnings a container problem.  The storage failure among them still
 * stands out.
 */
static void
test_log_chatter_does_not_decide(void **state)
{
	static const char *const things[] = {
		"widget sync failed",
		"cannot reach the gadget registry mirror in zone west",
		"sprocket refused: quota of flanges exceeded for tenant blue",
		"gizmo probe timed out after several attempts, giving up",
		"unable to decode doohickey manifest: unexpected token",
		"lost track of gasket lease while renewing the bracket",
		"thingamajig handshake rejected by peer with bad cookie",
		"could not write whatsit checkpoint, will retry soon",
	};
	struct fx *f = *state;
	const char *tmpl;
	char line[256];

	library(f);
	for (size_t i = 0; i < sizeof(things) / sizeof(things[0]); i++) {
		snprintf(line, sizeof(line), "Jun 14 15:16:0%zu node1 agent[3]: "
		    "kubelet pod docker container %s", i, things[i]);
		feed(f, i + 1, line);
	}
	feed(f, 20, "Jun 14 15:17:01 node1 agent[3]: kubelet pod docker "
	    "container NVMe transport failed to submit command to the SCSI "
	    "initiator");
	pb_analysis_finish(f->a);
	assert_true(pb_analysis_ntemplates(f->a) >= 2);
	assert_int_equal(pb_analysis_nsuggested(f->a), 1);
	assert_string_equal(class_of(f, 0, &tmpl), "disk-io");
}

/* In the JSON document a class-level card says so: kind, class, an id
 * that no playbook can have. */
static void
test_json_class_suggestion(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	json_t *doc, *s;
	json_error_t err;

	library(f);
	feed(f, 1, "Jun 14 15:16:01 esx01 vmkernel: NVMe transport failed to "
	    "submit command to the SCSI initiator");
	feed(f, 2, "Jun 14 15:16:02 gw lb[77]: upstream server not responding "
	    "while reading response header, backend web1");
	pb_analysis_finish(f->a);
	assert_non_null(fp = open_memstream(&buf, &len));
	assert_int_equal(pb_analysis_write_json(f->a, fp), 0);
	fclose(fp);
	assert_non_null(doc = json_loads(buf, 0, &err));
	assert_int_equal(json_array_size(json_object_get(doc, "suggested")), 2);
	for (size_t i = 0; i < 2; i++) {
		const char *kind;

		s = json_array_get(json_object_get(doc, "suggested"), i);
		kind = json_string_value(json_object_get(s, "kind"));
		assert_non_null(kind);
		if (strcmp(kind, "class") == 0) {
			assert_string_equal(json_string_value(json_object_get(s,
			    "id")), "class:disk-io");
			assert_string_equal(json_string_value(json_object_get(s,
			    "class")), "disk-io");
		} else {
			assert_string_equal(kind, "playbook");
			assert_string_equal(json_string_value(json_object_get(s,
			    "id")), "proxy-upstream-timeout");
		}
	}
	json_decref(doc);
	free(buf);
}

int
main(void)
{
#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TF(test_class_suggestion_without_a_playbook),
		TF(test_header_words_do_not_decide),
		TF(test_log_chatter_does_not_decide),
		TF(test_json_class_suggestion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
