#!/bin/sh
# Runs each fuzz binary for a bounded time from its committed seed corpus.  New inputs go to a
# scratch corpus; a crash leaves its reproducer in OUTDIR and fails the run.
# usage: tests/fuzz/run.sh OUTDIR SECONDS
set -u
out=$1 secs=$2
seeds=$(cd "$(dirname "$0")" && pwd)/corpus
rc=0
for bin in "$out"/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	case $bin in *.log) continue ;; esac
	name=$(basename "$bin"); corpus=${name#fuzz_}
	mkdir -p "$out/work-$corpus"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$corpus-" "$out/work-$corpus" "$seeds/$corpus" >"$out/$name.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
		echo "fuzz $name: ok, $execs executions in ${secs}s"
	else
		echo "fuzz $name: FAILED (see $out/$name.log)"; tail -n 30 "$out/$name.log"; rc=1
	fi
done
exit $rc
