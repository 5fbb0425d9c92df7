/*
 * fiber_sleep.c - sleep.c in fiber style: the wait is a line of its own, and
 * the code after it is the continuation.
 */
#include <sea/sea.h>

static sea_future app_main(void) {
    sea_print("Sleeping... ");
    SEA_AWAIT(sea_sleep(SEA_SEC(1)));
    sea_print("Done.\n");
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
