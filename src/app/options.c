/*
 * options.c - parsing of the command line: sea's standard options and the
 * options the application declares (sea/options.h), and reading the latter.
 *
 * Parsing is a pure function over argv: it never prints or exits, so it can
 * be tested and fuzzed in-process.  Every malformed input yields SEA_EUSAGE
 * and a one-line message naming the option.
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
    "  --default-log-level LEVEL         error, warn, info (default), debug or trace\n"
    "  --logger-log-level NAME=LEVEL     one logger's level (repeatable)\n"
    "  --help-loggers                    list the loggers and exit\n"
    "  --log-to-syslog                   log to syslog instead of stderr\n"
    "  --blocked-reactor-notify-ms N     report a task that runs longer than N ms, with\n"
    "                                    a backtrace (default 25; 0: off)\n"
    "  --stop-report-ms N                report stop callbacks still running after N ms\n"
    "                                    (default 5000; 0: off)\n"
    "  --prometheus-port PORT            serve metrics in Prometheus format over HTTP\n"
    "                                    on PORT (default: off; 0: any free port)\n"
    "  --prometheus-address ADDR         address for --prometheus-port (default\n"
    "                                    127.0.0.1)\n"
    "  --options-file FILE               read options from FILE (\"name = value\"\n"
    "                                    lines); the command line wins (a flag\n"
    "                                    there is undone with --flag=false)\n"
    "  --help                            show this help and exit\n";

/* ---- the application's option tables ---- */

static const sea_option **declared; /* every declared option, in order */
static size_t ndeclared;
static bool tables_locked;

void sea__options_lock(bool locked) {
    tables_locked = locked;
}

static const char *const type_names[] = {"", "INT", "NUMBER", "TEXT", "SIZE"};

void sea__options_print_help(FILE *f, const char *prog) {
    fprintf(f, "Usage: %s [options]\n\n%s", prog, help_text);
    if (!ndeclared)
        return;
    fprintf(f, "\nApplication options:\n");
    for (size_t i = 0; i < ndeclared; i++) {
        const sea_option *o = declared[i];
        char left[128];
        if (o->type == SEA_OPTION_FLAG)
            snprintf(left, sizeof(left), "  --%s", o->name);
        else
            snprintf(left, sizeof(left), "  --%s %s", o->name, type_names[o->type]);
        fprintf(f, "%-36s%s", left, o->help ? o->help : "");
        if (o->default_value && o->type != SEA_OPTION_FLAG)
            fprintf(f, " (default %s)", o->default_value);
        fprintf(f, "\n");
    }
}

void sea__options_free(struct sea__options *o) {
    free(o->args);
    o->args = NULL;
    o->nargs = 0;
    free(o->logger_levels);
    o->logger_levels = NULL;
    o->nlogger_levels = 0;
    free(o->user);
    o->user = NULL;
    o->nuser = 0;
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


/* ---- application option values ---- */

/* Long names of the standard options (an application option may not take one). */
static const char *const standard_names[] = {
    "reactor-backend", "poll-mode",  "idle-poll-us", "task-quota-ms", "smp",  "cpuset",
    "memory",          "reserve-memory", "transparent-huge-pages", "default-log-level",
    "logger-log-level", "help-loggers", "log-to-syslog", "blocked-reactor-notify-ms", "stop-report-ms",
    "prometheus-port", "prometheus-address", "options-file", "help"};

static bool is_standard(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof(standard_names) / sizeof(standard_names[0]); i++)
        if (strlen(standard_names[i]) == len && strncmp(standard_names[i], name, len) == 0)
            return true;
    return false;
}

