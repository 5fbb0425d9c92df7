/*
 * stats.c - memcached's "stats" command, every group monitoring tools read,
 * in text ("STAT name value" lines, then END) or binary (one packet per
 * statistic, then an empty one), and the same counters as metrics.
 *
 * Counters live with the shard that counts them (its cache, its server
 * shard, its sockets); "stats" visits every shard and sums.  memcached's
 * slab classes do not exist here: "stats items" and "stats slabs" report the
 * whole cache as one class (1), which is what sea-memcached has, one LRU per
 * shard, with memcached's field names so that tools parse them.
 */
#include "mc.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "binary.h"

/* One shard's counters. */
struct shard_counters {
    mc_cache_stats cache;
    sea_server_stats conns;
    sea_net_stats net;
    int64_t oldest;  /* seconds since its LRU tail was used */
    uint64_t tls_handshake_errors;
    mc_out conn_lines; /* "stats conns": this shard's connections, already as (name, value) text */
};

/* Where statistics go: text lines or binary packets, for the request r. */
typedef struct stat_sink {
    mc_out *o;
    const mc_request *r;
} stat_sink;

static void stat_put(stat_sink *s, const char *name, const char *value) {
    size_t nn = strlen(name), nv = strlen(value);
    if (s->r->proto == MC_PROTO_BINARY) {
        char h[MC_BIN_HEADER];
        mc_bin_header(h, s->r, MC_BIN_OK, 0, (uint16_t)nn, (uint32_t)(nn + nv), 0);
        mc_out_put(s->o, h, sizeof(h));
        mc_out_put(s->o, name, nn);
        mc_out_put(s->o, value, nv);
        return;
    }
    mc_out_str(s->o, "STAT ");
    mc_out_put(s->o, name, nn);
    mc_out_put(s->o, " ", 1);
    mc_out_put(s->o, value, nv);
    mc_out_str(s->o, "\r\n");
}

static void stat_u64(stat_sink *s, const char *name, uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    stat_put(s, name, buf);
}

static void stat_end(stat_sink *s) {
    if (s->r->proto == MC_PROTO_BINARY) {
        char h[MC_BIN_HEADER];
        mc_bin_header(h, s->r, MC_BIN_OK, 0, 0, 0, 0);
        mc_out_put(s->o, h, sizeof(h));
    } else {
        mc_out_str(s->o, "END\r\n");
    }
}

/* The text of "stats conns" for this shard's connections: "fd:field value\n" pairs. */
static void conn_lines(mc_out *o) {
    int64_t now = mc_cache_now();
    for (mc_conn *c = mc_shard_conns; c; c = c->next) {
        int fd = sea_socket_fd(c->s);
        sea_addr peer = sea_socket_peer(c->s), local = sea_socket_local(c->s);
        char pa[128] = "", la[128] = "";
        sea_addr_format(&peer, pa, sizeof(pa));
        sea_addr_format(&local, la, sizeof(la));
        char line[400];
        int n = snprintf(line, sizeof(line),
                         "%d:addr tcp:%s\n%d:listen_addr tcp:%s\n%d:state %s\n%d:secs_since_last_cmd %lld\n", fd, pa,
                         fd, la, fd, c->state, fd, (long long)(now - c->last_cmd));
        mc_out_put(o, line, (size_t)n);
    }
}

static sea_future shard_stats(bool *with_conns) {
    struct shard_counters *copy = calloc(1, sizeof(*copy));
    if (!copy)
        return sea_failed(-ENOMEM, "no memory for stats");
    copy->cache = *mc_cache_stats_get(mc_shard_cache);
    if (mc_server)
        sea_server_stats_get(mc_server, &copy->conns);
    sea_net_stats_get(&copy->net);
    copy->tls_handshake_errors = mc_tls_handshake_errors;
    copy->oldest = mc_cache_oldest_age(mc_shard_cache, mc_cache_now());
    if (*with_conns)
        conn_lines(&copy->conn_lines);
    return sea_ready_ptr(copy);
}

