/*
 * logindex.c - a lazy line index over a log file, and tail -F following.
 *
 * Why this shape: a 1 GB log must show its first screen at once and must
 * never be read into memory, so the index keeps one byte offset every
 * LIDX_STRIDE lines and finds the lines in between by scanning a small
 * block cache.  Files are read with pread(), never mmap: a file truncated
 * under a mapping raises SIGBUS (lnav ARCHITECTURE.md).
 *
 * Following (GNU tail -F, reliability notes section 5): every check
 * compares the open descriptor's size with what was read (shrunk:
 * truncated), the first 4 KiB with what they were (changed: rewritten),
 * and stat(path) with the open descriptor's device and inode (different:
 * rotated).  A rotated file is read to its end before the new one starts,
 * so no line is lost or shown twice; it stays open so its lines can still
 * be shown.  Each event adds a marker line to the view.
 *
 * Lines are numbered across segments: segment i starts where segment i-1
 * ended; a segment holds an optional marker line then the file's lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"

/* Bytes read per pread while indexing; must exceed LIDX_MAX_LINE. */
#define LIDX_CHUNK	(1024 * 1024)
/* The block cache for random access; holds at least one whole line. */
#define LIDX_CACHE	(256 * 1024)
/* Bytes of the file head compared on every check (truncate and regrow). */
#define LIDX_FP_LEN	4096

struct seg {
	int		 fd;		/* -1: closed (lines lost) */
	dev_t		 dev;
	ino_t		 ino;
	char		*marker;	/* first line of the segment, or NULL */
	uint64_t	 first;		/* global number of its first line */
	uint64_t	 nfile;		/* complete file lines indexed */
	uint64_t	*ckpt;		/* offset of file line k * LIDX_STRIDE */
	size_t		 nckpt, capckpt;
	uint64_t	 linestart;	/* offset of the line being scanned */
	uint64_t	 scanned;	/* bytes looked at */
	uint64_t	 size;		/* size at the last fstat */
	bool		 closed;	/* no more lines will come (rotated away) */
	bool		 lost;		/* truncated under us: bytes are gone */
	bool		 partial_fed;	/* final unterminated line counted */
	unsigned char	 fp[LIDX_FP_LEN];	/* the head of the file */
	size_t		 fplen;
};

struct lidx {
	char		*path;
	int		 flags;
	struct seg	 seg[LIDX_MAX_SEGS];
	size_t		 nseg;
	uint64_t	 base;		/* first line of seg[0] */
	bool		 gone;		/* the name is missing or unreadable */
	bool		 stopped;	/* no longer following */
	char		*note;
	char		*chunk;		/* LIDX_CHUNK bytes for indexing */
	char		*cache;		/* LIDX_CACHE bytes for lidx_get */
	int		 cache_seg;	/* which segment the cache holds, or -1 */
	uint64_t	 cache_off;
	size_t		 cache_len;
	/* where the last lidx_get ended, for sequential reads */
	int		 memo_seg;
	uint64_t	 memo_line, memo_off;
};

/* The note is "PATH: what happened". */
static void
set_note(struct lidx *x, const char *what, const char *detail)
{
	char *s;

	if (asprintf(&s, "%s: %s%s", x->path, what, detail) < 0)
		return;
	free(x->note);
	x->note = s;
}

