/*
 * test_stream.c - temporary buffers and streams (sea/buffer.h, sea/stream.h),
 * over a socketpair whose other end the test drives with plain system calls
 * (from a thread when it has to wait).
 *
 * Buffers: share, slice, trim, release order, wrapped memory freed once.
 * Input: read then end of stream; read_exactly across chunks from a peer
 * writing in pieces, and fewer bytes at the end; read_up_to; skip; a line
 * parser through consume (stop with the rest unread, skip).  Output: small
 * writes batched (resolved at once) and sent on flush; a large write held
 * back by a peer that does not read (back-pressure) and released when it
 * does; write_buf releasing its buffer once sent; close giving the peer end
 * of stream; one operation at a time; writing to a peer that is gone.  An
 * input stream waiting for data holds no read buffer.  Streams over sources
 * and sinks of the test's own (bytes in memory, given out in pieces, some
 * at once and some a turn later), to show that streams do not depend on
 * sockets.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A sea socket on one end of a socketpair; *peer gets the other end. */
static sea_socket *pair(int *peer) {
    int fds[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    sea_socket *s = NULL;
    CHECK_EQ(sea_socket_adopt(fds[0], &s), 0);
    *peer = fds[1];
    return s;
}

static int freed;

static void count_free(void *arg) {
    freed++;
    free(arg);
}

static sea_future t_buffers(void) {
    sea_buf b;
    CHECK_EQ(sea_buf_copy(&b, "hello world", 11), 0);
    sea_buf head = sea_buf_slice(&b, 0, 5), tail = sea_buf_slice(&b, 6, 100);
    CHECK_EQ(sea_buf_refs(&b), 3);
    CHECK(head.len == 5 && memcmp(head.data, "hello", 5) == 0);
    CHECK(tail.len == 5 && memcmp(tail.data, "world", 5) == 0);
    CHECK(head.data == b.data); /* no copy */
    sea_buf_release(&b);
    CHECK(b.data == NULL && b.len == 0);
    sea_buf_trim_front(&tail, 2);
    sea_buf_trim(&tail, 2);
    CHECK(tail.len == 2 && memcmp(tail.data, "rl", 2) == 0);
    CHECK_EQ(sea_buf_refs(&tail), 2);
    sea_buf_release(&head);
    sea_buf_release(&tail);
    sea_buf_release(&tail); /* empty now: harmless */
    freed = 0;
    char *mem = malloc(100);
    sea_buf w;
    CHECK_EQ(sea_buf_wrap(&w, mem, 100, count_free, mem), 0);
    sea_buf w2 = sea_buf_share(&w);
    sea_buf_release(&w);
    CHECK_EQ(freed, 0);
    sea_buf_release(&w2);
    CHECK_EQ(freed, 1);
    return sea_ready();
}

static bool same(const sea_buf *b, const char *s) {
    return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

FIBER_CASE(t_read_and_end) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_input_stream *in = sea_input_stream_new(s, 0);
    CHECK_EQ(write(peer, "hello world", 11), 11);
    close(peer);
    sea_buf b;
    CHECK_EQ(sea_test_await_err(sea_input_read(in, &b), NULL), 0);
    CHECK(same(&b, "hello world"));
    sea_buf_release(&b);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_input_read(in, &b), &v), 0);
    CHECK_EQ(v.size, 0);
    CHECK_EQ(b.len, 0);
    sea_input_stream_free(in);
    sea_socket_close(s);
    return sea_ready();
}

struct writer {
    int fd;
    size_t total, piece;
    int pause_us;
};

static void *write_slowly(void *arg) {
    struct writer *w = arg;
    char buf[4096];
    for (size_t sent = 0; sent < w->total;) {
        size_t n = w->piece < w->total - sent ? w->piece : w->total - sent;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + (sent + i) % 26);
        ssize_t r = write(w->fd, buf, n);
        if (r <= 0)
            break;
        sent += (size_t)r;
        usleep((useconds_t)w->pause_us);
    }
    close(w->fd);
    return NULL;
}

static bool pattern_ok(const sea_buf *b, size_t offset) {
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] != (char)('a' + (offset + i) % 26))
            return false;
    return true;
}

