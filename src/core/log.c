/*
 * log.c - loggers (sea/log.h): the registry, levels, formatting, and the
 * background thread that writes the lines out.
 *
 * Why a thread: a reactor must never block, and a write to a terminal, a
 * pipe or syslog can block for as long as the reader likes.  So while an
 * application runs, each shard formats its lines into its own ring buffer
 * (one producer, one consumer: no lock, one fence per line) and a writer
 * thread drains the rings.  A full ring drops the line and counts it; the
 * writer reports the count once it catches up.  At exit the writer gets one
 * second to flush what is left, then gives up (the reader may be gone).
 * sea_print's text for stdout travels the same rings, in records of its own.
 *
 * The writer sleeps on an eventfd.  It announces that it is about to sleep
 * and checks the rings once more; a producer publishes its line and then
 * checks the announcement, each side with a full fence between, so one of
 * them always sees the other and no line waits for the next one to be
 * written out.  Once woken, the writer lets lines gather for a millisecond
 * before it drains, so a busy shard pays about one wake-up per millisecond,
 * not one system call per line.
 */
#include "core/log.h"

#include <sea/error.h>
#include <sea/log.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/opt.h"
#include "base/text.h"
#include "base/thread.h"
#include "core/module.h"
#include "core/shard.h"

SEA_LOGGER(sea_log_sea, "sea");
/* ---- the registry ---- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static sea_logger *loggers;
static int default_level = SEA_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};

const char *sea_log_level_name(sea_log_level level) {
    return (unsigned)level <= SEA_LOG_TRACE ? level_names[level] : "?";
}

int sea_log_level_parse(const char *text, sea_log_level *out) {
    for (int i = 0; text && i <= SEA_LOG_TRACE; i++)
        if (strcmp(text, level_names[i]) == 0) {
            *out = (sea_log_level)i;
            return 0;
        }
    return -EINVAL;
}

static bool valid_logger_name(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '=' || *p == 0x7f)
            return false;
    return true;
}

int sea_logger_register(sea_logger *lg) {
    if (!lg || !valid_logger_name(lg->name))
        return -EINVAL;
    pthread_mutex_lock(&registry_lock);
    int rc = 0;
    for (sea_logger *l = loggers; l; l = l->sea__next) {
        if (l == lg)
            goto out; /* already there */
        if (strcmp(l->name, lg->name) == 0) {
            rc = -EEXIST;
            goto out;
        }
    }
    __atomic_store_n(&lg->sea__level, default_level, __ATOMIC_RELAXED);
    lg->sea__registered = true;
    lg->sea__next = loggers;
    loggers = lg;
out:
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void sea__logger_register_at_start(sea_logger *lg) {
    int rc = sea_logger_register(lg);
    if (rc == -EEXIST)
        fprintf(stderr, "sea: two loggers are named '%s'; the second one cannot be configured\n", lg->name);
    else if (rc < 0)
        fprintf(stderr, "sea: a logger has an invalid name ('%.64s'); it cannot be configured\n",
                lg->name ? lg->name : "(null)");
}

sea_logger *sea_logger_find(const char *name) {
    if (!name)
        return NULL;
    pthread_mutex_lock(&registry_lock);
    sea_logger *l = loggers;
    while (l && strcmp(l->name, name) != 0)
        l = l->sea__next;
    pthread_mutex_unlock(&registry_lock);
    return l;
}

int sea_logger_set_level(const char *name, sea_log_level level) {
    if ((unsigned)level > SEA_LOG_TRACE)
        return -EINVAL;
    sea_logger *l = sea_logger_find(name);
    if (!l)
        return -ENOENT;
    __atomic_store_n(&l->sea__level, (int)level, __ATOMIC_RELAXED);
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp((*(sea_logger *const *)a)->name, (*(sea_logger *const *)b)->name);
}

