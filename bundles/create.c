/*
 * create.c - the producer side: build NAME-VERSION.tbundle and sign it.
 *
 * Runs on the knowledge owner's machine, with the signer's own GnuPG
 * keyring (GNUPGHOME or ~/.gnupg, or opts->gnupg_home).  The archive is a
 * pax-restricted tar (plain ustar where possible) with manifest.json
 * first, then playbooks/NAME.json in name order, then model/NAME.gguf;
 * owners, modes and times are fixed (root, 0644, the creation time) so
 * that the same inputs and SOURCE_DATE_EPOCH give the same archive.  Each
 * input is hashed first and hashed again while it is copied into the
 * archive: a file that changes in between fails the build.  The manifest
 * is parsed back with the importer's own parser before anything is
 * written, so we never sign what we would refuse.  Both files are written
 * under temporary names, fsync'd and renamed into place.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <gpgme.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct input {
	char		*src;		/* file on this machine */
	char		*dst;		/* path inside the bundle */
	uint64_t	 size;
	unsigned char	 digest[32];
};

struct build {
	struct input	*in;
	size_t		 n;
};

static void
build_free(struct build *bd)
{
	for (size_t i = 0; i < bd->n; i++) {
		free(bd->in[i].src);
		free(bd->in[i].dst);
	}
	free(bd->in);
}

static int
hash_path(const char *path, uint64_t *size, unsigned char d[32])
{
	gcry_md_hd_t md;
	char *buf;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((buf = malloc(BDL_IO_CHUNK)) == NULL ||
	    gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
		free(buf);
		close(fd);
		return -1;
	}
	*size = 0;
	while ((r = read(fd, buf, BDL_IO_CHUNK)) > 0) {
		gcry_md_write(md, buf, (size_t)r);
		*size += (uint64_t)r;
	}
	if (r == 0) {
		memcpy(d, gcry_md_read(md, GCRY_MD_SHA256), 32);
		rc = 0;
	}
	gcry_md_close(md);
	free(buf);
	close(fd);
	return rc;
}

static int
add_input(struct build *bd, const char *src, const char *dst, char **cause)
{
	struct input *nv, *in;
	struct stat st;
	const char *why;

	if ((why = bdl_path_problem(dst)) != NULL) {
		bdl_cause(cause, "%s: the name \"%s\" %s", src, dst, why);
		return BDL_EINVAL;
	}
	if (lstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
		bdl_cause(cause, "%s is not a regular file", src);
		return BDL_EINVAL;
	}
	if (bd->n >= BDL_MAX_ENTRIES) {
		bdl_cause(cause, "more than %d files", BDL_MAX_ENTRIES);
		return BDL_EINVAL;
	}
	if ((nv = realloc(bd->in, (bd->n + 1) * sizeof(*nv))) == NULL)
		return BDL_ENOMEM;
	bd->in = nv;
	in = &bd->in[bd->n];
	memset(in, 0, sizeof(*in));
	if ((in->src = strdup(src)) == NULL || (in->dst = strdup(dst)) == NULL) {
		free(in->src);
		return BDL_ENOMEM;
	}
	bd->n++;
	if (hash_path(src, &in->size, in->digest) < 0) {
		bdl_cause(cause, "reading %s: %s", src, strerror(errno));
		return BDL_EIO;
	}
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_playbooks(struct build *bd, const char *dir, char **cause)
{
	char **names = NULL, **nv;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		bdl_cause(cause, "%s: %s", dir, strerror(errno));
		return BDL_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if ((nv = realloc(names, (n + 1) * sizeof(*nv))) == NULL ||
		    (nv[n] = strdup(de->d_name)) == NULL) {
			if (nv != NULL)
				names = nv;
			rc = BDL_ENOMEM;
			break;
		}
		names = nv;
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0) {
		bdl_cause(cause, "%s holds no *.json playbooks", dir);
		rc = BDL_EINVAL;
	}
	if (rc == 0)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *src, *dst;

		if (asprintf(&src, "%s/%s", dir, names[i]) < 0)
			rc = BDL_ENOMEM;
		else if (asprintf(&dst, "playbooks/%s", names[i]) < 0) {
			free(src);
			rc = BDL_ENOMEM;
		} else {
			rc = add_input(bd, src, dst, cause);
			free(src);
			free(dst);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static json_t *
strings(const char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char *
make_manifest(const struct bdl_create_opts *o, const struct build *bd,
    int64_t created, const char *model_dst, char **cause)
{
	json_t *root, *files, *compat;
	struct utsname un;
	char when[32], hex[65], *text;

	bdl_time_format(created, when, sizeof(when));
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "format", BDL_FORMAT,
	    "name", o->name, "kind", model_dst == NULL ? "playbooks" :
	    o->playbooks == NULL ? "model" : "both", "version", o->version,
	    "created", when, "min_triage", o->min_triage);
	if (root == NULL)
		return NULL;
	if (model_dst != NULL || o->arch != NULL) {
		const char *arch = o->arch;

		if (arch == NULL && uname(&un) == 0)
			arch = un.machine;
		compat = json_pack("{s:s}", "arch", arch != NULL ? arch : "any");
		if (o->cpu != NULL)
			json_object_set_new(compat, "cpu_features",
			    strings(o->cpu));
		if (model_dst != NULL) {
			json_object_set_new(compat, "quant",
			    json_string(o->quant != NULL ? o->quant : ""));
			json_object_set_new(compat, "mem_bytes",
			    json_integer((json_int_t)o->mem_bytes));
			json_object_set_new(compat, "n_ctx",
			    json_integer((json_int_t)o->n_ctx));
		}
		json_object_set_new(root, "compat", compat);
	}
	if (model_dst != NULL)
		json_object_set_new(root, "models", json_pack("[{s:s, s:s, s:s}]",
		    "file", model_dst, "license", o->license != NULL ?
		    o->license : "", "provenance", o->provenance != NULL ?
		    o->provenance : ""));
	files = json_array();
	for (size_t i = 0; files != NULL && i < bd->n; i++) {
		bdl_hex(bd->in[i].digest, 32, hex);
		json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "path",
		    bd->in[i].dst, "size", (json_int_t)bd->in[i].size, "sha256",
		    hex));
	}
	json_object_set_new(root, "files", files);
	json_object_set_new(root, "changelog", strings(o->changes));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL)
		bdl_cause(cause, "the manifest cannot be built (a string is not "
		    "valid UTF-8?)");
	return text;
}

