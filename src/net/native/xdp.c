/*
 * net/native/xdp.c - the native stack's AF_XDP device: one queue of an
 * interface, its frames redirected by a tiny XDP program to an AF_XDP
 * socket, received and sent through the socket's UMEM and four rings; and
 * that program on its own (sea__xdp_prog_*), for one socket on each of
 * several queues of an interface.
 *
 * No libbpf or libxdp: the program is six instructions written out below,
 * the map, the program and its attachment are three bpf(2) calls, and the
 * rings are four mmaps with acquire/release on their indices.  That keeps
 * sea's build free of a library (and its version) for what is a fixed,
 * tiny program; docs/native-devices.md has the details and the limits.
 *
 * The UMEM is split in two fixed halves: the receive frames (on the fill
 * ring, the RX ring, or held by the caller) and the send frames (free, on
 * the TX ring, or awaiting completion).  Each ring is as large as its half,
 * so putting a frame back on the fill ring, or a send on the TX ring when a
 * send frame is free, always finds room.
 */
#include "net/native/xdp.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sea/error.h>

#include "core/io.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* ---- errors: a negative errno, and what failed in x->err ---- */

static int fail_in(char *buf, size_t len, int err, const char *what) {
    snprintf(buf, len, "%s: %s (%s)", what, sea_errname(err), sea_strerror(err));
    return err;
}

static int fail(struct sea__xdp *x, int err, const char *what) {
    return fail_in(x->err, sizeof(x->err), err, what);
}

static int pfail(struct sea__xdp_prog *p, int err, const char *what) {
    return fail_in(p->err, sizeof(p->err), err, what);
}

/* ---- the rings ---- */

