/*
 * test_oom.c - out-of-memory paths.
 *
 * This program is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * so every allocation sea makes (and the harness's) goes through the wrappers
 * below, which fail on demand.  (Allocations inside libc, such as vasprintf's
 * for sea_failed_fmt, are not affected.)
 *
 * With allocation failing: sea_promise_get_future fails with -ENOMEM and the
 * promise can still be resolved and released; sea_yield, sea_sleep and
 * sea_fd_poll fail with -ENOMEM; attaching a continuation that needs memory
 * fails with -ENOMEM and drops the source's result silently when it arrives;
 * a continuation past the inline depth that cannot be queued fails with
 * -ENOMEM; the epoll backend's descriptor table that cannot grow fails the
 * poll with -ENOMEM.  Once memory is back, everything works again.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { FAIL_MALLOC = 1, FAIL_CALLOC = 2, FAIL_REALLOC = 4, FAIL_ALL = 7 };
static int oom_mask;
static long oom_refused;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n) {
    if (oom_mask & FAIL_MALLOC) {
        oom_refused++;
        return NULL;
    }
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m) {
    if (oom_mask & FAIL_CALLOC) {
        oom_refused++;
        return NULL;
    }
    return __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n) {
    if (oom_mask & FAIL_REALLOC) {
        oom_refused++;
        return NULL;
    }
    return __real_realloc(p, n);
}

static sea_future ident(sea_value v) {
    return sea_ready_value(v);
}
struct big {
    char bytes[100];
};
static sea_future big_ident(struct big *c, sea_value v) {
    (void)c;
    return sea_ready_value(v);
}

/* Checks either outcome: e->err == 0 expects the value e->v, else that error. */
static sea_future expect(struct expect *e, sea_future *in) {
    int err = sea_future_error(in);
    CHECK_EQ(err, e->err);
    if (!err && !e->err)
        CHECK_EQ(sea_future_value(in).i, e->v);
    return sea_ready();
}

/* ---- everything at once, with the node pool exhausted ---- */

#define MAXP 2000
static sea_promise proms[MAXP];
static sea_future futs[MAXP];
static int nproms;
static int released;

struct dive {
    sea_future *out;
};
static sea_future dive(struct dive *d) {
    if (sea__hot.inline_depth < SEA_INLINE_DEPTH_MAX)
        return sea_then(sea_ready(), dive, *d);
    /* Too deep to run inline, and no node to queue it: -ENOMEM. */
    *d->out = sea_then(sea_ready_int(1), ident);
    return sea_ready();
}

static sea_future t_out_of_memory(void) {
    int p[2];
    CHECK_EQ(pipe(p), 0);
    released = 0;
    /* Made while memory is there: a pending then-node and a bare promise future. */
    sea_future waiting_then = sea_then(sea_yield(), ident);
    sea_promise bare;
    sea_promise_init(&bare);
    sea_future bare_f = sea_promise_get_future(&bare);
    sea_promise boxed;
    sea_promise_init(&boxed);
    sea_future boxed_f = sea_promise_get_future(&boxed);
    struct sea_test_box *box = sea_test_box_new(&released, 1);

    oom_mask = FAIL_ALL;
    /* Use up the node pool: some promise's future fails with -ENOMEM. */
    int enomem_at = -1;
    for (nproms = 0; nproms < MAXP; nproms++) {
        sea_promise_init(&proms[nproms]);
        futs[nproms] = sea_promise_get_future(&proms[nproms]);
        if (sea_future_failed(&futs[nproms])) {
            CHECK_EQ(sea_future_error(&futs[nproms]), -ENOMEM);
            enomem_at = nproms++;
            break;
        }
    }
    CHECK(enomem_at >= 0);
    /* That promise can still be resolved (with an owned message: freed, not leaked) and released. */
    if (enomem_at >= 0) {
        sea_promise_set_error_fmt(&proms[enomem_at], -EIO, "nobody listens %d", 1);
        sea_promise_release(&proms[enomem_at]);
        sea_promise_init(&proms[enomem_at]);
        sea_promise_set_int(&proms[enomem_at], 1); /* resolved early, then no future: released below */
    }
    sea_future y = sea_yield();
    CHECK_EQ(sea_future_error(&y), -ENOMEM);
    sea_future s = sea_sleep(SEA_MSEC(1));
    CHECK_EQ(sea_future_error(&s), -ENOMEM);
    sea_future fp = sea_fd_poll(p[0], SEA_POLLIN);
    CHECK_EQ(sea_future_error(&fp), -ENOMEM);
    /* Attaching to a bare promise future with an inline capture needs no memory... */
    sea_future ok = sea_then(bare_f, ident);
    CHECK(!sea_future_failed(&ok));
    /* ...but a large capture, or a node behind a then-node, does. */
    sea_future nomem1 = sea_then(boxed_f, big_ident, (struct big){{0}});
    CHECK_EQ(sea_future_error(&nomem1), -ENOMEM);
    sea_future nomem2 = sea_then(waiting_then, ident);
    CHECK_EQ(sea_future_error(&nomem2), -ENOMEM);
    sea_future nomem3;
    memset(&nomem3, 0, sizeof(nomem3));
    sea_future_detach(sea_then(sea_ready(), dive, (struct dive){&nomem3}));
    CHECK_EQ(sea_future_error(&nomem3), -ENOMEM);
    long refused = oom_refused;
    oom_mask = 0;
    CHECK(refused > 0);

    /* Memory is back: resolve everything. */
    sea_promise_set_int(&bare, 5);
    sea_promise_release(&bare);
    sea_promise_set_box(&boxed, &box->box); /* its waiter was dropped: released when it arrives */
    sea_promise_release(&boxed);
    for (int i = 0; i < nproms; i++) {
        if (i != enomem_at)
            sea_promise_set_int(&proms[i], i);
        sea_promise_release(&proms[i]);
    }
    sea_future all = sea_then_wrapped(ok, expect, (struct expect){.v = 5, .err = 0});
    for (int i = 0; i < nproms; i++)
        if (i != enomem_at)
            all = sea_test_join(all, sea_then_wrapped(futs[i], expect, (struct expect){.v = i, .err = 0}));
    sea_future_detach(y);
    sea_future_detach(s);
    sea_future_detach(fp);
    sea_future_detach(nomem1);
    sea_future_detach(nomem2);
    sea_future_detach(nomem3);
    close(p[0]);
    close(p[1]);
    return all;
}

