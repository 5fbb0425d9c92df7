/*
 * test_tls.c - TLS (sea/tls.h) with sea at both ends, in one process, over
 * loopback.
 *
 *     test_tls TLS_CERTS_SH OPENSSL [harness options] [case]
 *
 * The certificates are made at start-up by tests/support/tls_certs.sh (the
 * openssl CLI) in a temporary directory, removed at the end.  Each case
 * listens on 127.0.0.1:0, connects and accepts, and runs the server's side
 * of the connection in a fiber (struct srv) while the case's fiber is the
 * client.
 *
 * Echo of 1 byte, 100 KB and 8 MiB (and 100 KB with an RSA-2048
 * certificate) through sea_tls_input/sea_tls_output, checked byte for byte,
 * the client writing and reading at once; TLS 1.3 by default; ALPN (a
 * protocol in common, none in common, a server without ALPN); SNI as the
 * server sees it; the certificate refusals (another host name, an untrusted
 * CA, an expired certificate) with -EPROTO and a message naming the
 * problem, and a host given as an IP address; mutual TLS (the client's
 * subject seen by the server; a client without a certificate, or with one
 * from another CA, refused by the server); close_notify as the clean end;
 * a peer that stops without close_notify, either way, as -EPROTO
 * "truncated"; garbage instead of a ClientHello (-EPROTO, well before the
 * handshake timeout), a silent peer (-ETIMEDOUT, on both sides), half a
 * ClientHello then the end (-ECONNRESET or -EPROTO); credentials that
 * cannot be made (-EINVAL and why).  No sleeps: every wait is for an event.
 */
#include "check.h"

#include <sea/tls.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The library's clock for session tickets' key periods is moved by this (src/net/net.h): a test hook. */
extern int64_t sea__tls_clock_skew;

/* ---- certificates and credentials ---- */

static char cert_dir[512];

/* cert_dir/name, in one of a few rotating buffers (one call may use several). */
static const char *P(const char *name) {
    static char bufs[8][640];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", cert_dir, name);
    return b;
}

/* Credentials from o, or NULL (a failed CHECK, with why). */
static sea_tls_creds *creds(sea_tls_role role, sea_tls_options o) {
    char why[512];
    sea_tls_creds *c = NULL;
    int rc = sea_tls_creds_new(role, &o, &c, why, sizeof(why));
    if (rc)
        fprintf(stderr, "  credentials: %s\n", why);
    CHECK_EQ(rc, 0);
    return rc ? NULL : c;
}

/* The usual server (EC P-256, "localhost" and 127.0.0.1) and a client trusting the test CA. */
static sea_tls_creds *server_creds(void) {
    return creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("server.key")});
}
static sea_tls_creds *client_creds(void) {
    return creds(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("ca.pem")});
}

/* ---- a connected pair of sockets ---- */

struct pair {
    sea_listener *l;
    sea_socket *srv, *cli;
};

/* Set: every pair is made on this listener (a client keeps sessions per server address). */
static sea_listener *same_server;

static bool pair_open(struct pair *p) {
    *p = (struct pair){0};
    if (same_server) {
        p->l = same_server;
    } else {
        sea_addr a;
        sea_addr_parse("127.0.0.1:0", &a);
        CHECK_EQ(sea_listen(&a, NULL, &p->l), 0);
    }
    if (!p->l)
        return false;
    sea_addr bound = sea_listener_addr(p->l);
    sea_future cf = sea_connect(&bound, SEA_SEC(10));
    sea_value v;
    int aerr = sea_test_await_err(sea_accept(p->l), &v);
    CHECK_EQ(aerr, 0);
    if (!aerr)
        p->srv = v.ptr;
    int cerr = sea_test_await_err(cf, &v);
    CHECK_EQ(cerr, 0);
    if (!cerr)
        p->cli = v.ptr;
    return p->srv && p->cli;
}

static void pair_close(struct pair *p) {
    sea_socket_close(p->srv);
    sea_socket_close(p->cli);
    if (p->l != same_server)
        sea_listener_close(p->l);
}

/* ---- the server's side, in a fiber ---- */

enum srv_mode {
    SRV_ECHO,     /* echo until the client's close_notify, then close (close_notify) */
    SRV_READ,     /* read until the end or an error, then close */
    SRV_TRUNCATE, /* send "xyz", then shut the socket's sending side down without close_notify */
};

struct srv {
    sea_tls_creds *creds;
    sea_socket *s;
    sea_time timeout;
    enum srv_mode mode;
    /* What happened: the handshake's error (0: none), then what was seen. */
    int hs_err;
    char hs_msg[512];
    char version[16], alpn[32], sni[64], subject[256];
    bool resumed;
    int end_err; /* how reading ended: 0 (close_notify) or the error */
    char end_msg[256];
    size_t total;  /* plaintext bytes read */
    char head[16]; /* the first of them */
};

/* s, or "<none>" for NULL, into dst. */
static void keep(char *dst, size_t n, const char *s) {
    snprintf(dst, n, "%s", s ? s : "<none>");
}

