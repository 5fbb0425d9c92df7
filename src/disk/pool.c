/*
 * pool.c - the syscall threads: a few helper threads, shared by every
 * shard, that make the file-system calls which have no asynchronous form
 * (open, stat, rename, mkdir, getdents, statvfs, ftruncate, and buffered
 * reads and writes on the epoll backend), so the shard that asked goes on
 * running while the kernel works.
 *
 * A call is a job: the function, a copy of its arguments, and the
 * submitting shard's promise.  Jobs wait in one FIFO under a mutex; an idle
 * thread takes the oldest, runs it, and pushes it on its shard's list of
 * finished jobs, then wakes the shard (its eventfd).  The shard's poller
 * (disk.c) drains that list on its next turn and resolves the promises, so
 * promises and memory are only ever touched on their own shard; a thread
 * touches nothing but the job and the memory the call names.
 *
 * The threads start with the first call, so a program that never touches
 * a file has none.  At a shard's stop, its jobs still queued are dropped
 * (their futures break) and the ones running are waited for: a call is
 * short, and its buffers must outlive it.  Jobs whose results will never
 * be delivered are abandoned: a job that made something (a descriptor, an
 * object) lets go of it through its abandon hook.
 */
#include "disk/disk.h"

#include <sea/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/thread.h"

#define MAX_THREADS 64

struct sea__disk_job {
    struct sea__disk_job *next;
    struct sea__disk_pool_shard *ps;
    sea_promise promise;
    sea__disk_call_fn fn;
    void (*abandon)(void *arg, long result);
    long result;
    const char *what;
    char *path;          /* a copy, for the message */
    _Alignas(16) unsigned char arg[];
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct sea__disk_job *head, **tail;
    pthread_t threads[MAX_THREADS];
    unsigned nthreads;
    bool stopping;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static void *syscall_thread(void *unused) {
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.head && !pool.stopping)
            pthread_cond_wait(&pool.work, &pool.lock);
        if (!pool.head)
            break;
        struct sea__disk_job *j = pool.head;
        pool.head = j->next;
        if (!pool.head)
            pool.tail = &pool.head;
        pthread_mutex_unlock(&pool.lock);

        j->result = j->fn(j->arg);