/* Lists the registered loggers (--help-loggers). */
static void print_loggers(FILE *f) {
    pthread_mutex_lock(&registry_lock);
    size_t n = 0;
    for (sea_logger *l = loggers; l; l = l->sea__next)
        n++;
    sea_logger **sorted = calloc(n ? n : 1, sizeof(*sorted));
    if (sorted) {
        n = 0;
        for (sea_logger *l = loggers; l; l = l->sea__next)
            sorted[n++] = l;
        qsort(sorted, n, sizeof(*sorted), cmp_names);
        fprintf(f, "Loggers (set with --logger-log-level NAME=LEVEL):\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "  %s\n", sorted[i]->name);
        free(sorted);
    }
    pthread_mutex_unlock(&registry_lock);
}

/* ---- configuration from the command line ---- */

static bool to_syslog;

static int log_configure(const struct sea__opt_values *o, char *err, size_t errlen) {
    if (sea__opt_flag(o, "help-loggers")) {
        print_loggers(stdout);
        return 1;
    }
    sea_log_level def = SEA_LOG_INFO;
    const char *def_text = sea__opt_string(o, "default-log-level");
    if (def_text && sea_log_level_parse(def_text, &def) < 0) {
        snprintf(err, errlen, "option '--default-log-level': '%.60s' is not a level", def_text);
        return SEA_EUSAGE;
    }
    size_t nlevels;
    const char *const *levels = sea__opt_list(o, "logger-log-level", &nlevels);
    /* Check every NAME=LEVEL first, so that a bad one changes nothing. */
    for (size_t i = 0; i < nlevels; i++) {
        const char *v = levels[i];
        const char *eq = strchr(v, '=');
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)(eq && eq - v < 70 ? eq - v : 70), v);
        sea_log_level lv;
        if (!eq || sea_log_level_parse(eq + 1, &lv) < 0) {
            snprintf(err, errlen, "option '--logger-log-level': '%.60s' is not NAME=LEVEL", v);
            return SEA_EUSAGE;
        }
        if (!sea_logger_find(name)) {
            snprintf(err, errlen, "option '--logger-log-level': no logger named '%s' (see --help-loggers)", name);
            sea__one_line(err);
            return SEA_EUSAGE;
        }
    }
    pthread_mutex_lock(&registry_lock);
    default_level = (int)def;
    for (sea_logger *l = loggers; l; l = l->sea__next)
        __atomic_store_n(&l->sea__level, (int)def, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&registry_lock);
    for (size_t i = 0; i < nlevels; i++) {
        const char *v = levels[i];
        const char *eq = strchr(v, '=');
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - v < 70 ? eq - v : 70), v);
        sea_log_level lv = SEA_LOG_INFO;
        if (sea_log_level_parse(eq + 1, &lv) == 0)
            sea_logger_set_level(name, lv);
    }
    to_syslog = sea__opt_flag(o, "log-to-syslog");
    if (to_syslog)
        openlog(NULL, LOG_PID, LOG_USER);
    return 0;
}

/* ---- the shards' rings and the writer thread ---- */

#define RING_SIZE (256u << 10) /* per shard */
#define LINE_MAX_BYTES 4000    /* longer messages are cut, and end with "..." */

/* A record in a ring: a 2-byte length, a level byte, then the line (with its '\n'). */
#define RECORD_HEADER 3
/* The "level" of a record of sea_print's text: it goes to stdout as it is. */
#define RECORD_STDOUT 0x7f

struct log_ring {
    _Atomic uint64_t head; /* consumer position */
    char pad1[56];
    _Atomic uint64_t tail; /* producer position */
    _Atomic uint64_t dropped;
    _Atomic uint64_t dropped_out; /* sea_print records */
    char pad2[40];
    char buf[RING_SIZE];
};

static struct {
    struct log_ring *rings; /* one per shard, while an application runs */
    unsigned n;
    int efd;                /* wakes the writer */
    pthread_t thread;
    _Atomic int sleeping;   /* the writer is about to sleep, or sleeps */
    _Atomic int stopping;
    bool running;
    uint64_t lost_at_exit;
    bool output_gone;       /* stderr */
    bool stdout_gone;
} w = {.efd = -1};

/*
 * The ring a thread that is not a shard writes into while an application
 * runs (sea's watchdog: its stall reports must not block it either), or -1.
 */
static _Thread_local int extra_ring = -1;

void sea__log_use_extra_ring(void) {
    extra_ring = (int)w.n; /* the ring after the shards' */
}

static int syslog_priority(int level) {
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG};
    return prio[level];
}

/*
 * Writes len bytes to stderr.  Waits for the output as long as it takes,
 * except once stopping, when it waits until deadline and then drops the
 * rest.  Chunks are at most PIPE_BUF after POLLOUT, so a pipe cannot block
 * the write itself.
 */
