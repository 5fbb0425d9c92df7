/*
 * cgroup.c - the process's control-group limits and the NUMA layout, read
 * from /proc and /sys (see cgroup.h).
 *
 * One walker serves both limits: for each hierarchy /proc/self/cgroup names
 * (the v2 one, or the v1 one with the controller asked for), it reads the
 * limit file of the process's group and of every ancestor, because a limit
 * anywhere above applies too, and keeps the smallest.
 */
#include "base/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool read_line(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    return ok;
}

/* A whole number alone on its line; "max" and other words are not numbers. */
static bool read_number(const char *path, long long *out) {
    char line[64];
    if (!read_line(path, line, sizeof(line)))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(line, &end, 10);
    if (errno || end == line || (*end != '\n' && *end != '\0'))
        return false;
    *out = v;
    return true;
}

/* What one kind of limit reads in a group's directory: true with *limit set, or false for none. */
typedef bool (*limit_reader)(const char *dir, bool v2, uint64_t *limit);

static bool memory_reader(const char *dir, bool v2, uint64_t *limit) {
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    long long v;
    /* "max", or v1's "unlimited" near 2^63, mean no limit. */
    if (!read_number(path, &v) || v < 0 || (unsigned long long)v >= (1ull << 62))
        return false;
    *limit = (uint64_t)v;
    return true;
}

static bool cpu_reader(const char *dir, bool v2, uint64_t *limit) {
    char path[8192];
    long long quota = -1, period = 0;
    if (v2) {
        char line[128], word[32];
        snprintf(path, sizeof(path), "%s/cpu.max", dir);
        if (!read_line(path, line, sizeof(line)) || sscanf(line, "%31s %lld", word, &period) != 2)
            return false;
        if (strcmp(word, "max") == 0)
            return false;
        char *end;
        quota = strtoll(word, &end, 10);
        if (*end)
            return false;
    } else {
        snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
        if (!read_number(path, &quota))
            return false;
        snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
        if (!read_number(path, &period))
            return false;
    }
    if (quota <= 0 || period <= 0)
        return false; /* -1: no quota */
    *limit = (uint64_t)((quota + period - 1) / period);
    return true;
}

/*
 * The smallest limit `read` finds for the process's groups under root, or 0:
 * v2 groups live under /sys/fs/cgroup, v1 ones under /sys/fs/cgroup/<v1dir>.
 */
static uint64_t cgroup_limit(const char *root, const char *controller, const char *v1dir, limit_reader read) {
    char path[8192], line[4096];
    snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    uint64_t limit = 0;
    size_t clen = strlen(controller);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        /* "hierarchy-id:controller,controller:/group" */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || c2[1] != '/')
            continue;
        *c1 = *c2 = '\0';
        const char *controllers = c1 + 1, *group = c2 + 1;
        bool v2 = strcmp(line, "0") == 0 && controllers[0] == '\0';
        bool v1 = false;
        for (const char *p = controllers; *p;) {
            size_t n = strcspn(p, ",");
            if (n == clen && strncmp(p, controller, n) == 0)
                v1 = true;
            p += n + (p[n] == ',');
        }
        if (!v1 && !v2)
            continue;
        /* From the group up to the root: any ancestor's limit applies. */
        char group_dir[4096];
        snprintf(group_dir, sizeof(group_dir), "%s", group);
        for (;;) {
            char dir[8192];
            snprintf(dir, sizeof(dir), "%s/sys/fs/cgroup%s%s%s", root, v2 ? "" : "/", v2 ? "" : v1dir,
                     strcmp(group_dir, "/") == 0 ? "" : group_dir);
            uint64_t v;
            if (read(dir, v2, &v) && (!limit || v < limit))
                limit = v;
            char *slash = strrchr(group_dir, '/');
            if (!slash || strcmp(group_dir, "/") == 0)
                break;
            if (slash == group_dir)
                group_dir[1] = '\0';
            else
                *slash = '\0';
        }
    }
    fclose(f);
    return limit;
}

uint64_t sea__cgroup_memory_limit(const char *root) {
    return cgroup_limit(root, "memory", "memory", memory_reader);
}

unsigned sea__cgroup_cpu_limit(const char *root) {
    uint64_t cpus = cgroup_limit(root, "cpu", "cpu", cpu_reader);
    return cpus > 65536 ? 65536 : (unsigned)cpus;
}

int sea__numa_node_of_cpu(const char *sysfs, int cpu) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%d", sysfs, cpu);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int node = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "node", 4) != 0 || !e->d_name[4])
            continue;
        long v = strtol(e->d_name + 4, &end, 10);
        if (*end == '\0' && v >= 0 && v < 4096) {
            node = (int)v;
            break;
        }
    }
    closedir(d);
    return node;
}

bool sea__thp_available(const char *sysfs) {
    char path[4096], mode[128];
    snprintf(path, sizeof(path), "%s/kernel/mm/transparent_hugepage/enabled", sysfs);
    return read_line(path, mode, sizeof(mode)) && !strstr(mode, "[never]");
}

int sea__numa_node_count(const char *sysfs) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/devices/system/node", sysfs);
    DIR *d = opendir(path);
    if (!d)
        return 1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            n++;
    closedir(d);
    return n ? n : 1;
}
