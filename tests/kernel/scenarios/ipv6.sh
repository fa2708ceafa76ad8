# IPv6: n1 and n2 are dual-stack, n3 has IPv6 only.  The dual-stack pair carries ESP for both
# families with keys of its own per family; the pairs with n3 are IPv6 only.
P=${MESH_PORT:-4801}
topo_up 3
cat >"$INV" <<JSON
{"version": 1, "mesh": {"name": "kt", "port": $P}, "nodes": [
  {"name": "n1", "addresses": ["$(node4 1)", "$(node6 1)"]},
  {"name": "n2", "addresses": ["$(node6 2)", "$(node4 2)"]},
  {"name": "n3", "addresses": ["$(node6 3)"]}
]}
JSON
make_secret
capture_start "$RESULTS/ipv6.pcap"
for i in 1 2 3; do agent_start "$i"; done
complete() { [ "$(sa_count 1)" -eq 6 ] && [ "$(sa_count 2)" -eq 6 ] && [ "$(sa_count 3)" -eq 4 ]; }
check "SAs: n1 and n2 2 families x 2 directions with each other, IPv6 with n3" wait_until 20 complete
expect_eq "n1: policies (n2 both families, n3 IPv6; in and out)" "$(sp_count 1)" 6
check "n1 pings n2 over IPv4" in_node 1 ping -c2 -W2 "$(node4 2)"
check "n2 pings n1 over IPv6" in_node 2 ping -6 -c2 -W2 "$(node6 1)"
check "n1 pings n3 over IPv6" in_node 1 ping -6 -c2 -W2 "$(node6 3)"
check "n3 pings n2 over IPv6" in_node 3 ping -6 -c2 -W2 "$(node6 2)"
capture_stop
check "ESP over IPv4 between n1 and n2" test "$(capture_count "ip and esp and host $(node4 1) and host $(node4 2)")" -gt 0
check "ESP over IPv6 between n1 and n2" test "$(capture_count "ip6 and esp and host $(node6 1) and host $(node6 2)")" -gt 0
check "ESP over IPv6 between n1 and n3" test "$(capture_count "ip6 and esp and host $(node6 1) and host $(node6 3)")" -gt 0
expect_eq "cleartext packets between members, both families" "$(cleartext_members 3)" 0
k4=$(sa_keys 1 | awk -v a="$(node4 1)" '$1 == a {print $4}')
k6=$(sa_keys 1 | awk -v a="$(node6 1)" -v b="$(node6 2)" '$1 == a && $2 == b {print $4}')
check "the IPv4 and IPv6 SAs of the pair have different keys" test -n "$k4" -a -n "$k6" -a "$k4" != "$k6"
nd_sps() { ip -n "n$1" xfrm policy | grep -c 'proto ipv6-icmp'; }
expect_eq "n3: neighbour-discovery bypass SPs (NS, NA x in, out)" "$(nd_sps 3)" 4
agents_stop_all
in_node 3 "$MESHSEC" down >/dev/null
expect_eq "n3: meshsec down removes them too" "$(nd_sps 3)" 0
check_sanitizers
