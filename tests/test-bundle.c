/*
 * test-bundle.c - signed bundles end to end through the library: staging,
 * signature policy, manifest, extraction policy, the store (switch,
 * rollback, GC, faults), audit log and USB discovery.
 *
 * Everything is made at run time in a temporary directory: real OpenPGP
 * keys from gpg (ed25519, an RSA-2048 one, one with a signing subkey, one
 * that expires, one that gets revoked), real tar archives written with
 * libarchive (so that symlinks, device nodes and the like can be put in
 * them), real detached signatures from gpg (--faked-system-time gives
 * signatures at chosen times).  Every bad bundle must be refused with its
 * own message and leave the store byte-for-byte as it was.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle.h"
#include "../bundles/internal.h"

#define DAY	86400

static char T[128], SIGNER[192], DATA[192], STORE[224], AUDIT[224], FIX[192];
static char fpr_good[65], fpr_other[65], fpr_unknown[65], fpr_expired[65];
static char fpr_revoked[65], fpr_sub[65], fpr_weak[65], fpr_notallowed[65];
static struct bdl_keyring *kr;
static time_t now;

/* ---- helpers: shell, gpg -------------------------------------------------- */

static int
sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

#define GPG "gpg --homedir %s --batch --quiet --no-tty --passphrase ''"

static void
fpr_of(const char *uid, char out[65])
{
	char cmd[512], line[512];
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "gpg --homedir %s --with-colons --list-keys "
	    "'%s' 2>/dev/null", SIGNER, uid);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	out[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "fpr:", 4) == 0 && out[0] == '\0') {
			char *f = line + 12;	/* "fpr:::::::::" */

			f[strcspn(f, ":")] = '\0';
			snprintf(out, 65, "%.64s", f);
		}
	pclose(fp);
	assert_int_equal(strlen(out), 40);
}

/* Sign `file` into file.sig with key `fpr`, at `at` (0: now). */
static void
sign(const char *file, const char *fpr, time_t at, const char *extra)
{
	char t[64] = "";

	if (at != 0)
		snprintf(t, sizeof(t), "--faked-system-time %lld",
		    (long long)at);
	assert_int_equal(sh(GPG " %s %s --yes -u %s --detach-sign -o %s.sig %s "
	    ">/dev/null 2>&1", SIGNER, t, extra != NULL ? extra : "", fpr,
	    file, file), 0);
}

static void
import_key(const char *fpr)
{
	char path[256], *cause = NULL;
	struct bdl_keyfile *kf = NULL;

	snprintf(path, sizeof(path), "%s/%s.pub", T, fpr);
	assert_int_equal(sh(GPG " --export %s >%s", SIGNER, fpr, path), 0);
	if (bdl_keyfile_read(kr, path, &kf, &cause) < 0 ||
	    bdl_keyring_import(kr, kf, &cause) < 0)
		fail_msg("importing %s: %s", fpr, cause);
	bdl_keyfile_free(kf);
}

/* ---- helpers: archives and manifests ---------------------------------------- */

enum etype { E_FILE, E_DIR, E_SYMLINK, E_HARDLINK, E_CHR, E_FIFO };

struct ent {
	const char	*name;
	enum etype	 type;
	const char	*data;		/* file contents (NUL-terminated) */
	long long	 size;		/* header size; -1: strlen(data) */
	const char	*link;
	long long	 zeros;		/* write this many zero bytes instead */
};

static void
write_tar(const char *path, int filter, const struct ent *e, size_t n)
{
	struct archive *a = archive_write_new();
	static char zero[1 << 20];

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (filter == 'z')
		assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	else if (filter == 'x')
		assert_int_equal(archive_write_add_filter_xz(a), ARCHIVE_OK);
	else if (filter == 'g')
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		long long size = e[i].zeros > 0 ? e[i].zeros : e[i].size >= 0 ?
		    e[i].size : (e[i].data != NULL ? (long long)strlen(e[i].data) :
		    0);

		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_mtime(ae, 1700000000, 0);
		switch (e[i].type) {
		case E_FILE:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, size);
			break;
		case E_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			break;
		case E_SYMLINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e[i].link);
			break;
		case E_HARDLINK:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].link);
			break;
		case E_CHR:
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		case E_FIFO:
			archive_entry_set_filetype(ae, AE_IFIFO);
			break;
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == E_FILE && e[i].zeros > 0) {
			for (long long left = e[i].zeros; left > 0;
			    left -= (long long)sizeof(zero))
				archive_write_data(a, zero, left < (long long)
				    sizeof(zero) ? (size_t)left : sizeof(zero));
		} else if (e[i].type == E_FILE && e[i].data != NULL)
			archive_write_data(a, e[i].data, (size_t)(size <
			    (long long)strlen(e[i].data) ? size :
			    (long long)strlen(e[i].data)));
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void
sha_hex(const char *data, size_t len, char out[65])
{
	unsigned char d[32];

	gcry_md_hash_buffer(GCRY_MD_SHA256, d, data, len);
	bdl_hex(d, 32, out);
}

/* A manifest member for a file. */
struct mf {
	const char	*path;
	const char	*data;
	long long	 size;		/* -1: strlen(data) */
	const char	*sha;		/* NULL: computed */
};

struct mopts {
	const char	*name, *version, *kind;
	int		 format;		/* 0: 1 */
	const char	*min_triage;		/* NULL: 0.1.0 */
	const char	*extra;			/* raw members, ending in "," */
};

static char *
manifest(const struct mopts *o, const struct mf *f, size_t n)
{
	char *s = NULL, *files = strdup(""), hex[65];

	for (size_t i = 0; i < n; i++) {
		char *nf;

		sha_hex(f[i].data, strlen(f[i].data), hex);
		assert_true(asprintf(&nf, "%s%s{\"path\":\"%s\",\"size\":%lld,"
		    "\"sha256\":\"%s\"}", files, i ? "," : "", f[i].path,
		    f[i].size >= 0 ? f[i].size : (long long)strlen(f[i].data),
		    f[i].sha != NULL ? f[i].sha : hex) >= 0);
		free(files);
		files = nf;
	}
	assert_true(asprintf(&s, "{\"format\":%d,\"name\":\"%s\",\"kind\":\"%s\","
	    "\"version\":\"%s\",\"created\":\"2026-01-01T00:00:00Z\","
	    "\"min_triage\":\"%s\",%s\"files\":[%s],\"changelog\":[\"test\"]}",
	    o->format ? o->format : 1, o->name, o->kind ? o->kind : "playbooks",
	    o->version, o->min_triage ? o->min_triage : "0.1.0",
	    o->extra ? o->extra : "", files) >= 0);
	free(files);
	return s;
}

static const char PB_A[] = "{\"id\": \"a\", \"text\": \"version one\"}\n";
static const char PB_B[] = "{\"id\": \"b\", \"text\": \"the second playbook\"}\n";

/* A well-formed playbooks bundle FIX/<file>, signed by `fpr` at `at`. */
static char *
good_bundle(const char *file, const char *name, const char *version,
    const char *fpr, time_t at)
{
	struct mopts mo = { .name = name, .version = version };
	struct mf f[] = { { "playbooks/a.json", PB_A, -1, NULL },
	    { "playbooks/b.json", PB_B, -1, NULL } };
	char *m = manifest(&mo, f, 2), *path;
	struct ent e[] = {
		{ "manifest.json", E_FILE, m, -1, NULL, 0 },
		{ "playbooks", E_DIR, NULL, 0, NULL, 0 },
		{ "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 },
		{ "playbooks/b.json", E_FILE, PB_B, -1, NULL, 0 },
	};

	assert_true(asprintf(&path, "%s/%s", FIX, file) >= 0);
	write_tar(path, 'z', e, 4);
	if (fpr != NULL)
		sign(path, fpr, at, NULL);
	free(m);
	return path;
}

/* ---- helpers: the store ------------------------------------------------------ */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Hash names, types, modes and contents of everything below dir. */
static void
tree_feed(gcry_md_hd_t md, const char *dir, const char *rel)
{
	char **names = NULL, path[1024];
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char line[1200];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_int_equal(lstat(path, &st), 0);
		snprintf(line, sizeof(line), "%s/%s %o\n", rel, names[i],
		    (unsigned)st.st_mode);
		gcry_md_write(md, line, strlen(line));
		if (S_ISDIR(st.st_mode)) {
			char sub[1024];

			snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
			tree_feed(md, path, sub);
		} else if (S_ISREG(st.st_mode)) {
			FILE *fp = fopen(path, "rb");
			char buf[65536];
			size_t r;

			assert_non_null(fp);
			while ((r = fread(buf, 1, sizeof(buf), fp)) > 0)
				gcry_md_write(md, buf, r);
			fclose(fp);
		}
		free(names[i]);
	}
	free(names);
}

static void
tree_hash(const char *dir, unsigned char out[32])
{
	gcry_md_hd_t md;

	assert_int_equal(gcry_md_open(&md, GCRY_MD_SHA256, 0), 0);
	tree_feed(md, dir, "");
	memcpy(out, gcry_md_read(md, GCRY_MD_SHA256), 32);
	gcry_md_close(md);
}

static int
count_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	int n = 0, c;

	if (fp == NULL)
		return 0;
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static char *
last_line(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[4096], *last = NULL;

	if (fp == NULL)
		return NULL;
	while (fgets(line, sizeof(line), fp) != NULL) {
		free(last);
		last = strdup(line);
	}
	fclose(fp);
	return last;
}

static int check_calls, check_fail;

static int
test_check(void *arg, const struct bdl_manifest *m, const char *dir,
    char **cause)
{
	char path[512];

	(void)arg;
	(void)m;
	check_calls++;
	/* The files are in place when the check runs. */
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (access(path, R_OK) != 0) {
		*cause = strdup("manifest.json not extracted before the check");
		return 1;
	}
	if (check_fail) {
		*cause = strdup("the test check says no");
		return 1;
	}
	return 0;
}

static const char *const quants[] = { "Q4_K_M", "Q8_0", "F32", NULL };

static int
cpu_has(const char *f)
{
	if (strcmp(f, "avx2") == 0)
		return 1;
	if (strcmp(f, "avx512f") == 0)
		return 0;
	return -1;
}

static void
opts_init(struct bdl_import_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->env.triage_version = "0.1.0";
	o->env.quants = quants;
	o->env.arch = "x86_64";
	o->env.mem_bytes = 8ULL << 30;
	o->env.cpu_has = cpu_has;
	o->check = test_check;
}

static int
import(const char *path, const struct bdl_import_opts *o,
    struct bdl_import_result *res, char **cause)
{
	struct bdl_store *s;
	int rc;

