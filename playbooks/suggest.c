/*
 * suggest.c - "possibly: <title>": which playbook does an unknown template
 * resemble?
 *
 * Okapi BM25 (Robertson and Zaragoza, "The Probabilistic Relevance
 * Framework", 2009) over each playbook's title (counted twice), tags,
 * class, explanation and example lines.  Text is split on anything not a
 * letter or digit and at camelCase humps (unseen wording often glues words:
 * "NullPointerException"), then lower-cased; tokens with a digit, one-letter tokens,
 * stop words and level words ("error", "warning": they say how bad, not
 * what) are dropped, and a light suffix strip joins "failed", "failing"
 * and "failure".  A suggestion needs SUGGEST_MIN_TERMS distinct shared
 * terms holding SUGGEST_MIN_COVER of the query's idf mass (words no
 * playbook has weigh as the rarest word), or SUGGEST_OTHER_COVER when the
 * line names a program the playbook does not mention and the playbook is
 * not a generic one (it is about another program: the wording must agree
 * more),
 * so one common word, or a few common words in a long line, never suggest
 * anything; and it must beat every playbook of another class by
 * SUGGEST_MARGIN: the card carries the playbook's class, so a near tie
 * between classes says nothing (fewer suggestions, more of them right).
 *
 * When no playbook qualifies, pb_bm25_class() may name a whole class
 * ("possibly disk-io: ..."): one document per class (its playbooks, a
 * short lexicon of the class's own words, its description); the query's
 * words are weighed down in the header, next to variable parts and when
 * the log says them in many templates (its chatter); each word votes for
 * the classes that use it, and the best class needs two words it owns,
 * most of the votes and twice the second's (triage(1), UNKNOWN LINES).
 * The index is built once per library, in pb_library_prepare().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BM25_K1			1.2
#define BM25_B			0.75
#define TOK_MAX			48	/* longer tokens are cut */
#define QUERY_MAX		64	/* distinct query terms used */
/* Documented in triage(1), UNKNOWN LINES; keep the two in step. */
#define SUGGEST_MIN_TERMS	3
#define SUGGEST_MIN_COVER	0.5
#define SUGGEST_MARGIN		1.25
#define SUGGEST_OTHER_COVER	0.65	/* about another program */

struct term {
	char		*s;
	uint32_t	 df;		/* playbooks that hold it */
	uint32_t	 cdf;		/* class documents that hold it */
	uint32_t	 lex;		/* bit k: in class k's name, description
					 * or lexicon */
};

struct posting {
	uint32_t	 term;
	uint32_t	 tf;
};

struct doc {
	struct posting	*p;		/* sorted by term */
	size_t		 n;
	size_t		 len;		/* tokens */
};

struct pb_bm25 {
	struct term	*terms;
	size_t		 nterms, cap;
	uint32_t	*hash;		/* open addressing: term index + 1 */
	size_t		 hcap;
	struct doc	*docs;
	size_t		 ndocs;
	double		 avglen;
	const struct pb_library *lib;
	/* one document per problem class (class_info order) */
	struct doc	*cdocs;
	size_t		 ncdocs;
	double		 cavglen;
};

/*
 * The problem classes (triage-playbook(5), CLASSES; same order and
 * descriptions): each is also one document, for lines that resemble no
 * single playbook but plainly belong to a family of failures.  The lexicon
 * names the family across vendors and programs: the nouns and verbs its
 * messages use (devices, protocols, daemons, states), written from general
 * knowledge of those systems, not from any evaluated log.  Level words and
 * generic failure verbs add nothing here: every class has them.
 */
struct class_info {
	const char	*name, *desc, *lexicon;
};

