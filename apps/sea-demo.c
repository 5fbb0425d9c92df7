/*
 * sea-demo.c - the main job of `make run`: the tutorial's programs, one after
 * another, in one reactor.
 *
 * Each section is a function returning a future; the sections are chained
 * with sea_then, so the whole program is one chain of continuations: hello
 * world, three parallel sleeps, a future carrying a value (slow/fast), captured
 * state (incr), errors skipping continuations until handled, and a promise
 * resolved by a periodic timer.  Ends with the reactor's own counters.
 *
 *     sea-demo [fast] [--reactor-backend=epoll] [--help]
 * "fast" divides every delay by 10 (the tests use it).
 */
#include <errno.h>
#include <sea/sea.h>
#include <stdio.h>
#include <string.h>

static sea_time scale = 1; /* delays are divided by this */

static sea_time ms(long n) {
    return SEA_MSEC(n) / scale;
}

struct text {
    const char *s;
};

static sea_future print(struct text *t) {
    fputs(t->s, stdout);
    fflush(stdout);
    return sea_ready();
}

static sea_future print_got(sea_value v) {
    printf("Got %lld\n", (long long)v.i);
    return sea_ready();
}

/* ---- tutorial 2 and 4 ---- */

static sea_future hello(void) {
    printf("\n== Hello world (tutorial 2)\nHello world\n");
    return sea_ready();
}

static sea_future parallel_sleeps(void) {
    printf("\n== Three sleeps at once (tutorial 4)\nSleeping... ");
    fflush(stdout);
    sea_future_ignore(sea_then(sea_sleep(ms(200)), print, (struct text){"200ms "}));
    sea_future_ignore(sea_then(sea_sleep(ms(100)), print, (struct text){"100ms "}));
    return sea_then(sea_sleep(ms(1000)), print, (struct text){"Done.\n"});
}

static sea_future three(void) {
    return sea_ready_int(3);
}

static sea_future slow_and_fast(void) {
    printf("\n== A future with a value: slow() then fast() (tutorial 4, 4.1)\n");
    sea_future slow = sea_then(sea_sleep(ms(100)), three);
    sea_future f = sea_then(slow, print_got);
    return sea_then(sea_then(f, three), print_got);
}

/* ---- tutorial 5.1 ---- */

struct incr_state {
    int i;
};

static sea_future add_one(struct incr_state *st) {
    return sea_ready_int(st->i + 1);
}

static sea_future incr(void) {
    printf("\n== Captured state: incr(3) (tutorial 5.1)\n");
    sea_future f = sea_then(sea_sleep(ms(10)), add_one, (struct incr_state){.i = 3});
    return sea_then(f, print_got);
}

/* ---- tutorial 6 ---- */

static sea_future failing_step(void) {
    printf("step 2 fails\n");
    return sea_failed(-EIO, "the disk said no");
}

static sea_future skipped_step(void) {
    printf("step 3 (never printed)\n");
    return sea_ready();
}

static sea_future inspect(sea_future *in) {
    int err = sea_future_error(in);
    printf("then_wrapped saw: %s: %s\n", err ? sea_strerror(err) : "a value",
           err ? sea_future_message(in) : "");
    return sea_ready();
}

static sea_future cleanup(void) {
    printf("finally runs either way\n");
    return sea_ready();
}

static sea_future errors(void) {
    printf("\n== Errors skip continuations until handled (tutorial 6)\nstep 1\n");
    sea_future f = sea_then(sea_sleep(ms(1)), failing_step);
    f = sea_then(f, skipped_step);
    f = sea_then_wrapped(f, inspect);
    return sea_finally(f, cleanup);
}

/* ---- tutorial 15 ---- */

struct ticker {
    sea_timer timer;
    sea_promise done;
    int count;
};

static struct ticker the_ticker;

static void tick(sea_timer *t, void *arg) {
    struct ticker *tk = arg;
    (void)t;
    printf("tick %d\n", ++tk->count);
    fflush(stdout);
    if (tk->count == 10) {
        sea_timer_cancel(&tk->timer);
        sea_promise_set_int(&tk->done, tk->count);
        sea_promise_release(&tk->done);
    }
}

static sea_future ticks_done(sea_value v) {
    printf("promise resolved after %lld ticks\n", (long long)v.i);
    return sea_ready();
}

static sea_future promise_ticks(void) {
    printf("\n== A promise resolved by a periodic timer (tutorial 15)\n");
    struct ticker *tk = &the_ticker;
    sea_promise_init(&tk->done);
    sea_timer_init(&tk->timer, tick, tk);
    sea_future f = sea_promise_get_future(&tk->done);
    int rc = sea_timer_arm_periodic(&tk->timer, ms(100));
    if (rc < 0) {
        sea_promise_set_error(&tk->done, rc, "cannot arm the tick timer");
        sea_promise_release(&tk->done);
    }
    return sea_then(f, ticks_done);
}

static sea_future summary(void) {
    sea_reactor_stats st;
    if (sea_reactor_stats_get(&st) == 0)
        printf("\n== Reactor (%s backend): %llu loop iterations, %llu tasks, %llu timers fired, "
               "%llu sleeps in the kernel\n",
               sea_reactor_backend(), (unsigned long long)st.loop_iterations,
               (unsigned long long)st.tasks_run, (unsigned long long)st.timers_fired,
               (unsigned long long)st.sleeps);
    printf("All done.\n");
    return sea_ready();
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    for (int i = 0; i < n; i++) {
        if (strcmp(args[i], "fast") == 0)
            scale = 10;
        else
            return sea_failed_fmt(-EINVAL, "unknown argument '%s' (expected: fast)", args[i]);
    }
    sea_future f = sea_then(sea_ready(), hello);
    f = sea_then(f, parallel_sleeps);
    f = sea_then(f, slow_and_fast);
    f = sea_then(f, incr);
    f = sea_then(f, errors);
    f = sea_then(f, promise_ticks);
    return sea_then(f, summary);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
