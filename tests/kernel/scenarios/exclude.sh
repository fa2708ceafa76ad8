# Exclusions: traffic left in clear on purpose, and nothing else.  3 nodes (IPv4);
# mesh.exclude tcp/443 and tcp/9443 (every member, both ways); n2 serves udp/8000-8100 in clear
# to n1 only.  On the wire (a capture, counted after the traffic is done): tcp/443 in clear both
# ways, tcp/444 and ping as ESP with 0 in clear; inside the udp range clear from n1, the ports
# just outside (7999, 8101) and the same port from n3 as ESP, each datagram answered.  In the
# kernel: the exclusions' policies at priority 990 with no template and meshsec's tag.  A reload
# dropping tcp/9443 removes exactly its 4 policies per node and no SA; a foreign template-less
# policy at priority 990 on n1 survives start, reload, stop and `meshsec down`.
# (The inventory is written here rather than by write_inventory: it needs a node's own list.)
N=3
topo_up $N
make_secret
N2_EXCLUDE='{"proto": "udp", "port": "8000-8100", "peer": "n1"}'
ex_inventory() {
	cat >"$INV.tmp" <<EOF
{"version": 1, "mesh": {"name": "kt", "port": ${MESH_PORT:-4801}, "exclude": [$1]},
 "nodes": [
  {"name": "n1", "addresses": ["$(node4 1)"]},
  {"name": "n2", "addresses": ["$(node4 2)"], "exclude": [$N2_EXCLUDE]},
  {"name": "n3", "addresses": ["$(node4 3)"]}
 ]}
EOF
	mv "$INV.tmp" "$INV"
}
ex_inventory '{"proto": "tcp", "port": 443}, {"proto": "tcp", "port": 9443}'

# Another owner's template-less policy in meshsec's priority band (no tag: not ours).
in_node 1 ip xfrm policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 proto tcp dport 7443 priority 990
foreign() { ip -n n1 xfrm policy list dir in priority 990 | grep -q 'proto tcp dport 7443'; }
check "foreign template-less policy in place" foreign
# Two more, each with exactly the selector of one of meshsec's exclusion policies (allow, no
# template: that traffic passes in clear all the same).  meshsec leaves them alone and reports
# them: on n1 for peer n2 (an entry of n2's list), on n3 node-wide (mesh.exclude).
in_node 1 ip xfrm policy add dir out src 0.0.0.0/0 dst "$(node4 2)/32" proto udp dport 8100 priority 500
in_node 3 ip xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 proto tcp dport 443 priority 500
held() {
	ip -n n1 xfrm policy list priority 500 | grep -q "dst $(node4 2)/32 proto udp dport 8100" &&
		ip -n n3 xfrm policy list priority 500 | grep -q "dst 0.0.0.0/0 proto tcp dport 443"
}
check "foreign policies holding exclusion selectors in place" held

# One line per policy ("src ... dir in priority 990 ptype main [tmpl ...]").
pol_lines() {
	ip -n "n$1" xfrm policy | awk '/^src/ {if (r) print r; r = $0; next} {r = r " " $0} END {if (r) print r}' |
		tr -s ' \t' ' ' | sed 's/ $//'
}
excl_lines() { pol_lines "$1" | grep ' priority 990 '; }
excl_count() { excl_lines "$1" | grep -c .; }
TAG=7882833615231738673	# MS_SP_TAG, "meshsec1", in the lifetime's soft byte limit
tagged_count() { ip -n "n$1" -s xfrm policy list priority 990 | grep -c "soft $TAG(bytes)"; }

# A server in n1 and n2: TCP echo on 443, 444, 9443; UDP echo on 7999, 8050, 8100, 8101.  Each
# message received is logged with its source, so delivery is known whatever the wire showed.
cat >"$RESULTS/srv.py" <<'EOF'
import socket, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def tcp(s, port):
    while True:
        c, a = s.accept()
        c.settimeout(10)
        try:
            data = c.recv(100)
            log.write("tcp %d %s %s\n" % (port, a[0], data.decode()))
            c.sendall(data)
        except OSError:
            pass
        c.close()
def udp(s, port):
    while True:
        data, a = s.recvfrom(100)
        log.write("udp %d %s %s\n" % (port, a[0], data.decode()))
        s.sendto(data, a)
