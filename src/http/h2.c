/*
 * h2.c - one HTTP/2 connection (RFC 9113): its streams become requests and
 * responses served by the same routes, hooks and handlers as HTTP/1.1.
 *
 * libnghttp2 does the protocol: framing, HPACK, stream states, flow
 * control, and the checks of what a client sends.  This file feeds it the
 * bytes read (nghttp2_session_mem_recv) and writes what it produces
 * (nghttp2_session_mem_send), and turns its callbacks into sea's objects:
 *
 * - The connection's fiber (the server's) reads and feeds nghttp2.  A
 *   writer fiber sends: woken when anything may have produced output, it
 *   collects all of it into one buffer and writes it at once, so the
 *   answers made during one loop turn leave in one write.
 * - Each stream, once its head is complete, runs in a fiber of its own
 *   (the routes, hooks and handler, then the answer), inside a gate the
 *   connection closes at its end; at most max_streams streams live at
 *   once, counting those the client reset while their handler still runs
 *   (so that resetting streams cannot start handlers without bound: the
 *   "rapid reset" attack, CVE-2023-44487; nghttp2 also limits the rate of
 *   resets and then sends GOAWAY).
 * - A request body is a data source fed by DATA frames.  nghttp2 does not
 *   reopen the client's window by itself: the bytes count as consumed
 *   (nghttp2_session_consume) only when the handler reads them, so a
 *   stream holds at most its window of unread body, and the connection at
 *   most the connection's window.
 * - A response body is in memory (sent through a data provider reading
 *   it) or streamed: the sink's put hands its bytes to the data provider
 *   and resolves only once nghttp2 has taken them into frames, which it
 *   does as the client's window allows; a stream that cannot go on returns
 *   NGHTTP2_ERR_DEFERRED and is resumed by the next put.  Files are read
 *   in pieces (pread from the page cache the files code filled): DATA
 *   frames cannot go out with sendfile.
 *
 * Limits: header lists over max_head are answered 431 (the decoded size is
 * counted as it arrives, so an HPACK "bomb", a small block that decodes to
 * much, costs no memory), more than 8 CONTINUATION frames for one block
 * end the connection (nghttp2_option_set_max_continuations), as do floods
 * of SETTINGS, PING or RST_STREAM frames.  Timeouts follow HTTP/1.1's:
 * header_timeout for the preface or a header block, from its first byte
 * to its end; idle_timeout with no stream open; io_timeout for a frame
 * begun and not going on, for a send, and for a stream's body read or a
 * response blocked on the client's window.
 */
#include "http/http.h"

#include <sea/condvar.h>
#include <sea/fiber.h>
#include <sea/gate.h>
#include <sea/log.h>
#include <sea/promise.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "base/list.h"

/* Bytes read from the connection at a time. */
#define READ_SIZE (16 * 1024)
/* The writer collects frames up to about this much before it writes them. */
#define WRITE_BATCH (128 * 1024)
/* A stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE) and the connection's: a bound on unread body bytes. */
#define STREAM_WINDOW (256 * 1024)
#define CONN_WINDOW (1024 * 1024)
/* A file is read into the stream this much at a time. */
#define FILE_PIECE (64 * 1024)
/* The output stream's batch for a streamed response body. */
#define STREAM_BATCH (64 * 1024)

struct h2;

struct h2_source {
    sea_data_source base;
    struct sea__h2_stream *st;
};

struct h2_sink {
    sea_data_sink base;
    struct sea__h2_stream *st;
};

enum { PS_METHOD, PS_PATH, PS_SCHEME, PS_AUTHORITY, PS_COUNT };

struct sea__h2_stream {
    struct sea__link link; /* in the connection's list */
    struct h2 *h;
    int32_t id;
    bool ng_open;          /* nghttp2 has not closed it yet */
    bool running;          /* its fiber has not finished */
    bool reset;            /* it closed before its answer was complete (the client reset it, the connection ended) */
    bool answered;         /* the frame with END_STREAM of its answer went out */
    bool submitted;        /* the answer's HEADERS are queued */
    bool out_end;          /* streaming: the handler closed the body */
    bool deferred;         /* the data provider waits for bytes: resume it when they come */
    bool body_done;        /* END_STREAM received: the request is complete */
    int refuse;            /* answer this status instead of running a handler (431, 400, 413) */
    const char *refuse_why;
    /* the head, as it arrives: "name\0value\0" pairs */
    char *hb;
    size_t hb_len, hb_cap;
    size_t head_bytes;     /* the decoded header list's size, as SETTINGS_MAX_HEADER_LIST_SIZE counts it */
    unsigned nfields;
    long pseudo[PS_COUNT]; /* offsets of the pseudo-headers' values in hb, or -1 */
    sea_http_header *fields;
    char *path_buf, *scratch;
    struct sea__http_params params;
    sea_http_request req;
    sea_http_response resp;
    /* the request body: bytes received and not yet read */
    char *ib;
    size_t ib_len, ib_cap;
    uint64_t body_total;
    int body_status;       /* reading it failed: the status to answer, and the error */
    int body_err;
    const char *body_why;
    bool body_waiting;
    sea_promise body_p;
    sea_buf *body_out;
    sea_time body_since;
    struct h2_source src;
    sea_input_stream *body_in;
    /* the response body */
    uint64_t out_off;      /* in memory: bytes handed to nghttp2 */
    const char *put_data;  /* streaming: the bytes of the pending put, from put_off */
    size_t put_len, put_off;
    bool put_waiting;
    sea_promise put_p;
    sea_time put_since;
    struct h2_sink sink;
};

struct h2 {
    sea_socket *s;
    sea_tls *tls;            /* or NULL */
    sea_input_stream *tin;   /* TLS, or NULL */
    sea_output_stream *tout;
    const struct sea__http_cfg *cfg;
    sea_http_stats *stats;
    nghttp2_session *ng;
    char *rbuf;
    char *wbuf;
    size_t wlen, wcap;
    struct sea__list streams;
    unsigned live;           /* streams in the list */
    sea_gate gate;           /* the streams' fibers */
    /* the writer */
    sea_condvar wake;
    bool flush;              /* something may have output: the writer looks */
    bool writing;
    bool done;               /* the writer ends once nothing is left to send */
    bool write_failed;
    bool reading_done;       /* no more input: streams waiting for the client fail */
    bool fatal;              /* an error of the client's ended the connection (GOAWAY with an error) */
    /* where the bytes received stand: the preface, a frame's header, its payload, a header block */
    size_t magic_left;
    uint8_t fh[9];
    unsigned fh_len;
    uint32_t payload_left;
    bool in_block;
    bool in_head;            /* the preface or a header block begun and not finished (since head_since) */
    bool mid_frame;          /* the last bytes read ended inside a frame */
    /* timeouts */
    sea_timer timer;
    bool expired;
    sea_time head_since, last_active, write_since;
};

