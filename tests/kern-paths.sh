#!/bin/bash
# tests/kern-paths.sh - the engine tests once more with each kernel variant
# this CPU has forced by TRIAGE_KERN (scalar, avx2, avx2-vnni, avx512,
# avx512-vnni), so a bug in a path the CPU would not pick by itself still
# shows.  The default variant already ran in `make unit`; test-kern checks
# every variant's kernels against the reference on its own.
#
# Run from the repository root with B (the build dir) set, as `make check`
# does.  Summary: "kernel paths: N passed, N failed (variants ...)".
set -u
B=${B:-build/rel}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd tests || exit 2
best=$(../$B/tests/test-kern --print-variant)
pass=0 fail=0 ran=""
for v in scalar avx2 avx2-vnni avx512 avx512-vnni; do
	got=$(TRIAGE_KERN=$v ../$B/tests/test-kern --print-variant)
	# an unavailable name is ignored by the engine: nothing to force
	[ "$got" = "$v" ] || continue
	[ "$v" = "$best" ] && continue
	ran="$ran $v"
	for t in test-forward test-engine test-kv; do
		if TRIAGE_KERN=$v ../$B/tests/$t >"$T/out" 2>&1; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL: TRIAGE_KERN=$v $t"
			grep -E "FAILED|ERROR|LINE|max \|d\|" "$T/out" | tail -8
		fi
	done
done
echo "kernel paths: $pass passed, $fail failed (forced:${ran:- none}; default $best)"
[ "$fail" -eq 0 ]
