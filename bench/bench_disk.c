/*
 * bench_disk.c - sea's disk layer (sea/file.h, sea/io_sched.h) against fio
 * on the same file, in the same run.
 *
 *     bench_disk [seconds per round, default 2.5] [figure] [sea|fio]
 *
 * The test file: SEA_BENCH_DISK_SIZE bytes (default 1 GiB) in
 * SEA_BENCH_DISK_DIR (default /var/tmp), allocated (fallocate) and written
 * once from end to end with O_DIRECT before the first round, so that reads
 * hit real blocks (an unwritten extent is answered with zeros by the file
 * system, without the device); removed at the end (SEA_BENCH_DISK_KEEP=1
 * keeps it, and a file of the right size left there is reused).
 *
 * Every measurement is a process of its own, pinned to CPU 1: sea as a
 * forked child running sea_app_run with "-c1 --cpuset 1" (so one shard on
 * CPU 1; the child's other threads are pinned there too), fio exec'ed with
 * its affinity set to CPU 1 and --cpus_allowed=1.  This process waits on
 * CPU 0.  Each round measures every figure once, sea and fio in turn (which
 * goes first alternates), after a warm-up of 0.3 s that is not counted
 * (fio: --ramp_time); the medians of SEA_BENCH_RUNS rounds (default 5) are
 * printed.
 *
 * Figures (all by default, in this order):
 *   randread_4k_qd1, randread_4k_qd32, randread_4k_qd128
 *       4 KiB random reads, O_DIRECT, QD requests kept in flight.  sea: QD
 *       sea_file_read calls, each started as soon as the one before it ends,
 *       each one's latency (from the call to its continuation) kept, with
 *       --io-max-requests max(QD, 128) and no disk model.  fio:
 *       --rw=randread --bs=4k --direct=1 --ioengine=io_uring --iodepth=QD,
 *       time based, --lat_percentiles=1, --output-format=json: read.iops,
 *       read.clat_ns.percentile["99.000000"] (fio_p99_us: from the return of
 *       the call that submitted the request) and lat_ns's (fio_lat_p99_us:
 *       from the request's start, what sea's figure is).  Also p50, and the
 *       CPU time per read:
 *       sea's process time (getrusage, every thread) over the window, and
 *       fio's usr_cpu + sys_cpu over its IOPS.
 *   seqread_1m, seqwrite_1m
 *       1 MiB sequential reads / writes, O_DIRECT, 4 in flight (fio
 *       --iodepth=4): bandwidth.  The writes overwrite the test file.
 *   sched
 *       sea's I/O scheduler: a "query" class (1000 shares) doing 4 KiB random
 *       reads one at a time while a "compaction" class (100 shares) keeps 16
 *       sequential 1 MiB reads in flight on the same file (two sea_file
 *       handles, one per class), in one shard.  The query class's p99 (and
 *       p50) latency and IOPS, and the bulk bandwidth: alone (query only),
 *       with_bulk_nomodel (no --io-properties-file: up to --io-max-requests,
 *       128, at the device), with_bulk_model (the disk model sea-iotune
 *       measured at the start of the run, "-c1 --cpuset 1 --duration 1", or
 *       SEA_BENCH_DISK_IO_PROPERTIES) and with_bulk_model_derated (the same
 *       model with its four figures at 80%: a model the device surely keeps
 *       up with, although its rate varies from second to second, so that
 *       sea's queues, not the kernel's, hold the backlog).  A note gives
 *       every round's figures.
 *
 *   snapshot
 *       sea-memcached (next to this program in ../apps, or SEA_MEMCACHED),
 *       one shard on CPU 1, filled with 1,000,000 items of 1,000 bytes
 *       (about 1 GB of snapshot), stopped with SIGTERM (it saves), started
 *       again (it loads) and stopped: the save and load rates its log
 *       reports (bytes of records over the time from the first write to the
 *       rename and directory sync, and from the directory listing to the
 *       last item stored), against fio's 1 MiB sequential writes and reads
 *       at depth 4 measured in the same round.
 *
 * Output: "name: value unit" lines and "name.ratio_vs_fio: X" (sea / fio,
 * higher is better for sea for IOPS and bandwidth); '#' lines are notes.
 * After each figure a note gives how busy CPU 0 was (nothing of ours runs
 * there: anything is someone else's load, "DISTURBED" above 10%).
 *
 * Environment: SEA_BENCH_RUNS, SEA_BENCH_DISK_DIR, SEA_BENCH_DISK_SIZE
 * (bytes, k/M/G suffixes), SEA_BENCH_DISK_KEEP, FIO (default fio),
 * SEA_IOTUNE (default ../apps/sea-iotune next to this program),
 * SEA_BENCH_DISK_IO_PROPERTIES (a model to use instead of running
 * sea-iotune), SEA_BENCH_DISK_SEA_ARGS (more options for every sea child,
 * e.g. "--reactor-backend=epoll").
 */
#include <sea/sea.h>

#include "bench.h"
#include "bench_proc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAIN_CPU = 0, IO_CPU = 1 };
#define IO_CPU_TEXT "1"
#define WARM_S 0.3

static double secs = 2.5;
static int runs = 5;
static const char *only_side; /* "sea" or "fio", or NULL */
static char file_path[4096];
static uint64_t file_size = 1ull << 30;
static bool file_made; /* ours to remove */
static const char *fio_path = "fio";
static char props_path[4200];   /* sea-iotune's model */
static char derated_path[4300]; /* the same at DERATE of its figures, written here */
static bool props_made;         /* the model file is ours to remove */
#define DERATE 0.8
static pid_t child_pid;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_disk: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (child_pid > 0)
        kill(child_pid, SIGKILL);
    if (file_made)
        unlink(file_path);
    exit(1);
}

