/*
 * fiber_echo_server.c - echo_server.c in fiber style: each connection is a
 * fiber, and its loop is a while loop.
 */
#include <sea/sea.h>

static sea_future echo(sea_socket *s) {
    char buf[4096];
    size_t n;
    while ((n = SEA_AWAIT(sea_socket_read(s, buf, sizeof(buf))).size) > 0)
        SEA_AWAIT(sea_socket_write(s, buf, n));
    return sea_ready();
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    return sea_serve(n ? args[0] : "0.0.0.0:1234", &(sea_server_options){.fibers = true}, echo);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
