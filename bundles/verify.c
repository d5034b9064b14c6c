/*
 * verify.c - triage's keyring, the allow-list and the signature policy.
 *
 * The keyring is a private GnuPG home (DATADIR/gnupg, 0700, checked on
 * every open) that holds only keys added with `triage keys add`; its
 * gpg.conf turns off every way gpg could fetch or import keys by itself.
 * Trust does not come from GnuPG's web of trust but from an allow-list of
 * primary-key fingerprints (DATADIR/trusted-keys): a key that somehow got
 * into the keyring without being allowed signs nothing.
 *
 * Signature policy (gpgme semantics, see the notes at each check):
 *  - the .sig must hold at least one signature: gpgme reports "no error"
 *    for no signature at all;
 *  - any BAD signature refuses the bundle, even next to a good one;
 *  - signatures by keys not in the keyring are ignored;
 *  - a good one counts only if its primary key (not the subkey that
 *    signed) is allowed, neither key is revoked, neither had expired when
 *    it signed, the subkey may sign, the key is strong enough (Ed25519,
 *    ECDSA >= 256 bits, RSA >= 3072 bits) and the digest is SHA-256/384/512;
 *  - at least one distinct allowed primary key must remain.
 * We never use GPGME_SIGSUM_VALID: in a keyring without owner trust a good
 * signature has summary 0.  Expiry is judged at the signing time, not by
 * this computer's clock, which may be wrong in the field; a signing time in
 * the future of the clock is only a note.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_ALLOWED	256		/* fingerprints in the allow-list */
#define MAX_ALLOW_FILE	(64 * 1024)
#define FUTURE_SLACK	300		/* seconds of clock skew not worth a note */
#define MIN_RSA_BITS	3072
#define MIN_ECC_BITS	255

/* Written into the private home: no network, no implicit imports, and
 * time conflicts are our decision, not gpg's (the clock may be wrong). */
static const char gpg_conf[] =
"# Written by triage: this home only verifies bundles.  Do not edit.\n"
"no-auto-key-retrieve\n"
"no-auto-key-import\n"
"disable-dirmngr\n"
"no-autostart\n"
"ignore-time-conflict\n"
"ignore-valid-from\n"
"no-greeting\n";

struct bdl_keyring {
	char		*home;		/* DATADIR/gnupg */
	char		*allow_path;	/* DATADIR/trusted-keys */
	char		**allow;	/* upper-case fingerprints */
	size_t		 nallow;
	gpgme_ctx_t	 ctx;		/* verify, import, delete */
	gpgme_ctx_t	 kctx;		/* key look-ups during a verify */
};

struct bdl_keyfile {
	char		*data;
	size_t		 len;
	struct bdl_keyinfo *keys;
	size_t		 nkeys;
};

int
bdl_gpgme_init(char **cause)
{
	static int done;
	gpgme_error_t e;

	if (done)
		return 0;
	if (gpgme_check_version("1.8.0") == NULL) {
		bdl_cause(cause, "gpgme 1.8.0 or newer is needed");
		return BDL_EIO;
	}
	if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0) {
		bdl_cause(cause, "GnuPG (gpg) is missing or too old: %s",
		    gpgme_strerror(e));
		return BDL_EIO;
	}
	done = 1;
	return 0;
}

static int
new_ctx(const char *home, gpgme_ctx_t *out, char **cause)
{
	gpgme_ctx_t ctx;
	gpgme_error_t e;

	if ((e = gpgme_new(&ctx)) != 0) {
		bdl_cause(cause, "gpgme: %s", gpgme_strerror(e));
		return BDL_EIO;
	}
	if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (home != NULL && (e = gpgme_ctx_set_engine_info(ctx,
	    GPGME_PROTOCOL_OpenPGP, NULL, home)) != 0) ||
	    (e = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL)) != 0) {
		bdl_cause(cause, "gpgme: %s", gpgme_strerror(e));
		gpgme_release(ctx);
		return BDL_EIO;
	}
	/* Never ask a key server (auto-key-retrieve) for a missing key. */
	(void)gpgme_set_ctx_flag(ctx, "auto-key-retrieve", "0");
	gpgme_set_offline(ctx, 1);
	gpgme_set_armor(ctx, 0);
	*out = ctx;
	return 0;
}

