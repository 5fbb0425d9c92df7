/*
 * file_helper.c - sea applications on files, for test_file: what needs a
 * process of its own (a stop with requests in flight, process-wide options,
 * another user, a small file system).  The first positional argument picks
 * what it does; the second names a directory (or a file) to work in:
 *
 *   shutdown DIR  main opens a direct and a buffered file, starts 64 reads
 *                 and 64 writes on each, a flush, a file open, stats and a
 *                 directory listing on the syscall threads, frees an input
 *                 stream with its read-ahead in flight, asks both files to
 *                 close, and returns while all of it is in flight: prints
 *                 "main done".  After
 *                 sea_app_run returns: "run: CODE", and "fds ok" if no
 *                 descriptor was left open.  Under ASan the run must show
 *                 no leak.
 *   stop DIR      fibers read, write, stat and list in loops; once 200
 *                 requests have completed main's fiber calls sea_app_stop;
 *                 an at-exit callback tells the loops to end, closes the
 *                 files (which waits for their requests in flight) and
 *                 waits for the listings to end.
 *                 Prints "stopping", then "run: CODE" and "fds ok".
 *   shares DIR    run with --io-max-requests=1: 200 reads of 4 KiB in
 *                 class t_hi (1000 shares) and 200 in t_lo (100), queued
 *                 at once on one file (two descriptors).  Prints "first110 hi H lo L" (the
 *                 classes of the first 110 completions), then, with t_lo
 *                 set to 1000 shares, 100 more of each: "first100 hi H lo L";
 *                 and "stats hi OPS BYTES lo OPS BYTES".
 *   model DIR     run with --io-properties-file: prints the model
 *                 (sea_io_properties_get) as "model RI RB WI WB", does 64
 *                 concurrent reads through the shared bucket: "reads ok".
 *   eacces PATH   drops to uid and gid 65534 if root, then opens PATH:
 *                 prints "open: ERRNAME: MESSAGE" (or "open: ok").
 *   enospc DIR    DIR is a small file system: writes 4 KiB blocks until one
 *                 fails (at most 100,000): "blocks N", "write: ERRNAME:
 *                 MESSAGE"; then an output stream of 1 MiB on a second file:
 *                 "stream: ERRNAME: MESSAGE" (the error of its close).
 *   nodirect DIR  DIR is a file system that refuses O_DIRECT (ramfs): opens
 *                 a new file with O_CREAT | O_EXCL ("excl: ok", or "excl:
 *                 ERRNAME: MESSAGE"), then another with O_CREAT, writes and
 *                 reads it at odd offsets ("fallback ok" if neither is
 *                 direct and the bytes come back).
 *   stream_errors DIR  for a direct and a buffered file: an output stream on
 *                 a file opened read-only (300,000 bytes in pieces of 10,000,
 *                 then the close) and an input stream on one opened
 *                 write-only (the first read, then the stream freed with its
 *                 read-ahead in flight); prints "KIND write ERR close ERR
 *                 read ERR path PATH_IN_CLOSE_MESSAGE" per kind.
 *   noaio DIR     run under no_io_setup, which refuses io_setup(2) (a
 *                 seccomp filter, as a container may have; the epoll
 *                 backend then makes direct reads and
 *                 writes at once, inside the call): an input stream reads a
 *                 direct file of 1,000,003 bytes from offset 3 ("noaio input
 *                 ok"), an output stream writes them in odd pieces to
 *                 another ("noaio output ok").
 *
 * A line "file_helper: check failed: ..." and exit code 3 mean a check in
 * the helper failed.
 */
#include <sea/sea.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int helper_failures;
#define HCHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "file_helper: check failed: %s (line %d)\n", #cond, __LINE__); \
            helper_failures++; \
        } \
    } while (0)

static const char *mode, *where;

static char *path_in(char *buf, size_t len, const char *name) {
    snprintf(buf, len, "%s/%s", where, name);
    return buf;
}

