/*
 * test_parse.c - the HTTP/1.x parsers (http/parse.h): head_find, head_parse
 * and the chunked decoder.
 *
 * Tables of good heads (each part checked) and bad ones (the status and the
 * rule that refused them: one case or more for every rule in parse.c), the
 * limits at their boundaries, chunked bodies good and bad; every input is
 * also fed in pieces (every split in two, and a byte at a time), which must
 * give the same answer as all at once.  Then a deterministic fuzz of random
 * and mutated requests and chunked bodies: no crash (every input lies in a
 * buffer of exactly its size, so ASan sees a read past it), answers within
 * their promises, the same answers whatever the pieces.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

static const struct sea__http_limits lim_default = {.max_request_line = 8192, .max_head = 16384, .max_headers = 100};
/* Small limits, to reach them with short inputs. */
static const struct sea__http_limits lim_small = {.max_request_line = 32, .max_head = 64, .max_headers = 4};

/* A copy of s[0..n) in a buffer of exactly n bytes (ASan sees any read past it). */
static char *exact(const char *s, size_t n) {
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

/* Prints s[0..n) to stderr, escaped, up to 200 bytes. */
static void show(const char *s, size_t n) {
    for (size_t k = 0; k < n && k < 200; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
}

/* ---- heads ---- */

/* What a head came to. */
struct res {
    long found; /* head_find over all of it at once */
    int status; /* 0: accepted; -1: head_find wants more; else the status it was refused with */
    struct sea__http_head h;
    char *buf, *path;
    sea_http_header *hdr;
};

static void res_free(struct res *r) {
    free(r->buf);
    free(r->path);
    free(r->hdr);
    memset(r, 0, sizeof(*r));
}

/* head_find, then head_parse on what it found, as the server calls them. */
static int run(const char *s, size_t n, const struct sea__http_limits *lim, struct res *r) {
    memset(r, 0, sizeof(*r));
    r->buf = exact(s, n);
    r->hdr = malloc(sizeof(*r->hdr) * (lim->max_headers ? lim->max_headers : 1));
    struct sea__http_scan scan = {0};
    r->found = sea__http_head_find(r->buf, n, lim, &scan);
    if (r->found < 0)
        return r->status = (int)-r->found;
    if (r->found == 0)
        return r->status = -1;
    r->path = malloc((size_t)r->found + 1);
    r->status = sea__http_head_parse(r->buf, (size_t)r->found, lim, r->hdr, r->path, &r->h);
    return r->status;
}

/*
 * head_find over s[0..n) arriving in pieces that end at cuts[0] < cuts[1] <
 * ... (n last), each call on a buffer of exactly the bytes received so far,
 * as a server calls it.  Returns its first answer that is not 0 (or 0).
 * *lagging is set if a call that wanted more left its scan more than two
 * bytes behind the end (the next call would rescan: not linear).
 */
static long find_fed(const char *s, size_t n, const struct sea__http_limits *lim, const size_t *cuts, size_t ncuts,
                     bool *lagging) {
    struct sea__http_scan scan = {0};
    for (size_t k = 0; k < ncuts; k++) {
        size_t len = cuts[k];
        char *buf = exact(s, len);
        long r = sea__http_head_find(buf, len, lim, &scan);
        free(buf);
        if (r != 0)
            return r;
        if (scan.pos + 2 < len)
            *lagging = true;
    }
    return 0;
}

static int split_reports;

/* The same answer from head_find all at once, split in two anywhere, and a byte at a time. */
static void check_splits(const char *s, size_t n, const struct sea__http_limits *lim) {
    struct sea__http_scan scan = {0};
    char *buf = exact(s, n);
    long whole = sea__http_head_find(buf, n, lim, &scan);
    free(buf);
    size_t *cuts = malloc(sizeof(size_t) * (n + 1));
    bool lagging = false;
    for (size_t c = 1; c < n; c++) {
        size_t two[2] = {c, n};
        long got = find_fed(s, n, lim, two, 2, &lagging);
        if (got != whole) {
            if (split_reports++ < 20) {
                fprintf(stderr, "  head_find: %ld all at once, %ld fed as %zu + %zu bytes: \"", whole, got, c, n - c);
                show(s, n);
                fputs("\"\n", stderr);
            }
            sea_test_failures++;
            break;
        }
    }
    for (size_t c = 0; c < n; c++)
        cuts[c] = c + 1;
    long got = find_fed(s, n, lim, cuts, n, &lagging);
    if (got != whole) {
        if (split_reports++ < 20) {
            fprintf(stderr, "  head_find: %ld all at once, %ld a byte at a time: \"", whole, got);
            show(s, n);
            fputs("\"\n", stderr);
        }
        sea_test_failures++;
    }
    if (lagging) {
        if (split_reports++ < 20) {
            fprintf(stderr, "  head_find left its scan behind (it would rescan): \"");
            show(s, n);
            fputs("\"\n", stderr);
        }
        sea_test_failures++;
    }
    free(cuts);
}

#define H "Host: a\r\n"

struct good {
    const char *in;
    const char *method, *target, *path, *query;
    int version;
    int64_t length; /* -1: chunked */
    bool keep_alive, expect;
    unsigned nheaders;
    const char *name, *value; /* a header to look at (NULL: none) */
};

static const struct good goods[] = {
    /* origin-form, query */
    {"GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", "/a/b?x=1&y=%20", "/a/b", "x=1&y=%20", 11,
     0, true, false, 1, "Host", "example.com"},
    {"GET / HTTP/1.1\r\n" H "\r\n", "GET", "/", "/", "", 11, 0, true, false, 1, NULL, NULL},
    {"GET /? HTTP/1.1\r\n" H "\r\n", "GET", "/?", "/", "", 11, 0, true, false, 1, NULL, NULL},
    {"GET /a?b?c HTTP/1.1\r\n" H "\r\n", "GET", "/a?b?c", "/a", "b?c", 11, 0, true, false, 1, NULL, NULL},
    /* percent-decoded path; the query is left as sent */
    {"GET /a%20b/%2f%2F%7e%C3%A9?q=%41 HTTP/1.1\r\n" H "\r\n", "GET", "/a%20b/%2f%2F%7e%C3%A9?q=%41",
     "/a b///~\xc3\xa9", "q=%41", 11, 0, true, false, 1, NULL, NULL},
    {"GET /%3F HTTP/1.1\r\n" H "\r\n", "GET", "/%3F", "/?", "", 11, 0, true, false, 1, NULL, NULL},
    /* absolute-form */
    {"GET http://example.com:8080/p%20q?z=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "GET",
     "http://example.com:8080/p%20q?z=1", "/p q", "z=1", 11, 0, true, false, 1, NULL, NULL},
    {"GET http://example.com HTTP/1.1\r\n" H "\r\n", "GET", "http://example.com", "/", "", 11, 0, true, false, 1,
     NULL, NULL},
    {"GET HTTPS://example.com?q HTTP/1.1\r\n" H "\r\n", "GET", "HTTPS://example.com?q", "/", "q", 11, 0, true, false,
     1, NULL, NULL},
    {"GET coap+tcp.x-y://h/ HTTP/1.1\r\n" H "\r\n", "GET", "coap+tcp.x-y://h/", "/", "", 11, 0, true, false, 1,
     NULL, NULL},
    /* asterisk-form (OPTIONS only) and authority-form (CONNECT only) */
    {"OPTIONS * HTTP/1.1\r\n" H "\r\n", "OPTIONS", "*", "*", "", 11, 0, true, false, 1, NULL, NULL},
    {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "CONNECT", "example.com:443",
     "example.com:443", "", 11, 0, true, false, 1, NULL, NULL},
    /* methods are tokens, case-sensitive, up to 32 characters */
    {"M-SEARCH /x HTTP/1.1\r\n" H "\r\n", "M-SEARCH", "/x", "/x", "", 11, 0, true, false, 1, NULL, NULL},
    {"get / HTTP/1.1\r\n" H "\r\n", "get", "/", "/", "", 11, 0, true, false, 1, NULL, NULL},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 / HTTP/1.1\r\n" H "\r\n", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "/", "/", "",
     11, 0, true, false, 1, NULL, NULL},
    /* HTTP/1.0: keep-alive only when asked; HTTP/1.1: unless "close"; Connection is a list */
    {"GET / HTTP/1.0\r\n\r\n", "GET", "/", "/", "", 10, 0, false, false, 0, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "/", "/", "", 10, 0, true, false, 1, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "/", "", 10, 0, true, false, 1, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", "/", "", 10, 0, false, false, 1, NULL,
     NULL},
    {"GET / HTTP/1.0\r\nConnection: x\r\nConnection: ,keep-alive,\r\n\r\n", "GET", "/", "/", "", 10, 0, true, false,
     2, NULL, NULL},
    {"GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n", "GET", "/", "/", "", 11, 0, false, false, 2, NULL, NULL},
    {"GET / HTTP/1.1\r\n" H "Connection: Upgrade, CLOSE\r\n\r\n", "GET", "/", "/", "", 11, 0, false, false, 2, NULL,
     NULL},
    {"GET / HTTP/1.1\r\n" H "Connection: closed\r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 2, NULL, NULL},
    {"GET / HTTP/1.1\r\n" H "Connection: keep-alive\r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 2, NULL, NULL},
    /* a later minor version is answered as 1.1 (RFC 9110 section 6.2) */
    {"GET / HTTP/1.9\r\n" H "\r\n", "GET", "/", "/", "", 11, 0, true, false, 1, NULL, NULL},
    /* Expect: 100-continue, from 1.1 clients only (RFC 9110 section 10.1.1) */
    {"PUT /f HTTP/1.1\r\n" H "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n", "PUT", "/f", "/f", "", 11, 3, true,
     true, 3, "Expect", "100-continue"},
    {"PUT /f HTTP/1.1\r\n" H "Content-Length: 3\r\nExpect: 100-Continue\r\n\r\n", "PUT", "/f", "/f", "", 11, 3,
     true, true, 3, NULL, NULL},
    {"PUT /f HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", "PUT", "/f", "/f", "", 10, 3, false,
     false, 2, NULL, NULL},
    /* chunked */
    {"POST /u HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", "POST", "/u", "/u", "", 11, -1, true, false, 2,
     "Transfer-Encoding", "chunked"},
    {"POST /u HTTP/1.1\r\n" H "transfer-encoding: Chunked\r\n\r\n", "POST", "/u", "/u", "", 11, -1, true, false, 2,
     NULL, NULL},
    {"POST /u HTTP/1.1\r\n" H "Transfer-Encoding: , chunked ,\r\n\r\n", "POST", "/u", "/u", "", 11, -1, true, false,
     2, NULL, NULL},
    /* Content-Length */
    {"POST /u HTTP/1.1\r\n" H "Content-Length: 42\r\n\r\n", "POST", "/u", "/u", "", 11, 42, true, false, 2,
     "Content-Length", "42"},
    {"POST /u HTTP/1.1\r\n" H "content-length:  007 \t\r\n\r\n", "POST", "/u", "/u", "", 11, 7, true, false, 2,
     "content-length", "007"},
    {"POST /u HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", "POST", "/u", "/u", "", 11, 0, true, false, 2, NULL, NULL},
    {"POST /u HTTP/1.1\r\n" H "Content-Length: 4611686018427387904\r\n\r\n", "POST", "/u", "/u", "", 11,
     INT64_C(4611686018427387904), true, false, 2, NULL, NULL},
    /* empty lines before the request line are skipped (RFC 9112 section 2.2) */
    {"\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", "GET", "/", "/", "", 11, 0, true, false, 1, NULL, NULL},
    /* a value without its surrounding blanks; an empty value; obs-text */
    {"GET / HTTP/1.1\r\n" H "X:  \t a \t b \t \r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 2, "X",
     "a \t b"},
    {"GET / HTTP/1.1\r\n" H "X-Empty:\r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 2, "X-Empty", ""},
    {"GET / HTTP/1.1\r\n" H "X-Blank: \t \r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 2, "X-Blank", ""},
    {"GET / HTTP/1.1\r\n" H "X: caf\xc3\xa9 \x80\xff\r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 2, "X",
     "caf\xc3\xa9 \x80\xff"},
    {"GET / HTTP/1.1\r\n" H "!#$%&'*+-.^_`|~09azAZ: \"quoted\" (comment) <>@[]{}\\\r\n\r\n", "GET", "/", "/", "",
     11, 0, true, false, 2, "!#$%&'*+-.^_`|~09azAZ", "\"quoted\" (comment) <>@[]{}\\"},
    /* an empty Host (no authority) is a Host; HTTP/1.0 needs none */
    {"GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET", "/", "/", "", 11, 0, true, false, 1, "Host", ""},
    {"GET / HTTP/1.0\r\nX: y\r\n\r\n", "GET", "/", "/", "", 10, 0, false, false, 1, "X", "y"},
};

static const struct sea_http_header *find_header(const struct sea__http_head *h, const char *name) {
    for (unsigned i = 0; i < h->header_count; i++)
        if (strcmp(h->headers[i].name, name) == 0)
            return &h->headers[i];
    return NULL;
}

static sea_future t_good_heads(void) {
    for (size_t i = 0; i < SEA_TEST_COUNT(goods); i++) {
        const struct good *g = &goods[i];
        size_t n = strlen(g->in);
        int before = sea_test_failures;
        struct res r;
        int rc = run(g->in, n, &lim_default, &r);
        if (rc != 0) {
            fprintf(stderr, "  good head %zu refused: %d (%s): \"", i, rc, r.h.error ? r.h.error : "-");
            show(g->in, n);
            fputs("\"\n", stderr);
            sea_test_failures++;
            res_free(&r);
            continue;
        }
        CHECK_EQ(r.found, n);
        CHECK_STREQ(r.h.method, g->method);
        CHECK_STREQ(r.h.target, g->target);
        CHECK_STREQ(r.h.path, g->path);
        CHECK_STREQ(r.h.query, g->query);
        CHECK_EQ(r.h.version, g->version);
        CHECK_EQ(r.h.content_length, g->length);
        CHECK_EQ(r.h.chunked, g->length == -1);
        CHECK_EQ(r.h.keep_alive, g->keep_alive);
        CHECK_EQ(r.h.expect_continue, g->expect);
        CHECK_EQ(r.h.header_count, g->nheaders);
        CHECK(r.h.headers == r.hdr && r.h.error == NULL);
        if (g->name) {
            const struct sea_http_header *f = find_header(&r.h, g->name);
            CHECK(f != NULL);
            if (f)
                CHECK_STREQ(f->value, g->value);
        }
        if (sea_test_failures != before) {
            fprintf(stderr, "  (good head %zu: \"", i);
            show(g->in, n);
            fputs("\")\n", stderr);
        }
        res_free(&r);
        check_splits(g->in, n, &lim_default);
    }
    /* A head followed by a body: head_find's length stops at the head. */
    const char *with_body = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody";
    struct res r;
    CHECK_EQ(run(with_body, strlen(with_body), &lim_default, &r), 0);
    CHECK_EQ(r.found, strlen(with_body) - 4);
    CHECK_EQ(r.h.content_length, 4);
    res_free(&r);
    /* Exactly max_headers fields. */
    const char *four = "GET / HTTP/1.1\r\nHost: a\r\nB: b\r\nC: c\r\nD: d\r\n\r\n";
    CHECK_EQ(run(four, strlen(four), &lim_small, &r), 0);
    CHECK_EQ(r.h.header_count, 4);
    CHECK_STREQ(r.h.headers[3].name, "D");
    res_free(&r);
    return sea_ready();
}

struct bad {
    const char *in;
    size_t len;
    int status;
    const char *why; /* in out->error */
};
#define B(in, status, why) {in, sizeof(in) - 1, status, why}

static const struct bad bads[] = {
    /* the method: a token (RFC 9110 section 9.1), 32 characters at most (501) */
    B(" GET / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("G(T / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("GET\t/ HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("GE\0T / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("GET\x7f / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("G\xc3\x89T / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("GET\r / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 / HTTP/1.1\r\n" H "\r\n", 501, "method too long"),
    /* the request-target: visible ASCII, one space either side (RFC 9112 section 3) */
    B("GET  / HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /a\0b HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /\x01 HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /\x7f HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /\t HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /\r HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET /\r\n" H "\r\n", 400, "malformed request-target"),
    /* the version: "HTTP/" DIGIT "." DIGIT, then CRLF; major 1 only (505) */
    B("GET / x HTTP/1.1\r\n" H "\r\n", 400, "malformed HTTP version"),
    B("GET / http/1.1\r\n" H "\r\n", 400, "malformed HTTP version"),
    B("GET / HTTP/1\r\n" H "\r\n", 400, "malformed HTTP version"),
    B("GET / HTTP/1.x\r\n" H "\r\n", 400, "malformed HTTP version"),
    B("GET / HTTP/1.1 \r\n" H "\r\n", 400, "malformed request line"),
    B("GET / HTTP/1.10\r\n" H "\r\n", 400, "malformed request line"),
    B("GET / HTTP/1.1\r\r\n" H "\r\n", 400, "malformed request line"),
    B("GET / HTTP/2.0\r\n" H "\r\n", 505, "HTTP version not supported"),
    B("GET / HTTP/0.9\r\n" H "\r\n", 505, "HTTP version not supported"),
    B("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP version not supported"),
    /* lines end with CRLF: no bare LF, no bare CR (RFC 9112 section 2.2) */
    B("GET / HTTP/1.1\n" H "\r\n", 400, "a line ends with a bare LF"),
    B("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400, "a line ends with a bare LF"),
    B("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "a line ends with a bare LF"),
    B("GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "a line ends with a bare LF"),
    B("GET / HTTP/1.1\n\n", 400, "a line ends with a bare LF"),
    B("\nGET / HTTP/1.1\r\n" H "\r\n", 400, "malformed method"),
    B("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, "a bare CR in a header field"),
    B("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400, "a bare CR in a header field"),
    B("GET / HTTP/1.1\r\n" H "\rX: b\r\n\r\n", 400, "malformed header field name"),
    /* no obsolete line folding (RFC 9112 section 5.2) */
    B("GET / HTTP/1.1\r\n" H "X: b\r\n c\r\n\r\n", 400, "obsolete line folding"),
    B("GET / HTTP/1.1\r\n" H "X: b\r\n\tc\r\n\r\n", 400, "obsolete line folding"),
    B("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "obsolete line folding"),
    /* no whitespace between a field name and its colon (RFC 9112 section 5.1) */
    B("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "whitespace between a header field name and its colon"),
    B("GET / HTTP/1.1\r\n" H "Transfer-Encoding\t: chunked\r\n\r\n",
      400, "whitespace between a header field name and its colon"),
    /* a field name is a token, followed by ":" */
    B("GET / HTTP/1.1\r\n" H "X Y: b\r\n\r\n", 400, "whitespace between a header field name and its colon"),
    B("GET / HTTP/1.1\r\n" H ": b\r\n\r\n", 400, "malformed header field name"),
    B("GET / HTTP/1.1\r\n" H "X\r\n\r\n", 400, "malformed header field name"),
    B("GET / HTTP/1.1\r\n" H "X\0: b\r\n\r\n", 400, "malformed header field name"),
    B("GET / HTTP/1.1\r\n" H "X(: b\r\n\r\n", 400, "malformed header field name"),
    B("GET / HTTP/1.1\r\n" H "\xc3\xa9: b\r\n\r\n", 400, "malformed header field name"),
    /* a field value: VCHAR, obs-text, SP, HTAB (RFC 9110 section 5.5) */
    B("GET / HTTP/1.1\r\n" H "X: a\0b\r\n\r\n", 400, "a control character in a header field value"),
    B("GET / HTTP/1.1\r\n" H "X: a\x01" "b\r\n\r\n", 400, "a control character in a header field value"),
    B("GET / HTTP/1.1\r\n" H "X: a\x0b" "b\r\n\r\n", 400, "a control character in a header field value"),
    B("GET / HTTP/1.1\r\n" H "X: \x7f\r\n\r\n", 400, "a control character in a header field value"),
    B("GET / HTTP/1.1\r\n" H "X: \x1b[0m\r\n\r\n", 400, "a control character in a header field value"),
    /* Host: exactly one in HTTP/1.1 (RFC 9112 section 3.2) */
    B("GET / HTTP/1.1\r\n\r\n", 400, "an HTTP/1.1 request without Host"),
    B("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "an HTTP/1.1 request without Host"),
    B("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"),
    B("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "more than one Host"),
    B("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"),
    /* one well-formed Content-Length (RFC 9112 section 6.3, RFC 9110 section 8.6) */
    B("POST / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", 400, "more than one Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 1, 1\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 1e3\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5;\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: \t \r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: \xd9\xa5\r\n\r\n", 400, "malformed Content-Length"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 4611686018427387905\r\n\r\n", 400, "Content-Length too large"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", 400, "Content-Length too large"),
    /* values that wrap a 64-bit accumulator to a small number (2^64 + 4 and 2^64) */
    B("POST / HTTP/1.1\r\n" H "Content-Length: 18446744073709551620\r\n\r\n", 400, "Content-Length too large"),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 18446744073709551616\r\n\r\n", 400, "Content-Length too large"),
    /* Transfer-Encoding: 1.1 only, never with Content-Length, chunked last and once (RFC 9112 section 6.1, 6.3) */
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      400, "both Content-Length and Transfer-Encoding"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
      400, "both Content-Length and Transfer-Encoding"),
    B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Transfer-Encoding in an HTTP/1.0 request"),
    B("POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      400, "Transfer-Encoding in an HTTP/1.0 request"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n", 400, "chunked is not the last"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n", 400, "chunked is not the last"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      400, "chunked is not the last"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, identity\r\n\r\n", 400, "chunked is not the last"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", 400, "Transfer-Encoding without chunked"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n", 400, "Transfer-Encoding without chunked"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n", 400, "Transfer-Encoding without chunked"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked;q=1\r\n\r\n", 400, "Transfer-Encoding without chunked"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n", 400, "Transfer-Encoding without chunked"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n", 400, "Transfer-Encoding without chunked"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", 501, "a transfer coding other than"),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
      501, "a transfer coding other than"),
    /* Expect: 100-continue only (RFC 9110 section 10.1.1) */
    B("PUT / HTTP/1.1\r\n" H "Expect: 200-ok\r\n\r\n", 417, "an expectation other than 100-continue"),
    B("PUT / HTTP/1.1\r\n" H "Expect: 100-continue, x\r\n\r\n", 417, "an expectation other than 100-continue"),
    B("PUT / HTTP/1.0\r\nExpect: x\r\n\r\n", 417, "an expectation other than 100-continue"),
    /* the request-target's forms (RFC 9112 section 3.2) */
    B("GET * HTTP/1.1\r\n" H "\r\n", 400, "asterisk-form request-target with a method other than OPTIONS"),
    B("OPTIONS *x HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET a/b HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET http:/a HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET ://a/ HTTP/1.1\r\n" H "\r\n", 400, "malformed request-target"),
    B("GET 1http://a/ HTTP/1.1\r\n" H "\r\n", 400, "malformed scheme in an absolute-form request-target"),
    B("GET ht_tp://a/ HTTP/1.1\r\n" H "\r\n", 400, "malformed scheme in an absolute-form request-target"),
    B("GET http:///a HTTP/1.1\r\n" H "\r\n", 400, "absolute-form request-target without a host"),
    B("GET http://?a HTTP/1.1\r\n" H "\r\n", 400, "absolute-form request-target without a host"),
    /* no fragment (RFC 9112 section 3.2: the target has none) */
    B("GET /a#b HTTP/1.1\r\n" H "\r\n", 400, "a fragment (#) in the request-target"),
    B("GET /?q#f HTTP/1.1\r\n" H "\r\n", 400, "a fragment (#) in the request-target"),
    B("GET http://a/#x HTTP/1.1\r\n" H "\r\n", 400, "a fragment (#) in the request-target"),
    /* percent-encoding: "%" HEXDIG HEXDIG (RFC 3986 section 2.1), never %00 */
    B("GET /% HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /a% HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /%4 HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /%4?x HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /%zz HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /%4g HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /%g4 HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET /a%00b HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    B("GET http://a/%00 HTTP/1.1\r\n" H "\r\n", 400, "malformed percent-encoding in the path"),
    /* the limits (414, 431): see also t_limits */
    B("GET / HTTP/1.1\r\nHost: a\r\nB: b\r\nC: c\r\nD: d\r\nE: e\r\n\r\n", 431, "too many header fields"),
};

static sea_future t_bad_heads(void) {
    for (size_t i = 0; i < SEA_TEST_COUNT(bads); i++) {
        const struct bad *b = &bads[i];
        size_t n = b->len;
        const struct sea__http_limits *lim = b->status == 431 ? &lim_small : &lim_default;
        struct res r;
        int rc = run(b->in, n, lim, &r);
        if (rc != b->status || !r.h.error || !strstr(r.h.error, b->why)) {
            fprintf(stderr, "  bad head %zu: %d (%s), expected %d (%s): \"", i, rc, r.h.error ? r.h.error : "-",
                    b->status, b->why);
            show(b->in, n);
            fputs("\"\n", stderr);
            if (rc == 0)
                fprintf(stderr, "    accepted: content_length %lld\n", (long long)r.h.content_length);
            sea_test_failures++;
        }
        res_free(&r);
        check_splits(b->in, n, lim);
    }
    /* head_parse's own checks on what head_find would not hand it. */
    static const char *const direct[][2] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n", "a head without its final empty line"},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\nX", "bytes after the head's end"},
        {"GET / HTTP/1.1\r\nHost: a", "a control character in a header field value"},
        {"GET / HTTP/1.1\r\nHost", "malformed header field name"},
        {"GET / HTTP/1.1", "malformed HTTP version"},
        {"GET /", "malformed request-target"},
        {"GET", "malformed method"},
        {"", "malformed method"},
    };
    for (size_t i = 0; i < SEA_TEST_COUNT(direct); i++) {
        size_t n = strlen(direct[i][0]);
        char *buf = exact(direct[i][0], n), *path = malloc(n + 1);
        sea_http_header hdr[4];
        struct sea__http_head h;
        int rc = sea__http_head_parse(buf, n, &lim_small, hdr, path, &h);
        CHECK_EQ(rc, 400);
        CHECK_CONTAINS(h.error, direct[i][1]);
        free(buf);
        free(path);
    }
    return sea_ready();
}

/* Text of n repeated characters. */
static char *fill(char *p, int c, size_t n) {
    memset(p, c, n);
    return p + n;
}

static sea_future t_limits(void) {
    char req[512];
    struct res r;
    /* The request line, CRLF aside, up to max_request_line (32): "GET /aaa HTTP/1.1" is 14 + the path. */
    for (size_t line = 16; line <= 40; line++) {
        char *p = req;
        p = stpcpy(p, "GET /");
        p = fill(p, 'a', line - 14);
        p = stpcpy(p, " HTTP/1.1\r\nHost: a\r\n\r\n");
        size_t n = (size_t)(p - req);
        int rc = run(req, n, &lim_small, &r);
        CHECK_EQ(rc, line <= 32 ? 0 : 414);
        res_free(&r);
        check_splits(req, n, &lim_small);
        /* 414 without waiting for the line's end (a byte of leeway for a CR that may come). */
        if (line > 33) {
            CHECK_EQ(run(req, line, &lim_small, &r), 414);
            res_free(&r);
        }
    }
    /* The head, its final empty line aside, up to max_head (64); with leading empty lines too. */
    for (size_t skip = 0; skip <= 4; skip += 4) {
        for (size_t head = 50; head <= 80; head++) {
            char *p = req;
            for (size_t k = 0; k < skip; k += 2)
                p = stpcpy(p, "\r\n");
            p = stpcpy(p, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
            p = fill(p, 'x', head - 16 - 9 - 5);
            p = stpcpy(p, "\r\n\r\n");
            size_t n = (size_t)(p - req);
            int rc = run(req, n, &lim_small, &r);
            if (rc != (head <= 64 ? 0 : 431)) {
                fprintf(stderr, "  a head of %zu bytes (%zu empty lines before): %d\n", head, skip / 2, rc);
                sea_test_failures++;
            }
            res_free(&r);
            check_splits(req, n, &lim_small);
        }
    }
    /* Up to 34 empty lines before a request are skipped (64 bytes, then the line after them); more are refused. */
    for (size_t lines = 0; lines <= 100; lines += lines < 40 ? 1 : 20) {
        char *p = req;
        for (size_t k = 0; k < lines; k++)
            p = stpcpy(p, "\r\n");
        p = stpcpy(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        size_t n = (size_t)(p - req);
        int rc = run(req, n, &lim_default, &r);
        if (rc != (lines <= 34 ? 0 : 400)) {
            fprintf(stderr, "  %zu empty lines before the request: %d\n", lines, rc);
            sea_test_failures++;
        }
        res_free(&r);
        check_splits(req, n, &lim_default);
    }
    /* A flood of empty lines arriving in pieces is refused as it is all at once, not skipped for ever. */
    {
        size_t flood = 64 * 1024;
        char *crlf = malloc(flood);
        for (size_t k = 0; k < flood; k += 2)
            memcpy(crlf + k, "\r\n", 2);
        struct sea__http_scan sc = {0};
        long got = 0;
        size_t len = 2;
        for (; len <= flood && got == 0; len += 2)
            got = sea__http_head_find(crlf, len, &lim_default, &sc);
        if (got == 0 || len > lim_default.max_head) {
            fprintf(stderr, "  %zu bytes of empty lines in 2-byte pieces: head_find %ld\n", len - 2, got);
            sea_test_failures++;
        } else if (got > 0) {
            CHECK_EQ(run(crlf, (size_t)got, &lim_default, &r), 400);
            res_free(&r);
        }
        free(crlf);
    }
    /* head_find: nothing yet, a partial head, the end as "\n\n" (the parser refuses it). */
    struct sea__http_scan scan = {0};
    CHECK_EQ(sea__http_head_find("", 0, &lim_default, &scan), 0);
    memset(&scan, 0, sizeof(scan));
    CHECK_EQ(sea__http_head_find("GET / HTTP/1.1\r\nHost: a\r\n", 25, &lim_default, &scan), 0);
    memset(&scan, 0, sizeof(scan));
    CHECK_EQ(sea__http_head_find("GET / HTTP/1.1\n\nBODY", 20, &lim_default, &scan), 16);
    /* A large head sent a byte at a time: the scan never falls behind (check_splits checks it). */
    static char big[16000];
    char *p = stpcpy(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int k = 0; k < 90; k++)
        p += sprintf(p, "X-Header-%02d: %0150d\r\n", k, k);
    p = stpcpy(p, "\r\n");
    size_t n = (size_t)(p - big);
    CHECK_EQ(run(big, n, &lim_default, &r), 0);
    CHECK_EQ(r.h.header_count, 91);
    res_free(&r);
    size_t *cuts = malloc(sizeof(size_t) * n);
    for (size_t k = 0; k < n; k++)
        cuts[k] = k + 1;
    bool lagging = false;
    CHECK_EQ(find_fed(big, n, &lim_default, cuts, n, &lagging), (long)n);
    CHECK(!lagging);
    free(cuts);
    return sea_ready();
}

/* ---- chunked bodies ---- */

struct bytes {
    char *p;
    size_t n, cap;
};

static void bytes_add(struct bytes *b, const char *s, size_t n) {
    if (n == 0)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* What a chunked body came to. */
struct chres {
    size_t consumed; /* bytes the decoder took */
    bool done, failed;
    const char *error;
    struct bytes data;
};

/*
 * Decodes s[0..n) arriving in pieces that end at cuts[] (n last), as a
 * server does: each call on a buffer of exactly the bytes received and not
 * yet consumed, again while it consumes, until it wants more.
 */
static void chunked_fed(const char *s, size_t n, size_t max_trailer, const size_t *cuts, size_t ncuts,
                        struct chres *r) {
    memset(r, 0, sizeof(*r));
    struct sea__http_chunked d = {0};
    size_t pos = 0;
    for (size_t k = 0; k < ncuts && !r->failed && !r->done; k++) {
        size_t avail = cuts[k];
        for (;;) {
            char *buf = exact(s + pos, avail - pos);
            const char *data;
            size_t data_len;
            long used = sea__http_chunked_feed(&d, buf, avail - pos, max_trailer, &data, &data_len);
            if (used < 0) {
                r->failed = true;
                r->error = d.error;
                free(buf);
                break;
            }
            if ((size_t)used > avail - pos || (data && (data < buf || data + data_len > buf + used)) ||
                (!data && data_len)) {
                fprintf(stderr, "  chunked_feed: consumed %ld of %zu, data %zu bytes out of them\n", used,
                        avail - pos, data_len);
                sea_test_failures++;
                r->failed = true;
                free(buf);
                break;
            }
            bytes_add(&r->data, data, data_len);
            free(buf);
            pos += (size_t)used;
            if (sea__http_chunked_done(&d)) {
                r->done = true;
                break;
            }
            if (used == 0)
                break;
        }
    }
    r->consumed = pos;
}

static void chunked_whole(const char *s, size_t n, size_t max_trailer, struct chres *r) {
    size_t cut = n;
    chunked_fed(s, n, max_trailer, &cut, 1, r);
}

static bool chres_same(const struct chres *a, const struct chres *b) {
    return a->failed == b->failed && a->done == b->done && (a->failed || a->consumed == b->consumed) &&
           a->data.n == b->data.n && (a->data.n == 0 || memcmp(a->data.p, b->data.p, a->data.n) == 0) &&
           (!a->failed || strcmp(a->error, b->error) == 0);
}

static int chunk_reports;

/* The same result all at once, split in two anywhere (or at `every` points), and a byte at a time. */
static void chunked_check_splits(const char *s, size_t n, size_t max_trailer, size_t every) {
    struct chres whole, part;
    chunked_whole(s, n, max_trailer, &whole);
    size_t *cuts = malloc(sizeof(size_t) * (n + 1));
    for (size_t c = 1; c < n; c += every) {
        size_t two[2] = {c, n};
        chunked_fed(s, n, max_trailer, two, 2, &part);
        bool same = chres_same(&whole, &part);
        free(part.data.p);
        if (!same) {
            if (chunk_reports++ < 20) {
                fprintf(stderr, "  chunked: all at once differs from %zu + %zu bytes: \"", c, n - c);
                show(s, n);
                fputs("\"\n", stderr);
            }
            sea_test_failures++;
            break;
        }
    }
    for (size_t c = 0; c < n; c++)
        cuts[c] = c + 1;
    if (n) {
        chunked_fed(s, n, max_trailer, cuts, n, &part);
        if (!chres_same(&whole, &part)) {
            if (chunk_reports++ < 20) {
                fprintf(stderr, "  chunked: all at once differs from a byte at a time: \"");
                show(s, n);
                fputs("\"\n", stderr);
            }
            sea_test_failures++;
        }
        free(part.data.p);
    }
    free(cuts);
    free(whole.data.p);
}

static sea_future t_chunked_good(void) {
    static const struct {
        const char *in, *data;
        size_t rest; /* bytes after the body, not consumed */
    } cases[] = {
        {"5\r\nhello\r\n0\r\n\r\n", "hello", 0},
        {"0\r\n\r\n", "", 0},
        {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "hello world", 16},
        {"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", 0},
        {"00005\r\nhello\r\n000\r\n\r\n", "hello", 0},
        {"00000000000000A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 0},
        {"1f\r\n0123456789012345678901234567890\r\n0\r\n\r\n", "0123456789012345678901234567890", 0},
        /* extensions: read and ignored, BWS around ";" */
        {"5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello", 0},
        {"5 ; a=1 ; b=\"q s\"\r\nhello\r\n0\t;x\r\n\r\n", "hello", 0},
        {"5;a=\"q\\\"s\";c\r\nhello\r\n0;d=e\r\n\r\n", "hello", 0},
        /* trailers */
        {"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nY:\r\nZ: a b\t\r\n\r\n", "hello", 0},
        {"0\r\nX: \x80\xff\r\n\r\nrest", "", 4},
        /* data with CR, LF, NUL inside */
        {"6\r\n\r\n\0\r\n\n\r\n0\r\n\r\n", "\r\n\0\r\n\n", 0},
    };
    for (size_t i = 0; i < SEA_TEST_COUNT(cases); i++) {
        const char *in = cases[i].in;
        size_t n = strlen(in), want = strlen(cases[i].data);
        if (i == SEA_TEST_COUNT(cases) - 1) { /* with a NUL */
            n = 16;
            want = 6;
        }
        struct chres r;
        chunked_whole(in, n, 1024, &r);
        if (r.failed || !r.done || r.consumed != n - cases[i].rest || r.data.n != want ||
            memcmp(r.data.p ? r.data.p : "", cases[i].data, want) != 0) {
            fprintf(stderr, "  good chunked body %zu: failed %d (%s) done %d consumed %zu data %zu bytes\n", i,
                    r.failed, r.error ? r.error : "-", r.done, r.consumed, r.data.n);
            sea_test_failures++;
        }
        free(r.data.p);
        chunked_check_splits(in, n, 1024, 1);
    }
    /* Many chunks: 300 of 1 to 300 bytes, in one body. */
    struct bytes body = {0}, want = {0};
    char line[32];
    for (int k = 1; k <= 300; k++) {
        int len = sprintf(line, k % 2 ? "%x\r\n" : "%X;k=%d\r\n", k, k);
        bytes_add(&body, line, (size_t)len);
        for (int j = 0; j < k; j++) {
            char c = (char)('a' + (k + j) % 26);
            bytes_add(&body, &c, 1);
            bytes_add(&want, &c, 1);
        }
        bytes_add(&body, "\r\n", 2);
    }
    bytes_add(&body, "0\r\n\r\n", 5);
    struct chres r;
    chunked_whole(body.p, body.n, 1024, &r);
    CHECK(r.done && !r.failed && r.consumed == body.n);
    CHECK(r.data.n == want.n && memcmp(r.data.p, want.p, want.n) == 0);
    free(r.data.p);
    chunked_check_splits(body.p, body.n, 1024, 1999);
    free(body.p);
    free(want.p);
    /* An unfinished body: everything consumed, not done, the data so far. */
    chunked_whole("5\r\nhel", 6, 1024, &r);
    CHECK(!r.failed && !r.done && r.consumed == 6 && r.data.n == 3);
    free(r.data.p);
    /* After the end, nothing more is taken. */
    struct sea__http_chunked d = {0};
    const char *data;
    size_t data_len;
    CHECK_EQ(sea__http_chunked_feed(&d, "0\r\n\r\n", 5, 64, &data, &data_len), 5);
    CHECK(sea__http_chunked_done(&d));
    CHECK_EQ(sea__http_chunked_feed(&d, "0\r\n\r\n", 5, 64, &data, &data_len), 0);
    CHECK(data_len == 0 && sea__http_chunked_done(&d));
    return sea_ready();
}

static sea_future t_chunked_bad(void) {
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *why;
    } cases[] = {
        /* chunk-size = 1*HEXDIG (RFC 9112 section 7.1), at most 15 digits here */
        {"\r\n", 0, "malformed chunk size"},
        {"x\r\n", 0, "malformed chunk size"},
        {";a\r\n", 0, "malformed chunk size"},
        {" 5\r\nhello\r\n0\r\n\r\n", 0, "malformed chunk size"},
        {"-5\r\n", 0, "malformed chunk size"},
        {"+5\r\n", 0, "malformed chunk size"},
        {"0x5\r\n", 0, "malformed chunk size"},
        {"5x\r\nhello\r\n", 0, "malformed chunk size"},
        {"5,5\r\n", 0, "malformed chunk size"},
        {"0000000000000005\r\nhello\r\n", 0, "chunk size too large"},
        {"ffffffffffffffffff\r\n", 0, "chunk size too large"},
        {"10000000000000001\r\n", 0, "chunk size too large"},
        /* lines end with CRLF */
        {"5\nhello\r\n0\r\n\r\n", 0, "a chunk size line ends with a bare LF"},
        {"5;a=b\nhello\r\n", 0, "a chunk size line ends with a bare LF"},
        {"5\rhello\r\n", 0, "a chunk size line's CR without LF"},
        {"5\r\nhelloX\r\n0\r\n\r\n", 0, "a chunk's data is not followed by CRLF"},
        {"5\r\nhello\n0\r\n\r\n", 0, "a chunk's data is not followed by CRLF"},
        {"5\r\nhello\rX", 0, "a chunk's data is not followed by CRLF"},
        {"3\r\nhello\r\n0\r\n\r\n", 0, "a chunk's data is not followed by CRLF"},
        /* extensions: no control characters */
        {"5;a\x01\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;a=\x7f\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;a\0b\r\nhello\r\n", 9, "malformed chunk extension"},
        {"5;a\rb\nhello\r\n", 0, "a chunk size line's CR without LF"},
        /* extensions: the grammar, token [= token / quoted-string] */
        {"5 junk\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5 \r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;a:b\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;=x\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;a=b c\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;a=\"q\r\nhello\r\n", 0, "malformed chunk extension"},
        {"5;\xc3\xa9=\xff\r\nhello\r\n", 0, "malformed chunk extension"},
        /* trailers: fields as in a head, no obs-fold, CRLF */
        {"0\r\nX: a\r\n b\r\n\r\n", 0, "obsolete line folding in a trailer"},
        {"0\r\nX: a\r\n\tb\r\n\r\n", 0, "obsolete line folding in a trailer"},
        {"0\r\n\tX: a\r\n\r\n", 0, "obsolete line folding in a trailer"},
        {"0\r\nX : a\r\n\r\n", 0, "malformed trailer field name"},
        {"0\r\nX\r\n\r\n", 0, "malformed trailer field name"},
        {"0\r\n: a\r\n\r\n", 0, "malformed trailer field"},
        {"0\r\nX: a\x01\r\n\r\n", 0, "a control character in a trailer field"},
        {"0\r\nX: a\nY: b\r\n\r\n", 0, "a control character in a trailer field"},
        {"0\r\nX: a\rY: b\r\n\r\n", 0, "a trailer line's CR without LF"},
        {"0\r\n\n", 0, "malformed trailer field"},
        {"0\r\n\rX", 0, "the chunked body's last CR without LF"},
        {"0\n\r\n", 0, "a chunk size line ends with a bare LF"},
    };
    for (size_t i = 0; i < SEA_TEST_COUNT(cases); i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct chres r;
        chunked_whole(cases[i].in, n, 1024, &r);
        if (!r.failed || !r.error || !strstr(r.error, cases[i].why)) {
            fprintf(stderr, "  bad chunked body %zu: failed %d (%s), expected \"%s\": \"", i, r.failed,
                    r.error ? r.error : "-", cases[i].why);
            show(cases[i].in, n);
            fputs("\"\n", stderr);
            sea_test_failures++;
        }
        free(r.data.p);
        chunked_check_splits(cases[i].in, n, 1024, 1);
    }
    /* The trailer section's size: within max_trailer, then over. */
    struct chres r;
    const char *tr = "0\r\nX-Long: 0123456789012345678901234567890123456789\r\n\r\n";
    size_t n = strlen(tr);
    chunked_whole(tr, n, 64, &r);
    CHECK(r.done && !r.failed);
    free(r.data.p);
    chunked_whole(tr, n, 32, &r);
    CHECK(r.failed);
    CHECK_CONTAINS(r.error, "trailer section too large");
    free(r.data.p);
    chunked_check_splits(tr, n, 32, 1);
    /* Many small trailer fields add up. */
    struct bytes many = {0};
    bytes_add(&many, "0\r\n", 3);
    for (int k = 0; k < 200; k++)
        bytes_add(&many, "A: b\r\n", 6);
    bytes_add(&many, "\r\n", 2);
    chunked_whole(many.p, many.n, 1024, &r);
    CHECK(r.failed);
    CHECK_CONTAINS(r.error, "trailer section too large");
    free(r.data.p);
    free(many.p);
    /* Extensions are bounded too. */
    static char ext[8192];
    char *p = stpcpy(ext, "5;");
    p = fill(p, 'e', 6000);
    p = stpcpy(p, "\r\nhello\r\n0\r\n\r\n");
    chunked_whole(ext, (size_t)(p - ext), 1024, &r);
    CHECK(r.failed);
    CHECK_CONTAINS(r.error, "chunk extensions too long");
    free(r.data.p);
    /* A failed decoder stays failed. */
    struct sea__http_chunked d = {0};
    const char *data;
    size_t data_len;
    CHECK_EQ(sea__http_chunked_feed(&d, "x", 1, 64, &data, &data_len), -1);
    CHECK_EQ(sea__http_chunked_feed(&d, "0\r\n\r\n", 5, 64, &data, &data_len), -1);
    CHECK(!sea__http_chunked_done(&d));
    return sea_ready();
}

/* ---- the fuzz ---- */

static const int statuses[] = {0, -1, 400, 414, 431, 501, 505, 417};

static bool within(const char *p, const char *lo, const char *hi) {
    return p && p >= lo && p < hi && memchr(p, 0, (size_t)(hi - p)) != NULL; /* its NUL inside too */
}

static bool blank(char c) {
    return c == ' ' || c == '\t';
}

/* head_parse's promises about an accepted head of len bytes at buf. */
static bool head_sane(const struct res *r, const struct sea__http_limits *lim, size_t len) {
    const struct sea__http_head *h = &r->h;
    const char *lo = r->buf, *hi = r->buf + len;
    if (!within(h->method, lo, hi) || !within(h->target, lo, hi) || !within(h->query, lo, hi) ||
        !within(h->path, r->path, r->path + len + 1))
        return false;
    if (h->error || h->headers != r->hdr || h->header_count > lim->max_headers)
        return false;
    if ((h->version != 10 && h->version != 11) || h->content_length < -1 || h->chunked != (h->content_length == -1))
        return false;
    if (!*h->method || !*h->target || !*h->path || strlen(h->method) > 32)
        return false;
    for (const char *c = h->method; *c; c++)
        if (!sea__http_tchar[(unsigned char)*c])
            return false;
    /* (CONNECT's authority-form target is not checked further: see docs/http-parsing.md) */
    for (const char *c = h->target; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || (*c == '#' && strcmp(h->method, "CONNECT")))
            return false;
    if (h->chunked && h->version != 11)
        return false;
    if (h->expect_continue && h->version != 11)
        return false;
    for (unsigned i = 0; i < h->header_count; i++) {
        const char *name = h->headers[i].name, *value = h->headers[i].value;
        if (!within(name, lo, hi) || !within(value, lo, hi) || !*name)
            return false;
        for (const char *c = name; *c; c++)
            if (!sea__http_tchar[(unsigned char)*c])
                return false;
        size_t vl = strlen(value);
        if (vl && (blank(value[0]) || blank(value[vl - 1])))
            return false;
        for (const char *c = value; *c; c++)
            if ((unsigned char)*c < 0x20 ? *c != '\t' : *c == 0x7f)
                return false;
    }
    return true;
}

static int fuzz_reports;

static void fuzz_report(const char *what, const char *s, size_t n) {
    sea_test_failures++;
    if (fuzz_reports++ >= 10)
        return;
    fprintf(stderr, "  fuzz: %s: \"", what);
    show(s, n);
    fputs("\"\n", stderr);
}

/* Checks one input as a head; returns its status (index in statuses[]). */
static int fuzz_head(const char *s, size_t n, const struct sea__http_limits *lim, uint64_t *rng) {
    struct res r;
    int rc = run(s, n, lim, &r);
    int which = -1;
    for (int k = 0; k < (int)SEA_TEST_COUNT(statuses); k++)
        if (statuses[k] == rc)
            which = k;
    if (which < 0)
        fuzz_report("an unknown status", s, n);
    if (r.found > (long)n)
        fuzz_report("head_find past the end", s, n);
    if (rc == 0 && !head_sane(&r, lim, (size_t)r.found))
        fuzz_report("an accepted head breaks a promise", s, n);
    if (rc > 0 && r.found > 0 && !r.h.error)
        fuzz_report("refused without a reason", s, n);
    res_free(&r);
    /* The same from head_find in pieces. */
    if (n > 1) {
        struct sea__http_scan scan = {0};
        char *buf = exact(s, n);
        long whole = sea__http_head_find(buf, n, lim, &scan);
        free(buf);
        size_t cuts[4];
        size_t ncuts = 1 + sea_test_rand(rng) % 3;
        for (size_t k = 0; k < ncuts; k++)
            cuts[k] = 1 + sea_test_rand(rng) % (n - 1);
        for (size_t a = 0; a < ncuts; a++) /* sort */
            for (size_t b = a + 1; b < ncuts; b++)
                if (cuts[b] < cuts[a]) {
                    size_t t = cuts[a];
                    cuts[a] = cuts[b];
                    cuts[b] = t;
                }
        cuts[ncuts++] = n;
        bool lagging = false;
        if (find_fed(s, n, lim, cuts, ncuts, &lagging) != whole)
            fuzz_report("head_find in pieces differs from all at once", s, n);
        if (lagging)
            fuzz_report("head_find left its scan behind", s, n);
    }
    /* head_parse on all of it, a complete head or not: refused or accepted, never a read past it. */
    char *buf = exact(s, n), *path = malloc(n + 1);
    sea_http_header *hdr = malloc(sizeof(*hdr) * lim->max_headers);
    struct sea__http_head h;
    int prc = sea__http_head_parse(buf, n, lim, hdr, path, &h);
    if (prc != 0 && prc != 400 && prc != 431 && prc != 501 && prc != 505 && prc != 417)
        fuzz_report("head_parse: an unknown status", s, n);
    free(buf);
    free(path);
    free(hdr);
    return which < 0 ? 0 : which;
}

static void fuzz_chunked(const char *s, size_t n, size_t max_trailer, uint64_t *rng, int *outcomes) {
    struct chres whole, part;
    chunked_whole(s, n, max_trailer, &whole);
    outcomes[whole.failed ? 0 : whole.done ? 1 : 2]++;
    if (whole.consumed > n)
        fuzz_report("chunked: consumed past the end", s, n);
    if (whole.failed && !whole.error)
        fuzz_report("chunked: failed without a reason", s, n);
    size_t cuts[5];
    size_t ncuts = n > 1 ? 1 + sea_test_rand(rng) % 4 : 0;
    for (size_t k = 0; k < ncuts; k++)
        cuts[k] = 1 + sea_test_rand(rng) % (n - 1);
    for (size_t a = 0; a < ncuts; a++)
        for (size_t b = a + 1; b < ncuts; b++)
            if (cuts[b] < cuts[a]) {
                size_t t = cuts[a];
                cuts[a] = cuts[b];
                cuts[b] = t;
            }
    cuts[ncuts++] = n;
    chunked_fed(s, n, max_trailer, cuts, ncuts, &part);
    if (!chres_same(&whole, &part))
        fuzz_report("chunked in pieces differs from all at once", s, n);
    free(part.data.p);
    free(whole.data.p);
}

/* Mutates buf[0..*len) (room for cap bytes) in place: a few flips, insertions, cuts, repeats. */
static void mutate(char *buf, size_t *len, size_t cap, uint64_t *rng) {
    static const char inserts[] = "\r\n\0 \t:%,;\r\n";
    int muts = 1 + (int)(sea_test_rand(rng) % 4);
    for (int m = 0; m < muts && *len > 0; m++) {
        size_t n = *len, at = sea_test_rand(rng) % n;
        switch (sea_test_rand(rng) % 7) {
        case 0: /* flip a bit */
            buf[at] ^= (char)(1 << (sea_test_rand(rng) % 8));
            break;
        case 1: /* a random byte */
            buf[at] = (char)sea_test_rand(rng);
            break;
        case 2: /* insert a delimiter */
            if (n < cap) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = inserts[sea_test_rand(rng) % (sizeof(inserts) - 1)];
                (*len)++;
            }
            break;
        case 3: /* delete a byte */
            memmove(buf + at, buf + at + 1, n - at - 1);
            (*len)--;
            break;
        case 4: /* cut */
            *len = at;
            break;
        case 5: { /* repeat a piece */
            size_t piece = 1 + sea_test_rand(rng) % 24;
            if (at + piece <= n && n + piece <= cap) {
                memmove(buf + at + piece, buf + at, n - at);
                *len += piece;
            }
            break;
        }
        default: /* a delimiter instead of a byte */
            buf[at] = inserts[sea_test_rand(rng) % (sizeof(inserts) - 1)];
            break;
        }
    }
}

FIBER_CASE(t_fuzz_heads) {
    static const char *const seeds[] = {
        "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9180\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        "POST /a%20b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
        "Expect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "\r\nHEAD http://x.org/p?q HTTP/1.0\r\nConnection: keep-alive\r\nX:  a \t\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n",
        "CONNECT a.b:443 HTTP/1.1\r\nHost: a.b:443\r\n\r\n",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    };
    static const char *const tokens[] = {
        "GET", "POST", "OPTIONS", "CONNECT", " ", "/", "/a%41", "%", "%0", "?", "#", "*", "http://h", "HTTP/1.1",
        "HTTP/1.0", "HTTP/", "\r\n", "\r", "\n", ":", ": ", "Host", "Content-Length", "Transfer-Encoding",
        "chunked", ",", "Connection", "close", "keep-alive", "Expect", "100-continue", "\t", "\x7f", "\xff",
        "\x01", "\0", "1", "99999999999999999999", "gzip, chunked", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "HTTP/2.0",
        "200-ok"};
    const size_t nseeds = SEA_TEST_COUNT(seeds), ntokens = SEA_TEST_COUNT(tokens);
    uint64_t rng = 20250611;
    int answers[SEA_TEST_COUNT(statuses)] = {0};
    static char buf[1024];
    for (int iter = 0; iter < 100000; iter++) {
        size_t len = 0;
        if (iter % 3 == 0) {
            int parts = 1 + (int)(sea_test_rand(&rng) % 32);
            for (int k = 0; k < parts; k++) {
                if (sea_test_rand(&rng) % 5 == 0) {
                    if (len < sizeof(buf))
                        buf[len++] = (char)sea_test_rand(&rng);
                    continue;
                }
                const char *t = tokens[sea_test_rand(&rng) % ntokens];
                size_t tl = t[0] ? strlen(t) : 1;
                if (len + tl > sizeof(buf))
                    break;
                memcpy(buf + len, t, tl);
                len += tl;
            }
        } else {
            const char *seed = seeds[sea_test_rand(&rng) % nseeds];
            len = strlen(seed);
            memcpy(buf, seed, len);
            mutate(buf, &len, sizeof(buf), &rng);
        }
        const struct sea__http_limits *lim = iter % 4 == 1 ? &lim_small : &lim_default;
        answers[fuzz_head(buf, len, lim, &rng)]++;
        if (iter % 1000 == 0 && len <= 300)
            check_splits(buf, len, lim); /* every split, and a byte at a time */
        if (iter % 256 == 0)
            sea_fiber_maybe_yield();
    }
    /* The inputs reached the answers that matter, often. */
    CHECK(answers[0] > 1000); /* accepted */
    CHECK(answers[1] > 1000); /* incomplete */
    CHECK(answers[2] > 1000); /* 400 */
    for (size_t k = 3; k < SEA_TEST_COUNT(statuses); k++)
        if (answers[k] < 10) {
            fprintf(stderr, "  the fuzz reached status %d only %d times\n", statuses[k], answers[k]);
            sea_test_failures++;
        }
    return sea_ready();
}

FIBER_CASE(t_fuzz_chunked) {
    static const char *const seeds[] = {
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        "1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\n",
        "A\r\n0123456789\r\n0;x\r\nTrailer: a\r\nB: c\r\n\r\n",
        "000001\r\n\r\r\n0\r\n\r\n",
    };
    static const char *const tokens[] = {"0", "5", "a", "F", "00", ";", "=", "\r\n", "\r", "\n", " ", "\t", "x",
                                         ":", "\0", "hello", "X: y", "\x7f", "\xff", "ffffffffffffffff"};
    const size_t nseeds = SEA_TEST_COUNT(seeds), ntokens = SEA_TEST_COUNT(tokens);
    uint64_t rng = 987654321;
    int outcomes[3] = {0}; /* failed, done, wants more */
    static char buf[512];
    for (int iter = 0; iter < 100000; iter++) {
        size_t len = 0;
        if (iter % 3 == 0) {
            int parts = 1 + (int)(sea_test_rand(&rng) % 24);
            for (int k = 0; k < parts; k++) {
                const char *t = tokens[sea_test_rand(&rng) % ntokens];
                size_t tl = t[0] ? strlen(t) : 1;
                if (len + tl > sizeof(buf))
                    break;
                memcpy(buf + len, t, tl);
                len += tl;
            }
        } else {
            const char *seed = seeds[sea_test_rand(&rng) % nseeds];
            len = strlen(seed);
            memcpy(buf, seed, len);
            mutate(buf, &len, sizeof(buf), &rng);
        }
        size_t max_trailer = iter % 2 ? 1024 : 8 + sea_test_rand(&rng) % 24;
        fuzz_chunked(buf, len, max_trailer, &rng, outcomes);
        if (iter % 1000 == 0)
            chunked_check_splits(buf, len, max_trailer, 1);
        if (iter % 256 == 0)
            sea_fiber_maybe_yield();
    }
    CHECK(outcomes[0] > 1000 && outcomes[1] > 1000 && outcomes[2] > 1000);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_good_heads), SEA_TEST(t_bad_heads),    SEA_TEST(t_limits),       SEA_TEST(t_chunked_good),
    SEA_TEST(t_chunked_bad), SEA_TEST(t_fuzz_heads), SEA_TEST(t_fuzz_chunked),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