static void kick(struct h2 *h) {
    if (!h->flush) {
        h->flush = true;
        sea_condvar_signal(&h->wake);
    }
}

/* ---- timeouts ---- */

/* Makes sure the timer fires by d (it works out what is due when it fires). */
static void due_by(struct h2 *h, sea_time d) {
    if (!sea_timer_armed(&h->timer) || sea_timer_expiry(&h->timer) > d)
        sea_timer_arm_at(&h->timer, d);
}

static void stream_fail_waits(struct sea__h2_stream *st, int err, const char *why);

static sea_time earlier(sea_time a, sea_time b) {
    return !a || (b && b < a) ? b : a;
}

/*
 * The timer: a send that does not finish ends everything; a frame or a
 * header block left unfinished, or a connection idle with no stream, ends
 * reading (the GOAWAY can still go out); a stream whose body read or whose
 * response waited too long for the client fails alone.
 */
static void h2_timer(sea_timer *t, void *arg) {
    struct h2 *h = arg;
    const sea_http_server_options *o = &h->cfg->opts;
    sea_time now = sea_lowres_now(), next = 0;
    if (h->writing) {
        if (now >= h->write_since + o->io_timeout) {
            h->expired = true;
            sea_socket_shutdown(h->s, SHUT_RDWR);
            return;
        }
        next = earlier(next, h->write_since + o->io_timeout);
    }
    if (!h->reading_done) {
        sea_time d = 0;
        if (h->in_head)
            d = h->head_since + o->header_timeout;
        if (h->mid_frame)
            d = earlier(d, h->last_active + o->io_timeout);
        if (!h->in_head && !h->mid_frame && !h->live && !h->writing)
            d = h->last_active + o->idle_timeout;
        if (d && now >= d) {
            h->expired = true;
            sea_socket_shutdown(h->s, SHUT_RD);
            return;
        }
        next = earlier(next, d);
    }
    sea__list_for_each(it, &h->streams) {
        struct sea__h2_stream *st = sea__list_entry(it, struct sea__h2_stream, link);
        if (st->body_waiting) {
            if (now >= st->body_since + o->io_timeout) {
                st->body_status = 408;
                st->body_err = -ETIMEDOUT;
                st->body_why = "the client sent nothing for too long";
                stream_fail_waits(st, -ETIMEDOUT, st->body_why);
            } else {
                next = earlier(next, st->body_since + o->io_timeout);
            }
        }
        if (st->put_waiting) {
            if (now >= st->put_since + o->io_timeout) {
                stream_fail_waits(st, -ETIMEDOUT, "the client took no response bytes for too long");
                if (st->ng_open)
                    nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
                kick(h);
            } else {
                next = earlier(next, st->put_since + o->io_timeout);
            }
        }
    }
    if (next)
        sea_timer_arm_at(t, next);
}

/* Follows the frames' boundaries in the bytes received, to tell a client that stopped in the middle of one. */
static void track(struct h2 *h, const uint8_t *p, size_t n) {
    while (n) {
        size_t k;
        if (h->magic_left) {
            k = n < h->magic_left ? n : h->magic_left;
            h->magic_left -= k;
        } else if (h->payload_left) {
            k = n < h->payload_left ? n : h->payload_left;
            h->payload_left -= (uint32_t)k;
        } else {
            k = 1;
            h->fh[h->fh_len++] = *p;
            if (h->fh_len == 9) {
                h->fh_len = 0;
                h->payload_left = (uint32_t)h->fh[0] << 16 | (uint32_t)h->fh[1] << 8 | h->fh[2];
                uint8_t type = h->fh[3], flags = h->fh[4];
                if (type == NGHTTP2_HEADERS || type == NGHTTP2_PUSH_PROMISE)
                    h->in_block = !(flags & NGHTTP2_FLAG_END_HEADERS);
                else if (type == NGHTTP2_CONTINUATION && (flags & NGHTTP2_FLAG_END_HEADERS))
                    h->in_block = false;
            }
        }
        p += k;
        n -= k;
    }
    /*
     * A head (the preface, a header block) must be complete within
     * header_timeout of its start, however it trickles in (slowloris); a
     * frame begun must go on within io_timeout (a large body may take long,
     * as long as it moves).
     */
    bool in_head = (h->magic_left && h->magic_left < SEA__H2_PREFACE_LEN) || h->in_block;
    if (in_head && !h->in_head)
        h->head_since = sea_lowres_now();
    h->in_head = in_head;
    h->mid_frame = h->fh_len || h->payload_left;
}

/* ---- streams ---- */

static void stream_free(struct sea__h2_stream *st) {
    struct h2 *h = st->h;
    sea__list_remove(&h->streams, &st->link);
    h->live--;
    if (!h->live && !h->done) {
        h->last_active = sea_lowres_now();
        due_by(h, h->last_active + h->cfg->opts.idle_timeout);
    }
    if (st->ib_len && h->ng)
        nghttp2_session_consume(h->ng, st->id, st->ib_len); /* unread bytes give the connection's window back */
    sea__http_response_free(&st->resp);
    free(st->ib);
    free(st->hb);
    free(st->fields);
    free(st->path_buf);
    free(st);
}

/* Frees the stream once both nghttp2 and its fiber are done with it. */
static void stream_maybe_free(struct sea__h2_stream *st) {
    if (!st->ng_open && !st->running)
        stream_free(st);
}

/* Fails whatever the stream's handler waits for: a body read, a put. */
static void stream_fail_waits(struct sea__h2_stream *st, int err, const char *why) {
    if (st->body_waiting) {
        st->body_waiting = false;
        sea_promise_set_error(&st->body_p, err, why);
    }
    if (st->put_waiting) {
        st->put_waiting = false;
        st->put_data = NULL;
        st->put_len = st->put_off = 0;
        sea_promise_set_error(&st->put_p, err, why);
    }
}