static void on_signal(int sig) {
    if (child_pid > 0)
        kill(child_pid, SIGKILL);
    if (file_made)
        unlink(file_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t rnd(uint64_t *s) {
    uint64_t x = *s; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- what a measurement is, and what it gives ---- */

enum kind { K_RANDREAD, K_SEQREAD, K_SEQWRITE, K_SCHED };

struct job {
    enum kind kind;
    int depth;       /* requests in flight (sched: the bulk class's) */
    size_t bs;
    bool with_bulk;  /* sched */
    int model;       /* sched: 0 none, 1 sea-iotune's, 2 derated */
};

/* What a sea child hands back, through a page shared across the fork. */
struct outcome {
    int ok;
    double ops_per_s, bytes_per_s, p99_us, p50_us, cpu_us_per_op;
    double lat_p99_us; /* fio: p99 of lat_ns (submission + completion) */
    double bulk_bytes_per_s; /* sched: the compaction class's */
    double window_s;
    char err[512];
};

static struct outcome *shared; /* MAP_SHARED */

/* ---- the sea side (in the child) ---- */

struct stream {
    sea_file *f;
    bool write, random;
    size_t bs;
    uint64_t range, cursor, rng;
    bool measuring, stopping;
    uint64_t ops, bytes;
    uint32_t *lat; /* ns, one per request completed in the window (NULL: not kept) */
    size_t nlat, latcap;
};

struct slot {
    struct stream *s;
    void *buf;
    sea_time t0;
};

static sea_future slot_done(struct slot **sp, sea_value v) {
    struct slot *sl = *sp;
    struct stream *s = sl->s;
    if (v.size != s->bs)
        return sea_failed_fmt(-EIO, "a %zu-byte request moved %zu bytes", s->bs, v.size);
    if (s->measuring) {
        s->ops++;
        s->bytes += v.size;
        if (s->lat && s->nlat < s->latcap) {
            sea_time d = sea_now() - sl->t0;
            s->lat[s->nlat++] = d > (sea_time)UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        }
    }
    return sea_continue();
}

static sea_future slot_step(struct slot **sp) {
    struct slot *sl = *sp;
    struct stream *s = sl->s;
    if (s->stopping)
        return sea_stop();
    uint64_t pos;
    if (s->random) {
        pos = rnd(&s->rng) % (s->range / s->bs) * s->bs;
    } else {
        if (s->cursor + s->bs > s->range)
            s->cursor = 0;
        pos = s->cursor;
        s->cursor += s->bs;
    }
    sl->t0 = sea_now();
    sea_future f = s->write ? sea_file_write(s->f, pos, sl->buf, s->bs) : sea_file_read(s->f, pos, sl->buf, s->bs);
    return sea_then(f, slot_done, sl);
}

struct slots {
    struct slot *v;
};

static sea_future slot_start(struct slots *ss, int64_t i) {
    return sea_repeat(slot_step, &ss->v[i]);
}

/* Starts depth slots on s; *slots_out to free after the future resolves. */
static sea_future stream_start(struct stream *s, int depth, struct slot **slots_out) {
    struct slot *slots = calloc((size_t)depth, sizeof(*slots));
    if (!slots)
        return sea_failed(-ENOMEM, "out of memory");
    for (int i = 0; i < depth; i++) {
        slots[i].s = s;
        slots[i].buf = sea_dma_alloc(sea_file_memory_alignment(s->f), s->bs);
        if (!slots[i].buf)
            return sea_failed(-ENOMEM, "out of memory");
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 7);
        for (size_t k = 0; k + 8 <= s->bs; k += 8) {
            uint64_t r = rnd(&seed);
            memcpy((char *)slots[i].buf + k, &r, 8);
        }
    }
    *slots_out = slots;
    return sea_parallel_for_each(0, depth, slot_start, (struct slots){slots});
}

static struct job the_job;

static sea_future open_file(int flags, sea_io_class *cls, sea_file **out) {
    sea_file_options o = {.io_class = cls};
    *out = SEA_AWAIT(sea_file_open(file_path, flags, &o)).ptr;
    if (!sea_file_is_direct(*out))
        return sea_failed_fmt(-EINVAL, "%s: the file system refuses O_DIRECT", file_path);
    return sea_ready();
}

/* The child's main, in a fiber on shard 0. */
static sea_future sea_job_main(void) {
    const struct job *j = &the_job;
    struct stream a = {.rng = 0x853c49e6748fea9bULL ^ (uint64_t)sea_now(), .range = file_size};
    struct stream b = {.rng = 0x1234567ULL ^ (uint64_t)sea_now(), .range = file_size};
    int depth_a, depth_b = 0;
    sea_io_class *query = NULL, *compaction = NULL;
    if (j->kind == K_SCHED) {
        query = sea_io_class_get("query", 1000);
        compaction = sea_io_class_get("compaction", 100);
        if (!query || !compaction)
            return sea_failed(-EINVAL, "no I/O classes");
    }
    SEA_AWAIT(open_file(j->kind == K_SEQWRITE ? O_RDWR : O_RDONLY, query, &a.f));
    if (j->kind == K_SCHED) {
        a.bs = 4096;
        a.random = true;
        depth_a = 1;
        if (j->with_bulk) {
            SEA_AWAIT(open_file(O_RDONLY, compaction, &b.f));
            b.bs = 1 << 20;
            depth_b = j->depth;
        }
    } else {
        a.bs = j->bs;
        a.random = j->kind == K_RANDREAD;
        a.write = j->kind == K_SEQWRITE;
        depth_a = j->depth;
    }
    if (a.random) {
        /* Room for every completion of the window (lazily touched). */
        a.latcap = 64u << 20;
        a.lat = mmap(NULL, a.latcap * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (a.lat == MAP_FAILED)
            return sea_failed(-ENOMEM, "no memory for the latencies");
    }
    struct slot *sa = NULL, *sb = NULL;
    sea_future fs[2];
    fs[0] = stream_start(&a, depth_a, &sa);
    fs[1] = depth_b ? stream_start(&b, depth_b, &sb) : sea_ready();
    sea_future e = sea_await(sea_sleep((sea_time)(WARM_S * 1e9)));
    sea_future_ignore(e);
    double cpu0 = bench_self_cpu_seconds();
    sea_time t0 = sea_now();
    a.measuring = b.measuring = true;
    e = sea_await(sea_sleep((sea_time)(secs * 1e9)));
    sea_future_ignore(e);
    a.measuring = b.measuring = false;
    sea_time t1 = sea_now();
    double cpu1 = bench_self_cpu_seconds();
    a.stopping = b.stopping = true;
    sea_future all = sea_await(sea_when_all(fs, 2));
    sea_future_ignore(all);
    for (int i = 0; i < 2; i++)
        if (sea_future_failed(&fs[i])) {
            const char *m = sea_future_message(&fs[i]);
            snprintf(shared->err, sizeof(shared->err), "%s", m ? m : "failed");
            return sea_future_move(&fs[i]);
        } else {
            sea_future_ignore(fs[i]);
        }
    double w = (double)(t1 - t0) / 1e9;
    shared->window_s = w;
    shared->ops_per_s = (double)a.ops / w;
    shared->bytes_per_s = (double)a.bytes / w;
    shared->cpu_us_per_op = a.ops ? (cpu1 - cpu0) / (double)a.ops * 1e6 : 0;
    shared->bulk_bytes_per_s = (double)b.bytes / w;
    if (a.lat) {
        bench_sort_u32(a.lat, a.nlat);
        shared->p99_us = bench_percentile_us(a.lat, a.nlat, 0.99);
        shared->p50_us = bench_percentile_us(a.lat, a.nlat, 0.50);
    }
    shared->ok = 1;
    for (int i = 0; sa && i < depth_a; i++)
        sea_dma_free(sa[i].buf);
    for (int i = 0; sb && i < depth_b; i++)
        sea_dma_free(sb[i].buf);
    free(sa);
    free(sb);
    SEA_AWAIT(sea_file_close(a.f));
    if (b.f)
        SEA_AWAIT(sea_file_close(b.f));
    return sea_ready();
}

/* Runs j in a forked sea child; false (with a message) if it failed. */
static bool run_sea(const struct job *j, struct outcome *out) {
    memset(shared, 0, sizeof(*shared));
    the_job = *j;
    char maxreq[64], props[4400];
    snprintf(maxreq, sizeof(maxreq), "--io-max-requests=%d", j->depth > 128 ? j->depth : 128);
    char *argv[48];
    int n = 0;
    argv[n++] = "bench_disk_sea";
    argv[n++] = "--blocked-reactor-notify-ms=0"; /* as bench_app_run: the loop is ours to measure, not to report on */
    argv[n++] = "-c1";
    argv[n++] = "--cpuset";
    argv[n++] = IO_CPU_TEXT;
    argv[n++] = maxreq;
    if (j->model) {
        snprintf(props, sizeof(props), "--io-properties-file=%s", j->model == 1 ? props_path : derated_path);
        argv[n++] = props;
    }
    char *extra = bench_env_words("SEA_BENCH_DISK_SEA_ARGS", argv, &n, 40);
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        bench_pin(IO_CPU); /* the shard is pinned by --cpuset; its helper threads here too */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int rc = sea_app_run_fiber(n, argv, sea_job_main);
        _exit(rc);
    }
    child_pid = pid;
    int st = 0;
    waitpid(pid, &st, 0);
    child_pid = 0;
    free(extra);
    *out = *shared;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !shared->ok) {
        fprintf(stderr, "bench_disk: the sea run failed (status %d): %s\n", st, shared->err);
        return false;
    }
    return true;
}

/* ---- the fio side ---- */

/* Where the value of the first key "key" after p starts (a string "key" that is a value is skipped), or NULL. */
static const char *find_key(const char *p, const char *key) {
    char k[128];
    snprintf(k, sizeof(k), "\"%s\"", key);
    for (const char *q = strstr(p, k); q; q = strstr(q, k)) {
        q += strlen(k);
        while (isspace((unsigned char)*q))
            q++;
        if (*q != ':')
            continue;
        q++;
        while (isspace((unsigned char)*q))
            q++;
        return q;
    }
    return NULL;
}

/* The number that is the value of the first key "key" after p, or NAN. */
static double num_after(const char *p, const char *key) {
    const char *q = p ? find_key(p, key) : NULL;
    return q ? strtod(q, NULL) : NAN;
}

/* Runs fio for j; fills out as a sea run would (p99 from clat). */
static bool run_fio(const struct job *j, struct outcome *out) {
    memset(out, 0, sizeof(*out));
    const char *rw = j->kind == K_RANDREAD ? "randread" : j->kind == K_SEQREAD ? "read" : "write";
    char filename[4200], bs[32], depth[32], runtime[48], ramp[48];
    snprintf(filename, sizeof(filename), "--filename=%s", file_path);
    snprintf(bs, sizeof(bs), "--bs=%zu", j->bs);
    snprintf(depth, sizeof(depth), "--iodepth=%d", j->depth);
    snprintf(runtime, sizeof(runtime), "--runtime=%lldms", (long long)llround(secs * 1000));
    snprintf(ramp, sizeof(ramp), "--ramp_time=%lldms", (long long)llround(WARM_S * 1000));
    char rwarg[32];
    snprintf(rwarg, sizeof(rwarg), "--rw=%s", rw);
    char *argv[] = {(char *)fio_path, "--name=x", filename, rwarg, bs, "--direct=1", "--ioengine=io_uring", depth,
                    "--time_based", runtime, ramp, "--cpus_allowed=" IO_CPU_TEXT, "--lat_percentiles=1",
                    "--output-format=json", NULL};
    int pfd[2];
    if (pipe(pfd) < 0)
        die("pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        bench_pin(IO_CPU);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "bench_disk: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    close(pfd[1]);
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    for (;;) {
        if (len + 4096 > cap)
            text = realloc(text, cap *= 2);
        if (!text)
            die("out of memory");
        ssize_t r = read(pfd[0], text + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    text[len] = '\0';
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    child_pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_disk: fio failed (status %d)\n", st);
        free(text);
        return false;
    }
    /* jobs[0]: "read" : {...}, "write" : {...}, ..., "usr_cpu", "sys_cpu". */
    const char *jobs = strstr(text, "\"jobs\"");
    const char *side = jobs ? find_key(jobs, j->kind == K_SEQWRITE ? "write" : "read") : NULL;
    double iops = num_after(side, "iops"), bw = num_after(side, "bw_bytes");
    const char *clat = side ? find_key(side, "clat_ns") : NULL;
    const char *pct = clat ? find_key(clat, "percentile") : NULL;
    double p99 = num_after(pct, "99.000000"), p50 = num_after(pct, "50.000000");
    /* lat_ns: submission and completion, what sea's figure is (fio's clat starts once the submitting call returned). */
    const char *lat = side ? find_key(side, "lat_ns") : NULL;
    const char *lpct = lat ? find_key(lat, "percentile") : NULL;
    double lat_p99 = num_after(lpct, "99.000000");
    double usr = num_after(jobs, "usr_cpu"), sys = num_after(jobs, "sys_cpu");
    free(text);
    if (isnan(iops) || isnan(bw) || isnan(usr) || isnan(sys) || (j->kind == K_RANDREAD && isnan(p99))) {
        fprintf(stderr, "bench_disk: cannot read fio's JSON\n");
        return false;
    }
    out->ok = 1;
    out->ops_per_s = iops;
    out->bytes_per_s = bw;
    out->p99_us = isnan(p99) ? 0 : p99 / 1e3;
    out->p50_us = isnan(p50) ? 0 : p50 / 1e3;
    out->lat_p99_us = isnan(lat_p99) ? 0 : lat_p99 / 1e3;
    /* usr_cpu and sys_cpu: per cent of the job's run time, so per op: (usr + sys) / 100 / IOPS. */
    out->cpu_us_per_op = iops > 0 ? (usr + sys) / 100.0 / iops * 1e6 : 0;
    return true;
}

/* ---- the test file ---- */

/* The test file; it is written under a temporary name and renamed once whole, so a file found there is complete. */
static void make_file(const char *dir) {
    char final_path[sizeof(file_path)];
    snprintf(final_path, sizeof(final_path), "%s/bench_disk.data", dir);
    snprintf(file_path, sizeof(file_path), "%s", final_path);
    struct stat st;
    if (stat(file_path, &st) == 0 && (uint64_t)st.st_size == file_size && (uint64_t)st.st_blocks * 512 >= file_size) {
        printf("# reusing %s (%.2f GiB)\n", file_path, (double)file_size / (1 << 30));
        file_made = !getenv("SEA_BENCH_DISK_KEEP");
        return;
    }
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < 2 * file_size)
        die("%s: less than twice %llu bytes free", dir, (unsigned long long)file_size);
    snprintf(file_path, sizeof(file_path), "%s/bench_disk.data.partial", dir);
    int fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
    if (fd < 0)
        die("%s: %s (O_DIRECT is needed)", file_path, strerror(errno));
    file_made = true; /* removed if anything fails before the rename */
    if (fallocate(fd, 0, 0, (off_t)file_size) < 0)
        die("fallocate %s: %s", file_path, strerror(errno));
    size_t chunk = 1 << 20;
    void *buf = NULL;
    if (posix_memalign(&buf, 4096, chunk) != 0)
        die("out of memory");
    uint64_t seed = 0xabcdef12345ULL;
    int64_t t0 = bench_ns();
    for (uint64_t off = 0; off < file_size; off += chunk) {
        for (size_t k = 0; k < chunk; k += 8) {
            uint64_t r = rnd(&seed);
            memcpy((char *)buf + k, &r, 8);
        }
        size_t n = file_size - off < chunk ? (size_t)(file_size - off) : chunk;
        if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
            die("write %s: %s", file_path, strerror(errno));
    }
    if (fsync(fd) < 0)
        die("fsync %s: %s", file_path, strerror(errno));
    close(fd);
    free(buf);
    if (rename(file_path, final_path) < 0)
        die("rename %s: %s", file_path, strerror(errno));
    snprintf(file_path, sizeof(file_path), "%s", final_path);
    file_made = !getenv("SEA_BENCH_DISK_KEEP");
    printf("# made %s: %.2f GiB, allocated and written once (%.1f s)\n", file_path, (double)file_size / (1 << 30),
           (double)(bench_ns() - t0) / 1e9);
}

/* ---- figures ---- */

/* CPU 0's busy share during a measurement: someone else's load, since ours waits there. */
static struct bench_series cpu0_load;

static bool measure(const struct job *j, bool fio, struct outcome *o) {
    double b0 = bench_cpu_busy_seconds(MAIN_CPU);
    int64_t t0 = bench_ns();
    bool ok = fio ? run_fio(j, o) : run_sea(j, o);
    double dt = (double)(bench_ns() - t0) / 1e9;
    bench_add(&cpu0_load, (bench_cpu_busy_seconds(MAIN_CPU) - b0) / dt);
    return ok;
}

static void load_note(const char *fig) {
    if (!cpu0_load.n)
        return;
    double m = bench_median(&cpu0_load), x = 0;
    for (int i = 0; i < cpu0_load.n; i++)
        x = cpu0_load.v[i] > x ? cpu0_load.v[i] : x;
    printf("# %s: other load on CPU 0, median (worst) of the measurements: %.0f%% (%.0f%%)%s\n", fig, m * 100, x * 100,
           m > 0.1 ? ": DISTURBED, rerun when quiet" : "");
    cpu0_load.n = 0;
}

static int failures;

static void fig_rw(const char *name, const struct job *j) {
    struct bench_series sea_ops = {0}, fio_ops = {0}, sea_bw = {0}, fio_bw = {0}, sea_p99 = {0}, fio_p99 = {0},
                        sea_p50 = {0}, fio_p50 = {0}, sea_cpu = {0}, fio_cpu = {0}, fio_lp99 = {0};
    bool do_sea = !only_side || strcmp(only_side, "sea") == 0, do_fio = !only_side || strcmp(only_side, "fio") == 0;
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < 2; k++) {
            bool fio = (k + r) % 2 == 1; /* sea first in even rounds, fio first in odd ones */
            if ((fio && !do_fio) || (!fio && !do_sea))
                continue;
            struct outcome o;
            if (!measure(j, fio, &o)) {
                failures++;
                continue;
            }
            bench_add(fio ? &fio_ops : &sea_ops, o.ops_per_s);
            bench_add(fio ? &fio_bw : &sea_bw, o.bytes_per_s / 1e6);
            bench_add(fio ? &fio_p99 : &sea_p99, o.p99_us);
            bench_add(fio ? &fio_p50 : &sea_p50, o.p50_us);
            bench_add(fio ? &fio_cpu : &sea_cpu, o.cpu_us_per_op);
            if (fio)
                bench_add(&fio_lp99, o.lat_p99_us);
        }
    }
    char n[128];
#define LINE(suffix, series, unit) \
    do { \
        if ((series).n) { \
            snprintf(n, sizeof(n), "disk.%s.%s", name, suffix); \
            bench_report(n, &(series), unit); \
        } \
    } while (0)
    if (j->kind == K_RANDREAD) {
        LINE("sea_iops", sea_ops, "IOPS");
        LINE("fio_iops", fio_ops, "IOPS");
        LINE("sea_p99_us", sea_p99, "us");
        LINE("fio_p99_us", fio_p99, "us");     /* clat: from the submitting call's return */
        LINE("fio_lat_p99_us", fio_lp99, "us"); /* lat: from the request's start, as sea's */
        LINE("sea_p50_us", sea_p50, "us");
        LINE("fio_p50_us", fio_p50, "us");
        LINE("sea_cpu_us_per_read", sea_cpu, "us");
        LINE("fio_cpu_us_per_read", fio_cpu, "us");
        if (sea_ops.n && fio_ops.n) {
            snprintf(n, sizeof(n), "disk.%s.ratio_vs_fio", name);
            bench_ratio(n, bench_median(&sea_ops), bench_median(&fio_ops));
        }
    } else {
        LINE("sea_mb_per_s", sea_bw, "MB/s");
        LINE("fio_mb_per_s", fio_bw, "MB/s");
        LINE("sea_cpu_us_per_req", sea_cpu, "us");
        LINE("fio_cpu_us_per_req", fio_cpu, "us");
        if (sea_bw.n && fio_bw.n) {
            snprintf(n, sizeof(n), "disk.%s.ratio_vs_fio", name);
            bench_ratio(n, bench_median(&sea_bw), bench_median(&fio_bw));
        }
    }
#undef LINE
}

