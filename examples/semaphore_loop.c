/*
 * semaphore_loop.c - tutorial section 7.2: a loop of slow() calls, at most
 * 100 of them at a time, that ends after 456 iterations and then waits for
 * the ones still running.
 *
 * slow() prints a dot and sleeps (100 ms here; a second in the tutorial).
 * The loop takes a unit before starting each call and the call gives it back
 * when it ends (sea_finally: even if it fails).  After the loop, waiting for
 * all 100 units means every call has finished.
 */
#include <sea/sea.h>
#include <stdio.h>

#define CALLS 456
#define PARALLEL 100

static sea_semaphore limit;
static int running, peak, finished;

static sea_future slow_done(void) {
    running--;
    finished++;
    return sea_ready();
}

static sea_future slow(void) {
    fputc('.', stderr);
    if (++running > peak)
        peak = running;
    return sea_then(sea_sleep(SEA_MSEC(100)), slow_done);
}

static sea_future give_back(void) {
    sea_semaphore_signal(&limit, 1);
    return sea_ready();
}

struct loop_state {
    int i;
};

/* The loop's state lives in the loop; continuations get a pointer to it. */
struct state_ref {
    struct loop_state *s;
};

static sea_future start_one(struct state_ref *r) {
    /* Started in the background; its unit comes back whenever it ends. */
    sea_future_ignore(sea_finally(slow(), give_back));
    return ++r->s->i == CALLS ? sea_stop() : sea_continue();
}

static sea_future iteration(struct loop_state *s) {
    return sea_then(sea_semaphore_wait(&limit, 1), start_one, (struct state_ref){s});
}

static sea_future all_units_back(void) {
    return sea_semaphore_wait(&limit, PARALLEL);
}

static sea_future report(void) {
    printf("\n%d calls to slow(), at most %d at a time\n", finished, peak);
    return sea_ready();
}

static sea_future f(void) {
    sea_semaphore_init(&limit, PARALLEL);
    sea_future loop = sea_repeat(iteration, (struct loop_state){0});
    return sea_then(sea_finally(loop, all_units_back), report);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, f);
}
