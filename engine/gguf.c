/*
 * gguf.c - bounded reader for GGUF v2/v3 files (layout in gguf.h).
 *
 * The whole file is treated as hostile.  Every read goes through one
 * cursor that checks the bytes remaining first; every size is computed
 * with overflow-checked arithmetic; every allocation whose size comes
 * from the file is made only after that size has been bounded by the
 * bytes that remain (so a 100-byte file can never make us allocate more
 * than a few kilobytes).  Errors are one-line sentences naming the field.
 *
 * Policies worth knowing (each is tested in tests/test-gguf.c):
 *   - versions 2 and 3 are read identically (both have 64-bit counts);
 *     version 1 (32-bit counts) and anything newer are refused; a version
 *     whose low 16 bits are zero is reported as a byte-order mismatch.
 *   - keys must be non-empty and NUL-free; they need not be valid UTF-8
 *     (we never interpret them beyond comparing bytes).  Duplicates are
 *     refused, since "which one wins" differs between readers.  Keys and
 *     tensor names go into hash tables with a secret key, so a million
 *     chosen keys cannot degrade lookups to quadratic time.
 *   - arrays may nest up to lim->max_depth levels (a plain array is level
 *     1; GGUF_DEPTH_CEIL caps what a caller may ask for, bounding stack).
 *   - bool values are one byte; any non-zero byte reads as true.
 *   - general.alignment, when present, must be a u32 power of two in
 *     1..GGUF_MAX_ALIGN.
 *   - tensor names: 1..63 bytes, valid UTF-8 without NUL (they are shown
 *     to the user and used as C strings), unique.
 *   - a dimension of 0 is accepted: the tensor is empty (0 bytes), as in
 *     ggml.  Negative dimensions (top bit set) are refused.
 *   - tensor types must be ggml types quant_info() knows; types the
 *     engine cannot compute with are accepted here and refused by the
 *     model loader with the type's name.
 *   - each tensor's offset must equal the running alignment-padded sum
 *     of the tensors before it, so data is contiguous, ordered and never
 *     overlaps; every tensor must end inside the file.
 *   - bytes after the last tensor are allowed: writers pad the last
 *     tensor to the alignment and some tools append more; nothing reads
 *     them.  With no tensors at all the data section (and its padding)
 *     may be absent: vocab-only files are written without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gguf.h"
#include "quant.h"

/* ==== limits ============================================================= */

#define GGUF_MAGIC		"GGUF"
#define GGUF_HEADER_BYTES	24	/* magic, version, n_tensors, n_kv */
#define GGUF_DEFAULT_ALIGN	32
/* Larger alignments serve no purpose and let a tiny file claim huge padding. */
#define GGUF_MAX_ALIGN		(1u << 20)
/* Recursion bound for nested arrays, whatever the caller's limits say. */
#define GGUF_DEPTH_CEIL		64
/* Hash slots are 32-bit indexes; counts are capped well below that. */
#define GGUF_ITEMS_CEIL		(UINT64_C(1) << 30)
/* Smallest encodings, used to bound counts by the bytes remaining. */
#define KV_MIN_BYTES		(8 + 1 + 4 + 1)	/* key len, 1-byte key, type, u8 */
#define TENSOR_MIN_BYTES	(8 + 1 + 4 + 8 + 4 + 8)	/* 1-dim info */
#define ARRAY_HEAD_BYTES	(4 + 8)		/* elem type, count */
/* Keys and names quoted in messages are cut to this many input bytes. */
#define QUOTE_MAX		48

const struct gguf_limits gguf_limits_default = {
	.max_string = UINT64_C(16) << 20,
	.max_array = UINT64_C(1) << 28,
	.max_kv = UINT64_C(1) << 20,
	.max_tensors = UINT64_C(1) << 20,
	.max_depth = 8,
};

/* ==== the parsed file ==================================================== */

struct kv {
	const uint8_t	*key;
	uint64_t	 klen;
	/*
	 * Scalar: the value bytes.  STR: the string bytes, count = length.
	 * ARR: the first element, count = elements.
	 */
	const uint8_t	*val;
	uint64_t	 count;
	/* ARR of STR: offset from the file start of each element's length. */
	uint64_t	*stroff;
	uint8_t		 type;
	uint8_t		 elem;	/* ARR: element type */
};

/* Open addressing, linear probing; a slot holds index + 1, 0 is empty. */
struct htab {
	uint32_t	*slot;
	uint64_t	 mask;
};

struct gguf {
	const uint8_t	*base;
	uint64_t	 size;
	void		*map;		/* gguf_open only */
	size_t		 map_len;
	uint32_t	 version;
	uint32_t	 alignment;
	uint64_t	 data_off;	/* start of the data section */

