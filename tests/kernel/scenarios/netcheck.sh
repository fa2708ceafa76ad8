# netcheck: `meshsec netcheck PEER` names what the network between two members blocks.  All
# open (four directions ok, RTT, path MTU after ESP consistent with the link MTU); a firewall
# in n2 dropping inbound ESP (netcheck names ESP and the direction); one dropping the handshake
# port before IPsec (names the port); n2's link MTU lowered (the MTU found drops and is named);
# recorded probes replayed and forged ones sent to n2 change no pair state, are not answered as
# fresh, and leave netcheck working; a client's pipelined netcheck with the other slots taken
# runs; a pair without SAs whose port passes is told "no SA" with its reason, never blamed on the
# firewall; a reload removing the peer ends its run at once.  Asserted on the CLI's output and the agents' state.
modprobe -d /run/modroot -a ip_tables iptable_filter x_tables xt_tcpudp xt_policy xt_u32 >>"$RESULTS/modprobe.log" 2>&1
mesh_up 2
NC_OUT=$RESULTS/netcheck
mkdir -p "$NC_OUT"

# netcheck NAME [ARGS]: n1's netcheck of n2, text and JSON kept as NAME.txt / NAME.json.
netcheck() {
	local name=$1
	shift
	in_node 1 "$MESHSEC" netcheck n2 --socket "$(sock 1)" "$@" >"$NC_OUT/$name.txt" 2>&1
	echo $? >"$NC_OUT/$name.rc"
	in_node 1 "$MESHSEC" netcheck n2 --json --socket "$(sock 1)" "$@" >"$NC_OUT/$name.json" 2>&1
}
jfield() { python3 -c "import functools,json,sys; v=functools.reduce(lambda v, k: v[k], '$2'.split('.'), json.load(open('$NC_OUT/$1.json'))); print('null' if v is None else v)"; }
says() { grep -qF "$2" "$NC_OUT/$1.txt" || { cat "$NC_OUT/$1.txt"; return 1; }; }
n2_fw() { ip netns exec n2 iptables-legacy "$@"; }
# What n2 did with n1's probes (its netcheck of n1 reports them): FIELD of peer_probes.
n2_counts() {
	in_node 2 "$MESHSEC" netcheck n1 --json --timeout 1 --socket "$(sock 2)" >"$NC_OUT/n2-counts.json" 2>&1
	python3 -c "import json; print(json.load(open('$NC_OUT/n2-counts.json'))['peer_probes']['$1'])"
}

# --- all open ---
netcheck open
expect_eq "all open: netcheck exits 0" "$(cat "$NC_OUT/open.rc")" 0
check "all open: the text says no problems" says open "no problems found"
for d in clear_out clear_in esp_out esp_in; do
	expect_eq "all open: $d" "$(jfield open directions.$d)" ok
done
kmtu=$(jfield open mtu.kernel)
arrived=$(jfield open mtu.arrived)
measure netcheck_rtt_esp_ms "$(jfield open rtt_ms.esp)" ms
measure netcheck_mtu "kernel $kmtu, arrived $arrived" "(link MTU 1500, aes-gcm-256, IPv4 transport)"
check "all open: an RTT is reported for both channels" test "$(jfield open rtt_ms.clear)" != null -a "$(jfield open rtt_ms.esp)" != null
# ESP transport with AES-GCM costs 34-37 bytes on the wire (DESIGN.md); the kernel's figure is
# what an inner packet may be, rounded to the cipher's 4-byte block: 30-40 below the link MTU.
check "all open: the kernel's MTU after ESP is the link MTU less the ESP overhead ($kmtu)" \
	test "$kmtu" -ge 1460 -a "$kmtu" -le 1470
expect_eq "all open: the largest inner packet that arrived is the kernel's figure" "$arrived" "$kmtu"
sa_spis 1 >"$NC_OUT/spis-before"
ups_before=$(ups 1)

# --- inbound ESP dropped at n2 (the handshake port stays open) ---
n2_fw -A INPUT -p esp -j DROP
netcheck esp_in_dropped
n2_fw -D INPUT -p esp -j DROP
expect_eq "ESP dropped into n2: netcheck exits 1" "$(cat "$NC_OUT/esp_in_dropped.rc")" 1
check "ESP dropped into n2: names ESP and the direction" \
	says esp_in_dropped "ESP (IP protocol 50) from n1 to n2 is dropped on the way: allow IP protocol 50"
expect_eq "ESP dropped into n2: one finding, not also an MTU one" "$(jfield esp_in_dropped problems | python3 -c 'import ast,sys; print(len(ast.literal_eval(sys.stdin.read())))')" 1
expect_eq "ESP dropped into n2: esp_out" "$(jfield esp_in_dropped directions.esp_out)" blocked
expect_eq "ESP dropped into n2: esp_in" "$(jfield esp_in_dropped directions.esp_in)" ok
expect_eq "ESP dropped into n2: clear_out" "$(jfield esp_in_dropped directions.clear_out)" ok
expect_eq "ESP dropped into n2: clear_in" "$(jfield esp_in_dropped directions.clear_in)" ok