	*cause = NULL;
	if ((rc = bdl_store_open(STORE, AUDIT, BDL_STORE_CREATE, &s, cause)) < 0)
		return rc;
	rc = bdl_store_import(s, kr, path, o, res, cause);
	bdl_store_free(s);
	return rc;
}

static const char *
active_of(const char *name, char *buf, size_t cap)
{
	struct bdl_store *s;
	char *cause = NULL;
	int i;

	buf[0] = '\0';
	if (bdl_store_open(STORE, NULL, 0, &s, &cause) < 0)
		fail_msg("%s", cause);
	if ((i = bdl_store_find(s, name)) >= 0 && bdl_store_active(s,
	    (size_t)i) != NULL)
		snprintf(buf, cap, "%s", bdl_store_active(s, (size_t)i));
	bdl_store_free(s);
	return buf;
}

static int
store_problems(void)
{
	struct bdl_store *s;
	char *cause = NULL;
	int n;

	if (bdl_store_open(STORE, NULL, 0, &s, &cause) < 0)
		fail_msg("%s", cause);
	n = bdl_store_check(s, NULL, NULL, &cause);
	bdl_store_free(s);
	free(cause);
	return n;
}

/* ---- setup ----------------------------------------------------------------- */

static int
setup(void **state)
{
	char path[256], *cause = NULL;
	FILE *fp;

	(void)state;
	now = time(NULL);
	snprintf(T, sizeof(T), "/tmp/test-bundle-XXXXXX");
	if (mkdtemp(T) == NULL)
		return -1;
	snprintf(SIGNER, sizeof(SIGNER), "%s/signer", T);
	snprintf(DATA, sizeof(DATA), "%s/data", T);
	snprintf(STORE, sizeof(STORE), "%s/bundles", DATA);
	snprintf(AUDIT, sizeof(AUDIT), "%s/audit.log", DATA);
	snprintf(FIX, sizeof(FIX), "%s/fix", T);
	mkdir(SIGNER, 0700);
	mkdir(FIX, 0755);
	setenv("GNUPGHOME", SIGNER, 1);
	gcry_check_version(NULL);
	assert_int_equal(bdl_sha256_init(), 0);

	/* Keys: fast ed25519, except the deliberately weak RSA-2048 one;
	 * made "twenty days ago" so that signatures can be back-dated. */
	{
		static const char *const uids[] = {
		    "'Good Signer <good@example.com>' ed25519 sign",
		    "'Other Signer <other@example.com>' ed25519 sign",
		    "'Unknown Signer <unknown@example.com>' ed25519 sign",
		    "'Revoked Signer <revoked@example.com>' ed25519 sign",
		    "'Not Allowed <na@example.com>' ed25519 sign",
		    "'Weak Signer <weak@example.com>' rsa2048 sign",
		    /* a signing subkey under a certify-only primary */
		    "'Sub Signer <sub@example.com>' ed25519 cert",
		};

		for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++)
			assert_int_equal(sh(GPG " --faked-system-time %lld "
			    "--quick-gen-key %s never >/dev/null 2>&1", SIGNER,
			    (long long)(now - 20 * DAY), uids[i]), 0);
	}
	/* Made ten days ago, to be given an expiry in the past later. */
	assert_int_equal(sh(GPG " --faked-system-time %lld --quick-gen-key "
	    "'Expired Signer <expired@example.com>' ed25519 sign never "
	    ">/dev/null 2>&1", SIGNER, (long long)(now - 10 * DAY)), 0);
	fpr_of("good@example.com", fpr_good);
	fpr_of("other@example.com", fpr_other);
	fpr_of("unknown@example.com", fpr_unknown);
	fpr_of("revoked@example.com", fpr_revoked);
	fpr_of("na@example.com", fpr_notallowed);
	fpr_of("weak@example.com", fpr_weak);
	fpr_of("sub@example.com", fpr_sub);
	fpr_of("expired@example.com", fpr_expired);
	assert_int_equal(sh(GPG " --faked-system-time %lld --quick-add-key %s "
	    "ed25519 sign never >/dev/null 2>&1", SIGNER,
	    (long long)(now - 20 * DAY), fpr_sub), 0);

	if (bdl_keyring_open(DATA, &kr, &cause) < 0)
		fail_msg("%s", cause);
	import_key(fpr_good);
	import_key(fpr_other);
	import_key(fpr_revoked);
	import_key(fpr_notallowed);
	import_key(fpr_sub);
	import_key(fpr_expired);

	/* Signatures that must be made before the keys change. */
	free(good_bundle("revoked.tbundle", "site", "3.0.0", fpr_revoked, 0));
	free(good_bundle("expired-at-signing.tbundle", "exp", "1.0.0",
	    fpr_expired, now - DAY));
	free(good_bundle("expired-after-signing.tbundle", "exp2", "1.0.0",
	    fpr_expired, now - 9 * DAY));
	/* Now revoke one key and let the other expire eight days ago. */
	assert_int_equal(sh("sed 's/^:-----/-----/' %s/openpgp-revocs.d/%s.rev | "
	    GPG " --import >/dev/null 2>&1", SIGNER, fpr_revoked, SIGNER), 0);
	assert_int_equal(sh(GPG " --faked-system-time %lld --quick-set-expire "
	    "%s 1d >/dev/null 2>&1", SIGNER, (long long)(now - 9 * DAY),
	    fpr_expired), 0);
	import_key(fpr_revoked);
	import_key(fpr_expired);

	/* "Not allowed": in the keyring but taken off the allow-list by
	 * hand; the weak key is put in the keyring behind triage's back. */
	snprintf(path, sizeof(path), "%s/trusted-keys", DATA);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%s\n%s\n%s\n%s\n%s\n%s\n", fpr_good, fpr_other, fpr_revoked,
	    fpr_sub, fpr_expired, fpr_weak);
	fclose(fp);
	assert_int_equal(sh(GPG " --export %s | gpg --homedir %s/gnupg --batch "
	    "--quiet --import >/dev/null 2>&1", SIGNER, fpr_weak, DATA), 0);
	bdl_keyring_free(kr);
	if (bdl_keyring_open(DATA, &kr, &cause) < 0)
		fail_msg("%s", cause);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	bdl_keyring_free(kr);
	sh("gpgconf --homedir %s --kill all >/dev/null 2>&1", SIGNER);
	sh("gpgconf --homedir %s/gnupg --kill all >/dev/null 2>&1", DATA);
	if (getenv("TEST_BUNDLE_KEEP") == NULL)
		sh("rm -rf %s", T);
	return 0;
}

/* ---- unit tests: parsing ---------------------------------------------------- */

static void
test_version_cmp_orders_and_rejects_malformed(void **state)
{
	(void)state;
	assert_true(bdl_version_cmp("1.4.0", "1.5.0") < 0);
	assert_true(bdl_version_cmp("1.10.0", "1.9.9") > 0);
	assert_int_equal(bdl_version_cmp("2.0.0", "2.0.0"), 0);
	assert_int_equal(bdl_version_cmp("1.02.0", "1.0.0"), BDL_VERSION_BAD);
	assert_int_equal(bdl_version_cmp("1.0", "1.0.0"), BDL_VERSION_BAD);
	assert_int_equal(bdl_version_cmp("1.0.0-rc1", "1.0.0"), BDL_VERSION_BAD);
	assert_int_equal(bdl_version_cmp("1.0.0", "1.0.9999999999"),
	    BDL_VERSION_BAD);
}

static void
test_path_policy_rejects_unsafe_names(void **state)
{
	static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../b",
	    "a//b", "./a", "a/.", ".hidden", "-flag", "a\\b", "a b", "a/b/",
	    "\x1b[2J", NULL };

	(void)state;
	for (int i = 0; bad[i] != NULL; i++)
		if (bdl_path_problem(bad[i]) == NULL)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_null(bdl_path_problem("playbooks/disk-full.json"));
	assert_non_null(bdl_path_problem("a/b/c/d/e/f/g/h/i"));
}

static int
parse_fails(const char *json, const char *want)
{
	struct bdl_manifest *m = NULL;
	char *cause = NULL;
	int rc = bdl_manifest_parse(json, strlen(json), &m, &cause);

	if (rc == 0) {
		bdl_manifest_free(m);
		fail_msg("accepted: %s", json);
	}
	if (cause == NULL || strstr(cause, want) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause ? cause : "(null)",
		    want);
	free(cause);
	return rc;
}

#define SHA0 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEAD "{\"format\":1,\"name\":\"x\",\"kind\":\"playbooks\"," \
	"\"version\":\"1.0.0\",\"created\":\"2026-01-01T00:00:00Z\"," \
	"\"min_triage\":\"0.1.0\",\"changelog\":[],"
#define FILE1 "{\"path\":\"playbooks/a.json\",\"size\":1,\"sha256\":\"" SHA0 "\"}"

static void
test_manifest_parse_rejects_hostile_documents(void **state)
{
	struct bdl_manifest *m = NULL;
	char *cause = NULL;
	const char *ok = HEAD "\"files\":[" FILE1 "]}";

	(void)state;
	assert_int_equal(bdl_manifest_parse(ok, strlen(ok), &m, &cause), 0);
	assert_int_equal(bdl_manifest_nfiles(m), 1);
	bdl_manifest_free(m);
	parse_fails(HEAD "\"files\":[" FILE1 "],\"files\":[]}", "duplicate");
	parse_fails(HEAD "\"files\":[" FILE1 "],\"extra\":1}",
	    "unknown field \"extra\"");
	parse_fails("{\"format\":2,\"whatever\":true}", "unknown format 2");
	parse_fails(HEAD "\"files\":[" FILE1 "," FILE1 "]}", "listed twice");
	parse_fails(HEAD "\"files\":[" FILE1 ",{\"path\":\"playbooks/A.json\","
	    "\"size\":1,\"sha256\":\"" SHA0 "\"}]}", "ignoring case");
	parse_fails(HEAD "\"files\":[{\"path\":\"etc/passwd\",\"size\":1,"
	    "\"sha256\":\"" SHA0 "\"}]}", "is not playbooks/");
	parse_fails(HEAD "\"files\":[{\"path\":\"playbooks/a.json\",\"size\":-1,"
	    "\"sha256\":\"" SHA0 "\"}]}", "\"size\"");
	parse_fails(HEAD "\"files\":[{\"path\":\"playbooks/a.json\",\"size\":1,"
	    "\"sha256\":\"xyz\"}]}", "64 hex digits");
	parse_fails("{\"format\":1,\"name\":\"x\\u001b[31m\"}", "control "
	    "characters");
	parse_fails("{\"format\":1,\"name\":\"a\\u0000b\"}", "manifest.json");
	parse_fails(HEAD "\"files\":[" FILE1 "]} trailing", "manifest.json");
	parse_fails("{\"format\":1,\"name\":\"x\",\"kind\":\"model\","
	    "\"version\":\"1.0.0\",\"created\":\"2026-01-01T00:00:00Z\","
	    "\"min_triage\":\"0.1.0\",\"changelog\":[],\"files\":[{\"path\":"
	    "\"model/m.gguf\",\"size\":1,\"sha256\":\"" SHA0 "\"}]}",
	    "\"compat\" is missing");
	parse_fails("{\"format\":1,\"name\":\"x\",\"kind\":\"playbooks\","
	    "\"version\":\"1.0.0\",\"created\":\"2026-02-30T00:00:00Z\","
	    "\"min_triage\":\"0.1.0\",\"changelog\":[],\"files\":[" FILE1 "]}",
	    "created");
}

