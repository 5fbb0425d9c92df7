/*
 * stream.c - input and output streams (sea/stream.h).
 *
 * Input: the stream keeps the bytes read but not yet handed out ("pending",
 * a view into the last chunk).  Each operation is a small state machine:
 * try to finish from pending; if it cannot, read the next chunk and try
 * again.  A chunk is allocated only to read what is already there: when
 * nothing is, the stream waits for the socket to become readable holding no
 * buffer, so an idle connection costs no chunk.  Reads that complete at once
 * are handled in a plain loop, so an operation that needs no waiting returns
 * a ready future; the first wait gets a continuation, and the operation's
 * promise is made then.
 *
 * Output: a batch buffer collects small writes; it is sent when full, on
 * flush and on close, with one sea_socket_write.  Writes at least as large as
 * the batch go straight from the caller's memory after the batch is sent.
 */
#include <sea/promise.h>
#include <sea/stream.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/panic.h"
#include "core/future.h"

#define DEFAULT_SIZE 8192

enum { OP_READ, OP_UP_TO, OP_EXACTLY, OP_SKIP, OP_CONSUME };

struct sea_input_stream {
    sea_socket *s;
    size_t chunk;
    sea_buf pending;      /* read, not handed out yet */
    sea_buf rd;           /* the chunk being read into */
    bool eof;
    bool busy;
    bool has_promise;
    sea_promise promise;
    /* the operation */
    int op;
    size_t want, have;
    sea_buf acc;          /* read_exactly: bytes gathered so far */
    sea_buf *out;
    size_t skip_left;     /* consume: bytes a SKIP still has to drop */
    sea__consume_fn fn;
    void *cap;
};

sea_input_stream *sea_input_stream_new(sea_socket *s, size_t chunk) {
    sea_input_stream *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    in->s = s;
    in->chunk = chunk ? chunk : DEFAULT_SIZE;
    return in;
}

void sea_input_stream_free(sea_input_stream *in) {
    if (!in)
        return;
    if (in->busy)
        sea__panic("sea_input_stream_free while an operation is pending");
    sea_buf_release(&in->pending);
    free(in);
}

/* Drops up to n pending bytes; returns how many. */
static size_t drop(sea_input_stream *in, size_t n) {
    size_t k = n < in->pending.len ? n : in->pending.len;
    sea_buf_trim_front(&in->pending, k);
    if (!in->pending.len)
        sea_buf_release(&in->pending);
    return k;
}

/* Tries to finish the operation from what is pending; true when done (*result set). */
static bool try_finish(sea_input_stream *in, size_t *result) {
    switch (in->op) {
    case OP_READ:
    case OP_UP_TO:
        if (in->pending.len) {
            size_t n = in->op == OP_READ || in->want > in->pending.len ? in->pending.len : in->want;
            *in->out = sea_buf_slice(&in->pending, 0, n);
            drop(in, n);
            *result = n;
            return true;
        }
        if (in->eof) {
            *in->out = SEA_BUF_EMPTY;
            *result = 0;
            return true;
        }
        return false;
    case OP_EXACTLY:
        if (!in->acc.owner && in->pending.len >= in->want) {
            *in->out = sea_buf_slice(&in->pending, 0, in->want);
            drop(in, in->want);
            *result = in->want;
            return true;
        }
        if (in->pending.len) {
            size_t k = in->want - in->have < in->pending.len ? in->want - in->have : in->pending.len;
            memcpy(in->acc.data + in->have, in->pending.data, k);
            in->have += k;
            drop(in, k);
        }
        if (in->have == in->want || in->eof) {
            sea_buf_trim(&in->acc, in->have);
            if (in->have)
                *in->out = in->acc; /* the caller's now */
            else
                sea_buf_release(&in->acc); /* nothing came: an empty buffer, nothing to release */
            in->acc = SEA_BUF_EMPTY;
            *result = in->have;
            return true;
        }
        return false;
    case OP_SKIP:
        in->have += drop(in, in->want - in->have);
        if (in->have == in->want || in->eof) {
            *result = in->have;
            return true;
        }
        return false;
    default: /* OP_CONSUME */
        for (;;) {
            if (in->skip_left) {
                in->skip_left -= drop(in, in->skip_left);
                if (in->skip_left && !in->eof)
                    return false;
            }
            if (!in->pending.len && !in->eof)
                return false;
            sea_consumption c = in->fn(in->cap, in->pending.data, in->pending.len);
            if (c.action == SEA_CONSUME_STOP || !in->pending.len) {
                size_t used = c.action == SEA_CONSUME_STOP ? drop(in, c.n) : 0;
                *result = in->have + used;
                return true;
            }
            in->have += in->pending.len;
            drop(in, in->pending.len);
            if (c.action == SEA_CONSUME_SKIP)
                in->skip_left = c.n;
        }
    }
}

