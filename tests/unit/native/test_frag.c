/*
 * test_frag.c - IPv4 fragment reassembly (net/native/frag.c) on an explicit
 * clock: fragments in order, in reverse and shuffled, duplicates, every kind
 * of overlap and of disagreement about the end, the refusals, holes that
 * time out, the limits (datagrams, bytes, fragments per datagram, 65535
 * bytes), datagrams of different sources with the same id; then a seeded
 * fuzz of 200,000 fragmented datagrams (a tenth of them random fragments),
 * mutated and interleaved, which checks the memory bound after every
 * fragment and every datagram returned against the bytes that were
 * fragmented.
 *
 * Every fragment is a real frame: built by sea__ipv4_build into a buffer of
 * exactly its size (ASan sees any read past it), parsed by sea__ipv4_parse,
 * then given to the table.  No test depends on the time it takes.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/native/frag.h"
#include "net/native/wire.h"

#define SEC 1000000000ull
#define T0 (1000 * SEC)

struct key {
    uint32_t src, dst;
    uint8_t proto;
    uint16_t id;
};

static const struct key K = {0x0a4d0001u, 0x0a4d0002u, SEA__IP_UDP, 0x1234};

/* One fragment of k: len bytes of data at off, MF as given, options_len bytes of NOP options, a TOS. */
static int feed_ex(struct sea__frag *t, const struct key *k, const uint8_t *data, uint32_t off, uint32_t len,
                   bool mf, size_t options_len, uint8_t tos, uint64_t now, struct sea__frag_datagram *out) {
    size_t n = SEA__IPV4_HLEN + options_len + len;
    uint8_t *f = malloc(n);
    struct sea__ipv4_args a = {.tos = tos, .ttl = 64, .proto = k->proto, .id = k->id, .mf = mf,
                               .frag_offset = (uint16_t)off, .src = k->src, .dst = k->dst,
                               .payload_len = options_len + len};
    CHECK_EQ(sea__ipv4_build(f, n, &a), SEA__IPV4_HLEN);
    if (options_len) { /* IHL and the checksum again, with the options in the header */
        memset(f + SEA__IPV4_HLEN, 1, options_len);
        f[0] = (uint8_t)(0x40 | ((SEA__IPV4_HLEN + options_len) / 4));
        f[10] = f[11] = 0;
        uint16_t c = sea__csum_finish(sea__csum_partial(f, SEA__IPV4_HLEN + options_len));
        f[10] = (uint8_t)(c >> 8);
        f[11] = (uint8_t)c;
    }
    if (len)
        memcpy(f + SEA__IPV4_HLEN + options_len, data, len);
    struct sea__ipv4 ip;
    int rc = sea__ipv4_parse(f, n, &ip);
    CHECK_EQ(rc, 0);
    if (rc == 0)
        rc = sea__frag_input(t, &ip, now, out);
    free(f);
    return rc;
}

static int feed(struct sea__frag *t, const struct key *k, const uint8_t *payload, uint32_t off, uint32_t len, bool mf,
                uint64_t now, struct sea__frag_datagram *out) {
    return feed_ex(t, k, payload + off, off, len, mf, 0, 0, now, out);
}

static void fill(uint8_t *p, size_t n, uint32_t seed) {
    uint64_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(sea_test_rand(&s) >> 24);
}

/* The datagram returned is k's, whole, with payload's n bytes and a 20-byte header. */
static void check_dgram(const struct sea__frag_datagram *d, const struct key *k, const uint8_t *payload, size_t n) {
    CHECK(d->ip.src == k->src && d->ip.dst == k->dst && d->ip.proto == k->proto && d->ip.id == k->id);
    CHECK(!d->ip.mf && d->ip.frag_offset == 0);
    CHECK_EQ(d->ip.header_len, 20);
    CHECK_EQ(d->ip.options_len, 0);
    CHECK_EQ(d->ip.total_len, 20 + n);
    CHECK_EQ(d->ip.payload_len, n);
    CHECK(d->ip.payload_len == n && memcmp(d->ip.payload, payload, n) == 0);
}

struct piece {
    uint32_t off, len;
    bool mf;
};

/* Cuts n bytes into pieces of fs (a multiple of 8), the last one shorter; returns how many. */
static size_t split(struct piece *p, uint32_t n, uint32_t fs) {
    size_t np = 0;
    for (uint32_t off = 0; off < n; off += fs)
        p[np++] = (struct piece){off, n - off < fs ? n - off : fs, off + fs < n};
    return np;
}

static void shuffle(struct piece *p, size_t n, uint64_t *rng) {
    for (size_t i = n; i > 1; i--) {
        size_t j = sea_test_rand(rng) % i;
        struct piece x = p[i - 1];
        p[i - 1] = p[j];
        p[j] = x;
    }
}

/* Feeds the pieces in their order: every one but the last gives 0, the last 1 with the datagram, checked. */
static void feed_all(struct sea__frag *t, const struct key *k, const uint8_t *payload, uint32_t n,
                     const struct piece *p, size_t np, uint64_t now) {
    struct sea__frag_datagram out;
    for (size_t i = 0; i < np; i++) {
        int rc = feed(t, k, payload, p[i].off, p[i].len, p[i].mf, now, &out);
        CHECK_EQ(rc, i + 1 == np ? 1 : 0);
        if (rc == 1)
            check_dgram(&out, k, payload, n);
    }
}