static int
ckpt_push(struct seg *s, uint64_t off)
{
	if (s->nckpt == s->capckpt) {
		size_t cap = s->capckpt ? s->capckpt * 2 : 256;
		uint64_t *p = realloc(s->ckpt, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		s->ckpt = p;
		s->capckpt = cap;
	}
	s->ckpt[s->nckpt++] = off;
	return 0;
}

/* Forget the oldest segment; its line numbers stay taken (x->base). */
static void seg_drop_oldest(struct lidx *);

/* Start a segment on an open descriptor; it takes the fd. */
static int
seg_add(struct lidx *x, int fd, const struct stat *st, const char *marker)
{
	struct seg *s;

	if (x->nseg == LIDX_MAX_SEGS)
		seg_drop_oldest(x);
	s = &x->seg[x->nseg];
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = (uint64_t)st->st_size;
	if (marker != NULL && (s->marker = strdup(marker)) == NULL)
		return -1;
	if (ckpt_push(s, 0) != 0) {
		free(s->marker);
		return -1;
	}
	if (x->nseg > 0)
		x->seg[x->nseg - 1].closed = true;
	x->nseg++;
	return 0;
}

/* Lines of a segment, counting the marker and a final partial line. */
static uint64_t
seg_lines(const struct seg *s)
{
	uint64_t n = s->nfile + (s->marker != NULL);

	if (!s->lost && s->scanned >= s->size && s->linestart < s->size)
		n++;
	return n;
}

/* Recompute where each segment starts; a segment starts after the
 * previous one is fully read, so numbers never move once shown. */
static void
renumber(struct lidx *x)
{
	uint64_t n = x->base;

	for (size_t i = 0; i < x->nseg; i++) {
		x->seg[i].first = n;
		n += seg_lines(&x->seg[i]);
		if (!x->seg[i].closed || x->seg[i].scanned < x->seg[i].size)
			break;
	}
}

static void
seg_drop_oldest(struct lidx *x)
{
	struct seg *s = &x->seg[0];

	x->base += seg_lines(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->ckpt);
	free(s->marker);
	memmove(&x->seg[0], &x->seg[1], (x->nseg - 1) * sizeof(x->seg[0]));
	x->nseg--;
	x->cache_seg = -1;
	x->memo_seg = -1;
}

int
lidx_open(const char *path, int flags, struct lidx **out, char **cause)
{
	struct lidx *x = NULL;
	struct stat st;
	int fd = -1, e;

	/* O_NONBLOCK: opening a FIFO must not hang the UI (L05). */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		e = errno;
		if (asprintf(cause, "%s: %s", path, strerror(e)) < 0)
			*cause = NULL;
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (asprintf(cause, "%s: not a regular file", path) < 0)
			*cause = NULL;
		close(fd);
		return -1;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->path = strdup(path)) == NULL ||
	    (x->chunk = malloc(LIDX_CHUNK)) == NULL ||
	    (x->cache = malloc(LIDX_CACHE)) == NULL)
		goto oom;
	x->flags = flags;
	x->cache_seg = -1;
	x->memo_seg = -1;
	if (seg_add(x, fd, &st, NULL) != 0)
		goto oom;
	fd = -1;
	if (st.st_size > 0) {
		ssize_t n = pread(x->seg[0].fd, x->seg[0].fp, LIDX_FP_LEN, 0);
		x->seg[0].fplen = n > 0 ? (size_t)n : 0;
	}
	*out = x;
	return 0;
oom:
	if (fd >= 0)
		close(fd);
	lidx_free(x);
	if (asprintf(cause, "%s: out of memory", path) < 0)
		*cause = NULL;
	return -1;
}

void
lidx_free(struct lidx *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->nseg; i++) {
		if (x->seg[i].fd >= 0)
			close(x->seg[i].fd);
		free(x->seg[i].ckpt);
		free(x->seg[i].marker);
	}
	free(x->path);
	free(x->note);
	free(x->chunk);
	free(x->cache);
	free(x);
}

/* The first segment that still has bytes to index, or NULL. */
static struct seg *
seg_todo(struct lidx *x)
{
	for (size_t i = 0; i < x->nseg; i++) {
		struct seg *s = &x->seg[i];
		if (!s->lost && s->fd >= 0 && s->scanned < s->size)
			return s;
		if (!s->closed)
			return NULL;
	}
	return NULL;
}

