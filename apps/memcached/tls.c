/*
 * tls.c - sea-memcached over TLS (-Z): memcached's "-o ssl_*" options read
 * and checked, the server's credentials made, and reloaded on
 * refresh_certs and SIGHUP.
 *
 * As in memcached, TLS is all or nothing on TCP: with -Z every TCP
 * connection starts with a handshake (conn.c), while the Unix socket and
 * UDP stay plain.  What memcached offers and sea's TLS layer cannot do
 * (ssl_verify_mode=1, a cipher list, the session cache, kernel TLS, keys
 * that are not PEM, a protocol floor other than TLS 1.2) is refused at
 * start-up with the reason: served differently, it would look like a
 * setting that took effect.
 */
#include "mc.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

SEA_LOGGER(tls_log, "memcached-tls");

sea_tls_creds *mc_tls_creds;
__thread uint64_t mc_tls_handshake_errors;
/* When the certificates were last loaded (unix seconds): written by whichever shard reloads them. */
static _Atomic int64_t loaded_unix;
/* The -o text, split in place: mc_config's file names point into it. */
static char *extended_copy;
/*
 * On shard 0, which made the credentials and so runs their reloads: one
 * reload at a time (refresh_certs from several clients, or with a SIGHUP,
 * wait their turn rather than fail with the TLS layer's -EBUSY), and the
 * reloads under way, waited for before the credentials are freed.
 */
static sea_semaphore one_reload = SEA_SEMAPHORE_INIT(1);
static sea_gate reloads = SEA_GATE_INIT;

/* memcached's -o names this part knows; any other -o option is refused (sea has none of them). */
static int set_ssl_option(const char *name, char *value, char *why, size_t whylen) {
    static const char *const known[] = {"ssl_chain_cert", "ssl_key",     "ssl_ca_cert",   "ssl_verify_mode",
                                        "ssl_keyformat",  "ssl_min_version", "ssl_wbuf_size", "ssl_ciphers",
                                        "ssl_session_cache", "ssl_kernel_tls"};
    bool is_known = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        is_known = is_known || strcmp(name, known[i]) == 0;
    if (!is_known) {
        snprintf(why, whylen, "-o %s: not an option sea-memcached has (it takes only the ssl_* options)", name);
        return -EINVAL;
    }
    if (strcmp(name, "ssl_ciphers") == 0 || strcmp(name, "ssl_session_cache") == 0 ||
        strcmp(name, "ssl_kernel_tls") == 0) {
        snprintf(why, whylen, "-o %s: not supported by sea-memcached (docs/memcached.md, TLS)", name);
        return -EINVAL;
    }
    if (!value || !*value) {
        snprintf(why, whylen, "-o %s: needs a value (%s=...)", name, name);
        return -EINVAL;
    }
    char *end;
    if (strcmp(name, "ssl_chain_cert") == 0) {
        mc_config.ssl_chain_cert = value;
    } else if (strcmp(name, "ssl_key") == 0) {
        mc_config.ssl_key = value;
    } else if (strcmp(name, "ssl_ca_cert") == 0) {
        mc_config.ssl_ca_cert = value;
    } else if (strcmp(name, "ssl_verify_mode") == 0) {
        long v = strtol(value, &end, 10);
        if (*end || v < 0 || v > 3) {
            snprintf(why, whylen, "-o ssl_verify_mode=%s: memcached's values are 0 (none), 1 (request), "
                     "2 (require) and 3 (once)", value);
            return -EINVAL;
        }
        if (v == 1) { /* OpenSSL's SSL_VERIFY_PEER alone: a certificate checked if sent, not required */
            snprintf(why, whylen, "-o ssl_verify_mode=1 (request): not supported, sea's TLS either requires a "
                     "client certificate (2) or asks for none (0)");
            return -EINVAL;
        }
        mc_config.ssl_verify_mode = (int)v;
    } else if (strcmp(name, "ssl_keyformat") == 0) {
        long v = strtol(value, &end, 10);
        if (*end || v != 1) { /* memcached takes OpenSSL's SSL_FILETYPE_* number: 1 PEM, 2 DER (ASN.1) */
            snprintf(why, whylen, "-o ssl_keyformat=%s: only 1 (PEM) is supported", value);
            return -EINVAL;
        }
    } else if (strcmp(name, "ssl_min_version") == 0) {
        long v = strtol(value, &end, 10);
        if (!*end && v == 2) {
            mc_config.ssl_min_version = 2;
        } else if (!*end && (v == 0 || v == 1)) {
            snprintf(why, whylen, "-o ssl_min_version=%s: sea speaks TLS 1.2 and 1.3 only, so its floor is "
                     "2 (tlsv1.2)", value);
            return -EINVAL;
        } else if (!*end && v == 3) {
            snprintf(why, whylen, "-o ssl_min_version=3 (tlsv1.3): not supported, sea's TLS always accepts "
                     "TLS 1.2 and 1.3 (2, tlsv1.2, is the only floor)");
            return -EINVAL;
        } else {
            snprintf(why, whylen, "-o ssl_min_version=%s: memcached's values are 0 (tlsv1.0), 1 (tlsv1.1), "
                     "2 (tlsv1.2) and 3 (tlsv1.3); sea serves 2", value);
            return -EINVAL;
        }
    } else { /* ssl_wbuf_size */
        long v = strtol(value, &end, 10);
        if (*end || v < 1 || v > 1024) {
            snprintf(why, whylen, "-o ssl_wbuf_size=%s: kilobytes, 1 to 1024", value);
            return -EINVAL;
        }
        mc_config.ssl_wbuf_size = (size_t)v * 1024;
    }
    return 0;
}

