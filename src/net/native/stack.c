/*
 * net/native/stack.c - one shard's native stack put together (stack.h): the
 * poller that moves frames between the device (a TAP device, or a queue of an
 * interface through AF_XDP) and the protocols, the IPv4 output path with its
 * ARP resolution, and the device's fault injector.
 *
 * The poller runs every turn of the reactor's loop: at most a batch of
 * frames, so a flood cannot hold the shard, then the timers that are due
 * (TCP's, ARP's, reassembly's).  Before the loop sleeps it arms one
 * readiness wait on the device and lowers the loop's deadline to the
 * earliest of those timers.
 *
 * Output: TCP hands over a segment with room before it; the IPv4 and
 * Ethernet headers are written there, so a segment is never copied on its
 * way to the device; to a TAP it may go as its headers and references to
 * the payload where it lies (tcp_output_v), with the device's checksum and
 * segmentation offloads (sea__frame_meta).  On AF_XDP a turn's frames go
 * with one kick.  The next hop is the destination on our subnet, else
 * the gateway.  Without a fresh ARP entry the frame waits in a small queue
 * (ARP_QUEUE_MAX frames, oldest dropped first) while requests go out once a
 * second, three times; then its frames are dropped, and TCP's retransmission
 * tries again later, as it would after any loss.
 *
 * Input: TCP and UDP for our address go to their layers (a frame read into
 * memory TCP may keep: zero copy), ICMP errors about our segments to TCP on
 * the connection's shard, the rest through l3.c; a datagram that is not
 * ours or a protocol we do not speak gets an ICMP error (rate-limited).
 * With several shards a flow's frames belong to one shard (sea's hash or a
 * NIC's RSS) and UDP ports to the shard that bound them; what arrives
 * elsewhere is forwarded by message.
 */
#include "net/native/stack.h"

#include <sea/buffer.h>
#include <sea/error.h>
#include <sea/promise.h>
#include <sea/timer.h>

#include <errno.h>
#include <linux/if_tun.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/compiler.h"
#include "core/shard.h"
#include "net/native/frag.h"
#include "net/native/wire.h"
#include "net/native/xdp.h"

#define BATCH 64
#define ARP_QUEUE_MAX 64
#define ARP_RETRIES 3
#define ARP_RETRY ((sea_time)1000000000)

struct queued {
    uint32_t nexthop;
    size_t len;
    uint8_t *frame;
    struct sea__frame_meta meta;
};

/* A frame waiting out the injected delay. */
struct delayed {
    sea_time due;
    size_t len;
    uint8_t *frame;
};
#define DELAY_MAX 4096 /* frames; a full delay line drops, as a full queue would */

/* A datagram waiting on a bound UDP port. */
struct udp_dgram {
    struct udp_dgram *next;
    uint32_t from;
    uint16_t fport;
    size_t len;
    uint8_t data[];
};

struct sea__nudp {
    struct sea__nudp *next; /* the stack's bound ports */
    uint16_t port;
    void (*cb)(void *arg);
    void *arg;
    struct udp_dgram *head, **tail;
    size_t count, bytes;
};

struct resolving {
    uint32_t ip;          /* 0: free */
    sea_time next_try;
    int tries;
};

struct sea__nstack {
    struct sea__nstack_config cfg;
    struct sea__tap tap;   /* the device: this, or xdp when cfg.xdp is set */
    struct sea__xdp *xdp;
    struct sea__tap_stats dev_stats; /* the XDP device's counters in the TAP's terms (sea__nstack_tap_stats) */
    struct sea__l3 l3;
    struct sea__frag frag; /* IPv4 datagrams being reassembled */
    struct sea__tcp_engine tcp;
    struct sea__nudp *udp; /* bound UDP ports */
    struct sea__nstack_stats stats;
    uint16_t ip_id;
    uint8_t frame[SEA__TAP_FRAME_MAX];
    sea_buf rxmem; /* a TAP's frames are read here (a fresh one when TCP kept the last) */
    uint8_t whole[SEA__TAP_FRAME_MAX]; /* a reassembled datagram, as a frame */
    struct queued queue[ARP_QUEUE_MAX];
    size_t nqueued;
    struct resolving resolving[ARP_QUEUE_MAX];
    bool resolving_any; /* some entry of resolving may be in use (false: none is, no need to look) */
    /* the fault injector */
    uint64_t rng;
    uint8_t *held;        /* a frame held back to be sent after the next (reordering) */
    size_t held_len;
    struct delayed *delayed; /* frames waiting out the injected delay, in order (a ring of DELAY_MAX) */
    size_t delayed_head, delayed_count;
    /* the fiber's wake-ups */
    sea_abort_source wake;        /* cancels the readiness wait at the stop */
    sea_abort_subscription stop_sub;
    bool stopping, stop_fired;
    bool wait_armed;              /* a readiness wait on the device is pending */
    bool readable;                /* the device may have frames: the poller reads */
    bool run_pending;             /* sea__nstack_run's future is not resolved yet */
    int err;                      /* the device's error, which stopped the stack */
    sea_time next_due;            /* the earliest timer of the stack */
    sea_time held_since;          /* when the frame held for reordering was held */
    sea_time icmp_tat;            /* the ICMP error budget: when it is whole again (GCRA) */
    sea_promise done;
};

/* ---- the device ---- */

/* (meta asks only what the device took: a TAP's offloads; nothing of AF_XDP.) */
static int raw_send(struct sea__nstack *s, const uint8_t *frame, size_t len, const struct sea__frame_meta *meta) {
    if (s->cfg.capture) {
        s->cfg.capture(s->cfg.capture_ctx, frame, len, meta);
        return 0;
    }
    /* AF_XDP: queued, and sent with the turn's other frames when the poller flushes (one system call). */
    return s->xdp ? sea__xdp_send_later(s->xdp, frame, len) : sea__tap_send(&s->tap, frame, len, meta);
}

static sea_future dev_wait(struct sea__nstack *s, sea_abort_source *as) {
    return s->xdp ? sea__xdp_wait(s->xdp, as) : sea__tap_wait(&s->tap, as);
}

static const char *dev_name(const struct sea__nstack *s) {
    return s->xdp ? s->xdp->name : s->tap.name;
}

/* ---- the device, through the fault injector ---- */

static uint32_t chance(struct sea__nstack *s) {
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (uint32_t)(s->rng % 1000000);
}

/*
 * Sends now, or after the injected delay.  (A frame delayed or held for
 * reordering keeps no meta: the offloads are off while faults are injected.)
 */
