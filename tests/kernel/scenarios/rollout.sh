# The whole rollout on a live fleet (README, "Rolling out"): 5 nodes exchange a numbered UDP
# stream between every ordered pair (udp-seq: exact loss, connected sockets that cache their
# route) with no agent anywhere; agents start one by one in prefer mode; the mesh flips to
# require by inventory, one node at a time; a 6th node joins the way config management adds it,
# in prefer mode, one node's inventory at a time, seconds apart; then it flips to require too.
# Each phase has its own streams and capture: packets lost and packets in clear per phase.
# Promises: no packet lost in any phase (an agent restart in the middle of the flip included); nothing in clear once a phase has converged; after
# the flips, nothing in clear at all and no optional template left on a pair's policies.
N=5
topo_up 6
make_secret
RATE=10
inv_of() { echo "$RESULTS/inv-n$1.json"; }

# write_inv I NODES MESH_MODE [MODE_OF_N6]: node I's own copy of the inventory (as config
# management writes it, one node at a time).
write_inv() {
	local f n=$2 i sep="" extra
	f=$(inv_of "$1")
	{
		printf '{"version": 1, "mesh": {"name": "kt", "mode": "%s"}, "nodes": [' "$3"
		for i in $(seq 1 "$n"); do
			extra=""
			[ "$i" = 6 ] && [ -n "${4:-}" ] && extra=", \"mode\": \"$4\""
			printf '%s\n  {"name": "n%s", "addresses": ["%s"]%s}' "$sep" "$i" "$(node4 "$i")" "$extra"
			sep=","
		done
		printf '\n]}\n'
	} >"$f.tmp" && mv "$f.tmp" "$f"
}
start_node() { INV=$(inv_of "$1") agent_start "$1"; }
# update_node I NODES MESH_MODE [MODE_OF_N6]: writes node I's inventory as config management
# does, and waits until its agent (which watches the file) says it applied it.
update_node() {
	local before
	before=$(grep -c "reloaded $(inv_of "$1")" "$RESULTS/n$1.log")
	write_inv "$@"
	check "n$1 reloaded its inventory" wait_until 20 sh -c "[ \$(grep -c 'reloaded $(inv_of "$1")' $RESULTS/n$1.log) -gt $before ]"
}
# Pair policies (priority 1000) on node I that do not require ESP: template-less ones (no "tmpl"
# line: prefer mode while a pair is not up) and optional ones ("level use").
weak_sps() { ip -n "n$1" xfrm policy list priority 1000 | awk '/^src/ {n++} /tmpl/ {t++} /level use/ {u++} END {print n - t + u}'; }
pair_sps() { ip -n "n$1" xfrm policy list priority 1000 | grep -c '^src'; }

# Phase 0: no agent anywhere.  The instrument itself: streams lose nothing, all in clear.
streams_start none $N
sleep 3
streams_stop $N
check "none: member traffic crossed in clear (no agent yet)" test "$(cleartext_members $N)" -gt 0

# Phase 1: agents start one by one, every node in prefer mode.
for i in $(seq 1 $N); do write_inv "$i" $N prefer; done
streams_start prefer $N
for i in $(seq 1 $N); do
	start_node "$i"
	check "prefer: n$i's pairs with the $((i - 1)) running agents are encrypted" wait_or_say 30 encrypted_is "$i" $((i - 1))
	check "prefer: n$i counts its $((N - i)) pairs whose peer has no agent as clear" wait_or_say 10 clear_is "$i" $((N - i))
done
for i in $(seq 1 $N); do check "prefer: n$i has every pair encrypted" wait_or_say 30 encrypted_is "$i" $((N - 1)); done
# Status derives "encrypted" from the pair's state; the kernel must agree: the 4 out policies
# have an optional template now (and the 4 in policies too), none is template-less.
for i in $(seq 1 $N); do
	expect_eq "prefer: n$i's 8 pair policies have an (optional) template" \
		"$(ip -n "n$i" xfrm policy list priority 1000 | grep -c 'level use')" 8
done
STEADY_CLEAR=$(steady_clear $N)
expect_eq "prefer, converged: streams that started in clear moved to ESP (cleartext in 3 s)" "$STEADY_CLEAR" 0
check "prefer, converged: the streams crossed as ESP" test "$(steady_esp)" -gt 0
streams_stop $N
# doctor against the require inventory before it is shipped: it names the optional policies.
cp "$(inv_of 1)" "$RESULTS/inv-require.json" && sed -i 's/"mode": "prefer"/"mode": "require"/' "$RESULTS/inv-require.json"
in_node 1 "$MESHSEC" doctor --json --interval 500 --inventory "$RESULTS/inv-require.json" --secret "$KEY" --socket "$(sock 1)" \
	>"$RESULTS/doctor-weak.json" 2>&1
check "doctor with a require inventory over prefer policies names them as letting traffic pass in clear" python3 -c "
import json; f = json.load(open('$RESULTS/doctor-weak.json'))['findings']
assert any(x['check'] == 'policies' and x['severity'] == 'error' and 'pass in clear' in x['message'] and '8 policies' in x['message'] for x in f)"

# Phase 2: the flip to require, by inventory, one node at a time.  Half-way, n5 (still in
# prefer) restarts its agent: it must keep sending ESP through its SAs from before, or n1 and n2
# (already require) would drop its traffic until its handshakes complete.
streams_start flip $N
for i in $(seq 1 $N); do
	update_node "$i" $N require
	sleep 1
	if [ "$i" = 2 ]; then
		agent_kill 5 TERM
		start_node 5
		check "flip: n5 restarted in prefer has every pair encrypted again" wait_or_say 30 encrypted_is 5 $((N - 1))
	fi
done
for i in $(seq 1 $N); do
	expect_eq "flip: n$i's 8 pair policies all require ESP" "$(pair_sps "$i") $(weak_sps "$i")" "8 0"
done
streams_stop $N
expect_eq "flip: nothing in clear between members" "$(cleartext_members $N)" 0

# Phase 3: a 6th node joins in prefer mode: its own inventory and agent first, then every other
# node's inventory, one at a time, seconds apart.
streams_start join 6
write_inv 6 6 require prefer
start_node 6
for i in $(seq 1 $N); do
	sleep 2
	update_node "$i" 6 require prefer
done
check "join: n6 has every pair encrypted" wait_or_say 30 encrypted_is 6 $N
for i in $(seq 1 $N); do check "join: n$i has every pair encrypted" wait_or_say 30 encrypted_is "$i" $N; done
STEADY_CLEAR=$(steady_clear 6)
expect_eq "join, converged: nothing in clear (cleartext in 3 s)" "$STEADY_CLEAR" 0
check "join, converged: the streams crossed as ESP" test "$(steady_esp)" -gt 0
streams_stop 6

# Phase 4: n6 to require like the rest, one inventory at a time.
streams_start settle 6
for i in 6 $(seq 1 $N); do
	update_node "$i" 6 require
	sleep 1
done
for i in $(seq 1 6); do
	expect_eq "settle: n$i's 10 pair policies all require ESP" "$(pair_sps "$i") $(weak_sps "$i")" "10 0"
	expect_eq "settle: n$i has every pair encrypted" "$(count_of "$i" encrypted)" 5
done
streams_stop 6
expect_eq "settle: nothing in clear between members" "$(cleartext_members 6)" 0
check "every agent still runs" sh -c "for i in 1 2 3 4 5 6; do kill -0 \$(cat $RESULTS/n\$i.pid) || exit 1; done"
agents_stop_all
check_sanitizers
