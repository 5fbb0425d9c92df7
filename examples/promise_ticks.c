/*
 * promise_ticks.c - tutorial section 15: a promise object.
 *
 * ticks() returns a future made from a promise, prints a message on every
 * tick of a periodic timer and resolves the promise after 10 ticks.  The
 * period is 1000 ms, or the first argument in milliseconds (tests use a short
 * one): `promise_ticks 50`.
 */
#include <sea/sea.h>
#include <stdio.h>
#include <stdlib.h>

struct ticker {
    sea_timer timer;
    sea_promise done;
    int count;
};

static void tick(sea_timer *t, void *arg) {
    struct ticker *tk = arg;
    (void)t;
    tk->count++;
    printf("tick %d\n", tk->count);
    fflush(stdout);
    if (tk->count == 10) {
        sea_timer_cancel(&tk->timer);
        sea_promise_set_int(&tk->done, tk->count);
        sea_promise_release(&tk->done);
    }
}

static sea_future ticks(struct ticker *tk, sea_time period) {
    tk->count = 0;
    sea_promise_init(&tk->done);
    sea_timer_init(&tk->timer, tick, tk);
    sea_future f = sea_promise_get_future(&tk->done);
    int rc = sea_timer_arm_periodic(&tk->timer, period);
    if (rc < 0) {
        sea_promise_set_error(&tk->done, rc, "cannot arm the tick timer");
        sea_promise_release(&tk->done);
    }
    return f;
}

static sea_future report(sea_value v) {
    printf("done after %lld ticks\n", (long long)v.i);
    return sea_ready();
}

static struct ticker the_ticker;

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    long period_ms = n > 0 ? strtol(args[0], NULL, 10) : 1000;
    if (period_ms <= 0)
        return sea_failed(-22, "the period must be a positive number of milliseconds");
    return sea_then(ticks(&the_ticker, SEA_MSEC(period_ms)), report);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
