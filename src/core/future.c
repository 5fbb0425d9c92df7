/*
 * future.c - pending futures: nodes, continuations that must wait, promises.
 *
 * The inline fast paths in sea/future.h handle ready futures.  Everything that
 * has to wait comes here.  A pending future names a node (struct sea__node).
 * A node receives one input (from a promise, from the node before it, or from
 * the future a continuation returned), runs its continuation on the run queue,
 * and hands the output to the node waiting on it - or keeps it (state READY)
 * until someone consumes the future.
 *
 * The first continuation attached to a promise's future reuses the node the
 * promise already made, so "promise + then" costs one node, like Seastar's one
 * allocation per deferred continuation.  Nodes come from a per-shard free list
 * carved out of 256-node chunks and are never returned to malloc while the
 * shard runs.
 *
 * A node's generation counter changes whenever a future that names it is
 * consumed or the node is freed; a pending future carries the generation it
 * was issued with, so using a pending future twice is detected.
 */
#include "core/future.h"

#include <sea/promise.h>
#include <sea/reactor.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compiler.h"
#include "base/list.h"
#include "base/panic.h"
#include "core/module.h"
#include "core/shard.h"

/* What a node does when its input arrives. */
enum node_kind {
    K_BARE,     /* no continuation: the input is the output */
    K_THEN,
    K_WRAPPED,
    K_FINALLY,
    K_HANDLE,
    K_NOTIFY,   /* sea__future_notify: fn(cap, input), no output (a fiber's sea_await) */
    K_MASK = 0x7f,
    K_NOVAL = 0x80, /* with K_THEN: fn takes no value */
};

/* Where a node stands. */
enum node_state {
    N_FREE,
    N_WAITING, /* input not arrived yet */
    N_QUEUED,  /* input arrived, continuation queued on the run queue */
    N_READY,   /* output held until its future is consumed */
};

/*
 * A pending future's node: the continuation to run, the slot its input and
 * then its output land in, and the next node waiting for that output.  One
 * node per continuation attached to a not-yet-ready future; 128 bytes, from a
 * per-shard free list.
 */
struct sea__node {
    sea_task task;             /* run queue link; runs the continuation */
    sea__fnptr fn;             /* the continuation, typed by kind (cap == NULL: it takes no capture) */
    struct sea__node *waiter;       /* who receives the output; or a W_* sentinel */
    sea_future result;         /* input until the continuation ran, then output */
    uint32_t gen;              /* bumped whenever a future referring to this node is consumed */
    uint8_t kind;              /* enum node_kind */
    uint8_t state;             /* enum node_state */
    uint16_t capsz;            /* bytes of capture: inline_cap up to SEA_CAPTURE_INLINE, else allocated */
    void *cap;                 /* the capture (K_NOTIFY: fn's argument) */
    unsigned char inline_cap[SEA_CAPTURE_INLINE];
};

/* Waiter sentinels: the output is dropped (silently, or reported if it failed). */
#define W_DETACH ((struct sea__node *)1)
#define W_IGNORE ((struct sea__node *)2)

#define NODES_PER_CHUNK 256

struct node_chunk {
    struct node_chunk *next;
    struct sea__node nodes[NODES_PER_CHUNK];
};

/* A shard's nodes (its SEA__SLOT_FUTURES): a free list carved out of chunks. */
struct node_pool {
    struct sea__node *free;
    struct node_chunk *chunks;
    uint64_t in_use;
    struct sea__list owned;  /* struct sea__owned: released at shard stop */
};

_Static_assert(sizeof(struct sea__node) <= 128, "a node should fit two cache lines");

static inline struct node_pool *pool_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_FUTURES];
}

static void node_run(sea_task *t);

static struct sea__shard *shard_or_panic(void) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        sea__panic("futures used on a thread with no running reactor");
    return s;
}

