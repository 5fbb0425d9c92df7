/*
 * test_file.c - files, paths, directories, file streams and the I/O
 * scheduler (sea/file.h, sea/io_sched.h):
 *
 *     test_file FILE_HELPER_PATH NO_IO_SETUP_PATH [harness options...]
 *
 * Everything happens in a fresh directory made with mkdtemp under /var/tmp
 * (a disk file system that takes O_DIRECT), removed at the end.  What needs
 * a process of its own runs file_helper (tests/programs/file_helper.c).
 *
 * Reads and writes: 300 random operations (fixed seed) on a direct file,
 * aligned, and 300 on a buffered one, at any offset and length and from any
 * buffer address, each checked against a model of the file and against
 * pread/pwrite on a second descriptor: reads, writes, readv and writev, and
 * writes made beside sea; short reads at the end of the file (fewer bytes,
 * 0 past the end); 64 writes to disjoint blocks in flight at once, then 64
 * reads together with 64 more writes; O_APPEND.  Errors: ENOENT, EISDIR,
 * EEXIST, ENOTDIR, EINVAL on open (messages naming the path); EACCES for
 * another user (file_helper drops to uid 65534 when the test runs as root,
 * who passes every permission check); ENOSPC on a 256 KiB tmpfs mounted in
 * a private mount namespace (a forked child mounts it and runs file_helper
 * there; skipped with a note when it cannot mount), for a write and for a
 * file stream's close; a file system that refuses O_DIRECT (ramfs, mounted
 * the same way): the page cache instead, logged once, O_CREAT | O_EXCL
 * still creating the file; reading a write-only file and writing a
 * read-only one (EBADF, path and offset in the message); a file unlinked
 * while open (reads and writes go on); misaligned buffer, offset and length
 * on a direct file refused at once with -EINVAL and a message naming
 * O_DIRECT (nothing reaches the device); requests after sea_file_close fail
 * with SEA_ESHUTDOWN, and the close waits for the request in flight;
 * listing a missing directory fails with ENOENT.  Metadata: size, stat,
 * truncate (shrinking and growing), allocate, flush.  Paths: sea_dir_make,
 * sea_file_exists, sea_path_stat (and lstat), sea_path_rename (then
 * sea_dir_sync), sea_path_link, sea_path_remove (a file, an empty
 * directory, not a full one), sea_fs_space; a directory of 1,000 files
 * listed through sea_dir_open/sea_dir_next (each name once, no "." or "..",
 * types), a second sea_dir_next while one is pending.  File streams: an
 * input stream from an unaligned position (4 KiB buffers, 3 ahead) equals
 * the file; an output stream of 1,000,003 bytes in odd-sized pieces gives a
 * file of exactly that size and content, also at an aligned position after
 * bytes that stay, and over a longer file; a file copied to a socket and a
 * socket to a file by the same copy loop; streams whose reads or writes fail
 * (the error passed on once, nothing reported as ignored); streams on the
 * epoll backend when Linux AIO is refused (direct requests then complete
 * inside the call).  Each shard works on a file of its own at the same time
 * (two shards in the .c2 runs).  The scheduler: classes (names, shares, the
 * table's limit), a class's counts (ops, bytes, latency, cost) and its
 * series in the Prometheus text; with --io-max-requests=1 (in file_helper:
 * the option is process-wide), 200 reads in a class of 1000 shares and 200
 * in one of 100, queued at once, complete 10 to 1 (in the order the fair
 * queue picks, no clocks), then about 1 to 1 once the shares are equal; a
 * disk model loaded with --io-properties-file (with it, a write and a read
 * of over 1 MiB go in 128 KiB pieces and come back whole, the read short by
 * what lies past the end, and a failed piece fails the request), and a bad
 * model refused naming its line.  sea_io_properties_parse: a valid file, comments, CRLF, a second
 * disk, missing fields, bad numbers, garbage (-EINVAL naming the line);
 * format round-trips through parse; 20,000 random mutations of a valid text
 * (rc 0 or -EINVAL, an error that fits its buffer).  (The repository has no
 * libFuzzer harnesses; its fuzzers are in-process cases with fixed seeds,
 * as this one.)  Shutdown: main returns with reads, writes, a flush, stats,
 * a listing, an open, a stream's read-ahead and two closes in flight, and a
 * stop with loops of requests running: the process exits with 0, no
 * descriptor left open, no leak under ASan, no failure reported as ignored.
 */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *helper_path;
static const char *no_io_setup_path; /* tests/support/seccomp_block.c, refusing io_setup (Linux AIO) */
static char tmpdir[128];

/* tmpdir/name into buf (PATH_MAX bytes). */
static char *tpath(char *buf, const char *name) {
    snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name);
    return buf;
}

/*
 * In a fiber: awaits f and returns its error (0 on success), its message
 * copied into msg (empty if none) and its value into *v (if v is not NULL).
 */
static int await_msg(sea_future f, sea_value *v, char *msg, size_t len) {
    sea_future r = sea_await(f);
    int err = 0;
    msg[0] = '\0';
    if (sea_future_failed(&r)) {
        err = sea_future_error(&r);
        const char *m = sea_future_message(&r);
        snprintf(msg, len, "%s", m ? m : "");
    } else if (v) {
        *v = sea_future_value(&r);
    }
    sea_future_detach(r);
    return err;
}

/* In a fiber: opens tmpdir/name; NULL (a failed CHECK) if it cannot. */
static sea_file *open_file(const char *name, int flags, bool buffered) {
    char p[PATH_MAX], msg[256];
    sea_value v;
    sea_file_options o = {.buffered = buffered};
    int err = await_msg(sea_file_open(tpath(p, name), flags, &o), &v, msg, sizeof(msg));
    if (err)
        fprintf(stderr, "  open %s: %s\n", p, msg);
    CHECK_EQ(err, 0);
    return err ? NULL : v.ptr;
}

static void close_file(sea_file *f) {
    if (f)
        CHECK_EQ(sea_test_await_err(sea_file_close(f), NULL), 0);
}

/* The larger of a direct file's read and write alignments (1 if buffered). */
static size_t io_align(const sea_file *f) {
    size_t r = sea_file_read_alignment(f), w = sea_file_write_alignment(f);
    return r > w ? r : w;
}

static void fill_random(unsigned char *p, size_t n, uint64_t *rng) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(sea_test_rand(rng) >> 56);
}

