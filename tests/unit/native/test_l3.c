/*
 * test_l3.c - the native stack's first protocols (net/native/l3.c) without a
 * device: ARP replies and the bounded cache, ICMP echo replies built in
 * place, and every kind of frame dropped with its counter; then a
 * deterministic fuzz of mutated frames, each in a buffer of exactly its size
 * (ASan sees any write past it), whose replies must parse.
 *
 * The frames are made with wire.h's builders (tested on their own in
 * test_wire.c), and each reply is read back with its parsers, which check
 * every checksum.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "net/native/native.h"
#include "net/native/wire.h"

#define OUR_IP 0x0a4d0002u   /* 10.77.0.2 */
#define PEER_IP 0x0a4d0001u  /* 10.77.0.1 */
#define MASK 0xffffff00u

static const uint8_t our_mac[6] = {0x02, 0x5e, 0xa0, 0x11, 0x22, 0x33};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void init(struct sea__l3 *l3) {
    struct sea__l3_config cfg = {.addr = OUR_IP, .netmask = MASK};
    memcpy(cfg.mac, our_mac, 6);
    sea__l3_init(l3, &cfg);
}

/* An ARP frame: op from sha/spa asking about (or telling) tpa. */
static size_t arp_frame(uint8_t *buf, const uint8_t dst[6], uint16_t op, const uint8_t sha[6], uint32_t spa,
                        uint32_t tpa) {
    struct sea__arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, sha, 6);
    int h = sea__eth_build(buf, 64, dst, sha, SEA__ETH_P_ARP);
    int n = sea__arp_build(buf + h, 64 - (size_t)h, &a);
    return (size_t)h + (size_t)n;
}

/* An echo request (or another ICMP type) from the peer to dst_ip, with options_len bytes of IPv4 options (NOPs). */
static size_t echo_frame(uint8_t *buf, size_t cap, const uint8_t dst_mac[6], uint32_t dst_ip, uint8_t type,
                         size_t data_len, size_t options_len) {
    int h = sea__eth_build(buf, cap, dst_mac, peer_mac, SEA__ETH_P_IPV4);
    size_t ip_at = (size_t)h, icmp_at = ip_at + 20 + options_len;
    uint8_t data[2000];
    for (size_t i = 0; i < data_len; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    int n = sea__icmp_echo_build(buf + icmp_at, cap - icmp_at, type, 0x1c2d, 9, data, data_len);
    struct sea__ipv4_args a = {.ttl = 64, .proto = SEA__IP_ICMP, .id = 0x1234, .df = true, .src = PEER_IP,
                               .dst = dst_ip, .payload_len = (size_t)n + options_len};
    sea__ipv4_build(buf + ip_at, cap - ip_at, &a);
    if (options_len) { /* IHL and the checksum again, with the options in the header */
        memset(buf + ip_at + 20, 1, options_len);
        buf[ip_at] = (uint8_t)(0x40 | ((20 + options_len) / 4));
        buf[ip_at + 10] = buf[ip_at + 11] = 0;
        uint16_t c = sea__csum_finish(sea__csum_partial(buf + ip_at, 20 + options_len));
        buf[ip_at + 10] = (uint8_t)(c >> 8);
        buf[ip_at + 11] = (uint8_t)c;
    }
    return icmp_at + (size_t)n;
}

static sea_future t_arp_reply(void) {
    struct sea__l3 l3;
    init(&l3);
    uint8_t f[64];
    size_t n = arp_frame(f, bcast, SEA__ARP_REQUEST, peer_mac, PEER_IP, OUR_IP);
    size_t r = sea__l3_input(&l3, f, n, sizeof(f));
    CHECK_EQ(r, 42);
    struct sea__eth e;
    struct sea__arp a;
    CHECK_EQ(sea__eth_parse(f, r, &e), 0);
    CHECK(memcmp(e.dst, peer_mac, 6) == 0 && memcmp(e.src, our_mac, 6) == 0 && e.type == SEA__ETH_P_ARP);
    CHECK_EQ(sea__arp_parse(e.payload, e.payload_len, &a), 0);
    CHECK_EQ(a.op, SEA__ARP_REPLY);
    CHECK(memcmp(a.sha, our_mac, 6) == 0 && memcmp(a.tha, peer_mac, 6) == 0);
    CHECK_EQ(a.spa, OUR_IP);
    CHECK_EQ(a.tpa, PEER_IP);
    CHECK_EQ(l3.stats.arp_replies_sent, 1);
    /* The asker was learned. */
    const uint8_t *m = sea__arp_lookup(&l3, PEER_IP);
    CHECK(m && memcmp(m, peer_mac, 6) == 0);

    /* A request for another address: not answered, and its unknown sender not learned. */
    uint8_t other[6] = {0x52, 0x54, 0, 0, 0, 9};
    n = arp_frame(f, bcast, SEA__ARP_REQUEST, other, 0x0a4d0009u, 0x0a4d0005u);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    CHECK(sea__arp_lookup(&l3, 0x0a4d0009u) == NULL);
    CHECK_EQ(l3.stats.drop_not_ours, 1);
    /* ...but a known sender's new address is (RFC 826's merge). */
    n = arp_frame(f, bcast, SEA__ARP_REQUEST, other, PEER_IP, 0x0a4d0005u);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    m = sea__arp_lookup(&l3, PEER_IP);
    CHECK(m && memcmp(m, other, 6) == 0);
    /* A reply to us teaches, sends nothing. */
    n = arp_frame(f, our_mac, SEA__ARP_REPLY, peer_mac, 0x0a4d0007u, OUR_IP);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    m = sea__arp_lookup(&l3, 0x0a4d0007u);
    CHECK(m && memcmp(m, peer_mac, 6) == 0);
    /* Never learned: a sender off our subnet, the subnet's broadcast address, a multicast sender MAC. */
    n = arp_frame(f, bcast, SEA__ARP_REQUEST, peer_mac, 0x0a4e0001u, OUR_IP);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 42);
    CHECK(sea__arp_lookup(&l3, 0x0a4e0001u) == NULL);
    n = arp_frame(f, bcast, SEA__ARP_REQUEST, peer_mac, 0x0a4d00ffu, OUR_IP);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 42);
    CHECK(sea__arp_lookup(&l3, 0x0a4d00ffu) == NULL);
    uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    n = arp_frame(f, bcast, SEA__ARP_REQUEST, mcast, 0x0a4d0008u, OUR_IP);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    CHECK(sea__arp_lookup(&l3, 0x0a4d0008u) == NULL);
    return sea_ready();
}