static void
printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src != NULL && *src != '\0' && i + 1 < cap; src++)
		dst[i++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? '?' :
		    *src;
	/* Do not end in the middle of a UTF-8 sequence. */
	while (i > 0 && ((unsigned char)dst[i - 1] & 0xc0) == 0x80 &&
	    src != NULL && *src != '\0')
		i--;
	if (i > 0 && (unsigned char)dst[i - 1] >= 0xc0 && src != NULL &&
	    *src != '\0')
		i--;
	dst[i] = '\0';
}

/* Normalise a fingerprint: drop spaces, upper-case; 40 or 64 hex digits. */
static int
fpr_norm(const char *in, char out[65])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ')
			continue;
		if (!isxdigit((unsigned char)*in) || n >= 64)
			return -1;
		out[n++] = (char)toupper((unsigned char)*in);
	}
	out[n] = '\0';
	return n == 40 || n == 64 ? 0 : -1;
}

static int
is_allowed(const struct bdl_keyring *kr, const char *fpr)
{
	for (size_t i = 0; i < kr->nallow; i++)
		if (strcasecmp(kr->allow[i], fpr) == 0)
			return 1;
	return 0;
}

static int
subkey_strong(gpgme_subkey_t sk)
{
	switch (sk->pubkey_algo) {
	case GPGME_PK_EDDSA:
		return 1;
	case GPGME_PK_ECDSA:
	case GPGME_PK_ECC:
		return sk->length >= MIN_ECC_BITS;
	case GPGME_PK_RSA:
	case GPGME_PK_RSA_S:
		return sk->length >= MIN_RSA_BITS;
	default:	/* DSA, ElGamal, anything new: not for signing here */
		return 0;
	}
}

static void
key_info(const struct bdl_keyring *kr, gpgme_key_t k, struct bdl_keyinfo *ki)
{
	gpgme_subkey_t pk = k->subkeys;
	char *algo;

	memset(ki, 0, sizeof(*ki));
	if (pk == NULL)
		return;
	(void)fpr_norm(pk->fpr != NULL ? pk->fpr : "", ki->fpr);
	printable(ki->uid, sizeof(ki->uid), k->uids != NULL ? k->uids->uid :
	    "");
	if ((algo = gpgme_pubkey_algo_string(pk)) != NULL) {
		printable(ki->algo, sizeof(ki->algo), algo);
		gpgme_free(algo);
	}
	ki->created = pk->timestamp;
	ki->expires = pk->expires;
	ki->revoked = k->revoked || pk->revoked;
	ki->expired = k->expired || pk->expired;
	ki->can_sign = k->can_sign;
	ki->secret = k->secret;
	ki->weak = !subkey_strong(pk);
	for (gpgme_subkey_t s = pk->next; s != NULL; s = s->next)
		if (s->can_sign && !s->revoked && !subkey_strong(s))
			ki->weak = 1;
	ki->allowed = is_allowed(kr, ki->fpr);
}

/* ---- the allow-list -------------------------------------------------------- */

static void
allow_clear(struct bdl_keyring *kr)
{
	for (size_t i = 0; i < kr->nallow; i++)
		free(kr->allow[i]);
	free(kr->allow);
	kr->allow = NULL;
	kr->nallow = 0;
}

static int
allow_add(struct bdl_keyring *kr, const char *fpr)
{
	char **v;

	if (is_allowed(kr, fpr))
		return 0;
	if (kr->nallow >= MAX_ALLOWED)
		return -1;
	if ((v = realloc(kr->allow, (kr->nallow + 1) * sizeof(*v))) == NULL)
		return -1;
	kr->allow = v;
	if ((v[kr->nallow] = strdup(fpr)) == NULL)
		return -1;
	kr->nallow++;
	return 0;
}

