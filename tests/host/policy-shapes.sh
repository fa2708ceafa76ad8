#!/bin/bash
# Policy shapes and ownership across mode changes, on this host's kernel (no ESP needed: no pair
# comes up; the agent runs with --skip-esp-check).  Node a's agent, peer b never answers.
# - prefer: out `any -> b` has no template and carries meshsec's tag, in `b -> any` an optional one.
# - A foreign policy held b's out selector at start (a conflict); the mesh flips to require by
#   inventory; the foreign policy is deleted: the agent installs what the plan wants NOW
#   (required), not the prefer shape it wanted when the conflict began.
# - Another owner replaces our policy with `ip xfrm policy update`; a mode change must not put
#   ours back over it: it is reported as a conflict, status says the traffic is foreign.
# - A foreign template-less policy survives `meshsec down`; our tagged one does not.
# Prints "host tests: N passed, N failed".
# usage: tests/host/policy-shapes.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
peer=${ns}b
trap 'for n in $ns $peer; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $n 2>/dev/null; done; rm -rf $work' EXIT
ip netns add "$ns" && ip netns add "$peer" && ip link add s0 netns "$ns" type veth peer name s1 netns "$peer" &&
	ip -n "$ns" addr add 10.81.0.1/24 dev s0 && ip -n "$ns" link set s0 up && ip -n "$ns" link set lo up ||
	{ echo "host tests: 0 passed, 1 failed (netns)"; exit 1; }
chmod 700 "$work"
inv() {	# inv MODE [EXTRA_NODE_B]: the inventory, written as config management would
	printf '{"version": 1, "mesh": {"name": "shapes", "port": 4806, "mode": "%s"}, "nodes": [
  {"name": "a", "addresses": ["10.81.0.1", "fd81::1"]}, {"name": "b", "addresses": ["10.81.0.2", "fd81::2"]}%s]}\n' \
		"$1" "${2:-}" >"$work/inv.tmp" && mv "$work/inv.tmp" "$work/inv.json"
}
x() { ip -n "$ns" xfrm "$@"; }
out_b() { x policy get dir out src 0.0.0.0/0 dst 10.81.0.2/32; }
reloads() { grep -c "reloaded $work/inv.json" "$work/a.log"; }
wait_reload() {	# wait_reload BEFORE: until the agent (watching the file) applied a new one
	for _ in $(seq 1 100); do [ "$(reloads)" -gt "$1" ] && return 0; sleep 0.1; done
	return 1
}
status_of_b() { "$b/meshsec" status --json --socket "$work/a.sock" | python3 -c "
import json, sys; p = [p for p in json.load(sys.stdin)['peers'] if p['name'] == 'b'][0]; print(p['mode'], p['traffic'])"; }

"$b/meshsec" keygen --out "$work/key" >/dev/null
# A foreign policy on b's IPv4 out selector before the agent starts.
x policy add dir out src 0.0.0.0/0 dst 10.81.0.2/32 priority 50 action allow ||
	{ echo "host tests: 0 passed, 1 failed (foreign policy)"; exit 1; }
inv prefer
ip netns exec "$ns" "$b/meshsecd" --skip-esp-check --foreground --log-level debug --inventory "$work/inv.json" \
	--secret "$work/key" --socket "$work/a.sock" --node-state "$work/a.state" >"$work/a.log" 2>&1 &
for _ in $(seq 1 100); do [ -S "$work/a.sock" ] && break; sleep 0.1; done
[ -S "$work/a.sock" ] || { echo "host tests: 0 passed, 1 failed (agent did not start)"; cat "$work/a.log"; exit 1; }

x policy get dir out src ::/0 dst fd81::2/128 >"$work/out6.txt"
x policy get dir in src 10.81.0.2/32 dst 0.0.0.0/0 >"$work/in4.txt"
if ! grep -q tmpl "$work/out6.txt" && grep -q "priority 1000" "$work/out6.txt" &&
	grep -q "level use" "$work/in4.txt" && grep -q "reqid" "$work/in4.txt"; then
	ok "prefer, pair not up: out has no template, in an optional one"
else bad "prefer shapes" "$work/out6.txt"; cat "$work/in4.txt"; fi
if ip -n "$ns" -s xfrm policy get dir out src ::/0 dst fd81::2/128 | grep -q "limit: soft 7882833615231738673(bytes)"; then
	ok "the template-less policy carries meshsec's tag in its soft byte limit"
else bad "tag" "$work/out6.txt"; fi
if out_b | grep -q "priority 50"; then ok "the foreign policy on b's IPv4 out selector is left alone"
else bad "foreign policy replaced at start" "$work/a.log"; fi

# Flip to require while the conflict stands, then the operator deletes the foreign policy.
n=$(reloads); inv require; wait_reload "$n" || bad "the agent did not reload the require inventory" "$work/a.log"
x policy delete dir out src 0.0.0.0/0 dst 10.81.0.2/32
for _ in $(seq 1 400); do out_b 2>/dev/null | grep -q "priority 1000" && break; sleep 0.1; done
out_b >"$work/out4.txt" 2>&1
if grep -q "priority 1000" "$work/out4.txt" && grep -q tmpl "$work/out4.txt" && ! grep -q "level use" "$work/out4.txt"; then
	ok "the foreign policy gone, ours goes in as the plan wants it now: ESP required"
else bad "the policy installed after the conflict is not required" "$work/out4.txt"; fi

# Another owner replaces our IPv6 out policy in place; a mode change must not take it back.
x policy update dir out src ::/0 dst fd81::2/128 priority 1000 tmpl proto esp mode transport reqid 42 level required ||
	bad "ip xfrm policy update failed"
n=$(reloads); inv prefer; wait_reload "$n" || bad "the agent did not reload the prefer inventory" "$work/a.log"
x policy get dir out src ::/0 dst fd81::2/128 >"$work/stolen.txt"
if grep -q "reqid 42" "$work/stolen.txt"; then ok "a mode change leaves another owner's replacement alone"
else bad "another owner's policy was replaced" "$work/stolen.txt"; fi
if grep -q "policy out any -> fd81::2.*another owner's policy holds this selector" "$work/a.log"; then
	ok "the agent reports it as a conflict"
else bad "no conflict reported" "$work/a.log"; fi
if [ "$(status_of_b)" = "prefer foreign" ]; then ok "status: b's traffic is decided by another owner's policy (foreign)"
else bad "status of b: $(status_of_b)"; fi

# meshsec down: ours go (tagged template-less included), a foreign template-less policy stays.
x policy add dir in src 10.81.0.9/32 dst 0.0.0.0/0 priority 990 action allow
ip netns pids "$ns" | xargs -r kill; sleep 0.3
ip netns exec "$ns" "$b/meshsec" down --socket "$work/a.sock" >"$work/down.txt" 2>&1 || bad "meshsec down failed" "$work/down.txt"
if x policy get dir in src 10.81.0.9/32 dst 0.0.0.0/0 >/dev/null 2>&1 && x policy get dir out src ::/0 dst fd81::2/128 | grep -q "reqid 42" &&
	! x policy get dir in src 10.81.0.2/32 dst 0.0.0.0/0 >/dev/null 2>&1 && ! x policy get dir out src 0.0.0.0/0 dst 10.81.0.2/32 >/dev/null 2>&1; then
	ok "meshsec down removes ours and leaves both foreign policies"
else bad "meshsec down" "$work/down.txt"; x policy list; fi
summary
