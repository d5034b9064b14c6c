#!/bin/bash
# tests/hostile.sh - nothing from a file reaches the terminal unescaped.
#
# Every command runs with a hostile value in each input it reads: file and
# directory names, log lines, playbook fields and file names, GGUF metadata
# and token texts, bundle manifest fields, key user ids, environment
# variables (TRIAGE_MODEL, XDG dirs, the config file).  The raw bytes of
# stdout and stderr must hold no ESC, BEL or other C0 control (but newline
# and tab), no C1 (U+0080-U+009F, or a raw 0x80-0x9F byte outside a UTF-8
# sequence), no bidi control (U+061C, U+200E/F, U+202A-202E, U+2066-2069)
# and no zero-width character (U+200B-200D, U+2060, U+FEFF).  --json output
# must also be valid JSON, and nothing may crash (or, on a SANITIZE=1
# build, report).  Run by `make hostile` with TRIAGE and B set; KEEP=1
# keeps the scratch directory.
# Summary line: "hostile: N passed, N failed".
set -u
TRIAGE=${TRIAGE:-$PWD/triage}
B=${B:-build/rel}
JSONGET=$PWD/$B/tests/jsonget
SHARED=${SHARED:-$PWD/../shared}
STORIES=$SHARED/models/stories260K.gguf
T=$(mktemp -d /tmp/hostile-sh-XXXXXX)
cleanup() {
	gpgconf --homedir "$T/signer" --kill all >/dev/null 2>&1
	gpgconf --homedir "$T/home/.local/share/triage/gnupg" --kill all >/dev/null 2>&1
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && echo "      $2"; }

export NO_COLOR= LC_ALL=C.UTF-8 TERM=xterm
unset XDG_DATA_HOME XDG_CONFIG_HOME TRIAGE_MODEL TRIAGE_FAULT TRIAGE_DATADIR
export HOME=$T/home
mkdir -p "$HOME"

# The hostile value: an OSC 52 clipboard write, BEL, a screen clear, C1 CSI
# as UTF-8 and as a raw byte, a bidi override and isolate, zero-width
# space, word joiner and BOM.  No '/' so that it can be a file name.
H=$'X\e]52;c;SGk=\a\e[2J\xc2\x9b31m\x9b\xe2\x80\xae\xe2\x81\xa6\xe2\x80\x8b\xe2\x81\xa0\xef\xbb\xbfZ'
# The same inside a JSON string (playbooks, configuration of the test).
HJ='X\u001b]52;c;SGk=\u0007\u001b[2J\u009b31m\u202e\u2066\u200b\u2060\ufeffZ'

# Reports the first unsafe code point in a file, or nothing.
leak() {
	perl -e '
		local $/; my $s = <STDIN>; my $off = 0;
		while ($s =~ /\G(?:([\x00-\x7f])|([\xc2-\xdf][\x80-\xbf])|([\xe0-\xef][\x80-\xbf]{2})|([\xf0-\xf4][\x80-\xbf]{3})|(.))/gs) {
			my $m = $&; my $cp;
			if (defined $5) { $cp = ord($5) >= 0x80 && ord($5) <= 0x9f ? ord($5) : -1; }
			else { utf8::decode(my $u = $m); $cp = ord($u); }
			if ($cp == 0x1b || $cp == 0x07 || ($cp >= 0 && $cp < 0x20 && $cp != 10 && $cp != 9) ||
			    $cp == 0x7f || ($cp >= 0x80 && $cp <= 0x9f) || $cp == 0x61c ||
			    ($cp >= 0x200b && $cp <= 0x200f) || ($cp >= 0x202a && $cp <= 0x202e) ||
			    ($cp >= 0x2066 && $cp <= 0x2069) || $cp == 0x2060 || $cp == 0xfeff) {
				my $ctx = substr($s, $off > 40 ? $off - 40 : 0, 60);
				$ctx =~ s/([^\x20-\x7e])/sprintf("\\x%02x", ord($1))/ge;
				printf "U+%04X at byte %d: ...%s\n", $cp, $off, $ctx; exit 0;
			}
			$off += length $m;
		}' <"$1"
}

