/*
 * test_wire.c - the native stack's wire formats (net/native/wire.h): the
 * Internet checksum, and the Ethernet, ARP, IPv4, ICMP, UDP and TCP parsers
 * and builders.
 *
 * Known answers from frames laid out as Linux sends them (an ARP request, a
 * ping, a TCP SYN with its options, a DNS query), their checksums computed
 * apart from wire.c (by a Python script when the arrays were written, and
 * again here by a naive byte-at-a-time sum); round trips through the
 * builders; one case per refusal rule; checksum properties; and a
 * deterministic fuzz that feeds mutated frames to every parser, each in a
 * buffer of exactly its size (ASan sees any read past it), and checks that
 * every accepted view lies inside its input.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/native/wire.h"
#include "frame_fuzz.h"

/* The frames (Ethernet II, no FCS).  10.0.0.1 -> 10.0.0.2 (.53 for DNS). */
/* arp_request: 60 bytes; checksums  */
static const uint8_t f_arp_request[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06, 0x00, 0x01,
    0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* icmp_echo: 98 bytes; checksums ip 0x9c67, icmp 0xd801 */
static const uint8_t f_icmp_echo[] = {
    0x02, 0x42, 0x0a, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x54, 0x8a, 0x3f, 0x40, 0x00, 0x40, 0x01, 0x9c, 0x67, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0x08, 0x00, 0xd8, 0x01, 0x1c, 0x2d, 0x00, 0x01, 0xd0, 0xb1, 0x32, 0x69, 0x00, 0x00,
    0x00, 0x00, 0x40, 0xe2, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
    0x36, 0x37,
};
/* tcp_syn: 74 bytes; checksums ip 0xea9f, tcp 0x6970 */
static const uint8_t f_tcp_syn[] = {
    0x02, 0x42, 0x0a, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x3c, 0x3c, 0x1a, 0x40, 0x00, 0x40, 0x06, 0xea, 0x9f, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0xa2, 0xb4, 0x00, 0x50, 0x5c, 0x3e, 0x9a, 0x01, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xfa, 0xf0, 0x69, 0x70, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x0a, 0x1b,
    0x2c, 0x3d, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
/* udp_dns: 71 bytes; checksums ip 0xee9d, udp 0x2cee */
static const uint8_t f_udp_dns[] = {
    0x02, 0x42, 0x0a, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x39, 0x77, 0xe1, 0x00, 0x00, 0x40, 0x11, 0xee, 0x9d, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x35, 0xd4, 0xb2, 0x00, 0x35, 0x00, 0x25, 0x2c, 0xee, 0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
};

#define A_10_0_0_1 0x0a000001u
#define A_10_0_0_2 0x0a000002u
#define A_10_0_0_53 0x0a000035u

/* ---- helpers ---- */

static bool inside(const uint8_t *base, size_t n, const uint8_t *p, size_t len) {
    return p >= base && p <= base + n && len <= (size_t)(base + n - p);
}

/* ---- the checksum ---- */

static sea_future t_csum_known(void) {
    /* RFC 1071 §3's example: the sum of these 8 bytes is ddf2. */
    static const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ(sea__csum_partial(rfc, sizeof(rfc)), 0xddf2);
    CHECK_EQ(sea__csum_partial(rfc, 0), 0);
    CHECK_EQ(sea__csum_partial(rfc, 1), 0x0000);
    CHECK_EQ(sea__csum_partial(rfc + 2, 1), 0xf200); /* an odd last byte is a word's high half */
    CHECK_EQ(sea__csum_finish(0xddf2), 0x220d);
    /* 10.0.0.1, 10.0.0.2, TCP, 40: 0a00+0001+0a00+0002+0006+0028. */
    CHECK_EQ(sea__csum_pseudo4(A_10_0_0_1, A_10_0_0_2, SEA__IP_TCP, 40), 0x1431);
    /* End-around carries: ffff + 0001 is 0001, not 0000. */
    static const uint8_t carry[] = {0xff, 0xff, 0x00, 0x01};
    CHECK_EQ(sea__csum_partial(carry, 4), 0x0001);
    /* The frames' headers, with their checksums in place, sum to ffff; and the stored checksums are the known ones. */
    CHECK_EQ(sea__csum_partial(f_icmp_echo + 14, 20), 0xffff);
    CHECK_EQ(be16(f_icmp_echo + 24), 0x9c67);
    CHECK_EQ(sea__csum_partial(f_icmp_echo + 34, 64), 0xffff);
    CHECK_EQ(naive_sum(f_icmp_echo + 34, 64), 0xffff);
    CHECK_EQ(sea__csum_partial(f_tcp_syn + 14, 20), 0xffff);
    CHECK_EQ(naive_l4(A_10_0_0_1, A_10_0_0_2, SEA__IP_TCP, f_tcp_syn + 34, 40), 0xffff);
    CHECK_EQ(naive_l4(A_10_0_0_1, A_10_0_0_53, SEA__IP_UDP, f_udp_dns + 34, 37), 0xffff);
    CHECK_EQ(sea__csum_combine(sea__csum_pseudo4(A_10_0_0_1, A_10_0_0_53, SEA__IP_UDP, 37),
                               sea__csum_partial(f_udp_dns + 34, 37), 0),
             0xffff);
    return sea_ready();
}

static sea_future t_csum_split(void) {
    uint64_t rng = 1071;
    uint8_t buf[301];
    for (int round = 0; round < 40; round++) {
        size_t n = round < 8 ? (size_t)round : sea_test_rand(&rng) % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = round % 5 == 0 ? 0xff : (uint8_t)sea_test_rand(&rng);
        uint32_t whole = sea__csum_partial(buf, n);
        CHECK_EQ(whole, naive_sum(buf, n));
        for (size_t k = 0; k <= n; k++) {
            uint32_t s = sea__csum_combine(sea__csum_partial(buf, k), sea__csum_partial(buf + k, n - k), k);
            if (s != whole) {
                CHECK_EQ(s, whole);
                break;
            }
        }
        /* Three pieces, each boundary at any parity. */
        if (n >= 2) {
            size_t a = sea_test_rand(&rng) % n, b = a + sea_test_rand(&rng) % (n - a);
            uint32_t s = sea__csum_combine(sea__csum_partial(buf, a), sea__csum_partial(buf + a, b - a), a);
            s = sea__csum_combine(s, sea__csum_partial(buf + b, n - b), b);
            CHECK_EQ(s, whole);
        }
        /* A message with its checksum appended (at an even offset) sums to ffff, unless it is all zero. */
        if (n % 2 == 0 && n + 2 <= sizeof(buf) && whole != 0) {
            set16(buf + n, sea__csum_finish(whole));
            CHECK_EQ(sea__csum_partial(buf, n + 2), 0xffff);
        }
    }
    return sea_ready();
}

/* ---- known frames ---- */

static sea_future t_arp_known(void) {
    struct sea__eth e;
    CHECK_EQ(sea__eth_parse(f_arp_request, sizeof(f_arp_request), &e), 0);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac1[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    CHECK(memcmp(e.dst, bcast, 6) == 0 && memcmp(e.src, mac1, 6) == 0);
    CHECK_EQ(e.type, SEA__ETH_P_ARP);
    CHECK(e.payload == f_arp_request + 14);
    CHECK_EQ(e.payload_len, 46); /* the 18 bytes of padding are the ARP layer's to ignore */
    struct sea__arp a;
    CHECK_EQ(sea__arp_parse(e.payload, e.payload_len, &a), 0);
    CHECK_EQ(a.op, SEA__ARP_REQUEST);
    CHECK(memcmp(a.sha, mac1, 6) == 0);
    CHECK_EQ(a.spa, A_10_0_0_1);
    CHECK_EQ(a.tpa, A_10_0_0_2);
    static const uint8_t zero[6];
    CHECK(memcmp(a.tha, zero, 6) == 0);

    /* The reply 10.0.0.2 sends: built, compared byte by byte with the request's fields swapped. */
    static const uint8_t mac2[6] = {0x02, 0x42, 0x0a, 0, 0, 2};
    uint8_t out[42];
    CHECK_EQ(sea__eth_build(out, sizeof(out), a.sha, mac2, SEA__ETH_P_ARP), 14);
    struct sea__arp r = {.op = SEA__ARP_REPLY, .spa = a.tpa, .tpa = a.spa};
    memcpy(r.sha, mac2, 6);
    memcpy(r.tha, a.sha, 6);
    CHECK_EQ(sea__arp_build(out + 14, sizeof(out) - 14, &r), 28);
    static const uint8_t want[42] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x42, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x06,
                                     0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x42, 0x0a, 0x00, 0x00, 0x02,
                                     0x0a, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x01};
    CHECK(memcmp(out, want, 42) == 0);
    /* And a request built from scratch is the captured one's first 42 bytes. */
    uint8_t req[42];
    struct sea__arp q = {.op = SEA__ARP_REQUEST, .spa = A_10_0_0_1, .tpa = A_10_0_0_2};
    memcpy(q.sha, mac1, 6);
    CHECK_EQ(sea__eth_build(req, sizeof(req), bcast, mac1, SEA__ETH_P_ARP), 14);
    CHECK_EQ(sea__arp_build(req + 14, 28, &q), 28);
    CHECK(memcmp(req, f_arp_request, 42) == 0);
    return sea_ready();
}

static sea_future t_icmp_known(void) {
    uint8_t *f = exact(f_icmp_echo, sizeof(f_icmp_echo));
    struct sea__eth e;
    struct sea__ipv4 ip;
    struct sea__icmp ic;
    CHECK_EQ(sea__eth_parse(f, sizeof(f_icmp_echo), &e), 0);
    CHECK_EQ(e.type, SEA__ETH_P_IPV4);
    CHECK_EQ(sea__ipv4_parse(e.payload, e.payload_len, &ip), 0);
    CHECK_EQ(ip.header_len, 20);
    CHECK_EQ(ip.total_len, 84);
    CHECK_EQ(ip.id, 0x8a3f);
    CHECK(ip.df && !ip.mf);
    CHECK_EQ(ip.frag_offset, 0);
    CHECK_EQ(ip.ttl, 64);
    CHECK_EQ(ip.proto, SEA__IP_ICMP);
    CHECK_EQ(ip.src, A_10_0_0_1);
    CHECK_EQ(ip.dst, A_10_0_0_2);
    CHECK_EQ(ip.options_len, 0);
    CHECK_EQ(ip.payload_len, 64);
    CHECK_EQ(sea__icmp_parse(ip.payload, ip.payload_len, &ic), 0);
    CHECK_EQ(ic.type, SEA__ICMP_ECHO_REQUEST);
    CHECK_EQ(ic.code, 0);
    CHECK_EQ(ic.id, 0x1c2d);
    CHECK_EQ(ic.seq, 1);
    CHECK_EQ(ic.data_len, 56);
    CHECK(ic.data == f + 42);
    /* The reply, built over the request in place: type 0, same data, and its checksum the request's plus 0x0800. */
    uint8_t *icmp = (uint8_t *)ip.payload;
    CHECK_EQ(sea__icmp_echo_reply_build(icmp, 64, &ic), 64);
    CHECK_EQ(icmp[0], 0);
    CHECK_EQ(be16(icmp + 2), 0xe001);
    CHECK_EQ(naive_sum(icmp, 64), 0xffff);
    CHECK(memcmp(icmp + 4, f_icmp_echo + 38, 60) == 0);
    struct sea__icmp rep;
    CHECK_EQ(sea__icmp_parse(icmp, 64, &rep), 0);
    CHECK_EQ(rep.type, SEA__ICMP_ECHO_REPLY);
    CHECK(rep.id == 0x1c2d && rep.seq == 1 && rep.data_len == 56);
    /* Into another buffer too, and refused where it does not fit. */
    uint8_t other[64];
    CHECK_EQ(sea__icmp_echo_reply_build(other, sizeof(other), &ic), 64);
    CHECK(memcmp(other, icmp, 64) == 0);
    CHECK_EQ(sea__icmp_echo_reply_build(other, 63, &ic), -ENOSPC);
    CHECK_EQ(sea__icmp_echo_reply_build(other, sizeof(other), &rep), -EINVAL); /* a reply is not answered */
    free(f);
    return sea_ready();
}

static sea_future t_tcp_syn_known(void) {
    struct sea__eth e;
    struct sea__ipv4 ip;
    struct sea__tcp t;
    CHECK_EQ(sea__eth_parse(f_tcp_syn, sizeof(f_tcp_syn), &e), 0);
    CHECK_EQ(sea__ipv4_parse(e.payload, e.payload_len, &ip), 0);
    CHECK_EQ(ip.proto, SEA__IP_TCP);
    CHECK_EQ(ip.id, 0x3c1a);
    CHECK_EQ(sea__tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t), 0);
    CHECK_EQ(t.sport, 41652);
    CHECK_EQ(t.dport, 80);
    CHECK_EQ(t.seq, 0x5c3e9a01);
    CHECK_EQ(t.ack, 0);
    CHECK_EQ(t.flags, SEA__TCP_SYN);
    CHECK_EQ(t.window, 64240);
    CHECK_EQ(t.urgent, 0);
    CHECK_EQ(t.header_len, 40);
    CHECK_EQ(t.options_len, 20);
    CHECK_EQ(t.payload_len, 0);
    struct sea__tcp_opts o;
    CHECK_EQ(sea__tcp_options_parse(t.options, t.options_len, &o), 0);
    CHECK(o.has_mss && o.mss == 1460);
    CHECK(o.sack_ok);
    CHECK(o.has_ts && o.ts_val == 0x0a1b2c3d && o.ts_ecr == 0);
    CHECK(o.has_wscale && o.wscale == 7);
    CHECK_EQ(o.nsack, 0);
    /* The same SYN built from its fields is the same 40 bytes, checksum included. */
    uint8_t seg[40];
    struct sea__tcp_args a = {.sport = 41652, .dport = 80, .seq = 0x5c3e9a01, .flags = SEA__TCP_SYN, .window = 64240,
                              .opts = &o, .src = A_10_0_0_1, .dst = A_10_0_0_2};
    CHECK_EQ(sea__tcp_build(seg, sizeof(seg), &a, NULL, 0), 40);
    CHECK(memcmp(seg, f_tcp_syn + 34, 40) == 0);
    CHECK_EQ(be16(seg + 16), 0x6970);
    CHECK_EQ(sea__tcp_build(seg, 39, &a, NULL, 0), -ENOSPC);
    /* Its IPv4 header too. */
    uint8_t iph[20];
    struct sea__ipv4_args ia = {.ttl = 64, .proto = SEA__IP_TCP, .id = 0x3c1a, .df = true,
                                .src = A_10_0_0_1, .dst = A_10_0_0_2, .payload_len = 40};
    CHECK_EQ(sea__ipv4_build(iph, sizeof(iph), &ia), 20);
    CHECK(memcmp(iph, f_tcp_syn + 14, 20) == 0);
    CHECK_EQ(sea__ipv4_build(iph, 19, &ia), -ENOSPC);
    return sea_ready();
}

static sea_future t_udp_dns_known(void) {
    struct sea__eth e;
    struct sea__ipv4 ip;
    struct sea__udp u;
    CHECK_EQ(sea__eth_parse(f_udp_dns, sizeof(f_udp_dns), &e), 0);
    CHECK_EQ(sea__ipv4_parse(e.payload, e.payload_len, &ip), 0);
    CHECK(!ip.df && !ip.mf);
    CHECK_EQ(ip.proto, SEA__IP_UDP);
    CHECK_EQ(ip.dst, A_10_0_0_53);
    CHECK_EQ(sea__udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u), 0);
    CHECK_EQ(u.sport, 54450);
    CHECK_EQ(u.dport, 53);
    CHECK_EQ(u.len, 37);
    CHECK(u.has_csum);
    CHECK_EQ(u.payload_len, 29);
    CHECK(u.payload == f_udp_dns + 42);
    CHECK_EQ(be16(u.payload), 0x1a2b); /* the DNS id */
    /* Built again, with the payload where it lies (an odd 29 bytes): the same header, checksum 2cee. */
    uint8_t h[8];
    CHECK_EQ(sea__udp_build(h, sizeof(h), 54450, 53, A_10_0_0_1, A_10_0_0_53, u.payload, u.payload_len), 8);
    CHECK(memcmp(h, f_udp_dns + 34, 8) == 0);
    CHECK_EQ(be16(h + 6), 0x2cee);
    CHECK_EQ(sea__udp_build(h, 7, 54450, 53, A_10_0_0_1, A_10_0_0_53, u.payload, u.payload_len), -ENOSPC);
    return sea_ready();
}