/* The kernel writes the other index concurrently: acquire what it published, release what we publish. */
static inline uint32_t ring_load(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void ring_store(uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
/*
 * Whether the kernel asked for a kick.  The full fence orders our index
 * store before this read: the kernel sets the flag and then looks at the
 * ring again, so one of the two sides always sees the other.
 */
static inline bool ring_needs_wakeup(const struct sea__xdp_ring *r) {
#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer refuses fences: an atomic read-modify-write that changes nothing orders the same way. */
    return (__atomic_fetch_or(r->flags, 0, __ATOMIC_SEQ_CST) & XDP_RING_NEED_WAKEUP) != 0;
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return (__atomic_load_n(r->flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP) != 0;
#endif
}

static int ring_map(struct sea__xdp *x, struct sea__xdp_ring *r, const struct xdp_ring_offset *off, uint32_t size,
                    size_t entry, off_t pgoff, const char *what) {
    r->map_len = off->desc + (size_t)size * entry;
    void *m = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, x->fd, pgoff);
    if (m == MAP_FAILED) {
        r->map = NULL;
        return fail(x, -errno, what);
    }
    r->map = m;
    r->producer = (uint32_t *)((char *)m + off->producer);
    r->consumer = (uint32_t *)((char *)m + off->consumer);
    r->flags = (uint32_t *)((char *)m + off->flags);
    r->descs = (char *)m + off->desc;
    r->size = size;
    r->mask = size - 1;
    r->cached = 0;
    return 0;
}

static void ring_unmap(struct sea__xdp_ring *r) {
    if (r->map)
        munmap(r->map, r->map_len);
    r->map = NULL;
}

/* ---- bpf(2): the map, the program, its attachment ---- */

static int bpf(int cmd, union bpf_attr *attr) {
    long rc = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
    return rc < 0 ? -errno : (int)rc;
}

static int make_map(struct sea__xdp_prog *x) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_type = BPF_MAP_TYPE_XSKMAP;
    a.key_size = 4;   /* the queue index */
    a.value_size = 4; /* the socket's descriptor, on update */
    a.max_entries = x->nqueues;
    memcpy(a.map_name, "sea_xsks", sizeof("sea_xsks"));
    int fd = bpf(BPF_MAP_CREATE, &a);
    if (fd < 0)
        return pfail(x, fd, "bpf(BPF_MAP_CREATE, XSKMAP)");
    x->map_fd = fd;
    return 0;
}

static int load_prog(struct sea__xdp_prog *x) {
    /*
     * return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
     * The low bits of the flags are the action when the map holds no socket
     * at that index: the other queues' frames (and ours, before the socket
     * is in the map) go on to the kernel's stack as if there were no program.
     */
    struct bpf_insn insns[] = {
        /* r2 = ctx->rx_queue_index (r1 is the context, a struct xdp_md) */
        {.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1,
         .off = (int16_t)offsetof(struct xdp_md, rx_queue_index)},
        /* r1 = the map: a 64-bit load in two instructions, the fd replaced by the map at load time */
        {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = x->map_fd},
        {.code = 0},
        /* r3 = XDP_PASS */
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = XDP_PASS},
        /* r0 = bpf_redirect_map(r1, r2, r3) */
        {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map},
        {.code = BPF_JMP | BPF_EXIT},
    };
    /* The verifier's reasons, for x->err when it refuses; allocated, as shards may open devices at once. */
    size_t log_size = 4096;
    char *log = malloc(log_size);
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_XDP;
    a.expected_attach_type = BPF_XDP;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
    a.license = (uint64_t)(uintptr_t) "GPL";
    if (log) {
        log[0] = 0;
        a.log_buf = (uint64_t)(uintptr_t)log;
        a.log_size = (uint32_t)log_size;
        a.log_level = 1;
    }
    memcpy(a.prog_name, "sea_xsk", sizeof("sea_xsk"));
    int fd = bpf(BPF_PROG_LOAD, &a);
    if (fd < 0) {
        pfail(x, fd, "bpf(BPF_PROG_LOAD)");
        if (log && log[0]) { /* the verifier's last line says why, before its "processed N insns" summary */
            size_t n = strlen(log);
            char *last = NULL;
            for (;;) {
                while (n && log[n - 1] == '\n')
                    log[--n] = 0;
                last = strrchr(log, '\n');
                if (!last || strncmp(last + 1, "processed ", 10) != 0)
                    break;
                *last = 0;
                n = (size_t)(last - log);
            }
            size_t used = strlen(x->err);
            snprintf(x->err + used, sizeof(x->err) - used, ": %s", last ? last + 1 : log);
        }
        free(log);
        return fd;
    }
    free(log);
    x->prog_fd = fd;
    return 0;
}

static int attach_prog(struct sea__xdp_prog *x, int attach) {
    /*
     * A BPF link, not netlink's IFLA_XDP: the attachment lives as long as
     * its descriptor, so a process that dies (SIGKILL, a crash) leaves no
     * program on the interface behind it, and one that finds the hook taken
     * fails (EBUSY) instead of replacing another's program.
     */
    static const uint32_t modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
    int rc = -EINVAL;
    for (int i = 0; i < 2; i++) {
        if ((attach == SEA__XDP_ATTACH_DRV && i == 1) || (attach == SEA__XDP_ATTACH_SKB && i == 0))
            continue;
        union bpf_attr a;
        memset(&a, 0, sizeof(a));
        a.link_create.prog_fd = (uint32_t)x->prog_fd;
        a.link_create.target_ifindex = x->ifindex;
        a.link_create.attach_type = BPF_XDP;
        a.link_create.flags = modes[i];
        rc = bpf(BPF_LINK_CREATE, &a);
        if (rc >= 0) {
            x->link_fd = rc;
            x->drv_mode = i == 0;
            return 0;
        }
        /* Only a driver without its own hook is worth the generic one; anything else fails the same there. */
        if (rc != -EOPNOTSUPP && rc != -EINVAL)
            break;
    }
    return pfail(x, rc, attach == SEA__XDP_ATTACH_SKB ? "bpf(BPF_LINK_CREATE, BPF_XDP, skb mode)"
                                                      : "bpf(BPF_LINK_CREATE, BPF_XDP)");
}