/*
 * The answer is complete but the client is still sending a body nobody
 * will read: tell it to stop (RST_STREAM with NO_ERROR, RFC 9113 8.1).
 */
static void maybe_stop_upload(struct sea__h2_stream *st) {
    if (!st->running && st->answered && !st->body_done && st->ng_open) {
        nghttp2_submit_rst_stream(st->h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
        kick(st->h);
    }
}

/* ---- the request body ---- */

static void body_wake(struct sea__h2_stream *st) {
    if (!st->body_waiting)
        return;
    st->body_waiting = false;
    if (st->body_status) {
        sea_promise_set_error(&st->body_p, st->body_err, st->body_why);
    } else if (st->ib_len) {
        size_t n = st->ib_len;
        if (sea_buf_wrap(st->body_out, st->ib, n, free, st->ib) < 0) {
            sea_promise_set_error(&st->body_p, -ENOMEM, "no memory for the request body");
            return;
        }
        st->ib = NULL;
        st->ib_len = st->ib_cap = 0;
        nghttp2_session_consume(st->h->ng, st->id, n);
        kick(st->h);
        sea_promise_set_value(&st->body_p, (sea_value){.size = n});
    } else {
        sea_promise_set_value(&st->body_p, (sea_value){.size = 0});
    }
}

static sea_future body_get(sea_data_source *src, sea_buf *out) {
    struct sea__h2_stream *st = ((struct h2_source *)src)->st;
    struct h2 *h = st->h;
    *out = SEA_BUF_EMPTY;
    if (st->body_status)
        return sea_failed_fmt(st->body_err, "reading the request body: %s", st->body_why);
    if (st->ib_len) {
        size_t n = st->ib_len;
        if (sea_buf_wrap(out, st->ib, n, free, st->ib) < 0)
            return sea_failed(-ENOMEM, "no memory for the request body");
        st->ib = NULL;
        st->ib_len = st->ib_cap = 0;
        /* Read: the client may send that much more. */
        nghttp2_session_consume(h->ng, st->id, n);
        kick(h);
        return sea_ready_size(n);
    }
    if (st->body_done)
        return sea_ready_size(0);
    if (h->reading_done || st->reset)
        return sea_failed(-ECONNRESET, "reading the request body: the client reset the stream or left");
    st->body_waiting = true;
    st->body_out = out;
    st->body_since = sea_lowres_now();
    due_by(h, st->body_since + h->cfg->opts.io_timeout);
    sea_promise_init(&st->body_p);
    return sea_promise_get_future(&st->body_p);
}

static void body_release(sea_data_source *src) {
    ((struct h2_source *)src)->st->body_in = NULL;
}

static const sea_data_source_ops body_ops = {body_get, body_release};

sea_input_stream *sea__h2_body(struct sea__h2_stream *st) {
    if (!st->body_in) {
        st->src = (struct h2_source){{&body_ops}, st};
        st->body_in = sea_input_stream_from(&st->src.base);
    }
    return st->body_in;
}

uint64_t sea__h2_max_body(const struct sea__h2_stream *st) {
    return st->h->cfg->opts.max_body;
}

const char *sea__h2_param(const struct sea__h2_stream *st, const char *name) {
    for (unsigned i = 0; i < st->params.count; i++)
        if (strcmp(st->params.name[i], name) == 0)
            return st->params.value[i];
    return NULL;
}

sea_addr sea__h2_peer(const struct sea__h2_stream *st) {
    return sea_socket_peer(st->h->s);
}

const sea_tls *sea__h2_tls(const struct sea__h2_stream *st) {
    return st->h->tls;
}

/* ---- the answer ---- */

/* Reads the body held in memory, or the bytes of the pending put, into DATA frames. */
static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user) {
    (void)id;
    (void)user;
    struct sea__h2_stream *st = source->ptr;
    sea_http_response *r = &st->resp;
    if (!r->streaming) {
        uint64_t total = r->body_len + r->body_buf.len;
        size_t n = 0;
        while (n < length && st->out_off < total) {
            size_t k;
            if (st->out_off < r->body_len) {
                k = r->body_len - (size_t)st->out_off;
                if (k > length - n)
                    k = length - n;
                memcpy(buf + n, r->body + st->out_off, k);
            } else {
                size_t off = (size_t)(st->out_off - r->body_len);
                k = r->body_buf.len - off;
                if (k > length - n)
                    k = length - n;
                memcpy(buf + n, (const char *)r->body_buf.data + off, k);
            }
            n += k;
            st->out_off += k;
        }
        if (st->out_off == total)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t)n;
    }
    if (st->put_off < st->put_len) {
        size_t k = st->put_len - st->put_off;
        if (k > length)
            k = length;
        memcpy(buf, st->put_data + st->put_off, k);
        st->put_off += k;
        if (st->put_off == st->put_len) {
            /* nghttp2 has all of it: the handler may reuse its bytes and write more. */
            size_t n = st->put_len;
            st->put_data = NULL;
            st->put_len = st->put_off = 0;
            if (st->put_waiting) {
                st->put_waiting = false;
                sea_promise_set_value(&st->put_p, (sea_value){.size = n});
            }
        }
        return (ssize_t)k;
    }
    if (st->out_end) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (r->trailers_len) {
            /* "Name: value\r\n" lines, made by add_trailer: sent as a HEADERS frame that ends the stream. */
            nghttp2_nv nva[64];
            char *names = malloc(r->trailers_len);
            size_t nv = 0;
            if (names) {
                memcpy(names, r->trailers, r->trailers_len);
                char *p = names, *end = names + r->trailers_len;
                while (p < end && nv < 64) {
                    char *colon = memchr(p, ':', (size_t)(end - p)), *eol = memchr(p, '\r', (size_t)(end - p));
                    if (!colon || !eol)
                        break;
                    for (char *c = p; c < colon; c++)
                        *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
                    nva[nv++] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)colon + 2, (size_t)(colon - p),
                                             (size_t)(eol - colon - 2), NGHTTP2_NV_FLAG_NONE};
                    p = eol + 2;
                }
                if (nv && nghttp2_submit_trailer(ng, st->id, nva, nv) == 0)
                    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                free(names);
            }
        }
        return 0;
    }
    st->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
}

