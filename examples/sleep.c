/*
 * sleep.c - tutorial section 4: a continuation runs when a future resolves.
 * Prints "Sleeping... ", and "Done." a second later.
 */
#include <sea/sea.h>

static sea_future done(void) {
    sea_print("Done.\n");
    return sea_ready();
}

static sea_future app_main(void) {
    sea_print("Sleeping... ");
    return sea_then(sea_sleep(SEA_SEC(1)), done);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
