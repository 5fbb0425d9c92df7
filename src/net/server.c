/*
 * server.c - sea_server (sea/server.h): a listener and an accept loop on
 * every shard, a record per connection, and the orderly stop.
 *
 * Start, on shard 0, in a fiber of its own so that the steps read in order:
 *   1. shard 0 listens (port 0 becomes a port; a Unix socket file left over
 *      by a server that died is removed first);
 *   2. every other shard listens: on the same address with SO_REUSEPORT,
 *      or, for a Unix socket, on a dup of shard 0's descriptor;
 *   3. only once all of them listen does any shard accept.  A failure in 1
 *      or 2 closes what was opened and fails the start with its message.
 *
 * Each shard's accept loop is a chain of continuations.  A connection gets
 * a record (struct conn) on the shard's list and inside the shard's gate,
 * then the handler (in a fiber, or called), then, when the handler's future
 * resolves, a closing step: the sending side is shut down and whatever the
 * peer still sends is read and dropped until it closes (or drain_timeout),
 * so that closing never resets away an answer the peer has not read yet.
 *
 * Stop, on shard 0, in a fiber again: every shard closes its listener,
 * which ends its accept loop, shuts its connections down (handlers see the
 * end of the stream) and waits for its gate; then the Unix socket file goes.
 * The server object lives until the application's stop callback, registered
 * at the start, frees it: so sea_server_stop, sea_server_stopped and the
 * statistics stay safe to call on a stopped server.
 */
#include <sea/abort.h>
#include <sea/fiber.h>
#include <sea/gate.h>
#include <sea/log.h>
#include <sea/promise.h>
#include <sea/server.h>
#include <sea/shared_future.h>
#include <sea/smp.h>
#include <sea/when.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/list.h"
#include "core/future.h"
#include "core/shard.h"
#include "core/stop.h"
#include "net/net.h"

SEA_LOGGER(server_log, "server");

/* Bytes a closing connection may still send us before we close anyway. */
#define DRAIN_MAX (1u << 20)
/* Pauses after an accept failed for want of descriptors or memory: from the first to the last, doubling. */
#define PAUSE_FIRST SEA_MSEC(10)
#define PAUSE_MAX SEA_SEC(1)
/* A failing handler is logged at most once per this period per shard (the rest are counted). */
#define WARN_PERIOD SEA_SEC(1)

enum server_state { S_STARTING, S_RUNNING, S_STOPPING, S_STOPPED, S_FAILED };

struct server_shard;

struct sea_server {
    char name[128];            /* for log lines: opts.name, or the address */
    char addr_text[128];
    sea_addr addr;             /* as asked; once shard 0 listens, as bound */
    sea_server_options opts;
    sea__fnptr handler;
    void *cap;                 /* the handler's capture (every shard copies it), or NULL */
    size_t capsz;
    unsigned n;                /* shards */
    struct server_shard **shards; /* [n], each set and cleared by its own shard */
    int state;
    bool stop_asked;           /* sea_server_stop while starting */
    bool named;                /* opts.name was given (else the name is the address) */
    bool unix_file;            /* a Unix socket file we made: removed at stop */
    dev_t dev;
    ino_t ino;
    sea_shared_promise settled; /* the start is over (running or failed) */
    sea_shared_promise stopped; /* the stop is over */
};

/* One shard's part of a server: made, used and freed on that shard only. */
struct server_shard {
    unsigned id;
    sea_server *srv;           /* read only for its name */
    sea_listener *l;
    sea__fnptr handler;
    void *cap;                 /* this shard's copy of the capture, or NULL */
    sea_server_options opts;
    struct sea__list conns;
    sea_gate gate;             /* the accept loop and every connection */
    bool stopping;
    sea_abort_source pause_abort; /* ends a pause between accept retries, at stop */
    sea_time pause;            /* the next pause after a failed accept */
    uint64_t failed_accepts;   /* in a row */
    sea_time warned_at;        /* the last handler failure logged */
    uint64_t unlogged;         /* handler failures not logged since */
    sea_server_stats stats;
    char *scratch;             /* where closing connections' input goes to be dropped */
};

/* One connection. */
struct conn {
    struct sea__link link;
    struct server_shard *ss;
    sea_socket *s;
    sea_timer drain_timer;
    size_t drained;
};

