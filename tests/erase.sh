#!/bin/bash
# tests/erase.sh - triage sessions list|show|erase: erase removes every
# file it names and nothing else (not the user's logs, not another
# session, not another session's history lines); erase --all empties the
# sessions and the history.
set -u
TRIAGE=${TRIAGE:?set TRIAGE to the binary}
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
mkdir -p "$HOME"
root=$XDG_DATA_HOME/triage/sessions
A=20261206-010203-syslog B=20261205-090000-pasted
mkdir -p "$root/$A" "$root/$B" "$tmp/logs"
echo "Mar 14 08:20:01 host kernel: the user's log" >"$tmp/logs/syslog"
cat >"$root/$A/session.json" <<JSON
{"format": 1, "saved": "2026-12-06T01:05:00Z",
 "sources": [{"path": "$tmp/logs/syslog", "follow": false}],
 "ticks": [], "notes": ["replaced the sda cable"],
 "answers": [{"question": "why does sda fail", "context": "", "answer": "cable", "stats": ""}],
 "view": {"row": 0, "wrap": false, "search": "EXT4-fs", "filters": [{"pattern": "sshd", "out": true}]}}
JSON
echo "pasted text" >"$root/$A/pasted.log"; : >"$root/$A/stderr.log"
echo "# report" >"$root/$A/report.md"
cat >"$root/$B/session.json" <<JSON
{"format": 1, "saved": "2026-12-05T09:00:00Z", "sources": [], "ticks": [],
 "notes": ["other note"], "answers": [{"question": "other question", "context": "", "answer": "", "stats": ""}],
 "view": {"row": 0, "wrap": false, "filters": []}}
JSON
echo "other paste" >"$root/$B/pasted.log"
touch -d '2026-12-06 01:05' "$root/$A/session.json"; touch -d '2026-12-05 09:00' "$root/$B/session.json"
# the app keeps a command without its ':' ("note ..."); older lines have it
printf '%s\n' "why does sda fail" ":note replaced the sda cable" "/EXT4-fs" "other question" \
	":note other note" ":help" "sshd" "note replaced the sda cable" "filter-out sshd" \
	"note other note" "help" >"$XDG_DATA_HOME/triage/history"

"$TRIAGE" sessions list >"$tmp/list" 2>&1 && grep -q "$A" "$tmp/list" && grep -q "$B" "$tmp/list" &&
	ok "list shows both sessions" || { bad "list"; cat "$tmp/list"; }
"$TRIAGE" sessions show "$A" >"$tmp/show" 2>&1 && grep -q "$tmp/logs/syslog" "$tmp/show" &&
	grep -q 'notes: 1, answers: 1' "$tmp/show" && grep -q 'created: 2026-12-06 01:02' "$tmp/show" &&
	ok "show: creation time, sources, counts" || { bad "show"; cat "$tmp/show"; }
"$TRIAGE" sessions show ../../etc 2>"$tmp/err"; [ $? -eq 2 ] && ok "show refuses a path" || bad "show ../../etc"

before=$(cd "$tmp" && find . -type f | sort)
"$TRIAGE" sessions erase "$A" >"$tmp/erase" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "erase exits 0" || { bad "erase rc $rc"; cat "$tmp/erase"; }
named=$(sed -n 's/^removed \(\/.*[^/]\)$/\1/p' "$tmp/erase")
[ "$(echo "$named" | wc -l)" = 4 ] && ok "erase names 4 files" || bad "named: $named"
for f in $named; do [ -e "$f" ] && bad "named but still there: $f"; done
[ ! -e "$root/$A" ] && ok "the session directory is gone" || bad "directory left"
after=$(cd "$tmp" && find . -type f | sort)
gone=$(comm -23 <(echo "$before") <(echo "$after") | sed 's|^\.|'"$tmp"'|')
[ "$gone" = "$(echo "$named" | sort)" ] && ok "exactly the named files are gone" ||
	bad "gone differs from named: $gone"