int sea__xdp_prog_open(struct sea__xdp_prog *p, const char *ifname, unsigned nqueues) {
    memset(p, 0, sizeof(*p));
    p->map_fd = p->prog_fd = p->link_fd = -1;
    p->nqueues = nqueues;
    if (!nqueues || nqueues > 65536)
        return pfail(p, -EINVAL, "the number of queues");
    p->ifindex = ifname ? if_nametoindex(ifname) : 0;
    if (!p->ifindex)
        return pfail(p, ifname ? -errno : -EINVAL, "if_nametoindex");
    int rc = make_map(p);
    if (rc >= 0)
        rc = load_prog(p);
    if (rc < 0) {
        char err[sizeof(p->err)];
        memcpy(err, p->err, sizeof(err));
        sea__xdp_prog_close(p);
        memcpy(p->err, err, sizeof(err));
    }
    return rc;
}

int sea__xdp_prog_add(struct sea__xdp_prog *p, const struct sea__xdp *x) {
    if (x->queue >= p->nqueues || x->ifindex != p->ifindex)
        return pfail(p, -EINVAL, "the socket's queue or interface");
    uint32_t key = x->queue, value = (uint32_t)x->fd;
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)p->map_fd;
    a.key = (uint64_t)(uintptr_t)&key;
    a.value = (uint64_t)(uintptr_t)&value;
    a.flags = BPF_ANY;
    int rc = bpf(BPF_MAP_UPDATE_ELEM, &a);
    return rc < 0 ? pfail(p, rc, "bpf(BPF_MAP_UPDATE_ELEM, XSKMAP)") : 0;
}

int sea__xdp_prog_attach(struct sea__xdp_prog *p, int attach) {
    if (attach < SEA__XDP_ATTACH_AUTO || attach > SEA__XDP_ATTACH_SKB)
        return pfail(p, -EINVAL, "attach");
    return attach_prog(p, attach);
}

void sea__xdp_prog_close(struct sea__xdp_prog *p) {
    /* The link first, so no frame is redirected to a socket that is going away. */
    if (p->link_fd >= 0)
        close(p->link_fd);
    if (p->prog_fd >= 0)
        close(p->prog_fd);
    if (p->map_fd >= 0)
        close(p->map_fd);
    p->link_fd = p->prog_fd = p->map_fd = -1;
}

