/*
 * native_echo.c - sea's native TCP on a TAP device (net/native/stack.h), for
 * tests/apps/test_native_tcp.py: an echo server, or a client of one.
 *
 *     native_echo [sea options] --tap-device NAME --host-ipv4-addr A [--netmask-ipv4-addr M]
 *                 [--gw-ipv4-addr G] [--hw-address MAC] [--port P] [--connect A:P --bytes N]
 *                 [--native-fault-loss-ppm N ... (the device's fault injector: sea's standard options)]
 *
 * The stack's options are sea's own (net/native/module.c); the program
 * builds its own stack with them rather than --network-stack=native, so
 * that it can use the TCP engine directly.
 *
 * As a server (the default) it echoes every connection to port P (7) until
 * SIGTERM or SIGINT.  With --connect it connects to A:P, sends N bytes of a
 * seeded pattern while reading back what the server echoes, checks every
 * byte, closes, and exits (0 if all came back whole).  Either way it prints
 * "serving tap=NAME mac=MAC" once the device is open, and its counters
 * ("native_echo: key=value ...") at the end.
 */
#include <sea/sea.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native_app.h"
#include "net/native/module.h"
#include "net/native/stack.h"

static const sea_option opts[] = {
    {.name = "port", .type = SEA_OPTION_INT, .default_value = "7", .min = 1, .max = 65535, .help = "echo port"},
    {.name = "connect", .type = SEA_OPTION_STRING, .help = "be a client of the echo server at A:P"},
    {.name = "bytes", .type = SEA_OPTION_SIZE, .default_value = "1M", .help = "what the client sends"},
};

static struct sea__nstack *stack;
static struct sea__tcp_engine *tcp;
static uint64_t conns_accepted, conns_closed, bytes_echoed;

/* ---- the echo server ---- */

struct conn {
    struct conn *prev, *next; /* the open ones, freed at the end */
    struct sea__tcb *c;
    uint8_t buf[65536];
    size_t len, off;
    bool shut;
};

static struct conn *conns;

static void conn_free(struct conn *k) {
    sea__tcp_close(tcp, k->c);
    conns_closed++;
    if (k->prev)
        k->prev->next = k->next;
    else
        conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    free(k);
}

static void conn_pump(struct conn *k) {
    for (int round = 0; round < 64; round++) {
        if (k->off < k->len) {
            long n = sea__tcp_send(tcp, k->c, k->buf + k->off, k->len - k->off);
            if (n == -EAGAIN)
                return; /* a WRITABLE event follows */
            if (n < 0)
                break;
            k->off += (size_t)n;
            bytes_echoed += (uint64_t)n;
            continue;
        }
        long r = sea__tcp_recv(tcp, k->c, k->buf, sizeof(k->buf));
        if (r == -EAGAIN)
            return;
        if (r == 0 && !k->shut) {
            sea__tcp_shutdown(tcp, k->c); /* the client's end: ours follows, the close finishes in the engine */
            k->shut = true;
        }
        if (r <= 0)
            break;
        k->len = (size_t)r;
        k->off = 0;
    }
    if (k->off < k->len || !k->shut)
        return; /* 64 rounds done with work left: the next event goes on */
    conn_free(k);
}

static void conn_event(void *arg, unsigned ev) {
    struct conn *k = arg;
    if ((ev & SEA__TCP_EV_CLOSED) && sea__tcp_error(k->c)) {
        conn_free(k);
        return;
    }
    conn_pump(k);
}

static void listener_event(void *arg, unsigned ev) {
    (void)ev;
    struct sea__tcp_listener *l = *(struct sea__tcp_listener **)arg;
    struct sea__tcb *c;
    while ((c = sea__tcp_accept(l))) {
        struct conn *k = calloc(1, sizeof(*k));
        if (!k) {
            sea__tcp_abort(tcp, c);
            continue;
        }
        k->c = c;
        k->next = conns;
        if (conns)
            conns->prev = k;
        conns = k;
        conns_accepted++;
        sea__tcp_set_cb(c, conn_event, k);
        conn_pump(k);
    }
}

/* ---- the client ---- */

