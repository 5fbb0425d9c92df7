/*
 * stall_filter.c - removing stall reports from captured stderr (see
 * stall_filter.h).  Plain C, no sea: the client-side tests use it too.
 */
#include "stall_filter.h"

#include <stdbool.h>
#include <string.h>

/* True if the line at line (up to nl, or the end) contains what. */
static bool line_has(const char *line, const char *nl, const char *what) {
    const char *at = strstr(line, what);
    return at && (!nl || at < nl);
}

char *sea_test_drop_stall_reports(char *text) {
    char *out = text;
    bool in_report = false;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
        bool drop;
        if (line_has(line, nl, "Reactor stalled for ")) {
            in_report = true;
            drop = true;
        } else if (in_report && strncmp(line, "  0x", 4) == 0) {
            drop = true;
        } else {
            in_report = false;
            drop = line_has(line, nl, "stall reports of shard ") && line_has(line, nl, " were suppressed");
        }
        if (!drop) {
            memmove(out, line, len);
            out += len;
        }
        line += len;
    }
    *out = '\0';
    return text;
}
