# Helpers for kernel scenarios, sourced inside the guest with RESULTS, BUILDDIR and
# TESTS_KERNEL set.  A scenario is a script of topo_up, in_node, check and measure calls;
# finish (called by guest-init.sh) turns the checks into the verdict.
#
# Topology: node i lives in network namespace n$i with eth0 on bridge br0 (root namespace),
# addresses 10.77.0.i/24 and fd77::i/64.  tcpdump on br0 sees every packet between nodes.

CHECKS=$RESULTS/checks.log
: >"$CHECKS"
N_FAILED=0

node4() { echo "10.77.0.$1"; }
node6() { echo "fd77::$1"; }
in_node() { local i=$1; shift; ip netns exec "n$i" "$@"; }

# topo_up N: N namespaces on one bridge, built with two ip -batch runs plus one per node
# (process start-up is slow in the guest, so no process per link).
topo_up() {
	local n=$1 i f
	sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	# The neighbour tables are shared by every namespace: 40 nodes on one bridge hold 40 x 39
	# entries per family, past the default gc_thresh3 of 1024 (sends then fail with ENOBUFS).
	for f in ipv4 ipv6; do
		sysctl -qw net.$f.neigh.default.gc_thresh1=4096 net.$f.neigh.default.gc_thresh2=8192 \
			net.$f.neigh.default.gc_thresh3=16384
	done
	{
		echo "link add br0 type bridge"
		echo "link set br0 up"
		for i in $(seq 1 "$n"); do echo "netns add n$i"; done
	} | ip -batch - || return 1
	{
		for i in $(seq 1 "$n"); do
			echo "link add h$i type veth peer name eth0 netns n$i"
			echo "link set h$i master br0"
			echo "link set h$i up"
		done
	} | ip -batch - || return 1
	for i in $(seq 1 "$n"); do node_addrs "$i" || return 1; done
	TOPO_N=$n
}

node_addrs() {
	ip netns exec "n$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0
	printf '%s\n' "link set lo up" "addr add $(node4 "$1")/24 dev eth0" \
		"addr add $(node6 "$1")/64 dev eth0 nodad" "link set eth0 up" | ip -n "n$1" -batch -
}

# node_rebuild I: node I's namespace deleted and made again, as after a reboot: no kernel state.
node_rebuild() {
	ip netns del "n$1"
	ip netns add "n$1" && ip link add "h$1" type veth peer name eth0 netns "n$1" && ip link set "h$1" master br0 &&
		ip link set "h$1" up && node_addrs "$1"
}

# check DESCRIPTION COMMAND...: runs the command, records ok or FAIL with its output.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok   $desc" >>"$CHECKS"
	else
		echo "FAIL $desc (exit $rc)" >>"$CHECKS"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/       /' >>"$CHECKS"
		N_FAILED=$((N_FAILED + 1))
	fi
	return $rc
}

# measure NAME VALUE [UNIT]: a figure for the report (not a pass/fail).
measure() { echo "measure $1 = $2 ${3:-}" >>"$CHECKS"; }

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then
		echo "ok   $1 ($2)" >>"$CHECKS"
	else
		echo "FAIL $1: got '$2', want '$3'" >>"$CHECKS"
		N_FAILED=$((N_FAILED + 1))
	fi
}

# capture_start FILE: tcpdump on the bridge (every inter-node packet) until capture_stop.
# --immediate-mode: packets reach the file as they come, not when a ring block fills or times
# out, so a short capture stopped at once is complete (without it: 8 received, 0 captured).
capture_start() {
	CAPTURE_FILE=$1
	tcpdump -i br0 -n -U --immediate-mode -Z root -w "$CAPTURE_FILE" >"$RESULTS/tcpdump.log" 2>&1 &
	CAPTURE_PID=$!
	local t
	for t in $(seq 1 50); do
		grep -q 'listening on' "$RESULTS/tcpdump.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tcpdump did not start" >&2
	return 1
}

capture_stop() {
	sleep 0.3
	kill -INT "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
}

# capture_count FILTER: packets in the capture matching a pcap filter.
capture_count() {
	tcpdump -n -r "$CAPTURE_FILE" "$1" 2>/dev/null | wc -l
}

# Packets between two member addresses that are neither ESP nor the agents' UDP port.
# ICMP port-unreachable (type 3 code 3) answers the agents' UDP to a node whose agent is not up.
cleartext_between() {
	capture_count "ip and host $1 and host $2 and not esp and not (udp port ${MESH_PORT:-4801}) and not (icmp[0] = 3 and icmp[1] = 3)"
}

