/*
 * test_nstack.c - a shard's whole native stack (net/native/stack.c: ARP,
 * IPv4 in and out, reassembly, ICMP echo and errors, UDP ports, TCP) with
 * no device: frames go in as a device's would (sea__nstack_frame_in), and
 * every frame the stack sends is captured and must parse, checksums and
 * all (stack.h's capture).
 *
 * First each kind of frame once, with the answer it must get: an ARP
 * reply, an echo reply, a datagram queued on a bound port, a port
 * unreachable for a closed one, a protocol unreachable for protocol 253, a
 * SYN-ACK, a datagram put back together from two fragments, and path MTU
 * discovery from an ICMP fragmentation needed about the SYN-ACK.  Then a
 * seeded fuzz of 100,000 frames mutated from those (lengths, header
 * lengths, bits, truncations, checksums set right half the time, the
 * device vouching for checksums a quarter of the time): nothing the stack
 * sends is malformed, and what it holds stays bounded (connections by the
 * listener's backlog, datagrams by the port's queue, ICMP errors by their
 * rate limit); ASan and LSan watch the memory.
 */
#include "check.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "frame_fuzz.h"
#include "net/native/stack.h"
#include "net/native/tcp.h"

#define OUR_IP 0x0a4d0002u  /* 10.77.0.2 */
#define PEER_IP 0x0a4d0001u /* 10.77.0.1 */

static const uint8_t our_mac[6] = {0x02, 0x5e, 0xa0, 0x11, 0x22, 0x33};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* What the stack sent, by kind, and the last SYN-ACK (for a reply and an ICMP quote). */
struct sent {
    uint64_t frames, arp, tcp, udp, echo_replies, fragments;
    uint64_t unreach[16]; /* destination unreachable by code */
    uint8_t synack[128];  /* its IPv4 datagram */
    size_t synack_len;
};

static void capture(void *ctx, const uint8_t *f, size_t len, const struct sea__frame_meta *meta) {
    struct sent *c = ctx;
    c->frames++;
    CHECK(!meta || (!meta->gso_size && !meta->csum_partial)); /* no offload without a TAP */
    struct sea__eth e;
    CHECK_EQ(sea__eth_parse(f, len, &e), 0);
    CHECK(memcmp(e.src, our_mac, 6) == 0);
    if (e.type == SEA__ETH_P_ARP) {
        struct sea__arp a;
        CHECK_EQ(sea__arp_parse(e.payload, e.payload_len, &a), 0);
        c->arp++;
        return;
    }
    CHECK_EQ(e.type, SEA__ETH_P_IPV4);
    struct sea__ipv4 ip;
    CHECK_EQ(sea__ipv4_parse(e.payload, e.payload_len, &ip), 0);
    CHECK_EQ(ip.src, OUR_IP);
    if (ip.mf || ip.frag_offset) { /* a large echo reply, cut */
        c->fragments++;
        return;
    }
    switch (ip.proto) {
    case SEA__IP_TCP: {
        struct sea__tcp t;
        CHECK_EQ(sea__tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t), 0);
        c->tcp++;
        if ((t.flags & (SEA__TCP_SYN | SEA__TCP_ACK)) == (SEA__TCP_SYN | SEA__TCP_ACK) &&
            e.payload_len <= sizeof(c->synack)) {
            memcpy(c->synack, e.payload, ip.total_len);
            c->synack_len = ip.total_len;
        }
        break;
    }
    case SEA__IP_UDP: {
        struct sea__udp u;
        CHECK_EQ(sea__udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u), 0);
        c->udp++;
        break;
    }
    case SEA__IP_ICMP: {
        struct sea__icmp ic;
        CHECK_EQ(sea__icmp_parse(ip.payload, ip.payload_len, &ic), 0);
        if (ic.type == SEA__ICMP_ECHO_REPLY) {
            c->echo_replies++;
            break;
        }
        CHECK_EQ(ic.type, SEA__ICMP_DEST_UNREACH);
        struct sea__icmp_quote q;
        CHECK_EQ(sea__icmp_quote_parse(&ic, &q), 0);
        CHECK_EQ(q.dst, OUR_IP); /* about a datagram sent to us */
        c->unreach[ic.code & 15]++;
        break;
    }
    default:
        CHECK(!"the stack sent a protocol it does not speak");
    }
}

