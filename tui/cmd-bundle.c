/*
 * cmd-bundle.c - `triage bundle ...`: inspect, verify, import, list, roll
 * back and remove signed knowledge bundles, and build them.
 *
 * The bundles library does the work; this file adds what it must not
 * know: the self-check of a new version (playbook lint, and for a model:
 * load, tokenize and generate one token within a time limit, through the
 * engine), the supported quantizations, the data directory, progress on
 * the terminal, and the start-up fallback of the installed model.
 *
 * TRIAGE_FAULT (for tests only) injects faults at the library's named
 * steps: "kill:N" kills the process with SIGKILL at the Nth step,
 * "fail:N" makes the Nth step fail with an I/O error, "trace" prints each
 * step to stderr.
 */
#include <errno.h>
#include <langinfo.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../bundles/bundle.h"
#include "../engine/engine.h"
#include "tui.h"
#include "metrics.h"

#define MODEL_CHECK_MS	120000	/* load + tokenize + one token, at most */
#define CHECK_CTX	64	/* context for the self-check: one short prompt */
#define MAX_CHANGES	64	/* --changelog lines */
#define MAX_CPU		32	/* --cpu features */

static const char bundle_usage[] =
"usage: triage bundle info FILE\n"
"       triage bundle verify FILE...\n"
"       triage bundle import [--allow-downgrade] FILE\n"
"       triage bundle list [--check]\n"
"       triage bundle rollback NAME\n"
"       triage bundle remove [--yes] NAME\n"
"       triage bundle scan [PATH...]\n"
"       triage bundle create --key FINGERPRINT --name NAME --version VERSION\n"
"              [--playbooks DIR] [--model FILE] --out DIR [options]\n"
"\n"
"info      signer, signature status, manifest, files and what would change\n"
"verify    check signature, manifest and every file without installing\n"
"import    verify, check and install; the previous version becomes the\n"
"          last-known-good one (a version not newer than the installed one\n"
"          is refused unless --allow-downgrade, which is recorded)\n"
"list      installed bundles and versions; --check re-hashes every file\n"
"rollback  make the last-known-good version active again\n"
"remove    uninstall a bundle and all its versions\n"
"scan      find bundles on mounted USB media (and in PATHs) and verify them\n"
"create    build and sign a bundle with your own GnuPG key; options:\n"
"            --compress none|gzip|xz|zstd   --min-triage VERSION\n"
"            --arch ARCH  --cpu FEATURE,...  --quant Q  --mem BYTES  --ctx N\n"
"            --license TEXT  --provenance TEXT  --changelog TEXT (repeatable)\n";

/* What the engine runs (the names of general.file_type). */
static const char *const quants[] = { "F32", "F16", "BF16", "Q8_0", "Q4_0",
	"Q4_1", "Q5_0", "Q5_1", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K",
	NULL };

/* ---- fault injection (tests) ---------------------------------------------- */

static long fault_at, fault_n;
static int fault_kill, fault_trace;

static int
fault_hook(const char *point)
{
	fault_n++;
	if (fault_trace)
		out_printf(stderr, "fault point %ld: %s\n", fault_n, point);
	if (fault_n == fault_at) {
		if (fault_kill)
			raise(SIGKILL);
		return 1;
	}
	return 0;
}

static void
fault_setup(void)
{
	const char *f = getenv("TRIAGE_FAULT");

	if (f == NULL || *f == '\0')
		return;
	if (strcmp(f, "trace") == 0)
		fault_trace = 1;
	else if (strncmp(f, "kill:", 5) == 0) {
		fault_kill = 1;
		fault_at = strtol(f + 5, NULL, 10);
	} else if (strncmp(f, "fail:", 5) == 0)
		fault_at = strtol(f + 5, NULL, 10);
	bdl_set_fault_hook(fault_hook);
}

/* ---- small helpers ---------------------------------------------------------- */

static char *
data_path(const char *leaf)
{
	char *d = path_data_dir(), *p = NULL;

	if (d != NULL && asprintf(&p, "%s/%s", d, leaf) < 0)
		p = NULL;
	free(d);
	return p;
}

static const char *
arrow(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && strcmp(cs, "UTF-8") == 0 ? "\xe2\x86\x92" : "->";
}

static void
note_line(void *arg, const char *line)
{
	(void)arg;
	say_safe(stderr, "triage: %s", line);
}

static struct bdl_keyring *
open_keyring(void)
{
	struct bdl_keyring *kr = NULL;
	char *d = path_data_dir(), *cause = NULL;

	if (d == NULL || bdl_keyring_open(d, &kr, &cause) < 0) {
		say_safe(stderr, "triage: bundle: %s", cause != NULL ? cause :
		    "no data directory (set HOME or XDG_DATA_HOME)");
		kr = NULL;
	}
	free(cause);
	free(d);
	return kr;
}