/* Descriptors open in this process. */
static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Opens (in a fiber) NAME under the directory; NULL (and a failed check) if it cannot. */
static sea_file *open_in(const char *name, int flags, bool buffered, sea_io_class *c) {
    char p[512];
    sea_file_options o = {.buffered = buffered, .io_class = c};
    sea_value v;
    sea_future r = sea_await(sea_file_open(path_in(p, sizeof(p), name), flags, &o));
    if (sea_future_failed(&r)) {
        fprintf(stderr, "file_helper: open %s: %s\n", p, sea_future_message(&r) ? sea_future_message(&r) : "");
        helper_failures++;
        sea_future_detach(r);
        return NULL;
    }
    v = sea_future_value(&r);
    return v.ptr;
}

/* Writes len bytes (the alphabet over and over) to NAME with plain calls. */
static void fill_file(const char *name, size_t len) {
    char p[512];
    FILE *fp = fopen(path_in(p, sizeof(p), name), "w");
    HCHECK(fp != NULL);
    if (!fp)
        return;
    for (size_t i = 0; i < len; i++)
        fputc('a' + (int)(i % 26), fp);
    fclose(fp);
}

/* ---- shutdown: main returns with everything in flight ---- */

#define SHUT_REQS 64
#define SHUT_BLOCK 4096
/* Buffers the kernel may write into until the shard has stopped: freed after sea_app_run. */
static char *shut_bufs;
static sea_dir *shut_dir;
static sea_dir_entry shut_entry;
static struct stat shut_stats[8];

static sea_future shutdown_main(void) {
    fill_file("shut_direct", SHUT_REQS * SHUT_BLOCK);
    fill_file("shut_buffered", SHUT_REQS * SHUT_BLOCK);
    sea_file *fd_ = open_in("shut_direct", O_RDWR, false, NULL);
    sea_file *fb = open_in("shut_buffered", O_RDWR, true, NULL);
    sea_value v;
    char p[512];
    HCHECK(sea_await_value(sea_dir_open(where), &v) == 0);
    shut_dir = v.ptr;
    if (!fd_ || !fb || !shut_dir)
        return sea_ready_int(3);
    /* A stream reading ahead: one buffer read, then freed with its read-ahead in flight. */
    sea_input_stream *in = sea_file_input_stream(fd_, 0, &(sea_file_stream_options){.buffer_size = 4096, .ahead = 8});
    HCHECK(in != NULL);
    if (in) {
        sea_buf got;
        HCHECK(sea_await_value(sea_input_read(in, &got), NULL) == 0);
        sea_buf_release(&got);
        sea_input_stream_free(in);
    }
    char *b = shut_bufs;
    for (int i = 0; i < SHUT_REQS; i++) {
        /* Reads of the first half's blocks and writes to the second half's, on both files. */
        sea_future_detach(sea_file_read(fd_, (uint64_t)i * SHUT_BLOCK, b, SHUT_BLOCK));
        b += SHUT_BLOCK;
        sea_future_detach(sea_file_write(fd_, (uint64_t)(SHUT_REQS + i) * SHUT_BLOCK, b, SHUT_BLOCK));
        b += SHUT_BLOCK;
        sea_future_detach(sea_file_read(fb, (uint64_t)i * SHUT_BLOCK + 1, b, SHUT_BLOCK - 1));
        b += SHUT_BLOCK;
        sea_future_detach(sea_file_write(fb, (uint64_t)(SHUT_REQS + i) * SHUT_BLOCK, b, SHUT_BLOCK));
        b += SHUT_BLOCK;
    }
    sea_future_detach(sea_file_flush(fd_));
    sea_future_detach(sea_file_size(fb));
    for (int i = 0; i < 8; i++)
        sea_future_detach(sea_path_stat(where, &shut_stats[i], false));
    sea_future_detach(sea_dir_next(shut_dir, &shut_entry));
    /* An open in flight: dropped, its file is closed. */
    sea_future_detach(sea_file_open(path_in(p, sizeof(p), "shut_direct"), O_RDONLY, NULL));
    /* The close waits for the requests in flight, which do not end before the stop. */
    sea_future_detach(sea_file_close(fd_));
    sea_future_detach(sea_file_close(fb));
    puts("main done");
    return sea_ready();
}