FIBER_CASE(t_read_exactly_across_chunks) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_input_stream *in = sea_input_stream_new(s, 1000); /* chunks smaller than the reads */
    struct writer w = {peer, 10000, 777, 200};
    pthread_t t;
    pthread_create(&t, NULL, write_slowly, &w);
    size_t offset = 0;
    for (int i = 0; i < 3; i++) {
        sea_buf b;
        sea_value v;
        CHECK_EQ(sea_test_await_err(sea_input_read_exactly(in, 4096, &b), &v), 0);
        CHECK_EQ(v.size, i < 2 ? 4096 : 10000 - 8192); /* fewer only at the end */
        CHECK(pattern_ok(&b, offset));
        offset += b.len;
        sea_buf_release(&b);
    }
    pthread_join(t, NULL);
    sea_buf b;
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_input_read_exactly(in, 10, &b), &v), 0);
    CHECK_EQ(v.size, 0);
    sea_input_stream_free(in);
    sea_socket_close(s);
    return sea_ready();
}

FIBER_CASE(t_read_up_to_and_skip) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_input_stream *in = sea_input_stream_new(s, 0);
    CHECK_EQ(write(peer, "abcdefghij", 10), 10);
    sea_buf b;
    CHECK_EQ(sea_test_await_err(sea_input_read_up_to(in, 3, &b), NULL), 0);
    CHECK(same(&b, "abc"));
    sea_buf_release(&b);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_input_skip(in, 4), &v), 0);
    CHECK_EQ(v.size, 4);
    CHECK_EQ(sea_test_await_err(sea_input_read(in, &b), NULL), 0);
    CHECK(same(&b, "hij"));
    sea_buf_release(&b);
    /* One operation at a time. */
    sea_future pending = sea_input_read(in, &b);
    CHECK(!sea_future_available(&pending));
    sea_buf other;
    sea_future busy = sea_input_read(in, &other);
    CHECK_EQ(sea_future_error(&busy), -EBUSY);
    sea_future_detach(busy);
    close(peer);
    CHECK_EQ(sea_test_await_err(pending, &v), 0);
    CHECK_EQ(v.size, 0);
    CHECK_EQ(sea_test_await_err(sea_input_skip(in, 5), &v), 0);
    CHECK_EQ(v.size, 0);
    sea_input_stream_free(in);
    sea_socket_close(s);
    return sea_ready();
}

/*
 * A line parser: collects bytes up to '\n' and stops there, leaving the rest
 * unread.  With skip_record, the line is preceded by "9:" and a 9-byte record
 * to skip: the parser uses the bytes it was given and asks the stream to drop
 * the record's remaining bytes (SEA_CONSUME_SKIP), then parses the line.
 */
struct line {
    char text[64];
    size_t len;
    bool skip_record;
};

static sea_consumption parse_line(struct line **lp, const char *data, size_t len) {
    struct line *l = *lp;
    if (l->skip_record) {
        /* This first chunk holds "9:" and 6 of the record's 9 bytes. */
        CHECK(len == 8 && memcmp(data, "9:", 2) == 0);
        l->skip_record = false;
        return (sea_consumption){SEA_CONSUME_SKIP, 9 - (len - 2)};
    }
    if (len == 0)
        return (sea_consumption){SEA_CONSUME_STOP, 0}; /* end of stream */
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;
    if (l->len + take < sizeof(l->text)) {
        memcpy(l->text + l->len, data, take);
        l->len += take;
    }
    return nl ? (sea_consumption){SEA_CONSUME_STOP, take} : (sea_consumption){SEA_CONSUME_MORE, 0};
}

