/*
 * fiber_canned_server.c - canned_server.c with each connection in a fiber of
 * its own (.fibers), so the handler can wait with SEA_AWAIT.
 */
#include <sea/sea.h>

static const char canned_response[] = "Seastar is the future!\n";

static sea_future respond(sea_socket *s) {
    SEA_AWAIT(sea_socket_write(s, canned_response, sizeof(canned_response) - 1));
    return sea_ready();
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    return sea_serve(n ? args[0] : "0.0.0.0:1234", &(sea_server_options){.fibers = true}, respond);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