/* ---- round trips ---- */

static sea_future t_round_trips(void) {
    uint64_t rng = 19;
    static const uint8_t m1[6] = {2, 0, 0, 0, 0, 1}, m2[6] = {2, 0, 0, 0, 0, 2};
    for (int round = 0; round < 200; round++) {
        uint8_t frame[1600];
        size_t plen = sea_test_rand(&rng) % 1000 + (size_t)(round % 2); /* odd and even lengths */
        bool tcp = round % 3 != 0;
        struct sea__tcp_opts o = {0};
        if (tcp) {
            o.has_mss = round & 4;
            o.mss = (uint16_t)sea_test_rand(&rng);
            o.sack_ok = round & 8;
            o.has_ts = round & 16;
            o.ts_val = (uint32_t)sea_test_rand(&rng);
            o.ts_ecr = (uint32_t)sea_test_rand(&rng);
            o.has_wscale = round & 32;
            o.wscale = (uint8_t)(sea_test_rand(&rng) % 15);
            /* As many SACK blocks as fit after the others (with timestamps: 3). */
            o.nsack = (uint8_t)(o.has_mss || o.sack_ok || o.has_wscale ? 0 : sea_test_rand(&rng) % (o.has_ts ? 4 : 5));
            for (int k = 0; k < o.nsack; k++) {
                o.sack[k].left = (uint32_t)sea_test_rand(&rng);
                o.sack[k].right = (uint32_t)sea_test_rand(&rng);
            }
        }
        uint32_t src = (uint32_t)sea_test_rand(&rng), dst = (uint32_t)sea_test_rand(&rng);
        CHECK_EQ(sea__eth_build(frame, sizeof(frame), m1, m2, SEA__ETH_P_IPV4), 14);
        /* The payload first, then the headers around it, as a stack sends. */
        int l4 = 0;
        uint8_t hdr[60];
        uint8_t payload[1024];
        for (size_t i = 0; i < plen; i++)
            payload[i] = (uint8_t)sea_test_rand(&rng);
        struct sea__tcp_args ta = {.sport = (uint16_t)sea_test_rand(&rng), .dport = (uint16_t)sea_test_rand(&rng),
                                   .seq = (uint32_t)sea_test_rand(&rng), .ack = (uint32_t)sea_test_rand(&rng),
                                   .flags = (uint8_t)sea_test_rand(&rng), .window = (uint16_t)sea_test_rand(&rng),
                                   .urgent = (uint16_t)sea_test_rand(&rng), .opts = &o, .src = src, .dst = dst};
        if (tcp)
            l4 = sea__tcp_build(hdr, sizeof(hdr), &ta, payload, plen);
        else
            l4 = sea__udp_build(hdr, sizeof(hdr), ta.sport, ta.dport, src, dst, payload, plen);
        CHECK(l4 >= 8);
        if (l4 < 8)
            continue;
        struct sea__ipv4_args ia = {.tos = (uint8_t)round, .ttl = 64, .proto = tcp ? SEA__IP_TCP : SEA__IP_UDP,
                                    .id = (uint16_t)round, .mf = round & 1, .frag_offset = (uint16_t)(round * 8),
                                    .src = src, .dst = dst, .payload_len = (size_t)l4 + plen};
        CHECK_EQ(sea__ipv4_build(frame + 14, 20, &ia), 20);
        memcpy(frame + 34, hdr, (size_t)l4);
        memcpy(frame + 34 + l4, payload, plen);
        size_t n = 34 + (size_t)l4 + plen;

        struct sea__eth e;
        struct sea__ipv4 ip;
        CHECK_EQ(sea__eth_parse(frame, n, &e), 0);
        CHECK(memcmp(e.dst, m1, 6) == 0 && memcmp(e.src, m2, 6) == 0);
        CHECK_EQ(sea__ipv4_parse(e.payload, e.payload_len, &ip), 0);
        CHECK(ip.tos == (uint8_t)round && ip.id == (uint16_t)round && ip.mf == (round & 1) && !ip.df);
        CHECK_EQ(ip.frag_offset, round * 8);
        CHECK(ip.src == src && ip.dst == dst);
        CHECK_EQ(ip.payload_len, (size_t)l4 + plen);
        if (tcp) {
            struct sea__tcp t;
            struct sea__tcp_opts got;
            CHECK_EQ(naive_l4(src, dst, SEA__IP_TCP, ip.payload, ip.payload_len), 0xffff);
            CHECK_EQ(sea__tcp_parse(ip.payload, ip.payload_len, src, dst, &t), 0);
            CHECK(t.sport == ta.sport && t.dport == ta.dport && t.seq == ta.seq && t.ack == ta.ack);
            CHECK(t.flags == ta.flags && t.window == ta.window && t.urgent == ta.urgent);
            CHECK_EQ(t.header_len, l4);
            CHECK_EQ(t.header_len % 4, 0);
            CHECK_EQ(t.payload_len, plen);
            CHECK(memcmp(t.payload, payload, plen) == 0);
            CHECK_EQ(sea__tcp_options_parse(t.options, t.options_len, &got), 0);
            CHECK(got.has_mss == o.has_mss && (!o.has_mss || got.mss == o.mss));
            CHECK(got.sack_ok == o.sack_ok);
            CHECK(got.has_ts == o.has_ts && (!o.has_ts || (got.ts_val == o.ts_val && got.ts_ecr == o.ts_ecr)));
            CHECK(got.has_wscale == o.has_wscale && (!o.has_wscale || got.wscale == o.wscale));
            CHECK_EQ(got.nsack, o.nsack);
            for (int k = 0; k < o.nsack && k < got.nsack; k++)
                CHECK(got.sack[k].left == o.sack[k].left && got.sack[k].right == o.sack[k].right);
        } else {
            struct sea__udp u;
            CHECK_EQ(naive_l4(src, dst, SEA__IP_UDP, ip.payload, ip.payload_len), 0xffff);
            CHECK_EQ(sea__udp_parse(ip.payload, ip.payload_len, src, dst, &u), 0);
            CHECK(u.sport == ta.sport && u.dport == ta.dport && u.has_csum);
            CHECK_EQ(u.payload_len, plen);
            CHECK(memcmp(u.payload, payload, plen) == 0);
        }
    }
    /* ICMP echo requests of every small length, built and parsed. */
    for (size_t n = 0; n < 70; n++) {
        uint8_t data[70], msg[78];
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)(n * 7 + i);
        CHECK_EQ(sea__icmp_echo_build(msg, sizeof(msg), SEA__ICMP_ECHO_REQUEST, 0xbeef, (uint16_t)n, data, n), 8 + (int)n);
        CHECK_EQ(naive_sum(msg, 8 + n), 0xffff);
        struct sea__icmp ic;
        CHECK_EQ(sea__icmp_parse(msg, 8 + n, &ic), 0);
        CHECK(ic.id == 0xbeef && ic.seq == n && ic.data_len == n && memcmp(ic.data, data, n) == 0);
    }
    return sea_ready();
}

