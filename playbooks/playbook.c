/*
 * playbook.c - load and validate one playbook (format 1).
 *
 * The file is size-capped before parsing, parsed by jansson with duplicate
 * keys rejected, then every field is checked; each problem is reported as
 * "file:line:col: path: message" so an author can jump to it.  Unknown keys
 * are errors (a typo must not silently disable a rule) except "x-*" notes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define TEXT_MAX	4096
#define NAME_MAX_LEN	64

static const char *const severities[] = {
	"critical", "high", "medium", "low", "info", NULL
};
static const char *const sources[] = {
	"any", "syslog", "kernel", "auth", "journald", "systemd", "nginx",
	"apache", "postgresql", "mysql", "java", "python", "hdfs", "hadoop",
	"spark", "zookeeper", "industrial", "ups", "network", "application",
	"storage", "windows", "macos", "network-device", "virtualization",
	"cloud", "kubernetes", "container", "hpc", "bmc", "dhcp", "dns", "ntp",
	"mail", "proxy", "vpn", "monitoring", "android", "database", "web",
	"security", NULL
};
/* The problem classes (triage-playbook(5), CLASSES): what kind of failure a
 * playbook recognises, whatever program or platform words it. */
static const char *const classes[] = {
	"disk-io", "filesystem", "disk-full", "memory-oom", "crash",
	"kernel-hang-panic", "thermal-power", "hardware", "network-link",
	"dhcp", "dns", "ntp-clock", "tls-cert", "auth", "service-failure",
	"container", "database", "web-proxy", "app-exception",
	"update-install", "config", "resource-limit", "peer-unreachable",
	"industrial-bus", NULL
};
static const char *const top_keys[] = {
	"format", "id", "version", "title", "class", "severity", "tags",
	"sources",
	"match", "explanation", "causes", "checks", "fix", "verify", "escalate",
	"references", "false_positives", "examples", NULL
};
static const char *const match_keys[] = {
	"patterns", "mode", "threshold", "window", "group_by", "exclude",
	"generic", NULL
};

const char *
pb_severity_name(enum pb_severity s)
{
	return (unsigned)s < 5 ? severities[s] : "unknown";
}

static int in_list(const char *s, const char *const *list);

const char *
pb_class_name(size_t i)
{
	return i < sizeof(classes) / sizeof(classes[0]) - 1 ? classes[i] : NULL;
}

int
pb_class_valid(const char *name)
{
	return name != NULL && in_list(name, classes) >= 0;
}

struct ctx {
	const char	*file;
	const char	*text;
	size_t		 len;
	pb_diag_fn	 diag;
	void		*arg;
	int		 n;
	struct pb_playbook *pb;
	int		 lint;		/* full checks, all problems */
};

/*
 * Hand a finished diagnostic to the sink as one safe line: messages quote
 * the file's name and values (a tag, a capture name, jansson's "near
 * '...'"), which may hold newlines or escape sequences.
 */
static void
say(pb_diag_fn diag, void *arg, const char *line)
{
	char *safe = pb_sanitize(line, strlen(line));

	diag(arg, safe != NULL ? safe : "(out of memory)");
	free(safe);
}

static void __attribute__((format(printf, 3, 4)))
problem(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[1024], where[512], *s;
	int line = 1, col = 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A missing field is reported at its parent object. */
	snprintf(where, sizeof(where), "%s", path);
	while (pb_jsonpos(c->text, c->len, where, &line, &col) != 0) {
		char *dot = strrchr(where, '.'), *br = strrchr(where, '[');
		char *cut = dot > br ? dot : br;
		if (cut == NULL) {
			if (where[0] == '\0')
				break;
			where[0] = '\0';
		} else
			*cut = '\0';
	}
	if ((s = pb_strdupf("%s:%d:%d: %s: %s", c->file, line, col,
	    path[0] ? path : "(top)", msg)) != NULL) {
		say(c->diag, c->arg, s);
		free(s);
	}
	c->n++;
}

static int
in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return (int)i;
	return -1;
}

