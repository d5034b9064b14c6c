/*
 * out.c - colour decisions and message sinks for the command-line output.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

int out_colour;

int
out_colour_init(const char *when, FILE *fp)
{
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");

	if (when == NULL || strcmp(when, "auto") == 0)
		out_colour = isatty(fileno(fp)) && (nc == NULL || *nc == '\0') &&
		    term != NULL && strcmp(term, "dumb") != 0;
	else if (strcmp(when, "always") == 0)
		out_colour = 1;
	else if (strcmp(when, "never") == 0)
		out_colour = 0;
	else
		return -1;
	return 0;
}

const char *
col(enum colour c)
{
	static const char *const seq[] = {
		"\033[0m", "\033[1m", "\033[2m", "\033[31m", "\033[33m",
		"\033[36m", "\033[35m", "\033[32m"
	};

	return out_colour ? seq[c] : "";
}

const char *
out_size(uint64_t b, char *buf, size_t cap)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

void
warn_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "triage: %s\n", line);
}

void
diag_line(void *arg, const char *line)
{
	FILE *fp = arg != NULL ? arg : stdout;

	fprintf(fp, "%s\n", line);
}
