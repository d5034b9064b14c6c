/*
 * main.c - triage: offline log triage for field technicians.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "metrics.h"
#include "tui.h"

static const char usage_text[] =
"usage: triage [--help | --version]\n"
"       triage [-f] [--resume[=ID|list]] [--model FILE] [FILE... | -]\n"
"       triage analyze [options] FILE... | -\n"
"       triage playbook lint DIR|FILE...\n"
"       triage playbook list [--playbooks DIR]\n"
"       triage model info [--sha256] [--metadata] FILE\n"
"       triage model bench [-p N] [-n N] [-r N] [--threads N] [--json] FILE\n"
"       triage ask [--model FILE] [--log FILE] [options] \"question\"\n"
"       triage bundle info|verify|import|list|rollback|remove|scan|create ...\n"
"       triage keys add|list|remove ...\n"
"       triage stats [--since D] [--json] [--export FILE]\n"
"       triage doctor [--model FILE] [--json]\n"
"       triage sessions list | show ID | erase ID | erase --all\n"
"\n"
"With no command: the full-screen interface on the files (or a paste).\n"
"  -f               follow: show lines as they are appended (like tail -f)\n"
"  --resume         reopen the last session (logs, pasted text, ticks, notes,\n"
"                   answers); --resume=list lists them, --resume=ID picks one\n"
"  --model FILE     the GGUF model the assistant answers with\n"
"\n"
"Commands:\n"
"  analyze   find known problems in logs and print troubleshooting cards\n"
"  playbook  check and list the playbooks that describe those problems\n"
"  model     describe a GGUF model file (info) and time it here (bench)\n"
"  ask       ask the local model a question; the answer streams out\n"
"  bundle    install signed playbook and model bundles (from USB), roll back\n"
"  keys      choose whose signatures bundles must carry\n"
"  stats     coarse local metrics: counts, speeds, versions; no content\n"
"  doctor    this laptop, its speed, and which model sizes will run well\n"
"  sessions  list, show and erase what the full-screen interface kept\n"
"\n"
"Run 'triage COMMAND --help' for a command's options; man triage for more.\n"
"Exit status: 0 found, 1 nothing found (or lint problems), 2 trouble.\n";

int
main(int argc, char **argv)
{
	const char *cmd;

	setlocale(LC_ALL, "");
	/* No command: the full-screen interface (tui/app.c). */
	if (argc < 2 || app_wants(argv[1])) {
		int rc = app_main(argc, argv);
		if (rc >= 0)
			return rc;
		fputs(usage_text, stderr);
		return EXIT_TROUBLE;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_TROUBLE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		out_printf(stdout, "triage %s\n", TRIAGE_VERSION);
		return 0;
	}
	/* getopt names argv[0] in its messages ("unrecognized option"):
	 * make that "triage: analyze" like every other message */
	{
		static char name[32];
		snprintf(name, sizeof(name), "triage: %.20s", argv[1]);
		cmd = argv[1];
		argv[1] = name;
	}
	if (strcmp(cmd, "analyze") == 0)
		return cmd_analyze(argc - 1, argv + 1);
	if (strcmp(cmd, "playbook") == 0)
		return cmd_playbook(argc - 1, argv + 1);
	if (strcmp(cmd, "model") == 0)
		return cmd_model(argc - 1, argv + 1);
	if (strcmp(cmd, "ask") == 0)
		return cmd_ask(argc - 1, argv + 1);
	if (strcmp(cmd, "bundle") == 0)
		return cmd_bundle(argc - 1, argv + 1);
	if (strcmp(cmd, "keys") == 0)
		return cmd_keys(argc - 1, argv + 1);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	if (strcmp(cmd, "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);
	if (strcmp(cmd, "sessions") == 0)
		return cmd_sessions(argc - 1, argv + 1);
	out_printf(stderr, "triage: unknown command \"%s\"\n", cmd);
	fputs(usage_text, stderr);
	return EXIT_TROUBLE;
}
