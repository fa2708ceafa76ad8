# Churn: the inventory rewritten 100 times in 10 s, nodes added and removed each time (the
# agents see renames in quick succession).  Afterwards every node's kernel state is exactly the
# final inventory's: the planned policies, SAs with every running peer, no tagged object for a
# node that is gone.  n1's agent runs under valgrind throughout: no error, no leak.
N=4
topo_up 6
make_secret
# inventory_of LIST: the nodes listed (always 1..4, which run; 5 and 6 never run).
inventory_of() {
	local sep="" i
	{
		printf '{"version": 1, "mesh": {"name": "kt"}, "nodes": ['
		for i in "$@"; do printf '%s\n  {"name": "n%s", "addresses": ["%s"]}' "$sep" "$i" "$(node4 "$i")"; sep=","; done
		printf '\n]}\n'
	} >"$INV.tmp" && mv "$INV.tmp" "$INV"
}
inventory_of 1 2 3 4
AGENT_WRAP="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=$RESULTS/valgrind-n1.txt" \
	agent_start 1
for i in 2 3 4; do agent_start "$i"; done
check "4-node mesh complete (n1 under valgrind)" wait_until 40 mesh_complete $N
# The variants, written by one process (a process start costs ~0.1 s in this guest) by rename.
for v in "1 2 3 4 5" "1 2 3 4 6" "1 2 4 3 5 6" "1 2 3 4"; do inventory_of $v; cp "$INV" "$RESULTS/variant-${v// /}.json"; done
t0=$(date +%s%N)
python3 -c "
import os, shutil, time
variants = ['$RESULTS/variant-%s.json' % v for v in ('12345', '12346', '124356', '1234')]
for k in range(100):
    shutil.copy(variants[k % 4], '$INV.tmp')
    os.rename('$INV.tmp', '$INV')
    time.sleep(0.1)"
measure rewrites_ms "$(( ($(date +%s%N) - t0) / 1000000 ))" "ms for 100 rewrites"
inventory_of 1 2 3 4 6
reloads=$(grep -c 'reloaded' "$RESULTS/n2.log")
measure n2_reloads "$reloads" "reloads applied (changes settle for 250 ms, but wait at most 2 s)"
# Final plan on each of 1..4: 3 running peers + n6, in and out; SAs with the 3 running peers.
settled() {
	local i
	for i in 1 2 3 4; do
		[ "$(sp_count "$i")" -eq 8 ] && [ "$(tagged_sa_count "$i")" -eq 6 ] || return 1
		ip -n "n$i" xfrm policy list priority 1000 | grep -qw "$(node4 5)" && return 1
		ip -n "n$i" xfrm state | grep -qw "$(node4 5)" && return 1
	done
	return 0
}
check "every node's kernel state is the final inventory's (8 policies, 6 SAs, nothing for n5)" wait_until 20 settled
for i in 1 2 3 4; do
	check "n$i has policies for n6 (in the final inventory, not running)" sh -c "ip -n n$i xfrm policy list priority 1000 | grep -qw $(node4 6)"
done
ping_pairs 4
for i in 1 2 3 4; do check "n$i agent running" agent_alive "$i"; done
agent_kill 1 TERM
for i in 2 3 4; do agent_kill "$i" TERM; done
check "valgrind watched n1's agent to its exit: ERROR SUMMARY 0 errors" grep -q 'ERROR SUMMARY: 0 errors from 0 contexts' "$RESULTS/valgrind-n1.txt"
check "valgrind: nothing definitely lost" sh -c "! grep -q 'definitely lost: [1-9]' $RESULTS/valgrind-n1.txt"
check_sanitizers
