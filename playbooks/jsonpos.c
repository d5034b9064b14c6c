/*
 * jsonpos.c - where in the file is "checks[2].command"?
 *
 * jansson parses and validates the document but keeps no positions, and a
 * playbook author needs line:column for every problem.  This walks text
 * that jansson has already accepted, tracking the path of each value; it
 * only locates, it never interprets values.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define PATH_MAX_LEN 512

struct scan {
	const char	*s, *end, *p;
	const char	*want;
	const char	*hit;
	int		 depth;
};

static void
ws(struct scan *sc)
{
	while (sc->p < sc->end && strchr(" \t\r\n", *sc->p) != NULL && *sc->p)
		sc->p++;
}

/* Skip a string at '"'; copies up to cap-1 raw bytes of it into key. */
static int
string(struct scan *sc, char *key, size_t cap)
{
	size_t n = 0;

	if (sc->p >= sc->end || *sc->p != '"')
		return -1;
	for (sc->p++; sc->p < sc->end && *sc->p != '"'; sc->p++) {
		if (*sc->p == '\\')
			sc->p++;
		else if (key != NULL && n + 1 < cap)
			key[n++] = *sc->p;
	}
	if (key != NULL)
		key[n] = '\0';
	if (sc->p >= sc->end)
		return -1;
	sc->p++;
	return 0;
}

static int
value(struct scan *sc, char *path, size_t plen)
{
	char key[128];
	size_t n;
	int i, rc;

	ws(sc);
	if (sc->p >= sc->end || ++sc->depth > 64)
		return -1;
	if (sc->hit == NULL && strcmp(path, sc->want) == 0)
		sc->hit = sc->p;
	rc = 0;
	if (*sc->p == '{') {
		sc->p++;
		ws(sc);
		while (rc == 0 && sc->p < sc->end && *sc->p != '}') {
			if (string(sc, key, sizeof(key)) != 0)
				return -1;
			ws(sc);
			if (sc->p >= sc->end || *sc->p++ != ':')
				return -1;
			n = (size_t)snprintf(path + plen, PATH_MAX_LEN - plen,
			    plen ? ".%s" : "%s", key);
			if (n >= PATH_MAX_LEN - plen)
				return -1;
			rc = value(sc, path, plen + n);
			path[plen] = '\0';
			ws(sc);
			if (sc->p < sc->end && *sc->p == ',') {
				sc->p++;
				ws(sc);
			}
		}
		sc->p++;
	} else if (*sc->p == '[') {
		sc->p++;
		ws(sc);
		for (i = 0; rc == 0 && sc->p < sc->end && *sc->p != ']'; i++) {
			n = (size_t)snprintf(path + plen, PATH_MAX_LEN - plen,
			    "[%d]", i);
			if (n >= PATH_MAX_LEN - plen)
				return -1;
			rc = value(sc, path, plen + n);
			path[plen] = '\0';
			ws(sc);
			if (sc->p < sc->end && *sc->p == ',') {
				sc->p++;
				ws(sc);
			}
		}
		sc->p++;
	} else if (*sc->p == '"') {
		rc = string(sc, NULL, 0);
	} else {
		while (sc->p < sc->end && strchr(",]} \t\r\n", *sc->p) == NULL)
			sc->p++;
	}
	sc->depth--;
	return rc;
}

int
pb_jsonpos(const char *text, size_t len, const char *want, int *line, int *col)
{
	struct scan sc = { text, text + len, text, want, NULL, 0 };
	char path[PATH_MAX_LEN] = "";
	const char *q;

	(void)value(&sc, path, 0);
	if (sc.hit == NULL)
		return -1;
	*line = 1;
	*col = 1;
	for (q = text; q < sc.hit; q++) {
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*q & 0xc0) != 0x80)
			(*col)++;	/* count characters, not bytes */
	}
	return 0;
}
