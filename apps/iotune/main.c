/*
 * sea-iotune - measures the disk that holds a directory and writes the
 * disk model sea's I/O scheduler reads (--io-properties-file), in
 * Seastar's YAML layout:
 *
 *     sea-iotune --evaluation-directory DIR --properties-file OUT [--duration S] [--file-size SIZE]
 *     sea-iotune --io-properties-file OUT --show-model     # what sea reads back from OUT
 *
 * In DIR it makes a scratch file (--file-size, 1 GiB by default, at most a
 * quarter of the free space), allocates it and writes it once from end to
 * end (so that reads hit real blocks rather than unwritten extents, which
 * the file system answers with zeros without asking the device), then
 * measures, each for --duration seconds after a short warm-up, with the
 * file opened O_DIRECT (sea's default):
 *
 *   - sequential 1 MiB writes and reads with 4 requests in flight: the
 *     write_bandwidth and read_bandwidth, in bytes per second;
 *   - 4 KiB random reads, then writes, at depths 1, 2, 4, ... 256, stopping
 *     where the latency rises without the IOPS following: at the second
 *     depth in a row whose IOPS are less than 5% above the best so far
 *     while its mean latency grew (one such depth alone may be noise).  The
 *     device is saturated there, and more depth only queues.  read_iops and
 *     write_iops are the most IOPS seen up to there.
 *
 * It prints every measurement, writes OUT with sea_io_properties_format
 * (the mount point of DIR as the disk's mountpoint) and prints the file.
 * The scratch file is removed at the end.  All of it runs on one shard
 * through sea_file_read / sea_file_write, as an application would, with
 * --io-max-requests raised to 256 (the deepest depth) unless given; a disk
 * model (--io-properties-file) would throttle what is measured, so it is
 * refused except with --show-model.
 *
 * The default run (--duration 2) takes 25 to 45 s, most of it the random
 * depth sweeps.  Exit status: 0, 1 if a measurement or a file call failed,
 * 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <sea/sea.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sea_option iotune_opts[] = {
    {.name = "evaluation-directory", .type = SEA_OPTION_STRING,
     .help = "a directory on the disk to measure (a scratch file is made there and removed)"},
    {.name = "properties-file", .type = SEA_OPTION_STRING,
     .help = "where to write the disk model (YAML, for --io-properties-file); without it, only printed"},
    {.name = "duration", .type = SEA_OPTION_DOUBLE, .default_value = "2",
     .help = "seconds per measurement (0.05..600)", .min = 0.05, .max = 600},
    {.name = "file-size", .type = SEA_OPTION_SIZE, .default_value = "1G",
     .help = "size of the scratch file (at most a quarter of the free space is used)", .min = 16 << 20,
     .max = 0x7fffffffffffffffLL},
    {.name = "show-model", .type = SEA_OPTION_FLAG,
     .help = "print the disk model sea loaded from --io-properties-file, and exit"},
};

/* ---- one measurement: `depth` requests kept in flight for a while ---- */

struct load {
    sea_file *f;
    bool write, random;
    size_t bs;
    uint64_t range;     /* requests fall in [0, range) */
    uint64_t cursor;    /* sequential: the next offset */
    bool once;          /* sequential: stop after one pass over the range (the fill) */
    uint64_t rng;
    bool measuring;     /* completions count */
    bool stopping;      /* no new requests */
    uint64_t ops, bytes, lat_ns;
};

struct slot {
    struct load *l;
    void *buf;
    sea_time t0;
};

