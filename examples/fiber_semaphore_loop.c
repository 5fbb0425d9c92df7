/*
 * fiber_semaphore_loop.c - semaphore_loop.c in fiber style: the loop is a
 * for loop that waits for a unit, then starts the call in a fiber of its
 * own; the call gives the unit back however it ends.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_semaphore limit = SEA_SEMAPHORE_INIT(100);

static sea_future slow(void) {
    fputc('.', stderr);
    return sea_sleep(SEA_MSEC(100));
}

static sea_future one_call(void) {
    sea_future r = sea_await(slow());
    sea_semaphore_signal(&limit, 1);
    return r;
}

static sea_future app_main(void) {
    for (int i = 0; i < 456; i++) {
        SEA_AWAIT(sea_semaphore_wait(&limit, 1));
        sea_future_ignore(sea_fiber_start(one_call)); /* in the background */
    }
    SEA_AWAIT(sea_semaphore_wait(&limit, 100)); /* every call has finished */
    return sea_ready();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
