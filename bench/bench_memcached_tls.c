/*
 * bench_memcached_tls.c - sea-memcached over TLS against stock memcached
 * (Debian's 1.6.18) over TLS: server CPU per request (issue 18).
 *
 * Certificates: an ECDSA P-256 CA and a P-256 server certificate for
 * IP 127.0.0.1 signed by it, made with the openssl CLI in a temporary
 * directory (removed at the end).  Both servers get the same certificate
 * and key, through memcached's options:
 *
 *   sea-memcached -c1 --cpuset 1 -m MEM -Z -o ssl_chain_cert=server.pem,ssl_key=server.key
 *                 -p PORT -l 127.0.0.1 --default-log-level warn
 *   memcached -u root -t 1 -m 64 -c 4096 -Z -o ssl_chain_cert=server.pem,ssl_key=server.key
 *             -p PORT -l 127.0.0.1 -U 0
 *
 * both child processes pinned to CPU 1 (affinity set before exec), with the
 * same item memory (64 MiB; sea's -m as bench_memcached computes it).  A
 * server is ready when it answers "version" over a TLS connection that
 * verifies its certificate; then 10,000 keys ("key:0000" to "key:9999",
 * 32-byte values) are stored over TLS, every STORED checked.
 *
 * The load generator is this process, pinned to CPU 0: one epoll loop over
 * 50 nonblocking TCP connections with OpenSSL on each (TLS 1.3 only, the
 * server's certificate verified against the CA and checked to name
 * 127.0.0.1).  Every connection completes its handshake before the load
 * starts, so handshakes are outside the measurement.  Then a closed loop:
 * each connection keeps D gets outstanding ("get key:NNNN\r\n", random
 * keys), refilling after each read with as many gets as were answered, in
 * one SSL_write; every answer is parsed and checked byte for byte
 * ("VALUE key:NNNN 0 32\r\n<value>\r\nEND\r\n"; a miss, END, is an error,
 * since every key was stored).  0.3 s of warm-up, then the measured window,
 * then every outstanding get answered before the connections close.
 *
 * Figures:
 *   get            D = 1: one get outstanding per connection
 *   get_pipelined  D = 16
 * Reported per figure and server: gets per second, and the server's CPU
 * per get in microseconds (utime + stime of all its threads over the
 * window, from /proc/PID/stat); stock's CPU per get over sea's
 * (cpu_per_req.ratio_vs_peer: above 1, sea is cheaper) and sea's gets/s
 * over stock's (throughput.ratio_vs_peer).  Notes give how busy the server
 * process kept CPU 1 and the load generator CPU 0 (a closed loop runs as
 * fast as the slower of the two: when the load generator is the one at
 * 100%, the server is not saturated and its CPU per request includes what
 * it spends waiting, e.g. sea's idle polling), and CPU 1's busy time per
 * request (.cpu1).
 *
 * Method: each figure runs every server once untimed (warm-up), then
 * SEA_BENCH_RUNS rounds (default 5) in alternating order (stock first in
 * even rounds, sea first in odd ones), and prints medians.  After each
 * figure a note says how busy the two CPUs were beyond the server and the
 * load generator ("DISTURBED" when the median window lost more than 10% of
 * either CPU to something else): the machine may be shared.
 *
 * Correctness: a wrong answer, a TLS error, a closed connection, 5 s
 * without an answer, or a server that exits early or not cleanly (status 0
 * within 3 s of SIGTERM; else SIGKILL) is printed and counted in
 * memcached_tls.errors, and makes the program exit with 1.
 *
 *     bench_memcached_tls [seconds per measurement, default 2] [get|get_pipelined] [stock|sea]
 *
 * Without memcached, or with a memcached built without TLS (no "enable-ssl"
 * in memcached -h), only sea runs, and the program says so; without
 * sea-memcached it says so and exits with 1; without the openssl CLI it says
 * so and exits with 0.
 *
 * Environment: SEA_MEMCACHED (default: ../apps/sea-memcached next to this
 * program), MEMCACHED (default /usr/bin/memcached), OPENSSL (the CLI,
 * default /usr/bin/openssl), SEA_BENCH_RUNS, SEA_BENCH_MC_ARGS (words added
 * to sea-memcached's command line, e.g. "--reactor-backend=epoll" or
 * "--idle-poll-us=0").
 *
 * Output: "name: value unit" lines; '#' lines are notes.
 */
#include "bench.h"
#include "bench_loadgen.h"
#include "bench_proc.h"
#include "bench_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

enum { CLIENT_CPU = 0, SERVER_CPU = 1 };
enum { NCONN = 50, NKEYS = 10000, VLEN = 32, ITEM_MIB = 64, MAX_DEPTH = 64 };

