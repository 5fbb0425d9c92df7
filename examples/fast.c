/*
 * fast.c - tutorial section 4.1: a ready future.  sea_then runs the
 * continuation at once, with no allocation.  Prints "Got 3".
 */
#include <sea/sea.h>

static sea_future fast(void) {
    return sea_ready_int(3);
}

static sea_future print_value(sea_value v) {
    sea_print("Got %lld\n", (long long)v.i);
    return sea_ready();
}

static sea_future app_main(void) {
    return sea_then(fast(), print_value);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
