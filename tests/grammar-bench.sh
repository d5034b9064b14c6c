#!/bin/bash
# grammar-bench.sh - part of `make bench`: decode speed with and without
# constrained decoding (the model-card schema) on a synthetic model of the
# Qwen3-0.6B shape (Q8_0) with the real Qwen3 vocabulary (151,936 tokens),
# generated once into $B/engine-bench/.  Prints the CPU and the ratios.
set -u
: "${B:?}"
SHARED=${SHARED:-../shared}
TOOLS=$B/tests
CACHE=$B/engine-bench
TH=${BENCH_THREADS:-0}
mkdir -p "$CACHE"
f=$CACHE/qwen3-0.6b-q8_0-qwen3vocab.gguf
voc=$SHARED/golden/ggml-vocab-qwen3.gguf
if [ ! -f "$voc" ]; then
	echo "grammar bench: $voc missing, skipped"
	exit 0
fi
if [ ! -s "$f" ]; then
	echo "generating $f"
	"$TOOLS/tool-gguf-gen" --preset qwen3-0.6b --type Q8_0 --vocab-from "$voc" \
	    --threads 0 -o "$f.tmp" >/dev/null && mv "$f.tmp" "$f" || {
		echo "grammar bench: cannot generate $f"; exit 2; }
fi
echo "== engine: constrained decoding (model-card schema), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
args=(-n "${BENCH_TOKENS:-128}")
[ "$TH" != 0 ] && args+=(-t "$TH")
"$TOOLS/tool-grammar-bench" "${args[@]}" "$f"
