/*
 * sleep.c - tutorial section 4: a continuation runs when sleep's future resolves.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_future done(void) {
    printf("Done.\n");
    return sea_ready();
}

static sea_future app_main(void) {
    printf("Sleeping... ");
    fflush(stdout);
    return sea_then(sea_sleep(SEA_SEC(1)), done);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
