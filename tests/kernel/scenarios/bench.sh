# Benchmarks on the real kernel (figures, plus the checks that make them meaningful): the cost
# of programming 2,000 XFRM objects through common/host/xnl.c, batched, and the handshake CPU cost.
topo_up 1
check "bench_netlink installs, dumps back and deletes 2,000 objects" \
	sh -c "ip netns exec n1 $BUILDDIR/tests/bench/bench_netlink 2000 >$RESULTS/netlink.txt"
while read -r what; do
	measure "netlink_$(echo "$what" | awk '{print $1}')" "$(echo "$what" | awk '{print $(NF-1)}')" "us/object ($(echo "$what" | sed 's/  */ /g'))"
done <"$RESULTS/netlink.txt"
expect_eq "nothing left behind" "$(ip -n n1 xfrm state | grep -c '^src')/$(ip -n n1 xfrm policy | grep -c '^src')" 0/0
# Reference: the same 1,000 SPs through iproute2's batch mode, to compare with the kernel's floor.
for i in $(seq 1 500); do
	echo "xfrm policy add src 10.77.0.1 dst 10.80.$((i / 256)).$((i % 256)) dir out priority 1000 tmpl proto esp mode transport reqid 1"
	echo "xfrm policy add src 10.80.$((i / 256)).$((i % 256)) dst 10.77.0.1 dir in priority 1000 tmpl proto esp mode transport reqid 1"
done >"$RESULTS/ip-batch.txt"
t0=$(date +%s%N)
check "ip -batch adds the same 1,000 SPs" ip -n n1 -batch "$RESULTS/ip-batch.txt"
measure ip_batch_install_sp "$(( ($(date +%s%N) - t0) / 1000 / 1000 ))" "us/object (reference: iproute2, 1,000 SPs)"
ip -n n1 xfrm policy flush
check "bench_handshake runs" sh -c "$BUILDDIR/tests/bench/bench_handshake 2000 >$RESULTS/handshake.txt"
measure handshake_cpu "$(awk '/initiator CPU/ {i=$3} /responder CPU/ {r=$3} END {print i "/" r}' "$RESULTS/handshake.txt")" \
	"us per handshake, initiator/responder (UML guest)"

# The agent with 1,000 peers (none reachable): status latency over the socket and through the
# CLI, and memory per peer (resident size with 1,000 peers against 1 peer).
agent_rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(cat "$RESULTS/n1.pid")/status"; }
big_inventory() {
	local n=$1 i
	{
		printf '{"version": 1, "mesh": {"name": "big"}, "nodes": [\n  {"name": "n1", "addresses": ["10.77.0.1"]}'
		for i in $(seq 1 "$n"); do printf ',\n  {"name": "p%d", "addresses": ["10.90.%d.%d"]}' "$i" $((i / 250)) $((i % 250 + 1)); done
		printf '\n]}\n'
	} >"$INV"
}
make_secret
big_inventory 1
agent_start 1
check "agent with 1 peer is up" wait_until 10 test -S "$(sock 1)"
sleep 2
rss1=$(agent_rss_kb)
agent_kill 1 TERM
ip -n n1 xfrm policy flush; ip -n n1 xfrm state flush
big_inventory 1000
agent_start 1
check "agent with 1,000 peers answers" wait_until 20 test -S "$(sock 1)"
has_1000() { [ "$(ip -n n1 xfrm policy list priority 1000 | grep -c '^src')" -eq 2000 ]; }
check "2,000 policies installed for 1,000 peers" wait_until 20 has_1000
sleep 3
rss1000=$(agent_rss_kb)
measure agent_rss_1_peer "$rss1" KiB
measure agent_rss_1000_peers "$rss1000" KiB
measure agent_memory_per_peer "$(( (rss1000 - rss1) * 1024 / 999 ))" "bytes (target <= 4096)"
check "bench_status" sh -c "ip netns exec n1 $BUILDDIR/tests/bench/bench_status $(sock 1) 50 >$RESULTS/status.txt"
measure status_1000_peers "$(cat "$RESULTS/status.txt")"
t0=$(date +%s%N)
for k in $(seq 1 10); do in_node 1 "$MESHSEC" status --json --socket "$(sock 1)" >/dev/null; done
measure cli_status_json_1000_peers "$(( ($(date +%s%N) - t0) / 10000000 ))" "ms per meshsec status --json, process start included (mean of 10)"
agents_stop_all
