/*
 * jsonget.c - read JSON on stdin (strictly, with jansson) and print one
 * value: `jsonget cards.0.id`, `jsonget cards.#` (array length).  Exits 1
 * if the document is invalid or the path does not exist.  For tests/cli.sh.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	json_error_t err;
	json_t *root = json_loadf(stdin, JSON_REJECT_DUPLICATES, &err), *v = root;
	char *path, *tok, *save = NULL;
	int rc = 1;

	if (v == NULL) {
		fprintf(stderr, "jsonget: invalid JSON: %d:%d: %s\n", err.line,
		    err.column, err.text);
		return 1;
	}
	if (argc < 2) {
		json_decref(root);
		return 0;
	}
	path = strdup(argv[1]);
	for (tok = strtok_r(path, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
		if (strcmp(tok, "#") == 0) {
			printf("%zu\n", json_is_array(v) ? json_array_size(v) :
			    json_object_size(v));
			rc = 0;
			goto out;
		}
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) :
		    json_object_get(v, tok);
	}
	if (v == NULL)
		goto out;
	rc = 0;
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	}
out:
	free(path);
	json_decref(root);
	return rc;
}