static struct sea__node *node_alloc(struct sea__shard *s) {
    struct node_pool *pool = pool_of(s);
    if (SEA__UNLIKELY(!pool->free)) {
        struct node_chunk *c = malloc(sizeof(*c));
        if (!c)
            return NULL;
        memset(c, 0, sizeof(*c));
        c->next = pool->chunks;
        pool->chunks = c;
        for (int i = NODES_PER_CHUNK - 1; i >= 0; i--) {
            c->nodes[i].waiter = pool->free;
            pool->free = &c->nodes[i];
        }
    }
    struct sea__node *n = pool->free;
    pool->free = n->waiter;
    n->waiter = NULL;
    n->fn = NULL;
    n->cap = NULL;
    n->capsz = 0;
    n->kind = K_BARE;
    n->state = N_WAITING;
    n->task.sea__run = node_run;
    n->task.sea__next = NULL;
    /* No result yet: a freed node still holds its last one, already handed on. */
    n->result.sea__state = SEA__S_INVALID;
    pool->in_use++;
    return n;
}

static void node_free_capture(struct sea__node *n) {
    if (n->capsz > SEA_CAPTURE_INLINE)
        free(n->cap);
    n->cap = NULL;
    n->capsz = 0;
}

static void node_free(struct sea__shard *s, struct sea__node *n) {
    node_free_capture(n);
    n->state = N_FREE;
    n->gen++;
    struct node_pool *pool = pool_of(s);
    n->waiter = pool->free;
    pool->free = n;
    pool->in_use--;
}

/* Copies the capture into the node.  Returns false if out of memory. */
static bool node_set_capture(struct sea__node *n, const void *cap, size_t capsz) {
    if (!cap) { /* the continuation takes no capture */
        n->cap = NULL;
        n->capsz = 0;
        return true;
    }
    if (capsz <= SEA_CAPTURE_INLINE) {
        n->cap = n->inline_cap;
    } else {
        if (capsz > UINT16_MAX)
            sea__panic("continuation capture of %zu bytes is too large (limit %u)", capsz,
                       (unsigned)UINT16_MAX);
        n->cap = malloc(capsz);
        if (!n->cap)
            return false;
    }
    memcpy(n->cap, cap, capsz);
    n->capsz = (uint16_t)capsz;
    return true;
}

static sea_future node_future(struct sea__node *n) {
    sea_future f = {SEA__S_PENDING, (int32_t)n->gen, {.ptr = n}};
    return f;
}

static void report_ignored(struct sea__shard *s, const sea_future *r) {
    const char *msg = (const char *)r->sea__v.ptr;
    fprintf(stderr, "exceptional future ignored: %s (%s)%s%s\n", sea_strerror(r->sea__err),
            sea_errname(r->sea__err), msg ? ": " : "", msg ? msg : "");
    if (s)
        s->stats.ignored_failures++;
}

void sea__drop_result(sea_future *r, bool report) {
    uint32_t kind = r->sea__state & SEA__S_KIND;
    if (kind == SEA__S_ERROR) {
        if (report && !(r->sea__state & SEA__F_OBSERVED))
            report_ignored(sea__shard_current, r);
        if (r->sea__state & SEA__F_OWNED_MSG)
            free(r->sea__v.ptr);
    } else if (kind == SEA__S_VALUE && (r->sea__state & SEA__F_BOX)) {
        sea_box *box = r->sea__v.ptr;
        if (box && box->release)
            box->release(box);
    }
    r->sea__state = SEA__S_INVALID;
    r->sea__v.ptr = NULL;
}

void sea__release(sea_future *f) {
    sea__drop_result(f, false);
}

/*
 * out is node n's output: pass it down the chain of waiters.  Bare waiters
 * (forwarders) pass it on at once; a waiter with a continuation is queued.
 * Never runs user code.  The result travels by value and is stored only where
 * it stays, which keeps the hot path free of store-to-load round trips.
 */
static void node_deliver(struct sea__shard *s, struct sea__node *n, sea_future out) {
    for (;;) {
        struct sea__node *w = n->waiter;
        if (!w) {
            n->result = out;
            n->state = N_READY;
            return;
        }
        node_free(s, n);
        if (w == W_DETACH || w == W_IGNORE) {
            /* A plain value owns nothing: only errors and boxes need releasing. */
            if (out.sea__state != SEA__S_VALUE)
                sea__drop_result(&out, w == W_IGNORE);
            return;
        }
        if (w->kind != K_BARE) {
            w->result = out;
            w->state = N_QUEUED;
            w->task.sea__run = node_run;
            sea__rq_push(s, &w->task);
            return;
        }
        n = w;
    }
}

