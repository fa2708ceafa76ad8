#!/bin/bash
# The inventory in etcd: three agents (namespaces a, b, c, on this host's kernel with
# --skip-esp-check) follow one key of a real etcd (Debian's etcd-server) that runs in a hub
# namespace bridged to them.
# - every agent starts from the key; a put (one node added) is applied as a diff on every agent,
#   and the time from the put to the last agent's "reloaded" line is printed (not judged);
# - a bad inventory put in etcd is refused with the message `meshsec check` gives for the same
#   text in a file, the source name aside; the mesh keeps running what it had, status says why;
# - the key deleted: the last good inventory stays, status says so until it is back;
# - etcd stopped: status says the source is failing and the last good revision stays in use;
#   a change is made while the agents cannot reach etcd (etcd up on its loopback only), then etcd
#   listens for them again: every agent picks the change up.  The outage is ~15 s, not a minute:
#   the same code path (backoff capped at 8 s, then a range read and a new watch);
# - meshsec check --inventory etcd://... passes and fails as for a file; https:// is refused.
# Prints "host tests: N passed, N failed".
# usage: tests/host/etcd.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
hub=${ns}h
trap 'for n in $hub ${ns}a ${ns}b ${ns}c; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $n 2>/dev/null; done; rm -rf $work' EXIT
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null 2>&1 ||
		{ echo "host tests: 0 passed, 1 failed (cannot install etcd-server etcd-client)"; exit 1; }
fi
ip netns add "$hub" && ip -n "$hub" link add br0 type bridge && ip -n "$hub" addr add 10.79.0.254/24 dev br0 &&
	ip -n "$hub" link set br0 up && ip -n "$hub" link set lo up ||
	{ echo "host tests: 0 passed, 1 failed (netns)"; exit 1; }
i=0
for n in a b c; do
	i=$((i + 1))
	ip netns add "$ns$n" && ip link add e0 netns "$ns$n" type veth peer name "h$n" netns "$hub" &&
		ip -n "$hub" link set "h$n" master br0 up && ip -n "$ns$n" addr add "10.79.0.$i/24" dev e0 &&
		ip -n "$ns$n" link set e0 up && ip -n "$ns$n" link set lo up ||
		{ echo "host tests: 0 passed, 1 failed (netns $n)"; exit 1; }
done
chmod 700 "$work"
url=etcd://10.79.0.254:2379/meshsec/inventory
ctl() { ip netns exec "$hub" env ETCDCTL_API=3 etcdctl --endpoints "${endpoint:-10.79.0.254:2379}" --dial-timeout 5s "$@"; }
etcd_start() {	# etcd_start ADDR: etcd listening for clients there
	ip netns exec "$hub" etcd --name t --data-dir "$work/etcd" --listen-client-urls "http://$1:2379" \
		--advertise-client-urls "http://$1:2379" --listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster t=http://127.0.0.1:2380 >>"$work/etcd.log" 2>&1 &
	etcd_pid=$!
	for _ in $(seq 1 300); do endpoint=$1:2379 ctl endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
etcd_stop() { kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null; }
inv() {	# inv NODES...: the inventory with these nodes (a=10.79.0.1 ...), on stdout
	local sep="" i
	printf '{"version": 1, "mesh": {"name": "etcdtest", "port": 4809}, "nodes": ['
	for n in "$@"; do
		case $n in a) i=1 ;; b) i=2 ;; c) i=3 ;; d) i=4 ;; esac
		printf '%s\n  {"name": "%s", "addresses": ["10.79.0.%s"]}' "$sep" "$n" "$i"; sep=,
	done
	printf ']}\n'
}
put() { ctl put /meshsec/inventory >/dev/null; }	# the inventory on stdin
rev() { ctl get /meshsec/inventory -w json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])'; }
st() {	# st NODE EXPR: a python expression over status --json's inventory object (i)
	ip netns exec "$ns$1" "$b/meshsec" status --json --socket "$work/$1.sock" 2>/dev/null | /usr/bin/python3 -c "
import json, sys; i = json.load(sys.stdin)['inventory']; print(*($2,))" 2>/dev/null
}
wait_all() {	# wait_all EXPR WANT: until st gives WANT (the values, space-separated) on every agent (60 s)
	local end=$((SECONDS + 60))
	for n in a b c; do
		while [ $SECONDS -lt $end ]; do [ "$(st $n "$1")" = "$2" ] && continue 2; sleep 0.1; done
		echo "agent $n: $1 is $(st $n "$1"), not $2"; return 1
	done
}
logged() { for n in a b c; do grep -qF "$1" "$work/$n.log" || return 1; done; }	# logged TEXT: by every agent

