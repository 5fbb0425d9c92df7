/*
 * fstream.c - file streams: a data source that reads a file ahead of its
 * reader and a data sink that writes behind its writer, so the input and
 * output streams of sea/stream.h work on files as on sockets (a file is
 * copied to a socket, or a socket to a file, by the same code).
 *
 * The source keeps up to `ahead` DMA reads of buffer_size in flight, in
 * file order, and hands each buffer to the stream as it completes, without
 * a copy (the stream owns it and frees it).  A read that comes back short
 * is the end of the file: none is issued after it.  A start offset that is
 * not aligned is read from the block before it, and the bytes before it
 * dropped.
 *
 * The sink copies what it is given into aligned buffers of buffer_size;
 * each full buffer is written while the writer goes on, with at most
 * `ahead` writes in flight (a put waits for one to end when that many
 * are).  The end writes the last partial buffer, padded with zeros to the
 * write alignment on a direct file, waits for every write, and truncates
 * the file to the bytes actually given (the padding goes, and so does the
 * tail of an older, longer file).  The first write that fails fails every
 * later put and the end.  A write may end inside the call that started it
 * (the epoll backend makes a request AIO refuses at once), so the sink is
 * moved on by one function, drive(), that such an ending does not
 * re-enter.
 */
#include "disk/disk.h"

#include <sea/buffer.h>
#include <sea/error.h>
#include <sea/stream.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUFFER (128 * 1024)
#define DEFAULT_AHEAD 4
#define MAX_AHEAD 64

static size_t round_up(size_t n, size_t align) {
    return (n + align - 1) / align * align;
}

static void options_of(const sea_file *f, const sea_file_stream_options *o, size_t *bufsz, unsigned *ahead) {
    size_t align = sea_file_write_alignment(f) > sea_file_read_alignment(f) ? sea_file_write_alignment(f)
                                                                               : sea_file_read_alignment(f);
    *bufsz = round_up(o && o->buffer_size ? o->buffer_size : DEFAULT_BUFFER, align);
    *ahead = o && o->ahead ? o->ahead : DEFAULT_AHEAD;
    if (*ahead > MAX_AHEAD)
        *ahead = MAX_AHEAD;
}

/* ---- the source ---- */

struct read_slot {
    void *mem;
    sea_future read;
};

struct file_source {
    sea_data_source base; /* first */
    sea_file *f;
    size_t bufsz;
    unsigned ahead;
    uint64_t next_pos;   /* where the next read starts */
    size_t skip;         /* bytes to drop from the front of the first buffer */
    bool end_issued;     /* a read has come back short: nothing more is read */
    unsigned head, count;
    struct read_slot slots[MAX_AHEAD];
};

static void issue_reads(struct file_source *s) {
    while (!s->end_issued && s->count < s->ahead) {
        void *mem = sea_dma_alloc(sea_file_memory_alignment(s->f), s->bufsz);
        if (!mem)
            return; /* out of memory: read with what is in flight; get() reports it if nothing is */
        struct read_slot *slot = &s->slots[(s->head + s->count) % s->ahead];
        slot->mem = mem;
        slot->read = sea__file_read_owned(s->f, s->next_pos, mem, s->bufsz); /* freed with the request if the shard stops first */
        s->next_pos += s->bufsz;
        s->count++;
    }
}

static void dma_free_fn(void *p) {
    sea_dma_free(p);
}

struct got_cap {
    struct file_source *s;
    sea_buf *out;
    void *mem;
};

static sea_future source_got(struct got_cap *c, sea_future *in) {
    struct file_source *s = c->s;
    if (sea_future_failed(in)) {
        sea_dma_free(c->mem);
        s->end_issued = true;
        return sea_future_move(in);
    }
    size_t n = sea_future_value(in).size;
    if (n < s->bufsz)
        s->end_issued = true;
    size_t skip = s->skip < n ? s->skip : n;
    s->skip = 0;
    if (n - skip == 0) {
        sea_dma_free(c->mem);
        *c->out = SEA_BUF_EMPTY;
        s->end_issued = true;
        return sea_ready_size(0);
    }
    if (sea_buf_wrap(c->out, c->mem, n, dma_free_fn, c->mem) < 0) {
        sea_dma_free(c->mem);
        return sea_failed(-ENOMEM, "file stream: out of memory");
    }
    sea_buf_trim_front(c->out, skip);
    issue_reads(s);
    return sea_ready_size(c->out->len);
}

