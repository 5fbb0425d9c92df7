/*
 * bench_http.c - sea-httpd against nginx (Debian's 1.22), driven by the same
 * load generators in the same run (issue 17); over TLS and HTTP/2 too, and
 * against h2o (Debian's 2.2) for HTTP/2 (issue 18).
 *
 * Both servers run as child processes pinned to CPU 1 (their affinity is set
 * before exec): sea-httpd with "-c1 --cpuset 1 --root DIR --address
 * 127.0.0.1 --port PORT", nginx with one process ("daemon off;
 * master_process off; worker_processes 1;") and a configuration this program
 * writes into a temporary directory: access_log off (and log_not_found
 * off: the check of a 404 below is not an error), sendfile on,
 * tcp_nopush on, keepalive_requests 1000000, error_log in the temporary
 * directory, and
 *
 *     location = /plaintext { default_type text/plain; return 200 "Hello, World!"; }
 *     location = /json { default_type application/json; return 200 '{"message":"Hello, World!"}'; }
 *
 * and static files from a root holding 4k.bin (4 KiB) and 1m.bin (1 MiB).
 * sea-httpd serves /plaintext and /json itself and the same files under
 * --root.  The load is on CPU 0 (this process pins itself there and its
 * children inherit it): wrk (Debian's 4.1.0, one thread) for the closed
 * loops, with a Lua script whose done() prints a line this program parses,
 * and, for latency, a paced load generator in this file.
 *
 *     bench_http [seconds per measurement, default 2] [figure] [server]
 *
 * Figures (all by default, in this order):
 *   plaintext   wrk -t1 -c100 on /plaintext (keep-alive, one request
 *               outstanding per connection): requests/s, and server CPU per
 *               request, the server process's utime + stime from
 *               /proc/PID/stat over wrk's run divided by the requests wrk
 *               completed (also the user and system parts apart).  The
 *               ratio line is nginx's CPU per request over sea's (> 1: sea
 *               is cheaper; the target is >= 1.5).
 *   pipelined   the same with 16 requests per write (wrk's request() returns
 *               wrk.format() 16 times over, TechEmpower's pipeline.lua).
 *   json        as plaintext, on /json.
 *   file_4k     as plaintext, on /4k.bin: requests/s, body bytes/s, CPU per
 *   file_1m     request, and requests per second of server CPU (the ratio).
 *   latency     nginx's highest rate on /plaintext (the plaintext figure's
 *               median, or measured here if that figure did not run), then
 *               both servers paced at half of it by the generator below: p50,
 *               p99 and p99.9 of the time from a request's scheduled send to
 *               its whole response, and server CPU per request at that rate.
 *   shards      sea-httpd -c1 (--cpuset 1) against -c2 (--cpuset 0-1), wrk on
 *               /plaintext as above.  With 2 CPUs wrk shares CPU 0 with
 *               shard 0: indicative only.
 *
 * The TLS figures (issue 18).  At the first one, two self-signed
 * certificates for DNS:localhost and IP:127.0.0.1 are made into the
 * temporary directory with the openssl CLI (ECDSA P-256 and RSA-2048), and
 * in these figures both servers serve HTTPS beside HTTP with the same
 * certificate and key: sea-httpd with --tls-cert, --tls-key and --tls-port
 * (HTTP/2 offered by ALPN, its default), nginx with a second server block,
 * "listen 127.0.0.1:PORT ssl http2; ssl_protocols TLSv1.2 TLSv1.3;
 * ssl_session_tickets on;" and nginx's defaults otherwise (no session
 * cache: TLS 1.3 resumes with tickets).  Before a figure the HTTPS port is
 * checked too (a TLS 1.3 handshake verified against the certificate and
 * 127.0.0.1, GET /plaintext alone and two pipelined), and what was
 * negotiated is printed.
 *   tls_handshake_ecdsa  full handshakes, ECDSA P-256 certificate: the
 *   tls_handshake_rsa    generator below on the HTTPS port; handshakes per
 *               second, and per second of server CPU (utime + stime from
 *               /proc/PID/stat over the measured window); the ratio is
 *               sea's handshakes per CPU second over nginx's (the target:
 *               >= 1.0).  The same with the RSA-2048 certificate.
 *   tls_resumed resumed handshakes (ECDSA certificate): every connection
 *               offers the session of the latest ticket received, and
 *               SSL_session_reused checks it resumed; more than 3% not
 *               resumed is an error.
 *   https_plaintext  as plaintext, wrk -t1 -c100 on
 *               https://127.0.0.1:PORT/plaintext (HTTP/1.1 over TLS, kept
 *               alive; the target: nginx's CPU per request / sea's >= 1.5).
 *   http2       h2load -c10 -m100 -t1 --npn-list=h2 (Debian's
 *               nghttp2-client) on https://127.0.0.1:PORT/plaintext against
 *               nginx, sea-httpd and h2o: a 1 s run (-D 1) each to warm up
 *               and calibrate, then -n N with N about `seconds` of that rate
 *               (a multiple of 1000); requests per second of server CPU
 *               over h2load's run, sea's against nginx's (target >= 1.5)
 *               and h2o's.  h2load's summary must read "N total, N started,
 *               N done, N succeeded, 0 failed, 0 errored, 0 timeout", with
 *               N 2xx and 13 data bytes per request, and it must have
 *               negotiated h2; else the server is reported (e.g. "http2:
 *               sea did not negotiate h2") and left out of the figure.
 *               h2o runs in the foreground (its default "worker" mode) with
 *               a configuration written into the temporary directory:
 *               num-threads: 1, HTTPS only (same certificate), OCSP
 *               stapling off, no access log, and /plaintext a static file
 *               holding "Hello, World!" (file.dir: h2o has no `return`; its
 *               static files are its cheapest path, an mruby.handler
 *               costs it about 3 times more per request), or with
 *               H2O_PLAINTEXT=mruby an mruby.handler returning that body as
 *               text/plain.  h2o is started and stopped by its PID like the
 *               others (as root, with "user: root": it would switch to
 *               nobody, who cannot read the temporary directory).
 *
 * The handshake generator: one epoll loop in this process (CPU 0) over 32
 * nonblocking connections, each in a cycle: TCP connect, TLS 1.3
 * handshake (OpenSSL's SSL_connect, no certificate check, no SNI, no ALPN,
 * TLS 1.3 only), close_notify sent, then read until the server's
 * close_notify or end of stream (the session tickets the server sends
 * after the handshake are read, not answered with a reset), close, and a
 * new connection.  After a 0.2 s start, a window of `seconds` counts the
 * handshakes completed in it with the server's CPU around it; failed
 * handshakes and connections without progress for 5 s are errors.  Its
 * notes give the generator's share of CPU 0 (it is the bottleneck when
 * near 100% while CPU 1 is not), session tickets received per handshake,
 * and how connections ended (nginx answers close_notify by closing
 * without its own).
 *
 * The paced generator (Debian's wrk has no -R): one epoll loop over 100
 * nonblocking TCP_NODELAY keep-alive connections, each sending its request
 * on its own fixed schedule (when due, even if the previous answer has not
 * come: HTTP/1.1 pipelining), parsing every response as it arrives (status
 * line, headers, Content-Length or chunked body) and checking it, and
 * recording every latency from the scheduled send time.  It polls instead of
 * sleeping when the next send is under 200 us away, so that its own wake-ups
 * stay out of the figures.
 *
 * Each figure starts its servers (a server is ready when it accepts a
 * connection, within 10 s; then every route is fetched once and checked:
 * status, content type, body, two pipelined requests, a 404), runs a 1 s
 * warm-up on each, then SEA_BENCH_RUNS rounds (default 5) measuring each
 * server in turn (the order alternates from round to round) and prints
 * medians.  Every child is stopped by its PID: SIGTERM, SIGKILL after 3 s,
 * and each server must exit with 0.  Any wrong response, socket error or
 * non-2xx status reported by wrk, stall (5 s without a response) or unclean
 * exit is printed and counted in http.errors, and makes the program exit
 * with 1.  After each figure a note says how busy the two CPUs were beyond
 * the server and the load generator ("DISTURBED" when the median window had
 * more than 10% of either CPU taken by something else).
 *
 * Server names: nginx, sea (and sea_c1, sea_c2 for shards; h2o in http2).
 * Environment: SEA_HTTPD (default: ../apps/sea-httpd next to this
 * program), NGINX (default /usr/sbin/nginx), WRK (default /usr/bin/wrk),
 * H2LOAD (/usr/bin/h2load), H2O (/usr/bin/h2o), OPENSSL (the CLI,
 * /usr/bin/openssl), H2O_PLAINTEXT (mruby: see http2), SEA_HTTPD_ARGS
 * (more options for sea-httpd, separated by spaces, e.g.
 * "--reactor-backend=epoll"), NGINX_HTTP_EXTRA (more directives for nginx's
 * http block, e.g. "open_file_cache max=64;"), SEA_BENCH_RUNS.  Without nginx or wrk the
 * program says so and exits with 0; without sea-httpd it measures nginx
 * alone and says so; without the openssl CLI the TLS figures, without
 * h2load the http2 figure say so and are skipped; without h2o http2
 * measures nginx and sea-httpd.
 *
 * Output: "name: value unit" lines; '#' lines are notes.
 */
#include "bench.h"
#include "bench_loadgen.h"
#include "bench_proc.h"
#include "bench_tls.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

enum { CLIENT_CPU = 0, SERVER_CPU = 1 };

#define FILE_4K_SIZE 4096
#define FILE_1M_SIZE (1024 * 1024)
static const char PLAINTEXT[] = "Hello, World!";
static const char JSON[] = "{\"message\":\"Hello, World!\"}";

/* ---- failures, children, the temporary directory ---- */

static long errors;
static volatile sig_atomic_t interrupted;

#define FAIL(...) BENCH_FAIL(errors, 30, "bench_http", __VA_ARGS__)

static char tmpdir[256]; /* the children and the directory: bench_proc.h */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_http: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    bench_kill_children();
    bench_remove_tree(tmpdir);
    exit(1);
}

/* SIGINT/SIGTERM: every loop checks the flag and dies cleanly (children stopped, directory removed). */
static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static void check_interrupted(void) {
    if (interrupted)
        die("interrupted");
}

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    check_interrupted();
}

static void sleep_10ms(void) {
    sleep_ms(10);
}

