/*
 * cardlines.c - which cards each log line belongs to, for the gutter marks,
 * c (to the card) and e/E, w/W.
 *
 * Why this shape: the matcher reports every line a card counts
 * (pb_analysis_set_line_cb) and keeps no list, so a card seen millions of
 * times must cost little here too.  A line holds a 16-bit set number (0:
 * no card); a set is the playbooks that claim a line, interned, so the
 * thousands of lines of one card share one set.  Lines are kept in pages
 * of CL_PAGE slots, allocated when the first card line of the page comes:
 * a log with no card costs nothing, and the worst case (a card on every
 * line) is two bytes a line, 20 MB for 10 million lines.
 */
#include <stdlib.h>
#include <string.h>

#include "../playbooks/playbook.h"
#include "app.h"

#define CL_PAGE		4096		/* lines per page */
#define CL_SETS		65535		/* set numbers 1..65535 */
#define CL_CACHE	256		/* (set, playbook) -> set, direct mapped */

struct clset {
	size_t			 n;
	const struct pb_playbook **pb;	/* most severe first */
};

struct clsrc {
	uint16_t		**page;
	size_t			 npage;
};

struct cardlines {
	struct clsrc		 src[APP_MAX_SOURCES];
	struct clset		*set;		/* set[0] is the empty set */
	size_t			 nset, capset;
	struct clstep {
		uint16_t		 from, to;
		const struct pb_playbook *pb;
	}			 cache[CL_CACHE];
	size_t			 memory;
};

struct cardlines *
cardlines_new(void)
{
	struct cardlines *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	if ((cl->set = calloc(16, sizeof(*cl->set))) == NULL) {
		free(cl);
		return NULL;
	}
	cl->capset = 16;
	cl->nset = 1;
	cl->memory = sizeof(*cl) + 16 * sizeof(*cl->set);
	return cl;
}

void
cardlines_free(struct cardlines *cl)
{
	if (cl == NULL)
		return;
	for (size_t i = 0; i < APP_MAX_SOURCES; i++) {
		for (size_t p = 0; p < cl->src[i].npage; p++)
			free(cl->src[i].page[p]);
		free(cl->src[i].page);
	}
	for (size_t i = 0; i < cl->nset; i++)
		free(cl->set[i].pb);
	free(cl->set);
	free(cl);
}

/* Worse first; playbooks of one severity by id, so a set has one order. */
static int
pb_before(const struct pb_playbook *x, const struct pb_playbook *y)
{
	enum pb_severity sx = pb_playbook_severity(x),
	    sy = pb_playbook_severity(y);

	if (sx != sy)
		return sx < sy;
	return strcmp(pb_playbook_id(x), pb_playbook_id(y)) < 0;
}

/* The set `from` plus pb: its number, or `from` when no more sets fit. */
static uint16_t
set_with(struct cardlines *cl, uint16_t from, const struct pb_playbook *pb)
{
	const struct clset *f = &cl->set[from];
	struct clstep *c;
	struct clset *ns;
	const struct pb_playbook **v;
	size_t n = f->n + 1, k = 0, i;
	uintptr_t h = ((uintptr_t)pb >> 4) * 31 + from;

	for (i = 0; i < f->n; i++)
		if (f->pb[i] == pb)
			return from;
	c = &cl->cache[h % CL_CACHE];
	if (c->pb == pb && c->from == from && c->to != 0)
		return c->to;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return from;
	/* merge: the order is fixed, so equal sets are equal arrays */
	for (i = 0; i < f->n && pb_before(f->pb[i], pb); i++)
		v[k++] = f->pb[i];
	v[k++] = pb;
	for (; i < f->n; i++)
		v[k++] = f->pb[i];
	for (i = 1; i < cl->nset; i++)
		if (cl->set[i].n == n &&
		    memcmp(cl->set[i].pb, v, n * sizeof(*v)) == 0)
			break;
	if (i < cl->nset) {
		free(v);
	} else {
		if (cl->nset > CL_SETS) {	/* full: the line keeps its cards */
			free(v);
			return from;
		}
		if (cl->nset == cl->capset) {
			size_t cap = cl->capset * 2;
			if ((ns = realloc(cl->set, cap * sizeof(*ns))) == NULL) {
				free(v);
				return from;
			}
			cl->set = ns;
			cl->capset = cap;
			cl->memory += (cap / 2) * sizeof(*ns);
		}
		cl->set[i].n = n;
		cl->set[i].pb = v;	/* transferred */
		cl->nset++;
		cl->memory += n * sizeof(*v);
	}
	*c = (struct clstep){ from, (uint16_t)i, pb };
	return (uint16_t)i;
}

int
cardlines_add(struct cardlines *cl, int src, uint64_t line,
    const struct pb_playbook *pb)
{
	struct clsrc *s;
	uint64_t p = line / CL_PAGE;
	uint16_t *slot;

	if (cl == NULL || src < 0 || src >= APP_MAX_SOURCES || p >= SIZE_MAX /
	    sizeof(*s->page))
		return -1;
	s = &cl->src[src];
	if (p >= s->npage) {
		size_t n = s->npage ? s->npage : 16;
		uint16_t **np;
		while (n <= p)
			n *= 2;
		if ((np = realloc(s->page, n * sizeof(*np))) == NULL)
			return -1;
		memset(np + s->npage, 0, (n - s->npage) * sizeof(*np));
		cl->memory += (n - s->npage) * sizeof(*np);
		s->page = np;
		s->npage = n;
	}
	if (s->page[p] == NULL) {
		if ((s->page[p] = calloc(CL_PAGE, sizeof(uint16_t))) == NULL)
			return -1;
		cl->memory += CL_PAGE * sizeof(uint16_t);
	}
	slot = &s->page[p][line % CL_PAGE];
	*slot = set_with(cl, *slot, pb);
	return 0;
}

size_t
cardlines_get(const struct cardlines *cl, int src, uint64_t line,
    const struct pb_playbook *const **pbs)
{
	const struct clsrc *s;
	uint64_t p = line / CL_PAGE;
	uint16_t id;

	*pbs = NULL;
	if (cl == NULL || src < 0 || src >= APP_MAX_SOURCES)
		return 0;
	s = &cl->src[src];
	if (p >= s->npage || s->page[p] == NULL ||
	    (id = s->page[p][line % CL_PAGE]) == 0)
		return 0;
	*pbs = cl->set[id].pb;
	return cl->set[id].n;
}

size_t
cardlines_memory(const struct cardlines *cl)
{
	return cl != NULL ? cl->memory : 0;
}
