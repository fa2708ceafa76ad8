# Benchmarks on the real kernel (figures, plus the checks that make them meaningful): the cost
# of programming 2,000 XFRM objects through agent/xfrm_nl.c, batched, and the handshake CPU cost.
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
