/*
 * http/request.h - the HTTP/1.x request-head parser (request.c): the first
 * piece of the HTTP layer, used by its small server (server.c) and fuzzed
 * by the tests.
 */
#ifndef SEA_HTTP_REQUEST_H
#define SEA_HTTP_REQUEST_H

#include <stddef.h>

/* What sea__http_request_parse found. */
enum {
    SEA__HTTP_MORE = 0, /* a valid beginning: the head is not complete yet */
    SEA__HTTP_DONE = 1, /* a complete, valid head (request line, headers, empty line) */
    SEA__HTTP_BAD = 2,  /* not a valid HTTP/1.0 or 1.1 request head */
};

/* The parts of a request head; they point into the parsed bytes. */
struct sea__http_request {
    const char *method;
    size_t method_len;
    const char *target; /* the request-target as sent: "/metrics?x=1" */
    size_t target_len;
    int minor_version;  /* HTTP/1.<minor_version> */
    size_t head_len;    /* bytes of the head, its final empty line included */
    const char *error;  /* SEA__HTTP_BAD: why, a static string */
};

/*
 * Parses the request head at the start of buf[0..len): the request line
 * (method SP request-target SP "HTTP/1.0" or "HTTP/1.1"), header fields
 * (token ":" value, no obsolete line folding, no control characters) and
 * the empty line that ends the head.  Lines end with CRLF or a bare LF.
 * Bytes after the head are not looked at.
 *
 * Returns SEA__HTTP_DONE with *req filled; SEA__HTTP_MORE if buf is a valid
 * beginning of a head (every prefix of a valid head is); or SEA__HTTP_BAD
 * with req->error set, as soon as the bytes so far cannot begin a valid head
 * (every extension of them is bad too).  Never reads outside buf.
 */
int sea__http_request_parse(const char *buf, size_t len, struct sea__http_request *req);

#endif