/* Writes len bytes of data at 0 of tmpdir/name with plain system calls (creating it). */
static void write_plain(const char *name, const void *data, size_t len) {
    char p[PATH_MAX];
    int fd = open(tpath(p, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(pwrite(fd, data, len, 0), (long long)len);
    close(fd);
}

/* The whole of tmpdir/name, read with plain system calls (malloc'ed; *len its size). */
static unsigned char *read_plain(const char *name, size_t *len) {
    char p[PATH_MAX];
    *len = 0;
    int fd = open(tpath(p, name), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    unsigned char *b = malloc((size_t)st.st_size + 1);
    CHECK_EQ(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return b;
}

/* The helper's command line: MODE PATH, the backend, this run's shard count, extra options. */
static int run_helper(const char *mode, const char *path, const char *extra, struct sea_test_child *c) {
    char backend[64], shards[16];
    char *argv[10];
    int n = 0;
    argv[n++] = (char *)helper_path;
    argv[n++] = (char *)mode;
    argv[n++] = (char *)path;
    if (sea_test_backend_arg) {
        snprintf(backend, sizeof(backend), "--reactor-backend=%s", sea_test_backend_arg);
        argv[n++] = backend;
    }
    snprintf(shards, sizeof(shards), "-c%u", sea_shard_count());
    argv[n++] = shards;
    argv[n++] = "--blocked-reactor-notify-ms=0";
    if (extra)
        argv[n++] = (char *)extra;
    argv[n] = NULL;
    return sea_test_exec(argv, c);
}

static void report_child(const char *what, const struct sea_test_child *c) {
    fprintf(stderr, "  %s: status %d\n  --- stdout:\n%s  --- stderr:\n%s", what, c->status, c->out, c->err);
}

/* ---- opening ---- */

FIBER_CASE(t_open_properties) {
    sea_file *f = open_file("props", O_RDWR | O_CREAT, false);
    if (!f)
        return sea_ready();
    /* ext4 (the root file system here) takes O_DIRECT. */
    CHECK(sea_file_is_direct(f));
    size_t m = sea_file_memory_alignment(f), r = sea_file_read_alignment(f), w = sea_file_write_alignment(f);
    CHECK(m >= 1 && (m & (m - 1)) == 0);
    CHECK(r >= 512 && (r & (r - 1)) == 0);
    CHECK(w >= r && w % r == 0);
    CHECK(sea_file_max_request(f) >= 4096);
    int fd = sea_file_fd(f);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFL) & O_DIRECT);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close_file(f);
    /* Buffered: the page cache, any alignment. */
    sea_file *b = open_file("props", O_RDONLY, true);
    if (!b)
        return sea_ready();
    CHECK(!sea_file_is_direct(b));
    CHECK_EQ(sea_file_memory_alignment(b), 1);
    CHECK_EQ(sea_file_read_alignment(b), 1);
    CHECK_EQ(sea_file_write_alignment(b), 1);
    CHECK(!(fcntl(sea_file_fd(b), F_GETFL) & O_DIRECT));
    close_file(b);
    /* The permission bits of a new file: opts->mode, 0644 by default (less the umask). */
    mode_t mask = umask(022);
    umask(mask);
    char p[PATH_MAX];
    sea_value v;
    sea_file_options o = {.mode = 0600};
    CHECK_EQ(sea_test_await_err(sea_file_open(tpath(p, "mode0600"), O_RDWR | O_CREAT, &o), &v), 0);
    struct stat st;
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600 & ~mask);
    close_file(v.ptr);
    sea_file *d = open_file("mode0644", O_RDWR | O_CREAT, false);
    CHECK_EQ(stat(tpath(p, "mode0644"), &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0644 & ~mask);
    close_file(d);
    /* A dropped open closes its file (no leak under ASan). */
    sea_future_detach(sea_file_open(tpath(p, "props"), O_RDONLY, NULL));
    return sea_ready();
}

/* The page cache of a buffered file (sea_file_cached, sea_file_prefetch), and opening beneath a directory. */
FIBER_CASE(t_page_cache_and_beneath) {
    static unsigned char data[300 * 1000];
    uint64_t rng = 7;
    fill_random(data, sizeof(data), &rng);
    write_plain("pc", data, sizeof(data));
    sea_file *f = open_file("pc", O_RDONLY, true);
    if (!f)
        return sea_ready();
    int c = sea_file_cached(f, 0, sizeof(data));
    CHECK(c == 0 || c == 1);
    CHECK_EQ(sea_test_await_err(sea_file_prefetch(f, 0, sizeof(data)), NULL), 0);
    CHECK_EQ(sea_file_cached(f, 0, sizeof(data)), 1);
    CHECK_EQ(sea_file_cached(f, 12345, 0), 1);
    close_file(f);
    sea_file *d = open_file("pc", O_RDONLY, false);
    if (d && sea_file_read_alignment(d) > 1) { /* a direct file: no page cache to ask about */
        CHECK_EQ(sea_file_cached(d, 0, 4096), -EINVAL);
        CHECK_EQ(sea_test_await_err(sea_file_prefetch(d, 0, 4096), NULL), -EINVAL);
    }
    close_file(d);
    /* beneath: inside is fine; "..", an absolute link and a link leading out are -EXDEV */
    char dir[PATH_MAX], p[PATH_MAX];
    tpath(dir, "jail");
    CHECK_EQ(mkdir(dir, 0755), 0);
    write_plain("jail/in", "x", 1);
    CHECK_EQ(symlink(tpath(p, "pc"), tpath(dir, "jail/abs")) == 0 ? 0 : -errno, 0);
    CHECK_EQ(symlink("../pc", tpath(dir, "jail/rel")) == 0 ? 0 : -errno, 0);
    CHECK_EQ(symlink("in", tpath(dir, "jail/ok")) == 0 ? 0 : -errno, 0);
    tpath(dir, "jail");
    static const struct {
        const char *name;
        int err;
    } cases[] = {{"in", 0}, {"ok", 0}, {"../pc", -EXDEV}, {"abs", -EXDEV}, {"rel", -EXDEV}, {"/etc/passwd", -EXDEV},
                 {"missing", -ENOENT}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sea_value v;
        char msg[256];
        int err = await_msg(sea_file_open(cases[i].name, O_RDONLY, &(sea_file_options){.beneath = dir}), &v, msg,
                            sizeof(msg));
        if (err != cases[i].err)
            fprintf(stderr, "  open %s beneath %s: %d (%s), expected %d\n", cases[i].name, dir, err, msg,
                    cases[i].err);
        CHECK_EQ(err, cases[i].err);
        if (!err)
            close_file(v.ptr);
    }
    return sea_ready();
}

FIBER_CASE(t_open_errors) {
    char p[PATH_MAX], msg[256];
    sea_value v;
    /* Missing: ENOENT, with and without O_DIRECT, the path in the message. */
    for (int buffered = 0; buffered < 2; buffered++) {
        sea_file_options o = {.buffered = buffered};
        CHECK_EQ(await_msg(sea_file_open(tpath(p, "missing"), O_RDONLY, &o), &v, msg, sizeof(msg)), -ENOENT);
        CHECK_CONTAINS(msg, p);
        CHECK_CONTAINS(msg, "open");
        CHECK_EQ(await_msg(sea_file_open(tpath(p, "no/such/dir"), O_RDWR | O_CREAT, &o), &v, msg, sizeof(msg)),
                 -ENOENT);
        CHECK_CONTAINS(msg, p);
        /* A directory: EISDIR, read-only (which open(2) allows) or for writing. */
        CHECK_EQ(await_msg(sea_file_open(tmpdir, O_RDONLY, &o), &v, msg, sizeof(msg)), -EISDIR);
        CHECK_CONTAINS(msg, tmpdir);
        CHECK_EQ(await_msg(sea_file_open(tmpdir, O_RDWR, &o), &v, msg, sizeof(msg)), -EISDIR);
    }
    /* O_EXCL on a file that exists. */
    sea_file *f = open_file("exists", O_RDWR | O_CREAT, false);
    close_file(f);
    CHECK_EQ(await_msg(sea_file_open(tpath(p, "exists"), O_RDWR | O_CREAT | O_EXCL, NULL), &v, msg, sizeof(msg)),
             -EEXIST);
    CHECK_CONTAINS(msg, p);
    /* A file as a directory. */
    CHECK_EQ(await_msg(sea_file_open(tpath(p, "exists/x"), O_RDONLY, NULL), &v, msg, sizeof(msg)), -ENOTDIR);
    /* No path. */
    CHECK_EQ(await_msg(sea_file_open("", O_RDONLY, NULL), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_EQ(await_msg(sea_file_open(NULL, O_RDONLY, NULL), &v, msg, sizeof(msg)), -EINVAL);
    return sea_ready();
}

/*
 * EACCES: a file with no permission bits, opened by another user.  Root
 * passes every permission check, so the helper drops to uid 65534 first
 * (a process of its own: the syscall threads are shared by the process).
 */
FIBER_CASE(t_open_eacces) {
    char p[PATH_MAX];
    write_plain("secret", "s", 1);
    CHECK_EQ(chmod(tpath(p, "secret"), 0), 0);
    static struct sea_test_child c;
    run_helper("eacces", p, NULL, &c);
    if (!sea_test_exited_with(&c, 0))
        report_child("file_helper eacces", &c);
    CHECK(sea_test_exited_with(&c, 0));
    CHECK_CONTAINS(c.out, "open: EACCES: ");
    CHECK_CONTAINS(c.out, p);
    CHECK_CONTAINS(c.out, "fds ok");
    return sea_ready();
}

/* What a forked child mounts on a directory in a mount namespace of its own, and the helper it then runs there. */
struct mount_job {
    const char *dir, *fstype, *options, *mode;
    char backend[64], shards[16]; /* the helper's options, made before the fork */
};

static void mount_job_options(struct mount_job *j) {
    snprintf(j->backend, sizeof(j->backend), "--reactor-backend=%s",
             sea_test_backend_arg ? sea_test_backend_arg : "io_uring");
    snprintf(j->shards, sizeof(j->shards), "-c%u", sea_shard_count());
}

/* In the forked child (one thread, no reactor): mount, then become the helper. */
static void mount_child(void *arg) {
    struct mount_job *j = arg;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("none", j->dir, j->fstype, 0, j->options) < 0) {
        printf("skip: cannot mount a %s: %s\n", j->fstype, strerror(errno));
        return;
    }
    char *argv[] = {(char *)helper_path, (char *)j->mode, (char *)j->dir, j->backend, j->shards,
                    "--blocked-reactor-notify-ms=0", NULL};
    execv(helper_path, argv);
    printf("exec %s: %s\n", helper_path, strerror(errno));
}

FIBER_CASE(t_enospc) {
    char dir[PATH_MAX];
    CHECK_EQ(mkdir(tpath(dir, "small"), 0755), 0);
    static struct sea_test_child c;
    struct mount_job job = {dir, "tmpfs", "size=256k", "enospc", "", ""};
    mount_job_options(&job);
    sea_test_fork(mount_child, &job, &c);
    if (strstr(c.out, "skip:")) {
        printf("  note: t_enospc skipped (%s)\n", c.out);
        return sea_ready();
    }
    if (!sea_test_exited_with(&c, 0))
        report_child("file_helper enospc", &c);
    CHECK(sea_test_exited_with(&c, 0));
    /* 64 pages of 4 KiB hold at most 64 blocks. */
    int blocks = -1;
    const char *b = strstr(c.out, "blocks ");
    if (b)
        blocks = atoi(b + 7);
    CHECK(blocks >= 1 && blocks <= 64);
    char fill[PATH_MAX + 16];
    snprintf(fill, sizeof(fill), "write %s/fill", dir);
    CHECK_CONTAINS(c.out, "write: ENOSPC: ");
    CHECK_CONTAINS(c.out, fill);
    CHECK_CONTAINS(c.out, "stream: ENOSPC: ");
    CHECK_CONTAINS(c.out, "fds ok");
    /* The stream's failed writes reach its close; none is reported as an ignored failure. */
    CHECK(!strstr(c.err, "exceptional future ignored"));
    return sea_ready();
}

/*
 * A file system that refuses O_DIRECT (ramfs): sea falls back to the page
 * cache, says so once, and the open means what its flags say; O_CREAT |
 * O_EXCL creates a new file (the refused O_DIRECT attempt must not count as
 * the creation).
 */
FIBER_CASE(t_no_odirect_fs) {
    char dir[PATH_MAX];
    CHECK_EQ(mkdir(tpath(dir, "ram"), 0755), 0);
    static struct sea_test_child c;
    struct mount_job job = {dir, "ramfs", NULL, "nodirect", "", ""};
    mount_job_options(&job);
    sea_test_fork(mount_child, &job, &c);
    if (strstr(c.out, "skip:")) {
        printf("  note: t_no_odirect_fs skipped (%s)\n", c.out);
        return sea_ready();
    }
    if (!sea_test_exited_with(&c, 0) || !strstr(c.out, "excl: ok"))
        report_child("file_helper nodirect", &c);
    CHECK(sea_test_exited_with(&c, 0));
    CHECK_CONTAINS(c.out, "excl: ok\n");
    CHECK_CONTAINS(c.out, "fallback ok\n");
    CHECK_CONTAINS(c.out, "fds ok");
    CHECK_CONTAINS(c.err, "refuses O_DIRECT");
    const char *first = strstr(c.err, "refuses O_DIRECT");
    CHECK(!first || !strstr(first + 1, "refuses O_DIRECT")); /* once per file system */
    return sea_ready();
}

/* ---- reads and writes against a reference ---- */

#define SPAN (1u << 20)      /* writes start in the first MiB */
#define MAXLEN (64u * 1024)  /* and move at most 64 KiB */

/* Splits len bytes at p into 1 to 4 pieces of multiples of align, each at least mem_gap bytes after the last. */
static int make_iov(struct iovec *iov, unsigned char *p, size_t len, size_t align, size_t mem_gap, uint64_t *rng) {
    int n = 1 + (int)(sea_test_rand(rng) % 4);
    size_t units = len / align, left = units;
    int used = 0;
    for (int i = 0; i < n && left; i++) {
        size_t take = i == n - 1 ? left : 1 + sea_test_rand(rng) % left;
        iov[used].iov_base = p;
        iov[used].iov_len = take * align;
        used++;
        p += take * align + mem_gap;
        left -= take;
    }
    return used;
}

/* Copies the bytes the iovecs hold into out, in order. */
static void gather(const struct iovec *iov, int n, unsigned char *out) {
    for (int i = 0; i < n; i++) {
        memcpy(out, iov[i].iov_base, iov[i].iov_len);
        out += iov[i].iov_len;
    }
}

static void scatter(const struct iovec *iov, int n, const unsigned char *in) {
    for (int i = 0; i < n; i++) {
        memcpy(iov[i].iov_base, in, iov[i].iov_len);
        in += iov[i].iov_len;
    }
}

/*
 * 300 random operations on tmpdir/name, direct (aligned) or buffered (any
 * offset, length and buffer address): sea's reads, writes, readv and writev
 * and plain pwrites on a second descriptor, checked against a model.
 */
static void random_io(const char *name, bool buffered, uint64_t seed) {
    sea_file *f = open_file(name, O_RDWR | O_CREAT | O_TRUNC, buffered);
    if (!f)
        return;
    CHECK_EQ(sea_file_is_direct(f), !buffered);
    char p[PATH_MAX], msg[256];
    int ref = open(tpath(p, name), O_RDWR | O_CLOEXEC);
    CHECK(ref >= 0);
    size_t ra = sea_file_read_alignment(f), wa = sea_file_write_alignment(f);
    size_t ma = sea_file_memory_alignment(f);
    size_t gap = ma > 64 ? ma : 64;
    unsigned char *model = calloc(SPAN + 3 * MAXLEN, 1);
    unsigned char *mem = sea_dma_alloc(4096, MAXLEN + 8 * gap + 4096);
    unsigned char *data = malloc(MAXLEN), *back = malloc(MAXLEN);
    uint64_t rng = seed, size = 0;
    int counts[5] = {0, 0, 0, 0, 0}, bad = 0, shorts = 0;
    for (int op = 0; op < 300 && !bad; op++) {
        int kind = (int)(sea_test_rand(&rng) % 5); /* write, writev, plain pwrite, read, readv */
        size_t align = buffered || kind == 2 ? 1 : kind < 2 ? wa : ra;
        /* Writes start in the first MiB; reads also past what was written (short reads, 0 past the end). */
        uint64_t pos = sea_test_rand(&rng) % ((kind <= 2 ? SPAN : SPAN + 2 * MAXLEN) / align) * align;
        size_t len = (1 + sea_test_rand(&rng) % (MAXLEN / align)) * align;
        /* A buffered file takes a buffer at any address. */
        unsigned char *buf = buffered ? mem + 1 + sea_test_rand(&rng) % 63 : mem;
        struct iovec iov[4];
        int niov = 0;
        sea_value v = {0};
        int err = 0;
        counts[kind]++;
        if (kind <= 2) {
            fill_random(data, len, &rng);
            if (kind == 0) {
                memcpy(buf, data, len);
                err = await_msg(sea_file_write(f, pos, buf, len), &v, msg, sizeof(msg));
            } else if (kind == 1) {
                niov = make_iov(iov, buf, len, buffered ? 1 : wa, buffered ? 3 : gap, &rng);
                scatter(iov, niov, data);
                err = await_msg(sea_file_writev(f, pos, iov, niov), &v, msg, sizeof(msg));
            } else {
                v.size = (size_t)pwrite(ref, data, len, (off_t)pos);
            }
            if (err)
                fprintf(stderr, "  op %d (%s at %llu, %zu bytes): %s\n", op, kind ? "writev" : "write",
                        (unsigned long long)pos, len, msg);
            CHECK_EQ(err, 0);
            CHECK_EQ(v.size, len);
            memcpy(model + pos, data, len);
            if (pos + len > size)
                size = pos + len;
            /* What sea wrote, as the other descriptor reads it. */
            if (kind < 2) {
                CHECK_EQ(pread(ref, back, len, (off_t)pos), (long long)len);
                if (memcmp(back, data, len) != 0) {
                    fprintf(stderr, "  op %d: the file differs from what was written at %llu\n", op,
                            (unsigned long long)pos);
                    bad++;
                }
            }
        } else {
            memset(mem, 0xee, MAXLEN + 8 * gap + 4096);
            if (kind == 3) {
                err = await_msg(sea_file_read(f, pos, buf, len), &v, msg, sizeof(msg));
            } else {
                niov = make_iov(iov, buf, len, buffered ? 1 : ra, buffered ? 3 : gap, &rng);
                err = await_msg(sea_file_readv(f, pos, iov, niov), &v, msg, sizeof(msg));
            }
            if (err)
                fprintf(stderr, "  op %d (%s at %llu, %zu bytes): %s\n", op, kind == 3 ? "read" : "readv",
                        (unsigned long long)pos, len, msg);
            CHECK_EQ(err, 0);
            /* Fewer bytes only at the end of the file, 0 past it. */
            size_t want = pos >= size ? 0 : size - pos < len ? (size_t)(size - pos) : len;
            shorts += want < len;
            CHECK_EQ(v.size, want);
            if (kind == 3)
                memcpy(back, buf, len);
            else
                gather(iov, niov, back);
            if (!err && v.size == want && memcmp(back, model + pos, want) != 0) {
                fprintf(stderr, "  op %d: read at %llu (%zu bytes) differs from the model\n", op,
                        (unsigned long long)pos, want);
                bad++;
            }
        }
    }
    CHECK_EQ(bad, 0);
    for (int k = 0; k < 5; k++)
        CHECK(counts[k] > 20);
    CHECK(shorts > 0);
    /* The whole file, at the end. */
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
    CHECK_EQ(v.u, size);
    unsigned char *all = malloc(size ? size : 1);
    CHECK_EQ(pread(ref, all, size, 0), (long long)size);
    CHECK(memcmp(all, model, size) == 0);
    free(all);
    close(ref);
    close_file(f);
    sea_dma_free(mem);
    free(model);
    free(data);
    free(back);
}

FIBER_CASE(t_random_direct) {
    random_io("random_direct", false, 0xd12ec7);
    return sea_ready();
}

FIBER_CASE(t_random_buffered) {
    random_io("random_buffered", true, 0xb0ffe7);
    return sea_ready();
}

FIBER_CASE(t_short_reads) {
    /* A file of 10,000 bytes (a size that is no multiple of any alignment), read both ways. */
    unsigned char *data = malloc(10000);
    uint64_t rng = 77;
    fill_random(data, 10000, &rng);
    write_plain("short", data, 10000);
    for (int buffered = 0; buffered < 2; buffered++) {
        sea_file *f = open_file("short", O_RDONLY, buffered);
        if (!f)
            continue;
        size_t a = io_align(f) > 4096 ? io_align(f) : 4096;
        unsigned char *buf = sea_dma_alloc(sea_file_memory_alignment(f), 4 * a);
        sea_value v;
        /* Across the end: the bytes there are. */
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 0, buf, 4 * a), &v), 0);
        CHECK_EQ(v.size, 10000);
        CHECK(memcmp(buf, data, 10000) == 0);
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 2 * a, buf, 2 * a), &v), 0);
        CHECK_EQ(v.size, 10000 - 2 * a);
        CHECK(memcmp(buf, data + 2 * a, 10000 - 2 * a) == 0);
        /* At and past the end: 0, not an error. */
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 3 * a, buf, a), &v), 0);
        CHECK_EQ(v.size, 0);
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 1000 * a, buf, a), &v), 0);
        CHECK_EQ(v.size, 0);
        /* Vectored, across the end. */
        struct iovec iov[3] = {{buf, a}, {buf + 2 * a, a}, {buf + 3 * a, a}};
        CHECK_EQ(sea_test_await_err(sea_file_readv(f, a, iov, 3), &v), 0);
        CHECK_EQ(v.size, 10000 - a);
        CHECK(memcmp(buf, data + a, a) == 0);
        CHECK(memcmp(buf + 2 * a, data + 2 * a, 10000 - 2 * a) == 0);
        /* Nothing asked, nothing read. */
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 0, buf, 0), &v), 0);
        CHECK_EQ(v.size, 0);
        if (buffered) {
            CHECK_EQ(sea_test_await_err(sea_file_read(f, 9999, buf, 100), &v), 0);
            CHECK_EQ(v.size, 1);
            CHECK_EQ(buf[0], data[9999]);
        }
        sea_dma_free(buf);
        close_file(f);
    }
    free(data);
    return sea_ready();
}