static uint64_t drops(const struct sea__frag *t) {
    return t->stats.dropped_overlap + t->stats.dropped_timeout + t->stats.dropped_limit + t->stats.dropped_invalid;
}

static sea_future t_in_order(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    CHECK(t.cfg.max_datagrams == 64 && t.cfg.max_bytes == 4u << 20 && t.cfg.timeout_ns == 30 * SEC &&
          t.cfg.max_frags == 64);
    uint8_t payload[4000];
    fill(payload, sizeof(payload), 1);
    struct piece p[8];
    size_t np = split(p, 4000, 1480);
    CHECK_EQ(np, 3);
    feed_all(&t, &K, payload, 4000, p, np, T0);
    CHECK_EQ(t.stats.fragments_in, 3);
    CHECK_EQ(t.stats.reassembled, 1);
    CHECK_EQ(drops(&t), 0);
    CHECK_EQ(t.count, 0);
    CHECK(t.bytes >= 4000); /* the datagram returned, until released */
    sea__frag_release(&t);
    CHECK_EQ(t.bytes, 0);
    /* The same id again later is a new datagram. */
    feed_all(&t, &K, payload, 4000, p, np, T0 + SEC);
    CHECK_EQ(t.stats.reassembled, 2);
    sea__frag_free(&t);
    CHECK_EQ(t.bytes, 0);
    return sea_ready();
}

static sea_future t_reverse(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    uint8_t payload[4000];
    fill(payload, sizeof(payload), 2);
    struct piece p[64], r[64];
    size_t np = split(p, 4000, 64);
    CHECK_EQ(np, 63);
    for (size_t i = 0; i < np; i++)
        r[i] = p[np - 1 - i];
    feed_all(&t, &K, payload, 4000, r, np, T0);
    CHECK_EQ(t.stats.reassembled, 1);
    CHECK_EQ(drops(&t), 0);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_shuffled(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    static uint8_t payload[20000];
    uint64_t rng = 791;
    for (int round = 0; round < 300; round++) {
        uint32_t n = 9 + (uint32_t)(sea_test_rand(&rng) % 19991);
        fill(payload, n, (uint32_t)round);
        /* Between 2 and 64 pieces, a multiple of 8 each. */
        uint32_t parts = 2 + (uint32_t)(sea_test_rand(&rng) % 63);
        uint32_t fs = ((n + parts - 1) / parts + 7) / 8 * 8;
        if (fs >= n)
            fs = (n - 1) / 8 * 8;
        struct piece p[80];
        size_t np = split(p, n, fs);
        CHECK(np >= 2 && np <= 64);
        shuffle(p, np, &rng);
        struct key k = K;
        k.id = (uint16_t)round;
        feed_all(&t, &k, payload, n, p, np, T0 + (uint64_t)round * SEC / 10);
    }
    CHECK_EQ(t.stats.reassembled, 300);
    CHECK_EQ(drops(&t), 0);
    CHECK_EQ(t.count, 0);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_duplicates(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    struct sea__frag_datagram out;
    uint8_t payload[4000];
    fill(payload, sizeof(payload), 3);
    /* A middle fragment twice, the last twice: ignored, and the datagram completes. */
    CHECK_EQ(feed(&t, &K, payload, 1480, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 2960, 1040, false, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 2960, 1040, false, T0, &out), 0);
    /* The first twice, the second with a TOS and options: the first to come gives the header. */
    CHECK_EQ(feed_ex(&t, &K, payload, 0, 1480, true, 0, 0x10, T0, &out), 1);
    check_dgram(&out, &K, payload, 4000);
    CHECK_EQ(out.ip.tos, 0x10);
    CHECK_EQ(t.stats.reassembled, 1);
    CHECK_EQ(t.stats.fragments_in, 5);
    CHECK_EQ(drops(&t), 0);
    /* A duplicate of the first before the datagram completes: the first one's header stays. */
    CHECK_EQ(feed_ex(&t, &K, payload, 0, 1480, true, 0, 0x10, T0, &out), 0);
    CHECK_EQ(feed_ex(&t, &K, payload, 0, 1480, true, 8, 0x20, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 1480, 2520, false, T0, &out), 1);
    check_dgram(&out, &K, payload, 4000);
    CHECK_EQ(out.ip.tos, 0x10);
    CHECK_EQ(drops(&t), 0);
    /* A duplicate that comes after its datagram completed starts another, which never completes. */
    CHECK_EQ(feed(&t, &K, payload, 1480, 2520, false, T0, &out), 0);
    CHECK_EQ(t.count, 1);
    CHECK_EQ(sea__frag_expire(&t, T0 + 30 * SEC), 1);
    CHECK_EQ(t.stats.dropped_timeout, 1);

    /* Same range, other bytes: the datagram is dropped, and the next fragments start another. */
    uint8_t other[4000];
    memcpy(other, payload, sizeof(other));
    other[1500] ^= 1;
    CHECK_EQ(feed(&t, &K, payload, 1480, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, other, 1480, 1480, true, T0, &out), -EBADMSG);
    CHECK_EQ(t.stats.dropped_overlap, 1);
    CHECK_EQ(t.count, 0);
    CHECK_EQ(t.bytes, 0);
    /* Same range, other MF: the last fragment again, saying more follows; a middle one saying it is the last. */
    CHECK_EQ(feed(&t, &K, payload, 2960, 1040, false, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 2960, 1040, true, T0, &out), -EBADMSG);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1480, false, T0, &out), -EBADMSG);
    CHECK_EQ(t.stats.dropped_overlap, 3);
    CHECK_EQ(t.count, 0);
    sea__frag_free(&t);
    return sea_ready();
}