# clean NAME CMD...: run CMD (no terminal, stdin empty); stdout and stderr
# must be free of unsafe code points.  Exit status is not judged here.
clean() {
	local name=$1; shift
	setsid -w timeout 20 "$@" >"$T/out" 2>"$T/err" </dev/null
	local rc=$? l
	if [ $rc -eq 124 ]; then
		bad "$name" "timed out"
		return 1
	fi
	if [ $rc -gt 128 ] || grep -qE 'Sanitizer|runtime error:' "$T/err"; then
		bad "$name" "crashed (exit $rc): $(grep -m1 -E 'Sanitizer|runtime error:' "$T/err")"
		return 1
	fi
	for f in out err; do
		l=$(leak "$T/$f")
		if [ -n "$l" ]; then
			bad "$name: std$f" "$l"
			return 1
		fi
	done
	ok
}
# The JSON on stdout of the last clean must parse.
json_ok() {
	if "$JSONGET" "${2:-format}" <"$T/out" >/dev/null 2>&1; then ok; else
		bad "$1: --json output is valid JSON" "$(head -c 200 "$T/out")"; fi
}
# A check of the last clean's output that must succeed.
says() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

# ---- playbooks and logs ---------------------------------------------------------------
PB=$T/pb$H
mkdir -p "$PB"
# Hostile text in every text field: lint refuses it, so the library skips
# it, but the output must be clean whichever way that goes.
cat >"$PB/evil-text.json" <<JSON
{
  "format": 1, "id": "evil-text", "version": 1,
  "title": "Evil text $HJ",
  "class": "disk-full", "severity": "critical", "tags": ["disk"], "sources": ["syslog"],
  "match": { "patterns": [ { "name": "enospc", "regex": "No space left on device(?: on (?<mount>\\\\S+))?" } ] },
  "explanation": "Full $HJ {{file}}",
  "causes": ["cause $HJ"],
  "checks": [ { "do": "look $HJ", "command": "df -h -- {{mount}} {{file}} \\"{{mount}}\\" $HJ", "expect": "room $HJ" } ],
  "fix": ["fix $HJ"], "verify": ["verify $HJ {{mount}}"],
  "escalate": { "when": "when $HJ", "attach": ["{{file}}", "attach $HJ"] },
  "references": ["ref $HJ"],
  "examples": { "match": ["a No space left on device", "b No space left on device", "c No space left on device"],
    "no_match": ["fine", "ok", "good"] }
}
JSON
# A valid playbook whose placeholders carry the hostile file name and
# captured value into the explanation, a check command and the attach list.
cat >"$PB/disk-full-h.json" <<JSON
{
  "format": 1, "id": "disk-full-h", "version": 1,
  "title": "Disk full on a volume",
  "class": "disk-full", "severity": "critical", "tags": ["disk"], "sources": ["syslog"],
  "match": { "patterns": [ { "name": "enospc", "regex": "No space left on device(?: on (?<mount>\\\\S+))?" } ] },
  "explanation": "A filesystem is full, see {{file}} and {{mount}}.",
  "causes": ["Logs grew in {{mount}}"],
  "checks": [ { "do": "See usage", "command": "df -h -- {{mount}} {{file}} \\"{{mount}}\\"", "expect": "100% use" } ],
  "fix": ["Free space"], "verify": ["df shows room"],
  "escalate": { "when": "Cannot free space", "attach": ["{{file}}", "df -h output"] },
  "references": ["df(1)"],
  "examples": { "match": ["a No space left on device", "b No space left on device on /var", "c No space left on device"],
    "no_match": ["space left", "No space", "device ok"] }
}
JSON
# A playbook that is not JSON, with hostile bytes where the parser quotes them.
printf '{ "format": 1, "id": %s }\n' "$H" >"$PB/broken$H.json"
LOG=$T/evil$H.log
{
	printf 'Mar 14 08:00:00 h app[1]: write failed: No space left on device on /v%s\n' "$H"
	printf 'Mar 14 08:00:01 h app[1]: error: widget %s failed\n' "$H"
	printf 'Mar 14 08:00:02 h app[1]: error: widget %s failed\n' "$H"
	printf 'Mar 14 08:00:03 h app[1]: \x00binary\xff\n'
} >"$LOG"
cp "$LOG" "$T/plain.log"

clean "analyze: hostile log name, lines and playbook" "$TRIAGE" analyze --playbooks "$PB" "$LOG"
says "analyze printed a card" grep -q 'Disk full' "$T/out"
clean "analyze --json" "$TRIAGE" analyze --json --playbooks "$PB" "$LOG"
json_ok "analyze --json"
says "analyze --json lists the file (invalid UTF-8 in its name)" \
	bash -c "[ \"\$('$JSONGET' files.0 <'$T/out')\" != '' ]"
