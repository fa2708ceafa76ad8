# The control socket through the real CLI: status on a 5-node mesh (every node sees 4 peers up,
# counters rising, JSON valid against agent/status.schema.json); permissions by group and uid;
# malformed, oversized and unknown requests answered with errors while the agent keeps serving;
# rekey, log-level, metrics; an unreachable agent; down through the agent.
N=5
SCHEMA=$TESTS_KERNEL/../../agent/status.schema.json
# A group "meshsec" for this guest only (a bind mount inside the guest does not touch the host).
cp /etc/group /run/tmp/group && echo "meshsec:x:4300:" >>/run/tmp/group && mount --bind /run/tmp/group /etc/group
mesh_up $N
status() { in_node "$1" "$MESHSEC" status --socket "$(sock "$1")" "${@:2}"; }
check "the socket is 0660 root:meshsec" sh -c "[ \"\$(stat -c '%a %U %G' $(sock 1))\" = '660 root meshsec' ]"

for i in $(seq 1 $N); do status "$i" --json >"$RESULTS/n$i-status1.json"; done
for i in $(seq 1 $N); do for j in $(seq 1 $N); do [ "$i" = "$j" ] || in_node "$i" ping -c2 -i0.2 -W1 "$(node4 "$j")" >/dev/null; done; done
for i in $(seq 1 $N); do
	status "$i" --json >"$RESULTS/n$i-status2.json"
	check "n$i: status exits 0 (every peer up)" status "$i"
	check "n$i: status --json is valid against the documented schema" python3 -c "
import json, jsonschema, sys
jsonschema.validate(json.load(open('$RESULTS/n$i-status2.json')), json.load(open('$SCHEMA')))"
	check "n$i: 4 peers, all up, counters rising in both directions" python3 -c "
import json
a, b = (json.load(open('$RESULTS/n$i-status%d.json' % k)) for k in (1, 2))
want = {'peers': 4, 'up': 4, 'connecting': 0, 'down': 0, 'drift': 0, 'encrypted': 4, 'clear': 0, 'dropped': 0, 'foreign': 0}
assert b['counts'] == want, b['counts']
assert all(p['traffic'] == 'encrypted' and p['mode'] == 'require' for p in b['peers']), b['peers']
before = {p['name']: p for p in a['peers']}
for p in b['peers']:
    for d in ('in', 'out'):
        assert p[d]['packets'] > before[p['name']][d]['packets'], (p['name'], d, p[d], before[p['name']][d])"
done
status 1 >"$RESULTS/status-screen.txt"
check "the status screen lists every peer" sh -c "[ \$(grep -c '^n[2-5] .* up ' $RESULTS/status-screen.txt) -eq 4 ]"
in_node 1 "$MESHSEC" show n3 --socket "$(sock 1)" >"$RESULTS/show-n3.txt"
check "meshsec show n3: state, addresses, SPIs, handshakes, errors" sh -c "grep -q '^n3  up for ' $RESULTS/show-n3.txt &&
	grep -q '^  addresses   10.77.0.3' $RESULTS/show-n3.txt && grep -Eq '^  spi ipv4    in [0-9a-f]{8}  out [0-9a-f]{8}$' $RESULTS/show-n3.txt &&
	grep -Eq '^  handshake   .* ago; [1-9][0-9]* handshakes?' $RESULTS/show-n3.txt && grep -q '^  errors      bad_mac 0' $RESULTS/show-n3.txt"
in_node 1 "$MESHSEC" show n33 --socket "$(sock 1)" >/dev/null 2>"$RESULTS/show-typo.txt"
check "meshsec show n33: did you mean n3" grep -q 'did you mean "n3"' "$RESULTS/show-typo.txt"

# Permissions: the group may read, only root may change, others may not connect.
member="setpriv --reuid 4242 --regid 4242 --groups 4300"
outsider="setpriv --reuid 4243 --regid 4243 --clear-groups"
check "a member of group meshsec reads status" in_node 1 $member "$MESHSEC" status --socket "$(sock 1)"
out=$(in_node 1 $member "$MESHSEC" reload --socket "$(sock 1)" 2>&1); rc=$?
expect_eq "a group member's reload is refused (exit 1, forbidden)" "$rc $(echo "$out" | grep -o forbidden)" "1 forbidden"
out=$(in_node 1 $outsider "$MESHSEC" status --socket "$(sock 1)" 2>&1); rc=$?
expect_eq "a user outside the group cannot connect (exit 2, permission denied)" "$rc $(echo "$out" | grep -o 'permission denied')" "2 permission denied"
check "root reloads" in_node 1 "$MESHSEC" reload --socket "$(sock 1)"

