/*
 * native_ping.c - sea's native stack on a TAP device, answering ARP and
 * ICMP echo (net/native/native.h), for tests/apps/test_native_ping.py:
 *
 *     native_ping [sea options] --tap NAME --host-ipv4-addr A --netmask-ipv4-addr M [--hw-addr MAC]
 *
 * Opens the TAP device NAME (one queue, on shard 0), prints
 * "serving tap=NAME mac=MAC" on stdout once it is open, and answers what the
 * kernel sends it until SIGTERM or SIGINT, which stop it with exit 0 after
 * printing its counters on stdout ("native_ping: rx_frames=N ...").  Without
 * --hw-addr the MAC is a random locally administered one.
 */
#include <sea/sea.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/native/native.h"

static const sea_option opts[] = {
    {.name = "tap", .type = SEA_OPTION_STRING, .help = "the TAP device to open (it may exist already)"},
    {.name = "host-ipv4-addr", .type = SEA_OPTION_STRING, .help = "our IPv4 address"},
    {.name = "netmask-ipv4-addr", .type = SEA_OPTION_STRING, .default_value = "255.255.255.0",
     .help = "the netmask of our subnet"},
    {.name = "hw-addr", .type = SEA_OPTION_STRING, .help = "our MAC (default: random, locally administered)"},
};

/* Static, not on the fiber's stack: the stop callback may run after an early return of the fiber. */
static sea_abort_source stop;
static uint8_t frame[SEA__TAP_FRAME_MAX];
static bool loop_done;      /* the fiber has closed the device and printed its counters */
static bool stop_waiting;   /* the stop callback waits on loop_ended */
static sea_promise loop_ended;

/*
 * SIGTERM's orderly stop: cancels the device's wait and waits until the
 * fiber has closed the device (an application's stop does not wait for main
 * by itself, so without this the device would be left open at exit).
 */
static sea_future on_stop(void) {
    if (loop_done)
        return sea_ready();
    sea_promise_init(&loop_ended);
    stop_waiting = true;
    sea_future f = sea_promise_get_future(&loop_ended);
    sea_abort_source_request(&stop, SEA_ECANCELED);
    return f;
}

static int parse_ipv4(const char *s, uint32_t *out) {
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -EINVAL;
    *out = ntohl(a.s_addr);
    return 0;
}

static sea_future app_main(void) {
    struct sea__l3_config cfg = {0};
    const char *name = sea_option_string("tap"), *hw = sea_option_string("hw-addr");
    if (!name || parse_ipv4(sea_option_string("host-ipv4-addr"), &cfg.addr) < 0 ||
        parse_ipv4(sea_option_string("netmask-ipv4-addr"), &cfg.netmask) < 0) {
        fprintf(stderr, "native_ping: needs --tap NAME --host-ipv4-addr A [--netmask-ipv4-addr M]\n");
        return sea_ready_int(2);
    }
    if (hw) {
        unsigned m[6];
        char extra;
        if (sscanf(hw, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6) {
            fprintf(stderr, "native_ping: --hw-addr: not a MAC: %s\n", hw);
            return sea_ready_int(2);
        }
        for (int i = 0; i < 6; i++)
            cfg.mac[i] = (uint8_t)m[i];
    } else {
        sea__l3_random_mac(cfg.mac);
    }
    struct sea__tap tap;
    int rc = sea__tap_open(&tap, name);
    if (rc < 0) {
        fprintf(stderr, "native_ping: cannot open TAP device %s: %s\n", name, sea_strerror(rc));
        return sea_ready_int(1);
    }
    static struct sea__l3 l3; /* 2 KiB of ARP cache: kept off the fiber's stack */
    sea__l3_init(&l3, &cfg);
    sea_abort_source_init(&stop);
    rc = sea_app_at_exit(on_stop);
    if (rc < 0) {
        sea__tap_close(&tap);
        fprintf(stderr, "native_ping: %s\n", sea_strerror(rc));
        return sea_ready_int(1);
    }
    printf("serving tap=%s mac=%02x:%02x:%02x:%02x:%02x:%02x\n", tap.name, cfg.mac[0], cfg.mac[1], cfg.mac[2],
           cfg.mac[3], cfg.mac[4], cfg.mac[5]);
    fflush(stdout);

    int err = 0;
    while (!err) {
        sea_future w = sea_await(sea__tap_wait(&tap, &stop));
        err = sea_future_error(&w);
        sea_future_detach(w);
        /* Up to a batch of frames per wake-up, so a flood cannot hold the shard. */
        for (int i = 0; i < 64 && !err; i++) {
            ssize_t n = sea__tap_recv(&tap, frame, sizeof(frame));
            if (n == -EAGAIN)
                break;
            if (n < 0) {
                err = (int)n;
                break;
            }
            size_t r = sea__l3_input(&l3, frame, (size_t)n, sizeof(frame));
            if (r)
                sea__tap_send(&tap, frame, r); /* a full queue drops it, counted: ping sends again */
        }
    }
    sea__tap_close(&tap);
    printf("native_ping: rx_frames=%" PRIu64 " tx_frames=%" PRIu64 " tx_dropped=%" PRIu64
           " arp_replies=%" PRIu64 " arp_learned=%" PRIu64 " echo_replies=%" PRIu64 " drop_malformed=%" PRIu64
           " drop_not_ours=%" PRIu64 " drop_unsupported=%" PRIu64 "\n",
           tap.stats.rx_frames, tap.stats.tx_frames, tap.stats.tx_dropped, l3.stats.arp_replies_sent,
           l3.stats.arp_learned, l3.stats.echo_replies_sent, l3.stats.drop_malformed, l3.stats.drop_not_ours,
           l3.stats.drop_unsupported);
    fflush(stdout);
    loop_done = true;
    if (stop_waiting) {
        sea_promise_set_void(&loop_ended);
        sea_promise_release(&loop_ended);
    }
    if (err != SEA_ECANCELED) {
        fprintf(stderr, "native_ping: %s: %s\n", name, sea_strerror(err));
        return sea_ready_int(1);
    }
    return sea_ready_int(0);
}

int main(int argc, char **argv) {
    if (sea_app_add_options(opts, SEA_OPTION_COUNT(opts)) < 0)
        return 2;
    return sea_app_run_fiber(argc, argv, app_main);
}
