# The README's demo on a kernel that has ESP (here the guest's): deploy/demo.sh --direct runs the
# mesh in a private network namespace of the machine, and must come up, show ESP only, and leave
# nothing behind in the machine's own namespace.
top=$TESTS_KERNEL/../..
sa_before=$(ip xfrm state | grep -c '^src')
check "deploy/demo.sh --direct succeeds" sh -c "$top/deploy/demo.sh --builddir $BUILDDIR --direct >$RESULTS/demo-out.txt 2>&1"
check "it shows the SAs, ESP on the wire and the agents' view" sh -c \
	"grep -q 'proto esp spi' $RESULTS/demo-out.txt && grep -q 'ESP(spi=' $RESULTS/demo-out.txt && grep -q '^ *node-3 .* up ' $RESULTS/demo-out.txt"
check "no cleartext between the nodes" grep -q 'cleartext between members: 0' "$RESULTS/demo-out.txt"
expect_eq "SAs left in the machine's namespace" "$(ip xfrm state | grep -c '^src')" "$sa_before"
check "no namespace or bridge left behind" sh -c "! ip link show br0 2>/dev/null && [ -z \"\$(ip netns list)\" ]"
