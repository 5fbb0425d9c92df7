/*
 * net/native/nsock.c - sockets and listeners over the native stack's TCP
 * (nsock.h), with the futures and errors of sea/net.h.
 *
 * Each socket is a TCP connection of the shard's engine plus the one read
 * and the one write that may be pending on it.  The engine's events
 * (readable, writable, connected, closed) resume them: a read copies what
 * arrived into the caller's buffer, a write hands the rest of its bytes to
 * the send buffer as room appears.  A write resolves when all its bytes are
 * in the send buffer, as a kernel socket's does when they are in the
 * kernel's.
 *
 * The stack may stop while sockets are still owned (at the orderly stop,
 * after the application's own stop): each is then reset, and its calls fail
 * from then on; the owner's close still frees it.
 */
#include "net/native/nsock.h"

#include <sea/error.h>
#include <sea/promise.h>
#include <sea/timer.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/native/stack.h"
#include "net/native/tcp.h"
#include "net/net.h"

struct sea__nsock {
    struct sea__nsock *prev, *next; /* this shard's, for sea__nsock_stack_gone */
    struct sea__nstack *st;          /* NULL once the stack is gone */
    struct sea__tcb *c;
    sea__nsock_wrap_fn wrap;
    bool reading, wait_only;
    uint8_t *rbuf;
    size_t rlen;
    sea_promise rp;
    bool writing;
    const uint8_t *wbuf;
    sea_buf wmem; /* the pending write's buffer (sea_socket_write_buf): TCP takes references to it */
    size_t wlen, wdone;
    int wfile; /* sendfile's file, else -1 */
    uint64_t wpos;
    sea_promise wp;
    bool connecting;
    sea_promise cp;
    sea_timer ctimer;
    struct sea__nudp *udp; /* a datagram socket's bound port (c is then NULL) */
    sea_addr *from;        /* where the pending datagram receive puts its sender */
};

struct sea__nlisten {
    struct sea__nlisten *prev, *next;
    struct sea__nstack *st;
    struct sea__tcp_listener *l;
    uint16_t port;
    sea__nsock_wrap_fn wrap;
    bool accepting;
    sea_promise ap;
};

static __thread struct sea__nsock *socks;
static __thread struct sea__nlisten *listeners;

#define net_stats sea__net_stats

static struct sea__tcp_engine *tcp_of(const struct sea__nsock *ns) {
    return sea__nstack_tcp(ns->st);
}

static sea_addr ipv4_addr(uint32_t a, uint16_t port) {
    sea_addr out;
    memset(&out, 0, sizeof(out));
    out.len = sizeof(out.u.in4);
    out.u.in4.sin_family = AF_INET;
    out.u.in4.sin_addr.s_addr = htonl(a);
    out.u.in4.sin_port = htons(port);
    return out;
}

/* ---- sockets ---- */

/*
 * The future of an operation that waits: p's, with *pending set, or the
 * failed future when none could be made (then nothing is pending).
 */
static sea_future wait_on(sea_promise *p, bool *pending) {
    sea_promise_init(p);
    sea_future f = sea_promise_get_future(p);
    if (sea_future_failed(&f)) {
        sea_promise_release(p);
        return f;
    }
    *pending = true;
    return f;
}

static void finish_read(struct sea__nsock *ns, long r) {
    ns->reading = false;
    if (r < 0)
        sea_promise_set_error(&ns->rp, (int)r, r == SEA_ECANCELED ? "socket closed" : NULL);
    else
        sea_promise_set_value(&ns->rp, (sea_value){.size = (size_t)r});
    sea_promise_release(&ns->rp);
}

static void finish_write(struct sea__nsock *ns, int err) {
    ns->writing = false;
    sea_buf_release(&ns->wmem);
    if (err)
        sea_promise_set_error(&ns->wp, err, err == SEA_ECANCELED ? "socket closed" : NULL);
    else
        sea_promise_set_value(&ns->wp, (sea_value){.size = ns->wlen});
    sea_promise_release(&ns->wp);
}

