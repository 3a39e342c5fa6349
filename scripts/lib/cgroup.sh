# scripts/lib/cgroup.sh: hold a server's CPU share steady with the cgroup v1
# cpu controller (sourced by scripts/test.sh and scripts/sanitizer-check.sh,
# for the TAP tests that confine a standby, and
# by the benchmarks through bench/lib/cgroup.sh).
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