	uint64_t	 n_kv;
	struct kv	*kv;		/* [n_kv] */
	struct htab	 kv_tab;

	uint64_t	 n_tensors;
	struct gguf_tensor *t;		/* [n_tensors] */
	struct htab	 t_tab;
	uint64_t	 hash_key[2];	/* secret, see hash_bytes() */
};

/* ==== bounded cursor ===================================================== */

struct cursor {
	const uint8_t	*buf;
	uint64_t	 len;
	uint64_t	 off;		/* invariant: off <= len */
};

static uint64_t
cur_left(const struct cursor *c)
{
	return c->len - c->off;
}

/* Take n bytes; -1 (cursor unchanged) if fewer remain. */
static int
cur_take(struct cursor *c, uint64_t n, const uint8_t **p)
{
	if (n > c->len - c->off)
		return -1;
	if (p != NULL)
		*p = c->buf + c->off;
	c->off += n;
	return 0;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int
cur_u32(struct cursor *c, uint32_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 4, &p) != 0)
		return -1;
	*v = le32(p);
	return 0;
}

static int
cur_u64(struct cursor *c, uint64_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 8, &p) != 0)
		return -1;
	*v = le64(p);
	return 0;
}

/* ==== messages =========================================================== */

struct parser {
	struct cursor	 c;
	struct gguf_limits lim;
	struct gguf	*g;
	char		 where[32 + 4 * QUOTE_MAX];	/* "kv 3 'key'" */
	char		 err[512];
};

/*
 * Copy bytes from the file into a message: printable ASCII stays, the
 * rest becomes \xHH, so a hostile key cannot drive the terminal.
 */
static void
quote(char *dst, size_t cap, const uint8_t *s, uint64_t n)
{
	size_t o = 0;
	uint64_t i;

	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		if (cap - o < 5)
			break;
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'' && s[i] != '\\')
			dst[o++] = (char)s[i];
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", s[i]);
	}
	if (i < n && cap - o >= 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static int fail(struct parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Record "<where>: <message>" (the first error wins); returns -1. */
static int
fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->err[0] != '\0')
		return -1;
	n = snprintf(ps->err, sizeof ps->err, "%s: ", ps->where);
	if (n < 0 || (size_t)n >= sizeof ps->err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, sizeof ps->err - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
set_cause(char **cause, const char *msg)
{
	if (cause != NULL)
		*cause = strdup(msg);
}

/* ==== value types ======================================================== */

static const char *const vtype_names[] = {
	[GGUF_U8] = "u8", [GGUF_I8] = "i8", [GGUF_U16] = "u16",
	[GGUF_I16] = "i16", [GGUF_U32] = "u32", [GGUF_I32] = "i32",
	[GGUF_F32] = "f32", [GGUF_BOOL] = "bool", [GGUF_STR] = "str",
	[GGUF_ARR] = "arr", [GGUF_U64] = "u64", [GGUF_I64] = "i64",
	[GGUF_F64] = "f64",
};

const char *
gguf_vtype_name(enum gguf_vtype t)
{
	if ((unsigned)t >= sizeof vtype_names / sizeof vtype_names[0])
		return "?";
	return vtype_names[t];
}

static bool
vtype_known(uint32_t t)
{
	return t <= GGUF_F64;
}

/* Bytes of a fixed-size value, 0 for STR and ARR. */
static uint64_t
vtype_size(uint32_t t)
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
	default:
		return 0;
	}
}

/* ==== hash tables ======================================================== */

/*
 * SipHash-1-3 with a random key per file.  The keys and names come from
 * the file: with an unkeyed hash (FNV, ...) an attacker can choose a
 * million keys that share one probe chain and turn the duplicate check
 * quadratic.  A secret key makes that infeasible.
 */
