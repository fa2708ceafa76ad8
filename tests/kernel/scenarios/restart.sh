# Restart: kill -9 one agent under continuous traffic and start it again.  The kernel keeps the
# SAs and SPs (policies fail closed), so traffic stays encrypted throughout; the new agent adopts
# what it finds, agrees fresh keys with every peer and retires the old SAs.  No key or SPI
# installed before the restart appears again.
N=3
mesh_up $N
for i in $(seq 1 $N); do sa_keys "$i"; done | sort >"$RESULTS/keys-before.txt"

capture_start "$RESULTS/restart.pcap"
in_node 1 ping -i 0.05 -w 10 "$(node4 2)" >"$RESULTS/ping12.txt" 2>&1 &
p1=$!
in_node 3 ping -i 0.05 -w 10 "$(node4 2)" >"$RESULTS/ping32.txt" 2>&1 &
p3=$!
sleep 1
ups_before=$(ups 2)
agent_kill 2 KILL
sleep 1
agent_start 2
fresh() { [ "$(ups 2)" -ge $((ups_before + 2)) ]; }
check "the restarted agent has fresh keys with both peers" wait_until 20 fresh
# By the agent's own clock, from its start to the second pair up: a loaded guest may take seconds
# to start a process, which is not what this measures.
t0=$(last_log_ms 'this node is n2' "$RESULTS/n2.log")
t1=$(last_log_ms 'up with fresh keys' "$RESULTS/n2.log")
[ "$t1" -lt "$t0" ] && t1=$((t1 + 86400000))	# midnight passed
measure restart_to_fresh_keys_ms $((t1 - t0)) "ms from the restarted agent's start to fresh keys with both peers"
check "fresh keys with both peers within 2 s of the agent's start" test $((t1 - t0)) -le 2000
check "n1 reaches n2" in_node 1 ping -c1 -W1 "$(node4 2)"
check "n2 reaches n3" in_node 2 ping -c1 -W1 "$(node4 3)"
wait $p1 $p3
measure ping_n1_to_n2_lost "$(ping_loss "$RESULTS/ping12.txt")" "packets across the restart"
measure ping_n3_to_n2_lost "$(ping_loss "$RESULTS/ping32.txt")" "packets across the restart"
capture_stop
expect_eq "cleartext packets between members across the restart" "$(cleartext_members $N)" 0

# The old inbound SAs are kept for a grace period, then only fresh ones remain.
check "old SAs retired after the grace period" wait_until 15 mesh_complete $N
for i in $(seq 1 $N); do sa_keys "$i"; done | sort >"$RESULTS/keys-after.txt"
grep -wF "$(node4 2)" "$RESULTS/keys-after.txt" >"$RESULTS/keys-after-n2.txt"
expect_eq "SAs with n2 now (2 peers x 2 directions, each seen at both ends)" "$(wc -l <"$RESULTS/keys-after-n2.txt")" 8
expect_eq "SAs with n2 that survived the restart" \
	"$(grep -cxFf "$RESULTS/keys-before.txt" "$RESULTS/keys-after-n2.txt")" 0
awk '{print $4}' "$RESULTS/keys-after-n2.txt" >"$RESULTS/k-new.txt"
expect_eq "fresh SAs reusing a key from before" \
	"$(awk '{print $4}' "$RESULTS/keys-before.txt" | grep -cxFf "$RESULTS/k-new.txt")" 0
awk '{print $2, $3}' "$RESULTS/keys-before.txt" >"$RESULTS/spi-before.txt"
expect_eq "fresh SAs reusing a (destination, SPI) from before" \
	"$(awk '{print $2, $3}' "$RESULTS/keys-after-n2.txt" | grep -cxFf "$RESULTS/spi-before.txt")" 0
check "the other pair (n1-n3) kept its SAs" sh -c "grep -w $(node4 1) $RESULTS/keys-before.txt | grep -w $(node4 3) | grep -cxFf - $RESULTS/keys-after.txt | grep -qx 4"
for i in $(seq 1 $N); do check "n$i agent running" agent_alive "$i"; done
agents_stop_all
check_sanitizers
