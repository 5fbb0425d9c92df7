/*
 * net/native/xdp.h - the native stack's AF_XDP device (xdp.c): one queue of
 * a network interface, taken from the kernel by an XDP program and served
 * through an AF_XDP socket and its UMEM, private to sea and its tests; and
 * that program with its map on its own, for a socket per queue on several
 * queues of one interface (a shard each: module.c).
 *
 * The same shape as the TAP device (native.h): open, close, receive, send,
 * wait, counters.  It needs no libbpf or libxdp: the XDP program is six
 * instructions written out here and loaded with bpf(2), so sea builds on a
 * machine without them (docs/native-devices.md says why and how).
 */
#ifndef SEA_NET_NATIVE_XDP_H
#define SEA_NET_NATIVE_XDP_H

#include <sea/abort.h>
#include <sea/buffer.h>
#include <sea/future.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The defaults of struct sea__xdp_options (a field left 0 takes them). */
#define SEA__XDP_FRAMES_DEFAULT 4096
#define SEA__XDP_FRAME_SIZE_DEFAULT 2048

enum sea__xdp_mode {
    SEA__XDP_MODE_AUTO,     /* zero-copy if the driver allows it, else copy */
    SEA__XDP_MODE_COPY,     /* copy only (XDP_COPY) */
    SEA__XDP_MODE_ZEROCOPY, /* zero-copy only (XDP_ZEROCOPY): open fails where the driver cannot */
};

enum sea__xdp_attach {
    SEA__XDP_ATTACH_AUTO, /* the driver's own XDP hook, else the generic one */
    SEA__XDP_ATTACH_DRV,  /* XDP_FLAGS_DRV_MODE only */
    SEA__XDP_ATTACH_SKB,  /* XDP_FLAGS_SKB_MODE only (generic XDP: any interface, slower) */
};

struct sea__xdp_options {
    uint32_t frames;     /* UMEM frames, a power of two >= 4; 0: SEA__XDP_FRAMES_DEFAULT.  Half receive, half send. */
    uint32_t frame_size; /* bytes per frame, a power of two from 2048 to the page size; 0: SEA__XDP_FRAME_SIZE_DEFAULT */
    int mode;            /* enum sea__xdp_mode */
    int attach;          /* enum sea__xdp_attach */
};

struct sea__xdp_stats {
    uint64_t rx_frames, rx_bytes;
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_dropped;     /* no free frame or no room on the TX ring, the frame too large, or the kick failed */
    uint64_t rx_truncated;   /* sea__xdp_recv: a frame larger than the caller's buffer (dropped) */
    uint64_t rx_fill_empty;  /* the kernel found the fill ring empty (XDP_STATISTICS, read by sea__xdp_kernel_stats) */
    uint64_t rx_ring_full;   /* the kernel found the RX ring full (ditto) */
    uint64_t rx_dropped;     /* the kernel dropped a frame for another reason, e.g. too large for a frame (ditto) */
    uint64_t tx_kicks;       /* sendto(2) calls to start transmission (the TX ring asked for a wake-up) */
    uint64_t rx_kicks;       /* recvfrom(2) calls to wake the driver for the fill ring */
    uint64_t rx_kept;        /* frames given out as buffers (sea__xdp_recv_keep) */
    uint64_t rx_keep_refused; /* ... refused: a quarter of the receive frames were out already */
};

/* One ring shared with the kernel: the producer and consumer indices are free-running, masked on use. */
struct sea__xdp_ring {
    uint32_t *producer, *consumer, *flags;
    void *descs; /* struct xdp_desc[size] (RX, TX) or uint64_t[size] (fill, completion) */
    uint32_t size, mask;
    uint32_t cached; /* ours: a producer's own producer index, a consumer's own consumer index */
    void *map;
    size_t map_len;
};

/* A received frame, in place in the UMEM, until sea__xdp_recv_release gives it back. */
struct sea__xdp_frame {
    uint8_t *data;
    uint32_t len;
    uint64_t addr; /* its UMEM offset, for the release */
};

