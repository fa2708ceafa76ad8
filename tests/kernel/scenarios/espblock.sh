# espblock: a firewall that passes the handshake port but drops ESP (IP protocol 50) between n1
# and n2 (in n2, inbound from n1, as a security group does), three nodes in prefer mode with a
# numbered UDP stream between every ordered pair (udp-seq: exact loss).
# Negative control first: agents with --no-esp-verify switch n1-n2 to ESP once up: datagrams lost.
# Then with the verification (after `meshsec down` everywhere): n1-n2 stays clear on both sides
# with the reason esp_blocked (status, show, events, metrics), the other pairs go ESP, nothing is lost;
# the block removed, n1-n2 verifies and goes ESP: nothing lost, nothing in clear after that.
modprobe -d /run/modroot -a ip_tables iptable_filter x_tables >>"$RESULTS/modprobe.log" 2>&1
N=3
RATE=20
topo_up $N
make_secret
MESH_EXTRA=', "mode": "prefer"' write_inventory $N
block() { ip netns exec n2 iptables-legacy "$1" INPUT -p esp -s "$(node4 1)" -j DROP; }
traffic_of() { in_node "$1" "$MESHSEC" status --json --socket "$(sock "$1")" 2>/dev/null | python3 -c "
import json, sys; p = [p for p in json.load(sys.stdin)['peers'] if p['name'] == '$2'][0]
print(p['state'], p['traffic'], (p['reason'] or {}).get('code'))" 2>/dev/null; }
pair_is() { [ "$(traffic_of "$1" "$2")" = "$3" ]; }
# Pair policies of node I toward node J's address: "clear" (no template) or "esp".
out_shape() { ip -n "n$1" xfrm policy list dir out priority 1000 dst "$(node4 "$2")/32" | grep -q tmpl && echo esp || echo clear; }

# --- negative control: no verification, ESP blocked: the pair goes ESP and its traffic is lost ---
block -A
streams_start control $N
AGENT_ARGS=--no-esp-verify
for i in $(seq 1 $N); do agent_start "$i"; done
for i in $(seq 1 $N); do check "control: n$i has every pair encrypted" wait_or_say 60 encrypted_is "$i" $((N - 1)); done
sleep 3	# traffic into the blackhole
streams_stop $N lossy
measure control_lost "$STREAMS_LOST" "datagrams lost with --no-esp-verify, ESP n1->n2 blocked, $RATE/s per stream"
for i in $(seq 1 $N); do in_node "$i" "$MESHSEC" down --socket "$(sock "$i")" >>"$RESULTS/down.log" 2>&1; done
check "control: every agent stopped and removed its objects" wait_until 30 sh -c \
	"for i in 1 2 3; do ! kill -0 \$(cat $RESULTS/n\$i.pid) 2>/dev/null || exit 1; [ \$(ip -n n\$i xfrm policy list priority 1000 | grep -c '^src') = 0 ] || exit 1; done"

# --- with the verification: the blocked pair stays clear, the others go ESP, nothing lost ---
AGENT_ARGS=
streams_start blocked $N
T0=$(date +%s)
agent_start 1	# n1 first, and a subscriber to its events before any pair can come up
check "blocked: n1's agent answers" wait_until 30 sh -c "ip netns exec n1 $MESHSEC status --json --socket $(sock 1) >/dev/null; [ \$? -lt 2 ]"
in_node 1 "$MESHSEC" events --socket "$(sock 1)" >"$RESULTS/events-n1.txt" 2>&1 &
EVENTS_PID=$!
check "blocked: n1's events are streaming" wait_until 30 grep -q "streaming events" "$RESULTS/n1.log"
for i in $(seq 2 $N); do agent_start "$i"; done
check "blocked: n1 shows n2 clear with reason esp_blocked" wait_or_say 90 pair_is 1 n2 "up clear esp_blocked"
check "blocked: n2 shows n1 clear with reason esp_blocked" wait_or_say 90 pair_is 2 n1 "up clear esp_blocked"
measure blocked_reported_s "$(($(date +%s) - T0))" "s from the agents' start to esp_blocked on both sides"
check "blocked: n3 has both pairs encrypted" wait_or_say 60 encrypted_is 3 2
check "blocked: n1 shows n3 encrypted" wait_or_say 60 pair_is 1 n3 "up encrypted None"
check "blocked: n2 shows n3 encrypted" wait_or_say 60 pair_is 2 n3 "up encrypted None"
expect_eq "blocked: n1's out policy to n2 is clear, to n3 ESP" "$(out_shape 1 2) $(out_shape 1 3)" "clear esp"
expect_eq "blocked: n2's out policy to n1 is clear, to n3 ESP" "$(out_shape 2 1) $(out_shape 2 3)" "clear esp"
check "blocked: n1's log gives the reason with the fix" grep -q "peer n2: handshakes pass on udp/4801 but ESP (IP protocol 50) does not reach n2 (dropped from n1 to n2); traffic with it stays in clear (prefer mode); fix: allow IP protocol 50" "$RESULTS/n1.log"
check "blocked: n2's log names the other direction" grep -q "does not reach n1 (dropped from n1 to n2)" "$RESULTS/n2.log"
in_node 1 "$MESHSEC" show n2 --socket "$(sock 1)" >"$RESULTS/show-blocked.txt" 2>&1
check "blocked: show n2 on n1 says esp_blocked" grep -q esp_blocked "$RESULTS/show-blocked.txt"
in_node 1 "$MESHSEC" status --socket "$(sock 1)" >"$RESULTS/status-blocked.txt" 2>&1
check "blocked: status text on n1 says esp_blocked" grep -q "esp_blocked: handshakes pass" "$RESULTS/status-blocked.txt"
in_node 1 "$MESHSEC" metrics --socket "$(sock 1)" >"$RESULTS/metrics-blocked.txt" 2>&1
check "blocked: metrics on n1: n2's reason is esp_blocked and it counts as clear" sh -c \
	"grep -q '^meshsec_peer_reason{peer=\"n2\",code=\"esp_blocked\"} 1' $RESULTS/metrics-blocked.txt &&
	 grep -q '^meshsec_peer_clear{peer=\"n2\",mode=\"prefer\"} 1' $RESULTS/metrics-blocked.txt"
check "blocked: an event on n1 gives the reason" wait_until 30 grep -qE "reason +n2 +esp_blocked: handshakes pass" "$RESULTS/events-n1.txt"
sleep 3	# the streams keep running in clear across the checks' retries
# the block goes: the next retry (at most 75 s away: 60 s and jitter) verifies the pair
block -D
T1=$(date +%s)
check "unblocked: n1 has both pairs encrypted" wait_or_say 150 encrypted_is 1 2
check "unblocked: n2 has both pairs encrypted" wait_or_say 150 encrypted_is 2 2
measure unblocked_verified_s "$(($(date +%s) - T1))" "s from the block's removal to n1-n2 encrypted on both sides (retry backoff up to 60 s)"
expect_eq "unblocked: n1's and n2's out policies to each other use ESP" "$(out_shape 1 2) $(out_shape 2 1)" "esp esp"
check "unblocked: n1's log says ESP passes" grep -q "peer n2: ESP passes both ways: its traffic moves to ESP" "$RESULTS/n1.log"
check "unblocked: an event on n1 says ESP passes" wait_until 30 grep -qE "esp_verified +n2 " "$RESULTS/events-n1.txt"
kill "$EVENTS_PID" 2>/dev/null
STEADY_CLEAR=$(steady_clear $N)
expect_eq "unblocked, converged: nothing in clear between members (3 s capture)" "$STEADY_CLEAR" 0
check "unblocked, converged: the streams crossed as ESP" test "$(steady_esp)" -gt 0
streams_stop $N
check "every agent still runs" sh -c "for i in 1 2 3; do kill -0 \$(cat $RESULTS/n\$i.pid) || exit 1; done"
agents_stop_all
check_sanitizers
