#!/bin/bash
# The demo: installs what it needs, builds meshsec, and brings up a 3-node mesh with the example
# inventory: three network namespaces on one bridge, one meshsecd each.  It shows the SAs the
# kernel holds, a capture on the bridge with ESP only, and each agent's view of its peers.
#
# Where the host kernel has ESP the mesh runs in a private network namespace of this host;
# otherwise (many cloud and CI kernels) inside User-Mode Linux.  Nothing is left behind.
#
# usage: deploy/demo.sh [--builddir DIR] [--uml | --direct]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
b="" mode=""
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) b=$(cd "$2" && pwd); shift 2 ;;
	--uml) mode=uml; shift ;;
	--direct) mode=direct; shift ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	*) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "demo: run as root (network namespaces and IPsec need it)" >&2; exit 2; }

if [ -z "$b" ]; then
	deploy/install-deps.sh
	./autogen.sh >/dev/null 2>&1
	b=$top/build-demo
	mkdir -p "$b"
	echo "== building meshsec in $b"
	( cd "$b" && { [ -f Makefile ] || "$top/configure" >configure.log; } && make -j"$(nproc)" >make.log ) ||
		{ tail -n 30 "$b/make.log"; exit 1; }
fi

host_has_esp() {
	unshare --net sh -c "ip link set lo up && ip xfrm state add src 127.0.0.1 dst 127.0.0.2 proto esp spi 0x100 \
		mode transport aead 'rfc4106(gcm(aes))' 0x$(printf '%072d' 0) 128" >/dev/null 2>&1
}
if [ -z "$mode" ]; then
	if host_has_esp; then mode=direct; else mode=uml; fi
fi

results=$b/demo-results
rm -rf "$results"
mkdir -p "$results"
if [ "$mode" = uml ]; then
	echo "== this kernel cannot do ESP here: the demo runs inside User-Mode Linux (about 30 s)"
	tests/kernel/run.sh --builddir "$b" --results "$results" deploy/demo-mesh.sh >"$results/run.log" 2>&1 || true
	out=$results/demo-mesh
	cat "$out/demo.txt" 2>/dev/null
else
	echo "== the demo runs in a private network namespace of this host"
	out=$results/demo-mesh
	mkdir -p "$out"
	unshare --net --mount --propagation private bash -c '
		set -u
		mkdir -p /run/netns && mount -t tmpfs demo-netns /run/netns
		ip link set lo up
		export RESULTS=$1 BUILDDIR=$2 TESTS_KERNEL=$3/tests/kernel
		cd "$RESULTS"
		. "$TESTS_KERNEL/lib.sh"
		. "$3/deploy/demo-mesh.sh"
		finish' demo "$out" "$b" "$top" >"$out/scenario.log" 2>&1 || true
	cat "$out/demo.txt" 2>/dev/null
fi
verdict=$(cat "$out/result" 2>/dev/null || echo "no verdict")
echo
if [ "$verdict" = PASS ]; then
	echo "demo: the mesh came up and every packet between the nodes was ESP ($(grep -c '^ok' "$out/checks.log") checks passed)"
	echo "      agents' logs: $out/n1.log n2.log n3.log; capture: $out/demo.pcap"
else
	echo "demo: FAILED ($verdict)"
	grep -E '^FAIL' -A5 "$out/checks.log" 2>/dev/null || tail -n 30 "$results/run.log" "$out/scenario.log" 2>/dev/null
	exit 1
fi