static sea_future server_fiber(struct srv **svp) {
    struct srv *sv = *svp;
    sea_future r = sea_await(sea_tls_accept(sv->creds, sv->s, sv->timeout));
    if (sea_future_failed(&r)) {
        sv->hs_err = sea_future_error(&r);
        keep(sv->hs_msg, sizeof(sv->hs_msg), sea_future_message(&r));
        sea_future_detach(r);
        return sea_ready();
    }
    sea_tls *t = sea_future_value(&r).ptr;
    sea_future_detach(r);
    keep(sv->version, sizeof(sv->version), sea_tls_version(t));
    keep(sv->alpn, sizeof(sv->alpn), sea_tls_alpn(t));
    keep(sv->sni, sizeof(sv->sni), sea_tls_server_name(t));
    keep(sv->subject, sizeof(sv->subject), sea_tls_peer_subject(t));
    sv->resumed = sea_tls_resumed(t);
    sea_input_stream *in = sea_tls_input(t);
    sea_output_stream *out = sea_tls_output(t, 0);
    if (sv->mode == SRV_TRUNCATE) {
        CHECK_EQ(sea_test_await_err(sea_output_write(out, "xyz", 3), NULL), 0);
        CHECK_EQ(sea_test_await_err(sea_output_flush(out), NULL), 0);
        CHECK_EQ(sea_socket_shutdown(sv->s, SHUT_WR), 0);
    } else {
        for (;;) {
            sea_buf b;
            sea_future g = sea_await(sea_input_read(in, &b));
            if (sea_future_failed(&g)) {
                sv->end_err = sea_future_error(&g);
                keep(sv->end_msg, sizeof(sv->end_msg), sea_future_message(&g));
                sea_future_detach(g);
                break;
            }
            sea_future_detach(g);
            if (b.len == 0)
                break;
            if (sv->total < sizeof(sv->head) - 1) {
                size_t k = b.len < sizeof(sv->head) - 1 - sv->total ? b.len : sizeof(sv->head) - 1 - sv->total;
                memcpy(sv->head + sv->total, b.data, k);
            }
            sv->total += b.len;
            if (sv->mode == SRV_ECHO) {
                int werr = sea_test_await_err(sea_output_write_buf(out, b), NULL);
                if (!werr) /* now, not when the batch fills */
                    werr = sea_test_await_err(sea_output_flush(out), NULL);
                CHECK_EQ(werr, 0);
                if (werr)
                    break;
            } else {
                sea_buf_release(&b);
            }
        }
        if (!sv->end_err)
            CHECK_EQ(sea_test_await_err(sea_output_close(out), NULL), 0);
    }
    sea_output_stream_free(out);
    sea_input_stream_free(in);
    sea_tls_free(t);
    return sea_ready();
}

/* ---- the client's side ---- */

/* Connects over s; returns the connection, or NULL with *err and msg set. */
static sea_tls *client_connect(sea_tls_creds *c, sea_socket *s, const char *host, sea_time timeout, int *err,
                               char *msg, size_t msglen) {
    sea_future r = sea_await(sea_tls_connect(c, s, host, timeout));
    *err = sea_future_error(&r);
    if (*err) {
        keep(msg, msglen, sea_future_message(&r));
        sea_future_detach(r);
        return NULL;
    }
    keep(msg, msglen, NULL);
    sea_tls *t = sea_future_value(&r).ptr;
    sea_future_detach(r);
    return t;
}

/* Reads in until its end; the bytes (at most cap, NUL-terminated) in buf; returns 0 or the error (msg). */
static int read_all(sea_input_stream *in, char *buf, size_t cap, size_t *total, char *msg, size_t msglen) {
    *total = 0;
    buf[0] = 0;
    for (int guard = 0; guard < 1000; guard++) {
        sea_buf b;
        sea_future g = sea_await(sea_input_read(in, &b));
        if (sea_future_failed(&g)) {
            int e = sea_future_error(&g);
            keep(msg, msglen, sea_future_message(&g));
            sea_future_detach(g);
            return e;
        }
        sea_future_detach(g);
        if (b.len == 0)
            return 0;
        if (*total + b.len < cap) {
            memcpy(buf + *total, b.data, b.len);
            buf[*total + b.len] = 0;
        }
        *total += b.len;
        sea_buf_release(&b);
    }
    return -E2BIG;
}

/* ---- echo ---- */

static unsigned char pattern[8u << 20];

struct writer {
    sea_output_stream *out;
    size_t total;
    uint64_t seed;
};

/* Writes pattern[0, total) in pieces of 1 byte to 70 000 bytes, then closes (close_notify). */
static sea_future writer_fiber(struct writer *w) {
    uint64_t rng = w->seed;
    size_t off = 0;
    while (off < w->total) {
        size_t n = 1 + sea_test_rand(&rng) % 70000;
        if (n > w->total - off)
            n = w->total - off;
        SEA_AWAIT(sea_output_write(w->out, pattern + off, n));
        off += n;
    }
    SEA_AWAIT(sea_output_close(w->out));
    return sea_ready_size(off);
}

/* Echoes total bytes through a server using cert/key; checks both ends. */
static void echo_round(const char *cert, const char *key, size_t total) {
    sea_tls_creds *sc = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P(cert), .key_file = P(key)});
    sea_tls_creds *cc = client_creds();
    struct pair p;
    if (pair_open(&p)) {
        struct srv sv = {.creds = sc, .s = p.srv, .mode = SRV_ECHO};
        struct srv *svp = &sv;
        sea_future sf = sea_fiber_start(server_fiber, svp);
        int err;
        char msg[512];
        sea_tls *t = client_connect(cc, p.cli, "localhost", 0, &err, msg, sizeof(msg));
        CHECK_EQ(err, 0);
        if (err)
            fprintf(stderr, "  connect: %s\n", msg);
        if (t) {
            CHECK_STREQ(sea_tls_version(t), "TLSv1.3");
            CHECK(sea_tls_alpn(t) == NULL);
            CHECK(sea_tls_peer_subject(t) != NULL);
            sea_input_stream *in = sea_tls_input(t);
            sea_output_stream *out = sea_tls_output(t, 0);
            sea_future wf = sea_fiber_start(writer_fiber, ((struct writer){out, total, total + 1}));
            size_t got = 0;
            bool same = true;
            int rerr = 0;
            for (size_t guard = 0; guard <= total; guard++) {
                sea_buf b;
                sea_future g = sea_await(sea_input_read(in, &b));
                if (sea_future_failed(&g)) {
                    rerr = sea_future_error(&g);
                    fprintf(stderr, "  read: %s\n", sea_future_message(&g));
                    sea_future_detach(g);
                    break;
                }
                sea_future_detach(g);
                if (b.len == 0)
                    break;
                if (got + b.len > total || memcmp(b.data, pattern + got, b.len) != 0)
                    same = false;
                got += b.len;
                sea_buf_release(&b);
            }
            CHECK_EQ(rerr, 0); /* the server's close_notify: a clean end */
            CHECK_EQ(got, total);
            CHECK(same);
            sea_value wv;
            CHECK_EQ(sea_test_await_err(wf, &wv), 0);
            CHECK_EQ(wv.size, total);
            sea_output_stream_free(out);
            sea_input_stream_free(in);
            sea_tls_free(t);
        }
        CHECK_EQ(sea_test_await_err(sf, NULL), 0);
        CHECK_EQ(sv.hs_err, 0);
        CHECK_STREQ(sv.version, "TLSv1.3");
        CHECK_STREQ(sv.sni, "localhost");
        CHECK_STREQ(sv.subject, "<none>"); /* no client certificate asked for */
        CHECK_EQ(sv.end_err, 0);
        CHECK_EQ(sv.total, total);
    }
    pair_close(&p);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
}