static int
write_entry(struct archive *a, const char *name, uint64_t size, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : -1;
}

static int
write_tar(int fd, const struct bdl_create_opts *o, const struct build *bd,
    const char *manifest, int64_t created, enum bdl_compress comp,
    char **cause)
{
	struct archive *a;
	gcry_md_hd_t md = NULL;
	char *buf = NULL;
	int rc = BDL_EIO, src = -1;

	(void)o;
	if ((a = archive_write_new()) == NULL ||
	    (buf = malloc(BDL_IO_CHUNK)) == NULL) {
		rc = BDL_ENOMEM;
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    (comp == BDL_COMPRESS_GZIP && archive_write_add_filter_gzip(a)) ||
	    (comp == BDL_COMPRESS_XZ && archive_write_add_filter_xz(a)) ||
	    (comp == BDL_COMPRESS_ZSTD && archive_write_add_filter_zstd(a)) ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		goto arch;
	if (write_entry(a, "manifest.json", strlen(manifest), created) < 0 ||
	    archive_write_data(a, manifest, strlen(manifest)) !=
	    (la_ssize_t)strlen(manifest))
		goto arch;
	for (size_t i = 0; i < bd->n; i++) {
		const struct input *in = &bd->in[i];
		uint64_t got = 0;
		ssize_t r;

		if ((src = open(in->src, O_RDONLY | O_CLOEXEC)) < 0 ||
		    gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
			bdl_cause(cause, "reading %s: %s", in->src,
			    strerror(errno));
			goto out;
		}
		if (write_entry(a, in->dst, in->size, created) < 0)
			goto arch;
		while (got < in->size && (r = read(src, buf,
		    in->size - got < BDL_IO_CHUNK ? (size_t)(in->size - got) :
		    BDL_IO_CHUNK)) > 0) {
			gcry_md_write(md, buf, (size_t)r);
			if (archive_write_data(a, buf, (size_t)r) != r)
				goto arch;
			got += (uint64_t)r;
		}
		if (got != in->size || read(src, buf, 1) != 0 ||
		    memcmp(gcry_md_read(md, GCRY_MD_SHA256), in->digest,
		    32) != 0) {
			bdl_cause(cause, "%s changed while the bundle was built",
			    in->src);
			goto out;
		}
		gcry_md_close(md);
		md = NULL;
		close(src);
		src = -1;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto arch;
	rc = 0;
	goto out;
arch:
	bdl_cause(cause, "writing the archive: %s", archive_error_string(a) !=
	    NULL ? archive_error_string(a) : strerror(errno));
out:
	if (md != NULL)
		gcry_md_close(md);
	if (src >= 0)
		close(src);
	if (a != NULL)
		archive_write_free(a);
	free(buf);
	return rc;
}

/* Detached binary signature of the file at fd, with the signer's key. */
static int
sign_fd(const struct bdl_create_opts *o, int fd, char **sig, size_t *siglen,
    char **cause)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_sign_result_t sr;
	gpgme_error_t e;
	int rc = BDL_ESIG;

	if ((rc = bdl_gpgme_init(cause)) < 0)
		return rc;
	rc = BDL_ESIG;
	if ((e = gpgme_new(&ctx)) != 0 ||
	    (e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (o->gnupg_home != NULL && (e = gpgme_ctx_set_engine_info(ctx,
	    GPGME_PROTOCOL_OpenPGP, NULL, o->gnupg_home)) != 0)) {
		bdl_cause(cause, "gpgme: %s", gpgme_strerror(e));
		goto out;
	}
	gpgme_set_armor(ctx, 0);
	gpgme_set_offline(ctx, 1);
	if ((e = gpgme_get_key(ctx, o->key, &key, 1)) != 0) {
		bdl_cause(cause, "no secret key \"%s\" in the signer's keyring: "
		    "%s", o->key, gpgme_strerror(e));
		goto out;
	}
	if ((e = gpgme_signers_add(ctx, key)) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0 ||
	    (e = gpgme_data_new_from_fd(&in, fd)) != 0 ||
	    (e = gpgme_data_new(&out)) != 0) {
		bdl_cause(cause, "gpgme: %s", e != 0 ? gpgme_strerror(e) :
		    strerror(errno));
		goto out;
	}
	if ((e = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH)) != 0) {
		bdl_cause(cause, "signing with %s: %s", o->key,
		    gpgme_strerror(e));
		goto out;
	}
	sr = gpgme_op_sign_result(ctx);
	if (sr == NULL || sr->invalid_signers != NULL || sr->signatures == NULL) {
		bdl_cause(cause, "signing with %s produced no signature", o->key);
		goto out;
	}
	if (sr->signatures->hash_algo != GPGME_MD_SHA256 &&
	    sr->signatures->hash_algo != GPGME_MD_SHA384 &&
	    sr->signatures->hash_algo != GPGME_MD_SHA512) {
		bdl_cause(cause, "gpg signed with the digest %s, which triage "
		    "refuses; set personal-digest-preferences SHA512 in "
		    "gpg.conf", gpgme_hash_algo_name(sr->signatures->hash_algo));
		goto out;
	}
	*sig = gpgme_data_release_and_get_mem(out, siglen);
	out = NULL;
	rc = *sig != NULL ? 0 : BDL_ENOMEM;
out:
	if (in != NULL)
		gpgme_data_release(in);
	if (out != NULL)
		gpgme_data_release(out);
	if (key != NULL)
		gpgme_key_unref(key);
	if (ctx != NULL)
		gpgme_release(ctx);
	return rc;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* The last second a manifest's "created" can hold (9999-12-31T23:59:59Z). */
#define MAX_EPOCH	253402300799LL

/*
 * SOURCE_DATE_EPOCH as the reproducible-builds spec defines it: decimal
 * digits only.  Empty, signed, spaced, hex, trailing junk or out of range
 * is -1 (the spec asks to fail, not to guess).
 */
static int
source_date(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > MAX_EPOCH)
		return -1;
	*out = v;
	return 0;
}

int
bdl_create(const struct bdl_create_opts *o, char **out_path, char **cause)
{
	struct build bd = { NULL, 0 };
	struct bdl_manifest *check = NULL;
	enum bdl_compress comp = o->compress;
	const char *why = NULL, *sde = getenv("SOURCE_DATE_EPOCH");
	char *manifest = NULL, *final = NULL, *tmp = NULL, *sigfinal = NULL;
	char *sigtmp = NULL, *sig = NULL, *model_dst = NULL, *bn;
	size_t siglen = 0;
	int64_t created = o->created;
	int fd = -1, rc = BDL_EINVAL;

	if (bdl_sha256_init() < 0)
		return BDL_EIO;
	if (o->name == NULL || (why = bdl_name_problem(o->name)) != NULL) {
		bdl_cause(cause, "the bundle name %s", o->name == NULL ?
		    "is missing" : why);
		return BDL_EINVAL;
	}
	if (o->version == NULL || bdl_version_cmp(o->version, "0.0.0") ==
	    BDL_VERSION_BAD || o->min_triage == NULL ||
	    bdl_version_cmp(o->min_triage, "0.0.0") == BDL_VERSION_BAD) {
		bdl_cause(cause, "versions must be MAJOR.MINOR.PATCH");
		return BDL_EINVAL;
	}
	if (o->key == NULL || o->out_dir == NULL ||
	    (o->model == NULL && o->playbooks == NULL)) {
		bdl_cause(cause, "a key, an output directory and a model or "
		    "playbooks are needed");
		return BDL_EINVAL;
	}
	if (o->model != NULL && (o->quant == NULL || o->n_ctx == 0 ||
	    o->mem_bytes == 0 || o->license == NULL || o->provenance == NULL)) {
		bdl_cause(cause, "a model bundle needs its quantization, context "
		    "length, memory, licence and provenance");
		return BDL_EINVAL;
	}
	if (created == 0 && sde != NULL) {
		if (source_date(sde, &created) < 0) {
			/* A typo must not silently date the bundle 1970. */
			bdl_cause(cause, "SOURCE_DATE_EPOCH=\"%.32s\" is not a "
			    "number of seconds from 0 to %lld", sde,
			    (long long)MAX_EPOCH);
			return BDL_EINVAL;
		}
	} else if (created == 0)
		created = (int64_t)time(NULL);
	if (comp == BDL_COMPRESS_DEFAULT)
		/* Quantized weights hardly compress; playbooks do. */
		comp = o->model != NULL ? BDL_COMPRESS_NONE : BDL_COMPRESS_ZSTD;
	if (o->playbooks != NULL && (rc = add_playbooks(&bd, o->playbooks,
	    cause)) < 0)
		goto out;
	if (o->model != NULL) {
		bn = strrchr(o->model, '/');
		bn = bn != NULL ? bn + 1 : (char *)o->model;
		if (asprintf(&model_dst, "model/%s", bn) < 0) {
			model_dst = NULL;
			rc = BDL_ENOMEM;
			goto out;
		}
		if ((rc = add_input(&bd, o->model, model_dst, cause)) < 0)
			goto out;
	}
	rc = BDL_EINVAL;
	if ((manifest = make_manifest(o, &bd, created, model_dst, cause)) ==
	    NULL)
		goto out;
	/* Never sign what the importer would refuse. */
	if ((rc = bdl_manifest_parse(manifest, strlen(manifest), &check,
	    cause)) < 0)
		goto out;
	rc = BDL_EIO;
	if (asprintf(&final, "%s/%s-%s%s", o->out_dir, o->name, o->version,
	    BDL_SUFFIX) < 0 || asprintf(&tmp, "%s/.%s-%s%s.tmp", o->out_dir,
	    o->name, o->version, BDL_SUFFIX) < 0 ||
	    asprintf(&sigfinal, "%s.sig", final) < 0 ||
	    asprintf(&sigtmp, "%s.sig.tmp", tmp) < 0) {
		rc = BDL_ENOMEM;
		goto out;
	}
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		bdl_cause(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((rc = write_tar(fd, o, &bd, manifest, created, comp, cause)) < 0)
		goto out;
	if (fsync(fd) < 0) {
		bdl_cause(cause, "%s: %s", tmp, strerror(errno));
		rc = BDL_EIO;
		goto out;
	}
	if ((rc = sign_fd(o, fd, &sig, &siglen, cause)) < 0)
		goto out;
	rc = BDL_EIO;
	if (write_file(sigtmp, sig, siglen) < 0 || rename(tmp, final) < 0 ||
	    rename(sigtmp, sigfinal) < 0 ||
	    bdl_fsync_dir(AT_FDCWD, o->out_dir) < 0) {
		bdl_cause(cause, "writing %s: %s", final, strerror(errno));
		goto out;
	}
	if (out_path != NULL) {
		*out_path = final;	/* transferred */
		final = NULL;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp != NULL) {
		unlink(tmp);
		if (sigtmp != NULL)
			unlink(sigtmp);
	}
	if (sig != NULL)
		gpgme_free(sig);
	bdl_manifest_free(check);
	build_free(&bd);
	free(manifest);
	free(final);
	free(tmp);
	free(sigfinal);
	free(sigtmp);
	free(model_dst);
	return rc;
}
