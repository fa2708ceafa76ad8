# meshsec doctor on a healthy mesh (nothing to fix), then with the usual breakages: a meshsec
# policy deleted by hand, an agent that is not running.  Each is
# reported with its fix, and the exit status says something is wrong.
N=3
mesh_up $N
doctor() { in_node "$1" "$MESHSEC" doctor --inventory "$INV" --secret "$KEY" --socket "$(sock "$1")" --interval 500 "${@:2}"; }
doctor 1 >"$RESULTS/doctor-healthy.txt" 2>&1
expect_eq "healthy mesh: doctor exits 0" "$?" 0
for what in "IPv4 SAs with aes-gcm-256" "all .* policies of the plan are installed" "every peer has SAs" \
	"per-socket bypass policies" "all 2 peers up" "no nftables or iptables rule drops"; do
	check "healthy mesh: doctor says: $what" grep -q "^ok .*$what" "$RESULTS/doctor-healthy.txt"
done

# (The firewall check is tested against nftables on the host kernel, tests/host/doctor-firewall.sh:
# this UML kernel has nf_tables without its ip/inet families, NEWTABLE answers EOPNOTSUPP.)

# A meshsec policy removed behind the agent's back on n3.
in_node 3 ip xfrm policy delete src 0.0.0.0/0 dst "$(node4 1)/32" dir out
doctor 3 >"$RESULTS/doctor-policy.txt" 2>&1
check "doctor reports the missing policy with the fix" sh -c "grep -q '^error policies .*policy out any -> $(node4 1) is missing' $RESULTS/doctor-policy.txt &&
	grep -q 'fix: restart meshsecd' $RESULTS/doctor-policy.txt"

# No agent on n3.
agent_kill 3 KILL
doctor 3 >"$RESULTS/doctor-noagent.txt" 2>&1
check "doctor says the agent cannot be reached and how to start it" sh -c \
	"grep -q '^error agent .*cannot reach the agent' $RESULTS/doctor-noagent.txt && grep -q 'systemctl start meshsecd' $RESULTS/doctor-noagent.txt"
agents_stop_all
check_sanitizers
