/*
 * smp_count.c - tutorial section 3.1: how many shards did we start?
 *
 * By default sea starts one shard (a pinned reactor thread) per CPU the
 * process may use; -c N starts N.  The main function runs once, on shard 0,
 * so the count is printed once.  `smp_count -c5` on a 2-CPU machine prints
 * "Couldn't start application: insufficient processing units" and exits 1.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_future app_main(void) {
    printf("%u\n", sea_shard_count());
    return sea_ready();
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