/* ---- refusals: one case per rule ---- */

static sea_future t_eth_refusals(void) {
    uint8_t f[60];
    struct sea__eth e;
    memcpy(f, f_arp_request, 60);
    CHECK_EQ(sea__eth_parse(f, 13, &e), -EMSGSIZE);
    CHECK_EQ(sea__eth_parse(f, 14, &e), 0); /* a header alone is a frame with nothing in it */
    CHECK_EQ(e.payload_len, 0);
    set16(f + 12, 0x8100); /* 802.1Q: refused, not skipped */
    CHECK_EQ(sea__eth_parse(f, 60, &e), -EPROTONOSUPPORT);
    set16(f + 12, 0x88a8); /* 802.1ad */
    CHECK_EQ(sea__eth_parse(f, 60, &e), -EPROTONOSUPPORT);
    set16(f + 12, 0x05ff); /* an 802.3 length, not a type */
    CHECK_EQ(sea__eth_parse(f, 60, &e), -EPROTONOSUPPORT);
    set16(f + 12, 0x0600); /* the first EtherType */
    CHECK_EQ(sea__eth_parse(f, 60, &e), 0);
    CHECK_EQ(sea__eth_build(f, 13, f, f, 0x0800), -ENOSPC);
    return sea_ready();
}

static sea_future t_arp_refusals(void) {
    uint8_t a[28];
    struct sea__arp v;
#define ARP_EDIT(stmt, want) \
    do { \
        memcpy(a, f_arp_request + 14, 28); \
        stmt; \
        CHECK_EQ(sea__arp_parse(a, 28, &v), want); \
    } while (0)
    ARP_EDIT((void)0, 0);
    CHECK_EQ(sea__arp_parse(a, 27, &v), -EMSGSIZE);
    ARP_EDIT(set16(a, 6), -EPROTONOSUPPORT);       /* htype IEEE 802 */
    ARP_EDIT(set16(a + 2, 0x86dd), -EPROTONOSUPPORT); /* ptype IPv6 */
    ARP_EDIT(a[4] = 8, -EINVAL);                   /* hlen */
    ARP_EDIT(a[5] = 16, -EINVAL);                  /* plen */
    ARP_EDIT(set16(a + 6, 0), -EINVAL);            /* op */
    ARP_EDIT(set16(a + 6, 3), -EINVAL);            /* RARP request */
    ARP_EDIT(set16(a + 6, 2), 0);
#undef ARP_EDIT
    struct sea__arp r = {.op = 3};
    CHECK_EQ(sea__arp_build(a, 28, &r), -EINVAL);
    r.op = SEA__ARP_REPLY;
    CHECK_EQ(sea__arp_build(a, 27, &r), -ENOSPC);
    return sea_ready();
}