static sea_future shard_stats_reset(void) {
    mc_cache_stats_reset(mc_shard_cache);
    return sea_ready();
}

/* The sums over every shard; with_conns: and every connection's lines, in sum->conn_lines. */
static sea_future gather(struct shard_counters *sum, bool with_conns) {
    for (unsigned i = 0; i < sea_shard_count(); i++) {
        struct shard_counters *s = SEA_AWAIT(sea_submit_to(i, shard_stats, with_conns)).ptr;
        uint64_t *a = (uint64_t *)&sum->cache, *b = (uint64_t *)&s->cache;
        for (size_t k = 0; k < sizeof(sum->cache) / sizeof(uint64_t); k++)
            a[k] += b[k];
        sum->conns.connections += s->conns.connections;
        sum->conns.accepted += s->conns.accepted;
        sum->conns.refused += s->conns.refused;
        sum->net.bytes_received += s->net.bytes_received;
        sum->net.bytes_sent += s->net.bytes_sent;
        sum->tls_handshake_errors += s->tls_handshake_errors;
        if (s->oldest > sum->oldest)
            sum->oldest = s->oldest;
        if (s->conn_lines.len)
            mc_out_put(&sum->conn_lines, s->conn_lines.p, s->conn_lines.len);
        free(s->conn_lines.p);
        free(s);
    }
    return sea_ready();
}

static void general(stat_sink *o, const struct shard_counters *t) {
    const mc_cache_stats *sum = &t->cache;
    int64_t now = (int64_t)time(NULL);
    struct rusage ru = {0};
    getrusage(RUSAGE_SELF, &ru);
    char buf[64];
    stat_u64(o, "pid", (uint64_t)getpid());
    stat_u64(o, "uptime", (uint64_t)(now - mc_config.started_unix));
    stat_u64(o, "time", (uint64_t)now);
    stat_put(o, "version", MC_VERSION_STRING);
    stat_put(o, "libevent", "sea");
    stat_u64(o, "pointer_size", sizeof(void *) * 8);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
    stat_put(o, "rusage_user", buf);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    stat_put(o, "rusage_system", buf);
    stat_u64(o, "max_connections", mc_config.max_conns ? (uint64_t)mc_config.max_conns * sea_shard_count() : 0);
    stat_u64(o, "curr_connections", t->conns.connections);
    stat_u64(o, "total_connections", t->conns.accepted);
    stat_u64(o, "rejected_connections", t->conns.refused);
    stat_u64(o, "connection_structures", t->conns.connections);
    stat_u64(o, "cmd_get", sum->get_hits + sum->get_misses);
    stat_u64(o, "cmd_set", sum->cmd_set);
    stat_u64(o, "cmd_flush", 0);
    stat_u64(o, "cmd_touch", sum->cmd_touch);
    stat_u64(o, "get_hits", sum->get_hits);
    stat_u64(o, "get_misses", sum->get_misses);
    stat_u64(o, "get_expired", sum->get_expired);
    stat_u64(o, "get_flushed", sum->get_flushed);
    stat_u64(o, "delete_misses", sum->delete_misses);
    stat_u64(o, "delete_hits", sum->delete_hits);
    stat_u64(o, "incr_misses", sum->incr_misses);
    stat_u64(o, "incr_hits", sum->incr_hits);
    stat_u64(o, "decr_misses", sum->decr_misses);
    stat_u64(o, "decr_hits", sum->decr_hits);
    stat_u64(o, "cas_misses", sum->cas_misses);
    stat_u64(o, "cas_hits", sum->cas_hits);
    stat_u64(o, "cas_badval", sum->cas_badval);
    stat_u64(o, "touch_hits", sum->touch_hits);
    stat_u64(o, "touch_misses", sum->touch_misses);
    stat_u64(o, "bytes_read", t->net.bytes_received);
    stat_u64(o, "bytes_written", t->net.bytes_sent);
    stat_u64(o, "limit_maxbytes", (uint64_t)mc_config.limit_per_shard * sea_shard_count());
    stat_u64(o, "accepting_conns", 1);
    stat_u64(o, "threads", sea_shard_count());
    if (mc_config.tls) { /* as memcached: only with TLS on (ssl_new_sessions needs its session cache: not here) */
        stat_u64(o, "ssl_handshake_errors", t->tls_handshake_errors);
        stat_u64(o, "time_since_server_cert_refresh", (uint64_t)mc_tls_since_refresh());
    }
    stat_u64(o, "curr_items", sum->curr_items);
    stat_u64(o, "total_items", sum->total_items);
    stat_u64(o, "bytes", sum->bytes);
    stat_u64(o, "evictions", sum->evictions);
    stat_u64(o, "reclaimed", sum->reclaimed);
    stat_u64(o, "expired_unfetched", sum->expired_unfetched);
    stat_u64(o, "crawler_reclaimed", sum->crawler_reclaimed);
}