        struct sea__disk_pool_shard *ps = j->ps;
        pthread_mutex_lock(&ps->lock);
        j->next = ps->done;
        ps->done = j;
        atomic_fetch_or_explicit(ps->work, SEA__DISK_WORK_CALLS, memory_order_release);
        /* Under the lock: once the shard's stop has seen this job it may close its eventfd. */
        sea__shard_wake(ps->shard);
        pthread_cond_signal(&ps->idle); /* a stopping shard waits for its running calls */
        pthread_mutex_unlock(&ps->lock);
        pthread_mutex_lock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Starts the threads if none runs yet (pool lock held).  0 or an errno value. */
static int start_threads(void) {
    if (pool.nthreads)
        return 0;
    if (!pool.tail)
        pool.tail = &pool.head;
    unsigned want = sea__disk_pool_threads();
    if (want > MAX_THREADS)
        want = MAX_THREADS;
    for (unsigned i = 0; i < want; i++) {
        int rc = sea__helper_thread_start(&pool.threads[pool.nthreads], syscall_thread, "sea-syscall");
        if (rc != 0)
            return pool.nthreads ? 0 : rc;
        pool.nthreads++;
    }
    return 0;
}

sea_future sea__disk_call(sea__disk_call_fn fn, const void *arg, size_t argsz, const char *what, const char *path) {
    return sea__disk_call_owning(fn, arg, argsz, what, path, NULL);
}

sea_future sea__disk_call_owning(sea__disk_call_fn fn, const void *arg, size_t argsz, const char *what,
                                 const char *path, void (*abandon)(void *arg, long result)) {
    struct sea__disk_shard *ds = sea__disk_shard_current();
    if (!ds)
        return sea_failed_fmt(SEA_ESHUTDOWN, "%s %s: no running reactor with the disk module", what, path ? path : "");
    struct sea__disk_job *j = malloc(sizeof(*j) + argsz);
    char *pcopy = path ? strdup(path) : NULL;
    if (!j || (path && !pcopy)) {
        free(j);
        free(pcopy);
        return sea_failed_fmt(-ENOMEM, "%s %s: out of memory", what, path ? path : "");
    }
    memcpy(j->arg, arg, argsz);
    j->fn = fn;
    j->abandon = abandon;
    j->what = what;
    j->path = pcopy;
    j->ps = &ds->pool;
    j->next = NULL;
    sea_promise_init(&j->promise);
    sea_future f = sea_promise_get_future(&j->promise);
    if (sea_future_failed(&f)) {
        sea_promise_release(&j->promise);
        free(j->path);
        free(j);
        return f;
    }
    pthread_mutex_lock(&pool.lock);
    int rc = pool.stopping ? ESHUTDOWN : start_threads();
    if (rc != 0) {
        pthread_mutex_unlock(&pool.lock);
        sea_promise_set_error_fmt(&j->promise, -rc, "%s %s: cannot start a syscall thread", what, path ? path : "");
        sea_promise_release(&j->promise);
        free(j->path);
        free(j);
        return f;
    }
    *pool.tail = j;
    pool.tail = &j->next;
    ds->pool.running++;
    pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    return f;
}

static void job_free(struct sea__disk_job *j) {
    sea_promise_release(&j->promise);
    free(j->path);
    free(j);
}

/* A job whose result will never be delivered (the shard stops): its abandon hook lets go of what it made. */
static void job_abandon(struct sea__disk_job *j, long result) {
    if (j->abandon)
        j->abandon(j->arg, result);
    sea_promise_release(&j->promise);
    free(j->path);
    free(j);
}

unsigned sea__disk_pool_drain(struct sea__disk_pool_shard *ps) {
    pthread_mutex_lock(&ps->lock);
    struct sea__disk_job *list = ps->done;
    ps->done = NULL;
    atomic_fetch_and_explicit(ps->work, ~(uint64_t)SEA__DISK_WORK_CALLS, memory_order_relaxed);
    pthread_mutex_unlock(&ps->lock);
    /* Oldest first: the list was pushed newest first. */
    struct sea__disk_job *rev = NULL;
    unsigned n = 0;
    while (list) {
        struct sea__disk_job *next = list->next;
        list->next = rev;
        rev = list;
        list = next;
        n++;
    }
    ps->running -= n;
    while (rev) {
        struct sea__disk_job *j = rev;
        rev = j->next;
        if (j->result >= 0)
            sea_promise_set_value(&j->promise, (sea_value){.i = j->result});
        else if (j->path)
            sea_promise_set_error_fmt(&j->promise, (int)j->result, "%s %s: %s", j->what, j->path,
                                      sea_strerror((int)j->result));
        else
            sea_promise_set_error_fmt(&j->promise, (int)j->result, "%s: %s", j->what, sea_strerror((int)j->result));
        job_free(j);
    }
    return n;
}

/* Lets go of the jobs on a list: their results will never be delivered. */
static unsigned abandon_all(struct sea__disk_job *list, bool never_made) {
    unsigned n = 0;
    while (list) {
        struct sea__disk_job *next = list->next;
        job_abandon(list, never_made ? SEA_ECANCELED : list->result);
        list = next;
        n++;
    }
    return n;
}

void sea__disk_pool_shard_stop(struct sea__disk_pool_shard *ps) {
    /* Queued, not started: dropped, their futures broken. */
    pthread_mutex_lock(&pool.lock);
    struct sea__disk_job **pp = &pool.head, *dropped = NULL;
    while (*pp) {
        struct sea__disk_job *j = *pp;
        if (j->ps == ps) {
            *pp = j->next;
            j->next = dropped;
            dropped = j;
        } else {
            pp = &j->next;
        }
    }
    pool.tail = &pool.head;
    while (*pool.tail)
        pool.tail = &(*pool.tail)->next;
    pthread_mutex_unlock(&pool.lock);
    ps->running -= abandon_all(dropped, true);
    /* Running: their buffers are in use until they end; each thread signals idle when it hands one back. */
    pthread_mutex_lock(&ps->lock);
    for (;;) {
        struct sea__disk_job *done = ps->done;
        ps->done = NULL;
        if (done) {
            pthread_mutex_unlock(&ps->lock);
            ps->running -= abandon_all(done, false); /* nobody runs their continuations now */
            pthread_mutex_lock(&ps->lock);
            continue;
        }
        if (!ps->running)
            break;
        pthread_cond_wait(&ps->idle, &ps->lock);
    }
    pthread_mutex_unlock(&ps->lock);
}

void sea__disk_pool_stop(void) {
    pthread_mutex_lock(&pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.work);
    unsigned n = pool.nthreads;
    pthread_mutex_unlock(&pool.lock);
    for (unsigned i = 0; i < n; i++)
        pthread_join(pool.threads[i], NULL);
    pthread_mutex_lock(&pool.lock);
    pool.nthreads = 0;
    pool.stopping = false; /* a later run (tests run several) starts them again */
    pthread_mutex_unlock(&pool.lock);
}
