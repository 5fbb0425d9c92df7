/*
 * net/native/tcp.h - TCP (RFC 9293) for sea's native stack: the state
 * machine, retransmission (RFC 6298), congestion control (NewReno, RFC 5681
 * and 6582), window scaling and timestamps (RFC 7323), SACK (RFC 2018: blocks
 * sent, and received ones used for loss recovery by RFC 6675), tail loss
 * probes (RFC 8985), delayed ACKs, zero-window probes, keepalive, a SYN
 * backlog, RFC 5961's defences against blind resets, random initial
 * sequence numbers (RFC 6528) and ports (RFC 6056), path MTU discovery
 * (RFC 1191, from ICMP validated as RFC 5927 asks), a device's checksum
 * and segmentation offloads, and buffers kept by reference both ways.
 *
 * The engine does no I/O and reads no clock: segments come in through
 * sea__tcp_input with the time, go out through the output callback, and
 * timers fire when the owner calls sea__tcp_tick.  So the tests drive two
 * engines back to back through a faulty wire in virtual time
 * (tests/unit/native/test_tcp.c), and the shard's native stack (stack.c)
 * drives one with a device and the reactor's clock.  One engine belongs to
 * one shard; nothing here is shared.  docs/native-stack.md explains it.
 */
#ifndef SEA_NET_NATIVE_TCP_H
#define SEA_NET_NATIVE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <sea/buffer.h>
#include <sea/timer.h>

#include "core/timers.h"
#include "net/native/wire.h"

struct sea__tcb;
struct sea__tcp_listener;

/* Events reported to a connection's owner (a bit set). */
#define SEA__TCP_EV_READABLE 1u    /* data or the end of the stream can be read, or an error is set */
#define SEA__TCP_EV_WRITABLE 2u    /* room in the send buffer, or an error is set */
#define SEA__TCP_EV_CONNECTED 4u   /* an active open completed */
#define SEA__TCP_EV_CLOSED 8u      /* the connection is over: sea__tcp_error says how (0: orderly) */
#define SEA__TCP_EV_ACCEPTABLE 16u /* (listeners) a connection waits in the accept queue */

typedef void (*sea__tcp_event_cb)(void *arg, unsigned events);

struct sea__tcp_config {
    uint32_t addr;           /* our IPv4 address, host order */
    uint16_t mtu;            /* the interface's: segments carry at most mtu - 40 bytes (0: 1500) */
    uint32_t rcvbuf, sndbuf; /* per connection, bytes, rounded up to a power of two (0: 256 KiB each) */
    sea_time rto_initial;    /* 0: 1 s (RFC 6298) */
    sea_time rto_min;        /* 0: 200 ms, as Linux (RFC 6298 asks 1 s; it allows less) */
    sea_time rto_max;        /* 0: 60 s */
    sea_time delack;         /* the delayed-ACK timeout (0: 40 ms) */
    sea_time time_wait;      /* 2 MSL (0: 60 s, as Linux) */
    sea_time fin_wait2;      /* an orphaned FIN-WAIT-2's limit (0: 60 s) */
    sea_time keepalive_idle, keepalive_interval; /* 0: 2 h and 75 s */
    int keepalive_probes;    /* 0: 9 */
    int syn_retries;         /* 0: 6 */
    int retries;             /* retransmissions of data before giving up (0: 15) */
    bool no_sack;            /* offer no SACK (the other side then recovers by NewReno alone) */
    uint64_t secret[2];      /* keys the sequence numbers and ports (all zero: random) */
    /*
     * Whether an outgoing connection may use local port lport to raddr:rport
     * (NULL: any): the shard's steering, so that the answers arrive on the
     * shard that connected.
     */
    bool (*port_ok)(void *ctx, uint16_t lport, uint32_t raddr, uint16_t rport);
    void *port_ok_ctx;
    /*
     * The device's offloads (a TAP's virtio net header; both off for the
     * others and under the fault injector).  csum_offload: segments leave
     * with the pseudo-header's sum in the checksum field, for the device to
     * finish (wire.h's csum_partial).  tso_max: new data may go out as one
     * segment of up to tso_max payload bytes (at most 65535 - 20 - 60), which
     * the device cuts into pieces of gso_size bytes, each with a copy of the
     * header (TCP segmentation offload); 0: every segment fits the MTU.
     */
    bool csum_offload;
    uint32_t tso_max;
    /*
     * Sends one TCP segment to dst: seg[0..len) is the TCP header and data,
     * checksummed (or not, with csum_offload), with room for headroom bytes
     * before it (SEA__TCP_HEADROOM, for the IPv4 and Ethernet headers).
     * gso_size is 0, or, for a segment larger than the MTU allows (tso_max),
     * the payload of each piece the device must cut it into.  Dropping it is
     * allowed: TCP retransmits.  The buffer is the engine's and is reused
     * after the call.
     */
    void (*output)(void *ctx, uint32_t dst, uint8_t *seg, size_t len, uint16_t gso_size);
    /*
     * Optional: the same segment as its header (hdr[0..hlen), with the same
     * headroom) and its payload's plen bytes in niov pieces of the send
     * queue's memory, for a device that gathers (no copy of the payload).
     * true: sent (or dropped, as output may); false: the device cannot take
     * it so, and output gets it whole instead.  The pieces stay valid only
     * during the call.
     */
    bool (*output_v)(void *ctx, uint32_t dst, uint8_t *hdr, size_t hlen, const struct iovec *iov, int niov,
                     size_t plen, uint16_t gso_size);
    void *output_ctx;
};

