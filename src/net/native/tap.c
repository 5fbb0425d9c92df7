/*
 * net/native/tap.c - the native stack's TAP device: one queue of a Linux TAP
 * interface, non-blocking, frames in and out, with counters.
 *
 * One queue, which the shard that opened it owns; with several shards each
 * opens its own queue of a multi-queue device (IFF_MULTI_QUEUE), and a
 * steering program (sea__tap_steer) makes the kernel put each TCP flow's
 * frames on the queue of the shard that owns the flow.  No
 * packet-information header: a read is one Ethernet frame, as wire.h parses
 * it, behind a virtio net header when the offloads were asked for.
 *
 * The offloads are why that header is worth having: the kernel's TCP then
 * hands over segments of up to 64 KiB as it built them (one read instead of
 * forty-five) with the checksum left unfinished (it never left the
 * machine's memory), and takes sea's large segments to cut into MTU-sized
 * frames itself, checksumming them as it copies.  The header's fields are
 * in the machine's byte order (TUNSETVNETLE is not used: x86-64 and aarch64
 * Linux are little-endian, as legacy virtio is there).
 */
#include "net/native/native.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/io.h"

int sea__tap_open(struct sea__tap *t, const char *name) {
    return sea__tap_open_queue(t, name, 0);
}

/* Asks for checksum and segmentation offloads, then for checksums alone: what the kernel took (0: none). */
static unsigned offloads_set(int fd) {
    static const unsigned tries[] = {TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM};
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
        if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0)
            return tries[i];
    ioctl(fd, TUNSETOFFLOAD, 0ul); /* (a device left with offloads by an earlier run, taken back) */
    return 0;
}

int sea__tap_open_queue(struct sea__tap *t, const char *name, unsigned flags) {
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    if (!name || !*name || strlen(name) >= IFNAMSIZ)
        return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (flags & SEA__TAP_MULTI_QUEUE ? IFF_MULTI_QUEUE : 0) |
                            (flags & SEA__TAP_OFFLOADS ? IFF_VNET_HDR : 0));
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    t->fd = fd;
    memcpy(t->name, ifr.ifr_name, sizeof(t->name) - 1);
    if (flags & SEA__TAP_OFFLOADS) {
        int size = (int)sizeof(struct virtio_net_hdr); /* the default, said: a persistent device may hold another */
        if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) {
            int err = -errno;
            close(fd);
            t->fd = -1;
            return err;
        }
        t->vnet = true;
        t->offloads = offloads_set(fd);
    } else {
        ioctl(fd, TUNSETOFFLOAD, 0ul); /* plain frames only: no offload left on by an earlier run */
    }
    return 0;
}

void sea__tap_close(struct sea__tap *t) {
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

ssize_t sea__tap_recv(struct sea__tap *t, void *buf, size_t cap, struct sea__frame_meta *meta) {
    struct virtio_net_hdr h;
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof(h)}, {.iov_base = buf, .iov_len = cap}};
    ssize_t n = t->vnet ? readv(t->fd, iov, 2) : read(t->fd, buf, cap);
    if (n < 0) {
        int err = errno;
        if (err != EAGAIN && err != EINTR)
            t->stats.rx_errors++;
        return err == EINTR ? -EAGAIN : -err;
    }
    struct sea__frame_meta m = {0};
    if (t->vnet) {
        if ((size_t)n < sizeof(h)) {
            t->stats.rx_errors++;
            n = 0;
        } else {
            n -= (ssize_t)sizeof(h);
            m.csum_verified = h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID);
            /* Only what was asked for comes (TSO4): anything else stays 0 and the frame is parsed as any other. */
            if ((h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4) {
                m.gso_size = h.gso_size;
                t->stats.rx_gso++;
            }
        }
    }
    if (meta)
        *meta = m;
    t->stats.rx_frames++;
    t->stats.rx_bytes += (uint64_t)n;
    return n;
}

/* The virtio net header asking for what meta says, of an Ethernet + IPv4 + TCP frame. */
static void vnet_header(struct virtio_net_hdr *h, const uint8_t *frame, size_t len, const struct sea__frame_meta *m) {
    memset(h, 0, sizeof(*h));
    if (!m || !(m->csum_partial || m->gso_size) || len < 14 + 20)
        return;
    size_t l4 = 14 + (size_t)(frame[14] & 0x0f) * 4;
    if (len < l4 + 20)
        return;
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)l4;
    h->csum_offset = 16; /* the TCP checksum's place */
    if (m->gso_size) {
        h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h->gso_size = m->gso_size;
        h->hdr_len = (uint16_t)(l4 + (size_t)(frame[l4 + 12] >> 4) * 4);
    }
}

