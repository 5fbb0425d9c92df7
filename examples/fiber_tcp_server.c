/*
 * fiber_tcp_server.c - tutorial section 10's servers again, in fiber style:
 * the same three modes, command line and behaviour as tcp_server.c, but each
 * shard's accept loop and each connection is a fiber that waits with
 * sea_await, so the code reads top to bottom.
 *
 *     fiber_tcp_server accept|canned|echo [ADDR]     (default 127.0.0.1:1234)
 */
#include <sea/sea.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { ACCEPT, CANNED, ECHO };

static enum mode mode;

struct conn {
    sea_socket *s;
    struct conn *next, *prev;
};

/* Each shard's own server. */
struct server {
    sea_listener *listener;
    sea_future accept_fiber;
    sea_gate gate;
    struct conn *conns;
};
static __thread struct server server;

static const char canned_response[] = "Seastar is the future!\n";

/* One connection, start to end. */
static sea_future connection_fiber(struct conn **cp) {
    struct conn *c = *cp;
    if (mode == CANNED) {
        sea_future_detach(sea_await(sea_socket_write(c->s, canned_response, strlen(canned_response))));
    } else {
        char buf[4096];
        sea_value v;
        /* Echo until the client closes its side (a read of 0 bytes) or the connection fails. */
        while (sea_await_value(sea_socket_read(c->s, buf, sizeof(buf)), &v) == 0 && v.size > 0)
            if (sea_await_value(sea_socket_write(c->s, buf, v.size), NULL) != 0)
                break;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        server.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sea_socket_close(c->s);
    free(c);
    sea_gate_leave(&server.gate);
    return sea_ready();
}

/* Each shard: accept until the listener closes. */
static sea_future accept_fiber(void) {
    sea_value v;
    while (sea_await_value(sea_accept(server.listener), &v) == 0) {
        sea_socket *s = v.ptr;
        if (mode == ACCEPT) {
            char peer[128];
            sea_addr a = sea_socket_peer(s);
            sea_addr_format(&a, peer, sizeof(peer));
            printf("Accepted connection from %s\n", peer);
            fflush(stdout);
            sea_socket_close(s);
            continue;
        }
        struct conn *c = malloc(sizeof(*c));
        if (!c || sea_gate_enter(&server.gate) != 0) {
            free(c);
            sea_socket_close(s);
            continue;
        }
        c->s = s;
        c->prev = NULL;
        c->next = server.conns;
        if (c->next)
            c->next->prev = c;
        server.conns = c;
        /* Not waited for: the next accept must not wait for this connection. */
        sea_future_detach(sea_fiber_start_attr(&(sea_fiber_attr){.name = "connection"}, connection_fiber, c));
    }
    return sea_ready(); /* the listener closed */
}

struct where {
    sea_addr addr;
};

static sea_future start_shard(struct where *w) {
    if (!server.listener) {
        sea_listen_options o = {.reuse_port = true};
        int rc = sea_listen(&w->addr, &o, &server.listener);
        if (rc < 0)
            return sea_failed_fmt(rc, "shard %u cannot listen: %s", sea_shard_id(), sea_strerror(rc));
    }
    sea_gate_init(&server.gate);
    server.accept_fiber = sea_fiber_start_attr(&(sea_fiber_attr){.name = "accept"}, accept_fiber);
    return sea_ready();
}

/* At exit, on every shard, in a fiber: stop accepting, end the connections, wait for them. */
static sea_future stop_fiber(void) {
    sea_listener_close(server.listener);
    server.listener = NULL;
    sea_future_detach(sea_await(server.accept_fiber));
    for (struct conn *c = server.conns; c; c = c->next)
        sea_socket_shutdown(c->s, SHUT_RDWR);
    return sea_gate_close(&server.gate);
}

static sea_future stop_shard(void) {
    return sea_fiber_start(stop_fiber);
}

static sea_future stop_all(void) {
    return sea_invoke_on_all(stop_shard);
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    const char *m = n > 0 ? args[0] : "echo";
    if (n > 2 || (strcmp(m, "accept") && strcmp(m, "canned") && strcmp(m, "echo")))
        return sea_failed(-22, "usage: fiber_tcp_server [accept|canned|echo] [ADDR]");
    mode = strcmp(m, "accept") == 0 ? ACCEPT : strcmp(m, "canned") == 0 ? CANNED : ECHO;
    struct where w;
    if (sea_addr_parse(n > 1 ? args[1] : "127.0.0.1:1234", &w.addr) < 0)
        return sea_failed(-22, "not an address: use IP:PORT, [IPV6]:PORT or unix:PATH");
    sea_listen_options o = {.reuse_port = true};
    int rc = sea_listen(&w.addr, &o, &server.listener);
    if (rc < 0)
        return sea_failed_fmt(rc, "cannot listen: %s", sea_strerror(rc));
    w.addr = sea_listener_addr(server.listener);
    sea_app_at_exit(stop_all);
    char text[128];
    sea_addr_format(&w.addr, text, sizeof(text));
    fprintf(stderr, "listening on %s on %u shard%s\n", text, sea_shard_count(), sea_shard_count() > 1 ? "s" : "");
    if (sea_await_value(sea_invoke_on_all(start_shard, w), NULL) != 0)
        return sea_failed(-22, "a shard could not start");
    /* Serve until SIGINT or SIGTERM. */
    static sea_promise forever = SEA_PROMISE_INIT;
    return sea_await(sea_promise_get_future(&forever));
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, app_main);
}