"$b/meshsec" keygen --out "$work/key" >/dev/null
etcd_start 10.79.0.254 || { echo "host tests: 0 passed, 1 failed (etcd did not start)"; cat "$work/etcd.log"; exit 1; }
inv a b c | put
r1=$(rev)
for n in a b c; do
	ip netns exec "$ns$n" "$b/meshsecd" --skip-esp-check --foreground --inventory "$url" --secret "$work/key" \
		--socket "$work/$n.sock" --node-state "$work/$n.state" >"$work/$n.log" 2>&1 &
done
if wait_all "i['source'], i['revision'], i['nodes'], i['failing']" "etcd $r1 3 None"; then
	ok "three agents start from the etcd key (revision $r1)"
else bad "agents from etcd" "$work/a.log"; fi

# A node added: a diff on every agent, timed from the put to the last agent's log line.
t0=$(date -u +%H:%M:%S.%3N)
inv a b c d | put
t1=$(date -u +%H:%M:%S.%3N)
r2=$(rev)
if wait_all "i['revision'], i['nodes']" "$r2 4" &&
	logged "reloaded $url (revision $r2): 4 nodes, 1 peers added, 0 removed"; then
	ok "a put reaches every agent as a diff (1 peers added)"
	/usr/bin/python3 - "$t0" "$t1" "$work" "$url (revision $r2)" <<'PY'
import sys
def s(t): h, m, x = t.split(":"); return int(h) * 3600 + int(m) * 60 + float(x)
t0, t1, work, what = s(sys.argv[1]), s(sys.argv[2]), sys.argv[3], sys.argv[4]
at = [s(next(l for l in open(f"{work}/{n}.log") if "reloaded " + what in l).split()[0]) for n in "abc"]
print("figure: etcd put -> applied on every agent: %.0f ms from starting etcdctl put (agents: %s; the last %+.0f ms from etcdctl's exit)"
      % ((max(at) - t0) % 86400 * 1000, ", ".join("%.0f" % ((a - t0) % 86400 * 1000) for a in at), (max(at) - t1) * 1000))
PY
else bad "put applied" "$work/b.log"; fi