static void out_write(int fd, const char *p, size_t len, struct timespec *deadline) {
    bool *gone = fd == 1 ? &w.stdout_gone : &w.output_gone;
    while (len && !*gone) {
        int timeout = -1;
        if (atomic_load(&w.stopping)) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!deadline->tv_sec) {
                *deadline = now;
                deadline->tv_sec += 1;
            }
            long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
            if (ms <= 0) {
                w.lost_at_exit += 1;
                return;
            }
            timeout = (int)ms;
        }
        struct pollfd pf[2] = {{.fd = fd, .events = POLLOUT}, {.fd = w.efd, .events = POLLIN}};
        int r = poll(pf, 2, timeout);
        if (r < 0 && errno != EINTR)
            return;
        if (pf[1].revents & POLLIN) {
            uint64_t v;
            ssize_t got = read(w.efd, &v, sizeof(v)); /* a stop request: go round to take the deadline */
            (void)got;
        }
        if (pf[0].revents & POLLNVAL) {
            *gone = true; /* the descriptor is closed: nothing can be written */
            return;
        }
        if (!(pf[0].revents & (POLLOUT | POLLERR | POLLHUP)))
            continue;
        ssize_t n = write(fd, p, len < 4096 ? len : 4096);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            *gone = true; /* the output is gone (EPIPE, EBADF...): nothing more to do */
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Copies n bytes out of r at position pos (wrapping). */
static void ring_copy_out(const struct log_ring *r, uint64_t pos, char *dst, size_t n) {
    size_t at = (size_t)(pos % RING_SIZE), first = RING_SIZE - at < n ? RING_SIZE - at : n;
    memcpy(dst, r->buf + at, first);
    memcpy(dst + first, r->buf, n - first);
}

/* Drains every ring once; returns true if it found anything. */
static bool drain(struct timespec *deadline) {
    bool any = false;
    static char batch[64 << 10], out_batch[64 << 10];
    size_t used = 0, out_used = 0;
    for (unsigned i = 0; i <= w.n; i++) {
        struct log_ring *r = &w.rings[i];
        uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        while (head != tail) {
            unsigned char hdr[RECORD_HEADER];
            ring_copy_out(r, head, (char *)hdr, RECORD_HEADER);
            size_t len = (size_t)hdr[0] | (size_t)hdr[1] << 8;
            char line[LINE_MAX_BYTES + 64];
            ring_copy_out(r, head + RECORD_HEADER, line, len);
            head += RECORD_HEADER + len;
            any = true;
            if (hdr[2] == RECORD_STDOUT) {
                if (out_used + len > sizeof(out_batch)) {
                    out_write(1, out_batch, out_used, deadline);
                    out_used = 0;
                }
                memcpy(out_batch + out_used, line, len);
                out_used += len;
                continue;
            }
            if (to_syslog) {
                syslog(syslog_priority(hdr[2]), "%.*s", (int)(len ? len - 1 : 0), line);
                continue;
            }
            if (used + len > sizeof(batch)) {
                out_write(2, batch, used, deadline);
                used = 0;
            }
            memcpy(batch + used, line, len);
            used += len;
        }
        uint64_t dropped_out = atomic_exchange_explicit(&r->dropped_out, 0, memory_order_relaxed);
        if (dropped_out) {
            char note[128];
            int n = snprintf(note, sizeof(note), "sea: %llu pieces of output from %s%u dropped: stdout is too slow\n",
                             (unsigned long long)dropped_out, i < w.n ? "shard " : "thread ", i);
            if (used + (size_t)n > sizeof(batch)) {
                out_write(2, batch, used, deadline);
                used = 0;
            }
            memcpy(batch + used, note, (size_t)n);
            used += (size_t)n;
        }
        atomic_store_explicit(&r->head, head, memory_order_release);
        uint64_t dropped = atomic_exchange_explicit(&r->dropped, 0, memory_order_relaxed);
        if (dropped) {
            char note[128];
            int n = snprintf(note, sizeof(note),
                             i < w.n ? "sea: %llu log lines from shard %u dropped: the log output is too slow\n"
                                     : "sea: %llu log lines from sea's threads dropped: the log output is too slow\n",
                             (unsigned long long)dropped, i);
            if (to_syslog) {
                syslog(LOG_WARNING, "%.*s", n - 1, note);
            } else {
                if (used + (size_t)n > sizeof(batch)) {
                    out_write(2, batch, used, deadline);
                    used = 0;
                }
                memcpy(batch + used, note, (size_t)n);
                used += (size_t)n;
            }
        }
    }
    if (out_used)
        out_write(1, out_batch, out_used, deadline);
    if (used)
        out_write(2, batch, used, deadline);
    return any;
}

static bool rings_empty(void) {
    for (unsigned i = 0; i <= w.n; i++)
        if (atomic_load(&w.rings[i].head) != atomic_load(&w.rings[i].tail) || atomic_load(&w.rings[i].dropped) ||
            atomic_load(&w.rings[i].dropped_out))
            return false;
    return true;
}

