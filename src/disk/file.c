/*
 * file.c - sea_file: opening a file (with O_DIRECT where the file system
 * allows it), the alignment its DMA requests need, its reads and writes
 * (checked, then handed to the scheduler), its metadata calls (on the
 * syscall threads), and closing it once its requests have ended.
 *
 * The alignment comes from statx(STATX_DIOALIGN), which names what the
 * file's file system and device accept for direct I/O (Linux 6.1; ext4,
 * xfs, btrfs, f2fs).  Where it says nothing, the device's logical block
 * size (sysfs) stands in, and 4096 if that is unknown.  Writes are aligned
 * to the larger of that and the file system's block size, so a direct
 * write never makes the device read, modify and write back a block.
 */
#include "disk/disk.h"

#include <sea/error.h>
#include <sea/log.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

SEA_LOGGER(disk_log, "disk");

struct sea_file {
    sea_box box; /* first: the box is the file */
    struct sea__link link; /* in its shard's open files (closed at the late stop if the program leaves them) */
    bool listed;
    int fd;
    bool direct;
    bool closing;
    uint32_t mem_align, read_align, write_align;
    uint32_t max_request;
    unsigned pending;     /* reads and writes in flight */
    sea_io_class *cls;
    sea_promise *close_promise; /* a close waiting for the requests in flight (its own allocation: f goes first) */
    char path[];
};

/*
 * Large DMA buffers (HUGE_DMA and up) get mappings of their own, 2 MiB
 * aligned and marked MADV_HUGEPAGE.  A direct request's bytes are moved
 * per physically contiguous segment, and a device takes a bounded number
 * of segments per request (254 on this machine's virtio disk): a 1 MiB
 * buffer in scattered 4 KiB pages is 256 segments, and the kernel splits
 * the request in two.  In a huge page it is one segment, and the request
 * goes whole (1 MiB sequential reads: 1.3 GB/s split, 2.9 GB/s whole).
 * The mappings are listed here so that sea_dma_free knows them; smaller
 * buffers come from the shard's allocator.
 */
#define HUGE_DMA ((size_t)256 * 1024)
#define HUGE_PAGE ((size_t)2 * 1024 * 1024)

static struct {
    pthread_mutex_t lock;
    struct dma_map {
        void *p;
        size_t len;
    } *v;
    size_t n, cap;
} dma_maps = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *dma_map(size_t len) {
    size_t rounded = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (rounded < len)
        return NULL;
    /* Over-map by a huge page and trim, for a 2 MiB-aligned start. */
    char *raw = mmap(NULL, rounded + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)(raw + rounded + HUGE_PAGE - (p + rounded));
    if (tail)
        munmap(p + rounded, tail);
    madvise(p, rounded, MADV_HUGEPAGE); /* where the kernel's THP allows it (madvise or always) */
    pthread_mutex_lock(&dma_maps.lock);
    if (dma_maps.n == dma_maps.cap) {
        size_t cap = dma_maps.cap ? dma_maps.cap * 2 : 16;
        struct dma_map *grown = realloc(dma_maps.v, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&dma_maps.lock);
            munmap(p, rounded);
            return NULL;
        }
        dma_maps.v = grown;
        dma_maps.cap = cap;
    }
    dma_maps.v[dma_maps.n++] = (struct dma_map){p, rounded};
    pthread_mutex_unlock(&dma_maps.lock);
    return p;
}

/* Unmaps p if it is one of dma_map's; false if it is not. */
static bool dma_unmap(void *p) {
    pthread_mutex_lock(&dma_maps.lock);
    for (size_t i = 0; i < dma_maps.n; i++) {
        if (dma_maps.v[i].p == p) {
            size_t len = dma_maps.v[i].len;
            dma_maps.v[i] = dma_maps.v[--dma_maps.n];
            pthread_mutex_unlock(&dma_maps.lock);
            munmap(p, len);
            return true;
        }
    }
    pthread_mutex_unlock(&dma_maps.lock);
    return false;
}

void *sea_dma_alloc(size_t align, size_t len) {
    if (align == 0)
        align = 4096;
    if (align & (align - 1))
        return NULL;
    if (len >= HUGE_DMA && align <= HUGE_PAGE)
        return dma_map(len);
    if (align < sizeof(void *))
        align = sizeof(void *);
    void *p = NULL;
    /* Rounded up: a DMA length is a multiple of the alignment, and the allocator may then serve a tighter class. */
    size_t rounded = (len + align - 1) & ~(align - 1);
    if (rounded < len || posix_memalign(&p, align, rounded ? rounded : align) != 0)
        return NULL;
    return p;
}

