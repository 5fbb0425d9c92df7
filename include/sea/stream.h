/*
 * sea/stream.h - input and output streams, over data sources and sinks.
 *
 * A stream reads from a data source or writes to a data sink: a small
 * table of functions that a socket implements (sea_input_stream_new and
 * sea_output_stream_new make streams over a sea_socket), and so can
 * anything that produces or consumes bytes (an encrypted connection, a
 * file, an HTTP body, bytes in memory): a stream over a stream.
 *
 * An input stream gets the bytes in buffers from its source and hands them
 * out as temporary buffers (sea/buffer.h) without copying them again: read() gives
 * whatever arrived, read_exactly(n) exactly n bytes (fewer only at end of
 * stream), read_up_to(n) at most n, skip(n) drops n, and consume() feeds the
 * bytes to a parser that says how much it used.
 *
 * An output stream copies small writes into a batch buffer and sends it when
 * it fills, on flush() or on close(); writes as large as the batch are sent
 * from the caller's memory without a copy.  A write's future resolves when
 * the stream can take the next one, so a peer that reads slowly holds the
 * writer back (back-pressure).
 *
 * Memory per connection is bounded: over a socket, the input stream holds at
 * most one chunk (default 8 KiB) of unread bytes and none while it waits,
 * the output stream one batch (default 8 KiB); large writes stay in the
 * caller's memory until sent.
 *
 * One operation at a time per stream (-EBUSY otherwise); wait for each
 * future before the next call.  A socket must outlive its streams.
 */
#ifndef SEA_STREAM_H
#define SEA_STREAM_H

#include <stddef.h>

#include <sea/buffer.h>
#include <sea/future.h>
#include <sea/net.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_input_stream sea_input_stream;
typedef struct sea_output_stream sea_output_stream;

/* ---- sources and sinks: what a stream reads from and writes to ---- */

typedef struct sea_data_source sea_data_source;
typedef struct sea_data_sink sea_data_sink;

typedef struct sea_data_source_ops {
    /*
     * The next bytes: stores them in *out (a buffer the stream then owns)
     * and resolves with v.size = out->len, or with 0 (and an empty *out) at
     * the end of the data; fails with the reason it cannot.  Called again
     * only once the previous future has resolved.
     */
    sea_future (*get)(sea_data_source *src, sea_buf *out);
    /* Frees the source; no get is pending.  (A socket's source leaves the socket open.) */
    void (*release)(sea_data_source *src);
} sea_data_source_ops;

/* Embed this first in your source's struct; ops stays valid while the source lives. */
struct sea_data_source {
    const sea_data_source_ops *ops;
};

typedef struct sea_data_sink_ops {
    /*
     * Takes len bytes at data, which stay valid until the future resolves;
     * resolves (v.size = len) once the sink has them all and data may be
     * reused.  Called again only once the previous future has resolved.
     */
    sea_future (*put)(sea_data_sink *sink, const void *data, size_t len);
    /* No more data: resolves once the end is passed on (a socket shuts its write side down). */
    sea_future (*end)(sea_data_sink *sink);
    /* Frees the sink; nothing is pending.  (A socket's sink leaves the socket open.) */
    void (*release)(sea_data_sink *sink);
    /*
     * Optional (NULL: put is used): takes b's bytes and b's reference, for a
     * sink that can keep them instead of copying them (a socket on sea's own
     * stack: TCP sends from them); the bytes are not changed while the sink
     * holds a reference.  Resolves (v.size = b.len) once the sink has them.
     */
    sea_future (*put_buf)(sea_data_sink *sink, sea_buf b);
} sea_data_sink_ops;

/* Embed this first in your sink's struct; ops stays valid while the sink lives. */
struct sea_data_sink {
    const sea_data_sink_ops *ops;
};

/* An input stream reading src, which it owns from now on (released with the stream, or at once on failure).  NULL if out of memory. */
sea_input_stream *sea_input_stream_from(sea_data_source *src);
/* An output stream writing to sink with a batch of batch bytes (0: 8 KiB); owns sink as above.  NULL if out of memory. */
sea_output_stream *sea_output_stream_to(sea_data_sink *sink, size_t batch);

/* ---- over a socket ---- */