static sea_future source_get(sea_data_source *src, sea_buf *out) {
    struct file_source *s = (struct file_source *)src;
    issue_reads(s);
    if (s->count == 0) {
        *out = SEA_BUF_EMPTY;
        if (!s->end_issued)
            return sea_failed(-ENOMEM, "file stream: out of memory for a read buffer");
        return sea_ready_size(0);
    }
    struct read_slot *slot = &s->slots[s->head];
    s->head = (s->head + 1) % s->ahead;
    s->count--;
    sea_future r = sea_future_move(&slot->read);
    return sea_then_wrapped(r, source_got, ((struct got_cap){s, out, slot->mem}));
}

static sea_future free_after_read(void **memp, sea_future *in) {
    sea_dma_free(*memp);
    if (sea_future_failed(in))
        (void)sea_future_error(in); /* nobody reads this stream any more: its failure is seen and dropped */
    return sea_ready();
}

static void source_release(sea_data_source *src) {
    struct file_source *s = (struct file_source *)src;
    /* Reads still in flight write into their buffers: free each when its read ends. */
    while (s->count) {
        struct read_slot *slot = &s->slots[s->head];
        s->head = (s->head + 1) % s->ahead;
        s->count--;
        sea_future_detach(sea_then_wrapped(sea_future_move(&slot->read), free_after_read, slot->mem));
    }
    free(s);
}

static const sea_data_source_ops source_ops = {.get = source_get, .release = source_release};

sea_input_stream *sea_file_input_stream(sea_file *f, uint64_t pos, const sea_file_stream_options *opts) {
    struct file_source *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->base.ops = &source_ops;
    s->f = f;
    options_of(f, opts, &s->bufsz, &s->ahead);
    size_t align = sea_file_read_alignment(f);
    s->next_pos = pos / align * align;
    s->skip = (size_t)(pos - s->next_pos);
    return sea_input_stream_from(&s->base);
}

/* ---- the sink ---- */

struct file_sink {
    sea_data_sink base; /* first */
    sea_file *f;
    size_t bufsz;
    unsigned ahead;
    uint64_t pos;        /* where the next full buffer is written */
    void *cur;           /* the buffer being filled */
    size_t cur_len;
    void *spare[MAX_AHEAD]; /* buffers whose writes ended, for reuse */
    unsigned nspare;
    unsigned inflight;
    int err;             /* the first failed write's error */
    char errmsg[256];
    /* A put that waits for a write to end before it can go on. */
    sea_promise *waiter;
    const char *data;
    size_t len, copied;
    /* The end: waits for the last writes, then sets the file's size. */
    sea_promise *ender;
    uint64_t final_size;
    bool truncating;     /* the end's truncate is in flight */
    bool released;       /* the stream let go: free the sink when nothing is in flight */
    bool driving;        /* drive() is on the stack: a write that ends inside it only counts */
};

static void sink_free(struct file_sink *k) {
    sea_dma_free(k->cur);
    for (unsigned i = 0; i < k->nspare; i++)
        sea_dma_free(k->spare[i]);
    free(k);
}

static void drive(struct file_sink *k);

struct wrote_cap {
    struct file_sink *k;
    void *mem;
};

static sea_future wrote(struct wrote_cap *c, sea_future *in) {
    struct file_sink *k = c->k;
    k->inflight--;
    if (sea_future_failed(in)) {
        int err = sea_future_error(in); /* seen, whether first or not: the first is the one reported */
        if (!k->err) {
            k->err = err;
            snprintf(k->errmsg, sizeof(k->errmsg), "%s", sea_future_message(in));
        }
    }
    if (k->nspare < MAX_AHEAD)
        k->spare[k->nspare++] = c->mem;
    else
        sea_dma_free(c->mem);
    drive(k); /* inside drive() (the write ended at once) this only returns: the caller goes on */
    return sea_ready();
}

/* Writes the current buffer (len bytes of it) at pos. */
static void write_current(struct file_sink *k, size_t len) {
    void *mem = k->cur;
    k->cur = NULL;
    k->cur_len = 0;
    k->inflight++;
    uint64_t at = k->pos;
    k->pos += len;
    sea_future_detach(sea_then_wrapped(sea_file_write(k->f, at, mem, len), wrote, ((struct wrote_cap){k, mem})));
}

static void resolve(sea_promise **pp, int err, const char *msg, sea_value v) {
    sea_promise *p = *pp;
    *pp = NULL;
    if (err)
        sea_promise_set_error_fmt(p, err, "%s", msg);
    else
        sea_promise_set_value(p, v);
    sea_promise_release(p);
    free(p);
}

