/*
 * net/native/module.c - the native stack as a module: its options, and the
 * stack itself when --network-stack=native.
 *
 * With the default --network-stack=posix nothing here runs beyond reading
 * the options.  With native, each shard opens its stack as it starts, before
 * main, and the stack's poller runs until the orderly stop (on a TAP device,
 * or with --xdp-device on queues of an interface through AF_XDP); sockets to
 * and from IPv4 addresses other than loopback then go through it (nsock.c),
 * while Unix sockets and loopback stay with the kernel.  Each shard has its
 * own queue of the device and runs its own stack: the queues are opened here
 * before the shards start, in shard order (a multi-queue TAP device's, or
 * an AF_XDP socket on queue i of the interface for shard i, all served by
 * one XDP program).  A TAP device gets a steering program so that each TCP
 * flow arrives on the queue of the shard that owns it; a NIC's RSS (or, on
 * a veth, a program on the sending side: docs/native-devices.md) does that
 * for AF_XDP.  Shard 0 does ARP for all (the others ask it, and it tells
 * them what it learns).  A frame that lands on the wrong shard anyway is
 * forwarded to the right one by message.
 */
#include "net/native/module.h"

#include <sea/error.h>
#include <sea/metrics.h>
#include <sea/reactor.h>
#include <sea/smp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/text.h"
#include "core/module.h"
#include "net/native/nsock.h"
#include "net/native/xdp.h"

static struct sea__native_options opts;
static uint8_t random_mac[6]; /* without --hw-address: one for every shard */
/* Each shard's own stack (its queue of the device), while it runs. */
static __thread struct sea__nstack *stack;
static __thread sea_abort_source stack_stop;
static __thread sea_future stack_run;
static __thread bool stack_running;

const struct sea__native_options *sea__native_options(void) { return &opts; }

struct sea__nstack *sea__native_for(const sea_addr *addr) {
    struct sea__nstack *st = sea__native_stack();
    if (!st || addr->u.sa.sa_family != AF_INET)
        return NULL;
    uint32_t a = ntohl(addr->u.in4.sin_addr.s_addr);
    return (a >> 24) == 127 ? NULL : st; /* loopback stays with the kernel */
}
struct sea__nstack *sea__native_stack(void) { return stack_running ? stack : NULL; }

static bool is_stack(const char *v) { return !strcmp(v, "posix") || !strcmp(v, "native"); }

static bool is_ipv4(const char *v) {
    struct in_addr a;
    return inet_pton(AF_INET, v, &a) == 1;
}

