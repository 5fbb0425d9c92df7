/*
 * test_base.c - the base layer's readers of user and system text: memory
 * sizes (exact cases and a 200,000-string fuzz), the control-group memory
 * and CPU limits and the NUMA layout, each read from fake trees.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cgroup.h"
#include "base/text.h"

static sea_future t_memory_sizes(void) {
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {
        {"0", 0}, {"1", 1}, {"4096", 4096}, {"1k", 1024}, {"1K", 1024}, {"3M", 3ull << 20},
        {"1G", 1ull << 30}, {"10T", 10ull << 40}, {"16777215T", 16777215ull << 40},
        {"18446744073709551615", UINT64_MAX}, {"1m", 1ull << 20}, {"2g", 2ull << 30}, {"1t", 1ull << 40},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 7;
        CHECK(sea__parse_size(good[i].s, &v));
        CHECK(v == good[i].v);
    }
    static const char *const bad[] = {
        "", "k", "M", "1KB", "1MiB", "1.5G", "-1", "+1", " 1", "1 ", "1MM", "0x10",
        "18446744073709551616", "16777216T", "99999999999999999999999", "1e9", "1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 7;
        if (sea__parse_size(bad[i], &v)) {
            fprintf(stderr, "  \"%s\" accepted as %llu\n", bad[i], (unsigned long long)v);
            sea_test_failures++;
        }
    }
    /* Fuzz: random strings from a dictionary never crash, and what parses round-trips. */
    static const char *const frag[] = {"0", "1", "9", "k", "K", "M", "G", "T", "m", ".", "-", " ", "\xff", "e"};
    uint64_t rng = 42;
    int accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        char buf[40];
        size_t len = 0;
        int n = 1 + (int)(sea_test_rand(&rng) % 24);
        for (int k = 0; k < n && len + 2 < sizeof(buf); k++) {
            const char *f = frag[sea_test_rand(&rng) % (sizeof(frag) / sizeof(frag[0]))];
            size_t fl = strlen(f);
            memcpy(buf + len, f, fl);
            len += fl;
        }
        buf[len] = '\0';
        uint64_t v;
        if (sea__parse_size(buf, &v)) {
            accepted++;
            /* Digits, then at most one unit at the end. */
            size_t digits = strspn(buf, "0123456789");
            CHECK(digits >= 1 && (digits == len || (digits + 1 == len && strchr("kKmMgGtT", buf[digits]))));
        }
    }
    CHECK(accepted > 100);
    return sea_ready();
}

static void put_file(const char *root, const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    }
    if (text) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f) {
            fputs(text, f);
            fclose(f);
        }
    } else {
        mkdir(path, 0700);
    }
}

static sea_future t_memory_cgroup_limit(void) {
    char root[] = "/tmp/sea-cgroup-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    /* No /proc/self/cgroup: no limit. */
    CHECK_EQ(sea__cgroup_memory_limit(root), 0);
    /* v2: the smallest limit from the group up; "max" is none. */
    put_file(root, "proc/self/cgroup", "0::/a/b\n");
    put_file(root, "sys/fs/cgroup/a/b/memory.max", "max\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 0);
    put_file(root, "sys/fs/cgroup/a/memory.max", "1073741824\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 1073741824);
    put_file(root, "sys/fs/cgroup/a/b/memory.max", "536870912\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 536870912);
    /* Garbage is ignored. */
    put_file(root, "sys/fs/cgroup/a/b/memory.max", "12abc\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 1073741824);
    /* v1: the memory controller's limit; "unlimited" is a huge number. */
    put_file(root, "proc/self/cgroup", "12:cpu,cpuacct:/x\n11:memory:/grp\n");
    put_file(root, "sys/fs/cgroup/memory/grp/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 0);
    put_file(root, "sys/fs/cgroup/memory/grp/memory.limit_in_bytes", "268435456\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 268435456);
    /* Malformed lines are skipped. */
    put_file(root, "proc/self/cgroup", "garbage\n::\n0::relative\n\n");
    CHECK_EQ(sea__cgroup_memory_limit(root), 0);
    /* CPUs, read the same way: v2 cpu.max "quota period", rounded up; "max" is none. */
    CHECK_EQ(sea__cgroup_cpu_limit(root), 0);
    put_file(root, "proc/self/cgroup", "0::/a/b\n");
    put_file(root, "sys/fs/cgroup/a/b/cpu.max", "max 100000\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 0);
    put_file(root, "sys/fs/cgroup/a/cpu.max", "250000 100000\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 3);
    put_file(root, "sys/fs/cgroup/a/b/cpu.max", "100000 100000\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 1);
    put_file(root, "sys/fs/cgroup/a/b/cpu.max", "x 100000\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 3);
    /* v1: the cpu controller's quota over its period; -1 is none. */
    put_file(root, "proc/self/cgroup", "4:memory:/m\n3:cpu,cpuacct:/g\n");
    put_file(root, "sys/fs/cgroup/cpu/g/cpu.cfs_quota_us", "-1\n");
    put_file(root, "sys/fs/cgroup/cpu/g/cpu.cfs_period_us", "100000\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 0);
    put_file(root, "sys/fs/cgroup/cpu/g/cpu.cfs_quota_us", "150000\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 2);
    put_file(root, "sys/fs/cgroup/cpu/g/cpu.cfs_period_us", "0\n");
    CHECK_EQ(sea__cgroup_cpu_limit(root), 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK_EQ(system(cmd), 0);
    return sea_ready();
}

static sea_future t_memory_numa_nodes(void) {
    char root[] = "/tmp/sea-numa-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    CHECK_EQ(sea__numa_node_of_cpu(root, 0), -1);
    put_file(root, "devices/system/cpu/cpu0/node0", NULL);
    put_file(root, "devices/system/cpu/cpu3/topology", NULL);
    put_file(root, "devices/system/cpu/cpu3/node1", NULL);
    put_file(root, "devices/system/cpu/cpu5/nodeX", NULL);
    CHECK_EQ(sea__numa_node_of_cpu(root, 0), 0);
    CHECK_EQ(sea__numa_node_of_cpu(root, 3), 1);
    CHECK_EQ(sea__numa_node_of_cpu(root, 5), -1);
    CHECK_EQ(sea__numa_node_of_cpu(root, 7), -1);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK_EQ(system(cmd), 0);
    /* This machine's own tree answers for CPU 0 (a node, or -1 without NUMA support). */
    CHECK(sea__numa_node_of_cpu("/sys", 0) >= -1);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_memory_sizes),
    SEA_TEST(t_memory_cgroup_limit),
    SEA_TEST(t_memory_numa_nodes),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