static uint64_t next_random(uint64_t *s) {
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static sea_future slot_done(struct slot **sp, sea_value v) {
    struct slot *s = *sp;
    struct load *l = s->l;
    if (v.size != l->bs)
        return sea_failed_fmt(-EIO, "%s of %zu bytes moved %zu", l->write ? "write" : "read", l->bs, v.size);
    if (l->measuring) {
        l->ops++;
        l->bytes += v.size;
        l->lat_ns += (uint64_t)(sea_now() - s->t0);
    }
    return sea_continue();
}

static sea_future slot_step(struct slot **sp) {
    struct slot *s = *sp;
    struct load *l = s->l;
    if (l->stopping)
        return sea_stop();
    uint64_t pos;
    if (l->random) {
        pos = next_random(&l->rng) % (l->range / l->bs) * l->bs;
    } else {
        if (l->cursor + l->bs > l->range) {
            if (l->once) {
                l->stopping = true;
                return sea_stop();
            }
            l->cursor = 0;
        }
        pos = l->cursor;
        l->cursor += l->bs;
    }
    s->t0 = sea_now();
    sea_future f = l->write ? sea_file_write(l->f, pos, s->buf, l->bs) : sea_file_read(l->f, pos, s->buf, l->bs);
    return sea_then(f, slot_done, s);
}

struct slots {
    struct slot *v;
};

static sea_future slot_start(struct slots *ss, int64_t i) {
    return sea_repeat(slot_step, &ss->v[i]);
}

struct result {
    double iops, bytes_per_s, mean_lat_us;
};

/* In the fiber: runs l with depth requests in flight; warm seconds unmeasured, then secs measured (secs 0: until a
 * `once` pass ends). */
static sea_future measure(struct load *l, int depth, double warm, double secs, struct result *out) {
    struct slot *slots = calloc((size_t)depth, sizeof(*slots));
    if (!slots)
        return sea_failed(-ENOMEM, "out of memory");
    size_t align = sea_file_memory_alignment(l->f);
    for (int i = 0; i < depth; i++) {
        slots[i].l = l;
        slots[i].buf = sea_dma_alloc(align, l->bs);
        if (!slots[i].buf) {
            for (int k = 0; k < i; k++)
                sea_dma_free(slots[k].buf);
            free(slots);
            return sea_failed(-ENOMEM, "out of memory");
        }
        /* Something the device cannot compress or skip: every byte differs from the next. */
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
        for (size_t k = 0; k + 8 <= l->bs; k += 8) {
            uint64_t r = next_random(&seed);
            memcpy((char *)slots[i].buf + k, &r, 8);
        }
    }
    l->ops = l->bytes = l->lat_ns = 0;
    l->measuring = secs == 0;
    l->stopping = false;
    sea_time t0 = sea_now(), t1 = 0;
    sea_future all = sea_parallel_for_each(0, depth, slot_start, (struct slots){slots});
    sea_future err = sea_ready();
    if (secs > 0) {
        err = sea_await(sea_sleep((sea_time)(warm * 1e9)));
        l->measuring = true;
        t0 = sea_now();
        if (!sea_future_failed(&err))
            err = sea_await(sea_sleep((sea_time)(secs * 1e9)));
        l->measuring = false;
        t1 = sea_now();
        l->stopping = true;
    }
    sea_future done = sea_await(all); /* every slot ends: their buffers can go */
    if (secs == 0)
        t1 = sea_now();
    for (int i = 0; i < depth; i++)
        sea_dma_free(slots[i].buf);
    free(slots);
    if (sea_future_failed(&done)) {
        sea_future_ignore(err);
        return done;
    }
    sea_future_ignore(done);
    if (sea_future_failed(&err))
        return err;
    sea_future_ignore(err);
    double elapsed = (double)(t1 - t0) / 1e9;
    out->iops = elapsed > 0 ? (double)l->ops / elapsed : 0;
    out->bytes_per_s = elapsed > 0 ? (double)l->bytes / elapsed : 0;
    out->mean_lat_us = l->ops ? (double)l->lat_ns / (double)l->ops / 1e3 : 0;
    return sea_ready();
}

/* ---- the tool ---- */

/* The mount point holding the real path dir (from /proc/self/mountinfo; "/" if unknown), and its source. */
static void mount_of(const char *dir, char *mnt, size_t mlen, char *src, size_t slen) {
    snprintf(mnt, mlen, "/");
    snprintf(src, slen, "?");
    FILE *fp = fopen("/proc/self/mountinfo", "r");
    if (!fp)
        return;
    char line[4096];
    size_t best = 0;
    while (fgets(line, sizeof(line), fp)) {
        /* id parent major:minor root MOUNTPOINT options... - fstype SOURCE superoptions */
        char point[PATH_MAX], source[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
            continue;
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(dash + 3, "%*s %4095s", source) != 1)
            snprintf(source, sizeof(source), "?");
        size_t n = strlen(point);
        bool inside = strcmp(point, "/") == 0 ||
                      (strncmp(dir, point, n) == 0 && (dir[n] == '/' || dir[n] == '\0'));
        if (inside && n >= best) {
            best = n;
            snprintf(mnt, mlen, "%s", point);
            snprintf(src, slen, "%s", source);
        }
    }
    fclose(fp);
}

static sea_future show_model(void) {
    sea_io_properties p;
    if (sea_io_properties_get(&p) != 0)
        return sea_failed(-EINVAL, "--show-model: no --io-properties-file was given");
    printf("read_iops: %.17g\nread_bandwidth: %.17g\nwrite_iops: %.17g\nwrite_bandwidth: %.17g\n", p.read_iops,
           p.read_bandwidth, p.write_iops, p.write_bandwidth);
    return sea_ready();
}

/*
 * The random sweep at depths 1, 2, 4, ... 256 for reads or writes: the most IOPS seen up to the knee, the depth
 * where the latency rises without the IOPS following.  A depth whose IOPS are under 5% above the best so far while
 * its mean latency grew is flat; two flat depths in a row end the sweep (one alone may be noise: a device that is
 * shared, or one that takes a while to reach its next step).
 */
static sea_future sweep(struct load *l, double warm, double secs, double *best_iops) {
    struct result prev = {0, 0, 0};
    *best_iops = 0;
    int knee = 0, flat = 0, best_depth = 0;
    for (int depth = 1; depth <= 256; depth *= 2) {
        struct result r;
        l->random = true;
        SEA_AWAIT(measure(l, depth, warm, secs, &r));
        printf("  random %s 4 KiB, depth %3d: %9.0f IOPS, mean latency %8.1f us\n", l->write ? "write" : "read ",
               depth, r.iops, r.mean_lat_us);
        fflush(stdout);
        bool is_flat = depth > 1 && r.iops < *best_iops * 1.05 && r.mean_lat_us > prev.mean_lat_us;
        flat = is_flat ? flat + 1 : 0;
        if (r.iops > *best_iops) {
            *best_iops = r.iops;
            best_depth = depth;
        }
        prev = r;
        if (flat == 2) {
            knee = depth;
            break;
        }
    }
    if (knee)
        printf("  random %s: %.0f IOPS, at depth %d (up to depth %d the IOPS grew by under 5%% while the latency "
               "grew)\n",
               l->write ? "write" : "read", *best_iops, best_depth, knee);
    else
        printf("  random %s: %.0f IOPS, at depth %d (no knee up to depth 256)\n", l->write ? "write" : "read",
               *best_iops, best_depth);
    return sea_ready();
}

struct scratch {
    char path[PATH_MAX + 64];
    sea_file *f;
};

static sea_future tune(struct scratch *sc) {
    const char *dir = sea_option_string("evaluation-directory");
    const char *out = sea_option_string("properties-file");
    double secs = sea_option_double("duration");
    uint64_t want = sea_option_size("file-size");
    if (!dir || !*dir)
        return sea_failed(-EINVAL, "--evaluation-directory DIR is required");
    sea_io_properties model;
    if (sea_io_properties_get(&model) == 0)
        return sea_failed(-EINVAL, "a disk model (--io-properties-file) would throttle the measurements: leave it out");
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return sea_failed_fmt(-errno, "--evaluation-directory %s: %s", dir, strerror(errno));
    char mnt[PATH_MAX], src[PATH_MAX];
    mount_of(real, mnt, sizeof(mnt), src, sizeof(src));

    struct statvfs vfs;
    SEA_AWAIT(sea_fs_space(real, &vfs));
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    uint64_t size = want < avail / 4 ? want : avail / 4;
    size &= ~(uint64_t)((1 << 20) - 1);
    if (size < (16u << 20))
        return sea_failed_fmt(-ENOSPC, "%s: %llu bytes free, too few for a 16 MiB scratch file", real,
                              (unsigned long long)avail);

    char path[sizeof(sc->path)];
    snprintf(path, sizeof(path), "%s/.sea-iotune-%d.tmp", real, (int)getpid());
    sc->f = SEA_AWAIT(sea_file_open(path, O_RDWR | O_CREAT | O_EXCL, NULL)).ptr;
    memcpy(sc->path, path, sizeof(path)); /* ours now: removed at the end */
    sea_file *f = sc->f;
    printf("sea-iotune: %s (mount point %s, %s), a %.2f GiB scratch file, %.2f s per measurement%s\n", real, mnt, src,
           (double)size / (1 << 30), secs, sea_file_is_direct(f) ? "" : "; O_DIRECT refused: through the page cache");
    fflush(stdout);
    sea_future a = sea_await(sea_file_allocate(f, 0, size));
    if (sea_future_failed(&a) && sea_future_error(&a) != -EOPNOTSUPP)
        return a;
    sea_future_ignore(a);

    double warm = secs / 10 < 0.2 ? secs / 10 : 0.2;
    struct load l = {.f = f, .bs = 1 << 20, .range = size, .rng = 0x853c49e6748fea9bULL ^ (uint64_t)sea_now()};
    struct result fill, sw, sr;
    /* The fill: every block written once, so that later reads and writes meet real, allocated blocks. */
    l.write = true;
    l.once = true;
    SEA_AWAIT(measure(&l, 4, 0, 0, &fill));
    printf("  filled the file at %.0f MB/s\n", fill.bytes_per_s / 1e6);
    l.once = false;
    l.cursor = 0;
    SEA_AWAIT(measure(&l, 4, warm, secs, &sw));
    printf("  sequential write 1 MiB, depth 4: %9.1f MB/s\n", sw.bytes_per_s / 1e6);
    fflush(stdout);
    l.write = false;
    l.cursor = 0;
    SEA_AWAIT(measure(&l, 4, warm, secs, &sr));
    printf("  sequential read  1 MiB, depth 4: %9.1f MB/s\n", sr.bytes_per_s / 1e6);
    fflush(stdout);

    double riops, wiops;
    l.bs = 4096;
    l.write = false;
    SEA_AWAIT(sweep(&l, warm, secs, &riops));
    l.write = true;
    SEA_AWAIT(sweep(&l, warm, secs, &wiops));

    sea_io_properties p = {
        .read_iops = riops, .write_iops = wiops, .read_bandwidth = sr.bytes_per_s, .write_bandwidth = sw.bytes_per_s};
    if (!(p.read_iops > 0 && p.write_iops > 0 && p.read_bandwidth > 0 && p.write_bandwidth > 0))
        return sea_failed(-EIO, "a measurement saw no completed request: no model written");
    char text[PATH_MAX + 256];
    int n = sea_io_properties_format(&p, mnt, text, sizeof(text));
    if (n < 0 || (size_t)n >= sizeof(text))
        return sea_failed(-EINVAL, "the model does not fit its buffer");
    if (out && *out) {
        FILE *fp = fopen(out, "w");
        if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
            return sea_failed_fmt(-errno, "--properties-file %s: %s", out, strerror(errno));
        printf("wrote %s:\n", out);
    }
    fputs(text, stdout);
    return sea_ready();
}

static sea_future cleanup(struct scratch *sc) {
    /* The scratch file goes whatever happened. */
    if (sc->f) {
        sea_future c = sea_await(sea_file_close(sc->f));
        sea_future_ignore(c);
        sc->f = NULL;
    }
    if (sc->path[0]) {
        sea_future r = sea_await(sea_path_remove(sc->path));
        sea_future_ignore(r);
    }
    return sea_ready();
}

static sea_future iotune_main(void) {
    if (sea_option_flag("show-model"))
        return show_model();
    struct scratch sc = {.path = "", .f = NULL};
    sea_future r = sea_await(tune(&sc));
    sea_future c = sea_await(cleanup(&sc));
    sea_future_ignore(c);
    return sea_future_move(&r);
}

int main(int argc, char **argv) {
    if (sea_app_add_options(iotune_opts, SEA_OPTION_COUNT(iotune_opts)) != 0)
        return 2;
    /* The deepest depth measured is 256: room for it at the device, unless the command line says otherwise. */
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    if (!args)
        return 1;
    args[0] = argv[0];
    args[1] = "--io-max-requests=256";
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    int rc = sea_app_run_fiber(argc + 1, args, iotune_main);
    free(args);
    return rc;
}
