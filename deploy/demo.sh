#!/bin/bash
# The demo: installs what it needs, builds meshsec, makes a mesh secret, and checks the example
# 3-node inventory from each node's point of view (what each would install).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deploy/install-deps.sh
./autogen.sh >/dev/null 2>&1
b=$top/build-demo
mkdir -p "$b"
( cd "$b" && { [ -f Makefile ] || "$top/configure" >configure.log; } && make -j"$(nproc)" >make.log )
work=$(mktemp -d /tmp/meshsec-demo.XXXXXX)
umask 077
"$b/meshsec" keygen >"$work/mesh.key"
echo "mesh secret written to $work/mesh.key (mode 0600)"
for node in node-1 node-2 node-3; do
	echo
	echo "== meshsec check --node $node"
	"$b/meshsec" check --inventory deploy/inventory.example.json --secret "$work/mesh.key" --node "$node"
done