#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
hash_bytes(const uint64_t key[2], const uint8_t *p, uint64_t n)
{
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ key[0];
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ key[1];
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ key[0];
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ key[1];
	uint64_t m, last = n << 56, i;

	for (i = 0; n - i >= 8; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (; i < n; i++)
		last |= (uint64_t)p[i] << (8 * (i & 7));
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* A secret hash key; if the kernel has no randomness, a weaker mix. */
static void
hash_key_init(uint64_t key[2], const void *salt)
{
	struct timespec ts;

	if (getrandom(key, 2 * sizeof key[0], GRND_NONBLOCK) ==
	    (ssize_t)(2 * sizeof key[0]))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	key[0] = (uint64_t)(uintptr_t)salt ^ (uint64_t)ts.tv_nsec << 20;
	key[1] = (uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32;
}

/* A table for n entries (n <= GGUF_ITEMS_CEIL), at most half full. */
static int
htab_init(struct htab *t, uint64_t n)
{
	uint64_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	if ((t->slot = calloc(size, sizeof *t->slot)) == NULL)
		return -1;
	t->mask = size - 1;
	return 0;
}

static void
kv_keyof(const struct gguf *g, uint64_t i, const uint8_t **p, uint64_t *n)
{
	*p = g->kv[i].key;
	*n = g->kv[i].klen;
}

static void
t_keyof(const struct gguf *g, uint64_t i, const uint8_t **p, uint64_t *n)
{
	*p = (const uint8_t *)g->t[i].name;
	*n = strlen(g->t[i].name);
}

/*
 * Find key k in t.  Returns its index, or -1 with *empty (if given) set to
 * the free slot where it would go.
 */
static int64_t
htab_find(const struct htab *t, const struct gguf *g,
    void (*keyof)(const struct gguf *, uint64_t, const uint8_t **, uint64_t *),
    const uint8_t *k, uint64_t n, uint32_t **empty)
{
	uint64_t i = hash_bytes(g->hash_key, k, n) & t->mask;

	if (t->slot == NULL)
		return -1;
	for (;; i = (i + 1) & t->mask) {
		const uint8_t *p;
		uint64_t pn;

		if (t->slot[i] == 0) {
			if (empty != NULL)
				*empty = &t->slot[i];
			return -1;
		}
		keyof(g, t->slot[i] - 1, &p, &pn);
		if (pn == n && memcmp(p, k, n) == 0)
			return (int64_t)t->slot[i] - 1;
	}
}

/* ==== metadata =========================================================== */

static int
read_string(struct parser *ps, const char *what, const uint8_t **p,
    uint64_t *n)
{
	if (cur_u64(&ps->c, n) != 0)
		return fail(ps, "%s length runs past the end of the file", what);
	if (*n > ps->lim.max_string)
		return fail(ps, "%s of %llu bytes exceeds the limit of %llu",
		    what, (unsigned long long)*n,
		    (unsigned long long)ps->lim.max_string);
	if (cur_take(&ps->c, *n, p) != 0)
		return fail(ps, "%s of %llu bytes runs past the end of the file",
		    what, (unsigned long long)*n);
	return 0;
}

/*
 * Read the body of an array (element type, count, elements) at nesting
 * level depth (1 = a top-level array).  If kv is not NULL, fill in its
 * element type, count, data and, for strings, the offsets table.
 */
static int
read_array(struct parser *ps, struct kv *kv, uint32_t depth)
{
	uint32_t elem;
	uint64_t count, min, need, i, esz;
	const uint8_t *first;

	if (depth > ps->lim.max_depth)
		return fail(ps, "arrays nested deeper than %u",
		    (unsigned)ps->lim.max_depth);
	if (cur_u32(&ps->c, &elem) != 0)
		return fail(ps, "array type runs past the end of the file");
	if (!vtype_known(elem))
		return fail(ps, "array of unknown type %lu",
		    (unsigned long)elem);
	if (cur_u64(&ps->c, &count) != 0)
		return fail(ps, "array count runs past the end of the file");
	if (count > ps->lim.max_array)
		return fail(ps, "array of %llu elements exceeds the limit",
		    (unsigned long long)count);
	/* Bound the count by the smallest encoding of its elements. */
	esz = vtype_size(elem);
	min = elem == GGUF_STR ? 8 : elem == GGUF_ARR ? ARRAY_HEAD_BYTES : esz;
	if (__builtin_mul_overflow(count, min, &need) || need > cur_left(&ps->c))
		return fail(ps, "array of %llu elements is larger than the file "
		    "allows", (unsigned long long)count);
	if (elem == GGUF_ARR && depth + 1 > ps->lim.max_depth)
		return fail(ps, "arrays nested deeper than %u",
		    (unsigned)ps->lim.max_depth);
	first = ps->c.buf + ps->c.off;
	if (kv != NULL) {
		kv->elem = (uint8_t)elem;
		kv->count = count;
		kv->val = first;
	}
	if (esz != 0) {
		/* need == count * esz, checked above */
		cur_take(&ps->c, need, NULL);
		return 0;
	}
	if (elem == GGUF_STR && kv != NULL && count > 0) {
		/* count * 8 <= bytes remaining: bounded by the file */
		if ((kv->stroff = malloc(count * sizeof *kv->stroff)) == NULL)
			return fail(ps, "out of memory for %llu strings",
			    (unsigned long long)count);
	}
	for (i = 0; i < count; i++) {
		if (elem == GGUF_STR) {
			const uint8_t *p;
			uint64_t n, at = ps->c.off;

			if (read_string(ps, "string", &p, &n) != 0)
				return -1;
			if (kv != NULL)
				kv->stroff[i] = at;
		} else if (read_array(ps, NULL, depth + 1) != 0)
			return -1;
	}
	return 0;
}

static int
read_kv(struct parser *ps, uint64_t idx)
{
	struct gguf *g = ps->g;
	struct kv *kv = &g->kv[idx];
	char q[4 * QUOTE_MAX + 4];
	uint32_t type, *slot = NULL;
	uint64_t size;

	snprintf(ps->where, sizeof ps->where, "kv %llu",
	    (unsigned long long)idx);
	if (read_string(ps, "key", &kv->key, &kv->klen) != 0)
		return -1;
	if (kv->klen == 0)
		return fail(ps, "empty key");
	quote(q, sizeof q, kv->key, kv->klen);
	snprintf(ps->where, sizeof ps->where, "kv %llu '%s'",
	    (unsigned long long)idx, q);
	/* Keys are looked up as C strings: a NUL would hide the rest. */
	if (memchr(kv->key, 0, kv->klen) != NULL)
		return fail(ps, "key contains a NUL byte");
	if (htab_find(&g->kv_tab, g, kv_keyof, kv->key, kv->klen, &slot) >= 0)
		return fail(ps, "duplicate key");
	if (cur_u32(&ps->c, &type) != 0)
		return fail(ps, "value type runs past the end of the file");
	if (!vtype_known(type))
		return fail(ps, "unknown value type %lu", (unsigned long)type);
	kv->type = (uint8_t)type;
	if (type == GGUF_STR) {
		if (read_string(ps, "string", &kv->val, &kv->count) != 0)
			return -1;
	} else if (type == GGUF_ARR) {
		if (read_array(ps, kv, 1) != 0)
			return -1;
	} else {
		size = vtype_size(type);
		if (cur_take(&ps->c, size, &kv->val) != 0)
			return fail(ps, "%s value runs past the end of the file",
			    gguf_vtype_name(type));
	}
	/* Inserted only now so lookups never see a half-read pair. */
	*slot = (uint32_t)(idx + 1);
	return 0;
}

/* ==== tensors ============================================================ */

static bool
utf8_valid(const uint8_t *s, uint64_t n)
{
	uint64_t i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		uint8_t b = s[i];

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xe0) == 0xc0) {
			len = 2, cp = b & 0x1f, min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			len = 3, cp = b & 0x0f, min = 0x800;
		} else if ((b & 0xf8) == 0xf0) {
			len = 4, cp = b & 0x07, min = 0x10000;
		} else
			return false;
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static uint64_t
pad_to(uint64_t x, uint64_t align, bool *ovf)
{
	uint64_t r = x % align;

	if (r == 0)
		return x;
	if (__builtin_add_overflow(x, align - r, &x))
		*ovf = true;
	return x;
}

/* Tensor info idx; *expect is the running padded offset, advanced here. */
static int
read_tensor(struct parser *ps, uint64_t idx, uint64_t *expect)
{
	struct gguf *g = ps->g;
	struct gguf_tensor *t = &g->t[idx];
	const struct qtype_info *ti;
	const uint8_t *name;
	uint64_t nlen, ne, nelem = 1, off, next;
	uint32_t d, *slot = NULL;
	char q[4 * QUOTE_MAX + 4];
	bool ovf = false;

	snprintf(ps->where, sizeof ps->where, "tensor %llu",
	    (unsigned long long)idx);
	if (read_string(ps, "name", &name, &nlen) != 0)
		return -1;
	if (nlen == 0)
		return fail(ps, "empty name");
	quote(q, sizeof q, name, nlen);
	snprintf(ps->where, sizeof ps->where, "tensor '%s'", q);
	if (nlen >= GGUF_MAX_NAME)
		return fail(ps, "name of %llu bytes is too long (limit %d)",
		    (unsigned long long)nlen, GGUF_MAX_NAME - 1);
	if (memchr(name, 0, nlen) != NULL)
		return fail(ps, "name contains a NUL byte");
	if (!utf8_valid(name, nlen))
		return fail(ps, "name is not valid UTF-8");
	memcpy(t->name, name, nlen);
	t->name[nlen] = '\0';
	if (htab_find(&g->t_tab, g, t_keyof, name, nlen, &slot) >= 0)
		return fail(ps, "duplicate tensor name");

	if (cur_u32(&ps->c, &t->n_dims) != 0)
		return fail(ps, "n_dims runs past the end of the file");
	if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
		return fail(ps, "n_dims %lu is not between 1 and %d",
		    (unsigned long)t->n_dims, GGUF_MAX_DIMS);
	for (d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (d = 0; d < t->n_dims; d++) {
		if (cur_u64(&ps->c, &ne) != 0)
			return fail(ps, "shape runs past the end of the file");
		if (ne > INT64_MAX)
			return fail(ps, "dimension %lu is negative (%lld)",
			    (unsigned long)d, (long long)(int64_t)ne);
		t->ne[d] = (int64_t)ne;
		/* Signed bound too: other code computes with int64 shapes. */
		if (__builtin_mul_overflow(nelem, ne, &nelem) ||
		    nelem > INT64_MAX)
			return fail(ps, "element count overflows");
	}
	t->nelem = nelem;

	if (cur_u32(&ps->c, &t->type) != 0)
		return fail(ps, "type runs past the end of the file");
	if ((ti = quant_info(t->type)) == NULL)
		return fail(ps, "unknown type %lu", (unsigned long)t->type);
	if ((uint64_t)t->ne[0] % ti->blck != 0)
		return fail(ps, "row of %lld elements is not a multiple of the "
		    "%s block size %lu", (long long)t->ne[0], ti->name,
		    (unsigned long)ti->blck);
	if (quant_row_bytes(t->type, nelem, &t->nbytes) != 0)
		return fail(ps, "size of %llu %s elements overflows",
		    (unsigned long long)nelem, ti->name);

	if (cur_u64(&ps->c, &off) != 0)
		return fail(ps, "offset runs past the end of the file");
	if (off % g->alignment != 0)
		return fail(ps, "offset %llu is not a multiple of the alignment "
		    "%lu", (unsigned long long)off, (unsigned long)g->alignment);
	if (off != *expect)
		return fail(ps, "offset %llu is not the expected %llu (tensors "
		    "must be contiguous and in order)",
		    (unsigned long long)off, (unsigned long long)*expect);
	/* t->offset becomes absolute once the data start is known. */
	t->offset = off;
	if (__builtin_add_overflow(off, t->nbytes, &next))
		ovf = true;
	next = pad_to(next, g->alignment, &ovf);
	if (ovf)
		return fail(ps, "data of %llu bytes overflows the data section",
		    (unsigned long long)t->nbytes);
	*expect = next;
	*slot = (uint32_t)(idx + 1);
	return 0;
}

/* ==== the whole file ===================================================== */

static int
read_header(struct parser *ps)
{
	struct gguf *g = ps->g;
	uint64_t len = ps->c.len, need;
	const uint8_t *p;

	snprintf(ps->where, sizeof ps->where, "header");
	if (len == 0)
		return fail(ps, "the file is empty");
	if (memcmp(ps->c.buf, GGUF_MAGIC, len < 4 ? len : 4) != 0)
		return fail(ps, "bad magic: not a GGUF file");
	if (len < GGUF_HEADER_BYTES)
		return fail(ps, "file of %llu bytes is too short for the %d-byte "
		    "header", (unsigned long long)len, GGUF_HEADER_BYTES);
	cur_take(&ps->c, 4, &p);
	cur_u32(&ps->c, &g->version);
	if (g->version != 0 && (g->version & 0xffff) == 0)
		return fail(ps, "version 0x%08lx looks byte-swapped: the file "
		    "has the wrong endianness", (unsigned long)g->version);
	if (g->version != 2 && g->version != 3)
		return fail(ps, "version %lu is not supported (only 2 and 3)",
		    (unsigned long)g->version);
	cur_u64(&ps->c, &g->n_tensors);
	cur_u64(&ps->c, &g->n_kv);

	/* File bound first: it is the one a corrupt file trips. */
	if (__builtin_mul_overflow(g->n_tensors, (uint64_t)TENSOR_MIN_BYTES,
	    &need) || need > cur_left(&ps->c))
		return fail(ps, "n_tensors %llu is larger than the file allows",
		    (unsigned long long)g->n_tensors);
	if (g->n_tensors > ps->lim.max_tensors)
		return fail(ps, "n_tensors %llu exceeds the limit of %llu",
		    (unsigned long long)g->n_tensors,
		    (unsigned long long)ps->lim.max_tensors);
	if (__builtin_mul_overflow(g->n_kv, (uint64_t)KV_MIN_BYTES, &need) ||
	    need > cur_left(&ps->c))
		return fail(ps, "n_kv %llu is larger than the file allows",
		    (unsigned long long)g->n_kv);
	if (g->n_kv > ps->lim.max_kv)
		return fail(ps, "n_kv %llu exceeds the limit of %llu",
		    (unsigned long long)g->n_kv,
		    (unsigned long long)ps->lim.max_kv);
	return 0;
}

/* general.alignment: optional; if present a u32 power of two. */
static int
read_alignment(struct parser *ps)
{
	struct gguf *g = ps->g;
	int64_t i = gguf_find(g, "general.alignment");
	uint32_t a;

	g->alignment = GGUF_DEFAULT_ALIGN;
	if (i < 0)
		return 0;
	snprintf(ps->where, sizeof ps->where, "kv %lld 'general.alignment'",
	    (long long)i);
	if (g->kv[i].type != GGUF_U32)
		return fail(ps, "type %s, must be u32",
		    gguf_vtype_name(g->kv[i].type));
	a = le32(g->kv[i].val);
	if (a == 0 || (a & (a - 1)) != 0 || a > GGUF_MAX_ALIGN)
		return fail(ps, "%lu is not a power of two between 1 and %lu",
		    (unsigned long)a, (unsigned long)GGUF_MAX_ALIGN);
	g->alignment = a;
	return 0;
}

static int
parse(struct parser *ps)
{
	struct gguf *g = ps->g;
	uint64_t i, expect = 0, end = 0;
	bool ovf = false;

	if (read_header(ps) != 0)
		return -1;

	/* Both counts are now bounded by the file size (and the limits). */
	if (g->n_kv > 0) {
		if ((g->kv = calloc(g->n_kv, sizeof *g->kv)) == NULL ||
		    htab_init(&g->kv_tab, g->n_kv) != 0)
			return fail(ps, "out of memory for %llu pairs",
			    (unsigned long long)g->n_kv);
	}
	for (i = 0; i < g->n_kv; i++)
		if (read_kv(ps, i) != 0)
			return -1;
	if (read_alignment(ps) != 0)
		return -1;

	/*
	 * The tensor count was checked against the bytes left after the
	 * header; check again now the metadata has taken its share.
	 */
	snprintf(ps->where, sizeof ps->where, "header");
	if (g->n_tensors * TENSOR_MIN_BYTES > cur_left(&ps->c))
		return fail(ps, "n_tensors %llu is larger than the file allows",
		    (unsigned long long)g->n_tensors);
	if (g->n_tensors > 0) {
		if ((g->t = calloc(g->n_tensors, sizeof *g->t)) == NULL ||
		    htab_init(&g->t_tab, g->n_tensors) != 0)
			return fail(ps, "out of memory for %llu tensors",
			    (unsigned long long)g->n_tensors);
	}
	for (i = 0; i < g->n_tensors; i++)
		if (read_tensor(ps, i, &expect) != 0)
			return -1;

	g->data_off = pad_to(ps->c.off, g->alignment, &ovf);
	if (g->n_tensors == 0)
		return 0;
	snprintf(ps->where, sizeof ps->where, "data");
	if (ovf || g->data_off > g->size)
		return fail(ps, "the data section starts at byte %llu, past the "
		    "end of the file (%llu bytes)",
		    (unsigned long long)g->data_off,
		    (unsigned long long)g->size);
	for (i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->t[i];
		char q[4 * QUOTE_MAX + 4];

		if (__builtin_add_overflow(g->data_off, t->offset, &t->offset) ||
		    __builtin_add_overflow(t->offset, t->nbytes, &end))
			ovf = true;
		if (ovf || end > g->size) {
			quote(q, sizeof q, (const uint8_t *)t->name,
			    strlen(t->name));
			snprintf(ps->where, sizeof ps->where, "tensor '%s'", q);
			if (ovf)
				return fail(ps, "data ends past the end of the "
				    "file (needs more than 2^64 bytes, file has "
				    "%llu)", (unsigned long long)g->size);
			return fail(ps, "data ends past the end of the file "
			    "(needs %llu bytes, file has %llu)",
			    (unsigned long long)end,
			    (unsigned long long)g->size);
		}
		t->data = g->base + t->offset;
	}
	return 0;
}

/* ==== public ============================================================= */

void
gguf_free(struct gguf *g)
{
	uint64_t i;

	if (g == NULL)
		return;
	if (g->kv != NULL)
		for (i = 0; i < g->n_kv; i++)
			free(g->kv[i].stroff);
	free(g->kv);
	free(g->kv_tab.slot);
	free(g->t);
	free(g->t_tab.slot);
	if (g->map != NULL)
		munmap(g->map, g->map_len);
	free(g);
}

static void
clamp_limits(struct gguf_limits *l, const struct gguf_limits *in)
{
	*l = in != NULL ? *in : gguf_limits_default;
	if (l->max_depth > GGUF_DEPTH_CEIL)
		l->max_depth = GGUF_DEPTH_CEIL;
	if (l->max_kv > GGUF_ITEMS_CEIL)
		l->max_kv = GGUF_ITEMS_CEIL;
	if (l->max_tensors > GGUF_ITEMS_CEIL)
		l->max_tensors = GGUF_ITEMS_CEIL;
}

int
gguf_parse_mem(const void *buf, size_t len, const struct gguf_limits *lim,
    struct gguf **out, char **cause)
{
	struct parser *ps = NULL;
	struct gguf *g = NULL;
	int rc = -1;

	if (cause != NULL)
		*cause = NULL;
	/* The parser holds message buffers; keep them off small stacks. */
	if ((ps = calloc(1, sizeof *ps)) == NULL ||
	    (g = calloc(1, sizeof *g)) == NULL) {
		set_cause(cause, "out of memory");
		goto out;
	}
	clamp_limits(&ps->lim, lim);
	g->base = buf;
	g->size = len;
	g->alignment = GGUF_DEFAULT_ALIGN;
	hash_key_init(g->hash_key, g);
	ps->g = g;
	ps->c.buf = buf;
	ps->c.len = len;
	if (parse(ps) != 0) {
		set_cause(cause, ps->err);
		goto out;
	}
	*out = g;	/* transferred */
	g = NULL;
	rc = 0;
out:
	gguf_free(g);
	free(ps);
	return rc;
}

int
gguf_open(const char *path, const struct gguf_limits *lim, struct gguf **out,
    char **cause)
{
	struct gguf *g = NULL;
	struct stat st;
	void *map = MAP_FAILED;
	size_t len = 0;
	char msg[256];
	int fd, rc = -1;

	msg[0] = '\0';
	if (cause != NULL)
		*cause = NULL;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; the
	 * S_ISREG check below then refuses it (and devices). */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(msg, sizeof msg, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(msg, sizeof msg, "is a directory, not a GGUF file");
		goto out;
	}
	/* Devices and FIFOs have no stable size to map and validate. */
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof msg, "not a regular file");
		goto out;
	}
	if (st.st_size == 0) {
		snprintf(msg, sizeof msg, "header: the file is empty");
		goto out;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		snprintf(msg, sizeof msg, "file of %lld bytes is too large to map",
		    (long long)st.st_size);
		goto out;
	}
	len = (size_t)st.st_size;
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(msg, sizeof msg, "cannot map: %s", strerror(errno));
		goto out;
	}
	if (gguf_parse_mem(map, len, lim, &g, cause) != 0)
		goto out;	/* *cause is set */
	g->map = map;		/* transferred */
	g->map_len = len;
	map = MAP_FAILED;
	*out = g;
	rc = 0;
out:
	if (rc != 0 && msg[0] != '\0')
		set_cause(cause, msg);
	if (map != MAP_FAILED)
		munmap(map, len);
	if (fd != -1)
		close(fd);
	return rc;
}

