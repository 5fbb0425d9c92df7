/*
 * with_semaphore.c - tutorial section 7.2: sea_with_semaphore does what
 * semaphore_g.c's g() does by hand: wait for the units, run the function,
 * give the units back when its future resolves.
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_semaphore limit = SEA_SEMAPHORE_INIT(100);

static sea_future slow(void) {
    fputc('.', stderr);
    return sea_sleep(SEA_MSEC(100));
}

static sea_future g(void) {
    return sea_with_semaphore(&limit, 1, slow);
}

static sea_future app_main(void) {
    return sea_parallel_for_each(0, 1000, g);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
