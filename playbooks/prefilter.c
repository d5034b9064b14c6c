/*
 * prefilter.c - find many case-folded literals in a line in one pass.
 *
 * Each literal is indexed by one anchor: its whole self if it is 3 bytes
 * long, else the 4-byte window in it least likely to occur in log text
 * (scored by how common its bytes are in logs, first two bytes weighted
 * most).  A rare anchor rather than the literal's head matters: the head of
 * "connection refused" is "conn", which occurs on many lines that have no
 * literal at all, and every such window costs a bucket walk.
 *
 * The scan keeps the folded 4-byte window at each position in a register.
 * It and its 3-byte head are hashed into two 8 KB bit tables of anchors
 * (they stay in L1); only a set bit leads to a hash bucket holding the full
 * anchors, and only an equal anchor leads to comparing the literal, 8
 * bytes at a time.  Cost: two L1 lookups per byte whatever the number of
 * literals.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BUCKETS_LOG	13
#define GATE_LOG	16	/* 8 KB per gate table: stays in L1 */

struct lit {
	char		*s;		/* folded */
	size_t		 len;
	uint32_t	 off;		/* anchor's offset in s */
	uint64_t	 head, hmask;	/* first (up to) 8 folded bytes */
};

struct ent {
	uint32_t	 key;		/* anchor bytes, first byte highest */
	uint32_t	 lit;
};

struct tab {
	uint32_t	*start;		/* bucket -> first entry; 1 << BUCKETS_LOG + 1 */
	struct ent	*ents;
};

struct pb_prefilter {
	struct lit	*lits;
	size_t		 n, cap;
	uint64_t	 bits3[1 << (GATE_LOG - 6)];	/* hashed 3-byte anchors */
	uint64_t	 bits4[1 << (GATE_LOG - 6)];	/* hashed 4-byte anchors */
	struct tab	 t3, t4;
	unsigned char	 fold[256];
};

static inline uint32_t
hashk(uint32_t k)
{
	return (k * 2654435761u) >> (32 - BUCKETS_LOG);
}

static inline uint32_t
gate(uint32_t k)
{
	return (k * 0x9e3779b1u) >> (32 - GATE_LOG);
}

static int
eq_fold(const unsigned char *fold, const char *a, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fold[(unsigned char)a[i]] != (unsigned char)lit[i])
			return 0;
	return 1;
}

/* ASCII A-Z to a-z in 8 bytes at once; the same folding as pf->fold. */
static inline uint64_t
fold8(uint64_t x)
{
	const uint64_t h = 0x8080808080808080ull, ones = 0x0101010101010101ull;
	uint64_t t = x & ~h;
	uint64_t ge_a = t + ones * (0x80 - 'A');
	uint64_t gt_z = t + ones * (0x80 - 'Z' - 1);

	return x | ((ge_a & ~gt_z & ~x & h) >> 2);
}