FIBER_CASE(t_consume_lines) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_input_stream *in = sea_input_stream_new(s, 8); /* a line spans chunks */
    CHECK_EQ(write(peer, "first line\nsecond\nrest", 22), 22);
    struct line l = {0};
    struct line *lp = &l;
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_input_consume(in, parse_line, lp), &v), 0);
    CHECK_EQ(v.size, 11);
    CHECK(l.len == 11 && memcmp(l.text, "first line\n", 11) == 0);
    memset(&l, 0, sizeof(l));
    CHECK_EQ(sea_test_await_err(sea_input_consume(in, parse_line, lp), &v), 0);
    CHECK(l.len == 7 && memcmp(l.text, "second\n", 7) == 0);
    sea_buf b;
    CHECK_EQ(sea_test_await_err(sea_input_read(in, &b), NULL), 0);
    CHECK(same(&b, "rest"));
    sea_buf_release(&b);
    /* SKIP: a record dropped without being handed out, then the line after it. */
    CHECK_EQ(write(peer, "9:ABCDEFGHIthird\n", 17), 17);
    memset(&l, 0, sizeof(l));
    l.skip_record = true;
    CHECK_EQ(sea_test_await_err(sea_input_consume(in, parse_line, lp), NULL), 0);
    CHECK(l.len == 6 && memcmp(l.text, "third\n", 6) == 0);
    close(peer);
    sea_input_stream_free(in);
    sea_socket_close(s);
    return sea_ready();
}

struct reader {
    int fd;
    int delay_us;
    size_t got;
    bool eof;
};

static void *read_all(void *arg) {
    struct reader *r = arg;
    usleep((useconds_t)r->delay_us);
    char buf[65536];
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof(buf));
        if (n <= 0) {
            r->eof = n == 0;
            break;
        }
        r->got += (size_t)n;
    }
    return NULL;
}

FIBER_CASE(t_output_batching_and_backpressure) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_output_stream *out = sea_output_stream_new(s, 64);
    /* Small writes go into the batch and resolve at once. */
    for (int i = 0; i < 50; i++) {
        sea_future f = sea_output_write(out, "x", 1);
        CHECK(sea_future_available(&f));
        sea_future_detach(f);
    }
    char buf[256];
    CHECK_EQ(recv(peer, buf, sizeof(buf), MSG_DONTWAIT), -1); /* nothing sent yet */
    CHECK_EQ(sea_test_await_err(sea_output_flush(out), NULL), 0);
    CHECK_EQ(recv(peer, buf, sizeof(buf), MSG_DONTWAIT), 50);
    /* A write of 8 MiB cannot finish while nobody reads: it waits (back-pressure). */
    static char big[8 << 20];
    memset(big, 'y', sizeof(big));
    sea_future w = sea_output_write(out, big, sizeof(big));
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(20))));
    CHECK(!sea_future_available(&w));
    sea_future busy = sea_output_write(out, "z", 1);
    CHECK_EQ(sea_future_error(&busy), -EBUSY);
    sea_future_detach(busy);
    struct reader r = {peer, 0, 0, false};
    pthread_t t;
    pthread_create(&t, NULL, read_all, &r);
    CHECK_EQ(sea_test_await_err(w, NULL), 0);
    /* write_buf: the buffer is released once its bytes are sent. */
    freed = 0;
    char *mem = malloc(1 << 20);
    memset(mem, 'q', 1 << 20);
    sea_buf b;
    CHECK_EQ(sea_buf_wrap(&b, mem, 1 << 20, count_free, mem), 0);
    CHECK_EQ(sea_test_await_err(sea_output_write_buf(out, b), NULL), 0);
    CHECK_EQ(freed, 1);
    CHECK_EQ(sea_test_await_err(sea_output_write(out, "tail", 4), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_output_close(out), NULL), 0);
    pthread_join(t, NULL);
    CHECK(r.eof);
    CHECK_EQ(r.got, sizeof(big) + (1 << 20) + 4);
    sea_future after = sea_output_write(out, "x", 1);
    CHECK_EQ(sea_future_error(&after), -EPIPE);
    sea_future_detach(after);
    sea_output_stream_free(out);
    sea_socket_close(s);
    close(peer);
    return sea_ready();
}

FIBER_CASE(t_output_to_a_gone_peer) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_output_stream *out = sea_output_stream_new(s, 0);
    close(peer);
    static char big[1 << 20];
    int err = sea_test_await_err(sea_output_write(out, big, sizeof(big)), NULL);
    CHECK(err == -EPIPE || err == -ECONNRESET);
    sea_output_stream_free(out);
    sea_socket_close(s);
    return sea_ready();
}

