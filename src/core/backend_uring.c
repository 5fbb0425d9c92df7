/*
 * backend_uring.c - the io_uring reactor backend (the default).
 *
 * Requests are queued in the submission ring and handed to the kernel in one
 * io_uring_enter per loop iteration at most; completions are reaped from the
 * completion ring, which is shared memory, so a poll that finds nothing costs
 * no system call.  Sleeping is io_uring_enter waiting for one completion with
 * a timeout (IORING_ENTER_EXT_ARG), so no timer request is needed.
 *
 * Every operation is native: one submission entry each (poll, recv, send,
 * read/write/readv/writev at an offset, fsync, accept, connect), and the
 * kernel does the waiting.  A submission ring that is full even after a
 * submit (the kernel refused entries: an old kernel with its completion ring
 * overflowing) does not fail the request: it waits in a backlog, in order,
 * and takes entries as they free up, before any newer request.
 *
 * Cancelling submits an IORING_OP_ASYNC_CANCEL naming the request.  The
 * cancel's own completion names no request and is ignored; the request
 * still completes exactly once, with -ECANCELED or with its result if it
 * finished first, and the two completions come in either order (the kernel
 * usually posts the cancel's first).  The request is freed only at its own
 * completion, so its buffers stay valid until the kernel is done with them.
 * A cancel never hits a newer request that reuses a freed request's
 * address: one already in the ring reaches the kernel before any request
 * made after the completion, and one still in the backlog is dropped at the
 * completion (see reap()).
 *
 * If io_uring cannot be set up (old kernel, or a seccomp filter returning
 * EPERM/ENOSYS as container runtimes commonly do), init fails and the reactor
 * falls back to epoll unless io_uring was asked for explicitly.
 */
#include "core/io.h"

#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#define RING_ENTRIES 256

/* Why a request is in the backlog (sea__io_request.queued). */
enum { NOT_QUEUED, QUEUED_START, QUEUED_CANCEL };

struct uring_state {
    struct io_uring ring;
    unsigned unsubmitted;
    /*
     * Requests waiting for a submission entry, to start or to be cancelled,
     * linked by fd_next, oldest first.  Empty whenever the ring has room:
     * every submit is followed by drain().
     */
    struct sea__io_request *backlog, **backlog_tail;
    unsigned queued_cancels; /* how many of them wait to be cancelled */
};

static struct uring_state *state(struct sea__io_shard *io) {
    return io->state;
}

static int uring_init(struct sea__io_shard *io) {
    struct uring_state *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    /*
     * Completions that need work in our task are not pushed at us with an
     * interrupt (COOP_TASKRUN); instead the kernel raises IORING_SQ_TASKRUN
     * (TASKRUN_FLAG) and reap() enters the kernel to run that work.
     */
    params.flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER;
    int rc = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &params);
    if (rc == -EINVAL) {
        memset(&params, 0, sizeof(params));
        params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER;
        rc = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &params);
    }
    if (rc == -EINVAL) {
        /* An older kernel without those flags. */
        memset(&params, 0, sizeof(params));
        rc = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &params);
    }
    if (rc < 0) {
        free(u);
        return rc;
    }
    if (!(params.features & IORING_FEAT_EXT_ARG)) {
        /* Waiting with a timeout would need a timeout request; kernels this old get epoll. */
        io_uring_queue_exit(&u->ring);
        free(u);
        return -ENOSYS;
    }
    u->backlog_tail = &u->backlog;
    io->state = u;
    return 0;
}

static void uring_destroy(struct sea__io_shard *io) {
    struct uring_state *u = state(io);
    if (!u)
        return;
    /* Exiting the ring cancels every request still in flight. */
    io_uring_queue_exit(&u->ring);
    free(u);
    io->state = NULL;
}

/*
 * Largest byte count one read, write, receive or send entry carries (the
 * kernel caps a transfer there anyway). The entry's length field is 32 bits:
 * a larger count must be clamped, not wrapped (4 GiB would become 0, which a
 * receive reports as the end of the stream).
 */
