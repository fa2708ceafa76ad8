#!/bin/bash
# The Debian package (debian/), as a new operator gets it: built with dpkg-buildpackage, lintian
# clean (each override with its reason), then in a clean Debian 12 chroot (debootstrap minbase,
# cached under /var/cache/meshsec-deb-test): installed with apt (dependencies resolved), files,
# modes, group, units, default file; the agent not started and why; upgraded to a second build;
# removed (the operator's files kept) and purged (what stays, and why).  Root; needs the network
# the first time.  Usage: tests/host/deb.sh BUILD_DIR (only for lib.bash; the package is built
# from this source tree).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.bash"
set -o pipefail
cache=/var/cache/meshsec-deb-test
mirror=${MESHSEC_DEB_MIRROR:-http://deb.debian.org/debian}
root=$work/chroot
export DEBIAN_FRONTEND=noninteractive
secs() { echo $(($(date +%s%N) / 1000000)); }
ms_since() { local t=$(($(secs) - $1)); printf '%d.%01d s' $((t / 1000)) $((t % 1000 / 100)); }

# Tools, then the build dependencies debian/control names (dpkg-checkbuilddeps lists what is missing).
need=""
for p in debhelper devscripts lintian debootstrap fakeroot; do
	dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
[ -z "$need" ] || apt-get install -y -qq --no-install-recommends $need >/dev/null
unmet=$(cd "$top" && dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' | sed 's/([^)]*)//g; s/<[^>]*>//g')
[ -z "$unmet" ] || apt-get install -y -qq --no-install-recommends $unmet >/dev/null

# debian/changelog's version is configure.ac's (AC_INIT), plus at most a Debian suffix.
ac=$(sed -n 's/^AC_INIT(\[meshsec\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
ch=$(cd "$top" && dpkg-parsechangelog -S Version)
case "$ch" in "$ac" | "$ac"[-+~]*) ok "version: debian/changelog $ch is configure.ac's $ac" ;;
*) echo "debian/changelog says $ch, configure.ac $ac" >"$work/v"; bad "version: changelog follows configure.ac" "$work/v" ;; esac

# Two builds from copies of this tree (tracked and new files, no build directories): the package,
# and a later version of it (dch --local) built as production (nocheck: no cmocka, no tests).
copy_tree() {
	mkdir -p "$1/meshsec"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && git ls-files -co --exclude-standard | grep -v '^build' | tar -cf - -T -) | tar -xf - -C "$1/meshsec"
	else # an unpacked release: everything but build directories
		tar -C "$top" --exclude='./build*' -cf - . | tar -xf - -C "$1/meshsec"
	fi
}
build() { # DIR [env...]: dpkg-buildpackage in DIR/meshsec, log in DIR/build.log
	local d=$1; shift
	(cd "$d/meshsec" && env "$@" dpkg-buildpackage -us -uc -b -j2 >"$d/build.log" 2>&1)
}
# MESHSEC_DEB_DEBS="OLD.deb NEW.deb" tests packages built before (or altered, for a negative
# control) instead of building; MESHSEC_DEB_KEEP=DIR keeps the ones built here.
if [ -n "${MESHSEC_DEB_DEBS:-}" ]; then
	set -- $MESHSEC_DEB_DEBS
	deb1=$1 deb2=$2 lint=$1
