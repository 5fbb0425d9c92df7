/*
 * socket_stream.c - a socket as a data source and a data sink, so that
 * streams (sea/stream.h) can run over it: sea_input_stream_new and
 * sea_output_stream_new.
 *
 * The source allocates a chunk only to read what is already there: when
 * nothing is, it waits for the socket to become readable holding no
 * buffer, so an idle connection costs no chunk.  On the native stack it
 * allocates nothing: it hands on TCP's own buffers, the received frames'
 * memory for large segments (sea_socket_try_read_buf).  The sink is the socket's
 * write; its end shuts the write side down.
 */
#include <sea/net.h>
#include <sea/promise.h>
#include <sea/stream.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/future.h"

#define DEFAULT_CHUNK 8192

struct socket_source {
    sea_data_source base;
    sea_socket *s;
    size_t chunk;
    sea_buf *out;        /* where the get that had to wait stores its bytes */
    sea_promise promise; /* ... and its result */
};

/*
 * One try: n > 0 bytes in *out, 0 at the end, -EAGAIN when nothing is there
 * yet, or the error.  (On the native stack the buffer is TCP's own, no copy.)
 */
static long try_get(struct socket_source *src, sea_buf *out) {
    return sea_socket_try_read_buf(src->s, src->chunk, out);
}

/* The socket became readable (or failed) while a get waited: try again, or wait again. */
static sea_future readable(struct socket_source **srcp, sea_future *in) {
    struct socket_source *src = *srcp;
    long n = sea_future_failed(in) ? sea_future_error(in) : try_get(src, src->out);
    if (n == -EAGAIN) /* woken, but nothing to read after all */
        return sea_then_wrapped(sea_socket_wait_readable(src->s), readable, src);
    if (n < 0)
        sea_promise_set_error(&src->promise, (int)n, NULL);
    else
        sea_promise_set_value(&src->promise, (sea_value){.size = (size_t)n});
    sea_promise_release(&src->promise);
    return sea_ready();
}

static sea_future source_get(sea_data_source *base, sea_buf *out) {
    struct socket_source *src = (struct socket_source *)base;
    *out = SEA_BUF_EMPTY;
    for (;;) {
        long n = try_get(src, out);
        if (n >= 0)
            return sea_ready_size((size_t)n);
        if (n != -EAGAIN)
            return sea_failed((int)n, NULL);
        /* Nothing there yet: wait for it without holding a chunk. */
        sea_future r = sea_socket_wait_readable(src->s);
        sea__future_settle(&r);
        if (sea_future_available(&r)) {
            int err = sea_future_failed(&r) ? sea_future_error(&r) : 0;
            sea_future_detach(r);
            if (err)
                return sea_failed(err, NULL);
            continue;
        }
        src->out = out;
        sea_promise_init(&src->promise);
        sea_future f = sea_promise_get_future(&src->promise);
        if (sea_future_failed(&f)) {
            sea_promise_release(&src->promise);
            sea_future_detach(r);
            return f;
        }
        sea_future c = sea_then_wrapped(r, readable, src);
        if (sea_future_failed(&c)) {
            /* No memory to wait: that is the result. */
            sea_promise_forward(&src->promise, c);
            sea_promise_release(&src->promise);
        } else {
            sea_future_detach(c);
        }
        return f;
    }
}

static void source_release(sea_data_source *base) {
    free(base);
}

static const sea_data_source_ops source_ops = {.get = source_get, .release = source_release};

sea_input_stream *sea_input_stream_new(sea_socket *s, size_t chunk) {
    struct socket_source *src = calloc(1, sizeof(*src));
    if (!src)
        return NULL;
    src->base.ops = &source_ops;
    src->s = s;
    src->chunk = chunk ? chunk : DEFAULT_CHUNK;
    return sea_input_stream_from(&src->base);
}

struct socket_sink {
    sea_data_sink base;
    sea_socket *s;
};

static sea_future sink_put(sea_data_sink *base, const void *data, size_t len) {
    return sea_socket_write(((struct socket_sink *)base)->s, data, len);
}

static sea_future sink_put_buf(sea_data_sink *base, sea_buf b) {
    return sea_socket_write_buf(((struct socket_sink *)base)->s, b);
}

static sea_future sink_end(sea_data_sink *base) {
    int rc = sea_socket_shutdown(((struct socket_sink *)base)->s, SHUT_WR);
    return rc < 0 ? sea_failed(rc, "shutting the write side down") : sea_ready();
}

static void sink_release(sea_data_sink *base) {
    free(base);
}

static const sea_data_sink_ops sink_ops = {.put = sink_put, .end = sink_end, .release = sink_release,
                                           .put_buf = sink_put_buf};

sea_output_stream *sea_output_stream_new(sea_socket *s, size_t batch) {
    struct socket_sink *sink = calloc(1, sizeof(*sink));
    if (!sink)
        return NULL;
    sink->base.ops = &sink_ops;
    sink->s = s;
    return sea_output_stream_to(&sink->base, batch);
}
