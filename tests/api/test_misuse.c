/*
 * test_misuse.c - programming errors sea catches at run time by aborting.
 *
 * Each misuse runs in a forked child (the reactor is per-thread state, so the
 * child inherits this one); the parent checks that the child died of SIGABRT
 * and that stderr names the error:
 *  - a pending future used twice ("sea: future used twice"), in every way a
 *    future can be consumed;
 *  - a promise resolved twice, or resolved after release
 *    ("sea: promise resolved twice");
 *  - a timer cancelled from a thread that does not own it.
 * Controls: the legitimate counterparts of the same steps do not abort.
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static sea_future ident(sea_value v) {
    return sea_ready_value(v);
}
static sea_future ident_wrapped(sea_future *in) {
    return sea_future_move(in);
}
static sea_future fin(void) {
    return sea_ready();
}
static sea_future handle(int err, const char *msg) {
    (void)err, (void)msg;
    return sea_ready();
}

/* The ways to consume a future. */
enum use { U_THEN, U_WRAPPED, U_FINALLY, U_HANDLE, U_DETACH, U_IGNORE, U_FORWARD, U_FORWARD_EARLY };
static const char *const use_names[] = {"then", "then_wrapped", "finally", "handle_error",
                                        "detach", "ignore", "forward", "forward (future not taken yet)"};

static sea_future consume(sea_future f, enum use u) {
    sea_promise p;
    switch (u) {
    case U_THEN:
        return sea_then(f, ident);
    case U_WRAPPED:
        return sea_then_wrapped(f, ident_wrapped);
    case U_FINALLY:
        return sea_finally(f, fin);
    case U_HANDLE:
        return sea_handle_error(f, handle);
    case U_DETACH:
        sea_future_detach(f);
        return sea_ready();
    case U_IGNORE:
        sea_future_ignore(f);
        return sea_ready();
    case U_FORWARD:
        sea_promise_init(&p);
        sea_future_detach(sea_promise_get_future(&p));
        sea_promise_forward(&p, f);
        sea_promise_release(&p);
        return sea_ready();
    default: {
        /* Forwarded before the promise's future is taken. */
        sea_promise q;
        sea_promise_init(&q);
        sea_promise_forward(&q, f);
        sea_future out = sea_promise_get_future(&q);
        sea_promise_release(&q);
        return out;
    }
    }
}

/* Where the pending future comes from. */
enum source { S_PROMISE, S_PROMISE_READY, S_YIELD, S_SLEEP, S_CHAIN };

static sea_promise child_promise;
static sea_future make_pending(enum source s) {
    switch (s) {
    case S_PROMISE:
        sea_promise_init(&child_promise);
        return sea_promise_get_future(&child_promise);
    case S_PROMISE_READY: {
        /* Pending but already available. */
        sea_promise_init(&child_promise);
        sea_future f = sea_promise_get_future(&child_promise);
        sea_promise_set_int(&child_promise, 1);
        return f;
    }
    case S_YIELD:
        return sea_yield();
    case S_SLEEP:
        return sea_sleep(SEA_SEC(100));
    default:
        return sea_then(sea_yield(), ident);
    }
}

struct twice {
    enum source src;
    enum use first, second;
    bool misuse; /* false: control, the second use gets a fresh future */
};

static void twice_child(void *arg) {
    struct twice *t = arg;
    sea_future f = make_pending(t->src);
    sea_future copy = f;
    sea_future_detach(consume(f, t->first));
    if (!t->misuse)
        copy = make_pending(t->src);
    sea_future_detach(consume(copy, t->second));
    /* Reaching here means no abort. */
    fputs("no abort\n", stderr);
}

static struct sea_test_child child;

static sea_future t_future_used_twice(void) {
    static const enum source sources[] = {S_PROMISE, S_PROMISE_READY, S_YIELD, S_SLEEP, S_CHAIN};
    static const char *const source_names[] = {"promise", "promise(ready)", "yield", "sleep", "chain"};
    int runs = 0;
    for (size_t s = 0; s < sizeof(sources) / sizeof(sources[0]); s++) {
        for (int a = U_THEN; a <= U_FORWARD_EARLY; a++) {
            /* The second use: vary it, keeping the number of children reasonable. */
            int b = (a + (int)s) % (U_FORWARD_EARLY + 1);
            struct twice t = {sources[s], (enum use)a, (enum use)b, true};
            sea_test_fork(twice_child, &t, &child);
            runs++;
            if (!sea_test_killed_by(&child, SIGABRT) || !strstr(child.err, "sea: future used twice")) {
                fprintf(stderr, "  source %s, %s then %s: status 0x%x, stderr: %s\n", source_names[s],
                        use_names[a], use_names[b], child.status, child.err);
                sea_test_failures++;
            }
        }
    }
    CHECK_EQ(runs, 40);
    return sea_ready();
}