static bool valid_name(const char *name) {
    if (!name || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')) || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

static bool bounded(const sea_option *o) {
    return o->min != 0 || o->max != 0;
}

/* Parses text as o's value into v.  Returns 0, or SEA_EUSAGE with a message naming the option. */
static int parse_user_value(const sea_option *o, const char *text, struct sea__user_value *v, char *err,
                            size_t errlen) {
    char range[96] = "";
    if (bounded(o))
        snprintf(range, sizeof(range), o->type == SEA_OPTION_SIZE ? " in %.0f..%.0f bytes" : " in %.17g..%.17g",
                 o->min, o->max);
    switch (o->type) {
    case SEA_OPTION_FLAG:
        if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "1") == 0)
            v->v.flag = true;
        else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "0") == 0)
            v->v.flag = false;
        else
            return usage(err, errlen, "option '--%s': '%.60s' is not true or false", o->name, text);
        break;
    case SEA_OPTION_INT: {
        const char *digits = text[0] == '-' ? text + 1 : text;
        unsigned long long mag;
        if (!parse_uint(digits, (unsigned long long)INT64_MAX + (text[0] == '-'), &mag))
            goto bad_number;
        int64_t x = text[0] == '-' ? (int64_t)(0 - mag) : (int64_t)mag;
        if (bounded(o) && ((double)x < o->min || (double)x > o->max))
            goto bad_number;
        v->v.i = x;
        break;
    }
    case SEA_OPTION_DOUBLE: {
        double x;
        if (!parse_double(text, bounded(o) ? o->min : -HUGE_VAL, bounded(o) ? o->max : HUGE_VAL, &x))
            goto bad_number;
        v->v.d = x;
        break;
    }
    case SEA_OPTION_SIZE: {
        uint64_t x;
        if (!sea__parse_memory_size(text, &x) || (bounded(o) && ((double)x < o->min || (double)x > o->max)))
            return usage(err, errlen, "option '--%s': '%.60s' is not a size (bytes, or a number with k, M, G or T)",
                         o->name, text);
        v->v.size = x;
        break;
    }
    case SEA_OPTION_STRING:
        v->v.s = text;
        break;
    }
    v->has_value = true;
    return 0;
bad_number:
    snprintf(err, errlen, "option '--%s': '%.60s' is not a %s%s", o->name, text,
             o->type == SEA_OPTION_INT ? "whole number" : "number", range);
    for (char *p = err; errlen && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return SEA_EUSAGE;
}

