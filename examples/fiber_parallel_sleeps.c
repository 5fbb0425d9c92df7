/*
 * fiber_parallel_sleeps.c - parallel_sleeps.c in fiber style: three fibers
 * sleeping at once.
 *
 * Each fiber waits on its own sleep; a waiting fiber holds up nobody else, so
 * the 100 ms and 200 ms fibers print while the main fiber is still in its
 * one-second sleep.  Prints "Sleeping... 100ms 200ms Done."  The two side
 * fibers are not waited for, so their futures go to sea_future_ignore(): if
 * one failed, the failure would be reported.
 */
#include <sea/sea.h>
#include <stdio.h>

struct nap {
    sea_time length;
    const char *label;
};

static sea_future napper(struct nap *n) {
    int err = sea_await_value(sea_sleep(n->length), NULL);
    if (err)
        return sea_failed(err, "sleep failed");
    printf("%s", n->label);
    fflush(stdout);
    return sea_ready();
}


static sea_future main_fiber(void) {
    printf("Sleeping... ");
    fflush(stdout);
    sea_future_ignore(sea_fiber_start(napper, (struct nap){SEA_MSEC(200), "200ms "}));
    sea_future_ignore(sea_fiber_start(napper, (struct nap){SEA_MSEC(100), "100ms "}));
    return napper(&(struct nap){SEA_SEC(1), "Done.\n"}); /* a fiber may call a fiber function directly */
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, main_fiber); /* main_fiber runs in a fiber */
}
