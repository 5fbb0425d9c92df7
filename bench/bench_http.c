/*
 * bench_http.c - sea-httpd against nginx (Debian's 1.22), driven by the same
 * load generators in the same run (issue 17).
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
 * Server names: nginx, sea (and sea_c1, sea_c2 for shards).  Environment:
 * SEA_HTTPD (default: ../apps/sea-httpd next to this program), NGINX
 * (default /usr/sbin/nginx), WRK (default /usr/bin/wrk), SEA_HTTPD_ARGS
 * (more options for sea-httpd, separated by spaces, e.g.
 * "--reactor-backend=epoll"), NGINX_HTTP_EXTRA (more directives for nginx's
 * http block, e.g. "open_file_cache max=64;"), SEA_BENCH_RUNS.  Without nginx or wrk the
 * program says so and exits with 0; without sea-httpd it measures nginx
 * alone and says so.
 *
 * Output: "name: value unit" lines; '#' lines are notes.
 */
#include "bench.h"
#include "bench_loadgen.h"
#include "bench_proc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

enum { CLIENT_CPU = 0, SERVER_CPU = 1 };

#define FILE_4K_SIZE 4096
#define FILE_1M_SIZE (1024 * 1024)
static const char PLAINTEXT[] = "Hello, World!";
static const char JSON[] = "{\"message\":\"Hello, World!\"}";

/* ---- failures, children, the temporary directory ---- */

static long errors;
static volatile sig_atomic_t interrupted;

#define FAIL(...) \
    do { \
        if (errors++ < 30) { \
            fprintf(stderr, "bench_http: error: "); \
            fprintf(stderr, __VA_ARGS__); \
            fprintf(stderr, "\n"); \
        } \
    } while (0)

static char tmpdir[256];
static pid_t children[8];

static void child_add(pid_t pid) {
    for (int i = 0; i < 8; i++)
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
}

static void child_forget(pid_t pid) {
    for (int i = 0; i < 8; i++)
        if (children[i] == pid)
            children[i] = 0;
}

static void kill_children(void) {
    for (int i = 0; i < 8; i++)
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tmpdir(void) {
    if (tmpdir[0]) {
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        tmpdir[0] = '\0';
    }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_http: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    kill_children();
    remove_tmpdir();
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

enum kind { NGINX, SEA };

struct server {
    const char *name;
    enum kind kind;
    int shards; /* sea: -c */
    pid_t pid;
    int port;
    char log[320];
};

static const char *sea_path, *nginx_path, *wrk_path;
static bool have_sea;
static char www[300];
static char *file_4k, *file_1m;
static const char *only_server;
static double secs_arg = 2.0;
static int runs = 5;

static bool selected(const struct server *s) {
    if (s->kind == SEA && !have_sea)
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
    char text[4096];
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
                     "}\n",
                     tmpdir, s->port, www, PLAINTEXT, JSON, getenv("NGINX_HTTP_EXTRA") ? getenv("NGINX_HTTP_EXTRA") : "");
    if (n <= 0 || (size_t)n >= sizeof(text))
        die("nginx configuration too long");
    write_file(conf, text, (size_t)n);
}

static bool verify_routes(struct server *s);

static void start_server(struct server *s) {
    s->port = bench_free_port();
    if (s->port < 0)
        die("cannot find a free port");
    snprintf(s->log, sizeof(s->log), "%s/%s-%d.log", tmpdir, s->name, s->port);
    char port[16], conf[320], prefix[300], errlog[320];
    snprintf(port, sizeof(port), "%d", s->port);
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
    } else {
        char *a[] = {(char *)sea_path, s->shards > 1 ? "-c2" : "-c1", "--cpuset", s->shards > 1 ? "0-1" : "1",
                     "--root", www, "--address", "127.0.0.1", "--port", port};
        for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
            argv[n++] = a[i];
        words = bench_env_words("SEA_HTTPD_ARGS", argv, &n, 40);
    }
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        /* CPU 1 (0-1 for two sea shards); it dies with the benchmark; its output goes to its log. */
        bench_pin_cpus(s->kind == SEA && s->shards > 1 ? CLIENT_CPU : SERVER_CPU, SERVER_CPU);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        fprintf(stderr, "bench_http: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    free(words);
    s->pid = pid;
    child_add(pid);
    /* Ready when it accepts a connection, within 10 s; an early exit is a failure. */
    for (int i = 0; i < 500; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            child_forget(pid);
            s->pid = 0;
            print_log_tail(s, 20, "it exited at start");
            die("server %s exited at start (status 0x%x)", s->name, st);
        }
        int fd = bench_connect_loopback(s->port);
        if (fd >= 0) {
            close(fd);
            if (!verify_routes(s)) {
                print_log_tail(s, 20, "its routes failed");
                die("server %s: wrong responses (see above)", s->name);
            }
            return;
        }
        sleep_ms(20);
    }
    print_log_tail(s, 20, "it did not start");
    die("server %s not accepting connections on port %d after 10 s", s->name, s->port);
}

