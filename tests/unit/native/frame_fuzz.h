/*
 * frame_fuzz.h - what the native stack's fuzz tests share: the Internet
 * checksum computed the slow way (to check wire.c's fast one), frames
 * mutated the ways that reach parsers' rules (flipped bits, lengths,
 * truncations, the header-length nibbles, other EtherTypes), and their
 * checksums set right again so that mutations get past the first rule.
 * Static inline functions for test_wire.c and test_nstack.c.
 */
#ifndef SEA_TESTS_FRAME_FUZZ_H
#define SEA_TESTS_FRAME_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/native/wire.h"

/* RFC 1071 the slow way: a byte at a time, high byte then low, carries folded at the end. */
static inline uint16_t naive_sum(const uint8_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += i % 2 ? p[i] : (uint64_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* The naive checksum of a TCP or UDP segment with its IPv4 pseudo-header. */
static inline uint16_t naive_l4(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg, size_t n) {
    uint8_t *b = malloc(12 + n);
    uint8_t ph[12] = {(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
                      (uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
                      0, proto, (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(b, ph, 12);
    memcpy(b + 12, seg, n);
    uint16_t s = naive_sum(b, 12 + n);
    free(b);
    return s;
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void set16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Recomputes an IPv4 header's checksum (after a test edited it) with the naive sum. */
static inline void ip_fix(uint8_t *ip) {
    size_t hl = (size_t)(ip[0] & 0xf) * 4;
    set16(ip + 10, 0);
    set16(ip + 10, (uint16_t)~naive_sum(ip, hl));
}

/* Recomputes a TCP (csum at 16) or UDP (at 6) checksum over n bytes. */
static inline void l4_fix(uint8_t *seg, size_t n, uint8_t proto, uint32_t src, uint32_t dst) {
    size_t at = proto == SEA__IP_TCP ? 16 : 6;
    set16(seg + at, 0);
    set16(seg + at, (uint16_t)~naive_l4(src, dst, proto, seg, n));
}

/* A copy of p[0..n) in a buffer of exactly n bytes. */
static inline uint8_t *exact(const void *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, p, n);
    return b;
}

static inline void mutate(uint8_t *b, size_t *n, size_t cap, uint64_t *rng) {
    int muts = 1 + (int)(sea_test_rand(rng) % 3);
    for (int m = 0; m < muts && *n > 0; m++) {
        size_t at = sea_test_rand(rng) % *n;
        switch (sea_test_rand(rng) % 8) {
        case 0: /* a bit flip */
            b[at] ^= (uint8_t)(1 << sea_test_rand(rng) % 8);
            break;
        case 1: /* a random byte */
            b[at] = (uint8_t)sea_test_rand(rng);
            break;
        case 2: /* truncated */
            *n = at;
            break;
        case 3: /* random bytes appended */
            for (size_t k = sea_test_rand(rng) % 16; k > 0 && *n < cap; k--)
                b[(*n)++] = (uint8_t)sea_test_rand(rng);
            break;
        case 4: { /* a length field: IHL, total length, UDP length, data offset, an option's length */
            static const size_t fields[] = {14, 16, 17, 38, 39, 46, 55, 57};
            size_t f = fields[sea_test_rand(rng) % 8];
            if (f < *n)
                b[f] = (uint8_t)(sea_test_rand(rng) % 3 == 0 ? sea_test_rand(rng) : b[f] + sea_test_rand(rng) % 5 - 2);
            break;
        }
        case 5: /* the IHL nibble or the data offset nibble */
            if (*n > 46) {
                b[14] = (uint8_t)(0x40 | sea_test_rand(rng) % 16);
                b[46] = (uint8_t)(sea_test_rand(rng) % 16 << 4);
            }
            break;
        case 6: /* an EtherType that is not IPv4 */
            if (*n > 13)
                set16(b + 12, (uint16_t)(sea_test_rand(rng) % 2 ? 0x8100 : 0x0806));
            break;
        default: /* a byte copied from elsewhere */
            b[at] = b[sea_test_rand(rng) % *n];
            break;
        }
    }
}

/* Sets the IPv4 and transport checksums right (as far as the bytes allow), so mutations reach the deeper rules. */
static inline void fix_sums(uint8_t *b, size_t n) {
    if (n < 34 || (b[14] >> 4) != 4)
        return;
    size_t hl = (size_t)(b[14] & 0xf) * 4;
    if (hl < 20 || 14 + hl > n)
        return;
    ip_fix(b + 14);
    size_t total = be16(b + 16);
    size_t n4 = (total >= hl && 14 + total <= n ? total : n - 14) - hl;
    uint8_t *l4 = b + 14 + hl;
    uint32_t src = (uint32_t)b[26] << 24 | (uint32_t)b[27] << 16 | (uint32_t)b[28] << 8 | b[29];
    uint32_t dst = (uint32_t)b[30] << 24 | (uint32_t)b[31] << 16 | (uint32_t)b[32] << 8 | b[33];
    if (b[23] == SEA__IP_TCP && n4 >= 20)
        l4_fix(l4, n4, SEA__IP_TCP, src, dst);
    else if (b[23] == SEA__IP_UDP && n4 >= 8 && be16(l4 + 4) <= n4 && be16(l4 + 4) >= 8)
        l4_fix(l4, be16(l4 + 4), SEA__IP_UDP, src, dst);
    else if (b[23] == SEA__IP_ICMP && n4 >= 8) {
        set16(l4 + 2, 0);
        set16(l4 + 2, (uint16_t)~naive_sum(l4, n4));
    }
}

#endif
