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
#include <sea/smp.h>
#include <sea/tls.h>

#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RECORD_MAX (16 * 1024)
/*
 * Ciphertext is read into a buffer of CIPHER_FIRST bytes, doubled (up to
 * CIPHER_MAX) each time a read fills it: an idle connection, or one with
 * small requests, holds 4 KiB; a bulk transfer soon reads 32 KiB at a time.
 */
#define CIPHER_FIRST (4 * 1024)
#define CIPHER_MAX (32 * 1024)
#define DEFAULT_HANDSHAKE_TIMEOUT SEA_SEC(10)
#define DEFAULT_TICKET_ROTATION SEA_SEC(3600)
/* A PEM file larger than this is not a certificate, a key or a CA list anyone meant. */
#define PEM_FILE_MAX (4 << 20)
/* Client sessions kept per shard (one per server: host and address). */
#define SESSIONS_MAX 64
/* Ticket keys a shard keeps derived (the current period's, the one before, one spare). */
#define TICKET_KEYS 3

int64_t sea__tls_clock_skew;

/* One file's contents, read once per (re)load and parsed by every shard's context from memory. */
struct blob {
    char *data;
    size_t len;
};

/* What the options' files held at one (re)load. */
struct material {
    unsigned certs;             /* 1 + more_cert_count, or 0 (a client without a certificate) */
    struct blob *cert, *key;    /* [certs] */
    struct blob ca;             /* len 0: none */
};

/* One shard's contexts, replaced whole by a reload: [0] for cert_file, then one per more_certs. */
struct ctx_set {
    unsigned count;
    SSL_CTX *ctx[];
};

struct ticket_key {
    int64_t epoch;   /* -1: empty */
    unsigned char aes[32], mac[32];
};

struct session {
    char key[320];   /* host and peer address */
    SSL_SESSION *sess;
    uint64_t used;
};

/* What one shard uses, on its own: written by that shard only (a reload sends it its new set). */
struct shard_state {
    struct ctx_set *set;
    struct ticket_key keys[TICKET_KEYS];
    struct session *sessions;  /* client: SESSIONS_MAX, allocated at the first one */
    uint64_t clock;
} __attribute__((aligned(64)));

struct sea_tls_creds {
    sea_tls_role role;
    unsigned n;
    unsigned owner;        /* the shard that made them: reloads start there */
    bool reloading;
    unsigned generation;
    /* the options, copied */
    char *cert_file, *key_file, *ca_file;
    char **more_cert, **more_key;
    unsigned more_count;
    bool verify_client, no_verify, no_tickets, no_resumption;
    unsigned char *alpn; /* wire format: length-prefixed names */
    size_t alpn_len;
    /* session tickets: every shard derives the same keys from this secret */
    sea_time rotation;
    unsigned char ticket_secret[32];
    unsigned char ticket_id[8];
    struct shard_state shard[];
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
    struct sea_tls_creds *creds;
    sea_semaphore wsem;  /* one socket write at a time, in order */
    char *cbuf;          /* where ciphertext is read into */
    size_t cbuf_len;
    bool eof;            /* the socket's read side ended */
    bool timed_out;
    struct tls_source src;
    struct tls_sink sink;
    char *session_key;   /* client: where a new session is kept, or NULL */
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

/* ---- credentials: the files ---- */

static int read_blob(const char *path, struct blob *out, const char *what, char *why, size_t whylen) {
    *out = (struct blob){0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "%s %s: cannot be read: %s", what, path, strerror(errno));
        return -EINVAL;
    }
    size_t cap = 4096, len = 0;
    char *d = malloc(cap);
    while (d) {
        size_t k = fread(d + len, 1, cap - len, f);
        len += k;
        if (len < cap)
            break;
        if (cap >= PEM_FILE_MAX) {
            snprintf(why, whylen, "%s %s: larger than %d bytes: not a PEM file", what, path, PEM_FILE_MAX);
            free(d);
            fclose(f);
            return -EINVAL;
        }
        char *bigger = realloc(d, cap * 2);
        if (!bigger) {
            free(d);
            d = NULL;
            break;
        }
        d = bigger;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!d) {
        snprintf(why, whylen, "%s %s: no memory to read it", what, path);
        return -ENOMEM;
    }
    if (rerr) {
        snprintf(why, whylen, "%s %s: cannot be read", what, path);
        free(d);
        return -EINVAL;
    }
    *out = (struct blob){d, len};
    return 0;
}

