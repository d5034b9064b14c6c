/*
 * fuzz-tar.c - libFuzzer harness for the tar extraction policy
 * (bundles/extract.c: libarchive under our entry rules, the layout check
 * and the writer).
 *
 * The input is a whole .tbundle (tar, or tar under gzip, xz or zstd).  The
 * signature step is skipped: the bundle is marked verified, as if a key
 * had signed these bytes, because the policy must hold for any archive a
 * trusted key might sign by mistake.  manifest.json is read, then every
 * entry is checked and, if the manifest was accepted, written into a
 * scratch directory (on tmpfs when there is one) that the harness empties
 * after each input.  Afterwards the scratch directory may hold only
 * directories and regular files the manifest lists (plus manifest.json),
 * none of them a link, and a sentinel beside it must be unchanged.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "../../bundles/internal.h"

static char root[256], scratch[300], sentinel[300];

static void
setup_dirs(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	FILE *fp;

	snprintf(root, sizeof(root), "%s/triage-fuzz-tar-XXXXXX", base);
	if (mkdtemp(root) == NULL)
		abort();
	snprintf(scratch, sizeof(scratch), "%s/x", root);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", root);
	if ((fp = fopen(sentinel, "w")) == NULL)
		abort();
	fputs("unchanged\n", fp);
	fclose(fp);
}

static void
cleanup(void)
{
	(void)bdl_rmtree_at(AT_FDCWD, root);
}

/* Everything below dir (depth <= 3) is a listed file or a directory. */
static void
walk(const struct bdl_manifest *m, int fd, const char *prefix, int depth)
{
	struct dirent *de;
	DIR *d;
	int dfd = dup(fd);

	if (dfd < 0 || (d = fdopendir(dfd)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		char path[600];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", prefix, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			abort();
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth > BDL_MAX_DEPTH)
				abort();
			sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW);
			if (sub < 0)
				abort();
			strncat(path, "/", sizeof(path) - strlen(path) - 1);
			walk(m, sub, path, depth + 1);
			close(sub);
			continue;
		}
		if (!S_ISREG(st.st_mode) || (strcmp(path, "manifest.json") != 0 &&
		    bdl_manifest_lookup(m, path) == NULL))
			abort();
	}
	closedir(d);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bdl_bundle *b;
	char *cause = NULL, buf[32];
	int fd, dfd = -1, rc;
	FILE *fp;

	if (root[0] == '\0') {
		setup_dirs();
		atexit(cleanup);
		if (bdl_sha256_init() < 0)
			abort();
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->path = strdup("fuzz.tbundle")) == NULL)
		abort();
	fd = memfd_create("fuzz.tbundle", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	b->fd = fd;
	b->size = size;
	b->flags = BDL_F_STAGED | BDL_F_SIG_OK;
	rc = bdl_bundle_manifest(b, &cause);
	if (rc == 0) {
		if (mkdir(scratch, 0700) < 0 ||
		    (dfd = open(scratch, O_RDONLY | O_DIRECTORY)) < 0)
			abort();
		free(cause);
		cause = NULL;
		rc = bdl_bundle_extract(b, dfd, NULL, NULL, &cause);
		walk(b->manifest, dfd, "", 0);
		/* Success means every listed file is there. */
		if (rc == 0)
			for (size_t i = 0; i < b->manifest->nfiles; i++)
				if (faccessat(dfd, b->manifest->files[i].path, F_OK,
				    AT_SYMLINK_NOFOLLOW) != 0)
					abort();
		close(dfd);
		if (bdl_rmtree_at(AT_FDCWD, scratch) < 0)
			abort();
	}
	/* FUZZ_TAR_VERBOSE=1: say what became of each input (corpus work). */
	if (getenv("FUZZ_TAR_VERBOSE") != NULL)
		fprintf(stderr, "fuzz-tar: %s\n", rc == 0 ? "accepted" :
		    cause != NULL ? cause : "refused");
	if (rc < 0 && rc != BDL_ENOMEM && (cause == NULL ||
	    strchr(cause, '\n') != NULL))
		abort();
	if ((fp = fopen(sentinel, "r")) == NULL || fgets(buf, sizeof(buf),
	    fp) == NULL || strcmp(buf, "unchanged\n") != 0)
		abort();
	fclose(fp);
	free(cause);
	bdl_bundle_free(b);
	return 0;
}
