/*
 * sched.c - the I/O scheduler: every file read and write on its way to the
 * device, through I/O classes, a fair queue per shard, and a token bucket
 * of device time shared by the shards (sea/io_sched.h says what it
 * promises).
 *
 * The fair queue.  Each class has a virtual clock, vtime: the cost it has
 * dispatched divided by its shares.  The next request to go is the oldest
 * of the class whose vtime is lowest, so over any stretch in which two
 * classes both have requests waiting, their dispatched costs stand in the
 * ratio of their shares.  A class that had nothing to do does not bank
 * credit: when it gets a request again its vtime is raised to vnow, the
 * vtime of the last dispatch, and it competes from there.
 *
 * The device's capacity.  With a disk model, a request costs 1/IOPS plus
 * bytes/bandwidth seconds of device time (reads and writes apart), and it
 * goes to the device only when the shared bucket has that much: the bucket
 * is one atomic word, the time at which it will next be empty (a generic
 * cell rate algorithm), refilled at one second of device time per second
 * and holding at most BURST.  A shard whose head request does not fit
 * notes when it will, and its poller dispatches again then (the loop
 * sleeps no longer than that).  The rate alone does not bound the device's
 * queue (a model a little above what the device really gives lets it
 * grow), so the device time in flight, all shards together, is also kept
 * under --io-latency-goal-ms.  Without a model the same costs (from
 * DEFAULT_MODEL) order the fair queue, and only the per-shard limit on
 * requests at the device (--io-max-requests) holds requests back.
 *
 * Pieces.  With a model, a read or write of more than 128 KiB is queued as
 * pieces of 128 KiB, each costed and dispatched on its own, and ends with
 * its last piece: otherwise one megabyte of a bulk class would take the
 * bucket's next millisecond at once and every other class would wait
 * behind it.  Without a model there is no bucket to share out, and the
 * device is faster with whole requests (1 MiB sequential reads at depth 4
 * fell from 1.02x fio's bandwidth to 0.78x when split), so they go whole.
 *
 * Issuing.  On io_uring a request is a ring entry; on epoll, a direct
 * file's goes to AIO (the request's aio flag) and a buffered file's to a
 * syscall thread, since AIO on the page cache would block.  A write that
 * completes in part is sent again for the rest (outside the fair queue: it
 * was paid for); a read that comes back short has reached the end of the
 * file and ends there.
 */
#include "disk/disk.h"

#include <sea/error.h>
#include <sea/metrics.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- classes: one table for the process ---- */

struct sea_io_class {
    char name[64];
    _Atomic unsigned shares;
};

static struct {
    pthread_mutex_t lock;
    struct sea_io_class c[SEA_IO_CLASSES_MAX];
    _Atomic unsigned count;
} classes = {.lock = PTHREAD_MUTEX_INITIALIZER, .c = {{.name = "default", .shares = 1000}}, .count = 1};

#define SHARES_MAX 10000

sea_io_class *sea_io_class_get(const char *name, unsigned shares) {
    if (!name || !*name || strlen(name) >= sizeof(classes.c[0].name) || shares < 1 || shares > SHARES_MAX)
        return NULL;
    pthread_mutex_lock(&classes.lock);
    unsigned n = atomic_load(&classes.count);
    sea_io_class *found = NULL;
    for (unsigned i = 0; i < n && !found; i++)
        if (strcmp(classes.c[i].name, name) == 0)
            found = &classes.c[i];
    if (!found && n < SEA_IO_CLASSES_MAX) {
        found = &classes.c[n];
        snprintf(found->name, sizeof(found->name), "%s", name);
        atomic_store(&found->shares, shares);
        atomic_store(&classes.count, n + 1); /* published after the entry is filled in */
    }
    pthread_mutex_unlock(&classes.lock);
    return found;
}

sea_io_class *sea_io_class_default(void) {
    return &classes.c[0];
}

const char *sea_io_class_name(const sea_io_class *c) {
    return c ? c->name : classes.c[0].name;
}

unsigned sea_io_class_shares(const sea_io_class *c) {
    return atomic_load_explicit(&(c ? c : &classes.c[0])->shares, memory_order_relaxed);
}

int sea_io_class_set_shares(sea_io_class *c, unsigned shares) {
    if (!c || shares < 1 || shares > SHARES_MAX)
        return -EINVAL;
    atomic_store_explicit(&c->shares, shares, memory_order_relaxed);
    return 0;
}