void sea_dma_free(void *p) {
    if (p && !dma_unmap(p))
        free(p);
}

bool sea_file_is_direct(const sea_file *f) {
    return f->direct;
}
size_t sea_file_memory_alignment(const sea_file *f) {
    return f->mem_align;
}
size_t sea_file_read_alignment(const sea_file *f) {
    return f->read_align;
}
size_t sea_file_write_alignment(const sea_file *f) {
    return f->write_align;
}
size_t sea_file_max_request(const sea_file *f) {
    return f->max_request;
}
int sea_file_fd(const sea_file *f) {
    return f->fd;
}
void sea_file_set_io_class(sea_file *f, sea_io_class *c) {
    f->cls = c;
}

/* ---- opening, on a syscall thread ---- */

/* Reads a small decimal number from a sysfs file without the C library's buffered I/O (no malloc here). */
static long sysfs_number(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    return end == buf ? -1 : v;
}

/* A queue attribute of the block device holding dev (a partition's is its disk's). */
static long queue_attr(dev_t dev, const char *attr) {
    char path[96];
    snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/%s", major(dev), minor(dev), attr);
    long v = sysfs_number(path);
    if (v < 0) {
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/%s", major(dev), minor(dev), attr);
        v = sysfs_number(path);
    }
    return v;
}

static bool power_of_two(unsigned long v) {
    return v && !(v & (v - 1));
}

struct open_args {
    struct sea_file *f;
    int flags;
    unsigned mode;
    bool buffered;
    bool *refused_direct; /* set when the file system refused O_DIRECT */
    const char *beneath;  /* opts->beneath, kept in the file's own allocation */
};

static long open_call(void *arg) {
    struct open_args *a = arg;
    struct sea_file *f = a->f;
    int flags = (a->flags & ~O_DIRECT) | O_CLOEXEC;
    /*
     * Opened without O_DIRECT, which is then set with fcntl: a file system
     * that refuses it says so there (EINVAL) after the open has happened
     * once, so O_CREAT | O_EXCL still means what it says.
     */
    int fd;
    if (a->beneath) {
        /* Resolved inside the directory only: "..", absolute paths and symbolic links out of it fail (EXDEV). */
        int dir = open(a->beneath, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
            return -errno;
        struct open_how how = {.flags = (uint64_t)flags, .mode = flags & O_CREAT ? a->mode : 0,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        fd = (int)syscall(SYS_openat2, dir, f->path, &how, sizeof(how));
        int err = errno;
        close(dir);
        errno = err;
    } else {
        fd = open(f->path, flags, a->mode);
    }
    if (fd < 0)
        return -errno;
    if (!a->buffered) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0) {
            if (errno != EINVAL) {
                int err = -errno;
                close(fd);
                return err;
            }
            *a->refused_direct = true;
        }
    }
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN, &stx) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (S_ISDIR(stx.stx_mode)) {
        close(fd);
        return -EISDIR;
    }
    f->fd = fd;
    f->direct = !a->buffered && !*a->refused_direct;
    dev_t dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    long max_kb = queue_attr(dev, "max_sectors_kb");
    f->max_request = max_kb > 0 && max_kb <= 1L << 20 ? (uint32_t)max_kb * 1024 : 128 * 1024;
    if (!f->direct) {
        f->mem_align = f->read_align = f->write_align = 1;
        return 0;
    }
    uint32_t mem = 0, off = 0;
    if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
        mem = stx.stx_dio_mem_align;
        off = stx.stx_dio_offset_align;
    } else {
        long lbs = queue_attr(dev, "logical_block_size");
        off = lbs > 0 && power_of_two((unsigned long)lbs) && lbs <= 65536 ? (uint32_t)lbs : 4096;
        mem = off;
    }
    if (!power_of_two(mem))
        mem = 4096;
    uint32_t wr = off;
    if (power_of_two(stx.stx_blksize) && stx.stx_blksize > wr && stx.stx_blksize <= 65536)
        wr = stx.stx_blksize;
    f->mem_align = mem;
    f->read_align = off;
    f->write_align = wr;
    return 0;
}

