/*
 * net.c - sockets on the reactor (sea/net.h).
 *
 * Every socket is non-blocking.  On epoll an operation first tries its
 * system call; only when the kernel says EAGAIN does it wait for readiness
 * (a sticky epoll registration) and try again, so data that is already
 * there costs one system call and no reactor turn.  On io_uring a stream
 * socket's read or write is instead one native IORING_OP_RECV / _SEND
 * request: the kernel does it when the socket is ready, and a loop turn's
 * requests share one io_uring_enter.  Datagrams, sea_socket_try_read and
 * sea_socket_wait_readable take the readiness path on both backends.
 *
 * Closing: a socket with an operation pending cannot simply close(2) its
 * descriptor (an io_uring poll holds its own reference to the file and would
 * never complete).  sea_socket_close shuts the socket down instead, which
 * wakes every poll on it; each waiting operation then fails with
 * SEA_ECANCELED, and the last one out closes the descriptor and frees the
 * socket.  Listeners and connects in progress work the same way.
 */
#include "net/net.h"

#include <sea/error.h>
#include <sea/promise.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "core/future.h"
#include "core/io.h"
#include "net/native/module.h"
#include "net/native/nsock.h"

/* ---- addresses ---- */

static bool parse_port(const char *s, uint16_t *port) {
    if (!*s || strlen(s) > 5)
        return false;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

int sea_addr_parse(const char *text, sea_addr *out) {
    memset(out, 0, sizeof(*out));
    if (!text)
        return -EINVAL;
    if (strncmp(text, "unix:", 5) == 0) {
        const char *path = text + 5;
        size_t n = strlen(path);
        bool abstract = path[0] == '@';
        if (n == 0 || n >= sizeof(out->u.un.sun_path) || (abstract && n == 1))
            return -EINVAL;
        out->u.un.sun_family = AF_UNIX;
        memcpy(out->u.un.sun_path, path, n);
        if (abstract) {
            out->u.un.sun_path[0] = '\0';
            out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        } else {
            out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        }
        return 0;
    }
    char host[64];
    const char *port;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = '\0';
        port = end + 2;
        uint16_t p;
        if (!parse_port(port, &p) || inet_pton(AF_INET6, host, &out->u.in6.sin6_addr) != 1)
            return -EINVAL;
        out->u.in6.sin6_family = AF_INET6;
        out->u.in6.sin6_port = htons(p);
        out->len = sizeof(struct sockaddr_in6);
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof(host))
        return -EINVAL;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    uint16_t p;
    if (!parse_port(colon + 1, &p) || inet_pton(AF_INET, host, &out->u.in4.sin_addr) != 1)
        return -EINVAL;
    out->u.in4.sin_family = AF_INET;
    out->u.in4.sin_port = htons(p);
    out->len = sizeof(struct sockaddr_in);
    return 0;
}

int sea_addr_format(const sea_addr *a, char *buf, size_t len) {
    char host[INET6_ADDRSTRLEN];
    switch (a->u.sa.sa_family) {
    case AF_INET:
        inet_ntop(AF_INET, &a->u.in4.sin_addr, host, sizeof(host));
        return snprintf(buf, len, "%s:%u", host, ntohs(a->u.in4.sin_port));
    case AF_INET6:
        inet_ntop(AF_INET6, &a->u.in6.sin6_addr, host, sizeof(host));
        return snprintf(buf, len, "[%s]:%u", host, ntohs(a->u.in6.sin6_port));
    case AF_UNIX: {
        size_t n = a->len > offsetof(struct sockaddr_un, sun_path) ? a->len - offsetof(struct sockaddr_un, sun_path)
                                                                    : 0;
        if (n == 0)
            return snprintf(buf, len, "unix:");
        if (a->u.un.sun_path[0] == '\0')
            return snprintf(buf, len, "unix:@%.*s", (int)(n - 1), a->u.un.sun_path + 1);
        return snprintf(buf, len, "unix:%.*s", (int)strnlen(a->u.un.sun_path, n), a->u.un.sun_path);
    }
    default:
        return snprintf(buf, len, "(unknown address family %d)", a->u.sa.sa_family);
    }
}

uint16_t sea_addr_port(const sea_addr *a) {
    if (a->u.sa.sa_family == AF_INET)
        return ntohs(a->u.in4.sin_port);
    if (a->u.sa.sa_family == AF_INET6)
        return ntohs(a->u.in6.sin6_port);
    return 0;
}

