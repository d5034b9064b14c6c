/*
 * logsrc.c - stream lines from a log file, pipe or compressed log.
 *
 * Reads with read(2) into one fixed buffer: never mmap (a file truncated
 * under us would raise SIGBUS), never the whole file, no allocation per
 * line.  Lines longer than LOGSRC_MAX_LINE are cut there (the rest of the
 * line is skipped and counted).  CRLF endings lose the CR.  gzip, xz, bzip2
 * and zstd input is decompressed through libarchive.
 */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LOGSRC_BUF	(2 * LOGSRC_MAX_LINE)
#define MAGIC_PEEK	6

struct pb_logsrc {
	int		 fd;
	int		 own_fd;
	struct archive	*ar;		/* non-NULL when decompressing */
	unsigned char	 peek[MAGIC_PEEK];
	size_t		 npeek, peek_off;
	char		*buf;
	size_t		 start, end;	/* unread bytes are buf[start, end) */
	int		 eof;
	int		 skipping;	/* inside the tail of an over-long line */
	uint64_t	 lineno;
	uint64_t	 long_lines;
	int		 saw_nul;
	int64_t		 mtime;
	char		*name;
};

static ssize_t
raw_read(struct pb_logsrc *ls, void *dst, size_t n)
{
	ssize_t r;

	do
		r = read(ls->fd, dst, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* libarchive pulls the peeked magic bytes first, then the descriptor. */
static la_ssize_t
ar_read_cb(struct archive *a, void *arg, const void **out)
{
	struct pb_logsrc *ls = arg;
	static __thread char chunk[64 * 1024];
	ssize_t r;

	(void)a;
	if (ls->peek_off < ls->npeek) {
		*out = ls->peek + ls->peek_off;
		r = (ssize_t)(ls->npeek - ls->peek_off);
		ls->peek_off = ls->npeek;
		return r;
	}
	r = raw_read(ls, chunk, sizeof(chunk));
	*out = chunk;
	return r;
}

static int
is_compressed(const unsigned char *p, size_t n)
{
	return (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
	    (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0) ||
	    (n >= 3 && memcmp(p, "BZh", 3) == 0) ||
	    (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0);
}

static int
open_archive(struct pb_logsrc *ls, char **cause)
{
	struct archive_entry *ent;

	if ((ls->ar = archive_read_new()) == NULL)
		return PB_ENOMEM;
	archive_read_support_filter_all(ls->ar);
	archive_read_support_format_raw(ls->ar);
	if (archive_read_open(ls->ar, ls, NULL, ar_read_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(ls->ar, &ent) != ARCHIVE_OK) {
		pb_cause(cause, "%s: cannot decompress: %s", ls->name,
		    archive_error_string(ls->ar) ? archive_error_string(ls->ar) :
		    "unknown error");
		return PB_EIO;
	}
	return 0;
}

int
pb_logsrc_open(const char *path, struct pb_logsrc **out, char **cause)
{
	struct pb_logsrc *ls;
	struct stat st;
	ssize_t r;
	int rc = PB_ENOMEM;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return PB_ENOMEM;
	ls->fd = -1;
	if ((ls->name = strdup(path)) == NULL ||
	    (ls->buf = malloc(LOGSRC_BUF)) == NULL)
		goto out;
	if (strcmp(path, "-") == 0)
		ls->fd = STDIN_FILENO;
	else {
		ls->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		ls->own_fd = 1;
	}
	rc = PB_EIO;
	if (ls->fd < 0 || fstat(ls->fd, &st) != 0) {
		pb_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		pb_cause(cause, "%s: is a directory", path);
		goto out;
	}
	/* A device such as /dev/zero or /dev/urandom never ends: refuse it
	 * rather than hang.  Terminals (interactive stdin) are fine. */
	if ((S_ISCHR(st.st_mode) && !isatty(ls->fd)) || S_ISBLK(st.st_mode)) {
		pb_cause(cause, "%s: not a regular file or pipe", path);
		goto out;
	}
	ls->mtime = S_ISREG(st.st_mode) ? (int64_t)st.st_mtime : (int64_t)time(NULL);
	r = raw_read(ls, ls->peek, MAGIC_PEEK);
	if (r < 0) {
		pb_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	ls->npeek = (size_t)r;
	if (is_compressed(ls->peek, ls->npeek)) {
		if ((rc = open_archive(ls, cause)) != 0)
			goto out;
	} else {
		memcpy(ls->buf, ls->peek, ls->npeek);
		ls->end = ls->npeek;
	}
	*out = ls;	/* transferred */
	ls = NULL;
	rc = 0;
out:
	pb_logsrc_close(ls);
	return rc;
}

void
pb_logsrc_close(struct pb_logsrc *ls)
{
	if (ls == NULL)
		return;
	if (ls->ar != NULL)
		archive_read_free(ls->ar);
	if (ls->own_fd && ls->fd >= 0)
		close(ls->fd);
	free(ls->buf);
	free(ls->name);
	free(ls);
}

static int
fill(struct pb_logsrc *ls, char **cause)
{
	ssize_t r;

	if (ls->start > 0) {
		memmove(ls->buf, ls->buf + ls->start, ls->end - ls->start);
		ls->end -= ls->start;
		ls->start = 0;
	}
	if (ls->ar != NULL) {
		r = archive_read_data(ls->ar, ls->buf + ls->end, LOGSRC_BUF - ls->end);
		if (r < 0) {
			pb_cause(cause, "%s: cannot decompress: %s", ls->name,
			    archive_error_string(ls->ar));
			return PB_EIO;
		}
	} else {
		r = raw_read(ls, ls->buf + ls->end, LOGSRC_BUF - ls->end);
		if (r < 0) {
			pb_cause(cause, "%s: %s", ls->name, strerror(errno));
			return PB_EIO;
		}
	}
	if (r == 0)
		ls->eof = 1;
	if (!ls->saw_nul && r > 0 && memchr(ls->buf + ls->end, '\0', (size_t)r))
		ls->saw_nul = 1;
	ls->end += (size_t)r;
	return 0;
}

int
pb_logsrc_next(struct pb_logsrc *ls, const char **line, size_t *len,
    char **cause)
{
	char *nl;
	size_t avail, n;
	int rc;

	for (;;) {
		avail = ls->end - ls->start;
		nl = avail ? memchr(ls->buf + ls->start, '\n', avail) : NULL;
		if (ls->skipping) {
			if (nl == NULL) {
				ls->start = ls->end;
				if (ls->eof)
					return 0;
				if ((rc = fill(ls, cause)) != 0)
					return rc;
				continue;
			}
			ls->start = (size_t)(nl - ls->buf) + 1;
			ls->skipping = 0;
			continue;
		}
		if (nl != NULL) {
			n = (size_t)(nl - (ls->buf + ls->start));
			if (n > LOGSRC_MAX_LINE) {	/* cut, drop the rest */
				*line = ls->buf + ls->start;
				*len = LOGSRC_MAX_LINE;
				ls->start += n + 1;
				ls->long_lines++;
				ls->lineno++;
				return 1;
			}
			break;
		}
		if (avail >= LOGSRC_MAX_LINE) {
			n = LOGSRC_MAX_LINE;
			ls->skipping = 1;
			ls->long_lines++;
			break;
		}
		if (ls->eof) {
			if (avail == 0)
				return 0;
			n = avail;
			break;
		}
		if ((rc = fill(ls, cause)) != 0)
			return rc;
	}
	*line = ls->buf + ls->start;
	ls->start += n;
	if (!ls->skipping && ls->start < ls->end)
		ls->start++;			/* the newline */
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*len = n;
	ls->lineno++;
	return 1;
}

uint64_t
pb_logsrc_lineno(const struct pb_logsrc *ls)
{
	return ls->lineno;
}

uint64_t
pb_logsrc_long_lines(const struct pb_logsrc *ls)
{
	return ls->long_lines;
}

int
pb_logsrc_binary(const struct pb_logsrc *ls)
{
	return ls->saw_nul;
}

int64_t
pb_logsrc_mtime(const struct pb_logsrc *ls)
{
	return ls->mtime;
}