static void write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("cannot create %s: %s", path, strerror(errno));
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            die("cannot write %s: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}

/* ---- CPU time ---- */

struct cpu_times {
    double user, sys;   /* the server process, all its threads (s) */
    double busy1, busy0; /* CPU 1's and CPU 0's busy time (s) */
    int64_t ns;
};

static void proc_user_sys(pid_t pid, double *user, double *sys) {
    char buf[1024];
    char *p = bench_read_proc(pid, "stat", buf, sizeof(buf)) ? strrchr(buf, ')') : NULL;
    unsigned long ut = 0, st = 0;
    /* Fields after the command: state(3) ... utime(14) stime(15). */
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    *user = (double)ut / (double)sysconf(_SC_CLK_TCK);
    *sys = (double)st / (double)sysconf(_SC_CLK_TCK);
}

static struct cpu_times cpu_now(pid_t server) {
    struct cpu_times t;
    proc_user_sys(server, &t.user, &t.sys);
    t.busy1 = bench_cpu_busy_seconds(SERVER_CPU);
    t.busy0 = bench_cpu_busy_seconds(CLIENT_CPU);
    t.ns = bench_ns();
    return t;
}

/* ---- HTTP responses ---- */

struct http_resp {
    int status;
    size_t used;      /* bytes of the whole response */
    size_t body_len;  /* decoded */
    const char *body; /* the body (in the input, or in body_out when chunked); NULL if chunked without body_out */
    char ctype[80];
    bool close, chunked;
};

enum { P_MORE, P_OK, P_BAD };

static bool has_token(const char *v, size_t n, const char *tok) {
    size_t t = strlen(tok);
    for (size_t i = 0; i + t <= n; i++)
        if (strncasecmp(v + i, tok, t) == 0)
            return true;
    return false;
}

/*
 * Parses one response at p[0..n): P_MORE (incomplete), P_OK (r filled), or
 * P_BAD (*why says what is wrong).  A chunked body is decoded into body_out
 * (at most body_cap bytes kept) when given.
 */
static int http_parse(const char *p, size_t n, struct http_resp *r, char *body_out, size_t body_cap,
                      const char **why) {
    memset(r, 0, sizeof(*r));
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (!end) {
        if (n > 65536) {
            *why = "response head over 64 KiB";
            return P_BAD;
        }
        if (n >= 7 && memcmp(p, "HTTP/1.", 7) != 0) {
            *why = "not an HTTP/1.x status line";
            return P_BAD;
        }
        return P_MORE;
    }
    size_t head = (size_t)(end - p) + 4;
    if (head < 16 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || !isdigit((unsigned char)p[9]) ||
        !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11])) {
        *why = "bad status line";
        return P_BAD;
    }
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *line = memchr(p, '\n', head);
    line = line ? line + 1 : p + head;
    long long clen = -1;
    while (line < p + head - 2) {
        const char *eol = memchr(line, '\n', (size_t)(p + head - line));
        if (!eol || eol == line || eol[-1] != '\r') {
            *why = "header line without CRLF";
            return P_BAD;
        }
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon) {
            *why = "header line without a colon";
            return P_BAD;
        }
        size_t nl = (size_t)(colon - line);
        const char *v = colon + 1, *ve = eol - 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (nl == 14 && strncasecmp(line, "content-length", 14) == 0) {
            long long x = 0;
            const char *s = v;
            for (; s < ve && isdigit((unsigned char)*s) && x < (1LL << 40); s++)
                x = x * 10 + (*s - '0');
            if (s == v || s != ve || (clen >= 0 && clen != x)) {
                *why = "bad Content-Length";
                return P_BAD;
            }
            clen = x;
        } else if (nl == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
            r->chunked = has_token(v, (size_t)(ve - v), "chunked");
        } else if (nl == 10 && strncasecmp(line, "connection", 10) == 0) {
            r->close = has_token(v, (size_t)(ve - v), "close");
        } else if (nl == 12 && strncasecmp(line, "content-type", 12) == 0) {
            size_t k = (size_t)(ve - v) < sizeof(r->ctype) - 1 ? (size_t)(ve - v) : sizeof(r->ctype) - 1;
            memcpy(r->ctype, v, k);
            r->ctype[k] = '\0';
        }
        line = eol + 1;
    }
    if (r->chunked) {
        size_t off = head, total = 0;
        for (;;) {
            const char *eol = memmem(p + off, n - off, "\r\n", 2);
            if (!eol) {
                if (n - off > 1024) {
                    *why = "chunk size line too long";
                    return P_BAD;
                }
                return P_MORE;
            }
            size_t size = 0;
            int digits = 0;
            const char *s = p + off;
            for (; s < eol && isxdigit((unsigned char)*s) && digits < 15; s++, digits++)
                size = size * 16 + (size_t)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
            if (!digits || (s < eol && *s != ';' && *s != ' ')) {
                *why = "bad chunk size";
                return P_BAD;
            }
            off = (size_t)(eol - p) + 2;
            if (size == 0) { /* trailer lines, then the empty line */
                for (;;) {
                    eol = memmem(p + off, n - off, "\r\n", 2);
                    if (!eol)
                        return P_MORE;
                    bool empty = eol == p + off;
                    off = (size_t)(eol - p) + 2;
                    if (empty)
                        break;
                }
                break;
            }
            if (n - off < size + 2)
                return P_MORE;
            if (p[off + size] != '\r' || p[off + size + 1] != '\n') {
                *why = "chunk not followed by CRLF";
                return P_BAD;
            }
            if (body_out && total < body_cap)
                memcpy(body_out + total, p + off, size < body_cap - total ? size : body_cap - total);
            total += size;
            off += size + 2;
        }
        r->used = off;
        r->body_len = total;
        r->body = body_out;
        return P_OK;
    }
    if (clen >= 0) {
        if (n - head < (size_t)clen)
            return P_MORE;
        r->used = head + (size_t)clen;
        r->body_len = (size_t)clen;
        r->body = p + head;
        return P_OK;
    }
    if (r->status == 204 || r->status == 304 || r->status / 100 == 1) {
        r->used = head;
        r->body = p + head;
        return P_OK;
    }
    *why = "neither Content-Length nor chunked (a keep-alive response must have one)";
    return P_BAD;
}

/* ---- servers ---- */

enum kind { NGINX, SEA, H2O };

struct server {
    const char *name;
    enum kind kind;
    int shards; /* sea: -c */
    pid_t pid;
    int port;     /* HTTP (none for h2o) */
    int tls_port; /* HTTPS, in the figures that use it (tls_cert set), else 0 */
    bool failed;  /* h2load failed on it (no h2, say): left out of the figure's later rounds */
    char log[320];
};

static const char *sea_path, *nginx_path, *wrk_path, *h2load_path, *h2o_path, *openssl_path;
static bool have_sea;
/*
 * The TLS figures' certificates (self-signed for localhost and 127.0.0.1,
 * made with the openssl CLI at the first such figure), and the one the
 * servers of the running figure serve (NULL: no HTTPS, the other figures).
 */
static char cert_ecdsa[320], key_ecdsa[320], cert_rsa[320], key_rsa[320];
static const char *tls_cert, *tls_key, *tls_cert_what;
static char h2o_www[300];      /* h2o's document root: a file named plaintext */
static bool h2o_mruby;         /* H2O_PLAINTEXT=mruby: /plaintext from an mruby handler instead */
static char www[300];
static char *file_4k, *file_1m;
static const char *only_server;
static double secs_arg = 2.0;
static int runs = 5;

static bool selected(const struct server *s) {
    if (s->kind == SEA && !have_sea)
        return false;
    if (s->kind == H2O && access(h2o_path, X_OK) != 0)
        return false;
    return !only_server || strcmp(only_server, s->name) == 0;
}

static void print_log_tail(const struct server *s, int max_lines, const char *why) {
    FILE *f = fopen(s->log, "r");
    if (!f)
        return;
    char line[512];
    int total = 0;
    while (fgets(line, sizeof(line), f))
        total++;
    if (total) {
        rewind(f);
        printf("# %s's output (%s): %d lines%s\n", s->name, why, total, total > max_lines ? ", the last ones:" : ":");
        int i = 0;
        while (fgets(line, sizeof(line), f))
            if (i++ >= total - max_lines) {
                line[strcspn(line, "\n")] = '\0';
                printf("#   %s\n", line);
            }
    }
    fclose(f);
}

/* After a clean stop: the lines of a log that warn or report an error (up to max_lines), if any. */
static void print_log_warnings(const char *who, const char *path, int max_lines) {
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    int found = 0, context = 0;
    static const char *const words[] = {"warn", "error", "fail", "stall", "blocked", "crit", "emerg", "alert"};
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        bool hit = false;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]) && !hit; i++)
            hit = strcasestr(line, words[i]) != NULL;
        if (!hit) {
            if (context > 0 && context--) /* the lines after the first one (a backtrace) */
                printf("# %s logged:   %s\n", who, line);
            continue;
        }
        if (found++ < max_lines)
            printf("# %s logged: %s\n", who, line);
        context = found == 1 ? 8 : 0;
    }
    if (found > max_lines)
        printf("# %s logged %d such lines in all\n", who, found);
    fclose(f);
}

static void write_nginx_conf(const struct server *s, const char *conf) {
    /* HTTPS and HTTP/2 (by ALPN) beside HTTP in the TLS figures: the same certificate as sea-httpd's. */
    char tls[2048] = "";
    if (s->tls_port) {
        int t = snprintf(tls, sizeof(tls),
                         "    server {\n"
                         "        listen 127.0.0.1:%d ssl http2;\n"
                         "        ssl_certificate %s;\n"
                         "        ssl_certificate_key %s;\n"
                         "        ssl_protocols TLSv1.2 TLSv1.3;\n"
                         "        ssl_session_tickets on;\n"
                         "        root %s;\n"
                         "        location = /plaintext { default_type text/plain; return 200 \"%s\"; }\n"
                         "        location = /json { default_type application/json; return 200 '%s'; }\n"
                         "        location / { }\n"
                         "    }\n",
                         s->tls_port, tls_cert, tls_key, www, PLAINTEXT, JSON);
        if (t <= 0 || (size_t)t >= sizeof(tls))
            die("nginx's TLS configuration too long");
    }
    char text[6144];
    int n = snprintf(text, sizeof(text),
                     "daemon off;\n"
                     "master_process off;\n"
                     "worker_processes 1;\n"
                     "pid %1$s/nginx.pid;\n"
                     "error_log %1$s/nginx-error.log warn;\n"
                     "events { worker_connections 4096; }\n"
                     "http {\n"
                     "    access_log off;\n"
                     "    log_not_found off;\n"
                     "    sendfile on;\n"
                     "    tcp_nopush on;\n"
                     "    tcp_nodelay on;\n"
                     "    keepalive_requests 1000000;\n"
                     "    keepalive_timeout 65s;\n"
                     "    types { application/octet-stream bin; }\n"
                     "    default_type application/octet-stream;\n"
                     "    client_body_temp_path %1$s/nginx-body;\n"
                     "    proxy_temp_path %1$s/nginx-proxy;\n"
                     "    fastcgi_temp_path %1$s/nginx-fastcgi;\n"
                     "    uwsgi_temp_path %1$s/nginx-uwsgi;\n"
                     "    scgi_temp_path %1$s/nginx-scgi;\n"
                     "    %6$s\n"
                     "    server {\n"
                     "        listen 127.0.0.1:%2$d;\n"
                     "        root %3$s;\n"
                     "        location = /plaintext { default_type text/plain; return 200 \"%4$s\"; }\n"
                     "        location = /json { default_type application/json; return 200 '%5$s'; }\n"
                     "        location / { }\n"
                     "    }\n"
                     "%7$s"
                     "}\n",
                     tmpdir, s->port, www, PLAINTEXT, JSON, getenv("NGINX_HTTP_EXTRA") ? getenv("NGINX_HTTP_EXTRA") : "",
                     tls);
    if (n <= 0 || (size_t)n >= sizeof(text))
        die("nginx configuration too long");
    write_file(conf, text, (size_t)n);
}

/*
 * h2o (the http2 figure only): one thread, HTTPS only, no access log, OCSP
 * stapling off (a self-signed certificate has no responder); /plaintext is
 * a static file holding "Hello, World!" (h2o has no `return`; its cheapest
 * path), or with H2O_PLAINTEXT=mruby an mruby handler returning that body.
 */
static void write_h2o_conf(const struct server *s, const char *conf) {
    char text[2048];
    /* As root h2o would switch to nobody, who cannot read the temporary directory. */
    int n = snprintf(text, sizeof(text),
                     "%s"
                     "num-threads: 1\n"
                     "listen:\n"
                     "  host: 127.0.0.1\n"
                     "  port: %d\n"
                     "  ssl:\n"
                     "    certificate-file: %s\n"
                     "    key-file: %s\n"
                     "    minimum-version: TLSv1.2\n"
                     "    ocsp-update-interval: 0\n"
                     "hosts:\n"
                     "  default:\n"
                     "    paths:\n",
                     geteuid() == 0 ? "user: root\n" : "", s->tls_port, tls_cert, tls_key);
    if (n > 0 && (size_t)n < sizeof(text)) {
        if (h2o_mruby)
            n += snprintf(text + n, sizeof(text) - (size_t)n,
                          "      /plaintext:\n"
                          "        mruby.handler: |\n"
                          "          Proc.new do |env| [200, {\"content-type\" => \"text/plain\"}, [\"%s\"]] end\n",
                          PLAINTEXT);
        else
            n += snprintf(text + n, sizeof(text) - (size_t)n,
                          "      /:\n"
                          "        file.dir: %s\n",
                          h2o_www);
    }
    if (n <= 0 || (size_t)n >= sizeof(text))
        die("h2o configuration too long");
    write_file(conf, text, (size_t)n);
}

