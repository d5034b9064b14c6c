/*
 * keys.c - the one table that maps keys to actions.  The help screen and
 * the KEYS section of triage(1) are made from it, so they cannot drift.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define KC_VIEWS	(KC_LOG | KC_CARDS | KC_DETAIL)
/* Everything with a list or a page to move through. */
#define KC_LISTS	(KC_VIEWS | KC_PAGER | KC_IMPORT)

/*
 * The first entry of an action in a context carries its help; entries
 * after it with help == NULL are aliases shown on the same help line.
 */
static const struct binding table[] = {
	/* while the model answers: these win over everything else */
	{ 27, KC_GEN, ACT_STOP, "Esc", "stop the answer (keeps what was written)" },
	{ K_CTRL('c'), KC_GEN, ACT_STOP, "Ctrl-C", NULL },

	{ 'q', KC_GLOBAL, ACT_QUIT, "q", "quit (the session is saved)" },
	{ '?', KC_GLOBAL, ACT_HELP, "?", "help: keys and commands" },
	{ K_FN(KEY_F(1)), KC_GLOBAL | KC_PAGER, ACT_MAN, "F1", "help on what is in focus: with a card open, triage-playbook(5)" },
	{ '\t', KC_GLOBAL, ACT_FOCUS_NEXT, "Tab", "next pane" },
	{ K_FN(KEY_BTAB), KC_GLOBAL, ACT_FOCUS_PREV, "Shift-Tab", "previous pane" },
	{ 'z', KC_GLOBAL, ACT_ZOOM, "z", "show the focused pane alone, or all panes" },
	{ ':', KC_GLOBAL | KC_IMPORT, ACT_COMMAND, ":", "command line (Tab completes; see COMMANDS)" },
	{ '/', KC_GLOBAL | KC_PAGER, ACT_SEARCH, "/", "search forward (regular expression)" },
	{ 'a', KC_GLOBAL, ACT_ASK, "a", "ask the assistant about the marked lines or open card" },
	{ 'M', KC_GLOBAL, ACT_MCARD, "M", "model card: the model's reading of the open unknown template or marked lines, or why the open card applies (checked, marked as the model's)" },
	{ 'I', KC_GLOBAL, ACT_IMPORT_SCREEN, "I", "import screen: signed bundles from USB media, rollback" },
	{ 'P', KC_GLOBAL, ACT_PASTE_MODE, "P", "paste mode: type or paste lines, Ctrl-D ends" },
	{ K_CTRL('l'), KC_GLOBAL | KC_PAGER, ACT_REDRAW, "Ctrl-L", "redraw the screen" },
	{ K_CTRL('z'), KC_GLOBAL | KC_PAGER, ACT_SUSPEND, "Ctrl-Z", "suspend (fg resumes)" },
	{ K_CTRL('c'), KC_GLOBAL, ACT_INTERRUPT, "Ctrl-C", "does not quit: says how to" },
	{ 27, KC_GLOBAL, ACT_CLOSE, "Esc", "close the card shown in the detail pane" },

	{ K_FN(KEY_DOWN), KC_LISTS, ACT_DOWN, "Down", "next line / item" },
	{ 'j', KC_LISTS, ACT_DOWN, "j", NULL },
	{ K_WHEEL_DOWN, KC_LISTS, ACT_DOWN, "wheel", NULL },
	{ K_FN(KEY_UP), KC_LISTS, ACT_UP, "Up", "previous line / item" },
	{ 'k', KC_LISTS, ACT_UP, "k", NULL },
	{ K_WHEEL_UP, KC_LISTS, ACT_UP, "wheel", NULL },
	{ K_FN(KEY_NPAGE), KC_LISTS, ACT_PGDN, "PgDn", "next page" },
	{ ' ', KC_LOG | KC_CARDS | KC_PAGER, ACT_PGDN, "Space", NULL },
	{ K_CTRL('f'), KC_LISTS, ACT_PGDN, "Ctrl-F", NULL },
	{ K_FN(KEY_PPAGE), KC_LISTS, ACT_PGUP, "PgUp", "previous page" },
	{ 'b', KC_LISTS, ACT_PGUP, "b", NULL },
	{ K_CTRL('b'), KC_LISTS, ACT_PGUP, "Ctrl-B", NULL },
	{ K_CTRL('d'), KC_LISTS, ACT_HALF_DN, "Ctrl-D", "half a page down" },
	{ K_CTRL('u'), KC_LISTS, ACT_HALF_UP, "Ctrl-U", "half a page up" },
	{ 'g', KC_LISTS, ACT_TOP, "g", "first line" },
	{ K_FN(KEY_HOME), KC_LISTS, ACT_TOP, "Home", NULL },
	{ 'G', KC_LISTS, ACT_BOTTOM, "G", "last line (in the log: and follow)" },
	{ K_FN(KEY_END), KC_LISTS, ACT_BOTTOM, "End", NULL },
	{ 'n', KC_LOG | KC_PAGER, ACT_NEXT_HIT, "n", "next search hit" },
	{ 'N', KC_LOG | KC_PAGER, ACT_PREV_HIT, "N", "previous search hit" },

	{ K_FN(KEY_LEFT), KC_LOG, ACT_LEFT, "Left", "scroll left (when not wrapping)" },
	{ 'h', KC_LOG, ACT_LEFT, "h", NULL },
	{ K_FN(KEY_RIGHT), KC_LOG, ACT_RIGHT, "Right", "scroll right" },
	{ 'l', KC_LOG, ACT_RIGHT, "l", NULL },
	{ '0', KC_LOG, ACT_HOME, "0", "back to column 1" },
	{ 'e', KC_LOG, ACT_NEXT_ERR, "e", "next error" },
	{ 'E', KC_LOG, ACT_PREV_ERR, "E", "previous error" },
	{ 'w', KC_LOG, ACT_NEXT_WARN, "w", "next warning" },
	{ 'W', KC_LOG, ACT_PREV_WARN, "W", "previous warning" },
	{ 'r', KC_LOG, ACT_WRAP, "r", "wrap long lines, or scroll them" },
	{ 'f', KC_LOG, ACT_FOLLOW, "f", "follow: keep the newest line in view" },
	{ '#', KC_LOG, ACT_LINENO, "#", "line numbers" },
	{ 'T', KC_LOG, ACT_TIME, "T", "file name and parsed time column" },
	{ 'm', KC_LOG, ACT_MARK, "m", "mark or unmark the line (context for a)" },
	{ K_FN(KEY_ENTER), KC_LOG, ACT_MARK, "Enter", NULL },
	{ 'L', KC_LOG, ACT_LEVEL, "L", "level filter: warnings and errors, errors only, all lines" },
	{ 'H', KC_LOG, ACT_HIDE_FILE, "H", "hide the file of this line (several files; :files, :show)" },
	{ 'S', KC_LOG, ACT_STRIP, "S", "timeline strip: errors and warnings over time, under the log" },
	{ 'c', KC_LOG, ACT_TO_CARD, "c", "open the card this line belongs to (every line of a card is marked in the gutter)" },
	{ 'y', KC_LOG | KC_DETAIL, ACT_YANK, "y", "copy the line (in a card: the check's command) to the clipboard by OSC 52, and show it plain for the mouse" },

	{ '\r', KC_CARDS, ACT_OPEN, "Enter", "open the card in the detail pane" },
	{ '\n', KC_CARDS, ACT_OPEN, NULL, NULL },
	{ K_FN(KEY_ENTER), KC_CARDS, ACT_OPEN, NULL, NULL },
	{ 'o', KC_CARDS, ACT_OPEN, "o", NULL },

	{ '\r', KC_DETAIL, ACT_OPEN, "Enter", "on evidence: show that line in the log" },
	{ '\n', KC_DETAIL, ACT_OPEN, NULL, NULL },
	{ K_FN(KEY_ENTER), KC_DETAIL, ACT_OPEN, NULL, NULL },
	{ ' ', KC_DETAIL, ACT_TICK, "Space", "on a check: tick it off, or untick" },
	{ 'x', KC_DETAIL, ACT_TICK, "x", NULL },

	{ 'q', KC_PAGER, ACT_CLOSE, "q", "close" },
	{ 27, KC_PAGER, ACT_CLOSE, "Esc", NULL },

	{ '\r', KC_IMPORT, ACT_OPEN, "Enter", "import the selected bundle" },
	{ '\n', KC_IMPORT, ACT_OPEN, NULL, NULL },
	{ K_FN(KEY_ENTER), KC_IMPORT, ACT_OPEN, NULL, NULL },
	{ 'i', KC_IMPORT, ACT_OPEN, "i", NULL },
	{ 'D', KC_IMPORT, ACT_IMPORT_FORCE, "D", "import even if not newer (recorded as a downgrade)" },
	{ 'r', KC_IMPORT, ACT_ROLLBACK, "r", "roll the bundle back to its last-known-good version" },
	{ 'y', KC_IMPORT, ACT_CONFIRM, "y", "yes: confirm the rollback or downgrade asked about" },
	{ 's', KC_IMPORT, ACT_RESCAN, "s", "scan the media and paths again" },
	{ 'q', KC_IMPORT, ACT_CLOSE, "q", "close (a running import goes on)" },
	{ 27, KC_IMPORT, ACT_CLOSE, "Esc", NULL },
};

