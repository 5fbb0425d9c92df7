/*
 * main.c - sea-memcached: memcached's text, meta and binary protocols on
 * every shard, over TCP, a Unix socket or UDP.
 *
 *     sea-memcached [-c SHARDS] [-m MEMORY] [-p 11211] [-U 0] [-l 0.0.0.0]
 *                   [-I 1m] [--max-conns N] [-v] [--snapshot-dir DIR]
 *                   [-Z -o ssl_chain_cert=FILE,ssl_key=FILE[,ssl_ca_cert=FILE,ssl_verify_mode=2]]
 *
 * -c and -m are sea's (shards, and memory for all of them); the rest are
 * memcached's.  Every shard listens on the port (sea_server_start) and
 * serves its connections in fibers (conn.c); each shard owns the keys whose
 * hash picks it and keeps them in its own cache (cache.c), which takes 85%
 * of the shard's memory and gives the rest to connections and messages.
 * With --snapshot-dir, the shards load their items on start and write them
 * on an orderly stop (snapshot.c).  With -Z, TCP connections are TLS (tls.c).
 */
#include "mc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

SEA_LOGGER(mc_log, "memcached");

static const sea_option options[] = {
    {.name = "port", .short_name = 'p', .type = SEA_OPTION_INT, .default_value = "11211",
     .help = "TCP port to listen on (memcached -p); 0: any free port", .min = 0, .max = 65535},
    {.name = "udp-port", .short_name = 'U', .type = SEA_OPTION_INT, .default_value = "0",
     .help = "UDP port to listen on (memcached -U); 0: no UDP", .min = 0, .max = 65535},
    {.name = "listen", .short_name = 'l', .type = SEA_OPTION_STRING, .default_value = "0.0.0.0",
     .help = "address to listen on (memcached -l); unix:PATH for a Unix socket"},
    {.name = "max-item-size", .short_name = 'I', .type = SEA_OPTION_SIZE, .default_value = "1M",
     .help = "largest item, key and header included (memcached -I)", .min = 1024, .max = 1024 * 1024 * 1024},
    {.name = "max-conns", .type = SEA_OPTION_INT, .default_value = "0",
     .help = "most connections per shard (0: no limit but descriptors and memory)", .min = 0, .max = 1000000},
    {.name = "verbose", .short_name = 'v', .type = SEA_OPTION_FLAG,
     .help = "log why each connection was closed (memcached -v)"},
    {.name = "snapshot-dir", .type = SEA_OPTION_STRING, .default_value = "",
     .help = "keep the cache across restarts: each shard writes its items to DIR on an orderly stop (SIGTERM, "
             "SIGINT) and loads them on start"},
    {.name = "snapshot-test-stall-after", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1000000,
     .help = "for tests only: a snapshot being saved stops for good after N chunks (to kill it mid-write)"},
    {.name = "enable-ssl", .short_name = 'Z', .type = SEA_OPTION_FLAG,
     .help = "every TCP connection is TLS (memcached -Z); the certificates come from -o"},
    {.name = "extended", .short_name = 'o', .type = SEA_OPTION_STRING, .default_value = "",
     .help = "memcached's -o, its TLS options only: ssl_chain_cert=FILE,ssl_key=FILE,ssl_ca_cert=FILE,"
             "ssl_verify_mode=0|2|3,ssl_min_version=2,ssl_keyformat=1,ssl_wbuf_size=KB (once, comma-separated)"},
    {.name = "tls-handshake-timeout", .type = SEA_OPTION_DOUBLE, .default_value = "10",
     .help = "seconds a client has for its TLS handshake with -Z (memcached has no limit)", .min = 0.001,
     .max = 3600},
    {.name = "shard-local-keys", .type = SEA_OPTION_FLAG,
     .help = "for measurement only: each shard serves every key from its own cache, so a key stored through "
             "one connection may be missing through another (docs/memcached.md)"},
};

mc_settings mc_config;
__thread sea_server *mc_server;
__thread mc_cache *mc_shard_cache;
static __thread sea_timer crawler;

/* The share of a shard's memory its cache may fill; the rest is for connections, buffers and messages. */
#define CACHE_SHARE_PERCENT 85

static void crawl(sea_timer *t, void *arg) {
    (void)t;
    (void)arg;
    mc_cache_crawl(mc_shard_cache, 1000, mc_cache_now());
}

/*
 * The allocator's reclaim hook: evicts from the cold end until an
 * allocation of `wanted` bytes would succeed.  Evicting `wanted` bytes of
 * items is not enough: scattered small items free no whole page, and a
 * connection's buffer needs pages; so evict 64 KiB at a time, trying the
 * allocation in between (a nested failure does not call the hook again),
 * until it would succeed: no more than that is lost.
 */
static size_t reclaim(void *arg, size_t wanted) {
    (void)arg;
    if (!mc_shard_cache || mc_snapshot_saving)
        return 0;
    size_t freed = 0;
    for (size_t step = wanted > 65536 ? wanted : 65536;;) {
        size_t f = mc_cache_evict(mc_shard_cache, step);
        freed += f;
        if (f == 0)
            break; /* nothing left to evict */
        void *p = malloc(wanted);
        if (p) {
            free(p);
            break;
        }
    }
    return freed;
}

