/*
 * lib-ggufw.c - streaming GGUF v3 writer, see lib-ggufw.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib-ggufw.h"
#include "quant.h"

#define GGUFW_VERSION		3
#define GGUFW_MAX_ALIGN		(1u << 20)
#define GGUFW_COUNTS_AT		8	/* file offset of n_tensors, n_kv */
#define GGUFW_PAD_CHUNK		64

struct ggufw_tinfo {
	char		 name[GGUF_MAX_NAME];
	uint32_t	 type;
	uint32_t	 n_dims;
	int64_t		 ne[GGUF_MAX_DIMS];
	uint64_t	 offset;	/* from the start of the data section */
	uint64_t	 nbytes;
};

enum ggufw_state {
	GGUFW_META = 1,		/* keys and tensor infos */
	GGUFW_DATA,		/* streaming tensor data */
};

struct ggufw {
	FILE			*f;
	char			*path;
	uint32_t		 align;
	enum ggufw_state	 state;
	uint64_t		 n_kv;
	uint64_t		 arr_left;	/* strings owed to an array */

	struct ggufw_tinfo	*t;
	size_t			 n_t, cap_t;
	uint64_t		 data_size;	/* aligned end of the tensors */

	size_t			 cur;		/* tensor being filled */
	uint64_t		 cur_done;	/* its bytes written so far */

	char			*cause;		/* first error; sticky */
};

static int
ggufw_fail(struct ggufw *w, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL;

	if (w->cause != NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	w->cause = s != NULL ? s : strdup("out of memory");
	if (w->cause == NULL)
		w->cause = (char *)"";	/* never freed: see ggufw_release */
	return -1;
}

static int
ggufw_ok(struct ggufw *w)
{
	return w != NULL && w->cause == NULL;
}

/* ---- raw little-endian output ------------------------------------------- */

static int
put(struct ggufw *w, const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, w->f) != n)
		return ggufw_fail(w, "%s: write failed: %s", w->path,
		    strerror(errno));
	return 0;
}

