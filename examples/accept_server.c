/*
 * accept_server.c - the network tutorial's first server: it prints where
 * each connection comes from and closes it.
 *
 *     accept_server [ADDRESS]          (default 0.0.0.0:1234)
 *
 * It prints with sea_print, which never blocks the shard: with stdout on a
 * pipe nobody reads, the lines that do not fit are dropped (and counted on
 * stderr) while the server goes on accepting and stops on SIGTERM.
 */
#include <sea/sea.h>

static sea_future report(sea_socket *s) {
    char peer[128];
    sea_addr a = sea_socket_peer(s);
    sea_addr_format(&a, peer, sizeof(peer));
    sea_print("Accepted connection from %s\n", peer);
    return sea_ready();
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    return sea_serve(n ? args[0] : "0.0.0.0:1234", NULL, report);
}

int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
