/*
 * conn.c - one HTTP/1.1 connection: reading requests, running their
 * handlers, sending their responses, until the connection ends.
 *
 * The connection runs in a fiber (the server's, or its caller's) and keeps
 * everything in one structure: the input buffer, where a request's head
 * stays while its handler runs and its body's bytes follow it; the parsed
 * request; the response; and an output buffer, where the answers to
 * pipelined requests collect until the connection would wait for more
 * input (or a handler would wait), and then go out in one write.
 *
 * The request body is an input stream over a data source that hands out
 * the bytes after the head and reads more from the socket as the handler
 * asks (decoding chunks on the way); a streamed response body is an output
 * stream over a sink that writes the head first, then the bytes (framed as
 * chunks when their length is unknown).  Both are written as continuations
 * rather than fiber code, so that a handler written with continuations can
 * use them too.
 *
 * Timeouts use one timer per connection, armed rarely: each phase (waiting
 * for a request, for the rest of a head, for body bytes, for a send to
 * finish) only stores its deadline, and the timer, when it fires, re-arms
 * itself for a deadline that moved.  When one passes, the socket's reading
 * side is shut down, so the pending read ends and the connection can still
 * send its 408; a send that cannot finish has both sides shut down.
 */
#include "http/http.h"

#include <sea/fiber.h>
#include <sea/log.h>
#include <sea/semaphore.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* The input buffer: its first size, and the free room a request's body is read into after its head. */
#define IN_FIRST (4 * 1024)
#define BODY_ROOM (4 * 1024)
/* Answers collect in the output buffer up to this much before they are sent. */
#define OUT_FLUSH (64 * 1024)
/* A body at least this large is sent from its own memory, not copied into the output buffer. */
#define BODY_NO_COPY (16 * 1024)
/* An unread body up to this much is read and dropped after the answer; a longer one closes the connection. */
#define DISCARD_MAX (256 * 1024)

enum phase { P_IDLE, P_HEAD, P_BODY, P_SEND, P_HANDLER };

struct body_source {
    sea_data_source base;
    struct sea__http_conn *c;
};

struct body_sink {
    sea_data_sink base;
    struct sea__http_conn *c;
};

struct sea__http_conn {
    sea_socket *s;
    const struct sea__http_cfg *cfg;
    sea_http_stats *stats;
    /* input: [start, start + head_len) is the current head; body bytes from rpos to len */
    char *in;
    size_t cap, len, start, head_len, rpos;
    struct sea__http_scan scan;
    sea_http_header *headers;
    char *path_buf, *scratch;
    size_t path_cap;
    struct sea__http_params params;
    struct sea__http_head head;
    sea_http_request req;
    sea_http_response resp;
    /* output */
    char *out;
    size_t out_len, out_cap;
    /* the request body */
    uint64_t body_left;     /* Content-Length bytes still to come */
    uint64_t body_total;    /* decoded bytes handed out (chunked: checked against max_body) */
    bool body_chunked, body_done, continue_sent;
    int body_status;        /* set when reading the body failed: the status to answer with */
    int body_err;           /* and the error the stream fails with */
    const char *body_why;
    struct sea__http_chunked chunk;
    struct body_source src;
    sea_input_stream *body_in;
    /* a streamed response body */
    struct body_sink sink;
    bool sink_ended;
    /* timeouts */
    sea_timer timer;
    sea_time deadline;      /* 0: none */
    enum phase phase;
    bool expired;
    bool closing;           /* no request after this one */
    bool send_failed;       /* a send failed: the client is gone (not the handler's fault) */
    bool corked;            /* TCP_CORK is on: a file's head and pages go out in full segments */
    bool h1;                /* the first bytes were not HTTP/2's preface: no need to look again */
    /* HTTPS: the TLS connection over s, and its streams (NULL for plain HTTP) */
    sea_tls *tls;
    sea_input_stream *tin;
    sea_output_stream *tout;
    sea_semaphore wsem;     /* one send at a time on the socket, in the order they were asked for */
    char *spare;            /* the output buffer not in use: the other one may be in flight */
    size_t spare_cap;
    unsigned requests;
};

/* ---- timeouts ---- */

static void set_deadline(struct sea__http_conn *c, enum phase phase, sea_time d) {
    c->phase = phase;
    c->deadline = sea_lowres_now() + d;
    if (!sea_timer_armed(&c->timer) || sea_timer_expiry(&c->timer) > c->deadline)
        sea_timer_arm_at(&c->timer, c->deadline);
}

static void no_deadline(struct sea__http_conn *c) {
    c->phase = P_HANDLER;
    c->deadline = 0;
}

