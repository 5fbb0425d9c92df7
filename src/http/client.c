/*
 * client.c - the HTTP/1.1 client (sea/http_client.h): a pool of kept-alive
 * connections to one server, requests with bodies in memory or streamed,
 * responses read whole or as a stream.
 *
 * A request waits for one of the client's max_connections slots (a
 * semaphore), then runs in a fiber of its own: it takes an idle connection
 * (checked with a read that does not wait: a server that closed it, or
 * says something unasked, makes it stale) or connects a new one, sends the
 * head and the body, reads the response's head (skipping 1xx), follows
 * redirects if asked to, and reads the body.  The slot is held while a
 * connection is in use, so a client never has more than max_connections
 * open; a streamed body takes the connection and the slot over from the
 * request and gives both back when it reaches its end or is freed.
 *
 * A connection reads into one buffer (released while the connection is
 * idle) and hands out the body's bytes as slices of it, decoding chunks on
 * the way (sea__http_chunked_feed, the server's decoder): no copy on the
 * streaming path.  That body reader is written as continuations, since a
 * body stream is read from wherever its user runs; the rest of a request is
 * fiber code.
 *
 * Timeouts: a request's deadline covers all of it.  Waiting for a slot and
 * connecting are bounded by their own calls' timeouts; once a connection is
 * taken, its timer is armed for the deadline and, when it fires, shuts the
 * socket down, which ends whatever read or write is pending; the request
 * then fails with -ETIMEDOUT.  The same timer closes a connection that sat
 * idle for idle_timeout.
 */
#include <sea/fiber.h>
#include <sea/http_client.h>
#include <sea/net.h>
#include <sea/promise.h>
#include <sea/reactor.h>
#include <sea/semaphore.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/list.h"
#include "http/http.h"

/* A connection's read buffer, and the least free room a read is given. */
#define IN_SIZE (32 * 1024)
#define ROOM_MIN (4 * 1024)
/* A request body up to this size goes out in one write with the head. */
#define SMALL_BODY (16 * 1024)
/* The body of a redirect that is followed is read and dropped up to this size; a longer one closes the connection. */
#define DRAIN_MAX (64 * 1024)
/* Empty lines skipped before a status line (some servers send a CRLF too many after a body). */
#define EMPTY_LINES_MAX 16
/*
 * Interim (1xx) responses skipped before the answer, at most.  Without a
 * bound a server sending them without end kept the request reading and
 * parsing them until its timeout, and for ever with no timeout (found by
 * test_http_client's t_hostile).  Other clients bound them too (Go's
 * net/http, neon, Ruby's net/http: 100).
 */
#define INTERIM_MAX 100
/* "GET /path" in messages, at most. */
#define LABEL_MAX 120

#define DEFAULT_MAX_CONNECTIONS 16
#define DEFAULT_CONNECT_TIMEOUT SEA_SEC(10)
#define DEFAULT_REQUEST_TIMEOUT SEA_SEC(60)
#define DEFAULT_IDLE_TIMEOUT SEA_SEC(15)
#define DEFAULT_MAX_HEAD (64 * 1024)
#define DEFAULT_MAX_HEADERS 128
#define DEFAULT_MAX_BODY (16 * 1024 * 1024)

struct sea_http_client {
    sea_addr addr;
    char addr_text[128];
    unsigned shard;
    sea_http_client_options o;   /* defaults filled in; o.host and o.user_agent unused (see below) */
    char *host;                  /* the Host header's value */
    char *tls_name;              /* HTTPS: the name for SNI and the certificate check */
    char *user_agent;            /* the User-Agent header's value, or NULL for none */
    sea_semaphore slots;         /* max_connections units: one per connection in use or being made */
    struct sea__list idle, busy; /* connections: idle ones most recently used first */
    sea_http_client_stats st;
    unsigned active;             /* requests under way and body streams alive */
    bool closing;
    bool close_waiting;          /* closed is handed out */
    sea_promise closed;
};

enum body_mode { B_NONE, B_LENGTH, B_CHUNKED, B_CLOSE };

struct conn {
    struct sea__link link;       /* on c->idle or c->busy */
    sea_http_client *c;
    sea_socket *s;
    sea_tls *tls;                /* HTTPS: the TLS connection over s, and its streams; NULL for HTTP */
    sea_input_stream *tin;
    sea_output_stream *tout;
    sea_timer timer;             /* busy: the request's deadline; idle: the idle timeout */
    bool idle;
    bool expired;                /* the deadline passed and the socket was shut down */
    bool broken;                 /* never to be reused */
    bool got_bytes;              /* some of the response came */
    unsigned served;             /* responses read whole on it */
    char label[LABEL_MAX];       /* the request it carries ("GET /x"), for messages */
    /* input: [rpos, wpos) of ib is read and not used yet */
    sea_buf ib;
    size_t rpos, wpos;
    size_t scan, line;           /* the head's end: bytes searched, the current line's start (from rpos) */
    unsigned empty_lines;
    /* the body */
    enum body_mode mode;
    bool body_done;
    bool keep_alive;             /* the response lets the connection be kept */
    uint64_t left;               /* B_LENGTH: bytes still to come */
    struct sea__http_chunked chunk;
    int body_err;                /* once the body failed: the error, again at every read */
    char body_why[512];
};

struct call {
    sea_http_client *c;
    sea_http_client_response *out;
    bool streaming;
    bool has_slot;
    sea_time deadline;           /* SEA_TIME_MAX: none */
    char *method;
    char *path;
    char *fields;                /* "Host: ...\r\n" and the others, for every hop */
    size_t fields_len;
    const void *body;
    size_t body_len;
    bool send_length;            /* send Content-Length even for an empty body (POST, PUT, PATCH) */
    sea_input_stream *body_stream;
    uint64_t stream_len;
    int sock_err;                /* sending failed on the socket with this error */
    char *hbuf;                  /* the head being sent, or a chunk's framing */
    size_t hlen, hcap;
    unsigned redirects;
    struct conn *k;              /* the connection whose response head is in */
    char label[LABEL_MAX];
};

/* ---- messages ---- */

static sea_future vfailf(const sea_http_client *c, const char *label, int err, const char *fmt, va_list ap) {
    char why[256];
    vsnprintf(why, sizeof(why), fmt, ap);
    return sea_failed_fmt(err, "%s on %s: %s", label, c->addr_text, why);
}