static int
allow_load(struct bdl_keyring *kr, char **cause)
{
	char buf[MAX_ALLOW_FILE + 1], *line, *save = NULL, fpr[65];
	ssize_t n;
	int fd, lineno = 0;

	fd = open(kr->allow_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		bdl_cause(cause, "%s: %s", kr->allow_path, strerror(errno));
		return BDL_EIO;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > MAX_ALLOW_FILE) {
		bdl_cause(cause, "%s: %s", kr->allow_path, n < 0 ?
		    strerror(errno) : "too large");
		return BDL_EIO;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (fpr_norm(line, fpr) < 0) {
			bdl_cause(cause, "%s line %d is not a key fingerprint",
			    kr->allow_path, lineno);
			return BDL_EFORMAT;
		}
		if (allow_add(kr, fpr) < 0)
			return BDL_ENOMEM;
	}
	return 0;
}

static int
allow_save(struct bdl_keyring *kr, char **cause)
{
	size_t cap = 128 + kr->nallow * 66, len;
	char *buf;
	int rc;

	if ((buf = malloc(cap)) == NULL)
		return BDL_ENOMEM;
	len = (size_t)snprintf(buf, cap, "# Primary key fingerprints allowed "
	    "to sign triage bundles (triage keys add/remove).\n");
	for (size_t i = 0; i < kr->nallow; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s\n",
		    kr->allow[i]);
	rc = bdl_write_atomic(kr->allow_path, buf, len, cause);
	free(buf);
	return rc;
}

/* ---- opening --------------------------------------------------------------- */

static int
private_dir(const char *path, char **cause)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		bdl_cause(cause, "%s: %s", path, strerror(errno));
		return BDL_EIO;
	}
	/* A keyring others can write to could be fed keys: refuse it. */
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		bdl_cause(cause, "%s must be a directory owned by this user with "
		    "mode 0700", path);
		return BDL_EIO;
	}
	return 0;
}

static int
write_conf(const char *home, char **cause)
{
	char *path, buf[sizeof(gpg_conf) + 1];
	ssize_t n = -1;
	int fd, rc = 0;

	if (asprintf(&path, "%s/gpg.conf", home) < 0)
		return BDL_ENOMEM;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n != (ssize_t)strlen(gpg_conf) || memcmp(buf, gpg_conf, n) != 0)
		rc = bdl_write_atomic(path, gpg_conf, strlen(gpg_conf), cause);
	free(path);
	return rc;
}

int
bdl_keyring_open(const char *datadir, struct bdl_keyring **out, char **cause)
{
	struct bdl_keyring *kr;
	int rc;

	if ((rc = bdl_gpgme_init(cause)) < 0)
		return rc;
	if ((kr = calloc(1, sizeof(*kr))) == NULL)
		return BDL_ENOMEM;
	rc = BDL_ENOMEM;
	if (asprintf(&kr->home, "%s/gnupg", datadir) < 0 ||
	    asprintf(&kr->allow_path, "%s/trusted-keys", datadir) < 0) {
		kr->home = kr->allow_path = NULL;
		goto out;
	}
	if (bdl_mkdirs(datadir, 0700) < 0) {
		bdl_cause(cause, "%s: %s", datadir, strerror(errno));
		rc = BDL_EIO;
		goto out;
	}
	if ((rc = private_dir(kr->home, cause)) < 0 ||
	    (rc = write_conf(kr->home, cause)) < 0 ||
	    (rc = allow_load(kr, cause)) < 0 ||
	    (rc = new_ctx(kr->home, &kr->ctx, cause)) < 0 ||
	    (rc = new_ctx(kr->home, &kr->kctx, cause)) < 0)
		goto out;
	*out = kr;	/* transferred */
	kr = NULL;
	rc = 0;
out:
	bdl_keyring_free(kr);
	return rc;
}