/* ---- many requests in flight ---- */

#define NCONC 64

static void fill_block(unsigned char *p, size_t len, unsigned block, unsigned round) {
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(block * 131 + round * 17 + i * 7 + (i >> 8));
}

static void concurrent_io(const char *name, bool buffered) {
    sea_file *f = open_file(name, O_RDWR | O_CREAT | O_TRUNC, buffered);
    if (!f)
        return;
    size_t blk = io_align(f) > 4096 ? io_align(f) : 4096;
    unsigned char *w = sea_dma_alloc(4096, 2 * NCONC * blk), *r = sea_dma_alloc(4096, NCONC * blk);
    sea_future fs[2 * NCONC];
    unsigned order[NCONC];
    uint64_t rng = buffered ? 11 : 12;
    for (unsigned i = 0; i < NCONC; i++)
        order[i] = i;
    for (unsigned i = NCONC - 1; i > 0; i--) {
        unsigned j = (unsigned)(sea_test_rand(&rng) % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    sea_io_class_stats before, during;
    CHECK_EQ(sea_io_class_stats_get(sea_io_class_default(), &before), 0);
    /* 64 writes to disjoint blocks, in a random order, all started at once. */
    for (unsigned i = 0; i < NCONC; i++) {
        unsigned b = order[i];
        fill_block(w + b * blk, blk, b, 0);
        fs[i] = sea_file_write(f, (uint64_t)b * blk, w + b * blk, blk);
    }
    CHECK_EQ(sea_io_class_stats_get(sea_io_class_default(), &during), 0);
    /* Several at the device at once (up to --io-max-requests), the rest queued; none done yet. */
    CHECK(during.executing >= 2);
    CHECK_EQ(during.executing + during.queued, before.executing + before.queued + NCONC);
    sea_value vals[2 * NCONC];
    CHECK_EQ(sea_test_await_err(sea_when_all_succeed(fs, NCONC, vals), NULL), 0);
    for (unsigned i = 0; i < NCONC; i++)
        CHECK_EQ(vals[i].size, blk);
    size_t len;
    unsigned char *all = read_plain(name, &len);
    CHECK_EQ(len, NCONC * blk);
    if (all && len == NCONC * blk)
        CHECK(memcmp(all, w, len) == 0);
    free(all);
    /* 64 reads of those blocks and 64 writes of the next 64, together. */
    memset(r, 0, NCONC * blk);
    for (unsigned i = 0; i < NCONC; i++) {
        unsigned b = order[i];
        fs[2 * i] = sea_file_read(f, (uint64_t)b * blk, r + b * blk, blk);
        fill_block(w + (NCONC + b) * blk, blk, NCONC + b, 1);
        fs[2 * i + 1] = sea_file_write(f, (uint64_t)(NCONC + b) * blk, w + (NCONC + b) * blk, blk);
    }
    CHECK_EQ(sea_test_await_err(sea_when_all(fs, 2 * NCONC), NULL), 0);
    int failed = 0;
    for (unsigned i = 0; i < 2 * NCONC; i++) {
        sea_value v;
        int err = sea_test_await_err(fs[i], &v); /* ready: no wait */
        failed += err != 0 || v.size != blk;
    }
    CHECK_EQ(failed, 0);
    CHECK(memcmp(r, w, NCONC * blk) == 0);
    all = read_plain(name, &len);
    CHECK_EQ(len, 2 * NCONC * blk);
    if (all && len == 2 * NCONC * blk)
        CHECK(memcmp(all, w, len) == 0);
    free(all);
    sea_io_class_stats after;
    CHECK_EQ(sea_io_class_stats_get(sea_io_class_default(), &after), 0);
    CHECK_EQ(after.ops - before.ops, 3 * NCONC);
    CHECK_EQ(after.bytes - before.bytes, 3 * NCONC * blk);
    CHECK_EQ(after.executing, 0);
    CHECK_EQ(after.queued, 0);
    close_file(f);
    sea_dma_free(w);
    sea_dma_free(r);
}

FIBER_CASE(t_concurrent) {
    concurrent_io("conc_direct", false);
    concurrent_io("conc_buffered", true);
    return sea_ready();
}

/* ---- misuse and errors on an open file ---- */

FIBER_CASE(t_misaligned) {
    sea_file *f = open_file("misaligned", O_RDWR | O_CREAT | O_TRUNC, false);
    if (!f)
        return sea_ready();
    CHECK(sea_file_is_direct(f));
    char p[PATH_MAX], msg[512];
    tpath(p, "misaligned");
    size_t ma = sea_file_memory_alignment(f), ra = sea_file_read_alignment(f), wa = sea_file_write_alignment(f);
    unsigned char *buf = sea_dma_alloc(4096, 4 * wa + 4096);
    sea_value v;
    sea_io_class_stats before, after;
    CHECK_EQ(sea_io_class_stats_get(NULL, &before), 0);
    /* The buffer's address. */
    if (ma > 1) {
        CHECK_EQ(await_msg(sea_file_read(f, 0, buf + 1, ra), &v, msg, sizeof(msg)), -EINVAL);
        CHECK_CONTAINS(msg, "O_DIRECT");
        CHECK_CONTAINS(msg, "buffer");
        CHECK_CONTAINS(msg, p);
        CHECK_EQ(await_msg(sea_file_write(f, 0, buf + ma / 2, wa), &v, msg, sizeof(msg)), -EINVAL);
        CHECK_CONTAINS(msg, "O_DIRECT");
    }
    /* The offset: reads to the read alignment, writes to the write alignment. */
    CHECK_EQ(await_msg(sea_file_read(f, 1, buf, ra), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_CONTAINS(msg, "O_DIRECT");
    CHECK_CONTAINS(msg, "offset");
    CHECK_CONTAINS(msg, p);
    CHECK_EQ(await_msg(sea_file_write(f, wa / 2 + ra, buf, wa), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_CONTAINS(msg, "O_DIRECT");
    CHECK_CONTAINS(msg, "offset");
    if (wa > ra) {
        /* An offset a read may use but a write may not. */
        CHECK_EQ(await_msg(sea_file_write(f, ra, buf, wa), &v, msg, sizeof(msg)), -EINVAL);
        CHECK_CONTAINS(msg, "offset");
    }
    /* The length. */
    CHECK_EQ(await_msg(sea_file_read(f, 0, buf, ra + 1), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_CONTAINS(msg, "O_DIRECT");
    CHECK_CONTAINS(msg, "length");
    CHECK_EQ(await_msg(sea_file_write(f, 0, buf, 100), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_CONTAINS(msg, "length");
    /* Vectored: one bad vector refuses the whole request. */
    struct iovec iov[3] = {{buf, wa}, {buf + wa, wa - 1}, {buf + 3 * wa, wa}};
    CHECK_EQ(await_msg(sea_file_writev(f, 0, iov, 3), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_CONTAINS(msg, "O_DIRECT");
    iov[1].iov_len = wa;
    iov[1].iov_base = buf + wa + 1;
    if (ma > 1) {
        CHECK_EQ(await_msg(sea_file_readv(f, 0, iov, 3), &v, msg, sizeof(msg)), -EINVAL);
        CHECK_CONTAINS(msg, "O_DIRECT");
    }
    CHECK_EQ(await_msg(sea_file_readv(f, 0, iov, -1), &v, msg, sizeof(msg)), -EINVAL);
    struct iovec *many = calloc(IOV_MAX + 1, sizeof(*many));
    CHECK_EQ(await_msg(sea_file_readv(f, 0, many, IOV_MAX + 1), &v, msg, sizeof(msg)), -EINVAL);
    free(many);
    /* Past the largest file. */
    uint64_t huge = (uint64_t)INT64_MAX / wa * wa;
    CHECK_EQ(await_msg(sea_file_read(f, huge, buf, wa), &v, msg, sizeof(msg)), -EINVAL);
    CHECK_EQ(await_msg(sea_file_write(f, huge + wa, buf, wa), &v, msg, sizeof(msg)), -EINVAL);
    /* Nothing reached the device (nor the class's queue). */
    CHECK_EQ(sea_io_class_stats_get(NULL, &after), 0);
    CHECK_EQ(after.ops, before.ops);
    CHECK_EQ(after.queued + after.executing, 0);
    /* The same requests, aligned, work. */
    memset(buf, 'k', 4 * wa);
    CHECK_EQ(sea_test_await_err(sea_file_write(f, wa, buf, wa), &v), 0);
    CHECK_EQ(v.size, wa);
    CHECK_EQ(sea_test_await_err(sea_file_read(f, wa, buf + ma, ra), &v), 0);
    CHECK_EQ(v.size, ra);
    close_file(f);
    sea_dma_free(buf);
    return sea_ready();
}

FIBER_CASE(t_after_close) {
    sea_file *f = open_file("closed", O_RDWR | O_CREAT | O_TRUNC, false);
    if (!f)
        return sea_ready();
    size_t wa = sea_file_write_alignment(f);
    unsigned char *buf = sea_dma_alloc(4096, 2 * wa);
    memset(buf, 'c', 2 * wa);
    char msg[512];
    sea_value v;
    struct stat st;
    /* A write in flight when the close is asked for: the close waits for it. */
    sea_future w = sea_file_write(f, 0, buf, wa);
    sea_future c = sea_file_close(f);
    /* From now on every request fails at once (f lives until the close resolves). */
    struct iovec iov = {buf, wa};
    sea_future after[9] = {
        sea_file_read(f, 0, buf + wa, wa),  sea_file_write(f, wa, buf, wa), sea_file_readv(f, 0, &iov, 1),
        sea_file_writev(f, 0, &iov, 1),     sea_file_size(f),               sea_file_stat(f, &st),
        sea_file_truncate(f, 0),            sea_file_allocate(f, 0, wa),    sea_file_flush(f),
    };
    for (int i = 0; i < 9; i++) {
        CHECK(sea_future_available(&after[i]));
        CHECK_EQ(await_msg(after[i], &v, msg, sizeof(msg)), SEA_ESHUTDOWN);
        CHECK_CONTAINS(msg, "closed");
    }
    /* Closing twice. */
    CHECK_EQ(await_msg(sea_file_close(f), &v, msg, sizeof(msg)), -EBADF);
    CHECK_EQ(sea_test_await_err(w, &v), 0);
    CHECK_EQ(v.size, wa);
    CHECK_EQ(sea_test_await_err(c, NULL), 0);
    size_t len;
    unsigned char *all = read_plain("closed", &len);
    CHECK_EQ(len, wa);
    if (all && len == wa)
        CHECK(memcmp(all, buf, wa) == 0);
    free(all);
    sea_dma_free(buf);
    CHECK_EQ(sea_test_await_err(sea_file_close(NULL), NULL), 0);
    return sea_ready();
}

FIBER_CASE(t_unlinked) {
    char p[PATH_MAX];
    for (int buffered = 0; buffered < 2; buffered++) {
        sea_file *f = open_file("unlinked", O_RDWR | O_CREAT | O_TRUNC, buffered);
        if (!f)
            continue;
        size_t blk = io_align(f) > 4096 ? io_align(f) : 4096;
        unsigned char *buf = sea_dma_alloc(4096, 4 * blk), *back = sea_dma_alloc(4096, 4 * blk);
        sea_value v;
        fill_block(buf, 4 * blk, 1, 2);
        CHECK_EQ(sea_test_await_err(sea_file_write(f, 0, buf, 2 * blk), &v), 0);
        /* Removed underneath: the open file lives on, as POSIX says. */
        CHECK_EQ(sea_test_await_err(sea_path_remove(tpath(p, "unlinked")), NULL), 0);
        AWAIT_INT(sea_file_exists(p), 0);
        CHECK_EQ(sea_test_await_err(sea_file_write(f, 2 * blk, buf + 2 * blk, 2 * blk), &v), 0);
        CHECK_EQ(v.size, 2 * blk);
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 0, back, 4 * blk), &v), 0);
        CHECK_EQ(v.size, 4 * blk);
        CHECK(memcmp(buf, back, 4 * blk) == 0);
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, 4 * blk);
        struct stat st;
        CHECK_EQ(sea_test_await_err(sea_file_stat(f, &st), NULL), 0);
        CHECK_EQ(st.st_nlink, 0);
        CHECK_EQ(sea_test_await_err(sea_file_flush(f), NULL), 0);
        close_file(f);
        sea_dma_free(buf);
        sea_dma_free(back);
    }
    return sea_ready();
}

/* A descriptor opened for the other direction: the kernel's error, with the path and the offset. */
FIBER_CASE(t_wrong_direction) {
    write_plain("oneway", "0123456789", 10);
    char p[PATH_MAX], msg[512];
    tpath(p, "oneway");
    for (int buffered = 0; buffered < 2; buffered++) {
        sea_file *r = open_file("oneway", O_RDONLY, buffered), *w = open_file("oneway", O_WRONLY, buffered);
        if (!r || !w)
            continue;
        size_t blk = io_align(r) > 4096 ? io_align(r) : 4096;
        unsigned char *buf = sea_dma_alloc(4096, blk);
        memset(buf, 'w', blk);
        sea_io_class_stats before, st;
        CHECK_EQ(sea_io_class_stats_get(NULL, &before), 0);
        CHECK_EQ(await_msg(sea_file_write(r, blk, buf, blk), NULL, msg, sizeof(msg)), -EBADF);
        CHECK_CONTAINS(msg, p);
        CHECK_CONTAINS(msg, "write");
        CHECK_CONTAINS(msg, "offset");
        CHECK_EQ(await_msg(sea_file_read(w, 0, buf, blk), NULL, msg, sizeof(msg)), -EBADF);
        CHECK_CONTAINS(msg, p);
        CHECK_CONTAINS(msg, "read");
        struct iovec iov = {buf, blk};
        CHECK_EQ(await_msg(sea_file_readv(w, 0, &iov, 1), NULL, msg, sizeof(msg)), -EBADF);
        CHECK_CONTAINS(msg, p);
        /* Failures are counted as completed requests of their class, moving no bytes. */
        CHECK_EQ(sea_io_class_stats_get(NULL, &st), 0);
        CHECK_EQ(st.ops - before.ops, 3);
        CHECK_EQ(st.bytes, before.bytes);
        CHECK_EQ(st.queued + st.executing, 0);
        close_file(r);
        close_file(w);
        sea_dma_free(buf);
    }
    size_t len;
    unsigned char *all = read_plain("oneway", &len);
    CHECK_EQ(len, 10);
    free(all);
    return sea_ready();
}

/* O_APPEND as open(2) gives it on Linux: every write goes to the end, whatever its offset, on both backends. */
FIBER_CASE(t_append) {
    write_plain("append", "ab", 2);
    sea_file *f = open_file("append", O_WRONLY | O_APPEND, true);
    if (!f)
        return sea_ready();
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_file_write(f, 0, "cd", 2), &v), 0);
    CHECK_EQ(v.size, 2);
    CHECK_EQ(sea_test_await_err(sea_file_write(f, 0, "ef", 2), &v), 0);
    close_file(f);
    size_t len;
    unsigned char *all = read_plain("append", &len);
    CHECK_EQ(len, 6);
    if (all && len == 6)
        CHECK(memcmp(all, "abcdef", 6) == 0);
    free(all);
    return sea_ready();
}

/* ---- metadata ---- */

FIBER_CASE(t_metadata) {
    char msg[256];
    for (int buffered = 0; buffered < 2; buffered++) {
        const char *name = buffered ? "meta_buffered" : "meta_direct";
        sea_file *f = open_file(name, O_RDWR | O_CREAT | O_TRUNC, buffered);
        if (!f)
            continue;
        size_t blk = io_align(f) > 4096 ? io_align(f) : 4096;
        unsigned char *buf = sea_dma_alloc(4096, 3 * blk);
        memset(buf, 'm', 3 * blk);
        sea_value v;
        struct stat st;
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, 0);
        CHECK_EQ(sea_test_await_err(sea_file_write(f, 0, buf, 3 * blk), &v), 0);
        CHECK_EQ(sea_test_await_err(sea_file_flush(f), NULL), 0);
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, 3 * blk);
        CHECK_EQ(sea_test_await_err(sea_file_stat(f, &st), NULL), 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_EQ(st.st_size, 3 * blk);
        CHECK_EQ(st.st_nlink, 1);
        /* Shrinking: a read across the new end is short. */
        CHECK_EQ(sea_test_await_err(sea_file_truncate(f, blk + 100), NULL), 0);
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, blk + 100);
        CHECK_EQ(sea_test_await_err(sea_file_read(f, blk, buf, blk), &v), 0);
        CHECK_EQ(v.size, 100);
        CHECK_EQ(buf[0], 'm');
        /* Growing: zeros. */
        CHECK_EQ(sea_test_await_err(sea_file_truncate(f, 10 * blk), NULL), 0);
        memset(buf, 'x', blk);
        CHECK_EQ(sea_test_await_err(sea_file_read(f, 5 * blk, buf, blk), &v), 0);
        CHECK_EQ(v.size, blk);
        CHECK(buf[0] == 0 && buf[blk - 1] == 0);
        CHECK_EQ(sea_test_await_err(sea_file_read(f, blk, buf, blk), &v), 0);
        CHECK(buf[99] == 'm' && buf[100] == 0);
        /* Allocating past the end: the size grows to cover it (ext4 can). */
        CHECK_EQ(sea_test_await_err(sea_file_stat(f, &st), NULL), 0);
        blkcnt_t blocks = st.st_blocks;
        int err = await_msg(sea_file_allocate(f, 20 * blk, 4 * blk), NULL, msg, sizeof(msg));
        CHECK(err == 0 || err == -EOPNOTSUPP);
        if (!err) {
            CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
            CHECK_EQ(v.u, 24 * blk);
            CHECK_EQ(sea_test_await_err(sea_file_stat(f, &st), NULL), 0);
            CHECK(st.st_blocks >= blocks + (blkcnt_t)(4 * blk / 512));
        }
        CHECK_EQ(await_msg(sea_file_allocate(f, 0, 0), NULL, msg, sizeof(msg)), -EINVAL);
        CHECK_EQ(await_msg(sea_file_truncate(f, (uint64_t)INT64_MAX + 1), NULL, msg, sizeof(msg)), -EINVAL);
        CHECK_EQ(sea_test_await_err(sea_file_truncate(f, 0), NULL), 0);
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, 0);
        CHECK_EQ(sea_test_await_err(sea_file_flush(f), NULL), 0);
        close_file(f);
        sea_dma_free(buf);
    }
    /* A file opened read-only cannot be truncated: the error names the path. */
    sea_file *r = open_file("meta_direct", O_RDONLY, false);
    if (r) {
        char p[PATH_MAX];
        int err = await_msg(sea_file_truncate(r, 0), NULL, msg, sizeof(msg));
        CHECK(err == -EINVAL || err == -EBADF);
        CHECK_CONTAINS(msg, tpath(p, "meta_direct"));
        close_file(r);
    }
    return sea_ready();
}

/* ---- paths ---- */

FIBER_CASE(t_paths) {
    char d[PATH_MAX], a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], msg[512];
    struct stat st;
    sea_value v;
    mode_t mask = umask(022);
    umask(mask);
    /* Directories. */
    CHECK_EQ(sea_test_await_err(sea_dir_make(tpath(d, "pdir"), 0), NULL), 0);
    CHECK_EQ(stat(d, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(st.st_mode & 0777, 0755 & ~mask);
    CHECK_EQ(await_msg(sea_dir_make(d, 0700), NULL, msg, sizeof(msg)), -EEXIST);
    CHECK_CONTAINS(msg, d);
    CHECK_EQ(await_msg(sea_dir_make(tpath(a, "no/such"), 0700), NULL, msg, sizeof(msg)), -ENOENT);
    /* Existence: 1, 0 for a missing path or one through a file, failures otherwise. */
    write_plain("pfile", "0123456789", 10);
    AWAIT_INT(sea_file_exists(d), 1);
    AWAIT_INT(sea_file_exists(tpath(a, "pfile")), 1);
    AWAIT_INT(sea_file_exists(tpath(a, "nothing")), 0);
    AWAIT_INT(sea_file_exists(tpath(a, "pfile/x")), 0);
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = '\0';
    CHECK_EQ(sea_test_await_err(sea_file_exists(tpath(a, longname)), NULL), -ENAMETOOLONG);
    char *toolong = malloc(PATH_MAX + 10);
    memset(toolong, 'l', PATH_MAX + 9);
    toolong[PATH_MAX + 9] = '\0';
    CHECK_EQ(sea_test_await_err(sea_file_exists(toolong), NULL), -ENAMETOOLONG);
    free(toolong);
    CHECK_EQ(sea_test_await_err(sea_file_exists(""), NULL), -EINVAL);
    /* stat, and lstat of a symbolic link. */
    CHECK_EQ(sea_test_await_err(sea_path_stat(tpath(a, "pfile"), &st, false), NULL), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 10);
    CHECK_EQ(symlink("pfile", tpath(b, "plink")), 0);
    CHECK_EQ(sea_test_await_err(sea_path_stat(b, &st, true), NULL), 0);
    CHECK(S_ISLNK(st.st_mode));
    CHECK_EQ(sea_test_await_err(sea_path_stat(b, &st, false), NULL), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(await_msg(sea_path_stat(tpath(c, "nothing"), &st, false), NULL, msg, sizeof(msg)), -ENOENT);
    CHECK_CONTAINS(msg, c);
    /* rename into the directory, then make its entries durable. */
    tpath(b, "pdir/moved");
    CHECK_EQ(sea_test_await_err(sea_path_rename(a, b), NULL), 0);
    AWAIT_INT(sea_file_exists(a), 0);
    AWAIT_INT(sea_file_exists(b), 1);
    CHECK_EQ(sea_test_await_err(sea_dir_sync(d), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_dir_sync(tmpdir), NULL), 0);
    CHECK_EQ(await_msg(sea_dir_sync(tpath(c, "nothing")), NULL, msg, sizeof(msg)), -ENOENT);
    CHECK_EQ(await_msg(sea_dir_sync(b), NULL, msg, sizeof(msg)), -ENOTDIR);
    /* rename over an existing file replaces it. */
    write_plain("pnew", "new", 3);
    struct stat newst;
    CHECK_EQ(stat(tpath(c, "pnew"), &newst), 0);
    CHECK_EQ(sea_test_await_err(sea_path_rename(c, b), NULL), 0);
    CHECK_EQ(stat(b, &st), 0);
    CHECK_EQ(st.st_ino, newst.st_ino);
    CHECK_EQ(st.st_size, 3);
    CHECK_EQ(await_msg(sea_path_rename(c, b), NULL, msg, sizeof(msg)), -ENOENT);
    CHECK_CONTAINS(msg, c);
    CHECK_EQ(await_msg(sea_path_rename("", b), NULL, msg, sizeof(msg)), -EINVAL);
    CHECK_EQ(await_msg(sea_path_rename(b, ""), NULL, msg, sizeof(msg)), -EINVAL);
    /* link: a second name. */
    tpath(c, "pdir/linked");
    CHECK_EQ(sea_test_await_err(sea_path_link(b, c), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_path_stat(c, &st, false), NULL), 0);
    CHECK_EQ(st.st_nlink, 2);
    CHECK_EQ(st.st_ino, newst.st_ino);
    CHECK_EQ(await_msg(sea_path_link(b, c), NULL, msg, sizeof(msg)), -EEXIST);
    /* remove: a file, not a full directory, an empty one. */
    CHECK_EQ(sea_test_await_err(sea_path_remove(c), NULL), 0);
    CHECK_EQ(stat(b, &st), 0);
    CHECK_EQ(st.st_nlink, 1);
    CHECK_EQ(await_msg(sea_path_remove(d), NULL, msg, sizeof(msg)), -ENOTEMPTY);
    CHECK_CONTAINS(msg, d);
    CHECK_EQ(sea_test_await_err(sea_path_remove(b), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_path_remove(d), NULL), 0);
    AWAIT_INT(sea_file_exists(d), 0);
    CHECK_EQ(await_msg(sea_path_remove(d), NULL, msg, sizeof(msg)), -ENOENT);
    CHECK_EQ(sea_test_await_err(sea_path_remove(tpath(c, "plink")), NULL), 0);
    /* The file system's space, as statvfs(2) says. */
    struct statvfs vfs, mine;
    CHECK_EQ(sea_test_await_err(sea_fs_space(tmpdir, &vfs), &v), 0);
    CHECK_EQ(statvfs(tmpdir, &mine), 0);
    CHECK_EQ(vfs.f_bsize, mine.f_bsize);
    CHECK_EQ(vfs.f_blocks, mine.f_blocks);
    CHECK_EQ(vfs.f_fsid, mine.f_fsid);
    CHECK(vfs.f_bavail > 0);
    CHECK_EQ(await_msg(sea_fs_space(tpath(c, "nothing"), &vfs), NULL, msg, sizeof(msg)), -ENOENT);
    return sea_ready();
}

/* ---- listing ---- */

#define NFILES 1000

FIBER_CASE(t_dir_listing) {
    char d[PATH_MAX], p[PATH_MAX + 16], msg[512];
    CHECK_EQ(mkdir(tpath(d, "list"), 0755), 0);
    for (int i = 0; i < NFILES; i++) {
        snprintf(p, sizeof(p), "%s/f%04d", d, i);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
    }
    snprintf(p, sizeof(p), "%s/sub", d);
    CHECK_EQ(mkdir(p, 0755), 0);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_dir_open(d), &v), 0);
    sea_dir *dir = v.ptr;
    if (!dir)
        return sea_ready();
    unsigned char *seen = calloc(NFILES, 1);
    int entries = 0, strange = 0, subdirs = 0, wrong_type = 0;
    sea_dir_entry e;
    for (int i = 0; i < NFILES + 10; i++) {
        int err = sea_test_await_err(sea_dir_next(dir, &e), &v);
        CHECK_EQ(err, 0);
        if (err || v.i == 0)
            break;
        CHECK_EQ(v.i, 1);
        entries++;
        int idx;
        char extra;
        if (strcmp(e.name, "sub") == 0) {
            subdirs++;
            wrong_type += e.type != DT_DIR && e.type != DT_UNKNOWN;
        } else if (sscanf(e.name, "f%4d%c", &idx, &extra) == 1 && idx >= 0 && idx < NFILES && strlen(e.name) == 5) {
            seen[idx]++;
            wrong_type += e.type != DT_REG && e.type != DT_UNKNOWN;
        } else {
            fprintf(stderr, "  unexpected entry \"%s\"\n", e.name);
            strange++;
        }
    }
    CHECK_EQ(entries, NFILES + 1);
    CHECK_EQ(strange, 0);
    CHECK_EQ(subdirs, 1);
    CHECK_EQ(wrong_type, 0);
    int once = 0;
    for (int i = 0; i < NFILES; i++)
        once += seen[i] == 1;
    CHECK_EQ(once, NFILES);
    /* At the end it stays at the end. */
    AWAIT_INT(sea_dir_next(dir, &e), 0);
    AWAIT_INT(sea_dir_next(dir, &e), 0);
    sea_dir_close(dir);
    free(seen);
    /* One sea_dir_next at a time. */
    CHECK_EQ(sea_test_await_err(sea_dir_open(d), &v), 0);
    dir = v.ptr;
    sea_dir_entry e2;
    sea_future first = sea_dir_next(dir, &e);
    sea_future second = sea_dir_next(dir, &e2);
    CHECK(sea_future_available(&second));
    CHECK_EQ(await_msg(second, NULL, msg, sizeof(msg)), -EBUSY);
    CHECK_CONTAINS(msg, d);
    AWAIT_INT(first, 1);
    AWAIT_INT(sea_dir_next(dir, &e2), 1);
    CHECK(strcmp(e.name, e2.name) != 0);
    sea_dir_close(dir);
    /* An empty directory lists nothing. */
    CHECK_EQ(sea_test_await_err(sea_dir_open(p), &v), 0);
    dir = v.ptr;
    AWAIT_INT(sea_dir_next(dir, &e), 0);
    sea_dir_close(dir);
    sea_dir_close(NULL);
    /* A missing directory, a file. */
    CHECK_EQ(await_msg(sea_dir_open(tpath(p, "no_such_dir")), NULL, msg, sizeof(msg)), -ENOENT);
    CHECK_CONTAINS(msg, p);
    snprintf(p, sizeof(p), "%s/f0001", d);
    CHECK_EQ(await_msg(sea_dir_open(p), NULL, msg, sizeof(msg)), -ENOTDIR);
    CHECK_EQ(await_msg(sea_dir_open(""), NULL, msg, sizeof(msg)), -EINVAL);
    /* A dropped open closes its directory (no leak under ASan). */
    sea_future_detach(sea_dir_open(d));
    return sea_ready();
}

/* ---- file streams ---- */

#define STREAM_FILE 300001

/* Reads the whole of in into a new buffer (at most max bytes); *len its length; -errno on failure. */
static int drain(sea_input_stream *in, unsigned char **out, size_t *len, size_t max) {
    unsigned char *all = malloc(max + 1);
    size_t got = 0;
    int err = 0;
    for (int i = 0; i < 1000000; i++) {
        sea_buf b;
        sea_value v;
        err = sea_test_await_err(sea_input_read(in, &b), &v);
        if (err || b.len == 0)
            break;
        if (got + b.len <= max)
            memcpy(all + got, b.data, b.len);
        got += b.len;
        sea_buf_release(&b);
    }
    *out = all;
    *len = got;
    return err;
}

FIBER_CASE(t_input_stream) {
    unsigned char *data = malloc(STREAM_FILE);
    uint64_t rng = 4242;
    fill_random(data, STREAM_FILE, &rng);
    write_plain("instream", data, STREAM_FILE);
    for (int buffered = 0; buffered < 2; buffered++) {
        sea_file *f = open_file("instream", O_RDONLY, buffered);
        if (!f)
            continue;
        /* From an unaligned position to the end, 4 KiB at a time, 3 reads ahead. */
        sea_file_stream_options o = {.buffer_size = 4096, .ahead = 3};
        sea_input_stream *in = sea_file_input_stream(f, 12345, &o);
        CHECK(in != NULL);
        unsigned char *all;
        size_t len;
        CHECK_EQ(drain(in, &all, &len, STREAM_FILE), 0);
        CHECK_EQ(len, STREAM_FILE - 12345);
        if (len == STREAM_FILE - 12345)
            CHECK(memcmp(all, data + 12345, len) == 0);
        free(all);
        sea_input_stream_free(in);
        /* The default options, read_exactly across the buffers. */
        in = sea_file_input_stream(f, 1, NULL);
        sea_buf b;
        sea_value v;
        CHECK_EQ(sea_test_await_err(sea_input_read_exactly(in, 200000, &b), &v), 0);
        CHECK_EQ(b.len, 200000);
        if (b.len == 200000)
            CHECK(memcmp(b.data, data + 1, 200000) == 0);
        sea_buf_release(&b);
        CHECK_EQ(sea_test_await_err(sea_input_read_exactly(in, 200000, &b), &v), 0);
        CHECK_EQ(b.len, STREAM_FILE - 200001);
        sea_buf_release(&b);
        sea_input_stream_free(in);
        /* At and past the end: end of stream at once. */
        in = sea_file_input_stream(f, STREAM_FILE, &o);
        CHECK_EQ(drain(in, &all, &len, 10), 0);
        CHECK_EQ(len, 0);
        free(all);
        sea_input_stream_free(in);
        in = sea_file_input_stream(f, 10 * STREAM_FILE + 3, &o);
        CHECK_EQ(drain(in, &all, &len, 10), 0);
        CHECK_EQ(len, 0);
        free(all);
        sea_input_stream_free(in);
        /* Freed with reads in flight: they end on their own (no leak under ASan). */
        in = sea_file_input_stream(f, 0, &(sea_file_stream_options){.buffer_size = 4096, .ahead = 16});
        CHECK_EQ(sea_test_await_err(sea_input_read(in, &b), &v), 0);
        sea_buf_release(&b);
        sea_input_stream_free(in);
        close_file(f);
    }
    free(data);
    return sea_ready();
}

#define OUT_TOTAL 1000003

/* Writes OUT_TOTAL bytes of data to out in odd-sized pieces, then closes it: 0 or the first error. */
static int write_pieces(sea_output_stream *out, const unsigned char *data, uint64_t seed) {
    uint64_t rng = seed;
    size_t done = 0;
    int err = 0;
    for (int i = 0; i < 100000 && done < OUT_TOTAL && !err; i++) {
        uint64_t r = sea_test_rand(&rng);
        size_t n = r % 7 == 0 ? 200001 + r % 3 : 1 + r % 9973; /* mostly small, now and then larger than a buffer */
        if (n > OUT_TOTAL - done)
            n = OUT_TOTAL - done;
        err = sea_test_await_err(sea_output_write(out, data + done, n), NULL);
        done += n;
    }
    CHECK_EQ(done, OUT_TOTAL);
    int cerr = sea_test_await_err(sea_output_close(out), NULL);
    return err ? err : cerr;
}

FIBER_CASE(t_output_stream) {
    unsigned char *data = malloc(OUT_TOTAL);
    uint64_t rng = 99;
    fill_random(data, OUT_TOTAL, &rng);
    for (int buffered = 0; buffered < 2; buffered++) {
        const char *name = buffered ? "out_buffered" : "out_direct";
        sea_file *f = open_file(name, O_RDWR | O_CREAT | O_TRUNC, buffered);
        if (!f)
            continue;
        sea_file_stream_options o = {.buffer_size = buffered ? 0 : 65536, .ahead = buffered ? 0 : 3};
        sea_output_stream *out = sea_file_output_stream(f, 0, &o);
        CHECK(out != NULL);
        CHECK_EQ(write_pieces(out, data, buffered + 5), 0);
        sea_output_stream_free(out);
        sea_value v;
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, OUT_TOTAL);
        size_t len;
        unsigned char *all = read_plain(name, &len);
        CHECK_EQ(len, OUT_TOTAL);
        if (all && len == OUT_TOTAL)
            CHECK(memcmp(all, data, OUT_TOTAL) == 0);
        free(all);
        /* At an aligned position after bytes that stay. */
        size_t at = 2 * io_align(f) > 8192 ? 2 * io_align(f) : 8192;
        CHECK_EQ(sea_test_await_err(sea_file_truncate(f, 0), NULL), 0);
        char p[PATH_MAX];
        int ref = open(tpath(p, name), O_WRONLY | O_CLOEXEC);
        unsigned char *prefix = malloc(at);
        memset(prefix, 'p', at);
        CHECK_EQ(pwrite(ref, prefix, at, 0), (long long)at);
        free(prefix);
        close(ref);
        out = sea_file_output_stream(f, at, &(sea_file_stream_options){.buffer_size = 4096, .ahead = 2});
        CHECK(out != NULL);
        CHECK_EQ(write_pieces(out, data, 17), 0);
        sea_output_stream_free(out);
        CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
        CHECK_EQ(v.u, at + OUT_TOTAL);
        all = read_plain(name, &len);
        CHECK_EQ(len, at + OUT_TOTAL);
        if (all && len == at + OUT_TOTAL) {
            size_t kept = 0;
            for (size_t i = 0; i < at; i++)
                kept += all[i] == 'p';
            CHECK_EQ(kept, at);
            CHECK(memcmp(all + at, data, OUT_TOTAL) == 0);
        }
        free(all);
        /* Not at the write alignment: refused. */
        if (!buffered)
            CHECK(sea_file_output_stream(f, 512 + 1, NULL) == NULL);
        close_file(f);
    }
    free(data);
    return sea_ready();
}

/*
 * An output stream over a file longer than what it writes: "Closing it ...
 * sets the file's size to exactly what was written" (file.h), whatever was
 * there before, for a length the alignment divides and for one it does not.
 */
FIBER_CASE(t_output_stream_over_longer_file) {
    unsigned char *data = malloc(2 * OUT_TOTAL);
    uint64_t rng = 5;
    fill_random(data, 2 * OUT_TOTAL, &rng);
    for (int buffered = 0; buffered < 2; buffered++) {
        for (int aligned = 0; aligned < 2; aligned++) {
            write_plain("out_over", data, 2 * OUT_TOTAL);
            sea_file *f = open_file("out_over", O_RDWR, buffered);
            if (!f)
                continue;
            size_t n = aligned ? 65536 * 4 : 65536 * 4 + 1;
            sea_output_stream *out = sea_file_output_stream(f, 0, NULL);
            CHECK(out != NULL);
            CHECK_EQ(sea_test_await_err(sea_output_write(out, data + 7, n), NULL), 0);
            CHECK_EQ(sea_test_await_err(sea_output_close(out), NULL), 0);
            sea_output_stream_free(out);
            sea_value v;
            CHECK_EQ(sea_test_await_err(sea_file_size(f), &v), 0);
            if (v.u != n)
                fprintf(stderr, "  %s file, %zu bytes streamed over %d: the size is %llu\n",
                        buffered ? "buffered" : "direct", n, 2 * OUT_TOTAL, (unsigned long long)v.u);
            CHECK_EQ(v.u, n);
            close_file(f);
        }
    }
    free(data);
    return sea_ready();
}

/*
 * Streams whose requests fail (file_helper stream_errors): an output stream
 * on a file opened read-only, an input stream on one opened write-only.  The
 * error reaches the next write and the close (whose message names the path)
 * and the reader, once: sea reports nothing on stderr ("exceptional future
 * ignored" would mean a failure it dropped although the stream passed it
 * on).  A process of its own, since a crash there must not end this one.
 */
FIBER_CASE(t_stream_errors) {
    static struct sea_test_child c;
    run_helper("stream_errors", tmpdir, NULL, &c);
    if (!sea_test_exited_with(&c, 0) || strstr(c.err, "exceptional future ignored")) {
        if (sea_test_killed_by(&c, SIGSEGV))
            fprintf(stderr, "  file_helper stream_errors crashed (SIGSEGV)\n");
        report_child("file_helper stream_errors", &c);
    }
    CHECK(sea_test_exited_with(&c, 0));
    CHECK_CONTAINS(c.out, "direct write EBADF close EBADF read EBADF path yes\n");
    CHECK_CONTAINS(c.out, "buffered write EBADF close EBADF read EBADF path yes\n");
    CHECK_CONTAINS(c.out, "fds ok");
    CHECK(!strstr(c.err, "exceptional future ignored"));
    return sea_ready();
}

/*
 * File streams when a direct request completes inside the call that makes
 * it: the epoll backend does so when Linux AIO is unavailable (io_setup(2)
 * refused by a seccomp profile, or fs.aio-max-nr used up).  file_helper
 * noaio runs under no_io_setup (a seccomp filter refusing io_setup, as
 * no_io_uring refuses io_uring_setup); always on the epoll backend.
 */
FIBER_CASE(t_stream_no_aio) {
    static struct sea_test_child c;
    char shards[16];
    snprintf(shards, sizeof(shards), "-c%u", sea_shard_count());
    char *argv[] = {(char *)no_io_setup_path, (char *)helper_path, "noaio", tmpdir, "--reactor-backend=epoll", shards,
                    "--blocked-reactor-notify-ms=0", NULL};
    sea_test_exec(argv, &c);
    if (!sea_test_exited_with(&c, 0)) {
        if (sea_test_killed_by(&c, SIGSEGV))
            fprintf(stderr, "  file_helper noaio crashed (SIGSEGV)\n");
        report_child("file_helper noaio", &c);
    }
    CHECK(sea_test_exited_with(&c, 0));
    CHECK_CONTAINS(c.out, "noaio input ok\n");
    CHECK_CONTAINS(c.out, "noaio output ok\n");
    CHECK_CONTAINS(c.out, "fds ok");
    return sea_ready();
}

/* The same loop copies a file to a socket and a socket to a file. */
static int copy_stream(sea_input_stream *in, sea_output_stream *out, size_t *copied) {
    *copied = 0;
    for (int i = 0; i < 1000000; i++) {
        sea_buf b;
        sea_value v;
        int err = sea_test_await_err(sea_input_read(in, &b), &v);
        if (err)
            return err;
        if (b.len == 0)
            break;
        *copied += b.len;
        err = sea_test_await_err(sea_output_write_buf(out, b), NULL);
        if (err)
            return err;
    }
    return sea_test_await_err(sea_output_close(out), NULL);
}

struct peer {
    int fd;
    unsigned char *data;
    size_t len, done;
};

/* On a thread: reads the peer end until end of stream. */
static void *peer_read(void *arg) {
    struct peer *p = arg;
    for (;;) {
        ssize_t r = read(p->fd, p->data + p->done, p->len + 1 - p->done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        p->done += (size_t)r;
        if (p->done > p->len)
            break;
    }
    return NULL;
}

/* On a thread: writes the data in pieces of 7,777 bytes, then closes. */
static void *peer_write(void *arg) {
    struct peer *p = arg;
    while (p->done < p->len) {
        size_t n = p->len - p->done < 7777 ? p->len - p->done : 7777;
        ssize_t r = write(p->fd, p->data + p->done, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        p->done += (size_t)r;
    }
    close(p->fd);
    return NULL;
}

FIBER_CASE(t_stream_socket) {
    unsigned char *data = malloc(STREAM_FILE), *got = malloc(STREAM_FILE + 1);
    uint64_t rng = 31337;
    fill_random(data, STREAM_FILE, &rng);
    write_plain("to_socket", data, STREAM_FILE);
    /* File to socket. */
    sea_file *f = open_file("to_socket", O_RDONLY, false);
    int fds[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    sea_socket *s = NULL;
    CHECK_EQ(sea_socket_adopt(fds[0], &s), 0);
    struct peer pr = {fds[1], got, STREAM_FILE, 0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, peer_read, &pr), 0);
    sea_input_stream *in = sea_file_input_stream(f, 0, &(sea_file_stream_options){.buffer_size = 16384, .ahead = 2});
    sea_output_stream *out = sea_output_stream_new(s, 0);
    size_t copied;
    CHECK_EQ(copy_stream(in, out, &copied), 0);
    CHECK_EQ(copied, STREAM_FILE);
    sea_input_stream_free(in);
    sea_output_stream_free(out);
    pthread_join(t, NULL);
    CHECK_EQ(pr.done, STREAM_FILE);
    CHECK(memcmp(got, data, STREAM_FILE) == 0);
    sea_socket_close(s);
    close(fds[1]);
    close_file(f);
    /* Socket to file. */
    sea_file *g = open_file("from_socket", O_RDWR | O_CREAT | O_TRUNC, false);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    CHECK_EQ(sea_socket_adopt(fds[0], &s), 0);
    struct peer pw = {fds[1], data, STREAM_FILE, 0};
    CHECK_EQ(pthread_create(&t, NULL, peer_write, &pw), 0);
    in = sea_input_stream_new(s, 0);
    out = sea_file_output_stream(g, 0, NULL);
    CHECK_EQ(copy_stream(in, out, &copied), 0);
    CHECK_EQ(copied, STREAM_FILE);
    sea_input_stream_free(in);
    sea_output_stream_free(out);
    pthread_join(t, NULL);
    sea_socket_close(s);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_file_size(g), &v), 0);
    CHECK_EQ(v.u, STREAM_FILE);
    close_file(g);
    size_t len;
    unsigned char *all = read_plain("from_socket", &len);
    CHECK_EQ(len, STREAM_FILE);
    if (all && len == STREAM_FILE)
        CHECK(memcmp(all, data, STREAM_FILE) == 0);
    free(all);
    free(data);
    free(got);
    return sea_ready();
}

/* ---- every shard at once ---- */

/* On each shard: a file of its own, 32 writes and 32 reads in flight, a listing; an error names what went wrong. */
static sea_future shard_files_body(void) {
    char name[32], p[PATH_MAX];
    unsigned me = sea_shard_id();
    snprintf(name, sizeof(name), "shard%u", me);
    sea_file_options o = {.buffered = me % 2 == 1};
    sea_file *f = SEA_AWAIT(sea_file_open(tpath(p, name), O_RDWR | O_CREAT | O_TRUNC, &o)).ptr;
    size_t blk = 4096;
    unsigned char *w = sea_dma_alloc(4096, 32 * blk), *r = sea_dma_alloc(4096, 32 * blk);
    sea_future fs[32];
    for (unsigned i = 0; i < 32; i++) {
        fill_block(w + i * blk, blk, i, me);
        fs[i] = sea_file_write(f, i * blk, w + i * blk, blk);
    }
    int err = sea_await_value(sea_when_all_succeed(fs, 32, NULL), NULL);
    for (unsigned i = 0; i < 32 && !err; i++)
        fs[i] = sea_file_read(f, i * blk, r + i * blk, blk);
    if (!err)
        err = sea_await_value(sea_when_all_succeed(fs, 32, NULL), NULL);
    bool same = !err && memcmp(w, r, 32 * blk) == 0;
    sea_dma_free(w);
    sea_dma_free(r);
    sea_value v;
    sea_dir *d = err ? NULL : SEA_AWAIT(sea_dir_open(tmpdir)).ptr;
    sea_dir_entry e;
    int n = 0;
    while (d && n < 100000 && sea_await_value(sea_dir_next(d, &e), &v) == 0 && v.i == 1)
        n++;
    sea_dir_close(d);
    int cerr = sea_await_value(sea_file_close(f), NULL);
    if (err || cerr)
        return sea_failed_fmt(err ? err : cerr, "shard %u: I/O on %s failed", me, p);
    if (!same)
        return sea_failed_fmt(-EIO, "shard %u: %s read back differs", me, p);
    if (n < 1)
        return sea_failed_fmt(-EIO, "shard %u: listing %s found nothing", me, tmpdir);
    return sea_ready();
}

static sea_future shard_files(void) {
    return sea_fiber_start(shard_files_body);
}

FIBER_CASE(t_every_shard) {
    char msg[256];
    int err = await_msg(sea_invoke_on_all(shard_files), NULL, msg, sizeof(msg));
    if (err)
        fprintf(stderr, "  %s\n", msg);
    CHECK_EQ(err, 0);
    return sea_ready();
}

/* ---- the scheduler ---- */

/* The value of the first sample line starting with prefix and containing every one of the labels; -1 if none. */
static double sample(const char *text, const char *prefix, const char *label1, const char *label2) {
    size_t plen = strlen(prefix);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        if (len < sizeof(buf) && strncmp(line, prefix, plen) == 0) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            const char *close = strchr(buf, '}');
            if (close && strstr(buf, label1) && strstr(buf, label2) && strstr(buf, label1) < close &&
                strstr(buf, label2) < close)
                return strtod(close + 1, NULL);
        }
        line = end ? end + 1 : NULL;
    }
    return -1;
}

