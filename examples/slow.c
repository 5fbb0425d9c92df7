/*
 * slow.c - tutorial section 4: a future that carries a value.
 *
 * slow() returns a future of 3, available after 100 ms; the continuation in
 * app_main receives the value and prints "Got 3".
 */
#include <sea/sea.h>
#include <stdio.h>

static sea_future three(void) {
    return sea_ready_int(3);
}

static sea_future slow(void) {
    return sea_then(sea_sleep(SEA_MSEC(100)), three);
}

static sea_future print_value(sea_value v) {
    printf("Got %lld\n", (long long)v.i);
    return sea_ready();
}

static sea_future app_main(void) {
    return sea_then(slow(), print_value);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
