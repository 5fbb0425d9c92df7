/*
 * disk.c - the disk layer as a module: its options (--io-properties-file,
 * --io-max-requests, --disk-syscall-threads), the disk model it loads at
 * start-up, and each shard's part (a reserved slot holding the syscall
 * threads' finished calls and the scheduler's queues, and the poller that
 * drains the one and retries the other).  The settings and the slot live
 * in shard.c, which the other files read.
 */
#include "disk/disk.h"

#include <sea/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sea/reactor.h>

#include "core/module.h"

static const struct sea__opt options[] = {
    {.o = {.name = "io-properties-file", .type = SEA_OPTION_STRING,
           .help = "the disk model sea-iotune wrote (YAML: read_iops, read_bandwidth, write_iops, write_bandwidth); "
                   "the I/O scheduler then keeps the device just below saturation"},
     .value_name = "FILE"},
    {.o = {.name = "io-max-requests", .type = SEA_OPTION_INT, .default_value = "128", .min = 1, .max = 65536,
           .help = "disk requests each shard keeps at the device at most (default 128, 1..65536); the fair "
                   "queue orders the rest"},
     .value_name = "N", .meaning = "a whole number in 1..65536"},
    {.o = {.name = "io-latency-goal-ms", .type = SEA_OPTION_DOUBLE, .default_value = "1.5", .min = 0.05, .max = 1000,
           .help = "with a disk model: device time the shards keep in flight at most, so a request waits at the "
                   "device no longer than this (default 1.5, 0.05..1000)"},
     .value_name = "X", .meaning = "a number of milliseconds in 0.05..1000"},
    {.o = {.name = "disk-syscall-threads", .type = SEA_OPTION_INT, .default_value = "2", .min = 1, .max = 64,
           .help = "threads for the file-system calls that have no asynchronous form: open, stat, rename, ... "
                   "(default 2, 1..64)"},
     .value_name = "N", .meaning = "a whole number in 1..64"},
};

/* Reads the whole io-properties file (start-up, before the shards: blocking is fine here). */
static int load_model(const char *path, char *err, size_t errlen) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        snprintf(err, errlen, "--io-properties-file %s: %s", path, strerror(e));
        return -e;
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    bool more = n == sizeof(buf) && fgetc(fp) != EOF;
    fclose(fp);
    if (more) {
        snprintf(err, errlen, "--io-properties-file %s: longer than 64 KiB", path);
        return -EINVAL;
    }
    char why[200];
    int rc = sea_io_properties_parse(buf, n, &sea__disk_config.model, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "--io-properties-file %s: %s", path, why);
        return rc;
    }
    sea__disk_config.have_model = true;
    return 0;
}

static int disk_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    sea__disk_config.pool_threads = (unsigned)sea__opt_int(v, "disk-syscall-threads");
    sea__disk_config.max_requests = (unsigned)sea__opt_int(v, "io-max-requests");
    sea__disk_config.latency_goal_ns = (int64_t)(sea__opt_double(v, "io-latency-goal-ms") * 1e6);
    sea__disk_config.have_model = false;
    const char *path = sea__opt_string(v, "io-properties-file");
    if (path && *path) {
        int rc = load_model(path, err, errlen);
        if (rc < 0)
            return SEA_EUSAGE;
    }
    return 0;
}

static int disk_start(const struct sea__run *run, char *err, size_t errlen) {
    (void)run;
    if (!sea__disk_slot)
        sea__disk_slot = sea__slot_reserve();
    return 0;
}

static unsigned disk_poll(void *state) {
    struct sea__disk_shard *ds = state;
    unsigned n = 0;
    uint64_t work = atomic_load_explicit(&ds->work, memory_order_acquire);
    if (work & SEA__DISK_WORK_CALLS)
        n += sea__disk_pool_drain(&ds->pool);
    if (work & SEA__DISK_WORK_RETRY)
        n += sea__disk_sched_poll(&ds->sched);
    return n;
}