int
lidx_step(struct lidx *x, size_t budget, lidx_line_fn fn, void *arg)
{
	size_t done = 0;

	while (done < budget) {
		struct seg *s = seg_todo(x);
		uint64_t base;
		ssize_t got;
		size_t want, start, pos;

		if (s == NULL)
			break;
		base = s->first + (s->marker != NULL);
		want = LIDX_CHUNK;
		if (s->size - s->linestart < want)
			want = (size_t)(s->size - s->linestart);
		got = pread(s->fd, x->chunk, want, (off_t)s->linestart);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			set_note(x, strerror(errno), "");
			return -1;
		}
		if ((size_t)got < want)	/* shrank: lidx_check will see why */
			s->size = s->linestart + (uint64_t)got;
		/* chunk[0] is the start of the current line */
		start = 0;
		pos = (size_t)(s->scanned - s->linestart);
		for (;;) {
			size_t avail = (size_t)got - start, from = pos - start;
			size_t lim = avail < LIDX_MAX_LINE + 1 ? avail :
			    LIDX_MAX_LINE + 1, len, adv;
			char *b = x->chunk + start, *nl;

			nl = from < lim ? memchr(b + from, '\n', lim - from) :
			    NULL;
			if (nl != NULL) {
				len = (size_t)(nl - b);
				adv = len + 1;
			} else if (avail > LIDX_MAX_LINE) {
				/* Cut a long line (L07); no newline consumed. */
				len = adv = LIDX_MAX_LINE;
			} else {
				pos = (size_t)got;
				break;
			}
			if (fn != NULL)
				fn(arg, base + s->nfile, b, len > 0 &&
				    b[len - 1] == '\r' ? len - 1 : len);
			s->nfile++;
			s->linestart += adv;
			start += adv;
			pos = start;
			if (s->nfile % LIDX_STRIDE == 0 &&
			    ckpt_push(s, s->linestart) != 0) {
				set_note(x, "out of memory", "");
				return -1;
			}
		}
		s->scanned = s->linestart + (pos - start);
		done += want > 0 ? want : 1;
		/* A rotated or finished file's last line has no newline:
		 * hand it to the matcher once. */
		if (s->scanned >= s->size && s->linestart < s->size &&
		    (s->closed || !(x->flags & LIDX_OPEN_FOLLOW)) &&
		    !s->partial_fed) {
			size_t l = (size_t)(s->size - s->linestart);
			char *b = x->chunk + start;

			if (l > 0 && b[l - 1] == '\r')
				l--;
			if (fn != NULL)
				fn(arg, base + s->nfile, b, l);
			s->partial_fed = true;
		}
		renumber(x);
	}
	renumber(x);
	return seg_todo(x) != NULL ? 1 : 0;
}

/* Begin a new segment after the current one (rotation or truncation). */
static int
restart(struct lidx *x, int fd, const struct stat *st, const char *marker)
{
	struct seg *s;

	if (seg_add(x, fd, st, marker) != 0) {
		close(fd);
		return -1;
	}
	s = &x->seg[x->nseg - 1];
	if (st->st_size > 0) {
		ssize_t n = pread(fd, s->fp, LIDX_FP_LEN, 0);
		s->fplen = n > 0 ? (size_t)n : 0;
	}
	renumber(x);
	return 0;
}

/* The bytes of a truncated segment are gone from the file. */
static void
seg_lose(struct seg *s)
{
	s->lost = true;
	s->closed = true;
	s->size = s->scanned;
	free(s->ckpt);
	s->ckpt = NULL;
	s->nckpt = s->capckpt = 0;
}