static struct server_shard *my_part(const sea_server *srv) {
    unsigned id = sea_shard_id();
    return srv && id < srv->n ? srv->shards[id] : NULL;
}

/* ---- connections ---- */

static sea_future call_handler(struct server_shard *ss, sea_socket *s) {
    return ss->cap ? ((sea_future(*)(void *, sea_socket *))ss->handler)(ss->cap, s)
                   : ((sea_future(*)(sea_socket *))ss->handler)(s);
}

static sea_future conn_fiber(struct conn **cp) {
    return call_handler((*cp)->ss, (*cp)->s);
}

static void conn_free(struct conn *c) {
    struct server_shard *ss = c->ss;
    sea_timer_cancel(&c->drain_timer);
    sea__list_remove(&ss->conns, &c->link);
    sea_socket_close(c->s);
    ss->stats.connections--;
    free(c);
    sea_gate_leave(&ss->gate);
}

static void drain_more(struct conn *c);

static sea_future drain_ready(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    if (sea_future_failed(in)) {
        (void)sea_future_error(in);
        conn_free(c);
    } else {
        drain_more(c);
    }
    return sea_ready();
}

/* Reads and drops the peer's input until it ends, fails, grows past DRAIN_MAX or the timer shuts it. */
static void drain_more(struct conn *c) {
    for (;;) {
        long n = sea_socket_try_read(c->s, c->ss->scratch, 4096);
        if (n > 0) {
            c->drained += (size_t)n;
            if (c->drained > DRAIN_MAX)
                break;
            continue;
        }
        if (n == -EAGAIN) {
            sea_future w = sea_then_wrapped(sea_socket_wait_readable(c->s), drain_ready, c);
            if (sea_future_failed(&w)) { /* no memory to wait: close now */
                (void)sea_future_error(&w);
                sea_future_detach(w);
                break;
            }
            sea_future_detach(w);
            return;
        }
        break; /* the end of the stream, or an error: nothing more will come */
    }
    conn_free(c);
}

static void drain_timed_out(sea_timer *t, void *arg) {
    (void)t;
    struct conn *c = arg;
    sea_socket_shutdown(c->s, SHUT_RD); /* the pending wait sees the end of the stream */
}

/* The handler is done: close gracefully. */
static void conn_close(struct conn *c) {
    if (sea_socket_shutdown(c->s, SHUT_WR) < 0) {
        conn_free(c);
        return;
    }
    sea_timer_arm(&c->drain_timer, c->ss->opts.drain_timeout);
    drain_more(c);
}

/* Errors a connection ends with that say nothing about the server: the peer went away, or we stopped. */
static bool ordinary_end(int err) {
    return err == -ECONNRESET || err == -EPIPE || err == -ENOTCONN || err == -ETIMEDOUT ||
           err == SEA_ECANCELED || err == SEA_ESHUTDOWN;
}

static sea_future handler_done(struct conn **cp, sea_future *in) {
    struct conn *c = *cp;
    struct server_shard *ss = c->ss;
    int err = sea_future_error(in);
    if (err) {
        ss->stats.handler_errors++;
        const char *msg = sea_future_message(in);
        if (ordinary_end(err)) {
            sea_log_debug(&server_log, "%s: a connection ended: %s%s%s", ss->srv->name, sea_strerror(err),
                          msg ? ": " : "", msg ? msg : "");
        } else if (sea_now() - ss->warned_at >= WARN_PERIOD || ss->warned_at == 0) {
            sea_log_warn(&server_log, "%s: a connection's handler failed: %s (%s)%s%s%s", ss->srv->name,
                         sea_strerror(err), sea_errname(err), msg ? ": " : "", msg ? msg : "",
                         ss->unlogged ? " (and more failures not logged)" : "");
            ss->warned_at = sea_now();
            ss->unlogged = 0;
        } else {
            ss->unlogged++;
        }
    }
    conn_close(c);
    return sea_ready();
}

/* Closes a connection the shard will not serve, and says why (once a second at most). */
static void refuse(struct server_shard *ss, sea_socket *s, const char *why) {
    sea_socket_close(s);
    ss->stats.refused++;
    if (ss->warned_at == 0 || sea_now() - ss->warned_at >= WARN_PERIOD) {
        sea_log_warn(&server_log, "%s: shard %u refused a connection: %s (%llu refused so far)", ss->srv->name,
                     ss->id, why, (unsigned long long)ss->stats.refused);
        ss->warned_at = sea_now();
    }
}

