# Remove: a node taken out of every node's inventory.  The remaining nodes delete its SAs and SPs
# and touch nothing else; the removed node keeps its state (fail closed: a node cut out of the
# inventory by mistake does not start sending in the clear) until it is decommissioned with
# `meshsec down`, which leaves no tagged object behind.
N=5
mesh_up $N
for i in $(seq 1 4); do sa_spis "$i" >"$RESULTS/n$i-spis-before.txt"; done

write_inventory 4
gone() {
	local i
	for i in $(seq 1 4); do
		ip -n "n$i" xfrm state | grep -qw "$(node4 5)" && return 1
		ip -n "n$i" xfrm policy list priority 1000 | grep -qw "$(node4 5)" && return 1
	done
	return 0
}
check "n5's SAs and SPs are gone from n1..n4" wait_until 30 gone
for i in $(seq 1 4); do
	check "n$i: the other pairs' SAs unchanged" same_spis_without "$i" "$RESULTS/n$i-spis-before.txt" "$(node4 5)"
	expect_eq "n$i: policies for 3 peers x in/out" "$(sp_count "$i")" 6
	expect_eq "n$i: no new handshake" "$(ups "$i")" 4
done
check "the others still ping each other" in_node 1 ping -c1 -W2 "$(node4 4)"
check "n5's agent kept running and says it is not in the inventory" \
	sh -c "kill -0 $(cat "$RESULTS/n5.pid") && grep -q 'reload refused' $RESULTS/n5.log"

agent_kill 5 TERM
check "meshsec down on the removed node" in_node 5 "$MESHSEC" down
expect_eq "n5: tagged SAs left" "$(sa_count 5)" 0
expect_eq "n5: tagged SPs left" "$(sp_count 5)" 0
agents_stop_all
check_sanitizers