int
lidx_check(struct lidx *x)
{
	struct seg *s = &x->seg[x->nseg - 1];
	struct stat st, nst;
	unsigned char head[LIDX_FP_LEN];
	int ev = 0, fd;
	char msg[64];

	if (x->stopped || s->fd < 0)
		return 0;
	if (fstat(s->fd, &st) != 0)
		return 0;
	/* Shrunk, or the head changed (truncated and regrown, L02/L03). */
	if ((uint64_t)st.st_size < s->scanned ||
	    (s->fplen > 0 && (pread(s->fd, head, s->fplen, 0) !=
	    (ssize_t)s->fplen || memcmp(head, s->fp, s->fplen) != 0))) {
		/* regrown since: the size now says nothing about the cut */
		if ((uint64_t)st.st_size < s->scanned)
			snprintf(msg, sizeof(msg), "truncated to %lld bytes",
			    (long long)st.st_size);
		else
			snprintf(msg, sizeof(msg), "truncated and written "
			    "again (now %lld bytes)", (long long)st.st_size);
		set_note(x, msg, "; reading from the start");
		fd = s->fd;
		s->fd = -1;
		seg_lose(s);
		renumber(x);
		if (restart(x, fd, &st, x->note) != 0)
			return LIDX_EV_TRUNCATED;
		x->cache_seg = -1;
		x->memo_seg = -1;
		return LIDX_EV_TRUNCATED;
	}
	if ((uint64_t)st.st_size > s->size)
		ev |= LIDX_EV_GREW;
	s->size = (uint64_t)st.st_size;
	if (s->fplen < LIDX_FP_LEN && s->size > s->fplen) {
		ssize_t n = pread(s->fd, s->fp, LIDX_FP_LEN, 0);
		s->fplen = n > 0 ? (size_t)n : 0;
	}
	if (!(x->flags & LIDX_OPEN_FOLLOW))
		return ev;
	/* By name (tail -F): has the path moved to another file? */
	if (stat(x->path, &nst) != 0) {
		if (!x->gone) {
			set_note(x, strerror(errno), "; still watching for it");
			x->gone = true;
			ev |= LIDX_EV_GONE;
		}
		return ev;
	}
	if (nst.st_dev == s->dev && nst.st_ino == s->ino) {
		if (x->gone) {
			x->gone = false;
			ev |= LIDX_EV_BACK;
		}
		return ev;
	}
	if (!S_ISREG(nst.st_mode)) {
		set_note(x, "replaced by something that is not a regular "
		    "file", "; stopped following");
		x->stopped = true;
		return ev | LIDX_EV_STOPPED;
	}
	if ((fd = open(x->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (!x->gone) {
			set_note(x, strerror(errno), "; will retry");
			x->gone = true;
			ev |= LIDX_EV_GONE;
		}
		return ev;
	}
	if (fstat(fd, &nst) != 0 || !S_ISREG(nst.st_mode)) {
		close(fd);
		return ev;
	}
	x->gone = false;
	set_note(x, "replaced (rotated)", "; following the new file");
	if (restart(x, fd, &nst, x->note) == 0)
		ev |= LIDX_EV_ROTATED;
	return ev;
}

bool
lidx_partial(const struct lidx *x)
{
	const struct seg *s;

	if (x->nseg == 0)
		return false;
	s = &x->seg[x->nseg - 1];
	return !s->lost && s->scanned >= s->size && s->linestart < s->size;
}

uint64_t
lidx_lines(const struct lidx *x)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->nseg; i++) {
		const struct seg *s = &x->seg[i];
		n = s->first + seg_lines(s);
		if (!s->closed || s->scanned < s->size)
			break;
	}
	return n;
}

uint64_t
lidx_indexed(const struct lidx *x)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->nseg; i++)
		n += x->seg[i].scanned;
	return n;
}

uint64_t
lidx_size(const struct lidx *x)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->nseg; i++)
		n += x->seg[i].size;
	return n;
}

bool
lidx_following(const struct lidx *x)
{
	return (x->flags & LIDX_OPEN_FOLLOW) && !x->stopped;
}

const char *
lidx_path(const struct lidx *x)
{
	return x->path;
}

const char *
lidx_note(const struct lidx *x)
{
	return x->note;
}

size_t
lidx_memory(const struct lidx *x)
{
	size_t n = sizeof(*x) + LIDX_CHUNK + LIDX_CACHE;

	for (size_t i = 0; i < x->nseg; i++)
		n += x->seg[i].capckpt * sizeof(uint64_t);
	return n;
}