static void
unknown_keys(struct ctx *c, json_t *obj, const char *path,
    const char *const *allowed)
{
	const char *k;
	json_t *v;
	char p[512];

	json_object_foreach(obj, k, v) {
		if (in_list(k, allowed) >= 0 || strncmp(k, "x-", 2) == 0)
			continue;
		snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", k);
		problem(c, p, "unknown field (custom notes must start with \"x-\")");
	}
}

static int
ident_ok(const char *s, int dash)
{
	size_t n = strlen(s);

	if (n < 1 || n > NAME_MAX_LEN)
		return 0;
	if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]) ||
	    (!dash && s[0] == '_')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!(islower(ch) || isdigit(ch) || (dash ? ch == '-' : ch == '_')))
			return 0;
	}
	return 1;
}

/* A required (or optional) string of bounded length. */
static const char *
str_field(struct ctx *c, json_t *obj, const char *key, const char *path,
    int required, size_t min, size_t max)
{
	json_t *v = json_object_get(obj, key);
	char p[512];
	size_t n;

	snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
	if (v == NULL) {
		if (required)
			problem(c, p, "missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		problem(c, p, "must be a string");
		return NULL;
	}
	n = json_string_length(v);
	if (n < min || n > max) {
		problem(c, p, "length %zu is outside %zu..%zu", n, min, max);
		return NULL;
	}
	return json_string_value(v);
}

static int
int_field(struct ctx *c, json_t *obj, const char *key, const char *path,
    int required, long min, long max, long def)
{
	json_t *v = json_object_get(obj, key);
	char p[512];
	json_int_t x;

	snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
	if (v == NULL) {
		if (required)
			problem(c, p, "missing");
		return (int)def;
	}
	if (!json_is_integer(v)) {
		problem(c, p, "must be an integer");
		return (int)def;
	}
	x = json_integer_value(v);
	if (x < min || x > max) {
		problem(c, p, "%lld is outside %ld..%ld", (long long)x, min, max);
		return (int)def;
	}
	return (int)x;
}

/* Check {{placeholders}} against the playbook's capture names. */
static void
placeholders(struct ctx *c, const char *s, const char *path)
{
	const char *p = s, *q;
	char name[NAME_MAX_LEN + 1];
	size_t n;

	while ((p = strstr(p, "{{")) != NULL) {
		if ((q = strstr(p + 2, "}}")) == NULL) {
			problem(c, path, "unterminated placeholder \"{{\"");
			return;
		}
		n = (size_t)(q - p - 2);
		if (n == 0 || n > NAME_MAX_LEN) {
			problem(c, path, "bad placeholder");
			p = q + 2;
			continue;
		}
		memcpy(name, p + 2, n);
		name[n] = '\0';
		int known = strcmp(name, "file") == 0;
		for (size_t i = 0; !known && i < c->pb->ncapnames; i++)
			known = strcmp(c->pb->capnames[i], name) == 0;
		if (!known)
			problem(c, path, "unknown placeholder {{%s}}", name);
		p = q + 2;
	}
}

/* An array of strings; each checked for length and, if asked, placeholders. */
static void
str_array(struct ctx *c, json_t *obj, const char *key, const char *path,
    int required, size_t min, size_t max, int ph, int ident)
{
	json_t *a = json_object_get(obj, key), *v;
	char p[512], ep[560];
	size_t i;

	snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
	if (a == NULL) {
		if (required)
			problem(c, p, "missing");
		return;
	}
	if (!json_is_array(a)) {
		problem(c, p, "must be an array of strings");
		return;
	}
	if (json_array_size(a) < min || json_array_size(a) > max) {
		problem(c, p, "needs %zu..%zu entries, has %zu", min, max,
		    json_array_size(a));
		return;
	}
	json_array_foreach(a, i, v) {
		snprintf(ep, sizeof(ep), "%s[%zu]", p, i);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > TEXT_MAX) {
			problem(c, ep, "must be a non-empty string of at most %d bytes",
			    TEXT_MAX);
			continue;
		}
		if (ident == 1 && !ident_ok(json_string_value(v), 1))
			problem(c, ep, "\"%s\" must be lower-case letters, digits "
			    "and '-'", json_string_value(v));
		if (ident == 2 && in_list(json_string_value(v), sources) < 0)
			problem(c, ep, "unknown source \"%s\" (see triage-playbook(5))",
			    json_string_value(v));
		if (ph)
			placeholders(c, json_string_value(v), ep);
	}
}