static sea_future t_ipv4_refusals(void) {
    uint8_t p[84 + 8];
    struct sea__ipv4 v;
#define IP_EDIT(stmt, n, want) \
    do { \
        memcpy(p, f_icmp_echo + 14, 84); \
        stmt; \
        ip_fix(p); \
        CHECK_EQ(sea__ipv4_parse(p, n, &v), want); \
    } while (0)
    IP_EDIT((void)0, 84, 0);
    IP_EDIT((void)0, 19, -EMSGSIZE);                /* shorter than a header */
    IP_EDIT(p[0] = 0x65, 84, -EPROTONOSUPPORT);     /* version 6 */
    IP_EDIT(p[0] = 0x44, 84, -EINVAL);              /* IHL 4 */
    IP_EDIT(p[0] = 0x40, 84, -EINVAL);              /* IHL 0 */
    IP_EDIT(p[0] = 0x4f, 40, -EMSGSIZE);            /* IHL 15: 60 bytes, past the 40 given */
    IP_EDIT(set16(p + 2, 19), 84, -EINVAL);         /* total length below the header */
    IP_EDIT(set16(p + 2, 85), 84, -EMSGSIZE);       /* total length past the bytes */
    IP_EDIT(p[6] |= 0x80, 84, -EINVAL);             /* the reserved flag */
    IP_EDIT(set16(p + 6, 0x1fff), 84, -EMSGSIZE);   /* a fragment ending past 65535 bytes */
    IP_EDIT(set16(p + 6, 0x2000 | 8181), 84, 0);    /* one that ends within: 20 + 65448 + 64 <= 65535 */
    CHECK(v.mf && v.frag_offset == 65448);
    memcpy(p, f_icmp_echo + 14, 84);
    p[11] ^= 1; /* the header checksum */
    CHECK_EQ(sea__ipv4_parse(p, 84, &v), -EPROTO);
    /* Ethernet padding after the datagram is not payload. */
    memcpy(p, f_icmp_echo + 14, 84);
    memset(p + 84, 0xaa, 8);
    CHECK_EQ(sea__ipv4_parse(p, 92, &v), 0);
    CHECK_EQ(v.payload_len, 64);
    /* Options are skipped, and exposed: IHL 6 with a Router Alert (94 04 00 00). */
    uint8_t o[88];
    memcpy(o, f_icmp_echo + 14, 20);
    static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
    memcpy(o + 20, ra, 4);
    memcpy(o + 24, f_icmp_echo + 34, 64);
    o[0] = 0x46;
    set16(o + 2, 88);
    ip_fix(o);
    CHECK_EQ(sea__ipv4_parse(o, 88, &v), 0);
    CHECK_EQ(v.header_len, 24);
    CHECK(v.options == o + 20 && v.options_len == 4);
    CHECK(v.payload == o + 24 && v.payload_len == 64);
    /* The builder's own limits. */
    struct sea__ipv4_args ia = {.payload_len = 65516};
    CHECK_EQ(sea__ipv4_build(p, 20, &ia), -EMSGSIZE);
    ia.payload_len = 65515;
    CHECK_EQ(sea__ipv4_build(p, 20, &ia), 20);
    ia.frag_offset = 12;
    CHECK_EQ(sea__ipv4_build(p, 20, &ia), -EINVAL);
#undef IP_EDIT
    return sea_ready();
}