/* ---- the import path ---------------------------------------------------------- */

static void
test_import_good_bundle_installs_it(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path, *cause = NULL, buf[32], *line, file[512];
	unsigned char d[32];

	(void)state;
	opts_init(&o);
	/* The store's baseline for the corpus: site 2.0.0, signed an hour
	 * ago so that the corpus bundles (signed now) are newer. */
	path = good_bundle("site-2.0.0.tbundle", "site", "2.0.0", fpr_good,
	    now - 3600);
	check_calls = 0;
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(check_calls, 1);
	assert_string_equal(res.name, "site");
	assert_string_equal(res.version, "2.0.0");
	assert_string_equal(res.signer.fpr, fpr_good);
	assert_string_equal(active_of("site", buf, sizeof(buf)), "2.0.0");
	assert_int_equal(store_problems(), 0);
	/* The installed bytes are the signed ones, read-only. */
	snprintf(file, sizeof(file), "%s/versions/site/2.0.0/playbooks/a.json",
	    STORE);
	{
		struct stat st;
		FILE *fp = fopen(file, "rb");
		char got[256];
		size_t n;

		assert_non_null(fp);
		n = fread(got, 1, sizeof(got), fp);
		fclose(fp);
		assert_int_equal(n, strlen(PB_A));
		assert_memory_equal(got, PB_A, n);
		assert_int_equal(stat(file, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0444);
	}
	line = last_line(AUDIT);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"event\":\"import\""));
	assert_non_null(strstr(line, "\"result\":\"ok\""));
	assert_non_null(strstr(line, fpr_good));
	free(line);
	(void)d;
	free(path);
}

/* ---- the bad-bundle corpus ------------------------------------------------------ */

struct bad {
	const char	*name;
	int		 rc;
	const char	*want;		/* substring of the message */
	void		(*make)(const char *path);
	void		(*tweak)(struct bdl_import_opts *);
};

static char *
fix_path(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", FIX, name) >= 0);
	return p;
}

/* Write a playbooks bundle with the given entries and manifest files. */
static void
custom(const char *path, const struct mopts *mo, const struct mf *mf,
    size_t nmf, const struct ent *e, size_t ne, int filter, const char *fpr)
{
	char *m = manifest(mo, mf, nmf);
	struct ent all[16];

	all[0] = (struct ent){ "manifest.json", E_FILE, m, -1, NULL, 0 };
	memcpy(all + 1, e, ne * sizeof(*e));
	write_tar(path, filter, all, ne + 1);
	if (fpr != NULL)
		sign(path, fpr, 0, NULL);
	free(m);
}

static const struct mopts MO3 = { .name = "site", .version = "3.0.0" };
static const struct mf MF_A[] = { { "playbooks/a.json", PB_A, -1, NULL } };
static const struct ent E_A[] = { { "playbooks/a.json", E_FILE, PB_A, -1,
	NULL, 0 } };

static void
flip(const char *path, long where)
{
	FILE *fp = fopen(path, "r+b");
	long size;
	int c;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	if (where < 0)
		where = size + where;
	fseek(fp, where, SEEK_SET);
	c = fgetc(fp);
	fseek(fp, where, SEEK_SET);
	fputc(c ^ 0x20, fp);
	fclose(fp);
}

static void mk_tamper_head(const char *p) { free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_good, 0)); flip(p, 10); }
static void mk_tamper_mid(const char *p) { free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_good, 0)); flip(p, 200); }
static void mk_tamper_tail(const char *p) { free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_good, 0)); flip(p, -1); }

static void
mk_nosig(const char *p)
{
	free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", NULL, 0));
}

static void
mk_emptysig(const char *p)
{
	mk_nosig(p);
	sh(": >%s.sig", p);
}

static void
mk_garbagesig(const char *p)
{
	mk_nosig(p);
	sh("head -c 300 /dev/urandom >%s.sig", p);
}

static void
mk_clearsigned(const char *p)
{
	/* A signed message in place of a detached signature (S09). */
	mk_nosig(p);
	sh("echo hello | " GPG " -u %s --sign >%s.sig 2>/dev/null", SIGNER,
	    fpr_good, p);
}

static void mk_unknown(const char *p) { free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_unknown, 0)); }
static void mk_notallowed(const char *p) { free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_notallowed, 0)); }
static void mk_weak(const char *p) { free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_weak, 0)); }

static void
mk_sha1(const char *p)
{
	mk_nosig(p);
	sign(p, fpr_good, 0, "--digest-algo SHA1");
}

static void
mk_revoked(const char *p)
{
	sh("cp %s/revoked.tbundle %s && cp %s/revoked.tbundle.sig %s.sig", FIX,
	    p, FIX, p);
}

static void
mk_expired(const char *p)
{
	sh("cp %s/expired-at-signing.tbundle %s && "
	    "cp %s/expired-at-signing.tbundle.sig %s.sig", FIX, p, FIX, p);
}

static void
mk_othersig(const char *p)
{
	char *other = fix_path("other-file");

	mk_nosig(p);
	sh("echo other content >%s", other);
	sign(other, fpr_good, 0, NULL);
	sh("cp %s.sig %s.sig", other, p);
	free(other);
}

static void
mk_onebad(const char *p)
{
	char *other = fix_path("other-file2");

	free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_good, 0));
	sh("echo other content >%s", other);
	sign(other, fpr_other, 0, NULL);
	sh("cat %s.sig >>%s.sig", other, p);
	free(other);
}

static void
mk_hash(const char *p)
{
	static const struct mf mf[] = { { "playbooks/a.json", PB_A, -1, SHA0 } };

	custom(p, &MO3, mf, 1, E_A, 1, 'z', fpr_good);
}

static void
mk_smaller(const char *p)
{
	static const struct mf mf[] = { { "playbooks/a.json", PB_A, 1000, NULL } };

	custom(p, &MO3, mf, 1, E_A, 1, 'z', fpr_good);
}

static void
mk_notlisted(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 },
		{ "playbooks/extra.json", E_FILE, PB_B, -1, NULL, 0 } };

	custom(p, &MO3, MF_A, 1, e, 2, 'z', fpr_good);
}

static void
mk_missing(const char *p)
{
	static const struct mf mf[] = { { "playbooks/a.json", PB_A, -1, NULL },
	    { "playbooks/b.json", PB_B, -1, NULL } };

	custom(p, &MO3, mf, 2, E_A, 1, 'z', fpr_good);
}

static void
mk_traversal(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/../../../evil.json", E_FILE, PB_A, -1, NULL, 0 } };

	custom(p, &MO3, MF_A, 1, e, 1, 0, fpr_good);
}

static void
mk_absolute(const char *p)
{
	static const struct ent e[] = {
		{ "/tmp/evil.json", E_FILE, PB_A, -1, NULL, 0 } };

	custom(p, &MO3, MF_A, 1, e, 1, 0, fpr_good);
}

static void
mk_symlink(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_SYMLINK, NULL, 0, "/etc/passwd", 0 } };

	custom(p, &MO3, MF_A, 1, e, 1, 'z', fpr_good);
}

static void
mk_hardlink(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 },
		{ "playbooks/b.json", E_HARDLINK, NULL, 0, "playbooks/a.json",
		    0 } };
	static const struct mf mf[] = { { "playbooks/a.json", PB_A, -1, NULL },
	    { "playbooks/b.json", PB_A, -1, NULL } };

	custom(p, &MO3, mf, 2, e, 2, 'z', fpr_good);
}

static void
mk_device(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_CHR, NULL, 0, NULL, 0 } };

	custom(p, &MO3, MF_A, 1, e, 1, 'z', fpr_good);
}

static void
mk_fifo(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_FIFO, NULL, 0, NULL, 0 } };

	custom(p, &MO3, MF_A, 1, e, 1, 'z', fpr_good);
}

static void
mk_duplicate(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 },
		{ "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 } };

	custom(p, &MO3, MF_A, 1, e, 2, 'z', fpr_good);
}

static void
mk_bomb(const char *p)
{
	/* 1 GiB of zeros that zstd squeezes into some 30 KiB, where the
	 * manifest promises 33 bytes. */
	static const struct ent e[] = {
		{ "playbooks/a.json", E_FILE, NULL, 0, NULL, 1LL << 30 } };

	custom(p, &MO3, MF_A, 1, e, 1, 'z', fpr_good);
}