static sea_addr ipv4_addr(uint32_t a, uint16_t port);

/* 1: the read is over with *r, 0: nothing yet. */
static int read_now(struct sea__nsock *ns, long *r) {
    if (ns->udp && !ns->wait_only) {
        uint32_t from = 0;
        uint16_t fport = 0;
        *r = sea__nstack_udp_recv(ns->st, ns->udp, ns->rbuf, ns->rlen, &from, &fport);
        if (*r == -EAGAIN)
            return 0;
        if (*r >= 0) {
            *ns->from = ipv4_addr(from, fport);
            net_stats()->bytes_received += (uint64_t)*r;
        }
        return 1;
    }
    if (ns->wait_only) {
        if (ns->udp ? !sea__nstack_udp_waiting(ns->udp) : !sea__tcp_readable(ns->c))
            return 0;
        *r = 0;
        return 1;
    }
    *r = sea__tcp_recv(tcp_of(ns), ns->c, ns->rbuf, ns->rlen);
    if (*r == -EAGAIN)
        return 0;
    if (*r > 0)
        net_stats()->bytes_received += (uint64_t)*r;
    return 1;
}

/* Moves what it can of the pending write into the send buffer: 1 when it is all there, 0 for more, <0 error. */
static int write_now(struct sea__nsock *ns) {
    struct sea__tcp_engine *t = tcp_of(ns);
    while (ns->wdone < ns->wlen) {
        long n;
        if (ns->wfile >= 0) {
            /* Read into a buffer TCP keeps by reference: the file's bytes are copied once, by pread. */
            size_t room = sea__tcp_send_space(t, ns->c), want = ns->wlen - ns->wdone;
            if (want > 65536)
                want = 65536;
            if (want > room)
                want = room;
            if (!want) {
                long why = sea__tcp_send(t, ns->c, "", 0); /* 0: only the buffer is full; else why nothing goes */
                return why < 0 && why != -EAGAIN ? (int)why : 0;
            }
            sea_buf b;
            if (sea_buf_new(&b, want) < 0)
                return -ENOMEM;
            ssize_t got = pread(ns->wfile, b.data, want, (off_t)(ns->wpos + ns->wdone));
            int err = got < 0 ? -errno : got == 0 ? -EIO : 0; /* (-EIO: the file ended before len) */
            if (!err) {
                sea_buf_trim(&b, (size_t)got);
                n = sea__tcp_send_buf(t, ns->c, &b); /* the room was checked first: all of it, or an error */
            }
            sea_buf_release(&b);
            if (err)
                return err;
        } else if (ns->wmem.owner) {
            sea_buf rest = sea_buf_slice(&ns->wmem, ns->wdone, ns->wlen - ns->wdone);
            n = sea__tcp_send_buf(t, ns->c, &rest);
            sea_buf_release(&rest);
        } else {
            n = sea__tcp_send(t, ns->c, ns->wbuf + ns->wdone, ns->wlen - ns->wdone);
        }
        if (n == -EAGAIN)
            return 0;
        if (n < 0)
            return (int)n;
        ns->wdone += (size_t)n;
        net_stats()->bytes_sent += (uint64_t)n;
    }
    return 1;
}

static void nsock_unlink(struct sea__nsock *ns) {
    if (ns->prev)
        ns->prev->next = ns->next;
    else if (socks == ns)
        socks = ns->next;
    if (ns->next)
        ns->next->prev = ns->prev;
    ns->prev = ns->next = NULL;
}

static void nsock_free(struct sea__nsock *ns) {
    nsock_unlink(ns);
    net_stats()->sockets_open--;
    free(ns);
}

static void connect_done(struct sea__nsock *ns, int err);