static sea_future t_future_used_once_is_fine(void) {
    /* Control: the same steps with a fresh future for the second use. */
    struct twice t = {S_PROMISE, U_THEN, U_DETACH, false};
    sea_test_fork(twice_child, &t, &child);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_CONTAINS(child.err, "no abort");
    struct twice u = {S_CHAIN, U_FORWARD_EARLY, U_THEN, false};
    sea_test_fork(twice_child, &u, &child);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_CONTAINS(child.err, "no abort");
    return sea_ready();
}

/* A future kept after its result was taken is also "used twice". */
static void after_taken_child(void *arg) {
    (void)arg;
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    sea_promise_set_int(&p, 1);
    sea_promise_release(&p);
    sea_future copy = f;
    /* Ready by now: this runs inline and frees the node. */
    sea_future g = sea_then(f, ident);
    CHECK(sea_future_available(&g));
    sea_future_detach(g);
    sea_future_detach(sea_then(copy, ident));
    fputs("no abort\n", stderr);
}

static sea_future t_future_used_after_result_taken(void) {
    sea_test_fork(after_taken_child, NULL, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "sea: future used twice");
    return sea_ready();
}

/* ---- promises ---- */

enum presolve { P_SET_SET, P_SET_ERROR, P_ERROR_FORWARD, P_RELEASE_SET, P_SET_RELEASE_SET, P_RELEASE_FORWARD,
                P_EARLY_SET_SET, P_CONTROL };

static void resolve_child(void *arg) {
    enum presolve m = *(enum presolve *)arg;
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    sea_future_detach(f);
    switch (m) {
    case P_SET_SET:
        sea_promise_set_int(&p, 1);
        sea_promise_set_int(&p, 2);
        break;
    case P_SET_ERROR:
        sea_promise_set_void(&p);
        sea_promise_set_error(&p, -EIO, NULL);
        break;
    case P_ERROR_FORWARD:
        sea_promise_set_error_fmt(&p, -EIO, "x%d", 1);
        sea_promise_forward(&p, sea_ready());
        break;
    case P_RELEASE_SET:
        sea_promise_release(&p);
        sea_promise_set_int(&p, 1);
        break;
    case P_SET_RELEASE_SET:
        sea_promise_set_int(&p, 1);
        sea_promise_release(&p);
        sea_promise_set_ptr(&p, NULL);
        break;
    case P_RELEASE_FORWARD:
        sea_promise_release(&p);
        sea_promise_forward(&p, sea_ready_int(3));
        break;
    case P_EARLY_SET_SET: {
        sea_promise q;
        sea_promise_init(&q);
        sea_promise_set_int(&q, 1);
        sea_promise_set_value(&q, (sea_value){.i = 2});
        break;
    }
    case P_CONTROL:
        sea_promise_set_int(&p, 1);
        sea_promise_release(&p);
        sea_promise_release(&p); /* releasing twice is fine */
        sea_promise_init(&p);
        sea_promise_set_int(&p, 2); /* after init, it is a new promise */
        sea_promise_release(&p);
        break;
    }
    fputs("no abort\n", stderr);
}

static sea_future t_promise_resolved_twice(void) {
    static const char *const names[] = {"set+set", "set+error", "error+forward", "release+set",
                                        "set+release+set", "release+forward", "early set+set"};
    for (enum presolve m = P_SET_SET; m < P_CONTROL; m++) {
        sea_test_fork(resolve_child, &m, &child);
        if (!sea_test_killed_by(&child, SIGABRT) || !strstr(child.err, "sea: promise resolved twice")) {
            fprintf(stderr, "  %s: status 0x%x, stderr: %s\n", names[m], child.status, child.err);
            sea_test_failures++;
        }
    }
    enum presolve c = P_CONTROL;
    sea_test_fork(resolve_child, &c, &child);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_CONTAINS(child.err, "no abort");
    return sea_ready();
}

/* ---- timers ---- */

static void noop_cb(sea_timer *t, void *arg) {
    (void)t, (void)arg;
}
static void *cancel_thread(void *arg) {
    sea_timer_cancel(arg);
    return NULL;
}
static void foreign_cancel_child(void *arg) {
    (void)arg;
    static sea_timer t;
    sea_timer_init(&t, noop_cb, NULL);
    sea_timer_arm(&t, SEA_SEC(100));
    pthread_t th;
    pthread_create(&th, NULL, cancel_thread, &t);
    pthread_join(th, NULL);
    fputs("no abort\n", stderr);
}

static sea_future t_timer_cancelled_on_foreign_thread(void) {
    sea_test_fork(foreign_cancel_child, NULL, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "sea: timer cancelled on a shard other than the one that armed it");
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_future_used_twice),
    SEA_TEST(t_future_used_once_is_fine),
    SEA_TEST(t_future_used_after_result_taken),
    SEA_TEST(t_promise_resolved_twice),
    SEA_TEST(t_timer_cancelled_on_foreign_thread),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