int sea__xdp_rx_queues(const char *ifname) {
    if (!ifname || strlen(ifname) >= IFNAMSIZ)
        return -EINVAL;
    /* An ioctl on a socket, not /sys/class/net: that shows the namespace sysfs was mounted in, not ours. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    ifr.ifr_data = (void *)&ch;
    int rc = ioctl(s, SIOCETHTOOL, &ifr) < 0 ? -errno : (int)(ch.rx_count + ch.combined_count);
    close(s);
    return rc;
}

/* ---- the socket ---- */

static void socket_close(struct sea__xdp *x) {
    ring_unmap(&x->rx);
    ring_unmap(&x->tx);
    ring_unmap(&x->fill);
    ring_unmap(&x->comp);
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
}

/* The socket, its UMEM registered and rings made and mapped, bound to the queue with bind_flags. */
static int socket_open(struct sea__xdp *x, uint16_t bind_flags) {
    int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(x, -errno, "socket(AF_XDP)");
    x->fd = fd;
    struct xdp_umem_reg reg = {.addr = (uint64_t)(uintptr_t)x->umem, .len = x->umem_len, .chunk_size = x->frame_size};
    if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0)
        return fail(x, -errno, "setsockopt(XDP_UMEM_REG)");
    int half = (int)(x->frames / 2);
    static const struct {
        int opt;
        const char *what;
    } rings[] = {{XDP_UMEM_FILL_RING, "setsockopt(XDP_UMEM_FILL_RING)"},
                 {XDP_UMEM_COMPLETION_RING, "setsockopt(XDP_UMEM_COMPLETION_RING)"},
                 {XDP_RX_RING, "setsockopt(XDP_RX_RING)"},
                 {XDP_TX_RING, "setsockopt(XDP_TX_RING)"}};
    for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++)
        if (setsockopt(fd, SOL_XDP, rings[i].opt, &half, sizeof(half)) < 0)
            return fail(x, -errno, rings[i].what);
    struct xdp_mmap_offsets off;
    socklen_t len = sizeof(off);
    if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) < 0)
        return fail(x, -errno, "getsockopt(XDP_MMAP_OFFSETS)");
    if (len != sizeof(off)) /* a kernel before 5.4, without the rings' flags (and so without need_wakeup) */
        return fail(x, -EOPNOTSUPP, "getsockopt(XDP_MMAP_OFFSETS): no ring flags");
    int rc;
    if ((rc = ring_map(x, &x->fill, &off.fr, (uint32_t)half, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING,
                       "mmap(fill ring)")) < 0 ||
        (rc = ring_map(x, &x->comp, &off.cr, (uint32_t)half, sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING,
                       "mmap(completion ring)")) < 0 ||
        (rc = ring_map(x, &x->rx, &off.rx, (uint32_t)half, sizeof(struct xdp_desc), XDP_PGOFF_RX_RING,
                       "mmap(RX ring)")) < 0 ||
        (rc = ring_map(x, &x->tx, &off.tx, (uint32_t)half, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING,
                       "mmap(TX ring)")) < 0)
        return rc;
    /* The receive half of the UMEM goes on the fill ring before the bind, so the first frame finds room. */
    uint64_t *fill = x->fill.descs;
    for (uint32_t i = 0; i < (uint32_t)half; i++)
        fill[i] = (uint64_t)i * x->frame_size;
    x->fill.cached = (uint32_t)half;
    ring_store(x->fill.producer, x->fill.cached);
    struct sockaddr_xdp sa = {.sxdp_family = AF_XDP, .sxdp_flags = bind_flags, .sxdp_ifindex = x->ifindex,
                              .sxdp_queue_id = x->queue};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return fail(x, -errno, bind_flags & XDP_ZEROCOPY ? "bind(AF_XDP, XDP_ZEROCOPY)" : "bind(AF_XDP, XDP_COPY)");
    x->zerocopy = (bind_flags & XDP_ZEROCOPY) != 0;
    x->need_wakeup = (bind_flags & XDP_USE_NEED_WAKEUP) != 0;
    return 0;
}

/* ---- open and close ---- */

static bool power_of_two(uint32_t v) {
    return v && !(v & (v - 1));
}

