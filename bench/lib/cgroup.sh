# bench/lib/cgroup.sh: hold each server's CPU share steady with the
# cgroup v1 cpu controller (sourced by the benchmarks).
#
#   cgroup_prepare NAME USER          (as root) create /sys/fs/cgroup/cpu/NAME, owned by USER
#   cgroup_limit NAME/GROUP CORES     give a group CORES cores (e.g. 0.6)
#   cgroup_add NAME/GROUP PID         move a process (its children follow when forked later)
#   cgroup_remove NAME                (as root) remove NAME and its groups
#   cgroup_for_user NAME [keep]       (as root; no-op otherwise) make NAME for
#                                     $FORESIGHT_USER and export CGROUP_NAME for
#                                     the unprivileged re-run; removed at exit
#                                     unless "keep"
#   cgroup_kind                       prints "v1", or "none" with the reason
#   cgroup_bench_shares NAME DIR      the routing benchmarks' shares: coordinator
#                                     1.0 core, standby1 0.6, standby2 0.9, for
#                                     the cluster in DIR; prints what was done
#
# cgroup v2 on these machines has no cpu controller, so where v1's is not
# writable the benchmark runs without limits and says so.

CGROUP_V1_CPU=/sys/fs/cgroup/cpu

cgroup_kind() {
	if [ -w "$CGROUP_V1_CPU" ] || { [ -d "$CGROUP_V1_CPU/${CGROUP_NAME:-foresight_bench}" ] && [ -w "$CGROUP_V1_CPU/${CGROUP_NAME:-foresight_bench}" ]; }; then
		echo v1
	else
		echo "none (no writable cgroup v1 cpu controller at $CGROUP_V1_CPU)"
	fi
}

cgroup_prepare() {
	local name=$1 user=$2
	[ -d "$CGROUP_V1_CPU" ] || return 0
	mkdir -p "$CGROUP_V1_CPU/$name" 2>/dev/null || return 0
	chown -R "$user" "$CGROUP_V1_CPU/$name" 2>/dev/null || true
}

# The quota is enforced per period: with the default 100 ms period a group
# that spends its share early waits up to the rest of the period, stalls of
# tens of milliseconds in every server that would swamp the latencies
# being compared.  A 10 ms period keeps the share as steady as the kernel
# allows at a negligible cost.
CGROUP_PERIOD_US=10000

cgroup_limit() {
	local group=$1 cores=$2 dir=$CGROUP_V1_CPU/$1
	mkdir -p "$dir" 2>/dev/null || return 1
	echo "$CGROUP_PERIOD_US" > "$dir/cpu.cfs_period_us" || return 1
	awk -v c="$cores" -v p="$CGROUP_PERIOD_US" 'BEGIN { printf "%d\n", c * p }' > "$dir/cpu.cfs_quota_us" || return 1
}

cgroup_for_user() {
	local name=$1 keep=${2:-}
	[ "$(id -u)" -eq 0 ] || return 0
	ensure_foresight_user
	cgroup_prepare "$name" "$FORESIGHT_USER"
	[ -d "$CGROUP_V1_CPU/$name" ] || return 0
	export CGROUP_NAME=$name
	[ "$keep" = keep ] || trap 'cgroup_remove "$CGROUP_NAME"' EXIT
}

# (as root) remove NAME and its groups once the benchmark has finished
cgroup_remove() {
	local name=$1
	[ -n "$name" ] && [ -d "$CGROUP_V1_CPU/$name" ] || return 0
	find "$CGROUP_V1_CPU/$name" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

cgroup_add() {
	local group=$1 pid=$2
	echo "$pid" > "$CGROUP_V1_CPU/$group/tasks"
}

# The routing benchmarks' steady shares: each server of the cluster in DIR
# (coordinator, standby1, standby2) with its postmaster and every process it
# has now (later children follow).  Prints the line the reports quote.
cgroup_bench_shares() {
	local name=$1 dir=$2 server pm pid
	if [ "$(cgroup_kind)" = v1 ] && cgroup_limit "$name/coordinator" 1.0 && \
		cgroup_limit "$name/standby1" 0.6 && cgroup_limit "$name/standby2" 0.9; then
		for server in coordinator standby1 standby2; do
			pm=$(head -1 "$dir/$server/postmaster.pid")
			for pid in "$pm" $(pgrep -P "$pm"); do cgroup_add "$name/$server" "$pid"; done
		done
		echo "cgroup v1 cpu: coordinator 1.0 core, standby1 0.6 core, standby2 0.9 core"
	else
		echo "$(cgroup_kind): no CPU limits"
	fi
}