static void *writer_main(void *arg) {
    (void)arg;
    struct timespec deadline = {0, 0};
    for (;;) {
        if (drain(&deadline))
            continue;
        if (atomic_load(&w.stopping))
            break;
        atomic_store(&w.sleeping, 1); /* seq_cst: pairs with the producers' fence */
        if (!rings_empty() || atomic_load(&w.stopping)) {
            atomic_store(&w.sleeping, 0);
            continue;
        }
        struct pollfd pf = {.fd = w.efd, .events = POLLIN};
        poll(&pf, 1, -1);
        uint64_t v;
        ssize_t got = read(w.efd, &v, sizeof(v));
        (void)got;
        atomic_store(&w.sleeping, 0);
        /*
         * Let lines gather for a moment before draining: while the writer is
         * awake, producers skip the eventfd write, so a busy shard pays one
         * wake-up per millisecond instead of one system call per line.
         */
        if (!atomic_load(&w.stopping)) {
            struct timespec gather = {0, 1000000};
            nanosleep(&gather, NULL);
        }
    }
    if (w.lost_at_exit && !to_syslog && !w.output_gone) {
        /* Said only if it can be said at once: the output is blocked, which is the news. */
        static const char note[] = "sea: log output blocked at exit; some lines were not written\n";
        struct pollfd pf = {.fd = 2, .events = POLLOUT};
        if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT)) {
            ssize_t n = write(2, note, sizeof(note) - 1);
            (void)n;
        }
    }
    return NULL;
}

/* Gives each of nshards shards a ring and starts the writer thread; 0 or -errno. */
static int log_start(unsigned nshards) {
    if (w.running)
        return -EBUSY;
    /* One ring per shard, and one more for sea's watchdog thread. */
    w.rings = calloc(nshards + 1, sizeof(*w.rings));
    w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!w.rings || w.efd < 0) {
        free(w.rings);
        w.rings = NULL;
        if (w.efd >= 0)
            close(w.efd);
        w.efd = -1;
        return -ENOMEM;
    }
    w.n = nshards;
    w.output_gone = false;
    w.stdout_gone = false;
    atomic_store(&w.stopping, 0);
    atomic_store(&w.sleeping, 0);
    w.lost_at_exit = 0;
    int rc = sea__helper_thread_start(&w.thread, writer_main, "sea-log");
    if (rc) {
        free(w.rings);
        w.rings = NULL;
        close(w.efd);
        w.efd = -1;
        return -rc;
    }
    __atomic_store_n(&w.running, true, __ATOMIC_RELEASE);
    return 0;
}

/* Flushes the rings (waiting at most a second for a blocked output) and stops the writer. */
static void log_stop(void) {
    if (!w.running)
        return;
    atomic_store(&w.stopping, 1);
    uint64_t one = 1;
    ssize_t n = write(w.efd, &one, sizeof(one));
    (void)n;
    pthread_join(w.thread, NULL);
    __atomic_store_n(&w.running, false, __ATOMIC_RELEASE);
    free(w.rings);
    w.rings = NULL;
    w.n = 0;
    close(w.efd);
    w.efd = -1;
}

/* Appends one record to the current shard's ring; false if it does not fit. */
static bool ring_push(struct log_ring *r, int level, const char *line, size_t len) {
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t need = RECORD_HEADER + len;
    if (RING_SIZE - (tail - head) < need) {
        atomic_fetch_add_explicit(level == RECORD_STDOUT ? &r->dropped_out : &r->dropped, 1, memory_order_relaxed);
        return false;
    }
    unsigned char hdr[RECORD_HEADER] = {(unsigned char)(len & 0xff), (unsigned char)(len >> 8),
                                        (unsigned char)level};
    size_t at = (size_t)(tail % RING_SIZE);
    char tmp[RECORD_HEADER + LINE_MAX_BYTES + 64];
    memcpy(tmp, hdr, RECORD_HEADER);
    memcpy(tmp + RECORD_HEADER, line, len);
    size_t first = RING_SIZE - at < need ? RING_SIZE - at : need;
    memcpy(r->buf + at, tmp, first);
    memcpy(r->buf, tmp + first, need - first);
    atomic_store_explicit(&r->tail, tail + need, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&w.sleeping, memory_order_relaxed)) {
        uint64_t one = 1;
        ssize_t n = write(w.efd, &one, sizeof(one)); /* an eventfd write does not block */
        (void)n;
    }
    return true;
}

/* ---- writing a line ---- */

