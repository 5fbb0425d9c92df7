/*
 * http/local.h - an HTTP server on the current shard only (local.c), for
 * sea's own endpoints: the Prometheus one runs on shard 0.
 */
#ifndef SEA_HTTP_LOCAL_H
#define SEA_HTTP_LOCAL_H

#include "http/http.h"

struct sea__http_local;

/*
 * Listens on addr and serves routes on the current shard, at most
 * max_connections at once (0: 64; one more is closed at once).  opts may
 * be NULL.  0 with *out set, the listen's -errno, or -ENOMEM.  routes must
 * outlive the server.
 */
int sea__http_local_start(const sea_addr *addr, const sea_http_server_options *opts, unsigned max_connections,
                          const sea_http_routes *routes, struct sea__http_local **out);
/* The bound address (the chosen port, for port 0). */
sea_addr sea__http_local_addr(const struct sea__http_local *srv);
/* Stops serving; resolves once every connection is gone, and frees srv. */
sea_future sea__http_local_stop(struct sea__http_local *srv) SEA_MUST_USE;

#endif
