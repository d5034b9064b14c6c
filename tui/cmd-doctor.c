/*
 * cmd-doctor.c - `triage doctor [--model FILE] [--json]`: this laptop
 * (CPU, features, cores, memory, free disk, kernels, read bandwidth), each
 * installed or given model (memory at its context, a short measured
 * prefill and decode), and which common model sizes will answer at a
 * usable speed here.  Estimates come from measured figures: decoding
 * reads every weight once per token, so bandwidth / weight bytes bounds
 * it; prefill does 2 x parameters FLOPs per token at the measured
 * batched matmul rate of the type.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../engine/engine.h"
#include "tui.h"

static const char doctor_usage[] =
"usage: triage doctor [--model FILE] [--json] [--threads N]\n"
"  --model FILE  also measure this GGUF model (besides the installed one)\n"
"  --json        print the report as JSON\n"
"  --threads N   threads to measure with (default: one per processor)\n"
"Exit status: 0 some common model size is usable here, 1 none is, 2 trouble.\n";

#define GGML_Q8_0	8
#define GGML_Q4_K	12
#define LOG_TOKENS	1000.0
#define USABLE_TOKS	5.0	/* decode tokens/s a technician will wait for */
#define USABLE_TTFT	30.0	/* seconds to the first token of a 1,000-token log */

/* Shapes of common models (parameters, KV bytes per token at f16). */
static const struct shape {
	const char	*size, *like;
	double		 params, kv_tok;
} shapes[] = {
	{ "0.6B", "Qwen3-0.6B", 0.60e9, 2.0 * 28 * 8 * 128 * 2 },
	{ "1B", "Llama-3.2-1B", 1.24e9, 2.0 * 16 * 8 * 64 * 2 },
	{ "1.7B", "Qwen3-1.7B", 2.03e9, 2.0 * 28 * 8 * 128 * 2 },
	{ "3-4B", "Qwen3-4B", 4.02e9, 2.0 * 36 * 8 * 128 * 2 },
	{ "7-8B", "Llama-3.1-8B", 8.03e9, 2.0 * 32 * 8 * 128 * 2 },
};
static const struct quant {
	const char	*name;
	uint32_t	 type;
	double		 bpw;	/* bits per weight of the whole file */
} quants[] = {
	{ "Q4_K_M", GGML_Q4_K, 4.89 },
	{ "Q8_0", GGML_Q8_0, 8.5 },
};

static void
cpu_model(char *buf, size_t cap, char *flags, size_t fcap)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	char line[4096], *v;

	snprintf(buf, cap, "unknown");
	flags[0] = '\0';
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((v = strchr(line, ':')) == NULL)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, "\n")] = '\0';
		if (strncmp(line, "model name", 10) == 0 && strcmp(buf, "unknown") == 0)
			snprintf(buf, cap, "%s", v);
		else if (strncmp(line, "flags", 5) == 0 && flags[0] == '\0')
			snprintf(flags, fcap, " %s ", v);
	}
	fclose(fp);
}

static int
has_flag(const char *flags, const char *f)
{
	char w[64];

	snprintf(w, sizeof(w), " %s ", f);
	return strstr(flags, w) != NULL;
}

/* MemTotal and MemAvailable in bytes. */
static void
meminfo(uint64_t *total, uint64_t *avail)
{
	FILE *fp = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb;

	*total = *avail = 0;
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			*total = kb * 1024;
		else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			*avail = kb * 1024;
	}
	fclose(fp);
}

/* Free bytes where the data directory is, or its nearest existing parent. */
static uint64_t
free_disk(const char *dir)
{
	struct statvfs sv;
	char *p = strdup(dir ? dir : "/"), *s;
	uint64_t r = 0;

	while (p != NULL) {
		if (statvfs(p, &sv) == 0) {
			r = (uint64_t)sv.f_bavail * sv.f_frsize;
			break;
		}
		if ((s = strrchr(p, '/')) == NULL || s == p) {
			if (statvfs("/", &sv) == 0)
				r = (uint64_t)sv.f_bavail * sv.f_frsize;
			break;
		}
		*s = '\0';
	}
	free(p);
	return r;
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Load a model, prefill a 64-token text and decode 16 tokens one by one.
 * Returns the JSON description, or NULL with *cause set.
 */
static json_t *
measure_model(const char *path, int threads, char **cause)
{
	static const char text[] = "Mar 14 08:20:01 line3-hmi kernel: EXT4-fs "
	    "error (device sda1): ext4_find_entry:1455: inode #2: comm "
	    "systemd: reading directory lblock 0; Mar 14 08:20:02 line3-hmi "
	    "upsmon[700]: UPS ups1@localhost on battery; sshd[42]: Failed "
	    "password for invalid user admin from 10.0.0.9 port 52314 ssh2";
	struct eng_load_opts o = { 0 };
	struct eng_model *m = NULL;
	struct eng_session *s = NULL;
	const struct eng_info *in;
	int32_t *ids = NULL, tok;
	size_t n = 0, i;
	double t, pp = 0, tg = 0;
	json_t *j = NULL;

	o.n_threads = threads;
	if (eng_model_open(path, &o, &m, cause) != 0)
		goto out;
	in = eng_model_info(m);
	if (eng_session_new(m, &s, cause) != 0)
		goto out;
	if (eng_tokenize(m, text, sizeof(text) - 1, true, &ids, &n) != 0 || n < 2) {
		*cause = strdup("cannot tokenize the probe text");
		goto out;
	}
	if (n > 64)
		n = 64;
	t = now_sec();
	if (eng_session_decode(s, ids, n, NULL, false, NULL, NULL) != 0) {
		*cause = strdup("prefill failed");
		goto out;
	}
	t = now_sec() - t;
	pp = t > 0 ? (double)n / t : 0;
	tok = ids[1];
	t = now_sec();
	for (i = 0; i < 16; i++)
		if (eng_session_decode(s, &tok, 1, NULL, false, NULL, NULL) != 0) {
			*cause = strdup("decode failed");
			goto out;
		}
	t = now_sec() - t;
	tg = t > 0 ? 16.0 / t : 0;
	j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f}",
	    "arch", in->arch, "type", in->ftype,
	    "params", (json_int_t)in->n_params,
	    "context", (json_int_t)in->n_ctx,
	    "memory_bytes", (json_int_t)(in->mem_weights + in->mem_kv +
	    in->mem_scratch + in->mem_rec),
	    "prefill_tokens", (json_int_t)n,
	    "prefill_tok_s", pp, "decode_tok_s", tg);