#define NTABLE	(sizeof(table) / sizeof(table[0]))

enum action
keys_lookup(int key, unsigned ctx)
{
	unsigned pane = ctx & ~(unsigned)(KC_GEN | KC_GLOBAL);

	if (ctx & KC_GEN)
		for (size_t i = 0; i < NTABLE; i++)
			if (table[i].key == key && table[i].ctx == KC_GEN)
				return table[i].action;
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].key == key && (table[i].ctx & pane))
			return table[i].action;
	/* Overlays keep their own keys; the views fall back to global ones. */
	if (pane & (KC_PAGER | KC_IMPORT))
		return ACT_NONE;
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].key == key && (table[i].ctx & KC_GLOBAL))
			return table[i].action;
	return ACT_NONE;
}

const struct binding *
keys_other_pane(int key, unsigned pane)
{
	const struct binding *b = NULL;

	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].key == key && (table[i].ctx & KC_VIEWS) &&
		    !(table[i].ctx & pane)) {
			b = &table[i];
			break;
		}
	/* the entry with the help text names the key and says what it does */
	for (size_t i = 0; b != NULL && i < NTABLE; i++)
		if (table[i].action == b->action && table[i].ctx == b->ctx &&
		    table[i].help != NULL)
			return &table[i];
	return b;
}

