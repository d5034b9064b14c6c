/*
 * tool-gguf-gen.c - write a synthetic GGUF model with deterministic
 * pseudo-random weights (test and benchmark input; see lib-syngen.h).
 *
 *   tool-gguf-gen [--preset NAME] [--arch llama|qwen2|qwen3|gemma3|qwen35]
 *       [--type T]
 *       [--n-embd N] [--n-ff N] [--n-layer N] [--n-head N] [--n-head-kv N]
 *       [--head-dim N] [--n-ctx N] [--rope-base F] [--rms-eps F]
 *       [--rope-freqs FACTOR,LOW,HIGH,ORIG_CTX | --no-rope-freqs]
 *       [--tied | --untied] [--alignment N] [--name S] [--seed N]
 *       [--vocab-from FILE.gguf | --tokenizer-json FILE
 *        [--tokenizer-config FILE] [--vocab-pre NAME]] [--n-vocab N]
 *       -o FILE
 *
 * The same arguments give a byte-identical file on every machine.  The
 * preset (applied first, wherever it appears) sets a real model's shape;
 * later options override it.  Exit 0 on success, 1 on a generation
 * error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib-syngen.h"

enum {
	OPT_ARCH = 256, OPT_TYPE, OPT_EMBD, OPT_FF, OPT_LAYER, OPT_HEAD,
	OPT_HEAD_KV, OPT_HEAD_DIM, OPT_CTX, OPT_ROPE_BASE, OPT_RMS_EPS,
	OPT_ROPE_FREQS, OPT_NO_ROPE_FREQS, OPT_TIED, OPT_UNTIED, OPT_ALIGN,
	OPT_NAME, OPT_SEED, OPT_VOCAB_FROM, OPT_TOK_JSON, OPT_TOK_CONFIG,
	OPT_VOCAB_PRE, OPT_N_VOCAB, OPT_PRESET, OPT_THREADS,
};

static const struct option longopts[] = {
	{ "preset",		required_argument, NULL, OPT_PRESET },
	{ "arch",		required_argument, NULL, OPT_ARCH },
	{ "type",		required_argument, NULL, OPT_TYPE },
	{ "n-embd",		required_argument, NULL, OPT_EMBD },
	{ "n-ff",		required_argument, NULL, OPT_FF },
	{ "n-layer",		required_argument, NULL, OPT_LAYER },
	{ "n-head",		required_argument, NULL, OPT_HEAD },
	{ "n-head-kv",		required_argument, NULL, OPT_HEAD_KV },
	{ "head-dim",		required_argument, NULL, OPT_HEAD_DIM },
	{ "n-ctx",		required_argument, NULL, OPT_CTX },
	{ "rope-base",		required_argument, NULL, OPT_ROPE_BASE },
	{ "rms-eps",		required_argument, NULL, OPT_RMS_EPS },
	{ "rope-freqs",		required_argument, NULL, OPT_ROPE_FREQS },
	{ "no-rope-freqs",	no_argument,	   NULL, OPT_NO_ROPE_FREQS },
	{ "tied",		no_argument,	   NULL, OPT_TIED },
	{ "untied",		no_argument,	   NULL, OPT_UNTIED },
	{ "alignment",		required_argument, NULL, OPT_ALIGN },
	{ "name",		required_argument, NULL, OPT_NAME },
	{ "seed",		required_argument, NULL, OPT_SEED },
	{ "vocab-from",		required_argument, NULL, OPT_VOCAB_FROM },
	{ "tokenizer-json",	required_argument, NULL, OPT_TOK_JSON },
	{ "tokenizer-config",	required_argument, NULL, OPT_TOK_CONFIG },
	{ "vocab-pre",		required_argument, NULL, OPT_VOCAB_PRE },
	{ "n-vocab",		required_argument, NULL, OPT_N_VOCAB },
	{ "threads",		required_argument, NULL, OPT_THREADS },
	{ "output",		required_argument, NULL, 'o' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	const char *const *p;

	fprintf(f,
	    "usage: tool-gguf-gen [options] -o FILE\n"
	    "  --preset NAME        real shapes:");
	for (p = syngen_presets; *p != NULL; p++)
		fprintf(f, " %s", *p);
	fprintf(f, "\n"
	    "  --arch A             llama (default), qwen2, qwen3; gemma3 and\n"
	    "                       qwen35 only with their presets\n"
	    "  --type T             F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K "
	    "Q5_K Q6_K\n"
	    "                       (every 2-D weight) or the Q4_K_M / Q5_K_M "
	    "mixes\n"
	    "  --n-embd --n-ff --n-layer --n-head --n-head-kv --head-dim "
	    "--n-ctx N\n"
	    "  --rope-base F --rms-eps F\n"
	    "  --rope-freqs FACTOR,LOW,HIGH,ORIG_CTX   Llama 3 rope_freqs "
	    "tensor\n"
	    "  --tied | --untied    output shares token_embd (or not)\n"
	    "  --vocab-from FILE.gguf                  copy its tokenizer.* "
	    "keys\n"
	    "  --tokenizer-json FILE [--tokenizer-config FILE] [--vocab-pre "
	    "NAME]\n"
	    "  --n-vocab N          synthetic SentencePiece vocab size "
	    "(default 512)\n"
	    "  --seed N --name S --alignment N\n"
	    "  --threads N          0: all CPUs (the bytes do not change)\n");
}

static int
parse_u32(const char *opt, const char *s, uint32_t *v)
{
	unsigned long long	 x;
	char			*end;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    x > UINT32_MAX) {
		fprintf(stderr, "tool-gguf-gen: --%s: '%s' is not a number\n",
		    opt, s);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

static int
parse_f32(const char *opt, const char *s, float *v)
{
	char	*end;

	errno = 0;
	*v = strtof(s, &end);
	if (errno != 0 || end == s || *end != '\0') {
		fprintf(stderr, "tool-gguf-gen: --%s: '%s' is not a number\n",
		    opt, s);
		return -1;
	}
	return 0;
}

static int
parse_rope_freqs(const char *s, struct syngen_spec *sp)
{
	char	 tail;

	if (sscanf(s, "%f,%f,%f,%u%c", &sp->rf_factor, &sp->rf_low,
	    &sp->rf_high, &sp->rf_orig_ctx, &tail) != 4) {
		fprintf(stderr, "tool-gguf-gen: --rope-freqs wants "
		    "FACTOR,LOW,HIGH,ORIG_CTX (e.g. 32,1,4,8192)\n");
		return -1;
	}
	sp->rope_freqs = true;
	return 0;
}

int
main(int argc, char **argv)
{
	struct syngen_spec	 sp;
	struct timespec		 t0, t1;
	struct stat		 st;
	const char		*out = NULL;
	char			*cause = NULL;
	uint64_t		 seed;
	uint32_t		 u;
	char			*end;
	bool			 vocab_set = false;
	int			 c, i, bad = 0;

	syngen_defaults(&sp);
	/* the preset first, so that every other option overrides it */
	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc)
			v = argv[i + 1];
		else if (strncmp(argv[i], "--preset=", 9) == 0)
			v = argv[i] + 9;
		if (v != NULL && syngen_preset(&sp, v) != 0) {
			fprintf(stderr, "tool-gguf-gen: unknown preset '%s'\n",
			    v);
			return 2;
		}
	}
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PRESET:
			break;
		case OPT_ARCH:
			sp.arch = optarg;
			break;
		case OPT_TYPE:
			sp.type = optarg;
			break;
		case OPT_EMBD:
			bad |= parse_u32("n-embd", optarg, &sp.n_embd);
			break;
		case OPT_FF:
			bad |= parse_u32("n-ff", optarg, &sp.n_ff);
			break;
		case OPT_LAYER:
			bad |= parse_u32("n-layer", optarg, &sp.n_layer);
			break;
		case OPT_HEAD:
			bad |= parse_u32("n-head", optarg, &sp.n_head);
			break;
		case OPT_HEAD_KV:
			bad |= parse_u32("n-head-kv", optarg, &sp.n_head_kv);
			break;
		case OPT_HEAD_DIM:
			bad |= parse_u32("head-dim", optarg, &sp.head_dim);
			break;
		case OPT_CTX:
			bad |= parse_u32("n-ctx", optarg, &sp.n_ctx);
			break;
		case OPT_ROPE_BASE:
			bad |= parse_f32("rope-base", optarg, &sp.rope_base);
			break;
		case OPT_RMS_EPS:
			bad |= parse_f32("rms-eps", optarg, &sp.rms_eps);
			break;
		case OPT_ROPE_FREQS:
			bad |= parse_rope_freqs(optarg, &sp);
			break;
		case OPT_NO_ROPE_FREQS:
			sp.rope_freqs = false;
			break;
		case OPT_TIED:
			sp.tied = true;
			break;
		case OPT_UNTIED:
			sp.tied = false;
			break;
		case OPT_ALIGN:
			bad |= parse_u32("alignment", optarg, &sp.alignment);
			break;
		case OPT_NAME:
			sp.name = optarg;
			break;
		case OPT_SEED:
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-') {
				fprintf(stderr, "tool-gguf-gen: --seed: "
				    "'%s' is not a number\n", optarg);
				bad = -1;
			}
			sp.seed = seed;
			break;
		case OPT_VOCAB_FROM:
			sp.vocab_from = optarg;
			break;
		case OPT_TOK_JSON:
			sp.tok_json = optarg;
			break;
		case OPT_TOK_CONFIG:
			sp.tok_config = optarg;
			break;
		case OPT_VOCAB_PRE:
			sp.tok_pre = optarg;
			break;
		case OPT_N_VOCAB:
			bad |= parse_u32("n-vocab", optarg, &u);
			sp.n_vocab = u;
			vocab_set = true;
			break;
		case OPT_THREADS:
			bad |= parse_u32("threads", optarg, &u);
			sp.n_threads = u > 1024 ? 1024 : (int)u;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (bad != 0)
		return 2;
	if (out == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/*
	 * A preset's vocab size is a default for the synthetic vocab (and the
	 * padded size of a tokenizer.json one), not a demand on --vocab-from.
	 */
	if (sp.vocab_from != NULL && !vocab_set)
		sp.n_vocab = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (syngen_write(&sp, out, &cause) != 0) {
		fprintf(stderr, "tool-gguf-gen: %s\n",
		    cause != NULL ? cause : "failed");
		free(cause);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (stat(out, &st) == 0)
		fprintf(stderr, "tool-gguf-gen: wrote %s: %lld bytes in "
		    "%.2f s\n", out, (long long)st.st_size,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
