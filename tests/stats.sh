#!/bin/bash
# tests/stats.sh - local metrics stay content-free and `triage stats` reads
# them: distinctive file names, log text, host and user names go through
# analyze, ask, bundle import and the full-screen app; none of them may
# appear in the metrics file, `stats`, `stats --json` or the export.
set -u
TRIAGE=${TRIAGE:?set TRIAGE to the binary}
JSONGET=${JSONGET:-$(dirname "$TRIAGE")/tests/jsonget}
GEN=${GEN:-$(dirname "$TRIAGE")/tests/tool-gguf-gen}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"; [ -n "${TM:-}" ] && "${TM[@]}" kill-server 2>/dev/null' EXIT
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME/triage"
M=$XDG_STATE_HOME/triage/metrics
SECRETS="zqxfile7 zqxlogtext9 zqxhost3 zqxuser5 zqxquestion8 zqxmodel4 zqxbundle6"

d=$tmp/zqxfile7-dir; mkdir -p "$d"
log=$d/zqxfile7.log
for i in $(seq 1 5); do
	echo "Mar 14 08:20:0$i zqxhost3 kernel: EXT4-fs error (device sda1): zqxlogtext9 user zqxuser5"
	echo "Mar 14 08:20:0$i zqxhost3 sshd[42]: Failed password for zqxuser5 from 10.9.8.7 port 22 ssh2"
	echo "Mar 14 08:20:0$i zqxhost3 upsmon[700]: UPS zqxlogtext9@localhost on battery"
done >"$log"
cp "$log" "$tmp/zqxhost3.log"

"$TRIAGE" analyze --color=never "$log" "$tmp/zqxhost3.log" >/dev/null 2>&1
rc=$?; [ $rc -eq 0 ] && ok "analyze found cards" || bad "analyze rc $rc"
"$TRIAGE" analyze --json "$log" >/dev/null 2>&1
"$TRIAGE" ask --model "$d/zqxmodel4.gguf" --log "$log" "zqxquestion8 on zqxhost3?" >/dev/null 2>&1
# --continue reads the kept conversation back: its fallback is not counted again
"$TRIAGE" ask --continue --model "$d/zqxmodel4.gguf" "zqxquestion8 again?" >/dev/null 2>&1
printf 'not a bundle zqxlogtext9\n' >"$d/zqxbundle6-1.0.tbundle"
"$TRIAGE" bundle import "$d/zqxbundle6-1.0.tbundle" >/dev/null 2>&1 && bad "a junk bundle imported"
"$TRIAGE" stats --json >"$tmp/pre-app.json"
if command -v tmux >/dev/null; then
	TM=(tmux -L "triage-stats-$$" -f /dev/null)
	"${TM[@]}" new-session -d -x 120 -y 40 -e HOME="$HOME" -e XDG_STATE_HOME="$XDG_STATE_HOME" \
		-e XDG_DATA_HOME="$XDG_DATA_HOME" -e XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
		"$TRIAGE $log; sleep 30"
	for _ in $(seq 1 50); do
		"${TM[@]}" capture-pane -p | grep -q zqxhost3 && break; sleep 0.1
	done
	"${TM[@]}" send-keys q; sleep 0.5
	"${TM[@]}" kill-server 2>/dev/null; TM=
else
	echo "tmux not installed: the app is not driven"
fi
"$TRIAGE" stats --json >"$tmp/post-app.json"