static pcre2_code *
compile(struct ctx *c, const char *re, int icase, const char *path)
{
	pcre2_code *code;
	int err;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[256];

	/* No UTF mode: logs are bytes and may hold invalid UTF-8. */
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    icase ? PCRE2_CASELESS : 0, &err, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		problem(c, path, "%s at offset %zu", (char *)msg, (size_t)off);
		return NULL;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* else interpreted */
	return code;
}

static int
capslot(struct pb_playbook *pb, const char *name)
{
	for (size_t i = 0; i < pb->ncapnames; i++)
		if (strcmp(pb->capnames[i], name) == 0)
			return (int)i;
	if (pb->ncapnames == PB_MAX_CAPTURES)
		return -1;
	if ((pb->capnames[pb->ncapnames] = strdup(name)) == NULL)
		return -1;
	return (int)pb->ncapnames++;
}

static void
pattern(struct ctx *c, json_t *v, size_t i, const char *path)
{
	static const char *const keys[] = { "name", "regex", "icase", NULL };
	struct pb_playbook *pb = c->pb;
	struct pb_pattern *pt = &pb->pats[pb->npats];
	char p[512], rp[560];
	const char *name, *re, *why;
	json_t *ic;
	uint32_t count, esize;
	PCRE2_SPTR table;

	snprintf(p, sizeof(p), "%s[%zu]", path, i);
	if (!json_is_object(v)) {
		problem(c, p, "must be an object with name and regex");
		return;
	}
	unknown_keys(c, v, p, keys);
	name = str_field(c, v, "name", p, 1, 1, NAME_MAX_LEN);
	re = str_field(c, v, "regex", p, 1, 1, TEXT_MAX);
	ic = json_object_get(v, "icase");
	if (ic != NULL && !json_is_boolean(ic)) {
		snprintf(rp, sizeof(rp), "%s.icase", p);
		problem(c, rp, "must be true or false");
	}
	if (name != NULL && !ident_ok(name, 0)) {
		snprintf(rp, sizeof(rp), "%s.name", p);
		problem(c, rp, "must be lower-case letters, digits and '_'");
	}
	for (size_t j = 0; name != NULL && j < pb->npats; j++)
		if (strcmp(pb->pats[j].name, name) == 0) {
			snprintf(rp, sizeof(rp), "%s.name", p);
			problem(c, rp, "duplicate pattern name \"%s\"", name);
		}
	if (name == NULL || re == NULL)
		return;
	snprintf(rp, sizeof(rp), "%s.regex", p);
	if ((pt->code = compile(c, re, json_is_true(ic), rp)) == NULL)
		return;
	if (pb_literals(re, &pt->lits, &why) != 0 ||
	    (c->lint && pb_regex_redos(re, json_is_true(ic), &why) != 0)) {
		problem(c, rp, "%s", why);
		pcre2_code_free(pt->code);
		pt->code = NULL;
		pb_litset_release(&pt->lits);
		return;
	}
	if ((pt->name = strdup(name)) == NULL) {
		problem(c, p, "out of memory");
		return;
	}
	pt->group_by_group = -1;
	pcre2_pattern_info(pt->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(pt->code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
	pcre2_pattern_info(pt->code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t k = 0; k < count; k++) {
		const unsigned char *e = table + (size_t)k * esize;
		const char *cn = (const char *)e + 2;
		int slot;
		if (!ident_ok(cn, 0) || isdigit((unsigned char)cn[0])) {
			problem(c, rp, "capture name \"%s\" must be lower-case "
			    "letters, digits and '_'", cn);
			continue;
		}
		if ((slot = capslot(pb, cn)) < 0 || pt->ncap == PB_MAX_CAPTURES) {
			problem(c, rp, "too many capture names (at most %d)",
			    PB_MAX_CAPTURES);
			break;
		}
		pt->cap_group[pt->ncap] = e[0] << 8 | e[1];
		pt->cap_slot[pt->ncap++] = slot;
	}
	pb->npats++;
}

static void
match_section(struct ctx *c, json_t *root)
{
	static const char *const modes[] = { "any", "all", "sequence", NULL };
	struct pb_playbook *pb = c->pb;
	json_t *m = json_object_get(root, "match"), *pats, *v, *ex;
	const char *mode, *gb;
	size_t i;
	char p[64];

	if (m == NULL || !json_is_object(m)) {
		problem(c, "match", m == NULL ? "missing" : "must be an object");
		return;
	}
	unknown_keys(c, m, "match", match_keys);
	pats = json_object_get(m, "patterns");
	if (!json_is_array(pats) || json_array_size(pats) < 1 ||
	    json_array_size(pats) > PB_MAX_PATTERNS)
		problem(c, "match.patterns", "needs 1..%d pattern objects",
		    PB_MAX_PATTERNS);
	else
		json_array_foreach(pats, i, v)
			pattern(c, v, i, "match.patterns");
	mode = str_field(c, m, "mode", "match", 0, 1, 16);
	pb->mode = PB_MODE_ANY;
	if (mode != NULL) {
		int k = in_list(mode, modes);
		if (k < 0)
			problem(c, "match.mode", "must be any, all or sequence");
		else
			pb->mode = (enum pb_mode)k;
	}
	if ((v = json_object_get(m, "generic")) != NULL) {
		if (!json_is_boolean(v))
			problem(c, "match.generic", "must be true or false");
		pb->generic = json_is_true(v);
	}
	pb->threshold = int_field(c, m, "threshold", "match", 0, 1,
	    PB_MAX_THRESHOLD, 1);
	pb->window = int_field(c, m, "window", "match", 0, 1, PB_MAX_WINDOW, 0);
	if (pb->threshold > 1 && pb->window == 0)
		problem(c, "match.window", "required when threshold is above 1");
	if (pb->generic && pb->mode != PB_MODE_ANY)
		problem(c, "match.generic", "only mode any can be generic");
	if (pb->mode != PB_MODE_ANY && pb->threshold > 1)
		problem(c, "match.threshold", "only mode any counts a threshold; "
		    "all and sequence count completions");
	if (pb->mode == PB_MODE_SEQUENCE && pb->window == 0)
		problem(c, "match.window", "required for mode sequence");
	if (pb->mode != PB_MODE_ANY && json_array_size(pats) < 2)
		problem(c, "match.patterns", "mode %s needs at least 2 patterns",
		    mode);
	pb->group_by = -1;
	gb = str_field(c, m, "group_by", "match", 0, 1, NAME_MAX_LEN);
	if (gb != NULL) {
		for (i = 0; i < pb->ncapnames; i++)
			if (strcmp(pb->capnames[i], gb) == 0)
				pb->group_by = (int)i;
		if (pb->group_by < 0)
			problem(c, "match.group_by", "\"%s\" is not a capture name "
			    "in the patterns", gb);
		for (i = 0; pb->group_by >= 0 && i < pb->npats; i++) {
			struct pb_pattern *pt = &pb->pats[i];
			for (int k = 0; k < pt->ncap; k++)
				if (pt->cap_slot[k] == pb->group_by)
					pt->group_by_group = pt->cap_group[k];
			if (pt->group_by_group < 0)
				problem(c, "match.group_by", "pattern \"%s\" has no "
				    "capture (?<%s>...)", pt->name, gb);
		}
	}
	ex = json_object_get(m, "exclude");
	if (ex != NULL) {
		if (!json_is_array(ex) || json_array_size(ex) > PB_MAX_PATTERNS) {
			problem(c, "match.exclude", "must be an array of at most %d "
			    "regex strings", PB_MAX_PATTERNS);
			return;
		}
		pb->excl = calloc(json_array_size(ex) + 1, sizeof(*pb->excl));
		if (pb->excl == NULL)
			return;
		json_array_foreach(ex, i, v) {
			snprintf(p, sizeof(p), "match.exclude[%zu]", i);
			if (!json_is_string(v) || json_string_length(v) == 0) {
				problem(c, p, "must be a non-empty regex string");
				continue;
			}
			const char *why;
			if (c->lint && pb_regex_redos(json_string_value(v), 0,
			    &why) != 0) {
				problem(c, p, "%s", why);
				continue;
			}
			if ((pb->excl[pb->nexcl] = compile(c, json_string_value(v),
			    0, p)) != NULL)
				pb->nexcl++;
		}
	}
}

static void
checks_section(struct ctx *c, json_t *root)
{
	static const char *const keys[] = { "do", "command", "expect", NULL };
	json_t *a = json_object_get(root, "checks"), *v;
	char p[64], cp[80];
	const char *s;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 32) {
		problem(c, "checks", a == NULL ? "missing" :
		    "must be an array of 1..32 check objects");
		return;
	}
	json_array_foreach(a, i, v) {
		snprintf(p, sizeof(p), "checks[%zu]", i);
		if (!json_is_object(v)) {
			problem(c, p, "must be an object with do, command, expect");
			continue;
		}
		unknown_keys(c, v, p, keys);
		if ((s = str_field(c, v, "do", p, 1, 1, TEXT_MAX)) != NULL) {
			snprintf(cp, sizeof(cp), "%s.do", p);
			placeholders(c, s, cp);
		}
		if ((s = str_field(c, v, "command", p, 0, 1, TEXT_MAX)) != NULL) {
			snprintf(cp, sizeof(cp), "%s.command", p);
			placeholders(c, s, cp);
		}
		if ((s = str_field(c, v, "expect", p, 1, 1, TEXT_MAX)) != NULL) {
			snprintf(cp, sizeof(cp), "%s.expect", p);
			placeholders(c, s, cp);
		}
	}
}

/* Run one example line against the compiled patterns. */
static int
example_matches(struct pb_playbook *pb, const char *line, size_t len,
    pcre2_match_data *md, pcre2_match_context *mc)
{
	int hit = 0;

	for (size_t i = 0; i < pb->npats && !hit; i++)
		hit = pb_playbook_match_line(pb, i, line, len, md, mc) > 0;
	if (hit && pb_playbook_excluded(pb, line, len, md, mc))
		hit = 0;
	return hit;
}

/*
 * Lint only: every pattern on lines built to make it backtrack, from its
 * literals and all example lines.
 */
static void
stress(struct ctx *c, json_t *ex)
{
	static const struct pb_litset none;
	const struct pb_playbook *pb = c->pb;
	const char **lines = NULL;
	size_t *lens = NULL, n = 0, i;
	json_t *a[2] = { json_object_get(ex, "match"),
	    json_object_get(ex, "no_match") }, *v;
	char p[64];

	n = json_array_size(a[0]) + json_array_size(a[1]);
	if ((lines = calloc(n + 1, sizeof(*lines))) == NULL ||
	    (lens = calloc(n + 1, sizeof(*lens))) == NULL) {
		problem(c, "examples", "out of memory");
		goto out;
	}
	n = 0;
	for (int k = 0; k < 2; k++)
		json_array_foreach(a[k], i, v) {
			lines[n] = json_string_value(v);
			lens[n++] = json_string_length(v);
		}
	for (i = 0; i < pb->npats; i++) {
		if (pb_regex_stress(pb->pats[i].code, &pb->pats[i].lits, lines,
		    lens, n, NULL) == 0)
			continue;
		snprintf(p, sizeof(p), "match.patterns[%zu].regex", i);
		problem(c, p, "hits the match limit on a line built from its "
		    "examples (catastrophic backtracking)");
	}
	for (i = 0; i < pb->nexcl; i++) {
		if (pb_regex_stress(pb->excl[i], &none, lines, lens, n, NULL) == 0)
			continue;
		snprintf(p, sizeof(p), "match.exclude[%zu]", i);
		problem(c, p, "hits the match limit on a line built from its "
		    "examples (catastrophic backtracking)");
	}
out:
	free(lines);
	free(lens);
}

/*
 * Examples are always run: a playbook that fails its own examples is not
 * used (load reports the first failure only, lint all of them).
 */
static void
examples_section(struct ctx *c, json_t *root)
{
	static const char *const keys[] = { "match", "no_match", NULL };
	json_t *ex = json_object_get(root, "examples"), *v;
	const char *const kinds[2] = { "match", "no_match" };
	pcre2_jit_stack *js = NULL;
	pcre2_match_context *mc = NULL;
	pcre2_match_data *md = NULL;
	char p[64];
	size_t i;

	if (!json_is_object(ex)) {
		problem(c, "examples", ex == NULL ? "missing" : "must be an object");
		return;
	}
	unknown_keys(c, ex, "examples", keys);
	for (int k = 0; k < 2; k++)
		str_array(c, ex, kinds[k], "examples", 1, 3, 100, 0, 0);
	if (c->n > 0)
		return;
	if ((mc = pb_match_context_new(&js)) == NULL ||
	    (md = pcre2_match_data_create(64, NULL)) == NULL) {
		problem(c, "examples", "out of memory");
		goto out;
	}
	for (int k = 0; k < 2; k++)
		json_array_foreach(json_object_get(ex, kinds[k]), i, v) {
			int hit = example_matches(c->pb, json_string_value(v),
			    json_string_length(v), md, mc);
			if (hit == (k == 0))
				continue;
			snprintf(p, sizeof(p), "examples.%s[%zu]", kinds[k], i);
			problem(c, p, "%s%s", k == 0 ? "does not match any pattern" :
			    "matches, but must not", c->lint ? "" :
			    " (the playbook fails its own examples; not used)");
			if (!c->lint)
				goto out;
		}
	if (c->lint && c->n == 0)
		stress(c, ex);
out:
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	pcre2_jit_stack_free(js);
}

/* Code points that must not be in playbook text: they would reach a
 * terminal as controls, or hide or reorder what a reviewer reads. */
static int
cp_forbidden(unsigned cp, int example)
{
	if (cp < 0x20)
		return !(example && cp == '\t');	/* logs hold tabs */
	return cp == 0x7f || pb_cp_unsafe(cp) || cp == 0xad ||
	    (cp >= 0x200b && cp <= 0x200d) ||		/* zero width */
	    (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff || cp == 0x180e ||
	    (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe007f);
}

static void
text_check(struct ctx *c, const char *s, size_t len, const char *path,
    int example)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned cp;
	size_t k;

	for (size_t i = 0; i < len; i += k) {
		if ((k = pb_utf8_decode(u + i, len - i, &cp)) == 0) {
			problem(c, path, "invalid UTF-8");	/* jansson checks */
			return;
		}
		if (cp_forbidden(cp, example)) {
			problem(c, path, "contains U+%04X, a control, bidi or "
			    "invisible character (write log bytes in a regex as "
			    "\\xNN)", cp);
			return;
		}
	}
}

/* Every string and key in the document, whatever field it is. */
static void
text_safety(struct ctx *c, json_t *v, const char *path, int example)
{
	char p[512];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v))
		text_check(c, json_string_value(v), json_string_length(v), path,
		    example);
	else if (json_is_array(v))
		json_array_foreach(v, i, x) {
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			text_safety(c, x, p, example);
		}
	else if (json_is_object(v))
		json_object_foreach(v, k, x) {
			snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "",
			    k);
			text_check(c, k, strlen(k), p, 0);
			text_safety(c, x, p, example ||
			    (path[0] == '\0' && strcmp(k, "examples") == 0));
		}
}