static void material_free(struct material *m) {
    for (unsigned i = 0; i < m->certs; i++) {
        free(m->cert[i].data);
        free(m->key[i].data);
    }
    free(m->cert);
    free(m->key);
    free(m->ca.data);
    *m = (struct material){0};
}

/* Reads every file the credentials name, each once. */
static int material_read(const struct sea_tls_creds *c, struct material *m, char *why, size_t whylen) {
    *m = (struct material){0};
    unsigned certs = c->cert_file ? 1 + c->more_count : 0;
    if (certs) {
        m->cert = calloc(certs, sizeof(*m->cert));
        m->key = calloc(certs, sizeof(*m->key));
        if (!m->cert || !m->key) {
            free(m->cert);
            free(m->key);
            snprintf(why, whylen, "no memory for TLS credentials");
            return -ENOMEM;
        }
        m->certs = certs;
    }
    for (unsigned i = 0; i < certs; i++) {
        const char *cf = i ? c->more_cert[i - 1] : c->cert_file;
        const char *kf = i ? c->more_key[i - 1] : c->key_file;
        int rc = read_blob(cf, &m->cert[i], "certificate", why, whylen);
        if (!rc)
            rc = read_blob(kf ? kf : cf, &m->key[i], "private key", why, whylen);
        if (rc) {
            material_free(m);
            return rc;
        }
    }
    if (c->ca_file) {
        int rc = read_blob(c->ca_file, &m->ca, "trusted CAs", why, whylen);
        if (rc) {
            material_free(m);
            return rc;
        }
    }
    return 0;
}

/* ---- credentials: one context ---- */

static int no_password(char *buf, int size, int rwflag, void *u) {
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1; /* an encrypted key is refused, never prompted for on the terminal */
}

/* Reads the certificate chain in cert (PEM) into ctx. */
static bool use_chain(SSL_CTX *ctx, const struct blob *cert, const char *path, char *why, size_t whylen) {
    char e[256];
    BIO *b = BIO_new_mem_buf(cert->data, (int)cert->len);
    X509 *x = b ? PEM_read_bio_X509_AUX(b, NULL, no_password, NULL) : NULL;
    if (!x || SSL_CTX_use_certificate(ctx, x) != 1) {
        snprintf(why, whylen, "certificate %s: %s", path, ssl_why(e, sizeof(e), "no PEM certificate in it"));
        X509_free(x);
        BIO_free(b);
        return false;
    }
    X509_free(x);
    X509 *ca;
    while ((ca = PEM_read_bio_X509(b, NULL, no_password, NULL))) {
        if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
            X509_free(ca);
            snprintf(why, whylen, "certificate %s: its chain: %s", path, ssl_why(e, sizeof(e), "cannot be used"));
            BIO_free(b);
            return false;
        }
    }
    BIO_free(b);
    unsigned long last = ERR_peek_last_error();
    if (last && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
        snprintf(why, whylen, "certificate %s: its chain: %s", path, ssl_why(e, sizeof(e), "malformed"));
        return false;
    }
    ERR_clear_error(); /* the end of the file */
    return true;
}

static bool use_key(SSL_CTX *ctx, const struct blob *key, const char *path, const char *cert_path, char *why,
                    size_t whylen) {
    char e[256];
    BIO *b = BIO_new_mem_buf(key->data, (int)key->len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL) : NULL;
    BIO_free(b);
    if (!k) {
        snprintf(why, whylen, "private key %s: %s", path, ssl_why(e, sizeof(e), "no PEM private key in it"));
        return false;
    }
    int ok = SSL_CTX_use_PrivateKey(ctx, k);
    EVP_PKEY_free(k);
    if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(why, whylen, "the key %s does not match the certificate %s: %s", path, cert_path,
                 ssl_why(e, sizeof(e), "mismatch"));
        return false;
    }
    return true;
}