[ -f "$tmp/logs/syslog" ] && ok "the user's log is untouched" || bad "user's log removed"
[ -f "$root/$B/session.json" ] && [ -f "$root/$B/pasted.log" ] && ok "the other session is untouched" || bad "other session"
grep -q 'removed 6 lines' "$tmp/erase" && ok "6 history lines of the session removed" || bad "history count: $(cat "$tmp/erase")"
h=$XDG_DATA_HOME/triage/history
grep -qE 'sda|EXT4|sshd' "$h" && bad "the session's history lines stay: $(cat "$h")" ||
	ok "the session's questions, notes, search and filter left the history"
grep -qx 'other question' "$h" && grep -qx ':note other note' "$h" && grep -qx ':help' "$h" &&
	grep -qx 'note other note' "$h" && grep -qx 'help' "$h" &&
	ok "other history lines kept" || bad "other history lines lost"
"$TRIAGE" sessions erase "$A" 2>"$tmp/err"; [ $? -eq 2 ] && ok "erasing it again: exit 2" || bad "erase twice"

# `triage ask` keeps its last conversation (brief, questions, answers) for
# --continue: it goes by the same retention, and with erase --all.
c=$XDG_DATA_HOME/triage/ask/last.json
mkdir -p "${c%/*}"; echo '{"format": 1, "turns": []}' >"$c"; touch -d '40 days ago' "$c"
"$TRIAGE" ask --continue "zqx old question" >/dev/null 2>"$tmp/err"
[ ! -e "$c" ] && grep -q 'no earlier conversation' "$tmp/err" &&
	ok "ask's conversation past retention is removed" || bad "old ask conversation: $(cat "$tmp/err")"
"$TRIAGE" ask --model "$tmp/none.gguf" "zqx kept question" >/dev/null 2>&1
[ -f "$c" ] && ok "a recent ask conversation is kept" || bad "ask conversation not kept"
mkdir -p "$XDG_CONFIG_HOME/triage"; echo "retention = 0" >"$XDG_CONFIG_HOME/triage/config"
"$TRIAGE" ask --model "$tmp/none.gguf" "zqx zero question" >/dev/null 2>&1
[ ! -e "$c" ] && ok "retention = 0: ask keeps no conversation" || bad "retention = 0 kept $c"
rm "$XDG_CONFIG_HOME/triage/config"
"$TRIAGE" ask --model "$tmp/none.gguf" "zqx kept question" >/dev/null 2>&1
"$TRIAGE" sessions erase --all >"$tmp/all" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -e "$root/$B" ] && [ ! -e "$h" ] && [ ! -e "$c" ] && grep -qx "removed $c" "$tmp/all" &&
	ok "erase --all: sessions, history and ask's conversation gone" ||
	{ bad "erase --all rc $rc"; cat "$tmp/all"; }
