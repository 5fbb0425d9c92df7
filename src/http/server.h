/*
 * http/server.h - a small HTTP/1.1 server for sea's own endpoints (the
 * Prometheus one): one request per connection, a handler that answers it.
 *
 * The server reads a request head (at most 8 KiB), parses it (request.h),
 * answers malformed or oversized ones with 400 itself, and hands good ones
 * to the handler, which fills a response (status, content type, body) and
 * returns a future that resolves when it has.  Then the response goes out,
 * the write side is shut down, and what the client still sends is read and
 * dropped until it closes: closing a socket with unread bytes would reset
 * the connection and could destroy the response before the client read it.
 *
 * Every connection has a timeout for sending its request, and the same
 * again for taking its response; past it the socket is shut down, which
 * ends whatever is pending.  Past max_connections, a new connection is
 * closed at once.  Stopping closes the listener, shuts every connection
 * down and resolves once they are gone.
 *
 * The full HTTP library (keep-alive, bodies, routing) is a later step; this
 * is enough to serve a handful of fixed resources safely.
 */
#ifndef SEA_HTTP_SERVER_H
#define SEA_HTTP_SERVER_H

#include <stddef.h>

#include <sea/buffer.h>
#include <sea/future.h>
#include <sea/net.h>
#include <sea/timer.h>

#include "http/request.h"

/* What the handler answers. */
struct sea__http_response {
    int status;               /* 200, 404, ... */
    const char *content_type; /* a 200's; NULL: text/plain; charset=utf-8 */
    sea_buf body;             /* a 200's body (the server releases it) */
    const char *error;        /* other statuses: a line of text for the body */
    const char *allow;        /* 405: the Allow header's value */
};

/*
 * Answers req by filling resp; the future resolves when resp is complete
 * (a failure becomes 500 with the failure's message).  Runs on the server's
 * shard; resp stays valid until then.
 */
typedef sea_future (*sea__http_handler)(void *arg, const struct sea__http_request *req,
                                        struct sea__http_response *resp);

struct sea__http_server_options {
    sea_time timeout;         /* for the request, and again for the response; 0: 10 s */
    unsigned max_connections; /* 0: 64 */
};

struct sea__http_server;

/*
 * Listens on addr and serves every connection with handler(arg, ...) on the
 * current shard.  opts may be NULL.  Returns 0 with *out set, or the
 * listen's -errno, or -ENOMEM.
 */
int sea__http_server_start(const sea_addr *addr, const struct sea__http_server_options *opts,
                           sea__http_handler handler, void *arg, struct sea__http_server **out);
/* The bound address (the chosen port, for port 0). */
sea_addr sea__http_server_addr(const struct sea__http_server *srv);
/* Stops serving; resolves once every connection is gone, and frees srv. */
sea_future sea__http_server_stop(struct sea__http_server *srv) SEA_MUST_USE;

#endif