/* This shard thread has a poll armed on its wake-up eventfd (a thread-local: the poll may end after the slot is gone). */
static __thread bool wake_armed;

static sea_future wake_drained(sea_future *in) {
    if (sea_future_failed(in))
        (void)sea_future_error(in); /* a poll broken at shutdown is fine */
    struct sea__shard *s = sea__shard_current;
    uint64_t v;
    if (s && read(s->wake_fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: another poller (the cross-shard queues) drained it first. */
    }
    wake_armed = false;
    return sea_ready();
}

static bool disk_try_sleep(void *state, sea_time *deadline) {
    struct sea__disk_shard *ds = state;
    /* A call finished between the last poll and now: handle it first. */
    if (atomic_load_explicit(&ds->work, memory_order_acquire) & SEA__DISK_WORK_CALLS)
        return false;
    /*
     * Calls on the syscall threads: their ends write the shard's eventfd,
     * which wakes the loop only if a poll waits on it.  The eventfd keeps
     * its count, so an end that came before the sleep wakes it at once.
     */
    if (ds->pool.running && !wake_armed) { /* running: counted on this shard's thread only */
        wake_armed = true;
        sea_future_detach(sea_then_wrapped(sea_fd_poll(ds->pool.shard->wake_fd, SEA_POLLIN), wake_drained));
    }
    return sea__disk_sched_try_sleep(&ds->sched, deadline);
}

static int disk_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__disk_shard *ds = calloc(1, sizeof(*ds));
    if (!ds) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&ds->pool.lock, NULL);
    pthread_cond_init(&ds->pool.idle, NULL);
    ds->pool.shard = s;
    for (unsigned i = 0; i < SEA_IO_CLASSES_MAX; i++)
        sea__list_init(&ds->sched.cls[i].queue);
    sea__list_init(&ds->sched.issued);
    sea__list_init(&ds->files);
    ds->pool.work = ds->sched.work = &ds->work;
    ds->poller.poll = disk_poll;
    ds->poller.work = &ds->work; /* the loop calls disk_poll only when a bit is set: no cost per turn otherwise */
    ds->poller.try_sleep = disk_try_sleep;
    ds->poller.state = ds;
    sea__poller_add(s, &ds->poller);
    s->slot[sea__disk_slot] = ds;
    return 0;
}

/*
 * The shard's stop, in two parts.  This one runs before the I/O module's:
 * calls queued for the syscall threads are dropped and running ones waited
 * for, requests that never reached the device are dropped, and new calls
 * fail from now on.  The late one (sea__module_disk_late, listed before
 * the I/O module) runs after the backend has let go of every buffer, and
 * frees the requests that were still at the device and the files left
 * open.
 */
static void disk_shard_stop(struct sea__shard *s) {
    struct sea__disk_shard *ds = sea__disk_slot ? s->slot[sea__disk_slot] : NULL;
    if (!ds)
        return;
    sea__disk_pool_shard_stop(&ds->pool);
    sea__disk_sched_shard_stop(&ds->sched);
    ds->stopped = true;
}

static void disk_late_shard_stop(struct sea__shard *s) {
    struct sea__disk_shard *ds = sea__disk_slot ? s->slot[sea__disk_slot] : NULL;
    if (!ds)
        return;
    sea__disk_sched_late_stop(&ds->sched);
    sea__disk_files_late_stop(ds);
    s->slot[sea__disk_slot] = NULL;
    pthread_mutex_destroy(&ds->pool.lock);
    pthread_cond_destroy(&ds->pool.idle);
    free(ds);
}

static void disk_stop(void) {
    sea__disk_pool_stop();
}

const struct sea__module sea__module_disk = {
    .name = "disk",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = disk_configure,
    .start = disk_start,
    .shard_start = disk_shard_start,
    .shard_stop = disk_shard_stop,
    .stop = disk_stop,
};

const struct sea__module sea__module_disk_late = {
    .name = "disk-late",
    .shard_stop = disk_late_shard_stop,
};
