# make_tap_namespace NS TAP: a network namespace NS with a tap device TAP, where Linux is
# 198.18.0.1/24 and the image under test is to be 198.18.0.2. Clients there that close many
# connections keep their ports in TIME-WAIT; Linux may reuse them (tcp_tw_reuse=1), as load
# generators let it: otherwise, past ~14,000 of them, connect() itself spends 1.5 ms looking
# for a free port and that, not the server, is measured. (Linux allows it only on loopback by
# default.) The caller removes NS when it ends: `ip netns del NS`.
make_tap_namespace() {
    local ns="$1" tap="$2"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev "$tap" mode tap
    ip -n "$ns" addr add 198.18.0.1/24 dev "$tap"
    ip -n "$ns" link set "$tap" up
    ip netns exec "$ns" sysctl -q net.ipv4.tcp_tw_reuse=1
}
