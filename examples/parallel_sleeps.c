/*
 * parallel_sleeps.c - tutorial section 4: several futures at once.
 * Prints "Sleeping... 100ms 200ms Done."
 *
 * The two side chains are not waited for, so their futures go to
 * sea_future_ignore, which reports a failure if one happens.  The capture (a
 * string literal here, so a char *) is copied; say() gets a pointer to it.
 */
#include <sea/sea.h>

static sea_future say(char **text) {
    sea_print("%s", *text);
    return sea_ready();
}

static sea_future app_main(void) {
    sea_print("Sleeping... ");
    sea_future_ignore(sea_then(sea_sleep(SEA_MSEC(200)), say, "200ms "));
    sea_future_ignore(sea_then(sea_sleep(SEA_MSEC(100)), say, "100ms "));
    return sea_then(sea_sleep(SEA_SEC(1)), say, "Done.\n");
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