FIBER_CASE(t_io_classes) {
    /* Names and shares. */
    sea_io_class *def = sea_io_class_default();
    CHECK(def != NULL);
    CHECK_STREQ(sea_io_class_name(def), "default");
    CHECK_EQ(sea_io_class_shares(def), 1000);
    CHECK(sea_io_class_get("default", 5) == def);
    CHECK(sea_io_class_get("", 100) == NULL);
    CHECK(sea_io_class_get(NULL, 100) == NULL);
    CHECK(sea_io_class_get("t_zero", 0) == NULL);
    CHECK(sea_io_class_get("t_big", 10001) == NULL);
    char name[80];
    memset(name, 'c', 64);
    name[64] = '\0';
    CHECK(sea_io_class_get(name, 100) == NULL); /* 64 bytes: one too many */
    sea_io_class *c = sea_io_class_get("t_stats", 500);
    CHECK(c != NULL);
    if (!c)
        return sea_ready();
    CHECK(sea_io_class_get("t_stats", 7) == c);
    CHECK_STREQ(sea_io_class_name(c), "t_stats");
    CHECK_EQ(sea_io_class_shares(c), 500);
    CHECK_EQ(sea_io_class_set_shares(c, 0), -EINVAL);
    CHECK_EQ(sea_io_class_set_shares(c, 10001), -EINVAL);
    CHECK_EQ(sea_io_class_set_shares(NULL, 10), -EINVAL);
    CHECK_EQ(sea_io_class_set_shares(c, 10000), 0);
    CHECK_EQ(sea_io_class_shares(c), 10000);
    CHECK_EQ(sea_io_class_set_shares(c, 500), 0);
    /* A class's counts on this shard, from a file opened in it and one moved to it. */
    sea_io_class_stats st0, st;
    CHECK_EQ(sea_io_class_stats_get(c, &st0), 0);
    char p[PATH_MAX];
    unsigned char *data = malloc(64 * 4096);
    uint64_t rng = 1;
    fill_random(data, 64 * 4096, &rng);
    write_plain("classed", data, 64 * 4096);
    sea_value v;
    sea_file_options o = {.io_class = c};
    CHECK_EQ(sea_test_await_err(sea_file_open(tpath(p, "classed"), O_RDWR, &o), &v), 0);
    sea_file *f = v.ptr;
    sea_file *g = open_file("classed", O_RDONLY, true);
    if (!f || !g)
        return sea_ready();
    sea_file_set_io_class(g, c);
    unsigned char *buf = sea_dma_alloc(4096, 4096);
    for (int i = 0; i < 16; i++) {
        CHECK_EQ(sea_test_await_err(sea_file_read(i % 2 ? g : f, (uint64_t)i * 4096, buf, 4096), &v), 0);
        CHECK(memcmp(buf, data + i * 4096, 4096) == 0);
    }
    CHECK_EQ(sea_test_await_err(sea_file_write(f, 0, buf, 4096), &v), 0);
    CHECK_EQ(sea_test_await_err(sea_file_read(g, 64 * 4096 - 10, buf, 4096), &v), 0); /* short: 10 bytes */
    CHECK_EQ(sea_io_class_stats_get(c, &st), 0);
    CHECK_EQ(st.ops - st0.ops, 18);
    CHECK_EQ(st.bytes - st0.bytes, 17 * 4096 + 10);
    CHECK_EQ(st.queued, 0);
    CHECK_EQ(st.executing, 0);
    CHECK(st.latency_ns > st0.latency_ns);
    CHECK(st.cost > st0.cost);
    /* In the Prometheus text, labelled with the class and the shard. */
    sea_buf text;
    CHECK_EQ(sea_test_await_err(sea_metrics_render(&text), &v), 0);
    char *t = malloc(text.len + 1);
    memcpy(t, text.data, text.len);
    t[text.len] = '\0';
    sea_buf_release(&text);
    char shard[32];
    snprintf(shard, sizeof(shard), "shard=\"%u\"", sea_shard_id());
    CHECK_CONTAINS(t, "# TYPE sea_io_ops_total counter");
    CHECK(sample(t, "sea_io_ops_total{", "class=\"t_stats\"", shard) == (double)st.ops);
    CHECK(sample(t, "sea_io_bytes_total{", "class=\"t_stats\"", shard) == (double)st.bytes);
    CHECK(sample(t, "sea_io_queued{", "class=\"t_stats\"", shard) == 0);
    CHECK(sample(t, "sea_io_executing{", "class=\"t_stats\"", shard) == 0);
    CHECK(sample(t, "sea_io_latency_seconds_count{", "class=\"t_stats\"", shard) == (double)st.ops);
    free(t);
    close_file(f);
    close_file(g);
    sea_dma_free(buf);
    free(data);
    /* The class table holds SEA_IO_CLASSES_MAX, the default one included (this uses up the process's table). */
    int made = 0;
    for (int i = 0; i < SEA_IO_CLASSES_MAX + 5; i++) {
        snprintf(name, sizeof(name), "t_fill_%d", i);
        made += sea_io_class_get(name, 1) != NULL;
    }
    CHECK(made < SEA_IO_CLASSES_MAX);
    CHECK(sea_io_class_get("t_one_more", 1) == NULL);
    CHECK(sea_io_class_get("t_stats", 1) == c); /* existing ones are still found */
    return sea_ready();
}

