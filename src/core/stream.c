/*
 * stream.c - input and output streams over data sources and sinks
 * (sea/stream.h).  What the bytes come from or go to (a socket, later TLS,
 * a file, an HTTP body) is the source's or sink's business; the streams
 * only buffer and parse.
 *
 * Input: the stream keeps the bytes it got but has not handed out yet
 * ("pending", a view into the source's last buffer).  Each operation is a
 * small state machine: try to finish from pending; if it cannot, get the
 * next buffer from the source and try again.  Buffers that arrive at once
 * are handled in a plain loop, so an operation that needs no waiting
 * returns a ready future; the first wait gets a continuation, and the
 * operation's promise is made then.
 *
 * Output: a batch buffer collects small writes; it goes to the sink when
 * full, on flush and on close.  Writes at least as large as the batch go to
 * the sink straight from the caller's memory after the batch.  The batch
 * is allocated at the first small write and freed again by a flush, so an
 * idle connection's stream holds no buffer (10,000 idle TLS connections
 * would otherwise hold 160 MiB of empty batches).
 */
#include <sea/promise.h>
#include <sea/stream.h>

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/panic.h"
#include "core/future.h"

#define DEFAULT_SIZE 8192

enum { OP_READ, OP_UP_TO, OP_EXACTLY, OP_SKIP, OP_CONSUME };

struct sea_input_stream {
    sea_data_source *src;
    sea_buf pending;      /* got from the source, not handed out yet */
    sea_buf rd;           /* where the source puts its next buffer */
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
    char why[160];        /* the source's failure message, passed on with its code */
    sea__fnptr fn;
    void *cap;            /* NULL: fn takes no capture */
};

sea_input_stream *sea_input_stream_from(sea_data_source *src) {
    if (!src)
        return NULL;
    sea_input_stream *in = calloc(1, sizeof(*in));
    if (!in) {
        src->ops->release(src);
        return NULL;
    }
    in->src = src;
    return in;
}