/*
 * An interface's XDP program and its XSKMAP: a frame received on queue i
 * goes to the socket at index i of the map, or on to the kernel's stack
 * when there is none.  An interface has one XDP hook, so one program serves
 * every queue sea takes.
 */
struct sea__xdp_prog {
    int map_fd;  /* the XSKMAP: queue index -> socket */
    int prog_fd; /* the XDP program */
    int link_fd; /* the program's attachment to the interface: closing it detaches the program */
    unsigned ifindex, nqueues;
    bool drv_mode; /* attached to the driver's hook (else the generic, skb one) */
    char err[160];
};

struct sea__xdp {
    int fd;      /* the AF_XDP socket */
    struct sea__xdp_prog own; /* sea__xdp_open's program, for this queue alone (all -1 after sea__xdp_open_socket) */
    unsigned ifindex, queue;
    char name[16]; /* IFNAMSIZ */
    uint8_t mac[6]; /* the interface's address (zero if it could not be read): frames for it reach the queue */
    uint8_t *umem;
    size_t umem_len;
    uint32_t frames, frame_size;
    struct sea__xdp_ring rx, tx, fill, comp;
    uint64_t *tx_free; /* UMEM offsets of the send frames neither on the TX ring nor awaiting completion */
    uint32_t tx_free_count;
    bool zerocopy;    /* bound with XDP_ZEROCOPY (else XDP_COPY) */
    int zerocopy_err; /* in copy mode: why the zero-copy bind was refused (-EOPNOTSUPP: the driver cannot), or 0 if not tried */
    bool drv_mode;    /* the program is on the driver's hook (else the generic, skb one) */
    bool need_wakeup; /* bound with XDP_USE_NEED_WAKEUP: the kernel says when a kick is needed */
    bool tx_unkicked; /* frames queued by sea__xdp_send_later since the last kick */
    struct sea__xdp_stats stats;
    struct sea__xdp_keep *keep; /* the frames sea__xdp_recv_keep gave out, and the UMEM while they live */
    char err[160]; /* after a failed open: what failed and why, e.g. "bpf(BPF_PROG_LOAD): EPERM (...)" */
};

/*
 * Opens queue `queue` of interface ifname: an AF_XDP socket with its own
 * UMEM (opt: NULL for the defaults), bound zero-copy or copy as opt->mode
 * allows (x->zerocopy says which), and an XDP program attached to the
 * interface that sends the queue's frames to the socket and passes every
 * other queue's to the kernel.  Needs CAP_NET_RAW, CAP_NET_ADMIN and
 * CAP_BPF (root).  Returns 0, or a negative errno with x->err saying what
 * failed: -EAFNOSUPPORT without AF_XDP in the kernel, -ENODEV for no such
 * interface, -EPERM, -EOPNOTSUPP for zero-copy only where the driver
 * cannot, -EINVAL for bad options, -EBUSY if another socket has the queue
 * or another program the interface's XDP hook.  A socket closed moments
 * ago still has the queue until the kernel frees it (from a work queue,
 * shortly after): a caller that reopens should retry -EBUSY for a bounded
 * while, as native_xdp.c does.  On failure everything made so far is undone.
 */
int sea__xdp_open(struct sea__xdp *x, const char *ifname, unsigned queue, const struct sea__xdp_options *opt);
/*
 * The socket alone: what sea__xdp_open does but the program, for a caller
 * that serves several queues of the interface with one program
 * (sea__xdp_prog_*): until the socket is in that program's map, its queue's
 * frames go to the kernel's stack.  The same returns; -EINVAL from the bind
 * for a queue the interface does not have.
 */
int sea__xdp_open_socket(struct sea__xdp *x, const char *ifname, unsigned queue, const struct sea__xdp_options *opt);
/* Detaches its own program, if any, and frees the map, the socket, its rings and the UMEM (held frames become invalid). */
void sea__xdp_close(struct sea__xdp *x);

/*
 * Makes the XSKMAP for queues 0 to nqueues - 1 of ifname and loads the
 * program, not attached yet.  0, or a negative errno with p->err saying
 * what failed (the same as sea__xdp_open's); on failure nothing is left.
 */
