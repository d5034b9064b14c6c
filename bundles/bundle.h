/*
 * bundle.h - signed knowledge bundles: from a USB stick into a versioned store.
 *
 * Files, in the order a bundle moves through them:
 *   usb.c       finds NAME-VERSION.tbundle files on mounted removable media
 *   stage.c     copies the bundle once into a private, unnamed staging file
 *   verify.c    triage's own keyring, the allow-list, the signature policy
 *   manifest.c  manifest.json: schema, versions, compatibility (jansson)
 *   extract.c   the tar reader with a strict entry policy; SHA-256 (libarchive,
 *               libgcrypt)
 *   store.c     versions/NAME/VERSION, the atomic state switch, rollback, GC
 *   audit.c     the append-only JSON-lines audit log
 *   create.c    the producer side: build the tar and sign it (gpgme)
 *
 * The format is documented in triage-bundle(5).  In short: a bundle is two
 * files, NAME-VERSION.tbundle (a tar archive, uncompressed or compressed with
 * gzip, xz or zstd, whose first entry is manifest.json) and
 * NAME-VERSION.tbundle.sig (a binary detached OpenPGP signature over the
 * exact bytes of the .tbundle file).
 *
 * The order of operations is fixed and every step refuses unless the one
 * before it succeeded (RAUC's verify-then-parse):
 *   bdl_bundle_open       copy the stick's file once into the staging dir
 *   bdl_bundle_verify     check the signature over that copy (nothing parsed)
 *   bdl_bundle_manifest   read and validate manifest.json from the same fd
 *   bdl_bundle_extract    check (and optionally write) every entry
 * bdl_store_import runs all of them and commits; bdl_bundle_* alone serve
 * `bundle info` and `bundle verify`, which write nothing.
 *
 * Everything here is plain C over gpgme, libarchive, libgcrypt and jansson;
 * nothing includes the engine or the playbooks library: the self-check of a
 * new version is a callback (bdl_check_fn) given by the program.  Functions
 * return 0 or a negative BDL_E* code and, where they take `char **cause`, a
 * malloc'd one-line sentence naming the file and the problem.
 */
#ifndef TRIAGE_BUNDLE_H
#define TRIAGE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BDL_FORMAT	1		/* manifest "format" this code reads */
#define BDL_SUFFIX	".tbundle"
#define BDL_SIG_SUFFIX	".tbundle.sig"

enum {
	BDL_OK = 0,
	BDL_ENOMEM = -1,
	BDL_EIO = -2,		/* a file could not be read or written */
	BDL_ESIG = -3,		/* signature missing, bad or not trusted */
	BDL_EFORMAT = -4,	/* archive or manifest malformed or unsafe */
	BDL_EREFUSED = -5,	/* valid, but not for this store or machine */
	BDL_ECHECK = -6,	/* the self-check of the new version failed */
	BDL_EBUSY = -7,		/* another process is changing the store */
	BDL_ENOENT = -8,	/* no such bundle or key */
	BDL_EINVAL = -9,	/* bad argument */
};

/* A human name for a BDL_E* code ("bad signature", ...). */
const char	*bdl_strerror(int code);

/* Import stages, for progress bars. */
enum bdl_stage {
	BDL_STAGE_COPY = 1,
	BDL_STAGE_VERIFY,
	BDL_STAGE_EXTRACT,
	BDL_STAGE_CHECK,
	BDL_STAGE_SWITCH,
};
const char	*bdl_stage_name(enum bdl_stage);
/* done/total in bytes (total 0 when unknown). */
typedef void	(*bdl_progress_fn)(void *arg, enum bdl_stage, uint64_t done,
		    uint64_t total);
/* One finished line: a warning or a note that does not stop anything. */
typedef void	(*bdl_note_fn)(void *arg, const char *line);

/* ---- the keyring: which keys may sign bundles --------------------------- */

/*
 * triage's own GnuPG home (DATADIR/gnupg, 0700) and the allow-list of
 * primary-key fingerprints (DATADIR/trusted-keys).  Keys are never fetched
 * from the network.
 */
