/*
 * backend_epoll.c - the epoll reactor backend (fallback and --reactor-backend=epoll).
 *
 * It behaves exactly like the io_uring backend.  epoll allows one registration
 * per descriptor, while sea allows several polls on the same descriptor (one
 * waiting to read, one to write), so each descriptor has an entry listing its
 * pending polls and the registration covers the union of their events.  A
 * descriptor epoll refuses (EPERM: regular files) is always ready, as poll(2)
 * and io_uring report it.  Sleeping uses epoll_pwait2 for nanosecond timeouts.
 *
 * sea's own sockets are "sticky" (sea__io_poll_sticky): registered once for
 * every event, edge-triggered, until their owner calls sea__io_forget before
 * closing them.  An edge that arrives while nobody waits is kept in the
 * entry's ready bits and handed to the next wait at once (ERR and HUP stay
 * set: they do not come again).  That saves the two epoll_ctl calls a
 * one-shot registration costs per wait.  Descriptors polled through the public
 * sea_fd_poll cannot be sticky: sea does not know when their owner closes them.
 *
 * The other operations give what io_uring gives.  Receives, sends and
 * accepts wait on the descriptor's list like polls (for POLLIN or POLLOUT)
 * and make their system call once it is ready, without blocking (recv and
 * send with MSG_DONTWAIT; send with MSG_NOSIGNAL, as io_uring does); if that
 * finds nothing after all (EAGAIN) they wait again.  A connect is made at
 * submission; if it is in progress it waits for POLLOUT and then connects
 * again, as io_uring does: that gives the outcome and leaves the socket as
 * io_uring leaves it (see socket_io).  On a sticky descriptor, whose edges
 * may have been taken already, they try their call first.  A cancelled
 * request still waiting is taken off its descriptor's list and ends at once.
 * An accept or connect on a blocking descriptor may block the shard (sea's
 * sockets are non-blocking).
 *
 * File operations (pread, pwrite, preadv, pwritev, fsync, fdatasync) have no
 * readiness to wait for.  On an O_DIRECT file (the request's aio flag) they
 * go to Linux AIO, as Seastar does: io_submit hands the request to the
 * device and returns, and the completion is announced on an eventfd in the
 * epoll set, so the shard never waits for the disk.  AIO on a file in the
 * page cache would do the copy (and any disk read) inside io_submit, so
 * other file operations are made inside submit and complete at once; the
 * disk layer sends buffered files to its syscall threads instead.  A
 * request AIO cannot take (its context full, or an offset of "the file
 * position", which AIO does not have) is made at once too.  AIO requests
 * cannot be cancelled (the kernel's io_cancel does not stop a direct read or
 * write): they complete with their result; destroy waits for them.
 */
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/list.h"

#define MAX_EVENTS 128

struct fd_entry {
    struct sea__io_request *waiting; /* linked by fd_next */
    uint32_t registered;         /* events registered with epoll, 0 if none */
    bool sticky;                 /* registered for good, edge-triggered (sea's sockets) */
    uint32_t ready;              /* sticky: edges seen that no request has taken yet */
    bool peer_closed;            /* sticky: the peer's FIN or a hang-up was seen (see taken()) */
};

/*
 * The ready bits a sticky request that got `got` takes away from the entry.
 * Readiness that will not come again as a new edge stays: errors and
 * hang-ups, and readability once the peer has closed (a reader that stops
 * after the last data, before the end of stream, must still be woken for
 * the end).
 */
static uint32_t taken(const struct fd_entry *ent, uint32_t got) {
    uint32_t edge = EPOLLIN | EPOLLOUT | EPOLLPRI;
    if (ent->peer_closed)
        edge &= ~(uint32_t)EPOLLIN;
    return got & edge;
}

/* A sticky registration: every event, edge-triggered, kept until sea__io_forget. */
#define STICKY_EVENTS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP | EPOLLET)

/* Requests an AIO context holds at most (io_setup's nr_events); the disk scheduler keeps far fewer in flight. */
#define AIO_EVENTS 1024

