/*
 * semaphore_loop.c - tutorial section 7.2: a loop of slow() calls, at most
 * 100 of them at a time, that ends after 456 iterations and then waits for
 * the ones still running.
 *
 * slow() prints a dot and sleeps (100 ms here; a second in the tutorial).
 * Each iteration takes a unit before starting a call, and the call gives it
 * back when it ends (sea_finally: even if it fails).  After the loop,
 * waiting for all 100 units means every call has finished.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_semaphore limit = SEA_SEMAPHORE_INIT(100);

static sea_future slow(void) {
    fputc('.', stderr);
    return sea_sleep(SEA_MSEC(100));
}

static sea_future give_back(void) {
    sea_semaphore_signal(&limit, 1);
    return sea_ready();
}

static sea_future start_slow(void) {
    sea_future_ignore(sea_finally(slow(), give_back)); /* in the background */
    return sea_ready();
}

static sea_future iteration(void) {
    return sea_then(sea_semaphore_wait(&limit, 1), start_slow);
}

static sea_future wait_for_all(void) {
    return sea_semaphore_wait(&limit, 100);
}

static sea_future app_main(void) {
    return sea_finally(sea_do_for_each(0, 456, iteration), wait_for_all);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