/* With one request at the device, the fair queue alone orders two busy classes: 10 to 1 by their shares. */
FIBER_CASE(t_shares) {
    static struct sea_test_child c;
    run_helper("shares", tmpdir, "--io-max-requests=1", &c);
    if (!sea_test_exited_with(&c, 0))
        report_child("file_helper shares", &c);
    CHECK(sea_test_exited_with(&c, 0));
    unsigned h = 0, l = 0;
    const char *s = strstr(c.out, "first110 ");
    CHECK(s && sscanf(s, "first110 hi %u lo %u", &h, &l) == 2);
    CHECK_EQ(h + l, 110);
    /* 10:1 within 20%: 9 to 12 of the 110. */
    if (l < 9 || l > 12)
        fprintf(stderr, "  the first 110 completions: %u of 1000 shares, %u of 100\n", h, l);
    CHECK(l >= 9 && l <= 12);
    s = strstr(c.out, "first100 ");
    CHECK(s && sscanf(s, "first100 hi %u lo %u", &h, &l) == 2);
    CHECK_EQ(h + l, 100);
    CHECK(h >= 40 && h <= 60);
    CHECK_CONTAINS(c.out, "stats hi 300 1228800 lo 300 1228800");
    return sea_ready();
}

FIBER_CASE(t_model_option) {
    sea_io_properties p;
    CHECK_EQ(sea_io_properties_get(&p), -ENOENT); /* this run has no model */
    char props[PATH_MAX], opt[PATH_MAX + 32], text[512];
    sea_io_properties m = {.read_iops = 95000, .write_iops = 60000, .read_bandwidth = 1900000000,
                           .write_bandwidth = 1100000000};
    int n = sea_io_properties_format(&m, "/var/lib/data", text, sizeof(text));
    CHECK(n > 0 && (size_t)n < sizeof(text));
    write_plain("io_properties.yaml", text, (size_t)n);
    snprintf(opt, sizeof(opt), "--io-properties-file=%s", tpath(props, "io_properties.yaml"));
    static struct sea_test_child c;
    run_helper("model", tmpdir, opt, &c);
    if (!sea_test_exited_with(&c, 0))
        report_child("file_helper model", &c);
    CHECK(sea_test_exited_with(&c, 0));
    CHECK_CONTAINS(c.out, "model 95000 1900000000 60000 1100000000");
    CHECK_CONTAINS(c.out, "reads ok");
    CHECK_CONTAINS(c.out, "split ok");       /* large requests in 128 KiB pieces, whole again */
    CHECK_CONTAINS(c.out, "split error ok"); /* a failed piece fails the request */
    /* A bad model: a command-line error naming the file and the line. */
    const char *bad = "disks:\n  - mountpoint: /\n    read_iops: lots\n";
    write_plain("bad.yaml", bad, strlen(bad));
    snprintf(opt, sizeof(opt), "--io-properties-file=%s", tpath(props, "bad.yaml"));
    run_helper("model", tmpdir, opt, &c);
    CHECK(sea_test_exited_with(&c, 2));
    CHECK_CONTAINS(c.err, props);
    CHECK_CONTAINS(c.err, "line 3");
    snprintf(opt, sizeof(opt), "--io-properties-file=%s", tpath(props, "missing.yaml"));
    run_helper("model", tmpdir, opt, &c);
    CHECK(sea_test_exited_with(&c, 2));
    CHECK_CONTAINS(c.err, props);
    return sea_ready();
}

