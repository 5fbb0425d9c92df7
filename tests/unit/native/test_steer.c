/*
 * test_steer.c - the TAP device's steering program (net/native/tap.c)
 * against sea__steer_hash, which the stack uses to decide a flow's shard and
 * connect uses to choose its port: the kernel runs the program on frames
 * (BPF_PROG_TEST_RUN) and its queue must be the C function's, for seeded
 * random flows, IPv4 options, and the frames it must leave on queue 0
 * (ARP, UDP, fragments, a frame too short).  The tc variant for a veth's
 * sending side (sea__steer_prog_tc) shares the hash's instructions; here
 * the verifier must take it and it must pass every frame on (its queue is
 * seen only on a real link: test_native_apps.py).  Needs root (bpf(2));
 * else it says so and passes with nothing checked, as bpf(2) is the
 * kernel's to give.
 *
 * And a NIC's steering as sea computes it (rss.c): the Toeplitz hash
 * against the verification examples of Microsoft's RSS specification (its
 * key, IPv4 with and without the TCP ports), a flow's queue through an
 * indirection table, and devices without RSS saying so.
 */
#include "check.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/native/native.h"
#include "net/native/wire.h"

static uint64_t next_rng(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int run_prog(int fd, const uint8_t *frame, size_t len, uint32_t *ret) {
    /*
     * A test run takes the first 14 bytes as an Ethernet header and starts
     * the program after them (at the network header), while the device runs
     * it on the frame from its Ethernet header on: so the frame goes behind
     * 14 bytes of a header of its own.  Some tail room: the kernel wants a
     * minimum size.
     */
    uint8_t data[256];
    memset(data, 0, sizeof(data));
    data[12] = 0x08;
    memcpy(data + 14, frame, len);
    len += 14;
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.test.prog_fd = (uint32_t)fd;
    a.test.data_in = (uint64_t)(uintptr_t)data;
    a.test.data_size_in = (uint32_t)(len < 64 ? 64 : len);
    a.test.repeat = 1;
    if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &a, sizeof(a)) < 0)
        return -errno;
    *ret = a.test.retval;
    return 0;
}

/* An Ethernet + IPv4 (ihl_words * 4 bytes of header) + TCP header frame; returns its length. */
static size_t tcp_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, int ihl_words,
                        uint8_t proto, uint16_t frag) {
    memset(f, 0, 128);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = (uint8_t)(0x40 | ihl_words);
    ip[6] = (uint8_t)(frag >> 8), ip[7] = (uint8_t)frag;
    ip[8] = 64, ip[9] = proto;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint8_t *tcp = ip + ihl_words * 4;
    tcp[0] = (uint8_t)(sport >> 8), tcp[1] = (uint8_t)sport, tcp[2] = (uint8_t)(dport >> 8), tcp[3] = (uint8_t)dport;
    return (size_t)(14 + ihl_words * 4 + 20);
}

