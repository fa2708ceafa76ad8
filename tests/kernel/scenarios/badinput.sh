# Bad input at run time.  The inventory replaced by broken JSON, then by one with an unknown key:
# the agent logs the file, line:column and reason, and the mesh is unchanged.  Forged, garbled,
# spoofed and replayed handshake datagrams (ms-inject) change nothing and are counted.
N=3
P=${MESH_PORT:-4801}
# No keepalives during the test: every accepted datagram would otherwise blur "nothing accepted".
MESH_EXTRA=', "keepalive_seconds": 3600, "dead_after_seconds": 7200'
topo_up $N
write_inventory $N
make_secret
capture_start "$RESULTS/handshakes.pcap"
for i in $(seq 1 $N); do agent_start "$i"; done
check "3-node mesh complete" wait_until 20 mesh_complete $N
capture_stop
for i in $(seq 1 $N); do sa_spis "$i" >"$RESULTS/n$i-spis-before.txt"; done
unchanged() {
	local i
	for i in $(seq 1 $N); do
		check "n$i: SAs unchanged after $1" same_spis_without "$i" "$RESULTS/n$i-spis-before.txt" nothing-to-leave-out
		check "n$i: agent running after $1" agent_alive "$i"
	done
	check "n1 pings n3 after $1" in_node 1 ping -c1 -W2 "$(node4 3)"
}

# Broken JSON, replaced by rename as editors and config management do.
cp "$INV" "$RESULTS/good.json"
printf '{"version": 1,\n "mesh": {"name": "kt", "port": %s},\n "nodes": [\n' "$P" >"$INV.tmp" && mv "$INV.tmp" "$INV"
check "the agent names the file, line and column" wait_until 30 sh -c "grep -q 'reload refused.*inventory.json:[0-9]*:[0-9]*' $RESULTS/n1.log"
unchanged "broken JSON"
sed 's/"addresses"/"adresses"/' "$RESULTS/good.json" >"$INV.tmp" && mv "$INV.tmp" "$INV"
check "an unknown key is named with the likely fix" wait_until 30 sh -c "grep -q 'adresses.*addresses' $RESULTS/n1.log"
unchanged "a misspelt key"
cp "$RESULTS/good.json" "$INV.tmp" && mv "$INV.tmp" "$INV"
check "the good file again: reloaded, nothing to do" wait_until 30 sh -c "grep -q '0 peers added, 0 removed' $RESULTS/n1.log"

# The secret file removed, then corrupted, at run time: the mesh keeps its copy and runs on; the
# next reload says what is wrong.
mv "$KEY" "$KEY.bak"
cp "$RESULTS/good.json" "$INV.tmp" && mv "$INV.tmp" "$INV"
check "secret removed: the reload says so" wait_until 30 sh -c "grep -q 'reload refused.*secret is no longer usable.*mesh.key' $RESULTS/n1.log"
unchanged "the secret file removed"
(umask 077; echo 'not base64 at all!' >"$KEY")
kill -HUP "$(cat "$RESULTS/n2.pid")"
check "secret corrupted: the reload on SIGHUP says so" wait_until 30 sh -c "grep -q 'reload refused.*secret is no longer usable' $RESULTS/n2.log"
unchanged "the secret file corrupted"
mv "$KEY.bak" "$KEY"
grep 'reload' "$RESULTS/n1.log" | sed 's/^/    /' >"$RESULTS/reload-messages.txt"

# Hostile datagrams: each costs at most one MAC and is counted by its reason.
ups_before=$(( $(for i in $(seq 1 $N); do ups "$i"; done | paste -sd+) ))
b_mac=$(agent_stat 1 "bad MAC") b_mal=$(agent_stat 1 malformed) b_spoof=$(agent_stat 1 "spoofed source")
sent=$(in_node 3 "$INJECT" forge "$(node4 1)" "$P" n3 n1 20)
sleep 2
expect_eq "forged INITs (wrong MAC) sent / counted as bad MAC" "$sent/$(( $(agent_stat 1 "bad MAC") - b_mac ))" 20/20
expect_eq "log lines for those 20 drops (identical lines are held back)" \
	"$(grep -c "dropped a handshake datagram from $(node4 3): bad MAC" "$RESULTS/n1.log")" 1
sent=$(in_node 3 "$INJECT" junk "$(node4 1)" "$P" 20)
sleep 2
expect_eq "garbage datagrams sent / counted as malformed" "$sent/$(( $(agent_stat 1 malformed) - b_mal ))" 20/20
sent=$(in_node 3 "$INJECT" forge "$(node4 1)" "$P" n2 n1 10)
sleep 2
expect_eq "datagrams claiming n2 from n3's address / counted as spoofed" "$sent/$(( $(agent_stat 1 "spoofed source") - b_spoof ))" 10/10

# Replays: every handshake datagram n1 sent to n2, sent again from n1's address.  Only the
# handshake's types (1-6, byte 4 of the payload): the port also carries the ESP check's probes,
# which netcheck's own scenario replays and counts.
tcpdump -n -r "$RESULTS/handshakes.pcap" -w "$RESULTS/n1-to-n2.pcap" \
	"src $(node4 1) and dst $(node4 2) and udp port $P and udp[12] >= 1 and udp[12] <= 6" 2>/dev/null
b_rep=$(agent_stat 2 replay) b_unx=$(agent_stat 2 unexpected) b_acc=$(agent_stat 2 accepted)
b_chl=$(agent_stat 2 challenged) b_rl=$(agent_stat 2 "rate limited")
sent=$(in_node 1 "$INJECT" replay "$(node4 2)" "$P" "$RESULTS/n1-to-n2.pcap")
sleep 2
check "some handshake datagrams to replay ($sent)" test "$sent" -gt 0
# A replayed INIT is only challenged (its challenge is used up); the rest answers nothing current.
counted=$(( $(agent_stat 2 replay) - b_rep + $(agent_stat 2 unexpected) - b_unx + $(agent_stat 2 challenged) - b_chl \
	+ $(agent_stat 2 "rate limited") - b_rl ))
expect_eq "replayed datagrams sent / counted as replay, unexpected, challenged or rate limited" "$sent/$counted" "$sent/$sent"
expect_eq "replays accepted" "$(( $(agent_stat 2 accepted) - b_acc ))" 0
expect_eq "handshakes completed because of any of this" \
	"$(( $(for i in $(seq 1 $N); do ups "$i"; done | paste -sd+) - ups_before ))" 0
unchanged "forged and replayed datagrams"
agents_stop_all
check_sanitizers