static void
validate(struct ctx *c, json_t *root, int run_examples)
{
	struct pb_playbook *pb = c->pb;
	json_t *esc;
	const char *s, *base;
	size_t n;

	if (!json_is_object(root)) {
		problem(c, "", "a playbook must be a JSON object");
		return;
	}
	unknown_keys(c, root, "", top_keys);
	if (int_field(c, root, "format", "", 1, PB_FORMAT, PB_FORMAT, 0) != PB_FORMAT)
		return;		/* fields of another format mean other things */
	text_safety(c, root, "", 0);
	pb->id = str_field(c, root, "id", "", 1, 2, NAME_MAX_LEN);
	if (pb->id != NULL) {
		base = strrchr(c->file, '/');
		base = base ? base + 1 : c->file;
		n = strlen(pb->id);
		if (!ident_ok(pb->id, 1))
			problem(c, "id", "must be lower-case letters, digits and '-'");
		else if (strncmp(base, pb->id, n) != 0 || strcmp(base + n, ".json") != 0)
			problem(c, "id", "\"%s\" does not match the file name", pb->id);
	}
	pb->version = int_field(c, root, "version", "", 1, 1, INT32_MAX, 0);
	pb->title = str_field(c, root, "title", "", 1, 10, 120);
	s = str_field(c, root, "severity", "", 1, 1, 16);
	if (s != NULL) {
		int k = in_list(s, severities);
		if (k < 0)
			problem(c, "severity", "must be critical, high, medium, low "
			    "or info");
		pb->severity = k < 0 ? PB_SEV_INFO : (enum pb_severity)k;
	}
	/* Optional when loading, so older playbooks keep working; lint
	 * (run_examples) asks for it. */
	pb->klass = str_field(c, root, "class", "", run_examples, 1, 32);
	if (pb->klass == NULL)
		pb->klass = "unclassified";
	else if (in_list(pb->klass, classes) < 0)
		problem(c, "class", "unknown class \"%s\" (see triage-playbook(5), "
		    "CLASSES)", pb->klass);
	str_array(c, root, "tags", "", 1, 1, 16, 0, 1);
	str_array(c, root, "sources", "", 1, 1, 16, 0, 2);
	match_section(c, root);
	if ((s = str_field(c, root, "explanation", "", 1, 1, TEXT_MAX)) != NULL)
		placeholders(c, s, "explanation");
	str_array(c, root, "causes", "", 1, 1, 16, 1, 0);
	checks_section(c, root);
	str_array(c, root, "fix", "", 1, 1, 32, 1, 0);
	str_array(c, root, "verify", "", 1, 1, 16, 1, 0);
	esc = json_object_get(root, "escalate");
	if (!json_is_object(esc))
		problem(c, "escalate", esc == NULL ? "missing" :
		    "must be an object with when and attach");
	else {
		static const char *const keys[] = { "when", "attach", NULL };
		unknown_keys(c, esc, "escalate", keys);
		if ((s = str_field(c, esc, "when", "escalate", 1, 1, TEXT_MAX)) != NULL)
			placeholders(c, s, "escalate.when");
		str_array(c, esc, "attach", "escalate", 1, 1, 16, 1, 0);
	}
	str_array(c, root, "references", "", 1, 1, 16, 0, 0);
	str_array(c, root, "false_positives", "", 0, 0, 16, 0, 0);
	examples_section(c, root);
}