static int
put_le(struct ggufw *w, uint64_t v, size_t nbytes)
{
	unsigned char	 b[8];
	size_t		 i;

	for (i = 0; i < nbytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return put(w, b, nbytes);
}

static int
put_str(struct ggufw *w, const char *s, size_t len)
{
	if (put_le(w, len, 8) != 0)
		return -1;
	return put(w, s, len);
}

static int
put_zeros(struct ggufw *w, uint64_t n)
{
	static const unsigned char zeros[GGUFW_PAD_CHUNK];
	size_t	 k;

	while (n > 0) {
		k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		if (put(w, zeros, k) != 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Size in bytes of one element of a scalar value type, 0 for str/arr/bad. */
static size_t
vtype_size(enum gguf_vtype t)
{
	switch (t) {
	case GGUF_U8: case GGUF_I8: case GGUF_BOOL:
		return 1;
	case GGUF_U16: case GGUF_I16:
		return 2;
	case GGUF_U32: case GGUF_I32: case GGUF_F32:
		return 4;
	case GGUF_U64: case GGUF_I64: case GGUF_F64:
		return 8;
	case GGUF_STR: case GGUF_ARR:
		break;
	}
	return 0;
}

/* One host-order scalar at p, as the format's little-endian bytes. */
static int
put_scalar(struct ggufw *w, enum gguf_vtype t, const void *p)
{
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;

	switch (vtype_size(t)) {
	case 1:
		memcpy(&u8, p, 1);
		if (t == GGUF_BOOL && u8 > 1)
			return ggufw_fail(w, "%s: bool value %u is not 0 or 1",
			    w->path, u8);
		return put_le(w, u8, 1);
	case 2:
		memcpy(&u16, p, 2);
		return put_le(w, u16, 2);
	case 4:
		memcpy(&u32, p, 4);	/* float: same bits, same width */
		return put_le(w, u32, 4);
	case 8:
		memcpy(&u64, p, 8);
		return put_le(w, u64, 8);
	}
	return ggufw_fail(w, "%s: value type %d is not a scalar", w->path,
	    (int)t);
}

/* ---- lifecycle ----------------------------------------------------------- */

int
ggufw_open(const char *path, uint32_t alignment, struct ggufw **out,
    char **cause)
{
	struct ggufw	*w = NULL;
	int		 rc = -1;

	if (alignment == 0)
		alignment = GGUFW_ALIGN_DEFAULT;
	if ((alignment & (alignment - 1)) != 0 || alignment > GGUFW_MAX_ALIGN) {
		if (cause != NULL &&
		    asprintf(cause, "%s: alignment %u is not a power of two up "
		    "to %u", path, alignment, GGUFW_MAX_ALIGN) < 0)
			*cause = NULL;
		goto out;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(path)) == NULL) {
		if (cause != NULL)
			*cause = strdup("out of memory");
		goto out;
	}
	w->align = alignment;
	w->state = GGUFW_META;
	if ((w->f = fopen(path, "wb")) == NULL) {
		if (cause != NULL &&
		    asprintf(cause, "%s: cannot create: %s", path,
		    strerror(errno)) < 0)
			*cause = NULL;
		goto out;
	}
	/* Counts are placeholders until the metadata is complete. */
	put(w, "GGUF", 4);
	put_le(w, GGUFW_VERSION, 4);
	put_le(w, 0, 8);
	put_le(w, 0, 8);
	if (!ggufw_ok(w)) {
		if (cause != NULL)
			*cause = strdup(w->cause);
		goto out;
	}
	*out = w;	/* transferred */
	w = NULL;
	rc = 0;
out:
	if (w != NULL)
		ggufw_abort(w);
	return rc;
}

static void
ggufw_release(struct ggufw *w, bool remove_file)
{
	if (w->f != NULL)
		fclose(w->f);
	if (remove_file && w->path != NULL)
		unlink(w->path);
	if (w->cause != NULL && w->cause[0] != '\0')
		free(w->cause);
	free(w->t);
	free(w->path);
	free(w);
}

void
ggufw_abort(struct ggufw *w)
{
	if (w != NULL)
		ggufw_release(w, true);
}

/* ---- metadata ------------------------------------------------------------ */

/* Common start of every pair: state checks, then key and type. */
static int
kv_begin(struct ggufw *w, const char *key, enum gguf_vtype t)
{
	if (!ggufw_ok(w))
		return -1;
	if (w->state != GGUFW_META)
		return ggufw_fail(w, "%s: key '%s' after tensor data", w->path,
		    key);
	if (w->arr_left > 0)
		return ggufw_fail(w, "%s: key '%s' while %llu strings of the "
		    "previous array are missing", w->path, key,
		    (unsigned long long)w->arr_left);
	if (key == NULL || key[0] == '\0')
		return ggufw_fail(w, "%s: empty key", w->path);
	if (put_str(w, key, strlen(key)) != 0 || put_le(w, t, 4) != 0)
		return -1;
	w->n_kv++;
	return 0;
}

static int
kv_scalar(struct ggufw *w, const char *key, enum gguf_vtype t, const void *p)
{
	if (kv_begin(w, key, t) != 0)
		return -1;
	return put_scalar(w, t, p);
}

int
ggufw_kv_u8(struct ggufw *w, const char *key, uint8_t v)
{
	return kv_scalar(w, key, GGUF_U8, &v);
}

int
ggufw_kv_i8(struct ggufw *w, const char *key, int8_t v)
{
	return kv_scalar(w, key, GGUF_I8, &v);
}

int
ggufw_kv_u16(struct ggufw *w, const char *key, uint16_t v)
{
	return kv_scalar(w, key, GGUF_U16, &v);
}

int
ggufw_kv_i16(struct ggufw *w, const char *key, int16_t v)
{
	return kv_scalar(w, key, GGUF_I16, &v);
}

int
ggufw_kv_u32(struct ggufw *w, const char *key, uint32_t v)
{
	return kv_scalar(w, key, GGUF_U32, &v);
}

int
ggufw_kv_i32(struct ggufw *w, const char *key, int32_t v)
{
	return kv_scalar(w, key, GGUF_I32, &v);
}

int
ggufw_kv_u64(struct ggufw *w, const char *key, uint64_t v)
{
	return kv_scalar(w, key, GGUF_U64, &v);
}

int
ggufw_kv_i64(struct ggufw *w, const char *key, int64_t v)
{
	return kv_scalar(w, key, GGUF_I64, &v);
}

int
ggufw_kv_f32(struct ggufw *w, const char *key, float v)
{
	return kv_scalar(w, key, GGUF_F32, &v);
}

int
ggufw_kv_f64(struct ggufw *w, const char *key, double v)
{
	return kv_scalar(w, key, GGUF_F64, &v);
}

int
ggufw_kv_bool(struct ggufw *w, const char *key, bool v)
{
	uint8_t	 b = v ? 1 : 0;

	return kv_scalar(w, key, GGUF_BOOL, &b);
}

int
ggufw_kv_str(struct ggufw *w, const char *key, const char *s, size_t len)
{
	if (kv_begin(w, key, GGUF_STR) != 0)
		return -1;
	return put_str(w, s, len);
}

int
ggufw_kv_arr(struct ggufw *w, const char *key, enum gguf_vtype elem,
    const void *v, uint64_t n)
{
	const unsigned char	*p = v;
	size_t			 sz = vtype_size(elem);
	uint64_t		 i;

	if (!ggufw_ok(w))
		return -1;
	if (sz == 0)
		return ggufw_fail(w, "%s: key '%s': array element type %d is "
		    "not a scalar", w->path, key, (int)elem);
	if (kv_begin(w, key, GGUF_ARR) != 0 || put_le(w, elem, 4) != 0 ||
	    put_le(w, n, 8) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (put_scalar(w, elem, p + i * sz) != 0)
			return -1;
	return 0;
}

int
ggufw_kv_arr_str(struct ggufw *w, const char *key, uint64_t n)
{
	if (kv_begin(w, key, GGUF_ARR) != 0 || put_le(w, GGUF_STR, 4) != 0 ||
	    put_le(w, n, 8) != 0)
		return -1;
	w->arr_left = n;
	return 0;
}

int
ggufw_arr_str(struct ggufw *w, const char *s, size_t len)
{
	if (!ggufw_ok(w))
		return -1;
	if (w->arr_left == 0)
		return ggufw_fail(w, "%s: more strings than the array declared",
		    w->path);
	w->arr_left--;
	return put_str(w, s, len);
}

int
ggufw_kv_copy(struct ggufw *w, const struct gguf *src, uint64_t i)
{
	struct gguf_str	 k, s;
	enum gguf_vtype	 t, elem;
	const void	*data;
	char		*key = NULL;
	uint64_t	 count, j, u64;
	int64_t		 idx;
	double		 d;
	int		 rc = -1;

	if (!ggufw_ok(w))
		return -1;
	if (i >= gguf_n_kv(src))
		return ggufw_fail(w, "%s: no source pair %llu", w->path,
		    (unsigned long long)i);
	k = gguf_key(src, i);
	if ((key = strndup(k.p, k.n)) == NULL || strlen(key) != k.n) {
		ggufw_fail(w, "%s: cannot copy a key holding NUL", w->path);
		goto out;
	}
	t = gguf_type(src, i);
	if (t == GGUF_STR) {
		if (gguf_get_str(src, key, &s) != 0) {
			ggufw_fail(w, "%s: cannot read string '%s'", w->path,
			    key);
			goto out;
		}
		rc = ggufw_kv_str(w, key, s.p, s.n);
		goto out;
	}
	if (t == GGUF_ARR) {
		if (gguf_get_arr(src, key, &elem, &count, &idx) != 0) {
			ggufw_fail(w, "%s: cannot read array '%s'", w->path,
			    key);
			goto out;
		}
		if (elem == GGUF_STR) {
			if (ggufw_kv_arr_str(w, key, count) != 0)
				goto out;
			for (j = 0; j < count; j++) {
				if (gguf_arr_str(src, (uint64_t)idx, j, &s)
				    != 0) {
					ggufw_fail(w, "%s: cannot read "
					    "'%s'[%llu]", w->path, key,
					    (unsigned long long)j);
					goto out;
				}
				if (ggufw_arr_str(w, s.p, s.n) != 0)
					goto out;
			}
			rc = 0;
			goto out;
		}
		if (vtype_size(elem) == 0 ||
		    (data = gguf_arr_data(src, (uint64_t)idx)) == NULL) {
			ggufw_fail(w, "%s: array '%s' of type %d cannot be "
			    "copied", w->path, key, (int)elem);
			goto out;
		}
		/* The source bytes are already little-endian: copy raw. */
		if (kv_begin(w, key, GGUF_ARR) != 0 ||
		    put_le(w, elem, 4) != 0 || put_le(w, count, 8) != 0 ||
		    put(w, data, (size_t)(count * vtype_size(elem))) != 0)
			goto out;
		rc = 0;
		goto out;
	}
	/*
	 * Scalars: the reader exposes them widened.  Every type but 64-bit
	 * integers round-trips exactly through a double.
	 */
	if (t == GGUF_U64) {
		if (gguf_get_u64(src, key, &u64) != 0) {
			ggufw_fail(w, "%s: cannot read '%s'", w->path, key);
			goto out;
		}
		rc = ggufw_kv_u64(w, key, u64);
		goto out;
	}
	if (gguf_scalar_f64(src, i, &d) != 0) {
		ggufw_fail(w, "%s: cannot read '%s'", w->path, key);
		goto out;
	}
	switch (t) {
	case GGUF_U8:	rc = ggufw_kv_u8(w, key, (uint8_t)d); break;
	case GGUF_I8:	rc = ggufw_kv_i8(w, key, (int8_t)d); break;
	case GGUF_U16:	rc = ggufw_kv_u16(w, key, (uint16_t)d); break;
	case GGUF_I16:	rc = ggufw_kv_i16(w, key, (int16_t)d); break;
	case GGUF_U32:	rc = ggufw_kv_u32(w, key, (uint32_t)d); break;
	case GGUF_I32:	rc = ggufw_kv_i32(w, key, (int32_t)d); break;
	case GGUF_F32:	rc = ggufw_kv_f32(w, key, (float)d); break;
	case GGUF_F64:	rc = ggufw_kv_f64(w, key, d); break;
	case GGUF_BOOL:	rc = ggufw_kv_bool(w, key, d != 0); break;
	case GGUF_I64:
		if (d < -9007199254740992.0 || d > 9007199254740992.0) {
			ggufw_fail(w, "%s: i64 '%s' too large to copy", w->path,
			    key);
			goto out;
		}
		rc = ggufw_kv_i64(w, key, (int64_t)d);
		break;
	default:
		ggufw_fail(w, "%s: '%s' has unknown type %d", w->path, key,
		    (int)t);
		break;
	}
out:
	free(key);
	return rc;
}

/* ---- tensors ------------------------------------------------------------- */

static uint64_t
align_up(uint64_t v, uint32_t a)
{
	return (v + a - 1) & ~(uint64_t)(a - 1);
}

int
ggufw_tensor(struct ggufw *w, const char *name, uint32_t type,
    uint32_t n_dims, const int64_t *ne)
{
	struct ggufw_tinfo	*ti, *nt;
	uint64_t		 rows = 1, row_bytes, nbytes;
	size_t			 i, ncap;

	if (!ggufw_ok(w))
		return -1;
	if (w->state != GGUFW_META)
		return ggufw_fail(w, "%s: tensor '%s' declared after tensor "
		    "data", w->path, name);
	if (name == NULL || name[0] == '\0' ||
	    strlen(name) >= GGUF_MAX_NAME)
		return ggufw_fail(w, "%s: tensor name '%s' is empty or longer "
		    "than %d bytes", w->path, name != NULL ? name : "",
		    GGUF_MAX_NAME - 1);
	for (i = 0; i < w->n_t; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return ggufw_fail(w, "%s: tensor '%s' declared twice",
			    w->path, name);
	if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
		return ggufw_fail(w, "%s: tensor '%s': %u dimensions", w->path,
		    name, n_dims);
	if (quant_info(type) == NULL)
		return ggufw_fail(w, "%s: tensor '%s': unknown type %u",
		    w->path, name, type);
	for (i = 0; i < n_dims; i++) {
		if (ne[i] <= 0)
			return ggufw_fail(w, "%s: tensor '%s': ne[%zu] = %lld",
			    w->path, name, i, (long long)ne[i]);
		if (i > 0 && __builtin_mul_overflow(rows, (uint64_t)ne[i],
		    &rows))
			return ggufw_fail(w, "%s: tensor '%s' is too large",
			    w->path, name);
	}
	if (quant_row_bytes(type, (uint64_t)ne[0], &row_bytes) != 0)
		return ggufw_fail(w, "%s: tensor '%s': a row of %lld is not a "
		    "whole number of %s blocks", w->path, name,
		    (long long)ne[0], quant_info(type)->name);
	if (__builtin_mul_overflow(row_bytes, rows, &nbytes) ||
	    nbytes > UINT64_MAX - w->data_size - w->align)
		return ggufw_fail(w, "%s: tensor '%s' is too large", w->path,
		    name);
	if (w->n_t == w->cap_t) {
		ncap = w->cap_t != 0 ? 2 * w->cap_t : 64;
		if ((nt = realloc(w->t, ncap * sizeof(*nt))) == NULL)
			return ggufw_fail(w, "out of memory");
		w->t = nt;
		w->cap_t = ncap;
	}
	ti = &w->t[w->n_t++];
	memset(ti, 0, sizeof(*ti));
	memcpy(ti->name, name, strlen(name) + 1);
	ti->type = type;
	ti->n_dims = n_dims;
	for (i = 0; i < GGUF_MAX_DIMS; i++)
		ti->ne[i] = i < n_dims ? ne[i] : 1;
	ti->offset = w->data_size;
	ti->nbytes = nbytes;
	w->data_size = align_up(w->data_size + nbytes, w->align);
	return 0;
}

/* End of the metadata: tensor infos, padding, the real counts. */
static int
begin_data(struct ggufw *w)
{
	struct ggufw_tinfo	*ti;
	long			 pos;
	size_t			 i;
	uint32_t		 d;

	if (w->arr_left > 0)
		return ggufw_fail(w, "%s: tensor data while %llu strings of an "
		    "array are missing", w->path,
		    (unsigned long long)w->arr_left);
	for (i = 0; i < w->n_t; i++) {
		ti = &w->t[i];
		put_str(w, ti->name, strlen(ti->name));
		put_le(w, ti->n_dims, 4);
		for (d = 0; d < ti->n_dims; d++)
			put_le(w, (uint64_t)ti->ne[d], 8);
		put_le(w, ti->type, 4);
		put_le(w, ti->offset, 8);
	}
	if (!ggufw_ok(w))
		return -1;
	if ((pos = ftell(w->f)) < 0)
		return ggufw_fail(w, "%s: ftell: %s", w->path,
		    strerror(errno));
	if (put_zeros(w, align_up((uint64_t)pos, w->align) - (uint64_t)pos)
	    != 0)
		return -1;
	if (fseek(w->f, GGUFW_COUNTS_AT, SEEK_SET) != 0 ||
	    put_le(w, w->n_t, 8) != 0 || put_le(w, w->n_kv, 8) != 0 ||
	    fseek(w->f, 0, SEEK_END) != 0)
		return ggufw_fail(w, "%s: cannot patch the header (not a "
		    "seekable file?)", w->path);
	w->state = GGUFW_DATA;
	w->cur = 0;
	w->cur_done = 0;
	return 0;
}

int
ggufw_data(struct ggufw *w, const void *p, size_t n)
{
	const unsigned char	*b = p;
	struct ggufw_tinfo	*ti;
	uint64_t		 k;

	if (!ggufw_ok(w))
		return -1;
	if (w->state == GGUFW_META && begin_data(w) != 0)
		return -1;
	while (n > 0) {
		if (w->cur >= w->n_t)
			return ggufw_fail(w, "%s: %zu bytes of tensor data "
			    "beyond the declared tensors", w->path, n);
		ti = &w->t[w->cur];
		k = ti->nbytes - w->cur_done;
		if (k > n)
			k = n;
		if (put(w, b, (size_t)k) != 0)
			return -1;
		b += k;
		n -= (size_t)k;
		w->cur_done += k;
		if (w->cur_done == ti->nbytes) {
			if (put_zeros(w, align_up(ti->nbytes, w->align) -
			    ti->nbytes) != 0)
				return -1;
			w->cur++;
			w->cur_done = 0;
		}
	}
	return 0;
}

uint64_t
ggufw_data_left(const struct ggufw *w)
{
	uint64_t	 left = 0;
	size_t		 i;

	for (i = w->state == GGUFW_DATA ? w->cur : 0; i < w->n_t; i++)
		left += w->t[i].nbytes;
	if (w->state == GGUFW_DATA && w->cur < w->n_t)
		left -= w->cur_done;
	return left;
}

int
ggufw_close(struct ggufw *w, char **cause)
{
	int	 rc = -1;

	if (w == NULL) {
		if (cause != NULL)
			*cause = strdup("no writer");
		return -1;
	}
	/* A file without tensors still needs its infos and counts. */
	if (ggufw_ok(w) && w->state == GGUFW_META)
		begin_data(w);
	if (ggufw_ok(w) && w->cur < w->n_t)
		ggufw_fail(w, "%s: tensor '%s' is missing %llu bytes of data",
		    w->path, w->t[w->cur].name,
		    (unsigned long long)(w->t[w->cur].nbytes - w->cur_done));
	if (ggufw_ok(w) && fflush(w->f) != 0)
		ggufw_fail(w, "%s: write failed: %s", w->path,
		    strerror(errno));
	if (ggufw_ok(w)) {
		if (fclose(w->f) != 0)
			ggufw_fail(w, "%s: close failed: %s", w->path,
			    strerror(errno));
		w->f = NULL;
	}
	if (ggufw_ok(w))
		rc = 0;
	else if (cause != NULL)
		*cause = strdup(w->cause);
	ggufw_release(w, rc != 0);
	return rc;
}