static const struct class_info class_info[] = {
	{ "disk-io",
	    "a disk, controller or RAID reports I/O, media or link errors",
	    "disk drive sector medium media ata sata sas scsi nvme ssd hdd "
	    "hba lun raid mdadm megaraid smart reallocated blk cmd submit "
	    "transport multipath initiator iscsi fibre io" },
	{ "filesystem",
	    "a file system is corrupt, read-only or fails its checks",
	    "filesystem ext2 ext3 ext4 xfs btrfs zfs zpool ntfs vfat inode "
	    "superblock journal jbd2 fsck metadata mount remount readonly "
	    "checksum extent" },
	{ "disk-full",
	    "no space or no inodes left, quota exceeded on a volume",
	    "space full quota inodes capacity volume partition enospc" },
	{ "memory-oom",
	    "out of memory: a process killed or an allocation failed",
	    "memory oom killer allocate allocation malloc heap swap rss "
	    "cgroup gfp vmalloc ram" },
	{ "crash",
	    "a process crashed, aborted, asserted or dumped core",
	    "segfault segmentation signal sigsegv sigabrt sigbus sigill "
	    "dump abort assert assertion backtrace pointer dereference" },
	{ "kernel-hang-panic",
	    "kernel panic, oops, lockup, hung task, bug check",
	    "panic oops bug lockup hung rcu stall watchdog nmi "
	    "bugcheck tainted" },
	{ "thermal-power",
	    "temperature, fan, voltage, power supply, UPS and battery",
	    "temperature thermal overheat fan rpm voltage psu power supply "
	    "ups battery mains throttle throttling celsius watt" },
	{ "hardware",
	    "memory, CPU, bus, USB, sensor and firmware faults",
	    "hardware mce ecc dimm edac pcie pci aer bus usb firmware bios "
	    "uefi sensor gpu cpu microcode ipmi bmc" },
	{ "network-link",
	    "a link, port or interface went down or reports errors",
	    "link carrier interface nic ethernet phy duplex flap "
	    "transceiver sfp lacp bond bonding vlan wifi wireless wlan "
	    "associate deauthenticated mtu crc" },
	{ "dhcp",
	    "no address lease, DHCP pool exhausted, declines",
	    "dhcp dhcpd dhclient lease offer nak decline pool bootp dhcpv6" },
	{ "dns",
	    "name resolution failed, server failures, zone errors",
	    "dns resolve resolver resolution lookup nxdomain servfail zone "
	    "nameserver dnssec getaddrinfo unbound dnsmasq" },
	{ "ntp-clock",
	    "clock not synchronised, time jumps, peers unreachable",
	    "ntp clock synchronise synchronize unsynchronized drift stratum"
	    " chrony chronyd ntpd timesyncd leap skew" },
	{ "tls-cert",
	    "certificate expired, untrusted or mismatched; TLS handshake "
	    "failures",
	    "tls ssl certificate cert x509 handshake cipher ca issuer "
	    "expired untrusted pkix openssl sni" },
	{ "auth",
	    "authentication or authorization denied, brute force, "
	    "lockouts",
	    "auth authentication authenticate login logon password "
	    "credential account unauthorized forbidden kerberos krb5 kdc "
	    "ticket principal keytab ldap pam sasl" },
	{ "service-failure",
	    "a service failed, keeps restarting or is unavailable",
	    "service unit daemon restart exited terminated respawn systemd "
	    "supervisor" },
	{ "container",
	    "containers, pods, images and their runtimes",
	    "container docker dockerd containerd pod kubelet kubernetes "
	    "registry runc shim crio oci podman swarm" },
	{ "database",
	    "database errors, connection limits, replication, corruption",
	    "database db sql mysql mariadb postgres postgresql innodb "
	    "tablespace replication replica deadlock oracle mongodb redis "
	    "sqlite wal" },
	{ "web-proxy",
	    "web servers, reverse proxies and load balancers failing "
	    "upstreams",
	    "proxy upstream backend http https gateway nginx apache httpd "
	    "haproxy squid envoy traefik balancer vhost" },
	{ "app-exception",
	    "unhandled exceptions and tracebacks in applications",
	    "exception traceback unhandled uncaught thrown java python "
	    "throwable" },
	{ "update-install",
	    "updates, packages and installers failing",
	    "update upgrade install installation installer package dpkg apt"
	    " yum dnf rpm msi wsus hotfix repository" },
	{ "config",
	    "configuration files invalid or missing",
	    "config configuration conf parameter syntax parse directive "
	    "yaml ini" },
	{ "resource-limit",
	    "a limit, pool, queue or quota is exhausted (not memory or "
	    "disk)",
	    "limit ulimit descriptor descriptors quota pool queue backlog "
	    "threads rlimit semaphore" },
	{ "peer-unreachable",
	    "a peer, node or server is not responding, refused or timed "
	    "out",
	    "peer refused unreachable timeout cluster heartbeat keepalive" },
	{ "industrial-bus",
	    "fieldbuses: Modbus, CAN/CANopen, PROFINET, EtherNet/IP, OPC "
	    "UA",
	    "modbus canopen canbus profinet profibus ethercat opc ua plc "
	    "fieldbus coil cip" },
};
#define NCLASS	(sizeof(class_info) / sizeof(class_info[0]))

/* Sorted (bsearch): English stop words, then levels and log furniture
 * ("error", "warning": how bad, not what; months, "pid", "host"). */
static const char *const stop[] = {
	"a", "about", "after", "again", "alert", "all", "also", "an", "and",
	"any", "apr", "are", "as", "at", "aug", "be", "been", "before",
	"being", "but", "by", "can", "could", "crit", "critical", "debug",
	"dec", "did", "do", "does", "each", "emerg", "err", "error",
	"errors", "fatal", "feb", "for", "fri", "from", "had", "has", "have",
	"he", "her", "his", "host", "how", "if", "in", "info", "into", "is",
	"it", "its", "jan", "jul", "jun", "just", "line", "lines", "log",
	"logs", "mar", "may", "me", "message", "messages", "might", "mon",
	"more", "most", "my", "no", "not", "notice", "nov", "now", "oct",
	"of", "off", "on", "one", "only", "or", "other", "our", "out",
	"over", "own", "per", "pid", "same", "sat", "sep", "severe", "she",
	"should", "so", "some", "such", "sun", "than", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "those",
	"thu", "to", "too", "trace", "tue", "under", "up", "us", "very",
	"via", "warn", "warning", "was", "we", "wed", "were", "what", "when",
	"where", "which", "while", "who", "will", "with", "would", "you",
	"your",
};