int sea__tap_send_v(struct sea__tap *t, const void *head, size_t hlen, const struct iovec *rest, int nrest,
                    size_t rest_len, const struct sea__frame_meta *meta) {
    /* A full queue drops the frame, as a NIC's full ring would: the protocols above retry if they must. */
    struct iovec iov[2 + SEA__TAP_IOV_MAX];
    struct virtio_net_hdr h;
    int k = 0;
    if (nrest < 0 || nrest > SEA__TAP_IOV_MAX)
        return -EINVAL;
    if (t->vnet) {
        vnet_header(&h, head, hlen, meta);
        iov[k++] = (struct iovec){.iov_base = &h, .iov_len = sizeof(h)};
    }
    /* (writev takes iovecs of non-const memory; it only reads them) */
    iov[k++] = (struct iovec){.iov_base = (void *)(uintptr_t)head, .iov_len = hlen};
    for (int i = 0; i < nrest; i++)
        iov[k++] = rest[i];
    size_t want = (t->vnet ? sizeof(h) : 0) + hlen + rest_len, len = hlen + rest_len;
    ssize_t n = writev(t->fd, iov, k);
    if (n < 0 || (size_t)n != want) {
        t->stats.tx_dropped++;
        return n < 0 ? -errno : -EIO;
    }
    if (meta && meta->gso_size)
        t->stats.tx_gso++;
    t->stats.tx_frames++;
    t->stats.tx_bytes += len;
    return 0;
}

int sea__tap_send(struct sea__tap *t, const void *frame, size_t len, const struct sea__frame_meta *meta) {
    return sea__tap_send_v(t, frame, len, NULL, 0, 0, meta);
}

sea_future sea__tap_wait(struct sea__tap *t, sea_abort_source *as) {
    /* Not sticky: the descriptor is the caller's, who closes it only once this has resolved. */
    struct sea__io q = {.op = SEA__IO_POLL, .fd = t->fd, .events = SEA_POLLIN};
    return sea__io_submit(&q, as);
}

/* ---- steering: which queue the kernel puts a frame on ---- */

static int bpf_call(int cmd, union bpf_attr *attr) {
    long rc = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
    return rc < 0 ? -errno : (int)rc;
}

/* One instruction: code, dst, src, off, imm. */
#define INSN(c, d, s_, o, i) {.code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i)}

/* BPF_TCX_EGRESS (enum bpf_attach_type, kernel 6.6), which older headers lack. */
#define TCX_EGRESS 47

/*
 * The hash in BPF, for both steering programs: it leaves
 * sea__steer_hash(source, destination, source port, destination port)
 * % nqueues in r0 for IPv4 TCP (any IHL), at instruction 25, and jumps to
 * instruction 26 for everything else (queue 0).  LD_ABS and LD_IND load in
 * network order and give host order, as the C function takes its
 * arguments; a frame too short for a load ends the program with 0, which
 * the TAP's program takes as queue 0 and the tc one as "pass", where
 * anything odd should go.  Returns how many instructions it wrote (25).
 */