# Answers from a real model, `triage ask` and the app alike: outcome,
# time to first token and tokens/s buckets, questions, the model's kind.
# The model file gets a distinctive name, which must not be recorded.
j() { "$JSONGET" "$1" <"$2"; }
# sum of the totals under KEY (KEY itself and KEY.*).
sum() { "$JSONGET" totals <"$1" | grep -Eo "\"$2(\.[a-z0-9._+-]*)?\":[0-9]+" | awk -F: '{ s += $2 } END { print s + 0 }'; }
apps=1
appask() {	# NAME MODEL KEYS...: ask in the app, wait for WAIT, quit
	local name=$1 model=$2 wait=$3; shift 3
	TM=(tmux -L "triage-stats-$name-$$" -f /dev/null)
	"${TM[@]}" new-session -d -x 120 -y 40 -e HOME="$HOME" -e XDG_STATE_HOME="$XDG_STATE_HOME" \
		-e XDG_DATA_HOME="$XDG_DATA_HOME" -e XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
		"$TRIAGE --model $model $log; sleep 30"
	for _ in $(seq 1 50); do "${TM[@]}" capture-pane -p | grep -q zqxhost3 && break; sleep 0.1; done
	"${TM[@]}" send-keys a "zqxquestion8 in the app on zqxhost3?" Enter
	"$@"
	for _ in $(seq 1 200); do "${TM[@]}" capture-pane -p | grep -Eq "$wait" && break; sleep 0.05; done
	"${TM[@]}" capture-pane -p | grep -Eq "$wait" || bad "$name: no '$wait' on screen"
	"${TM[@]}" send-keys Escape q; sleep 0.5
	"${TM[@]}" kill-server 2>/dev/null; TM=
	apps=$((apps + 1))
}
MODEL=$SHARED/models/stories260K.gguf
if [ -f "$MODEL" ] && command -v tmux >/dev/null; then
	mkdir -p "$tmp/zqxhost3-m"; cp "$MODEL" "$tmp/zqxhost3-m/zqxmodel4-real.gguf"
	real=$tmp/zqxhost3-m/zqxmodel4-real.gguf
	"$TRIAGE" stats --json >"$tmp/s0.json"
	"$TRIAGE" ask --model "$real" --log "$log" "zqxquestion8 on zqxhost3?" >/dev/null 2>&1 ||
		bad "ask with the tiny model failed"
	"$TRIAGE" stats --json >"$tmp/s1.json"
	appask app "$real" 'tokens in [0-9]+ ms'
	"$TRIAGE" stats --json >"$tmp/s2.json"
	for step in "ask:s0:s1" "app:s1:s2"; do
		IFS=: read -r what a b <<<"$step"
		dq=$(( $(j totals.questions "$tmp/$b.json") - $(j totals.questions "$tmp/$a.json" || echo 0) ))
		da=$(( $(sum "$tmp/$b.json" answers) - $(sum "$tmp/$a.json" answers) ))
		# the tiny model may end its turn, reach the token limit or fill the context
		dok=0
		for o in ok token-limit context-full; do
			dok=$(( dok + $(sum "$tmp/$b.json" answers.$o) - $(sum "$tmp/$a.json" answers.$o) ))
		done
		dt=$(( $(sum "$tmp/$b.json" ttft) - $(sum "$tmp/$a.json" ttft) ))
		dr=$(( $(sum "$tmp/$b.json" tokps) - $(sum "$tmp/$a.json" tokps) ))
		dm=$(( $(sum "$tmp/$b.json" model.llama) - $(sum "$tmp/$a.json" model.llama) ))
		[ "$dq $da $dok $dt $dr $dm" = "1 1 1 1 1 1" ] &&
			ok "$what: question, answer by outcome, time-to-first-token and tokens/s buckets, model kind counted once" ||
			bad "$what: questions +$dq answers +$da (finished +$dok) ttft +$dt tokps +$dr model +$dm"
	done
	"$JSONGET" totals <"$tmp/s2.json" | grep -Eq '"ttft\.(lt|ge)[0-9.]+s":' &&
		"$JSONGET" totals <"$tmp/s2.json" | grep -Eq '"tokps\.(lt|ge)[0-9]+":' &&
		ok "speeds are buckets" || bad "no bucket keys: $("$JSONGET" totals <"$tmp/s2.json")"
	# a slower model, stopped with Ctrl-C in the app: outcome "stopped"
	if [ -x "$GEN" ] && "$GEN" --type Q8_0 --n-embd 768 --n-ff 2048 --n-layer 6 --n-head 12 \
		--n-head-kv 4 --n-ctx 2048 --name zqxmodel4-name --vocab-from "$MODEL" --seed 1 \
		-o "$tmp/zqxhost3-m/zqxmodel4-slow.gguf" 2>/dev/null; then
		appask slow "$tmp/zqxhost3-m/zqxmodel4-slow.gguf" 'answer stopped' sh -c \
			'for _ in $(seq 1 100); do tmux -L "triage-stats-slow-'$$'" capture-pane -p | grep -q "answering, [0-9]* tokens" && break; sleep 0.05; done; tmux -L "triage-stats-slow-'$$'" send-keys C-c'
		"$TRIAGE" stats --json >"$tmp/s3.json"
		[ $(( $(sum "$tmp/s3.json" answers.stopped) - $(sum "$tmp/s2.json" answers.stopped) )) = 1 ] &&
			[ $(( $(sum "$tmp/s3.json" model.llama) - $(sum "$tmp/s2.json" model.llama) )) = 1 ] &&
			"$JSONGET" totals <"$tmp/s3.json" | grep -Eq '"model\.llama\.3[89]m-q8_0":1' &&
			ok "an answer stopped in the app: answers.stopped; model.llama.<size>-q8_0" ||
			bad "stopped not counted: $("$JSONGET" totals <"$tmp/s3.json")"
	else
		echo "tool-gguf-gen missing: the stopped answer is not driven"
	fi
else
	echo "no $MODEL or no tmux: answers from a model are not checked"
fi

[ -s "$M" ] && ok "metrics file written" || bad "no metrics file at $M"
"$TRIAGE" stats >"$tmp/stats.txt" 2>&1 || bad "stats failed"
"$TRIAGE" stats --json >"$tmp/stats.json" 2>&1 || bad "stats --json failed"
"$TRIAGE" stats --export "$tmp/export.json" >"$tmp/export.out" 2>&1 || bad "stats --export failed"
[ -s "$tmp/export.json" ] && [ ! -s "$tmp/export.out" ] && ok "export written, nothing printed" ||
	bad "export"
