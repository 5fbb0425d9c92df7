/*
 * smp.c - the queues between shards: sea_submit_to, invoke_on_all and
 * map_reduce, foreign pointers, and the module that gives each shard its end
 * of the queues (a poller that publishes and drains them every loop turn,
 * and puts them to sleep).  The application template (app.c) starts and
 * pins the shards' threads.
 *
 * Each ordered pair of shards (a, b) has two single-producer single-consumer
 * rings of 128 message pointers: requests from a to b, and responses from b
 * back to a, so N shards have N*(N-1) of each.  A sender first appends
 * messages to a staging list it alone owns; staging is copied into the ring
 * and published (one release store of the tail) every 16 messages and once
 * every loop turn, by the poller.  When the ring is full, messages stay staged,
 * in order, and go out on a later turn: nothing spins, nothing is dropped.
 *
 * Wake-ups: a shard about to sleep sets its `sleeping` flag, then runs
 * membarrier(PRIVATE_EXPEDITED), which acts as a full memory barrier on every
 * other thread of the process, then looks at its incoming rings once more.
 * A sender publishes the tail and then reads the flag with no fence of its
 * own: either its tail store is visible to the sleeper's final look, or its
 * load of the flag comes after the membarrier and sees it set, and the sender
 * writes the sleeper's eventfd.  Where membarrier is unavailable the sender
 * pays a full fence instead.  So an awake receiver costs the sender neither a
 * fence nor a system call.
 *
 * The messages themselves carry a copy of the capture, the function, and the
 * result on the way back; the promise they resolve stays on the sender's
 * shard and is touched only there.
 */
#include "core/smp.h"

#include <sea/promise.h>
#include <sea/reactor.h>
#include <sea/smp.h>

#include <errno.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/list.h"
#include "core/future.h"
#include "core/module.h"
#include "core/shard.h"

#define RING_CAP 128
#define RING_MASK (RING_CAP - 1)
#define FLUSH_BATCH 16
#define MSG_INLINE_CAP 64

/* One SPSC ring.  Producer and consumer fields sit on separate cache lines. */
struct sea__xring {
    _Alignas(64) _Atomic uint32_t tail; /* written by the producer */
    uint32_t head_cache;                /* producer's last view of head */
    _Alignas(64) _Atomic uint32_t head; /* written by the consumer */
    _Alignas(64) void *slots[RING_CAP];
};

/* One direction between two shards: the ring plus the producer's staging list. */
struct sea__xq {
    struct sea__xring ring;
    _Alignas(64) struct sea__xmsg *stage_head; /* producer only */
    struct sea__xmsg **stage_tail;
    unsigned staged;
};

struct sea__xmsg {
    /* The first cache line holds all the target touches (for captures of up to 16 bytes). */
    struct sea__xmsg *next; /* staging link; the pool's link */
    sea__fnptr fn;
    void *cap;
    unsigned src, dst;
    sea_future result;
    _Alignas(max_align_t) unsigned char inline_cap[MSG_INLINE_CAP]; /* aligned for any capture type */
    /* Sender only, or pending requests only. */
    struct sea__link running; /* on the target: its requests still running */
    sea_promise promise;    /* on src */
    size_t capsz;
};

#define MSG_SIZE ((sizeof(struct sea__xmsg) + 63) & ~(size_t)63)
#define MSG_POOL_MAX 1024

/* A shard's end of the queues (its SEA__SLOT_SMP, and smp->peers[id]). */
struct smp_shard {
    struct sea__shard *shard;
    struct sea__smp *smp;
    unsigned id;
    unsigned staged;           /* outgoing messages not yet in a ring */
    struct sea__list running;  /* requests running here, their results not ready yet */
    struct sea__xmsg *free;    /* recycled messages (this shard's own) */
    unsigned free_n;
    bool wake_armed;           /* a poll on the shard's wake_fd is pending */
    struct sea__poller poller;
    /* Read by other shards after every flush: on a cache line of its own. */
    _Alignas(64) _Atomic int sleeping; /* set while (about to be) asleep in the kernel */
};

static inline struct smp_shard *smp_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_SMP];
}

static struct sea__xq *req_q(struct sea__smp *smp, unsigned from, unsigned to) {
    return &smp->req[(size_t)from * smp->n + to];
}

