/*
 * manifest.c - manifest.json: schema, versions and compatibility.
 *
 * The manifest is the first entry of a bundle's archive and is read only
 * after the signature over the whole archive was verified.  It is still
 * treated as hostile (a trusted key can sign a mistake): every field is
 * typed, bounded and checked, unknown fields are refused, and strings
 * that would reach a terminal may not hold control characters.  Format 1:
 *
 *   {
 *     "format": 1,
 *     "name": "site-playbooks",          [a-z0-9][a-z0-9._-]*, <= 64 bytes
 *     "kind": "playbooks" | "model" | "both",
 *     "version": "1.5.0",                 MAJOR.MINOR.PATCH, no leading zeros
 *     "created": "2026-11-21T10:00:00Z",  UTC
 *     "min_triage": "0.1.0",
 *     "compat": { "arch": "x86_64" | "any", "cpu_features": ["avx2"],
 *                 "quant": "Q4_K_M", "mem_bytes": N, "n_ctx": N },
 *     "models": [ { "file": "model/x.gguf", "license": "...",
 *                   "provenance": "..." } ],
 *     "files": [ { "path": "playbooks/disk-full.json", "size": N,
 *                  "sha256": "64 hex digits" } ],
 *     "changelog": [ "..." ]
 *   }
 *
 * "compat" and "models" are required when the kind includes a model.
 * Paths are playbooks/NAME.json, model/NAME.gguf (exactly one, with a
 * model) or licenses/NAME, so the extracted tree is two levels deep.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define VERSION_PART_MAX	999999999u	/* nine digits per part */
#define MAX_VERSION_LEN		31

/* ---- small parsers --------------------------------------------------------- */

/* Parse "MAJOR.MINOR.PATCH" (no leading zeros, no pre-release). */
static int
version_parse(const char *s, uint32_t v[3])
{
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0 || len > MAX_VERSION_LEN)
		return -1;
	for (int i = 0; i < 3; i++) {
		uint64_t n = 0;
		const char *start = s;

		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			n = n * 10 + (uint64_t)(*s - '0');
			if (n > VERSION_PART_MAX)
				return -1;
			s++;
		}
		if (s - start > 1 && *start == '0')
			return -1;
		v[i] = (uint32_t)n;
		if (i < 2 && *s++ != '.')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

int
bdl_version_cmp(const char *a, const char *b)
{
	uint32_t va[3], vb[3];

	if (version_parse(a, va) < 0 || version_parse(b, vb) < 0)
		return BDL_VERSION_BAD;
	for (int i = 0; i < 3; i++)
		if (va[i] != vb[i])
			return va[i] < vb[i] ? -1 : 1;
	return 0;
}

int
bdl_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0;
	struct tm tm;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	time_t t;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
		    !isdigit((unsigned char)s[i]))
			return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi,
	    &sec, &n) != 6 || n != 20)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

void
bdl_time_format(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%" PRId64, t);
}

const char *
bdl_name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "is empty";
	if (len > BDL_MAX_NAME)
		return "is longer than 64 bytes";
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return "must start with a lower-case letter or a digit";
	for (const char *p = name; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '.' && *p != '_' && *p != '-')
			return "may hold only a-z, 0-9, '.', '_' and '-'";
	return NULL;
}

const char *
bdl_path_problem(const char *path)
{
	size_t len = strlen(path), comp = 0, depth = 0;
	const char *p;

	if (len == 0)
		return "is empty";
	if (len > BDL_MAX_PATH)
		return "is longer than 255 bytes";
	if (path[0] == '/')
		return "is an absolute path";
	for (p = path; ; p++) {
		if (*p == '/' || *p == '\0') {
			const char *start = p - comp;

			if (comp == 0)
				return "has an empty component";
			if ((comp == 1 && start[0] == '.') ||
			    (comp == 2 && start[0] == '.' && start[1] == '.'))
				return "has a '.' or '..' component";
			if (start[0] == '.' || start[0] == '-')
				return "has a component starting with '.' or '-'";
			if (comp > BDL_MAX_COMPONENT)
				return "has a component longer than 64 bytes";
			if (++depth > BDL_MAX_DEPTH)
				return "is nested deeper than 8 levels";
			comp = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-')
			return "may hold only A-Z, a-z, 0-9, '.', '_', '-' and '/'";
		comp++;
	}
	return NULL;
}

void
bdl_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- the schema ------------------------------------------------------------ */

/* No C0, DEL or C1 controls: these strings are shown on terminals. */
static int
text_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 0;
	}
	return n <= max;
}

