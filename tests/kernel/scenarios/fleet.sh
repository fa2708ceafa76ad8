# Fleet: 5 nodes, byte-identical inventory and secret, same command line.  Every pair pings both
# ways; a capture on the bridge from before the agents start to the end shows no cleartext
# between members, even for traffic sent while the handshakes were under way.
N=5
topo_up $N
write_inventory $N
make_secret
capture_start "$RESULTS/fleet.pcap"

t0=$(date +%s%N)
for i in $(seq 1 $N); do agent_start "$i"; done
all_policies() { local i; for i in $(seq 1 $N); do [ "$(sp_count "$i")" -eq 8 ] || return 1; done; }
check "every node installs its policies (4 peers x in/out)" wait_until 10 all_policies
# Traffic while the handshakes run: it must leave as ESP or not at all.
pings=""
for i in $(seq 1 $N); do in_node "$i" ping -q -i 0.05 -w 4 "$(node4 $(( i % N + 1 )))" >/dev/null 2>&1 & pings="$pings $!"; done
check "full mesh: every node has 8 SAs (4 peers x in/out)" wait_until 20 mesh_complete $N
t1=$(date +%s%N)
measure time_to_full_mesh_ms $(( (t1 - t0) / 1000000 )) ms
wait $pings

ping_pairs $N
capture_stop

expect_eq "cleartext packets between members, whole run" "$(cleartext_members $N)" 0
check "ESP seen between every pair" sh -c "for i in \$(seq 1 $N); do for j in \$(seq \$((i+1)) $N); do
	[ \$(tcpdump -n -r $CAPTURE_FILE \"esp and host 10.77.0.\$i and host 10.77.0.\$j\" 2>/dev/null | wc -l) -gt 0 ] || exit 1; done; done"
measure esp_packets "$(capture_count esp)"
measure agent_udp_packets "$(capture_count "udp port 4801")"
for i in $(seq 1 $N); do
	check "n$i agent still running" agent_alive "$i"
	ip -n "n$i" -s xfrm state >"$RESULTS/n$i-xfrm-state.txt"
done
check "no core dumps: the agents run with a core size limit of 0" \
	sh -c "grep -E '^Max core file size +0 +0 ' /proc/$(cat "$RESULTS/n1.pid")/limits"
expect_eq "policies on a port (the agents' UDP bypasses per socket, not by a port hole)" \
	"$(ip -n n1 xfrm policy | grep -cE '(sport|dport) [0-9]')" 0
# The secret and keys never reach a log.
check "the mesh secret appears in no log" sh -c "! grep -F \"\$(cut -c1-20 $KEY)\" $RESULTS/*.log"
agents_stop_all
check_sanitizers
