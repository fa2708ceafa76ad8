#!/bin/bash
# Status latency and memory per peer with 1,000 peers, on this host's kernel (root): the agent
# runs in a scratch network namespace with an inventory of 1,001 nodes, none reachable, so it
# installs 2,000 policies but no SA, which works even where the kernel lacks ESP.  Prints
# figures; judges nothing.
# usage: tests/bench/status-native.sh BUILDDIR [PEERS]
set -u
b=$(cd "$1" && pwd) peers=${2:-1000}
work=$(mktemp -d /tmp/meshsec-bench.XXXXXX) ns=msbench$$
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
inventory() {
	{
		printf '{"version": 1, "mesh": {"name": "bench"}, "nodes": [\n  {"name": "self", "addresses": ["10.77.0.1"]}'
		for i in $(seq 1 "$1"); do printf ',\n  {"name": "p%d", "addresses": ["10.90.%d.%d"]}' "$i" $((i / 250)) $((i % 250 + 1)); done
		printf '\n]}\n'
	} >"$work/inv.json"
}
start() {
	ip netns exec "$ns" "$b/meshsecd" --skip-esp-check --node-state "$work/node" --foreground --log-level error --inventory "$work/inv.json" --secret "$work/key" \
		--socket "$work/s.sock" 2>>"$work/agent.log" &
	pid=$!
	for _ in $(seq 1 100); do [ -S "$work/s.sock" ] && break; sleep 0.1; done
	sleep 2
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" link add d0 type dummy 2>/dev/null ||
	ip -n "$ns" link add d0 type veth peer name d1 || { echo "bench: cannot make a namespace"; exit 1; }
ip -n "$ns" addr add 10.77.0.1/24 dev d0 && ip -n "$ns" link set d0 up
"$b/meshsec" keygen --out "$work/key" >/dev/null
inventory 1 && start || { echo "bench: the agent did not start: $(cat "$work/agent.log")"; exit 1; }
rss1=$(rss)
kill "$pid"; wait "$pid" 2>/dev/null; ip -n "$ns" xfrm policy flush
inventory "$peers" && start
rssn=$(rss)
t0=$(date +%s%N)
for _ in $(seq 1 20); do "$b/meshsec" status --json --socket "$work/s.sock" >/dev/null; done
t1=$(date +%s%N)
echo "status with $peers peers: meshsec status --json $(( (t1 - t0) / 20000 )) us per call, process start included (mean of 20)"
"$b/tests/bench/bench_status" "$work/s.sock" 50
echo "agent memory: $rss1 KiB with 1 peer, $rssn KiB with $peers: $(( (rssn - rss1) * 1024 / (peers - 1) )) bytes per peer"
