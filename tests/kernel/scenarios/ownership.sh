# We own only what we made.  On n1, before the agent starts: another owner's out policy with
# exactly the selector meshsec wants for n4 (reqid 42), another owner's ICMPv6 neighbour-
# solicitation bypass with meshsec's ND selector, and another owner's SA to n2 with SPI 0x4242.
# n2 is hostile (ms-peer: the real core with the mesh secret) and announces SPI 0x4242 as its
# inbound SPI in every handshake, so n1's add of that outbound SA fails.  n3 is a normal member.
# All three foreign objects survive start, reload, rekey, stop and `meshsec down`; the conflicts
# are reported by the log, status and doctor; n1 keeps running and its pair with n3 is up.
N=4
topo_up $N
write_inventory $N dual
make_secret
FK=0x$(head -c 36 /dev/urandom | od -An -tx1 | tr -d ' \n')
in_node 1 ip xfrm policy add dir out src 0.0.0.0/0 dst "$(node4 4)/32" priority 50 tmpl proto esp mode transport reqid 42
in_node 1 ip -6 xfrm policy add dir out src ::/0 dst ::/0 proto ipv6-icmp type 135 priority 7 action allow
in_node 1 ip xfrm state add src "$(node4 1)" dst "$(node4 2)" proto esp spi 0x4242 reqid 42 mode transport \
	aead 'rfc4106(gcm(aes))' "$FK" 128
foreign() {
	ip -n n1 xfrm policy list dir out dst "$(node4 4)/32" | grep -q 'reqid 42' &&
		ip -n n1 -6 xfrm policy list dir out | grep -A1 'proto ipv6-icmp type 135' | grep -q 'priority 7' &&
		ip -n n1 xfrm state list spi 0x4242 | grep -q 'reqid 42'
}
check "foreign objects in place" foreign

in_node 2 "$PEER" "$INV" "$KEY" n2 0x4242 40 >"$RESULTS/ms-peer.log" 2>&1 &
peer_pid=$!
agent_start 1
agent_start 3
up13() { [ "$(sa_spis 1 | grep -c "$(node4 3)")" -eq 2 ] && [ "$(sa_spis 3 | grep -c "$(node4 1)")" -eq 2 ]; }
check "n1 and n3 up" wait_until 20 up13
refused() { grep -q "SPI 0x4242, which meshsec did not install: left alone" "$RESULTS/n1.log"; }
check "n2 announced the foreign SPI and n1 left that SA alone" wait_until 20 refused
check "foreign objects survive start" foreign
check "n1 logs the policy another owner holds, with what it is" \
	grep -q "policy out any -> $(node4 4) for peer n4: another owner's policy holds this selector (allow, priority 50, required template esp mode transport reqid 42)" "$RESULTS/n1.log"
conflicts() { in_node 1 "$MESHSEC" status --json --socket "$(sock 1)" | python3 -c "import json, sys
print(' | '.join(sorted(c['policy'] + '=' + str(c['peer']) for c in json.load(sys.stdin)['policy_conflicts'])))"; }
expect_eq "status lists both conflicts" "$(conflicts)" \
	"out ICMPv6 type 135 (neighbour discovery bypass)=None | out any -> $(node4 4)=n4"
in_node 1 "$MESHSEC" doctor --socket "$(sock 1)" --inventory "$INV" --secret "$KEY" >"$RESULTS/doctor.txt" 2>&1
check "doctor names the foreign policy" grep -q "held by another owner's policy .*: out any -> $(node4 4) (held by allow, priority 50, required template esp mode transport reqid 42)" "$RESULTS/doctor.txt"
check "n2's reason is the foreign SA's SPI, not a missing module" grep -q "kernel_refused: the kernel refused an SA for n2: another owner's SA already has the SPI" "$RESULTS/doctor.txt"

# Reload (a new inventory file, then SIGHUP), rekey, stop, down: the foreign objects stay.
write_inventory $N dual
kill -HUP "$(cat "$RESULTS/n1.pid")"
check "n1 reloaded" wait_until 10 sh -c "[ \$(grep -c 'reloaded' $RESULTS/n1.log) -ge 1 ]"
check "foreign objects survive reload" foreign
check "meshsec rekey" in_node 1 "$MESHSEC" rekey --socket "$(sock 1)"
rekeyed() { [ "$(ups 1 n3)" -ge 2 ]; }
check "n1 and n3 rekeyed" wait_until 20 rekeyed
check "foreign objects survive rekey" foreign
check "n1 still runs" agent_alive 1
kill "$peer_pid" 2>/dev/null; wait "$peer_pid" 2>/dev/null
measure foreign_spi_refusals "$(grep -c 'SPI 0x4242, which meshsec did not install' "$RESULTS/n1.log")"
agent_kill 1 TERM
agent_kill 3 TERM
check "foreign objects survive stop" foreign
check "meshsec down" in_node 1 "$MESHSEC" down --socket "$(sock 1)"
check "foreign objects survive meshsec down" foreign
expect_eq "meshsec's SAs after down" "$(tagged_sa_count 1)" 0
expect_eq "meshsec's policies after down" "$(ip -n n1 xfrm policy | grep -c '0x6d73')" 0
check_sanitizers
