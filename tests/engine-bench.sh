#!/bin/bash
# tests/engine-bench.sh - the engine part of `make bench` (issue 4):
#   1. five synthetic models at real shapes (Qwen3-0.6B Q8_0 and Q4_K_M,
#      Llama-3.2-1B, Gemma-3-1B and Qwen3.5-0.8B Q4_K_M), generated once
#      into $B/engine-bench/ and reused.  Gemma 3 1B: google/gemma-3-1b-it's
#      config.json.  Qwen3.5-0.8B: 24 layers of 1024, 8:2 heads of 256, one
#      attention layer in four (published); its DeltaNet heads (16 k, 16 v
#      of 128), n_ff 3584 and rope sections come from configs derived from
#      it, not from its own config.json, which could not be read offline
#   2. this machine's read bandwidth: a parallel sum over a 1 GiB array
#      with the bench's thread count, reading 1, 2, 4 or 8 streams per
#      thread, the best (tests/tool-membw); measured again just before
#      each model, since a shared machine's bandwidth moves
#   3. `triage model bench` on each: prefill pp512, decode tg128, time to
#      first token, peak RSS; decode also as a fraction of the bandwidth
#      bound (weight bytes one token reads / the read bandwidth measured
#      just before it)
#   4. time to first token for a 1000-token prompt on the Llama, Gemma 3
#      and Qwen3.5 shapes (sliding window and DeltaNet layers, issue 14)
#   5. prefill per type: batched integer kernels vs OpenBLAS sgemm
#   6. (issue 17) the CPU model and kernel variant; per model a compute
#      bound beside the bandwidth bound: the threads times the decode
#      kernels' peak rate in cache per type (tests/tool-kern-rate, over
#      the model's matrices), and decode as a fraction of the lower of
#      the two; tg128 after 2,048 tokens of context beside tg128 from an
#      empty context, interleaved (tests/tool-decode-depth) on the
#      shapes of BENCH_DEPTH_MODELS (the issue's three by default)
# Run with TRIAGE and B set by the Makefile.  BENCH_THREADS overrides the
# thread count (default: online CPUs), BENCH_REPS the repetitions (3),
# BENCH_MODELS the list of preset:type pairs, BENCH_BLAS=0 skips step 5.
# The machine may be shared: the numbers are what it gave this time.
set -u
B=${B:-build/rel}
TRIAGE=${TRIAGE:-$PWD/$B/triage}
TOOLS=$PWD/$B/tests
CACHE=$PWD/$B/engine-bench
TH=${BENCH_THREADS:-$(getconf _NPROCESSORS_ONLN)}
REPS=${BENCH_REPS:-3}
mkdir -p "$CACHE" || exit 2

# the reference runtime's figures from issue 17's table (AMD EPYC Zen 5,
# 2 threads, AVX-512 VNNI; the first of its two rounds, the higher)
declare -A REF_PP=( [qwen3-0.6b-q8_0]=497 [qwen3-0.6b-q4_k_m]=514 [llama-3.2-1b-q4_k_m]=319 )
declare -A REF_TG=( [qwen3-0.6b-q8_0]=60.2 [qwen3-0.6b-q4_k_m]=74.3 [llama-3.2-1b-q4_k_m]=42.9 )
MODELS=${BENCH_MODELS:-"qwen3-0.6b:Q8_0 qwen3-0.6b:Q4_K_M llama-3.2-1b:Q4_K_M gemma-3-1b:Q4_K_M qwen3.5-0.8b:Q4_K_M"}
DEPTH_MODELS=${BENCH_DEPTH_MODELS:-"qwen3-0.6b:Q8_0 qwen3-0.6b:Q4_K_M llama-3.2-1b:Q4_K_M"}
DEPTH=${BENCH_DEPTH:-2048}

