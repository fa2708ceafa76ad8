# A lossy link: 30 % loss each way on n3's link (netem on both ends of its veth).  The mesh
# still converges (handshakes are retransmitted with backoff); the time it took is the figure,
# and the README states the bound this checks (60 s).  Nothing crosses in the clear meanwhile.
N=3
topo_up $N
modprobe -d /run/modroot sch_netem 2>/dev/null
in_node 3 tc qdisc add dev eth0 root netem loss 30%
tc qdisc add dev h3 root netem loss 30%
write_inventory $N
make_secret
capture_start "$RESULTS/lossy.pcap"
t0=$(date +%s%N)
for i in $(seq 1 $N); do agent_start "$i"; done
check "the mesh converges through 30 % loss (bound: 60 s)" wait_until 60 mesh_complete $N
measure convergence_with_30pct_loss_ms $(( ($(date +%s%N) - t0) / 1000000 )) ms
check "n1 reaches n3 through the loss (some of 10 pings)" in_node 1 ping -q -c 10 -i 0.2 -W 1 "$(node4 3)"
capture_stop
expect_eq "cleartext packets between members" "$(cleartext_members $N)" 0
measure handshake_datagrams "$(capture_count "udp port 4801")"
agents_stop_all
check_sanitizers
