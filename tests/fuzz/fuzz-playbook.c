/*
 * fuzz-playbook.c - libFuzzer harness for the playbook loader and lint
 * (playbooks/playbook.c, jsonpos.c, literal.c, redos.c).
 *
 * Input: one mode byte, then the payload.
 *   mode 0xFF   the payload is a regular expression: its prefilter literals,
 *               the backtracking shape check, and, if PCRE2 compiles it,
 *               the provoking-line check with the payload as example;
 *   otherwise   the payload is playbook JSON, named "<id>.json" after its
 *               own "id" when it has one (so the id check passes and the
 *               examples and lint checks run), loaded as analyze does and
 *               linted.
 *
 * Checked besides memory safety (abort() on failure):
 *   - a playbook lint accepts also loads (lint is the stricter);
 *   - every diagnostic is one line naming the file;
 *   - a loaded playbook's id, title and class are non-empty and hold no
 *     control character.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FUZZ_MAX_INPUT	(64 * 1024)	/* keep iterations fast */

struct sink {
	const char	*name;
	int		 n;
};

static void
diag(void *arg, const char *line)
{
	struct sink *s = arg;

	s->n++;
	if (strncmp(line, s->name, strlen(s->name)) != 0 ||
	    strchr(line, '\n') != NULL) {
		fprintf(stderr, "fuzz-playbook: bad diagnostic: %s\n", line);
		abort();
	}
}

static void
clean_text(const char *s)
{
	if (s == NULL || *s == '\0')
		abort();
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
regex_mode(const uint8_t *data, size_t size)
{
	char *re = malloc(size + 1);
	struct pb_litset ls;
	const char *why;
	pcre2_code *code;
	int err;
	PCRE2_SIZE off;

	if (re == NULL)
		abort();
	memcpy(re, data, size);
	re[size] = '\0';	/* an embedded NUL ends it, as in JSON */
	if (pb_literals(re, &ls, &why) != 0) {
		if (why == NULL)
			abort();
		memset(&ls, 0, sizeof(ls));
	}
	if (pb_regex_redos(re, size > 0 && (data[0] & 1), &why) != 0 &&
	    why == NULL)
		abort();
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &err,
	    &off, NULL);
	if (code != NULL) {
		const char *lines[1] = { re };
		size_t lens[1] = { strlen(re) };

		(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		(void)pb_regex_stress(code, &ls, lines, lens, 1, NULL);
		pcre2_code_free(code);
	}
	pb_litset_release(&ls);
	free(re);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_playbook *pb;
	struct sink s = { "fuzz.json", 0 };
	char name[96] = "fuzz.json";
	const char *id;
	json_t *root;
	int n = 0, lint;

	if (size == 0 || size > FUZZ_MAX_INPUT)
		return 0;
	if (data[0] == 0xFF) {
		regex_mode(data + 1, size - 1);
		return 0;
	}
	data++;
	size--;
	root = json_loadb((const char *)data, size, 0, NULL);
	id = json_string_value(json_object_get(root, "id"));
	if (id != NULL && strlen(id) < 64 && strchr(id, '/') == NULL)
		snprintf(name, sizeof(name), "%s.json", id);
	json_decref(root);
	s.name = name;

	pb = pb_playbook_parse(name, (const char *)data, size, 1, diag, &s, &n);
	lint = n;
	if ((pb == NULL) != (n > 0) || n != s.n)
		abort();
	pb_playbook_free(pb);

	s.n = 0;
	pb = pb_playbook_parse(name, (const char *)data, size, 0, diag, &s, &n);
	if ((pb == NULL) != (n > 0) || n != s.n)
		abort();
	if (lint == 0 && pb == NULL)
		abort();		/* lint passed what load refuses */
	if (pb != NULL) {
		clean_text(pb_playbook_id(pb));
		clean_text(pb_playbook_title(pb));
		clean_text(pb_playbook_class(pb));
		if (pb->npats == 0)
			abort();
	}
	pb_playbook_free(pb);
	return 0;
}
