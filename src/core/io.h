/*
 * core/io.h - I/O requests: the one request type every kind of I/O goes
 * through, and the backends (io_uring, epoll) that carry them out.
 *
 * A request (struct sea__io) names an operation on a descriptor; submitting
 * it gives a future that resolves with the operation's result (a byte
 * count, the ready events, a new descriptor, 0) or fails with -errno.  The
 * buffers it names must stay valid until then, even if it is cancelled.
 * On io_uring every operation is one submission queue entry, and a loop
 * turn's requests go to the kernel in the one io_uring_enter that reaps
 * completions.  On epoll, socket operations wait for readiness and then
 * make their system call; file operations (read, write, fsync at an
 * offset), for which readiness means nothing, go through Linux AIO when
 * the request says the file is O_DIRECT (aio), where the kernel does them
 * without blocking, and are otherwise made at once, inside sea__io_submit
 * (the disk layer sends buffered file I/O to its syscall threads
 * instead).  Both give the same results, the
 * kernel's: a receive or send with MSG_WAITALL on a stream socket moves
 * all of len unless the stream ends or fails after part of it (the count
 * so far), a send never raises SIGPIPE (-EPIPE instead).
 *
 * On epoll a connect is made inside sea__io_submit and an accept once the
 * listener is readable, so on a blocking descriptor either may block the
 * shard (a connect until the handshake ends, an accept if another process
 * took the connection first): give them non-blocking descriptors, as sea's
 * own sockets are.
 *
 * A request may be cancelled through an abort source: it then fails with
 * SEA_ECANCELED (or ends with its result, if it finished first; a receive
 * or send that moved part of its bytes ends with that count).
 */
#ifndef SEA_CORE_IO_H
#define SEA_CORE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/abort.h>
#include <sea/future.h>
#include <sea/internal/list.h>
#include <sea/promise.h>
#include <sea/timer.h>

#include "core/shard.h"

struct sea__module;

/* What a request asks of the kernel, and what its future resolves with. */
enum sea__io_op {
    SEA__IO_POLL,      /* wait until fd is ready for events: the ready events */
    SEA__IO_RECV,      /* recv(fd, buf, len, flags): the byte count, 0 at end of stream */
    SEA__IO_SEND,      /* send(fd, buf, len, flags): the byte count */
    SEA__IO_READ,      /* pread(fd, buf, len, offset): the byte count */
    SEA__IO_WRITE,     /* pwrite(fd, buf, len, offset): the byte count */
    SEA__IO_READV,     /* preadv(fd, buf as struct iovec[len], len, offset): the byte count */
    SEA__IO_WRITEV,    /* pwritev(fd, buf as struct iovec[len], len, offset): the byte count */
    SEA__IO_FSYNC,     /* fsync(fd): 0 */
    SEA__IO_FDATASYNC, /* fdatasync(fd): 0 */
    SEA__IO_ACCEPT,    /* accept4(fd, NULL, NULL, flags): the new descriptor */
    SEA__IO_CONNECT,   /* connect(fd, buf as struct sockaddr, len): 0 once connected */
    SEA__IO_OP_COUNT
};

/* A request: fill in what the operation needs, leave the rest zero. */
struct sea__io {
    uint8_t op;      /* enum sea__io_op */
    bool sticky;     /* POLL on a descriptor sea owns and closes (see sea__io_forget) */
    bool aio;        /* READ, WRITE, READV, WRITEV, FSYNC, FDATASYNC on an O_DIRECT file: the epoll backend uses Linux AIO */
    bool now;        /* io_uring: to the kernel at once, not with the loop turn's batch (disk requests, see disk/sched.c) */
    int fd;
    uint32_t events; /* POLL: SEA_POLLIN, SEA_POLLOUT, ... */
    int flags;       /* RECV, SEND: MSG_* flags; ACCEPT: SOCK_NONBLOCK, SOCK_CLOEXEC */
    void *buf;
    size_t len;
    uint64_t offset; /* READ, WRITE, READV, WRITEV; UINT64_MAX: at the file position, which advances */
};