struct bdl_keyring;
/* Keys read from a file, before they are added. */
struct bdl_keyfile;

struct bdl_keyinfo {
	char		 fpr[65];	/* primary key fingerprint, upper-case hex */
	char		 uid[256];	/* first user id, made printable */
	char		 algo[32];	/* "ed25519", "rsa4096", ... */
	int64_t		 created, expires;	/* seconds; expires 0: never */
	bool		 revoked, expired, can_sign, secret;
	bool		 weak;		/* algorithm or size below policy */
	bool		 known;		/* already in triage's keyring */
	bool		 allowed;	/* in the allow-list */
};

/*
 * Open (creating if needed) the keyring under `datadir`.  Refuses a home
 * that is not a directory owned by this user with mode 0700.
 */
int	 bdl_keyring_open(const char *datadir, struct bdl_keyring **out,
	    char **cause);
void	 bdl_keyring_free(struct bdl_keyring *);
/* Every key in the keyring; *keys is malloc'd. */
int	 bdl_keyring_list(struct bdl_keyring *, struct bdl_keyinfo **keys,
	    size_t *n, char **cause);
/*
 * Read a public-key file (binary or armored, at most 1 MiB) once and list
 * what it holds, without changing anything.  The same bytes are imported
 * by bdl_keyring_import.
 */
int	 bdl_keyfile_read(struct bdl_keyring *, const char *path,
	    struct bdl_keyfile **out, char **cause);
void	 bdl_keyfile_free(struct bdl_keyfile *);
size_t	 bdl_keyfile_count(const struct bdl_keyfile *);
/* Borrowed; valid until the keyfile is freed. */
const struct bdl_keyinfo *bdl_keyfile_key(const struct bdl_keyfile *, size_t);
/*
 * Import the keys and allow the new ones.  A key not yet known must be
 * usable (not revoked, expired, weak or secret, and able to sign), or
 * nothing is imported; a known key is updated (a revocation or a new
 * expiry date takes effect).
 */
int	 bdl_keyring_import(struct bdl_keyring *, const struct bdl_keyfile *,
	    char **cause);
/* Remove a key (full fingerprint) from the allow-list and the keyring. */
int	 bdl_keyring_remove(struct bdl_keyring *, const char *fpr,
	    char **cause);

/* ---- one bundle file ------------------------------------------------------ */

struct bdl_bundle;
struct bdl_manifest;

enum bdl_kind {
	BDL_KIND_PLAYBOOKS = 1 << 1,
	BDL_KIND_MODEL = 1 << 2,
	BDL_KIND_BOTH = BDL_KIND_PLAYBOOKS | BDL_KIND_MODEL,
};
const char	*bdl_kind_name(enum bdl_kind);

/* Who signed a verified bundle. */
struct bdl_signer {
	char		 fpr[65];	/* primary key fingerprint */
	char		 uid[256];
	int64_t		 time;		/* signature creation time */
	unsigned	 nsigs;		/* signatures in the .sig file */
	unsigned	 ngood;		/* distinct allowed primary keys */
};

/*
 * Stage a bundle: open PATH and PATH.sig without following symlinks, check
 * that both are regular files under the size caps, and copy the archive
 * once into an unnamed file in `stagedir` (which must be private).  All
 * later steps read that copy only.
 */
int	 bdl_bundle_open(const char *path, const char *stagedir,
	    bdl_progress_fn, void *arg, struct bdl_bundle **out, char **cause);
void	 bdl_bundle_free(struct bdl_bundle *);
/* Borrowed; valid while the bundle lives. */
const char *bdl_bundle_path(const struct bdl_bundle *);
uint64_t bdl_bundle_size(const struct bdl_bundle *);

/*
 * Check the detached signature over the staged copy.  Accepted only if at
 * least one signature is good, made by a key (or signing subkey) whose
 * primary fingerprint is allowed, not revoked, not expired when it signed,
 * with a strong algorithm and digest; any bad signature refuses the whole
 * bundle; signatures by unknown keys are ignored.  A signing time in the
 * future of this clock is a note, not a failure.
 */
