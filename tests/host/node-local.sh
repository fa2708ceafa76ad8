#!/bin/bash
# --node NAME names a node of this host: `meshsec check`, `meshsec doctor`, `meshsecd` and
# `meshsec install-policies` refuse a node none of whose inventory addresses is on this host (the
# agent must not install another node's policies here), unless --no-address-check; at boot,
# install-policies takes the name meshsecd saved without the test.  In a scratch network namespace, as root.
# Prints "host tests: N passed, N failed".
# usage: tests/host/node-local.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" link add d0 type veth peer name d1 &&
	ip -n "$ns" addr add 10.78.0.1/24 dev d0 && ip -n "$ns" addr add fd78::1/64 dev d0 nodad && ip -n "$ns" link set d0 up ||
	{ echo "host tests: 0 passed, 1 failed (netns)"; exit 1; }
cat >"$work/inv.json" <<JSON
{"version": 1, "mesh": {"name": "nl", "port": 4802}, "nodes": [
  {"name": "a", "addresses": ["10.78.0.1", "fd78::1"]}, {"name": "b", "addresses": ["10.78.0.2"]}]}
JSON
(umask 077; "$b/meshsec" keygen >"$work/key")
in_ns() { ip netns exec "$ns" "$@"; }
check() { in_ns "$b/meshsec" check --inventory "$work/inv.json" --secret "$work/key" "$@" >"$work/out" 2>&1; }
# accepted RC TEXT: check took the node (said TEXT), or got past it to the ESP probe, which a
# kernel without ESP (like some test hosts) fails: only a node it accepted gets that far.
accepted() { { [ "$1" = 0 ] && grep -q "$2" "$work/out"; } || grep -q "this kernel cannot install an IPv4 ESP SA" "$work/out"; }

check --node a
if accepted $? "named by --node, address on this host"; then ok "check --node of this host's node"; else bad "check --node a" "$work/out"; fi
check --node b
rc=$?
if [ $rc = 1 ] && grep -qF -- '--node b: none of its inventory addresses (10.78.0.2) is on this host (this host'"'"'s addresses: 10.78.0.1, fd78::1; by them this host is node "a")' "$work/out" &&
	grep -qF -- "--no-address-check" "$work/out" && ! grep -q "configuration OK" "$work/out"; then
	ok "check --node of another node: refused, naming both nodes' addresses and the fix"
else
	bad "check --node b (exit $rc)" "$work/out"
fi
check --node b --json
if [ $? = 1 ] && grep -q '"valid": false' "$work/out"; then ok "check --json --node of another node: invalid"; else bad "check --json --node b" "$work/out"; fi
check --node b --no-address-check
if accepted $? "named by --node, address not checked"; then ok "--no-address-check lets --node name any node"; else bad "--no-address-check" "$work/out"; fi
check --no-address-check
if [ $? = 1 ] && grep -q "needs --node NAME" "$work/out"; then ok "--no-address-check without --node: refused"; else bad "--no-address-check alone" "$work/out"; fi

in_ns "$b/meshsec" doctor --json --interval 10 --inventory "$work/inv.json" --secret "$work/key" --socket "$work/none.sock" --node b >"$work/out" 2>&1
if python3 -c "
import json, sys
f = json.load(open('$work/out'))['findings']
sys.exit(0 if any(x['check'] == 'config' and x['severity'] == 'error' and 'none of its inventory addresses' in x['message'] for x in f) else 1)"
then ok "doctor --node of another node: a config error"; else bad "doctor --node b" "$work/out"; fi

# The agent: it must refuse before touching the kernel, not install b's policies in a's namespace.
timeout 5 ip netns exec "$ns" "$b/meshsecd" --foreground --inventory "$work/inv.json" --secret "$work/key" \
	--socket "$work/agent.sock" --node b >"$work/out" 2>&1
rc=$?
in_ns ip xfrm policy >"$work/pol"
if [ $rc = 1 ] && grep -q "not starting: .*--node b: none of its inventory addresses" "$work/out" && [ ! -s "$work/pol" ]; then
	ok "meshsecd --node of another node: refuses to start, installs nothing"
else
	echo "exit $rc; policies:" >>"$work/out"; cat "$work/pol" >>"$work/out"
	bad "meshsecd --node b" "$work/out"
fi

# install-policies runs at boot before any address is up: in a namespace with none, it takes the
# name meshsecd saved without the test; an explicit --node needs --no-address-check there.
ip -n "$ns" addr flush dev d0
echo a >"$work/node"
install() { in_ns "$b/meshsec" install-policies --inventory "$work/inv.json" --node-state "$work/node" "$@" >"$work/out" 2>&1; }
install
if [ $? = 0 ] && grep -q "node a (the node this host last ran as" "$work/out" && [ -n "$(in_ns ip xfrm policy)" ]; then
	ok "install-policies before the network: the saved name, no address needed"
else bad "install-policies with the saved name" "$work/out"; fi
in_ns ip xfrm policy flush
install --node a
rc=$?
if [ $rc = 1 ] && grep -q -- "--node a: none of its inventory addresses (10.78.0.1, fd78::1) is on this host" "$work/out" &&
	[ -z "$(in_ns ip xfrm policy)" ]; then
	ok "install-policies --node without the address: refused, nothing installed"
else bad "install-policies --node a (exit $rc)" "$work/out"; fi
install --node a --no-address-check
if [ $? = 0 ] && [ -n "$(in_ns ip xfrm policy)" ]; then ok "install-policies --node --no-address-check"; else bad "install-policies --no-address-check" "$work/out"; fi
summary
