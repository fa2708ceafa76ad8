#!/bin/bash
# What XFRM policies cost each packet, on this host's kernel (root; policies only, no SA needed):
# per-peer policies laid out as exact selectors (out self/32 -> peer/32, in peer/32 -> self/32)
# or with a wildcard local side (out any -> peer/32, in peer/32 -> any), the latter with the
# namespace's hash thresholds left at the default (local 32, remote 32: the wildcard policies go
# to the inexact trees) or set to local 0 (`ip xfrm policy set hthresh4 0 32 hthresh6 0 128`:
# they hash on the peer side); and exact ones under local 0 (what the setting does to another
# owner's exact policies).  Two identical pairs of namespaces joined by veth, L0-R0 and L1-R1:
# L1 holds N peers' policies (two of them, the "hit" peers, allow without a template; the others
# carry an ESP template and see no traffic), L0, R0 and R1 hold none.  For each case,
# tests/bench/bench_policy_lookup times sendto() in thread CPU time, alternating runs between
# the pairs so that a loaded machine's drift cancels out of the difference:
#   out miss   L -> an address no policy matches        (xfrm_lookup misses)
#   out hit    L -> a hit peer                          (the peer's out policy matches, allow)
#   in miss    R -> L from an address no policy matches (L's receive, run in the sender's
#   in hit     R -> L from the other hit peer            softirq, checks the in policies)
# ("out hit" includes more than the lookup: for a matching policy without a template the kernel
# allocates and frees a dummy bundle per packet, in xfrm_bundle_lookup.)
# Each cell is "+D [P25..P75]": the median difference in thread CPU ns per packet that L1's
# policies add (over PAIRS pairs of runs of CHUNK datagrams), with its quartiles; the "none" row
# (L1 empty too) shows the noise floor, and the last column the cost of one packet without any
# policy.  Then it checks that the thresholds change no verdict: a mix of exact, wildcard and
# subnet policies with block and allow actions and various priorities, probed flow by flow
# under the default thresholds, after switching to local 0 live, and after reinstalling under
# local 0.  Figures only; exits non-zero only when a verdict differs or the tool itself breaks;
# without root or network namespaces it says so and exits 0.
# usage: tests/bench/policy-lookup.sh BUILDDIR [N...]   (default: 0 2000 20000)
#   env: CHUNK (10000), PAIRS (31), FAMILIES ("4 6"), LAYOUTS ("exact any any-hthresh exact-hthresh")
set -u
b=$(cd "$1" && pwd) || exit 1
shift
[ $# -gt 0 ] || set -- 0 2000 20000
chunk=${CHUNK:-10000} pairs=${PAIRS:-31} families=${FAMILIES:-4 6}
layouts=${LAYOUTS:-exact any any-hthresh exact-hthresh}
bin=$b/tests/bench/bench_policy_lookup
[ -x "$bin" ] || { echo "policy lookup: $bin is missing (build first)"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	echo "policy lookup: skipped (needs root for network namespaces)"
	exit 0
fi
L0=mspolL0_$$ R0=mspolR0_$$ L=mspolL1_$$ R=mspolR1_$$
work=$(mktemp -d /tmp/meshsec-polbench.XXXXXX) sinks="" port=5001
cleanup() {
	for p in $sinks; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for ns in "$L0" "$R0" "$L" "$R"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

# Addresses.  L's own: 10.77.0.1 / fd77::1 (and .5 / ::5, a second local source for the checks).
# Peer i (1..N): 10.128.0.0 + i / fd80::i.  Peers 1 and 2 are the hit peers; 10.255.0.x and
# fd80:ff::x match nothing.
peer() { # FAMILY I
	if [ "$1" = 4 ]; then
		printf '10.%d.%d.%d' $((128 + $2 / 65536)) $(($2 / 256 % 256)) $(($2 % 256))
	else
		printf 'fd80::%x:%x' $(($2 / 65536)) $(($2 % 65536))
	fi
}
# shellcheck disable=SC2034 # read through ${!name}
self4=10.77.0.1 self6=fd77::1 miss_dst4=10.255.0.1 miss_dst6=fd80:ff::1 miss_src4=10.255.0.2 miss_src6=fd80:ff::2

# setup L R: L -> anything outside the link goes via a neighbour entry that R's interface does
# not answer to, so R drops those frames on arrival (not for this host) without routing them.
# R's own sources for the input runs sit on its loopback; L's sockets drop what they receive.
setup() {
	local l=$1 r=$2 mac a
	ip netns add "$l" && ip netns add "$r" || return 1
	ip -n "$l" link set lo up && ip -n "$r" link set lo up &&
		ip -n "$l" link add vL type veth peer name vR netns "$r" &&
		ip -n "$l" addr add 10.77.0.1/24 dev vL && ip -n "$l" addr add 10.77.0.5/24 dev vL &&
		ip -n "$l" addr add fd77::1/64 dev vL nodad && ip -n "$l" addr add fd77::5/64 dev vL nodad &&
		ip -n "$r" addr add 10.77.0.2/24 dev vR && ip -n "$r" addr add fd77::2/64 dev vR nodad &&
		ip -n "$l" link set vL up && ip -n "$r" link set vR up &&
		ip -n "$l" neigh add 10.77.0.99 lladdr 02:00:00:00:00:99 dev vL nud permanent &&
		ip -n "$l" neigh add fd77::99 lladdr 02:00:00:00:00:99 dev vL nud permanent &&
		ip -n "$l" route add 10.0.0.0/8 via 10.77.0.99 && ip -n "$l" route add fd00::/8 via fd77::99 || return 1
	mac=$(ip netns exec "$l" cat /sys/class/net/vL/address) || return 1
	for a in 10.77.0.1 10.77.0.5 fd77::1 fd77::5; do
		ip -n "$r" neigh replace "$a" lladdr "$mac" dev vR nud permanent || return 1
	done
	for a in $miss_src4 $(peer 4 1) $(peer 4 2) $(peer 4 3) $(peer 4 4) $(peer 4 5); do
		ip -n "$r" addr add "$a/32" dev lo || return 1
	done
	for a in $miss_src6 $(peer 6 1) $(peer 6 2) $(peer 6 3) $(peer 6 4) $(peer 6 5); do
		ip -n "$r" addr add "$a/128" dev lo nodad || return 1
	done
	for a in $self4 10.77.0.5 $self6 fd77::5; do
		ip netns exec "$l" "$bin" sink "$a" "$port" &
		sinks="$sinks $!"
	done
}
if ! { setup "$L0" "$R0" && setup "$L" "$R"; } >"$work/setup.log" 2>&1; then
	echo "policy lookup: skipped (cannot build the namespaces here: $(tail -n 1 "$work/setup.log"))"
	exit 0
fi

thresholds() { # FAMILY local|default: set L1's hash thresholds for the family
	if [ "$1" = 4 ]; then
		if [ "$2" = default ]; then ip -n "$L" xfrm policy set hthresh4 32 32; else ip -n "$L" xfrm policy set hthresh4 0 32; fi
	else
		if [ "$2" = default ]; then ip -n "$L" xfrm policy set hthresh6 128 128; else ip -n "$L" xfrm policy set hthresh6 0 128; fi
	fi
}
shown_thresholds() { ip -n "$L" -s -s xfrm policy count | sed -n "s/.*SPD IPv$1 thresholds: local \([0-9]*\) remote \([0-9]*\).*/\1\/\2/p"; }

# install FAMILY LAYOUT N: N peers' policies in L1 through one `ip -batch`
install() {
	local fam=$1 layout=$2 n=$3 t0 t1
	ip -n "$L" xfrm policy flush
	case $layout in *-hthresh) thresholds "$fam" local ;; *) thresholds "$fam" default ;; esac
	install_us=-
	[ "$n" -gt 0 ] || return 0
	awk -v fam="$fam" -v layout="$layout" -v n="$n" 'BEGIN {
		for (i = 1; i <= n; i++) {
			if (fam == 4) {
				p = sprintf("10.%d.%d.%d/32", 128 + int(i / 65536), int(i / 256) % 256, i % 256)
				self = "10.77.0.1/32"; any = "0.0.0.0/0"
			} else {
				p = sprintf("fd80::%x:%x/128", int(i / 65536), i % 65536)
				self = "fd77::1/128"; any = "::/0"
			}
			local = layout ~ /^exact/ ? self : any
			tail = i <= 2 ? "action allow" : sprintf("tmpl proto esp mode transport reqid %d", i)
			printf "xfrm policy add dir out src %s dst %s %s\n", local, p, tail
			printf "xfrm policy add dir in src %s dst %s %s\n", p, local, tail
		}
	}' >"$work/batch"
	t0=$(date +%s%N)
	ip -n "$L" -batch "$work/batch" || { echo "policy lookup: installing $n $layout policies failed"; return 1; }
	t1=$(date +%s%N)
	install_us=$(((t1 - t0) / 1000 / (2 * n)))
}