static sea_future t_icmp_refusals(void) {
    uint8_t m[64];
    struct sea__icmp v;
    memcpy(m, f_icmp_echo + 34, 64);
    CHECK_EQ(sea__icmp_parse(m, 7, &v), -EMSGSIZE);
    m[63] ^= 0x40; /* the checksum covers the data */
    CHECK_EQ(sea__icmp_parse(m, 64, &v), -EPROTO);
    memcpy(m, f_icmp_echo + 34, 64);
    CHECK_EQ(sea__icmp_parse(m, 63, &v), -EPROTO); /* a truncated message fails its checksum */
    m[1] = 1;                                       /* echo with code 1 */
    set16(m + 2, 0);
    set16(m + 2, (uint16_t)~naive_sum(m, 64));
    CHECK_EQ(sea__icmp_parse(m, 64, &v), -EINVAL);
    m[0] = 3; /* destination unreachable, code 1: parsed, not answered */
    set16(m + 2, 0);
    set16(m + 2, (uint16_t)~naive_sum(m, 64));
    CHECK_EQ(sea__icmp_parse(m, 64, &v), 0);
    CHECK(v.type == 3 && v.code == 1);
    CHECK_EQ(sea__icmp_echo_reply_build(m, 64, &v), -EINVAL);
    /* No IPv4 datagram carries more than 65515 bytes of ICMP. */
    uint8_t *big = calloc(65516, 1);
    CHECK_EQ(sea__icmp_parse(big, 65516, &v), -EMSGSIZE);
    CHECK_EQ(sea__icmp_echo_build(big, 65516, SEA__ICMP_ECHO_REQUEST, 1, 1, big + 8, 65508), -EMSGSIZE);
    CHECK_EQ(sea__icmp_echo_build(big, 65516, SEA__ICMP_ECHO_REQUEST, 1, 1, big + 8, 65507), 65515);
    CHECK_EQ(sea__icmp_echo_build(big, 65516, 13, 1, 1, big + 8, 0), -EINVAL); /* not an echo type */
    free(big);
    return sea_ready();
}