static void node_input(struct sea__node *n, sea_future result) {
    struct sea__shard *s = shard_or_panic();
    if (n->state != N_WAITING)
        sea__panic("internal error: input delivered to a node that is not waiting");
    if (n->kind == K_BARE) {
        node_deliver(s, n, result);
    } else {
        n->result = result;
        n->state = N_QUEUED;
        n->task.sea__run = node_run;
        sea__rq_push(s, &n->task);
    }
}

/* Looks up the node a pending future names, catching a second use. */
static struct sea__node *pending_node(sea_future f) {
    struct sea__node *n = f.sea__v.ptr;
    if (!n || n->state == N_FREE || (uint32_t)f.sea__err != n->gen || n->waiter)
        sea__panic("future used twice (or after its result was taken)");
    return n;
}

/*
 * The node n has finished its continuation, whose result is out.  Make out
 * the node's output: now if it is ready, else when out's node delivers.
 */
static void node_resolve(struct sea__shard *s, struct sea__node *n, sea_future out) {
    n->kind = K_BARE;
    n->fn = NULL;
    uint32_t kind = out.sea__state & SEA__S_KIND;
    if (kind == SEA__S_PENDING) {
        struct sea__node *g = pending_node(out);
        if (g->state == N_READY) {
            out = g->result;
            node_free(s, g);
        } else {
            g->gen++; /* out is consumed */
            if (n->waiter) {
                /* Skip n: g's output goes straight to n's waiter. */
                g->waiter = n->waiter;
                node_free(s, n);
            } else {
                g->waiter = n;
                n->state = N_WAITING;
            }
            return;
        }
    } else if (kind == SEA__S_INVALID) {
        out = sea_failed(SEA_EFUTURE_USED, "continuation returned a consumed or uninitialised future");
    }
    node_deliver(s, n, out);
}

static sea_future finally_join_cont(sea_future *saved, sea_future *fn_result);

/* Runs a queued node's continuation. */
static void node_run(sea_task *t) {
    struct sea__node *n = sea__container_of(t, struct sea__node, task);
    struct sea__shard *s = sea__shard_current;
    sea_future in = n->result;
    if (n->kind == K_NOTIFY) {
        /* Someone waits for this result without a continuation: no output, nobody to deliver to. */
        sea__notify_fn fn = (sea__notify_fn)n->fn;
        void *arg = n->cap;
        n->kind = K_BARE;
        n->fn = NULL;
        n->cap = NULL;
        n->result.sea__state = SEA__S_INVALID;
        node_free(s, n);
        fn(arg, in);
        return;
    }
    bool failed = (in.sea__state & SEA__S_KIND) == SEA__S_ERROR;
    sea_future out;
    n->result.sea__state = SEA__S_INVALID;
    sea__hot.inline_depth++;
    switch (n->kind & K_MASK) {
    case K_THEN:
        out = failed ? in : sea__call_then(n->fn, n->cap, n->kind & K_NOVAL, in.sea__v);
        break;
    case K_WRAPPED:
        out = sea__call_wrapped(n->fn, n->cap, &in);
        sea__wrapped_cleanup(&in);
        break;
    case K_FINALLY: {
        sea_future r = sea__call(n->fn, n->cap);
        node_free_capture(n);
        out = sea__finally_join(r, in);
        break;
    }
    case K_HANDLE:
        if (failed) {
            out = sea__call_handle(n->fn, n->cap, in.sea__err, (const char *)in.sea__v.ptr);
            sea__release(&in);
        } else {
            out = in;
        }
        break;
    default:
        sea__panic("internal error: queued node of kind %u", n->kind);
    }
    sea__hot.inline_depth--;
    node_free_capture(n);
    node_resolve(s, n, out);
}

/*
 * Attaches a continuation of the given kind to f, which is pending or ready
 * (ready but past the inline depth limit).  Returns the future of its result.
 */