FIBER_CASE(t_echo) {
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (unsigned char)(i * 131 + (i >> 13));
    echo_round("server.pem", "server.key", 1);
    echo_round("server.pem", "server.key", 100000);
    echo_round("server.pem", "server.key", sizeof(pattern));
    echo_round("rsa.pem", "rsa.key", 100000);
    return sea_ready();
}

/* ---- one handshake, and what each side saw ---- */

struct shake {
    struct srv sv;
    int err; /* the client's */
    char msg[512];
    char version[16], alpn[32], subject[256];
    bool resumed;
    int end_err; /* the client's reading, after a successful handshake: 0 (close_notify) or the error */
    char end_msg[256];
    char data[64];
};

/*
 * Handshakes a client (cc, host) with a server (sc) whose side runs in mode
 * (SRV_READ: it reads until the client's close_notify); the client then
 * closes (close_notify) and reads until the end.  server_timeout 0: 10 s.
 */
static void shake(sea_tls_creds *sc, sea_tls_creds *cc, const char *host, enum srv_mode mode, sea_time server_timeout,
                  struct shake *k) {
    memset(k, 0, sizeof(*k));
    struct pair p;
    if (!pair_open(&p)) {
        pair_close(&p);
        return;
    }
    k->sv = (struct srv){.creds = sc, .s = p.srv, .mode = mode, .timeout = server_timeout};
    struct srv *svp = &k->sv;
    sea_future sf = sea_fiber_start(server_fiber, svp);
    sea_tls *t = client_connect(cc, p.cli, host, 0, &k->err, k->msg, sizeof(k->msg));
    if (t) {
        keep(k->version, sizeof(k->version), sea_tls_version(t));
        keep(k->alpn, sizeof(k->alpn), sea_tls_alpn(t));
        keep(k->subject, sizeof(k->subject), sea_tls_peer_subject(t));
        k->resumed = sea_tls_resumed(t);
        sea_input_stream *in = sea_tls_input(t);
        sea_output_stream *out = sea_tls_output(t, 0);
        if (mode != SRV_TRUNCATE) {
            int werr = sea_test_await_err(sea_output_write(out, "hello", 5), NULL);
            if (!werr)
                werr = sea_test_await_err(sea_output_close(out), NULL);
            if (werr) /* the server refused us after our side of the handshake was done */
                k->end_err = werr;
        }
        size_t n;
        if (!k->end_err)
            k->end_err = read_all(in, k->data, sizeof(k->data), &n, k->end_msg, sizeof(k->end_msg));
        sea_output_stream_free(out);
        sea_input_stream_free(in);
        sea_tls_free(t);
    }
    CHECK_EQ(sea_test_await_err(sf, NULL), 0);
    pair_close(&p);
}

/* A successful handshake: both sides agree, the data went through, both ended cleanly. */
static void check_ok(const struct shake *k, const char *what) {
    if (k->err || k->sv.hs_err)
        fprintf(stderr, "  %s: client %s: %s; server %s: %s\n", what, sea_errname(k->err), k->msg,
                sea_errname(k->sv.hs_err), k->sv.hs_msg);
    CHECK_EQ(k->err, 0);
    CHECK_EQ(k->sv.hs_err, 0);
    CHECK_EQ(k->end_err, 0);
    CHECK_EQ(k->sv.end_err, 0);
    CHECK_STREQ(k->sv.head, "hello");
    CHECK_STREQ(k->version, "TLSv1.3");
    CHECK_STREQ(k->sv.version, "TLSv1.3");
}

