/*
 * net/native/native.h - the native stack's device and first protocols
 * (issue 19, second part): a TAP device (tap.c) and ARP, IPv4 input and ICMP
 * echo (l3.c), private to sea and its tests.
 *
 * The protocol half is a function from a received frame to at most one
 * frame to send, with no I/O, so the unit test (tests/unit/native/test_l3.c)
 * drives it without a device or privileges; the device half moves frames
 * between the kernel and a buffer.  docs/native-stack.md describes both.
 */
#ifndef SEA_NET_NATIVE_NATIVE_H
#define SEA_NET_NATIVE_NATIVE_H

#include <sea/abort.h>
#include <sea/future.h>
#include <sea/timer.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* ---- the TAP device (tap.c) ---- */

/* Frames can be as large as the interface's MTU allows; 64 KiB + a header covers any a TAP delivers. */
#define SEA__TAP_FRAME_MAX (65536 + 14)

struct sea__tap_stats {
    uint64_t rx_frames, rx_bytes;
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_dropped; /* the kernel's queue was full (EAGAIN) or refused the frame */
    uint64_t rx_errors;  /* read(2) failed otherwise than EAGAIN */
    uint64_t rx_gso, tx_gso; /* frames larger than the MTU: TCP segments the kernel did not cut, or it is to cut */
};

/*
 * What a device says of a frame it delivers, or is asked to do with one it
 * sends: the part of the virtio net header (linux/virtio_net.h) that sea
 * uses.  All zero: a plain frame, every checksum in place.
 */
struct sea__frame_meta {
    /*
     * Received: a TCP segment in pieces of this payload size merged (the
     * sender's segmentation never done); sent: cut it into such pieces, each
     * with a copy of the headers (TSO).  0: none.
     */
    uint16_t gso_size;
    bool csum_verified; /* received: the TCP or UDP checksum needs no check (verified, or the kernel's own) */
    bool csum_partial;  /* sent: the TCP checksum field holds the pseudo-header's sum; the device finishes it */
};

struct sea__tap {
    int fd;
    char name[16];     /* IFNAMSIZ */
    bool vnet;         /* frames come and go behind a virtio net header (SEA__TAP_OFFLOADS) */
    unsigned offloads; /* with vnet, what the kernel took of TUN_F_CSUM | TUN_F_TSO4 */
    struct sea__tap_stats stats;
};

/* sea__tap_open_queue's flags. */
#define SEA__TAP_MULTI_QUEUE 1u /* one queue of a multi-queue device */
/*
 * The virtio net header, and the kernel asked for checksum and TCP
 * segmentation offloads (TUN_F_CSUM, TUN_F_TSO4): it may then hand over TCP
 * segments of up to 64 KiB with their checksums unfinished, and take such
 * segments to cut itself.  What it took is in t->offloads.
 */
#define SEA__TAP_OFFLOADS 2u

/*
 * Opens (or creates, with privileges) the TAP device name, one queue,
 * non-blocking, without the packet-information header: read(2) gives one
 * Ethernet frame.  Returns 0 or a negative errno (-ENOENT without
 * /dev/net/tun, -EPERM, -EBUSY if another process holds a single-queue device).
 */
int sea__tap_open(struct sea__tap *t, const char *name);
/*
 * The same with flags (SEA__TAP_*): with SEA__TAP_MULTI_QUEUE one queue of a
 * multi-queue device (made `ip tuntap add ... multi_queue`, or made here):
 * each shard opens its own; a device made single-queue refuses it
 * (-EINVAL).  Every queue of a device must be opened with the same flags.
 */
int sea__tap_open_queue(struct sea__tap *t, const char *name, unsigned flags);
/*
 * Makes the kernel put each IPv4 TCP frame on queue
 * sea__steer_hash(src, dst, sport, dport) % nqueues, and every other frame
 * on queue 0 (a BPF program given to the device with TUNSETSTEERINGEBPF;
 * nqueues < 2 takes any program off).  A queue's number is the order in
 * which it was opened, so the queues must be opened in shard order.  The
 * program stays with the device after this process.  0, or a negative errno
 * (-EPERM, -EINVAL where the kernel lacks it).
 */