finish() {
	local total
	total=$(grep -cE '^(ok|FAIL)' "$CHECKS")
	if [ "$total" -eq 0 ]; then
		echo "FAIL: the scenario made no checks" >"$RESULTS/result"
	elif [ "$N_FAILED" -eq 0 ]; then
		echo PASS >"$RESULTS/result"
	else
		echo "FAIL: $N_FAILED of $total checks failed" >"$RESULTS/result"
	fi
}

# ---- meshsec agents -------------------------------------------------------------------------
MESHSECD=$BUILDDIR/meshsecd
MESHSEC=$BUILDDIR/meshsec
INV=$RESULTS/inventory.json
KEY=$RESULTS/mesh.key

# write_inventory N [v4|v6|dual] [FIRST]: nodes FIRST..N (default 1) into $INV, atomically.
# MESH_EXTRA adds settings to the mesh section (', "keepalive_seconds": 1').
write_inventory() {
	local n=$1 fam=${2:-v4} first=${3:-1} i sep="" addrs
	{
		printf '{"version": 1, "mesh": {"name": "kt", "port": %s%s}, "nodes": [' "${MESH_PORT:-4801}" "${MESH_EXTRA:-}"
		for i in $(seq "$first" "$n"); do
			case $fam in
			v4) addrs="\"$(node4 "$i")\"" ;;
			v6) addrs="\"$(node6 "$i")\"" ;;
			dual) addrs="\"$(node4 "$i")\", \"$(node6 "$i")\"" ;;
			esac
			printf '%s\n  {"name": "n%s", "addresses": [%s]}' "$sep" "$i" "$addrs"
			sep=","
		done
		printf '\n]}\n'
	} >"$INV.tmp" && mv "$INV.tmp" "$INV"
}

make_secret() { "$MESHSEC" keygen --out "$KEY" >/dev/null; }

# agent_start I: meshsecd in node I's namespace, same files and command line on every node
# (but its own control socket, as all nodes share this file system: sock I names it).
sock() { echo "/run/meshsec-n$1.sock"; }
# AGENT_WRAP (a command to run it under) and AGENT_ARGS (more options) apply when set.
agent_start() {
	ip netns exec "n$1" ${AGENT_WRAP:-} "$MESHSECD" --foreground --log-level debug --inventory "$INV" --secret "$KEY" \
		--socket "$(sock "$1")" --node-state "$RESULTS/n$1.node" ${AGENT_ARGS:-} >>"$RESULTS/n$1.log" 2>&1 &
	echo $! >"$RESULTS/n$1.pid"
}
agent_kill() { kill -"${2:-KILL}" "$(cat "$RESULTS/n$1.pid")" 2>/dev/null; wait "$(cat "$RESULTS/n$1.pid")" 2>/dev/null; }
agent_alive() { kill -0 "$(cat "$RESULTS/n$1.pid")" 2>/dev/null; }

sa_count() { ip -n "n$1" xfrm state | grep -c '^src'; }
# SAs carrying meshsec's tag (reqid 0x6d730001-0x6d73ffff) on node I.
tagged_sa_count() {
	ip -n "n$1" xfrm state | awk '/proto esp spi/ {for (k = 1; k < NF; k++) if ($k == "reqid") {
		split($(k + 1), f, "("); r = f[1] + 0; if (r >= 1836253185 && r <= 1836318719) c++ }} END {print c + 0}'
}
# meshsec's policies (priority 1000), not the sockets' bypass policies.
sp_count() { ip -n "n$1" xfrm policy list priority 1000 | grep -c '^src'; }

# wait_until TIMEOUT_S COMMAND...: polls every 0.1 s; returns 1 on time-out.
wait_until() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# wait_or_say TIMEOUT COMMAND...: wait_until, quietly; on time-out runs COMMAND once more, so
# what it prints (why not) is what a failed check reports.
wait_or_say() {
	wait_until "$@" >/dev/null 2>&1 && return 0
	shift
	"$@"
	return 1
}

# All nodes 1..N have one SA per direction and family with every other node (and no more).
mesh_complete() {
	local n=$1 per=${2:-2} i
	for i in $(seq 1 "$n"); do
		[ "$(sa_count "$i")" -eq $(( (n - 1) * per )) ] || return 1
	done
}

# SPI and key-material-free view of a node's SAs: "src dst spi" lines, sorted.
sa_spis() { ip -n "n$1" xfrm state | awk '/^src/ {s=$2; d=$4} /proto esp spi/ {split($4, f, "("); print s, d, f[1]}' | sort; }