static void serve(struct server_shard *ss, sea_socket *s) {
    ss->stats.accepted++;
    if (ss->opts.max_connections && ss->stats.connections >= ss->opts.max_connections) {
        refuse(ss, s, "max_connections reached");
        return;
    }
    if (sea_gate_enter(&ss->gate) < 0) { /* stopping */
        sea_socket_close(s);
        return;
    }
    struct conn *c = malloc(sizeof(*c));
    if (!c) {
        sea_gate_leave(&ss->gate);
        refuse(ss, s, "no memory for it");
        return;
    }
    c->ss = ss;
    c->s = s;
    c->drained = 0;
    sea_timer_init(&c->drain_timer, drain_timed_out, c);
    sea__list_push_back(&ss->conns, &c->link);
    ss->stats.connections++;
    sea_future f;
    if (ss->opts.fibers) {
        sea_fiber_attr attr = {.stack_size = ss->opts.fiber_stack_size, .name = "connection"};
        f = sea__fiber_start(&attr, (sea__fnptr)conn_fiber, &c, sizeof(c));
        if (sea_future_failed(&f)) {
            int err = sea_future_error(&f);
            sea_future_detach(f);
            c->s = NULL;
            sea__list_remove(&ss->conns, &c->link);
            ss->stats.connections--;
            free(c);
            sea_gate_leave(&ss->gate);
            refuse(ss, s, err == -ENOMEM ? "no memory for a fiber stack" : sea_strerror(err));
            return;
        }
    } else {
        f = call_handler(ss, s);
    }
    sea__future_settle(&f);
    bool pending = !sea_future_available(&f);
    sea_future d = sea_then_wrapped(f, handler_done, c);
    if (pending && sea_future_failed(&d)) {
        /*
         * No memory to wait for the handler: it still runs and still uses the
         * socket, so the socket cannot be closed; let the stop go on without it.
         */
        sea_future_detach(d);
        sea__list_remove(&ss->conns, &c->link);
        sea_gate_leave(&ss->gate);
        sea_log_error(&server_log, "%s: out of memory following a connection; it is left open", ss->srv->name);
        return;
    }
    sea_future_detach(d);
}

/* ---- the accept loop ---- */

static void accept_more(struct server_shard *ss);

static void loop_ended(struct server_shard *ss) {
    sea_gate_leave(&ss->gate);
}

static sea_future pause_over(struct server_shard **ssp, sea_future *in) {
    (void)sea_future_error(in); /* aborted at stop, or the time is up: either way, look again */
    accept_more(*ssp);
    return sea_ready();
}

/* Waits before accepting again (descriptors or memory ran out: retrying at once would spin). */
static void pause_accepting(struct server_shard *ss) {
    sea_time d = ss->pause;
    ss->pause = ss->pause * 2 > PAUSE_MAX ? PAUSE_MAX : ss->pause * 2;
    sea_future w = sea_then_wrapped(sea_sleep_abortable(d, &ss->pause_abort), pause_over, ss);
    if (sea_future_failed(&w)) { /* no memory even for that: the loop cannot go on */
        (void)sea_future_error(&w);
        sea_log_error(&server_log, "%s: shard %u stops accepting: out of memory", ss->srv->name, ss->id);
        loop_ended(ss);
    }
    sea_future_detach(w);
}

/* Failures of accept(2) that concern one connection only: the next accept may well work. */
static bool passing_failure(int err) {
    return err == -ECONNABORTED || err == -EPROTO || err == -EINTR || err == -EAGAIN || err == -EPERM ||
           err == -ENETDOWN || err == -ENOPROTOOPT || err == -EHOSTDOWN || err == -ENONET ||
           err == -EHOSTUNREACH || err == -EOPNOTSUPP || err == -ENETUNREACH;
}

