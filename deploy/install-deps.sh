#!/bin/sh
# Installs what building, testing and the demo need, from Debian 12's own packages.
# Safe to run again: apt-get only installs what is missing.
set -e
[ "$(id -u)" = 0 ] || { echo "install-deps: run as root (apt-get)" >&2; exit 2; }
BUILD="build-essential autoconf automake pkg-config libsodium-dev libevent-dev libnl-3-dev libjansson-dev libcmocka-dev"
# Real-kernel scenarios and the demo: a User-Mode Linux kernel with ESP, and the tools to look at it.
KERNEL="user-mode-linux kmod iproute2 tcpdump iputils-ping procps psmisc util-linux socat nftables iptables valgrind"
# The control socket's JSON checked against its documented schema.
SCHEMA="python3-jsonschema"
# Man page lint (groff -man -ww -z).
LINT="groff-base"
# libFuzzer harnesses.
FUZZ="clang libclang-rt-14-dev"
# The inventory-in-etcd host test (tests/host/etcd.sh) runs a real etcd.
ETCD="etcd-server etcd-client"
missing=""
for p in $BUILD $KERNEL $SCHEMA $LINT $FUZZ $ETCD; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
fi