static bool is_mac(const char *v) {
    unsigned m[6];
    char extra;
    if (sscanf(v, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (m[i] > 0xff)
            return false;
    return !(m[0] & 1); /* a unicast address */
}

static const struct sea__opt options[] = {
    {.o = {.name = "network-stack", .type = SEA_OPTION_STRING, .default_value = "posix",
           .help = "posix: the kernel's sockets; native: sea's own TCP/IP stack on --tap-device (or --xdp-device) "
                   "for IPv4 addresses other than loopback, a queue of the device per shard (see "
                   "docs/native-stack.md)"},
     .value_name = "STACK", .meaning = "posix or native", .check = is_stack},
    {.o = {.name = "tap-device", .type = SEA_OPTION_STRING, .default_value = "tap0",
           .help = "the native stack's TAP device (made if it does not exist and sea may)"},
     .value_name = "NAME"},
    {.o = {.name = "xdp-device", .type = SEA_OPTION_STRING,
           .help = "instead of --tap-device: take queues 0 to N-1 of this interface (a NIC, a veth end) with AF_XDP, "
                   "one per shard; the stack then uses the interface's MAC unless --hw-address says otherwise"},
     .value_name = "NAME"},
    {.o = {.name = "host-ipv4-addr", .type = SEA_OPTION_STRING,
           .help = "the native stack's IPv4 address (needed with --network-stack=native)"},
     .value_name = "ADDR", .meaning = "an IPv4 address", .check = is_ipv4},
    {.o = {.name = "netmask-ipv4-addr", .type = SEA_OPTION_STRING, .default_value = "255.255.255.0",
           .help = "the native stack's netmask"},
     .value_name = "ADDR", .meaning = "an IPv4 netmask", .check = is_ipv4},
    {.o = {.name = "gw-ipv4-addr", .type = SEA_OPTION_STRING,
           .help = "the native stack's gateway (default: none; only the subnet is reachable)"},
     .value_name = "ADDR", .meaning = "an IPv4 address", .check = is_ipv4},
    {.o = {.name = "hw-address", .type = SEA_OPTION_STRING,
           .help = "the native stack's MAC (default: random, locally administered)"},
     .value_name = "MAC", .meaning = "a unicast MAC such as 02:00:00:00:00:01", .check = is_mac},
    {.o = {.name = "native-fault-loss-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1000000,
           .help = "testing: frames the native stack's device loses, per million, each way"},
     .value_name = "N"},
    {.o = {.name = "native-fault-dup-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1000000,
           .help = "testing: frames it sends twice, per million"},
     .value_name = "N"},
    {.o = {.name = "native-fault-reorder-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0,
           .max = 1000000, .help = "testing: frames it sends after the next one, per million"},
     .value_name = "N"},
    {.o = {.name = "native-fault-corrupt-ppm", .type = SEA_OPTION_INT, .default_value = "0", .min = 0,
           .max = 1000000, .help = "testing: frames with a bit flipped, per million, each way"},
     .value_name = "N"},
    {.o = {.name = "native-fault-delay-us", .type = SEA_OPTION_INT, .default_value = "0", .min = 0,
           .max = 10000000, .help = "testing: every frame the native stack sends waits this long first"},
     .value_name = "N"},
    {.o = {.name = "native-no-steering", .type = SEA_OPTION_FLAG,
           .help = "testing: no steering program, so the kernel picks the queues and the shards forward each other "
                   "the frames that are not theirs"}},
    {.o = {.name = "native-no-offload", .type = SEA_OPTION_FLAG,
           .help = "no checksum or segmentation offloads on the TAP device (they are off anyway while faults are "
                   "injected)"}},
    {.o = {.name = "native-fault-seed", .type = SEA_OPTION_INT, .default_value = "1", .min = 0, .max = 1 << 30,
           .help = "testing: the fault injector's seed"},
     .value_name = "N"},
};

static uint32_t ipv4_of(const char *s) {
    struct in_addr a;
    return s && inet_pton(AF_INET, s, &a) == 1 ? ntohl(a.s_addr) : 0;
}

static int native_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    memset(&opts, 0, sizeof(opts));
    sea__l3_random_mac(random_mac);
    opts.native = !strcmp(sea__opt_string(v, "network-stack"), "native");
    opts.tap = sea__opt_string(v, "tap-device");
    opts.xdp = sea__opt_string(v, "xdp-device");
    opts.no_steering = sea__opt_flag(v, "native-no-steering");
    opts.addr = ipv4_of(sea__opt_string(v, "host-ipv4-addr"));
    opts.netmask = ipv4_of(sea__opt_string(v, "netmask-ipv4-addr"));
    opts.gw = ipv4_of(sea__opt_string(v, "gw-ipv4-addr"));
    const char *mac = sea__opt_string(v, "hw-address");
    if (mac) {
        unsigned m[6];
        sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
        for (int i = 0; i < 6; i++)
            opts.mac[i] = (uint8_t)m[i];
        opts.have_mac = true;
    }
    opts.faults = (struct sea__nstack_faults){
        .loss = (uint32_t)sea__opt_int(v, "native-fault-loss-ppm"),
        .dup = (uint32_t)sea__opt_int(v, "native-fault-dup-ppm"),
        .reorder = (uint32_t)sea__opt_int(v, "native-fault-reorder-ppm"),
        .corrupt = (uint32_t)sea__opt_int(v, "native-fault-corrupt-ppm"),
        .seed = (uint64_t)sea__opt_int(v, "native-fault-seed"),
        .delay_us = (uint32_t)sea__opt_int(v, "native-fault-delay-us"),
    };
    const struct sea__nstack_faults *f = &opts.faults;
    opts.offloads = !sea__opt_flag(v, "native-no-offload") && !f->loss && !f->dup && !f->reorder && !f->corrupt &&
                    !f->delay_us;
    if (opts.native && !opts.addr) {
        snprintf(err, errlen, "--network-stack=native needs --host-ipv4-addr (the stack's own address)");
        return SEA_EUSAGE;
    }
    if (opts.gw && (opts.gw & opts.netmask) != (opts.addr & opts.netmask)) {
        snprintf(err, errlen, "--gw-ipv4-addr is not on the subnet of --host-ipv4-addr and --netmask-ipv4-addr");
        return SEA_EUSAGE;
    }
    return 0;
}

/*
 * The TAP device's queues, opened before the shards start, in shard order:
 * the kernel numbers a device's queues in the order they are opened, and
 * the steering program's queue i must be shard i's.
 */
static struct sea__tap *queues;
static unsigned nqueues;

static void queues_close(void) {
    for (unsigned i = 0; i < nqueues; i++)
        sea__tap_close(&queues[i]); /* (those a shard took over are -1 here) */
    free(queues);
    queues = NULL;
    nqueues = 0;
}

/*
 * With --xdp-device: an AF_XDP socket on queue i of the interface for shard
 * i, opened here in shard order, and one XDP program whose map holds them
 * all (an interface has one XDP hook).  The program is attached once every
 * socket is in its map, so no queue of ours passes frames to the kernel's
 * stack in between; it stays until the stop hook, after the shards.
 */
static struct sea__xdp **xsocks; /* [shard]: the sockets no shard has taken over yet */
static unsigned nxsocks;
static struct sea__xdp_prog xprog = {.map_fd = -1, .prog_fd = -1, .link_fd = -1};

static void xdp_close_all(void) {
    sea__xdp_prog_close(&xprog);
    for (unsigned i = 0; i < nxsocks; i++)
        if (xsocks[i]) {
            sea__xdp_close(xsocks[i]);
            free(xsocks[i]);
        }
    free(xsocks);
    xsocks = NULL;
    nxsocks = 0;
}

/* How to give an interface more queues, for the messages below. */
#define MORE_QUEUES_HINT                                                                                          \
    "each shard needs a queue of its own: a veth pair made with more (ip link add NAME numrxqueues N "           \
    "numtxqueues N type veth peer name PEER numrxqueues N numtxqueues N), a NIC given more (ethtool -L NAME "     \
    "combined N), or fewer shards (-cN)"

/* The NIC's RSS, when --xdp-device has it and several shards share its queues (stack.h's rss). */
static struct sea__rss rss;
static bool have_rss;

static int xdp_start(unsigned n, char *err, size_t errlen) {
    if (n > 1) {
        int have = sea__xdp_rx_queues(opts.xdp);
        if (have >= 0 && (unsigned)have < n) {
            snprintf(err, errlen, "--xdp-device %s has %d receive queue%s for %u shards: " MORE_QUEUES_HINT, opts.xdp,
                     have, have == 1 ? "" : "s", n);
            return -EINVAL;
        }
        /*
         * A NIC puts each flow on a queue by its own hash: the shards follow it.
         * Flows it puts on a queue no shard serves go to the kernel's stack, so
         * its table should name queues 0 to n - 1 only (ethtool -X IF equal n).
         */
        have_rss = sea__rss_read(opts.xdp, &rss) == 0;
        if (have_rss) {
            unsigned beyond = 0;
            for (uint32_t i = 0; i < rss.indir_size; i++)
                beyond += rss.indir[i] >= n;
            if (beyond)
                fprintf(stderr, "sea: %s's RSS table sends %u of its %u buckets to queues beyond the %u shards': "
                                "those flows reach the kernel, not sea (ethtool -X %s equal %u)\n",
                        opts.xdp, beyond, rss.indir_size, n, opts.xdp, n);
        }
    }
    xsocks = calloc(n, sizeof(*xsocks));
    if (!xsocks) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    nxsocks = n;
    int rc = 0;
    for (unsigned i = 0; i < n && rc >= 0; i++) {
        struct sea__xdp *x = calloc(1, sizeof(*x));
        rc = x ? sea__xdp_open_socket(x, opts.xdp, i, NULL) : -ENOMEM;
        /*
         * -EBUSY may only mean that the kernel has not yet let go of the queue
         * of a socket closed moments ago (it does so from a work queue): a
         * bounded wait, at start-up only.
         */
        for (int t = 0; rc == -EBUSY && t < 100; t++) {
            nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
            rc = sea__xdp_open_socket(x, opts.xdp, i, NULL);
        }
        if (rc < 0) {
            snprintf(err, errlen, "the native network stack: cannot open AF_XDP on %s queue %u: %s%s", opts.xdp, i,
                     x && x->err[0] ? x->err : sea_strerror(rc),
                     rc == -EINVAL && i > 0 ? " (the interface may have fewer queues than shards: " MORE_QUEUES_HINT ")"
                                            : "");
            free(x);
            break;
        }
        xsocks[i] = x;
    }
    if (rc >= 0 && (rc = sea__xdp_prog_open(&xprog, opts.xdp, n)) < 0)
        snprintf(err, errlen, "the native network stack: AF_XDP on %s: %s", opts.xdp, xprog.err);
    for (unsigned i = 0; i < n && rc >= 0; i++)
        if ((rc = sea__xdp_prog_add(&xprog, xsocks[i])) < 0)
            snprintf(err, errlen, "the native network stack: AF_XDP on %s queue %u: %s", opts.xdp, i, xprog.err);
    if (rc >= 0 && (rc = sea__xdp_prog_attach(&xprog, SEA__XDP_ATTACH_AUTO)) < 0)
        snprintf(err, errlen, "the native network stack: AF_XDP on %s: %s", opts.xdp, xprog.err);
    if (rc < 0)
        xdp_close_all();
    return rc;
}

/* Which shard bound each UDP port (stack.h's udp_owners): one table for the shards' stacks, made before they start. */
static _Atomic uint8_t *udp_owners;

static int native_start(const struct sea__run *run, char *err, size_t errlen) {
    if (!opts.native)
        return 0;
    if (run->nshards > 1 && !(udp_owners = calloc(65536, sizeof(*udp_owners)))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (opts.xdp)
        return xdp_start(run->nshards, err, errlen);
    queues = calloc(run->nshards, sizeof(*queues));
    if (!queues) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    nqueues = run->nshards;
    for (unsigned i = 0; i < nqueues; i++)
        queues[i].fd = -1;
    for (unsigned i = 0; i < nqueues; i++) {
        int rc = sea__tap_open_queue(&queues[i], opts.tap, (nqueues > 1 ? SEA__TAP_MULTI_QUEUE : 0) |
                                                               (opts.offloads ? SEA__TAP_OFFLOADS : 0));
        if (rc < 0) {
            snprintf(err, errlen, "the native network stack: cannot open TAP device %s%s: %s%s", opts.tap,
                     nqueues > 1 ? " (a queue per shard)" : "", sea_strerror(rc),
                     rc == -EINVAL && nqueues > 1 ? " (several shards need a multi-queue device: ip tuntap add ... "
                                                    "multi_queue)"
                                                  : "");
            queues_close();
            return rc;
        }
    }
    if (nqueues > 1) {
        int rc = sea__tap_steer(&queues[0], opts.no_steering ? 0 : nqueues);
        if (rc < 0) /* it still works: the stacks forward each other's frames, at a cost */
            fprintf(stderr, "sea: the native stack's steering program was refused (%s): frames will be forwarded "
                            "between shards\n", sea_strerror(rc));
    }
    return 0;
}

/* Queues no shard took over (a start-up that failed); the XDP program, once every shard's socket is closed. */
static void native_stop(void) {
    queues_close();
    xdp_close_all();
    if (have_rss)
        sea__rss_free(&rss);
    have_rss = false;
    free((void *)udp_owners);
    udp_owners = NULL;
}

/* ---- between shards: forwarded frames and ARP, as messages ---- */

struct frame_msg {
    uint8_t *frame;
    size_t len;
    bool csum_verified;
};

static sea_future frame_arrives(struct frame_msg *m) {
    if (stack)
        sea__nstack_frame_in(stack, m->frame, m->len, m->csum_verified);
    free(m->frame);
    return sea_ready();
}

static void forward(void *ctx, unsigned shard, const uint8_t *frame, size_t len, bool csum_verified) {
    (void)ctx;
    uint8_t *copy = malloc(len);
    if (!copy)
        return; /* dropped, as a full queue drops: TCP sends it again */
    memcpy(copy, frame, len);
    sea_future f = sea_submit_to(shard, frame_arrives, (struct frame_msg){copy, len, csum_verified});
    if (sea_future_failed(&f) && sea_future_available(&f))
        free(copy); /* never sent (stopping, out of memory) */
    sea_future_detach(f);
}

struct arp_msg {
    uint32_t ip;
    uint8_t mac[6];
};

static sea_future arp_arrives(struct arp_msg *m) {
    if (stack)
        sea__nstack_arp_learn(stack, m->ip, m->mac);
    return sea_ready();
}

static void arp_learned(void *ctx, uint32_t ip, const uint8_t mac[6]) {
    (void)ctx;
    struct arp_msg m = {.ip = ip};
    memcpy(m.mac, mac, 6);
    for (unsigned i = 1; i < sea_shard_count(); i++)
        sea_future_detach(sea_submit_to(i, arp_arrives, m));
}

static sea_future arp_wanted(uint32_t *ip) {
    if (stack)
        sea__nstack_arp_resolve(stack, *ip);
    return sea_ready();
}

static void arp_needed(void *ctx, uint32_t ip) {
    (void)ctx;
    sea_future_detach(sea_submit_to(0, arp_wanted, ip));
}

/* ---- each shard's stack ---- */

/*
 * On each shard as it starts: its stack on its queue of the device (opened
 * by native_start), its poller started (it runs once the loop does), so that
 * sea_listen in main finds it.
 */
static int native_shard_start(struct sea__shard *sh, char *err, size_t errlen) {
    if (!opts.native)
        return 0;
    unsigned id = sea_shard_id(), n = sea_shard_count();
    (void)sh;
    struct sea__nstack_config cfg = {
        .tap = opts.tap, .xdp = opts.xdp, .addr = opts.addr, .netmask = opts.netmask, .gw = opts.gw,
        .faults = opts.faults, .offloads = opts.offloads, .mac_given = opts.have_mac, .shard = id, .nshards = n,
        .udp_owners = udp_owners, .rss = have_rss ? &rss : NULL,
        .peers = {.forward = forward, .arp_learned = arp_learned, .arp_needed = arp_needed},
    };
    if (opts.have_mac)
        memcpy(cfg.mac, opts.mac, 6);
    else
        memcpy(cfg.mac, random_mac, 6); /* every shard's queue is the same interface: one MAC (AF_XDP takes its own) */
    cfg.faults.seed += id; /* each shard its own sequence of faults */
    if (queues && id < nqueues)
        cfg.tap_queue = &queues[id];
    if (xsocks && id < nxsocks) {
        cfg.xdp_queue = id;
        cfg.xdp_socket = xsocks[id];
    }
    char why[200];
    int rc = sea__nstack_open(&stack, &cfg, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "the native network stack (shard %u): %s", id, why);
        return rc;
    }
    if (cfg.xdp_socket)
        xsocks[id] = NULL; /* the stack's now: it closes it */
    sea_abort_source_init(&stack_stop);
    stack_run = sea__nstack_run(stack, &stack_stop);
    stack_running = true;
    return 0;
}

/* ---- metrics: each shard's stack, read on that shard ---- */

#define NATIVE_METRIC(fn, expr)                                                                                \
    static double fn(void *arg) {                                                                              \
        (void)arg;                                                                                             \
        return stack ? (double)(expr) : 0;                                                                     \
    }
NATIVE_METRIC(m_rx, sea__nstack_tap_stats(stack)->rx_frames)
NATIVE_METRIC(m_tx, sea__nstack_tap_stats(stack)->tx_frames)
NATIVE_METRIC(m_tx_dropped, sea__nstack_tap_stats(stack)->tx_dropped)
NATIVE_METRIC(m_rx_gso, sea__nstack_tap_stats(stack)->rx_gso)
NATIVE_METRIC(m_tx_gso, sea__nstack_tap_stats(stack)->tx_gso)
NATIVE_METRIC(m_forwarded, sea__nstack_stats(stack)->forwarded)
NATIVE_METRIC(m_conns, sea__nstack_tcp(stack)->stats.connections)
NATIVE_METRIC(m_segs_in, sea__nstack_tcp(stack)->stats.segs_in)
NATIVE_METRIC(m_segs_out, sea__nstack_tcp(stack)->stats.segs_out)
NATIVE_METRIC(m_retrans, sea__nstack_tcp(stack)->stats.retransmits)
NATIVE_METRIC(m_rto, sea__nstack_tcp(stack)->stats.rto_expired)
NATIVE_METRIC(m_rst_out, sea__nstack_tcp(stack)->stats.rst_sent)
NATIVE_METRIC(m_rst_in, sea__nstack_tcp(stack)->stats.rst_received)
NATIVE_METRIC(m_bad, sea__nstack_tcp(stack)->stats.bad_segments)
NATIVE_METRIC(m_backlog, sea__nstack_tcp(stack)->stats.backlog_drops)
NATIVE_METRIC(m_in_place, sea__nstack_tcp(stack)->stats.bytes_in_place)
NATIVE_METRIC(m_by_ref, sea__nstack_tcp(stack)->stats.bytes_sent_by_reference)
#undef NATIVE_METRIC

static int native_metrics(struct sea__shard *sh, char *err, size_t errlen) {
    (void)sh;
    if (!opts.native)
        return 0;
    static const struct {
        const char *name, *help;
        bool counter;
        sea_metric_read_fn fn;
    } metrics[] = {
        {"sea_native_frames_received_total", "Frames the native stack's device delivered", true, m_rx},
        {"sea_native_frames_sent_total", "Frames the native stack sent", true, m_tx},
        {"sea_native_frames_dropped_total", "Frames the device would not take (a full queue)", true, m_tx_dropped},
        {"sea_native_large_frames_received_total", "TCP segments larger than the MTU the TAP delivered (offload)",
         true, m_rx_gso},
        {"sea_native_large_frames_sent_total", "TCP segments larger than the MTU given to the TAP to cut (offload)",
         true, m_tx_gso},
        {"sea_native_frames_forwarded_total", "Frames that arrived on this shard for another (forwarded)", true,
         m_forwarded},
        {"sea_native_tcp_connections", "TCP connections of this shard's stack, TIME-WAIT included", false, m_conns},
        {"sea_native_tcp_segments_received_total", "TCP segments received", true, m_segs_in},
        {"sea_native_tcp_segments_sent_total", "TCP segments sent", true, m_segs_out},
        {"sea_native_tcp_retransmits_total", "TCP segments sent again", true, m_retrans},
        {"sea_native_tcp_timeouts_total", "Retransmission timeouts", true, m_rto},
        {"sea_native_tcp_resets_sent_total", "TCP resets sent", true, m_rst_out},
        {"sea_native_tcp_resets_received_total", "TCP resets received", true, m_rst_in},
        {"sea_native_tcp_bad_segments_total", "TCP segments refused (checksum, lengths, options)", true, m_bad},
        {"sea_native_tcp_backlog_drops_total", "SYNs dropped because a listener's backlog was full", true,
         m_backlog},
        {"sea_native_tcp_bytes_in_place_total", "Received TCP payload kept in the frame's own memory (no copy)", true,
         m_in_place},
        {"sea_native_tcp_bytes_sent_by_reference_total", "TCP payload sent from the application's buffers (no copy)",
         true, m_by_ref},
    };
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        int rc = metrics[i].counter
                     ? sea_counter_register_fn(metrics[i].name, metrics[i].help, NULL, metrics[i].fn, NULL, NULL)
                     : sea_gauge_register_fn(metrics[i].name, metrics[i].help, NULL, metrics[i].fn, NULL, NULL);
        if (rc < 0) {
            snprintf(err, errlen, "cannot register the native stack's metrics: %s", sea_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static sea_future closed(sea_future *in) {
    if (sea_future_failed(in))
        (void)sea_future_error(in); /* the device failed: its error ends the run, nothing more to say */
    sea__nsock_stack_gone(stack);
    sea__nstack_close(stack);
    stack = NULL;
    return sea_ready();
}

/* On one shard: its poller goes idle, then what sockets remain are cut off and freed. */
static sea_future stop_here(void) {
    if (!stack_running)
        return sea_ready();
    stack_running = false;
    sea_abort_source_request(&stack_stop, SEA_ECANCELED);
    return sea_then_wrapped(stack_run, closed);
}

/* The orderly stop, after the application's: every shard's stack. */
static sea_future native_stopping(struct sea__smp *smp) {
    (void)smp;
    if (!opts.native)
        return sea_ready();
    return sea_invoke_on_all(stop_here);
}

/* A stack the orderly stop did not reach (start-up failed on another shard): closed without its stop. */
static void native_shard_stop(struct sea__shard *sh) {
    (void)sh;
    if (!stack)
        return;
    if (stack_running) {
        sea_future_detach(stack_run);
        stack_running = false;
    }
    sea__nsock_stack_gone(stack);
    sea__nstack_close(stack);
    stack = NULL;
}

const struct sea__module sea__module_native = {
    .name = "native",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = native_configure,
    .start = native_start,
    .stop = native_stop,
    .shard_start = native_shard_start,
    .metrics = native_metrics,
    .stopping = native_stopping,
    .shard_stop = native_shard_stop,
};