/* Handles one accept's result (consumed); false when the loop must not go on now. */
static bool accept_result(struct server_shard *ss, sea_future *r) {
    int err = sea_future_error(r);
    if (err) {
        sea_future_detach(sea_future_move(r));
        if (ss->stopping || err == SEA_ECANCELED) {
            loop_ended(ss);
            return false;
        }
        ss->stats.accept_errors++;
        if (passing_failure(err))
            return true;
        if (ss->failed_accepts++ == 0)
            sea_log_warn(&server_log, "%s: shard %u cannot accept: %s (%s); retrying, less and less often", ss->srv->name,
                         ss->id, sea_strerror(err), sea_errname(err));
        pause_accepting(ss);
        return false;
    }
    sea_socket *s = sea_future_value(r).ptr;
    if (ss->failed_accepts) {
        sea_log_info(&server_log, "%s: shard %u accepts again, after %llu failed attempts", ss->srv->name, ss->id,
                     (unsigned long long)ss->failed_accepts);
        ss->failed_accepts = 0;
    }
    ss->pause = PAUSE_FIRST;
    if (ss->stopping) {
        sea_socket_close(s);
        loop_ended(ss);
        return false;
    }
    serve(ss, s);
    return true;
}

static sea_future accepted(struct server_shard **ssp, sea_future *in) {
    if (accept_result(*ssp, in))
        accept_more(*ssp);
    return sea_ready();
}

static sea_future resume_accepting(struct server_shard **ssp) {
    accept_more(*ssp);
    return sea_ready();
}

/* Accepts for as long as connections are already there; then waits for the next one. */
static void accept_more(struct server_shard *ss) {
    for (unsigned n = 1;; n++) {
        if (ss->stopping) {
            loop_ended(ss);
            return;
        }
        if (n % 16 == 0 && sea_need_preempt()) { /* a burst of connections: let the rest of the shard run */
            sea_future y = sea_then(sea_yield(), resume_accepting, ss);
            if (!sea_future_failed(&y)) {
                sea_future_detach(y);
                return;
            }
            (void)sea_future_error(&y);
            sea_future_detach(y);
        }
        sea_future f = sea_accept(ss->l);
        sea__future_settle(&f);
        if (!sea_future_available(&f)) {
            sea_future w = sea_then_wrapped(f, accepted, ss);
            if (sea_future_failed(&w)) { /* no memory to wait: pause and try again */
                (void)sea_future_error(&w);
                sea_future_detach(w);
                ss->stats.accept_errors++;
                pause_accepting(ss);
                return;
            }
            sea_future_detach(w);
            return;
        }
        if (!accept_result(ss, &f))
            return;
    }
}

/* ---- each shard's part: listen, accept, stop, release ---- */

struct listen_msg {
    sea_server *srv;
    int fd0; /* shard 0's listening descriptor, to dup (Unix sockets), or -1 */
};

static bool is_unix(const sea_addr *a) {
    return a->u.sa.sa_family == AF_UNIX;
}

/* The path of a Unix address that is a file (not abstract), or NULL. */
static const char *unix_path(const sea_addr *a) {
    if (!is_unix(a) || a->u.un.sun_path[0] == '\0')
        return NULL;
    return a->u.un.sun_path;
}

static void part_free(struct server_shard *ss) {
    free(ss->cap);
    free(ss->scratch);
    free(ss);
}

static sea_future shard_listen(struct listen_msg *m) {
    sea_server *srv = m->srv;
    unsigned id = sea_shard_id();
    struct server_shard *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return sea_failed_fmt(-ENOMEM, "shard %u: out of memory for the server", id);
    ss->id = id;
    ss->srv = srv;
    ss->handler = srv->handler;
    ss->opts = srv->opts;
    ss->pause = PAUSE_FIRST;
    sea_gate_init(&ss->gate);
    sea_abort_source_init(&ss->pause_abort);
    ss->scratch = malloc(4096);
    if (srv->cap) {
        ss->cap = malloc(srv->capsz ? srv->capsz : 1);
        if (ss->cap)
            memcpy(ss->cap, srv->cap, srv->capsz);
    }
    if (!ss->scratch || (srv->cap && !ss->cap)) {
        part_free(ss);
        return sea_failed_fmt(-ENOMEM, "shard %u: out of memory for the server", id);
    }
    int rc;
    if (m->fd0 >= 0) {
        int fd = fcntl(m->fd0, F_DUPFD_CLOEXEC, 0);
        rc = fd < 0 ? -errno : sea_listener_adopt(fd, &ss->l);
        if (fd >= 0 && rc < 0)
            close(fd);
    } else {
        sea_listen_options lo = {.backlog = srv->opts.backlog, .reuse_port = srv->n > 1};
        rc = sea_listen(&srv->addr, &lo, &ss->l);
    }
    if (rc < 0) {
        part_free(ss);
        return sea_failed_fmt(rc, "shard %u cannot listen on %s: %s", id, srv->addr_text, sea_strerror(rc));
    }
    srv->shards[id] = ss;
    return sea_ready();
}

