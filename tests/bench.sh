#!/bin/bash
# tests/bench.sh - `make bench`: measured numbers, not a timed test.
#   1. triage analyze vs grep -c -E -f (same patterns, same 1 GB file)
#   2. template agreement with LogHub's ground truth
# Run with TRIAGE and B set by the Makefile.  BENCH_BYTES overrides the size.
set -eu
TRIAGE=${TRIAGE:-$PWD/triage}
B=${B:-build/rel}
BYTES=${BENCH_BYTES:-1000000000}
DIR=$B/bench
LOG=$DIR/syslog-$BYTES.log
LOGHUB=${SHARED:-$PWD/../shared}/samples/loghub
mkdir -p "$DIR"

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
echo "triage $("$TRIAGE" --version | cut -d' ' -f2), $(grep --version | head -1)"

if [ ! -s "$LOG" ]; then
	echo "== generating $BYTES bytes of syslog ($LOG)"
	"$B/tests/loggen" "$BYTES" >"$LOG"
fi
lines=$(wc -l <"$LOG")
echo "== input: $(stat -c %s "$LOG") bytes, $lines lines, $(grep -c -iE 'error|fail|warn|denied|killed' "$LOG") warning/error lines"

"$TRIAGE" playbook list --patterns --playbooks share/playbooks >"$DIR/patterns.tsv"
# Every pattern must reach grep: the converter fails rather than drop one.
if ! perl tests/pcre2ere.pl <"$DIR/patterns.tsv" >"$DIR/patterns.ere" 2>"$DIR/pcre2ere.err"; then
	cat "$DIR/pcre2ere.err" >&2
	exit 1
fi
LC_ALL=C grep -c -E -f "$DIR/patterns.ere" /dev/null >/dev/null || [ $? = 1 ] || { echo "bench: grep rejects $DIR/patterns.ere" >&2; exit 1; }
echo "== $(ls share/playbooks/*.json | wc -l) playbooks, $(wc -l <"$DIR/patterns.tsv") patterns, $(wc -l <"$DIR/patterns.ere") given to grep -E"
sed 's/^/   /' "$DIR/pcre2ere.err"

# Warm the page cache so both read from memory.
cat "$LOG" >/dev/null

measure() {	# cmd... -> "wall_s user_s rss_kb exit"
	local TIMEFORMAT='%U'
	# Not /dev/null: GNU grep stops at the first match when it sees that.
	{ time "$B/tests/runstat" "$@" 2>"$DIR/runstat" >"$DIR/out"; } 2>"$DIR/user"
	read -r w rss st < <(tail -1 "$DIR/runstat")
	echo "$w $(cat "$DIR/user") $rss $st"
}
size=$(stat -c %s "$LOG")
# GNU grep can take hours on the whole library (its DFA thrashes on many
# bounded repeats); past the limit it is stopped and the ratio printed is a
# lower bound.  BENCH_GREP_LIMIT overrides (seconds).
read -r t tu rss st < <(measure "$TRIAGE" analyze --playbooks share/playbooks "$LOG")
limit=${BENCH_GREP_LIMIT:-$(awk -v t="$t" 'BEGIN{l=int(t*20); print (l<60)?60:l}')}
printf 'triage analyze: %.3f s wall, %.2f s user, peak RSS %.1f MB, exit %d\n' "$t" "$tu" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$st"
for loc in C C.UTF-8; do
	read -r g gu grss gst < <(measure timeout "$limit" env LC_ALL=$loc grep -c -E -f "$DIR/patterns.ere" "$LOG")
	if [ "$gst" = 124 ]; then
		printf 'grep -c -E -f (LC_ALL=%s): stopped after %.0f s wall (%.2f s user) -> ratio triage/grep > %.1f\n' \
			"$loc" "$g" "$gu" "$(awk -v g="$g" -v t="$t" 'BEGIN{print g/t}')"
	else
		printf 'grep -c -E -f (LC_ALL=%s): %.3f s wall, %.2f s user, exit %d -> ratio triage/grep %.2f wall, %.2f user\n' \
			"$loc" "$g" "$gu" "$gst" "$(awk -v g="$g" -v t="$t" 'BEGIN{print g/t}')" "$(awk -v g="$gu" -v t="$tu" 'BEGIN{print (t>0)?g/t:0}')"
	fi
done
awk -v s="$size" -v t="$t" 'BEGIN{ printf "triage analyze %.1f MB/s\n", s/t/1e6 }'

if [ -d "$LOGHUB" ]; then
	echo "== template agreement with LogHub (grouping accuracy, all lines)"
	args=()
	for f in "$LOGHUB"/*_2k.log; do args+=("$f" "${f}_structured.csv"); done
	"$B/tests/tmpl-eval" "${args[@]}"
fi
