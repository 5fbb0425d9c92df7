/*
 * parallel_sleeps.c - tutorial section 4: three sleeps at once.
 *
 * Each sea_sleep() and sea_then() returns immediately; the reactor runs each
 * continuation when its timer expires.  Prints "Sleeping... 100ms 200ms Done."
 * The two side chains are not waited for, so they are handed to
 * sea_future_ignore(): if one failed, the failure would be reported.
 */
#include <sea/sea.h>
#include <stdio.h>

struct label {
    const char *text;
};

static sea_future print_label(struct label *l) {
    printf("%s", l->text);
    fflush(stdout);
    return sea_ready();
}

static sea_future app_main(void) {
    printf("Sleeping... ");
    fflush(stdout);
    sea_future_ignore(sea_then(sea_sleep(SEA_MSEC(200)), print_label, (struct label){"200ms "}));
    sea_future_ignore(sea_then(sea_sleep(SEA_MSEC(100)), print_label, (struct label){"100ms "}));
    return sea_then(sea_sleep(SEA_SEC(1)), print_label, (struct label){"Done.\n"});
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