static sea_future attach(sea_future f, uint8_t kind, sea__fnptr fn, const void *cap, size_t capsz) {
    struct sea__shard *s = shard_or_panic();
    uint32_t fkind = f.sea__state & SEA__S_KIND;
    struct sea__node *n;
    if (fkind == SEA__S_PENDING) {
        struct sea__node *src = pending_node(f);
        if (src->state == N_WAITING && src->kind == K_BARE) {
            /* Reuse the bare node: its input becomes this continuation's input. */
            if (!node_set_capture(src, cap, capsz))
                goto nomem_pending;
            src->kind = kind;
            src->fn = fn;
            src->gen++;
            return node_future(src);
        }
        if (src->state == N_READY) {
            /* Ready by now: run as a ready future would. */
            sea_future r = src->result;
            node_free(s, src);
            f = r;
            fkind = f.sea__state & SEA__S_KIND;
            goto ready;
        }
        n = node_alloc(s);
        if (!n || !node_set_capture(n, cap, capsz)) {
            if (n)
                node_free(s, n);
            goto nomem_pending;
        }
        n->kind = kind;
        n->fn = fn;
        src->waiter = n;
        src->gen++;
        return node_future(n);
    nomem_pending:
        src->waiter = W_DETACH;
        src->gen++;
        return sea_failed(-ENOMEM, "out of memory attaching a continuation");
    }
    if (fkind == SEA__S_INVALID)
        return sea_failed(SEA_EFUTURE_USED, "continuation attached to a consumed or uninitialised future");
ready:
    if (sea__may_inline()) {
        /* Only reached from a pending-but-ready node: run inline like the fast path. */
        switch (kind & K_MASK) {
        case K_THEN:
            return sea__then(f, fn, (void *)cap, capsz, kind & K_NOVAL);
        case K_WRAPPED:
            return sea__then_wrapped(f, fn, (void *)cap, capsz);
        case K_FINALLY:
            return sea__finally(f, fn, (void *)cap, capsz);
        default:
            return sea__handle_error(f, fn, (void *)cap, capsz);
        }
    }
    /* Too deep to run inline: queue it with its input already in place. */
    n = node_alloc(s);
    if (!n || !node_set_capture(n, cap, capsz)) {
        if (n)
            node_free(s, n);
        sea__drop_result(&f, true);
        return sea_failed(-ENOMEM, "out of memory deferring a continuation");
    }
    n->kind = kind;
    n->fn = fn;
    n->result = f;
    n->state = N_QUEUED;
    s->stats.inline_deferred++;
    sea__rq_push(s, &n->task);
    return node_future(n);
}

int sea__future_notify(sea_future f, sea__notify_fn fn, void *arg, sea_future *ready) {
    struct sea__shard *s = shard_or_panic();
    struct sea__node *src = pending_node(f);
    if (src->state == N_READY) {
        *ready = src->result;
        node_free(s, src);
        return 1;
    }
    src->gen++; /* f is consumed */
    if (src->state == N_WAITING && src->kind == K_BARE) {
        /* The usual case (a promise's future): the node itself calls fn. */
        src->kind = K_NOTIFY;
        src->fn = (sea__fnptr)fn;
        src->cap = arg;
        return 0;
    }
    struct sea__node *n = node_alloc(s);
    if (!n) {
        src->waiter = W_DETACH;
        return -ENOMEM;
    }
    n->kind = K_NOTIFY;
    n->fn = (sea__fnptr)fn;
    n->cap = arg;
    src->waiter = n;
    return 0;
}

sea_future sea__then_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz, unsigned noval) {
    return attach(f, K_THEN | (noval ? K_NOVAL : 0), fn, cap, capsz);
}
sea_future sea__wrapped_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz) {
    return attach(f, K_WRAPPED, fn, cap, capsz);
}
sea_future sea__finally_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz) {
    return attach(f, K_FINALLY, fn, cap, capsz);
}
sea_future sea__handle_slow(sea_future f, sea__fnptr fn, void *cap, size_t capsz) {
    return attach(f, K_HANDLE, fn, cap, capsz);
}