/* Takes a read's result into pending (or eof); returns 0 or the error. */
static int absorb(sea_input_stream *in, sea_future *r) {
    if (sea_future_failed(r)) {
        int err = sea_future_error(r);
        sea_future_detach(sea_future_move(r));
        sea_buf_release(&in->rd);
        return err;
    }
    size_t n = sea_future_value(r).size;
    sea_future_detach(sea_future_move(r));
    if (n == 0) {
        in->eof = true;
        sea_buf_release(&in->rd);
    } else {
        sea_buf_trim(&in->rd, n);
        in->pending = in->rd;
        in->rd = SEA_BUF_EMPTY;
    }
    return 0;
}

struct in_ref {
    sea_input_stream *in;
};

static void finish(sea_input_stream *in, int err, size_t result);
static sea_future read_arrived(struct in_ref *ref, sea_future *r);

/*
 * Runs the operation: 1 done (*result), 0 waiting (a continuation carries
 * on), <0 an error.
 */
static int run(sea_input_stream *in, size_t *result) {
    for (;;) {
        if (try_finish(in, result))
            return 1;
        /* Try to read now; only if nothing is there, wait without holding a chunk. */
        int rc = sea_buf_new(&in->rd, in->chunk);
        if (rc < 0)
            return rc;
        long n = sea_socket_try_read(in->s, in->rd.data, in->rd.len);
        if (n == -EAGAIN) {
            sea_buf_release(&in->rd);
            sea_future r = sea_socket_wait_readable(in->s);
            sea__future_settle(&r);
            if (!sea_future_available(&r)) {
                sea_future c = sea_then_wrapped(r, read_arrived, (struct in_ref){in});
                if (sea_future_failed(&c)) {
                    rc = sea_future_error(&c);
                    sea_future_detach(c);
                    return rc;
                }
                sea_future_detach(c);
                return 0;
            }
            rc = sea_future_failed(&r) ? sea_future_error(&r) : 0;
            sea_future_detach(r);
            if (rc < 0)
                return rc;
            continue;
        }
        if (n < 0) {
            sea_buf_release(&in->rd);
            return (int)n;
        }
        sea_future got = sea_ready_size((size_t)n);
        rc = absorb(in, &got);
        if (rc < 0)
            return rc;
    }
}

static void finish(sea_input_stream *in, int err, size_t result) {
    in->busy = false;
    sea_buf_release(&in->acc);
    if (err)
        sea_promise_set_error(&in->promise, err, NULL);
    else
        sea_promise_set_value(&in->promise, (sea_value){.size = result});
    sea_promise_release(&in->promise);
}

/* The socket became readable (or failed): carry on. */
static sea_future read_arrived(struct in_ref *ref, sea_future *r) {
    sea_input_stream *in = ref->in;
    size_t result = 0;
    int rc = sea_future_failed(r) ? sea_future_error(r) : 0;
    if (rc == 0) {
        rc = run(in, &result);
        if (rc == 0)
            return sea_ready(); /* waiting again */
    }
    finish(in, rc < 0 ? rc : 0, result);
    return sea_ready();
}

static sea_future start(sea_input_stream *in, int op, size_t want, sea_buf *out) {
    if (in->busy)
        return sea_failed(-EBUSY, "an operation is already pending on this input stream");
    in->op = op;
    in->want = want;
    in->have = 0;
    in->out = out;
    in->skip_left = 0;
    if (out)
        *out = SEA_BUF_EMPTY;
    if (op == OP_EXACTLY && in->pending.len < want) {
        int rc = sea_buf_new(&in->acc, want);
        if (rc < 0)
            return sea_failed(rc, "out of memory reading from a stream");
    }
    size_t result = 0;
    in->busy = true;
    int rc = run(in, &result);
    if (rc != 0) {
        in->busy = false;
        sea_buf_release(&in->acc);
        return rc > 0 ? sea_ready_size(result) : sea_failed(rc, NULL);
    }
    /* Waiting: the continuation that carries on runs from the reactor, after this returns. */
    sea_promise_init(&in->promise);
    return sea_promise_get_future(&in->promise);
}

sea_future sea_input_read(sea_input_stream *in, sea_buf *out) {
    return start(in, OP_READ, 0, out);
}

sea_future sea_input_read_exactly(sea_input_stream *in, size_t n, sea_buf *out) {
    if (n == 0) {
        *out = SEA_BUF_EMPTY;
        return sea_ready_size(0);
    }
    return start(in, OP_EXACTLY, n, out);
}

sea_future sea_input_read_up_to(sea_input_stream *in, size_t n, sea_buf *out) {
    if (n == 0) {
        *out = SEA_BUF_EMPTY;
        return sea_ready_size(0);
    }
    return start(in, OP_UP_TO, n, out);
}

sea_future sea_input_skip(sea_input_stream *in, size_t n) {
    if (n == 0)
        return sea_ready_size(0);
    return start(in, OP_SKIP, n, NULL);
}

struct capture_copy {
    void *p;
};

static sea_future free_capture_copy(struct capture_copy *c) {
    free(c->p);
    return sea_ready();
}

