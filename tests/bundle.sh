#!/bin/bash
# tests/bundle.sh - `triage bundle` and `triage keys` end to end with the
# real binary, real gpg keys (made here, in a temporary GnuPG home) and
# real bundles: trust, import, analyze using the installed playbooks,
# downgrade refusal, rollback, a bundle made with GNU tar + gpg, a model
# bundle with its self-check and the start-up fallback, and crash safety:
# the import is killed with SIGKILL at every fault point and at random
# moments, and each time the store must be consistent and the active
# version must work.  Summary line: "bundle: N passed, N failed".
set -u
TRIAGE=${TRIAGE:-$PWD/triage}
SHARED=${SHARED:-$PWD/../shared}
MODEL=$SHARED/models/stories260K.gguf
CRASH_RANDOM=${CRASH_RANDOM:-30}
T=$(mktemp -d /tmp/bundle-sh-XXXXXX)
cleanup() {
	gpgconf --homedir "$T/signer" --kill all >/dev/null 2>&1
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && echo "      $2"; }
run() {
	local name=$1 want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	local got=$?
	if [ "$got" -ne "$want" ]; then
		bad "$name" "exit $got, expected $want; stderr: $(head -c 400 "$T/err")"
		return 1
	fi
	ok
	return 0
}
has()   { grep -qE -- "$2" "$T/$1"; }
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

export NO_COLOR= LC_ALL=C.UTF-8
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_STATE_HOME TRIAGE_MODEL TRIAGE_FAULT
export HOME=$T/home GNUPGHOME=$T/signer
DATA=$HOME/.local/share/triage
STORE=$DATA/bundles
mkdir -p "$HOME" && mkdir -m 700 "$GNUPGHOME"