struct epoll_state {
    int epfd;
    struct fd_entry *fds; /* indexed by descriptor */
    size_t nfds;
    bool no_pwait2;
    aio_context_t aio;    /* Linux AIO for direct files: made at the first such request */
    int aio_efd;          /* its completions' eventfd, in the epoll set; -1 before */
    bool aio_refused;     /* io_setup failed (seccomp, fs.aio-max-nr): not tried again */
};

static struct epoll_state *state(struct sea__io_shard *io) {
    return io->state;
}

static int epoll_backend_init(struct sea__io_shard *io) {
    struct epoll_state *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0) {
        int err = -errno;
        free(e);
        return err;
    }
    e->aio_efd = -1;
    io->state = e;
    return 0;
}

static void epoll_backend_destroy(struct sea__io_shard *io) {
    struct epoll_state *e = state(io);
    if (!e)
        return;
    if (e->aio_efd >= 0) {
        syscall(SYS_io_destroy, e->aio); /* waits for the requests in flight: their buffers are then free */
        close(e->aio_efd);
    }
    close(e->epfd);
    free(e->fds);
    free(e);
    io->state = NULL;
}

static struct fd_entry *entry(struct epoll_state *e, int fd) {
    if ((size_t)fd >= e->nfds) {
        size_t n = e->nfds ? e->nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct fd_entry *grown = realloc(e->fds, n * sizeof(*grown));
        if (!grown)
            return NULL;
        memset(grown + e->nfds, 0, (n - e->nfds) * sizeof(*grown));
        e->fds = grown;
        e->nfds = n;
    }
    return &e->fds[fd];
}

/* Brings fd's epoll registration in line with the union of its requests' events. */
static int update(struct epoll_state *e, int fd, struct fd_entry *ent) {
    if (ent->sticky)
        return 0; /* registered for good */
    uint32_t want = 0;
    for (struct sea__io_request *r = ent->waiting; r; r = r->fd_next)
        want |= r->io.events;
    want &= EPOLLIN | EPOLLPRI | EPOLLOUT;
    if (ent->waiting && !want)
        want = EPOLLERR; /* only ERR/HUP requested: epoll always reports those; nothing else may wake us */
    if (want == ent->registered)
        return 0;
    struct epoll_event ev = {.events = want, .data.fd = fd};
    int op = !ent->registered ? EPOLL_CTL_ADD : want ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    if (epoll_ctl(e->epfd, op, fd, &ev) < 0)
        return -errno;
    ent->registered = want;
    return 0;
}

/* ---- operations other than polls ---- */

/* The most one receive or send moves (the kernel's own cap on a transfer), so that its count fits an int. */
#define MAX_TRANSFER ((size_t)INT_MAX & ~(size_t)4095)

