/*
 * local.c - an HTTP server on the current shard only, for sea's own
 * endpoints (the Prometheus one, on shard 0): a listener, an accept loop,
 * and each connection in a fiber of its own, served by conn.c.
 *
 * The accept loop and every connection hold the server's gate; stopping
 * closes the listener (the pending accept fails, and the loop leaves the
 * gate), shuts every connection down and waits at the gate.  After its last
 * answer a connection shuts its sending side down and reads what the client
 * still sends until it closes (for a second at most): closing a socket with
 * unread bytes would reset the connection and could destroy the answer
 * before the client read it.
 */
#include "http/local.h"

#include <sea/fiber.h>
#include <sea/gate.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "base/list.h"

/* After a failed accept (out of descriptors, say), wait this long before the next one. */
#define ACCEPT_RETRY SEA_MSEC(100)
#define LINGER SEA_SEC(1)

struct sea__http_local {
    sea_listener *listener;
    struct sea__http_cfg cfg;
    sea_http_stats stats;
    unsigned max_connections, connections;
    struct sea__list conns; /* open connections, for stopping */
    sea_gate gate;          /* the accept loop and every connection */
    bool stopping;
};

struct conn {
    struct sea__http_local *srv;
    sea_socket *s;
    struct sea__link link;
};

static void linger_over(sea_timer *t, void *arg) {
    (void)t;
    sea_socket_shutdown(arg, SHUT_RDWR);
}

static sea_future conn_fiber(struct conn **cp) {
    struct conn *c = *cp;
    struct sea__http_local *srv = c->srv;
    sea_future_ignore(sea_await(sea__http_conn_run(c->s, &srv->cfg, &srv->stats)));
    sea_socket_shutdown(c->s, SHUT_WR);
    sea_timer t;
    sea_timer_init(&t, linger_over, c->s);
    sea_timer_arm(&t, LINGER);
    char buf[4096];
    for (int i = 0; i < 1024; i++) {
        sea_value v;
        if (sea_await_value(sea_socket_read(c->s, buf, sizeof(buf)), &v) < 0 || v.size == 0)
            break;
    }
    sea_timer_cancel(&t);
    sea__list_remove(&srv->conns, &c->link);
    sea_socket_close(c->s);
    free(c);
    srv->connections--;
    sea_gate_leave(&srv->gate);
    return sea_ready();
}

/* Serves s, or closes it at once when the server is full or stopping. */
static void conn_start(struct sea__http_local *srv, sea_socket *s) {
    if (srv->stopping || srv->connections >= srv->max_connections || sea_gate_enter(&srv->gate) < 0) {
        sea_socket_close(s);
        return;
    }
    struct conn *c = malloc(sizeof(*c));
    if (!c) {
        sea_gate_leave(&srv->gate);
        sea_socket_close(s);
        return;
    }
    *c = (struct conn){.srv = srv, .s = s};
    sea__list_push_front(&srv->conns, &c->link);
    srv->connections++;
    sea_future f = sea_fiber_start(conn_fiber, c);
    if (sea_future_failed(&f)) { /* no stack for a fiber: the connection goes */
        sea__list_remove(&srv->conns, &c->link);
        sea_socket_close(s);
        free(c);
        srv->connections--;
        sea_gate_leave(&srv->gate);
    }
    sea_future_ignore(f);
}

static sea_future accept_next(struct sea__http_local *srv);

static sea_future accept_retry(struct sea__http_local **srvp, sea_value v) {
    (void)v;
    return accept_next(*srvp);
}

static sea_future accepted(struct sea__http_local **srvp, sea_future *in) {
    struct sea__http_local *srv = *srvp;
    int err = sea_future_error(in);
    if (!err) {
        conn_start(srv, sea_future_value(in).ptr);
        return accept_next(srv);
    }
    if (srv->stopping)
        return sea_ready();
    /* Out of descriptors or memory: try again a little later rather than spin. */
    return sea_then(sea_sleep(ACCEPT_RETRY), accept_retry, srv);
}

static sea_future accept_next(struct sea__http_local *srv) {
    if (srv->stopping)
        return sea_ready();
    return sea_then_wrapped(sea_accept(srv->listener), accepted, srv);
}

static sea_future accept_loop_done(struct sea__http_local **srvp) {
    sea_gate_leave(&(*srvp)->gate);
    return sea_ready();
}

int sea__http_local_start(const sea_addr *addr, const sea_http_server_options *opts, unsigned max_connections,
                          const sea_http_routes *routes, struct sea__http_local **out) {
    struct sea__http_local *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    sea__http_cfg_init(&srv->cfg, opts, routes);
    srv->max_connections = max_connections ? max_connections : 64;
    sea_gate_init(&srv->gate);
    int rc = sea_listen(addr, NULL, &srv->listener);
    if (rc < 0) {
        free(srv);
        return rc;
    }
    sea_gate_enter(&srv->gate);
    sea_future_detach(sea_finally(accept_next(srv), accept_loop_done, srv));
    *out = srv;
    return 0;
}

sea_addr sea__http_local_addr(const struct sea__http_local *srv) {
    return sea_listener_addr(srv->listener);
}

static sea_future server_free(struct sea__http_local **srvp) {
    free(*srvp);
    return sea_ready();
}

sea_future sea__http_local_stop(struct sea__http_local *srv) {
    srv->stopping = true;
    sea_listener_close(srv->listener); /* the pending accept fails: the accept loop leaves the gate */
    sea__list_for_each(l, &srv->conns)
        sea_socket_shutdown(sea__list_entry(l, struct conn, link)->s, SHUT_RDWR);
    return sea_finally(sea_gate_close(&srv->gate), server_free, srv);
}
