/*
 * incr.c - tutorial section 5.1: capturing state.  The continuation needs i
 * after incr() has returned, so i is its capture: copied into the pending
 * future, and add_one() gets a pointer to the copy.  Prints "Got 4".
 */
#include <sea/sea.h>

static sea_future add_one(int *i) {
    return sea_ready_int(*i + 1);
}

static sea_future incr(int i) {
    return sea_then(sea_sleep(SEA_MSEC(10)), add_one, i);
}

static sea_future print_value(sea_value v) {
    sea_print("Got %lld\n", (long long)v.i);
    return sea_ready();
}

static sea_future app_main(void) {
    return sea_then(incr(3), print_value);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