/* Every key of `obj` must be in the NULL-terminated `allowed`. */
static int
only_keys(json_t *obj, const char *where, const char *const *allowed,
    char **cause)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			bdl_cause(cause, "manifest.json: unknown field \"%.64s\"%s%s",
			    key, where[0] ? " in " : "", where);
			return -1;
		}
	}
	return 0;
}

static const char *
get_text(json_t *obj, const char *key, const char *where, int required,
    size_t max, char **cause)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (v == NULL) {
		if (required)
			bdl_cause(cause, "manifest.json: %s%s\"%s\" is missing",
			    where, where[0] ? " " : "", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		bdl_cause(cause, "manifest.json: %s%s\"%s\" must be a string",
		    where, where[0] ? " " : "", key);
		return NULL;
	}
	s = json_string_value(v);
	if (!text_ok(s, max) || (required && *s == '\0')) {
		bdl_cause(cause, "manifest.json: %s%s\"%s\" is empty, too long "
		    "or holds control characters", where, where[0] ? " " : "",
		    key);
		return NULL;
	}
	return s;
}

/* A non-negative integer <= max; -1 with *cause on error, 1 if absent. */
static int
get_uint(json_t *obj, const char *key, const char *where, uint64_t max,
    uint64_t *out, char **cause)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (v == NULL)
		return 1;
	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
	    (uint64_t)n > max) {
		bdl_cause(cause, "manifest.json: %s%s\"%s\" must be an integer "
		    "from 0 to %" PRIu64, where, where[0] ? " " : "", key, max);
		return -1;
	}
	*out = (uint64_t)n;
	return 0;
}

static int
hex_digest(const char *s, unsigned char d[32], char lower[65])
{
	if (strlen(s) != 64)
		return -1;
	for (int i = 0; i < 64; i++) {
		int c = tolower((unsigned char)s[i]), v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1;
		lower[i] = (char)c;
		if (i % 2 == 0)
			d[i / 2] = (unsigned char)(v << 4);
		else
			d[i / 2] |= (unsigned char)v;
	}
	lower[64] = '\0';
	return 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
parse_files(struct bdl_manifest *m, json_t *files, char **cause)
{
	static const char *const keys[] = { "path", "size", "sha256", NULL };
	size_t n = json_array_size(files), i, j;
	json_t *f;

	if (!json_is_array(files) || n == 0) {
		bdl_cause(cause, "manifest.json: \"files\" must be a non-empty "
		    "array");
		return -1;
	}
	if (n > BDL_MAX_ENTRIES) {
		bdl_cause(cause, "manifest.json: %zu files, more than the limit "
		    "of %d", n, BDL_MAX_ENTRIES);
		return -1;
	}
	if ((m->files = calloc(n, sizeof(*m->files))) == NULL)
		return -1;
	json_array_foreach(files, i, f) {
		struct bdl_file *e = &m->files[i];
		const char *path, *sha, *why;
		char where[32];

		snprintf(where, sizeof(where), "files[%zu]", i);
		if (!json_is_object(f)) {
			bdl_cause(cause, "manifest.json: %s must be an object",
			    where);
			return -1;
		}
		if (only_keys(f, where, keys, cause) < 0)
			return -1;
		if ((path = get_text(f, "path", where, 1, BDL_MAX_PATH,
		    cause)) == NULL ||
		    (sha = get_text(f, "sha256", where, 1, 64, cause)) == NULL)
			return -1;
		if ((why = bdl_path_problem(path)) != NULL) {
			bdl_cause(cause, "manifest.json: path \"%s\" %s", path,
			    why);
			return -1;
		}
		if (get_uint(f, "size", where, BDL_MAX_FILE, &e->size,
		    cause) != 0) {
			bdl_cause(cause, "manifest.json: %s \"size\" is missing",
			    where);
			return -1;
		}
		if (hex_digest(sha, e->digest, e->sha256) < 0) {
			bdl_cause(cause, "manifest.json: %s: \"sha256\" must be "
			    "64 hex digits", path);
			return -1;
		}
		/* The layout: playbooks/X.json, model/X.gguf, licenses/X. */
		if (strncmp(path, "playbooks/", 10) == 0 &&
		    strchr(path + 10, '/') == NULL && ends_with(path, ".json")) {
			if (!(m->kind & BDL_KIND_PLAYBOOKS)) {
				bdl_cause(cause, "manifest.json: %s: a playbook "
				    "in a bundle of kind %s", path,
				    bdl_kind_name(m->kind));
				return -1;
			}
		} else if (strncmp(path, "model/", 6) == 0 &&
		    strchr(path + 6, '/') == NULL && ends_with(path, ".gguf")) {
			if (!(m->kind & BDL_KIND_MODEL)) {
				bdl_cause(cause, "manifest.json: %s: a model in "
				    "a bundle of kind %s", path,
				    bdl_kind_name(m->kind));
				return -1;
			}
		} else if (!(strncmp(path, "licenses/", 9) == 0 &&
		    strchr(path + 9, '/') == NULL)) {
			bdl_cause(cause, "manifest.json: path \"%s\" is not "
			    "playbooks/NAME.json, model/NAME.gguf or "
			    "licenses/NAME", path);
			return -1;
		}
		/* Case-insensitive: a bundle made on Linux is unpacked on
		 * case-insensitive file systems too. */
		for (j = 0; j < i; j++)
			if (strcasecmp(m->files[j].path, path) == 0) {
				bdl_cause(cause, "manifest.json: \"%s\" is listed "
				    "twice (names are compared ignoring case)",
				    path);
				return -1;
			}
		if ((e->path = strdup(path)) == NULL)
			return -1;
		m->nfiles = i + 1;
		if (__builtin_add_overflow(m->total, e->size, &m->total) ||
		    m->total > BDL_MAX_TOTAL) {
			bdl_cause(cause, "manifest.json: the files add up to more "
			    "than %llu bytes", (unsigned long long)BDL_MAX_TOTAL);
			return -1;
		}
	}
	return 0;
}

static int
parse_strings(json_t *arr, const char *key, size_t maxn, size_t maxlen,
    const char ***out, size_t *nout, char **cause)
{
	size_t i, n;
	json_t *v;

	if (!json_is_array(arr) || (n = json_array_size(arr)) > maxn) {
		bdl_cause(cause, "manifest.json: \"%s\" must be an array of at "
		    "most %zu strings", key, maxn);
		return -1;
	}
	if (n > 0 && (*out = calloc(n, sizeof(**out))) == NULL)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || !text_ok(json_string_value(v),
		    maxlen)) {
			bdl_cause(cause, "manifest.json: \"%s\"[%zu] must be a "
			    "string without control characters, at most %zu "
			    "bytes", key, i, maxlen);
			return -1;
		}
		(*out)[i] = json_string_value(v);
	}
	*nout = n;
	return 0;
}

