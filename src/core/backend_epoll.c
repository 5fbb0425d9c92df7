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
 */
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
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

struct epoll_state {
    int epfd;
    struct fd_entry *fds; /* indexed by descriptor */
    size_t nfds;
    bool no_pwait2;
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
    io->state = e;
    return 0;
}

static void epoll_backend_destroy(struct sea__io_shard *io) {
    struct epoll_state *e = state(io);
    if (!e)
        return;
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

static int epoll_backend_submit(struct sea__io_shard *io, struct sea__io_request *p) {
    struct epoll_state *e = state(io);
    if (p->io.op != SEA__IO_POLL)
        return -EOPNOTSUPP;
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
    for (int i = 0; i < n; i++)
        dispatch(io, e, evs[i].data.fd, evs[i].events);
    return n > 0 ? (unsigned)n : 0;
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
            sea__io_complete(io, r, -ECANCELED);
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
