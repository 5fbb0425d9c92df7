/*
 * tls_many.c - holds many TLS connections open at once to a server, for
 * tests/apps/test_tls_many.py (10,000 idle TLS connections and the server's
 * memory for each):
 *
 *     tls_many [sea options] --connect ADDR --count N --ca PEM [--host NAME] [--parallel K]
 *
 * Opens N connections to ADDR, K handshakes at a time (fibers pulling the
 * next index), each verified against --ca as --host, and echoes one byte
 * through each so that every connection is known to work; then prints
 * "connected N failed F" on stdout and holds them all.  On SIGUSR1 it
 * echoes one byte through each again, closes each with close_notify, reads
 * the server's, and prints "closed N failed F", then exits (0 when nothing
 * failed).  The first failures are described on stderr.
 */
#include <sea/sea.h>
#include <sea/tls.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sea_option opts[] = {
    {.name = "connect", .type = SEA_OPTION_STRING, .help = "the server's address"},
    {.name = "count", .type = SEA_OPTION_INT, .default_value = "100", .min = 1, .max = 19000,
     .help = "connections to hold"},
    {.name = "ca", .type = SEA_OPTION_STRING, .help = "the CA the server's certificate is checked with (PEM)"},
    {.name = "host", .type = SEA_OPTION_STRING, .default_value = "localhost", .help = "the name checked"},
    {.name = "parallel", .type = SEA_OPTION_INT, .default_value = "64", .min = 1, .max = 1000,
     .help = "handshakes at a time"},
};

struct conn {
    sea_socket *s;
    sea_tls *t;
    sea_input_stream *in;
    sea_output_stream *out;
};

static struct conn *conns;
static long count, next_index, failed, reported;
static sea_tls_creds *creds;
static sea_addr server;
static sea_promise go_close;

static void fail(long i, const char *what, sea_future *f) {
    failed++;
    if (reported++ < 5)
        fprintf(stderr, "tls_many: connection %ld: %s: %s\n", i, what, sea_future_message(f));
    sea_future_detach(*f);
    *f = sea_ready();
}

/* Sends one byte and reads it back. */
static bool echo_one(struct conn *c, long i) {
    sea_future f = sea_await(sea_output_write(c->out, "x", 1));
    if (!sea_future_failed(&f)) {
        sea_future_detach(f);
        f = sea_await(sea_output_flush(c->out));
    }
    if (sea_future_failed(&f)) {
        fail(i, "write", &f);
        return false;
    }
    sea_future_detach(f);
    sea_buf b;
    f = sea_await(sea_input_read(c->in, &b));
    if (sea_future_failed(&f)) {
        fail(i, "read", &f);
        return false;
    }
    sea_future_detach(f);
    bool ok = b.len == 1 && b.data[0] == 'x';
    sea_buf_release(&b);
    if (!ok) {
        failed++;
        if (reported++ < 5)
            fprintf(stderr, "tls_many: connection %ld: the echo was not \"x\"\n", i);
    }
    return ok;
}

static void drop(struct conn *c) {
    sea_output_stream_free(c->out);
    sea_input_stream_free(c->in);
    sea_tls_free(c->t);
    sea_socket_close(c->s);
    *c = (struct conn){0};
}

static sea_future opener(void) {
    while (next_index < count) {
        long i = next_index++;
        struct conn *c = &conns[i];
        sea_future f = sea_await(sea_connect(&server, SEA_SEC(30)));
        if (sea_future_failed(&f)) {
            fail(i, "connect", &f);
            continue;
        }
        c->s = sea_future_value(&f).ptr;
        sea_future_detach(f);
        f = sea_await(sea_tls_connect(creds, c->s, sea_option_string("host"), SEA_SEC(30)));
        if (sea_future_failed(&f)) {
            fail(i, "handshake", &f);
            drop(c);
            continue;
        }
        c->t = sea_future_value(&f).ptr;
        sea_future_detach(f);
        c->in = sea_tls_input(c->t);
        c->out = sea_tls_output(c->t, 0);
        if (!echo_one(c, i))
            drop(c);
    }
    return sea_ready();
}

static sea_future closer(void) {
    while (next_index < count) {
        long i = next_index++;
        struct conn *c = &conns[i];
        if (!c->t)
            continue;
        if (echo_one(c, i)) {
            sea_future f = sea_await(sea_output_close(c->out));
            if (sea_future_failed(&f)) {
                fail(i, "close_notify", &f);
            } else {
                sea_future_detach(f);
                sea_buf b;
                f = sea_await(sea_input_read(c->in, &b)); /* the server's close_notify: the end */
                if (sea_future_failed(&f))
                    fail(i, "reading to the end", &f);
                else if (sea_future_detach(f), b.len != 0)
                    failed++, sea_buf_release(&b);
            }
        }
        drop(c);
    }
    return sea_ready();
}

/* Runs fn in K fibers at once and waits for them all. */
static void in_parallel(sea_future (*fn)(void)) {
    long k = sea_option_int("parallel");
    sea_future *fs = calloc((size_t)k, sizeof(*fs));
    next_index = 0;
    for (long j = 0; j < k; j++)
        fs[j] = sea_fiber_start(fn);
    for (long j = 0; j < k; j++)
        sea_future_ignore(sea_await(fs[j]));
    free(fs);
}

static bool closing;

static void on_usr1(int signo, void *arg) {
    (void)signo, (void)arg;
    if (!closing) {
        closing = true;
        sea_promise_set_void(&go_close);
    }
}

static sea_future app_main(void) {
    char why[512];
    if (!sea_option_string("connect") || sea_addr_parse(sea_option_string("connect"), &server) < 0)
        return sea_failed(-EINVAL, "tls_many: --connect ADDR, please");
    int rc = sea_tls_creds_new(SEA_TLS_CLIENT, &(sea_tls_options){.ca_file = sea_option_string("ca")}, &creds, why,
                               sizeof(why));
    if (rc < 0)
        return sea_failed_fmt(rc, "tls_many: %s", why);
    count = sea_option_int("count");
    conns = calloc((size_t)count, sizeof(*conns));
    if (!conns)
        return sea_failed(-ENOMEM, "tls_many: no memory");
    sea_promise_init(&go_close);
    sea_future go = sea_promise_get_future(&go_close);
    sea_signal_handle(SIGUSR1, on_usr1, NULL);
    in_parallel(opener);
    printf("connected %ld failed %ld\n", count - failed, failed);
    fflush(stdout);
    sea_future_ignore(sea_await(go));
    long before = failed;
    in_parallel(closer);
    printf("closed %ld failed %ld\n", count - failed, failed - before);
    fflush(stdout);
    free(conns);
    sea_tls_creds_free(creds);
    return failed ? sea_failed(-EIO, "tls_many: some connections failed") : sea_ready();
}

int main(int argc, char **argv) {
    if (sea_app_add_options(opts, SEA_OPTION_COUNT(opts)) != 0)
        return 2;
    return sea_app_run_fiber(argc, argv, app_main);
}