/* ---- sockets ---- */

struct sea_socket {
    sea_box box;          /* first: the box is the socket */
    int fd;
    int pending;          /* readiness waits in flight */
    bool closing;
    sea_addr peer;        /* the local address is asked of the kernel when wanted */
    bool reading;
    void *rbuf;
    size_t rlen;
    sea_promise rp;
    bool writing;
    const char *wbuf;
    size_t wlen, wdone;
    int wfile;            /* sea_socket_sendfile: the file the pending write sends from, else -1 */
    uint64_t wpos;        /* and where in it wdone counts from */
    sea_promise wp;
    bool wait_only;       /* the pending read is sea_socket_wait_readable */
    /*
     * The last receive emptied the kernel's queue, so the next read waits for
     * readiness before trying: in a request/response exchange the reply has
     * only just gone out, and trying first would cost a failed recv every
     * time.  Data that arrives meanwhile is a new readiness event, so the
     * wait cannot miss it.
     */
    bool drained;
    bool dgram;           /* UDP: one datagram per read and write */
    sea_addr *from;       /* UDP: where the pending read stores the sender */
    sea_addr *to;         /* UDP: where the pending write goes (allocated by the first send) */
    struct sea__nsock *native; /* a connection of the native stack (fd -1): every call goes there */
};

static void socket_box_release(sea_box *box) {
    sea_socket_close((sea_socket *)box);
}

static bool is_tcp(int family) {
    return family == AF_INET || family == AF_INET6;
}

#define net_stats sea__net_stats

static sea_socket *socket_new(int fd) {
    sea_socket *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    net_stats()->sockets_open++;
    s->box.release = socket_box_release;
    s->fd = fd;
    s->wfile = -1;
    s->peer.len = sizeof(s->peer.u);
    getpeername(fd, &s->peer.u.sa, &s->peer.len);
    sea_addr local = sea_socket_local(s);
    if (is_tcp(local.u.sa.sa_family)) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return s;
}

/* The sea_socket of a native connection: the box the native side hands its owner (nsock.h). */
static sea_box *wrap_native(struct sea__nsock *ns) {
    sea_socket *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->box.release = socket_box_release;
    s->fd = -1;
    s->wfile = -1;
    s->native = ns;
    s->peer = sea__nsock_peer(ns);
    return &s->box;
}

static void socket_maybe_free(sea_socket *s) {
    if (s->closing && !s->pending && !s->reading && !s->writing) {
        sea__io_forget(s->fd);
        close(s->fd);
        free(s->to);
        free(s);
        net_stats()->sockets_open--;
    }
}

/* Starts req (a readiness wait, or a native receive or send) on s's descriptor; cont runs when it ends.  0 or -ENOMEM. */
static int socket_start(sea_socket *s, const struct sea__io *req, sea__fnptr cont) {
    s->pending++; /* first: cont may run at once if the request is already over */
    struct sea__io q = *req;
    q.fd = s->fd;
    q.sticky = q.op == SEA__IO_POLL; /* sea's own socket: see sea__io_forget */
    sea_future io = sea__io_submit(&q, NULL);
    sea__future_settle(&io);
    bool waiting = !sea_future_available(&io);
    sea_future c = sea__then_wrapped(io, cont, &s, sizeof(s));
    if (waiting && sea_future_failed(&c) && sea_future_error(&c) == -ENOMEM) {
        s->pending--;
        sea_future_detach(c);
        return -ENOMEM;
    }
    sea_future_detach(c);
    return 0;
}

/* Waits for events on s's descriptor, then runs cont.  Returns 0 or -ENOMEM. */
static int socket_wait(sea_socket *s, uint32_t events, sea__fnptr cont) {
    return socket_start(s, &(struct sea__io){.op = SEA__IO_POLL, .events = events}, cont);
}