/* Fill the cache from `off` in segment si. */
static int
cache_fill(struct lidx *x, int si, uint64_t off)
{
	struct seg *s = &x->seg[si];
	ssize_t n;

	do
		n = pread(s->fd, x->cache, LIDX_CACHE, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	x->cache_seg = si;
	x->cache_off = off;
	x->cache_len = (size_t)n;
	return 0;
}

/*
 * The line starting at `off` in segment si: its bytes in the cache and
 * the offset of the next line, by the same rule lidx_step indexes with.
 */
static int
line_at(struct lidx *x, int si, uint64_t off, const char **p, size_t *len,
    uint64_t *next)
{
	struct seg *s = &x->seg[si];
	size_t avail, lim;
	const char *b, *nl;
	bool ok;

	if (off >= s->size)
		return -1;
	/* The cache must hold the whole line, or reach the end of file. */
	ok = x->cache_seg == si && off >= x->cache_off &&
	    off < x->cache_off + x->cache_len &&
	    (off + LIDX_MAX_LINE + 1 <= x->cache_off + x->cache_len ||
	    x->cache_off + x->cache_len >= s->size);
	if (!ok && cache_fill(x, si, off) != 0)
		return -1;
	if (x->cache_len == 0 || off >= x->cache_off + x->cache_len)
		return -1;
	b = x->cache + (off - x->cache_off);
	avail = x->cache_len - (size_t)(off - x->cache_off);
	lim = avail < LIDX_MAX_LINE + 1 ? avail : LIDX_MAX_LINE + 1;
	nl = memchr(b, '\n', lim);
	if (nl != NULL) {
		*len = (size_t)(nl - b);
		*next = off + *len + 1;
	} else {
		*len = avail < LIDX_MAX_LINE ? avail : LIDX_MAX_LINE;
		*next = off + *len;
	}
	*p = b;
	return 0;
}

int
lidx_get(struct lidx *x, uint64_t line, const char **sp, size_t *lenp,
    bool *marker)
{
	static const char lost[] = "(this line is no longer available: the "
	    "file was truncated or rotated away)";
	uint64_t local, fl, off, next;
	struct seg *s = NULL;
	const char *p;
	size_t len;
	int si = -1;

	*marker = false;
	if (line < x->base) {
		*sp = lost;
		*lenp = sizeof(lost) - 1;
		*marker = true;
		return 0;
	}
	for (size_t i = 0; i < x->nseg; i++) {
		uint64_t n = seg_lines(&x->seg[i]);
		if (line >= x->seg[i].first && line < x->seg[i].first + n) {
			s = &x->seg[i];
			si = (int)i;
			break;
		}
		if (!x->seg[i].closed || x->seg[i].scanned < x->seg[i].size)
			break;
	}
	if (s == NULL)
		return -1;
	local = line - s->first;
	if (s->marker != NULL) {
		if (local == 0) {
			*sp = s->marker;
			*lenp = strlen(s->marker);
			*marker = true;
			return 0;
		}
		local--;
	}
	if (s->lost || s->fd < 0) {
		*sp = lost;
		*lenp = sizeof(lost) - 1;
		*marker = true;
		return 0;
	}
	if (local >= s->nfile) {
		/* the final line without a newline */
		off = s->linestart;
		fl = local;
	} else if (x->memo_seg == si && x->memo_line <= local &&
	    local - x->memo_line < LIDX_STRIDE) {
		fl = x->memo_line;
		off = x->memo_off;
	} else {
		fl = local / LIDX_STRIDE * LIDX_STRIDE;
		if (local / LIDX_STRIDE >= s->nckpt)
			return -1;
		off = s->ckpt[local / LIDX_STRIDE];
	}
	for (;;) {
		if (line_at(x, si, off, &p, &len, &next) != 0)
			return -1;
		if (fl == local)
			break;
		off = next;
		fl++;
	}
	x->memo_seg = si;
	x->memo_line = local + 1;
	x->memo_off = next;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	*sp = p;
	*lenp = len;
	return 0;
}