says "analyze --json keeps the evidence of that file" \
	bash -c "'$JSONGET' cards.0.evidence.0.file <'$T/out' | grep -q 'evilX'"
# A name that is valid UTF-8: jansson would pass U+202E and U+009B as they are.
LOG2=$T/bidi$'\xe2\x80\xae\xc2\x9b\xe2\x80\x8b'.log
cp "$LOG" "$LOG2"
clean "analyze --json: valid UTF-8 hostile name" "$TRIAGE" analyze --json --playbooks "$PB" "$LOG2"
json_ok "analyze --json: valid UTF-8 hostile name"
says "analyze --json is ASCII only (other characters as \\u escapes)" \
	perl -ne 'exit 1 if /[^\x00-\x7f]/' "$T/out"
clean "analyze: a missing hostile file" "$TRIAGE" analyze --playbooks "$PB" "$T/missing$H.log"
clean "analyze: a hostile playbook directory that does not exist" "$TRIAGE" analyze --playbooks "$T/nope$H" "$LOG"
clean "analyze: hostile --since" "$TRIAGE" analyze --since "$H" "$LOG"
clean "analyze: hostile --color" "$TRIAGE" analyze --color "$H" "$LOG"
clean "analyze: hostile --examples" "$TRIAGE" analyze --examples "$H" "$LOG"
clean "analyze: a directory with a hostile name" "$TRIAGE" analyze --playbooks "$PB" "$PB"
clean "analyze from stdin" bash -c '"$1" analyze --playbooks "$2" - <"$3"' _ "$TRIAGE" "$PB" "$LOG"
clean "playbook lint" "$TRIAGE" playbook lint "$PB"
clean "playbook lint: hostile missing path" "$TRIAGE" playbook lint "$T/none$H.json"
clean "playbook list" "$TRIAGE" playbook list --playbooks "$PB"
clean "playbook list --patterns" "$TRIAGE" playbook list --patterns --playbooks "$PB"
clean "playbook list: hostile class" "$TRIAGE" playbook list --class "$H"
clean "unknown command" "$TRIAGE" "$H"
clean "playbook: unknown command" "$TRIAGE" playbook "$H"