static struct sea__xq *resp_q(struct sea__smp *smp, unsigned from, unsigned to) {
    return &smp->resp[(size_t)from * smp->n + to];
}

/* ---- set-up and tear-down of the queues ---- */

int sea__smp_create(struct sea__smp *smp, unsigned n) {
    smp->n = n;
    size_t count = (size_t)n * n;
    smp->req = aligned_alloc(64, sizeof(struct sea__xq) * count);
    smp->resp = aligned_alloc(64, sizeof(struct sea__xq) * count);
    smp->shards = calloc(n, sizeof(*smp->shards));
    smp->peers = calloc(n, sizeof(*smp->peers));
    if (!smp->req || !smp->resp || !smp->shards || !smp->peers) {
        free(smp->req);
        free(smp->resp);
        free(smp->shards);
        free(smp->peers);
        return -ENOMEM;
    }
    memset(smp->req, 0, sizeof(struct sea__xq) * count);
    memset(smp->resp, 0, sizeof(struct sea__xq) * count);
    for (size_t i = 0; i < count; i++) {
        smp->req[i].stage_tail = &smp->req[i].stage_head;
        smp->resp[i].stage_tail = &smp->resp[i].stage_head;
    }
    smp->membarrier_ok = n > 1 && syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    atomic_store(&smp->stopping, 0);
    return 0;
}

void sea__smp_free(struct sea__smp *smp) {
    free(smp->req);
    free(smp->resp);
    free(smp->shards);
    free(smp->peers);
    smp->req = smp->resp = NULL;
    smp->shards = NULL;
    smp->peers = NULL;
}

/* ---- sending ---- */

/* Moves as much of q's staging as fits into its ring and publishes it. */
static void flush_q(struct sea__smp *smp, struct sea__xq *q, unsigned dst) {
    if (!q->staged)
        return;
    struct sea__xring *r = &q->ring;
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t space = RING_CAP - (tail - r->head_cache);
    if (space < q->staged) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        space = RING_CAP - (tail - r->head_cache);
    }
    uint32_t moved = 0;
    while (space && q->stage_head) {
        struct sea__xmsg *m = q->stage_head;
        q->stage_head = m->next;
        r->slots[tail & RING_MASK] = m;
        tail++;
        space--;
        moved++;
    }
    if (!q->stage_head)
        q->stage_tail = &q->stage_head;
    q->staged -= moved;
    if (!moved)
        return;
    atomic_store_explicit(&r->tail, tail, memory_order_release);
    if (!smp->membarrier_ok)
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst); /* keep the compiler from hoisting the load */
    if (atomic_load_explicit(&smp->peers[dst]->sleeping, memory_order_relaxed))
        sea__shard_wake(smp->shards[dst]);
}

static void stage(struct smp_shard *me, struct sea__xq *q, unsigned dst, struct sea__xmsg *m) {
    m->next = NULL;
    *q->stage_tail = m;
    q->stage_tail = &m->next;
    q->staged++;
    me->staged++;
    if (q->staged >= FLUSH_BATCH)
        flush_q(me->smp, q, dst);
}

/* Publishes staged outgoing messages. */
static void smp_flush(struct smp_shard *me) {
    struct sea__smp *smp = me->smp;
    if (!me->staged)
        return;
    unsigned left = 0;
    for (unsigned j = 0; j < smp->n; j++) {
        if (j == me->id)
            continue;
        struct sea__xq *q = req_q(smp, me->id, j);
        flush_q(smp, q, j);
        left += q->staged;
        q = resp_q(smp, me->id, j);
        flush_q(smp, q, j);
        left += q->staged;
    }
    me->staged = left;
}

/* ---- receiving ---- */

/*
 * Requests whose function ran on the target but whose result is not ready
 * sit on the target's running list, so that a stop can still answer them.
 */
static sea_future request_done(struct sea__xmsg **mp, sea_future *in) {
    struct sea__xmsg *m = *mp;
    struct smp_shard *me = smp_of(sea__shard_current);
    sea__list_remove(&me->running, &m->running);
    m->result = sea_future_move(in);
    stage(me, resp_q(me->smp, me->id, m->src), m->src, m);
    return sea_ready();
}

