/* fiber_smp_count.c - smp_count.c in fiber style. */
#include <sea/sea.h>

static sea_future app_main(void) {
    sea_print("%u\n", sea_shard_count());
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