/* 1: done (*n bytes, 0 at end), 0: would block, <0: error. */
static int try_read(sea_socket *s, size_t *n) {
    for (;;) {
        ssize_t r;
        if (s->dgram) {
            s->from->len = sizeof(s->from->u);
            r = recvfrom(s->fd, s->rbuf, s->rlen, MSG_DONTWAIT, &s->from->u.sa, &s->from->len);
        } else {
            r = recv(s->fd, s->rbuf, s->rlen, MSG_DONTWAIT);
            /* Fewer bytes than asked for: the kernel's queue is empty now (see "drained"). */
            s->drained = r > 0 && (size_t)r < s->rlen;
        }
        if (r >= 0) {
            *n = (size_t)r;
            net_stats()->bytes_received += (uint64_t)r;
            return 1;
        }
        if (errno == EINTR)
            continue;
        bool would_block = errno == EAGAIN || errno == EWOULDBLOCK;
        s->drained = would_block && !s->dgram;
        return would_block ? 0 : -errno;
    }
}

/* Ends a pending read or write: resolves its promise and frees s if it is closing and idle. */
static void op_finish(sea_socket *s, bool *busy, sea_promise *p, int err, size_t n) {
    *busy = false;
    if (err)
        sea_promise_set_error(p, err, err == SEA_ECANCELED ? "socket closed" : NULL);
    else
        sea_promise_set_value(p, (sea_value){.size = n});
    sea_promise_release(p);
    socket_maybe_free(s);
}

static void read_finish(sea_socket *s, int err, size_t n) {
    s->wait_only = false;
    op_finish(s, &s->reading, &s->rp, err, n);
}

/* Starts req on behalf of a read or write (busy, p): the future the caller gets. */
static sea_future op_start(sea_socket *s, bool *busy, sea_promise *p, const struct sea__io *req,
                           sea__fnptr cont) {
    sea_promise_init(p);
    sea_future f = sea_promise_get_future(p);
    if (sea_future_failed(&f)) {
        sea_promise_release(p);
        return f;
    }
    *busy = true;
    if (socket_start(s, req, cont) < 0)
        op_finish(s, busy, p, -ENOMEM, 0);
    return f;
}

static sea_future op_wait(sea_socket *s, bool *busy, sea_promise *p, uint32_t events, sea__fnptr cont) {
    return op_start(s, busy, p, &(struct sea__io){.op = SEA__IO_POLL, .events = events}, cont);
}

/* A readiness wait ended: 0 to retry the operation, else why it must fail. */
static int woken(sea_socket *s, sea_future *in) {
    s->pending--;
    int err = sea_future_failed(in) ? sea_future_error(in) : 0;
    return !err && s->closing ? SEA_ECANCELED : err;
}

static sea_future read_ready(sea_socket **sp, sea_future *in) {
    sea_socket *s = *sp;
    int err = woken(s, in);
    if (s->wait_only) {
        s->wait_only = false;
        read_finish(s, err, 0);
        return sea_ready();
    }
    if (err) {
        read_finish(s, err, 0);
        return sea_ready();
    }
    size_t n = 0;
    int rc = try_read(s, &n);
    if (rc == 0) { /* woken, but nothing to read after all: wait again */
        if (socket_wait(s, POLLIN | POLLRDHUP, (sea__fnptr)read_ready) == 0)
            return sea_ready();
        rc = -ENOMEM;
    }
    read_finish(s, rc < 0 ? rc : 0, n);
    return sea_ready();
}

/*
 * Native I/O (io_uring): the kernel receives or sends when the socket is
 * ready, so the operation is one request in the next batch instead of a
 * failed system call, a poll and a retry.
 */

/* A native operation ended: its byte count in *n, or why it failed. */
static int native_done(sea_socket *s, sea_future *in, size_t *n) {
    s->pending--;
    if (s->closing)
        return SEA_ECANCELED;
    if (sea_future_failed(in))
        return sea_future_error(in);
    *n = (size_t)sea_future_value(in).u;
    return 0;
}

static sea_future read_native_done(sea_socket **sp, sea_future *in) {
    sea_socket *s = *sp;
    size_t n = 0;
    int err = native_done(s, in, &n);
    net_stats()->bytes_received += n;
    if (err == -EAGAIN) {
        /* A kernel that honours O_NONBLOCK on io_uring requests: wait and retry the classic way. */
        if (socket_wait(s, POLLIN | POLLRDHUP, (sea__fnptr)read_ready) == 0)
            return sea_ready();
        err = -ENOMEM;
    }
    read_finish(s, err, n);
    return sea_ready();
}