/* On the target: run the request; its result goes back when ready. */
static void handle_request(struct smp_shard *me, struct sea__xmsg *m) {
    sea_future f;
    if (me->shard->stopping) {
        f = sea_failed(SEA_ESHUTDOWN, "the target shard is stopping");
    } else {
        sea__hot.inline_depth++;
        f = sea__call(m->fn, m->cap);
        sea__hot.inline_depth--;
    }
    if ((f.sea__state & SEA__S_KIND) != SEA__S_PENDING) {
        /* Ready at once (the common case): answer now, no continuation needed. */
        m->result = f;
        stage(me, resp_q(me->smp, me->id, m->src), m->src, m);
        return;
    }
    sea__list_push_front(&me->running, &m->running);
    sea_future w = sea_then_wrapped(f, request_done, m);
    /*
     * Once request_done ran, m belongs to the sender again (a flush may have
     * published the response, and the sender may have freed m already): do
     * not touch it.  request_done only ever returns a value, so a failed w
     * means it never ran and never will.
     */
    if ((w.sea__state & SEA__S_KIND) == SEA__S_ERROR) {
        /* Could not wait for the result (out of memory): answer with that. */
        sea__list_remove(&me->running, &m->running);
        m->result = w;
        stage(me, resp_q(me->smp, me->id, m->src), m->src, m);
        return;
    }
    sea_future_detach(w);
}

/* Messages always come home to the shard that sent them: each shard recycles its own. */
static struct sea__xmsg *msg_alloc(struct smp_shard *me) {
    struct sea__xmsg *m = me->free;
    if (m) {
        me->free = m->next;
        me->free_n--;
        return m;
    }
    return aligned_alloc(64, MSG_SIZE);
}

static void msg_free(struct sea__xmsg *m) {
    if (m->cap && m->cap != (void *)m->inline_cap)
        free(m->cap);
    struct sea__shard *s = sea__shard_current;
    struct smp_shard *me = s ? smp_of(s) : NULL;
    if (me && me->id == m->src && me->free_n < MSG_POOL_MAX &&
        !atomic_load_explicit(&me->smp->stopping, memory_order_relaxed)) {
        m->next = me->free;
        me->free = m;
        me->free_n++;
        return;
    }
    free(m);
}

/* Back on the sender: resolve the promise, free the message. */
static void handle_response(struct sea__xmsg *m) {
    sea_promise_forward(&m->promise, m->result);
    sea_promise_release(&m->promise);
    msg_free(m);
}

/* Takes everything ring r holds, oldest first. */
static unsigned drain_ring(struct smp_shard *me, struct sea__xring *r, bool requests) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (tail == head)
        return 0;
    unsigned n = 0;
    for (; head != tail; head++, n++) {
        struct sea__xmsg *m = r->slots[head & RING_MASK];
        if (requests)
            handle_request(me, m);
        else
            handle_response(m);
    }
    atomic_store_explicit(&r->head, head, memory_order_release);
    return n;
}

/* The poller's flush, right after the tasks: what they sent goes out before anything else happens. */
static void smp_flush_hook(void *state) {
    smp_flush(state);
}

/*
 * The poller: handles incoming requests and responses.  (What this shard
 * staged went out in the flush right after the tasks; what a full ring held
 * back goes out at the next one, or before sleeping.)
 */
static unsigned smp_poll(void *state) {
    struct smp_shard *me = state;
    struct sea__smp *smp = me->smp;
    if (smp->n == 1)
        return 0;
    unsigned n = 0;
    for (unsigned i = 0; i < smp->n; i++) {
        if (i == me->id)
            continue;
        n += drain_ring(me, &resp_q(smp, i, me->id)->ring, false);
        n += drain_ring(me, &req_q(smp, i, me->id)->ring, true);
    }
    me->shard->stats.smp_messages += n;
    return n;
}

/* True if any incoming ring holds a message. */
static bool incoming(struct smp_shard *me) {
    struct sea__smp *smp = me->smp;
    for (unsigned i = 0; i < smp->n; i++) {
        if (i == me->id)
            continue;
        struct sea__xring *r = &req_q(smp, i, me->id)->ring;
        if (atomic_load_explicit(&r->tail, memory_order_acquire) != atomic_load_explicit(&r->head, memory_order_relaxed))
            return true;
        r = &resp_q(smp, i, me->id)->ring;
        if (atomic_load_explicit(&r->tail, memory_order_acquire) != atomic_load_explicit(&r->head, memory_order_relaxed))
            return true;
    }
    return false;
}