[ -f "$tmp/logs/syslog" ] && ok "the user's log survives --all" || bad "log removed by --all"
"$TRIAGE" sessions bogus 2>/dev/null; [ $? -eq 2 ] && ok "bad subcommand: exit 2" || bad "bad subcommand"
# :sessions erase ID in the full-screen app (tmux, as tests/screen.sh).
if command -v tmux >/dev/null; then
	C=20261201-080000-other
	mkdir -p "$root/$C"
	printf '{"format": 1, "saved": "2026-12-01T08:00:00Z", "sources": [], "notes": ["zqx app note"], "answers": [], "ticks": [], "view": {"row": 0, "filters": []}}\n' >"$root/$C/session.json"
	echo ":note zqx app note" >"$h"
	TM=(tmux -L "triage-erase-$$" -f /dev/null)
	"${TM[@]}" new-session -d -x 120 -y 40 -e HOME="$HOME" -e XDG_STATE_HOME="$XDG_STATE_HOME" \
		-e XDG_DATA_HOME="$XDG_DATA_HOME" -e XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
		"$TRIAGE $tmp/logs/syslog; sleep 30"
	for _ in $(seq 1 50); do "${TM[@]}" capture-pane -p | grep -q "user's log" && break; sleep 0.1; done
	"${TM[@]}" send-keys ":sessions erase $C" Enter
	for _ in $(seq 1 50); do "${TM[@]}" capture-pane -p | grep -q "erased" && break; sleep 0.1; done
	"${TM[@]}" capture-pane -p | grep -q "$C erased (1 files" && ok ":sessions erase in the app says so" ||
		bad ":sessions erase message: $("${TM[@]}" capture-pane -p | tail -3)"
	"${TM[@]}" send-keys q; sleep 1
	"${TM[@]}" kill-server 2>/dev/null
	[ ! -e "$root/$C" ] && ok ":sessions erase removed the session" || bad "session $C left"
	grep -q 'zqx app note' "$h" 2>/dev/null && bad "its history line came back at exit" ||
		ok "its history line is not written back at exit"
	[ -f "$tmp/logs/syslog" ] && ok "the log the app had open is untouched" || bad "log removed"
	# Retention: a session past it is erased at start like `sessions
	# erase`, its history lines with it; the others' lines stay.
	D=20261001-080000-old
	mkdir -p "$root/$D"
	printf '{"format": 1, "saved": "2026-10-01T08:00:00Z", "sources": [], "notes": ["zqx expired note"], "answers": [{"question": "zqx expired question", "context": "", "answer": "", "stats": ""}], "ticks": [], "view": {"row": 0, "search": "zqxexpiredsearch", "filters": []}}\n' >"$root/$D/session.json"
	echo "pasted zqx" >"$root/$D/pasted.log"
	touch -d '40 days ago' "$root/$D/session.json" "$root/$D/pasted.log" "$root/$D"
	printf '%s\n' "note zqx expired note" "zqx expired question" "/zqxexpiredsearch" ":help" "kept question" >"$h"
	"${TM[@]}" new-session -d -x 120 -y 40 -e HOME="$HOME" -e XDG_STATE_HOME="$XDG_STATE_HOME" \
		-e XDG_DATA_HOME="$XDG_DATA_HOME" -e XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
		"$TRIAGE $tmp/logs/syslog; sleep 30"
	for _ in $(seq 1 50); do "${TM[@]}" capture-pane -p | grep -q "user's log" && break; sleep 0.1; done
	"${TM[@]}" send-keys q; sleep 1
	"${TM[@]}" kill-server 2>/dev/null
	[ ! -e "$root/$D" ] && ok "a session past retention is removed at start" || bad "expired session $D left"
	grep -q 'zqx\|zqxexpiredsearch' "$h" && bad "expired session's history lines stay: $(cat "$h")" ||
		ok "expiry removed the expired session's history lines"
	grep -qx ':help' "$h" && grep -qx 'kept question' "$h" && ok "expiry kept the other history lines" ||
		bad "expiry took other history lines: $(cat "$h")"
	# retention = 0: nothing of the session is kept after exit, history included
	mkdir -p "$XDG_CONFIG_HOME/triage"; echo "retention = 0" >"$XDG_CONFIG_HOME/triage/config"
	"${TM[@]}" new-session -d -x 120 -y 40 -e HOME="$HOME" -e XDG_STATE_HOME="$XDG_STATE_HOME" \
		-e XDG_DATA_HOME="$XDG_DATA_HOME" -e XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
		"$TRIAGE $tmp/logs/syslog; sleep 30"
	for _ in $(seq 1 50); do "${TM[@]}" capture-pane -p | grep -q "user's log" && break; sleep 0.1; done
	"${TM[@]}" send-keys ":note zqx zero note" Enter; sleep 0.3
	"${TM[@]}" send-keys q; sleep 1
	"${TM[@]}" kill-server 2>/dev/null
	rm "$XDG_CONFIG_HOME/triage/config"
	[ -z "$(ls -A "$root" 2>/dev/null)" ] && ok "retention = 0: no session kept after exit" ||
		bad "retention = 0 kept: $(ls "$root")"
	grep -q 'zqx zero note' "$h" && bad "retention = 0 kept the session's history line" ||
		ok "retention = 0: the session's history lines are not kept"
	grep -qx ':help' "$h" && ok "retention = 0 kept the other history lines" || bad "other lines lost: $(cat "$h")"
	[ -f "$tmp/logs/syslog" ] && ok "the log survives expiry" || bad "log removed by expiry"
else
	echo "tmux not installed: :sessions erase is not driven"
fi
[ $fail -eq 0 ] && echo "erase: all checks passed"
exit $fail