/* Trusts the CAs in ca; a server asking for client certificates also names them to the client. */
static bool use_cas(SSL_CTX *ctx, const struct blob *ca, const char *path, bool name_them, char *why,
                    size_t whylen) {
    char e[256];
    BIO *b = ca->len ? BIO_new_mem_buf(ca->data, (int)ca->len) : NULL; /* (an empty file has no CA) */
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    unsigned count = 0;
    X509 *x;
    while (b && (x = PEM_read_bio_X509(b, NULL, no_password, NULL))) {
        int ok = X509_STORE_add_cert(store, x) == 1 && (!name_them || SSL_CTX_add_client_CA(ctx, x) == 1);
        X509_free(x);
        if (!ok) {
            snprintf(why, whylen, "trusted CAs %s: %s", path, ssl_why(e, sizeof(e), "cannot be used"));
            BIO_free(b);
            return false;
        }
        count++;
    }
    BIO_free(b);
    if (!count) {
        snprintf(why, whylen, "trusted CAs %s: %s", path, ssl_why(e, sizeof(e), "no PEM certificate in it"));
        return false;
    }
    ERR_clear_error();
    return true;
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

static int choose_cert(SSL *ssl, int *alert, void *arg);
static int ticket_key_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                         EVP_MAC_CTX *hctx, int enc);
static int new_session(SSL *ssl, SSL_SESSION *sess);

