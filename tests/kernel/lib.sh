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
	local n=$1 i
	sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
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
	for i in $(seq 1 "$n"); do
		ip netns exec "n$i" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0
		printf '%s\n' "link set lo up" "addr add $(node4 "$i")/24 dev eth0" \
			"addr add $(node6 "$i")/64 dev eth0 nodad" "link set eth0 up" | ip -n "n$i" -batch - || return 1
	done
	TOPO_N=$n
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
capture_start() {
	CAPTURE_FILE=$1
	tcpdump -i br0 -n -U -Z root -w "$CAPTURE_FILE" >"$RESULTS/tcpdump.log" 2>&1 &
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
cleartext_between() {
	capture_count "host $1 and host $2 and not esp and not (udp port ${MESH_PORT:-4801})"
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