# The user's own playbooks and the configuration, under hostile XDG dirs.
XD=$T/xdg-data$H XC=$T/xdg-config$H
mkdir -p "$XD/triage/playbooks" "$XC/triage"
cp "$PB"/*.json "$XD/triage/playbooks/"
printf 'color = %s\n%s = 3\nexamples\n' "$H" "$H" >"$XC/triage/config"
clean "analyze: user playbooks and config in hostile XDG dirs" \
	env XDG_DATA_HOME="$XD" XDG_CONFIG_HOME="$XC" "$TRIAGE" analyze "$LOG"
clean "playbook list: user playbooks in hostile XDG dir" \
	env XDG_DATA_HOME="$XD" XDG_CONFIG_HOME="$XC" "$TRIAGE" playbook list
clean "playbook classes" env XDG_DATA_HOME="$XD" "$TRIAGE" playbook classes
mkdir -p "$T/unreadable$H"
printf 'x\n' >"$T/unreadable$H/config"
chmod 000 "$T/unreadable$H/config"
clean "analyze: unreadable config in a hostile dir" \
	env XDG_CONFIG_HOME="$T/unreadable$H" "$TRIAGE" analyze "$LOG"
chmod 600 "$T/unreadable$H/config"
clean "analyze: hostile TRIAGE_DATADIR" env TRIAGE_DATADIR="$T/dd$H" "$TRIAGE" analyze "$LOG"
mkdir -p "$T/store$H/triage/bundles"
printf '{"format": 1, "bundles": %s' "$H" >"$T/store$H/triage/bundles/state.json"
clean "analyze: damaged state.json in a hostile data dir" \
	env XDG_DATA_HOME="$T/store$H" "$TRIAGE" analyze "$LOG"

# ---- models ---------------------------------------------------------------------------
cat >"$T/ggufset.pl" <<'PERL'
# ggufset IN OUT KEY=VALUE... : copy a GGUF file with string metadata set
# (added when absent); "tok:N=VALUE" replaces the text of token N.
use strict; use warnings;
my ($in, $out, @set) = @ARGV;
open(my $f, '<:raw', $in) or die "$in: $!"; local $/; my $d = <$f>; close $f;
my $p = 0;
sub take { my $n = shift; my $s = substr($d, $p, $n); $p += $n; $s }
sub u32 { unpack('V', take(4)) }
sub u64 { unpack('Q<', take(8)) }
sub str { my $n = u64(); take($n) }
my %sz = (0,1,1,1,2,2,3,2,4,4,5,4,6,4,7,1,10,8,11,8,12,8);
sub skipval { my $t = shift;
	if ($t == 8) { str() } elsif ($t == 9) { my $et = u32(); my $n = u64();
		if ($et == 8) { str() for 1..$n } else { take($sz{$et} * $n) } }
	else { take($sz{$t}) } }
die "not GGUF" unless take(4) eq 'GGUF';
my $ver = u32(); my $nt = u64(); my $nkv = u64();
my (@kv, %idx);
for (1..$nkv) { my $k = str(); my $t = u32(); my $s = $p; skipval($t);
	push @kv, [$k, $t, substr($d, $s, $p - $s)]; $idx{$k} = $#kv; }
my $ts = $p;
for (1..$nt) { str(); my $nd = u32(); take(8 * $nd + 4 + 8); }
my $tinfo = substr($d, $ts, $p - $ts);
my $al = 32;
my $data = substr($d, int(($p + $al - 1) / $al) * $al);
my $pstr = sub { pack('Q<', length $_[0]) . $_[0] };
for my $a (@set) { my ($k, $v) = split(/=/, $a, 2);
	if ($k =~ /^tok:(\d+)$/) { my $want = $1; my $r = $kv[$idx{'tokenizer.ggml.tokens'}];
		my $raw = $r->[2]; my ($et, $n) = unpack('VQ<', $raw); my $q = 12;
		my $o = substr($raw, 0, 12);
		for my $i (0..$n-1) { my $l = unpack('Q<', substr($raw, $q, 8));
			my $s = substr($raw, $q + 8, $l); $q += 8 + $l;
			$o .= $pstr->($i == $want ? $v : $s); }
		$r->[2] = $o; next; }
	if (exists $idx{$k}) { $kv[$idx{$k}] = [$k, 8, $pstr->($v)] }
	else { push @kv, [$k, 8, $pstr->($v)]; $idx{$k} = $#kv } }
my $o = 'GGUF' . pack('VQ<Q<', $ver, $nt, scalar @kv);
$o .= $pstr->($_->[0]) . pack('V', $_->[1]) . $_->[2] for @kv;
$o .= $tinfo; $o .= "\0" x ((-length $o) % $al); $o .= $data;
open(my $g, '>:raw', $out) or die "$out: $!"; print $g $o; close $g;
PERL
gguf() { perl "$T/ggufset.pl" "$STORIES" "$@" || bad "ggufset $*"; }

if [ -f "$STORIES" ]; then
	M=$T/model$H
	mkdir -p "$M"
	gguf "$M/arch.gguf" "general.architecture=$H"
	gguf "$M/name$H.gguf" "general.name=$H" "general.license=$H" "x.hostile$H=$H"
	gguf "$M/rope.gguf" "llama.rope.scaling.type=$H"
	gguf "$M/tokmodel.gguf" "tokenizer.ggml.model=$H"
	gguf "$M/pre.gguf" "tokenizer.ggml.pre=$H$H$H"
	gguf "$M/bytetok.gguf" "tok:3=$H"
	# every ordinary token of the story model made hostile: the answer is
	# made of them
	set --
	for i in $(seq 259 511); do set -- "$@" "tok:$i=$H$i"; done
	gguf "$M/answer.gguf" "$@"
	for f in "$M"/*.gguf; do
		b=${f##*/}
		clean "model info: ${b%%.gguf*}" "$TRIAGE" model info --metadata "$f"
		clean "ask --model: ${b%%.gguf*}" "$TRIAGE" ask --model "$f" --temp 0 -n 8 "hi"
		clean "ask with TRIAGE_MODEL: ${b%%.gguf*}" env TRIAGE_MODEL="$f" \
			"$TRIAGE" ask --raw --temp 0 -n 8 "Once upon a time"
	done
	says "model info names the hostile architecture escaped" bash -c \
		"'$TRIAGE' model info '$M/arch.gguf' 2>&1 | grep -q 'X\\\\x1b]52'"
	clean "model info: missing hostile file" "$TRIAGE" model info "$M/none$H.gguf"
	clean "model info --sha256" "$TRIAGE" model info --sha256 "$M/name$H.gguf"
	clean "ask --log: missing hostile file" "$TRIAGE" ask --model "$STORIES" --log "$T/none$H" "hi"
	clean "ask --log: hostile log" "$TRIAGE" ask --model "$STORIES" --log "$LOG" --temp 0 -n 8 "hi"
	clean "ask: hostile option value" "$TRIAGE" ask --model "$STORIES" --temp "$H" "hi"
	clean "model bench: hostile model" "$TRIAGE" model bench -p 8 -n 4 -r 1 "$M/arch.gguf"
	clean "model bench --json: hostile model name and metadata" "$TRIAGE" model bench --json \
		-p 8 -n 4 -r 1 --threads 1 "$M/name$H.gguf"
	json_ok "model bench --json" file
	clean "model: unknown command" "$TRIAGE" model "$H"
	mkfifo "$T/fifo$H.gguf"
	clean "model info on a FIFO" "$TRIAGE" model info "$T/fifo$H.gguf"
	clean "app: hostile model and log, no terminal" "$TRIAGE" --model "$M/arch.gguf" "$LOG"