#define MAX_RW_COUNT ((unsigned)INT_MAX & ~4095u)

/* Fills sqe for r's operation. */
static void prep(struct io_uring_sqe *sqe, struct sea__io_request *r) {
    const struct sea__io *q = &r->io;
    switch (q->op) {
    case SEA__IO_POLL:
        io_uring_prep_poll_add(sqe, q->fd, q->events);
        break;
    case SEA__IO_RECV:
        io_uring_prep_recv(sqe, q->fd, q->buf, q->len < MAX_RW_COUNT ? q->len : MAX_RW_COUNT, q->flags);
        break;
    case SEA__IO_SEND:
        io_uring_prep_send(sqe, q->fd, q->buf, q->len < MAX_RW_COUNT ? q->len : MAX_RW_COUNT, q->flags);
        break;
    case SEA__IO_READ:
        io_uring_prep_read(sqe, q->fd, q->buf, q->len < MAX_RW_COUNT ? (unsigned)q->len : MAX_RW_COUNT, q->offset);
        break;
    case SEA__IO_WRITE:
        io_uring_prep_write(sqe, q->fd, q->buf, q->len < MAX_RW_COUNT ? (unsigned)q->len : MAX_RW_COUNT, q->offset);
        break;
    case SEA__IO_READV:
        /* A count beyond unsigned must not wrap into a valid one: UINT_MAX fails with -EINVAL. */
        io_uring_prep_readv(sqe, q->fd, q->buf, q->len < UINT_MAX ? (unsigned)q->len : UINT_MAX, q->offset);
        break;
    case SEA__IO_WRITEV:
        io_uring_prep_writev(sqe, q->fd, q->buf, q->len < UINT_MAX ? (unsigned)q->len : UINT_MAX, q->offset);
        break;
    case SEA__IO_FSYNC:
        io_uring_prep_fsync(sqe, q->fd, 0);
        break;
    case SEA__IO_FDATASYNC:
        io_uring_prep_fsync(sqe, q->fd, IORING_FSYNC_DATASYNC);
        break;
    case SEA__IO_ACCEPT:
        io_uring_prep_accept(sqe, q->fd, NULL, NULL, q->flags);
        break;
    case SEA__IO_CONNECT:
        io_uring_prep_connect(sqe, q->fd, q->buf, (socklen_t)q->len);
        break;
    default:
        io_uring_prep_nop(sqe); /* unreachable: sea__io_submit refuses unknown operations */
        break;
    }
    io_uring_sqe_set_data(sqe, r);
}

/* The cancel's completion names no request (reap() skips it). */
static void prep_cancel(struct io_uring_sqe *sqe, struct sea__io_request *r) {
    io_uring_prep_cancel(sqe, r, 0);
    io_uring_sqe_set_data(sqe, NULL);
}

static void backlog_push(struct uring_state *u, struct sea__io_request *r, uint8_t why) {
    r->queued = why;
    r->fd_next = NULL;
    *u->backlog_tail = r;
    u->backlog_tail = &r->fd_next;
    if (why == QUEUED_CANCEL)
        u->queued_cancels++;
}

static void backlog_remove(struct uring_state *u, struct sea__io_request *r) {
    struct sea__io_request **pp = &u->backlog;
    while (*pp != r)
        pp = &(*pp)->fd_next;
    *pp = r->fd_next;
    if (u->backlog_tail == &r->fd_next)
        u->backlog_tail = pp;
    r->fd_next = NULL;
    if (r->queued == QUEUED_CANCEL)
        u->queued_cancels--;
    r->queued = NOT_QUEUED;
}

