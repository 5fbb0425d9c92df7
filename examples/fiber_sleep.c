/*
 * fiber_sleep.c - sleep.c in fiber style: wait for a future, then go on.
 *
 * sea_app_run_fiber runs sleeper in a fiber; it waits for sleep's future with
 * sea_await_value() and carries on below it, as blocking code would, while the
 * reactor stays free for other work.  The application ends when the fiber's
 * future (its return value) resolves.  Prints "Sleeping... Done."
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_future sleeper(void) {
    printf("Sleeping... ");
    fflush(stdout);
    int err = sea_await_value(sea_sleep(SEA_SEC(1)), NULL); /* suspends this fiber only */
    if (err)
        return sea_failed(err, "sleep failed");
    printf("Done.\n");
    return sea_ready();
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, sleeper); /* sleeper runs in a fiber */
}