/* ---- sleeping ---- */

static sea_future wake_drained(struct smp_shard **mep, sea_future *in) {
    struct smp_shard *me = *mep;
    (void)sea_future_error(in); /* a broken poll at shutdown is fine */
    uint64_t v;
    ssize_t r = read(me->shard->wake_fd, &v, sizeof(v));
    (void)r;
    me->wake_armed = false;
    return sea_ready();
}

/* Before the loop sleeps: true if it may (nothing staged, nothing incoming), with the wake-up armed. */
static bool smp_try_sleep(void *state, sea_time *deadline) {
    struct smp_shard *me = state;
    struct sea__smp *smp = me->smp;
    (void)deadline;
    if (smp->n == 1)
        return true;
    smp_flush(me);
    if (me->staged)
        return false; /* a full ring: keep polling until the target makes room */
    if (!me->wake_armed) {
        me->wake_armed = true;
        sea_future_detach(sea_then_wrapped(sea_fd_poll(me->shard->wake_fd, SEA_POLLIN), wake_drained, me));
    }
    atomic_store_explicit(&me->sleeping, 1, memory_order_relaxed);
    if (smp->membarrier_ok)
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    else
        atomic_thread_fence(memory_order_seq_cst);
    if (incoming(me) || atomic_load_explicit(&me->shard->stop_requested, memory_order_relaxed)) {
        atomic_store_explicit(&me->sleeping, 0, memory_order_relaxed);
        return false;
    }
    return true;
}

static void smp_after_wake(void *state) {
    struct smp_shard *me = state;
    atomic_store_explicit(&me->sleeping, 0, memory_order_relaxed);
}

void sea__smp_request_stop(struct sea__smp *smp, int exit_code) {
    if (atomic_exchange(&smp->stopping, 1))
        return;
    smp->exit_code = exit_code;
    for (unsigned i = 0; i < smp->n; i++) {
        struct sea__shard *d = smp->shards[i];
        atomic_store_explicit(&d->stop_requested, 1, memory_order_release);
        if (d != sea__shard_current)
            sea__shard_wake(d);
    }
}

/* ---- after the loops have stopped ---- */

/*
 * Phase 1, on every shard: requests that reached this shard but never ran,
 * and requests still running (their results will never be ready: the loop
 * has ended), are answered with SEA_ESHUTDOWN, staged like any response.
 */
void sea__smp_drain_requests(struct sea__shard *s) {
    struct smp_shard *me = smp_of(s);
    struct sea__smp *smp = me->smp;
    struct sea__link *l;
    while ((l = sea__list_pop_front(&me->running))) {
        /* Its pending continuation (request_done) never runs now, and is dropped with the shard. */
        struct sea__xmsg *m = sea__list_entry(l, struct sea__xmsg, running);
        m->result = sea_failed(SEA_ESHUTDOWN, "the application stopped while this request was running");
        stage(me, resp_q(smp, me->id, m->src), m->src, m);
    }
    for (unsigned i = 0; i < smp->n; i++) {
        if (i == me->id)
            continue;
        struct sea__xring *r = &req_q(smp, i, me->id)->ring;
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        for (; head != tail; head++) {
            struct sea__xmsg *m = r->slots[head & RING_MASK];
            m->result = sea_failed(SEA_ESHUTDOWN, "the application stopped before this request ran");
            stage(me, resp_q(smp, me->id, m->src), m->src, m);
        }
        atomic_store_explicit(&r->head, head, memory_order_release);
    }
}

/*
 * Phase 2, on every shard, once every shard finished phase 1: this shard's
 * own messages come home from wherever they are (response rings, other
 * shards' response staging, its own request staging) and their promises are
 * resolved here (responses) or failed (requests never sent).
 */
