#!/bin/bash
# tests/stats.sh - local metrics stay content-free and `triage stats` reads
# them: distinctive file names, log text, host and user names go through
# analyze, ask, bundle import and the full-screen app; none of them may
# appear in the metrics file, `stats`, `stats --json` or the export.
set -u
TRIAGE=${TRIAGE:?set TRIAGE to the binary}
JSONGET=${JSONGET:-$(dirname "$TRIAGE")/tests/jsonget}
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
printf 'not a bundle zqxlogtext9\n' >"$d/zqxbundle6-1.0.tbundle"
"$TRIAGE" bundle import "$d/zqxbundle6-1.0.tbundle" >/dev/null 2>&1 && bad "a junk bundle imported"
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

j() { "$JSONGET" "$1" <"$2"; }
[ "$(j totals.analyses "$tmp/stats.json")" = 2 ] && ok "two analyses counted" || bad "analyses: $(j totals.analyses "$tmp/stats.json")"
grep -q '"cards.ssh-brute-force.high": [1-9]' "$tmp/stats.json" &&
	ok "cards per playbook and severity" || bad "no ssh-brute-force card counted"
grep -q '"bundle.refused": 1' "$tmp/stats.json" && ok "bundle refusal counted" || bad "bundle refusal"
grep -q '"fallback.load-failed": 1' "$tmp/stats.json" && ok "fallback reason counted" || bad "fallback"
if command -v tmux >/dev/null; then
	grep -q '"sessions": 1' "$tmp/stats.json" && ok "app session counted" || bad "app session"
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