/* The context for certificate i of m (i is ignored by a client), configured as c says. */
static SSL_CTX *make_ctx(struct sea_tls_creds *c, const struct material *m, unsigned i, char *why, size_t whylen) {
    char e[256];
    bool server = c->role == SEA_TLS_SERVER;
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        snprintf(why, whylen, "cannot make a TLS context: %s", ssl_why(e, sizeof(e), "out of memory"));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_security_level(ctx, 2);
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    if (m->certs) {
        const char *cf = i ? c->more_cert[i - 1] : c->cert_file;
        const char *kf = i ? c->more_key[i - 1] : c->key_file;
        if (!use_chain(ctx, &m->cert[i], cf, why, whylen) ||
            !use_key(ctx, &m->key[i], kf ? kf : cf, cf, why, whylen))
            goto fail;
    }
    if (!server && !c->no_verify) {
        if (c->ca_file ? !use_cas(ctx, &m->ca, c->ca_file, false, why, whylen)
                       : SSL_CTX_set_default_verify_paths(ctx) != 1) {
            if (!c->ca_file)
                snprintf(why, whylen, "trusted CAs (the system's): %s", ssl_why(e, sizeof(e), "cannot be read"));
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else if (!server) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else if (c->verify_client) {
        if (!c->ca_file) {
            snprintf(why, whylen, "verify_client needs ca_file: none given");
            goto fail;
        }
        if (!use_cas(ctx, &m->ca, c->ca_file, true, why, whylen))
            goto fail;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (c->alpn) {
        if (!server)
            SSL_CTX_set_alpn_protos(ctx, c->alpn, (unsigned)c->alpn_len);
        else
            SSL_CTX_set_alpn_select_cb(ctx, alpn_select, c);
    }
    if (server) {
        /*
         * No server-side session cache: a cache is one shard's, and a client comes back to any shard.
         * Resumption is by tickets, sealed with keys every shard derives alike (ticket_key_cb).  One
         * ticket per handshake rather than OpenSSL's two: a client keeps one session per server.
         */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        if (c->no_tickets) {
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
            SSL_CTX_set_num_tickets(ctx, 0);
        } else {
            SSL_CTX_set_num_tickets(ctx, 1);
            SSL_CTX_set_timeout(ctx, (long)(2 * (c->rotation / SEA_SEC(1))));
            SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb);
        }
        if (c->more_count) {
            SSL_CTX_set_tlsext_servername_callback(ctx, choose_cert);
            SSL_CTX_set_tlsext_servername_arg(ctx, c);
        }
    } else if (!c->no_resumption) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void set_free(struct ctx_set *set) {
    if (!set)
        return;
    for (unsigned i = 0; i < set->count; i++)
        SSL_CTX_free(set->ctx[i]); /* a connection still using one holds its own reference */
    free(set);
}

/* Every shard's contexts from m, into sets[n]; 0, or -EINVAL / -ENOMEM with why (and nothing made). */
static int make_sets(struct sea_tls_creds *c, const struct material *m, struct ctx_set **sets, char *why,
                     size_t whylen) {
    unsigned count = m->certs ? m->certs : 1;
    int rc = -EINVAL;
    for (unsigned s = 0; s < c->n; s++) {
        sets[s] = calloc(1, sizeof(struct ctx_set) + count * sizeof(SSL_CTX *));
        if (!sets[s]) {
            snprintf(why, whylen, "no memory for TLS contexts");
            rc = -ENOMEM;
            goto fail;
        }
        for (unsigned i = 0; i < count; i++) {
            sets[s]->ctx[i] = make_ctx(c, m, i, why, whylen);
            if (!sets[s]->ctx[i])
                goto fail; /* (a file that does not load, or OpenSSL out of memory: -EINVAL, with why) */
            sets[s]->count = i + 1;
        }
    }
    return 0;
fail:
    for (unsigned s = 0; s < c->n; s++) {
        set_free(sets[s]);
        sets[s] = NULL;
    }
    return rc;
}

/* ---- credentials: certificates by name (SNI) ---- */

/* What the shard this runs on keeps of c. */
static struct shard_state *my_shard(struct sea_tls_creds *c) {
    unsigned id = sea_shard_id();
    return &c->shard[id < c->n ? id : 0];
}

/* The current set of the shard this runs on (a reload may have replaced the one a handshake began with). */
static struct ctx_set *shard_set(struct sea_tls_creds *c) {
    return my_shard(c)->set;
}

static bool cert_names(SSL_CTX *ctx, const char *name) {
    X509 *x = SSL_CTX_get0_certificate(ctx);
    return x && X509_check_host(x, name, 0, 0, NULL) == 1;
}

/* Server, on the ClientHello's SNI: the first certificate with that name, cert_file's first. */
static int choose_cert(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    struct sea_tls_creds *c = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    struct ctx_set *set = shard_set(c);
    if (!name || !set || cert_names(set->ctx[0], name))
        return SSL_TLSEXT_ERR_OK;
    for (unsigned i = 1; i < set->count; i++) {
        if (cert_names(set->ctx[i], name)) {
            SSL_set_SSL_CTX(ssl, set->ctx[i]);
            break;
        }
    }
    return SSL_TLSEXT_ERR_OK; /* a name none has: the default certificate, and the client judges it */
}

/* ---- credentials: session tickets ---- */

static int64_t ticket_epoch(const struct sea_tls_creds *c) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * SEA_SEC(1) + ts.tv_nsec + sea__tls_clock_skew;
    return now / c->rotation;
}

/* The keys of period epoch, derived from the secret (HMAC-SHA256) and kept in the shard's few slots. */
static const struct ticket_key *ticket_key(struct sea_tls_creds *c, int64_t epoch) {
    struct shard_state *st = my_shard(c);
    struct ticket_key *slot = &st->keys[0];
    for (unsigned i = 0; i < TICKET_KEYS; i++) {
        if (st->keys[i].epoch == epoch)
            return &st->keys[i];
        if (st->keys[i].epoch < slot->epoch)
            slot = &st->keys[i];
    }
    unsigned char label[24];
    memcpy(label, "sea-tkt-", 8);
    for (int b = 0; b < 8; b++)
        label[8 + b] = (unsigned char)((uint64_t)epoch >> (56 - 8 * b));
    unsigned len = 32;
    memcpy(label + 16, "aes-key", 8);
    if (!HMAC(EVP_sha256(), c->ticket_secret, sizeof(c->ticket_secret), label, sizeof(label), slot->aes, &len))
        return NULL;
    memcpy(label + 16, "mac-key", 8);
    if (!HMAC(EVP_sha256(), c->ticket_secret, sizeof(c->ticket_secret), label, sizeof(label), slot->mac, &len))
        return NULL;
    slot->epoch = epoch;
    return slot;
}

static bool ticket_crypto(const struct ticket_key *k, unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
                          int enc) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->mac, sizeof(k->mac)),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(hctx, params) != 1)
        return false;
    return enc ? EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) == 1
               : EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) == 1;
}

/*
 * Seals (enc) or opens a ticket.  The key name is the secret's id and the
 * period: a ticket of this period or the one before opens; older ones, or
 * another server's, do not (0: a full handshake).  The next period is
 * accepted too, for a clock stepped back.
 */
