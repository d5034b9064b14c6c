#!/bin/bash
# tests/bench.sh - `make bench`: measured numbers, not a timed test.
#   1. triage analyze vs grep -c -E -f (same patterns, same 1 GB file)
#   2. template agreement with LogHub's ground truth
# Run with TRIAGE and B set by the Makefile.  BENCH_BYTES overrides the size.
set -eu
TRIAGE=${TRIAGE:-$PWD/triage}
B=${B:-build/rel}
BYTES=${BENCH_BYTES:-1000000000}
ROUNDS=${BENCH_ROUNDS:-3}
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

measure() {	# label cmd... -> "seconds rss_kb"
	# Not /dev/null: GNU grep stops at the first match when it sees that.
	"$B/tests/runstat" "$@" 2>&1 >"$DIR/out" | tail -1
}
size=$(stat -c %s "$LOG")
best_t=999999 best_g=999999 best_gu=999999 rss_t=0
for r in $(seq "$ROUNDS"); do
	read -r t rss st < <(measure "$TRIAGE" analyze --playbooks share/playbooks "$LOG")
	read -r g grss gst < <(measure env LC_ALL=C grep -c -E -f "$DIR/patterns.ere" "$LOG")
	read -r gu gurss gust < <(measure env LC_ALL=C.UTF-8 grep -c -E -f "$DIR/patterns.ere" "$LOG")
	printf 'round %d: triage %.3f s (rss %d kB, exit %d)  grep(C) %.3f s  grep(UTF-8) %.3f s\n' \
		"$r" "$t" "$rss" "$st" "$g" "$gu"
	best_t=$(awk -v a="$best_t" -v b="$t" 'BEGIN{print (b<a)?b:a}')
	best_g=$(awk -v a="$best_g" -v b="$g" 'BEGIN{print (b<a)?b:a}')
	best_gu=$(awk -v a="$best_gu" -v b="$gu" 'BEGIN{print (b<a)?b:a}')
	[ "$rss" -gt "$rss_t" ] && rss_t=$rss
done
awk -v s="$size" -v t="$best_t" -v g="$best_g" -v gu="$best_gu" -v rss="$rss_t" 'BEGIN{
	printf "== throughput (best of rounds)\n";
	printf "triage analyze      %8.1f MB/s  (%.3f s)\n", s/t/1e6, t;
	printf "grep -c -E -f (C)   %8.1f MB/s  (%.3f s)\n", s/g/1e6, g;
	printf "grep -c -E -f (UTF8)%8.1f MB/s  (%.3f s)\n", s/gu/1e6, gu;
	printf "ratio triage/grep(C) %.2f, triage/grep(UTF-8) %.2f\n", g/t, gu/t;
	printf "triage peak RSS %.1f MB\n", rss/1024;
}'

if [ -d "$LOGHUB" ]; then
	echo "== template agreement with LogHub (grouping accuracy, all lines)"
	args=()
	for f in "$LOGHUB"/*_2k.log; do args+=("$f" "${f}_structured.csv"); done
	"$B/tests/tmpl-eval" "${args[@]}"
fi
