/*
 * prefilter.c - find many case-folded literals in a line in one pass.
 *
 * Every 3-byte window of the line is hashed into a bitmap of the literals'
 * first three bytes; only a set bit leads to comparing the literals in that
 * bucket.  On log text nearly every window misses, so the cost is about one
 * table lookup per byte whatever the number of literals.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BITS_LOG	20
#define BUCKETS_LOG	12

struct lit {
	char		*s;
	size_t		 len;
};

struct pb_prefilter {
	struct lit	*lits;
	size_t		 n, cap;
	uint64_t	*bits;		/* 1 << BITS_LOG bits */
	uint32_t	*bstart;	/* bucket -> first index in bitems */
	uint32_t	*bitems;
	unsigned char	 fold[256];
};

static inline uint32_t
hash3(uint32_t k)
{
	return (k * 2654435761u) >> (32 - BITS_LOG);
}

static int
eq_fold(const unsigned char *fold, const char *a, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fold[(unsigned char)a[i]] != (unsigned char)lit[i])
			return 0;
	return 1;
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

void
pb_prefilter_free(struct pb_prefilter *pf)
{
	if (pf == NULL)
		return;
	for (size_t i = 0; i < pf->n; i++)
		free(pf->lits[i].s);
	free(pf->lits);
	free(pf->bits);
	free(pf->bstart);
	free(pf->bitems);
	free(pf);
}

int
pb_prefilter_add(struct pb_prefilter *pf, const char *s, size_t len,
    uint32_t *idx)
{
	struct lit *nl;

	if (len < 3)
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

static uint32_t
key3(const struct pb_prefilter *pf, const char *s)
{
	return (uint32_t)pf->fold[(unsigned char)s[0]] << 16 |
	    (uint32_t)pf->fold[(unsigned char)s[1]] << 8 |
	    pf->fold[(unsigned char)s[2]];
}

int
pb_prefilter_build(struct pb_prefilter *pf)
{
	size_t nb = (size_t)1 << BUCKETS_LOG;
	uint32_t *fill;

	free(pf->bits);
	free(pf->bstart);
	free(pf->bitems);
	pf->bits = calloc(((size_t)1 << BITS_LOG) / 64, sizeof(uint64_t));
	pf->bstart = calloc(nb + 1, sizeof(uint32_t));
	pf->bitems = calloc(pf->n ? pf->n : 1, sizeof(uint32_t));
	fill = calloc(nb, sizeof(uint32_t));
	if (pf->bits == NULL || pf->bstart == NULL || pf->bitems == NULL ||
	    fill == NULL) {
		free(fill);
		return PB_ENOMEM;
	}
	for (size_t i = 0; i < pf->n; i++) {
		uint32_t h = hash3(key3(pf, pf->lits[i].s));
		pf->bits[h >> 6] |= (uint64_t)1 << (h & 63);
		pf->bstart[(h & (nb - 1)) + 1]++;
	}
	for (size_t b = 0; b < nb; b++)
		pf->bstart[b + 1] += pf->bstart[b];
	for (size_t i = 0; i < pf->n; i++) {
		uint32_t b = hash3(key3(pf, pf->lits[i].s)) & (nb - 1);
		pf->bitems[pf->bstart[b] + fill[b]++] = (uint32_t)i;
	}
	free(fill);
	return 0;
}

size_t
pb_prefilter_scan(const struct pb_prefilter *pf, const char *s, size_t n,
    uint32_t *ids, size_t max)
{
	const unsigned char *fold = pf->fold;
	const uint64_t *bits = pf->bits;
	size_t found = 0;
	uint32_t k, h;

	if (n < 3 || pf->n == 0)
		return 0;
	k = (uint32_t)fold[(unsigned char)s[0]] << 8 | fold[(unsigned char)s[1]];
	for (size_t i = 0; i + 2 < n; i++) {
		k = ((k << 8) | fold[(unsigned char)s[i + 2]]) & 0xffffff;
		h = hash3(k);
		if (!(bits[h >> 6] & ((uint64_t)1 << (h & 63))))
			continue;
		uint32_t b = h & (((uint32_t)1 << BUCKETS_LOG) - 1);
		for (uint32_t j = pf->bstart[b]; j < pf->bstart[b + 1]; j++) {
			const struct lit *l = &pf->lits[pf->bitems[j]];
			if (l->len <= n - i && eq_fold(fold, s + i, l->s, l->len) &&
			    found < max)
				ids[found++] = pf->bitems[j];
		}
	}
	return found;
}

size_t
pb_prefilter_count(const struct pb_prefilter *pf)
{
	return pf->n;
}
