/*
 * main.c - sea-memcached: memcached's text protocol on every shard.
 *
 *     sea-memcached [-c SHARDS] [-m MEMORY] [--port 11211] [--listen 0.0.0.0]
 *                   [--max-item-size 1m] [--max-conns N]
 *
 * Every shard listens on the port (sea_server_start) and serves its
 * connections in fibers.  Each shard owns the keys whose hash picks it and
 * keeps them in its own cache (cache.c); a request for another shard's key
 * is run there by message (sea_submit_to) while the connection's fiber
 * waits, and the answer is written into the connection's output buffer.
 *
 * A connection reads into a buffer, answers every whole request in it in
 * order (pipelining), writes the answers in one go, and only then reads
 * again: a client that never reads its answers stops being read from, so it
 * cannot make the server buffer without bound.
 */
#include <sea/sea.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "text.h"

#define VERSION "1.6.18" /* the memcached whose protocol this speaks */
#define READ_CHUNK (16 * 1024)

SEA_LOGGER(mc_log, "memcached");

static const sea_option options[] = {
    {.name = "port", .type = SEA_OPTION_INT, .default_value = "11211", .help = "TCP port to listen on (memcached -p)",
     .min = 0, .max = 65535},
    {.name = "listen", .type = SEA_OPTION_STRING, .default_value = "0.0.0.0",
     .help = "address to listen on (memcached -l); unix:PATH for a Unix socket"},
    {.name = "max-item-size", .type = SEA_OPTION_SIZE, .default_value = "1M",
     .help = "largest item, key and header included (memcached -I)", .min = 1024, .max = 1024 * 1024 * 1024},
    {.name = "max-conns", .type = SEA_OPTION_INT, .default_value = "0",
     .help = "most connections per shard (0: no limit but descriptors and memory)", .min = 0, .max = 1000000},
};

/* ---- per shard ---- */

static __thread mc_cache *cache;
static __thread sea_timer crawler;
static size_t max_item;        /* read-only once running */
static sea_server *server;     /* set on shard 0 before any connection is served */
static int64_t started_unix;   /* for "stats" */

static void crawl(sea_timer *t, void *arg) {
    (void)t;
    (void)arg;
    mc_cache_crawl(cache, 1000, mc_cache_now());
}

static size_t reclaim(void *arg, size_t wanted) {
    (void)arg;
    return cache ? mc_cache_evict(cache, wanted) : 0;
}

/* The share of a shard's memory its cache may fill; the rest is for connections, buffers and messages. */
#define CACHE_SHARE_PERCENT 85

static sea_future shard_up(void) {
    sea_memory_stats mem = {0};
    sea_memory_stats_get(&mem);
    cache = mc_cache_new(sea_shard_id(), sea_shard_count(), mem.total / 100 * CACHE_SHARE_PERCENT);
    if (!cache)
        return sea_failed(-ENOMEM, "no memory for the cache");
    int rc = sea_memory_reclaimer_add(reclaim, NULL);
    if (rc < 0)
        return sea_failed(rc, "cannot register the cache's reclaim hook");
    sea_timer_init(&crawler, crawl, NULL);
    rc = sea_timer_arm_periodic(&crawler, SEA_SEC(1));
    if (rc < 0)
        return sea_failed(rc, "cannot arm the expiry crawler");
    return sea_ready();
}

static sea_future shard_down(void) {
    sea_timer_cancel(&crawler);
    mc_cache_free(cache);
    cache = NULL;
    return sea_ready();
}

static sea_future stop_shards(void) {
    return sea_invoke_on_all(shard_down);
}

/* ---- output ---- */

struct out {
    char *p;
    size_t len, cap;
    bool failed; /* out of memory: the connection closes */
};