void
bdl_keyring_free(struct bdl_keyring *kr)
{
	if (kr == NULL)
		return;
	if (kr->ctx != NULL)
		gpgme_release(kr->ctx);
	if (kr->kctx != NULL)
		gpgme_release(kr->kctx);
	allow_clear(kr);
	free(kr->home);
	free(kr->allow_path);
	free(kr);
}

/* ---- keys ------------------------------------------------------------------ */

static int
find_key(struct bdl_keyring *kr, const char *spec, gpgme_key_t *k)
{
	gpgme_error_t e = gpgme_get_key(kr->kctx, spec, k, 0);

	if (e != 0) {
		*k = NULL;
		return gpgme_err_code(e) == GPG_ERR_EOF ? BDL_ENOENT : BDL_EIO;
	}
	return 0;
}

int
bdl_keyring_list(struct bdl_keyring *kr, struct bdl_keyinfo **keys,
    size_t *n, char **cause)
{
	struct bdl_keyinfo *v = NULL, *nv;
	size_t cnt = 0;
	gpgme_key_t k;
	gpgme_error_t e;
	int rc = BDL_EIO;

	if ((e = gpgme_op_keylist_start(kr->ctx, NULL, 0)) != 0) {
		bdl_cause(cause, "listing keys: %s", gpgme_strerror(e));
		return BDL_EIO;
	}
	while ((e = gpgme_op_keylist_next(kr->ctx, &k)) == 0) {
		if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
			gpgme_key_unref(k);
			rc = BDL_ENOMEM;
			goto out;
		}
		v = nv;
		key_info(kr, k, &v[cnt++]);
		gpgme_key_unref(k);
	}
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		bdl_cause(cause, "listing keys: %s", gpgme_strerror(e));
		goto out;
	}
	*keys = v;	/* transferred */
	*n = cnt;
	v = NULL;
	rc = 0;
out:
	if (rc != 0)
		gpgme_op_keylist_end(kr->ctx);
	free(v);
	return rc;
}

void
bdl_keyfile_free(struct bdl_keyfile *kf)
{
	if (kf == NULL)
		return;
	free(kf->data);
	free(kf->keys);
	free(kf);
}

int
bdl_keyfile_read(struct bdl_keyring *kr, const char *path,
    struct bdl_keyfile **out, char **cause)
{
	struct bdl_keyfile *kf;
	struct bdl_keyinfo *nv;
	gpgme_data_t d = NULL;
	gpgme_key_t k, known;
	gpgme_error_t e;
	struct stat st;
	ssize_t r;
	int fd = -1, rc = BDL_EIO;

	if ((kf = calloc(1, sizeof(*kf))) == NULL)
		return BDL_ENOMEM;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size == 0 || st.st_size > BDL_MAX_KEYFILE) {
		bdl_cause(cause, "%s: %s", path, fd < 0 ? strerror(errno) :
		    "not a regular file of 1 byte to 1 MiB");
		rc = fd < 0 && errno == ENOENT ? BDL_ENOENT : BDL_EIO;
		goto out;
	}
	if ((kf->data = malloc((size_t)st.st_size)) == NULL) {
		rc = BDL_ENOMEM;
		goto out;
	}
	while (kf->len < (size_t)st.st_size) {
		r = read(fd, kf->data + kf->len, (size_t)st.st_size - kf->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			bdl_cause(cause, "%s: %s", path, r < 0 ? strerror(errno) :
			    "shorter than its size");
			goto out;
		}
		kf->len += (size_t)r;
	}
	if ((e = gpgme_data_new_from_mem(&d, kf->data, kf->len, 0)) != 0 ||
	    (e = gpgme_op_keylist_from_data_start(kr->ctx, d, 0)) != 0) {
		bdl_cause(cause, "%s: %s", path, gpgme_strerror(e));
		goto out;
	}
	while ((e = gpgme_op_keylist_next(kr->ctx, &k)) == 0) {
		nv = realloc(kf->keys, (kf->nkeys + 1) * sizeof(*nv));
		if (nv == NULL) {
			gpgme_key_unref(k);
			gpgme_op_keylist_end(kr->ctx);
			rc = BDL_ENOMEM;
			goto out;
		}
		kf->keys = nv;
		key_info(kr, k, &kf->keys[kf->nkeys]);
		gpgme_key_unref(k);
		kf->nkeys++;
	}
	if (gpgme_err_code(e) != GPG_ERR_EOF || kf->nkeys == 0) {
		bdl_cause(cause, "%s holds no OpenPGP public key%s%s", path,
		    gpgme_err_code(e) != GPG_ERR_EOF ? ": " : "",
		    gpgme_err_code(e) != GPG_ERR_EOF ? gpgme_strerror(e) : "");
		rc = BDL_EFORMAT;
		goto out;
	}
	for (size_t i = 0; i < kf->nkeys; i++)
		if (find_key(kr, kf->keys[i].fpr, &known) == 0) {
			kf->keys[i].known = 1;
			gpgme_key_unref(known);
		}
	*out = kf;	/* transferred */
	kf = NULL;
	rc = 0;