/* Bytes before each segment for the headers below TCP. */
#define SEA__TCP_HEADROOM (14 + 20)

struct sea__tcp_stats {
    uint64_t segs_in, segs_out, bytes_in, bytes_out; /* payload bytes */
    uint64_t bad_segments;   /* refused by the parser: checksum, lengths, options */
    uint64_t retransmits;    /* segments sent again, any cause */
    uint64_t tso_segs;       /* segments larger than the MTU given to the device to cut (tso_max) */
    uint64_t bytes_in_place; /* received payload kept in the memory it arrived in (no copy) */
    uint64_t bytes_sent_by_reference; /* payload handed over as buffers (sea__tcp_send_buf), kept, not copied */
    uint64_t segs_scattered; /* segments sent as a header and references to their payload (output_v) */
    uint64_t pmtu_lowered;   /* connections whose segments shrank to a path's MTU (ICMP fragmentation needed) */
    uint64_t pmtu_raised;    /* ... and grew back to their full size ten minutes later (the path may have widened) */
    uint64_t icmp_refused;   /* connections refused by ICMP port or protocol unreachable while connecting */
    uint64_t icmp_ignored;   /* ICMP errors for no connection, outside the window, or soft */
    uint64_t rto_expired, fast_retransmits, zero_window_probes, keepalive_probes;
    uint64_t tail_loss_probes; /* RFC 8985 TLP: the last segment sent again after 2 SRTT without an ACK */
    uint64_t sack_recoveries;     /* loss recoveries driven by the peer's SACK blocks (RFC 6675) */
    uint64_t lost_retransmits;    /* retransmissions found lost by SACKs of data sent after them, sent again */
    uint64_t sack_blocks_ignored; /* received blocks outside (SND.UNA, SND.MAX], or empty: D-SACK, stale, forged */
    uint64_t rst_sent, rst_received, challenge_acks;
    uint64_t no_listener;     /* segments for no connection (answered with a reset) */
    uint64_t backlog_drops;   /* SYNs dropped because the listener's backlog was full */
    uint64_t out_of_order;    /* segments kept beyond a hole */
    uint64_t dropped_unacceptable; /* outside the window, or no room to keep them */
    uint64_t active_opens, passive_opens, established, timeouts;
    uint64_t connections;     /* open now, TIME-WAIT included */
};