static void settings(stat_sink *o) {
    char buf[300];
    stat_u64(o, "maxbytes", (uint64_t)mc_config.limit_per_shard * sea_shard_count());
    stat_u64(o, "maxconns", mc_config.max_conns ? (uint64_t)mc_config.max_conns * sea_shard_count() : 0);
    stat_u64(o, "tcpport", (uint64_t)mc_config.port);
    stat_u64(o, "udpport", (uint64_t)mc_config.udp_port);
    bool unix_socket = strncmp(mc_config.listen, "unix:", 5) == 0;
    stat_put(o, "inter", unix_socket ? "NULL" : mc_config.listen);
    stat_u64(o, "verbosity", mc_config.verbose);
    stat_u64(o, "oldest", 0);
    stat_put(o, "evictions", "on");
    snprintf(buf, sizeof(buf), "%s", unix_socket ? mc_config.listen + 5 : "NULL");
    stat_put(o, "domain_socket", buf);
    stat_put(o, "growth_factor", "1.25");
    stat_u64(o, "chunk_size", 48);
    stat_u64(o, "num_threads", sea_shard_count());
    stat_u64(o, "num_threads_per_udp", mc_config.udp_port ? 1 : 0);
    stat_put(o, "stat_key_prefix", ":");
    stat_put(o, "detail_enabled", "no");
    stat_put(o, "cas_enabled", "yes");
    stat_put(o, "binding_protocol", "auto-negotiate");
    stat_put(o, "auth_enabled_sasl", "no");
    stat_put(o, "auth_enabled_ascii", "no");
    stat_u64(o, "item_size_max", mc_config.max_item);
    stat_put(o, "maxconns_fast", "yes");
    stat_put(o, "lru_crawler", "yes");
    stat_put(o, "lru_segmented", "no");
    stat_put(o, "flush_enabled", "yes");
    stat_put(o, "dump_enabled", "no");
    /* memcached's TLS settings, shown with or without -Z as memcached does ("(null)" and NULL when unset) */
    stat_put(o, "ssl_enabled", mc_config.tls ? "yes" : "no");
    stat_put(o, "ssl_chain_cert", mc_config.ssl_chain_cert ? mc_config.ssl_chain_cert : "(null)");
    stat_put(o, "ssl_key", mc_config.ssl_key ? mc_config.ssl_key : "(null)");
    stat_u64(o, "ssl_verify_mode", (uint64_t)mc_config.ssl_verify_mode);
    stat_u64(o, "ssl_keyformat", 1); /* PEM, OpenSSL's SSL_FILETYPE_PEM */
    stat_put(o, "ssl_ciphers", "NULL");
    stat_put(o, "ssl_ca_cert", mc_config.ssl_ca_cert ? mc_config.ssl_ca_cert : "NULL");
    stat_u64(o, "ssl_wbuf_size", mc_config.ssl_wbuf_size);
    stat_put(o, "ssl_session_cache", "no");
    stat_put(o, "ssl_kernel_tls", "no");
    stat_put(o, "ssl_min_version", "tlsv1.2");
}

