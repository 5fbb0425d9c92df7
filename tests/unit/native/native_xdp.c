/*
 * native_xdp.c - sea's native stack on an AF_XDP socket (net/native/xdp.h),
 * answering ARP and ICMP echo with sea__l3_input as native_ping.c does on a
 * TAP device, for tests/apps/test_native_xdp.py:
 *
 *     native_xdp [sea options] --xdp IFNAME [--queue Q] --host-ipv4-addr A [--netmask-ipv4-addr M]
 *                [--hw-address MAC] [--xdp-mode auto|copy|zerocopy] [--xdp-attach auto|drv|skb]
 *                [--frames N] [--frame-size B] [--recv both|copy|hold]
 *
 * Opens queue Q of IFNAME (on shard 0), prints
 * "serving xdp=IFNAME queue=Q mode=copy|zerocopy attach=drv|skb mac=MAC" on
 * stdout once it is open, and answers what arrives until SIGTERM or SIGINT,
 * which stop it with exit 0 after printing its counters on stdout
 * ("native_xdp: rx_frames=N ...").  The MAC is the interface's own unless
 * --hw-address gives one.  --recv picks how frames are received: copied out
 * (sea__xdp_recv), answered in place in the UMEM (sea__xdp_recv_hold), or
 * the two in turn (the default, so one run exercises both).
 *
 * Where AF_XDP or bpf(2) is not available (no CONFIG_XDP_SOCKETS, no
 * CAP_BPF), it says so on stdout ("SKIP: ...") and exits 77.
 */
#include <sea/sea.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/native/module.h"
#include "net/native/native.h"
#include "net/native/xdp.h"

static const sea_option opts[] = {
    {.name = "xdp", .type = SEA_OPTION_STRING, .help = "the interface whose queue to take"},
    {.name = "queue", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 65535, .help = "its queue"},
    {.name = "xdp-mode", .type = SEA_OPTION_STRING, .default_value = "auto", .help = "auto, copy or zerocopy"},
    {.name = "xdp-attach", .type = SEA_OPTION_STRING, .default_value = "auto", .help = "auto, drv or skb"},
    {.name = "frames", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1 << 20,
     .help = "UMEM frames (0: the default)"},
    {.name = "frame-size", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 65536,
     .help = "bytes per UMEM frame (0: the default)"},
    {.name = "recv", .type = SEA_OPTION_STRING, .default_value = "both", .help = "both, copy or hold"},
};

/* Static, not on the fiber's stack: the stop callback may run after an early return of the fiber. */
static sea_abort_source stop;
static uint8_t frame[SEA__XDP_FRAME_SIZE_DEFAULT * 32]; /* for the copying receive: a frame of any size allowed */
static bool loop_done;    /* the fiber has closed the device and printed its counters */
static bool stop_waiting; /* the stop callback waits on loop_ended */
static sea_promise loop_ended;
static struct sea__xdp xdp;
static struct sea__l3 l3;

/* SIGTERM's orderly stop, as in native_ping.c: cancels the wait and waits until the device is closed. */
static sea_future on_stop(void) {
    if (loop_done)
        return sea_ready();
    sea_promise_init(&loop_ended);
    stop_waiting = true;
    sea_future f = sea_promise_get_future(&loop_ended);
    sea_abort_source_request(&stop, SEA_ECANCELED);
    return f;
}

