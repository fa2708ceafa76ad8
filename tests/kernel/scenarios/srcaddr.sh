# Every local source address: n1 also has a secondary IPv4 address and an IPv6 temporary address
# (use_tempaddr=2, which the kernel picks by default for new connections).  Traffic from them to
# a member must leave as ESP or not at all: the policies select `any -> peer`, and a source with
# no SA is dropped.  Member traffic from the inventory addresses still flows, as ESP.
N=2
topo_up $N
write_inventory $N dual
make_secret
SEC4=10.77.0.101
in_node 1 ip addr add "$SEC4/24" dev eth0
in_node 1 sysctl -qw net.ipv6.conf.eth0.use_tempaddr=2
# mngtmpaddr: the kernel makes temporary addresses for this prefix, as after a router advertisement.
in_node 1 ip addr add fd77::1:0:0:5/64 dev eth0 mngtmpaddr nodad
tmp6() { ip -n n1 -6 addr show dev eth0 temporary | awk '/inet6/ {split($2, a, "/"); print a[1]; exit}'; }
check "n1 has an IPv6 temporary address" wait_until 30 sh -c "ip -n n1 -6 addr show dev eth0 temporary | grep -q inet6"
TMP6=$(tmp6)
measure temporary_address "$TMP6"

for i in 1 2; do agent_start "$i"; done
check "pair up in both families" wait_until 20 mesh_complete 2 4
capture_start "$RESULTS/srcaddr.pcap"
nostates_before=$(in_node 1 awk '/XfrmOutNoStates/ {print $2}' /proc/net/xfrm_stat)
# The kernel's own choice for IPv6 (rule 7 prefers the temporary address), explicit ones for the rest.
check "the kernel picks the temporary address for n1 -> n2 over IPv6" \
	sh -c "ip -n n1 -6 route get $(node6 2) | grep -q 'src $TMP6'"
in_node 1 ping -6 -c3 -W1 "$(node6 2)" >/dev/null 2>&1
in_node 1 ping -c3 -W1 -I "$SEC4" "$(node4 2)" >/dev/null 2>&1
in_node 1 ping -6 -c3 -W1 -I fd77::1:0:0:5 "$(node6 2)" >/dev/null 2>&1
in_node 1 python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$SEC4', 0))
for _ in range(3): s.sendto(b'probe', ('$(node4 2)', 9))" 2>/dev/null
# The other way: n2 to n1's extra addresses (n2 has no policy for them; n1 must not answer in clear).
in_node 2 ping -c2 -W1 "$SEC4" >/dev/null 2>&1
in_node 2 ping -6 -c2 -W1 "$TMP6" >/dev/null 2>&1
# Member addresses: encrypted and working.
check "n1 pings n2 from its member address (IPv4)" in_node 1 ping -c2 -W2 -I "$(node4 1)" "$(node4 2)"
check "n1 pings n2 from its member address (IPv6)" in_node 1 ping -6 -c2 -W2 -I "$(node6 1)" "$(node6 2)"
capture_stop

from_n1() { capture_count "$1 and src host $2 and dst host $3 and not esp and not (udp port 4801) and not (ip6 and icmp6[0] >= 133)"; }
expect_eq "cleartext from n1's secondary IPv4 to n2" "$(from_n1 ip "$SEC4" "$(node4 2)")" 0
expect_eq "cleartext from n1's temporary IPv6 to n2" "$(from_n1 ip6 "$TMP6" "$(node6 2)")" 0
expect_eq "cleartext from n1's other IPv6 address to n2" "$(from_n1 ip6 fd77::1:0:0:5 "$(node6 2)")" 0
# n2 does not know n1's extra addresses, so its packets to them leave in clear; n1 must drop them.
measure n2_to_unknown_n1_addresses_in_clear "$(capture_count "(ip and dst host $SEC4) or (ip6 and dst host $TMP6 and not icmp6[0] >= 133)")" packets
expect_eq "n1 answers nothing from its extra addresses" \
	"$(capture_count "(ip and src host $SEC4) or (ip6 and src host $TMP6 and not icmp6[0] >= 133)")" 0
check "member traffic crossed as ESP" test "$(capture_count esp)" -gt 0
expect_eq "cleartext between the member addresses" "$(cleartext_members 2)" 0
nostates_after=$(in_node 1 awk '/XfrmOutNoStates/ {print $2}' /proc/net/xfrm_stat)
check "n1's kernel dropped the traffic it had no SA for (XfrmOutNoStates rose)" test "$nostates_after" -gt "$nostates_before"
measure dropped_without_sa $((nostates_after - nostates_before)) packets
check "both agents still run" sh -c "kill -0 $(cat "$RESULTS/n1.pid") && kill -0 $(cat "$RESULTS/n2.pid")"
agents_stop_all
check_sanitizers