sea_future sea_socket_read(sea_socket *s, void *buf, size_t len) {
    if (s->closing)
        return sea_failed(SEA_ECANCELED, "socket closed");
    if (s->native)
        return sea__nsock_read(s->native, buf, len, false);
    if (s->reading)
        return sea_failed(-EBUSY, "a read is already pending on this socket");
    s->rbuf = buf;
    s->rlen = len;
    s->wait_only = false;
    if (!s->dgram && sea__io_native())
        return op_start(s, &s->reading, &s->rp, &(struct sea__io){.op = SEA__IO_RECV, .buf = buf, .len = len},
                        (sea__fnptr)read_native_done);
    if (s->drained)
        return op_wait(s, &s->reading, &s->rp, POLLIN | POLLRDHUP, (sea__fnptr)read_ready);
    size_t n = 0;
    int rc = try_read(s, &n);
    if (rc > 0)
        return sea_ready_size(n);
    if (rc < 0)
        return sea_failed(rc, NULL);
    return op_wait(s, &s->reading, &s->rp, POLLIN | POLLRDHUP, (sea__fnptr)read_ready);
}

/*
 * sendfile(2) has no MSG_NOSIGNAL: a peer gone raises SIGPIPE at the
 * calling thread.  The shard's thread blocks SIGPIPE (once, at its first
 * sendfile) and takes a pending one back after EPIPE, so that the caller
 * sees -EPIPE and the process lives, as with a send.
 */
static __thread bool sigpipe_blocked;

static void block_sigpipe(void) {
    if (sigpipe_blocked)
        return;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigpipe_blocked = true;
}

static void take_sigpipe(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE) {
    }
}

/* The sendfile form of try_write: 1 all sent, 0 would block, <0 error. */
static int try_sendfile(sea_socket *s) {
    block_sigpipe();
    while (s->wdone < s->wlen) {
        off_t off = (off_t)(s->wpos + s->wdone);
        ssize_t r = sendfile(s->fd, s->wfile, &off, s->wlen - s->wdone);
        if (r > 0) {
            s->wdone += (size_t)r;
            net_stats()->bytes_sent += (uint64_t)r;
            continue;
        }
        if (r == 0)
            return -EIO; /* the file ended before len: it shrank */
        int err = errno;
        if (err == EINTR)
            continue;
        if (err == EPIPE)
            take_sigpipe(); /* which sets errno: hence err */
        return err == EAGAIN || err == EWOULDBLOCK ? 0 : -err;
    }
    return 1;
}

