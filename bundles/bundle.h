/*
 * bundle.h - signed knowledge bundles from USB (issue #6, not implemented).
 *
 * Planned files, in the order a bundle moves through them:
 *   stage.c     copy bundle.tar + .sig from the stick into a private dir
 *   verify.c    gpgme detached-signature check against an allow-list
 *   extract.c   libarchive with a strict entry policy
 *   manifest.c  jansson manifest: versions, hashes, sizes, kinds
 *   store.c     versions/, atomic current/lkg switch, rollback
 * Everything will be behind the bdl_ prefix and opaque structs.
 */
#ifndef TRIAGE_BUNDLE_H
#define TRIAGE_BUNDLE_H
#endif