static int ticket_key_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                         EVP_MAC_CTX *hctx, int enc) {
    sea_tls *t = SSL_get_app_data(ssl);
    struct sea_tls_creds *c = t->creds;
    int64_t now = ticket_epoch(c);
    if (enc) {
        const struct ticket_key *k = ticket_key(c, now);
        if (!k || RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc())) != 1)
            return -1;
        memcpy(name, c->ticket_id, 8);
        for (int b = 0; b < 8; b++)
            name[8 + b] = (unsigned char)((uint64_t)now >> (56 - 8 * b));
        return ticket_crypto(k, iv, cctx, hctx, 1) ? 1 : -1;
    }
    if (memcmp(name, c->ticket_id, 8) != 0)
        return 0;
    uint64_t e = 0;
    for (int b = 0; b < 8; b++)
        e = e << 8 | name[8 + b];
    int64_t epoch = (int64_t)e;
    if (epoch < now - 1 || epoch > now + 1)
        return 0;
    const struct ticket_key *k = ticket_key(c, epoch);
    if (!k || !ticket_crypto(k, iv, cctx, hctx, 0))
        return -1;
    /*
     * 2: issue a fresh ticket.  For an older period's key, so the client's
     * next one is current; and always in TLS 1.3, where a client uses a
     * ticket once (OpenSSL's does) and OpenSSL's server sends none after a
     * resumption unless asked: without it every other connection would be
     * a full handshake.
     */
    return epoch == now && SSL_version(ssl) < TLS1_3_VERSION ? 1 : 2;
}

/* ---- credentials: a client's sessions ---- */

/* The slot for key: its own, else an empty one, else the least recently used. */
static struct session *session_slot(struct shard_state *st, const char *key, bool *found) {
    struct session *victim = NULL;
    *found = false;
    for (unsigned i = 0; i < SESSIONS_MAX; i++) {
        struct session *e = &st->sessions[i];
        if (e->sess && strcmp(e->key, key) == 0) {
            *found = true;
            return e;
        }
        if (!victim || (victim->sess && (!e->sess || e->used < victim->used)))
            victim = e;
    }
    return victim;
}

/* Client: OpenSSL has a session for the connection (after the handshake in TLS 1.3): keep it. */
static int new_session(SSL *ssl, SSL_SESSION *sess) {
    sea_tls *t = SSL_get_app_data(ssl);
    if (!t || !t->session_key || !SSL_SESSION_is_resumable(sess))
        return 0;
    struct shard_state *st = my_shard(t->creds);
    if (!st->sessions && !(st->sessions = calloc(SESSIONS_MAX, sizeof(*st->sessions))))
        return 0;
    /*
     * A copy: OpenSSL marks the connection's own session unusable when the
     * connection is freed without our close_notify (a server that closes
     * after its answer, say), though a TLS 1.3 ticket does not depend on
     * how its connection ended.
     */
    SSL_SESSION *copy = SSL_SESSION_dup(sess);
    if (!copy)
        return 0;
    bool found;
    struct session *e = session_slot(st, t->session_key, &found);
    SSL_SESSION_free(e->sess);
    snprintf(e->key, sizeof(e->key), "%s", t->session_key);
    e->sess = copy;
    e->used = ++st->clock;
    return 0; /* (OpenSSL keeps its own reference) */
}

/* Client: offers the shard's session with key, if it has one still valid. */
static void offer_session(sea_tls *t) {
    struct shard_state *st = my_shard(t->creds);
    if (!st->sessions)
        return;
    bool found;
    struct session *e = session_slot(st, t->session_key, &found);
    if (!found)
        return;
    if (!SSL_SESSION_is_resumable(e->sess) ||
        (uint64_t)time(NULL) >= SSL_SESSION_get_time(e->sess) + (uint64_t)SSL_SESSION_get_timeout(e->sess)) {
        SSL_SESSION_free(e->sess);
        e->sess = NULL;
        return;
    }
    e->used = ++st->clock;
    SSL_set_session(t->ssl, e->sess);
}

/* ---- credentials: making, reloading, freeing ---- */

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