static sea_future shard_up(void) {
    mc_shard_cache = mc_cache_new(sea_shard_id(), sea_shard_count(), mc_config.limit_per_shard);
    if (!mc_shard_cache)
        return sea_failed(-ENOMEM, "no memory for the cache");
    int rc = sea_memory_reclaimer_add(reclaim, NULL);
    if (rc < 0)
        return sea_failed(rc, "cannot register the cache's reclaim hook");
    sea_timer_init(&crawler, crawl, NULL);
    rc = sea_timer_arm_periodic(&crawler, SEA_SEC(1));
    if (rc < 0)
        return sea_failed(rc, "cannot arm the expiry crawler");
    rc = mc_stats_register_metrics();
    if (rc < 0)
        return sea_failed(rc, "cannot register the cache's metrics");
    return sea_ready();
}

static sea_future shard_down(void) {
    sea_timer_cancel(&crawler);
    mc_stats_remove_metrics();
    mc_cache_free(mc_shard_cache);
    mc_shard_cache = NULL;
    return sea_ready();
}

static sea_future stop_crawler(void) {
    sea_timer_cancel(&crawler); /* it would drop items under the snapshot's walk */
    return sea_ready();
}

static sea_future stop_fiber(void) {
    if (*sea_option_string("snapshot-dir")) {
        SEA_AWAIT(sea_invoke_on_all(stop_crawler));
        sea_future saved = sea_await(mc_snapshot_save());
        if (sea_future_failed(&saved)) /* reported; the stop goes on */
            sea_log_error(&mc_log, "%s", sea_future_message(&saved));
        sea_future_ignore(saved);
    }
    return sea_invoke_on_all(shard_down);
}

static sea_future stop_shards(void) {
    return sea_fiber_start(stop_fiber);
}

static sea_future handle(sea_socket *s) {
    return mc_serve(s);
}

/* host:port for the server and UDP, or unix:PATH. */
static void listen_address(char *addr, size_t len, long port) {
    const char *host = mc_config.listen;
    if (strncmp(host, "unix:", 5) == 0)
        snprintf(addr, len, "%s", host);
    else if (strchr(host, ':'))
        snprintf(addr, len, "[%s]:%ld", host, port);
    else
        snprintf(addr, len, "%s:%ld", host, port);
}

static sea_future set_server(sea_server **srv) {
    mc_server = *srv;
    return sea_ready();
}

static sea_future app_main(void) {
    sea_memory_stats mem = {0};
    sea_memory_stats_get(&mem);
    mc_config = (mc_settings){
        .max_item = (size_t)sea_option_size("max-item-size"),
        .port = (long)sea_option_int("port"),
        .udp_port = (long)sea_option_int("udp-port"),
        .listen = sea_option_string("listen"),
        .max_conns = (unsigned)sea_option_int("max-conns"),
        .verbose = sea_option_flag("verbose"),
        .shard_local = sea_option_flag("shard-local-keys"),
        .limit_per_shard = mem.total / 100 * CACHE_SHARE_PERCENT,
        .started_unix = (int64_t)time(NULL),
    };
    char why[512];
    if (mc_tls_configure(sea_option_flag("enable-ssl"), sea_option_string("extended"), why, sizeof(why)) < 0)
        return sea_failed_fmt(-EINVAL, "%s", why);
    mc_config.tls_handshake_timeout = (sea_time)(sea_option_double("tls-handshake-timeout") * 1e9);
    SEA_AWAIT(mc_tls_start());
    SEA_AWAIT(sea_invoke_on_all(shard_up));
    SEA_TRY(sea_app_at_exit(stop_shards));
    if (*sea_option_string("snapshot-dir"))
        SEA_AWAIT(mc_snapshot_load());
    char addr[300];
    listen_address(addr, sizeof(addr), mc_config.port);
    sea_server_options opts = {
        .fibers = true,
        .name = "memcached",
        .max_connections = mc_config.max_conns,
    };
    sea_future started = sea_await(sea_server_start(addr, &opts, handle));
    if (sea_future_failed(&started)) {
        sea_future_detach(sea_await(mc_tls_stop())); /* the server's failure is the one to report */
        return started;
    }
    sea_server *srv = sea_future_value(&started).ptr;
    SEA_AWAIT(sea_invoke_on_all(set_server, srv));
    sea_addr bound = sea_server_addr(mc_server);
    char shown[300];
    sea_addr_format(&bound, shown, sizeof(shown));
    sea_log_info(&mc_log, "serving memcached's text, meta and binary protocols on %s%s", shown,
                 mc_tls_creds && strncmp(mc_config.listen, "unix:", 5) != 0 ? " over TLS" : "");
    sea_future udp = sea_ready();
    if (mc_config.udp_port && strncmp(mc_config.listen, "unix:", 5) != 0) {
        char uaddr[300];
        listen_address(uaddr, sizeof(uaddr), mc_config.udp_port);
        sea_addr a;
        if (sea_addr_parse(uaddr, &a) < 0)
            return sea_failed(-EINVAL, "cannot parse the UDP address");
        udp = mc_udp_start(&a);
        if (sea_future_failed(&udp))
            return udp;
        sea_log_info(&mc_log, "serving memcached's UDP framing on %s", uaddr);
    }
    sea_future served = sea_await(sea_server_stopped(mc_server));
    SEA_AWAIT(mc_tls_stop()); /* every connection has ended */
    if (mc_config.udp_port) {
        mc_udp_stop();
        SEA_AWAIT(udp);
    }
    return served;
}

int main(int argc, char **argv) {
    sea_app_add_options(options, SEA_OPTION_COUNT(options));
    return sea_app_run_fiber(argc, argv, app_main);
}
