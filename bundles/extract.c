/*
 * extract.c - read the staged archive under a strict entry policy.
 *
 * Only after the signature over the staged copy was verified, the same
 * descriptor is handed to libarchive (through pread, so nothing shares a
 * file offset).  Formats: tar (ustar, pax, GNU) with at most one of the
 * gzip, xz and zstd filters.  The first entry must be manifest.json; every
 * other entry must be a regular file or directory whose name is in the
 * manifest (directories: the parents playbooks/, model/, licenses/ of
 * listed files), with exactly the listed size, and its SHA-256 must match.
 * Links, devices, FIFOs, sockets, sparse files, duplicates and unsafe
 * names are refused with a message naming the entry; headers libarchive
 * passes over silently (pax global, GNU volume, empty-map sparse) and
 * bytes after the end mark are refused by layout_check().  Every size is
 * checked at the entry's header, before libarchive reads or skips its
 * data, and the read callback stops decompression past the manifest's
 * total plus tar overhead, so a bomb costs at most one buffer.
 *
 * Files are written by us, never by archive_write_disk: openat() below a
 * fresh private directory, O_CREAT|O_EXCL|O_NOFOLLOW, mode 0444, hashed
 * while written and fsync'd.  Modes, owners, times and xattrs in the
 * archive are ignored.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SMALL_READ	(64 * 1024)	/* read size for compressed archives */
#define PROGRESS_STEP	(8u << 20)

/* The only directories a bundle may hold (see manifest.c). */
static const char *const top_dirs[] = { "playbooks", "model", "licenses" };
#define NTOP (sizeof(top_dirs) / sizeof(top_dirs[0]))

struct reader {
	struct archive	*a;
	int		 fd;
	uint64_t	 off, size;
	uint64_t	 cap;		/* decompressed bytes allowed; 0: none yet */
	size_t		 chunk;
	char		*buf;
	int		 bomb;
	/* Where each entry's headers begin in the tar stream, and its size;
	 * h_end: the end-of-archive mark (-1 until seen). */
	struct { int64_t h, size; } *pos;
	size_t		 npos;
	int64_t		 h_end;
};

int
bdl_sha256_init(void)
{
	static int done;

	if (!done) {
		if (gcry_check_version(GCRYPT_VERSION) == NULL)
			return -1;
		/* Only hashing: no secure memory pool is needed. */
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
		done = 1;
	}
	return 0;
}

static la_ssize_t
rd(struct archive *a, void *cd, const void **buf)
{
	struct reader *r = cd;
	size_t want;
	ssize_t n;

	/* Decompressed bytes so far, against the manifest's promise. */
	if (r->cap != 0 && archive_filter_bytes(a, 0) > (la_int64_t)r->cap) {
		r->bomb = 1;
		archive_set_error(a, EFBIG, "decompressed data exceeds the "
		    "manifest's total");
		return -1;
	}
	if (r->off >= r->size)
		return 0;
	want = r->size - r->off < r->chunk ? (size_t)(r->size - r->off) :
	    r->chunk;
	do
		n = pread(r->fd, r->buf, want, (off_t)r->off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "reading the staged copy");
		return -1;
	}
	r->off += (uint64_t)n;
	*buf = r->buf;
	return n;
}

static int
open_archive(const struct bdl_bundle *b, struct reader *r, char **cause)
{
	struct archive *a;

	memset(r, 0, sizeof(*r));
	r->h_end = -1;
	r->fd = b->fd;
	r->size = b->size;
	r->chunk = BDL_IO_CHUNK;
	if ((r->buf = malloc(BDL_IO_CHUNK)) == NULL ||
	    (a = archive_read_new()) == NULL) {
		free(r->buf);
		r->buf = NULL;
		return BDL_ENOMEM;
	}
	r->a = a;
	/* tar only, and only these decompressors: no zip, cpio, rar, ... */
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_set_read_callback(a, rd);
	archive_read_set_callback_data(a, r);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		bdl_cause(cause, "%s: not a tar archive this triage reads: %s",
		    b->path, archive_error_string(a));
		return BDL_EFORMAT;
	}
	return 0;
}

