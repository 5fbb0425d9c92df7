/*
 * gate.c - tutorial section 7.4: shutting down a service with a gate.
 *
 * Five slow() operations start one "second" apart, each taking ten; then
 * the gate closes, and the program waits for it: for the five to finish.
 * One second after closing, a sixth operation tries to enter and fails; its
 * future is ignored, so sea reports the failure.  Times are a tenth of the
 * tutorial's (a "second" is 100 ms).  With the argument "check", slow() is
 * ten one-second sleeps that check the gate after each: once the gate
 * closes, every operation stops within a second, and its "done" line still
 * comes (printed by sea_finally).
 *
 * Output (stderr, as in the tutorial):
 *     starting 1 ... starting 5
 *     exceptional future ignored: gate closed (SEA_EGATE_CLOSED)
 *     done 1 ... done 5
 */
#include <sea/sea.h>
#include <stdio.h>
#include <string.h>

#define SECOND SEA_MSEC(100)

struct app {
    sea_gate g;
    bool check;     /* the variant: slow() checks the gate every second */
    sea_time closed_at;
};

struct op {
    struct app *a;
    int i;
    int slept;
};

static sea_future say_done(struct op *o) {
    fprintf(stderr, "done %d\n", o->i);
    return sea_ready();
}

/* The variant's step: sleep a second, then stop if the gate is closing. */
static sea_future check_then_go_on(struct op **o) {
    int rc = sea_gate_check(&(*o)->a->g);
    if (rc)
        return sea_failed(rc, NULL);
    return ++(*o)->slept == 10 ? sea_stop() : sea_continue();
}

static sea_future one_second(struct op *o) {
    return sea_then(sea_sleep(SECOND), check_then_go_on, o);
}

static sea_future slow(struct op *o) {
    fprintf(stderr, "starting %d\n", o->i);
    sea_future work = o->a->check ? sea_repeat(one_second, *o) : sea_sleep(10 * SECOND);
    return sea_finally(work, say_done, *o);
}

struct app_ref {
    struct app *a;
};

static sea_future start(struct app_ref *r, int64_t i) {
    sea_future_ignore(sea_with_gate(&r->a->g, slow, (struct op){r->a, (int)i, 0}));
    /* wait one second before starting the next one */
    return sea_sleep(SECOND);
}

static sea_future enter_too_late(struct app_ref *r) {
    /* This fails: the gate closed a second ago. */
    int rc = sea_gate_enter(&r->a->g);
    if (rc)
        return sea_failed(rc, NULL);
    return sea_with_gate(&r->a->g, slow, (struct op){r->a, 6, 0});
}

static sea_future close_gate(struct app_ref *r) {
    sea_future_ignore(sea_then(sea_sleep(SECOND), enter_too_late, *r));
    r->a->closed_at = sea_now();
    return sea_gate_close(&r->a->g);
}

static sea_future report(struct app_ref *r) {
    if (r->a->check)
        printf("everything stopped %s a second after the gate closed\n",
               sea_now() - r->a->closed_at <= 3 * SECOND / 2 ? "within" : "more than");
    return sea_ready();
}

static sea_future run(struct app *a) {
    sea_gate_init(&a->g);
    sea_future loop = sea_do_for_each(1, 6, start, (struct app_ref){a});
    return sea_then(sea_then(loop, close_gate, (struct app_ref){a}), report, (struct app_ref){a});
}

static sea_future f(void) {
    int n;
    char **args = sea_app_args(&n);
    bool check = n == 1 && strcmp(args[0], "check") == 0;
    return sea_do_with(run, (struct app){.check = check});
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, f);
}
