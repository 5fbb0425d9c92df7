/*
 * parse.c - the HTTP/1.x request parsers (see parse.h).
 *
 * A request head is handled in two steps.  While bytes arrive, head_find
 * looks only for the head's end (the first empty line), resuming where it
 * stopped, and checks the two size limits; then head_parse walks the
 * complete head once, checks every byte against RFC 9112's grammar and
 * NUL-terminates the parts in place.  Splitting the two keeps a client that
 * sends a byte at a time from making the server rescan its head per byte.
 *
 * The parser is strict where leniency lets two parsers disagree about where
 * a request ends (request smuggling, RFC 9112 section 11.2): lines end with
 * CRLF (no bare LF, no bare CR), no obsolete line folding, no whitespace
 * between a field name and its colon, one well-formed Content-Length,
 * Transfer-Encoding only in HTTP/1.1, only "chunked" and never beside
 * Content-Length.  docs/http.md lists each rule with its clause.
 */
#include "http/parse.h"

#include <string.h>

#define METHOD_MAX 32
/* Content-Length above this (2^62) is refused: no body is that large, and sums cannot overflow. */
#define LENGTH_MAX (UINT64_C(1) << 62)
/* Hex digits of a chunk size: 15 keep it under 2^60. */
#define CHUNK_DIGITS_MAX 15
/* A chunk-size line's extensions, at most (they are read and ignored). */
#define CHUNK_LINE_MAX 4096

#define T(c) [c] = 1
const unsigned char sea__http_tchar[256] = {
    T('!'), T('#'), T('$'), T('%'), T('&'), T('\''), T('*'), T('+'), T('-'), T('.'), T('^'), T('_'), T('`'),
    T('|'), T('~'),
    T('0'), T('1'), T('2'), T('3'), T('4'), T('5'), T('6'), T('7'), T('8'), T('9'),
    T('a'), T('b'), T('c'), T('d'), T('e'), T('f'), T('g'), T('h'), T('i'), T('j'), T('k'), T('l'), T('m'),
    T('n'), T('o'), T('p'), T('q'), T('r'), T('s'), T('t'), T('u'), T('v'), T('w'), T('x'), T('y'), T('z'),
    T('A'), T('B'), T('C'), T('D'), T('E'), T('F'), T('G'), T('H'), T('I'), T('J'), T('K'), T('L'), T('M'),
    T('N'), T('O'), T('P'), T('Q'), T('R'), T('S'), T('T'), T('U'), T('V'), T('W'), T('X'), T('Y'), T('Z'),
};
#undef T

long sea__http_head_find(const char *buf, size_t len, const struct sea__http_limits *lim,
                         struct sea__http_scan *scan) {
    size_t i = scan->pos;
    /* Empty lines before the request line are skipped (clients send them after a POST body). */
    while (scan->line_end == 0 && i == scan->skip && scan->skip <= 64 && i < len &&
           (buf[i] == '\r' || buf[i] == '\n')) {
        if (buf[i] == '\r') {
            if (i + 1 >= len) {
                scan->pos = i; /* look at this CR again when its LF comes */
                return 0;
            }
            if (buf[i + 1] != '\n')
                break; /* the parser says why */
            i += 2;
        } else {
            break; /* a bare LF: the parser refuses it */
        }
        scan->skip = i;
        if (scan->skip > 64)
            break; /* enough: let the parser refuse a head of empty lines */
    }
    for (;;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl) {
            scan->pos = len;
            size_t so_far = len - scan->skip;
            /* +1: the line's CR may be in, its LF not yet */
            if (scan->line_end == 0 && so_far > lim->max_request_line + 1)
                return -414;
            if (so_far > lim->max_head)
                return -431;
            return 0;
        }
        size_t p = (size_t)(nl - buf);
        if (scan->line_end == 0) {
            scan->line_end = p + 1 - scan->skip;
            if (scan->line_end > lim->max_request_line + 2)
                return -414;
        }
        if (p + 1 - scan->skip > lim->max_head)
            return -431;
        /* The head ends at an empty line: "\n\r\n", or "\n\n" (refused by the parser, but an end). */
        if (p + 1 < len && buf[p + 1] == '\n') {
            scan->pos = p + 2;
            return (long)(p + 2);
        }
        if (p + 2 < len && buf[p + 1] == '\r' && buf[p + 2] == '\n') {
            scan->pos = p + 3;
            return (long)(p + 3);
        }
        if (p + 2 >= len) {
            scan->pos = p; /* look at this newline again when more bytes come */
            if (p + 1 - scan->skip > lim->max_head)
                return -431;
            return 0;
        }
        i = p + 1;
    }
}

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool eq_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return false;
    return *a == *b;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A field value's byte: VCHAR, obs-text, SP or HTAB (RFC 9110 section 5.5). */