int	 bdl_bundle_verify(struct bdl_bundle *, struct bdl_keyring *,
	    bdl_note_fn, void *arg, char **cause);
/* After a successful verify; borrowed. */
const struct bdl_signer *bdl_bundle_signer(const struct bdl_bundle *);

/* Read manifest.json, the archive's first entry.  Needs a verified bundle. */
int	 bdl_bundle_manifest(struct bdl_bundle *, char **cause);
/* After bdl_bundle_manifest; borrowed, valid while the bundle lives. */
const struct bdl_manifest *bdl_bundle_get_manifest(const struct bdl_bundle *);

/*
 * Read every entry under the policy (regular files and directories only,
 * names and sizes from the manifest, SHA-256 checked) and, if dirfd >= 0,
 * write the files below it.  dirfd < 0 checks without writing.
 */
int	 bdl_bundle_extract(struct bdl_bundle *, int dirfd, bdl_progress_fn,
	    void *arg, char **cause);

/* ---- the manifest ------------------------------------------------------- */

const char	*bdl_manifest_name(const struct bdl_manifest *);
const char	*bdl_manifest_version(const struct bdl_manifest *);
enum bdl_kind	 bdl_manifest_kind(const struct bdl_manifest *);
int64_t		 bdl_manifest_created(const struct bdl_manifest *);
const char	*bdl_manifest_min_triage(const struct bdl_manifest *);
/* Compatibility; strings are NULL and numbers 0 when not given. */
const char	*bdl_manifest_arch(const struct bdl_manifest *);
size_t		 bdl_manifest_ncpu(const struct bdl_manifest *);
const char	*bdl_manifest_cpu(const struct bdl_manifest *, size_t i);
const char	*bdl_manifest_quant(const struct bdl_manifest *);
uint64_t	 bdl_manifest_mem(const struct bdl_manifest *);
uint32_t	 bdl_manifest_ctx(const struct bdl_manifest *);
/* Files: path i with its size and SHA-256 as 64 hex digits. */
size_t		 bdl_manifest_nfiles(const struct bdl_manifest *);
const char	*bdl_manifest_file(const struct bdl_manifest *, size_t i,
		    uint64_t *size, const char **sha256);
uint64_t	 bdl_manifest_total(const struct bdl_manifest *);
/* The model file (relative path) and its licence and provenance, or NULL. */
const char	*bdl_manifest_model(const struct bdl_manifest *,
		    const char **license, const char **provenance);
size_t		 bdl_manifest_nchanges(const struct bdl_manifest *);
const char	*bdl_manifest_change(const struct bdl_manifest *, size_t i);

/*
 * Compare two semantic versions "MAJOR.MINOR.PATCH": <0, 0, >0, or
 * BDL_EINVAL (as an int below -1000) when either does not parse.
 */
#define BDL_VERSION_BAD	(-1001)
int	 bdl_version_cmp(const char *a, const char *b);
/* Seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf. */
void	 bdl_time_format(int64_t t, char *buf, size_t size);

/* What this machine and program offer, for the compatibility check. */
struct bdl_env {
	const char		*triage_version;	/* "0.1.0" */
	const char *const	*quants;	/* NULL-terminated: what loads */
	const char		*arch;		/* NULL: from uname(2) */
	uint64_t		 mem_bytes;	/* 0: physical memory */
	/* CPU feature probe; NULL: __builtin_cpu_supports.  For tests. */
	int			(*cpu_has)(const char *feature);
};
/* 0 if the bundle fits this machine; BDL_EREFUSED with the reason. */
int	 bdl_manifest_compat(const struct bdl_manifest *,
	    const struct bdl_env *, char **cause);

/* ---- the store ---------------------------------------------------------- */

