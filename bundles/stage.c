/*
 * stage.c - copy a bundle from the stick once, into a file nobody else can
 * open.
 *
 * Why: a USB stick (or a malicious device pretending to be one) can
 * return different bytes on a second read, and can be pulled at any
 * moment.  So the archive is read from the stick exactly once, into an
 * unnamed O_TMPFILE in the store's private staging directory; the
 * signature is checked over that copy and the archive is extracted from
 * the same descriptor.  The .sig file (at most 64 KiB) is read into
 * memory.  Both are opened with O_NOFOLLOW and must be regular files, so
 * a symlink to /dev/zero or a FIFO is refused before any read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal.h"

#define PROGRESS_STEP	(8u << 20)	/* report the copy every 8 MiB */
#define SPACE_MARGIN	(16u << 20)	/* keep this much free on the disk */

void
bdl_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL || *cause != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
	/*
	 * A cause quotes bytes from files (manifest keys, paths, JSON errors)
	 * and must stay one line, in the audit log too: C0 controls and DEL
	 * become \xNN here.  Making it safe for a terminal (C1, bidi, ...)
	 * is the program's output gate's job, not this library's.
	 */
	if (*cause != NULL && strpbrk(*cause, "\x01\x02\x03\x04\x05\x06\x07"
	    "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
	    "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f") != NULL) {
		size_t n = strlen(*cause), k = 0;
		char *q = malloc(4 * n + 1);

		if (q == NULL)
			return;		/* the raw sentence beats none */
		for (const unsigned char *p = (const unsigned char *)*cause;
		    *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				k += (size_t)sprintf(q + k, "\\x%02x", *p);
			else
				q[k++] = (char)*p;
		q[k] = '\0';
		free(*cause);
		*cause = q;
	}
}

const char *
bdl_strerror(int code)
{
	switch (code) {
	case BDL_OK:
		return "success";
	case BDL_ENOMEM:
		return "out of memory";
	case BDL_EIO:
		return "input/output error";
	case BDL_ESIG:
		return "signature refused";
	case BDL_EFORMAT:
		return "malformed or unsafe bundle";
	case BDL_EREFUSED:
		return "bundle refused";
	case BDL_ECHECK:
		return "self-check failed";
	case BDL_EBUSY:
		return "store busy";
	case BDL_ENOENT:
		return "not found";
	case BDL_EINVAL:
		return "invalid argument";
	}
	return "unknown error";
}

