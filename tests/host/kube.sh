#!/bin/bash
# deploy/kubernetes/ without a cluster: every manifest parses; the agent's securityContext,
# paths, probes and the renderer's RBAC are what they must be (kube_manifests.py); the
# renderer's own script, run with a stub kubectl over five rounds of NodeLists, replaces the
# ConfigMap only when membership changes and keeps it on a bad round; meshsecd, started with
# the DaemonSet's exact arguments (mounted paths moved under a scratch root laid out as the
# kubelet lays out ConfigMap and Secret volumes), passes the probe, takes the rendered
# inventory, and reloads on a ..data swap.  As root, in a scratch network namespace; the host
# kernel may lack ESP, so the agent gets --skip-esp-check.  The agent runs with CAP_NET_ADMIN only.
# Not covered, by nature: a real kubelet, API server, RBAC enforcement, image build.
# Prints "host tests: N passed, N failed".
# usage: tests/host/kube.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
src=$(cd "$(dirname "$0")/../.." && pwd)
M=$b/meshsec D=$b/meshsecd py=/usr/bin/python3
root=$work/root gen=$work/gen st=$work/stub
mkdir -p "$gen" "$st/bin"

$py -c 'import yaml' 2>/dev/null || { apt-get install -y python3-yaml || { apt-get update && apt-get install -y python3-yaml; }; } >/dev/null 2>&1
$py -c 'import yaml' 2>/dev/null || { echo "host tests: 0 passed, 1 failed (python3-yaml cannot be installed)"; exit 1; }

# Static checks; they also write the agent's arguments, the probe and the renderer's script.
$py "$src/tests/host/kube_manifests.py" "$src/deploy/kubernetes" "$root" "$gen" >"$work/static" 2>&1 ||
	bad "kube_manifests.py ran" "$work/static"
while read -r verdict what; do
	case $verdict in ok) ok "$what" ;; bad) bad "$what" ;; esac
done <"$work/static"

# NodeLists as kubectl prints them; VARIANT: a (first), b (a node more, another order, new
# heartbeats), b2 (b with new heartbeats only), dup (a name twice).
nodes() {
	$py - "$1" <<'PY'
import json, sys
v = sys.argv[1]
def node(name, ip, beat, labels=None):
    return {"kind": "Node", "metadata": {"name": name, "labels": labels or {}, "resourceVersion": beat},
            "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}],
                       "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": beat}]}}
items = [node("node-a", "10.91.0.1", v), node("node-b", "10.91.0.2", v),
         node("gpu-1", "10.91.0.9", v, {"meshsec.io/member": "false"}),
         node("ip-10-91-0-7.a-rather-long-zone-name.compute.internal.example.org", "10.91.0.7", v)]
if v != "a":
    items = [node("node-c", "10.91.0.3", v)] + items[::-1]
if v == "dup":
    items.append(node("node-b", "10.91.0.8", v))
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2))
PY
}

# The stub kubectl serves the NodeList of the round and keeps the ConfigMap in $st/live.
cat >"$st/bin/kubectl" <<'SH'
#!/bin/bash
echo "$*" >>"$STUB/calls"
while [ "${1:-}" = -n ]; do shift 2; done
case "$*" in
"get nodes -o json") cat "$STUB/nodes.json" ;;
"get configmap meshsec-inventory -o jsonpath="*) cat "$STUB/live" 2>/dev/null; exit 0 ;;
"create configmap meshsec-inventory --from-file=inventory.json="*" --dry-run=client -o json")
	f=${4#--from-file=inventory.json=}
	/usr/bin/python3 -c 'import json,sys; print(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": {"name": "meshsec-inventory"}, "data": {"inventory.json": open(sys.argv[1]).read()}}))' "$f" ;;
"replace -f "*)
	n=$(ls "$STUB"/replaced.* 2>/dev/null | wc -l)
	cp "$3" "$STUB/replaced.$n"
	/usr/bin/python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["data"]["inventory.json"])' "$3" >"$STUB/live" ;;
