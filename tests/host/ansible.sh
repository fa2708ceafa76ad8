#!/bin/bash
# The Ansible role (deploy/ansible) with Debian's ansible against three local targets: each target
# is a network namespace of its own (addresses 10.79.0.N, fd79::N on a bridge) entered through a
# chroot of its own (the host's /usr read-only, its own /etc, /usr/local, /run, /var), reached
# with community.general.chroot whose chroot command is `ip netns exec NS chroot`.  Checks: the
# rendered inventory is byte-identical on every target, the secret is root's 0600 file, `meshsec
# check` passes on each, the agents start on it, a second run changes nothing, the status gate
# stops a rollout at the batch whose pair is not up, a broken host variable fails the play with
# check's message before any target task runs (no target file changes), and a file a target's
# own check refuses is not put in place there.  Limits: this host's kernel has no ESP, so `meshsec
# check` runs without uid 0 (setpriv keeps only CAP_DAC_READ_SEARCH; it then skips its ESP probe),
# the agents run with --skip-esp-check and no pair can come up (the gate's "up" side is not seen
# here); no systemd in the targets (meshsec_service_manager: none; the test starts the agents).
# Runs in a private mount namespace of its own, so its mounts vanish with it.
# Prints the play's run time and "host tests: N passed, N failed".
# usage: tests/host/ansible.sh BUILDDIR
if [ -z "${MESHSEC_ANSIBLE_UNSHARED:-}" ]; then
	MESHSEC_ANSIBLE_UNSHARED=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
