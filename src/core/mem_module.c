/*
 * mem_module.c - the mem layer plugged into the application's life (see
 * mem_module.h).  The allocator knows nothing of shards, loops or options;
 * this is where -m turns into a plan, a shard's thread into a heap, and the
 * loop's turns into deliveries of frees made by other shards.
 */
#include "core/mem_module.h"

#include <sea/error.h>
#include <sea/memory.h>
#include <sea/metrics.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/text.h"
#include "core/module.h"
#include "core/shard.h"
#include "mem/mem.h"

/* -m, --reserve-memory, --transparent-huge-pages: set before the shards start. */
static struct sea__mem_config config;

static bool is_size_above_zero(const char *v) {
    uint64_t n;
    return sea__parse_size(v, &n) && n > 0;
}

static const struct sea__opt options[] = {
    {.o = {.name = "memory", .type = SEA_OPTION_SIZE,
           .help = "memory for the application, split evenly among the shards; SIZE in bytes or with k, M, G, T "
                   "(powers of two: 1M = 1048576). Default: all physical memory (or the cgroup limit) but the "
                   "reserve"},
     .short_name = 'm', .value_name = "SIZE",
     .meaning = "a memory size above 0 (bytes, or a number with k, M, G or T)", .check = is_size_above_zero},
    {.o = {.name = "reserve-memory", .type = SEA_OPTION_SIZE,
           .help = "memory left to the OS when -m is not given (default 512M; half the memory below 1G)"},
     .value_name = "SIZE", .meaning = "a memory size (bytes, or a number with k, M, G or T)"},
    {.o = {.name = "transparent-huge-pages", .type = SEA_OPTION_FLAG,
           .help = "back the shards' memory with huge pages where the kernel can (fewer TLB misses for dense "
                   "heaps; sparse ones grow resident)"}},
};

static int memory_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    config.memory = sea__opt_size(v, "memory");
    config.reserve = sea__opt_size(v, "reserve-memory");
    config.has_reserve = sea__opt_given(v, "reserve-memory");
    config.huge_pages = sea__opt_flag(v, "transparent-huge-pages");
    return 0;
}

static int memory_start(const struct sea__run *run, char *err, size_t errlen) {
    return sea__memory_plan(&config, run->nshards, run->cpus, err, errlen);
}

/* Before the shard exists: from here on the thread's allocations come from its slice. */
static int memory_thread_start(unsigned id, char *err, size_t errlen) {
    int rc = sea__heap_attach(id);
    if (rc < 0)
        snprintf(err, errlen, "another sea application is already running in this process");
    return rc;
}

static void memory_thread_stop(unsigned id) {
    (void)id;
    sea__heap_detach();
}

/* Every turn: frees of other shards' memory go home, and ours come back. */
static unsigned heap_poll(void *state) {
    (void)state;
    sea__heap_poll();
    return 0;
}

/* A field of sea_memory_stats, its offset in arg (asked of the allocator at each read: it is cheap). */
static double read_size_field(void *arg) {
    sea_memory_stats st;
    sea_memory_stats_get(&st);
    return (double)*(const size_t *)(const void *)((const char *)&st + (uintptr_t)arg);
}

static double read_u64_field(void *arg) {
    sea_memory_stats st;
    sea_memory_stats_get(&st);
    return (double)*(const uint64_t *)(const void *)((const char *)&st + (uintptr_t)arg);
}

#define FIELD(f) ((void *)(uintptr_t)offsetof(sea_memory_stats, f))

static int memory_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__poller *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    p->poll = heap_poll;
    sea__poller_add(s, p);
    s->slot[SEA__SLOT_MEMORY] = p;
    return 0;
}

static int memory_metrics(struct sea__shard *s, char *err, size_t errlen) {
    (void)s;
    const struct {
        const char *name, *help;
        bool counter;
        sea_metric_read_fn read;
        void *arg;
    } metrics[] = {
        {"sea_memory_total_bytes", "The shard's memory budget", false, read_size_field, FIELD(total)},
        {"sea_memory_used_bytes", "Memory held by live allocations", false, read_size_field, FIELD(used)},
        {"sea_memory_free_bytes", "Memory in free pages", false, read_size_field, FIELD(free)},
        {"sea_memory_cached_bytes", "Memory in pages kept for small objects but not in use", false,
         read_size_field, FIELD(cached)},
        {"sea_memory_failed_allocations_total", "Allocations that failed", true, read_u64_field,
         FIELD(failed_allocs)},
        {"sea_memory_cross_shard_frees_total", "Frees of this shard's memory made by other threads", true,
         read_u64_field, FIELD(cross_shard_frees)},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(metrics) / sizeof(metrics[0]); i++)
        rc = metrics[i].counter
                 ? sea_counter_register_fn(metrics[i].name, metrics[i].help, NULL, metrics[i].read, metrics[i].arg, NULL)
                 : sea_gauge_register_fn(metrics[i].name, metrics[i].help, NULL, metrics[i].read, metrics[i].arg, NULL);
    if (rc < 0)
        snprintf(err, errlen, "cannot register memory's metrics: %s", sea_strerror(rc));
    return rc;
}

static void memory_shard_stop(struct sea__shard *s) {
    free(s->slot[SEA__SLOT_MEMORY]);
    s->slot[SEA__SLOT_MEMORY] = NULL;
}

const struct sea__module sea__module_memory = {
    .name = "memory",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = memory_configure,
    .start = memory_start,
    .thread_start = memory_thread_start,
    .thread_stop = memory_thread_stop,
    .shard_start = memory_shard_start,
    .shard_stop = memory_shard_stop,
    .metrics = memory_metrics,
};
