#!/bin/bash
# The agent at mesh sizes, on this host's kernel (root): for each size, an agent in a scratch
# network namespace with an inventory of that many peers, none reachable, so it installs two
# policies per peer and no SA (which works even where the kernel lacks ESP).  Prints, per size:
# start-up until the control socket answers (policies in), memory, `status --json` latency, and
# the cost of a reload that adds one node (wall time of `meshsec reload`, policies changed).
# Figures only; judges nothing.
# usage: tests/bench/scale-native.sh BUILDDIR [PEERS...]   (default: 100 10000)
set -u
b=$(cd "$1" && pwd)
shift
[ $# -gt 0 ] || set -- 100 10000
work=$(mktemp -d /tmp/meshsec-scale.XXXXXX) ns=msscale$$ pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# inventory PEERS [EXTRA]: this node and PEERS others (EXTRA more at the end)
inventory() {
	local n=$(( $1 + ${2:-0} ))
	{
		printf '{"version": 1, "mesh": {"name": "scale"}, "nodes": [\n  {"name": "self", "addresses": ["10.77.0.1"]}'
		for i in $(seq 1 "$n"); do printf ',\n  {"name": "p%d", "addresses": ["10.%d.%d.%d"]}' "$i" $((90 + i / 62500)) $((i / 250 % 250)) $((i % 250 + 1)); done
		printf '\n]}\n'
	} >"$work/inv.json.tmp" && mv "$work/inv.json.tmp" "$work/inv.json"
}
policies() { ip -n "$ns" xfrm policy count 2>/dev/null | sed -n 's/.*SPD IN  *\([0-9]*\).*OUT *\([0-9]*\).*/\1 \2/p' | awk '{print $1 + $2}'; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" link add d0 type dummy 2>/dev/null ||
	ip -n "$ns" link add d0 type veth peer name d1 || { echo "scale: cannot make a namespace"; exit 1; }
ip -n "$ns" addr add 10.77.0.1/24 dev d0 && ip -n "$ns" link set d0 up
"$b/meshsec" keygen --out "$work/key" >/dev/null
for peers in "$@"; do
	inventory "$peers"
	t0=$(ms)
	ip netns exec "$ns" "$b/meshsecd" --skip-esp-check --node-state "$work/node" --foreground --log-level warn --inventory "$work/inv.json" --secret "$work/key" \
		--socket "$work/s.sock" 2>>"$work/agent.log" &
	pid=$!
	# status exits 1 while peers are not up (none is reachable here), 2 while nobody answers
	while "$b/meshsec" status --json --socket "$work/s.sock" >/dev/null 2>&1; [ $? -eq 2 ]; do
		kill -0 "$pid" 2>/dev/null || { echo "scale: the agent died: $(tail -n 3 "$work/agent.log")"; exit 1; }
		sleep 0.05
	done
	t1=$(ms)
	sleep 2
	echo "scale $peers peers: start to control socket answering (policies in: $(policies)) $((t1 - t0)) ms; memory $(rss) KiB"
	"$b/tests/bench/bench_status" "$work/s.sock" 20 | sed "s/^/scale $peers peers: /"
	before=$(policies)
	inventory "$peers" 1
	t0=$(ms)
	"$b/meshsec" reload --socket "$work/s.sock" >/dev/null || echo "scale: reload failed"
	t1=$(ms)
	echo "scale $peers peers: reload adding one node: $((t1 - t0)) ms (meshsec reload, process start included); policies $before -> $(policies)"
	kill "$pid"
	wait "$pid" 2>/dev/null
	pid=""
	ip -n "$ns" xfrm policy flush
	ip -n "$ns" xfrm state flush
done