out:
	if (d != NULL)
		gpgme_data_release(d);
	if (fd >= 0)
		close(fd);
	bdl_keyfile_free(kf);
	return rc;
}

size_t
bdl_keyfile_count(const struct bdl_keyfile *kf)
{
	return kf->nkeys;
}

const struct bdl_keyinfo *
bdl_keyfile_key(const struct bdl_keyfile *kf, size_t i)
{
	return i < kf->nkeys ? &kf->keys[i] : NULL;
}

int
bdl_keyring_import(struct bdl_keyring *kr, const struct bdl_keyfile *kf,
    char **cause)
{
	gpgme_data_t d = NULL;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	gpgme_key_t k;
	size_t before = kr->nallow;
	int rc = BDL_EREFUSED;

	/* Refuse the whole file rather than import part of it. */
	for (size_t i = 0; i < kf->nkeys; i++) {
		const struct bdl_keyinfo *ki = &kf->keys[i];
		const char *why = ki->secret ? "is a secret key (export the "
		    "public key with gpg --export)" : NULL;

		if (why == NULL && !ki->known)
			why = ki->revoked ? "is revoked" : ki->expired ?
			    "has expired" : !ki->can_sign ? "cannot sign" :
			    ki->weak ? "uses a weak algorithm or key size "
			    "(needs Ed25519, ECDSA or RSA of 3072 bits or more)" :
			    NULL;
		if (why != NULL) {
			bdl_cause(cause, "key %s (%s) %s: nothing was added",
			    ki->fpr, ki->uid, why);
			return BDL_EREFUSED;
		}
	}
	rc = BDL_EIO;
	if ((e = gpgme_data_new_from_mem(&d, kf->data, kf->len, 0)) != 0 ||
	    (e = gpgme_op_import(kr->ctx, d)) != 0) {
		bdl_cause(cause, "importing keys: %s", gpgme_strerror(e));
		goto out;
	}
	ir = gpgme_op_import_result(kr->ctx);
	if (ir == NULL || ir->considered == 0) {
		bdl_cause(cause, "importing keys: gpg imported nothing");
		goto out;
	}
	for (size_t i = 0; i < kf->nkeys; i++) {
		const struct bdl_keyinfo *ki = &kf->keys[i];
		struct bdl_keyinfo now;

		if (find_key(kr, ki->fpr, &k) < 0) {
			bdl_cause(cause, "key %s was not imported", ki->fpr);
			goto out;
		}
		key_info(kr, k, &now);
		gpgme_key_unref(k);
		/* Allow what is usable now; a revocation update stays in
		 * the keyring so that its signatures are refused. */
		if (!now.revoked && !now.expired && now.can_sign && !now.weak &&
		    allow_add(kr, now.fpr) < 0) {
			rc = BDL_ENOMEM;
			goto out;
		}
	}
	if (kr->nallow != before && (rc = allow_save(kr, cause)) < 0)
		goto out;
	rc = 0;
out:
	if (d != NULL)
		gpgme_data_release(d);
	return rc;
}