targets="t1 t2 t3"
cleanup() {
	for t in $targets; do
		ip netns pids "$ns$t" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns$t" 2>/dev/null
	done
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n 1 umount -l
	ip netns del "$ns" 2>/dev/null
	# Never remove through a mount left behind (the targets' /usr is the host's).
	if grep -q " $work/" /proc/self/mountinfo; then echo "left $work in place: still mounted there"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap "exit 143" TERM INT
die() { echo "setup: $*"; echo "host tests: $pass passed, $((fail + 1)) failed"; exit 1; }

command -v ansible-playbook >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q ansible >/dev/null ||
	die "cannot install Debian's ansible"
ansible-doc -t connection community.general.chroot >/dev/null 2>&1 || die "no community.general.chroot connection (Debian's ansible package has it)"
make -C "$b" install DESTDIR="$work/install" >"$work/install.log" 2>&1 || die "make install failed: $(tail -n 5 "$work/install.log")"

# The targets: tN is node 10.79.0.N in network namespace $ns$tN, root directory $work/tN.
ip netns add "$ns" && ip -n "$ns" link add br0 type bridge && ip -n "$ns" link set br0 up || die "bridge"
i=0
for t in $targets; do
	i=$((i + 1)) r=$work/$t
	ip netns add "$ns$t" && ip -n "$ns$t" link set lo up && ip -n "$ns$t" link add eth0 type veth peer name "v$t" netns "$ns" &&
		ip -n "$ns" link set "v$t" master br0 up && ip -n "$ns$t" addr add "10.79.0.$i/24" dev eth0 &&
		ip -n "$ns$t" addr add "fd79::$i/64" dev eth0 nodad && ip -n "$ns$t" link set eth0 up || die "namespace $t"
	mkdir -p "$r"/{usr,proc,dev,tmp,run/meshsec,var/tmp,var/cache,var/lib/meshsec,root} && chmod 1777 "$r/tmp" "$r/var/tmp" &&
		for l in bin sbin lib lib64; do ln -s "usr/$l" "$r/$l"; done && cp -a /etc "$r/etc" && rm -rf "$r/etc/meshsec" &&
		mount --bind /usr "$r/usr" && mount -o remount,bind,ro "$r/usr" && mount -t tmpfs -o mode=0755 tmpfs "$r/usr/local" &&
		mount -t proc proc "$r/proc" && mount -t tmpfs -o mode=0755 tmpfs "$r/dev" &&
		mknod -m 666 "$r/dev/null" c 1 3 && mknod -m 666 "$r/dev/zero" c 1 5 && mknod -m 666 "$r/dev/urandom" c 1 9 &&
		mknod -m 666 "$r/dev/random" c 1 8 || die "root directory of $t"
	printf '#!/bin/sh\nexec ip netns exec %s chroot "$@"\n' "$ns$t" >"$work/chroot-$t" && chmod +x "$work/chroot-$t"
done
in_t() { local t=$1; shift; ip netns exec "$ns$t" chroot "$work/$t" "$@"; }
# Without uid 0, check skips the ESP probe this kernel fails; CAP_DAC_READ_SEARCH reads root's 0600 secret.
nonroot="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_read_search --ambient-caps=+dac_read_search"

key=$("$b/meshsec" keygen 2>/dev/null)
echo vault-password-of-the-test >"$work/vault-pass"
ansible-vault encrypt_string --vault-password-file "$work/vault-pass" --name meshsec_secret "$key" >"$work/vault.yml" 2>/dev/null ||
	die "ansible-vault encrypt_string"
# hosts ADDRESS-OF-t2 ADDRESS-OF-t3: the Ansible inventory (t3's node is named gamma, in prefer mode).
hosts() {
	cat <<YAML
meshsec:
  vars:
    ansible_connection: community.general.chroot
    ansible_python_interpreter: /usr/bin/python3
    ansible_become: false
    meshsec_mesh: {name: ansitest, port: 4803}
    meshsec_install_from: $work/install
    meshsec_service_manager: none
    meshsec_check_prefix: $nonroot
    meshsec_status_gate: false
  hosts:
    t1: {ansible_host: $work/t1, ansible_chroot_exe: $work/chroot-t1, meshsec_addresses: [10.79.0.1, "fd79::1"]}
    t2: {ansible_host: $work/t2, ansible_chroot_exe: $work/chroot-t2, meshsec_addresses: [$1, "fd79::2"]}
    t3: {ansible_host: $work/t3, ansible_chroot_exe: $work/chroot-t3, meshsec_addresses: [$2], meshsec_name: gamma, meshsec_mode: prefer}
YAML
}
hosts 10.79.0.2 10.79.0.3 >"$work/hosts.yml"
export ANSIBLE_PIPELINING=1 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP=$work/ansible-local ANSIBLE_HOST_KEY_CHECKING=0
# play NAME [ansible-playbook options]: runs site.yml, output in $work/NAME.out, exit status in $rc, time in $secs.
play() {
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	ansible-playbook -i "$work/hosts.yml" -e "@$work/vault.yml" --vault-password-file "$work/vault-pass" -e meshsec_serial=3 \
		"$top/deploy/ansible/site.yml" "$@" >"$work/$name.out" 2>&1
	rc=$?
	secs=$(awk -v n="$(( $(date +%s%N) - t0 ))" 'BEGIN { printf "%.1f", n / 1e9 }')
}
recap_changed() { sed -n 's/^\(t[0-9]\) *: .*changed=\([0-9]*\).*/\1=\2/p' "$work/$1.out" | tr '\n' ' '; }
# A fingerprint of every file the role may write on a target, and the inventory's inode and mtime.
snapshot() {
	for t in $targets; do
		(cd "$work/$t" && find etc/meshsec usr/local var/cache -type f -exec sha256sum {} + 2>/dev/null | sort -k 2)
		stat -c "$t %i %Y" "$work/$t/etc/meshsec/inventory.json" 2>/dev/null
	done
}

play first
echo "figure: first run of the play (install, inventory, secret) on 3 targets: $secs s"
if [ $rc = 0 ]; then ok "first run succeeds (changed: $(recap_changed first))"; else bad "first run (exit $rc)" "$work/first.out"; fi
sums=$(for t in $targets; do sha256sum <"$work/$t/etc/meshsec/inventory.json" 2>/dev/null; done | sort -u)
if [ "$(echo "$sums" | wc -l)" = 1 ] && [ -n "$sums" ] && [ -s "$work/t1/etc/meshsec/inventory.json" ]; then
	ok "inventory byte-identical on every target (sha256 ${sums%% *})"
else bad "inventory differs between targets: $sums"; fi
if python3 - "$work/t1/etc/meshsec/inventory.json" >"$work/out" 2>&1 <<'EOF'
import json, sys
inv = json.load(open(sys.argv[1]))
want = {"version": 1, "mesh": {"name": "ansitest", "port": 4803}, "nodes": [
    {"name": "gamma", "addresses": ["10.79.0.3"], "mode": "prefer"},
    {"name": "t1", "addresses": ["10.79.0.1", "fd79::1"]},
    {"name": "t2", "addresses": ["10.79.0.2", "fd79::2"]}]}
sys.exit(0 if inv == want else print(json.dumps(inv)) or 1)
EOF
then ok "inventory: the group's mesh, every host's name, addresses and mode, sorted by name"; else bad "inventory content" "$work/out"; fi
for t in $targets; do
	s=$work/$t/etc/meshsec/mesh.key
	if [ "$(stat -c '%a %u %g' "$s" 2>&1)" = "600 0 0" ] && [ "$(cat "$s")" = "$key" ]; then ok "$t: secret from the vault, root's, mode 0600"
	else bad "$t: secret $(stat -c '%a %u %g' "$s" 2>&1)"; fi
	name=$t; [ $t = t3 ] && name=gamma
	in_t $t $nonroot /usr/local/bin/meshsec check >"$work/out" 2>&1
	if [ $? = 0 ] && grep -q "^self *$name " "$work/out" && grep -q "configuration OK" "$work/out"; then
		ok "$t: meshsec check passes (node $name, found by its addresses)"
	else bad "$t: meshsec check" "$work/out"; fi
done
if grep -qF -- "$key" "$work/first.out"; then bad "the secret appears in ansible's output"; else ok "the secret is not in ansible's output"; fi

# The agents, as the targets' own: default paths in each root, each in its network namespace.
for t in $targets; do
	ip netns exec "$ns$t" chroot "$work/$t" /usr/local/sbin/meshsecd --foreground --skip-esp-check >"$work/agent-$t.log" 2>&1 &
done
t0=$(date +%s)
for t in $targets; do
	until in_t $t /usr/local/bin/meshsec status --json >"$work/status-$t.json" 2>/dev/null; grep -q '"peers"' "$work/status-$t.json"; do
		[ $(($(date +%s) - t0)) -gt 60 ] && break
		sleep 1
	done
done
digests=$(for t in $targets; do python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['inventory']['digest'], d['counts']['peers'])" \
	"$work/status-$t.json" 2>/dev/null; done | sort -u)
if [ "$(echo "$digests" | wc -l)" = 1 ] && [ "${digests#* }" = 2 ]; then
	ok "the agents start on what the role shipped: 2 peers each, one inventory digest, in $(($(date +%s) - t0)) s"
else
	for t in $targets; do echo "$t:" >>"$work/agents"; tail -n 5 "$work/agent-$t.log" >>"$work/agents"; done
	bad "agents: digests/peers: $digests" "$work/agents"
fi

before=$(snapshot)
play second
echo "figure: second run of the play (nothing to change) on 3 targets: $secs s"
changed=$(recap_changed second)
if [ $rc = 0 ] && [ "$changed" = "t1=0 t2=0 t3=0 " ] && [ "$before" = "$(snapshot)" ]; then ok "second run changes nothing ($changed)"
else bad "second run (exit $rc, changed: $changed)" "$work/second.out"; fi

# The gate: a new mesh setting, batches of one, the gate on.  t1's batch has no pair to wait for
# yet; t2's pair with t1 cannot come up on this kernel, so the play stops there and t3 keeps its file.
play gate -e '{"meshsec_mesh": {"name": "ansitest", "port": 4803, "keepalive_seconds": 12}, "meshsec_status_gate": true,
	"meshsec_status_retries": 3, "meshsec_status_delay": 2, "meshsec_serial": 1}'