/*
 * DATADIR/bundles: versions/NAME/VERSION/ (one directory per installed
 * version), state.json (active and last-known-good per bundle, switched
 * atomically), staging/ and a lock file.  Readers need no lock; writers
 * take an exclusive flock and clean up what a crash left behind first.
 */
struct bdl_store;

#define BDL_STORE_CREATE	(1 << 1)	/* make the directories */

/* `audit` is the audit log's path (NULL: none). */
int	 bdl_store_open(const char *dir, const char *audit, int flags,
	    struct bdl_store **out, char **cause);
void	 bdl_store_free(struct bdl_store *);
/* The private staging directory (for bdl_bundle_open); borrowed. */
const char *bdl_store_staging(const struct bdl_store *);
/*
 * Where the recovery that starts every change says what it did (adopted a
 * version a lost state.json forgot, moved something to lost+found/, removed
 * debris): one line per action, also in the audit log.  NULL: silent.
 */
void	 bdl_store_set_note(struct bdl_store *, bdl_note_fn, void *arg);
/*
 * Take the lock just to run that recovery (for `bundle list`): 0, or
 * BDL_EBUSY when another process holds the lock, or an error with *cause.
 * Creates nothing when there is no store yet.
 */
int	 bdl_store_recover(struct bdl_store *, char **cause);

/* Installed bundles, in name order.  Strings borrowed until a change. */
size_t		 bdl_store_count(const struct bdl_store *);
const char	*bdl_store_name(const struct bdl_store *, size_t i);
enum bdl_kind	 bdl_store_kind(const struct bdl_store *, size_t i);
/* The active and last-known-good versions (NULL if none). */
const char	*bdl_store_active(const struct bdl_store *, size_t i);
const char	*bdl_store_lkg(const struct bdl_store *, size_t i);
/* All kept versions, oldest install first, and their details. */
size_t		 bdl_store_nversions(const struct bdl_store *, size_t i);
const char	*bdl_store_version(const struct bdl_store *, size_t i,
		    size_t j, const char **signer, int64_t *signed_at,
		    bool *downgrade, bool *bad);
/* Index of NAME, or -1. */
int		 bdl_store_find(const struct bdl_store *, const char *name);
/*
 * Absolute path of the active version's directory of bundle i (malloc'd),
 * or NULL.
 */
char		*bdl_store_active_dir(const struct bdl_store *, size_t i);

/*
 * Called after extraction, before the switch, with the new version's
 * directory: return 0 if it works (playbooks lint clean, the model loads
 * and generates), else non-zero with *cause set.
 */
typedef int	(*bdl_check_fn)(void *arg, const struct bdl_manifest *,
		    const char *dir, char **cause);

struct bdl_import_opts {
	bool		 allow_downgrade;	/* recorded in state and audit */
	struct bdl_env	 env;
	bdl_check_fn	 check;		/* NULL: no self-check */
	void		*check_arg;
	bdl_progress_fn	 progress;
	bdl_note_fn	 note;		/* warnings */
	void		*arg;		/* for progress and note */
};

struct bdl_import_result {
	char		 name[65];
	char		 version[32];
	char		 previous[32];	/* "" if none */
	struct bdl_signer signer;
	bool		 downgrade;
};

/*
 * Import the bundle at `path`: stage, verify, read the manifest, apply the
 * policy (compatibility, version and signing time not older than the
 * active ones unless allow_downgrade), extract into staging, self-check,
 * then switch atomically: the new version becomes active and the one it
 * replaces last-known-good.  Anything but success leaves the store as it
 * was.  Every outcome is written to the audit log.  `res` (may be NULL)
 * gets what is known even on failure.
 */
int	 bdl_store_import(struct bdl_store *, struct bdl_keyring *,
	    const char *path, const struct bdl_import_opts *,
	    struct bdl_import_result *res, char **cause);
/*
 * Make the last-known-good version of NAME active again (after checking
 * its files); the version left behind is marked bad.  `reason` (may be
 * NULL) goes to the audit log; `event` is "rollback" or "fallback".
 */