static void fig_randread_qd1(void) {
    fig_rw("randread_4k_qd1", &(struct job){.kind = K_RANDREAD, .depth = 1, .bs = 4096});
}
static void fig_randread_qd32(void) {
    fig_rw("randread_4k_qd32", &(struct job){.kind = K_RANDREAD, .depth = 32, .bs = 4096});
}
static void fig_randread_qd128(void) {
    fig_rw("randread_4k_qd128", &(struct job){.kind = K_RANDREAD, .depth = 128, .bs = 4096});
}
static void fig_seqread(void) {
    fig_rw("seqread_1m", &(struct job){.kind = K_SEQREAD, .depth = 4, .bs = 1 << 20});
}
static void fig_seqwrite(void) {
    fig_rw("seqwrite_1m", &(struct job){.kind = K_SEQWRITE, .depth = 4, .bs = 1 << 20});
}

/* The disk model for the sched figure: SEA_BENCH_DISK_IO_PROPERTIES, or sea-iotune run now. */
static bool get_model(void) {
    const char *given = getenv("SEA_BENCH_DISK_IO_PROPERTIES");
    if (given && *given) {
        snprintf(props_path, sizeof(props_path), "%s", given);
    } else {
        static char iotune_default[4200];
        bench_next_to_self(iotune_default, sizeof(iotune_default), "../apps/sea-iotune");
        const char *iotune = getenv("SEA_IOTUNE") ? getenv("SEA_IOTUNE") : iotune_default;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", file_path);
        *strrchr(dir, '/') = '\0';
        snprintf(props_path, sizeof(props_path), "%s/bench_disk.io_properties.yaml", dir);
        printf("# sched: the disk model, from: %s -c1 --cpuset " IO_CPU_TEXT " --duration 1 --evaluation-directory %s "
               "--properties-file %s\n",
               iotune, dir, props_path);
        fflush(stdout);
        int64_t t0 = bench_ns();
        int pfd[2];
        if (pipe(pfd) < 0)
            die("pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            bench_pin(IO_CPU); /* where its shard goes (--cpuset 1), as the measurements' */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            dup2(pfd[1], 1);
            dup2(pfd[1], 2);
            close(pfd[0]);
            close(pfd[1]);
            execl(iotune, iotune, "-c1", "--cpuset", IO_CPU_TEXT, "--duration", "1", "--evaluation-directory", dir,
                  "--properties-file", props_path, (char *)NULL);
            fprintf(stderr, "cannot run %s: %s\n", iotune, strerror(errno));
            _exit(127);
        }
        child_pid = pid;
        close(pfd[1]);
        FILE *p = fdopen(pfd[0], "r");
        char line[1024];
        while (p && fgets(line, sizeof(line), p))
            printf("#   %s", line);
        if (p)
            fclose(p);
        int st = 0;
        waitpid(pid, &st, 0);
        child_pid = 0;
        printf("# (sea-iotune took %.1f s)\n", (double)(bench_ns() - t0) / 1e9);
        props_made = !getenv("SEA_BENCH_DISK_KEEP");
        if (st != 0) {
            fprintf(stderr, "bench_disk: sea-iotune failed (status %d)\n", st);
            return false;
        }
    }
    FILE *f = fopen(props_path, "r");
    if (!f) {
        fprintf(stderr, "bench_disk: %s: %s\n", props_path, strerror(errno));
        return false;
    }
    char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    sea_io_properties p;
    char err[256];
    if (sea_io_properties_parse(text, n, &p, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_disk: %s: %s\n", props_path, err);
        return false;
    }
    printf("# sched: disk model %s: read_iops %.0f, read_bandwidth %.0f MB/s, write_iops %.0f, write_bandwidth "
           "%.0f MB/s\n",
           props_path, p.read_iops, p.read_bandwidth / 1e6, p.write_iops, p.write_bandwidth / 1e6);
    /* The derated model: a rate the device surely keeps up with, although it varies (here by +-8% from one second
     * to the next): then sea's queue, not the kernel's, holds the backlog. */
    p.read_iops *= DERATE;
    p.write_iops *= DERATE;
    p.read_bandwidth *= DERATE;
    p.write_bandwidth *= DERATE;
    snprintf(derated_path, sizeof(derated_path), "%s.derated", props_path);
    int len = sea_io_properties_format(&p, "/", text, sizeof(text));
    f = fopen(derated_path, "w");
    if (!f || len < 0 || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "bench_disk: %s: %s\n", derated_path, strerror(errno));
        return false;
    }
    printf("# sched: the derated model %s: the same figures at %.0f%%\n", derated_path, DERATE * 100);
    return true;
}

