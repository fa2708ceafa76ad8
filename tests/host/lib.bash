# Sourced by the host tests (tests/host/*.sh BUILDDIR): the build directory $b, a work directory
# $work, a scratch network namespace $ns (removed on exit, with any process left in it) and the
# tally: ok NAME, bad NAME [FILE to show], and summary, which prints "host tests: N passed, N
# failed" and sets the exit status.
set -u
b=$(cd "$1" && pwd)
ns=mshost$$ work=$(mktemp -d /tmp/meshsec-host.XXXXXX)
pass=0 fail=0
trap 'ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $ns 2>/dev/null; rm -rf $work' EXIT
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/       /' "$2"; fail=$((fail + 1)); }
summary() { echo "host tests: $pass passed, $fail failed"; [ $fail = 0 ]; }