int	 bdl_store_rollback(struct bdl_store *, const char *name,
	    const char *event, const char *reason, char **cause);
/* Remove NAME and every version of it. */
int	 bdl_store_remove(struct bdl_store *, const char *name, char **cause);
/*
 * Check the store: state against directories, and every kept version's
 * files against its manifest (sizes and SHA-256).  Each problem is one
 * line to `note`; returns the number of problems (>= 0) or an error.
 */
int	 bdl_store_check(struct bdl_store *, bdl_note_fn, void *arg,
	    char **cause);
/*
 * The active playbook directories of every installed bundle, in name
 * order (for the library), and the active model file (the bundle
 * activated last that has one).  Read-only: creates nothing.  *dirs is a
 * malloc'd NULL-terminated array of malloc'd strings; *model may be NULL.
 */
int	 bdl_store_active_paths(const char *dir, char ***dirs, char **model,
	    char **model_bundle, char **cause);
void	 bdl_strv_free(char **);

/* ---- audit log ---------------------------------------------------------- */

struct bdl_audit {
	const char	*event;		/* import, refuse, rollback, fallback, remove, keys-add, keys-remove */
	const char	*bundle;
	const char	*version;
	const char	*signer;
	const char	*result;	/* "ok", "refused", "failed" */
	const char	*reason;
	const char	*override;	/* "allow-downgrade" or NULL */
};
/* Append one JSON line (with the time) and fsync.  0 or BDL_EIO. */
int	 bdl_audit_append(const char *path, const struct bdl_audit *,
	    char **cause);

/* ---- USB discovery ------------------------------------------------------ */

/*
 * Find *.tbundle files (not macOS "._*" files) in the mount points listed
 * in `mounts` (e.g. /proc/self/mounts) that lie under one of `roots`
 * (NULL: /media, which holds /media/$USER, then /run/media/$USER and
 * /mnt), one directory level deep, and in each of `paths` (files or
 * directories).  *found is a malloc'd NULL-terminated, sorted array of
 * malloc'd paths.
 */
int	 bdl_usb_find(const char *mounts, const char *const *roots,
	    const char *const *paths, char ***found, char **cause);

/* ---- producing bundles -------------------------------------------------- */

enum bdl_compress {
	BDL_COMPRESS_DEFAULT = 0,	/* none with a model, else zstd */
	BDL_COMPRESS_NONE,
	BDL_COMPRESS_GZIP,
	BDL_COMPRESS_XZ,
	BDL_COMPRESS_ZSTD,
};

struct bdl_create_opts {
	const char	*name, *version;
	const char	*key;		/* signer fingerprint */
	const char	*gnupg_home;	/* NULL: the signer's default */
	const char	*model;		/* GGUF file or NULL */
	const char	*playbooks;	/* directory of *.json or NULL */
	const char	*out_dir;
	enum bdl_compress compress;
	int64_t		 created;	/* 0: SOURCE_DATE_EPOCH or now */
	const char	*min_triage;
	const char	*arch;		/* NULL: "any" for playbooks only */
	const char *const *cpu;		/* NULL-terminated or NULL */
	const char	*quant;
	uint64_t	 mem_bytes;
	uint32_t	 n_ctx;
	const char	*license, *provenance;
	const char *const *changes;	/* NULL-terminated or NULL */
};

/*
 * Build OUT/NAME-VERSION.tbundle and sign it into .tbundle.sig with the
 * signer's keyring.  *out_path (may be NULL) gets the .tbundle path.
 */
int	 bdl_create(const struct bdl_create_opts *, char **out_path,
	    char **cause);

/* ---- testing ------------------------------------------------------------ */

/*
 * Fault injection: `fn` is called at every named step that changes files
 * (copying, writing, fsync, rename, the state switch, GC).  Returning
 * non-zero makes the step fail with an I/O error; the hook may also kill
 * the process to test crash safety.  NULL removes it.
 */
typedef int	(*bdl_fault_fn)(const char *point);
void	 bdl_set_fault_hook(bdl_fault_fn);

#endif
