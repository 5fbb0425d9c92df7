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

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "native_app.h"
#include "net/native/module.h"
#include "net/native/native.h"

static uint8_t frame[SEA__TAP_FRAME_MAX];

static sea_future app_main(void) {
    const struct sea__native_options *no = sea__native_options();
    struct sea__l3_config cfg = {.addr = no->addr, .netmask = no->netmask};
    const char *name = no->tap;
    if (!no->addr) {
        fprintf(stderr, "native_ping: needs --tap-device NAME --host-ipv4-addr A [--netmask-ipv4-addr M]\n");
        return sea_ready_int(2);
    }
    if (no->have_mac)
        memcpy(cfg.mac, no->mac, 6);
    else
        sea__l3_random_mac(cfg.mac);
    struct sea__tap tap;
    int rc = sea__tap_open(&tap, name);
    if (rc < 0) {
        fprintf(stderr, "native_ping: cannot open TAP device %s: %s\n", name, sea_strerror(rc));
        return sea_ready_int(1);
    }
    static struct sea__l3 l3; /* 2 KiB of ARP cache: kept off the fiber's stack */
    sea__l3_init(&l3, &cfg);
    sea_abort_source_init(&native_stop);
    rc = sea_app_at_exit(native_on_stop);
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
        sea_future w = sea_await(sea__tap_wait(&tap, &native_stop));
        err = sea_future_error(&w);
        sea_future_detach(w);
        /* Up to a batch of frames per wake-up, so a flood cannot hold the shard. */
        for (int i = 0; i < 64 && !err; i++) {
            ssize_t n = sea__tap_recv(&tap, frame, sizeof(frame), NULL);
            if (n == -EAGAIN)
                break;
            if (n < 0) {
                err = (int)n;
                break;
            }
            size_t r = sea__l3_input(&l3, frame, (size_t)n, sizeof(frame));
            if (r)
                sea__tap_send(&tap, frame, r, NULL); /* a full queue drops it, counted: ping sends again */
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
    native_finished();
    if (err != SEA_ECANCELED) {
        fprintf(stderr, "native_ping: %s: %s\n", name, sea_strerror(err));
        return sea_ready_int(1);
    }
    return sea_ready_int(0);
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, app_main);
}
