/*
 * fiber_incr.c - incr.c in fiber style: i is a local variable, and locals
 * live on the fiber's stack across the wait: nothing to capture.
 */
#include <sea/sea.h>

static sea_future incr(int i) {
    SEA_AWAIT(sea_sleep(SEA_MSEC(10)));
    return sea_ready_int(i + 1);
}

static sea_future app_main(void) {
    sea_print("Got %lld\n", (long long)SEA_AWAIT(incr(3)).i);
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
