/*
 * out.c - colour decisions and the one gate between untrusted text and the
 * terminal.
 *
 * The rule (issue 16): every string from a file, a stick, a key, a model
 * or a playbook goes through one sanitizer, pb_sanitize(), before it
 * reaches stdout or stderr.  To make that structural rather than a matter
 * of remembering, the command-line output goes through out_printf(): its
 * format is program text, and *every* %s and %c argument is sanitized,
 * whatever it holds (file names, log text, GGUF metadata and the engine
 * messages that quote it, playbook fields, manifest fields, key user ids,
 * environment variables, arguments, the causes other modules return).
 * The only %s arguments passed through unchanged are the colour sequences
 * col() returns, recognised by address: they are this file's constants.
 * So a new message is safe by default; a raw printf of untrusted text is
 * the exception tests/hostile.sh looks for.  The engine and the other
 * modules quote file bytes in their messages as they are and leave the
 * escaping to this gate, so there is one escaper, not one per module.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

int out_colour;

static const char *const colour_seq[] = {
	"\033[0m", "\033[1m", "\033[2m", "\033[31m", "\033[33m",
	"\033[36m", "\033[35m", "\033[32m"
};

int
out_colour_init(const char *when, FILE *fp)
{
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");

	if (when == NULL || strcmp(when, "auto") == 0)
		out_colour = isatty(fileno(fp)) && (nc == NULL || *nc == '\0') &&
		    term != NULL && strcmp(term, "dumb") != 0;
	else if (strcmp(when, "always") == 0)
		out_colour = 1;
	else if (strcmp(when, "never") == 0)
		out_colour = 0;
	else
		return -1;
	return 0;
}

const char *
col(enum colour c)
{
	return out_colour ? colour_seq[c] : "";
}

static int
is_colour(const char *s)
{
	for (size_t i = 0; i < sizeof(colour_seq) / sizeof(colour_seq[0]); i++)
		if (s == colour_seq[i])
			return 1;
	return 0;
}

const char *
out_size(uint64_t b, char *buf, size_t cap)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

/* One untrusted string (at most max bytes) escaped, padded to width. */
static void
put_safe(FILE *fp, const char *s, size_t max, int width, int left)
{
	size_t n = s != NULL ? strnlen(s, max) : 6;
	char *safe = pb_sanitize(s != NULL ? s : "(null)", n);
	int len;

	if (safe == NULL) {
		fputs("?", fp);
		return;
	}
	len = (int)strlen(safe);
	if (!left)
		for (int i = len; i < width; i++)
			fputc(' ', fp);
	fputs(safe, fp);
	if (left)
		for (int i = len; i < width; i++)
			fputc(' ', fp);
	free(safe);
}