/* The engine's events: whatever waits on them goes on. */
static void on_event(void *arg, unsigned ev) {
    struct sea__nsock *ns = arg;
    if (ns->connecting) {
        if (ev & SEA__TCP_EV_CONNECTED)
            connect_done(ns, 0);
        else if (ev & SEA__TCP_EV_CLOSED)
            connect_done(ns, sea__tcp_error(ns->c) ? sea__tcp_error(ns->c) : -ECONNRESET);
        return;
    }
    long r;
    if (ns->reading && read_now(ns, &r))
        finish_read(ns, r);
    if (ns->writing) {
        int rc = write_now(ns);
        if (rc != 0)
            finish_write(ns, rc < 0 ? rc : 0);
    }
}

static struct sea__nsock *nsock_new(struct sea__nstack *st, sea__nsock_wrap_fn wrap) {
    struct sea__nsock *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return NULL;
    ns->st = st;
    ns->wrap = wrap;
    ns->wfile = -1;
    ns->next = socks;
    if (socks)
        socks->prev = ns;
    socks = ns;
    net_stats()->sockets_open++;
    return ns;
}

sea_future sea__nsock_read(struct sea__nsock *ns, void *buf, size_t len, bool wait_only) {
    if (ns->reading)
        return sea_failed(-EBUSY, "a read is already pending on this socket");
    if (!ns->st)
        return sea_failed(-ECONNRESET, "the native network stack has stopped");
    ns->rbuf = buf;
    ns->rlen = len;
    ns->wait_only = wait_only;
    long r;
    if (read_now(ns, &r))
        return r < 0 ? sea_failed((int)r, NULL) : sea_ready_size((size_t)r);
    return wait_on(&ns->rp, &ns->reading);
}

long sea__nsock_try_read(struct sea__nsock *ns, void *buf, size_t len) {
    if (ns->reading)
        return -EBUSY;
    if (!ns->st)
        return -ECONNRESET;
    if (ns->udp)
        return sea__nstack_udp_recv(ns->st, ns->udp, buf, len, NULL, NULL);
    long r = sea__tcp_recv(tcp_of(ns), ns->c, buf, len);
    if (r > 0)
        net_stats()->bytes_received += (uint64_t)r;
    return r;
}

long sea__nsock_try_read_buf(struct sea__nsock *ns, size_t max, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    if (ns->reading)
        return -EBUSY;
    if (!ns->st)
        return -ECONNRESET;
    if (ns->udp) { /* a datagram is copied out of the stack's queue in any case */
        int rc = sea_buf_new(out, max);
        if (rc < 0)
            return rc;
        long r = sea__nstack_udp_recv(ns->st, ns->udp, out->data, max, NULL, NULL);
        if (r > 0)
            sea_buf_trim(out, (size_t)r);
        else
            sea_buf_release(out);
        return r;
    }
    long r = sea__tcp_recv_buf(tcp_of(ns), ns->c, max, out);
    if (r > 0)
        net_stats()->bytes_received += (uint64_t)r;
    return r;
}

/* A write refused: mem's reference is given back. */
static sea_future write_refused(sea_buf *mem, int err, const char *why) {
    sea_buf_release(mem);
    return sea_failed(err, why);
}

/* A write of len bytes at buf, or of the buffer mem (whose reference it takes), or of a file. */
static sea_future write_start(struct sea__nsock *ns, const void *buf, size_t len, sea_buf mem, int fd, uint64_t pos) {
    if (ns->writing)
        return write_refused(&mem, -EBUSY, "a write is already pending on this socket");
    if (!ns->st)
        return write_refused(&mem, -ECONNRESET, "the native network stack has stopped");
    if (ns->udp)
        return write_refused(&mem, -EDESTADDRREQ, "a datagram socket sends with sea_udp_send");
    ns->wbuf = buf;
    ns->wmem = mem;
    ns->wlen = len;
    ns->wdone = 0;
    ns->wfile = fd;
    ns->wpos = pos;
    int rc = write_now(ns);
    if (rc != 0) {
        sea_buf_release(&ns->wmem);
        return rc < 0 ? sea_failed(rc, NULL) : sea_ready_size(len);
    }
    sea_future f = wait_on(&ns->wp, &ns->writing);
    if (!ns->writing)
        sea_buf_release(&ns->wmem); /* (no memory to wait: nothing is pending) */
    return f;
}