uint32_t
gguf_version(const struct gguf *g)
{
	return g->version;
}

uint64_t
gguf_file_size(const struct gguf *g)
{
	return g->size;
}

uint32_t
gguf_alignment(const struct gguf *g)
{
	return g->alignment;
}

const void *
gguf_base(const struct gguf *g)
{
	return g->base;
}

/* ---- metadata ------------------------------------------------------------ */

uint64_t
gguf_n_kv(const struct gguf *g)
{
	return g->n_kv;
}

int64_t
gguf_find(const struct gguf *g, const char *key)
{
	return htab_find(&g->kv_tab, g, kv_keyof, (const uint8_t *)key,
	    strlen(key), NULL);
}

struct gguf_str
gguf_key(const struct gguf *g, uint64_t i)
{
	struct gguf_str s = { NULL, 0 };

	if (i < g->n_kv) {
		s.p = (const char *)g->kv[i].key;
		s.n = g->kv[i].klen;
	}
	return s;
}

enum gguf_vtype
gguf_type(const struct gguf *g, uint64_t i)
{
	if (i >= g->n_kv)
		return (enum gguf_vtype)-1;
	return (enum gguf_vtype)g->kv[i].type;
}

/* Integer value of a scalar as sign + magnitude; -1 if not an integer. */
static int
kv_int(const struct kv *kv, bool *neg, uint64_t *mag)
{
	const uint8_t *p = kv->val;
	int64_t s;

	*neg = false;
	switch (kv->type) {
	case GGUF_U8:	*mag = p[0]; return 0;
	case GGUF_U16:	*mag = le16(p); return 0;
	case GGUF_U32:	*mag = le32(p); return 0;
	case GGUF_U64:	*mag = le64(p); return 0;
	case GGUF_I8:	s = (int8_t)p[0]; break;
	case GGUF_I16:	s = (int16_t)le16(p); break;
	case GGUF_I32:	s = (int32_t)le32(p); break;
	case GGUF_I64:	s = (int64_t)le64(p); break;
	default:
		return -1;
	}
	*neg = s < 0;
	/* -(INT64_MIN) does not fit in int64; go through unsigned. */
	*mag = s < 0 ? -(uint64_t)s : (uint64_t)s;
	return 0;
}

