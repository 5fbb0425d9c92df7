/*
 * prometheus.c - the Prometheus endpoint: a small HTTP/1.1 server on shard 0
 * that answers GET /metrics with every shard's metrics (sea_metrics_render),
 * and the request-head parser it uses (http_request.h).
 *
 * Each connection carries one request and one response, then closes: the
 * request head may take at most 8 KiB, and must arrive within the timeout;
 * the response gets the timeout again.  A timer per connection enforces
 * both by shutting the socket down, which ends whatever read or write is
 * pending on it, so a client that connects and says nothing, or never reads
 * its answer, holds a connection slot for one timeout at most.  After the
 * response the write side is shut down and what the client still sends is
 * read and dropped until it closes (still under the timer): closing a socket
 * with unread bytes would reset the connection and could destroy the
 * response before the client read it.
 *
 * The accept loop and every connection hold the endpoint's gate; stopping
 * closes the listener, shuts every connection down and waits at the gate.
 * The endpoint lives in a thread-local pointer of shard 0, like every other
 * piece of a shard's state.
 */
#include "internal.h"

#include <sea/log.h>

#include "http/request.h"

#include <sea/app.h>
#include <sea/gate.h>
#include <sea/metrics.h>
#include <sea/net.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- the request-head parser ---- */

#define METHOD_MAX 32

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int sea__http_request_parse(const char *buf, size_t len, struct sea__http_request *req) {
    enum { METHOD, TARGET, VERSION, LF, LINE_START, NAME, VALUE, END_LF } state = METHOD;
    static const char version[] = "HTTP/1.";
    memset(req, 0, sizeof(*req));
    size_t start = 0; /* where the current request-line part began */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        const char *bad = NULL;
        switch (state) {
        case METHOD:
            if (c == ' ' && i > 0) {
                req->method = buf;
                req->method_len = i;
                start = i + 1;
                state = TARGET;
            } else if (!is_tchar(c)) {
                bad = "malformed method";
            } else if (i == METHOD_MAX) {
                bad = "method too long";
            }
            break;
        case TARGET:
            if (c == ' ' && i > start) {
                req->target = buf + start;
                req->target_len = i - start;
                start = i + 1;
                state = VERSION;
            } else if (c <= 0x20 || c >= 0x7f) {
                bad = "malformed request target";
            }
            break;
        case VERSION: {
            size_t k = i - start;
            if (k < sizeof(version) - 1) {
                if (c != (unsigned char)version[k])
                    bad = "not an HTTP/1.x request";
            } else if (k == sizeof(version) - 1) {
                if (c != '0' && c != '1')
                    bad = "unsupported HTTP version";
                req->minor_version = c - '0';
            } else if (c == '\r') {
                state = LF;
            } else if (c == '\n') {
                state = LINE_START;
            } else {
                bad = "malformed request line";
            }
            break;
        }
        case LF:
            if (c != '\n')
                bad = "CR not followed by LF";
            state = LINE_START;
            break;
        case LINE_START:
            if (c == '\r') {
                state = END_LF;
            } else if (c == '\n') {
                req->head_len = i + 1;
                return SEA__HTTP_DONE;
            } else if (c == ' ' || c == '\t') {
                bad = "obsolete header line folding";
            } else if (!is_tchar(c)) {
                bad = "malformed header name";
            } else {
                state = NAME;
            }
            break;
        case NAME:
            if (c == ':')
                state = VALUE;
            else if (!is_tchar(c))
                bad = "malformed header name";
            break;
        case VALUE:
            if (c == '\r')
                state = LF;
            else if (c == '\n')
                state = LINE_START;
            else if ((c < 0x20 && c != '\t') || c == 0x7f)
                bad = "control character in a header value";
            break;
        case END_LF:
            if (c != '\n') {
                bad = "CR not followed by LF";
                break;
            }
            req->head_len = i + 1;
            return SEA__HTTP_DONE;
        }
        if (bad) {
            req->error = bad;
            return SEA__HTTP_BAD;
        }
    }
    return SEA__HTTP_MORE;
}

/* ---- the endpoint ---- */

#define REQUEST_MAX 8192
#define DEFAULT_ADDRESS "127.0.0.1:9180"
#define DEFAULT_TIMEOUT SEA_SEC(10)
#define DEFAULT_MAX_CONNECTIONS 64
/* After a failed accept (out of descriptors, say), wait this long before the next one. */
#define ACCEPT_RETRY SEA_MSEC(100)

struct conn;

struct endpoint {
    sea_listener *listener;
    sea_time timeout;
    unsigned max_connections, connections;
    struct conn *conns; /* open connections, for stopping */
    sea_gate gate;      /* the accept loop and every connection */
    bool stopping;
};