else
	copy_tree "$work/v1"
	copy_tree "$work/v2"
	(cd "$work/v2/meshsec" && DEBFULLNAME="meshsec test" DEBEMAIL=test@localhost dch --local +upgrade "Upgrade test build." 2>/dev/null)
	t0=$(secs)
	if build "$work/v1"; then
		deb1=$(ls "$work"/v1/meshsec_*_*.deb)
		ok "build: $(basename "$deb1") in $(ms_since $t0) ($(stat -c %s "$deb1") bytes, installed $(dpkg-deb -f "$deb1" Installed-Size) KiB; unit tests: $(sed -n 's/^# PASS: *//p' "$work/v1/build.log") passed)"
	else
		bad "build: dpkg-buildpackage -us -uc -b" <(tail -n 30 "$work/v1/build.log"); summary; exit
	fi
	t0=$(secs)
	if build "$work/v2" DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES=nocheck; then
		deb2=$(ls "$work"/v2/meshsec_*_*.deb)
		# Production build: configure never asked for cmocka and no unit test was built.
		if grep -q 'checking for cmocka' "$work/v2/build.log" || [ -n "$(find "$work/v2/meshsec" -name 'test_index' -type f)" ]; then
			bad "build nocheck: no cmocka, no tests" <(grep -n 'cmocka' "$work/v2/build.log")
		else
			ok "build nocheck: $(basename "$deb2") in $(ms_since $t0), configure --disable-tests, cmocka never looked for"
		fi
	else
		bad "build nocheck: dpkg-buildpackage -us -uc -b" <(tail -n 30 "$work/v2/build.log"); summary; exit
	fi
	lint=$(ls "$work"/v1/meshsec_*.changes)
	[ -z "${MESHSEC_DEB_KEEP:-}" ] || cp "$deb1" "$deb2" "$MESHSEC_DEB_KEEP/"
fi

# lintian: no error or warning, and every override says why (a comment right above it).
lintian -I --tag-display-limit 0 "$lint" >"$work/lintian" 2>&1
grep -E '^[EW]: ' "$work/lintian" >"$work/lintian.ew"
if [ -s "$work/lintian.ew" ]; then bad "lintian: no errors or warnings" "$work/lintian.ew"; else
	ok "lintian: no errors or warnings ($(grep -c '^[IPN]: ' "$work/lintian") info notes)"; fi