out:
	free(ids);
	eng_session_free(s);
	eng_model_free(m);
	return j;
}

static void
add_model(json_t *models, const char *path, const char *from, int threads,
    int *trouble)
{
	char *cause = NULL, *safe = pb_sanitize(path, strlen(path));
	json_t *j = measure_model(path, threads, &cause);

	if (j == NULL) {
		char *c = pb_sanitize(cause ? cause : "cannot load",
		    strlen(cause ? cause : "cannot load"));

		j = json_pack("{s:s}", "error", c ? c : "");
		free(c);
		if (strcmp(from, "given") == 0)
			*trouble = 1;
	}
	json_object_set_new(j, "file", json_string(safe ? safe : ""));
	json_object_set_new(j, "from", json_string(from));
	json_array_append_new(models, j);
	free(safe);
	free(cause);
}

static void
print_text(json_t *d)
{
	json_t *m = json_object_get(d, "machine"), *v;
	char b1[32], b2[32], b3[32];
	size_t i;

	out_printf(stdout, "CPU:        %s\n", json_string_value(json_object_get(m, "cpu")));
	out_printf(stdout, "features:   AVX2 %s, AVX-512 %s, VNNI %s\n",
	    json_is_true(json_object_get(m, "avx2")) ? "yes" : "no",
	    json_is_true(json_object_get(m, "avx512")) ? "yes" : "no",
	    json_is_true(json_object_get(m, "vnni")) ? "yes" : "no");
	out_printf(stdout, "cores:      %lld online\n",
	    (long long)json_integer_value(json_object_get(m, "cores")));
	out_printf(stdout, "memory:     %s total, %s available\n",
	    out_size((uint64_t)json_integer_value(json_object_get(m, "memory_bytes")), b1, sizeof b1),
	    out_size((uint64_t)json_integer_value(json_object_get(m, "memory_available_bytes")), b2, sizeof b2));
	out_printf(stdout, "disk:       %s free in the data directory\n",
	    out_size((uint64_t)json_integer_value(json_object_get(m, "disk_free_bytes")), b3, sizeof b3));
	out_printf(stdout, "kernels:    %s\n", json_string_value(json_object_get(m, "kernels")));
	out_printf(stdout, "bandwidth:  %.1f GB/s read (measured)\n",
	    json_real_value(json_object_get(m, "read_gb_s")));
	out_printf(stdout, "matmul:     Q4_K %.0f GFLOP/s, Q8_0 %.0f GFLOP/s (batched, measured)\n",
	    json_real_value(json_object_get(m, "q4_k_gflop_s")),
	    json_real_value(json_object_get(m, "q8_0_gflop_s")));
	json_array_foreach(json_object_get(d, "models"), i, v) {
		if (json_object_get(v, "error") != NULL) {
			out_printf(stdout, "model:      %s (%s): %s\n",
			    json_string_value(json_object_get(v, "file")),
			    json_string_value(json_object_get(v, "from")),
			    json_string_value(json_object_get(v, "error")));
			continue;
		}
		out_printf(stdout, "model:      %s (%s): %s %s, needs %s at %lld tokens of "
		    "context; prefill %.1f tok/s, decode %.1f tok/s\n",
		    json_string_value(json_object_get(v, "file")),
		    json_string_value(json_object_get(v, "from")),
		    json_string_value(json_object_get(v, "arch")),
		    json_string_value(json_object_get(v, "type")),
		    out_size((uint64_t)json_integer_value(json_object_get(v, "memory_bytes")), b1, sizeof b1),
		    (long long)json_integer_value(json_object_get(v, "context")),
		    json_real_value(json_object_get(v, "prefill_tok_s")),
		    json_real_value(json_object_get(v, "decode_tok_s")));
	}
	out_printf(stdout, "\nadvice (estimates for a 1,000-token log, 4096-token context):\n");
	out_printf(stdout, "  %-6s %-13s %-7s %9s %10s %10s  %s\n", "size", "like", "quant",
	    "memory", "decode", "first tok", "verdict");
	json_array_foreach(json_object_get(d, "advice"), i, v)
		out_printf(stdout, "  %-6s %-13s %-7s %9s %6.1f t/s %8.1f s  %s\n",
		    json_string_value(json_object_get(v, "size")),
		    json_string_value(json_object_get(v, "like")),
		    json_string_value(json_object_get(v, "quant")),
		    out_size((uint64_t)json_integer_value(json_object_get(v, "memory_bytes")), b1, sizeof b1),
		    json_real_value(json_object_get(v, "decode_tok_s")),
		    json_real_value(json_object_get(v, "ttft_s")),
		    json_string_value(json_object_get(v, "verdict")));
}

