/*
 * io.c - I/O requests on the current shard (see io.h): submitting them to
 * the shard's backend, completing them, cancelling them through abort
 * sources, and choosing the backend (--reactor-backend).
 *
 * Every request in flight is on its shard's list, so that a shard that
 * stops with requests pending can fail their futures (broken promise) after
 * the backend has let go of their buffers.
 */
#include "core/io.h"

#include <sea/error.h>
#include <sea/reactor.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/list.h"
#include "core/module.h"
#include "core/shard.h"

static const char *const op_names[SEA__IO_OP_COUNT] = {
    "poll", "receive", "send", "read", "write", "readv", "writev", "fsync", "fdatasync", "accept", "connect",
};

/* --reactor-backend: "io_uring", "epoll", or NULL for io_uring with epoll as the fallback.  Read-only once shards run. */
static const char *backend_choice;

static inline struct sea__io_shard *io_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_IO];
}

void sea__io_complete(struct sea__io_shard *io, struct sea__io_request *r, int res) {
    sea__list_remove(&io->requests, &r->link);
    sea_abort_unsubscribe(&r->abort);
    /* A cancelled operation the kernel had already started may end interrupted rather than cancelled. */
    if (r->cancelling && (res == -ECANCELED || res == -EINTR))
        sea_promise_set_error_fmt(&r->promise, SEA_ECANCELED, "%s on fd %d cancelled", op_names[r->io.op], r->io.fd);
    else if (res < 0)
        sea_promise_set_error_fmt(&r->promise, res, "%s on fd %d failed", op_names[r->io.op], r->io.fd);
    else
        sea_promise_set_value(&r->promise, (sea_value){.u = (uint64_t)res});
    sea_promise_release(&r->promise);
    free(r);
}

/* The submitter's abort source fired: ask the backend to end r early. */
static void request_aborted(sea_abort_subscription *sub, int err) {
    (void)err;
    struct sea__io_request *r = sea__container_of(sub, struct sea__io_request, abort);
    struct sea__shard *s = sea__shard_current;
    r->cancelling = true;
    io_of(s)->backend->cancel(io_of(s), r);
}

sea_future sea__io_submit(const struct sea__io *what, sea_abort_source *as) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !io_of(s))
        return sea_failed(SEA_ESHUTDOWN, "I/O requested with no running reactor");
    if (what->op >= SEA__IO_OP_COUNT)
        return sea_failed(-EINVAL, "unknown I/O operation");
    if (as && sea_abort_requested(as))
        return sea_failed_fmt(SEA_ECANCELED, "%s on fd %d cancelled", op_names[what->op], what->fd);
    struct sea__io_shard *io = io_of(s);
    struct sea__io_request *r = calloc(1, sizeof(*r));
    if (!r)
        return sea_failed_fmt(-ENOMEM, "out of memory starting a %s", op_names[what->op]);
    r->io = *what;
    sea_promise_init(&r->promise);
    sea_future f = sea_promise_get_future(&r->promise);
    if (sea_future_failed(&f)) {
        sea_promise_release(&r->promise);
        free(r);
        return f;
    }
    sea__list_push_front(&io->requests, &r->link);
    /* Subscribed first: the backend may complete (and free) r inside submit. */
    if (as)
        sea_abort_subscribe(as, &r->abort, request_aborted);
    int rc = io->backend->submit(io, r);
    if (rc < 0)
        sea__io_complete(io, r, rc);
    return f;
}

sea_future sea_fd_poll(int fd, uint32_t events) {
    if (!sea__shard_current)
        return sea_failed(SEA_ESHUTDOWN, "sea_fd_poll called with no running reactor");
    if (fd < 0)
        return sea_failed(-EBADF, "sea_fd_poll: negative file descriptor");
    events &= SEA_POLLIN | SEA_POLLPRI | SEA_POLLOUT | SEA_POLLERR | SEA_POLLHUP;
    if (!events)
        return sea_failed(-EINVAL, "sea_fd_poll: no events requested");
    return sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = fd, .events = events}, NULL);
}

sea_future sea__io_poll_sticky(int fd, uint32_t events) {
    return sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = fd, .events = events, .sticky = true}, NULL);
}

void sea__io_forget(int fd) {
    struct sea__shard *s = sea__shard_current;
    struct sea__io_shard *io = s ? io_of(s) : NULL;
    if (io && io->backend->forget)
        io->backend->forget(io, fd);
}

bool sea__io_native(void) {
    struct sea__shard *s = sea__shard_current;
    struct sea__io_shard *io = s ? io_of(s) : NULL;
    return io && io->backend->native_sockets;
}

const char *sea_reactor_backend(void) {
    struct sea__shard *s = sea__shard_current;
    struct sea__io_shard *io = s ? io_of(s) : NULL;
    return io ? io->backend->name : NULL;
}


/* ---- the module ---- */

static bool is_backend(const char *v) {
    return strcmp(v, "io_uring") == 0 || strcmp(v, "epoll") == 0;
}

static const struct sea__opt options[] = {
    {.o = {.name = "reactor-backend", .type = SEA_OPTION_STRING,
           .help = "I/O backend (default: io_uring, or epoll when io_uring is unavailable)"},
     .value_name = "io_uring|epoll", .meaning = "a backend (io_uring, epoll)", .check = is_backend},
};

static int io_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    backend_choice = sea__opt_string(v, "reactor-backend");
    return 0;
}

static int io_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__io_shard *io = calloc(1, sizeof(*io));
    if (!io) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc;
    if (backend_choice && strcmp(backend_choice, "epoll") == 0) {
        io->backend = &sea__backend_epoll;
        rc = io->backend->init(io);
    } else {
        io->backend = &sea__backend_uring;
        rc = io->backend->init(io);
        if (rc < 0 && !backend_choice) {
            /* io_uring missing or blocked (seccomp): the epoll backend behaves the same. */
            io->backend = &sea__backend_epoll;
            rc = io->backend->init(io);
        }
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the %s reactor backend: %s", io->backend->name, sea_strerror(rc));
        free(io);
        return rc;
    }
    s->slot[SEA__SLOT_IO] = io;
    return 0;
}

static void io_shard_stop(struct sea__shard *s) {
    struct sea__io_shard *io = io_of(s);
    if (!io)
        return;
    /* The backend lets go of every buffer first; then the requests' futures break. */
    io->backend->destroy(io);
    struct sea__link *l;
    while ((l = sea__list_pop_front(&io->requests))) {
        struct sea__io_request *r = sea__list_entry(l, struct sea__io_request, link);
        sea_abort_unsubscribe(&r->abort);
        sea_promise_release(&r->promise);
        free(r);
    }
    free(io);
    s->slot[SEA__SLOT_IO] = NULL;
}

const struct sea__module sea__module_io = {
    .name = "io",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = io_configure,
    .shard_start = io_shard_start,
    .shard_stop = io_shard_stop,
};
