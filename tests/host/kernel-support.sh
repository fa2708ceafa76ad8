#!/bin/bash
# A kernel that cannot do ESP (this host's: policies yes, ESP no; see KERNEL-TESTING.md): the
# agent refuses to start, naming the module to load, and leaves no policy or SA behind (its
# policies there would be a silent blackhole); `meshsec check` as root says the same.  On a
# kernel that has ESP this says so and checks nothing (the bed's scenarios cover that kernel).
# Prints "host tests: N passed, N failed".
# usage: tests/host/kernel-support.sh BUILDDIR
set -u
b=$(cd "$1" && pwd)
ns=msesp$$ peer=msespp$$ work=$(mktemp -d /tmp/meshsec-esp.XXXXXX)
pass=0 fail=0
trap 'ip netns del $ns 2>/dev/null; ip netns del $peer 2>/dev/null; rm -rf $work' EXIT
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/       /' "$2"; fail=$((fail + 1)); }

ip netns add "$ns" && ip netns add "$peer" && ip link add v0 netns "$ns" type veth peer name v1 netns "$peer" &&
	ip -n "$ns" addr add 10.98.0.1/24 dev v0 && ip -n "$ns" link set v0 up || { echo "host tests: 0 passed, 1 failed"; exit 1; }
if ip -n "$ns" xfrm state add src 10.98.0.1 dst 10.98.0.2 proto esp spi 0x100 mode transport \
	aead 'rfc4106(gcm(aes))' 0x$(printf '%072d' 0) 128 2>/dev/null; then
	echo "(this kernel has ESP: the refusal cannot be shown here)"
	echo "host tests: 0 passed, 0 failed"
	exit 0
fi
printf '{"version": 1, "mesh": {"name": "esp"}, "nodes": [{"name": "a", "addresses": ["10.98.0.1"]}, {"name": "b", "addresses": ["10.98.0.2"]}]}\n' >"$work/inv.json"
"$b/meshsec" keygen --out "$work/key" >/dev/null 2>&1

ip netns exec "$ns" "$b/meshsecd" --foreground --inventory "$work/inv.json" --secret "$work/key" --socket "$work/sock" \
	--node-state "$work/node" >"$work/agent.log" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "this kernel cannot install an IPv4 ESP SA with aes-gcm-256 (rfc4106(gcm(aes))): .*Load the module (modprobe esp4" "$work/agent.log"; then
	ok "meshsecd refuses to start on a kernel without ESP, naming the module"
else bad "meshsecd on a kernel without ESP (exit $rc)" "$work/agent.log"; fi
n=$(( $(ip -n "$ns" xfrm policy | grep -c '^src') + $(ip -n "$ns" xfrm state | grep -c '^src') ))
if [ "$n" = 0 ]; then ok "it leaves no policy and no SA behind"; else bad "$n policies/SAs left behind"; fi
ip netns exec "$ns" "$b/meshsec" check --inventory "$work/inv.json" --secret "$work/key" >"$work/check.txt" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "meshsec check: this kernel cannot install an IPv4 ESP SA .*modprobe esp4" "$work/check.txt"; then
	ok "meshsec check as root says the same"
else bad "meshsec check on a kernel without ESP (exit $rc)" "$work/check.txt"; fi
ip netns exec "$ns" "$b/meshsecd" --skip-esp-check --foreground --inventory "$work/inv.json" --secret "$work/key" \
	--socket "$work/sock" --node-state "$work/node" >"$work/skip.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do grep -q 'policies: ' "$work/skip.log" && break; sleep 0.1; done
if grep -q 'policies: 4 in place' "$work/skip.log"; then ok "--skip-esp-check starts it anyway (benchmarks)"; else bad "--skip-esp-check" "$work/skip.log"; fi
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
echo "host tests: $pass passed, $fail failed"
[ "$fail" = 0 ]
