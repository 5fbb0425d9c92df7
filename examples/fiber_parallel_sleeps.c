/*
 * fiber_parallel_sleeps.c - parallel_sleeps.c in fiber style: three fibers
 * sleeping at once.  A waiting fiber holds up nobody else, so the side
 * fibers print while the main fiber is still asleep.  Each fiber gets its
 * own copy of its struct nap.
 */
#include <sea/sea.h>

struct nap { sea_time length; const char *text; };

static sea_future nap(struct nap *n) {
    SEA_AWAIT(sea_sleep(n->length));
    sea_print("%s", n->text);
    return sea_ready();
}

static sea_future app_main(void) {
    sea_print("Sleeping... ");
    sea_future_ignore(sea_fiber_start(nap, (struct nap){SEA_MSEC(200), "200ms "}));
    sea_future_ignore(sea_fiber_start(nap, (struct nap){SEA_MSEC(100), "100ms "}));
    return nap(&(struct nap){SEA_SEC(1), "Done.\n"}); /* a fiber may call a fiber function directly */
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
