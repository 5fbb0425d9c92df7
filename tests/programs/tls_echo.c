/*
 * tls_echo.c - a TLS echo server on sea/tls.h, for tests that reach it with
 * other TLS implementations (tests/apps/test_tls_peers.py: openssl s_client,
 * Python's ssl):
 *
 *     tls_echo [sea options] --cert PEM --key PEM [--ca PEM --verify-client] [--alpn LIST]
 *              [--more-cert PEM:KEY[,PEM:KEY...]] [--handshake-timeout SECONDS]
 *
 * Listens on 127.0.0.1, port 0, on every shard, and prints "serving ADDR"
 * on stdout once it does.  Each connection's handshake runs with the
 * credentials the options make; then whatever the client sends comes back,
 * until its close_notify, which is answered with ours.  On stderr, one line
 * per connection:
 *
 *     tls: shard N version=TLSv1.3 alpn=http/1.1 sni=localhost resumed=no peer="CN=client,O=sea tests"
 *     tls: shard N handshake failed: EPROTO TLS handshake: ...
 *     tls: shard N ended: EPROTO TLS: truncated (...)       (reading ended otherwise than by close_notify)
 *
 * ("-" for no ALPN, SNI or peer certificate).  SIGHUP reads the certificate
 * files again (sea_tls_creds_reload) and says "tls: reloaded generation N"
 * or "tls: reload failed: WHY".  SIGUSR1 says how much of sea's memory all
 * shards' live allocations hold: "tls: heap used BYTES".  SIGTERM or SIGINT
 * stops it (exit 0), freeing everything.
 */
#include <sea/sea.h>
#include <sea/tls.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const sea_option opts[] = {
    {.name = "cert", .type = SEA_OPTION_STRING, .help = "the server's certificate chain (PEM)"},
    {.name = "key", .type = SEA_OPTION_STRING, .help = "its private key (PEM)"},
    {.name = "ca", .type = SEA_OPTION_STRING, .help = "the CAs client certificates are checked with (PEM)"},
    {.name = "verify-client", .type = SEA_OPTION_FLAG, .help = "require a client certificate signed by --ca"},
    {.name = "alpn", .type = SEA_OPTION_STRING, .help = "the protocols accepted, by preference: \"h2,http/1.1\""},
    {.name = "more-cert", .type = SEA_OPTION_STRING,
     .help = "further certificates chosen by SNI: PEM:KEY[,PEM:KEY...]"},
    {.name = "handshake-timeout", .type = SEA_OPTION_DOUBLE, .default_value = "10",
     .help = "seconds a handshake may take", .min = 0.01, .max = 3600},
};

static sea_tls_creds *creds; /* made on shard 0 before the server starts; read-only afterwards */

static const char *or_dash(const char *s) {
    return s ? s : "-";
}

/* Echoes in to out until the end; returns 0 (close_notify) or the error that ended it, *msg its message. */
static int echo(sea_input_stream *in, sea_output_stream *out, char *msg, size_t msglen) {
    for (;;) {
        sea_buf b;
        sea_future g = sea_await(sea_input_read(in, &b));
        if (sea_future_failed(&g)) {
            int err = sea_future_error(&g);
            snprintf(msg, msglen, "%s", or_dash(sea_future_message(&g)));
            sea_future_detach(g);
            return err;
        }
        sea_future_detach(g);
        if (b.len == 0)
            break;
        sea_future w = sea_await(sea_output_write_buf(out, b));
        if (!sea_future_failed(&w)) { /* sent now, not when the batch fills: the client waits for its echo */
            sea_future_detach(w);
            w = sea_await(sea_output_flush(out));
        }
        if (sea_future_failed(&w)) {
            int err = sea_future_error(&w);
            snprintf(msg, msglen, "%s", or_dash(sea_future_message(&w)));
            sea_future_detach(w);
            return err;
        }
        sea_future_detach(w);
    }
    sea_future c = sea_await(sea_output_close(out)); /* our close_notify */
    int err = sea_future_error(&c);
    if (err)
        snprintf(msg, msglen, "closing: %s", or_dash(sea_future_message(&c)));
    sea_future_detach(c);
    return err;
}