static void
close_archive(struct reader *r)
{
	if (r->a != NULL)
		archive_read_free(r->a);
	free(r->buf);
	free(r->pos);
	r->a = NULL;
	r->buf = NULL;
	r->pos = NULL;
	r->npos = 0;
}

/* Quote an entry name for a message: printable ASCII, the rest as \xNN. */
static void
quote(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; in != NULL && *in != '\0' && n + 5 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
	}
	if (in != NULL && *in != '\0' && n + 4 <= cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static const char *
entry_name(struct archive_entry *e)
{
	const char *p = archive_entry_pathname(e);

	return p != NULL ? p : archive_entry_pathname_utf8(e);
}

/*
 * Check one header against the type and name policy.  Returns the
 * normalised name in `name` (a directory's trailing '/' removed).
 */
static int
entry_policy(const struct bdl_bundle *b, struct archive_entry *e,
    char *name, size_t cap, char **cause)
{
	const char *p = entry_name(e), *why;
	char q[300];
	mode_t ft = archive_entry_filetype(e);
	size_t len;

	quote(p, q, sizeof(q));
	if (p == NULL) {
		bdl_cause(cause, "%s: an entry name cannot be decoded",
		    b->path);
		return BDL_EFORMAT;
	}
	if (archive_entry_hardlink(e) != NULL) {
		char t[300];

		quote(archive_entry_hardlink(e), t, sizeof(t));
		bdl_cause(cause, "%s: entry \"%s\" is a hard link to \"%s\"; "
		    "bundles hold only regular files and directories", b->path,
		    q, t);
		return BDL_EFORMAT;
	}
	switch (ft) {
	case AE_IFREG:
	case AE_IFDIR:
		break;
	case AE_IFLNK:
		bdl_cause(cause, "%s: entry \"%s\" is a symbolic link; bundles "
		    "hold only regular files and directories", b->path, q);
		return BDL_EFORMAT;
	case AE_IFCHR:
	case AE_IFBLK:
		bdl_cause(cause, "%s: entry \"%s\" is a device node", b->path, q);
		return BDL_EFORMAT;
	case AE_IFIFO:
		bdl_cause(cause, "%s: entry \"%s\" is a FIFO", b->path, q);
		return BDL_EFORMAT;
	case AE_IFSOCK:
		bdl_cause(cause, "%s: entry \"%s\" is a socket", b->path, q);
		return BDL_EFORMAT;
	default:
		bdl_cause(cause, "%s: entry \"%s\" has an unknown type", b->path,
		    q);
		return BDL_EFORMAT;
	}
	if (archive_entry_sparse_count(e) > 0) {
		bdl_cause(cause, "%s: entry \"%s\" is a sparse file", b->path, q);
		return BDL_EFORMAT;
	}
	len = strlen(p);
	if (len >= cap) {
		bdl_cause(cause, "%s: entry \"%s\" has a name longer than %d "
		    "bytes", b->path, q, BDL_MAX_PATH);
		return BDL_EFORMAT;
	}
	memcpy(name, p, len + 1);
	if (ft == AE_IFDIR && len > 1 && name[len - 1] == '/')
		name[len - 1] = '\0';
	if ((why = bdl_path_problem(name)) != NULL) {
		bdl_cause(cause, "%s: entry \"%s\" %s", b->path, q, why);
		return BDL_EFORMAT;
	}
	if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0) {
		bdl_cause(cause, "%s: entry \"%s\" has no size", b->path, q);
		return BDL_EFORMAT;
	}
	/* A directory with data would make libarchive skip (decompress)
	 * bytes we never see. */
	if (ft == AE_IFDIR && archive_entry_size(e) != 0) {
		bdl_cause(cause, "%s: directory entry \"%s\" carries %lld bytes "
		    "of data", b->path, q, (long long)archive_entry_size(e));
		return BDL_EFORMAT;
	}
	return 0;
}

static int
next_header(struct reader *r, const struct bdl_bundle *b,
    struct archive_entry **e, char **cause)
{
	int ar = archive_read_next_header(r->a, e);

