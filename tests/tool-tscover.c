/*
 * tool-tscover.c - how many lines of a log have a time triage can read.
 *
 *   tool-tscover FILE...
 *
 * Prints per file: lines with a parsed time / all lines, the fraction, and
 * how many of the times are seconds since boot (dmesg).  Lines are parsed as
 * `triage analyze` does, with the per-file learner (pb_time_parse_learn);
 * empty lines count as lines without a time.  The reference time for
 * year-less stamps is the file's modification time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

int
main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: tool-tscover FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct pb_tslearn l;
		struct stat st;
		uint64_t total = 0, timed = 0, boot = 0;
		ssize_t n;
		FILE *fp;

		if ((fp = fopen(argv[i], "r")) == NULL || fstat(fileno(fp), &st) != 0) {
			perror(argv[i]);
			if (fp != NULL)
				fclose(fp);
			rc = 1;
			continue;
		}
		pb_tslearn_reset(&l);
		while ((n = getline(&line, &cap, fp)) > 0) {
			int64_t t;

			if (line[n - 1] == '\n')
				n--;
			if (n > 0 && line[n - 1] == '\r')
				n--;
			total++;
			t = pb_time_parse_learn(&l, line, (size_t)n, st.st_mtime);
			timed += t != PB_TIME_NONE;
			boot += pb_time_is_boot(t);
		}
		fclose(fp);
		printf("%s: %llu/%llu lines with a time (%.1f%%), %llu since boot\n",
		    argv[i], (unsigned long long)timed, (unsigned long long)total,
		    total ? 100.0 * (double)timed / (double)total : 0.0,
		    (unsigned long long)boot);
	}
	free(line);
	return rc;
}