static size_t steer_hash_insns(struct bpf_insn *out, unsigned nqueues) {
    const int r0 = BPF_REG_0, r1 = BPF_REG_1, r6 = BPF_REG_6, r7 = BPF_REG_7, r8 = BPF_REG_8;
    const struct bpf_insn insns[] = {
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, r6, r1, 0, 0),      /* r6 = skb (LD_ABS/LD_IND use it) */
        INSN(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12),          /* r0 = EtherType */
        INSN(BPF_JMP | BPF_JNE | BPF_K, r0, 0, 23, 0x0800),   /* not IPv4: queue 0 (instruction 26) */
        INSN(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 14 + 9),      /* r0 = protocol */
        INSN(BPF_JMP | BPF_JNE | BPF_K, r0, 0, 21, 6),        /* not TCP: queue 0 */
        INSN(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 14 + 6),      /* r0 = flags and fragment offset */
        INSN(BPF_JMP | BPF_JSET | BPF_K, r0, 0, 19, 0x3fff),  /* a fragment: queue 0 */
        INSN(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 14),          /* r0 = version and IHL */
        INSN(BPF_ALU64 | BPF_AND | BPF_K, r0, 0, 0, 0x0f),
        INSN(BPF_ALU64 | BPF_LSH | BPF_K, r0, 0, 0, 2),
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, r7, r0, 0, 0),      /* r7 = the IPv4 header's length */
        INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 14 + 12),     /* r0 = source address */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, r8, r0, 0, 0),
        INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 14 + 16),     /* r0 = destination address */
        INSN(BPF_ALU | BPF_XOR | BPF_X, r8, r0, 0, 0),
        INSN(BPF_LD | BPF_IND | BPF_W, 0, r7, 0, 14),         /* r0 = source port << 16 | destination port */
        INSN(BPF_ALU | BPF_XOR | BPF_X, r8, r0, 0, 0),
        INSN(BPF_ALU | BPF_MOV | BPF_X, r0, r8, 0, 0),        /* x ^= x >> 16 */
        INSN(BPF_ALU | BPF_RSH | BPF_K, r0, 0, 0, 16),
        INSN(BPF_ALU | BPF_XOR | BPF_X, r8, r0, 0, 0),
        INSN(BPF_ALU | BPF_MUL | BPF_K, r8, 0, 0, 0x45d9f3b), /* x *= 0x45d9f3b */
        INSN(BPF_ALU | BPF_MOV | BPF_X, r0, r8, 0, 0),        /* x ^= x >> 16 */
        INSN(BPF_ALU | BPF_RSH | BPF_K, r0, 0, 0, 16),
        INSN(BPF_ALU | BPF_XOR | BPF_X, r0, r8, 0, 0),
        INSN(BPF_ALU | BPF_MOD | BPF_K, r0, 0, 0, (int32_t)nqueues),
    };
    memcpy(out, insns, sizeof(insns));
    return sizeof(insns) / sizeof(insns[0]);
}

static int steer_load(const struct bpf_insn *insns, size_t n, uint32_t type, uint32_t attach, const char *name) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = type;
    a.expected_attach_type = attach;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = (uint32_t)n;
    a.license = (uint64_t)(uintptr_t) "GPL";
    memcpy(a.prog_name, name, strlen(name) + 1);
    return bpf_call(BPF_PROG_LOAD, &a);
}

int sea__tap_steer_prog(unsigned nqueues) {
    if (nqueues < 1)
        return -EINVAL;
    /*
     * A socket filter the kernel runs on each frame it sends to the device;
     * its result is the queue (TUNSETSTEERINGEBPF).
     */
    struct bpf_insn insns[32];
    size_t n = steer_hash_insns(insns, nqueues);
    const struct bpf_insn tail[] = {
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                    /* 25: the flow's queue */
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),   /* 26: queue 0 */
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    memcpy(insns + n, tail, sizeof(tail));
    n += sizeof(tail) / sizeof(tail[0]);
    return steer_load(insns, n, BPF_PROG_TYPE_SOCKET_FILTER, 0, "sea_steer");
}

int sea__steer_prog_tc(unsigned nqueues) {
    if (nqueues < 1 || nqueues > 65535)
        return -EINVAL;
    /*
     * A tc program on the sending side of a link, run before the kernel
     * picks the transmit queue.  The kernel picks it afterwards all the same
     * (only tc's skbedit action can tell it not to), but a nonzero
     * skb->queue_mapping is to it the queue a frame was received on, plus
     * one, which it keeps (skb_tx_hash): so the program writes the queue
     * plus one, and the frame leaves on that queue.
     */
    struct bpf_insn insns[40];
    size_t n = steer_hash_insns(insns, nqueues);
    const struct bpf_insn tail[] = {
        INSN(BPF_JMP | BPF_JA, 0, 0, 1, 0),                      /* 25: the flow's queue, past ... */
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),   /* 26: ... queue 0 */
        INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_0, 0, 0, 1),   /* plus one */
        INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_0, (int16_t)offsetof(struct __sk_buff, queue_mapping), 0),
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),   /* TC_ACT_OK (TCX_PASS): on as usual */
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    memcpy(insns + n, tail, sizeof(tail));
    n += sizeof(tail) / sizeof(tail[0]);
    return steer_load(insns, n, BPF_PROG_TYPE_SCHED_CLS, TCX_EGRESS, "sea_steer_tc");
}

int sea__tap_steer(struct sea__tap *t, unsigned nqueues) {
    if (nqueues < 2) { /* none: the kernel's own choice (a program left by an earlier run is taken off) */
        int none = -1;
        return ioctl(t->fd, TUNSETSTEERINGEBPF, &none) < 0 ? -errno : 0;
    }
    int fd = sea__tap_steer_prog(nqueues);
    if (fd < 0)
        return fd;
    int rc = ioctl(t->fd, TUNSETSTEERINGEBPF, &fd) < 0 ? -errno : 0;
    close(fd); /* the device holds its own reference */
    return rc;
}

#undef INSN