static void delay_send(struct sea__nstack *s, const uint8_t *frame, size_t len, const struct sea__frame_meta *meta) {
    uint32_t us = s->cfg.faults.delay_us;
    if (!us) {
        raw_send(s, frame, len, meta);
        return;
    }
    if (!s->delayed && !(s->delayed = calloc(DELAY_MAX, sizeof(*s->delayed))))
        return;
    uint8_t *copy = s->delayed_count < DELAY_MAX ? malloc(len) : NULL;
    if (!copy) {
        s->stats.fault_lost++;
        return;
    }
    memcpy(copy, frame, len);
    struct delayed *d = &s->delayed[(s->delayed_head + s->delayed_count++) % DELAY_MAX];
    *d = (struct delayed){.due = sea_now() + (sea_time)us * 1000, .len = len, .frame = copy};
    s->stats.fault_delayed++;
}

/* Sends the delayed frames that are due; returns when the next one is (SEA_TIME_MAX: none waits). */
static sea_time delay_flush(struct sea__nstack *s, sea_time now) {
    while (s->delayed_count) {
        struct delayed *d = &s->delayed[s->delayed_head];
        if (d->due > now)
            return d->due;
        raw_send(s, d->frame, d->len, NULL);
        free(d->frame);
        s->delayed_head = (s->delayed_head + 1) % DELAY_MAX;
        s->delayed_count--;
    }
    return SEA_TIME_MAX;
}

static void dev_send(struct sea__nstack *s, uint8_t *frame, size_t len, const struct sea__frame_meta *meta) {
    const struct sea__nstack_faults *f = &s->cfg.faults;
    if (f->loss && chance(s) < f->loss) {
        s->stats.fault_lost++;
        return;
    }
    if (f->corrupt && chance(s) < f->corrupt && len > 14) {
        frame[14 + (s->rng >> 20) % (len - 14)] ^= (uint8_t)(1u << ((s->rng >> 8) % 8));
        s->stats.fault_corrupt++;
    }
    if (f->reorder && !s->held && chance(s) < f->reorder) {
        s->held = malloc(len);
        s->held_since = sea_now();
        if (s->held) {
            memcpy(s->held, frame, len);
            s->held_len = len;
            s->stats.fault_reordered++;
            return;
        }
    }
    delay_send(s, frame, len, meta);
    if (f->dup && chance(s) < f->dup) {
        delay_send(s, frame, len, NULL);
        s->stats.fault_dup++;
    }
    if (s->held) {
        delay_send(s, s->held, s->held_len, NULL);
        free(s->held);
        s->held = NULL;
    }
}

/*
 * Sends an Ethernet frame carrying an IPv4 datagram larger than the MTU
 * (an echo reply to a reassembled request) as fragments, each within the
 * MTU: payload pieces of a multiple of 8 bytes behind copies of its header.
 * A datagram that forbids fragments is dropped, as a router would.
 */
static void send_fragmented(struct sea__nstack *s, uint8_t *frame, size_t len) {
    struct sea__ipv4 ip;
    if (sea__ipv4_parse(frame + SEA__ETH_HLEN, len - SEA__ETH_HLEN, &ip) < 0 || ip.df || ip.options_len) {
        s->stats.too_big++;
        return;
    }
    size_t mtu = s->cfg.tcp.mtu ? s->cfg.tcp.mtu : 1500;
    size_t piece = (mtu - SEA__IPV4_HLEN) & ~(size_t)7;
    uint8_t out[SEA__ETH_HLEN + 1500 + 64];
    if (piece + SEA__ETH_HLEN + SEA__IPV4_HLEN > sizeof(out))
        piece = (sizeof(out) - SEA__ETH_HLEN - SEA__IPV4_HLEN) & ~(size_t)7;
    for (size_t off = 0; off < ip.payload_len; off += piece) {
        size_t n = ip.payload_len - off < piece ? ip.payload_len - off : piece;
        memcpy(out, frame, SEA__ETH_HLEN);
        struct sea__ipv4_args a = {.tos = ip.tos, .ttl = ip.ttl, .proto = ip.proto, .id = ip.id,
                                   .mf = off + n < ip.payload_len, .frag_offset = (uint16_t)off,
                                   .src = ip.src, .dst = ip.dst, .payload_len = n};
        if (sea__ipv4_build(out + SEA__ETH_HLEN, SEA__IPV4_HLEN + n, &a) < 0)
            return;
        memcpy(out + SEA__ETH_HLEN + SEA__IPV4_HLEN, ip.payload + off, n);
        dev_send(s, out, SEA__ETH_HLEN + SEA__IPV4_HLEN + n, NULL);
    }
    s->stats.fragmented++;
}

/*
 * A whole IPv4 frame, resolved: sent as it is, or in fragments if it
 * exceeds the MTU; a TCP segment for the device to cut (meta's gso_size)
 * goes as it is.
 */
static void send_ip_frame(struct sea__nstack *s, uint8_t *frame, size_t len, const struct sea__frame_meta *meta) {
    size_t mtu = s->cfg.tcp.mtu ? s->cfg.tcp.mtu : 1500;
    if (len > SEA__ETH_HLEN + mtu && !(meta && meta->gso_size))
        send_fragmented(s, frame, len);
    else
        dev_send(s, frame, len, meta);
}

/* ---- IPv4 output and ARP ---- */

static bool on_subnet(const struct sea__nstack *s, uint32_t ip) {
    return (ip & s->cfg.netmask) == (s->cfg.addr & s->cfg.netmask);
}

static struct resolving *resolving_find(struct sea__nstack *s, uint32_t ip, bool add) {
    struct resolving *free_slot = NULL;
    for (size_t i = 0; i < ARP_QUEUE_MAX; i++) {
        if (s->resolving[i].ip == ip)
            return &s->resolving[i];
        if (!s->resolving[i].ip && !free_slot)
            free_slot = &s->resolving[i];
    }
    if (add && free_slot) {
        s->resolving_any = true;
        free_slot->ip = ip;
        free_slot->tries = 0;
        free_slot->next_try = 0;
    }
    return add ? free_slot : NULL;
}

static bool many(const struct sea__nstack *s) {
    return s->cfg.nshards > 1;
}

/*
 * The shard of the TCP flow whose segments come from src:sport to
 * dst:dport: the queue the NIC's RSS puts them on, or sea's own hash (the
 * one the TAP's steering program and veth_steer compute).
 */
static unsigned flow_shard(const struct sea__nstack *s, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    if (s->cfg.rss)
        return sea__rss_queue(s->cfg.rss, src, dst, sport, dport) % s->cfg.nshards;
    return sea__steer_hash(src, dst, sport, dport) % s->cfg.nshards;
}

