/*
 * debug.c - the state dump (sea/debug.h): every module describes its part
 * of a shard (fibers, timers, queued tasks, pending futures), newest module
 * first, with code addresses turned into names where possible.
 */
#include <sea/debug.h>
#include <sea/log.h>
#include <sea/smp.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/module.h"
#include "core/shard.h"

int sea_debug_dump_shard(FILE *out) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return SEA_ESHUTDOWN;
    size_t n = sea__modules_count();
    fprintf(out, "shard %u:", s->id);
    bool first = true;
    for (size_t i = n; i-- > 0;) {
        const struct sea__module *m = sea__module_at(i);
        if (!m->dump)
            continue;
        fputs(first ? " " : ", ", out);
        first = false;
        m->dump(s, out, SEA__DUMP_SUMMARY);
    }
    fputc('\n', out);
    for (size_t i = n; i-- > 0;) {
        const struct sea__module *m = sea__module_at(i);
        if (m->dump)
            m->dump(s, out, SEA__DUMP_DETAILS);
    }
    return 0;
}

/* On each shard: its dump, one log line per line. */
static sea_future dump_here(void) {
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
    return sea_invoke_on_all(dump_here);
}
