/*
 * sea/tls.h - TLS 1.2 and 1.3 over a sea socket, as input and output streams.
 *
 *     char why[256];
 *     sea_tls_creds *creds;
 *     if (sea_tls_creds_new(SEA_TLS_SERVER, &(sea_tls_options){.cert_file = "server.pem",
 *                           .key_file = "server.key"}, &creds, why, sizeof(why)) < 0) ...
 *     ...  // in a connection's handler (sea/server.h), in a fiber:
 *     sea_tls *t = SEA_AWAIT(sea_tls_accept(creds, s, SEA_SEC(10))).ptr;   // the handshake
 *     sea_input_stream *in = sea_tls_input(t);       // plaintext, as from a socket
 *     sea_output_stream *out = sea_tls_output(t, 0);
 *     ...
 *     SEA_AWAIT(sea_output_close(out));              // close_notify
 *     sea_output_stream_free(out); sea_input_stream_free(in);
 *     sea_tls_free(t);                               // then the server closes the socket
 *
 * A TLS connection is a data source and a data sink (sea/stream.h) over the
 * socket: whatever reads and writes streams works over it unchanged.
 * OpenSSL 3 does the protocol on memory buffers; sea moves the bytes, so the
 * handshake, reads and writes never block the shard.  Credentials hold one
 * OpenSSL context per shard, loaded once, so no shard takes another's locks.
 *
 * Defaults: TLS 1.2 and 1.3 only, OpenSSL's default cipher policy at
 * security level 2, peers verified (a client checks the server's chain
 * against ca_file or the system's trust store, and its name against the
 * host it asked for; a server asks for a client certificate only when told
 * to).  Errors are failed futures with OpenSSL's reason in the message:
 * -EPROTO for a protocol failure (a bad certificate, garbage instead of a
 * handshake), -ECONNRESET when the peer left, -ETIMEDOUT when a handshake
 * takes too long, and -EPROTO "truncated" when the peer's data ends without
 * its close_notify, so that a cut connection is never mistaken for the end.
 */
#ifndef SEA_TLS_H
#define SEA_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <sea/future.h>
#include <sea/net.h>
#include <sea/stream.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_tls_creds sea_tls_creds;
typedef struct sea_tls sea_tls;

typedef enum sea_tls_role { SEA_TLS_SERVER, SEA_TLS_CLIENT } sea_tls_role;

/* A certificate chain and its key, as PEM files. */
typedef struct sea_tls_cert {
    const char *cert_file;    /* the certificate, then its chain */
    const char *key_file;     /* its private key; NULL: in cert_file */
} sea_tls_cert;

typedef struct sea_tls_options {
    const char *cert_file;    /* PEM: the certificate, then its chain (a server's; a client's for mutual TLS) */
    const char *key_file;     /* PEM: its private key */
    const char *ca_file;      /* PEM: the CAs to verify peers with; a client without it uses the system's store */
    bool verify_client;       /* server: ask for a client certificate and refuse a client without a valid one */
    bool no_verify;           /* client: accept any server certificate (tests only: no authentication) */
    const char *alpn;         /* protocols offered (client) or accepted (server), by preference: "h2,http/1.1" */
    /*
     * Server: more certificates, chosen by the name a client asks for with
     * SNI (matched against each certificate's DNS names, wildcards
     * included, in this order); cert_file serves a client that asks for
     * no name or a name none of them has.
     */
    const sea_tls_cert *more_certs;
    unsigned more_cert_count;
    /*
     * Server: session tickets (resumption without a full handshake) are
     * sealed with a key that changes every ticket_rotation (0: 1 hour); a
     * ticket is accepted for two periods.  Every shard derives the same
     * keys from one secret made at start-up, so a ticket one shard issued
     * resumes on any other, and a reload keeps them.
     */
    sea_time ticket_rotation;
    bool no_tickets;          /* server: issue no tickets (every handshake is a full one) */
    bool no_resumption;       /* client: keep no sessions (by default each shard keeps the last per server) */
} sea_tls_options;

/*
 * Makes credentials for role from opts: one OpenSSL context per shard of
 * the running application (call it on a shard, before the connections that
 * use it).  Returns 0 with *out set, or -EINVAL (a file that cannot be
 * read, a key that does not match its certificate, a malformed option),
 * -ENOMEM; why (may be NULL) says what, with OpenSSL's reason.
 */
int sea_tls_creds_new(sea_tls_role role, const sea_tls_options *opts, sea_tls_creds **out, char *why,
                      size_t whylen);
/* Frees creds, once no connection uses them.  NULL does nothing. */
void sea_tls_creds_free(sea_tls_creds *creds);

/*
 * Reads the certificate and key files again (and ca_file), for a
 * certificate renewed in place: call it on the shard that made creds (on
 * SIGHUP, say).  New handshakes on every shard use the new files once the
 * future resolves; connections already open keep what they started with,
 * and session tickets stay valid.  If any file cannot be read or a key does
 * not match, nothing changes and the future fails with -EINVAL and the
 * reason.  One reload at a time (-EBUSY otherwise); free the credentials
 * only once the future has resolved.
 */
sea_future sea_tls_creds_reload(sea_tls_creds *creds) SEA_MUST_USE;
/* How many times creds were reloaded. */
unsigned sea_tls_creds_generation(const sea_tls_creds *creds);

/*
 * Runs a server's handshake over s (the socket stays the caller's, and must
 * outlive the TLS connection) within timeout (0: 10 s).  Resolves with the
 * connection as a boxed value (v.ptr: sea_tls *; dropped, it is freed).
 */
sea_future sea_tls_accept(sea_tls_creds *creds, sea_socket *s, sea_time timeout) SEA_MUST_USE;
/*
 * Runs a client's handshake over s: host is checked against the server's
 * certificate and sent as SNI (an IP address is only checked: RFC 6066
 * keeps it out of SNI; with no_verify nothing is checked; NULL: neither).
 * Unless no_resumption, the shard's last session with the same host and
 * peer address is offered, and a new one kept.  As sea_tls_accept otherwise.
 */
sea_future sea_tls_connect(sea_tls_creds *creds, sea_socket *s, const char *host, sea_time timeout) SEA_MUST_USE;

/* The plaintext the peer sends, as an input stream (one per connection; free it before the connection). */
sea_input_stream *sea_tls_input(sea_tls *t);
/*
 * An output stream that encrypts what is written (batch bytes per record
 * batch; 0: 16 KiB).  Closing it sends close_notify (the socket stays
 * open: its owner closes it).  One per connection; free it before the
 * connection.
 */
sea_output_stream *sea_tls_output(sea_tls *t, size_t batch);

/* The protocol ALPN chose ("h2"), or NULL. */
const char *sea_tls_alpn(const sea_tls *t);
/* "TLSv1.3" or "TLSv1.2". */
const char *sea_tls_version(const sea_tls *t);
/* The peer certificate's subject ("CN=client,O=..."), or NULL without one. */
const char *sea_tls_peer_subject(const sea_tls *t);
/* The server name the client asked for (SNI), on a server; NULL if none. */
const char *sea_tls_server_name(const sea_tls *t);
/* Whether the handshake resumed an earlier session (a ticket) rather than being a full one. */
bool sea_tls_resumed(const sea_tls *t);

/* Frees t (its streams first).  Sends nothing: close the output stream for an orderly end.  NULL does nothing. */
void sea_tls_free(sea_tls *t);

#ifdef __cplusplus
}
#endif
#endif