echo "== engine: cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) online; kernels: $("$TOOLS/tool-kern-rate" --types Q8_0 | awk 'NR == 2 {print $2}'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== engine: models (cached in $CACHE)"
for m in $MODELS; do
	preset=${m%%:*} type=${m##*:}
	f=$CACHE/$preset-$(echo "$type" | tr 'A-Z' 'a-z').gguf
	if [ ! -s "$f" ]; then
		echo "generating $f (K-quants take a minute or two)"
		"$TOOLS/tool-gguf-gen" --preset "$preset" --type "$type" \
		    --threads 0 -o "$f.tmp" >/dev/null && mv "$f.tmp" "$f" || {
			echo "engine bench: cannot generate $f"; exit 2; }
	fi
done

echo "== engine: read bandwidth, then triage model bench -p 512 -n 128 --threads $TH --json ($REPS runs each)"
rows=()
for m in $MODELS; do
	preset=${m%%:*} type=${m##*:}
	name=$preset-$(echo "$type" | tr 'A-Z' 'a-z')
	f=$CACHE/$name.gguf
	bwline=$("$TOOLS/tool-membw" --threads "$TH") || exit 1
	echo "$bwline"
	bw=$(echo "$bwline" | awk '{print $3}')
	j=$("$TRIAGE" model bench -p 512 -n 128 -r "$REPS" --threads "$TH" --json "$f") || exit 1
	echo "$j"
	get() { printf '%s' "$j" | "$TOOLS/jsonget" "$1"; }
	rates=$("$TOOLS/tool-kern-rate" --model "$f" --threads "$TH") || exit 1
	echo "$rates"
	cb=$(echo "$rates" | awk '/^compute bound:/ {print $3}')
	rows+=("$name $(get pp_tps) $(get tg_tps) $(get ttft_s) $(get peak_rss) $(get file_bytes) $(get mem_kv) $(get weight_bytes) $bw $cb")
done

echo
echo "== engine: summary ($TH threads; reference = the issue's table; bound = read bandwidth / weight bytes per token)"
printf '%-22s %9s %9s %6s %9s %9s %6s %7s %9s %8s %8s %9s\n' model pp512 ref x tg128 ref x \
    "GB/s" "bound" "of bound" "TTFT s" "RSS MiB"
for r in "${rows[@]}"; do
	set -- $r
	awk -v n="$1" -v pp="$2" -v tg="$3" -v ttft="$4" -v rss="$5" \
	    -v fb="$6" -v kv="$7" -v wb="$8" -v bw="$9" \
	    -v rpp="${REF_PP[$1]:-}" -v rtg="${REF_TG[$1]:-}" 'BEGIN {
		bound = bw * 1e9 / wb;
		if (rpp == "")	# no reference figure for this shape
			printf "%-22s %9.1f %9s %6s %9.2f %9s %6s %7.2f %7.1f/s %7.0f%% %8.3f %9.1f\n",
			    n, pp, "-", "-", tg, "-", "-", bw, bound,
			    100 * tg / bound, ttft, rss / 1048576;
		else
			printf "%-22s %9.1f %9.1f %5.2fx %9.2f %9.1f %5.2fx %7.2f %7.1f/s %7.0f%% %8.3f %9.1f\n",
			    n, pp, rpp, pp / rpp, tg, rtg, tg / rtg, bw, bound,
			    100 * tg / bound, ttft, rss / 1048576;
		lim = (fb + kv) / 1048576 + 64;
		if (rss / 1048576 > lim)
			printf "  peak RSS over file + KV + 64 MiB (%.1f MiB)\n", lim;
	}'
done
echo "targets: prefill >= 1.25x and decode >= 1.25x the reference (issue 17)"

echo
echo "== engine: decode against its bounds ($TH threads; bandwidth bound as above; compute bound = threads x the kernels' peak in cache)"
printf '%-22s %9s %11s %11s %9s\n' model tg128 "bw bound" "compute" "of lower"
for r in "${rows[@]}"; do
	set -- $r
	awk -v n="$1" -v tg="$3" -v wb="$8" -v bw="$9" -v cb="${10}" 'BEGIN {
		bound = bw * 1e9 / wb;
		low = cb < bound ? cb : bound;
		printf "%-22s %9.2f %9.1f/s %9.1f/s %8.0f%% (%s)\n", n, tg,
		    bound, cb, 100 * tg / low,
		    cb < bound ? "compute" : "bandwidth";
	}'
done

