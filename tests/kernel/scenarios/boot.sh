# From the first second of boot: `meshsec install-policies` (what meshsec-policies.service runs
# before network-pre.target: no secret, no agent) puts the member policies in; a sender that
# starts before any agent gets nothing through in clear; the agents then take over and the same
# traffic flows as ESP.  Also: the agent tells systemd READY only once its policies are in and
# its control socket answers; a second agent in the namespace touches nothing; install-policies
# finds a node by the name the agent kept when the host has no address yet.
N=3
topo_up $N
write_inventory 2
make_secret
capture_start "$RESULTS/boot.pcap"
for i in 1 2; do
	check "n$i: install-policies with no agent and no secret" \
		in_node "$i" "$MESHSEC" install-policies --inventory "$INV" --node-state "$RESULTS/n$i.node"
done
expect_eq "n1: install-policies installed every policy" "$(sp_count 1)" 2
# Open local sides hash on the peer's address only with these (tests/bench/policy-lookup.sh).
expect_eq "n1: policy hash thresholds for the open local side" \
	"$(ip -n n1 -s -s xfrm policy count | grep -o 'thresholds: local [0-9]* remote [0-9]*' | tr '\n' ' ')" \
	"thresholds: local 0 remote 32 thresholds: local 0 remote 128 "
nostates=$(in_node 1 awk '/XfrmOutNoStates/ {print $2}' /proc/net/xfrm_stat)
# A service that starts before the agent: ping and UDP to the peer (dropped, never in clear).
in_node 1 ping -c 5 -i 0.2 -W 1 "$(node4 2)" >"$RESULTS/early-ping.txt" 2>&1
in_node 1 python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b'early', ('$(node4 2)', 9))" 2>/dev/null
expect_eq "nothing in clear between members before any agent" "$(cleartext_members 2)" 0
check "the early traffic was dropped for want of an SA (XfrmOutNoStates rose)" \
	test "$(in_node 1 awk '/XfrmOutNoStates/ {print $2}' /proc/net/xfrm_stat)" -gt "$nostates"
check "the early ping got no answer" grep -q ' 0 received' "$RESULTS/early-ping.txt"

# n2's agent under a notify socket, as systemd runs it (Type=notify).
cat >"$RESULTS/notify.py" <<PY
import os, socket, subprocess
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("$RESULTS/notify.sock")
open("$RESULTS/notify.bound", "w").close()
msg = s.recv(4096).decode()
# What holds at the moment READY arrives: the control socket answers, the policies are in.
st = subprocess.run(["ip", "netns", "exec", "n2", "$MESHSEC", "status", "--json", "--socket", "$(sock 2)"],
                    capture_output=True, text=True)
pol = subprocess.run(["ip", "-n", "n2", "xfrm", "policy", "list", "priority", "1000"], capture_output=True, text=True)
with open("$RESULTS/notify.txt", "w") as f:
    f.write("message=%s\nstatus_ok=%d\npolicies=%d\n" % (msg.replace("\n", ";"), st.returncode in (0, 1) and '"peers"' in st.stdout,
                                                      sum(l.startswith("src") for l in pol.stdout.splitlines())))
PY
python3 "$RESULTS/notify.py" &
notify_pid=$!
wait_until 5 test -f "$RESULTS/notify.bound"
NOTIFY_SOCKET=$RESULTS/notify.sock agent_start 2
agent_start 1
check "pair up" wait_until 20 mesh_complete 2
wait "$notify_pid"
check "READY=1 sent" grep -q '^message=READY=1' "$RESULTS/notify.txt"
check "at READY the control socket answers" grep -q '^status_ok=1' "$RESULTS/notify.txt"
check "at READY the policies are in" grep -q '^policies=2' "$RESULTS/notify.txt"
check "the same traffic now flows" in_node 1 ping -c 2 -W 2 "$(node4 2)"
capture_stop
check "member traffic crossed as ESP" test "$(capture_count esp)" -gt 0
expect_eq "cleartext between members, before and after the agents" "$(cleartext_members 2)" 0
expect_eq "n1 kept its node name for the next boot" "$(cat "$RESULTS/n1.node")" n1

# A second agent in n1's namespace fails before touching the kernel: a policy removed by hand
# stays removed (a second agent used to reinstall the policies, then fail on its UDP port).
in_node 1 ip xfrm policy delete dir in src "$(node4 2)/32" dst 0.0.0.0/0
in_node 1 "$MESHSECD" --foreground --inventory "$INV" --secret "$KEY" --socket /run/second.sock \
	--node-state "$RESULTS/second.node" >"$RESULTS/second.log" 2>&1
expect_eq "a second agent in the namespace exits with status" "$?" 1
check "... saying which agent holds the namespace" \
	grep -q "meshsecd already runs in this network namespace (pid $(cat "$RESULTS/n1.pid"))" "$RESULTS/second.log"
expect_eq "the second agent touched no policy" "$(sp_count 1)" 1
check "install-policies leaves a running agent alone" sh -c "ip netns exec n1 $MESHSEC install-policies --inventory $INV | grep -q 'an agent runs'"
expect_eq "... and adds nothing" "$(sp_count 1)" 1
check "the first agent still runs" agent_alive 1

# Boot before the addresses are up: n3 has none, only the node name its agent kept.
ip -n n3 addr flush dev eth0
in_node 3 "$MESHSEC" install-policies --inventory "$INV" --node-state "$RESULTS/none.node" >"$RESULTS/no-name.txt" 2>&1
expect_eq "without addresses or a kept name, install-policies fails" "$?" 1
check "... and says what to do" grep -q "cannot tell which node this is yet.*Pass --node NAME" "$RESULTS/no-name.txt"
write_inventory 3
echo n3 >"$RESULTS/n3.node"
check "with the kept name, install-policies installs n3's policies" \
	in_node 3 "$MESHSEC" install-policies --inventory "$INV" --node-state "$RESULTS/n3.node"
expect_eq "n3's policies" "$(sp_count 3)" 4
agents_stop_all
check_sanitizers