/*
 * Numbers and pointers: printed with the conversion spec copied from the
 * program's own format (stars already replaced by their values), so the
 * non-literal format is never data.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
put_number(FILE *fp, const char *spec, char conv, const char *len, va_list *ap)
{
	int ll = strcmp(len, "ll") == 0, l = strcmp(len, "l") == 0;
	int z = strcmp(len, "z") == 0, j = strcmp(len, "j") == 0;
	int t = strcmp(len, "t") == 0;

	switch (conv) {
	case 'd': case 'i':
		if (ll) fprintf(fp, spec, va_arg(*ap, long long));
		else if (l) fprintf(fp, spec, va_arg(*ap, long));
		else if (z) fprintf(fp, spec, va_arg(*ap, ssize_t));
		else if (j) fprintf(fp, spec, va_arg(*ap, intmax_t));
		else if (t) fprintf(fp, spec, va_arg(*ap, ptrdiff_t));
		else fprintf(fp, spec, va_arg(*ap, int));
		break;
	case 'u': case 'x': case 'X': case 'o':
		if (ll) fprintf(fp, spec, va_arg(*ap, unsigned long long));
		else if (l) fprintf(fp, spec, va_arg(*ap, unsigned long));
		else if (z) fprintf(fp, spec, va_arg(*ap, size_t));
		else if (j) fprintf(fp, spec, va_arg(*ap, uintmax_t));
		else if (t) fprintf(fp, spec, va_arg(*ap, ptrdiff_t));
		else fprintf(fp, spec, va_arg(*ap, unsigned));
		break;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
		fprintf(fp, spec, va_arg(*ap, double));
		break;
	case 'p':
		fprintf(fp, spec, va_arg(*ap, void *));
		break;
	}
}
#pragma GCC diagnostic pop

void
out_vprintf(FILE *fp, const char *fmt, va_list ap0)
{
	va_list ap;
	const char *p = fmt, *q;

	va_copy(ap, ap0);
	while (*p) {
		char spec[64], len[3] = "";
		size_t sn = 0, ln = 0;
		int width = 0, prec = -1, left = 0;

		if ((q = strchr(p, '%')) == NULL) {
			fputs(p, fp);
			break;
		}
		fwrite(p, 1, (size_t)(q - p), fp);
		p = q + 1;
		if (*p == '%') {
			fputc('%', fp);
			p++;
			continue;
		}
		spec[sn++] = '%';
		for (; *p && strchr("-+ #0", *p); p++) {
			left |= *p == '-';
			if (sn < 8)
				spec[sn++] = *p;
		}
		if (*p == '*') {
			width = va_arg(ap, int);
			p++;
		} else
			for (; *p >= '0' && *p <= '9'; p++)
				width = width * 10 + (*p - '0');
		if (width < 0) {
			left = 1;
			width = -width;
		}
		if (*p == '.') {
			prec = 0;
			if (*++p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else
				for (; *p >= '0' && *p <= '9'; p++)
					prec = prec * 10 + (*p - '0');
		}
		for (; *p && strchr("hlzjt", *p) && ln < 2; p++)
			len[ln++] = *p;
		len[ln] = '\0';
		if (*p == '\0')
			break;
		if (*p == 's' || *p == 'c') {
			char c[2] = { 0, 0 };
			const char *s;

			if (*p == 'c') {
				c[0] = (char)va_arg(ap, int);
				s = c;
			} else
				s = va_arg(ap, const char *);
			if (*p == 's' && s != NULL && is_colour(s))
				fputs(s, fp);
			else
				put_safe(fp, s, prec >= 0 ? (size_t)prec :
				    *p == 'c' ? 1 : SIZE_MAX, width, left);
		} else if (strchr("diuxXofFeEgGp", *p) != NULL) {
			if (left && memchr(spec, '-', sn) == NULL)
				spec[sn++] = '-';	/* from a negative '*' */
			if (width > 0)
				sn += (size_t)snprintf(spec + sn, sizeof(spec) - sn,
				    "%d", width);
			if (prec >= 0)
				sn += (size_t)snprintf(spec + sn, sizeof(spec) - sn,
				    ".%d", prec);
			sn += (size_t)snprintf(spec + sn, sizeof(spec) - sn, "%s%c",
			    len, *p);
			put_number(fp, spec, *p, len, &ap);
		}
		/* anything else (%n, unknown): nothing is printed */
		p++;
	}
	va_end(ap);
}

void
out_printf(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(fp, fmt, ap);
	va_end(ap);
}

void
say_safe(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
}

/* Bytes at the end of s (n) that start a UTF-8 sequence not yet complete. */
static size_t
utf8_tail(const char *s, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = (unsigned char)s[n - k];
		size_t want;

		if ((c & 0xc0) == 0x80)
			continue;	/* a continuation byte: look further back */
		want = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		    c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		return want > k ? k : 0;
	}
	return 0;
}

/*
 * Model text arrives in pieces that may split a UTF-8 sequence: keep an
 * incomplete tail for the next piece, pass newlines and tabs, and send
 * everything else through the sanitizer.
 */
void
out_stream(FILE *fp, struct out_stream *st, const char *s, size_t n, int end)
{
	size_t len = st->n + n, keep, i, seg;
	char *buf, *safe;

	if ((buf = malloc(len + 1)) == NULL)
		return;
	memcpy(buf, st->pend, st->n);
	memcpy(buf + st->n, s, n);
	st->n = 0;
	if (!end && (keep = utf8_tail(buf, len)) > 0) {
		memcpy(st->pend, buf + len - keep, keep);
		st->n = keep;
		len -= keep;
	}
	for (i = 0; i < len; i = seg + 1) {
		for (seg = i; seg < len && buf[seg] != '\n' && buf[seg] != '\t';
		    seg++)
			;
		if (seg > i && (safe = pb_sanitize(buf + i, seg - i)) != NULL) {
			fputs(safe, fp);
			free(safe);
		}
		if (seg < len)
			fputc(buf[seg], fp);
	}
	free(buf);
}

void
warn_line(void *arg, const char *line)
{
	(void)arg;
	say_safe(stderr, "triage: %s", line);
}

void
diag_line(void *arg, const char *line)
{
	FILE *fp = arg != NULL ? arg : stdout;

	say_safe(fp, "%s", line);
}