# A fingerprint of the store: names, types, modes and contents.
store_hash() {
	(cd "$STORE" 2>/dev/null && find . -printf '%p %y %m\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum
}

# --- a signer with a real key -------------------------------------------------
gpg --batch --quiet --passphrase '' --quick-gen-key 'Field Knowledge <kb@example.com>' \
	ed25519 sign never >/dev/null 2>&1
FPR=$(gpg --with-colons --list-keys kb@example.com 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
gpg --export "$FPR" >"$T/signer.pub"
[ ${#FPR} -eq 40 ] || { echo "bundle: cannot make a gpg key"; exit 1; }

# Playbooks: the shipped disk-full one with a different title per version,
# so that the card shows which version is active.
mkpb() {	# dir title
	mkdir -p "$1"
	sed -E "s/^  \"title\": .*,\$/  \"title\": \"$2\",/" share/playbooks/disk-full-enospc.json \
		>"$1/disk-full-enospc.json"
}
mkpb "$T/pb1" "Site disk full v1"
mkpb "$T/pb2" "Site disk full v2"
printf 'Mar 14 08:00:00 h app[1]: write failed: No space left on device on /var\n' >"$T/full.log"
mkdir -p "$T/dist"

# --- keys -------------------------------------------------------------------------
run "keys list, empty" 0 "$TRIAGE" keys list && check "no keys yet" has out "no keys"
run "keys add without a terminal is not confirmed" 1 "$TRIAGE" keys add "$T/signer.pub"
check "asks for --yes" has err "not confirmed"
check "fingerprint shown before confirming" has out "$FPR"
run "keys add --yes" 0 "$TRIAGE" keys add --yes "$T/signer.pub" && check "key added" has out "added $FPR"
run "keys list" 0 "$TRIAGE" keys list && check "key allowed" has out "$FPR +allowed"
check "keyring is private" bash -c "[ \"\$(stat -c %a '$DATA/gnupg')\" = 700 ]"
run "keys add of a non-key" 1 "$TRIAGE" keys add --yes "$T/full.log"
check "non-key named" has err "no OpenPGP public key"

# --- create, info, verify -----------------------------------------------------------
run "create v1" 0 "$TRIAGE" bundle create --key "$FPR" --name site --version 1.0.0 \
	--playbooks "$T/pb1" --out "$T/dist" --changelog "first release"
V1=$T/dist/site-1.0.0.tbundle
check "create writes .tbundle and .sig" test -s "$V1" -a -s "$V1.sig"
run "create v2" 0 "$TRIAGE" bundle create --key "$FPR" --name site --version 2.0.0 \
	--playbooks "$T/pb2" --out "$T/dist" --changelog "new title"
V2=$T/dist/site-2.0.0.tbundle
mkdir -p "$T/badpb" && echo '{"id": "x"}' >"$T/badpb/x.json"
run "create refuses playbooks that do not lint" 1 "$TRIAGE" bundle create --key "$FPR" \
	--name bad --version 1.0.0 --playbooks "$T/badpb" --out "$T/dist"
run "create with an unknown key" 2 "$TRIAGE" bundle create --key 0000000000000000000000000000000000000000 \
	--name site --version 9.0.0 --playbooks "$T/pb1" --out "$T/dist"
check "unknown signing key named" has err "no secret key"

for sde in abc "" -5 12x 99999999999999999999; do
	SOURCE_DATE_EPOCH=$sde run "create refuses SOURCE_DATE_EPOCH='$sde'" 2 "$TRIAGE" bundle create \
		--key "$FPR" --name sde --version 1.0.0 --playbooks "$T/pb1" --out "$T/dist"
	check "SOURCE_DATE_EPOCH='$sde' named" has err "SOURCE_DATE_EPOCH"
done
check "nothing written for a bad SOURCE_DATE_EPOCH" test ! -e "$T/dist/sde-1.0.0.tbundle"
SOURCE_DATE_EPOCH=1700000000 run "create with SOURCE_DATE_EPOCH" 0 "$TRIAGE" bundle create \
	--key "$FPR" --name sde --version 1.0.0 --playbooks "$T/pb1" --out "$T/dist"
check "created from SOURCE_DATE_EPOCH" bash -c "tar -xOf '$T/dist/sde-1.0.0.tbundle' manifest.json | grep -q '2023-11-14T22:13:20Z'"
run "info" 0 "$TRIAGE" bundle info "$V1"
check "info: good signature by the signer" has out "signature: +good, by Field Knowledge"
check "info: fingerprint" has out "key $FPR"
check "info: what would change" has out "change: +new: site 1.0.0"
check "info: files with hashes" has out "playbooks/disk-full-enospc.json"
check "info: changelog" has out "first release"
run "verify" 0 "$TRIAGE" bundle verify "$V1" "$V2" && check "verify OK" has out "site-2.0.0.tbundle: OK"
cp "$V1" "$T/tampered.tbundle" && cp "$V1.sig" "$T/tampered.tbundle.sig"
printf 'X' | dd of="$T/tampered.tbundle" bs=1 seek=700 conv=notrunc 2>/dev/null
run "verify tampered" 1 "$TRIAGE" bundle verify "$T/tampered.tbundle"
check "tampered: bad signature" has out "REFUSED: bad signature"
run "info tampered shows no manifest" 1 "$TRIAGE" bundle info "$T/tampered.tbundle"
check "info tampered: refused, nothing parsed" bash -c "grep -q 'REFUSED' '$T/out' && ! grep -q '^bundle:' '$T/out'"

# --- text from a signed bundle or the store reaches the terminal escaped (issue 16) --------
# Bidi overrides, isolates and zero-width characters are valid in a manifest,
# but never reach the terminal as themselves.
raw_unsafe() {	# file: any ESC, C1 (UTF-8), bidi, zero-width or line-separator code point?
	LC_ALL=C grep -qP '\x1b|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0\xa6-\xa9]|\xef\xbb\xbf|\xd8\x9c' "$1"
}
HOSTILE=$'RTL \u202etxet, zero\u200bwidth, \u2066isolate\u2069, mark \u200f, bom \ufeff'
run "create a bundle with a hostile changelog" 0 "$TRIAGE" bundle create --key "$FPR" --name esc \
	--version 1.0.0 --playbooks "$T/pb1" --out "$T/dist" --changelog "$HOSTILE"
check "the bundle really holds the bidi override" bash -c "tar -xOf '$T/dist/esc-1.0.0.tbundle' manifest.json | LC_ALL=C grep -q \$'\\xe2\\x80\\xae\\|\\\\\\\\u202e'"
run "info on the hostile changelog" 0 "$TRIAGE" bundle info "$T/dist/esc-1.0.0.tbundle"
check "info: nothing unsafe reaches the terminal" eval '! raw_unsafe "$T/out"'
check "info: the override is shown escaped" has out 'RTL \\u202etxet'
# A hand-made manifest with hostile text in every free-text field.
mkdir -p "$T/hm/playbooks" && cp "$T/pb1/disk-full-enospc.json" "$T/hm/playbooks/"
hsum=$(sha256sum "$T/hm/playbooks/disk-full-enospc.json" | cut -d' ' -f1)
hsize=$(stat -c %s "$T/hm/playbooks/disk-full-enospc.json")
cat >"$T/hm/manifest.json" <<EOM
{"format": 1, "name": "hm", "kind": "playbooks", "version": "1.0.0",
 "created": "2026-01-01T00:00:00Z", "min_triage": "0.1.0",
 "files": [{"path": "playbooks/disk-full-enospc.json", "size": $hsize, "sha256": "$hsum"}],
 "changelog": ["a\u202eb", "c\u2067d\u2069", "e\u200df", "g\u2028h"]}
EOM
tar --format=pax -cf "$T/hm-1.0.0.tbundle" -C "$T/hm" manifest.json playbooks/disk-full-enospc.json
gpg --batch --yes -u "$FPR" --detach-sign -o "$T/hm-1.0.0.tbundle.sig" "$T/hm-1.0.0.tbundle" 2>/dev/null
run "info on a hand-made manifest" 0 "$TRIAGE" bundle info "$T/hm-1.0.0.tbundle"
check "info, hand-made manifest: changelog shown" has out "^  - c"
check "info, hand-made manifest: nothing unsafe reaches the terminal" eval '! raw_unsafe "$T/out" && ! raw_unsafe "$T/err"'
# An ESC in a manifest is refused outright, and the refusal is escaped too.
sed -i 's/"a\\u202eb"/"a\\u001b]0;TITLE\\u0007b"/' "$T/hm/manifest.json"
tar --format=pax -cf "$T/hm-1.0.0.tbundle" -C "$T/hm" manifest.json playbooks/disk-full-enospc.json
gpg --batch --yes -u "$FPR" --detach-sign -o "$T/hm-1.0.0.tbundle.sig" "$T/hm-1.0.0.tbundle" 2>/dev/null
run "info on a manifest with an ESC: refused" 1 "$TRIAGE" bundle info "$T/hm-1.0.0.tbundle"
check "ESC refused by name" has out "control characters"
check "no ESC on the terminal" bash -c "! LC_ALL=C grep -q \$'\\x1b' '$T/out' '$T/err'"

# --- import and use -------------------------------------------------------------------
run "analyze before: shipped playbook" 0 "$TRIAGE" analyze "$T/full.log"
check "shipped title" has out "Disk full: programs fail"
run "import v1" 0 "$TRIAGE" bundle import "$V1" && check "import says what" has out "imported site 1.0.0"
run "analyze uses the bundle (bundle over shipped)" 0 "$TRIAGE" analyze "$T/full.log"
check "bundle v1 title" has out "Site disk full v1"
run "import v2" 0 "$TRIAGE" bundle import "$V2"
check "import v2 names the change" has out "site 1.0.0 → 2.0.0"
run "analyze uses v2 without further steps" 0 "$TRIAGE" analyze "$T/full.log"
check "bundle v2 title" has out "Site disk full v2"
run "list" 0 "$TRIAGE" bundle list
check "list: active and last-known-good" has out "^site +playbooks +2\.0\.0 +1\.0\.0"
run "list --check" 0 "$TRIAGE" bundle list --check && check "check passes" has out "every installed file matches"
mkpb "$HOME/.local/share/triage/playbooks" "User disk full"
run "user playbooks override bundles" 0 "$TRIAGE" analyze "$T/full.log"
check "user title" has out "User disk full"
rm -rf "$HOME/.local/share/triage/playbooks"

h=$(store_hash)
run "downgrade refused" 1 "$TRIAGE" bundle import "$V1"
check "downgrade: says why" has err "older than the installed 2.0.0"
run "same version refused" 1 "$TRIAGE" bundle import "$V2"
check "store unchanged after refusals" test "$h" = "$(store_hash)"
run "tampered refused" 1 "$TRIAGE" bundle import "$T/tampered.tbundle"
check "store unchanged after a bad signature" test "$h" = "$(store_hash)"

run "rollback" 0 "$TRIAGE" bundle rollback site && check "rollback names versions" has out "2.0.0 → 1.0.0"
run "analyze after rollback" 0 "$TRIAGE" analyze "$T/full.log"
check "v1 again" has out "Site disk full v1"
run "list after rollback" 0 "$TRIAGE" bundle list && check "rolled-back version marked" has out "2.0.0 \(rolled back\)"
run "rollback with nothing left" 1 "$TRIAGE" bundle rollback site
# the local metrics (triage(1), Metrics) count them, by kind of reason
run "stats after imports, refusals and a rollback" 0 "$TRIAGE" stats --json
check "stats: rollback by the user" has out '"bundle.rollback.user": 1'
check "stats: the version active again after the rollback" has out '"active.site.1.0.0": 2'
check "stats: a bad signature refused" has out '"bundle.refused.signature": [1-9]'
check "stats: a downgrade refused by policy" has out '"bundle.refused.policy": [1-9]'
run "re-import v2 after rollback" 0 "$TRIAGE" bundle import "$V2"
run "allow-downgrade" 0 "$TRIAGE" bundle import --allow-downgrade "$V1"
check "downgrade recorded in output" has out "downgrade, recorded"
check "downgrade recorded in audit log" grep -q '"override":"allow-downgrade"' "$DATA/audit.log"

# --- a bundle made by hand with GNU tar and gpg, failing the lint ---------------------
mkdir -p "$T/hand/playbooks"
echo '{"format": 1, "id": "broken"}' >"$T/hand/playbooks/broken.json"
hsum=$(sha256sum "$T/hand/playbooks/broken.json" | cut -d' ' -f1)
hsize=$(stat -c %s "$T/hand/playbooks/broken.json")
cat >"$T/hand/manifest.json" <<EOF
{"format": 1, "name": "hand", "kind": "playbooks", "version": "1.0.0",
 "created": "2026-01-01T00:00:00Z", "min_triage": "0.1.0",
 "files": [{"path": "playbooks/broken.json", "size": $hsize, "sha256": "$hsum"}],
 "changelog": []}
EOF
tar --format=pax -cf "$T/hand-1.0.0.tbundle" -C "$T/hand" manifest.json playbooks/broken.json
gpg --batch --yes -u "$FPR" --detach-sign -o "$T/hand-1.0.0.tbundle.sig" "$T/hand-1.0.0.tbundle" 2>/dev/null
run "GNU tar + gpg bundle verifies" 0 "$TRIAGE" bundle verify "$T/hand-1.0.0.tbundle"
h=$(store_hash)
run "bundle whose playbooks do not lint is not activated" 1 "$TRIAGE" bundle import "$T/hand-1.0.0.tbundle"
check "lint failure shown" has err "do not lint clean"
check "store unchanged after a failed self-check" test "$h" = "$(store_hash)"

# --- a model bundle: self-check, triage ask, start-up fallback ---------------------------
if [ -r "$MODEL" ]; then
	run "create model bundle" 0 "$TRIAGE" bundle create --key "$FPR" --name tiny-model \
		--version 1.0.0 --model "$MODEL" --license MIT \
		--provenance "llama2.c stories260K (karpathy/tinyllamas)" --out "$T/dist"
	run "create model bundle v2" 0 "$TRIAGE" bundle create --key "$FPR" --name tiny-model \
		--version 1.1.0 --model "$MODEL" --license MIT --provenance "same weights" --out "$T/dist"
	run "model info shows licence" 0 "$TRIAGE" bundle info "$T/dist/tiny-model-1.0.0.tbundle"
	check "licence and provenance" bash -c "grep -q '^licence: *MIT' '$T/out' && grep -q 'stories260K' '$T/out'"
	run "import model (self-check: load, tokenize, one token)" 0 "$TRIAGE" bundle import "$T/dist/tiny-model-1.0.0.tbundle"
	run "import model v2" 0 "$TRIAGE" bundle import "$T/dist/tiny-model-1.1.0.tbundle"
	run "ask uses the installed model" 0 "$TRIAGE" ask --raw -n 4 --temp 0 "Once upon a time"
	check "an answer came" test -s "$T/out"
	# Damage the active model on disk: triage falls back by itself.
	active=$STORE/versions/tiny-model/1.1.0/model/stories260K.gguf
	chmod u+w "$active" && truncate -s 1000 "$active"
	run "ask with a broken active model falls back" 0 "$TRIAGE" ask --raw -n 4 --temp 0 "Once upon a time"
	check "fallback announced" has err "switched back to the last-known-good version 1.0.0"
	check "fallback recorded" grep -q '"event":"fallback"' "$DATA/audit.log"
	run "list after fallback" 0 "$TRIAGE" bundle list
	check "model active is 1.0.0" has out "^tiny-model +model +1\.0\.0"
	# A signed model bundle whose model does not load is not activated.
	mkdir -p "$T/badm/model" && head -c 4096 /dev/urandom >"$T/badm/model/m.gguf"
	msum=$(sha256sum "$T/badm/model/m.gguf" | cut -d' ' -f1)
	cat >"$T/badm/manifest.json" <<EOF
{"format": 1, "name": "tiny-model", "kind": "model", "version": "2.0.0",
 "created": "2026-01-01T00:00:00Z", "min_triage": "0.1.0",
 "compat": {"arch": "any", "quant": "F32", "mem_bytes": 1000000, "n_ctx": 512},
 "models": [{"file": "model/m.gguf", "license": "MIT", "provenance": "noise"}],
 "files": [{"path": "model/m.gguf", "size": 4096, "sha256": "$msum"}], "changelog": []}
EOF
	tar --format=pax -cf "$T/badm.tbundle" -C "$T/badm" manifest.json model/m.gguf
	gpg --batch --yes -u "$FPR" --detach-sign -o "$T/badm.tbundle.sig" "$T/badm.tbundle" 2>/dev/null
	h=$(store_hash)
	run "model that does not load is not activated" 1 "$TRIAGE" bundle import "$T/badm.tbundle"
	check "self-check reason shown" has err "self-check.*does not load"
	check "store unchanged" test "$h" = "$(store_hash)"
else
	echo "bundle: $MODEL missing: model bundle tests skipped"
fi

# --- scan ---------------------------------------------------------------------------------
mkdir -p "$T/stick/bundles" && cp "$V2" "$V2.sig" "$T/stick/bundles/" && touch "$T/stick/._site-2.0.0.tbundle"
run "scan a path" 0 "$TRIAGE" bundle scan "$T/stick"
check "scan lists the bundle with its signer" has out "site-2.0.0.tbundle: OK: site 2.0.0 .*Field Knowledge"
check "scan skips ._ files" bash -c "! grep -q '\\._site' '$T/out'"

# --- crash safety: SIGKILL at every fault point, and at random moments -------------------
"$TRIAGE" bundle remove --yes site >/dev/null 2>&1
"$TRIAGE" bundle remove --yes tiny-model >/dev/null 2>&1
"$TRIAGE" bundle import "$V1" >/dev/null 2>&1
cp -a "$DATA" "$T/baseline"
restore() { rm -rf "$DATA"; cp -a "$T/baseline" "$DATA"; }
TRIAGE_FAULT=trace "$TRIAGE" bundle import "$V2" >/dev/null 2>"$T/trace"
points=$(grep -c '^fault point' "$T/trace")
check "fault points counted" test "$points" -ge 8
crash_trials=0 crash_bad=0
consistent() {	# after a kill: store consistent, active works, next import works
	local why=""
	"$TRIAGE" bundle list --check >"$T/c.out" 2>&1 || why="list --check failed: $(tail -3 "$T/c.out")"
	local act
	act=$(awk '$1 == "site" {print $3}' "$T/c.out")
	case "$act" in
	1.0.0) want="Site disk full v1" ;;
	2.0.0) want="Site disk full v2" ;;
	*) why="${why:+$why; }active version is '$act'" ;;
	esac
	[ -z "$why" ] && { "$TRIAGE" analyze "$T/full.log" 2>&1 | grep -q "$want" || why="analyze does not show '$want'"; }
	if [ -z "$why" ] && [ "$act" = 1.0.0 ]; then
		"$TRIAGE" bundle import "$V2" >/dev/null 2>&1 || why="import after the crash failed"
	fi
	[ -z "$why" ] && { "$TRIAGE" bundle list --check >/dev/null 2>&1 || why="store inconsistent after recovery"; }
	crash_trials=$((crash_trials + 1))
	if [ -n "$why" ]; then
		crash_bad=$((crash_bad + 1))
		echo "crash trial $1: $why"
	fi
}
for n in $(seq 1 "$points"); do
	restore
	TRIAGE_FAULT=kill:$n "$TRIAGE" bundle import "$V2" >/dev/null 2>&1 &
	wait $! 2>/dev/null	# (bash reports "Killed" on wait's stderr)
	st=$?
	[ "$st" -eq 137 ] || echo "crash point $n: exit $st, expected 137 (SIGKILL)"
	consistent "kill:$n"
done
# Rollback killed at each of its steps.
restore
"$TRIAGE" bundle import "$V2" >/dev/null 2>&1
cp -a "$DATA" "$T/baseline2"
TRIAGE_FAULT=trace "$TRIAGE" bundle rollback site >/dev/null 2>"$T/trace"
rpoints=$(grep -c '^fault point' "$T/trace")
for n in $(seq 1 "$rpoints"); do
	rm -rf "$DATA"; cp -a "$T/baseline2" "$DATA"
	TRIAGE_FAULT=kill:$n "$TRIAGE" bundle rollback site >/dev/null 2>&1 &
	wait $! 2>/dev/null
	consistent "rollback kill:$n"
done
# Random moments: spread over the time an import takes.
restore
t0=$(date +%s%N); "$TRIAGE" bundle import "$V2" >/dev/null 2>&1; t1=$(date +%s%N)
dur_us=$(( (t1 - t0) / 1000 ))
for i in $(seq 1 "$CRASH_RANDOM"); do
	restore
	delay=$(( RANDOM * 32768 + RANDOM ))
	delay=$(( delay % (dur_us + 1) ))
	"$TRIAGE" bundle import "$V2" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%06d' "$delay")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	consistent "random:$i"
done
echo "bundle: crash test: $crash_trials trials ($points import and $rpoints rollback fault points, $CRASH_RANDOM random kills within ${dur_us} us), $crash_bad failures"
check "crash safety" test "$crash_bad" -eq 0

# --- a lost, emptied or damaged state.json (issue 16): nothing installed is lost ---------
# Only the version directories count: names, modes and contents.
versions_hash() {
	(cd "$STORE/versions" 2>/dev/null && find . -printf '%p %y %m\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum
}
restore
"$TRIAGE" bundle import "$V2" >/dev/null 2>&1
cp -a "$DATA" "$T/baseline3"	# site 2.0.0 active, 1.0.0 last-known-good
vh=$(versions_hash)
gpg --batch --quiet --passphrase '' --quick-gen-key 'Stranger <x@example.net>' ed25519 sign never >/dev/null 2>&1
SFPR=$(gpg --with-colons --list-keys x@example.net 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
mkdir -p "$T/sdist"
run "create a stranger-signed bundle" 0 "$TRIAGE" bundle create --key "$SFPR" --name site \
	--version 3.0.0 --playbooks "$T/pb1" --out "$T/sdist"
rm "$STORE/state.json"
run "rollback of an unknown bundle, state.json missing: refused" 1 "$TRIAGE" bundle rollback nosuch
check "state.json missing: every version kept" test "$vh" = "$(versions_hash)"
check "recovery says what it did" has err "adopted versions/site/2.0.0 again"
check "recovery is in the audit log" grep -q '"event":"recover".*adopted versions/site/1.0.0' "$DATA/audit.log"
run "list after a lost state.json" 0 "$TRIAGE" bundle list --check
check "rebuilt: 2.0.0 active, 1.0.0 last-known-good" has out "^site +playbooks +2\.0\.0 +1\.0\.0"
run "analyze uses the rebuilt state" 0 "$TRIAGE" analyze "$T/full.log"
check "v2 title after rebuild" has out "Site disk full v2"
printf '{"format": 1, "seq": 4, "bundles": []}\n' >"$STORE/state.json"
run "stranger-signed import, empty state: refused" 1 "$TRIAGE" bundle import "$T/sdist/site-3.0.0.tbundle"
check "stranger refused for its signer" has err "not in triage's keyring|not allowed|no good signature"
check "empty state: every version kept" test "$vh" = "$(versions_hash)"
rm "$STORE/state.json"
run "stranger-signed import, state.json missing: refused" 1 "$TRIAGE" bundle import "$T/sdist/site-3.0.0.tbundle"
check "state.json missing, stranger: every version kept" test "$vh" = "$(versions_hash)"
rm "$STORE/state.json"
run "rollback site, state.json missing" 0 "$TRIAGE" bundle rollback site
check "rolled back to the rebuilt last-known-good" has out "2\.0\.0 .* 1\.0\.0"
check "rollback, state.json missing: every version kept" test "$vh" = "$(versions_hash)"
printf '{"format": 1, "bundles": [{"name": ' >"$STORE/state.json"
h=$(store_hash)
run "import with a damaged state.json: refused" 2 "$TRIAGE" bundle import "$V2"
check "damaged: says so and that nothing changed" has err "damaged.*nothing was changed"
run "rollback with a damaged state.json: refused" 2 "$TRIAGE" bundle rollback site
check "damaged: store untouched" test "$h" = "$(store_hash)"
mv "$STORE/state.json" "$T/state.damaged"
run "moved aside: list rebuilds" 0 "$TRIAGE" bundle list --check
check "rebuilt after damage" has out "^site +playbooks"
check "damaged, moved aside: every version kept" test "$vh" = "$(versions_hash)"
# A version directory recovery cannot vouch for is moved aside, not deleted.
restore_lost() { rm -rf "$DATA"; cp -a "$T/baseline3" "$DATA"; rm "$DATA/bundles/state.json"; }
restore_lost
rm "$STORE/versions/site/1.0.0/.install.json"
run "list with an unprovable version" 0 "$TRIAGE" bundle list --check
check "unprovable version moved to lost+found" test -s "$STORE/lost+found/site/1.0.0/playbooks/disk-full-enospc.json"
check "provable version adopted" has out "^site +playbooks +2\.0\.0 +- "

# --- kill tests: remove, and recovery itself ---------------------------------------------
consistent_any() {	# after a kill: store consistent; site either works or is gone
	local why="" act want
	"$TRIAGE" bundle list --check >"$T/c.out" 2>&1 || why="list --check failed: $(tail -3 "$T/c.out")"
	act=$(awk '$1 == "site" {print $3}' "$T/c.out")
	case "$act" in
	1.0.0) want="Site disk full v1" ;;
	2.0.0) want="Site disk full v2" ;;
	"") want="Disk full: programs fail"
		[ -n "$(ls -A "$STORE/versions/site" 2>/dev/null)" ] && why="${why:+$why; }site gone from the state, files still there" ;;
	*) why="${why:+$why; }active version is '$act'" ;;
	esac
	[ -z "$why" ] && { "$TRIAGE" analyze "$T/full.log" 2>&1 | grep -q "$want" || why="analyze does not show '$want'"; }
	[ -z "$why" ] && { "$TRIAGE" bundle list --check >/dev/null 2>&1 || why="store inconsistent after recovery"; }
	[ -n "${2:-}" ] && [ -z "$why" ] && [ "$2" != "$(versions_hash)" ] && why="a version directory changed or was lost"
	crash_trials=$((crash_trials + 1))
	if [ -n "$why" ]; then
		crash_bad=$((crash_bad + 1))
		echo "crash trial $1: $why"
	fi
}
crash_trials=0 crash_bad=0
rm -rf "$DATA"; cp -a "$T/baseline3" "$DATA"
TRIAGE_FAULT=trace "$TRIAGE" bundle remove --yes site >/dev/null 2>"$T/trace"
mpoints=$(grep -c '^fault point' "$T/trace")
for n in $(seq 1 "$mpoints"); do
	rm -rf "$DATA"; cp -a "$T/baseline3" "$DATA"
	TRIAGE_FAULT=kill:$n "$TRIAGE" bundle remove --yes site >/dev/null 2>&1 &
	wait $! 2>/dev/null
	consistent_any "remove kill:$n"
