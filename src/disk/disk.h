/*
 * disk/disk.h - the disk layer's private side: the syscall threads that
 * make the calls with no asynchronous form, the I/O scheduler every read
 * and write goes through, and the module that gives each shard its part
 * of both.
 *
 * Files: pool.c (syscall threads), sched.c (I/O classes, the fair queue,
 * the shared token bucket, the disk model, issuing to the backend),
 * file.c (sea_file), path.c (paths and directories), fstream.c (file
 * streams), shard.c (settings, each shard's state), disk.c (the module:
 * options, slot, poller).
 */
#ifndef SEA_DISK_DISK_H
#define SEA_DISK_DISK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/file.h>
#include <sea/future.h>
#include <sea/io_sched.h>
#include <sea/metrics.h>
#include <sea/promise.h>
#include <sea/timer.h>

#include "core/io.h"
#include "core/shard.h"
#include "base/list.h"

struct sea__module;

/* ---- syscall threads (pool.c) ---- */

/* A call made on a syscall thread: returns a value >= 0 or -errno. */
typedef long (*sea__disk_call_fn)(void *arg);

/*
 * Runs fn on a copy of argsz bytes at arg on a syscall thread and resolves
 * with v.i = its result, or fails with it (-errno) and the message
 * "WHAT PATH: strerror" (path may be NULL).  Pointers inside arg must stay
 * valid until the future resolves.  SEA_ESHUTDOWN off a shard.
 */
sea_future sea__disk_call(sea__disk_call_fn fn, const void *arg, size_t argsz, const char *what, const char *path);
/*
 * The same, for a call whose result owns something (an open descriptor, a
 * new object): if the shard stops before the result is delivered (the
 * call dropped from the queue, or finished too late), abandon(arg, result)
 * runs on the shard's thread instead, with SEA_ECANCELED for a call never
 * made, so that it can let go of what the call made.
 */
sea_future sea__disk_call_owning(sea__disk_call_fn fn, const void *arg, size_t argsz, const char *what,
                                 const char *path, void (*abandon)(void *arg, long result));

/* A finished call on its way back to its shard (pool.c's, public for disk.c's drain). */
struct sea__disk_job;

/* ---- the scheduler (sched.c) ---- */

/* A read or write on its way to the device. */
struct sea__disk_req {
    struct sea__link link; /* in its class's queue */
    sea_promise promise;   /* resolved with the byte count */
    struct sea__io io;     /* what to do; buf/len/offset advance as a write completes in parts */
    struct iovec *iov;     /* READV/WRITEV: sea's own copy of the vector (freed with the request) */
    size_t done;           /* bytes moved so far */
    size_t total;          /* bytes asked for */
    bool via_pool;         /* made on a syscall thread (a buffered file on the epoll backend) */
    uint8_t cls;           /* class index */
    double cost;           /* device seconds, by the model */
    sea_time queued_at;
    void *owned_buf;                          /* a buffer that goes with the request if the shard stops first */
    struct sea__disk_req *parent;             /* a piece of a large request: the request it is part of */
    unsigned pieces;                          /* a split request: its pieces not yet ended */
    int piece_err;                            /* a split request: its first piece's failure */
    char piece_why[160];
    unsigned *owner_pending;                  /* the file's count of requests in flight */
    void (*owner_idle)(void *owner);          /* called when it reaches 0 */
    void *owner;
    const char *path;                         /* for messages: the file's path (the file outlives the request) */
};

/* Queues r (built by file.c) in class c; it is dispatched when the fair queue and the device allow. */
void sea__disk_sched_submit(struct sea__disk_req *r, const sea_io_class *c);
/* The index of c (c NULL: the default class). */
unsigned sea__io_class_index(const sea_io_class *c);

/* ---- settings and each shard's part (shard.c; the module in disk.c fills them) ---- */

struct sea__disk_config {
    unsigned pool_threads;   /* --disk-syscall-threads */
    unsigned max_requests;   /* --io-max-requests */
    int64_t latency_goal_ns; /* --io-latency-goal-ms: device time in flight at most, with a model */
    bool have_model;
    sea_io_properties model; /* --io-properties-file */
};
extern struct sea__disk_config sea__disk_config;
/* The shard slot holding each shard's struct sea__disk_shard (0 before the module first started). */
extern unsigned sea__disk_slot;