for port in (443, 444, 9443):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    threading.Thread(target=tcp, args=(s, port), daemon=True).start()
for port in (7999, 8050, 8100, 8101):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    threading.Thread(target=udp, args=(s, port), daemon=True).start()
open(sys.argv[2], "w").write("ready\n")
threading.Event().wait()
EOF
# The client: each PROTO:HOST:PORT in turn, a message and its echo (UDP: up to 5 tries).
cat >"$RESULTS/cli.py" <<'EOF'
import socket, sys
bad = 0
for op in sys.argv[2:]:
    proto, host, port = op.split(":")
    msg = ("%s-%s" % (sys.argv[1], op)).encode()
    got = b""
    try:
        if proto == "tcp":
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(msg)
            got = s.recv(100)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            for _ in range(5):
                s.sendto(msg, (host, int(port)))
                try:
                    got = s.recvfrom(100)[0]
                    break
                except socket.timeout:
                    pass
        s.close()
    except OSError as e:
        print("error", op, e)
    print("ok" if got == msg else "FAIL", op)
    bad += got != msg
sys.exit(1 if bad else 0)
EOF
srv_pids=""
for i in 1 2; do
	rm -f "$RESULTS/srv$i.ready"
	in_node "$i" python3 "$RESULTS/srv.py" "$RESULTS/srv$i.log" "$RESULTS/srv$i.ready" >"$RESULTS/srv$i.err" 2>&1 &
	srv_pids="$srv_pids $!"
done
check "servers listening in n1 and n2" wait_until 30 sh -c "[ -f $RESULTS/srv1.ready ] && [ -f $RESULTS/srv2.ready ]"

for i in 1 2 3; do agent_start "$i"; done
check "3-node mesh complete" wait_until 30 mesh_complete 3

# ---- the kernel's policies ---------------------------------------------------------------
# n1: mesh 2 entries x 4, plus as n2's client 4 blocks x 2; n2: mesh 8 plus as server 8; n3: mesh 8.
# Less the one another owner holds on n1 and on n3.
expect_eq "n1: policies at priority 990 (15 meshsec's and the foreign one)" "$(excl_count 1)" 16
expect_eq "n2: policies at priority 990" "$(excl_count 2)" 16
expect_eq "n3: policies at priority 990 (not n2's client: mesh.exclude only)" "$(excl_count 3)" 7
for i in 1 2 3; do
	expect_eq "n$i: no exclusion policy has a template" "$(excl_lines "$i" | grep -c tmpl)" 0
done
expect_eq "n1: meshsec's tag on its 15 exclusion policies, not on the foreign one" "$(tagged_count 1)" 15
expect_eq "n2: meshsec's tag on its 16 exclusion policies" "$(tagged_count 2)" 16
has() { excl_lines "$1" | grep -qF "$2"; }
check "n2: in from n1 to udp 8000/0xffc0 (ip shows the block's first port)" \
	has 2 "src $(node4 1)/32 dst 0.0.0.0/0 proto udp dport 8000 dir in priority 990"
check "n2: out to n1 from udp 8100" has 2 "src 0.0.0.0/0 dst $(node4 1)/32 proto udp sport 8100 dir out priority 990"
check "n1: out to n2 udp 8064/0xffe0" has 1 "src 0.0.0.0/0 dst $(node4 2)/32 proto udp dport 8064 dir out priority 990"
check "n1: in from n2 udp sport 8096/0xfffc" has 1 "src $(node4 2)/32 dst 0.0.0.0/0 proto udp sport 8096 dir in priority 990"
for w in "sport 443 dir out" "sport 443 dir in" "dport 443 dir in"; do
	check "n3: mesh-wide tcp $w" has 3 "src 0.0.0.0/0 dst 0.0.0.0/0 proto tcp $w priority 990"
done
check "n1: the pair policies stay at priority 1000 with their template" \
	sh -c "ip -n n1 xfrm policy list priority 1000 dir out | grep -A3 'dst $(node4 2)/32' | grep -q 'proto esp'"