*) echo "stub kubectl: unexpected: $*" >&2; exit 1 ;;
esac
SH
# The stub sleep ends a round: it sets the next round's NodeList, and stops the loop after the last.
cat >"$st/bin/sleep" <<'SH'
#!/bin/bash
r=$(($(cat "$STUB/round") + 1)); echo $r >"$STUB/round"
set -- $ROUNDS
shift $r
[ $# = 0 ] && { kill -TERM $PPID; exit 0; }
cp "$STUB/nodes.$1.json" "$STUB/nodes.json"
SH
chmod +x "$st/bin/kubectl" "$st/bin/sleep"
for v in a b b2 dup; do nodes $v >"$st/nodes.$v.json"; done
cp "$st/nodes.a.json" "$st/nodes.json"
echo 0 >"$st/round"
mkdir -p "$root/etc/meshsec/mesh" "$root/tmp"
cp "$gen/mesh.json" "$root/etc/meshsec/mesh/mesh.json"
start=$SECONDS
# The stub sleep ends the loop with SIGTERM; the subshell keeps bash's "Terminated" off the output.
(STUB=$st ROUNDS="a a b b2 dup" POD_NAMESPACE=meshsec INTERVAL_SECONDS=30 PATH="$st/bin:$b:$PATH" \
	timeout 120 /bin/sh "$gen/render.sh" >"$work/render.out" 2>"$work/render.err") 2>/dev/null
echo "renderer: 5 rounds in $((SECONDS - start)) s" >>"$work/render.out"
cat "$work/render.out" "$work/render.err" >"$work/render.log"
names() { $py -c 'import json,sys; print(" ".join(n["name"] for n in json.loads(json.load(open(sys.argv[1]))["data"]["inventory.json"])["nodes"]))' "$1"; }
if [ "$(cat "$st/round")" = 5 ] && [ "$(grep -c "^get nodes -o json$" "$st/calls")" = 5 ] && [ "$(ls "$st"/replaced.* | wc -l)" = 2 ] &&
	[ "$(names "$st/replaced.0")" = "node-a node-b" ] && [ "$(names "$st/replaced.1")" = "node-a node-b node-c" ] &&
	[ "$(grep -c "replaced the inventory" "$work/render.out")" = 2 ]; then
	ok "renderer: 5 rounds, ConfigMap replaced exactly when members changed (rounds 1 and 3)"
else bad "renderer: replaces only on change" "$work/render.log"; fi
if [ "$(grep -c "ip-10-91-0-7.a-rather-long.*left out of the mesh: node name .* is 65 characters long" "$work/render.err")" = 2 ] &&
	grep -q "node node-b is listed twice" "$work/render.err" && grep -q "this round failed" "$work/render.err" &&
	cmp -s "$st/live" <($py -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["data"]["inventory.json"])' "$st/replaced.1"); then
	ok "renderer: a node it cannot take named (once per change); a bad round named, the ConfigMap kept"
else bad "renderer: left-out nodes and a bad round" "$work/render.log"; fi
if command -v kubectl >/dev/null || apt-get install -y kubernetes-client >/dev/null 2>&1; then
	$py -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["data"]["inventory.json"])' "$st/replaced.1" >"$work/inv1.json"
	kubectl -n meshsec create configmap meshsec-inventory --from-file=inventory.json="$work/inv1.json" --dry-run=client -o json \
		>"$work/real-cm.json" 2>&1
	if $py -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["data"]["inventory.json"] != open(sys.argv[2]).read())' \
		"$work/real-cm.json" "$work/inv1.json"; then
		ok "kubectl create configmap --dry-run=client carries the inventory byte for byte (what the stub does)"
	else bad "real kubectl's configmap" "$work/real-cm.json"; fi
else echo "skip kubectl create configmap: no kubectl (kubernetes-client) to compare the stub with"; fi

# The kubelet's volume layout: DIR/..TIMESTAMP/KEY, DIR/..data -> ..TIMESTAMP, DIR/KEY -> ..data/KEY,
# and an update swaps ..data by rename.  atomic DIR KEY FILE MODE
atomic() {
	local ts
	ts=..$(date -u +%Y_%m_%d_%H_%M_%S.%N)
	mkdir -p "$1/$ts" && chmod 755 "$1/$ts" && cp "$3" "$1/$ts/$2" && chmod "$4" "$1/$ts/$2" &&
		ln -s "$ts" "$1/..data_tmp" && mv -T "$1/..data_tmp" "$1/..data" && { [ -L "$1/$2" ] || ln -s "..data/$2" "$1/$2"; }
}
$py -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["data"]["inventory.json"])' "$st/replaced.0" >"$work/inv0.json"
$py -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["data"]["inventory.json"])' "$st/replaced.1" >"$work/inv1.json"
(umask 077; "$M" keygen >"$work/key")
mkdir -p "$root/etc/meshsec/inventory" "$root/etc/meshsec/secret" "$root/run/meshsec" "$root/var/lib/meshsec"
atomic "$root/etc/meshsec/inventory" inventory.json "$work/inv0.json" 644 && atomic "$root/etc/meshsec/secret" mesh.key "$work/key" 400 ||
	bad "kubelet layout"

ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" link add d0 type veth peer name d1 &&
	ip -n "$ns" addr add 10.91.0.1/24 dev d0 && ip -n "$ns" link set d0 up ||
	{ bad "netns"; summary; exit; }