sea_future sea__input_consume(sea_input_stream *in, sea__consume_fn fn, const void *cap, size_t capsz) {
    if (in->busy)
        return sea_failed(-EBUSY, "an operation is already pending on this input stream");
    /* The capture must live while the consumer may be called: keep a copy until done. */
    void *copy = malloc(capsz ? capsz : 1);
    if (!copy)
        return sea_failed(-ENOMEM, "out of memory consuming a stream");
    memcpy(copy, cap, capsz);
    in->fn = fn;
    in->cap = copy;
    sea_future f = start(in, OP_CONSUME, 0, NULL);
    if (sea_future_available(&f)) {
        free(copy);
        return f;
    }
    return sea_finally(f, free_capture_copy, (struct capture_copy){copy});
}

/* ---- output ---- */

struct sea_output_stream {
    sea_socket *s;
    sea_buf batch;        /* its bytes [0, used) wait to be sent */
    size_t used;
    sea_buf keep;         /* sea_output_write_buf's buffer, until its bytes are sent */
    bool busy;
    bool closed;
};

sea_output_stream *sea_output_stream_new(sea_socket *s, size_t batch) {
    sea_output_stream *out = calloc(1, sizeof(*out));
    if (!out)
        return NULL;
    if (sea_buf_new(&out->batch, batch ? batch : DEFAULT_SIZE) < 0) {
        free(out);
        return NULL;
    }
    out->s = s;
    return out;
}

void sea_output_stream_free(sea_output_stream *out) {
    if (!out)
        return;
    if (out->busy)
        sea__panic("sea_output_stream_free while a write is pending");
    sea_buf_release(&out->batch);
    free(out);
}

struct out_ref {
    sea_output_stream *out;
};

static sea_future batch_sent(struct out_ref *r, sea_future *in) {
    r->out->used = 0;
    r->out->busy = false;
    return sea_future_move(in);
}

/* Sends the batch; the stream is busy until the kernel has it. */
static sea_future send_batch(sea_output_stream *out) {
    if (!out->used)
        return sea_ready();
    out->busy = true;
    return sea_then_wrapped(sea_socket_write(out->s, out->batch.data, out->used), batch_sent, (struct out_ref){out});
}

/* The rest of a write that did not fit: after the batch went out. */
struct rest {
    sea_output_stream *out;
    const char *data;
    size_t len;
};

static sea_future large_sent(struct out_ref *r, sea_future *in) {
    r->out->busy = false;
    sea_buf_release(&r->out->keep);
    return sea_future_move(in);
}

static sea_future write_rest(struct rest *r, sea_value v) {
    sea_output_stream *out = r->out;
    if (r->len >= out->batch.len) {
        /* Large: straight from the caller's memory (or the buffer's). */
        out->busy = true;
        return sea_then_wrapped(sea_socket_write(out->s, r->data, r->len), large_sent, (struct out_ref){out});
    }
    memcpy(out->batch.data, r->data, r->len);
    out->used = r->len;
    sea_buf_release(&out->keep);
    return sea_ready();
}

static sea_future release_on_error(struct out_ref *r, sea_future *in) {
    if (sea_future_failed(in))
        sea_buf_release(&r->out->keep); /* the batch could not be sent: write_rest never ran */
    return sea_future_move(in);
}

static sea_future write_common(sea_output_stream *out, const void *data, size_t len, sea_buf keep) {
    if (out->busy || out->closed) {
        sea_buf_release(&keep);
        return sea_failed(out->closed ? -EPIPE : -EBUSY,
                          out->closed ? "write after sea_output_close" : "a write is already pending on this stream");
    }
    if (len < out->batch.len - out->used) {
        memcpy(out->batch.data + out->used, data, len);
        out->used += len;
        sea_buf_release(&keep);
        return sea_ready();
    }
    out->keep = keep;
    struct rest r = {out, data, len};
    if (len < out->batch.len) {
        /* Fill the batch, send it, keep the rest for the next one. */
        size_t k = out->batch.len - out->used;
        memcpy(out->batch.data + out->used, data, k);
        out->used += k;
        r.data += k;
        r.len -= k;
    }
    return sea_then_wrapped(sea_then(send_batch(out), write_rest, r), release_on_error, (struct out_ref){out});
}

sea_future sea_output_write(sea_output_stream *out, const void *data, size_t len) {
    return write_common(out, data, len, SEA_BUF_EMPTY);
}

sea_future sea_output_write_buf(sea_output_stream *out, sea_buf b) {
    return write_common(out, b.data, b.len, b);
}

sea_future sea_output_flush(sea_output_stream *out) {
    if (out->busy)
        return sea_failed(-EBUSY, "a write is already pending on this stream");
    return send_batch(out);
}

static sea_future shut_write_side(struct out_ref *r, sea_value v) {
    int rc = sea_socket_shutdown(r->out->s, SHUT_WR);
    return rc < 0 ? sea_failed(rc, "shutting the write side down") : sea_ready();
}

sea_future sea_output_close(sea_output_stream *out) {
    if (out->closed)
        return sea_ready();
    sea_future f = sea_output_flush(out);
    out->closed = true;
    return sea_then(f, shut_write_side, (struct out_ref){out});
}
