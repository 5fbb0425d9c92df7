/*
 * tcp_server.c - tutorial section 10: the first TCP servers, in continuation
 * style, served by every shard.
 *
 *     tcp_server accept [ADDR]   prints "Accepted connection from IP:PORT", closes it
 *     tcp_server canned [ADDR]   answers "Seastar is the future!" and closes
 *     tcp_server echo   [ADDR]   RFC 862: sends back whatever it receives
 *
 * ADDR defaults to 127.0.0.1:1234.  Every shard listens on the same port
 * (SO_REUSEPORT), so the kernel spreads connections over the shards and each
 * connection stays on the shard that accepted it.  Shard 0 listens first, so
 * that port 0 picks one port for all; "listening on ADDR" goes to stderr.
 * SIGINT or SIGTERM stops it cleanly: every shard closes its listener, shuts
 * its connections down, and waits for their handlers at its gate.
 */
#include <sea/sea.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { ACCEPT, CANNED, ECHO };

static enum mode mode;

/* One connection being served. */
struct conn {
    sea_socket *s;
    struct conn *next, *prev;
    char buf[4096];
};

/* Each shard's own server (one thread per shard). */
struct server {
    sea_listener *listener;
    sea_future accept_loop; /* ends (SEA_ECANCELED) once the listener closes */
    sea_gate gate;
    struct conn *conns;
};
static __thread struct server server;

struct conn_ref {
    struct conn *c;
};

static const char canned_response[] = "Seastar is the future!\n";

/* ---- one connection ---- */

static sea_future echo_read(struct conn_ref *r, sea_value v) {
    if (v.size == 0)
        return sea_stop(); /* the client closed its side */
    return sea_then(sea_socket_write(r->c->s, r->c->buf, v.size), sea_continue);
}

static sea_future echo_step(struct conn_ref *r) {
    return sea_then(sea_socket_read(r->c->s, r->c->buf, sizeof(r->c->buf)), echo_read, *r);
}

static sea_future serve_conn(struct conn_ref *r) {
    if (mode == CANNED)
        return sea_socket_write(r->c->s, canned_response, strlen(canned_response));
    return sea_repeat(echo_step, *r);
}

static sea_future conn_done(struct conn_ref *r) {
    struct conn *c = r->c;
    if (c->prev)
        c->prev->next = c->next;
    else
        server.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sea_socket_close(c->s);
    free(c);
    return sea_ready();
}

static void handle_connection(sea_socket *s) {
    struct conn *c = malloc(sizeof(*c));
    if (!c) {
        sea_socket_close(s);
        return;
    }
    c->s = s;
    c->prev = NULL;
    c->next = server.conns;
    if (c->next)
        c->next->prev = c;
    server.conns = c;
    sea_future f = sea_with_gate(&server.gate, serve_conn, (struct conn_ref){c});
    /* Not waited for: the next accept must not wait for this connection.  A
     * failed connection (the client went away) is fine, hence detach. */
    sea_future_detach(sea_finally(f, conn_done, (struct conn_ref){c}));
}

/* ---- accepting ---- */

static sea_future accepted(sea_value v) {
    sea_socket *s = v.ptr;
    if (mode == ACCEPT) {
        char peer[128];
        sea_addr a = sea_socket_peer(s);
        sea_addr_format(&a, peer, sizeof(peer));
        printf("Accepted connection from %s\n", peer);
        fflush(stdout);
        sea_socket_close(s);
    } else {
        handle_connection(s);
    }
    return sea_ready();
}

static sea_future accept_one(void) {
    return sea_then(sea_accept(server.listener), accepted);
}

struct where {
    sea_addr addr;
};

/* Runs on every shard: listen (if not yet) and accept until the listener closes. */
static sea_future start_shard(struct where *w) {
    if (!server.listener) {
        sea_listen_options o = {.reuse_port = true};
        int rc = sea_listen(&w->addr, &o, &server.listener);
        if (rc < 0)
            return sea_failed_fmt(rc, "shard %u cannot listen: %s", sea_shard_id(), sea_strerror(rc));
    }
    sea_gate_init(&server.gate);
    /* keep_doing ends only with an error: SEA_ECANCELED once the listener closes. */
    server.accept_loop = sea_keep_doing(accept_one);
    return sea_ready();
}

static sea_future accept_loop_ended(sea_future *in) {
    (void)sea_future_error(in); /* the expected SEA_ECANCELED */
    return sea_gate_close(&server.gate);
}

/* At exit, on every shard: stop accepting, end the connections, wait for the loop and the handlers. */
static sea_future stop_shard(void) {
    sea_listener_close(server.listener);
    server.listener = NULL;
    for (struct conn *c = server.conns; c; c = c->next)
        sea_socket_shutdown(c->s, SHUT_RDWR);
    return sea_then_wrapped(server.accept_loop, accept_loop_ended);
}

static sea_future stop_all(void) {
    return sea_invoke_on_all(stop_shard);
}

static sea_future start_others(struct where *w) {
    char text[128];
    sea_addr_format(&w->addr, text, sizeof(text));
    fprintf(stderr, "listening on %s on %u shard%s\n", text, sea_shard_count(), sea_shard_count() > 1 ? "s" : "");
    return sea_invoke_on_all(start_shard, *w);
}

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    const char *m = n > 0 ? args[0] : "echo";
    mode = strcmp(m, "accept") == 0 ? ACCEPT : strcmp(m, "canned") == 0 ? CANNED : ECHO;
    if (n > 2 || (strcmp(m, "accept") && strcmp(m, "canned") && strcmp(m, "echo")))
        return sea_failed(-22, "usage: tcp_server [accept|canned|echo] [ADDR]");
    struct where w;
    if (sea_addr_parse(n > 1 ? args[1] : "127.0.0.1:1234", &w.addr) < 0)
        return sea_failed(-22, "not an address: use IP:PORT, [IPV6]:PORT or unix:PATH");
    /* Shard 0 first, so that port 0 becomes one port for every shard. */
    sea_listen_options o = {.reuse_port = true};
    int rc = sea_listen(&w.addr, &o, &server.listener);
    if (rc < 0)
        return sea_failed_fmt(rc, "cannot listen: %s", sea_strerror(rc));
    w.addr = sea_listener_addr(server.listener);
    sea_app_at_exit(stop_all);
    /* The server runs until SIGINT or SIGTERM: main's future never resolves. */
    sea_future_ignore(sea_then(sea_ready(), start_others, w));
    static sea_promise forever = SEA_PROMISE_INIT;
    return sea_promise_get_future(&forever);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