static void conn_timer(sea_timer *t, void *arg) {
    struct sea__http_conn *c = arg;
    if (!c->deadline)
        return;
    if (sea_lowres_now() < c->deadline) {
        sea_timer_arm_at(t, c->deadline);
        return;
    }
    c->deadline = 0;
    bool again = c->expired;
    c->expired = true;
    /* Reading ends (a 408 can still go out); a send that does not finish, or a second expiry, ends everything. */
    sea_socket_shutdown(c->s, c->phase == P_SEND || again ? SHUT_RDWR : SHUT_RD);
}

/* ---- the transport: the socket, or TLS over it ---- */

/* Reads up to len bytes into buf: v.size, 0 at the end. */
static sea_future conn_read(struct sea__http_conn *c, char *buf, size_t len) {
    if (!c->tls)
        return sea_socket_read(c->s, buf, len);
    return sea__http_stream_read(c->tin, buf, len);
}

struct tls_file {
    sea_output_stream *out;
    char *buf;
    size_t len;
};

static sea_future tls_file_sent(struct tls_file *f, sea_future *in) {
    free(f->buf);
    return sea_future_move(in);
}

/*
 * Sends bytes (or, for fd >= 0, len bytes of the file at pos): the socket
 * directly, or encrypted.  A file over TLS cannot be sent with sendfile: it
 * is read with pread, from the page cache the caller filled.
 */
static sea_future transport_send(struct sea__http_conn *c, const void *data, size_t len, int fd, uint64_t pos) {
    if (!c->tls)
        return fd >= 0 ? sea_socket_sendfile(c->s, fd, pos, len) : sea_socket_write(c->s, data, len);
    if (fd < 0)
        return sea__http_stream_send(c->tout, data, len);
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return sea_failed(-ENOMEM, "no memory to send a file over TLS");
    ssize_t n = pread(fd, buf, len, (off_t)pos);
    if (n != (ssize_t)len) {
        free(buf);
        return n < 0 ? sea_failed_fmt(-errno, "reading a file to send: %s", strerror(errno))
                     : sea_failed(-EIO, "the file ended before the bytes to send");
    }
    sea_future w = sea__http_stream_send(c->tout, buf, len);
    return sea_then_wrapped(w, tls_file_sent, ((struct tls_file){c->tout, buf, len}));
}

/* ---- sending ---- */

static sea_future send_done(struct sea__http_conn **cp, sea_future *in) {
    struct sea__http_conn *c = *cp;
    sea_semaphore_signal(&c->wsem, 1);
    if (sea_future_failed(in)) {
        c->send_failed = true;
        c->closing = true;
    }
    return sea_future_move(in);
}

struct send_args {
    struct sea__http_conn *c;
    const void *data;
    size_t len;
    int fd;        /* sendfile from this file at pos, instead of data */
    uint64_t pos;
};

static sea_future send_now(struct sea__http_conn *c, const struct send_args *a) {
    set_deadline(c, P_SEND, c->cfg->opts.io_timeout);
    sea_future f = transport_send(c, a->data, a->len, a->fd, a->pos);
    if (sea_future_available(&f) && !sea_future_failed(&f)) {
        sea_semaphore_signal(&c->wsem, 1);
        return f;
    }
    return sea_then_wrapped(f, send_done, c);
}

static sea_future send_turn(struct send_args *a, sea_value v) {
    (void)v;
    return send_now(a->c, a);
}

static sea_future send_in_turn(const struct send_args *a) {
    if (sea_semaphore_try_wait(&a->c->wsem, 1))
        return send_now(a->c, a);
    return sea_then(sea_semaphore_wait(&a->c->wsem, 1), send_turn, *a);
}

/*
 * Sends len bytes at data (valid until the future resolves) after the sends
 * asked for before it, within the I/O timeout; a failure ends the
 * connection.  Sends can be asked for from the connection's fiber, a
 * handler's response stream and its request body's 100 Continue at once.
 */
static sea_future conn_send(struct sea__http_conn *c, const void *data, size_t len) {
    return send_in_turn(&(struct send_args){c, data, len, -1, 0});
}

struct flushed {
    struct sea__http_conn *c;
    char *buf;
    size_t cap;
};

static sea_future out_sent(struct flushed *f, sea_future *in) {
    struct sea__http_conn *c = f->c;
    if (!c->spare) {
        c->spare = f->buf;
        c->spare_cap = f->cap;
    } else {
        free(f->buf);
    }
    if (!sea_future_failed(in))
        c->deadline = 0;
    return sea_future_move(in);
}

/*
 * Sends the output buffer.  The buffer goes with the send, and the spare one
 * takes its place, so that answers can be added while it is in flight.
 */
static sea_future flush_out(struct sea__http_conn *c) {
    if (!c->out_len)
        return sea_ready();
    struct flushed f = {c, c->out, c->out_cap};
    size_t n = c->out_len;
    c->out = c->spare;
    c->out_cap = c->spare_cap;
    c->out_len = 0;
    c->spare = NULL;
    c->spare_cap = 0;
    sea_future sent = conn_send(c, f.buf, n);
    if (sea_future_available(&sent) && !sea_future_failed(&sent)) {
        sea_future_ignore(sent);
        sea_future r = sea_ready();
        return out_sent(&f, &r);
    }
    return sea_then_wrapped(sent, out_sent, f);
}

