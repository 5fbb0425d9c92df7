/*
 * text.h - memcached's text protocol: one request at a time out of a
 * connection's receive buffer.
 *
 * mc_text_parse() looks at the bytes received so far and says what the next
 * request is and how many bytes it takes (its line and, for storage
 * commands, its data block), or that more bytes are needed.  It allocates
 * nothing and keeps no state: keys and data point into the buffer, so the
 * caller acts on a request before it discards those bytes.  A malformed
 * request is a request too (MC_REPLY_ERROR, with memcached 1.6.18's exact
 * error line and the number of bytes memcached would consume with it), so a
 * bad line never desynchronises the connection.
 */
#ifndef MC_TEXT_H
#define MC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key memcached accepts. */
#define MC_KEY_MAX 250
/* Most keys in one get line (memcached has no such limit; beyond it we answer an error). */
#define MC_GET_KEYS_MAX 512
/* Longest request line we wait for; a longer one is an error and the connection closes. */
#define MC_LINE_MAX (MC_GET_KEYS_MAX * (MC_KEY_MAX + 1) + 64)

typedef enum {
    MC_NEED_MORE,      /* not a whole request yet */
    MC_GET,            /* get/gets/gat/gats: keys[], nkeys; gat*: exptime */
    MC_STORE,          /* set/add/replace/append/prepend/cas: key, flags, exptime, data, cas_unique */
    MC_DELETE,         /* key */
    MC_ARITH,          /* incr/decr: key, delta */
    MC_TOUCH,          /* key, exptime */
    MC_FLUSH_ALL,      /* exptime (delay, 0 if none) */
    MC_VERSION,
    MC_VERBOSITY,
    MC_QUIT,
    MC_STATS,          /* stats [arg]: key (the argument, may be empty) */
    MC_REPLY_ERROR,    /* answer `error` (no reply if noreply) and consume `consumed` bytes */
    MC_SWALLOW,        /* answer `error`, consume the line, then drop `swallow` more bytes as they come */
    MC_CLOSE,          /* answer `error` if set, then close the connection */
} mc_kind;

typedef enum { MC_SET, MC_ADD, MC_REPLACE, MC_APPEND, MC_PREPEND, MC_CAS } mc_store_mode;

typedef struct mc_key {
    const char *p;
    uint8_t len; /* 1..250 */
} mc_key;

typedef struct mc_request {
    mc_kind kind;
    size_t consumed;      /* bytes of the buffer this request took */
    bool noreply;
    /* get family */
    bool with_cas;        /* gets, gats */
    bool touch;           /* gat, gats */
    unsigned nkeys;
    mc_key keys[MC_GET_KEYS_MAX];
    /* single-key commands */
    mc_key key;
    mc_store_mode mode;
    bool incr;            /* MC_ARITH: incr, else decr */
    uint32_t flags;
    int64_t exptime;      /* as sent: 0 never, <0 expired, <=30 days relative, else absolute unix time */
    uint64_t cas_unique;
    uint64_t delta;
    const char *data;     /* MC_STORE: the value (without its \r\n) */
    uint32_t nbytes;
    /* errors */
    const char *error;    /* the whole reply line, with \r\n */
    size_t swallow;       /* MC_SWALLOW: bytes to drop after the line */
} mc_request;

/*
 * Parses the next request in buf[0..len).  max_item is the largest value a
 * set may store (-I); a larger one gets "SERVER_ERROR object too large for
 * cache" and its data block is swallowed, as memcached does.  Fills *r and
 * returns r->kind; r->consumed is 0 for MC_NEED_MORE.
 */
mc_kind mc_text_parse(const char *buf, size_t len, size_t max_item, mc_request *r);

#endif
