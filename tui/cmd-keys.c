/*
 * cmd-keys.c - `triage keys add|list|remove`: the keys allowed to sign
 * bundles.  Keys come only from files the technician names; each change
 * shows the fingerprint and asks first (--yes for scripts) and is written
 * to the audit log.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bundles/bundle.h"
#include "tui.h"

static const char keys_usage[] =
"usage: triage keys add [--yes] FILE\n"
"       triage keys list\n"
"       triage keys remove [--yes] FINGERPRINT\n"
"\n"
"add     show the OpenPGP public key(s) in FILE and, once confirmed, allow\n"
"        them to sign bundles (an update of a known key, such as a\n"
"        revocation, is merged)\n"
"list    the keys in triage's keyring and whether each may sign\n"
"remove  stop trusting a key and delete it from the keyring\n";

int
ask_yes(const char *question, int assume_yes)
{
	char line[16];

	if (assume_yes)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		out_printf(stderr, "triage: %s: not confirmed (no terminal; use "
		    "--yes)\n", question);
		return 0;
	}
	out_printf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

static char *
data_path(const char *leaf)
{
	char *d = path_data_dir(), *p = NULL;

	if (d != NULL && asprintf(&p, "%s/%s", d, leaf) < 0)
		p = NULL;
	free(d);
	return p;
}

static void
audit_keys(const char *event, const char *fpr, const char *uid, int ok,
    const char *reason)
{
	char *log = data_path("audit.log");
	struct bdl_audit a = { .event = event, .signer = fpr, .bundle = NULL,
	    .result = ok ? "ok" : "refused", .reason = reason != NULL ? reason :
	    uid };

	if (log != NULL)
		(void)bdl_audit_append(log, &a, NULL);
	free(log);
}

static void
date(int64_t t, char *buf, size_t cap)
{
	char full[32];

	if (t == 0) {
		snprintf(buf, cap, "never");
		return;
	}
	bdl_time_format(t, full, sizeof(full));
	snprintf(buf, cap, "%.10s", full);
}

static const char *
status(const struct bdl_keyinfo *k)
{
	if (k->revoked)
		return "REVOKED";
	if (k->expired)
		return "EXPIRED";
	if (k->secret)
		return "SECRET KEY";
	if (k->weak)
		return "weak";
	if (!k->can_sign)
		return "cannot sign";
	return k->allowed ? "allowed" : k->known ? "not allowed" : "new";
}

static void
show_key(const struct bdl_keyinfo *k)
{
	char c[16], e[16];

	date(k->created, c, sizeof(c));
	date(k->expires, e, sizeof(e));
	out_printf(stdout, "key %s\n", k->fpr);
	say_safe(stdout, "  user:    %s", k->uid[0] ? k->uid : "(no user id)");
	out_printf(stdout, "  algo:    %s, created %s, expires %s\n", k->algo, c, e);
	out_printf(stdout, "  status:  %s\n", status(k));
}

static struct bdl_keyring *
open_keyring(void)
{
	struct bdl_keyring *kr = NULL;
	char *d = path_data_dir(), *cause = NULL;

	if (d == NULL) {
		out_printf(stderr, "triage: keys: no data directory (set HOME or "
		    "XDG_DATA_HOME)\n");
		return NULL;
	}
	if (bdl_keyring_open(d, &kr, &cause) < 0) {
		out_printf(stderr, "triage: keys: %s\n", cause != NULL ? cause :
		    "cannot open the keyring");
		kr = NULL;
	}
	free(cause);
	free(d);
	return kr;
}

static int
keys_add(struct bdl_keyring *kr, const char *file, int yes)
{
	struct bdl_keyfile *kf = NULL;
	char *cause = NULL, q[160];
	size_t n;
	int rc = EXIT_TROUBLE, r;

	if ((r = bdl_keyfile_read(kr, file, &kf, &cause)) < 0) {
		say_safe(stderr, "triage: keys: %s", cause != NULL ? cause : file);
		rc = r == BDL_EFORMAT ? 1 : EXIT_TROUBLE;
		goto out;
	}
	n = bdl_keyfile_count(kf);
	for (size_t i = 0; i < n; i++)
		show_key(bdl_keyfile_key(kf, i));
	snprintf(q, sizeof(q), "Allow %s to sign bundles for triage?",
	    n == 1 ? "this key" : "these keys");
	if (!ask_yes(q, yes)) {
		rc = 1;
		goto out;
	}
	if ((r = bdl_keyring_import(kr, kf, &cause)) < 0) {
		out_printf(stderr, "triage: keys: %s\n", cause != NULL ? cause :
		    bdl_strerror(r));
		for (size_t i = 0; i < n; i++)
			audit_keys("keys-add", bdl_keyfile_key(kf, i)->fpr, NULL, 0,
			    cause);
		rc = r == BDL_EREFUSED ? 1 : EXIT_TROUBLE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct bdl_keyinfo *k = bdl_keyfile_key(kf, i);

		out_printf(stdout, "%s %s\n", k->known ? "updated" : "added", k->fpr);
		audit_keys("keys-add", k->fpr, k->uid, 1, NULL);
	}
	rc = 0;
out:
	free(cause);
	bdl_keyfile_free(kf);
	return rc;
}

static int
keys_list(struct bdl_keyring *kr)
{
	struct bdl_keyinfo *k = NULL;
	char *cause = NULL, c[16], e[16];
	size_t n = 0;

	if (bdl_keyring_list(kr, &k, &n, &cause) < 0) {
		out_printf(stderr, "triage: keys: %s\n", cause != NULL ? cause :
		    "cannot list keys");
		free(cause);
		return EXIT_TROUBLE;
	}
	if (n == 0)
		out_printf(stdout, "no keys: add the public key of whoever signs your bundles "
		    "with triage keys add FILE\n");
	for (size_t i = 0; i < n; i++) {
		date(k[i].created, c, sizeof(c));
		date(k[i].expires, e, sizeof(e));
		say_safe(stdout, "%s  %-11s  %-10s  %s  %-10s  %s", k[i].fpr,
		    status(&k[i]), k[i].algo, c, e, k[i].uid);
	}
	free(k);
	return 0;
}

static int
keys_remove(struct bdl_keyring *kr, const char *fpr, int yes)
{
	struct bdl_keyinfo *k = NULL;
	char *cause = NULL, q[160];
	size_t n = 0;
	int r;

	if (bdl_keyring_list(kr, &k, &n, &cause) == 0)
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(k[i].fpr, fpr) == 0)
				show_key(&k[i]);
	free(k);
	free(cause);
	cause = NULL;
	snprintf(q, sizeof(q), "Stop trusting %.64s and delete it?", fpr);
	if (!ask_yes(q, yes))
		return 1;
	if ((r = bdl_keyring_remove(kr, fpr, &cause)) < 0) {
		out_printf(stderr, "triage: keys: %s\n", cause != NULL ? cause :
		    bdl_strerror(r));
		free(cause);
		return r == BDL_ENOENT || r == BDL_EINVAL ? 1 : EXIT_TROUBLE;
	}
	out_printf(stdout, "removed %s\n", fpr);
	audit_keys("keys-remove", fpr, NULL, 1, NULL);
	return 0;
}

int
cmd_keys(int argc, char **argv)
{
	struct bdl_keyring *kr;
	int yes = 0, rc, i = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(keys_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_TROUBLE : 0;
	}
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
			yes = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(keys_usage, stdout);
			return 0;
		} else {
			out_printf(stderr, "triage: keys: unknown option %s\n",
			    argv[i]);
			fputs(keys_usage, stderr);
			return EXIT_TROUBLE;
		}
	}
	if (!((strcmp(argv[1], "add") == 0 && argc - i == 1) ||
	    (strcmp(argv[1], "list") == 0 && argc - i == 0 && !yes) ||
	    (strcmp(argv[1], "remove") == 0 && argc - i == 1))) {
		fputs(keys_usage, stderr);
		return EXIT_TROUBLE;
	}
	if ((kr = open_keyring()) == NULL)
		return EXIT_TROUBLE;
	if (strcmp(argv[1], "add") == 0)
		rc = keys_add(kr, argv[i], yes);
	else if (strcmp(argv[1], "list") == 0)
		rc = keys_list(kr);
	else
		rc = keys_remove(kr, argv[i], yes);
	bdl_keyring_free(kr);
	return rc;
}
