# Wedge: the responder's answers are lost for 40 s, then the link heals; twice.  n1 sorts lower,
# so it wins a simultaneous start and initiates; n2 answers.
#  1. First contact: n2 starts with all its egress dropped (netem), n1 next; n1's INITs reach n2
#     (version 2 challenges them; version 1 accepted them) and nothing n2 says arrives.
#  2. A rekey with the pair up: n2's egress dropped again and `meshsec rekey` on n1; n2 accepts
#     the INIT (a second inbound SA from n1 appears in its kernel) and its RESPs are lost past all
#     their retransmissions: the case that left version 1 wedged until an agent restarted.
# Each time the pair must come up by itself, no restart, within 100 s of the heal, with SAs that
# match in both kernels; a rekey afterwards must still work.
N=2
topo_up $N
modprobe -d /run/modroot sch_netem 2>/dev/null
write_inventory $N
make_secret
capture_start "$RESULTS/wedge.pcap"
# netem drops n2's ARP replies too: n1 gets n2's MAC by hand, so its INIT goes out.
ip -n n1 neigh replace "$(node4 2)" dev eth0 nud permanent lladdr "$(ip -n n2 -br link show eth0 | awk '{print $3}')"
block() { in_node 2 tc qdisc add dev eth0 root netem loss 100%; }
heal() { now_ms_of_day; in_node 2 tc qdisc del dev eth0 root; }	# the time first: the pair may be up before tc returns
inbound_from_n1() { sa_spis 2 | awk -v a="$(node4 1)" -v b="$(node4 2)" '$1 == a && $2 == b' | wc -l; }
replays() { peer_field 2 n1 errors.replay; }
# n1's datagrams to n2's port so far, and how many distinct payloads (past the IPv4/UDP headers).
from_n1() {
	tcpdump -n -x -r "$CAPTURE_FILE" "udp and src $(node4 1) and dst $(node4 2) and dst port 4801" 2>/dev/null |
		awk '/^[0-9]/ {if (p != "") print substr(p, 57); p = ""; next} {$1 = ""; gsub(/ /, ""); p = p $0}
			END {if (p != "") print substr(p, 57)}' | sort | uniq -c | awk '{n += $1} END {print n + 0, NR}'
}
# first_up_after MS I: the time of node I's first 'up with fresh keys' line at or after MS.
first_up_after() {
	grep 'up with fresh keys' "$RESULTS/n$2.log" |
		awk -v ms="$1" '{split($1, t, /[:.]/); v = ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]; if (v < ms - 43200000) v += 86400000
			if (v >= ms) {print v; exit}}'
}
up_after_heal() {
	local r d
	wait_or_say 100 pair_agreed 1 2 && return 0
	r=$(replays) d=$(from_n1)
	echo "n2 rejected $r handshake datagrams from n1 as replays;" "n1 sent n2 ${d% *} datagrams, ${d#* } distinct"
	[ "${d#* }" = 1 ] && [ "$r" -gt 0 ] &&
		echo "=> wedged: n1 keeps resending the one INIT n2 accepted during the outage, and n2 drops it as a replay"
	return 1
}
# recover LABEL HEALED: the pair agrees by itself within 100 s of the heal; measures when.
recover() {
	local t1 t2
	check "$1: the pair comes up by itself within 100 s of the heal" up_after_heal || return
	t1=$(first_up_after "$2" 1) t2=$(first_up_after "$2" 2)
	[ "${t2:-0}" -gt "${t1:-0}" ] && t1=$t2
	[ -n "$t1" ] && measure "${1// /_}_heal_to_up_ms" $((t1 - $2)) "ms from the heal to the pair up at both ends"
	check "$1: n1 reaches n2 after the heal" in_node 1 ping -c 3 -W 2 "$(node4 2)"
}

block
agent_start 2
listening() { in_node 2 "$MESHSEC" status --socket "$(sock 2)" >/dev/null 2>&1; [ $? -ne 2 ]; }
check "n2's agent answers on its socket" wait_until 20 listening
agent_start 1
got_init() { [ "$(agent_stat 2 challenged)" -ge 1 ] || [ "$(inbound_from_n1)" -ge 1 ]; }
check "first contact: n2 received n1's INIT" wait_until 20 got_init
sleep 40
expect_eq "handshakes completed while n2's answers were dropped" "$(( $(ups 1) + $(ups 2) ))" 0
recover "first contact" "$(heal)"

ups_before=$(( $(ups 1) + $(ups 2) ))
block
in_node 1 "$MESHSEC" rekey --socket "$(sock 1)" >/dev/null
consumed() { [ "$(inbound_from_n1)" -ge 2 ]; }
check "rekey: n2 accepted n1's INIT (a second inbound SA from n1 in its kernel)" wait_until 20 consumed
sleep 40
expect_eq "rekeys completed while n2's answers were dropped" "$(( $(ups 1) + $(ups 2) - ups_before ))" 0
recover "rekey" "$(heal)"

# A rekey afterwards gives both directions new SPIs, installed at both ends.
set -- $(peer_view 1 n2)
old_out=$2 old_in=$3
in_node 2 "$MESHSEC" rekey --socket "$(sock 2)" >/dev/null
rekeyed() {
	pair_agreed 1 2 || return 1
	set -- $(peer_view 1 n2)
	[ "$2" != "$old_out" ] && [ "$3" != "$old_in" ] || { echo "SPIs unchanged: out $2 in $3"; return 1; }
}
check "a rekey from n2 changes both directions' SPIs (were out $old_out, in $old_in)" wait_or_say 30 rekeyed
capture_stop
expect_eq "cleartext packets between the pair" "$(cleartext_members $N)" 0
measure n2_replay_drops_of_n1 "$(replays)" "handshake datagrams (all run, n2's status)"
for i in 1 2; do check "n$i agent running" agent_alive "$i"; done
agents_stop_all
check_sanitizers
