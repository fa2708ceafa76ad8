# Hostile local clients (DESIGN.md invariant 11; agent/CONTROL.md, "Limits"), on the control
# socket and on the metrics listener: clients that hang up mid-reply, never read their replies,
# subscribe to events and never read them, flood pipelined requests, or open 1,000 connections.  During and after each attack the agent
# is alive, its memory is under the bound CONTROL.md states, and other clients are served through
# the real CLI.  Memory is judged by the agent's peak during each attack (VmHWM, reset before
# it), so a growth between two looks counts too.  Metrics need the bearer token.
N=2
HOSTILE=$BUILDDIR/tests/tools/ms-hostile
# Group "meshsec" for this guest only (a bind mount inside the guest does not touch the host).
cp /etc/group /run/tmp/group && echo "meshsec:x:4300:" >>/run/tmp/group && mount --bind /run/tmp/group /etc/group
member="setpriv --reuid 4242 --regid 4242 --groups 4300"	# a group member who misbehaves
member2="setpriv --reuid 4244 --regid 4244 --groups 4300"	# another who does not
outsider="setpriv --reuid 4243 --regid 4243 --clear-groups"	# any local user: TCP only
TOKEN=$RESULTS/metrics.token
(umask 077; head -c 32 /dev/urandom | base64 >"$TOKEN")
AGENT_ARGS="--metrics-listen 9101 --metrics-token-file $TOKEN"
mesh_up $N

pid=$(cat "$RESULTS/n1.pid")
SOCK=$(sock 1)
STATUS='{"version":1,"request":"status"}'$'\n'
METRICS='{"version":1,"request":"metrics"}'$'\n'
printf -v GET 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n' "$(cat "$TOKEN")"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
peak() { awk '/^VmHWM/ {print $2}' "/proc/$pid/status"; }
peak_reset() { echo 5 >"/proc/$pid/clear_refs"; }	# VmHWM starts again from VmRSS
fds() { ls "/proc/$pid/fd" | wc -l; }
# The CLI gets an answer (exit 0: all up, 1: some not; 2 is "cannot reach the agent").
served() { in_node 1 "$@" "$MESHSEC" status --json --socket "$SOCK" | grep -q '"counts"'; }
# http_get [TOKEN]: GET /metrics as a user outside the group, with that bearer token if given.
http_get() {
	in_node 1 $outsider bash -c 'exec 3<>/dev/tcp/127.0.0.1/9101 || exit
		if [ -n "$1" ]; then printf "GET /metrics HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n" "$1"
		else printf "GET /metrics HTTP/1.0\r\n\r\n"; fi >&3
		cat <&3' _ "${1:-}"
}
http_code() { http_get "$@" | awk 'NR == 1 {print $2}'; }
metrics_served() { http_get "$(cat "$TOKEN")" | grep -q '^meshsec_peer_up{peer="n2"} 1'; }
# hostile NAME WHO ARGS...: the tool in the background, its report in NAME.out.
hostile() { local name=$1 who=$2; shift 2; in_node 1 $who "$HOSTILE" "$@" >"$RESULTS/$name.out" 2>&1 & echo $! >"$RESULTS/$name.pid"; }
reported() { grep -q "$2" "$RESULTS/$1.out"; }
hostile_stop() { kill "$(cat "$RESULTS/$1.pid")" 2>/dev/null; wait "$(cat "$RESULTS/$1.pid")" 2>/dev/null; }