in_ns() { ip netns exec "$ns" "$@"; }
mapfile -t args <"$gen/agent.args"
args=("${args[@]//\$(NODE_NAME)/node-a}")
sock=$root/run/meshsec/meshsec.sock
"$D" "${args[@]}" --help >"$work/help" 2>&1 && ok "meshsecd accepts the DaemonSet's arguments: ${args[*]#$root}" ||
	bad "meshsecd refuses the DaemonSet's arguments" "$work/help"

in_ns "$M" check --inventory "$work/inv0.json" --secret "$work/key" --node node-a >"$work/check" 2>&1
rc=$?
if { [ $rc = 0 ] && grep -q "configuration OK" "$work/check"; } || grep -q "this kernel cannot install an IPv4 ESP SA" "$work/check"; then
	ok "meshsec check takes the rendered ConfigMap's inventory as node-a"
else bad "meshsec check of the rendered inventory (exit $rc)" "$work/check"; fi

# The top-level mesh.key of a Secret volume is a symbolic link, which the secret loader refuses:
# hence ..data/mesh.key in the DaemonSet.
top=()
for a in "${args[@]}"; do [ "$a" = "$root/etc/meshsec/secret/..data/mesh.key" ] && a=$root/etc/meshsec/secret/mesh.key; top+=("$a"); done
timeout 20 ip netns exec "$ns" "$D" "${top[@]}" --skip-esp-check >"$work/top.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "is a symbolic link" "$work/top.log" && ok "the Secret volume's top-level mesh.key (a symlink) is refused, as the manifest expects" ||
	bad "top-level mesh.key (exit $rc)" "$work/top.log"

# As in the container: root with only CAP_NET_ADMIN left (bounding set), no new privileges.
# Without it the agent must not start: the capability set is what the test runs under.
caps=(setpriv --no-new-privs --inh-caps=-all)
timeout 20 ip netns exec "$ns" "${caps[@]}" --bounding-set=-all "$D" "${args[@]}" --skip-esp-check >"$work/nocap.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "not starting" "$work/nocap.log" && ok "without CAP_NET_ADMIN the agent does not start (exit 1)" ||
	bad "agent without CAP_NET_ADMIN (exit $rc)" "$work/nocap.log"
ip netns exec "$ns" "${caps[@]}" --bounding-set=-all,+net_admin "$D" "${args[@]}" --skip-esp-check >"$work/agent.log" 2>&1 &
agent=$!
probe() { in_ns env PATH="$b:$PATH" /bin/sh -c "$(cat "$gen/probe")"; }
peers() { "$M" status --json --socket "$sock" 2>/dev/null | $py -c 'import json,sys; print(json.load(sys.stdin)["counts"]["peers"])' 2>/dev/null; }
start=$SECONDS
until probe 2>/dev/null || [ $((SECONDS - start)) -ge 60 ]; do command sleep 0.5; done
if probe; then ok "the probe passes: agent up with the DaemonSet's arguments in $((SECONDS - start)) s (bound 60 s)"
else bad "the probe never passed" "$work/agent.log"; fi
[ "$(peers)" = 1 ] && [ "$(cat "$root/var/lib/meshsec/node" 2>/dev/null)" = node-a ] &&
	ok "agent: node-a with 1 peer from the ConfigMap; node name kept in the hostPath" ||
	bad "agent's peers ($(peers)) or node state" "$work/agent.log"

atomic "$root/etc/meshsec/inventory" inventory.json "$work/inv1.json" 644
start=$SECONDS
until [ "$(peers)" = 2 ] || [ $((SECONDS - start)) -ge 60 ]; do command sleep 0.5; done
[ "$(peers)" = 2 ] && ok "..data swap to the next rendering: node-c is a peer after $((SECONDS - start)) s (bound 60 s)" ||
	bad "..data swap not reloaded ($(peers) peers)" "$work/agent.log"

kill "$agent"; wait "$agent" 2>/dev/null
grep -q "stopping; kernel state stays" "$work/agent.log" || bad "the agent stopped" "$work/agent.log"
if probe 2>/dev/null; then bad "the probe passes with no agent"; else ok "the probe fails once the agent is gone"; fi
summary
