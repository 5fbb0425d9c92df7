/*
 * transport.c - what the HTTP server's connections (HTTP/1.1 in conn.c,
 * HTTP/2 in h2.c) and the client share below HTTP: reading and writing a
 * TLS connection's streams as one reads and writes a socket, and the
 * "http" logger.  In a file of its own so that conn.c and h2.c, which call
 * each other's entry points, do not also depend on each other for these.
 */
#include "http/http.h"

#include <sea/log.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

SEA_LOGGER(sea__http_log, "http");

struct tls_read {
    char *dst;
    sea_buf got;
};

static sea_future tls_read_done(struct tls_read **rp, sea_future *in) {
    struct tls_read *r = *rp;
    sea_future out;
    if (sea_future_failed(in)) {
        out = sea_future_move(in);
    } else {
        size_t n = r->got.len;
        if (n)
            memcpy(r->dst, r->got.data, n);
        sea_buf_release(&r->got);
        out = sea_ready_size(n);
    }
    free(r);
    return out;
}

sea_future sea__http_stream_read(sea_input_stream *in, char *buf, size_t len) {
    struct tls_read *r = malloc(sizeof(*r));
    if (!r)
        return sea_failed(-ENOMEM, "no memory to read");
    *r = (struct tls_read){buf, SEA_BUF_EMPTY};
    return sea_then_wrapped(sea_input_read_up_to(in, len, &r->got), tls_read_done, r);
}

static sea_future tls_written(sea_output_stream **outp, sea_value v) {
    (void)v;
    return sea_output_flush(*outp);
}

sea_future sea__http_stream_send(sea_output_stream *out, const void *data, size_t len) {
    return sea_then(sea_output_write(out, data, len), tls_written, out);
}