/* ---- stop: loops in flight when sea_app_stop is called ---- */

static sea_file *stop_direct, *stop_buffered;
static unsigned stop_completed;
static bool stop_ending; /* set at exit, before the files close: nothing new starts */
static sea_gate stop_gate = SEA_GATE_INIT;
static char *stop_bufs; /* freed after sea_app_run */

static sea_future stop_reader(int *which) {
    sea_file *f = *which % 2 ? stop_buffered : stop_direct;
    char *buf = stop_bufs + (size_t)*which * SHUT_BLOCK;
    for (int i = 0; i < 100000 && !stop_ending; i++) {
        uint64_t pos = (uint64_t)(i % SHUT_REQS) * SHUT_BLOCK;
        sea_future op = *which % 4 < 2 ? sea_file_read(f, pos, buf, SHUT_BLOCK)
                                       : sea_file_write(f, pos + SHUT_REQS * SHUT_BLOCK, buf, SHUT_BLOCK);
        int err = sea_await_value(op, NULL);
        HCHECK(err == 0);
        if (err)
            return sea_ready();
        stop_completed++;
    }
    return sea_ready();
}

static sea_future stop_lister(void) {
    for (int i = 0; i < 100000 && !stop_ending; i++) {
        sea_value v;
        if (sea_await_value(sea_dir_open(where), &v) != 0)
            return sea_ready();
        sea_dir *d = v.ptr;
        sea_dir_entry e;
        int n = 0;
        while (n < 10000 && sea_await_value(sea_dir_next(d, &e), &v) == 0 && v.i == 1)
            n++;
        sea_dir_close(d);
        struct stat st;
        if (sea_await_value(sea_path_stat(where, &st, false), NULL) != 0)
            return sea_ready();
        stop_completed++;
    }
    return sea_ready();
}

static sea_future close_at_exit(void) {
    static sea_future fs[3]; /* stays where it is until the wait ends */
    stop_ending = true;
    fs[0] = sea_file_close(stop_direct);
    fs[1] = sea_file_close(stop_buffered);
    fs[2] = sea_gate_close(&stop_gate);
    return sea_when_all_succeed(fs, 3, NULL);
}

static sea_future stop_main(void) {
    fill_file("stop_direct", 2 * SHUT_REQS * SHUT_BLOCK);
    fill_file("stop_buffered", 2 * SHUT_REQS * SHUT_BLOCK);
    stop_direct = open_in("stop_direct", O_RDWR, false, NULL);
    stop_buffered = open_in("stop_buffered", O_RDWR, true, NULL);
    if (!stop_direct || !stop_buffered)
        return sea_ready_int(3);
    HCHECK(sea_app_at_exit(close_at_exit) == 0);
    for (int i = 0; i < 16; i++)
        sea_future_detach(sea_fiber_start(stop_reader, i));
    for (int i = 0; i < 2; i++)
        sea_future_detach(sea_fiber_start_in(&stop_gate, stop_lister));
    for (int i = 0; i < 100000 && stop_completed < 200; i++)
        HCHECK(sea_await_value(sea_yield(), NULL) == 0);
    HCHECK(stop_completed >= 200);
    puts("stopping");
    HCHECK(sea_app_stop(0) == 0);
    return sea_app_stopped();
}

/* ---- shares: the fair queue's order with one request at the device ---- */

#define SHARE_REQS 200
static char shares_log[2 * SHARE_REQS + 200];
static unsigned shares_logged;