# Counter of packets through an SA on node I, by SPI as sa_spis prints it.
sa_packets() {
	ip -n "n$1" -s xfrm state | awk -v spi="$2" '/proto esp spi/ {split($4, f, "("); cur=(f[1]==spi)}
		cur && /\(bytes\), [0-9]+\(packets\)/ {sub(/.*\(bytes\), /, ""); sub(/\(packets\).*/, ""); print; exit}'
}
# The SPI of node I's SA from address A to address B.
sa_spi() { sa_spis "$1" | awk -v a="$2" -v b="$3" '$1 == a && $2 == b {print $3; exit}'; }

# ping_pairs N [-6]: every ordered pair of nodes pings once; failures are checks.
ping_pairs() {
	local n=$1 fam=${2:-} i j addr
	for i in $(seq 1 "$n"); do
		for j in $(seq 1 "$n"); do
			[ "$i" = "$j" ] && continue
			if [ "$fam" = -6 ]; then addr=$(node6 "$j"); else addr=$(node4 "$j"); fi
			check "n$i pings n$j ${fam:+(IPv6)}" in_node "$i" ping $fam -c1 -W2 "$addr"
		done
	done
}

# Cleartext between any two members of 1..N in the capture (ESP and the agents' UDP excluded;
# also neighbour discovery, and port-unreachable answering the agents' UDP before a peer's agent
# is up, in both families).
cleartext_members() {
	local n=$1 total=0 i j c
	for i in $(seq 1 "$n"); do
		for j in $(seq $((i + 1)) "$n"); do
			c=$(cleartext_between "$(node4 "$i")" "$(node4 "$j")")
			total=$((total + c))
			c=$(capture_count "ip6 and host $(node6 "$i") and host $(node6 "$j") and not esp and not (udp port ${MESH_PORT:-4801}) and not icmp6[0] >= 133 and not (icmp6[0] = 1 and icmp6[1] = 4)")
			total=$((total + c))
		done
	done
	echo "$total"
}