static sea_future serve(sea_socket *s) {
    sea_time timeout = (sea_time)(sea_option_double("handshake-timeout") * 1e9);
    sea_future r = sea_await(sea_tls_accept(creds, s, timeout));
    if (sea_future_failed(&r)) {
        fprintf(stderr, "tls: shard %u handshake failed: %s %s\n", sea_shard_id(), sea_errname(sea_future_error(&r)),
                or_dash(sea_future_message(&r)));
        sea_future_detach(r);
        return sea_ready(); /* the server closes the socket */
    }
    sea_tls *t = sea_future_value(&r).ptr;
    sea_future_detach(r);
    fprintf(stderr, "tls: shard %u version=%s alpn=%s sni=%s resumed=%s peer=\"%s\"\n", sea_shard_id(),
            sea_tls_version(t), or_dash(sea_tls_alpn(t)), or_dash(sea_tls_server_name(t)),
            sea_tls_resumed(t) ? "yes" : "no", or_dash(sea_tls_peer_subject(t)));
    sea_input_stream *in = sea_tls_input(t);
    sea_output_stream *out = sea_tls_output(t, 0);
    char msg[512] = "";
    int err = in && out ? echo(in, out, msg, sizeof(msg)) : -ENOMEM;
    if (err)
        fprintf(stderr, "tls: shard %u ended: %s %s\n", sea_shard_id(), sea_errname(err), msg);
    sea_output_stream_free(out);
    sea_input_stream_free(in);
    sea_tls_free(t);
    return sea_ready();
}

static sea_future reloaded(sea_future *in) {
    if (sea_future_failed(in))
        fprintf(stderr, "tls: reload failed: %s\n", or_dash(sea_future_message(in)));
    else
        fprintf(stderr, "tls: reloaded generation %u\n", sea_tls_creds_generation(creds));
    sea_future_detach(*in);
    *in = sea_ready();
    return sea_ready();
}

static void on_hup(int signo, void *arg) {
    (void)signo, (void)arg;
    if (creds)
        sea_future_detach(sea_then_wrapped(sea_tls_creds_reload(creds), reloaded));
}

static sea_future heap_used(void) {
    sea_memory_stats st;
    sea_memory_stats_get(&st);
    return sea_ready_size(st.used);
}

static sea_future heap_said(sea_future *in) {
    if (!sea_future_failed(in))
        fprintf(stderr, "tls: heap used %zu\n", sea_future_value(in).size);
    return sea_future_move(in);
}

static void on_usr1(int signo, void *arg) {
    (void)signo, (void)arg;
    sea_future_detach(sea_then_wrapped(sea_map_reduce(heap_used, sea_reduce_sum_size, (sea_value){.size = 0}),
                                       heap_said));
}

/* "a.pem:a.key,b.pem:b.key" into certs (at most max); the count, or -1 if malformed. */
static int parse_more(char *list, sea_tls_cert *certs, int max) {
    int n = 0;
    for (char *item = list; item && *item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = 0;
        char *colon = strchr(item, ':');
        if (!colon || n == max)
            return -1;
        *colon = 0;
        certs[n++] = (sea_tls_cert){item, colon + 1};
        item = comma ? comma + 1 : NULL;
    }
    return n;
}

static sea_future app_main(void) {
    char why[512];
    static char more_text[4096];
    static sea_tls_cert more[8];
    int more_count = 0;
    if (sea_option_string("more-cert")) {
        snprintf(more_text, sizeof(more_text), "%s", sea_option_string("more-cert"));
        more_count = parse_more(more_text, more, 8);
        if (more_count < 0)
            return sea_failed(-EINVAL, "tls_echo: --more-cert wants PEM:KEY[,PEM:KEY...] (at most 8)");
    }
    sea_tls_options o = {
        .more_certs = more,
        .more_cert_count = (unsigned)more_count,
        .cert_file = sea_option_string("cert"),
        .key_file = sea_option_string("key"),
        .ca_file = sea_option_string("ca"),
        .verify_client = sea_option_flag("verify-client"),
        .alpn = sea_option_string("alpn"),
    };
    int rc = sea_tls_creds_new(SEA_TLS_SERVER, &o, &creds, why, sizeof(why));
    if (rc < 0)
        return sea_failed_fmt(rc, "tls_echo: %s", why);
    sea_signal_handle(SIGHUP, on_hup, NULL);
    sea_signal_handle(SIGUSR1, on_usr1, NULL);
    sea_future f = sea_await(sea_server_start("127.0.0.1:0", &(sea_server_options){.fibers = true}, serve));
    if (sea_future_failed(&f)) {
        sea_tls_creds_free(creds);
        return f;
    }
    sea_server *srv = sea_future_value(&f).ptr;
    sea_addr a = sea_server_addr(srv);
    char shown[64];
    sea_addr_format(&a, shown, sizeof(shown));
    printf("serving %s\n", shown);
    fflush(stdout);
    sea_future stopped = sea_await(sea_server_stopped(srv)); /* SIGTERM: every connection's fiber has ended */
    sea_tls_creds_free(creds);
    creds = NULL;
    return stopped;
}

int main(int argc, char **argv) {
    if (sea_app_add_options(opts, SEA_OPTION_COUNT(opts)) != 0)
        return 2;
    return sea_app_run_fiber(argc, argv, app_main);
}