static void file_box_release(sea_box *box) {
    sea_future_detach(sea_file_close((sea_file *)box));
}

struct open_cap {
    struct sea_file *f;
    bool *refused_direct;
};

/* Logged once per device: which file systems made sea fall back to the page cache. */
static void note_refused(const struct sea_file *f) {
    static _Atomic unsigned long logged_dev = (unsigned long)-1;
    struct stat st;
    if (fstat(f->fd, &st) == 0 && atomic_exchange(&logged_dev, (unsigned long)st.st_dev) != (unsigned long)st.st_dev)
        sea_log_info(&disk_log, "%s: the file system refuses O_DIRECT; files there use the page cache", f->path);
}

static sea_future opened(struct open_cap *c, sea_future *in) {
    struct sea_file *f = c->f;
    bool refused = *c->refused_direct;
    free(c->refused_direct);
    if (sea_future_failed(in)) {
        free(f);
        return sea_future_move(in);
    }
    if (refused)
        note_refused(f);
    struct sea__disk_shard *ds = sea__disk_shard_raw();
    if (ds) {
        sea__list_push_back(&ds->files, &f->link);
        f->listed = true;
    }
    return sea_ready_box(&f->box);
}

/* The shard stopped before the open's result came back: the descriptor and the file go. */
static void open_abandoned(void *arg, long result) {
    struct open_args *a = arg;
    if (result >= 0 && a->f->fd >= 0)
        close(a->f->fd);
    free(a->refused_direct);
    free(a->f);
}

static void unlist(struct sea_file *f) {
    struct sea__disk_shard *ds = sea__disk_shard_raw();
    if (f->listed && ds)
        sea__list_remove(&ds->files, &f->link);
    f->listed = false;
}

void sea__disk_files_late_stop(struct sea__disk_shard *ds) {
    struct sea__link *l;
    while ((l = sea__list_pop_front(&ds->files))) {
        struct sea_file *f = sea__container_of(l, struct sea_file, link);
        close(f->fd);
        if (f->close_promise) {
            sea_promise_release(f->close_promise);
            free(f->close_promise);
        }
        free(f);
    }
}

sea_future sea_file_open(const char *path, int flags, const sea_file_options *opts) {
    if (!path || !*path)
        return sea_failed(-EINVAL, "sea_file_open: no path");
    size_t plen = strlen(path);
    const char *beneath = opts ? opts->beneath : NULL;
    size_t blen = beneath ? strlen(beneath) + 1 : 0;
    struct sea_file *f = calloc(1, sizeof(*f) + plen + 1 + blen);
    bool *refused = calloc(1, sizeof(*refused));
    if (!f || !refused) {
        free(f);
        free(refused);
        return sea_failed_fmt(-ENOMEM, "open %s: out of memory", path);
    }
    memcpy(f->path, path, plen + 1);
    if (beneath)
        memcpy(f->path + plen + 1, beneath, blen);
    f->box.release = file_box_release;
    f->fd = -1;
    f->cls = opts ? opts->io_class : NULL;
    struct open_args a = {
        .f = f,
        .flags = flags,
        .mode = opts && opts->mode ? opts->mode : 0644,
        .buffered = opts && opts->buffered,
        .refused_direct = refused,
        .beneath = beneath ? f->path + plen + 1 : NULL,
    };
    sea_future call = sea__disk_call_owning(open_call, &a, sizeof(a), "open", path, open_abandoned);
    return sea_then_wrapped(call, opened, ((struct open_cap){f, refused}));
}

/* ---- closing ---- */

struct close_args {
    int fd;
    struct sea_file *f; /* freed by the continuation, or by close_abandoned if the shard stops first */
};

