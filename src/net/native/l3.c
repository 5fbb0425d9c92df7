/*
 * net/native/l3.c - the native stack's first protocols over wire.h: ARP
 * (answers for our address, a bounded cache learned from what arrives), IPv4
 * input for our address, and ICMP echo replies built in the request's place.
 *
 * It is a function from a received frame to at most one frame to send, with
 * no I/O, so every rule here is tested without a device (test_l3.c).
 */
#include "net/native/native.h"

#include <string.h>
#include <sys/random.h>

#include "net/native/wire.h"

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void sea__l3_init(struct sea__l3 *l3, const struct sea__l3_config *cfg) {
    memset(l3, 0, sizeof(*l3));
    l3->cfg = *cfg;
}

void sea__l3_random_mac(uint8_t mac[6]) {
    if (getrandom(mac, 6, 0) != 6) /* (never short for 6 bytes; the fallback keeps the address valid anyway) */
        memcpy(mac, (uint8_t[6]){0x02, 0x5e, 0xa0, 0x00, 0x00, 0x01}, 6);
    mac[0] = (uint8_t)((mac[0] & ~0x01) | 0x02); /* unicast, locally administered: never a vendor's address */
}

static struct sea__arp_entry *arp_find(struct sea__l3 *l3, uint32_t ip) {
    for (size_t i = 0; i < SEA__ARP_CACHE_MAX; i++)
        if (l3->arp[i].ip == ip)
            return &l3->arp[i];
    return NULL;
}

const uint8_t *sea__arp_lookup(struct sea__l3 *l3, uint32_t ip) {
    struct sea__arp_entry *e = ip ? arp_find(l3, ip) : NULL;
    if (!e)
        return NULL;
    e->used = ++l3->clock;
    return e->mac;
}

const uint8_t *sea__arp_lookup_fresh(struct sea__l3 *l3, uint32_t ip, sea_time now, sea_time max_age) {
    struct sea__arp_entry *e = ip ? arp_find(l3, ip) : NULL;
    if (!e || now - e->learned > max_age)
        return NULL;
    e->used = ++l3->clock;
    return e->mac;
}

size_t sea__l3_arp_request(const struct sea__l3 *l3, uint32_t ip, uint8_t *buf, size_t cap) {
    struct sea__arp r = {.op = SEA__ARP_REQUEST, .spa = l3->cfg.addr, .tpa = ip};
    memcpy(r.sha, l3->cfg.mac, 6);
    int h = sea__eth_build(buf, cap, bcast, l3->cfg.mac, SEA__ETH_P_ARP);
    int n = h < 0 ? h : sea__arp_build(buf + h, cap - (size_t)h, &r);
    return n < 0 ? 0 : (size_t)h + (size_t)n;
}

/* Adds or refreshes ip's entry; a full cache gives up the entry used least recently. */
static void arp_learn(struct sea__l3 *l3, uint32_t ip, const uint8_t mac[6]) {
    struct sea__arp_entry *e = arp_find(l3, ip);
    if (!e) {
        e = &l3->arp[0];
        for (size_t i = 0; i < SEA__ARP_CACHE_MAX && e->ip; i++)
            if (!l3->arp[i].ip || l3->arp[i].used < e->used)
                e = &l3->arp[i];
        if (e->ip)
            l3->stats.arp_evicted++;
        e->ip = ip;
    }
    memcpy(e->mac, mac, 6);
    e->used = ++l3->clock;
    e->learned = l3->now;
    l3->stats.arp_learned++;
}

/* A sender address worth learning: one of our subnet, not the network's or the broadcast address, not ours. */
static bool on_link(const struct sea__l3 *l3, uint32_t ip) {
    uint32_t m = l3->cfg.netmask;
    return ip != l3->cfg.addr && (ip & m) == (l3->cfg.addr & m) && (ip & ~m) != 0 && (ip & ~m) != ~m;
}

void sea__l3_learn(struct sea__l3 *l3, uint32_t ip, const uint8_t mac[6]) {
    if (on_link(l3, ip) && !(mac[0] & 1))
        arp_learn(l3, ip, mac);
}