# measure FAMILY: the four cases' results, one a line
measure() {
	local s=self$1 md=miss_dst$1 ms=miss_src$1
	"$bin" pair "$L0" "$L" "${!s}" "${!md}" "$port" "$chunk" "$pairs" &&
		"$bin" pair "$L0" "$L" "${!s}" "$(peer "$1" 1)" "$port" "$chunk" "$pairs" &&
		"$bin" pair "$R0" "$R" "${!ms}" "${!s}" "$port" "$chunk" "$pairs" &&
		"$bin" pair "$R0" "$R" "$(peer "$1" 2)" "${!s}" "$port" "$chunk" "$pairs"
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
row() { # FAMILY LABEL N RESULTS
	local line out="" e base=""
	while read -r line; do
		e=$(field errors "$line")
		[ "$e" = 0 ] || e="$e sendto errors: $(field errno "$line")"
		[ "$e" = 0 ] && e=""
		out="$out$(printf '  %+5d [%+d..%+d]%s' "$(field diff_ns "$line")" "$(field diff_lo "$line")" "$(field diff_hi "$line")" "$e")"
		base="$base $(field a_ns "$line")"
	done <<<"$4"
	printf 'policy lookup v%s %-14s %6s %s   %s\n' "$1" "$2" "$3" "$out" "$base"
}

status=0
echo "policy lookup: thread CPU ns per UDP datagram that N peers' policies add (median of $pairs paired runs of $chunk [quartiles])"
echo "policy lookup: $(nproc) CPUs, kernel $(uname -r); 2 policies per peer (out + in); last column: ns per packet without policies"
for fam in $families; do
	printf 'policy lookup v%s %-14s %6s  %-20s  %-20s  %-20s  %-20s  %s\n' "$fam" layout peers "out miss" "out hit" "in miss" "in hit" "(no policy: out miss, out hit, in miss, in hit)"
	for layout in none $layouts; do
		for n in "$@"; do
			{ [ "$layout" = none ] && [ "$n" -gt 0 ]; } && continue
			{ [ "$layout" != none ] && [ "$n" -eq 0 ]; } && continue
			install "$fam" "$layout" "$n" || { status=1; continue; }
			sleep 0.2 # a threshold change rehashes in a kernel worker
			r=$(measure "$fam") || { echo "policy lookup: the sender failed"; status=1; continue; }
			row "$fam" "$layout" "$n" "$r"
			[ "$n" -gt 0 ] && echo "policy lookup v$fam   $layout, $n peers: thresholds $(shown_thresholds "$fam"), ip -batch $install_us us/policy" >>"$work/notes"
		done
	done
done
[ -f "$work/notes" ] && cat "$work/notes"

# --- verdicts: do the thresholds change which policy a flow gets? ------------------------------
# For each family: out and in policies for peers 1..5 (own wildcard ones, foreign exact and subnet
# ones, block or allow, priorities on both sides of each other, and two exact ties in both
# orders of creation), plus a blocked peer range with one allowed host.  The verdict of an out
# flow is sendto's result (EPERM when a block policy wins); of an in flow, whether L's
# XfrmInPolBlock counter moved.
verdict_policies() { # FAMILY
	local any s1 s0 h
	if [ "$1" = 4 ]; then any=0.0.0.0/0 s1=10.77.0.1/32 s0=10.77.0.0/24 h=32; else any=::/0 s1=fd77::1/128 s0=fd77::/64 h=128; fi
	pa() { echo "$(peer "$1" "$2")/$h"; }
	cat <<-EOF
		out src $s1 dst $(pa "$1" 1) priority 100 action block
		out src $any dst $(pa "$1" 1) priority 200 action allow
		out src $any dst $(pa "$1" 2) priority 100 action allow
		out src $s1 dst $(pa "$1" 2) priority 200 action block
		out src $s0 dst $(pa "$1" 3) priority 50 action block
		out src $any dst $(pa "$1" 3) priority 60 action allow
		out src $s1 dst $(pa "$1" 4) priority 100 action block
		out src $any dst $(pa "$1" 4) priority 100 action allow
		out src $any dst $(pa "$1" 5) priority 100 action allow
		out src $s1 dst $(pa "$1" 5) priority 100 action block
		in src $(pa "$1" 1) dst $s1 priority 100 action block
		in src $(pa "$1" 1) dst $any priority 200 action allow
		in src $(pa "$1" 2) dst $any priority 100 action allow
		in src $(pa "$1" 2) dst $s1 priority 200 action block
		in src $(pa "$1" 3) dst $s0 priority 50 action block
		in src $(pa "$1" 3) dst $any priority 60 action allow
		in src $(pa "$1" 4) dst $s1 priority 100 action block
		in src $(pa "$1" 4) dst $any priority 100 action allow
		in src $(pa "$1" 5) dst $any priority 100 action allow
		in src $(pa "$1" 5) dst $s1 priority 100 action block
	EOF
	if [ "$1" = 4 ]; then
		printf 'out src %s dst 10.129.0.0/16 priority 300 action block\nout src %s dst 10.129.0.7/32 priority 100 action allow\n' "$any" "$any"
	else
		printf 'out src %s dst fd81::/32 priority 300 action block\nout src %s dst fd81::7/128 priority 100 action allow\n' "$any" "$any"
	fi
}
inblock() { ip netns exec "$L" awk '$1 == "XfrmInPolBlock" {print $2}' /proc/net/xfrm_stat; }
verdicts() { # FAMILY: one line of verdicts
	local s a c0 c1 out=""
	if [ "$1" = 4 ]; then s="10.77.0.1 10.77.0.5" x="10.129.0.7 10.129.0.8 10.200.0.1"; else s="fd77::1 fd77::5" x="fd81::7 fd81::8 fd80:ff::9"; fi
	for a in $s; do
		for i in 1 2 3 4 5; do out="$out $(ip netns exec "$L" "$bin" probe "$a" "$(peer "$1" "$i")" "$port")"; done
		for d in $x; do out="$out $(ip netns exec "$L" "$bin" probe "$a" "$d" "$port")"; done
		for i in 1 2 3 4 5; do
			c0=$(inblock)
			ip netns exec "$R" "$bin" probe "$(peer "$1" "$i")" "$a" "$port" >/dev/null
			c1=$(inblock)
			if [ "$c1" != "$c0" ]; then out="$out in-blocked"; else out="$out in-passed"; fi
		done
	done
	echo "$out"
}
for fam in $families; do
	ip -n "$L" xfrm policy flush
	thresholds "$fam" default
	sleep 0.2
	verdict_policies "$fam" | sed 's/^/xfrm policy add dir /' >"$work/verdict.batch"
	ip -n "$L" -batch "$work/verdict.batch" || { echo "policy lookup: installing the verdict policies failed"; status=1; continue; }
	v_default=$(verdicts "$fam")
	thresholds "$fam" local
	sleep 0.5
	v_switched=$(verdicts "$fam")
	ip -n "$L" xfrm policy flush
	ip -n "$L" -batch "$work/verdict.batch"
	v_reinstalled=$(verdicts "$fam")
	n=$(wc -w <<<"$v_default") blocked=$(grep -o -E 'EPERM|in-blocked' <<<"$v_default" | wc -l)
	if [ "$v_default" = "$v_switched" ] && [ "$v_default" = "$v_reinstalled" ]; then
		echo "policy lookup v$fam verdicts: the same for $n flows ($blocked blocked) under thresholds $(shown_thresholds "$fam"), switched live and reinstalled"
	else
		echo "policy lookup v$fam verdicts DIFFER:"
		echo "  default:     $v_default"
		echo "  switched:    $v_switched"
		echo "  reinstalled: $v_reinstalled"
		status=1
	fi
done
exit $status
