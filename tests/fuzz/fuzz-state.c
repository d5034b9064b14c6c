/*
 * fuzz-state.c - libFuzzer harness for the reader of the bundle store's
 * state.json (bundles/store.c).
 *
 * The input is state.json's bytes, read into a store that exists only in
 * memory (its directory is never created).  When the reader accepts it,
 * every query is walked: each named active and last-known-good version
 * must be a kept version of its bundle, versions must parse, bundle names
 * must be names, and every string is read to its end.  A damaged state is
 * refused with a one-line cause; the reader never aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "../../bundles/internal.h"

static volatile size_t sink;

static void
touch(const char *s)
{
	if (s == NULL)
		return;
	sink += strlen(s);
}

static int
kept(const struct bdl_store *s, size_t i, const char *v)
{
	for (size_t j = 0; j < bdl_store_nversions(s, i); j++)
		if (strcmp(bdl_store_version(s, i, j, NULL, NULL, NULL, NULL),
		    v) == 0)
			return 1;
	return 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bdl_store *s;
	char *cause = NULL;
	int rc;

	/* A directory that does not exist: opening reads no file. */
	if (s == NULL && bdl_store_open("/nonexistent/triage-fuzz-state", NULL,
	    0, &s, &cause) < 0)
		abort();
	if ((rc = bdl_store_state_parse(s, (const char *)data, size,
	    &cause)) == 0) {
		for (size_t i = 0; i < bdl_store_count(s); i++) {
			const char *name = bdl_store_name(s, i);
			const char *act = bdl_store_active(s, i);
			const char *lkg = bdl_store_lkg(s, i);
			char *dir;

			if (bdl_name_problem(name) != NULL || act == NULL ||
			    !kept(s, i, act) || (lkg != NULL && !kept(s, i, lkg)) ||
			    bdl_store_find(s, name) < 0 ||
			    (i > 0 && strcmp(bdl_store_name(s, i - 1), name) >= 0) ||
			    bdl_kind_name(bdl_store_kind(s, i)) == NULL)
				abort();
			for (size_t j = 0; j < bdl_store_nversions(s, i); j++) {
				const char *signer, *v;
				int64_t at;
				bool down, bad;

				v = bdl_store_version(s, i, j, &signer, &at, &down,
				    &bad);
				if (bdl_version_cmp(v, "0.0.0") == BDL_VERSION_BAD)
					abort();
				touch(signer);
				sink += (size_t)at + down + bad;
			}
			if ((dir = bdl_store_active_dir(s, i)) == NULL)
				abort();
			free(dir);
		}
	} else if (rc == BDL_EFORMAT && (cause == NULL ||
	    strchr(cause, '\n') != NULL))
		abort();
	free(cause);
	return 0;
}
