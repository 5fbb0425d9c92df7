/*
 * http/parse.h - the HTTP/1.x message parsers (parse.c): finding a request
 * head in the bytes received so far, parsing it (request line, header
 * fields, the body's framing), and decoding a chunked body.  No I/O and no
 * allocation, so that the fuzzers and the differential test drive them
 * directly.
 */
#ifndef SEA_HTTP_PARSE_H
#define SEA_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/http.h>

struct sea__http_limits {
    size_t max_request_line; /* longer: 414 */
    size_t max_head;         /* longer: 431 */
    unsigned max_headers;    /* more: 431 */
};

/*
 * Where the search for the end of a head stands, between calls as bytes
 * arrive, so that a head sent a byte at a time is scanned once, not once
 * per byte.  Zero it for each new head.
 */
struct sea__http_scan {
    size_t pos;       /* bytes scanned so far */
    size_t line_end;  /* the request line's length, 0 while not yet seen */
    size_t skip;      /* empty lines before the request line (ignored, RFC 9112 section 2.2) */
};

/*
 * Looks for the end of the head in buf[0..len).  Returns its length (its
 * final empty line included, the empty lines skipped before it too) when it
 * is complete, 0 when more bytes are needed, or a negative HTTP status when
 * the limits are already passed: -414 (request line) or -431 (head).
 */
long sea__http_head_find(const char *buf, size_t len, const struct sea__http_limits *lim,
                         struct sea__http_scan *scan);

/* A parsed request head: what sea_http_request shows, and the framing. */
struct sea__http_head {
    char *method;
    char *target;
    char *path;          /* decoded, in path_buf */
    char *query;
    int version;         /* 10 or 11 */
    sea_http_header *headers;
    unsigned header_count;
    int64_t content_length; /* -1: chunked; 0: no body */
    bool chunked;
    bool keep_alive;
    bool expect_continue;
    const char *error;   /* when refused: why (a static string) */
};

/*
 * Parses the complete head buf[0..len) (as found by sea__http_head_find),
 * in place: every part is NUL-terminated where it lies.  headers has room
 * for lim->max_headers fields; path_buf for len + 1 bytes (the decoded
 * path).  Returns 0, or the status to refuse it with (400, 431, 501, 505,
 * 417) with out->error saying why.
 */
int sea__http_head_parse(char *buf, size_t len, const struct sea__http_limits *lim, sea_http_header *headers,
                         char *path_buf, struct sea__http_head *out);

/*
 * Splits the request-target target[0..n) (NUL-terminated, as in a parsed
 * head) of a request with method into out->path (percent-decoded into
 * path_buf, room for n + 1 bytes) and out->query (in target, after "?"):
 * origin, absolute, authority (CONNECT) and asterisk (OPTIONS) forms.
 * Returns 0, or 400 with out->error saying why.  HTTP/2's :path goes
 * through it too, so that both protocols decode paths by the same rules.
 */
int sea__http_target_parse(char *target, size_t n, const char *method, char *path_buf, struct sea__http_head *out);

/* The state of a chunked body's decoding (RFC 9112 section 7.1).  Zero it to start. */
struct sea__http_chunked {
    int state;
    uint64_t left;       /* data bytes left in the current chunk */
    size_t line;         /* bytes of the current size, extension or trailer line */
    size_t trailer_bytes;
    unsigned digits;
    const char *error;   /* why decoding failed */
};

/*
 * Feeds in[0..len) to the decoder.  Returns the bytes it consumed, having
 * stored in *data and *data_len the body bytes among them (one run of a
 * chunk's data at most: call again with the rest), or -1 on malformed input
 * (d->error says why).  max_trailer bounds the trailer section's size.
 */
long sea__http_chunked_feed(struct sea__http_chunked *d, const char *in, size_t len, size_t max_trailer,
                            const char **data, size_t *data_len);
/* True once the last chunk and the trailers have been read. */
bool sea__http_chunked_done(const struct sea__http_chunked *d);

/*
 * The next element of a comma-separated field value (RFC 9110 section
 * 5.6.1) at *p, blanks trimmed and empty elements skipped: true with *el
 * and *n set and *p moved past it; false at the end.  Server and client
 * read Connection and Transfer-Encoding with it.
 */
bool sea__http_list_next(const char **p, const char **el, size_t *n);
/* Whether el[0..n) is word, ignoring case (word in lower case). */
bool sea__http_token_is(const char *el, size_t n, const char *word);
/*
 * A Content-Length value s[0..n): 0 with *out set, -1 if it is not 1*DIGIT,
 * -2 if it is over 2^62 (checked before it could wrap around 2^64).
 */
int sea__http_length_parse(const char *s, size_t n, uint64_t *out);

/* RFC 9110 token characters (tchar). */
extern const unsigned char sea__http_tchar[256];

#endif
