# Rekey without loss: continuous pings and a UDP stream between two nodes across 20 forced
# rekeys (meshsec rekey) and the time-based ones (rekey_seconds 10: the kernel's soft expiry),
# make-before-break: new inbound first, then new outbound, old SAs kept for their grace periods.
# Counts packets lost and in the clear, and checks every rekey brought fresh SPIs.
N=2
mesh_up $N
hs() { peer_field 1 n2 handshakes; }
before=$(hs)
capture_start "$RESULTS/rekey.pcap"
in_node 1 ping -i 0.01 -w 14 "$(node4 2)" >"$RESULTS/ping.txt" 2>&1 &
pinger=$!
# And a numbered UDP stream the other way, on a connected socket (the kernel caches its bundle).
UDPSEQ=$BUILDDIR/tests/tools/udp-seq
in_node 1 "$UDPSEQ" recv 7001 2000 >"$RESULTS/udp-recv.txt" 2>&1 &
receiver=$!
sleep 0.3
in_node 2 "$UDPSEQ" send "$(node4 1)" 7001 200 14 >"$RESULTS/udp-send.txt" 2>&1 &
sender=$!
sleep 1
for k in $(seq 1 20); do
	in_node $(( k % 2 + 1 )) "$MESHSEC" rekey --socket "$(sock $(( k % 2 + 1 )))" >/dev/null
	sleep 0.5
done
wait $pinger $sender $receiver
capture_stop
after=$(hs)
check "20 rekeys completed (handshakes $before -> $after)" test "$after" -ge $((before + 20))
measure ping_lost_across_20_rekeys "$(ping_loss "$RESULTS/ping.txt")" "packets (ping every 10 ms)"
expect_eq "packets lost across 20 rekeys" "$(ping_loss "$RESULTS/ping.txt" | cut -d/ -f1)" 0
measure udp_stream_across_20_rekeys "$(tail -n 1 "$RESULTS/udp-recv.txt")" "(n2 -> n1, 200/s, connected socket)"
expect_eq "UDP datagrams lost across 20 rekeys" "$(sed -n 's/.*, lost \([0-9]*\),.*/\1/p' "$RESULTS/udp-recv.txt")" 0
expect_eq "cleartext packets between the pair" "$(cleartext_members 2)" 0
spis=$(tcpdump -n -r "$CAPTURE_FILE" "esp and src $(node4 1)" 2>/dev/null | grep -o 'spi=0x[0-9a-f]*' | sort -u | wc -l)
check "ESP from n1 used a fresh SPI per rekey ($spis SPIs seen)" test "$spis" -ge 20
check "old inbound SAs retired after the grace period" wait_until 15 mesh_complete $N

# Time-based: rekey_seconds 10 (a reload applies it to the next SAs), pings all along.
MESH_EXTRA=', "rekey_seconds": 10' write_inventory $N
sleep 1
in_node 1 "$MESHSEC" rekey --socket "$(sock 1)" >/dev/null
in_node 1 ping -i 0.02 -w 16 "$(node4 2)" >"$RESULTS/ping2.txt" 2>&1 &
pinger=$!
soft() { grep -q 'reached its soft limit; rekeying' "$RESULTS/n1.log" "$RESULTS/n2.log"; }
check "a rekey started by the kernel's soft expiry (9-11 s after the SAs were made)" wait_until 15 soft
wait $pinger
measure ping_lost_across_soft_expiry_rekeys "$(ping_loss "$RESULTS/ping2.txt")" packets
expect_eq "packets lost across them" "$(ping_loss "$RESULTS/ping2.txt" | cut -d/ -f1)" 0
agents_stop_all
check_sanitizers