static void fig_sched(void) {
    if (only_side && strcmp(only_side, "sea") != 0)
        return;
    bool model = get_model();
    if (!model) {
        printf("# sched: no disk model: with_bulk_model skipped\n");
        failures++;
    }
    enum { NCASES = 4 };
    static const char *const names[NCASES] = {"alone", "with_bulk_nomodel", "with_bulk_model",
                                              "with_bulk_model_derated"};
    struct bench_series p99[NCASES], p50[NCASES], qops[NCASES], bulk[NCASES];
    memset(p99, 0, sizeof(p99));
    memset(p50, 0, sizeof(p50));
    memset(qops, 0, sizeof(qops));
    memset(bulk, 0, sizeof(bulk));
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < NCASES; k++) {
            int c = (k + r) % NCASES; /* the order turns from round to round */
            if (c >= 2 && !model)
                continue;
            struct job j = {.kind = K_SCHED, .depth = 16, .bs = 4096, .with_bulk = c > 0, .model = c >= 2 ? c - 1 : 0};
            struct outcome o;
            if (!measure(&j, false, &o)) {
                failures++;
                continue;
            }
            bench_add(&p99[c], o.p99_us);
            bench_add(&p50[c], o.p50_us);
            bench_add(&qops[c], o.ops_per_s);
            bench_add(&bulk[c], o.bulk_bytes_per_s / 1e6);
        }
    for (int c = 0; c < NCASES; c++) {
        if (!p99[c].n)
            continue;
        printf("# sched.%s, each round: query p99", names[c]);
        for (int i = 0; i < p99[c].n; i++)
            printf(" %.0f", p99[c].v[i]);
        printf(" us; query IOPS");
        for (int i = 0; i < qops[c].n; i++)
            printf(" %.0f", qops[c].v[i]);
        if (c > 0) {
            printf("; bulk MB/s");
            for (int i = 0; i < bulk[c].n; i++)
                printf(" %.0f", bulk[c].v[i]);
        }
        printf("\n");
    }
    char n[128];
