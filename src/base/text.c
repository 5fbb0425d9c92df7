/*
 * text.c - strict parsers for user input, and formatters for messages
 * (see text.h).
 */
#include "base/text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sea__parse_uint(const char *s, unsigned long long hi, unsigned long long *out) {
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

bool sea__parse_double(const char *s, double lo, double hi, double *out) {
    if (!*s || strlen(s) > 64)
        return false;
    /* Reject hexadecimal and "inf"/"nan" spellings strtod accepts. */
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789.eE+-", *p))
            return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool sea__parse_size(const char *s, uint64_t *out) {
    size_t len = strlen(s);
    if (len == 0 || len > 24)
        return false;
    uint64_t v = 0;
    size_t i = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (i == 0)
        return false;
    unsigned shift = 0;
    if (i < len) {
        if (i + 1 != len)
            return false;
        switch (s[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break; /* either case, as memcached's -I 2m and the JVM's -Xmx2g */
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return false;
        }
    }
    if (shift && v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

bool sea__parse_cpuset(const char *s, cpu_set_t *set) {
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

int sea__parse_log_level(const char *s) {
    static const char *const levels[] = {"error", "warn", "info", "debug", "trace"};
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, levels[i]) == 0)
            return i;
    return -1;
}

const char *sea__format_size(uint64_t bytes, char *buf, size_t len) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    unsigned u = 0;
    double v = (double)bytes;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0 || v == (double)(uint64_t)v)
        snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

void sea__one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}