/* A frame from the peer to us: Ethernet, IPv4 (fragment offset and MF as given), then l4[0..n) of proto. */
static size_t ip_frame(uint8_t *buf, size_t cap, uint8_t proto, const void *l4, size_t n, uint16_t frag_offset,
                       bool mf, uint16_t id) {
    CHECK(34 + n <= cap);
    sea__eth_build(buf, 14, our_mac, peer_mac, SEA__ETH_P_IPV4);
    struct sea__ipv4_args a = {.ttl = 64, .proto = proto, .id = id, .mf = mf, .frag_offset = frag_offset,
                               .src = PEER_IP, .dst = OUR_IP, .payload_len = n};
    CHECK_EQ(sea__ipv4_build(buf + 14, 20, &a), 20);
    memcpy(buf + 34, l4, n);
    return 34 + n;
}

static size_t udp_frame(uint8_t *buf, size_t cap, uint16_t dport, const char *text) {
    uint8_t u[256];
    size_t n = strlen(text);
    CHECK_EQ(sea__udp_build(u, sizeof(u), 40000, dport, PEER_IP, OUR_IP, text, n), 8);
    memcpy(u + 8, text, n);
    return ip_frame(buf, cap, SEA__IP_UDP, u, 8 + n, 0, false, 1);
}

static size_t tcp_frame(uint8_t *buf, size_t cap, uint32_t seq, uint32_t ack, uint8_t flags, const char *data) {
    uint8_t t[256];
    size_t n = strlen(data);
    struct sea__tcp_opts o = {.has_mss = (flags & SEA__TCP_SYN) != 0, .mss = 1460};
    struct sea__tcp_args ta = {.sport = 40001, .dport = 80, .seq = seq, .ack = ack, .flags = flags,
                               .window = 65535, .opts = &o, .src = PEER_IP, .dst = OUR_IP};
    int h = sea__tcp_build(t, sizeof(t), &ta, data, n);
    CHECK(h >= 20);
    memcpy(t + h, data, n);
    return ip_frame(buf, cap, SEA__IP_TCP, t, (size_t)h + n, 0, false, 2);
}

static void listener_event(void *arg, unsigned ev) {
    (void)arg;
    (void)ev;
}

static void udp_ready(void *arg) {
    (void)arg;
}

struct seed {
    uint8_t b[256];
    size_t n;
};

