#!/bin/bash
# The simulator's part of the suite: the fixed regression scenarios, then a fixed range of random
# seeds, under whatever build BUILDDIR is (ASan in run-all.sh).  Bounded to about a minute on two
# cores.  Ends with one line "sim: N passed, N failed"; a failure prints its trace and the
# command that replays it.
#   tests/sim/run.sh BUILDDIR [FIRST-LAST]
set -u
b=${1:?usage: tests/sim/run.sh BUILDDIR [FIRST-LAST]}
seeds=${2:-1-240}
sim=$b/tests/sim/meshsim
[ -x "$sim" ] || { echo "no $sim: build first"; echo "sim: 0 passed, 1 failed"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$sim" --scenario all --watchdog 60 >"$out" 2>&1
if grep -q FAILED "$out"; then head -n 2000 "$out"; else grep -c ': ok,' "$out" | sed 's/$/ scenarios ok/'; fi
sp=$(sed -n 's/^sim scenarios: \([0-9]*\) passed.*/\1/p' "$out"); sp=${sp:-0}
sf=$(sed -n 's/^sim scenarios: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$out"); sf=${sf:-1}
rp=0 rf=0
# Most seeds on 8 nodes; the last 40 of the range on 16, so more pairs share each fault.
first=${seeds%-*} last=${seeds#*-}
for spec in "$first-$((last - 40)) 8" "$((last - 39))-$last 16"; do
	set -- $spec
	"$sim" --seeds "$1" --nodes "$2" --quiet-runs --watchdog 60 >"$out" 2>&1
	grep -v '^sim:' "$out" | head -n 600
	p=$(sed -n 's/^sim: \([0-9]*\) passed.*/\1/p' "$out"); f=$(sed -n 's/^sim: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$out")
	rp=$((rp + ${p:-0})) rf=$((rf + ${f:-1}))
done
echo "sim: $((sp + rp)) passed, $((sf + rf)) failed"
[ $((sf + rf)) -eq 0 ]