else
	echo "hostile: $STORIES missing; model checks skipped"
fi
clean "app: missing hostile log, no terminal" "$TRIAGE" "$T/none$H.log"
mkdir -p "$T/sess$H"
printf '{"format": %s' "$H" >"$T/sess$H/session.json"
clean "app --resume: damaged session in a hostile directory" "$TRIAGE" --resume --session "$T/sess$H"
clean "app --resume: hostile session directory" env XDG_DATA_HOME="$T/sd$H" "$TRIAGE" --resume
clean "app: hostile option" "$TRIAGE" --model

# ---- keys and bundles -------------------------------------------------------------------
export GNUPGHOME=$T/signer
mkdir -m 700 "$GNUPGHOME"
if gpg --batch --quiet --passphrase '' --quick-gen-key "Evil $H <evil@example.com>" \
	ed25519 sign never >/dev/null 2>&1; then
	FPR=$(gpg --with-colons --list-keys evil@example.com 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
	gpg --export "$FPR" >"$T/key$H.pub"
	clean "keys add: hostile user id and file name" "$TRIAGE" keys add --yes "$T/key$H.pub"
	clean "keys list: hostile user id" "$TRIAGE" keys list
	clean "keys add: a hostile file that is not a key" "$TRIAGE" keys add --yes "$LOG"
	clean "keys add: missing hostile file" "$TRIAGE" keys add --yes "$T/none$H"
	clean "keys remove: hostile fingerprint" "$TRIAGE" keys remove --yes "$H"
	clean "keys: hostile option" "$TRIAGE" keys add "$H" "$H"
	mkdir -p "$T/bpb" "$T/dist"
	cp share/playbooks/disk-full-enospc.json "$T/bpb/"
	clean "bundle create: hostile changelog, licence, provenance" \
		"$TRIAGE" bundle create --key "$FPR" --name evil --version 1.0.0 \
		--playbooks "$T/bpb" --out "$T/dist" --changelog "$H" --license "$H" --provenance "$H"
	BN=$T/dist/evil-1.0.0.tbundle
	if [ -f "$BN" ]; then
		cp "$BN" "$T/dist/b$H.tbundle" && cp "$BN.sig" "$T/dist/b$H.tbundle.sig"
		clean "bundle info: hostile manifest and file name" "$TRIAGE" bundle info "$T/dist/b$H.tbundle"
		clean "bundle verify" "$TRIAGE" bundle verify "$T/dist/b$H.tbundle"
		clean "bundle import" "$TRIAGE" bundle import "$T/dist/b$H.tbundle"
		clean "bundle list" "$TRIAGE" bundle list
		clean "analyze with the installed bundle" "$TRIAGE" analyze "$LOG"
		clean "bundle rollback: hostile name" "$TRIAGE" bundle rollback "$H"
		clean "bundle remove: hostile name" "$TRIAGE" bundle remove --yes "$H"
	else
		bad "bundle create made no bundle" "$(head -c 300 "$T/err")"
	fi
	# By hand: hostile text in the manifest's free fields and in a file
	# name inside the archive, a playbook that does not lint.
	mkdir -p "$T/hm/playbooks"
	printf '{"format": 1, "id": "%s"}\n' "$HJ" >"$T/hm/playbooks/e$H.json"
	hs=$(sha256sum "$T/hm/playbooks/e$H.json" | cut -d' ' -f1)
	hz=$(stat -c %s "$T/hm/playbooks/e$H.json")
	cat >"$T/hm/manifest.json" <<EOM
{"format": 1, "name": "hm", "kind": "playbooks", "version": "1.0.0",
 "created": "2026-01-01T00:00:00Z", "min_triage": "0.1.0",
 "license": "L $HJ", "provenance": "P $HJ", "description": "D $HJ",
 "files": [{"path": "playbooks/e$H.json", "size": $hz, "sha256": "$hs"}],
 "changelog": ["C $HJ"]}
EOM
	tar --format=pax -cf "$T/dist/hm$H.tbundle" -C "$T/hm" manifest.json "playbooks/e$H.json"
	gpg --batch --yes -u "$FPR" --detach-sign -o "$T/dist/hm$H.tbundle.sig" "$T/dist/hm$H.tbundle" 2>/dev/null
	clean "bundle info: hand-made hostile manifest" "$TRIAGE" bundle info "$T/dist/hm$H.tbundle"
	clean "bundle verify: hand-made hostile manifest" "$TRIAGE" bundle verify "$T/dist/hm$H.tbundle"
	clean "bundle import: hand-made hostile manifest" "$TRIAGE" bundle import "$T/dist/hm$H.tbundle"
	sed -i 's/"L X[^"]*"/"plain"/; s/"P X[^"]*"/"plain"/; s/"D X[^"]*"/"plain"/; s/"C X[^"]*"/"plain"/' "$T/hm/manifest.json"
	tar --format=pax -cf "$T/dist/hm2$H.tbundle" -C "$T/hm" manifest.json "playbooks/e$H.json"
	gpg --batch --yes -u "$FPR" --detach-sign -o "$T/dist/hm2$H.tbundle.sig" "$T/dist/hm2$H.tbundle" 2>/dev/null
	clean "bundle import: hostile file name, playbook that does not lint" "$TRIAGE" bundle import "$T/dist/hm2$H.tbundle"
	clean "bundle create: hostile playbooks that do not lint" "$TRIAGE" bundle create --key "$FPR" \
		--name evil2 --version 1.0.0 --playbooks "$PB" --out "$T/dist"
	printf 'not a bundle\n' >"$T/dist/junk$H.tbundle"
	clean "bundle verify: junk with a hostile name" "$TRIAGE" bundle verify "$T/dist/junk$H.tbundle"
	clean "bundle info: missing hostile file" "$TRIAGE" bundle info "$T/dist/none$H.tbundle"
	clean "bundle scan: hostile directory" "$TRIAGE" bundle scan "$T/dist"
	clean "bundle: unknown command" "$TRIAGE" bundle "$H"
	gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1
else
	bad "gpg cannot make a key with a hostile user id"
fi

# ---- the environment ------------------------------------------------------------------------
mkdir -p "$T/home$H"
clean "HOME hostile: keys list" env HOME="$T/home$H" "$TRIAGE" keys list
clean "HOME hostile: bundle list" env HOME="$T/home$H" "$TRIAGE" bundle list
clean "HOME hostile: analyze" env HOME="$T/home$H" "$TRIAGE" analyze "$LOG"
printf 'x\n' >"$T/file$H"
clean "XDG_DATA_HOME under a file: bundle list" env XDG_DATA_HOME="$T/file$H/d" "$TRIAGE" bundle list
clean "XDG_DATA_HOME under a file: keys list" env XDG_DATA_HOME="$T/file$H/d" "$TRIAGE" keys list
clean "TRIAGE_MODEL: missing hostile path" env TRIAGE_MODEL="$T/none$H.gguf" "$TRIAGE" ask "hi"
clean "TERM hostile, app without a terminal" env TERM="$H" "$TRIAGE" "$LOG"

# ---- help and usage -----------------------------------------------------------------------
for c in "" analyze playbook model ask bundle keys; do
	clean "help: $c" "$TRIAGE" $c --help
done

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