void
pb_playbook_free(struct pb_playbook *pb)
{
	if (pb == NULL)
		return;
	for (size_t i = 0; i < PB_MAX_PATTERNS; i++) {
		pcre2_code_free(pb->pats[i].code);
		free(pb->pats[i].name);
		pb_litset_release(&pb->pats[i].lits);
	}
	for (size_t i = 0; i < pb->nexcl; i++)
		pcre2_code_free(pb->excl[i]);
	free(pb->excl);
	for (size_t i = 0; i < pb->ncapnames; i++)
		free(pb->capnames[i]);
	json_decref(pb->doc);
	free(pb->path);
	free(pb);
}

/* Read a whole small file, refusing anything that is not a regular file. */
static char *
slurp(const char *path, size_t *len, char *err, size_t errsz)
{
	struct stat st;
	char *buf = NULL;
	ssize_t r;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "not a regular file");
		goto out;
	}
	if (st.st_size > PB_MAX_FILE) {
		snprintf(err, errsz, "larger than %d bytes", PB_MAX_FILE);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "%s", strerror(errno));
			free(buf);
			buf = NULL;
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return buf;
}

struct pb_playbook *
pb_playbook_parse(const char *path, const char *text, size_t len,
    int examples, pb_diag_fn diag, void *arg, int *nproblems)
{
	struct ctx c = { path, text, len, diag, arg, 0, NULL, examples };
	struct pb_playbook *pb = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	char *s;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jansson quotes the file's bytes ("near '...'"). */
		if ((s = pb_strdupf("%s:%d:%d: json: %.*s", path, jerr.line,
		    jerr.column, (int)sizeof(jerr.text), jerr.text)) != NULL) {
			say(diag, arg, s);
			free(s);
		}
		c.n++;
		goto out;
	}
	if ((pb = calloc(1, sizeof(*pb))) == NULL ||
	    (pb->path = strdup(path)) == NULL) {
		c.n++;
		goto out;
	}
	pb->doc = root;
	root = NULL;
	c.pb = pb;
	validate(&c, pb->doc, examples);
