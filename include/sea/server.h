/*
 * sea/server.h - a stream server on every shard: listening, accepting,
 * connection handlers, limits and a clean stop.
 *
 *     static sea_future echo(sea_socket *s) {          // one connection, in a fiber of its own
 *         char buf[4096];
 *         size_t n;
 *         while ((n = SEA_AWAIT(sea_socket_read(s, buf, sizeof(buf))).size) > 0)
 *             SEA_AWAIT(sea_socket_write(s, buf, n));
 *         return sea_ready();
 *     }
 *     static sea_future app_main(void) {
 *         return sea_serve("127.0.0.1:1234", &(sea_server_options){.fibers = true}, echo);
 *     }
 *     int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
 *
 * The server listens on every shard: TCP with SO_REUSEPORT (shard 0 binds
 * first, so port 0 picks one port for all), Unix sockets through one socket
 * that every shard accepts from.  Each accepted connection goes to the
 * handler on the shard that accepted it: in a fiber of its own (.fibers), or
 * as a plain call that returns a future.  When the handler's future
 * resolves, the server closes the connection: it shuts the sending side down
 * first and reads and drops what the peer still sends (for drain_timeout at
 * most), so the peer gets the last answer instead of a reset.  The handler
 * must not close the socket itself, and must release any stream it made over
 * it before its future resolves.
 *
 * The server stops on SIGINT or SIGTERM (it registers itself with the
 * application's orderly stop), or on sea_server_stop: every shard closes its
 * listener, shuts every connection down (reads see the end of the stream,
 * writes fail), waits for every handler to finish and frees what it holds.
 * A Unix socket's file is removed.
 *
 * What a client can do does not take the server down.  A failure to accept
 * for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) is
 * logged once and retried after a pause, so the server resumes by itself when
 * connections close; a connection the shard has no memory (or fiber stack)
 * for, or one over max_connections, is closed at once and counted.
 *
 * Servers must be started on shard 0 of a running application (sea_app_run).
 * Log lines go to the logger "server".
 */
#ifndef SEA_SERVER_H
#define SEA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/future.h>
#include <sea/net.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_server sea_server;

/* Options; zero-initialise and set what you need (NULL means all defaults). */
typedef struct sea_server_options {
    bool fibers;              /* run each connection's handler in a fiber of its own */
    size_t fiber_stack_size;  /* with fibers: 0 for SEA_FIBER_STACK_DEFAULT */
    unsigned max_connections; /* per shard; 0: no limit but descriptors and memory */
    int backlog;              /* listen(2) backlog; 0: 1024 */
    sea_time drain_timeout;   /* closing: how long to wait for the peer to finish sending; 0: 1 s */
    const char *name;         /* shown in log lines; NULL: the address */
} sea_server_options;

/*
 * sea_server_start(addr, opts, handler [, capture]): listens on addr ("IP:PORT",
 * "[IPV6]:PORT", "unix:PATH", "unix:@NAME") on every shard and serves each
 * connection with
 *     sea_future handler(T *capture, sea_socket *s)    (or handler(sea_socket *s))
 * Every shard gets its own copy of the capture.  Resolves with the server in
 * v.ptr once every shard listens and accepts; fails, with a message that
 * names the shard and the address, if any shard cannot listen (nothing is
 * left listening then).  opts may be NULL; a compound literal with several
 * fields needs parentheses: (&(sea_server_options){.fibers = true, ...}).
 */
#define sea_server_start(addr, opts, ...) \
    SEA__CAPTURE_DISPATCH(sea__server_m, __VA_ARGS__)("sea_server_start", ((addr), (opts), false, ), __VA_ARGS__)

/*
 * sea_serve(addr, opts, handler [, capture]): starts the server as
 * sea_server_start does and resolves when it has stopped (after SIGINT or
 * SIGTERM, normally): what an application's main returns.
 */
#define sea_serve(addr, opts, ...) \
    SEA__CAPTURE_DISPATCH(sea__server_m, __VA_ARGS__)("sea_serve", ((addr), (opts), true, ), __VA_ARGS__)

/* The address the server listens on (for port 0, the port it got). */
sea_addr sea_server_addr(const sea_server *srv);

/*
 * Stops the server (see above) and resolves once every shard has let go of
 * it.  Stopping a server that is stopping or stopped resolves when it has
 * stopped.  The server object itself stays valid until the application's
 * orderly stop (SIGINT, SIGTERM, or main's end), which frees it once it has
 * stopped (sea_server_addr and the statistics answer until then).  Waiting
 * for several servers: take every sea_server_stopped future first, then
 * wait for them, since the first to stop may be freed before the others.
 */
sea_future sea_server_stop(sea_server *srv) SEA_MUST_USE;

/* Resolves when the server has stopped, however it was asked to. */
sea_future sea_server_stopped(sea_server *srv) SEA_MUST_USE;

/* The current shard's counters. */
typedef struct sea_server_stats {
    uint64_t connections;    /* open right now (handlers running, or closing) */
    uint64_t accepted;       /* connections accepted since the start */
    uint64_t refused;        /* closed at once: over max_connections, or no memory or stack for them */
    uint64_t accept_errors;  /* accept failures (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...) */
    uint64_t handler_errors; /* handlers whose future failed */
} sea_server_stats;

/* Copies the current shard's counters of srv into *out.  0, or -EINVAL off a shard the server runs on. */
int sea_server_stats_get(const sea_server *srv, sea_server_stats *out);

/* ---- private ---- */
sea_future sea__server_start(const char *addr, const sea_server_options *opts, bool until_stopped, sea__fnptr fn,
                             const void *cap, size_t capsz) SEA_MUST_USE;
#define sea__server_m0(what, pre, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(sea_socket *)), \
                    what ": " #fn " must be  sea_future " #fn "(sea_socket *s)  (no capture was given)", \
                    sea__server_start(SEA__UNPAREN pre(sea__fnptr)(fn), NULL, 0))
#define sea__server_m1(what, pre, fn, ...) sea__server_c(SEA__UNIQUE(sea__cap), what, pre, fn, __VA_ARGS__)
#define sea__server_c(c, what, pre, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *, sea_socket *)), \
                  what ": " #fn " must be  sea_future " #fn "(T *capture, sea_socket *s)" SEA__T_IS(__VA_ARGS__), \
                  sea__server_start(SEA__UNPAREN pre(sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
