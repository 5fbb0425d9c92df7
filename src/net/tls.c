/*
 * tls.c - TLS over a sea socket (sea/tls.h): OpenSSL 3 on memory buffers,
 * with sea moving the ciphertext.
 *
 * OpenSSL never touches the socket.  What it has to send collects in a
 * memory BIO and goes out with sea_socket_write (sends in order, one at a
 * time, through a semaphore: a reader's pending handshake message and a
 * writer's records may both need to go); what arrives from the socket is
 * fed to the other memory BIO when OpenSSL says it wants to read.  The
 * handshake runs in a fiber of its own (it is a loop of a few round trips);
 * reading and writing afterwards are continuations, so a stream over a TLS
 * connection costs no fiber.
 *
 * Credentials keep one SSL_CTX per shard: OpenSSL's contexts are
 * thread-safe through locks (the session cache, reference counts), which
 * a context of one's own never contends.
 */
#include <sea/error.h>
#include <sea/fiber.h>
#include <sea/reactor.h>
#include <sea/semaphore.h>
#include <sea/tls.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RECORD_MAX (16 * 1024)
#define CIPHER_READ (32 * 1024)
#define DEFAULT_HANDSHAKE_TIMEOUT SEA_SEC(10)

struct sea_tls_creds {
    sea_tls_role role;
    unsigned n;
    unsigned char *alpn; /* wire format: length-prefixed names */
    size_t alpn_len;
    SSL_CTX *ctx[];      /* one per shard */
};

struct tls_source {
    sea_data_source base;
    struct sea_tls *t;
};

struct tls_sink {
    sea_data_sink base;
    struct sea_tls *t;
};

struct sea_tls {
    sea_box box; /* first: the boxed value is the connection */
    SSL *ssl;
    BIO *rbio, *wbio;    /* ciphertext in, ciphertext out */
    sea_socket *s;
    sea_semaphore wsem;  /* one socket write at a time, in order */
    char *cbuf;          /* where ciphertext is read into */
    bool eof;            /* the socket's read side ended */
    bool timed_out;
    struct tls_source src;
    struct tls_sink sink;
    char alpn[64];
    char subject[256];
    char sni[256];
};

/* OpenSSL's first queued error as text (the queue is emptied), or fallback. */
static const char *ssl_why(char *buf, size_t len, const char *fallback) {
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, len, "%s", fallback);
        return buf;
    }
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* ---- credentials ---- */

static int alpn_wire(const char *list, unsigned char **out, size_t *len) {
    size_t n = strlen(list);
    unsigned char *w = malloc(n + 1);
    if (!w)
        return -ENOMEM;
    size_t o = 0;
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == 0 || k > 255) {
            free(w);
            return -EINVAL;
        }
        w[o++] = (unsigned char)k;
        memcpy(w + o, p, k);
        o += k;
        p += k + (comma ? 1 : 0);
    }
    *out = w;
    *len = o;
    return 0;
}

