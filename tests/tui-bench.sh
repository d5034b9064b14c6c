#!/bin/bash
# tests/tui-bench.sh - the full-screen interface's speed and memory, for
# `make bench`:
#   1. first screen of a 1 GB log (target < 200 ms) and peak RSS with it
#      open and fully indexed (target <= 100 MB);
#   2. key-to-screen latency while following a log that grows by 10,000
#      lines/s and the model is generating (target p99 < 50 ms), measured
#      through tmux: send a key, poll capture-pane until the screen shows
#      its effect;
#   3. an 80 MB, 1 M-line syslog: triage's first screen and full index,
#      next to lnav's time to its first screen when lnav is installed.
# Numbers include tmux's own overhead (a capture-pane costs ~2 ms).
#
# Run from the repository root with TRIAGE, B and SHARED set (make bench).
# BENCH_BYTES overrides the 1 GB size; BENCH_KEYS the latency samples.
set -u
TRIAGE=${TRIAGE:-$PWD/build/rel/triage}
B=${B:-build/rel}
SHARED=${SHARED:-$PWD/../shared}
BYTES=${BENCH_BYTES:-1073741824}
KEYS=${BENCH_KEYS:-200}
T=$(mktemp -d /tmp/triage-tui-bench.XXXXXX)
TM=(tmux -L "triage-bench-$$" -f /dev/null)
WRITER=
cleanup() {
	[ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null
	"${TM[@]}" kill-server 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home XDG_DATA_HOME=$T/data XDG_CONFIG_HOME=$T/config
export LANG=C.UTF-8 LC_ALL=C.UTF-8
mkdir -p "$HOME"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
screen() { "${TM[@]}" capture-pane -p -t "$1"; }
# pid of the triage in session NAME
tpid() { pgrep -f -n -- "--session $T/sess-$1" ; }

start() {
	local name=$1; shift
	"${TM[@]}" new-session -d -s "$name" -x 120 -y 40 \
		"'$TRIAGE' --session '$T/sess-$name' $*; sleep 600"
}

# ms until the screen of NAME matches REGEX, from T0
time_until() {
	local name=$1 re=$2 t0=$3 limit=${4:-120000}
	while ! screen "$name" 2>/dev/null | grep -Eq -- "$re"; do
		[ $(( $(now_ms) - t0 )) -gt "$limit" ] && { echo -1; return; }
		sleep 0.002
	done
	echo $(( $(now_ms) - t0 ))
}

echo "== tui bench: first screen, memory =="
"$B/tests/loggen" "$BYTES" 7 >"$T/big.log"
lines=$(wc -l <"$T/big.log")
cat "$T/big.log" >/dev/null	# warm the page cache, as after a copy from USB
echo "log: $((BYTES / 1048576)) MB, $lines lines"
t0=$(now_ms)
start big "$T/big.log"
first=$(time_until big "^ [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]+ " "$t0")
echo "first screen of the $((BYTES / 1048576)) MB log: $first ms (target < 200)"
full=$(time_until big "/$lines \|" "$t0" 600000)
echo "fully indexed and matched: $full ms ($(( lines * 1000 / (full > 0 ? full : 1) )) lines/s)"
pid=$(tpid big)
rss=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
echo "peak RSS with it open: $((rss / 1024)) MB (target <= 100)"
# keys stay answered during indexing too: G then g on the big file
t0=$(now_ms); "${TM[@]}" send-keys -t big G
echo "G (to the end of the indexed file): $(time_until big "^ FOLLOW" "$t0") ms"
"${TM[@]}" kill-session -t big
rm -f "$T/big.log"

echo "== tui bench: key-to-screen latency, following 10,000 lines/s, model generating =="
MODEL=$T/bench.gguf
"$B/tests/tool-gguf-gen" --type Q8_0 --n-embd 1024 --n-ff 2816 --n-layer 10 \
	--n-head 16 --n-head-kv 4 --n-ctx 2048 \
	--vocab-from "$SHARED/models/stories260K.gguf" --seed 1 -o "$MODEL" 2>/dev/null
: >"$T/live.log"
# the writer: 1,000 lines every 100 ms
(
	i=0
	while :; do
		"$B/tests/loggen" 90000 $i 2>/dev/null | head -n 1000 >>"$T/live.log"
		i=$((i + 1))
		sleep 0.1
	done
) &
WRITER=$!
start live --model "$MODEL" -f "$T/live.log"
sleep 1
"${TM[@]}" send-keys -t live a "what is going on here" Enter
time_until live "answering, [0-9]+ tokens" "$(now_ms)" 30000 >/dev/null
: >"$T/lat"
on=0
for k in $(seq 1 "$KEYS"); do
	# '#' toggles line numbers: the third screen row changes shape
	t0=$(date +%s%N)
	"${TM[@]}" send-keys -t live '#'
	on=$((1 - on))
	if [ $on = 1 ]; then re='^ +[0-9]+ '; else re='^ [A-Z][a-z][a-z] '; fi
	while ! screen live | sed -n 3p | grep -Eq -- "$re"; do
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 2000 ] && break
	done
	echo $(( ($(date +%s%N) - t0) / 1000 )) >>"$T/lat"
	# re-ask when an answer ends, so the model keeps generating
	if [ $((k % 25)) = 0 ] && ! screen live | grep -q "answering"; then
		"${TM[@]}" send-keys -t live a "and now" Enter
	fi
done
gen=$(screen live | grep -o "answering, [0-9]* tokens, [0-9.]* tokens/s" | head -1)
grew=$(wc -l <"$T/live.log")
sort -n "$T/lat" | awk -v n="$KEYS" '{ v[NR] = $1 } END {
	printf "key-to-screen over %d keys: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 50)\n",
	    n, v[int(n * 0.5)] / 1000, v[int(n * 0.9)] / 1000, v[int(n * 0.99)] / 1000, v[n] / 1000 }'
echo "meanwhile: the log grew to $grew lines; model: ${gen:-finished between samples}"
pid=$(tpid live)
echo "peak RSS while following and generating (model included): $(( $(awk '/VmHWM/ {print $2}' /proc/"$pid"/status) / 1024 )) MB"
kill "$WRITER" 2>/dev/null; WRITER=
"${TM[@]}" kill-session -t live

echo "== tui bench: 1 M-line syslog, triage and lnav =="
"$B/tests/loggen" 125829120 3 | head -n 1000000 >"$T/syslog"
cat "$T/syslog" >/dev/null
n1m=$(wc -l <"$T/syslog")
echo "log: $(( $(stat -c %s "$T/syslog") / 1048576 )) MB, $n1m lines"
t0=$(now_ms)
start s1m "$T/syslog"
f=$(time_until s1m "^ [A-Z][a-z][a-z] " "$t0")
a=$(time_until s1m "/$n1m \|" "$t0" 600000)
echo "triage: first screen $f ms, whole file indexed and matched $a ms"
"${TM[@]}" kill-session -t s1m
if command -v lnav >/dev/null; then
	t0=$(now_ms)
	"${TM[@]}" new-session -d -s lnav -x 120 -y 40 "lnav '$T/syslog'; sleep 600"
	l=$(time_until lnav "^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]+ |[0-9]{4}-[0-9]{2}-[0-9]{2}T" "$t0" 600000)
	echo "lnav $(lnav -V 2>/dev/null | head -1 | awk '{print $2}'): first screen with log lines $l ms"
	"${TM[@]}" kill-session -t lnav
else
	echo "lnav: not installed (apt-get install lnav); no comparison"
fi
