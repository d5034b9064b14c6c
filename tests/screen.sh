#!/bin/bash
# tests/screen.sh - the full-screen interface driven like a person would:
# triage runs in a detached tmux session of fixed size, keys go in with
# send-keys, and what is on the screen comes back with capture-pane.
#
# Run from the repository root with TRIAGE (the binary), B and SHARED set,
# as `make screen` does.  Summary: "screen: N passed, N failed".
set -u
TRIAGE=${TRIAGE:-$PWD/build/rel/triage}
B=${B:-build/rel}
SHARED=${SHARED:-$PWD/../shared}
SAMPLE=$PWD/share/samples/field-laptop.log
T=$(mktemp -d /tmp/triage-screen.XXXXXX)
# our own tmux server: never touch anyone else's sessions
TM=(tmux -L "triage-screen-$$" -f /dev/null)
trap '"${TM[@]}" kill-server 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/      | /' | head -40; }

if ! command -v tmux >/dev/null; then
	echo "screen: tmux not installed (apt-get install tmux); skipped"
	exit 1
fi

export HOME=$T/home XDG_DATA_HOME=$T/data XDG_CONFIG_HOME=$T/config
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset TRIAGE_MODEL NO_COLOR
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"

# start NAME COLSxROWS ARGS...: triage in a new session; the shell after it
# prints EXIT=status so a test can see how it ended.
start() {
	local name=$1 size=$2; shift 2
	local q=""
	for a in "$@"; do q="$q '${a//\'/\'\\\'\'}'"; done
	"${TM[@]}" new-session -d -s "$name" -x "${size%x*}" -y "${size#*x}" \
		"TERM=xterm-256color '$TRIAGE' --session '$T/sess-${SESS:-$name}' $q; echo EXIT=\$?; sleep 600"
}
keys() { local n=$1; shift; "${TM[@]}" send-keys -t "$n" "$@"; }
screen() { "${TM[@]}" capture-pane -p -t "$1"; }
# wait_for NAME REGEX [SECONDS]: until the screen shows it
wait_for() {
	local n=$1 re=$2 t=${3:-5} i=0
	while [ $i -lt $((t * 20)) ]; do
		screen "$n" | grep -Eq -- "$re" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}
# expect NAME DESC REGEX [SECONDS]
expect() {
	if wait_for "$1" "$3" "${4:-5}"; then ok; else bad "$2" "$(screen "$1")"; fi
}
expect_not() {
	if screen "$1" | grep -Eq -- "$3"; then bad "$2" "$(screen "$1")"; else ok; fi
}
stop() { "${TM[@]}" kill-session -t "$1" 2>/dev/null; }

# --- opening a sample --------------------------------------------------------
start open 120x30 "$SAMPLE"
expect open "title names the file" "triage - .*field-laptop.log"
expect open "first log line shown" "Mar 14 08:12:00 line3-hmi sshd"
expect open "cards pane lists a card" "CRIT Disk full"
expect open "status counts lines" "1/116"
expect_not open "no model: a hint, not an error" "failed to load"

# --- search and highlight --------------------------------------------------
keys open / ; keys open "modbus" Enter
expect open "search moves the cursor to the first hit" "^ *15/116"
if "${TM[@]}" capture-pane -e -p -t open | grep -q $'\e\\[30m\e\\[43m[Mm]'; then ok; else
	bad "search hits are highlighted" "$("${TM[@]}" capture-pane -e -p -t open | head -20 | cat -v)"; fi
keys open n
expect open "n finds the next hit" "^ *1[6-9]/116|^ *[2-9][0-9]/116"
keys open g e
expect open "e jumps to an error" "^ *[0-9]+/116"

# --- a card and its evidence -----------------------------------------------
keys open Tab Enter
expect open "Enter opens the card in the detail pane" "Evidence \(Enter shows"
keys open Enter
expect open "Enter on evidence jumps to that line" "field-laptop.log line 55"
expect open "the evidence line is on screen" "08:13:58 line3-hmi rsyslogd"
# back to the card: Down goes evidence -> evidence -> the first check
keys open Tab Tab Down Down Down
expect open "placeholders filled, checks shown" "\[ \] 1\. "
keys open Space
expect open "Space ticks a check off" "\[x\] 1\. "