void sea__smp_drain_home(struct sea__shard *s) {
    struct smp_shard *me = smp_of(s);
    struct sea__smp *smp = me->smp;
    for (unsigned i = 0; i < smp->n; i++) {
        if (i == me->id)
            continue;
        drain_ring(me, &resp_q(smp, i, me->id)->ring, false);
        struct sea__xq *q = resp_q(smp, i, me->id);
        for (struct sea__xmsg *m = q->stage_head, *next; m; m = next) {
            next = m->next;
            handle_response(m);
        }
        q->stage_head = NULL;
        q->stage_tail = &q->stage_head;
        q->staged = 0;
        q = req_q(smp, me->id, i);
        for (struct sea__xmsg *m = q->stage_head, *next; m; m = next) {
            next = m->next;
            m->result = sea_failed(SEA_ESHUTDOWN, "the application stopped before this request was sent");
            handle_response(m);
        }
        q->stage_head = NULL;
        q->stage_tail = &q->stage_head;
        q->staged = 0;
    }
    me->staged = 0;
    while (me->free) {
        struct sea__xmsg *m = me->free;
        me->free = m->next;
        free(m);
    }
    me->free_n = 0;
}

/* ---- public API ---- */

sea_future sea__submit_to(unsigned shard, sea__fnptr fn, const void *cap, size_t capsz) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return sea_failed(SEA_ESHUTDOWN, "sea_submit_to called with no running reactor");
    if (shard >= s->count)
        return sea_failed_fmt(-EINVAL, "sea_submit_to: shard %u does not exist (%u shards)", shard, s->count);
    if (shard == s->id) {
        /* A local target is a direct call. */
        sea__hot.inline_depth++;
        sea_future f = sea__call(fn, (void *)cap);
        sea__hot.inline_depth--;
        return f;
    }
    struct smp_shard *me = smp_of(s);
    /* No queues any more (the shard is being torn down), or the application is stopping. */
    if (!me || atomic_load_explicit(&me->smp->stopping, memory_order_relaxed))
        return sea_failed(SEA_ESHUTDOWN, "the application is stopping");
    struct sea__xmsg *m = msg_alloc(me);
    if (!m)
        return sea_failed(-ENOMEM, "out of memory sending a message to another shard");
    m->cap = !cap ? NULL : capsz <= MSG_INLINE_CAP ? m->inline_cap : malloc(capsz);
    if (cap && !m->cap) {
        free(m);
        return sea_failed(-ENOMEM, "out of memory copying a capture for another shard");
    }
    if (cap)
        memcpy(m->cap, cap, capsz);
    m->capsz = capsz;
    m->src = s->id;
    m->dst = shard;
    m->fn = fn;
    m->result = sea_ready();
    sea_promise_init(&m->promise);
    sea_future f = sea_promise_get_future(&m->promise);
    if (sea_future_failed(&f)) {
        sea_promise_release(&m->promise);
        msg_free(m);
        return f;
    }
    stage(me, req_q(me->smp, me->id, shard), shard, m);
    return f;
}

/* Gathers per-shard results for invoke_on_all and map_reduce. */
struct gather {
    struct sea__owned owned; /* released at shard stop if some shard never answered */
    unsigned n, left;
    sea_future *results;
    sea_reduce_fn reduce;
    sea_value acc;
    sea_promise done;
};

struct gather_slot {
    struct gather *g;
    unsigned i;
};

static void gather_finish(struct gather *g) {
    int first = -1;
    for (unsigned i = 0; i < g->n; i++)
        if (first < 0 && sea_future_failed(&g->results[i]))
            first = (int)i;
    if (first >= 0) {
        sea_future err = sea_future_move(&g->results[first]);
        for (unsigned i = 0; i < g->n; i++)
            sea__release(&g->results[i]);
        sea_promise_forward(&g->done, err);
    } else {
        sea_value acc = g->acc;
        for (unsigned i = 0; i < g->n; i++) {
            sea_value v = sea_future_value(&g->results[i]);
            if (g->reduce)
                acc = g->reduce(acc, v);
        }
        sea_promise_set_value(&g->done, acc);
    }
    sea_promise_release(&g->done);
    sea__owned_remove(&g->owned);
    free(g->results);
    free(g);
}

static void gather_release(struct sea__owned *o) {
    struct gather *g = sea__container_of(o, struct gather, owned);
    for (unsigned i = 0; i < g->n; i++)
        sea__release(&g->results[i]);
    free(g->results);
    free(g);
}

static sea_future gather_one(struct gather_slot *slot, sea_future *in) {
    struct gather *g = slot->g;
    g->results[slot->i] = sea_future_move(in);
    if (--g->left == 0)
        gather_finish(g);
    return sea_ready();
}

