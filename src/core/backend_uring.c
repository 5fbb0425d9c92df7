/*
 * backend_uring.c - the io_uring reactor backend (the default).
 *
 * Requests are queued in the submission ring and handed to the kernel in one
 * io_uring_enter per loop iteration at most; completions are reaped from the
 * completion ring, which is shared memory, so a poll that finds nothing costs
 * no system call.  Sleeping is io_uring_enter waiting for one completion with
 * a timeout (IORING_ENTER_EXT_ARG), so no timer request is needed.
 *
 * If io_uring cannot be set up (old kernel, or a seccomp filter returning
 * EPERM/ENOSYS as container runtimes commonly do), init fails and the reactor
 * falls back to epoll unless io_uring was asked for explicitly.
 */
#include "core/io.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#define RING_ENTRIES 256

struct uring_state {
    struct io_uring ring;
    unsigned unsubmitted;
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

static struct io_uring_sqe *get_sqe(struct uring_state *u) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        /* Submission ring full: hand what is queued to the kernel and retry. */
        io_uring_submit(&u->ring);
        u->unsubmitted = 0;
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

static int uring_submit(struct sea__io_shard *io, struct sea__io_request *r) {
    struct uring_state *u = state(io);
    const struct sea__io *q = &r->io;
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe)
        return -EAGAIN;
    switch (q->op) {
    case SEA__IO_POLL:
        io_uring_prep_poll_add(sqe, q->fd, q->events);
        break;
    case SEA__IO_RECV:
        io_uring_prep_recv(sqe, q->fd, q->buf, q->len, q->flags);
        break;
    case SEA__IO_SEND:
        io_uring_prep_send(sqe, q->fd, q->buf, q->len, q->flags);
        break;
    default:
        /* Not taken yet: give the entry back as a no-op that completes nothing. */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data(sqe, NULL);
        u->unsubmitted++;
        return -EOPNOTSUPP;
    }
    io_uring_sqe_set_data(sqe, r);
    u->unsubmitted++;
    return 0;
}

static void uring_cancel(struct sea__io_shard *io, struct sea__io_request *r) {
    struct uring_state *u = state(io);
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe)
        return; /* the ring is full even after a submit: r ends when it ends */
    /* The cancel has a completion of its own, which names no request. */
    io_uring_prep_cancel(sqe, r, 0);
    io_uring_sqe_set_data(sqe, NULL);
    u->unsubmitted++;
}

static unsigned reap(struct sea__io_shard *io, struct uring_state *u) {
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
        struct sea__io_request *r = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        n++;
        if (r)
            sea__io_complete(io, r, res);
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
        u->unsubmitted = 0;
    }
    return reap(io, u);
}

static unsigned uring_wait(struct sea__io_shard *io, sea_time deadline) {
    struct uring_state *u = state(io);
    struct io_uring_cqe *cqe = NULL;
    u->unsubmitted = 0;
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
