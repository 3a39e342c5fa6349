/*-------------------------------------------------------------------------
 *
 * test_cgroup.c
 *	  Unit tests (TAP output) of the control-group parsers (cgroup.c), on
 *	  file contents as cgroup v1, v2 and hybrid hosts write them.
 *
 *	  make src/monitor/test/test_cgroup && src/monitor/test/test_cgroup
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor/cgroup.h"
#include "core/test/tap.h"


static void
test_cpu_path(void)
{
	char		path[64];
	bool		v2 = true;

	ok(cgroup_cpu_path("12:pids:/a\n4:cpu,cpuacct:/bench/standby1\n0::/user.slice\n",
					   path, sizeof(path), &v2) &&
	   !v2 && strcmp(path, "/bench/standby1") == 0,
	   "v1 cpu,cpuacct line wins over the v2 line");
	ok(cgroup_cpu_path("9:name=systemd:/\n2:cpuacct:/x\n1:cpu:/foresight/s1\n0::/\n",
					   path, sizeof(path), &v2) &&
	   !v2 && strcmp(path, "/foresight/s1") == 0,
	   "v1 \"cpu\" alone, not cpuacct or cpuset");
	ok(cgroup_cpu_path("3:cpuset:/a\n2:cpuacct:/b\n0::/system.slice/postgresql.service\n",
					   path, sizeof(path), &v2) &&
	   v2 && strcmp(path, "/system.slice/postgresql.service") == 0,
	   "hybrid host without a v1 cpu hierarchy: the v2 line");
	ok(cgroup_cpu_path("0::/", path, sizeof(path), &v2) && v2 && strcmp(path, "/") == 0,
	   "pure v2 at the root, no trailing newline");
	ok(!cgroup_cpu_path("5:memory:/m\n3:cpuset:/c\n", path, sizeof(path), &v2),
	   "no cpu hierarchy: false");
	ok(!cgroup_cpu_path("", path, sizeof(path), &v2), "empty file: false");
	ok(!cgroup_cpu_path("1:cpu:relative\n", path, sizeof(path), &v2), "a path must be absolute");
	ok(!cgroup_cpu_path("1:cpu:/a/very/long/path/that/does/not/fit/in/the/sixty-four/byte/buffer/given\n",
						path, sizeof(path), &v2), "a path that does not fit: false");
	ok(!cgroup_cpu_path("garbage without colons\n", path, sizeof(path), &v2), "malformed: false");
}

static void
test_limits(void)
{
	double		cores = -1;
	uint64_t	period = 0;

	ok(cgroup_parse_cpu_max("60000 100000\n", &cores, &period) && fabs(cores - 0.6) < 1e-12 &&
	   period == 100000, "cpu.max 60000 100000 = 0.6 core, period 100000 us");
	ok(cgroup_parse_cpu_max("250000 100000", &cores, &period) && fabs(cores - 2.5) < 1e-12,
	   "cpu.max 250000 100000 = 2.5 cores");
	ok(!cgroup_parse_cpu_max("max 100000\n", &cores, &period), "cpu.max max: no limit");
	ok(!cgroup_parse_cpu_max("60000\n", &cores, &period), "cpu.max without a period: false");
	ok(!cgroup_parse_cpu_max("60000 0\n", &cores, &period), "cpu.max period 0: false");
	ok(!cgroup_parse_cpu_max("60000 100000 7\n", &cores, &period), "cpu.max trailing field: false");
	ok(cgroup_parse_cfs_quota("6000\n", "10000\n", &cores, &period) && fabs(cores - 0.6) < 1e-12 &&
	   period == 10000, "v1 quota 6000 / period 10000 = 0.6 core, period 10000 us");
	ok(!cgroup_parse_cfs_quota("-1\n", "100000\n", &cores, &period), "v1 quota -1: no limit");
	ok(!cgroup_parse_cfs_quota("6000\n", "x\n", &cores, &period), "v1 malformed period: false");
	ok(!cgroup_parse_cfs_quota("0\n", "100000\n", &cores, &period), "v1 quota 0: false");
}

static void
test_cpu_stat(void)
{
	uint64_t	periods = 0;
	uint64_t	throttled = 0;

	ok(cgroup_parse_cpu_stat("nr_periods 1200\nnr_throttled 300\nthrottled_time 123456789\n",
							 &periods, &throttled) &&
	   periods == 1200 && throttled == 300, "v1 cpu.stat");
	ok(cgroup_parse_cpu_stat("usage_usec 8000\nuser_usec 5000\nsystem_usec 3000\n"
							 "nr_periods 42\nnr_throttled 7\nthrottled_usec 900\n"
							 "nr_bursts 0\nburst_usec 0\n", &periods, &throttled) &&
	   periods == 42 && throttled == 7, "v2 cpu.stat");
	ok(!cgroup_parse_cpu_stat("usage_usec 8000\nuser_usec 5000\n", &periods, &throttled),
	   "v2 cpu.stat without the cpu controller: false");
	ok(!cgroup_parse_cpu_stat("nr_periods 5\nnr_throttled 9\n", &periods, &throttled),
	   "more throttled than periods: false");
	ok(!cgroup_parse_cpu_stat("nr_periods_x 5\nnr_throttled 1\n", &periods, &throttled),
	   "a key must match whole");
}

int
main(void)
{
	test_cpu_path();
	test_limits();
	test_cpu_stat();
	return tap_done();
}