int
cmd_doctor(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char cpu[256], flags[8192], *dir = NULL, *installed = NULL, *bundle = NULL, *end;
	const char *given = NULL;
	json_t *d = NULL, *m, *models, *advice;
	uint64_t mem, avail;
	double bw, rate[2];
	int c, json = 0, threads, usable = 0, trouble = 0, rc = EXIT_TROUBLE;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, k;

	threads = cores > 0 ? (int)cores : 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		switch (c) {
		case 'm': given = optarg; break;
		case 'j': json = 1; break;
		case 't':
			threads = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || threads < 1 || threads > 256) {
				out_printf(stderr, "triage: doctor: --threads \"%s\": "
				    "expected 1 to 256\n", optarg);
				return EXIT_TROUBLE;
			}
			break;
		case 'h': fputs(doctor_usage, stdout); return 0;
		default: fputs(doctor_usage, stderr); return EXIT_TROUBLE;
		}
	if (optind != argc) {
		fputs(doctor_usage, stderr);
		return EXIT_TROUBLE;
	}
	if (given != NULL && access(given, R_OK) != 0) {
		out_printf(stderr, "triage: doctor: %s: cannot read\n", given);
		return EXIT_TROUBLE;
	}
	cpu_model(cpu, sizeof(cpu), flags, sizeof(flags));
	meminfo(&mem, &avail);
	dir = path_data_dir();
	bw = eng_probe_membw(threads, 512, 1.0);
	for (k = 0; k < 2; k++)
		rate[k] = eng_probe_matmul(quants[k].type, threads, 0.3);
	d = json_object();
	m = json_pack("{s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:s, s:f, s:f, s:f}",
	    "cpu", cpu, "avx2", has_flag(flags, "avx2"),
	    "avx512", has_flag(flags, "avx512f"),
	    "vnni", has_flag(flags, "avx512_vnni") || has_flag(flags, "avx_vnni"),
	    "cores", (json_int_t)cores, "memory_bytes", (json_int_t)mem,
	    "memory_available_bytes", (json_int_t)avail,
	    "disk_free_bytes", (json_int_t)free_disk(dir),
	    "kernels", eng_backend(), "read_gb_s", bw,
	    "q4_k_gflop_s", rate[0], "q8_0_gflop_s", rate[1]);
	json_object_set_new(d, "machine", m);
	json_object_set_new(d, "threads", json_integer(threads));
	models = json_array();
	json_object_set_new(d, "models", models);
	if ((installed = bundle_model_path(&bundle)) != NULL)
		add_model(models, installed, "installed", threads, &trouble);
	if (given != NULL)
		add_model(models, given, "given", threads, &trouble);
	advice = json_array();
	json_object_set_new(d, "advice", advice);
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		for (k = 0; k < 2; k++) {
			double wbytes = shapes[i].params * quants[k].bpw / 8;
			double need = wbytes + shapes[i].kv_tok * 4096 + 256e6;
			double tg = bw > 0 ? bw * 1e9 / wbytes : 0;
			double ttft = rate[k] > 0 ? 2 * shapes[i].params * LOG_TOKENS /
			    (rate[k] * 1e9) : 0;
			const char *verdict = need > 0.8 * (double)mem ? "won't fit" :
			    tg >= USABLE_TOKS && ttft > 0 && ttft <= USABLE_TTFT ?
			    "usable" : "slow";

			if (strcmp(verdict, "usable") == 0)
				usable = 1;
			json_array_append_new(advice, json_pack(
			    "{s:s, s:s, s:s, s:I, s:f, s:f, s:s}",
			    "size", shapes[i].size, "like", shapes[i].like,
			    "quant", quants[k].name, "memory_bytes", (json_int_t)need,
			    "decode_tok_s", tg, "ttft_s", ttft, "verdict", verdict));
		}
	if (json) {
		json_dumpf(d, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else
		print_text(d);
	rc = trouble ? EXIT_TROUBLE : usable ? 0 : EXIT_NONE;
	json_decref(d);
	free(dir);
	free(installed);
	free(bundle);
	return rc;
}
