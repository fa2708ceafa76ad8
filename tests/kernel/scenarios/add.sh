# Add: a 6th node appended to every node's inventory.  Existing pairs keep their SPIs and their
# SA counters keep counting (no re-handshake, no kernel request for them); the 5 new pairs carry
# ESP (the time from the change is a printed figure, not a deadline: the bed is a loaded 2-core
# machine); nothing between members is ever in the clear.
N=5
topo_up 6
write_inventory $N
make_secret
for i in $(seq 1 $N); do agent_start "$i"; done
check "5-node mesh complete" wait_until 20 mesh_complete $N
for i in $(seq 1 $N); do sa_spis "$i" >"$RESULTS/n$i-spis-before.txt"; done
ups_before=$(( $(for i in $(seq 1 $N); do ups "$i"; done | paste -sd+) ))

# Steady traffic on an existing pair all along, to watch its counters.
in_node 1 ping -q -i 0.1 -w 8 "$(node4 2)" >/dev/null 2>&1 &
ping_pid=$!
spi12=$(sa_spi 1 "$(node4 1)" "$(node4 2)")
sleep 1
pk_before=$(sa_packets 1 "$spi12")

capture_start "$RESULTS/add.pcap"
t0=$(now_ms_of_day)
write_inventory 6
agent_start 6
check "every node has SAs with the 6th" wait_until 30 mesh_complete 6
# From the change to the last of the 5 new pairs up at both ends, by the agents' own clocks.
# The change reaches n6 when its agent starts: a loaded guest may take seconds to start a process.
t6=$(last_log_ms 'this node is n6' "$RESULTS/n6.log")
[ "$t6" -gt "$t0" ] && t0=$t6
t1=$(last_log_ms 'up with fresh keys' "$RESULTS/n6.log")
t1b=$(last_log_ms 'peer n6: up with fresh keys' "$RESULTS"/n[1-5].log)
[ "$t1b" -gt "$t1" ] && t1=$t1b
[ "$t1" -lt "$t0" ] && t1=$((t1 + 86400000))	# midnight passed
measure time_to_new_pairs_ms $((t1 - t0)) "ms from the inventory change to the last new pair up"
for i in $(seq 1 $N); do
	check "n$i pings n6 right after" in_node 6 ping -c3 -W5 "$(node4 "$i")"
done
sleep 1
pk_after=$(sa_packets 1 "$spi12")
wait $ping_pid
capture_stop

for i in $(seq 1 $N); do
	check "n$i: SAs of the existing pairs unchanged (same SPIs)" \
		same_spis_without "$i" "$RESULTS/n$i-spis-before.txt" "$(node4 6)"
done
check "the n1->n2 SA kept counting ($pk_before -> $pk_after packets)" test "$pk_after" -gt "$pk_before"
ups_after=$(( $(for i in $(seq 1 $N); do ups "$i"; done | paste -sd+) ))
expect_eq "handshakes completed by the old nodes after the change (only the 5 new pairs)" $((ups_after - ups_before)) 5
check "ESP between n6 and every old node" sh -c "for i in \$(seq 1 $N); do
	[ \$(tcpdump -n -r $CAPTURE_FILE \"esp and host 10.77.0.\$i and host 10.77.0.6\" 2>/dev/null | wc -l) -gt 0 ] || exit 1; done"
expect_eq "cleartext packets between members while adding" "$(cleartext_members 6)" 0
for i in $(seq 1 6); do check "n$i agent still running" agent_alive "$i"; done
agents_stop_all
check_sanitizers
