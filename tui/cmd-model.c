/*
 * cmd-model.c - `triage model info FILE`: what a GGUF file is, whether
 * triage can run it, and what it will cost in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gcrypt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/engine.h"
#include "tui.h"

static const char model_usage[] =
"usage: triage model info [--sha256] [--metadata] [--ctx N] [--kv f16|q8] FILE\n"
"       triage model bench [-p N] [-n N] [-r N] [--threads N] [--kv f16|q8]\n"
"                          [--json] FILE\n"
"\n"
"  --sha256     also print the file's SHA-256 (reads the whole file)\n"
"  --metadata   list every metadata key and value\n"
"  --ctx N      estimate memory for an N-token context (default 4096)\n"
"  --kv q8      estimate it for an 8-bit KV cache (half of f16, the default)\n";

static const char *
count(uint64_t n, char *buf, size_t cap)
{
	if (n >= 1000000000)
		snprintf(buf, cap, "%.2f B", n / 1e9);
	else if (n >= 1000000)
		snprintf(buf, cap, "%.1f M", n / 1e6);
	else if (n >= 1000)
		snprintf(buf, cap, "%.1f K", n / 1e3);
	else
		snprintf(buf, cap, "%" PRIu64, n);
	return buf;
}

/* SHA-256 of a file, streamed; 0 or -1 with errno. */
static int
sha256_file(const char *path, char hex[65])
{
	unsigned char buf[1 << 16];
	gcry_md_hd_t h = NULL;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (!gcry_check_version(NULL) ||
	    gcry_md_open(&h, GCRY_MD_SHA256, 0) != 0)
		goto out;
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		gcry_md_write(h, buf, (size_t)r);
	}
	{
		const unsigned char *d = gcry_md_read(h, GCRY_MD_SHA256);

		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", d[i]);
	}
	rc = 0;
out:
	if (h != NULL)
		gcry_md_close(h);
	close(fd);
	return rc;
}

static void
print_kv(void *arg, const char *key, const char *value)
{
	(void)arg;
	out_printf(stdout, "  %-40s %s\n", key, value);
}

static void
print_info(const struct eng_model *m, const char *path)
{
	const struct eng_info *in = eng_model_info(m);
	char a[32], b[32], c[32], d[32];

	out_printf(stdout, "%sfile%s          %s (%s)\n", col(C_BOLD), col(C_RESET), path,
	    out_size(in->file_bytes, a, sizeof a));
	out_printf(stdout, "architecture  %s\n", in->arch);
	if (in->name[0])
		out_printf(stdout, "name          %s\n", in->name);
	if (in->license[0])
		out_printf(stdout, "licence       %s\n", in->license);
	out_printf(stdout, "parameters    %s\n", count(in->n_params, a, sizeof a));
	out_printf(stdout, "file type     %s\n", in->ftype[0] ? in->ftype : "-");
	out_printf(stdout, "tensor types ");
	for (uint32_t t = 0; t < 40; t++)
		if (in->type_count[t])
			out_printf(stdout, " %s x%" PRIu32 " (%s)", eng_type_name(t) ?
			    eng_type_name(t) : "?", in->type_count[t],
			    out_size(in->type_bytes[t], a, sizeof a));
	out_printf(stdout, "\n");
	if (in->n_layer) {
		out_printf(stdout, "shape         %" PRIu32 " layers, embedding %" PRIu32
		    ", feed-forward %" PRIu32 ", %" PRIu32 " heads (%" PRIu32
		    " kv), head dim %" PRIu32 ", rope base %g\n", in->n_layer,
		    in->n_embd, in->n_ff, in->n_head, in->n_head_kv,
		    in->head_dim, (double)in->rope_base);
		out_printf(stdout, "context       %" PRIu32 " tokens (model limit); %" PRIu32
		    " used here\n", in->n_ctx_train, in->n_ctx);
		if (in->features[0])
			out_printf(stdout, "features      %s\n", in->features);
	}
	out_printf(stdout, "vocabulary    %" PRIu32 " tokens, %s%s%s%s\n", in->n_vocab,
	    in->vocab_kind, in->vocab_pre[0] ? " (pre-tokenizer " : "",
	    in->vocab_pre, in->vocab_pre[0] ? ")" : "");
	out_printf(stdout, "chat template %s\n", in->chat_family);
	if (in->n_layer) {
		char e[32];

		out_printf(stdout, "memory        %s: weights %s (mapped from the file), "
		    "KV cache %s at %" PRIu32 " tokens (%s)", out_size(
		    in->mem_weights + in->mem_kv + in->mem_scratch +
		    in->mem_rec, a, sizeof a),
		    out_size(in->mem_weights, b, sizeof b),
		    out_size(in->mem_kv, c, sizeof c), in->n_ctx, in->kv);
		/* the KV cache is for attention layers only; recurrent layers
		 * keep a state whose size does not grow with the context */
		if (in->n_rec_layers)
			out_printf(stdout, " (%" PRIu32 " attention layers), "
			    "recurrent state %s (%" PRIu32 " layers)",
			    in->n_att_layers, out_size(in->mem_rec, e, sizeof e),
			    in->n_rec_layers);
		out_printf(stdout, ", scratch %s\n",
		    out_size(in->mem_scratch, d, sizeof d));
	}
}

