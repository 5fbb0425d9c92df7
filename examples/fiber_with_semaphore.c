/*
 * fiber_with_semaphore.c - with_semaphore.c in fiber style: called from a
 * fiber, sea_with_semaphore waits for the units, runs slow() and waits for
 * it, all in that fiber.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_semaphore limit = SEA_SEMAPHORE_INIT(100);

static sea_future slow(void) {
    fputc('.', stderr);
    return sea_sleep(SEA_MSEC(100));
}

static sea_future g(void) {
    return sea_with_semaphore(&limit, 1, slow);
}

static sea_future app_main(void) {
    static sea_future calls[1000];
    for (int i = 0; i < 1000; i++)
        calls[i] = sea_fiber_start(g);
    return sea_when_all_succeed(calls, 1000, NULL);
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
