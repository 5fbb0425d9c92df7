/*
 * udp_echo_server.c - datagrams sent back to where they came from, on every
 * shard: shard i binds its own port, the base port + i, and serves it, so
 * each port belongs to one shard as each connection does.  It runs until
 * SIGTERM or SIGINT.
 *
 *     udp_echo_server [ADDRESS:BASEPORT]            (default 0.0.0.0:1235)
 *
 * On sea's own stack (--network-stack=native) the device brings every
 * datagram to shard 0, which hands those of another shard's port to it
 * (docs/native-stack.md); on the kernel's, each shard's socket gets its own.
 */
#include <sea/sea.h>

#include <stdio.h>

static sea_addr base;
static __thread sea_socket *sock; /* this shard's */
static __thread sea_future serving;

/* The shard's loop, a fiber: a datagram in, the same out, until the socket is closed. */
static sea_future echo(sea_socket **sp) {
    sea_socket *s = *sp;
    char buf[65536];
    for (;;) {
        sea_addr from;
        sea_future r = sea_await(sea_udp_recv(s, buf, sizeof(buf), &from));
        if (sea_future_failed(&r)) {
            int err = sea_future_error(&r);
            if (err != SEA_ECANCELED)
                return r; /* a real failure: the result */
            sea_future_detach(r);
            return sea_ready(); /* closed: the stop */
        }
        size_t n = sea_future_value(&r).size;
        SEA_AWAIT(sea_udp_send(s, &from, buf, n));
    }
}

static sea_future start_shard(void) {
    sea_addr a = base;
    uint16_t port = (uint16_t)(sea_addr_port(&base) + sea_shard_id());
    if (a.u.sa.sa_family == AF_INET)
        a.u.in4.sin_port = htons(port);
    else
        a.u.in6.sin6_port = htons(port);
    int rc = sea_udp_bind(&a, &sock);
    if (rc < 0)
        return sea_failed(rc, "cannot bind the shard's UDP port");
    char text[80];
    sea_addr_format(&a, text, sizeof(text));
    fprintf(stderr, "shard %u: UDP echo on %s\n", sea_shard_id(), text);
    serving = sea_fiber_start(echo, sock);
    return sea_ready();
}

static sea_future stop_shard(void) {
    sea_socket_close(sock); /* the pending receive fails with SEA_ECANCELED: the loop ends */
    sock = NULL;
    return sea_future_move(&serving);
}

static sea_future stop_all(void) {
    return sea_invoke_on_all(stop_shard);
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    const char *where = n ? args[0] : "0.0.0.0:1235";
    if (sea_addr_parse(where, &base) < 0 || !sea_addr_port(&base)) {
        fprintf(stderr, "udp_echo_server: not ADDRESS:PORT: %s\n", where);
        return sea_failed(SEA_EUSAGE, "usage: udp_echo_server [ADDRESS:BASEPORT]");
    }
    SEA_AWAIT(sea_invoke_on_all(start_shard));
    fprintf(stderr, "listening on %u ports from %u\n", sea_shard_count(), sea_addr_port(&base));
    int rc = sea_app_at_exit(stop_all); /* on SIGTERM: every shard closes its socket and waits for its loop */
    return rc < 0 ? sea_failed(rc, "sea_app_at_exit") : sea_app_stopped();
}

int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
