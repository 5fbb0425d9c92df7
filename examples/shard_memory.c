/*
 * shard_memory.c - tutorial section 3.2: each shard's own memory.
 *
 * The memory given to the application (-m, or all but --reserve-memory) is
 * split evenly among the shards, and everything a shard allocates, with
 * malloc or anything that calls it, comes from its part.  This program asks
 * every shard, in turn, how much it has and where a fresh allocation lives:
 *
 *     $ ./shard_memory -c2 -m1G
 *     shard 0: 512 MiB, malloc'ed memory owned by shard 0
 *     shard 1: 512 MiB, malloc'ed memory owned by shard 1
 */
#include <sea/sea.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs on each shard in turn. */
static sea_future report(void) {
    sea_memory_stats st;
    sea_memory_stats_get(&st);
    void *p = sea_malloc(100); /* malloc itself, in a default build */
    printf("shard %u: %zu MiB, malloc'ed memory owned by shard %d\n", sea_shard_id(), st.total >> 20,
           sea_memory_owner(p));
    sea_free(p);
    return sea_ready();
}

static sea_future app_main(void) {
    for (unsigned i = 0; i < sea_shard_count(); i++)
        sea_future_detach(sea_await(sea_submit_to(i, report)));
    return sea_ready();
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, app_main);
}