int
bdl_keyring_remove(struct bdl_keyring *kr, const char *spec, char **cause)
{
	char fpr[65];
	gpgme_key_t k = NULL;
	gpgme_error_t e;
	int rc, was_allowed;

	if (fpr_norm(spec, fpr) < 0) {
		bdl_cause(cause, "\"%s\" is not a full key fingerprint (40 or 64 "
		    "hex digits)", spec);
		return BDL_EINVAL;
	}
	was_allowed = is_allowed(kr, fpr);
	rc = find_key(kr, fpr, &k);
	if (rc == BDL_ENOENT && !was_allowed) {
		bdl_cause(cause, "no key %s in triage's keyring", fpr);
		return BDL_ENOENT;
	}
	if (rc < 0 && rc != BDL_ENOENT) {
		bdl_cause(cause, "looking up key %s failed", fpr);
		return rc;
	}
	/* Untrust first: if deleting fails, the key signs nothing anyway. */
	if (was_allowed) {
		size_t j = 0;

		for (size_t i = 0; i < kr->nallow; i++) {
			if (strcasecmp(kr->allow[i], fpr) == 0)
				free(kr->allow[i]);
			else
				kr->allow[j++] = kr->allow[i];
		}
		kr->nallow = j;
		if ((rc = allow_save(kr, cause)) < 0)
			goto out;
	}
	rc = 0;
	if (k != NULL && (e = gpgme_op_delete_ext(kr->ctx, k,
	    GPGME_DELETE_FORCE)) != 0) {
		bdl_cause(cause, "key %s is no longer allowed, but deleting it "
		    "from the keyring failed: %s", fpr, gpgme_strerror(e));
		rc = BDL_EIO;
	}
out:
	if (k != NULL)
		gpgme_key_unref(k);
	return rc;
}

/* ---- signatures ------------------------------------------------------------ */

static const char *
base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

static void
fmt_time(int64_t t, char *buf, size_t size)
{
	bdl_time_format(t, buf, size);
}

/*
 * Judge one signature.  Returns 1 accepted (fills *signer), 0 ignored
 * (unknown or not allowed key, reason in *ignored), or a negative code
 * with *cause set.
 */
static int
judge(struct bdl_keyring *kr, const struct bdl_bundle *b, gpgme_signature_t s,
    struct bdl_signer *signer, char **ignored, char **cause)
{
	const char *name = base(b->path);
	gpgme_err_code_t st = gpgme_err_code(s->status);
	gpgme_key_t k = NULL;
	gpgme_subkey_t sub, pk;
	const char *fpr = s->fpr != NULL ? s->fpr : "?";
	char t1[32], t2[32], uid[256], pfpr[65];
	size_t flen;
	int rc = BDL_ESIG;

