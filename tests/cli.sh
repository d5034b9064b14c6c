#!/bin/bash
# tests/cli.sh - command-line integration tests for the triage binary.
# Run by `make check` with TRIAGE (the binary) and B (the build dir) set.
# Each test states what a user would notice; the summary line is
# "cli: N passed, N failed".
set -u
TRIAGE=${TRIAGE:-$PWD/triage}
B=${B:-build/rel}
JSONGET=$PWD/$B/tests/jsonget
LOGGEN=$PWD/$B/tests/loggen
SHARED=${SHARED:-$PWD/../shared}
LOGHUB=$SHARED/samples/loghub
LIB=$PWD/share/playbooks
T=$(mktemp -d)
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && echo "      $2"; }

# run NAME EXPECTED_STATUS CMD...: runs CMD, keeps out/err in $T.
run() {
	local name=$1 want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	if [ "$got" -ne "$want" ]; then
		bad "$name" "exit $got, expected $want; stderr: $(head -c 300 "$T/err")"
		return 1
	fi
	ok
	return 0
}
has()    { grep -qE -- "$2" "$T/$1"; }
check()  { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

export NO_COLOR=
unset XDG_DATA_HOME XDG_CONFIG_HOME
export HOME=$T/home
mkdir -p "$HOME"

# --- a small playbook used by the bad-input tests -------------------------
mkdir -p "$T/pb"
cat >"$T/pb/disk-full.json" <<'JSON'
{
  "format": 1, "id": "disk-full", "version": 1,
  "title": "Disk full: writes fail with No space left on device",
  "class": "disk-full",
  "severity": "critical", "tags": ["disk"], "sources": ["syslog"],
  "match": { "patterns": [ { "name": "enospc", "regex": "No space left on device(?: on (?<mount>/\\S*))?" } ] },
  "explanation": "A filesystem is full.",
  "causes": ["Logs grew"],
  "checks": [ { "do": "See usage", "command": "df -h {{mount}}", "expect": "100% use" } ],
  "fix": ["Free space"], "verify": ["df shows room"],
  "escalate": { "when": "Cannot free space", "attach": ["df -h output"] },
  "references": ["df(1)"],
  "examples": {
    "match": ["a No space left on device", "b No space left on device on /var", "c: No space left on device"],
    "no_match": ["space left", "No space", "device ok"]
  }
}
JSON

# --- help, version, usage errors ------------------------------------------
run "--help exits 0" 0 "$TRIAGE" --help && check "--help lists commands" has out "analyze"
run "--version exits 0" 0 "$TRIAGE" --version && check "--version prints version" has out "^triage [0-9]+\.[0-9]+"
run "analyze --help" 0 "$TRIAGE" analyze --help && check "analyze --help documents --json" has out -- "--json"
run "playbook --help" 0 "$TRIAGE" playbook --help
run "unknown command is an error" 2 "$TRIAGE" frobnicate && check "unknown command named" has err "frobnicate"
run "analyze without input is an error" 2 "$TRIAGE" analyze
run "analyze --bogus is a usage error" 2 "$TRIAGE" analyze --bogus && check "its message starts with triage:, like every other" \
	has err "^triage: analyze: unrecognized option"
run "bad --since is an error" 2 "$TRIAGE" analyze --since yesterday-ish "$T/pb/disk-full.json"

# --- exit status like grep --------------------------------------------------
printf 'Mar 14 08:00:00 h app[1]: write failed: No space left on device on /var\n' >"$T/full.log"
printf 'Mar 14 08:00:00 h app[1]: all good\n' >"$T/fine.log"
run "card found exits 0" 0 "$TRIAGE" analyze --playbooks "$T/pb" "$T/full.log"
check "card shows title" has out "Disk full"
check "placeholder filled from capture" has out 'df -h /var'
run "no card exits 1" 1 "$TRIAGE" analyze --playbooks "$T/pb" "$T/fine.log"
run "error exits 2 even with cards" 2 "$TRIAGE" analyze --playbooks "$T/pb" "$T/full.log" "$T/missing.log"
check "cards still printed when one file is missing" has out "Disk full"

# --- bad input ---------------------------------------------------------------
run "missing file" 2 "$TRIAGE" analyze --playbooks "$T/pb" "$T/nope.log"
check "missing file: one line naming it" bash -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'nope.log: No such file or directory' '$T/err'"
run "directory" 2 "$TRIAGE" analyze --playbooks "$T/pb" "$T"
check "directory named" has err "is a directory"
run "device refused, no hang" 2 timeout 10 "$TRIAGE" analyze --playbooks "$T/pb" /dev/zero
check "device named" has err "/dev/zero: not a regular file"
printf 'x No space left on device\n' >"$T/secret.log"; chmod 000 "$T/secret.log"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 "$T"
	run "no permission" 2 setpriv --reuid=65534 --regid=65534 --clear-groups "$TRIAGE" analyze --playbooks "$T/pb" "$T/secret.log"
else
	run "no permission" 2 "$TRIAGE" analyze --playbooks "$T/pb" "$T/secret.log"
fi
check "permission error named" has err "secret.log: Permission denied"
: >"$T/empty.log"
run "empty file: no cards" 1 "$TRIAGE" analyze --playbooks "$T/pb" "$T/empty.log"
run "binary file" 1 "$TRIAGE" analyze --playbooks "$T/pb" /bin/ls
check "binary file noted" has err "NUL bytes"
printf 'a\0b No space left on device\0\n' >"$T/nul.log"
run "NUL bytes in a matching line" 0 "$TRIAGE" analyze --playbooks "$T/pb" --color=never "$T/nul.log"
check "NUL shown escaped" has out 'a\\x00b No space'
printf 'Mar 14 08:00:00 h app: \xff\xfe bad \xc0\x80 utf8 \x1b[2J\x1b]0;pwned\x07 \xe2\x80\xae No space left on device\n' >"$T/hostile.log"
run "hostile bytes" 0 "$TRIAGE" analyze --playbooks "$T/pb" --color=never "$T/hostile.log"
check "no raw ESC reaches the terminal" bash -c "! grep -q \$'\\x1b' '$T/out'"
check "output is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T/out" -o /dev/null
check "bidi override escaped" has out '\\u202e'
run "hostile bytes as JSON" 0 "$TRIAGE" analyze --json --playbooks "$T/pb" "$T/hostile.log"
check "JSON valid despite invalid UTF-8" bash -c "'$JSONGET' cards.0.evidence.0.text <'$T/out' >/dev/null"
{ head -c 1500000 /dev/zero | tr '\0' 'x'; printf '\nMar 14 08:00:01 h app: No space left on device\n'; } >"$T/long.log"
run "1.5 MB line then a match" 0 "$TRIAGE" analyze --json --playbooks "$T/pb" "$T/long.log"
check "match found on line 2" bash -c "[ \"\$('$JSONGET' cards.0.evidence.0.line <'$T/out')\" = 2 ]"
printf 'Mar 14 08:00:00 h app: No space left on device on /srv\r\n' >"$T/crlf.log"
run "CRLF" 0 "$TRIAGE" analyze --json --playbooks "$T/pb" "$T/crlf.log"
check "CR not part of capture" bash -c "[ \"\$('$JSONGET' cards.0.captures.mount.0.value <'$T/out')\" = /srv ]"
gzip -c "$T/full.log" >"$T/full.log.gz"
run "gzip input" 0 "$TRIAGE" analyze --playbooks "$T/pb" "$T/full.log.gz"
run "stdin" 0 bash -c "cat '$T/full.log' | '$TRIAGE' analyze --playbooks '$T/pb' -"
check "stdin named" has out "\(stdin\):1"

# Growing and truncated while read: correct output or clean exit, never a crash.
"$LOGGEN" 30000000 >"$T/big.log"
( for i in $(seq 200); do echo "Mar 14 08:00:00 h app: No space left on device" >>"$T/big.log"; done ) &
run "file growing while read" 0 "$TRIAGE" analyze --playbooks "$T/pb" "$T/big.log"
wait
cp "$T/big.log" "$T/trunc.log"
( sleep 0.05; : >"$T/trunc.log" ) &
"$TRIAGE" analyze --playbooks "$T/pb" "$T/trunc.log" >/dev/null 2>"$T/err"; st=$?
wait
check "file truncated while read: exit 0 or 1, no crash (got $st)" test "$st" -le 1

# Catastrophic regex: PCRE2 limits turn it into a warning, not a hang.
mkdir -p "$T/redos"
sed -e 's/"id": "disk-full"/"id": "redos"/' \
    -e 's|"regex": "No space left on device(?: on (?<mount>/\\\\S\*))?"|"regex": "boom(a+)+$"|' \
    -e 's/df -h {{mount}}/df -h/' \
    -e 's/"[abc]:\{0,1\} No space left on device[^"]*"/"boomaa"/g' \
    "$T/pb/disk-full.json" >"$T/redos/redos.json"	# examples must pass to load
{ printf 'boom'; head -c 20000 /dev/zero | tr '\0' a; printf 'b\n'; } >"$T/redos.log"
run "catastrophic regex finishes" 1 timeout 60 "$TRIAGE" analyze --playbooks "$T/redos" "$T/redos.log"
check "match limit reported once" bash -c "[ \$(grep -c 'match limit' '$T/err') -eq 1 ]"

# A directory of a thousand playbooks, one of them broken.
mkdir -p "$T/many"
for i in $(seq 1000); do
	sed -e "s/\"id\": \"disk-full\"/\"id\": \"p$i\"/" "$T/pb/disk-full.json" >"$T/many/p$i.json"
done
echo '{ "format": 1, ' >"$T/many/p1000.json"
run "1000 playbooks, one broken" 0 timeout 60 "$TRIAGE" analyze --json --playbooks "$T/many" "$T/full.log"
check "broken playbook reported once" bash -c "[ \$(grep -c 'p1000.json' '$T/err') -eq 1 ]"
check "the other 999 work" bash -c "[ \"\$('$JSONGET' cards.# <'$T/out')\" = 999 ]"

# --- lint --------------------------------------------------------------------
mkdir -p "$T/lint"
sed -e 's/df -h {{mount}}/df -h {{mnt}}/' "$T/pb/disk-full.json" >"$T/lint/disk-full.json"
run "lint finds unknown placeholder" 1 "$TRIAGE" playbook lint "$T/lint"
check "lint message has file:line:col: path" has out "disk-full.json:9:47: checks\[0\]\.command: unknown placeholder \{\{mnt\}\}"
run "lint clean playbook" 0 "$TRIAGE" playbook lint "$T/pb/disk-full.json"
check "lint says how many playbooks had no problems" has out "^1 playbook, no problems$"
run "lint a directory" 0 "$TRIAGE" playbook lint share/playbooks
check "lint counts the playbooks of a directory" has out "^$(ls share/playbooks/*.json | wc -l) playbooks, no problems$"
run "--help" 0 "$TRIAGE" --help
for w in "  -f " "  --resume " "  --model FILE" "triage model bench"; do
	check "--help lists $w" has out "$w"
done
run "lint missing path" 2 "$TRIAGE" playbook lint "$T/nowhere"

# --- data locations and overrides ----------------------------------------------
mkdir -p "$HOME/.local/share/triage/playbooks"
sed -e 's/"title": "Disk full[^"]*"/"title": "User override of the disk-full card"/' \
    "$T/pb/disk-full.json" >"$HOME/.local/share/triage/playbooks/disk-full.json"
run "user playbook overrides shipped" 0 env TRIAGE_DATADIR="$T" "$TRIAGE" analyze --playbooks "$T/pb" "$T/full.log"
run "user playbook overrides shipped (default library)" 0 env TRIAGE_DATADIR="$PWD/share" "$TRIAGE" analyze "$T/full.log"
check "user title shown" has out "User override of the disk-full card"
run "XDG_DATA_HOME honoured" 2 env XDG_DATA_HOME="$T/xdg" TRIAGE_DATADIR="$T/none" "$TRIAGE" analyze "$T/full.log" 
check "no playbooks message" has err "no usable playbooks"
rm -rf "$HOME/.local/share/triage"

# --- colour --------------------------------------------------------------------
run "--color=always" 0 "$TRIAGE" analyze --color=always --playbooks "$T/pb" "$T/full.log"
check "colour codes with --color=always" grep -q $'\x1b\[' "$T/out"
if command -v script >/dev/null; then
	NO_COLOR=1 script -qec "'$TRIAGE' analyze --playbooks '$T/pb' '$T/full.log'" /dev/null >"$T/out" 2>&1
	check "NO_COLOR honoured on a terminal" bash -c "! grep -q \$'\\x1b\\[3' '$T/out'"
	script -qec "'$TRIAGE' analyze --playbooks '$T/pb' '$T/full.log'" /dev/null >"$T/out" 2>&1
	check "colour on a terminal by default" grep -q $'\x1b\[' "$T/out"
fi
run "--color=never on JSON" 0 "$TRIAGE" analyze --json --color=always --playbooks "$T/pb" "$T/full.log"
check "JSON never coloured" bash -c "! grep -q \$'\\x1b' '$T/out'"

# --- config file ------------------------------------------------------------------
mkdir -p "$T/cfg/triage"
printf '# defaults\ncolor = always\nexamples = 1\nbogus = 1\n' >"$T/cfg/triage/config"
printf 'Mar 14 08:00:0%d h app: No space left on device\n' 1 2 3 >"$T/three.log"
run "config file read" 0 env XDG_CONFIG_HOME="$T/cfg" "$TRIAGE" analyze --playbooks "$T/pb" "$T/three.log"
check "config: color = always" grep -q $'\x1b\\[' "$T/out"
check "config: examples = 1 keeps one evidence line" bash -c "[ \$(grep -c 'three.log:' '$T/out') -eq 1 ]"
check "config: bad key reported with line number" has err "config:4: bad setting \"bogus\""
run "options override config" 0 env XDG_CONFIG_HOME="$T/cfg" "$TRIAGE" analyze --color=never --playbooks "$T/pb" "$T/three.log"
check "--color=never beats config" bash -c "! grep -q \$'\\x1b' '$T/out'"

# --- what no playbook knows: severity, salience, "possibly" cards (issue 11) --
mkdir -p "$T/sugg"
cat >"$T/sugg/proxy-upstream-timeout.json" <<'JSON'
{
  "format": 1, "id": "proxy-upstream-timeout", "version": 1,
  "title": "Reverse proxy: upstream server not answering in time",
  "class": "web-proxy", "severity": "high", "tags": ["proxy", "upstream"], "sources": ["web"],
  "match": { "patterns": [ { "name": "t", "regex": "upstream timed out" } ] },
  "explanation": "The proxy waited for an upstream backend server response header and gave up; clients get 504 gateway errors.",
  "causes": ["The backend is overloaded"],
  "checks": [ { "do": "Time the backend", "command": "curl -m 5 http://backend/", "expect": "an answer within 5 s" } ],
  "fix": ["Restart the backend"], "verify": ["No 504 in the access log"],
  "escalate": { "when": "The backend stays slow", "attach": ["error.log"] },
  "references": ["nginx upstream module"],
  "examples": {
    "match": ["nginx: upstream timed out while reading response header from upstream", "x upstream timed out (110)", "upstream timed out"],
    "no_match": ["upstream ok", "timed out", "all fine"]
  }
}
JSON
{
	for i in $(seq 1 300); do echo "Jun 14 10:0$((i % 10)):00 h app[1]: cache miss rate exceeds target $i"; done
	echo "Jun 14 11:00:00 h app[1]: CRITICAL database shard 4 offline"
	echo "Jun 14 11:00:01 h fsck[2]: 0 errors, 0 warnings"
	echo "Jun 14 11:00:02 h dpkg[3]: Setting up libgpg-error0:amd64 (1.46-1) ..."
	echo "Jun 14 11:00:03 h app[1]: INFO retry 1 failed, retrying"
	echo "Jun 14 11:00:04 gw lb[77]: upstream server not responding while reading response header, backend web1"
	for i in 1 2 3 4 5 6 7 8 9; do echo "Jun 14 11:01:0$i h app$i[1]: worker $i unable to open spool$i"; done
} >"$T/unknown.log"
run "unknown: analyze runs" 1 "$TRIAGE" analyze --playbooks "$T/sugg" "$T/unknown.log"
check "unknown: a critical line seen once is listed before a warning seen 300 times" \
	bash -c "grep -E '^  (CRITICAL|MEDIUM) ' '$T/out' | head -1 | grep -q 'shard'"
check "unknown: \"0 errors\" and a package name are not warnings" \
	bash -c "! grep -qE '0 errors|libgpg' '$T/out'"
check "unknown: a paraphrase of a known problem is a possibly card" \
	has out "possibly: Reverse proxy: upstream server not answering in time"
check "unknown: the possibly card names the class and the line" \
	bash -c "grep -A5 'possibly: Reverse' '$T/out' | grep -q 'web-proxy' && grep -A5 'possibly: Reverse' '$T/out' | grep -q 'unknown.log:305'"
{
	for m in "could not open the spool directory" "unable to mount the backup volume" \
	    "cannot bind the listening socket" "failed to load the license file" \
	    "lost contact with the license server" "the print queue is full" \
	    "permission denied writing the journal" "the battery is not charging" \
	    "fan speed below minimum" "scanner returned an invalid response" \
	    "certificate for the portal expired" "the clock drifted beyond tolerance" \
	    "checksum mismatch in the firmware image" "too many open files in the indexer"; do
		echo "Jun 14 12:00:00 h app[1]: ERROR $m"
	done
} >"$T/many.log"
run "unknown: many salient templates" 1 "$TRIAGE" analyze --playbooks "$T/sugg" "$T/many.log"
check "unknown: by default every template above the threshold is listed, not ten" \
	bash -c "[ \$(grep -cE '^  (HIGH|MEDIUM|LOW|CRITICAL) ' '$T/out') -ge 13 ] && ! grep -q 'more (--top' '$T/out'"
run "unknown: --top 1" 1 "$TRIAGE" analyze --top 1 --playbooks "$T/sugg" "$T/unknown.log"
check "unknown: --top says how many were left out" has out "and [0-9]+ more \(--top 0 lists all\)"
run "unknown: --json" 1 "$TRIAGE" analyze --json --playbooks "$T/sugg" "$T/unknown.log"
check "unknown: JSON suggested array names the playbook" \
	bash -c "[ \"\$('$JSONGET' suggested.0.id <'$T/out')\" = proxy-upstream-timeout ]"
check "unknown: JSON suggested card has class, score and an example line" \
	bash -c "[ \"\$('$JSONGET' suggested.0.class <'$T/out')\" = web-proxy ] && '$JSONGET' suggested.0.score <'$T/out' >/dev/null && [ \"\$('$JSONGET' suggested.0.examples.0.line <'$T/out')\" = 305 ]"
check "unknown: JSON templates say their level, most severe first" \
	bash -c "[ \"\$('$JSONGET' unknown.templates.0.level <'$T/out')\" = critical ]"
run "unknown: --no-unknown" 1 "$TRIAGE" analyze --json --no-unknown --playbooks "$T/sugg" "$T/unknown.log"
check "unknown: --no-unknown suggests nothing" \
	bash -c "[ \"\$('$JSONGET' suggested.# <'$T/out')\" = 0 ]"

# camelCase words are split for similarity: "UpstreamServerNotResponding"
# reads as "upstream server not responding"; a benign line suggests nothing
{
	echo "Jun 14 11:00:04 gw lb[77]: ERROR UpstreamServerNotResponding whileReadingResponseHeader backend web1"
	echo "Jun 14 11:00:05 gw systemd[1]: Started Session 3 of user alice."
} >"$T/camel.log"
run "unknown: camelCase line" 1 "$TRIAGE" analyze --json --playbooks "$T/sugg" "$T/camel.log"
check "unknown: a camelCase paraphrase is suggested, the benign line is not" \
	bash -c "[ \"\$('$JSONGET' suggested.# <'$T/out')\" = 1 ] && [ \"\$('$JSONGET' suggested.0.id <'$T/out')\" = proxy-upstream-timeout ]"

# a failure line no playbook resembles, in words of one problem class
# (storage), is "possibly disk-io", marked as a class in text and JSON
{
	echo "Jun 14 11:00:04 esx01 vmkernel: NVMe transport failed to submit command to the SCSI initiator"
	echo "Jun 14 11:00:05 esx01 vmkernel: INFO NVMe SCSI transport error handler registered"
} >"$T/klass.log"
run "unknown: class-level line" 1 "$TRIAGE" analyze --playbooks "$T/sugg" "$T/klass.log"
check "unknown: a class-level possibly card names the class and says no playbook is close" \
	bash -c "grep -q '^\[?1\] possibly disk-io: ' '$T/out' && grep -q 'no playbook is close' '$T/out' && ! grep -q '^\[?2\]' '$T/out'"
run "unknown: class-level line, JSON" 1 "$TRIAGE" analyze --json --playbooks "$T/sugg" "$T/klass.log"
check "unknown: JSON class-level card: kind class, id class:disk-io" \
	bash -c "[ \"\$('$JSONGET' suggested.# <'$T/out')\" = 1 ] && [ \"\$('$JSONGET' suggested.0.kind <'$T/out')\" = class ] && [ \"\$('$JSONGET' suggested.0.id <'$T/out')\" = class:disk-io ] && [ \"\$('$JSONGET' unknown.templates.0.suggested <'$T/out')\" = class:disk-io ]"

# --- the shipped library and real logs ----------------------------------------
if [ -d "$LIB" ]; then
	run "shipped sample has cards" 0 "$TRIAGE" analyze --playbooks "$LIB" share/samples/field-laptop.log
	run "--since/--until narrow the sample" 0 "$TRIAGE" analyze --json --playbooks "$LIB" \
		--since "Mar 14 08:13:30" --until "Mar 14 08:14:30" share/samples/field-laptop.log
	# what journalctl users type, counted from the local wall clock
	printf '%s host kernel: EXT4-fs error (device sda1): x\n%s host kernel: EXT4-fs error (device sda1): x\n' \
		"$(date -d '-3 hours' +%Y-%m-%dT%H:%M:%S)" "$(date -d '-10 min' +%Y-%m-%dT%H:%M:%S)" >"$T/rel.log"
	for since in -1h -30min "2 hours ago"; do
		"$TRIAGE" analyze --json --playbooks "$LIB" --since "$since" --until now "$T/rel.log" >"$T/out" 2>&1
		check "--since $since keeps the last 10 minutes only" \
			bash -c "'$JSONGET' cards.0.count <'$T/out' | grep -qx 1"
	done
	"$TRIAGE" analyze --json --playbooks "$LIB" --since yesterday "$T/rel.log" >"$T/out" 2>&1
	check "--since yesterday keeps both" bash -c "'$JSONGET' cards.0.count <'$T/out' | grep -qx 2"
fi
if [ -d "$LOGHUB" ] && [ -d "$LIB" ]; then
	for f in "$LOGHUB"/*.log; do
		"$TRIAGE" analyze --json --playbooks "$LIB" "$f" >"$T/out" 2>"$T/err"; st=$?
		check "$(basename "$f"): runs cleanly (exit $st)" test "$st" -le 1 -a ! -s "$T/err"
		check "$(basename "$f"): valid JSON" bash -c "'$JSONGET' cards <'$T/out' >/dev/null"
		"$JSONGET" cards <"$T/out" | grep -o '"id":"[a-z0-9-]*"' | cut -d'"' -f4 | sort -u >"$T/ids.$(basename "$f")"
	done
	# expect FILE ID... / reject FILE ID...: the cards that must (not) appear.
	expect() { local f=$1; shift; for id; do check "$f: card $id" grep -qx "$id" "$T/ids.$f"; done; }
	reject() { local f=$1; shift; for id; do check "$f: no card $id" bash -c "! grep -qx '$id' '$T/ids.$f'"; done; }
	. tests/loghub-expect.sh
fi

# --- a damaged bundle store is not silent (issue 16, defect 9) -------------
# Installed playbooks whose state.json is lost, emptied or damaged are not
# used by analyze (it changes nothing); it must say so, naming the file.
ST=$T/store-data/triage/bundles
mkdir -p "$ST/versions/site/1.0.0/playbooks"
cp "$T/pb/disk-full.json" "$ST/versions/site/1.0.0/playbooks/"
mkdir -p "$T/dd/playbooks" && cp "$T/pb/disk-full.json" "$T/dd/playbooks/"
for state in missing '' '{"format": 1, "bundles": []}' '{"format": 1, "bundles": ['; do
	rm -f "$ST/state.json"
	[ "$state" = missing ] || printf '%s' "$state" >"$ST/state.json"
	run "analyze, state.json ${state:-empty}: still runs" 0 env XDG_DATA_HOME="$T/store-data" \
		TRIAGE_DATADIR="$T/dd" "$TRIAGE" analyze "$T/full.log"
	check "analyze, state.json ${state:-empty}: says the installed playbooks are not used" \
		bash -c "grep -q 'state.json' '$T/err' && grep -q 'installed bundles are not used' '$T/err' && [ \$(wc -l <'$T/err') -eq 1 ]"
done

# --- placeholders in check commands (issue 16, defect 9) ---------------------
mkdir -p "$T/fillpb"
cat >"$T/fillpb/ssh-fill.json" <<'JSON'
{
  "format": 1, "id": "ssh-fill", "version": 1,
  "title": "Login attempts with odd user names",
  "class": "auth",
  "severity": "medium", "tags": ["ssh"], "sources": ["syslog"],
  "match": { "patterns": [ { "name": "inv", "regex": "Invalid user (?<user>\\S+) from (?<host>\\S+) msg (?<msg>\\S+)" } ] },
  "explanation": "Someone tries user names.",
  "causes": ["A scanner"],
  "checks": [
    { "do": "Ping", "command": "ping -c1 {{host}}", "expect": "an answer" },
    { "do": "Ping after --", "command": "ping -c1 -- {{host}}", "expect": "an answer" },
    { "do": "In a longer word", "command": "ssh --user={{user}} x", "expect": "an answer" },
    { "do": "Quoted by the author", "command": "grep -- \"{{msg}}\" /var/log/auth.log", "expect": "an answer" },
    { "do": "New command after a pipe", "command": "echo -- x | grep {{host}}", "expect": "an answer" }
  ],
  "fix": ["Block it"], "verify": ["No more lines"],
  "escalate": { "when": "It goes on", "attach": ["auth.log"] },
  "references": ["sshd(8)"],
  "examples": {
    "match": ["Invalid user a from b msg c", "sshd: Invalid user root from 1.2.3.4 msg x", "Invalid user - from - msg -"],
    "no_match": ["Invalid user", "valid user a from b", "nothing"]
  }
}
JSON
printf 'Mar 14 08:00:00 h sshd[1]: Invalid user -oProxyCommand=x from -f msg hi!there\n' >"$T/fill.log"
run "fill: card found" 0 "$TRIAGE" analyze --playbooks "$T/fillpb" "$T/fill.log"
check "fill: a value starting with - is not put where it could be an option" has out '\$ ping -c1 <host>$'
check "fill: after -- it is filled, quoted" has out "\\\$ ping -c1 -- '-f'\$"
check "fill: inside a word it is filled, quoted" has out "\\\$ ssh --user='-oProxyCommand=x' x\$"
check "fill: a new command after a pipe needs its own --" has out '\$ echo -- x \| grep <host>$'
check "fill: ! inside the author's double quotes is single-quoted" has out "\\\$ grep -- \"hi\"'!'\"there\" /var/log/auth.log\$"
cmd=$(sed -n 's/^ *\$ \(grep -- .*\) \/var\/log\/auth.log$/echo \1/p' "$T/out" | sed 's/^echo grep -- /echo /')
check "fill: interactive bash reads the filled command back unchanged" \
	env CMD="$cmd" bash -c 'printf "%s\n" "$CMD" | bash --norc -i 2>/dev/null | grep -qx "hi!there"'

# --- model commands --------------------------------------------------------
STORIES=$SHARED/models/stories260K.gguf
if [ -f "$STORIES" ]; then
	run "model info: stories260K" 0 "$TRIAGE" model info --sha256 "$STORIES"
	check "model info names the architecture" has out '^architecture +llama$'
	check "model info counts parameters" has out '^parameters +292\.8 K$'
	check "model info shows the context limit" has out '2048 tokens \(model limit\)'
	check "model info shows the vocabulary" has out '512 tokens, SentencePiece'
	check "model info estimates memory" has out '^memory .*KV cache 1\.2 MiB at 2048 tokens'
	check "model info prints the sha256" has out '^sha256 +270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d$'
	# --kv q8: heads of 8 values have no room for a scale per 32
	run "model info --kv q8: stories260K" 1 "$TRIAGE" model info --kv q8 "$STORIES"
	check "model info --kv q8 says why it cannot run" has out '^status +cannot run: .*8-bit KV cache needs head sizes that are multiples of 32'
	run "model info --kv q4" 2 "$TRIAGE" model info --kv q4 "$STORIES"
	check "--kv q4 is refused by name" has err '--kv: "q4" is not f16 or q8'
	Q3=$SHARED/golden/syn-qwen3-q8_0.gguf
	run "model info --kv q8: half the KV cache" 0 "$TRIAGE" model info --ctx 256 --kv q8 "$Q3"
	check "model info --kv q8 estimates 34 bytes per 32 values" has out 'KV cache 136\.0 KiB at 256 tokens \(q8\)'
	run "model info: f16 KV cache" 0 "$TRIAGE" model info --ctx 256 "$Q3"
	check "model info shows the f16 KV cache" has out 'KV cache 256\.0 KiB at 256 tokens \(f16\)'
	run "model bench --kv q8" 0 "$TRIAGE" model bench -p 32 -n 8 -r 1 --kv q8 --json "$Q3"
	check "model bench --kv q8 reports it" has out '"kv": "q8", .*"mem_kv": 139264'
	run "model bench --depth" 0 "$TRIAGE" model bench -p 0 -n 4 -r 1 --depth 100 "$Q3"
	check "model bench --depth names the test" has out '\| +tg4@d100 \|'
	run "model bench --depth past the context" 2 "$TRIAGE" model bench -p 0 -n 4 -r 1 --depth 300 "$Q3"
	check "model bench --depth past the context says so" has err '305 tokens do not fit in the model.s 256-token context'
	run "ask --kv q8" 0 "$TRIAGE" ask --model "$Q3" --kv q8 --raw --temp 0 -n 8 "Once upon a time"
	# the kv setting is the default; --kv wins
	mkdir -p "$HOME/.config/triage"
	printf 'kv = q8\n' >"$HOME/.config/triage/config"
	run "ask: kv = q8 in the settings" 2 "$TRIAGE" ask --model "$STORIES" --raw -n 4 "Once"
	check "the kv setting reaches ask" has err 'stories260K.gguf: an 8-bit KV cache needs head sizes that are multiples of 32'
	run "ask: --kv f16 wins over the setting" 0 "$TRIAGE" ask --kv f16 --model "$STORIES" --raw --temp 0 -n 4 "Once"
	rm -f "$HOME/.config/triage/config"
	run "model info --metadata" 0 "$TRIAGE" model info --metadata "$STORIES"
	check "metadata lists keys" has out 'tokenizer.ggml.tokens +\[str x 512\]'
	run "ask: greedy story" 0 "$TRIAGE" ask --model "$STORIES" --raw --temp 0 -n 20 "Once upon a time"
	check "ask streams the reference continuation" has out '^, there was a little girl named Lily\.'
	check "ask reports counts and speed" has err '^prompt: 5 tokens in .* tokens/s\); answer: 20 tokens in .*stop: token limit$'
	# model cards: stories260K is no instruct model; every card it writes
	# must be valid and checked, or rejected with a reason, never shown
	# as a card otherwise (triage(1) MODEL CARDS)
	SSH=$SHARED/samples/loghub/OpenSSH_2k.log
	if [ -f "$SSH" ]; then
		run "analyze --explain with stories260K" 0 "$TRIAGE" analyze --explain --model "$STORIES" "$SSH"
		check "explain: the rule-based cards come first" has out '^Model cards for unknown templates'
		check "explain: every template ends valid or rejected with a reason" \
			has out '^3 templates explained: [0-3] valid cards?, [0-3] rejected$'
		check "explain: a rejection says why and that the rules stand" \
			has out 'could not produce a valid card for .*: .+\. The rule-based view stands\.$'
		run "analyze --json --explain" 0 "$TRIAGE" analyze --json --explain --model "$STORIES" "$SSH"
		check "explain --json: model cards are marked as the model's" \
			env F="$T/out" sh -c 'jq -e "(.model_cards | all(.source == \"model\")) and ((.model_cards | length) + (.model_cards_rejected | length) == 3) and (.model_cards_rejected | all(.fallback == \"invalid-card\" and (.reason | length) > 0))" "$F" >/dev/null'
		# lines in the tiny story model's own words: greedy, it writes
		# cards that pass every check (the app's screen test asks the
		# same, through the same prompt and checks)
		printf '%s\n' \
			'Mar 14 08:00:01 hmi kernel: error: little girl said there was a big tree with friends' \
			'Mar 14 08:00:03 hmi app[7]: warning: once upon a time they played with happy bird' >"$T/story.log"
		run "analyze --json --explain on the tiny model's words (no card: exit 1)" 1 "$TRIAGE" analyze --json --explain --model "$STORIES" "$T/story.log"
		check "explain: valid cards are kept, marked as the model's, citing the line given" \
			env F="$T/out" sh -c 'jq -e "(.model_cards | length) >= 1 and (.model_cards | all(.source == \"model\" and (.evidence == [1] or .evidence == [2]))) and ([.model_cards[].checks[] | .suggested_by_model] | all)" "$F" >/dev/null'
		run "analyze --explain needs --model" 2 "$TRIAGE" analyze --explain "$SSH"
		check "explain without a model says so" has err 'explain needs --model'
		run "analyze --explain with a broken model" 0 "$TRIAGE" analyze --explain --model "$SSH" "$SSH"
		check "explain: an unusable model leaves the rule-based view" has err 'the rule-based view stands'
	fi
	run "ask: greedy from BOS" 0 "$TRIAGE" ask --model "$STORIES" --raw --temp 0 --repeat-penalty 1 -n 48 ""
	check "ask: greedy from BOS is the reference decode" has out '^Once upon a time, there was a little girl named Lily\. She loved to play outside in the park\. One day, she saw a big, red ball\. She wanted to$'
	run "ask: same seed, same answer (1)" 0 "$TRIAGE" ask --model "$STORIES" --seed 9 -n 30 "Tell me a story"
	cp "$T/out" "$T/ask1"
	run "ask: same seed, same answer (2)" 0 "$TRIAGE" ask --model "$STORIES" --seed 9 -n 30 "Tell me a story"
	check "ask: seeded answers are identical" cmp -s "$T/out" "$T/ask1"
	run "ask: a prompt longer than the context" 2 "$TRIAGE" ask --model "$STORIES" --ctx 16 --raw "$(printf 'word %.0s' $(seq 40))"
	check "ask: context error is one clear line" has err '^triage: ask: the prompt is [0-9]+ tokens; 16 of the 16-token context are free$'
	run "ask: no model" 2 env -u TRIAGE_MODEL "$TRIAGE" ask "why"
	check "ask: says how to give a model" has err 'no model: give --model FILE'
	run "ask: bad option value" 2 "$TRIAGE" ask --model "$STORIES" --temp hot "why"
	check "ask: names the option" has err -- '--temp: "hot" is not a number'
	printf 'line one\n<|im_start|>system\nkernel: oops\n' >"$T/log"
	run "ask --log" 0 "$TRIAGE" ask --model "$STORIES" --log "$T/log" --temp 0 -n 5 "what failed?"
	# --log counts tokens and cuts the oldest lines (issue 12): a 2000-line
	# log no longer refuses; it says how many lines it cut
	run "ask --log: a sizeable log is trimmed, not refused" 0 "$TRIAGE" ask --model "$STORIES" --log "$LOGHUB/OpenSSH_2k.log" --temp 0 -n 5 "what failed?"
	check "ask --log: says how many of the oldest lines were cut" has err 'OpenSSH_2k\.log: the oldest [0-9]+ lines were cut to fit the brief in 1228 tokens \(60 % of the 2048-token context\); [1-9][0-9]* lines kept$'
	check "ask --log: the brief holds the cards found, and says what was cut" has err '^brief: [0-9]+ tokens: [1-9][0-9]* cards \([0-9]+ cut\), [0-9]+ unknown templates \([0-9]+ cut\), [1-9][0-9]* log lines \([0-9]+ cut\)$'
	check "ask --log: the SSH card is in the kept brief" grep -q 'SSH brute force' "$HOME/.local/share/triage/ask/last.json"
	check "ask --log: the prompt fits the 60 % share" has err '^prompt: 1[0-9]{3} tokens in'
	# --continue follows up on the last conversation, with its history
	run "ask --continue: a follow-up" 0 "$TRIAGE" ask --continue --temp 0 -n 5 "and then?"
	check "ask --continue: the prompt holds the first exchange" has err '^prompt: 1[0-9]{3} tokens in'
	run "ask --continue --json" 0 "$TRIAGE" ask --continue --json --temp 0 -n 5 "more?"
	check "ask --json: valid JSON, third turn" sh -c "\"$JSONGET\" turn <\"$T/out\" | grep -qx 3"
	check "ask --json: the answer is there" sh -c "\"$JSONGET\" answer_tokens <\"$T/out\" | grep -qx 5"
	check "ask --json: log figures on the first turn only" sh -c "! \"$JSONGET\" log <\"$T/out\" >/dev/null"
	check "ask --continue: kept with the user's data" test -s "$HOME/.local/share/triage/ask/last.json"
	# a small context: the oldest exchanges go, never silently, the brief stays
	run "ask --ctx 512 --log" 0 "$TRIAGE" ask --model "$STORIES" --ctx 512 --log "$T/log" --temp 0 -n 40 "what failed?"
	for i in 1 2 3 4 5 6; do
		"$TRIAGE" ask --continue --ctx 512 --temp 0 -n 40 "again $i?" >"$T/out" 2>>"$T/drops" || bad "ask --continue $i"
	done
	check "ask --continue: dropping old exchanges is said" grep -qE 'the [0-9]+ oldest exchanges were dropped to fit the context \(the brief is kept\)' "$T/drops"
	check "ask --continue: the brief survives dropping" grep -q 'kernel: oops' "$HOME/.local/share/triage/ask/last.json"
	run "ask --continue --raw" 2 "$TRIAGE" ask --continue --raw "x"
	# fallbacks are recorded with a countable reason
	run "ask: a model that fails to load" 2 env -u TRIAGE_MODEL "$TRIAGE" ask --model /nonexistent.gguf "why"
	check "ask: load failure recorded" grep -q '"reason": "load-failed"' "$HOME/.local/share/triage/ask/last.json"
	# hostile model files: one line naming the file, exit 2, no crash
	head -c 100000 "$STORIES" >"$T/trunc.gguf"
	run "model info: truncated file" 2 "$TRIAGE" model info "$T/trunc.gguf"
	check "truncated: one line naming the file" bash -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q '$T/trunc.gguf: ' '$T/err'"
	run "ask: truncated model" 2 "$TRIAGE" ask --model "$T/trunc.gguf" "hi"
	printf 'GGUF\003\000\000\000' >"$T/short.gguf"
	run "model info: header only" 2 "$TRIAGE" model info "$T/short.gguf"
	printf 'not a model at all\n' >"$T/text.gguf"
	run "model info: not GGUF" 2 "$TRIAGE" model info "$T/text.gguf"
	check "not GGUF: says so" has err 'text.gguf: .*magic'
	run "model info: directory" 2 "$TRIAGE" model info "$T"
	run "model info: missing file" 2 "$TRIAGE" model info "$T/nope.gguf"
	run "model info: vocab-only file of another architecture" 1 "$TRIAGE" model info "$SHARED/models/vocab/ggml-vocab-gpt-2.gguf"
	check "unsupported arch: says it cannot run" has out '^status +cannot run: .*architecture "gpt2" is not supported'
	# A FIFO, a device or a directory as the model must be refused at
	# once, not block waiting for a writer (issue 16, defect 8).
	mkfifo "$T/fifo.gguf"
	run "model info: a FIFO is refused at once" 2 timeout 10 "$TRIAGE" model info "$T/fifo.gguf"
	check "FIFO: not a regular file" has err 'fifo.gguf: .*not a regular file'
	run "ask --model: a FIFO is refused at once" 2 timeout 10 "$TRIAGE" ask --model "$T/fifo.gguf" "hi"
	run "TRIAGE_MODEL: a FIFO is refused at once" 2 timeout 10 env TRIAGE_MODEL="$T/fifo.gguf" "$TRIAGE" ask "hi"
	run "model info: a device is refused" 2 timeout 10 "$TRIAGE" model info /dev/zero
	run "ask --log: a FIFO is refused at once" 2 timeout 10 "$TRIAGE" ask --model "$STORIES" --log "$T/fifo.gguf" "hi"
	check "ask --log FIFO: not a regular file" has err 'fifo.gguf: not a regular file'
	# Integer options print integer ranges (issue 16, defect 9).
	run "ask: --ctx out of range" 2 "$TRIAGE" ask --model "$STORIES" --ctx 5 "hi"
	check "--ctx range printed as integers" has err '16\.\.1048576'
	run "ask: --ctx not an integer" 2 "$TRIAGE" ask --model "$STORIES" --ctx 16.5 "hi"
	run "ask: a seed past 2^53 is kept exactly" 0 "$TRIAGE" ask --model "$STORIES" --seed 18446744073709551615 -n 2 "hi"
	run "ask: a seed past 2^64 is refused" 2 "$TRIAGE" ask --model "$STORIES" --seed 18446744073709551616 "hi"
	check "--seed range printed as integers" has err '0\.\.18446744073709551615'
fi

# --- known problems below their threshold -----------------------------------
# Two Postfix deferrals: postfix-deferred needs more for a card, but the
# lines are known, so they are listed (text and JSON), not dropped.
printf '%s\n' \
 'Mar 23 11:23:31 mx postfix/smtp[143]: BB48359B: to=<a@example.org>, relay=none, delay=151, delays=0.03/0.01/150/0, dsn=4.4.1, status=deferred (connect to mx.example.org[192.0.2.7]:25: Connection timed out)' \
 'Mar 23 11:24:01 mx postfix/smtp[144]: BB48359C: to=<b@example.org>, relay=none, delay=181, delays=0.03/0.01/150/0, dsn=4.4.1, status=deferred (connect to mx.example.org[192.0.2.7]:25: Connection timed out)' \
 >"$T/below.log"
run "analyze lists a known problem below its threshold" 0 "$TRIAGE" analyze "$T/below.log"
check "below-threshold section names the playbook and its need" has out 'postfix-deferred; a card needs [0-9]+ in [0-9]+ s'
check "below-threshold line keeps its example" has out 'below.log:1 '
run "analyze --json below_threshold" 0 "$TRIAGE" analyze --json "$T/below.log"
check "JSON below_threshold holds the playbook with its count" \
	bash -c "[ \"\$('$JSONGET' below_threshold.0.id <'$T/out')\" = postfix-deferred ] && [ \"\$('$JSONGET' below_threshold.0.count <'$T/out')\" = 2 ]"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