int sea__xdp_open_socket(struct sea__xdp *x, const char *ifname, unsigned queue, const struct sea__xdp_options *opt) {
    memset(x, 0, sizeof(*x));
    x->fd = x->own.map_fd = x->own.prog_fd = x->own.link_fd = -1;
    struct sea__xdp_options o = opt ? *opt : (struct sea__xdp_options){0};
    x->frames = o.frames ? o.frames : SEA__XDP_FRAMES_DEFAULT;
    x->frame_size = o.frame_size ? o.frame_size : SEA__XDP_FRAME_SIZE_DEFAULT;
    x->queue = queue;
    long page = sysconf(_SC_PAGESIZE);
    if (!ifname || !*ifname || strlen(ifname) >= sizeof(x->name))
        return fail(x, -EINVAL, "the interface's name");
    if (!power_of_two(x->frames) || x->frames < 4 || x->frames > (1u << 20))
        return fail(x, -EINVAL, "frames: a power of two from 4 to 2^20");
    if (!power_of_two(x->frame_size) || x->frame_size < 2048 || x->frame_size > (uint32_t)page)
        return fail(x, -EINVAL, "frame_size: a power of two from 2048 to the page size");
    if (o.mode < SEA__XDP_MODE_AUTO || o.mode > SEA__XDP_MODE_ZEROCOPY || o.attach < SEA__XDP_ATTACH_AUTO ||
        o.attach > SEA__XDP_ATTACH_SKB || queue > 65535)
        return fail(x, -EINVAL, "options");
    memcpy(x->name, ifname, strlen(ifname) + 1);
    x->ifindex = if_nametoindex(ifname);
    if (!x->ifindex)
        return fail(x, -errno, "if_nametoindex");
    /* The interface's own MAC (best effort): frames for it are what reach the queue. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, x->name, sizeof(x->name));
        if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0)
            memcpy(x->mac, ifr.ifr_hwaddr.sa_data, 6);
        close(s);
    }

    x->umem_len = (size_t)x->frames * x->frame_size;
    void *m = mmap(NULL, x->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (m == MAP_FAILED) {
        x->umem = NULL;
        int rc = fail(x, -errno, "mmap(UMEM)");
        sea__xdp_close(x);
        return rc;
    }
    x->umem = m;
    uint32_t half = x->frames / 2;
    x->tx_free = malloc(sizeof(uint64_t) * half);
    if (!x->tx_free) {
        int rc = fail(x, -ENOMEM, "malloc(free send frames)");
        sea__xdp_close(x);
        return rc;
    }
    for (uint32_t i = 0; i < half; i++)
        x->tx_free[i] = (uint64_t)(half + i) * x->frame_size;
    x->tx_free_count = half;

    /*
     * Zero-copy first where allowed: a driver without it refuses the bind
     * (EOPNOTSUPP), and the socket is made again for copy mode rather than
     * bound a second time, so nothing depends on what a failed bind leaves.
     */
    int rc;
    if (o.mode == SEA__XDP_MODE_COPY) {
        rc = socket_open(x, XDP_COPY | XDP_USE_NEED_WAKEUP);
    } else {
        rc = socket_open(x, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP);
        if (rc < 0 && o.mode == SEA__XDP_MODE_AUTO && x->fd >= 0) {
            x->zerocopy_err = rc;
            socket_close(x);
            rc = socket_open(x, XDP_COPY | XDP_USE_NEED_WAKEUP);
        }
    }
    if (rc < 0) {
        char err[sizeof(x->err)];
        memcpy(err, x->err, sizeof(err));
        sea__xdp_close(x);
        memcpy(x->err, err, sizeof(err));
        return rc;
    }
    return 0;
}

int sea__xdp_open(struct sea__xdp *x, const char *ifname, unsigned queue, const struct sea__xdp_options *opt) {
    int rc = sea__xdp_open_socket(x, ifname, queue, opt);
    if (rc < 0)
        return rc;
    struct sea__xdp_prog *p = &x->own;
    rc = sea__xdp_prog_open(p, ifname, queue + 1);
    if (rc >= 0)
        rc = sea__xdp_prog_add(p, x); /* before the attachment: no frame of the queue reaches the kernel's stack first */
    if (rc >= 0)
        rc = sea__xdp_prog_attach(p, opt ? opt->attach : SEA__XDP_ATTACH_AUTO);
    if (rc < 0) {
        memcpy(x->err, p->err, sizeof(x->err));
        sea__xdp_close(x);
        return rc;
    }
    x->drv_mode = p->drv_mode;
    return 0;
}

/*
 * Frames given out as buffers: a slot per receive frame, whose address is
 * the buffer's free argument (the slot's index is the frame's).  It owns
 * the UMEM once the socket is closed with frames still out.
 */
struct sea__xdp_keep {
    struct sea__xdp *x; /* NULL once closed */
    uint8_t *umem;
    size_t umem_len;
    uint32_t frame_size, out, max;
    struct sea__xdp_keep **slots; /* slots[i] = this: &slots[i] is frame i's free argument */
};

void sea__xdp_close(struct sea__xdp *x) {
    sea__xdp_prog_close(&x->own); /* first, so no frame is redirected to a socket that is going away */
    socket_close(x);
    if (x->keep && x->keep->out) { /* frames still kept: the last one's release unmaps */
        x->keep->x = NULL;
        x->umem = NULL;
    } else if (x->keep) {
        free(x->keep->slots);
        free(x->keep);
    }
    x->keep = NULL;
    if (x->umem)
        munmap(x->umem, x->umem_len);
    x->umem = NULL;
    free(x->tx_free);
    x->tx_free = NULL;
    x->tx_free_count = 0;
}

