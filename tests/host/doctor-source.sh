#!/bin/bash
# meshsec doctor's "source" check against this host's kernel: the local addresses it may use as
# the source of traffic to members (dropped: only this node's inventory address has SAs), and
# the source the kernel really picks per member.  A secondary address, a VIP, a route naming a
# source, a deprecated IPv6 address, and a real IPv6 temporary address (use_tempaddr=2 and an
# address flagged mngtmpaddr: the kernel makes one without a router advertisement).  In a
# scratch network namespace, as root.  Prints "host tests: N passed, N failed".
# usage: tests/host/doctor-source.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
ipn() { ip -n "$ns" "$@"; }
ip netns add "$ns" && ipn link set lo up && ipn link add d0 type veth peer name d1 && ipn link set d1 up &&
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.d0.accept_dad=0 net.ipv6.conf.d0.use_tempaddr=0 &&
	ipn link set d0 up && ipn addr add 10.79.0.1/24 dev d0 && ipn addr add fd79::1/64 dev d0 ||
	{ echo "host tests: 0 passed, 1 failed (netns)"; exit 1; }
cat >"$work/inv.json" <<JSON
{"version": 1, "mesh": {"name": "src", "port": 4803}, "nodes": [
  {"name": "a", "addresses": ["10.79.0.1", "fd79::1"]}, {"name": "b", "addresses": ["10.79.0.2", "fd79::2"]},
  {"name": "c", "addresses": ["10.69.0.3"]}]}
JSON
(umask 077; "$b/meshsec" keygen >"$work/key")
doctor() { ip netns exec "$ns" "$b/meshsec" doctor --json --interval 10 --inventory "$work/inv.json" --secret "$work/key" \
	--socket "$work/none.sock" >"$work/out.json"; }
# source SEVERITY TEXT...: a "source" finding of that severity whose message has every TEXT.
source() {
	python3 - "$work/out.json" "$@" <<'PY'
import json, sys
path, sev, texts = sys.argv[1], sys.argv[2], sys.argv[3:]
f = [x for x in json.load(open(path))['findings'] if x['check'] == 'source']
sys.exit(0 if any(x['severity'] == sev and all(t in x['message'] for t in texts) for x in f) else 1)
PY
}
# no_source SEVERITY: no "source" finding of that severity.
no_source() { ! grep -q . <(python3 -c "
import json
print('\n'.join(x['message'] for x in json.load(open('$work/out.json'))['findings'] if x['check'] == 'source' and x['severity'] == '$1'))"); }

doctor
if source ok "no global address of the mesh's families on this host but 10.79.0.1 / fd79::1" && no_source warn && no_source error; then
	ok "only the member addresses: nothing to report"
else bad "clean host" "$work/out.json"; fi

ipn addr add 10.79.0.100/24 dev d0
doctor
if source warn "does not pick as a source on its own" "10.79.0.100/24 on d0 (secondary)" "dropped, not sent in clear" && no_source error; then
	ok "a secondary IPv4 address: listed, the kernel does not pick it"
else bad "secondary address" "$work/out.json"; fi

ipn addr add 10.89.0.1/32 dev d0
doctor
if source warn "may pick as the source of traffic to members" "10.89.0.1/32 on d0" &&
	source ok "picks this node's address as the source for the 2 member addresses it has a route to"; then
	ok "a VIP (another primary): the kernel may pick it; today it picks the member address"
else bad "VIP" "$work/out.json"; fi

ipn route add 10.69.0.0/24 dev d0 src 10.89.0.1
doctor
if source error "the kernel picks 10.89.0.1, not this node's 10.79.0.1, as the source of traffic to 1 member address (c 10.69.0.3)"; then
	ok "a route naming the VIP as src: the member it reaches is named"
else bad "route src" "$work/out.json"; fi
ipn route change 10.69.0.0/24 dev d0 src 10.79.0.1
doctor
if no_source error && source ok "the source for the 3 member addresses it has a route to"; then
	ok "the fix (ip route change ... src MEMBER) clears it"; else bad "route src fixed" "$work/out.json"; fi

ipn addr add fd79::5/64 dev d0 preferred_lft 0
doctor
if source warn "does not pick as a source on its own" "fd79::5/64 on d0 (deprecated)" && no_source error; then
	ok "a deprecated IPv6 address: the kernel does not pick it"
else bad "deprecated IPv6" "$work/out.json"; fi

ip netns exec "$ns" sysctl -qw net.ipv6.conf.d0.use_tempaddr=2
doctor
if source warn "net.ipv6.conf.d0.use_tempaddr is 2: a temporary address made from a router advertisement would be preferred"; then
	ok "use_tempaddr=2 with no temporary address yet: warned"
else bad "use_tempaddr armed" "$work/out.json"; fi

ipn addr del fd79::1/64 dev d0 && ipn addr add fd79::1/64 dev d0 mngtmpaddr
for _ in 1 2 3 4 5 6 7 8 9 10; do ipn -6 addr show dev d0 | grep -q temporary && break; sleep 0.3; done
tmp=$(ipn -6 addr show dev d0 | sed -n 's/.*inet6 \([^/]*\)\/64 scope global temporary.*/\1/p' | head -n 1)
doctor
if [ -n "$tmp" ] && source warn "IPv6 temporary addresses the kernel prefers as the source (use_tempaddr=2): $tmp/64 on d0" &&
	source error "the kernel picks $tmp, not this node's fd79::1, as the source of traffic to 1 member address (b fd79::2)"; then
	ok "a temporary IPv6 address with use_tempaddr=2: listed, and the member it is picked for named"
else bad "temporary address ($tmp)" "$work/out.json"; fi
ip netns exec "$ns" sysctl -qw net.ipv6.conf.d0.use_tempaddr=0
doctor
if [ -n "$tmp" ] && no_source error && source warn "does not pick as a source on its own" "$tmp/64 on d0 (temporary)"; then
	ok "the fix (use_tempaddr=0): the kernel picks the member address at once"
else bad "use_tempaddr=0" "$work/out.json"; fi

ip netns exec "$ns" "$b/meshsec" doctor --interval 10 --inventory "$work/inv.json" --secret "$work/key" --socket "$work/none.sock" >"$work/out.txt"
if grep -q "^warn  source .*10.89.0.1/32 on d0" "$work/out.txt" && grep -q "fix: make the routes to members name this node's address" "$work/out.txt"; then
	ok "text output: findings with their fixes"
else bad "text output" "$work/out.txt"; fi
summary