/* Copies the waiting put's bytes on.  True when they are all in buffers (or a write failed); false: wait. */
static bool copy_on(struct file_sink *k) {
    while (!k->err) {
        if (k->cur && k->cur_len == k->bufsz) {
            if (k->inflight >= k->ahead)
                return false; /* full, and may not go yet */
            write_current(k, k->bufsz);
            continue;
        }
        if (k->copied == k->len)
            return true;
        if (!k->cur) {
            if (k->nspare)
                k->cur = k->spare[--k->nspare];
            else if (k->inflight >= k->ahead)
                return false;
            else if (!(k->cur = sea_dma_alloc(sea_file_memory_alignment(k->f), k->bufsz))) {
                k->err = -ENOMEM;
                snprintf(k->errmsg, sizeof(k->errmsg), "file stream: out of memory for a write buffer");
                break;
            }
        }
        size_t n = k->bufsz - k->cur_len;
        if (n > k->len - k->copied)
            n = k->len - k->copied;
        memcpy((char *)k->cur + k->cur_len, k->data + k->copied, n);
        k->cur_len += n;
        k->copied += n;
    }
    return true;
}

static sea_future truncated(struct file_sink **kp, sea_future *in) {
    struct file_sink *k = *kp;
    k->truncating = false;
    int err = sea_future_failed(in) ? sea_future_error(in) : 0;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", err ? sea_future_message(in) : "");
    if (k->released) { /* the stream let go before its end resolved: nobody else will free the sink */
        sea_promise *p = k->ender;
        k->ender = NULL;
        sink_free(k);
        resolve(&p, err, msg, (sea_value){0});
    } else {
        resolve(&k->ender, err, msg, (sea_value){0});
    }
    return sea_ready();
}

/*
 * Moves the sink on after anything happened: a waiting put copies on, an
 * end whose writes are over sets the file's size, a released sink with
 * nothing in flight is freed.  Not re-entered: a write that ends while
 * drive() runs (it completed at once) is picked up by the running call.
 */
static void drive(struct file_sink *k) {
    if (k->driving)
        return;
    k->driving = true;
    bool copied = k->waiter && copy_on(k);
    k->driving = false;
    if (copied) {
        /* Last: the writer's continuation may run inside and write again, end, or free the stream. */
        resolve(&k->waiter, k->err, k->errmsg, (sea_value){.size = k->len});
        return;
    }
    if (k->ender && k->inflight == 0 && !k->truncating) {
        if (k->err) {
            resolve(&k->ender, k->err, k->errmsg, (sea_value){0}); /* last, as above */
            return;
        }
        /* Exactly what was given: the padding goes, and so does any older, longer tail. */
        k->truncating = true;
        sea_future_detach(sea_then_wrapped(sea_file_truncate(k->f, k->final_size), truncated, k));
        return;
    }
    if (k->released && k->inflight == 0 && !k->ender)
        sink_free(k);
}

static sea_future sink_put(sea_data_sink *sink, const void *data, size_t len) {
    struct file_sink *k = (struct file_sink *)sink;
    if (k->err)
        return sea_failed_fmt(k->err, "%s", k->errmsg);
    sea_promise *p = malloc(sizeof(*p));
    if (!p)
        return sea_failed(-ENOMEM, "file stream: out of memory");
    sea_promise_init(p);
    sea_future f = sea_promise_get_future(p);
    k->waiter = p;
    k->data = data;
    k->len = len;
    k->copied = 0;
    drive(k);
    return f;
}

static sea_future sink_end(sea_data_sink *sink) {
    struct file_sink *k = (struct file_sink *)sink;
    sea_promise *p = malloc(sizeof(*p));
    if (!p)
        return sea_failed(-ENOMEM, "file stream: out of memory");
    sea_promise_init(p);
    sea_future f = sea_promise_get_future(p);
    k->final_size = k->pos + k->cur_len;
    k->driving = true; /* the last write may end at once: count it, do not end twice */
    if (!k->err && k->cur_len) {
        size_t align = sea_file_write_alignment(k->f);
        size_t len = round_up(k->cur_len, align);
        memset((char *)k->cur + k->cur_len, 0, len - k->cur_len);
        write_current(k, len);
    }
    k->driving = false;
    k->ender = p;
    drive(k);
    return f;
}

static void sink_release(sea_data_sink *sink) {
    struct file_sink *k = (struct file_sink *)sink;
    k->released = true;
    drive(k);
}

static const sea_data_sink_ops sink_ops = {.put = sink_put, .end = sink_end, .release = sink_release};

sea_output_stream *sea_file_output_stream(sea_file *f, uint64_t pos, const sea_file_stream_options *opts) {
    size_t align = sea_file_write_alignment(f);
    if (pos % align)
        return NULL;
    struct file_sink *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->base.ops = &sink_ops;
    k->f = f;
    options_of(f, opts, &k->bufsz, &k->ahead);
    k->pos = pos;
    return sea_output_stream_to(&k->base, k->bufsz);
}
