/*
 * shard.c - the disk layer's settings (set by the module in disk.c from
 * the command line, read-only once the shards run) and the way to each
 * shard's disk state: kept apart from the module so that the syscall
 * threads and the scheduler can read them without depending on the module
 * that calls them.
 */
#include "disk/disk.h"

unsigned sea__disk_slot;

struct sea__disk_config sea__disk_config = {.pool_threads = 2, .max_requests = 128, .latency_goal_ns = 1500000};

unsigned sea__disk_pool_threads(void) {
    return sea__disk_config.pool_threads;
}

unsigned sea__disk_max_requests(void) {
    return sea__disk_config.max_requests;
}

const sea_io_properties *sea__disk_model(void) {
    return sea__disk_config.have_model ? &sea__disk_config.model : NULL;
}

struct sea__disk_shard *sea__disk_shard_raw(void) {
    struct sea__shard *s = sea__shard_current;
    return s && sea__disk_slot ? s->slot[sea__disk_slot] : NULL;
}

struct sea__disk_shard *sea__disk_shard_current(void) {
    struct sea__disk_shard *ds = sea__disk_shard_raw();
    return ds && !ds->stopped ? ds : NULL;
}