static int
parse_compat(struct bdl_manifest *m, json_t *c, char **cause)
{
	static const char *const keys[] = { "arch", "cpu_features", "quant",
	    "mem_bytes", "n_ctx", NULL };
	int model = (m->kind & BDL_KIND_MODEL) != 0, r;
	uint64_t ctx = 0;
	json_t *cpu;

	if (c == NULL) {
		if (model) {
			bdl_cause(cause, "manifest.json: \"compat\" is missing "
			    "(required for a model)");
			return -1;
		}
		return 0;
	}
	if (!json_is_object(c)) {
		bdl_cause(cause, "manifest.json: \"compat\" must be an object");
		return -1;
	}
	if (only_keys(c, "compat", keys, cause) < 0)
		return -1;
	if ((m->arch = get_text(c, "arch", "compat", model, 32, cause)) ==
	    NULL && model)
		return -1;
	if (m->arch != NULL && bdl_name_problem(m->arch) != NULL) {
		bdl_cause(cause, "manifest.json: compat \"arch\" \"%s\" is not "
		    "an architecture name", m->arch);
		return -1;
	}
	if ((cpu = json_object_get(c, "cpu_features")) != NULL &&
	    parse_strings(cpu, "cpu_features", 32, 32, &m->cpu, &m->ncpu,
	    cause) < 0)
		return -1;
	if ((m->quant = get_text(c, "quant", "compat", model, 32, cause)) ==
	    NULL && model)
		return -1;
	if ((r = get_uint(c, "mem_bytes", "compat", 1ULL << 50, &m->mem,
	    cause)) < 0)
		return -1;
	if (r == 1 && model) {
		bdl_cause(cause, "manifest.json: compat \"mem_bytes\" is missing");
		return -1;
	}
	if ((r = get_uint(c, "n_ctx", "compat", 1u << 24, &ctx, cause)) < 0)
		return -1;
	if (r == 1 && model) {
		bdl_cause(cause, "manifest.json: compat \"n_ctx\" is missing");
		return -1;
	}
	m->ctx = (uint32_t)ctx;
	return 0;
}