/* Held: the pieces a; then b: refused with -EBADMSG, the datagram dropped. */
static void overlap_case(const struct piece *a, size_t na, struct piece b, uint8_t proto) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    struct sea__frag_datagram out;
    uint8_t payload[4000];
    fill(payload, sizeof(payload), 4);
    struct key k = K;
    k.proto = proto;
    for (size_t i = 0; i < na; i++)
        CHECK_EQ(feed(&t, &k, payload, a[i].off, a[i].len, a[i].mf, T0, &out), 0);
    CHECK_EQ(feed(&t, &k, payload, b.off, b.len, b.mf, T0, &out), -EBADMSG);
    CHECK_EQ(t.stats.dropped_overlap, 1);
    CHECK_EQ(t.count, 0);
    CHECK_EQ(t.bytes, 0);
    /* The rest of the datagram then starts a new one, which lacks what was dropped. */
    CHECK_EQ(feed(&t, &k, payload, 3000, 1000, false, T0, &out), 0);
    CHECK_EQ(t.count, 1);
    sea__frag_free(&t);
}

static sea_future t_overlaps(void) {
    /* The new fragment's start inside one held, its end inside one, one containing a held one, one inside. */
    overlap_case((struct piece[]){{0, 1480, true}}, 1, (struct piece){1472, 528, true}, SEA__IP_UDP);
    overlap_case((struct piece[]){{800, 800, true}}, 1, (struct piece){0, 808, true}, SEA__IP_UDP);
    overlap_case((struct piece[]){{800, 800, true}}, 1, (struct piece){0, 2400, true}, SEA__IP_UDP);
    overlap_case((struct piece[]){{0, 2400, true}}, 1, (struct piece){800, 800, true}, SEA__IP_UDP);
    /* Same start, another length; between two held ones, touching both and overlapping one. */
    overlap_case((struct piece[]){{800, 800, true}}, 1, (struct piece){800, 808, true}, SEA__IP_UDP);
    overlap_case((struct piece[]){{0, 800, true}, {1600, 800, true}}, 2, (struct piece){800, 808, true}, SEA__IP_UDP);
    overlap_case((struct piece[]){{0, 800, true}, {1600, 800, true}}, 2, (struct piece){792, 808, true}, SEA__IP_UDP);
    /* RFC 1858's overlapping TCP fragment: offset 8 over the first fragment's TCP header. */
    overlap_case((struct piece[]){{0, 24, true}}, 1, (struct piece){8, 24, true}, SEA__IP_TCP);
    overlap_case((struct piece[]){{8, 24, true}}, 1, (struct piece){0, 24, true}, SEA__IP_TCP);
    /* Disagreements about the end: a second last fragment ending elsewhere, data past the end, a last
       fragment ending before bytes held, a last fragment ending where a held fragment ends. */
    overlap_case((struct piece[]){{1480, 520, false}}, 1, (struct piece){2000, 100, false}, SEA__IP_UDP);
    overlap_case((struct piece[]){{1480, 520, false}}, 1, (struct piece){2000, 8, true}, SEA__IP_UDP);
    overlap_case((struct piece[]){{1480, 1480, true}}, 1, (struct piece){64, 8, false}, SEA__IP_UDP);
    overlap_case((struct piece[]){{1480, 1480, true}}, 1, (struct piece){2952, 8, false}, SEA__IP_UDP);
    /* Touching is not overlapping: adjacent pieces in any order complete. */
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    uint8_t payload[24];
    fill(payload, sizeof(payload), 5);
    struct piece p[3] = {{8, 8, true}, {16, 8, false}, {0, 8, true}};
    feed_all(&t, &K, payload, 24, p, 3, T0);
    CHECK_EQ(drops(&t), 0);
    sea__frag_free(&t);
    return sea_ready();
}

/* A hand-made view, for the refusals a parsed frame never reaches. */
static int feed_view(struct sea__frag *t, uint16_t off, size_t len, bool mf, uint8_t header_len, uint64_t now) {
    static uint8_t data[65536], options[40];
    struct sea__ipv4 ip = {.header_len = header_len, .ttl = 64, .proto = K.proto, .total_len = 0, .id = K.id,
                           .mf = mf, .frag_offset = off, .src = K.src, .dst = K.dst, .options = options,
                           .options_len = (size_t)header_len - 20, .payload = data, .payload_len = len};
    struct sea__frag_datagram out;
    return sea__frag_input(t, &ip, now, &out);
}