int sea_app_add_options(const sea_option *table, size_t count) {
    if (tables_locked)
        return -EBUSY;
    if (count && !table)
        return -EINVAL;
    for (size_t i = 0; i < count; i++) {
        const sea_option *o = &table[i];
        const char *why = NULL;
        if (!valid_name(o->name))
            why = "is not a valid name (a letter, then letters, digits and '-')";
        else if (is_standard(o->name, strlen(o->name)))
            why = "is a standard option";
        else if ((unsigned)o->type > SEA_OPTION_SIZE)
            why = "has an unknown type";
        else if (o->min > o->max || ((o->type == SEA_OPTION_FLAG || o->type == SEA_OPTION_STRING) && bounded(o)))
            why = "has bounds that do not fit its type";
        for (size_t k = 0; !why && k < ndeclared; k++)
            if (strcmp(declared[k]->name, o->name) == 0)
                why = "is declared twice";
        for (size_t k = 0; !why && k < i; k++)
            if (strcmp(table[k].name, o->name) == 0)
                why = "is declared twice";
        char err[256];
        struct sea__user_value scratch;
        if (!why && o->default_value && parse_user_value(o, o->default_value, &scratch, err, sizeof(err)) < 0)
            why = "has a default that does not parse";
        if (why) {
            fprintf(stderr, "sea_app_add_options: option '%.64s' %s\n", o->name ? o->name : "(null)", why);
            return -EINVAL;
        }
    }
    const sea_option **grown = realloc(declared, (ndeclared + count + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    declared = grown;
    for (size_t i = 0; i < count; i++)
        declared[ndeclared++] = &table[i];
    return 0;
}

/* The application option called name[0..len), or NULL. */
static struct sea__user_value *user_find(struct sea__options *o, const char *name, size_t len) {
    for (size_t i = 0; i < o->nuser; i++)
        if (strlen(o->user[i].opt->name) == len && strncmp(o->user[i].opt->name, name, len) == 0)
            return &o->user[i];
    return NULL;
}

static bool is_log_level(const char *s) {
    static const char *const levels[] = {"error", "warn", "info", "debug", "trace"};
    for (size_t i = 0; i < 5; i++)
        if (strcmp(s, levels[i]) == 0)
            return true;
    return false;
}

int sea__options_parse(int argc, char **argv, struct sea__options *o, char *err, size_t errlen) {
    memset(o, 0, sizeof(*o));
    o->task_quota = 500000;  /* 0.5 ms */
    o->idle_poll = 200000;   /* 200 us */
    o->prometheus_port = -1;
    o->blocked_notify = 25000000; /* 25 ms */
    o->stuck_stop = 5000000000;   /* 5 s */
    if (argc < 0 || (argc > 0 && !argv))
        return usage(err, errlen, "invalid argument vector%s%s", "", "");
    o->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    o->logger_levels = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    o->user = calloc(ndeclared ? ndeclared : 1, sizeof(*o->user));
    if (!o->args || !o->logger_levels || !o->user)
        return usage(err, errlen, "out of memory parsing options%s%s", "", "");
    o->nuser = ndeclared;
    for (size_t i = 0; i < ndeclared; i++) {
        struct sea__user_value *v = &o->user[i];
        v->opt = declared[i];
        if (v->opt->default_value && parse_user_value(v->opt, v->opt->default_value, v, err, errlen) < 0)
            return SEA_EUSAGE; /* checked by sea_app_add_options; cannot happen */
        if (v->opt->type == SEA_OPTION_FLAG)
            v->has_value = true; /* false, unless the default says true */
    }
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
                           IS("cpuset") || IS("memory") || IS("reserve-memory") || IS("default-log-level") ||
                           IS("logger-log-level") || IS("blocked-reactor-notify-ms") || IS("stop-report-ms") ||
                           IS("prometheus-port") || IS("prometheus-address") || IS("options-file");
        bool is_flag = IS("poll-mode") || IS("help") || IS("transparent-huge-pages") || IS("help-loggers") ||
                       IS("log-to-syslog");
        char shown[80];
        snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < 60 ? nlen : 60), name);
        struct sea__user_value *uv = takes_value || is_flag ? NULL : user_find(o, name, nlen);
        if (uv) {
            if (uv->opt->type == SEA_OPTION_FLAG) {
                /* --flag, or --flag=true/false (what an options file's line becomes) */
                int rc = parse_user_value(uv->opt, value ? value : "true", uv, err, errlen);
                if (rc < 0)
                    return rc;
            } else {
                if (!value) {
                    if (i + 1 >= argc || !argv[i + 1])
                        return usage(err, errlen, "option '--%s' needs a value%s", shown, "");
                    value = argv[++i];
                }
                int rc = parse_user_value(uv->opt, value, uv, err, errlen);
                if (rc < 0)
                    return rc;
            }
            uv->given = true;
            continue;
        }
        if (!takes_value && !is_flag)
            return usage(err, errlen, "unknown option '--%s' (see --help)%s", shown, "");
        /* A flag may say =true or =false (so that the command line can undo an options file's). */
        bool on = true;
        if (is_flag && value) {
            if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
                on = true;
            else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
                on = false;
            else
                return usage(err, errlen, "option '--%s': '%.60s' is not true or false", shown, value);
        }
        if (takes_value && !value) {
            if (i + 1 >= argc || !argv[i + 1])
                return usage(err, errlen, "option '%s' needs a value%s", a, "");
            value = argv[++i];
        }
        if (IS("help")) {
            o->help = on;
        } else if (IS("help-loggers")) {
            o->help_loggers = on;
        } else if (IS("log-to-syslog")) {
            o->log_to_syslog = on;
        } else if (IS("default-log-level")) {
            if (!is_log_level(value))
                return usage(err, errlen,
                             "option '--default-log-level': '%.60s' is not a level (error, warn, info, debug, "
                             "trace)%s",
                             value, "");
            o->default_log_level = value;
        } else if (IS("logger-log-level")) {
            const char *eqv = strchr(value, '=');
            if (!eqv || eqv == value || !is_log_level(eqv + 1))
                return usage(err, errlen,
                             "option '--logger-log-level': '%.60s' is not NAME=LEVEL (levels: error, warn, info, "
                             "debug, trace)%s",
                             value, "");
            o->logger_levels[o->nlogger_levels++] = value;
        } else if (IS("blocked-reactor-notify-ms") || IS("stop-report-ms")) {
            unsigned long long ms;
            if (!parse_uint(value, 3600000ull, &ms))
                return usage(err, errlen, "option '--%s': '%.60s' is not a whole number of milliseconds in 0..3600000",
                             shown, value);
            if (IS("stop-report-ms"))
                o->stuck_stop = (sea_time)ms * 1000000;
            else
                o->blocked_notify = (sea_time)ms * 1000000;
        } else if (IS("prometheus-port")) {
            unsigned long long port;
            if (!parse_uint(value, 65535, &port))
                return usage(err, errlen, "option '--prometheus-port': '%.60s' is not a port in 0..65535%s", value,
                             "");
            o->prometheus_port = (int)port;
        } else if (IS("prometheus-address")) {
            if (!*value || strlen(value) > 200)
                return usage(err, errlen, "option '--prometheus-address': '%.60s' is not an address%s", value, "");
            o->prometheus_address = value;
        } else if (IS("options-file")) {
            o->options_file = value;
        } else if (IS("poll-mode")) {
            o->poll_mode = on;
        } else if (IS("transparent-huge-pages")) {
            o->huge_pages = on;
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
    return o->help || o->help_loggers ? 1 : 0;
}

/* ---- reading the application's options ---- */

/*
 * The running application's options: set before its shards start and
 * cleared after they end, so any thread may read them meanwhile.
 */
static const struct sea__options *_Atomic current;

void sea__options_set_current(const struct sea__options *o) {
    current = o;
}

static int lookup(const char *name, sea_option_type type, const struct sea__user_value **out) {
    if (!current)
        return SEA_ESHUTDOWN;
    if (!name)
        return -ENOENT;
    const struct sea__user_value *v = user_find((struct sea__options *)current, name, strlen(name));
    if (!v)
        return -ENOENT;
    if (v->opt->type != type)
        return -EINVAL;
    if (!v->has_value)
        return -ENODATA;
    *out = v;
    return 0;
}

int sea_option_get_int(const char *name, int64_t *out) {
    const struct sea__user_value *v;
    int rc = lookup(name, SEA_OPTION_INT, &v);
    if (rc == 0)
        *out = v->v.i;
    return rc;
}

int sea_option_get_double(const char *name, double *out) {
    const struct sea__user_value *v;
    int rc = lookup(name, SEA_OPTION_DOUBLE, &v);
    if (rc == 0)
        *out = v->v.d;
    return rc;
}

int sea_option_get_string(const char *name, const char **out) {
    const struct sea__user_value *v;
    int rc = lookup(name, SEA_OPTION_STRING, &v);
    if (rc == 0)
        *out = v->v.s;
    return rc;
}

int sea_option_get_size(const char *name, uint64_t *out) {
    const struct sea__user_value *v;
    int rc = lookup(name, SEA_OPTION_SIZE, &v);
    if (rc == 0)
        *out = v->v.size;
    return rc;
}

int sea_option_get_flag(const char *name, bool *out) {
    const struct sea__user_value *v;
    int rc = lookup(name, SEA_OPTION_FLAG, &v);
    if (rc == 0)
        *out = v->v.flag;
    return rc;
}

bool sea_option_given(const char *name) {
    if (!current || !name)
        return false;
    const struct sea__user_value *v = user_find((struct sea__options *)current, name, strlen(name));
    return v && v->given;
}

/* The convenient getters: a missing or mistyped option is a bug in the caller. */
static void misuse(const char *fn, const char *name, int rc) {
    if (rc == 0 || rc == -ENODATA)
        return;
    fprintf(stderr, "%s(\"%s\"): %s\n", fn, name ? name : "(null)",
            rc == -ENOENT ? "no such option was declared with sea_app_add_options"
            : rc == -EINVAL ? "the option was declared with another type"
                            : "no application is running");
    abort();
}

int64_t sea_option_int(const char *name) {
    int64_t x = 0;
    misuse("sea_option_int", name, sea_option_get_int(name, &x));
    return x;
}

double sea_option_double(const char *name) {
    double x = 0;
    misuse("sea_option_double", name, sea_option_get_double(name, &x));
    return x;
}

const char *sea_option_string(const char *name) {
    const char *x = NULL;
    misuse("sea_option_string", name, sea_option_get_string(name, &x));
    return x;
}

uint64_t sea_option_size(const char *name) {
    uint64_t x = 0;
    misuse("sea_option_size", name, sea_option_get_size(name, &x));
    return x;
}

bool sea_option_flag(const char *name) {
    bool x = false;
    misuse("sea_option_flag", name, sea_option_get_flag(name, &x));
    return x;
}