/* Whether a short MSG_WAITALL transfer goes on: on stream sockets, as io_uring does. */
static bool waits_for_all(const struct sea__io_request *r) {
    if (!(r->io.flags & MSG_WAITALL))
        return false;
    int type = 0;
    socklen_t len = sizeof(type);
    return getsockopt(r->io.fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
           (type == SOCK_STREAM || type == SOCK_SEQPACKET);
}

/*
 * Makes a socket request's system call, its descriptor being ready: the
 * result, or -EAGAIN to wait for readiness again.  A MSG_WAITALL receive or
 * send keeps its progress in r->done and ends with it if the stream ends or
 * fails after part of the bytes.
 */
static int socket_io(struct sea__io_request *r) {
    const struct sea__io *q = &r->io;
    for (;;) {
        ssize_t n;
        switch (q->op) {
        case SEA__IO_RECV:
            n = recv(q->fd, (char *)q->buf + r->done, q->len - r->done, q->flags | MSG_DONTWAIT);
            break;
        case SEA__IO_SEND:
            n = send(q->fd, (const char *)q->buf + r->done, q->len - r->done, q->flags | MSG_DONTWAIT | MSG_NOSIGNAL);
            break;
        case SEA__IO_ACCEPT:
            n = accept4(q->fd, NULL, NULL, q->flags);
            if (n < 0 && errno == EINTR)
                continue;
            return n >= 0 ? (int)n : errno == EWOULDBLOCK ? -EAGAIN : -errno;
        default: {
            /*
             * SEA__IO_CONNECT, in progress until now.  Connecting again says
             * how it ended and leaves the socket as a finished connect does
             * (connected: a third connect is -EISCONN; refused: unconnected,
             * free to try again), as io_uring does; reading SO_ERROR alone
             * would leave it "connecting".  A socket that says it is
             * connected already (-EISCONN, or -EBADFD from some protocols)
             * has its outcome in SO_ERROR.
             */
            if (connect(q->fd, q->buf, (socklen_t)q->len) == 0)
                return 0;
            if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR)
                return -EAGAIN;
            if (errno != EISCONN && errno != EBADFD)
                return -errno;
            int err = 0;
            socklen_t len = sizeof(err);
            if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
            return -err;
        }
        }
        if (n > 0) {
            r->done += (size_t)n;
            if (r->done < q->len && waits_for_all(r))
                continue; /* more may be there already; else EAGAIN below */
            return (int)r->done;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -EAGAIN;
        /* The end of the stream (0), or an error: what was moved before it counts. */
        return r->done ? (int)r->done : n < 0 ? -errno : 0;
    }
}

/* Starts a connect: 0 if done at once, -EINPROGRESS to wait for POLLOUT, else why it failed. */
static int connect_start(const struct sea__io *q) {
    if (connect(q->fd, q->buf, (socklen_t)q->len) == 0)
        return 0;
    /* Interrupted (a blocking socket), the connection still goes on: wait for it like a non-blocking one. */
    return errno == EINPROGRESS || errno == EINTR ? -EINPROGRESS : -errno;
}

/* A file operation, made now: the byte count or 0, or -errno.  Offset -1: at the file position, as on io_uring. */
static int file_io(const struct sea__io *q) {
    bool at_pos = q->offset == UINT64_MAX;
    off_t off = (off_t)q->offset;
    int iovcnt = q->len < INT_MAX ? (int)q->len : INT_MAX; /* too many: -EINVAL */
    for (;;) {
        ssize_t n;
        switch (q->op) {
        case SEA__IO_READ:
            n = at_pos ? read(q->fd, q->buf, q->len) : pread(q->fd, q->buf, q->len, off);
            break;
        case SEA__IO_WRITE:
            n = at_pos ? write(q->fd, q->buf, q->len) : pwrite(q->fd, q->buf, q->len, off);
            break;
        case SEA__IO_READV:
            n = at_pos ? readv(q->fd, q->buf, iovcnt) : preadv(q->fd, q->buf, iovcnt, off);
            break;
        case SEA__IO_WRITEV:
            n = at_pos ? writev(q->fd, q->buf, iovcnt) : pwritev(q->fd, q->buf, iovcnt, off);
            break;
        case SEA__IO_FSYNC:
            n = fsync(q->fd);
            break;
        default:
            n = fdatasync(q->fd);
            break;
        }
        if (n >= 0)
            return (int)n;
        if (errno != EINTR)
            return -errno;
    }
}

/* Puts socket request r on its descriptor's list until the descriptor is ready for r->io.events. */
static int wait_ready(struct sea__io_shard *io, struct epoll_state *e, struct sea__io_request *r) {
    int fd = r->io.fd;
    if ((size_t)fd >= e->nfds && fcntl(fd, F_GETFD) < 0)
        return -errno;
    struct fd_entry *ent = entry(e, fd);
    if (!ent)
        return -ENOMEM;
    if (ent->sticky) {
        if (r->io.op == SEA__IO_CONNECT) {
            ent->ready &= ~(uint32_t)EPOLLOUT; /* connecting: not writable until the edge that says so */
        } else {
            /* Edge-triggered: what is there may have been announced already (and the edge taken by a poll). */
            int res = socket_io(r);
            if (res != -EAGAIN) {
                sea__io_complete(io, r, res);
                return 0;
            }
            ent->ready &= ~taken(ent, r->io.events);
        }
        r->fd_next = ent->waiting;
        ent->waiting = r;
        return 0;
    }
    r->fd_next = ent->waiting;
    ent->waiting = r;
    int rc = update(e, fd, ent);
    if (rc < 0) {
        ent->waiting = r->fd_next;
        r->fd_next = NULL;
        if (rc == -EPERM) {
            /* Not pollable (a regular file): always ready, as for polls; the call says what it makes of it. */
            sea__io_complete(io, r, socket_io(r));
            return 0;
        }
        return rc;
    }
    return 0;
}

/* The AIO context and its eventfd in the epoll set.  0 or -errno. */
static int aio_setup(struct epoll_state *e) {
    aio_context_t ctx = 0;
    if (syscall(SYS_io_setup, AIO_EVENTS, &ctx) < 0)
        return -errno;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = efd};
    if (efd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, efd, &ev) < 0) {
        int err = -errno;
        if (efd >= 0)
            close(efd);
        syscall(SYS_io_destroy, ctx);
        return err;
    }
    e->aio = ctx;
    e->aio_efd = efd;
    return 0;
}