struct sea__tcp_engine {
    struct sea__tcp_config cfg;
    struct sea__timer_set timers;
    sea_time now;
    struct sea__tcb **table; /* chained by (remote address, remote port, local port) */
    size_t table_size, count;
    struct sea__tcp_listener *listeners;
    struct sea__tcb *dead;   /* closed and released: freed at the next call */
    uint8_t *tx;             /* one segment being built, after its headroom */
    const sea_buf *in_mem;   /* during sea__tcp_input: the memory of the segment being taken in */
    size_t tx_cap;
    uint64_t rng;            /* for ports and timestamps offsets */
    struct sea__tcp_stats stats;
};

/* Prepares t; 0 or -ENOMEM.  now is the clock the caller will keep passing in. */
int sea__tcp_init(struct sea__tcp_engine *t, const struct sea__tcp_config *cfg, sea_time now);
/* Frees every connection and listener without sending anything (the device is gone). */
void sea__tcp_destroy(struct sea__tcp_engine *t);

/*
 * One received IPv4 packet carrying TCP (ip->proto == 6, for our address,
 * reassembled), at time now.  mem is the memory the packet lies in (NULL:
 * memory the caller reuses): a payload that is most of it is kept there,
 * with a reference, instead of copied, so mem must not be written again
 * while other references remain (sea_buf_refs).  Refused segments are
 * counted; answers (ACKs, resets) go out through the output callback;
 * owners hear of what changed through their event callbacks, called before
 * this returns.
 */
void sea__tcp_input(struct sea__tcp_engine *t, const struct sea__ipv4 *ip, const sea_buf *mem, sea_time now);
/*
 * An ICMP destination unreachable message (code, and mtu for
 * SEA__ICMP_FRAG_NEEDED) about a segment we sent from lport to
 * raddr:rport with sequence number seq, at time now.  Taken only for a
 * sequence number in flight (RFC 5927): fragmentation needed shrinks the
 * connection's segments to the path's MTU and sends what is in flight
 * again (path MTU discovery, RFC 1191; after ten minutes the full size is
 * tried again, as the path may have widened); a port or protocol unreachable
 * refuses a connection still in SYN-SENT; anything else is counted and
 * left to the retransmission timer.
 */
void sea__tcp_icmp_unreach(struct sea__tcp_engine *t, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
                           uint8_t code, uint16_t mtu, sea_time now);
/* Fires the timers due at now.  Returns the next deadline (SEA_TIME_MAX: none). */
sea_time sea__tcp_tick(struct sea__tcp_engine *t, sea_time now);
/* The earliest timer (SEA_TIME_MAX: none), for the owner's wake-up. */
sea_time sea__tcp_next_deadline(const struct sea__tcp_engine *t);

/* ---- listeners ---- */

/*
 * Listens on port (0: any free one, from 32768..60999), accepting up to
 * backlog connections not yet accepted (0: 1024).  -EADDRINUSE.
 */
int sea__tcp_listen(struct sea__tcp_engine *t, uint16_t port, int backlog, sea__tcp_event_cb cb, void *arg,
                    struct sea__tcp_listener **out);
/* The port l listens on (the one chosen for port 0). */
uint16_t sea__tcp_listener_port(const struct sea__tcp_listener *l);
/* The next established connection, or NULL.  Its owner sets its callback with sea__tcp_set_cb. */
struct sea__tcb *sea__tcp_accept(struct sea__tcp_listener *l);
/* Stops listening; connections not accepted yet are reset. */
void sea__tcp_unlisten(struct sea__tcp_engine *t, struct sea__tcp_listener *l);

/* ---- connections ---- */

/*
 * Opens a connection to raddr:rport from a random free local port that
 * port_ok accepts; SEA__TCP_EV_CONNECTED, or SEA__TCP_EV_CLOSED with the
 * error (-ECONNREFUSED, -ETIMEDOUT), follows.  0, -EADDRNOTAVAIL (no port),
 * -ENOMEM.
 */
