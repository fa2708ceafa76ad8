# The demo mesh: three nodes (network namespaces on one bridge) run meshsecd with the example
# inventory and one fresh secret; then it shows the SAs the kernel holds, a capture of pings
# between the nodes (ESP only), and each agent's view of its peers.  Written like a kernel
# scenario (tests/kernel/lib.sh), so it runs in the User-Mode Linux bed or, where the host kernel
# has ESP, directly inside a private network namespace (deploy/demo.sh decides).
say() { printf '%s\n' "$@" | tee -a "$RESULTS/demo.txt"; }
show() { sed 's/^/    /' | tee -a "$RESULTS/demo.txt"; }

topo_up 3
cp "$TESTS_KERNEL/../../deploy/inventory.example.json" "$INV"
make_secret
say "== 3 nodes: node-1 10.77.0.1/fd77::1, node-2 10.77.0.2/fd77::2, node-3 10.77.0.3/fd77::3"
capture_start "$RESULTS/demo.pcap"
for i in 1 2 3; do agent_start "$i"; done
demo_up() { [ "$(sa_count 1)" -eq 8 ] && [ "$(sa_count 2)" -eq 8 ] && [ "$(sa_count 3)" -eq 8 ]; }
t0=$(date +%s%N)
check "full mesh: 8 SAs per node (2 peers x 2 families x in/out)" wait_until 20 demo_up
say "== full mesh after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		check "node-$i pings node-$j over IPv4 and IPv6" sh -c \
			"ip netns exec n$i ping -c1 -W2 $(node4 "$j") >/dev/null && ip netns exec n$i ping -6 -c1 -W2 $(node6 "$j") >/dev/null"
	done
done
capture_stop

say "" "== SAs on node-1 (ip xfrm state; keys hidden)"
ip -n n1 -s xfrm state | grep -E '^src|proto esp|aead|[0-9]+\(bytes\)' | sed -E 's/0x[0-9a-f]{16,}/<key>/' | show
say "" "== capture on the bridge: what crossed between the nodes (first 12 packets of the pings)"
tcpdump -n -r "$CAPTURE_FILE" 'esp' 2>/dev/null | head -n 12 | show
say "" "   ESP packets: $(capture_count esp)   agents' handshake datagrams: $(capture_count 'udp port 4801')   cleartext between members: $(cleartext_members 3)"
expect_eq "cleartext packets between the nodes" "$(cleartext_members 3)" 0

say "" "== each agent's view of its peers (meshsec status on each node)"
for i in 1 2 3; do
	say "node-$i:"
	ip netns exec "n$i" "$MESHSEC" status --socket "$(sock "$i")" | show
	check "node-$i: meshsec status says every peer is up" ip netns exec "n$i" "$MESHSEC" status --socket "$(sock "$i")"
done
agents_stop_all