static struct {
    struct sea__tcb *c;
    uint64_t total, sent, received;
    bool connected, bad, eof, done;
    int err;
} cl;

static uint8_t pattern(uint64_t off) {
    uint64_t x = (off / 8 + 77) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    return (uint8_t)(x >> (8 * (off % 8)));
}

static void client_pump(void) {
    uint8_t buf[16384];
    while (cl.connected && cl.sent < cl.total) {
        size_t k = cl.total - cl.sent < sizeof(buf) ? (size_t)(cl.total - cl.sent) : sizeof(buf);
        for (size_t i = 0; i < k; i++)
            buf[i] = pattern(cl.sent + i);
        long n = sea__tcp_send(tcp, cl.c, buf, k);
        if (n <= 0) {
            if (n != -EAGAIN)
                cl.err = (int)n;
            break;
        }
        cl.sent += (uint64_t)n;
        if (cl.sent == cl.total)
            sea__tcp_shutdown(tcp, cl.c);
    }
    for (;;) {
        long r = sea__tcp_recv(tcp, cl.c, buf, sizeof(buf));
        if (r == 0)
            cl.eof = true;
        if (r < 0 && r != -EAGAIN)
            cl.err = (int)r;
        if (r <= 0)
            break;
        for (long i = 0; i < r; i++)
            cl.bad |= buf[i] != pattern(cl.received + (uint64_t)i);
        cl.received += (uint64_t)r;
    }
    if ((cl.eof || cl.err) && !cl.done) {
        cl.done = true;
        sea_abort_source_request(&native_stop, SEA_ECANCELED); /* the client's work is over */
    }
}

static void client_event(void *arg, unsigned ev) {
    (void)arg;
    if (ev & SEA__TCP_EV_CONNECTED)
        cl.connected = true;
    if ((ev & SEA__TCP_EV_CLOSED) && sea__tcp_error(cl.c))
        cl.err = sea__tcp_error(cl.c);
    client_pump();
}

static void print_counters(void) {
    const struct sea__tap_stats *d = sea__nstack_tap_stats(stack);
    const struct sea__l3_stats *l = sea__nstack_l3_stats(stack);
    const struct sea__nstack_stats *n = sea__nstack_stats(stack);
    const struct sea__tcp_stats *t = &tcp->stats;
    printf("native_echo: rx_frames=%" PRIu64 " tx_frames=%" PRIu64 " tx_dropped=%" PRIu64 " arp_replies=%" PRIu64
           " arp_requests=%" PRIu64 " arp_dropped=%" PRIu64 " echo_replies=%" PRIu64 " segs_in=%" PRIu64
           " segs_out=%" PRIu64 " bad_segments=%" PRIu64 " retransmits=%" PRIu64 " fast_retransmits=%" PRIu64
           " sack_recoveries=%" PRIu64 " lost_retransmits=%" PRIu64 " rto_expired=%" PRIu64 " rst_sent=%" PRIu64 " rst_received=%" PRIu64 " out_of_order=%" PRIu64
           " accepted=%" PRIu64 " closed=%" PRIu64 " echoed=%" PRIu64 " connections=%" PRIu64
           " fault_lost=%" PRIu64 " fault_dup=%" PRIu64 " fault_reordered=%" PRIu64 " fault_corrupt=%" PRIu64
           " fault_delayed=%" PRIu64 " reassembled=%" PRIu64 " fragmented=%" PRIu64 " rx_gso=%" PRIu64
           " tx_gso=%" PRIu64 " tso_segs=%" PRIu64 " pmtu_lowered=%" PRIu64 " icmp_errors_sent=%" PRIu64
           " icmp_errors_received=%" PRIu64 " udp_no_port=%" PRIu64 " proto_unreachable=%" PRIu64 "\n",
           d->rx_frames, d->tx_frames, d->tx_dropped, l->arp_replies_sent, n->arp_requests, n->arp_dropped,
           l->echo_replies_sent, t->segs_in, t->segs_out, t->bad_segments, t->retransmits, t->fast_retransmits,
           t->sack_recoveries, t->lost_retransmits, t->rto_expired, t->rst_sent, t->rst_received, t->out_of_order, conns_accepted, conns_closed,
           bytes_echoed, t->connections, n->fault_lost, n->fault_dup, n->fault_reordered, n->fault_corrupt,
           n->fault_delayed, n->reassembled, n->fragmented, d->rx_gso, d->tx_gso, t->tso_segs,
           t->pmtu_lowered, n->icmp_errors_sent, n->icmp_errors_received, n->udp_no_port, n->proto_unreachable);
    fflush(stdout);
}