/* ---- the io-properties file ---- */

static const char valid_text[] = "disks:\n"
                                 "  - mountpoint: /var/lib/data\n"
                                 "    read_iops: 95000\n"
                                 "    read_bandwidth: 1900000000\n"
                                 "    write_iops: 60000\n"
                                 "    write_bandwidth: 1100000000\n";

static int parse(const char *text, sea_io_properties *p, char *err, size_t errlen) {
    return sea_io_properties_parse(text, strlen(text), p, err, errlen);
}

static sea_future t_properties_parse(void) {
    sea_io_properties p;
    char err[200];
    CHECK_EQ(parse(valid_text, &p, err, sizeof(err)), 0);
    CHECK(p.read_iops == 95000 && p.read_bandwidth == 1900000000 && p.write_iops == 60000 &&
          p.write_bandwidth == 1100000000);
    /* Comments, a document marker, CRLF, blank lines, other keys, a second disk (ignored). */
    const char *rich = "# sea-iotune\r\n---\r\ndisks:\r\n\r\n  - mountpoint: /a   # the first\r\n"
                       "    read_iops: 1e5\r\n    read_bandwidth: 2000000000.5\r\n    write_iops: 7\t\r\n"
                       "    write_bandwidth: 3  # bytes\r\n    something_else: x\r\n"
                       "  - mountpoint: /b\r\n    read_iops: 1\r\n    read_bandwidth: 1\r\n";
    CHECK_EQ(parse(rich, &p, err, sizeof(err)), 0);
    CHECK(p.read_iops == 100000 && p.read_bandwidth == 2000000000.5 && p.write_iops == 7 && p.write_bandwidth == 3);
    /* Missing: the list, each field. */
    CHECK_EQ(parse("read_iops: 5\n", &p, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "disks");
    CHECK_EQ(parse("", &p, err, sizeof(err)), -EINVAL);
    const char *fields[] = {"read_iops", "read_bandwidth", "write_iops", "write_bandwidth"};
    for (int i = 0; i < 4; i++) {
        char text[512];
        const char *at = strstr(valid_text, fields[i]);
        const char *eol = strchr(at, '\n');
        snprintf(text, sizeof(text), "%.*s%s", (int)(at - valid_text), valid_text, eol + 1);
        err[0] = '\0';
        CHECK_EQ(parse(text, &p, err, sizeof(err)), -EINVAL);
        CHECK_CONTAINS(err, fields[i]);
    }
    /* Bad numbers, each on its line. */
    const char *values[] = {"lots", "-5", "0", "95k", "1e999", "nan", "inf", "", "0x", "1 2"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char text[512];
        const char *at = strstr(valid_text, "95000");
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - valid_text), valid_text, values[i], at + 5);
        err[0] = '\0';
        CHECK_EQ(parse(text, &p, err, sizeof(err)), -EINVAL);
        CHECK_CONTAINS(err, "line 3");
        CHECK_CONTAINS(err, "read_iops");
    }
    char longnum[200];
    memset(longnum, '9', 150);
    longnum[150] = '\0';
    char text[600];
    snprintf(text, sizeof(text), "disks:\n - read_iops: 1\n   write_iops: %s\n", longnum);
    CHECK_EQ(parse(text, &p, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "line 3");
    /* Garbage. */
    CHECK_EQ(parse("disks:\n  - hello world\n", &p, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "line 2");
    CHECK_EQ(parse("\x01\x02\xff\n", &p, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "line 1");
    /* An error longer than its buffer is cut, NUL-terminated. */
    char small[8];
    memset(small, 'Z', sizeof(small));
    CHECK_EQ(sea_io_properties_parse("garbage", 7, &p, small, 5), -EINVAL);
    CHECK(memchr(small, '\0', 5) != NULL);
    CHECK_EQ(small[5], 'Z');
    /* len is the text's length: what follows is not read. */
    CHECK_EQ(sea_io_properties_parse(valid_text, strlen(valid_text) - 12, &p, err, sizeof(err)), -EINVAL);
    return sea_ready();
}

static sea_future t_properties_format(void) {
    sea_io_properties p = {.read_iops = 95000, .write_iops = 60000, .read_bandwidth = 1900000000,
                           .write_bandwidth = 1100000000},
                      q;
    char buf[512], err[200];
    int n = sea_io_properties_format(&p, "/var/lib/data", buf, sizeof(buf));
    CHECK_EQ(n, (int)strlen(buf));
    CHECK_STREQ(buf, valid_text);
    CHECK_EQ(sea_io_properties_parse(buf, (size_t)n, &q, err, sizeof(err)), 0);
    CHECK(memcmp(&p, &q, sizeof(p)) == 0);
    /* Too small a buffer: the length it needs, a cut text. */
    char small[10];
    CHECK_EQ(sea_io_properties_format(&p, "/var/lib/data", small, sizeof(small)), n);
    CHECK_EQ(strlen(small), sizeof(small) - 1);
    CHECK_EQ(sea_io_properties_format(&p, "/var/lib/data", NULL, 0), n);
    /* Random whole figures round-trip. */
    uint64_t rng = 2024;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        p.read_iops = (double)(1 + sea_test_rand(&rng) % 10000000);
        p.write_iops = (double)(1 + sea_test_rand(&rng) % 10000000);
        p.read_bandwidth = (double)(1 + sea_test_rand(&rng) % 100000000000000ull);
        p.write_bandwidth = (double)(1 + sea_test_rand(&rng) % 100000000000000ull);
        n = sea_io_properties_format(&p, "/mnt/x", buf, sizeof(buf));
        if (n <= 0 || (size_t)n >= sizeof(buf) || sea_io_properties_parse(buf, (size_t)n, &q, err, sizeof(err)) != 0 ||
            memcmp(&p, &q, sizeof(p)) != 0)
            bad++;
    }
    CHECK_EQ(bad, 0);
    return sea_ready();
}

static const char *const prop_fragments[] = {
    "\n", "\r\n", ":", " ", "\t", "-", "- ", "#", "---", "disks:", "disks", "read_iops", "write_iops",
    "read_bandwidth", "write_bandwidth", "mountpoint", ": ", "0", "1", "9", "1e3", "1e999", "-1", ".", "e",
    "nan", "inf", "0x10", "99999999999999999999999999999999999999999999999999999999999999999999999", "\xff",
    "\x00", "  - ",
};

/* 20,000 mutations of a valid text: the parser returns 0 (four positive figures) or -EINVAL (a one-line reason). */
static sea_future t_properties_fuzz(void) {
    uint64_t rng = 0xf00d;
    size_t base = strlen(valid_text);
    char *work = malloc(4096);
    int bad = 0, ok = 0, refused = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(work, valid_text, base);
        size_t len = base;
        int edits = 1 + (int)(sea_test_rand(&rng) % 8);
        for (int k = 0; k < edits; k++) {
            size_t at = len ? sea_test_rand(&rng) % (len + 1) : 0;
            switch (sea_test_rand(&rng) % 5) {
            case 0: /* a byte changed */
                if (at < len)
                    work[at] = (char)(sea_test_rand(&rng) & 0xff);
                break;
            case 1: { /* a fragment inserted */
                size_t nfrag = sizeof(prop_fragments) / sizeof(prop_fragments[0]);
                const char *f = prop_fragments[sea_test_rand(&rng) % nfrag];
                size_t fl = f[0] ? strlen(f) : 1;
                if (len + fl < 4000) {
                    memmove(work + at + fl, work + at, len - at);
                    memcpy(work + at, f, fl);
                    len += fl;
                }
                break;
            }
            case 2: { /* a range deleted */
                size_t n = sea_test_rand(&rng) % 20;
                if (at + n > len)
                    n = len - at;
                memmove(work + at, work + at + n, len - at - n);
                len -= n;
                break;
            }
            case 3: /* cut short */
                len = at;
                break;
            default: { /* a line repeated */
                size_t s = at;
                while (s > 0 && work[s - 1] != '\n')
                    s--;
                size_t e = at;
                while (e < len && work[e] != '\n')
                    e++;
                if (e < len)
                    e++;
                if (len + (e - s) < 4000) {
                    memmove(work + e + (e - s), work + e, len - e);
                    memcpy(work + e, work + s, e - s);
                    len += e - s;
                }
                break;
            }
            }
        }
        /* An exact-size copy, so that ASan sees a read past the end. */
        char *text = malloc(len ? len : 1);
        memcpy(text, work, len);
        char err[72];
        memset(err, 'G', sizeof(err));
        size_t errlen = 1 + sea_test_rand(&rng) % 64;
        sea_io_properties p = {0};
        int rc = sea_io_properties_parse(text, len, &p, err, errlen);
        if (rc == 0) {
            ok++;
            if (!(p.read_iops > 0 && p.write_iops > 0 && p.read_bandwidth > 0 && p.write_bandwidth > 0) ||
                !isfinite(p.read_iops + p.write_iops + p.read_bandwidth + p.write_bandwidth))
                bad++;
        } else if (rc == -EINVAL) {
            refused++;
            const char *nul = memchr(err, '\0', errlen);
            if (!nul || strchr(err, '\n') || (errlen > 1 && err[0] == '\0'))
                bad++;
        } else {
            bad++;
        }
        for (size_t i = errlen; i < sizeof(err); i++)
            bad += err[i] != 'G';
        if (bad == 1) {
            fprintf(stderr, "  fuzz iteration %d: rc %d\n", iter, rc);
            bad++;
        }
        free(text);
    }
    free(work);
    CHECK_EQ(bad, 0);
    CHECK(ok > 1000);
    CHECK(refused > 1000);
    return sea_ready();
}