static bool verify_routes(struct server *s);
static bool verify_https(struct server *s);

/* Waits (10 s at most) until s accepts a connection on port; dies if it exits meanwhile. */
static bool wait_accepting(struct server *s, int port) {
    for (int i = 0; i < 500; i++) {
        int st;
        if (bench_child_exited(s->pid, &st)) {
            s->pid = 0;
            print_log_tail(s, 20, "it exited at start");
            die("server %s exited at start (status 0x%x)", s->name, st);
        }
        int fd = bench_connect_loopback(port);
        if (fd >= 0) {
            close(fd);
            return true;
        }
        sleep_ms(20);
    }
    return false;
}

static void start_server(struct server *s) {
    s->port = bench_free_port();
    if (s->port < 0)
        die("cannot find a free port");
    s->tls_port = 0;
    s->failed = false;
    if (tls_cert || s->kind == H2O) {
        if (!tls_cert)
            die("h2o runs only in a figure with a certificate");
        do
            s->tls_port = bench_free_port();
        while (s->tls_port == s->port);
        if (s->tls_port < 0)
            die("cannot find a free port");
    }
    snprintf(s->log, sizeof(s->log), "%s/%s-%d.log", tmpdir, s->name, s->port);
    char port[16], tls_port[16], conf[320], prefix[300], errlog[320];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(tls_port, sizeof(tls_port), "%d", s->tls_port);
    char *argv[48];
    int n = 0;
    char *words = NULL;
    if (s->kind == NGINX) {
        snprintf(conf, sizeof(conf), "%s/nginx-%d.conf", tmpdir, s->port);
        snprintf(prefix, sizeof(prefix), "%s/", tmpdir);
        snprintf(errlog, sizeof(errlog), "%s/nginx-error.log", tmpdir);
        write_nginx_conf(s, conf);
        char *a[] = {(char *)nginx_path, "-p", prefix, "-c", conf, "-e", errlog};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
            argv[n++] = a[i];
    } else if (s->kind == H2O) {
        /* The default mode ("worker") runs in the foreground: the process started is the server. */
        snprintf(conf, sizeof(conf), "%s/h2o-%d.conf", tmpdir, s->tls_port);
        write_h2o_conf(s, conf);
        char *a[] = {(char *)h2o_path, "-c", conf};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
            argv[n++] = a[i];
    } else {
        char *a[] = {(char *)sea_path, s->shards > 1 ? "-c2" : "-c1", "--cpuset", s->shards > 1 ? "0-1" : "1",
                     "--root", www, "--address", "127.0.0.1", "--port", port};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
            argv[n++] = a[i];
        if (s->tls_port) {
            char *t[] = {"--tls-cert", (char *)tls_cert, "--tls-key", (char *)tls_key, "--tls-port", tls_port};
            for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                argv[n++] = t[i];
        }
        words = bench_env_words("SEA_HTTPD_ARGS", argv, &n, 40);
    }
    argv[n] = NULL;
    /* CPU 1 (0-1 for two sea shards); it dies with the benchmark; its output goes to its log. */
    pid_t pid = bench_spawn(argv, &(struct bench_spawn){.who = "bench_http", .pin = true,
                                                       .cpu_first = s->kind == SEA && s->shards > 1 ? CLIENT_CPU
                                                                                                    : SERVER_CPU,
                                                       .cpu_last = SERVER_CPU, .deathsig = true,
                                                       .default_signals = true, .default_sigpipe = true,
                                                       .log = s->log});
    if (pid < 0)
        die("fork failed");
    free(words);
    s->pid = pid;
    bench_child_add(pid);
    /* Ready when it accepts a connection, within 10 s; an early exit is a failure.  Then its routes are checked. */
    if (s->kind != H2O) {
        if (!wait_accepting(s, s->port)) {
            print_log_tail(s, 20, "it did not start");
            die("server %s not accepting connections on port %d after 10 s", s->name, s->port);
        }
        if (!verify_routes(s)) {
            print_log_tail(s, 20, "its routes failed");
            die("server %s: wrong responses (see above)", s->name);
        }
    }
    if (s->tls_port) {
        if (!wait_accepting(s, s->tls_port)) {
            print_log_tail(s, 20, "it did not start");
            die("server %s not accepting connections on its HTTPS port %d after 10 s", s->name, s->tls_port);
        }
        if (!verify_https(s)) {
            print_log_tail(s, 20, "its HTTPS failed");
            die("server %s: wrong HTTPS responses (see above)", s->name);
        }
    }
}

/* SIGTERM, then SIGKILL after 3 s; the server must exit with 0. */
static void stop_server(struct server *s) {
    if (s->pid <= 0)
        return;
    char why[96];
    if (!bench_stop_child(s->pid, sleep_10ms, why, sizeof(why)))
        FAIL("%s %s", s->name, why);
    s->pid = 0;
    print_log_warnings(s->name, s->log, 8);
    if (s->kind == NGINX) {
        char errlog[320];
        snprintf(errlog, sizeof(errlog), "%s/nginx-error.log", tmpdir);
        print_log_warnings(s->name, errlog, 8);
        unlink(errlog);
    }
}

/* Dies if the server has exited (after a failed measurement, say). */
static void check_alive(struct server *s) {
    int st;
    if (s->pid > 0 && bench_child_exited(s->pid, &st)) {
        s->pid = 0;
        print_log_tail(s, 20, "it exited");
        die("server %s exited during the benchmark (status 0x%x)", s->name, st);
    }
}

static void start_all(struct server *sv, int n) {
    for (int i = 0; i < n; i++)
        if (selected(&sv[i]))
            start_server(&sv[i]);
}

static void stop_all(struct server *sv, int n) {
    for (int i = 0; i < n; i++)
        stop_server(&sv[i]);
}

/* ---- checking every route once, with a blocking client ---- */

/*
 * Sends `count` GETs of path at once on fd (pipelined) and checks each
 * response: the status, the content type's start (if want_ctype), the body
 * (if want_body).  Failures are printed; false if any.
 */
static bool check_get(struct server *s, int fd, const char *path, int count, int want_status, const char *want_ctype,
                      const char *want_body, size_t want_len) {
    static char in[FILE_1M_SIZE * 2 + 65536], body[FILE_1M_SIZE + 4096];
    char req[256 * 4];
    size_t rl = 0;
    for (int i = 0; i < count && i < 4; i++)
        rl += (size_t)snprintf(req + rl, sizeof(req) - rl, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path,
                               s->port);
    if (!bench_send_all(fd, req, rl)) {
        FAIL("%s: GET %s: cannot send: %s", s->name, path, strerror(errno));
        return false;
    }
    size_t len = 0, off = 0;
    for (int got = 0; got < count;) {
        struct http_resp r;
        const char *why = "";
        int st = http_parse(in + off, len - off, &r, body, sizeof(body), &why);
        if (st == P_BAD) {
            FAIL("%s: GET %s: %s: \"%.60s\"", s->name, path, why, in + off);
            return false;
        }
        if (st == P_MORE) {
            if (len == sizeof(in)) {
                FAIL("%s: GET %s: response too long", s->name, path);
                return false;
            }
            ssize_t n = recv(fd, in + len, sizeof(in) - len, 0);
            if (n <= 0) {
                FAIL("%s: GET %s: %s after %zu bytes (response %d of %d)", s->name, path,
                     n == 0 ? "connection closed" : strerror(errno), len - off, got + 1, count);
                return false;
            }
            len += (size_t)n;
            continue;
        }
        bool ok = true;
        if (r.status != want_status) {
            FAIL("%s: GET %s: status %d, expected %d", s->name, path, r.status, want_status);
            ok = false;
        }
        if (want_ctype && strncasecmp(r.ctype, want_ctype, strlen(want_ctype)) != 0) {
            FAIL("%s: GET %s: Content-Type \"%s\", expected %s", s->name, path, r.ctype, want_ctype);
            ok = false;
        }
        if (want_body && (r.body_len != want_len || !r.body || memcmp(r.body, want_body, want_len) != 0)) {
            FAIL("%s: GET %s: wrong body (%zu bytes, expected %zu): \"%.*s\"", s->name, path, r.body_len, want_len,
                 r.body ? (int)(r.body_len < 40 ? r.body_len : 40) : 0, r.body ? r.body : "");
            ok = false;
        }
        if (r.close) {
            FAIL("%s: GET %s: Connection: close on a keep-alive request", s->name, path);
            ok = false;
        }
        if (!ok)
            return false;
        off += r.used;
        got++;
    }
    if (off != len) {
        FAIL("%s: GET %s: %zu bytes beyond the last response", s->name, path, len - off);
        return false;
    }
    return true;
}