static sea_future check_released(int *want, sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(released, *want);
    return sea_ready();
}

static sea_future t_dropped_source_released(void) {
    /* The boxed value of t_out_of_memory's dropped source was released on arrival. */
    return sea_then_wrapped(sea_yield(), check_released, (int){1});
}

static sea_future t_works_again(void) {
    sea_future all = sea_then_wrapped(sea_then(sea_yield(), ident), expect, (struct expect){.v = 0, .err = 0});
    all = sea_test_join(all, sea_sleep(SEA_MSEC(1)));
    return sea_test_join(all, sea_then_wrapped(sea_then(sea_test_later(sea_ready_int(3)), big_ident, (struct big){{0}}),
                                               expect, (struct expect){.v = 3, .err = 0}));
}

/* ---- the epoll descriptor table ---- */

static int big_fd = -1, big_pipe[2];
static sea_future write_big(void) {
    CHECK_EQ(write(big_pipe[1], "z", 1), 1);
    return sea_ready();
}
static sea_future close_big(sea_future *in) {
    (void)sea_future_error(in);
    close(big_fd);
    close(big_pipe[0]);
    close(big_pipe[1]);
    return sea_ready();
}

static sea_future t_epoll_table_cannot_grow(void) {
    CHECK_EQ(pipe(big_pipe), 0);
    /* A valid descriptor far above any used so far (beyond epoll's initial table). */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int target = rl.rlim_cur > 4010 ? 4000 : (int)rl.rlim_cur - 10;
    CHECK(target > 256);
    big_fd = fcntl(big_pipe[0], F_DUPFD_CLOEXEC, target);
    CHECK(big_fd >= target);
    oom_mask = FAIL_REALLOC;
    sea_future f = sea_fd_poll(big_fd, SEA_POLLIN);
    oom_mask = 0;
    sea_future all;
    if (sea_test_backend_arg && strcmp(sea_test_backend_arg, "epoll") == 0) {
        /* epoll needs a bigger table for it. */
        all = sea_then_wrapped(f, expect, (struct expect){.v = 0, .err = -ENOMEM});
    } else {
        /* io_uring does not: the poll works. */
        all = sea_test_join(sea_then(sea_sleep(SEA_MSEC(1)), write_big),
                            sea_then_wrapped(f, expect, (struct expect){.v = SEA_POLLIN, .err = 0}));
    }
    return sea_then_wrapped(all, close_big);
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_out_of_memory),
    SEA_TEST(t_dropped_source_released),
    SEA_TEST(t_works_again),
    SEA_TEST(t_epoll_table_cannot_grow),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