/* Whether a header the handler added has no meaning in HTTP/2 (RFC 9113 8.2.2): it is left out. */
static bool connection_specific(const char *name, size_t n) {
    static const char *const names[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                        "upgrade"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
            return true;
    return false;
}

/* n in decimal into buf (room for 21 bytes), not NUL-terminated; returns the digits' count. */
static size_t decimal(char *buf, uint64_t n) {
    char tmp[21];
    size_t k = 0;
    do
        tmp[k++] = (char)('0' + n % 10);
    while ((n /= 10));
    for (size_t i = 0; i < k; i++)
        buf[i] = tmp[k - 1 - i];
    return k;
}

/* Header fields and their text up to this much are built on the stack (a typical answer's are). */
#define NVA_STACK 16
#define LINES_STACK 1024

/*
 * Submits the answer's HEADERS, with a body (through read_body) or
 * without.  body_len is the Content-Length to announce, or -1.  0, or
 * -ENOMEM; nothing is sent for a stream that is gone.
 */
static int submit_head(struct sea__h2_stream *st, int64_t body_len, bool with_body) {
    struct h2 *h = st->h;
    sea_http_response *r = &st->resp;
    st->submitted = true;
    r->head_sent = true;
    if (st->reset || !st->ng_open)
        return 0;
    /* "Name: value\r\n" lines in r->hdrs: copied, names lowercased. */
    size_t cap = 8;
    for (size_t i = 0; i < r->hdrs_len; i++)
        cap += r->hdrs[i] == '\n';
    nghttp2_nv nva_stack[NVA_STACK];
    char lines_stack[LINES_STACK];
    nghttp2_nv *nva = cap <= NVA_STACK ? nva_stack : malloc(cap * sizeof(*nva));
    char *lines = r->hdrs_len < LINES_STACK ? lines_stack : malloc(r->hdrs_len + 1);
    if (!nva || !lines) {
        if (nva != nva_stack)
            free(nva);
        if (lines != lines_stack)
            free(lines);
        return -ENOMEM;
    }
    size_t nv = 0;
    char status[24], length[24];
    size_t status_len = decimal(status, (uint64_t)r->status);
#define NV(n, nl, v, vl) (nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), (nl), (vl), NGHTTP2_NV_FLAG_NONE}
    nva[nv++] = NV(":status", 7, status, status_len);
    const char *server = h->cfg->server_line; /* "Server: sea\r\n" */
    if (*server)
        nva[nv++] = NV("server", 6, server + 8, strlen(server) - 10);
    const char *date = sea__http_date_line(); /* "Date: ...\r\n" */
    nva[nv++] = NV("date", 4, date + 6, strlen(date) - 8);
    if (r->hdrs_len)
        memcpy(lines, r->hdrs, r->hdrs_len);
    char *p = lines, *end = lines + r->hdrs_len;
    while (p < end && nv < cap - 3) {
        char *colon = memchr(p, ':', (size_t)(end - p)), *eol = memchr(p, '\r', (size_t)(end - p));
        if (!colon || !eol)
            break;
        for (char *c = p; c < colon; c++)
            *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        if (!connection_specific(p, (size_t)(colon - p)))
            nva[nv++] = NV(p, (size_t)(colon - p), colon + 2, (size_t)(eol - colon - 2));
        p = eol + 2;
    }
    if (body_len > 0 && !r->has_type)
        nva[nv++] = NV("content-type", 12, "application/octet-stream", 24);
    if (body_len >= 0)
        nva[nv++] = NV("content-length", 14, length, decimal(length, (uint64_t)body_len));
#undef NV
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = read_body};
    int rc = nghttp2_submit_response(h->ng, st->id, nva, nv, with_body ? &dp : NULL); /* (copies nva) */
    if (nva != nva_stack)
        free(nva);
    if (lines != lines_stack)
        free(lines);
    if (rc < 0) {
        sea_log_debug(&sea__http_log, "HTTP/2 stream %d: the answer cannot be sent: %s", st->id,
                      nghttp2_strerror(rc));
        return rc == NGHTTP2_ERR_NOMEM ? -ENOMEM : 0;
    }
    kick(h);
    return 0;
}

/* Submits an answer held in memory (not streamed). */
static int submit_final(struct sea__h2_stream *st) {
    sea_http_response *r = &st->resp;
    bool no_body = r->status < 200 || r->status == 204 || r->status == 304;
    size_t len = r->body_len + r->body_buf.len;
    st->out_off = 0;
    return submit_head(st, no_body ? -1 : (int64_t)len, !no_body && !r->head_only && len > 0);
}

/* The streamed body's sink: each put waits until nghttp2 has taken its bytes into frames. */
static sea_future sink_put(sea_data_sink *sink, const void *data, size_t len) {
    struct sea__h2_stream *st = ((struct h2_sink *)sink)->st;
    struct h2 *h = st->h;
    sea_http_response *r = &st->resp;
    if (r->stream_len >= 0 && r->body_sent + len > (uint64_t)r->stream_len)
        return sea_failed_fmt(-EMSGSIZE, "the response body is longer than the %lld bytes announced",
                              (long long)r->stream_len);
    if (st->reset || h->reading_done || !st->ng_open)
        return sea_failed(-ECONNRESET, "the client reset the stream or left");
    r->body_sent += len;
    if (r->head_only || len == 0)
        return sea_ready_size(len);
    if (!st->submitted && submit_head(st, r->stream_len, true) < 0)
        return sea_failed(-ENOMEM, "no memory for a response");
    st->put_data = data;
    st->put_len = len;
    st->put_off = 0;
    st->put_waiting = true;
    st->put_since = sea_lowres_now();
    due_by(h, st->put_since + h->cfg->opts.io_timeout);
    sea_promise_init(&st->put_p);
    sea_future f = sea_promise_get_future(&st->put_p);
    if (st->deferred) {
        st->deferred = false;
        nghttp2_session_resume_data(h->ng, st->id);
    }
    kick(h);
    return f;
}