# --- the handshake port dropped into n2, as a firewall in front of IPsec would (--pol none:
# packets that arrived as ESP and were decrypted pass, as a security group never sees them) ---
n2_fw -A INPUT -p udp --dport 4801 -m policy --dir in --pol none -j DROP
netcheck udp_in_dropped
n2_fw -D INPUT -p udp --dport 4801 -m policy --dir in --pol none -j DROP
expect_eq "udp/4801 dropped into n2: netcheck exits 1" "$(cat "$NC_OUT/udp_in_dropped.rc")" 1
check "udp/4801 dropped into n2: names the port and the direction" \
	says udp_in_dropped "handshake port udp/4801 blocked from n1 to n2"
expect_eq "udp/4801 dropped into n2: clear_out" "$(jfield udp_in_dropped directions.clear_out)" blocked
expect_eq "udp/4801 dropped into n2: clear_in" "$(jfield udp_in_dropped directions.clear_in)" ok
expect_eq "udp/4801 dropped into n2: esp_out" "$(jfield udp_in_dropped directions.esp_out)" ok
expect_eq "udp/4801 dropped into n2: esp_in" "$(jfield udp_in_dropped directions.esp_in)" ok

# --- n2's link MTU lowered to 1300: n1's kernel still says 1500 less ESP, larger probes are lost ---
ip -n n2 link set eth0 mtu 1300
netcheck low_mtu
ip -n n2 link set eth0 mtu 1500
low=$(jfield low_mtu mtu.arrived)
measure netcheck_mtu_low_link "arrived $low, lost $(jfield low_mtu mtu.lost), kernel $(jfield low_mtu mtu.kernel)" "(n2's link MTU 1300)"
check "MTU 1300 on n2: the largest inner packet that arrived is below 1300 less ESP and within 8 bytes of it ($low)" \
	test "$low" -le 1266 -a "$low" -ge 1250
check "MTU 1300 on n2: the finding names the smaller MTU" says low_mtu "a link on the way has a smaller MTU"
expect_eq "MTU 1300 on n2: netcheck exits 1" "$(cat "$NC_OUT/low_mtu.rc")" 1

# --- replayed and forged probes ---
answered0=$(n2_counts answered)
capture_start "$RESULTS/probes.pcap"
netcheck recorded
capture_stop
answered1=$(n2_counts answered)
check "the recorded run was answered by n2 ($answered0 -> $answered1)" test "$answered1" -gt "$answered0"
replayed0=$(( $(n2_counts replay) + $(n2_counts stale) + $(n2_counts rate_limited) ))
# From n1's own address (the only one n2 takes probes from): every clear datagram n1 sent, 20 times.
tcpdump -r "$RESULTS/probes.pcap" -w "$RESULTS/probes-n1.pcap" "udp and src $(node4 1) and dst $(node4 2) and dst port 4801" 2>/dev/null
for k in $(seq 1 20); do in_node 1 "$INJECT" replay "$(node4 2)" 4801 "$RESULTS/probes-n1.pcap" >/dev/null; done
# Forged: framed as PROBEs from n1 (so they reach the MAC check), under a MAC nobody computed.
in_node 1 python3 - "$(node4 2)" <<'EOF'
import os, socket, sys
body = os.urandom(16 + 8 + 16) + bytes([0, 1, 1, 1, 0, 0]) + (300).to_bytes(2, "big") + bytes(300)
msg = b"MSH\x02\x07\x00\x02\x02n1n2" + body + os.urandom(32)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(100):
    s.sendto(msg, (sys.argv[1], 4801))
EOF
sleep 1	# the agent has read them when it answers the next request; this only spares a retry
bad=$(n2_counts bad_mac)
check "n2 dropped the forged probes as bad MAC ($bad of 100)" test "$bad" -ge 1
answered2=$(n2_counts answered)
replayed1=$(( $(n2_counts replay) + $(n2_counts stale) + $(n2_counts rate_limited) ))
measure netcheck_hostile "replayed or stale or limited +$((replayed1 - replayed0)), bad MAC $(n2_counts bad_mac)" "(20 replays of one run, 100 forgeries)"
expect_eq "no replayed probe was answered as fresh" "$answered2" "$answered1"
check "the replays were counted as replays, stale or over the budget" test "$replayed1" -gt "$replayed0"
check "both agents run" sh -c "kill -0 $(cat "$RESULTS/n1.pid") && kill -0 $(cat "$RESULTS/n2.pid")"
sa_spis 1 >"$NC_OUT/spis-after"
check "no pair state changed: n1's SAs are the same" diff "$NC_OUT/spis-before" "$NC_OUT/spis-after"
expect_eq "no new handshake on n1" "$(ups 1)" "$ups_before"
netcheck after
expect_eq "after the hostile datagrams netcheck still finds everything open" "$(cat "$NC_OUT/after.rc")" 0
expect_eq "the pair is still up" "$(peer_field 1 n2 state)" up