static const struct kv *
kv_get(const struct gguf *g, const char *key)
{
	int64_t i = gguf_find(g, key);

	return i < 0 ? NULL : &g->kv[i];
}

int
gguf_get_u64(const struct gguf *g, const char *key, uint64_t *v)
{
	const struct kv *kv = kv_get(g, key);
	uint64_t m;
	bool neg;

	if (kv == NULL || kv_int(kv, &neg, &m) != 0 || neg)
		return -1;
	*v = m;
	return 0;
}

int
gguf_get_u32(const struct gguf *g, const char *key, uint32_t *v)
{
	uint64_t m;

	if (gguf_get_u64(g, key, &m) != 0 || m > UINT32_MAX)
		return -1;
	*v = (uint32_t)m;
	return 0;
}

static float
bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static double
bits_f64(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

int
gguf_get_f32(const struct gguf *g, const char *key, float *v)
{
	const struct kv *kv = kv_get(g, key);

	if (kv == NULL)
		return -1;
	if (kv->type == GGUF_F32)
		*v = bits_f32(le32(kv->val));
	else if (kv->type == GGUF_F64)
		*v = (float)bits_f64(le64(kv->val));
	else
		return -1;
	return 0;
}

int
gguf_get_bool(const struct gguf *g, const char *key, bool *v)
{
	const struct kv *kv = kv_get(g, key);

	if (kv == NULL || kv->type != GGUF_BOOL)
		return -1;
	*v = kv->val[0] != 0;
	return 0;
}

int
gguf_get_str(const struct gguf *g, const char *key, struct gguf_str *v)
{
	const struct kv *kv = kv_get(g, key);

	if (kv == NULL || kv->type != GGUF_STR)
		return -1;
	v->p = (const char *)kv->val;
	v->n = kv->count;
	return 0;
}

int
gguf_scalar_f64(const struct gguf *g, uint64_t i, double *v)
{
	const struct kv *kv;
	uint64_t m;
	bool neg;

	if (i >= g->n_kv)
		return -1;
	kv = &g->kv[i];
	if (kv_int(kv, &neg, &m) == 0)
		*v = neg ? -(double)m : (double)m;
	else if (kv->type == GGUF_F32)
		*v = bits_f32(le32(kv->val));
	else if (kv->type == GGUF_F64)
		*v = bits_f64(le64(kv->val));
	else if (kv->type == GGUF_BOOL)
		*v = kv->val[0] != 0;
	else
		return -1;
	return 0;
}

int
gguf_get_arr(const struct gguf *g, const char *key, enum gguf_vtype *elem,
    uint64_t *count, int64_t *index)
{
	int64_t i = gguf_find(g, key);

	if (i < 0 || g->kv[i].type != GGUF_ARR)
		return -1;
	if (elem != NULL)
		*elem = (enum gguf_vtype)g->kv[i].elem;
	if (count != NULL)
		*count = g->kv[i].count;
	if (index != NULL)
		*index = i;
	return 0;
}

const void *
gguf_arr_data(const struct gguf *g, uint64_t i)
{
	if (i >= g->n_kv || g->kv[i].type != GGUF_ARR ||
	    vtype_size(g->kv[i].elem) == 0)
		return NULL;
	return g->kv[i].val;
}

int
gguf_arr_str(const struct gguf *g, uint64_t i, uint64_t j, struct gguf_str *v)
{
	const struct kv *kv;
	uint64_t at;

	if (i >= g->n_kv)
		return -1;
	kv = &g->kv[i];
	if (kv->type != GGUF_ARR || kv->elem != GGUF_STR || j >= kv->count)
		return -1;
	/* Validated at parse time: the length and its bytes are in the file. */
	at = kv->stroff[j];
	v->n = le64(g->base + at);
	v->p = (const char *)g->base + at + 8;
	return 0;
}

/* ---- tensors ------------------------------------------------------------- */

uint64_t
gguf_n_tensors(const struct gguf *g)
{
	return g->n_tensors;
}

const struct gguf_tensor *
gguf_tensor(const struct gguf *g, uint64_t i)
{
	return i < g->n_tensors ? &g->t[i] : NULL;
}

const struct gguf_tensor *
gguf_tensor_find(const struct gguf *g, const char *name)
{
	int64_t i = htab_find(&g->t_tab, g, t_keyof, (const uint8_t *)name,
	    strlen(name), NULL);

	return i < 0 ? NULL : &g->t[i];
}