struct conn {
    struct endpoint *ep;
    sea_socket *s;
    sea_timer timer;
    struct conn *prev, *next;
    bool head_only;        /* a HEAD request: the response's headers only */
    sea_buf body;          /* the rendered metrics */
    size_t len;            /* request bytes in buf */
    size_t out_len;        /* bytes of out to send: the status line and headers (and an error's text) */
    char out[512];
    char buf[REQUEST_MAX]; /* the request; then a scratch buffer for what the client still sends */
};

static __thread struct endpoint *the_endpoint;

static sea_future conn_finish(struct conn *c) {
    struct endpoint *ep = c->ep;
    sea_timer_cancel(&c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        ep->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sea_socket_close(c->s);
    sea_buf_release(&c->body);
    free(c);
    ep->connections--;
    sea_gate_leave(&ep->gate);
    return sea_ready();
}

/* The connection's time is up (or the endpoint stops): end whatever it waits for. */
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
    if (c->head_only || c->body.len == 0)
        return conn_close_write(c);
    return sea_then_wrapped(sea_socket_write(c->s, c->body.data, c->body.len), conn_body_sent, c);
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
 * Sends the response: status, headers and c->body (200), or the one-line
 * text of an error (which travels in c->out with the headers).
 */
static sea_future conn_respond(struct conn *c, int status, const char *error) {
    char text[256] = "";
    size_t body_len = c->body.len;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (status != 200) {
        snprintf(text, sizeof(text), "%d %s: %s\n", status, status_text(status), error);
        body_len = strlen(text);
        type = "text/plain; charset=utf-8";
        sea_buf_release(&c->body);
    }
    int n = snprintf(c->out, sizeof(c->out),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
                     status, status_text(status), type, body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     c->head_only ? "" : text);
    c->out_len = n < 0 ? 0 : (size_t)n < sizeof(c->out) ? (size_t)n : sizeof(c->out) - 1;
    return sea_then_wrapped(sea_socket_write(c->s, c->out, c->out_len), conn_head_sent, c);
}

static sea_future conn_rendered(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    int err = sea_future_error(in);
    if (err) {
        char why[200];
        const char *msg = sea_future_message(in);
        snprintf(why, sizeof(why), "cannot collect the metrics: %s", msg ? msg : sea_strerror(err));
        return conn_respond(c, 500, why);
    }
    return conn_respond(c, 200, NULL);
}

static sea_future conn_route(struct conn *c, const struct sea__http_request *req) {
    size_t path_len = 0;
    while (path_len < req->target_len && req->target[path_len] != '?')
        path_len++;
    bool get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
    c->head_only = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    if (path_len != 8 || memcmp(req->target, "/metrics", 8) != 0)
        return conn_respond(c, 404, "the metrics are at /metrics");
    if (!get && !c->head_only)
        return conn_respond(c, 405, "only GET and HEAD are served");
    /* The request is in: the response gets a timeout of its own. */
    sea_timer_arm(&c->timer, c->ep->timeout);
    return sea_then_wrapped(sea_metrics_render(&c->body), conn_rendered, c);
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
        return conn_route(c, &req);
    case SEA__HTTP_BAD:
        return conn_respond(c, 400, req.error);
    default:
        if (c->len == sizeof(c->buf))
            return conn_respond(c, 400, "request head over 8 KiB");
        return conn_read(c);
    }
}

static sea_future conn_read(struct conn *c) {
    return sea_then_wrapped(sea_socket_read(c->s, c->buf + c->len, sizeof(c->buf) - c->len), conn_got, c);
}

/* Serves s, or closes it at once when the endpoint is full or stopping. */
static void conn_start(struct endpoint *ep, sea_socket *s) {
    if (ep->stopping || ep->connections >= ep->max_connections || sea_gate_enter(&ep->gate) < 0) {
        sea_socket_close(s);
        return;
    }
    struct conn *c = malloc(sizeof(*c));
    if (!c) {
        sea_gate_leave(&ep->gate);
        sea_socket_close(s);
        return;
    }
    c->ep = ep;
    c->s = s;
    c->head_only = false;
    c->body = SEA_BUF_EMPTY;
    c->len = c->out_len = 0;
    c->prev = NULL;
    c->next = ep->conns;
    if (ep->conns)
        ep->conns->prev = c;
    ep->conns = c;
    ep->connections++;
    sea_timer_init(&c->timer, conn_expired, c);
    sea_timer_arm(&c->timer, ep->timeout);
    sea_future_detach(conn_read(c));
}

static sea_future accept_next(struct endpoint *ep);