/* ---- the request body ---- */

struct get_args {
    struct sea__http_conn *c;
    sea_buf *out;
};

static sea_future body_step(struct sea__http_conn *c, sea_buf *out);

static sea_future body_fail(struct sea__http_conn *c, int status, int err, const char *why) {
    c->body_status = status;
    c->body_err = err;
    c->body_why = why;
    c->closing = true;
    return sea_failed_fmt(err, "reading the request body: %s", why);
}

static sea_future body_read_done(struct get_args *a, sea_future *in) {
    struct sea__http_conn *c = a->c;
    int err = sea_future_error(in);
    c->deadline = 0;
    if (err)
        return body_fail(c, 400, err, "the connection failed");
    size_t n = sea_future_value(in).size;
    if (n == 0) {
        if (c->expired)
            return body_fail(c, 408, -ETIMEDOUT, "the client sent nothing for too long");
        return body_fail(c, 400, -EPROTO, "the client closed the connection before the end of the body");
    }
    c->len += n;
    return body_step(c, a->out);
}

static sea_future continue_sent(struct get_args *a, sea_value v) {
    (void)v;
    return body_step(a->c, a->out);
}

static sea_future body_step(struct sea__http_conn *c, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    for (;;) {
        if (c->body_status)
            return sea_failed_fmt(c->body_err, "reading the request body: %s", c->body_why);
        if (c->body_done)
            return sea_ready_size(0);
        if (c->rpos < c->len) {
            const char *data = c->in + c->rpos;
            size_t n = c->len - c->rpos;
            if (c->body_chunked) {
                long used = sea__http_chunked_feed(&c->chunk, c->in + c->rpos, c->len - c->rpos,
                                                   c->cfg->lim.max_head, &data, &n);
                if (used < 0)
                    return body_fail(c, 400, -EPROTO, c->chunk.error);
                c->rpos += (size_t)used;
                if (sea__http_chunked_done(&c->chunk))
                    c->body_done = true;
                if (n == 0)
                    continue;
                if (c->body_total + n > c->cfg->opts.max_body)
                    return body_fail(c, 413, -EMSGSIZE, "the body is larger than the server takes");
            } else {
                if (n > c->body_left)
                    n = (size_t)c->body_left;
                c->rpos += n;
                c->body_left -= n;
                if (c->body_left == 0)
                    c->body_done = true;
            }
            c->body_total += n;
            if (sea_buf_copy(out, data, n) < 0)
                return body_fail(c, 500, -ENOMEM, "no memory for the body");
            return sea_ready_size(n);
        }
        /* Nothing left in the buffer: read more into the room after the head. */
        if (c->head.expect_continue && !c->continue_sent && c->resp.head_sent)
            c->continue_sent = true; /* the final answer is on its way: too late for a 100 (RFC 9110 10.1.1) */
        if (c->head.expect_continue && !c->continue_sent) {
            c->continue_sent = true;
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (sea__http_append(&c->out, &c->out_len, &c->out_cap, cont, sizeof(cont) - 1) < 0)
                return body_fail(c, 500, -ENOMEM, "no memory");
            return sea_then(flush_out(c), continue_sent, (struct get_args){c, out});
        }
        c->rpos = c->len = c->start + c->head_len;
        set_deadline(c, P_BODY, c->cfg->opts.io_timeout);
        return sea_then_wrapped(conn_read(c, c->in + c->len, c->cap - c->len), body_read_done,
                                (struct get_args){c, out});
    }
}

static sea_future body_get(sea_data_source *src, sea_buf *out) {
    return body_step(((struct body_source *)src)->c, out);
}

static void body_release(sea_data_source *src) {
    ((struct body_source *)src)->c->body_in = NULL;
}

static const sea_data_source_ops body_ops = {body_get, body_release};

sea_input_stream *sea__http_conn_body(struct sea__http_conn *c) {
    if (!c->body_in) {
        c->src = (struct body_source){{&body_ops}, c};
        c->body_in = sea_input_stream_from(&c->src.base);
    }
    return c->body_in;
}

bool sea__http_body_done(const struct sea__http_conn *c) {
    return c->body_done;
}

uint64_t sea__http_conn_max_body(const struct sea__http_conn *c) {
    return c->cfg->opts.max_body;
}

/* ---- a streamed response body ---- */

struct put_args {
    struct sea__http_conn *c;
    const void *data;
    size_t len;
};

static int stream_head(struct sea__http_conn *c) {
    sea_http_response *r = &c->resp;
    if (r->head_sent)
        return 0;
    r->head_sent = true;
    return sea__http_response_head(r, c->cfg, c->req.version, r->stream_len, &c->out, &c->out_len, &c->out_cap);
}

