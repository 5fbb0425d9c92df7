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
/* Most keys answered at once: a get line with more comes back in parts (mc_request.more). */
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
    MC_NOOP,           /* binary noop, meta mn */
    MC_META_DEBUG,     /* meta me: key */
    MC_REFRESH_CERTS,  /* refresh_certs [anything] [noreply]: reload the TLS certificates */
} mc_kind;

/* The protocol a request came in; its answer goes out in the same one. */
typedef enum { MC_PROTO_TEXT, MC_PROTO_META, MC_PROTO_BINARY } mc_proto;

/* A meta command's flags (protocol.txt "Meta Commands"), parsed once, answered on the key's shard. */
typedef struct mc_meta {
    char cmd;             /* g s d a n e */
    const char *flags;    /* the flag tokens as sent: answers echo some of them in this order */
    size_t flags_len;
    bool key_binary;      /* b: the key was base64 */
    bool value;           /* v */
    bool no_update;       /* u */
    bool vivify;          /* N */
    bool has_cas;         /* C */
    bool set_stale;       /* I */
    bool new_ttl;         /* T */
    bool recache;         /* R */
    char mode;            /* M */
    int64_t exptime;      /* T, as sent */
    int64_t vivify_exptime; /* N */
    int64_t recache_time; /* R */
    uint32_t client_flags; /* F */
    uint64_t cas;         /* C */
    uint64_t delta;       /* D (1) */
    uint64_t initial;     /* J */
    char key[MC_KEY_MAX]; /* the decoded key, with b */
} mc_meta;

typedef enum { MC_SET, MC_ADD, MC_REPLACE, MC_APPEND, MC_PREPEND, MC_CAS } mc_store_mode;

typedef struct mc_key {
    const char *p;
    uint8_t len; /* 1..250 */
} mc_key;

typedef struct mc_request {
    mc_kind kind;
    mc_proto proto;
    size_t consumed;      /* bytes of the buffer this request took */
    bool noreply;         /* text noreply, meta q, binary quiet opcodes: no answer on success */
    /* get family */
    bool with_cas;        /* gets, gats */
    bool touch;           /* gat, gats */
    bool more;            /* the get line has more keys than keys[] holds: the next mc_text_parse continues it */
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
    /* binary incr/decr, meta ma N: store `initial` on a miss */
    bool create;
    uint64_t initial;
    int64_t create_exptime;
    /* binary */
    uint8_t opcode;       /* as sent, quiet or not: answers carry it */
    uint32_t opaque;
    uint16_t status;      /* MC_REPLY_ERROR, MC_SWALLOW, MC_CLOSE: the status to answer with `error` */
    bool return_key;      /* getk, gatk */
    /* meta */
    mc_meta meta;
    /* errors */
    const char *error;    /* text and meta: the whole reply line, with \r\n; binary: the message */
    size_t swallow;       /* MC_SWALLOW: bytes to drop after the line */
} mc_request;

/* A token of a request line. */
typedef struct mc_token {
    const char *p;
    size_t len;
} mc_token;

/* Splits line[0..len) at runs of spaces into at most max tokens; returns how many (max+1: more). */
unsigned mc_tokenize(const char *line, size_t len, mc_token *t, unsigned max);

/* memcached's number rules: safe_strtoull (digits only), safe_strtol (a long kept in 32 bits), safe_strtoul. */
bool mc_parse_u64(mc_token t, uint64_t *out);
bool mc_parse_i32(mc_token t, int64_t *out);
bool mc_parse_u32(mc_token t, uint32_t *out);

/* memcached's item size rule (-I): whether a key and value fit in one item of at most max_item bytes. */
bool mc_item_fits(size_t nkey, size_t nbytes, size_t max_item);

/*
 * Parses the next request in buf[0..len).  max_item is the largest value a
 * set may store (-I); a larger one gets "SERVER_ERROR object too large for
 * cache" and its data block is swallowed, as memcached does.  Fills *r and
 * returns r->kind; r->consumed is 0 for MC_NEED_MORE.
 */
mc_kind mc_text_parse(const char *buf, size_t len, size_t max_item, mc_request *r);

#endif