static void
mk_truncated(const char *p)
{
	static const struct ent e[] = {
		{ "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 },
		{ "playbooks/b.json", E_FILE, NULL, 0, NULL, 200000 } };
	static char zeros[200001];
	static const struct mf mf0[1];
	struct mf mf[2] = { { "playbooks/a.json", PB_A, -1, NULL },
	    { "playbooks/b.json", zeros, 200000, NULL } };

	(void)mf0;
	memset(zeros, 0, sizeof(zeros));
	/* The manifest's hash of b is of "" here; it never gets that far. */
	custom(p, &MO3, mf, 2, e, 2, 0, NULL);
	assert_int_equal(truncate(p, 100000), 0);
	sign(p, fpr_good, 0, NULL);
}

static void
mk_garbage_zstd(const char *p)
{
	FILE *fp = fopen(p, "wb");
	static const unsigned char magic[] = { 0x28, 0xb5, 0x2f, 0xfd };

	assert_non_null(fp);
	fwrite(magic, 1, 4, fp);
	for (int i = 0; i < 4000; i++)
		fputc((i * 7919) & 0xff, fp);
	fclose(fp);
	sign(p, fpr_good, 0, NULL);
}

static void
mk_notar(const char *p)
{
	sh("echo 'this is not an archive' | gzip >%s", p);
	sign(p, fpr_good, 0, NULL);
}

static void
mk_badjson(const char *p)
{
	static const struct ent e[] = {
		{ "manifest.json", E_FILE, "{\"format\": 1, \"name\": ", -1, NULL,
		    0 } };

	write_tar(p, 'z', e, 1);
	sign(p, fpr_good, 0, NULL);
}

static void
mk_format2(const char *p)
{
	struct mopts mo = MO3;

	mo.format = 2;
	custom(p, &mo, MF_A, 1, E_A, 1, 'z', fpr_good);
}

static void
mk_notfirst(const char *p)
{
	char *m = manifest(&MO3, MF_A, 1);
	struct ent e[] = { { "playbooks/a.json", E_FILE, PB_A, -1, NULL, 0 },
	    { "manifest.json", E_FILE, m, -1, NULL, 0 } };

	write_tar(p, 'z', e, 2);
	sign(p, fpr_good, 0, NULL);
	free(m);
}

static void
mk_bigmanifest(const char *p)
{
	static const struct ent e[] = {
		{ "manifest.json", E_FILE, NULL, 0, NULL, 10 << 20 } };

	write_tar(p, 'z', e, 1);
	sign(p, fpr_good, 0, NULL);
}

static void
mk_downgrade(const char *p)
{
	free(good_bundle(strrchr(p, '/') + 1, "site", "1.9.0", fpr_good, 0));
}

static void
mk_replay(const char *p)
{
	/* Newer version number, but signed before the installed 2.0.0. */
	free(good_bundle(strrchr(p, '/') + 1, "site", "4.0.0", fpr_good,
	    now - 7200));
}

static void
mk_newer_triage(const char *p)
{
	struct mopts mo = MO3;

	mo.min_triage = "9.0.0";
	custom(p, &mo, MF_A, 1, E_A, 1, 'z', fpr_good);
}

#define COMPAT(arch, cpu, quant, mem) "\"compat\":{\"arch\":\"" arch "\"," \
	"\"cpu_features\":[" cpu "],\"quant\":\"" quant "\",\"mem_bytes\":" \
	mem ",\"n_ctx\":2048},\"models\":[{\"file\":\"model/m.gguf\"," \
	"\"license\":\"MIT\",\"provenance\":\"made by a test\"}],"

static void
model_bundle(const char *p, const char *extra)
{
	static const char GG[] = "GGUF not really a model";
	struct mopts mo = { .name = "llm", .version = "1.0.0", .kind = "model",
	    .extra = extra };
	struct mf mf[] = { { "model/m.gguf", GG, -1, NULL } };
	struct ent e[] = { { "model/m.gguf", E_FILE, GG, -1, NULL, 0 } };

	custom(p, &mo, mf, 1, e, 1, 0, fpr_good);
}

static void mk_cpu(const char *p) { model_bundle(p, COMPAT("x86_64", "\"avx2\",\"avx512f\"", "Q4_K_M", "1000")); }
static void mk_cpu_unknown(const char *p) { model_bundle(p, COMPAT("x86_64", "\"warp-drive\"", "Q4_K_M", "1000")); }
static void mk_quant(const char *p) { model_bundle(p, COMPAT("x86_64", "", "Q3_K_S", "1000")); }
static void mk_arch(const char *p) { model_bundle(p, COMPAT("riscv64", "", "Q4_K_M", "1000")); }
static void mk_memory(const char *p) { model_bundle(p, COMPAT("x86_64", "", "Q4_K_M", "1099511627776")); }

static void
mk_selfcheck(const char *p)
{
	free(good_bundle(strrchr(p, '/') + 1, "site", "3.0.0", fpr_good, 0));
}

static void
tweak_fail_check(struct bdl_import_opts *o)
{
	(void)o;
	check_fail = 1;
}

static void
mk_symlinked_bundle(const char *p)
{
	char *real = fix_path("real.tbundle");

	free(good_bundle("real.tbundle", "site", "3.0.0", fpr_good, 0));
	sh("ln -sf %s %s && cp %s.sig %s.sig", real, p, real, p);
	free(real);
}

static void
mk_fifo_bundle(const char *p)
{
	assert_int_equal(mkfifo(p, 0644), 0);
	sh(": >%s.sig", p);
}

/* ---- hand-built tar layouts libarchive reads without a word ------------------------ */

/* One 512-byte tar header; gnu: GNU magic ("ustar  "), else POSIX ustar. */
static void
raw_hdr(FILE *fp, const char *name, size_t size, char type, int gnu)
{
	unsigned char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011lo", (unsigned long)size & 077777777777UL);
	snprintf((char *)h + 136, 12, "%011o", 1700000000);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (gnu)
		memcpy(h + 257, "ustar  ", 8);
	else
		memcpy(h + 257, "ustar\00000", 8);
	if (gnu && type == 'S')		/* realsize: the map itself is empty */
		snprintf((char *)h + 483, 12, "%011lo",
		    (unsigned long)size & 077777777777UL);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	assert_int_equal(fwrite(h, 1, sizeof(h), fp), sizeof(h));
}

static void
raw_data(FILE *fp, const char *d, size_t n)
{
	static const char zero[512];

	assert_int_equal(fwrite(d, 1, n, fp), n);
	if (n % 512 != 0)
		assert_int_equal(fwrite(zero, 1, 512 - n % 512, fp), 512 - n % 512);
}

enum raw_twist { RAW_PLAIN, RAW_PAX_GLOBAL, RAW_VOLUME, RAW_SPARSE,
	RAW_TRAILING, RAW_PAX_THEN_GLOBAL };

/* The good two-playbook bundle, written by hand with one twist, signed. */
static void
raw_bundle(const char *path, enum raw_twist tw, const char *name)
{
	struct mopts mo = { .name = name, .version = "3.0.0" };
	struct mf f[] = { { "playbooks/a.json", PB_A, -1, NULL },
	    { "playbooks/b.json", PB_B, -1, NULL } };
	static const char glob[] = "20 comment=innocent\n";
	static const char pax[] = "17 mtime=1700000\n";
	static const char zero[10240];
	char *m = manifest(&mo, f, 2);
	FILE *fp = fopen(path, "wb");
	long end;

	assert_non_null(fp);
	if (tw == RAW_PAX_GLOBAL) {
		raw_hdr(fp, "pax_global_header", strlen(glob), 'g', 0);
		raw_data(fp, glob, strlen(glob));
	}
	if (tw == RAW_PAX_THEN_GLOBAL) {
		raw_hdr(fp, "PaxHeaders/manifest.json", strlen(pax), 'x', 0);
		raw_data(fp, pax, strlen(pax));
		raw_hdr(fp, "pax_global_header", strlen(glob), 'g', 0);
		raw_data(fp, glob, strlen(glob));
	}
	if (tw == RAW_VOLUME)
		raw_hdr(fp, "SITE-VOLUME-1", 0, 'V', 1);
	raw_hdr(fp, "manifest.json", strlen(m), '0', tw == RAW_VOLUME ||
	    tw == RAW_SPARSE);
	raw_data(fp, m, strlen(m));
	raw_hdr(fp, "playbooks/", 0, '5', 0);
	raw_hdr(fp, "playbooks/a.json", strlen(PB_A), tw == RAW_SPARSE ? 'S' :
	    '0', tw == RAW_SPARSE);
	raw_data(fp, PB_A, strlen(PB_A));
	raw_hdr(fp, "playbooks/b.json", strlen(PB_B), '0', 0);
	raw_data(fp, PB_B, strlen(PB_B));
	/* End marker and padding to a 10 KiB record, as GNU tar writes. */
	end = ftell(fp);
	assert_int_equal(fwrite(zero, 1, (size_t)(10240 - end % 10240), fp),
	    (size_t)(10240 - end % 10240));
	if (tw == RAW_TRAILING)
		fputs("trailing bytes after the end of the archive\n", fp);
	assert_int_equal(fclose(fp), 0);
	sign(path, fpr_good, 0, NULL);
	free(m);
}

static void mk_raw_global(const char *p) { raw_bundle(p, RAW_PAX_GLOBAL, "site"); }
static void mk_raw_pax_global(const char *p) { raw_bundle(p, RAW_PAX_THEN_GLOBAL, "site"); }
static void mk_raw_volume(const char *p) { raw_bundle(p, RAW_VOLUME, "site"); }
static void mk_raw_sparse(const char *p) { raw_bundle(p, RAW_SPARSE, "site"); }
static void mk_raw_trailing(const char *p) { raw_bundle(p, RAW_TRAILING, "site"); }

static void
test_hand_written_tar_is_read(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *cause = NULL, *p = fix_path("raw-plain.tbundle");

	/* The control: the same hand-made layout without a twist (the
	 * padding to a 10 KiB record included) is installed. */
	(void)state;
	raw_bundle(p, RAW_PLAIN, "rawctl");
	opts_init(&o);
	if (import(p, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	free(p);
}


static const struct bad corpus[] = {
	{ "tampered-byte-10", BDL_ESIG, "bad signature", mk_tamper_head, NULL },
	{ "tampered-byte-200", BDL_ESIG, "bad signature", mk_tamper_mid, NULL },
	{ "tampered-last-byte", BDL_ESIG, "bad signature", mk_tamper_tail, NULL },
	{ "missing-signature", BDL_ESIG, "does not exist", mk_nosig, NULL },
	{ "empty-signature", BDL_ESIG, "is empty", mk_emptysig, NULL },
	{ "garbage-signature", BDL_ESIG, "not a detached signature",
	    mk_garbagesig, NULL },
	{ "signed-message-as-sig", BDL_ESIG, "", mk_clearsigned, NULL },
	{ "unknown-key", BDL_ESIG, "not in triage's keyring", mk_unknown, NULL },
	{ "key-not-allowed", BDL_ESIG, "not allowed", mk_notallowed, NULL },
	{ "expired-key", BDL_ESIG, "had expired", mk_expired, NULL },
	{ "revoked-key", BDL_ESIG, "revoked", mk_revoked, NULL },
	{ "weak-rsa2048-key", BDL_ESIG, "weak key", mk_weak, NULL },
	{ "sha1-digest", BDL_ESIG, "digest SHA1", mk_sha1, NULL },
	{ "signature-of-other-file", BDL_ESIG, "bad signature", mk_othersig,
	    NULL },
	{ "one-good-one-bad-sig", BDL_ESIG, "bad signature", mk_onebad, NULL },
	{ "manifest-hash-mismatch", BDL_EFORMAT, "SHA-256", mk_hash, NULL },
	{ "size-mismatch", BDL_EFORMAT, "fewer than", mk_smaller, NULL },
	{ "file-not-in-manifest", BDL_EFORMAT, "not in the manifest",
	    mk_notlisted, NULL },
	{ "file-missing", BDL_EFORMAT, "missing from the archive", mk_missing,
	    NULL },
	{ "path-traversal", BDL_EFORMAT, "'..' component", mk_traversal, NULL },
	{ "absolute-path", BDL_EFORMAT, "absolute path", mk_absolute, NULL },
	{ "symlink", BDL_EFORMAT, "symbolic link", mk_symlink, NULL },
	{ "hardlink", BDL_EFORMAT, "hard link", mk_hardlink, NULL },
	{ "device-node", BDL_EFORMAT, "device node", mk_device, NULL },
	{ "fifo-entry", BDL_EFORMAT, "FIFO", mk_fifo, NULL },
	{ "duplicate-entry", BDL_EFORMAT, "duplicate entry", mk_duplicate, NULL },
	{ "decompression-bomb", BDL_EFORMAT, "more than the", mk_bomb, NULL },
	{ "truncated-archive", BDL_EFORMAT, "", mk_truncated, NULL },
	{ "garbage-compression", BDL_EFORMAT, "", mk_garbage_zstd, NULL },
	{ "not-a-tar", BDL_EFORMAT, "", mk_notar, NULL },
	{ "malformed-manifest-json", BDL_EFORMAT, "manifest.json: line",
	    mk_badjson, NULL },
	{ "unknown-format-version", BDL_EFORMAT, "unknown format 2", mk_format2,
	    NULL },
	{ "manifest-not-first", BDL_EFORMAT, "first entry must be",
	    mk_notfirst, NULL },
	{ "oversized-manifest", BDL_EFORMAT, "more than the 262144",
	    mk_bigmanifest, NULL },
	{ "downgrade", BDL_EREFUSED, "older than the installed", mk_downgrade,
	    NULL },
	{ "replayed-older-signature", BDL_EREFUSED, "possible replay",
	    mk_replay, NULL },
	{ "newer-min-triage", BDL_EREFUSED, "needs triage 9.0.0", mk_newer_triage,
	    NULL },
	{ "cpu-feature-missing", BDL_EREFUSED, "this CPU lacks", mk_cpu, NULL },
	{ "cpu-feature-unknown", BDL_EREFUSED, "does not know", mk_cpu_unknown,
	    NULL },
	{ "quantization", BDL_EREFUSED, "quantization Q3_K_S", mk_quant, NULL },
	{ "architecture", BDL_EREFUSED, "built for riscv64", mk_arch, NULL },
	{ "memory", BDL_EREFUSED, "GiB of memory", mk_memory, NULL },
	{ "self-check-fails", BDL_ECHECK, "the test check says no",
	    mk_selfcheck, tweak_fail_check },
	{ "bundle-is-symlink", BDL_EFORMAT, "symbolic link", mk_symlinked_bundle,
	    NULL },
	{ "bundle-is-fifo", BDL_EFORMAT, "not a regular file", mk_fifo_bundle, NULL },
	{ "pax-global-before-manifest", BDL_EFORMAT, "pax global header",
	    mk_raw_global, NULL },
	{ "pax-then-global-before-manifest", BDL_EFORMAT, "pax global header",
	    mk_raw_pax_global, NULL },
	{ "gnu-volume-header", BDL_EFORMAT, "volume header", mk_raw_volume, NULL },
	{ "gnu-sparse-empty-map", BDL_EFORMAT, "sparse", mk_raw_sparse, NULL },
	{ "trailing-data", BDL_EFORMAT, "after the end of the archive",
	    mk_raw_trailing, NULL },
};

static void
test_bad_bundle_corpus_refused_store_unchanged(void **state)
{
	unsigned char before[32], after[32];
	size_t n = sizeof(corpus) / sizeof(corpus[0]), distinct = 0;
	char *msgs[64];

	(void)state;
	assert_true(n >= 25);
	tree_hash(STORE, before);
	for (size_t i = 0; i < n; i++) {
		const struct bad *c = &corpus[i];
		struct bdl_import_opts o;
		struct bdl_import_result res;
		char name[128], *path, *cause = NULL, *line;
		int lines = count_lines(AUDIT), rc;
		struct timespec t0, t1;

		snprintf(name, sizeof(name), "%s.tbundle", c->name);
		path = fix_path(name);
		c->make(path);
		opts_init(&o);
		check_fail = 0;
		if (c->tweak != NULL)
			c->tweak(&o);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = import(path, &o, &res, &cause);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		check_fail = 0;
		printf("  %-26s %s\n", c->name, cause != NULL ? cause : "(none)");
		if (rc != c->rc)
			fail_msg("%s: rc %d (%s), expected %d", c->name, rc,
			    cause ? cause : "", c->rc);
		if (cause == NULL || strstr(cause, c->want) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"", c->name,
			    cause ? cause : "", c->want);
		/* Nothing in the store changed, not even a directory. */
		tree_hash(STORE, after);
		if (memcmp(before, after, 32) != 0)
			fail_msg("%s: the store changed", c->name);
		/* The refusal is on record. */
		assert_int_equal(count_lines(AUDIT), lines + 1);
		line = last_line(AUDIT);
		assert_non_null(strstr(line, "\"result\":\"refused\""));
		free(line);
		/* Refused early: the bomb is never decompressed. */
		if ((t1.tv_sec - t0.tv_sec) > 5)
			fail_msg("%s: took %ld s", c->name,
			    (long)(t1.tv_sec - t0.tv_sec));
		/* Each case has its own message. */
		for (size_t j = 0; j < distinct; j++)
			if (strcmp(msgs[j], cause) == 0)
				fail_msg("%s: same message as an earlier case: %s",
				    c->name, cause);
		msgs[distinct++] = cause;
		free(path);
	}
	for (size_t j = 0; j < distinct; j++)
		free(msgs[j]);
	printf("  %zu bad bundles refused, store unchanged\n", n);
}

/* ---- accepted signatures ------------------------------------------------------- */

static void
test_accepts_signature_by_signing_subkey(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path, *cause = NULL, subfpr[65] = "", cmd[512], line[512];
	FILE *fp;

	(void)state;
	/* The subkey's own fingerprint: sign with it explicitly ("FPR!"). */
	snprintf(cmd, sizeof(cmd), "gpg --homedir %s --with-colons "
	    "--list-keys %s 2>/dev/null", SIGNER, fpr_sub);
	fp = popen(cmd, "r");
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "fpr:", 4) == 0) {
			char *f = line + 12;

			f[strcspn(f, ":")] = '\0';
			snprintf(subfpr, sizeof(subfpr), "%.64s", f);
		}
	pclose(fp);
	assert_int_equal(strlen(subfpr), 40);
	assert_string_not_equal(subfpr, fpr_sub);
	path = fix_path("sub.tbundle");
	free(good_bundle("sub.tbundle", "subsigned", "1.0.0", NULL, 0));
	snprintf(cmd, sizeof(cmd), "%s!", subfpr);
	sign(path, cmd, 0, NULL);
	opts_init(&o);
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	/* The signer is named by the primary key, which is the one allowed. */
	assert_string_equal(res.signer.fpr, fpr_sub);
	free(path);
}

static void
test_accepts_key_that_expired_after_signing(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path = fix_path("expired-after-signing.tbundle"), *cause = NULL;

	(void)state;
	opts_init(&o);
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(res.signer.fpr, fpr_expired);
	free(path);
}

static int notes;

static void
count_note(void *arg, const char *line)
{
	(void)arg;
	if (strstr(line, "in the future") != NULL)
		notes++;
}

static void
test_future_signature_is_a_note_not_a_failure(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path, *cause = NULL;

	(void)state;
	path = good_bundle("future.tbundle", "future", "1.0.0", fpr_good,
	    now + 30 * DAY);
	opts_init(&o);
	o.note = count_note;
	notes = 0;
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(notes, 1);
	free(path);
}

/* ---- keys -------------------------------------------------------------------- */

static void
test_keys_add_refuses_weak_revoked_and_secret_keys(void **state)
{
	struct bdl_keyfile *kf = NULL;
	char path[256], *cause = NULL, fresh[65];
	struct bdl_keyinfo *keys = NULL;
	size_t n = 0;
	int found = 0;

	(void)state;
	/* A new weak key is refused whole. */
	sh(GPG " --quick-gen-key 'Weak Two <weak2@example.com>' rsa2048 sign "
	    "never >/dev/null 2>&1", SIGNER);
	fpr_of("weak2@example.com", fresh);
	snprintf(path, sizeof(path), "%s/weak2.pub", T);
	sh(GPG " --export %s >%s", SIGNER, fresh, path);
	assert_int_equal(bdl_keyfile_read(kr, path, &kf, &cause), 0);
	assert_int_equal(bdl_keyfile_count(kf), 1);
	assert_true(bdl_keyfile_key(kf, 0)->weak);
	assert_int_equal(bdl_keyring_import(kr, kf, &cause), BDL_EREFUSED);
	assert_non_null(strstr(cause, "weak"));
	free(cause);
	cause = NULL;
	bdl_keyfile_free(kf);
	/* A secret key file is refused. */
	snprintf(path, sizeof(path), "%s/secret.key", T);
	sh(GPG " --export-secret-keys %s >%s 2>/dev/null", SIGNER, fpr_good,
	    path);
	if (bdl_keyfile_read(kr, path, &kf, &cause) == 0) {
		assert_int_equal(bdl_keyring_import(kr, kf, &cause),
		    BDL_EREFUSED);
		assert_non_null(strstr(cause, "secret"));
		bdl_keyfile_free(kf);
	}
	free(cause);
	cause = NULL;
	/* Not a key at all. */
	snprintf(path, sizeof(path), "%s/not-a-key", T);
	sh("echo hello >%s", path);
	assert_int_equal(bdl_keyfile_read(kr, path, &kf, &cause), BDL_EFORMAT);
	free(cause);
	cause = NULL;
	/* The revoked key shows as revoked and not allowed-for-use. */
	assert_int_equal(bdl_keyring_list(kr, &keys, &n, &cause), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].fpr, fpr_revoked) == 0) {
			assert_true(keys[i].revoked);
			found = 1;
		}
	assert_true(found);
	free(keys);
}

