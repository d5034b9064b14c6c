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
cleanup() {
	"${TM[@]}" kill-server 2>/dev/null
	[ -d "$T/signer" ] && gpgconf --homedir "$T/signer" --kill all >/dev/null 2>&1
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
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

# A session that lives to the end: the server never runs empty, so it is
# never shutting down just as the next test starts a session.  (Started
# after the exports: sessions get the server's environment.)
"${TM[@]}" new-session -d -s keep -x 80 -y 24 "sleep 100000"

# start NAME COLSxROWS ARGS...: triage in a new session; the shell after it
# prints EXIT=status so a test can see how it ended.  TERMV sets TERM,
# ENVV adds NAME=VALUE words to triage's environment and CWDV is the
# directory it starts in.  --session names the directory its sessions
# are kept in ($T/sess-NAME, or $T/sess-$SESS).
start() {
	local name=$1 size=$2; shift 2
	local q=""
	for a in "$@"; do q="$q '${a//\'/\'\\\'\'}'"; done
	"${TM[@]}" new-session -d -s "$name" -c "${CWDV:-$PWD}" -x "${size%x*}" -y "${size#*x}" \
		"TERM=${TERMV:-xterm-256color} ${ENVV:-} '$TRIAGE' --session '$T/sess-${SESS:-$name}' $q; echo EXIT=\$?; sleep 600"
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
# expect_gone NAME DESC REGEX [SECONDS]: until the screen no longer shows it
expect_gone() {
	local i=0
	while [ $i -lt $((${4:-5} * 20)) ]; do
		screen "$1" | grep -Eq -- "$3" || { ok; return; }
		sleep 0.05
		i=$((i + 1))
	done
	bad "$2" "$(screen "$1")"
}
stop() { "${TM[@]}" kill-session -t "$1" 2>/dev/null; }
# quit NAME: q, and wait until triage has ended before the session goes
# (a hangup in the middle of ASan's exit-time leak check can wedge it)
quit() { keys "$1" q; wait_for "$1" "EXIT=" 10 || bad "$1 did not quit" "$(screen "$1")"; stop "$1"; }

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
keys open Down Enter
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
keys resume Tab Enter Down Down Down Down
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
if [ "$(cat "$T"/sess-paste/*/pasted.log | wc -l)" = 5000 ]; then ok; else
	bad "pasted text is kept with the session"; fi
stop paste

# --- the assistant: ask, stream, stop -------------------------------------------------
GEN=$B/tests/tool-gguf-gen
if [ -f "$SHARED/models/stories260K.gguf" ] && [ -x "$GEN" ]; then
	start ask 120x30 --model "$SHARED/models/stories260K.gguf" "$SAMPLE"
	keys ask a "What happened to the disk?" Enter
	expect ask "the answer streams with its statistics" "tokens/s" 10
	# a fast machine writes the whole answer at once: scroll back to the top
	keys ask Tab Tab g
	expect ask "the brief and budget are shown" "brief: [0-9]+ tokens: [0-9]+ cards"
	expect ask "status names the model" "model .*ctx [0-9]+"
	# a follow-up keeps the conversation and reads only what is new
	keys ask Escape a "And the fan?" Enter
	expect ask "the follow-up is answered" "> And the fan\?" 10
	expect ask "the follow-up reuses what the model read" "; [1-9][0-9]* tokens of the last prompt were cached" 10
	keys ask Escape ":think" Enter
	expect ask ":think switches thinking" "thinking on for the next" 5
	stop ask
	# --resume brings the conversation back as the model had it: a
	# follow-up goes with the earlier exchanges in its context
	SESS=ask start askr 120x30 --resume
	keys askr a "Anything else?" Enter
	# a fast machine answers in a tenth of a second and scrolls the
	# question out of the pane before a capture: the saved exchange and the
	# answer's statistics on screen are what show it was answered
	i=0; while [ $i -lt 200 ] && ! grep -q 'Anything else' "$T"/sess-ask/*/assist.json 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	if grep -q 'Anything else' "$T"/sess-ask/*/assist.json 2>/dev/null &&
	    wait_for askr "tokens/s" 10; then ok; else
		bad "the follow-up after --resume is answered" "$(screen askr)"; fi
	stop askr
	sj=$(echo "$T"/sess-ask/*/session.json)
	na=$("$B/tests/jsonget" answers.# <"$sj")
	ctx=$("$B/tests/jsonget" answers.$((na - 1)).context <"$sj")
	if echo "$ctx" | grep -Eq "with [1-9][0-9]* earlier exchanges?"; then ok; else
		bad "a follow-up after --resume has the earlier exchanges in its context" "$ctx"; fi
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
	# answer_timeout: a slow answer is stopped at the limit, said, and
	# kept as a timeout fallback (a context of 2048: answers of up to 512
	# tokens, seconds on this model)
	"$GEN" --type Q8_0 --n-embd 768 --n-ff 2048 --n-layer 6 --n-head 12 \
		--n-head-kv 4 --n-ctx 2048 --vocab-from "$SHARED/models/stories260K.gguf" \
		--seed 1 -o "$T/slowto.gguf" 2>/dev/null
	mkdir -p "$T/cfg-to/triage"; echo "answer_timeout = 1s" >"$T/cfg-to/triage/config"
	ENVV="XDG_CONFIG_HOME=$T/cfg-to" start slowto 120x30 --model "$T/slowto.gguf" "$SAMPLE"
	keys slowto a "why" Enter
	expect slowto "answer_timeout stops a slow answer and says so" \
		"the answer timed out after 1 s; the rule-based cards stand" 15
	# (the pane's line, wrapped somewhere: one of its pieces is whole)
	expect slowto "where the answer stopped, the pane says it timed out" \
		"timed out after 1 s \(the|answer_timeout setting|setting\); the rule-based"
	expect_not slowto "a timed-out answer is not a crash" "EXIT="
	quit slowto
	aj=$(echo "$T"/sess-slowto/*/assist.json)
	if [ "$("$B/tests/jsonget" fallbacks.0.reason <"$aj")" = timeout ] &&
	   "$B/tests/jsonget" fallbacks.0.detail <"$aj" | grep -q 'longer than the 1 s limit (answer_timeout)'; then ok; else
		bad "the timeout is kept with the session with its reason" "$(cat "$aj")"; fi
else
	bad "the tiny model or the generator is missing" "$SHARED/models/stories260K.gguf $GEN"
fi

# --- model cards in the app; fallbacks kept with the session ---------------------------
MODEL=$SHARED/models/stories260K.gguf
if [ -f "$MODEL" ]; then
	# lines no playbook knows, in words the tiny story model writes back:
	# greedy, it fills a card about the second that passes every check
	printf '%s\n' \
		'Mar 14 08:00:01 hmi kernel: error: little girl said there was a big tree with friends' \
		'Mar 14 08:00:02 hmi kernel: error: little girl said there was a big tree with friends' \
		'Mar 14 08:00:03 hmi app[7]: warning: once upon a time they played with happy bird' \
		'Mar 14 08:00:04 hmi app[7]: warning: once upon a time they played with happy bird' >"$T/story.log"
	start mc 120x40 --model "$MODEL" "$T/story.log"
	expect mc "two unknown templates" "2 unknown templa"
	keys mc Tab j Enter
	expect mc "the unknown template is open" "A warning or error no playbook knows"
	keys mc z
	expect mc "it says M gets a model card" "model's card for it with M"
	keys mc z
	keys mc M
	expect mc "M: a valid model card is shown, marked as the model's" \
		"MODEL CARD - suggested by the model, not a playbook; checked" 15
	expect mc "the card says what it is about" "> model card: unknown template "
	expect mc "its evidence is a line it was given" "Evidence: .*story\.log:3"
	# in its own colour (magenta), unlike the answers around it
	if "${TM[@]}" capture-pane -e -p -t mc | grep 'MODEL CARD' | grep -q $'\e\\[35m'; then ok; else
		bad "a model card is drawn in its own colour" "$("${TM[@]}" capture-pane -e -p -t mc | grep 'MODEL CARD' | cat -v)"; fi
	# forced garbage: five tokens cannot finish a card
	keys mc Tab Tab j Enter
	keys mc ":explain 5" Enter
	expect mc "a card cut by the token limit is not shown" \
		"The model could not produce a valid card: incomplete: the" 15
	expect mc "the status says so" "the model could not produce a valid card"
	keys mc ":export $T/mc.md" Enter
	expect mc "the report is written" "exported the report"
	keys mc ":export $T/mc.json" Enter
	quit mc
	if [ "$(grep -c 'MODEL CARD' "$T/mc.md")" = 1 ] &&
	   grep -q '^## Model cards (suggested by the model, not playbooks; checked by triage; commands not run)' "$T/mc.md" &&
	   grep -q '^- invalid-card: incomplete' "$T/mc.md"; then ok; else
		bad "the Markdown report has the one valid card, marked, and the rejected one as a fallback" "$(cat "$T/mc.md")"; fi
	if [ "$("$B/tests/jsonget" model_cards.# <"$T/mc.json")" = 1 ] &&
	   [ "$("$B/tests/jsonget" model_cards.0.source <"$T/mc.json")" = model ] &&
	   [ "$("$B/tests/jsonget" fallbacks.0.reason <"$T/mc.json")" = invalid-card ]; then ok; else
		bad "the JSON report marks the model card and records the fallback" "$(cat "$T/mc.json")"; fi
	aj=$(echo "$T"/sess-mc/*/assist.json)
	if [ "$("$B/tests/jsonget" model_cards.# <"$aj")" = 1 ] &&
	   [ "$("$B/tests/jsonget" fallbacks.# <"$aj")" = 1 ] &&
	   "$B/tests/jsonget" fallbacks.0.detail <"$aj" | grep -q '^incomplete'; then ok; else
		bad "the session keeps the model card and the fallback with its reason" "$(cat "$aj")"; fi
	# resumed: the card is checked again and shown, still marked
	SESS=mc start mc2 120x40 --resume
	expect mc2 "resumed" "happy bird"
	keys mc2 Tab Tab g
	expect mc2 "a resumed model card is shown marked" "MODEL CARD - suggested by the model" 10
	quit mc2
	# explain on a playbook card: why it applies, from its evidence
	start mce 120x40 --model "$MODEL" "$SAMPLE"
	expect mce "a card to explain" "CRIT Disk full"
	keys mce Tab Enter
	expect mce "the card is open" "Evidence \(Enter shows"
	keys mce M
	expect mce "explain asks about the open playbook card" "model card: explain the playbook card \"Disk full" 10
	expect mce "it ends as a marked card or a reason, nothing else" \
		"MODEL CARD - suggested by the model|The model could not produce a valid card: " 15
	quit mce
	# repeated invalid cards: after 3 in a row the model is asked no more,
	# the pane says why and how to turn them back on
	start mcoff 120x40 --model "$MODEL" "$T/story.log"
	expect mcoff "two unknown templates" "2 unknown templa"
	keys mcoff Tab j Enter
	expect mcoff "the unknown template is open" "A warning or error no playbook knows"
	# fallbacks kept so far: each card waits for the one before
	nfb() { local f; f=$(echo "$T"/sess-mcoff/*/assist.json)
		if [ -f "$f" ]; then "$B/tests/jsonget" fallbacks.# <"$f"; else echo 0; fi; }
	for n in 1 2 3; do
		keys mcoff ":explain 5" Enter
		i=0; while [ $i -lt 300 ] && [ "$(nfb)" != "$n" ] && [ "$(nfb)" != 4 ]; do
			sleep 0.05; i=$((i + 1)); done
	done
	expect mcoff "the third invalid card turns model cards off, said in the pane" \
		"The model produced 3 invalid cards in a row: model cards are" 15
	expect mcoff "and how to turn them on again" "To ask the model again: :explain on, or"
	keys mcoff Tab Tab j Enter M
	expect mcoff "the next request asks the model nothing" \
		"No model card: the model produced 3 invalid cards in a row;" 10
	aj=$(echo "$T"/sess-mcoff/*/assist.json)
	i=0; while [ $i -lt 100 ] && ! grep -q cards-off "$aj" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	if [ "$("$B/tests/jsonget" fallbacks.# <"$aj")" = 4 ] &&
	   [ "$("$B/tests/jsonget" fallbacks.2.reason <"$aj")" = invalid-card ] &&
	   [ "$("$B/tests/jsonget" fallbacks.3.reason <"$aj")" = cards-off ] &&
	   "$B/tests/jsonget" fallbacks.3.detail <"$aj" | grep -q '^the model produced 3 invalid cards in a row; model cards are off for this session, the rule-based view stands$'; then ok; else
		bad "cards-off is recorded once with its reason" "$(cat "$aj")"; fi
	keys mcoff Tab Tab j Enter ":explain on" Enter
	expect mcoff ":explain on asks the model again (a valid card)" \
		"MODEL CARD - suggested by the model, not a playbook; checked" 15
	quit mcoff
else
	bad "the tiny model is missing" "$MODEL"
fi
# with no model: the fallback is said and kept with its reason
start nomod 120x30 "$SAMPLE"
keys nomod a "why?" Enter
expect nomod "no model: the pane says how to add one" "No language model is installed"
keys nomod M
expect nomod "M without a model says so too" "model card: the [0-9]+ selected line"
keys nomod "?"
expect nomod "? lists M" "M +model card: the model's reading"
keys nomod q
quit nomod
aj=$(echo "$T"/sess-nomod/*/assist.json)
if [ -f "$aj" ] && [ "$("$B/tests/jsonget" fallbacks.# <"$aj")" = 2 ] &&
   [ "$("$B/tests/jsonget" fallbacks.0.reason <"$aj")" = no-model ] &&
   "$B/tests/jsonget" fallbacks.0.detail <"$aj" | grep -q 'No language model'; then ok; else
	bad "app fallbacks are kept in the session with their reason" "$(cat "$aj" 2>&1)"; fi

# --- hostile text never reaches the terminal as control sequences ----------------------
printf 'Mar 14 11:00:00 h evil: \033[2J\033]0;pwned\007 \xc2\x9b31m red \xe2\x80\xae txt\r done\n' >"$T/evil.log"
start evil 120x30 "$T/evil.log"
expect evil "escapes are shown, not obeyed" 'evil: \\x1b\[2J\\x1b\]0;pwned\\x07'
expect evil "bidi override shown escaped" '\\u202e'
if [ "$("${TM[@]}" display -p -t evil '#{pane_title}')" != pwned ]; then ok; else bad "OSC retitled the pane"; fi
stop evil

# --- colours: 8, 16 and 256 colours, monochrome, NO_COLOR ----------------------------
# What the screen shows must not depend on colour: severity is red/yellow
# where there is colour, bold/underlined where there is none.
# sgr NAME TEXT: the attributes TEXT is drawn with, as sorted SGR numbers
# ("1" bold, "2" dim, "4" underline, "7" reverse, "31" red, "38-5-n" ...).
# capture-pane -e writes only the changes from one cell to the next, even
# across lines, so the whole screen is replayed.
sgr() {
	"${TM[@]}" capture-pane -e -p -t "$1" | TXT=$2 perl -e '
	my %st;
	sub apply {
		my @p = split /;/, $_[0]; @p = (0) unless @p;
		while (@p) {
			my $x = shift @p; $x = 0 if $x eq "";
			if ($x == 0) { %st = () }
			elsif ($x =~ /^[123457]$/) { $st{$x} = $x }
			elsif ($x == 22) { delete @st{1, 2} }
			elsif ($x >= 23 && $x <= 27) { delete $st{$x - 20} }
			elsif (($x >= 30 && $x <= 37) || ($x >= 90 && $x <= 97)) { $st{fg} = $x }
			elsif ($x == 39) { delete $st{fg} }
			elsif (($x >= 40 && $x <= 47) || ($x >= 100 && $x <= 107)) { $st{bg} = $x }
			elsif ($x == 49) { delete $st{bg} }
			elsif ($x == 38 || $x == 48) {
				my $k = $x == 38 ? "fg" : "bg"; my $m = shift(@p) // 0;
				$st{$k} = $m == 5 ? "$x-5-" . (shift(@p) // 0) : "$x-2";
				splice @p, 0, 3 if $m == 2;
			}
		}
	}
	while (my $line = <STDIN>) {
		chomp $line; my ($plain, @at) = ("");
		while ($line =~ /\G(?:\e\[([0-9;]*)m|(.))/gcs) {
			if (defined $1) { apply($1); next }
			$plain .= $2; push @at, join(",", sort values %st);
		}
		my $i = index($plain, $ENV{TXT});
		if ($i >= 0) { print "$at[$i]\n"; exit }
	}'
}
# colour_sgr NAME: does any colour (not the default) reach the screen?
colour_sgr() {
	"${TM[@]}" capture-pane -e -p -t "$1" | perl -ne '
		while (/\e\[([0-9;]*)m/g) { for (split /;/, $1) {
			if (/^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/) { print "yes\n"; exit } } }'
}
has_param() { case ",$1," in *",$2,"*) return 0 ;; esac; return 1; }
# wait_sgr NAME TEXT PARAM: until TEXT is drawn with SGR parameter PARAM
wait_sgr() {
	local i=0
	while [ $i -lt 60 ]; do
		has_param "$(sgr "$1" "$2")" "$3" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}
printf 'Mar 14 08:00:00 h app[1]: service started\nMar 14 08:00:01 h app[1]: error: disk failed\nMar 14 08:00:02 h app[1]: warning: disk slow\nMar 14 08:00:03 h app[1]: all good again\n' >"$T/sev.log"
# xterm-16color comes with ncurses-term; make the same entry if it is missing
TI16=
if ! infocmp xterm-16color >/dev/null 2>&1; then
	mkdir -p "$T/terminfo"
	printf '%s\n' 'xterm-16color|xterm with 16 colors (screen.sh copy),' \
		'	colors#16, pairs#256,' \
		'	setab=\E[%?%p1%{8}%<%t%p1%{40}%+%e%p1%{92}%+%;%dm,' \
		'	setaf=\E[%?%p1%{8}%<%t%p1%{30}%+%e%p1%{82}%+%;%dm,' \
		'	use=xterm,' >"$T/terminfo/x16.src"
	tic -x -o "$T/terminfo" "$T/terminfo/x16.src" 2>/dev/null && TI16="TERMINFO=$T/terminfo"
fi
for mode in xterm-256color xterm xterm-16color; do
	n=col-${mode//[^a-z0-9]/}
	TERMV=$mode ENVV=$([ "$mode" = xterm-16color ] && echo "$TI16") start "$n" 100x30 "$T/sev.log"
	if ! wait_for "$n" "all good again"; then bad "$mode: the screen renders" "$(screen "$n")"; stop "$n"; continue; fi
	ok
	e=$(sgr "$n" "Mar 14 08:00:01") w=$(sgr "$n" "Mar 14 08:00:02") p=$(sgr "$n" "Mar 14 08:00:03")
	if has_param "$e" 31 && has_param "$w" 33 && [ "$e" != "$w" ] && [ "$p" != "$e" ] && [ "$p" != "$w" ]; then ok; else
		bad "$mode: errors red, warnings yellow, other lines plain" "error=[$e] warning=[$w] plain=[$p]"; fi
	if has_param "$(sgr "$n" "Mar 14 08:00:00")" 7; then ok; else bad "$mode: the cursor line is reversed"; fi
	quit "$n"
done
for mode in vt100 xterm-mono NO_COLOR; do
	n=mono-${mode//[^a-zA-Z0-9]/}
	if [ "$mode" = NO_COLOR ]; then
		TERMV=xterm-256color ENVV=NO_COLOR=1 start "$n" 100x30 "$T/sev.log"
	else
		TERMV=$mode start "$n" 100x30 "$T/sev.log"
	fi
	if ! wait_for "$n" "all good again"; then bad "$mode: the screen renders" "$(screen "$n")"; stop "$n"; continue; fi
	ok
	if [ -z "$(colour_sgr "$n")" ]; then ok; else
		bad "$mode: no colour attribute is used" "$("${TM[@]}" capture-pane -e -p -t "$n" | head -8 | cat -v)"; fi
	e=$(sgr "$n" "Mar 14 08:00:01") w=$(sgr "$n" "Mar 14 08:00:02") p=$(sgr "$n" "Mar 14 08:00:03")
	if has_param "$e" 1 && has_param "$w" 4 && [ "$e" != "$w" ] && [ -z "$p" ]; then ok; else
		bad "$mode: errors bold, warnings underlined, other lines plain" "error=[$e] warning=[$w] plain=[$p]"; fi
	if has_param "$(sgr "$n" "Mar 14 08:00:00")" 7; then ok; else bad "$mode: the cursor line is reversed"; fi
	# the selected card is reversed when the card list has the focus
	keys "$n" Tab
	if wait_sgr "$n" "   ?  h app[<*>]: error" 7; then ok; else
		bad "$mode: the selected card is reversed" "$("${TM[@]}" capture-pane -e -p -t "$n" | grep -a "app\[" | cat -v)"; fi
	quit "$n"
done

# --- the import screen: signed bundles, live switching, rollback ----------------------
# Real keys made by gpg in a temporary home, real bundles made by triage
# bundle create, a stick that is a directory given with :import PATH.
store_hash() {
	(cd "$XDG_DATA_HOME/triage/bundles" 2>/dev/null && find . -printf '%p %y %m\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum
}
# a playbook for a line no shipped playbook knows, with a title per version
mkpb() {	# dir title
	mkdir -p "$1"
	cat >"$1/site-conveyor-jam.json" <<EOF
{
  "format": 1, "id": "site-conveyor-jam", "version": 1, "title": "$2",
  "class": "industrial-bus",
  "severity": "high", "tags": ["conveyor"], "sources": ["any"],
  "match": { "patterns": [
    { "name": "jam", "regex": "conveyor (?<belt>[A-Z][0-9]+) jammed at station (?<station>[0-9]+)" } ] },
  "explanation": "Belt {{belt}} stopped: a part jammed at station {{station}}.",
  "causes": ["A misaligned part"],
  "checks": [ { "do": "Look at station {{station}}", "command": "grep -n 'station {{station}}' {{file}}", "expect": "The jam" } ],
  "fix": ["Clear station {{station}} and restart belt {{belt}}"],
  "verify": ["No new jam lines for 10 minutes"],
  "escalate": { "when": "It jams again within an hour", "attach": ["{{file}}"] },
  "references": ["site manual"], "false_positives": ["A test jam"],
  "examples": {
    "match": ["Mar 14 08:00:00 plc1 conveyor[7]: conveyor B2 jammed at station 4",
      "Mar 14 08:01:00 plc1 conveyor[7]: conveyor A1 jammed at station 12",
      "Mar 14 08:02:00 plc2 conveyor[9]: conveyor C3 jammed at station 1"],
    "no_match": ["Mar 14 08:03:00 plc1 conveyor[7]: conveyor B2 running at station 4",
      "Mar 14 08:04:00 plc1 conveyor[7]: conveyor B2 restarted",
      "Mar 14 08:05:00 plc1 conveyor[7]: jam cleared at station 4"] }
}
EOF
}
# --- a "possibly" card: no pattern matched, the wording is like a playbook's ---------
mkdir -p "$T/sugdata/triage/playbooks"
cat >"$T/sugdata/triage/playbooks/site-conveyor-jam.json" <<'EOF'
{
  "format": 1, "id": "site-conveyor-jam", "version": 1, "title": "Site conveyor jam",
  "class": "industrial-bus", "severity": "high", "tags": ["conveyor"], "sources": ["any"],
  "match": { "patterns": [
    { "name": "jam", "regex": "conveyor (?<belt>[A-Z][0-9]+) jammed at station (?<station>[0-9]+)" } ] },
  "explanation": "Belt {{belt}} stopped: a part jammed at station {{station}}.",
  "causes": ["A misaligned part"],
  "checks": [ { "do": "Look at station {{station}}", "command": "grep -n 'station {{station}}' {{file}}", "expect": "The jam" } ],
  "fix": ["Clear station {{station}} and restart belt {{belt}}"],
  "verify": ["No new jam lines for 10 minutes"],
  "escalate": { "when": "It jams again within an hour", "attach": ["{{file}}"] },
  "references": ["site manual"],
  "examples": {
    "match": ["Mar 14 08:00:00 plc1 conveyor[7]: conveyor B2 jammed at station 4",
      "Mar 14 08:01:00 plc1 conveyor[7]: conveyor A1 jammed at station 12",
      "Mar 14 08:02:00 plc2 conveyor[9]: conveyor C3 jammed at station 1"],
    "no_match": ["Mar 14 08:03:00 plc1 conveyor[7]: conveyor B2 running at station 4",
      "Mar 14 08:04:00 plc1 conveyor[7]: conveyor B2 restarted",
      "Mar 14 08:05:00 plc1 conveyor[7]: jam cleared at station 4"] }
}
EOF
printf '%s\n' 'Mar 14 08:00:00 plc1 conveyor[7]: belt B2 failed: a part is stuck at station 4' \
	'Mar 14 08:00:05 plc1 app[1]: write failed: No space left on device' >"$T/sugg.log"
ENVV="XDG_DATA_HOME=$T/sugdata" start sugg 120x60 "$T/sugg.log"
expect sugg "a possibly card is listed after the matched card" "CRIT Disk full"
expect sugg "the possibly card says possibly" "~  possibly: Site conveyor jam \(1\)"
expect_not sugg "it is not shown as a matched card" "(CRIT|HIGH|MED |LOW |INFO) Site conveyor jam"
if "${TM[@]}" capture-pane -e -p -t sugg | grep -a "possibly: Site" | grep -aqE $'\x1b\\[([0-9;]*;)?2m'; then ok; else
	bad "the possibly card is dim" "$("${TM[@]}" capture-pane -e -p -t sugg | grep -a possibly | cat -v)"; fi
keys sugg Tab Down Enter
expect sugg "opening it says it was suggested, not matched" "Suggested by similarity of wording \(score"
expect sugg "it shows the playbook's card body" "Clear station \{\{station\}\} and restart"
expect sugg "and the line it is about" "sugg.log:1  Mar 14 08:00:00 plc1 conveyor"
quit sugg

FPR=
if command -v gpg >/dev/null; then
	mkdir -m 700 "$T/signer"
	GNUPGHOME=$T/signer gpg --batch --quiet --passphrase '' --quick-gen-key \
		'Field Knowledge <kb@example.com>' ed25519 sign never >/dev/null 2>&1
	FPR=$(GNUPGHOME=$T/signer gpg --with-colons --list-keys kb@example.com 2>/dev/null |
		awk -F: '/^fpr/{print $10; exit}')
fi
if [ ${#FPR} -eq 40 ]; then
	mkbundle() { GNUPGHOME=$T/signer "$TRIAGE" bundle create --key "$FPR" --out "$T/dist" "$@" >/dev/null; }
	GNUPGHOME=$T/signer gpg --export "$FPR" >"$T/signer.pub"
	if ! "$TRIAGE" keys add --yes "$T/signer.pub" >"$T/keys.out" 2>&1; then
		bad "triage keys add for the import tests" "$(cat "$T/keys.out")"; fi
	mkpb "$T/pb1" "Site conveyor jam v1"
	mkpb "$T/pb2" "Site conveyor jam v2"
	mkdir -p "$T/dist" "$T/stick" "$T/evil"
	mkbundle --name site --version 1.0.0 --playbooks "$T/pb1" --changelog "first release"
	mkbundle --name site --version 2.0.0 --playbooks "$T/pb2" --changelog "new title"
	cp "$T/dist/site-1.0.0.tbundle" "$T/dist/site-1.0.0.tbundle.sig" "$T/stick/"
	# a signed bundle changed after signing: one byte in the middle
	cp "$T/dist/site-2.0.0.tbundle" "$T/evil/site-3.0.0.tbundle"
	cp "$T/dist/site-2.0.0.tbundle.sig" "$T/evil/site-3.0.0.tbundle.sig"
	printf 'X' | dd of="$T/evil/site-3.0.0.tbundle" bs=1 seek=600 conv=notrunc 2>/dev/null
	printf '%s\n' 'Mar 14 08:00:00 plc1 conveyor[7]: conveyor B2 jammed at station 4' \
		'Mar 14 08:00:05 plc1 app[1]: write failed: No space left on device' >"$T/jam.log"

	start imp 120x30 "$T/jam.log"
	expect imp "before the import: the shipped card only" "CRIT Disk full"
	expect_not imp "no site card before the import" "Site conveyor jam"
	keys imp I
	expect imp "I opens the import screen" "Import signed bundles"
	keys imp ":import $T/stick" Enter
	expect imp "the stick's bundle is listed, verified" "site-1\.0\.0\.tbundle +verified +site 1\.0\.0 \(playbooks\) +by Field Knowledge"
	expect imp "signer shown" "signer +Field Knowledge <kb@example\.com>"
	expect imp "fingerprint shown" "key +$FPR, signed 20"
	expect imp "what would change" "change +playbooks: new bundle site 1\.0\.0"
	expect imp "the changelog" "changes +- first release"
	keys imp Enter
	expect imp "the import passes every stage" "copy ✓ +verify ✓ +extract ✓ +check ✓ +switch ✓"
	expect imp "the import says what it did" "imported site 1\.0\.0, signed by Field Knowledge"
	expect imp "the installed version is listed" "site +playbooks +1\.0\.0 +-( |$)"
	keys imp q
	expect imp "the new playbook's card appears without a restart" "HIGH Site conveyor jam v1 \(1\)"
	expect imp "the status line says the playbooks switched" "playbooks switched"

	cp "$T/dist/site-2.0.0.tbundle" "$T/dist/site-2.0.0.tbundle.sig" "$T/stick/"
	keys imp I
	expect imp "a rescan finds the new version" "site-2\.0\.0\.tbundle +verified"
	keys imp Down
	expect imp "the change is an upgrade" "change +playbooks site 1\.0\.0 → 2\.0\.0"
	keys imp Enter
	expect imp "the upgrade is imported" "imported site 1\.0\.0 → 2\.0\.0"
	expect imp "1.0.0 is now last-known-good" "site +playbooks +2\.0\.0 +1\.0\.0"
	keys imp q
	expect imp "cards switch to the new version" "HIGH Site conveyor jam v2 \(1\)"

	h=$(store_hash)
	keys imp ":import $T/evil" Enter
	expect imp "a tampered bundle is listed as refused" "site-3\.0\.0\.tbundle +REFUSED +bad signature"
	keys imp Enter
	expect imp "importing it is refused with the reason" "^ REFUSED: bad signature"
	expect imp "the refusing stage is marked" "copy ✓ +verify ✗"
	if [ "$h" = "$(store_hash)" ]; then ok; else bad "the store is unchanged after the refusal"; fi
	keys imp q
	expect imp "the cards are unchanged after the refusal" "HIGH Site conveyor jam v2 \(1\)"

	keys imp I
	expect imp "the list is back" "site-3\.0\.0\.tbundle +REFUSED"
	keys imp G r
	expect imp "rollback asks first" "Roll back site from 2\.0\.0 to 1\.0\.0\?"
	keys imp y
	expect imp "rollback says what it did" "rolled back site 2\.0\.0 → 1\.0\.0"
	expect imp "the rolled-back version is marked" "site +playbooks +1\.0\.0 +- +2\.0\.0 \(rolled back\)"
	keys imp q
	expect imp "rollback restores the previous playbooks live" "HIGH Site conveyor jam v1 \(1\)"
	expect_not imp "the app did not restart or quit" "EXIT="
	if grep -q '"event":"import".*"version":"2.0.0".*"result":"ok"' "$XDG_DATA_HOME/triage/audit.log" &&
	    grep -q '"result":"refused".*bad signature' "$XDG_DATA_HOME/triage/audit.log" &&
	    grep -q '"event":"rollback".*"result":"ok"' "$XDG_DATA_HOME/triage/audit.log"; then ok; else
		bad "the audit log records the screen's import, refusal and rollback" "$(cat "$XDG_DATA_HOME/triage/audit.log")"; fi
	quit imp

	# --- model bundles: switch, rollback, start-up fallback, an answer stopped first ---
	MODEL=$SHARED/models/stories260K.gguf
	if [ -r "$MODEL" ] && [ -x "$GEN" ]; then
		mkdir -p "$T/mstick"
		for v in 1.0.0 1.1.0; do
			mkbundle --name tiny-model --version $v --model "$MODEL" --license MIT \
				--provenance "llama2.c stories260K"
		done
		cp "$T"/dist/tiny-model-* "$T/mstick/"
		start mod 120x30 "$T/jam.log"
		expect mod "no model at first" "no model: cards only"
		keys mod ":import $T/mstick" Enter
		expect mod "both versions are listed" "tiny-model-1\.1\.0\.tbundle +verified"
		expect mod "a model bundle says what it holds" "model +model/stories260K\.gguf, licence MIT"
		keys mod Enter
		expect mod "the model bundle is imported" "imported tiny-model 1\.0\.0"
		expect mod "the new model is opened at once" "model .* from tiny-model 1\.0\.0" 10
		keys mod Down Enter
		expect mod "the next version is imported" "imported tiny-model 1\.0\.0 → 1\.1\.0"
		expect mod "the model in use switches to it" "from tiny-model 1\.1\.0" 10
		keys mod G r y
		expect mod "rollback of the model bundle" "rolled back tiny-model 1\.1\.0 → 1\.0\.0"
		expect mod "the model in use follows the rollback" "from tiny-model 1\.0\.0" 10
		keys mod q a "What happened?" Enter
		expect mod "the switched model answers" "tokens in [0-9]+ ms" 15
		quit mod

		# the active model is damaged on disk: the app falls back by itself
		"$TRIAGE" bundle remove --yes tiny-model >/dev/null
		"$TRIAGE" bundle import "$T/dist/tiny-model-1.0.0.tbundle" >/dev/null
		"$TRIAGE" bundle import "$T/dist/tiny-model-1.1.0.tbundle" >/dev/null
		active=$XDG_DATA_HOME/triage/bundles/versions/tiny-model/1.1.0/model/stories260K.gguf
		chmod u+w "$active" && truncate -s 1000 "$active"
		start fb 120x30 "$T/jam.log"
		keys fb a "What happened?" Enter
		expect fb "a broken installed model falls back to last-known-good" "fallback: tiny-model 1\.1\.0 did not load" 10
		expect fb "the fallback model answers" "tokens in [0-9]+ ms" 15
		expect fb "the status names the fallback version" "from tiny-model 1\.0\.0"
		quit fb
		"$TRIAGE" bundle remove --yes tiny-model >/dev/null

		# an answer is stopped before its model is closed
		"$GEN" --type Q8_0 --n-embd 768 --n-ff 2048 --n-layer 6 --n-head 12 --n-head-kv 4 \
			--n-ctx 2048 --vocab-from "$MODEL" --seed 1 -o "$T/slow2k.gguf" 2>/dev/null
		mkdir -p "$T/sstick"
		for v in 1.0.0 1.1.0; do
			mkbundle --name slow-model --version $v --model "$T/slow2k.gguf" --license MIT \
				--provenance "synthetic, tool-gguf-gen"
		done
		cp "$T"/dist/slow-model-1.1.0.* "$T/sstick/"
		"$TRIAGE" bundle import "$T/dist/slow-model-1.0.0.tbundle" >/dev/null
		start slowsw 120x30 "$T/jam.log"
		keys slowsw a "why" Enter
		expect slowsw "the installed model answers" "answering, [0-9]+ tokens" 10
		keys slowsw ":import $T/sstick" Enter
		expect slowsw "the new model bundle is listed" "slow-model-1\.1\.0\.tbundle +verified"
		keys slowsw Enter
		expect slowsw "the import goes on while the model answers" "imported slow-model 1\.0\.0 → 1\.1\.0" 15
		expect slowsw "the new model is in use" "from slow-model 1\.1\.0" 15
		keys slowsw q
		expect slowsw "the answer was stopped first, not cut off" "stopped *$" 5
		keys slowsw q
		expect slowsw "then q quits" "EXIT=0"
		stop slowsw

		# a model given with --model stays when bundles change
		start pin 120x30 --model "$MODEL" "$T/jam.log"
		keys pin ":import $T/mstick/tiny-model-1.1.0.tbundle" Enter
		expect pin "the bundle is listed" "tiny-model-1\.1\.0\.tbundle +verified"
		keys pin Enter
		expect pin "the bundle is imported" "imported tiny-model 1\.1\.0"
		expect pin "the given model stays" "model: .*stories260K\.gguf \(given; bundles do not change it\)"
		keys pin q
		quit pin
	else
		bad "the tiny model or the generator is missing" "$MODEL $GEN"
	fi
else
	bad "gpg cannot make a key: the import screen is not tested"
fi

# === the app in real use (issue 13) ===
# Esc closes an open card, from the detail pane or the card list
start esc 120x30 "$SAMPLE"
expect esc "started" "CRIT Disk full"
keys esc Tab Enter
expect esc "the card is open" "Evidence \(Enter shows"
keys esc Escape
expect_gone esc "Esc closes the card" "Evidence \(Enter shows"
keys esc Enter
expect esc "the card opens again" "Evidence \(Enter shows"
keys esc Tab Escape
expect_gone esc "Esc from the log pane closes it too" "Evidence \(Enter shows"
quit esc

# CRLF text pasted: one line per line, whether the terminal sends CR LF or CR CR
head -200 "$SHARED/samples/loghub/OpenSSH_2k.log" >"$T/crlf.txt"
start crlf 120x30
expect crlf "empty session" "No log open"
"${TM[@]}" load-buffer -b crlf "$T/crlf.txt"
"${TM[@]}" paste-buffer -p -b crlf -t crlf
expect crlf "CR CR (tmux turns LF into CR): 200 lines, not 400" "pasted 200 lines"
expect crlf "200 lines in the view" " 200/200"
"${TM[@]}" paste-buffer -p -r -b crlf -t crlf
expect crlf "CR LF: 200 lines" " 400/400"
# a CR ends one paste and the LF starts the next
printf 'Dec 10 07:00:00 h app[1]: half one\r' >"$T/c1.txt"
printf '\nDec 10 07:00:01 h app[1]: half two\r\n' >"$T/c2.txt"
"${TM[@]}" load-buffer -b c1 "$T/c1.txt"; "${TM[@]}" load-buffer -b c2 "$T/c2.txt"
"${TM[@]}" paste-buffer -p -r -b c1 -t crlf
expect crlf "first chunk" " 401/401"
"${TM[@]}" paste-buffer -p -r -b c2 -t crlf
expect crlf "the LF of a split CR LF adds no blank line" " 402/402"
if [ "$(cat "$T"/sess-crlf/*/pasted.log | grep -c '^$')" = 0 ]; then ok; else bad "no blank lines kept" "$(cat "$T"/sess-crlf/*/pasted.log | grep -c '^$')"; fi
# a key typed between two pastes: the LF starting the second is a line
printf 'Dec 10 07:00:02 h app[1]: abc\r' >"$T/c3.txt"
printf '\nDec 10 07:00:03 h app[1]: xyz\r\n' >"$T/c4.txt"
"${TM[@]}" load-buffer -b c3 "$T/c3.txt"; "${TM[@]}" load-buffer -b c4 "$T/c4.txt"
"${TM[@]}" paste-buffer -p -r -b c3 -t crlf
expect crlf "third chunk" " 403/403"
keys crlf k
"${TM[@]}" paste-buffer -p -r -b c4 -t crlf
expect crlf "a key between pastes: the LF after it is kept" " 405/405"
quit crlf
# --- layout at 80x24 and 160x45 ---------------------------------------------------
mkdir -p "$T/wrapdata/triage/playbooks" "$T/a-directory-with-a-rather-long-name-for-the-title-bar"
LONGLOG=$T/a-directory-with-a-rather-long-name-for-the-title-bar/hmi-panel-station-4.log
cat >"$T/wrapdata/triage/playbooks/site-wrap-check.json" <<'EOF2'
{
  "format": 1, "id": "site-wrap-check", "version": 1,
  "title": "Conveyor belt controller lost its configuration after a power dip and restarted",
  "class": "industrial-bus", "severity": "critical", "tags": ["conveyor"], "sources": ["any"],
  "match": { "patterns": [ { "name": "jam", "regex": "conveyor (?<belt>[A-Z][0-9]+) lost config" } ] },
  "explanation": "The rsyslog logfile could not be written because PANIC mode cannot happen twice; the controller reported that its flashstore is corrupted and every writer fails the same way until someone reloads Averyveryveryveryveryveryveryveryveryveryveryveryverylongidentifier again.",
  "causes": ["A power dip"],
  "checks": [ { "do": "Look at the belt", "command": "grep -n conveyor {{file}}", "expect": "The line" } ],
  "fix": ["Reload the configuration"], "verify": ["No new lines for 10 minutes"],
  "escalate": { "when": "It happens again", "attach": ["{{file}}"] },
  "references": ["site manual"],
  "examples": {
    "match": ["Mar 14 08:00:00 plc1 conveyor[7]: conveyor B2 lost config",
      "Mar 14 08:01:00 plc1 conveyor[7]: conveyor A1 lost config",
      "Mar 14 08:02:00 plc2 conveyor[9]: conveyor C3 lost config"],
    "no_match": ["Mar 14 08:03:00 plc1 conveyor[7]: conveyor B2 running",
      "Mar 14 08:04:00 plc1 conveyor[7]: conveyor B2 restarted",
      "Mar 14 08:05:00 plc1 conveyor[7]: config loaded"] }
}
EOF2
printf 'Mar 14 08:00:00 plc1 conveyor[7]: conveyor B2 lost config\n' >"$LONGLOG"
for size in 80x24 160x45; do
	n=lay${size%x*}
	ENVV="XDG_DATA_HOME=$T/wrapdata" start "$n" "$size" -f "$LONGLOG"
	expect "$n" "$size: started" "CRIT "
	# the title bar: names cut with an ellipsis, the help hint whole
	if [ "$size" = 80x24 ]; then
		if wait_for "$n" "^ triage - .*… +F1/\? help  q quit *$" && ! screen "$n" | head -1 | grep -q "(followF1"; then ok; else
			bad "$size: the title bar truncates before the help hint" "$(screen "$n" | head -1)"; fi
	fi
	# the card list: severity, count and class visible; long titles end in …
	# the card list's columns (screen-layout.c: 45% below 140 columns,
	# else right of the log's 58%)
	cols=${size%x*}
	if [ "$cols" -ge 140 ]; then cx=$((cols * 58 / 100 + 1)) cw=$((cols - cols * 58 / 100 - 1)); else cx=0 cw=$((cols * 45 / 100)); fi
	rows=$(screen "$n" | CX=$cx CW=$cw perl -CSD -ne 'print substr($_, $ENV{CX}, $ENV{CW}), "\n"' |
		grep -E "^ (CRIT|HIGH|MED |LOW |INFO) " | sed 's/^ //')
	if echo "$rows" | grep -q "CRIT Conveyor b" &&
	    ! echo "$rows" | grep -vqE '^(CRIT|HIGH|MED |LOW |INFO) .*\([0-9]+\) [a-z-]+ *$'; then ok; else
		bad "$size: every card shows severity, count and class" "$rows"; fi
	if [ "$size" = 80x24 ]; then
		if echo "$rows" | grep -qE "^CRIT Conveyor b.*… \(1\) industrial-bus$"; then ok; else
			bad "$size: a long title ends in an ellipsis" "$rows"; fi
	fi
	# opening a card shows its top: title, severity, count
	keys "$n" Tab Enter
	expect "$n" "$size: the card opens at its title" "seen 1 time"
	expect "$n" "$size: the severity line is shown" "critical +industrial-bus"
	# card text wraps at spaces: every word whole, the long one cut
	keys "$n" z
	expect "$n" "$size: zoomed detail" "What it is"
	missing=
	for wd in rsyslog logfile written because PANIC cannot happen twice controller reported flashstore corrupted writer someone reloads; do
		screen "$n" | grep -qw -- "$wd" || missing="$missing $wd"
	done
	if [ -z "$missing" ]; then ok; else bad "$size: words are not cut in the middle:$missing" "$(screen "$n")"; fi
	if screen "$n" | grep -q "Averyvery"; then ok; else bad "$size: a word longer than the line is still shown" "$(screen "$n")"; fi
	if screen "$n" | grep -A3 "What it is" | sed -n '3,$p' | grep -qE '^   [^ ]'; then ok; else
		bad "$size: continuation lines start at the indent, not with a space" "$(screen "$n" | grep -A4 "What it is" | cat -A)"; fi
	quit "$n"
done
# --- sessions: absolute paths, several kept, never degraded, retention ------------
# a relative path resumes from another directory
start rel 100x30 share/samples/field-laptop.log
expect rel "opened by a relative path" "1/116"
keys rel ":note first session" Enter
quit rel
SESS=rel CWDV=/tmp start relres 100x30 --resume
expect relres "--resume from /tmp reopens the log" "1/116"
expect_not relres "no error about the file" "No such file"
quit relres
if grep -q "\"$PWD/share/samples/field-laptop.log\"" "$T"/sess-rel/*/session.json; then ok; else
	bad "the session keeps the absolute path" "$(cat "$T"/sess-rel/*/session.json)"; fi
# a file that is gone keeps its entry, marked missing, and comes back
cp "$SAMPLE" "$T/gone.log"
start gone 100x30 "$T/gone.log"
expect gone "opened" "1/116"
quit gone
mv "$T/gone.log" "$T/gone.log.away"
SESS=gone start gone2 100x30 --resume
expect gone2 "a missing file is reported" "missing, kept in the session: gone.log"
quit gone2
if grep -q "gone.log" "$T"/sess-gone/*/session.json && grep -q '"missing": true' "$T"/sess-gone/*/session.json; then ok; else
	bad "the saved session still lists the missing file" "$(cat "$T"/sess-gone/*/session.json)"; fi
mv "$T/gone.log.away" "$T/gone.log"
SESS=gone start gone3 100x30 --resume
expect gone3 "when it is back, --resume opens it again" "1/116"
quit gone3
# a plain start keeps the earlier session; --resume opens the last one
printf 'Mar 14 09:00:00 h app[1]: second log\n' >"$T/second.log"
SESS=rel start rel2 100x30 "$T/second.log"
expect rel2 "a second session" "second log"
quit rel2
"$TRIAGE" --session "$T/sess-rel" --resume=list >"$T/list.out" 2>&1
if [ "$(grep -c '^20' "$T/list.out")" = 2 ] && head -1 "$T/list.out" | grep -q "second.log.*--resume opens this one" &&
    grep -q "field-laptop.log.*1 note" "$T/list.out"; then ok; else
	bad "--resume=list lists both sessions, the last first" "$(cat "$T/list.out")"; fi
first=$(grep "field-laptop" "$T/list.out" | awk '{print $1}')
SESS=rel start rel3 100x30 --resume
expect rel3 "--resume opens the last session" "second log"
keys rel3 ":sessions" Enter
expect rel3 ":sessions lists the kept sessions" "$first"
keys rel3 q ":sessions $first" Enter
expect rel3 ":sessions ID opens that session" "1/116"
quit rel3
SESS=rel start rel4 100x30 "--resume=$first"
expect rel4 "--resume=ID opens a chosen session" "1/116"
keys rel4 ":export $T/rel4.md" Enter
expect rel4 "exported" "exported the report"
quit rel4
if grep -q "first session" "$T/rel4.md"; then ok; else bad "the first session kept its note" "$(cat "$T/rel4.md")"; fi
"$TRIAGE" --session "$T/sess-rel" --resume=../etc >"$T/bad.out" 2>&1
if [ $? -ne 0 ] && grep -q "not a session id" "$T/bad.out"; then ok; else bad "--resume=ID refuses a path" "$(cat "$T/bad.out")"; fi
# retention: sessions older than the setting go at start; 0 keeps none
mkdir -p "$T/rconf/triage"
printf 'retention = 1d\n' >"$T/rconf/triage/config"
for f in "$T"/sess-rel/*/session.json; do touch -d '3 days ago' "$f"; done
SESS=rel ENVV="XDG_CONFIG_HOME=$T/rconf" start ret 100x30 "$T/second.log"
expect ret "started" "second log"
quit ret
if [ "$(ls "$T/sess-rel" | wc -l)" = 1 ]; then ok; else bad "retention = 1d removed the old sessions" "$(ls -l "$T/sess-rel")"; fi
printf 'retention = 0\n' >"$T/rconf/triage/config"
SESS=rel ENVV="XDG_CONFIG_HOME=$T/rconf" start ret0 100x30 "$T/second.log"
expect ret0 "started" "second log"
quit ret0
if [ "$(ls "$T/sess-rel" | wc -l)" = 0 ]; then ok; else bad "retention = 0 keeps nothing after exit" "$(ls -l "$T/sess-rel")"; fi
# --- the log view marks what the cards are built from ---------------------------------
start ev 120x30 "$SAMPLE"
expect ev "started" "CRIT Disk full"
# e from line 1 stops at every error, the cards' evidence included
seen=
for i in $(seq 1 40); do
	keys ev e; sleep 0.15
	pos=$(screen ev | grep -oE '^ *[0-9]+/116' | tr -d ' ' | cut -d/ -f1)
	seen="$seen $pos"
done
case " $seen " in *" 22 "*) ok ;; *) bad "e stops at 'NIC Link is Down' (line 22, a HIGH card's evidence)" "$seen" ;; esac
case " $seen " in *" 63 "*) ok ;; *) bad "e stops at 'Out of memory: Killed process' (line 63, a CRIT card's evidence)" "$seen" ;; esac
keys ev g w
if wait_for ev '^ *([2-9]|[1-9][0-9]+)/116'; then ok; else bad "w finds a warning (a MEDIUM or LOW card's evidence)" "$(screen ev | tail -2)"; fi
keys ev ":63" Enter
if wait_sgr ev "Mar 14 08:14:21 line3-hmi kernel: Out of memory" 31 || wait_sgr ev "Mar 14 08:14:21 line3-hmi kernel: Out of memory" 1; then ok; else
	bad "the OOM line is marked as an error" "$(sgr ev "Mar 14 08:14:21 line3-hmi kernel: Out of memory")"; fi
quit ev
# --- follow: a last line without a newline is provisional ------------------------------
printf 'Mar 14 09:00:00 h app[1]: first\nMar 14 09:00:01 h kernel: Out of memory: Killed process 1201 (hmi-panel)' >"$T/half.log"
start half 120x30 -f "$T/half.log"
expect half "the unfinished last line is shown" "Killed process 1201 \(hmi-panel\) *$|Killed process 1201 \(hmi-panel\) "
expect half "two lines" " 2/2"
expect_not half "an unfinished line is not matched yet" "CRIT Out of memory"
printf ' total-vm:1kB\n' >>"$T/half.log"
expect half "the line is re-read when it grows" "\(hmi-panel\) total-vm:1kB"
expect half "the view says the new text continued the last line" "line 2 had no newline"
expect half "still two lines" " 2/2"
expect half "matched once it is complete" "CRIT Out of memory.*\(1\)"
printf 'Mar 14 09:00:02 h kernel: Out of memory: Killed process 1202 (x)\n' >>"$T/half.log"
expect half "the next line follows" " 3/3"
expect half "counted once each: 2, not 3" "CRIT Out of memory.*\(2\)"
quit half
# --- smaller things ----------------------------------------------------------------
start small 120x30 "$SAMPLE"
expect small "started" "CRIT Disk full"
# :import on something that is not a bundle says so
keys small ":import $SAMPLE" Enter
expect small ":import of a non-bundle says why" "field-laptop.log: not a bundle"
keys small q
echo "not really a bundle" >"$T/lonely.tbundle"
keys small ":import $T/lonely.tbundle" Enter
expect small ":import of a bundle without its .sig says so" "no signature"
keys small q
# a failed search does not stay in the header
keys small / "zzznowhere" Enter
expect small "the search fails" "zzznowhere: not found"
expect_not small "the failed pattern is not in the log header" " /zzznowhere"
# a :goto message goes with the next move
keys small ":20" Enter
expect small ":goto says where" "field-laptop.log line 20"
keys small j
expect_gone small "the next move clears it (not the 6 s timeout)" "field-laptop.log line 20" 1
if [ -f "$SHARED/models/stories260K.gguf" ]; then
	keys small ":model $SHARED/models/stories260K.gguf" Enter
	expect small "a model chosen with :model" "model loaded" 10
fi
quit small
if [ -f "$(echo "$T"/sess-small/*/session.json)" ] && ! grep -q zzznowhere "$T"/sess-small/*/session.json; then ok; else
	bad "a failed search is not saved" "$(cat "$T"/sess-small/*/session.json)"; fi
if [ -f "$SHARED/models/stories260K.gguf" ]; then
	SESS=small start small2 120x30 --resume
	expect small2 "resumed" "CRIT Disk full"
	keys small2 ":model" Enter
	expect small2 "--resume restores the model chosen with :model" "model: .*stories260K\.gguf"
	quit small2
fi
# a binary file is opened with a warning, as analyze gives
printf 'Mar 14 08:00:00 h app[1]: start\n\000\001\002 binary\n' >"$T/bin.log"
start bin 120x30 "$T/bin.log"
expect bin "a binary file is flagged" "bin.log: contains NUL bytes"
quit bin
# pasted text is named as such, on screen and in reports
start pnamed 120x30
expect pnamed "empty" "No log open"
printf 'Mar 14 10:00:00 h kernel: I/O error, dev sda, sector 7\n' >"$T/one.txt"
"${TM[@]}" load-buffer -b one "$T/one.txt"
"${TM[@]}" paste-buffer -p -b one -t pnamed
expect pnamed "pasted" "pasted 1 line"
expect pnamed "the title says pasted text" "triage - pasted text"
keys pnamed ":export $T/pasted.md" Enter
expect pnamed "exported" "exported the report"
quit pnamed
if grep -q "pasted text" "$T/pasted.md" && ! grep -q "pasted\.log" "$T/pasted.md"; then ok; else
	bad "the report names pasted text, not the spool file" "$(grep -n "pasted" "$T/pasted.md")"; fi
# === end issue 13 ===

# under SANITIZE=1 a report lands in the session's stderr.log, not on screen
if grep -l "Sanitizer\|runtime error" "$T"/sess-*/*/stderr.log 2>/dev/null; then
	bad "sanitizer reports in stderr.log" "$(cat "$T"/sess-*/*/stderr.log | head -30)"; else ok; fi

# --- focus, the open card, CRIT and HIGH, keys of another pane ----------------
start focus 160x45 "$SAMPLE"
expect focus "the focused pane's header has a marker" "▶Log"
keys focus Tab
expect focus "Tab moves the marker to the cards" "▶Cards:"
expect_not focus "only the focused pane has it" "▶Log"
keys focus Enter
expect focus "the open card is marked in the list" "●CRIT "
if "${TM[@]}" capture-pane -e -p -t focus | grep -a "▶" | grep -q $'\e\\[[0-9;]*42m'; then ok; else
	bad "the focused header has its own colour" "$("${TM[@]}" capture-pane -e -p -t focus | grep -a "▶" | cat -v)"; fi
crit=$("${TM[@]}" capture-pane -e -p -t focus | grep -a -m1 "CRIT " | grep -ao $'\e\\[[0-9;]*m' | tr -d '\n')
high=$("${TM[@]}" capture-pane -e -p -t focus | grep -a -m1 "HIGH " | grep -ao $'\e\\[[0-9;]*m' | tr -d '\n')
if [ -n "$crit" ] && [ -n "$high" ] && [ "$crit" != "$high" ]; then ok; else
	bad "CRIT and HIGH cards do not share one colour" "crit=$(echo "$crit" | cat -v) high=$(echo "$high" | cat -v)"; fi
# a log key from the cards pane acts on the log; a card key in the log says where
keys focus g e
expect focus "e from the cards pane moves the log to an error" "^ *([2-9]|[1-9][0-9]+)/116"
keys focus Tab Tab x
expect focus "x in the log says where it works" "x \(on a check: tick it off, or untick\) works in the card pane"
quit focus
# --- y: copy a line (OSC 52 into tmux's buffer, and a plain view) -------------
"${TM[@]}" set -g set-clipboard on
start yank 160x45 "$SAMPLE"
expect yank "sample open" "1/116"
keys yank y
expect yank "y says what it copied" "log line copied to the clipboard \(OSC 52\)"
expect yank "the line is shown alone for the mouse" "^ ?Mar 14 08:12:00 line3-hmi sshd\[14937\]: Accepted publickey"
if [ "$("${TM[@]}" show-buffer 2>/dev/null)" = "$(sed -n 1p "$SAMPLE")" ]; then ok; else
	bad "OSC 52 carries the line (tmux buffer)" "$("${TM[@]}" show-buffer 2>&1 | head -3)"; fi
keys yank q
expect yank "q closes the view" "▶Log"
# a check's command from an open card
keys yank Tab Enter Down Down Down Down
expect yank "a check selected" "\[ \] 1\. "
keys yank y
expect yank "y on a check copies its command" "command copied"
if "${TM[@]}" show-buffer | grep -Eqv '^(\$ |\[)' && [ -n "$("${TM[@]}" show-buffer)" ]; then ok; else
	bad "the command alone is copied" "$("${TM[@]}" show-buffer 2>&1 | head -3)"; fi
keys yank q
quit yank
# clipboard = off: shown, not sent
mkdir -p "$T/cfg-off/triage"; echo "clipboard = off" >"$T/cfg-off/triage/config"
"${TM[@]}" set-buffer "untouched"
ENVV="XDG_CONFIG_HOME=$T/cfg-off" start yankoff 120x30 "$SAMPLE"
expect yankoff "sample open" "1/116"
keys yankoff y
expect yankoff "clipboard = off: shown only" "shown for copying \(clipboard = off\)"
if [ "$("${TM[@]}" show-buffer)" = untouched ]; then ok; else bad "clipboard = off sends nothing"; fi
keys yankoff q
quit yankoff
# --- what lnav and less users reach for ----------------------------------------
start lnav 160x45 "$SAMPLE"
expect lnav "sample open" "1/116"
# search hit count
keys lnav / "NIC Link is Down" Enter
expect lnav "a search says which hit of how many" "hit 1/[0-9]+"
total=$(grep -c "NIC Link is Down" "$SAMPLE")
keys lnav n
expect lnav "n: the next hit, counted" "hit 2/$total"
# L: level filter
keys lnav L
expect lnav "L: warnings and errors only" "\[warnings\+\]"
expect_not lnav "no info line left" "Accepted publickey"
keys lnav L
expect lnav "L again: errors only" "\[errors\]"
keys lnav L
expect lnav "L a third time: all lines" "^ *[0-9]+/116"
# :goto a time
keys lnav ":goto 08:13:50" Enter
expect lnav ":goto a time" "first line at or after [0-9-]+T08:13:50"
# evidence lines are marked in the gutter; c opens their card
keys lnav g / "Out of memory: Killed process" Enter
expect lnav "the OOM line found" "hit 1/"
if screen lnav | grep -q "^•.*Out of memory: Killed process"; then ok; else
	bad "card evidence is marked in the gutter" "$(screen lnav | grep -n "Out of memory")"; fi
keys lnav c
expect lnav "c opens the card of the line" "●(CRIT|HIGH) "
expect lnav "the card is the OOM one" "[Oo]ut of memory|OOM|oom"
keys lnav Tab g c
expect lnav "c on a line of no card says so" "not evidence of a card"
quit lnav
# --- every line of a card is marked, and c opens its card (not only examples) --
# 30 OOM-killer lines (a CRIT card keeps 5 as examples: the first 4 and the
# newest), 8 MEDIUM link-down lines, one line two cards claim.
{
	echo "Mar 14 08:00:00 h app[1]: start"
	for i in $(seq 1 30); do
		s=$(printf %02d "$i")
		echo "Mar 14 08:00:$s h app[1]: tick $i"
		echo "Mar 14 08:00:$s h kernel: [  100.000000] Out of memory: Killed process 10$s (java) total-vm:100kB"
	done
	for i in $(seq 1 8); do echo "Mar 14 08:01:0$i h router: interface,info ether$i link down"; done
	echo "Mar 14 08:02:00 h kernel: Kernel panic - not syncing: Out of memory: Killed process 999 (init) total-vm:1kB"
	echo "Mar 14 08:02:01 h app[1]: end"
} >"$T/gut.log"
# mark_colour NAME TEXT SGR: the gutter mark of the line with TEXT is
# drawn in colour SGR (31 red, 33 yellow)
mark_colour() {
	local l p
	l=$("${TM[@]}" capture-pane -e -p -t "$1" | grep -a -m1 -- "$2") || return 1
	case $l in *•*) ;; *) return 1 ;; esac
	p=${l%%•*}
	case $p in *$'\e['*"$3m"*) return 0 ;; esac
	return 1
}
start gut 160x45 "$T/gut.log"
expect gut "log open" "1/71"
keys gut / "process 1025 " Enter
expect gut "the 25th OOM line found" "^ *51/71"
if screen gut | grep -q "^•.*Killed process 1025 "; then ok; else
	bad "a card line that is no kept example is marked in the gutter" "$(screen gut | grep -n "process 102")"; fi
if mark_colour gut "process 1025 " 31; then ok; else
	bad "the mark has the CRIT card's colour (red)" "$("${TM[@]}" capture-pane -e -p -t gut | grep -a "process 1025 " | cat -v)"; fi
keys gut c
expect gut "c on the 25th line opens its card" "●CRIT .*(OOM|[Oo]ut of memory)"
expect_not gut "a line of one card names no count" "belongs to [0-9]+ cards"
# a MEDIUM card's line that is no kept example: yellow mark, and w finds it
keys gut Tab g / "ether5 " Enter
expect gut "ether5 found" "^ *66/71"
keys gut w
expect gut "w stops on the next line of a MEDIUM card" "^ *67/71"
if mark_colour gut "ether6 link" 33; then ok; else
	bad "the mark has the MEDIUM card's colour (yellow)" "$("${TM[@]}" capture-pane -e -p -t gut | grep -a "ether6 link" | cat -v)"; fi
keys gut W
expect gut "W goes back to it" "^ *66/71"
keys gut e
expect gut "e from there: the next line of a CRIT card" "^ *70/71"
# a line two cards claim
keys gut c
expect gut "c on a line of two cards says so" "line belongs to 2 cards"
expect gut "and opens one of them" "●CRIT "
# a line of no card
keys gut Tab g c
expect gut "c on a line of no card says so" "not evidence of a card"
quit gut
# lines that arrive in follow mode, and pasted ones, are marked too
printf 'Mar 14 09:00:00 h app[1]: first\n' >"$T/gutf.log"
start gutf 160x45 -f "$T/gutf.log"
expect gutf "following" "app\[1\]: first"
for i in $(seq 1 9); do echo "Mar 14 09:00:0$i h kernel: Out of memory: Killed process 200$i (java) total-vm:1kB"; echo "Mar 14 09:00:0$i h app[1]: tock $i"; done >>"$T/gutf.log"
expect gutf "appended lines shown" "tock 9"
if wait_for gutf "^•.*Killed process 2007 "; then ok; else
	bad "an appended card line (no kept example) is marked" "$(screen gutf | grep -n "process 200")"; fi
keys gutf k k k k k c
expect gutf "c on it opens its card" "●CRIT "
quit gutf
start gutp 160x45
expect gutp "empty" "No log open"
for i in $(seq 1 9); do echo "Mar 14 10:00:0$i h kernel: Out of memory: Killed process 300$i (java) total-vm:1kB"; echo "Mar 14 10:00:0$i h app[1]: tock $i"; done >"$T/gutp.txt"
"${TM[@]}" load-buffer -b gutp "$T/gutp.txt"
"${TM[@]}" paste-buffer -p -b gutp -t gutp
expect gutp "pasted" "pasted 18 lines"
if wait_for gutp "^•.*Killed process 3007 "; then ok; else
	bad "a pasted card line (no kept example) is marked" "$(screen gutp | grep -n "process 300")"; fi
quit gutp
# --- several files: full names, hide and show one; the timeline strip ----------
mkdir -p "$T/a-rather-long-directory-name-for-the-files-view"
OTHER=$T/a-rather-long-directory-name-for-the-files-view/other-station.log
for i in 1 2 3; do echo "Mar 14 08:1$i:30 station2 app[7]: ERROR conveyor $i jammed"; done >"$OTHER"
start multi 160x45 "$SAMPLE" "$OTHER"
expect multi "both files open" "1/119"
keys multi ":files" Enter
expect multi ":files lists full names" "a-rather-long-directory-name-for-the-files-view/other-station.log  \(3 lines\)"
expect multi ":files says shown" " 2  shown "
# the first line is the other file's (08:11:30)
keys multi q g H
expect multi "H hides the file of the line" "other-station.log hidden \(:show 2 brings it back\)"
expect multi "only the sample's lines are left" " 1/116"
keys multi H
expect multi "H will not hide the last shown file" "this is the only one shown"
keys multi ":files" Enter
expect multi ":files says hidden" " 2  hidden "
keys multi q ":show" Enter
expect multi ":show brings them back" "1/119"
# S: errors over time, one line under the log
keys multi S
expect multi "S turns the timeline strip on" "timeline strip on"
expect multi "the strip is drawn" "█"
keys multi S
expect_gone multi "S turns it off" "█"
quit multi
echo "screen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
