/*
 * test_request.c - the HTTP/1.x request-head parser (http/request.h): a
 * table of good and bad heads, then a deterministic fuzz of random and
 * mutated requests checking that every answer is defined and consistent
 * with the answers for the input's prefixes.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "http/request.h"

static int parse(const char *s, struct sea__http_request *r) {
    return sea__http_request_parse(s, strlen(s), r);
}

static sea_future t_http_parser(void) {
    struct sea__http_request r;
    const char *req = "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost:9180\r\nAccept: */*\r\nX-Empty:\r\n\r\nbody";
    CHECK_EQ(parse(req, &r), SEA__HTTP_DONE);
    CHECK(r.method == req && r.method_len == 3);
    CHECK(r.target == req + 4 && r.target_len == 12);
    CHECK_EQ(r.minor_version, 1);
    CHECK_EQ(r.head_len, strlen(req) - 4);
    /* Every prefix of a head is "more". */
    for (size_t k = 0; k < r.head_len; k++)
        CHECK_EQ(sea__http_request_parse(req, k, &r), SEA__HTTP_MORE);
    CHECK_EQ(parse("HEAD / HTTP/1.0\n\n", &r), SEA__HTTP_DONE);
    CHECK(r.method_len == 4 && r.target_len == 1 && r.minor_version == 0 && r.head_len == 17);
    CHECK_EQ(parse("M-SEARCH * HTTP/1.1\r\nA:\tb c\xff\r\n\r\n", &r), SEA__HTTP_DONE);
    static const struct {
        const char *head;
        size_t len; /* 0: strlen */
        const char *why;
    } bad[] = {
        {" GET / HTTP/1.1\r\n\r\n", 0, "malformed method"},
        {"GET\r\n", 0, "malformed method"},
        {"G(T / HTTP/1.1\r\n\r\n", 0, "malformed method"},
        {"GETGETGETGETGETGETGETGETGETGETGETGET / HTTP/1.1\r\n\r\n", 0, "method too long"},
        {"GET  / HTTP/1.1\r\n\r\n", 0, "malformed request target"},
        {"GET /\x01 HTTP/1.1\r\n\r\n", 0, "malformed request target"},
        {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 0, "malformed request target"},
        {"GET / http/1.1\r\n\r\n", 0, "not an HTTP/1.x request"},
        {"GET / HTTP/2\r\n\r\n", 0, "not an HTTP/1.x request"},
        {"GET / HTTP/1.2\r\n\r\n", 0, "unsupported HTTP version"},
        {"GET / HTTP/1.1 \r\n\r\n", 0, "malformed request line"},
        {"GET / HTTP/1.10\r\n\r\n", 0, "malformed request line"},
        {"GET / HTTP/1.1\rX", 0, "CR not followed by LF"},
        {"GET / HTTP/1.1\r\n\rX", 0, "CR not followed by LF"},
        {"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 0, "obsolete header line folding"},
        {"GET / HTTP/1.1\r\nA B: x\r\n\r\n", 0, "malformed header name"},
        {"GET / HTTP/1.1\r\n:x\r\n\r\n", 0, "malformed header name"},
        {"GET / HTTP/1.1\r\nA\r\n\r\n", 0, "malformed header name"},
        {"GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", 0, "control character in a header value"},
        {"GET / HTTP/1.1\r\nA: x\0y\r\n\r\n", 27, "control character in a header value"},
        {"GET\0/ HTTP/1.1\r\n\r\n", 20, "malformed method"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].head);
        int rc = sea__http_request_parse(bad[i].head, len, &r);
        if (rc != SEA__HTTP_BAD || !r.error || strcmp(r.error, bad[i].why) != 0) {
            fprintf(stderr, "  bad head %zu: got %d (%s), expected \"%s\"\n", i, rc, r.error ? r.error : "-",
                    bad[i].why);
            sea_test_failures++;
        }
    }
    CHECK_EQ(parse("", &r), SEA__HTTP_MORE);
    CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n", &r), SEA__HTTP_MORE);
    return sea_ready();
}

