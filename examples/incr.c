/*
 * incr.c - tutorial section 5.1: capturing state in a continuation.
 *
 * incr(i) must remember i while it sleeps.  The capture is a struct; its
 * bytes are copied into the pending future only because the sleep is not
 * ready yet, and freed right after the continuation ran.  Prints "Got 4".
 */
#include <sea/sea.h>
#include <stdio.h>

struct incr_state {
    int i;
};

static sea_future add_one(struct incr_state *st) {
    return sea_ready_int(st->i + 1);
}

static sea_future incr(int i) {
    return sea_then(sea_sleep(SEA_MSEC(10)), add_one, (struct incr_state){.i = i});
}

static sea_future print_value(sea_value v) {
    printf("Got %lld\n", (long long)v.i);
    return sea_ready();
}

static sea_future app_main(void) {
    return sea_then(incr(3), print_value);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
