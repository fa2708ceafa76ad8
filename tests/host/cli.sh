#!/bin/bash
# The CLI's one grammar, without an agent or root: every command's --help and `help CMD` (the
# same text), did-you-mean for commands, options and --node, errors as JSON on stdout with
# --json, a value that looks like an option refused, plurals, meshsecd refusing a bad
# --metrics-listen and stray arguments, --version on both, every option of --help in the man
# pages, and bash completion.  Prints
# "host tests: N passed, N failed".
# usage: tests/host/cli.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
src=$(cd "$(dirname "$0")/../.." && pwd)
M=$b/meshsec D=$b/meshsecd
out=$work/out err=$work/err
run() { "$@" >"$out" 2>"$err"; rc=$?; }

cmds=$("$M" help | sed -n 's/^  \([a-z-]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 12 ] && ok "help lists $(echo "$cmds" | wc -w) commands" || bad "help lists the commands" "$out"
for c in $cmds; do
	run "$M" "$c" --help
	if [ $rc = 0 ] && grep -q "^usage: meshsec $c " "$out" && grep -q -- "--help" "$out" && "$M" help "$c" | cmp -s - "$out"; then
		ok "$c --help and help $c print the same usage"
	else bad "$c --help (exit $rc) / help $c" "$out"; fi
	# Every command that prints something takes --json.
	[ "$c" = doctor ] || grep -q -- "--json" "$out" || bad "$c has no --json" "$out"
done

run "$M" statsu
[ $rc = 2 ] && grep -q 'unknown command "statsu"; did you mean "status"?' "$err" && ok "mistyped command: did you mean" || bad "mistyped command (exit $rc)" "$err"
run "$M" status --jsno
[ $rc = 2 ] && grep -q "unknown option --jsno; did you mean --json?" "$err" && ok "mistyped option: did you mean" || bad "mistyped option (exit $rc)" "$err"
run "$M" status --socket --json
if [ $rc = 2 ] && grep -q '"message": "--socket needs a PATH; got --json' "$out"; then
	ok "status --socket --json: refused, naming --socket"
else bad "status --socket --json (exit $rc)" "$out"; fi
# -j is --json, alone or in a cluster of flags, for errors of the parse itself too.
for args in "status -j --bogus" "status -j --socket" "netcheck -j" "peers -Sj --bogus"; do
	run "$M" $args
	case $args in *-Sj*) want=text ;; *) want=json ;; esac	# -Sj: j is the socket's path
	if [ $rc = 2 ] && { [ $want = json ] && [ ! -s "$err" ] && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]["message"]' "$out" ||
		{ [ $want = text ] && [ ! -s "$out" ] && grep -q "^meshsec peers: " "$err"; }; }; then
		ok "$args: the parse error as $want"
	else bad "$args (exit $rc): want $want" "$out"; cat "$err"; fi
done
run "$M" check -Aj --bogus
[ $rc = 2 ] && python3 -c 'import json,sys; assert "--bogus" in json.load(open(sys.argv[1]))["error"]["message"]' "$out" &&
	ok "check -Aj --bogus: -j inside a cluster, a JSON error" || bad "check -Aj --bogus (exit $rc)" "$out"
run "$M" show -- -j extra
[ $rc = 2 ] && [ ! -s "$out" ] && grep -q 'unexpected argument "extra"' "$err" && ok "show -- -j extra: after --, -j is an argument; the error in text" ||
	bad "show -- -j extra (exit $rc)" "$err"
run "$M" status --socket /nonexistent --json
if [ $rc = 2 ] && python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert "/nonexistent" in e["message"] and e["fix"]' "$out"; then
	ok "status --json without an agent: a JSON error on stdout, exit 2"
else bad "status --json without an agent (exit $rc)" "$out"; fi
run "$M" status --socket /nonexistent
[ $rc = 2 ] && [ ! -s "$out" ] && grep -q "cannot reach the agent at /nonexistent" "$err" && ok "status without an agent: error on stderr, exit 2" ||
	bad "status without an agent (exit $rc)" "$err"
run "$M" show
[ $rc = 2 ] && grep -q "missing PEER" "$err" && ok "show without PEER: refused" || bad "show without PEER (exit $rc)" "$err"
run "$M" keygen stray
[ $rc = 2 ] && grep -q 'unexpected argument "stray"' "$err" && ok "keygen stray: refused" || bad "keygen stray (exit $rc)" "$err"
run "$M" doctor --interval 0
[ $rc = 2 ] && grep -q -- "--interval 0: give milliseconds" "$err" && ok "doctor --interval 0: refused" || bad "doctor --interval 0 (exit $rc)" "$err"

