/*
 * gguf.h - bounded reader for GGUF files (versions 2 and 3), internal to engine/.
 *
 * Layout (all little-endian):
 *   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv x { str key | u32 vtype | value }
 *   n_tensors x { str name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
 *   padding to `general.alignment` (u32, power of two, default 32)
 *   tensor data; each tensor's offset is relative to the data start and
 *   must equal the running, alignment-padded sum of the sizes before it.
 *   str = u64 len | len bytes (no NUL).  value = scalar | array:
 *   u32 elem vtype | u64 count | count x elem (arrays may nest).
 *
 * Every count, length, type, shape and offset is checked against the bytes
 * that remain before it is used; nothing is allocated from a size read out
 * of the file until that size has been bounded by the file length.  The
 * reader never asserts or aborts on file content.
 *
 * Policies (details and reasons at the top of gguf.c):
 *   - versions 2 and 3 only; a byte-swapped version is reported as such.
 *   - keys: non-empty, no NUL, unique; not required to be UTF-8.
 *   - arrays nest up to lim->max_depth levels (a plain array is level 1).
 *   - general.alignment, if present: u32, a power of two <= 1 MiB.
 *   - tensor names: 1..63 bytes of UTF-8 without NUL, unique; n_dims 1..4;
 *     dimensions >= 0, and 0 means an empty tensor of 0 bytes; the type
 *     must be one quant_info() knows (the loader decides what it runs).
 *   - the data section may be absent when there are no tensors (vocab-only
 *     files); bytes after the last tensor are allowed and ignored.
 * Messages name the place: "header: ...", "kv 3 'key': ...",
 * "tensor 'name': ...", "data: ..."; file bytes in them are escaped (\xHH).
 */
#ifndef TRIAGE_ENGINE_GGUF_H
#define TRIAGE_ENGINE_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types, as numbered by the format. */
enum gguf_vtype {
	GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4,
	GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STR = 8, GGUF_ARR = 9,
	GGUF_U64 = 10, GGUF_I64 = 11, GGUF_F64 = 12,
};

#define GGUF_MAX_DIMS		4
#define GGUF_MAX_NAME		64	/* tensor name bytes, like GGML_MAX_NAME */

/* Limits; the defaults suit real models, tests and fuzzing pass smaller ones. */
struct gguf_limits {
	uint64_t	max_string;	/* bytes in one string (default 16 MiB) */
	uint64_t	max_array;	/* elements in one array (default 1<<28) */
	uint64_t	max_kv;		/* metadata pairs (default 1<<20) */
	uint64_t	max_tensors;	/* tensor infos (default 1<<20) */
	uint32_t	max_depth;	/* array nesting (default 8) */
};
extern const struct gguf_limits gguf_limits_default;

/* A string inside the mapping: not NUL-terminated. */
struct gguf_str {
	const char	*p;
	uint64_t	 n;
};

struct gguf_tensor {
	char		 name[GGUF_MAX_NAME];	/* NUL-terminated copy */
	uint32_t	 type;		/* ggml type id, see quant.h */
	uint32_t	 n_dims;
	int64_t		 ne[GGUF_MAX_DIMS];	/* ne[0] = row length; unused dims are 1 */
	uint64_t	 nelem;
	uint64_t	 offset;	/* from the start of the file */
	uint64_t	 nbytes;
	const void	*data;		/* into the mapping */
};

struct gguf;

/*
 * Open and validate `path` with mmap (read-only, private).  On success *out
 * owns the mapping; free it with gguf_free().  On failure returns -1 and
 * *cause (if given) is a malloc'd one-line sentence naming the field, e.g.
 * "tensor 'blk.0.attn_q.weight': data ends past the end of the file";
 * the file name is not in it (the caller adds it).  Directories, devices,
 * FIFOs and empty files are refused before mapping.  `lim` NULL means
 * gguf_limits_default; max_depth is capped at 64 and max_kv/max_tensors
 * at 2^30 whatever the caller asks.  The file must not shrink while it
 * is open (reading a truncated mapping raises SIGBUS).
 */
int	 gguf_open(const char *path, const struct gguf_limits *lim,
	    struct gguf **out, char **cause);
/* The same over a caller-owned buffer, which must outlive the result. */
int	 gguf_parse_mem(const void *buf, size_t len, const struct gguf_limits *lim,
	    struct gguf **out, char **cause);
void	 gguf_free(struct gguf *);	/* NULL is a no-op */

uint32_t gguf_version(const struct gguf *);
uint64_t gguf_file_size(const struct gguf *);
uint32_t gguf_alignment(const struct gguf *);
const void *gguf_base(const struct gguf *);	/* start of the file bytes */

/* ---- metadata ------------------------------------------------------------ */

uint64_t gguf_n_kv(const struct gguf *);
/* Index of `key` or -1.  Lookup is by hash, so 1M keys stay fast. */
int64_t	 gguf_find(const struct gguf *, const char *key);
/* Key of pair i ({NULL, 0} if i >= n_kv); type of pair i (not a valid
 * enum gguf_vtype value if i >= n_kv). */
struct gguf_str gguf_key(const struct gguf *, uint64_t i);
enum gguf_vtype gguf_type(const struct gguf *, uint64_t i);

/*
 * Typed getters: return 0 and fill *v, or -1 if the key is missing or its
 * type is not the asked one (a u32 getter also accepts u8/u16/i32>=0 etc.
 * where the value fits: real files write hparams with varying int types).
 */
int	 gguf_get_u32(const struct gguf *, const char *key, uint32_t *v);
int	 gguf_get_u64(const struct gguf *, const char *key, uint64_t *v);
int	 gguf_get_f32(const struct gguf *, const char *key, float *v);
/* Any non-zero byte reads as true. */
int	 gguf_get_bool(const struct gguf *, const char *key, bool *v);
int	 gguf_get_str(const struct gguf *, const char *key, struct gguf_str *v);
/* Scalar value of pair i widened: for display (model info). */
int	 gguf_scalar_f64(const struct gguf *, uint64_t i, double *v);

/*
 * Arrays.  gguf_get_arr: element type and count of the array under `key`
 * (-1 if missing or not an array); any out pointer may be NULL.
 * gguf_arr_data: the raw little-endian elements of a scalar-typed array
 * (NULL for string or nested arrays); they may be unaligned, so copy with
 * memcpy.  gguf_arr_str: element j of a string array, O(1); -1 if i is
 * not a string array or j >= count.  Pointers stay valid until gguf_free.
 */
int	 gguf_get_arr(const struct gguf *, const char *key, enum gguf_vtype *elem,
	    uint64_t *count, int64_t *index);
const void *gguf_arr_data(const struct gguf *, uint64_t i);
int	 gguf_arr_str(const struct gguf *, uint64_t i, uint64_t j,
	    struct gguf_str *v);

/* ---- tensors ------------------------------------------------------------- */

uint64_t gguf_n_tensors(const struct gguf *);
/* Tensor i or by name; NULL if absent.  Valid until gguf_free(). */
const struct gguf_tensor *gguf_tensor(const struct gguf *, uint64_t i);
const struct gguf_tensor *gguf_tensor_find(const struct gguf *, const char *name);

const char *gguf_vtype_name(enum gguf_vtype);

#endif
