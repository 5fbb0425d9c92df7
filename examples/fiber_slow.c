/*
 * fiber_slow.c - slow.c in fiber style: SEA_AWAIT gives the value (a
 * failure would return from the function, passing the error on).
 */
#include <sea/sea.h>

static sea_future slow(void) {
    SEA_AWAIT(sea_sleep(SEA_MSEC(100)));
    return sea_ready_int(3);
}

static sea_future app_main(void) {
    sea_print("Got %lld\n", (long long)SEA_AWAIT(slow()).i);
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