# check: --node typo, plurals, --names, warnings in JSON.  Addresses this host does not have.
cat >"$work/inv.json" <<JSON
{"version": 1, "mesh": {"name": "cli", "port": 4803}, "nodes": [
  {"name": "alpha", "addresses": ["10.79.0.1"]}, {"name": "bravo", "addresses": ["10.79.0.2"]},
  {"name": "charlie", "addresses": ["fd79::3"]}]}
JSON
"$M" keygen --out "$work/key" >/dev/null
chk() { run "$M" check --inventory "$work/inv.json" --secret "$work/key" --no-address-check "$@"; }
chk --node alpah
[ $rc = 1 ] && grep -q -- "--node alpah: no node of that name in the inventory; did you mean --node alpha?" "$err" && ok "check --node typo: did you mean" ||
	bad "check --node typo (exit $rc)" "$err"
# As a user without CAP_NET_ADMIN (this host's kernel has no ESP: root's check would stop there),
# with the files where that user can read them.
chmod 711 "$work"; pub=$work/pub; mkdir -m 755 "$pub"; cp "$work/inv.json" "$pub/"; "$M" keygen --out "$pub/key" >/dev/null; chown nobody "$pub/key"
user() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
run user "$M" check --inventory "$pub/inv.json" --secret "$pub/key" --node alpha --no-address-check
[ $rc = 0 ] && grep -q "^warning    1 peer shares no address family" "$out" && ok "check: \"1 peer shares\", singular" || bad "check: plural of 1 (exit $rc)" "$out"
run user "$M" check --inventory "$pub/inv.json" --secret "$pub/key" --node alpha --no-address-check --json
if [ $rc = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["warnings"] == ["1 peer shares no address family with this node and cannot be protected"]' "$out"; then
	ok "check --json carries its warnings"
else bad "check --json warnings (exit $rc)" "$out"; fi
run user "$M" down --socket "$work/none.sock"
[ $rc = 1 ] && grep -q "fix: needs root (CAP_NET_ADMIN): run with sudo" "$err" && ok "down without root: a hint, not only EPERM" || bad "down without root (exit $rc)" "$err"
run user "$M" down --socket "$work/none.sock" --json
[ $rc = 1 ] && python3 -c 'import json,sys; assert "CAP_NET_ADMIN" in json.load(open(sys.argv[1]))["error"]["fix"]' "$out" &&
	ok "down --json without root: the hint in the JSON error" || bad "down --json without root (exit $rc)" "$out"
run "$M" check --inventory "$work/inv.json" --secret /nonexistent --names
[ $rc = 0 ] && [ "$(cat "$out")" = "$(printf 'alpha\nbravo\ncharlie')" ] && ok "check --names: node names, no secret needed" || bad "check --names (exit $rc)" "$out"
run "$M" check --inventory "$work/nope.json" --json
[ $rc = 1 ] && python3 -c 'import json,sys; assert "nope.json" in json.load(open(sys.argv[1]))["error"]["message"]' "$out" &&
	ok "check --json: a missing inventory is a JSON error" || bad "check --json, missing inventory (exit $rc)" "$out"

# events: a line longer than the CLI's 64 KiB buffer is dropped whole, never its tail printed as
# a line of its own.  A fake agent answers "streaming", then sends two over-long lines, each
# followed by an event, and hangs up.
fake_events() {
	python3 - "$1" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); c.recv(4096)
ev = lambda n: b'{"time":"2026-01-01T00:00:00.000Z","type":"rekey","peer":"p%d","handshakes":%d}\n' % (n, n)
c.sendall(b'{"version":1,"result":"ok","streaming":true}\n' + ev(1))
for n, size in ((2, 70000), (3, 200000)):
    c.sendall(b'{"junk":"' + b'x' * size + b'"}\n' + ev(n))
c.close()
PY
	for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
}
fake_events "$work/ev.sock"
run "$M" events --json --socket "$work/ev.sock"; wait
if [ $rc = 1 ] && python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert [e["peer"] for e in evs] == ["p1", "p2", "p3"], evs' "$out"; then
	ok "events --json: over-long lines dropped whole, every line printed is an event"
else bad "events --json with over-long lines (exit $rc)" "$out"; fi
fake_events "$work/ev2.sock"
run "$M" events --socket "$work/ev2.sock"; wait
[ $rc = 1 ] && [ "$(wc -l <"$out")" = 3 ] && ! grep -q xxx "$out" && ok "events: over-long lines dropped whole in text too" ||
	bad "events with over-long lines (exit $rc)" "$out"

# meshsecd: the same grammar; a bad --metrics-listen refused before anything starts.
for v in 0 70000 garbage 1.2.3:80 host.example:9101 ::1:9101; do
	run "$D" --inventory "$work/nope.json" --metrics-listen "$v" --metrics-token-file "$work/key"
	[ $rc = 2 ] && grep -q -- "--metrics-listen $v: " "$err" && ok "meshsecd --metrics-listen $v: refused" || bad "meshsecd --metrics-listen $v (exit $rc)" "$err"