static sea_future record(char *cls, sea_future *in) {
    HCHECK(!sea_future_failed(in));
    HCHECK(sea_future_value(in).size == 4096);
    if (shares_logged < sizeof(shares_log))
        shares_log[shares_logged++] = *cls;
    return sea_ready();
}

/* Queues n reads of 4 KiB in each of the two files' classes, hi first; waits for all. */
static int queue_both(sea_file *hi, sea_file *lo, char *buf, int n) {
    sea_future *fs = malloc(sizeof(*fs) * (size_t)(2 * n));
    if (!fs)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        fs[i] = sea_then_wrapped(sea_file_read(hi, (uint64_t)(i % 64) * 4096, buf + (size_t)i * 4096, 4096), record,
                                 (char)'h');
    for (int i = 0; i < n; i++)
        fs[n + i] = sea_then_wrapped(sea_file_read(lo, (uint64_t)(i % 64) * 4096,
                                                   buf + (size_t)(SHARE_REQS + i) * 4096, 4096),
                                     record, (char)'l');
    int err = sea_await_value(sea_when_all_succeed(fs, (size_t)(2 * n), NULL), NULL);
    free(fs);
    return err;
}

static void count_log(const char *what, unsigned from, unsigned n) {
    unsigned h = 0, l = 0;
    for (unsigned i = from; i < from + n && i < shares_logged; i++) {
        h += shares_log[i] == 'h';
        l += shares_log[i] == 'l';
    }
    printf("%s hi %u lo %u\n", what, h, l);
}

static sea_future shares_main(void) {
    fill_file("shares", 64 * 4096);
    sea_io_class *hi = sea_io_class_get("t_hi", 1000), *lo = sea_io_class_get("t_lo", 100);
    HCHECK(hi && lo);
    /* Two handles on one file, one per class. */
    sea_file *fh = open_in("shares", O_RDONLY, false, hi);
    sea_file *fl = open_in("shares", O_RDONLY, false, NULL);
    if (!fh || !fl || !hi || !lo)
        return sea_ready_int(3);
    sea_file_set_io_class(fl, lo);
    char *buf = sea_dma_alloc(4096, (size_t)2 * SHARE_REQS * 4096);
    HCHECK(buf != NULL);
    if (!buf)
        return sea_ready_int(3);
    HCHECK(queue_both(fh, fl, buf, SHARE_REQS) == 0);
    count_log("first110", 0, 110);
    unsigned second = shares_logged;
    HCHECK(sea_io_class_set_shares(lo, 1000) == 0);
    HCHECK(sea_io_class_shares(lo) == 1000);
    HCHECK(queue_both(fh, fl, buf, 100) == 0);
    count_log("first100", second, 100);
    sea_io_class_stats sh, sl;
    HCHECK(sea_io_class_stats_get(hi, &sh) == 0);
    HCHECK(sea_io_class_stats_get(lo, &sl) == 0);
    printf("stats hi %llu %llu lo %llu %llu\n", (unsigned long long)sh.ops, (unsigned long long)sh.bytes,
           (unsigned long long)sl.ops, (unsigned long long)sl.bytes);
    HCHECK(sh.queued == 0 && sh.executing == 0 && sl.queued == 0 && sl.executing == 0);
    sea_dma_free(buf);
    HCHECK(sea_await_value(sea_file_close(fh), NULL) == 0);
    HCHECK(sea_await_value(sea_file_close(fl), NULL) == 0);
    return sea_ready();
}

/* ---- model: --io-properties-file ---- */