check "metrics up on n1" wait_until 10 metrics_served
for _ in 1 2 3; do served; in_node 1 "$MESHSEC" metrics --socket "$SOCK" >/dev/null; metrics_served; done
base_rss=$(rss) base_fds=$(fds)
status_kib=$(( ($(in_node 1 "$MESHSEC" status --json --socket "$SOCK" | wc -c) + 1023) / 1024 ))
metrics_kib=$(( ($(in_node 1 "$MESHSEC" metrics --socket "$SOCK" | wc -c) * 2 + 1023) / 1024 ))	# JSON-escaped: at most twice
reply_kib=$(( status_kib > metrics_kib ? status_kib : metrics_kib ))
# The bound CONTROL.md states: 64 control clients x (64 KiB of unread replies + one reply +
# 16 KiB of requests read) + 16 metrics connections x (4 KiB + one page), plus 2 MiB for the
# allocator's own keeping.
bound=$(( base_rss + 64 * (64 + reply_kib + 16) + 16 * (4 + metrics_kib) + 2048 ))
measure "n1 at rest: VmRSS" "$base_rss" KiB
measure "n1 at rest: open descriptors" "$base_fds"
measure "memory bound (CONTROL.md, largest reply $reply_kib KiB)" "$bound" KiB
under_bound() { local p; p=$(peak) && [ "$p" -le "$bound" ] || { echo "peak VmHWM $p KiB, bound $bound KiB"; return 1; }; }
# during WHAT: others are served while the attack goes on.
during() {
	check "$1: the agent is alive" agent_alive 1
	check "$1: root's CLI is served" served
	check "$1: another group member's CLI is served" served $member2
}
# memory WHAT: once it is over, its peak stayed under the bound.
memory() {
	measure "$1: VmRSS now, VmHWM (peak)" "$(rss) $(peak)" KiB
	check "$1: peak memory under the bound" under_bound
}
after() { during "$1"; memory "$1"; }
# Each attack starts from rest: the last one's connections gone, the peak reset.
at_rest() { [ "$(fds)" -le "$base_fds" ] && peak_reset; }

# -- control socket ------------------------------------------------------------------------
# Hang-ups mid-reply: 200 clients send 64 requests each, read one byte, and hang up; the agent's
# next writes fail with EPIPE, which killed it while SIGPIPE was not ignored.
peak_reset
in_node 1 $member "$HOSTILE" hangup "$SOCK" 200 "$STATUS" >"$RESULTS/hangup.out" 2>&1
measure "control hang-ups" "$(cat "$RESULTS/hangup.out")"
after "control hang-ups"

# Never reading: 16 connections (one user's share) pipeline 5,000 metrics requests each.  The
# agent stops reading from each while its unread replies are over 64 KiB, and closes them after
# 10 s of that.  (Before: 200k requests grew it from 3.5 MB to 856 MB.)
check "at rest before the non-readers" wait_until 40 at_rest
hostile noread "$member" noread "$SOCK" 16 5000 "$METRICS"
check "the non-readers are blocked or done" wait_until 120 reported noread '^sent'
measure "control non-readers" "$(grep '^sent' "$RESULTS/noread.out")"
during "control non-readers"
check "the agent closes non-readers that stay over the limit" wait_until 60 reported noread 'closed 16 of 16'
check "and logs why, once each" sh -c "[ \$(grep -c 'replies left unread for 10 s; closed' $RESULTS/n1.log) -eq 16 ]"
hostile_stop noread
memory "control non-readers"

# Subscribers that never read: 16 connections (one user's share) ask for events and read
# nothing while root drives an event storm (a reload per request, each one "reload" event, and
# rekeys).  Their events beyond 64 KiB unread are dropped, and once that has lasted 10 s they are
# closed, as non-readers are (before: kept forever, so three users held every non-root slot).
RELOAD='{"version":1,"request":"reload"}'$'\n'
check "at rest before the silent subscribers" wait_until 40 at_rest
hostile subs "$member" subscribe "$SOCK" 16
check "16 silent subscribers stream events" wait_until 30 reported subs '^subscribed 16 of 16'
in_node 1 "$HOSTILE" flood "$SOCK" 3000 "$RELOAD" >"$RESULTS/storm.out" 2>&1 & storm=$!
for _ in $(seq 20); do in_node 1 "$MESHSEC" rekey --socket "$SOCK" >/dev/null; done
during "silent subscribers"
wait $storm
check "the event storm (3,000 reloads) was answered" grep -q '^replies 3000 of 3000' "$RESULTS/storm.out"
check "the agent closes subscribers that stay over the limit" wait_until 60 reported subs 'closed 16 of 16'
check "and logs why, with the events dropped, once each" \
	sh -c "[ \$(grep -Ec 'uid 4242, .*events left unread for 10 s, [1-9][0-9]* events dropped; closed' $RESULTS/n1.log) -eq 16 ]"