static void items(stat_sink *o, const struct shard_counters *t) {
    const mc_cache_stats *s = &t->cache;
    if (s->curr_items == 0)
        return;
    stat_u64(o, "items:1:number", s->curr_items);
    stat_u64(o, "items:1:age", (uint64_t)t->oldest);
    stat_u64(o, "items:1:evicted", s->evictions);
    stat_u64(o, "items:1:evicted_nonzero", 0);
    stat_u64(o, "items:1:outofmemory", 0);
    stat_u64(o, "items:1:reclaimed", s->reclaimed);
    stat_u64(o, "items:1:expired_unfetched", s->expired_unfetched);
    stat_u64(o, "items:1:crawler_reclaimed", s->crawler_reclaimed);
}

static void slabs(stat_sink *o, const struct shard_counters *t) {
    const mc_cache_stats *s = &t->cache;
    if (s->curr_items) {
        stat_u64(o, "1:chunk_size", mc_config.max_item);
        stat_u64(o, "1:total_chunks", s->curr_items);
        stat_u64(o, "1:used_chunks", s->curr_items);
        stat_u64(o, "1:free_chunks", 0);
        stat_u64(o, "1:get_hits", s->get_hits);
        stat_u64(o, "1:cmd_set", s->cmd_set);
        stat_u64(o, "1:delete_hits", s->delete_hits);
        stat_u64(o, "1:incr_hits", s->incr_hits);
        stat_u64(o, "1:decr_hits", s->decr_hits);
        stat_u64(o, "1:cas_hits", s->cas_hits);
        stat_u64(o, "1:cas_badval", s->cas_badval);
        stat_u64(o, "1:touch_hits", s->touch_hits);
        stat_u64(o, "1:mem_requested", s->bytes);
    }
    stat_u64(o, "active_slabs", s->curr_items ? 1 : 0);
    stat_u64(o, "total_malloced", s->bytes);
}

static void conns(stat_sink *o, const struct shard_counters *t) {
    const char *p = t->conn_lines.p, *end = p + t->conn_lines.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *sp = memchr(p, ' ', (size_t)(nl - p));
        char name[64], value[300];
        snprintf(name, sizeof(name), "%.*s", (int)(sp - p), p);
        snprintf(value, sizeof(value), "%.*s", (int)(nl - sp - 1), sp + 1);
        stat_put(o, name, value);
        p = nl + 1;
    }
}

static bool key_is(const mc_request *r, const char *word) {
    size_t n = strlen(word);
    return r->key.len == n && memcmp(r->key.p, word, n) == 0;
}