out:
	json_decref(root);
	*nproblems = c.n;
	if (c.n > 0) {
		pb_playbook_free(pb);
		return NULL;
	}
	return pb;
}

struct pb_playbook *
pb_playbook_load(const char *path, int examples, pb_diag_fn diag, void *arg,
    int *nproblems)
{
	struct pb_playbook *pb;
	char err[256], *text, *s;
	size_t len;

	if ((text = slurp(path, &len, err, sizeof(err))) == NULL) {
		if ((s = pb_strdupf("%s: %s", path, err)) != NULL) {
			say(diag, arg, s);
			free(s);
		}
		*nproblems = 1;
		return NULL;
	}
	pb = pb_playbook_parse(path, text, len, examples, diag, arg, nproblems);
	free(text);
	return pb;
}

pcre2_match_context *
pb_match_context_new(pcre2_jit_stack **stack)
{
	pcre2_match_context *mc = pcre2_match_context_create(NULL);

	if (mc == NULL)
		return NULL;
	/* Why: a playbook may hold a catastrophic regex such as (a+)+$; the
	 * limits turn minutes of backtracking into an error we report. */
	pcre2_set_match_limit(mc, PB_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, PB_DEPTH_LIMIT);
	*stack = pcre2_jit_stack_create(32 * 1024, PB_JIT_STACK, NULL);
	if (*stack != NULL)
		pcre2_jit_stack_assign(mc, NULL, *stack);
	return mc;
}