FIBER_CASE(t_alpn_and_sni) {
    sea_tls_creds *s11 = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"),
                                                                  .key_file = P("server.key"), .alpn = "http/1.1"});
    sea_tls_creds *s_none = server_creds();
    sea_tls_creds *c_both = creds(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("ca.pem"), .alpn = "h2,http/1.1"});
    sea_tls_creds *c_h2 = creds(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("ca.pem"), .alpn = "h2"});
    struct shake k;
    /* The server's choice among the client's offers. */
    shake(s11, c_both, "localhost", SRV_READ, 0, &k);
    check_ok(&k, "h2,http/1.1 to http/1.1");
    CHECK_STREQ(k.alpn, "http/1.1");
    CHECK_STREQ(k.sv.alpn, "http/1.1");
    CHECK_STREQ(k.sv.sni, "localhost");
    /* Nothing in common: the connection goes on without a protocol. */
    shake(s11, c_h2, "localhost", SRV_READ, 0, &k);
    check_ok(&k, "h2 to http/1.1");
    CHECK_STREQ(k.alpn, "<none>");
    CHECK_STREQ(k.sv.alpn, "<none>");
    /* A server without ALPN. */
    shake(s_none, c_both, "localhost", SRV_READ, 0, &k);
    check_ok(&k, "h2,http/1.1 to no ALPN");
    CHECK_STREQ(k.alpn, "<none>");
    CHECK_STREQ(k.sv.alpn, "<none>");
    /* The server's certificate's subject, as the client sees it (RFC 2253, as sea/tls.h shows it). */
    CHECK_STREQ(k.subject, "CN=localhost,O=sea tests");
    /* Without a host name: no SNI (and with no_verify, no check). */
    sea_tls_creds *c_any = creds(SEA_TLS_CLIENT, (sea_tls_options){.no_verify = true});
    shake(s_none, c_any, NULL, SRV_READ, 0, &k);
    check_ok(&k, "no host, no_verify");
    CHECK_STREQ(k.sv.sni, "<none>");
    /* no_verify with a host: sent as SNI, not checked (the certificate is for localhost). */
    shake(s_none, c_any, "other.example", SRV_READ, 0, &k);
    check_ok(&k, "other.example, no_verify");
    CHECK_STREQ(k.sv.sni, "other.example");
    sea_tls_creds_free(c_any);
    sea_tls_creds_free(c_h2);
    sea_tls_creds_free(c_both);
    sea_tls_creds_free(s_none);
    sea_tls_creds_free(s11);
    return sea_ready();
}

/* The client refused the server's certificate with -EPROTO and a message containing why; the server failed too. */
static void check_refused(const struct shake *k, const char *why, const char *what) {
    if (k->err != -EPROTO || !strstr(k->msg, why))
        fprintf(stderr, "  %s: client %s: %s\n", what, sea_errname(k->err), k->msg);
    CHECK_EQ(k->err, -EPROTO);
    CHECK_CONTAINS(k->msg, why);
    CHECK_CONTAINS(k->msg, "certificate");
    /* The client's alert tells the server (or the connection simply ends). */
    CHECK(k->sv.hs_err == -EPROTO || k->sv.hs_err == -ECONNRESET);
}

FIBER_CASE(t_server_certificate_refused) {
    sea_tls_creds *sc = server_creds();
    sea_tls_creds *cc = client_creds();
    struct shake k;
    /* The host name the client asked for is not the certificate's. */
    shake(sc, cc, "other.example", SRV_READ, 0, &k);
    check_refused(&k, "hostname mismatch", "other.example against localhost's certificate");
    sea_tls_creds *s_other = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("other.pem"),
                                                                      .key_file = P("other.key")});
    shake(s_other, cc, "localhost", SRV_READ, 0, &k);
    check_refused(&k, "hostname mismatch", "localhost against other.example's certificate");
    /* ...which is fine for a client that asks for other.example. */
    shake(s_other, cc, "other.example", SRV_READ, 0, &k);
    check_ok(&k, "other.example");
    /* The IP address the certificate names. */
    shake(sc, cc, "127.0.0.1", SRV_READ, 0, &k);
    check_ok(&k, "127.0.0.1");
    CHECK_STREQ(k.sv.sni, "<none>"); /* an address is not a host name: never sent as SNI (RFC 6066, 3) */
    /* A CA the client does not trust. */
    sea_tls_creds *c_rogue = creds(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("rogue-ca.pem")});
    shake(sc, c_rogue, "localhost", SRV_READ, 0, &k);
    check_refused(&k, "local issuer", "an untrusted CA");
    /* An expired certificate. */
    sea_tls_creds *s_expired = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("expired.pem"),
                                                                        .key_file = P("expired.key")});
    shake(s_expired, cc, "localhost", SRV_READ, 0, &k);
    check_refused(&k, "expired", "an expired certificate");
    sea_tls_creds_free(s_expired);
    sea_tls_creds_free(c_rogue);
    sea_tls_creds_free(s_other);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
    return sea_ready();
}

FIBER_CASE(t_mutual_tls) {
    sea_tls_creds *sc = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"),
                                                                 .key_file = P("server.key"),
                                                                 .ca_file = P("ca.pem"), .verify_client = true});
    sea_tls_creds *cc = creds(SEA_TLS_CLIENT, (sea_tls_options){.cert_file = P("client.pem"),
                                                                 .key_file = P("client.key"), .ca_file = P("ca.pem")});
    struct shake k;
    shake(sc, cc, "localhost", SRV_READ, 0, &k);
    check_ok(&k, "a client certificate");
    CHECK_STREQ(k.sv.subject, "CN=client,O=sea tests");
    /* Without a certificate: the server refuses.  In TLS 1.3 the client's side of the handshake is over
       by then: it learns it from the server's alert, on its next read or write. */
    sea_tls_creds *c_none = client_creds();
    shake(sc, c_none, "localhost", SRV_READ, 0, &k);
    if (k.sv.hs_err != -EPROTO)
        fprintf(stderr, "  no client certificate: server %s: %s\n", sea_errname(k.sv.hs_err), k.sv.hs_msg);
    CHECK_EQ(k.sv.hs_err, -EPROTO);
    CHECK_CONTAINS(k.sv.hs_msg, "certificate");
    CHECK(k.err == -EPROTO || (k.err == 0 && k.end_err != 0));
    CHECK_EQ(k.sv.total, 0);
    /* With a certificate from a CA the server does not trust. */
    sea_tls_creds *c_rogue = creds(SEA_TLS_CLIENT, (sea_tls_options){.cert_file = P("rogue-client.pem"),
                                                                      .key_file = P("rogue-client.key"),
                                                                      .ca_file = P("ca.pem")});
    shake(sc, c_rogue, "localhost", SRV_READ, 0, &k);
    if (k.sv.hs_err != -EPROTO)
        fprintf(stderr, "  a rogue client certificate: server %s: %s\n", sea_errname(k.sv.hs_err), k.sv.hs_msg);
    CHECK_EQ(k.sv.hs_err, -EPROTO);
    CHECK_CONTAINS(k.sv.hs_msg, "certificate");
    CHECK(k.err == -EPROTO || (k.err == 0 && k.end_err != 0));
    CHECK_EQ(k.sv.total, 0);
    /* A server that does not ask ignores a client's certificate. */
    sea_tls_creds *s_plain = server_creds();
    shake(s_plain, cc, "localhost", SRV_READ, 0, &k);
    check_ok(&k, "a client certificate nobody asked for");
    CHECK_STREQ(k.sv.subject, "<none>");
    sea_tls_creds_free(s_plain);
    sea_tls_creds_free(c_rogue);
    sea_tls_creds_free(c_none);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
    return sea_ready();
}