#define SCHED_LINES(what, series, unit, from) \
    for (int c = (from); c < NCASES; c++) \
        if ((series)[c].n) { \
            snprintf(n, sizeof(n), "disk.sched.%s.%s", what, names[c]); \
            bench_report(n, &(series)[c], unit); \
        }
    SCHED_LINES("query_p99_us", p99, "us", 0)
    SCHED_LINES("query_p50_us", p50, "us", 0)
    SCHED_LINES("query_iops", qops, "IOPS", 0)
    SCHED_LINES("bulk_mb_per_s", bulk, "MB/s", 1)
#undef SCHED_LINES
    for (int c = 2; c < NCASES; c++)
        if (p99[1].n && p99[c].n)
            printf("# sched: %s takes the query p99 from %.0f to %.0f us (%.3fx), the bulk bandwidth from %.0f to "
                   "%.0f MB/s\n",
                   names[c], bench_median(&p99[1]), bench_median(&p99[c]),
                   bench_median(&p99[c]) / bench_median(&p99[1]), bench_median(&bulk[1]), bench_median(&bulk[c]));
}


/* ---- snapshot: sea-memcached's snapshot save and load against the device's sequential bandwidth ---- */

#define SNAP_ITEMS 1000000
#define SNAP_VALUE 1000

/* sea-memcached next to this program (../apps), or SEA_MEMCACHED. */
static const char *memcached_path(void) {
    static char path[4200];
    if (getenv("SEA_MEMCACHED"))
        return getenv("SEA_MEMCACHED");
    return bench_next_to_self(path, sizeof(path), "../apps/sea-memcached") ? path : "sea-memcached";
}

