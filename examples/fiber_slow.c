/*
 * fiber_slow.c - slow.c and incr.c in fiber style: values across waits.
 *
 * slow() is written the continuation way (it returns a future of 3, available
 * after 100 ms); a fiber waits for it with sea_await_value() and gets the value
 * back like a return value.  incr() is written the fiber way: an ordinary
 * function that waits in the middle, keeping i in a plain local variable
 * instead of a capture struct.  It may only be called from a fiber.
 * Prints "Got 3" then "Got 4".
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_future three(void) {
    return sea_ready_int(3);
}

static sea_future slow(void) {
    return sea_then(sea_sleep(SEA_MSEC(100)), three);
}

/* Stores i + 1 in *out after 10 ms; returns 0 or an error code.  Fibers only. */
static int incr(int64_t i, int64_t *out) {
    int err = sea_await_value(sea_sleep(SEA_MSEC(10)), NULL);
    if (err)
        return err;
    *out = i + 1;
    return 0;
}

static sea_future main_fiber(void) {
    sea_value v;
    int err = sea_await_value(slow(), &v);
    if (err)
        return sea_failed(err, "slow failed");
    printf("Got %lld\n", (long long)v.i);
    int64_t n;
    err = incr(v.i, &n);
    if (err)
        return sea_failed(err, "incr failed");
    printf("Got %lld\n", (long long)n);
    return sea_ready();
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, main_fiber); /* main_fiber runs in a fiber */
}