static bool chunked_out(const struct sea__http_conn *c) {
    return c->resp.stream_len < 0 && c->req.version == 11;
}

static sea_future put_done(struct put_args *a, sea_value v) {
    (void)v;
    if (chunked_out(a->c) && sea__http_append(&a->c->out, &a->c->out_len, &a->c->out_cap, "\r\n", 2) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    return sea_ready_size(a->len);
}

static sea_future put_data(struct put_args *a, sea_value v) {
    (void)v;
    return sea_then(conn_send(a->c, a->data, a->len), put_done, *a);
}

static sea_future put_copied(size_t *len, sea_value v) {
    (void)v;
    return sea_ready_size(*len);
}

static sea_future sink_put(sea_data_sink *sink, const void *data, size_t len) {
    struct sea__http_conn *c = ((struct body_sink *)sink)->c;
    sea_http_response *r = &c->resp;
    if (r->stream_len >= 0 && r->body_sent + len > (uint64_t)r->stream_len)
        return sea_failed_fmt(-EMSGSIZE, "the response body is longer than the %lld bytes announced",
                              (long long)r->stream_len);
    r->body_sent += len;
    if (r->head_only || len == 0)
        return sea_ready_size(len);
    if (stream_head(c) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    if (chunked_out(c)) {
        char line[24];
        int n = snprintf(line, sizeof(line), "%zx\r\n", len);
        if (sea__http_append(&c->out, &c->out_len, &c->out_cap, line, (size_t)n) < 0)
            return sea_failed(-ENOMEM, "no memory for a response");
    }
    if (len < BODY_NO_COPY) {
        if (sea__http_append(&c->out, &c->out_len, &c->out_cap, data, len) < 0 ||
            (chunked_out(c) && sea__http_append(&c->out, &c->out_len, &c->out_cap, "\r\n", 2) < 0))
            return sea_failed(-ENOMEM, "no memory for a response");
        if (c->out_len < OUT_FLUSH)
            return sea_ready_size(len);
        return sea_then(flush_out(c), put_copied, len);
    }
    return sea_then(flush_out(c), put_data, (struct put_args){c, data, len});
}

static sea_future sink_end(sea_data_sink *sink) {
    struct sea__http_conn *c = ((struct body_sink *)sink)->c;
    sea_http_response *r = &c->resp;
    c->sink_ended = true;
    if (!r->head_only && r->stream_len >= 0 && r->body_sent < (uint64_t)r->stream_len) {
        /* Fewer bytes than announced: the client can only tell from the connection closing. */
        c->closing = true;
        sea_log_warn(&sea__http_log, "%s %s: the response body ended after %llu of the %lld bytes announced",
                     c->req.method, c->req.target, (unsigned long long)r->body_sent, (long long)r->stream_len);
    }
    if (r->head_only && r->stream_len < 0)
        r->stream_len = (int64_t)r->body_sent; /* HEAD: the length the body would have had */
    if (stream_head(c) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    if (chunked_out(c) && !r->head_only) {
        if (sea__http_append(&c->out, &c->out_len, &c->out_cap, "0\r\n", 3) < 0 ||
            sea__http_append(&c->out, &c->out_len, &c->out_cap, r->trailers, r->trailers_len) < 0 ||
            sea__http_append(&c->out, &c->out_len, &c->out_cap, "\r\n", 2) < 0)
            return sea_failed(-ENOMEM, "no memory for a response");
    }
    if (r->stream_len < 0 && c->req.version == 10)
        c->closing = true; /* the body ends where the connection does */
    return flush_out(c);
}

static sea_future file_piece_turn(struct send_args *a, sea_value v) {
    (void)v;
    return send_in_turn(a);
}

/* Lets a corked connection's last partial segment go (at the end of each answer). */
static void uncork(struct sea__http_conn *c) {
    if (c->corked) {
        int off = 0;
        setsockopt(sea_socket_fd(c->s), IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
        c->corked = false;
    }
}

sea_future sea__http_response_send_file(sea_http_response *r, int fd, uint64_t pos, size_t len) {
    if (r->h2)
        return sea__h2_send_file(r, fd, pos, len);
    struct sea__http_conn *c = r->conn;
    if (!r->streaming || r->stream_len < 0)
        return sea_failed(-EINVAL, "sending a file needs a response stream of known length");
    if (r->body_sent + len > (uint64_t)r->stream_len)
        return sea_failed_fmt(-EMSGSIZE, "the response body is longer than the %lld bytes announced",
                              (long long)r->stream_len);
    r->body_sent += len;
    if (r->head_only || len == 0)
        return sea_ready_size(len);
    if (!r->head_sent && !c->corked && !c->tls) {
        /*
         * Cork until the answer's end (uncork_after), as nginx's tcp_nopush does: the head and the
         * file's pages then leave in full segments instead of the head alone in a small one.
         */
        int on = 1;
        c->corked = setsockopt(sea_socket_fd(c->s), IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0;
    }
    if (stream_head(c) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    return sea_then(flush_out(c), file_piece_turn, (struct send_args){c, NULL, len, fd, pos});
}

static void sink_release(sea_data_sink *sink) {
    (void)sink;
}

static const sea_data_sink_ops sink_ops = {.put = sink_put, .end = sink_end, .release = sink_release};

/* HEAD: a stream of unknown length is counted to its end, and that length announced. */
sea_output_stream *sea_http_response_stream(sea_http_response *resp, int64_t length) {
    if (resp->h2)
        return sea__h2_response_stream(resp, length);
    if (resp->streaming) {
        errno = EALREADY;
        return NULL;
    }
    resp->streaming = true;
    resp->stream_len = length < 0 ? -1 : length;
    struct sea__http_conn *c = resp->conn;
    c->sink = (struct body_sink){{&sink_ops}, c};
    c->sink_ended = false;
    resp->stream = sea_output_stream_to(&c->sink.base, 64 * 1024);
    if (!resp->stream) {
        resp->streaming = false;
        errno = ENOMEM;
    }
    return resp->stream;
}


/* ---- requests ---- */

const char *sea__http_conn_param(const struct sea__http_conn *c, const char *name) {
    for (unsigned i = 0; i < c->params.count; i++)
        if (strcmp(c->params.name[i], name) == 0)
            return c->params.value[i];
    return NULL;
}

sea_addr sea__http_conn_peer(const struct sea__http_conn *c) {
    return sea_socket_peer(c->s);
}

const sea_tls *sea__http_conn_tls(const struct sea__http_conn *c) {
    return c->tls;
}

/* Puts the response (not streamed) into the output buffer; large bodies go out from their own memory. */
static sea_future queue_response(struct sea__http_conn *c) {
    sea_http_response *r = &c->resp;
    size_t body_len = r->body_len + r->body_buf.len;
    bool no_body = r->status < 200 || r->status == 204 || r->status == 304;
    if (no_body)
        body_len = 0;
    if (sea__http_response_head(r, c->cfg, c->req.version ? c->req.version : 11, (int64_t)body_len, &c->out,
                                &c->out_len, &c->out_cap) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    if (r->head_only || no_body)
        return sea_ready();
    if (sea__http_append(&c->out, &c->out_len, &c->out_cap, r->body, r->body_len) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    if (r->body_buf.len < BODY_NO_COPY)
        return sea__http_append(&c->out, &c->out_len, &c->out_cap, r->body_buf.data, r->body_buf.len) < 0
                   ? sea_failed(-ENOMEM, "no memory for a response")
                   : sea_ready();
    SEA_AWAIT(flush_out(c));
    SEA_AWAIT(conn_send(c, r->body_buf.data, r->body_buf.len));
    return sea_ready();
}

/* An answer the server gives itself (a refused request, no route, a failed handler). */
static void answer_error(struct sea__http_conn *c, int status, const char *why, const char *allow) {
    sea_http_response *r = &c->resp;
    bool close = r->close;
    sea__http_response_reset(r, c);
    r->close = close;
    r->head_only = c->req.method && strcmp(c->req.method, "HEAD") == 0;
    sea_http_response_error(r, status, why);
    if (allow)
        sea_http_response_add_header(r, "Allow", allow);
}

/*
 * While a hook or handler waits, the answers to earlier pipelined requests
 * need not wait with it: send them (unless the handler streams its answer:
 * the stream sends them first anyway).
 */
static bool may_flush(const struct sea__http_conn *c) {
    return c->out_len && !c->resp.streaming;
}

/* Runs the hooks and the handler; a failure is the caller's to answer. */
static sea_future dispatch(struct sea__http_conn *c, const struct sea__http_match *m) {
    sea_http_hook hook;
    void *data;
    unsigned i = 0;
    while (sea__http_next_hook(c->cfg->routes, c->req.path, &i, &hook, &data)) {
        sea_future f = hook(&c->req, &c->resp, data);
        if (!sea_future_available(&f) && may_flush(c)) {
            sea_future_ignore(sea_await(flush_out(c))); /* a failed send shows again later */
            no_deadline(c);
        }
        if (SEA_AWAIT(f).i == SEA_HTTP_DONE)
            return sea_ready();
    }
    sea_future f = m->handler(&c->req, &c->resp, m->data);
    if (!sea_future_available(&f) && may_flush(c)) {
        sea_future_ignore(sea_await(flush_out(c))); /* a failed send shows again later */
        no_deadline(c);
    }
    SEA_AWAIT(f);
    return sea_ready();
}

static void count_status(struct sea__http_conn *c, int status) {
    int k = status / 100;
    if (k >= 1 && k <= 5)
        c->stats->responses[k]++;
}

static void log_done(struct sea__http_conn *c, sea_time began) {
    void *data;
    sea_http_done_fn fn = sea__http_routes_done(c->cfg->routes, &data);
    if (fn) {
        uint64_t bytes = c->resp.streaming ? c->resp.body_sent : c->resp.body_len + c->resp.body_buf.len;
        fn(&c->req, c->resp.status, c->resp.head_only ? 0 : bytes, sea_now() - began, data);
    }
}

/* Serves the complete head at c->in + c->start; false when the connection must end after it. */
static sea_future serve_request(struct sea__http_conn *c) {
    const struct sea__http_cfg *cfg = c->cfg;
    void *done_data;
    sea_time began = sea__http_routes_done(cfg->routes, &done_data) ? sea_now() : 0; /* only if someone asks */
    sea_http_request *req = &c->req;
    memset(req, 0, sizeof(*req));
    req->sea__conn = c;
    sea__http_response_reset(&c->resp, c);
    no_deadline(c);
    c->requests++;
    c->stats->requests++;
    c->body_done = true;
    c->body_status = 0;
    c->rpos = c->start + c->head_len;
    int status = sea__http_head_parse(c->in + c->start, c->head_len, &cfg->lim, c->headers, c->path_buf, &c->head);
    if (status) {
        c->stats->bad_requests++;
        c->resp.close = true;
        req->method = "";
        req->target = req->path = req->query = "";
        answer_error(c, status, c->head.error, NULL);
        req->method = NULL;
        SEA_AWAIT(queue_response(c));
        count_status(c, status);
        c->closing = true;
        return sea_ready();
    }
    struct sea__http_head *h = &c->head;
    *req = (sea_http_request){
        .method = h->method,
        .target = h->target,
        .path = h->path,
        .query = h->query,
        .version = h->version,
        .headers = h->headers,
        .header_count = h->header_count,
        .content_length = h->content_length,
        .keep_alive = h->keep_alive,
        .expect_continue = h->expect_continue,
        .sea__conn = c,
    };
    sea_http_response *r = &c->resp;
    r->head_only = strcmp(h->method, "HEAD") == 0;
    r->close = !h->keep_alive || (cfg->opts.max_requests && c->requests >= cfg->opts.max_requests);
    c->body_chunked = h->chunked;
    c->body_left = h->content_length > 0 ? (uint64_t)h->content_length : 0;
    c->body_total = 0;
    c->body_done = !h->chunked && h->content_length == 0;
    c->continue_sent = false;
    memset(&c->chunk, 0, sizeof(c->chunk));

    struct sea__http_match m;
    if (!h->chunked && (uint64_t)h->content_length > cfg->opts.max_body) {
        r->close = true;
        answer_error(c, 413, "the body is larger than the server takes", NULL);
    } else {
        sea__http_routes_match(cfg->routes, h->method, h->path, c->scratch, &c->params, &m);
        if (!m.handler) {
            answer_error(c, m.status, m.status == 404 ? "no such resource" : "the resource does not take this method",
                         m.status == 405 ? m.allow : NULL);
        } else {
            sea_future f = sea_await(dispatch(c, &m));
            sea_output_stream *stream = r->stream; /* answer_error forgets it: freed below */
            if (sea_future_failed(&f)) {
                int err = sea_future_error(&f);
                /* A body over a limit (the server's, or the handler's own in read_body) is the client's doing. */
                bool too_large = c->body_status == 413 || (!c->body_status && err == -EMSGSIZE && !r->streaming);
                if (c->send_failed) {
                    /* The client went away while the answer was going out: its doing, not the handler's. */
                    sea_log_debug(&sea__http_log, "%s %s: the client left during the answer (%s)", h->method,
                                  h->target, strerror(-err));
                } else if (!c->body_status && !too_large) {
                    c->stats->handler_errors++;
                    sea_log_error(&sea__http_log, "%s %s: the handler failed: %s (%s)", h->method, h->target,
                                  sea_future_message(&f) ? sea_future_message(&f) : "no message", strerror(-err));
                }
                if (r->head_sent || c->send_failed) {
                    c->closing = true; /* too late to say so: the connection's end tells the client */
                } else if (too_large) {
                    r->close = true;
                    answer_error(c, 413, "the body is larger than the server takes", NULL);
                } else if (c->body_status) {
                    r->close = true;
                    answer_error(c, c->body_status, c->body_why, NULL);
                } else {
                    answer_error(c, 500, "the handler failed", NULL);
                }
            } else if (r->streaming && !c->sink_ended) {
                sea_log_error(&sea__http_log, "%s %s: the handler did not close its response stream", h->method,
                              h->target);
                if (r->head_sent)
                    c->closing = true;
                else
                    answer_error(c, 500, "the handler did not finish its response", NULL);
            }
            sea_future_ignore(f);
            sea_output_stream_free(stream);
            r->stream = NULL;
        }
    }
    /* An unread body: drop it after the answer if it is short, else end the connection. */
    if (!c->body_done && !c->closing) {
        if ((h->expect_continue && !c->continue_sent) || c->body_chunked || c->body_left > DISCARD_MAX)
            r->close = true;
    }
    if (r->close)
        c->closing = true;
    if (!r->streaming)
        SEA_AWAIT(queue_response(c));
    uncork(c);
    count_status(c, r->status);
    log_done(c, began);
    if (c->body_in) {
        sea_input_stream_free(c->body_in);
        c->body_in = NULL;
    }
    if (!c->closing) {
        while (!c->body_done) {
            sea_buf b;
            SEA_AWAIT(body_step(c, &b));
            sea_buf_release(&b);
        }
    }
    return sea_ready();
}

/* Makes sure the buffer has room after a head of head_len at start: moves it to the front, or grows. */
static int room_for_body(struct sea__http_conn *c) {
    if (c->cap - (c->start + c->head_len) >= BODY_ROOM)
        return 0;
    if (c->start) {
        memmove(c->in, c->in + c->start, c->len - c->start);
        c->len -= c->start;
        c->start = 0;
        if (c->cap - c->head_len >= BODY_ROOM)
            return 0;
    }
    size_t cap = c->cap * 2;
    while (cap - c->head_len < BODY_ROOM)
        cap *= 2;
    char *in = realloc(c->in, cap);
    if (!in)
        return -ENOMEM;
    c->in = in;
    c->cap = cap;
    return 0;
}

/* Reads more of a head; false when the connection ends. */
static sea_future read_more(struct sea__http_conn *c) {
    if (c->start == c->len) {
        c->start = c->len = 0;
    } else if (c->start && c->len == c->cap) {
        memmove(c->in, c->in + c->start, c->len - c->start);
        c->len -= c->start;
        c->start = 0;
    }
    if (c->len == c->cap) {
        char *in = realloc(c->in, c->cap * 2);
        if (!in)
            return sea_failed(-ENOMEM, "no memory for a request's head");
        c->in = in;
        c->cap *= 2;
    }
    bool partial = c->len > c->start;
    if (!partial)
        set_deadline(c, P_IDLE, c->cfg->opts.idle_timeout);
    else if (c->phase != P_HEAD)
        set_deadline(c, P_HEAD, c->cfg->opts.header_timeout);
    size_t n = SEA_AWAIT(conn_read(c, c->in + c->len, c->cap - c->len)).size;
    if (n == 0) {
        if (c->expired) {
            c->stats->timeouts++;
            if (partial) {
                c->req.method = NULL;
                c->resp.close = true;
                answer_error(c, 408, "the request's head took too long", NULL);
                SEA_AWAIT(queue_response(c));
                count_status(c, 408);
            }
        }
        return sea_ready_int(0);
    }
    c->len += n;
    return sea_ready_int(1);
}

/*
 * Whether the connection's first bytes are HTTP/2's preface (prior
 * knowledge): 1 yes, 0 no (HTTP/1.x), -1 not known until more bytes come.
 */
static int h2_preface(struct sea__http_conn *c) {
    size_t n = c->len - c->start;
    if (n > SEA__H2_PREFACE_LEN)
        n = SEA__H2_PREFACE_LEN;
    if (c->cfg->opts.no_http2 || c->start || memcmp(c->in, SEA__H2_PREFACE, n) != 0) {
        c->h1 = true;
        return 0;
    }
    return n == SEA__H2_PREFACE_LEN ? 1 : -1;
}

static sea_future serve(struct sea__http_conn *c) {
    const struct sea__http_cfg *cfg = c->cfg;
    for (;;) {
        /* Only the connection's first bytes can be HTTP/2's preface: once known, it costs one test. */
        int h2 = c->h1 ? 0 : h2_preface(c);
        if (h2 > 0) {
            c->deadline = 0; /* the HTTP/2 code keeps its own timer */
            sea_future r = sea_await(sea__h2_run(c->s, NULL, NULL, NULL, cfg, c->stats, c->in, c->len));
            if (!sea_future_failed(&r) && sea_future_value(&r).i == 0)
                c->send_failed = true;
            c->closing = true;
            return r;
        }
        if (h2 < 0) {
            SEA_AWAIT(flush_out(c));
            if (SEA_AWAIT(read_more(c)).i == 0)
                return flush_out(c);
            continue;
        }
        long n = sea__http_head_find(c->in + c->start, c->len - c->start, &cfg->lim, &c->scan);
        if (n == 0) {
            SEA_AWAIT(flush_out(c));
            if (c->closing)
                return sea_ready();
            if (SEA_AWAIT(read_more(c)).i == 0)
                return flush_out(c);
            continue;
        }
        if (n < 0) {
            c->stats->bad_requests++;
            c->req.method = NULL;
            c->resp.close = true;
            int status = (int)-n;
            answer_error(c, status, status == 414 ? "the request line is too long" : "the request's head is too large",
                         NULL);
            SEA_AWAIT(queue_response(c));
            count_status(c, status);
            return flush_out(c);
        }
        c->head_len = (size_t)n;
        if (room_for_body(c) < 0)
            return sea_failed(-ENOMEM, "no memory for a request");
        if (c->path_cap < c->head_len + 1) {
            size_t cap = c->head_len + 1 < 256 ? 256 : c->head_len + 1;
            char *p = realloc(c->path_buf, 2 * cap);
            if (!p)
                return sea_failed(-ENOMEM, "no memory for a request");
            c->path_buf = p;
            c->scratch = p + cap;
            c->path_cap = cap;
        }
        SEA_AWAIT(serve_request(c));
        if (c->closing)
            return flush_out(c);
        c->start = c->rpos;
        c->scan = (struct sea__http_scan){0};
        if (c->out_len >= OUT_FLUSH)
            SEA_AWAIT(flush_out(c));
        /* A large head or body grew the buffer: give the memory back once it is empty. */
        if (c->start == c->len && c->cap > IN_FIRST) {
            char *in = malloc(IN_FIRST);
            if (in) {
                free(c->in);
                c->in = in;
                c->cap = IN_FIRST;
                c->start = c->len = 0;
            }
        }
    }
}

sea_future sea__http_conn_run(sea_socket *s, const struct sea__http_cfg *cfg, sea_http_stats *stats) {
    struct sea__http_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return sea_failed(-ENOMEM, "no memory for an HTTP connection");
    c->s = s;
    c->cfg = cfg;
    c->stats = stats;
    c->in = malloc(IN_FIRST);
    c->cap = IN_FIRST;
    c->headers = malloc(cfg->lim.max_headers * sizeof(*c->headers));
    if (!c->in || !c->headers) {
        free(c->in);
        free(c->headers);
        free(c);
        return sea_failed(-ENOMEM, "no memory for an HTTP connection");
    }
    sea_timer_init(&c->timer, conn_timer, c);
    sea_semaphore_init(&c->wsem, 1);
    sea_future f = sea_ready();
    if (cfg->opts.tls) {
        /* HTTPS: the handshake first, within the head's timeout; a client that fails it is gone. */
        sea_future h = sea_await(sea_tls_accept(cfg->opts.tls, s, cfg->opts.header_timeout));
        if (sea_future_failed(&h)) {
            stats->tls_failures++;
            sea_log_debug(&sea__http_log, "a TLS handshake failed: %s",
                          sea_future_message(&h) ? sea_future_message(&h) : strerror(-sea_future_error(&h)));
            sea_future_ignore(h);
            c->closing = true;
        } else {
            c->tls = sea_future_value(&h).ptr;
            c->tin = sea_tls_input(c->tls);
            c->tout = sea_tls_output(c->tls, 0);
            if (!c->tin || !c->tout)
                f = sea_failed(-ENOMEM, "no memory for a TLS connection's streams");
        }
    }
    const char *alpn = c->tls ? sea_tls_alpn(c->tls) : NULL;
    if (!c->closing && !sea_future_failed(&f) && alpn && strcmp(alpn, "h2") == 0) {
        /* ALPN chose HTTP/2: the client's first bytes are its preface, read by the HTTP/2 code. */
        sea_future_ignore(f);
        if (cfg->opts.no_http2) {
            sea_log_debug(&sea__http_log, "a client chose h2 by ALPN on a server without HTTP/2: closed");
            f = sea_ready();
        } else {
            c->deadline = 0;
            f = sea_await(sea__h2_run(s, c->tls, c->tin, c->tout, cfg, stats, NULL, 0));
            if (!sea_future_failed(&f) && sea_future_value(&f).i == 0)
                c->send_failed = true; /* no close_notify on a broken connection */
        }
        c->closing = true;
    }
    if (!c->closing && !sea_future_failed(&f)) {
        sea_future_ignore(f);
        f = sea_await(serve(c));
    }
    if (c->tls) {
        if (c->tout && !c->send_failed && !c->expired) {
            set_deadline(c, P_SEND, cfg->opts.io_timeout);
            sea_future_ignore(sea_await(sea_output_close(c->tout))); /* close_notify */
        }
        sea_output_stream_free(c->tout);
        sea_input_stream_free(c->tin);
        sea_tls_free(c->tls);
    }
    sea_timer_cancel(&c->timer);
    if (c->body_in)
        sea_input_stream_free(c->body_in);
    sea__http_response_free(&c->resp);
    sea_semaphore_destroy(&c->wsem);
    free(c->in);
    free(c->out);
    free(c->spare);
    free(c->headers);
    free(c->path_buf);
    free(c);
    /* A connection that broke (reset, a failed send) is the client's doing, not a server error. */
    if (sea_future_failed(&f)) {
        int err = sea_future_error(&f);
        if (err == -ENOMEM)
            return f;
        sea_future_ignore(f);
    }
    return sea_ready();
}
