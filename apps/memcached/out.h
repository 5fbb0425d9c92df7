/*
 * out.h - a connection's output buffer: answers are appended here, on
 * whichever shard runs the request, and written to the socket once per batch
 * of pipelined requests.
 */
#ifndef MC_OUT_H
#define MC_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct mc_out {
    char *p;
    size_t len, cap;
    size_t limit; /* most bytes it may hold; 0: no limit but memory */
    bool failed;  /* out of memory, or over the limit */
} mc_out;

/* Room for `more` bytes; false (and failed set) if there is no memory for them. */
static inline bool mc_out_reserve(mc_out *o, size_t more) {
    if (o->len + more <= o->cap)
        return true;
    if (o->limit && o->len + more > o->limit) {
        o->failed = true;
        return false;
    }
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + more)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->failed = true;
        return false;
    }
    o->p = p;
    o->cap = cap;
    return true;
}

static inline void mc_out_put(mc_out *o, const void *data, size_t n) {
    if (n && mc_out_reserve(o, n)) { /* n == 0: data may be NULL, which memcpy must not see */
        memcpy(o->p + o->len, data, n);
        o->len += n;
    }
}

static inline void mc_out_str(mc_out *o, const char *s) {
    mc_out_put(o, s, strlen(s));
}

/* Writes the decimal digits of v at p (at most 20) and returns the end. */
static inline char *mc_u64_text(char *p, uint64_t v) {
    char buf[20];
    size_t n = 0;
    do {
        buf[sizeof(buf) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(p, buf + sizeof(buf) - n, n);
    return p + n;
}

/* Appends the decimal digits of v. */
static inline void mc_out_u64(mc_out *o, uint64_t v) {
    char buf[20];
    mc_out_put(o, buf, (size_t)(mc_u64_text(buf, v) - buf));
}

#endif