void sea__wrapped_cleanup(sea_future *in) {
    uint32_t kind = in->sea__state & SEA__S_KIND;
    if (kind == SEA__S_ERROR || (kind == SEA__S_VALUE && (in->sea__state & SEA__F_BOX)))
        sea__drop_result(in, true);
}

static sea_future finally_join_cont(sea_future *saved, sea_future *fn_result) {
    if (sea_future_failed(fn_result)) {
        (void)sea_future_error(fn_result);
        sea__release(saved);
        return sea_future_move(fn_result);
    }
    return sea_future_move(saved);
}

/* The result of a finally step: the input, unless fn's future failed. */
sea_future sea__finally_join(sea_future r, sea_future input) {
    switch (r.sea__state & SEA__S_KIND) {
    case SEA__S_VALUE:
        sea__release(&r);
        return input;
    case SEA__S_ERROR:
        sea__release(&input);
        return r;
    case SEA__S_PENDING:
        return sea_then_wrapped(r, finally_join_cont, input);
    default:
        sea__release(&input);
        return sea_failed(SEA_EFUTURE_USED, "finally step returned a consumed or uninitialised future");
    }
}

/* ---- public helpers ---- */

/* A failed future owning its formatted message (no message if it cannot be allocated). */
static sea_future failed_vfmt(int err, const char *fmt, va_list ap) {
    sea_future f = sea_failed(err, NULL);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) >= 0) {
        f.sea__v.ptr = msg;
        f.sea__state |= SEA__F_OWNED_MSG;
    }
    return f;
}

sea_future sea_failed_fmt(int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sea_future f = failed_vfmt(err, fmt, ap);
    va_end(ap);
    return f;
}

void sea__future_settle(sea_future *f) {
    if ((f->sea__state & SEA__S_KIND) != SEA__S_PENDING)
        return;
    struct sea__node *n = pending_node(*f);
    if (n->state == N_READY) {
        sea_future r = n->result;
        node_free(shard_or_panic(), n);
        *f = r;
    }
}

bool sea_future_available(const sea_future *f) {
    uint32_t kind = f->sea__state & SEA__S_KIND;
    if (kind == SEA__S_PENDING)
        return ((struct sea__node *)f->sea__v.ptr)->state == N_READY;
    return kind == SEA__S_VALUE || kind == SEA__S_ERROR;
}

/*
 * The ready result f holds: f itself, or, for a pending future that has become
 * available, its node's output (so the inspectors below see what
 * sea_future_available saw).
 */
static sea_future *ready_result(sea_future *f) {
    if ((f->sea__state & SEA__S_KIND) == SEA__S_PENDING) {
        struct sea__node *n = f->sea__v.ptr;
        if (n && n->state == N_READY && (uint32_t)f->sea__err == n->gen && !n->waiter)
            return &n->result;
    }
    return f;
}

bool sea_future_failed(const sea_future *f) {
    f = ready_result((sea_future *)f);
    return (f->sea__state & SEA__S_KIND) == SEA__S_ERROR;
}

int sea_future_error(sea_future *f) {
    f = ready_result(f);
    if ((f->sea__state & SEA__S_KIND) != SEA__S_ERROR)
        return 0;
    f->sea__state |= SEA__F_OBSERVED;
    return f->sea__err;
}

const char *sea_future_message(const sea_future *f) {
    f = ready_result((sea_future *)f);
    if ((f->sea__state & SEA__S_KIND) != SEA__S_ERROR)
        return NULL;
    return (const char *)f->sea__v.ptr;
}

sea_value sea_future_value(sea_future *f) {
    sea_value zero = {0};
    f = ready_result(f);
    if ((f->sea__state & SEA__S_KIND) != SEA__S_VALUE)
        return zero;
    f->sea__state &= ~(uint32_t)SEA__F_BOX;
    return f->sea__v;
}

sea_future sea_future_move(sea_future *f) {
    sea_future r = *f;
    /* Whoever receives a failure has not looked at it yet: it is reported if they drop it. */
    r.sea__state &= ~(uint32_t)SEA__F_OBSERVED;
    f->sea__state = SEA__S_INVALID;
    f->sea__v.ptr = NULL;
    return r;
}

