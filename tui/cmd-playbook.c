/*
 * cmd-playbook.c - `triage playbook lint|list`: for knowledge owners.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static const char usage_text[] =
"usage: triage playbook lint DIR|FILE...\n"
"       triage playbook list [--class CLASS] [--patterns] [--playbooks DIR]\n"
"       triage playbook classes\n"
"\n"
"lint  validate every field of each playbook and run its examples; each\n"
"      problem is printed as FILE:LINE:COL: FIELD: MESSAGE.  Exit 1 if any.\n"
"list  show the playbooks in use (shipped, then the user's, which override)\n"
"      with severity, class, id, version and title; --class keeps one\n"
"      problem class; with --patterns, print ID<TAB>REGEX for every\n"
"      pattern instead ((?i) marks icase).\n"
"classes  list the problem classes and how many playbooks each has.\n";

static int
lint(int argc, char **argv)
{
	int problems = 0, trouble = 0, n;
	size_t files = 0, nf;
	char *cause = NULL;

	if (argc < 1) {
		fputs(usage_text, stderr);
		return EXIT_TROUBLE;
	}
	for (int i = 0; i < argc; i++) {
		nf = 0;
		n = pb_lint_files(argv[i], diag_line, stdout, &nf, &cause);
		files += nf;
		if (n < 0) {
			out_printf(stderr, "triage: %s\n", cause ? cause : argv[i]);
			free(cause);
			cause = NULL;
			trouble = 1;
		} else
			problems += n;
	}
	if (trouble)
		return EXIT_TROUBLE;
	if (problems > 0) {
		out_printf(stderr, "triage: %d problem%s\n", problems,
		    problems == 1 ? "" : "s");
		return 1;
	}
	out_printf(stdout, "%zu playbook%s, no problems\n", files,
	    files == 1 ? "" : "s");
	return 0;
}

static int
list(int argc, char **argv)
{
	struct pb_library *lib;
	char *cause = NULL;
	int rc = 0, patterns = 0, dirs = 0;
	const char *klass = NULL;

	if (pb_library_new(&lib) != 0)
		return EXIT_TROUBLE;
	for (int i = 0; rc == 0 && i < argc; i++) {
		if (strcmp(argv[i], "--patterns") == 0)
			patterns = 1;
		else if (strcmp(argv[i], "--class") == 0 && i + 1 < argc) {
			klass = argv[++i];
			if (!pb_class_valid(klass)) {
				out_printf(stderr, "triage: unknown class \"%s\" "
				    "(triage playbook classes lists them)\n",
				    klass);
				rc = EXIT_TROUBLE;
			}
		} else if (strcmp(argv[i], "--playbooks") == 0 && i + 1 < argc) {
			dirs++;
			if (pb_library_add(lib, argv[++i], warn_line, NULL,
			    &cause) < 0) {
				out_printf(stderr, "triage: %s\n", cause);
				free(cause);
				cause = NULL;
				rc = EXIT_TROUBLE;
			}
		} else {
			fputs(usage_text, stderr);
			rc = EXIT_TROUBLE;
		}
	}
	if (rc == 0 && dirs == 0)
		(void)library_default(lib, warn_line, NULL);
	for (size_t i = 0; rc == 0 && i < pb_library_count(lib); i++) {
		const struct pb_playbook *pb = pb_library_get(lib, i);
		if (klass != NULL && strcmp(klass, pb_playbook_class(pb)) != 0)
			continue;
		if (patterns) {
			json_t *v;
			size_t k;
			json_array_foreach(json_object_get(json_object_get(
			    pb_playbook_json(pb), "match"), "patterns"), k, v)
				out_printf(stdout, "%s\t%s%s\n", pb_playbook_id(pb),
				    json_is_true(json_object_get(v, "icase")) ?
				    "(?i)" : "", json_string_value(
				    json_object_get(v, "regex")));
			continue;
		}
		out_printf(stdout, "%-8s  %-17s  %-32s  v%-3d  %s\n",
		    pb_severity_name(pb_playbook_severity(pb)),
		    pb_playbook_class(pb), pb_playbook_id(pb),
		    pb_playbook_version(pb), pb_playbook_title(pb));
	}
	pb_library_free(lib);
	return rc;
}

/* Each class with the number of playbooks in use that have it. */
static int
classes(void)
{
	struct pb_library *lib;
	const char *k;

	if (pb_library_new(&lib) != 0)
		return EXIT_TROUBLE;
	(void)library_default(lib, warn_line, NULL);
	for (size_t c = 0; (k = pb_class_name(c)) != NULL; c++) {
		size_t n = 0;
		for (size_t i = 0; i < pb_library_count(lib); i++)
			n += strcmp(k, pb_playbook_class(pb_library_get(lib, i))) == 0;
		out_printf(stdout, "%-17s  %zu\n", k, n);
	}
	pb_library_free(lib);
	return 0;
}

int
cmd_playbook(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_TROUBLE : 0;
	}
	if (strcmp(argv[1], "lint") == 0) {
		if (argc > 2 && (strcmp(argv[2], "--help") == 0)) {
			fputs(usage_text, stdout);
			return 0;
		}
		return lint(argc - 2, argv + 2);
	}
	if (strcmp(argv[1], "list") == 0) {
		if (argc > 2 && strcmp(argv[2], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		return list(argc - 2, argv + 2);
	}
	if (strcmp(argv[1], "classes") == 0 && argc == 2)
		return classes();
	out_printf(stderr, "triage: playbook: unknown command \"%s\"\n", argv[1]);
	fputs(usage_text, stderr);
	return EXIT_TROUBLE;
}