static sea_future sink_end(sea_data_sink *sink) {
    struct sea__h2_stream *st = ((struct h2_sink *)sink)->st;
    struct h2 *h = st->h;
    sea_http_response *r = &st->resp;
    st->out_end = true;
    if (r->head_only && r->stream_len < 0)
        r->stream_len = (int64_t)r->body_sent; /* HEAD: the length the body would have had */
    bool short_body = !r->head_only && r->stream_len >= 0 && r->body_sent < (uint64_t)r->stream_len;
    if (short_body)
        sea_log_warn(&sea__http_log, "%s %s: the response body ended after %llu of the %lld bytes announced",
                     st->req.method, st->req.target, (unsigned long long)r->body_sent, (long long)r->stream_len);
    if (!st->submitted) {
        if (submit_head(st, r->stream_len, !r->head_only && !short_body) < 0)
            return sea_failed(-ENOMEM, "no memory for a response");
    }
    if (short_body) {
        /* Fewer bytes than announced: the client can only tell from the stream's reset. */
        if (st->ng_open && !st->reset)
            nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    } else if (st->deferred && st->ng_open) {
        st->deferred = false;
        nghttp2_session_resume_data(h->ng, st->id);
    }
    kick(h);
    return sea_ready();
}

static void sink_release(sea_data_sink *sink) {
    (void)sink;
}

static const sea_data_sink_ops sink_ops = {.put = sink_put, .end = sink_end, .release = sink_release};

sea_output_stream *sea__h2_response_stream(sea_http_response *resp, int64_t length) {
    if (resp->streaming) {
        errno = EALREADY;
        return NULL;
    }
    struct sea__h2_stream *st = resp->h2;
    resp->streaming = true;
    resp->stream_len = length < 0 ? -1 : length;
    st->sink = (struct h2_sink){{&sink_ops}, st};
    st->out_end = false;
    resp->stream = sea_output_stream_to(&st->sink.base, STREAM_BATCH);
    if (!resp->stream) {
        resp->streaming = false;
        errno = ENOMEM;
    }
    return resp->stream;
}

/*
 * A file's bytes into the stream: read from the page cache (files.c
 * brought them in) a piece at a time, each handed on as the client's
 * window allows.  Runs in the handler's fiber.
 */
sea_future sea__h2_send_file(sea_http_response *r, int fd, uint64_t pos, size_t len) {
    struct sea__h2_stream *st = r->h2;
    if (!r->streaming || r->stream_len < 0)
        return sea_failed(-EINVAL, "sending a file needs a response stream of known length");
    if (r->body_sent + len > (uint64_t)r->stream_len)
        return sea_failed_fmt(-EMSGSIZE, "the response body is longer than the %lld bytes announced",
                              (long long)r->stream_len);
    if (r->head_only || len == 0) {
        r->body_sent += len;
        return sea_ready_size(len);
    }
    char *buf = malloc(len < FILE_PIECE ? len : FILE_PIECE);
    if (!buf)
        return sea_failed(-ENOMEM, "no memory to send a file");
    sea_future f = sea_ready();
    size_t done = 0;
    while (done < len) {
        size_t k = len - done < FILE_PIECE ? len - done : FILE_PIECE;
        ssize_t n = pread(fd, buf, k, (off_t)(pos + done));
        sea_future_ignore(f);
        if (n != (ssize_t)k) {
            f = n < 0 ? sea_failed_fmt(-errno, "reading a file to send: %s", strerror(errno))
                      : sea_failed(-EIO, "the file ended before the bytes to send");
            break;
        }
        f = sea_await(sink_put(&st->sink.base, buf, k));
        if (sea_future_failed(&f))
            break;
        done += k;
    }
    free(buf);
    if (sea_future_failed(&f))
        return f;
    sea_future_ignore(f);
    return sea_ready_size(len);
}

/* ---- serving a stream ---- */

/* An answer the server gives itself: a refused request, no route, a failed handler. */
static void answer_error(struct sea__h2_stream *st, int status, const char *why, const char *allow) {
    sea_http_response *r = &st->resp;
    sea__http_response_reset(r, NULL);
    r->head_only = st->req.method && strcmp(st->req.method, "HEAD") == 0;
    sea_http_response_error(r, status, why);
    if (allow)
        sea_http_response_add_header(r, "Allow", allow);
}

static sea_future dispatch(struct sea__h2_stream *st, const struct sea__http_match *m) {
    sea_http_hook hook;
    void *data;
    unsigned i = 0;
    while (sea__http_next_hook(st->h->cfg->routes, st->req.path, &i, &hook, &data))
        if (SEA_AWAIT(hook(&st->req, &st->resp, data)).i == SEA_HTTP_DONE)
            return sea_ready();
    SEA_AWAIT(m->handler(&st->req, &st->resp, m->data));
    return sea_ready();
}

/* Makes the request from the head received: 0, or a status to refuse it with (st->refuse_why says why). */
static int make_request(struct sea__h2_stream *st) {
    const struct sea__http_cfg *cfg = st->h->cfg;
    if (st->refuse)
        return st->refuse;
    /* Every field, then Host from :authority when the client sent no Host (RFC 9113 8.3.1). */
    st->fields = malloc((st->nfields + 1) * sizeof(*st->fields));
    if (!st->fields) {
        st->refuse_why = "no memory for the request";
        return 500;
    }
    char *method = st->pseudo[PS_METHOD] >= 0 ? st->hb + st->pseudo[PS_METHOD] : NULL;
    char *target = st->pseudo[PS_PATH] >= 0 ? st->hb + st->pseudo[PS_PATH] : NULL;
    char *authority = st->pseudo[PS_AUTHORITY] >= 0 ? st->hb + st->pseudo[PS_AUTHORITY] : NULL;
    unsigned n = 0;
    bool host = false;
    int64_t length = st->body_done ? 0 : -1;
    for (size_t off = 0; off < st->hb_len;) {
        char *name = st->hb + off;
        size_t nl = strlen(name);
        char *value = name + nl + 1;
        off += nl + 1 + strlen(value) + 1;
        if (name[0] == ':')
            continue;
        st->fields[n++] = (sea_http_header){name, value};
        if (strcmp(name, "host") == 0)
            host = true;
        if (strcmp(name, "content-length") == 0) {
            uint64_t v;
            if (sea__http_length_parse(value, strlen(value), &v) < 0) {
                st->refuse_why = "malformed content-length";
                return 400;
            }
            length = (int64_t)v;
        }
    }
    if (!host && authority)
        st->fields[n++] = (sea_http_header){"host", authority};
    if (n > cfg->lim.max_headers) {
        st->refuse_why = "too many header fields";
        return 431;
    }
    if (!method || (!target && strcmp(method, "CONNECT") != 0)) {
        st->refuse_why = "a request without :method or :path";
        return 400;
    }
    if (!target)
        target = authority ? authority : "";
    size_t tlen = strlen(target);
    st->path_buf = malloc(2 * (tlen + 2));
    if (!st->path_buf) {
        st->refuse_why = "no memory for the request";
        return 500;
    }
    st->scratch = st->path_buf + tlen + 2;
    struct sea__http_head head = {0};
    st->req.method = method;
    st->req.target = target;
    if (!*target || sea__http_target_parse(target, tlen, method, st->path_buf, &head)) {
        st->refuse_why = head.error ? head.error : "an empty :path";
        return 400;
    }
    st->req.path = head.path;
    st->req.query = head.query;
    st->req.headers = st->fields;
    st->req.header_count = n;
    st->req.content_length = length;
    if (length > 0 && (uint64_t)length > cfg->opts.max_body) {
        st->refuse_why = "the body is larger than the server takes";
        return 413;
    }
    return 0;
}