# A bad inventory: refused with the file's message; the running mesh stays; status says why.
inv a b c d | sed 's/10.79.0.4/10.79.0.400/' >"$work/bad.json"
ip netns exec "${ns}a" "$b/meshsec" check --inventory "$work/bad.json" --secret "$work/key" >"$work/check-file.out" 2>&1
filemsg=$(sed -n "s|^meshsec check: ||p" "$work/check-file.out")
n0=$(grep -c "reload refused" "$work/c.log")
put <"$work/bad.json"
r3=$(rev)
want=${filemsg//$work\/bad.json/$url}
for _ in $(seq 1 600); do [ "$(grep -c "reload refused" "$work/c.log")" -gt "$n0" ] && break; sleep 0.1; done
if [ -n "$filemsg" ] && grep -qF "reload refused, the running mesh is unchanged: $want" "$work/c.log" &&
	wait_all "i['revision'], i['nodes'], i['failing']['reason']" "$r2 4 revision $r3 refused: $want"; then
	ok "a bad inventory in etcd: refused with the file's message, the last good one runs, status says why"
else echo "file: $filemsg" >>"$work/c.log"; bad "bad inventory refused" "$work/c.log"; fi
ip netns exec "${ns}a" "$b/meshsec" check --inventory "$url" --secret "$work/key" >"$work/check-etcd.out" 2>&1
if [ $? = 1 ] && grep -qxF "meshsec check: $want" "$work/check-etcd.out"; then
	ok "meshsec check --inventory etcd://: the bad inventory fails with the file's message"
else bad "check etcd bad" "$work/check-etcd.out"; fi
inv a b c d | put
r4=$(rev)
if wait_all "i['revision'], i['failing']" "$r4 None"; then ok "a good inventory again: applied, failing cleared"
else bad "good again" "$work/a.log"; fi
ip netns exec "${ns}a" "$b/meshsec" check --inventory "$url" --secret "$work/key" >"$work/check-etcd.out" 2>&1
if { [ $? = 0 ] && grep -q "configuration OK" "$work/check-etcd.out"; } || grep -q "this kernel cannot install an IPv4 ESP SA" "$work/check-etcd.out"; then
	ok "meshsec check --inventory etcd://: a good inventory passes (to the kernel's ESP probe)"
else bad "check etcd good" "$work/check-etcd.out"; fi

# The key deleted: the last good inventory stays, status says so until the key is back.
ctl del /meshsec/inventory >/dev/null
if wait_all "i['revision'], i['nodes'], 'the key was deleted in etcd' in (i['failing'] or {}).get('reason', '')" "$r4 4 True"; then
	ok "the key deleted: every agent keeps revision $r4 and says the key was deleted"
else bad "key deleted" "$work/a.log"; fi
inv a b c d | put
r4=$(rev)
if wait_all "i['revision'], i['failing']" "$r4 None"; then ok "the key put back: applied, failing cleared"
else bad "key back" "$work/a.log"; fi

# etcd stopped: every agent says so and keeps revision r4.
etcd_stop
if wait_all "i['revision'], i['nodes'], i['failing'] is not None and '$url' in i['failing']['reason']" "$r4 4 True" &&
	{ ip netns exec "${ns}b" "$b/meshsec" status --socket "$work/b.sock" >"$work/status.txt" 2>&1; true; } &&
	grep -q "^  ^ FAILING since .*: $url" "$work/status.txt" && grep -q "the last good inventory (that revision) stays in use" "$work/status.txt"; then
	ok "etcd stopped: status (json and text) says the source is failing, revision $r4 stays in use"
else cat "$work/status.txt" >>"$work/b.log" 2>/dev/null; bad "etcd stopped" "$work/b.log"; fi
ip netns exec "${ns}a" "$b/meshsec" check --inventory "$url" --secret "$work/key" >"$work/check-down.out" 2>&1
if [ $? = 1 ] && grep -q "^meshsec check: $url: " "$work/check-down.out"; then ok "meshsec check with etcd down: fails, naming the URL"
else bad "check etcd down" "$work/check-down.out"; fi

# A change while the agents cannot reach etcd (it listens on its loopback only), then back.
t2=$(date +%s)
etcd_start 127.0.0.1 || bad "etcd on loopback did not start" "$work/etcd.log"
inv a b c | endpoint=127.0.0.1:2379 put
r5=$(endpoint=127.0.0.1:2379 rev)
etcd_stop
sleep 5
etcd_start 10.79.0.254 || bad "etcd did not restart" "$work/etcd.log"
if wait_all "i['revision'], i['nodes'], i['failing']" "$r5 3 None" &&
	logged "reloaded $url (revision $r5): 3 nodes, 0 peers added, 1 removed"; then
	ok "a change made while etcd was away is picked up by every agent when it is back ($(( $(date +%s) - t2 )) s outage and catch-up)"
else bad "change while away" "$work/a.log"; fi

ip netns exec "${ns}a" "$b/meshsec" check --inventory "${url/etcd:/https:}" --secret "$work/key" >"$work/check-tls.out" 2>&1
if [ $? = 1 ] && grep -q "TLS to etcd is not supported" "$work/check-tls.out"; then ok "https:// is refused with the supported setup"
else bad "https refused" "$work/check-tls.out"; fi
ip netns exec "${ns}a" "$b/meshsec" check --inventory "etcd://10.79.0.254:2379/no/such/key" --secret "$work/key" >"$work/check-nokey.out" 2>&1
if [ $? = 1 ] && grep -q "no such key in etcd" "$work/check-nokey.out"; then ok "check: a missing key is named"
else bad "missing key" "$work/check-nokey.out"; fi
for n in a b c; do pgrep -f "socket $work/$n.sock" >/dev/null || bad "agent $n exited" "$work/$n.log"; done
summary
