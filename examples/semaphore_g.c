/*
 * semaphore_g.c - tutorial section 7.2: g(), called whenever an outside
 * event says so, does its real work (slow()) at most 100 times at once; the
 * others wait their turn in g().
 *
 * One semaphore per shard (a static here: this program runs one shard's
 * worth of calls), and sea_with_semaphore, which waits for a unit, runs the
 * work, and gives the unit back when the work's future resolves.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_semaphore limit;
static int running, peak;

static sea_future slow_done(void) {
    running--;
    return sea_ready();
}

static sea_future slow(void) {
    if (++running > peak)
        peak = running;
    return sea_then(sea_sleep(SEA_MSEC(10)), slow_done);
}

static sea_future g(void) {
    return sea_with_semaphore(&limit, 1, slow);
}

static int calls;

static sea_future call_g(int64_t i) {
    (void)i;
    calls++;
    return g();
}

static sea_future report(void) {
    printf("%d calls to g(), at most %d at a time\n", calls, peak);
    return sea_ready();
}

static sea_future f(void) {
    sea_semaphore_init(&limit, 100);
    /* 1,000 events arrive at once. */
    return sea_then(sea_parallel_for_each(0, 1000, call_g), report);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, f);
}
