/*
 * options.c - parsing of the standard command-line options.
 *
 * A pure function over argv: it never prints or exits, so it can be tested
 * and fuzzed in-process.  Every malformed input yields SEA_EUSAGE and a
 * one-line message naming the option.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help_text[] =
    "Standard options:\n"
    "  --reactor-backend=io_uring|epoll  I/O backend (default: io_uring, or epoll when\n"
    "                                    io_uring is unavailable)\n"
    "  --poll-mode                       poll continuously, never sleep (100% CPU)\n"
    "  --idle-poll-us=N                  poll N microseconds before sleeping when idle\n"
    "                                    (default 200, 0..10000000)\n"
    "  --task-quota-ms=X                 run tasks at most X ms before polling I/O and\n"
    "                                    timers (default 0.5, 0.001..1000)\n"
    "  -c N, --smp N                     number of shards (threads, one per CPU);\n"
    "                                    default: every CPU the process may use\n"
    "  --cpuset LIST                     CPUs to run on, e.g. 0-3,8 (default: the\n"
    "                                    process's CPU affinity)\n"
    "  -m SIZE, --memory SIZE            memory for the application, split evenly among\n"
    "                                    the shards; SIZE in bytes or with k, M, G, T\n"
    "                                    (powers of two: 1M = 1048576). Default: all\n"
    "                                    physical memory (or the cgroup limit) but the\n"
    "                                    reserve\n"
    "  --reserve-memory SIZE             memory left to the OS when -m is not given\n"
    "                                    (default 512M; half the memory below 1G)\n"
    "  --transparent-huge-pages          back the shards' memory with huge pages where\n"
    "                                    the kernel can (fewer TLB misses for dense\n"
    "                                    heaps; sparse ones grow resident)\n"
    "  --help                            show this help and exit\n";

const char *sea__options_help(void) {
    return help_text;
}

void sea__options_free(struct sea__options *o) {
    free(o->args);
    o->args = NULL;
    o->nargs = 0;
}

static int usage(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    snprintf(err, errlen, fmt, a, b);
    /* One line, whatever the argument holds: control characters are shown as '?'. */
    for (char *p = err; errlen && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return SEA_EUSAGE;
}

/* Parses a decimal number in [lo, hi]; returns false on anything else. */
static bool parse_double(const char *s, double lo, double hi, double *out) {
    if (!*s || strlen(s) > 64)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    /* Reject hexadecimal and "inf"/"nan" spellings strtod accepts. */
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789.eE+-", *p))
            return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *s, unsigned long long hi, unsigned long long *out) {
    if (!*s || strlen(s) > 20)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > hi)
        return false;
    *out = v;
    return true;
}

/*
 * Parses a CPU list such as "0-3,8" into set.  Returns false on anything
 * malformed: empty items, reversed ranges, CPUs at or above CPU_SETSIZE.
 */
static bool parse_cpuset(const char *s, cpu_set_t *set) {
    CPU_ZERO(set);
    if (!*s || strlen(s) > 4096)
        return false;
    const char *p = s;
    for (;;) {
        unsigned long lo, hi;
        char *end;
        if (*p < '0' || *p > '9')
            return false;
        errno = 0;
        lo = strtoul(p, &end, 10);
        if (errno || lo >= CPU_SETSIZE)
            return false;
        hi = lo;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9')
                return false;
            hi = strtoul(p, &end, 10);
            if (errno || hi >= CPU_SETSIZE || hi < lo)
                return false;
            p = end;
        }
        for (unsigned long c = lo; c <= hi; c++)
            CPU_SET(c, set);
        if (*p == '\0')
            return true;
        if (*p != ',')
            return false;
        p++;
    }
}

