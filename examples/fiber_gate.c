/*
 * fiber_gate.c - gate.c in fiber style: each slow() is a fiber started
 * inside the gate (sea_fiber_start_in), so closing the gate waits for them.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_gate g = SEA_GATE_INIT;

static sea_future slow(int *i) {
    fprintf(stderr, "starting %d\n", *i);
    SEA_AWAIT(sea_sleep(SEA_SEC(1)));
    fprintf(stderr, "done %d\n", *i);
    return sea_ready();
}

static sea_future too_late(void) {
    SEA_AWAIT(sea_sleep(SEA_MSEC(100)));
    return sea_with_gate(&g, slow, 6);
}

static sea_future app_main(void) {
    for (int i = 1; i < 6; i++) {
        sea_future_ignore(sea_fiber_start_in(&g, slow, i));
        SEA_AWAIT(sea_sleep(SEA_MSEC(100)));
    }
    sea_future_ignore(sea_fiber_start(too_late));
    return sea_gate_close(&g);
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