/* An ICMP error about a TCP segment, built as sea sends one and read back as sea reads a router's. */
static sea_future t_icmp_errors(void) {
    const uint8_t *orig = f_tcp_syn + 14;
    size_t olen = sizeof(f_tcp_syn) - 14;
    uint8_t m[8 + 60 + 8];
    int n = sea__icmp_error_build(m, sizeof(m), SEA__ICMP_DEST_UNREACH, SEA__ICMP_FRAG_NEEDED, 1280, orig, olen);
    CHECK_EQ(n, 8 + 20 + 8); /* the header and 8 bytes of TCP: RFC 792's quote */
    struct sea__icmp ic;
    CHECK_EQ(sea__icmp_parse(m, (size_t)n, &ic), 0);
    CHECK(ic.type == 3 && ic.code == 4 && ic.seq == 1280); /* (the next-hop MTU is the header's last 16 bits) */
    CHECK(sea__icmp_is_error(ic.type) && !sea__icmp_is_error(SEA__ICMP_ECHO_REQUEST));
    struct sea__icmp_quote q;
    CHECK_EQ(sea__icmp_quote_parse(&ic, &q), 0);
    struct sea__ipv4 ip;
    struct sea__tcp t;
    CHECK_EQ(sea__ipv4_parse(orig, olen, &ip), 0);
    CHECK_EQ(sea__tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t), 0);
    CHECK(q.src == ip.src && q.dst == ip.dst && q.proto == SEA__IP_TCP);
    CHECK(q.sport == t.sport && q.dport == t.dport && q.seq == t.seq);
    /* Refusals: no whole header to quote, no room, a quote too short or with a header past its end. */
    CHECK_EQ(sea__icmp_error_build(m, sizeof(m), 3, 3, 0, orig, 19), -EINVAL);
    CHECK_EQ(sea__icmp_error_build(m, 30, 3, 3, 0, orig, olen), -ENOSPC);
    struct sea__icmp cut = ic;
    cut.data_len = 27;
    CHECK_EQ(sea__icmp_quote_parse(&cut, &q), -EMSGSIZE);
    uint8_t bad[28];
    memcpy(bad, ic.data, 28);
    bad[0] = 0x46; /* IHL 6: 24 bytes, and only 4 after them */
    cut.data = bad;
    cut.data_len = 28;
    CHECK_EQ(sea__icmp_quote_parse(&cut, &q), -EMSGSIZE);
    bad[0] = 0x4f; /* IHL 15: past the quote */
    CHECK_EQ(sea__icmp_quote_parse(&cut, &q), -EINVAL);
    bad[0] = 0x65; /* version 6 */
    CHECK_EQ(sea__icmp_quote_parse(&cut, &q), -EINVAL);
    return sea_ready();
}

static sea_future t_udp_refusals(void) {
    uint8_t s[37 + 5];
    struct sea__udp v;
    const uint32_t a = A_10_0_0_1, b = A_10_0_0_53;
    memcpy(s, f_udp_dns + 34, 37);
    CHECK_EQ(sea__udp_parse(s, 7, a, b, &v), -EMSGSIZE);
    CHECK_EQ(sea__udp_parse(s, 36, a, b, &v), -EMSGSIZE); /* length field past the bytes */
    CHECK_EQ(sea__udp_parse(s, 37, a, A_10_0_0_2, &v), -EPROTO); /* the pseudo-header's address */
    s[20] ^= 1;
    CHECK_EQ(sea__udp_parse(s, 37, a, b, &v), -EPROTO);
    memcpy(s, f_udp_dns + 34, 37);
    set16(s + 4, 7);
    l4_fix(s, 37, SEA__IP_UDP, a, b);
    CHECK_EQ(sea__udp_parse(s, 37, a, b, &v), -EINVAL); /* length below the header */
    /* A zero checksum is "none" over IPv4: accepted, and said. */
    memcpy(s, f_udp_dns + 34, 37);
    set16(s + 6, 0);
    s[20] ^= 1;
    CHECK_EQ(sea__udp_parse(s, 37, a, b, &v), 0);
    CHECK(!v.has_csum);
    /* Bytes after the datagram's length (IP padding) are not payload. */
    memcpy(s, f_udp_dns + 34, 37);
    memset(s + 37, 0x55, 5);
    CHECK_EQ(sea__udp_parse(s, 42, a, b, &v), 0);
    CHECK_EQ(v.payload_len, 29);
    /* A checksum that comes out 0 is sent as ffff: make the payload word the checksum of the rest. */
    uint8_t h[8], pay[2] = {0, 0};
    CHECK_EQ(sea__udp_build(h, 8, 1, 2, a, b, pay, 2), 8);
    set16(pay, be16(h + 6));
    CHECK_EQ(sea__udp_build(h, 8, 1, 2, a, b, pay, 2), 8);
    CHECK_EQ(be16(h + 6), 0xffff);
    uint8_t d[10];
    memcpy(d, h, 8);
    memcpy(d + 8, pay, 2);
    CHECK_EQ(sea__udp_parse(d, 10, a, b, &v), 0);
    CHECK(v.has_csum);
    CHECK_EQ(sea__udp_build(h, 8, 1, 2, a, b, pay, 65508), -EMSGSIZE);
    return sea_ready();
}

static sea_future t_tcp_refusals(void) {
    uint8_t s[40];
    struct sea__tcp v;
    const uint32_t a = A_10_0_0_1, b = A_10_0_0_2;
    memcpy(s, f_tcp_syn + 34, 40);
    CHECK_EQ(sea__tcp_parse(s, 19, a, b, &v), -EMSGSIZE);
    CHECK_EQ(sea__tcp_parse(s, 40, b, a, &v), 0); /* the sum does not depend on the addresses' order */
    CHECK_EQ(sea__tcp_parse(s, 40, a, A_10_0_0_53, &v), -EPROTO);
    CHECK_EQ(sea__tcp_parse(s, 39, a, b, &v), -EMSGSIZE); /* a byte short: the 40-byte header is cut */
    s[5] ^= 0x10;
    CHECK_EQ(sea__tcp_parse(s, 40, a, b, &v), -EPROTO);
#define TCP_EDIT(stmt, n, want) \
    do { \
        memcpy(s, f_tcp_syn + 34, 40); \
        stmt; \
        l4_fix(s, n, SEA__IP_TCP, a, b); \
        CHECK_EQ(sea__tcp_parse(s, n, a, b, &v), want); \
    } while (0)
    TCP_EDIT(s[12] = 0x40, 40, -EINVAL);   /* data offset 4 */
    TCP_EDIT(s[12] = 0x00, 40, -EINVAL);   /* data offset 0 */
    TCP_EDIT(s[12] = 0xb0, 40, -EMSGSIZE); /* data offset 11: 44 bytes, past the 40 */
    TCP_EDIT(s[12] = 0x50, 40, 0);         /* offset 5: the options become payload */
    CHECK(v.options_len == 0 && v.payload_len == 20 && v.payload == s + 20);
    TCP_EDIT(s[12] = 0xaf, 40, 0); /* the reserved bits are ignored */
    CHECK_EQ(v.header_len, 40);
#undef TCP_EDIT
    uint8_t *big = calloc(65516, 1);
    big[12] = 0x50;
    CHECK_EQ(sea__tcp_parse(big, 65516, a, b, &v), -EMSGSIZE);
    free(big);
    return sea_ready();
}