# Stops every agent still running, so finish sees their logs complete.
agents_stop_all() {
	local f
	for f in "$RESULTS"/n*.pid; do
		[ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	sleep 0.5
}

# Checks agent logs for sanitizer reports (the suite builds the agent with ASan+UBSan).
check_sanitizers() {
	check "no sanitizer report in the agents' logs" sh -c "! grep -lE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' $RESULTS/n*.log"
}

# ---- run-time helpers ----------------------------------------------------------------------
INJECT=$BUILDDIR/tests/tools/ms-inject
PEER=$BUILDDIR/tests/tools/ms-peer

# agent_stat I NAME: a counter from the agent's SIGUSR1 stats line ("bad MAC", "replay", "spoofed
# source", "rate limited", "challenged", "malformed", "unexpected", "accepted", "kernel errors").
agent_stat() {
	local before
	before=$(grep -c 'stats: datagrams' "$RESULTS/n$1.log")
	kill -USR1 "$(cat "$RESULTS/n$1.pid")"
	wait_until 30 sh -c "[ \$(grep -c 'stats: datagrams' $RESULTS/n$1.log) -gt $before ]" || { echo "no stats"; return 1; }
	grep 'stats: datagrams' "$RESULTS/n$1.log" | tail -n 1 | grep -o "$2 [0-9]*" | head -n 1 | awk '{print $NF}'
}

# Count of "up with fresh keys" log lines of node I (for peer P when given).
ups() { grep -c "peer ${2:-[^ ]*}: up with fresh keys" "$RESULTS/n$1.log"; }

# Node I's SAs (as sa_spis) now, compared with FILE, leaving out those that involve address A.
# (No process substitution: the guest has no /dev/fd.)
same_spis_without() {
	grep -vwF "$3" "$2" >"$2.without"
	sa_spis "$1" | grep -vwF "$3" | diff "$2.without" -
}

# Node I's SAs as "src dst spi key" lines (key material: for comparisons in the results dir only).
sa_keys() {
	ip -n "n$1" xfrm state | awk '/^src/ {s=$2; d=$4} /proto esp spi/ {split($4, f, "("); spi=f[1]}
		/aead/ {print s, d, spi, $3}' | sort
}

# ping_loss FILE: "lost/sent" from the output of ping -w DEADLINE (without -q).  ping stops at the
# deadline even if its last request is still on the way, and counts that one as lost; so the last
# request sent, when unanswered, is left out of both figures (any other unanswered one counts).
ping_loss() {
	awk '/icmp_seq=/ { if (match($0, /icmp_seq=[0-9]+/)) got[substr($0, RSTART + 9, RLENGTH - 9)] = 1 }
		/packets transmitted/ { sent = $1; recv = $4 }
		END { if (sent > 0 && !(sent in got)) sent--; print sent - recv "/" sent }' "$1"
}

# mesh_up N [NODES]: N agents on byte-identical files, checked complete within 20 s.  NODES
# (default N) namespaces are made, so a scenario can keep spare nodes without agents.
mesh_up() {
	local n=$1 i
	topo_up "${2:-$n}"
	write_inventory "$n"
	make_secret
	for i in $(seq 1 "$n"); do agent_start "$i"; done
	check "$n-node mesh complete" wait_until 20 mesh_complete "$n"
}

# peer_field NODE PEER FIELD: a field of PEER in NODE's status (through the CLI); FIELD may be
# a dotted path (errors.replay).
peer_field() {
	in_node "$1" "$MESHSEC" show "$2" --json --socket "$(sock "$1")" |
		python3 -c "import functools,json,sys; print(functools.reduce(lambda v, k: v[k], '$3'.split('.'), json.load(sys.stdin)['peers'][0]))"
}

# Times from the agents' logs ("HH:MM:SS.mmm", UTC), in ms since midnight: exact where polling
# with several ip processes per look (0.1-0.5 s each in this guest) would blur them.
now_ms_of_day() { echo $(( $(date -u +%s%3N) % 86400000 )); }
# last_log_ms PATTERN FILE...: the time of the last line matching PATTERN in any FILE.
last_log_ms() {
	local pat=$1
	shift
	grep -h -- "$pat" "$@" | awk '{split($1, t, /[:.]/); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]}' | sort -n | tail -n 1
}

# hs_spis I PEER: one line per handshake node I completed with PEER, from its log's "up with
# fresh keys" lines: "HANDSHAKE IN4 IN6 OUT4 OUT6" (0: no SA in that family).
hs_spis() {
	sed -n "s/.*peer $2: up with fresh keys (in \([^/]*\)\/\([^,]*\), out \([^/]*\)\/\([^;]*\); handshake \([0-9]*\)).*/\5 \1 \2 \3 \4/p" \
		"$RESULTS/n$1.log"
}
# spis_distinct I PEER: fails, naming them, if two of those handshakes share an inbound SPI or
# an outbound SPI (and if there is no handshake at all).
spis_distinct() {
	hs_spis "$1" "$2" | awk '{ for (k = 2; k <= 5; k++) if ($k != "0") { d = k < 4 ? "inbound" : "outbound"
			if (seen[d, $k]) { print d " SPI " $k " of handshake " $1 " was handshake " seen[d, $k] "'"'"'s"; bad = 1 }
			else seen[d, $k] = $1 } }
		END { if (NR == 0) print "no handshake logged"; exit bad || NR == 0 }'
}

# peer_view I PEER: "STATE OUT_SPI IN_SPI" of PEER in node I's status through the CLI (IPv4
# SPIs, printed as ip xfrm state prints them).
peer_view() {
	in_node "$1" "$MESHSEC" show "$2" --json --socket "$(sock "$1")" | python3 -c 'import json, sys
p = json.load(sys.stdin)["peers"][0]
print(p["state"], "0x%08x" % p["spi"]["out"][0], "0x%08x" % p["spi"]["in"][0])'
}
# pair_agreed I J: nodes I and J each show the other up, agree on both directions' IPv4 SPIs,
# and both kernels hold both SAs (each sender's outbound SA is the receiver's inbound one).
# Prints why not.
pair_agreed() {
	local i=$1 j=$2 a=$(node4 "$1") b=$(node4 "$2") vi vj k sas
	vi=$(peer_view "$i" "n$j") && vj=$(peer_view "$j" "n$i") || { echo "status unreadable"; return 1; }
	set -- $vi $vj	# state, out, in of I toward J; then of J toward I
	[ "$1" = up ] && [ "$4" = up ] || { echo "n$i shows n$j $1; n$j shows n$i $4"; return 1; }
	[ "$2" = "$6" ] && [ "$5" = "$3" ] || { echo "SPIs disagree: n$i out $2 in $3; n$j out $5 in $6"; return 1; }
	for k in "$i" "$j"; do
		sas=$(sa_spis "$k")
		printf '%s\n' "$sas" | grep -qx "$a $b $2" && printf '%s\n' "$sas" | grep -qx "$b $a $5" ||
			{ echo "n$k's kernel lacks SA $a->$b $2 or $b->$a $5"; return 1; }
	done
}

