/*
 * memory_setup.c - how much memory each shard gets, and where it lives.
 *
 * At start-up the application's memory is -m/--memory, or the machine's
 * physical memory (capped by the process's cgroup limit) minus
 * --reserve-memory, which defaults to 512 MiB (half the memory on machines
 * with less than 1 GiB).  It is split evenly among the shards.
 *
 * The first sea_app_run of a process reserves one virtual region: a slice per
 * possible CPU (rounded up to a power of two), each big enough for all of the
 * machine's memory, aligned to its size so that a pointer's owner is a shift
 * away (see memory.c).  Reserved is not committed: pages cost RAM only when
 * touched.  Later runs reuse the region, and each shard finds its heap as the
 * previous run left it.  Each slice is bound to the NUMA node of its shard's
 * CPU (mbind, preferred policy) where the machine has more than one node.
 * With --transparent-huge-pages the region is marked MADV_HUGEPAGE (fiber
 * stacks, whose guard pages split huge pages, stay in small pages); off by
 * default, because a huge page makes the untouched parts of sparse
 * allocations resident too (measured: 125 KB instead of 6 KB per idle
 * connection of an echo server with 64 KiB buffers).
 */
#include "mem/mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cgroup.h"
#include "base/text.h"

#define DEFAULT_RESERVE (512ull << 20)
#define MIN_SHARD_MEMORY (4ull << 20)
#define MAX_SHIFT 43 /* 8 TiB per shard: page numbers fit 32 bits */
#define MIN_SHIFT 26
#ifndef MPOL_PREFERRED
#define MPOL_PREFERRED 1
#endif

static unsigned ceil_log2(uint64_t n) {
    return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
}

/* Reserves nslices slices of 2^shift bytes, aligned to a slice; 0 on failure. */
static uintptr_t reserve(unsigned nslices, unsigned shift) {
    size_t slice = (size_t)1 << shift, size = (size_t)nslices << shift;
    if (size / nslices != slice || size + slice < size)
        return 0;
    char *p = mmap(NULL, size + slice, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                   0);
    if (p == MAP_FAILED)
        return 0;
    uintptr_t base = ((uintptr_t)p + slice - 1) & ~(uintptr_t)(slice - 1);
    if (base > (uintptr_t)p)
        munmap(p, base - (uintptr_t)p);
    uintptr_t end = (uintptr_t)p + size + slice;
    if (end > base + size)
        munmap((void *)(base + size), end - (base + size));
    return base;
}

int sea__memory_plan(const struct sea__mem_config *o, unsigned nshards, const int *cpus, char *err,
                     size_t errlen) {
    char a[32], b[32], c[32];
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t physical = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    uint64_t cg = sea__cgroup_memory_limit("");
    if (cg && cg < physical)
        physical = cg;
    uint64_t total;
    if (o->memory) {
        uint64_t room = o->has_reserve ? (o->reserve < physical ? physical - o->reserve : 0)
                                       : physical;
        if (o->memory > room) {
            if (o->has_reserve)
                snprintf(err, errlen,
                         "insufficient physical memory: -m %s plus --reserve-memory %s exceed the %s available",
                         sea__format_size(o->memory, a, sizeof(a)), sea__format_size(o->reserve, b, sizeof(b)),
                         sea__format_size(physical, c, sizeof(c)));
            else
                snprintf(err, errlen, "insufficient physical memory: -m asks for %s, %s is available",
                         sea__format_size(o->memory, a, sizeof(a)), sea__format_size(physical, b, sizeof(b)));
            return -ENOMEM;
        }
        total = o->memory;
    } else {
        uint64_t reserve = o->has_reserve ? o->reserve
                                          : (physical < (1ull << 30) ? physical / 2 : DEFAULT_RESERVE);
        if (reserve >= physical) {
            snprintf(err, errlen, "insufficient physical memory: --reserve-memory %s leaves nothing of %s",
                     sea__format_size(reserve, a, sizeof(a)), sea__format_size(physical, b, sizeof(b)));
            return -ENOMEM;
        }
        total = physical - reserve;
    }
    uint64_t per_shard = total / nshards;
    if (per_shard < MIN_SHARD_MEMORY) {
        snprintf(err, errlen, "not enough memory for %u shard%s: each gets %s and needs at least %s", nshards,
                 nshards == 1 ? "" : "s", sea__format_size(per_shard, a, sizeof(a)),
                 sea__format_size(MIN_SHARD_MEMORY, b, sizeof(b)));
        return -ENOMEM;
    }
    if (!sea__mem.size) {
        long conf = sysconf(_SC_NPROCESSORS_CONF);
        unsigned slots = conf > (long)nshards ? (unsigned)conf : nshards;
        unsigned nslices = 1u << ceil_log2(slots);
        /* A slice holds its budget, its page descriptors (1/128) and a header. */
        uint64_t need_bytes = per_shard + per_shard / 128 + (2ull << 20);
        uint64_t want_bytes = physical + physical / 128 + (2ull << 20);
        unsigned need = ceil_log2(need_bytes), want = ceil_log2(want_bytes);
        if (need < MIN_SHIFT)
            need = MIN_SHIFT;
        if (want < need)
            want = need;
        if (want > MAX_SHIFT)
            want = MAX_SHIFT;
        if (need > MAX_SHIFT) {
            snprintf(err, errlen, "a shard cannot have more than 8 TiB of memory");
            return -ENOMEM;
        }
        uintptr_t base = 0;
        unsigned shift = want;
        for (; shift >= need && !base; shift--)
            base = reserve(nslices, shift);
        if (!base) {
            snprintf(err, errlen, "cannot reserve %s of address space for %u shards' memory: %s",
                     sea__format_size((uint64_t)nslices << need, a, sizeof(a)), nslices, strerror(errno));
            return -ENOMEM;
        }
        shift++;
        if (o->huge_pages && sea__thp_available("/sys"))
            sea__mem.huge_pages = madvise((void *)base, (size_t)nslices << shift, MADV_HUGEPAGE) == 0;
        sea__mem.base = base;
        sea__mem.shift = shift;
        sea__mem.nslices = nslices;
        atomic_thread_fence(memory_order_release);
        sea__mem.size = (uintptr_t)nslices << shift;
    }
    if (nshards > sea__mem.nslices) {
        snprintf(err, errlen, "this process's memory region has room for %u shards, not %u", sea__mem.nslices,
                 nshards);
        return -ENOMEM;
    }
    sea__mem.shard_budget = per_shard;
    if (sea__numa_node_count("/sys") > 1) {
        for (unsigned i = 0; i < nshards; i++) {
            int node = sea__numa_node_of_cpu("/sys", cpus[i]);
            if (node < 0)
                continue;
            unsigned long mask[4096 / (8 * sizeof(unsigned long))] = {0};
            mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
            /* Preferred, not bound: a full node spills over rather than failing. */
            syscall(SYS_mbind, (void *)(sea__mem.base + ((uintptr_t)i << sea__mem.shift)),
                    (size_t)1 << sea__mem.shift, MPOL_PREFERRED, mask, (unsigned long)4096, 0u);
        }
    }
    return 0;
}
