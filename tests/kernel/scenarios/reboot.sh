# Peer reboot: a node's namespace is deleted (all its kernel state gone) and rebuilt with a
# fresh agent, while another node keeps pinging it.  Traffic is back within 2 s of the agent's
# start, and afterwards no IPsec error counter keeps rising on the others (no stuck
# XfrmInNoStates or XfrmInStateProtoError: no lasting blackhole).
N=3
mesh_up $N
agent_kill 3 KILL
node_rebuild 3
check "n3 comes back empty (no SA, no policy)" test "$(sa_count 3)/$(ip -n n3 xfrm policy | grep -c '^src')" = 0/0
: >"$RESULTS/n3.log"	# this run's log only: its times are the agent's own clock
agent_start 3
both_ways() { in_node 1 ping -c1 -W1 "$(node4 3)" >/dev/null && in_node 3 ping -c1 -W1 "$(node4 2)" >/dev/null; }
check "n1 and n2 reach the rebuilt n3" wait_until 20 both_ways
# Timed by the agents' clocks, not by processes started in a loaded guest (about 4 s there).
started=$(last_log_ms 'this node is n3' "$RESULTS/n3.log")
up=$(last_log_ms 'peer n3: up with fresh keys' "$RESULTS/n1.log" "$RESULTS/n2.log")
measure reboot_recovery_ms "$((up - started))" ms
check "both peers have fresh keys with n3 within 2 s of its agent's start" test "$((up - started))" -le 2000
stat_of() { ip netns exec "n$1" awk -v k="$2" '$1 == k {print $2}' /proc/net/xfrm_stat; }
in_node 1 ping -q -i 0.1 -w 3 "$(node4 3)" >/dev/null &
p=$!
sleep 0.5
a1=$(stat_of 1 XfrmInNoStates) b1=$(stat_of 1 XfrmInStateProtoError)
sleep 2
a2=$(stat_of 1 XfrmInNoStates) b2=$(stat_of 1 XfrmInStateProtoError)
wait $p
expect_eq "n1: XfrmInNoStates not rising after recovery" "$a2" "$a1"
expect_eq "n1: XfrmInStateProtoError not rising after recovery" "$b2" "$b1"
check "3-node mesh complete again (old SAs retired)" wait_until 15 mesh_complete $N
agents_stop_all
check_sanitizers
