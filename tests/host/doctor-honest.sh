#!/bin/bash
# meshsec doctor says what it could not check, on this host's kernel (which has no ESP: the
# agents run with --skip-esp-check).  Node a's agent runs with two rules dropping ESP (one nft
# rule, one iptables rule: with iptables-nft the second is in nft's ruleset too).  As a member
# of the socket's group (not root) doctor reads the agent's inventory, says the firewall, the
# kernel's policies and SAs need root, and blames no module and no rule; as root it finds both
# rules once each, the missing ESP module, and does not blame the firewall for the silent peer.
# Then node b runs with another secret: doctor on a names the secret/mesh-name mismatch; then
# with the right one: status names the kernel's refusal of the SAs (no ESP here).
# Prints "host tests: N passed, N failed".
# usage: tests/host/doctor-honest.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
peer=${ns}b
trap 'for n in $ns $peer; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $n 2>/dev/null; done; rm -rf $work' EXIT
ip netns add "$ns" && ip netns add "$peer" && ip link add h0 netns "$ns" type veth peer name h1 netns "$peer" &&
	ip -n "$ns" addr add 10.78.0.1/24 dev h0 && ip -n "$ns" link set h0 up && ip -n "$ns" link set lo up &&
	ip -n "$peer" addr add 10.78.0.2/24 dev h1 && ip -n "$peer" link set h1 up && ip -n "$peer" link set lo up ||
	{ echo "host tests: 0 passed, 1 failed (netns)"; exit 1; }
chmod 755 "$work"
cat >"$work/inv.json" <<JSON
{"version": 1, "mesh": {"name": "honest", "port": 4805}, "nodes": [
  {"name": "a", "addresses": ["10.78.0.1"]}, {"name": "b", "addresses": ["10.78.0.2"]}]}
JSON
chmod 644 "$work/inv.json"
"$b/meshsec" keygen --out "$work/key" >/dev/null && "$b/meshsec" keygen --out "$work/other" >/dev/null
agent() {	# agent NETNS NAME SECRET
	ip netns exec "$1" "$b/meshsecd" --skip-esp-check --foreground --inventory "$work/inv.json" --secret "$3" \
		--socket "$work/$2.sock" --node-state "$work/$2.state" >"$work/$2.log" 2>&1 &
	for _ in $(seq 1 100); do [ -S "$work/$2.sock" ] && return 0; sleep 0.1; done
	return 1
}
agent "$ns" a "$work/key" || { echo "host tests: 0 passed, 1 failed (agent a did not start)"; cat "$work/a.log"; exit 1; }
chgrp 4300 "$work/a.sock"	# the socket's group, as group meshsec gets it where that group exists
nftx() { ip netns exec "$ns" nft "$@"; }
nftx add table inet t && nftx add chain inet t in '{ type filter hook input priority 0; }' && nftx add rule inet t in meta l4proto esp drop &&
	ip netns exec "$ns" iptables -A INPUT -p esp -j DROP || { echo "host tests: 0 passed, 1 failed (rules)"; exit 1; }