static void arp_ask(struct sea__nstack *s, struct resolving *r, sea_time now) {
    if (many(s) && s->cfg.shard != 0) { /* ARP is shard 0's: it asks, and tells every shard the answer */
        s->cfg.peers.arp_needed(s->cfg.peers.ctx, r->ip);
        r->tries++;
        r->next_try = now + ARP_RETRY;
        return;
    }
    uint8_t req[64];
    size_t n = sea__l3_arp_request(&s->l3, r->ip, req, sizeof(req));
    if (n)
        dev_send(s, req, n, NULL);
    s->stats.arp_requests++;
    r->tries++;
    r->next_try = now + ARP_RETRY;
}

/* Sends the queued frames whose next hop is now known; drops those of resolutions that gave up. */
static void queue_flush(struct sea__nstack *s, sea_time now) {
    size_t kept = 0;
    for (size_t i = 0; i < s->nqueued; i++) {
        struct queued *q = &s->queue[i];
        const uint8_t *mac = sea__arp_lookup_fresh(&s->l3, q->nexthop, now, s->cfg.arp_expiry);
        struct resolving *r = resolving_find(s, q->nexthop, false);
        if (mac) {
            memcpy(q->frame, mac, 6);
            send_ip_frame(s, q->frame, q->len, &q->meta);
            free(q->frame);
        } else if (!r) {
            s->stats.arp_dropped++;
            free(q->frame);
        } else {
            s->queue[kept++] = *q;
        }
    }
    s->nqueued = kept;
    for (size_t i = 0; i < ARP_QUEUE_MAX; i++) {
        struct resolving *r = &s->resolving[i];
        if (r->ip && sea__arp_lookup_fresh(&s->l3, r->ip, now, s->cfg.arp_expiry))
            r->ip = 0;
    }
}

static void arp_timers(struct sea__nstack *s, sea_time now) {
    bool gave_up = false;
    for (size_t i = 0; i < ARP_QUEUE_MAX; i++) {
        struct resolving *r = &s->resolving[i];
        if (!r->ip || r->next_try > now)
            continue;
        if (r->tries >= ARP_RETRIES) {
            r->ip = 0;
            gave_up = true;
        } else {
            arp_ask(s, r, now);
        }
    }
    if (gave_up)
        queue_flush(s, now);
}

/* The next ARP retry (SEA_TIME_MAX: none).  Asked every turn of the loop, so it looks only while some resolution is on. */
static sea_time arp_deadline(struct sea__nstack *s) {
    if (!s->resolving_any)
        return SEA_TIME_MAX;
    sea_time d = SEA_TIME_MAX;
    bool any = false;
    for (size_t i = 0; i < ARP_QUEUE_MAX; i++)
        if (s->resolving[i].ip) {
            any = true;
            if (s->resolving[i].next_try < d)
                d = s->resolving[i].next_try;
        }
    s->resolving_any = any;
    return d;
}

/*
 * An IPv4 packet of proto, whose payload lies at payload with 34 bytes of
 * room before it; meta (NULL: none) is what the device is to do with it.
 */
static void ip_output(struct sea__nstack *s, uint32_t dst, uint8_t proto, uint8_t *payload, size_t len,
                      const struct sea__frame_meta *meta) {
    uint32_t hop = on_subnet(s, dst) ? dst : s->cfg.gw;
    if (!hop) {
        s->stats.no_route++;
        return;
    }
    uint8_t *ip = payload - SEA__IPV4_HLEN, *eth = ip - SEA__ETH_HLEN;
    struct sea__ipv4_args a = {.ttl = 64, .proto = proto, .id = s->ip_id++, .df = true, .src = s->cfg.addr,
                               .dst = dst, .payload_len = len};
    if (sea__ipv4_build(ip, SEA__IPV4_HLEN + len, &a) < 0)
        return;
    sea_time now = sea_now();
    const uint8_t *mac = sea__arp_lookup_fresh(&s->l3, hop, now, s->cfg.arp_expiry);
    static const uint8_t none[6];
    sea__eth_build(eth, SEA__ETH_HLEN, mac ? mac : none, s->cfg.mac, SEA__ETH_P_IPV4);
    size_t flen = SEA__ETH_HLEN + SEA__IPV4_HLEN + len;
    if (mac) {
        send_ip_frame(s, eth, flen, meta);
        return;
    }
    /* Queue it behind the resolution; a full queue gives up its oldest frame. */
    struct resolving *r = resolving_find(s, hop, true);
    if (!r) {
        s->stats.arp_dropped++;
        return;
    }
    if (s->nqueued == ARP_QUEUE_MAX) {
        free(s->queue[0].frame);
        memmove(&s->queue[0], &s->queue[1], sizeof(s->queue[0]) * (ARP_QUEUE_MAX - 1));
        s->nqueued--;
        s->stats.arp_dropped++;
    }
    uint8_t *copy = malloc(flen);
    if (!copy) {
        s->stats.arp_dropped++;
        return;
    }
    memcpy(copy, eth, flen);
    s->queue[s->nqueued++] =
        (struct queued){.nexthop = hop, .len = flen, .frame = copy, .meta = meta ? *meta : (struct sea__frame_meta){0}};
    s->stats.arp_queued++;
    if (r->tries == 0)
        arp_ask(s, r, now);
}

/*
 * A TCP segment as its header and its payload's pieces (tcp.h's output_v),
 * for a TAP without faults: the kernel gathers them as it copies, so the
 * payload is never copied here.  false (the engine then copies it whole and
 * calls tcp_output) when it must wait for ARP or be cut into fragments.
 */
static bool tcp_output_v(void *ctx, uint32_t dst, uint8_t *hdr, size_t hlen, const struct iovec *iov, int niov,
                         size_t plen, uint16_t gso_size) {
    struct sea__nstack *s = ctx;
    size_t mtu = s->cfg.tcp.mtu ? s->cfg.tcp.mtu : 1500;
    uint32_t hop = on_subnet(s, dst) ? dst : s->cfg.gw;
    const uint8_t *mac = hop ? sea__arp_lookup_fresh(&s->l3, hop, sea_lowres_now(), s->cfg.arp_expiry) : NULL;
    if (!mac || (!gso_size && SEA__IPV4_HLEN + hlen + plen > mtu))
        return false;
    uint8_t *ip = hdr - SEA__IPV4_HLEN, *eth = ip - SEA__ETH_HLEN;
    struct sea__ipv4_args a = {.ttl = 64, .proto = SEA__IP_TCP, .id = s->ip_id++, .df = true, .src = s->cfg.addr,
                               .dst = dst, .payload_len = hlen + plen};
    if (sea__ipv4_build(ip, SEA__IPV4_HLEN + hlen + plen, &a) < 0)
        return true; /* (cannot be: the engine's segments fit) dropped, TCP sends again */
    sea__eth_build(eth, SEA__ETH_HLEN, mac, s->cfg.mac, SEA__ETH_P_IPV4);
    struct sea__frame_meta meta = {.gso_size = gso_size, .csum_partial = s->tcp.cfg.csum_offload};
    sea__tap_send_v(&s->tap, eth, SEA__ETH_HLEN + SEA__IPV4_HLEN + hlen, iov, niov, plen, &meta);
    return true;
}