static int
parse_models(struct bdl_manifest *m, json_t *models, char **cause)
{
	static const char *const keys[] = { "file", "license", "provenance",
	    NULL };
	const struct bdl_file *f;
	json_t *o;

	if (!(m->kind & BDL_KIND_MODEL)) {
		if (models != NULL) {
			bdl_cause(cause, "manifest.json: \"models\" in a bundle "
			    "of kind playbooks");
			return -1;
		}
		return 0;
	}
	if (!json_is_array(models) || json_array_size(models) != 1) {
		bdl_cause(cause, "manifest.json: \"models\" must list exactly "
		    "one model");
		return -1;
	}
	o = json_array_get(models, 0);
	if (!json_is_object(o)) {
		bdl_cause(cause, "manifest.json: models[0] must be an object");
		return -1;
	}
	if (only_keys(o, "models[0]", keys, cause) < 0)
		return -1;
	if ((m->model = get_text(o, "file", "models[0]", 1, BDL_MAX_PATH,
	    cause)) == NULL ||
	    (m->license = get_text(o, "license", "models[0]", 1, 256,
	    cause)) == NULL ||
	    (m->provenance = get_text(o, "provenance", "models[0]", 1,
	    BDL_MAX_STRING, cause)) == NULL)
		return -1;
	if ((f = bdl_manifest_lookup(m, m->model)) == NULL ||
	    strncmp(m->model, "model/", 6) != 0) {
		bdl_cause(cause, "manifest.json: the model \"%s\" is not a "
		    "model/ file in \"files\"", m->model);
		return -1;
	}
	return 0;
}

void
bdl_manifest_free(struct bdl_manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->cpu);
	free(m->changes);
	json_decref(m->json);
	free(m);
}