int sea__options_parse(int argc, char **argv, struct sea__options *o, char *err, size_t errlen) {
    memset(o, 0, sizeof(*o));
    o->task_quota = 500000;  /* 0.5 ms */
    o->idle_poll = 200000;   /* 200 us */
    if (argc < 0 || (argc > 0 && !argv))
        return usage(err, errlen, "invalid argument vector%s%s", "", "");
    o->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    if (!o->args)
        return usage(err, errlen, "out of memory parsing options%s%s", "", "");
    bool rest_positional = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!a)
            break;
        if (rest_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            o->args[o->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            rest_positional = true;
            continue;
        }
        if (a[1] == 'c' || a[1] == 'm') {
            /* -cN, -c N, -c=N (and -m alike): the tutorial's spellings of --smp and --memory. */
            const char *v = a[2] == '=' ? a + 3 : a[2] ? a + 2 : NULL;
            if (!v) {
                if (i + 1 >= argc || !argv[i + 1])
                    return usage(err, errlen, "option '-%s' needs a value%s", a[1] == 'c' ? "c" : "m", "");
                v = argv[++i];
            }
            if (a[1] == 'm') {
                if (!sea__parse_memory_size(v, &o->memory) || o->memory == 0)
                    return usage(err, errlen,
                                 "option '-m': '%.60s' is not a memory size above 0 (bytes, or a number with "
                                 "k, M, G or T)%s",
                                 v, "");
                continue;
            }
            unsigned long long n;
            if (!parse_uint(v, 4096, &n) || n == 0)
                return usage(err, errlen, "option '-c': '%.60s' is not a number of shards in 1..4096%s", v, "");
            o->smp = (unsigned)n;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return usage(err, errlen, "unknown option '%s' (see --help)%s", a, "");
        /* Split "--name=value". */
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
#define IS(opt) (nlen == sizeof(opt) - 1 && strncmp(name, opt, nlen) == 0)
        bool takes_value = IS("reactor-backend") || IS("idle-poll-us") || IS("task-quota-ms") || IS("smp") ||
                           IS("cpuset") || IS("memory") || IS("reserve-memory");
        bool is_flag = IS("poll-mode") || IS("help") || IS("transparent-huge-pages");
        if (!takes_value && !is_flag) {
            char shown[80];
            snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < 60 ? nlen : 60), name);
            return usage(err, errlen, "unknown option '--%s' (see --help)%s", shown, "");
        }
        if (is_flag && value)
            return usage(err, errlen, "option '--%s' takes no value%s",
                         IS("help") ? "help" : IS("poll-mode") ? "poll-mode" : "transparent-huge-pages", "");
        if (takes_value && !value) {
            if (i + 1 >= argc || !argv[i + 1])
                return usage(err, errlen, "option '%s' needs a value%s", a, "");
            value = argv[++i];
        }
        if (IS("help")) {
            o->help = true;
        } else if (IS("poll-mode")) {
            o->poll_mode = true;
        } else if (IS("transparent-huge-pages")) {
            o->huge_pages = true;
        } else if (IS("reactor-backend")) {
            if (strcmp(value, "io_uring") == 0)
                o->backend = "io_uring";
            else if (strcmp(value, "epoll") == 0)
                o->backend = "epoll";
            else
                return usage(err, errlen,
                             "option '--reactor-backend': '%.60s' is not a backend (io_uring, epoll)%s",
                             value, "");
        } else if (IS("idle-poll-us")) {
            unsigned long long us;
            if (!parse_uint(value, 10000000ull, &us))
                return usage(err, errlen,
                             "option '--idle-poll-us': '%.60s' is not a whole number of microseconds "
                             "in 0..10000000%s",
                             value, "");
            o->idle_poll = (sea_time)us * 1000;
        } else if (IS("smp")) {
            unsigned long long n;
            if (!parse_uint(value, 4096, &n) || n == 0)
                return usage(err, errlen, "option '--smp': '%.60s' is not a number of shards in 1..4096%s", value,
                             "");
            o->smp = (unsigned)n;
        } else if (IS("cpuset")) {
            if (!parse_cpuset(value, &o->cpuset))
                return usage(err, errlen,
                             "option '--cpuset': '%.60s' is not a CPU list such as 0-3,8 (CPUs below %s)", value,
                             "1024");
            o->has_cpuset = true;
        } else if (IS("memory")) {
            if (!sea__parse_memory_size(value, &o->memory) || o->memory == 0)
                return usage(err, errlen,
                             "option '--memory': '%.60s' is not a memory size above 0 (bytes, or a number "
                             "with k, M, G or T)%s",
                             value, "");
        } else if (IS("reserve-memory")) {
            if (!sea__parse_memory_size(value, &o->reserve_memory))
                return usage(err, errlen,
                             "option '--reserve-memory': '%.60s' is not a memory size (bytes, or a number "
                             "with k, M, G or T)%s",
                             value, "");
            o->has_reserve = true;
        } else if (IS("task-quota-ms")) {
            double ms;
            if (!parse_double(value, 0.001, 1000.0, &ms))
                return usage(err, errlen,
                             "option '--task-quota-ms': '%.60s' is not a number of milliseconds in "
                             "0.001..1000%s",
                             value, "");
            o->task_quota = (sea_time)(ms * 1e6);
        }
#undef IS
    }
    o->args[o->nargs] = NULL;
    return o->help ? 1 : 0;
}