hostile_stop subs
during "silent subscribers closed"
memory "silent subscribers"

# A flood that does read: 20,000 pipelined requests on one connection, every one answered.
check "at rest before the flood" wait_until 40 at_rest
in_node 1 $member "$HOSTILE" flood "$SOCK" 20000 "$STATUS" >"$RESULTS/flood.out" 2>&1
check "a reading flood is answered in full" grep -q '^replies 20000 of 20000' "$RESULTS/flood.out"
after "control flood"

# 1,000 connections held by one group member: it gets its share (16), the rest are closed.
check "at rest before 1,000 connections" wait_until 40 at_rest
hostile conns "$member" conns "$SOCK" 1000
check "the 1,000 connections settled" wait_until 60 reported conns '^connected'
measure "control, 1,000 connections" "$(cat "$RESULTS/conns.out")"
check "control, 1,000 connections: at most 16 kept" sh -c "[ $(fds) -le $((base_fds + 16)) ]"
check "and the refusal is logged" grep -q 'refusing connections from uid 4242' "$RESULTS/n1.log"
during "control, 1,000 connections"
hostile_stop conns
memory "control, 1,000 connections"

# -- metrics listener ----------------------------------------------------------------------
expect_eq "metrics without a token: 401" "$(http_code)" 401
expect_eq "metrics with a wrong token: 401" "$(http_code not-the-token-at-all)" 401
expect_eq "metrics with the token: 200" "$(http_code "$(cat "$TOKEN")")" 200
out=$(in_node 1 timeout 5 "$MESHSECD" --foreground --socket /run/none.sock --metrics-listen 9102 2>&1); rc=$?
expect_eq "--metrics-listen without --metrics-token-file: refused at start (exit 2)" "$rc $(echo "$out" | grep -c -- --metrics-token-file)" "2 1"

check "at rest before 1,000 metrics connections" wait_until 40 at_rest
hostile hconns "$outsider" conns 127.0.0.1:9101 1000
check "the 1,000 metrics connections settled" wait_until 60 reported hconns '^connected'
measure "metrics, 1,000 connections" "$(cat "$RESULTS/hconns.out")"
check "metrics, 1,000 connections: at most 16 kept" sh -c "[ $(fds) -le $((base_fds + 16)) ]"
during "metrics, 1,000 connections"
hostile_stop hconns
memory "metrics, 1,000 connections"
check "metrics are served again once they are gone" wait_until 30 metrics_served

# Pipelined scrapes never read: one request per connection is answered, then it is closed.
check "at rest before the metrics non-readers" wait_until 40 at_rest
hostile hnoread "$outsider" noread 127.0.0.1:9101 16 100000 "$GET"
check "the metrics non-readers are blocked or done" wait_until 120 reported hnoread '^sent'
measure "metrics non-readers" "$(grep '^sent' "$RESULTS/hnoread.out")"
during "metrics non-readers"
check "the metrics non-readers are all closed" wait_until 60 reported hnoread 'closed 16 of 16'
hostile_stop hnoread
memory "metrics non-readers"

check "at rest before the metrics hang-ups" wait_until 40 at_rest
in_node 1 $outsider "$HOSTILE" hangup 127.0.0.1:9101 200 "$GET" >"$RESULTS/hhangup.out" 2>&1
measure "metrics hang-ups" "$(cat "$RESULTS/hhangup.out")"
after "metrics hang-ups"
check "metrics served after every attack" wait_until 30 metrics_served
agents_stop_all
check_sanitizers
