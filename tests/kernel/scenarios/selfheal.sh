# Self-healing: ESP that fails authentication arrives on a pair's inbound SA (forged by n3 with
# n2's source address and the SA's SPI, as if the two ends' keys disagreed).  n1 sees the SA's
# integrity failures rise, logs the counters and re-handshakes with n2, once: a second burst
# within 30 s does not make the pair rekey again.
N=2
mesh_up $N 3
hs() { peer_field 1 n2 handshakes; }
before=$(hs)
spi=$(sa_spi 1 "$(node4 2)" "$(node4 1)")
sent=$(in_node 3 "$INJECT" esp "$(node4 2)" "$(node4 1)" "$spi" 50)
check "50 forged ESP packets sent to n1's inbound SA $spi ($sent)" test "$sent" = 50
healed() { grep -q 'peer n2: errors on its inbound SAs rose by .*integrity failures now' "$RESULTS/n1.log"; }
check "n1 logs the rising integrity failures and re-handshakes" wait_until 30 healed
rekeyed() { [ "$(hs)" -gt "$before" ]; }
check "a new handshake with n2 completed" wait_until 30 rekeyed
after=$(hs)
spi2=$(sa_spi 1 "$(node4 2)" "$(node4 1)")
in_node 3 "$INJECT" esp "$(node4 2)" "$(node4 1)" "$spi2" 50 >/dev/null
sleep 6
expect_eq "a second burst within 30 s does not rekey again" "$(hs)" "$after"
check "the pair still carries traffic" in_node 1 ping -c2 -W1 "$(node4 2)"
agents_stop_all
check_sanitizers
