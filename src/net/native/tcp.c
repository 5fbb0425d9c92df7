/*
 * net/native/tcp.c - TCP for sea's native stack (tcp.h): connections, their
 * state machine, buffers and timers, with no I/O and no clock of its own.
 *
 * The rules follow RFC 9293's event processing (§3.10.7) in order: the
 * sequence check, RST (with RFC 5961's exact-match rule and challenge ACKs),
 * SYN, ACK, data, FIN.  Where the RFC leaves a choice, Linux's is taken,
 * since Linux is the peer sea meets most: a 200 ms minimum RTO, 40 ms
 * delayed ACKs, a reset on close with unread data, 60 s of TIME-WAIT.
 *
 * Buffers: each connection has a send queue and a receive queue of pieces
 * of memory.  The send queue holds the bytes from SND.UNA on until they are
 * acknowledged: a buffer the owner handed over (sea__tcp_send_buf) is kept
 * by reference, not copied, and a segment goes to the device as its header
 * and references to those pieces (the output_v callback) where the device
 * can take it so; bytes given by pointer (sea__tcp_send) are copied into
 * chunks.  The receive queue holds
 * the bytes the owner has not read, in order, then apart the pieces that
 * arrived beyond a hole (the up to 16 ranges held there are what the SACK
 * blocks report, the one that took the latest segment first).  A piece is
 * the received frame's own memory when the owner passes it in (a sea_buf)
 * and the payload is most of it, so a large segment reaches the reader
 * without a copy (sea__tcp_recv_buf); smaller payloads are copied, back to
 * back, into chunks of their own, so a frame buffer is not held for a few
 * bytes.  An idle connection holds no memory for either.
 *
 * Loss recovery: with SACK negotiated, the sender keeps a scoreboard of the
 * ranges the peer reported holding beyond SND.UNA (at most 16, merged;
 * blocks outside (SND.UNA, SND.MAX] are ignored) and recovers by RFC 6675:
 * a hole is lost once more than two segments' worth, or three ranges, are
 * SACKed above it (or three duplicate ACKs came); recovery retransmits the
 * lost holes first, then sends new data, as long as the estimate of what is
 * in the network (the pipe) stays under cwnd.  After a timeout the resend
 * skips what was SACKed (a second timeout in a row forgets the scoreboard,
 * in case the peer reneged).  Without SACK it is NewReno with limited
 * transmit (RFC 3042).
 *
 * Timers: one sea_timer per connection, armed at the earliest of its
 * retransmission (or zero-window probe), delayed-ACK, keepalive and
 * TIME-WAIT deadlines, in the engine's own timer set.
 */
#include "net/native/tcp.h"

#include <sea/buffer.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "base/list.h"

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

#define MS ((sea_time)1000000)
#define SEC ((sea_time)1000000000)
#define MAX_OOO 16  /* ranges a receiver holds beyond a hole */
#define MAX_SB 16   /* ranges a sender remembers as SACKed */
#define DUPTHRESH 3 /* RFC 6675's */
#define MAX_RXQ 8   /* retransmissions watched for loss in a recovery */
#define TS_OPT_LEN 12 /* NOP, NOP, timestamps */
#define PMTU_RETRY (600 * SEC) /* RFC 1191's ten minutes, as Linux's mtu_expires */

enum state {
    CLOSED,
    SYN_SENT,
    SYN_RECEIVED,
    ESTABLISHED,
    FIN_WAIT_1,
    FIN_WAIT_2,
    CLOSE_WAIT,
    CLOSING,
    LAST_ACK,
    TIME_WAIT,
};