int sea__tap_steer(struct sea__tap *t, unsigned nqueues);
/* The steering program itself, loaded (its descriptor, the caller's to close), for sea__tap_steer and its test. */
int sea__tap_steer_prog(unsigned nqueues);
/*
 * The same choice as a tc program (BPF_PROG_TYPE_SCHED_CLS, for a tcx
 * egress link, kernel 6.6+), loaded (its descriptor, the caller's): on the
 * sending side of a link without RSS (the kernel's end of a veth pair), it
 * makes the kernel send each IPv4 TCP frame on transmit queue
 * sea__steer_hash(...) % nqueues, and everything else on queue 0, which on
 * a veth is the receive queue of the other end: what a NIC's RSS would do
 * for AF_XDP.  sea does not use it itself (tests/unit/native/veth_steer.c
 * attaches it; docs/native-devices.md says when it works).  A negative
 * errno on failure.
 */
int sea__steer_prog_tc(unsigned nqueues);

/*
 * The flow hash that decides a TCP connection's shard, for a frame from
 * src:sport to dst:dport (host order): the steering program computes the
 * same for each frame the kernel sends, and connect picks a local port that
 * makes it land on the calling shard.
 */
static inline uint32_t sea__steer_hash(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    uint32_t x = src ^ dst ^ ((uint32_t)sport << 16 | dport);
    x ^= x >> 16;
    x *= 0x45d9f3bu;
    x ^= x >> 16;
    return x;
}
/* ---- a NIC's receive-side scaling (rss.c) ---- */

/* Its Toeplitz key and indirection table, as the device reports them. */
struct sea__rss {
    uint8_t key[64];
    uint32_t key_len;
    uint32_t *indir; /* indir_size entries: the queue of each hash bucket */
    uint32_t indir_size;
    bool ports;      /* TCP over IPv4 hashes the ports too, not the addresses alone */
};

/* The Toeplitz hash of in[0..n) under key (at least n + 4 bytes; else 0), as Microsoft's RSS specifies it. */
uint32_t sea__toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n);
/* The queue the NIC puts an IPv4 TCP frame from src:sport to dst:dport on (host order). */
unsigned sea__rss_queue(const struct sea__rss *r, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport);
/*
 * Reads ifname's RSS (ETHTOOL_GRSSH; the fields TCP over IPv4 hashes,
 * ETHTOOL_GRXFH).  0; -EOPNOTSUPP for a device without RSS or with a hash
 * other than Toeplitz (a veth, loopback); -ENODEV; -ENOMEM.  Free with
 * sea__rss_free.
 */
int sea__rss_read(const char *ifname, struct sea__rss *out);
void sea__rss_free(struct sea__rss *r);

/* Closes the queue (the device itself stays if it is persistent, as `ip tuntap add` makes it). */
void sea__tap_close(struct sea__tap *t);
/*
 * One frame into buf: its length, -EAGAIN when none is queued, or another
 * negative errno.  meta (NULL: not wanted) is what the virtio net header
 * said, all zero without one.  A frame that a header announces but that is
 * too short for it comes as an empty frame, counted in rx_errors.
 */
ssize_t sea__tap_recv(struct sea__tap *t, void *buf, size_t cap, struct sea__frame_meta *meta);
/*
 * Sends one frame, asking of the device what meta says (NULL: nothing; with
 * gso_size or csum_partial the frame must be IPv4 TCP and t->offloads must
 * hold the offload).  0, or a negative errno (the frame is then dropped and
 * counted).
 */
int sea__tap_send(struct sea__tap *t, const void *frame, size_t len, const struct sea__frame_meta *meta);
/* The most pieces sea__tap_send_v takes after the first. */
#define SEA__TAP_IOV_MAX 64
/*
 * The same for a frame in pieces: head[0..hlen) (the headers, and with meta
 * the Ethernet, IPv4 and TCP headers whole), then nrest pieces of rest_len
 * bytes in all, which the kernel gathers as it copies (no copy here).
 */