/* 1: all written, 0: would block, <0: error. */
static int try_write(sea_socket *s) {
    if (s->dgram) {
        for (;;) {
            ssize_t r = sendto(s->fd, s->wbuf, s->wlen, MSG_DONTWAIT | MSG_NOSIGNAL, &s->to->u.sa, s->to->len);
            if (r >= 0) {
                s->wdone = s->wlen; /* a datagram goes whole or not at all */
                net_stats()->bytes_sent += (uint64_t)r;
                return 1;
            }
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        }
    }
    if (s->wfile >= 0)
        return try_sendfile(s);
    while (s->wdone < s->wlen) {
        ssize_t r = send(s->fd, s->wbuf + s->wdone, s->wlen - s->wdone, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r >= 0) {
            s->wdone += (size_t)r;
            net_stats()->bytes_sent += (uint64_t)r;
            continue;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
    return 1;
}

static void write_finish(sea_socket *s, int err) {
    op_finish(s, &s->writing, &s->wp, err, s->wlen);
}

static sea_future write_ready(sea_socket **sp, sea_future *in) {
    sea_socket *s = *sp;
    int err = woken(s, in);
    if (err) {
        write_finish(s, err);
        return sea_ready();
    }
    int rc = try_write(s);
    if (rc == 0 && socket_wait(s, POLLOUT, (sea__fnptr)write_ready) < 0)
        rc = -ENOMEM;
    if (rc != 0)
        write_finish(s, rc < 0 ? rc : 0);
    return sea_ready();
}

/* A native send of what is left of the pending write; MSG_WAITALL makes the kernel send it all. */
#define send_req(s)                                                                                  \
    (struct sea__io) {                                                                               \
        .op = SEA__IO_SEND, .buf = (void *)((s)->wbuf + (s)->wdone), .len = (s)->wlen - (s)->wdone, \
        .flags = MSG_NOSIGNAL | MSG_WAITALL                                                          \
    }

static sea_future write_native_done(sea_socket **sp, sea_future *in) {
    sea_socket *s = *sp;
    size_t n = 0;
    int err = native_done(s, in, &n);
    net_stats()->bytes_sent += n;
    if (err == -EAGAIN) {
        if (socket_wait(s, POLLOUT, (sea__fnptr)write_ready) == 0)
            return sea_ready();
        err = -ENOMEM;
    }
    if (!err) {
        s->wdone += n;
        if (s->wdone < s->wlen) {
            /* A partial send (a signal, or a kernel without MSG_WAITALL for sends): send the rest. */
            if (socket_start(s, &send_req(s), (sea__fnptr)write_native_done) == 0)
                return sea_ready();
            err = -ENOMEM;
        }
    }
    write_finish(s, err);
    return sea_ready();
}

sea_future sea_socket_write(sea_socket *s, const void *buf, size_t len) {
    if (s->closing)
        return sea_failed(SEA_ECANCELED, "socket closed");
    if (s->native)
        return sea__nsock_write(s->native, buf, len);
    if (s->writing)
        return sea_failed(-EBUSY, "a write is already pending on this socket");
    s->wbuf = buf;
    s->wlen = len;
    s->wdone = 0;
    s->wfile = -1;
    if (!s->dgram && len && sea__io_native())
        return op_start(s, &s->writing, &s->wp, &send_req(s), (sea__fnptr)write_native_done);
    int rc = try_write(s);
    if (rc > 0)
        return sea_ready_size(len);
    if (rc < 0)
        return sea_failed(rc, NULL);
    return op_wait(s, &s->writing, &s->wp, POLLOUT, (sea__fnptr)write_ready);
}

static sea_future written_release(sea_buf *b, sea_future *in) {
    sea_buf_release(b);
    return sea_future_move(in);
}

sea_future sea_socket_write_buf(sea_socket *s, sea_buf b) {
    if (s->closing) {
        sea_buf_release(&b);
        return sea_failed(SEA_ECANCELED, "socket closed");
    }
    if (s->native)
        return sea__nsock_write_buf(s->native, b);
    return sea_then_wrapped(sea_socket_write(s, b.data, b.len), written_release, b);
}

sea_future sea_socket_sendfile(sea_socket *s, int fd, uint64_t pos, size_t len) {
    if (s->closing)
        return sea_failed(SEA_ECANCELED, "socket closed");
    if (s->native)
        return sea__nsock_sendfile(s->native, fd, pos, len);
    if (s->writing)
        return sea_failed(-EBUSY, "a write is already pending on this socket");
    if (s->dgram || fd < 0)
        return sea_failed(-EINVAL, "sea_socket_sendfile: a stream socket and a file descriptor, please");
    s->wbuf = NULL;
    s->wlen = len;
    s->wdone = 0;
    s->wfile = fd;
    s->wpos = pos;
    /* The readiness path on both backends: try now, and wait for room when the socket's buffer is full. */
    int rc = try_sendfile(s);
    if (rc > 0)
        return sea_ready_size(len);
    if (rc < 0)
        return sea_failed_fmt(rc, "sendfile: %s", strerror(-rc));
    return op_wait(s, &s->writing, &s->wp, POLLOUT, (sea__fnptr)write_ready);
}

int sea_socket_adopt(int fd, sea_socket **out) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    sea_socket *s = socket_new(fd);
    if (!s)
        return -ENOMEM;
    *out = s;
    return 0;
}

int sea_socket_shutdown(sea_socket *s, int how) {
    if (s->native)
        return sea__nsock_shutdown(s->native, how);
    return shutdown(s->fd, how) == 0 ? 0 : -errno;
}

long sea_socket_try_read(sea_socket *s, void *buf, size_t len) {
    if (s->closing)
        return SEA_ECANCELED;
    if (s->native)
        return sea__nsock_try_read(s->native, buf, len);
    if (s->reading)
        return -EBUSY;
    s->rbuf = buf;
    s->rlen = len;
    size_t n = 0;
    int rc = try_read(s, &n);
    return rc > 0 ? (long)n : rc == 0 ? -EAGAIN : rc;
}

long sea_socket_try_read_buf(sea_socket *s, size_t max, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    if (!max)
        return -EINVAL;
    if (s->closing)
        return SEA_ECANCELED;
    if (s->native)
        return sea__nsock_try_read_buf(s->native, max, out);
    int rc = sea_buf_new(out, max);
    if (rc < 0)
        return rc;
    long n = sea_socket_try_read(s, out->data, max);
    if (n > 0)
        sea_buf_trim(out, (size_t)n);
    else
        sea_buf_release(out);
    return n;
}

sea_future sea_socket_wait_readable(sea_socket *s) {
    if (s->closing)
        return sea_failed(SEA_ECANCELED, "socket closed");
    if (s->native)
        return sea__nsock_read(s->native, NULL, 0, true);
    if (s->reading)
        return sea_failed(-EBUSY, "a read is already pending on this socket");
    s->wait_only = true; /* cleared by read_finish, also when the wait cannot start */
    return op_wait(s, &s->reading, &s->rp, POLLIN | POLLRDHUP, (sea__fnptr)read_ready);
}

void sea_socket_close(sea_socket *s) {
    if (!s || s->closing)
        return;
    s->closing = true;
    if (s->native) {
        sea__nsock_close(s->native);
        free(s);
        return;
    }
    if (s->pending)
        shutdown(s->fd, SHUT_RDWR); /* wakes the waits; the last one frees s */
    socket_maybe_free(s);
}

sea_addr sea_socket_peer(const sea_socket *s) {
    return s->peer;
}

sea_addr sea_socket_local(const sea_socket *s) {
    if (s->native)
        return sea__nsock_local(s->native);
    sea_addr a = {.len = sizeof(a.u)};
    if (getsockname(s->fd, &a.u.sa, &a.len) < 0)
        memset(&a, 0, sizeof(a));
    return a;
}

int sea_socket_fd(const sea_socket *s) {
    return s->fd;
}

int sea_socket_set_nodelay(sea_socket *s, bool on) {
    if (s->native)
        return 0; /* the native stack sends at once: it has no Nagle's algorithm to turn off (or on) */
    int v = on;
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0 ? 0 : -errno;
}

int sea_socket_set_keepalive(sea_socket *s, bool on) {
    if (s->native)
        return sea__nsock_set_keepalive(s->native, on);
    int v = on;
    return setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/* ---- listeners ---- */

struct sea_listener {
    int fd;
    int pending;
    bool closing;
    bool accepting;
    sea_promise ap;
    sea_addr addr;
    struct sea__nlisten *native; /* a listener of the native stack (fd -1): accept goes there */
};

int sea_listen(const sea_addr *addr, const sea_listen_options *opts, sea_listener **out) {
    sea_listen_options none = {0};
    if (!opts)
        opts = &none;
    struct sea__nstack *st = sea__native_for(addr);
    if (st) {
        sea_listener *l = calloc(1, sizeof(*l));
        if (!l)
            return -ENOMEM;
        int rc = sea__nlisten_open(st, addr, opts->backlog, wrap_native, &l->native);
        if (rc < 0) {
            free(l);
            return rc;
        }
        l->fd = -1;
        l->addr = sea__nlisten_addr(l->native);
        *out = l;
        return 0;
    }
    int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (is_tcp(addr->u.sa.sa_family)) {
        if (!opts->no_reuse_address)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (opts->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
            int err = -errno;
            close(fd);
            return err;
        }
    }
    if (bind(fd, &addr->u.sa, addr->len) < 0 || listen(fd, opts->backlog > 0 ? opts->backlog : 1024) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    sea_listener *l = calloc(1, sizeof(*l));
    if (!l) {
        close(fd);
        return -ENOMEM;
    }
    l->fd = fd;
    l->addr.len = sizeof(l->addr.u);
    getsockname(fd, &l->addr.u.sa, &l->addr.len);
    *out = l;
    return 0;
}

int sea_listener_adopt(int fd, sea_listener **out) {
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return -errno;
    int listening = 0;
    len = sizeof(listening);
    if (type != SOCK_STREAM || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
        return -EINVAL;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    sea_listener *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->fd = fd;
    l->addr.len = sizeof(l->addr.u);
    getsockname(fd, &l->addr.u.sa, &l->addr.len);
    *out = l;
    return 0;
}

sea_addr sea_listener_addr(const sea_listener *l) {
    return l->addr;
}

int sea__listener_fd(const sea_listener *l) {
    return l->fd;
}

static void listener_maybe_free(sea_listener *l) {
    if (l->closing && !l->pending && !l->accepting) {
        sea__io_forget(l->fd);
        close(l->fd);
        free(l);
    }
}

/* 1: a socket in *out, 0: would block, <0: error. */
static int try_accept(sea_listener *l, sea_socket **out) {
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            *out = socket_new(fd);
            if (!*out) {
                close(fd);
                return -ENOMEM;
            }
            net_stats()->accepted++;
            return 1;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
}

static void accept_finish(sea_listener *l, int err, sea_socket *s) {
    l->accepting = false;
    if (s)
        sea_promise_set_box(&l->ap, &s->box);
    else
        sea_promise_set_error(&l->ap, err, err == SEA_ECANCELED ? "listener closed" : NULL);
    sea_promise_release(&l->ap);
    listener_maybe_free(l);
}

static int listener_wait(sea_listener *l);

static sea_future accept_ready(sea_listener **lp, sea_future *in) {
    sea_listener *l = *lp;
    l->pending--;
    int err = sea_future_failed(in) ? sea_future_error(in) : 0;
    if (!err && l->closing)
        err = SEA_ECANCELED;
    sea_socket *s = NULL;
    if (!err) {
        int rc = try_accept(l, &s);
        if (rc == 0)
            rc = listener_wait(l);
        if (rc < 0)
            err = rc;
        else if (rc == 0)
            return sea_ready(); /* waiting again */
    }
    accept_finish(l, err, s);
    return sea_ready();
}

static int listener_wait(sea_listener *l) {
    l->pending++; /* first: accept_ready may run at once if the poll is already over */
    sea_future poll = sea__io_poll_sticky(l->fd, POLLIN);
    sea__future_settle(&poll);
    bool waiting = !sea_future_available(&poll);
    sea_future c = sea_then_wrapped(poll, accept_ready, l);
    if (waiting && sea_future_failed(&c) && sea_future_error(&c) == -ENOMEM) {
        l->pending--;
        sea_future_detach(c);
        return -ENOMEM;
    }
    sea_future_detach(c);
    return 0;
}

sea_future sea_accept(sea_listener *l) {
    if (!l)
        return sea_failed(-EINVAL, "sea_accept: no listener");
    if (l->closing)
        return sea_failed(SEA_ECANCELED, "listener closed");
    if (l->native)
        return sea__nlisten_accept(l->native);
    if (l->accepting)
        return sea_failed(-EBUSY, "an accept is already pending on this listener");
    sea_socket *s = NULL;
    int rc = try_accept(l, &s);
    if (rc > 0)
        return sea_ready_box(&s->box);
    if (rc < 0)
        return sea_failed(rc, NULL);
    sea_promise_init(&l->ap);
    sea_future f = sea_promise_get_future(&l->ap);
    if (sea_future_failed(&f)) {
        sea_promise_release(&l->ap);
        return f;
    }
    l->accepting = true;
    rc = listener_wait(l);
    if (rc < 0)
        accept_finish(l, rc, NULL);
    return f;
}

void sea_listener_close(sea_listener *l) {
    if (!l || l->closing)
        return;
    l->closing = true;
    if (l->native) {
        sea__nlisten_close(l->native);
        free(l);
        return;
    }
    if (l->pending)
        shutdown(l->fd, SHUT_RDWR); /* wakes the pending poll */
    listener_maybe_free(l);
}

/* ---- connect ---- */

struct connecting {
    sea_promise p;
    int fd;
    sea_timer timer;
    bool timed, timed_out;
};

static void connect_timeout(sea_timer *t, void *arg) {
    struct connecting *c = arg;
    c->timed = false;
    c->timed_out = true;
    shutdown(c->fd, SHUT_RDWR); /* wakes the poll */
}

static sea_future connect_ready(struct connecting **cp, sea_future *in) {
    struct connecting *c = *cp;
    if (c->timed)
        sea_timer_cancel(&c->timer);
    int err = sea_future_failed(in) ? sea_future_error(in) : 0;
    if (!err && c->timed_out)
        err = -ETIMEDOUT;
    if (!err) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        err = -soerr;
    }
    sea_socket *s = err ? NULL : socket_new(c->fd);
    if (s)
        net_stats()->connected++;
    if (!err && !s)
        err = -ENOMEM;
    if (err) {
        sea__io_forget(c->fd);
        close(c->fd);
        sea_promise_set_error(&c->p, err, err == -ETIMEDOUT ? "connect timed out" : NULL);
    } else {
        sea_promise_set_box(&c->p, &s->box);
    }
    sea_promise_release(&c->p);
    free(c);
    return sea_ready();
}

sea_future sea_connect(const sea_addr *addr, sea_time timeout) {
    struct sea__nstack *st = sea__native_for(addr);
    if (st)
        return sea__nsock_connect(st, addr, timeout, wrap_native);
    int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sea_failed(-errno, "cannot create a socket");
    int rc;
    do
        rc = connect(fd, &addr->u.sa, addr->len);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        sea_socket *s = socket_new(fd);
        if (!s) {
            close(fd);
            return sea_failed(-ENOMEM, "out of memory making a socket");
        }
        net_stats()->connected++;
        return sea_ready_box(&s->box);
    }
    if (errno != EINPROGRESS && errno != EAGAIN) {
        int err = -errno;
        close(fd);
        return sea_failed(err, NULL);
    }
    struct connecting *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return sea_failed(-ENOMEM, "out of memory connecting");
    }
    c->fd = fd;
    sea_promise_init(&c->p);
    sea_future f = sea_promise_get_future(&c->p);
    /* The timer first: connect_ready may run at once, and it cancels the timer and frees c. */
    if (timeout > 0) {
        sea_timer_init(&c->timer, connect_timeout, c);
        c->timed = sea_timer_arm(&c->timer, timeout) == 0;
    }
    sea_future poll = sea__io_poll_sticky(fd, POLLOUT);
    sea__future_settle(&poll);
    bool waiting = !sea_future_available(&poll);
    sea_future w = sea_then_wrapped(poll, connect_ready, c);
    if (waiting && sea_future_failed(&w) && sea_future_error(&w) == -ENOMEM) {
        /* connect_ready will never run. */
        if (c->timed)
            sea_timer_cancel(&c->timer);
        sea_future_detach(w);
        sea_future_detach(f);
        sea_promise_release(&c->p);
        free(c);
        close(fd);
        return sea_failed(-ENOMEM, "out of memory connecting");
    }
    sea_future_detach(w);
    return f;
}

/* ---- UDP ---- */

int sea_udp_bind(const sea_addr *addr, sea_socket **out) {
    struct sea__nstack *st = sea__native_for(addr);
    if (st) {
        sea_socket *s = calloc(1, sizeof(*s));
        if (!s)
            return -ENOMEM;
        int rc = sea__nsock_udp_bind(st, addr, &s->native);
        if (rc < 0) {
            free(s);
            return rc;
        }
        s->box.release = socket_box_release;
        s->fd = -1;
        s->wfile = -1;
        s->dgram = true;
        *out = s;
        return 0;
    }
    int fd = socket(addr->u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, &addr->u.sa, addr->len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    sea_socket *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->box.release = socket_box_release;
    s->fd = fd;
    s->wfile = -1;
    s->dgram = true;
    net_stats()->sockets_open++;
    *out = s;
    return 0;
}

sea_future sea_udp_send(sea_socket *s, const sea_addr *to, const void *data, size_t len) {
    if (!s->dgram)
        return sea_failed(-EINVAL, "sea_udp_send on a stream socket");
    if (s->writing)
        return sea_failed(-EBUSY, "a send is already pending on this socket");
    if (s->native)
        return s->closing ? sea_failed(SEA_ECANCELED, "socket closed") : sea__nsock_udp_send(s->native, to, data, len);
    if (!s->to && !(s->to = malloc(sizeof(*s->to))))
        return sea_failed(-ENOMEM, "out of memory in sea_udp_send");
    *s->to = *to;
    return sea_socket_write(s, data, len);
}

sea_future sea_udp_recv(sea_socket *s, void *buf, size_t len, sea_addr *from) {
    static __thread sea_addr ignored;
    if (!s->dgram)
        return sea_failed(-EINVAL, "sea_udp_recv on a stream socket");
    if (s->reading)
        return sea_failed(-EBUSY, "a receive is already pending on this socket");
    if (s->native)
        return s->closing ? sea_failed(SEA_ECANCELED, "socket closed") : sea__nsock_udp_recv(s->native, buf, len, from);
    s->from = from ? from : &ignored;
    return sea_socket_read(s, buf, len);
}