static sea_future t_refused(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    struct sea__frag_datagram out;
    uint8_t payload[4000];
    fill(payload, sizeof(payload), 6);
    /* Not a fragment; a non-last fragment not a multiple of 8; an empty last fragment; an empty middle one. */
    CHECK_EQ(feed(&t, &K, payload, 0, 100, false, T0, &out), -EINVAL);
    CHECK_EQ(feed(&t, &K, payload, 0, 100, true, T0, &out), -EINVAL);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1001, true, T0, &out), -EINVAL);
    CHECK_EQ(feed(&t, &K, payload, 1480, 0, false, T0, &out), -EINVAL);
    CHECK_EQ(feed(&t, &K, payload, 1480, 0, true, T0, &out), -EINVAL);
    /* Tiny first fragments: TCP's must hold 20 bytes (so 24), any other protocol's 8. */
    struct key tcp = K;
    tcp.proto = SEA__IP_TCP;
    CHECK_EQ(feed(&t, &tcp, payload, 0, 8, true, T0, &out), -EINVAL);
    CHECK_EQ(feed(&t, &tcp, payload, 0, 16, true, T0, &out), -EINVAL);
    CHECK_EQ(t.stats.dropped_invalid, 7);
    CHECK_EQ(t.count, 0); /* nothing refused on its own starts a datagram */
    CHECK_EQ(t.bytes, 0);
    CHECK_EQ(feed(&t, &tcp, payload, 0, 24, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &tcp, payload, 24, 10, false, T0, &out), 1);
    check_dgram(&out, &tcp, payload, 34);
    struct key icmp = K;
    icmp.proto = SEA__IP_ICMP;
    CHECK_EQ(feed(&t, &icmp, payload, 0, 8, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &icmp, payload, 8, 1, false, T0, &out), 1);
    check_dgram(&out, &icmp, payload, 9);
    /* A misaligned offset, and an invalid header length, which only a hand-made view can have. */
    CHECK_EQ(feed_view(&t, 4, 8, true, 20, T0), -EINVAL);
    CHECK_EQ(feed_view(&t, 8, 8, true, 16, T0), -EINVAL);
    CHECK_EQ(t.stats.dropped_invalid, 9);
    CHECK_EQ(t.stats.dropped_overlap + t.stats.dropped_limit + t.stats.dropped_timeout, 0);
    /* A refused fragment leaves its datagram as it was. */
    CHECK_EQ(feed(&t, &K, payload, 0, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1001, true, T0, &out), -EINVAL);
    CHECK_EQ(feed(&t, &K, payload, 1480, 2520, false, T0, &out), 1);
    check_dgram(&out, &K, payload, 4000);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_65535(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    struct sea__frag_datagram out;
    static uint8_t payload[65536];
    fill(payload, sizeof(payload), 7);
    uint64_t rng = 65535;
    /* The largest datagram: 65515 bytes of payload, 65535 with the header, in 45 shuffled pieces. */
    struct piece p[64];
    size_t np = split(p, 65515, 1480);
    CHECK_EQ(np, 45);
    shuffle(p, np, &rng);
    feed_all(&t, &K, payload, 65515, p, np, T0);
    CHECK_EQ(t.stats.reassembled, 1);
    /* With a 24-byte first header: 65511 bytes fit exactly (options returned), 65512 do not. */
    np = split(p, 65511, 1480);
    for (size_t i = 0; i < np; i++) {
        int rc = feed_ex(&t, &K, payload + p[i].off, p[i].off, p[i].len, p[i].mf, p[i].off ? 0 : 4, 0, T0, &out);
        CHECK_EQ(rc, i + 1 == np ? 1 : 0);
    }
    CHECK_EQ(out.ip.header_len, 24);
    CHECK_EQ(out.ip.total_len, 65535);
    CHECK_EQ(out.ip.options_len, 4);
    CHECK(memcmp(out.ip.options, "\1\1\1\1", 4) == 0);
    CHECK(out.ip.payload_len == 65511 && memcmp(out.ip.payload, payload, 65511) == 0);
    /* The first (with options) held, then the last past 65511: refused, the datagram kept; and the other way. */
    CHECK_EQ(feed_ex(&t, &K, payload, 0, 1480, true, 4, 0, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 65504, 8, false, T0, &out), -EMSGSIZE);
    CHECK_EQ(t.count, 1);
    struct key k2 = K;
    k2.id++;
    CHECK_EQ(feed(&t, &k2, payload, 65504, 8, false, T0, &out), 0);
    CHECK_EQ(feed_ex(&t, &k2, payload, 0, 1480, true, 4, 0, T0, &out), -EMSGSIZE);
    CHECK_EQ(feed_ex(&t, &k2, payload, 0, 1480, true, 0, 0, T0, &out), 0); /* a 20-byte header fits */
    CHECK_EQ(t.count, 2);
    CHECK_EQ(t.stats.dropped_invalid, 2);
    /* Views the parser would refuse: past 65515 bytes; a first fragment whose 60-byte header does not fit. */
    sea__frag_free(&t);
    sea__frag_init(&t, NULL);
    CHECK_EQ(feed_view(&t, 65512, 8, false, 20, T0), -EMSGSIZE);
    CHECK_EQ(feed_view(&t, 0, 65480, true, 60, T0), -EMSGSIZE);
    CHECK_EQ(feed_view(&t, 0, 65472, true, 60, T0), 0);
    CHECK_EQ(t.stats.dropped_invalid, 2);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_timeout(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    struct sea__frag_datagram out;
    uint8_t payload[4000];
    fill(payload, sizeof(payload), 8);
    CHECK_EQ(sea__frag_next_expiry(&t), UINT64_MAX);
    /* A hole that is never filled: the first and the last fragments, not the middle. */
    CHECK_EQ(feed(&t, &K, payload, 0, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 2960, 1040, false, T0 + 20 * SEC, &out), 0);
    CHECK_EQ(sea__frag_next_expiry(&t), T0 + 30 * SEC); /* from the first fragment; later ones do not refresh it */
    CHECK_EQ(sea__frag_expire(&t, T0 + 30 * SEC - 1), 0);
    CHECK_EQ(t.count, 1);
    /* Another datagram's fragment expires it, lazily. */
    struct key k2 = K;
    k2.src++;
    CHECK_EQ(feed(&t, &k2, payload, 0, 1480, true, T0 + 30 * SEC, &out), 0);
    CHECK_EQ(t.stats.dropped_timeout, 1);
    CHECK_EQ(t.count, 1);
    /* The missing piece now starts a new datagram, which lacks the others. */
    CHECK_EQ(feed(&t, &K, payload, 1480, 1480, true, T0 + 31 * SEC, &out), 0);
    CHECK_EQ(t.count, 2);
    CHECK_EQ(sea__frag_next_expiry(&t), T0 + 60 * SEC);
    CHECK_EQ(sea__frag_expire(&t, T0 + 60 * SEC), 1);
    CHECK_EQ(sea__frag_expire(&t, T0 + 61 * SEC - 1), 0);
    CHECK_EQ(sea__frag_expire(&t, T0 + 61 * SEC), 1);
    CHECK_EQ(t.stats.dropped_timeout, 3);
    CHECK_EQ(t.count, 0);
    CHECK_EQ(t.bytes, 0);
    CHECK_EQ(sea__frag_next_expiry(&t), UINT64_MAX);
    /* A datagram complete just before its timeout is returned; a configured timeout is honoured. */
    struct sea__frag_config cfg = {.timeout_ns = SEC};
    struct sea__frag t2;
    sea__frag_init(&t2, &cfg);
    CHECK_EQ(feed(&t2, &K, payload, 0, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t2, &K, payload, 1480, 2520, false, T0 + SEC - 1, &out), 1);
    CHECK_EQ(feed(&t2, &K, payload, 0, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t2, &K, payload, 1480, 2520, false, T0 + SEC, &out), 0); /* the first expired: a new one */
    CHECK_EQ(t2.stats.dropped_timeout, 1);
    sea__frag_free(&t2);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_limit_count(void) {
    struct sea__frag_config cfg = {.max_datagrams = 4};
    struct sea__frag t;
    sea__frag_init(&t, &cfg);
    struct sea__frag_datagram out;
    uint8_t payload[3000];
    fill(payload, sizeof(payload), 9);
    struct key k[6];
    for (int i = 1; i <= 5; i++) {
        k[i] = K;
        k[i].id = (uint16_t)i;
        CHECK_EQ(feed(&t, &k[i], payload, 0, 1480, true, T0 + (uint64_t)i, &out), 0);
        CHECK(t.count <= 4);
    }
    /* The fifth made room by dropping the oldest, the first. */
    CHECK_EQ(t.count, 4);
    CHECK_EQ(t.stats.dropped_limit, 1);
    /* The first's last piece starts it again, dropping the (now) oldest, the second. */
    CHECK_EQ(feed(&t, &k[1], payload, 1480, 1520, false, T0 + 10, &out), 0);
    CHECK_EQ(t.stats.dropped_limit, 2);
    for (int i = 3; i <= 5; i++) {
        CHECK_EQ(feed(&t, &k[i], payload, 1480, 1520, false, T0 + 10, &out), 1);
        check_dgram(&out, &k[i], payload, 3000);
    }
    CHECK_EQ(feed(&t, &k[2], payload, 1480, 1520, false, T0 + 10, &out), 0);
    CHECK_EQ(t.count, 2);
    CHECK_EQ(t.stats.reassembled, 3);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_limit_bytes(void) {
    struct sea__frag_config cfg = {.max_bytes = 40000, .max_frags = 8};
    struct sea__frag t;
    sea__frag_init(&t, &cfg);
    struct sea__frag_datagram out;
    static uint8_t payload[48000];
    fill(payload, sizeof(payload), 10);
    struct piece p[8];
    size_t np = split(p, 12000, 1504);
    CHECK_EQ(np, 8);
    /* Datagrams of 12000 bytes, each started by its last fragment (so its buffer is exactly 12000): three fit. */
    struct key k[6];
    for (int i = 0; i < 6; i++) {
        k[i] = K;
        k[i].id = (uint16_t)(100 + i);
        CHECK_EQ(feed(&t, &k[i], payload, p[np - 1].off, p[np - 1].len, false, T0, &out), 0);
        CHECK(t.bytes <= 40000);
    }
    CHECK_EQ(t.count, 3);
    CHECK_EQ(t.stats.dropped_limit, 3);
    for (int i = 3; i < 6; i++) {
        for (size_t j = 0; j + 1 < np; j++) {
            int rc = feed(&t, &k[i], payload, p[j].off, p[j].len, true, T0, &out);
            CHECK_EQ(rc, j + 2 == np ? 1 : 0);
            if (rc == 1)
                check_dgram(&out, &k[i], payload, 12000);
            CHECK(t.bytes <= 40000);
        }
    }
    CHECK_EQ(t.stats.reassembled, 3);
    CHECK_EQ(t.stats.dropped_limit, 3);
    /*
     * Fragments in order grow the buffer by doubling while the room is free,
     * then by what they need, and drop the oldest other datagram only for
     * bytes needed: here for the last fragment of the first of two.
     */
    struct key h = K;
    h.id = 300;
    CHECK_EQ(feed(&t, &h, payload, p[np - 1].off, p[np - 1].len, false, T0, &out), 0);
    struct piece q[8];
    size_t nq = split(q, 30000, 3752);
    CHECK_EQ(nq, 8);
    for (int i = 0; i < 2; i++) {
        k[i].id = (uint16_t)(200 + i);
        for (size_t j = 0; j < nq; j++) {
            int rc = feed(&t, &k[i], payload, q[j].off, q[j].len, q[j].mf, T0, &out);
            CHECK_EQ(rc, j + 1 == nq ? 1 : 0);
            if (rc == 1)
                check_dgram(&out, &k[i], payload, 30000);
            CHECK(t.bytes <= 40000);
            CHECK_EQ(t.stats.dropped_limit, i == 0 && j + 1 < nq ? 3 : 4); /* h stays until the last fragment */
        }
    }
    CHECK_EQ(t.stats.reassembled, 5);
    CHECK_EQ(t.stats.dropped_limit, 4);
    /* One that cannot fit even alone is dropped itself, and drops nothing else. */
    CHECK_EQ(feed(&t, &k[2], payload, 1504, 1504, true, T0, &out), 0);
    size_t held = t.bytes;
    uint64_t limit_drops = t.stats.dropped_limit;
    CHECK_EQ(feed(&t, &K, payload, 40000, 8000, false, T0, &out), -ENOBUFS);
    CHECK_EQ(t.stats.dropped_limit, limit_drops + 1);
    CHECK_EQ(t.count, 1);
    CHECK_EQ(t.bytes, held);
    /* A configured limit smaller than one record refuses every datagram. */
    sea__frag_free(&t);
    cfg.max_bytes = 16;
    sea__frag_init(&t, &cfg);
    CHECK_EQ(feed(&t, &K, payload, 0, 8, true, T0, &out), -ENOBUFS);
    CHECK_EQ(t.bytes, 0);
    CHECK_EQ(t.stats.dropped_limit, 1);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_max_frags(void) {
    struct sea__frag_config cfg = {.max_frags = 4};
    struct sea__frag t;
    sea__frag_init(&t, &cfg);
    uint8_t payload[40];
    fill(payload, sizeof(payload), 11);
    struct piece p[8];
    /* Four pieces (with duplicates, which do not count) complete; a fifth distinct piece drops the datagram. */
    size_t np = split(p, 32, 8);
    struct piece d[6] = {p[0], p[1], p[1], p[2], p[2], p[3]};
    feed_all(&t, &K, payload, 32, d, 6, T0);
    CHECK_EQ(t.stats.reassembled, 1);
    np = split(p, 40, 8);
    struct sea__frag_datagram out;
    for (size_t i = 0; i < np; i++)
        CHECK_EQ(feed(&t, &K, payload, p[i].off, p[i].len, p[i].mf, T0, &out), i < 4 ? 0 : -ENOBUFS);
    CHECK_EQ(t.stats.dropped_limit, 1);
    CHECK_EQ(t.count, 0);
    CHECK_EQ(t.bytes, 0);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_interleaved(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    /* One id, four datagrams: two sources, and beside the first another protocol and another destination. */
    struct key k[4] = {K, K, K, K};
    k[1].src = 0x0a4d0009u;
    k[2].proto = SEA__IP_TCP;
    k[3].dst = 0x0a4d0003u;
    static uint8_t payload[4][6000];
    uint32_t n[4] = {6000, 4000, 5000, 3001};
    struct piece p[4][8];
    size_t np[4];
    for (int i = 0; i < 4; i++) {
        fill(payload[i], n[i], 20 + (uint32_t)i);
        np[i] = split(p[i], n[i], 1480); /* the same offsets in all four: only the key tells them apart */
    }
    struct sea__frag_datagram out;
    int done = 0;
    for (size_t j = 0; j < 5; j++)
        for (int i = 0; i < 4; i++) {
            if (j >= np[i])
                continue;
            int rc = feed(&t, &k[i], payload[i], p[i][j].off, p[i][j].len, p[i][j].mf, T0, &out);
            CHECK_EQ(rc, j + 1 == np[i] ? 1 : 0);
            if (rc == 1) {
                check_dgram(&out, &k[i], payload[i], n[i]);
                done++;
            }
        }
    CHECK_EQ(done, 4);
    CHECK_EQ(drops(&t), 0);
    sea__frag_free(&t);
    return sea_ready();
}

static sea_future t_release(void) {
    struct sea__frag t;
    sea__frag_init(&t, NULL);
    struct sea__frag_datagram out;
    uint8_t payload[3000];
    fill(payload, sizeof(payload), 12);
    CHECK_EQ(feed(&t, &K, payload, 0, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1520, false, T0, &out), 1);
    /* sea__frag_expire leaves the datagram returned alone, even long after. */
    CHECK_EQ(sea__frag_expire(&t, T0 + 100 * SEC), 0);
    check_dgram(&out, &K, payload, 3000);
    CHECK(t.bytes > 3000);
    sea__frag_release(&t);
    CHECK_EQ(t.bytes, 0);
    sea__frag_release(&t); /* twice is nothing */
    /* Freed by sea__frag_free too (LeakSanitizer sees it otherwise), along with datagrams in progress. */
    CHECK_EQ(feed(&t, &K, payload, 0, 1480, true, T0, &out), 0);
    CHECK_EQ(feed(&t, &K, payload, 1480, 1520, false, T0, &out), 1);
    struct key k2 = K;
    k2.id++;
    CHECK_EQ(feed(&t, &k2, payload, 0, 1480, true, T0, &out), 0);
    sea__frag_free(&t);
    CHECK_EQ(t.bytes, 0);
    CHECK_EQ(t.count, 0);
    return sea_ready();
}

/* ---- the fuzz ---- */

/* The bytes of k's "stream": every datagram of k carries its prefix, so fragments of two datagrams with the
   same key (which IPv4 cannot tell apart) never make a datagram that differs from what was sent. */
static uint64_t key_hash(const struct key *k) {
    return ((uint64_t)k->src << 32 ^ k->dst) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)k->proto << 16 | k->id);
}

static uint8_t sbyte(uint64_t kh, uint32_t i) {
    uint64_t h = kh + (i >> 3) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 32;
    return (uint8_t)(h >> ((i & 7) * 8));
}

#define SLOTS 6
#define FUZZ_SEQS 200000

struct seq {
    struct key k;
    bool poison; /* random fragments of random bytes: only the bounds are checked */
    uint32_t n;
    struct piece p[40];
    size_t np, next;
};

static void new_seq(struct seq *s, uint64_t *rng) {
    memset(s, 0, sizeof(*s));
    s->poison = sea_test_rand(rng) % 10 == 0;
    static const uint8_t protos[] = {SEA__IP_UDP, SEA__IP_TCP, SEA__IP_ICMP, 99};
    /* Few keys, so that datagrams share them, in flight together or one after another. */
    s->k = (struct key){0x0a000001u + (uint32_t)(sea_test_rand(rng) % 4), 0x0a000100u + (uint32_t)(sea_test_rand(rng) % 2),
                        protos[sea_test_rand(rng) % 4], (uint16_t)(sea_test_rand(rng) % 8)};
    if (s->poison) {
        s->k.src |= 0xde000000u;
        s->np = 1 + sea_test_rand(rng) % 8;
        for (size_t i = 0; i < s->np; i++) {
            uint32_t off = (uint32_t)(sea_test_rand(rng) % 8 == 0 ? sea_test_rand(rng) % 8192 : sea_test_rand(rng) % 64) * 8;
            uint32_t len = (uint32_t)(sea_test_rand(rng) % 3 == 0 ? sea_test_rand(rng) % 3000 : 8 * (sea_test_rand(rng) % 64));
            if (off > 65512)
                off = 65512;
            if (off + len > 65515)
                len = 65515 - off;
            s->p[i] = (struct piece){off, len, sea_test_rand(rng) % 3 != 0};
        }
        return;
    }
    s->n = sea_test_rand(rng) % 500 == 0 ? 30000 + (uint32_t)(sea_test_rand(rng) % 35516)
                                           : 1 + (uint32_t)(sea_test_rand(rng) % 3000);
    uint32_t parts = 1 + (uint32_t)(sea_test_rand(rng) % 20); /* over max_frags (16) a fifth of the time */
    uint32_t fs = ((s->n + parts - 1) / parts + 7) / 8 * 8;
    s->np = split(s->p, s->n, fs);
    uint64_t r = sea_test_rand(rng) % 100;
    if (r < 40)
        shuffle(s->p, s->np, rng);
    else if (r < 50)
        for (size_t i = 0; i < s->np / 2; i++) {
            struct piece x = s->p[i];
            s->p[i] = s->p[s->np - 1 - i];
            s->p[s->np - 1 - i] = x;
        }
    /* Mutations, each inserted at a random place: a duplicate, an overlapping piece, a hole, a wrong end,
       a misaligned piece.  Their bytes are the stream's too. */
    for (int m = 0; m < 3; m++) {
        uint64_t what = sea_test_rand(rng) % 100;
        struct piece x;
        if (what < 15) {
            x = s->p[sea_test_rand(rng) % s->np];
        } else if (what < 23) {
            uint32_t off = 8 * (uint32_t)(sea_test_rand(rng) % (s->n / 8 + 1)), len = 8 * (1 + (uint32_t)(sea_test_rand(rng) % 16));
            if (off >= s->n)
                continue;
            if (off + len > s->n)
                len = s->n - off;
            x = (struct piece){off, len, off + len < s->n};
        } else if (what < 31) {
            if (s->np > 1) {
                size_t i = sea_test_rand(rng) % s->np;
                s->p[i] = s->p[--s->np];
            }
            continue;
        } else if (what < 35) {
            x = (struct piece){8 * (uint32_t)(sea_test_rand(rng) % (s->n / 8 + 1)), 1 + (uint32_t)(sea_test_rand(rng) % 64), false};
            if (x.off + x.len > 65515)
                continue;
        } else if (what < 38) {
            x = (struct piece){8 * (uint32_t)(sea_test_rand(rng) % (s->n / 8 + 1)), 1 + (uint32_t)(sea_test_rand(rng) % 64), true};
            if (x.off + x.len > 65515)
                continue;
        } else {
            continue;
        }
        size_t at = sea_test_rand(rng) % (s->np + 1);
        memmove(&s->p[at + 1], &s->p[at], (s->np - at) * sizeof(struct piece));
        s->p[at] = x;
        s->np++;
    }
}

static sea_future t_fuzz(void) {
    struct sea__frag_config cfg = {.max_datagrams = 10, .max_bytes = 96 * 1024, .max_frags = 16};
    struct sea__frag t;
    sea__frag_init(&t, &cfg);
    static struct seq slot[SLOTS];
    static uint8_t data[65536];
    uint64_t rng = 5722, now = T0;
    unsigned seqs = 0, calls = 0, ones = 0, refused_alone = 0, conflicts = 0, poison_ones = 0;
    size_t peak = 0;
    for (int i = 0; i < SLOTS; i++) {
        new_seq(&slot[i], &rng);
        seqs++;
    }
    struct sea__frag_datagram out;
    while (seqs < FUZZ_SEQS) {
        struct seq *s = &slot[sea_test_rand(&rng) % SLOTS];
        if (s->next == s->np) {
            new_seq(s, &rng);
            seqs++;
            continue;
        }
        struct piece x = s->p[s->next++];
        uint64_t kh = key_hash(&s->k);
        for (uint32_t i = 0; i < x.len; i++)
            data[i] = s->poison ? (uint8_t)sea_test_rand(&rng) : sbyte(kh, x.off + i);
        now += sea_test_rand(&rng) % (2 * 1000000); /* up to 2 ms between fragments */
        if (sea_test_rand(&rng) % 20000 == 0)
            now += 31 * SEC;
        int rc = feed_ex(&t, &s->k, data, x.off, x.len, x.mf, 0, 0, now, &out);
        calls++;
        CHECK(t.bytes <= cfg.max_bytes);
        CHECK(t.count <= cfg.max_datagrams);
        if (t.bytes > peak)
            peak = t.bytes;
        switch (rc) {
        case 1:
            ones++;
            CHECK(out.ip.src == s->k.src && out.ip.dst == s->k.dst && out.ip.proto == s->k.proto &&
                  out.ip.id == s->k.id);
            CHECK(out.ip.payload_len >= 1 && out.ip.payload_len <= 65515);
            CHECK_EQ(out.ip.total_len, out.ip.header_len + out.ip.payload_len);
            if (s->poison) {
                poison_ones++;
                unsigned sum = 0; /* read every byte: ASan checks the buffer */
                for (size_t i = 0; i < out.ip.payload_len; i++)
                    sum += out.ip.payload[i];
                (void)sum;
            } else {
                bool same = true;
                for (uint32_t i = 0; i < out.ip.payload_len && same; i++)
                    same = out.ip.payload[i] == sbyte(kh, i);
                CHECK(same);
            }
            break;
        case 0: break;
        case -EINVAL:
        case -EMSGSIZE: refused_alone++; break;
        case -EBADMSG: conflicts++; break;
        case -ENOBUFS: break;
        default: CHECK_EQ(rc, 0); break;
        }
    }
    fprintf(stderr, "fuzz: %u sequences, %u fragments, %u datagrams (%u poison), peak %zu bytes; "
            "dropped: %llu overlap, %llu timeout, %llu limit, %llu invalid\n",
            seqs, calls, ones, poison_ones, peak, (unsigned long long)t.stats.dropped_overlap,
            (unsigned long long)t.stats.dropped_timeout, (unsigned long long)t.stats.dropped_limit,
            (unsigned long long)t.stats.dropped_invalid);
    /* The counters agree with what the calls returned, and the fuzz reached every rule, often. */
    CHECK_EQ(t.stats.fragments_in, calls);
    CHECK_EQ(t.stats.reassembled, ones);
    CHECK_EQ(t.stats.dropped_invalid, refused_alone);
    CHECK_EQ(t.stats.dropped_overlap, conflicts);
    CHECK(ones > FUZZ_SEQS / 4);
    CHECK(t.stats.dropped_overlap > 1000 && t.stats.dropped_limit > 1000 && t.stats.dropped_invalid > 1000);
    CHECK(t.stats.dropped_timeout > 100);
    CHECK(peak > cfg.max_bytes / 2);
    /* Everything held goes, and the accounting comes back to zero. */
    sea__frag_release(&t);
    sea__frag_expire(&t, now + 30 * SEC);
    CHECK_EQ(t.count, 0);
    CHECK_EQ(t.bytes, 0);
    sea__frag_free(&t);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_in_order),    SEA_TEST(t_reverse),     SEA_TEST(t_shuffled),    SEA_TEST(t_duplicates),
    SEA_TEST(t_overlaps),    SEA_TEST(t_refused),     SEA_TEST(t_65535),       SEA_TEST(t_timeout),
    SEA_TEST(t_limit_count), SEA_TEST(t_limit_bytes), SEA_TEST(t_max_frags),   SEA_TEST(t_interleaved),
    SEA_TEST(t_release),     SEA_TEST(t_fuzz),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
