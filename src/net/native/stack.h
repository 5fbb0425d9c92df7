/*
 * net/native/stack.h - one shard's native stack put together: a TAP device
 * (or an interface's queue through AF_XDP),
 * ARP and IPv4 (l3.c), TCP (tcp.c), the IPv4 output path with ARP
 * resolution (routes to the subnet and a gateway, packets queued behind a
 * resolution, retries), a seeded fault injector at the device, and the
 * poller that runs them on the reactor.
 *
 * The owner of the stack uses the TCP engine (sea__nstack_tcp) from the
 * shard that runs it; its callbacks are called from the stack's poller.
 * docs/native-stack.md describes the whole.
 */
#ifndef SEA_NET_NATIVE_STACK_H
#define SEA_NET_NATIVE_STACK_H

#include <sea/abort.h>
#include <sea/future.h>

#include <stdint.h>

#include "net/native/native.h"
#include "net/native/tcp.h"

/* Faults the device injects, per million frames, each way (for tests: the kernel here has no netem). */
struct sea__nstack_faults {
    uint32_t loss, dup, corrupt, reorder; /* reorder: the frame is held and sent after the next one */
    uint32_t delay_us;                    /* every frame sent waits this long first (a longer wire) */
    uint64_t seed;
};

/*
 * How one shard's stack reaches the others' (module.c carries these as
 * messages between shards).  Only with several shards.
 */
struct sea__nstack_peers {
    /* A frame that belongs to another shard's connection (or, off shard 0, anything but TCP): its copy to take. */
    void (*forward)(void *ctx, unsigned shard, const uint8_t *frame, size_t len, bool csum_verified);
    /* Shard 0 learned (or refreshed) an ARP entry: the others are to have it too. */
    void (*arp_learned)(void *ctx, uint32_t ip, const uint8_t mac[6]);
    /* Another shard needs ip's MAC: shard 0 resolves (ARP is shard 0's alone). */
    void (*arp_needed)(void *ctx, uint32_t ip);
    void *ctx;
};

struct sea__nstack_config {
    const char *tap;            /* the TAP device's name (unless xdp is set) */
    struct sea__tap *tap_queue; /* or: a queue of it opened already, which the stack takes over (module.c) */
    const char *xdp;            /* or: the interface whose queue xdp_queue to take with AF_XDP (xdp.h) */
    unsigned xdp_queue;
    /*
     * or (with xdp): that queue's socket opened already (sea__xdp_open_socket,
     * allocated), which a program of the caller's serves, with the other
     * shards' queues (module.c): the stack takes it over, only if it opens.
     */
    struct sea__xdp *xdp_socket;
    bool mac_given;             /* with xdp: use mac (else the interface's own address) */
    uint32_t addr, netmask, gw; /* host order; gw 0: none (only the subnet is reachable) */
    uint8_t mac[6];
    sea_time arp_expiry;        /* 0: 60 s; an older entry is resolved again before use */
    struct sea__tcp_config tcp; /* addr, output and the secret are filled in; the rest as given (0: defaults) */
    struct sea__nstack_faults faults;
    /*
     * A TAP's checksum and segmentation offloads (SEA__TAP_OFFLOADS), as far
     * as the kernel takes them; tap_queue must have been opened the same
     * way.  Leave it off with faults: a corrupted frame must meet a
     * checksum, and the injector handles plain frames only.
     */
    bool offloads;
    unsigned shard, nshards;    /* which of how many (0 of 1 when alone); more than one: a queue of the device each */
    /*
     * With several shards: 65,536 entries shared by their stacks (module.c
     * makes it), the shard + 1 that bound each UDP port, 0 for none.  A
     * port belongs to one shard, as a socket does; the device brings every
     * datagram to shard 0, which passes it to the port's shard.
     */
    _Atomic uint8_t *udp_owners;
    /*
     * With several shards on a NIC's queues (AF_XDP): the NIC's RSS, so that
     * a flow's shard is the queue the NIC puts it on (rss.c); NULL: sea's own
     * hash decides, as the TAP's steering program and veth_steer apply it.
     */
    const struct sea__rss *rss;
    /*
     * Tests: no device at all.  What the stack sends goes to capture (as it
     * would to the device, meta included), and frames come in only through
     * sea__nstack_frame_in; sea__nstack_run is not for such a stack.
     */
    void (*capture)(void *ctx, const uint8_t *frame, size_t len, const struct sea__frame_meta *meta);
    void *capture_ctx;
    struct sea__nstack_peers peers;
};