static sea_future model_main(void) {
    sea_io_properties p;
    int rc = sea_io_properties_get(&p);
    HCHECK(rc == 0);
    if (rc)
        return sea_ready_int(3);
    printf("model %.0f %.0f %.0f %.0f\n", p.read_iops, p.read_bandwidth, p.write_iops, p.write_bandwidth);
    fill_file("model", 64 * 4096);
    sea_file *f = open_in("model", O_RDONLY, false, NULL);
    char *buf = sea_dma_alloc(4096, 64 * 4096);
    if (!f || !buf)
        return sea_ready_int(3);
    sea_future fs[64];
    for (int i = 0; i < 64; i++)
        fs[i] = sea_file_read(f, (uint64_t)i * 4096, buf + (size_t)i * 4096, 4096);
    sea_value vals[64];
    HCHECK(sea_await_value(sea_when_all_succeed(fs, 64, vals), NULL) == 0);
    int good = 0;
    for (int i = 0; i < 64; i++)
        good += vals[i].size == 4096 && buf[(size_t)i * 4096] == 'a' + (int)((size_t)i * 4096 % 26);
    if (good == 64)
        puts("reads ok");
    sea_dma_free(buf);
    HCHECK(sea_await_value(sea_file_close(f), NULL) == 0);

    /*
     * With a model, requests over 128 KiB go to the device in 128 KiB
     * pieces: a write of 9 pieces (the last one short) and a read past the
     * end of the file must come back whole, the read short by exactly what
     * is missing, and the class must have seen the pieces.
     */
    size_t len = 8 * 131072 + 3 * 4096;
    char *w = sea_dma_alloc(4096, len), *r = sea_dma_alloc(4096, 2 * len);
    sea_file *g = open_in("split", O_RDWR | O_CREAT | O_TRUNC, false, NULL);
    if (!w || !r || !g)
        return sea_ready_int(3);
    for (size_t i = 0; i < len; i++)
        w[i] = (char)(i * 7 + i / 4096);
    sea_io_class_stats before, after;
    HCHECK(sea_io_class_stats_get(NULL, &before) == 0);
    sea_value v;
    HCHECK(sea_await_value(sea_file_write(g, 0, w, len), &v) == 0 && v.size == len);
    HCHECK(sea_await_value(sea_file_read(g, 0, r, 2 * len), &v) == 0 && v.size == len);
    HCHECK(sea_io_class_stats_get(NULL, &after) == 0);
    if (v.size == len && memcmp(w, r, len) == 0 && after.ops - before.ops >= 9 + 9)
        puts("split ok");
    HCHECK(sea_await_value(sea_file_close(g), NULL) == 0);
    /* A piece that fails fails the whole request, naming the file. */
    sea_file *ro = open_in("split", O_RDONLY, false, NULL);
    if (!ro)
        return sea_ready_int(3);
    sea_future bad = sea_await(sea_file_write(ro, 0, w, len));
    if (sea_future_failed(&bad) && sea_future_error(&bad) == -EBADF && strstr(sea_future_message(&bad), "split"))
        puts("split error ok");
    sea_future_detach(bad);
    HCHECK(sea_await_value(sea_file_close(ro), NULL) == 0);
    sea_dma_free(w);
    sea_dma_free(r);
    return sea_ready();
}

/* ---- eacces: another user ---- */

static sea_future eacces_main(void) {
    sea_future r = sea_await(sea_file_open(where, O_RDONLY, NULL));
    if (sea_future_failed(&r)) {
        int err = sea_future_error(&r);
        printf("open: %s: %s\n", sea_errname(err), sea_future_message(&r) ? sea_future_message(&r) : "");
        sea_future_detach(r);
        return sea_ready();
    }
    sea_file *f = sea_future_value(&r).ptr;
    puts("open: ok");
    HCHECK(sea_await_value(sea_file_close(f), NULL) == 0);
    return sea_ready();
}

static int drop_privileges(void) {
    if (geteuid() != 0)
        return 0;
    if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) {
        perror("file_helper: dropping privileges");
        return -1;
    }
    /* A changed uid makes the process undumpable, which LeakSanitizer cannot work with. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return 0;
}

/* ---- enospc: a full file system ---- */

