/*
 * fiber_errors.c - errors.c in fiber style: errors are values you test.
 *
 * SEA_AWAIT passes a failure on in one line (the function returns it).
 * Where the error is to be handled instead, sea_await() gives the ready
 * future, error and message included.  There is no skipping and no handler
 * to register: an if-statement does what sea_then_wrapped did, the line
 * after it what sea_finally did, and sea_await_value() gives just the code
 * when the message is not needed.
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

static sea_future line2(void) {
    printf("line2 fails\n");
    SEA_AWAIT(sea_sleep(SEA_MSEC(1))); /* a failed sleep would return here, passing its error on */
    return sea_failed(-EINVAL, "line2 went wrong");
}

static sea_future fail_again(void) {
    SEA_AWAIT(sea_sleep(SEA_MSEC(1)));
    return sea_failed(-ETIMEDOUT, NULL);
}

static sea_future main_fiber(void) {
    SEA_AWAIT(sea_sleep(SEA_MSEC(1)));
    printf("line1\n");

    sea_future r = sea_await(line2()); /* a fiber calls fiber code directly; r is ready */
    int err = sea_future_error(&r);
    if (!err)
        printf("line3 (never printed)\n");
    else
        printf("caught: %s: %s\n", sea_strerror(err), sea_future_message(&r));
    sea_future_detach(r); /* done with it: releases the error and its message */
    printf("finally\n");

    err = sea_await_value(fail_again(), NULL);
    if (err)
        printf("handled: %s\n", sea_strerror(err));
    return sea_ready();
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, main_fiber); /* main_fiber runs in a fiber */
}
