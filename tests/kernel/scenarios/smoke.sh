# Smoke: the bed itself.  4 nodes ping each other in the clear; then a hand-made ESP SA pair
# between n1 and n2 carries a ping, and the capture on the bridge shows only ESP between them.
topo_up 4

for i in 1 2 3 4; do
	for j in 1 2 3 4; do
		[ "$i" = "$j" ] && continue
		check "n$i pings n$j (IPv4)" in_node "$i" ping -c1 -W2 "$(node4 "$j")"
	done
done
check "n1 pings n4 (IPv6)" in_node 1 ping -6 -c1 -W2 "$(node6 4)"

K12=0x$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')
K21=0x$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')
a=$(node4 1) b=$(node4 2)
for i in 1 2; do
	in_node "$i" ip xfrm state add src "$a" dst "$b" proto esp spi 0x1001 mode transport \
		aead 'rfc4106(gcm(aes))' "$K12" 128
	in_node "$i" ip xfrm state add src "$b" dst "$a" proto esp spi 0x2001 mode transport \
		aead 'rfc4106(gcm(aes))' "$K21" 128
done
in_node 1 ip xfrm policy add src "$a/32" dst "$b/32" dir out tmpl proto esp mode transport
in_node 1 ip xfrm policy add src "$b/32" dst "$a/32" dir in tmpl proto esp mode transport
in_node 2 ip xfrm policy add src "$b/32" dst "$a/32" dir out tmpl proto esp mode transport
in_node 2 ip xfrm policy add src "$a/32" dst "$b/32" dir in tmpl proto esp mode transport

capture_start "$RESULTS/smoke.pcap"
check "n1 pings n2 through ESP" in_node 1 ping -c3 -i0.2 -W2 "$b"
check "n3 pings n4 in the clear (no SA)" in_node 3 ping -c1 -W2 "$(node4 4)"
capture_stop

esp=$(capture_count "host $a and host $b and esp")
clear=$(cleartext_between "$a" "$b")
other=$(capture_count "host $(node4 3) and host $(node4 4) and icmp")
measure esp_packets_n1_n2 "$esp"
expect_eq "ESP packets between n1 and n2 (3 echo requests + 3 replies)" "$esp" 6
expect_eq "cleartext packets between n1 and n2" "$clear" 0
check "the capture sees clear ICMP where there is no SA (it can see cleartext)" test "$other" -ge 2
check "n2's inbound SA counted 3 packets" sh -c "ip netns exec n2 ip -s xfrm state get src $a dst $b proto esp spi 0x1001 | grep -q ' 3(packets)'"
in_node 2 ip -s xfrm state >"$RESULTS/n2-xfrm-state.log"
