/*
 * semaphore_g.c - tutorial section 7.2: g(), called by outside events, runs
 * at most 100 at a time on a shard.  Each call takes a unit, runs slow(),
 * and gives the unit back when slow() is done, however it ends.  Here 1,000
 * calls come at once.
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

static sea_future g(void) {
    return sea_finally(sea_then(sea_semaphore_wait(&limit, 1), slow), give_back);
}

static sea_future app_main(void) {
    return sea_parallel_for_each(0, 1000, g);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