/* ---- how connections end ---- */

FIBER_CASE(t_close_notify_and_truncation) {
    sea_tls_creds *sc = server_creds();
    sea_tls_creds *cc = client_creds();
    struct shake k;
    /* close_notify each way: both readers see a clean end (0), after all the data. */
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "close_notify");
    CHECK_STREQ(k.data, "hello");
    CHECK_EQ(k.sv.total, 5);
    /* The server stops sending without close_notify: the client's reader gets the data, then "truncated". */
    shake(sc, cc, "localhost", SRV_TRUNCATE, 0, &k);
    CHECK_EQ(k.err, 0);
    CHECK_STREQ(k.data, "xyz");
    CHECK_EQ(k.end_err, -EPROTO);
    CHECK_CONTAINS(k.end_msg, "truncated");
    /* The client does the same: the server's reader gets "abc", then "truncated". */
    struct pair p;
    if (pair_open(&p)) {
        struct srv sv = {.creds = sc, .s = p.srv, .mode = SRV_READ};
        struct srv *svp = &sv;
        sea_future sf = sea_fiber_start(server_fiber, svp);
        int err;
        char msg[512];
        sea_tls *t = client_connect(cc, p.cli, "localhost", 0, &err, msg, sizeof(msg));
        CHECK_EQ(err, 0);
        if (t) {
            sea_output_stream *out = sea_tls_output(t, 0);
            CHECK_EQ(sea_test_await_err(sea_output_write(out, "abc", 3), NULL), 0);
            CHECK_EQ(sea_test_await_err(sea_output_flush(out), NULL), 0);
            CHECK_EQ(sea_socket_shutdown(p.cli, SHUT_WR), 0); /* a FIN, no close_notify */
            CHECK_EQ(sea_test_await_err(sf, NULL), 0);
            sea_output_stream_free(out);
            sea_tls_free(t);
        } else {
            sea_future_detach(sea_await(sf));
        }
        CHECK_EQ(sv.hs_err, 0);
        CHECK_STREQ(sv.head, "abc");
        CHECK_EQ(sv.end_err, -EPROTO);
        CHECK_CONTAINS(sv.end_msg, "truncated");
    }
    pair_close(&p);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
    return sea_ready();
}

/* ---- hostile or broken peers ---- */

/* Runs a server's handshake (timeout: 0 for 10 s) against raw bytes from the client socket; returns its error. */
static int against_raw(sea_tls_creds *sc, const void *bytes, size_t len, bool close_after, sea_time timeout,
                       char *msg, size_t msglen) {
    struct pair p;
    int err = 0;
    if (pair_open(&p)) {
        struct srv sv = {.creds = sc, .s = p.srv, .mode = SRV_READ, .timeout = timeout};
        struct srv *svp = &sv;
        sea_future sf = sea_fiber_start(server_fiber, svp);
        if (len)
            CHECK_EQ(sea_test_await_err(sea_socket_write(p.cli, bytes, len), NULL), 0);
        if (close_after) {
            sea_socket_close(p.cli);
            p.cli = NULL;
        }
        CHECK_EQ(sea_test_await_err(sf, NULL), 0);
        err = sv.hs_err;
        keep(msg, msglen, sv.hs_msg);
    }
    pair_close(&p);
    return err;
}