/* Hands file request r to AIO.  0 if it is in flight, or -errno (the caller then makes it at once). */
static int aio_submit(struct epoll_state *e, struct sea__io_request *r) {
    static const uint16_t opcode[SEA__IO_OP_COUNT] = {
        [SEA__IO_READ] = IOCB_CMD_PREAD,   [SEA__IO_WRITE] = IOCB_CMD_PWRITE, [SEA__IO_READV] = IOCB_CMD_PREADV,
        [SEA__IO_WRITEV] = IOCB_CMD_PWRITEV, [SEA__IO_FSYNC] = IOCB_CMD_FSYNC, [SEA__IO_FDATASYNC] = IOCB_CMD_FDSYNC,
    };
    if (r->io.offset == UINT64_MAX && r->io.op != SEA__IO_FSYNC && r->io.op != SEA__IO_FDATASYNC)
        return -EINVAL; /* AIO has no "at the file position" */
    if (e->aio_refused)
        return -EPERM;
    if (e->aio_efd < 0) {
        int rc = aio_setup(e);
        if (rc < 0) {
            e->aio_refused = true; /* direct requests are made at once from now on */
            return rc;
        }
    }
    struct iocb cb = {
        .aio_data = (uint64_t)(uintptr_t)r,
        .aio_lio_opcode = opcode[r->io.op],
        .aio_fildes = (uint32_t)r->io.fd,
        .aio_buf = (uint64_t)(uintptr_t)r->io.buf,
        .aio_nbytes = r->io.len,
        .aio_offset = r->io.op == SEA__IO_FSYNC || r->io.op == SEA__IO_FDATASYNC ? 0 : (int64_t)r->io.offset,
        .aio_flags = IOCB_FLAG_RESFD,
        .aio_resfd = (uint32_t)e->aio_efd,
    };
    struct iocb *list[1] = {&cb};
    for (;;) {
        long n = syscall(SYS_io_submit, e->aio, 1L, list);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -errno : -EAGAIN;
    }
}

/* The AIO eventfd fired: completes every finished AIO request.  Returns how many. */
static unsigned aio_reap(struct sea__io_shard *io, struct epoll_state *e) {
    uint64_t count;
    while (read(e->aio_efd, &count, sizeof(count)) < 0 && errno == EINTR) {
    }
    unsigned done = 0;
    for (;;) {
        struct io_event evs[64];
        struct timespec zero = {0, 0};
        long n = syscall(SYS_io_getevents, e->aio, 0L, 64L, evs, &zero);
        if (n <= 0)
            return done;
        for (long i = 0; i < n; i++) {
            long res = evs[i].res;
            sea__io_complete(io, (struct sea__io_request *)(uintptr_t)evs[i].data,
                             res > INT_MAX ? INT_MAX : (int)res);
        }
        done += (unsigned)n;
        if (n < 64)
            return done;
    }
}

static int submit_other(struct sea__io_shard *io, struct epoll_state *e, struct sea__io_request *r) {
    switch (r->io.op) {
    case SEA__IO_RECV:
    case SEA__IO_SEND:
        /* The count must fit the result (a MSG_WAITALL transfer adds up); io_uring's length is as short. */
        if (r->io.len > MAX_TRANSFER)
            r->io.len = MAX_TRANSFER;
        r->io.events = r->io.op == SEA__IO_RECV ? EPOLLIN : EPOLLOUT;
        break;
    case SEA__IO_ACCEPT:
        r->io.events = EPOLLIN;
        break;
    case SEA__IO_CONNECT: {
        int rc = connect_start(&r->io);
        if (rc != -EINPROGRESS) {
            sea__io_complete(io, r, rc);
            return 0;
        }
        r->io.events = EPOLLOUT;
        break;
    }
    default:
        /* Files: no readiness to wait for (see the top of the file). */
        if (r->io.aio && aio_submit(e, r) == 0)
            return 0;
        sea__io_complete(io, r, file_io(&r->io));
        return 0;
    }
    return wait_ready(io, e, r);
}