struct sea__nstack_stats {
    uint64_t arp_requests, arp_queued, arp_dropped; /* resolutions asked, packets queued behind them, given up */
    uint64_t no_route;                              /* packets for an address off the subnet, with no gateway */
    uint64_t fault_lost, fault_dup, fault_corrupt, fault_reordered, fault_delayed;
    uint64_t forwarded;    /* frames this shard received for another (forwarded to it: the steering missed) */
    uint64_t reassembled;  /* IPv4 datagrams put back together from fragments (frag.c counts the rest) */
    uint64_t fragmented;   /* datagrams larger than the MTU sent as fragments (echo replies to reassembled requests) */
    uint64_t too_big;      /* ... dropped instead: DF set, or IPv4 options */
    uint64_t udp_in, udp_out;       /* datagrams received for a bound port, and sent */
    uint64_t udp_no_port;           /* received for no bound port (dropped; an ICMP port unreachable answers) */
    uint64_t proto_unreachable;     /* datagrams for us of a protocol sea does not speak (ICMP protocol unreachable) */
    uint64_t icmp_errors_sent, icmp_errors_limited; /* ... sent, or not: the rate limit, or a source not to answer */
    uint64_t icmp_errors_received;  /* ICMP errors for us (TCP takes the destination unreachable ones) */
    uint64_t udp_dropped;           /* refused by the parser (checksum, lengths), or a full queue */
};

struct sea__nstack;

/* Opens the device and sets up the protocols.  0, or a negative errno with a reason in err. */
int sea__nstack_open(struct sea__nstack **out, const struct sea__nstack_config *cfg, char *err, size_t errlen);
/* Runs the stack until stop is requested; resolves then (the stack stays open). */
sea_future sea__nstack_run(struct sea__nstack *s, sea_abort_source *stop) SEA_MUST_USE;
/* Closes the device and frees everything (after run has resolved). */
void sea__nstack_close(struct sea__nstack *s);

/* A frame another shard forwarded here (peers.forward), handled as if received. */
void sea__nstack_frame_in(struct sea__nstack *s, const uint8_t *frame, size_t len, bool csum_verified);
/* An ARP entry shard 0 learned (peers.arp_learned): into this shard's cache; frames waiting for it go. */
void sea__nstack_arp_learn(struct sea__nstack *s, uint32_t ip, const uint8_t mac[6]);
/* (Shard 0) another shard needs ip's MAC: told at once if known, else resolved and then told. */
void sea__nstack_arp_resolve(struct sea__nstack *s, uint32_t ip);

/* ---- UDP (shard 0's: the steering sends every datagram to queue 0) ---- */

struct sea__nudp; /* a bound port */

/* A datagram received on a bound port waits in a bounded queue; beyond it (count or bytes) it is dropped. */
#define SEA__NUDP_QUEUE_MAX 256
#define SEA__NUDP_QUEUE_BYTES (1u << 20)

/*
 * Binds port (0: a free one from 32768..60999); cb(arg) is called when a
 * datagram arrives.  With several shards the port is this shard's alone
 * (cfg.udp_owners) and shard 0 passes its datagrams on.  0, -EADDRINUSE
 * (here or on another shard), -EOPNOTSUPP with several shards and no
 * udp_owners table, -ENOMEM.
 */
int sea__nstack_udp_bind(struct sea__nstack *s, uint16_t port, void (*cb)(void *arg), void *arg,
                         struct sea__nudp **out);
uint16_t sea__nstack_udp_port(const struct sea__nudp *u);
/* Whether a datagram waits. */
bool sea__nstack_udp_waiting(const struct sea__nudp *u);
/* The next datagram into buf (cut to len), its sender in *from / *fport: its length, or -EAGAIN. */
long sea__nstack_udp_recv(struct sea__nstack *s, struct sea__nudp *u, void *buf, size_t len, uint32_t *from,
                          uint16_t *fport);
/* Sends one datagram (fragmented beyond the MTU): 0, -EMSGSIZE (over 65507 bytes), -ENETUNREACH (no route). */
int sea__nstack_udp_send(struct sea__nstack *s, struct sea__nudp *u, uint32_t dst, uint16_t dport, const void *data,
                         size_t len);
/* Unbinds and frees u; its waiting datagrams go. */
void sea__nstack_udp_close(struct sea__nstack *s, struct sea__nudp *u);

struct sea__tcp_engine *sea__nstack_tcp(struct sea__nstack *s);
/* The stack's IPv4 address (host order). */
uint32_t sea__nstack_addr(const struct sea__nstack *s);
const struct sea__nstack_stats *sea__nstack_stats(const struct sea__nstack *s);
/* The device's counters (an AF_XDP device's, copied into the TAP device's terms). */
const struct sea__tap_stats *sea__nstack_tap_stats(struct sea__nstack *s);
const struct sea__l3_stats *sea__nstack_l3_stats(const struct sea__nstack *s);

#endif