static sea_future failf(const sea_http_client *c, const char *label, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sea_future failf(const sea_http_client *c, const char *label, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sea_future f = vfailf(c, label, err, fmt, ap);
    va_end(ap);
    return f;
}

static long long msec(sea_time t) {
    return (long long)(t / SEA_MSEC(1));
}

static sea_future fail_closed(const sea_http_client *c, const char *label) {
    return failf(c, label, SEA_ECANCELED, "the HTTP client was closed");
}

static sea_future fail_timeout(const sea_http_client *c, const char *label) {
    return failf(c, label, -ETIMEDOUT, "no complete answer within the request timeout (%lld ms)",
                 msec(c->o.request_timeout));
}

/*
 * A failure on connection k: the client closing or the deadline passing
 * (which is why the socket ended) comes first; the connection is not
 * reused after it.
 */
static sea_future conn_fail(struct conn *k, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static sea_future conn_fail(struct conn *k, int err, const char *fmt, ...) {
    k->broken = true;
    if (k->c->closing)
        return fail_closed(k->c, k->label);
    if (k->expired)
        return fail_timeout(k->c, k->label);
    va_list ap;
    va_start(ap, fmt);
    sea_future f = vfailf(k->c, k->label, err, fmt, ap);
    va_end(ap);
    return f;
}

/* ---- connections ---- */

static void active_dec(sea_http_client *c);

static void conn_timer(sea_timer *t, void *arg);

/* Closes k and frees it; k is on neither list. */
static void conn_free(struct conn *k) {
    sea_timer_cancel(&k->timer);
    if (k->tls) {
        sea_output_stream_free(k->tout); /* no close_notify: a connection freed here is broken or idle-expired */
        sea_input_stream_free(k->tin);
        sea_tls_free(k->tls);
    }
    sea_socket_close(k->s);
    sea_buf_release(&k->ib);
    k->c->st.open--;
    free(k);
}

/* Reads from the connection: the socket, or the TLS connection over it. */
static sea_future conn_read(struct conn *k, char *buf, size_t len) {
    return k->tls ? sea__http_stream_read(k->tin, buf, len) : sea_socket_read(k->s, buf, len);
}

static void conn_unlist(struct conn *k) {
    sea_http_client *c = k->c;
    if (k->idle) {
        sea__list_remove(&c->idle, &k->link);
        c->st.idle--;
        k->idle = false;
    } else {
        sea__list_remove(&c->busy, &k->link);
    }
}

static void conn_timer(sea_timer *t, void *arg) {
    (void)t;
    struct conn *k = arg;
    if (k->idle) {
        conn_unlist(k);
        conn_free(k);
        return;
    }
    /* The request's deadline: whatever read or write is pending ends, and the request fails with -ETIMEDOUT. */
    k->expired = true;
    k->broken = true;
    sea_socket_shutdown(k->s, SHUT_RDWR);
}

/*
 * Done with k after a response: back to the pool if reusable is true and
 * the response allows it (its body read to the end, keep-alive, nothing
 * after it), else closed.
 */
static void conn_release(struct conn *k, bool reusable) {
    sea_http_client *c = k->c;
    conn_unlist(k);
    sea_timer_cancel(&k->timer);
    if (reusable && k->body_done && !k->body_err)
        k->served++;
    if (!reusable || k->broken || k->expired || c->closing || !k->body_done || k->body_err || !k->keep_alive ||
        k->rpos != k->wpos) {
        conn_free(k);
        return;
    }
    /* Idle: no buffer held; closed after idle_timeout. */
    sea_buf_release(&k->ib);
    k->rpos = k->wpos = 0;
    k->idle = true;
    sea__list_push_front(&c->idle, &k->link);
    c->st.idle++;
    sea_timer_arm(&k->timer, c->o.idle_timeout);
}

/*
 * Makes room to read into after wpos, keeping [rpos, wpos): compacts the
 * buffer if it is this connection's alone, else (slices of it are out)
 * starts a new one.  0 or -ENOMEM.
 */
static int room(struct conn *k) {
    size_t have = k->wpos - k->rpos;
    bool mine = k->ib.owner && sea_buf_refs(&k->ib) == 1;
    if (mine && have == 0) {
        k->rpos = k->wpos = 0;
        return 0;
    }
    if (mine && k->ib.len - k->wpos >= ROOM_MIN)
        return 0;
    if (mine && k->ib.len - have >= ROOM_MIN) {
        memmove(k->ib.data, k->ib.data + k->rpos, have);
        k->rpos = 0;
        k->wpos = have;
        return 0;
    }
    /*
     * cap < have + ROOM_MIN, not cap - have < ROOM_MIN: with more than
     * IN_SIZE bytes kept (a head growing towards max_head, 64 KiB), cap - have
     * wrapped around, the buffer stayed IN_SIZE and the copy below (and the
     * next read) overflowed it: a head over about 60 KiB corrupted the heap
     * (found by ASan in test_http_client's t_hostile).
     */
    size_t cap = IN_SIZE;
    while (cap < have + ROOM_MIN)
        cap *= 2;
    sea_buf nb;
    if (sea_buf_new(&nb, cap) < 0)
        return -ENOMEM;
    if (have)
        memcpy(nb.data, k->ib.data + k->rpos, have);
    sea_buf_release(&k->ib);
    k->ib = nb;
    k->rpos = 0;
    k->wpos = have;
    return 0;
}

/* ---- the response's head ---- */

/*
 * The length of the head at [rpos, wpos) once its empty line is in (bare
 * LFs count as line ends), 0 while it is not, -1 when it is longer than
 * max_head.  Empty lines before it are skipped.  Resumes where it stopped.
 */
static long head_find(struct conn *k, size_t max_head) {
    while (k->scan == 0 && k->empty_lines < EMPTY_LINES_MAX) {
        const char *b = k->ib.data + k->rpos;
        size_t len = k->wpos - k->rpos;
        if (len == 0 || (len == 1 && b[0] == '\r'))
            return 0;
        size_t e = b[0] == '\n' ? 1 : b[0] == '\r' && b[1] == '\n' ? 2 : 0;
        if (!e)
            break;
        k->rpos += e;
        k->empty_lines++;
    }
    const char *b = k->ib.data + k->rpos;
    size_t len = k->wpos - k->rpos;
    while (k->scan < len) {
        const char *nl = memchr(b + k->scan, '\n', len - k->scan);
        if (!nl) {
            k->scan = len;
            break;
        }
        size_t p = (size_t)(nl - b);
        size_t ll = p - k->line;
        if (k->line > 0 && (ll == 0 || (ll == 1 && b[k->line] == '\r')))
            return p + 1 > max_head ? -1 : (long)(p + 1);
        k->line = k->scan = p + 1;
    }
    return len > max_head ? -1 : 0;
}

/* What the framing fields said. */
struct framing {
    bool have_length, length_differs, length_bad;
    uint64_t length;
    bool have_te, te_chunked_last, te_other, te_twice;
    const char *te_coding; /* the first coding other than chunked */
    size_t te_coding_len;
    bool close, keep_alive;
};

static void framing_field(struct framing *fr, const char *name, const char *value) {
    const char *p = value, *el;
    size_t n;
    if (strcasecmp(name, "content-length") == 0) {
        bool any = false;
        while (sea__http_list_next(&p, &el, &n)) {
            any = true;
            uint64_t v;
            if (sea__http_length_parse(el, n, &v) < 0) { /* 2^64 + 4 once wrapped around to 4 here */
                fr->length_bad = true;
                return;
            }
            if (fr->have_length && v != fr->length)
                fr->length_differs = true;
            fr->have_length = true;
            fr->length = v;
        }
        if (!any)
            fr->length_bad = true;
    } else if (strcasecmp(name, "transfer-encoding") == 0) {
        fr->have_te = true;
        while (sea__http_list_next(&p, &el, &n)) {
            if (fr->te_chunked_last)
                fr->te_twice = true; /* chunked must be the last coding, and only once */
            fr->te_chunked_last = sea__http_token_is(el, n, "chunked");
            if (!fr->te_chunked_last && !fr->te_other) {
                fr->te_other = true;
                fr->te_coding = el;
                fr->te_coding_len = n;
            }
        }
    } else if (strcasecmp(name, "connection") == 0) {
        while (sea__http_list_next(&p, &el, &n)) {
            if (sea__http_token_is(el, n, "close"))
                fr->close = true;
            else if (sea__http_token_is(el, n, "keep-alive"))
                fr->keep_alive = true;
        }
    }
}

/* A head as the response keeps it: the fields, then the head's bytes (NUL-terminated in place). */
struct head_mem {
    size_t nfields;
    sea_http_header fields[];
};

#define BAD(...) \
    do { \
        snprintf(why, whylen, __VA_ARGS__); \
        free(mem); \
        return -EPROTO; \
    } while (0)

/*
 * Parses the head of n bytes at rpos into call->out and sets up the body's
 * framing on k.  Returns 0 for a final response, 1 for an interim one (1xx:
 * skip it), -EPROTO (why says why) or -ENOMEM.
 */
static int parse_head(struct call *call, struct conn *k, size_t n, char *why, size_t whylen) {
    sea_http_client *c = call->c;
    const char *src = k->ib.data + k->rpos;
    size_t lines = 0;
    for (const char *p = src; (p = memchr(p, '\n', (size_t)(src + n - p))); p++)
        lines++;
    size_t nf = lines < c->o.max_headers ? lines : c->o.max_headers;
    struct head_mem *mem = malloc(sizeof(*mem) + nf * sizeof(sea_http_header) + n + 1);
    if (!mem) {
        snprintf(why, whylen, "no memory for the response's head");
        return -ENOMEM;
    }
    char *h = (char *)(mem->fields + nf);
    memcpy(h, src, n);
    h[n] = 0;

    /* HTTP-version SP status-code [SP reason-phrase] (a missing reason and its SP are forgiven) */
    char *eol = memchr(h, '\n', n);
    size_t le = (size_t)(eol - h);
    if (le > 0 && h[le - 1] == '\r')
        le--;
    if (le < 12 || memcmp(h, "HTTP/", 5) != 0 || h[5] < '0' || h[5] > '9' || h[6] != '.' || h[7] < '0' ||
        h[7] > '9' || h[8] != ' ')
        BAD("a malformed status line");
    if (h[5] != '1')
        BAD("HTTP version %c.%c in the status line (only 1.x is spoken)", h[5], h[7]);
    int version = h[7] == '0' ? 10 : 11;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (h[i] < '0' || h[i] > '9')
            BAD("a malformed status code");
        status = status * 10 + (h[i] - '0');
    }
    if (status < 100)
        BAD("a malformed status code");
    if (le > 12 && h[12] != ' ')
        BAD("a malformed status line");
    char *reason = le > 12 ? h + 13 : h + 12;
    for (char *r = reason; r < h + le; r++)
        if (*r == 0 || *r == '\r')
            BAD("a %s in the reason phrase", *r ? "bare CR" : "NUL");
    h[le] = 0;

    if (status < 200) {
        if (status == 101)
            BAD("101 Switching Protocols, which the client did not ask for");
        free(mem);
        return 1; /* 100, 102, 103...: the final response follows */
    }

    /* Fields.  Obsolete line folding becomes spaces (RFC 9112 section 5.2). */
    size_t i = (size_t)(eol - h) + 1;
    if (h[i] == ' ' || h[i] == '\t')
        BAD("whitespace between the status line and the first header field");
    for (size_t j = i; j + 1 < n; j++) {
        if (h[j] == '\n' && (h[j + 1] == ' ' || h[j + 1] == '\t')) {
            h[j] = ' ';
            if (h[j - 1] == '\r')
                h[j - 1] = ' ';
        }
    }
    unsigned count = 0;
    struct framing fr = {0};
    for (;;) {
        char *e = memchr(h + i, '\n', n - i);
        size_t end = (size_t)(e - h); /* the head ends with an empty line, so there is one */
        if (end == i || (end == i + 1 && h[i] == '\r'))
            break;
        char *name = h + i;
        size_t p = i;
        while (p < end && sea__http_tchar[(unsigned char)h[p]])
            p++;
        size_t name_end = p;
        while (p < end && (h[p] == ' ' || h[p] == '\t'))
            p++; /* blanks before the colon: dropped (5.1 asks proxies to; a client may) */
        if (name_end == i || p == end || h[p] != ':')
            BAD("a malformed header field: \"%.*s\"", (int)(end - i < 40 ? end - i : 40), name);
        h[name_end] = 0;
        p++;
        while (p < end && (h[p] == ' ' || h[p] == '\t'))
            p++;
        char *value = h + p;
        size_t vend = end;
        if (vend > p && h[vend - 1] == '\r')
            vend--;
        while (vend > p && (h[vend - 1] == ' ' || h[vend - 1] == '\t'))
            vend--;
        for (size_t v = p; v < vend; v++)
            if (h[v] == 0 || h[v] == '\r')
                BAD("a %s in header field %s", h[v] ? "bare CR" : "NUL", name);
        h[vend] = 0;
        if (count == c->o.max_headers)
            BAD("more than max_headers (%u) header fields", c->o.max_headers);
        mem->fields[count++] = (sea_http_header){name, value};
        framing_field(&fr, name, value);
        i = end + 1;
    }
    mem->nfields = count;

    /* The body's length (RFC 9112 section 6.3). */
    k->chunk = (struct sea__http_chunked){0};
    k->body_err = 0;
    bool no_body = strcmp(call->method, "HEAD") == 0 || status == 204 || status == 304;
    if (fr.length_bad)
        BAD("a malformed Content-Length");
    if (fr.length_differs)
        BAD("Content-Length fields with different values");
    if (fr.have_te && fr.have_length && !no_body)
        BAD("both Content-Length and Transfer-Encoding");
    k->keep_alive = version == 11 ? !fr.close : fr.keep_alive && !fr.close;
    if (no_body) {
        k->mode = B_NONE;
    } else if (fr.have_te) {
        if (fr.te_other)
            BAD("a transfer coding other than chunked (%.*s)", (int)(fr.te_coding_len < 40 ? fr.te_coding_len : 40),
                fr.te_coding);
        if (!fr.te_chunked_last || fr.te_twice)
            BAD("a malformed Transfer-Encoding");
        k->mode = B_CHUNKED;
        if (version == 10)
            k->keep_alive = false; /* Transfer-Encoding in 1.0: faulty framing, close after (6.1) */
    } else if (fr.have_length) {
        k->mode = fr.length ? B_LENGTH : B_NONE;
        k->left = fr.length;
    } else {
        k->mode = B_CLOSE; /* to the end of the connection */
        k->keep_alive = false;
    }
    k->body_done = k->mode == B_NONE;

    sea_http_client_response *out = call->out;
    free(out->sea__mem);
    out->sea__mem = mem;
    out->status = status;
    out->version = version;
    out->reason = reason;
    out->headers = mem->fields;
    out->header_count = count;
    out->content_length = fr.have_length && !fr.have_te ? (int64_t)fr.length : k->mode == B_NONE ? 0 : -1;
    return 0;
}

#undef BAD

/* Reads the response's head (interim ones skipped) into call->out; the body is then k's to read. */
static sea_future read_head(struct call *call, struct conn *k) {
    sea_http_client *c = call->c;
    unsigned interim = 0;
    for (;;) {
        long n = head_find(k, c->o.max_head);
        if (n < 0)
            return conn_fail(k, -EPROTO, "reading the response: its head is larger than max_head (%zu bytes)",
                             c->o.max_head);
        if (n > 0) {
            char why[200];
            int rc = parse_head(call, k, (size_t)n, why, sizeof(why));
            if (rc < 0)
                return conn_fail(k, rc, "reading the response: %s", why);
            k->rpos += (size_t)n;
            k->scan = k->line = 0;
            k->empty_lines = 0;
            if (rc == 0)
                return sea_ready();
            if (++interim > INTERIM_MAX) /* see INTERIM_MAX */
                return conn_fail(k, -EPROTO, "reading the response: more than %d interim (1xx) responses",
                                 INTERIM_MAX);
            continue; /* an interim response */
        }
        if (room(k) < 0)
            return conn_fail(k, -ENOMEM, "no memory to read the response");
        sea_value v;
        int err = sea_await_value(conn_read(k, k->ib.data + k->wpos, k->ib.len - k->wpos), &v);
        if (err)
            return conn_fail(k, err, "reading the response: %s", sea_strerror(err));
        if (v.size == 0) {
            if (!k->got_bytes)
                return conn_fail(k, -ECONNRESET, "reading the response: the server closed the connection before "
                                                 "answering");
            return conn_fail(k, -EPROTO, "reading the response: the server closed the connection in the middle "
                                         "of the response's head");
        }
        k->got_bytes = true;
        k->wpos += v.size;
    }
}

/* ---- the response's body (continuations: a body stream is read from anywhere) ---- */

/* The body failed: every later read fails the same way, and the connection is not reused. */
static sea_future body_fail(struct conn *k, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static sea_future body_fail(struct conn *k, int err, const char *fmt, ...) {
    sea_http_client *c = k->c;
    k->broken = true;
    char why[200];
    if (c->closing) {
        err = SEA_ECANCELED;
        snprintf(why, sizeof(why), "the HTTP client was closed");
    } else if (k->expired) {
        err = -ETIMEDOUT;
        snprintf(why, sizeof(why), "no complete answer within the request timeout (%lld ms)",
                 msec(c->o.request_timeout));
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
    }
    k->body_err = err;
    snprintf(k->body_why, sizeof(k->body_why), "%s on %s: reading the response body: %s", k->label, c->addr_text,
             why);
    return sea_failed_fmt(err, "%s", k->body_why);
}

struct body_args {
    struct conn *k;
    sea_buf *out;
};

static sea_future body_next(struct conn *k, sea_buf *out);

static sea_future body_read_done(struct body_args *a, sea_future *in) {
    struct conn *k = a->k;
    if (sea_future_failed(in)) {
        int err = sea_future_error(in);
        return body_fail(k, err, "%s", sea_strerror(err));
    }
    size_t n = sea_future_value(in).size;
    if (n == 0) {
        if (k->mode == B_CLOSE && !k->expired && !k->c->closing) {
            k->body_done = true; /* the end of the connection is the end of the body */
            k->broken = true;
            return sea_ready_size(0);
        }
        if (k->mode == B_LENGTH)
            return body_fail(k, -EPROTO, "the server closed the connection with %llu of the body's bytes still to come",
                             (unsigned long long)k->left);
        return body_fail(k, -EPROTO, "the server closed the connection in the middle of the chunked body");
    }
    k->wpos += n;
    return body_next(k, a->out);
}

/*
 * The next bytes of the body, as a slice of the connection's buffer, in
 * *out: resolves with v.size = out->len, or 0 at the body's end.
 */
static sea_future body_next(struct conn *k, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    for (;;) {
        if (k->body_err)
            return sea_failed_fmt(k->body_err, "%s", k->body_why);
        if (k->body_done)
            return sea_ready_size(0);
        if (k->c->closing)
            return body_fail(k, SEA_ECANCELED, "the HTTP client was closed");
        if (k->rpos < k->wpos) {
            const char *data = k->ib.data + k->rpos;
            size_t n = k->wpos - k->rpos;
            if (k->mode == B_CHUNKED) {
                long used = sea__http_chunked_feed(&k->chunk, data, n, k->c->o.max_head, &data, &n);
                if (used < 0)
                    return body_fail(k, -EPROTO, "a malformed chunked body: %s", k->chunk.error);
                k->rpos += (size_t)used;
                if (sea__http_chunked_done(&k->chunk))
                    k->body_done = true;
                if (n == 0)
                    continue;
            } else {
                if (k->mode == B_LENGTH && n > k->left)
                    n = (size_t)k->left;
                k->rpos += n;
                if (k->mode == B_LENGTH && (k->left -= n) == 0)
                    k->body_done = true;
            }
            *out = sea_buf_slice(&k->ib, (size_t)(data - k->ib.data), n);
            return sea_ready_size(n);
        }
        if (room(k) < 0)
            return body_fail(k, -ENOMEM, "no memory to read it");
        return sea_then_wrapped(conn_read(k, k->ib.data + k->wpos, k->ib.len - k->wpos), body_read_done,
                                (struct body_args){k, out});
    }
}

/* ---- a body stream ---- */

struct body_src {
    sea_data_source base;
    sea_http_client *c;
    struct conn *k;  /* NULL once the body is at its end and the connection given back */
    bool has_slot;   /* the connection's slot, until then */
};

/* The body reached its end: the connection goes back to the pool, its slot to the client. */
static void src_done(struct body_src *src) {
    if (src->k) {
        conn_release(src->k, true);
        src->k = NULL;
    }
    if (src->has_slot) {
        src->has_slot = false;
        sea_semaphore_signal(&src->c->slots, 1);
    }
}

static sea_future src_got(struct body_src **srcp, sea_future *in) {
    struct body_src *src = *srcp;
    if (!sea_future_failed(in) && src->k && src->k->body_done)
        src_done(src);
    return sea_future_move(in);
}

static sea_future src_get(sea_data_source *base, sea_buf *out) {
    struct body_src *src = (struct body_src *)base;
    if (!src->k) {
        *out = SEA_BUF_EMPTY;
        return sea_ready_size(0);
    }
    return sea_then_wrapped(body_next(src->k, out), src_got, src);
}

static void src_release(sea_data_source *base) {
    struct body_src *src = (struct body_src *)base;
    sea_http_client *c = src->c;
    if (src->k) {
        conn_release(src->k, false); /* freed before the body's end: the rest cannot be left for the next request */
        src->k = NULL;
    }
    src_done(src);
    free(src);
    active_dec(c);
}

static const sea_data_source_ops src_ops = {src_get, src_release};

/* ---- sending ---- */

static int hbuf_add(struct call *call, const void *data, size_t n) {
    if (n == 0)
        return 0;
    if (call->hlen + n > call->hcap) {
        size_t cap = call->hcap ? call->hcap : 512;
        while (cap < call->hlen + n)
            cap *= 2;
        char *b = realloc(call->hbuf, cap);
        if (!b)
            return -ENOMEM;
        call->hbuf = b;
        call->hcap = cap;
    }
    memcpy(call->hbuf + call->hlen, data, n);
    call->hlen += n;
    return 0;
}

static int hbuf_printf(struct call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hbuf_printf(struct call *call, const char *fmt, ...) {
    char line[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    return hbuf_add(call, line, (size_t)n);
}

/* Writes n bytes on k; a failure is noted in call->sock_err (an early answer may still be read). */
static sea_future send_bytes(struct call *call, struct conn *k, const void *data, size_t n, const char *what) {
    int err = sea_await_value(k->tls ? sea__http_stream_send(k->tout, data, n) : sea_socket_write(k->s, data, n),
                              NULL);
    if (!err)
        return sea_ready();
    call->sock_err = err;
    return conn_fail(k, err, "sending %s: %s", what, sea_strerror(err));
}

/* Sends the body stream, framed as chunks when its length is unknown. */
static sea_future send_stream(struct call *call, struct conn *k) {
    bool chunked = call->stream_len == 0;
    uint64_t sent = 0;
    for (;;) {
        sea_buf b;
        sea_future f = sea_await(sea_input_read(call->body_stream, &b));
        if (sea_future_failed(&f)) {
            k->broken = true;
            int err = sea_future_error(&f);
            const char *m = sea_future_message(&f);
            sea_future r = conn_fail(k, err, "reading the request body stream: %s", m ? m : sea_strerror(err));
            sea_future_detach(f);
            return r;
        }
        sea_future_detach(f);
        if (b.len == 0)
            break;
        if (!chunked && sent + b.len > call->stream_len) {
            sea_buf_release(&b);
            return conn_fail(k, -EMSGSIZE, "the request body stream is longer than body_stream_length (%llu bytes)",
                             (unsigned long long)call->stream_len);
        }
        sent += b.len;
        sea_future w;
        if (chunked && b.len <= SMALL_BODY) {
            call->hlen = 0;
            if (hbuf_printf(call, "%zx\r\n", b.len) < 0 || hbuf_add(call, b.data, b.len) < 0 ||
                hbuf_add(call, "\r\n", 2) < 0) {
                sea_buf_release(&b);
                return conn_fail(k, -ENOMEM, "no memory to send the request body");
            }
            w = sea_await(send_bytes(call, k, call->hbuf, call->hlen, "the request body"));
        } else {
            char line[24];
            int n = snprintf(line, sizeof(line), "%zx\r\n", b.len);
            w = sea_ready();
            if (chunked)
                w = sea_await(send_bytes(call, k, line, (size_t)n, "the request body"));
            if (!sea_future_failed(&w))
                w = sea_await(send_bytes(call, k, b.data, b.len, "the request body"));
            if (chunked && !sea_future_failed(&w))
                w = sea_await(send_bytes(call, k, "\r\n", 2, "the request body"));
        }
        sea_buf_release(&b);
        if (sea_future_failed(&w))
            return w;
    }
    if (!chunked && sent < call->stream_len)
        return conn_fail(k, -EINVAL, "the request body stream ended after %llu of the %llu bytes of "
                                     "body_stream_length",
                         (unsigned long long)sent, (unsigned long long)call->stream_len);
    if (chunked)
        return send_bytes(call, k, "0\r\n\r\n", 5, "the request body");
    return sea_ready();
}

/* Sends the request's head and body. */
static sea_future send_request(struct call *call, struct conn *k) {
    call->hlen = 0;
    int rc = hbuf_add(call, call->method, strlen(call->method));
    rc = rc ? rc : hbuf_add(call, " ", 1);
    rc = rc ? rc : hbuf_add(call, call->path, strlen(call->path));
    rc = rc ? rc : hbuf_add(call, " HTTP/1.1\r\n", 11);
    rc = rc ? rc : hbuf_add(call, call->fields, call->fields_len);
    if (!rc && call->body_stream)
        rc = call->stream_len ? hbuf_printf(call, "Content-Length: %llu\r\n", (unsigned long long)call->stream_len)
                              : hbuf_add(call, "Transfer-Encoding: chunked\r\n", 28);
    else if (!rc && (call->body_len || call->send_length))
        rc = hbuf_printf(call, "Content-Length: %zu\r\n", call->body_len);
    rc = rc ? rc : hbuf_add(call, "\r\n", 2);
    bool together = !call->body_stream && call->body_len <= SMALL_BODY;
    if (!rc && together && call->body_len)
        rc = hbuf_add(call, call->body, call->body_len);
    if (rc)
        return conn_fail(k, -ENOMEM, "no memory for the request");
    SEA_AWAIT(send_bytes(call, k, call->hbuf, call->hlen, "the request"));
    if (!together && !call->body_stream)
        SEA_AWAIT(send_bytes(call, k, call->body, call->body_len, "the request body"));
    if (call->body_stream)
        SEA_AWAIT(send_stream(call, k));
    return sea_ready();
}

/* Sends the request on k and reads the response's head. */
static sea_future send_and_read(struct call *call, struct conn *k) {
    call->sock_err = 0;
    sea_future f = sea_await(send_request(call, k));
    if (!sea_future_failed(&f)) {
        sea_future_detach(f);
        return read_head(call, k);
    }
    /* A server may answer before it has read the whole request (413, 401) and close: read that answer. */
    if ((call->sock_err == -EPIPE || call->sock_err == -ECONNRESET) && !k->expired && !call->c->closing) {
        sea_future h = sea_await(read_head(call, k));
        if (!sea_future_failed(&h)) {
            k->broken = true;
            sea_future_detach(f);
            return h;
        }
        sea_future_detach(h);
    }
    return f;
}

/* ---- a request, in its fiber ---- */

static bool idempotent(const char *method) {
    static const char *const m[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (strcmp(method, m[i]) == 0)
            return true;
    return false;
}

/* An idle connection that is still open (the server may have closed it), or a new one: v.ptr. */
static sea_future get_conn(struct call *call, bool fresh) {
    sea_http_client *c = call->c;
    while (!fresh && !sea__list_empty(&c->idle)) {
        struct conn *k = sea__list_entry(sea__list_first(&c->idle), struct conn, link);
        conn_unlist(k);
        sea_timer_cancel(&k->timer);
        char byte;
        long r;
        if (k->tls) {
            /*
             * Bytes waiting on a TLS connection may be the server's session tickets: only its end says the
             * connection is gone (a close_notify alone shows at the next read, which a retry covers).
             */
            ssize_t p = recv(sea_socket_fd(k->s), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            r = p < 0 ? -errno : p == 0 ? 0 : -EAGAIN;
            if (r == -EWOULDBLOCK)
                r = -EAGAIN;
        } else {
            r = sea_socket_try_read(k->s, &byte, 1);
        }
        if (r == -EAGAIN) {
            sea__list_push_back(&c->busy, &k->link);
            return sea_ready_ptr(k);
        }
        c->st.stale++; /* closed by the server (0), reset, or talking out of turn (a 408, say) */
        conn_free(k);
    }
    if (c->closing)
        return fail_closed(c, call->label);
    sea_time left = call->deadline == SEA_TIME_MAX ? SEA_TIME_MAX : call->deadline - sea_now();
    if (left <= 0)
        return fail_timeout(c, call->label);
    sea_time t = left < c->o.connect_timeout ? left : c->o.connect_timeout;
    sea_value v;
    int err = sea_await_value(sea_connect(&c->addr, t), &v);
    if (c->closing) {
        if (!err)
            sea_socket_close(v.ptr);
        return fail_closed(c, call->label);
    }
    if (err == -ETIMEDOUT)
        return t < c->o.connect_timeout ? fail_timeout(c, call->label)
                                        : failf(c, call->label, err, "connecting: no connection within %lld ms",
                                                msec(t));
    if (err)
        return failf(c, call->label, err, "connecting: %s", sea_strerror(err));
    sea_tls *tls = NULL;
    if (c->o.tls) {
        sea_value tv;
        char msg[512] = "";
        sea_future h = sea_await(sea_tls_connect(c->o.tls, v.ptr, c->tls_name, t));
        int herr = sea_future_error(&h);
        if (herr) {
            snprintf(msg, sizeof(msg), "%s", sea_future_message(&h) ? sea_future_message(&h) : sea_strerror(herr));
            sea_future_ignore(h);
            sea_socket_close(v.ptr);
            return failf(c, call->label, herr, "connecting: %s", msg);
        }
        tv = sea_future_value(&h);
        tls = tv.ptr;
    }
    struct conn *k = calloc(1, sizeof(*k));
    if (k && tls) {
        k->tls = tls;
        k->tin = sea_tls_input(tls);
        k->tout = sea_tls_output(tls, 0);
    }
    if (!k || (tls && (!k->tin || !k->tout))) {
        if (k) {
            sea_output_stream_free(k->tout);
            sea_input_stream_free(k->tin);
        }
        sea_tls_free(tls);
        free(k);
        sea_socket_close(v.ptr);
        return failf(c, call->label, -ENOMEM, "no memory for a connection");
    }
    k->c = c;
    k->s = v.ptr;
    sea_timer_init(&k->timer, conn_timer, k);
    sea__list_push_back(&c->busy, &k->link);
    c->st.connects++;
    c->st.open++;
    return sea_ready_ptr(k);
}

/*
 * Sends the request and reads its response's head, on a kept connection
 * or a new one; a failure on a reused connection before any of the answer
 * came is tried again, once, on a new one, when that is safe.  On success
 * call->k is the connection, its body still to read.
 */
static sea_future exchange(struct call *call) {
    sea_http_client *c = call->c;
    bool retried = false;
    for (;;) {
        sea_value v;
        sea_future g = sea_await(get_conn(call, retried));
        if (sea_future_failed(&g))
            return g;
        v = sea_future_value(&g);
        struct conn *k = v.ptr;
        memcpy(k->label, call->label, sizeof(k->label));
        k->got_bytes = false;
        k->scan = k->line = 0;
        k->empty_lines = 0;
        if (call->deadline != SEA_TIME_MAX)
            sea_timer_arm_at(&k->timer, call->deadline);
        bool reused = k->served > 0;
        c->st.requests++;
        c->st.reused += reused;
        sea_future f = sea_await(send_and_read(call, k));
        if (!sea_future_failed(&f)) {
            call->k = k;
            return f;
        }
        int err = sea_future_error(&f);
        bool retry = !retried && reused && !k->got_bytes && !k->expired && !c->closing && !call->body_stream &&
                     idempotent(call->method) && (err == -ECONNRESET || err == -EPIPE || err == -ECONNABORTED);
        conn_release(k, false);
        if (!retry)
            return f;
        sea_future_detach(f);
        c->st.retries++;
        retried = true;
    }
}

static bool parse_port(const char *s, size_t n, unsigned *port) {
    if (n == 0 || n > 5)
        return false;
    unsigned p = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        p = p * 10 + (unsigned)(s[i] - '0');
    }
    *port = p;
    return p <= 65535;
}

/* Splits an authority "host[:port]" ("[v6]:port") into host and port (80 when absent). */
static bool split_authority(const char *a, size_t n, const char **host, size_t *hlen, unsigned *port) {
    const char *colon = NULL;
    if (n && a[0] == '[') {
        const char *rb = memchr(a, ']', n);
        if (!rb)
            return false;
        if ((size_t)(rb + 1 - a) < n) {
            if (rb[1] != ':')
                return false;
            colon = rb + 1;
        }
    } else {
        colon = memchr(a, ':', n);
    }
    *host = a;
    *hlen = colon ? (size_t)(colon - a) : n;
    *port = 80;
    if (colon && !parse_port(colon + 1, (size_t)(a + n - colon - 1), port))
        return colon + 1 == a + n; /* "host:" is host with the default port */
    return *hlen > 0;
}

static bool same_authority(const sea_http_client *c, const char *a, size_t n) {
    const char *h1, *h2;
    size_t l1, l2;
    unsigned p1, p2;
    if (memchr(a, '@', n) || !split_authority(a, n, &h1, &l1, &p1) ||
        !split_authority(c->host, strlen(c->host), &h2, &l2, &p2))
        return false;
    return l1 == l2 && strncasecmp(h1, h2, l1) == 0 && p1 == p2;
}

/* Appends n bytes of a Location to a target, percent-encoding what a request-target cannot hold. */
static char *encode_target(const char *prefix, size_t plen, const char *s, size_t n) {
    char *t = malloc(plen + 3 * n + 2);
    if (!t)
        return NULL;
    memcpy(t, prefix, plen);
    size_t o = plen;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch > 0x20 && ch < 0x7f) {
            t[o++] = (char)ch;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            t[o++] = '%';
            t[o++] = hex[ch >> 4];
            t[o++] = hex[ch & 15];
        }
    }
    if (o == 0)
        t[o++] = '/';
    t[o] = 0;
    return t;
}

/*
 * Whether to follow the response in call->out: 1 with the new target in
 * *to (malloc'ed) and the method and body changed as the status asks; 0
 * when the response is the answer; -ELOOP when the redirects are used up;
 * -ENOMEM.
 */
static int redirect_target(struct call *call, char **to) {
    sea_http_client *c = call->c;
    sea_http_client_response *out = call->out;
    int st = out->status;
    if (!c->o.max_redirects || !(st == 301 || st == 302 || st == 303 || st == 307 || st == 308))
        return 0;
    const char *loc = sea_http_client_response_header(out, "Location");
    if (!loc || !*loc)
        return 0;
    size_t n = strcspn(loc, "#"); /* a fragment is the client's business, not the server's */
    const char *path;
    size_t plen;
    const char *prefix = "";
    size_t prefix_len = 0;
    size_t scheme = strspn(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    const char *auth = NULL;
    if (scheme && scheme < n && loc[scheme] == ':') {
        if (scheme != 4 || strncasecmp(loc, "http", 4) != 0 || strncmp(loc + 4, "://", 3) != 0)
            return 0; /* https, or another scheme: not this client's server */
        auth = loc + 7;
    } else if (n >= 2 && loc[0] == '/' && loc[1] == '/') {
        auth = loc + 2;
    }
    if (auth) {
        size_t alen = strcspn(auth, "/?#");
        if (!same_authority(c, auth, alen))
            return 0;
        path = auth + alen;
        plen = n - (size_t)(path - loc);
        if (plen == 0 || path[0] == '?') {
            prefix = "/";
            prefix_len = 1;
        }
    } else if (n && loc[0] == '/') {
        path = loc;
        plen = n;
    } else {
        /* A relative reference: against the request's path (dot segments are left to the server). */
        path = loc;
        plen = n;
        prefix = call->path;
        if (call->path[0] != '/')
            return 0;
        if (loc[0] == '?') {
            prefix_len = strcspn(call->path, "?");
        } else {
            const char *q = call->path + strcspn(call->path, "?");
            const char *slash = call->path;
            for (const char *p = call->path; p < q; p++)
                if (*p == '/')
                    slash = p;
            prefix_len = (size_t)(slash + 1 - call->path);
        }
    }
    bool keep_method = st == 307 || st == 308;
    bool to_get = !keep_method && strcmp(call->method, "HEAD") != 0 &&
                  (st == 303 || strcmp(call->method, "POST") == 0);
    if (keep_method && call->body_stream)
        return 0; /* a stream cannot be sent twice */
    if (call->redirects >= c->o.max_redirects)
        return -ELOOP;
    char *t = encode_target(prefix, prefix_len, path, plen);
    if (!t)
        return -ENOMEM;
    if (to_get && strcmp(call->method, "GET") != 0) {
        char *m = strdup("GET");
        if (!m) {
            free(t);
            return -ENOMEM;
        }
        free(call->method);
        call->method = m;
    }
    if (to_get) {
        call->body = NULL;
        call->body_len = 0;
        call->body_stream = NULL;
        call->send_length = false;
    }
    *to = t;
    return 1;
}

/* Reads and drops a body up to DRAIN_MAX: whether the connection can be kept. */
static bool drain(struct conn *k) {
    if (k->mode == B_CLOSE || (k->mode == B_LENGTH && k->left > DRAIN_MAX))
        return false;
    size_t n = 0;
    while (!k->body_done && n <= DRAIN_MAX) {
        sea_buf b;
        sea_future f = sea_await(body_next(k, &b));
        if (sea_future_failed(&f)) {
            sea_future_detach(f);
            return false;
        }
        sea_future_detach(f);
        n += b.len;
        sea_buf_release(&b);
    }
    return k->body_done;
}

/* Reads the whole body into call->out->body. */
static sea_future read_body(struct call *call, struct conn *k) {
    sea_http_client *c = call->c;
    size_t max = c->o.max_body;
    if (k->mode == B_LENGTH && k->left > max)
        return conn_fail(k, -EMSGSIZE, "the response body (%llu bytes) is longer than max_body (%zu bytes)",
                         (unsigned long long)k->left, max);
    sea_buf body = SEA_BUF_EMPTY;
    size_t len = 0;
    for (;;) {
        sea_buf b;
        sea_future f = sea_await(body_next(k, &b));
        if (sea_future_failed(&f)) {
            sea_buf_release(&body);
            return f;
        }
        sea_future_detach(f);
        if (b.len == 0)
            break;
        if (b.len > max - len) {
            sea_buf_release(&b);
            sea_buf_release(&body);
            return conn_fail(k, -EMSGSIZE, "the response body is longer than max_body (%zu bytes)", max);
        }
        if (len + b.len > body.len) {
            size_t cap = body.len ? body.len * 2 : k->mode == B_LENGTH ? len + b.len + (size_t)k->left : 16384;
            while (cap < len + b.len)
                cap *= 2;
            if (cap > max && len + b.len <= max)
                cap = max;
            sea_buf nb;
            if (sea_buf_new(&nb, cap) < 0) {
                sea_buf_release(&b);
                sea_buf_release(&body);
                return conn_fail(k, -ENOMEM, "no memory for the response body (%zu bytes)", cap);
            }
            if (len)
                memcpy(nb.data, body.data, len);
            sea_buf_release(&body);
            body = nb;
        }
        memcpy(body.data + len, b.data, b.len);
        len += b.len;
        sea_buf_release(&b);
    }
    if (len)
        sea_buf_trim(&body, len);
    call->out->body = body;
    return sea_ready();
}

/* Hands the connection (and its slot) to a body stream in call->out. */
static sea_future make_stream(struct call *call, struct conn *k) {
    sea_http_client *c = call->c;
    struct body_src *src = calloc(1, sizeof(*src));
    if (!src) {
        conn_release(k, false);
        return failf(c, call->label, -ENOMEM, "no memory for the response body's stream");
    }
    src->base.ops = &src_ops;
    src->c = c;
    src->k = k;
    src->has_slot = call->has_slot;
    call->has_slot = false;
    c->active++; /* until the stream is freed */
    if (k->body_done)
        src_done(src); /* no body: the connection goes back at once */
    sea_input_stream *in = sea_input_stream_from(&src->base);
    if (!in)
        return failf(c, call->label, -ENOMEM, "no memory for the response body's stream");
    call->out->body_stream = in;
    return sea_ready_int(call->out->status);
}

static sea_future run_call(struct call **cp) {
    struct call *call = *cp;
    sea_http_client *c = call->c;
    sea_http_client_response *out = call->out;
    for (;;) {
        sea_future f = sea_await(exchange(call));
        if (sea_future_failed(&f))
            return f;
        sea_future_detach(f);
        struct conn *k = call->k;
        call->k = NULL;
        char *to = NULL;
        int r = redirect_target(call, &to);
        if (r < 0) {
            conn_release(k, r == -ELOOP && drain(k));
            if (r == -ELOOP)
                return failf(c, call->label, -ELOOP, "more than max_redirects (%u) redirects, the last to %s",
                             c->o.max_redirects, sea_http_client_response_header(out, "Location"));
            return failf(c, call->label, r, "no memory to follow a redirect");
        }
        if (r > 0) {
            conn_release(k, drain(k));
            free(call->path);
            call->path = to;
            call->redirects++;
            c->st.redirects++;
            snprintf(call->label, sizeof(call->label), "%s %s", call->method, call->path);
            free(out->sea__mem);
            *out = (sea_http_client_response){0};
            continue;
        }
        out->redirects = call->redirects;
        if (call->streaming)
            return make_stream(call, k);
        sea_future b = sea_await(read_body(call, k));
        bool ok = !sea_future_failed(&b);
        conn_release(k, ok);
        if (!ok)
            return b;
        sea_future_detach(b);
        return sea_ready_int(out->status);
    }
}

/* ---- starting and ending a request ---- */

static void client_free(sea_http_client *c) {
    sea_semaphore_destroy(&c->slots);
    free(c->host);
    free(c->tls_name);
    free(c->user_agent);
    free(c);
}

static void active_dec(sea_http_client *c) {
    if (--c->active == 0 && c->closing) {
        if (c->close_waiting) {
            sea_promise_set_void(&c->closed);
            sea_promise_release(&c->closed);
        }
        client_free(c);
    }
}

static void call_free(struct call *call) {
    free(call->method);
    free(call->path);
    free(call->fields);
    free(call->hbuf);
    free(call);
}

static sea_future call_done(struct call **cp, sea_future *in) {
    struct call *call = *cp;
    sea_http_client *c = call->c;
    if (call->has_slot)
        sea_semaphore_signal(&c->slots, 1);
    if (sea_future_failed(in))
        sea_http_client_response_free(call->out);
    call_free(call);
    active_dec(c);
    return sea_future_move(in);
}

static sea_future got_slot(struct call **cp, sea_future *in) {
    struct call *call = *cp;
    sea_http_client *c = call->c;
    if (sea_future_failed(in)) {
        int err = sea_future_error(in);
        if (c->closing)
            return fail_closed(c, call->label);
        if (err == -ETIMEDOUT)
            return failf(c, call->label, -ETIMEDOUT,
                         "no connection free within the request timeout (%lld ms; max_connections %u)",
                         msec(c->o.request_timeout), c->o.max_connections);
        return sea_future_move(in);
    }
    call->has_slot = true;
    return sea_fiber_start_attr((&(sea_fiber_attr){.name = "http-client"}), run_call, call);
}

static bool token(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!sea__http_tchar[(unsigned char)*s])
            return false;
    return true;
}

static bool field_value_ok(const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return false;
    }
    return true;
}

static int fields_add(char **buf, size_t *len, size_t *cap, const char *name, const char *value) {
    size_t n = strlen(name) + strlen(value) + 4;
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (nc < *len + n + 1)
            nc *= 2;
        char *b = realloc(*buf, nc);
        if (!b)
            return -ENOMEM;
        *buf = b;
        *cap = nc;
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "%s: %s\r\n", name, value);
    return 0;
}

#define REFUSE(...) \
    do { \
        call_free(call); \
        return sea_failed_fmt(-EINVAL, "sea_http_client_request: " __VA_ARGS__); \
    } while (0)

static sea_future start(sea_http_client *c, const sea_http_client_req *req, sea_http_client_response *out,
                        bool streaming) {
    if (out)
        *out = (sea_http_client_response){0};
    if (!c || !req || !out)
        return sea_failed(-EINVAL, "sea_http_client_request: no client, request or response");
    if (sea_shard_id() != c->shard)
        return sea_failed_fmt(-EXDEV, "sea_http_client_request: the client belongs to shard %u, not %u", c->shard,
                              sea_shard_id());
    struct call *call = calloc(1, sizeof(*call));
    if (!call)
        return sea_failed(-ENOMEM, "sea_http_client_request: no memory for a request");
    const char *method = req->method ? req->method : "GET";
    if (!token(method))
        REFUSE("the method \"%.40s\" is not a token", method);
    if (strcmp(method, "CONNECT") == 0)
        REFUSE("CONNECT is not supported");
    const char *path = req->path;
    if (!path || !*path)
        REFUSE("no path");
    if (path[0] != '/' && !(strcmp(path, "*") == 0 && strcmp(method, "OPTIONS") == 0))
        REFUSE("the path \"%.60s\" does not start with \"/\"", path);
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            REFUSE("the path \"%.60s\" has a space, a control character or a byte outside ASCII (percent-encode it)",
                   path);
    if (req->body && req->body_stream)
        REFUSE("both a body and a body stream");
    if (req->body_len && !req->body)
        REFUSE("body_len without a body");
    if (req->header_count && !req->headers)
        REFUSE("header_count without headers");
    call->c = c;
    call->out = out;
    call->streaming = streaming;
    call->method = strdup(method);
    call->path = strdup(path);
    char *fields = NULL;
    size_t flen = 0, fcap = 0;
    bool own_host = false, own_ua = false;
    for (unsigned i = 0; i < req->header_count; i++) {
        const sea_http_header *h = &req->headers[i];
        if (!h->name || !h->value || !token(h->name))
            REFUSE("header field %u has a malformed name", i);
        if (!field_value_ok(h->value))
            REFUSE("header field %s has a control character in its value", h->name);
        if (strcasecmp(h->name, "Content-Length") == 0 || strcasecmp(h->name, "Transfer-Encoding") == 0 ||
            strcasecmp(h->name, "Connection") == 0)
            REFUSE("header field %s is the client's to send", h->name);
        own_host |= strcasecmp(h->name, "Host") == 0;
        own_ua |= strcasecmp(h->name, "User-Agent") == 0;
    }
    int rc = 0;
    if (!own_host)
        rc = fields_add(&fields, &flen, &fcap, "Host", c->host);
    if (!rc && !own_ua && c->user_agent)
        rc = fields_add(&fields, &flen, &fcap, "User-Agent", c->user_agent);
    for (unsigned i = 0; !rc && i < req->header_count; i++)
        rc = fields_add(&fields, &flen, &fcap, req->headers[i].name, req->headers[i].value);
    call->fields = fields;
    call->fields_len = flen;
    if (rc || !call->method || !call->path) {
        call_free(call);
        return sea_failed(-ENOMEM, "sea_http_client_request: no memory for a request");
    }
    call->body = req->body;
    call->body_len = req->body_len;
    call->body_stream = req->body_stream;
    call->stream_len = req->body_stream_length;
    call->send_length =
        strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    snprintf(call->label, sizeof(call->label), "%s %s", method, path);
    if (c->closing) {
        sea_future f = fail_closed(c, call->label);
        call_free(call);
        return f;
    }
    sea_time timeout = c->o.request_timeout;
    sea_time now = sea_now();
    call->deadline = timeout == SEA_TIME_MAX || timeout > SEA_TIME_MAX - now ? SEA_TIME_MAX : now + timeout;
    c->active++;
    sea_future slot = call->deadline == SEA_TIME_MAX ? sea_semaphore_wait(&c->slots, 1)
                                                     : sea_semaphore_wait_for(&c->slots, 1, timeout);
    return sea_then_wrapped(sea_then_wrapped(slot, got_slot, call), call_done, call);
}

#undef REFUSE

/* ---- the public calls ---- */

int sea_http_client_new(const char *addr, const sea_http_client_options *opts, sea_http_client **out) {
    *out = NULL;
    if (!sea__hot.active)
        return SEA_ESHUTDOWN;
    sea_http_client_options o = opts ? *opts : (sea_http_client_options){0};
    if ((o.host && (!*o.host || !field_value_ok(o.host))) || (o.user_agent && !field_value_ok(o.user_agent)))
        return -EINVAL;
    sea_http_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (!addr || sea_addr_parse(addr, &c->addr) < 0) {
        free(c);
        return -EINVAL;
    }
    sea_addr_format(&c->addr, c->addr_text, sizeof(c->addr_text));
    if (!o.max_connections)
        o.max_connections = DEFAULT_MAX_CONNECTIONS;
    if (o.connect_timeout <= 0)
        o.connect_timeout = DEFAULT_CONNECT_TIMEOUT;
    if (o.request_timeout <= 0)
        o.request_timeout = DEFAULT_REQUEST_TIMEOUT;
    if (o.idle_timeout <= 0)
        o.idle_timeout = DEFAULT_IDLE_TIMEOUT;
    if (!o.max_head)
        o.max_head = DEFAULT_MAX_HEAD;
    if (!o.max_headers)
        o.max_headers = DEFAULT_MAX_HEADERS;
    if (!o.max_body)
        o.max_body = DEFAULT_MAX_BODY;
    const char *host = o.host;
    if (!host)
        host = c->addr.u.sa.sa_family == AF_UNIX ? "localhost" : c->addr_text;
    const char *ua = o.user_agent ? o.user_agent : "sea";
    c->host = strdup(host);
    c->user_agent = *ua ? strdup(ua) : NULL;
    if (o.tls) {
        /* The Host without its port ("[::1]:8443" -> "::1"), unless the options name it. */
        const char *name = o.tls_name ? o.tls_name : host;
        size_t n = strlen(name);
        if (!o.tls_name) {
            const char *colon = strrchr(name, ':');
            if (name[0] == '[') {
                const char *close = strchr(name, ']');
                name++;
                n = close ? (size_t)(close - name) : strlen(name);
            } else if (colon && strchr(name, ':') == colon) { /* one colon: host:port (several: a bare IPv6) */
                n = (size_t)(colon - name);
            }
        }
        c->tls_name = strndup(name, n);
    }
    o.host = o.user_agent = o.tls_name = NULL;
    c->o = o;
    if (!c->host || (*ua && !c->user_agent) || (o.tls && !c->tls_name)) {
        free(c->host);
        free(c->user_agent);
        free(c->tls_name);
        free(c);
        return -ENOMEM;
    }
    c->shard = sea_shard_id();
    sea_semaphore_init(&c->slots, o.max_connections);
    *out = c;
    return 0;
}

sea_future sea_http_client_request(sea_http_client *c, const sea_http_client_req *req,
                                   sea_http_client_response *out) {
    return start(c, req, out, false);
}

sea_future sea_http_client_get(sea_http_client *c, const char *path, sea_http_client_response *out) {
    return start(c, &(sea_http_client_req){.path = path}, out, false);
}

sea_future sea_http_client_request_stream(sea_http_client *c, const sea_http_client_req *req,
                                          sea_http_client_response *out) {
    return start(c, req, out, true);
}

const char *sea_http_client_response_header(const sea_http_client_response *resp, const char *name) {
    for (unsigned i = 0; i < resp->header_count; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

void sea_http_client_response_free(sea_http_client_response *resp) {
    if (!resp)
        return;
    free(resp->sea__mem);
    sea_buf_release(&resp->body);
    sea_input_stream_free(resp->body_stream);
    *resp = (sea_http_client_response){0};
}

sea_future sea_http_client_close(sea_http_client *c) {
    if (!c)
        return sea_failed(-EINVAL, "sea_http_client_close: no client");
    if (c->closing)
        return sea_failed(-EALREADY, "sea_http_client_close: the client is already closing");
    c->closing = true;
    sea_semaphore_broken(&c->slots, SEA_ECANCELED, "the HTTP client was closed");
    struct sea__link *l;
    while ((l = sea__list_first(&c->idle))) {
        struct conn *k = sea__list_entry(l, struct conn, link);
        conn_unlist(k);
        conn_free(k);
    }
    /* Requests in progress and body streams: their reads and writes end, and they fail with SEA_ECANCELED. */
    for (l = sea__list_first(&c->busy); l; l = sea__link_next(l))
        sea_socket_shutdown(sea__list_entry(l, struct conn, link)->s, SHUT_RDWR);
    if (c->active == 0) {
        client_free(c);
        return sea_ready();
    }
    sea_promise_init(&c->closed);
    c->close_waiting = true;
    return sea_promise_get_future(&c->closed);
}

int sea_http_client_stats_get(const sea_http_client *c, sea_http_client_stats *out) {
    *out = c->st;
    return 0;
}