sea_future mc_stats(const mc_request *r, mc_out *out) {
    stat_sink o = {out, r};
    bool bin = r->proto == MC_PROTO_BINARY;
    /* binary matches "reset" as a prefix, as memcached's strncmp does */
    if (key_is(r, "reset") || (bin && r->key.len >= 5 && memcmp(r->key.p, "reset", 5) == 0)) {
        SEA_AWAIT(sea_invoke_on_all(shard_stats_reset));
        if (bin)
            stat_end(&o);
        else
            mc_out_str(out, "RESET\r\n");
        return sea_ready();
    }
    enum { GENERAL, SETTINGS, ITEMS, SLABS, CONNS } group;
    if (r->key.len == 0)
        group = GENERAL;
    else if (key_is(r, "settings"))
        group = SETTINGS;
    else if (key_is(r, "items"))
        group = ITEMS;
    else if (key_is(r, "slabs"))
        group = SLABS;
    else if (key_is(r, "conns"))
        group = CONNS;
    else {
        if (bin) {
            char h[MC_BIN_HEADER];
            const char *msg = mc_bin_status_text(MC_BIN_KEY_ENOENT);
            mc_bin_header(h, r, MC_BIN_KEY_ENOENT, 0, 0, (uint32_t)strlen(msg), 0);
            mc_out_put(out, h, sizeof(h));
            mc_out_str(out, msg);
        } else {
            mc_out_str(out, "ERROR\r\n");
        }
        return sea_ready();
    }
    if (group == SETTINGS) {
        settings(&o);
        stat_end(&o);
        return sea_ready();
    }
    struct shard_counters sum = {0};
    sea_future f = sea_await(gather(&sum, group == CONNS));
    if (sea_future_failed(&f)) {
        free(sum.conn_lines.p);
        return f;
    }
    switch (group) {
    case GENERAL: general(&o, &sum); break;
    case ITEMS: items(&o, &sum); break;
    case SLABS: slabs(&o, &sum); break;
    case CONNS: conns(&o, &sum); break;
    default: break;
    }
    free(sum.conn_lines.p);
    stat_end(&o);
    return sea_ready();
}

/* ---- metrics ---- */

enum { NMETRICS = 17 };
static __thread sea_metric *metrics[NMETRICS];

void mc_stats_remove_metrics(void) {
    for (size_t i = 0; i < NMETRICS; i++) {
        sea_metric_remove(metrics[i]);
        metrics[i] = NULL;
    }
}

int mc_stats_register_metrics(void) {
    static const struct {
        const char *name, *help;
        size_t offset;
        bool gauge;
    } m[] = {
#define COUNTER(f, h) {"memcached_" #f, h, offsetof(mc_cache_stats, f), false}
#define GAUGE(f, h) {"memcached_" #f, h, offsetof(mc_cache_stats, f), true}
        GAUGE(curr_items, "Items in this shard's cache (stats curr_items)"),
        GAUGE(bytes, "Bytes of items in this shard's cache (stats bytes)"),
        COUNTER(total_items, "Items stored (stats total_items)"),
        COUNTER(evictions, "Items evicted to make room (stats evictions)"),
        COUNTER(get_hits, "Gets that found their key (stats get_hits)"),
        COUNTER(get_misses, "Gets that did not (stats get_misses)"),
        COUNTER(get_expired, "Gets that found their key expired (stats get_expired)"),
        COUNTER(cmd_set, "Storage commands (stats cmd_set)"),
        COUNTER(delete_hits, "Deletes that found their key (stats delete_hits)"),
        COUNTER(delete_misses, "Deletes that did not (stats delete_misses)"),
        COUNTER(incr_hits, "incr that found their key (stats incr_hits)"),
        COUNTER(decr_hits, "decr that found their key (stats decr_hits)"),
        COUNTER(cas_hits, "cas that stored (stats cas_hits)"),
        COUNTER(cas_badval, "cas refused for a stale CAS (stats cas_badval)"),
        COUNTER(touch_hits, "Touches that found their key (stats touch_hits)"),
        COUNTER(reclaimed, "Expired items reclaimed when met (stats reclaimed)"),
        COUNTER(crawler_reclaimed, "Expired items reclaimed by the crawler (stats crawler_reclaimed)"),
#undef COUNTER
#undef GAUGE
    };
    _Static_assert(sizeof(m) / sizeof(m[0]) == NMETRICS, "one handle per metric");
    const mc_cache_stats *st = mc_cache_stats_get(mc_shard_cache);
    for (size_t i = 0; i < NMETRICS; i++) {
        void *field = (char *)st + m[i].offset;
        int rc = m[i].gauge
                     ? sea_gauge_register_fn(m[i].name, m[i].help, NULL, sea_metric_read_u64, field, &metrics[i])
                     : sea_counter_register_fn(m[i].name, m[i].help, NULL, sea_metric_read_u64, field, &metrics[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}