/* Checks one input against the parser's promises; returns its answer. */
static int fuzz_one(const char *data, size_t len, uint64_t *rng, int *problems) {
    char *buf = malloc(len ? len : 1); /* exactly len bytes: ASan sees any read past them */
    memcpy(buf, data, len);
    struct sea__http_request r;
    int rc = sea__http_request_parse(buf, len, &r);
    bool ok = rc == SEA__HTTP_MORE || rc == SEA__HTTP_DONE || rc == SEA__HTTP_BAD;
    if (rc == SEA__HTTP_DONE) {
        ok = ok && r.head_len >= 1 && r.head_len <= len && r.method == buf && r.method_len >= 1 &&
             r.target > buf && r.target + r.target_len < buf + r.head_len && r.target_len >= 1 &&
             (r.minor_version == 0 || r.minor_version == 1) && !r.error;
        size_t head = r.head_len;
        ok = ok && sea__http_request_parse(buf, head - 1, &r) == SEA__HTTP_MORE;
        ok = ok && sea__http_request_parse(buf, head, &r) == SEA__HTTP_DONE && r.head_len == head;
    } else if (rc == SEA__HTTP_BAD) {
        ok = ok && r.error != NULL;
    }
    /* A prefix agrees: "more" for a prefix of anything unfinished, the same head if it is complete. */
    if (len) {
        size_t k = sea_test_rand(rng) % len;
        struct sea__http_request p;
        int pk = sea__http_request_parse(buf, k, &p);
        if (pk == SEA__HTTP_DONE)
            ok = ok && rc == SEA__HTTP_DONE && p.head_len <= k;
        if (pk == SEA__HTTP_BAD)
            ok = ok && rc == SEA__HTTP_BAD;
        if (rc == SEA__HTTP_MORE)
            ok = ok && pk == SEA__HTTP_MORE;
    }
    if (!ok && (*problems)++ < 5)
        fprintf(stderr, "  parser broke a promise (answer %d) on %zu bytes: %.*s\n", rc, len, (int)len, data);
    free(buf);
    return rc;
}

FIBER_CASE(t_http_parser_fuzz) {
    static const char *const seeds[] = {
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9180\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n",
        "POST /x HTTP/1.1\nContent-Length: 3\n\nabc",
        "GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb\r\n\r\n",
    };
    static const char *const tokens[] = {"GET", "HEAD", " ", "  ", "/", "/metrics", "?", "HTTP/1.1", "HTTP/1.0",
                                         "HTTP/", "\r\n", "\r", "\n", ":", ": ", "Host", "\t", "\x7f", "\xff",
                                         "\x01", "*", "a", "1"};
    const size_t nseeds = sizeof(seeds) / sizeof(seeds[0]), ntokens = sizeof(tokens) / sizeof(tokens[0]);
    uint64_t rng = 20251124;
    int problems = 0, answers[3] = {0, 0, 0};
    char buf[512];
    for (int iter = 0; iter < 60000; iter++) {
        size_t len = 0;
        if (iter % 3 == 0) {
            /* Random tokens and bytes. */
            int parts = 1 + (int)(sea_test_rand(&rng) % 24);
            for (int k = 0; k < parts; k++) {
                if (sea_test_rand(&rng) % 4 == 0) {
                    if (len < sizeof(buf))
                        buf[len++] = (char)sea_test_rand(&rng);
                    continue;
                }
                const char *t = tokens[sea_test_rand(&rng) % ntokens];
                size_t tl = strlen(t);
                if (len + tl > sizeof(buf))
                    break;
                memcpy(buf + len, t, tl);
                len += tl;
            }
        } else {
            /* A good request with a few mutations: change, delete or insert a byte, cut, repeat a piece. */
            const char *seed = seeds[sea_test_rand(&rng) % nseeds];
            len = strlen(seed);
            memcpy(buf, seed, len);
            int muts = 1 + (int)(sea_test_rand(&rng) % 4);
            for (int m = 0; m < muts && len > 0; m++) {
                size_t at = sea_test_rand(&rng) % len;
                switch (sea_test_rand(&rng) % 5) {
                case 0:
                    buf[at] = (char)sea_test_rand(&rng);
                    break;
                case 1:
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                case 2:
                    if (len < sizeof(buf)) {
                        memmove(buf + at + 1, buf + at, len - at);
                        buf[at] = (char)sea_test_rand(&rng);
                        len++;
                    }
                    break;
                case 3:
                    len = at;
                    break;
                default: {
                    size_t piece = 1 + sea_test_rand(&rng) % 16;
                    if (at + piece <= len && len + piece <= sizeof(buf)) {
                        memmove(buf + at + piece, buf + at, len - at);
                        len += piece;
                    }
                    break;
                }
                }
            }
        }
        answers[fuzz_one(buf, len, &rng, &problems) % 3]++;
        if (iter % 256 == 0)
            sea_fiber_maybe_yield(); /* a long computation, like any other: let the shard breathe */
    }
    CHECK_EQ(problems, 0);
    /* The inputs reached every answer, often. */
    CHECK(answers[SEA__HTTP_MORE] > 1000 && answers[SEA__HTTP_DONE] > 1000 && answers[SEA__HTTP_BAD] > 1000);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_http_parser),
    SEA_TEST(t_http_parser_fuzz),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