static sea_future app_main(void) {
    const struct sea__native_options *no = sea__native_options();
    struct sea__nstack_config cfg = {
        .tap = no->tap, .addr = no->addr, .netmask = no->netmask, .gw = no->gw, .faults = no->faults,
        .offloads = no->offloads,
    };
    if (!no->addr) {
        fprintf(stderr, "native_echo: needs --tap-device NAME --host-ipv4-addr A [--netmask-ipv4-addr M] "
                        "[--gw-ipv4-addr G]\n");
        return sea_ready_int(2);
    }
    if (no->have_mac)
        memcpy(cfg.mac, no->mac, 6);
    else
        sea__l3_random_mac(cfg.mac);
    const char *target = sea_option_string("connect");
    uint32_t taddr = 0;
    unsigned tport = 0;
    if (target) {
        sea_addr ta;
        if (sea_addr_parse(target, &ta) < 0 || ta.u.sa.sa_family != AF_INET || !sea_addr_port(&ta)) {
            fprintf(stderr, "native_echo: --connect: not A.B.C.D:PORT: %s\n", target);
            return sea_ready_int(2);
        }
        taddr = ntohl(ta.u.in4.sin_addr.s_addr);
        tport = sea_addr_port(&ta);
    }
    char err[256];
    int rc = sea__nstack_open(&stack, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "native_echo: %s\n", err);
        return sea_ready_int(1);
    }
    tcp = sea__nstack_tcp(stack);
    sea_abort_source_init(&native_stop);
    rc = sea_app_at_exit(native_on_stop);
    static struct sea__tcp_listener *l;
    if (rc == 0 && !target)
        rc = sea__tcp_listen(tcp, (uint16_t)sea_option_int("port"), 0, listener_event, &l, &l);
    if (rc == 0 && target) {
        cl.total = sea_option_size("bytes");
        rc = sea__tcp_connect(tcp, taddr, (uint16_t)tport, client_event, NULL, &cl.c);
    }
    if (rc < 0) {
        sea__nstack_close(stack);
        fprintf(stderr, "native_echo: %s\n", sea_strerror(rc));
        return sea_ready_int(1);
    }
    printf("serving tap=%s mac=%02x:%02x:%02x:%02x:%02x:%02x\n", cfg.tap, cfg.mac[0], cfg.mac[1], cfg.mac[2],
           cfg.mac[3], cfg.mac[4], cfg.mac[5]);
    fflush(stdout);
    sea_future r = sea_await(sea__nstack_run(stack, &native_stop));
    int run_err = sea_future_failed(&r) ? sea_future_error(&r) : 0;
    sea_future_detach(r);
    int code = run_err ? 1 : 0;
    if (target) {
        printf("client: sent=%" PRIu64 " received=%" PRIu64 " bad=%d err=%d\n", cl.sent, cl.received, cl.bad,
               cl.err);
        if (cl.bad || cl.err || cl.received != cl.total || !cl.eof)
            code = 1;
        sea__tcp_close(tcp, cl.c);
    }
    for (struct conn *k = conns; k; k = k->next) { /* what a stuck connection was waiting for */
        char d[400];
        sea__tcp_describe(k->c, d, sizeof(d));
        printf("open: %s echo_pending=%zu\n", d, k->len - k->off);
    }
    while (conns)
        conn_free(conns);
    print_counters();
    sea__nstack_close(stack);
    native_finished();
    if (run_err)
        fprintf(stderr, "native_echo: %s\n", sea_strerror(run_err));
    return sea_ready_int(code);
}

int main(int argc, char **argv) {
    if (sea_app_add_options(opts, SEA_OPTION_COUNT(opts)) < 0)
        return 2;
    return sea_app_run_fiber(argc, argv, app_main);
}