/* The whole of a log file. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Starts sea-memcached on a free port (read from its log) with its stderr in log; returns its pid, *port. */
static pid_t memcached_start(const char *snapdir, const char *log, int *port) {
    unlink(log); /* not the last run's: the port is read from this one's */
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        bench_pin(IO_CPU);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(126);
        dup2(fd, 2);
        const char *bin = memcached_path();
        execl(bin, bin, "-c1", "--cpuset", IO_CPU_TEXT, "-m", "2G", "-p", "0", "-l", "127.0.0.1", "--snapshot-dir",
              snapdir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 3000; i++) { /* 30 s at most */
        char *text = slurp(log);
        const char *m = text ? strstr(text, "protocols on 127.0.0.1:") : NULL;
        if (m) {
            *port = atoi(m + strlen("protocols on 127.0.0.1:"));
            free(text);
            return pid;
        }
        free(text);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            die("sea-memcached (%s) exited on start; its log is %s", memcached_path(), log);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    die("sea-memcached did not start within 30 s");
}

/* SIGTERM (the orderly stop that saves), then the exit; dies if it is not 0 within 60 s. */
static void memcached_stop(pid_t pid) {
    kill(pid, SIGTERM);
    for (int i = 0; i < 6000; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                die("sea-memcached stopped with status %d", st);
            return;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    die("sea-memcached did not stop within 60 s of SIGTERM");
}

/* SNAP_ITEMS items of SNAP_VALUE bytes, pipelined noreply sets, then a round trip. */
static void memcached_fill(int port) {
    int fd = bench_connect_loopback(port);
    if (fd < 0)
        die("connect to sea-memcached: %s", strerror(errno));
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 2 * SNAP_VALUE);
    char value[SNAP_VALUE];
    memset(value, 'v', sizeof(value));
    for (unsigned i = 0; i < SNAP_ITEMS; i++) {
        len += (size_t)sprintf(buf + len, "set item:%u 0 0 %d noreply\r\n", i, SNAP_VALUE);
        memcpy(buf + len, value, SNAP_VALUE);
        memcpy(buf + len + SNAP_VALUE, "\r\n", 2);
        len += SNAP_VALUE + 2;
        if (len > cap || i + 1 == SNAP_ITEMS) {
            if (i + 1 == SNAP_ITEMS)
                len += (size_t)sprintf(buf + len, "mn\r\n");
            for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, buf + off, len - off);
                if (n <= 0)
                    die("write to sea-memcached: %s", strerror(errno));
                off += (size_t)n;
            }
            len = 0;
        }
    }
    char ans[16];
    ssize_t n = read(fd, ans, sizeof(ans));
    if (n < 4 || memcmp(ans, "MN\r\n", 4) != 0)
        die("sea-memcached did not answer the fill with MN");
    free(buf);
    close(fd);
}

