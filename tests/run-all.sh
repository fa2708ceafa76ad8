#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   dependencies -> build under ASan+UBSan -> unit tests -> fleet simulator -> fuzz runs -> real-kernel scenarios
#   -> make distcheck.  Ends with one summary line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log() { printf '\n== %s\n' "$*"; }
fail_total=0 pass_total=0
tally() { pass_total=$((pass_total + $1)); fail_total=$((fail_total + $2)); }

log "dependencies"
deploy/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

log "build (ASan + UBSan, -Werror)"
./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }
b=$top/build-test
mkdir -p "$b"
( cd "$b" && { [ -f Makefile ] || "$top/configure" --enable-sanitizers >configure.log 2>&1; } && make -j"$(nproc)" >make.log 2>&1 ) \
	|| { tail -n 40 "$b/configure.log" "$b/make.log" 2>/dev/null; echo "0 passed, 1 failed"; exit 1; }

log "unit tests (cmocka, under sanitizers)"
( cd "$b" && make -j"$(nproc)" check >check.log 2>&1 )
rc=$?
cat "$b"/tests/unit/*.log | grep -E '^\[ *(OK|FAILED|PASSED|ERROR) *\]|^\[==========\]' | grep -v '^\[       OK \]' 
n_ok=$(cat "$b"/tests/unit/*.log | grep -c '^\[       OK \]')
n_bad=$(cat "$b"/tests/unit/*.log | grep -c '^\[  FAILED  \] [a-z_0-9]*$')
[ $rc -eq 0 ] || [ "$n_bad" -gt 0 ] || n_bad=1
tally "$n_ok" "$n_bad"
echo "unit tests: $n_ok passed, $n_bad failed"

log "simulator (meshsim: regression scenarios and fixed seeds, under sanitizers)"
tests/sim/run.sh "$b" | tee "$b/sim.log"
sp=$(sed -n 's/^sim: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$b/sim.log")
sf=$(sed -n 's/^sim: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$b/sim.log")
[ -n "$sp" ] || { sp=0; sf=1; }
tally "$sp" "$sf"

log "fuzz (libFuzzer, bounded runs from the seed corpus)"
if tests/fuzz/build.sh "$top" "$b/fuzz" >"$b/fuzz-build.log" 2>&1; then
	tests/fuzz/run.sh "$b/fuzz" "${MESHSEC_FUZZ_SECONDS:-20}"
	rc=$?
	n_h=$(ls "$b"/fuzz/fuzz_* 2>/dev/null | grep -vc "\.log$")
	if [ $rc -eq 0 ]; then tally "$n_h" 0; else tally 0 1; fi
else
	tail -n 30 "$b/fuzz-build.log"; tally 0 1
fi

log "real-kernel scenarios (User-Mode Linux)"
# ASan cannot map its shadow memory in UML's smaller address space, so the guest runs a plain
# -O2 -g build of the same tree (-Werror as well).
k=$top/build-kernel
mkdir -p "$k"
if ! ( cd "$k" && { [ -f Makefile ] || "$top/configure" >configure.log 2>&1; } && make -j"$(nproc)" >make.log 2>&1 ); then
	tail -n 40 "$k/make.log"; tally 0 1
fi
tests/kernel/run.sh --builddir "$k" | tee "$b/kernel.log"
kp=$(sed -n 's/^kernel scenarios: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$b/kernel.log")
kf=$(sed -n 's/^kernel scenarios: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$b/kernel.log")
[ -n "$kp" ] || { kp=0; kf=1; }
tally "$kp" "$kf"

log "host tests (the CLI against this host's kernel, in scratch namespaces)"
for t in doctor-firewall secret-file kernel-support node-local doctor-source doctor-honest policy-shapes cli kube etcd ansible deb; do
	tests/host/$t.sh "$k" | tee "$b/host-$t.log"
	hp=$(sed -n 's/^host tests: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$b/host-$t.log")
	hf=$(sed -n 's/^host tests: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$b/host-$t.log")
	[ -n "$hp" ] || { hp=0; hf=1; }
	tally "$hp" "$hf"
done

log "make install (binaries, unit with this prefix's paths, docs)"
inst=$k/install-root
rm -rf "$inst"
if ( cd "$k" && make install DESTDIR="$inst" >install.log 2>&1 ); then
	unit=$(find "$inst" -name meshsecd.service)
	early=$(find "$inst" -name meshsec-policies.service)
	ok=1
	[ -n "$early" ] || { echo "make install put no meshsec-policies.service"; ok=0; }
	for u in $unit $early; do
		# The programs each Exec line runs (through sh -c 'exec ...', for /etc/default/meshsec).
		bins=$(grep -E '^Exec(StartPre|Start)=' "$u" | grep -oE "/[^ ']*/meshsecd?( |'|\$)" | tr -d " '")
		[ -n "$bins" ] || { echo "$(basename "$u") runs neither meshsec nor meshsecd"; ok=0; }
		for bin in $bins; do
			[ -x "$inst$bin" ] || { echo "$(basename "$u") runs $bin, which make install did not put there"; ok=0; }
		done
		grep -qE '@[a-z]+@' "$u" && { echo "unsubstituted @...@ left in $u"; ok=0; }
	done
	# Fail closed from boot: policies before network-pre.target, agent ready only when they are in.
	for want in "DefaultDependencies=no" "Before=network-pre.target" "Wants=network-pre.target" "WantedBy=sysinit.target"; do
		grep -q "^$want" "$early" || { echo "meshsec-policies.service lacks $want"; ok=0; }
	done
	for want in "Type=notify" "After=network-online.target meshsec-policies.service"; do
		grep -q "^$want" "$unit" || { echo "meshsecd.service lacks $want"; ok=0; }
	done
	# Man pages installed and lint-clean; completion where bash-completion looks, for both programs.
	for m in man8/meshsec.8 man8/meshsecd.8 man5/meshsec-inventory.5; do
		page=$(find "$inst" -path "*/man/$m")
		[ -n "$page" ] || { echo "make install put no $m"; ok=0; continue; }
		lint=$(groff -man -ww -z "$page" 2>&1) && [ -z "$lint" ] || { echo "$m: $lint"; ok=0; }
	done
	for c in meshsec meshsecd; do
		[ -e "$(find "$inst" -path "*/bash-completion/completions/$c" | head -n 1)" ] || { echo "make install put no bash completion for $c"; ok=0; }
	done
	if command -v systemd-analyze >/dev/null; then
		systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -n 1
	fi
	if [ $ok = 1 ]; then echo "install: ok ($(find "$inst" -type f | wc -l) files)"; tally 1 0; else tally 0 1; fi
else
	tail -n 20 "$k/install.log"; tally 0 1
fi

log "benchmarks (figures only; the kernel ones are in the bench scenario above)"
"$k/tests/bench/bench_handshake" 5000 || tally 0 1
"$k/tests/bench/bench_inventory" || tally 0 1
"$k/tests/bench/bench_input" 100 10000 || tally 0 1
tests/bench/scale-native.sh "$k" 100 10000 || echo "(scale benchmark not run on this host)"
tests/bench/status-native.sh "$k" 1000 || echo "(status benchmark not run on this host)"
PAIRS=15 tests/bench/policy-lookup.sh "$k" 0 20000 || tally 0 1
# XFRM policies on this host's kernel (SAs need ESP, which the bench scenario measures in UML).
if ip netns add "msbnl$$" 2>/dev/null; then
	ip netns exec "msbnl$$" "$k/tests/bench/bench_netlink" 2000 sp || echo "(netlink benchmark failed on this host)"
	ip netns del "msbnl$$"
fi

log "make distcheck"
if ( cd "$b" && make distcheck >distcheck.log 2>&1 ); then
	echo "distcheck: ok"; tally 1 0
else
	tail -n 30 "$b/distcheck.log"; tally 0 1
fi

echo
echo "$pass_total passed, $fail_total failed"
[ "$fail_total" -eq 0 ]