static long close_call(void *arg) {
    int fd = ((struct close_args *)arg)->fd;
    return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

static sea_future closed(struct sea_file **fp, sea_future *in) {
    free(*fp);
    return sea_future_move(in);
}

/*
 * The shard stopped before the close's result came back (a close nobody
 * waits for, as sea_future_detach(sea_file_close(f)) at the end of a run):
 * close here if the thread never did, and free the file.
 */
static void close_abandoned(void *arg, long result) {
    struct close_args *a = arg;
    if (result == SEA_ECANCELED)
        close(a->fd);
    free(a->f);
}

static sea_future close_now(struct sea_file *f) {
    unlist(f);
    struct close_args a = {f->fd, f};
    sea_future call = sea__disk_call_owning(close_call, &a, sizeof(a), "close", f->path, close_abandoned);
    if (sea_future_failed(&call) && sea_future_error(&call) == SEA_ESHUTDOWN) {
        close(f->fd); /* no syscall threads (the shard is gone): close here, it does not wait for the disk */
        free(f);
        sea_future_ignore(call);
        return sea_ready();
    }
    return sea_then_wrapped(call, closed, f);
}

static sea_future close_forwarded(sea_promise **pp, sea_future *in) {
    sea_promise *p = *pp;
    if (sea_future_failed(in))
        sea_promise_set_error_fmt(p, sea_future_error(in), "%s", sea_future_message(in));
    else
        sea_promise_set_value(p, sea_future_value(in));
    sea_promise_release(p);
    free(p);
    return sea_ready();
}

/* The last request of a closing file ended. */
static void file_idle(void *owner) {
    struct sea_file *f = owner;
    if (f->closing) {
        sea_promise *p = f->close_promise;
        f->close_promise = NULL;
        sea_future c = close_now(f);
        if (p)
            sea_future_detach(sea_then_wrapped(c, close_forwarded, p));
        else
            sea_future_detach(c); /* the close's promise could not be had: it closes all the same */
    }
}

sea_future sea_file_close(sea_file *f) {
    if (!f)
        return sea_ready();
    if (f->closing)
        return sea_failed_fmt(-EBADF, "close %s: already closed", f->path);
    f->closing = true;
    if (f->pending == 0)
        return close_now(f);
    sea_promise *p = malloc(sizeof(*p));
    if (!p)
        return sea_failed_fmt(-ENOMEM, "close %s: out of memory", f->path); /* closing stays set: nothing new starts */
    sea_promise_init(p);
    f->close_promise = p;
    return sea_promise_get_future(p);
}

/* ---- reads and writes ---- */

static sea_future misaligned(const sea_file *f, const char *what, const char *which, unsigned long long value,
                             size_t align) {
    return sea_failed_fmt(-EINVAL, "%s %s: the %s (%llu) is not a multiple of %zu, as O_DIRECT requires", what,
                          f->path, which, value, align);
}

static sea_future submit(sea_file *f, uint8_t op, uint64_t pos, void *buf, size_t len, struct iovec *iov,
                         size_t total, void *owned) {
    const char *what = op == SEA__IO_WRITE || op == SEA__IO_WRITEV ? "write" : "read";
    if (f->closing) {
        free(iov);
        return sea_failed_fmt(SEA_ESHUTDOWN, "%s %s: the file is closed", what, f->path);
    }
    if (pos > (uint64_t)INT64_MAX || total > (size_t)INT64_MAX - pos) {
        free(iov);
        return sea_failed_fmt(-EINVAL, "%s %s: offset %llu and length %zu are past the largest file", what, f->path,
                              (unsigned long long)pos, total);
    }
    if (total == 0) {
        free(iov);
        return sea_ready_size(0);
    }
    struct sea__disk_req *r = calloc(1, sizeof(*r));
    if (!r) {
        free(iov);
        return sea_failed_fmt(-ENOMEM, "%s %s: out of memory", what, f->path);
    }
    sea_promise_init(&r->promise);
    sea_future fut = sea_promise_get_future(&r->promise);
    if (sea_future_failed(&fut)) {
        sea_promise_release(&r->promise);
        free(r);
        free(iov);
        return fut;
    }
    r->io = (struct sea__io){.op = op, .fd = f->fd, .buf = iov ? (void *)iov : buf, .len = len, .offset = pos};
    r->iov = iov;
    r->owned_buf = owned;
    r->total = total;
    bool native = sea__io_native();
    r->io.aio = !native && f->direct;
    r->via_pool = !native && !f->direct;
    r->owner_pending = &f->pending;
    r->owner_idle = file_idle;
    r->owner = f;
    r->path = f->path;
    f->pending++;
    sea__disk_sched_submit(r, f->cls);
    return fut;
}

/* Checks a direct request's buffer address, offset and length. */
static sea_future check(const sea_file *f, const char *what, uint64_t pos, const void *buf, size_t len, bool write,
                        bool *ok) {
    *ok = false;
    size_t align = write ? f->write_align : f->read_align;
    if (f->direct) {
        if ((uintptr_t)buf & (f->mem_align - 1))
            return sea_failed_fmt(-EINVAL, "%s %s: the buffer %p is not aligned to %u bytes, as O_DIRECT requires "
                                           "(sea_dma_alloc gives aligned memory)",
                                  what, f->path, buf, f->mem_align);
        if (pos & (align - 1))
            return misaligned(f, what, "offset", pos, align);
        if (len & (align - 1))
            return misaligned(f, what, "length", len, align);
    }
    *ok = true;
    return sea_ready();
}

sea_future sea_file_read(sea_file *f, uint64_t pos, void *buf, size_t len) {
    bool ok;
    sea_future c = check(f, "read", pos, buf, len, false, &ok);
    if (!ok)
        return c;
    return submit(f, SEA__IO_READ, pos, buf, len, NULL, len, NULL);
}

sea_future sea__file_read_owned(sea_file *f, uint64_t pos, void *mem, size_t len) {
    bool ok;
    sea_future c = check(f, "read", pos, mem, len, false, &ok);
    if (!ok)
        return c;
    return submit(f, SEA__IO_READ, pos, mem, len, NULL, len, mem);
}

sea_future sea_file_write(sea_file *f, uint64_t pos, const void *buf, size_t len) {
    bool ok;
    sea_future c = check(f, "write", pos, buf, len, true, &ok);
    if (!ok)
        return c;
    return submit(f, SEA__IO_WRITE, pos, (void *)buf, len, NULL, len, NULL);
}

static sea_future vectored(sea_file *f, uint8_t op, uint64_t pos, const struct iovec *iov, int iovcnt) {
    bool write = op == SEA__IO_WRITEV;
    const char *what = write ? "writev" : "readv";
    if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
        return sea_failed_fmt(-EINVAL, "%s %s: %d vectors (1 to %d allowed)", what, f->path, iovcnt, IOV_MAX);
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        bool ok;
        sea_future c = check(f, what, pos, iov[i].iov_base, iov[i].iov_len, write, &ok);
        if (!ok)
            return c;
        if (iov[i].iov_len > SIZE_MAX / 2 - total)
            return sea_failed_fmt(-EINVAL, "%s %s: the vectors add up to too many bytes", what, f->path);
        total += iov[i].iov_len;
    }
    struct iovec *copy = malloc(sizeof(*copy) * (size_t)(iovcnt ? iovcnt : 1));
    if (!copy)
        return sea_failed_fmt(-ENOMEM, "%s %s: out of memory", what, f->path);
    memcpy(copy, iov, sizeof(*copy) * (size_t)iovcnt);
    return submit(f, op, pos, NULL, (size_t)iovcnt, copy, total, NULL);
}