static sea_future accept_retry(struct endpoint **epp, sea_value v) {
    (void)v;
    return accept_next(*epp);
}

static sea_future accepted(struct endpoint **epp, sea_future *in) {
    struct endpoint *ep = *epp;
    int err = sea_future_error(in);
    if (!err) {
        conn_start(ep, sea_future_value(in).ptr);
        return accept_next(ep);
    }
    if (ep->stopping)
        return sea_ready();
    /* Out of descriptors or memory: try again a little later rather than spin. */
    return sea_then(sea_sleep(ACCEPT_RETRY), accept_retry, ep);
}

static sea_future accept_next(struct endpoint *ep) {
    if (ep->stopping)
        return sea_ready();
    return sea_then_wrapped(sea_accept(ep->listener), accepted, ep);
}

static sea_future accept_loop_done(struct endpoint **epp) {
    sea_gate_leave(&(*epp)->gate);
    return sea_ready();
}

static sea_future stop_at_exit(void *arg) {
    (void)arg;
    return sea_prometheus_stop();
}

/* Starts serving on a; 0 or -errno. */
static int endpoint_start(const sea_addr *a, const sea_prometheus_options *opts) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->smp || s->id != 0)
        return -EINVAL;
    if (the_endpoint)
        return -EALREADY;
    struct endpoint *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return -ENOMEM;
    ep->timeout = opts && opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT;
    ep->max_connections = opts && opts->max_connections ? opts->max_connections : DEFAULT_MAX_CONNECTIONS;
    sea_gate_init(&ep->gate);
    int rc = sea_listen(a, NULL, &ep->listener);
    /* The stop must happen at the orderly stop even if nobody calls it: no descriptor or memory left behind. */
    if (rc == 0 && sea_app_at_exit(stop_at_exit, NULL) < 0) {
        sea_listener_close(ep->listener);
        rc = -ENOMEM;
    }
    if (rc < 0) {
        free(ep);
        return rc;
    }
    the_endpoint = ep;
    sea_gate_enter(&ep->gate);
    sea_future_detach(sea_finally(accept_next(ep), accept_loop_done, ep));
    return 0;
}

int sea_prometheus_start(const char *address, const sea_prometheus_options *opts) {
    sea_addr a;
    if (sea_addr_parse(address ? address : DEFAULT_ADDRESS, &a) < 0)
        return -EINVAL;
    return endpoint_start(&a, opts);
}

int sea__prometheus_start(const struct sea__options *o, char *err, size_t errlen) {
    if (o->prometheus_port < 0)
        return 0;
    const char *host = o->prometheus_address ? o->prometheus_address : "127.0.0.1";
    /* An IPv6 address needs its brackets before the port. */
    bool brackets = strchr(host, ':') && host[0] != '[';
    char text[128];
    sea_addr a;
    int n = snprintf(text, sizeof(text), "%s%s%s:%d", brackets ? "[" : "", host, brackets ? "]" : "",
                     o->prometheus_port);
    if (n < 0 || (size_t)n >= sizeof(text) || o->prometheus_port > 65535 || sea_addr_parse(text, &a) < 0) {
        snprintf(err, errlen, "cannot serve Prometheus metrics on %s port %d: not an IP address and port", host,
                 o->prometheus_port);
        return -EINVAL;
    }
    int rc = endpoint_start(&a, NULL);
    if (rc < 0) {
        snprintf(err, errlen, "cannot serve Prometheus metrics on %s: %s", text, sea_strerror(rc));
        return rc;
    }
    sea_addr bound;
    char shown[128];
    if (sea_prometheus_address(&bound) == 0 && sea_addr_format(&bound, shown, sizeof(shown)) > 0)
        sea_log_info(&sea_log_sea, "serving Prometheus metrics on http://%s/metrics", shown);
    return 0;
}

static sea_future endpoint_free(struct endpoint **epp) {
    free(*epp);
    return sea_ready();
}

sea_future sea__prometheus_stop(void) {
    struct endpoint *ep = the_endpoint;
    if (!ep)
        return sea_ready();
    the_endpoint = NULL;
    ep->stopping = true;
    sea_listener_close(ep->listener); /* the pending accept fails: the accept loop leaves the gate */
    for (struct conn *c = ep->conns; c; c = c->next)
        sea_socket_shutdown(c->s, SHUT_RDWR);
    return sea_finally(sea_gate_close(&ep->gate), endpoint_free, ep);
}

sea_future sea_prometheus_stop(void) {
    return sea__prometheus_stop();
}

int sea_prometheus_address(sea_addr *out) {
    struct endpoint *ep = the_endpoint;
    if (!ep)
        return -ENOENT;
    *out = sea_listener_addr(ep->listener);
    return 0;
}