static void drop_future(sea_future f, bool report) {
    uint32_t kind = f.sea__state & SEA__S_KIND;
    if (kind != SEA__S_PENDING) {
        sea__drop_result(&f, report);
        return;
    }
    struct sea__shard *s = shard_or_panic();
    struct sea__node *n = pending_node(f);
    if (n->state == N_READY) {
        sea__drop_result(&n->result, report);
        node_free(s, n);
        return;
    }
    n->waiter = report ? W_IGNORE : W_DETACH;
    n->gen++;
}

void sea_future_ignore(sea_future f) {
    drop_future(f, true);
}

void sea_future_detach(sea_future f) {
    drop_future(f, false);
}

/* ---- promises ---- */

enum {
    PROMISE_GOT_FUTURE = 1,
    PROMISE_RESOLVED = 2,
};

void sea_promise_init(sea_promise *p) {
    memset(p, 0, sizeof(*p));
}

sea_future sea_promise_get_future(sea_promise *p) {
    if (p->sea__flags & PROMISE_GOT_FUTURE)
        return sea_failed(SEA_EFUTURE_USED, "sea_promise_get_future called twice");
    p->sea__flags |= PROMISE_GOT_FUTURE;
    if (p->sea__flags & PROMISE_RESOLVED)
        return sea_future_move(&p->sea__early);
    struct sea__node *n = node_alloc(shard_or_panic());
    if (!n)
        return sea_failed(-ENOMEM, "out of memory creating a promise's future");
    p->sea__node = n;
    return node_future(n);
}

/* Hands a ready result to whoever waits on p. */
static void promise_deliver(sea_promise *p, sea_future r) {
    if (p->sea__node) {
        struct sea__node *n = p->sea__node;
        p->sea__node = NULL;
        node_input(n, r);
    } else if (p->sea__flags & PROMISE_GOT_FUTURE) {
        /* The future failed to allocate (-ENOMEM) and the caller was told so. */
        sea__drop_result(&r, false);
    } else {
        p->sea__early = r;
    }
}

/* p's result will be what the pending future f resolves to. */
static void promise_link(sea_promise *p, sea_future f) {
    struct sea__shard *s = shard_or_panic();
    struct sea__node *g = pending_node(f);
    if (g->state == N_READY) {
        sea_future r = g->result;
        node_free(s, g);
        promise_deliver(p, r);
        return;
    }
    g->gen++;
    if (p->sea__node) {
        g->waiter = p->sea__node;
        p->sea__node = NULL;
    } else if (p->sea__flags & PROMISE_GOT_FUTURE) {
        g->waiter = W_DETACH;
    } else {
        /* Nobody took the future yet: it will be g's own. */
        p->sea__early = node_future(g);
    }
}

static void promise_resolve(sea_promise *p, sea_future r) {
    if (p->sea__flags & PROMISE_RESOLVED)
        sea__panic("promise resolved twice");
    p->sea__flags |= PROMISE_RESOLVED;
    if ((r.sea__state & SEA__S_KIND) == SEA__S_PENDING)
        promise_link(p, r);
    else
        promise_deliver(p, r);
}

void sea_promise_set_value(sea_promise *p, sea_value v) {
    promise_resolve(p, sea_ready_value(v));
}
void sea_promise_set_void(sea_promise *p) {
    promise_resolve(p, sea_ready());
}
void sea_promise_set_int(sea_promise *p, int64_t i) {
    promise_resolve(p, sea_ready_int(i));
}
void sea_promise_set_ptr(sea_promise *p, void *ptr) {
    promise_resolve(p, sea_ready_ptr(ptr));
}
void sea_promise_set_box(sea_promise *p, sea_box *box) {
    promise_resolve(p, sea_ready_box(box));
}
void sea_promise_set_error(sea_promise *p, int err, const char *static_msg) {
    promise_resolve(p, sea_failed(err, static_msg));
}
void sea_promise_set_error_fmt(sea_promise *p, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sea_future f = failed_vfmt(err, fmt, ap);
    va_end(ap);
    promise_resolve(p, f);
}

void sea_promise_forward(sea_promise *p, sea_future f) {
    promise_resolve(p, f);
}