void sea_log_write(sea_logger *lg, sea_log_level level, const char *fmt, ...) {
    if ((unsigned)level > SEA_LOG_TRACE)
        level = SEA_LOG_TRACE;
    char line[LINE_MAX_BYTES + 64];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* The date and time to the second change once a second: each thread keeps them formatted. */
    static _Thread_local time_t second = -1;
    static _Thread_local char date[64];
    if (ts.tv_sec != second) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(date, sizeof(date), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        second = ts.tv_sec;
    }
    struct sea__shard *s = sea__shard_current;
    char where[24];
    if (s)
        snprintf(where, sizeof(where), "shard %u", s->id);
    else
        snprintf(where, sizeof(where), "thread");
    int n = snprintf(line, sizeof(line), "%s.%06ld [%s] %s %.64s - ", date, ts.tv_nsec / 1000, where,
                     level_tags[level], lg && lg->name ? lg->name : "?");
    size_t len = n > 0 ? (size_t)n : 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, LINE_MAX_BYTES - len, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    if ((size_t)m >= LINE_MAX_BYTES - len) {
        len = LINE_MAX_BYTES - 1;
        memcpy(line + len - 3, "...", 3);
    } else {
        len += (size_t)m;
    }
    line[len++] = '\n';
    int ring = s ? (int)s->id : extra_ring;
    if (ring >= 0 && __atomic_load_n(&w.running, __ATOMIC_ACQUIRE) && (unsigned)ring <= w.n) {
        ring_push(&w.rings[ring], (int)level, line, len);
        return;
    }
    if (to_syslog) {
        syslog(syslog_priority((int)level), "%.*s", (int)len - 1, line);
        return;
    }
    /* Not on a running shard: write it now, in one piece. */
    size_t done = 0;
    while (done < len) {
        ssize_t k = write(2, line + done, len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
}

/* ---- sea_print ---- */

void sea_vprint(const char *fmt, va_list ap) {
    char text[LINE_MAX_BYTES];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(text, sizeof(text), fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    char *p = text, *big = NULL;
    if ((size_t)n >= sizeof(text)) { /* longer than a record: format it whole, then send it in pieces */
        big = malloc((size_t)n + 1);
        if (!big)
            return;
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        p = big;
    }
    struct sea__shard *s = sea__shard_current;
    int ring = s ? (int)s->id : extra_ring;
    bool queued = ring >= 0 && __atomic_load_n(&w.running, __ATOMIC_ACQUIRE) && (unsigned)ring <= w.n;
    size_t len = (size_t)n;
    while (len) {
        size_t piece = len < LINE_MAX_BYTES ? len : LINE_MAX_BYTES;
        if (queued) {
            ring_push(&w.rings[ring], RECORD_STDOUT, p, piece);
        } else {
            ssize_t k = write(1, p, piece); /* not on a running shard: at once */
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            piece = (size_t)k;
        }
        p += piece;
        len -= piece;
    }
    free(big);
}

void sea_print(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sea_vprint(fmt, ap);
    va_end(ap);
}

/* ---- the module ---- */

static bool is_level(const char *v) {
    sea_log_level l;
    return sea_log_level_parse(v, &l) == 0;
}

/* NAME=LEVEL: a name, then a level (whether the logger exists is checked by configure). */
static bool is_name_and_level(const char *v) {
    const char *eq = strchr(v, '=');
    return eq && eq != v && is_level(eq + 1);
}

static const struct sea__opt options[] = {
    {.o = {.name = "default-log-level", .type = SEA_OPTION_STRING,
           .help = "error, warn, info (default), debug or trace"},
     .value_name = "LEVEL", .meaning = "a level (error, warn, info, debug, trace)", .check = is_level},
    {.o = {.name = "logger-log-level", .type = SEA_OPTION_STRING, .help = "one logger's level (repeatable)"},
     .flags = SEA__OPT_REPEAT, .value_name = "NAME=LEVEL",
     .meaning = "NAME=LEVEL (levels: error, warn, info, debug, trace)", .check = is_name_and_level},
    {.o = {.name = "help-loggers", .type = SEA_OPTION_FLAG, .help = "list the loggers and exit"}},
    {.o = {.name = "log-to-syslog", .type = SEA_OPTION_FLAG, .help = "log to syslog instead of stderr"}},
};

static int log_module_start(const struct sea__run *run, char *err, size_t errlen) {
    /* Without the writer, lines are written directly (which may block): not a reason to refuse to start. */
    (void)log_start(run->nshards);
    return 0;
}

const struct sea__module sea__module_log = {
    .name = "log",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = log_configure,
    .start = log_module_start,
    .stop = log_stop,
};