static void tcp_output(void *ctx, uint32_t dst, uint8_t *seg, size_t len, uint16_t gso_size) {
    struct sea__nstack *s = ctx;
    struct sea__frame_meta meta = {.gso_size = gso_size, .csum_partial = s->tcp.cfg.csum_offload};
    ip_output(s, dst, SEA__IP_TCP, seg, len, &meta);
}

/* ---- input ---- */

static uint16_t be16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void frame_input(struct sea__nstack *s, const uint8_t *data, size_t len, const sea_buf *mem,
                        bool csum_verified, sea_time now);
static void udp_input(struct sea__nstack *s, const struct sea__ipv4 *ip);
static struct sea__nudp *udp_find(const struct sea__nstack *s, uint16_t port);

/* ---- ICMP errors ---- */

#define ICMP_ERROR_COST 1000000             /* ns of the budget one message takes: 1,000 a second */
#define ICMP_ERROR_BURST (50 * (sea_time)1000000) /* ... and up to 50 at once */

/*
 * Tells the sender of ip (a whole datagram for us) that it could not be
 * delivered, as RFC 1122 §3.2.2 asks: never about an ICMP error, never to
 * a source that is not one host, and at most 1,000 a second with bursts of
 * 50 (as Linux's default), so a flood of datagrams for closed ports cannot
 * make the stack a flood of its own.
 */
static void icmp_error_send(struct sea__nstack *s, const struct sea__ipv4 *ip, uint8_t type, uint8_t code) {
    uint32_t src = ip->src;
    if (!sea__l3_may_answer(src, s->cfg.netmask) ||
        (ip->proto == SEA__IP_ICMP && ip->payload_len && sea__icmp_is_error(ip->payload[0]))) {
        s->stats.icmp_errors_limited++;
        return;
    }
    sea_time now = sea_lowres_now();
    if (s->icmp_tat < now)
        s->icmp_tat = now;
    if (s->icmp_tat - now > ICMP_ERROR_BURST) {
        s->stats.icmp_errors_limited++;
        return;
    }
    s->icmp_tat += ICMP_ERROR_COST;
    uint8_t out[SEA__ETH_HLEN + SEA__IPV4_HLEN + SEA__ICMP_HLEN + 60 + 8];
    const uint8_t *orig = ip->payload - ip->header_len;
    int n = sea__icmp_error_build(out + SEA__ETH_HLEN + SEA__IPV4_HLEN, sizeof(out) - SEA__ETH_HLEN - SEA__IPV4_HLEN,
                                  type, code, 0, orig, ip->header_len + ip->payload_len);
    if (n < 0)
        return;
    s->stats.icmp_errors_sent++;
    ip_output(s, src, SEA__IP_ICMP, out + SEA__ETH_HLEN + SEA__IPV4_HLEN, (size_t)n, NULL);
}

/*
 * An ICMP message for us: true when it was an error, taken here (a
 * destination unreachable about one of our TCP segments goes to TCP, on the
 * connection's shard), false for the others (echo: l3's).
 */
static bool icmp_error_input(struct sea__nstack *s, const struct sea__ipv4 *ip, const uint8_t *data, size_t len,
                             sea_time now) {
    struct sea__icmp ic;
    struct sea__icmp_quote q;
    if (sea__icmp_parse(ip->payload, ip->payload_len, &ic) < 0 || !sea__icmp_is_error(ic.type))
        return false;
    if (ic.type != SEA__ICMP_DEST_UNREACH || sea__icmp_quote_parse(&ic, &q) < 0 || q.src != s->cfg.addr ||
        q.proto != SEA__IP_TCP) {
        s->stats.icmp_errors_received++; /* nothing of ours to tell: counted, dropped */
        return true;
    }
    if (many(s)) { /* the connection's shard: by the hash of its segments coming in */
        unsigned owner = flow_shard(s, q.dst, q.src, q.dport, q.sport);
        if (owner != s->cfg.shard) {
            s->stats.forwarded++;
            s->cfg.peers.forward(s->cfg.peers.ctx, owner, data, len, false);
            return true;
        }
    }
    s->stats.icmp_errors_received++;
    /* (The header's last 16 bits: the next hop's MTU for fragmentation needed, RFC 1191.) */
    sea__tcp_icmp_unreach(&s->tcp, q.dst, q.sport, q.dport, q.seq, ic.code, ic.seq, now);
    return true;
}

/*
 * A fragment for us: into the reassembly table (frag.c, its limits and
 * rules); a datagram it completes is handled as a frame of its own, an
 * Ethernet and a fresh IPv4 header before its payload, built in the spare
 * frame buffer (its options are not kept: the stack reads none).
 */
static void fragment_input(struct sea__nstack *s, const struct sea__eth *eth, const struct sea__ipv4 *ip,
                           sea_time now) {
    struct sea__frag_datagram d;
    if (sea__frag_input(&s->frag, ip, (uint64_t)now, &d) != 1)
        return; /* held, or refused: counted in s->frag.stats */
    size_t n = d.ip.payload_len;
    if (SEA__ETH_HLEN + SEA__IPV4_HLEN + n > sizeof(s->whole)) {
        sea__frag_release(&s->frag);
        return;
    }
    uint8_t *f = s->whole;
    sea__eth_build(f, SEA__ETH_HLEN, eth->dst, eth->src, SEA__ETH_P_IPV4);
    struct sea__ipv4_args a = {.tos = d.ip.tos, .ttl = d.ip.ttl, .proto = d.ip.proto, .id = d.ip.id,
                               .src = d.ip.src, .dst = d.ip.dst, .payload_len = n};
    sea__ipv4_build(f + SEA__ETH_HLEN, SEA__IPV4_HLEN + n, &a);
    memcpy(f + SEA__ETH_HLEN + SEA__IPV4_HLEN, d.ip.payload, n);
    sea__frag_release(&s->frag);
    s->stats.reassembled++;
    frame_input(s, f, SEA__ETH_HLEN + SEA__IPV4_HLEN + n, NULL, false, now);
}

/*
 * One frame; mem: the buffer it lies in, which TCP may keep a reference to
 * (NULL: memory the stack reuses); csum_verified: the device vouches for the
 * TCP or UDP checksum inside (sea__frame_meta).
 */
