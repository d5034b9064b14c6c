/*
 * fuzz-gguf.c - libFuzzer harness for the GGUF reader (engine/gguf.c).
 *
 * Parses the input with small limits (so the fuzzer reaches every limit
 * check with small inputs) and, when it is accepted, touches every byte
 * the reader vouches for: each key, each scalar, every array element,
 * every string of a string array, the first and last byte of each
 * tensor.  Under ASan any promise the reader breaks is a crash.
 * The parser must never abort, whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"

/* Sums the bytes so the compiler cannot drop the reads. */
static volatile uint8_t sink;

static void
touch(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;
	uint64_t i;

	for (i = 0; i < n; i++)
		acc ^= b[i];
	sink ^= acc;
}

/* Bytes per element of a scalar array, 0 otherwise. */
static uint64_t
elem_size(enum gguf_vtype t)
{
	switch (t) {
	case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
	case GGUF_U16: case GGUF_I16: return 2;
	case GGUF_U32: case GGUF_I32: case GGUF_F32: return 4;
	case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
	default: return 0;
	}
}

static void
walk(const struct gguf *g)
{
	uint64_t i, j;
	char key[256];

	for (i = 0; i < gguf_n_kv(g); i++) {
		struct gguf_str k = gguf_key(g, i);
		enum gguf_vtype t = gguf_type(g, i), elem;
		uint64_t count;
		int64_t idx;
		double d;

		touch(k.p, k.n);
		(void)gguf_vtype_name(t);
		(void)gguf_scalar_f64(g, i, &d);
		if (k.n >= sizeof key)
			continue;
		memcpy(key, k.p, k.n);
		key[k.n] = '\0';
		/* every key must be found again at its own index */
		if (gguf_find(g, key) != (int64_t)i)
			abort();
		{
			uint32_t u32;
			uint64_t u64;
			float f;
			bool b;
			struct gguf_str s;

			(void)gguf_get_u32(g, key, &u32);
			(void)gguf_get_u64(g, key, &u64);
			(void)gguf_get_f32(g, key, &f);
			(void)gguf_get_bool(g, key, &b);
			if (gguf_get_str(g, key, &s) == 0)
				touch(s.p, s.n);
		}
		if (gguf_get_arr(g, key, &elem, &count, &idx) != 0)
			continue;
		if (idx != (int64_t)i)
			abort();
		if (elem == GGUF_STR) {
			for (j = 0; j < count; j++) {
				struct gguf_str s;

				if (gguf_arr_str(g, i, j, &s) != 0)
					abort();
				touch(s.p, s.n);
			}
		} else if (elem_size(elem) != 0) {
			const void *p = gguf_arr_data(g, i);

			if (p == NULL)
				abort();
			touch(p, count * elem_size(elem));
		}
	}
	for (i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);

		if (gguf_tensor_find(g, t->name) != t)
			abort();
		if (quant_info(t->type) == NULL)
			abort();
		if (t->nbytes > 0) {
			const uint8_t *p = t->data;

			touch(p, 1);
			touch(p + t->nbytes - 1, 1);
		}
	}
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small limits: every cap is reachable with a few bytes. */
	static const struct gguf_limits lim = {
		.max_string = 4096,
		.max_array = 1 << 16,
		.max_kv = 256,
		.max_tensors = 256,
		.max_depth = 4,
	};
	struct gguf *g = NULL;
	char *cause = NULL;

	if (gguf_parse_mem(data, size, &lim, &g, &cause) == 0) {
		if (cause != NULL)
			abort();
		walk(g);
		gguf_free(g);
	} else {
		/* a refusal always says why, on one line */
		if (g != NULL || cause == NULL || strchr(cause, '\n') != NULL)
			abort();
		free(cause);
	}
	return 0;
}
