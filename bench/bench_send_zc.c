/*
 * bench_send_zc.c - does io_uring's zero-copy send (IORING_OP_SEND_ZC) pay
 * off for large writes over loopback?  The question decides whether sea's
 * io_uring backend uses it for big sea_socket_write calls.
 *
 * A sender pinned to CPU 1 pushes 512 MiB through a TCP connection over
 * 127.0.0.1 to a reader process pinned to CPU 0, in writes of 16 KiB, 64 KiB
 * and 1 MiB, one write in flight at a time (as a socket write in sea is),
 * once with plain IORING_OP_SEND and once with IORING_OP_SEND_ZC (which also
 * waits for the kernel's "buffer released" notification before reusing the
 * buffer, as a caller must).  Reported: the sender's CPU time per GiB and the
 * throughput, medians of interleaved runs (SEA_BENCH_RUNS, default 3), and
 * the zero-copy/plain ratio of CPU time.
 *
 * This uses liburing directly, not sea: it measures the kernel mechanism.
 */
#include "bench.h"
#include "bench_proc.h"

#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL ((size_t)512 << 20)

/* The reader: connects, reads everything, exits 0 if it got TOTAL bytes. */
static void reader(const struct sockaddr_in *a) {
    bench_pin(0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0)
        _exit(2);
    static char b[1 << 20];
    size_t got = 0;
    ssize_t r;
    while ((r = read(c, b, sizeof(b))) > 0)
        got += (size_t)r;
    _exit(got == TOTAL ? 0 : 1);
}

struct result {
    double cpu_s_per_gib, gb_per_s;
    bool ok;
};

static struct result run(size_t chunk, bool zero_copy) {
    struct result res = {0, 0, false};
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        return res;
    pid_t pid = fork();
    if (pid == 0)
        reader(&a);
    int s = accept(l, NULL, NULL);
    close(l);
    char *buf = malloc(chunk);
    memset(buf, 'z', chunk);
    struct io_uring ring;
    io_uring_queue_init(8, &ring, 0);
    double c0 = bench_self_cpu_seconds();
    int64_t t0 = bench_ns();
    size_t sent = 0;
    bool in_flight = false, failed = false;
    int notifications = 0; /* zero-copy buffers the kernel still holds */
    while (!failed && (sent < TOTAL || in_flight || notifications)) {
        if (sent < TOTAL && !in_flight && notifications == 0) {
            struct io_uring_sqe *q = io_uring_get_sqe(&ring);
            size_t n = TOTAL - sent < chunk ? TOTAL - sent : chunk;
            if (zero_copy) {
                io_uring_prep_send_zc(q, s, buf, n, MSG_WAITALL, 0);
                notifications++;
            } else {
                io_uring_prep_send(q, s, buf, n, MSG_WAITALL);
            }
            in_flight = true;
        }
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe *c;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, c) {
            seen++;
            if (c->flags & IORING_CQE_F_NOTIF) {
                notifications--;
                continue;
            }
            if (c->res < 0) {
                failed = true;
                continue;
            }
            sent += (size_t)c->res;
            in_flight = false;
            if (zero_copy && !(c->flags & IORING_CQE_F_MORE))
                notifications--; /* no notification will follow */
        }
        io_uring_cq_advance(&ring, seen);
    }
    close(s);
    int status = 0;
    waitpid(pid, &status, 0);
    double elapsed = (double)(bench_ns() - t0) / 1e9;
    res.cpu_s_per_gib = (bench_self_cpu_seconds() - c0) * (double)(1u << 30) / (double)TOTAL;
    res.gb_per_s = (double)TOTAL / elapsed / 1e9;
    res.ok = !failed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    io_uring_queue_exit(&ring);
    free(buf);
    return res;
}

int main(void) {
    bench_pin(1);
    int runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 3;
    static const size_t chunks[] = {16384, 65536, 1 << 20};
    printf("# loopback TCP, sender on CPU 1, reader on CPU 0, %zu MiB per run; medians of %d runs\n", TOTAL >> 20,
           runs);
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct bench_series cpu[2], rate[2];
        memset(cpu, 0, sizeof(cpu));
        memset(rate, 0, sizeof(rate));
        for (int r = 0; r < runs; r++) {
            for (int zc = 0; zc < 2; zc++) {
                struct result res = run(chunks[i], zc);
                if (!res.ok) {
                    printf("# %s send of %zu-byte writes failed (kernel without SEND_ZC?)\n",
                           zc ? "zero-copy" : "plain", chunks[i]);
                    return 0;
                }
                bench_add(&cpu[zc], res.cpu_s_per_gib);
                bench_add(&rate[zc], res.gb_per_s);
            }
        }
        for (int zc = 0; zc < 2; zc++)
            printf("send_zc.%s.%zuK: %.3f s CPU per GiB, %.2f GB/s\n", zc ? "zero_copy" : "plain", chunks[i] >> 10,
                   bench_median(&cpu[zc]), bench_median(&rate[zc]));
        printf("send_zc.ratio.%zuK: %.2fx the plain send's CPU\n", chunks[i] >> 10,
               bench_median(&cpu[1]) / bench_median(&cpu[0]));
    }
    return 0;
}
