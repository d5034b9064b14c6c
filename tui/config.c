/*
 * config.c - $XDG_CONFIG_HOME/triage/config: "key = value" lines, '#'
 * comments.  Keys: color (auto|always|never), examples (1..100), top
 * (0..1000000), answer_timeout (seconds, 0: none) and more (triage(1)).  Command-line options win.  A bad line is reported with
 * its line number and ignored: a typo must not stop a technician.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/engine.h"
#include "tui.h"

#define CONFIG_LINE_MAX 512

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]) != NULL)
		*--e = '\0';
	return s;
}

static int
number(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

long
config_duration(const char *v)
{
	char *end;
	long n, unit = 86400;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || errno != 0 || n < 0 || n > 36500)
		return -1;
	if (strcmp(end, "h") == 0)
		unit = 3600;
	else if (*end != '\0' && strcmp(end, "d") != 0)
		return -1;
	return n * unit;
}

long
config_seconds(const char *v)
{
	char *end;
	long n, unit = 1;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || errno != 0 || n < 0 || n > 86400)
		return -1;
	if (strcmp(end, "m") == 0)
		unit = 60;
	else if (strcmp(end, "h") == 0)
		unit = 3600;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	return n * unit > 86400 ? -1 : n * unit;
}

void
config_load(struct config *cfg)
{
	char *path = path_config_file(), line[CONFIG_LINE_MAX], *k, *v, *eq;
	FILE *fp;
	int n = 0;
	long x;
	enum eng_kv kv;

	cfg->colour = NULL;
	cfg->examples = 5;
	cfg->top = 0;	/* every template above the salience threshold */
	cfg->retention = 30L * 86400;
	cfg->clipboard = -1;
	cfg->kv = ENG_KV_F16;
	cfg->answer_timeout = 120;	/* a stuck model must not hold the pane */
	if (path == NULL || (fp = fopen(path, "r")) == NULL) {
		if (path != NULL && errno != ENOENT)
			out_printf(stderr, "triage: %s: %s\n", path, strerror(errno));
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		k = trim(line);
		if (*k == '#' || *k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			out_printf(stderr, "triage: %s:%d: expected key = value\n", path, n);
			continue;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (strcmp(k, "color") == 0 && (strcmp(v, "auto") == 0 ||
		    strcmp(v, "always") == 0 || strcmp(v, "never") == 0))
			cfg->colour = strcmp(v, "auto") == 0 ? NULL :
			    v[1] == 'l' ? "always" : "never";
		else if (strcmp(k, "examples") == 0 && number(v, 1, 100, &x) == 0)
			cfg->examples = (size_t)x;
		else if (strcmp(k, "top") == 0 && number(v, 0, 1000000, &x) == 0)
			cfg->top = (size_t)x;
		else if (strcmp(k, "metrics") == 0 && (strcmp(v, "on") == 0 ||
		    strcmp(v, "off") == 0))
			;	/* read by metrics.c */
		else if (strcmp(k, "clipboard") == 0 && (strcmp(v, "auto") == 0 ||
		    strcmp(v, "on") == 0 || strcmp(v, "off") == 0))
			cfg->clipboard = v[0] == 'a' ? -1 : v[1] == 'n';
		else if (strcmp(k, "retention") == 0 &&
		    (x = config_duration(v)) >= 0)
			cfg->retention = x;
		else if (strcmp(k, "kv") == 0 && eng_kv_parse(v, &kv) == 0)
			cfg->kv = (int)kv;
		else if (strcmp(k, "answer_timeout") == 0 &&
		    (x = config_seconds(v)) >= 0)
			cfg->answer_timeout = x;
		else
			out_printf(stderr, "triage: %s:%d: bad setting \"%s\"; ignored\n",
			    path, n, k);
	}
	fclose(fp);
	free(path);
}