/* SIGTERM, then SIGKILL after 3 s; the server must exit with 0. */
static void stop_server(struct server *s) {
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    int st = 0;
    bool exited = false;
    for (int i = 0; i < 300 && !exited; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid)
            exited = true;
        else
            sleep_ms(10);
    }
    if (!exited) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
        FAIL("%s did not stop within 3 s of SIGTERM (killed)", s->name);
    } else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        FAIL("%s did not exit cleanly on SIGTERM (status 0x%x)", s->name, st);
    }
    child_forget(s->pid);
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
    if (s->pid > 0 && waitpid(s->pid, &st, WNOHANG) == s->pid) {
        child_forget(s->pid);
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
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
    snprintf(script, sizeof(script), "%s/%s", tmpdir, depth > 1 ? "pipeline.lua" : "summary.lua");
    snprintf(dep, sizeof(dep), "%d", depth);
    char *argv[] = {(char *)wrk_path, "-t1", c, d, timeout, "-s", script, url, "--", dep, NULL};
    int pfd[2];
    if (pipe(pfd) < 0)
        die("pipe failed");
    fflush(stdout);
    fflush(stderr);
    struct cpu_times t0 = cpu_now(s->pid);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    child_add(pid);
    static char out[65536];
    size_t len = 0;
    int64_t deadline = bench_ns() + (int64_t)(secs + 15) * 1000000000;
    for (;;) {
        if (interrupted) {
            close(pfd[0]);
            die("interrupted");
        }
        if (bench_ns() > deadline) {
            kill(pid, SIGKILL);
            FAIL("%s: wrk on %s did not finish within %d s (killed)", s->name, path, secs + 15);
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(pfd[0], out + len, sizeof(out) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(out) - 1) { /* keep the end, where the summary is */
            memmove(out, out + sizeof(out) / 2, len - sizeof(out) / 2);
            len -= sizeof(out) / 2;
        }
    }
    close(pfd[0]);
    out[len] = '\0';
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    wait4(pid, &st, 0, &ru);
    child_forget(pid);
    struct cpu_times t1 = cpu_now(s->pid);
    res.user = t1.user - t0.user;
    res.sys = t1.sys - t0.sys;
    res.busy1 = t1.busy1 - t0.busy1;
    res.busy0 = t1.busy0 - t0.busy0;
    res.wall = (double)(t1.ns - t0.ns) / 1e9;
    res.client = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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
    double rps = bench_median(&cs->rps);
    printf("http.%s.%s.rps: %.0f req/s\n", fig, who, rps);
    if (body_bytes)
        printf("http.%s.%s.body_MBps: %.1f MB/s\n", fig, who, rps * (double)body_bytes / 1e6);
    snprintf(name, sizeof(name), "http.%s.%s.cpu_per_req_us", fig, who);
    double cpu = bench_report(name, &cs->cpu, "us");
    snprintf(name, sizeof(name), "http.%s.%s.user_per_req_us", fig, who);
    bench_report(name, &cs->user, "us");
    snprintf(name, sizeof(name), "http.%s.%s.sys_per_req_us", fig, who);
    bench_report(name, &cs->sys, "us");
    if (body_bytes)
        printf("http.%s.%s.req_per_cpu_s: %.0f req/cpu-s\n", fig, who, cpu > 0 ? 1e6 / cpu : 0);
    double client = bench_median(&cs->client);
    char lat[96] = "";
    if (!pipelined)
        snprintf(lat, sizeof(lat), "; wrk latency p50 %.0f us, p99 %.0f us", bench_median(&cs->p50),
                 bench_median(&cs->p99));
    printf("# %s %s: CPU 1 busy per request %.2f us%s; wrk used %.0f%% of CPU 0%s\n", fig, who,
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
    if (rps[0] > 0 && !strcmp(fig, "plaintext"))
        nginx_plaintext_rps = rps[0];
    if (!(cpu[0] > 0 && cpu[1] > 0))
        return;
    char name[128];
    if (body_bytes) {
        /* Requests per second of server CPU, sea over nginx. */
        snprintf(name, sizeof(name), "http.%s.ratio_vs_nginx", fig);
        bench_ratio(name, 1 / cpu[1], 1 / cpu[0]);
        snprintf(name, sizeof(name), "http.%s.rps.ratio_vs_nginx", fig);
        bench_ratio(name, rps[1], rps[0]);
        return;
    }
    snprintf(name, sizeof(name), "http.%s.rps.ratio_vs_nginx", fig);
    bench_ratio(name, rps[1], rps[0]);
    snprintf(name, sizeof(name), "http.%s.cpu_per_req.ratio_vs_nginx", fig);
    bench_ratio(name, cpu[0], cpu[1]);
    if (!strcmp(fig, "plaintext"))
        printf("# plaintext target: nginx's CPU per request / sea's >= 1.5: %s\n",
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

/* ---- main ---- */

static const struct bench_figure figures[] = {
    {"plaintext", fig_plaintext}, {"pipelined", fig_pipelined}, {"json", fig_json},       {"file_4k", fig_file_4k},
    {"file_1m", fig_file_1m},     {"latency", fig_latency},     {"shards", fig_shards},
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
               "[plaintext|pipelined|json|file_4k|file_1m|latency|shards] [nginx|sea|sea_c1|sea_c2]\n",
               argv[0]);
        return 0;
    }
    secs_arg = bench_seconds_arg(argc, argv, 2.0);
    const char *only_fig = argc > 2 ? argv[2] : NULL;
    only_server = argc > 3 ? argv[3] : NULL;
    if (only_fig && !bench_figure_known(figures, sizeof(figures) / sizeof(figures[0]), only_fig)) {
        fprintf(stderr, "bench_http: unknown figure %s\n", only_fig);
        return 2;
    }
    runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    static char sea_default[PATH_MAX + 32];
    bench_next_to_self(sea_default, sizeof(sea_default), "../apps/sea-httpd");
    sea_path = getenv("SEA_HTTPD") ? getenv("SEA_HTTPD") : sea_default;
    nginx_path = getenv("NGINX") ? getenv("NGINX") : "/usr/sbin/nginx";
    wrk_path = getenv("WRK") ? getenv("WRK") : "/usr/bin/wrk";
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
    kill_children();
    remove_tmpdir();
    printf("http.errors: %ld errors\n", errors);
    if (errors) {
        fprintf(stderr, "bench_http: %ld errors (see above): FAILED\n", errors);
        return 1;
    }
    return 0;
}