const char *
bdl_stage_name(enum bdl_stage s)
{
	static const char *const names[] = { "?", "copy", "verify", "extract",
	    "check", "switch" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
	    "?";
}

/*
 * Open a file from the stick: no symlinks, no FIFOs or devices.  Returns
 * the descriptor, or a BDL_E* code with *cause set.
 */
static int
open_source(const char *path, const char *what, struct stat *st,
    char **cause)
{
	int fd, flags, e;

	/* O_NONBLOCK: opening a FIFO must not hang; cleared below. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP)
			bdl_cause(cause, "%s %s is a symbolic link", what, path);
		else
			bdl_cause(cause, "%s %s: %s", what, path, strerror(e));
		return e == ELOOP ? BDL_EFORMAT : e == ENOENT ? BDL_ENOENT :
		    BDL_EIO;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		bdl_cause(cause, "%s %s is not a regular file", what, path);
		close(fd);
		return BDL_EFORMAT;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		bdl_cause(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return BDL_EIO;
	}
	return fd;
}

static int
read_sig(struct bdl_bundle *b, char **cause)
{
	char *sigpath = NULL;
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd = -1, rc = BDL_ESIG;

	if (asprintf(&sigpath, "%s.sig", b->path) < 0)
		return BDL_ENOMEM;
	if (access(sigpath, F_OK) < 0 && errno == ENOENT) {
		bdl_cause(cause, "no signature: %s does not exist", sigpath);
		goto out;
	}
	if ((fd = open_source(sigpath, "signature", &st, cause)) < 0) {
		rc = fd == BDL_EFORMAT ? BDL_ESIG : fd;
		fd = -1;
		goto out;
	}
	if (st.st_size == 0) {
		bdl_cause(cause, "no signature: %s is empty", sigpath);
		goto out;
	}
	if (st.st_size > BDL_MAX_SIG) {
		bdl_cause(cause, "signature %s is larger than %d bytes", sigpath,
		    BDL_MAX_SIG);
		goto out;
	}
	if ((b->sig = malloc((size_t)st.st_size)) == NULL) {
		rc = BDL_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, b->sig + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			bdl_cause(cause, "%s: %s", sigpath, r < 0 ?
			    strerror(errno) : "shorter than its size");
			rc = BDL_EIO;
			goto out;
		}
		got += (size_t)r;
	}
	b->siglen = got;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(sigpath);
	return rc;
}

/* An unnamed file in `dir`; a named-then-unlinked one where O_TMPFILE
 * is not supported. */
static int
staged_file(const char *dir, char **cause)
{
	char *tmpl;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		bdl_cause(cause, "staging directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (asprintf(&tmpl, "%s/stage-XXXXXX", dir) < 0)
		return -1;
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	else
		bdl_cause(cause, "staging directory %s: %s", dir,
		    strerror(errno));
	free(tmpl);
	return fd;
}

/*
 * Copy exactly `size` bytes from src to dst.  copy_file_range first (in
 * the kernel, no user-space copy), read/write where it is not supported.
 */
static int
copy_bytes(int src, int dst, uint64_t size, bdl_progress_fn progress,
    void *arg, int *srcerr)
{
	uint64_t done = 0, next = PROGRESS_STEP;
	char *buf = NULL;
	int use_cfr = 1, rc = -1;

	*srcerr = 0;
	while (done < size) {
		size_t want = size - done > BDL_IO_CHUNK ? BDL_IO_CHUNK :
		    (size_t)(size - done);
		ssize_t r;

		if (use_cfr) {
			loff_t in = (loff_t)done, outoff = (loff_t)done;

			r = copy_file_range(src, &in, dst, &outoff, want, 0);
			if (r < 0 && (errno == EXDEV || errno == ENOSYS ||
			    errno == EINVAL || errno == EOPNOTSUPP ||
			    errno == EBADF)) {
				use_cfr = 0;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				*srcerr = r == 0;
				goto out;
			}
		} else {
			if (buf == NULL && (buf = malloc(BDL_IO_CHUNK)) == NULL)
				goto out;
			r = pread(src, buf, want, (off_t)done);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				*srcerr = 1;
				goto out;
			}
			if (pwrite(dst, buf, (size_t)r, (off_t)done) != r)
				goto out;
		}
		done += (uint64_t)r;
		if (progress != NULL && (done >= next || done == size)) {
			progress(arg, BDL_STAGE_COPY, done, size);
			next = done + PROGRESS_STEP;
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int
bdl_bundle_open(const char *path, const char *stagedir,
    bdl_progress_fn progress, void *arg, struct bdl_bundle **out,
    char **cause)
{
	struct bdl_bundle *b;
	struct stat st, st2, sst;
	struct statvfs vfs;
	int src = -1, rc = BDL_EIO, srcerr = 0;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return BDL_ENOMEM;
	b->fd = -1;
	if ((b->path = strdup(path)) == NULL) {
		rc = BDL_ENOMEM;
		goto out;
	}
	/* The staging directory must be ours alone (see bdl_store_open). */
	if (lstat(stagedir, &sst) < 0 || !S_ISDIR(sst.st_mode) ||
	    sst.st_uid != geteuid() || (sst.st_mode & 077) != 0) {
		bdl_cause(cause, "staging directory %s is missing or not private "
		    "(it must be a directory of this user with mode 0700)",
		    stagedir);
		goto out;
	}
	if ((src = open_source(path, "bundle", &st, cause)) < 0) {
		rc = src;
		src = -1;
		goto out;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > BDL_MAX_BUNDLE) {
		bdl_cause(cause, "bundle %s is %s", path, st.st_size == 0 ?
		    "empty" : "larger than the 64 GiB limit");
		rc = BDL_EFORMAT;
		goto out;
	}
	b->size = (uint64_t)st.st_size;
	if ((rc = read_sig(b, cause)) < 0)
		goto out;
	rc = BDL_EIO;
	/* Room for the staged copy and the extracted files. */
	if (statvfs(stagedir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 2 * b->size + SPACE_MARGIN) {
		bdl_cause(cause, "not enough space in %s: %s needs %llu MiB, "
		    "%llu MiB are free", stagedir, path,
		    (unsigned long long)((2 * b->size + SPACE_MARGIN) >> 20),
		    (unsigned long long)(((uint64_t)vfs.f_bavail *
		    vfs.f_frsize) >> 20));
		goto out;
	}
	if ((b->fd = staged_file(stagedir, cause)) < 0)
		goto out;
	if (bdl_fault("stage-copy") < 0 ||
	    copy_bytes(src, b->fd, b->size, progress, arg, &srcerr) < 0) {
		bdl_cause(cause, srcerr ? "%s: could not read the whole bundle "
		    "(was the medium removed?)" : "copying %s into the staging "
		    "directory: %s", path, strerror(errno));
		goto out;
	}
	/* A file that changed while we read it is refused, not half-used. */
	if (fstat(src, &st2) < 0 || st2.st_size != st.st_size ||
	    st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
		bdl_cause(cause, "%s changed while it was being copied", path);
		goto out;
	}
	b->flags |= BDL_F_STAGED;
	*out = b;	/* transferred */
	b = NULL;
	rc = 0;
out:
	if (src >= 0)
		close(src);
	bdl_bundle_free(b);
	return rc;
}

void
bdl_bundle_free(struct bdl_bundle *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	bdl_manifest_free(b->manifest);
	free(b->sig);
	free(b->path);
	free(b);
}

const char *
bdl_bundle_path(const struct bdl_bundle *b)
{
	return b->path;
}

uint64_t
bdl_bundle_size(const struct bdl_bundle *b)
{
	return b->size;
}

const struct bdl_signer *
bdl_bundle_signer(const struct bdl_bundle *b)
{
	return (b->flags & BDL_F_SIG_OK) ? &b->signer : NULL;
}

const struct bdl_manifest *
bdl_bundle_get_manifest(const struct bdl_bundle *b)
{
	return (b->flags & BDL_F_MANIFEST_OK) ? b->manifest : NULL;
}
