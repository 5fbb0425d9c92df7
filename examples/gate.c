/*
 * gate.c - tutorial section 7.4: shutting down a service with a gate.
 *
 * Five slow() operations start a "second" apart, each taking ten; then the
 * gate closes, and the program waits for it: for the five to finish.  A
 * "second" after closing, a sixth operation tries to enter and fails; its
 * future is ignored, so sea reports the failure.  Times are a tenth of the
 * tutorial's (a "second" is 100 ms).  Output, on stderr as in the tutorial:
 *     starting 1 ... starting 5
 *     exceptional future ignored: gate closed (SEA_EGATE_CLOSED)
 *     done 1 ... done 5
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_gate g = SEA_GATE_INIT;

static sea_future done(int *i) {
    fprintf(stderr, "done %d\n", *i);
    return sea_ready();
}

static sea_future slow(int *i) {
    fprintf(stderr, "starting %d\n", *i);
    return sea_then(sea_sleep(SEA_SEC(1)), done, *i);
}

static sea_future start(int64_t i) {
    sea_future_ignore(sea_with_gate(&g, slow, (int)i));
    return sea_sleep(SEA_MSEC(100));
}

static sea_future too_late(void) {
    return sea_with_gate(&g, slow, 6);
}

static sea_future close_gate(void) {
    sea_future_ignore(sea_then(sea_sleep(SEA_MSEC(100)), too_late));
    return sea_gate_close(&g);
}

static sea_future app_main(void) {
    return sea_then(sea_do_for_each(1, 6, start), close_gate);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