# Raw requests straight to the socket.
raw() { printf '%s\n' "$1" | in_node 1 socat -t 5 - "UNIX-CONNECT:$(sock 1)"; }
expect_eq "not JSON -> malformed" "$(raw '{"version": 1, "request": ' | grep -o '"result":"[a-z-]*"')" '"result":"malformed"'
expect_eq "unknown request -> unknown" "$(raw '{"version": 1, "request": "explode"}' | grep -o '"result":"[a-z-]*"')" '"result":"unknown"'
expect_eq "wrong version -> version" "$(raw '{"version": 7, "request": "status"}' | grep -o '"result":"[a-z-]*"')" '"result":"version"'
expect_eq "unknown field -> unknown" "$(raw '{"version": 1, "request": "status", "x": 1}' | grep -o '"result":"[a-z-]*"')" '"result":"unknown"'
big=$(head -c 10000 /dev/zero | tr '\0' 'a')
expect_eq "10 kB request -> too-large" "$(raw "{\"version\": 1, \"request\": \"$big\"}" | grep -o '"result":"[a-z-]*"')" '"result":"too-large"'
expect_eq "show of no such peer -> not-found" "$(raw '{"version": 1, "request": "show", "peer": "nope"}' | grep -o '"result":"[a-z-]*"')" '"result":"not-found"'
expect_eq "two requests on one connection, two answers" \
	"$(printf '%s\n%s\n' '{"version":1,"request":"log-level"}' '{"version":1,"request":"peers"}' | in_node 1 socat -t 5 - "UNIX-CONNECT:$(sock 1)" | grep -c '"result":"ok"')" 2
check "the agent still serves status after all that" status 1
check "the agent is still running" agent_alive 1

# Rekey, log level, metrics.
hs_before=$(status 1 --json | python3 -c "import json,sys; print([p for p in json.load(sys.stdin)['peers'] if p['name']=='n2'][0]['handshakes'])")
check "rekey n2" in_node 1 "$MESHSEC" rekey n2 --socket "$(sock 1)"
rekeyed() { [ "$(status 1 --json | python3 -c "import json,sys; print([p for p in json.load(sys.stdin)['peers'] if p['name']=='n2'][0]['handshakes'])")" -gt "$hs_before" ]; }
check "n2's handshake count grows after rekey" wait_until 30 rekeyed
check "log-level debug -> info" sh -c "ip netns exec n1 $MESHSEC log-level info --socket $(sock 1) | grep -qx info"
check "metrics in Prometheus text" sh -c "ip netns exec n1 $MESHSEC metrics --socket $(sock 1) >$RESULTS/metrics.txt && grep -q '^meshsec_peer_up{peer=\"n2\"} 1$' $RESULTS/metrics.txt && grep -q '^# TYPE meshsec_peer_bytes_total counter' $RESULTS/metrics.txt"

# The Prometheus listener (opt-in, with a bearer token; tests/kernel/scenarios/clients.sh tries
# it without), on n3 restarted with it.
agent_kill 3 TERM
(umask 077; head -c 32 /dev/urandom | base64 >"$RESULTS/metrics.token")
AGENT_ARGS="--metrics-listen 9101 --metrics-token-file $RESULTS/metrics.token" agent_start 3
http_get() {
	in_node 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9101 && printf "GET %s HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n" "$1" "$2" >&3 &&
		cat <&3' _ "$1" "$(cat "$RESULTS/metrics.token")"
}
served() { http_get /metrics | grep -q '^meshsec_peer_up{peer="n1"} 1'; }
check "GET /metrics on 127.0.0.1:9101 serves the peers" wait_until 10 served
check "and only /metrics" sh -c "$(declare -f in_node http_get); http_get /other | grep -q '404'"
check "the listener is bound to localhost only" sh -c "! ip netns exec n3 ss -ltn | grep -q '0.0.0.0:9101'"

# Out of file descriptors: n2's agent restarted with 32; 42 idle clients of three group members
# (one user gets at most 16 in); it pauses accepting, stays up, and serves again once they leave.
agent_kill 2 TERM
AGENT_WRAP="prlimit --nofile=32:32" agent_start 2
check "n2 is back" wait_until 10 test -S "$(sock 2)"
holders=""
for uid in 4251 4252 4253; do
	in_node 2 setpriv --reuid $uid --regid $uid --groups 4300 python3 -c "
import os, socket, time
s = [socket.socket(socket.AF_UNIX) for _ in range(14)]
for x in s: x.connect('$(sock 2)')
for _ in range(600):
    if os.path.exists('$RESULTS/release'): break
    time.sleep(0.1)" &
	holders="$holders $!"
done
check "n2's agent says it pauses accepting" wait_until 30 grep -q 'pausing accepts' "$RESULTS/n2.log"
check "and survives descriptor exhaustion" agent_alive 2
touch "$RESULTS/release"
wait $holders
check "n2 serves status again afterwards" wait_until 30 status 2 --json

# An agent that is not there, then down through a running agent.
agent_kill 5 KILL
out=$(status 5 2>&1); rc=$?
expect_eq "status with no agent: exit 2, says the socket and why" "$rc $(echo "$out" | grep -c "$(sock 5)")" "2 1"
check "meshsec down through the agent" in_node 4 "$MESHSEC" down --socket "$(sock 4)"
check "the agent stopped" sh -c "sleep 1; ! kill -0 $(cat "$RESULTS/n4.pid")"
expect_eq "n4: tagged objects left" "$(tagged_sa_count 4)/$(sp_count 4)" 0/0
agents_stop_all
check_sanitizers