done
run "$D" --inventory "$work/nope.json" stray
[ $rc = 2 ] && grep -q 'unexpected argument "stray"' "$err" && ok "meshsecd stray argument: refused" || bad "meshsecd stray (exit $rc)" "$err"
run "$D" --log-level loud
[ $rc = 2 ] && grep -q -- "--log-level loud" "$err" && ok "meshsecd --log-level loud: refused" || bad "meshsecd --log-level (exit $rc)" "$err"
run "$D" --inventry x
[ $rc = 2 ] && grep -q "did you mean --inventory" "$err" && ok "meshsecd mistyped option: did you mean" || bad "meshsecd --inventry (exit $rc)" "$err"
v=$(sed -n 's/^PACKAGE_VERSION = //p' "$b/Makefile")
[ "$("$M" --version)" = "meshsec $v" ] && [ "$("$D" --version)" = "meshsecd $v" ] && ok "--version on both ($v)" || bad "--version"
run "$D" --help
[ $rc = 0 ] && grep -q -- "--metrics-listen \[ADDR:\]PORT" "$out" && ok "meshsecd --help" || bad "meshsecd --help (exit $rc)" "$out"

# netcheck against a fake agent whose answer lacks self, peer and address: "-" for each, never
# "(null)"; and the man page gives the exit status the help gives ("the agent refused" is 2).
cat >"$work/fake-agent.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.makefile("rb").readline()
c.sendall(b'{"version": 1, "result": "ok", "problems": []}\n')
c.close()
EOF
python3 "$work/fake-agent.py" "$work/fake.sock" >"$work/fake.log" 2>&1 &
fake=$!
for i in $(seq 50); do grep -q ready "$work/fake.log" 2>/dev/null && break; sleep 0.1; done
run "$M" netcheck n2 --socket "$work/fake.sock"
wait $fake
if [ $rc = 0 ] && ! grep -q "(null)" "$out" && grep -qxF "netcheck - -> - (-)" "$out"; then
	ok "netcheck: an answer without self, peer or address prints - for each"
else bad "netcheck with a bare answer (exit $rc)" "$out"; fi
help_exit=$("$M" netcheck --help | sed -n 's/^Exit status: //p')
man_exit=$(sed -n '/^\.B netcheck/,/^\.TP/s/^Exit status //p' "$src/deploy/man/meshsec.8")
[ -n "$help_exit" ] && [ "$man_exit" = "$help_exit" ] && ok "netcheck's exit status: the man page says what --help says" ||
	bad "netcheck's exit status: man \"$man_exit\", help \"$help_exit\""
# Every long option a command's --help prints is in that command's entry of meshsec.8 (COMMANDS),
# and every one of meshsecd --help in meshsecd.8.
man_entry() {	# man_entry CMD: the COMMANDS entry of CMD in meshsec.8, dashes unescaped
	awk -v c="$1" '
		/^\.SH/ { in_cmds = ($0 == ".SH COMMANDS"); on = 0; next }
		in_cmds && /^\.TP/ { tp = 1; on = 0; next }
		in_cmds && tp { tp = 0; w = $2; gsub(/\\/, "", w); on = ($1 ~ /^\.B/ && w == c) }
		on' "$src/deploy/man/meshsec.8" | sed 's/\\-/-/g'
}
long_opts() { sed -n 's/^  \(-., \|    \)\(--[a-z-]*\).*/\2/p' | grep -vx -- --help; }
for c in $cmds; do
	missing=$(for o in $("$M" "$c" --help | long_opts); do man_entry "$c" | grep -q -- "$o\b" || echo "$o"; done)
	[ -z "$missing" ] && ok "meshsec.8 lists every option of $c" || bad "meshsec.8's entry for $c lacks:" <(echo $missing)
done
missing=$(for o in $("$D" --help | long_opts); do sed 's/\\-/-/g' "$src/deploy/man/meshsecd.8" | grep -q -- "$o\b" || echo "$o"; done)
[ -z "$missing" ] && ok "meshsecd.8 lists every option of meshsecd" || bad "meshsecd.8 lacks:" <(echo $missing)

# Completion, as bash calls it.
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _meshsec; echo "${COMPREPLY[*]}"' _ \
		"$src/deploy/bash-completion/meshsec" "$@"
}
[ "$(comp "$M" sta)" = status ] && ok "completion: subcommands" || bad "completion of sta: $(comp "$M" sta)"
[ "$(comp "$M" check --no-)" = --no-address-check ] && ok "completion: a command's options" || bad "completion of check --no-: $(comp "$M" check --no-)"
[ "$(comp "$M" show --inventory "$work/inv.json" b)" = bravo ] && ok "completion: peer names from the inventory" ||
	bad "completion of show b: $(comp "$M" show --inventory "$work/inv.json" b)"
summary