bool
keys_pane_action(enum action act)
{
	/* ACT_CLOSE (Esc) is global: it closes the card from any pane */
	return act >= ACT_UP && act <= ACT_TICK;
}

const struct binding *
keys_table(size_t *n)
{
	*n = NTABLE;
	return table;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {	/* tui/ may exit on out-of-memory (STYLE.md) */
		fputs("triage: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

char **
keys_help_lines(void)
{
	static const struct { unsigned ctx; const char *title; } groups[] = {
		{ KC_GLOBAL, "Everywhere" },
		{ KC_LOG, "Log view" },
		{ KC_CARDS, "Card list" },
		{ KC_DETAIL, "Card detail" },
		{ KC_GEN, "While the model answers" },
		{ KC_PAGER, "Help and manual pages" },
		{ KC_IMPORT, "Import screen (I or :import)" },
	};
	size_t cap = NTABLE * 2 + 32, n = 0;
	char **v = calloc(cap, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		v[n++] = xstrdup(groups[g].title);
		for (size_t i = 0; i < NTABLE; i++) {
			char names[64] = "", *line;
			size_t off = 0;

			if (!(table[i].ctx & groups[g].ctx) || table[i].help == NULL)
				continue;
			/* this key and its aliases: same action, same context */
			for (size_t k = i; k < NTABLE; k++) {
				if (k > i && table[k].help != NULL &&
				    table[k].action == table[i].action)
					break;
				if (table[k].action != table[i].action ||
				    !(table[k].ctx & groups[g].ctx) ||
				    table[k].keyname == NULL ||
				    strstr(names, table[k].keyname) != NULL)
					continue;
				off += (size_t)snprintf(names + off,
				    sizeof(names) - off, "%s%s", off ? ", " : "",
				    table[k].keyname);
				if (off >= sizeof(names))
					off = sizeof(names) - 1;
			}
			if (asprintf(&line, "  %-22s %s", names,
			    table[i].help) < 0)
				line = xstrdup("");
			v[n++] = line;
		}
		v[n++] = xstrdup("");
	}
	v[n] = NULL;
	return v;
}

void
keys_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