member="setpriv --reuid 65534 --regid 65534 --groups 4300"
doctor() {	# doctor OUT [PREFIX...]: doctor on node a, with no --inventory (the agent's), --json into OUT
	local out=$1; shift
	ip netns exec "$ns" "$@" "$b/meshsec" doctor --json --interval 10 --secret "$work/key" --socket "$work/a.sock" >"$work/$out"
}
# q FILE EXPR: a Python expression over f (the findings) and c (the counts) is true.
q() { python3 -c "
import json, sys
d = json.load(open('$work/$1')); f = d['findings']; c = d.get('counts', {})
def of(check, sev=None): return [x for x in f if x['check'] == check and (sev is None or x['severity'] == sev)]
sys.exit(0 if ($2) else 1)"; }

doctor member.json $member; rc=$?
if q member.json "of('firewall', 'skip') and 'needs root' in of('firewall')[0]['message'] and len(of('firewall')) == 1"; then
	ok "group member: the firewall check says it needs root (and nothing else about the firewall)"
else bad "group member: firewall" "$work/member.json"; fi
if ! grep -q "no nftables or iptables rule drops" "$work/member.json"; then ok "group member: never 'no rule drops ESP'"; else bad "group member: no-rule claim" "$work/member.json"; fi
if q member.json "of('policies', 'skip') and of('sas', 'skip') and all('needs root' in x['message'] for x in of('policies') + of('sas'))"; then
	ok "group member: the policy and SA checks are skipped, saying so"
else bad "group member: policies/sas" "$work/member.json"; fi
if q member.json "of('kernel', 'skip') and not of('kernel', 'error')" && ! grep -q esp4 "$work/member.json"; then
	ok "group member: its own permission error is not a missing esp4"
else bad "group member: kernel" "$work/member.json"; fi
if q member.json "c.get('skip') == len([x for x in f if x['severity'] == 'skip']) >= 5 and not [x for x in f if x['severity'] == 'ok' and 'needs root' in x['message']]"; then
	ok "group member: --json counts the skips, severity skip (never ok)"
else bad "group member: skip severity" "$work/member.json"; fi
if q member.json "any(x['check'] == 'config' and x['severity'] == 'ok' and '$work/inv.json' in x['message'] and 'as the agent says' in x['message'] for x in f)"; then
	ok "group member: the inventory is the agent's (no --inventory given)"
else bad "group member: agent's inventory" "$work/member.json"; fi
ip netns exec "$ns" $member "$b/meshsec" doctor --interval 10 --socket "$work/a.sock" >"$work/member.txt"
if grep -q "^skip  firewall .*needs root: run as root to check the firewall rules" "$work/member.txt" &&
	grep -q "fix: sudo meshsec doctor" "$work/member.txt" && grep -Eq "^[0-9]+ ok, [0-9]+ warnings, [0-9]+ errors, [1-9][0-9]* not checked$" "$work/member.txt"; then
	ok "group member: text output shows skip with its fix and the count"
else bad "group member: text" "$work/member.txt"; fi

# wait_peer EXPR [SOCKET]: until EXPR over the only peer (p) in the status of a (or of SOCKET's
# agent) holds, at most 30 s.
wait_peer() {
	for _ in $(seq 1 150); do
		"$b/meshsec" status --json --socket "${2:-$work/a.sock}" 2>/dev/null |
			python3 -c "import json,sys; p = json.load(sys.stdin)['peers'][0]; sys.exit(0 if ($1) else 1)" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
wait_peer "p['state'] == 'down'" || bad "peer b never reported down"
doctor root.json; rc=$?
if [ $rc = 1 ] && q root.json "len(of('firewall', 'error')) == 2 and any('nft delete rule inet t in handle' in x['fix'] for x in of('firewall')) and
	any('nft delete rule ip filter INPUT handle' in x['fix'] for x in of('firewall'))"; then
	ok "root: both rules found, once each, each with the command that deletes it"
else bad "root: firewall rules (exit $rc)" "$work/root.json"; fi
# iptables-nft's rule shows in iptables-save and in nft's ruleset: one finding, not two.
if q root.json "len({(x['check'], x['severity'], x['message']) for x in f}) == len(f) and len([x for x in f if 'drops ESP' in x['message']]) == 2"; then
	ok "root: no duplicate findings (the iptables-nft rule once, not once per tool)"
else bad "root: duplicates" "$work/root.json"; fi
if q root.json "any('esp4' in x['message'] for x in of('kernel', 'error')) and not any('esp6' in x['message'] for x in f)"; then
	ok "root: the missing esp4 is named; esp6 is not probed (the mesh has no IPv6)"
else bad "root: kernel" "$work/root.json"; fi
if q root.json "of('peers', 'error') and all('IP protocol 50' not in x['fix'] and 'cannot do ESP' in x['fix'] for x in of('peers', 'error'))"; then
	ok "root: the silent peer is blamed on the missing ESP, not on the firewall"
else bad "root: peers on a kernel without ESP" "$work/root.json"; fi
ip -n "$ns" xfrm policy delete src 0.0.0.0/0 dst 10.78.0.2/32 dir out && ip -n "$ns" xfrm policy delete src 10.78.0.2/32 dst 0.0.0.0/0 dir in
doctor root.json
if q root.json "any(x['message'].startswith('2 of the plan') and 'policies missing: ' in x['message'] for x in of('policies', 'error'))"; then
	ok "root: missing policies are counted"
else bad "root: counted policies" "$work/root.json"; fi

cp "$work/inv.json" "$work/copy.json"
ip netns exec "$ns" "$b/meshsec" doctor --json --interval 10 --inventory "$work/copy.json" --socket "$work/a.sock" >"$work/copy.json.out"
if python3 -c "
import json, sys
f = json.load(open('$work/copy.json.out'))['findings']
sys.exit(0 if any(x['check'] == 'config' and x['severity'] == 'warn' and 'the agent runs the inventory $work/inv.json, not $work/copy.json' in x['message'] for x in f) else 1)"; then
	ok "--inventory other than the agent's: said"
else bad "--inventory differs" "$work/copy.json.out"; fi

# b with another secret: a counts b's handshakes failing authentication.
agent "$peer" b "$work/other" || bad "agent b did not start" "$work/b.log"
# The agent says auth_failed once two datagrams failed with no authentic one between (one could be
# a forgery); doctor runs after that state, not after the first bad MAC.
wait_peer "p['errors']['bad_mac'] > 0 and (p.get('reason') or {}).get('code') == 'auth_failed'" ||
	bad "a never said b's handshakes fail authentication"
doctor secret.json
if q secret.json "any('fail authentication' in x['message'] and 'secret or the mesh name' in x['message'] and 'IP protocol 50' not in x['fix']
	and 'mesh.name' in x['fix'] for x in of('peers', 'error')) and not any('no answer' in x['message'] for x in of('peers'))"; then
	ok "wrong secret on the peer: doctor names the secret/mesh-name mismatch, not the firewall"
else bad "wrong secret" "$work/secret.json"; fi

# b again with the right secret: b answers the handshake but its kernel (no ESP here) refuses the
# inbound SA, so the handshake never completes.  b's status names the refusal with the kernel's
# own words and the fix; a's says b answers but no handshake completes, and sends the operator to b.
ip netns pids "$peer" | xargs -r kill; sleep 0.5
rm -f "$work/b.sock"
agent "$peer" b "$work/key" || bad "agent b did not start again" "$work/b.log"
wait_peer "(p.get('reason') or {}).get('code') == 'kernel_refused'" "$work/b.sock" || bad "b never said its kernel refused the SAs" "$work/b.log"
ip netns exec "$peer" "$b/meshsec" status --socket "$work/b.sock" >"$work/status-refused.txt"
ip netns exec "$peer" "$b/meshsec" show a --socket "$work/b.sock" >"$work/show-refused.txt"
if grep -q '^  ^ kernel_refused: the kernel refused the SAs for a: .*not found' "$work/status-refused.txt" &&
	grep -Eq '^  fix +run `meshsec doctor` as root: it checks that the kernel has ESP' "$work/show-refused.txt"; then
	ok "a kernel without ESP: status names the refusal with the kernel's text, show gives the fix"
else bad "kernel refusal reason" "$work/status-refused.txt"; cat "$work/show-refused.txt"; fi
wait_peer "(p.get('reason') or {}).get('code') == 'no_handshake'" || bad "a never said b answers without a handshake" "$work/a.log"
ip netns exec "$ns" "$b/meshsec" show b --socket "$work/a.sock" >"$work/show-a.txt"
if grep -Eq '^  fix +run `meshsec show` for this node on the peer: its reason names what it refuses' "$work/show-a.txt"; then
	ok "the other side of a refusal: a sends the operator to b's own reason"
else bad "no_handshake fix" "$work/show-a.txt"; fi
summary