/* Server: the first of our protocols the client also offers. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)ssl;
    struct sea_tls_creds *c = arg;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no protocol in common: go on without one */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *make_ctx(struct sea_tls_creds *c, const sea_tls_options *o, char *why, size_t whylen) {
    char e[256];
    SSL_CTX *ctx = SSL_CTX_new(c->role == SEA_TLS_SERVER ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        snprintf(why, whylen, "cannot make a TLS context: %s", ssl_why(e, sizeof(e), "out of memory"));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_security_level(ctx, 2);
    if (o->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
            snprintf(why, whylen, "certificate %s: %s", o->cert_file, ssl_why(e, sizeof(e), "cannot be read"));
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file ? o->key_file : o->cert_file, SSL_FILETYPE_PEM) != 1) {
            snprintf(why, whylen, "private key %s: %s", o->key_file ? o->key_file : o->cert_file,
                     ssl_why(e, sizeof(e), "cannot be read"));
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(why, whylen, "the key %s does not match the certificate %s: %s",
                     o->key_file ? o->key_file : o->cert_file, o->cert_file, ssl_why(e, sizeof(e), "mismatch"));
            goto fail;
        }
    }
    if (c->role == SEA_TLS_CLIENT && !o->no_verify) {
        int ok = o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            snprintf(why, whylen, "trusted CAs %s: %s", o->ca_file ? o->ca_file : "(the system's)",
                     ssl_why(e, sizeof(e), "cannot be read"));
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else if (c->role == SEA_TLS_CLIENT) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else if (o->verify_client) {
        if (!o->ca_file || SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
            snprintf(why, whylen, "verify_client needs ca_file: %s",
                     o->ca_file ? ssl_why(e, sizeof(e), "cannot be read") : "none given");
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (c->alpn) {
        if (c->role == SEA_TLS_CLIENT)
            SSL_CTX_set_alpn_protos(ctx, c->alpn, (unsigned)c->alpn_len);
        else
            SSL_CTX_set_alpn_select_cb(ctx, alpn_select, c);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int sea_tls_creds_new(sea_tls_role role, const sea_tls_options *opts, sea_tls_creds **out, char *why,
                      size_t whylen) {
    char scratch[8];
    if (!why) {
        why = scratch;
        whylen = sizeof(scratch);
    }
    why[0] = 0;
    sea_tls_options none = {0};
    const sea_tls_options *o = opts ? opts : &none;
    if (role == SEA_TLS_SERVER && !o->cert_file) {
        snprintf(why, whylen, "a TLS server needs cert_file and key_file");
        return -EINVAL;
    }
    unsigned n = sea_shard_count();
    if (!n)
        n = 1;
    struct sea_tls_creds *c = calloc(1, sizeof(*c) + n * sizeof(SSL_CTX *));
    if (!c)
        return -ENOMEM;
    c->role = role;
    if (o->alpn && alpn_wire(o->alpn, &c->alpn, &c->alpn_len) < 0) {
        snprintf(why, whylen, "malformed ALPN list \"%s\" (names of 1 to 255 bytes, separated by commas)", o->alpn);
        free(c);
        return -EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        c->ctx[i] = make_ctx(c, o, why, whylen);
        if (!c->ctx[i]) {
            c->n = i;
            sea_tls_creds_free(c);
            return -EINVAL;
        }
    }
    c->n = n;
    *out = c;
    return 0;
}

void sea_tls_creds_free(sea_tls_creds *c) {
    if (!c)
        return;
    for (unsigned i = 0; i < c->n; i++)
        SSL_CTX_free(c->ctx[i]);
    free(c->alpn);
    free(c);
}

/* ---- moving ciphertext ---- */

struct wjob {
    sea_tls *t;
    char *buf;
    size_t len;
};

static sea_future written(struct wjob *j, sea_future *in) {
    free(j->buf);
    sea_semaphore_signal(&j->t->wsem, 1);
    return sea_future_move(in);
}

static sea_future write_now(struct wjob *j) {
    return sea_then_wrapped(sea_socket_write(j->t->s, j->buf, j->len), written, *j);
}

static sea_future write_turn(struct wjob *j, sea_value v) {
    (void)v;
    return write_now(j);
}

/* Sends what OpenSSL has produced so far, after the sends before it. */
static sea_future flush_cipher(sea_tls *t) {
    size_t n = BIO_ctrl_pending(t->wbio);
    if (!n)
        return sea_ready();
    struct wjob j = {t, malloc(n), n};
    if (!j.buf)
        return sea_failed(-ENOMEM, "no memory for TLS records");
    if (BIO_read(t->wbio, j.buf, (int)n) != (int)n) {
        free(j.buf);
        return sea_failed(-EIO, "TLS: the output buffer gave less than it holds");
    }
    if (sea_semaphore_try_wait(&t->wsem, 1))
        return write_now(&j);
    return sea_then(sea_semaphore_wait(&t->wsem, 1), write_turn, j);
}

static sea_future cipher_read(sea_tls **tp, sea_future *in) {
    sea_tls *t = *tp;
    int err = sea_future_error(in);
    if (err) {
        if (t->timed_out)
            return sea_failed(-ETIMEDOUT, "TLS: the handshake took too long");
        return sea_future_move(in);
    }
    size_t n = sea_future_value(in).size;
    if (n == 0)
        t->eof = true;
    else if (BIO_write(t->rbio, t->cbuf, (int)n) != (int)n)
        return sea_failed(-ENOMEM, "no memory for TLS records");
    return sea_ready();
}

/* Reads what the socket has into OpenSSL's input (or notes its end). */
static sea_future read_cipher(sea_tls *t) {
    return sea_then_wrapped(sea_socket_read(t->s, t->cbuf, CIPHER_READ), cipher_read, t);
}

/* ---- the connection ---- */

static void tls_box_release(sea_box *box) {
    sea_tls_free((sea_tls *)box);
}

void sea_tls_free(sea_tls *t) {
    if (!t)
        return;
    SSL_free(t->ssl); /* and its BIOs */
    sea_semaphore_destroy(&t->wsem);
    free(t->cbuf);
    free(t);
}

static sea_tls *tls_new(sea_tls_creds *c, sea_socket *s) {
    unsigned id = sea_shard_id();
    SSL_CTX *ctx = c->ctx[id < c->n ? id : 0];
    sea_tls *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->box.release = tls_box_release;
    t->s = s;
    t->cbuf = malloc(CIPHER_READ);
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->cbuf || !t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t->cbuf);
        free(t);
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    sea_semaphore_init(&t->wsem, 1);
    return t;
}

struct hs {
    sea_tls *t;
    sea_time timeout;
};

static void handshake_expired(sea_timer *tm, void *arg) {
    (void)tm;
    sea_tls *t = arg;
    t->timed_out = true;
    sea_socket_shutdown(t->s, SHUT_RDWR); /* the pending read or write ends */
}

static sea_future handshake_fiber(struct hs *a) {
    sea_tls *t = a->t;
    sea_timer tm;
    sea_timer_init(&tm, handshake_expired, t);
    sea_timer_arm(&tm, a->timeout);
    sea_future r = sea_ready();
    char why[256];
    for (;;) {
        ERR_clear_error();
        int rc = SSL_do_handshake(t->ssl);
        int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rc);
        if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ) {
            long v = SSL_get_verify_result(t->ssl);
            ssl_why(why, sizeof(why), "the peer broke the protocol");
            sea_future_ignore(sea_await(flush_cipher(t))); /* our alert, so the peer knows why */
            if (v != X509_V_OK)
                r = sea_failed_fmt(-EPROTO, "TLS handshake: the peer's certificate: %s (%s)",
                                   X509_verify_cert_error_string(v), why);
            else
                r = sea_failed_fmt(t->timed_out ? -ETIMEDOUT : -EPROTO, "TLS handshake: %s",
                                   t->timed_out ? "it took too long" : why);
            break;
        }
        r = sea_await(flush_cipher(t));
        if (sea_future_failed(&r) || e == SSL_ERROR_NONE)
            break;
        sea_future_ignore(r);
        if (t->eof) {
            r = sea_failed(-ECONNRESET, "TLS handshake: the peer closed the connection");
            break;
        }
        r = sea_await(read_cipher(t));
        if (sea_future_failed(&r))
            break;
        sea_future_ignore(r);
    }
    sea_timer_cancel(&tm);
    /*
     * The timer ends a pending read by shutting the socket down, and that
     * read then ends as if the peer had left (0 bytes: the -ECONNRESET
     * above), so a silent peer used to be reported as -ECONNRESET: whatever
     * ends the handshake once the timer has fired is the timeout.
     */
    if (t->timed_out) {
        sea_future_detach(r);
        r = sea_failed(-ETIMEDOUT, "TLS handshake: it took too long");
    }
    if (sea_future_failed(&r)) {
        sea_tls_free(t);
        return r;
    }
    sea_future_ignore(r);
    const unsigned char *p;
    unsigned len;
    SSL_get0_alpn_selected(t->ssl, &p, &len);
    if (len && len < sizeof(t->alpn)) {
        memcpy(t->alpn, p, len);
        t->alpn[len] = 0;
    }
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (peer) {
        /* RFC 2253's form, "CN=client,O=sea" as sea/tls.h says (X509_NAME_oneline gave "/O=sea/CN=client"). */
        BIO *b = BIO_new(BIO_s_mem());
        if (b && X509_NAME_print_ex(b, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
            int n = BIO_read(b, t->subject, (int)sizeof(t->subject) - 1);
            t->subject[n > 0 ? n : 0] = 0;
        }
        BIO_free(b);
        X509_free(peer);
    }
    const char *sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
    if (sni)
        snprintf(t->sni, sizeof(t->sni), "%s", sni);
    return sea_ready_box(&t->box);
}

static sea_future start_handshake(sea_tls *t, sea_time timeout) {
    sea_future f = sea_fiber_start(handshake_fiber, ((struct hs){t, timeout > 0 ? timeout : DEFAULT_HANDSHAKE_TIMEOUT}));
    return f;
}

sea_future sea_tls_accept(sea_tls_creds *c, sea_socket *s, sea_time timeout) {
    if (!c || !s || c->role != SEA_TLS_SERVER)
        return sea_failed(-EINVAL, "sea_tls_accept: server credentials and a socket, please");
    sea_tls *t = tls_new(c, s);
    if (!t)
        return sea_failed(-ENOMEM, "no memory for a TLS connection");
    SSL_set_accept_state(t->ssl);
    return start_handshake(t, timeout);
}

sea_future sea_tls_connect(sea_tls_creds *c, sea_socket *s, const char *host, sea_time timeout) {
    if (!c || !s || c->role != SEA_TLS_CLIENT)
        return sea_failed(-EINVAL, "sea_tls_connect: client credentials and a socket, please");
    sea_tls *t = tls_new(c, s);
    if (!t)
        return sea_failed(-ENOMEM, "no memory for a TLS connection");
    SSL_set_connect_state(t->ssl);
    if (host && *host) {
        /* An IP address is checked but never sent as SNI: RFC 6066 (3) forbids it, and strict servers refuse it. */
        unsigned char ip[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, host, ip) != 1 && inet_pton(AF_INET6, host, ip) != 1)
            SSL_set_tlsext_host_name(t->ssl, host);
        if (SSL_get_verify_mode(t->ssl) & SSL_VERIFY_PEER)
            SSL_set1_host(t->ssl, host);
    }
    return start_handshake(t, timeout);
}

const char *sea_tls_alpn(const sea_tls *t) {
    return t->alpn[0] ? t->alpn : NULL;
}

const char *sea_tls_version(const sea_tls *t) {
    return SSL_get_version(t->ssl);
}

const char *sea_tls_peer_subject(const sea_tls *t) {
    return t->subject[0] ? t->subject : NULL;
}

const char *sea_tls_server_name(const sea_tls *t) {
    return t->sni[0] ? t->sni : NULL;
}

/* ---- reading: the data source ---- */

struct get_args {
    sea_tls *t;
    sea_buf *out;
};

static sea_future src_try(sea_tls *t, sea_buf *out);

static sea_future got_more(struct get_args *a, sea_future *in) {
    if (sea_future_failed(in))
        return sea_future_move(in);
    return src_try(a->t, a->out);
}

static sea_future flushed_then_read(struct get_args *a, sea_value v) {
    (void)v;
    return sea_then_wrapped(read_cipher(a->t), got_more, *a);
}

static sea_future read_size(size_t *n, sea_value v) {
    (void)v;
    return sea_ready_size(*n);
}

static sea_future src_try(sea_tls *t, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    if (sea_buf_new(out, RECORD_MAX) < 0)
        return sea_failed(-ENOMEM, "no memory to read TLS records");
    ERR_clear_error();
    int n = SSL_read(t->ssl, out->data, RECORD_MAX);
    if (n > 0) {
        sea_buf_trim(out, (size_t)n);
        /*
         * An answer OpenSSL owes the peer (a key update) goes out before the read resolves: waited
         * for, not detached, so that no send can outlive the connection.
         */
        if (BIO_ctrl_pending(t->wbio))
            return sea_then(flush_cipher(t), read_size, (size_t)n);
        return sea_ready_size((size_t)n);
    }
    sea_buf_release(out);
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_ZERO_RETURN)
        return sea_ready_size(0); /* the peer's close_notify: the end, cleanly */
    if (e == SSL_ERROR_WANT_READ) {
        if (t->eof)
            return sea_failed(-EPROTO, "TLS: truncated (the peer closed the connection without close_notify)");
        if (BIO_ctrl_pending(t->wbio))
            return sea_then(flush_cipher(t), flushed_then_read, (struct get_args){t, out});
        return sea_then_wrapped(read_cipher(t), got_more, (struct get_args){t, out});
    }
    char why[256];
    return sea_failed_fmt(-EPROTO, "TLS read: %s", ssl_why(why, sizeof(why), "the peer broke the protocol"));
}