sea_future sea__nsock_write(struct sea__nsock *ns, const void *buf, size_t len) {
    return write_start(ns, buf, len, SEA_BUF_EMPTY, -1, 0);
}

sea_future sea__nsock_write_buf(struct sea__nsock *ns, sea_buf b) {
    return write_start(ns, b.data, b.len, b, -1, 0);
}

sea_future sea__nsock_sendfile(struct sea__nsock *ns, int fd, uint64_t pos, size_t len) {
    if (fd < 0)
        return sea_failed(-EBADF, "sendfile: no file");
    return write_start(ns, NULL, len, SEA_BUF_EMPTY, fd, pos);
}

int sea__nsock_shutdown(struct sea__nsock *ns, int how) {
    if (!ns->st || ns->udp)
        return -ENOTCONN;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    if (how == SHUT_RD)
        return 0; /* nothing to tell the peer; what arrives is still read, or reset at close */
    int rc = sea__tcp_shutdown(tcp_of(ns), ns->c);
    return rc == -EPIPE ? 0 : rc;
}

void sea__nsock_close(struct sea__nsock *ns) {
    if (ns->reading)
        finish_read(ns, SEA_ECANCELED);
    if (ns->writing)
        finish_write(ns, SEA_ECANCELED);
    if (ns->st && ns->udp)
        sea__nstack_udp_close(ns->st, ns->udp);
    else if (ns->st)
        sea__tcp_close(tcp_of(ns), ns->c);
    nsock_free(ns);
}

sea_addr sea__nsock_peer(const struct sea__nsock *ns) {
    uint16_t lport = 0, rport = 0;
    uint32_t raddr = 0;
    if (ns->st && !ns->udp)
        sea__tcp_endpoints(ns->c, &lport, &raddr, &rport);
    return ipv4_addr(raddr, rport);
}

sea_addr sea__nsock_local(const struct sea__nsock *ns) {
    uint16_t lport = 0, rport = 0;
    uint32_t raddr = 0;
    if (!ns->st)
        return ipv4_addr(0, 0);
    if (ns->udp)
        return ipv4_addr(sea__nstack_addr(ns->st), sea__nstack_udp_port(ns->udp));
    sea__tcp_endpoints(ns->c, &lport, &raddr, &rport);
    return ipv4_addr(sea__nstack_addr(ns->st), lport);
}

int sea__nsock_set_keepalive(struct sea__nsock *ns, bool on) {
    if (!ns->st || ns->udp)
        return -ENOTCONN;
    sea__tcp_set_keepalive(tcp_of(ns), ns->c, on);
    return 0;
}

/* ---- connect ---- */

static void connect_done(struct sea__nsock *ns, int err) {
    ns->connecting = false;
    sea_timer_cancel(&ns->ctimer);
    sea_box *box = err ? NULL : ns->wrap(ns);
    if (!err && !box)
        err = -ENOMEM;
    if (err) {
        sea_promise_set_error(&ns->cp, err, err == -ETIMEDOUT ? "connect timed out" : NULL);
        sea_promise_release(&ns->cp);
        if (ns->st)
            sea__tcp_abort(tcp_of(ns), ns->c);
        nsock_free(ns);
        return;
    }
    net_stats()->connected++;
    sea_promise_set_box(&ns->cp, box);
    sea_promise_release(&ns->cp);
}

static void connect_timeout(sea_timer *t, void *arg) {
    (void)t;
    connect_done(arg, -ETIMEDOUT);
}