static struct bdl_store *
open_store(int create)
{
	struct bdl_store *s = NULL;
	char *dir = data_path("bundles"), *log = data_path("audit.log");
	char *cause = NULL;

	if (dir == NULL || bdl_store_open(dir, log, create ? BDL_STORE_CREATE :
	    0, &s, &cause) < 0) {
		say_safe(stderr, "triage: bundle: %s", cause != NULL ? cause :
		    "no data directory (set HOME or XDG_DATA_HOME)");
		s = NULL;
	} else
		bdl_store_set_note(s, note_line, NULL);	/* what recovery did */
	free(cause);
	free(dir);
	free(log);
	return s;
}

static void
fill_env(struct bdl_env *env)
{
	memset(env, 0, sizeof(*env));
	env->triage_version = TRIAGE_VERSION;
	env->quants = quants;
}

/* ---- the self-check of a new version ---------------------------------------- */

struct lint_first {
	const char	*dir;
	char		*first;
	int		 n;
};

static void
lint_diag(void *arg, const char *line)
{
	struct lint_first *lf = arg;
	size_t dl = strlen(lf->dir);

	lf->n++;
	if (lf->first == NULL) {
		/* Show paths inside the bundle, not the staging directory. */
		if (strncmp(line, lf->dir, dl) == 0 && line[dl] == '/')
			line += dl + 1;
		lf->first = strdup(line);
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
check_deadline(void *arg, size_t done, size_t total)
{
	(void)done;
	(void)total;
	return now_ms() > *(double *)arg;
}

static const char *
plain_ftype(const char *f)
{
	return strncmp(f, "mostly ", 7) == 0 ? f + 7 : f;
}

/*
 * Load the model, tokenize a prompt and generate one token within the
 * time limit; the ftype must be what the manifest says.
 */
static int
model_check(const char *path, const char *quant, char **cause)
{
	struct eng_load_opts lo = { .n_ctx = CHECK_CTX };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	const struct eng_info *in;
	int32_t *ids = NULL, best = -1;
	size_t n = 0;
	float *logits = NULL;
	char piece[64], *c = NULL;
	double deadline = now_ms() + MODEL_CHECK_MS;
	int rc = -1, r;

	if (eng_model_open(path, &lo, &m, &c) != 0) {
		if (asprintf(cause, "the model does not load: %s", c != NULL ?
		    c : "?") < 0)
			*cause = NULL;
		goto out;
	}
	in = eng_model_info(m);
	if (quant != NULL && strcmp(plain_ftype(in->ftype), quant) != 0) {
		if (asprintf(cause, "the manifest says quantization %s, the model "
		    "is %s", quant, in->ftype) < 0)
			*cause = NULL;
		goto out;
	}
	if (eng_tokenize(m, "The", 3, true, &ids, &n) != 0 || n == 0) {
		*cause = strdup("the model cannot tokenize text");
		goto out;
	}
	if (eng_session_new(m, &s, &c) != 0) {
		if (asprintf(cause, "no session: %s", c != NULL ? c : "?") < 0)
			*cause = NULL;
		goto out;
	}
	if ((logits = malloc(sizeof(*logits) * in->n_vocab)) == NULL)
		goto out;
	r = eng_session_decode(s, ids, n, logits, false, check_deadline,
	    &deadline);
	if (r != 0 || now_ms() > deadline) {
		if (asprintf(cause, r == ENG_ECANCEL || now_ms() > deadline ?
		    "generating one token took longer than %d s" :
		    "generating one token failed", MODEL_CHECK_MS / 1000) < 0)
			*cause = NULL;
		goto out;
	}
	for (uint32_t i = 0; i < in->n_vocab; i++) {
		if (!isfinite(logits[i])) {
			*cause = strdup("the model computes non-finite values");
			goto out;
		}
		if (best < 0 || logits[i] > logits[best])
			best = (int32_t)i;
	}
	if (best < 0 || eng_token_piece(m, best, piece, sizeof(piece)) < 0) {
		*cause = strdup("the model's first token cannot be decoded");
		goto out;
	}
	rc = 0;
out:
	free(logits);
	free(ids);
	free(c);
	eng_session_free(s);
	eng_model_free(m);
	return rc;
}

static int
selfcheck(void *arg, const struct bdl_manifest *m, const char *dir,
    char **cause)
{
	enum bdl_kind kind = bdl_manifest_kind(m);
	char *path = NULL, *c = NULL;
	int rc = -1, n;

	(void)arg;
	if (kind & BDL_KIND_PLAYBOOKS) {
		struct lint_first lf = { dir, NULL, 0 };

		if (asprintf(&path, "%s/playbooks", dir) < 0)
			return -1;
		n = pb_lint(path, lint_diag, &lf, &c);
		if (n < 0 && asprintf(cause, "the playbooks cannot be read: %s",
		    c != NULL ? c : "?") < 0)
			*cause = NULL;
		if (n > 0 && asprintf(cause, "the playbooks do not lint clean "
		    "(%d problem%s; first: %s)", lf.n, lf.n == 1 ? "" : "s",
		    lf.first != NULL ? lf.first : "?") < 0)
			*cause = NULL;
		if (n != 0) {
			free(lf.first);
			goto out;
		}
		free(lf.first);
		free(path);
		path = NULL;
	}
	if (kind & BDL_KIND_MODEL) {
		if (asprintf(&path, "%s/%s", dir, bdl_manifest_model(m, NULL,
		    NULL)) < 0)
			goto out;
		if (model_check(path, bdl_manifest_quant(m), cause) < 0)
			goto out;
	}
	rc = 0;
out:
	free(c);
	free(path);
	return rc;
}

/* ---- the installed model (for triage ask) ------------------------------------ */

char *
bundle_model_path(char **bundle)
{
	char *dir = data_path("bundles"), **dirs = NULL, *model = NULL;

	*bundle = NULL;
	if (dir != NULL && bdl_store_active_paths(dir, &dirs, &model, bundle,
	    NULL) == 0)
		bdl_strv_free(dirs);
	free(dir);
	return model;
}

char *
bundle_model_fallback(const char *bundle, const char *reason)
{
	struct bdl_store *s;
	char *cause = NULL, *model = NULL, *b2 = NULL;
	int i;

	if ((s = open_store(1)) == NULL)
		return NULL;
	i = bdl_store_find(s, bundle);
	if (bdl_store_rollback(s, bundle, "fallback", reason, &cause) < 0) {
		say_safe(stderr, "triage: the model of bundle %s does not load, "
		    "and there is no version to fall back to: %s", bundle,
		    cause != NULL ? cause : "?");
		goto out;
	}
	metrics_count("bundle", "rollback", "model-failed", 1);
	i = bdl_store_find(s, bundle);
	if (i >= 0)
		metrics_count("active", bundle, bdl_store_active(s, (size_t)i), 1);
	say_safe(stderr, "triage: the model of bundle %s does not load (%s); "
	    "switched back to the last-known-good version %s", bundle,
	    reason != NULL ? reason : "?", i >= 0 ? bdl_store_active(s,
	    (size_t)i) : "?");
	model = bundle_model_path(&b2);
	if (b2 == NULL || strcmp(b2, bundle) != 0) {
		free(model);
		model = NULL;
	}
out:
	free(b2);
	free(cause);
	bdl_store_free(s);
	return model;
}

/* The import screen (screen-import.c) runs the same check, in the same
 * environment, as `triage bundle import`. */
int
bundle_selfcheck(void *arg, const struct bdl_manifest *m, const char *dir,
    char **cause)
{
	return selfcheck(arg, m, dir, cause);
}

void
bundle_env(struct bdl_env *env)
{
	fill_env(env);
}

/* ---- progress --------------------------------------------------------------- */

static void
progress(void *arg, enum bdl_stage st, uint64_t done, uint64_t total)
{
	int *last = arg;
	int pct = total > 0 ? (int)(done * 100 / total) : -1;

	if (!isatty(STDERR_FILENO))
		return;
	if (pct == *last && pct >= 0)
		return;
	*last = pct;
	if (pct >= 0)
		out_printf(stderr, "\r%-8s %3d%%", bdl_stage_name(st), pct);
	else
		out_printf(stderr, "\r%-8s     ", bdl_stage_name(st));
	fflush(stderr);
}

static void
progress_end(void)
{
	if (isatty(STDERR_FILENO))
		out_printf(stderr, "\r%20s\r", "");
}

/* ---- info, verify, scan ------------------------------------------------------ */

/* A private staging directory for commands that install nothing. */
static char *
temp_stage(void)
{
	const char *t = getenv("TMPDIR");
	char *d;

	if (asprintf(&d, "%s/triage-XXXXXX", t != NULL && *t == '/' ? t :
	    "/tmp") < 0)
		return NULL;
	if (mkdtemp(d) == NULL) {
		say_safe(stderr, "triage: bundle: %s: %s", d, strerror(errno));
		free(d);
		return NULL;
	}
	return d;
}

static void
describe_change(const struct bdl_manifest *m, struct bdl_store *s)
{
	const char *name = bdl_manifest_name(m), *ver = bdl_manifest_version(m);
	const char *cur;
	int i = s != NULL ? bdl_store_find(s, name) : -1, c;

	if (i < 0 || (cur = bdl_store_active(s, (size_t)i)) == NULL) {
		out_printf(stdout, "change:     new: %s %s\n", name, ver);
		return;
	}
	c = bdl_version_cmp(ver, cur);
	if (c > 0)
		out_printf(stdout, "change:     %s %s %s %s\n", name, cur, arrow(), ver);
	else
		out_printf(stdout, "change:     %s %s %s %s: %s (needs --allow-downgrade)\n",
		    name, cur, arrow(), ver, c == 0 ? "already installed" :
		    "a downgrade");
}

/* Stage, verify and read the manifest; prints the signature line. */
static int
open_verified(const char *file, const char *stage, struct bdl_keyring *kr,
    struct bdl_bundle **out, int quiet)
{
	struct bdl_bundle *b = NULL;
	const struct bdl_signer *sg;
	char *cause = NULL, when[32];
	int r;

	if ((r = bdl_bundle_open(file, stage, NULL, NULL, &b, &cause)) < 0 ||
	    (r = bdl_bundle_verify(b, kr, note_line, NULL, &cause)) < 0) {
		if (quiet)
			say_safe(stdout, "%s: REFUSED: %s", file, cause != NULL ? cause :
			    bdl_strerror(r));
		else
			say_safe(stdout, "signature:  REFUSED: %s", cause != NULL ?
			    cause : bdl_strerror(r));
		goto out;
	}
	sg = bdl_bundle_signer(b);
	bdl_time_format(sg->time, when, sizeof(when));
	if (!quiet) {
		say_safe(stdout, "signature:  good, by %s", sg->uid);
		out_printf(stdout, "            key %s, signed %s%s\n", sg->fpr, when,
		    sg->nsigs > 1 ? " (more signatures in the file)" : "");
	}
	if ((r = bdl_bundle_manifest(b, &cause)) < 0) {
		say_safe(stdout, quiet ? "%s: REFUSED: %s" : "%smanifest:   REFUSED: %s",
		    quiet ? file : "", cause != NULL ? cause : bdl_strerror(r));
		goto out;
	}
	*out = b;
	b = NULL;
out:
	free(cause);
	bdl_bundle_free(b);
	return r;
}

static int
bundle_info(const char *file)
{
	struct bdl_keyring *kr = NULL;
	struct bdl_bundle *b = NULL;
	struct bdl_store *s = NULL;
	const struct bdl_manifest *m;
	struct bdl_env env;
	char *stage = NULL, *cause = NULL, when[32], h[32];
	const char *lic, *prov, *model, *sha;
	uint64_t size;
	int rc = EXIT_TROUBLE, r;

	if ((kr = open_keyring()) == NULL || (stage = temp_stage()) == NULL)
		goto out;
	say_safe(stdout, "file:       %s", file);
	if ((r = open_verified(file, stage, kr, &b, 0)) < 0) {
		rc = r == BDL_EIO || r == BDL_ENOMEM ? EXIT_TROUBLE : 1;
		goto out;
	}
	m = bdl_bundle_get_manifest(b);
	bdl_time_format(bdl_manifest_created(m), when, sizeof(when));
	out_printf(stdout, "bundle:     %s %s (%s), created %s\n", bdl_manifest_name(m),
	    bdl_manifest_version(m), bdl_kind_name(bdl_manifest_kind(m)), when);
	out_printf(stdout, "needs:      triage %s or newer", bdl_manifest_min_triage(m));
	if (bdl_manifest_arch(m) != NULL)
		out_printf(stdout, ", arch %s", bdl_manifest_arch(m));
	for (size_t i = 0; i < bdl_manifest_ncpu(m); i++)
		out_printf(stdout, "%s%s", i == 0 ? ", cpu " : ",", bdl_manifest_cpu(m, i));
	out_printf(stdout, "\n");
	if ((model = bdl_manifest_model(m, &lic, &prov)) != NULL) {
		out_printf(stdout, "model:      %s: %s, %s memory, context %u\n", model,
		    bdl_manifest_quant(m), out_size(bdl_manifest_mem(m), h,
		    sizeof(h)), (unsigned)bdl_manifest_ctx(m));
		out_printf(stdout, "licence:    %s\n", lic);
		out_printf(stdout, "provenance: %s\n", prov);
	}
	out_printf(stdout, "files:      %zu, %s\n", bdl_manifest_nfiles(m),
	    out_size(bdl_manifest_total(m), h, sizeof(h)));
	for (size_t i = 0; i < bdl_manifest_nfiles(m); i++) {
		const char *p = bdl_manifest_file(m, i, &size, &sha);

		out_printf(stdout, "  %12llu  %.16s  %s\n", (unsigned long long)size, sha, p);
	}
	if (bdl_manifest_nchanges(m) > 0)
		out_printf(stdout, "changelog:\n");
	for (size_t i = 0; i < bdl_manifest_nchanges(m); i++)
		out_printf(stdout, "  - %s\n", bdl_manifest_change(m, i));
	s = open_store(0);
	describe_change(m, s);
	fill_env(&env);
	if (bdl_manifest_compat(m, &env, &cause) < 0) {
		say_safe(stdout, "compatible: no: %s", cause != NULL ? cause : "?");
		rc = 1;
		goto out;
	}
	out_printf(stdout, "compatible: yes\n");
	rc = 0;
out:
	free(cause);
	bdl_bundle_free(b);
	bdl_store_free(s);
	bdl_keyring_free(kr);
	if (stage != NULL) {
		rmdir(stage);
		free(stage);
	}
	return rc;
}

/* Full check of one file; prints one line.  0 ok, 1 refused, 2 trouble. */
static int
verify_one(const char *file, const char *stage, struct bdl_keyring *kr,
    struct bdl_store *s, int with_change)
{
	struct bdl_bundle *b = NULL;
	const struct bdl_manifest *m;
	const struct bdl_signer *sg;
	struct bdl_env env;
	char *cause = NULL;
	int r, rc = 1;

	if ((r = open_verified(file, stage, kr, &b, 1)) < 0)
		return r == BDL_EIO || r == BDL_ENOMEM ? EXIT_TROUBLE : 1;
	m = bdl_bundle_get_manifest(b);
	sg = bdl_bundle_signer(b);
	fill_env(&env);
	if ((r = bdl_bundle_extract(b, -1, NULL, NULL, &cause)) < 0 ||
	    (r = bdl_manifest_compat(m, &env, &cause)) < 0) {
		say_safe(stdout, "%s: REFUSED: %s", file, cause != NULL ? cause :
		    bdl_strerror(r));
		goto out;
	}
	{
		int i = with_change && s != NULL ? bdl_store_find(s,
		    bdl_manifest_name(m)) : -1;
		const char *cur = i >= 0 ? bdl_store_active(s, (size_t)i) : NULL;

		say_safe(stdout, "%s: OK: %s %s (%s), signed by %s (%s)%s%s", file,
		    bdl_manifest_name(m), bdl_manifest_version(m),
		    bdl_kind_name(bdl_manifest_kind(m)), sg->uid, sg->fpr,
		    cur != NULL ? ", installed " : "", cur != NULL ? cur : "");
	}
	rc = 0;
out:
	free(cause);
	bdl_bundle_free(b);
	return rc;
}

static int
bundle_verify(int n, char **files, int scan_mode)
{
	struct bdl_keyring *kr = NULL;
	struct bdl_store *s = NULL;
	char *stage = NULL, **found = NULL, *cause = NULL;
	int rc = EXIT_TROUBLE, worst = 0, r;

	if ((kr = open_keyring()) == NULL || (stage = temp_stage()) == NULL)
		goto out;
	if (scan_mode) {
		if (bdl_usb_find("/proc/self/mounts", NULL,
		    (const char *const *)files, &found, &cause) < 0) {
			say_safe(stderr, "triage: bundle: %s", cause != NULL ?
			    cause : "scan failed");
			goto out;
		}
		files = found;
		for (n = 0; found[n] != NULL; n++)
			;
		if (n == 0) {
			out_printf(stdout, "no bundles found\n");
			rc = 1;
			goto out;
		}
		s = open_store(0);
	}
	for (int i = 0; i < n; i++) {
		r = verify_one(files[i], stage, kr, s, scan_mode);
		if (r > worst)
			worst = r;
	}
	rc = worst;
out:
	free(cause);
	bdl_strv_free(found);
	bdl_store_free(s);
	bdl_keyring_free(kr);
	if (stage != NULL) {
		rmdir(stage);
		free(stage);
	}
	return rc;
}

/* ---- import, list, rollback, remove ------------------------------------------- */

static int
bundle_import(const char *file, int allow_downgrade)
{
	struct bdl_keyring *kr = NULL;
	struct bdl_store *s = NULL;
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *cause = NULL, when[32];
	int last = -2, r, rc = EXIT_TROUBLE;

	if ((kr = open_keyring()) == NULL || (s = open_store(1)) == NULL)
		goto out;
	memset(&o, 0, sizeof(o));
	o.allow_downgrade = allow_downgrade;
	fill_env(&o.env);
	o.check = selfcheck;
	o.progress = progress;
	o.note = note_line;
	o.arg = &last;
	r = bdl_store_import(s, kr, file, &o, &res, &cause);
	progress_end();
	if (r < 0) {
		metrics_bundle_refused(r);
		say_safe(stderr, "triage: bundle: import refused: %s",
		    cause != NULL ? cause : bdl_strerror(r));
		rc = r == BDL_EIO || r == BDL_ENOMEM || r == BDL_EBUSY ?
		    EXIT_TROUBLE : 1;
		goto out;
	}
	metrics_count("bundle", "imported", NULL, 1);
	metrics_count("active", res.name, res.version, 1);
	bdl_time_format(res.signer.time, when, sizeof(when));
	if (res.previous[0] != '\0')
		say_safe(stdout, "imported %s %s %s %s%s, signed by %s (%s) at %s",
		    res.name, res.previous, arrow(), res.version, res.downgrade ?
		    " (downgrade, recorded)" : "", res.signer.uid,
		    res.signer.fpr, when);
	else
		say_safe(stdout, "imported %s %s, signed by %s (%s) at %s", res.name,
		    res.version, res.signer.uid, res.signer.fpr, when);
	rc = 0;
out:
	free(cause);
	bdl_store_free(s);
	bdl_keyring_free(kr);
	return rc;
}

static void
plain_note(void *arg, const char *line)
{
	(void)arg;
	say_safe(stdout, "  %s", line);
}

static int
bundle_list(int check)
{
	struct bdl_store *s;
	char *cause = NULL;
	int rc = 0, problems, r;

	if ((s = open_store(0)) == NULL)
		return EXIT_TROUBLE;
	/* Finish what a crash left and re-adopt what a lost state.json
	 * forgot, so that the list shows what is installed. */
	if ((r = bdl_store_recover(s, &cause)) < 0 && r != BDL_EBUSY)
		say_safe(stderr, "triage: bundle: %s", cause != NULL ? cause :
		    bdl_strerror(r));
	free(cause);
	cause = NULL;
	if (bdl_store_count(s) == 0)
		out_printf(stdout, "no bundles installed\n");
	else
		out_printf(stdout, "%-24s %-9s %-10s %-10s %s\n", "NAME", "KIND", "ACTIVE",
		    "LKG", "ALSO KEPT");
	for (size_t i = 0; i < bdl_store_count(s); i++) {
		const char *act = bdl_store_active(s, i), *lkg = bdl_store_lkg(s, i);

		out_printf(stdout, "%-24s %-9s %-10s %-10s", bdl_store_name(s, i),
		    bdl_kind_name(bdl_store_kind(s, i)), act != NULL ? act : "-",
		    lkg != NULL ? lkg : "-");
		for (size_t j = 0; j < bdl_store_nversions(s, i); j++) {
			bool down, bad;
			const char *v = bdl_store_version(s, i, j, NULL, NULL,
			    &down, &bad);

			if ((act != NULL && strcmp(v, act) == 0) ||
			    (lkg != NULL && strcmp(v, lkg) == 0))
				continue;
			out_printf(stdout, " %s%s", v, bad ? " (rolled back)" : "");
		}
		out_printf(stdout, "\n");
	}
	if (check) {
		problems = bdl_store_check(s, plain_note, NULL, &cause);
		if (problems < 0) {
			say_safe(stderr, "triage: bundle: %s", cause != NULL ?
			    cause : "check failed");
			rc = EXIT_TROUBLE;
		} else if (problems > 0) {
			out_printf(stdout, "check: %d problem%s\n", problems, problems == 1 ?
			    "" : "s");
			rc = 1;
		} else
			out_printf(stdout, "check: every installed file matches its "
			    "manifest\n");
	}
	free(cause);
	bdl_store_free(s);
	return rc;
}

static int
bundle_rollback(const char *name)
{
	struct bdl_store *s;
	char *cause = NULL, from[32] = "";
	int r, i, rc = 0;

	if ((s = open_store(1)) == NULL)
		return EXIT_TROUBLE;
	(void)bdl_store_recover(s, NULL);	/* a lost state is rebuilt first */
	if ((i = bdl_store_find(s, name)) >= 0 && bdl_store_active(s,
	    (size_t)i) != NULL)
		snprintf(from, sizeof(from), "%s", bdl_store_active(s, (size_t)i));
	if ((r = bdl_store_rollback(s, name, "rollback", "by the user",
	    &cause)) < 0) {
		say_safe(stderr, "triage: bundle: rollback refused: %s",
		    cause != NULL ? cause : bdl_strerror(r));
		rc = r == BDL_EIO || r == BDL_EBUSY || r == BDL_ENOMEM ?
		    EXIT_TROUBLE : 1;
	} else {
		metrics_count("bundle", "rollback", "user", 1);
		i = bdl_store_find(s, name);
		if (i >= 0)	/* the version active again */
			metrics_count("active", name, bdl_store_active(s,
			    (size_t)i), 1);
		out_printf(stdout, "%s rolled back: %s %s %s\n", name, from, arrow(),
		    i >= 0 ? bdl_store_active(s, (size_t)i) : "?");
	}
	free(cause);
	bdl_store_free(s);
	return rc;
}

static int
bundle_remove(const char *name, int yes)
{
	struct bdl_store *s;
	char *cause = NULL, q[160];
	int r, i, rc = 0;

	if ((s = open_store(1)) == NULL)
		return EXIT_TROUBLE;
	(void)bdl_store_recover(s, NULL);	/* a lost state is rebuilt first */
	if ((i = bdl_store_find(s, name)) < 0) {
		say_safe(stderr, "triage: bundle: no bundle \"%s\" is installed",
		    name);
		bdl_store_free(s);
		return 1;
	}
	snprintf(q, sizeof(q), "Remove bundle %.64s (active %s, %zu version%s)?",
	    name, bdl_store_active(s, (size_t)i), bdl_store_nversions(s,
	    (size_t)i), bdl_store_nversions(s, (size_t)i) == 1 ? "" : "s");
	if (!ask_yes(q, yes)) {
		bdl_store_free(s);
		return 1;
	}
	if ((r = bdl_store_remove(s, name, &cause)) < 0) {
		say_safe(stderr, "triage: bundle: %s", cause != NULL ? cause :
		    bdl_strerror(r));
		rc = r == BDL_ENOENT ? 1 : EXIT_TROUBLE;
	} else
		out_printf(stdout, "removed %s\n", name);
	free(cause);
	bdl_store_free(s);
	return rc;
}

/* ---- create ---------------------------------------------------------------- */

/* Defaults for a model bundle from the file itself. */
static int
model_defaults(struct bdl_create_opts *o, char *quant, size_t qcap,
    char *license, size_t lcap)
{
	struct eng_load_opts lo = { .n_ctx = o->n_ctx };
	struct eng_model *m = NULL;
	const struct eng_info *in;
	char *cause = NULL;

	if (eng_model_open(o->model, &lo, &m, &cause) != 0) {
		say_safe(stderr, "triage: bundle: %s: %s", o->model,
		    cause != NULL ? cause : "cannot be loaded");
		free(cause);
		return -1;
	}
	in = eng_model_info(m);
	if (o->quant == NULL) {
		snprintf(quant, qcap, "%s", plain_ftype(in->ftype));
		o->quant = quant;
	}
	/* The context the memory estimate below is for (at most 4096). */
	if (o->n_ctx == 0)
		o->n_ctx = in->n_ctx;
	if (o->mem_bytes == 0)
		o->mem_bytes = in->mem_weights + in->mem_kv + in->mem_scratch;
	if (o->license == NULL && in->license[0] != '\0') {
		snprintf(license, lcap, "%s", in->license);
		o->license = license;
	}
	eng_model_free(m);
	return 0;
}

static int
split_list(char *s, const char **v, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(s, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		if (n + 1 >= max)
			return -1;
		v[n++] = t;
	}
	v[n] = NULL;
	return 0;
}

static int
bundle_create(int argc, char **argv)
{
	struct bdl_create_opts o;
	const char *changes[MAX_CHANGES + 1], *cpu[MAX_CPU + 1];
	char quant[32], license[64], *out = NULL, *cause = NULL, *end;
	size_t nch = 0;
	int r;

	memset(&o, 0, sizeof(o));
	o.min_triage = TRIAGE_VERSION;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL) {
			out_printf(stderr, "triage: bundle: create: %s needs a "
			    "value\n", a);
			return EXIT_TROUBLE;
		}
		i++;
		if (strcmp(a, "--key") == 0)
			o.key = v;
		else if (strcmp(a, "--name") == 0)
			o.name = v;
		else if (strcmp(a, "--version") == 0)
			o.version = v;
		else if (strcmp(a, "--model") == 0)
			o.model = v;
		else if (strcmp(a, "--playbooks") == 0)
			o.playbooks = v;
		else if (strcmp(a, "--out") == 0)
			o.out_dir = v;
		else if (strcmp(a, "--min-triage") == 0)
			o.min_triage = v;
		else if (strcmp(a, "--arch") == 0)
			o.arch = v;
		else if (strcmp(a, "--quant") == 0)
			o.quant = v;
		else if (strcmp(a, "--license") == 0)
			o.license = v;
		else if (strcmp(a, "--provenance") == 0)
			o.provenance = v;
		else if (strcmp(a, "--cpu") == 0) {
			if (split_list(argv[i], cpu, MAX_CPU + 1) < 0) {
				out_printf(stderr, "triage: bundle: create: too many "
				    "--cpu features\n");
				return EXIT_TROUBLE;
			}
			o.cpu = cpu;
		} else if (strcmp(a, "--changelog") == 0) {
			if (nch >= MAX_CHANGES) {
				out_printf(stderr, "triage: bundle: create: too many "
				    "--changelog lines\n");
				return EXIT_TROUBLE;
			}
			changes[nch++] = v;
		} else if (strcmp(a, "--mem") == 0 || strcmp(a, "--ctx") == 0) {
			unsigned long long n;

			errno = 0;
			n = strtoull(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || n == 0 ||
			    (a[2] == 'c' && n > (1u << 24))) {
				out_printf(stderr, "triage: bundle: create: %s: \"%s\" "
				    "is not a positive number\n", a, v);
				return EXIT_TROUBLE;
			}
			if (a[2] == 'm')
				o.mem_bytes = n;
			else
				o.n_ctx = (uint32_t)n;
		} else if (strcmp(a, "--compress") == 0) {
			o.compress = strcmp(v, "none") == 0 ? BDL_COMPRESS_NONE :
			    strcmp(v, "gzip") == 0 ? BDL_COMPRESS_GZIP :
			    strcmp(v, "xz") == 0 ? BDL_COMPRESS_XZ :
			    strcmp(v, "zstd") == 0 ? BDL_COMPRESS_ZSTD : -1;
			if ((int)o.compress < 0) {
				out_printf(stderr, "triage: bundle: create: --compress "
				    "must be none, gzip, xz or zstd\n");
				return EXIT_TROUBLE;
			}
		} else {
			out_printf(stderr, "triage: bundle: create: unknown option "
			    "%s\n", a);
			fputs(bundle_usage, stderr);
			return EXIT_TROUBLE;
		}
	}
	changes[nch] = NULL;
	o.changes = changes;
	if (o.key == NULL || o.name == NULL || o.version == NULL ||
	    o.out_dir == NULL || (o.model == NULL && o.playbooks == NULL)) {
		out_printf(stderr, "triage: bundle: create needs --key, --name, "
		    "--version, --out and --playbooks or --model\n");
		return EXIT_TROUBLE;
	}
	/* What would not be activated is not worth signing. */
	if (o.playbooks != NULL) {
		int n = pb_lint(o.playbooks, diag_line, stderr, &cause);

		if (n != 0) {
			out_printf(stderr, "triage: bundle: %s\n", n < 0 ? (cause !=
			    NULL ? cause : o.playbooks) :
			    "the playbooks do not lint clean; fix them first");
			free(cause);
			return n < 0 ? EXIT_TROUBLE : 1;
		}
	}
	if (o.model != NULL && o.provenance == NULL) {
		out_printf(stderr, "triage: bundle: create: --provenance is needed "
		    "with --model (where the weights come from)\n");
		return EXIT_TROUBLE;
	}
	if (o.model != NULL && model_defaults(&o, quant, sizeof(quant), license,
	    sizeof(license)) < 0)
		return 1;
	if (o.model != NULL && o.license == NULL) {
		out_printf(stderr, "triage: bundle: create: the model names no "
		    "licence: give --license\n");
		return EXIT_TROUBLE;
	}
	if ((r = bdl_create(&o, &out, &cause)) < 0) {
		say_safe(stderr, "triage: bundle: create: %s", cause != NULL ?
		    cause : bdl_strerror(r));
		free(cause);
		return EXIT_TROUBLE;
	}
	out_printf(stdout, "%s\n%s.sig\n", out, out);
	free(out);
	return 0;
}

