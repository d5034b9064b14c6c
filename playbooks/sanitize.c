/*
 * sanitize.c - untrusted log bytes to printable UTF-8.
 *
 * Why: log text reaches terminals and JSON.  An ESC or 8-bit CSI in a log
 * line can rewrite the screen (rsyslog#1138), bidi overrides can disguise a
 * line, and jansson refuses invalid UTF-8.  Everything that is not plainly
 * printable becomes a visible escape, so nothing is silently lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Length of a valid UTF-8 sequence at s (<= n bytes), 0 if invalid. */
size_t
pb_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], v;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

int
pb_cp_unsafe(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||		/* C1, incl. 8-bit CSI */
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    /* zero-width: they hide text or split a word that looks whole */
	    (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff ||
	    (cp >= 0x202a && cp <= 0x202e) ||		/* bidi embeddings */
	    (cp >= 0x2066 && cp <= 0x2069) ||		/* bidi isolates */
	    cp == 0x2028 || cp == 0x2029;		/* line separators */
}

char *
pb_sanitize(const char *str, size_t len)
{
	char *out;

	/* Worst case: every byte becomes "\xNN" (4 bytes), or a 3-byte
	 * code point becomes "\uNNNN" (6 bytes, 2 per input byte). */
	if (len > (SIZE_MAX - 1) / 4)
		return NULL;
	if ((out = malloc(len * 4 + 1)) == NULL)
		return NULL;
	pb_sanitize_into(str, len, out);
	return out;
}

void
pb_sanitize_into(const char *str, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)str;
	char *o = out;
	size_t i = 0, n;
	unsigned cp;

	while (i < len) {
		if (s[i] == '\t') {
			*o++ = ' ';
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			o += sprintf(o, "\\x%02x", s[i]);
			i++;
			continue;
		}
		n = pb_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			o += sprintf(o, "\\x%02x", s[i]);
			i++;
		} else if (pb_cp_unsafe(cp)) {
			o += sprintf(o, "\\u%04x", cp);
			i += n;
		} else {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		}
	}
	*o = '\0';
}
