/*
 * signal.c - signal handlers that run on the reactor (sea/signal.h).
 *
 * The real signal handler only records the signal in a bit mask and writes
 * the owning shard's wake eventfd (both async-signal-safe); the shard's
 * poller sees the bit on its next loop turn (one relaxed load per turn) and
 * calls the application's function there, as ordinary code.  SIGINT and
 * SIGTERM stay blocked and arrive through shard 0's signalfd (app.c), which
 * hands them here when the application handles them.
 */
#include "core/signals.h"

#include <sea/debug.h>
#include <sea/log.h>
#include <sea/signal.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/module.h"
#include "core/shard.h"
#include "core/smp.h"

#define NSIG_HANDLED 65 /* signals 1..64 */

struct handler {
    sea_signal_fn fn;
    void *arg;
    _Atomic unsigned shard;
    bool installed;        /* our catcher is the disposition; old holds the previous one */
    struct sigaction old;
};

/* Bit signo-1 set: signo arrived and its handler has not run yet. */
static _Atomic uint64_t pending;
static struct handler handlers[NSIG_HANDLED];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sea__smp *_Atomic running_smp;

static uint64_t bit(int signo) {
    return (uint64_t)1 << (signo - 1);
}

/* Marks signo pending and wakes the shard that handles it.  Async-signal-safe. */
static void raise_on_shard(int signo) {
    atomic_fetch_or(&pending, bit(signo));
    struct sea__smp *smp = atomic_load(&running_smp);
    unsigned id = atomic_load_explicit(&handlers[signo].shard, memory_order_relaxed);
    if (smp && id < smp->n && smp->shards[id])
        sea__shard_wake(smp->shards[id]);
}

static void catcher(int signo) {
    int saved = errno;
    if (signo > 0 && signo < NSIG_HANDLED)
        raise_on_shard(signo);
    errno = saved;
}

static bool handleable(int signo) {
    return signo > 0 && signo < NSIG_HANDLED && signo != SIGKILL && signo != SIGSTOP && signo != SIGSEGV &&
           signo != SIGBUS && signo != SIGFPE && signo != SIGILL && signo != SIGTRAP && signo != SIGABRT &&
           signo != SIGSYS;
}

/* Installs the catcher for signo (not SIGINT/SIGTERM: those come through the signalfd). */
static int install(int signo) {
    struct handler *h = &handlers[signo];
    if (h->installed || signo == SIGINT || signo == SIGTERM)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = catcher;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(signo, &sa, &h->old) < 0)
        return -errno;
    h->installed = true;
    return 0;
}

static int set_handler(int signo, sea_signal_fn fn, void *arg, unsigned shard) {
    pthread_mutex_lock(&lock);
    int rc = install(signo);
    if (rc == 0) {
        handlers[signo].fn = fn;
        handlers[signo].arg = arg;
        atomic_store(&handlers[signo].shard, shard);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* sea's own SIGUSR2: the state dump. */
static void dump_on_signal(int signo, void *arg) {
    (void)signo;
    (void)arg;
    sea_future_detach(sea_debug_dump());
}

int sea_signal_handle(int signo, sea_signal_fn fn, void *arg) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->smp)
        return SEA_ESHUTDOWN;
    if (signo == SIGRTMIN)
        return -EBUSY;
    if (!fn || !handleable(signo))
        return -EINVAL;
    return set_handler(signo, fn, arg, s->id);
}

int sea_signal_unhandle(int signo) {
    if (!handleable(signo))
        return -ENOENT;
    pthread_mutex_lock(&lock);
    struct handler *h = &handlers[signo];
    int rc = h->fn ? 0 : -ENOENT;
    if (signo == SIGUSR2) {
        h->fn = dump_on_signal; /* back to sea's own */
        h->arg = NULL;
        atomic_store(&h->shard, 0u);
    } else {
        h->fn = NULL;
        if (h->installed) {
            /* Back to what the signal did before (for SIGHUP, usually: terminate). */
            sigaction(signo, &h->old, NULL);
            h->installed = false;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

bool sea__signal_deliver(int signo) {
    if (signo <= 0 || signo >= NSIG_HANDLED)
        return false;
    pthread_mutex_lock(&lock);
    bool handled = handlers[signo].fn != NULL;
    pthread_mutex_unlock(&lock);
    if (handled)
        raise_on_shard(signo);
    return handled;
}

/* The poller: runs the handlers of this shard's pending signals; returns how many ran. */
static unsigned signals_poll(void *state) {
    struct sea__shard *s = state;
    uint64_t bits = atomic_load_explicit(&pending, memory_order_acquire);
    unsigned ran = 0;
    while (bits) {
        int signo = __builtin_ctzll(bits) + 1;
        bits &= bits - 1;
        pthread_mutex_lock(&lock);
        sea_signal_fn fn = handlers[signo].fn;
        void *arg = handlers[signo].arg;
        unsigned owner = atomic_load(&handlers[signo].shard);
        pthread_mutex_unlock(&lock);
        if (fn && owner != s->id)
            continue; /* another shard's */
        if (!(atomic_fetch_and(&pending, ~bit(signo)) & bit(signo)))
            continue;
        if (fn) {
            fn(signo, arg);
            ran++;
        }
    }
    return ran;
}

/* On shard 0, every shard running: SIGUSR2 dumps the state, handlers can wake their shards. */
static int signals_running(struct sea__smp *smp, char *err, size_t errlen) {
    atomic_store(&pending, 0);
    atomic_store(&running_smp, smp);
    int rc = set_handler(SIGUSR2, dump_on_signal, NULL, 0);
    if (rc < 0)
        sea_log_warn(&sea_log_sea, "cannot install sea's SIGUSR2 handler: %s", sea_strerror(rc));
    return 0; /* the application runs without it */
}

/* Every loop has ended: before the shards' wake descriptors close, every handler goes. */
static void signals_ended(struct sea__smp *smp) {
    (void)smp;
    pthread_mutex_lock(&lock);
    for (int signo = 1; signo < NSIG_HANDLED; signo++) {
        struct handler *h = &handlers[signo];
        if (h->installed)
            sigaction(signo, &h->old, NULL);
        h->installed = false;
        h->fn = NULL;
        h->arg = NULL;
        atomic_store(&h->shard, 0u);
    }
    pthread_mutex_unlock(&lock);
    atomic_store(&running_smp, NULL);
    atomic_store(&pending, 0);
}

/* Every shard runs its own handlers: a poller that looks at the pending bits each turn. */
static int signals_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__poller *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *p = (struct sea__poller){.poll = signals_poll, .work = &pending, .state = s};
    sea__poller_add(s, p);
    s->slot[SEA__SLOT_SIGNALS] = p;
    return 0;
}

static void signals_shard_stop(struct sea__shard *s) {
    free(s->slot[SEA__SLOT_SIGNALS]);
    s->slot[SEA__SLOT_SIGNALS] = NULL;
}

const struct sea__module sea__module_signals = {
    .name = "signals",
    .shard_start = signals_shard_start,
    .shard_stop = signals_shard_stop,
    .running = signals_running,
    .ended = signals_ended,
};