static sea_future t_arp_cache_bound(void) {
    struct sea__l3 l3;
    init(&l3);
    uint8_t f[64];
    for (unsigned i = 1; i <= 200; i++) {
        uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, (uint8_t)i};
        size_t n = arp_frame(f, bcast, SEA__ARP_REQUEST, mac, 0x0a4d0000u + i, OUR_IP);
        if (i == 2)
            continue; /* .2 is ours */
        CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 42);
        if (i > 2 && i < 150)
            CHECK(sea__arp_lookup(&l3, 0x0a4d0001u) != NULL); /* .1 used all along: never the one evicted */
    }
    unsigned held = 0;
    for (unsigned i = 1; i <= 200; i++)
        held += sea__arp_lookup(&l3, 0x0a4d0000u + i) != NULL;
    CHECK_EQ(held, SEA__ARP_CACHE_MAX);
    CHECK_EQ(l3.stats.arp_evicted, 199 - SEA__ARP_CACHE_MAX);
    CHECK(sea__arp_lookup(&l3, 0x0a4d0001u) != NULL);
    CHECK(sea__arp_lookup(&l3, 0x0a4d00c8u) != NULL); /* the newest */
    CHECK(sea__arp_lookup(&l3, 0x0a4d0003u) == NULL); /* among the oldest */
    return sea_ready();
}

static void check_echo_reply(const uint8_t *f, size_t r, size_t data_len) {
    struct sea__eth e;
    struct sea__ipv4 ip;
    struct sea__icmp ic;
    CHECK_EQ(r, 14 + 20 + 8 + data_len);
    CHECK_EQ(sea__eth_parse(f, r, &e), 0);
    CHECK(memcmp(e.dst, peer_mac, 6) == 0 && memcmp(e.src, our_mac, 6) == 0 && e.type == SEA__ETH_P_IPV4);
    CHECK_EQ(sea__ipv4_parse(e.payload, e.payload_len, &ip), 0); /* its checksum included */
    CHECK_EQ(ip.header_len, 20);
    CHECK(ip.src == OUR_IP && ip.dst == PEER_IP && ip.proto == SEA__IP_ICMP && ip.ttl == 64);
    CHECK_EQ(sea__icmp_parse(ip.payload, ip.payload_len, &ic), 0);
    CHECK(ic.type == SEA__ICMP_ECHO_REPLY && ic.id == 0x1c2d && ic.seq == 9);
    CHECK_EQ(ic.data_len, data_len);
    bool same = true;
    for (size_t i = 0; i < data_len && i < ic.data_len; i++)
        same &= ic.data[i] == (uint8_t)(i * 7 + 1);
    CHECK(same);
}

static sea_future t_echo_reply(void) {
    struct sea__l3 l3;
    init(&l3);
    static uint8_t f[2100];
    size_t lens[] = {0, 1, 56, 57, 1400, 1472};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, lens[k], 0);
        check_echo_reply(f, sea__l3_input(&l3, f, n, n), lens[k]);
    }
    /* With IPv4 options: the reply has a plain 20-byte header and the same message. */
    size_t n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 56, 8);
    check_echo_reply(f, sea__l3_input(&l3, f, n, n), 56);
    /* With Ethernet padding after the datagram. */
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 2, 0);
    memset(f + n, 0, 60 - n);
    check_echo_reply(f, sea__l3_input(&l3, f, 60, 60), 2);
    CHECK_EQ(l3.stats.echo_replies_sent, 8);
    CHECK_EQ(l3.stats.drop_malformed + l3.stats.drop_not_ours + l3.stats.drop_unsupported, 0);
    return sea_ready();
}

