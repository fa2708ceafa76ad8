# Wedge: the responder's answers are lost for 40 s right after the first INIT arrived, then the
# link heals.  n1 sorts lower, so it wins a simultaneous start and initiates; n2 answers.  n2
# starts first with all its egress dropped (netem), n1 next; once n2 has accepted n1's INIT (its
# inbound SA is in the kernel) the drop stays 40 s, past n2's RESP retransmissions.  The pair
# must then come up by itself, no restart, within 100 s of the heal, and a rekey must still work.
N=2
topo_up $N
modprobe -d /run/modroot sch_netem 2>/dev/null
write_inventory $N
make_secret
capture_start "$RESULTS/wedge.pcap"
# netem drops n2's ARP replies too: n1 gets n2's MAC by hand, so its INIT goes out.
ip -n n1 neigh replace "$(node4 2)" dev eth0 nud permanent lladdr "$(ip -n n2 -br link show eth0 | awk '{print $3}')"
in_node 2 tc qdisc add dev eth0 root netem loss 100%
agent_start 2
listening() { in_node 2 "$MESHSEC" status --socket "$(sock 2)" >/dev/null 2>&1; [ $? -ne 2 ]; }
check "n2's agent answers on its socket" wait_until 20 listening
agent_start 1
got_init() { [ -n "$(sa_spi 2 "$(node4 1)" "$(node4 2)")" ]; }
check "n2 accepted n1's INIT (its inbound SA from n1 is installed)" wait_until 20 got_init
sleep 40
expect_eq "handshakes completed while n2's answers were dropped" "$(( $(ups 1) + $(ups 2) ))" 0
in_node 2 tc qdisc del dev eth0 root
healed=$(now_ms_of_day)

# Bounded by state: both agents show the pair up, with matching SPIs installed in both kernels.
replays() { peer_field 2 n1 errors.replay; }
# n1's datagrams to n2's port so far, and how many distinct payloads (past the IPv4/UDP headers).
from_n1() {
	tcpdump -n -x -r "$CAPTURE_FILE" "udp and src $(node4 1) and dst $(node4 2) and dst port 4801" 2>/dev/null |
		awk '/^[0-9]/ {if (p != "") print substr(p, 57); p = ""; next} {$1 = ""; gsub(/ /, ""); p = p $0}
			END {if (p != "") print substr(p, 57)}' | sort | uniq -c | awk '{n += $1} END {print n + 0, NR}'
}
replays_at_heal=$(replays)
up_after_heal() {
	local r d
	wait_or_say 100 pair_agreed 1 2 && return 0
	r=$(replays) d=$(from_n1)
	echo "n2 rejected $r handshake datagrams from n1 as replays ($((r - replays_at_heal)) since the heal);" \
		"n1 sent n2 ${d% *} datagrams, ${d#* } distinct"
	[ "${d#* }" = 1 ] && [ "$r" -gt 0 ] &&
		echo "=> wedged: n1 keeps resending the one INIT n2 accepted during the outage, and n2 drops it as a replay"
	return 1
}
if check "the pair comes up by itself within 100 s of the heal" up_after_heal; then
	t=$(for i in 1 2; do grep -m 1 'up with fresh keys' "$RESULTS/n$i.log"; done |
		awk '{split($1, t, /[:.]/); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]}' | sort -n | tail -n 1)
	[ "$t" -lt "$healed" ] && t=$((t + 86400000))	# midnight passed
	measure heal_to_up_ms $((t - healed)) "ms from the heal to the later agent's first 'up with fresh keys'"
fi
check "n1 reaches n2 after the heal" in_node 1 ping -c 3 -W 2 "$(node4 2)"

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
