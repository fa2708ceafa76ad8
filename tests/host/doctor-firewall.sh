#!/bin/bash
# meshsec doctor against this host's kernel where the UML bed cannot serve: real nftables and
# iptables rules (the UML kernel has no nf_tables ip/inet families), an MTU too small for ESP,
# a node missing from the inventory.  Everything happens in a scratch network namespace.
# Prints "host tests: N passed, N failed".
# usage: tests/host/doctor-firewall.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
if ! command -v nft >/dev/null; then echo "host tests: 0 passed, 1 failed (nft missing: apt-get install nftables)"; exit 1; fi
ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" link add d0 type veth peer name d1 &&
	ip -n "$ns" addr add 10.77.0.1/24 dev d0 && ip -n "$ns" link set d0 up || { echo "host tests: 0 passed, 1 failed (netns)"; exit 1; }
cat >"$work/inv.json" <<JSON
{"version": 1, "mesh": {"name": "doc", "port": 4801}, "nodes": [
  {"name": "a", "addresses": ["10.77.0.1"]}, {"name": "b", "addresses": ["10.77.0.2"]}]}
JSON
"$b/meshsec" keygen --out "$work/key" >/dev/null
doctor() { ip netns exec "$ns" "$b/meshsec" doctor --json --interval 10 --inventory "$work/inv.json" --secret "$work/key" \
	--socket "$work/none.sock" >"$work/out.json"; }
# firewall_finding SEVERITY TEXT FIXTEXT: a firewall finding with that severity whose message
# contains TEXT and whose fix contains FIXTEXT.
firewall_finding() {
	python3 -c "
import json, sys
f = [x for x in json.load(open('$work/out.json'))['findings'] if x['check'] == 'firewall']
sys.exit(0 if any(x['severity'] == '$1' and '$2' in x['message'] and '$3' in x['fix'] for x in f) else 1)"
}
nftx() { ip netns exec "$ns" nft "$@"; }

doctor
if firewall_finding ok "no nftables or iptables rule drops ESP" ""; then ok "no rules: the firewall is fine"; else bad "no rules" "$work/out.json"; fi
nftx add table inet t && nftx add chain inet t in '{ type filter hook input priority 0; }' && nftx add rule inet t in meta l4proto esp drop
doctor; rc=$?
if [ $rc = 1 ] && firewall_finding error "drops ESP" "accept"; then ok "a rule dropping ESP: named, with the fix, exit 1"; else bad "ESP drop rule (exit $rc)" "$work/out.json"; fi
nftx flush chain inet t in && nftx add rule inet t in udp dport 4801 reject
doctor
if firewall_finding error "UDP port" "accept"; then ok "a rule rejecting the agents' port"; else bad "port reject rule" "$work/out.json"; fi
nftx flush chain inet t in && nftx delete chain inet t in && nftx add chain inet t in '{ type filter hook input priority 0; policy drop; }' &&
	nftx add rule inet t in ct state established accept
doctor
if firewall_finding warn "drops by default and has no rule accepting ESP" "meta l4proto esp accept"; then ok "a default-drop input chain without ESP"; else bad "policy drop chain" "$work/out.json"; fi
nftx add rule inet t in meta l4proto esp accept && nftx add rule inet t in udp dport 4801 accept
doctor
if firewall_finding ok "no nftables or iptables rule drops ESP" ""; then ok "the same chain accepting ESP and the port is fine"; else bad "policy drop with accepts" "$work/out.json"; fi
nftx delete table inet t

# iptables (whichever backend this host's iptables uses; iptables-save shows its rules).
ip netns exec "$ns" iptables -A INPUT -p esp -j DROP
doctor
if firewall_finding error "drops ESP" "accept"; then ok "an iptables rule dropping ESP"; else bad "iptables ESP drop" "$work/out.json"; fi
ip netns exec "$ns" iptables -F INPUT

# finding CHECK SEVERITY TEXT: any finding of that check and severity whose message has TEXT.
finding() {
	python3 -c "
import json, sys
f = json.load(open('$work/out.json'))['findings']
sys.exit(0 if any(x['check'] == '$1' and x['severity'] == '$2' and '$3' in x['message'] for x in f) else 1)"
}
ip -n "$ns" link set d0 mtu 600
doctor
if finding mtu error "MTU 600"; then ok "an MTU too small for ESP overhead"; else bad "small MTU" "$work/out.json"; fi
ip -n "$ns" link set d0 mtu 1500
sed 's/"10.77.0.1"/"10.77.0.9"/' "$work/inv.json" >"$work/other.json" && mv "$work/other.json" "$work/inv.json"
doctor
if finding config error "is in the inventory"; then ok "this node missing from the inventory"; else bad "node not in inventory" "$work/out.json"; fi
summary