done
# Recovery after a lost state.json, killed at each of its steps: the next
# command adopts every version anyway.
restore_lost
TRIAGE_FAULT=trace "$TRIAGE" bundle list >/dev/null 2>"$T/trace"
vpoints=$(grep -c '^fault point' "$T/trace")
check "recovery has fault points" test "$vpoints" -ge 3
for n in $(seq 1 "$vpoints"); do
	restore_lost
	TRIAGE_FAULT=kill:$n "$TRIAGE" bundle list >/dev/null 2>&1 &
	wait $! 2>/dev/null
	consistent_any "recovery kill:$n" "$vh"
	has c.out "^site +playbooks +2\.0\.0 +1\.0\.0" || { crash_bad=$((crash_bad + 1)); echo "recovery kill:$n: not rebuilt as 2.0.0/1.0.0"; }
done
# A store from before install records: recovery writes them (killed at each
# step, then finished by the next command), and a lost state.json after
# that still loses nothing.
rm -rf "$DATA"; cp -a "$T/baseline3" "$DATA"
rm "$STORE"/versions/site/*/.install.json
cp -a "$DATA" "$T/baseline4"
TRIAGE_FAULT=trace "$TRIAGE" bundle list >/dev/null 2>"$T/trace"
bpoints=$(grep -c '^fault point' "$T/trace")
for n in $(seq 1 "$bpoints"); do
	rm -rf "$DATA"; cp -a "$T/baseline4" "$DATA"
	TRIAGE_FAULT=kill:$n "$TRIAGE" bundle list >/dev/null 2>&1 &
	wait $! 2>/dev/null
	"$TRIAGE" bundle list >/dev/null 2>&1	# finishes the records
	rm "$STORE/state.json"
	consistent_any "record backfill kill:$n, then state.json lost"
	has c.out "^site +playbooks +2\.0\.0 +1\.0\.0" || { crash_bad=$((crash_bad + 1)); echo "backfill kill:$n: not rebuilt as 2.0.0/1.0.0"; }
done
# Random moments during recovery after a lost state.json.
restore_lost
t0=$(date +%s%N); "$TRIAGE" bundle list >/dev/null 2>&1; t1=$(date +%s%N)
rdur_us=$(( (t1 - t0) / 1000 ))
for i in $(seq 1 "$CRASH_RANDOM"); do
	restore_lost
	delay=$(( (RANDOM * 32768 + RANDOM) % (rdur_us + 1) ))
	"$TRIAGE" bundle list >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%06d' "$delay")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	consistent_any "recovery random:$i" "$vh"
done
echo "bundle: crash test 2: $crash_trials trials ($mpoints remove, $vpoints recovery and $bpoints record fault points, $CRASH_RANDOM random kills within ${rdur_us} us of recovery), $crash_bad failures"
check "crash safety of remove and recovery" test "$crash_bad" -eq 0
rm -rf "$DATA"; cp -a "$T/baseline3" "$DATA"

# --- remove, audit log ------------------------------------------------------------------
run "remove without confirmation" 1 "$TRIAGE" bundle remove site
run "remove --yes" 0 "$TRIAGE" bundle remove --yes site && check "removed" has out "removed site"
run "analyze after remove: shipped again" 0 "$TRIAGE" analyze "$T/full.log"
check "shipped title back" has out "Disk full: programs fail"
run "keys remove --yes" 0 "$TRIAGE" keys remove --yes "$FPR"
run "import with the key removed" 1 "$TRIAGE" bundle import "$V2"
check "unknown signer named" has err "not in triage's keyring"
check "audit log: every line is one JSON object" bash -c "
	while IFS= read -r l; do printf '%s' \"\$l\" | '${JSONGET:-$PWD/${B:-build/rel}/tests/jsonget}' event >/dev/null || exit 1; done <'$DATA/audit.log'"
check "audit log: imports, refusals, rollback, removal" bash -c "
	grep -q '\"event\":\"import\".*\"result\":\"ok\"' '$DATA/audit.log' &&
	grep -q '\"result\":\"refused\"' '$DATA/audit.log' &&
	grep -q '\"event\":\"rollback\"' '$DATA/audit.log' &&
	grep -q '\"event\":\"remove\"' '$DATA/audit.log' &&
	grep -q '\"event\":\"keys-remove\"' '$DATA/audit.log'"

check "audit log: no raw escape, C1, bidi or zero-width character" eval '! raw_unsafe "$DATA/audit.log"'

echo "bundle: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