int
pb_prefilter_new(struct pb_prefilter **out)
{
	struct pb_prefilter *pf;

	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		return PB_ENOMEM;
	for (int c = 0; c < 256; c++)
		pf->fold[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	*out = pf;
	return 0;
}

static void
tab_clear(struct tab *t)
{
	free(t->start);
	free(t->ents);
	t->start = NULL;
	t->ents = NULL;
}

void
pb_prefilter_free(struct pb_prefilter *pf)
{
	if (pf == NULL)
		return;
	for (size_t i = 0; i < pf->n; i++)
		free(pf->lits[i].s);
	free(pf->lits);
	tab_clear(&pf->t3);
	tab_clear(&pf->t4);
	free(pf);
}

int
pb_prefilter_add(struct pb_prefilter *pf, const char *s, size_t len,
    uint32_t *idx)
{
	struct lit *nl;

	if (len < 3 || len > UINT32_MAX)
		return PB_EINVAL;
	/* Many patterns share literals ("error", "sshd"): store each once.
	 * Adding happens once per library load, so a linear search is fine
	 * up to tens of thousands of literals. */
	for (size_t i = 0; i < pf->n; i++)
		if (pf->lits[i].len == len && eq_fold(pf->fold, s, pf->lits[i].s, len)) {
			*idx = (uint32_t)i;
			return 0;
		}
	if (pf->n == pf->cap) {
		size_t cap = pf->cap ? pf->cap * 2 : 64;
		if ((nl = realloc(pf->lits, cap * sizeof(*nl))) == NULL)
			return PB_ENOMEM;
		pf->lits = nl;
		pf->cap = cap;
	}
	if ((pf->lits[pf->n].s = malloc(len)) == NULL)
		return PB_ENOMEM;
	for (size_t i = 0; i < len; i++)
		pf->lits[pf->n].s[i] = (char)pf->fold[(unsigned char)s[i]];
	pf->lits[pf->n].len = len;
	*idx = (uint32_t)pf->n++;
	return 0;
}

/* How common a folded byte is in log text, 0 (never) to 10: space,
 * digits, punctuation of timestamps and key=value, then letters by their
 * English frequency. */
static unsigned
common(unsigned char c)
{
	static const char letters[] = "etaoinsrhldcumfpgwybvkxjqz";
	const char *p;

	if (c == ' ')
		return 10;
	if (c >= '0' && c <= '9')
		return 9;
	if (c != '\0' && (p = strchr(letters, c)) != NULL)
		return 9 - (unsigned)(p - letters) / 3;
	if (c != '\0' && strchr(":.-/_=[](),'\"<>", c) != NULL)
		return 7;
	return 1;
}

/*
 * How many literals hold each 4-byte window: a window shared by many
 * literals ("vice" of device and service) is a word the logs these
 * playbooks read use often, so it makes a poor anchor.  Open addressing,
 * sized for every window of every literal.
 */
struct dfmap {
	uint32_t	*key;
	uint32_t	*cnt;
	size_t		 mask;
};

static uint32_t
win4(const char *p)
{
	const unsigned char *a = (const unsigned char *)p;

	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
}

static uint32_t *
df_slot(const struct dfmap *m, uint32_t k)
{
	size_t h = (size_t)(k * 2654435761u) ^ (k >> 15);

	/* Key 0 marks a free slot; a window of four NULs is never an anchor
	 * worth counting. */
	for (h &= m->mask; m->key[h] != 0 && m->key[h] != k; h = (h + 1) & m->mask)
		;
	return &m->key[h];
}

static int
df_build(struct dfmap *m, const struct pb_prefilter *pf)
{
	size_t total = 0, sz = 64;

	for (size_t i = 0; i < pf->n; i++)
		if (pf->lits[i].len >= 4)
			total += pf->lits[i].len - 3;
	while (sz < 2 * total)
		sz *= 2;
	m->mask = sz - 1;
	if ((m->key = calloc(sz, sizeof(*m->key))) == NULL ||
	    (m->cnt = calloc(sz, sizeof(*m->cnt))) == NULL)
		return PB_ENOMEM;
	for (size_t i = 0; i < pf->n; i++) {
		const struct lit *l = &pf->lits[i];
		for (size_t o = 0; l->len >= 4 && o + 4 <= l->len; o++) {
			uint32_t k = win4(l->s + o), *slot;
			/* Count a window once per literal. */
			int seen = 0;
			for (size_t p = 0; p < o && !seen; p++)
				seen = win4(l->s + p) == k;
			if (k == 0 || seen)
				continue;
			slot = df_slot(m, k);
			*slot = k;
			m->cnt[slot - m->key]++;
		}
	}
	return 0;
}

static unsigned
df_get(const struct dfmap *m, uint32_t k)
{
	uint32_t *slot;

	if (k == 0)
		return 0;
	slot = df_slot(m, k);
	return *slot == k ? m->cnt[slot - m->key] : 0;
}

/* The anchor of a literal: the rarest 4-byte window (3 for a 3-byte one). */
static void
pick_anchor(struct lit *l, const struct dfmap *df)
{
	const unsigned char *s = (const unsigned char *)l->s;
	unsigned best = ~0u;

	l->off = 0;
	for (size_t o = 0; l->len >= 4 && o + 4 <= l->len; o++) {
		unsigned sc = 4 * common(s[o]) + 4 * common(s[o + 1]) +
		    common(s[o + 2]) + common(s[o + 3]) +
		    16 * df_get(df, win4(l->s + o));
		if (sc < best) {
			best = sc;
			l->off = (uint32_t)o;
		}
	}
}

static uint32_t
anchor_key(const struct lit *l)
{
	const unsigned char *a = (const unsigned char *)l->s + l->off;

	if (l->len == 3)
		return (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
}

static int
tab_build(struct tab *t, const struct pb_prefilter *pf, size_t want_len3)
{
	size_t nb = (size_t)1 << BUCKETS_LOG, ne = 0;
	uint32_t *fill = NULL;
	int rc = PB_ENOMEM;

	tab_clear(t);
	for (size_t i = 0; i < pf->n; i++)
		ne += (pf->lits[i].len == 3) == want_len3;
	if ((t->start = calloc(nb + 1, sizeof(*t->start))) == NULL ||
	    (t->ents = calloc(ne ? ne : 1, sizeof(*t->ents))) == NULL ||
	    (fill = calloc(nb, sizeof(*fill))) == NULL)
		goto out;
	for (size_t i = 0; i < pf->n; i++)
		if ((pf->lits[i].len == 3) == want_len3)
			t->start[hashk(anchor_key(&pf->lits[i])) + 1]++;
	for (size_t b = 0; b < nb; b++)
		t->start[b + 1] += t->start[b];
	for (size_t i = 0; i < pf->n; i++) {
		uint32_t k, b;

		if ((pf->lits[i].len == 3) != want_len3)
			continue;
		k = anchor_key(&pf->lits[i]);
		b = hashk(k);
		t->ents[t->start[b] + fill[b]].key = k;
		t->ents[t->start[b] + fill[b]++].lit = (uint32_t)i;
	}
	rc = 0;
out:
	free(fill);
	return rc;
}

int
pb_prefilter_build(struct pb_prefilter *pf)
{
	struct dfmap df = { NULL, NULL, 0 };
	int rc;

	if ((rc = df_build(&df, pf)) != 0)
		goto out;
	memset(pf->bits3, 0, sizeof(pf->bits3));
	memset(pf->bits4, 0, sizeof(pf->bits4));
	for (size_t i = 0; i < pf->n; i++) {
		struct lit *l = &pf->lits[i];
		size_t hn = l->len < 8 ? l->len : 8;
		uint32_t k;

		pick_anchor(l, &df);
		l->head = 0;
		memcpy(&l->head, l->s, hn);
		l->hmask = 0;
		memset(&l->hmask, 0xff, hn);
		k = gate(anchor_key(l));
		if (l->len == 3)
			pf->bits3[k >> 6] |= (uint64_t)1 << (k & 63);
		else
			pf->bits4[k >> 6] |= (uint64_t)1 << (k & 63);
	}
	if ((rc = tab_build(&pf->t3, pf, 1)) != 0 ||
	    (rc = tab_build(&pf->t4, pf, 0)) != 0)
		goto out;
	rc = 0;
out:
	free(df.key);
	free(df.cnt);
	return rc;
}

/* Is literal l at s + start (start + l->len <= n known)? */
static inline int
verify(const struct pb_prefilter *pf, const struct lit *l, const char *s,
    size_t start, size_t n)
{
	uint64_t x;

	if (start + 8 > n)
		return eq_fold(pf->fold, s + start, l->s, l->len);
	memcpy(&x, s + start, 8);
	if ((fold8(x) & l->hmask) != l->head)
		return 0;
	return l->len <= 8 ||
	    eq_fold(pf->fold, s + start + 8, l->s + 8, l->len - 8);
}

/* Report the literals of bucket entries whose anchor, key, sits at i.
 * Out of line: the scan loop keeps its registers. */
static __attribute__((noinline)) size_t
probe(const struct pb_prefilter *pf, const struct tab *t, uint32_t key,
    const char *s, size_t n, size_t i, uint32_t *ids, size_t found,
    size_t max)
{
	uint32_t b = hashk(key);

	for (uint32_t j = t->start[b]; j < t->start[b + 1]; j++) {
		const struct lit *l;

		if (t->ents[j].key != key)
			continue;
		l = &pf->lits[t->ents[j].lit];
		if (l->off > i || l->len > n - (i - l->off))
			continue;
		if (verify(pf, l, s, i - l->off, n) && found < max)
			ids[found++] = t->ents[j].lit;
	}
	return found;
}

size_t
pb_prefilter_scan(const struct pb_prefilter *pf, const char *s, size_t n,
    uint32_t *ids, size_t max)
{
	const unsigned char *fold = pf->fold;
	const unsigned char *u = (const unsigned char *)s;
	const uint64_t *b3 = pf->bits3, *b4 = pf->bits4;
	size_t found = 0, i;
	uint32_t k, g;

	if (n < 3 || pf->n == 0)
		return 0;
	/* k: the folded bytes at i..i+3, first highest.  The last position,
	 * with only three bytes left, is done after the loop so that the
	 * loop has no end test but its own. */
	k = (uint32_t)fold[u[0]] << 16 | (uint32_t)fold[u[1]] << 8 | fold[u[2]];
	for (i = 0; i + 3 < n; i++) {
		uint32_t g4, g3;

		k = k << 8 | fold[u[i + 3]];
		g4 = gate(k);
		g3 = gate(k >> 8);
		if ((b4[g4 >> 6] >> (g4 & 63)) & 1)
			found = probe(pf, &pf->t4, k, s, n, i, ids, found, max);
		if ((b3[g3 >> 6] >> (g3 & 63)) & 1)
			found = probe(pf, &pf->t3, k >> 8, s, n, i, ids, found, max);
	}
	k &= 0xffffff;
	g = gate(k);
	if ((b3[g >> 6] >> (g & 63)) & 1)
		found = probe(pf, &pf->t3, k, s, n, i, ids, found, max);
	return found;
}

size_t
pb_prefilter_count(const struct pb_prefilter *pf)
{
	return pf->n;
}
