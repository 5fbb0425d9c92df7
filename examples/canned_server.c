/*
 * canned_server.c - tutorial section 10: a server that answers every
 * connection with the same line and closes it.
 *
 *     canned_server [ADDRESS]          (default 0.0.0.0:1234; IP:PORT, [IPV6]:PORT or unix:PATH)
 *
 * sea_serve listens on every shard and runs respond() for each connection;
 * when its future resolves, the server closes the connection (after letting
 * the client read the answer).  SIGINT or SIGTERM stops the server cleanly:
 * the listeners close, open connections are shut down and waited for, and
 * the program exits with 0.
 */
#include <sea/sea.h>

static const char canned_response[] = "Seastar is the future!\n";

static sea_future respond(sea_socket *s) {
    return sea_socket_write(s, canned_response, sizeof(canned_response) - 1);
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    return sea_serve(n ? args[0] : "0.0.0.0:1234", NULL, respond);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