static const char *const state_names[] = {
    "CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
    "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

/*
 * Received bytes in memory: mem.data[off, end), the stream's bytes from seq
 * on.  A chunk (the engine's copy) has room after end for more; a slice of
 * a frame has none (end == mem.len).
 */
struct rpiece {
    struct rpiece *next;
    uint32_t seq;
    uint32_t off, end;
    bool chunk;
    sea_buf mem;
};

/* A payload at least this share of its frame's memory is kept in it rather than copied. */
#define KEEP_SHARE 4 /* a quarter: at most 4 bytes of memory held per byte received */
#define CHUNK_MIN 4096u
#define MAX_OQ 512 /* pieces held beyond a hole: a full window of MSS-sized segments needs 181 */
#define SEND_CHUNK 16384u   /* a send chunk's size once writes are not tiny */
#define SEND_REF_MIN 2048u  /* a buffer handed over with fewer bytes is copied: pieces stay few */
#define MAX_IOV 48          /* pieces of one segment handed to output_v (more: the segment is copied whole) */

struct sea__tcp_listener {
    struct sea__tcp_listener *next;
    uint16_t port;
    int backlog, pending; /* pending: SYN-RECEIVED connections, and established ones not accepted */
    struct sea__list queue;
    sea__tcp_event_cb cb;
    void *arg;
    unsigned ev;
};

struct sea__tcb {
    struct sea__tcb *hnext;          /* the table's chain */
    struct sea__tcb *dnext;          /* the dead list */
    struct sea__link qlink;          /* the listener's accept queue */
    struct sea__tcp_listener *listener; /* until accepted */
    bool queued, user, in_table;
    uint8_t state;
    uint32_t raddr;
    uint16_t lport, rport;
    int err;
    sea__tcp_event_cb cb;
    void *arg;
    unsigned ev;
    sea_timer timer;
    sea_time t_rtx, t_delack, t_keep, t_2msl;
    /* sending */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
    uint8_t snd_wscale, rcv_wscale;
    bool ws_ok, ts_ok, sack_ok; /* negotiated (while SYN-SENT: offered) */
    bool tlp_armed;  /* t_rtx is a tail loss probe's deadline (RFC 8985), not the RTO */
    bool tlp_out;    /* a probe went out and no ACK of new data came since: no other until one does */
    bool fin_queued, persist, in_recovery, keepalive, rtt_timing;
    uint16_t mss; /* payload bytes per segment, options taken off */
    uint16_t mss_path_free; /* the MSS before a path's MTU lowered it (0: never lowered) */
    sea_time pmtu_retry;    /* when to try it again (RFC 1191: a path may widen) */
    uint32_t fin_seq;
    struct rpiece *sq, *sq_tail; /* from SND.UNA on: sent and not acknowledged, then not sent yet */
    uint32_t sq_len;
    struct rpiece *sq_cur;       /* where the last segment's bytes began: the next is usually there */
    uint32_t cwnd, ssthresh, recover;
    int dupacks, backoff, probes;
    int zw_unanswered; /* zero-window probes since the peer last answered */
    bool sack_recovery; /* the recovery in progress is RFC 6675's (else NewReno's) */
    uint32_t high_rxt;  /* RFC 6675's HighRxt: retransmitted in this recovery up to here */
    struct {
        uint32_t l, r;
    } sb[MAX_SB]; /* the scoreboard: ranges the peer SACKed, in (snd_una, snd_max], sorted, apart */
    int nsb;
    struct {
        uint32_t l, r, mark; /* retransmitted in this recovery when SND.MAX was mark */
    } rxq[MAX_RXQ];
    int nrxq;
    sea_time srtt, rttvar, rto, rtt_start;
    uint32_t rtt_seq;
    /* receiving */
    uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
    bool fin_received, ack_now;
    int unacked_segs;
    struct rpiece *rq, *rq_tail; /* in order, from RCV.NXT - rq_len: what the owner has not read */
    uint32_t rq_len;
    struct rpiece *oq;            /* beyond the hole: sorted, apart, covering exactly the ooo ranges */
    int noq;                      /* ... how many (at most MAX_OQ) */
    struct {
        uint32_t l, r;
    } ooo[MAX_OOO]; /* ranges held beyond rcv_nxt, sorted, apart */
    int nooo;
    uint32_t ooo_last; /* the start of the latest segment kept beyond the hole: its range is reported first */
    uint32_t ts_recent, ts_offset;
};

/* ---- small helpers ---- */

static sea_time tmin(sea_time a, sea_time b) { return a < b ? a : b; }
static size_t zmin(size_t a, size_t b) { return a < b ? a : b; }

static uint32_t pow2_at_least(uint32_t v) {
    uint32_t p = 16384; /* the buffers' least size */
    while (p < v && p < (1u << 30))
        p <<= 1;
    return p;
}

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

/* SipHash-2-4 of four 32-bit words: the keyed function behind sequence numbers and ports. */
static uint64_t siphash4(const uint64_t k[2], uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
    uint64_t m[3] = {((uint64_t)a << 32) | b, ((uint64_t)c << 32) | d, 16ull << 56};
#define SIPROUND                                                                                               \
    do {                                                                                                       \
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                                              \
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                                                 \
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                                                 \
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                                              \
    } while (0)
    for (int i = 0; i < 3; i++) {
        v3 ^= m[i];
        SIPROUND;
        SIPROUND;
        v0 ^= m[i];
    }
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        SIPROUND;
#undef SIPROUND
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t next_rand(struct sea__tcp_engine *t) {
    t->rng += 0x9e3779b97f4a7c15ull; /* splitmix64 */
    uint64_t z = t->rng;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* RFC 6528: a 4 µs clock plus a keyed hash of the connection's addresses. */
static uint32_t initial_seq(struct sea__tcp_engine *t, uint32_t raddr, uint16_t lport, uint16_t rport) {
    uint64_t h = siphash4(t->cfg.secret, t->cfg.addr, raddr, ((uint32_t)lport << 16) | rport, 0x5ea);
    return (uint32_t)h + (uint32_t)(t->now / 4000);
}

/* ---- the table ---- */

static size_t bucket(const struct sea__tcp_engine *t, uint32_t raddr, uint16_t rport, uint16_t lport) {
    uint64_t h = (uint64_t)raddr * 0x9e3779b97f4a7c15ull ^ ((uint64_t)rport << 16 | lport) * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h >> 32) & (t->table_size - 1);
}

static struct sea__tcb *lookup(struct sea__tcp_engine *t, uint32_t raddr, uint16_t rport, uint16_t lport) {
    for (struct sea__tcb *c = t->table[bucket(t, raddr, rport, lport)]; c; c = c->hnext)
        if (c->raddr == raddr && c->rport == rport && c->lport == lport)
            return c;
    return NULL;
}

static void table_grow(struct sea__tcp_engine *t) {
    size_t n = t->table_size * 2;
    struct sea__tcb **nt = calloc(n, sizeof(*nt));
    if (!nt)
        return; /* longer chains, still correct */
    struct sea__tcb **old = t->table;
    size_t on = t->table_size;
    t->table = nt;
    t->table_size = n;
    for (size_t i = 0; i < on; i++)
        for (struct sea__tcb *c = old[i], *next; c; c = next) {
            next = c->hnext;
            size_t b = bucket(t, c->raddr, c->rport, c->lport);
            c->hnext = nt[b];
            nt[b] = c;
        }
    free(old);
}

static void table_add(struct sea__tcp_engine *t, struct sea__tcb *c) {
    if (t->count >= t->table_size)
        table_grow(t);
    size_t b = bucket(t, c->raddr, c->rport, c->lport);
    c->hnext = t->table[b];
    t->table[b] = c;
    c->in_table = true;
    t->count++;
    t->stats.connections++;
}

static void table_remove(struct sea__tcp_engine *t, struct sea__tcb *c) {
    if (!c->in_table)
        return;
    for (struct sea__tcb **pp = &t->table[bucket(t, c->raddr, c->rport, c->lport)]; *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    c->in_table = false;
    t->count--;
    t->stats.connections--;
}

/* ---- timers ---- */

static void tcb_timer_update(struct sea__tcp_engine *t, struct sea__tcb *c) {
    sea_time w = tmin(tmin(c->t_rtx, c->t_delack), tmin(c->t_keep, c->t_2msl));
    bool armed = c->timer.sea__flags & SEA__TF_ARMED;
    if (armed && c->timer.sea__when == w && !(c->timer.sea__flags & SEA__TF_EXPIRING))
        return;
    if (armed) {
        sea__timer_set_remove(&t->timers, &c->timer);
        c->timer.sea__flags &= ~SEA__TF_ARMED;
    }
    if (w != SEA_TIME_MAX) {
        c->timer.sea__when = w;
        sea__timer_set_insert(&t->timers, &c->timer);
        c->timer.sea__flags |= SEA__TF_ARMED;
    }
}

static void timers_off(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->t_rtx = c->t_delack = c->t_keep = c->t_2msl = SEA_TIME_MAX;
    tcb_timer_update(t, c);
}

static sea_time rto_now(const struct sea__tcp_engine *t, const struct sea__tcb *c) {
    sea_time r = c->rto;
    for (int i = 0; i < c->backoff && r < t->cfg.rto_max; i++)
        r *= 2;
    return tmin(r, t->cfg.rto_max);
}

static void arm_rtx(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->t_rtx = t->now + rto_now(t, c);
    c->tlp_armed = false;
}

/*
 * After sending, or an ACK of new data with some still in flight: the
 * retransmission timer, or sooner a tail loss probe (RFC 8985 §7).  When
 * the last segments of a flight are lost no duplicate ACK ever comes, and
 * without a probe only the RTO (200 ms at least) would find out; a probe
 * after two round trips draws a SACK that starts fast recovery instead.
 * Only with SACK, a measured RTT, outside recovery, one probe at a time.
 */
static void arm_rto_or_probe(struct sea__tcp_engine *t, struct sea__tcb *c) {
    if (!c->sack_ok || !c->srtt || c->in_recovery || c->persist || c->tlp_out || c->backoff ||
        (c->state != ESTABLISHED && c->state != CLOSE_WAIT)) {
        arm_rtx(t, c);
        return;
    }
    sea_time pto = 2 * c->srtt;
    if (c->snd_max - c->snd_una <= c->mss) /* one segment: the peer may hold its ACK back (delayed ACK) */
        pto = c->srtt + c->srtt / 2 + 200 * MS > pto ? c->srtt + c->srtt / 2 + 200 * MS : pto;
    if (pto < 10 * MS)
        pto = 10 * MS;
    sea_time rto = rto_now(t, c);
    if (pto >= rto) {
        arm_rtx(t, c);
        return;
    }
    c->t_rtx = t->now + pto;
    c->tlp_armed = true;
}

/* ---- events ---- */

static void notify(struct sea__tcb *c) {
    if (c->user && c->ev && c->cb) {
        unsigned ev = c->ev;
        c->ev = 0;
        c->cb(c->arg, ev);
    } else if (!c->user) {
        c->ev = 0;
    }
}

static void notify_listener(struct sea__tcp_listener *l) {
    if (l && l->ev && l->cb) {
        unsigned ev = l->ev;
        l->ev = 0;
        l->cb(l->arg, ev);
    }
}

static void piece_free(struct rpiece *p) {
    sea_buf_release(&p->mem);
    free(p);
}

static void pieces_free(struct rpiece **list) {
    while (*list) {
        struct rpiece *p = *list;
        *list = p->next;
        piece_free(p);
    }
}

/* Puts q (n bytes) at the end of a queue of pieces. */
static void queue_push(struct rpiece **head, struct rpiece **tail, uint32_t *len, struct rpiece *q, uint32_t n) {
    q->next = NULL;
    if (*tail)
        (*tail)->next = q;
    else
        *head = q;
    *tail = q;
    *len += n;
}

static void sq_free(struct sea__tcb *c) {
    pieces_free(&c->sq);
    c->sq_tail = c->sq_cur = NULL;
    c->sq_len = 0;
}

static void tcb_free(struct sea__tcp_engine *t, struct sea__tcb *c) {
    (void)t;
    sq_free(c);
    pieces_free(&c->rq);
    pieces_free(&c->oq);
    free(c);
}

static void reap(struct sea__tcp_engine *t) {
    while (t->dead) {
        struct sea__tcb *c = t->dead;
        t->dead = c->dnext;
        tcb_free(t, c);
    }
}

static void to_dead(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->dnext = t->dead;
    t->dead = c;
}

/*
 * The connection is over: out of the table, timers off, the send buffer
 * gone.  The receive buffer stays for the owner to read to its end; a
 * connection nobody owns is freed.
 */
static void finish(struct sea__tcp_engine *t, struct sea__tcb *c, int err) {
    if (c->state == CLOSED)
        return;
    table_remove(t, c);
    timers_off(t, c);
    c->state = CLOSED;
    if (!c->err)
        c->err = err;
    sq_free(c);
    if (c->listener) { /* never accepted: the listener forgets it */
        if (c->queued)
            sea__list_remove(&c->listener->queue, &c->qlink);
        c->listener->pending--;
        c->listener = NULL;
        c->queued = false;
    }
    c->ev |= SEA__TCP_EV_CLOSED | SEA__TCP_EV_READABLE | SEA__TCP_EV_WRITABLE;
    if (!c->user)
        to_dead(t, c);
}

/* ---- building segments ---- */

/* The window to advertise, in bytes: the free receive space (held still while small, against SWS). */
static uint32_t rcv_window(const struct sea__tcp_engine *t, const struct sea__tcb *c) {
    uint32_t space = t->cfg.rcvbuf - c->rq_len;
    uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t step = (uint32_t)zmin(t->cfg.rcvbuf / 2, c->mss);
    /*
     * Receiver SWS avoidance (RFC 9293 §3.8.6.2.2) matters for a small
     * window: hold the right edge rather than open it by a sliver.  While
     * half the buffer or more is free, advertise the free space as it is, as
     * Linux does: the window field then stays the same from segment to
     * segment, which keeps a Linux peer on its fast path (header prediction).
     */
    if (space > cur && space - cur < step && space < t->cfg.rcvbuf / 2)
        space = cur;
    uint32_t field = space >> c->rcv_wscale;
    if (field > 65535)
        field = 65535;
    return field << c->rcv_wscale;
}

static uint32_t ts_now(const struct sea__tcp_engine *t, const struct sea__tcb *c) {
    return (uint32_t)(t->now / MS) + c->ts_offset;
}

/* ---- the send queue ---- */

/*
 * Appends n bytes at p (sequence numbers from SND.UNA + sq_len on): a
 * reference to mem, which holds them, when there is one and they are not
 * few; else a copy into the last chunk's room or a new chunk.  false: no
 * memory.
 */
static bool sq_append(struct sea__tcp_engine *t, struct sea__tcb *c, const uint8_t *p, size_t n,
                      const sea_buf *mem) {
    uint32_t seq = c->snd_una + c->sq_len;
    struct rpiece *tail = c->sq_tail;
    bool ref = mem && n >= SEND_REF_MIN;
    if (!ref && tail && tail->chunk && tail->mem.len - tail->end >= n) {
        memcpy(tail->mem.data + tail->end, p, n);
        tail->end += (uint32_t)n;
        c->sq_len += (uint32_t)n;
        return true;
    }
    struct rpiece *q = malloc(sizeof(*q));
    if (!q)
        return false;
    *q = (struct rpiece){.seq = seq, .end = (uint32_t)n};
    if (ref) {
        q->mem = sea_buf_slice(mem, (size_t)((const char *)p - mem->data), n);
        t->stats.bytes_sent_by_reference += n;
    } else {
        size_t cap = n < CHUNK_MIN ? CHUNK_MIN : n < SEND_CHUNK ? SEND_CHUNK : n;
        if (sea_buf_new(&q->mem, cap) < 0) {
            free(q);
            return false;
        }
        memcpy(q->mem.data, p, n);
        q->chunk = true;
    }
    queue_push(&c->sq, &c->sq_tail, &c->sq_len, q, (uint32_t)n);
    return true;
}

/* n bytes from SND.UNA were acknowledged: they leave the queue. */
static void sq_consume(struct sea__tcb *c, uint32_t n) {
    c->sq_len -= n;
    while (n) {
        struct rpiece *q = c->sq;
        uint32_t k = q->end - q->off < n ? q->end - q->off : n;
        q->off += k;
        q->seq += k;
        n -= k;
        if (q->off < q->end)
            break;
        c->sq = q->next;
        if (!c->sq)
            c->sq_tail = NULL;
        if (c->sq_cur == q)
            c->sq_cur = NULL;
        piece_free(q);
    }
}

/* The piece holding sequence number seq (from the last one looked up when it is not past it). */
static struct rpiece *sq_find(struct sea__tcb *c, uint32_t seq) {
    struct rpiece *q = c->sq_cur && SEQ_LEQ(c->sq_cur->seq, seq) ? c->sq_cur : c->sq;
    while (q && SEQ_LEQ(q->seq + (q->end - q->off), seq))
        q = q->next;
    c->sq_cur = q;
    return q;
}

/* [seq, seq + n) of the queue as at most max pieces in iov: how many, or -1 when more would be needed. */
static int sq_iov(struct sea__tcb *c, uint32_t seq, size_t n, struct iovec *iov, int max) {
    int k = 0;
    for (struct rpiece *q = sq_find(c, seq); n; q = q->next) {
        if (!q || k == max)
            return -1;
        uint32_t at = q->off + (seq - q->seq);
        size_t len = zmin(n, q->end - at);
        iov[k++] = (struct iovec){.iov_base = q->mem.data + at, .iov_len = len};
        seq += (uint32_t)len;
        n -= len;
    }
    return k;
}

/* Copies [seq, seq + n) of the queue to dst. */
static void sq_read(struct sea__tcb *c, uint32_t seq, uint8_t *dst, size_t n) {
    for (struct rpiece *q = sq_find(c, seq); n && q; q = q->next) {
        uint32_t at = q->off + (seq - q->seq);
        size_t len = zmin(n, q->end - at);
        memcpy(dst, q->mem.data + at, len);
        dst += len;
        seq += (uint32_t)len;
        n -= len;
    }
}

/*
 * Sends a segment of c: flags at sequence number seq, with n bytes of the
 * send queue from seq on.  Every segment but a SYN carries the ACK of all
 * received so far, which settles a pending delayed ACK.
 */
static void send_seg(struct sea__tcp_engine *t, struct sea__tcb *c, uint32_t seq, uint8_t flags, size_t n) {
    struct sea__tcp_opts o = {0};
    bool syn = flags & SEA__TCP_SYN;
    if (syn) {
        o.has_mss = true;
        o.mss = (uint16_t)(t->cfg.mtu - 40);
        o.has_wscale = c->ws_ok;
        o.wscale = c->rcv_wscale;
        o.sack_ok = c->sack_ok;
    }
    if (c->ts_ok) {
        o.has_ts = true;
        o.ts_val = ts_now(t, c);
        o.ts_ecr = (flags & SEA__TCP_ACK) ? c->ts_recent : 0;
    }
    /*
     * SACK blocks only as many as fit beside the payload: c->mss is the
     * payload of a segment with no options but timestamps, and a segment
     * must stay within the MTU (a larger one is dropped by the device or the
     * path).  output() leaves room for them in new data; a full-sized
     * retransmission goes without.
     */
    int sack_room = n + 12 <= c->mss ? (int)((c->mss - n - 4) / 8) : 0; /* NOP, NOP, kind, length: 4; 8 a block */
    if (!syn && c->sack_ok && c->nooo && sack_room > 0) {
        /*
         * RFC 2018's order: the range holding the latest segment first (so
         * that every range is reported while it grows, and the sender's
         * scoreboard hears of all of them even when more are held than fit),
         * then the others from the lowest.
         */
        int max = c->ts_ok ? 3 : 4, first = 0;
        if (max > sack_room)
            max = sack_room;
        for (int i = 0; i < c->nooo; i++)
            if (SEQ_LEQ(c->ooo[i].l, c->ooo_last) && SEQ_LT(c->ooo_last, c->ooo[i].r))
                first = i;
        o.sack[0].left = c->ooo[first].l;
        o.sack[0].right = c->ooo[first].r;
        o.nsack = 1;
        for (int i = 0; i < c->nooo && o.nsack < max; i++) {
            if (i == first)
                continue;
            o.sack[o.nsack].left = c->ooo[i].l;
            o.sack[o.nsack].right = c->ooo[i].r;
            o.nsack++;
        }
    }
    uint32_t wnd = rcv_window(t, c);
    struct sea__tcp_args a = {
        .sport = c->lport, .dport = c->rport, .seq = seq, .ack = (flags & SEA__TCP_ACK) ? c->rcv_nxt : 0,
        .flags = flags, .window = (uint16_t)(syn ? (wnd > 65535 ? 65535 : wnd) : wnd >> c->rcv_wscale),
        .opts = &o, .src = t->cfg.addr, .dst = c->raddr, .csum_partial = t->cfg.csum_offload,
    };
    uint8_t *seg = t->tx + SEA__TCP_HEADROOM;
    /*
     * The header with the pseudo-header's sum in the checksum field; the
     * device finishes it (csum_offload), or the sum over the header and the
     * payload's pieces here does, as a device would.  The payload goes as
     * references to the send queue's pieces where output_v takes it so, else
     * copied after the header.
     */
    a.csum_partial = true;
    int built = sea__tcp_build(seg, t->tx_cap - SEA__TCP_HEADROOM, &a, NULL, n);
    if (built < 0)
        return;
    size_t h = (size_t)built;
    struct iovec iov[MAX_IOV];
    int niov = n && t->cfg.output_v ? sq_iov(c, seq, n, iov, MAX_IOV) : -1;
    if (niov < 0 && n) {
        sq_read(c, seq, seg + h, n);
        iov[0] = (struct iovec){.iov_base = seg + h, .iov_len = n};
    }
    int nsum = niov < 0 ? (n ? 1 : 0) : niov;
    if (!t->cfg.csum_offload) {
        uint32_t sum = sea__csum_partial(seg, h);
        size_t at = h;
        for (int i = 0; i < nsum; i++) {
            sum = sea__csum_combine(sum, sea__csum_partial(iov[i].iov_base, iov[i].iov_len), at);
            at += iov[i].iov_len;
        }
        uint16_t ck = sea__csum_finish(sum);
        seg[16] = (uint8_t)(ck >> 8);
        seg[17] = (uint8_t)ck;
    }
    if (flags & SEA__TCP_ACK) {
        c->rcv_adv = c->rcv_nxt + (syn ? a.window : wnd);
        c->last_ack_sent = c->rcv_nxt;
        c->unacked_segs = 0;
        c->ack_now = false;
        c->t_delack = SEA_TIME_MAX;
    }
    uint16_t gso = 0;
    if (n > c->mss) { /* (only output() makes one, with tso_max) */
        gso = (uint16_t)c->mss;
        t->stats.tso_segs++;
    }
    t->stats.segs_out++;
    t->stats.bytes_out += n;
    if (niov >= 0) {
        if (t->cfg.output_v(t->cfg.output_ctx, c->raddr, seg, h, iov, niov, n, gso)) {
            t->stats.segs_scattered++;
            return;
        }
        sq_read(c, seq, seg + h, n); /* the device would not take it in pieces */
    }
    t->cfg.output(t->cfg.output_ctx, c->raddr, seg, h + n, gso);
}

/*
 * A pure ACK carries the highest sequence number sent, not SND.NXT: after a
 * timeout rewinds SND.NXT, a lower number would fall before the peer's
 * RCV.NXT, and the peer would drop the ACK as unacceptable (while ours of
 * its retransmissions could be dropped the same way: both sides stall).
 */
static void send_ack(struct sea__tcp_engine *t, struct sea__tcb *c) {
    send_seg(t, c, c->snd_max, SEA__TCP_ACK, 0);
}

/* A reset for a segment that has no connection, or an unacceptable one (RFC 9293 §3.10.7.1). */
static void send_rst_for(struct sea__tcp_engine *t, uint32_t src, const struct sea__tcp *seg) {
    if (seg->flags & SEA__TCP_RST)
        return;
    struct sea__tcp_args a = {.sport = seg->dport, .dport = seg->sport, .src = t->cfg.addr, .dst = src,
                              .csum_partial = t->cfg.csum_offload};
    if (seg->flags & SEA__TCP_ACK) {
        a.seq = seg->ack;
        a.flags = SEA__TCP_RST;
    } else {
        a.ack = seg->seq + (uint32_t)seg->payload_len + !!(seg->flags & SEA__TCP_SYN) + !!(seg->flags & SEA__TCP_FIN);
        a.flags = SEA__TCP_RST | SEA__TCP_ACK;
    }
    uint8_t *p = t->tx + SEA__TCP_HEADROOM;
    if (sea__tcp_build(p, t->tx_cap - SEA__TCP_HEADROOM, &a, NULL, 0) < 0)
        return;
    t->stats.rst_sent++;
    t->stats.segs_out++;
    t->cfg.output(t->cfg.output_ctx, src, p, SEA__TCP_HLEN, 0);
}

static void send_rst(struct sea__tcp_engine *t, struct sea__tcb *c) {
    struct sea__tcp_args a = {.sport = c->lport, .dport = c->rport, .seq = c->snd_nxt, .ack = c->rcv_nxt,
                              .flags = SEA__TCP_RST | SEA__TCP_ACK, .src = t->cfg.addr, .dst = c->raddr,
                              .csum_partial = t->cfg.csum_offload};
    uint8_t *p = t->tx + SEA__TCP_HEADROOM;
    if (sea__tcp_build(p, t->tx_cap - SEA__TCP_HEADROOM, &a, NULL, 0) < 0)
        return;
    t->stats.rst_sent++;
    t->stats.segs_out++;
    t->cfg.output(t->cfg.output_ctx, c->raddr, p, SEA__TCP_HLEN, 0);
}

/* ---- sending data ---- */

static bool fin_sent(const struct sea__tcb *c) {
    return c->fin_queued && SEQ_GT(c->snd_max, c->fin_seq);
}

/* ---- the SACK scoreboard (RFC 6675) ---- */

/* Notes [l, r) as SACKed; whether any of it is news.  When full, the highest range is forgotten (SACK is advisory). */
static bool sb_add(struct sea__tcb *c, uint32_t l, uint32_t r) {
    int i = 0;
    while (i < c->nsb && SEQ_LT(c->sb[i].r, l))
        i++;
    if (i < c->nsb && SEQ_LEQ(c->sb[i].l, l) && SEQ_LEQ(r, c->sb[i].r))
        return false;
    if (i < c->nsb && SEQ_LEQ(c->sb[i].l, r)) { /* touches range i: merge, then any it now reaches */
        if (SEQ_LT(l, c->sb[i].l))
            c->sb[i].l = l;
        if (SEQ_GT(r, c->sb[i].r))
            c->sb[i].r = r;
        while (i + 1 < c->nsb && SEQ_LEQ(c->sb[i + 1].l, c->sb[i].r)) {
            if (SEQ_GT(c->sb[i + 1].r, c->sb[i].r))
                c->sb[i].r = c->sb[i + 1].r;
            memmove(&c->sb[i + 1], &c->sb[i + 2], sizeof(c->sb[0]) * (size_t)(c->nsb - i - 2));
            c->nsb--;
        }
        return true;
    }
    if (c->nsb == MAX_SB) {
        if (i == MAX_SB)
            return false;
        c->nsb--;
    }
    memmove(&c->sb[i + 1], &c->sb[i], sizeof(c->sb[0]) * (size_t)(c->nsb - i));
    c->sb[i].l = l;
    c->sb[i].r = r;
    c->nsb++;
    return true;
}

/*
 * Takes the blocks of an ACK whose cumulative point is base; whether any
 * told something new.  A block counts only inside (base, SND.MAX]: one
 * below (a D-SACK, or a stale ACK's), beyond what was sent, or empty is
 * ignored (RFC 2883, and RFC 5961's distrust of what was never sent).
 */
static bool sb_take(struct sea__tcp_engine *t, struct sea__tcb *c, const struct sea__tcp_opts *o, uint32_t base) {
    bool news = false;
    uint32_t span = c->snd_max - base;
    for (int i = 0; i < o->nsack && i < SEA__TCP_MAX_SACK; i++) {
        uint32_t lo = o->sack[i].left - base, hi = o->sack[i].right - base;
        if (lo == 0 || lo >= hi || hi > span || span > (1u << 30)) {
            t->stats.sack_blocks_ignored++;
            continue;
        }
        news |= sb_add(c, o->sack[i].left, o->sack[i].right);
    }
    return news;
}

/*
 * SND.UNA moved: ranges now below it go.  A range it reached into without
 * passing means the peer dropped data it had SACKed (reneging): that range
 * is forgotten too, so its data is sent again.
 */
static void sb_trim(struct sea__tcb *c) {
    int k = 0;
    while (k < c->nsb && SEQ_LEQ(c->sb[k].l, c->snd_una))
        k++;
    if (k) {
        memmove(&c->sb[0], &c->sb[k], sizeof(c->sb[0]) * (size_t)(c->nsb - k));
        c->nsb -= k;
    }
}

/*
 * RFC 6675's IsLost by holes: hole i (before range i) is lost when more than
 * (DupThresh - 1) segments' worth of bytes, or DupThresh ranges, are SACKed
 * above it.  That can only hold for the lowest holes: returns how many.
 */
static int lost_holes(const struct sea__tcb *c) {
    uint32_t above = 0;
    for (int i = c->nsb - 1; i >= 0; i--) {
        above += c->sb[i].r - c->sb[i].l;
        if (above > (DUPTHRESH - 1) * (uint32_t)c->mss || c->nsb - i >= DUPTHRESH)
            return i + 1;
    }
    return 0;
}

/* RFC 6675's pipe: the bytes not SACKed and not lost, plus those retransmitted in this recovery. */
static uint32_t sack_pipe(const struct sea__tcb *c) {
    int lost = lost_holes(c);
    uint32_t pipe = 0, hs = c->snd_una;
    for (int i = 0; i <= c->nsb; i++) {
        uint32_t he = i < c->nsb ? c->sb[i].l : c->snd_max;
        if (SEQ_LT(hs, he)) {
            if (i >= lost)
                pipe += he - hs;
            if (SEQ_GT(c->high_rxt, hs))
                pipe += (SEQ_LT(c->high_rxt, he) ? c->high_rxt : he) - hs;
        }
        if (i < c->nsb)
            hs = c->sb[i].r;
    }
    return pipe;
}

/*
 * RFC 6675's NextSeg, rules 1 and 3: the first bytes below the highest
 * SACKed ones, above HighRxt, neither SACKed nor retransmitted yet, and lost
 * (rule 1) or not (rule 3, when there is no new data to send instead).
 */
static bool sack_next_hole(const struct sea__tcb *c, bool lost_only, uint32_t *seq, uint32_t *len) {
    int lost = lost_only ? lost_holes(c) : c->nsb;
    uint32_t hs = c->snd_una;
    for (int i = 0; i < lost; i++) {
        uint32_t he = c->sb[i].l;
        uint32_t s = SEQ_GT(c->high_rxt, hs) ? c->high_rxt : hs;
        uint32_t data = c->sq_len - (s - c->snd_una);
        if (SEQ_LT(s, he) && s - c->snd_una < c->sq_len) {
            uint32_t n = he - s < c->mss ? he - s : c->mss;
            *seq = s;
            *len = n < data ? n : data;
            return true;
        }
        hs = c->sb[i].r;
    }
    return false;
}

/* Bytes SACKed below seq. */
static uint32_t sacked_below(const struct sea__tcb *c, uint32_t seq) {
    uint32_t n = 0;
    for (int i = 0; i < c->nsb && SEQ_LT(c->sb[i].l, seq); i++)
        n += (SEQ_LT(c->sb[i].r, seq) ? c->sb[i].r : seq) - c->sb[i].l;
    return n;
}

/* Bytes SACKed at or above seq. */
static uint32_t sacked_above(const struct sea__tcb *c, uint32_t seq) {
    uint32_t n = 0;
    for (int i = c->nsb - 1; i >= 0 && SEQ_GT(c->sb[i].r, seq); i--)
        n += c->sb[i].r - (SEQ_GT(c->sb[i].l, seq) ? c->sb[i].l : seq);
    return n;
}

/* Remembers a retransmission of a SACK recovery, to see whether it was lost too. */
static void rxq_note(struct sea__tcb *c, uint32_t seq, uint32_t n) {
    if (!c->sack_recovery || !n)
        return;
    if (c->nrxq == MAX_RXQ) { /* the oldest is forgotten: its loss, if any, is the timer's */
        memmove(&c->rxq[0], &c->rxq[1], sizeof(c->rxq[0]) * (MAX_RXQ - 1));
        c->nrxq--;
    }
    c->rxq[c->nrxq].l = seq;
    c->rxq[c->nrxq].r = seq + n;
    c->rxq[c->nrxq].mark = c->snd_max;
    c->nrxq++;
}

/* Sends n bytes from seq again (data only: holes never hold the FIN). */
static void rexmit(struct sea__tcp_engine *t, struct sea__tcb *c, uint32_t seq, uint32_t n) {
    send_seg(t, c, seq, SEA__TCP_ACK | SEA__TCP_PSH, n);
    t->stats.retransmits++;
    c->rtt_timing = false; /* Karn: a retransmitted segment gives no RTT sample */
    if (SEQ_GT(seq + n, c->high_rxt))
        c->high_rxt = seq + n;
    rxq_note(c, seq, n);
}

/*
 * A retransmission is lost too when more than (DupThresh - 1) segments'
 * worth sent after it was SACKed while it was not (as Linux's lost
 * retransmit detection before RACK): it goes again at once, rather than
 * after a timeout.
 */
static void sack_lost_rexmits(struct sea__tcp_engine *t, struct sea__tcb *c) {
    if (!c->in_recovery || !c->sack_recovery)
        return;
    for (int i = 0; i < c->nrxq;) {
        uint32_t l = SEQ_GT(c->rxq[i].l, c->snd_una) ? c->rxq[i].l : c->snd_una, r = c->rxq[i].r;
        for (int k = 0; k < c->nsb; k++) /* skip what of it was SACKed since */
            if (SEQ_LEQ(c->sb[k].l, l) && SEQ_GT(c->sb[k].r, l))
                l = c->sb[k].r;
        if (SEQ_GEQ(l, r)) { /* arrived */
            memmove(&c->rxq[i], &c->rxq[i + 1], sizeof(c->rxq[0]) * (size_t)(c->nrxq - i - 1));
            c->nrxq--;
            continue;
        }
        if (sacked_above(c, c->rxq[i].mark) > (DUPTHRESH - 1) * (uint32_t)c->mss) {
            uint32_t n = r - l;
            for (int k = 0; k < c->nsb; k++)
                if (SEQ_GT(c->sb[k].l, l) && c->sb[k].l - l < n)
                    n = c->sb[k].l - l;
            if (n > c->mss)
                n = c->mss;
            send_seg(t, c, l, SEA__TCP_ACK | SEA__TCP_PSH, n);
            t->stats.retransmits++;
            t->stats.lost_retransmits++;
            c->rxq[i].mark = c->snd_max;
        }
        i++;
    }
}

/*
 * Sends again the first unacknowledged segment (its data, or the FIN alone),
 * up to the first SACKed range; returns the sequence space sent.
 */
static uint32_t retransmit_head(struct sea__tcp_engine *t, struct sea__tcb *c) {
    /*
     * Never past SND.MAX: a partial ACK may leave less than a segment sent
     * there, and bytes sent beyond it would be acknowledged beyond it, an
     * ACK that is then refused (both sides would wait for ever).
     */
    size_t n = zmin(zmin(c->mss, c->sq_len), c->snd_max - c->snd_una);
    if (c->nsb && c->sb[0].l - c->snd_una < n)
        n = c->sb[0].l - c->snd_una;
    bool fin = fin_sent(c) && n == c->sq_len;
    if (!n && !fin)
        return 0;
    send_seg(t, c, c->snd_una, SEA__TCP_ACK | (fin ? SEA__TCP_FIN : 0) | (n ? SEA__TCP_PSH : 0), n);
    t->stats.retransmits++;
    c->rtt_timing = false; /* Karn: a retransmitted segment gives no RTT sample */
    if (SEQ_GT(c->snd_una + (uint32_t)n, c->high_rxt))
        c->high_rxt = c->snd_una + (uint32_t)n;
    rxq_note(c, c->snd_una, (uint32_t)n);
    return (uint32_t)n + fin;
}

static void state_after_fin_sent(struct sea__tcb *c) {
    if (c->state == ESTABLISHED || c->state == SYN_RECEIVED)
        c->state = FIN_WAIT_1;
    else if (c->state == CLOSE_WAIT)
        c->state = LAST_ACK;
}

/* The payload of a new segment: the MSS, less the room its SACK blocks take (send_seg adds them). */
static size_t seg_max(const struct sea__tcb *c) {
    if (!c->sack_ok || !c->nooo)
        return c->mss;
    int blocks = c->nooo < (c->ts_ok ? 3 : 4) ? c->nooo : (c->ts_ok ? 3 : 4);
    size_t room = 4 + 8 * (size_t)blocks;
    return c->mss > room + 64 ? c->mss - room : c->mss;
}

/*
 * Sends what the windows allow (new data, or data again after a timeout
 * rewound SND.NXT, skipping what the peer SACKed), the FIN when its turn
 * comes, and the ACK that is due; in a SACK recovery, the lost holes first
 * (RFC 6675's NextSeg) while the pipe is under cwnd.  Arms the
 * retransmission, zero-window and delayed-ACK timers as needed.
 */
static void output(struct sea__tcp_engine *t, struct sea__tcb *c) {
    bool sent = false;
    if (c->mss_path_free && t->now >= c->pmtu_retry) { /* the path's MTU, learned long ago: try the full size again */
        c->mss = c->mss_path_free;
        c->mss_path_free = 0;
        t->stats.pmtu_raised++;
    }
    bool can_send = c->state == ESTABLISHED || c->state == CLOSE_WAIT || c->state == FIN_WAIT_1 ||
                    c->state == CLOSING || c->state == LAST_ACK;
    while (can_send) {
        bool rec = c->in_recovery && c->sack_recovery;
        uint32_t flight, cwnd = c->cwnd, seq, len;
        if (rec) {
            flight = sack_pipe(c);
            if (flight + c->mss > cwnd)
                break;
            if (sack_next_hole(c, true, &seq, &len)) { /* rule 1: a lost hole */
                rexmit(t, c, seq, len);
                sent = true;
                continue;
            }
        } else {
            /* Resending after a timeout: what the peer SACKed is skipped. */
            for (int i = 0; i < c->nsb && SEQ_LT(c->snd_nxt, c->snd_max); i++)
                if (SEQ_LEQ(c->sb[i].l, c->snd_nxt) && SEQ_LT(c->snd_nxt, c->sb[i].r))
                    c->snd_nxt = c->sb[i].r;
            flight = c->snd_nxt - c->snd_una - sacked_below(c, c->snd_nxt);
            if (!c->sack_ok && !c->in_recovery && c->dupacks > 0 && c->dupacks < DUPTHRESH)
                cwnd += (uint32_t)c->dupacks * c->mss; /* limited transmit (RFC 3042) */
        }
        uint32_t off = c->snd_nxt - c->snd_una;
        size_t unsent = c->sq_len > off ? c->sq_len - off : 0;
        size_t usable = zmin(c->snd_wnd > off ? c->snd_wnd - off : 0, cwnd > flight ? cwnd - flight : 0);
        /*
         * New data outside a recovery may go as one large segment that the
         * device cuts into full pieces of c->mss (send_seg gives such a
         * segment no SACK blocks, so only while none are to be sent).
         */
        size_t most = seg_max(c);
        if (t->cfg.tso_max > c->mss && !rec && !c->nooo && SEQ_GEQ(c->snd_nxt, c->snd_max))
            most = t->cfg.tso_max / c->mss * c->mss;
        size_t n = zmin(zmin(unsent, usable), most);
        bool hole = false; /* n stops at a SACKed range */
        for (int i = 0; i < c->nsb; i++)
            if (SEQ_GT(c->sb[i].l, c->snd_nxt) && c->sb[i].l - c->snd_nxt < n) {
                n = c->sb[i].l - c->snd_nxt;
                hole = true;
                break;
            }
        bool fin = c->fin_queued && c->snd_nxt + (uint32_t)n == c->fin_seq;
        if (!n && !fin) {
            if (rec && sack_next_hole(c, false, &seq, &len)) { /* rule 3: no new data, a hole not yet lost */
                rexmit(t, c, seq, len);
                sent = true;
                continue;
            }
            break;
        }
        /* Sender SWS avoidance: a short segment only if it carries the last of the data, or nothing is in flight. */
        if (n < c->mss && n < unsent && off > 0 && n < c->max_snd_wnd / 2 && !hole)
            break;
        uint8_t flags = SEA__TCP_ACK | (fin ? SEA__TCP_FIN : 0) | (n && n == unsent ? SEA__TCP_PSH : 0);
        bool new_data = SEQ_GEQ(c->snd_nxt, c->snd_max);
        if (!new_data)
            t->stats.retransmits++;
        send_seg(t, c, c->snd_nxt, flags, n);
        if (new_data && n && !c->rtt_timing && !c->ts_ok) {
            c->rtt_timing = true;
            c->rtt_seq = c->snd_nxt;
            c->rtt_start = t->now;
        }
        c->snd_nxt += (uint32_t)n + fin;
        if (SEQ_GT(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        if (c->t_rtx == SEA_TIME_MAX || c->persist) {
            c->persist = false;
            arm_rto_or_probe(t, c);
        }
        sent = true;
        if (fin) {
            state_after_fin_sent(c);
            break;
        }
    }
    if (!sent && (c->ack_now || c->unacked_segs >= 2) && c->state != CLOSED && c->state != SYN_SENT)
        send_ack(t, c);
    else if (!sent && c->unacked_segs && c->t_delack == SEA_TIME_MAX)
        c->t_delack = t->now + t->cfg.delack;
    /* Data waits behind a zero window with nothing in flight: probe it, or its opening could be lost. */
    uint32_t off = c->snd_nxt - c->snd_una;
    if (can_send && c->snd_wnd == 0 && off == 0 && c->sq_len > 0 && c->t_rtx == SEA_TIME_MAX) {
        c->persist = true;
        arm_rtx(t, c);
    }
    tcb_timer_update(t, c);
}

/* ---- receiving ---- */

/* Notes [l, r) as held beyond the hole; false when there is no room for another range. */
static bool ooo_add(struct sea__tcb *c, uint32_t l, uint32_t r) {
    int i = 0;
    while (i < c->nooo && SEQ_LT(c->ooo[i].r, l))
        i++;
    if (i < c->nooo && SEQ_LEQ(c->ooo[i].l, r)) { /* touches range i: merge, then any it now reaches */
        if (SEQ_LT(l, c->ooo[i].l))
            c->ooo[i].l = l;
        if (SEQ_GT(r, c->ooo[i].r))
            c->ooo[i].r = r;
        while (i + 1 < c->nooo && SEQ_LEQ(c->ooo[i + 1].l, c->ooo[i].r)) {
            if (SEQ_GT(c->ooo[i + 1].r, c->ooo[i].r))
                c->ooo[i].r = c->ooo[i + 1].r;
            memmove(&c->ooo[i + 1], &c->ooo[i + 2], sizeof(c->ooo[0]) * (size_t)(c->nooo - i - 2));
            c->nooo--;
        }
        return true;
    }
    if (c->nooo == MAX_OOO)
        return false;
    memmove(&c->ooo[i + 1], &c->ooo[i], sizeof(c->ooo[0]) * (size_t)(c->nooo - i));
    c->ooo[i].l = l;
    c->ooo[i].r = r;
    c->nooo++;
    return true;
}

/*
 * A piece for n bytes at p: a slice of mem (the frame they lie in) when
 * they are most of it, else a copy; NULL without memory.
 */
static struct rpiece *piece_of(struct sea__tcp_engine *t, uint32_t seq, const uint8_t *p, size_t n,
                               const sea_buf *mem) {
    struct rpiece *q = malloc(sizeof(*q));
    if (!q)
        return NULL;
    *q = (struct rpiece){.seq = seq, .end = (uint32_t)n};
    if (mem && mem->len && n * KEEP_SHARE >= mem->len && (const char *)p >= mem->data &&
        (const char *)p + n <= mem->data + mem->len) {
        q->mem = sea_buf_slice(mem, (size_t)((const char *)p - mem->data), n);
        t->stats.bytes_in_place += n;
        return q;
    }
    if (sea_buf_copy(&q->mem, p, n) < 0) {
        free(q);
        return NULL;
    }
    return q;
}

/* Appends n in-order bytes to the read queue: into the last chunk's room, or as a new piece.  false: no memory. */
static bool rq_append(struct sea__tcp_engine *t, struct sea__tcb *c, const uint8_t *p, size_t n,
                      const sea_buf *mem) {
    struct rpiece *tail = c->rq_tail;
    bool keep = mem && mem->len && n * KEEP_SHARE >= mem->len;
    if (!keep && tail && tail->chunk && tail->mem.len - tail->end >= n) {
        memcpy(tail->mem.data + tail->end, p, n);
        tail->end += (uint32_t)n;
        c->rq_len += (uint32_t)n;
        return true;
    }
    struct rpiece *q;
    if (keep) {
        q = piece_of(t, 0, p, n, mem);
    } else { /* a chunk with room for what follows */
        q = malloc(sizeof(*q));
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (q) {
            *q = (struct rpiece){.end = (uint32_t)n, .chunk = true};
            if (sea_buf_new(&q->mem, cap) < 0) {
                free(q);
                q = NULL;
            }
        }
        if (q)
            memcpy(q->mem.data, p, n);
    }
    if (!q)
        return false;
    queue_push(&c->rq, &c->rq_tail, &c->rq_len, q, (uint32_t)n);
    return true;
}

/* Keeps the bytes of [seq, seq + n) that no held piece has yet, each gap its own piece.  false: no memory. */
static bool oq_add(struct sea__tcp_engine *t, struct sea__tcb *c, uint32_t seq, const uint8_t *p, size_t n,
                   const sea_buf *mem) {
    uint32_t cur = seq, end = seq + (uint32_t)n;
    struct rpiece **at = &c->oq;
    while (SEQ_LT(cur, end)) {
        struct rpiece *q = *at;
        uint32_t qend = q ? q->seq + (q->end - q->off) : 0;
        if (q && SEQ_LEQ(qend, cur)) { /* wholly before what is left */
            at = &q->next;
            continue;
        }
        uint32_t gap_end = q && SEQ_LT(q->seq, end) ? q->seq : end;
        if (SEQ_LT(cur, gap_end)) {
            /* (A bound on the pieces: tiny segments beside each other would otherwise cost a piece a byte.) */
            struct rpiece *g = c->noq < MAX_OQ ? piece_of(t, cur, p + (cur - seq), gap_end - cur, mem) : NULL;
            if (!g)
                return false;
            g->next = q;
            *at = g;
            at = &g->next;
            c->noq++;
        }
        if (!q || SEQ_GEQ(q->seq, end))
            break;
        cur = qend; /* the held piece covers the rest up to its end */
        at = &q->next;
    }
    return true;
}

/*
 * Moves the held pieces RCV.NXT has reached to the read queue, after its
 * data up to in_end, each trimmed of what the queue already has.
 */
static void oq_drain(struct sea__tcb *c, uint32_t in_end) {
    while (c->oq && SEQ_LT(c->oq->seq, c->rcv_nxt)) {
        struct rpiece *q = c->oq;
        c->oq = q->next;
        c->noq--;
        uint32_t qend = q->seq + (q->end - q->off);
        if (SEQ_LEQ(qend, in_end)) { /* had already (a retransmission covered it) */
            piece_free(q);
            continue;
        }
        if (SEQ_LT(q->seq, in_end)) {
            q->off += in_end - q->seq;
            q->seq = in_end;
        }
        if (SEQ_GT(qend, c->rcv_nxt)) { /* (only a piece no range covers, left by a failed allocation) */
            q->end -= qend - c->rcv_nxt;
            qend = c->rcv_nxt;
        }
        queue_push(&c->rq, &c->rq_tail, &c->rq_len, q, q->end - q->off);
        in_end = qend;
    }
}

/* Whether ooo_add(c, l, r) would find room. */
static bool ooo_fits(const struct sea__tcb *c, uint32_t l, uint32_t r) {
    if (c->nooo < MAX_OOO)
        return true;
    for (int i = 0; i < c->nooo; i++)
        if (SEQ_LEQ(c->ooo[i].l, r) && SEQ_LEQ(l, c->ooo[i].r))
            return true;
    return false;
}

/* Takes in the segment's data [seq, seq + n), already trimmed to the window; mem holds it (NULL: copy). */
static void data_input(struct sea__tcp_engine *t, struct sea__tcb *c, uint32_t seq, const uint8_t *p, size_t n,
                       const sea_buf *mem) {
    if (c->rq_len + (seq - c->rcv_nxt) + n > t->cfg.rcvbuf) {
        t->stats.dropped_unacceptable++;
        c->ack_now = true;
        return;
    }
    if (seq != c->rcv_nxt) {
        /* The bytes first, then the range that says they are held (a piece left by a failure is only spare). */
        if (!ooo_fits(c, seq, seq + (uint32_t)n) || !oq_add(t, c, seq, p, n, mem)) {
            t->stats.dropped_unacceptable++;
            c->ack_now = true;
            return;
        }
        ooo_add(c, seq, seq + (uint32_t)n);
        c->ooo_last = seq;
        t->stats.out_of_order++;
        c->ack_now = true; /* a duplicate ACK with SACK blocks: the sender's fast retransmit needs it now */
        return;
    }
    if (!rq_append(t, c, p, n, mem)) {
        t->stats.dropped_unacceptable++; /* no memory: as if lost, the sender retransmits */
        c->ack_now = true;
        return;
    }
    c->rcv_nxt += (uint32_t)n;
    /* What was held beyond the hole follows now, if the hole is filled. */
    while (c->nooo && SEQ_LEQ(c->ooo[0].l, c->rcv_nxt)) {
        if (SEQ_GT(c->ooo[0].r, c->rcv_nxt))
            c->rcv_nxt = c->ooo[0].r;
        memmove(&c->ooo[0], &c->ooo[1], sizeof(c->ooo[0]) * (size_t)(c->nooo - 1));
        c->nooo--;
        c->ack_now = true;
    }
    oq_drain(c, seq + (uint32_t)n);
    /* A segment the sender's device cut into pieces (or the kernel's receive merged) counts as its pieces. */
    c->unacked_segs += n > c->mss ? (int)((n + c->mss - 1) / c->mss) : 1;
    c->ev |= SEA__TCP_EV_READABLE;
}

static void rtt_sample(struct sea__tcp_engine *t, struct sea__tcb *c, sea_time r) {
    if (r <= 0)
        r = 1;
    if (!c->srtt) {
        c->srtt = r;
        c->rttvar = r / 2;
    } else {
        sea_time d = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = (3 * c->rttvar + d) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
    sea_time rto = c->srtt + (4 * c->rttvar > MS ? 4 * c->rttvar : MS);
    c->rto = rto < t->cfg.rto_min ? t->cfg.rto_min : rto > t->cfg.rto_max ? t->cfg.rto_max : rto;
}

/* NewReno (RFC 5681, RFC 6582), or RFC 6675's recovery, on an ACK that advanced SND.UNA by acked bytes. */
static void cc_on_ack(struct sea__tcp_engine *t, struct sea__tcb *c, uint32_t ack, uint32_t acked) {
    uint32_t mss = c->mss;
    if (c->in_recovery) {
        if (SEQ_GEQ(ack, c->recover)) { /* a full ACK: recovery is over */
            /*
             * NewReno's min(ssthresh, FlightSize + SMSS) (RFC 6582); after a
             * SACK recovery, whose pipe already kept bursts down, ssthresh
             * (as Linux): an ACK of all left one segment of window, and one
             * lost segment then meant a timeout, with no dupACK to catch it.
             */
            uint32_t flight = c->snd_max - c->snd_una;
            c->cwnd = c->ssthresh < flight + mss || c->sack_recovery ? c->ssthresh : flight + mss;
            c->in_recovery = c->sack_recovery = false;
            c->dupacks = 0;
        } else if (c->sack_recovery) {
            /*
             * A partial ACK: the pipe shrank, output sends by NextSeg.  If
             * nothing from the new SND.UNA on was retransmitted yet, its
             * segment is taken as lost, as NewReno would (it covers a hole
             * too near the end for SACKs above it to mark it lost).
             */
            if (SEQ_LEQ(c->high_rxt, c->snd_una))
                retransmit_head(t, c);
        } else { /* a partial ACK: the next hole is lost too */
            retransmit_head(t, c);
            c->cwnd = c->cwnd > acked ? c->cwnd - acked + mss : mss;
            arm_rtx(t, c);
        }
        return;
    }
    c->dupacks = 0;
    if (c->cwnd < c->ssthresh)
        c->cwnd += acked < 2 * mss ? acked : 2 * mss; /* slow start, ABC with L = 2 (RFC 3465) */
    else { /* congestion avoidance: about a segment per round trip */
        uint32_t inc = (uint32_t)((uint64_t)mss * mss / c->cwnd);
        c->cwnd += inc ? inc : 1;
    }
    if (c->cwnd > (1u << 30))
        c->cwnd = 1u << 30;
}

/* RFC 6675's entry into recovery: three duplicate ACKs, or SND.UNA's segment lost by the scoreboard. */
static void sack_check_loss(struct sea__tcp_engine *t, struct sea__tcb *c) {
    if (c->in_recovery || c->persist || c->snd_una == c->snd_max || SEQ_LT(c->snd_una, c->recover))
        return;
    /*
     * After a tail loss probe one duplicate ACK is enough: the probe went two
     * round trips after the head, so the peer's answer without the head
     * means the head is lost (RACK's reasoning, RFC 8985 §7.4), and waiting
     * for three would wait for the RTO, as the flight has nothing more.
     */
    if (c->dupacks < DUPTHRESH && !lost_holes(c) && !(c->tlp_out && c->dupacks > 0))
        return;
    uint32_t mss = c->mss, flight = c->snd_max - c->snd_una;
    c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
    c->cwnd = c->ssthresh;
    c->recover = c->snd_max;
    c->in_recovery = c->sack_recovery = true;
    c->high_rxt = c->snd_una;
    c->nrxq = 0;
    c->dupacks = 0;
    t->stats.fast_retransmits++;
    t->stats.sack_recoveries++;
    retransmit_head(t, c); /* at once, whatever the pipe (RFC 6675 step 4.3) */
}

static void on_dupack(struct sea__tcp_engine *t, struct sea__tcb *c) {
    uint32_t mss = c->mss;
    if (c->sack_ok) { /* counted; sack_check_loss decides */
        if (!c->in_recovery)
            c->dupacks++;
        return;
    }
    if (c->in_recovery) {
        c->cwnd += mss; /* each duplicate ACK is a segment that left the network */
        return;
    }
    if (++c->dupacks == 3 && SEQ_GT(c->snd_una, c->recover - 1)) {
        uint32_t flight = c->snd_max - c->snd_una;
        c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
        c->recover = c->snd_max;
        c->in_recovery = true;
        retransmit_head(t, c);
        t->stats.fast_retransmits++;
        c->cwnd = c->ssthresh + 3 * mss;
    }
}

static uint32_t our_wscale(const struct sea__tcp_engine *t) {
    uint8_t s = 0;
    while (s < 14 && (65535u << s) < t->cfg.rcvbuf)
        s++;
    return s;
}

/* What the SYN or SYN-ACK said: the peer's MSS and which options both sides use. */
static void take_syn_options(struct sea__tcp_engine *t, struct sea__tcb *c, const struct sea__tcp_opts *o) {
    uint32_t peer_mss = o->has_mss ? o->mss : 536;
    if (peer_mss < 64)
        peer_mss = 64; /* a tiny MSS would make a segment per byte: a cheap way to load the stack */
    uint32_t mss = peer_mss < (uint32_t)t->cfg.mtu - 40 ? peer_mss : (uint32_t)t->cfg.mtu - 40;
    c->ws_ok = c->ws_ok && o->has_wscale;
    c->snd_wscale = c->ws_ok ? (o->wscale > 14 ? 14 : o->wscale) : 0;
    c->rcv_wscale = c->ws_ok ? (uint8_t)our_wscale(t) : 0;
    c->ts_ok = c->ts_ok && o->has_ts;
    c->sack_ok = c->sack_ok && o->sack_ok;
    if (c->ts_ok) {
        c->ts_recent = o->ts_val;
        mss -= TS_OPT_LEN;
    }
    c->mss = (uint16_t)mss;
    c->cwnd = 10 * mss; /* RFC 6928's initial window */
    c->ssthresh = 1u << 30;
}

static struct sea__tcb *tcb_new(struct sea__tcp_engine *t, uint32_t raddr, uint16_t lport, uint16_t rport) {
    struct sea__tcb *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->raddr = raddr;
    c->lport = lport;
    c->rport = rport;
    sea_timer_init(&c->timer, NULL, c);
    c->t_rtx = c->t_delack = c->t_keep = c->t_2msl = SEA_TIME_MAX;
    c->rto = t->cfg.rto_initial;
    c->iss = initial_seq(t, raddr, lport, rport);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->ws_ok = c->ts_ok = true; /* offered; the other side's options settle them */
    c->sack_ok = !t->cfg.no_sack;
    c->rcv_wscale = (uint8_t)our_wscale(t);
    c->ts_offset = (uint32_t)next_rand(t);
    c->mss = 536;
    c->recover = c->iss;
    return c;
}

static void enter_time_wait(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->state = TIME_WAIT;
    c->t_rtx = c->t_keep = SEA_TIME_MAX;
    c->persist = false;
    c->t_2msl = t->now + t->cfg.time_wait;
    sq_free(c);
}

static void established(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->state = ESTABLISHED;
    t->stats.established++;
    if (c->keepalive)
        c->t_keep = t->now + t->cfg.keepalive_idle;
}

/* ---- input by state ---- */

static void listen_input(struct sea__tcp_engine *t, struct sea__tcp_listener *l, const struct sea__ipv4 *ip,
                         const struct sea__tcp *seg, const struct sea__tcp_opts *o) {
    if (seg->flags & SEA__TCP_RST)
        return;
    if (seg->flags & SEA__TCP_ACK) {
        send_rst_for(t, ip->src, seg);
        return;
    }
    if (!(seg->flags & SEA__TCP_SYN) || (seg->flags & SEA__TCP_FIN))
        return;
    if (l->pending >= l->backlog) {
        t->stats.backlog_drops++; /* the client will retry its SYN */
        return;
    }
    struct sea__tcb *c = tcb_new(t, ip->src, seg->dport, seg->sport);
    if (!c)
        return;
    c->state = SYN_RECEIVED;
    c->listener = l;
    l->pending++;
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    take_syn_options(t, c, o);
    c->snd_wnd = seg->window; /* never scaled in a SYN */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = c->iss;
    table_add(t, c);
    t->stats.passive_opens++;
    send_seg(t, c, c->iss, SEA__TCP_SYN | SEA__TCP_ACK, 0);
    c->snd_nxt = c->snd_max = c->iss + 1;
    arm_rtx(t, c);
    tcb_timer_update(t, c);
}

static void syn_sent_input(struct sea__tcp_engine *t, struct sea__tcb *c, const struct sea__tcp *seg,
                           const struct sea__tcp_opts *o) {
    bool ack = seg->flags & SEA__TCP_ACK;
    if (ack && (SEQ_LEQ(seg->ack, c->iss) || SEQ_GT(seg->ack, c->snd_max))) {
        if (!(seg->flags & SEA__TCP_RST))
            send_rst_for(t, c->raddr, seg);
        return;
    }
    if (seg->flags & SEA__TCP_RST) {
        if (ack) {
            t->stats.rst_received++;
            finish(t, c, -ECONNREFUSED);
        }
        return;
    }
    if (!(seg->flags & SEA__TCP_SYN))
        return;
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    take_syn_options(t, c, o);
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (ack) {
        c->snd_una = seg->ack;
        if (SEQ_LT(c->snd_nxt, c->snd_una))
            c->snd_nxt = c->snd_una;
        c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
        c->max_snd_wnd = c->snd_wnd;
        if (c->backoff == 0 && c->rtt_timing) /* the SYN was not sent again: its round trip is a sample */
            rtt_sample(t, c, t->now - c->rtt_start);
        c->rtt_timing = false;
        c->backoff = 0;
        c->t_rtx = SEA_TIME_MAX;
        established(t, c);
        c->ev |= SEA__TCP_EV_CONNECTED | SEA__TCP_EV_WRITABLE;
        c->ack_now = true;
        output(t, c);
    } else { /* a simultaneous open (RFC 9293 figure 7) */
        c->state = SYN_RECEIVED;
        c->snd_wnd = seg->window;
        send_seg(t, c, c->iss, SEA__TCP_SYN | SEA__TCP_ACK, 0);
        arm_rtx(t, c);
        tcb_timer_update(t, c);
    }
}

/* RFC 9293 §3.10.7.4's acceptability test, against the window last advertised. */
static bool acceptable(const struct sea__tcb *c, uint32_t seq, uint32_t len) {
    uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    if (len == 0)
        return wnd == 0 ? seq == c->rcv_nxt : SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd);
    if (wnd == 0)
        return false;
    return (SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + wnd)) ||
           (SEQ_GEQ(seq + len - 1, c->rcv_nxt) && SEQ_LT(seq + len - 1, c->rcv_nxt + wnd));
}

static void challenge_ack(struct sea__tcp_engine *t, struct sea__tcb *c) {
    t->stats.challenge_acks++;
    send_ack(t, c);
}

static void ack_input(struct sea__tcp_engine *t, struct sea__tcb *c, const struct sea__tcp *seg,
                      const struct sea__tcp_opts *o) {
    uint32_t ack = seg->ack;
    if (SEQ_GT(ack, c->snd_max)) { /* acknowledges what was never sent */
        send_ack(t, c);
        return;
    }
    if (SEQ_LT(ack, c->snd_una - c->max_snd_wnd)) { /* far too old: a blind guess (RFC 5961 §5) */
        challenge_ack(t, c);
        return;
    }
    uint32_t wnd = (uint32_t)seg->window << c->snd_wscale;
    bool sacked = c->sack_ok && o->nsack && sb_take(t, c, o, SEQ_GT(ack, c->snd_una) ? ack : c->snd_una);
    if (SEQ_GT(ack, c->snd_una)) {
        uint32_t acked = ack - c->snd_una;
        uint32_t data = acked;
        bool fin_acked = fin_sent(c) && SEQ_GT(ack, c->fin_seq);
        if (fin_acked)
            data--;
        if (data > c->sq_len)
            data = c->sq_len;
        sq_consume(c, data);
        if (c->ts_ok && o->has_ts && o->ts_ecr)
            rtt_sample(t, c, (sea_time)(uint32_t)(ts_now(t, c) - o->ts_ecr) * MS);
        else if (c->rtt_timing && SEQ_GT(ack, c->rtt_seq)) {
            rtt_sample(t, c, t->now - c->rtt_start);
            c->rtt_timing = false;
        }
        c->snd_una = ack;
        if (SEQ_LT(c->snd_nxt, c->snd_una))
            c->snd_nxt = c->snd_una;
        if (!c->in_recovery && SEQ_LT(c->recover, c->snd_una))
            c->recover = c->snd_una; /* kept near: after 2 GiB an old one would compare as ahead */
        sb_trim(c);
        c->backoff = 0;
        c->persist = false;
        cc_on_ack(t, c, ack, acked);
        c->tlp_out = false;
        if (c->snd_una == c->snd_max) {
            c->t_rtx = SEA_TIME_MAX;
            c->tlp_armed = false;
        } else if (!c->in_recovery || c->sack_recovery || SEQ_GEQ(ack, c->recover)) {
            arm_rto_or_probe(t, c); /* RFC 6298 (5.3): restarted by an ACK of new data */
        }
        if (data && !c->fin_queued)
            c->ev |= SEA__TCP_EV_WRITABLE;
        if (fin_acked) {
            if (c->state == FIN_WAIT_1) {
                c->state = FIN_WAIT_2;
                if (!c->user)
                    c->t_2msl = t->now + t->cfg.fin_wait2;
            } else if (c->state == CLOSING) {
                enter_time_wait(t, c);
            } else if (c->state == LAST_ACK) {
                finish(t, c, 0);
                return;
            }
        }
    } else if (ack == c->snd_una && c->snd_max != c->snd_una &&
               ((seg->payload_len == 0 && !(seg->flags & (SEA__TCP_SYN | SEA__TCP_FIN)) && wnd == c->snd_wnd) ||
                sacked)) {
        on_dupack(t, c); /* with SACK, any ACK that SACKs new data counts (RFC 6675), data-carrying ones too */
    }
    if (c->sack_ok) {
        sack_lost_rexmits(t, c);
        sack_check_loss(t, c);
    }
    /* The window, from the newest segment only (RFC 9293's SND.WL1/WL2 rule). */
    if (SEQ_GEQ(ack, c->snd_una) &&
        (SEQ_LT(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && SEQ_LEQ(c->snd_wl2, ack)))) {
        if (wnd > c->snd_wnd)
            c->ev |= SEA__TCP_EV_WRITABLE;
        c->snd_wnd = wnd;
        if (wnd > c->max_snd_wnd)
            c->max_snd_wnd = wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = ack;
        if (wnd && c->persist) {
            c->persist = false;
            c->t_rtx = c->snd_una == c->snd_max ? SEA_TIME_MAX : c->t_rtx;
            c->backoff = 0;
        }
    }
}

static void sync_input(struct sea__tcp_engine *t, struct sea__tcb *c, const struct sea__tcp *seg,
                       const struct sea__tcp_opts *o) {
    uint32_t seq = seg->seq;
    const uint8_t *p = seg->payload;
    size_t n = seg->payload_len;
    uint8_t flags = seg->flags;
    uint32_t len = (uint32_t)n + !!(flags & SEA__TCP_SYN) + !!(flags & SEA__TCP_FIN);

    if (c->state == SYN_RECEIVED && (flags & SEA__TCP_SYN) && !(flags & SEA__TCP_ACK) && seq == c->irs) {
        send_seg(t, c, c->iss, SEA__TCP_SYN | SEA__TCP_ACK, 0); /* our SYN-ACK was lost */
        return;
    }
    if (!acceptable(c, seq, len)) {
        if (flags & SEA__TCP_RST)
            return;
        t->stats.dropped_unacceptable++;
        /*
         * Its data is not for now, but its ACK may be (RFC 9293: "special
         * allowance should be made to accept valid ACKs" when the window is
         * zero; Linux takes the ACK of an old retransmission too).  Without
         * this, two sides whose windows are full wait for each other's ACKs
         * forever.
         */
        uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
        /*
         * A peer probing a closed window may be a byte past its edge.  The
         * ACK itself is checked against what we sent (RFC 5961 §5's range) in
         * ack_input, which is what stops a blind one.
         */
        if ((flags & SEA__TCP_ACK) && !(flags & SEA__TCP_SYN) && SEQ_LEQ(seq, c->rcv_nxt + wnd + 65535) &&
            c->state != SYN_RECEIVED && c->state != TIME_WAIT) {
            c->zw_unanswered = 0;
            ack_input(t, c, seg, o);
            if (c->state == CLOSED)
                return;
            /*
             * What the ACK allows goes now (a SACK recovery's next segments,
             * limited transmit), with the ACK this segment is owed: a peer
             * whose window we filled sends ACKs at its right edge, just
             * outside, and they would otherwise never make us send.
             */
            c->ack_now = true;
            output(t, c);
            return;
        }
        if (c->state == TIME_WAIT && (flags & SEA__TCP_FIN))
            c->t_2msl = t->now + t->cfg.time_wait; /* the peer did not hear our ACK of its FIN */
        send_ack(t, c);
        tcb_timer_update(t, c);
        return;
    }
    if (flags & SEA__TCP_RST) { /* RFC 5961 §3: only the exact next sequence number resets */
        if (c->state == TIME_WAIT) {
            /*
             * RFC 1337: a reset does not cut TIME-WAIT short.  The connection
             * ended in order; a late reset (the peer answering a segment of
             * ours that crossed its close) is no error to report.
             */
            t->stats.rst_received++;
            return;
        }
        if (seq != c->rcv_nxt) {
            challenge_ack(t, c);
            return;
        }
        t->stats.rst_received++;
        bool quiet = c->state == SYN_RECEIVED || c->state == CLOSING || c->state == LAST_ACK ||
                     c->state == TIME_WAIT;
        finish(t, c, quiet && !c->user ? 0 : -ECONNRESET);
        return;
    }
    if (flags & SEA__TCP_SYN) { /* RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK */
        challenge_ack(t, c);
        return;
    }
    if (!(flags & SEA__TCP_ACK))
        return;
    c->zw_unanswered = 0;
    /* Timestamps: remember the newest from a segment that starts at or before what we acknowledged (RFC 7323 §4.3). */
    if (c->ts_ok && o->has_ts && SEQ_LEQ(seq, c->last_ack_sent))
        c->ts_recent = o->ts_val;
    if (c->keepalive) {
        c->probes = 0;
        c->t_keep = t->now + t->cfg.keepalive_idle;
    }
    if (c->state == SYN_RECEIVED) {
        if (SEQ_LEQ(seg->ack, c->snd_una) || SEQ_GT(seg->ack, c->snd_max)) {
            send_rst_for(t, c->raddr, seg);
            return;
        }
        c->snd_una = seg->ack;
        c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = seq;
        c->snd_wl2 = seg->ack;
        c->t_rtx = SEA_TIME_MAX;
        c->backoff = 0;
        established(t, c);
        if (c->listener) {
            c->queued = true;
            sea__list_push_back(&c->listener->queue, &c->qlink);
            c->listener->ev |= SEA__TCP_EV_ACCEPTABLE;
        } else {
            c->ev |= SEA__TCP_EV_CONNECTED | SEA__TCP_EV_WRITABLE;
        }
    } else {
        ack_input(t, c, seg, o);
        if (c->state == CLOSED)
            return;
    }
    if (c->state == TIME_WAIT) {
        if (flags & SEA__TCP_FIN) {
            c->t_2msl = t->now + t->cfg.time_wait;
            send_ack(t, c);
        }
        tcb_timer_update(t, c);
        return;
    }
    /* Trim what was received already, and what lies beyond the window. */
    if (SEQ_LT(seq, c->rcv_nxt)) {
        uint32_t d = c->rcv_nxt - seq;
        if (d > n)
            d = (uint32_t)n;
        p += d;
        n -= d;
        seq += d;
        if (!n && !(flags & SEA__TCP_FIN))
            c->ack_now = true; /* a pure duplicate: tell the sender where we are */
    }
    uint32_t wnd_right = c->rcv_adv;
    if (n && SEQ_GT(seq + (uint32_t)n, wnd_right)) {
        n = SEQ_GT(wnd_right, seq) ? wnd_right - seq : 0;
        flags &= (uint8_t)~SEA__TCP_FIN;
    }
    bool can_receive = c->state == ESTABLISHED || c->state == FIN_WAIT_1 || c->state == FIN_WAIT_2;
    if (n && can_receive) {
        if (!c->user && !c->queued) { /* released: nobody will read it (Linux resets here too) */
            send_rst(t, c);
            finish(t, c, -ECONNRESET);
            return;
        }
        t->stats.bytes_in += n;
        data_input(t, c, seq, p, n, t->in_mem);
    }
    if ((flags & SEA__TCP_FIN) && can_receive && seq + (uint32_t)n == c->rcv_nxt) {
        c->rcv_nxt++;
        c->fin_received = true;
        c->ack_now = true;
        c->ev |= SEA__TCP_EV_READABLE;
        if (c->state == ESTABLISHED)
            c->state = CLOSE_WAIT;
        else if (c->state == FIN_WAIT_1)
            c->state = CLOSING;
        else if (c->state == FIN_WAIT_2)
            enter_time_wait(t, c);
    }
    output(t, c);
}

static void input(struct sea__tcp_engine *t, const struct sea__ipv4 *ip, sea_time now) {
    t->now = now;
    reap(t);
    struct sea__tcp seg;
    struct sea__tcp_opts o;
    memset(&o, 0, sizeof(o));
    int parsed = ip->l4_csum_verified ? sea__tcp_parse_verified(ip->payload, ip->payload_len, &seg)
                                      : sea__tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &seg);
    if (parsed < 0 ||
        (seg.options_len && sea__tcp_options_parse(seg.options, seg.options_len, &o) < 0) || !seg.sport ||
        !seg.dport) {
        t->stats.bad_segments++;
        return;
    }
    t->stats.segs_in++;
    struct sea__tcb *c = lookup(t, ip->src, seg.sport, seg.dport);
    if (!c) {
        struct sea__tcp_listener *l = t->listeners;
        while (l && l->port != seg.dport)
            l = l->next;
        if (l) {
            listen_input(t, l, ip, &seg, &o);
            notify_listener(l);
        } else {
            t->stats.no_listener++;
            send_rst_for(t, ip->src, &seg);
        }
        return;
    }
    struct sea__tcp_listener *l = c->listener;
    if (c->state == SYN_SENT)
        syn_sent_input(t, c, &seg, &o);
    else
        sync_input(t, c, &seg, &o);
    if (c->state != CLOSED)
        tcb_timer_update(t, c);
    notify_listener(l);
    notify(c);
}

void sea__tcp_input(struct sea__tcp_engine *t, const struct sea__ipv4 *ip, const sea_buf *mem, sea_time now) {
    t->in_mem = mem; /* (for data_input, deep below) */
    input(t, ip, now);
    t->in_mem = NULL;
}

/* ---- ICMP errors (RFC 5927, RFC 1191) ---- */

void sea__tcp_icmp_unreach(struct sea__tcp_engine *t, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
                           uint8_t code, uint16_t mtu, sea_time now) {
    t->now = now;
    reap(t);
    struct sea__tcb *c = lookup(t, raddr, rport, lport);
    /*
     * RFC 5927 §4.1: only for a segment in flight (SND.UNA <= seq <
     * SND.MAX), so that a forged message must guess the window to do harm.
     */
    if (!c || c->state == CLOSED || c->state == TIME_WAIT || SEQ_LT(seq, c->snd_una) || SEQ_GEQ(seq, c->snd_max)) {
        t->stats.icmp_ignored++;
        return;
    }
    if (code == SEA__ICMP_FRAG_NEEDED) {
        /*
         * Path MTU discovery (RFC 1191): a router could not pass a segment
         * with DF set; its next hop takes mtu.  Segments shrink to it (never
         * below 552 bytes of datagram, as Linux's floor, against a forged
         * tiny MTU), and what is in flight is sent again in the new size.
         */
        uint32_t floor = 552, m = mtu < floor ? floor : mtu;
        uint32_t mss = m - 40 - (c->ts_ok ? TS_OPT_LEN : 0);
        if (mtu < 68 || mss >= c->mss) {
            t->stats.icmp_ignored++;
            return;
        }
        if (!c->mss_path_free)
            c->mss_path_free = c->mss;
        c->mss = (uint16_t)mss;
        c->pmtu_retry = now + PMTU_RETRY;
        t->stats.pmtu_lowered++;
        if (c->state != SYN_SENT && c->state != SYN_RECEIVED) {
            c->snd_nxt = c->snd_una;
            output(t, c);
        }
        tcb_timer_update(t, c);
        notify(c);
        return;
    }
    /* A hard error while connecting (RFC 1122 §4.2.3.9: the port or protocol is not there): refused. */
    if (c->state == SYN_SENT && (code == SEA__ICMP_PROTO_UNREACH || code == SEA__ICMP_PORT_UNREACH)) {
        t->stats.icmp_refused++;
        finish(t, c, -ECONNREFUSED);
        notify(c);
        return;
    }
    t->stats.icmp_ignored++; /* soft errors: the retransmission timer decides */
}

/* ---- timers ---- */

static void probe(struct sea__tcp_engine *t, struct sea__tcb *c) {
    /* An old sequence number with no data: the peer answers with an ACK that carries its window. */
    send_seg(t, c, c->snd_una - 1, SEA__TCP_ACK, 0);
}

/* The probe: the last segment in flight sent again (RFC 8985 §7.3, when no new data goes). */
static void tail_loss_probe(struct sea__tcp_engine *t, struct sea__tcb *c) {
    uint32_t flight = c->snd_max - c->snd_una;
    bool fin = fin_sent(c);
    uint32_t data = flight - (fin ? 1u : 0u); /* bytes of data in flight, all in the send queue from SND.UNA */
    uint32_t n = data < c->mss ? data : c->mss;
    uint32_t seq = c->snd_una + data - n;
    send_seg(t, c, seq, SEA__TCP_ACK | (fin ? SEA__TCP_FIN : 0) | (n ? SEA__TCP_PSH : 0), n);
    t->stats.retransmits++;
    t->stats.tail_loss_probes++;
    c->rtt_timing = false;
    c->tlp_out = true;
    arm_rtx(t, c); /* the RTO, from now */
}

static void rtx_timeout(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->t_rtx = SEA_TIME_MAX;
    if (c->tlp_armed) {
        c->tlp_armed = false;
        if (c->snd_una != c->snd_max && !c->in_recovery)
            tail_loss_probe(t, c);
        else if (c->snd_una != c->snd_max)
            arm_rtx(t, c); /* recovery began since: a probe's deadline is no RTO, so the RTO runs from now */
        return;
    }
    if (c->persist) {
        if (c->zw_unanswered >= t->cfg.retries) { /* a closed window, and nobody answers any more */
            t->stats.timeouts++;
            finish(t, c, -ETIMEDOUT);
            return;
        }
        c->zw_unanswered++;
        t->stats.zero_window_probes++;
        probe(t, c);
        if (c->backoff < 16)
            c->backoff++;
        arm_rtx(t, c);
        return;
    }
    int limit = c->state == SYN_SENT || c->state == SYN_RECEIVED ? t->cfg.syn_retries : t->cfg.retries;
    if (c->backoff >= limit) {
        t->stats.timeouts++;
        finish(t, c, -ETIMEDOUT);
        return;
    }
    t->stats.rto_expired++;
    if (c->state == SYN_SENT || c->state == SYN_RECEIVED) {
        t->stats.retransmits++;
        uint8_t flags = SEA__TCP_SYN | (c->state == SYN_RECEIVED ? SEA__TCP_ACK : 0);
        send_seg(t, c, c->iss, flags, 0);
    } else {
        if (c->backoff == 0) {
            uint32_t flight = c->snd_max - c->snd_una;
            c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
        }
        c->cwnd = c->mss;
        c->in_recovery = c->sack_recovery = false;
        c->recover = c->snd_max;
        c->dupacks = 0;
        /*
         * The SACKed ranges are kept (the resend skips them) unless this is
         * the second timeout in a row: then the peer may have dropped what it
         * SACKed (reneging, RFC 2018 allows it), and all is sent again.
         */
        if (c->backoff > 0)
            c->nsb = 0;
        if (c->snd_wnd == 0) {
            /*
             * The window is closed: what is in flight waits for it to open,
             * and probing it is the way to hear when.  The peer answering
             * the probes keeps the connection, however long it stays shut.
             */
            c->snd_nxt = c->snd_una;
            c->persist = true;
            c->zw_unanswered = 1;
            t->stats.zero_window_probes++;
            probe(t, c);
            c->backoff++;
            arm_rtx(t, c);
            return;
        }
        if (c->snd_una == c->snd_max) { /* nothing in flight after all: nothing to time */
            c->backoff = 0;
            output(t, c);
            return;
        }
        /* Go back: everything after SND.UNA is sent again as the window reopens. */
        c->snd_nxt = c->snd_una + retransmit_head(t, c);
        if (SEQ_GT(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
    }
    c->backoff++;
    arm_rtx(t, c);
}

static void keepalive_timeout(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->t_keep = SEA_TIME_MAX;
    if (!c->keepalive || c->state == CLOSED || c->state == TIME_WAIT)
        return;
    if (c->probes >= t->cfg.keepalive_probes) {
        t->stats.timeouts++;
        finish(t, c, -ETIMEDOUT);
        return;
    }
    c->probes++;
    t->stats.keepalive_probes++;
    probe(t, c);
    c->t_keep = t->now + t->cfg.keepalive_interval;
}

static void tcb_timeout(struct sea__tcp_engine *t, struct sea__tcb *c) {
    sea_time now = t->now;
    if (c->t_2msl <= now) {
        c->t_2msl = SEA_TIME_MAX;
        finish(t, c, c->state == TIME_WAIT ? 0 : -ETIMEDOUT);
        return;
    }
    if (c->t_rtx <= now) {
        rtx_timeout(t, c);
        if (c->state == CLOSED)
            return;
    }
    if (c->t_keep <= now) {
        keepalive_timeout(t, c);
        if (c->state == CLOSED)
            return;
    }
    if (c->t_delack <= now) {
        c->t_delack = SEA_TIME_MAX;
        if (c->unacked_segs)
            send_ack(t, c);
    }
    tcb_timer_update(t, c);
}

sea_time sea__tcp_tick(struct sea__tcp_engine *t, sea_time now) {
    t->now = now;
    reap(t);
    struct sea__timer_set *ts = &t->timers;
    if (ts->next <= now || !sea__list_empty(&ts->expiring)) {
        sea__timer_set_expire(ts, now);
        struct sea__link *l;
        while ((l = sea__list_first(&ts->expiring))) {
            sea_timer *tm = sea__list_entry(l, sea_timer, sea__link);
            sea__timer_set_remove(ts, tm);
            tm->sea__flags &= ~SEA__TF_ARMED;
            struct sea__tcb *c = tm->sea__arg;
            tcb_timeout(t, c);
            notify(c);
        }
    }
    return sea__tcp_next_deadline(t);
}

sea_time sea__tcp_next_deadline(const struct sea__tcp_engine *t) {
    return sea__list_empty(&t->timers.expiring) ? t->timers.next : t->now;
}

/* ---- set-up ---- */

int sea__tcp_init(struct sea__tcp_engine *t, const struct sea__tcp_config *cfg, sea_time now) {
    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    struct sea__tcp_config *c = &t->cfg;
    if (!c->mtu)
        c->mtu = 1500;
    if (c->mtu < 576)
        return -EINVAL;
    c->rcvbuf = pow2_at_least(c->rcvbuf ? c->rcvbuf : 256 * 1024);
    c->sndbuf = pow2_at_least(c->sndbuf ? c->sndbuf : 256 * 1024);
    if (!c->rto_initial)
        c->rto_initial = SEC;
    if (!c->rto_min)
        c->rto_min = 200 * MS;
    if (!c->rto_max)
        c->rto_max = 60 * SEC;
    if (!c->delack)
        c->delack = 40 * MS;
    if (!c->time_wait)
        c->time_wait = 60 * SEC;
    if (!c->fin_wait2)
        c->fin_wait2 = 60 * SEC;
    if (!c->keepalive_idle)
        c->keepalive_idle = 7200 * SEC;
    if (!c->keepalive_interval)
        c->keepalive_interval = 75 * SEC;
    if (!c->keepalive_probes)
        c->keepalive_probes = 9;
    if (!c->syn_retries)
        c->syn_retries = 6;
    if (!c->retries)
        c->retries = 15;
    if (c->tso_max > 65535 - 20 - 60) /* an IPv4 datagram's limit, with the largest headers */
        c->tso_max = 65535 - 20 - 60;
    if (!c->secret[0] && !c->secret[1] && getrandom(c->secret, sizeof(c->secret), 0) != sizeof(c->secret))
        return -EIO;
    t->rng = c->secret[0] ^ rotl(c->secret[1], 17);
    t->now = now;
    sea__timer_set_init(&t->timers, now);
    t->table_size = 64;
    t->table = calloc(t->table_size, sizeof(*t->table));
    t->tx_cap = SEA__TCP_HEADROOM + 60 + 65536;
    t->tx = malloc(t->tx_cap);
    if (!t->table || !t->tx) {
        free(t->table);
        free(t->tx);
        return -ENOMEM;
    }
    return 0;
}

void sea__tcp_destroy(struct sea__tcp_engine *t) {
    reap(t);
    for (size_t i = 0; i < t->table_size; i++)
        for (struct sea__tcb *c = t->table[i], *next; c; c = next) {
            next = c->hnext;
            tcb_free(t, c);
        }
    /* Connections out of the table are their owners' to close; the owners are being torn down with us. */
    while (t->listeners) {
        struct sea__tcp_listener *l = t->listeners;
        t->listeners = l->next;
        free(l);
    }
    free(t->table);
    free(t->tx);
    memset(t, 0, sizeof(*t));
}

/* ---- the owner's calls ---- */

static bool port_listened(const struct sea__tcp_engine *t, uint16_t port) {
    for (const struct sea__tcp_listener *l = t->listeners; l; l = l->next)
        if (l->port == port)
            return true;
    return false;
}

int sea__tcp_listen(struct sea__tcp_engine *t, uint16_t port, int backlog, sea__tcp_event_cb cb, void *arg,
                    struct sea__tcp_listener **out) {
    if (!port) { /* any free port: from a random start in 32768..60999, as the kernel would give one */
        uint32_t start = (uint32_t)(next_rand(t) % 28232);
        for (uint32_t i = 0; i < 28232 && !port; i++) {
            uint16_t p = (uint16_t)(32768 + (start + i) % 28232);
            if (!port_listened(t, p))
                port = p;
        }
        if (!port)
            return -EADDRINUSE;
    }
    if (port_listened(t, port))
        return -EADDRINUSE;
    struct sea__tcp_listener *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->port = port;
    l->backlog = backlog > 0 ? backlog : 1024;
    l->cb = cb;
    l->arg = arg;
    sea__list_init(&l->queue);
    l->next = t->listeners;
    t->listeners = l;
    *out = l;
    return 0;
}

uint16_t sea__tcp_listener_port(const struct sea__tcp_listener *l) {
    return l->port;
}

struct sea__tcb *sea__tcp_accept(struct sea__tcp_listener *l) {
    struct sea__link *k = sea__list_pop_front(&l->queue);
    if (!k)
        return NULL;
    struct sea__tcb *c = sea__list_entry(k, struct sea__tcb, qlink);
    c->queued = false;
    c->listener = NULL;
    c->user = true;
    l->pending--;
    return c;
}

void sea__tcp_unlisten(struct sea__tcp_engine *t, struct sea__tcp_listener *l) {
    for (struct sea__tcp_listener **pp = &t->listeners; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    /* Connections still in the handshake or the queue are reset: nobody will accept them. */
    for (size_t i = 0; i < t->table_size; i++)
        for (struct sea__tcb *c = t->table[i], *next; c; c = next) {
            next = c->hnext;
            if (c->listener == l) {
                send_rst(t, c);
                finish(t, c, -ECONNRESET);
            }
        }
    free(l);
}

int sea__tcp_connect(struct sea__tcp_engine *t, uint32_t raddr, uint16_t rport, sea__tcp_event_cb cb, void *arg,
                     struct sea__tcb **out) {
    /* No reap here: an owner may connect from an event callback, while the engine still holds a connection. */
    if (!raddr || !rport)
        return -EINVAL;
    /*
     * RFC 6056's algorithm 1: a random start in 32768..60999, then each port
     * in turn, so that a port is found whenever one is free, even when
     * port_ok (the shard's steering) accepts only a few.
     */
    uint16_t lport = 0;
    const uint32_t first = 32768, count = 28232;
    uint32_t start = (uint32_t)(next_rand(t) % count);
    for (uint32_t i = 0; i < count && !lport; i++) {
        uint16_t p = (uint16_t)(first + (start + i) % count);
        if (lookup(t, raddr, rport, p))
            continue;
        if (port_listened(t, p) || (t->cfg.port_ok && !t->cfg.port_ok(t->cfg.port_ok_ctx, p, raddr, rport)))
            continue;
        lport = p;
    }
    if (!lport)
        return -EADDRNOTAVAIL;
    struct sea__tcb *c = tcb_new(t, raddr, lport, rport);
    if (!c)
        return -ENOMEM;
    c->user = true;
    c->cb = cb;
    c->arg = arg;
    c->state = SYN_SENT;
    table_add(t, c);
    t->stats.active_opens++;
    send_seg(t, c, c->iss, SEA__TCP_SYN, 0);
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->rtt_start = t->now;
    c->rtt_timing = true;
    arm_rtx(t, c);
    tcb_timer_update(t, c);
    *out = c;
    return 0;
}

void sea__tcp_set_cb(struct sea__tcb *c, sea__tcp_event_cb cb, void *arg) {
    c->cb = cb;
    c->arg = arg;
}

bool sea__tcp_readable(const struct sea__tcb *c) {
    return c->rq_len || c->fin_received || c->err || c->state == CLOSED;
}

/* Nothing to read: the end of the stream (0), the error, or -EAGAIN. */
static long nothing_to_read(const struct sea__tcb *c) {
    if (c->err)
        return c->err;
    if (c->fin_received || c->state == CLOSED)
        return 0;
    return -EAGAIN;
}

/* n bytes of the first piece were read: drops it when done, so that an idle connection holds no memory. */
static void rq_consumed(struct sea__tcb *c, uint32_t n) {
    struct rpiece *q = c->rq;
    q->off += n;
    c->rq_len -= n;
    if (q->off < q->end)
        return;
    c->rq = q->next;
    if (!c->rq)
        c->rq_tail = NULL;
    piece_free(q);
}

/* Reading freed window: tell the sender when it opened by two segments or half the buffer (RFC 9293 §3.8.6.2.2). */
static void window_opened(struct sea__tcp_engine *t, struct sea__tcb *c, uint32_t before) {
    if (c->state == CLOSED || c->state == TIME_WAIT || c->state == SYN_SENT)
        return;
    uint32_t after = rcv_window(t, c);
    if (after > before && (after - before >= 2u * c->mss || after - before >= t->cfg.rcvbuf / 2 || before == 0)) {
        send_ack(t, c);
        tcb_timer_update(t, c);
    }
}

long sea__tcp_recv(struct sea__tcp_engine *t, struct sea__tcb *c, void *buf, size_t len) {
    if (c->rq_len == 0)
        return nothing_to_read(c);
    uint32_t before = rcv_window(t, c);
    size_t done = 0;
    while (done < len && c->rq_len) {
        struct rpiece *q = c->rq;
        uint32_t k = (uint32_t)zmin(len - done, q->end - q->off);
        memcpy((uint8_t *)buf + done, q->mem.data + q->off, k);
        done += k;
        rq_consumed(c, k);
    }
    window_opened(t, c, before);
    return (long)done;
}

long sea__tcp_recv_buf(struct sea__tcp_engine *t, struct sea__tcb *c, size_t max, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    if (c->rq_len == 0)
        return nothing_to_read(c);
    if (!max)
        return -EINVAL;
    uint32_t before = rcv_window(t, c);
    struct rpiece *q = c->rq;
    uint32_t k = (uint32_t)zmin(max, q->end - q->off);
    *out = sea_buf_slice(&q->mem, q->off, k);
    rq_consumed(c, k);
    window_opened(t, c, before);
    return (long)k;
}

/* Takes what fits of len bytes at buf (which lie in mem when it is given: kept by reference). */
static long send_common(struct sea__tcp_engine *t, struct sea__tcb *c, const void *buf, size_t len,
                        const sea_buf *mem) {
    if (c->err)
        return c->err;
    if (c->fin_queued || c->state == CLOSED)
        return -EPIPE;
    if (c->state == SYN_SENT || c->state == SYN_RECEIVED)
        return -EAGAIN;
    size_t room = t->cfg.sndbuf - c->sq_len;
    size_t n = zmin(len, room);
    if (!n)
        return len ? -EAGAIN : 0;
    if (!sq_append(t, c, buf, n, mem))
        return -ENOMEM;
    output(t, c);
    return (long)n;
}

long sea__tcp_send(struct sea__tcp_engine *t, struct sea__tcb *c, const void *buf, size_t len) {
    return send_common(t, c, buf, len, NULL);
}

long sea__tcp_send_buf(struct sea__tcp_engine *t, struct sea__tcb *c, const sea_buf *b) {
    return send_common(t, c, b->data, b->len, b);
}

int sea__tcp_shutdown(struct sea__tcp_engine *t, struct sea__tcb *c) {
    if (c->err)
        return c->err;
    if (c->fin_queued || c->state == CLOSED)
        return 0;
    if (c->state == SYN_SENT) {
        finish(t, c, 0);
        return 0;
    }
    c->fin_queued = true;
    c->fin_seq = c->snd_una + c->sq_len;
    output(t, c);
    return 0;
}

void sea__tcp_close(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->user = false;
    c->cb = NULL;
    c->ev = 0;
    if (c->state == CLOSED) {
        to_dead(t, c);
        return;
    }
    if (c->rq_len || c->state == SYN_SENT) {
        if (c->state != SYN_SENT)
            send_rst(t, c);
        finish(t, c, -ECONNRESET);
        return;
    }
    sea__tcp_shutdown(t, c);
    if (c->state == FIN_WAIT_2 && c->t_2msl == SEA_TIME_MAX) {
        c->t_2msl = t->now + t->cfg.fin_wait2;
        tcb_timer_update(t, c);
    }
}

void sea__tcp_abort(struct sea__tcp_engine *t, struct sea__tcb *c) {
    c->user = false;
    c->cb = NULL;
    if (c->state == CLOSED) {
        to_dead(t, c);
        return;
    }
    if (c->state != SYN_SENT && c->state != TIME_WAIT)
        send_rst(t, c);
    finish(t, c, -ECONNRESET);
}

void sea__tcp_set_keepalive(struct sea__tcp_engine *t, struct sea__tcb *c, bool on) {
    c->keepalive = on;
    c->probes = 0;
    c->t_keep = on && c->state != CLOSED && c->state != TIME_WAIT ? t->now + t->cfg.keepalive_idle : SEA_TIME_MAX;
    if (c->state != CLOSED)
        tcb_timer_update(t, c);
}

int sea__tcp_error(const struct sea__tcb *c) { return c->err; }

void sea__tcp_endpoints(const struct sea__tcb *c, uint16_t *lport, uint32_t *raddr, uint16_t *rport) {
    if (lport)
        *lport = c->lport;
    if (raddr)
        *raddr = c->raddr;
    if (rport)
        *rport = c->rport;
}

const char *sea__tcp_state_name(const struct sea__tcb *c) { return state_names[c->state]; }

size_t sea__tcp_unacked(const struct sea__tcb *c) { return c->sq_len; }

void sea__tcp_snd_range(const struct sea__tcb *c, uint32_t *snd_una, uint32_t *snd_max) {
    *snd_una = c->snd_una;
    *snd_max = c->snd_max;
}

void sea__tcp_next_seqs(const struct sea__tcb *c, uint32_t *snd_nxt, uint32_t *rcv_nxt) {
    *snd_nxt = c->snd_nxt;
    *rcv_nxt = c->rcv_nxt;
}

int sea__tcp_describe(const struct sea__tcb *c, char *buf, size_t len) {
    return snprintf(buf, len,
                    "%s una=%u nxt=%u max=%u wnd=%u cwnd=%u ssthresh=%u sbuf=%u fin_q=%d rtx=%s persist=%d "
                    "backoff=%d rcv_nxt=%u adv=%u rbuf=%u ooo=%d recovery=%d%s dupacks=%d sacked=%d/%u",
                    state_names[c->state], c->snd_una - c->iss, c->snd_nxt - c->iss, c->snd_max - c->iss,
                    c->snd_wnd, c->cwnd, c->ssthresh, c->sq_len, c->fin_queued,
                    c->t_rtx == SEA_TIME_MAX ? "off" : "on", c->persist, c->backoff, c->rcv_nxt - c->irs,
                    c->rcv_adv - c->rcv_nxt, c->rq_len, c->nooo, c->in_recovery, c->sack_recovery ? "(sack)" : "",
                    c->dupacks, c->nsb, sacked_below(c, c->snd_max));
}

size_t sea__tcp_send_space(const struct sea__tcp_engine *t, const struct sea__tcb *c) {
    if (c->err || c->fin_queued || c->state == CLOSED || c->state == SYN_SENT || c->state == SYN_RECEIVED)
        return 0;
    return t->cfg.sndbuf - c->sq_len;
}