static int
cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int
is_stop(const char *w)
{
	return bsearch(w, stop, sizeof(stop) / sizeof(stop[0]), sizeof(stop[0]),
	    cmp_word) != NULL;
}

/* "failed", "failing", "failure", "fails" -> "fail"; keeps 4 letters. */
static void
strip_suffix(char *w, size_t *n)
{
	static const char *const suf[] = { "ures", "ure", "ing", "ed", "es",
	    "s", NULL };

	for (size_t i = 0; suf[i] != NULL; i++) {
		size_t l = strlen(suf[i]);
		if (*n >= l + 4 && memcmp(w + *n - l, suf[i], l) == 0) {
			*n -= l;
			w[*n] = '\0';
			return;
		}
	}
}

/*
 * Call fn for each content token of s.  Returns what the last fn call
 * returned if non-zero (an error), else 0.
 */
static int
tokens(const char *s, int (*fn)(void *, const char *), void *arg)
{
	char w[TOK_MAX + 1];
	size_t n = 0;
	int has_digit = 0, rc;

	for (;; s++) {
		unsigned char c = (unsigned char)*s;
		int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
		/* camelCase is two words: "NullPointer" says "null pointer" */
		int hump = c >= 'A' && c <= 'Z' && n > 0 && w[n - 1] >= 'a' &&
		    w[n - 1] <= 'z' && s[-1] >= 'a' && s[-1] <= 'z';
		if (word && !hump) {
			if (c >= '0' && c <= '9')
				has_digit = 1;
			if (n < TOK_MAX)
				w[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			continue;
		}
		if (n >= 2 && !has_digit) {
			w[n] = '\0';
			if (!is_stop(w)) {
				strip_suffix(w, &n);
				if ((rc = fn(arg, w)) != 0)
					return rc;
			}
		}
		n = 0;
		has_digit = 0;
		if (c == '\0')
			return 0;
		if (hump)
			s--;	/* the capital starts the next word */
	}
}

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Index of term s, or -1. */
static long
term_find(const struct pb_bm25 *ix, const char *s)
{
	size_t h;

	if (ix->hcap == 0)
		return -1;
	for (h = hash_str(s) & (ix->hcap - 1); ix->hash[h] != 0;
	    h = (h + 1) & (ix->hcap - 1))
		if (strcmp(ix->terms[ix->hash[h] - 1].s, s) == 0)
			return (long)ix->hash[h] - 1;
	return -1;
}

static int
rehash(struct pb_bm25 *ix, size_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));

	if (h == NULL)
		return PB_ENOMEM;
	for (size_t i = 0; i < ix->nterms; i++) {
		size_t k = hash_str(ix->terms[i].s) & (cap - 1);
		while (h[k] != 0)
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i + 1;
	}
	free(ix->hash);
	ix->hash = h;
	ix->hcap = cap;
	return 0;
}

static long
term_add(struct pb_bm25 *ix, const char *s)
{
	long t = term_find(ix, s);
	struct term *nt;

	if (t >= 0)
		return t;
	if ((ix->nterms + 1) * 2 > ix->hcap &&
	    rehash(ix, ix->hcap ? ix->hcap * 2 : 1024) != 0)
		return -1;
	if (ix->nterms == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 1024;
		if ((nt = realloc(ix->terms, cap * sizeof(*nt))) == NULL)
			return -1;
		ix->terms = nt;
		ix->cap = cap;
	}
	if ((ix->terms[ix->nterms].s = strdup(s)) == NULL)
		return -1;
	ix->terms[ix->nterms].df = 0;
	ix->terms[ix->nterms].cdf = 0;
	ix->terms[ix->nterms].lex = 0;
	{
		size_t k = hash_str(s) & (ix->hcap - 1);
		while (ix->hash[k] != 0)
			k = (k + 1) & (ix->hcap - 1);
		ix->hash[k] = (uint32_t)ix->nterms + 1;
	}
	return (long)ix->nterms++;
}

/* Building one document: a growing list of term ids. */
struct dbuild {
	struct pb_bm25	*ix;
	uint32_t	*ids;
	size_t		 n, cap;
	uint32_t	 lex;		/* adding class k's words: bit k */
};

