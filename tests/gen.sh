#!/bin/bash
# tests/gen.sh - the synthetic model generator (tests/tool-gguf-gen) writes
# the same bytes for the same arguments, here and on every other machine.
#
# The sha256 sums below were recorded when the generator was written; a
# different sum means the weights, the quantizers (engine/quant.c), the
# metadata order or the writer changed.  If the change is intended, record
# the new sums (the failure message prints them) and say why in the commit.
#
# Run from the repository root with B (the build dir) and SHARED set, as
# `make check` does.  GEN_PRESETS=1 also writes the four real-shape presets
# (0.5-0.8 GB each) and reports their time.  Summary: "gen: N passed, N failed".
set -u
B=${B:-build/rel}
GEN=$PWD/$B/tests/tool-gguf-gen
SHARED=${SHARED:-$PWD/../shared}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && echo "      $2"; }

# Q4_K_M llama (2 layers, 256/512) with the stories260K vocabulary
SUM_LLAMA_Q4KM=97d2f0a46d3927a721809fff631a9108749db579457a2a07f762ad768ccaed28
ARGS_LLAMA_Q4KM=(--type Q4_K_M --vocab-from "$SHARED/models/stories260K.gguf" --seed 1)
# Q8_0 qwen3 (2 layers, qk-norm) with the synthetic 512-token vocabulary
SUM_QWEN3_Q8=4ed448fc7315d9a9a37d558c938614cfa4352a034326ccde3a31decc74cfae6c
ARGS_QWEN3_Q8=(--arch qwen3 --type Q8_0 --seed 1)
# the Gemma 3 1B and Qwen3.5 0.8B presets (sliding window, post-norms;
# DeltaNet tensors, F32 conv) shrunk to 6 layers of 256, 512 tokens
SMALL=(--type Q8_0 --n-embd 256 --n-ff 512 --n-layer 6 --n-vocab 512
    --n-ctx 256 --seed 1)
SUM_GEMMA3_Q8=1a369525c92a9cabce1cdbbf2dffc964d77316a8d51e0663948855770e9d594f
SUM_QWEN35_Q8=43f9b91ffe6a456b0b3255f0645b335d92aa0b131e99fe4031cbe4ed79fd5150

if [ ! -x "$GEN" ]; then
	echo "gen: $GEN not built"
	exit 1
fi

# same_bytes NAME WANT_SUM ARGS...: two runs, compared, then the sum.
same_bytes() {
	local name=$1 want=$2; shift 2
	if ! "$GEN" "$@" -o "$T/$name-1.gguf" 2>"$T/err" ||
	    ! "$GEN" "$@" -o "$T/$name-2.gguf" 2>>"$T/err"; then
		bad "$name: generator failed" "$(head -c 300 "$T/err")"
		return
	fi
	if cmp -s "$T/$name-1.gguf" "$T/$name-2.gguf"; then ok; else
		bad "$name: two runs with the same arguments differ"
	fi
	local got
	got=$(sha256sum "$T/$name-1.gguf" | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then ok; else
		bad "$name: sha256 changed" "got $got, recorded $want"
	fi
}

same_bytes llama-q4_k_m "$SUM_LLAMA_Q4KM" "${ARGS_LLAMA_Q4KM[@]}"
same_bytes qwen3-q8_0 "$SUM_QWEN3_Q8" "${ARGS_QWEN3_Q8[@]}"
same_bytes gemma3-q8_0 "$SUM_GEMMA3_Q8" --preset gemma-3-1b "${SMALL[@]}"
same_bytes qwen35-q8_0 "$SUM_QWEN35_Q8" --preset qwen3.5-0.8b "${SMALL[@]}"
# the thread count changes no byte (rows are seeded by their position)
"$GEN" --preset qwen3.5-0.8b "${SMALL[@]}" --threads 1 -o "$T/t1.gguf" \
    2>/dev/null
if cmp -s "$T/t1.gguf" "$T/qwen35-q8_0-1.gguf"; then ok; else
	bad "qwen35: one thread writes other bytes than all CPUs"; fi
# gemma3 and qwen35 need a preset's window / DeltaNet sizes
"$GEN" --arch qwen35 -o "$T/x.gguf" >/dev/null 2>"$T/err"
st=$?
if [ $st -eq 1 ] && grep -q "qwen35 needs" "$T/err" &&
    [ ! -e "$T/x.gguf" ]; then ok; else
	bad "bare --arch qwen35: exit $st, expected 1 and a message" \
	    "$(cat "$T/err")"; fi

# The seed matters and the output path does not.
"$GEN" "${ARGS_QWEN3_Q8[@]}" --seed 2 -o "$T/seed2.gguf" 2>/dev/null
if [ -f "$T/seed2.gguf" ] && ! cmp -s "$T/seed2.gguf" "$T/qwen3-q8_0-1.gguf"
then ok; else bad "another seed gives another file"; fi

# Errors: usage is exit 2, a bad model spec exit 1, and no file is left.
"$GEN" --no-such-option -o "$T/x.gguf" >/dev/null 2>&1
st=$?
if [ $st -eq 2 ] && [ ! -e "$T/x.gguf" ]; then ok; else
	bad "unknown option: exit $st, expected 2"; fi
"$GEN" --type Q3_K -o "$T/x.gguf" >/dev/null 2>"$T/err"
st=$?
if [ $st -eq 1 ] && grep -q "unknown type 'Q3_K'" "$T/err" &&
    [ ! -e "$T/x.gguf" ]; then ok; else
	bad "unknown type: exit $st, expected 1 and a message" "$(cat "$T/err")"; fi
"$GEN" --n-head 4 --n-head-kv 3 -o "$T/x.gguf" >/dev/null 2>&1
st=$?
if [ $st -eq 1 ] && [ ! -e "$T/x.gguf" ]; then ok; else
	bad "4 heads over 3 KV heads: exit $st, expected 1"; fi
"$GEN" --rope-freqs 32,1 -o "$T/x.gguf" >/dev/null 2>&1
st=$?
if [ $st -eq 2 ]; then ok; else bad "short --rope-freqs: exit $st, expected 2"; fi

if [ "${GEN_PRESETS:-0}" = 1 ]; then
	for p in "qwen3-0.6b --type Q8_0 --vocab-from $SHARED/golden/ggml-vocab-qwen3.gguf" \
	    "llama-3.2-1b --type Q4_K_M --vocab-from $SHARED/golden/ggml-vocab-llama3.gguf" \
	    "gemma-3-1b --type Q4_K_M" "qwen3.5-0.8b --type Q4_K_M"; do
		# shellcheck disable=SC2086
		if "$GEN" --preset $p -o "$T/preset.gguf"; then ok; else
			bad "preset $p"; fi
		rm -f "$T/preset.gguf"
	done
fi

echo "gen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
