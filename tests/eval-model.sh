#!/bin/bash
# eval-model.sh - `make eval-model MODEL=FILE.gguf`: the labelled corpus
# (tests/eval/cases, see tests/tool-eval.c) through the model-card path.
# For every case, `triage analyze --json --explain --model MODEL` asks for
# a model card on each of the top three unknown templates; this counts
# cards that passed triage's checks, rejections by reason, and how often
# a valid card's class is the case's (or one of its "also" classes).
# A report, not a test.  Needs jq.
set -u
: "${TRIAGE:?}" "${MODEL:?set MODEL=FILE.gguf}"
SHARED=${SHARED:-../shared}
CASES=${CASES:-tests/eval/cases}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ncase=0 nask=0 nvalid=0 nagree=0 nneg=0
: >"$T/reasons"
for j in "$CASES"/*.json; do
	id=$(basename "$j" .json)
	log=$(jq -r '.log // empty' "$j")
	if [ -n "$log" ]; then log=${log/\$SHARED/$SHARED}; else log=$CASES/$id.log; fi
	[ -f "$log" ] || continue
	cls=$(jq -r '[.class] + (.also // []) | join(" ")' "$j")
	"$TRIAGE" analyze --json --explain --model "$MODEL" "$log" >"$T/out" 2>"$T/err"
	st=$?
	if [ "$st" -gt 1 ]; then
		echo "eval-model: $id: triage exit $st: $(head -c 200 "$T/err")" >&2
		continue
	fi
	ncase=$((ncase + 1))
	v=$(jq '.model_cards | length' "$T/out")
	r=$(jq '.model_cards_rejected | length' "$T/out")
	nask=$((nask + v + r))
	nvalid=$((nvalid + v))
	jq -r '.model_cards_rejected[].reason | sub("[0-9]+"; "N")' "$T/out" >>"$T/reasons"
	for c in $(jq -r '.model_cards[].class' "$T/out"); do
		case " $cls " in
		*" $c "*) nagree=$((nagree + 1)) ;;
		esac
		[ "$cls" = none ] && nneg=$((nneg + 1))
	done
done
echo "eval-model: $(basename "$MODEL") on $ncase cases: $nask cards asked, $nvalid valid, $((nask - nvalid)) rejected"
[ "$nvalid" -gt 0 ] && echo "  class agreement: $nagree of $nvalid valid cards ($((100 * nagree / nvalid)) %); $nneg valid cards on negative controls"
if [ -s "$T/reasons" ]; then
	echo "  rejections by reason:"
	sort "$T/reasons" | uniq -c | sort -rn | sed 's/^/   /'
fi
exit 0