void sea_input_stream_free(sea_input_stream *in) {
    if (!in)
        return;
    if (in->busy)
        sea__panic("sea_input_stream_free while an operation is pending");
    sea_buf_release(&in->pending);
    in->src->ops->release(in->src);
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
            sea_consumption c =
                in->cap ? ((sea_consumption(*)(void *, const char *, size_t))in->fn)(in->cap, in->pending.data,
                                                                                      in->pending.len)
                        : ((sea_consumption(*)(const char *, size_t))in->fn)(in->pending.data, in->pending.len);
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

/* Takes the source's result (its buffer is in rd) into pending, or notes the end; returns 0 or the error. */
static int absorb(sea_input_stream *in, sea_future *r) {
    if (sea_future_failed(r)) {
        int err = sea_future_error(r);
        const char *msg = sea_future_message(r);
        snprintf(in->why, sizeof(in->why), "%s", msg ? msg : "");
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

static void finish(sea_input_stream *in, int err, size_t result);
static sea_future got_buffer(sea_input_stream **inp, sea_future *r);

/*
 * Runs the operation: 1 done (*result), 0 waiting (a continuation carries
 * on), <0 an error.
 */
static int run(sea_input_stream *in, size_t *result) {
    for (;;) {
        if (try_finish(in, result))
            return 1;
        sea_future r = in->src->ops->get(in->src, &in->rd);
        sea__future_settle(&r);
        if (!sea_future_available(&r)) {
            sea_future c = sea_then_wrapped(r, got_buffer, in);
            if (sea_future_failed(&c)) {
                int rc = sea_future_error(&c);
                sea_future_detach(c);
                return rc;
            }
            sea_future_detach(c);
            return 0;
        }
        int rc = absorb(in, &r);
        if (rc < 0)
            return rc;
    }
}

static void finish(sea_input_stream *in, int err, size_t result) {
    in->busy = false;
    sea_buf_release(&in->acc);
    if (err && in->why[0])
        sea_promise_set_error_fmt(&in->promise, err, "%s", in->why);
    else if (err)
        sea_promise_set_error(&in->promise, err, NULL);
    else
        sea_promise_set_value(&in->promise, (sea_value){.size = result});
    sea_promise_release(&in->promise);
}

/* The source's buffer (or its failure) arrived: carry on. */
static sea_future got_buffer(sea_input_stream **inp, sea_future *r) {
    sea_input_stream *in = *inp;
    size_t result = 0;
    int rc = absorb(in, r);
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
    in->why[0] = 0;
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
        if (rc > 0)
            return sea_ready_size(result);
        return in->why[0] ? sea_failed_fmt(rc, "%s", in->why) : sea_failed(rc, NULL);
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

static sea_future free_capture_copy(void **copy) {
    free(*copy);
    return sea_ready();
}

sea_future sea__input_consume(sea_input_stream *in, sea__fnptr fn, const void *cap, size_t capsz) {
    if (in->busy)
        return sea_failed(-EBUSY, "an operation is already pending on this input stream");
    /* The capture must live while the consumer may be called: keep a copy until done. */
    void *copy = NULL;
    if (cap) {
        copy = malloc(capsz ? capsz : 1);
        if (!copy)
            return sea_failed(-ENOMEM, "out of memory consuming a stream");
        memcpy(copy, cap, capsz);
    }
    in->fn = fn;
    in->cap = copy;
    sea_future f = start(in, OP_CONSUME, 0, NULL);
    if (sea_future_available(&f) || !copy) {
        free(copy);
        return f;
    }
    return sea_finally(f, free_capture_copy, copy);
}

/* ---- output ---- */

struct sea_output_stream {
    sea_data_sink *sink;
    sea_buf batch;        /* its bytes [0, used) wait to be sent; empty until a small write needs it */
    size_t batch_size;
    size_t used;
    sea_buf keep;         /* sea_output_write_buf's buffer, until its bytes are sent */
    bool busy;
    bool closed;
};

sea_output_stream *sea_output_stream_to(sea_data_sink *sink, size_t batch) {
    if (!sink)
        return NULL;
    sea_output_stream *out = calloc(1, sizeof(*out));
    if (!out) {
        sink->ops->release(sink);
        return NULL;
    }
    out->sink = sink;
    out->batch = SEA_BUF_EMPTY;
    out->batch_size = batch ? batch : DEFAULT_SIZE;
    return out;
}

void sea_output_stream_free(sea_output_stream *out) {
    if (!out)
        return;
    if (out->busy)
        sea__panic("sea_output_stream_free while a write is pending");
    sea_buf_release(&out->batch);
    out->sink->ops->release(out->sink);
    free(out);
}

/*
 * Hands len bytes at data to the sink: by reference when they lie in mem
 * and the sink keeps buffers (put_buf), else to be copied or sent before
 * the future resolves (put).
 */
static sea_future put(sea_output_stream *out, const void *data, size_t len, const sea_buf *mem) {
    const sea_data_sink_ops *ops = out->sink->ops;
    if (ops->put_buf && mem && mem->owner)
        return ops->put_buf(out->sink, sea_buf_slice(mem, (size_t)((const char *)data - mem->data), len));
    return ops->put(out->sink, data, len);
}

static sea_future batch_sent(sea_output_stream **outp, sea_future *in) {
    sea_output_stream *out = *outp;
    out->used = 0;
    out->busy = false;
    if (sea_buf_refs(&out->batch) > 1)
        sea_buf_release(&out->batch); /* the sink keeps it: the next write takes a new one */
    return sea_future_move(in);
}

/* Sends the batch; the stream is busy until the sink has it. */
static sea_future send_batch(sea_output_stream *out) {
    if (!out->used)
        return sea_ready();
    out->busy = true;
    return sea_then_wrapped(put(out, out->batch.data, out->used, &out->batch), batch_sent, out);
}

/* The rest of a write that did not fit: after the batch went out. */
struct rest {
    sea_output_stream *out;
    const char *data;
    size_t len;
};

static sea_future large_sent(sea_output_stream **outp, sea_future *in) {
    (*outp)->busy = false;
    sea_buf_release(&(*outp)->keep);
    return sea_future_move(in);
}

static sea_future write_rest(struct rest *r, sea_value v) {
    sea_output_stream *out = r->out;
    if (r->len >= out->batch_size) {
        /* Large: straight from the caller's memory (or the buffer's). */
        out->busy = true;
        return sea_then_wrapped(put(out, r->data, r->len, &out->keep), large_sent, out);
    }
    if (!out->batch.data && sea_buf_new(&out->batch, out->batch_size) < 0) { /* (the sink kept the last one) */
        sea_buf_release(&out->keep);
        return sea_failed(-ENOMEM, "no memory for an output stream's batch");
    }
    memcpy(out->batch.data, r->data, r->len);
    out->used = r->len;
    sea_buf_release(&out->keep);
    return sea_ready();
}

static sea_future release_on_error(sea_output_stream **outp, sea_future *in) {
    if (sea_future_failed(in))
        sea_buf_release(&(*outp)->keep); /* the batch could not be sent: write_rest never ran */
    return sea_future_move(in);
}

static sea_future write_common(sea_output_stream *out, const void *data, size_t len, sea_buf keep) {
    if (out->busy || out->closed) {
        sea_buf_release(&keep);
        return sea_failed(out->closed ? -EPIPE : -EBUSY,
                          out->closed ? "write after sea_output_close" : "a write is already pending on this stream");
    }
    if (len < out->batch_size && !out->batch.data && sea_buf_new(&out->batch, out->batch_size) < 0) {
        sea_buf_release(&keep);
        return sea_failed(-ENOMEM, "no memory for an output stream's batch");
    }
    if (len < out->batch_size - out->used) {
        memcpy(out->batch.data + out->used, data, len);
        out->used += len;
        sea_buf_release(&keep);
        return sea_ready();
    }
    out->keep = keep;
    struct rest r = {out, data, len};
    if (len < out->batch_size) {
        /* Fill the batch, send it, keep the rest for the next one. */
        size_t k = out->batch_size - out->used;
        memcpy(out->batch.data + out->used, data, k);
        out->used += k;
        r.data += k;
        r.len -= k;
    }
    return sea_then_wrapped(sea_then(send_batch(out), write_rest, r), release_on_error, out);
}

sea_future sea_output_write(sea_output_stream *out, const void *data, size_t len) {
    return write_common(out, data, len, SEA_BUF_EMPTY);
}

sea_future sea_output_write_buf(sea_output_stream *out, sea_buf b) {
    return write_common(out, b.data, b.len, b);
}

static sea_future flushed(sea_output_stream **outp, sea_future *in) {
    sea_output_stream *out = *outp;
    if (!out->busy && !out->used)
        sea_buf_release(&out->batch); /* (a write made while the flush was on its way keeps it) */
    return sea_future_move(in);
}

sea_future sea_output_flush(sea_output_stream *out) {
    if (out->busy)
        return sea_failed(-EBUSY, "a write is already pending on this stream");
    if (!out->used) {
        sea_buf_release(&out->batch);
        return sea_ready();
    }
    return sea_then_wrapped(send_batch(out), flushed, out);
}

static sea_future end_sink(sea_output_stream **outp, sea_value v) {
    (void)v;
    return (*outp)->sink->ops->end((*outp)->sink);
}

sea_future sea_output_close(sea_output_stream *out) {
    if (out->closed)
        return sea_ready();
    sea_future f = sea_output_flush(out);
    out->closed = true;
    return sea_then(f, end_sink, out);
}
