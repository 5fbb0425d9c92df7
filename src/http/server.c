/*
 * server.c - the small HTTP/1.1 server (see server.h): an accept loop, and
 * one chain of continuations per connection (read the head, call the
 * handler, send, linger, close).
 *
 * The accept loop and every connection hold the server's gate; stopping
 * closes the listener (the pending accept fails, and the loop leaves the
 * gate), shuts every connection down and waits at the gate.
 */
#include "http/server.h"

#include <sea/error.h>
#include <sea/gate.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/list.h"

#define REQUEST_MAX 8192
#define DEFAULT_TIMEOUT SEA_SEC(10)
#define DEFAULT_MAX_CONNECTIONS 64
/* After a failed accept (out of descriptors, say), wait this long before the next one. */
#define ACCEPT_RETRY SEA_MSEC(100)

struct sea__http_server {
    sea_listener *listener;
    sea__http_handler handler;
    void *arg;
    sea_time timeout;
    unsigned max_connections, connections;
    struct sea__list conns; /* open connections, for stopping */
    sea_gate gate;          /* the accept loop and every connection */
    bool stopping;
};

struct conn {
    struct sea__http_server *srv;
    sea_socket *s;
    sea_timer timer;
    struct sea__link link;
    bool head_only;        /* a HEAD request: the response's headers only */
    struct sea__http_response resp;
    size_t len;            /* request bytes in buf */
    size_t out_len;        /* bytes of out to send: the status line and headers (and an error's text) */
    char out[512];
    char why[200];         /* a failed handler's message */
    char buf[REQUEST_MAX]; /* the request; then a scratch buffer for what the client still sends */
};

static sea_future conn_finish(struct conn *c) {
    struct sea__http_server *srv = c->srv;
    sea_timer_cancel(&c->timer);
    sea__list_remove(&srv->conns, &c->link);
    sea_socket_close(c->s);
    sea_buf_release(&c->resp.body);
    free(c);
    srv->connections--;
    sea_gate_leave(&srv->gate);
    return sea_ready();
}

/* The connection's time is up (or the server stops): end whatever it waits for. */
static void conn_expired(sea_timer *t, void *arg) {
    struct conn *c = arg;
    (void)t;
    sea_socket_shutdown(c->s, SHUT_RDWR);
}

/* Lingering close: read and drop what the client still sends, until it closes or the timer fires. */
static sea_future conn_drain(struct conn *c);

static sea_future conn_drained(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    if (sea_future_error(in) || sea_future_value(in).size == 0)
        return conn_finish(c);
    return conn_drain(c);
}

static sea_future conn_drain(struct conn *c) {
    return sea_then_wrapped(sea_socket_read(c->s, c->buf, sizeof(c->buf)), conn_drained, c);
}

/* The response is out: no more writes; wait for the client to close. */
static sea_future conn_close_write(struct conn *c) {
    sea_socket_shutdown(c->s, SHUT_WR);
    return conn_drain(c);
}

static sea_future conn_body_sent(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    if (sea_future_error(in))
        return conn_finish(c);
    return conn_close_write(c);
}

static sea_future conn_head_sent(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    if (sea_future_error(in))
        return conn_finish(c);
    if (c->head_only || c->resp.body.len == 0)
        return conn_close_write(c);
    return sea_then_wrapped(sea_socket_write(c->s, c->resp.body.data, c->resp.body.len), conn_body_sent, c);
}

static const char *status_text(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    default:
        return "Internal Server Error";
    }
}

/*
 * Sends c->resp: status, headers and the body (200), or the one-line text
 * of an error (which travels in c->out with the headers).
 */
static sea_future conn_respond(struct conn *c) {
    struct sea__http_response *r = &c->resp;
    char text[256] = "";
    size_t body_len = r->body.len;
    const char *type = r->content_type ? r->content_type : "text/plain; charset=utf-8";
    char allow[128] = "";
    if (r->status != 200) {
        snprintf(text, sizeof(text), "%d %s: %s\n", r->status, status_text(r->status), r->error ? r->error : "");
        body_len = strlen(text);
        type = "text/plain; charset=utf-8";
        sea_buf_release(&r->body);
        if (r->allow)
            snprintf(allow, sizeof(allow), "Allow: %s\r\n", r->allow);
    }
    int n = snprintf(c->out, sizeof(c->out),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
                     r->status, status_text(r->status), type, body_len, allow, c->head_only ? "" : text);
    c->out_len = n < 0 ? 0 : (size_t)n < sizeof(c->out) ? (size_t)n : sizeof(c->out) - 1;
    return sea_then_wrapped(sea_socket_write(c->s, c->out, c->out_len), conn_head_sent, c);
}