struct sea__disk_shard;
/* The current shard's disk state, or NULL off a shard (or before the module started on it). */
struct sea__disk_shard *sea__disk_shard_current(void);

/* The configured number of syscall threads and the per-shard request limit (disk.c's options). */
unsigned sea__disk_pool_threads(void);
unsigned sea__disk_max_requests(void);
/* The model loaded from --io-properties-file, or NULL. */
const sea_io_properties *sea__disk_model(void);

/* pool.c's and sched.c's per-shard parts, embedded in struct sea__disk_shard (disk.c). */
struct sea__disk_pool_shard {
    pthread_mutex_t lock;           /* guards done (the syscall threads push on it) */
    struct sea__disk_job *done;     /* finished calls, newest first */
    _Atomic uint64_t *work;         /* the shard's work word: SEA__DISK_WORK_CALLS while done is not empty */
    unsigned running;               /* this shard's calls on a thread or queued for one (this shard's thread only) */
    pthread_cond_t idle;            /* signalled when a thread hands a call back (the shard's stop waits on it) */
    struct sea__shard *shard;
};

struct sea__disk_class_queue {
    struct sea__list queue;  /* waiting requests, oldest first */
    double vtime;            /* cost dispatched / shares: the fair queue's clock for this class */
    sea_io_class_stats st;
    bool metrics_made;
    sea_metric *m_queued, *m_executing, *m_ops, *m_bytes;
    sea_histogram *m_latency;
};

struct sea__disk_sched_shard {
    struct sea__disk_class_queue cls[SEA_IO_CLASSES_MAX];
    struct sea__list issued;    /* requests issued and not ended (freed at the late stop if still there) */
    unsigned queued;         /* requests waiting, all classes */
    unsigned executing;      /* requests at the device */
    double vnow;             /* the vtime of the last dispatch: where a class that wakes up starts */
    sea_time retry_at;       /* the bucket was empty: dispatch again at this time (0: not waiting) */
    _Atomic uint64_t *work;  /* the shard's work word: SEA__DISK_WORK_RETRY while retry_at is set */
};

/* The bits of a shard's disk work word, which the loop reads before it calls the poller (sea__poller.work). */
#define SEA__DISK_WORK_CALLS 1u /* syscall threads' finished calls to deliver */
#define SEA__DISK_WORK_RETRY 2u /* requests wait for the bucket or the device's fill: try again at retry_at */

struct sea__disk_shard {
    _Atomic uint64_t work;     /* SEA__DISK_WORK_* bits: zero, and the loop does not call the poller */
    struct sea__disk_pool_shard pool;
    struct sea__disk_sched_shard sched;
    struct sea__poller poller;
    bool stopped;              /* the module's shard_stop ran: new calls fail with SEA_ESHUTDOWN */
    struct sea__list files;    /* files open on this shard (file.c), closed at the late stop */
};

/* The late stop (after the backend let go of every buffer): what is left in flight or open is freed. */
void sea__disk_sched_late_stop(struct sea__disk_sched_shard *ss);
void sea__disk_files_late_stop(struct sea__disk_shard *ds);
/* The current shard's disk state even after the module's stop (NULL before start or after the late stop). */
struct sea__disk_shard *sea__disk_shard_raw(void);
/* Reads into mem, which the request frees if the shard stops before it ends (file streams' read-ahead). */
sea_future sea__file_read_owned(sea_file *f, uint64_t pos, void *mem, size_t len);

/* The poller's parts: finished calls (pool.c), and requests waiting for the bucket (sched.c). */
unsigned sea__disk_pool_drain(struct sea__disk_pool_shard *ps);
unsigned sea__disk_sched_poll(struct sea__disk_sched_shard *ss);
bool sea__disk_sched_try_sleep(struct sea__disk_sched_shard *ss, sea_time *deadline);

/* Shard stop: queued calls dropped (their futures broken), running ones waited for. */
void sea__disk_pool_shard_stop(struct sea__disk_pool_shard *ps);
/* Shard stop: queued requests dropped (broken futures), metrics removed. */
void sea__disk_sched_shard_stop(struct sea__disk_sched_shard *ss);
/* Process stop: the syscall threads end. */
void sea__disk_pool_stop(void);

extern const struct sea__module sea__module_disk;
/* Listed before the I/O module, so its shard_stop runs after the backend's: frees what was in flight. */
extern const struct sea__module sea__module_disk_late;

#endif
