/*
 * echo_server.c - tutorial section 10: a server that sends back whatever it
 * receives, until the client closes its side.
 *
 *     echo_server [ADDRESS]            (default 0.0.0.0:1234)
 *
 * Each connection is a loop (sea_repeat) whose state, the socket and a
 * buffer, is the loop's capture: read, then write what was read, until a
 * read returns 0 bytes (the end of the stream).
 */
#include <sea/sea.h>

struct echo { sea_socket *s; char buf[4096]; };

static sea_future echo_back(struct echo **e, sea_value v) {
    if (v.size == 0)
        return sea_stop();
    return sea_then(sea_socket_write((*e)->s, (*e)->buf, v.size), sea_continue);
}

static sea_future echo_once(struct echo *e) {
    return sea_then(sea_socket_read(e->s, e->buf, sizeof(e->buf)), echo_back, e);
}

static sea_future handle(sea_socket *s) {
    return sea_repeat(echo_once, (struct echo){.s = s});
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    return sea_serve(n ? args[0] : "0.0.0.0:1234", NULL, handle);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