static sea_future t_tcp_options(void) {
    struct sea__tcp_opts o;
    static const struct {
        const char *what;
        uint8_t b[44];
        size_t n;
        int want;
    } cases[] = {
        {"empty", {0}, 0, 0},
        {"EOL ends them, whatever follows", {0, 2, 1}, 3, 0},
        {"NOPs", {1, 1, 1, 1}, 4, 0},
        {"an unknown kind is skipped", {30, 4, 9, 9, 2, 4, 1, 0}, 8, 0},
        {"a kind without its length", {1, 1, 1, 2}, 4, -EINVAL},
        {"length 0", {30, 0, 1, 1}, 4, -EINVAL},
        {"length 1", {30, 1, 1, 1}, 4, -EINVAL},
        {"length past the end", {2, 4, 5}, 3, -EINVAL},
        {"unknown kind past the end", {1, 30, 8, 1, 1, 1}, 6, -EINVAL},
        {"MSS length 3", {2, 3, 5, 1}, 4, -EINVAL},
        {"MSS length 5", {2, 5, 5, 180, 0, 1, 1, 1}, 8, -EINVAL},
        {"window scale length 2", {3, 2, 1, 1}, 4, -EINVAL},
        {"window scale length 4", {3, 4, 7, 0}, 4, -EINVAL},
        {"SACK-permitted length 3", {4, 3, 0, 1}, 4, -EINVAL},
        {"SACK length 2", {5, 2, 1, 1}, 4, -EINVAL},
        {"SACK length 9", {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1}, 12, -EINVAL},
        {"SACK of 5 blocks", {5, 42}, 44, -EINVAL},
        {"timestamps length 8", {8, 8, 0, 0, 0, 1, 0, 0}, 8, -EINVAL},
        {"timestamps length 11", {8, 11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, 12, -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *b = exact(cases[i].b, cases[i].n);
        int r = sea__tcp_options_parse(b, cases[i].n, &o);
        if (r != cases[i].want)
            fprintf(stderr, "options case \"%s\": %d, not %d\n", cases[i].what, r, cases[i].want);
        CHECK_EQ(r, cases[i].want);
        free(b);
    }
    static const uint8_t after_unknown[] = {30, 4, 9, 9, 2, 4, 1, 0};
    CHECK_EQ(sea__tcp_options_parse(after_unknown, 8, &o), 0);
    CHECK(o.has_mss && o.mss == 256);
    /* A pure ACK's SACK option (NOP NOP SACK with 2 blocks) and timestamps. */
    static const uint8_t sack[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0,
                                   0x20, 0, 0, 0, 0x30, 0, 0, 0, 0x40, 0};
    CHECK_EQ(sea__tcp_options_parse(sack, sizeof(sack), &o), 0);
    CHECK(o.has_ts && o.ts_val == 1 && o.ts_ecr == 2);
    CHECK_EQ(o.nsack, 2);
    CHECK(o.sack[0].left == 0x1000 && o.sack[0].right == 0x2000 && o.sack[1].left == 0x3000 &&
          o.sack[1].right == 0x4000);
    CHECK(!o.has_mss && !o.sack_ok && !o.has_wscale);
    /* The builder: more than 40 bytes is refused, as are more than 4 blocks and a small buffer. */
    struct sea__tcp_opts big = {.has_mss = true, .sack_ok = true, .has_ts = true, .has_wscale = true, .nsack = 4};
    uint8_t out[40];
    CHECK_EQ(sea__tcp_options_build(out, sizeof(out), &big), -EMSGSIZE);
    big.nsack = 5;
    CHECK_EQ(sea__tcp_options_build(out, sizeof(out), &big), -EINVAL);
    struct sea__tcp_opts four = {.nsack = 4};
    CHECK_EQ(sea__tcp_options_build(out, sizeof(out), &four), 36);
    CHECK_EQ(sea__tcp_options_build(out, 35, &four), -ENOSPC);
    struct sea__tcp_args ta = {.opts = &big};
    CHECK_EQ(sea__tcp_build(out, sizeof(out), &ta, NULL, 0), -EINVAL);
    return sea_ready();
}

/* ---- the fuzz ---- */

struct fuzz_count {
    unsigned accepted[8], refused[8];
};

/* Every parser on buf[0..n) at every layer's place; any accepted view must lie within the input. */
static void fuzz_one(const uint8_t *f, size_t n, struct fuzz_count *c) {
    struct sea__eth e;
    struct sea__arp a;
    struct sea__ipv4 ip;
    struct sea__icmp ic;
    struct sea__udp u;
    struct sea__tcp t;
    struct sea__tcp_opts o;
    int r = sea__eth_parse(f, n, &e);
    c->accepted[0] += r == 0;
    c->refused[0] += r != 0;
    if (r == 0)
        CHECK(inside(f, n, e.payload, e.payload_len));
    if (n < 14)
        return;
    const uint8_t *l3 = f + 14;
    size_t n3 = n - 14;
    r = sea__arp_parse(l3, n3, &a);
    c->accepted[1] += r == 0;
    c->refused[1] += r != 0;
    r = sea__ipv4_parse(l3, n3, &ip);
    c->accepted[2] += r == 0;
    c->refused[2] += r != 0;
    const uint8_t *l4 = NULL;
    size_t n4 = 0;
    uint32_t src = A_10_0_0_1, dst = A_10_0_0_2;
    if (r == 0) {
        CHECK(ip.header_len >= 20 && ip.header_len <= 60);
        CHECK(inside(l3, n3, ip.options, ip.options_len));
        CHECK(inside(l3, n3, ip.payload, ip.payload_len));
        l4 = ip.payload;
        n4 = ip.payload_len;
        src = ip.src;
        dst = ip.dst;
    } else if (n3 >= 20 && (size_t)(l3[0] & 0xf) * 4 >= 20 && (size_t)(l3[0] & 0xf) * 4 <= n3) {
        /* A refused IP header: its payload is still fed on, to reach the transport parsers' paths. */
        l4 = l3 + (l3[0] & 0xf) * 4;
        n4 = n3 - (size_t)(l3[0] & 0xf) * 4;
    }
    if (!l4)
        return;
    r = sea__icmp_parse(l4, n4, &ic);
    c->accepted[3] += r == 0;
    c->refused[3] += r != 0;
    if (r == 0) {
        CHECK(inside(l4, n4, ic.data, ic.data_len));
        struct sea__icmp_quote q;
        r = sea__icmp_quote_parse(&ic, &q);
        c->accepted[7] += r == 0;
        c->refused[7] += r != 0;
    }
    r = sea__udp_parse(l4, n4, src, dst, &u);
    c->accepted[4] += r == 0;
    c->refused[4] += r != 0;
    if (r == 0)
        CHECK(inside(l4, n4, u.payload, u.payload_len) && u.payload_len + 8 == u.len);
    r = sea__tcp_parse(l4, n4, src, dst, &t);
    c->accepted[5] += r == 0;
    c->refused[5] += r != 0;
    if (r == 0) {
        CHECK(inside(l4, n4, t.options, t.options_len));
        CHECK(inside(l4, n4, t.payload, t.payload_len));
        CHECK(t.options + t.options_len == t.payload);
    }
    /* The options walker on whatever the data offset claims, clipped to the bytes (the checksum need not hold). */
    if (n4 > 20) {
        size_t hl = (size_t)(l4[12] >> 4) * 4;
        size_t on = hl > 20 ? (hl < n4 ? hl : n4) - 20 : n4 - 20;
        r = sea__tcp_options_parse(l4 + 20, on, &o);
        c->accepted[6] += r == 0;
        c->refused[6] += r != 0;
        if (r == 0)
            CHECK(o.nsack <= SEA__TCP_MAX_SACK);
    }
}

static sea_future t_fuzz(void) {
    /* The seeds: the four frames, and a TCP segment with timestamps and 3 SACK blocks and payload. */
    uint8_t sack_seg[14 + 20 + 60 + 7];
    {
        static const uint8_t m[6] = {2, 0, 0, 0, 0, 9};
        struct sea__tcp_opts o = {.has_ts = true, .ts_val = 5, .ts_ecr = 6, .nsack = 3};
        for (int k = 0; k < 3; k++)
            o.sack[k].left = 1000u * (unsigned)k, o.sack[k].right = 1000u * (unsigned)k + 500;
        struct sea__tcp_args ta = {.sport = 1, .dport = 2, .seq = 3, .ack = 4, .flags = SEA__TCP_ACK, .window = 9,
                                   .opts = &o, .src = A_10_0_0_1, .dst = A_10_0_0_2};
        static const uint8_t pay[7] = "payload";
        CHECK_EQ(sea__eth_build(sack_seg, 14, m, m, SEA__ETH_P_IPV4), 14);
        CHECK_EQ(sea__tcp_build(sack_seg + 34, 60, &ta, pay, 7), 60);
        memcpy(sack_seg + 94, pay, 7);
        struct sea__ipv4_args ia = {.ttl = 1, .proto = SEA__IP_TCP, .src = A_10_0_0_1, .dst = A_10_0_0_2,
                                    .payload_len = 67};
        CHECK_EQ(sea__ipv4_build(sack_seg + 14, 20, &ia), 20);
    }
    /* ... and an ICMP fragmentation needed quoting the SYN, as a router sends it. */
    uint8_t unreach[14 + 20 + 8 + 28];
    {
        memcpy(unreach, f_tcp_syn, 14);
        int m = sea__icmp_error_build(unreach + 34, sizeof(unreach) - 34, SEA__ICMP_DEST_UNREACH,
                                      SEA__ICMP_FRAG_NEEDED, 1280, f_tcp_syn + 14, sizeof(f_tcp_syn) - 14);
        CHECK_EQ(m, 36);
        struct sea__ipv4_args ia = {.ttl = 1, .proto = SEA__IP_ICMP, .src = A_10_0_0_2, .dst = A_10_0_0_1,
                                    .payload_len = 36};
        CHECK_EQ(sea__ipv4_build(unreach + 14, 20, &ia), 20);
    }
    const struct {
        const uint8_t *b;
        size_t n;
    } seeds[] = {{f_arp_request, sizeof(f_arp_request)}, {f_icmp_echo, sizeof(f_icmp_echo)},
                 {f_tcp_syn, sizeof(f_tcp_syn)},         {f_udp_dns, sizeof(f_udp_dns)},
                 {sack_seg, sizeof(sack_seg)},           {unreach, sizeof(unreach)}};
    struct fuzz_count c = {0};
    uint64_t rng = 0x5ea19;
    uint8_t buf[160];
    int failures = sea_test_failures;
    for (int iter = 0; iter < 200000 && sea_test_failures == failures; iter++) {
        size_t s = sea_test_rand(&rng) % (sizeof(seeds) / sizeof(seeds[0]));
        size_t n = seeds[s].n;
        memcpy(buf, seeds[s].b, n);
        mutate(buf, &n, sizeof(buf), &rng);
        if (iter % 2)
            fix_sums(buf, n);
        uint8_t *f = exact(buf, n);
        fuzz_one(f, n, &c);
        free(f);
        if (sea_test_failures != failures) {
            fprintf(stderr, "fuzz iteration %d, %zu bytes from seed %zu\n", iter, n, s);
        }
    }
    /* The fuzz reached both answers of every parser, often: it is not refusing everything at the first rule. */
    for (int k = 0; k < 8; k++) {
        if (c.accepted[k] < 500 || c.refused[k] < 500)
            fprintf(stderr, "parser %d: %u accepted, %u refused\n", k, c.accepted[k], c.refused[k]);
        CHECK(c.accepted[k] >= 500 && c.refused[k] >= 500);
    }
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_csum_known),   SEA_TEST(t_csum_split),     SEA_TEST(t_arp_known),     SEA_TEST(t_icmp_known),
    SEA_TEST(t_tcp_syn_known), SEA_TEST(t_udp_dns_known), SEA_TEST(t_round_trips),   SEA_TEST(t_eth_refusals),
    SEA_TEST(t_arp_refusals), SEA_TEST(t_ipv4_refusals),  SEA_TEST(t_icmp_refusals), SEA_TEST(t_icmp_errors),
    SEA_TEST(t_udp_refusals),
    SEA_TEST(t_tcp_refusals), SEA_TEST(t_tcp_options),    SEA_TEST(t_fuzz),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