static sea_future t_stack(void) {
    struct sent c;
    memset(&c, 0, sizeof(c));
    struct sea__nstack_config cfg = {.addr = OUR_IP, .netmask = 0xffffff00u, .capture = capture, .capture_ctx = &c};
    memcpy(cfg.mac, our_mac, 6);
    struct sea__nstack *s;
    char err[200];
    CHECK_EQ(sea__nstack_open(&s, &cfg, err, sizeof(err)), 0);
    struct sea__tcp_engine *tcp = sea__nstack_tcp(s);
    struct sea__tcp_listener *l;
    CHECK_EQ(sea__tcp_listen(tcp, 80, 8, listener_event, NULL, &l), 0);
    struct sea__nudp *port;
    CHECK_EQ(sea__nstack_udp_bind(s, 53, udp_ready, NULL, &port), 0);
    const struct sea__nstack_stats *st = sea__nstack_stats(s);

    /* ---- each kind once, with its answer ---- */
    struct seed seeds[10];
    int ns = 0;
    struct seed *k;
    /* ARP: who has our address (the stack answers, and learns the peer, so it can answer IPv4 too). */
    k = &seeds[ns++];
    {
        struct sea__arp a = {.op = SEA__ARP_REQUEST, .spa = PEER_IP, .tpa = OUR_IP};
        memcpy(a.sha, peer_mac, 6);
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        sea__eth_build(k->b, 14, bcast, peer_mac, SEA__ETH_P_ARP);
        k->n = 14 + (size_t)sea__arp_build(k->b + 14, sizeof(k->b) - 14, &a);
    }
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK_EQ(c.arp, 1);
    /* An echo request. */
    k = &seeds[ns++];
    {
        uint8_t m[72];
        int n = sea__icmp_echo_build(m, sizeof(m), SEA__ICMP_ECHO_REQUEST, 7, 1, "0123456789abcdef", 16);
        k->n = ip_frame(k->b, sizeof(k->b), SEA__IP_ICMP, m, (size_t)n, 0, false, 3);
    }
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK_EQ(c.echo_replies, 1);
    /* A datagram for the bound port, and one for a closed port. */
    k = &seeds[ns++];
    k->n = udp_frame(k->b, sizeof(k->b), 53, "a question");
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK(sea__nstack_udp_waiting(port));
    k = &seeds[ns++];
    k->n = udp_frame(k->b, sizeof(k->b), 54, "anyone?");
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK_EQ(c.unreach[SEA__ICMP_PORT_UNREACH], 1);
    /* A protocol sea does not speak. */
    k = &seeds[ns++];
    k->n = ip_frame(k->b, sizeof(k->b), 253, "protocol 253", 12, 0, false, 4);
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK_EQ(c.unreach[SEA__ICMP_PROTO_UNREACH], 1);
    /* A SYN: a SYN-ACK comes back. */
    k = &seeds[ns++];
    k->n = tcp_frame(k->b, sizeof(k->b), 1000, 0, SEA__TCP_SYN, "");
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK(c.synack_len > 0);
    /* The router on the way says the SYN-ACK was too big for it: TCP learns the path's MTU. */
    k = &seeds[ns++];
    {
        uint8_t m[100];
        int n = sea__icmp_error_build(m, sizeof(m), SEA__ICMP_DEST_UNREACH, SEA__ICMP_FRAG_NEEDED, 1000, c.synack,
                                      c.synack_len);
        CHECK(n > 0);
        k->n = ip_frame(k->b, sizeof(k->b), SEA__IP_ICMP, m, (size_t)n, 0, false, 5);
    }
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK_EQ(tcp->stats.pmtu_lowered, 1);
    CHECK_EQ(st->icmp_errors_received, 1);
    /* The handshake's ACK with data. */
    k = &seeds[ns++];
    {
        struct sea__ipv4 sip;
        struct sea__tcp stcp;
        CHECK_EQ(sea__ipv4_parse(c.synack, c.synack_len, &sip), 0);
        CHECK_EQ(sea__tcp_parse(sip.payload, sip.payload_len, sip.src, sip.dst, &stcp), 0);
        k->n = tcp_frame(k->b, sizeof(k->b), 1001, stcp.seq + 1, SEA__TCP_ACK | SEA__TCP_PSH, "GET / HTTP/1.0\r\n\r\n");
    }
    sea__nstack_frame_in(s, k->b, k->n, false);
    CHECK_EQ(tcp->stats.established, 1);
    /* A datagram in two fragments (8 + 16 bytes of UDP, then 16 more), put back together for the bound port. */
    {
        uint8_t u[40];
        CHECK_EQ(sea__udp_build(u, sizeof(u), 40000, 53, PEER_IP, OUR_IP, "0123456789abcdef0123456789abcdef", 32), 8);
        memcpy(u + 8, "0123456789abcdef0123456789abcdef", 32);
        k = &seeds[ns++];
        k->n = ip_frame(k->b, sizeof(k->b), SEA__IP_UDP, u, 24, 0, true, 77);
        sea__nstack_frame_in(s, k->b, k->n, false);
        k = &seeds[ns++];
        k->n = ip_frame(k->b, sizeof(k->b), SEA__IP_UDP, u + 24, 16, 24, false, 77);
        sea__nstack_frame_in(s, k->b, k->n, false);
        CHECK_EQ(st->reassembled, 1);
        uint8_t got[64];
        CHECK_EQ(sea__nstack_udp_recv(s, port, got, sizeof(got), NULL, NULL), 10); /* the first datagram */
        CHECK_EQ(sea__nstack_udp_recv(s, port, got, sizeof(got), NULL, NULL), 32);
        CHECK(memcmp(got, "0123456789abcdef0123456789abcdef", 32) == 0);
    }
    CHECK_EQ(ns, 10);

    /* ---- the fuzz ---- */
    uint64_t rng = 0x5ea57ac4, frames_before = c.frames;
    sea_time start = sea_now();
    uint8_t buf[256 + 16];
    for (int iter = 0; iter < 100000; iter++) {
        const struct seed *sd = &seeds[sea_test_rand(&rng) % (uint64_t)ns];
        size_t n = sd->n;
        memcpy(buf, sd->b, n);
        mutate(buf, &n, sizeof(buf), &rng);
        if (iter % 2)
            fix_sums(buf, n);
        uint8_t *f = exact(buf, n);
        sea__nstack_frame_in(s, f, n, iter % 4 == 0);
        free(f);
    }
    double secs = (double)(sea_now() - start) / 1e9;
    fprintf(stderr, "fuzz: %llu frames sent for 100,000 received in %.2f s; %llu ICMP errors sent, %llu held back; "
            "%llu TCP connections\n", (unsigned long long)(c.frames - frames_before), secs,
            (unsigned long long)st->icmp_errors_sent, (unsigned long long)st->icmp_errors_limited,
            (unsigned long long)tcp->stats.connections);
    /* Bounded: the listener's backlog (8) and the one established; the rate limit's burst and rate. */
    CHECK(tcp->stats.connections <= 8 + 1);
    CHECK(st->icmp_errors_sent <= 2 + 50 + (uint64_t)(secs * 1000) + 1);
    CHECK(st->icmp_errors_limited > 0);
    CHECK(st->udp_in > 2);
    sea__tcp_unlisten(tcp, l);
    sea__nstack_close(s);
    return sea_ready();
}

