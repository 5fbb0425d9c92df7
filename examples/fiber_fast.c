/* fiber_fast.c - fast.c in fiber style: awaiting a ready future does not suspend. */
#include <sea/sea.h>

static sea_future fast(void) {
    return sea_ready_int(3);
}

static sea_future app_main(void) {
    sea_print("Got %lld\n", (long long)SEA_AWAIT(fast()).i);
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
