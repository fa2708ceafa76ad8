# Reasons, fingerprints and events, through the real CLI.  `meshsec events` streams from n1 for
# the whole run and is asserted on afterwards, from what it captured: a forced rekey, a peer that
# stops (down, no_answer) and comes back (up), a peer restarted with another secret (down,
# auth_failed on both sides).  Status, show and metrics name the reason; check, status and
# metrics show secret fingerprints that differ exactly where the secrets do.
N=3
MESH_EXTRA=', "keepalive_seconds": 1, "dead_after_seconds": 3'
mesh_up $N
cli() { local i=$1; shift; in_node "$i" "$MESHSEC" "$@" --socket "$(sock "$i")"; }
reason_is() { [ "$(peer_field "$1" "$2" reason.code 2>/dev/null)" = "$3" ]; }
state_is() { [ "$(peer_field "$1" "$2" state 2>/dev/null)" = "$3" ]; }
streams() { [ "$(grep -c 'streaming events' "$RESULTS/n1.log")" -ge 2 ]; }

cli 1 events --json >"$RESULTS/events-n1.json" 2>"$RESULTS/events-n1.err" &
ev_json=$!
cli 1 events >"$RESULTS/events-n1.txt" 2>&1 &
ev_text=$!
check "two event streams open on n1" wait_until 10 streams
check "a peer that is up has no reason" test "$(peer_field 1 n2 reason)" = None

# A forced rekey.
hs0=$(ups 1 n2)
check "meshsec rekey n2 accepted" cli 1 rekey n2
rekeyed() { [ "$(ups 1 n2)" -gt "$hs0" ]; }
check "n1 has fresh keys with n2" wait_until 10 rekeyed

# A peer's agent stops, then comes back.
agent_kill 3 KILL
check "n1 says n3 is down for no answer" wait_or_say 20 reason_is 1 n3 no_answer
cli 1 status >"$RESULTS/status-n1-n3down.txt"
check "status names it in text" grep -q "  ^ no_answer: no answer from n3 at $(node4 3) port 4801" "$RESULTS/status-n1-n3down.txt"
agent_start 3
check "n1 says n3 is up again" wait_or_say 20 state_is 1 n3 up

# A node restarted with another secret: both sides say authentication.
"$MESHSEC" keygen --out "$RESULTS/other.key" >/dev/null
agent_kill 2 KILL
KEY=$RESULTS/other.key agent_start 2
check "n1 says n2's datagrams fail authentication" wait_or_say 20 reason_is 1 n2 auth_failed
check "n2 says n1's datagrams fail authentication" wait_or_say 20 reason_is 2 n1 auth_failed
cli 1 status >"$RESULTS/status-n1.txt"
cli 1 show n2 >"$RESULTS/show-n1-n2.txt"
check "status text gives the reason" grep -q '  ^ auth_failed: datagrams from n2 fail authentication: the mesh secret or the mesh name differs' "$RESULTS/status-n1.txt"
check "show gives the fix, naming meshsec check" grep -Eq '^  fix +compare the secret fingerprint and mesh name that `meshsec check` prints' "$RESULTS/show-n1-n2.txt"

# Fingerprints: check, status and metrics agree on each node, and differ between the secrets.
fp() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('secret_fingerprint') or d['mesh']['secret_fingerprint'])"; }
fp_check1=$(in_node 1 "$MESHSEC" check --inventory "$INV" --secret "$KEY" --node n1 --json | fp)
fp_check2=$(in_node 2 "$MESHSEC" check --inventory "$INV" --secret "$RESULTS/other.key" --node n2 --json | fp)
fp_status1=$(cli 1 status --json | fp)
fp_status2=$(cli 2 status --json | fp)
measure fingerprint_n1 "$fp_check1"
measure fingerprint_n2 "$fp_check2"
check "check --json gives a 16-hex-digit fingerprint" sh -c "echo '$fp_check1' | grep -Eqx '[0-9a-f]{16}'"
expect_eq "n1: status fingerprint is check's" "$fp_status1" "$fp_check1"
expect_eq "n2: status fingerprint is check's" "$fp_status2" "$fp_check2"
check "different secrets, different fingerprints" test "$fp_check1" != "$fp_check2"
in_node 1 "$MESHSEC" check --inventory "$INV" --secret "$KEY" --node n1 >"$RESULTS/check-n1.txt"
check "check's text prints the fingerprint" grep -q "secret fingerprint $fp_check1" "$RESULTS/check-n1.txt"
cli 1 metrics >"$RESULTS/metrics-n1.txt"
check "metrics carry the fingerprint and digest" grep -Eq "^meshsec_info\{mesh=\"kt\",node=\"n1\",secret_fingerprint=\"$fp_check1\",inventory_digest=\"[0-9a-f]{32}\"\} 1" "$RESULTS/metrics-n1.txt"
check "metrics carry the reason" grep -q '^meshsec_peer_reason{peer="n2",code="auth_failed"} 1' "$RESULTS/metrics-n1.txt"
check "metrics carry no reason for a peer that is up" test "$(grep -c 'meshsec_peer_reason{peer="n3"' "$RESULTS/metrics-n1.txt")" -eq 0

kill "$ev_json" "$ev_text" 2>/dev/null
wait "$ev_json" "$ev_text" 2>/dev/null
# What the stream captured, after the fact: each line an event; order by line number.
python3 - "$RESULTS/events-n1.json" >"$RESULTS/events-check.txt" 2>&1 <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
bad = [e for e in evs if not {"time", "type", "peer"} <= e.keys()]
def first(pred, after=-1):
    return next((i for i, e in enumerate(evs) if i > after and pred(e)), None)
rekey = first(lambda e: e["type"] == "rekey" and e["peer"] == "n2")
down3 = first(lambda e: e["type"] == "down" and e["peer"] == "n3" and e["reason"]["code"] == "no_answer")
up3 = first(lambda e: e["type"] == "up" and e["peer"] == "n3", down3 if down3 is not None else -1)
# fresh keys with n3 after it came back: "handshake" if they came before the sign of life that
# made it up, "rekey" if after (either order is right)
hs3 = first(lambda e: e["type"] in ("handshake", "rekey") and e["peer"] == "n3", down3 if down3 is not None else -1)
auth2 = first(lambda e: e["type"] in ("down", "reason") and e["peer"] == "n2" and e["reason"]["code"] == "auth_failed")
print("events", len(evs), "malformed", len(bad), "rekey", rekey, "down n3", down3, "fresh keys n3", hs3, "up n3", up3, "auth n2", auth2)
ok = not bad and None not in (rekey, down3, up3, hs3, auth2) and rekey < down3 < up3 < auth2 and hs3 < auth2
sys.exit(0 if ok else 1)
PY
events_ok=$?
check "the event stream shows the rekey, n3 down then up with fresh keys, n2 failing authentication, in that order" \
	sh -c "cat '$RESULTS/events-check.txt'; exit $events_ok"
check "the text stream shows the down with its reason" grep -Eq ' down +n3 +no_answer: no answer from n3' "$RESULTS/events-n1.txt"
check "the text stream shows the rekey" grep -Eq ' rekey +n2 +handshake [0-9]+' "$RESULTS/events-n1.txt"
check "reasons logged once each at warn (n1 about n2's authentication)" \
	test "$(grep -c ' warn  peer n2: .*datagrams from n2 fail authentication' "$RESULTS/n1.log")" -eq 1
for i in $(seq 1 $N); do check "n$i agent running" agent_alive "$i"; done
agents_stop_all
check_sanitizers