static void
test_keyring_and_staging_must_be_private(void **state)
{
	struct bdl_keyring *k2 = NULL;
	struct bdl_bundle *b = NULL;
	char home[256], stage[256], *cause = NULL, *path;

	(void)state;
	snprintf(home, sizeof(home), "%s/gnupg", DATA);
	assert_int_equal(chmod(home, 0775), 0);
	assert_int_equal(bdl_keyring_open(DATA, &k2, &cause), BDL_EIO);
	assert_non_null(strstr(cause, "mode 0700"));
	free(cause);
	cause = NULL;
	assert_int_equal(chmod(home, 0700), 0);
	/* A staging directory others can enter is refused too. */
	snprintf(stage, sizeof(stage), "%s/open-stage", T);
	assert_int_equal(mkdir(stage, 0755), 0);
	path = good_bundle("stage.tbundle", "stage", "1.0.0", fpr_good, 0);
	assert_int_equal(bdl_bundle_open(path, stage, NULL, NULL, &b, &cause),
	    BDL_EIO);
	assert_non_null(strstr(cause, "not private"));
	free(cause);
	free(path);
}

static void
test_keys_remove_untrusts_and_deletes(void **state)
{
	struct bdl_keyinfo *keys = NULL;
	char *cause = NULL, *path;
	struct bdl_import_opts o;
	struct bdl_import_result res;
	size_t n = 0;

	(void)state;
	assert_int_equal(bdl_keyring_remove(kr, fpr_other, &cause), 0);
	assert_int_equal(bdl_keyring_list(kr, &keys, &n, &cause), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(keys[i].fpr, fpr_other);
	free(keys);
	assert_int_equal(bdl_keyring_remove(kr, fpr_other, &cause), BDL_ENOENT);
	free(cause);
	cause = NULL;
	assert_int_equal(bdl_keyring_remove(kr, "12AB", &cause), BDL_EINVAL);
	free(cause);
	cause = NULL;
	/* Its signatures now count for nothing. */
	path = good_bundle("by-other.tbundle", "byother", "1.0.0", fpr_other, 0);
	opts_init(&o);
	assert_int_equal(import(path, &o, &res, &cause), BDL_ESIG);
	free(cause);
	free(path);
	import_key(fpr_other);
}

/* ---- store: versions, GC, rollback, downgrade ------------------------------------ */

static void
test_gc_keeps_active_lkg_and_one_older(void **state)
{
	static const char *const v[] = { "1.0.0", "1.1.0", "1.2.0", "1.3.0",
	    "1.4.0" };
	struct bdl_import_opts o;
	struct bdl_import_result res;
	struct bdl_store *s;
	char *cause = NULL, name[64], dir[512];
	struct stat st;
	int i;

	(void)state;
	opts_init(&o);
	for (size_t k = 0; k < 5; k++) {
		char *p;

		snprintf(name, sizeof(name), "gc-%s.tbundle", v[k]);
		p = good_bundle(name, "gc", v[k], fpr_good, now + (time_t)k);
		if (import(p, &o, &res, &cause) != 0)
			fail_msg("%s", cause);
		if (k > 0)
			assert_string_equal(res.previous, v[k - 1]);
		free(p);
	}
	assert_int_equal(bdl_store_open(STORE, NULL, 0, &s, &cause), 0);
	i = bdl_store_find(s, "gc");
	assert_true(i >= 0);
	assert_string_equal(bdl_store_active(s, (size_t)i), "1.4.0");
	assert_string_equal(bdl_store_lkg(s, (size_t)i), "1.3.0");
	assert_int_equal(bdl_store_nversions(s, (size_t)i), 3);
	assert_string_equal(bdl_store_version(s, (size_t)i, 0, NULL, NULL, NULL,
	    NULL), "1.2.0");
	bdl_store_free(s);
	for (size_t k = 0; k < 5; k++) {
		snprintf(dir, sizeof(dir), "%s/versions/gc/%s", STORE, v[k]);
		assert_int_equal(stat(dir, &st) == 0, k >= 2);
	}
	assert_int_equal(store_problems(), 0);
}

static void
test_rollback_switches_to_lkg_and_marks_bad(void **state)
{
	struct bdl_store *s;
	char *cause = NULL, buf[32], *line;
	bool bad;
	int i;

	(void)state;
	assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s, &cause), 0);
	assert_int_equal(bdl_store_rollback(s, "gc", NULL, "test", &cause), 0);
	i = bdl_store_find(s, "gc");
	assert_string_equal(bdl_store_active(s, (size_t)i), "1.3.0");
	/* The next fallback is the older kept version, not the bad one. */
	assert_string_equal(bdl_store_lkg(s, (size_t)i), "1.2.0");
	for (size_t j = 0; j < bdl_store_nversions(s, (size_t)i); j++)
		if (strcmp(bdl_store_version(s, (size_t)i, j, NULL, NULL, NULL,
		    &bad), "1.4.0") == 0)
			assert_true(bad);
	line = last_line(AUDIT);
	assert_non_null(strstr(line, "\"event\":\"rollback\""));
	assert_non_null(strstr(line, "from 1.4.0"));
	free(line);
	/* Twice: 1.2.0.  Then nothing is left to roll back to. */
	assert_int_equal(bdl_store_rollback(s, "gc", NULL, NULL, &cause), 0);
	assert_int_equal(bdl_store_rollback(s, "gc", NULL, NULL, &cause),
	    BDL_EREFUSED);
	assert_non_null(strstr(cause, "no last-known-good"));
	free(cause);
	cause = NULL;
	assert_int_equal(bdl_store_rollback(s, "nope", NULL, NULL, &cause),
	    BDL_ENOENT);
	free(cause);
	bdl_store_free(s);
	assert_string_equal(active_of("gc", buf, sizeof(buf)), "1.2.0");
	assert_int_equal(store_problems(), 0);
}

