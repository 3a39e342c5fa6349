# bench/lib/cgroup.sh: the benchmarks' CPU shares, on top of the project's
# cgroup helpers (scripts/lib/cgroup.sh, sourced here).
#
#   cgroup_bench_shares NAME DIR      the routing benchmarks' shares: coordinator
#                                     1.0 core, standby1 0.6, standby2 0.9, for
#                                     the cluster in DIR; prints what was done

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/cgroup.sh"

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