	if (st == GPG_ERR_NO_PUBKEY || (s->summary & GPGME_SIGSUM_KEY_MISSING)) {
		if (*ignored == NULL &&
		    asprintf(ignored, "%s is signed only by key %s, which is not "
		    "in triage's keyring (add it with triage keys add)", name,
		    fpr) < 0)
			*ignored = NULL;
		return 0;
	}
	if (st == GPG_ERR_BAD_SIGNATURE || (s->summary & GPGME_SIGSUM_RED)) {
		/* Checked before anything else: a bad signature next to a
		 * good one still means the file is not what was signed. */
		bdl_cause(cause, "bad signature by key %s: %s is not what was "
		    "signed (changed or damaged)", fpr, name);
		return BDL_ESIG;
	}
	if (st != GPG_ERR_NO_ERROR && st != GPG_ERR_KEY_EXPIRED &&
	    st != GPG_ERR_CERT_REVOKED && st != GPG_ERR_SIG_EXPIRED) {
		bdl_cause(cause, "signature by key %s on %s cannot be checked: "
		    "%s", fpr, name, gpgme_strerror(s->status));
		return BDL_ESIG;
	}
	if (find_key(kr, fpr, &k) < 0) {
		bdl_cause(cause, "signature by key %s on %s: the key cannot be "
		    "looked up", fpr, name);
		return BDL_ESIG;
	}
	pk = k->subkeys;
	flen = strlen(fpr);
	for (sub = pk; sub != NULL; sub = sub->next) {
		size_t l = sub->fpr != NULL ? strlen(sub->fpr) : 0;

		/* s->fpr is the signing (sub)key's fingerprint or key id. */
		if (l >= flen && flen >= 16 &&
		    strcasecmp(sub->fpr + l - flen, fpr) == 0)
			break;
	}
	if (pk == NULL || sub == NULL || fpr_norm(pk->fpr, pfpr) < 0) {
		bdl_cause(cause, "signature by key %s on %s: the signing key is "
		    "not in the keyring", fpr, name);
		goto out;
	}
	printable(uid, sizeof(uid), k->uids != NULL ? k->uids->uid : "");
	if (!is_allowed(kr, pfpr)) {
		if (*ignored == NULL &&
		    asprintf(ignored, "%s is signed by %s (%s), which is in "
		    "triage's keyring but not allowed to sign bundles", name,
		    pfpr, uid) < 0)
			*ignored = NULL;
		rc = 0;
		goto out;
	}
	if (st == GPG_ERR_CERT_REVOKED || k->revoked || pk->revoked ||
	    sub->revoked) {
		/* Revocation applies to every signature: the key may have
		 * been revoked because it leaked, and a thief can backdate. */
		bdl_cause(cause, "%s is signed by %s (%s), whose key is revoked",
		    name, pfpr, uid);
		goto out;
	}
	if ((pk->expires != 0 && (int64_t)s->timestamp >= pk->expires) ||
	    (sub->expires != 0 && (int64_t)s->timestamp >= sub->expires)) {
		fmt_time((int64_t)s->timestamp, t1, sizeof(t1));
		fmt_time(pk->expires != 0 && (int64_t)s->timestamp >=
		    pk->expires ? pk->expires : sub->expires, t2, sizeof(t2));
		bdl_cause(cause, "%s was signed at %s by %s (%s), whose key had "
		    "expired at %s", name, t1, pfpr, uid, t2);
		goto out;
	}
	if ((int64_t)s->timestamp < sub->timestamp ||
	    (int64_t)s->timestamp < pk->timestamp) {
		bdl_cause(cause, "%s: the signature by %s claims a time before "
		    "its key was made", name, pfpr);
		goto out;
	}
	if (s->wrong_key_usage || !sub->can_sign) {
		bdl_cause(cause, "%s is signed by a key of %s that is not meant "
		    "for signing", name, pfpr);
		goto out;
	}
	if (!subkey_strong(sub) || !subkey_strong(pk)) {
		char *algo = gpgme_pubkey_algo_string(sub);

		bdl_cause(cause, "%s is signed by %s with a weak key (%s); "
		    "triage needs Ed25519, ECDSA or RSA of 3072 bits or more",
		    name, pfpr, algo != NULL ? algo : "?");
		gpgme_free(algo);
		goto out;
	}
	if (s->hash_algo != GPGME_MD_SHA256 && s->hash_algo != GPGME_MD_SHA384 &&
	    s->hash_algo != GPGME_MD_SHA512) {
		const char *h = gpgme_hash_algo_name(s->hash_algo);

		bdl_cause(cause, "%s is signed with the digest %s; triage needs "
		    "SHA-256, SHA-384 or SHA-512", name, h != NULL ? h : "?");
		goto out;
	}
	memcpy(signer->fpr, pfpr, sizeof(signer->fpr));
	memcpy(signer->uid, uid, sizeof(signer->uid));
	signer->time = (int64_t)s->timestamp;
	rc = 1;
out:
	gpgme_key_unref(k);
	return rc;
}