static void
test_rollback_refuses_damaged_lkg(void **state)
{
	struct bdl_store *s;
	char *cause = NULL, file[512], *p, name[64];
	struct bdl_import_opts o;
	struct bdl_import_result res;
	FILE *fp;

	(void)state;
	opts_init(&o);
	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "dmg-%d.tbundle", k);
		p = good_bundle(name, "dmg", k ? "1.1.0" : "1.0.0", fpr_good,
		    now + k);
		if (import(p, &o, &res, &cause) != 0)
			fail_msg("%s", cause);
		free(p);
	}
	/* Damage the last-known-good copy on disk (I11). */
	snprintf(file, sizeof(file), "%s/versions/dmg/1.0.0/playbooks/a.json",
	    STORE);
	chmod(file, 0644);
	fp = fopen(file, "w");
	fputs("tampered", fp);
	fclose(fp);
	assert_true(store_problems() > 0);
	assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s, &cause), 0);
	assert_int_equal(bdl_store_rollback(s, "dmg", NULL, NULL, &cause),
	    BDL_EREFUSED);
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
	cause = NULL;
	assert_int_equal(bdl_store_remove(s, "dmg", &cause), 0);
	bdl_store_free(s);
	assert_int_equal(store_problems(), 0);
}

static void
test_rollback_names_an_extra_file_in_lkg(void **state)
{
	struct bdl_store *s;
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *cause = NULL, link[512], name[64], *p, *line;

	(void)state;
	opts_init(&o);
	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "sym-%d.tbundle", k);
		p = good_bundle(name, "sym", k ? "1.1.0" : "1.0.0", fpr_good,
		    now + k);
		if (import(p, &o, &res, &cause) != 0)
			fail_msg("%s", cause);
		free(p);
	}
	/* Something put a symlink into the last-known-good version. */
	snprintf(link, sizeof(link), "%s/versions/sym/1.0.0/playbooks/evil.json",
	    STORE);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s, &cause), 0);
	assert_int_equal(bdl_store_rollback(s, "sym", NULL, NULL, &cause),
	    BDL_EREFUSED);
	assert_null(strstr(cause, "?"));
	assert_non_null(strstr(cause, "playbooks/evil.json"));
	assert_non_null(strstr(cause, "symbolic link"));
	line = last_line(AUDIT);
	assert_non_null(strstr(line, "playbooks/evil.json"));
	assert_non_null(strstr(line, "symbolic link"));
	free(line);
	free(cause);
	cause = NULL;
	assert_int_equal(bdl_store_remove(s, "sym", &cause), 0);
	bdl_store_free(s);
}

static void
test_allow_downgrade_installs_and_records_it(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path, *cause = NULL, buf[32], *line;

	(void)state;
	path = good_bundle("gc-1.0.5.tbundle", "gc", "1.0.5", fpr_good, 0);
	opts_init(&o);
	assert_int_equal(import(path, &o, &res, &cause), BDL_EREFUSED);
	free(cause);
	o.allow_downgrade = true;
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	assert_true(res.downgrade);
	assert_string_equal(active_of("gc", buf, sizeof(buf)), "1.0.5");
	line = last_line(AUDIT);
	assert_non_null(strstr(line, "\"override\":\"allow-downgrade\""));
	free(line);
	free(path);
}

static void
test_second_writer_gets_busy(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char lock[512], *cause = NULL, *path;
	int fd;

	(void)state;
	snprintf(lock, sizeof(lock), "%s/lock", STORE);
	fd = open(lock, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	path = good_bundle("busy.tbundle", "busy", "1.0.0", fpr_good, 0);
	opts_init(&o);
	assert_int_equal(import(path, &o, &res, &cause), BDL_EBUSY);
	assert_non_null(strstr(cause, "another triage"));
	free(cause);
	close(fd);
	free(path);
}

/* ---- faults and hostile media --------------------------------------------------- */

static int fault_n, fault_at;

static int
count_fault(const char *point)
{
	(void)point;
	return ++fault_n == fault_at;
}

static void
test_failure_at_every_step_leaves_store_consistent(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path, *cause = NULL, buf[32], name[64];
	int total, failed_clean = 0, completed = 0;

	(void)state;
	opts_init(&o);
	/* Count the steps of one import. */
	path = good_bundle("f-1.0.0.tbundle", "faults", "1.0.0", fpr_good, now);
	assert_int_equal(import(path, &o, &res, &cause), 0);
	free(path);
	path = good_bundle("f-2.0.0.tbundle", "faults", "2.0.0", fpr_good,
	    now + 1);
	fault_n = 0;
	fault_at = -1;
	bdl_set_fault_hook(count_fault);
	snprintf(name, sizeof(name), "f-probe.tbundle");
	{
		char *p2 = good_bundle(name, "probe", "1.0.0", fpr_good, now);

		assert_int_equal(import(p2, &o, &res, &cause), 0);
		free(p2);
	}
	total = fault_n;
	assert_true(total >= 8);
	for (int k = 1; k <= total; k++) {
		unsigned char before[32], after[32];
		int rc;

		tree_hash(STORE, before);
		fault_n = 0;
		fault_at = k;
		rc = import(path, &o, &res, &cause);
		fault_at = -1;
		/* Old or new, and never a damaged store. */
		assert_int_equal(store_problems(), 0);
		active_of("faults", buf, sizeof(buf));
		if (rc == 0) {
			completed++;
			assert_string_equal(buf, "2.0.0");
			/* Undo for the next round. */
			struct bdl_store *s;
			assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s,
			    &cause), 0);
			assert_int_equal(bdl_store_rollback(s, "faults", NULL,
			    NULL, &cause), 0);
			bdl_store_free(s);
		} else if (strcmp(buf, "1.0.0") == 0) {
			tree_hash(STORE, after);
			if (memcmp(before, after, 32) == 0)
				failed_clean++;
			else
				fail_msg("step %d: failed (%s) but the store "
				    "changed", k, cause);
		} else {
			/* Failed after the switch (directory fsync): the new
			 * version is active and intact; say so. */
			assert_string_equal(buf, "2.0.0");
			assert_non_null(strstr(cause, "active"));
			completed++;
			struct bdl_store *s;
			assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s,
			    &cause), 0);
			assert_int_equal(bdl_store_rollback(s, "faults", NULL,
			    NULL, &cause), 0);
			bdl_store_free(s);
		}
		free(cause);
		cause = NULL;
		/* Recovery: the next import works. */
	}
	bdl_set_fault_hook(NULL);
	printf("  %d fault points: %d failed cleanly, %d completed\n", total,
	    failed_clean, completed);
	assert_true(failed_clean > 0);
	free(path);
}

