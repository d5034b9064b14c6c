#!/bin/bash
# tests/doctor.sh - triage doctor: the machine's figures are present and
# sane, a given model is measured, the advice table is complete and
# ordered, and the exit status follows the verdicts.
set -u
TRIAGE=${TRIAGE:?set TRIAGE to the binary}
JSONGET=${JSONGET:-$(dirname "$TRIAGE")/tests/jsonget}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
mkdir -p "$HOME"
j() { "$JSONGET" "$1" <"$2"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

"$TRIAGE" doctor --json --threads 2 >"$tmp/d.json" 2>"$tmp/err"; rc=$?
[ $rc -le 1 ] && ok "doctor --json exits $rc" || { bad "doctor rc $rc: $(cat "$tmp/err")"; exit 1; }
[ -n "$(j machine.cpu "$tmp/d.json")" ] && ok "cpu: $(j machine.cpu "$tmp/d.json")" || bad "no cpu"
for f in avx2 avx512 vnni; do
	case $(j machine.$f "$tmp/d.json") in true|false) ok "$f is a boolean";; *) bad "$f";; esac
done
want_avx2=false; grep -qw avx2 /proc/cpuinfo && want_avx2=true
[ "$(j machine.avx2 "$tmp/d.json")" = $want_avx2 ] && ok "avx2 matches /proc/cpuinfo" || bad "avx2 wrong"
[ "$(j machine.cores "$tmp/d.json")" = "$(getconf _NPROCESSORS_ONLN)" ] && ok "cores match getconf" || bad "cores"
mem=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
[ "$(j machine.memory_bytes "$tmp/d.json")" = "$mem" ] && ok "memory matches /proc/meminfo" || bad "memory"
gt "$(j machine.disk_free_bytes "$tmp/d.json")" 0 && ok "free disk > 0" || bad "disk"
case $(j machine.kernels "$tmp/d.json") in
scalar|avx2|avx2-vnni|avx512|avx512-vnni) ok "kernels: $(j machine.kernels "$tmp/d.json")";;
*) bad "kernels: $(j machine.kernels "$tmp/d.json")";; esac
bw=$(j machine.read_gb_s "$tmp/d.json")
gt "$bw" 0.1 && ! gt "$bw" 2000 && ok "read bandwidth $bw GB/s" || bad "bandwidth $bw"
gt "$(j machine.q4_k_gflop_s "$tmp/d.json")" 0.1 && gt "$(j machine.q8_0_gflop_s "$tmp/d.json")" 0.1 &&
	ok "matmul rates measured" || bad "matmul rates"
[ "$(j advice.# "$tmp/d.json")" = 10 ] && ok "advice: 5 sizes x 2 quantizations" || bad "advice rows"
usable=0
for i in $(seq 0 9); do
	v=$(j advice.$i.verdict "$tmp/d.json")
	case $v in usable) usable=1;; slow|"won't fit") ;; *) bad "verdict $v";; esac
done
[ $rc -eq $((1 - usable)) ] && ok "exit status follows the verdicts" || bad "rc $rc, usable $usable"
gt "$(j advice.0.decode_tok_s "$tmp/d.json")" "$(j advice.9.decode_tok_s "$tmp/d.json")" &&
	gt "$(j advice.9.ttft_s "$tmp/d.json")" "$(j advice.0.ttft_s "$tmp/d.json")" &&
	gt "$(j advice.9.memory_bytes "$tmp/d.json")" "$(j advice.0.memory_bytes "$tmp/d.json")" &&
	ok "8B Q8_0 is slower and bigger than 0.6B Q4_K_M" || bad "advice not ordered"
[ "$(j models.# "$tmp/d.json")" = 0 ] && ok "no installed model, none listed" || bad "models listed"

"$TRIAGE" doctor --threads 2 >"$tmp/d.txt" 2>&1
grep -q '^bandwidth:' "$tmp/d.txt" && grep -q '^advice' "$tmp/d.txt" && grep -q '7-8B.*Q8_0' "$tmp/d.txt" &&
	ok "text report" || bad "text report"

if [ -f "$SHARED/models/stories260K.gguf" ]; then
	"$TRIAGE" doctor --json --threads 2 --model "$SHARED/models/stories260K.gguf" >"$tmp/m.json"
	[ "$(j models.0.from "$tmp/m.json")" = given ] && gt "$(j models.0.decode_tok_s "$tmp/m.json")" 0 &&
		gt "$(j models.0.prefill_tok_s "$tmp/m.json")" 0 && gt "$(j models.0.memory_bytes "$tmp/m.json")" 0 &&
		ok "given model measured: prefill $(j models.0.prefill_tok_s "$tmp/m.json") decode $(j models.0.decode_tok_s "$tmp/m.json") tok/s" ||
		bad "given model not measured"
else
	echo "stories260K.gguf not in $SHARED/models: the model part is not run"
fi
printf 'GGUF\003\0\0\0junk' >"$tmp/bad.gguf"
"$TRIAGE" doctor --json --threads 1 --model "$tmp/bad.gguf" >"$tmp/b.json" 2>&1; rc=$?
[ $rc -eq 2 ] && [ -n "$(j models.0.error "$tmp/b.json")" ] && ok "a bad model: exit 2 with its error" ||
	bad "bad model rc $rc"
"$TRIAGE" doctor --model "$tmp/missing.gguf" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'missing.gguf' "$tmp/err" && ok "missing model: exit 2 naming it" || bad "missing rc $rc"
"$TRIAGE" doctor --threads 0 2>/dev/null; [ $? -eq 2 ] && ok "bad --threads: exit 2" || bad "bad --threads"
[ $fail -eq 0 ] && echo "doctor: all checks passed"
exit $fail
