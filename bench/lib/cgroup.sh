# bench/lib/cgroup.sh: the benchmarks' CPU shares, on top of the project's
# cgroup helpers (scripts/lib/cgroup.sh, sourced here).
#
#   cgroup_bench_quotas NAME DIR C S1 S2   each server of the cluster in DIR
#                                     held to C, S1, S2 cores; prints what was done
#   cgroup_bench_shares NAME DIR      the routing benchmarks' shares: coordinator
#                                     1.0 core, standby1 0.6, standby2 0.9

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/cgroup.sh"

# Each server of the cluster in DIR (coordinator, standby1, standby2), with
# its postmaster and every process it has now (later children follow), held
# to the given number of cores.  Prints the line the reports quote.
cgroup_bench_quotas() {
	local name=$1 dir=$2 coordinator=$3 standby1=$4 standby2=$5 server pm pid
	if [ "$(cgroup_kind)" = v1 ] && cgroup_limit "$name/coordinator" "$coordinator" && \
		cgroup_limit "$name/standby1" "$standby1" && cgroup_limit "$name/standby2" "$standby2"; then
		for server in coordinator standby1 standby2; do
			pm=$(head -1 "$dir/$server/postmaster.pid")
			for pid in "$pm" $(pgrep -P "$pm"); do cgroup_add "$name/$server" "$pid"; done
		done
		echo "cgroup v1 cpu: coordinator $coordinator core, standby1 $standby1 core, standby2 $standby2 core"
	else
		echo "$(cgroup_kind): no CPU limits"
	fi
}

# The routing benchmarks' steady shares: coordinator 1.0 core, standby1
# 0.6, standby2 0.9.
cgroup_bench_shares() {
	cgroup_bench_quotas "$1" "$2" 1.0 0.6 0.9
}