/* ---- receive ---- */

int sea__xdp_recv_hold(struct sea__xdp *x, struct sea__xdp_frame *f) {
    struct sea__xdp_ring *r = &x->rx;
    if (r->cached == ring_load(r->producer)) {
        /*
         * Nothing received.  A zero-copy driver may be asleep until told the
         * fill ring has frames again; copy mode never asks.
         */
        if (x->need_wakeup && ring_needs_wakeup(&x->fill)) {
            x->stats.rx_kicks++;
            recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
        }
        return -EAGAIN;
    }
    /* The kernel made this descriptor from a frame of ours on the fill ring: it lies inside the UMEM. */
    const struct xdp_desc *d = (const struct xdp_desc *)r->descs + (r->cached & r->mask);
    f->addr = d->addr;
    f->len = d->len;
    f->data = x->umem + d->addr;
    /* The descriptor is copied out: its slot goes back to the kernel now, the frame on release. */
    ring_store(r->consumer, ++r->cached);
    x->stats.rx_frames++;
    x->stats.rx_bytes += f->len;
    return 0;
}

void sea__xdp_recv_release(struct sea__xdp *x, const struct sea__xdp_frame *f) {
    /* Room is certain: the fill ring holds as many entries as there are receive frames. */
    struct sea__xdp_ring *r = &x->fill;
    ((uint64_t *)r->descs)[r->cached & r->mask] = f->addr & ~(uint64_t)(x->frame_size - 1);
    ring_store(r->producer, ++r->cached);
}

static void kept_free(void *arg) {
    struct sea__xdp_keep **slot = arg, *k = *slot;
    uint32_t frame = (uint32_t)(slot - k->slots);
    k->out--;
    if (k->x) {
        struct sea__xdp_frame f = {.addr = (uint64_t)frame * k->frame_size};
        sea__xdp_recv_release(k->x, &f);
    } else if (!k->out) { /* the socket is gone and this was the last frame out */
        munmap(k->umem, k->umem_len);
        free(k->slots);
        free(k);
    }
}

int sea__xdp_recv_keep(struct sea__xdp *x, const struct sea__xdp_frame *f, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    uint32_t rx_frames = x->frames / 2; /* the receive half (socket_open) */
    if (!x->keep) {
        struct sea__xdp_keep *k = calloc(1, sizeof(*k));
        if (!k || !(k->slots = calloc(rx_frames, sizeof(*k->slots)))) {
            free(k);
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < rx_frames; i++)
            k->slots[i] = k;
        k->x = x;
        k->umem = x->umem;
        k->umem_len = x->umem_len;
        k->frame_size = x->frame_size;
        k->max = rx_frames / 4;
        x->keep = k;
    }
    struct sea__xdp_keep *k = x->keep;
    uint64_t base = f->addr & ~(uint64_t)(x->frame_size - 1);
    uint32_t frame = (uint32_t)(base / x->frame_size);
    if (k->out >= k->max || frame >= rx_frames) {
        x->stats.rx_keep_refused++;
        return -EBUSY;
    }
    size_t room = x->frame_size - (size_t)(f->addr - base);
    if (sea_buf_wrap(out, f->data, room, kept_free, &k->slots[frame]) < 0)
        return -ENOMEM;
    k->out++;
    x->stats.rx_kept++;
    return 0;
}

ssize_t sea__xdp_recv(struct sea__xdp *x, void *buf, size_t cap) {
    struct sea__xdp_frame f;
    int rc = sea__xdp_recv_hold(x, &f);
    if (rc < 0)
        return rc;
    ssize_t n = f.len;
    if (f.len > cap) {
        x->stats.rx_truncated++;
        n = -EMSGSIZE;
    } else {
        memcpy(buf, f.data, f.len);
    }
    sea__xdp_recv_release(x, &f);
    return n;
}

/* ---- send ---- */