static sea_future enospc_main(void) {
    sea_file *f = open_in("fill", O_RDWR | O_CREAT | O_TRUNC, false, NULL);
    char *buf = sea_dma_alloc(4096, 4096);
    if (!f || !buf)
        return sea_ready_int(3);
    memset(buf, 'z', 4096);
    int blocks = 0;
    for (; blocks < 100000; blocks++) {
        sea_future w = sea_await(sea_file_write(f, (uint64_t)blocks * 4096, buf, 4096));
        if (sea_future_failed(&w)) {
            int err = sea_future_error(&w);
            printf("blocks %d\nwrite: %s: %s\n", blocks, sea_errname(err),
                   sea_future_message(&w) ? sea_future_message(&w) : "");
            sea_future_detach(w);
            break;
        }
        HCHECK(sea_future_value(&w).size == 4096);
    }
    sea_dma_free(buf);
    /* A stream into the full file system: the close reports the first failed write. */
    sea_file *g = open_in("stream", O_RDWR | O_CREAT | O_TRUNC, true, NULL);
    if (!g)
        return sea_ready_int(3);
    sea_output_stream *out = sea_file_output_stream(g, 0, &(sea_file_stream_options){.buffer_size = 16384});
    HCHECK(out != NULL);
    static char chunk[10000];
    memset(chunk, 'y', sizeof(chunk));
    int werr = 0;
    for (int i = 0; i < 105 && !werr; i++)
        werr = sea_await_value(sea_output_write(out, chunk, sizeof(chunk)), NULL);
    sea_future c = sea_await(sea_output_close(out));
    int err = sea_future_failed(&c) ? sea_future_error(&c) : 0;
    printf("stream: %s: %s\n", sea_errname(err ? err : werr),
           err && sea_future_message(&c) ? sea_future_message(&c) : "");
    sea_future_detach(c);
    sea_output_stream_free(out);
    HCHECK(sea_await_value(sea_file_close(f), NULL) == 0);
    HCHECK(sea_await_value(sea_file_close(g), NULL) == 0);
    return sea_ready();
}

/* ---- nodirect: a file system without O_DIRECT ---- */

static sea_future nodirect_main(void) {
    char p[512];
    sea_future r = sea_await(sea_file_open(path_in(p, sizeof(p), "excl"), O_RDWR | O_CREAT | O_EXCL, NULL));
    if (sea_future_failed(&r)) {
        int err = sea_future_error(&r);
        printf("excl: %s: %s\n", sea_errname(err), sea_future_message(&r) ? sea_future_message(&r) : "");
        sea_future_detach(r);
    } else {
        sea_file *f = sea_future_value(&r).ptr;
        puts(sea_file_is_direct(f) ? "excl: direct" : "excl: ok");
        HCHECK(sea_await_value(sea_file_close(f), NULL) == 0);
    }
    sea_file *g = open_in("plain", O_RDWR | O_CREAT, false, NULL);
    if (!g)
        return sea_ready_int(3);
    char back[16];
    sea_value v;
    bool ok = !sea_file_is_direct(g) && sea_file_memory_alignment(g) == 1 && sea_file_write_alignment(g) == 1;
    ok = ok && sea_await_value(sea_file_write(g, 3, "0123456789", 10), &v) == 0 && v.size == 10;
    ok = ok && sea_await_value(sea_file_read(g, 5, back, 16), &v) == 0 && v.size == 8 &&
         memcmp(back, "23456789", 8) == 0;
    HCHECK(sea_await_value(sea_file_close(g), NULL) == 0);
    if (ok)
        puts("fallback ok");
    return sea_ready();
}

/* ---- stream_errors: streams whose requests fail ---- */

