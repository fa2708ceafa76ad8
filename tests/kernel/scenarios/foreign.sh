# Foreign state: SAs and SPs that another owner (an IKE daemon, an operator) installed survive
# agent start, reload, stop and `meshsec down`, including an SA between two member addresses.
N=3
topo_up $N
write_inventory 2
make_secret
FK=0x$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')
for i in 1 2; do
	in_node "$i" ip xfrm state add src "$(node4 1)" dst "$(node4 2)" proto esp spi 0x00c0ffee reqid 42 \
		mode transport aead 'rfc4106(gcm(aes))' "$FK" 128
	in_node "$i" ip xfrm state add src "$(node4 "$i")" dst 192.0.2.7 proto esp spi 0x00c0ffef mode tunnel \
		aead 'rfc4106(gcm(aes))' "$FK" 128
	in_node "$i" ip xfrm policy add src 198.51.100.0/24 dst 192.0.2.0/24 dir out priority 500 \
		tmpl src "$(node4 "$i")" dst 192.0.2.7 proto esp mode tunnel
	in_node "$i" ip xfrm policy add src "$(node4 "$i")" dst 203.0.113.9 dir out action block
done
foreign() {
	local i=$1
	[ "$(ip -n "n$i" xfrm state | grep -cE 'spi 0x00c0ffe[ef]')" -eq 2 ] &&
		ip -n "n$i" xfrm policy | grep -q 'dst 192.0.2.0/24' &&
		ip -n "n$i" xfrm policy | grep -q 'dst 203.0.113.9/32'
}

for i in 1 2; do agent_start "$i"; done
pair_up() { [ "$(tagged_sa_count 1)" -eq 2 ] && [ "$(tagged_sa_count 2)" -eq 2 ]; }
check "2-node mesh complete beside the foreign SAs" wait_until 15 pair_up
for i in 1 2; do check "n$i: foreign state survives agent start" foreign "$i"; done
check "members ping each other" in_node 1 ping -c1 -W2 "$(node4 2)"

write_inventory 3
agent_start 3
check "n1 reloads and meets n3" wait_until 30 sh -c "grep -q 'peer n3: up' $RESULTS/n1.log"
kill -HUP "$(cat "$RESULTS/n2.pid")"
sleep 0.5
for i in 1 2; do check "n$i: foreign state survives reload (inotify and SIGHUP)" foreign "$i"; done

for i in 1 2 3; do agent_kill "$i" TERM; done
for i in 1 2; do
	check "n$i: foreign state survives agent stop" foreign "$i"
	check "n$i: meshsec's state stays after a plain stop" test "$(sp_count "$i")" -gt 0 -a "$(tagged_sa_count "$i")" -gt 0
	check "n$i: meshsec down" in_node "$i" "$MESHSEC" down
	check "n$i: foreign state survives meshsec down" foreign "$i"
	expect_eq "n$i: meshsec SPs after down" "$(sp_count "$i")" 0
	expect_eq "n$i: meshsec SAs after down" "$(tagged_sa_count "$i")" 0
done
check_sanitizers