/* ---- dispatch --------------------------------------------------------------- */

int
cmd_bundle(int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : NULL;
	int i = 2, yes = 0, down = 0, check = 0;

	if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(bundle_usage, sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_TROUBLE : 0;
	}
	fault_setup();
	if (strcmp(sub, "create") == 0)
		return bundle_create(argc - 2, argv + 2);
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
			yes = 1;
		else if (strcmp(argv[i], "--allow-downgrade") == 0)
			down = 1;
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(bundle_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			goto usage;
	}
	if (strcmp(sub, "info") == 0 && argc - i == 1 && !yes && !down &&
	    !check)
		return bundle_info(argv[i]);
	if (strcmp(sub, "verify") == 0 && argc - i >= 1 && !yes && !down &&
	    !check)
		return bundle_verify(argc - i, argv + i, 0);
	if (strcmp(sub, "scan") == 0 && !yes && !down && !check) {
		/* argv[argc] is NULL: the paths are a NULL-terminated list. */
		return bundle_verify(0, argv + i, 1);
	}
	if (strcmp(sub, "import") == 0 && argc - i == 1 && !yes && !check)
		return bundle_import(argv[i], down);
	if (strcmp(sub, "list") == 0 && argc - i == 0 && !yes && !down)
		return bundle_list(check);
	if (strcmp(sub, "rollback") == 0 && argc - i == 1 && !yes && !down &&
	    !check)
		return bundle_rollback(argv[i]);
	if (strcmp(sub, "remove") == 0 && argc - i == 1 && !down && !check)
		return bundle_remove(argv[i], yes);
usage:
	out_printf(stderr, "triage: bundle: bad arguments to \"%s\"\n", sub);
	fputs(bundle_usage, stderr);
	return EXIT_TROUBLE;
}