static void count_status(struct h2 *h, int status) {
    int k = status / 100;
    if (k >= 1 && k <= 5)
        h->stats->responses[k]++;
}

/* A stream, from its complete head to its answer, in a fiber of its own. */
static sea_future stream_run(struct sea__h2_stream **sp) {
    struct sea__h2_stream *st = *sp;
    struct h2 *h = st->h;
    const struct sea__http_cfg *cfg = h->cfg;
    void *done_data;
    sea_http_done_fn done_fn = sea__http_routes_done(cfg->routes, &done_data);
    sea_time began = done_fn ? sea_now() : 0;
    sea_http_request *req = &st->req;
    sea_http_response *r = &st->resp;
    h->stats->requests++;
    int status = make_request(st);
    r->head_only = req->method && strcmp(req->method, "HEAD") == 0;
    if (status) {
        if (status != 413)
            h->stats->bad_requests++;
        answer_error(st, status, st->refuse_why, NULL);
    } else {
        struct sea__http_match m;
        sea__http_routes_match(cfg->routes, req->method, req->path, st->scratch, &st->params, &m);
        if (!m.handler) {
            answer_error(st, m.status, m.status == 404 ? "no such resource" : "the resource does not take this method",
                         m.status == 405 ? m.allow : NULL);
        } else {
            sea_future f = sea_await(dispatch(st, &m));
            sea_output_stream *stream = r->stream; /* answer_error forgets it: freed below */
            if (sea_future_failed(&f)) {
                int err = sea_future_error(&f);
                bool too_large = st->body_status == 413 || (!st->body_status && err == -EMSGSIZE && !r->streaming);
                if (st->reset || h->reading_done) {
                    sea_log_debug(&sea__http_log, "%s %s: the client left during the answer (%s)", req->method,
                                  req->target, strerror(-err));
                } else if (!st->body_status && !too_large) {
                    h->stats->handler_errors++;
                    sea_log_error(&sea__http_log, "%s %s: the handler failed: %s (%s)", req->method, req->target,
                                  sea_future_message(&f) ? sea_future_message(&f) : "no message", strerror(-err));
                }
                if (st->submitted) {
                    /* Too late to say so: the stream's reset tells the client. */
                    if (st->ng_open && !st->reset)
                        nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
                    kick(h);
                } else if (too_large) {
                    answer_error(st, 413, "the body is larger than the server takes", NULL);
                } else if (st->body_status) {
                    answer_error(st, st->body_status, st->body_why, NULL);
                } else {
                    answer_error(st, 500, "the handler failed", NULL);
                }
            } else if (r->streaming && !st->out_end) {
                sea_log_error(&sea__http_log, "%s %s: the handler did not close its response stream", req->method,
                              req->target);
                if (st->submitted) {
                    if (st->ng_open && !st->reset)
                        nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
                    kick(h);
                } else {
                    answer_error(st, 500, "the handler did not finish its response", NULL);
                }
            }
            sea_future_ignore(f);
            sea_output_stream_free(stream);
            r->stream = NULL;
            stream_fail_waits(st, -ECONNRESET, "the handler is done"); /* nothing should wait now */
        }
    }
    int rc = 0;
    if (!r->streaming && !st->submitted)
        rc = submit_final(st);
    if (r->close && !h->reading_done) {
        /* The handler asked to close: no new streams; the connection ends when the open ones are done. */
        nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->ng),
                              NGHTTP2_NO_ERROR, NULL, 0);
        kick(h);
    }
    count_status(h, r->status);
    if (done_fn) {
        uint64_t bytes = r->streaming ? r->body_sent : r->body_len + r->body_buf.len;
        done_fn(req, r->status, r->head_only ? 0 : bytes, sea_now() - began, done_data);
    }
    if (st->body_in) {
        sea_input_stream_free(st->body_in);
        st->body_in = NULL;
    }
    /* A body nobody read: its bytes go, and give the client's window back. */
    if (st->ib_len) {
        nghttp2_session_consume(h->ng, st->id, st->ib_len);
        st->ib_len = 0;
        kick(h);
    }
    st->running = false;
    maybe_stop_upload(st);
    stream_maybe_free(st);
    sea_gate_leave(&h->gate);
    return rc < 0 ? sea_failed(rc, "no memory for an HTTP/2 answer") : sea_ready();
}

/* ---- nghttp2's callbacks ---- */