FIBER_CASE(t_hostile_clients) {
    sea_tls_creds *sc = server_creds();
    char msg[512];
    /* Garbage instead of a ClientHello: refused at once (the 10 s handshake timeout is not what ends it). */
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    int err = against_raw(sc, http, sizeof(http) - 1, false, SEA_SEC(10), msg, sizeof(msg));
    CHECK_EQ(err, -EPROTO);
    CHECK_CONTAINS(msg, "TLS handshake");
    /* A handshake record whose message is nonsense. */
    unsigned char junk[5 + 64] = {0x16, 0x03, 0x01, 0x00, 64};
    uint64_t rng = 99;
    for (size_t i = 5; i < sizeof(junk); i++)
        junk[i] = (unsigned char)sea_test_rand(&rng);
    junk[5] = 0x01; /* ClientHello, with a length that does not fit the record */
    err = against_raw(sc, junk, sizeof(junk), false, SEA_SEC(10), msg, sizeof(msg));
    CHECK_EQ(err, -EPROTO);
    /* Random bytes. */
    unsigned char noise[300];
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (unsigned char)sea_test_rand(&rng);
    noise[0] = 0x47; /* not a record type */
    err = against_raw(sc, noise, sizeof(noise), false, SEA_SEC(10), msg, sizeof(msg));
    CHECK_EQ(err, -EPROTO);
    /* A peer that connects and says nothing: the handshake times out. */
    err = against_raw(sc, NULL, 0, false, SEA_MSEC(300), msg, sizeof(msg));
    if (err != -ETIMEDOUT)
        fprintf(stderr, "  a silent client: %s: %s\n", sea_errname(err), msg);
    CHECK_EQ(err, -ETIMEDOUT);
    /* A peer that connects and leaves at once. */
    err = against_raw(sc, NULL, 0, true, SEA_SEC(10), msg, sizeof(msg));
    CHECK_EQ(err, -ECONNRESET);

    /* A real ClientHello, from sea's client to a raw server socket, which then leaves: the client fails
       with -ECONNRESET. */
    sea_tls_creds *cc = client_creds();
    static unsigned char hello[4096];
    size_t hlen = 0;
    struct pair p;
    if (pair_open(&p)) {
        sea_future cf = sea_tls_connect(cc, p.cli, "localhost", 0);
        size_t want = 5;
        for (int guard = 0; guard < 100 && hlen < want; guard++) {
            sea_value v;
            if (sea_test_await_err(sea_socket_read(p.srv, hello + hlen, sizeof(hello) - hlen), &v) || !v.size)
                break;
            hlen += v.size;
            if (hlen >= 5)
                want = 5 + ((size_t)hello[3] << 8 | hello[4]);
        }
        CHECK(hlen >= 5 && hello[0] == 0x16 && hlen == want && hello[5] == 0x01);
        CHECK_EQ(sea_socket_shutdown(p.srv, SHUT_RDWR), 0);
        sea_future r = sea_await(cf);
        CHECK_EQ(sea_future_error(&r), -ECONNRESET);
        sea_future_detach(r);
    }
    pair_close(&p);
    /* Half of it, then the end. */
    if (hlen > 10) {
        err = against_raw(sc, hello, hlen / 2, true, SEA_SEC(10), msg, sizeof(msg));
        if (err != -ECONNRESET && err != -EPROTO)
            fprintf(stderr, "  half a ClientHello: %s: %s\n", sea_errname(err), msg);
        CHECK(err == -ECONNRESET || err == -EPROTO);
        /* The whole of it, then the end: the server's answer goes nowhere. */
        err = against_raw(sc, hello, hlen, true, SEA_SEC(10), msg, sizeof(msg));
        CHECK(err == -ECONNRESET || err == -EPROTO || err == -EPIPE);
    }
    /* A server that never answers: the client's handshake times out. */
    if (pair_open(&p)) {
        sea_future r = sea_await(sea_tls_connect(cc, p.cli, "localhost", SEA_MSEC(300)));
        if (sea_future_error(&r) != -ETIMEDOUT)
            fprintf(stderr, "  a silent server: %s: %s\n", sea_errname(sea_future_error(&r)),
                    sea_future_message(&r) ? sea_future_message(&r) : "");
        CHECK_EQ(sea_future_error(&r), -ETIMEDOUT);
        sea_future_detach(r);
    }
    pair_close(&p);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
    return sea_ready();
}

/* ---- several certificates, chosen by SNI ---- */

static void check_creds_error_more(const sea_tls_cert *bad) {
    char why[512] = "";
    sea_tls_creds *c = NULL;
    int rc = sea_tls_creds_new(SEA_TLS_SERVER, &(sea_tls_options){.cert_file = P("server.pem"),
                                                                   .key_file = P("server.key"), .more_certs = bad,
                                                                   .more_cert_count = 1},
                               &c, why, sizeof(why));
    CHECK_EQ(rc, -EINVAL);
    CHECK_CONTAINS(why, "missing.pem");
    if (rc == 0)
        sea_tls_creds_free(c);
}

FIBER_CASE(t_certificates_by_name) {
    const sea_tls_cert more[] = {{P("other.pem"), P("other.key")}};
    sea_tls_creds *sc = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("server.key"),
                                                                 .more_certs = more, .more_cert_count = 1});
    sea_tls_creds *cc = client_creds();
    sea_tls_creds *any = creds(SEA_TLS_CLIENT, (sea_tls_options){.no_verify = true});
    struct shake k;
    /* Each name gets its own certificate, verified by the client against that name. */
    shake(sc, cc, "other.example", SRV_ECHO, 0, &k);
    check_ok(&k, "other.example");
    CHECK_CONTAINS(k.subject, "CN=other.example");
    CHECK_STREQ(k.sv.sni, "other.example");
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "localhost");
    CHECK_CONTAINS(k.subject, "CN=localhost");
    /* No name (an IP address is not sent), or a name none has: the first certificate. */
    shake(sc, cc, "127.0.0.1", SRV_ECHO, 0, &k);
    check_ok(&k, "127.0.0.1");
    CHECK_CONTAINS(k.subject, "CN=localhost");
    shake(sc, any, "nobody.example", SRV_ECHO, 0, &k);
    check_ok(&k, "nobody.example");
    CHECK_CONTAINS(k.subject, "CN=localhost");
    sea_tls_creds_free(any);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
    /* A further certificate that cannot be read, or a client given one, is an error at once. */
    const sea_tls_cert bad[] = {{P("missing.pem"), P("other.key")}};
    check_creds_error_more(bad);
    return sea_ready();
}

/* ---- resumption: session tickets and the client's sessions ---- */