static void frame_input(struct sea__nstack *s, const uint8_t *data, size_t len, const sea_buf *mem,
                        bool csum_verified, sea_time now) {
    struct sea__eth eth;
    struct sea__ipv4 ip;
    /* TCP and UDP for us go straight to their layers; everything else (ARP, ICMP, the refused) through l3. */
    bool parsed = sea__eth_parse(data, len, &eth) == 0;
    bool ours = parsed && eth.type == SEA__ETH_P_IPV4 && memcmp(eth.dst, s->cfg.mac, 6) == 0 &&
                sea__ipv4_parse(eth.payload, eth.payload_len, &ip) == 0 && ip.dst == s->cfg.addr;
    if (ours && (ip.mf || ip.frag_offset)) {
        if (many(s) && s->cfg.shard != 0) { /* the steering sends fragments to shard 0: this one strayed */
            s->stats.forwarded++;
            s->cfg.peers.forward(s->cfg.peers.ctx, 0, data, len, csum_verified);
            return;
        }
        fragment_input(s, &eth, &ip, now);
        return;
    }
    if (ours && ip.proto == SEA__IP_TCP) {
        if (many(s) && ip.payload_len >= 4) {
            /* The flow's shard, by the hash the steering program gives the kernel: rarely another. */
            unsigned owner = flow_shard(s, ip.src, ip.dst, be16(ip.payload), be16(ip.payload + 2));
            if (owner != s->cfg.shard) {
                s->stats.forwarded++;
                s->cfg.peers.forward(s->cfg.peers.ctx, owner, data, len, csum_verified);
                return;
            }
        }
        s->l3.stats.rx_frames++;
        ip.l4_csum_verified = csum_verified;
        sea__tcp_input(&s->tcp, &ip, mem, now);
        return;
    }
    if (ours && ip.proto == SEA__IP_ICMP && icmp_error_input(s, &ip, data, len, now))
        return;
    /* A datagram shard 0 passed on, for a port bound here (its checksum still to check, as shard 0 left it). */
    bool udp_here = ours && ip.proto == SEA__IP_UDP && ip.payload_len >= 4 && udp_find(s, be16(ip.payload + 2));
    if (many(s) && s->cfg.shard != 0 && !udp_here) { /* ARP, ICMP and UDP are shard 0's */
        s->stats.forwarded++;
        s->cfg.peers.forward(s->cfg.peers.ctx, 0, data, len, csum_verified);
        return;
    }
    if (ours && ip.proto == SEA__IP_UDP) {
        s->l3.stats.rx_frames++;
        ip.l4_csum_verified = csum_verified;
        udp_input(s, &ip);
        return;
    }
    if (ours && ip.proto != SEA__IP_ICMP) { /* (TCP and UDP were taken above) */
        s->stats.proto_unreachable++;
        icmp_error_send(s, &ip, SEA__ICMP_DEST_UNREACH, SEA__ICMP_PROTO_UNREACH);
        return;
    }
    /* An ARP packet's sender, read before l3 writes its answer over the frame: shard 0 tells the others. */
    struct sea__arp arp;
    bool is_arp = parsed && eth.type == SEA__ETH_P_ARP && sea__arp_parse(eth.payload, eth.payload_len, &arp) == 0;
    if (data != s->frame) /* l3 writes its answer over the frame: into our buffer, not the device's memory */
        memcpy(s->frame, data, len);
    uint64_t learned = s->l3.stats.arp_learned;
    s->l3.now = now;
    size_t r = sea__l3_input(&s->l3, s->frame, len, sizeof(s->frame));
    size_t mtu = s->cfg.tcp.mtu ? s->cfg.tcp.mtu : 1500;
    if (r > SEA__ETH_HLEN + mtu)
        send_fragmented(s, s->frame, r);
    else if (r)
        dev_send(s, s->frame, r, NULL);
    if (s->l3.stats.arp_learned != learned) {
        if (is_arp && many(s))
            s->cfg.peers.arp_learned(s->cfg.peers.ctx, arp.spa, arp.sha);
        if (s->nqueued)
            queue_flush(s, now);
    }
}

void sea__nstack_frame_in(struct sea__nstack *s, const uint8_t *frame, size_t len, bool csum_verified) {
    if (len > sizeof(s->frame))
        return;
    /* (A copy made for this shard: it may be read in place, as a device's frame is.) */
    frame_input(s, frame, len, NULL, csum_verified, sea_now());
}

void sea__nstack_arp_learn(struct sea__nstack *s, uint32_t ip, const uint8_t mac[6]) {
    sea_time now = sea_now();
    s->l3.now = now;
    sea__l3_learn(&s->l3, ip, mac);
    struct resolving *r = resolving_find(s, ip, false);
    if (r)
        r->ip = 0;
    if (s->nqueued)
        queue_flush(s, now);
}

void sea__nstack_arp_resolve(struct sea__nstack *s, uint32_t ip) {
    sea_time now = sea_now();
    const uint8_t *mac = sea__arp_lookup_fresh(&s->l3, ip, now, s->cfg.arp_expiry);
    if (mac) {
        s->cfg.peers.arp_learned(s->cfg.peers.ctx, ip, mac);
        return;
    }
    struct resolving *r = resolving_find(s, ip, true);
    if (r && r->tries == 0)
        arp_ask(s, r, now);
}

static bool port_lands_here(void *ctx, uint16_t lport, uint32_t raddr, uint16_t rport) {
    struct sea__nstack *s = ctx;
    return flow_shard(s, raddr, s->cfg.addr, rport, lport) == s->cfg.shard;
}

/* ---- UDP ---- */

/* A datagram for a port another shard bound: its frame, as it came (the Ethernet header before ip's). */
static void udp_forward(struct sea__nstack *s, const struct sea__ipv4 *ip, unsigned shard) {
    const uint8_t *frame = ip->payload - ip->header_len - SEA__ETH_HLEN;
    s->cfg.peers.forward(s->cfg.peers.ctx, shard, frame, SEA__ETH_HLEN + ip->header_len + ip->payload_len,
                         ip->l4_csum_verified);
}

static void udp_input(struct sea__nstack *s, const struct sea__ipv4 *ip) {
    struct sea__udp u;
    int parsed = ip->l4_csum_verified ? sea__udp_parse_verified(ip->payload, ip->payload_len, &u)
                                      : sea__udp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &u);
    if (parsed < 0) {
        s->stats.udp_dropped++;
        return;
    }
    struct sea__nudp *b = udp_find(s, u.dport);
    uint8_t owner = many(s) && !b ? atomic_load(&s->cfg.udp_owners[u.dport]) : 0;
    if (owner && owner - 1u != s->cfg.shard) { /* bound on another shard: its datagram (the frame, rebuilt) */
        s->stats.forwarded++;
        udp_forward(s, ip, owner - 1u);
        return;
    }
    if (!b) {
        s->stats.udp_no_port++;
        icmp_error_send(s, ip, SEA__ICMP_DEST_UNREACH, SEA__ICMP_PORT_UNREACH);
        return;
    }
    if (b->count >= SEA__NUDP_QUEUE_MAX || b->bytes + u.payload_len > SEA__NUDP_QUEUE_BYTES) {
        s->stats.udp_dropped++; /* the owner is not reading: a full socket buffer drops, as the kernel's does */
        return;
    }
    struct udp_dgram *d = malloc(sizeof(*d) + u.payload_len);
    if (!d) {
        s->stats.udp_dropped++;
        return;
    }
    d->next = NULL;
    d->from = ip->src;
    d->fport = u.sport;
    d->len = u.payload_len;
    memcpy(d->data, u.payload, u.payload_len);
    *b->tail = d;
    b->tail = &d->next;
    b->count++;
    b->bytes += d->len;
    s->stats.udp_in++;
    if (b->cb)
        b->cb(b->arg);
}