static bool value_char(unsigned char c) {
    return c >= 0x20 ? c != 0x7f : c == '\t';
}

bool sea__http_list_next(const char **p, const char **el, size_t *n) {
    const char *s = *p;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s) {
            *p = s;
            return false;
        }
        const char *start = s;
        while (*s && *s != ',')
            s++;
        const char *end = s;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            *el = start;
            *n = (size_t)(end - start);
            *p = s;
            return true;
        }
    }
}

bool sea__http_token_is(const char *el, size_t n, const char *word) {
    size_t w = strlen(word);
    if (n != w)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)el[i]) != word[i])
            return false;
    return true;
}

int sea__http_length_parse(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (LENGTH_MAX - d) / 10) /* checked before v * 10 could wrap around 2^64 */
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Percent-decodes a path of n bytes into out (NUL-terminated); -1 for a malformed escape or a NUL. */
static int decode_path(const char *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        if (i + 2 >= n)
            return -1;
        int h = hexval((unsigned char)in[i + 1]), l = h < 0 ? -1 : hexval((unsigned char)in[i + 2]);
        if (h < 0 || l < 0 || (h == 0 && l == 0))
            return -1;
        out[o++] = (char)(h * 16 + l);
        i += 2;
    }
    out[o] = 0;
    return 0;
}

#define REFUSE(status, why) \
    do { \
        out->error = (why); \
        return (status); \
    } while (0)

/* The request-target (RFC 9112 section 3.2): its path and query.  0 or 400. */
int sea__http_target_parse(char *target, size_t n, const char *method, char *path_buf, struct sea__http_head *out) {
    char *path = target;
    if (target[0] == '/') {
        /* origin-form */
    } else if (n == 1 && target[0] == '*') {
        if (strcmp(method, "OPTIONS") != 0)
            REFUSE(400, "asterisk-form request-target with a method other than OPTIONS");
        out->path = strcpy(path_buf, "*");
        out->query = target + n; /* "" */
        return 0;
    } else if (strcmp(method, "CONNECT") == 0) {
        /* authority-form: host:port, nothing to decode */
        out->path = strcpy(path_buf, target);
        out->query = target + n;
        return 0;
    } else {
        /* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
        char *colon = strchr(target, ':');
        if (!colon || colon == target || colon[1] != '/' || colon[2] != '/')
            REFUSE(400, "malformed request-target");
        for (char *c = target; c < colon; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (c > target && ((*c >= '0' && *c <= '9') || *c == '+' || *c == '-' || *c == '.'))))
                REFUSE(400, "malformed scheme in an absolute-form request-target");
        char *auth = colon + 3;
        path = auth + strcspn(auth, "/?");
        if (path == auth)
            REFUSE(400, "absolute-form request-target without a host");
    }
    char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    if (memchr(target, '#', n))
        REFUSE(400, "a fragment (#) in the request-target");
    if (plen == 0) {
        strcpy(path_buf, "/"); /* "http://host?x" */
    } else if (decode_path(path, plen, path_buf) < 0) {
        REFUSE(400, "malformed percent-encoding in the path");
    }
    out->path = path_buf;
    out->query = q ? q + 1 : target + n;
    return 0;
}