sea_future sea__nsock_connect(struct sea__nstack *st, const sea_addr *addr, sea_time timeout,
                              sea__nsock_wrap_fn wrap) {
    struct sea__nsock *ns = nsock_new(st, wrap);
    if (!ns)
        return sea_failed(-ENOMEM, "out of memory connecting");
    uint32_t raddr = ntohl(addr->u.in4.sin_addr.s_addr);
    uint16_t rport = ntohs(addr->u.in4.sin_port);
    int rc = sea__tcp_connect(sea__nstack_tcp(st), raddr, rport, on_event, ns, &ns->c);
    if (rc < 0) {
        nsock_free(ns);
        return sea_failed(rc, rc == -EADDRNOTAVAIL ? "no free local port" : NULL);
    }
    sea_future f = wait_on(&ns->cp, &ns->connecting);
    if (!ns->connecting) {
        sea__tcp_abort(sea__nstack_tcp(st), ns->c);
        nsock_free(ns);
        return f;
    }
    sea_timer_init(&ns->ctimer, connect_timeout, ns);
    if (timeout > 0)
        sea_timer_arm(&ns->ctimer, timeout);
    return f;
}

/* ---- listeners ---- */

static void nlisten_unlink(struct sea__nlisten *l) {
    if (l->prev)
        l->prev->next = l->next;
    else if (listeners == l)
        listeners = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

/* 1: a connection's box in *box, 0: none waiting, <0: error. */
static int accept_now(struct sea__nlisten *l, sea_box **box) {
    struct sea__tcb *c = sea__tcp_accept(l->l);
    if (!c)
        return 0;
    struct sea__nsock *ns = nsock_new(l->st, l->wrap);
    if (!ns) {
        sea__tcp_abort(sea__nstack_tcp(l->st), c);
        return -ENOMEM;
    }
    ns->c = c;
    sea__tcp_set_cb(c, on_event, ns);
    *box = l->wrap(ns);
    if (!*box) {
        sea__tcp_abort(sea__nstack_tcp(l->st), c);
        nsock_free(ns);
        return -ENOMEM;
    }
    net_stats()->accepted++;
    return 1;
}

static void on_acceptable(void *arg, unsigned ev) {
    (void)ev;
    struct sea__nlisten *l = arg;
    if (!l->accepting)
        return;
    sea_box *box = NULL;
    int rc = accept_now(l, &box);
    if (rc == 0)
        return;
    l->accepting = false;
    if (rc > 0)
        sea_promise_set_box(&l->ap, box);
    else
        sea_promise_set_error(&l->ap, rc, NULL);
    sea_promise_release(&l->ap);
}

int sea__nlisten_open(struct sea__nstack *st, const sea_addr *addr, int backlog, sea__nsock_wrap_fn wrap,
                      struct sea__nlisten **out) {
    uint32_t a = ntohl(addr->u.in4.sin_addr.s_addr);
    uint16_t port = ntohs(addr->u.in4.sin_port);
    if (a != 0 && a != sea__nstack_addr(st))
        return -EADDRNOTAVAIL; /* the stack has one address */
    struct sea__nlisten *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    int rc = sea__tcp_listen(sea__nstack_tcp(st), port, backlog, on_acceptable, l, &l->l);
    if (rc < 0) {
        free(l);
        return rc;
    }
    l->st = st;
    l->port = sea__tcp_listener_port(l->l); /* (the one chosen, for port 0) */
    l->wrap = wrap;
    l->next = listeners;
    if (listeners)
        listeners->prev = l;
    listeners = l;
    *out = l;
    return 0;
}

sea_addr sea__nlisten_addr(const struct sea__nlisten *l) {
    return ipv4_addr(l->st ? sea__nstack_addr(l->st) : 0, l->port);
}

sea_future sea__nlisten_accept(struct sea__nlisten *l) {
    if (!l->st)
        return sea_failed(SEA_ECANCELED, "the native network stack has stopped");
    if (l->accepting)
        return sea_failed(-EBUSY, "an accept is already pending on this listener");
    sea_box *box = NULL;
    int rc = accept_now(l, &box);
    if (rc > 0)
        return sea_ready_box(box);
    if (rc < 0)
        return sea_failed(rc, NULL);
    return wait_on(&l->ap, &l->accepting);
}

void sea__nlisten_close(struct sea__nlisten *l) {
    if (l->accepting) {
        l->accepting = false;
        sea_promise_set_error(&l->ap, SEA_ECANCELED, "listener closed");
        sea_promise_release(&l->ap);
    }
    if (l->st)
        sea__tcp_unlisten(sea__nstack_tcp(l->st), l->l);
    nlisten_unlink(l);
    free(l);
}

/* ---- UDP ---- */

static void udp_arrived(void *arg) {
    struct sea__nsock *ns = arg;
    long r;
    if (ns->reading && read_now(ns, &r))
        finish_read(ns, r);
}

int sea__nsock_udp_bind(struct sea__nstack *st, const sea_addr *addr, struct sea__nsock **out) {
    uint32_t a = ntohl(addr->u.in4.sin_addr.s_addr);
    if (a != 0 && a != sea__nstack_addr(st))
        return -EADDRNOTAVAIL;
    struct sea__nsock *ns = nsock_new(st, NULL);
    if (!ns)
        return -ENOMEM;
    int rc = sea__nstack_udp_bind(st, ntohs(addr->u.in4.sin_port), udp_arrived, ns, &ns->udp);
    if (rc < 0) {
        nsock_free(ns);
        return rc;
    }
    *out = ns;
    return 0;
}

sea_future sea__nsock_udp_send(struct sea__nsock *ns, const sea_addr *to, const void *data, size_t len) {
    if (!ns->st)
        return sea_failed(-ECONNRESET, "the native network stack has stopped");
    if (to->u.sa.sa_family != AF_INET)
        return sea_failed(-EAFNOSUPPORT, "the native stack sends UDP to IPv4 addresses only");
    int rc = sea__nstack_udp_send(ns->st, ns->udp, ntohl(to->u.in4.sin_addr.s_addr), ntohs(to->u.in4.sin_port),
                                  data, len);
    if (rc < 0)
        return sea_failed(rc, rc == -EMSGSIZE ? "a UDP datagram holds 65507 bytes at most" : NULL);
    net_stats()->bytes_sent += len;
    return sea_ready_size(len); /* with the device, or waiting for ARP: sent, as the kernel's send would say */
}

sea_future sea__nsock_udp_recv(struct sea__nsock *ns, void *buf, size_t len, sea_addr *from) {
    static __thread sea_addr ignored;
    ns->from = from ? from : &ignored;
    return sea__nsock_read(ns, buf, len, false);
}

/* ---- the stack stops ---- */

void sea__nsock_stack_gone(struct sea__nstack *st) {
    for (struct sea__nsock *ns = socks; ns; ns = ns->next) {
        if (ns->st != st)
            continue;
        if (ns->udp) {
            if (ns->reading)
                finish_read(ns, -ECONNRESET);
            sea__nstack_udp_close(st, ns->udp);
            ns->udp = NULL;
            ns->st = NULL;
            continue;
        }
        if (ns->connecting) { /* (connect_done frees ns: start over from the list's head) */
            connect_done(ns, -ECONNRESET);
            sea__nsock_stack_gone(st);
            return;
        }
        if (ns->reading)
            finish_read(ns, -ECONNRESET);
        if (ns->writing)
            finish_write(ns, -ECONNRESET);
        sea__tcp_abort(sea__nstack_tcp(st), ns->c);
        ns->c = NULL;
        ns->st = NULL;
    }
    for (struct sea__nlisten *l = listeners; l; l = l->next) {
        if (l->st != st)
            continue;
        if (l->accepting) {
            l->accepting = false;
            sea_promise_set_error(&l->ap, SEA_ECANCELED, "the native network stack has stopped");
            sea_promise_release(&l->ap);
        }
        sea__tcp_unlisten(sea__nstack_tcp(st), l->l);
        l->l = NULL;
        l->st = NULL;
    }
}
