/*
 * net/native/tap.c - the native stack's TAP device: one queue of a Linux TAP
 * interface, non-blocking, frames in and out, with counters.
 *
 * One queue, which the shard that opened it owns; with several shards each
 * opens its own queue of a multi-queue device (IFF_MULTI_QUEUE), and a
 * steering program (sea__tap_steer) makes the kernel put each TCP flow's
 * frames on the queue of the shard that owns the flow.  No
 * packet-information header and no virtio net header: a read is exactly one
 * Ethernet frame, as wire.h parses it.
 */
#include "net/native/native.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/io.h"

int sea__tap_open(struct sea__tap *t, const char *name) {
    return sea__tap_open_queue(t, name, false);
}

int sea__tap_open_queue(struct sea__tap *t, const char *name, bool multi_queue) {
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    if (!name || !*name || strlen(name) >= IFNAMSIZ)
        return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0));
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    t->fd = fd;
    memcpy(t->name, ifr.ifr_name, sizeof(t->name) - 1);
    return 0;
}

void sea__tap_close(struct sea__tap *t) {
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

ssize_t sea__tap_recv(struct sea__tap *t, void *buf, size_t cap) {
    ssize_t n = read(t->fd, buf, cap);
    if (n < 0) {
        int err = errno;
        if (err != EAGAIN && err != EINTR)
            t->stats.rx_errors++;
        return err == EINTR ? -EAGAIN : -err;
    }
    t->stats.rx_frames++;
    t->stats.rx_bytes += (uint64_t)n;
    return n;
}

int sea__tap_send(struct sea__tap *t, const void *frame, size_t len) {
    /* A full queue drops the frame, as a NIC's full ring would: the protocols above retry if they must. */
    ssize_t n = write(t->fd, frame, len);
    if (n < 0 || (size_t)n != len) {
        t->stats.tx_dropped++;
        return n < 0 ? -errno : -EIO;
    }
    t->stats.tx_frames++;
    t->stats.tx_bytes += len;
    return 0;
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

int sea__tap_steer_prog(unsigned nqueues) {
    if (nqueues < 1)
        return -EINVAL;
    /*
     * A socket filter the kernel runs on each frame it sends to the device;
     * its result is the queue (TUNSETSTEERINGEBPF).  It is
     * sea__steer_hash(source, destination, source port, destination port)
     * % nqueues for IPv4 TCP (any IHL), and queue 0 for everything else.
     * LD_ABS and LD_IND load in network order and give host order, as the
     * C function takes its arguments; a frame too short for a load ends the
     * program with 0 (queue 0), which is where anything odd should go.
     */
    const int r0 = BPF_REG_0, r1 = BPF_REG_1, r6 = BPF_REG_6, r7 = BPF_REG_7, r8 = BPF_REG_8;
    struct bpf_insn insns[] = {
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, r6, r1, 0, 0),      /* r6 = skb (LD_ABS/LD_IND use it) */
        INSN(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12),          /* r0 = EtherType */
        INSN(BPF_JMP | BPF_JNE | BPF_K, r0, 0, 23, 0x0800),   /* not IPv4: queue 0 (the last two) */
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
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, r0, 0, 0, 0),       /* queue 0 */
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
    a.license = (uint64_t)(uintptr_t) "GPL";
    memcpy(a.prog_name, "sea_steer", sizeof("sea_steer"));
    return bpf_call(BPF_PROG_LOAD, &a);
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