static sea_future conn_error(struct conn *c, int status, const char *error) {
    c->resp.status = status;
    c->resp.error = error;
    return conn_respond(c);
}

static sea_future conn_answered(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    int err = sea_future_error(in);
    if (err) {
        const char *msg = sea_future_message(in);
        snprintf(c->why, sizeof(c->why), "%s", msg ? msg : sea_strerror(err));
        c->resp.allow = NULL;
        return conn_error(c, 500, c->why);
    }
    return conn_respond(c);
}

static sea_future conn_handle(struct conn *c, const struct sea__http_request *req) {
    c->head_only = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    c->resp = (struct sea__http_response){.status = 200};
    /* The request is in: the response gets a timeout of its own. */
    sea_timer_arm(&c->timer, c->srv->timeout);
    return sea_then_wrapped(c->srv->handler(c->srv->arg, req, &c->resp), conn_answered, c);
}

static sea_future conn_read(struct conn *c);

static sea_future conn_got(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    size_t n = sea_future_error(in) ? 0 : sea_future_value(in).size;
    if (n == 0) /* the client left, the read failed, or the timer shut the socket down */
        return conn_finish(c);
    c->len += n;
    struct sea__http_request req;
    switch (sea__http_request_parse(c->buf, c->len, &req)) {
    case SEA__HTTP_DONE:
        return conn_handle(c, &req);
    case SEA__HTTP_BAD:
        return conn_error(c, 400, req.error);
    default:
        if (c->len == sizeof(c->buf))
            return conn_error(c, 400, "request head over 8 KiB");
        return conn_read(c);
    }
}

static sea_future conn_read(struct conn *c) {
    return sea_then_wrapped(sea_socket_read(c->s, c->buf + c->len, sizeof(c->buf) - c->len), conn_got, c);
}

/* Serves s, or closes it at once when the server is full or stopping. */
static void conn_start(struct sea__http_server *srv, sea_socket *s) {
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
    c->srv = srv;
    c->s = s;
    c->head_only = false;
    c->resp = (struct sea__http_response){.status = 200};
    c->len = c->out_len = 0;
    sea__list_push_front(&srv->conns, &c->link);
    srv->connections++;
    sea_timer_init(&c->timer, conn_expired, c);
    sea_timer_arm(&c->timer, srv->timeout);
    sea_future_detach(conn_read(c));
}

static sea_future accept_next(struct sea__http_server *srv);

static sea_future accept_retry(struct sea__http_server **srvp, sea_value v) {
    (void)v;
    return accept_next(*srvp);
}

static sea_future accepted(struct sea__http_server **srvp, sea_future *in) {
    struct sea__http_server *srv = *srvp;
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

static sea_future accept_next(struct sea__http_server *srv) {
    if (srv->stopping)
        return sea_ready();
    return sea_then_wrapped(sea_accept(srv->listener), accepted, srv);
}

static sea_future accept_loop_done(struct sea__http_server **srvp) {
    sea_gate_leave(&(*srvp)->gate);
    return sea_ready();
}

int sea__http_server_start(const sea_addr *addr, const struct sea__http_server_options *opts,
                           sea__http_handler handler, void *arg, struct sea__http_server **out) {
    struct sea__http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->handler = handler;
    srv->arg = arg;
    srv->timeout = opts && opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT;
    srv->max_connections = opts && opts->max_connections ? opts->max_connections : DEFAULT_MAX_CONNECTIONS;
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

sea_addr sea__http_server_addr(const struct sea__http_server *srv) {
    return sea_listener_addr(srv->listener);
}

static sea_future server_free(struct sea__http_server **srvp) {
    free(*srvp);
    return sea_ready();
}

sea_future sea__http_server_stop(struct sea__http_server *srv) {
    srv->stopping = true;
    sea_listener_close(srv->listener); /* the pending accept fails: the accept loop leaves the gate */
    sea__list_for_each(l, &srv->conns)
        sea_socket_shutdown(sea__list_entry(l, struct conn, link)->s, SHUT_RDWR);
    return sea_finally(sea_gate_close(&srv->gate), server_free, srv);
}