static bool out_reserve(struct out *o, size_t more) {
    if (o->len + more <= o->cap)
        return true;
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

static void out_put(struct out *o, const void *data, size_t n) {
    if (out_reserve(o, n)) {
        memcpy(o->p + o->len, data, n);
        o->len += n;
    }
}

static void out_str(struct out *o, const char *s) {
    out_put(o, s, strlen(s));
}

/* ---- running a request on the shard that owns its key ---- */

struct job {
    const mc_request *r;
    struct out *out;
    mc_kind kind;          /* what to do: r->kind, or MC_DELETE for the set that failed as too large */
    bool quiet;            /* no answer, whatever r says */
    uint64_t hash;         /* of r->key */
    const uint64_t *hashes; /* MC_GET: of r->keys[], computed once by the connection */
    unsigned first, count; /* MC_GET: the keys r->keys[first..first+count) */
};

static void get_one(const mc_request *r, const mc_key *k, uint64_t h, struct out *o, int64_t now) {
    mc_item *it = mc_cache_get(cache, k->p, k->len, h, now);
    if (!it)
        return;
    if (r->touch)
        mc_cache_touch(cache, k->p, k->len, h, r->exptime, now);
    char head[MC_KEY_MAX + 96];
    int n = r->with_cas ? snprintf(head, sizeof(head), "VALUE %.*s %u %u %llu\r\n", (int)it->nkey, mc_item_key(it),
                                   it->flags, it->nbytes, (unsigned long long)it->cas)
                        : snprintf(head, sizeof(head), "VALUE %.*s %u %u\r\n", (int)it->nkey, mc_item_key(it),
                                   it->flags, it->nbytes);
    out_put(o, head, (size_t)n);
    out_put(o, mc_item_value(it), it->nbytes);
    out_put(o, "\r\n", 2);
}

static const char *store_reply(mc_result res) {
    switch (res) {
    case MC_STORED: return "STORED\r\n";
    case MC_NOT_STORED: return "NOT_STORED\r\n";
    case MC_EXISTS: return "EXISTS\r\n";
    case MC_NOT_FOUND: return "NOT_FOUND\r\n";
    default: return "SERVER_ERROR out of memory storing object\r\n";
    }
}

/* Runs on the owner shard: the request's effect on this shard's cache, and its answer. */
static sea_future run_job(struct job *j) {
    const mc_request *r = j->r;
    struct out *o = j->out;
    int64_t now = mc_cache_now();
    uint64_t h = j->hash;
    const char *reply = NULL;
    char num[32];
    switch (j->kind) {
    case MC_GET:
        for (unsigned i = j->first; i < j->first + j->count; i++)
            get_one(r, &r->keys[i], j->hashes[i], o, now);
        return sea_ready();
    case MC_STORE:
        reply = store_reply(mc_cache_store(cache, (int)r->mode, r->key.p, r->key.len, h, r->flags, r->exptime, r->data,
                                           r->nbytes, r->cas_unique, now));
        break;
    case MC_DELETE:
        reply = mc_cache_delete(cache, r->key.p, r->key.len, h, now) == MC_DELETED ? "DELETED\r\n" : "NOT_FOUND\r\n";
        break;
    case MC_TOUCH:
        reply = mc_cache_touch(cache, r->key.p, r->key.len, h, r->exptime, now) == MC_TOUCHED ? "TOUCHED\r\n"
                                                                                               : "NOT_FOUND\r\n";
        break;
    case MC_ARITH: {
        uint64_t v;
        mc_result res = mc_cache_arith(cache, r->key.p, r->key.len, h, r->incr, r->delta, &v, now);
        if (res == MC_OK) {
            snprintf(num, sizeof(num), "%llu\r\n", (unsigned long long)v);
            reply = num;
        } else if (res == MC_NOT_FOUND) {
            reply = "NOT_FOUND\r\n";
        } else if (res == MC_NON_NUMERIC) {
            reply = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";
        } else {
            reply = "SERVER_ERROR out of memory\r\n";
        }
        break;
    }
    default:
        return sea_ready();
    }
    if (!r->noreply && !j->quiet)
        out_str(o, reply);
    return sea_ready();
}

static sea_future flush_here(int64_t *when) {
    mc_cache_flush(cache, *when, mc_cache_now());
    return sea_ready();
}

/* Runs j on the shard that owns the hash it names: here, or there while this fiber waits. */
static sea_future run_on_owner(uint64_t hash, struct job *j) {
    unsigned owner = mc_shard_of(hash, sea_shard_count());
    if (owner == sea_shard_id())
        return run_job(j);
    return sea_submit_to(owner, run_job, *j);
}

/* ---- stats ---- */

/* One shard's counters: its cache's and its connections'. */
struct shard_counters {
    mc_cache_stats cache;
    sea_server_stats conns;
};

static sea_future shard_stats(void) {
    struct shard_counters *copy = calloc(1, sizeof(*copy));
    if (!copy)
        return sea_failed(-ENOMEM, "no memory for stats");
    copy->cache = *mc_cache_stats_get(cache);
    sea_server_stats_get(server, &copy->conns);
    return sea_ready_ptr(copy);
}

static sea_future shard_stats_reset(void) {
    mc_cache_stats_reset(cache);
    return sea_ready();
}

static void stat_u64(struct out *o, const char *name, uint64_t v) {
    char line[128];
    int n = snprintf(line, sizeof(line), "STAT %s %llu\r\n", name, (unsigned long long)v);
    out_put(o, line, (size_t)n);
}

static sea_future stats(const mc_request *r, struct out *o) {
    if (r->key.len == 5 && memcmp(r->key.p, "reset", 5) == 0) {
        SEA_AWAIT(sea_invoke_on_all(shard_stats_reset));
        out_str(o, "RESET\r\n");
        return sea_ready();
    }
    if (r->key.len != 0) {
        out_str(o, "ERROR\r\n"); /* stats settings/items/slabs/conns: not yet */
        return sea_ready();
    }
    mc_cache_stats sum = {0};
    sea_server_stats conns = {0};
    for (unsigned i = 0; i < sea_shard_count(); i++) {
        struct shard_counters *s = SEA_AWAIT(sea_submit_to(i, shard_stats)).ptr;
        uint64_t *a = (uint64_t *)&sum, *b = (uint64_t *)&s->cache;
        for (size_t k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
            a[k] += b[k];
        conns.connections += s->conns.connections;
        conns.accepted += s->conns.accepted;
        conns.refused += s->conns.refused;
        free(s);
    }
    int64_t now = (int64_t)time(NULL);
    sea_memory_stats mem = {0};
    sea_memory_stats_get(&mem);
    stat_u64(o, "pid", (uint64_t)getpid());
    stat_u64(o, "uptime", (uint64_t)(now - started_unix));
    stat_u64(o, "time", (uint64_t)now);
    out_str(o, "STAT version " VERSION "\r\n");
    stat_u64(o, "pointer_size", sizeof(void *) * 8);
    stat_u64(o, "curr_connections", conns.connections);
    stat_u64(o, "total_connections", conns.accepted);
    stat_u64(o, "rejected_connections", conns.refused);
    stat_u64(o, "cmd_get", sum.get_hits + sum.get_misses);
    stat_u64(o, "cmd_set", sum.cmd_set);
    stat_u64(o, "cmd_flush", 0);
    stat_u64(o, "cmd_touch", sum.cmd_touch);
    stat_u64(o, "get_hits", sum.get_hits);
    stat_u64(o, "get_misses", sum.get_misses);
    stat_u64(o, "get_expired", sum.get_expired);
    stat_u64(o, "get_flushed", sum.get_flushed);
    stat_u64(o, "delete_misses", sum.delete_misses);
    stat_u64(o, "delete_hits", sum.delete_hits);
    stat_u64(o, "incr_misses", sum.incr_misses);
    stat_u64(o, "incr_hits", sum.incr_hits);
    stat_u64(o, "decr_misses", sum.decr_misses);
    stat_u64(o, "decr_hits", sum.decr_hits);
    stat_u64(o, "cas_misses", sum.cas_misses);
    stat_u64(o, "cas_hits", sum.cas_hits);
    stat_u64(o, "cas_badval", sum.cas_badval);
    stat_u64(o, "touch_hits", sum.touch_hits);
    stat_u64(o, "touch_misses", sum.touch_misses);
    stat_u64(o, "threads", sea_shard_count());
    stat_u64(o, "limit_maxbytes", (uint64_t)mem.total / 100 * CACHE_SHARE_PERCENT * sea_shard_count());
    stat_u64(o, "curr_items", sum.curr_items);
    stat_u64(o, "total_items", sum.total_items);
    stat_u64(o, "bytes", sum.bytes);
    stat_u64(o, "evictions", sum.evictions);
    stat_u64(o, "reclaimed", sum.reclaimed);
    stat_u64(o, "crawler_reclaimed", sum.crawler_reclaimed);
    out_str(o, "END\r\n");
    return sea_ready();
}

/* ---- a connection ---- */

/*
 * Answers one parsed request into o.  Runs in the connection's fiber and
 * waits for any message it sends: the request and the jobs that point to it
 * live on this fiber's stack or in the connection until then.
 */
static sea_future answer(mc_request *r, struct out *o) {
    switch (r->kind) {
    case MC_GET: {
        /* Keys in runs by owner, in order: one message per run of another shard's keys.  Each key
         * is hashed once, here, for both the owner and the owner's table. */
        uint64_t hashes[MC_GET_KEYS_MAX];
        for (unsigned i = 0; i < r->nkeys; i++)
            hashes[i] = mc_hash(r->keys[i].p, r->keys[i].len);
        unsigned n = sea_shard_count();
        for (unsigned i = 0, j; i < r->nkeys; i = j) {
            unsigned owner = mc_shard_of(hashes[i], n);
            for (j = i + 1; j < r->nkeys && mc_shard_of(hashes[j], n) == owner;)
                j++;
            struct job job = {.r = r, .out = o, .kind = MC_GET, .hashes = hashes, .first = i, .count = j - i};
            SEA_AWAIT(run_on_owner(hashes[i], &job));
        }
        out_str(o, "END\r\n");
        return sea_ready();
    }
    case MC_STORE:
    case MC_DELETE:
    case MC_TOUCH:
    case MC_ARITH: {
        struct job job = {.r = r, .out = o, .kind = r->kind, .hash = mc_hash(r->key.p, r->key.len)};
        SEA_AWAIT(run_on_owner(job.hash, &job));
        return sea_ready();
    }
    case MC_FLUSH_ALL: {
        int64_t now = mc_cache_now();
        int64_t when = r->exptime > 0 ? mc_cache_exptime(r->exptime, now) - 1 : now;
        SEA_AWAIT(sea_invoke_on_all(flush_here, when));
        if (!r->noreply)
            out_str(o, "OK\r\n");
        return sea_ready();
    }
    case MC_VERSION:
        out_str(o, "VERSION " VERSION "\r\n");
        return sea_ready();
    case MC_VERBOSITY:
        if (!r->noreply)
            out_str(o, "OK\r\n");
        return sea_ready();
    case MC_STATS:
        return stats(r, o);
    case MC_SWALLOW:
        if (!r->noreply)
            out_str(o, r->error);
        if (r->mode == MC_SET) { /* as memcached: a failed set must not leave the old value readable */
            struct job job = {.r = r, .out = o, .kind = MC_DELETE, .quiet = true, .hash = mc_hash(r->key.p, r->key.len)};
            SEA_AWAIT(run_on_owner(job.hash, &job));
        }
        return sea_ready();
    case MC_REPLY_ERROR:
        if (!r->noreply)
            out_str(o, r->error);
        return sea_ready();
    default:
        return sea_ready();
    }
}

struct conn {
    sea_socket *s;
    char *in;
    size_t len, cap;
    size_t swallow; /* bytes still to drop (the data block of a value too large) */
    struct out out;
    mc_request req;
};

static sea_future write_out(struct conn *c) {
    if (c->out.len) {
        SEA_AWAIT(sea_socket_write(c->s, c->out.p, c->out.len));
        c->out.len = 0;
    }
    return sea_ready();
}

/* Serves one connection until the client leaves, quits or breaks the protocol beyond repair. */
static sea_future serve_conn(struct conn *c) {
    for (;;) {
        /* Room to read: a request may need its whole data block in the buffer. */
        if (c->cap - c->len < READ_CHUNK) {
            size_t cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
            char *in = realloc(c->in, cap);
            if (!in)
                return sea_failed(-ENOMEM, "no memory for a connection's input");
            c->in = in;
            c->cap = cap;
        }
        size_t n = SEA_AWAIT(sea_socket_read(c->s, c->in + c->len, c->cap - c->len)).size;
        if (n == 0)
            return sea_ready(); /* the client closed */
        c->len += n;
        size_t off = 0;
        bool close_after = false;
        while (off < c->len && !close_after) {
            if (c->swallow) {
                size_t drop = c->swallow < c->len - off ? c->swallow : c->len - off;
                c->swallow -= drop;
                off += drop;
                continue;
            }
            mc_request *r = &c->req;
            mc_kind k = mc_text_parse(c->in + off, c->len - off, max_item, r);
            if (k == MC_NEED_MORE)
                break;
            if (k == MC_CLOSE || k == MC_QUIT) {
                if (r->error)
                    out_str(&c->out, r->error);
                close_after = true;
                break;
            }
            SEA_AWAIT(answer(r, &c->out));
            if (k == MC_SWALLOW)
                c->swallow = r->swallow;
            off += r->consumed;
            if (c->out.failed)
                return sea_failed(-ENOMEM, "no memory for a connection's answers");
        }
        memmove(c->in, c->in + off, c->len - off);
        c->len -= off;
        SEA_AWAIT(write_out(c));
        if (close_after)
            return sea_ready();
    }
}

static sea_future handle(sea_socket *s) {
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return sea_failed(-ENOMEM, "no memory for a connection");
    c->s = s;
    sea_future r = sea_await(serve_conn(c));
    free(c->in);
    free(c->out.p);
    free(c);
    return r;
}

static sea_future app_main(void) {
    max_item = (size_t)sea_option_size("max-item-size");
    started_unix = (int64_t)time(NULL);
    SEA_AWAIT(sea_invoke_on_all(shard_up));
    SEA_TRY(sea_app_at_exit(stop_shards));
    char addr[300];
    const char *host = sea_option_string("listen");
    if (strncmp(host, "unix:", 5) == 0)
        snprintf(addr, sizeof(addr), "%s", host);
    else if (strchr(host, ':'))
        snprintf(addr, sizeof(addr), "[%s]:%lld", host, (long long)sea_option_int("port"));
    else
        snprintf(addr, sizeof(addr), "%s:%lld", host, (long long)sea_option_int("port"));
    sea_server_options opts = {
        .fibers = true,
        .name = "memcached",
        .max_connections = (unsigned)sea_option_int("max-conns"),
    };
    server = SEA_AWAIT(sea_server_start(addr, &opts, handle)).ptr;
    sea_log_info(&mc_log, "serving memcached's text protocol on %s", addr);
    return sea_server_stopped(server);
}

int main(int argc, char **argv) {
    sea_app_add_options(options, SEA_OPTION_COUNT(options));
    return sea_app_run_fiber(argc, argv, app_main);
}
