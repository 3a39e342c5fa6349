/*-------------------------------------------------------------------------
 *
 * procfs.c
 *	  Collector of the OS part of a node snapshot, from /proc.
 *
 * Every reader is independent and quiet: a missing or unreadable file
 * (another OS, a container without /proc/pressure) leaves its fields
 * absent.  Files are read whole into a bounded stack buffer with one
 * read(2), which the kernel serves as one consistent snapshot for these
 * small files.
 *
 * The instance CPU time is the postmaster's own user+system time, the time
 * of its exited children (cutime+cstime, which the kernel adds when the
 * postmaster reaps them) and the time of every live process in the PGPROC
 * array (backends, auxiliary processes, background workers).  It is
 * monotonic except for the moment between a child's exit and its reaping.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/proc.h"

#include "monitor/cgroup.h"
#include "monitor/procfs.h"

#define PROCFS_BUFSIZE 16384

/* Read a small file whole; returns its length or -1. */
static ssize_t
read_small_file(const char *path, char *buf, size_t size)
{
	int			fd;
	ssize_t		total = 0;

	fd = open(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return -1;
	while (total < (ssize_t) size - 1)
	{
		ssize_t		n = read(fd, buf + total, size - 1 - total);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

static void
collect_stat(NodeSnapshot *snap)
{
	char		buf[PROCFS_BUFSIZE];
	unsigned long long v[8] = {0};
	int			n;

	if (read_small_file("/proc/stat", buf, sizeof(buf)) <= 0)
		return;
	/* first line: cpu  user nice system idle iowait irq softirq steal ... */
	n = sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	if (n < 4)
		return;
	snap->has_cpu_user = snap->has_cpu_nice = snap->has_cpu_system = snap->has_cpu_idle = true;
	snap->cpu_user = v[0];
	snap->cpu_nice = v[1];
	snap->cpu_system = v[2];
	snap->cpu_idle = v[3];
	if (n >= 5)
		snap->has_cpu_iowait = true, snap->cpu_iowait = v[4];
	if (n >= 7)
	{
		snap->has_cpu_irq = snap->has_cpu_softirq = true;
		snap->cpu_irq = v[5];
		snap->cpu_softirq = v[6];
	}
	if (n >= 8)
		snap->has_cpu_steal = true, snap->cpu_steal = v[7];
}

static void
collect_loadavg(NodeSnapshot *snap)
{
	char		buf[256];
	double		l1,
				l5,
				l15;

	if (read_small_file("/proc/loadavg", buf, sizeof(buf)) <= 0)
		return;
	if (sscanf(buf, "%lf %lf %lf", &l1, &l5, &l15) != 3)
		return;
	snap->has_load1 = snap->has_load5 = snap->has_load15 = true;
	snap->load1 = l1;
	snap->load5 = l5;
	snap->load15 = l15;
}

static void
collect_meminfo(NodeSnapshot *snap)
{
	char		buf[PROCFS_BUFSIZE];
	char	   *line;
	char	   *save = NULL;

	if (read_small_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		unsigned long long kb;

		if (sscanf(line, "MemTotal: %llu", &kb) == 1)
			snap->has_mem_total_kb = true, snap->mem_total_kb = kb;
		else if (sscanf(line, "MemAvailable: %llu", &kb) == 1)
			snap->has_mem_available_kb = true, snap->mem_available_kb = kb;
		else if (sscanf(line, "Dirty: %llu", &kb) == 1)
			snap->has_mem_dirty_kb = true, snap->mem_dirty_kb = kb;
	}
	/* the decoder insists on available <= total; the kernel agrees */
	if (snap->has_mem_total_kb && snap->has_mem_available_kb &&
		snap->mem_available_kb > snap->mem_total_kb)
		snap->mem_available_kb = snap->mem_total_kb;
	if (snap->has_mem_total_kb && snap->has_mem_dirty_kb &&
		snap->mem_dirty_kb > snap->mem_total_kb)
		snap->mem_dirty_kb = snap->mem_total_kb;
}

/*
 * Whole disks only: a device with a /sys/block/<name> entry that is not a
 * loop, ram or zram device (partitions live below their disk in /sys).
 */
static bool
is_whole_disk(const char *name)
{
	char		path[MAXPGPATH];

	if (strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0 ||
		strncmp(name, "zram", 4) == 0)
		return false;
	snprintf(path, sizeof(path), "/sys/block/%s", name);
	return access(path, F_OK) == 0;
}

static void
collect_diskstats(NodeSnapshot *snap)
{
	char		buf[PROCFS_BUFSIZE * 4];
	char	   *line;
	char	   *save = NULL;
	uint64		reads = 0,
				writes = 0,
				sread = 0,
				swritten = 0,
				ticks = 0;
	uint32		disks = 0;

	if (read_small_file("/proc/diskstats", buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		unsigned int major,
					minor;
		char		name[64];
		unsigned long long f[10];

		/* reads merged sectors ms writes merged sectors ms inflight io_ticks */
		if (sscanf(line, " %u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
				   &major, &minor, name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5],
				   &f[6], &f[7], &f[8], &f[9]) != 13)
			continue;
		if (!is_whole_disk(name))
			continue;
		reads += f[0];
		sread += f[2];
		writes += f[4];
		swritten += f[6];
		ticks += f[9];
		disks++;
	}
	snap->has_disk_count = true;
	snap->disk_count = disks;
	if (disks == 0)
		return;
	snap->has_disk_reads = snap->has_disk_writes = true;
	snap->has_disk_sectors_read = snap->has_disk_sectors_written = true;
	snap->has_disk_io_ticks_ms = true;
	snap->disk_reads = reads;
	snap->disk_writes = writes;
	snap->disk_sectors_read = sread;
	snap->disk_sectors_written = swritten;
	snap->disk_io_ticks_ms = ticks;
}

/* One /proc/pressure file: "some avg10=.. avg60=.. avg300=.. total=.." (and "full") */
static void
collect_pressure(const char *path,
				 protobuf_c_boolean *has_some_avg, double *some_avg,
				 protobuf_c_boolean *has_some_total, uint64_t *some_total,
				 protobuf_c_boolean *has_full_avg, double *full_avg,
				 protobuf_c_boolean *has_full_total, uint64_t *full_total)
{
	char		buf[1024];
	char	   *line;
	char	   *save = NULL;

	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char		kind[8];
		double		avg10,
					avg60,
					avg300;
		unsigned long long total;

		if (sscanf(line, "%7s avg10=%lf avg60=%lf avg300=%lf total=%llu",
				   kind, &avg10, &avg60, &avg300, &total) != 5)
			continue;
		if (avg10 < 0 || avg10 > 100)
			continue;
		if (strcmp(kind, "some") == 0)
		{
			*has_some_avg = *has_some_total = true;
			*some_avg = avg10;
			*some_total = total;
		}
		else if (strcmp(kind, "full") == 0)
		{
			*has_full_avg = *has_full_total = true;
			*full_avg = avg10;
			*full_total = total;
		}
	}
}

#define COLLECT_PRESSURE(snap, res) \
	collect_pressure("/proc/pressure/" #res, \
					 &(snap)->has_psi_##res##_some_avg10, &(snap)->psi_##res##_some_avg10, \
					 &(snap)->has_psi_##res##_some_total_us, &(snap)->psi_##res##_some_total_us, \
					 &(snap)->has_psi_##res##_full_avg10, &(snap)->psi_##res##_full_avg10, \
					 &(snap)->has_psi_##res##_full_total_us, &(snap)->psi_##res##_full_total_us)

/*
 * utime + stime (+ cutime + cstime if children) of a process, in ticks;
 * false if it is gone.
 */
static bool
process_cpu_ticks(pid_t pid, bool children, uint64 *ticks)
{
	char		path[64];
	char		buf[1024];
	char	   *p;
	unsigned long long utime,
				stime;
	long long	cutime,
				cstime;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return false;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL)
		return false;
	/* fields 3..: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
			   &utime, &stime, &cutime, &cstime) != 4)
		return false;
	*ticks = utime + stime;
	if (children && cutime > 0)
		*ticks += cutime;
	if (children && cstime > 0)
		*ticks += cstime;
	return true;
}

static void
collect_instance_cpu(NodeSnapshot *snap)
{
	uint64		total = 0;
	uint64		ticks;

	if (!process_cpu_ticks(PostmasterPid, true, &total))
		return;
	if (ProcGlobal == NULL)
		return;
	for (uint32 i = 0; i < ProcGlobal->allProcCount; i++)
	{
		int			pid = ProcGlobal->allProcs[i].pid;

		/* unlocked read: a stale pid only costs one failed open */
		if (pid <= 0)
			continue;
		if (process_cpu_ticks(pid, false, &ticks))
			total += ticks;
	}
	snap->has_instance_cpu_ticks = true;
	snap->instance_cpu_ticks = total;
}

/* Where the hierarchy holding the cpu controller is mounted; NULL if not found. */
static const char *
cgroup_mount(bool v2)
{
	if (v2)
		return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ?
			"/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
	if (access("/sys/fs/cgroup/cpu/cpu.cfs_period_us", F_OK) == 0)
		return "/sys/fs/cgroup/cpu";
	if (access("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", F_OK) == 0)
		return "/sys/fs/cgroup/cpu,cpuacct";
	return NULL;
}

/*
 * The CPU limit set on one group, in cores, and its enforcement period in
 * microseconds; false when it sets none.
 */
static bool
cgroup_dir_limit(const char *dir, bool v2, double *cores, uint64_t *period_us)
{
	char		path[MAXPGPATH];
	char		quota[64];
	char		period[64];

	if (v2)
	{
		snprintf(path, sizeof(path), "%s/cpu.max", dir);
		return read_small_file(path, quota, sizeof(quota)) > 0 &&
			cgroup_parse_cpu_max(quota, cores, period_us);
	}
	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
	if (read_small_file(path, quota, sizeof(quota)) <= 0)
		return false;
	snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
	return read_small_file(path, period, sizeof(period)) > 0 &&
		cgroup_parse_cfs_quota(quota, period, cores, period_us);
}

/*
 * The CPU limit of the postmaster's control group: the smallest quota on
 * the way from its group up to the root of the hierarchy that holds the
 * cpu controller (a parent's quota bounds its children), and the period
 * counters of the group that sets it.  The usual mount points only
 * (/sys/fs/cgroup, /sys/fs/cgroup/unified, /sys/fs/cgroup/cpu[,cpuacct]).
 */
static void
collect_cgroup_cpu(NodeSnapshot *snap)
{
	char		buf[4096];
	char		group[MAXPGPATH];
	char		dir[MAXPGPATH];
	char		limiting[MAXPGPATH] = "";
	const char *base;
	size_t		baselen;
	bool		v2;
	double		limit = 0;
	uint64_t	limit_period_us = 0;
	uint64_t	periods;
	uint64_t	throttled;

	snprintf(dir, sizeof(dir), "/proc/%d/cgroup", (int) PostmasterPid);
	if (read_small_file(dir, buf, sizeof(buf)) <= 0 ||
		!cgroup_cpu_path(buf, group, sizeof(group), &v2) ||
		(base = cgroup_mount(v2)) == NULL)
		return;
	baselen = strlen(base);
	snprintf(dir, sizeof(dir), "%s%s", base, strcmp(group, "/") == 0 ? "" : group);
	for (;;)
	{
		double		cores;
		uint64_t	period_us;
		char	   *slash;

		if (cgroup_dir_limit(dir, v2, &cores, &period_us) &&
			(limiting[0] == '\0' || cores < limit))
		{
			limit = cores;
			limit_period_us = period_us;
			strlcpy(limiting, dir, sizeof(limiting));
		}
		slash = strrchr(dir, '/');
		if (slash == NULL || (size_t) (slash - dir) < baselen)
			break;
		*slash = '\0';
	}
	if (limiting[0] == '\0')
		return;
	snap->has_cpu_limit_cores = true;
	snap->cpu_limit_cores = limit;
	snap->has_cpu_period_us = true;
	snap->cpu_period_us = limit_period_us;
	snprintf(dir, sizeof(dir), "%s/cpu.stat", limiting);
	if (read_small_file(dir, buf, sizeof(buf)) > 0 &&
		cgroup_parse_cpu_stat(buf, &periods, &throttled))
	{
		snap->has_cpu_periods = snap->has_cpu_throttled_periods = true;
		snap->cpu_periods = periods;
		snap->cpu_throttled_periods = throttled;
	}
}

void
procfs_collect(NodeSnapshot *snap)
{
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	long		hz = sysconf(_SC_CLK_TCK);

	if (ncpu > 0 && ncpu <= 65536)
		snap->has_cpu_count = true, snap->cpu_count = (uint32) ncpu;
	if (hz > 0 && hz <= 1000000)
		snap->has_clock_ticks = true, snap->clock_ticks = (uint32) hz;

	collect_stat(snap);
	collect_loadavg(snap);
	collect_meminfo(snap);
	collect_diskstats(snap);
	COLLECT_PRESSURE(snap, cpu);
	COLLECT_PRESSURE(snap, io);
	COLLECT_PRESSURE(snap, memory);
	collect_instance_cpu(snap);
	collect_cgroup_cpu(snap);
}