static struct sea__h2_stream *stream_of(struct h2 *h, int32_t id) {
    return nghttp2_session_get_stream_user_data(h->ng, id);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    struct h2 *h = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    /* Streams the client reset still count while their handler runs: that bounds a rapid reset. */
    if (h->live >= h->cfg->opts.max_streams) {
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    struct sea__h2_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    st->h = h;
    st->id = frame->hd.stream_id;
    st->ng_open = true;
    for (int i = 0; i < PS_COUNT; i++)
        st->pseudo[i] = -1;
    sea__http_response_reset(&st->resp, NULL);
    st->resp.h2 = st;
    st->req.sea__h2 = st;
    st->req.version = 20;
    st->req.keep_alive = true;
    sea__list_push_back(&h->streams, &st->link);
    h->live++;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    (void)ng;
    (void)flags;
    struct h2 *h = user;
    struct sea__h2_stream *st = stream_of(h, frame->hd.stream_id);
    if (!st || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    /* RFC 9113 6.5.2's size: the decoded list, however small its encoding (an HPACK bomb). */
    st->head_bytes += namelen + valuelen + 32;
    if (st->head_bytes > h->cfg->opts.max_head) {
        if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* trailers that large: the stream is reset */
        st->refuse = 431;
        st->refuse_why = "the header list is too large";
        return 0;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST || st->refuse)
        return 0; /* a request's trailers are checked by nghttp2 and dropped */
    int slot = -1;
    if (namelen && name[0] == ':') {
        static const char *const names[PS_COUNT] = {":method", ":path", ":scheme", ":authority"};
        for (int i = 0; i < PS_COUNT; i++)
            if (strlen(names[i]) == namelen && memcmp(names[i], name, namelen) == 0)
                slot = i;
    } else {
        st->nfields++;
    }
    size_t at = st->hb_len;
    if (sea__http_append(&st->hb, &st->hb_len, &st->hb_cap, NULL, namelen + valuelen + 2) < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (namelen)
        memcpy(st->hb + at, name, namelen);
    st->hb[at + namelen] = 0;
    if (valuelen)
        memcpy(st->hb + at + namelen + 1, value, valuelen);
    st->hb[at + namelen + 1 + valuelen] = 0;
    if (slot >= 0)
        st->pseudo[slot] = (long)(at + namelen + 1);
    return 0;
}

/* Starts the stream's fiber, inside the connection's gate (it leaves at its end), with the server's stack size. */
static void start_stream(struct h2 *h, struct sea__h2_stream *st) {
    if (sea_gate_enter(&h->gate) == 0) {
        st->running = true;
        sea_fiber_attr attr = {.stack_size = h->cfg->opts.server.fiber_stack_size, .name = "http2 stream"};
        sea_future f = sea_fiber_start_attr(&attr, stream_run, st);
        if (!sea_future_available(&f) || !sea_future_failed(&f)) {
            sea_future_detach(f); /* the gate waits for it */
            return;
        }
        sea_future_ignore(f);
        st->running = false;
        sea_gate_leave(&h->gate);
    }
    /* No fiber for it (memory, stacks): the client may try again. */
    nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    (void)ng;
    struct h2 *h = user;
    struct sea__h2_stream *st = frame->hd.stream_id ? stream_of(h, frame->hd.stream_id) : NULL;
    if (!st)
        return 0;
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        st->body_done = end;
        start_stream(h, st);
    } else if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && end) {
        st->body_done = true;
        body_wake(st);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                         void *user) {
    (void)flags;
    struct h2 *h = user;
    struct sea__h2_stream *st = stream_of(h, id);
    if (!st || !st->running || st->body_status) {
        nghttp2_session_consume(ng, id, len); /* nobody will read it */
        return 0;
    }
    st->body_total += len;
    if (st->body_total > h->cfg->opts.max_body) {
        st->body_status = 413;
        st->body_err = -EMSGSIZE;
        st->body_why = "the body is larger than the server takes";
        nghttp2_session_consume(ng, id, len + st->ib_len);
        st->ib_len = 0;
        body_wake(st);
        return 0;
    }
    if (sea__http_append(&st->ib, &st->ib_len, &st->ib_cap, data, len) < 0) {
        st->body_status = 500;
        st->body_err = -ENOMEM;
        st->body_why = "no memory for the body";
        nghttp2_session_consume(ng, id, len);
    }
    body_wake(st);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
    (void)ng;
    struct h2 *h = user;
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
        h->fatal = true; /* the client broke a rule or a limit */
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) || !frame->hd.stream_id)
        return 0;
    struct sea__h2_stream *st = stream_of(h, frame->hd.stream_id);
    if (st) {
        st->answered = true;
        maybe_stop_upload(st);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user) {
    struct h2 *h = user;
    struct sea__h2_stream *st = stream_of(h, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    st->ng_open = false;
    if (!st->answered || code != NGHTTP2_NO_ERROR) {
        st->reset = true;
        stream_fail_waits(st, -ECONNRESET, "the client reset the stream");
    } else if (!st->body_done) {
        st->body_done = true; /* we stopped it: a late reader sees the end */
    }
    stream_maybe_free(st);
    return 0;
}

/* ---- the connection ---- */

static sea_future transport_write(struct h2 *h, const void *data, size_t len) {
    if (!h->tout)
        return sea_socket_write(h->s, data, len);
    return sea__http_stream_send(h->tout, data, len);
}

/* Collects what nghttp2 has to send into one buffer and writes it; again while there is more. */
static sea_future writer(struct h2 **hp) {
    struct h2 *h = *hp;
    for (;;) {
        while (!h->flush && !h->done)
            sea_future_ignore(sea_await(sea_condvar_wait(&h->wake)));
        h->flush = false;
        if (h->write_failed) {
            if (h->done)
                return sea_ready();
            continue;
        }
        h->wlen = 0;
        while (h->wlen < WRITE_BATCH) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(h->ng, &data);
            if (n < 0) {
                sea_log_debug(&sea__http_log, "HTTP/2: nghttp2 cannot send: %s", nghttp2_strerror((int)n));
                h->write_failed = true;
                sea_socket_shutdown(h->s, SHUT_RDWR);
                break;
            }
            if (n == 0)
                break;
            if (sea__http_append(&h->wbuf, &h->wlen, &h->wcap, data, (size_t)n) < 0) {
                h->write_failed = true;
                sea_socket_shutdown(h->s, SHUT_RDWR);
                break;
            }
        }
        if (h->write_failed)
            continue;
        if (!h->wlen) {
            /* Nothing to send and nothing more to read (a GOAWAY went both ways): the reader may stop. */
            if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng) && !h->reading_done)
                sea_socket_shutdown(h->s, SHUT_RD);
            if (h->done)
                return sea_ready();
            continue;
        }
        h->writing = true;
        h->write_since = sea_lowres_now();
        due_by(h, h->write_since + h->cfg->opts.io_timeout);
        sea_future f = sea_await(transport_write(h, h->wbuf, h->wlen));
        h->writing = false;
        if (sea_future_failed(&f)) {
            h->write_failed = true;
            sea_socket_shutdown(h->s, SHUT_RDWR); /* the reader ends too */
        }
        sea_future_ignore(f);
        if (WRITE_BATCH < h->wcap / 2) {
            free(h->wbuf); /* a large frame grew it: give the memory back */
            h->wbuf = NULL;
            h->wlen = h->wcap = 0;
        }
        h->flush = true; /* more may have come while it was being written */
    }
}