sea_future sea_file_readv(sea_file *f, uint64_t pos, const struct iovec *iov, int iovcnt) {
    return vectored(f, SEA__IO_READV, pos, iov, iovcnt);
}

sea_future sea_file_writev(sea_file *f, uint64_t pos, const struct iovec *iov, int iovcnt) {
    return vectored(f, SEA__IO_WRITEV, pos, iov, iovcnt);
}

/* ---- metadata, on the syscall threads ---- */

struct fd_args {
    int fd;
    int op;
    uint64_t a, b;
    struct stat *st;
};

enum { FD_SIZE, FD_STAT, FD_TRUNCATE, FD_ALLOCATE, FD_FDATASYNC, FD_READAHEAD };

static long fd_call(void *arg) {
    struct fd_args *a = arg;
    int rc;
    struct stat st;
    switch (a->op) {
    case FD_SIZE:
        if (fstat(a->fd, &st) < 0)
            return -errno;
        return (long)st.st_size;
    case FD_STAT:
        rc = fstat(a->fd, a->st);
        break;
    case FD_TRUNCATE:
        do
            rc = ftruncate(a->fd, (off_t)a->a);
        while (rc < 0 && errno == EINTR);
        break;
    case FD_ALLOCATE:
        do
            rc = fallocate(a->fd, 0, (off_t)a->a, (off_t)a->b);
        while (rc < 0 && errno == EINTR);
        break;
    case FD_READAHEAD:
        /* readahead(2) returns once the pages are read: on this thread, not the shard's */
        rc = (int)readahead(a->fd, (off64_t)a->a, (size_t)a->b);
        break;
    default:
        rc = fdatasync(a->fd);
        break;
    }
    return rc < 0 ? -errno : 0;
}

