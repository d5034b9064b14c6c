/*
 * lib-ggufw.h - a small streaming GGUF v3 writer for tests and tools.
 *
 * The file is written in the order the format lays it out:
 *
 *   u32 "GGUF" | u32 3 | u64 n_tensors | u64 n_kv      (counts patched later)
 *   n_kv x { str key | u32 vtype | value }             (written as they come)
 *   n_tensors x { str name | u32 n_dims | u64 ne[] | u32 type | u64 offset }
 *   zero padding to the alignment
 *   tensor data, each tensor padded with zeros to the alignment
 *
 * Metadata goes straight to the file; tensor infos are kept in memory
 * (a few hundred small records) until the first data byte, because they
 * must follow every key.  Tensor data is then streamed in declaration
 * order with ggufw_data(), so a multi-gigabyte model never has to be held
 * in memory.  The output must be seekable (a regular file): the two counts
 * in the header are patched when the metadata is complete.
 *
 * Errors are sticky, as with stdio: once a call fails, every later call
 * returns -1 and ggufw_close() reports the first cause.  Numbers are
 * written little-endian whatever the host.
 */
#ifndef TRIAGE_TESTS_GGUFW_H
#define TRIAGE_TESTS_GGUFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

/* What readers assume without general.alignment. */
#define GGUFW_ALIGN_DEFAULT	32

struct ggufw;

/*
 * Create (truncate) `path` for writing.  alignment 0 means 32; otherwise
 * it must be a power of two.  The writer does not add the
 * `general.alignment` key itself: a caller that uses another alignment
 * must write it (as u32) so readers find the tensors.
 */
int	 ggufw_open(const char *path, uint32_t alignment, struct ggufw **out,
	    char **cause);

/* ---- metadata: may be called until the first ggufw_data() ------------- */

int	 ggufw_kv_u8(struct ggufw *, const char *key, uint8_t v);
int	 ggufw_kv_i8(struct ggufw *, const char *key, int8_t v);
int	 ggufw_kv_u16(struct ggufw *, const char *key, uint16_t v);
int	 ggufw_kv_i16(struct ggufw *, const char *key, int16_t v);
int	 ggufw_kv_u32(struct ggufw *, const char *key, uint32_t v);
int	 ggufw_kv_i32(struct ggufw *, const char *key, int32_t v);
int	 ggufw_kv_u64(struct ggufw *, const char *key, uint64_t v);
int	 ggufw_kv_i64(struct ggufw *, const char *key, int64_t v);
int	 ggufw_kv_f32(struct ggufw *, const char *key, float v);
int	 ggufw_kv_f64(struct ggufw *, const char *key, double v);
int	 ggufw_kv_bool(struct ggufw *, const char *key, bool v);
/* A string of len bytes (may hold NULs; GGUF strings are counted). */
int	 ggufw_kv_str(struct ggufw *, const char *key, const char *s,
	    size_t len);
/*
 * An array of n scalars of type `elem` (not GGUF_STR / GGUF_ARR), taken
 * from host-order C values: uint8_t, int8_t, ..., float, double, and
 * uint8_t (0/1) for GGUF_BOOL.
 */
int	 ggufw_kv_arr(struct ggufw *, const char *key, enum gguf_vtype elem,
	    const void *v, uint64_t n);
/*
 * An array of n strings, streamed: after ggufw_kv_arr_str() the next n
 * calls must be ggufw_arr_str(), one per element.  Anything else before
 * the n-th element is an error.
 */
int	 ggufw_kv_arr_str(struct ggufw *, const char *key, uint64_t n);
int	 ggufw_arr_str(struct ggufw *, const char *s, size_t len);
/*
 * Copy pair i of an open GGUF verbatim (key, type and value; scalars,
 * strings and arrays of scalars or strings).  Nested arrays are refused.
 */
int	 ggufw_kv_copy(struct ggufw *, const struct gguf *src, uint64_t i);

/*
 * Declare a tensor: ne[0] is the row length (the fastest-varying
 * dimension), unused trailing dimensions need not be given.  Its offset
 * is the aligned running total of the tensors declared before it.
 */
int	 ggufw_tensor(struct ggufw *, const char *name, uint32_t type,
	    uint32_t n_dims, const int64_t *ne);

/* ---- tensor data --------------------------------------------------------- */

/*
 * Append n bytes of tensor data.  The first call ends the metadata and
 * writes the tensor infos.  Bytes fill the declared tensors in order; a
 * chunk may span the end of one tensor and the start of the next, and
 * alignment padding is inserted automatically.
 */
int	 ggufw_data(struct ggufw *, const void *p, size_t n);
/* Bytes of tensor data still expected (all declared tensors). */
uint64_t ggufw_data_left(const struct ggufw *);

/*
 * Finish: check every declared tensor got all its bytes, patch the header,
 * flush and close.  Returns 0, or -1 with *cause (malloc'd, if cause is
 * not NULL) naming the first problem; on failure the partial file is
 * removed.  Frees the writer in both cases; NULL returns -1.
 */
int	 ggufw_close(struct ggufw *, char **cause);
/* Give up: close, remove the partial file, free.  NULL is a no-op. */
void	 ggufw_abort(struct ggufw *);

#endif