/* Feeds bytes to nghttp2; false when the connection must end (a fatal error: GOAWAY queued). */
static bool feed(struct h2 *h, const char *data, size_t n) {
    track(h, (const uint8_t *)data, n);
    ssize_t rv = nghttp2_session_mem_recv(h->ng, (const uint8_t *)data, n);
    kick(h);
    if (rv >= 0)
        return true;
    uint32_t code = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS
                        ? NGHTTP2_ENHANCE_YOUR_CALM
                        : rv == NGHTTP2_ERR_NOMEM ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_PROTOCOL_ERROR;
    sea_log_debug(&sea__http_log, "HTTP/2: closing a connection: %s", nghttp2_strerror((int)rv));
    nghttp2_session_terminate_session(h->ng, code);
    h->fatal = true;
    return false;
}

static int session_new(struct h2 *h) {
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb))
        return -ENOMEM;
    if (nghttp2_option_new(&opt)) {
        nghttp2_session_callbacks_del(cb);
        return -ENOMEM;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    /* Windows reopen as handlers read, not as bytes arrive: bounded memory per stream. */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    /* Closed streams are forgotten at once (no priority tree to keep them for). */
    nghttp2_option_set_no_closed_streams(opt, 1);
    /* Our HPACK encoder's table stays small whatever table size the client allows. */
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
    /* Floods: SETTINGS and PING acknowledgements owed, entries per SETTINGS frame, resets, CONTINUATIONs. */
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
    nghttp2_option_set_max_continuations(opt, 8);
    int rc = nghttp2_session_server_new2(&h->ng, cb, h, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rc)
        return -ENOMEM;
    const sea_http_server_options *o = &h->cfg->opts;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, o->max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)(o->max_head > UINT32_MAX ? UINT32_MAX : o->max_head)},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) ||
        nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW))
        return -ENOMEM;
    return 0;
}

static sea_future conn_read(struct h2 *h) {
    if (!h->tin)
        return sea_socket_read(h->s, h->rbuf, READ_SIZE);
    return sea__http_stream_read(h->tin, h->rbuf, READ_SIZE);
}

/* Reads and feeds nghttp2 until the client leaves, a timeout, a fatal error, or a GOAWAY both ways. */
static sea_future serve(struct h2 *h, const char *first, size_t first_len) {
    if (first_len && !feed(h, first, first_len))
        return sea_ready();
    for (;;) {
        if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng))
            return sea_ready();
        sea_time now = sea_lowres_now();
        if (h->in_head)
            due_by(h, h->head_since + h->cfg->opts.header_timeout);
        if (h->mid_frame)
            due_by(h, now + h->cfg->opts.io_timeout);
        if (!h->in_head && !h->mid_frame && !h->live)
            due_by(h, now + h->cfg->opts.idle_timeout);
        sea_future f = sea_await(conn_read(h));
        size_t n = sea_future_failed(&f) ? 0 : sea_future_value(&f).size;
        sea_future_ignore(f);
        if (n == 0) {
            if (h->expired && !h->write_failed) {
                h->stats->timeouts++;
                nghttp2_session_terminate_session(h->ng, NGHTTP2_NO_ERROR); /* GOAWAY: no more streams */
            }
            return sea_ready();
        }
        h->last_active = sea_lowres_now();
        if (!feed(h, h->rbuf, n))
            return sea_ready();
    }
}

sea_future sea__h2_run(sea_socket *s, sea_tls *tls, sea_input_stream *tin, sea_output_stream *tout,
                       const struct sea__http_cfg *cfg, sea_http_stats *stats, const char *first,
                       size_t first_len) {
    struct h2 *h = calloc(1, sizeof(*h));
    if (!h)
        return sea_failed(-ENOMEM, "no memory for an HTTP/2 connection");
    *h = (struct h2){.s = s, .tls = tls, .tin = tin, .tout = tout, .cfg = cfg, .stats = stats,
                     .magic_left = SEA__H2_PREFACE_LEN, .last_active = sea_lowres_now()};
    sea__list_init(&h->streams);
    sea_gate_init(&h->gate);
    sea_condvar_init(&h->wake);
    sea_timer_init(&h->timer, h2_timer, h);
    stats->h2_connections++;
    h->rbuf = malloc(READ_SIZE);
    int rc = h->rbuf ? session_new(h) : -ENOMEM;
    sea_future wf = rc < 0 ? sea_ready() : sea_fiber_start(writer, h);
    if (rc < 0 || (sea_future_available(&wf) && sea_future_failed(&wf))) {
        sea_future_ignore(wf);
        if (h->ng)
            nghttp2_session_del(h->ng);
        sea_condvar_destroy(&h->wake);
        free(h->rbuf);
        free(h);
        return sea_failed(-ENOMEM, "no memory for an HTTP/2 connection");
    }
    kick(h); /* the server's SETTINGS go first */
    sea_future_ignore(sea_await(serve(h, first, first_len)));
    if (h->fatal)
        stats->h2_errors++;
    /* No more input: streams waiting for the client fail; their answers still go out if they can. */
    h->reading_done = true;
    sea__list_for_each(it, &h->streams) {
        struct sea__h2_stream *st = sea__list_entry(it, struct sea__h2_stream, link);
        stream_fail_waits(st, -ECONNRESET, "the connection ended");
    }
    sea_future_ignore(sea_await(sea_gate_close(&h->gate)));
    h->done = true;
    kick(h);
    sea_condvar_signal(&h->wake);
    sea_future_ignore(sea_await(wf));
    bool polite = !h->write_failed && !h->expired;
    sea_timer_cancel(&h->timer);
    sea__list_for_each_safe(it, &h->streams) {
        struct sea__h2_stream *st = sea__list_entry(it, struct sea__h2_stream, link);
        st->ng_open = false;
        stream_free(st);
    }
    nghttp2_session_del(h->ng);
    sea_condvar_destroy(&h->wake);
    free(h->rbuf);
    free(h->wbuf);
    free(h);
    return sea_ready_int(polite);
}