/* Takes back the send frames whose transmission the kernel has completed. */
static void reap(struct sea__xdp *x) {
    struct sea__xdp_ring *r = &x->comp;
    uint32_t end = ring_load(r->producer);
    const uint64_t *addrs = r->descs;
    for (; r->cached != end; r->cached++)
        x->tx_free[x->tx_free_count++] = addrs[r->cached & r->mask];
    ring_store(r->consumer, r->cached);
}

/* Starts transmission if the kernel asked for it; the errors that only mean "later" leave the frames queued. */
static int kick_tx(struct sea__xdp *x) {
    if (x->need_wakeup && !ring_needs_wakeup(&x->tx))
        return 0;
    x->stats.tx_kicks++;
    if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
        return 0;
    int err = errno;
    return err == EAGAIN || err == EBUSY || err == ENOBUFS || err == ENETDOWN || err == EINTR ? 0 : -err;
}

/* Puts the frame on the TX ring; sent now (kick) or at the next sea__xdp_flush. */
static int send_frame(struct sea__xdp *x, const void *frame, size_t len, bool kick) {
    reap(x);
    struct sea__xdp_ring *r = &x->tx;
    int err = 0;
    if (len > x->frame_size || len == 0)
        err = -EMSGSIZE;
    else if (!x->tx_free_count || r->cached - ring_load(r->consumer) >= r->size)
        err = -ENOBUFS; /* the second cannot happen while the TX ring has a slot per send frame; kept as a guard */
    if (err) {
        x->stats.tx_dropped++;
        return err;
    }
    uint64_t addr = x->tx_free[--x->tx_free_count];
    memcpy(x->umem + addr, frame, len);
    struct xdp_desc *d = (struct xdp_desc *)r->descs + (r->cached & r->mask);
    d->addr = addr;
    d->len = (uint32_t)len;
    d->options = 0;
    ring_store(r->producer, ++r->cached);
    if (!kick) {
        x->tx_unkicked = true;
        x->stats.tx_frames++;
        x->stats.tx_bytes += len;
        return 0;
    }
    err = kick_tx(x);
    if (err) {
        /*
         * Not a "later": the kernel refused the frame or the socket is
         * broken.  Counted as dropped (though the descriptor, if the kernel
         * left it on the ring, may still go out with the next kick); its
         * frame comes back on the completion ring either way.
         */
        x->stats.tx_dropped++;
        return err;
    }
    x->stats.tx_frames++;
    x->stats.tx_bytes += len;
    return 0;
}

int sea__xdp_send(struct sea__xdp *x, const void *frame, size_t len) {
    return send_frame(x, frame, len, true);
}

int sea__xdp_send_later(struct sea__xdp *x, const void *frame, size_t len) {
    return send_frame(x, frame, len, false);
}

int sea__xdp_flush(struct sea__xdp *x) {
    if (!x->tx_unkicked)
        return 0;
    x->tx_unkicked = false;
    int err = kick_tx(x);
    if (err)
        x->stats.tx_dropped++; /* (the kernel refused: what was queued may still go with a later kick) */
    return err;
}

/* ---- waiting and counters ---- */

sea_future sea__xdp_wait(struct sea__xdp *x, sea_abort_source *as) {
    /* Frames a kick left queued ("later": EAGAIN, EBUSY) are kicked again before the shard sleeps. */
    if (x->tx.cached != ring_load(x->tx.consumer))
        (void)kick_tx(x);
    /* Not sticky: the socket is the caller's, who closes it only once this has resolved. */
    struct sea__io q = {.op = SEA__IO_POLL, .fd = x->fd, .events = SEA_POLLIN};
    return sea__io_submit(&q, as);
}

int sea__xdp_kernel_stats(struct sea__xdp *x) {
    struct xdp_statistics st;
    socklen_t len = sizeof(st);
    if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
        return -errno;
    x->stats.rx_fill_empty = st.rx_fill_ring_empty_descs;
    x->stats.rx_ring_full = st.rx_ring_full;
    x->stats.rx_dropped = st.rx_dropped;
    return 0;
}