check "foreign policy survives start" foreign
check "foreign policies holding exclusion selectors survive start" held
conflicts() { in_node "$1" "$MESHSEC" status --json --socket "$(sock "$1")" | python3 -c "import json, sys
print(' | '.join(sorted(c['policy'] + '=' + str(c['peer']) for c in json.load(sys.stdin)['policy_conflicts'])))"; }
expect_eq "n1's status names the held exclusion with its peer" "$(conflicts 1)" "out any -> $(node4 2) udp dport 8100 (clear)=n2"
expect_eq "n3's status names the held exclusion as node-wide" "$(conflicts 3)" "out any -> any tcp dport 443 (clear)=None"
check "n1 logs the held exclusion, with what holds it" grep -q "exclusion policy out any -> $(node4 2) udp dport 8100 (clear) for peer n2: another owner's policy holds this selector (allow, priority 500, no template" "$RESULTS/n1.log"
all_up() { in_node "$1" "$MESHSEC" status --socket "$(sock "$1")" >/dev/null; }	# exit 0: every peer up
check "a held exclusion is no peer's problem: n1 shows every peer up" wait_until 20 all_up 1
check "... and n3 too" wait_until 20 all_up 3

# ---- what meshsec says -------------------------------------------------------------------
in_node 2 "$MESHSEC" check --inventory "$INV" --secret "$KEY" >"$RESULTS/check-n2.txt" 2>&1
check "meshsec check on n2 lists the exclusions" \
	grep -q "^exclusions tcp/443 (mesh), tcp/9443 (mesh), udp/8000-8100 on n2 from n1 (4 port blocks)" "$RESULTS/check-n2.txt"
check "meshsec check on n2 lists the policies with their masks" \
	grep -q "in $(node4 1) -> any udp dport 8064/0xffe0 (clear) *priority 990, no template" "$RESULTS/check-n2.txt"
in_node 1 "$MESHSEC" status --socket "$(sock 1)" >"$RESULTS/status-n1.txt" 2>&1
check "meshsec status on n1 says the exclusions on its header" \
	grep -q "^exclusions: tcp/443 (mesh), tcp/9443 (mesh), udp/8000-8100 on n2 from n1" "$RESULTS/status-n1.txt"
status_excl() { in_node "$1" "$MESHSEC" status --json --socket "$(sock "$1")" | python3 -c 'import json, sys
print(" | ".join(x["text"] + ":" + str(x["blocks"]) for x in json.load(sys.stdin)["exclusions"]))'; }
expect_eq "n3's status --json lists mesh.exclude only" "$(status_excl 3)" "tcp/443 (mesh):1 | tcp/9443 (mesh):1"

# ---- the wire ----------------------------------------------------------------------------
capture_start "$RESULTS/exclude.pcap"
A1=$(node4 1) A2=$(node4 2) A3=$(node4 3)
check "n1 -> n2: tcp 443, 444, 9443, udp 7999, 8050, 8100, 8101 answered" \
	in_node 1 python3 "$RESULTS/cli.py" n1 "tcp:$A2:443" "tcp:$A2:444" "tcp:$A2:9443" \
	"udp:$A2:7999" "udp:$A2:8050" "udp:$A2:8100" "udp:$A2:8101"
check "n2 -> n1: tcp 443 and 444 answered" in_node 2 python3 "$RESULTS/cli.py" n2 "tcp:$A1:443" "tcp:$A1:444"
check "n3 -> n2: tcp 443 and udp 8050 answered" in_node 3 python3 "$RESULTS/cli.py" n3 "tcp:$A2:443" "udp:$A2:8050"
check "n1 pings n2" in_node 1 ping -c3 -W2 "$A2"
capture_stop

pair() { echo "host $1 and host $2"; }
clear_n1n2() { capture_count "ip and $(pair "$A1" "$A2") and not esp and $1"; }
check "tcp/443 n1 -> n2 crossed in clear" test "$(capture_count "ip and src host $A1 and dst host $A2 and tcp dst port 443")" -gt 0
check "its replies n2 -> n1 crossed in clear" test "$(capture_count "ip and src host $A2 and dst host $A1 and tcp src port 443")" -gt 0
check "tcp/443 n2 -> n1 (n1 the server) crossed in clear" test "$(capture_count "ip and src host $A2 and dst host $A1 and tcp dst port 443")" -gt 0
check "tcp/9443 n1 -> n2 crossed in clear" test "$(clear_n1n2 "tcp port 9443")" -gt 0
check "tcp/443 n3 -> n2 crossed in clear (mesh-wide)" test "$(capture_count "ip and $(pair "$A3" "$A2") and tcp port 443")" -gt 0
check "udp/8050 n1 -> n2 crossed in clear, both ways" \
	sh -c "[ $(capture_count "ip and src host $A1 and udp dst port 8050") -gt 0 ] && [ $(capture_count "ip and src host $A2 and udp src port 8050") -gt 0 ]"
check "udp/8100 (the range's last port) n1 -> n2 crossed in clear" test "$(clear_n1n2 "udp port 8100")" -gt 0
expect_eq "tcp/444 in clear" "$(capture_count "ip and tcp port 444")" 0
expect_eq "ping (ICMP echo) in clear" "$(capture_count "ip and (icmp[0] = 8 or icmp[0] = 0)")" 0
expect_eq "udp/7999 (LO-1) in clear" "$(capture_count "ip and udp port 7999")" 0
expect_eq "udp/8101 (HI+1) in clear" "$(capture_count "ip and udp port 8101")" 0
expect_eq "udp/8050 from n3 (not the peer) in clear" "$(capture_count "ip and host $A3 and udp port 8050")" 0
expect_eq "anything else in clear between members" \
	"$(capture_count "ip and not esp and not udp port ${MESH_PORT:-4801} and not tcp port 443 and not tcp port 9443 and not (udp portrange 8000-8100 and $(pair "$A1" "$A2"))")" 0
check "ESP crossed" test "$(capture_count esp)" -gt 0
got() { grep -q "^$1 $2 $3 " "$RESULTS/srv$4.log"; }
check "n2 got udp/7999 and udp/8101 from n1 (as ESP)" sh -c "grep -q '^udp 7999 $A1 ' $RESULTS/srv2.log && grep -q '^udp 8101 $A1 ' $RESULTS/srv2.log"
check "n2 got udp/8050 from n3 (as ESP)" got udp 8050 "$A3" 2
check "n2 got tcp/444 from n1 (as ESP)" got tcp 444 "$A1" 2

# ---- reload: drop tcp/9443 ---------------------------------------------------------------
same_sas() { sa_spis "$1" | diff "$RESULTS/sa$1.before" -; }
for i in 1 2 3; do
	pol_lines "$i" | sort >"$RESULTS/pol$i.before"
	sa_spis "$i" >"$RESULTS/sa$i.before"
done
ex_inventory '{"proto": "tcp", "port": 443}'
kill -HUP "$(cat "$RESULTS/n1.pid")"
for i in 1 2 3; do
	check "n$i reloaded without tcp/9443" wait_until 30 sh -c "[ \$(ip -n n$i xfrm policy list priority 990 | grep -c 'tcp .port 9443') -eq 0 ]"
done
for i in 1 2 3; do
	pol_lines "$i" | sort >"$RESULTS/pol$i.after"
	diff "$RESULTS/pol$i.before" "$RESULTS/pol$i.after" >"$RESULTS/pol$i.diff"
	expect_eq "n$i: reload removed 4 policies" "$(grep -c '^<' "$RESULTS/pol$i.diff")" 4
	expect_eq "n$i: ... each of them tcp/9443's" "$(grep '^<' "$RESULTS/pol$i.diff" | grep -c 'proto tcp [sd]port 9443 ')" 4
	expect_eq "n$i: reload added no policy" "$(grep -c '^>' "$RESULTS/pol$i.diff")" 0
	check "n$i: reload changed no SA" same_sas "$i"
done
check "foreign policy survives reload" foreign
check "foreign policies holding exclusion selectors survive reload" held
capture_start "$RESULTS/exclude-reloaded.pcap"
check "n1 -> n2: tcp 9443 and 443 answered after the reload" in_node 1 python3 "$RESULTS/cli.py" n1r "tcp:$A2:9443" "tcp:$A2:443"
capture_stop
expect_eq "tcp/9443 in clear after the reload" "$(capture_count "ip and tcp port 9443")" 0
check "tcp/443 still in clear after the reload" test "$(capture_count "ip and tcp port 443")" -gt 0

# ---- stop, down --------------------------------------------------------------------------
for i in 1 2 3; do agent_kill "$i" TERM; done
check "foreign policy survives agent stop" foreign
expect_eq "n1: meshsec's exclusion policies stay after a plain stop" "$(tagged_count 1)" 11
check "meshsec down on n1" in_node 1 "$MESHSEC" down --socket "$(sock 1)"
check "foreign policy survives meshsec down" foreign
check "foreign policies holding exclusion selectors survive meshsec down (n1) and stop (n3)" held
expect_eq "n1: policies at priority 990 after down (the foreign one)" "$(excl_count 1)" 1
expect_eq "n1: tagged exclusion policies after down" "$(tagged_count 1)" 0
expect_eq "n1: meshsec's pair policies after down" "$(sp_count 1)" 0
for p in $srv_pids; do kill "$p" 2>/dev/null; done
check_sanitizers
