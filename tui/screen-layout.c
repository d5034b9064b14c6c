/*
 * screen-layout.c - where each pane goes for a terminal size.
 *
 *   wide (>= LAYOUT_WIDE_COLS):      narrow (80..LAYOUT_WIDE_COLS-1):
 *   +-title--------------------+     +-title--------------------+
 *   | log          | cards     |     | log                      |
 *   |              |-----------|     |--------------------------|
 *   |              | detail    |     | cards     | detail       |
 *   +-status-------------------+     +-status-------------------+
 *   +-prompt-------------------+     +-prompt-------------------+
 *
 * Pure arithmetic, so tests can check every size from 1x1 up.
 */
#include <string.h>

#include "app.h"

/* From this width the log gets the left side to itself. */
#define LAYOUT_WIDE_COLS	140
/* Share of the width (wide) or height (narrow) the log view gets, in %. */
#define LAYOUT_LOG_SHARE	58
/* Share of the side column the card list gets, in %. */
#define LAYOUT_CARDS_SHARE	35

static struct rect
mk(int y, int x, int h, int w)
{
	struct rect r = { y, x, h > 0 ? h : 0, w > 0 ? w : 0 };

	return r;
}

void
layout_compute(int rows, int cols, int zoom, struct layout *l)
{
	int body_y = 1, body_h;

	memset(l, 0, sizeof(*l));
	if (rows < 0)
		rows = 0;
	if (cols < 0)
		cols = 0;
	if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
		l->too_small = true;
		return;
	}
	l->title = mk(0, 0, 1, cols);
	l->status = mk(rows - 2, 0, 1, cols);
	l->prompt = mk(rows - 1, 0, 1, cols);
	body_h = rows - 3;
	if (zoom >= 0 && zoom < PANE_COUNT) {
		l->pane[zoom] = mk(body_y, 0, body_h, cols);
		return;
	}
	l->wide = cols >= LAYOUT_WIDE_COLS;
	if (l->wide) {
		int lw = cols * LAYOUT_LOG_SHARE / 100;
		int rw = cols - lw - 1;		/* one column for the divider */
		int ch = body_h * LAYOUT_CARDS_SHARE / 100;

		l->pane[PANE_LOG] = mk(body_y, 0, body_h, lw);
		l->pane[PANE_CARDS] = mk(body_y, lw + 1, ch, rw);
		l->pane[PANE_DETAIL] = mk(body_y + ch, lw + 1, body_h - ch, rw);
	} else {
		int lh = body_h * LAYOUT_LOG_SHARE / 100;
		/* the list keeps severity, title, count and class legible */
		int cw = cols * 45 / 100;

		l->pane[PANE_LOG] = mk(body_y, 0, lh, cols);
		l->pane[PANE_CARDS] = mk(body_y + lh, 0, body_h - lh, cw);
		l->pane[PANE_DETAIL] = mk(body_y + lh, cw + 1, body_h - lh,
		    cols - cw - 1);
	}
}
