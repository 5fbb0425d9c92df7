/*
 * test_memcached_text.c - sea-memcached's parsers fuzzed: the text protocol
 * with the meta commands (text.c, meta.c) and the binary protocol
 * (binary.c), on random streams of real, damaged and random requests.
 *
 * For every stream: parsing it whole and parsing it as it arrives in random
 * pieces give the same requests (kind, size, key, data), whatever the
 * split; every request stays inside the bytes given; "need more" consumes
 * nothing; nothing crashes (this runs under ASan+UBSan too).  A fixed seed
 * per run, so a failure reproduces:
 *     test_memcached_text [ROUNDS] [SEED] [text|binary]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "text.h"

static int binary_mode;

static unsigned long long rng_state;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return n ? (unsigned)((rng_state >> 33) % n) : 0;
}

static const char *const words[] = {
    "get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas", "delete", "incr", "decr",
    "touch", "flush_all", "version", "verbosity", "quit", "stats", "noreply", "0", "1", "-1", "5", "4294967296",
    "18446744073709551616", "k", "key", "x", "bogus", "", " ", "\r", "\t",
    /* meta commands and flags */
    "mg", "ms", "md", "ma", "mn", "me", "v", "k", "c", "f", "q", "s", "t", "h", "l", "u", "b", "I", "N0", "T10", "R5",
    "O1", "MS", "ME", "MA", "MD", "Mz", "C5", "F3", "J4", "D2", "Zm9v", "a=", "P", "L", "vv",
};

/* Appends one binary request, well-formed or not, to buf. */
static size_t gen_binary(char *buf, size_t cap) {
    unsigned char h[24] = {0x80};
    static const unsigned char ops[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                                        0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x19, 0x1a,
                                        0x1b, 0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x23, 0x24, 0x40};
    unsigned char op = ops[rnd(sizeof(ops))];
    unsigned keylen = rnd(30) == 0 ? rnd(300) : 1 + rnd(12);
    unsigned extlen = 0, vlen = rnd(4) == 0 ? rnd(3000) : rnd(20);
    switch (op & 0x1f) { /* mostly what the opcode takes; sometimes not */
    case 0x01: case 0x02: case 0x03: case 0x11: case 0x12: case 0x13: extlen = 8; break;
    case 0x05: case 0x06: case 0x15: case 0x16: extlen = 20; vlen = 0; break;
    case 0x1c: case 0x1d: case 0x1e: case 0x03 + 0x20: case 0x04 + 0x20: extlen = 4; vlen = 0; break;
    case 0x0e: case 0x0f: case 0x19: case 0x1a: break;
    case 0x08: case 0x18: extlen = rnd(2) * 4; keylen = 0; vlen = 0; break;
    case 0x0a: case 0x0b: case 0x10: keylen = op == 0x10 ? keylen : 0; vlen = 0; break;
    default: vlen = 0; break;
    }
    if (rnd(20) == 0)
        extlen = rnd(30);
    unsigned body = keylen + extlen + vlen;
    if (rnd(20) == 0)
        body = rnd(10) == 0 ? 0xfffffff0u : rnd(400); /* a body length that lies */
    h[1] = op;
    if (rnd(80) == 0)
        h[0] = (unsigned char)rnd(256);
    h[2] = (unsigned char)(keylen >> 8);
    h[3] = (unsigned char)keylen;
    h[4] = (unsigned char)extlen;
    for (int i = 0; i < 4; i++)
        h[8 + i] = (unsigned char)(body >> (24 - 8 * i));
    if (rnd(3) == 0)
        h[23] = (unsigned char)rnd(256); /* a CAS */
    size_t n = 0, total = 24 + extlen + keylen + vlen;
    if (total > cap)
        return 0;
    memcpy(buf, h, 24);
    n = 24;
    for (; n < total; n++)
        buf[n] = (char)(rnd(3) ? 'a' + rnd(26) : rnd(256));
    return n;
}

/* Appends one request, well-formed or not, to buf. */
static size_t gen(char *buf, size_t cap) {
    if (binary_mode)
        return gen_binary(buf, cap);
    size_t n = 0;
#define PUT(s, l) do { size_t l_ = (l); if (n + l_ < cap) { memcpy(buf + n, (s), l_); n += l_; } } while (0)
    unsigned kind = rnd(10);
    if (kind < 4) { /* a storage command with its data block, sometimes damaged */
        static const char *const cmds[] = {"set", "add", "replace", "append", "prepend", "cas"};
        unsigned vlen = rnd(4) == 0 ? rnd(3000) : rnd(20);
        char line[128];
        int l = snprintf(line, sizeof(line), "%s k%u %u %d %u%s%s\r\n", cmds[rnd(6)], rnd(20), rnd(3), (int)rnd(3) - 1,
                         vlen + (rnd(8) == 0 ? rnd(3) : 0), rnd(2) ? " 7" : "", rnd(4) == 0 ? " noreply" : "");
        PUT(line, (size_t)l);
        for (unsigned i = 0; i < vlen; i++) {
            char c = (char)rnd(256);
            PUT(&c, 1);
        }
        PUT("\r\n", 2);
    } else if (kind < 8) { /* a line of words */
        unsigned nw = 1 + rnd(6);
        for (unsigned i = 0; i < nw; i++) {
            const char *w = words[rnd(sizeof(words) / sizeof(words[0]))];
            PUT(w, strlen(w));
            PUT(" ", rnd(3) == 0 ? 2 : 1);
        }
        PUT(rnd(4) ? "\r\n" : "\n", rnd(4) ? 2 : 1);
    } else { /* random bytes, ending a line */
        unsigned len = rnd(300);
        for (unsigned i = 0; i < len; i++) {
            char c = (char)rnd(256);
            if (c == '\n')
                c = 'n';
            PUT(&c, 1);
        }
        PUT("\n", 1);
    }
#undef PUT
    return n;
}