static struct sea__nudp *udp_find(const struct sea__nstack *s, uint16_t port) {
    struct sea__nudp *b = s->udp;
    while (b && b->port != port)
        b = b->next;
    return b;
}

/*
 * Takes port for this stack: in the shards' shared table when there are
 * several (a compare-and-swap: two shards cannot both have it), else in
 * its own list.  false: taken.
 */
static bool udp_claim(struct sea__nstack *s, uint16_t port) {
    if (!many(s))
        return !udp_find(s, port);
    uint8_t none = 0;
    return atomic_compare_exchange_strong(&s->cfg.udp_owners[port], &none, (uint8_t)(s->cfg.shard + 1));
}

int sea__nstack_udp_bind(struct sea__nstack *s, uint16_t port, void (*cb)(void *arg), void *arg,
                         struct sea__nudp **out) {
    if (many(s) && (!s->cfg.udp_owners || s->cfg.nshards > 255))
        return -EOPNOTSUPP;
    if (!port) { /* a free one, from a random start */
        uint32_t start = (uint32_t)(s->rng ^ (uint64_t)sea_now()) % 28232;
        for (uint32_t i = 0; i < 28232 && !port; i++) {
            uint16_t p = (uint16_t)(32768 + (start + i) % 28232);
            if (udp_claim(s, p))
                port = p;
        }
        if (!port)
            return -EADDRINUSE;
    } else if (!udp_claim(s, port)) {
        return -EADDRINUSE;
    }
    struct sea__nudp *u = calloc(1, sizeof(*u));
    if (!u) {
        if (many(s))
            atomic_store(&s->cfg.udp_owners[port], 0);
        return -ENOMEM;
    }
    u->port = port;
    u->cb = cb;
    u->arg = arg;
    u->tail = &u->head;
    u->next = s->udp;
    s->udp = u;
    *out = u;
    return 0;
}

uint16_t sea__nstack_udp_port(const struct sea__nudp *u) {
    return u->port;
}

bool sea__nstack_udp_waiting(const struct sea__nudp *u) {
    return u->head != NULL;
}

long sea__nstack_udp_recv(struct sea__nstack *s, struct sea__nudp *u, void *buf, size_t len, uint32_t *from,
                          uint16_t *fport) {
    (void)s;
    struct udp_dgram *d = u->head;
    if (!d)
        return -EAGAIN;
    u->head = d->next;
    if (!u->head)
        u->tail = &u->head;
    u->count--;
    u->bytes -= d->len;
    size_t n = d->len < len ? d->len : len;
    memcpy(buf, d->data, n);
    if (from)
        *from = d->from;
    if (fport)
        *fport = d->fport;
    free(d);
    return (long)n;
}

int sea__nstack_udp_send(struct sea__nstack *s, struct sea__nudp *u, uint32_t dst, uint16_t dport, const void *data,
                         size_t len) {
    if (len > 65535 - SEA__IPV4_HLEN - SEA__UDP_HLEN)
        return -EMSGSIZE;
    if (!on_subnet(s, dst) && !s->cfg.gw)
        return -ENETUNREACH;
    size_t head = SEA__ETH_HLEN + SEA__IPV4_HLEN;
    uint8_t *buf = malloc(head + SEA__UDP_HLEN + len);
    if (!buf)
        return -ENOMEM;
    memcpy(buf + head + SEA__UDP_HLEN, data, len);
    int rc = sea__udp_build(buf + head, SEA__UDP_HLEN, u->port, dport, s->cfg.addr, dst, buf + head + SEA__UDP_HLEN,
                            len);
    if (rc >= 0) {
        ip_output(s, dst, SEA__IP_UDP, buf + head, SEA__UDP_HLEN + len, NULL);
        s->stats.udp_out++;
    }
    free(buf);
    return rc < 0 ? rc : 0;
}

void sea__nstack_udp_close(struct sea__nstack *s, struct sea__nudp *u) {
    for (struct sea__nudp **pp = &s->udp; *pp; pp = &(*pp)->next)
        if (*pp == u) {
            *pp = u->next;
            break;
        }
    if (many(s))
        atomic_store(&s->cfg.udp_owners[u->port], 0); /* the port is free for any shard again */
    while (u->head) {
        struct udp_dgram *d = u->head;
        u->head = d->next;
        free(d);
    }
    free(u);
}

/* ---- the poller ---- */

/*
 * The stack runs from a poller the reactor calls every turn of its loop
 * (the same hook the cross-shard queues and the disk use): it handles the
 * frames the device has, up to a batch, and the timers that are due.  A
 * busy shard so reads an AF_XDP ring with no system call at all, and a TAP
 * device while it has frames.  Before the loop sleeps, try_sleep arms one
 * readiness wait on the device and lowers the loop's deadline to the
 * stack's earliest timer.  The loop keeps the poller for good (it has no
 * removal), so it points at the running stack of its shard, or at none.
 */
static __thread struct sea__poller poller;
static __thread bool poller_added;
static __thread struct sea__nstack *running; /* this shard's stack that the poller runs */

/* The earliest moment the stack has something to do without a frame. */
static sea_time next_deadline(struct sea__nstack *s, sea_time now) {
    sea_time d = sea__tcp_next_deadline(&s->tcp);
    uint64_t fd = sea__frag_next_expiry(&s->frag);
    if (fd != UINT64_MAX && (sea_time)fd < d)
        d = (sea_time)fd;
    sea_time ad = arp_deadline(s);
    if (ad < d)
        d = ad;
    if (s->held && now + 1000000 < d) /* a frame held for reordering goes out within a millisecond */
        d = now + 1000000;
    if (s->delayed_count && s->delayed[s->delayed_head].due < d)
        d = s->delayed[s->delayed_head].due;
    return d;
}

