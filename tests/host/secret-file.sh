#!/bin/bash
# The mesh secret's file through the CLI: `meshsec keygen --out` makes it 0600 whatever the umask
# and never over an existing file or link; plain keygen warns when its output is exposed; `meshsec
# check` refuses a symbolic link and a FIFO at once (a FIFO used to hang it).  `check` runs in a
# scratch network namespace that holds the inventory's address.  Prints "host tests: N passed,
# N failed".
# usage: tests/host/secret-file.sh BUILDDIR
. "$(dirname "$0")/lib.bash"
mode() { stat -c %a "$1"; }

if (umask 0; "$b/meshsec" keygen --out "$work/k" >"$work/out" 2>&1) && [ "$(mode "$work/k")" = 600 ] &&
	grep -q "wrote a new mesh secret to $work/k (mode 0600)" "$work/out"; then
	ok "keygen --out: mode 0600 under umask 0"
else bad "keygen --out under umask 0 (mode $(mode "$work/k" 2>&1))" "$work/out"; fi
cp "$work/k" "$work/k.before" 2>/dev/null
"$b/meshsec" keygen --out "$work/k" >"$work/out" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q "$work/k already exists; not overwriting it" "$work/out" && cmp -s "$work/k" "$work/k.before"; then
	ok "keygen --out: an existing file is refused and left as it was"
else bad "keygen --out over an existing file (exit $rc)" "$work/out"; fi
ln -s "$work/elsewhere" "$work/link"
"$b/meshsec" keygen --out "$work/link" >"$work/out" 2>&1; rc=$?
if [ $rc = 1 ] && [ ! -e "$work/elsewhere" ]; then ok "keygen --out: a symbolic link is not followed"; else bad "keygen --out through a link (exit $rc)" "$work/out"; fi
mkdir -m 0777 "$work/open"
"$b/meshsec" keygen --out "$work/open/k" >"$work/out" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q "meshsec will refuse to load it: .*chmod go-w $work/open" "$work/out"; then
	ok "keygen --out: a directory others can write is reported at once"
else bad "keygen --out in a world-writable directory (exit $rc)" "$work/out"; fi

(umask 022; "$b/meshsec" keygen >"$work/stdout.key" 2>"$work/err")
if grep -q "standard output is a file of mode 0644 that group or others can read; use: meshsec keygen --out PATH" "$work/err"; then
	ok "keygen > file: warns that group or others can read it"
else bad "keygen > readable file: no warning" "$work/err"; fi
(umask 077; "$b/meshsec" keygen >"$work/private.key" 2>"$work/err")
if [ ! -s "$work/err" ] && [ "$(wc -c <"$work/private.key")" = 45 ]; then ok "keygen > 0600 file: no warning"; else bad "keygen > private file" "$work/err"; fi
script -qec "$b/meshsec keygen" /dev/null >"$work/tty" 2>&1
if grep -q "the key is on your screen and in your terminal's scrollback; use: meshsec keygen --out PATH" "$work/tty"; then
	ok "keygen to a terminal: warns about the scrollback"
else bad "keygen to a terminal: no warning" "$work/tty"; fi

ip netns add "$ns" && ip -n "$ns" link set lo up && ip -n "$ns" addr add 10.78.0.1/32 dev lo ||
	{ echo "host tests: $pass passed, $((fail + 1)) failed (netns)"; exit 1; }
cat >"$work/inv.json" <<JSON
{"version": 1, "mesh": {"name": "sec", "port": 4802}, "nodes": [
  {"name": "a", "addresses": ["10.78.0.1"]}, {"name": "b", "addresses": ["10.78.0.2"]}]}
JSON
check() { timeout 10 ip netns exec "$ns" "$b/meshsec" check --inventory "$work/inv.json" --secret "$1" >"$work/out" 2>&1; }
# Accepted: check passes, or fails later than the secret (a kernel without ESP) without naming it.
if check "$work/k" || ! grep -q "$work/k" "$work/out"; then ok "check: the keygen file is accepted"; else bad "check of a good file" "$work/out"; fi
ln -s "$work/k" "$work/k.link"
check "$work/k.link"; rc=$?
if [ $rc = 1 ] && grep -q "$work/k.link: is a symbolic link; point --secret at the file itself" "$work/out"; then
	ok "check: a symbolic link is refused"
else bad "check of a symbolic link (exit $rc)" "$work/out"; fi
mkfifo -m 600 "$work/fifo"
check "$work/fifo"; rc=$?
if [ $rc = 1 ] && grep -q "$work/fifo: is a FIFO, not a regular file" "$work/out"; then
	ok "check: a FIFO is refused at once"
else bad "check of a FIFO (exit $rc; 124 is a hang)" "$work/out"; fi
summary