/*
 * Starts io on the current shard.  The future resolves with the result (as
 * listed above) or fails with -errno (its message names the operation and
 * the descriptor); with SEA_ECANCELED if as (which may be NULL) aborts
 * first.  Fails at once with SEA_ESHUTDOWN off a shard, -EINVAL for an
 * unknown operation, -ENOMEM.
 */
sea_future sea__io_submit(const struct sea__io *io, sea_abort_source *as) SEA_MUST_USE;

/* sea_fd_poll for descriptors sea owns (a sticky POLL): see sea__io_forget. */
sea_future sea__io_poll_sticky(int fd, uint32_t events) SEA_MUST_USE;
/*
 * The owner of a descriptor polled with sea__io_poll_sticky is about to
 * close it: the epoll backend, which may keep such a descriptor registered
 * (edge-triggered) between polls instead of adding and removing it each
 * time, forgets it.
 */
void sea__io_forget(int fd);
/* True if the current shard's backend does receives and sends itself (io_uring): no readiness round trip. */
bool sea__io_native(void);

/* ---- the backends' side ---- */

/* A request in flight, as the backends see it. */
struct sea__io_request {
    struct sea__io io;
    sea_promise promise;
    struct sea__link link;           /* the shard's requests in flight */
    struct sea__io_request *fd_next; /* epoll: requests waiting on the same descriptor; io_uring: the backlog */
    sea_abort_subscription abort;    /* the submitter's abort source, if any */
    bool cancelling;                 /* asked to end early: completes with SEA_ECANCELED */
    uint8_t queued;                  /* io_uring: in the backlog, to start or to cancel (backend_uring.c) */
    size_t done;                     /* epoll: bytes a MSG_WAITALL receive or send has moved so far */
};

/* A shard's I/O (its SEA__SLOT_IO). */
struct sea__io_shard {
    const struct sea__backend *backend;
    void *state;                 /* the backend's own */
    struct sea__list requests;   /* in flight, for shutdown */
};

struct sea__backend {
    const char *name;
    /* True if submit takes RECV and SEND itself (no readiness round trip). */
    bool native_sockets;
    int (*init)(struct sea__io_shard *io);
    /* Ends every request in flight (they complete no more) and frees the state. */
    void (*destroy)(struct sea__io_shard *io);
    /* Starts r; its completion calls sea__io_complete.  Returns 0 or -errno (r is then not started). */
    int (*submit)(struct sea__io_shard *io, struct sea__io_request *r);
    /* Asks r to end early; r still completes, through sea__io_complete, with its result or -ECANCELED. */
    void (*cancel)(struct sea__io_shard *io, struct sea__io_request *r);
    /* Handles ready completions without blocking; returns how many. */
    unsigned (*reap)(struct sea__io_shard *io);
    /* Sleeps until an event or the absolute monotonic deadline; then reaps. */
    unsigned (*wait)(struct sea__io_shard *io, sea_time deadline);
    /* Forgets what it keeps about fd, which is about to be closed (may be NULL). */
    void (*forget)(struct sea__io_shard *io, int fd);
};

extern const struct sea__backend sea__backend_uring;
extern const struct sea__backend sea__backend_epoll;

/* Ends r with res (>= 0, or -errno): resolves its future, frees it. */
void sea__io_complete(struct sea__io_shard *io, struct sea__io_request *r, int res);

/* ---- the loop's side (reactor.c): inline, since the loop reaps every turn ---- */

/* Handles ready completions without blocking; returns how many. */
static inline unsigned sea__io_reap(struct sea__shard *s) {
    struct sea__io_shard *io = s->slot[SEA__SLOT_IO];
    return io->backend->reap(io);
}

/* Sleeps until an I/O event or the absolute monotonic deadline; then reaps.  Returns how many. */
static inline unsigned sea__io_wait(struct sea__shard *s, sea_time deadline) {
    struct sea__io_shard *io = s->slot[SEA__SLOT_IO];
    return io->backend->wait(io, deadline);
}

/* The module: --reactor-backend, and each shard's backend (SEA__SLOT_IO). */
extern const struct sea__module sea__module_io;

#endif