static int
add_tok(void *p, const char *w)
{
	struct dbuild *b = p;
	long t = term_add(b->ix, w);
	uint32_t *ni;

	if (t < 0)
		return PB_ENOMEM;
	b->ix->terms[t].lex |= b->lex;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		if ((ni = realloc(b->ids, cap * sizeof(*ni))) == NULL)
			return PB_ENOMEM;
		b->ids = ni;
		b->cap = cap;
	}
	b->ids[b->n++] = (uint32_t)t;
	return 0;
}

static int
add_str(struct dbuild *b, const json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return tokens(json_string_value(v), add_tok, b);
	if (json_is_array(v))
		json_array_foreach(v, i, e)
			if (json_is_string(e)) {
				int rc = tokens(json_string_value(e), add_tok, b);
				if (rc != 0)
					return rc;
			}
	return 0;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* A playbook's words: title (twice), tags, class, explanation, examples. */
static int
add_playbook(struct dbuild *b, const struct pb_playbook *pb, int title)
{
	const json_t *doc = pb->doc;
	int rc = 0;

	for (int i = 0; i < title && rc == 0; i++)
		rc = add_str(b, json_object_get(doc, "title"));
	if (rc != 0 ||
	    (rc = add_str(b, json_object_get(doc, "tags"))) != 0 ||
	    (rc = add_str(b, json_object_get(doc, "class"))) != 0 ||
	    (rc = add_str(b, json_object_get(doc, "explanation"))) != 0 ||
	    (rc = add_str(b, json_object_get(json_object_get(doc,
	    "examples"), "match"))) != 0)
		return rc;
	return 0;
}

/* The collected term ids into postings of d; counts document frequency
 * in df (playbooks) or cdf (classes). */
static int
doc_finish(struct pb_bm25 *ix, struct dbuild *b, struct doc *d, int klass)
{
	d->len = b->n;
	if (b->n == 0)
		return 0;
	qsort(b->ids, b->n, sizeof(*b->ids), cmp_u32);
	if ((d->p = calloc(b->n, sizeof(*d->p))) == NULL)
		return PB_ENOMEM;
	for (size_t i = 0; i < b->n; i++) {
		if (d->n > 0 && d->p[d->n - 1].term == b->ids[i]) {
			d->p[d->n - 1].tf++;
			continue;
		}
		d->p[d->n].term = b->ids[i];
		d->p[d->n++].tf = 1;
		if (klass)
			ix->terms[b->ids[i]].cdf++;
		else
			ix->terms[b->ids[i]].df++;
	}
	return 0;
}

/* The words of one playbook into d. */
static int
doc_build(struct pb_bm25 *ix, const struct pb_playbook *pb, struct doc *d)
{
	struct dbuild b = { ix, NULL, 0, 0, 0 };
	int rc;

	if ((rc = add_playbook(&b, pb, 2)) == 0)
		rc = doc_finish(ix, &b, d, 0);
	free(b.ids);
	return rc;
}

/*
 * The document of class k: its lexicon, name and description (each
 * twice: they name the class whatever the vendor), and every playbook of
 * the class.  Only the lexicon's words are marked as the class's own.
 */
static int
class_build(struct pb_bm25 *ix, size_t k, struct doc *d)
{
	const struct class_info *ci = &class_info[k];
	struct dbuild b = { ix, NULL, 0, 0, (uint32_t)1 << k };
	int rc = 0;

	for (int i = 0; i < 2 && rc == 0; i++)
		if ((rc = tokens(ci->lexicon, add_tok, &b)) != 0)
			goto out;
	/* the name's and description's words are not all the class's own
	 * ("service-failure" says "fail", which every class has) */
	b.lex = 0;
	for (int i = 0; i < 2 && rc == 0; i++)
		if ((rc = tokens(ci->name, add_tok, &b)) != 0 ||
		    (rc = tokens(ci->desc, add_tok, &b)) != 0)
			goto out;
	for (size_t i = 0; i < ix->lib->n && rc == 0; i++)
		if (ix->lib->pbs[i]->klass != NULL &&
		    strcmp(ix->lib->pbs[i]->klass, ci->name) == 0)
			rc = add_playbook(&b, ix->lib->pbs[i], 1);
	if (rc == 0)
		rc = doc_finish(ix, &b, d, 1);
out:
	free(b.ids);
	return rc;
}

void
pb_bm25_free(struct pb_bm25 *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nterms; i++)
		free(ix->terms[i].s);
	free(ix->terms);
	free(ix->hash);
	for (size_t i = 0; i < ix->ndocs; i++)
		free(ix->docs[i].p);
	free(ix->docs);
	for (size_t i = 0; i < ix->ncdocs; i++)
		free(ix->cdocs[i].p);
	free(ix->cdocs);
	free(ix);
}