static int epoll_backend_submit(struct sea__io_shard *io, struct sea__io_request *p) {
    struct epoll_state *e = state(io);
    if (p->io.op != SEA__IO_POLL)
        return submit_other(io, e, p);
    /* Grow the table only for a descriptor that exists (a bad huge fd is -EBADF, not a huge table). */
    if ((size_t)p->io.fd >= e->nfds && fcntl(p->io.fd, F_GETFD) < 0)
        return -errno;
    struct fd_entry *ent = entry(e, p->io.fd);
    if (!ent)
        return -ENOMEM;
    if (p->io.sticky) {
        if (!ent->sticky) {
            struct epoll_event ev = {.events = STICKY_EVENTS, .data.fd = p->io.fd};
            /* The table may be stale (the descriptor number was closed and reused): try the other op. */
            int op = ent->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
            if (epoll_ctl(e->epfd, op, p->io.fd, &ev) < 0) {
                int other = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
                if ((errno != EEXIST && errno != ENOENT) || epoll_ctl(e->epfd, other, p->io.fd, &ev) < 0)
                    return -errno;
            }
            ent->sticky = true;
            ent->registered = STICKY_EVENTS;
            ent->ready = 0;
            ent->peer_closed = false;
        }
        /* An edge that came while nobody waited: hand it over now. */
        uint32_t got = ent->ready & (p->io.events | EPOLLERR | EPOLLHUP);
        if (got) {
            ent->ready &= ~taken(ent, got);
            sea__io_complete(io, p, (int)got);
            return 0;
        }
        p->fd_next = ent->waiting;
        ent->waiting = p;
        return 0;
    }
    p->fd_next = ent->waiting;
    ent->waiting = p;
    int rc = update(e, p->io.fd, ent);
    if (rc < 0) {
        ent->waiting = p->fd_next;
        p->fd_next = NULL;
        if (rc == -EPERM) {
            /*
             * Regular files and the like are always readable and writable, never
             * POLLPRI, as poll(2) and io_uring report them; io_uring fails a poll
             * for none of those with -EINVAL, and so do we.
             */
            uint32_t ready = p->io.events & (POLLIN | POLLOUT);
            sea__io_complete(io, p, ready ? (int)ready : -EINVAL);
            return 0;
        }
        return rc;
    }
    return 0;
}

static void dispatch(struct sea__io_shard *io, struct epoll_state *e, int fd, uint32_t revents) {
    if ((size_t)fd >= e->nfds)
        return;
    struct fd_entry *ent = &e->fds[fd];
    if (ent->sticky) {
        ent->ready |= revents & (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLERR | EPOLLHUP);
        if (revents & (EPOLLRDHUP | EPOLLHUP)) {
            ent->ready |= EPOLLIN; /* the peer closed: reads will say so, every time */
            ent->peer_closed = true;
        }
        revents = ent->ready;
    }
    struct sea__io_request **pp = &ent->waiting, *done = NULL;
    while (*pp) {
        struct sea__io_request *p = *pp;
        uint32_t ready = revents & (p->io.events | POLLERR | POLLHUP);
        if (ready) {
            if (ent->sticky)
                ent->ready &= ~taken(ent, ready);
            if (p->io.op != SEA__IO_POLL) {
                int res = socket_io(p);
                if (res == -EAGAIN) { /* ready, yet nothing to take: wait again */
                    pp = &p->fd_next;
                    continue;
                }
                ready = (uint32_t)res; /* what it completes with, in the field polls use (below) */
            }
            *pp = p->fd_next;
            p->fd_next = done;
            p->io.events = ready;
            done = p;
        } else {
            pp = &p->fd_next;
        }
    }
    if (update(e, fd, ent) < 0) {
        /* The descriptor was closed under us: forget the registration. */
        ent->registered = 0;
    }
    while (done) {
        struct sea__io_request *next = done->fd_next;
        done->fd_next = NULL;
        sea__io_complete(io, done, (int)done->io.events);
        done = next;
    }
}

