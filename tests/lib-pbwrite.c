/*
 * lib-pbwrite.c - write a minimal valid playbook for tests that need a
 * small library of their own (suggestions, severity).  The fields a test
 * varies are arguments; the rest are the shortest text lint accepts.
 */
#include <jansson.h>
#include <stdio.h>

#include "lib-pbwrite.h"

int
pbw_write(const char *dir, const char *id, const char *klass,
    const char *title, const char *expl, const char *regex,
    const char *const ex[3])
{
	char path[4096];
	json_t *doc;
	int rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s.json", dir, id) >=
	    (int)sizeof(path))
		return -1;
	doc = json_pack("{s:i,s:s,s:i,s:s,s:s,s:s,s:[s],s:[s],"
	    "s:{s:[{s:s,s:s}]},s:s,s:[s],s:[{s:s,s:s,s:s}],s:[s],s:[s],"
	    "s:{s:s,s:[s]},s:[s],s:{s:[s,s,s],s:[s,s,s]}}",
	    "format", 1, "id", id, "version", 1, "title", title,
	    "class", klass, "severity", "high", "tags", "t", "sources", "any",
	    "match", "patterns", "name", "p", "regex", regex,
	    "explanation", expl, "causes", "c",
	    "checks", "do", "d", "command", "true", "expect", "e",
	    "fix", "f", "verify", "v", "escalate", "when", "w", "attach", "a",
	    "references", "r", "examples", "match", ex[0], ex[1], ex[2],
	    "no_match", "nothing here", "all fine", "ok");
	if (doc == NULL)
		goto out;
	if (json_dump_file(doc, path, JSON_INDENT(1)) != 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	return rc;
}
