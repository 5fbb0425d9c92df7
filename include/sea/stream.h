/*
 * sea/stream.h - input and output streams over a socket.
 *
 * An input stream reads the socket in chunks and hands out the bytes as
 * temporary buffers (sea/buffer.h) without copying them again: read() gives
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
 * Memory per connection is bounded: the input stream holds at most one chunk
 * (default 8 KiB) of unread bytes, the output stream one batch (default
 * 8 KiB); large writes stay in the caller's memory until sent.
 *
 * One operation at a time per stream (-EBUSY otherwise); wait for each
 * future before the next call.  The socket must outlive its streams.
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

/* An input stream reading s in chunks of chunk bytes (0: 8 KiB).  NULL if out of memory. */
sea_input_stream *sea_input_stream_new(sea_socket *s, size_t chunk);
/* Frees in (and the bytes it holds).  Not while an operation is pending. */
void sea_input_stream_free(sea_input_stream *in);

/*
 * The operations below store their bytes in *out (which must stay valid
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
 * sea_input_consume(in, fn, capture): feeds the stream to
 *     sea_consumption fn(CAPTURE_TYPE *c, const char *data, size_t len)
 * chunk by chunk until it returns SEA_CONSUME_STOP; len == 0 means end of
 * stream (fn should stop).  Resolves with v.size = bytes used.
 */
#define sea_input_consume(in, fn, ...) \
    sea__input_consume((in), (sea__consume_fn)(fn), &(__VA_ARGS__), \
                       sizeof(__VA_ARGS__) + \
                           SEA__CHECK_FN(fn, sea_consumption (*)(__typeof__(__VA_ARGS__) *, const char *, size_t)))

/* An output stream on s with a batch of batch bytes (0: 8 KiB).  NULL if out of memory. */
sea_output_stream *sea_output_stream_new(sea_socket *s, size_t batch);
/* Frees out; unsent bytes are dropped (close first to send them). */
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
/* Flushes, then shuts the socket's write side down (the peer reads end of stream). */
sea_future sea_output_close(sea_output_stream *out) SEA_MUST_USE;

typedef sea_consumption (*sea__consume_fn)(void *cap, const char *data, size_t len);
sea_future sea__input_consume(sea_input_stream *in, sea__consume_fn fn, const void *cap, size_t capsz)
    SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