int
pb_bm25_new(const struct pb_library *lib, struct pb_bm25 **out)
{
	struct pb_bm25 *ix;
	size_t total = 0;
	int rc = PB_ENOMEM;

	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return PB_ENOMEM;
	ix->lib = lib;
	if ((ix->docs = calloc(lib->n ? lib->n : 1, sizeof(*ix->docs))) == NULL)
		goto out;
	ix->ndocs = lib->n;
	for (size_t i = 0; i < lib->n; i++) {
		if ((rc = doc_build(ix, lib->pbs[i], &ix->docs[i])) != 0)
			goto out;
		total += ix->docs[i].len;
	}
	ix->avglen = lib->n ? (double)total / (double)lib->n : 1;
	if (ix->avglen < 1)
		ix->avglen = 1;
	rc = PB_ENOMEM;
	if ((ix->cdocs = calloc(NCLASS, sizeof(*ix->cdocs))) == NULL)
		goto out;
	ix->ncdocs = NCLASS;
	total = 0;
	for (size_t k = 0; k < NCLASS; k++) {
		if ((rc = class_build(ix, k, &ix->cdocs[k])) != 0)
			goto out;
		total += ix->cdocs[k].len;
	}
	ix->cavglen = (double)total / NCLASS;
	*out = ix;	/* transferred */
	ix = NULL;
	rc = 0;
out:
	pb_bm25_free(ix);
	return rc;
}

static uint32_t
tf_of(const struct doc *d, uint32_t term)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->p[mid].term < term)
			lo = mid + 1;
		else if (d->p[mid].term > term)
			hi = mid;
		else
			return d->p[mid].tf;
	}
	return 0;
}

/* Query terms, each once; words no playbook has are NOTERM and weigh as
 * much as the rarest playbook word. */
#define NOTERM UINT32_MAX
struct qbuild {
	const struct pb_bm25 *ix;
	uint32_t	 t[QUERY_MAX];
	char		 unk[QUERY_MAX][TOK_MAX + 1];
	size_t		 n, nunk;
};

static int
add_query(void *p, const char *w)
{
	struct qbuild *q = p;
	long t = term_find(q->ix, w);

	if (q->n == QUERY_MAX)
		return 0;
	if (t < 0) {
		for (size_t i = 0; i < q->nunk; i++)
			if (strcmp(q->unk[i], w) == 0)
				return 0;
		strcpy(q->unk[q->nunk++], w);
		q->t[q->n++] = NOTERM;
		return 0;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->t[i] == (uint32_t)t)
			return 0;
	q->t[q->n++] = (uint32_t)t;
	return 0;
}

static double
idf(const struct pb_bm25 *ix, uint32_t t)
{
	double n = (double)ix->ndocs, df = t == NOTERM ? 1 : ix->terms[t].df;

	if (df < 1)	/* a word only the class documents have */
		df = 1;
	return log(1 + (n - df + 0.5) / (df + 0.5));
}

/* BM25 of document d for the query; shared terms and their idf mass. */
static double
bm25(const struct pb_bm25 *ix, const struct qbuild *q, size_t d,
    size_t *shared, double *mass)
{
	const struct doc *dc = &ix->docs[d];
	double s = 0, norm = BM25_K1 * (1 - BM25_B + BM25_B *
	    (double)dc->len / ix->avglen);

	*shared = 0;
	*mass = 0;
	for (size_t k = 0; k < q->n; k++) {
		uint32_t tf = q->t[k] == NOTERM ? 0 : tf_of(dc, q->t[k]);
		if (tf == 0)
			continue;
		++*shared;
		*mass += idf(ix, q->t[k]);
		s += idf(ix, q->t[k]) * tf * (BM25_K1 + 1) / (tf + norm);
	}
	return s;
}

/*
 * The message of a template without the host before its program tag:
 * "gw lb[<*>]: upstream ..." -> "lb[<*>]: upstream ...".  The host name
 * is noise for similarity; the program name often is not.
 */
static const char *
message(const char *text)
{
	const char *colon = strstr(text, ": "), *p;

	if (colon == NULL || colon - text > 80)
		return text;
	for (p = colon; p > text && p[-1] != ' '; p--)
		;
	return p;
}

/* The first token of a program tag, as tokens() makes it. */
struct prog {
	char	 w[TOK_MAX + 1];
	int	 found;
};

static int
first_token(void *p, const char *w)
{
	struct prog *pr = p;

	if (!pr->found) {
		snprintf(pr->w, sizeof(pr->w), "%s", w);
		pr->found = 1;
	}
	return 1;	/* stop after the first */
}

/*
 * The term of the program a template names ("ciod: ...", "sshd[<*>]:
 * ..."): its index, NOTERM if no playbook has it, or -1 when the template
 * names no program.
 */