static char *swap_src;

static int
change_source(const char *point)
{
	if (strcmp(point, "stage-copy") == 0 && swap_src != NULL)
		sh("echo appended >>%s", swap_src);
	return 0;
}

static int
swap_source(const char *point)
{
	/* After staging, the stick's file is replaced by another signed
	 * bundle: what gets installed is still what was verified. */
	if (strcmp(point, "extract-file") == 0 && swap_src != NULL) {
		char *other = good_bundle("swap-evil.tbundle", "swap", "9.9.9",
		    fpr_good, 0);

		sh("cp %s %s && cp %s.sig %s.sig", other, swap_src, other,
		    swap_src);
		free(other);
		swap_src = NULL;
	}
	return 0;
}

static void
test_changes_on_the_stick_cannot_slip_through(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char *path, *cause = NULL, buf[32];

	(void)state;
	opts_init(&o);
	path = good_bundle("swap.tbundle", "swap", "1.0.0", fpr_good, 0);
	swap_src = path;
	bdl_set_fault_hook(change_source);
	assert_int_equal(import(path, &o, &res, &cause), BDL_EIO);
	assert_non_null(strstr(cause, "changed while it was being copied"));
	free(cause);
	free(path);
	path = good_bundle("swap.tbundle", "swap", "1.0.0", fpr_good, 0);
	swap_src = path;
	bdl_set_fault_hook(swap_source);
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	bdl_set_fault_hook(NULL);
	assert_null(swap_src);
	assert_string_equal(res.version, "1.0.0");
	assert_string_equal(active_of("swap", buf, sizeof(buf)), "1.0.0");
	assert_int_equal(store_problems(), 0);
	free(path);
}

static void
test_damaged_state_is_reported_not_trusted(void **state)
{
	char path[512], saved[512], *cause = NULL, **dirs = NULL;
	struct bdl_store *s = NULL;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/state.json", STORE);
	snprintf(saved, sizeof(saved), "%s/state.saved", T);
	assert_int_equal(sh("cp %s %s", path, saved), 0);
	fp = fopen(path, "w");
	fputs("{\"format\":1,\"bundles\":[{\"name\":\"../x\"", fp);
	fclose(fp);
	assert_int_equal(bdl_store_open(STORE, NULL, 0, &s, &cause), BDL_EFORMAT);
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
	cause = NULL;
	assert_int_equal(bdl_store_active_paths(STORE, &dirs, NULL, NULL,
	    &cause), BDL_EFORMAT);
	free(cause);
	assert_int_equal(sh("cp %s %s", saved, path), 0);
}

/* ---- a lost or damaged state file (issue 16, defect 1) ---------------------------- */

static char saved_store[224], saved_audit[224];

/* Work in a store of its own: T/NAME/bundles. */
static void
own_store(const char *name)
{
	snprintf(saved_store, sizeof(saved_store), "%s", STORE);
	snprintf(saved_audit, sizeof(saved_audit), "%s", AUDIT);
	snprintf(STORE, sizeof(STORE), "%s/%s/bundles", T, name);
	snprintf(AUDIT, sizeof(AUDIT), "%s/%s/audit.log", T, name);
}

/* A teardown, so that a failing test does not leave the others in its store. */
static int
own_store_end(void **state)
{
	(void)state;
	if (saved_store[0] != '\0') {
		snprintf(STORE, sizeof(STORE), "%s", saved_store);
		snprintf(AUDIT, sizeof(AUDIT), "%s", saved_audit);
		saved_store[0] = '\0';
	}
	return 0;
}

static void
put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
install_lost_fixture(void)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	static const char *const v[][2] = { { "lost", "1.0.0" },
	    { "lost", "1.1.0" }, { "other", "1.0.0" } };
	char *cause = NULL, file[64];

	opts_init(&o);
	for (size_t k = 0; k < 3; k++) {
		char *p;

		snprintf(file, sizeof(file), "%s-%s.tbundle", v[k][0], v[k][1]);
		p = good_bundle(file, v[k][0], v[k][1], fpr_good, now + (time_t)k);
		if (import(p, &o, &res, &cause) != 0)
			fail_msg("%s", cause);
		free(p);
	}
}

/* Every installed version still there, byte for byte, active and usable. */
static void
assert_versions_kept(const unsigned char before[32])
{
	char vdir[256], buf[32];
	unsigned char after[32];

	snprintf(vdir, sizeof(vdir), "%s/versions", STORE);
	tree_hash(vdir, after);
	assert_memory_equal(before, after, 32);
	assert_string_equal(active_of("lost", buf, sizeof(buf)), "1.1.0");
	assert_string_equal(active_of("other", buf, sizeof(buf)), "1.0.0");
	assert_int_equal(store_problems(), 0);
}