/* Waiting for data holds no chunk: an idle connection costs no read buffer. */
FIBER_CASE(t_idle_stream_holds_no_chunk) {
    int peer;
    sea_socket *s = pair(&peer);
    sea_input_stream *in = sea_input_stream_new(s, 1 << 20); /* 1 MiB chunks: easy to see */
    sea_memory_stats st0;
    sea_memory_stats_get(&st0);
    sea_buf b;
    sea_future r = sea_input_read(in, &b);
    CHECK(!sea_future_available(&r));
    sea_memory_stats st1;
    sea_memory_stats_get(&st1);
    if (sea_memory_overrides_malloc())
        CHECK(st1.used < st0.used + (64 << 10)); /* not the 1 MiB chunk */
    CHECK_EQ(write(peer, "data", 4), 4);
    CHECK_EQ(sea_test_await_err(r, NULL), 0);
    CHECK(same(&b, "data"));
    sea_buf_release(&b);
    close(peer);
    sea_input_stream_free(in);
    sea_socket_close(s);
    return sea_ready();
}

/* ---- streams over a source and a sink of our own ---- */

/* A source that gives out text in pieces of `piece` bytes; every other piece arrives a loop turn late. */
struct mem_source {
    sea_data_source base;
    const char *text;
    size_t len, at, piece;
    unsigned gets;
    bool released;
    sea_buf *out;
};

static sea_future mem_source_fill(struct mem_source **srcp) {
    struct mem_source *src = *srcp;
    size_t n = src->len - src->at < src->piece ? src->len - src->at : src->piece;
    if (n && sea_buf_copy(src->out, src->text + src->at, n) < 0)
        return sea_failed(-ENOMEM, NULL);
    src->at += n;
    return sea_ready_size(n);
}

static sea_future mem_source_get(sea_data_source *base, sea_buf *out) {
    struct mem_source *src = (struct mem_source *)base;
    src->out = out;
    *out = SEA_BUF_EMPTY;
    if (src->gets++ % 2)
        return sea_then(sea_yield(), mem_source_fill, src);
    return mem_source_fill(&src);
}

static void mem_source_release(sea_data_source *base) {
    ((struct mem_source *)base)->released = true;
}

static const sea_data_source_ops mem_source_ops = {.get = mem_source_get, .release = mem_source_release};

/* A source whose first get fails at once and whose second fails a loop turn later, each with a message. */
struct failing_source {
    sea_data_source base;
    unsigned gets;
};

static sea_future failing_late(void) {
    return sea_failed(-EPROTO, "the source broke late");
}

static sea_future failing_get(sea_data_source *base, sea_buf *out) {
    struct failing_source *src = (struct failing_source *)base;
    *out = SEA_BUF_EMPTY;
    if (src->gets++ == 0)
        return sea_failed(-EIO, "the source broke");
    return sea_then(sea_yield(), failing_late);
}

static void failing_release(sea_data_source *base) {
    (void)base;
}

static const sea_data_source_ops failing_ops = {.get = failing_get, .release = failing_release};

/* A source's failure reaches the reader with its code and its message, whether it came at once or later. */
FIBER_CASE(t_source_failure_message) {
    static struct failing_source src = {{&failing_ops}, 0};
    src.gets = 0;
    sea_input_stream *in = sea_input_stream_from(&src.base);
    CHECK(in != NULL);
    sea_buf b;
    sea_test_await_error(sea_input_read(in, &b), -EIO, "the source broke");
    sea_test_await_error(sea_input_read_exactly(in, 10, &b), -EPROTO, "the source broke late");
    sea_input_stream_free(in);
    return sea_ready();
}

/* A sink that collects what it is given; every other put completes a loop turn late. */
struct mem_sink {
    sea_data_sink base;
    char got[256];
    size_t len;
    unsigned puts;
    bool ended, released;
};

struct mem_sink_len {
    size_t len;
};

static sea_future mem_sink_done(struct mem_sink_len *c) {
    return sea_ready_size(c->len);
}