int sea__tcp_connect(struct sea__tcp_engine *t, uint32_t raddr, uint16_t rport, sea__tcp_event_cb cb, void *arg,
                     struct sea__tcb **out);
void sea__tcp_set_cb(struct sea__tcb *c, sea__tcp_event_cb cb, void *arg);

/*
 * Copies up to len received bytes into buf: their number, 0 at the end of
 * the stream, -EAGAIN when none is there yet, or the connection's error.
 */
long sea__tcp_recv(struct sea__tcp_engine *t, struct sea__tcb *c, void *buf, size_t len);
/*
 * The next received bytes, up to max, as a buffer without a copy (a slice
 * of the frame they came in, or of the chunk they were copied into): their
 * number, with *out to release, or what sea__tcp_recv returns without data.
 */
long sea__tcp_recv_buf(struct sea__tcp_engine *t, struct sea__tcb *c, size_t max, sea_buf *out);
/* Whether sea__tcp_recv would return something other than -EAGAIN. */
bool sea__tcp_readable(const struct sea__tcb *c);
/*
 * Takes up to len bytes into the send buffer and sends what the windows
 * allow: the number taken (> 0), -EAGAIN when the buffer is full (a
 * SEA__TCP_EV_WRITABLE follows), -EPIPE after a shutdown, or the error.
 */
long sea__tcp_send(struct sea__tcp_engine *t, struct sea__tcb *c, const void *buf, size_t len);
/*
 * The same for the bytes of b, kept by reference until acknowledged rather
 * than copied (a buffer of fewer than 2 KiB is copied): what was taken is
 * b's first n bytes, n the result.  b stays the caller's to release, but
 * its bytes must not change while TCP holds them (until acknowledged).
 */
long sea__tcp_send_buf(struct sea__tcp_engine *t, struct sea__tcb *c, const sea_buf *b);
/* Sends a FIN once the buffered data is out (SHUT_WR).  0, or the error. */
int sea__tcp_shutdown(struct sea__tcp_engine *t, struct sea__tcb *c);
/*
 * Releases the connection: no more events.  If received data was left
 * unread it is reset (as Linux does); otherwise it is shut down and left to
 * finish its close in the background, bounded by the timers.
 */
void sea__tcp_close(struct sea__tcp_engine *t, struct sea__tcb *c);
/* Resets the connection and releases it. */
void sea__tcp_abort(struct sea__tcp_engine *t, struct sea__tcb *c);
void sea__tcp_set_keepalive(struct sea__tcp_engine *t, struct sea__tcb *c, bool on);

/* The connection's error: 0, -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT, -EPIPE... */
int sea__tcp_error(const struct sea__tcb *c);
/* Our port, and the peer's address and port (our address is the engine's). */
void sea__tcp_endpoints(const struct sea__tcb *c, uint16_t *lport, uint32_t *raddr, uint16_t *rport);
/* The RFC 9293 state's name ("ESTABLISHED"...), for tests and logs. */
const char *sea__tcp_state_name(const struct sea__tcb *c);
/* The next sequence number to send and the next expected, for tests. */
void sea__tcp_next_seqs(const struct sea__tcb *c, uint32_t *snd_nxt, uint32_t *rcv_nxt);
/* SND.UNA and the highest sequence number sent (SND.MAX), for tests. */
void sea__tcp_snd_range(const struct sea__tcb *c, uint32_t *snd_una, uint32_t *snd_max);
/* One line of the connection's variables (sequence numbers relative to the initial ones), for logs and tests. */
int sea__tcp_describe(const struct sea__tcb *c, char *buf, size_t len);
/* Bytes sea__tcp_send would take now (0 after a shutdown or an error). */
size_t sea__tcp_send_space(const struct sea__tcp_engine *t, const struct sea__tcb *c);
/* Bytes waiting in the send buffer (sent or not, unacknowledged). */
size_t sea__tcp_unacked(const struct sea__tcb *c);

#endif