/* ---- failures ---- */

static long errors;

#define FAIL(...) BENCH_FAIL(errors, 20, "bench_memcached_tls", __VA_ARGS__)

/* ---- the temporary directory, children (bench_proc.h), dying ---- */

static char tmpdir[256];

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_memcached_tls: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    bench_kill_children();
    bench_remove_tree(tmpdir);
    exit(1);
}

/*
 * Runs argv[0] (a tool that exits by itself: openssl, memcached -h) with
 * its stdout and stderr into out[0..len) (NUL-terminated); its exit status
 * (0: success), or -1 if it could not run or was killed.
 */
static int run_tool(char *const argv[], char *out, size_t len) {
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = bench_spawn(argv, &(struct bench_spawn){.pipe = p});
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    size_t n = 0;
    for (;;) {
        char sink[4096];
        char *to = n + 1 < len ? out + n : sink;
        size_t room = n + 1 < len ? len - 1 - n : sizeof(sink);
        ssize_t r = read(p[0], to, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (to != sink)
            n += (size_t)r;
    }
    out[n] = '\0';
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- certificates ---- */

static const char *openssl_path;
static char ca_pem[300], cert_pem[300], key_pem[300];

static bool openssl_step(char *const argv[]) {
    static char out[8192];
    if (run_tool(argv, out, sizeof(out)) == 0)
        return true;
    fprintf(stderr, "bench_memcached_tls: openssl %s failed: %s\n", argv[1], out);
    return false;
}

/*
 * In tmpdir: ca.key and ca.pem (a self-signed P-256 CA), server.key and
 * server.pem (P-256, subjectAltName IP:127.0.0.1, signed by the CA).
 */
static bool make_certs(void) {
    char ca_key[300], csr[300], ext[300];
    snprintf(ca_key, sizeof(ca_key), "%s/ca.key", tmpdir);
    snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tmpdir);
    snprintf(key_pem, sizeof(key_pem), "%s/server.key", tmpdir);
    snprintf(cert_pem, sizeof(cert_pem), "%s/server.pem", tmpdir);
    snprintf(csr, sizeof(csr), "%s/server.csr", tmpdir);
    snprintf(ext, sizeof(ext), "%s/server.ext", tmpdir);
    FILE *f = fopen(ext, "w");
    if (!f)
        return false;
    fputs("subjectAltName = IP:127.0.0.1\n"
          "basicConstraints = critical,CA:FALSE\n"
          "keyUsage = critical,digitalSignature\n"
          "extendedKeyUsage = serverAuth\n",
          f);
    if (fclose(f) != 0)
        return false;
    char *o = (char *)openssl_path;
    char *steps[][24] = {
        {o, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ca_key, NULL},
        {o, "req", "-x509", "-new", "-key", ca_key, "-out", ca_pem, "-days", "3650", "-subj",
         "/O=sea bench/CN=sea bench CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
         "keyUsage=critical,keyCertSign,cRLSign", NULL},
        {o, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key_pem, NULL},
        {o, "req", "-new", "-key", key_pem, "-out", csr, "-subj", "/O=sea bench/CN=127.0.0.1", NULL},
        {o, "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", "4096", "-days", "30",
         "-sha256", "-extfile", ext, "-out", cert_pem, NULL},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (!openssl_step(steps[i]))
            return false;
    return true;
}

/* ---- TLS client context ---- */

static SSL_CTX *client_ctx;

/* TLS 1.3 only; the server's certificate must chain to the CA and name 127.0.0.1. */
static void make_client_ctx(void) {
    char why[256];
    client_ctx = SSL_CTX_new(TLS_client_method());
    if (!client_ctx)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(client_ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(client_ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(client_ctx, ca_pem, NULL) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(client_ctx), "127.0.0.1") != 1)
        die("cannot load %s as the trust anchor: %s", ca_pem, ssl_why(why, sizeof(why), 0));
    /* The output buffer grows and moves while a write waits; partial writes as records go out. */
    SSL_CTX_set_mode(client_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Several records per recv: fewer system calls in the load generator. */
    SSL_CTX_set_read_ahead(client_ctx, 1);
}

/* ---- servers ---- */

enum kind { STOCK, SEA };

struct server {
    const char *name;
    enum kind kind;
    pid_t pid;
    int port;
};

static struct server servers[2] = {
    {.name = "stock", .kind = STOCK},
    {.name = "sea", .kind = SEA},
};

static const char *sea_path, *stock_path;
static bool have_stock;
static const char *only_server;

/* sea's -m for a cache limit of item_mib MiB on one shard (as bench_memcached: 85% of a shard's memory). */
static unsigned long long sea_memory_for(size_t item_mib) {
    unsigned long long per_shard = (unsigned long long)item_mib * 1048576 + 8192;
    return (per_shard + 84) / 85 * 100;
}

/* A blocking TLS connection to port (handshake done, certificate verified), or NULL with *why set. */
static SSL *tls_open_blocking(int port, char *why, size_t whylen) {
    int fd = bench_connect_loopback(port);
    if (fd < 0) {
        snprintf(why, whylen, "cannot connect: %s", strerror(errno));
        return NULL;
    }
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL *ssl = SSL_new(client_ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        snprintf(why, whylen, "SSL_new failed");
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    if (SSL_connect(ssl) != 1) {
        ssl_why(why, whylen, errno);
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    return ssl;
}

static void tls_close_blocking(SSL *ssl) {
    int fd = SSL_get_fd(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
}

static bool tls_write_all(SSL *ssl, const char *p, size_t n) {
    while (n) {
        int w = SSL_write(ssl, p, (int)(n > 65536 ? 65536 : n));
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads until buf holds want bytes, or (want 0) ends with "\r\n"; the length, or -1. */
static ssize_t tls_read_until(SSL *ssl, char *buf, size_t cap, size_t want) {
    size_t len = 0;
    for (;;) {
        if (want ? len >= want : (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n'))
            return (ssize_t)len;
        if (len == cap)
            return -1;
        int r = SSL_read(ssl, buf + len, (int)(cap - len));
        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
}

/*
 * "version" over TLS: true if it answers "VERSION ...".  print: say what
 * was negotiated and the version; fail: report a failure as an error.
 */
static bool tls_version(struct server *s, bool print, bool fail) {
    char why[256];
    SSL *ssl = tls_open_blocking(s->port, why, sizeof(why));
    if (!ssl) {
        if (fail)
            FAIL("%s: TLS handshake failed: %s", s->name, why);
        return false;
    }
    char buf[256];
    ssize_t n = tls_write_all(ssl, "version\r\n", 9) ? tls_read_until(ssl, buf, sizeof(buf) - 1, 0) : -1;
    bool ok = n >= 8 && memcmp(buf, "VERSION ", 8) == 0;
    if (ok && print) {
        buf[n - 2] = '\0';
        int group = SSL_get_negotiated_group(ssl);
        printf("# %s: %s over %s, %s, key exchange %s, server certificate verified (ECDSA P-256, CA-signed)\n",
               s->name, buf, SSL_get_version(ssl), SSL_get_cipher_name(ssl), group ? OBJ_nid2sn(group) : "?");
    }
    if (!ok && fail)
        FAIL("%s: no VERSION answer over TLS (%zd bytes: %s)", s->name, n, ssl_why(why, sizeof(why), errno));
    tls_close_blocking(ssl);
    return ok;
}

static void start_server(struct server *s) {
    s->port = bench_free_port();
    if (s->port < 0)
        die("cannot find a free port");
    char port[16], mem[32], tlsopt[700];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(tlsopt, sizeof(tlsopt), "ssl_chain_cert=%s,ssl_key=%s", cert_pem, key_pem);
    char *argv[48];
    int n = 0;
    char *words = NULL;
    if (s->kind == STOCK) {
        snprintf(mem, sizeof(mem), "%d", ITEM_MIB);
        char *a[] = {(char *)stock_path, "-u", "root", "-t", "1", "-m", mem, "-c", "4096", "-Z", "-o", tlsopt, "-p",
                     port, "-l", "127.0.0.1", "-U", "0"};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
            argv[n++] = a[i];
    } else {
        snprintf(mem, sizeof(mem), "%llu", sea_memory_for(ITEM_MIB));
        char *a[] = {(char *)sea_path, "-c1", "--cpuset", "1", "-m", mem, "-Z", "-o", tlsopt, "-p", port,
                     "-l", "127.0.0.1", "--default-log-level", "warn"};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
            argv[n++] = a[i];
        words = bench_env_words("SEA_BENCH_MC_ARGS", argv, &n, 40);
    }
    argv[n] = NULL;
    printf("# %s:", s->name);
    for (int i = 0; i < n; i++)
        printf(" %s", argv[i]);
    printf("\n");
    /* Every thread of the server on CPU 1 (pinned before exec); it dies with the benchmark; stdout to /dev/null. */
    pid_t pid = bench_spawn(argv, &(struct bench_spawn){.who = "bench_memcached_tls", .pin = true,
                                                       .cpu_first = SERVER_CPU, .cpu_last = SERVER_CPU,
                                                       .deathsig = true});
    if (pid < 0)
        die("fork failed");
    free(words);
    s->pid = pid;
    bench_child_add(pid);
    /* Ready when it answers "version" over TLS: bounded, and an early exit is a failure. */
    for (int i = 0; i < 400; i++) { /* x 25 ms */
        int st;
        if (bench_child_exited(pid, &st)) {
            s->pid = 0;
            die("server %s exited at start (status 0x%x)", s->name, st);
        }
        if (tls_version(s, true, false))
            return;
        usleep(25000);
    }
    die("server %s not answering over TLS on port %d after 10 s", s->name, s->port);
}

/* SIGTERM, then SIGKILL after 3 s; waits for the exit, which must be status 0 within the 3 s. */
static void stop_server(struct server *s) {
    if (s->pid <= 0)
        return;
    int st = 0;
    char why[96];
    if (bench_child_exited(s->pid, &st))
        FAIL("%s exited before it was stopped (status 0x%x)", s->name, st);
    else if (!bench_stop_child(s->pid, NULL, why, sizeof(why)))
        FAIL("%s %s", s->name, why);
    else
        printf("# %s: exited with status 0 on SIGTERM\n", s->name);
    s->pid = 0;
}

/* ---- keys, values, answers ---- */

#define KEY_LEN 8      /* "key:NNNN" */
#define GET_LEN 14     /* "get key:NNNN\r\n" */
#define ANSWER_LEN 60  /* "VALUE key:NNNN 0 32\r\n" (21) + 32 + "\r\nEND\r\n" (7) */

static char answers[NKEYS][ANSWER_LEN]; /* each key's whole expected answer */

static void key_text(uint32_t k, char *out) {
    memcpy(out, "key:", 4);
    for (int i = 7; i >= 4; i--) {
        out[i] = (char)('0' + k % 10);
        k /= 10;
    }
}

/* A key's value: its text four times (32 bytes). */
static void value_text(const char *key, char *out) {
    for (int i = 0; i < VLEN; i++)
        out[i] = key[i % KEY_LEN];
}

static void make_answers(void) {
    for (uint32_t k = 0; k < NKEYS; k++) {
        char key[KEY_LEN], *a = answers[k];
        key_text(k, key);
        memcpy(a, "VALUE ", 6);
        memcpy(a + 6, key, KEY_LEN);
        memcpy(a + 14, " 0 32\r\n", 7);
        value_text(key, a + 21);
        memcpy(a + 21 + VLEN, "\r\nEND\r\n", 7);
    }
}

static size_t put_get(char *p, uint32_t k) {
    memcpy(p, "get ", 4);
    key_text(k, p + 4);
    memcpy(p + 4 + KEY_LEN, "\r\n", 2);
    return GET_LEN;
}

/* Stores every key, 100 sets per write, over one TLS connection; checks every STORED. */
static void preload(struct server *s) {
    char why[256];
    SSL *ssl = tls_open_blocking(s->port, why, sizeof(why));
    if (!ssl) {
        FAIL("%s: cannot connect to preload: %s", s->name, why);
        return;
    }
    enum { BATCH = 100 };
    static char out[BATCH * 80], in[BATCH * 8];
    for (uint32_t k = 0; k < NKEYS; k += BATCH) {
        size_t len = 0;
        for (uint32_t i = 0; i < BATCH; i++) {
            char key[KEY_LEN];
            key_text(k + i, key);
            memcpy(out + len, "set ", 4);
            memcpy(out + len + 4, key, KEY_LEN);
            len += 4 + KEY_LEN;
            len += (size_t)sprintf(out + len, " 0 0 %d\r\n", VLEN);
            value_text(key, out + len);
            len += VLEN;
            memcpy(out + len, "\r\n", 2);
            len += 2;
        }
        if (!tls_write_all(ssl, out, len) || tls_read_until(ssl, in, sizeof(in), sizeof(in)) != (ssize_t)sizeof(in)) {
            FAIL("%s: preload failed at key %u: %s", s->name, k, ssl_why(why, sizeof(why), errno));
            break;
        }
        for (uint32_t i = 0; i < BATCH; i++)
            if (memcmp(in + i * 8, "STORED\r\n", 8) != 0) {
                FAIL("%s: preload of key %u answered \"%.8s\"", s->name, k + i, in + i * 8);
                break;
            }
    }
    tls_close_blocking(ssl);
}

/* ---- the load generator ---- */

struct conn {
    struct loadgen_conn io; /* first: epoll's data.ptr is both */
    SSL *ssl;
    bool handshaken;
    uint32_t q[MAX_DEPTH]; /* the keys of the outstanding gets, oldest first */
    unsigned qhead, qtail;
    uint64_t rng;
};
_Static_assert(offsetof(struct conn, io) == 0, "epoll hands back the loadgen_conn as the conn");

static void watch(struct conn *c, int ep, bool out) {
    if (c->io.want_out == out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->io.fd, &ev);
    c->io.want_out = out;
}

static void conn_break(struct conn *c, int ep) {
    loadgen_break(&c->io, ep);
}

/* Reports "WHO: WHAT failed: <OpenSSL's error>" and breaks the connection. */
static void conn_fail(struct conn *c, int ep, const char *who, const char *what) {
    char why[256];
    FAIL("%s: %s failed: %s", who, what, ssl_why(why, sizeof(why), errno));
    conn_break(c, ep);
}

static void conn_close(struct conn *c) {
    if (c->ssl) {
        if (!c->io.broken && c->handshaken)
            SSL_shutdown(c->ssl); /* close_notify, best effort (nonblocking) */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    loadgen_close(&c->io);
}

/* One step of the handshake; true once it is done (or the connection broke). */
static bool handshake_step(struct conn *c, int ep, const char *who) {
    ERR_clear_error();
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        c->handshaken = true;
        watch(c, ep, false);
        return true;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        watch(c, ep, e == SSL_ERROR_WANT_WRITE);
        return false;
    }
    conn_fail(c, ep, who, "TLS handshake");
    return true;
}

/* Sends the queued gets as far as TLS and the socket take them; the rest waits for EPOLLOUT. */
static void flush_out(struct conn *c, int ep, const char *who) {
    struct loadgen_conn *io = &c->io;
    if (io->broken)
        return;
    while (io->outoff < io->outlen) {
        ERR_clear_error();
        int w = SSL_write(c->ssl, io->out + io->outoff, (int)(io->outlen - io->outoff));
        if (w > 0) {
            io->outoff += (size_t)w;
            continue;
        }
        int e = SSL_get_error(c->ssl, w);
        if (e == SSL_ERROR_WANT_WRITE) {
            watch(c, ep, true);
            return;
        }
        if (e == SSL_ERROR_WANT_READ)
            return; /* retried after the next read */
        conn_fail(c, ep, who, "SSL_write");
        return;
    }
    io->outoff = io->outlen = 0;
    watch(c, ep, false);
}

static void enqueue_get(struct conn *c) {
    if (c->qtail - c->qhead >= MAX_DEPTH)
        die("request queue overflow");
    uint32_t k = (uint32_t)((bench_rnd(&c->rng) >> 16) % NKEYS);
    c->q[c->qtail++ % MAX_DEPTH] = k;
    if (!loadgen_out_reserve(&c->io, GET_LEN))
        die("out of memory");
    c->io.outlen += put_get(c->io.out + c->io.outlen, k);
}

/* Reads everything TLS can give now; false if the connection broke (reported). */
static bool read_all(struct conn *c, int ep, const char *who) {
    struct loadgen_conn *io = &c->io;
    for (;;) {
        if (!loadgen_in_reserve(io, 16384))
            die("out of memory");
        ERR_clear_error();
        int r = SSL_read(c->ssl, io->in + io->inlen, (int)(io->incap - io->inlen));
        if (r > 0) {
            io->inlen += (size_t)r;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return true;
        if (e == SSL_ERROR_ZERO_RETURN) {
            FAIL("%s: the server closed a connection (close_notify)", who);
            conn_break(c, ep);
        } else {
            conn_fail(c, ep, who, "SSL_read");
        }
        return false;
    }
}

static void bad_answer(const char *who, uint32_t k, const char *p, size_t n, const char *why) {
    char key[KEY_LEN + 1] = {0};
    key_text(k, key);
    char snip[96];
    size_t m = 0;
    for (size_t i = 0; i < n && i < 60 && m + 5 < sizeof(snip); i++)
        m += (size_t)snprintf(snip + m, sizeof(snip) - m, (p[i] >= 32 && p[i] < 127) ? "%c" : "\\x%02x",
                              (unsigned char)p[i]);
    snip[m] = '\0';
    FAIL("%s: %s to get %s: \"%s\"", who, why, key, snip);
}

enum answer { A_NEED_MORE, A_HIT, A_MISS, A_BAD };

/* The answer to a get of key k at p[0..n): its outcome, and *used bytes when whole. */
static enum answer parse_answer(uint32_t k, const char *p, size_t n, size_t *used, const char *who) {
    const char *want = answers[k];
    if (n >= ANSWER_LEN && memcmp(p, want, ANSWER_LEN) == 0) {
        *used = ANSWER_LEN;
        return A_HIT;
    }
    if (n >= 5 && memcmp(p, "END\r\n", 5) == 0) {
        *used = 5;
        return A_MISS;
    }
    if (n < ANSWER_LEN && memcmp(p, want, n) == 0)
        return A_NEED_MORE;
    if (n < 5 && memcmp(p, "END\r\n", n) == 0)
        return A_NEED_MORE;
    if (!memchr(p, '\n', n) && n < 256)
        return A_NEED_MORE; /* wrong, but wait for the whole line to report it */
    bad_answer(who, k, p, n, "wrong answer");
    return A_BAD;
}

struct result {
    double secs;
    long gets;
    struct bench_cpu_use cpu;
};

static struct bench_other_load other_load;

/*
 * One measurement against s: NCONN connections, their handshakes, then a
 * closed loop of depth gets outstanding on each: warm_secs of warm-up, secs
 * measured, then every outstanding get answered.
 */
static struct result run_load(struct server *s, int depth, double warm_secs, double secs) {
    struct result res = {0};
    int ep = epoll_create1(0);
    struct conn *conns = calloc(NCONN, sizeof(*conns));
    if (ep < 0 || !conns)
        die("out of memory");
    int64_t t0 = bench_ns();
    int pending = 0;
    for (int i = 0; i < NCONN; i++) {
        struct conn *c = &conns[i];
        c->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) ^ (uint64_t)t0;
        bench_rnd(&c->rng);
        if (!loadgen_open(&c->io, ep, s->port, 65536, 4096)) {
            FAIL("%s: cannot connect", s->name);
            continue;
        }
        if (!c->io.in || !c->io.out)
            die("out of memory");
        c->ssl = SSL_new(client_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->io.fd) != 1)
            die("SSL_new failed");
        SSL_set_connect_state(c->ssl);
        if (!handshake_step(c, ep, s->name))
            pending++;
    }
    struct epoll_event evs[256];
    /* Every handshake first, within 10 s. */
    while (pending > 0) {
        int64_t left = t0 + 10000000000LL - bench_ns();
        if (left <= 0) {
            FAIL("%s: %d TLS handshakes not done after 10 s", s->name, pending);
            for (int i = 0; i < NCONN; i++)
                if (!conns[i].handshaken)
                    conn_break(&conns[i], ep);
            break;
        }
        int n = epoll_wait(ep, evs, 256, (int)(left / 1000000) + 1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int e = 0; e < n; e++) {
            struct conn *c = evs[e].data.ptr;
            if (!c->io.broken && !c->handshaken && handshake_step(c, ep, s->name))
                pending--;
        }
    }
    /* The load: depth gets on every connection. */
    t0 = bench_ns();
    for (int i = 0; i < NCONN; i++) {
        struct conn *c = &conns[i];
        if (c->io.broken)
            continue;
        for (int k = 0; k < depth; k++)
            enqueue_get(c);
        flush_out(c, ep, s->name);
    }
    bool measuring = false, draining = false;
    int64_t m0 = 0, last_progress = t0, warm_end = t0 + (int64_t)(warm_secs * 1e9);
    long gets = 0, gets0 = 0;
    struct bench_cpu_use cpu0 = {0};
    for (;;) {
        int64_t now = bench_ns();
        if (!measuring && !draining && now >= warm_end) {
            measuring = true;
            m0 = now;
            gets0 = gets;
            cpu0 = bench_cpu_use_now(s->pid, SERVER_CPU, CLIENT_CPU);
        }
        if (measuring && now - m0 >= (int64_t)(secs * 1e9)) {
            measuring = false;
            draining = true;
            res.secs = (double)(now - m0) / 1e9;
            res.cpu = bench_cpu_use_since(&cpu0, s->pid, SERVER_CPU, CLIENT_CPU);
            res.gets = gets - gets0;
        }
        bool open = false;
        for (int i = 0; i < NCONN && !open; i++)
            open = !conns[i].io.broken && (conns[i].qtail != conns[i].qhead || !draining);
        if (!open) {
            if (!draining)
                FAIL("%s: every connection failed", s->name);
            break;
        }
        if (now - last_progress > 5000000000LL) {
            FAIL("%s: no answer for 5 s (%s)", s->name, draining ? "draining" : "measuring");
            break;
        }
        int64_t next = now + 100000000;
        if (!measuring && !draining && warm_end < next)
            next = warm_end;
        if (measuring && m0 + (int64_t)(secs * 1e9) < next)
            next = m0 + (int64_t)(secs * 1e9);
        int n = loadgen_wait(ep, evs, 256, next, false);
        if (n < 0 && errno != EINTR)
            die("epoll_pwait2 failed");
        now = bench_ns();
        for (int e = 0; e < n; e++) {
            struct conn *c = evs[e].data.ptr;
            struct loadgen_conn *io = &c->io;
            if (io->broken)
                continue;
            if (evs[e].events & EPOLLOUT)
                flush_out(c, ep, s->name);
            if (io->broken || !(evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                continue;
            bool alive = read_all(c, ep, s->name);
            size_t off = 0;
            int answered = 0;
            while (c->qhead != c->qtail && off < io->inlen) {
                uint32_t k = c->q[c->qhead % MAX_DEPTH];
                size_t used = 0;
                enum answer a = parse_answer(k, io->in + off, io->inlen - off, &used, s->name);
                if (a == A_NEED_MORE)
                    break;
                if (a == A_BAD) {
                    conn_break(c, ep);
                    break;
                }
                if (a == A_MISS) {
                    char key[KEY_LEN + 1] = {0};
                    key_text(k, key);
                    FAIL("%s: get %s missed, although every key was stored", s->name, key);
                }
                off += used;
                c->qhead++;
                gets++;
                answered++;
                last_progress = now;
            }
            if (!alive || io->broken)
                continue;
            loadgen_consume(io, off);
            if (c->qhead == c->qtail && io->inlen) {
                bad_answer(s->name, c->q[(c->qhead - 1) % MAX_DEPTH], io->in, io->inlen,
                           "bytes beyond the last answer");
                conn_break(c, ep);
                continue;
            }
            if (!draining)
                for (int k = 0; k < answered; k++)
                    enqueue_get(c);
            flush_out(c, ep, s->name);
        }
    }
    if (!res.secs)
        FAIL("%s: the measurement did not finish", s->name);
    else
        bench_other_load_window(&other_load, &res.cpu, res.secs);
    for (int i = 0; i < NCONN; i++)
        conn_close(&conns[i]);
    free(conns);
    close(ep);
    return res;
}

/* ---- figures ---- */

static double secs_arg = 2.0;
static int runs = 5;

static bool selected(const struct server *s) {
    return s->pid > 0;
}

static void figure(const char *fig, int depth) {
    printf("# %s: %d TLS 1.3 connections, %d get%s outstanding on each (closed loop), random keys of %d stored, "
           "%d-byte values; %.1f s per measurement after 0.3 s of warm-up\n",
           fig, NCONN, depth, depth > 1 ? "s" : "", NKEYS, VLEN, secs_arg);
    /* Warm-up: each server once, untimed. */
    for (int i = 0; i < 2; i++)
        if (selected(&servers[i]))
            run_load(&servers[i], depth, 0.1, secs_arg < 1 ? secs_arg : 1);
    other_load.server_cpu.n = other_load.client_cpu.n = 0;
    static struct bench_series rate[2], cpu[2], cpu1[2], busy[2], client[2];
    memset(rate, 0, sizeof(rate));
    memset(cpu, 0, sizeof(cpu));
    memset(cpu1, 0, sizeof(cpu1));
    memset(busy, 0, sizeof(busy));
    memset(client, 0, sizeof(client));
    for (int r = 0; r < runs; r++)
        for (int j = 0; j < 2; j++) {
            int i = r % 2 ? 1 - j : j; /* alternating order: stock first in even rounds, sea first in odd ones */
            struct server *s = &servers[i];
            if (!selected(s))
                continue;
            struct result res = run_load(s, depth, 0.3, secs_arg);
            if (!res.gets || !res.secs)
                continue;
            bench_add(&rate[i], (double)res.gets / res.secs);
            bench_add(&cpu[i], res.cpu.proc_cpu / (double)res.gets * 1e6);
            bench_add(&cpu1[i], res.cpu.busy_cpu / (double)res.gets * 1e6);
            bench_add(&busy[i], res.cpu.proc_cpu / res.secs);
            bench_add(&client[i], res.cpu.client_cpu / res.secs);
        }
    double g[2] = {0}, c[2] = {0};
    char name[128];
    for (int i = 0; i < 2; i++) {
        if (!rate[i].n)
            continue;
        g[i] = bench_median(&rate[i]);
        printf("memcached_tls.%s.%s: %.0f gets/s\n", fig, servers[i].name, g[i]);
        snprintf(name, sizeof(name), "memcached_tls.%s.cpu_per_req.%s", fig, servers[i].name);
        c[i] = bench_report(name, &cpu[i], "us");
        snprintf(name, sizeof(name), "memcached_tls.%s.cpu_per_req.cpu1.%s", fig, servers[i].name);
        bench_report(name, &cpu1[i], "us");
        double sb = bench_median(&busy[i]), cb = bench_median(&client[i]);
        printf("# %s: %s: the server process used %.0f%% of CPU 1, the load generator %.0f%% of CPU 0 (medians)%s\n",
               fig, servers[i].name, sb * 100, cb * 100,
               cb > 0.9 && sb < 0.9 ? ": the load generator is the bottleneck, the server was not saturated" : "");
    }
    if (c[0] > 0 && c[1] > 0) {
        snprintf(name, sizeof(name), "memcached_tls.%s.cpu_per_req.ratio_vs_peer", fig);
        bench_ratio(name, c[0], c[1]); /* stock's CPU per get over sea's: above 1, sea is cheaper */
        snprintf(name, sizeof(name), "memcached_tls.%s.throughput.ratio_vs_peer", fig);
        bench_ratio(name, g[1], g[0]); /* sea's gets/s over stock's */
    }
}

static void fig_get(void) {
    figure("get", 1);
}

static void fig_get_pipelined(void) {
    figure("get_pipelined", 16);
}

static void other_load_note(const char *fig) {
    bench_other_load_note(&other_load, fig, "the server");
}

/* ---- main ---- */

static const struct bench_figure figures[] = {
    {"get", fig_get},
    {"get_pipelined", fig_get_pipelined},
};

/* Whether memcached -h lists TLS (a memcached built with --enable-tls). */
static bool stock_has_tls(void) {
    static char out[65536];
    char *argv[] = {(char *)stock_path, "-h", NULL};
    run_tool(argv, out, sizeof(out)); /* memcached -h exits with 0; its text is what matters */
    return strstr(out, "enable-ssl") && strstr(out, "ssl_chain_cert");
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s [seconds per measurement, default 2] [get|get_pipelined] [stock|sea]\n", argv[0]);
        return 0;
    }
    secs_arg = bench_seconds_arg(argc, argv, 2.0);
    const char *only_fig;
    if (!bench_figure_arg(argc, argv, figures, sizeof(figures) / sizeof(figures[0]), "bench_memcached_tls", &only_fig))
        return 2;
    only_server = argc > 3 ? argv[3] : NULL;
    if (only_server && strcmp(only_server, "stock") != 0 && strcmp(only_server, "sea") != 0) {
        fprintf(stderr, "bench_memcached_tls: unknown server %s (stock or sea)\n", only_server);
        return 2;
    }
    runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    static char sea_default[4200];
    bench_next_to_self(sea_default, sizeof(sea_default), "../apps/sea-memcached");
    sea_path = getenv("SEA_MEMCACHED") ? getenv("SEA_MEMCACHED") : sea_default;
    stock_path = getenv("MEMCACHED") ? getenv("MEMCACHED") : "/usr/bin/memcached";
    openssl_path = getenv("OPENSSL") ? getenv("OPENSSL") : "/usr/bin/openssl";
    if (access(sea_path, X_OK) != 0) {
        fprintf(stderr, "bench_memcached_tls: no sea-memcached at %s (build the sea-memcached target)\n", sea_path);
        return 1;
    }
    if (access(openssl_path, X_OK) != 0) {
        printf("# bench_memcached_tls: no openssl CLI at %s to make the certificates (apt-get install openssl): "
               "skipped\n",
               openssl_path);
        return 0;
    }
    if (access(stock_path, X_OK) != 0)
        printf("# bench_memcached_tls: no memcached at %s (apt-get install memcached): the peer is skipped, sea "
               "runs alone\n",
               stock_path);
    else if (!stock_has_tls())
        printf("# bench_memcached_tls: %s has no TLS (no enable-ssl in memcached -h): the peer is skipped, sea runs "
               "alone\n",
               stock_path);
    else
        have_stock = true;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, bench_kill_children_now);
    signal(SIGTERM, bench_kill_children_now);
    bench_pin(CLIENT_CPU);
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        printf("# fewer than 2 CPUs: the servers and the load generator share one; numbers are indicative\n");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bench_memcached_tls.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        die("cannot make a temporary directory: %s", strerror(errno));
    }
    chmod(tmpdir, 0755); /* memcached may drop to another user */
    if (!make_certs())
        die("cannot make the certificates in %s", tmpdir);
    make_client_ctx();
    make_answers();
    printf("# bench_memcached_tls: servers pinned to CPU 1, load generator to CPU 0; medians of %d rounds of %.1f s "
           "in alternating order; text protocol over TLS 1.3, ECDSA P-256 certificate\n",
           runs, secs_arg);
    for (int i = 0; i < 2; i++) {
        struct server *s = &servers[i];
        if ((s->kind == STOCK && !have_stock) || (only_server && strcmp(only_server, s->name) != 0))
            continue;
        start_server(s);
        preload(s);
    }
    bench_run_figures(figures, sizeof(figures) / sizeof(figures[0]), only_fig, other_load_note);
    for (int i = 0; i < 2; i++)
        stop_server(&servers[i]);
    bench_kill_children();
    bench_remove_tree(tmpdir);
    SSL_CTX_free(client_ctx);
    printf("memcached_tls.errors: %ld errors\n", errors);
    if (errors) {
        fprintf(stderr, "bench_memcached_tls: %ld errors (see above): FAILED\n", errors);
        return 1;
    }
    return 0;
}