static sea_future shard_accept(sea_server **sp) {
    struct server_shard *ss = my_part(*sp);
    if (!ss)
        return sea_failed(-EINVAL, "no server part on this shard");
    sea_gate_enter(&ss->gate); /* the loop itself: the stop waits for it to end */
    accept_more(ss);
    return sea_ready();
}

/* Stops this shard's part; resolves once every connection is gone. */
static sea_future shard_stop(sea_server **sp) {
    struct server_shard *ss = my_part(*sp);
    if (!ss)
        return sea_ready();
    ss->stopping = true;
    sea_listener_close(ss->l); /* a pending accept fails: the loop ends */
    ss->l = NULL;
    sea_abort_source_request(&ss->pause_abort, SEA_ECANCELED);
    sea__list_for_each(it, &ss->conns) {
        struct conn *c = sea__list_entry(it, struct conn, link);
        sea_socket_shutdown(c->s, SHUT_RDWR); /* reads end, writes fail: the handler finishes */
    }
    return sea_gate_close(&ss->gate);
}

/* Frees this shard's part (after a stop, or when a start failed). */
static sea_future shard_release(sea_server **sp) {
    sea_server *srv = *sp;
    struct server_shard *ss = my_part(srv);
    if (!ss)
        return sea_ready();
    sea_listener_close(ss->l); /* still open if the start failed */
    srv->shards[ss->id] = NULL;
    part_free(ss);
    return sea_ready();
}

/* Runs fn on every shard that has a part of srv (all of them) and waits, in a fiber. */
static sea_future on_every_shard(sea_server *srv, sea_future (*fn)(sea_server **)) {
    sea_future *fs = malloc(sizeof(*fs) * srv->n);
    if (!fs)
        return sea_failed(-ENOMEM, "out of memory reaching every shard");
    for (unsigned i = 0; i < srv->n; i++)
        fs[i] = sea_submit_to(i, fn, srv);
    sea_future_detach(sea_await(sea_when_all(fs, srv->n)));
    sea_future first_error = sea_ready();
    for (unsigned i = 0; i < srv->n; i++) {
        if (sea_future_failed(&fs[i]) && !sea_future_failed(&first_error))
            first_error = sea_future_move(&fs[i]);
        else
            sea_future_detach(sea_future_move(&fs[i]));
    }
    free(fs);
    return first_error;
}

/* ---- start and stop, on shard 0 ---- */

/* Whether something answers on a Unix socket's path: a server still alive there. */
static bool unix_socket_answers(const sea_addr *a) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true; /* cannot tell: do not remove anything */
    int rc = connect(fd, &a->u.sa, a->len);
    int err = rc < 0 ? errno : 0;
    close(fd);
    return !(rc < 0 && (err == ECONNREFUSED || err == ENOENT));
}

/* Before listening on a Unix path: a socket file nobody answers on is a leftover; anything else stays. */
static sea_future clear_unix_path(sea_server *srv) {
    const char *path = unix_path(&srv->addr);
    struct stat st;
    if (!path || lstat(path, &st) < 0)
        return sea_ready();
    if (!S_ISSOCK(st.st_mode))
        return sea_failed_fmt(-EADDRINUSE, "cannot listen on %s: the file exists and is not a socket", srv->addr_text);
    if (unix_socket_answers(&srv->addr))
        return sea_failed_fmt(-EADDRINUSE, "cannot listen on %s: another server answers there", srv->addr_text);
    if (unlink(path) < 0 && errno != ENOENT)
        return sea_failed_fmt(-errno, "cannot remove the stale socket file %s: %s", path, strerror(errno));
    sea_log_info(&server_log, "%s: removed the stale socket file %s", srv->name, path);
    return sea_ready();
}