int sea__http_head_parse(char *buf, size_t len, const struct sea__http_limits *lim, sea_http_header *headers,
                         char *path_buf, struct sea__http_head *out) {
    memset(out, 0, sizeof(*out));
    out->headers = headers;
    size_t i = 0;
    while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
        i += 2; /* empty lines before the request line */

    /* method SP request-target SP HTTP-version CRLF */
    char *method = buf + i;
    while (i < len && sea__http_tchar[(unsigned char)buf[i]])
        i++;
    size_t mlen = (size_t)(buf + i - method);
    if (mlen == 0 || i >= len || buf[i] != ' ')
        REFUSE(400, "malformed method");
    if (mlen > METHOD_MAX)
        REFUSE(501, "method too long");
    buf[i++] = 0;
    char *target = buf + i;
    while (i < len && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f)
        i++;
    size_t tlen = (size_t)(buf + i - target);
    if (tlen == 0 || i >= len || buf[i] != ' ')
        REFUSE(400, "malformed request-target");
    buf[i++] = 0;
    if (len - i < 10 || memcmp(buf + i, "HTTP/", 5) != 0)
        REFUSE(400, "malformed HTTP version");
    char major = buf[i + 5], minor = buf[i + 7];
    if (major < '0' || major > '9' || buf[i + 6] != '.' || minor < '0' || minor > '9')
        REFUSE(400, "malformed HTTP version");
    i += 8;
    if (buf[i] != '\r' || buf[i + 1] != '\n')
        REFUSE(400, buf[i] == '\n' ? "a line ends with a bare LF" : "malformed request line");
    if (major != '1')
        REFUSE(505, "HTTP version not supported (only 1.x)");
    out->version = minor == '0' ? 10 : 11; /* 1.2 and later are answered as 1.1 (RFC 9110 section 6.2) */
    i += 2;
    out->method = method;
    out->target = target;

    /* field-name ":" OWS field-value OWS CRLF, until an empty line */
    bool have_length = false, have_host = false, have_te = false;
    bool te_chunked = false; /* chunked seen: the last coding, unless te_twice */
    bool te_twice = false;   /* something came after chunked (another coding, or chunked again) */
    bool te_other = false;   /* a coding sea does not decode */
    bool conn_close = false, conn_keep = false;
    uint64_t length = 0;
    for (;;) {
        if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
            break;
        if (i >= len)
            REFUSE(400, "a head without its final empty line");
        if (buf[i] == ' ' || buf[i] == '\t')
            REFUSE(400, "obsolete line folding");
        char *name = buf + i;
        while (i < len && sea__http_tchar[(unsigned char)buf[i]])
            i++;
        if (i >= len)
            REFUSE(400, "malformed header field name");
        if (i == (size_t)(name - buf))
            REFUSE(400, buf[i] == '\n' ? "a line ends with a bare LF" : "malformed header field name");
        if (buf[i] != ':')
            REFUSE(400, buf[i] == ' ' || buf[i] == '\t' ? "whitespace between a header field name and its colon"
                                                          : "malformed header field name");
        buf[i++] = 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        char *value = buf + i;
        while (i < len && value_char((unsigned char)buf[i]))
            i++;
        if (i >= len || buf[i] != '\r' || i + 1 >= len || buf[i + 1] != '\n') {
            if (i < len && buf[i] == '\n')
                REFUSE(400, "a line ends with a bare LF");
            if (i < len && buf[i] == '\r')
                REFUSE(400, "a bare CR in a header field");
            REFUSE(400, "a control character in a header field value");
        }
        char *end = buf + i;
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = 0;
        i += 2;
        if (out->header_count == lim->max_headers)
            REFUSE(431, "too many header fields");
        headers[out->header_count++] = (sea_http_header){name, value};

        switch (lower((unsigned char)name[0])) {
        case 'c':
            if (eq_nocase(name, "content-length")) {
                if (have_length)
                    REFUSE(400, "more than one Content-Length");
                have_length = true;
                int rc = sea__http_length_parse(value, strlen(value), &length);
                if (rc < 0)
                    REFUSE(400, rc == -2 ? "Content-Length too large" : "malformed Content-Length");
            } else if (eq_nocase(name, "connection")) {
                const char *p = value, *el;
                size_t n;
                while (sea__http_list_next(&p, &el, &n)) {
                    conn_close |= sea__http_token_is(el, n, "close");
                    conn_keep |= sea__http_token_is(el, n, "keep-alive");
                }
            }
            break;
        case 't':
            if (eq_nocase(name, "transfer-encoding")) {
                have_te = true;
                const char *p = value, *el;
                size_t n;
                while (sea__http_list_next(&p, &el, &n)) {
                    te_twice |= te_chunked; /* anything after chunked: it is not the last coding */
                    if (sea__http_token_is(el, n, "chunked"))
                        te_chunked = true;
                    else
                        te_other = true;
                }
            }
            break;
        case 'h':
            if (eq_nocase(name, "host")) {
                if (have_host)
                    REFUSE(400, "more than one Host");
                have_host = true;
            }
            break;
        case 'e':
            if (eq_nocase(name, "expect")) {
                if (eq_nocase(value, "100-continue"))
                    out->expect_continue = out->version == 11; /* ignored from 1.0 clients (RFC 9110 10.1.1) */
                else
                    REFUSE(417, "an expectation other than 100-continue");
            }
            break;
        }
    }
    if (i + 2 != len)
        REFUSE(400, "bytes after the head's end"); /* cannot happen with head_find's length */

    if (out->version == 11 && !have_host)
        REFUSE(400, "an HTTP/1.1 request without Host");
    if (have_te) {
        if (out->version == 10)
            REFUSE(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (have_length)
            REFUSE(400, "both Content-Length and Transfer-Encoding");
        if (te_other && !te_twice && te_chunked)
            REFUSE(501, "a transfer coding other than chunked");
        if (!te_chunked || te_twice)
            REFUSE(400, te_chunked || te_twice ? "chunked is not the last transfer coding, or appears twice"
                                               : "Transfer-Encoding without chunked");
        out->chunked = true;
        out->content_length = -1;
    } else {
        out->content_length = (int64_t)length;
    }
    out->keep_alive = out->version == 11 ? !conn_close : conn_keep && !conn_close;
    return sea__http_target_parse(target, tlen, method, path_buf, out);
}

/* ---- chunked bodies ---- */

enum {
    CH_SIZE,      /* hex digits of a chunk size */
    CH_EXT,       /* after the size: ";", CR, or blanks and then ";" */
    CH_EXT_NAME0, /* after ";": blanks, then an extension's name */
    CH_EXT_NAME,
    CH_EXT_AFTER_NAME, /* blanks, then "=" or ";" */
    CH_EXT_VAL0,  /* after "=": blanks, then a token or a quoted string */
    CH_EXT_VAL,
    CH_EXT_QUOTED,
    CH_EXT_QUOTED_ESC,
    CH_EXT_AFTER_VAL, /* blanks, then ";" */
    CH_EXT_QDONE, /* after a quoted string's closing quote: ";", CR or blanks */
    CH_SIZE_LF,   /* the LF after the size line's CR */
    CH_DATA,      /* the chunk's bytes */
    CH_DATA_CR,   /* the CR after them */
    CH_DATA_LF,
    CH_TRAILER,   /* at the start of a trailer line (or of the final empty line) */
    CH_TRAILER_NAME,
    CH_TRAILER_VALUE,
    CH_TRAILER_LF,
    CH_END_LF,    /* the final empty line's LF */
    CH_DONE,
    CH_FAILED,
};

bool sea__http_chunked_done(const struct sea__http_chunked *d) {
    return d->state == CH_DONE;
}

#define FAIL(why) \
    do { \
        d->error = (why); \
        d->state = CH_FAILED; \
        return -1; \
    } while (0)

long sea__http_chunked_feed(struct sea__http_chunked *d, const char *in, size_t len, size_t max_trailer,
                            const char **data, size_t *data_len) {
    *data = NULL;
    *data_len = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        switch (d->state) {
        case CH_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (++d->digits > CHUNK_DIGITS_MAX)
                    FAIL("chunk size too large");
                d->left = d->left * 16 + (uint64_t)h;
                i++;
                break;
            }
            if (d->digits == 0)
                FAIL("malformed chunk size");
            d->state = CH_EXT;
            d->line = 0;
            break;
        }
        case CH_EXT:
        case CH_EXT_NAME0:
        case CH_EXT_NAME:
        case CH_EXT_AFTER_NAME:
        case CH_EXT_VAL0:
        case CH_EXT_VAL:
        case CH_EXT_QUOTED:
        case CH_EXT_QUOTED_ESC:
        case CH_EXT_AFTER_VAL:
        case CH_EXT_QDONE: {
            /*
             * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string
             * (RFC 9112 section 7.1.1): checked to the letter, then ignored.
             */
            bool blank = c == ' ' || c == '\t', tok = sea__http_tchar[c] != 0;
            int st = d->state, next = -1;
            if (++d->line > CHUNK_LINE_MAX)
                FAIL("chunk extensions too long");
            if (c == '\n' && st != CH_EXT_QUOTED && st != CH_EXT_QUOTED_ESC)
                FAIL("a chunk size line ends with a bare LF");
            switch (st) {
            case CH_EXT: /* BWS comes only before a ";" */
                next = blank ? CH_EXT_AFTER_VAL : c == ';' ? CH_EXT_NAME0 : c == '\r' ? CH_SIZE_LF : -1;
                break;
            case CH_EXT_AFTER_NAME:
            case CH_EXT_AFTER_VAL:
                next = blank ? st : c == ';' ? CH_EXT_NAME0 : c == '=' && st == CH_EXT_AFTER_NAME ? CH_EXT_VAL0 : -1;
                break;
            case CH_EXT_NAME0:
                next = blank ? st : tok ? CH_EXT_NAME : -1;
                break;
            case CH_EXT_NAME:
                next = tok ? st : blank ? CH_EXT_AFTER_NAME : c == '=' ? CH_EXT_VAL0 : c == ';' ? CH_EXT_NAME0
                     : c == '\r' ? CH_SIZE_LF : -1;
                break;
            case CH_EXT_VAL0:
                next = blank ? st : c == '"' ? CH_EXT_QUOTED : tok ? CH_EXT_VAL : -1;
                break;
            case CH_EXT_VAL:
                next = tok ? st : blank ? CH_EXT_AFTER_VAL : c == ';' ? CH_EXT_NAME0 : c == '\r' ? CH_SIZE_LF : -1;
                break;
            case CH_EXT_QUOTED: /* qdtext: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text */
                next = c == '"' ? CH_EXT_QDONE : c == '\\' ? CH_EXT_QUOTED_ESC
                     : (c == '\t' || (c >= 0x20 && c != 0x7f)) ? st : -1;
                break;
            case CH_EXT_QDONE:
                next = blank ? CH_EXT_AFTER_VAL : c == ';' ? CH_EXT_NAME0 : c == '\r' ? CH_SIZE_LF : -1;
                break;
            case CH_EXT_QUOTED_ESC:
                next = c == '\t' || (c >= 0x20 && c != 0x7f) ? CH_EXT_QUOTED : -1;
                break;
            }
            if (next < 0)
                FAIL(st == CH_EXT ? "malformed chunk size" : "malformed chunk extension");
            d->state = next;
            i++;
            break;
        }
        case CH_SIZE_LF:
            if (c != '\n')
                FAIL("a chunk size line's CR without LF");
            i++;
            d->digits = 0;
            if (d->left == 0) {
                d->state = CH_TRAILER;
                d->trailer_bytes = 0;
            } else {
                d->state = CH_DATA;
            }
            break;
        case CH_DATA: {
            size_t n = len - i < d->left ? len - i : (size_t)d->left;
            *data = in + i;
            *data_len = n;
            d->left -= n;
            i += n;
            if (d->left == 0)
                d->state = CH_DATA_CR;
            return (long)i;
        }
        case CH_DATA_CR:
            if (c != '\r')
                FAIL("a chunk's data is not followed by CRLF");
            d->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                FAIL("a chunk's data is not followed by CRLF");
            d->state = CH_SIZE;
            i++;
            break;
        case CH_TRAILER:
            if (c == '\r') {
                d->state = CH_END_LF;
            } else if (sea__http_tchar[c]) {
                d->state = CH_TRAILER_NAME;
            } else {
                FAIL(c == ' ' || c == '\t' ? "obsolete line folding in a trailer" : "malformed trailer field");
            }
            i++;
            break;
        case CH_TRAILER_NAME:
            if (c == ':')
                d->state = CH_TRAILER_VALUE;
            else if (!sea__http_tchar[c])
                FAIL("malformed trailer field name");
            i++;
            break;
        case CH_TRAILER_VALUE:
            if (c == '\r')
                d->state = CH_TRAILER_LF;
            else if (!value_char(c))
                FAIL("a control character in a trailer field");
            i++;
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                FAIL("a trailer line's CR without LF");
            d->state = CH_TRAILER;
            i++;
            break;
        case CH_END_LF:
            if (c != '\n')
                FAIL("the chunked body's last CR without LF");
            d->state = CH_DONE;
            return (long)(i + 1);
        case CH_DONE:
            return (long)i;
        default:
            FAIL(d->error ? d->error : "the chunked body failed earlier");
        }
        if (d->state >= CH_TRAILER && d->state <= CH_END_LF && ++d->trailer_bytes > max_trailer)
            FAIL("trailer section too large");
    }
    return (long)i;
}