static long
program_term(const struct pb_bm25 *ix, const char *text)
{
	const char *msg = message(text), *colon;
	char tag[TOK_MAX + 1];
	struct prog pr = { "", 0 };
	size_t n;
	long t;

	if ((colon = strstr(msg, ": ")) == NULL || colon - msg > 80)
		return -1;
	n = (size_t)(colon - msg) < TOK_MAX ? (size_t)(colon - msg) : TOK_MAX;
	memcpy(tag, msg, n);
	tag[n] = '\0';
	(void)tokens(tag, first_token, &pr);
	if (!pr.found)
		return -1;
	return (t = term_find(ix, pr.w)) < 0 ? (long)NOTERM : t;
}

long
pb_bm25_best(const struct pb_bm25 *ix, const char *text, double *score)
{
	struct qbuild *q;
	double best = 0, other = 0, total = 0, bmass = 0, sc, mass;
	long bi = -1;
	size_t shared;
	long prog;

	*score = 0;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->ix = ix;
	(void)tokens(message(text), add_query, q);
	prog = program_term(ix, text);
	for (size_t k = 0; k < q->n; k++)
		total += idf(ix, q->t[k]);
	for (size_t d = 0; q->n >= SUGGEST_MIN_TERMS && d < ix->ndocs; d++) {
		sc = bm25(ix, q, d, &shared, &mass);
		/* a playbook about another program must agree more */
		if (prog >= 0 && !ix->lib->pbs[d]->generic &&
		    (prog == (long)NOTERM || tf_of(&ix->docs[d],
		    (uint32_t)prog) == 0) && mass < SUGGEST_OTHER_COVER * total)
			continue;
		if (shared >= SUGGEST_MIN_TERMS && sc > best) {
			best = sc;
			bi = (long)d;
			bmass = mass;
		}
	}
	/* most of what the line says must be in the playbook */
	if (bi < 0 || bmass < SUGGEST_MIN_COVER * total)
		goto none;
	/* and no playbook of another class may come close */
	for (size_t d = 0; d < ix->ndocs; d++) {
		const char *kb = ix->lib->pbs[bi]->klass, *kd = ix->lib->pbs[d]->klass;
		if (d == (size_t)bi || (kb != NULL && kd != NULL &&
		    strcmp(kb, kd) == 0))
			continue;
		if ((sc = bm25(ix, q, d, &shared, &mass)) > other)
			other = sc;
	}
	if (best < other * SUGGEST_MARGIN)
		goto none;
	free(q);
	*score = best;
	return bi;
none:
	free(q);
	return -1;
}

/* ---- class-level suggestions ------------------------------------------- */

/*
 * A log's own vocabulary: in how many of its templates each word occurs.
 * Words in many templates are the system's chatter (its host, its
 * programs, its subsystems), not what one failure line is about.
 */
struct bgword {
	char		*s;
	uint32_t	 n;
};

struct pb_bm25_bg {
	struct bgword	*w;		/* open addressing */
	size_t		 cap, used;
	uint32_t	 ntmpl;
};

struct pb_bm25_bg *
pb_bm25_bg_new(void)
{
	return calloc(1, sizeof(struct pb_bm25_bg));
}

void
pb_bm25_bg_free(struct pb_bm25_bg *bg)
{
	if (bg == NULL)
		return;
	for (size_t i = 0; i < bg->cap; i++)
		free(bg->w[i].s);
	free(bg->w);
	free(bg);
}

static struct bgword *
bg_slot(const struct pb_bm25_bg *bg, const char *s)
{
	size_t h;

	if (bg == NULL || bg->cap == 0)
		return NULL;
	for (h = hash_str(s) & (bg->cap - 1); bg->w[h].s != NULL;
	    h = (h + 1) & (bg->cap - 1))
		if (strcmp(bg->w[h].s, s) == 0)
			break;
	return &bg->w[h];
}

static int
bg_grow(struct pb_bm25_bg *bg)
{
	size_t cap = bg->cap ? bg->cap * 2 : 1024;
	struct bgword *w = calloc(cap, sizeof(*w));

	if (w == NULL)
		return PB_ENOMEM;
	for (size_t i = 0; i < bg->cap; i++) {
		size_t h;
		if (bg->w[i].s == NULL)
			continue;
		for (h = hash_str(bg->w[i].s) & (cap - 1); w[h].s != NULL;
		    h = (h + 1) & (cap - 1))
			;
		w[h] = bg->w[i];
	}
	free(bg->w);
	bg->w = w;
	bg->cap = cap;
	return 0;
}

/* The distinct words of one template. */
struct wset {
	char	 w[QUERY_MAX][TOK_MAX + 1];
	size_t	 n;
};

static int
wset_add(void *p, const char *w)
{
	struct wset *ws = p;

	for (size_t i = 0; i < ws->n; i++)
		if (strcmp(ws->w[i], w) == 0)
			return 0;
	if (ws->n < QUERY_MAX)
		strcpy(ws->w[ws->n++], w);
	return 0;
}