static bool verify_routes(struct server *s) {
    int fd = bench_connect_loopback(s->port);
    if (fd < 0) {
        FAIL("%s: cannot connect to check its routes", s->name);
        return false;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    bool ok = check_get(s, fd, "/plaintext", 1, 200, "text/plain", PLAINTEXT, strlen(PLAINTEXT)) &&
              check_get(s, fd, "/plaintext", 3, 200, "text/plain", PLAINTEXT, strlen(PLAINTEXT)) &&
              check_get(s, fd, "/json", 2, 200, "application/json", JSON, strlen(JSON)) &&
              check_get(s, fd, "/4k.bin", 2, 200, NULL, file_4k, FILE_4K_SIZE) &&
              check_get(s, fd, "/1m.bin", 1, 200, NULL, file_1m, FILE_1M_SIZE) &&
              check_get(s, fd, "/no-such-file", 1, 404, NULL, NULL, 0) &&
              check_get(s, fd, "/plaintext", 1, 200, "text/plain", PLAINTEXT, strlen(PLAINTEXT));
    close(fd);
    return ok;
}

/*
 * Over the HTTPS port, with a blocking OpenSSL client that trusts only the
 * figure's certificate and checks it names 127.0.0.1, TLS 1.3 only: GET
 * /plaintext, then two pipelined, each checked (status, body; the content
 * type except for h2o's static file).  Prints what was negotiated.
 */
static bool verify_https(struct server *s) {
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, tls_cert, NULL) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1") != 1)
        die("cannot load %s as a trust anchor: %s", tls_cert, ssl_why(why, sizeof(why), 0));
    int fd = bench_connect_loopback(s->tls_port);
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
    bool ok = false;
    if (!ssl) {
        FAIL("%s: cannot connect to its HTTPS port", s->name);
        goto out;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        FAIL("%s: TLS handshake failed: %s", s->name, ssl_why(why, sizeof(why), errno));
        goto out;
    }
    int group = SSL_get_negotiated_group(ssl);
    printf("# %s: HTTPS on port %d: %s, %s, key exchange %s, %s certificate\n", s->name, s->tls_port,
           SSL_get_version(ssl), SSL_get_cipher_name(ssl), group ? OBJ_nid2sn(group) : "?", tls_cert_what);
    const char *ctype = s->kind == H2O && !h2o_mruby ? NULL : "text/plain";
    static char in[65536];
    for (int round = 1; round <= 2; round++) {
        char req[512];
        size_t rl = 0;
        for (int i = 0; i < round; i++)
            rl += (size_t)snprintf(req + rl, sizeof(req) - rl, "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                                   s->tls_port);
        if (SSL_write(ssl, req, (int)rl) != (int)rl) {
            FAIL("%s: HTTPS: cannot send: %s", s->name, ssl_why(why, sizeof(why), errno));
            goto out;
        }
        size_t len = 0, off = 0;
        for (int got = 0; got < round;) {
            struct http_resp r;
            const char *bad = "";
            int st = http_parse(in + off, len - off, &r, NULL, 0, &bad);
            if (st == P_MORE) {
                int n = len < sizeof(in) ? SSL_read(ssl, in + len, (int)(sizeof(in) - len)) : 0;
                if (n <= 0) {
                    FAIL("%s: HTTPS GET /plaintext: no whole response (%zu bytes): %s", s->name, len - off,
                         ssl_why(why, sizeof(why), errno));
                    goto out;
                }
                len += (size_t)n;
                continue;
            }
            if (st == P_BAD || r.status != 200 || r.body_len != strlen(PLAINTEXT) || !r.body ||
                memcmp(r.body, PLAINTEXT, r.body_len) != 0 || r.close ||
                (ctype && strncasecmp(r.ctype, ctype, strlen(ctype)) != 0)) {
                FAIL("%s: HTTPS GET /plaintext: %s: \"%.80s\"", s->name,
                     st == P_BAD ? bad : "not 200 text/plain \"Hello, World!\" kept alive", in + off);
                goto out;
            }
            off += r.used;
            got++;
        }
        if (off != len) {
            FAIL("%s: HTTPS GET /plaintext: %zu bytes beyond the last response", s->name, len - off);
            goto out;
        }
    }
    ok = true;
    SSL_shutdown(ssl);
out:
    if (ssl)
        SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return ok;
}

/*
 * Starts argv (a child pinned where this process is: CPU 0, killed if this
 * process dies) with its output into a pipe, whose end to read is *rd.
 */
static pid_t capture_start(char *const argv[], int *rd) {
    int pfd[2];
    if (pipe(pfd) < 0)
        die("pipe failed");
    pid_t pid = bench_spawn(argv, &(struct bench_spawn){.deathsig = true, .default_signals = true, .pipe = pfd});
    if (pid < 0)
        die("fork failed");
    bench_child_add(pid);
    *rd = pfd[0];
    return pid;
}

/*
 * Reads the output of child pid (from capture_start) into out (the end kept
 * if longer), kills it after timeout_s (a failure: "WHAT did not finish");
 * its wait status and resource use.  False if it could not finish.
 */
static bool capture_finish(pid_t pid, int rd, char *out, size_t cap, int timeout_s, const char *what, int *status,
                           struct rusage *ru) {
    size_t len = 0;
    bool finished = true;
    int64_t deadline = bench_ns() + (int64_t)timeout_s * 1000000000;
    for (;;) {
        if (interrupted) {
            close(rd);
            die("interrupted");
        }
        if (bench_ns() > deadline) {
            kill(pid, SIGKILL);
            FAIL("%s did not finish within %d s (killed)", what, timeout_s);
            finished = false;
            break;
        }
        struct pollfd p = {.fd = rd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(rd, out + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1) { /* keep the end, where the summary is */
            memmove(out, out + cap / 2, len - cap / 2);
            len -= cap / 2;
        }
    }
    close(rd);
    out[len] = '\0';
    memset(ru, 0, sizeof(*ru));
    wait4(pid, status, 0, ru);
    bench_child_forget(pid);
    return finished;
}

/* Runs argv with capture_start and capture_finish. */
static bool run_capture(char *const argv[], char *out, size_t cap, int timeout_s, int *status, struct rusage *ru) {
    int rd = -1;
    pid_t pid = capture_start(argv, &rd);
    return capture_finish(pid, rd, out, cap, timeout_s, argv[0], status, ru);
}

/* ---- wrk ---- */

struct wrk_result {
    bool ok;
    double secs;
    long requests;
    double bytes;
    long e_connect, e_read, e_write, e_status, e_timeout;
    double p50_us, p99_us, max_us;
    double user, sys;         /* the server's CPU over the run (s) */
    double busy1, busy0;      /* CPU 1 and CPU 0 busy over the run (s) */
    double client;            /* wrk's own CPU (s) */
    double wall;              /* the run's wall time (s) */
};

static struct bench_other_load other_load;
static bool wrk_https; /* the https_plaintext figure: wrk on the HTTPS port, lines named https.* */

/*
 * Runs wrk -t1 -cCONNS -dSECS against s's path (depth > 1: that many
 * requests per write) and reads the server's CPU around it.  Errors wrk
 * reports (sockets, statuses > 399, timeouts) are failures.
 */
static struct wrk_result run_wrk(struct server *s, const char *path, int conns, int depth, int secs, bool count) {
    struct wrk_result res = {0};
    char c[16], d[16], url[128], script[320], dep[16], timeout[] = "--timeout=5s";
    snprintf(c, sizeof(c), "-c%d", conns);
    snprintf(d, sizeof(d), "-d%ds", secs);
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", wrk_https ? "https" : "http", wrk_https ? s->tls_port : s->port,
             path);
    snprintf(script, sizeof(script), "%s/%s", tmpdir, depth > 1 ? "pipeline.lua" : "summary.lua");
    snprintf(dep, sizeof(dep), "%d", depth);
    char *argv[] = {(char *)wrk_path, "-t1", c, d, timeout, "-s", script, url, "--", dep, NULL};
    char what[160];
    snprintf(what, sizeof(what), "%s: wrk on %s", s->name, path);
    fflush(stdout);
    fflush(stderr);
    struct cpu_times t0 = cpu_now(s->pid);
    int rd = -1;
    pid_t pid = capture_start(argv, &rd);
    static char out[65536];
    int st = 0;
    struct rusage ru;
    capture_finish(pid, rd, out, sizeof(out), secs + 15, what, &st, &ru);
    struct cpu_times t1 = cpu_now(s->pid);
    res.user = t1.user - t0.user;
    res.sys = t1.sys - t0.sys;
    res.busy1 = t1.busy1 - t0.busy1;
    res.busy0 = t1.busy0 - t0.busy0;
    res.wall = (double)(t1.ns - t0.ns) / 1e9;
    res.client = bench_rusage_seconds(&ru);
    const char *sum = strstr(out, "SUMMARY ");
    double dur_us = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !sum ||
        sscanf(sum,
               "SUMMARY requests=%ld bytes=%lf duration_us=%lf connect=%ld read=%ld write=%ld status=%ld "
               "timeout=%ld p50_us=%lf p99_us=%lf max_us=%lf",
               &res.requests, &res.bytes, &dur_us, &res.e_connect, &res.e_read, &res.e_write, &res.e_status,
               &res.e_timeout, &res.p50_us, &res.p99_us, &res.max_us) != 11) {
        FAIL("%s: wrk on %s failed (status 0x%x); its output:\n%s", s->name, path, st, out);
        return res;
    }
    res.secs = dur_us / 1e6;
    if (res.e_connect || res.e_read || res.e_write || res.e_status || res.e_timeout) {
        FAIL("%s: wrk on %s reported errors: connect %ld, read %ld, write %ld, timeout %ld, status > 399: %ld", s->name,
             path, res.e_connect, res.e_read, res.e_write, res.e_timeout, res.e_status);
        return res;
    }
    if (res.requests <= 0 || res.secs <= 0) {
        FAIL("%s: wrk on %s completed no request", s->name, path);
        return res;
    }
    res.ok = true;
    if (count && s->shards <= 1) { /* two sea shards share CPU 0 with wrk: no other-load note */
        bench_other_load_add(&other_load, (res.busy1 - res.user - res.sys) / res.wall,
                             (res.busy0 - res.client) / res.wall);
    }
    return res;
}

static void other_load_note(const char *fig) {
    bench_other_load_note(&other_load, fig, "the server process");
}

/* ---- closed-loop figures (wrk) ---- */

struct closed_stats {
    struct bench_series rps, cpu, user, sys, cpu1, client, p50, p99;
};

static void add_closed(struct closed_stats *cs, const struct wrk_result *r) {
    double n = (double)r->requests;
    bench_add(&cs->rps, n / r->secs);
    bench_add(&cs->cpu, (r->user + r->sys) / n * 1e6);
    bench_add(&cs->user, r->user / n * 1e6);
    bench_add(&cs->sys, r->sys / n * 1e6);
    bench_add(&cs->cpu1, r->busy1 / n * 1e6);
    bench_add(&cs->client, r->client / r->wall);
    bench_add(&cs->p50, r->p50_us);
    bench_add(&cs->p99, r->p99_us);
}

static double nginx_plaintext_rps; /* the plaintext figure's median, for latency */

/*
 * Runs `runs` rounds of wrk on path against each started server (order
 * alternating), after a 1 s warm-up each; fills cs[i].
 */
static void closed_rounds(struct server *sv, int n, const char *path, int depth, struct closed_stats *cs) {
    int secs = (int)lround(secs_arg);
    if (secs < 1)
        secs = 1;
    for (int i = 0; i < n; i++)
        if (sv[i].pid)
            run_wrk(&sv[i], path, 100, depth, 1, false);
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < n; k++) {
            int i = r % 2 ? n - 1 - k : k;
            if (!sv[i].pid)
                continue;
            struct wrk_result res = run_wrk(&sv[i], path, 100, depth, secs, true);
            check_alive(&sv[i]);
            if (res.ok)
                add_closed(&cs[i], &res);
        }
}

/* Prints a server's lines for a closed-loop figure; returns its median CPU per request (us). */
static double report_closed(const char *fig, const char *who, const struct closed_stats *cs, size_t body_bytes,
                            bool pipelined) {
    char name[128];
    const char *proto = wrk_https ? "https" : "http";
    double rps = bench_median(&cs->rps);
    printf("%s.%s.%s.rps: %.0f req/s\n", proto, fig, who, rps);
    if (body_bytes)
        printf("%s.%s.%s.body_MBps: %.1f MB/s\n", proto, fig, who, rps * (double)body_bytes / 1e6);
    snprintf(name, sizeof(name), "%s.%s.%s.cpu_per_req_us", proto, fig, who);
    double cpu = bench_report(name, &cs->cpu, "us");
    snprintf(name, sizeof(name), "%s.%s.%s.user_per_req_us", proto, fig, who);
    bench_report(name, &cs->user, "us");
    snprintf(name, sizeof(name), "%s.%s.%s.sys_per_req_us", proto, fig, who);
    bench_report(name, &cs->sys, "us");
    if (body_bytes)
        printf("%s.%s.%s.req_per_cpu_s: %.0f req/cpu-s\n", proto, fig, who, cpu > 0 ? 1e6 / cpu : 0);
    double client = bench_median(&cs->client);
    char lat[96] = "";
    if (!pipelined)
        snprintf(lat, sizeof(lat), "; wrk latency p50 %.0f us, p99 %.0f us", bench_median(&cs->p50),
                 bench_median(&cs->p99));
    printf("# %s%s %s: CPU 1 busy per request %.2f us%s; wrk used %.0f%% of CPU 0%s\n", wrk_https ? "https_" : "", fig, who,
           bench_median(&cs->cpu1), lat, client * 100, client > 0.9 ? ": it may be the bottleneck" : "");
    return cpu;
}

static struct server main_servers[2] = {
    {.name = "nginx", .kind = NGINX},
    {.name = "sea", .kind = SEA, .shards = 1},
};

static void fig_closed(const char *fig, const char *path, int depth, size_t body_bytes) {
    struct server *sv = main_servers;
    start_all(sv, 2);
    static struct closed_stats cs[2];
    memset(cs, 0, sizeof(cs));
    closed_rounds(sv, 2, path, depth, cs);
    stop_all(sv, 2);
    double cpu[2] = {0}, rps[2] = {0};
    for (int i = 0; i < 2; i++)
        if (cs[i].rps.n) {
            cpu[i] = report_closed(fig, sv[i].name, &cs[i], body_bytes, depth > 1);
            rps[i] = bench_median(&cs[i].rps);
        }
    if (rps[0] > 0 && !strcmp(fig, "plaintext") && !wrk_https)
        nginx_plaintext_rps = rps[0];
    if (!(cpu[0] > 0 && cpu[1] > 0))
        return;
    char name[128];
    const char *proto = wrk_https ? "https" : "http";
    if (body_bytes) {
        /* Requests per second of server CPU, sea over nginx. */
        snprintf(name, sizeof(name), "%s.%s.ratio_vs_nginx", proto, fig);
        bench_ratio(name, 1 / cpu[1], 1 / cpu[0]);
        snprintf(name, sizeof(name), "%s.%s.rps.ratio_vs_nginx", proto, fig);
        bench_ratio(name, rps[1], rps[0]);
        return;
    }
    snprintf(name, sizeof(name), "%s.%s.rps.ratio_vs_nginx", proto, fig);
    bench_ratio(name, rps[1], rps[0]);
    snprintf(name, sizeof(name), "%s.%s.cpu_per_req.ratio_vs_nginx", proto, fig);
    bench_ratio(name, cpu[0], cpu[1]);
    if (!strcmp(fig, "plaintext"))
        printf("# %s target: nginx's CPU per request / sea's >= 1.5: %s\n", wrk_https ? "https_plaintext" : "plaintext",
               cpu[0] >= 1.5 * cpu[1] ? "met" : "MISSED");
}

