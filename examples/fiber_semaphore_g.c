/*
 * fiber_semaphore_g.c - semaphore_g.c in fiber style: each call is a fiber
 * that waits for a unit, waits for slow(), and gives the unit back.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_semaphore limit = SEA_SEMAPHORE_INIT(100);

static sea_future slow(void) {
    fputc('.', stderr);
    return sea_sleep(SEA_MSEC(100));
}

static sea_future g(void) {
    SEA_AWAIT(sea_semaphore_wait(&limit, 1));
    sea_future r = sea_await(slow());
    sea_semaphore_signal(&limit, 1);
    return r;
}

static sea_future app_main(void) {
    static sea_future calls[1000];
    for (int i = 0; i < 1000; i++)
        calls[i] = sea_fiber_start(g);
    return sea_when_all_succeed(calls, 1000, NULL);
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