static char *dup_or_null(const char *s, bool *oom) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
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
    for (unsigned i = 0; i < o->more_cert_count; i++) {
        if (role != SEA_TLS_SERVER || !o->more_certs || !o->more_certs[i].cert_file) {
            snprintf(why, whylen, "more_certs: %s", role != SEA_TLS_SERVER ? "for a server only"
                                                                            : "each needs a cert_file");
            return -EINVAL;
        }
    }
    if (o->ticket_rotation < 0 || (o->ticket_rotation > 0 && o->ticket_rotation < SEA_SEC(1))) {
        snprintf(why, whylen, "ticket_rotation: at least a second");
        return -EINVAL;
    }
    unsigned n = sea_shard_count();
    if (!n)
        n = 1;
    struct sea_tls_creds *c = calloc(1, sizeof(*c) + n * sizeof(struct shard_state));
    if (!c)
        return -ENOMEM;
    c->role = role;
    c->n = n;
    c->owner = sea_shard_id();
    for (unsigned s = 0; s < n; s++)
        for (unsigned k = 0; k < TICKET_KEYS; k++)
            c->shard[s].keys[k].epoch = -1;
    bool oom = false;
    c->cert_file = dup_or_null(o->cert_file, &oom);
    c->key_file = dup_or_null(o->key_file, &oom);
    c->ca_file = dup_or_null(o->ca_file, &oom);
    if (o->more_cert_count) {
        c->more_cert = calloc(o->more_cert_count, sizeof(char *));
        c->more_key = calloc(o->more_cert_count, sizeof(char *));
        if (!c->more_cert || !c->more_key)
            oom = true;
        else
            c->more_count = o->more_cert_count;
        for (unsigned i = 0; i < c->more_count; i++) {
            c->more_cert[i] = dup_or_null(o->more_certs[i].cert_file, &oom);
            c->more_key[i] = dup_or_null(o->more_certs[i].key_file, &oom);
        }
    }
    c->verify_client = o->verify_client;
    c->no_verify = o->no_verify;
    c->no_tickets = o->no_tickets;
    c->no_resumption = o->no_resumption;
    c->rotation = o->ticket_rotation ? o->ticket_rotation : DEFAULT_TICKET_ROTATION;
    if (oom) {
        sea_tls_creds_free(c);
        return -ENOMEM;
    }
    if (o->alpn && alpn_wire(o->alpn, &c->alpn, &c->alpn_len) < 0) {
        snprintf(why, whylen, "malformed ALPN list \"%s\" (names of 1 to 255 bytes, separated by commas)", o->alpn);
        sea_tls_creds_free(c);
        return -EINVAL;
    }
    if (RAND_bytes(c->ticket_secret, sizeof(c->ticket_secret)) != 1 ||
        RAND_bytes(c->ticket_id, sizeof(c->ticket_id)) != 1) {
        char e[256];
        snprintf(why, whylen, "no random bytes for session tickets: %s", ssl_why(e, sizeof(e), "RAND_bytes failed"));
        sea_tls_creds_free(c);
        return -EINVAL;
    }
    struct material m;
    int rc = material_read(c, &m, why, whylen);
    struct ctx_set **sets = rc ? NULL : calloc(n, sizeof(*sets));
    if (!rc && !sets)
        rc = -ENOMEM;
    if (!rc)
        rc = make_sets(c, &m, sets, why, whylen);
    material_free(&m);
    if (rc) {
        free(sets);
        sea_tls_creds_free(c);
        return rc;
    }
    for (unsigned s = 0; s < n; s++)
        c->shard[s].set = sets[s];
    free(sets);
    *out = c;
    return 0;
}

struct reload {
    struct sea_tls_creds *c;
    struct ctx_set **sets;
};

/* On each shard: its new contexts replace its old ones (which live on while connections use them). */
static sea_future reload_install(struct reload *r) {
    unsigned id = sea_shard_id();
    if (id < r->c->n) {
        struct ctx_set *old = r->c->shard[id].set;
        r->c->shard[id].set = r->sets[id];
        r->sets[id] = NULL;
        set_free(old);
    }
    return sea_ready();
}

static sea_future reload_done(struct reload *r, sea_future *in) {
    for (unsigned s = 0; s < r->c->n; s++)
        set_free(r->sets[s]); /* the shards that did not take theirs (stopping) */
    free(r->sets);
    r->c->reloading = false;
    if (!sea_future_failed(in))
        r->c->generation++;
    return sea_future_move(in);
}

