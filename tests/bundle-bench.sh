#!/bin/bash
# tests/bundle-bench.sh - `make bench`: importing a ~500 MB model bundle
# against `gpg --verify` plus `sha256sum` of the same file, measured in the
# same run (the target: import <= 1.5 x that).  The model is a synthetic
# Qwen3-0.6B-shaped GGUF (Q6_K, ~490 MB) from tests/tool-gguf-gen, so the
# import's self-check really loads it and generates a token.  Run with
# TRIAGE and B set by the Makefile; BENCH_ROUNDS overrides the rounds.
set -eu
TRIAGE=${TRIAGE:-$PWD/triage}
B=${B:-build/rel}
ROUNDS=${BENCH_ROUNDS:-3}
DIR=$PWD/$B/bench
MODEL=$DIR/bundle-model.gguf
T=$(mktemp -d /tmp/bundle-bench-XXXXXX)
trap 'gpgconf --homedir "$T/signer" --kill all >/dev/null 2>&1; chmod -R u+rwx "$T"; rm -rf "$T"' EXIT
mkdir -p "$DIR"
export HOME=$T/home GNUPGHOME=$T/signer NO_COLOR=
unset XDG_DATA_HOME TRIAGE_FAULT
mkdir -p "$HOME" "$T/dist" && mkdir -m 700 "$GNUPGHOME"

if [ ! -s "$MODEL" ]; then
	echo "== generating $MODEL"
	make --no-print-directory "$B/tests/tool-gguf-gen" >/dev/null
	"$B/tests/tool-gguf-gen" --preset qwen3-0.6b --type Q6_K -o "$MODEL"
fi

gpg --batch --quiet --passphrase '' --quick-gen-key 'Bench <bench@example.com>' ed25519 sign never >/dev/null 2>&1
FPR=$(gpg --with-colons --list-keys bench@example.com 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
gpg --export "$FPR" >"$T/key.pub"
"$TRIAGE" bundle create --key "$FPR" --name bench-model --version 1.0.0 --model "$MODEL" \
	--license Apache-2.0 --provenance "synthetic, tests/tool-gguf-gen" --out "$T/dist" >/dev/null
BUNDLE=$T/dist/bench-model-1.0.0.tbundle
size=$(stat -c %s "$BUNDLE")
echo "== bundle: $(basename "$BUNDLE"), $size bytes (uncompressed tar), $(nproc) cores"
cat "$BUNDLE" >/dev/null	# warm the page cache for everyone

now() { date +%s.%N; }
best_base=999 best_imp=999 best_ver=999
for r in $(seq "$ROUNDS"); do
	t0=$(now); gpg --verify "$BUNDLE.sig" "$BUNDLE" 2>/dev/null; t1=$(now)
	sha256sum "$BUNDLE" >/dev/null; t2=$(now)
	rm -rf "$HOME/.local"
	"$TRIAGE" keys add --yes "$T/key.pub" >/dev/null
	t3=$(now); "$TRIAGE" bundle verify "$BUNDLE" >/dev/null; t4=$(now)
	t5=$(now); "$TRIAGE" bundle import "$BUNDLE" >/dev/null; t6=$(now)
	read -r g s base v imp < <(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
		-v e="$t4" -v f="$t5" -v h="$t6" 'BEGIN{printf "%.3f %.3f %.3f %.3f %.3f\n",
		b-a, c-b, c-a, e-d, h-f}')
	printf 'round %d: gpg --verify %.3f s + sha256sum %.3f s = %.3f s;  triage bundle verify %.3f s;  import %.3f s\n' \
		"$r" "$g" "$s" "$base" "$v" "$imp"
	best_base=$(awk -v a="$best_base" -v b="$base" 'BEGIN{print (b<a)?b:a}')
	best_imp=$(awk -v a="$best_imp" -v b="$imp" 'BEGIN{print (b<a)?b:a}')
	best_ver=$(awk -v a="$best_ver" -v b="$v" 'BEGIN{print (b<a)?b:a}')
done
awk -v base="$best_base" -v imp="$best_imp" -v ver="$best_ver" -v s="$size" 'BEGIN{
	printf "== bundle import (best of rounds)\n";
	printf "gpg --verify + sha256sum  %.3f s\n", base;
	printf "triage bundle verify      %.3f s  (%.2fx)\n", ver, ver/base;
	printf "triage bundle import      %.3f s  (%.2fx; %.0f MB/s; copy, verify, extract+fsync, model self-check, switch)\n", imp, imp/base, s/imp/1e6;
	printf "target: import <= 1.50x: %s\n", (imp <= 1.5*base) ? "met" : "NOT MET";
}'