	if (ar == ARCHIVE_EOF) {
		r->h_end = archive_read_header_position(r->a);
		return 0;
	}
	if (ar != ARCHIVE_OK) {
		/* ARCHIVE_WARN too: strict means no "mostly fine" archive. */
		if (r->bomb)
			bdl_cause(cause, "%s: decompression bomb: the archive "
			    "expands past the %llu bytes the manifest allows",
			    b->path, (unsigned long long)r->cap);
		else
			bdl_cause(cause, "%s: damaged archive: %s", b->path,
			    archive_error_string(r->a) != NULL ?
			    archive_error_string(r->a) : "unreadable header");
		return BDL_EFORMAT;
	}
	/* Only tar, and at most one compression filter on top of it. */
	if ((archive_format(r->a) & ARCHIVE_FORMAT_BASE_MASK) !=
	    ARCHIVE_FORMAT_TAR) {
		bdl_cause(cause, "%s is not a tar archive", b->path);
		return BDL_EFORMAT;
	}
	if (archive_filter_count(r->a) > 2) {
		bdl_cause(cause, "%s is compressed more than once", b->path);
		return BDL_EFORMAT;
	}
	/* For layout_check(); entries are capped by the manifest's count. */
	if (r->npos < BDL_MAX_ENTRIES + NTOP + 2) {
		void *np = realloc(r->pos, (r->npos + 1) * sizeof(*r->pos));

		if (np == NULL)
			return BDL_ENOMEM;
		r->pos = np;
		r->pos[r->npos].h = archive_read_header_position(r->a);
		r->pos[r->npos].size = archive_entry_size(*e);
		r->npos++;
	}
	return 1;
}

/* Read the data of the current entry; `out` fd >= 0 gets it written. */
static int
read_data(struct reader *r, const struct bdl_bundle *b, const char *name,
    uint64_t size, int out, char *mem, unsigned char digest[32],
    uint64_t *progress_done, uint64_t total, bdl_progress_fn progress,
    void *arg, char **cause)
{
	gcry_md_hd_t md;
	const void *buf;
	size_t len;
	la_int64_t off;
	uint64_t got = 0, next = *progress_done + PROGRESS_STEP;
	int ar, rc = BDL_EFORMAT;

	if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0)
		return BDL_ENOMEM;
	for (;;) {
		ar = archive_read_data_block(r->a, &buf, &len, &off);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK) {
			if (r->bomb)
				bdl_cause(cause, "%s: decompression bomb in "
				    "\"%s\": the archive expands past the %llu "
				    "bytes the manifest allows", b->path, name,
				    (unsigned long long)r->cap);
			else
				bdl_cause(cause, "%s: damaged archive in \"%s\": "
				    "%s", b->path, name,
				    archive_error_string(r->a) != NULL ?
				    archive_error_string(r->a) : "read error");
			goto out;
		}
		/* Holes (sparse data) show as jumps in the offset. */
		if (off < 0 || (uint64_t)off != got || len > size - got) {
			bdl_cause(cause, "%s: \"%s\" holds more data than its "
			    "header says", b->path, name);
			goto out;
		}
		gcry_md_write(md, buf, len);
		if (mem != NULL)
			memcpy(mem + got, buf, len);
		if (out >= 0) {
			const char *p = buf;
			size_t left = len;

			while (left > 0) {
				ssize_t w = write(out, p, left);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					bdl_cause(cause, "writing \"%s\": %s",
					    name, w < 0 ? strerror(errno) :
					    "short write");
					rc = BDL_EIO;
					goto out;
				}
				p += w;
				left -= (size_t)w;
			}
		}
		got += len;
		*progress_done += len;
		if (progress != NULL && *progress_done >= next) {
			progress(arg, BDL_STAGE_EXTRACT, *progress_done, total);
			next = *progress_done + PROGRESS_STEP;
		}
	}
	if (got != size) {
		bdl_cause(cause, "%s: \"%s\" ends after %llu of %llu bytes "
		    "(truncated archive)", b->path, name,
		    (unsigned long long)got, (unsigned long long)size);
		goto out;
	}
	memcpy(digest, gcry_md_read(md, GCRY_MD_SHA256), 32);
	rc = 0;