static sea_future fd_op_done(struct sea_file **fp, sea_future *in) {
    struct sea_file *f = *fp;
    sea_future out = sea_future_move(in);
    if (--f->pending == 0)
        file_idle(f); /* a close waits for metadata calls too: the descriptor is theirs until they end */
    return out;
}

static sea_future fd_op(sea_file *f, int op, const char *what, uint64_t a, uint64_t b, struct stat *st) {
    if (f->closing)
        return sea_failed_fmt(SEA_ESHUTDOWN, "%s %s: the file is closed", what, f->path);
    struct fd_args args = {.fd = f->fd, .op = op, .a = a, .b = b, .st = st};
    f->pending++;
    return sea_then_wrapped(sea__disk_call(fd_call, &args, sizeof(args), what, f->path), fd_op_done, f);
}

static sea_future size_done(sea_future *in) {
    if (sea_future_failed(in))
        return sea_future_move(in);
    return sea_ready_value((sea_value){.u = (uint64_t)sea_future_value(in).i});
}

sea_future sea_file_prefetch(sea_file *f, uint64_t pos, uint64_t len) {
    if (f->direct)
        return sea_failed_fmt(-EINVAL, "prefetch %s: a direct file bypasses the page cache", f->path);
    return fd_op(f, FD_READAHEAD, "prefetch", pos, len, NULL);
}

/* cachestat(2), Linux 6.5: the same number on x86-64 and aarch64 (the generic table). */
#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

int sea_file_cached(sea_file *f, uint64_t pos, uint64_t len) {
    if (f->direct)
        return -EINVAL;
    if (len == 0)
        return 1;
    struct {
        uint64_t off, len;
    } range = {pos & ~(uint64_t)4095, len + (pos & 4095)};
    struct {
        uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
    } cs;
    if (syscall(SYS_cachestat, f->fd, &range, &cs, 0) < 0)
        return -errno;
    /* Pages of 4 KiB or more: the cache holds it all if it holds as many pages as the range spans at 4 KiB. */
    uint64_t pages = (range.len + 4095) / 4096;
    return cs.nr_cache >= pages;
}

sea_future sea_file_size(sea_file *f) {
    return sea_then_wrapped(fd_op(f, FD_SIZE, "size of", 0, 0, NULL), size_done);
}

sea_future sea_file_stat(sea_file *f, struct stat *out) {
    return fd_op(f, FD_STAT, "stat", 0, 0, out);
}

sea_future sea_file_truncate(sea_file *f, uint64_t len) {
    if (len > (uint64_t)INT64_MAX)
        return sea_failed_fmt(-EINVAL, "truncate %s: length %llu too large", f->path, (unsigned long long)len);
    return fd_op(f, FD_TRUNCATE, "truncate", len, 0, NULL);
}

sea_future sea_file_allocate(sea_file *f, uint64_t pos, uint64_t len) {
    if (pos > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - pos || len == 0)
        return sea_failed_fmt(-EINVAL, "allocate %s: offset %llu, length %llu out of range", f->path,
                              (unsigned long long)pos, (unsigned long long)len);
    return fd_op(f, FD_ALLOCATE, "allocate", pos, len, NULL);
}

static sea_future flush_done(struct sea_file **fp, sea_future *in) {
    struct sea_file *f = *fp;
    sea_future out = sea_future_failed(in) ? sea_failed_fmt(sea_future_error(in), "flush %s: %s", f->path,
                                                            sea_strerror(sea_future_error(in)))
                                           : sea_ready();
    if (--f->pending == 0)
        file_idle(f);
    return out;
}

sea_future sea_file_flush(sea_file *f) {
    if (f->closing)
        return sea_failed_fmt(SEA_ESHUTDOWN, "flush %s: the file is closed", f->path);
    if (sea__io_native() || f->direct) {
        /* io_uring's ring, or AIO on epoll (IOCB_CMD_FDSYNC): the shard does not wait. */
        struct sea__io q = {.op = SEA__IO_FDATASYNC, .fd = f->fd, .aio = !sea__io_native()};
        f->pending++; /* a close waits for it, like for a write */
        return sea_then_wrapped(sea__io_submit(&q, NULL), flush_done, f);
    }
    return fd_op(f, FD_FDATASYNC, "flush", 0, 0, NULL);
}