int mc_tls_configure(bool enable, const char *extended, char *why, size_t whylen) {
    mc_config.tls = enable;
    mc_config.ssl_min_version = 2;
    mc_config.ssl_wbuf_size = 16 * 1024;
    free(extended_copy);
    extended_copy = NULL;
    if (extended && *extended) {
        extended_copy = strdup(extended);
        if (!extended_copy) {
            snprintf(why, whylen, "no memory for -o");
            return -ENOMEM;
        }
        /* "name=value,name=value": memcached's getsubopt syntax (a value cannot hold a comma) */
        for (char *p = extended_copy, *next; p && *p; p = next) {
            next = strchr(p, ',');
            if (next)
                *next++ = '\0';
            if (!*p)
                continue;
            char *value = strchr(p, '=');
            if (value)
                *value++ = '\0';
            int rc = set_ssl_option(p, value, why, whylen);
            if (rc < 0)
                return rc;
        }
    }
    if (!enable) {
        if (mc_config.ssl_chain_cert || mc_config.ssl_key || mc_config.ssl_ca_cert) {
            snprintf(why, whylen, "-o ssl_*: the certificates are used only with -Z (--enable-ssl)");
            return -EINVAL;
        }
        return 0;
    }
    if (!mc_config.ssl_chain_cert) {
        snprintf(why, whylen, "-Z needs -o ssl_chain_cert=FILE (and ssl_key=FILE unless the key is in it)");
        return -EINVAL;
    }
    if (mc_config.ssl_verify_mode >= 2 && !mc_config.ssl_ca_cert) {
        snprintf(why, whylen, "-o ssl_verify_mode=%d needs ssl_ca_cert=FILE: the CAs client certificates are "
                 "checked against", mc_config.ssl_verify_mode);
        return -EINVAL;
    }
    return 0;
}

int64_t mc_tls_since_refresh(void) {
    return (int64_t)time(NULL) - atomic_load_explicit(&loaded_unix, memory_order_relaxed);
}

static sea_future reload_done(sea_future *in) {
    if (sea_future_failed(in)) {
        sea_log_error(&tls_log, "the certificates were not reloaded: %s", sea_future_message(in));
        return sea_future_move(in);
    }
    atomic_store_explicit(&loaded_unix, (int64_t)time(NULL), memory_order_relaxed);
    sea_log_info(&tls_log, "certificates reloaded from %s (generation %u)", mc_config.ssl_chain_cert,
                 sea_tls_creds_generation(mc_tls_creds));
    return sea_future_move(in);
}

static sea_future reload_now(void) {
    return sea_then_wrapped(sea_tls_creds_reload(mc_tls_creds), reload_done);
}

static sea_future reload_left(sea_future *in) {
    sea_gate_leave(&reloads);
    return sea_future_move(in);
}

/* On shard 0: the reload, after any other under way. */
static sea_future reload_here(void) {
    if (!mc_tls_creds || sea_gate_enter(&reloads) < 0)
        return sea_failed(SEA_ESHUTDOWN, "the server is stopping");
    return sea_then_wrapped(sea_with_semaphore(&one_reload, 1, reload_now), reload_left);
}

sea_future mc_tls_refresh(void) {
    if (!mc_config.tls)
        return sea_failed(-ENOTSUP, "TLS not enabled");
    return sea_submit_to(0, reload_here);
}

static sea_future hup_done(sea_future *in) {
    sea_future_detach(sea_future_move(in)); /* reload_done logged how it went */
    return sea_ready();
}

/* SIGHUP, on shard 0: as refresh_certs (memcached reloads its certificates only on refresh_certs). */
static void on_hup(int signo, void *arg) {
    (void)signo, (void)arg;
    sea_future_detach(sea_then_wrapped(reload_here(), hup_done));
}

sea_future mc_tls_start(void) {
    if (!mc_config.tls)
        return sea_ready();
    char why[512];
    sea_tls_options o = {
        .cert_file = mc_config.ssl_chain_cert,
        .key_file = mc_config.ssl_key,
        .ca_file = mc_config.ssl_ca_cert,
        .verify_client = mc_config.ssl_verify_mode >= 2,
    };
    int rc = sea_tls_creds_new(SEA_TLS_SERVER, &o, &mc_tls_creds, why, sizeof(why));
    if (rc < 0)
        return sea_failed_fmt(rc, "-Z: the certificates (-o ssl_chain_cert, ssl_key, ssl_ca_cert): %s", why);
    atomic_store_explicit(&loaded_unix, (int64_t)time(NULL), memory_order_relaxed);
    rc = sea_signal_handle(SIGHUP, on_hup, NULL);
    if (rc < 0)
        return sea_failed(rc, "cannot take SIGHUP (certificate reloads)");
    return sea_ready();
}

sea_future mc_tls_stop(void) {
    if (mc_tls_creds) {
        sea_signal_unhandle(SIGHUP);
        SEA_AWAIT(sea_gate_close(&reloads)); /* a reload under way uses the credentials */
        sea_tls_creds_free(mc_tls_creds);
        mc_tls_creds = NULL;
    }
    free(extended_copy);
    extended_copy = NULL;
    return sea_ready();
}
