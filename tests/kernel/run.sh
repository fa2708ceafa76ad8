#!/bin/bash
# Host side of the real-kernel test bed: boots one User-Mode Linux guest per scenario (the
# host's root filesystem shared read-write through hostfs), and reads the scenario's verdict
# from the result directory afterwards.  A missing verdict is a failure, never a skip.
#
# usage: tests/kernel/run.sh [--builddir DIR] [--results DIR] [SCENARIO ...]
#   Every scenario named runs, whatever the verdicts before it; the exit status is 0 if all passed.
#   SCENARIO: a name under tests/kernel/scenarios/ (without .sh), or the path of a script written
#   the same way (deploy/demo-mesh.sh); default: every scenario.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=$(pwd)
results=""
timeout_s=${MESHSEC_KT_TIMEOUT:-1800}	# a guard against a hung guest, not a deadline: a loaded machine runs rollout for 12 min
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$(cd "$2" && pwd); shift 2 ;;
	--results) results=$2; shift 2 ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	-*) echo "kernel tests: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$results" ] || results=$builddir/kernel-results
mkdir -p "$results"
results=$(cd "$results" && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "kernel tests: must run as root (network namespaces and XFRM need it)" >&2
	exit 2
fi
if ! command -v linux.uml >/dev/null; then
	echo "kernel tests: linux.uml not found; apt-get install user-mode-linux" >&2
	exit 2
fi

if [ $# -eq 0 ]; then
	set -- $(cd "$here/scenarios" && ls *.sh | sed 's/\.sh$//')
fi

passed=0 failed=0 failed_names=""
for name in "$@"; do
	script=$here/scenarios/$name.sh
	case $name in */*) script=$(cd "$(dirname "$name")" && pwd)/$(basename "$name"); name=$(basename "$name" .sh) ;; esac
	dir=$results/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	if [ ! -f "$script" ]; then
		echo "FAIL $name: no such scenario ($script)"
		failed=$((failed + 1)); failed_names="$failed_names $name"
		continue
	fi
	# init= takes no arguments, so each run gets a two-line init that passes them on.
	cat > "$dir/init" <<INIT
#!/bin/sh
exec /bin/bash $here/guest-init.sh $dir $script $builddir
INIT
	chmod +x "$dir/init"
	start=$(date +%s%N)
	timeout --kill-after=10 "$timeout_s" linux.uml mem=1536M root=/dev/root rootfstype=hostfs \
		rootflags=/ rw init="$dir/init" con=null con0=fd:0,fd:1 \
		</dev/null >"$dir/console.log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	verdict=$(cat "$dir/result" 2>/dev/null)
	if [ "$verdict" = PASS ]; then
		printf 'PASS %s (%s s)\n' "$name" "$secs"
		passed=$((passed + 1))
	else
		[ -n "$verdict" ] || verdict="no verdict written (guest exit $rc$( [ $rc = 124 ] && echo ", timed out after ${timeout_s}s"))"
		printf 'FAIL %s (%s s): %s\n' "$name" "$secs" "$verdict"
		failed=$((failed + 1)); failed_names="$failed_names $name"
		echo "---- $dir/checks.log"; cat "$dir/checks.log" 2>/dev/null
		for f in "$dir"/*.log; do
			case $f in */checks.log) continue ;; esac
			echo "---- $f (last 40 lines)"; tail -n 40 "$f"
		done
	fi
	sed 's/^/    /' "$dir/checks.log" 2>/dev/null | grep -E '^    (ok|FAIL|measure)' || true
done
echo "kernel scenarios: $passed passed, $failed failed${failed_names:+ (failed:$failed_names)}"
[ "$failed" -eq 0 ]