unsigned sea__io_class_index(const sea_io_class *c) {
    return c ? (unsigned)(c - classes.c) : 0;
}

/* ---- the model and the shared bucket ---- */

/* Used for costs when no model was given: an ordinary SSD's figures. */
static const sea_io_properties DEFAULT_MODEL = {
    .read_iops = 100000, .write_iops = 100000, .read_bandwidth = 1e9, .write_bandwidth = 1e9};

/* How much device time the bucket holds: the burst the device may get at once. */
#define BURST_NS 1000000

/* A shard that waits for device time other shards hold looks again this often. */
#define RECHECK_NS 20000

/* A read or write larger than this goes to the device in pieces of it, each queued and costed on its own. */
#define PIECE_BYTES (128 * 1024)

/* The time (ns, monotonic) at which the bucket is next empty; shared by every shard. */
static _Atomic int64_t bucket_empty_at;

/* Takes cost_ns from the bucket: true, or false with *retry_at set to when it will have it. */
static bool bucket_take(int64_t cost_ns, sea_time now, sea_time *retry_at) {
    int64_t old = atomic_load_explicit(&bucket_empty_at, memory_order_relaxed);
    for (;;) {
        int64_t t = old > now - BURST_NS ? old : now - BURST_NS;
        if (t > now) {
            *retry_at = t;
            return false;
        }
        if (atomic_compare_exchange_weak_explicit(&bucket_empty_at, &old, t + cost_ns, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}

static double cost_of(const struct sea__disk_req *r) {
    const sea_io_properties *m = sea__disk_model();
    if (!m)
        m = &DEFAULT_MODEL;
    bool write = r->io.op == SEA__IO_WRITE || r->io.op == SEA__IO_WRITEV;
    double iops = write ? m->write_iops : m->read_iops;
    double bw = write ? m->write_bandwidth : m->read_bandwidth;
    return 1.0 / iops + (double)r->total / bw;
}

/* ---- metrics, made the first time a shard uses a class ---- */

static const double LATENCY_BOUNDS[] = {0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005,
                                        0.01,    0.02,   0.05,   0.1,    0.2,   0.5,   1.0};

static double read_queued(void *arg) {
    return (double)((struct sea__disk_class_queue *)arg)->st.queued;
}

static double read_executing(void *arg) {
    return (double)((struct sea__disk_class_queue *)arg)->st.executing;
}

static void class_metrics(struct sea__disk_class_queue *q, unsigned idx) {
    q->metrics_made = true;
    const sea_metric_label *labels = SEA_METRIC_LABELS({"class", classes.c[idx].name});
    /* A registration that fails (out of memory) leaves its handle NULL: the class works without that metric. */
    sea_gauge_register_fn("sea_io_queued", "I/O requests waiting in sea's queue, by class", labels, read_queued, q,
                          &q->m_queued);
    sea_gauge_register_fn("sea_io_executing", "I/O requests at the device, by class", labels, read_executing, q,
                          &q->m_executing);
    sea_counter_register_fn("sea_io_ops_total", "I/O requests completed, by class", labels, sea_metric_read_u64,
                            &q->st.ops, &q->m_ops);
    sea_counter_register_fn("sea_io_bytes_total", "bytes read and written, by class", labels, sea_metric_read_u64,
                            &q->st.bytes, &q->m_bytes);
    sea_histogram_register("sea_io_latency_seconds", "I/O request time from queueing to completion, by class",
                           labels, LATENCY_BOUNDS, sizeof(LATENCY_BOUNDS) / sizeof(LATENCY_BOUNDS[0]),
                           &q->m_latency);
}

/* ---- issuing and completing ---- */

static void dispatch(struct sea__disk_sched_shard *ss);
static void issue(struct sea__disk_req *r);

static struct sea__disk_sched_shard *sched_of_current(void) {
    struct sea__disk_shard *ds = sea__disk_shard_current();
    return ds ? &ds->sched : NULL;
}

static const char *op_verb(const struct sea__disk_req *r) {
    return r->io.op == SEA__IO_WRITE || r->io.op == SEA__IO_WRITEV ? "write" : "read";
}

/* Device time in flight, all shards together (ns, by the model): kept under --io-latency-goal-ms. */
static _Atomic int64_t device_ns_in_flight;

static int64_t cost_ns(const struct sea__disk_req *r) {
    return (int64_t)(r->cost * 1e9);
}

/* Resolves r's promise (err, or its byte count), tells its file, frees it. */
static void settle(struct sea__disk_req *r, int err, const char *why) {
    if (err)
        sea_promise_set_error_fmt(&r->promise, err, "%s %s at offset %llu (%zu bytes): %s", op_verb(r), r->path,
                                  (unsigned long long)r->io.offset, r->total, why ? why : sea_strerror(err));
    else
        sea_promise_set_value(&r->promise, (sea_value){.size = r->done});
    sea_promise_release(&r->promise);
    if (r->owner_pending && --*r->owner_pending == 0 && r->owner_idle)
        r->owner_idle(r->owner);
    free(r->iov);
    free(r);
}

/* A piece of a split request ended: the request ends with its last piece. */
static void piece_ended(struct sea__disk_req *parent, const struct sea__disk_req *piece, int err, const char *why) {
    parent->done += piece->done;
    if (err && !parent->piece_err) {
        parent->piece_err = err;
        snprintf(parent->piece_why, sizeof(parent->piece_why), "%s (at offset %llu)", why ? why : sea_strerror(err),
                 (unsigned long long)piece->io.offset);
    }
    if (--parent->pieces == 0)
        settle(parent, parent->piece_err, parent->piece_err ? parent->piece_why : NULL);
}

/* Ends issued request r with err (0: success, the byte count is r->done): stats, then its promise or its parent. */
static void finish(struct sea__disk_req *r, int err, const char *why) {
    struct sea__disk_sched_shard *ss = sched_of_current();
    struct sea__disk_shard *raw = sea__disk_shard_raw();
    if (raw)
        sea__list_remove(&raw->sched.issued, &r->link);
    if (sea__disk_model())
        atomic_fetch_sub_explicit(&device_ns_in_flight, cost_ns(r), memory_order_relaxed);
    if (ss) {
        struct sea__disk_class_queue *q = &ss->cls[r->cls];
        ss->executing--;
        q->st.executing--;
        q->st.ops++;
        q->st.bytes += r->done;
        sea_time lat = sea_now() - r->queued_at;
        q->st.latency_ns += (uint64_t)lat;
        q->st.cost += r->cost;
        if (q->m_latency)
            sea_histogram_observe(q->m_latency, (double)lat / 1e9);
    }
    if (r->parent) {
        piece_ended(r->parent, r, err, why);
        free(r);
    } else {
        r->io.offset -= r->done; /* the message names where the request started */
        settle(r, err, why);
    }
    if (ss)
        dispatch(ss);
}

/* Frees r at a stop (never issued, or issued and never ended): its promise breaks, with its parent's. */
static void drop(struct sea__disk_req *r) {
    struct sea__disk_req *parent = r->parent;
    if (!parent) {
        sea_promise_release(&r->promise);
        free(r->owned_buf);
        free(r->iov);
    }
    free(r);
    if (parent && --parent->pieces == 0) {
        sea_promise_release(&parent->promise);
        free(parent->owned_buf);
        free(parent->iov);
        free(parent);
    }
}

/* The most bytes Linux moves in one read or write (MAX_RW_COUNT): a longer request comes back short of it. */
#define KERNEL_RW_MAX ((size_t)0x7ffff000)

/* A part of r ended having moved n bytes: the rest goes again, or r ends. */
static void moved(struct sea__disk_req *r, size_t n) {
    r->done += n;
    r->io.offset += n; /* so that offset - done is always where the request started */
    bool write = r->io.op == SEA__IO_WRITE || r->io.op == SEA__IO_WRITEV;
    /* A read that came back short reached the end of the file, unless the kernel capped its length. */
    if (r->done >= r->total || (!write && n < KERNEL_RW_MAX)) {
        finish(r, 0, NULL);
        return;
    }
    if (n == 0) {
        finish(r, -EIO, write ? "the kernel wrote nothing" : "the kernel read nothing");
        return;
    }
    if (r->io.op == SEA__IO_WRITE || r->io.op == SEA__IO_READ) {
        r->io.buf = (char *)r->io.buf + n;
        r->io.len -= n;
    } else {
        struct iovec *v = r->io.buf;
        size_t cnt = r->io.len;
        while (cnt && n >= v->iov_len) {
            n -= v->iov_len;
            v++;
            cnt--;
        }
        if (cnt) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= n;
        }
        r->io.buf = v;
        r->io.len = cnt;
    }
    issue(r);
}

static sea_future io_done(struct sea__disk_req **rp, sea_future *in) {
    struct sea__disk_req *r = *rp;
    if (sea_future_failed(in)) {
        int err = sea_future_error(in);
        finish(r, err == SEA_ECANCELED ? SEA_ECANCELED : err, NULL);
    } else {
        moved(r, (size_t)sea_future_value(in).u);
    }
    return sea_ready();
}

/* On a syscall thread: the read or write of a buffered file (the epoll backend). */
struct pool_rw {
    struct sea__io io;
};

static long pool_rw_call(void *arg) {
    struct sea__io *q = &((struct pool_rw *)arg)->io;
    ssize_t n;
    int iovcnt = q->len < INT32_MAX ? (int)q->len : INT32_MAX;
    do {
        switch (q->op) {
        case SEA__IO_READ:
            n = pread(q->fd, q->buf, q->len, (off_t)q->offset);
            break;
        case SEA__IO_WRITE:
            n = pwrite(q->fd, q->buf, q->len, (off_t)q->offset);
            break;
        case SEA__IO_READV:
            n = preadv(q->fd, q->buf, iovcnt, (off_t)q->offset);
            break;
        default:
            n = pwritev(q->fd, q->buf, iovcnt, (off_t)q->offset);
            break;
        }
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (long)n;
}

static void issue(struct sea__disk_req *r) {
    sea_future f;
    if (r->via_pool) {
        struct pool_rw a = {r->io};
        f = sea__disk_call(pool_rw_call, &a, sizeof(a), op_verb(r), r->path);
    } else {
        /*
         * On io_uring, each disk request goes to the kernel as it is
         * dispatched rather than with the loop turn's batch: a block
         * device starts on it at once (measured on this machine's virtio
         * disk: 4 KiB random reads at depth 32 went from 0.81x fio's
         * rate, batched, to parity), for one system call per request, as
         * fio makes.
         */
        r->io.now = true;
        f = sea__io_submit(&r->io, NULL);
    }
    sea_future_detach(sea_then_wrapped(f, io_done, r));
}

/* ---- the fair queue ---- */

/* Sets when to dispatch again (0: not waiting), and the poller's work bit with it. */
static void set_retry(struct sea__disk_sched_shard *ss, sea_time at) {
    ss->retry_at = at;
    if (at)
        atomic_fetch_or_explicit(ss->work, SEA__DISK_WORK_RETRY, memory_order_relaxed);
    else
        atomic_fetch_and_explicit(ss->work, ~(uint64_t)SEA__DISK_WORK_RETRY, memory_order_relaxed);
}

static void dispatch(struct sea__disk_sched_shard *ss) {
    const sea_io_properties *model = sea__disk_model();
    unsigned limit = sea__disk_max_requests();
    unsigned n = atomic_load_explicit(&classes.count, memory_order_acquire);
    while (ss->queued && ss->executing < limit) {
        struct sea__disk_class_queue *best = NULL;
        for (unsigned i = 0; i < n; i++) {
            struct sea__disk_class_queue *q = &ss->cls[i];
            if (!sea__list_empty(&q->queue) && (!best || q->vtime < best->vtime))
                best = q;
        }
        if (!best)
            break;
        struct sea__disk_req *r = sea__container_of(sea__list_first(&best->queue), struct sea__disk_req, link);
        if (model) {
            sea_time now = sea_now(), retry;
            int64_t in_flight = atomic_load_explicit(&device_ns_in_flight, memory_order_relaxed);
            if (in_flight > 0 && in_flight + cost_ns(r) > sea__disk_config.latency_goal_ns) {
                /* The device has its fill: a completion here dispatches again; other shards' are polled for. */
                set_retry(ss, ss->executing ? 0 : now + RECHECK_NS);
                return;
            }
            if (!bucket_take(cost_ns(r), now, &retry)) {
                set_retry(ss, retry);
                return;
            }
            atomic_fetch_add_explicit(&device_ns_in_flight, cost_ns(r), memory_order_relaxed);
        }
        if (ss->retry_at)
            set_retry(ss, 0);
        sea__list_remove(&best->queue, &r->link);
        ss->queued--;
        best->st.queued--;
        ss->vnow = best->vtime;
        best->vtime += r->cost / (double)sea_io_class_shares(&classes.c[r->cls]);
        ss->executing++;
        best->st.executing++;
        sea__list_push_back(&ss->issued, &r->link);
        issue(r);
    }
}

static void enqueue(struct sea__disk_sched_shard *ss, struct sea__disk_class_queue *q, struct sea__disk_req *r) {
    r->cost = cost_of(r);
    if (sea__list_empty(&q->queue) && q->vtime < ss->vnow)
        q->vtime = ss->vnow; /* idle until now: no credit banked */
    sea__list_push_back(&q->queue, &r->link);
    ss->queued++;
    q->st.queued++;
}

/*
 * Splits a large read or write into pieces of PIECE_BYTES (with a model):
 * the fair queue and the bucket then deal in small amounts of device time,
 * so a request of another class waits behind one piece, not behind a whole
 * megabyte.  False if r stays whole (no model, small, vectored, or no
 * memory for the pieces).
 */
static bool split(struct sea__disk_sched_shard *ss, struct sea__disk_class_queue *q, struct sea__disk_req *r) {
    if (!sea__disk_model() || (r->io.op != SEA__IO_READ && r->io.op != SEA__IO_WRITE) || r->total <= PIECE_BYTES)
        return false;
    unsigned n = (unsigned)((r->total + PIECE_BYTES - 1) / PIECE_BYTES);
    struct sea__disk_req *first = NULL;
    for (unsigned i = 0; i < n; i++) {
        struct sea__disk_req *p = calloc(1, sizeof(*p));
        if (!p) {
            while (first) {
                struct sea__disk_req *next = first->parent;
                free(first);
                first = next;
            }
            return false;
        }
        size_t off = (size_t)i * PIECE_BYTES;
        p->io = r->io;
        p->io.buf = (char *)r->io.buf + off;
        p->io.len = p->total = r->total - off < PIECE_BYTES ? r->total - off : PIECE_BYTES;
        p->io.offset = r->io.offset + off;
        p->via_pool = r->via_pool;
        p->cls = r->cls;
        p->queued_at = r->queued_at;
        p->path = r->path;
        p->parent = first; /* a list through parent until all are made */
        first = p;
    }
    /* The list is newest first: reverse it into file order, pointing each piece at r. */
    struct sea__disk_req *ordered = NULL;
    while (first) {
        struct sea__disk_req *next = first->parent;
        first->parent = ordered;
        ordered = first;
        first = next;
    }
    r->pieces = n;
    while (ordered) {
        struct sea__disk_req *next = ordered->parent;
        ordered->parent = r;
        enqueue(ss, q, ordered);
        ordered = next;
    }
    return true;
}

void sea__disk_sched_submit(struct sea__disk_req *r, const sea_io_class *c) {
    struct sea__disk_sched_shard *ss = sched_of_current();
    unsigned idx = sea__io_class_index(c);
    struct sea__disk_class_queue *q = &ss->cls[idx];
    if (!q->metrics_made)
        class_metrics(q, idx);
    r->cls = (uint8_t)idx;
    r->queued_at = sea_now();
    if (!split(ss, q, r))
        enqueue(ss, q, r);
    dispatch(ss);
}

unsigned sea__disk_sched_poll(struct sea__disk_sched_shard *ss) {
    if (!ss->retry_at || sea_now() < ss->retry_at)
        return 0;
    unsigned before = ss->executing;
    set_retry(ss, 0); /* dispatch sets it again if it must still wait */
    dispatch(ss);
    return ss->executing != before;
}

bool sea__disk_sched_try_sleep(struct sea__disk_sched_shard *ss, sea_time *deadline) {
    if (ss->retry_at && ss->retry_at < *deadline)
        *deadline = ss->retry_at;
    return true;
}

void sea__disk_sched_shard_stop(struct sea__disk_sched_shard *ss) {
    for (unsigned i = 0; i < SEA_IO_CLASSES_MAX; i++) {
        struct sea__disk_class_queue *q = &ss->cls[i];
        while (!sea__list_empty(&q->queue)) {
            struct sea__disk_req *r = sea__container_of(sea__list_first(&q->queue), struct sea__disk_req, link);
            sea__list_remove(&q->queue, &r->link);
            drop(r); /* broken: the shard is stopping */
        }
        if (q->metrics_made) {
            sea_metric_remove(q->m_queued);
            sea_metric_remove(q->m_executing);
            sea_metric_remove(q->m_ops);
            sea_metric_remove(q->m_bytes);
            sea_metric_remove(q->m_latency);
            q->metrics_made = false;
        }
    }
}

void sea__disk_sched_late_stop(struct sea__disk_sched_shard *ss) {
    /* The backend has let go of every buffer: what never came back is freed here. */
    struct sea__link *l;
    while ((l = sea__list_pop_front(&ss->issued)))
        drop(sea__container_of(l, struct sea__disk_req, link));
}

int sea_io_class_stats_get(const sea_io_class *c, sea_io_class_stats *out) {
    struct sea__disk_sched_shard *ss = sched_of_current();
    if (!ss)
        return SEA_ESHUTDOWN;
    *out = ss->cls[sea__io_class_index(c)].st;
    return 0;
}

/* ---- the io-properties file ---- */

int sea_io_properties_parse(const char *text, size_t len, sea_io_properties *out, char *err, size_t errlen) {
    sea_io_properties p = {0};
    unsigned line = 0, disks = 0;
    size_t i = 0;
    bool seen_disks = false;
    while (i < len) {
        line++;
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        /* One line: [spaces] [- ] key: value [# comment] */
        size_t a = i, b = end;
        i = end + 1;
        for (size_t k = a; k < b; k++)
            if (text[k] == '#') {
                b = k;
                break;
            }
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (a == b || (b - a == 3 && memcmp(text + a, "---", 3) == 0))
            continue;
        if (text[a] == '-') {
            a++;
            disks++;
            while (a < b && (text[a] == ' ' || text[a] == '\t'))
                a++;
            if (a == b)
                continue;
        }
        size_t colon = a;
        while (colon < b && text[colon] != ':')
            colon++;
        if (colon == b) {
            snprintf(err, errlen, "line %u: expected \"key: value\"", line);
            return -EINVAL;
        }
        size_t klen = colon - a;
        const char *key = text + a;
        size_t v = colon + 1;
        while (v < b && (text[v] == ' ' || text[v] == '\t'))
            v++;
        if (klen == 5 && memcmp(key, "disks", 5) == 0) {
            seen_disks = true;
            continue;
        }
        if (disks > 1)
            continue; /* sea models the first disk */
        double *field = NULL;
        if (klen == 9 && memcmp(key, "read_iops", 9) == 0)
            field = &p.read_iops;
        else if (klen == 10 && memcmp(key, "write_iops", 10) == 0)
            field = &p.write_iops;
        else if (klen == 14 && memcmp(key, "read_bandwidth", 14) == 0)
            field = &p.read_bandwidth;
        else if (klen == 15 && memcmp(key, "write_bandwidth", 15) == 0)
            field = &p.write_bandwidth;
        else
            continue; /* mountpoint, and keys sea does not use */
        char num[64];
        size_t nlen = b - v;
        if (nlen == 0 || nlen >= sizeof(num)) {
            snprintf(err, errlen, "line %u: %.*s needs a number", line, (int)klen, key);
            return -EINVAL;
        }
        memcpy(num, text + v, nlen);
        num[nlen] = '\0';
        if (memchr(num, '\0', nlen)) {
            snprintf(err, errlen, "line %u: %.*s has a NUL byte", line, (int)klen, key);
            return -EINVAL;
        }
        char *e;
        double d = strtod(num, &e);
        if (e != num + nlen || !(d > 0) || !isfinite(d)) {
            snprintf(err, errlen, "line %u: %.*s must be a positive number, not \"%s\"", line, (int)klen, key, num);
            return -EINVAL;
        }
        *field = d;
    }
    if (!seen_disks) {
        snprintf(err, errlen, "no \"disks:\" list");
        return -EINVAL;
    }
    const char *missing = !p.read_iops ? "read_iops" : !p.read_bandwidth ? "read_bandwidth"
                        : !p.write_iops ? "write_iops" : !p.write_bandwidth ? "write_bandwidth" : NULL;
    if (missing) {
        snprintf(err, errlen, "the first disk has no %s", missing);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

int sea_io_properties_format(const sea_io_properties *p, const char *mountpoint, char *buf, size_t len) {
    return snprintf(buf, len,
                    "disks:\n  - mountpoint: %s\n    read_iops: %.17g\n    read_bandwidth: %.17g\n"
                    "    write_iops: %.17g\n    write_bandwidth: %.17g\n",
                    mountpoint, p->read_iops, p->read_bandwidth, p->write_iops, p->write_bandwidth);
}

int sea_io_properties_get(sea_io_properties *out) {
    const sea_io_properties *m = sea__disk_model();
    if (!m)
        return -ENOENT;
    *out = *m;
    return 0;
}