/* ---- shutdown with requests in flight ---- */

static void check_clean_exit(const char *mode, const char *first_line) {
    static struct sea_test_child c;
    run_helper(mode, tmpdir, NULL, &c);
    bool clean = sea_test_exited_with(&c, 0) && strstr(c.out, first_line) && strstr(c.out, "run: 0") &&
                 strstr(c.out, "fds ok") && !strstr(c.err, "Sanitizer") && !strstr(c.err, "exceptional future");
    if (!clean) {
        fprintf(stderr, "  file_helper %s: the process did not end cleanly (descriptors left open, a leak or a "
                        "dropped failure), see below\n", mode);
        report_child(mode, &c);
    }
    CHECK(sea_test_exited_with(&c, 0));
    CHECK_CONTAINS(c.out, first_line);
    CHECK_CONTAINS(c.out, "run: 0");
    CHECK_CONTAINS(c.out, "fds ok");
    CHECK(!strstr(c.err, "Sanitizer"));
    CHECK(!strstr(c.err, "exceptional future"));
}

FIBER_CASE(t_shutdown_in_flight) {
    check_clean_exit("shutdown", "main done");
    return sea_ready();
}

FIBER_CASE(t_stop_with_loops) {
    check_clean_exit("stop", "stopping");
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_open_properties),
    SEA_TEST(t_open_errors),
    SEA_TEST(t_open_eacces),
    SEA_TEST(t_enospc),
    SEA_TEST(t_no_odirect_fs),
    SEA_TEST(t_random_direct),
    SEA_TEST(t_random_buffered),
    SEA_TEST(t_short_reads),
    SEA_TEST(t_concurrent),
    SEA_TEST(t_misaligned),
    SEA_TEST(t_after_close),
    SEA_TEST(t_unlinked),
    SEA_TEST(t_wrong_direction),
    SEA_TEST(t_append),
    SEA_TEST(t_metadata),
    SEA_TEST(t_paths),
    SEA_TEST(t_dir_listing),
    SEA_TEST(t_input_stream),
    SEA_TEST(t_output_stream),
    SEA_TEST(t_output_stream_over_longer_file),
    SEA_TEST(t_stream_errors),
    SEA_TEST(t_stream_no_aio),
    SEA_TEST(t_stream_socket),
    SEA_TEST(t_every_shard),
    SEA_TEST(t_io_classes),
    SEA_TEST(t_shares),
    SEA_TEST(t_model_option),
    SEA_TEST(t_properties_parse),
    SEA_TEST(t_properties_format),
    SEA_TEST(t_properties_fuzz),
    SEA_TEST(t_page_cache_and_beneath),
    SEA_TEST(t_shutdown_in_flight),
    SEA_TEST(t_stop_with_loops),
};

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fprintf(stderr, "usage: %s FILE_HELPER_PATH NO_IO_SETUP_PATH [harness options]\n", argv[0]);
        return 2;
    }
    helper_path = argv[1];
    no_io_setup_path = argv[2];
    argv[2] = argv[0];
    argv++;
    argc--;
    snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/sea_test_file.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    chmod(tmpdir, 0755); /* the helper that runs as another user reaches the files in it */
    int code = sea_test_main(argc - 1, argv + 1, cases, SEA_TEST_COUNT(cases));
    if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        perror("removing the test directory");
    return code;
}