static void fig_plaintext(void) {
    printf("# plaintext: wrk -t1 -c100 on /plaintext, keep-alive, one request outstanding per connection; server CPU "
           "per request from /proc/PID/stat (utime + stime) over wrk's run\n");
    fig_closed("plaintext", "/plaintext", 1, 0);
}

static void fig_pipelined(void) {
    printf("# plaintext_pipelined: wrk -t1 -c100 on /plaintext, 16 requests per write (pipeline.lua)\n");
    fig_closed("plaintext_pipelined", "/plaintext", 16, 0);
}

static void fig_json(void) {
    printf("# json: wrk -t1 -c100 on /json\n");
    fig_closed("json", "/json", 1, 0);
}

static void fig_file_4k(void) {
    printf("# file_4k: wrk -t1 -c100 on /4k.bin (a 4096-byte file); ratio: requests per second of server CPU, sea / "
           "nginx\n");
    fig_closed("file_4k", "/4k.bin", 1, FILE_4K_SIZE);
}

static void fig_file_1m(void) {
    printf("# file_1m: wrk -t1 -c100 on /1m.bin (a 1 MiB file); ratio: requests per second of server CPU, sea / "
           "nginx\n");
    fig_closed("file_1m", "/1m.bin", 1, FILE_1M_SIZE);
}

static void fig_shards(void) {
    if (!have_sea) {
        printf("# shards: skipped (no sea-httpd)\n");
        return;
    }
    struct server sv[2] = {
        {.name = "sea_c1", .kind = SEA, .shards = 1},
        {.name = "sea_c2", .kind = SEA, .shards = 2},
    };
    printf("# shards: sea-httpd -c1 --cpuset 1 against -c2 --cpuset 0-1, wrk -t1 -c100 on /plaintext. With 2 CPUs "
           "wrk shares CPU 0 with shard 0: indicative only\n");
    start_all(sv, 2);
    static struct closed_stats cs[2];
    memset(cs, 0, sizeof(cs));
    closed_rounds(sv, 2, "/plaintext", 1, cs);
    stop_all(sv, 2);
    double v[2] = {0};
    for (int i = 0; i < 2; i++)
        if (cs[i].rps.n) {
            v[i] = bench_median(&cs[i].rps);
            printf("http.shards.%s.rps: %.0f req/s\n", sv[i].name, v[i]);
            printf("# shards %s: server CPU per request %.2f us (both CPUs for c2); wrk used %.0f%% of CPU 0\n",
                   sv[i].name, bench_median(&cs[i].cpu), bench_median(&cs[i].client) * 100);
        }
    if (v[0] > 0 && v[1] > 0)
        bench_ratio("http.shards.sea_c2.ratio_vs_c1", v[1], v[0]);
}

/* ---- the paced load generator (latency) ---- */

#define QCAP 4096

struct pconn {
    struct loadgen_conn io; /* first: epoll's data.ptr is both */
    int64_t q[QCAP];        /* scheduled send times of the requests awaiting their response */
    unsigned qhead, qtail;
    int64_t next_due;
};
_Static_assert(offsetof(struct pconn, io) == 0, "epoll hands back the loadgen_conn as the pconn");

struct paced_result {
    double secs;
    long reqs;
    struct loadgen_latencies lat; /* one per response in the window */
    struct loadgen_lateness late; /* of the window's sends */
    double user, sys, busy1, busy0, client;
    long polls, empty_polls;
};

static void pconn_flush(struct pconn *c, int ep, const char *who) {
    if (!loadgen_flush(&c->io, ep))
        FAIL("%s: send failed: %s", who, strerror(errno));
}

/*
 * nconn connections each send GET /plaintext on its own schedule (rate in
 * all), for warm_secs and then secs measured; every response is parsed and
 * checked; then every outstanding request is answered before they close.
 */