new=$(for t in $targets; do grep -c '"keepalive_seconds": 12' "$work/$t/etc/meshsec/inventory.json"; done | tr '\n' ' ')
if [ $rc != 0 ] && grep -q "t2: pair with t1 is \(connecting\|down\)" "$work/gate.out" && [ "$new" = "1 1 0 " ] &&
	grep -q "reload" "$work/agent-t1.log"; then
	ok "status gate: stops the rollout at t2 (pair with t1 not up); t1 reloaded, t3 untouched"
else bad "status gate (exit $rc, new inventory on t1 t2 t3: $new)" "$work/gate.out"; fi

# A broken host variable: the controller's check fails the play before any target task.
before=$(snapshot)
hosts 10.79.0.0/24 10.79.0.3 >"$work/hosts.yml"
play broken
if [ $rc != 0 ] && grep -q 'meshsec check: .*inventory.json: nodes\[2\].addresses\[0\]: \\*"10.79.0.0/24\\*" is a network' "$work/broken.out" &&
	! grep -q "TASK \[meshsec : Install" "$work/broken.out" && [ "$before" = "$(snapshot)" ]; then
	ok "broken host variable: the play fails with meshsec check's message, no target task ran, no file changed"
else bad "broken host variable (exit $rc)" "$work/broken.out"; fi

# A file only the target's own check refuses (t3's address is not on t3): not put in place there.
hosts 10.79.0.2 10.79.0.9 >"$work/hosts.yml"
play foreign
t3sum=$(sha256sum <"$work/t3/etc/meshsec/inventory.json")
if [ $rc != 0 ] && grep -q "none of its inventory addresses (10.79.0.9) is on this host" "$work/foreign.out" &&
	grep -q "10.79.0.9" "$work/t1/etc/meshsec/inventory.json" && ! grep -q "10.79.0.9" "$work/t3/etc/meshsec/inventory.json"; then
	ok "a file the target's meshsec check refuses stays out (t3 keeps its inventory ${t3sum%% *})"
else bad "target-side check (exit $rc)" "$work/foreign.out"; fi
summary
