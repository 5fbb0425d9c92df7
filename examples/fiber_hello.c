/*
 * fiber_hello.c - hello.c in fiber style: app_main runs in a fiber, where it
 * could wait with SEA_AWAIT from its first line.  It has nothing to wait for.
 */
#include <sea/sea.h>

static sea_future app_main(void) {
    sea_print("Hello world\n");
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
