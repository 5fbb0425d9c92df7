/*
 * slow.c - tutorial section 4: a future with a value.  slow() resolves with
 * 3 after 100 ms; print_value() reads it from the value the future carries.
 * Prints "Got 3".
 */
#include <sea/sea.h>

static sea_future three(void) {
    return sea_ready_int(3);
}

static sea_future slow(void) {
    return sea_then(sea_sleep(SEA_MSEC(100)), three);
}

static sea_future print_value(sea_value v) {
    sea_print("Got %lld\n", (long long)v.i);
    return sea_ready();
}

static sea_future app_main(void) {
    return sea_then(slow(), print_value);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