int
bdl_bundle_verify(struct bdl_bundle *b, struct bdl_keyring *kr,
    bdl_note_fn note, void *arg, char **cause)
{
	gpgme_data_t sig = NULL, data = NULL;
	gpgme_verify_result_t vr = NULL;
	gpgme_signature_t s;
	gpgme_error_t e;
	struct bdl_signer best, one;
	char accepted[16][65], *ignored = NULL, t1[32], t2[32];
	unsigned nsigs = 0, ngood = 0;
	int rc = BDL_ESIG, r;

	b->flags &= ~BDL_F_SIG_OK;
	if (!(b->flags & BDL_F_STAGED))
		return BDL_EINVAL;
	memset(&best, 0, sizeof(best));
	/* gpg reads the staged copy's descriptor directly, from offset 0. */
	if (lseek(b->fd, 0, SEEK_SET) != 0) {
		bdl_cause(cause, "staged copy of %s: %s", b->path,
		    strerror(errno));
		return BDL_EIO;
	}
	if ((e = gpgme_data_new_from_mem(&sig, (const char *)b->sig, b->siglen,
	    0)) != 0 || (e = gpgme_data_new_from_fd(&data, b->fd)) != 0) {
		bdl_cause(cause, "gpgme: %s", gpgme_strerror(e));
		rc = BDL_EIO;
		goto out;
	}
	/* Detached mode only: with a `plain` buffer gpgme would check an
	 * opaque signed message and only its embedded text would count. */
	e = gpgme_op_verify(kr->ctx, sig, data, NULL);
	if (e != 0) {
		bdl_cause(cause, "%s.sig is not a detached signature of %s: %s",
		    base(b->path), base(b->path), gpgme_strerror(e));
		goto out;
	}
	if ((vr = gpgme_op_verify_result(kr->ctx)) != NULL)
		gpgme_result_ref(vr);
	/* "No error" also means "no signature at all" (gpgme manual). */
	if (vr == NULL || vr->signatures == NULL) {
		bdl_cause(cause, "%s.sig holds no signature", base(b->path));
		goto out;
	}
	for (s = vr->signatures; s != NULL; s = s->next) {
		nsigs++;
		memset(&one, 0, sizeof(one));
		r = judge(kr, b, s, &one, &ignored, cause);
		if (r < 0) {
			rc = r;
			goto out;
		}
		if (r == 0)
			continue;
		/* Count distinct primary keys, not signatures. */
		unsigned i;
		for (i = 0; i < ngood; i++)
			if (strcmp(accepted[i], one.fpr) == 0)
				break;
		if (i == ngood && ngood < 16)
			memcpy(accepted[ngood++], one.fpr, 65);
		if (best.fpr[0] == '\0' || one.time > best.time)
			best = one;
	}
	if (ngood == 0) {
		if (ignored != NULL)
			bdl_cause(cause, "%s", ignored);
		else
			bdl_cause(cause, "%s has no signature by an allowed key",
			    base(b->path));
		goto out;
	}
	best.nsigs = nsigs;
	best.ngood = ngood;
	if (best.time > (int64_t)time(NULL) + FUTURE_SLACK && note != NULL) {
		char *msg;

		fmt_time(best.time, t1, sizeof(t1));
		fmt_time((int64_t)time(NULL), t2, sizeof(t2));
		if (asprintf(&msg, "note: %s was signed at %s, which is in the "
		    "future of this computer's clock (%s); check the clock",
		    base(b->path), t1, t2) >= 0) {
			note(arg, msg);
			free(msg);
		}
	}
	b->signer = best;
	b->flags |= BDL_F_SIG_OK;
	rc = 0;
out:
	if (vr != NULL)
		gpgme_result_unref(vr);
	free(ignored);
	if (sig != NULL)
		gpgme_data_release(sig);
	if (data != NULL)
		gpgme_data_release(data);
	return rc;
}