static unsigned handle(struct sea__io_shard *io, struct epoll_state *e, struct epoll_event *evs, int n) {
    unsigned events = n > 0 ? (unsigned)n : 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == e->aio_efd)
            events += aio_reap(io, e);
        else
            dispatch(io, e, evs[i].data.fd, evs[i].events);
    }
    return events;
}

static unsigned epoll_backend_reap(struct sea__io_shard *io) {
    struct epoll_state *e = state(io);
    if (sea__list_empty(&io->requests))
        return 0;
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(e->epfd, evs, MAX_EVENTS, 0);
    return handle(io, e, evs, n);
}

static unsigned epoll_backend_wait(struct sea__io_shard *io, sea_time deadline) {
    struct epoll_state *e = state(io);
    struct epoll_event evs[MAX_EVENTS];
    sea_time d = deadline == SEA_TIME_MAX ? -1 : deadline - sea_now();
    if (d < 0 && deadline != SEA_TIME_MAX)
        d = 0;
    int n;
#if defined(__SANITIZE_THREAD__)
    /*
     * ThreadSanitizer runs a signal's handler late: at the thread's next
     * call it intercepts, or at once if the signal comes during a blocking
     * call it intercepts.  epoll_pwait2 through syscall() is neither, so a
     * sea_signal_handle signal that found the shard asleep waited until
     * something else woke it (a SIGHUP to an idle test server never ran).
     * Under TSan the shard sleeps in epoll_wait, which TSan intercepts.
     */
    e->no_pwait2 = true;
#endif
    if (!e->no_pwait2) {
        struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
        n = (int)syscall(SYS_epoll_pwait2, e->epfd, evs, MAX_EVENTS, d < 0 ? NULL : &ts, NULL, 0);
        if (n < 0 && errno == ENOSYS)
            e->no_pwait2 = true;
        else
            return handle(io, e, evs, n);
    }
    int ms = d < 0 ? -1 : (int)((d + 999999) / 1000000);
    n = epoll_wait(e->epfd, evs, MAX_EVENTS, ms);
    return handle(io, e, evs, n);
}

/* Takes r off its descriptor's list and ends it as cancelled. */
static void epoll_backend_cancel(struct sea__io_shard *io, struct sea__io_request *r) {
    struct epoll_state *e = state(io);
    int fd = r->io.fd;
    if (fd < 0 || (size_t)fd >= e->nfds)
        return;
    struct fd_entry *ent = &e->fds[fd];
    for (struct sea__io_request **pp = &ent->waiting; *pp; pp = &(*pp)->fd_next) {
        if (*pp == r) {
            *pp = r->fd_next;
            r->fd_next = NULL;
            if (update(e, fd, ent) < 0)
                ent->registered = 0; /* closed under us */
            /* A MSG_WAITALL transfer that moved part of its bytes ends with their count, as on io_uring. */
            sea__io_complete(io, r, r->done ? (int)r->done : -ECANCELED);
            return;
        }
    }
}

static void epoll_backend_forget(struct sea__io_shard *io, int fd) {
    struct epoll_state *e = state(io);
    if (!e || fd < 0 || (size_t)fd >= e->nfds)
        return;
    struct fd_entry *ent = &e->fds[fd];
    if (ent->sticky && !ent->waiting) {
        /* close() removes it from the epoll set (sea does not dup its sockets). */
        ent->sticky = false;
        ent->registered = 0;
        ent->ready = 0;
        ent->peer_closed = false;
    }
}

const struct sea__backend sea__backend_epoll = {
    .name = "epoll",
    .forget = epoll_backend_forget,
    .init = epoll_backend_init,
    .destroy = epoll_backend_destroy,
    .submit = epoll_backend_submit,
    .cancel = epoll_backend_cancel,
    .reap = epoll_backend_reap,
    .wait = epoll_backend_wait,
};
