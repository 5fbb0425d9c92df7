/*
 * errors.c - tutorial section 6: an error skips continuations until handled.
 *
 * line2() fails; line3() is skipped, as the statement after a throw would be.
 * sea_then_wrapped sees the failure and recovers; sea_finally runs either way.
 * Prints:
 *   line1
 *   line2 fails
 *   caught: Invalid argument: line2 went wrong
 *   finally
 *   handled: Connection timed out
 */
#include <errno.h>
#include <sea/sea.h>
#include <stdio.h>

static sea_future line1(void) {
    printf("line1\n");
    return sea_ready();
}

static sea_future line2(void) {
    printf("line2 fails\n");
    return sea_failed(-EINVAL, "line2 went wrong");
}

static sea_future line3(void) {
    printf("line3 (never printed)\n");
    return sea_ready();
}

static sea_future catch_it(sea_future *in) {
    int err = sea_future_error(in);
    if (err)
        printf("caught: %s: %s\n", sea_strerror(err), sea_future_message(in));
    return sea_ready();
}

static sea_future say_finally(void) {
    printf("finally\n");
    return sea_ready();
}

static sea_future fail_again(void) {
    return sea_failed(-ETIMEDOUT, NULL);
}

static sea_future recover(int err, const char *msg) {
    (void)msg;
    printf("handled: %s\n", sea_strerror(err));
    return sea_ready();
}

static sea_future app_main(void) {
    sea_future f = sea_then(sea_sleep(SEA_MSEC(1)), line1);
    f = sea_then(f, line2);
    f = sea_then(f, line3);
    f = sea_then_wrapped(f, catch_it);
    f = sea_finally(f, say_finally);
    f = sea_then(f, fail_again);
    return sea_handle_error(f, recover);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
