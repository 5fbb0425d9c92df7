/*
 * debug.c - the state dump (sea/debug.h): fibers, timers and queued tasks
 * of each shard, with code addresses turned into names where possible.
 */
#include "internal.h"

#include <sea/debug.h>
#include <sea/log.h>
#include <sea/smp.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sea__describe_addr(const void *addr, char *buf, size_t len) {
    Dl_info info;
    if (!addr) {
        snprintf(buf, len, "(unknown)");
        return;
    }
    if (dladdr(addr, &info) && info.dli_fname) {
        const char *file = strrchr(info.dli_fname, '/');
        file = file ? file + 1 : info.dli_fname;
        if (info.dli_sname && info.dli_saddr)
            snprintf(buf, len, "%s+0x%lx (%s)", info.dli_sname,
                     (unsigned long)((const char *)addr - (const char *)info.dli_saddr), file);
        else
            snprintf(buf, len, "%s+0x%lx", file, (unsigned long)((const char *)addr - (const char *)info.dli_fbase));
        return;
    }
    snprintf(buf, len, "%p", addr);
}

/* At most this many fibers, timers and tasks are listed per shard (the counts are always given). */
#define DUMP_LIMIT 32

static void timers_dump(struct sea__shard *s, FILE *out) {
    sea_time now = sea_now();
    unsigned listed = 0;
    for (int b = 0; b < SEA__TIMER_BUCKETS; b++) {
        for (sea_timer *t = s->timers.buckets[b]; t && listed < DUMP_LIMIT; t = t->sea__next, listed++) {
            char what[256];
            sea__describe_addr((const void *)t->sea__cb, what, sizeof(what));
            fprintf(out, "  timer: due in %lld ms%s, calls %s\n", (long long)((t->sea__when - now) / 1000000),
                    t->sea__period ? " (periodic)" : "", what);
        }
    }
    for (sea_timer *t = s->timers.expiring; t && listed < DUMP_LIMIT; t = t->sea__next, listed++) {
        char what[256];
        sea__describe_addr((const void *)t->sea__cb, what, sizeof(what));
        fprintf(out, "  timer: due now, calls %s\n", what);
    }
}

static void tasks_dump(struct sea__shard *s, FILE *out) {
    unsigned listed = 0;
    for (sea_task *t = s->rq_head; t && listed < DUMP_LIMIT; t = t->sea__next, listed++) {
        char what[256];
        sea__describe_addr((const void *)t->sea__run, what, sizeof(what));
        fprintf(out, "  task: %s\n", what);
    }
}

int sea_debug_dump_shard(FILE *out) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return SEA_ESHUTDOWN;
    unsigned tasks = 0;
    for (sea_task *t = s->rq_head; t; t = t->sea__next)
        tasks++;
    fprintf(out, "shard %u: %llu fibers, %llu timers, %u queued tasks, %llu pending futures\n", s->id,
            (unsigned long long)s->fibers.stats.alive,
            (unsigned long long)s->timers.count, tasks, (unsigned long long)s->nodes.in_use);
    sea__fibers_dump(s, out, DUMP_LIMIT);
    timers_dump(s, out);
    tasks_dump(s, out);
    return 0;
}

struct dump_cap {
    int unused;
};

/* On each shard: its dump, one log line per line. */
static sea_future dump_here(struct dump_cap *cap) {
    (void)cap;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return sea_failed(-ENOMEM, "out of memory for the state dump");
    sea_debug_dump_shard(mem);
    fclose(mem);
    for (char *line = text, *nl; line && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = '\0';
        sea_log_write(&sea_log_sea, SEA_LOG_INFO, "dump: %s", line);
    }
    free(text);
    return sea_ready();
}

sea_future sea_debug_dump(void) {
    return sea_invoke_on_all(dump_here, (struct dump_cap){0});
}
