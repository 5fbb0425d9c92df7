/*
 * smp_count.c - tutorial section 3.1: how many shards (cores) run.
 *
 *     ./smp_count          2 on a 2-CPU machine
 *     ./smp_count -c1      1
 *     ./smp_count -c5      Couldn't start application: insufficient processing units
 */
#include <sea/sea.h>

static sea_future app_main(void) {
    sea_print("%u\n", sea_shard_count());
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
