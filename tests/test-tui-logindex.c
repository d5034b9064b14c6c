/*
 * test-tui-logindex.c - the lazy line index and tail -F following
 * (tui/logindex.c): what a technician would see go wrong if it broke --
 * lines missing or doubled after rotation, stale lines after truncation,
 * a huge line taking all memory, a FIFO hanging the screen.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-tui-lidx-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
path(const char *leaf)
{
	static char p[4][128];	/* several may be live: rename(a, b) */
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, leaf);
	return p[k];
}

static void
write_file(const char *p, const char *mode, const char *data, size_t n)
{
	FILE *fp = fopen(p, mode);

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

struct seen {
	uint64_t	 n;
	uint64_t	 last;
	char		 text[64][80];
};

static void
collect(void *arg, uint64_t line, const char *s, size_t len)
{
	struct seen *sn = arg;

	if (sn->n < 64)
		snprintf(sn->text[sn->n], sizeof(sn->text[0]), "%.*s",
		    (int)(len < 79 ? len : 79), s);
	sn->last = line;
	sn->n++;
}

static void
index_all(struct lidx *x, struct seen *sn)
{
	int guard = 0;

	while (lidx_step(x, 1 << 20, collect, sn) > 0)
		assert_true(++guard < 100000);
}

/* line i as a string, for comparisons */
static const char *
get(struct lidx *x, uint64_t i)
{
	static char buf[256];
	const char *s;
	size_t len;
	bool marker;

	if (lidx_get(x, i, &s, &len, &marker) != 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s%.*s", marker ? "#" : "",
	    (int)(len < 200 ? len : 200), s);
	return buf;
}

static void
test_lidx_open_indexes_lazily(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;

	(void)state;
	write_file(path("a.log"), "w", "one\ntwo\r\nthree", 14);
	assert_int_equal(lidx_open(path("a.log"), 0, &x, &cause), 0);
	/* nothing read before the first step */
	assert_int_equal(lidx_lines(x), 0);
	index_all(x, &sn);
	assert_int_equal(lidx_lines(x), 3);
	/* CR stripped; the last line without newline is still a line */
	assert_string_equal(get(x, 0), "one");
	assert_string_equal(get(x, 1), "two");
	assert_string_equal(get(x, 2), "three");
	assert_null(get(x, 3));
	assert_int_equal(sn.n, 3);
	assert_string_equal(sn.text[1], "two");
	lidx_free(x);
}

static void
test_lidx_random_access_many_lines(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL, *buf;
	size_t n = 0, cap = 200000 * 16;
	char want[32];

	(void)state;
	buf = malloc(cap);
	assert_non_null(buf);
	for (int i = 0; i < 200000; i++)
		n += (size_t)sprintf(buf + n, "line %d\n", i);
	write_file(path("big.log"), "w", buf, n);
	free(buf);
	assert_int_equal(lidx_open(path("big.log"), 0, &x, &cause), 0);
	index_all(x, &sn);
	assert_int_equal(lidx_lines(x), 200000);
	assert_int_equal(sn.n, 200000);
	/* backwards, forwards, jumps across checkpoints */
	for (int i = 199999; i >= 0; i -= 7919) {
		snprintf(want, sizeof(want), "line %d", i);
		assert_string_equal(get(x, (uint64_t)i), want);
	}
	assert_string_equal(get(x, 31), "line 31");
	assert_string_equal(get(x, 32), "line 32");
	assert_string_equal(get(x, 33), "line 33");
	/* the index is small: about 8 bytes per LIDX_STRIDE lines */
	assert_true(lidx_memory(x) < 2 * 1024 * 1024);
	lidx_free(x);
}

static void
test_lidx_long_line_is_cut(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL, *buf;
	size_t big = 3 * LIDX_MAX_LINE + 100;
	const char *s;
	size_t len;
	bool marker;

	(void)state;
	buf = malloc(big + 8);
	assert_non_null(buf);
	memset(buf, 'x', big);
	memcpy(buf + big, "\nafter\n", 7);
	write_file(path("long.log"), "w", buf, big + 7);
	free(buf);
	assert_int_equal(lidx_open(path("long.log"), 0, &x, &cause), 0);
	index_all(x, &sn);
	/* 3 full pieces, the 100-byte rest, then the next line */
	assert_int_equal(lidx_lines(x), 5);
	assert_int_equal(lidx_get(x, 0, &s, &len, &marker), 0);
	assert_int_equal(len, LIDX_MAX_LINE);
	assert_int_equal(lidx_get(x, 3, &s, &len, &marker), 0);
	assert_int_equal(len, 100);
	assert_string_equal(get(x, 4), "after");
	lidx_free(x);
}

static void
test_lidx_refuses_fifo_and_dir(void **state)
{
	struct lidx *x = NULL;
	char *cause = NULL;

	(void)state;
	assert_int_equal(mkfifo(path("fifo"), 0600), 0);
	/* must return at once, not block waiting for a writer */
	assert_int_equal(lidx_open(path("fifo"), LIDX_OPEN_FOLLOW, &x, &cause), -1);
	assert_non_null(strstr(cause, "not a regular file"));
	free(cause);
	cause = NULL;
	assert_int_equal(lidx_open(dir, 0, &x, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(lidx_open(path("missing"), 0, &x, &cause), -1);
	assert_non_null(strstr(cause, "missing"));
	free(cause);
}

static void
test_lidx_follow_appends(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;

	(void)state;
	write_file(path("f.log"), "w", "a\nb\n", 4);
	assert_int_equal(lidx_open(path("f.log"), LIDX_OPEN_FOLLOW, &x, &cause), 0);
	index_all(x, &sn);
	assert_int_equal(lidx_lines(x), 2);
	/* a half-written line shows, but is not matched until complete */
	write_file(path("f.log"), "a", "c\npart", 6);
	assert_true(lidx_check(x) & LIDX_EV_GREW);
	index_all(x, &sn);
	assert_int_equal(sn.n, 3);
	assert_int_equal(lidx_lines(x), 4);
	assert_string_equal(get(x, 3), "part");
	write_file(path("f.log"), "a", "ial\n", 4);
	lidx_check(x);
	index_all(x, &sn);
	assert_int_equal(sn.n, 4);
	assert_string_equal(sn.text[3], "partial");
	assert_string_equal(get(x, 3), "partial");
	lidx_free(x);
}

static void
test_lidx_follow_partial_at_open(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;

	(void)state;
	/* the file ends without a newline when we start following it */
	write_file(path("p.log"), "w", "a\nhalf", 6);
	assert_int_equal(lidx_open(path("p.log"), LIDX_OPEN_FOLLOW, &x, &cause), 0);
	index_all(x, &sn);
	assert_int_equal(lidx_lines(x), 2);
	assert_true(lidx_partial(x));
	assert_string_equal(get(x, 1), "half");
	assert_int_equal(sn.n, 1);	/* shown, not matched yet */
	write_file(path("p.log"), "a", " more\nnext\n", 11);
	assert_true(lidx_check(x) & LIDX_EV_GREW);
	index_all(x, &sn);
	assert_false(lidx_partial(x));
	/* re-read and matched once, then the next line */
	assert_int_equal(lidx_lines(x), 3);
	assert_string_equal(get(x, 1), "half more");
	assert_string_equal(get(x, 2), "next");
	assert_int_equal(sn.n, 3);
	assert_string_equal(sn.text[1], "half more");
	assert_string_equal(sn.text[2], "next");
	lidx_free(x);
}

static void
test_lidx_follow_rename_rotation(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;
	int ev;

	(void)state;
	write_file(path("r.log"), "w", "old1\nold2\n", 10);
	assert_int_equal(lidx_open(path("r.log"), LIDX_OPEN_FOLLOW, &x, &cause), 0);
	index_all(x, &sn);
	/* the writer adds a line, then logrotate renames (L01) */
	write_file(path("r.log"), "a", "old3\n", 5);
	assert_int_equal(rename(path("r.log"), path("r.log.1")), 0);
	write_file(path("r.log"), "w", "new1\n", 5);
	ev = lidx_check(x);
	assert_true(ev & LIDX_EV_ROTATED);
	index_all(x, &sn);
	/* old3 drained from the old file first: no loss, no duplicate */
	assert_int_equal(sn.n, 4);
	assert_string_equal(sn.text[2], "old3");
	assert_string_equal(sn.text[3], "new1");
	assert_string_equal(get(x, 2), "old3");
	assert_non_null(strstr(get(x, 3), "rotated"));	/* marker line */
	assert_string_equal(get(x, 4), "new1");
	assert_non_null(strstr(lidx_note(x), "rotated"));
	/* and it keeps following the new file */
	write_file(path("r.log"), "a", "new2\n", 5);
	lidx_check(x);
	index_all(x, &sn);
	assert_string_equal(get(x, 5), "new2");
	lidx_free(x);
}

static void
test_lidx_follow_copytruncate(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;
	int ev;

	(void)state;
	write_file(path("t.log"), "w", "aaaa\nbbbb\ncccc\n", 15);
	assert_int_equal(lidx_open(path("t.log"), LIDX_OPEN_FOLLOW, &x, &cause), 0);
	index_all(x, &sn);
	/* copytruncate: same inode, size 0, then new lines (L02) */
	assert_int_equal(truncate(path("t.log"), 0), 0);
	write_file(path("t.log"), "a", "dd\n", 3);
	ev = lidx_check(x);
	assert_true(ev & LIDX_EV_TRUNCATED);
	index_all(x, &sn);
	assert_int_equal(sn.n, 4);
	assert_string_equal(sn.text[3], "dd");
	/* old lines are reported gone, not shown with the new bytes */
	assert_true(get(x, 0)[0] == '#');
	assert_non_null(strstr(get(x, 3), "truncated"));
	assert_string_equal(get(x, 4), "dd");
	lidx_free(x);
}

static void
test_lidx_follow_truncate_regrow_fingerprint(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;
	int fd;

	(void)state;
	write_file(path("g.log"), "w", "first line\n", 11);
	assert_int_equal(lidx_open(path("g.log"), LIDX_OPEN_FOLLOW, &x, &cause), 0);
	index_all(x, &sn);
	/* truncated and regrown past the old size between two checks (L03):
	 * the size alone cannot tell, the head of the file can */
	fd = open(path("g.log"), O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "other stuff\nmore\n", 17), 17);
	close(fd);
	assert_true(lidx_check(x) & LIDX_EV_TRUNCATED);
	/* the marker does not claim it was truncated to the new size */
	assert_non_null(strstr(lidx_note(x), "truncated and written again"));
	assert_null(strstr(lidx_note(x), "truncated to 17 bytes"));
	index_all(x, &sn);
	assert_string_equal(sn.text[1], "other stuff");
	assert_string_equal(sn.text[2], "more");
	lidx_free(x);
}

static void
test_lidx_follow_missing_then_back(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL;

	(void)state;
	write_file(path("m.log"), "w", "x\n", 2);
	assert_int_equal(lidx_open(path("m.log"), LIDX_OPEN_FOLLOW, &x, &cause), 0);
	index_all(x, &sn);
	assert_int_equal(unlink(path("m.log")), 0);
	assert_true(lidx_check(x) & LIDX_EV_GONE);
	/* told once, not on every poll */
	assert_false(lidx_check(x) & LIDX_EV_GONE);
	write_file(path("m.log"), "w", "y\n", 2);
	assert_true(lidx_check(x) & LIDX_EV_ROTATED);
	index_all(x, &sn);
	assert_string_equal(sn.text[1], "y");
	/* replaced by a directory: stop, never block (L05) */
	assert_int_equal(unlink(path("m.log")), 0);
	assert_int_equal(mkdir(path("m.log"), 0700), 0);
	assert_true(lidx_check(x) & LIDX_EV_STOPPED);
	assert_false(lidx_following(x));
	lidx_free(x);
}

static void
test_lidx_many_rotations_bounded(void **state)
{
	struct lidx *x;
	struct seen sn = { 0 };
	char *cause = NULL, line[32];

	(void)state;
	write_file(path("many.log"), "w", "start\n", 6);
	assert_int_equal(lidx_open(path("many.log"), LIDX_OPEN_FOLLOW, &x,
	    &cause), 0);
	index_all(x, &sn);
	for (int i = 0; i < 3 * LIDX_MAX_SEGS; i++) {
		snprintf(line, sizeof(line), "gen %d\n", i);
		assert_int_equal(rename(path("many.log"), path("many.old")), 0);
		write_file(path("many.log"), "w", line, strlen(line));
		assert_true(lidx_check(x) & LIDX_EV_ROTATED);
		index_all(x, &sn);
	}
	/* every generation's line was seen exactly once, and numbering
	 * never moved: the last line is the newest */
	assert_int_equal(sn.n, 1 + 3 * LIDX_MAX_SEGS);
	snprintf(line, sizeof(line), "gen %d", 3 * LIDX_MAX_SEGS - 1);
	assert_string_equal(get(x, lidx_lines(x) - 1), line);
	/* the oldest lines are reported lost, not misread */
	assert_true(get(x, 0)[0] == '#');
	lidx_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lidx_open_indexes_lazily),
		cmocka_unit_test(test_lidx_random_access_many_lines),
		cmocka_unit_test(test_lidx_long_line_is_cut),
		cmocka_unit_test(test_lidx_refuses_fifo_and_dir),
		cmocka_unit_test(test_lidx_follow_appends),
		cmocka_unit_test(test_lidx_follow_partial_at_open),
		cmocka_unit_test(test_lidx_follow_rename_rotation),
		cmocka_unit_test(test_lidx_follow_copytruncate),
		cmocka_unit_test(test_lidx_follow_truncate_regrow_fingerprint),
		cmocka_unit_test(test_lidx_follow_missing_then_back),
		cmocka_unit_test(test_lidx_many_rotations_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