int sea__xdp_prog_open(struct sea__xdp_prog *p, const char *ifname, unsigned nqueues);
/* Puts x's socket in the map at its queue (x->queue < p->nqueues): 0 or a negative errno (p->err). */
int sea__xdp_prog_add(struct sea__xdp_prog *p, const struct sea__xdp *x);
/*
 * Attaches the program to the interface (attach: enum sea__xdp_attach)
 * through a BPF link that lives as long as the program's owner: 0, or a
 * negative errno (-EBUSY: the hook holds another program) with p->err.
 */
int sea__xdp_prog_attach(struct sea__xdp_prog *p, int attach);
/* Detaches the program (if attached) and frees it and the map; the sockets stay their owners'. */
void sea__xdp_prog_close(struct sea__xdp_prog *p);
/*
 * How many receive queues ifname has (ETHTOOL_GCHANNELS: its RX and
 * combined channels), or a negative errno (-EOPNOTSUPP: the driver does not
 * say; a bind to a queue it lacks then fails with -EINVAL).
 */
int sea__xdp_rx_queues(const char *ifname);
/*
 * One frame copied into buf: its length, -EAGAIN when none is queued, or
 * -EMSGSIZE for a frame larger than cap (dropped, counted in rx_truncated).
 * The frame goes back on the fill ring at once.
 */
ssize_t sea__xdp_recv(struct sea__xdp *x, void *buf, size_t cap);
/*
 * Takes the next received frame in place, without a copy: 0 and *f, or
 * -EAGAIN.  The frame's memory is the caller's until sea__xdp_recv_release,
 * in any order; the kernel can fill only the frames given back, so one
 * held forever is one receive frame fewer (and with all held, the kernel
 * drops what arrives, counted in rx_fill_empty).
 */
int sea__xdp_recv_hold(struct sea__xdp *x, struct sea__xdp_frame *f);
/* Gives a held frame back to the kernel (the fill ring) to receive into again. */
void sea__xdp_recv_release(struct sea__xdp *x, const struct sea__xdp_frame *f);
/*
 * Instead of sea__xdp_recv_release: the frame as a buffer (*out, its bytes
 * from f->data to the end of its UMEM frame) that goes back on the fill
 * ring when its last reference is released, so that what it carries can
 * be kept without a copy.  At most a quarter of the receive frames are
 * kept at a time, so the kernel always has frames to fill: beyond that
 * -EBUSY (or -ENOMEM), and the caller releases the frame as usual.  The
 * buffer may outlive sea__xdp_close: the UMEM is then unmapped when the
 * last kept frame is released.  A buffer belongs to the shard that made it.
 */
int sea__xdp_recv_keep(struct sea__xdp *x, const struct sea__xdp_frame *f, sea_buf *out);
/*
 * Sends one frame (copied into a free UMEM frame): 0, or a negative errno
 * with the frame dropped and counted (-ENOBUFS: every send frame is in
 * flight, -EMSGSIZE: larger than a frame).  Sent frames whose transmission
 * the kernel has completed are reclaimed here, first.
 */
int sea__xdp_send(struct sea__xdp *x, const void *frame, size_t len);
/*
 * The same without starting transmission: the frame waits on the TX ring
 * for sea__xdp_flush (or the next sea__xdp_send), so that the frames of a
 * loop turn go with one system call instead of one each (copy mode's
 * sendto).  Its errors are sea__xdp_send's but the kick's.
 */
int sea__xdp_send_later(struct sea__xdp *x, const void *frame, size_t len);
/* Starts transmission of the frames sea__xdp_send_later queued, if any: 0, or the kick's error (counted). */
int sea__xdp_flush(struct sea__xdp *x);
/* A future that resolves when a frame can be received, or fails with SEA_ECANCELED when as aborts. */
sea_future sea__xdp_wait(struct sea__xdp *x, sea_abort_source *as) SEA_MUST_USE;
/* Reads the kernel's counters for the socket (XDP_STATISTICS) into x->stats: 0 or a negative errno. */
int sea__xdp_kernel_stats(struct sea__xdp *x);

#endif