int sea__tap_send_v(struct sea__tap *t, const void *head, size_t hlen, const struct iovec *rest, int nrest,
                    size_t rest_len, const struct sea__frame_meta *meta);
/* A future that resolves when a frame can be read, or fails with SEA_ECANCELED when as aborts. */
sea_future sea__tap_wait(struct sea__tap *t, sea_abort_source *as) SEA_MUST_USE;

/* ---- ARP, IPv4 input, ICMP echo (l3.c) ---- */

/* The ARP cache's bound: beyond it the entry used least recently is replaced. */
#define SEA__ARP_CACHE_MAX 64

struct sea__l3_config {
    uint32_t addr, netmask; /* host order */
    uint8_t mac[6];
};

struct sea__l3_stats {
    uint64_t rx_frames;
    uint64_t arp_replies_sent;  /* requests for our address answered */
    uint64_t arp_learned;       /* cache entries added or updated */
    uint64_t arp_evicted;       /* entries replaced because the cache was full */
    uint64_t echo_replies_sent; /* ICMP echo requests answered */
    uint64_t drop_malformed;    /* a parser refused the frame, or it is a kind sea does not speak */
    uint64_t drop_not_ours;     /* for another MAC or IPv4 address, or broadcast IPv4 */
    uint64_t drop_unsupported;  /* well formed, ours, but unhandled: UDP, TCP, other ICMP, fragments, other EtherTypes */
};

struct sea__arp_entry {
    uint32_t ip; /* 0: the slot is free */
    uint8_t mac[6];
    uint64_t used; /* the stack's clock when last learned or looked up: for eviction */
    sea_time learned; /* l3->now when last learned: for expiry */
};

struct sea__l3 {
    struct sea__l3_config cfg;
    struct sea__arp_entry arp[SEA__ARP_CACHE_MAX];
    uint64_t clock; /* counts frames: the order of use is all eviction needs */
    sea_time now;   /* set by the owner before each input: when entries are learned */
    struct sea__l3_stats stats;
};

/*
 * Whether a datagram from src may be answered (an echo reply, an ICMP
 * error): not when src cannot be one host (0, loopback, multicast or
 * reserved, a broadcast under netmask), since an answer there would be a
 * reflection or a storm.
 */
static inline bool sea__l3_may_answer(uint32_t src, uint32_t netmask) {
    return src != 0 && (src >> 24) != 127 && (src >> 28) < 0xe && (~src & ~netmask) != 0;
}

void sea__l3_init(struct sea__l3 *l3, const struct sea__l3_config *cfg);
/*
 * Takes one received frame (len bytes in buf, which has room for cap) and
 * returns the length of the frame to send in reply, written over it in buf
 * (an ARP reply, an echo reply), or 0 when nothing is to be sent.  Every
 * frame is counted: answered, learned from, or dropped with its reason.
 */
size_t sea__l3_input(struct sea__l3 *l3, uint8_t *buf, size_t len, size_t cap);
/* The MAC the cache holds for ip, or NULL. */
const uint8_t *sea__arp_lookup(struct sea__l3 *l3, uint32_t ip);
/* The same, but NULL also when the entry was learned more than max_age before now (it is then resolved again). */
const uint8_t *sea__arp_lookup_fresh(struct sea__l3 *l3, uint32_t ip, sea_time now, sea_time max_age);
/* Puts ip's MAC in the cache (learned elsewhere: another shard's stack), as if from an ARP packet. */
void sea__l3_learn(struct sea__l3 *l3, uint32_t ip, const uint8_t mac[6]);
/* An ARP request for ip from us, broadcast, into buf: its length (42), or 0 if cap is too small. */
size_t sea__l3_arp_request(const struct sea__l3 *l3, uint32_t ip, uint8_t *buf, size_t cap);
/* A random locally administered unicast MAC (for a device with no given address). */
void sea__l3_random_mac(uint8_t mac[6]);

#endif
