/*
 * base/cgroup.h - what the machine and the process's control groups allow:
 * memory and CPU limits, and what sysfs says of NUMA nodes and huge pages.
 *
 * Each function takes a root that prefixes every path it reads ("" on a
 * real system), so that tests can point it at a fake tree.
 */
#ifndef SEA_BASE_CGROUP_H
#define SEA_BASE_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The memory limit of the process's control group in bytes, or 0 for none:
 * the smallest limit from its group up to the root (v2 memory.max, v1
 * memory.limit_in_bytes).
 */
uint64_t sea__cgroup_memory_limit(const char *root);
/*
 * The CPUs a CPU quota of the process's control group allows, rounded up,
 * or 0 for no quota: the smallest from its group up to the root (v2
 * cpu.max, v1 cpu.cfs_quota_us over cpu.cfs_period_us).
 */
unsigned sea__cgroup_cpu_limit(const char *root);
/* The NUMA node of cpu per the sysfs tree at sysfs ("/sys"), or -1. */
int sea__numa_node_of_cpu(const char *sysfs, int cpu);
/* How many NUMA nodes the sysfs tree at sysfs lists (1 if it says nothing). */
int sea__numa_node_count(const char *sysfs);
/* True unless the sysfs tree at sysfs says transparent huge pages are off ("[never]"). */
bool sea__thp_available(const char *sysfs);

#endif