static int pick(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* One received frame answered: 0, -EAGAIN when none is queued. */
static int serve_one(bool hold) {
    size_t r;
    if (hold) {
        /* In place: the reply is written over the request inside its UMEM frame, then copied to a send frame. */
        struct sea__xdp_frame f;
        int rc = sea__xdp_recv_hold(&xdp, &f);
        if (rc < 0)
            return rc;
        size_t room = xdp.frame_size - (size_t)(f.addr & (xdp.frame_size - 1));
        r = sea__l3_input(&l3, f.data, f.len, room);
        if (r)
            sea__xdp_send(&xdp, f.data, r); /* a full ring drops it, counted: ping sends again */
        sea__xdp_recv_release(&xdp, &f);
        return 0;
    }
    ssize_t n = sea__xdp_recv(&xdp, frame, sizeof(frame));
    if (n == -EMSGSIZE)
        return 0; /* counted in rx_truncated */
    if (n < 0)
        return (int)n;
    r = sea__l3_input(&l3, frame, (size_t)n, sizeof(frame));
    if (r)
        sea__xdp_send(&xdp, frame, r);
    return 0;
}

static sea_future app_main(void) {
    static const char *const modes[] = {"auto", "copy", "zerocopy"}, *const attaches[] = {"auto", "drv", "skb"},
                             *const recvs[] = {"both", "copy", "hold"};
    struct sea__l3_config cfg = {0};
    struct sea__xdp_options o = {
        .frames = (uint32_t)sea_option_int("frames"),
        .frame_size = (uint32_t)sea_option_int("frame-size"),
        .mode = pick(sea_option_string("xdp-mode"), modes, 3),
        .attach = pick(sea_option_string("xdp-attach"), attaches, 3),
    };
    int recv = pick(sea_option_string("recv"), recvs, 3);
    const struct sea__native_options *no = sea__native_options();
    const char *name = sea_option_string("xdp");
    cfg.addr = no->addr;
    cfg.netmask = no->netmask;
    if (!name || !no->addr || o.mode < 0 || o.attach < 0 || recv < 0) {
        fprintf(stderr, "native_xdp: needs --xdp IFNAME --host-ipv4-addr A [--netmask-ipv4-addr M]; "
                        "--xdp-mode auto|copy|zerocopy, --xdp-attach auto|drv|skb, --recv both|copy|hold\n");
        return sea_ready_int(2);
    }
    if (no->have_mac)
        memcpy(cfg.mac, no->mac, 6);
    unsigned queue = (unsigned)sea_option_int("queue");
    /*
     * EBUSY may only mean that the kernel has not yet freed the queue's
     * previous socket (closed moments ago: it frees it from a work queue),
     * so that is tried again, a bounded number of times, without blocking the shard.
     */
    int rc = sea__xdp_open(&xdp, name, queue, &o);
    for (int i = 0; rc == -EBUSY && i < 100; i++) {
        sea_future z = sea_await(sea_sleep(SEA_MSEC(20)));
        sea_future_detach(z);
        rc = sea__xdp_open(&xdp, name, queue, &o);
    }
    if (rc == -EAFNOSUPPORT || rc == -EPERM || rc == -ENOSYS) {
        printf("SKIP: AF_XDP cannot be used here (no AF_XDP in the kernel, or no CAP_NET_RAW, CAP_BPF): %s\n", xdp.err);
        fflush(stdout);
        return sea_ready_int(77);
    }
    if (rc < 0) {
        fprintf(stderr, "native_xdp: cannot open %s queue %u: %s\n", name, queue, xdp.err);
        return sea_ready_int(1);
    }
    if (!no->have_mac)
        memcpy(cfg.mac, xdp.mac, 6);
    sea__l3_init(&l3, &cfg);
    sea_abort_source_init(&stop);
    rc = sea_app_at_exit(on_stop);
    if (rc < 0) {
        sea__xdp_close(&xdp);
        fprintf(stderr, "native_xdp: %s\n", sea_strerror(rc));
        return sea_ready_int(1);
    }
    printf("serving xdp=%s queue=%u mode=%s attach=%s mac=%02x:%02x:%02x:%02x:%02x:%02x", xdp.name, xdp.queue,
           xdp.zerocopy ? "zerocopy" : "copy", xdp.drv_mode ? "drv" : "skb", cfg.mac[0], cfg.mac[1], cfg.mac[2],
           cfg.mac[3], cfg.mac[4], cfg.mac[5]);
    if (xdp.zerocopy_err)
        printf(" zerocopy_refused=%s", sea_errname(xdp.zerocopy_err));
    printf("\n");
    fflush(stdout);

    int err = 0;
    uint64_t turn = 0;
    while (!err) {
        sea_future w = sea_await(sea__xdp_wait(&xdp, &stop));
        err = sea_future_error(&w);
        sea_future_detach(w);
        /* Up to a batch of frames per wake-up, so a flood cannot hold the shard. */
        for (int i = 0; i < 64 && !err; i++) {
            int n = serve_one(recv == 2 || (recv == 0 && (turn++ & 1)));
            if (n == -EAGAIN)
                break;
            if (n < 0)
                err = n;
        }
    }
    sea__xdp_kernel_stats(&xdp);
    sea__xdp_close(&xdp);
    const struct sea__xdp_stats *s = &xdp.stats;
    printf("native_xdp: rx_frames=%" PRIu64 " rx_bytes=%" PRIu64 " tx_frames=%" PRIu64 " tx_bytes=%" PRIu64
           " tx_dropped=%" PRIu64 " rx_truncated=%" PRIu64 " rx_fill_empty=%" PRIu64 " rx_ring_full=%" PRIu64
           " rx_dropped=%" PRIu64 " tx_kicks=%" PRIu64 " rx_kicks=%" PRIu64 " arp_replies=%" PRIu64
           " echo_replies=%" PRIu64 " drop_malformed=%" PRIu64 " drop_not_ours=%" PRIu64
           " drop_unsupported=%" PRIu64 "\n",
           s->rx_frames, s->rx_bytes, s->tx_frames, s->tx_bytes, s->tx_dropped, s->rx_truncated, s->rx_fill_empty,
           s->rx_ring_full, s->rx_dropped, s->tx_kicks, s->rx_kicks, l3.stats.arp_replies_sent,
           l3.stats.echo_replies_sent, l3.stats.drop_malformed, l3.stats.drop_not_ours, l3.stats.drop_unsupported);
    fflush(stdout);
    loop_done = true;
    if (stop_waiting) {
        sea_promise_set_void(&loop_ended);
        sea_promise_release(&loop_ended);
    }
    if (err != SEA_ECANCELED) {
        fprintf(stderr, "native_xdp: %s: %s\n", name, sea_strerror(err));
        return sea_ready_int(1);
    }
    return sea_ready_int(0);
}

int main(int argc, char **argv) {
    if (sea_app_add_options(opts, SEA_OPTION_COUNT(opts)) < 0)
        return 2;
    return sea_app_run_fiber(argc, argv, app_main);
}