drows=()
for m in $DEPTH_MODELS; do
	preset=${m%%:*} type=${m##*:}
	name=$preset-$(echo "$type" | tr 'A-Z' 'a-z')
	echo
	echo "== engine: decode deep in a context, $name: tg128 from empty and after $DEPTH tokens, interleaved ($REPS reps, best of each)"
	j=$("$TOOLS/tool-decode-depth" --threads "$TH" --depth "$DEPTH" \
	    --gen 128 --reps "$REPS" "$CACHE/$name.gguf") || exit 1
	echo "$j"
	get() { printf '%s' "$j" | "$TOOLS/jsonget" "$1"; }
	drows+=("$name $(get tg_tps) $(get tg_depth_tps) $(get ratio) $(get cpu_ratio)")
done
if [ ${#drows[@]} -gt 0 ]; then
	echo
	echo "== engine: decode deep in a context ($TH threads; cpu ratio: the same per CPU-second, less moved by other load)"
	printf '%-22s %12s %14s %7s %10s\n' model "tg128 empty" "tg128 @$DEPTH" ratio "cpu ratio"
	for r in "${drows[@]}"; do
		set -- $r
		printf '%-22s %12.2f %14.2f %6.2fx %9.2fx\n' "$1" "$2" "$3" "$4" "$5"
	done
	echo "target: tg128 after $DEPTH tokens >= 0.85x tg128 from empty"
fi

for m in $MODELS; do
	preset=${m%%:*} type=${m##*:}
	case $preset in llama-3.2-1b|gemma-3-1b|qwen3.5-0.8b) ;; *) continue ;; esac
	echo
	echo "== engine: time to first token, 1000-token prompt, $preset $type"
	"$TRIAGE" model bench -p 1000 -n 0 -r 1 --threads "$TH" \
	    "$CACHE/$preset-$(echo "$type" | tr 'A-Z' 'a-z').gguf" || exit 1
done

# long prompts (flash attention) and the 8-bit KV cache on the Llama shape:
# prefill of 2048 and 4096 tokens and decode after 2048, f16 then q8
# cache, the two interleaved
KVM=$CACHE/llama-3.2-1b-q4_k_m.gguf
if [ -s "$KVM" ]; then
	echo
	echo "== engine: long prompts and the KV cache, llama-3.2-1b Q4_K_M ($TH threads, f16 and q8 interleaved)"
	declare -A KVR=()
	for kv in f16 q8 f16 q8; do
		for t in "-p 2048 -n 0" "-p 4096 -n 0" "-p 0 -n 128 --depth 2048"; do
			j=$("$TRIAGE" model bench $t -r 1 --kv $kv --threads "$TH" \
			    --json "$KVM") || exit 1
			get() { printf '%s' "$j" | "$TOOLS/jsonget" "$1"; }
			case $t in
			*4096*) k=pp4096 v=$(get pp_tps); KVR[$kv.mem]=$(get mem_kv) ;;
			*2048\ -n\ 0*) k=pp2048 v=$(get pp_tps) ;;
			*) k=tg128d v=$(get tg_tps) ;;
			esac
			# the better of the two rounds
			awk -v a="${KVR[$kv.$k]:-0}" -v b="$v" 'BEGIN { exit !(b > a) }' &&
			    KVR[$kv.$k]=$v
		done
	done
	printf '%-4s %14s %9s %9s %14s\n' kv "KV MiB @4096" pp2048 pp4096 "tg128 @2048"
	for kv in f16 q8; do
		awk -v kv=$kv -v m="${KVR[$kv.mem]}" -v a="${KVR[$kv.pp2048]}" \
		    -v b="${KVR[$kv.pp4096]}" -v c="${KVR[$kv.tg128d]}" 'BEGIN {
			printf "%-4s %14.1f %9.1f %9.1f %14.2f\n", kv, m / 1048576,
			    a, b, c }'
	done
	echo "target: with q8, KV memory halved, prefill and decode no slower"
fi

[ "${BENCH_BLAS:-1}" = 0 ] && exit 0
echo
echo "== engine: prefill per type, batched integer kernels vs OpenBLAS sgemm"
"$TOOLS/tool-prefill-blas" --threads "$TH" --batch 128 || exit 1