static sea_future src_get(sea_data_source *src, sea_buf *out) {
    return src_try(((struct tls_source *)src)->t, out);
}

static void src_release(sea_data_source *src) {
    (void)src;
}

static const sea_data_source_ops src_ops = {src_get, src_release};

sea_input_stream *sea_tls_input(sea_tls *t) {
    t->src = (struct tls_source){{&src_ops}, t};
    return sea_input_stream_from(&t->src.base);
}

/* ---- writing: the data sink ---- */

static sea_future put_done(size_t *len, sea_value v) {
    (void)v;
    return sea_ready_size(*len);
}

static sea_future sink_put(sea_data_sink *sink, const void *data, size_t len) {
    sea_tls *t = ((struct tls_sink *)sink)->t;
    size_t off = 0;
    while (off < len) {
        size_t k = len - off < (size_t)INT_MAX ? len - off : (size_t)INT_MAX;
        ERR_clear_error();
        int n = SSL_write(t->ssl, (const char *)data + off, (int)k);
        if (n <= 0) {
            char why[256];
            return sea_failed_fmt(-EPROTO, "TLS write: %s", ssl_why(why, sizeof(why), "the connection failed"));
        }
        off += (size_t)n;
    }
    return sea_then(flush_cipher(t), put_done, len);
}

static sea_future sink_end(sea_data_sink *sink) {
    sea_tls *t = ((struct tls_sink *)sink)->t;
    ERR_clear_error();
    SSL_shutdown(t->ssl); /* queues our close_notify; the peer's, if it comes, ends the input */
    return flush_cipher(t);
}

static void sink_release(sea_data_sink *sink) {
    (void)sink;
}

static const sea_data_sink_ops sink_ops = {sink_put, sink_end, sink_release};

sea_output_stream *sea_tls_output(sea_tls *t, size_t batch) {
    t->sink = (struct tls_sink){{&sink_ops}, t};
    return sea_output_stream_to(&t->sink.base, batch ? batch : RECORD_MAX);
}