# --- Ctrl-C does not quit; help; :man ----------------------------------------
keys open C-c
expect open "Ctrl-C says how to quit instead" "does not quit"
keys open '?'
expect open "? shows help from the key table" "help: keys and commands"
keys open G
expect open "help lists commands" ":export FILE"
keys open q
keys open ":man triage" Enter
expect open ":man triage shows the manual" "TRIAGE\(1\)"
keys open / "EXIT STATUS" Enter
if wait_for open "EXIT STATUS" && screen open | sed -n 2p | grep -q "EXIT STATUS"; then ok; else
	bad "search inside the manual" "$(screen open | head -3)"; fi
keys open q
expect open "q closes the manual" "Cards: "

# --- export ------------------------------------------------------------------
keys open ":note replaced the UPS battery" Enter
keys open ":export $T/report.md" Enter
expect open "export says where" "exported the report"
if grep -q "^# Triage report" "$T/report.md" && grep -q "Disk full" "$T/report.md" &&
    grep -q "replaced the UPS battery" "$T/report.md" && grep -q "^- \[x\]" "$T/report.md"; then ok; else
	bad "Markdown report holds cards, ticks and notes" "$(head -30 "$T/report.md" 2>&1)"; fi
keys open ":export $T/report.json" Enter
sleep 0.3
if [ -x "$B/tests/jsonget" ] && "$B/tests/jsonget" "$T/report.json" cards.0.evidence.0.line >/dev/null 2>&1 ||
    grep -q '"evidence"' "$T/report.json"; then ok; else bad "JSON report written" "$(head -c 600 "$T/report.json" 2>&1)"; fi

# --- resize ------------------------------------------------------------------
"${TM[@]}" resize-window -t open -x 70 -y 20
expect open "below 80x24 a clear message" "needs at least 80x24"
"${TM[@]}" resize-window -t open -x 100 -y 30
expect open "back to a full layout after resize" "Cards: "

# --- quit restores the terminal; resume ---------------------------------------
keys open q
expect open "q quits with status 0" "EXIT=0"
if [ "$("${TM[@]}" display -p -t open '#{alternate_on}')" = 0 ]; then ok; else
	bad "alternate screen is off after quitting"; fi
stop open
SESS=open start resume 120x30 --resume
expect resume "--resume reopens the files" "field-laptop.log"
keys resume Tab Enter Down Down Down
expect resume "--resume keeps ticked checks" "\[x\] "
keys resume q
stop resume

# --- SIGTERM and a crash-safe exit ---------------------------------------------
start term 100x30 "$SAMPLE"
expect term "started" "Cards: "
pid=$(pgrep -f -n -- "--session $T/sess-term") || pid=
if [ -n "$pid" ]; then kill -TERM "$pid"; fi
expect term "SIGTERM ends it" "EXIT="
if [ "$("${TM[@]}" display -p -t term '#{alternate_on}')" = 0 ]; then ok; else
	bad "SIGTERM restores the terminal"; fi
stop term

# --- follow across rotation -----------------------------------------------------
printf 'Mar 14 09:00:00 h app[1]: first\n' >"$T/live.log"
start follow 120x30 -f "$T/live.log"
expect follow "following shows the file" "app\[1\]: first"
printf 'Mar 14 09:00:01 h app[1]: second\n' >>"$T/live.log"
expect follow "appended line appears" "app\[1\]: second"
mv "$T/live.log" "$T/live.log.1"
printf 'Mar 14 09:00:02 h app[1]: after rotation\n' >"$T/live.log"
expect follow "follows the new file after rename rotation" "app\[1\]: after rotation"
expect follow "rotation is marked in the view" "rotated"
: >"$T/live.log"
printf 'Mar 14 09:00:03 h app[1]: after truncation\n' >>"$T/live.log"
expect follow "copytruncate is detected and followed" "app\[1\]: after truncation"
stop follow