out:
	gcry_md_close(md);
	return rc;
}

/* The first entry: manifest.json, bounded; its bytes in *buf. */
static int
read_manifest_entry(struct reader *r, const struct bdl_bundle *b,
    char **buf, size_t *len, unsigned char digest[32], char **cause)
{
	struct archive_entry *e;
	char name[BDL_MAX_PATH + 1];
	uint64_t size, dummy = 0;
	int rc;

	if ((rc = next_header(r, b, &e, cause)) <= 0) {
		if (rc == 0)
			bdl_cause(cause, "%s: the archive is empty (no "
			    "manifest.json)", b->path);
		return rc == 0 ? BDL_EFORMAT : rc;
	}
	if ((rc = entry_policy(b, e, name, sizeof(name), cause)) < 0)
		return rc;
	if (strcmp(name, "manifest.json") != 0 ||
	    archive_entry_filetype(e) != AE_IFREG) {
		bdl_cause(cause, "%s: the first entry must be manifest.json",
		    b->path);
		return BDL_EFORMAT;
	}
	size = (uint64_t)archive_entry_size(e);
	/* Checked before reading: a huge manifest is a memory bomb. */
	if (size > BDL_MAX_MANIFEST) {
		bdl_cause(cause, "%s: manifest.json is %llu bytes, more than the "
		    "%d allowed", b->path, (unsigned long long)size,
		    BDL_MAX_MANIFEST);
		return BDL_EFORMAT;
	}
	if ((*buf = malloc(size + 1)) == NULL)
		return BDL_ENOMEM;
	rc = read_data(r, b, "manifest.json", size, -1, *buf, digest, &dummy,
	    0, NULL, NULL, cause);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	(*buf)[size] = '\0';
	*len = (size_t)size;
	return 0;
}

int
bdl_bundle_manifest(struct bdl_bundle *b, char **cause)
{
	struct reader r;
	unsigned char digest[32];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	/* Verify, then parse: nothing of the archive is read before. */
	if (!(b->flags & BDL_F_SIG_OK)) {
		bdl_cause(cause, "%s: the signature has not been verified",
		    b->path);
		return BDL_ESIG;
	}
	if (bdl_sha256_init() < 0)
		return BDL_EIO;
	bdl_manifest_free(b->manifest);
	b->manifest = NULL;
	b->flags &= ~(BDL_F_MANIFEST_OK | BDL_F_FILES_OK);
	if ((rc = open_archive(b, &r, cause)) < 0)
		goto out;
	r.cap = BDL_MAX_MANIFEST + BDL_TAR_SLACK(1);
	if ((rc = read_manifest_entry(&r, b, &buf, &len, digest, cause)) < 0)
		goto out;
	if ((rc = bdl_manifest_parse(buf, len, &b->manifest, cause)) < 0)
		goto out;
	memcpy(b->manifest->digest, digest, 32);
	b->flags |= BDL_F_MANIFEST_OK;
out:
	close_archive(&r);
	free(buf);
	return rc;
}

/* Create (or open) the parent directories of `path` below `dirfd`. */
static int
open_parent(int dirfd, const char *path, const char **leaf, char **cause)
{
	char comp[BDL_MAX_COMPONENT + 1];
	const char *p = path, *slash;
	int cur = dup(dirfd), next;

	if (cur < 0)
		return -1;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);

		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
			goto fail;
		/* O_NOFOLLOW: a symlink planted here would be refused. */
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next < 0)
			goto fail;
		close(cur);
		cur = next;
		p = slash + 1;
	}
	*leaf = p;
	return cur;
fail:
	bdl_cause(cause, "creating the directory of \"%s\": %s", path,
	    strerror(errno));
	close(cur);
	return -1;
}