sea_future sea_tls_creds_reload(sea_tls_creds *c) {
    if (!c)
        return sea_failed(-EINVAL, "sea_tls_creds_reload: no credentials");
    if (sea_shard_id() != c->owner)
        return sea_failed_fmt(-EINVAL, "sea_tls_creds_reload: call it on shard %u, which made the credentials",
                              c->owner);
    if (c->reloading)
        return sea_failed(-EBUSY, "TLS credentials: a reload is already under way");
    char why[512] = "";
    struct material m;
    int rc = material_read(c, &m, why, sizeof(why));
    struct ctx_set **sets = rc ? NULL : calloc(c->n, sizeof(*sets));
    if (!rc && !sets)
        rc = -ENOMEM;
    if (!rc)
        rc = make_sets(c, &m, sets, why, sizeof(why));
    material_free(&m);
    if (rc) {
        free(sets);
        return sea_failed_fmt(rc, "TLS reload: %s (the old certificates stay)", why[0] ? why : "no memory");
    }
    c->reloading = true;
    struct reload r = {c, sets};
    return sea_then_wrapped(sea_invoke_on_all(reload_install, r), reload_done, r);
}

unsigned sea_tls_creds_generation(const sea_tls_creds *c) {
    return c->generation;
}

void sea_tls_creds_free(sea_tls_creds *c) {
    if (!c)
        return;
    for (unsigned s = 0; s < c->n; s++) {
        set_free(c->shard[s].set);
        if (c->shard[s].sessions) {
            for (unsigned i = 0; i < SESSIONS_MAX; i++)
                SSL_SESSION_free(c->shard[s].sessions[i].sess);
            free(c->shard[s].sessions);
        }
    }
    OPENSSL_cleanse(c->ticket_secret, sizeof(c->ticket_secret));
    for (unsigned i = 0; i < c->more_count; i++) {
        free(c->more_cert[i]);
        free(c->more_key[i]);
    }
    free(c->more_cert);
    free(c->more_key);
    free(c->cert_file);
    free(c->key_file);
    free(c->ca_file);
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
    if (n == t->cbuf_len && n < CIPHER_MAX) {
        char *bigger = malloc(n * 2);
        if (bigger) { /* (without it, reads go on in the smaller buffer) */
            free(t->cbuf);
            t->cbuf = bigger;
            t->cbuf_len = n * 2;
        }
    }
    return sea_ready();
}

/* Reads what the socket has into OpenSSL's input (or notes its end). */
static sea_future read_cipher(sea_tls *t) {
    return sea_then_wrapped(sea_socket_read(t->s, t->cbuf, t->cbuf_len), cipher_read, t);
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
    free(t->session_key);
    free(t);
}

static sea_tls *tls_new(sea_tls_creds *c, sea_socket *s) {
    SSL_CTX *ctx = shard_set(c)->ctx[0];
    sea_tls *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->box.release = tls_box_release;
    t->s = s;
    t->creds = c;
    t->cbuf = malloc(CIPHER_FIRST);
    t->cbuf_len = CIPHER_FIRST;
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
    SSL_set_app_data(t->ssl, t); /* for the ticket and session callbacks */
    /* OpenSSL's record buffers (about 17 KiB each way) are freed while the connection is idle. */
    SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
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
        if (!c->no_resumption) {
            /* Sessions are kept by host and address: the same name on another port is another server. */
            char peer[128];
            sea_addr a = sea_socket_peer(s);
            if (sea_addr_format(&a, peer, sizeof(peer)) < 0)
                peer[0] = 0;
            if (asprintf(&t->session_key, "%s|%s", host, peer) < 0)
                t->session_key = NULL;
            else
                offer_session(t);
        }
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

bool sea_tls_resumed(const sea_tls *t) {
    return SSL_session_reused(t->ssl) == 1;
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
    if (!t->eof && !SSL_has_pending(t->ssl) && !BIO_ctrl_pending(t->rbio) &&
        !(SSL_get_shutdown(t->ssl) & SSL_RECEIVED_SHUTDOWN)) {
        /*
         * Nothing to decrypt until more ciphertext comes (the usual case when a
         * request is awaited): read it first, rather than allocate a record's
         * buffer for an SSL_read bound to want more.
         */
        if (BIO_ctrl_pending(t->wbio))
            return sea_then(flush_cipher(t), flushed_then_read, (struct get_args){t, out});
        return sea_then_wrapped(read_cipher(t), got_more, (struct get_args){t, out});
    }
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

static const sea_data_sink_ops sink_ops = {.put = sink_put, .end = sink_end, .release = sink_release};

sea_output_stream *sea_tls_output(sea_tls *t, size_t batch) {
    t->sink = (struct tls_sink){{&sink_ops}, t};
    return sea_output_stream_to(&t->sink.base, batch ? batch : RECORD_MAX);
}