# --- a paste of 5,000 lines ---------------------------------------------------------
start paste 120x30
expect paste "empty session invites a paste" "No log open"
for i in $(seq 1 5000); do echo "Mar 14 10:00:00 h kernel: I/O error, dev sda, sector $i"; done >"$T/paste.txt"
"${TM[@]}" load-buffer -b big "$T/paste.txt"
"${TM[@]}" paste-buffer -p -b big -t paste
expect paste "bracketed paste lands in one go" "pasted 5000 lines" 15
expect paste "the pasted lines are in the view" "5000/5000"
expect paste "cards come from pasted text" "Disk I/O errors"
if [ "$(wc -l <"$T/sess-paste/pasted.log")" = 5000 ]; then ok; else
	bad "pasted text is kept with the session"; fi
stop paste

# --- the assistant: ask, stream, stop -------------------------------------------------
GEN=$B/tests/tool-gguf-gen
if [ -f "$SHARED/models/stories260K.gguf" ] && [ -x "$GEN" ]; then
	start ask 120x30 --model "$SHARED/models/stories260K.gguf" "$SAMPLE"
	keys ask a "What happened to the disk?" Enter
	expect ask "the answer streams with its statistics" "tokens/s" 10
	expect ask "the context budget is shown" "context: [0-9]+ tokens of log"
	expect ask "status names the model" "model .*ctx [0-9]+"
	stop ask
	# a bigger synthetic model answers slowly enough to stop it mid-way
	"$GEN" --type Q8_0 --n-embd 768 --n-ff 2048 --n-layer 6 --n-head 12 \
		--n-head-kv 4 --vocab-from "$SHARED/models/stories260K.gguf" --seed 1 \
		-o "$T/slow.gguf" 2>/dev/null
	start slow 120x30 --model "$T/slow.gguf" "$SAMPLE"
	keys slow a "why" Enter
	expect slow "status shows progress while answering" "answering, [0-9]+ tokens" 10
	keys slow C-c
	expect slow "Ctrl-C stops the answer" "stopped" 5
	expect_not slow "Ctrl-C did not quit" "EXIT="
	keys slow a "again" Enter
	expect slow "a second question starts" "answering, [0-9]+ tokens" 10
	keys slow Escape
	# both answers now end with their statistics
	i=0; while [ $i -lt 100 ] && [ "$(screen slow | grep -c 'tokens in [0-9]* ms')" -lt 2 ]; do sleep 0.05; i=$((i + 1)); done
	if [ "$(screen slow | grep -c 'tokens in [0-9]* ms')" -ge 2 ]; then ok; else bad "Esc stops it too" "$(screen slow)"; fi
	keys slow q
	expect slow "then q quits" "EXIT=0"
	stop slow
else
	bad "the tiny model or the generator is missing" "$SHARED/models/stories260K.gguf $GEN"
fi

# --- hostile text never reaches the terminal as control sequences ----------------------
printf 'Mar 14 11:00:00 h evil: \033[2J\033]0;pwned\007 \xc2\x9b31m red \xe2\x80\xae txt\r done\n' >"$T/evil.log"
start evil 120x30 "$T/evil.log"
expect evil "escapes are shown, not obeyed" 'evil: \\x1b\[2J\\x1b\]0;pwned\\x07'
expect evil "bidi override shown escaped" '\\u202e'
if [ "$("${TM[@]}" display -p -t evil '#{pane_title}')" != pwned ]; then ok; else bad "OSC retitled the pane"; fi
stop evil

# under SANITIZE=1 a report lands in the session's stderr.log, not on screen
if grep -l "Sanitizer\|runtime error" "$T"/sess-*/stderr.log 2>/dev/null; then
	bad "sanitizer reports in stderr.log" "$(cat "$T"/sess-*/stderr.log | head -30)"; else ok; fi

echo "screen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