/* The MB/s a snapshot log line reports after `what` ("saved", "read"), and the MB. */
static double log_rate(const char *log, const char *what, double *mb) {
    char *text = slurp(log);
    const char *p = text ? strstr(text, what) : NULL;
    double rate = 0;
    *mb = 0;
    if (p) {
        const char *open = strchr(p, '(');
        const char *comma = strstr(p, " MB");
        if (strcmp(what, "saved ") == 0 && open)
            *mb = atof(open + 1);
        else if (comma) {
            const char *q = comma;
            while (q > p && (isdigit((unsigned char)q[-1]) || q[-1] == '.'))
                q--;
            *mb = atof(q);
        }
        const char *in = strstr(p, " in ");
        const char *r = in ? strstr(in, " s (") : NULL;
        if (r)
            rate = atof(r + 4);
    }
    free(text);
    return rate;
}

static void fig_snapshot(void) {
    char dir[4096], snapdir[4200], log[4300];
    snprintf(dir, sizeof(dir), "%s", file_path);
    *strrchr(dir, '/') = '\0';
    snprintf(snapdir, sizeof(snapdir), "%s/bench_disk.snapshot", dir);
    snprintf(log, sizeof(log), "%s/bench_disk.snapshot.log", dir);
    struct bench_series save = {0}, load = {0}, fio_w = {0}, fio_r = {0}, mb = {0};
    const struct job wj = {.kind = K_SEQWRITE, .depth = 4, .bs = 1 << 20};
    const struct job rj = {.kind = K_SEQREAD, .depth = 4, .bs = 1 << 20};
    printf("# snapshot: sea-memcached -c1 --cpuset " IO_CPU_TEXT " -m 2G --snapshot-dir %s, %d items of %d bytes; "
           "the save and load rates its log reports, against fio's 1 MiB sequential writes and reads at depth 4\n",
           snapdir, SNAP_ITEMS, SNAP_VALUE);
    fflush(stdout);
    for (int r = 0; r < runs; r++) {
        char cmd[8700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", snapdir);
        if (system(cmd) != 0)
            die("cannot clear %s", snapdir);
        int port;
        pid_t pid = memcached_start(snapdir, log, &port);
        memcached_fill(port);
        memcached_stop(pid);
        double m;
        double sv = log_rate(log, "saved ", &m);
        pid = memcached_start(snapdir, log, &port);
        memcached_stop(pid);
        double m2;
        double ld = log_rate(log, " read 1 file(s)", &m2);
        if (sv <= 0 || ld <= 0)
            die("no save or load rate in sea-memcached's log (%s)", log);
        bench_add(&save, sv);
        bench_add(&load, ld);
        bench_add(&mb, m);
        struct outcome o;
        if (!only_side || strcmp(only_side, "fio") == 0) {
            if (measure(&wj, true, &o))
                bench_add(&fio_w, o.bytes_per_s / 1e6);
            if (measure(&rj, true, &o))
                bench_add(&fio_r, o.bytes_per_s / 1e6);
        }
    }
    char cmd[8700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", snapdir, log);
    if (system(cmd) != 0)
        printf("# snapshot: could not remove %s\n", snapdir);
    bench_report("disk.snapshot.size_mb", &mb, "MB");
    bench_report("disk.snapshot.save_mb_per_s", &save, "MB/s");
    bench_report("disk.snapshot.load_mb_per_s", &load, "MB/s");
    if (fio_w.n && fio_r.n) {
        bench_report("disk.snapshot.fio_seqwrite_mb_per_s", &fio_w, "MB/s");
        bench_report("disk.snapshot.fio_seqread_mb_per_s", &fio_r, "MB/s");
        bench_ratio("disk.snapshot.save.ratio_vs_seqwrite", bench_median(&save), bench_median(&fio_w));
        bench_ratio("disk.snapshot.load.ratio_vs_seqread", bench_median(&load), bench_median(&fio_r));
    }
}

static const struct bench_figure figures[] = {
    {"randread_4k_qd1", fig_randread_qd1},
    {"randread_4k_qd32", fig_randread_qd32},
    {"randread_4k_qd128", fig_randread_qd128},
    {"seqread_1m", fig_seqread},
    {"seqwrite_1m", fig_seqwrite},
    {"sched", fig_sched},
    {"snapshot", fig_snapshot},
};

static uint64_t parse_size(const char *s) {
    char *e;
    double v = strtod(s, &e);
    switch (*e) {
    case 'k': case 'K': v *= 1024; break;
    case 'm': case 'M': v *= 1 << 20; break;
    case 'g': case 'G': v *= 1 << 30; break;
    default: break;
    }
    return (uint64_t)v;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s [seconds per round, default 2.5] [figure] [sea|fio]\nfigures:", argv[0]);
        for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
            printf(" %s", figures[i].name);
        printf("\n");
        return 0;
    }
    secs = bench_seconds_arg(argc, argv, 2.5);
    const char *only_fig = argc > 2 ? argv[2] : NULL;
    only_side = argc > 3 ? argv[3] : NULL;
    if (only_side && strcmp(only_side, "sea") != 0 && strcmp(only_side, "fio") != 0) {
        fprintf(stderr, "bench_disk: the third argument is sea or fio, not %s\n", only_side);
        return 2;
    }
    if (only_fig && !bench_figure_known(figures, sizeof(figures) / sizeof(figures[0]), only_fig)) {
        fprintf(stderr, "bench_disk: unknown figure %s (--help lists them)\n", only_fig);
        return 2;
    }
    runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    if (getenv("FIO"))
        fio_path = getenv("FIO");
    if (getenv("SEA_BENCH_DISK_SIZE"))
        file_size = parse_size(getenv("SEA_BENCH_DISK_SIZE")) & ~(uint64_t)((1 << 20) - 1);
    if (file_size < (16u << 20))
        file_size = 16u << 20;
    const char *dir = getenv("SEA_BENCH_DISK_DIR") ? getenv("SEA_BENCH_DISK_DIR") : "/var/tmp";
    bool need_fio = !only_side || strcmp(only_side, "fio") == 0;
    if (need_fio && (!only_fig || strcmp(only_fig, "sched") != 0)) {
        char cmd[4300];
        snprintf(cmd, sizeof(cmd), "'%s' --version >/dev/null 2>&1", fio_path);
        if (system(cmd) != 0) {
            printf("# bench_disk: no fio at %s (apt-get install fio): skipped\n", fio_path);
            return 0;
        }
    }
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    bench_pin(MAIN_CPU);
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        printf("# fewer than 2 CPUs: this process and the measured one share a CPU; numbers are indicative\n");
    make_file(dir);
    printf("# bench_disk: sea (one shard, --cpuset 1) and fio (io_uring, --cpus_allowed=1) on %s; medians of %d "
           "rounds of %.1f s (after %.1f s of warm-up each), sea and fio interleaved\n",
           file_path, runs, secs, WARM_S);
    fflush(stdout);
    bench_run_figures(figures, sizeof(figures) / sizeof(figures[0]), only_fig, load_note);
    if (file_made)
        unlink(file_path);
    if (props_made)
        unlink(props_path);
    if (derated_path[0] && !getenv("SEA_BENCH_DISK_KEEP"))
        unlink(derated_path);
    if (failures) {
        fprintf(stderr, "bench_disk: %d measurements failed (see above)\n", failures);
        return 1;
    }
    return 0;
}