static sea_future gather_all(sea__fnptr fn, sea_reduce_fn reduce, sea_value initial, const void *cap,
                             size_t capsz) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return sea_failed(SEA_ESHUTDOWN, "called with no running reactor");
    struct gather *g = calloc(1, sizeof(*g));
    sea_future *results = calloc(s->count, sizeof(*results));
    if (!g || !results) {
        free(g);
        free(results);
        return sea_failed(-ENOMEM, "out of memory gathering results from every shard");
    }
    g->n = s->count;
    g->left = s->count + 1; /* one extra count held by this function while it sends */
    g->results = results;
    g->reduce = reduce;
    g->acc = initial;
    sea_promise_init(&g->done);
    sea__owned_add(&g->owned, gather_release);
    sea_future f = sea_promise_get_future(&g->done);
    unsigned n = g->n;
    /*
     * Every other shard first: their messages copy the capture now.  The
     * local call comes last because it gets the caller's capture itself, and
     * may change it.
     */
    for (unsigned k = 1; k <= n; k++) {
        unsigned i = (s->id + k) % n;
        sea_future r = sea__submit_to(i, fn, cap, capsz);
        sea_future_detach(sea_then_wrapped(r, gather_one, (struct gather_slot){g, i}));
    }
    if (--g->left == 0) /* every result was ready at once */
        gather_finish(g);
    return f;
}

sea_future sea__invoke_on_all(sea__fnptr fn, const void *cap, size_t capsz) {
    sea_value zero = {0};
    return gather_all(fn, NULL, zero, cap, capsz);
}

sea_future sea__map_reduce(sea__fnptr fn, sea_reduce_fn reduce, sea_value initial, const void *cap,
                           size_t capsz) {
    if (!reduce)
        return sea_failed(-EINVAL, "sea_map_reduce: no reducer given");
    return gather_all(fn, reduce, initial, cap, capsz);
}

sea_value sea_reduce_sum_int(sea_value acc, sea_value v) {
    acc.i += v.i;
    return acc;
}

sea_value sea_reduce_sum_size(sea_value acc, sea_value v) {
    acc.size += v.size;
    return acc;
}

sea_value sea_reduce_max_int(sea_value acc, sea_value v) {
    if (v.i > acc.i)
        acc.i = v.i;
    return acc;
}

/* ---- foreign pointers ---- */

sea_foreign sea_foreign_make(void *ptr, void (*release)(void *ptr)) {
    sea_foreign f = {ptr, sea_shard_id(), release};
    return f;
}

static sea_future foreign_release_here(sea_foreign *f) {
    if (f->release && f->ptr)
        f->release(f->ptr);
    return sea_ready();
}

int sea_foreign_release(sea_foreign f) {
    if (!f.ptr || !f.release)
        return 0;
    struct sea__shard *s = sea__shard_current;
    if (!s || f.owner == s->id) {
        f.release(f.ptr);
        return 0;
    }
    sea_future r = sea_submit_to(f.owner, foreign_release_here, f);
    int err = sea_future_error(&r);
    if (err) {
        sea__release(&r);
        return err;
    }
    sea_future_ignore(r);
    return 0;
}

/* ---- the module ---- */

static int smp_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct smp_shard *me = aligned_alloc(64, (sizeof(*me) + 63) & ~(size_t)63);
    if (!me) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memset(me, 0, sizeof(*me));
    me->shard = s;
    me->smp = s->smp;
    me->id = s->id;
    me->poller = (struct sea__poller){.flush = smp_flush_hook, .poll = smp_poll, .try_sleep = smp_try_sleep,
                                      .after_wake = smp_after_wake, .state = me};
    if (s->smp->n > 1) /* alone, a shard has no queues to poll */
        sea__poller_add(s, &me->poller);
    s->slot[SEA__SLOT_SMP] = me;
    s->smp->peers[s->id] = me;
    return 0;
}

/* After both drain phases: nothing of this shard is in flight any more. */
static void smp_shard_stop(struct sea__shard *s) {
    struct smp_shard *me = smp_of(s);
    if (!me)
        return;
    while (me->free) {
        struct sea__xmsg *m = me->free;
        me->free = m->next;
        free(m);
    }
    free(me);
    s->slot[SEA__SLOT_SMP] = NULL;
}

const struct sea__module sea__module_smp = {
    .name = "smp",
    .shard_start = smp_shard_start,
    .shard_stop = smp_shard_stop,
};
