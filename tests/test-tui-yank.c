/*
 * test-tui-yank.c - what y sends to the terminal clipboard (yank.c): the
 * base64 of OSC 52 (RFC 4648 vectors, bytes above 0x7f) and which
 * terminals get it by default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "app.h"

static void
b64(const char *in, size_t n, const char *want)
{
	char *s = yank_base64(in, n);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_base64_rfc4648_vectors(void **state)
{
	(void)state;
	b64("", 0, "");
	b64("f", 1, "Zg==");
	b64("fo", 2, "Zm8=");
	b64("foo", 3, "Zm9v");
	b64("foob", 4, "Zm9vYg==");
	b64("fooba", 5, "Zm9vYmE=");
	b64("foobar", 6, "Zm9vYmFy");
	/* high bytes and the last two alphabet characters */
	b64("\xfb\xff\xbf", 3, "+/+/");
	b64("df -h /var", 10, "ZGYgLWggL3Zhcg==");
}

static void
test_osc52_default_by_terminal(void **state)
{
	(void)state;
	assert_true(yank_osc52_default("xterm-256color"));
	assert_true(yank_osc52_default("tmux-256color"));
	assert_true(yank_osc52_default("screen"));
	assert_true(yank_osc52_default("foot"));
	assert_false(yank_osc52_default("linux"));
	assert_false(yank_osc52_default("dumb"));
	assert_false(yank_osc52_default("vt100"));
	assert_false(yank_osc52_default(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_osc52_default_by_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