static void remove_unix_file(sea_server *srv) {
    const char *path = unix_path(&srv->addr);
    struct stat st;
    /* Only our own file: a server started since on the same path keeps its. */
    if (srv->unix_file && path && lstat(path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
        unlink(path);
    srv->unix_file = false;
}

static sea_future stop_fiber(sea_server **sp);

static sea_future start_fiber(sea_server **sp) {
    sea_server *srv = *sp;
    sea_future r = clear_unix_path(srv);
    if (!sea_future_failed(&r)) {
        sea_future_detach(r);
        r = shard_listen(&(struct listen_msg){srv, -1}); /* shard 0 first: it picks the port */
    }
    if (!sea_future_failed(&r)) {
        sea_future_detach(r);
        struct server_shard *first = srv->shards[0];
        srv->addr = sea_listener_addr(first->l);
        sea_addr_format(&srv->addr, srv->addr_text, sizeof(srv->addr_text));
        if (!srv->named)
            snprintf(srv->name, sizeof(srv->name), "%s", srv->addr_text);
        const char *path = unix_path(&srv->addr);
        struct stat st;
        if (path && lstat(path, &st) == 0) {
            srv->unix_file = true;
            srv->dev = st.st_dev;
            srv->ino = st.st_ino;
        }
        int fd0 = is_unix(&srv->addr) ? sea__listener_fd(first->l) : -1;
        sea_future *fs = srv->n > 1 ? malloc(sizeof(*fs) * (srv->n - 1)) : NULL;
        if (srv->n > 1 && !fs) {
            r = sea_failed(-ENOMEM, "out of memory starting the server");
        } else if (srv->n > 1) {
            for (unsigned i = 1; i < srv->n; i++)
                fs[i - 1] = sea_submit_to(i, shard_listen, (struct listen_msg){srv, fd0});
            sea_future_detach(sea_await(sea_when_all(fs, srv->n - 1)));
            r = sea_ready();
            for (unsigned i = 1; i < srv->n; i++) {
                if (sea_future_failed(&fs[i - 1]) && !sea_future_failed(&r))
                    r = sea_future_move(&fs[i - 1]);
                else
                    sea_future_detach(sea_future_move(&fs[i - 1]));
            }
            free(fs);
        } else {
            r = sea_ready();
        }
    }
    if (!sea_future_failed(&r)) {
        sea_future_detach(r);
        r = on_every_shard(srv, shard_accept);
    }
    if (sea_future_failed(&r)) {
        /* Nothing is left listening: every part is released, the file removed. */
        sea_future_detach(sea_await(on_every_shard(srv, shard_release)));
        remove_unix_file(srv);
        srv->state = S_FAILED;
        sea_shared_promise_set_void(&srv->settled);
        sea_shared_promise_set_void(&srv->stopped);
        return r;
    }
    sea_future_detach(r);
    srv->state = S_RUNNING;
    if (srv->named)
        sea_log_info(&server_log, "%s: listening on %s, %u shard%s", srv->name, srv->addr_text, srv->n,
                     srv->n == 1 ? "" : "s");
    else
        sea_log_info(&server_log, "listening on %s, %u shard%s", srv->addr_text, srv->n, srv->n == 1 ? "" : "s");
    sea_shared_promise_set_void(&srv->settled);
    if (srv->stop_asked) {
        srv->state = S_STOPPING;
        sea_future_detach(sea__fiber_start(NULL, (sea__fnptr)stop_fiber, &srv, sizeof(srv)));
    }
    return sea_ready_ptr(srv);
}

static sea_future stop_fiber(sea_server **sp) {
    sea_server *srv = *sp;
    sea_future r = on_every_shard(srv, shard_stop);
    if (sea_future_failed(&r))
        sea_log_warn(&server_log, "%s: stopping: %s", srv->name, sea_future_message(&r));
    sea_future_detach(r);
    remove_unix_file(srv);
    srv->state = S_STOPPED;
    sea_log_info(&server_log, "%s: stopped", srv->name);
    sea_shared_promise_set_void(&srv->stopped);
    return sea_ready();
}

sea_future sea_server_stop(sea_server *srv) {
    if (!srv)
        return sea_failed(-EINVAL, "sea_server_stop: no server");
    if (sea_shard_id() != 0)
        return sea_failed(-EINVAL, "sea_server_stop: call it on shard 0");
    if (srv->state == S_STARTING) {
        srv->stop_asked = true;
    } else if (srv->state == S_RUNNING) {
        srv->state = S_STOPPING;
        sea_future f = sea__fiber_start(NULL, (sea__fnptr)stop_fiber, &srv, sizeof(srv));
        if (sea_future_failed(&f)) {
            srv->state = S_RUNNING;
            return f;
        }
        sea_future_detach(f);
    }
    return sea_server_stopped(srv);
}

sea_future sea_server_stopped(sea_server *srv) {
    if (!srv)
        return sea_failed(-EINVAL, "sea_server_stopped: no server");
    if (sea_shard_id() != 0)
        return sea_failed(-EINVAL, "sea_server_stopped: call it on shard 0");
    return sea_shared_promise_get_future(&srv->stopped);
}

sea_addr sea_server_addr(const sea_server *srv) {
    return srv->addr;
}

int sea_server_stats_get(const sea_server *srv, sea_server_stats *out) {
    struct server_shard *ss = my_part(srv);
    if (!ss)
        return -EINVAL;
    *out = ss->stats;
    return 0;
}

/* The application's stop: stop the server (or let its start end first), then free it. */
static sea_future final_fiber(sea_server **sp) {
    sea_server *srv = *sp;
    sea_future_detach(sea_await(sea_shared_promise_get_future(&srv->settled)));
    sea_future_detach(sea_await(sea_server_stop(srv)));
    sea_future_detach(sea_await(on_every_shard(srv, shard_release)));
    sea_shared_promise_destroy(&srv->settled);
    sea_shared_promise_destroy(&srv->stopped);
    free(srv->shards);
    free(srv->cap);
    free(srv);
    return sea_ready();
}

static sea_future at_app_stop(sea_server **sp) {
    return sea__fiber_start(NULL, (sea__fnptr)final_fiber, sp, sizeof(*sp));
}

static sea_future wait_stopped(sea_value v) {
    return sea_server_stopped(v.ptr);
}

sea_future sea__server_start(const char *addr, const sea_server_options *opts, bool until_stopped, sea__fnptr fn,
                             const void *cap, size_t capsz) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->smp || s->id != 0)
        return sea_failed(-EINVAL, "sea_server_start: call it on shard 0 of a running application");
    if (!fn || !addr)
        return sea_failed(-EINVAL, "sea_server_start: no handler or no address");
    sea_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return sea_failed(-ENOMEM, "out of memory starting a server");
    if (sea_addr_parse(addr, &srv->addr) < 0) {
        free(srv);
        return sea_failed_fmt(-EINVAL, "not an address: \"%s\" (use IP:PORT, [IPV6]:PORT or unix:PATH)", addr);
    }
    snprintf(srv->addr_text, sizeof(srv->addr_text), "%s", addr);
    if (opts)
        srv->opts = *opts;
    if (srv->opts.drain_timeout <= 0)
        srv->opts.drain_timeout = SEA_SEC(1);
    snprintf(srv->name, sizeof(srv->name), "%s", srv->opts.name ? srv->opts.name : addr);
    srv->named = srv->opts.name != NULL;
    srv->opts.name = NULL; /* the caller's string need not outlive this call */
    srv->handler = fn;
    srv->n = s->count;
    srv->shards = calloc(srv->n, sizeof(*srv->shards));
    if (cap) {
        srv->cap = malloc(capsz ? capsz : 1);
        if (srv->cap)
            memcpy(srv->cap, cap, capsz);
        srv->capsz = capsz;
    }
    if (!srv->shards || (cap && !srv->cap)) {
        free(srv->shards);
        free(srv->cap);
        free(srv);
        return sea_failed(-ENOMEM, "out of memory starting a server");
    }
    sea_shared_promise_init(&srv->settled);
    sea_shared_promise_init(&srv->stopped);
    /* First the stop: whatever happens from here on, the application's stop frees the server. */
    int rc = sea__stop_callback_add((sea__fnptr)at_app_stop, &srv, sizeof(srv));
    if (rc < 0) {
        free(srv->shards);
        free(srv->cap);
        free(srv);
        return sea_failed(rc, "sea_server_start: cannot join the application's stop");
    }
    sea_future f = sea__fiber_start(&(sea_fiber_attr){.name = "server-start"}, (sea__fnptr)start_fiber, &srv,
                                    sizeof(srv));
    if (sea_future_failed(&f)) { /* no fiber: the stop callback still frees srv */
        srv->state = S_FAILED;
        sea_shared_promise_set_void(&srv->settled);
        sea_shared_promise_set_void(&srv->stopped);
        return f;
    }
    return until_stopped ? sea_then(f, wait_stopped) : f;
}