static int
write_entry(struct reader *r, const struct bdl_bundle *b,
    const struct bdl_file *f, int dirfd, uint64_t *done, uint64_t total,
    bdl_progress_fn progress, void *arg, char **cause)
{
	unsigned char digest[32];
	char hex[65];
	const char *leaf;
	int pfd = -1, fd = -1, rc = BDL_EIO;

	if (dirfd >= 0) {
		if ((pfd = open_parent(dirfd, f->path, &leaf, cause)) < 0)
			goto out;
		fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0444);
		if (fd < 0) {
			bdl_cause(cause, "creating \"%s\": %s", f->path,
			    strerror(errno));
			goto out;
		}
	}
	if ((rc = read_data(r, b, f->path, f->size, fd, NULL, digest, done,
	    total, progress, arg, cause)) < 0)
		goto out;
	if (memcmp(digest, f->digest, 32) != 0) {
		bdl_hex(digest, 32, hex);
		bdl_cause(cause, "%s: \"%s\" does not match its SHA-256 in the "
		    "manifest (manifest %.16s..., archive %.16s...)", b->path,
		    f->path, f->sha256, hex);
		rc = BDL_EFORMAT;
		goto out;
	}
	rc = BDL_EIO;
	if (fd >= 0 && (bdl_fault("extract-fsync") < 0 || fsync(fd) < 0)) {
		bdl_cause(cause, "writing \"%s\": %s", f->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		bdl_cause(cause, "writing \"%s\": %s", f->path, strerror(errno));
		rc = BDL_EIO;
	}
	if (pfd >= 0)
		close(pfd);
	return rc;
}

