/*
 * fuzz-manifest.c - libFuzzer harness for the bundle manifest parser
 * (bundles/manifest.c).
 *
 * The input is manifest.json's bytes.  When the parser accepts it, every
 * accessor is walked and every string it vouches for is read to its end
 * (under ASan a broken promise is a crash), the strings that reach a
 * terminal are checked to hold no control character, and the
 * compatibility check runs against a fixed machine.  The parser must
 * never abort, whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "../../bundles/internal.h"

static volatile size_t sink;

/* Read all of s; abort (a finding) on a C0, DEL or C1 control. */
static void
text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 &&
		    p[1] <= 0x9f))
			abort();
		sink += *p;
	}
}

static const char *const quants[] = { "Q4_K_M", "Q8_0", "F16", NULL };

static int
cpu_has(const char *f)
{
	return strcmp(f, "avx2") == 0 ? 1 : strcmp(f, "sse2") == 0 ? 1 :
	    strcmp(f, "avx512f") == 0 ? 0 : -1;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bdl_manifest *m = NULL;
	int rc;
	struct bdl_env env = { .triage_version = "0.1.0", .quants = quants,
	    .arch = "x86_64", .mem_bytes = 8ULL << 30, .cpu_has = cpu_has };
	const char *lic = NULL, *prov = NULL, *sha;
	char *cause = NULL;
	uint64_t fsize, total = 0;

	if ((rc = bdl_manifest_parse((const char *)data, size, &m,
	    &cause)) == 0) {
		text(bdl_manifest_name(m));
		text(bdl_manifest_version(m));
		text(bdl_manifest_min_triage(m));
		text(bdl_manifest_arch(m));
		text(bdl_manifest_quant(m));
		if (bdl_name_problem(bdl_manifest_name(m)) != NULL ||
		    bdl_version_cmp(bdl_manifest_version(m), "0.0.0") ==
		    BDL_VERSION_BAD)
			abort();
		for (size_t i = 0; i < bdl_manifest_ncpu(m); i++)
			text(bdl_manifest_cpu(m, i));
		for (size_t i = 0; i < bdl_manifest_nfiles(m); i++) {
			const char *p = bdl_manifest_file(m, i, &fsize, &sha);

			/* Every listed path is one extraction may create. */
			if (p == NULL || bdl_path_problem(p) != NULL ||
			    strlen(sha) != 64 || bdl_manifest_lookup(m, p) == NULL)
				abort();
			total += fsize;
		}
		if (total != bdl_manifest_total(m))
			abort();
		text(bdl_manifest_model(m, &lic, &prov));
		text(lic);
		text(prov);
		for (size_t i = 0; i < bdl_manifest_nchanges(m); i++)
			text(bdl_manifest_change(m, i));
		free(cause);
		cause = NULL;
		(void)bdl_manifest_compat(m, &env, &cause);
	}
	if (getenv("FUZZ_MANIFEST_VERBOSE") != NULL)	/* corpus work */
		fprintf(stderr, "fuzz-manifest: %d %s\n", rc, cause != NULL ?
		    cause : "(no cause)");
	/* A refusal always says why, in one line. */
	else if (rc == BDL_EFORMAT && (cause == NULL ||
	    strchr(cause, '\n') != NULL))
		abort();
	free(cause);
	bdl_manifest_free(m);
	return 0;
}
