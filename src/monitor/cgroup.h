/*-------------------------------------------------------------------------
 *
 * cgroup.h
 *	  Parsers of the Linux control-group files that say how much CPU a
 *	  PostgreSQL instance may use: /proc/<pid>/cgroup, cgroup v2 cpu.max,
 *	  cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us, and cpu.stat.
 *
 *	  A server in a container or a systemd slice with a CPU quota is full
 *	  when it uses its quota, however idle the host's other CPUs are; the
 *	  monitor reads the quota so that the load signal measures the instance
 *	  against what it may use (docs/monitoring.md, "CPU limits").
 *
 *	  Pure functions on file contents, without the server, so that they
 *	  are unit-tested on their own; procfs.c reads the files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CGROUP_H
#define FORESIGHT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * From the contents of /proc/<pid>/cgroup, the path of the process's group
 * in the hierarchy that holds the cpu controller: a cgroup v1 line whose
 * controller list names "cpu" when there is one (*v2 = false), else the
 * cgroup v2 line "0::<path>" (*v2 = true).  False when neither is there
 * or the path does not fit in size bytes.
 */
extern bool cgroup_cpu_path(const char *proc_cgroup, char *path, size_t size, bool *v2);

/*
 * cgroup v2 cpu.max ("<quota> <period>" or "max <period>"): true, the
 * limit in cores and the enforcement period in microseconds when a quota
 * is set; false for "max" or malformed text.
 */
extern bool cgroup_parse_cpu_max(const char *text, double *cores, uint64_t *period_us);

/*
 * cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us: true, the limit in
 * cores and the period in microseconds when a quota is set (quota -1
 * means none).
 */
extern bool cgroup_parse_cfs_quota(const char *quota_text, const char *period_text,
								   double *cores, uint64_t *period_us);

/*
 * cpu.stat (v1 and v2): the nr_periods and nr_throttled counters; false
 * when either is missing.
 */
extern bool cgroup_parse_cpu_stat(const char *text, uint64_t *periods, uint64_t *throttled);

#endif							/* FORESIGHT_CGROUP_H */