static int
write_manifest(int dirfd, const char *buf, size_t len, char **cause)
{
	int fd = openat(dirfd, "manifest.json", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0444);
	size_t off = 0;

	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (bdl_fault("extract-fsync") < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	bdl_cause(cause, "writing manifest.json: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return BDL_EIO;
}

/* ---- the layout libarchive does not report ------------------------------- */

/*
 * libarchive skips some tar headers without a word: a pax global header
 * ('g'), a GNU volume header ('V'), and a GNU sparse file ('S') whose map
 * is empty reads as a plain file; it also stops at the end-of-archive
 * mark and never looks at what follows.  It does report where each
 * entry's headers begin (archive_read_header_position) and each entry's
 * size, so the headers of entry k fill exactly
 *     [start of k, start of k+1 - size rounded up to 512).
 * This pass reads only the blocks at those places from the decompressed
 * stream (libarchive's "raw" format does the decompression) and checks
 * their type byte: an entry may be preceded by at most two extension
 * headers, pax 'x' or GNU long-name 'L', and must itself be a regular
 * file ('0' or NUL) or a directory ('5').  After the end mark only zero
 * bytes (padding to the record size) may follow.  Everything else about
 * the headers stays libarchive's business.
 */
#define TAR_BLOCK	512
#define MAX_EXT_HDR	(1 << 20)	/* bytes in one 'x' or 'L' header */
#define MAX_TRAILING	(1 << 20)	/* zero padding after the end mark */

struct shadow {
	const struct bdl_bundle *b;
	struct reader	 r;		/* raw reader, compressed input only */
	int		 compressed;
	uint64_t	 pos;		/* next offset in the tar stream */
};

static int
shadow_open(struct shadow *sh, const struct bdl_bundle *b, int compressed,
    uint64_t cap, char **cause)
{
	struct archive *a;
	struct archive_entry *e;

	memset(sh, 0, sizeof(*sh));
	sh->b = b;
	sh->compressed = compressed;
	if (!compressed)
		return 0;
	sh->r.fd = b->fd;
	sh->r.size = b->size;
	sh->r.chunk = SMALL_READ;
	sh->r.cap = cap;
	if ((sh->r.buf = malloc(SMALL_READ)) == NULL ||
	    (a = archive_read_new()) == NULL)
		return BDL_ENOMEM;
	sh->r.a = a;
	archive_read_support_format_raw(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_set_read_callback(a, rd);
	archive_read_set_callback_data(a, &sh->r);
	if (archive_read_open1(a) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		bdl_cause(cause, "%s: cannot decompress it again: %s", b->path,
		    archive_error_string(a) != NULL ? archive_error_string(a) :
		    "?");
		return BDL_EFORMAT;
	}
	return 0;
}

/* Up to n bytes at sh->pos (fewer only at the end); -1 on error. */
static ssize_t
shadow_read(struct shadow *sh, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k;

		if (sh->compressed)
			k = archive_read_data(sh->r.a, (char *)buf + got, n - got);
		else {
			if (sh->pos >= sh->b->size)
				break;
			do
				k = pread(sh->b->fd, (char *)buf + got, n - got,
				    (off_t)sh->pos);
			while (k < 0 && errno == EINTR);
		}
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
		sh->pos += (uint64_t)k;
	}
	return (ssize_t)got;
}

/* Move forward to `off` (never back). */
static int
shadow_seek(struct shadow *sh, uint64_t off)
{
	char scratch[4096];

	if (off < sh->pos)
		return -1;
	if (!sh->compressed) {
		sh->pos = off;
		return 0;
	}
	while (sh->pos < off) {
		size_t n = off - sh->pos < sizeof(scratch) ?
		    (size_t)(off - sh->pos) : sizeof(scratch);

		if (shadow_read(sh, scratch, n) != (ssize_t)n)
			return -1;
	}
	return 0;
}

static void
shadow_close(struct shadow *sh)
{
	close_archive(&sh->r);
}

/* The header block at `off`: 0, or -1 if it cannot be read. */
static int
block_at(struct shadow *sh, uint64_t off, unsigned char blk[TAR_BLOCK])
{
	if (shadow_seek(sh, off) < 0 ||
	    shadow_read(sh, blk, TAR_BLOCK) != TAR_BLOCK)
		return -1;
	return 0;
}

/* The octal size field of an extension header; -1 if not plain octal. */
static int64_t
ext_size(const unsigned char blk[TAR_BLOCK])
{
	int64_t v = 0;
	size_t i = 124;

	while (i < 136 && blk[i] == ' ')
		i++;
	if (i == 136 || blk[i] < '0' || blk[i] > '7')
		return -1;
	for (; i < 136 && blk[i] >= '0' && blk[i] <= '7'; i++)
		v = v * 8 + (blk[i] - '0');
	if (i < 136 && blk[i] != ' ' && blk[i] != '\0')
		return -1;
	return v;
}

static const char *
type_name(unsigned char t)
{
	switch (t) {
	case 'g': return "a pax global header";
	case 'V': return "a GNU volume header";
	case 'S': return "a GNU sparse file";
	case 'M': return "a GNU multi-volume continuation";
	case 'N': return "an old GNU long-name script";
	case 'K': return "a GNU long link name";
	case 'A': return "a Solaris ACL header";
	case 'X': return "a Sun extended header";
	case '7': return "a contiguous file";
	default: return "a header of an unknown type";
	}
}

static uint64_t
round_block(uint64_t n)
{
	return (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
}

static int
layout_check(const struct bdl_bundle *b, struct reader *r, char **cause)
{
	struct shadow sh;
	unsigned char blk[TAR_BLOCK];
	uint64_t cur, own, end;
	int rc;

	if (r->h_end < 0) {
		bdl_cause(cause, "%s: the end of the archive was not found",
		    b->path);
		return BDL_EFORMAT;
	}
	if ((rc = shadow_open(&sh, b, archive_filter_count(r->a) > 1,
	    (uint64_t)r->h_end + MAX_TRAILING + 2 * SMALL_READ, cause)) < 0)
		goto out;
	rc = BDL_EFORMAT;
	for (size_t k = 0; k < r->npos; k++) {
		int64_t next = k + 1 < r->npos ? r->pos[k + 1].h : r->h_end;
		uint64_t span = round_block((uint64_t)r->pos[k].size);
		const char *what = NULL;
		int n_ext = 0;

		cur = (uint64_t)r->pos[k].h;
		if (next < 0 || (uint64_t)next < cur + TAR_BLOCK + span) {
			bdl_cause(cause, "%s: entry %zu: its headers and data do "
			    "not add up", b->path, k + 1);
			goto out;
		}
		own = (uint64_t)next - span - TAR_BLOCK;
		/* Extension headers that belong to the entry, then its own. */
		while (cur < own) {
			int64_t sz;

			if (block_at(&sh, cur, blk) < 0)
				goto unreadable;
			if ((blk[156] != 'x' && blk[156] != 'L') ||
			    ++n_ext > 2) {
				what = blk[156] == 'x' || blk[156] == 'L' ?
				    "more than two extension headers" :
				    type_name(blk[156]);
				break;
			}
			if ((sz = ext_size(blk)) < 0 || sz > MAX_EXT_HDR) {
				what = "an extension header of a bad size";
				break;
			}
			cur += TAR_BLOCK + round_block((uint64_t)sz);
		}
		if (what == NULL && cur != own)
			what = "data its header does not declare";
		if (what == NULL) {
			if (block_at(&sh, own, blk) < 0)
				goto unreadable;
			if (blk[156] != '0' && blk[156] != '\0' &&
			    blk[156] != '5')
				what = type_name(blk[156]);
		}
		if (what != NULL) {
			bdl_cause(cause, "%s: entry %zu%s%s%s is preceded by or is "
			    "%s, which bundles may not hold", b->path, k + 1,
			    k == 0 ? " (" : "", k == 0 ? "manifest.json" : "",
			    k == 0 ? ")" : "", what);
			goto out;
		}
	}
	/* After the end mark: zero padding only, and not much of it. */
	if (shadow_seek(&sh, (uint64_t)r->h_end) < 0)
		goto unreadable;
	end = (uint64_t)r->h_end;
	for (;;) {
		char buf[4096];
		ssize_t n = shadow_read(&sh, buf, sizeof(buf));

		if (n < 0)
			goto unreadable;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != 0 || end + (uint64_t)i >=
			    (uint64_t)r->h_end + MAX_TRAILING) {
				bdl_cause(cause, "%s: %s after the end of the "
				    "archive (byte %llu)", b->path, buf[i] != 0 ?
				    "data" : "too much padding",
				    (unsigned long long)(end + (uint64_t)i));
				goto out;
			}
		end += (uint64_t)n;
	}
	rc = 0;
	goto out;
unreadable:
	bdl_cause(cause, "%s: the archive cannot be read again", b->path);
out:
	shadow_close(&sh);
	return rc;
}

int
bdl_bundle_extract(struct bdl_bundle *b, int dirfd, bdl_progress_fn progress,
    void *arg, char **cause)
{
	const struct bdl_manifest *m = b->manifest;
	struct archive_entry *e;
	struct reader r;
	unsigned char digest[32];
	unsigned char *seen = NULL, seen_dir[NTOP] = { 0 };
	char name[BDL_MAX_PATH + 1], q[300], *mbuf = NULL;
	uint64_t done = 0;
	size_t mlen;
	int rc;

	if ((b->flags & (BDL_F_SIG_OK | BDL_F_MANIFEST_OK)) !=
	    (BDL_F_SIG_OK | BDL_F_MANIFEST_OK) || m == NULL) {
		bdl_cause(cause, "%s: not verified", b->path);
		return BDL_ESIG;
	}
	b->flags &= ~BDL_F_FILES_OK;
	if ((seen = calloc(m->nfiles, 1)) == NULL)
		return BDL_ENOMEM;
	if ((rc = open_archive(b, &r, cause)) < 0)
		goto out;
	/* Compressed input expands; read it in small steps so that the
	 * bomb check in rd() runs often. */
	if (archive_filter_count(r.a) > 1)
		r.chunk = SMALL_READ;
	r.cap = m->total + BDL_MAX_MANIFEST + BDL_TAR_SLACK(m->nfiles + NTOP);
	if ((rc = read_manifest_entry(&r, b, &mbuf, &mlen, digest, cause)) < 0)
		goto out;
	/* Same descriptor, same bytes; this cannot differ, but the commit
	 * must rest on what was checked, so compare. */
	if (memcmp(digest, m->digest, 32) != 0) {
		bdl_cause(cause, "%s: manifest.json changed between reads",
		    b->path);
		rc = BDL_EFORMAT;
		goto out;
	}
	/* Installed versions keep their manifest: `bundle list --check`
	 * re-hashes against it. */
	if (dirfd >= 0 && (rc = write_manifest(dirfd, mbuf, mlen, cause)) < 0)
		goto out;
	while ((rc = next_header(&r, b, &e, cause)) == 1) {
		const struct bdl_file *f;
		uint64_t hsize;
		size_t i;

		if ((rc = entry_policy(b, e, name, sizeof(name), cause)) < 0)
			goto out;
		quote(name, q, sizeof(q));
		if (archive_entry_filetype(e) == AE_IFDIR) {
			for (i = 0; i < NTOP; i++)
				if (strcmp(name, top_dirs[i]) == 0)
					break;
			if (i == NTOP) {
				bdl_cause(cause, "%s: directory \"%s\" is not in "
				    "the manifest", b->path, q);
				rc = BDL_EFORMAT;
				goto out;
			}
			if (seen_dir[i]++) {
				bdl_cause(cause, "%s: duplicate entry \"%s\"",
				    b->path, q);
				rc = BDL_EFORMAT;
				goto out;
			}
			continue;
		}
		if (strcmp(name, "manifest.json") == 0) {
			bdl_cause(cause, "%s: duplicate entry \"manifest.json\"",
			    b->path);
			rc = BDL_EFORMAT;
			goto out;
		}
		if ((f = bdl_manifest_lookup(m, name)) == NULL) {
			bdl_cause(cause, "%s: \"%s\" is in the archive but not in "
			    "the manifest", b->path, q);
			rc = BDL_EFORMAT;
			goto out;
		}
		i = (size_t)(f - m->files);
		if (seen[i]++) {
			bdl_cause(cause, "%s: duplicate entry \"%s\"", b->path, q);
			rc = BDL_EFORMAT;
			goto out;
		}
		hsize = (uint64_t)archive_entry_size(e);
		if (hsize > f->size) {
			bdl_cause(cause, "%s: \"%s\" holds %llu bytes in the "
			    "archive, more than the %llu the manifest allows",
			    b->path, q, (unsigned long long)hsize,
			    (unsigned long long)f->size);
			rc = BDL_EFORMAT;
			goto out;
		}
		if (hsize < f->size) {
			bdl_cause(cause, "%s: \"%s\" holds %llu bytes in the "
			    "archive, fewer than the %llu the manifest lists",
			    b->path, q, (unsigned long long)hsize,
			    (unsigned long long)f->size);
			rc = BDL_EFORMAT;
			goto out;
		}
		if (bdl_fault("extract-file") < 0) {
			bdl_cause(cause, "writing \"%s\": %s", q,
			    strerror(EIO));
			rc = BDL_EIO;
			goto out;
		}
		if ((rc = write_entry(&r, b, f, dirfd, &done, m->total,
		    progress, arg, cause)) < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < m->nfiles; i++)
		if (!seen[i]) {
			bdl_cause(cause, "%s: \"%s\" is in the manifest but missing "
			    "from the archive", b->path, m->files[i].path);
			rc = BDL_EFORMAT;
			goto out;
		}
	if ((rc = layout_check(b, &r, cause)) < 0)
		goto out;
	/* The directory entries must reach the disk too. */
	if (dirfd >= 0) {
		for (size_t i = 0; i < NTOP; i++)
			if (faccessat(dirfd, top_dirs[i], F_OK,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    bdl_fsync_dir(dirfd, top_dirs[i]) < 0) {
				bdl_cause(cause, "fsync %s: %s", top_dirs[i],
				    strerror(errno));
				rc = BDL_EIO;
				goto out;
			}
		if (bdl_fsync_dir(dirfd, ".") < 0) {
			bdl_cause(cause, "fsync: %s", strerror(errno));
			rc = BDL_EIO;
			goto out;
		}
	}
	if (progress != NULL)
		progress(arg, BDL_STAGE_EXTRACT, m->total, m->total);
	b->flags |= BDL_F_FILES_OK;
	rc = 0;
out:
	close_archive(&r);
	free(mbuf);
	free(seen);
	return rc;
}