/* An input stream reading s in chunks of chunk bytes (0: 8 KiB).  NULL if out of memory. */
sea_input_stream *sea_input_stream_new(sea_socket *s, size_t chunk);
/* An output stream on s with a batch of batch bytes (0: 8 KiB).  NULL if out of memory. */
sea_output_stream *sea_output_stream_new(sea_socket *s, size_t batch);

/* ---- reading ---- */

/*
 * Frees in (and the bytes it holds), and releases its source.  NULL is
 * allowed (does nothing).  Not while an operation is pending.
 */
void sea_input_stream_free(sea_input_stream *in);

/*
 * The reading operations below store their bytes in *out (which must stay valid
 * until the future resolves; release it with sea_buf_release) and resolve
 * with v.size = out->len.  Read failures (-ECONNRESET...) fail the future.
 */
/* Whatever is there (at least one byte), or an empty buffer at end of stream. */
sea_future sea_input_read(sea_input_stream *in, sea_buf *out) SEA_MUST_USE;
/* Exactly n bytes, fewer only when the stream ends first. */
sea_future sea_input_read_exactly(sea_input_stream *in, size_t n, sea_buf *out) SEA_MUST_USE;
/* Between 1 and n bytes (0 at end of stream). */
sea_future sea_input_read_up_to(sea_input_stream *in, size_t n, sea_buf *out) SEA_MUST_USE;
/* Drops n bytes; resolves with v.size = how many (fewer at end of stream). */
sea_future sea_input_skip(sea_input_stream *in, size_t n) SEA_MUST_USE;

/* What a consumer did with the bytes it was given. */
typedef struct sea_consumption {
    int action;  /* SEA_CONSUME_MORE, SEA_CONSUME_STOP or SEA_CONSUME_SKIP */
    size_t n;    /* STOP: bytes used (the rest stays unread); SKIP: bytes to drop after these */
} sea_consumption;
enum { SEA_CONSUME_MORE, SEA_CONSUME_STOP, SEA_CONSUME_SKIP };

/*
 * sea_input_consume(in, fn [, capture]): feeds the stream to
 *     sea_consumption fn(T *capture, const char *data, size_t len)    (or fn(const char *data, size_t len))
 * chunk by chunk until it returns SEA_CONSUME_STOP; len == 0 means end of
 * stream (fn should stop).  Resolves with v.size = bytes used.
 */
#define sea_input_consume(in, ...) SEA__CAPTURE_DISPATCH(sea__consume_m, __VA_ARGS__)(in, __VA_ARGS__)
#define sea__consume_m0(in, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_consumption (*)(const char *, size_t)), \
                    "sea_input_consume: " #fn " must be  sea_consumption " #fn \
                    "(const char *data, size_t len)  (no capture was given)", \
                    sea__input_consume((in), (sea__fnptr)(fn), NULL, 0))
#define sea__consume_m1(in, fn, ...) sea__consume_c(SEA__UNIQUE(sea__cap), in, fn, __VA_ARGS__)
#define sea__consume_c(c, in, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_consumption (*)(__typeof__(c) *, const char *, size_t)), \
                  "sea_input_consume: " #fn " must be  sea_consumption " #fn \
                  "(T *capture, const char *data, size_t len)" SEA__T_IS(__VA_ARGS__), \
                  sea__input_consume((in), (sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)

/* ---- writing ---- */

/*
 * Frees out and releases its sink; unsent bytes are dropped (close first to
 * send them).  NULL is allowed (does nothing).
 */
void sea_output_stream_free(sea_output_stream *out);
/*
 * Writes len bytes; data must stay valid until the future resolves.  A write
 * that fits in the batch is copied and resolves at once; one that does not
 * waits for the batch to be sent; one as large as the batch is then sent
 * from data itself, without a copy.
 */
sea_future sea_output_write(sea_output_stream *out, const void *data, size_t len) SEA_MUST_USE;
/* Writes b's bytes, taking the reference (released once sent; large ones are not copied). */
sea_future sea_output_write_buf(sea_output_stream *out, sea_buf b) SEA_MUST_USE;
/* Sends what is batched; resolves when the kernel has it. */
sea_future sea_output_flush(sea_output_stream *out) SEA_MUST_USE;
/* Flushes, then ends the sink (a socket's write side shuts down: the peer reads end of stream). */
sea_future sea_output_close(sea_output_stream *out) SEA_MUST_USE;

sea_future sea__input_consume(sea_input_stream *in, sea__fnptr fn, const void *cap, size_t capsz)
    SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