struct seen {
    int kind;
    size_t consumed;
    size_t key_off, key_len, data_off, data_len;
};

/* Parses buf[0..len) from the start; records up to max requests; returns how many. */
static size_t parse_all(const char *buf, size_t len, struct seen *out, size_t max, size_t *used) {
    static mc_request r;
    size_t off = 0, n = 0;
    while (off < len && n < max) {
        mc_kind k = binary_mode ? mc_bin_parse(buf + off, len - off, 1 << 20, &r)
                                : mc_text_parse(buf + off, len - off, 1 << 20, &r);
        if (k == MC_NEED_MORE) {
            if (r.consumed != 0) {
                printf("FAIL: need more, yet consumed %zu\n", r.consumed);
                exit(1);
            }
            break;
        }
        if (k == MC_CLOSE)
            break;
        if (r.consumed == 0 || r.consumed > len - off) {
            printf("FAIL: kind %d consumed %zu of %zu\n", k, r.consumed, len - off);
            exit(1);
        }
        struct seen s = {k, r.consumed, 0, 0, 0, 0};
        bool decoded = r.proto == MC_PROTO_META && r.meta.key_binary; /* a base64 key decoded into the request */
        if ((k == MC_STORE || k == MC_DELETE || k == MC_ARITH || k == MC_TOUCH) && !decoded) {
            if (r.key.p < buf + off || r.key.p + r.key.len > buf + off + r.consumed || r.key.len == 0) {
                printf("FAIL: key outside its request\n");
                exit(1);
            }
            s.key_off = (size_t)(r.key.p - buf);
            s.key_len = r.key.len;
        }
        if (k == MC_STORE) {
            size_t end = r.proto == MC_PROTO_BINARY ? 0 : 2; /* text and meta blocks end with \r\n */
            if (r.data < buf + off || r.data + r.nbytes + end != buf + off + r.consumed) {
                printf("FAIL: data block outside its request\n");
                exit(1);
            }
            s.data_off = (size_t)(r.data - buf);
            s.data_len = r.nbytes;
        }
        if (k == MC_GET && r.proto != MC_PROTO_META) {
            for (unsigned i = 0; i < r.nkeys; i++)
                if (r.keys[i].p < buf + off || r.keys[i].p + r.keys[i].len > buf + off + r.consumed) {
                    printf("FAIL: get key outside its request\n");
                    exit(1);
                }
        }
        if (k == MC_SWALLOW) { /* the data block is dropped: skip it as the connection does */
            size_t skip = r.swallow < len - off - r.consumed ? r.swallow : len - off - r.consumed;
            s.consumed += skip;
        }
        out[n++] = s;
        off += s.consumed;
    }
    *used = off;
    return n;
}

int main(int argc, char **argv) {
    unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261205;
    binary_mode = argc > 3 && strcmp(argv[3], "binary") == 0;
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    struct seen *whole = malloc(4096 * sizeof(*whole)), *pieces = malloc(4096 * sizeof(*pieces));
    if (!buf || !whole || !pieces)
        return 1;
    unsigned long long requests = 0;
    for (unsigned round = 0; round < rounds; round++) {
        size_t len = 0;
        unsigned nreq = 1 + rnd(40);
        for (unsigned i = 0; i < nreq; i++)
            len += gen(buf + len, cap - len);
        size_t used;
        size_t nw = parse_all(buf, len, whole, 4096, &used);
        /* The same bytes arriving in pieces: parse what is there after each piece, as a connection does. */
        size_t got = 0, off = 0, np = 0;
        while (got < len) {
            got += 1 + rnd((unsigned)(len - got < 700 ? len - got : 700));
            if (got > len)
                got = len;
            size_t u;
            size_t k = parse_all(buf + off, got - off, pieces + np, 4096 - np, &u);
            for (size_t i = 0; i < k; i++) { /* rebase to the stream */
                if (pieces[np + i].key_len)
                    pieces[np + i].key_off += off;
                if (pieces[np + i].kind == MC_STORE)
                    pieces[np + i].data_off += off;
            }
            np += k;
            off += u;
        }
        /* A swallow cut short by the end of a piece continues in the next: compare up to the first swallow. */
        size_t cmp = nw < np ? nw : np;
        for (size_t i = 0; i < cmp; i++) {
            if (whole[i].kind == MC_SWALLOW || pieces[i].kind == MC_SWALLOW) {
                cmp = i;
                break;
            }
            const struct seen *a = &whole[i], *b = &pieces[i];
            if (a->kind != b->kind || a->consumed != b->consumed || a->key_off != b->key_off ||
                a->key_len != b->key_len || a->data_off != b->data_off || a->data_len != b->data_len) {
                printf("FAIL: round %u request %zu: whole kind %d consumed %zu, in pieces kind %d consumed %zu\n",
                       round, i, whole[i].kind, whole[i].consumed, pieces[i].kind, pieces[i].consumed);
                return 1;
            }
        }
        if (cmp == nw && cmp == np && used != off) {
            printf("FAIL: round %u: whole used %zu bytes, pieces %zu\n", round, used, off);
            return 1;
        }
        requests += nw;
    }
    free(buf);
    free(whole);
    free(pieces);
    printf("PASS: %u %s streams, %llu requests, the same whole and in pieces\n", rounds,
           binary_mode ? "binary" : "text and meta", requests);
    return 0;
}
