/*
 * sea/log.h - named loggers with levels.
 *
 *     SEA_LOGGER(http_log, "http");          // at file scope: defines and registers it
 *     ...
 *     sea_log_info(&http_log, "listening on %s", addr);
 *     sea_log_debug(&http_log, "request %d: %s", n, path);
 *
 * Each line carries the time (UTC, microseconds), the shard, the level and
 * the logger's name:
 *
 *     2026-11-24 02:40:12.123456 [shard 1] INFO  http - listening on 127.0.0.1:8080
 *
 * Levels, most severe first: error, warn, info, debug, trace.  A message
 * above its logger's level costs one comparison: the arguments are not even
 * evaluated (the macros test the level first).  Every logger starts at
 * --default-log-level (info unless told otherwise); --logger-log-level
 * NAME=LEVEL sets one (repeatable), and --help-loggers lists them all.
 *
 * Output goes to stderr, or to syslog with --log-to-syslog.  On a shard,
 * logging never blocks: the line is formatted into the shard's own buffer
 * and a background thread writes it out; if the output cannot keep up and
 * the buffer is full, lines are dropped and a count of them is reported
 * when the output catches up.  Outside a running application (before
 * sea_app_run, after it, or on threads that are not shards) lines are
 * written at once.
 */
#ifndef SEA_LOG_H
#define SEA_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_log_level {
    SEA_LOG_ERROR,
    SEA_LOG_WARN,
    SEA_LOG_INFO,
    SEA_LOG_DEBUG,
    SEA_LOG_TRACE,
} sea_log_level;

typedef struct sea_logger {
    const char *name;          /* public, read-only: shown on every line */
    int sea__level;            /* private: read with sea_log_enabled, set with sea_logger_set_level */
    bool sea__registered;      /* private */
    struct sea_logger *sea__next; /* private: the registry's list */
} sea_logger;

/*
 * Defines `sea_logger var` called name and registers it before main() runs,
 * so that --logger-log-level and --help-loggers know it.  At file scope,
 * followed by a semicolon:
 *
 *     SEA_LOGGER(http_log, "http");
 */
#define SEA_LOGGER(var, name_text) \
    extern sea_logger var; \
    __attribute__((constructor)) static void sea__logger_register_##var(void) { sea__logger_register_at_start(&var); } \
    sea_logger var = {.name = (name_text), .sea__level = SEA_LOG_INFO}

/*
 * Adds lg to the registry (SEA_LOGGER does it for you).  Names are unique:
 * returns 0, -EEXIST if another logger has lg's name, or -EINVAL for a name
 * that is empty, longer than 64 bytes, or holds spaces, '=' or control
 * characters.  Registering the same logger twice is harmless.
 */
int sea_logger_register(sea_logger *lg);

/* SEA_LOGGER's registration: as sea_logger_register, saying on stderr why it failed. */
void sea__logger_register_at_start(sea_logger *lg);

/* True if lg would print a message of this level. */
static inline bool sea_log_enabled(const sea_logger *lg, sea_log_level level) {
    return (int)level <= __atomic_load_n(&lg->sea__level, __ATOMIC_RELAXED);
}

/*
 * sea_print(fmt, ...): printf to stdout that never blocks a shard.  On a
 * shard the text joins the shard's log buffer and the log thread writes it
 * out, in order; if stdout cannot keep up (a pipe nobody reads) and the
 * buffer is full, the text is dropped and the count reported on stderr,
 * instead of the shard stopping.  Elsewhere it is written at once.  Use it,
 * not printf, on shards whose output may be slow; do not mix the two for
 * one stream of output (printf's buffer and this one are not ordered).
 */
void sea_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* sea_print with a va_list. */
void sea_vprint(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Formats and writes one line (no level check: use the macros). */
void sea_log_write(sea_logger *lg, sea_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define sea_log(lg, level, ...)                                                                                  \
    do {                                                                                                         \
        if (sea_log_enabled((lg), (level)))                                                                      \
            sea_log_write((lg), (level), __VA_ARGS__);                                                           \
    } while (0)
#define sea_log_error(lg, ...) sea_log(lg, SEA_LOG_ERROR, __VA_ARGS__)
#define sea_log_warn(lg, ...) sea_log(lg, SEA_LOG_WARN, __VA_ARGS__)
#define sea_log_info(lg, ...) sea_log(lg, SEA_LOG_INFO, __VA_ARGS__)
#define sea_log_debug(lg, ...) sea_log(lg, SEA_LOG_DEBUG, __VA_ARGS__)
#define sea_log_trace(lg, ...) sea_log(lg, SEA_LOG_TRACE, __VA_ARGS__)

/* Sets the level of the logger called name, for every shard.  Returns 0, -ENOENT or -EINVAL. */
int sea_logger_set_level(const char *name, sea_log_level level);
/* The logger called name, or NULL. */
sea_logger *sea_logger_find(const char *name);

/* "error", "warn", "info", "debug", "trace"; and back (0, or -EINVAL). */
const char *sea_log_level_name(sea_log_level level);
int sea_log_level_parse(const char *text, sea_log_level *out);

/* sea's own logger, "sea": start-up, stall reports, the metrics endpoint, stop. */
extern sea_logger sea_log_sea;

#ifdef __cplusplus
}
#endif
#endif