FIBER_CASE(t_resumption) {
    sea_tls_creds *sc = server_creds();
    sea_tls_creds *cc = client_creds();
    /* The middle of a key period, so that the real clock cannot cross into the next one during the case. */
    const sea_time period = SEA_SEC(3600);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * SEA_SEC(1) + ts.tv_nsec;
    sea__tls_clock_skew = period / 2 - now % period;
    sea_addr any_port;
    sea_addr_parse("127.0.0.1:0", &any_port);
    CHECK_EQ(sea_listen(&any_port, NULL, &same_server), 0);
    struct shake k;
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "first");
    CHECK(!k.resumed);
    CHECK(!k.sv.resumed);
    /* The client kept the ticket the server sent, and offers it: no full handshake. */
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "second");
    CHECK(k.resumed);
    CHECK(k.sv.resumed);
    CHECK_STREQ(k.subject, "CN=localhost,O=sea tests"); /* the certificate the session was made with */
    /* Another name is another server to the client: a full handshake. */
    shake(sc, cc, "127.0.0.1", SRV_ECHO, 0, &k);
    check_ok(&k, "by address");
    CHECK(!k.resumed);
    /* One key period later the ticket still opens (and a new one is issued); two later it does not. */
    sea__tls_clock_skew += period;
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "next period");
    CHECK(k.resumed);
    CHECK(k.sv.resumed);
    sea__tls_clock_skew += 2 * period;
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "two periods on");
    CHECK(!k.sv.resumed);
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "with the fresh ticket");
    CHECK(k.sv.resumed);
    /* Tickets from other credentials (another server, or this one restarted) do not open. */
    sea_tls_creds *sc2 = server_creds();
    shake(sc2, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "another server");
    CHECK(!k.sv.resumed);
    sea_tls_creds_free(sc2);
    sea__tls_clock_skew = 0;
    /* The same name at another address is another server. */
    sea_listener_close(same_server);
    same_server = NULL;
    shake(sc, cc, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "another port");
    CHECK(!k.sv.resumed);
    /* A client that keeps no sessions, and a server that issues no tickets. */
    sea_tls_creds *forget = creds(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("ca.pem"), .no_resumption = true});
    for (int i = 0; i < 2; i++) {
        shake(sc, forget, "localhost", SRV_ECHO, 0, &k);
        check_ok(&k, "no_resumption");
        CHECK(!k.sv.resumed);
    }
    sea_tls_creds_free(forget);
    sea_tls_creds *noticket = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"),
                                                                       .key_file = P("server.key"), .no_tickets = true});
    sea_tls_creds *cc2 = client_creds();
    for (int i = 0; i < 2; i++) {
        shake(noticket, cc2, "localhost", SRV_ECHO, 0, &k);
        check_ok(&k, "no_tickets");
        CHECK(!k.sv.resumed);
    }
    sea_tls_creds_free(cc2);
    sea_tls_creds_free(noticket);
    sea_tls_creds_free(cc);
    sea_tls_creds_free(sc);
    return sea_ready();
}

/* ---- reloading the files ---- */

/* Copies cert_dir/from to cert_dir/to. */
static void copy_file(const char *from, const char *to) {
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", P(from), P(to));
    CHECK_EQ(system(cmd), 0);
}

FIBER_CASE(t_reload) {
    copy_file("server.pem", "live.pem");
    copy_file("server.key", "live.key");
    sea_tls_creds *sc = creds(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("live.pem"), .key_file = P("live.key")});
    sea_tls_creds *any = creds(SEA_TLS_CLIENT, (sea_tls_options){.no_verify = true, .no_resumption = true});
    struct shake k;
    shake(sc, any, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "before");
    CHECK_CONTAINS(k.subject, "CN=localhost");
    CHECK_EQ(sea_tls_creds_generation(sc), 0u);

    /* A connection made before the reload goes on after it. */
    struct pair p;
    CHECK(pair_open(&p));
    struct srv sv = {.creds = sc, .s = p.srv, .mode = SRV_ECHO};
    struct srv *svp = &sv;
    sea_future sf = sea_fiber_start(server_fiber, svp);
    int err;
    char msg[512];
    sea_tls *t = client_connect(any, p.cli, "localhost", 0, &err, msg, sizeof(msg));
    CHECK_EQ(err, 0);

    /* A renewed certificate in place: new handshakes get it. */
    copy_file("other.pem", "live.pem");
    copy_file("other.key", "live.key");
    CHECK_EQ(sea_test_await_err(sea_tls_creds_reload(sc), NULL), 0);
    CHECK_EQ(sea_tls_creds_generation(sc), 1u);
    shake(sc, any, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "after");
    CHECK_CONTAINS(k.subject, "CN=other.example");

    if (t) {
        sea_input_stream *in = sea_tls_input(t);
        sea_output_stream *out = sea_tls_output(t, 0);
        CHECK_EQ(sea_test_await_err(sea_output_write(out, "still", 5), NULL), 0);
        CHECK_EQ(sea_test_await_err(sea_output_close(out), NULL), 0);
        char buf[64];
        size_t n;
        CHECK_EQ(read_all(in, buf, sizeof(buf), &n, msg, sizeof(msg)), 0);
        CHECK_STREQ(buf, "still");
        CHECK_CONTAINS(sea_tls_peer_subject(t), "CN=localhost");
        sea_output_stream_free(out);
        sea_input_stream_free(in);
        sea_tls_free(t);
    }
    CHECK_EQ(sea_test_await_err(sf, NULL), 0);
    pair_close(&p);

    /* A half-written renewal (a key that is not the certificate's): refused, the last good files stay. */
    copy_file("server.pem", "live.pem");
    sea_future rf = sea_await(sea_tls_creds_reload(sc));
    CHECK_EQ(sea_future_error(&rf), -EINVAL);
    CHECK_CONTAINS(sea_future_message(&rf), "does not match");
    sea_future_detach(rf);
    copy_file("ca.cnf", "live.pem");
    rf = sea_await(sea_tls_creds_reload(sc));
    CHECK_EQ(sea_future_error(&rf), -EINVAL);
    CHECK_CONTAINS(sea_future_message(&rf), "live.pem");
    sea_future_detach(rf);
    CHECK_EQ(sea_tls_creds_generation(sc), 1u);
    shake(sc, any, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "after a failed reload");
    CHECK_CONTAINS(k.subject, "CN=other.example");

    /* One reload at a time. */
    copy_file("server.pem", "live.pem");
    copy_file("server.key", "live.key");
    sea_future r1 = sea_tls_creds_reload(sc);
    sea_future r2 = sea_await(sea_tls_creds_reload(sc));
    int e2 = sea_future_error(&r2);
    sea_future_detach(r2);
    CHECK_EQ(sea_test_await_err(r1, NULL), 0);
    if (sea_shard_count() > 1)
        CHECK_EQ(e2, -EBUSY); /* with one shard the first may be done at once */
    shake(sc, any, "localhost", SRV_ECHO, 0, &k);
    check_ok(&k, "back");
    CHECK_CONTAINS(k.subject, "CN=localhost");
    sea_tls_creds_free(any);
    sea_tls_creds_free(sc);
    return sea_ready();
}