int
bdl_manifest_parse(const char *buf, size_t len, struct bdl_manifest **out,
    char **cause)
{
	static const char *const keys[] = { "format", "name", "kind", "version",
	    "created", "min_triage", "compat", "models", "files", "changelog",
	    NULL };
	struct bdl_manifest *m;
	json_error_t err;
	json_t *root, *v;
	const char *s, *why;
	int rc = BDL_EFORMAT;
	size_t nmodel = 0;

	if (len > BDL_MAX_MANIFEST) {
		bdl_cause(cause, "manifest.json is larger than %d bytes",
		    BDL_MAX_MANIFEST);
		return BDL_EFORMAT;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return BDL_ENOMEM;
	/* Duplicate keys would let two readers see different manifests. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		bdl_cause(cause, "manifest.json: line %d column %d: %s",
		    err.line, err.column, err.text);
		goto out;
	}
	m->json = root;
	if (!json_is_object(root)) {
		bdl_cause(cause, "manifest.json: not a JSON object");
		goto out;
	}
	/* The format first: a newer format may have fields we do not know. */
	v = json_object_get(root, "format");
	if (!json_is_integer(v)) {
		bdl_cause(cause, "manifest.json: \"format\" is missing or not an "
		    "integer");
		goto out;
	}
	if (json_integer_value(v) != BDL_FORMAT) {
		bdl_cause(cause, "manifest.json: unknown format %lld (this triage "
		    "reads format %d)", (long long)json_integer_value(v),
		    BDL_FORMAT);
		goto out;
	}
	if (only_keys(root, "", keys, cause) < 0)
		goto out;
	if ((m->name = get_text(root, "name", "", 1, BDL_MAX_NAME,
	    cause)) == NULL)
		goto out;
	if ((why = bdl_name_problem(m->name)) != NULL) {
		bdl_cause(cause, "manifest.json: name \"%s\" %s", m->name, why);
		goto out;
	}
	if ((s = get_text(root, "kind", "", 1, 16, cause)) == NULL)
		goto out;
	if (strcmp(s, "playbooks") == 0)
		m->kind = BDL_KIND_PLAYBOOKS;
	else if (strcmp(s, "model") == 0)
		m->kind = BDL_KIND_MODEL;
	else if (strcmp(s, "both") == 0)
		m->kind = BDL_KIND_BOTH;
	else {
		bdl_cause(cause, "manifest.json: kind \"%s\" is not playbooks, "
		    "model or both", s);
		goto out;
	}
	if ((m->version = get_text(root, "version", "", 1, MAX_VERSION_LEN,
	    cause)) == NULL)
		goto out;
	if (bdl_version_cmp(m->version, "0.0.0") == BDL_VERSION_BAD) {
		bdl_cause(cause, "manifest.json: version \"%s\" is not "
		    "MAJOR.MINOR.PATCH", m->version);
		goto out;
	}
	if ((m->min_triage = get_text(root, "min_triage", "", 1,
	    MAX_VERSION_LEN, cause)) == NULL)
		goto out;
	if (bdl_version_cmp(m->min_triage, "0.0.0") == BDL_VERSION_BAD) {
		bdl_cause(cause, "manifest.json: min_triage \"%s\" is not "
		    "MAJOR.MINOR.PATCH", m->min_triage);
		goto out;
	}
	if ((s = get_text(root, "created", "", 1, 32, cause)) == NULL)
		goto out;
	if (bdl_time_parse(s, &m->created) < 0) {
		bdl_cause(cause, "manifest.json: created \"%s\" is not "
		    "YYYY-MM-DDTHH:MM:SSZ", s);
		goto out;
	}
	if ((v = json_object_get(root, "changelog")) == NULL) {
		bdl_cause(cause, "manifest.json: \"changelog\" is missing");
		goto out;
	}
	if (parse_strings(v, "changelog", BDL_MAX_CHANGES, BDL_MAX_STRING,
	    &m->changes, &m->nchanges, cause) < 0)
		goto out;
	if (parse_files(m, json_object_get(root, "files"), cause) < 0)
		goto out;
	if (parse_compat(m, json_object_get(root, "compat"), cause) < 0 ||
	    parse_models(m, json_object_get(root, "models"), cause) < 0)
		goto out;
	/* What the kind promises must be there. */
	for (size_t i = 0; i < m->nfiles; i++)
		if (strncmp(m->files[i].path, "model/", 6) == 0)
			nmodel++;
	if ((m->kind & BDL_KIND_MODEL) && nmodel != 1) {
		bdl_cause(cause, "manifest.json: a model bundle must hold exactly "
		    "one model/ file (it has %zu)", nmodel);
		goto out;
	}
	if (m->kind & BDL_KIND_PLAYBOOKS) {
		size_t np = 0;

		for (size_t i = 0; i < m->nfiles; i++)
			np += strncmp(m->files[i].path, "playbooks/", 10) == 0;
		if (np == 0) {
			bdl_cause(cause, "manifest.json: a playbooks bundle "
			    "without playbooks/ files");
			goto out;
		}
	}
	*out = m;	/* transferred */
	m = NULL;
	rc = 0;
out:
	if (rc != 0 && cause != NULL && *cause == NULL)
		rc = BDL_ENOMEM;
	bdl_manifest_free(m);
	return rc;
}

const struct bdl_file *
bdl_manifest_lookup(const struct bdl_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return &m->files[i];
	return NULL;
}

/* ---- accessors ------------------------------------------------------------- */

const char *bdl_manifest_name(const struct bdl_manifest *m) { return m->name; }
const char *bdl_manifest_version(const struct bdl_manifest *m) { return m->version; }
enum bdl_kind bdl_manifest_kind(const struct bdl_manifest *m) { return m->kind; }
int64_t bdl_manifest_created(const struct bdl_manifest *m) { return m->created; }
const char *bdl_manifest_min_triage(const struct bdl_manifest *m) { return m->min_triage; }
const char *bdl_manifest_arch(const struct bdl_manifest *m) { return m->arch; }
size_t bdl_manifest_ncpu(const struct bdl_manifest *m) { return m->ncpu; }
const char *bdl_manifest_quant(const struct bdl_manifest *m) { return m->quant; }
uint64_t bdl_manifest_mem(const struct bdl_manifest *m) { return m->mem; }
uint32_t bdl_manifest_ctx(const struct bdl_manifest *m) { return m->ctx; }
size_t bdl_manifest_nfiles(const struct bdl_manifest *m) { return m->nfiles; }
uint64_t bdl_manifest_total(const struct bdl_manifest *m) { return m->total; }
size_t bdl_manifest_nchanges(const struct bdl_manifest *m) { return m->nchanges; }

const char *
bdl_manifest_cpu(const struct bdl_manifest *m, size_t i)
{
	return i < m->ncpu ? m->cpu[i] : NULL;
}

const char *
bdl_manifest_file(const struct bdl_manifest *m, size_t i, uint64_t *size,
    const char **sha256)
{
	if (i >= m->nfiles)
		return NULL;
	if (size != NULL)
		*size = m->files[i].size;
	if (sha256 != NULL)
		*sha256 = m->files[i].sha256;
	return m->files[i].path;
}

const char *
bdl_manifest_model(const struct bdl_manifest *m, const char **license,
    const char **provenance)
{
	if (license != NULL)
		*license = m->license;
	if (provenance != NULL)
		*provenance = m->provenance;
	return m->model;
}

const char *
bdl_manifest_change(const struct bdl_manifest *m, size_t i)
{
	return i < m->nchanges ? m->changes[i] : NULL;
}

const char *
bdl_kind_name(enum bdl_kind k)
{
	switch (k) {
	case BDL_KIND_PLAYBOOKS:
		return "playbooks";
	case BDL_KIND_MODEL:
		return "model";
	case BDL_KIND_BOTH:
		return "both";
	}
	return "?";
}

/* ---- compatibility --------------------------------------------------------- */

/* __builtin_cpu_supports needs a literal, hence the table. */
static int
cpu_has_builtin(const char *f)
{
#if defined(__x86_64__) || defined(__i386__)
#define F(name) if (strcmp(f, name) == 0) return __builtin_cpu_supports(name) != 0;
	__builtin_cpu_init();
	F("sse2") F("sse3") F("ssse3") F("sse4.1") F("sse4.2") F("popcnt")
	F("avx") F("avx2") F("fma") F("bmi") F("bmi2")
	F("avx512f") F("avx512bw") F("avx512vl") F("avx512dq") F("avx512cd")
	F("avx512vnni") F("avx512vbmi")
#undef F
	/* Asked of CPUID: clang before 15 has no "f16c" in the builtin. */
	if (strcmp(f, "f16c") == 0) {
		unsigned a, b, c, d;

		return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
	}
#endif
	return -1;	/* a name we do not know */
}

int
bdl_manifest_compat(const struct bdl_manifest *m, const struct bdl_env *env,
    char **cause)
{
	const char *triage = env->triage_version != NULL ?
	    env->triage_version : "0.0.0";
	int (*has)(const char *) = env->cpu_has != NULL ? env->cpu_has :
	    cpu_has_builtin;
	struct utsname un;
	uint64_t mem = env->mem_bytes;
	int c;

	c = bdl_version_cmp(m->min_triage, triage);
	if (c == BDL_VERSION_BAD || c > 0) {
		bdl_cause(cause, "%s %s needs triage %s or newer (this is %s)",
		    m->name, m->version, m->min_triage, triage);
		return BDL_EREFUSED;
	}
	if (m->arch != NULL && strcmp(m->arch, "any") != 0) {
		const char *here = env->arch;

		if (here == NULL) {
			if (uname(&un) < 0)
				return BDL_EIO;
			here = un.machine;
		}
		if (strcmp(m->arch, here) != 0) {
			bdl_cause(cause, "%s %s is built for %s; this machine is "
			    "%s", m->name, m->version, m->arch, here);
			return BDL_EREFUSED;
		}
	}
	for (size_t i = 0; i < m->ncpu; i++) {
		int r = has(m->cpu[i]);

		if (r != 1) {
			bdl_cause(cause, "%s %s needs the CPU feature %s, which "
			    "%s", m->name, m->version, m->cpu[i], r < 0 ?
			    "triage does not know" : "this CPU lacks");
			return BDL_EREFUSED;
		}
	}
	if (m->kind & BDL_KIND_MODEL) {
		size_t i = 0;

		for (; env->quants != NULL && env->quants[i] != NULL; i++)
			if (strcmp(env->quants[i], m->quant) == 0)
				break;
		if (env->quants == NULL || env->quants[i] == NULL) {
			bdl_cause(cause, "%s %s uses the quantization %s, which "
			    "this triage cannot run", m->name, m->version,
			    m->quant);
			return BDL_EREFUSED;
		}
		if (mem == 0) {
			long pages = sysconf(_SC_PHYS_PAGES),
			    psize = sysconf(_SC_PAGESIZE);

			if (pages > 0 && psize > 0)
				mem = (uint64_t)pages * (uint64_t)psize;
		}
		if (mem != 0 && m->mem > mem) {
			bdl_cause(cause, "%s %s needs %.1f GiB of memory; this "
			    "machine has %.1f GiB", m->name, m->version,
			    (double)m->mem / (1 << 30), (double)mem / (1 << 30));
			return BDL_EREFUSED;
		}
	}
	return 0;
}
