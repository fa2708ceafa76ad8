# Rekey without loss: continuous pings and a UDP stream between two nodes across 20 forced
# rekeys (meshsec rekey) and the time-based ones (rekey_seconds 10: the kernel's soft expiry),
# make-before-break: new inbound first, then new outbound, old SAs kept for their grace periods.
# Counts packets lost and in the clear; checks every rekey brought fresh SPIs (the agents' logs)
# and keys (the kernel's SAs before and after): by state, not by what a capture window caught.
N=2
mesh_up $N
hs() { peer_field 1 n2 handshakes; }
before=$(hs)
logged1=$(ups 1 n2) logged2=$(ups 2 n1)
sa_keys 1 >"$RESULTS/keys-before.txt"
capture_start "$RESULTS/rekey.pcap"
# Pings run until the 20 rekeys are done, however long that takes on a loaded machine (ip netns
# exec, not in_node, so $! is ping itself, which prints its figures on SIGINT).
ip netns exec n1 ping -i 0.01 -w 300 "$(node4 2)" >"$RESULTS/ping.txt" 2>&1 &
pinger=$!
# And a numbered UDP stream the other way, on a connected socket (the kernel caches its bundle).
UDPSEQ=$BUILDDIR/tests/tools/udp-seq
in_node 1 "$UDPSEQ" recv 7001 2000 >"$RESULTS/udp-recv.txt" 2>&1 &
receiver=$!
sleep 0.3
in_node 2 "$UDPSEQ" send "$(node4 1)" 7001 200 14 >"$RESULTS/udp-send.txt" 2>&1 &
sender=$!
sleep 1
# Each rekey waits (bounded) until both agents logged it, so a slow machine still runs 20.  The
# control socket is a path: the CLI needs no netns exec, which keeps the loop short.
logged() { [ "$(ups 1 n2)" -ge $((logged1 + k)) ] && [ "$(ups 2 n1)" -ge $((logged2 + k)) ]; }
t0=$(date +%s%N)
for k in $(seq 1 20); do
	"$MESHSEC" rekey --socket "$(sock $(( k % 2 + 1 )))" >/dev/null
	sleep 0.5
	logged || wait_until 10 logged
done
measure rekeys_20_took_ms $(( ($(date +%s%N) - t0) / 1000000 )) "ms (the UDP stream lasts 14 s)"
sleep 1
kill -INT $pinger
wait $pinger $sender $receiver
capture_stop
after=$(hs)
check "20 rekeys completed (handshakes $before -> $after)" test "$after" -ge $((before + 20))
new1=$(( $(ups 1 n2) - logged1 )) new2=$(( $(ups 2 n1) - logged2 ))
check "both agents logged 20 new handshakes (n1: $new1, n2: $new2)" test "$new1" -ge 20 -a "$new2" -ge 20
measure ping_lost_across_20_rekeys "$(ping_loss "$RESULTS/ping.txt")" "packets (ping every 10 ms, all along)"
expect_eq "packets lost across 20 rekeys" "$(ping_loss "$RESULTS/ping.txt" | cut -d/ -f1)" 0
measure udp_stream_across_20_rekeys "$(tail -n 1 "$RESULTS/udp-recv.txt")" "(n2 -> n1, 200/s, connected socket)"
expect_eq "UDP datagrams lost across 20 rekeys" "$(sed -n 's/.*, lost \([0-9]*\),.*/\1/p' "$RESULTS/udp-recv.txt")" 0
expect_eq "cleartext packets between the pair" "$(cleartext_members 2)" 0
check "old inbound SAs retired after the grace period" wait_until 15 mesh_complete $N
# n1's SAs (its inbound and its outbound) before and after: both read with their keys, and
# none of the new ones has an old key or SPI.
sa_keys 1 >"$RESULTS/keys-after.txt"
expect_eq "n1's SAs read with 36-byte keys before and after the rekeys" \
	"$(grep -cE ' 0x[0-9a-f]{72}$' "$RESULTS/keys-before.txt") $(grep -cE ' 0x[0-9a-f]{72}$' "$RESULTS/keys-after.txt")" "2 2"
expect_eq "n1's SAs after the rekeys with a key or (destination, SPI) from before" \
	"$(awk 'NR == FNR {k[$4]; s[$2, $3]; next} ($4 in k) || (($2, $3) in s)' "$RESULTS/keys-before.txt" "$RESULTS/keys-after.txt" | wc -l)" 0

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
# Every handshake of the run (forced and soft-expiry) brought SPIs that no earlier one used.
for i in 1 2; do check "no SPI repeats across n$i's handshakes ($(hs_spis $i n$((3 - i)) | wc -l))" spis_distinct $i n$((3 - i)); done
check_sanitizers