/* Moves the backlog, oldest first, into the ring's free entries. */
static void drain(struct uring_state *u) {
    struct io_uring_sqe *sqe;
    while (u->backlog && (sqe = io_uring_get_sqe(&u->ring))) {
        struct sea__io_request *r = u->backlog;
        u->backlog = r->fd_next;
        if (!u->backlog)
            u->backlog_tail = &u->backlog;
        r->fd_next = NULL;
        if (r->queued == QUEUED_CANCEL) {
            u->queued_cancels--;
            prep_cancel(sqe, r);
        } else {
            prep(sqe, r);
        }
        r->queued = NOT_QUEUED;
        u->unsubmitted++;
    }
}

/*
 * After a submit: entries the kernel refused (-EBUSY, -EAGAIN: old kernels
 * with an overflowing completion ring) stay in the ring for the next one,
 * and the backlog takes whatever room was made.
 */
static void submitted(struct uring_state *u) {
    u->unsubmitted = io_uring_sq_ready(&u->ring);
    if (__builtin_expect(u->backlog != NULL, 0))
        drain(u);
}

static struct io_uring_sqe *get_sqe(struct uring_state *u) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        /* Submission ring full: hand what is queued to the kernel and retry. */
        io_uring_submit(&u->ring);
        submitted(u);
        if (!u->backlog)
            sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

static int uring_submit(struct sea__io_shard *io, struct sea__io_request *r) {
    struct uring_state *u = state(io);
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe) {
        /* Still full: wait for an entry behind the older requests. */
        backlog_push(u, r, QUEUED_START);
        return 0;
    }
    prep(sqe, r);
    u->unsubmitted++;
    if (r->io.now) {
        /* Asked to go at once: with whatever else is queued, which goes no later than it would have. */
        io_uring_submit(&u->ring);
        submitted(u);
    }
    return 0;
}

static void uring_cancel(struct sea__io_shard *io, struct sea__io_request *r) {
    struct uring_state *u = state(io);
    if (r->queued == QUEUED_START) {
        /* Never reached the kernel: nothing to wait for. */
        backlog_remove(u, r);
        sea__io_complete(io, r, -ECANCELED);
        return;
    }
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe) {
        backlog_push(u, r, QUEUED_CANCEL);
        return;
    }
    prep_cancel(sqe, r);
    u->unsubmitted++;
}

/*
 * Completes the requests whose completions are ready.  A request whose
 * cancel still waits in the backlog (the ring was full) leaves it first: a
 * cancel submitted after its request is freed could hit a newer request at
 * the same address.  (A cancel already in the ring is harmless: it reaches
 * the kernel before any request made after this completion.)
 */
static unsigned reap(struct sea__io_shard *io, struct uring_state *u) {
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
        struct sea__io_request *r = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        n++;
        if (r) {
            if (__builtin_expect(u->queued_cancels != 0, 0) && r->queued == QUEUED_CANCEL)
                backlog_remove(u, r);
            sea__io_complete(io, r, res);
        }
    }
    io_uring_cq_advance(&u->ring, n);
    return n;
}

static unsigned uring_reap(struct sea__io_shard *io) {
    struct uring_state *u = state(io);
    unsigned kflags = IO_URING_READ_ONCE(*u->ring.sq.kflags);
    if (u->unsubmitted || (kflags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
        /* One system call submits new requests and runs pending completion work. */
        io_uring_submit_and_get_events(&u->ring);
        submitted(u);
    }
    return reap(io, u);
}

static unsigned uring_wait(struct sea__io_shard *io, sea_time deadline) {
    struct uring_state *u = state(io);
    struct io_uring_cqe *cqe = NULL;
    if (deadline == SEA_TIME_MAX) {
        io_uring_submit_and_wait(&u->ring, 1);
    } else {
        sea_time d = deadline - sea_now();
        if (d > 0) {
            struct __kernel_timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
            io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
        } else {
            io_uring_submit(&u->ring);
        }
    }
    submitted(u);
    return reap(io, u);
}

const struct sea__backend sea__backend_uring = {
    .name = "io_uring",
    .native_sockets = true,
    .init = uring_init,
    .destroy = uring_destroy,
    .submit = uring_submit,
    .cancel = uring_cancel,
    .reap = uring_reap,
    .wait = uring_wait,
};