/* Frames from the device, up to a batch: how many; a device error stops the stack. */
static unsigned rx_batch(struct sea__nstack *s, sea_time now) {
    unsigned done = 0;
    for (int i = 0; i < BATCH; i++) {
        /* AF_XDP: the frame is read where the kernel put it, and given back once handled. */
        struct sea__xdp_frame xf;
        struct sea__frame_meta meta = {0};
        uint8_t *data = s->frame;
        const sea_buf *mem = NULL;
        ssize_t n;
        sea_buf kept = SEA_BUF_EMPTY;
        if (s->xdp) {
            n = sea__xdp_recv_hold(s->xdp, &xf);
            if (n == 0) {
                data = xf.data;
                n = xf.len;
                /*
                 * A frame large enough for TCP to keep its payload goes in as a
                 * buffer of its UMEM frame (given back when TCP is done with it);
                 * small ones, most of a request-response load, are read in place
                 * and given back at once, at no extra cost.
                 */
                if (xf.len >= s->xdp->frame_size / 4 && sea__xdp_recv_keep(s->xdp, &xf, &kept) == 0)
                    mem = &kept;
            }
        } else {
            /*
             * Into a buffer TCP can keep: a large segment then reaches the
             * reader without a copy, and the next read takes fresh memory.
             */
            if (!s->rxmem.owner)
                sea_buf_new(&s->rxmem, SEA__TAP_FRAME_MAX); /* (without memory: the fixed buffer, copied from) */
            if (s->rxmem.owner) {
                mem = &s->rxmem;
                data = (uint8_t *)s->rxmem.data;
            }
            n = sea__tap_recv(&s->tap, data, SEA__TAP_FRAME_MAX, &meta);
        }
        if (n == -EAGAIN) {
            s->readable = false; /* drained: the next sleep waits for the device */
            break;
        }
        if (n < 0) {
            s->err = (int)n;
            s->stopping = true;
            break;
        }
        done++;
        const struct sea__nstack_faults *f = &s->cfg.faults;
        if (f->loss && chance(s) < f->loss) {
            s->stats.fault_lost++;
        } else {
            if (f->corrupt && chance(s) < f->corrupt && n > 14) {
                data[14 + (size_t)(s->rng >> 20) % ((size_t)n - 14)] ^= (uint8_t)(1u << ((s->rng >> 8) % 8));
                s->stats.fault_corrupt++;
            }
            frame_input(s, data, (size_t)n, mem, meta.csum_verified, now);
        }
        if (mem == &s->rxmem && sea_buf_refs(mem) > 1)
            sea_buf_release(&s->rxmem); /* TCP holds it now */
        if (kept.owner)
            sea_buf_release(&kept); /* back to the fill ring now, or when TCP lets go of it */
        else if (s->xdp)
            sea__xdp_recv_release(s->xdp, &xf);
    }
    return done;
}

static void maybe_finished(struct sea__nstack *s);

static unsigned stack_poll(void *state) {
    (void)state;
    struct sea__nstack *s = running;
    if (!s || s->stopping)
        return 0;
    sea_time now = sea_lowres_now(); /* the time the loop read this turn: no clock call per poll */
    unsigned done = 0;
    if (s->xdp || s->readable)
        done += rx_batch(s, now);
    if (now >= s->next_due) {
        sea__tcp_tick(&s->tcp, now);
        arp_timers(s, now);
        sea__frag_expire(&s->frag, (uint64_t)now);
        delay_flush(s, now);
        if (s->held && now >= s->held_since + 1000000) {
            delay_send(s, s->held, s->held_len, NULL);
            free(s->held);
            s->held = NULL;
        }
        done++;
    }
    s->next_due = next_deadline(s, now);
    if (s->xdp) /* what this turn and the tasks of the last one sent, with one kick */
        sea__xdp_flush(s->xdp);
    if (s->stopping)
        maybe_finished(s);
    return done;
}

static sea_future readable_again(struct sea__nstack **sp, sea_future *in) {
    struct sea__nstack *s = *sp;
    s->wait_armed = false;
    int rc = sea_future_failed(in) ? sea_future_error(in) : 0;
    if (rc && rc != SEA_ECANCELED) {
        s->err = rc;
        s->stopping = true;
    } else if (!rc) {
        s->readable = true;
    }
    maybe_finished(s);
    return sea_ready();
}

static bool stack_try_sleep(void *state, sea_time *deadline) {
    (void)state;
    struct sea__nstack *s = running;
    if (!s || s->stopping)
        return true;
    s->next_due = next_deadline(s, sea_now()); /* (a task may have armed a timer since the last poll) */
    if (s->xdp)
        sea__xdp_flush(s->xdp); /* (nothing waits on the TX ring through a sleep) */
    if (s->next_due < *deadline)
        *deadline = s->next_due;
    if (!s->wait_armed) {
        sea_abort_source_init(&s->wake);
        s->wait_armed = true;
        sea_future w = dev_wait(s, &s->wake);
        sea_future_detach(sea_then_wrapped(w, readable_again, s));
    }
    return true;
}

/* The stop was asked and no wait is left on the device: the run's future resolves. */
static void maybe_finished(struct sea__nstack *s) {
    if (!s->stopping || s->wait_armed || !s->run_pending)
        return;
    if (running == s)
        running = NULL;
    s->run_pending = false;
    if (s->err)
        sea_promise_set_error_fmt(&s->done, s->err, "native stack: the device %s failed: %s", dev_name(s),
                                  sea_strerror(s->err));
    else
        sea_promise_set_void(&s->done);
    sea_promise_release(&s->done);
}

static void on_stop(sea_abort_subscription *sub, int err) {
    (void)err;
    struct sea__nstack *s = sea__container_of(sub, struct sea__nstack, stop_sub);
    s->stopping = true;
    s->stop_fired = true;
    if (s->wait_armed && !sea_abort_requested(&s->wake))
        sea_abort_source_request(&s->wake, SEA_ECANCELED); /* readable_again then finishes */
    maybe_finished(s);
}

sea_future sea__nstack_run(struct sea__nstack *s, sea_abort_source *stop) {
    struct sea__shard *sh = sea__shard_current;
    if (!sh)
        return sea_failed(SEA_ESHUTDOWN, "native stack: not on a shard");
    if (running)
        return sea_failed(-EBUSY, "native stack: this shard already runs one");
    if (!poller_added) {
        poller = (struct sea__poller){.poll = stack_poll, .try_sleep = stack_try_sleep};
        sea__poller_add(sh, &poller);
        poller_added = true;
    }
    sea_promise_init(&s->done);
    sea_future f = sea_promise_get_future(&s->done);
    if (sea_future_failed(&f)) {
        sea_promise_release(&s->done);
        return f;
    }
    s->run_pending = true;
    s->stopping = false;
    s->readable = true; /* frames may wait already: the first turn reads */
    s->next_due = sea_now();
    running = s;
    if (sea_abort_requested(stop)) {
        s->stopping = true;
        maybe_finished(s);
    } else {
        sea_abort_subscribe(stop, &s->stop_sub, on_stop);
    }
    return f;
}

