/*
 * bench_loadgen.h - the connections of a load generator on epoll (the ones
 * in bench_memcached and bench_http): a nonblocking loopback connection
 * with an input and an output buffer, sending what is queued, receiving,
 * closing; a paced connection's schedule and how late its sends left; the
 * wait for the next event or send; and the latencies a measured window
 * keeps.
 *
 * What travels on a connection (building requests, parsing and checking
 * answers, the schedule) stays in each benchmark, and so do its error
 * reports: these helpers return what went wrong and leave the words to it.
 *
 * A benchmark's own connection has a struct loadgen_conn as its first
 * member: epoll hands back the loadgen_conn's address (data.ptr), which is
 * then the benchmark's connection too.
 */
#ifndef SEA_BENCH_LOADGEN_H
#define SEA_BENCH_LOADGEN_H

#include "bench.h"
#include "bench_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct loadgen_conn {
    int fd;
    bool broken;   /* failed and closed (fd -1): passed over from then on */
    bool want_out; /* watched for EPOLLOUT too, while the socket is full */
    char *in;      /* received and not yet parsed: in[0..inlen) */
    size_t inlen, incap;
    char *out; /* queued and not yet sent: out[outoff..outlen) */
    size_t outlen, outoff, outcap;
};

/*
 * Connects c to 127.0.0.1:port, nonblocking, watched by ep for input, with
 * buffers of incap and outcap bytes (NULL if out of memory: the caller
 * checks); false, and c broken, if it cannot connect.
 */
static inline bool loadgen_open(struct loadgen_conn *c, int ep, int port, size_t incap, size_t outcap) {
    c->fd = bench_connect_loopback(port);
    if (c->fd < 0) {
        c->broken = true;
        return false;
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    c->incap = incap;
    c->in = malloc(incap);
    c->outcap = outcap;
    c->out = malloc(outcap);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return true;
}

/* Closes a failed connection; the run goes on with the others. */
static inline void loadgen_break(struct loadgen_conn *c, int ep) {
    if (c->broken)
        return;
    c->broken = true;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* At the end of a run: closes c if it still is open and frees its buffers. */
static inline void loadgen_close(struct loadgen_conn *c) {
    if (!c->broken)
        close(c->fd);
    free(c->in);
    free(c->out);
}

/*
 * Room for `more` bytes after the queued output (moving it to the start of
 * the buffer, then doubling the buffer); false if out of memory.
 */
static inline bool loadgen_out_reserve(struct loadgen_conn *c, size_t more) {
    if (c->outlen + more <= c->outcap)
        return true;
    if (c->outoff) {
        memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
        c->outlen -= c->outoff;
        c->outoff = 0;
        if (c->outlen + more <= c->outcap)
            return true;
    }
    while (c->outcap < c->outlen + more)
        c->outcap *= 2;
    c->out = realloc(c->out, c->outcap);
    return c->out != NULL;
}

/*
 * Sends what is queued, as far as the socket takes it.  The rest waits for
 * EPOLLOUT, watched only meanwhile: a writable socket would otherwise wake
 * every wait.  false if a send failed: c is broken, and errno says why.
 */
static inline bool loadgen_flush(struct loadgen_conn *c, int ep) {
    if (c->broken)
        return true;
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w > 0) {
            c->outoff += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = true;
            }
            return true;
        }
        int why = errno;
        loadgen_break(c, ep);
        errno = why;
        return false;
    }
    c->outoff = c->outlen = 0;
    if (c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = false;
    }
    return true;
}

/* Room for `more` bytes after the unparsed input (doubling the buffer); false if out of memory. */
static inline bool loadgen_in_reserve(struct loadgen_conn *c, size_t more) {
    if (c->incap - c->inlen >= more)
        return true;
    while (c->incap - c->inlen < more)
        c->incap *= 2;
    c->in = realloc(c->in, c->incap);
    return c->in != NULL;
}

/* Appends what has arrived to the input; recv's result (0: the server closed; < 0: errno). */
static inline ssize_t loadgen_recv(struct loadgen_conn *c) {
    ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
    if (r > 0)
        c->inlen += (size_t)r;
    return r;
}

/* Drops the first n bytes of input (parsed answers), keeping an answer not yet whole. */
static inline void loadgen_consume(struct loadgen_conn *c, size_t n) {
    if (!n)
        return;
    memmove(c->in, c->in + n, c->inlen - n);
    c->inlen -= n;
}

/*
 * Paced load: each connection sends on a fixed schedule of its own, a
 * request every `interval` ns whether or not the previous ones have been
 * answered (an open loop: a slow server cannot slow the load down and hide
 * its queueing from the latencies).  The connections' schedules are spread
 * evenly over the first interval.
 */
static inline int64_t loadgen_first_due(int64_t start, double interval, int i, int nconn) {
    return start + (int64_t)(interval * i / nconn);
}

/* The send after the one due at `due`: computed from the start, so that rounding does not add up over a run. */
static inline int64_t loadgen_next_due(int64_t start, int64_t due, double interval) {
    return start + (int64_t)((double)(due - start) + interval);
}

/* How late a window's paced sends left: whether the load generator kept to its schedule. */
struct loadgen_lateness {
    long sends, over_100us;
    double max_us;
};

static inline void loadgen_lateness_add(struct loadgen_lateness *l, int64_t now, int64_t due) {
    double late = (double)(now - due) / 1000.0;
    l->sends++;
    l->over_100us += late > 100;
    if (late > l->max_us)
        l->max_us = late;
}

/* The share of sends more than 100 us behind schedule (0 if none were paced). */
static inline double loadgen_lateness_share(const struct loadgen_lateness *l) {
    return l->sends ? (double)l->over_100us / (double)l->sends : 0;
}

/*
 * Waits on ep for events until `until` (bench_ns); epoll_pwait2's result.
 * spin: a wait under 200 us becomes a poll, since waking from a sleep takes
 * tens of microseconds and would show in the latencies measured.
 */
static inline int loadgen_wait(int ep, struct epoll_event *evs, int max, int64_t until, bool spin) {
    int64_t wait = until - bench_ns();
    if (wait < 0 || (spin && wait < 200000))
        wait = 0;
    struct timespec ts = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
    return epoll_pwait2(ep, evs, max, &ts, NULL);
}

/* The latencies of a window in ns, every one kept (sorted afterwards for exact percentiles). */
struct loadgen_latencies {
    uint32_t *ns;
    size_t n, cap;
};

/* Adds one, clamped to 0..UINT32_MAX (4.3 s); false if out of memory. */
static inline bool loadgen_latency_add(struct loadgen_latencies *l, int64_t ns) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 65536;
        l->ns = realloc(l->ns, l->cap * sizeof(uint32_t));
        if (!l->ns)
            return false;
    }
    l->ns[l->n++] = ns < 0 ? 0 : ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
    return true;
}

#endif
