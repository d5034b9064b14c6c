#!/bin/bash
# tests/check.sh - `make check`: run each suite (a make target) in turn,
# keep going when one fails, and end with one line for the whole run.
#
# Every suite script ends with "NAME: N passed, N failed"; those counts
# are collected.  A target that prints no such line (mandoc, the fuzz
# replay, the playbook lint) counts as one check, passed or failed by its
# exit status.  Usage: MAKE=make B=build/rel bash tests/check.sh TARGET...
set -u
MAKE=${MAKE:-make}
log=$(mktemp /tmp/triage-check.XXXXXX)
trap 'rm -f "$log"' EXIT
tp=0 tf=0 parts="" bad=""
for t in "$@"; do
	$MAKE --no-print-directory "$t" 2>&1 | tee "$log"
	st=${PIPESTATUS[0]}
	p=0 f=0 n=0
	while read -r a b; do
		p=$((p + a)); f=$((f + b)); n=$((n + 1))
	done < <(sed -nE 's/^[A-Za-z][A-Za-z0-9 _-]*: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' "$log")
	if [ "$n" -eq 0 ]; then
		if [ "$st" -eq 0 ]; then p=1; else f=1; fi
	elif [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# it failed without saying which check: count that
	fi
	tp=$((tp + p)); tf=$((tf + f))
	parts="$parts $t $p/$f,"
	[ "$f" -gt 0 ] && bad="$bad $t"
done
echo "check: $tp passed, $tf failed (passed/failed per suite:${parts%,})"
if [ "$tf" -gt 0 ]; then
	echo "check: FAILED:$bad"
	exit 1
fi