/* ---- two shards' stacks in one thread, joined by direct calls as module.c joins them by messages ---- */

static struct sea__nstack *shard_stacks[2];
static uint64_t forwarded_to[2];

static void fwd(void *ctx, unsigned shard, const uint8_t *frame, size_t len, bool csum_verified) {
    (void)ctx;
    forwarded_to[shard]++;
    sea__nstack_frame_in(shard_stacks[shard], frame, len, csum_verified);
}

static void arp_learned_noop(void *ctx, uint32_t ip, const uint8_t mac[6]) {
    (void)ctx, (void)ip, (void)mac;
}

static void arp_needed_noop(void *ctx, uint32_t ip) {
    (void)ctx, (void)ip;
}

/* Opens the two shards' stacks into shard_stacks, sharing owners (and rss), each knowing the peer's MAC. */
static void open_shards(struct sent c[2], _Atomic uint8_t *owners, const struct sea__rss *rss) {
    memset(c, 0, 2 * sizeof(c[0]));
    forwarded_to[0] = forwarded_to[1] = 0;
    for (unsigned i = 0; i < 2; i++) {
        struct sea__nstack_config cfg = {.addr = OUR_IP, .netmask = 0xffffff00u, .capture = capture,
                                         .capture_ctx = &c[i], .shard = i, .nshards = 2, .udp_owners = owners,
                                         .rss = rss,
                                         .peers = {.forward = fwd, .arp_learned = arp_learned_noop,
                                                   .arp_needed = arp_needed_noop}};
        memcpy(cfg.mac, our_mac, 6);
        char err[200];
        CHECK_EQ(sea__nstack_open(&shard_stacks[i], &cfg, err, sizeof(err)), 0);
        sea__nstack_arp_learn(shard_stacks[i], PEER_IP, peer_mac);
    }
}

/*
 * UDP ports across shards: a port belongs to the shard that bound it (the
 * shared table refuses it to another), shard 0 hands its datagrams over,
 * and closing frees it for any shard.
 */