# ---- traffic streams (rollout, espblock) ---------------------------------------------------
UDPSEQ=$BUILDDIR/tests/tools/udp-seq
# count_of I FIELD: node I's status counts.FIELD (-1 when the agent does not answer).
count_of() { in_node "$1" "$MESHSEC" status --json --socket "$(sock "$1")" 2>/dev/null |
	python3 -c "import json, sys; print(json.load(sys.stdin)['counts']['$2'])" 2>/dev/null || echo -1; }
encrypted_is() { [ "$(count_of "$1" encrypted)" = "$2" ]; }
clear_is() { [ "$(count_of "$1" clear)" = "$2" ]; }
# streams_start PHASE NODES: one stream from every node to every other of 1..NODES (started by
# ip netns exec itself, not a function, so $! is the stream and SIGINT reaches it).
streams_start() {
	local phase=$1 n=$2 i j port
	STREAM_PHASE=$phase
	: >"$RESULTS/$phase.senders"
	: >"$RESULTS/$phase.receivers"
	for i in $(seq 1 "$n"); do
		for j in $(seq 1 "$n"); do
			[ "$i" = "$j" ] && continue
			port=$((7000 + 10 * j + i))
			ip netns exec "n$j" "$UDPSEQ" recv "$port" 5000 >"$RESULTS/$phase-$i-$j.recv" 2>&1 &
			echo $! >>"$RESULTS/$phase.receivers"
		done
	done
	check "$phase: every receiver listens" wait_until 60 sh -c \
		"[ \$(cat $RESULTS/$phase-*.recv | grep -c listening) -eq $((n * (n - 1))) ]"
	for i in $(seq 1 "$n"); do
		for j in $(seq 1 "$n"); do
			[ "$i" = "$j" ] && continue
			ip netns exec "n$i" "$UDPSEQ" send "$(node4 "$j")" $((7000 + 10 * j + i)) "$RATE" 0 \
				>"$RESULTS/$phase-$i-$j.send" 2>&1 &
			echo $! >>"$RESULTS/$phase.senders"
		done
	done
	capture_start "$RESULTS/$phase.pcap"
	sleep 2	# every stream running before the phase's first change
}
# streams_stop NODES [lossy]: ends the streams (the trailer says how many were sent), waits for
# every receiver, then checks and records the phase's loss and cleartext; lossy: a negative
# control, whose streams must have lost datagrams (STREAMS_LOST says how many).
streams_stop() {
	local phase=$STREAM_PHASE n=$1 p lost=0 missing=0 f
	for p in $(cat "$RESULTS/$phase.senders"); do kill -INT "$p" 2>/dev/null; done
	for p in $(cat "$RESULTS/$phase.senders") $(cat "$RESULTS/$phase.receivers"); do wait "$p" 2>/dev/null; done
	capture_stop
	for f in "$RESULTS/$phase"-*.recv; do
		if grep -q ' of ' "$f"; then
			lost=$((lost + $(sed -n 's/.* lost \([0-9]*\),.*/\1/p' "$f")))
		else	# the end was lost too: what the sender sent less what arrived
			missing=$((missing + 1))
			lost=$((lost + $(sed -n 's/^sent \([0-9]*\),.*/\1/p' "${f%.recv}.send") - $(sed -n 's/^received \([0-9]*\),.*/\1/p' "$f")))
		fi
	done
	measure "${phase}_packets_lost" "$lost" "datagrams, $((n * (n - 1))) streams at $RATE/s"
	measure "${phase}_packets_in_clear" "$(cleartext_members "$n")" "packets between members"
	STREAMS_LOST=$lost
	if [ "${2:-}" = lossy ]; then
		check "$phase (negative control): datagrams were lost ($lost)" test "$lost" -gt 0
	else
		expect_eq "$phase: every stream's end was received" "$missing" 0
		expect_eq "$phase: datagrams lost" "$lost" 0
	fi
}
# steady_clear NODES: with the streams still running, a second capture of 3 s once a phase has
# converged (PHASE-steady.pcap); prints its cleartext between members.  steady_esp: its ESP.
steady_clear() {
	local pid STEADY=$RESULTS/$STREAM_PHASE-steady.pcap
	tcpdump -i br0 -n -U --immediate-mode -Z root -w "$STEADY" >"$RESULTS/tcpdump-steady.log" 2>&1 &
	pid=$!
	wait_until 30 grep -q 'listening on' "$RESULTS/tcpdump-steady.log"
	sleep 3
	kill -INT "$pid"
	wait "$pid" 2>/dev/null
	(CAPTURE_FILE=$STEADY; cleartext_members "$1")
}
steady_esp() { (CAPTURE_FILE=$RESULTS/$STREAM_PHASE-steady.pcap; capture_count esp); }