/* ---- set-up ---- */

int sea__nstack_open(struct sea__nstack **out, const struct sea__nstack_config *cfg, char *err, size_t errlen) {
    struct sea__nstack *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->cfg = *cfg;
    if (!s->cfg.nshards)
        s->cfg.nshards = 1;
    if (!s->cfg.arp_expiry)
        s->cfg.arp_expiry = 60 * (sea_time)1000000000;
    s->rng = cfg->faults.seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    struct sea__l3_config l3 = {.addr = cfg->addr, .netmask = cfg->netmask};
    memcpy(l3.mac, cfg->mac, 6);
    sea__l3_init(&s->l3, &l3);
    sea__frag_init(&s->frag, NULL);
    struct sea__tcp_config tc = cfg->tcp;
    tc.addr = cfg->addr;
    tc.output = tcp_output;
    tc.output_ctx = s;
    if (cfg->nshards > 1) { /* connect picks ports whose answers the steering brings to this shard */
        tc.port_ok = port_lands_here;
        tc.port_ok_ctx = s;
    }
    int rc = sea__tcp_init(&s->tcp, &tc, sea_now());
    if (rc < 0) {
        snprintf(err, errlen, "TCP: %s", sea_strerror(rc));
        free(s);
        return rc;
    }
    if (cfg->capture) {
        s->tap.fd = -1; /* (no device: a test's) */
    } else if (cfg->xdp && cfg->xdp_socket) { /* opened by the caller, in the program's map at its queue */
        s->xdp = cfg->xdp_socket;
        if (!cfg->mac_given) {
            memcpy(s->cfg.mac, s->xdp->mac, 6);
            memcpy(s->l3.cfg.mac, s->xdp->mac, 6);
        }
    } else if (cfg->xdp) {
        s->xdp = calloc(1, sizeof(*s->xdp));
        rc = s->xdp ? sea__xdp_open(s->xdp, cfg->xdp, cfg->xdp_queue, NULL) : -ENOMEM;
        /*
         * -EBUSY may only mean that the kernel has not yet let go of the queue
         * of a socket closed moments ago (it does so from a work queue): a
         * bounded wait, at start-up only.
         */
        for (int i = 0; rc == -EBUSY && i < 100; i++) {
            nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
            rc = sea__xdp_open(s->xdp, cfg->xdp, cfg->xdp_queue, NULL);
        }
        if (rc < 0) {
            snprintf(err, errlen, "cannot open AF_XDP on %s queue %u: %s", cfg->xdp, cfg->xdp_queue,
                     s->xdp && s->xdp->err[0] ? s->xdp->err : sea_strerror(rc));
            free(s->xdp);
            sea__tcp_destroy(&s->tcp);
            free(s);
            return rc;
        }
        if (!cfg->mac_given) { /* frames for the interface's own address are the ones its queue gets */
            memcpy(s->cfg.mac, s->xdp->mac, 6);
            memcpy(s->l3.cfg.mac, s->xdp->mac, 6);
        }
    } else {
        if (cfg->tap_queue) { /* opened by the caller, in shard order: queue i is shard i's */
            s->tap = *cfg->tap_queue;
            cfg->tap_queue->fd = -1;
            rc = 0;
        } else {
            rc = sea__tap_open_queue(&s->tap, cfg->tap, (cfg->nshards > 1 ? SEA__TAP_MULTI_QUEUE : 0) |
                                                            (cfg->offloads ? SEA__TAP_OFFLOADS : 0));
        }
        if (rc < 0) {
            snprintf(err, errlen, "cannot open TAP device %s: %s", cfg->tap ? cfg->tap : "(none)", sea_strerror(rc));
            sea__tcp_destroy(&s->tcp);
            free(s);
            return rc;
        }
        /* The device's offloads, known now: TCP leaves checksums to it and hands it large segments to cut. */
        s->tcp.cfg.csum_offload = s->tap.offloads & TUN_F_CSUM;
        s->tcp.cfg.tso_max = s->tap.offloads & TUN_F_TSO4 ? 65535 - 20 - 60 : 0; /* (the engine's limit) */
        /* Segments in pieces (no payload copy) unless the fault injector must see each frame whole. */
        const struct sea__nstack_faults *f = &s->cfg.faults;
        if (!f->loss && !f->dup && !f->corrupt && !f->reorder && !f->delay_us)
            s->tcp.cfg.output_v = tcp_output_v;
    }
    *out = s;
    return 0;
}

void sea__nstack_close(struct sea__nstack *s) {
    if (!s)
        return;
    if (running == s)
        running = NULL; /* (closed without a stop: start-up failed elsewhere) */
    sea__frag_free(&s->frag);
    while (s->udp) /* (their owners were cut off: nsock.c) */
        sea__nstack_udp_close(s, s->udp);
    while (s->delayed_count) { /* never sent: the device closes */
        free(s->delayed[s->delayed_head].frame);
        s->delayed_head = (s->delayed_head + 1) % DELAY_MAX;
        s->delayed_count--;
    }
    free(s->delayed);
    if (s->xdp) {
        sea__xdp_flush(s->xdp); /* (the last frames: resets, FINs of the close) */
        sea__xdp_close(s->xdp);
        free(s->xdp);
    } else {
        sea__tap_close(&s->tap);
    }
    sea__tcp_destroy(&s->tcp);
    sea_buf_release(&s->rxmem);
    for (size_t i = 0; i < s->nqueued; i++)
        free(s->queue[i].frame);
    free(s->held);
    free(s);
}

struct sea__tcp_engine *sea__nstack_tcp(struct sea__nstack *s) { return &s->tcp; }
uint32_t sea__nstack_addr(const struct sea__nstack *s) { return s->cfg.addr; }
const struct sea__nstack_stats *sea__nstack_stats(const struct sea__nstack *s) { return &s->stats; }
const struct sea__tap_stats *sea__nstack_tap_stats(struct sea__nstack *s) {
    if (!s->xdp)
        return &s->tap.stats;
    struct sea__tap_stats *d = &s->dev_stats;
    const struct sea__xdp_stats *x = &s->xdp->stats;
    *d = (struct sea__tap_stats){.rx_frames = x->rx_frames, .rx_bytes = x->rx_bytes, .tx_frames = x->tx_frames,
                                 .tx_bytes = x->tx_bytes, .tx_dropped = x->tx_dropped};
    return d;
}
const struct sea__l3_stats *sea__nstack_l3_stats(const struct sea__nstack *s) { return &s->l3.stats; }