int
pb_bm25_bg_add(struct pb_bm25_bg *bg, const char *text)
{
	struct wset *ws;
	struct bgword *b;
	int rc = 0;

	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return PB_ENOMEM;
	(void)tokens(text, wset_add, ws);
	bg->ntmpl++;
	for (size_t i = 0; i < ws->n; i++) {
		if ((bg->used + 1) * 2 > bg->cap && (rc = bg_grow(bg)) != 0)
			break;
		b = bg_slot(bg, ws->w[i]);
		if (b->s == NULL) {
			if ((b->s = strdup(ws->w[i])) == NULL) {
				rc = PB_ENOMEM;
				break;
			}
			bg->used++;
		}
		b->n++;
	}
	free(ws);
	return rc;
}

/* Query weights (triage(1), UNKNOWN LINES; keep the two in step). */
#define W_HEADER	0.25	/* host and program tag before the message */
#define W_VARIABLE	0.25	/* glued to a variable part: <*>.example.net */
#define W_FULL		0.5	/* a word weighing this much is message text */
#define CHATTER_MIN	6	/* templates in the log before chatter counts */
/* Class votes: a word's vote is sharpened (its class share squared) and,
 * outside the lexicons, trusted as n/(n + CLASS_TRUST) for a word of n
 * playbooks. */
#define CLASS_TRUST	2.0
/* Acceptance of a class-level suggestion. */
#define CLASS_OWN	0.5	/* a word's share of a class to support it */
#define CLASS_SUPPORT	2	/* support needed: a lexicon word counts 2 */
#define CLASS_MIN_VOTE	0.35	/* votes for the class: a third of a
				 * rarest word */
#define CLASS_SHARE	0.5	/* of all class votes */
#define CLASS_COVER	0.15	/* of the query's whole weight */
#define CLASS_MARGIN	2.0	/* over the second-best class */

/* How much a word the log says in many templates still counts. */
static double
chatter(const struct pb_bm25_bg *bg, const char *w)
{
	const struct bgword *b = bg_slot(bg, w);
	double share;

	if (b == NULL || b->s == NULL || bg->ntmpl < CHATTER_MIN || b->n < 3)
		return 1;
	share = (double)b->n / bg->ntmpl;
	return 1 / (1 + 4 * (share > 0.1 ? share - 0.1 : 0));
}

struct wquery {
	const struct pb_bm25 *ix;
	const struct pb_bm25_bg *bg;
	uint32_t	 t[QUERY_MAX];
	double		 w[QUERY_MAX];
	char		 unk[QUERY_MAX][TOK_MAX + 1];
	size_t		 n;
	double		 cur;		/* weight of the words being added */
};

static int
add_wquery(void *p, const char *word)
{
	struct wquery *q = p;
	long t = term_find(q->ix, word);
	double w = q->cur * chatter(q->bg, word);

	for (size_t i = 0; i < q->n; i++)
		if (t >= 0 ? q->t[i] == (uint32_t)t : q->t[i] == NOTERM &&
		    strcmp(q->unk[i], word) == 0) {
			if (w > q->w[i])
				q->w[i] = w;
			return 0;
		}
	if (q->n == QUERY_MAX)
		return 0;
	q->t[q->n] = t >= 0 ? (uint32_t)t : NOTERM;
	snprintf(q->unk[q->n], sizeof(q->unk[0]), "%s", t >= 0 ? "" : word);
	q->w[q->n++] = w;
	return 0;
}

/*
 * Bytes of the header before the message: "host prog[pid]:" or "prog:"
 * (at most two words before the first ": ").  A longer head is message
 * ("Portal prelogin failed: ...").
 */
static size_t
header_len(const char *text)
{
	const char *colon = strstr(text, ": ");
	int words = 0, in = 0;

	if (colon == NULL || colon - text > 80)
		return 0;
	for (const char *p = text; p < colon; p++) {
		if (*p == ' ')
			in = 0;
		else if (!in) {
			in = 1;
			words++;
		}
	}
	return words <= 2 ? (size_t)(colon - text) + 1 : 0;
}

/* Separators of a variable part: "<*>.example.net" is one part. */
static int
part_sep(int c)
{
	return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '(' ||
	    c == ')' || c == '[' || c == ']' || c == '{' || c == '}' ||
	    c == '=' || c == '"' || c == '\'' || c == '/' || c == ':' ||
	    c == '|' || c == '\0';
}

/* The words of a template, weighted: header and variable parts count
 * less, and so does the log's own chatter. */
static void
wquery_build(struct wquery *q, const char *text)
{
	size_t hdr = header_len(text), i = 0, len = strlen(text);
	char part[512];

	while (i < len) {
		size_t e = i, n;
		while (e < len && !part_sep((unsigned char)text[e]))
			e++;
		/* "<*>" holds no separator, so it stays inside one part */
		if (e > i) {
			n = e - i < sizeof(part) - 1 ? e - i : sizeof(part) - 1;
			memcpy(part, text + i, n);
			part[n] = '\0';
			q->cur = (i < hdr ? W_HEADER : 1) *
			    (strstr(part, "<*>") != NULL ? W_VARIABLE : 1);
			(void)tokens(part, add_wquery, q);
		}
		i = e + 1;
	}
}

