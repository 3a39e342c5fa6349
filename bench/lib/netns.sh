# bench/lib/netns.sh: a server in its own network namespace, cut off on
# demand (sourced by bench/faults.sh).
#
# As root, before the benchmark re-runs itself as the unprivileged user:
#   netns_root_start       namespace $NETNS_NAME with a veth pair,
#                          $NETNS_HOST_IP on this side, $NETNS_NODE_IP inside;
#                          a helper that carries out the requests below;
#                          torn down at exit
# As the unprivileged user (the benchmark):
#   netns_available        is the helper there?
#   netns_do VERB [ARGS]   one request, waits for its end:
#     pg-start PG_CTL DIR  start the server of DIR inside the namespace, as
#                          the unprivileged user
#     pg-stop PG_CTL DIR   stop it (fast)
#     link-down, link-up   the namespace's end of the pair: down, the host's
#                          end has no carrier and every packet to the node
#                          is dropped without a word (a cut cable), up again
#
# The helper takes no command from the requests: only these verbs, and
# pg_ctl runs as the unprivileged user.  Network namespaces need root;
# tc netem is not available on these machines, so a partition is a link
# set down.

NETNS_NAME=fsfaults
NETNS_HOST_IF=fsf0
NETNS_NODE_IF=fsf1
NETNS_HOST_IP=10.231.19.1
NETNS_NODE_IP=10.231.19.2
NETNS_CTL=/tmp/foresight-faults-netns

netns_teardown() {
	local pidfile dir
	[ -d "$NETNS_CTL" ] && touch "$NETNS_CTL/quit"
	# a server left in the namespace: stopped (immediate) by its pid file
	for pidfile in "$NETNS_CTL"/*.pgdata; do
		[ -f "$pidfile" ] || continue
		dir=$(cat "$pidfile")
		[ -f "$dir/postmaster.pid" ] && kill -QUIT "$(head -1 "$dir/postmaster.pid")" 2>/dev/null
	done
	sleep 0.5
	ip link del "$NETNS_HOST_IF" 2>/dev/null || true
	ip netns del "$NETNS_NAME" 2>/dev/null || true
	rm -rf "$NETNS_CTL"
}

netns_helper() {
	local req id verb a1 a2 rc
	while [ ! -e "$NETNS_CTL/quit" ]; do
		for req in "$NETNS_CTL"/*.req; do
			[ -f "$req" ] || continue
			id=${req%.req}
			read -r verb a1 a2 < "$req" || true
			rc=0
			case $verb in
				link-down) ip netns exec "$NETNS_NAME" ip link set "$NETNS_NODE_IF" down || rc=$? ;;
				link-up) ip netns exec "$NETNS_NAME" ip link set "$NETNS_NODE_IF" up || rc=$? ;;
				pg-start|pg-stop)
					if [ "$(basename "$a1")" != pg_ctl ] || [ ! -f "$a2/PG_VERSION" ]; then
						rc=2
					elif [ "$verb" = pg-start ]; then
						echo "$a2" > "$NETNS_CTL/$(basename "$a2").pgdata"
						ip netns exec "$NETNS_NAME" runuser -u "$FORESIGHT_USER" -- \
							"$a1" -D "$a2" -l "$a2/server.log" -w -t 60 start || rc=$?
					else
						ip netns exec "$NETNS_NAME" runuser -u "$FORESIGHT_USER" -- \
							"$a1" -D "$a2" -m fast -w stop || rc=$?
					fi ;;
				*) rc=2 ;;
			esac > "$id.out" 2>&1
			rm -f "$req"
			echo "$rc" > "$id.rc"
		done
		sleep 0.05
	done
}

netns_root_start() {
	[ "$(id -u)" -eq 0 ] || return 0
	command -v ip >/dev/null || { note "no ip(8): the partition scenario will be skipped"; return 0; }
	netns_teardown
	if ! { ip netns add "$NETNS_NAME" &&
		ip link add "$NETNS_HOST_IF" type veth peer name "$NETNS_NODE_IF" &&
		ip link set "$NETNS_NODE_IF" netns "$NETNS_NAME" &&
		ip addr add "$NETNS_HOST_IP/24" dev "$NETNS_HOST_IF" &&
		ip link set "$NETNS_HOST_IF" up &&
		ip netns exec "$NETNS_NAME" ip addr add "$NETNS_NODE_IP/24" dev "$NETNS_NODE_IF" &&
		ip netns exec "$NETNS_NAME" ip link set "$NETNS_NODE_IF" up &&
		ip netns exec "$NETNS_NAME" ip link set lo up; } 2>/dev/null; then
		note "no network namespace could be made: the partition scenario will be skipped"
		netns_teardown
		return 0
	fi
	ensure_foresight_user
	mkdir -p "$NETNS_CTL"
	chown "$FORESIGHT_USER:" "$NETNS_CTL"
	chmod 700 "$NETNS_CTL"
	netns_helper &
	trap netns_teardown EXIT
}

netns_available() { [ -d "$NETNS_CTL" ] && [ -O "$NETNS_CTL" ] && ip link show "$NETNS_HOST_IF" >/dev/null 2>&1; }

netns_do() {
	local id=$NETNS_CTL/$$.$RANDOM rc
	echo "$*" > "$id.tmp"
	mv "$id.tmp" "$id.req"
	for _ in $(seq 1 1200); do
		[ -f "$id.rc" ] && break
		sleep 0.05
	done
	rc=$(cat "$id.rc" 2>/dev/null || echo 1)
	[ "$rc" -eq 0 ] || cat "$id.out" >&2
	rm -f "$id.rc" "$id.out"
	return "$rc"
}