for s in $SECRETS; do
	for f in "$M" "$tmp/stats.json" "$tmp/export.json"; do
		grep -q "$s" "$f" && bad "$s leaked into ${f##*/}"
	done
	# the text output names the metrics file, which is under $tmp (no secret)
	grep -q "$s" "$tmp/stats.txt" && bad "$s leaked into stats output"
done
ok "none of the distinctive strings is in the metrics, stats, --json or export"
# Every line of the file is DAY, key of fixed characters, count.
grep -Evq '^[0-9]{4}-[0-9]{2}-[0-9]{2}	[a-z0-9._+-]+	[0-9]+$' "$M" &&
	bad "a metrics line outside DAY<TAB>key<TAB>count" || ok "every line is DAY key count"

[ "$(j totals.analyses "$tmp/stats.json")" = 2 ] && ok "two analyses counted" || bad "analyses: $(j totals.analyses "$tmp/stats.json")"
grep -q '"cards.auth.high": [1-9]' "$tmp/stats.json" && grep -q '"cards.filesystem.critical": [1-9]' "$tmp/stats.json" &&
	ok "cards per class and severity" || bad "no auth/high or filesystem/critical card counted"
grep -q '"cards.ssh-brute-force' "$tmp/stats.json" && bad "cards are keyed by playbook id, not class"
[ "$(sum "$tmp/stats.json" bundle.refused)" = 1 ] && ok "bundle refusal counted with its kind of reason" || bad "bundle refusal"
grep -q '"fallback.load-failed": 2' "$tmp/stats.json" && ok "fallback reason counted, not again on --continue" ||
	bad "fallback: $(grep fallback "$tmp/stats.json")"
if command -v tmux >/dev/null; then
	[ "$(j totals.sessions "$tmp/stats.json")" = $apps ] && ok "app sessions counted ($apps)" ||
		bad "app sessions: $(j totals.sessions "$tmp/stats.json") for $apps"
	[ $(( $(sum "$tmp/post-app.json" cards.auth.high) - $(sum "$tmp/pre-app.json" cards.auth.high) )) = 1 ] &&
		[ $(( $(sum "$tmp/post-app.json" cards.filesystem) - $(sum "$tmp/pre-app.json" cards.filesystem) )) = 1 ] &&
		ok "the app's cards counted per class and severity" ||
		bad "app cards: $("$JSONGET" totals <"$tmp/post-app.json")"
fi
cmp -s "$tmp/stats.json" <(sed '$a\' "$tmp/export.json") && ok "export equals --json" || bad "export differs from --json"
grep -q 'analyses *2' "$tmp/stats.txt" && ok "stats text shows totals" || bad "stats text"

# --since: a future day selects nothing; a bad one is an error.
"$TRIAGE" stats --json --since 2999-01-01 >"$tmp/future.json"
grep -q '"analyses"' "$tmp/future.json" && bad "--since future still counts" || ok "--since future day: nothing"
"$TRIAGE" stats --json --since 7d | grep -q '"analyses": 2' && ok "--since 7d counts today" || bad "--since 7d"
"$TRIAGE" stats --since yesterday-ish >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--since' "$tmp/err" && ok "bad --since: exit 2" || bad "bad --since rc $rc"

# Malformed lines are skipped and counted, never shown.
printf 'garbage zqxlogtext9\n2026-01-01\tBAD KEY\t1\n' >>"$M"
"$TRIAGE" stats --json >"$tmp/s2.json"
grep -q '"bad_lines": 2' "$tmp/s2.json" && ! grep -q zqxlogtext9 "$tmp/s2.json" &&
	ok "malformed lines skipped and counted" || bad "malformed lines"

# metrics = off: nothing more is written.
echo "metrics = off" >"$XDG_CONFIG_HOME/triage/config"
before=$(wc -c <"$M")
"$TRIAGE" analyze "$log" >/dev/null 2>"$tmp/err"
[ "$(wc -c <"$M")" = "$before" ] && ok "metrics = off: nothing written" || bad "written while off"
[ ! -s "$tmp/err" ] && ok "metrics = off is a valid setting" || bad "config complains: $(cat "$tmp/err")"
"$TRIAGE" stats | grep -q 'off in the config' && ok "stats says collection is off" || bad "stats off"
rm "$XDG_CONFIG_HOME/triage/config"

# Bounded: past 256 KiB the file is compacted to the newest days.
for i in $(seq 1 9000); do printf '2020-01-%02d\tanalyses\t1\n' $((i % 28 + 1)); done >"$M"
for i in $(seq 1 9000); do printf '2021-%02d-01\tcards.k%d.high\t1\n' $((i % 12 + 1)) "$i"; done >>"$M"
big=$(wc -c <"$M")
"$TRIAGE" analyze "$log" >/dev/null 2>&1
size=$(wc -c <"$M")
[ "$big" -gt 262144 ] && [ "$size" -le 262144 ] && ok "compacted: $big -> $size bytes" ||
	bad "not bounded: $big -> $size"
tail -n 20 "$M" | grep -q "$(date -u +%F)	analyses	1" && ok "today's line kept after compaction" || bad "today lost"

[ $fail -eq 0 ] && echo "stats: all checks passed"
exit $fail
