#!/bin/bash
# tests/assist-bench.sh - the assistant part of `make bench` (issue 12):
# time to first token with a ~2,000-token grounded brief on the
# Llama-3.2-1B shape (the synthetic Q4_K_M model engine-bench.sh
# generates into $B/engine-bench/): the first question, a follow-up that
# reuses the KV cache, and a first question after the background prefill
# of the brief.  Targets: follow-up and warmed <= 10 % of the first.
# BENCH_THREADS, BENCH_REPS (default 3) as for the engine bench.
set -u
B=${B:-build/rel}
TOOLS=$PWD/$B/tests
SHARED=${SHARED:-$PWD/../shared}
CACHE=$PWD/$B/engine-bench
TH=${BENCH_THREADS:-$(getconf _NPROCESSORS_ONLN)}
REPS=${BENCH_REPS:-3}
M=$CACHE/llama-3.2-1b-q4_k_m.gguf
LOG=$SHARED/samples/loghub/OpenSSH_2k.log
mkdir -p "$CACHE" || exit 2
if [ ! -s "$M" ]; then
	echo "generating $M"
	"$TOOLS/tool-gguf-gen" --preset llama-3.2-1b --type Q4_K_M --threads 0 \
	    -o "$M.tmp" >/dev/null && mv "$M.tmp" "$M" || exit 2
fi
[ -r "$LOG" ] || { echo "assist bench: $LOG missing, skipped"; exit 0; }
echo "== assistant: time to first token, ~2000-token brief, Llama-3.2-1B shape Q4_K_M, $TH threads, $REPS runs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-))"
out=$("$TOOLS/tool-assist-bench" "$M" "$LOG" 2000 "$TH" "$REPS") || exit 1
echo "$out" | head -1
echo "$out" | awk '
	$1 == "first" || $1 == "followup" || $1 == "warmed" {
		s[$1] += $2; n[$1]++; p[$1] = $3; r[$1] = $4 }
	END {
		f = s["first"] / n["first"]
		printf "%-9s %9s %8s %7s %9s\n", "question", "ttft_ms", "prompt", "reused", "of_first"
		split("first followup warmed", k, " ")
		for (i = 1; i <= 3; i++) {
			m = s[k[i]] / n[k[i]]
			printf "%-9s %9.1f %8d %7d %8.1f%%\n", k[i], m, p[k[i]], r[k[i]], 100 * m / f
		}
	}'
