# meshsec doctor on a healthy mesh (nothing to fix), then with the usual breakages: a meshsec
# policy deleted by hand, an agent that is not running, a node with another secret.  Each is
# reported with its fix, and the exit status says something is wrong.  Run by a member of group
# meshsec (not root), doctor says which checks need root instead of reporting them clean.
N=3
# A group "meshsec" for this guest only (a bind mount inside the guest does not touch the host).
cp /etc/group /run/tmp/group && echo "meshsec:x:4300:" >>/run/tmp/group && mount --bind /run/tmp/group /etc/group
mesh_up $N
doctor() { in_node "$1" "$MESHSEC" doctor --inventory "$INV" --secret "$KEY" --socket "$(sock "$1")" --interval 500 "${@:2}"; }
doctor 1 >"$RESULTS/doctor-healthy.txt" 2>&1
expect_eq "healthy mesh: doctor exits 0" "$?" 0
for what in "IPv4 SAs with aes-gcm-256" "all .* policies of the plan are installed" "all 2 SA pairs are installed" \
	"per-socket bypass policies" "all 2 peers up" "no nftables or iptables rule drops"; do
	check "healthy mesh: doctor says: $what" grep -q "^ok .*$what" "$RESULTS/doctor-healthy.txt"
done
check "healthy mesh: no finding twice" sh -c "[ -z \"\$(sort $RESULTS/doctor-healthy.txt | uniq -d)\" ]"

# (The firewall rules themselves are tested against nftables on the host kernel,
# tests/host/doctor-firewall.sh and doctor-honest.sh: this UML kernel has nf_tables without its
# ip/inet families, NEWTABLE answers EOPNOTSUPP.)

# A member of group meshsec: reads the agent, but not the kernel's IPsec state nor the firewall.
member="setpriv --reuid 4242 --regid 4242 --groups 4300"
in_node 1 $member "$MESHSEC" doctor --socket "$(sock 1)" --interval 200 >"$RESULTS/doctor-member.txt" 2>&1
expect_eq "group member: doctor exits 3 (nothing wrong found, some checks skipped)" "$?" 3
for what in "firewall .*needs root: run as root to check the firewall rules" "policies .*needs root" "sas .*needs root" "kernel .*needs root"; do
	check "group member: skip $what" grep -q "^skip  $what" "$RESULTS/doctor-member.txt"
done
check "group member: never 'no rule drops', never a missing esp4" sh -c "! grep -q -e 'no nftables or iptables rule drops' -e esp4 $RESULTS/doctor-member.txt"
check "group member: the agent's view is checked" grep -q "^ok .*all 2 peers up" "$RESULTS/doctor-member.txt"

# A meshsec policy removed behind the agent's back on n3.
in_node 3 ip xfrm policy delete src 0.0.0.0/0 dst "$(node4 1)/32" dir out
doctor 3 >"$RESULTS/doctor-policy.txt" 2>&1
check "doctor counts the missing policy and gives the fix" sh -c "grep -q '^error policies .*1 of the plan.s [0-9]* policies missing: out any -> $(node4 1)\$' $RESULTS/doctor-policy.txt &&
	grep -q 'fix: systemctl restart meshsecd' $RESULTS/doctor-policy.txt"

# No agent on n3.
agent_kill 3 KILL
doctor 3 >"$RESULTS/doctor-noagent.txt" 2>&1
check "doctor says the agent cannot be reached and how to start it" sh -c \
	"grep -q '^error agent .*cannot reach the agent' $RESULTS/doctor-noagent.txt && grep -q 'systemctl start meshsecd' $RESULTS/doctor-noagent.txt"
check "without the agent, the peers check is a skip" grep -q "^skip  peers .*needs the agent" "$RESULTS/doctor-noagent.txt"

# n3 back with another secret: n1 sees handshakes failing authentication, not silence.
"$MESHSEC" keygen --out "$RESULTS/other.key" >/dev/null
KEY="$RESULTS/other.key" agent_start 3
# The agent names auth_failed once two datagrams failed with no authentic one between (one could
# be a forgery): doctor is run after that, not after the first bad MAC.
n3_fails_auth() { [ "$(peer_field 1 n3 state)" != up ] && [ "$(peer_field 1 n3 reason.code 2>/dev/null)" = auth_failed ]; }
check "n1 says n3's handshakes fail authentication" wait_until 60 n3_fails_auth
doctor 1 >"$RESULTS/doctor-secret.txt" 2>&1
check "doctor on n1 names the secret/mesh-name mismatch for n3" grep -q "^error peers .*fail authentication (the secret or the mesh name differs.*n3" "$RESULTS/doctor-secret.txt"
check "doctor on n1 does not send the operator to the firewall for it" sh -c "! grep -q -e 'no answer' -e 'IP protocol 50' $RESULTS/doctor-secret.txt"
agents_stop_all
check_sanitizers