static size_t arp_input(struct sea__l3 *l3, uint8_t *buf, const struct sea__eth *eth, size_t cap) {
    struct sea__arp a;
    if (sea__arp_parse(eth->payload, eth->payload_len, &a) < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    /* A multicast sender hardware address is a forgery: never learned, never answered. */
    if (a.sha[0] & 0x01) {
        l3->stats.drop_malformed++;
        return 0;
    }
    bool for_us = a.tpa == l3->cfg.addr;
    /* RFC 826's merge: refresh a sender already known; add it only when the packet is for us. */
    if (on_link(l3, a.spa) && (for_us || arp_find(l3, a.spa)))
        arp_learn(l3, a.spa, a.sha);
    if (!for_us) {
        l3->stats.drop_not_ours++;
        return 0;
    }
    if (a.op != SEA__ARP_REQUEST)
        return 0; /* a reply to us: learned above, nothing to send */
    struct sea__arp r = {.op = SEA__ARP_REPLY, .spa = l3->cfg.addr, .tpa = a.spa};
    memcpy(r.sha, l3->cfg.mac, 6);
    memcpy(r.tha, a.sha, 6);
    uint8_t dst[6];
    memcpy(dst, eth->src, 6);
    int h = sea__eth_build(buf, cap, dst, l3->cfg.mac, SEA__ETH_P_ARP);
    int n = h < 0 ? h : sea__arp_build(buf + h, cap - (size_t)h, &r);
    if (n < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    l3->stats.arp_replies_sent++;
    return (size_t)h + (size_t)n;
}

static size_t ipv4_input(struct sea__l3 *l3, uint8_t *buf, const struct sea__eth *eth, size_t cap) {
    struct sea__ipv4 ip;
    if (sea__ipv4_parse(eth->payload, eth->payload_len, &ip) < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    if (ip.dst != l3->cfg.addr) {
        l3->stats.drop_not_ours++;
        return 0;
    }
    /* No reassembly yet: a fragment is dropped rather than answered from a part of its message. */
    if (ip.mf || ip.frag_offset || ip.proto != SEA__IP_ICMP) {
        l3->stats.drop_unsupported++;
        return 0;
    }
    /* Never answer for a source that cannot be a host: a reply there would be a reflection. */
    if (!sea__l3_may_answer(ip.src, l3->cfg.netmask)) {
        l3->stats.drop_not_ours++;
        return 0;
    }
    struct sea__icmp ic;
    int rc = sea__icmp_parse(ip.payload, ip.payload_len, &ic);
    if (rc < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    if (ic.type != SEA__ICMP_ECHO_REQUEST) {
        l3->stats.drop_unsupported++;
        return 0;
    }
    /* The reply is built where the request lies, then moved behind a 20-byte header (options are not echoed). */
    uint8_t *icmp = (uint8_t *)ip.payload;
    size_t icmp_cap = cap - (size_t)(icmp - buf);
    int n = sea__icmp_echo_reply_build(icmp, icmp_cap, &ic);
    if (n < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    uint8_t *out = buf + SEA__ETH_HLEN + SEA__IPV4_HLEN;
    if (icmp != out)
        memmove(out, icmp, (size_t)n);
    uint32_t src = ip.src;
    uint8_t dst[6];
    memcpy(dst, eth->src, 6); /* back to the hop it came from, as the kernel does for an on-link peer */
    int h = sea__eth_build(buf, cap, dst, l3->cfg.mac, SEA__ETH_P_IPV4);
    struct sea__ipv4_args args = {
        .ttl = 64, .proto = SEA__IP_ICMP, .id = ip.id, .df = ip.df, .src = l3->cfg.addr, .dst = src,
        .payload_len = (size_t)n,
    };
    int hi = h < 0 ? h : sea__ipv4_build(buf + h, cap - (size_t)h, &args);
    if (hi < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    l3->stats.echo_replies_sent++;
    return (size_t)h + (size_t)hi + (size_t)n;
}

size_t sea__l3_input(struct sea__l3 *l3, uint8_t *buf, size_t len, size_t cap) {
    l3->stats.rx_frames++;
    l3->clock++;
    struct sea__eth eth;
    int rc = sea__eth_parse(buf, len, &eth);
    if (rc < 0) {
        l3->stats.drop_malformed++;
        return 0;
    }
    bool to_us = memcmp(eth.dst, l3->cfg.mac, 6) == 0;
    bool to_all = memcmp(eth.dst, bcast, 6) == 0;
    if (!to_us && !(to_all && eth.type == SEA__ETH_P_ARP)) {
        l3->stats.drop_not_ours++;
        return 0;
    }
    switch (eth.type) {
    case SEA__ETH_P_ARP:
        return arp_input(l3, buf, &eth, cap);
    case SEA__ETH_P_IPV4:
        return ipv4_input(l3, buf, &eth, cap);
    default:
        l3->stats.drop_unsupported++;
        return 0;
    }
}