static sea_future t_drops(void) {
    struct sea__l3 l3;
    init(&l3);
    uint8_t f[200];
    uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 7};
    /* Another MAC; broadcast IPv4; another address; the subnet's broadcast address as a destination. */
    size_t n = echo_frame(f, sizeof(f), other_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), bcast, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), our_mac, 0x0a4d0003u, SEA__ICMP_ECHO_REQUEST, 8, 0);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), our_mac, 0x0a4d00ffu, SEA__ICMP_ECHO_REQUEST, 8, 0);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    CHECK_EQ(l3.stats.drop_not_ours, 4);
    /* An echo reply (not a request), a fragment, UDP, another EtherType. */
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REPLY, 8, 0);
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    f[14 + 6] |= 0x20; /* MF */
    f[14 + 10] = f[14 + 11] = 0;
    uint16_t c = sea__csum_finish(sea__csum_partial(f + 14, 20));
    f[14 + 10] = (uint8_t)(c >> 8);
    f[14 + 11] = (uint8_t)c;
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    int h = sea__eth_build(f, sizeof(f), our_mac, peer_mac, SEA__ETH_P_IPV4);
    struct sea__ipv4_args a = {.ttl = 64, .proto = SEA__IP_UDP, .src = PEER_IP, .dst = OUR_IP, .payload_len = 8};
    sea__ipv4_build(f + h, sizeof(f) - (size_t)h, &a);
    memset(f + h + 20, 0, 8);
    CHECK_EQ(sea__l3_input(&l3, f, (size_t)h + 28, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    f[12] = 0x86, f[13] = 0xdd; /* IPv6 */
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    CHECK_EQ(l3.stats.drop_unsupported, 4);
    /* A wrong ICMP checksum, a wrong IPv4 checksum, a truncated frame, a runt. */
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    f[n - 1] ^= 1;
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    f[14 + 8] ^= 1; /* the TTL */
    CHECK_EQ(sea__l3_input(&l3, f, n, sizeof(f)), 0);
    n = echo_frame(f, sizeof(f), our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 8, 0);
    CHECK_EQ(sea__l3_input(&l3, f, n - 1, sizeof(f)), 0);
    CHECK_EQ(sea__l3_input(&l3, f, 10, sizeof(f)), 0);
    CHECK_EQ(l3.stats.drop_malformed, 4);
    CHECK_EQ(l3.stats.rx_frames, 12);
    CHECK_EQ(l3.stats.echo_replies_sent + l3.stats.arp_replies_sent, 0);
    return sea_ready();
}

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Mutated frames in buffers of exactly their size: nothing read or written past them, every reply parses. */
static sea_future t_fuzz(void) {
    struct sea__l3 l3;
    init(&l3);
    uint8_t seeds[3][200];
    size_t lens[3];
    lens[0] = arp_frame(seeds[0], bcast, SEA__ARP_REQUEST, peer_mac, PEER_IP, OUR_IP);
    lens[1] = echo_frame(seeds[1], 200, our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 56, 0);
    lens[2] = echo_frame(seeds[2], 200, our_mac, OUR_IP, SEA__ICMP_ECHO_REQUEST, 20, 12);
    uint64_t s = 0x5ea15ea1u;
    unsigned replies = 0, silent = 0;
    for (int iter = 0; iter < 100000; iter++) {
        size_t k = rnd(&s) % 3, n = lens[k];
        uint8_t tmp[200];
        memcpy(tmp, seeds[k], n);
        int edits = 1 + (int)(rnd(&s) % 4);
        for (int e = 0; e < edits; e++) {
            switch (rnd(&s) % 4) {
            case 0: tmp[rnd(&s) % n] ^= (uint8_t)(1u << (rnd(&s) % 8)); break;
            case 1: tmp[rnd(&s) % n] = (uint8_t)rnd(&s); break;
            case 2: n = 1 + rnd(&s) % n; break;
            default: tmp[14 + rnd(&s) % (n > 14 ? n - 14 : 1)] = (uint8_t)rnd(&s); break;
            }
        }
        uint8_t *f = malloc(n);
        memcpy(f, tmp, n);
        size_t r = sea__l3_input(&l3, f, n, n);
        CHECK(r <= n);
        if (r) {
            replies++;
            struct sea__eth e;
            CHECK_EQ(sea__eth_parse(f, r, &e), 0);
            CHECK(memcmp(e.src, our_mac, 6) == 0);
        } else {
            silent++;
        }
        free(f);
    }
    CHECK(replies > 1000 && silent > 1000); /* both answers were reached, often */
    CHECK_EQ(l3.stats.rx_frames, 100000);
    return sea_ready();
}

static sea_future t_random_mac(void) {
    uint8_t a[6], b[6];
    sea__l3_random_mac(a);
    sea__l3_random_mac(b);
    CHECK((a[0] & 0x03) == 0x02 && (b[0] & 0x03) == 0x02); /* unicast, locally administered */
    CHECK(memcmp(a, b, 6) != 0);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_arp_reply), SEA_TEST(t_arp_cache_bound), SEA_TEST(t_echo_reply),
    SEA_TEST(t_drops),     SEA_TEST(t_fuzz),            SEA_TEST(t_random_mac),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
