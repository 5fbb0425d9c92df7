/*
 * bench_tls.h - what the benchmarks that talk TLS with OpenSSL share (the
 * ones in bench_http and bench_memcached_tls): the words of a failure.
 */
#ifndef SEA_BENCH_TLS_H
#define SEA_BENCH_TLS_H

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

/*
 * The first error OpenSSL queued (or errno's words, or "no error queued"),
 * for messages, in buf; clears the queue.
 */
static inline const char *ssl_why(char *buf, size_t len, int sys_errno) {
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "%s", sys_errno ? strerror(sys_errno) : "no error queued (end of stream?)");
    ERR_clear_error();
    return buf;
}

#endif
