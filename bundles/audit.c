/*
 * audit.c - the append-only audit log: one JSON object per line.
 *
 * Every import, refusal, rollback, fallback, removal and key change is
 * recorded with the time (UTC, from this computer's clock, which may be
 * wrong: the order of lines is the real order), the bundle, version,
 * signer, result, reason and any override.  The file is opened with
 * O_APPEND for each record and each record is one write() followed by an
 * fsync, so records never interleave and survive a crash once written.
 * jansson escapes control characters, so `cat audit.log` is safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_REASON	1000	/* bytes of a reason kept in the log */

static void
set(json_t *o, const char *k, const char *v)
{
	char buf[MAX_REASON + 1];
	size_t n;

	if (v == NULL)
		return;
	n = strlen(v);
	if (n > MAX_REASON) {
		/* Cut before a character, not inside its UTF-8 sequence. */
		n = MAX_REASON;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	json_object_set_new(o, k, json_string(buf));
}

int
bdl_audit_append(const char *path, const struct bdl_audit *a, char **cause)
{
	char when[32], *line = NULL;
	json_t *o;
	size_t len;
	ssize_t w;
	int fd = -1, rc = BDL_EIO;

	if ((o = json_object()) == NULL)
		return BDL_ENOMEM;
	bdl_time_format((int64_t)time(NULL), when, sizeof(when));
	set(o, "time", when);
	set(o, "event", a->event);
	set(o, "bundle", a->bundle);
	set(o, "version", a->version);
	set(o, "signer", a->signer);
	set(o, "result", a->result);
	set(o, "reason", a->reason);
	set(o, "override", a->override);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
	json_decref(o);
	if (line == NULL)
		return BDL_ENOMEM;
	len = strlen(line);
	line[len++] = '\n';	/* the NUL's byte becomes the newline */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		goto fail;
	/* One write: O_APPEND puts the whole record at the end. */
	if ((w = write(fd, line, len)) != (ssize_t)len) {
		if (w >= 0)
			errno = ENOSPC;
		goto fail;
	}
	if (fsync(fd) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	bdl_cause(cause, "audit log %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(line);
	return rc;
}