static struct paced_result run_paced(struct server *s, int nconn, double rate, double warm_secs, double secs) {
    struct paced_result res = {0};
    char req[128];
    int reqlen = snprintf(req, sizeof(req), "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", s->port);
    int ep = epoll_create1(0);
    struct pconn *conns = calloc((size_t)nconn, sizeof(*conns));
    if (ep < 0 || !conns)
        die("out of memory");
    double interval = (double)nconn / rate * 1e9; /* ns between a connection's requests */
    for (int i = 0; i < nconn; i++) {
        struct pconn *c = &conns[i];
        if (!loadgen_open(&c->io, ep, s->port, 64 * 1024, 16 * 1024)) {
            FAIL("%s: cannot connect", s->name);
            continue;
        }
        if (!c->io.in || !c->io.out)
            die("out of memory");
    }
    int64_t t0 = bench_ns();
    for (int i = 0; i < nconn; i++)
        conns[i].next_due = loadgen_first_due(t0, interval, i, nconn);
    bool measuring = false, draining = false;
    int64_t m0 = 0, last_progress = t0, warm_end = t0 + (int64_t)(warm_secs * 1e9);
    long reqs = 0, reqs_at_start = 0;
    struct cpu_times c0 = {0};
    double self0 = 0;
    struct epoll_event evs[256];
    for (;;) {
        check_interrupted();
        int64_t now = bench_ns();
        if (!measuring && !draining && now >= warm_end) {
            measuring = true;
            m0 = now;
            reqs_at_start = reqs;
            c0 = cpu_now(s->pid);
            self0 = bench_self_cpu_seconds();
        }
        if (measuring && now - m0 >= (int64_t)(secs * 1e9)) {
            measuring = false;
            draining = true;
            struct cpu_times c1 = cpu_now(s->pid);
            res.secs = (double)(now - m0) / 1e9;
            res.user = c1.user - c0.user;
            res.sys = c1.sys - c0.sys;
            res.busy1 = c1.busy1 - c0.busy1;
            res.busy0 = c1.busy0 - c0.busy0;
            res.client = bench_self_cpu_seconds() - self0;
            res.reqs = reqs - reqs_at_start;
        }
        int64_t next = now + 100000000;
        bool open = false;
        for (int i = 0; i < nconn; i++) {
            struct pconn *c = &conns[i];
            if (c->io.broken)
                continue;
            if (c->qtail != c->qhead)
                open = true;
            if (draining)
                continue;
            open = true;
            bool sent = false;
            while (c->next_due <= now) {
                if (c->qtail - c->qhead >= QCAP) {
                    FAIL("%s: %d requests unanswered on one connection", s->name, QCAP);
                    loadgen_break(&c->io, ep);
                    break;
                }
                if (measuring)
                    loadgen_lateness_add(&res.late, now, c->next_due);
                if (!loadgen_out_reserve(&c->io, (size_t)reqlen))
                    die("out of memory");
                memcpy(c->io.out + c->io.outlen, req, (size_t)reqlen);
                c->io.outlen += (size_t)reqlen;
                c->q[c->qtail++ % QCAP] = c->next_due;
                c->next_due = loadgen_next_due(t0, c->next_due, interval);
                sent = true;
            }
            if (sent)
                pconn_flush(c, ep, s->name);
            if (!c->io.broken && c->next_due < next)
                next = c->next_due;
        }
        if (draining && !open)
            break;
        if (!open) {
            FAIL("%s: every connection failed", s->name);
            break;
        }
        if (now - last_progress > 5000000000LL) {
            FAIL("%s: no response for 5 s (%s)", s->name, draining ? "draining" : "paced");
            break;
        }
        if (!measuring && !draining && warm_end < next)
            next = warm_end;
        if (measuring && m0 + (int64_t)(secs * 1e9) < next)
            next = m0 + (int64_t)(secs * 1e9);
        if (draining)
            next = now + 100000000;
        int n = loadgen_wait(ep, evs, 256, next, true);
        if (n < 0 && errno != EINTR)
            die("epoll_pwait2 failed: %s", strerror(errno));
        if (measuring) {
            res.polls++;
            res.empty_polls += n == 0;
        }
        now = bench_ns();
        for (int e = 0; e < n; e++) {
            struct pconn *c = evs[e].data.ptr;
            struct loadgen_conn *io = &c->io;
            if (io->broken)
                continue;
            if (evs[e].events & EPOLLOUT)
                pconn_flush(c, ep, s->name);
            if (io->broken || !(evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                continue; /* a failed send broke it: its error is reported, nothing is left to read */
            if (!loadgen_in_reserve(io, 16384))
                die("out of memory");
            ssize_t r = loadgen_recv(io);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                continue;
            if (r <= 0) {
                FAIL("%s: the server closed a connection (%s) with %u requests unanswered", s->name,
                     r == 0 ? "end of stream" : strerror(errno), c->qtail - c->qhead);
                loadgen_break(io, ep);
                continue;
            }
            size_t off = 0;
            while (off < io->inlen) {
                struct http_resp hr;
                const char *why = "";
                int st = http_parse(io->in + off, io->inlen - off, &hr, NULL, 0, &why);
                if (st == P_MORE)
                    break;
                if (st == P_OK && c->qhead == c->qtail) {
                    st = P_BAD;
                    why = "a response to no request";
                }
                if (st == P_OK && (hr.status != 200 || hr.chunked || hr.body_len != strlen(PLAINTEXT) ||
                                   memcmp(hr.body, PLAINTEXT, hr.body_len) != 0 || hr.close)) {
                    st = P_BAD;
                    why = "not 200 with \"Hello, World!\" on a kept-alive connection";
                }
                if (st == P_BAD) {
                    FAIL("%s: /plaintext: %s: \"%.60s\"", s->name, why, io->in + off);
                    loadgen_break(io, ep);
                    break;
                }
                off += hr.used;
                int64_t due = c->q[c->qhead++ % QCAP];
                reqs++;
                last_progress = now;
                if (measuring && !loadgen_latency_add(&res.lat, now - due))
                    die("out of memory");
            }
            if (!io->broken)
                loadgen_consume(io, off);
        }
    }
    if (!res.secs)
        FAIL("%s: the paced measurement did not finish", s->name);
    else {
        bench_other_load_add(&other_load, (res.busy1 - res.user - res.sys) / res.secs,
                             (res.busy0 - res.client) / res.secs);
    }
    for (int i = 0; i < nconn; i++)
        loadgen_close(&conns[i].io);
    free(conns);
    close(ep);
    return res;
}

static void fig_latency(void) {
    struct server *sv = main_servers;
    printf("# latency: nginx's closed-loop rate on /plaintext (wrk -t1 -c100), then both servers paced at half of it "
           "over 100 connections, each on its own fixed schedule; latency from a request's scheduled send to its whole "
           "response\n");
    start_all(sv, 2);
    double rate = nginx_plaintext_rps;
    if (!(rate > 0)) {
        if (!sv[0].pid) {
            printf("# latency: no nginx rate to pace at (run it with nginx)\n");
            stop_all(sv, 2);
            return;
        }
        static struct closed_stats cs[1];
        memset(cs, 0, sizeof(cs));
        closed_rounds(sv, 1, "/plaintext", 1, cs);
        rate = bench_median(&cs[0].rps);
        printf("http.latency.nginx_closed_loop.rps: %.0f req/s\n", rate);
    } else {
        printf("# latency: nginx's closed-loop rate from the plaintext figure: %.0f req/s\n", rate);
    }
    if (!(rate > 0)) {
        stop_all(sv, 2);
        return;
    }
    rate /= 2;
    printf("# latency: paced at %.0f requests/s\n", rate);
    static struct bench_series p50[2], p99[2], p999[2], got[2], late[2], latemax[2], cpu[2], user[2], sys[2], idle;
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < 2; k++) {
            int i = r % 2 ? 1 - k : k;
            if (!sv[i].pid)
                continue;
            struct paced_result res = run_paced(&sv[i], 100, rate, 0.3, secs_arg);
            check_alive(&sv[i]);
            if (!res.lat.n || !res.reqs) {
                free(res.lat.ns);
                continue;
            }
            bench_sort_u32(res.lat.ns, res.lat.n);
            bench_add(&p50[i], bench_percentile_us(res.lat.ns, res.lat.n, 0.50));
            bench_add(&p99[i], bench_percentile_us(res.lat.ns, res.lat.n, 0.99));
            bench_add(&p999[i], bench_percentile_us(res.lat.ns, res.lat.n, 0.999));
            bench_add(&got[i], (double)res.reqs / res.secs);
            bench_add(&late[i], loadgen_lateness_share(&res.late));
            bench_add(&latemax[i], res.late.max_us);
            bench_add(&cpu[i], (res.user + res.sys) / (double)res.reqs * 1e6);
            bench_add(&user[i], res.user / (double)res.reqs * 1e6);
            bench_add(&sys[i], res.sys / (double)res.reqs * 1e6);
            bench_add(&idle, (double)res.empty_polls / (double)(res.polls ? res.polls : 1));
            free(res.lat.ns);
        }
    stop_all(sv, 2);
    double v50[2] = {0}, v99[2] = {0};
    for (int i = 0; i < 2; i++) {
        if (!p50[i].n)
            continue;
        char name[128];
        snprintf(name, sizeof(name), "http.latency.%s.p50_us", sv[i].name);
        v50[i] = bench_report(name, &p50[i], "us");
        snprintf(name, sizeof(name), "http.latency.%s.p99_us", sv[i].name);
        v99[i] = bench_report(name, &p99[i], "us");
        snprintf(name, sizeof(name), "http.latency.%s.p99_9_us", sv[i].name);
        bench_report(name, &p999[i], "us");
        snprintf(name, sizeof(name), "http.latency.%s.cpu_per_req_us", sv[i].name);
        bench_report(name, &cpu[i], "us");
        printf("# latency %s: %.0f requests/s answered; CPU per request user %.2f us, system %.2f us; sends more than "
               "100 us behind schedule: %.2f%%, latest %.0f us\n",
               sv[i].name, bench_median(&got[i]), bench_median(&user[i]), bench_median(&sys[i]),
               bench_median(&late[i]) * 100, bench_median(&latemax[i]));
    }
    if (v50[0] > 0 && v50[1] > 0) {
        bench_ratio("http.latency.p50.ratio_vs_nginx", v50[1], v50[0]);
        bench_ratio("http.latency.p99.ratio_vs_nginx", v99[1], v99[0]);
    }
    if (idle.n)
        printf("# latency: %.0f%% of the load generator's polls found nothing to do (median)%s\n",
               bench_median(&idle) * 100, bench_median(&idle) < 0.1 ? ": it may be the bottleneck" : "");
}

/* ---- TLS and HTTP/2 (issue 18) ---- */

/*
 * The TLS figures' certificates, made once: self-signed, for DNS:localhost
 * and IP:127.0.0.1, one with an ECDSA P-256 key, one with an RSA-2048 key
 * (`openssl req -x509 -newkey ...`).  False (said) without the openssl CLI.
 */
static bool make_certs(void) {
    if (cert_ecdsa[0])
        return true;
    if (access(openssl_path, X_OK) != 0) {
        printf("# TLS figures need the openssl CLI at %s (apt-get install openssl): skipped\n", openssl_path);
        return false;
    }
    static const struct {
        const char *name, *newkey, *pkeyopt;
        char *cert, *key;
    } kinds[] = {
        {"ecdsa", "ec", "ec_paramgen_curve:P-256", cert_ecdsa, key_ecdsa},
        {"rsa", "rsa", "rsa_keygen_bits:2048", cert_rsa, key_rsa},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char cert[320], key[320];
        snprintf(cert, sizeof(cert), "%s/%s.pem", tmpdir, kinds[i].name);
        snprintf(key, sizeof(key), "%s/%s.key", tmpdir, kinds[i].name);
        char *argv[] = {(char *)openssl_path, "req", "-x509", "-newkey", (char *)kinds[i].newkey, "-pkeyopt",
                        (char *)kinds[i].pkeyopt, "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj",
                        "/O=sea bench/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", NULL};
        static char out[8192];
        int st = 0;
        struct rusage ru;
        if (!run_capture(argv, out, sizeof(out), 60, &st, &ru) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("cannot make the %s certificate (status 0x%x): %s", kinds[i].name, st, out);
        snprintf(kinds[i].cert, 320, "%s", cert);
        snprintf(kinds[i].key, 320, "%s", key);
    }
    return true;
}

static void use_cert(bool rsa) {
    tls_cert = rsa ? cert_rsa : cert_ecdsa;
    tls_key = rsa ? key_rsa : key_ecdsa;
    tls_cert_what = rsa ? "RSA-2048" : "ECDSA P-256";
}

static void no_cert(void) {
    tls_cert = tls_key = tls_cert_what = NULL;
}

/*
 * The handshake generator: HS_CONNS nonblocking connections at once on one
 * epoll loop (this process, CPU 0), each in a cycle: TCP connect, TLS 1.3
 * handshake (SSL_connect; no certificate check, no SNI, no ALPN), then
 * close_notify sent and the connection read until the server's
 * close_notify or end (so that the server's session tickets are received
 * rather than answered with a reset), close, and again.  Counted: the
 * handshakes completed within the measured window.  Resuming: every
 * connection offers the session of the latest ticket received (the
 * new-session callback), and SSL_session_reused says whether it resumed.
 */
#define HS_CONNS 32

enum { HS_IDLE, HS_HANDSHAKE, HS_SHUTDOWN, HS_CLOSING };

struct hconn {
    int fd;
    SSL *ssl;
    int state;
    bool offered;  /* a session was offered */
    int64_t since; /* the last progress */
};

struct hs_result {
    bool ok;
    double secs;
    long handshakes, failures, not_resumed, not_offered, tickets, conns;
    long no_close_notify, resets; /* connections that ended with a bare end of stream, or a reset */
    double user, sys, busy1, busy0, client;
};

/* The generator checks no certificate: not even the chain OpenSSL builds with SSL_VERIFY_NONE. */
static int hs_no_chain(X509_STORE_CTX *x, void *arg) {
    (void)x;
    (void)arg;
    return 1;
}

static long hs_tickets;         /* tickets received (all of the run) */
static SSL_SESSION *hs_session; /* resuming: the latest ticket's session */
static bool hs_keep;            /* resuming: keep the tickets' sessions */

/*
 * A ticket arrived: resuming, its session becomes the one offered, as a
 * copy, and each connection gets a copy of that: OpenSSL marks the session
 * object a connection holds not resumable when the connection ends in an
 * error (nginx ends them with a bare end of stream, which OpenSSL 3 treats
 * as one), and every connection sharing it would then offer nothing.
 */
static int hs_new_session(SSL *ssl, SSL_SESSION *sess) {
    (void)ssl;
    hs_tickets++;
    if (!hs_keep)
        return 0;
    SSL_SESSION *copy = SSL_SESSION_dup(sess);
    if (!copy)
        die("SSL_SESSION_dup failed");
    if (hs_session)
        SSL_SESSION_free(hs_session);
    hs_session = copy;
    return 0; /* OpenSSL keeps or frees the original */
}

struct hs_run {
    struct server *s;
    SSL_CTX *ctx;
    int ep;
    bool resume, measuring, draining;
    struct hs_result *res;
};

static void hs_end(struct hs_run *run, struct hconn *c) {
    epoll_ctl(run->ep, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
    c->state = HS_IDLE;
}

static void hs_fail(struct hs_run *run, struct hconn *c, const char *what, int sys_errno) {
    char why[256];
    ssl_why(why, sizeof(why), sys_errno);
    run->res->failures++;
    FAIL("%s: TLS %s failed: %s", run->s->name, what, why);
    hs_end(run, c);
}

static void hs_start(struct hs_run *run, struct hconn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die("socket failed: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)run->s->tls_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->ssl = SSL_new(run->ctx);
    if (!c->ssl)
        die("SSL_new failed");
    c->state = HS_HANDSHAKE;
    c->since = bench_ns();
    run->res->conns++;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
        hs_fail(run, c, "connect", errno);
        return;
    }
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
    c->offered = run->resume && hs_session && SSL_SESSION_is_resumable(hs_session);
    if (c->offered) {
        SSL_SESSION *copy = SSL_SESSION_dup(hs_session);
        if (!copy || SSL_set_session(c->ssl, copy) != 1)
            die("cannot offer a session");
        SSL_SESSION_free(copy); /* the connection holds it */
    }
    /* Edge-triggered: each step below runs OpenSSL until it wants to read or write. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(run->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl failed: %s", strerror(errno));
}

/* Advances c as far as it goes without waiting. */
static void hs_step(struct hs_run *run, struct hconn *c) {
    c->since = bench_ns();
    for (;;) {
        ERR_clear_error();
        errno = 0;
        if (c->state == HS_HANDSHAKE) {
            int r = SSL_connect(c->ssl);
            if (r == 1) {
                if (run->measuring) {
                    run->res->handshakes++;
                    if (run->resume && !SSL_session_reused(c->ssl)) {
                        run->res->not_resumed++;
                        run->res->not_offered += !c->offered; /* no ticket had come yet */
                    }
                }
                c->state = HS_SHUTDOWN;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            hs_fail(run, c, "handshake", errno);
            return;
        }
        if (c->state == HS_SHUTDOWN) { /* close_notify out */
            int r = SSL_shutdown(c->ssl);
            if (r >= 0) {
                c->state = HS_CLOSING;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            run->res->resets++;
            hs_end(run, c);
            return;
        }
        if (c->state == HS_CLOSING) { /* tickets in, then the server's close_notify or end */
            char buf[512];
            int r = SSL_read(c->ssl, buf, sizeof(buf));
            if (r > 0) {
                FAIL("%s: %d bytes of data on a connection that sent no request", run->s->name, r);
                run->res->failures++;
                hs_end(run, c);
                return;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            if (e != SSL_ERROR_ZERO_RETURN) { /* end without close_notify, or a reset */
                if (errno == ECONNRESET)
                    run->res->resets++;
                else
                    run->res->no_close_notify++;
            }
            hs_end(run, c);
            return;
        }
        return;
    }
}

/*
 * warm_secs of handshakes, then secs measured: the server's CPU (from
 * /proc/PID/stat) and this process's over the window, the handshakes
 * completed in it; then the connections in progress finish.
 */
static struct hs_result run_handshakes(struct server *s, bool resume, double warm_secs, double secs, bool count) {
    struct hs_result res = {0};
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, hs_no_chain, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, hs_new_session);
    if (hs_session)
        SSL_SESSION_free(hs_session);
    hs_session = NULL;
    hs_keep = resume;
    hs_tickets = 0;
    struct hs_run run = {.s = s, .ctx = ctx, .ep = epoll_create1(0), .resume = resume, .res = &res};
    if (run.ep < 0)
        die("epoll_create1 failed");
    static struct hconn conns[HS_CONNS];
    for (int i = 0; i < HS_CONNS; i++) {
        conns[i] = (struct hconn){.fd = -1};
        hs_start(&run, &conns[i]);
        if (conns[i].state != HS_IDLE)
            hs_step(&run, &conns[i]);
    }
    int64_t t0 = bench_ns(), warm_end = t0 + (int64_t)(warm_secs * 1e9), m0 = 0, drain_start = 0;
    struct cpu_times c0 = {0};
    double self0 = 0;
    long tickets0 = 0, conns0 = 0, eos0 = 0, resets0 = 0;
    struct epoll_event evs[HS_CONNS];
    for (;;) {
        check_interrupted();
        int64_t now = bench_ns();
        if (!run.measuring && !run.draining && now >= warm_end) {
            run.measuring = true;
            m0 = now;
            c0 = cpu_now(s->pid);
            self0 = bench_self_cpu_seconds();
            tickets0 = hs_tickets;
            conns0 = res.conns;
            eos0 = res.no_close_notify;
            resets0 = res.resets;
        }
        if (run.measuring && now - m0 >= (int64_t)(secs * 1e9)) {
            run.measuring = false;
            run.draining = true;
            drain_start = now;
            struct cpu_times c1 = cpu_now(s->pid);
            res.secs = (double)(now - m0) / 1e9;
            res.user = c1.user - c0.user;
            res.sys = c1.sys - c0.sys;
            res.busy1 = c1.busy1 - c0.busy1;
            res.busy0 = c1.busy0 - c0.busy0;
            res.client = bench_self_cpu_seconds() - self0;
            res.tickets = hs_tickets - tickets0;
            res.conns -= conns0;
            res.no_close_notify -= eos0;
            res.resets -= resets0;
        }
        int open = 0;
        for (int i = 0; i < HS_CONNS; i++) {
            struct hconn *c = &conns[i];
            if (c->state == HS_IDLE && !run.draining) {
                hs_start(&run, c);
                if (c->state != HS_IDLE)
                    hs_step(&run, c);
            }
            if (c->state != HS_IDLE && now - c->since > 5000000000LL) {
                FAIL("%s: a TLS connection made no progress for 5 s (%s)", s->name,
                     c->state == HS_HANDSHAKE ? "in its handshake" : "closing");
                res.failures++;
                hs_end(&run, c);
            }
            open += c->state != HS_IDLE;
        }
        if (run.draining && (!open || now - drain_start > 6000000000LL))
            break;
        int timeout_ms = 100;
        if (!run.measuring && !run.draining)
            timeout_ms = (int)((warm_end - now) / 1000000) + 1;
        else if (run.measuring)
            timeout_ms = (int)((m0 + (int64_t)(secs * 1e9) - now) / 1000000) + 1;
        if (timeout_ms > 100)
            timeout_ms = 100;
        if (timeout_ms < 0)
            timeout_ms = 0;
        int n = epoll_wait(run.ep, evs, HS_CONNS, timeout_ms);
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed: %s", strerror(errno));
        for (int e = 0; e < n; e++) {
            struct hconn *c = evs[e].data.ptr;
            if (c->state != HS_IDLE)
                hs_step(&run, c);
        }
    }
    for (int i = 0; i < HS_CONNS; i++)
        if (conns[i].state != HS_IDLE)
            hs_end(&run, &conns[i]);
    close(run.ep);
    SSL_CTX_free(ctx);
    if (hs_session)
        SSL_SESSION_free(hs_session);
    hs_session = NULL;
    if (!res.secs) {
        FAIL("%s: the handshake measurement did not finish", s->name);
        return res;
    }
    res.ok = res.handshakes > 0;
    if (!res.ok)
        FAIL("%s: no TLS handshake completed in %.1f s", s->name, res.secs);
    if (res.ok && resume && res.not_resumed * 100 > res.handshakes * 3) {
        FAIL("%s: %ld of %ld handshakes did not resume the session offered", s->name, res.not_resumed,
             res.handshakes);
        res.ok = false;
    }
    if (count)
        bench_other_load_add(&other_load, (res.busy1 - res.user - res.sys) / res.secs,
                             (res.busy0 - res.client) / res.secs);
    return res;
}

struct hs_stats {
    struct bench_series rate, per_cpu, cpu, user, sys, cpu1, client, tickets, not_resumed, not_offered, eos, resets;
};

static void fig_handshakes(const char *name, bool rsa, bool resume) {
    struct server *sv = main_servers;
    printf("# %s: %s; a generator of %d TLS 1.3 connections at once on CPU 0 (connect, %s handshake, close_notify, "
           "close, again), %s certificate; handshakes per second of server CPU (/proc/PID/stat utime + stime over "
           "the window)\n",
           name, resume ? "resumed handshakes (each connection offers the session of the latest ticket received)"
                        : "full handshakes",
           HS_CONNS, resume ? "resumed" : "full", rsa ? "RSA-2048" : "ECDSA P-256");
    if (!make_certs())
        return;
    use_cert(rsa);
    start_all(sv, 2);
    static struct hs_stats hs[2];
    memset(hs, 0, sizeof(hs));
    for (int i = 0; i < 2; i++)
        if (sv[i].pid)
            run_handshakes(&sv[i], resume, 0.2, 1.0, false);
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < 2; k++) {
            int i = r % 2 ? 1 - k : k;
            if (!sv[i].pid)
                continue;
            struct hs_result res = run_handshakes(&sv[i], resume, 0.2, secs_arg, true);
            check_alive(&sv[i]);
            if (!res.ok || !(res.user + res.sys > 0))
                continue;
            double n = (double)res.handshakes;
            bench_add(&hs[i].rate, n / res.secs);
            bench_add(&hs[i].per_cpu, n / (res.user + res.sys));
            bench_add(&hs[i].cpu, (res.user + res.sys) / n * 1e6);
            bench_add(&hs[i].user, res.user / n * 1e6);
            bench_add(&hs[i].sys, res.sys / n * 1e6);
            bench_add(&hs[i].cpu1, res.busy1 / res.secs);
            bench_add(&hs[i].client, res.client / res.secs);
            bench_add(&hs[i].tickets, (double)res.tickets / n);
            bench_add(&hs[i].not_offered, (double)res.not_offered / n);
            bench_add(&hs[i].not_resumed, (double)res.not_resumed / n);
            bench_add(&hs[i].eos, (double)res.no_close_notify / n);
            bench_add(&hs[i].resets, (double)res.resets / n);
        }
    stop_all(sv, 2);
    no_cert();
    double per_cpu[2] = {0}, rate[2] = {0};
    for (int i = 0; i < 2; i++) {
        if (!hs[i].rate.n)
            continue;
        char line[128];
        rate[i] = bench_median(&hs[i].rate);
        per_cpu[i] = bench_median(&hs[i].per_cpu);
        printf("tls.%s.%s.handshakes_per_s: %.0f hs/s\n", name, sv[i].name, rate[i]);
        printf("tls.%s.%s.handshakes_per_cpu_sec: %.0f hs/cpu-s\n", name, sv[i].name, per_cpu[i]);
        snprintf(line, sizeof(line), "tls.%s.%s.cpu_per_handshake_us", name, sv[i].name);
        bench_report(line, &hs[i].cpu, "us");
        double client = bench_median(&hs[i].client), busy = bench_median(&hs[i].cpu1);
        printf("# %s %s: user %.1f us, system %.1f us per handshake; CPU 1 %.0f%% busy, the generator used %.0f%% of "
               "CPU 0%s; %.2f session tickets received per handshake; after the client's close_notify %.0f%% of "
               "connections ended without the server's, %.0f%% with a reset\n",
               name, sv[i].name, bench_median(&hs[i].user), bench_median(&hs[i].sys), busy * 100, client * 100,
               client > 0.9 && busy < 0.9 ? " (the generator is the bottleneck, not the server)" : "",
               bench_median(&hs[i].tickets), bench_median(&hs[i].eos) * 100, bench_median(&hs[i].resets) * 100);
        if (resume)
            printf("# %s %s: %.2f%% of the counted handshakes did not resume (%.2f%% had no session to offer yet)\n",
                   name, sv[i].name, bench_median(&hs[i].not_resumed) * 100, bench_median(&hs[i].not_offered) * 100);
    }
    if (per_cpu[0] > 0 && per_cpu[1] > 0) {
        char line[128];
        snprintf(line, sizeof(line), "tls.%s.ratio_vs_nginx", name);
        bench_ratio(line, per_cpu[1], per_cpu[0]);
        snprintf(line, sizeof(line), "tls.%s.rate.ratio_vs_nginx", name);
        bench_ratio(line, rate[1], rate[0]);
        printf("# %s target: sea's handshakes per CPU second / nginx's >= 1.0: %s\n", name,
               per_cpu[1] >= per_cpu[0] ? "met" : "MISSED");
    }
}

static void fig_tls_ecdsa(void) {
    fig_handshakes("handshake_ecdsa", false, false);
}

static void fig_tls_rsa(void) {
    fig_handshakes("handshake_rsa", true, false);
}

static void fig_tls_resumed(void) {
    fig_handshakes("handshake_resumed", false, true);
}

static void fig_https_plaintext(void) {
    printf("# https_plaintext: wrk -t1 -c100 on https://127.0.0.1:PORT/plaintext (HTTP/1.1 over TLS 1.3, ECDSA "
           "P-256 certificate), keep-alive; server CPU per request as in plaintext\n");
    if (!make_certs())
        return;
    use_cert(false);
    wrk_https = true;
    fig_closed("plaintext", "/plaintext", 1, 0);
    wrk_https = false;
    no_cert();
}

/* ---- HTTP/2: h2load ---- */

#define H2_CLIENTS 10
#define H2_STREAMS 100

struct h2_result {
    bool ok;
    long requests; /* succeeded */
    double secs;   /* h2load's own "finished in" */
    double user, sys, busy1, busy0, client, wall;
};

/*
 * h2load -c10 -m100 -t1 --npn-list=h2 on https://127.0.0.1:PORT/plaintext:
 * -n n requests (or -D secs when n is 0: the warm-up, which also gives the
 * rate the measured runs' n comes from), with the server's CPU around it.
 * Its summary must say that every request succeeded (2xx) and carried the
 * 13-byte body, and that h2 was negotiated.
 */
static struct h2_result run_h2load(struct server *s, long n, double secs, bool count) {
    struct h2_result res = {0};
    char c[16], m[16], amount[32], url[128];
    snprintf(c, sizeof(c), "-c%d", H2_CLIENTS);
    snprintf(m, sizeof(m), "-m%d", H2_STREAMS);
    if (n)
        snprintf(amount, sizeof(amount), "-n%ld", n);
    else
        snprintf(amount, sizeof(amount), "-D%.0f", secs < 1 ? 1 : secs);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/plaintext", s->tls_port);
    char *argv[] = {(char *)h2load_path, c, m, "-t1", "--npn-list=h2", amount, url, NULL};
    static char out[65536];
    int st = 0;
    struct rusage ru;
    struct cpu_times t0 = cpu_now(s->pid);
    bool finished = run_capture(argv, out, sizeof(out), (int)(n ? secs * 10 + 30 : secs + 30), &st, &ru);
    struct cpu_times t1 = cpu_now(s->pid);
    res.user = t1.user - t0.user;
    res.sys = t1.sys - t0.sys;
    res.busy1 = t1.busy1 - t0.busy1;
    res.busy0 = t1.busy0 - t0.busy0;
    res.wall = (double)(t1.ns - t0.ns) / 1e9;
    res.client = bench_rusage_seconds(&ru);
    if (!finished) {
        s->failed = true;
        return res;
    }
    const char *proto = strstr(out, "Application protocol: ");
    char got[32] = "";
    if (proto)
        sscanf(proto + 22, "%31s", got);
    if (strcmp(got, "h2") != 0) {
        const char *sum = strstr(out, "finished in ");
        FAIL("http2: %s did not negotiate h2 (%s); h2load's summary:\n%.250s", s->name,
             got[0] ? got : "h2load printed no \"Application protocol\": no h2 in the server's ALPN",
             sum ? sum : out);
        s->failed = true;
        return res;
    }
    long total = -1, started = -1, done = -1, ok = -1, failed = -1, errored = -1, timeout = -1, s2xx = -1, data = -1;
    const char *p = strstr(out, "\nrequests: ");
    if (p)
        sscanf(p, "\nrequests: %ld total, %ld started, %ld done, %ld succeeded, %ld failed, %ld errored, %ld timeout",
               &total, &started, &done, &ok, &failed, &errored, &timeout);
    p = strstr(out, "\nstatus codes: ");
    if (p)
        sscanf(p, "\nstatus codes: %ld 2xx", &s2xx);
    p = strstr(out, ") data");
    if (p) {
        const char *q = p;
        while (q > out && q[-1] != '(')
            q--;
        data = strtol(q, NULL, 10);
    }
    p = strstr(out, "finished in "); /* "1.00s", "985.54ms", "850us" */
    char unit[4] = "";
    if (p && sscanf(p, "finished in %lf%3[mus]", &res.secs, unit) == 2)
        res.secs *= !strcmp(unit, "s") ? 1 : !strcmp(unit, "ms") ? 1e-3 : !strcmp(unit, "us") ? 1e-6 : 0;
    else
        res.secs = 0;
    /* -n: every request started, done and succeeded; -D: those in flight at the end are only "started". */
    bool good = WIFEXITED(st) && WEXITSTATUS(st) == 0 && ok > 0 && total == done && done == ok && failed == 0 &&
                errored == 0 && timeout == 0 && s2xx == ok && data == ok * (long)strlen(PLAINTEXT) && res.secs > 0 &&
                (!n || (total == n && started == n));
    if (!good) {
        const char *sum = strstr(out, "finished in ");
        FAIL("http2: %s: h2load's summary is not \"N total, N started, N done, N succeeded, 0 failed, 0 errored, 0 "
             "timeout\" with N 2xx and %zu data bytes each (status 0x%x):\n%.700s",
             s->name, strlen(PLAINTEXT), st, sum ? sum : out);
        s->failed = true;
        return res;
    }
    res.requests = ok;
    res.ok = true;
    if (count)
        bench_other_load_add(&other_load, (res.busy1 - res.user - res.sys) / res.wall,
                             (res.busy0 - res.client) / res.wall);
    return res;
}

static void fig_http2(void) {
    printf("# http2: h2load -c%d -m%d -t1 --npn-list=h2 on https://127.0.0.1:PORT/plaintext (TLS 1.3, ECDSA P-256 "
           "certificate), -n calibrated by a 1 s -D warm-up to about %.0f s per run; requests per second of server CPU "
           "(/proc/PID/stat over h2load's run). nginx: listen ssl http2, return 200; h2o %s\n",
           H2_CLIENTS, H2_STREAMS, secs_arg,
           h2o_mruby ? "2.2: /plaintext from an mruby.handler returning the body (H2O_PLAINTEXT=mruby)"
                     : "2.2: /plaintext is a static file holding \"Hello, World!\" (file.dir; h2o has no `return`; "
                       "H2O_PLAINTEXT=mruby for an mruby.handler instead)");
    if (access(h2load_path, X_OK) != 0) {
        printf("# http2: needs h2load at %s (apt-get install nghttp2-client): skipped\n", h2load_path);
        return;
    }
    if (!make_certs())
        return;
    struct server sv[3] = {
        {.name = "nginx", .kind = NGINX},
        {.name = "sea", .kind = SEA, .shards = 1},
        {.name = "h2o", .kind = H2O},
    };
    if (access(h2o_path, X_OK) != 0)
        printf("# http2: no h2o at %s (apt-get install h2o): nginx and sea only\n", h2o_path);
    use_cert(false);
    start_all(sv, 3);
    long per_run[3] = {0};
    for (int i = 0; i < 3; i++)
        if (sv[i].pid) {
            struct h2_result w = run_h2load(&sv[i], 0, 1.0, false);
            if (w.ok) {
                long n = lround((double)w.requests / w.secs * secs_arg / (H2_CLIENTS * H2_STREAMS));
                per_run[i] = (n < 1 ? 1 : n) * H2_CLIENTS * H2_STREAMS;
            }
        }
    static struct closed_stats cs[3];
    memset(cs, 0, sizeof(cs));
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < 3; k++) {
            int i = r % 2 ? 2 - k : k;
            if (!sv[i].pid || sv[i].failed || !per_run[i])
                continue;
            struct h2_result res = run_h2load(&sv[i], per_run[i], secs_arg, true);
            check_alive(&sv[i]);
            if (!res.ok)
                continue;
            double n = (double)res.requests;
            bench_add(&cs[i].rps, n / res.secs);
            bench_add(&cs[i].cpu, (res.user + res.sys) / n * 1e6);
            bench_add(&cs[i].user, res.user / n * 1e6);
            bench_add(&cs[i].sys, res.sys / n * 1e6);
            bench_add(&cs[i].cpu1, res.busy1 / n * 1e6);
            bench_add(&cs[i].client, res.client / res.wall);
        }
    stop_all(sv, 3);
    no_cert();
    double cpu[3] = {0}, rps[3] = {0};
    for (int i = 0; i < 3; i++) {
        if (!cs[i].rps.n)
            continue;
        char name[128];
        rps[i] = bench_median(&cs[i].rps);
        printf("http2.%s.rps: %.0f req/s\n", sv[i].name, rps[i]);
        snprintf(name, sizeof(name), "http2.%s.cpu_per_req_us", sv[i].name);
        cpu[i] = bench_report(name, &cs[i].cpu, "us");
        printf("http2.%s.requests_per_cpu_sec: %.0f req/cpu-s\n", sv[i].name, cpu[i] > 0 ? 1e6 / cpu[i] : 0);
        double client = bench_median(&cs[i].client);
        printf("# http2 %s: user %.2f us, system %.2f us per request; CPU 1 busy per request %.2f us; h2load used "
               "%.0f%% of CPU 0%s; %ld requests per run\n",
               sv[i].name, bench_median(&cs[i].user), bench_median(&cs[i].sys), bench_median(&cs[i].cpu1),
               client * 100, client > 0.9 ? ": it may be the bottleneck" : "", per_run[i]);
    }
    if (cpu[1] > 0 && cpu[0] > 0) {
        bench_ratio("http2.cpu_per_req.ratio_vs_nginx", cpu[0], cpu[1]);
        bench_ratio("http2.rps.ratio_vs_nginx", rps[1], rps[0]);
        printf("# http2 target: sea's requests per CPU second / nginx's >= 1.5: %s\n",
               cpu[0] >= 1.5 * cpu[1] ? "met" : "MISSED");
    }
    if (cpu[1] > 0 && cpu[2] > 0) {
        bench_ratio("http2.cpu_per_req.ratio_vs_h2o", cpu[2], cpu[1]);
        bench_ratio("http2.rps.ratio_vs_h2o", rps[1], rps[2]);
    }
}

/* ---- main ---- */

static const struct bench_figure figures[] = {
    {"plaintext", fig_plaintext}, {"pipelined", fig_pipelined}, {"json", fig_json},       {"file_4k", fig_file_4k},
    {"file_1m", fig_file_1m},     {"latency", fig_latency},     {"shards", fig_shards},
    {"tls_handshake_ecdsa", fig_tls_ecdsa}, {"tls_handshake_rsa", fig_tls_rsa}, {"tls_resumed", fig_tls_resumed},
    {"https_plaintext", fig_https_plaintext}, {"http2", fig_http2},
};

static void setup_tmpdir(void) {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bench_http.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        die("cannot create a temporary directory: %s", strerror(errno));
    }
    snprintf(www, sizeof(www), "%s/www", tmpdir);
    if (mkdir(www, 0755) < 0)
        die("cannot create %s: %s", www, strerror(errno));
    file_4k = malloc(FILE_4K_SIZE);
    file_1m = malloc(FILE_1M_SIZE);
    if (!file_4k || !file_1m)
        die("out of memory");
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < FILE_1M_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        file_1m[i] = (char)(x >> 24);
    }
    for (size_t i = 0; i < FILE_4K_SIZE; i++)
        file_4k[i] = (char)('a' + i % 26);
    char path[400];
    snprintf(path, sizeof(path), "%s/4k.bin", www);
    write_file(path, file_4k, FILE_4K_SIZE);
    snprintf(path, sizeof(path), "%s/1m.bin", www);
    write_file(path, file_1m, FILE_1M_SIZE);
    static const char summary[] =
        "done = function(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        "  io.write(string.format(\"SUMMARY requests=%.0f bytes=%.0f duration_us=%.0f connect=%.0f read=%.0f "
        "write=%.0f status=%.0f timeout=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\\n\",\n"
        "    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,\n"
        "    latency:percentile(50), latency:percentile(99), latency.max))\n"
        "end\n";
    static const char pipeline[] =
        "init = function(args)\n"
        "  local depth = tonumber(args[1]) or 1\n"
        "  local r = {}\n"
        "  for i = 1, depth do r[i] = wrk.format() end\n"
        "  req = table.concat(r)\n"
        "end\n"
        "request = function() return req end\n";
    snprintf(h2o_www, sizeof(h2o_www), "%s/h2o-www", tmpdir);
    if (mkdir(h2o_www, 0755) < 0)
        die("cannot create %s: %s", h2o_www, strerror(errno));
    snprintf(path, sizeof(path), "%s/plaintext", h2o_www);
    write_file(path, PLAINTEXT, strlen(PLAINTEXT));
    snprintf(path, sizeof(path), "%s/summary.lua", tmpdir);
    write_file(path, summary, strlen(summary));
    char both[sizeof(summary) + sizeof(pipeline)];
    snprintf(both, sizeof(both), "%s%s", pipeline, summary);
    snprintf(path, sizeof(path), "%s/pipeline.lua", tmpdir);
    write_file(path, both, strlen(both));
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s [seconds per measurement, default 2] "
               "[plaintext|pipelined|json|file_4k|file_1m|latency|shards|tls_handshake_ecdsa|tls_handshake_rsa|"
               "tls_resumed|https_plaintext|http2] [nginx|sea|sea_c1|sea_c2|h2o]\n",
               argv[0]);
        return 0;
    }
    secs_arg = bench_seconds_arg(argc, argv, 2.0);
    const char *only_fig;
    if (!bench_figure_arg(argc, argv, figures, sizeof(figures) / sizeof(figures[0]), "bench_http", &only_fig))
        return 2;
    only_server = argc > 3 ? argv[3] : NULL;
    runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    static char sea_default[PATH_MAX + 32];
    bench_next_to_self(sea_default, sizeof(sea_default), "../apps/sea-httpd");
    sea_path = getenv("SEA_HTTPD") ? getenv("SEA_HTTPD") : sea_default;
    nginx_path = getenv("NGINX") ? getenv("NGINX") : "/usr/sbin/nginx";
    wrk_path = getenv("WRK") ? getenv("WRK") : "/usr/bin/wrk";
    h2load_path = getenv("H2LOAD") ? getenv("H2LOAD") : "/usr/bin/h2load";
    h2o_path = getenv("H2O") ? getenv("H2O") : "/usr/bin/h2o";
    openssl_path = getenv("OPENSSL") ? getenv("OPENSSL") : "/usr/bin/openssl";
    h2o_mruby = getenv("H2O_PLAINTEXT") && strcmp(getenv("H2O_PLAINTEXT"), "mruby") == 0;
    if (access(nginx_path, X_OK) != 0 || access(wrk_path, X_OK) != 0) {
        printf("# bench_http: needs nginx at %s and wrk at %s (apt-get install nginx-light wrk): skipped\n", nginx_path,
               wrk_path);
        return 0;
    }
    have_sea = access(sea_path, X_OK) == 0;
    if (!have_sea)
        printf("# bench_http: no sea-httpd at %s (build the sea-httpd target): measuring nginx only\n", sea_path);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: blocking calls return EINTR and the loops see the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL); /* paced sends on time, to the microsecond */
    bench_pin(CLIENT_CPU);
    setup_tmpdir();
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        printf("# fewer than 2 CPUs: the server and the load generator share one; numbers are indicative\n");
    printf("# bench_http: servers pinned to CPU 1 (nginx: one process, master_process off), load on CPU 0; medians of "
           "%d rounds of %.1f s, servers alternating within each round\n",
           runs, secs_arg);
    bench_run_figures(figures, sizeof(figures) / sizeof(figures[0]), only_fig, other_load_note);
    bench_kill_children();
    bench_remove_tree(tmpdir);
    printf("http.errors: %ld errors\n", errors);
    if (errors) {
        fprintf(stderr, "bench_http: %ld errors (see above): FAILED\n", errors);
        return 1;
    }
    return 0;
}