static sea_future t_steer_matches_hash(void) {
    int fds[3];
    unsigned queues[3] = {2, 3, 8};
    for (int q = 0; q < 3; q++) {
        fds[q] = sea__tap_steer_prog(queues[q]);
        if (fds[q] < 0) {
            printf("skipped: cannot load the steering program here (%s)\n", strerror(-fds[q]));
            for (int k = 0; k < q; k++)
                close(fds[k]);
            return sea_ready();
        }
    }
    uint64_t rng = 2026;
    uint8_t f[128];
    int mismatches = 0, runs = 0;
    for (int i = 0; i < 3000; i++) {
        uint32_t src = (uint32_t)next_rng(&rng), dst = (uint32_t)next_rng(&rng);
        uint16_t sport = (uint16_t)next_rng(&rng), dport = (uint16_t)next_rng(&rng);
        int ihl = i % 10 == 0 ? 5 + (int)(next_rng(&rng) % 11) : 5; /* now and then with options */
        size_t len = tcp_frame(f, src, dst, sport, dport, ihl, 6, i % 7 == 0 ? 0x4000 : 0); /* DF or not */
        for (int q = 0; q < 3; q++) {
            uint32_t ret = 99;
            int rc = run_prog(fds[q], f, len, &ret);
            CHECK_EQ(rc, 0);
            runs++;
            uint32_t want = sea__steer_hash(src, dst, sport, dport) % queues[q];
            if (ret != want && mismatches++ < 5)
                fprintf(stderr, "flow %08x:%u -> %08x:%u ihl %d: program %u, hash %u (of %u)\n", src, sport, dst, dport,
                        ihl, ret, want, queues[q]);
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(runs, 9000);
    /* Queue 0 for what is not an unfragmented IPv4 TCP segment. */
    uint32_t ret;
    size_t len = tcp_frame(f, 0x0a000001, 0x0a000002, 1000, 2000, 5, 17, 0); /* UDP */
    CHECK(run_prog(fds[2], f, len, &ret) == 0 && ret == 0);
    len = tcp_frame(f, 0x0a000001, 0x0a000002, 1000, 2000, 5, 6, 0x2000); /* a first fragment (MF) */
    CHECK(run_prog(fds[2], f, len, &ret) == 0 && ret == 0);
    len = tcp_frame(f, 0x0a000001, 0x0a000002, 1000, 2000, 5, 6, 0x0010); /* a later fragment */
    CHECK(run_prog(fds[2], f, len, &ret) == 0 && ret == 0);
    len = tcp_frame(f, 0x0a000001, 0x0a000002, 1000, 2000, 5, 6, 0);
    f[12] = 0x08, f[13] = 0x06; /* ARP */
    CHECK(run_prog(fds[2], f, len, &ret) == 0 && ret == 0);
    for (int q = 0; q < 3; q++)
        close(fds[q]);
    return sea_ready();
}

/* The tc variant: loaded (the verifier checks its tail), and every frame goes on (TC_ACT_OK, 0). */
static sea_future t_steer_tc_passes(void) {
    int fd = sea__steer_prog_tc(2);
    if (fd == -EPERM || fd == -EACCES) {
        printf("skipped: cannot load a tc program here (%s)\n", strerror(-fd));
        return sea_ready();
    }
    CHECK(fd >= 0);
    if (fd < 0) {
        fprintf(stderr, "sea__steer_prog_tc: %s\n", strerror(-fd));
        return sea_ready();
    }
    uint8_t f[128];
    uint32_t ret = 99;
    size_t len = tcp_frame(f, 0x0a000001, 0x0a000002, 1000, 2000, 5, 6, 0);
    CHECK(run_prog(fd, f, len, &ret) == 0 && ret == 0);
    len = tcp_frame(f, 0x0a000001, 0x0a000002, 1000, 2000, 5, 17, 0); /* UDP */
    ret = 99;
    CHECK(run_prog(fd, f, len, &ret) == 0 && ret == 0);
    CHECK_EQ(sea__steer_prog_tc(0), -EINVAL);
    close(fd);
    return sea_ready();
}

/* ---- a NIC's RSS ---- */

static const uint8_t ms_key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                   0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                   0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static sea_future t_toeplitz(void) {
    /* The specification's table: source, destination (as received), and the hash of IPv4 alone and with TCP. */
    static const struct {
        uint32_t src, dst;
        uint16_t sport, dport;
        uint32_t ip_only, with_tcp;
    } v[] = {
        {IP4(66, 9, 149, 187), IP4(161, 142, 100, 80), 2794, 1766, 0x323e8fc2, 0x51ccc178},
        {IP4(199, 92, 111, 2), IP4(65, 69, 140, 83), 14230, 4739, 0xd718262a, 0xc626b0ea},
        {IP4(24, 19, 198, 95), IP4(12, 22, 207, 184), 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
        {IP4(38, 27, 205, 30), IP4(209, 142, 163, 6), 48228, 2217, 0x82989176, 0xafc7327f},
        {IP4(153, 39, 163, 191), IP4(202, 188, 127, 2), 44251, 1303, 0x5d1809c5, 0x10e828a2},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t in[12] = {(uint8_t)(v[i].src >> 24), (uint8_t)(v[i].src >> 16), (uint8_t)(v[i].src >> 8),
                          (uint8_t)v[i].src,         (uint8_t)(v[i].dst >> 24), (uint8_t)(v[i].dst >> 16),
                          (uint8_t)(v[i].dst >> 8),  (uint8_t)v[i].dst,         (uint8_t)(v[i].sport >> 8),
                          (uint8_t)v[i].sport,       (uint8_t)(v[i].dport >> 8), (uint8_t)v[i].dport};
        CHECK_EQ(sea__toeplitz(ms_key, sizeof(ms_key), in, 8), v[i].ip_only);
        CHECK_EQ(sea__toeplitz(ms_key, sizeof(ms_key), in, 12), v[i].with_tcp);
        /* Through an indirection table of 128 entries over 4 queues, as a NIC's default spreads them. */
        uint32_t indir[128];
        for (unsigned k = 0; k < 128; k++)
            indir[k] = k % 4;
        struct sea__rss r = {.key_len = sizeof(ms_key), .indir = indir, .indir_size = 128, .ports = true};
        memcpy(r.key, ms_key, sizeof(ms_key));
        CHECK_EQ(sea__rss_queue(&r, v[i].src, v[i].dst, v[i].sport, v[i].dport), v[i].with_tcp % 128 % 4);
        r.ports = false;
        CHECK_EQ(sea__rss_queue(&r, v[i].src, v[i].dst, v[i].sport, v[i].dport), v[i].ip_only % 128 % 4);
    }
    CHECK_EQ(sea__toeplitz(ms_key, 15, (const uint8_t *)"0123456789ab", 12), 0); /* a key too short for it */
    /* Devices without RSS say so; no device, no such name. */
    struct sea__rss r;
    CHECK_EQ(sea__rss_read("lo", &r), -EOPNOTSUPP);
    CHECK(sea__rss_read("nonesuch0", &r) < 0);
    CHECK_EQ(sea__rss_read("", &r), -EINVAL);
    return sea_ready();
}

static const struct sea_test_case cases[] = {SEA_TEST(t_steer_matches_hash), SEA_TEST(t_steer_tc_passes),
                                             SEA_TEST(t_toeplitz)};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