static sea_future mem_sink_put(sea_data_sink *base, const void *data, size_t len) {
    struct mem_sink *sink = (struct mem_sink *)base;
    CHECK(sink->len + len <= sizeof(sink->got));
    if (sink->len + len <= sizeof(sink->got)) {
        memcpy(sink->got + sink->len, data, len);
        sink->len += len;
    }
    if (sink->puts++ % 2)
        return sea_then(sea_yield(), mem_sink_done, (struct mem_sink_len){len});
    return sea_ready_size(len);
}

static sea_future mem_sink_end(sea_data_sink *base) {
    ((struct mem_sink *)base)->ended = true;
    return sea_ready();
}

static void mem_sink_release(sea_data_sink *base) {
    ((struct mem_sink *)base)->released = true;
}

static const sea_data_sink_ops mem_sink_ops = {.put = mem_sink_put, .end = mem_sink_end, .release = mem_sink_release};

static sea_future own_source_and_sink(void) {
    static const char text[] = "alpha beta\ngamma\ndelta epsilon zeta\n";
    struct mem_source src = {.base = {&mem_source_ops}, .text = text, .len = sizeof(text) - 1, .piece = 5};
    sea_input_stream *in = sea_input_stream_from(&src.base);
    CHECK(in != NULL);
    sea_buf b;
    sea_value v;
    /* Exactly 13 bytes, across three pieces, one of which waits a turn. */
    CHECK_EQ(sea_await_value(sea_input_read_exactly(in, 13, &b), &v), 0);
    CHECK_EQ(v.size, 13);
    CHECK(b.len == 13 && memcmp(b.data, "alpha beta\nga", 13) == 0);
    sea_buf_release(&b);
    CHECK_EQ(sea_await_value(sea_input_skip(in, 5), &v), 0);
    CHECK_EQ(v.size, 5);
    /* Whatever comes next, then the rest up to the end. */
    size_t total = 18;
    while (sea_await_value(sea_input_read(in, &b), &v) == 0 && v.size > 0) {
        total += v.size;
        sea_buf_release(&b);
    }
    CHECK_EQ(total, sizeof(text) - 1);
    sea_input_stream_free(in);
    CHECK(src.released);

    struct mem_sink sink = {.base = {&mem_sink_ops}};
    sea_output_stream *out = sea_output_stream_to(&sink.base, 8);
    CHECK(out != NULL);
    CHECK_EQ(sea_await_value(sea_output_write(out, "abc", 3), NULL), 0);           /* batched */
    CHECK_EQ(sink.len, 0);
    CHECK_EQ(sea_await_value(sea_output_write(out, "defghij", 7), NULL), 0);       /* fills and sends the batch */
    CHECK_EQ(sea_await_value(sea_output_write(out, "0123456789ABCDEF", 16), NULL), 0); /* large: straight through */
    CHECK_EQ(sea_await_value(sea_output_close(out), NULL), 0);
    CHECK(sink.ended);
    CHECK(sink.len == 26 && memcmp(sink.got, "abcdefghij0123456789ABCDEF", 26) == 0);
    sea_output_stream_free(out);
    CHECK(sink.released);
    return sea_ready();
}

static sea_future t_own_source_and_sink(void) {
    return sea_fiber_start(own_source_and_sink);
}

/* Freeing or closing nothing is allowed, as free(NULL) is: error paths need no checks. */
static sea_future t_free_null(void) {
    sea_input_stream_free(NULL);
    sea_output_stream_free(NULL);
    sea_socket_close(NULL);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_buffers),
    SEA_TEST(t_read_and_end),
    SEA_TEST(t_read_exactly_across_chunks),
    SEA_TEST(t_read_up_to_and_skip),
    SEA_TEST(t_consume_lines),
    SEA_TEST(t_output_batching_and_backpressure),
    SEA_TEST(t_output_to_a_gone_peer),
    SEA_TEST(t_idle_stream_holds_no_chunk),
    SEA_TEST(t_own_source_and_sink),
    SEA_TEST(t_source_failure_message),
    SEA_TEST(t_free_null),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