# --- a client that hangs up while its netcheck runs costs nothing ---
in_node 1 timeout 0.3 "$MESHSEC" netcheck n2 --timeout 3 --socket "$(sock 1)" >/dev/null 2>&1
sleep 3.5
check "n1's agent survives a client gone before its netcheck answer" agent_alive 1
netcheck final
expect_eq "and answers the next netcheck" "$(cat "$NC_OUT/final.rc")" 0

# --- a client's pipelined netcheck starts as its previous one ends, with the 3 other slots taken ---
n2_fw -A INPUT -p esp -j DROP	# so every run lasts to its timeout
busy=""
for k in 1 2 3; do
	in_node 1 "$MESHSEC" netcheck n2 --timeout 4 --socket "$(sock 1)" >"$NC_OUT/busy$k.txt" 2>&1 &
	busy="$busy $!"
done
sleep 0.5
in_node 1 python3 - "$(sock 1)" >"$NC_OUT/pipelined.txt" 2>&1 <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
req = json.dumps({"version": 1, "request": "netcheck", "peer": "n2", "timeout": 1}) + "\n"
s.sendall((req + req).encode())
f = s.makefile("rb")
for _ in range(2):
    r = json.loads(f.readline())
    print(r["result"], r.get("message", ""))
EOF
for p in $busy; do wait "$p"; done
n2_fw -D INPUT -p esp -j DROP
expect_eq "pipelined netchecks with 3 others under way: both answered" "$(cut -d' ' -f1 "$NC_OUT/pipelined.txt" | tr '\n' ' ')" "ok ok "

# --- the pair has no SA while the handshake port passes: n1's agent restarted without its SAs,
# and n2 dropping every handshake message from n1 (types 1-6) but not the probes (7, 8) ---
agent_kill 1
ip -n n1 xfrm state flush	# only ours in this namespace; the policies stay (fail closed)
n2_fw -A INPUT -p udp --dport 4801 -m u32 --u32 "0>>22&0x3C@12>>24&0xFF=1:6" -j DROP
agent_start 1
n1_answers() { in_node 1 "$MESHSEC" status --socket "$(sock 1)" >/dev/null 2>&1; [ $? -ne 2 ]; }
check "n1's agent answers again" wait_until 10 n1_answers
netcheck no_sa
check "no SA: n1 says n2 is not up" test "$(peer_field 1 n2 state)" != up
expect_eq "no SA: esp_out" "$(jfield no_sa directions.esp_out)" no-sa
expect_eq "no SA: esp_in" "$(jfield no_sa directions.esp_in)" no-sa
expect_eq "no SA: clear_out" "$(jfield no_sa directions.clear_out)" ok
expect_eq "no SA: clear_in" "$(jfield no_sa directions.clear_in)" ok
# the peer's reason, as status gives it: the handshake under way, then (after 3 tries) no answer
check "no SA: the finding says n1 has no SA to n2, with the peer's reason" \
	grep -qE "n1 has no SA to n2 \((handshake with n2 under way|no answer from n2 at|n2 answers)" "$NC_OUT/no_sa.txt"
check "no SA: no finding blames the firewall for ESP" sh -c "! grep -q 'IP protocol 50) from' $NC_OUT/no_sa.txt"
expect_eq "no SA: no kernel MTU figure (a blackhole route says 65536)" "$(jfield no_sa mtu.kernel)" null
expect_eq "no SA: one finding" "$(jfield no_sa problems | python3 -c 'import ast,sys; print(len(ast.literal_eval(sys.stdin.read())))')" 1

# --- a reload that removes the peer ends its netcheck at once, saying so ---
in_node 1 "$MESHSEC" netcheck n2 --timeout 6 --socket "$(sock 1)" >"$NC_OUT/removed.txt" 2>&1 &
nc_pid=$!
sleep 0.5
write_inventory 1
in_node 1 "$MESHSEC" reload --socket "$(sock 1)" >"$NC_OUT/reload.txt" 2>&1
t0=$(date +%s%N)
wait "$nc_pid"
echo $? >"$NC_OUT/removed.rc"
t1=$(date +%s%N)
expect_eq "n2 removed mid-run: netcheck exits 2" "$(cat "$NC_OUT/removed.rc")" 2
check "n2 removed mid-run: the answer says so" says removed "n2 was removed by a reload"
check "n2 removed mid-run: answered at the reload, not at the timeout ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 2000
n2_fw -D INPUT -p udp --dport 4801 -m u32 --u32 "0>>22&0x3C@12>>24&0xFF=1:6" -j DROP
check "n1's agent survives" agent_alive 1

agents_stop_all
check_sanitizers
