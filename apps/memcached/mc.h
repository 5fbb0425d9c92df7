/*
 * mc.h - what sea-memcached's parts share: its settings, each shard's
 * cache, the connections a shard serves, and the entry points of the
 * connection (conn.c), statistics (stats.c) and UDP (udp.c) parts.
 */
#ifndef MC_MC_H
#define MC_MC_H

#include <sea/sea.h>
#include <sea/tls.h>

#include "cache.h"
#include "out.h"
#include "text.h"

#define MC_VERSION_STRING "1.6.18" /* the memcached whose protocol this speaks */

/* The command line, read once on start; read-only while serving. */
typedef struct mc_settings {
    size_t max_item;        /* -I */
    long port, udp_port;    /* -p, -U */
    const char *listen;     /* -l */
    unsigned max_conns;     /* --max-conns, per shard */
    bool verbose;           /* -v */
    bool shard_local;       /* --shard-local-keys: no forwarding (measurement only) */
    size_t limit_per_shard; /* bytes of items each shard keeps */
    int64_t started_unix;
    /* -Z and memcached's -o ssl_* options (tls.c): every TCP connection is TLS */
    bool tls;
    const char *ssl_chain_cert, *ssl_key, *ssl_ca_cert; /* NULL when not given */
    int ssl_verify_mode;    /* 0 none, 2 require (3, "once", is served as 2: sea never renegotiates) */
    int ssl_min_version;    /* memcached's number: 2 (TLS 1.2) is the only floor sea serves */
    size_t ssl_wbuf_size;   /* bytes of plaintext per batch of TLS records (memcached's 16 KiB) */
    sea_time tls_handshake_timeout;
} mc_settings;

extern mc_settings mc_config;
/*
 * The server, on each shard: set on every shard by a message from shard 0
 * once the server has started (so each shard writes its own copy, after
 * what shard 0 did); NULL before that, when "stats" reports no connections.
 * Connections can arrive on other shards before sea_server_start resolves
 * on shard 0, which is why a single global written there raced with them.
 */
extern __thread sea_server *mc_server;
extern __thread mc_cache *mc_shard_cache;

/* One connection, on the shard that accepted it (listed there for "stats conns"). */
typedef struct mc_conn {
    struct mc_conn *prev, *next;
    sea_socket *s;
    const char *state;      /* memcached's name for what it does now */
    int64_t last_cmd;       /* the cache clock at its last request */
    char *in;
    size_t len, cap;
    size_t swallow;         /* bytes still to drop (a data block refused) */
    bool binary;            /* decided by its first byte, as memcached does */
    bool negotiated;
    bool tls_broken;        /* its TLS stream failed (or was cut): no close_notify at the end */
    sea_tls *tls;           /* with -Z: the connection's TLS, and its plaintext streams */
    sea_input_stream *tin;
    sea_output_stream *tout;
    mc_out out;
    mc_request req;
} mc_conn;

extern __thread mc_conn *mc_shard_conns;

/* Serves one TCP connection until the client leaves, quits or breaks the protocol beyond repair. */
sea_future mc_serve(sea_socket *s);

/*
 * Runs one parsed request (on the shards owning its keys) and appends its
 * answer to o; c, if not NULL, is the connection o belongs to, written to
 * when o grows large in the middle of a long answer.
 */
sea_future mc_answer(mc_request *r, mc_out *o, mc_conn *c);

/* Appends the answer to a stats request (any group, text or binary). */
sea_future mc_stats(const mc_request *r, mc_out *o);

/* Registers this shard's cache counters as metrics (the Prometheus endpoint shows what "stats" shows). */
int mc_stats_register_metrics(void);
void mc_stats_remove_metrics(void);

/* --snapshot-dir (snapshot.c): every shard loads its files (on start) or writes its items (on an orderly stop). */
sea_future mc_snapshot_load(void);
sea_future mc_snapshot_save(void);
/* True while this shard writes its snapshot: the reclaim hook then evicts nothing. */
extern __thread bool mc_snapshot_saving;

/*
 * TLS (tls.c).  mc_tls_configure reads -Z and -o into mc_config (on start,
 * before the shards serve); -EINVAL with the reason in why for an option
 * sea cannot honour.  mc_tls_start makes the credentials (on shard 0,
 * before the server starts) and takes SIGHUP; mc_tls_stop (in a fiber on
 * shard 0) frees them once no connection or reload uses them.
 */
int mc_tls_configure(bool enable, const char *extended, char *why, size_t whylen);
sea_future mc_tls_start(void);
sea_future mc_tls_stop(void);
/* The server's credentials with -Z (read-only pointer once the server has started), else NULL. */
extern sea_tls_creds *mc_tls_creds;
/* Failed TLS handshakes on this shard (memcached's ssl_handshake_errors). */
extern __thread uint64_t mc_tls_handshake_errors;
/* Seconds since the certificates were last loaded (memcached's time_since_server_cert_refresh). */
int64_t mc_tls_since_refresh(void);
/*
 * refresh_certs: reloads the certificate, key and CA files for every
 * shard's new connections (connections already open keep theirs).
 * Resolves when every shard uses them; fails with the reason, the old ones
 * kept, or -ENOTSUP without -Z.
 */
sea_future mc_tls_refresh(void);

/* Serves memcached's UDP framing on addr, on this shard, until mc_udp_stop; resolves when it has stopped. */
sea_future mc_udp_start(const sea_addr *addr);
/* Closes the UDP socket: the future mc_udp_start returned resolves. */
void mc_udp_stop(void);

#endif