/* How informative a word is: idf over the playbooks, as a share of the
 * rarest word's (a word no playbook has), so that the thresholds hold for
 * a library of any size. */
static double
widf(const struct pb_bm25 *ix, uint32_t t)
{
	double n = ix->ndocs > 1 ? (double)ix->ndocs : 1;
	double df = t == NOTERM ? 1 : ix->terms[t].df;

	if (df < 1)
		df = 1;
	return log(1 + (n - df + 0.5) / (df + 0.5)) / log(1 + (n - 0.5) / 1.5);
}

/*
 * Each word's share of belonging to each class: its frequency in the
 * class document (per word of that document), over the sum of those.
 * A word the whole library uses spreads thin; "nvme" goes to disk-io.
 */
static int
popcount(uint32_t x)
{
	int n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

/* Share of word i's class frequency that is class k's. */
static double
class_frac(const struct pb_bm25 *ix, uint32_t t, size_t k)
{
	double sum = 0, rk = 0, r;

	if (t == NOTERM)
		return 0;
	if (ix->terms[t].lex != 0)
		return ix->terms[t].lex & ((uint32_t)1 << k) ?
		    1.0 / popcount(ix->terms[t].lex) : 0;
	for (size_t c = 0; c < ix->ncdocs; c++) {
		const struct doc *dc = &ix->cdocs[c];
		r = dc->len ? (double)tf_of(dc, t) / dc->len : 0;
		sum += r;
		if (c == k)
			rk = r;
	}
	return sum > 0 ? rk / sum : 0;
}

static void
class_votes(const struct pb_bm25 *ix, const struct wquery *q, double *vote,
    double *total)
{
	double f, n;

	*total = 0;
	for (size_t k = 0; k < ix->ncdocs; k++)
		vote[k] = 0;
	for (size_t i = 0; i < q->n; i++) {
		double wi = q->w[i] * widf(ix, q->t[i]);
		*total += wi;
		if (q->t[i] == NOTERM)
			continue;
		/* a word of one playbook says little about its class */
		n = ix->terms[q->t[i]].df;
		if (ix->terms[q->t[i]].lex == 0)
			wi *= n / (n + CLASS_TRUST);
		for (size_t k = 0; k < ix->ncdocs; k++)
			if ((f = class_frac(ix, q->t[i], k)) > 0)
				vote[k] += wi * f * f;
	}
}

/*
 * Words of the query that speak for class k: message text (not header or
 * variable) whose class share is mostly k's; a lexicon word of k counts
 * twice.  Also how many distinct message words the class document holds.
 */
static int
class_support(const struct pb_bm25 *ix, const struct wquery *q, size_t k,
    int *held)
{
	int sup = 0;

	*held = 0;
	for (size_t i = 0; i < q->n; i++) {
		if (q->w[i] < W_FULL || q->t[i] == NOTERM ||
		    tf_of(&ix->cdocs[k], q->t[i]) == 0)
			continue;
		++*held;
		if (class_frac(ix, q->t[i], k) >= CLASS_OWN)
			sup += ix->terms[q->t[i]].lex & ((uint32_t)1 << k) ?
			    2 : 1;
	}
	return sup;
}

long
pb_bm25_class(const struct pb_bm25 *ix, const struct pb_bm25_bg *bg,
    const char *text, double *score)
{
	struct wquery *q;
	double vote[NCLASS], best = 0, second = 0, sum = 0, total;
	long bi = -1;
	int held = 0, sup = 0;

	*score = 0;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->ix = ix;
	q->bg = bg;
	wquery_build(q, text);
	class_votes(ix, q, vote, &total);
	for (size_t k = 0; k < ix->ncdocs; k++) {
		sum += vote[k];
		if (vote[k] > best) {
			second = best;
			best = vote[k];
			bi = (long)k;
		} else if (vote[k] > second)
			second = vote[k];
	}
	if (bi >= 0)
		sup = class_support(ix, q, (size_t)bi, &held);
	free(q);
	/* two words at least, owned by the class; most of the class
	 * evidence, a fair part of the line, and no close second */
	if (bi < 0 || held < 2 || sup < CLASS_SUPPORT ||
	    best < CLASS_MIN_VOTE || best < CLASS_SHARE * sum ||
	    best < CLASS_COVER * total || best < second * CLASS_MARGIN)
		return -1;
	*score = best;
	return bi;
}

const char *
pb_bm25_class_name(long k, const char **desc)
{
	if (k < 0 || (size_t)k >= NCLASS)
		return NULL;
	if (desc != NULL)
		*desc = class_info[k].desc;
	return class_info[k].name;
}