static sea_future t_udp_shards(void) {
    static _Atomic uint8_t owners[65536];
    struct sent c[2];
    open_shards(c, owners, NULL);
    struct sea__nudp *p1, *p0;
    CHECK_EQ(sea__nstack_udp_bind(shard_stacks[1], 53, udp_ready, NULL, &p1), 0);
    CHECK_EQ(sea__nstack_udp_bind(shard_stacks[0], 53, udp_ready, NULL, &p0), -EADDRINUSE); /* shard 1's */
    uint8_t f[256];
    size_t n = udp_frame(f, sizeof(f), 53, "for shard 1");
    sea__nstack_frame_in(shard_stacks[0], f, n, false); /* the device brings it to shard 0 */
    CHECK_EQ(forwarded_to[1], 1);
    char got[64];
    CHECK_EQ(sea__nstack_udp_recv(shard_stacks[1], p1, got, sizeof(got), NULL, NULL), 11);
    CHECK(memcmp(got, "for shard 1", 11) == 0);
    n = udp_frame(f, sizeof(f), 54, "nobody");
    sea__nstack_frame_in(shard_stacks[0], f, n, false);
    CHECK_EQ(c[0].unreach[SEA__ICMP_PORT_UNREACH], 1);
    sea__nstack_udp_close(shard_stacks[1], p1);
    CHECK_EQ(sea__nstack_udp_bind(shard_stacks[0], 53, udp_ready, NULL, &p0), 0); /* free again */
    n = udp_frame(f, sizeof(f), 53, "now shard 0");
    sea__nstack_frame_in(shard_stacks[0], f, n, false);
    CHECK_EQ(forwarded_to[1], 1);
    CHECK_EQ(sea__nstack_udp_recv(shard_stacks[0], p0, got, sizeof(got), NULL, NULL), 11);
    /* A datagram that reached shard 1 for a port of shard 0's goes to shard 0 (the device's stray). */
    n = udp_frame(f, sizeof(f), 53, "stray");
    sea__nstack_frame_in(shard_stacks[1], f, n, false);
    CHECK_EQ(forwarded_to[0], 1);
    CHECK_EQ(sea__nstack_udp_recv(shard_stacks[0], p0, got, sizeof(got), NULL, NULL), 5);
    for (unsigned i = 0; i < 2; i++)
        sea__nstack_close(shard_stacks[i]);
    return sea_ready();
}

/*
 * A NIC's RSS as the steering: a segment's shard is the queue the NIC's
 * table gives its flow (it arrived on shard 0, the table says 1: forwarded),
 * and connect picks ports whose answers the table gives the calling shard.
 */
static sea_future t_rss_owner(void) {
    static const uint8_t key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
    uint32_t indir[128];
    for (unsigned k = 0; k < 128; k++)
        indir[k] = k % 2;
    struct sea__rss rss = {.key_len = sizeof(key), .indir = indir, .indir_size = 128, .ports = true};
    memcpy(rss.key, key, sizeof(key));
    static _Atomic uint8_t owners[65536];
    struct sent c[2];
    open_shards(c, owners, &rss);
    struct sea__tcp_listener *l[2];
    for (unsigned i = 0; i < 2; i++)
        CHECK_EQ(sea__tcp_listen(sea__nstack_tcp(shard_stacks[i]), 80, 8, listener_event, NULL, &l[i]), 0);
    /* tcp_frame's flow is PEER:40001 -> OUR:80: the table's bucket for it names its shard. */
    if (sea__rss_queue(&rss, PEER_IP, OUR_IP, 40001, 80) == 0)
        for (unsigned k = 0; k < 128; k++)
            indir[k] ^= 1; /* (so that the flow is shard 1's, and the forwarding is what is seen) */
    unsigned owner = sea__rss_queue(&rss, PEER_IP, OUR_IP, 40001, 80);
    CHECK_EQ(owner, 1);
    uint8_t f[256];
    size_t n = tcp_frame(f, sizeof(f), 1000, 0, SEA__TCP_SYN, "");
    sea__nstack_frame_in(shard_stacks[0], f, n, false); /* arrived on queue 0 */
    CHECK_EQ(forwarded_to[1], 1);
    CHECK(c[1].synack_len > 0 && c[0].synack_len == 0); /* answered by the owner */
    /* connect from each shard: a port the table brings back to it. */
    for (unsigned i = 0; i < 2; i++) {
        struct sea__tcb *t;
        CHECK_EQ(sea__tcp_connect(sea__nstack_tcp(shard_stacks[i]), PEER_IP, 443, listener_event, NULL, &t), 0);
        uint16_t lport, rport;
        uint32_t raddr;
        sea__tcp_endpoints(t, &lport, &raddr, &rport);
        CHECK_EQ(sea__rss_queue(&rss, PEER_IP, OUR_IP, 443, lport), i);
        sea__tcp_abort(sea__nstack_tcp(shard_stacks[i]), t);
    }
    for (unsigned i = 0; i < 2; i++) {
        sea__tcp_unlisten(sea__nstack_tcp(shard_stacks[i]), l[i]);
        sea__nstack_close(shard_stacks[i]);
    }
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_stack),
    SEA_TEST(t_udp_shards),
    SEA_TEST(t_rss_owner),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