static sea_future stream_errors_main(void) {
    static char data[10000];
    memset(data, 's', sizeof(data));
    fill_file("stream_err", 300000);
    char p[512];
    path_in(p, sizeof(p), "stream_err");
    for (int buffered = 0; buffered < 2; buffered++) {
        sea_file *r = open_in("stream_err", O_RDONLY, buffered, NULL);
        sea_file *w = open_in("stream_err", O_WRONLY, buffered, NULL);
        if (!r || !w)
            return sea_ready_int(3);
        sea_output_stream *out = sea_file_output_stream(r, 0, &(sea_file_stream_options){.buffer_size = 16384});
        HCHECK(out != NULL);
        int werr = 0;
        for (int i = 0; out && i < 30 && !werr; i++)
            werr = sea_await_value(sea_output_write(out, data, sizeof(data)), NULL);
        sea_future c = sea_await(sea_output_close(out));
        int cerr = sea_future_failed(&c) ? sea_future_error(&c) : 0;
        const char *cmsg = sea_future_failed(&c) ? sea_future_message(&c) : NULL;
        bool named = cmsg && strstr(cmsg, p);
        sea_future_detach(c);
        sea_output_stream_free(out);
        sea_input_stream *in = sea_file_input_stream(w, 0, &(sea_file_stream_options){.buffer_size = 4096, .ahead = 8});
        HCHECK(in != NULL);
        sea_buf b;
        int rerr = sea_await_value(sea_input_read(in, &b), NULL);
        sea_input_stream_free(in);
        /* The closes wait for every request in flight, the freed stream's reads included. */
        HCHECK(sea_await_value(sea_file_close(r), NULL) == 0);
        HCHECK(sea_await_value(sea_file_close(w), NULL) == 0);
        printf("%s write %s close %s read %s path %s\n", buffered ? "buffered" : "direct", sea_errname(werr),
               sea_errname(cerr), sea_errname(rerr), named ? "yes" : "no");
    }
    return sea_ready();
}

/* ---- noaio: direct I/O made at once on the epoll backend ---- */


#define NOAIO_TOTAL 1000003