int
pb_playbook_match_line(const struct pb_playbook *pb, size_t i,
    const char *line, size_t len, pcre2_match_data *md,
    pcre2_match_context *mc)
{
	int rc = pcre2_match(pb->pats[i].code, (PCRE2_SPTR)line, len, 0, 0,
	    md, mc);

	if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH)
		return rc >= 0;
	return rc;	/* limit hit or other error */
}

int
pb_playbook_excluded(const struct pb_playbook *pb, const char *line,
    size_t len, pcre2_match_data *md, pcre2_match_context *mc)
{
	for (size_t i = 0; i < pb->nexcl; i++)
		if (pcre2_match(pb->excl[i], (PCRE2_SPTR)line, len, 0, 0, md,
		    mc) >= 0)
			return 1;
	return 0;
}

const char *pb_playbook_id(const struct pb_playbook *pb) { return pb->id; }
const char *pb_playbook_title(const struct pb_playbook *pb) { return pb->title; }
const char *pb_playbook_class(const struct pb_playbook *pb) { return pb->klass; }
int pb_playbook_threshold(const struct pb_playbook *pb) { return pb->threshold; }
int pb_playbook_window(const struct pb_playbook *pb) { return pb->window; }
const char *pb_playbook_path(const struct pb_playbook *pb) { return pb->path; }
int pb_playbook_version(const struct pb_playbook *pb) { return pb->version; }
enum pb_severity pb_playbook_severity(const struct pb_playbook *pb) { return pb->severity; }
const void *pb_playbook_json(const struct pb_playbook *pb) { return pb->doc; }

void
pb_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	free(*cause);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
}

char *
pb_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}