/* ---- credentials that cannot be made ---- */

/* sea_tls_creds_new(role, o) fails with -EINVAL and a reason containing want. */
static void check_creds_error(sea_tls_role role, sea_tls_options o, const char *want) {
    char why[512] = "";
    sea_tls_creds *c = NULL;
    int rc = sea_tls_creds_new(role, &o, &c, why, sizeof(why));
    if (rc != -EINVAL || !strstr(why, want))
        fprintf(stderr, "  wanted -EINVAL with \"%s\", got %s: %s\n", want, sea_errname(rc), why);
    CHECK_EQ(rc, -EINVAL);
    CHECK_CONTAINS(why, want);
    if (rc == 0)
        sea_tls_creds_free(c);
}

static sea_future t_creds_errors(void) {
    /* Options that only make sense elsewhere. */
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("server.key"),
                                                         .ticket_rotation = 5},
                      "ticket_rotation");
    const sea_tls_cert more[] = {{P("other.pem"), P("other.key")}};
    check_creds_error(SEA_TLS_CLIENT, (sea_tls_options){.more_certs = more, .more_cert_count = 1}, "server");
    /* A server needs a certificate. */
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){0}, "cert_file");
    /* Files that are not there, or not certificates. */
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("missing.pem"), .key_file = P("server.key")},
                      "missing.pem");
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("ca.cnf"), .key_file = P("server.key")},
                      "ca.cnf");
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("missing.key")},
                      "missing.key");
    /* A key that is not the certificate's. */
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("mismatch.key")},
                      "mismatch");
    check_creds_error(SEA_TLS_CLIENT, (sea_tls_options){.cert_file = P("client.pem"), .key_file = P("server.key")},
                      "mismatch");
    /* CAs that cannot be read; client verification without CAs. */
    check_creds_error(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("missing-ca.pem")}, "missing-ca.pem");
    /* An empty CA file trusts nobody: an error, not the system's store instead. */
    FILE *empty = fopen(P("empty.pem"), "w");
    CHECK(empty != NULL);
    if (empty)
        fclose(empty);
    check_creds_error(SEA_TLS_CLIENT, (sea_tls_options){.ca_file = P("empty.pem")}, "no PEM certificate");
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("server.key"),
                                                         .ca_file = P("empty.pem"), .verify_client = true},
                      "no PEM certificate");
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("server.key"),
                                                         .verify_client = true},
                      "ca_file");
    /* Malformed ALPN lists. */
    check_creds_error(SEA_TLS_CLIENT, (sea_tls_options){.alpn = "h2,,http/1.1"}, "ALPN");
    check_creds_error(SEA_TLS_SERVER, (sea_tls_options){.cert_file = P("server.pem"), .key_file = P("server.key"),
                                                         .alpn = ",h2"},
                      "ALPN");
    static char long_name[300];
    memset(long_name, 'x', sizeof(long_name) - 1);
    check_creds_error(SEA_TLS_CLIENT, (sea_tls_options){.alpn = long_name}, "ALPN");
    /* why may be NULL; opts may be NULL for a client (the system's CAs). */
    sea_tls_creds *c = NULL;
    CHECK_EQ(sea_tls_creds_new(SEA_TLS_SERVER, NULL, &c, NULL, 0), -EINVAL);
    CHECK_EQ(sea_tls_creds_new(SEA_TLS_CLIENT, NULL, &c, NULL, 0), 0);
    /* Credentials of the wrong role. */
    sea_future f = sea_tls_accept(c, NULL, 0);
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    sea_future_detach(f);
    sea_tls_creds_free(c);
    sea_tls_creds_free(NULL);
    sea_tls_free(NULL);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_echo),
    SEA_TEST(t_alpn_and_sni),
    SEA_TEST(t_server_certificate_refused),
    SEA_TEST(t_mutual_tls),
    SEA_TEST(t_close_notify_and_truncation),
    SEA_TEST(t_hostile_clients),
    SEA_TEST(t_certificates_by_name),
    SEA_TEST(t_resumption),
    SEA_TEST(t_reload),
    SEA_TEST(t_creds_errors),
};

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: sea must never raise one */
    if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fprintf(stderr, "usage: %s TLS_CERTS_SH OPENSSL [harness options] [case]\n", argv[0]);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(cert_dir, sizeof(cert_dir), "%s/sea-test-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(cert_dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* The certificates, before the reactor starts (the script's own output only if it fails). */
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", argv[1], cert_dir, argv[2], (char *)NULL);
        perror("execl /bin/sh");
        _exit(127);
    }
    int status = -1;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = 1;
    if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        argv[2] = argv[0];
        code = sea_test_main(argc - 2, argv + 2, cases, SEA_TEST_COUNT(cases));
    } else {
        fprintf(stderr, "%s: could not make the certificates with %s (status 0x%x)\n", argv[0], argv[1], status);
    }
    nftw(cert_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return code;
}
