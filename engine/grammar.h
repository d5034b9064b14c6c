/*
 * grammar.h - the constrained-decoding automaton, internal to engine/
 * (grammar.c; the public side is eng_grammar_* in engine.h).
 */
#ifndef TRIAGE_ENGINE_GRAMMAR_H
#define TRIAGE_ENGINE_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GR_MAXDEPTH	8

struct gframe {
	uint64_t	 v;		/* INT: absolute value so far */
	uint64_t	 cand;		/* ENUM: literals still possible */
	uint32_t	 n;		/* STR: code points; ARR: items; INT: digits */
	uint16_t	 node, idx, pos;	/* OBJ: segment and offset; ENUM pos */
	uint8_t		 phase, need, ulo, uhi, neg;
};

struct gstate {
	struct gframe	 f[GR_MAXDEPTH];
	uint8_t		 depth;
	bool		 done;		/* the root value is complete */
};

struct eng_grammar;

void	 gstate_init(const struct eng_grammar *, struct gstate *);
/* Feed one byte; false (state unspecified) if it cannot come next. */
bool	 gstate_feed(const struct eng_grammar *, struct gstate *,
	    unsigned char);
/* The bytes so far are a complete value. */
bool	 gstate_accepting(const struct eng_grammar *, const struct gstate *);
/*
 * Set bit id of bits ((n_vocab + 31) / 32 words) for every token that may
 * come next: its bytes keep the state alive, or it ends the generation
 * and the value is complete.  Returns how many.  Needs a bound grammar.
 */
size_t	 gstate_mask(const struct eng_grammar *, const struct gstate *,
	    uint32_t *bits);
/* Token id may come next (piece: scratch of cap bytes). */
bool	 gstate_allows(const struct eng_grammar *, const struct gstate *,
	    int32_t id, char *piece, size_t cap);
/* The vocabulary size it was bound to (0: not bound). */
size_t	 eng_grammar_vocab(const struct eng_grammar *);

#endif