bool sea_promise_resolved(const sea_promise *p) {
    return (p->sea__flags & PROMISE_RESOLVED) != 0;
}

void sea_promise_release(sea_promise *p) {
    if (!(p->sea__flags & PROMISE_RESOLVED)) {
        if (p->sea__node) {
            struct sea__node *n = p->sea__node;
            p->sea__node = NULL;
            node_input(n, sea_failed(SEA_EBROKEN_PROMISE, "broken promise"));
        }
    } else if (!(p->sea__flags & PROMISE_GOT_FUTURE)) {
        sea_future_detach(p->sea__early);
    }
    memset(p, 0, sizeof(*p));
    /* Released: resolving it again is caught, it reads as resolved, and it has no future to give. */
    p->sea__flags = PROMISE_GOT_FUTURE | PROMISE_RESOLVED;
}

/* ---- shutdown ---- */

static void pool_destroy(struct node_pool *pool) {
    struct node_chunk *c = pool->chunks;
    while (c) {
        for (int i = 0; i < NODES_PER_CHUNK; i++) {
            struct sea__node *n = &c->nodes[i];
            if (n->state == N_FREE)
                continue;
            if (n->state == N_READY || n->state == N_QUEUED)
                sea__drop_result(&n->result, n->state == N_READY);
            if (n->capsz > SEA_CAPTURE_INLINE)
                free(n->cap);
        }
        struct node_chunk *next = c->next;
        free(c);
        c = next;
    }
    pool->chunks = NULL;
    pool->free = NULL;
    pool->in_use = 0;
}

/* ---- yield ---- */

static void yield_run(sea_task *t) {
    struct sea__node *n = sea__container_of(t, struct sea__node, task);
    /* The node itself is the task: its input is ready now. */
    n->kind = K_BARE;
    n->state = N_WAITING;
    node_input(n, sea_ready());
}

sea_future sea_yield(void) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return sea_failed(SEA_ESHUTDOWN, "sea_yield called with no running reactor");
    struct sea__node *n = node_alloc(s);
    if (!n)
        return sea_failed(-ENOMEM, "out of memory in sea_yield");
    /* Borrow the node's own task link: run once, then it becomes an ordinary bare node. */
    n->state = N_QUEUED;
    n->task.sea__run = yield_run;
    /* Queued after the next I/O poll and timer check, not merely behind the current tasks. */
    sea__yq_push(s, &n->task);
    return node_future(n);
}

/* ---- the futures module: each shard's pool of nodes ---- */

uint64_t sea__futures_pending(const struct sea__shard *s) {
    const struct node_pool *pool = pool_of(s);
    return pool ? pool->in_use : 0;
}

static int futures_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct node_pool *pool = calloc(1, sizeof(*pool));
    if (!pool) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->slot[SEA__SLOT_FUTURES] = pool;
    return 0;
}

void sea__owned_add(struct sea__owned *o, void (*release)(struct sea__owned *o)) {
    o->release = release;
    sea__list_push_back(&pool_of(shard_or_panic())->owned, &o->link);
}

void sea__owned_remove(struct sea__owned *o) {
    sea__list_remove(&pool_of(shard_or_panic())->owned, &o->link);
}

/* Last of the core's subsystems to go: everything before it released its promises into nodes. */
static void futures_shard_stop(struct sea__shard *s) {
    struct node_pool *pool = pool_of(s);
    if (!pool)
        return;
    pool_destroy(pool);
    for (struct sea__link *l; (l = sea__list_pop_front(&pool->owned));) {
        struct sea__owned *o = sea__container_of(l, struct sea__owned, link);
        o->release(o);
    }
    free(pool);
    s->slot[SEA__SLOT_FUTURES] = NULL;
}

static void futures_dump(struct sea__shard *s, FILE *out, int part) {
    if (part == SEA__DUMP_SUMMARY)
        fprintf(out, "%llu pending futures", (unsigned long long)sea__futures_pending(s));
}

const struct sea__module sea__module_futures = {
    .name = "futures",
    .shard_start = futures_shard_start,
    .shard_stop = futures_shard_stop,
    .dump = futures_dump,
};