awk '/^#/ { why = 1; next } /^[^ ]/ && !why { print FILENAME ": " $0 " has no reason" } { why = 0 }' \
	"$top"/debian/*lintian-overrides >"$work/ov"
if [ -s "$work/ov" ]; then bad "lintian overrides: each with its reason" "$work/ov"; else
	ok "lintian overrides: $(grep -c '^[^#]' "$top"/debian/*lintian-overrides) override(s), each with its reason"; fi

# A clean Debian 12 (minbase), made once and kept as a tarball; downloaded packages kept too.
mkdir -p "$cache/archives/partial"
t0=$(secs)
if [ ! -s "$cache/bookworm-minbase.tar" ]; then
	rm -rf "$work/base"
	if debootstrap --variant=minbase bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1; then
		echo "deb ${mirror%/debian}/debian-security bookworm-security main" >>"$work/base/etc/apt/sources.list"
		tar -C "$work/base" -cf "$cache/bookworm-minbase.tar.tmp" . && mv "$cache/bookworm-minbase.tar.tmp" "$cache/bookworm-minbase.tar"
	else
		bad "chroot: debootstrap --variant=minbase bookworm" <(tail -n 20 "$work/debootstrap.log"); summary; exit
	fi
	rm -rf "$work/base"
fi
mkdir -p "$root" && tar -C "$root" -xf "$cache/bookworm-minbase.tar"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null; mountpoint -q "$root/proc" || rm -rf "$work"' EXIT
# Packages downloaded by an earlier run go in, new ones come back out (apt keeps them there).
cp "$cache/archives/"*.deb "$root/var/cache/apt/archives/" 2>/dev/null
keep_debs() { cp -n "$root/var/cache/apt/archives/"*.deb "$cache/archives/" 2>/dev/null; }
if ! chroot "$root" apt-get update -qq >"$work/update.log" 2>&1; then
	bad "chroot: apt-get update" "$work/update.log"; summary; exit
fi
ok "chroot: clean Debian 12 minbase ready (apt lists updated) in $(ms_since $t0)"
in_root() { chroot "$root" "$@"; }
cp "$deb1" "$deb2" "$root/tmp/"
v1=/tmp/$(basename "$deb1") v2=/tmp/$(basename "$deb2")
apt_in_root() { in_root apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; }

# Every expectation is one line "WHAT: COMMAND"; check NAME runs them in the chroot.
check() { # NAME, expectations on stdin
	local name=$1 line what cmd out=$work/check.out n=0
	: >"$out"
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		what=${line%%: *} cmd=${line#*: } n=$((n + 1))
		in_root sh -c "$cmd" >/dev/null 2>&1 || echo "$what  ($cmd)" >>"$out"
	done
	if [ -s "$out" ]; then bad "$name" "$out"; else ok "$name ($n checks)"; fi
}

t0=$(secs)
if apt_in_root install --no-install-recommends "$v1" >"$work/install.log" 2>&1; then
	ok "install: apt-get install ./$(basename "$deb1") in $(ms_since $t0) (with $(grep -c '^Unpacking' "$work/install.log") packages unpacked, dependencies included)"
else
	bad "install: apt-get install" <(tail -n 20 "$work/install.log"); summary; exit
fi
keep_debs
check "installed: files, modes, group, units, default file, man pages, completion, docs" <<'EOF'
meshsec runs: /usr/bin/meshsec help
meshsecd is there: test -x /usr/sbin/meshsecd
/etc/meshsec 0700 root: test "$(stat -c %a:%U /etc/meshsec)" = 700:root
group meshsec (sysusers.d): getent group meshsec && test -f /usr/lib/sysusers.d/meshsec.conf
/run/meshsec (tmpfiles.d): test -f /usr/lib/tmpfiles.d/meshsec.conf && test "$(stat -c %a /run/meshsec)" = 755
/etc/default/meshsec is a conffile: dpkg-query -W -f='${Conffiles}' meshsec | grep -q ' /etc/default/meshsec '
/etc/default/meshsec names the node and options: grep -q '^MESHSEC_NODE=$' /etc/default/meshsec && grep -q '^MESHSECD_OPTS=$' /etc/default/meshsec
both units read it: grep -q '^EnvironmentFile=-/etc/default/meshsec' /lib/systemd/system/meshsecd.service && grep -q '^EnvironmentFile=-/etc/default/meshsec' /lib/systemd/system/meshsec-policies.service
units enabled: test -L /etc/systemd/system/multi-user.target.wants/meshsecd.service && test -L /etc/systemd/system/sysinit.target.wants/meshsec-policies.service
man pages: test -f /usr/share/man/man8/meshsec.8.gz && test -f /usr/share/man/man8/meshsecd.8.gz && test -f /usr/share/man/man5/meshsec-inventory.5.gz
bash completion, both programs: test -f /usr/share/bash-completion/completions/meshsec && test "$(readlink /usr/share/bash-completion/completions/meshsecd)" = meshsec
docs and example inventory, uncompressed: test -f /usr/share/doc/meshsec/README.md && test -f /usr/share/doc/meshsec/inventory.example.json
EOF
for m in meshsec.8 meshsecd.8 meshsec-inventory.5; do
	page=$(find "$root/usr/share/man" -name "$m.gz")
	lint=$(zcat "$page" | groff -man -ww -z 2>&1) && [ -z "$lint" ] || echo "$m: $lint"
done >"$work/man"
if [ -s "$work/man" ]; then bad "man pages: groff -man -ww clean" "$work/man"; else ok "man pages: groff -man -ww clean"; fi

# Not started, and it says why: no agent runs, the postinst names the missing files, and both
# units' conditions are false on this system until the operator puts the files in place.
conds() { grep -h '^ConditionPathExists=' "$root"/lib/systemd/system/meshsec*.service | sort -u; }
cond_ok() { in_root systemd-analyze condition $(conds) >/dev/null 2>&1; }
agents=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/root")" = "$root" ] && cat "$p/comm"; done 2>/dev/null | grep -c meshsecd)
if [ "$agents" = 0 ] && grep -q 'the agent is enabled but not started: missing /etc/meshsec/inventory.json /etc/meshsec/mesh.key' "$work/install.log" &&
	[ "$(conds | wc -l)" = 2 ] && ! cond_ok; then
	ok "not started: no meshsecd, the postinst names both missing files, the units' conditions are false"
else
	{ echo "meshsecd processes: $agents"; conds; grep -A6 'meshsec:' "$work/install.log"; } >"$work/ns"
	bad "not started, and says why" "$work/ns"
fi

# The operator's part: a secret, an inventory, this node's name; then the conditions hold.
in_root sh -c 'meshsec keygen --out /etc/meshsec/mesh.key && cp /usr/share/doc/meshsec/inventory.example.json /etc/meshsec/inventory.json &&
	sed -i "s/^MESHSEC_NODE=\$/MESHSEC_NODE=node-1/" /etc/default/meshsec && mkdir -p /var/lib/meshsec && echo node-1 >/var/lib/meshsec/node' >"$work/op" 2>&1
if cond_ok && [ "$(stat -c %a "$root/etc/meshsec/mesh.key")" = 600 ]; then ok "operator files in place: the units' conditions hold, the secret is 0600"
else bad "operator files: conditions hold once inventory and secret exist" "$work/op"; fi

t0=$(secs)
before=$(dpkg-deb -f "$deb1" Version) after=$(dpkg-deb -f "$deb2" Version)
if apt_in_root install --no-install-recommends "$v2" >"$work/upgrade.log" 2>&1; then
	ok "upgrade: $before -> $after in $(ms_since $t0)"
else
	bad "upgrade: apt-get install ./$(basename "$deb2")" <(tail -n 20 "$work/upgrade.log")
fi
check "after the upgrade: new version, the operator's files and settings kept" <<EOF
version $after: test "\$(dpkg-query -W -f='\${Version}' meshsec)" = "$after"
node name kept: grep -q '^MESHSEC_NODE=node-1' /etc/default/meshsec
no conffile copy: test ! -e /etc/default/meshsec.dpkg-new -a ! -e /etc/default/meshsec.dpkg-dist
secret and inventory kept: test -f /etc/meshsec/mesh.key && test -f /etc/meshsec/inventory.json
/etc/meshsec still 0700: test "\$(stat -c %a /etc/meshsec)" = 700
units still enabled: test -L /etc/systemd/system/multi-user.target.wants/meshsecd.service
EOF

apt_in_root remove meshsec >"$work/remove.log" 2>&1 || bad "remove: apt-get remove" "$work/remove.log"
check "removed: programs gone, configuration and the operator's files kept" <<'EOF'
programs gone: test ! -e /usr/sbin/meshsecd && test ! -e /usr/bin/meshsec
units gone: test ! -e /lib/systemd/system/meshsecd.service
state rc: dpkg-query -W -f='${db:Status-Abbrev}' meshsec | grep -q '^rc'
/etc/default/meshsec kept: grep -q '^MESHSEC_NODE=node-1' /etc/default/meshsec
secret and inventory kept: test -f /etc/meshsec/mesh.key && test -f /etc/meshsec/inventory.json
EOF
if grep -q 'the kernel still holds this node' "$work/remove.log"; then ok "remove: says the kernel keeps the mesh policies and how to clear them"
else bad "remove: says the kernel keeps the mesh policies" "$work/remove.log"; fi

# Purge: everything of the package's goes; what stays is listed with the reason.
apt_in_root purge meshsec >"$work/purge.log" 2>&1 || bad "purge: apt-get purge" "$work/purge.log"
leftovers() { # what is named meshsec, and what is in /etc/meshsec, outside dpkg's and apt's records
	(cd "$root" && find . -xdev \( -name '*meshsec*' -o -path './etc/meshsec/*' \) -not -path './tmp/*' \
		-not -path './var/cache/*' -not -path './var/log/*' -not -path './var/lib/dpkg/*' | sort | tr '\n' ' ')
}
left=$(leftovers)
expect="./etc/meshsec ./etc/meshsec/inventory.json ./etc/meshsec/mesh.key "
if [ "$left" = "$expect" ] && grep -q 'kept /etc/meshsec' "$work/purge.log" && ! in_root dpkg-query -W meshsec >/dev/null 2>&1; then
	ok "purge: only the operator's inventory and secret stay (and purge says so), group meshsec stays (files may belong to it)"
else
	echo "left: $left" >"$work/left"; echo "expected: $expect" >>"$work/left"; bad "purge: nothing of the package's left" "$work/left"
fi
# Without operator files, a purge leaves nothing named meshsec at all (the group aside).
in_root rm -r /etc/meshsec
apt_in_root install --no-install-recommends "$v2" >"$work/install2.log" 2>&1 && apt_in_root purge meshsec >"$work/purge2.log" 2>&1
left=$(leftovers)
if [ -z "$left" ] && in_root getent group meshsec >/dev/null; then ok "install then purge: nothing left but group meshsec"
else echo "left: $left" >"$work/left"; bad "install then purge: nothing left" "$work/left"; fi
summary
