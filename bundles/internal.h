/*
 * internal.h - what the files of bundles/ share and nobody else sees.
 */
#ifndef TRIAGE_BUNDLE_INTERNAL_H
#define TRIAGE_BUNDLE_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "bundle.h"

/* ---- limits (see triage-bundle(5)) ---------------------------------------- */

#define BDL_MAX_BUNDLE		(64ULL << 30)	/* staged archive bytes */
#define BDL_MAX_SIG		(64 * 1024)	/* .sig file bytes */
#define BDL_MAX_MANIFEST	(256 * 1024)	/* manifest.json bytes */
#define BDL_MAX_FILE		(64ULL << 30)	/* one payload file */
#define BDL_MAX_TOTAL		(64ULL << 30)	/* all payload files */
#define BDL_MAX_ENTRIES		1000		/* files in a manifest */
#define BDL_MAX_PATH		255		/* bytes in a path */
#define BDL_MAX_COMPONENT	64		/* bytes in one path component */
#define BDL_MAX_DEPTH		8		/* components in a path */
#define BDL_MAX_STRING		4096		/* any other manifest string */
#define BDL_MAX_CHANGES		200		/* changelog lines */
#define BDL_MAX_NAME		64		/* bundle name */
#define BDL_MAX_KEYFILE		(1024 * 1024)	/* keys add FILE */
/*
 * Archive bytes allowed beyond the payload (tar headers, pax records,
 * padding): decompressing more than payload + this is a bomb.
 */
#define BDL_TAR_SLACK(n)	((uint64_t)(n) * 4096 + (1ULL << 20))
#define BDL_IO_CHUNK		(1 << 20)

/* Verification state: the bits start at 1 << 1 so that a stray `true`
 * (1) cannot stand for "verified". */
#define BDL_F_STAGED		(1u << 1)
#define BDL_F_SIG_OK		(1u << 2)
#define BDL_F_MANIFEST_OK	(1u << 3)
#define BDL_F_FILES_OK		(1u << 4)

/* ---- structures ------------------------------------------------------------ */

struct bdl_file {
	char		*path;
	uint64_t	 size;
	char		 sha256[65];	/* lower-case hex */
	unsigned char	 digest[32];
};

struct bdl_manifest {
	void		*json;		/* json_t *, the validated document */
	const char	*name, *version, *min_triage;
	enum bdl_kind	 kind;
	int64_t		 created;
	const char	*arch, *quant;
	const char	**cpu;
	size_t		 ncpu;
	uint64_t	 mem;
	uint32_t	 ctx;
	struct bdl_file	*files;
	size_t		 nfiles;
	uint64_t	 total;
	const char	*model, *license, *provenance;
	const char	**changes;
	size_t		 nchanges;
	unsigned char	 digest[32];	/* SHA-256 of manifest.json's bytes */
};

struct bdl_bundle {
	char		*path;
	int		 fd;		/* the staged copy; read with pread */
	uint64_t	 size;
	unsigned char	*sig;
	size_t		 siglen;
	unsigned	 flags;		/* BDL_F_* */
	struct bdl_signer signer;
	struct bdl_manifest *manifest;
};

/* ---- helpers --------------------------------------------------------------- */

/* Set *cause (if cause != NULL and not yet set) to a formatted sentence. */
void	 bdl_cause(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Run the fault hook for `point`: 0 go on, -1 fail (errno = EIO). */
int	 bdl_fault(const char *point);

/*
 * A path inside a bundle: relative, components of [A-Za-z0-9._-] not
 * starting with '.' or '-', no empty, "." or ".." components, length and
 * depth capped.  NULL if fine, else a static reason.
 */
const char *bdl_path_problem(const char *path);

/* SHA-256 as lower-case hex (65 bytes with the NUL). */
void	 bdl_hex(const unsigned char *d, size_t n, char *out);

/* Manifest parsing (manifest.c). */
int	 bdl_manifest_parse(const char *buf, size_t len,
	    struct bdl_manifest **out, char **cause);
void	 bdl_manifest_free(struct bdl_manifest *);
/* Find a file entry by path, or NULL. */
const struct bdl_file *bdl_manifest_lookup(const struct bdl_manifest *,
	    const char *path);
/* The name part check shared with create.c. */
const char *bdl_name_problem(const char *name);
/* Parse "YYYY-MM-DDTHH:MM:SSZ"; -1 if malformed. */
int	 bdl_time_parse(const char *s, int64_t *out);

/* Filesystem helpers (store.c). */
int	 bdl_fsync_dir(int dirfd, const char *name);
int	 bdl_rmtree_at(int dirfd, const char *name);
int	 bdl_mkdirs(const char *path, unsigned mode);
/* Replace `path` with `len` bytes: temp file, fsync, rename, fsync dir. */
int	 bdl_write_atomic(const char *path, const char *data, size_t len,
	    char **cause);

/* state.json's bytes into the store, as a read of the file would (for
 * the fuzz harness): 0 or BDL_EFORMAT with *cause. */
int	 bdl_store_state_parse(struct bdl_store *, const char *buf, size_t len,
	    char **cause);

/* libgcrypt set-up for SHA-256 (extract.c); -1 if it fails. */
int	 bdl_sha256_init(void);

/* gpgme set-up shared by verify.c and create.c. */
int	 bdl_gpgme_init(char **cause);

#endif
