#!/bin/bash
# PID 1 inside the User-Mode Linux guest: prepares the kernel (modules from the host's
# user-mode-linux package), runs one scenario, writes its verdict, and powers off.
# usage (from run.sh's generated init): guest-init.sh RESULTS_DIR SCENARIO_SCRIPT BUILDDIR
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export RESULTS=$1 SCENARIO=$2 BUILDDIR=$3
export TESTS_KERNEL=$(dirname "$0")

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /run
# /tmp stays the host's (the checkout may live there); scratch files go to the guest's /run.
mkdir -p /run/netns /run/tmp
export TMPDIR=/run/tmp
# The host may have no /lib/modules at all: point modprobe (ours and the kernel's crypto
# autoloader) at the UML modules through a directory on the guest's tmpfs.
mkdir -p /run/modroot/lib/modules
ln -s "/usr/lib/uml/modules/$(uname -r)" "/run/modroot/lib/modules/$(uname -r)"
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/modroot "$@"\n' > /run/modprobe
chmod +x /run/modprobe
echo /run/modprobe > /proc/sys/kernel/modprobe
modprobe -d /run/modroot -a xfrm_user esp4 esp6 veth bridge dummy >"$RESULTS/modprobe.log" 2>&1
ip link set lo up
# The first SA of each AEAD makes the kernel load and self-test its crypto modules, which takes
# seconds through the guest's modprobe; do it here so scenarios time the agent, not that.
ip netns add warm
for alg in "rfc4106(gcm(aes)) 0x$(printf '%072d' 0)" "rfc7539esp(chacha20,poly1305) 0x$(printf '%072d' 0)"; do
	set -- $alg
	ip -n warm xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 mode transport aead "$1" "$2" 128 \
		>>"$RESULTS/modprobe.log" 2>&1
	ip -n warm xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 2>/dev/null
done
ip netns del warm

(
	cd "$RESULTS" || exit 1
	. "$TESTS_KERNEL/lib.sh"
	. "$SCENARIO"
	finish
) >"$RESULTS/scenario.log" 2>&1
[ -f "$RESULTS/result" ] || echo "FAIL: scenario exited before writing a verdict (see scenario.log)" >"$RESULTS/result"
sync
poweroff -f