static void
test_lost_state_keeps_every_installed_version(void **state)
{
	struct bdl_import_opts o;
	struct bdl_import_result res;
	struct bdl_store *s;
	char vdir[256], sp[256], *cause = NULL, *p, *log;
	unsigned char before[32];
	int i;

	(void)state;
	own_store("lost");
	install_lost_fixture();
	snprintf(vdir, sizeof(vdir), "%s/versions", STORE);
	snprintf(sp, sizeof(sp), "%s/state.json", STORE);
	tree_hash(vdir, before);

	/* state.json missing: a refused rollback keeps everything. */
	assert_int_equal(unlink(sp), 0);
	assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s, &cause), 0);
	assert_int_equal(bdl_store_rollback(s, "nope", NULL, NULL, &cause),
	    BDL_ENOENT);
	free(cause);
	cause = NULL;
	bdl_store_free(s);
	assert_versions_kept(before);
	log = last_line(AUDIT);
	assert_non_null(log);
	free(log);
	assert_int_equal(sh("grep -q '\"event\":\"recover\".*lost/1.1.0' %s",
	    AUDIT), 0);

	/* A state that lists no bundles: a refused import of a
	 * stranger-signed bundle keeps everything too. */
	put_file(sp, "{\"format\": 1, \"seq\": 7, \"bundles\": []}\n");
	p = good_bundle("lost-9.0.0.tbundle", "lost", "9.0.0", fpr_unknown, 0);
	opts_init(&o);
	assert_int_equal(import(p, &o, &res, &cause), BDL_ESIG);
	free(cause);
	cause = NULL;
	free(p);
	assert_versions_kept(before);

	/* Missing again: rolling back the rebuilt bundle works. */
	assert_int_equal(unlink(sp), 0);
	assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s, &cause), 0);
	if (bdl_store_rollback(s, "lost", NULL, NULL, &cause) != 0)
		fail_msg("%s", cause);
	i = bdl_store_find(s, "lost");
	assert_true(i >= 0);
	assert_string_equal(bdl_store_active(s, (size_t)i), "1.0.0");
	bdl_store_free(s);
	tree_hash(vdir, before);

	/* Damaged: refused with a clear message, nothing touched. */
	assert_int_equal(bdl_store_open(STORE, AUDIT, 0, &s, &cause), 0);
	put_file(sp, "{\"format\": 1, \"bundles\": [{\"name\": ");
	assert_int_equal(bdl_store_rollback(s, "lost", NULL, NULL, &cause),
	    BDL_EFORMAT);
	assert_non_null(strstr(cause, "damaged"));
	assert_non_null(strstr(cause, "nothing was changed"));
	free(cause);
	cause = NULL;
	bdl_store_free(s);
	{
		unsigned char after[32];

		tree_hash(vdir, after);
		assert_memory_equal(before, after, 32);
	}
	/* Moved aside, as the message says: rebuilt from the versions. */
	assert_int_equal(unlink(sp), 0);
	opts_init(&o);
	p = good_bundle("other-1.1.0.tbundle", "other", "1.1.0", fpr_good,
	    now + 10);
	if (import(p, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	free(p);
	assert_string_equal(res.previous, "1.0.0");
	{
		char buf[32];

		assert_string_equal(active_of("other", buf, sizeof(buf)), "1.1.0");
		assert_true(active_of("lost", buf, sizeof(buf))[0] != '\0');
	}
	assert_int_equal(store_problems(), 0);
}

static void
test_state_with_hostile_strings_is_damaged(void **state)
{
	static const char *const bad[] = {
		/* a version that is not one, carrying a terminal escape */
		"{\"format\":1,\"seq\":1,\"bundles\":[{\"name\":\"x\",\"kind\":"
		"\"playbooks\",\"active\":\"1.0.0\",\"versions\":[{\"dir\":"
		"\"1.0.0\",\"version\":\"1.0.0\\u001b]0;T\\u0007\",\"signer\":"
		"\"0123456789ABCDEF0123456789ABCDEF01234567\"}]}]}",
		/* a version that does not match its directory */
		"{\"format\":1,\"seq\":1,\"bundles\":[{\"name\":\"x\",\"kind\":"
		"\"playbooks\",\"active\":\"1.0.0\",\"versions\":[{\"dir\":"
		"\"1.0.0\",\"version\":\"2.0.0\",\"signer\":"
		"\"0123456789ABCDEF0123456789ABCDEF01234567\"}]}]}",
		/* a signer that is not a fingerprint */
		"{\"format\":1,\"seq\":1,\"bundles\":[{\"name\":\"x\",\"kind\":"
		"\"playbooks\",\"active\":\"1.0.0\",\"versions\":[{\"dir\":"
		"\"1.0.0\",\"version\":\"1.0.0\",\"signer\":\"\\u202eevil\"}]}]}",
	};
	char sp[256], *cause = NULL;
	struct bdl_store *s = NULL;

	(void)state;
	own_store("hostile-state");
	assert_int_equal(bdl_mkdirs(STORE, 0700), 0);
	snprintf(sp, sizeof(sp), "%s/state.json", STORE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file(sp, bad[i]);
		assert_int_equal(bdl_store_open(STORE, NULL, 0, &s, &cause),
		    BDL_EFORMAT);
		assert_non_null(strstr(cause, "damaged"));
		free(cause);
		cause = NULL;
	}
}

static void
test_active_paths_give_playbooks_and_model(void **state)
{
	char **dirs = NULL, *model = NULL, *mb = NULL, *cause = NULL;
	int site = 0;

	(void)state;
	assert_int_equal(bdl_store_active_paths(STORE, &dirs, &model, &mb,
	    &cause), 0);
	for (size_t i = 0; dirs[i] != NULL; i++) {
		struct stat st;

		assert_int_equal(stat(dirs[i], &st), 0);
		if (strstr(dirs[i], "/versions/site/2.0.0/playbooks") != NULL)
			site = 1;
	}
	assert_true(site);
	assert_null(model);	/* no model bundle is installed here */
	bdl_strv_free(dirs);
	/* A store that does not exist is empty, and is not created. */
	assert_int_equal(bdl_store_active_paths("/nonexistent/store", &dirs,
	    &model, &mb, &cause), 0);
	assert_null(dirs[0]);
	bdl_strv_free(dirs);
	assert_int_equal(access("/nonexistent", F_OK), -1);
}

/* ---- the producer side ----------------------------------------------------------- */

static void
test_create_builds_what_import_accepts(void **state)
{
	struct bdl_create_opts co;
	struct bdl_import_opts o;
	struct bdl_import_result res;
	char dir[256], out[256], *path = NULL, *path2 = NULL, *cause = NULL;
	const char *changes[] = { "first release", NULL };
	unsigned char h1[32], h2[32];
	FILE *fp;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/create-pb", T);
	snprintf(out, sizeof(out), "%s/create-out", T);
	mkdir(dir, 0755);
	mkdir(out, 0755);
	snprintf(out + strlen(out), 16, "/a");
	mkdir(out, 0755);
	{
		char x[300];

		snprintf(x, sizeof(x), "%s/x.json", dir);
		fp = fopen(x, "w");
	}
	fputs(PB_A, fp);
	fclose(fp);
	memset(&co, 0, sizeof(co));
	co.name = "made";
	co.version = "1.0.0";
	co.key = fpr_good;
	co.gnupg_home = SIGNER;
	co.playbooks = dir;
	co.out_dir = out;
	co.created = 1700000000;
	co.min_triage = "0.1.0";
	co.changes = changes;
	if (bdl_create(&co, &path, &cause) != 0)
		fail_msg("%s", cause);
	opts_init(&o);
	if (import(path, &o, &res, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(res.name, "made");
	/* Same inputs and time: the same archive bytes. */
	out[strlen(out) - 1] = 'b';
	mkdir(out, 0755);
	if (bdl_create(&co, &path2, &cause) != 0)
		fail_msg("%s", cause);
	{
		gcry_md_hd_t md;
		FILE *a = fopen(path, "rb"), *b = fopen(path2, "rb");
		char buf[65536];
		size_t r;

		gcry_md_open(&md, GCRY_MD_SHA256, 0);
		while ((r = fread(buf, 1, sizeof(buf), a)) > 0)
			gcry_md_write(md, buf, r);
		memcpy(h1, gcry_md_read(md, 0), 32);
		gcry_md_reset(md);
		while ((r = fread(buf, 1, sizeof(buf), b)) > 0)
			gcry_md_write(md, buf, r);
		memcpy(h2, gcry_md_read(md, 0), 32);
		gcry_md_close(md);
		fclose(a);
		fclose(b);
	}
	assert_memory_equal(h1, h2, 32);
	/* Bad names are refused before anything is written. */
	co.name = "Bad Name";
	assert_int_equal(bdl_create(&co, NULL, &cause), BDL_EINVAL);
	free(cause);
	free(path);
	free(path2);
}

static void
test_create_refuses_a_malformed_source_date_epoch(void **state)
{
	static const char *const bad[] = { "abc", "", "-1", "12x", " 12",
	    "99999999999999999999", "253402300800", "0x10" };
	struct bdl_create_opts co;
	char dir[256], out[256], *path = NULL, *cause = NULL;
	DIR *d;
	int n = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/create-pb", T);
	snprintf(out, sizeof(out), "%s/create-sde", T);
	mkdir(out, 0755);
	memset(&co, 0, sizeof(co));
	co.name = "sde";
	co.version = "1.0.0";
	co.key = fpr_good;
	co.gnupg_home = SIGNER;
	co.playbooks = dir;
	co.out_dir = out;
	co.min_triage = "0.1.0";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SOURCE_DATE_EPOCH", bad[i], 1);
		assert_int_equal(bdl_create(&co, NULL, &cause), BDL_EINVAL);
		assert_non_null(strstr(cause, "SOURCE_DATE_EPOCH"));
		free(cause);
		cause = NULL;
	}
	/* Nothing was written. */
	d = opendir(out);
	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	assert_int_equal(n, 2);
	setenv("SOURCE_DATE_EPOCH", "1700000001", 1);
	if (bdl_create(&co, &path, &cause) != 0)
		fail_msg("%s", cause);
	unsetenv("SOURCE_DATE_EPOCH");
	assert_int_equal(sh("tar -xOf %s manifest.json | grep -q "
	    "'2023-11-14T22:13:21Z'", path), 0);
	free(path);
}

/* ---- USB discovery and the audit log ------------------------------------------------ */

static void
test_usb_find_lists_bundles_on_media_only(void **state)
{
	char mounts[256], media[256], stick[300], other[300], *cause = NULL;
	char **found = NULL;
	const char *roots[] = { NULL, NULL };
	FILE *fp;

	(void)state;
	snprintf(media, sizeof(media), "%s/media", T);
	snprintf(stick, sizeof(stick), "%s/media/MY STICK", T);
	snprintf(other, sizeof(other), "%s/elsewhere", T);
	sh("mkdir -p '%s/sub' '%s/.hidden' '%s/sub/deeper' '%s'", stick, stick,
	    stick, other);
	sh("cd '%s' && touch a-1.0.0.tbundle ._a-1.0.0.tbundle notes.txt "
	    "sub/b-2.0.0.tbundle .hidden/c.tbundle sub/deeper/d.tbundle && "
	    "ln -s a-1.0.0.tbundle link.tbundle", stick);
	sh("touch '%s/e.tbundle'", other);
	snprintf(mounts, sizeof(mounts), "%s/mounts", T);
	fp = fopen(mounts, "w");
	/* The kernel escapes the space in the label as \040. */
	fprintf(fp, "/dev/sdb1 %s/media/MY\\040STICK vfat rw 0 0\n", T);
	fprintf(fp, "/dev/sdc1 %s vfat rw 0 0\n", other);
	fprintf(fp, "proc /proc proc rw 0 0\n");
	fclose(fp);
	roots[0] = media;
	assert_int_equal(bdl_usb_find(mounts, roots, NULL, &found, &cause), 0);
	assert_non_null(found[0]);
	assert_non_null(strstr(found[0], "MY STICK/a-1.0.0.tbundle"));
	assert_non_null(found[1]);
	assert_non_null(strstr(found[1], "MY STICK/sub/b-2.0.0.tbundle"));
	assert_null(found[2]);
	bdl_strv_free(found);
	/* A path given by hand is searched too; duplicates are merged. */
	{
		const char *paths[] = { other, stick, NULL };

		assert_int_equal(bdl_usb_find(mounts, roots, paths, &found,
		    &cause), 0);
		assert_non_null(found[0]);
		assert_non_null(strstr(found[0], "elsewhere/e.tbundle"));
		assert_non_null(found[2]);
		assert_null(found[3]);
		bdl_strv_free(found);
	}
}

static void
test_audit_log_is_json_lines(void **state)
{
	FILE *fp = fopen(AUDIT, "r");
	char line[8192];
	int n = 0;

	(void)state;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);

		if (o == NULL)
			fail_msg("line %d: %s", n + 1, err.text);
		assert_non_null(json_object_get(o, "time"));
		assert_non_null(json_object_get(o, "event"));
		assert_non_null(json_object_get(o, "result"));
		json_decref(o);
		n++;
	}
	fclose(fp);
	assert_true(n > 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_cmp_orders_and_rejects_malformed),
		cmocka_unit_test(test_path_policy_rejects_unsafe_names),
		cmocka_unit_test(test_manifest_parse_rejects_hostile_documents),
		cmocka_unit_test(test_import_good_bundle_installs_it),
		cmocka_unit_test(test_hand_written_tar_is_read),
		cmocka_unit_test(test_bad_bundle_corpus_refused_store_unchanged),
		cmocka_unit_test(test_accepts_signature_by_signing_subkey),
		cmocka_unit_test(test_accepts_key_that_expired_after_signing),
		cmocka_unit_test(test_future_signature_is_a_note_not_a_failure),
		cmocka_unit_test(test_keys_add_refuses_weak_revoked_and_secret_keys),
		cmocka_unit_test(test_keyring_and_staging_must_be_private),
		cmocka_unit_test(test_keys_remove_untrusts_and_deletes),
		cmocka_unit_test(test_gc_keeps_active_lkg_and_one_older),
		cmocka_unit_test(test_rollback_switches_to_lkg_and_marks_bad),
		cmocka_unit_test(test_rollback_refuses_damaged_lkg),
		cmocka_unit_test(test_rollback_names_an_extra_file_in_lkg),
		cmocka_unit_test(test_allow_downgrade_installs_and_records_it),
		cmocka_unit_test(test_second_writer_gets_busy),
		cmocka_unit_test(test_failure_at_every_step_leaves_store_consistent),
		cmocka_unit_test(test_changes_on_the_stick_cannot_slip_through),
		cmocka_unit_test(test_damaged_state_is_reported_not_trusted),
		cmocka_unit_test_teardown(test_lost_state_keeps_every_installed_version,
		    own_store_end),
		cmocka_unit_test_teardown(test_state_with_hostile_strings_is_damaged,
		    own_store_end),
		cmocka_unit_test(test_active_paths_give_playbooks_and_model),
		cmocka_unit_test(test_create_builds_what_import_accepts),
		cmocka_unit_test(test_create_refuses_a_malformed_source_date_epoch),
		cmocka_unit_test(test_usb_find_lists_bundles_on_media_only),
		cmocka_unit_test(test_audit_log_is_json_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