static int
model_info(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sha256", no_argument, NULL, 's' },
		{ "metadata", no_argument, NULL, 'm' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "kv", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct eng_load_opts o = { 0 };
	struct eng_model *m = NULL;
	char *cause = NULL, *cause2 = NULL;
	bool sha = false, meta = false;
	int ch, rc, status = EXIT_TROUBLE;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "smc:h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': sha = true; break;
		case 'm': meta = true; break;
		case 'c': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > (1ul << 20)) {
				out_printf(stderr, "triage: --ctx: \"%s\" is not a "
				    "context size\n", optarg);
				return EXIT_TROUBLE;
			}
			o.n_ctx = (uint32_t)v;
			break;
		}
		case 'k':
			if (eng_kv_parse(optarg, &o.kv) != 0) {
				out_printf(stderr, "triage: --kv: \"%s\" is not "
				    "f16 or q8\n", optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'h': fputs(model_usage, stdout); return 0;
		default: fputs(model_usage, stderr); return EXIT_TROUBLE;
		}
	}
	if (optind + 1 != argc) {
		fputs(model_usage, stderr);
		return EXIT_TROUBLE;
	}
	out_colour_init(NULL, stdout);
	o.mem_limit = UINT64_MAX;	/* info only: report, do not refuse */
	rc = eng_model_open(argv[optind], &o, &m, &cause);
	if (rc == ENG_EUNSUPPORTED) {
		/* still describe it, and say why it cannot run */
		o.vocab_only = true;
		if (eng_model_open(argv[optind], &o, &m, &cause2) != 0) {
			out_printf(stderr, "triage: %s\n", cause);
			goto out;
		}
	} else if (rc != 0) {
		out_printf(stderr, "triage: %s\n", cause);
		goto out;
	}
	print_info(m, argv[optind]);
	if (cause != NULL)
		out_printf(stdout, "%sstatus        cannot run: %s%s\n", col(C_RED), cause,
		    col(C_RESET));
	else
		out_printf(stdout, "status        runnable\n");
	if (sha) {
		char hex[65];

		if (sha256_file(argv[optind], hex) != 0) {
			out_printf(stderr, "triage: %s: %s\n", argv[optind],
			    strerror(errno));
			goto out;
		}
		out_printf(stdout, "sha256        %s\n", hex);
	}
	if (meta) {
		out_printf(stdout, "metadata\n");
		eng_model_each_kv(m, print_kv, NULL);
	}
	status = cause ? EXIT_NONE : 0;
out:
	eng_model_free(m);
	free(cause);
	free(cause2);
	return status;
}

int
cmd_model(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(model_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_TROUBLE : 0;
	}
	if (strcmp(argv[1], "info") == 0)
		return model_info(argc - 1, argv + 1);
	if (strcmp(argv[1], "bench") == 0)
		return cmd_model_bench(argc - 1, argv + 1);
	out_printf(stderr, "triage: model: unknown command \"%s\"\n", argv[1]);
	fputs(model_usage, stderr);
	return EXIT_TROUBLE;
}