static sea_future noaio_main(void) {
    unsigned char *data = malloc(NOAIO_TOTAL);
    if (!data)
        return sea_ready_int(3);
    for (size_t i = 0; i < NOAIO_TOTAL; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 9));
    char p[512];
    FILE *fp = fopen(path_in(p, sizeof(p), "noaio_in"), "w");
    HCHECK(fp && fwrite(data, 1, NOAIO_TOTAL, fp) == NOAIO_TOTAL);
    if (fp)
        fclose(fp);
    /* Reading it back through an input stream, from an unaligned position. */
    sea_file *f = open_in("noaio_in", O_RDONLY, false, NULL);
    if (!f)
        return sea_ready_int(3);
    HCHECK(sea_file_is_direct(f));
    sea_input_stream *in = sea_file_input_stream(f, 3, &(sea_file_stream_options){.buffer_size = 65536, .ahead = 3});
    size_t got = 3;
    bool same = true;
    for (int i = 0; in && i < 100000; i++) {
        sea_buf b;
        if (sea_await_value(sea_input_read(in, &b), NULL) != 0 || b.len == 0)
            break;
        same = same && got + b.len <= NOAIO_TOTAL && memcmp(b.data, data + got, b.len) == 0;
        got += b.len;
        sea_buf_release(&b);
    }
    sea_input_stream_free(in);
    HCHECK(sea_await_value(sea_file_close(f), NULL) == 0);
    if (same && got == NOAIO_TOTAL)
        puts("noaio input ok");
    /* Writing it through an output stream, in odd pieces. */
    f = open_in("noaio_out", O_RDWR | O_CREAT | O_TRUNC, false, NULL);
    if (!f)
        return sea_ready_int(3);
    sea_output_stream *out = sea_file_output_stream(f, 0, &(sea_file_stream_options){.buffer_size = 65536, .ahead = 3});
    HCHECK(out != NULL);
    size_t done = 0;
    int err = 0;
    for (int i = 0; out && done < NOAIO_TOTAL && !err && i < 100000; i++) {
        size_t n = 1 + (size_t)(i * 7919) % 30011;
        if (n > NOAIO_TOTAL - done)
            n = NOAIO_TOTAL - done;
        err = sea_await_value(sea_output_write(out, data + done, n), NULL);
        done += n;
    }
    HCHECK(err == 0);
    HCHECK(sea_await_value(sea_output_close(out), NULL) == 0);
    sea_output_stream_free(out);
    sea_value v;
    HCHECK(sea_await_value(sea_file_size(f), &v) == 0);
    HCHECK(sea_await_value(sea_file_close(f), NULL) == 0);
    fp = fopen(path_in(p, sizeof(p), "noaio_out"), "r");
    unsigned char *back = malloc(NOAIO_TOTAL + 1);
    size_t n = fp && back ? fread(back, 1, NOAIO_TOTAL + 1, fp) : 0;
    if (fp)
        fclose(fp);
    if (v.u == NOAIO_TOTAL && n == NOAIO_TOTAL && memcmp(back, data, n) == 0)
        puts("noaio output ok");
    else
        printf("noaio output: size %llu, %zu bytes read back\n", (unsigned long long)v.u, n);
    free(back);
    free(data);
    return sea_ready();
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Started from a shard (pinned to one CPU, signals blocked): every CPU, no signal blocked, as from a shell. */
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < CPU_SETSIZE; i++)
        CPU_SET(i, &all);
    sched_setaffinity(0, sizeof(all), &all);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* A crash is reported by the test from the exit status: no core file to write. */
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    /* The mode and the path are the first two positional arguments; the rest go to sea. */
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    int n = 0;
    if (!args)
        return 1;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && argv[i][0] != '-' && !mode)
            mode = argv[i];
        else if (i > 0 && argv[i][0] != '-' && !where)
            where = argv[i];
        else
            args[n++] = argv[i];
    }
    if (!mode || !where) {
        fprintf(stderr, "usage: %s MODE DIR [sea options]\n", argv[0]);
        free(args);
        return 2;
    }
    int fds_before = count_fds(), code;
    if (strcmp(mode, "shutdown") == 0) {
        shut_bufs = aligned_alloc(4096, (size_t)4 * SHUT_REQS * SHUT_BLOCK);
        code = sea_app_run_fiber(n, args, shutdown_main);
        free(shut_bufs);
        sea_dir_close(shut_dir); /* its listing was pending at the stop: nothing is now */
    } else if (strcmp(mode, "stop") == 0) {
        stop_bufs = aligned_alloc(4096, (size_t)16 * SHUT_BLOCK);
        code = sea_app_run_fiber(n, args, stop_main);
        free(stop_bufs);
    } else if (strcmp(mode, "shares") == 0) {
        code = sea_app_run_fiber(n, args, shares_main);
    } else if (strcmp(mode, "model") == 0) {
        code = sea_app_run_fiber(n, args, model_main);
    } else if (strcmp(mode, "eacces") == 0) {
        code = drop_privileges() < 0 ? 3 : sea_app_run_fiber(n, args, eacces_main);
    } else if (strcmp(mode, "enospc") == 0) {
        code = sea_app_run_fiber(n, args, enospc_main);
    } else if (strcmp(mode, "nodirect") == 0) {
        code = sea_app_run_fiber(n, args, nodirect_main);
    } else if (strcmp(mode, "stream_errors") == 0) {
        code = sea_app_run_fiber(n, args, stream_errors_main);
    } else if (strcmp(mode, "noaio") == 0) {
        code = sea_app_run_fiber(n, args, noaio_main); /* run under no_io_setup: Linux AIO refused */
    } else {
        fprintf(stderr, "file_helper: unknown mode %s\n", mode);
        code = 2;
    }
    free(args);
    printf("run: %d\n", code);
    int fds_after = count_fds();
    if (fds_after == fds_before)
        puts("fds ok");
    else
        printf("fds: %d before, %d after\n", fds_before, fds_after);
    return helper_failures ? 3 : code;
}
