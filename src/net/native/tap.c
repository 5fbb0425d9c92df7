/*
 * net/native/tap.c - the native stack's TAP device: one queue of a Linux TAP
 * interface, non-blocking, frames in and out, with counters.
 *
 * One queue, which the shard that opened it owns (shard 0 in native_ping):
 * multi-queue (IFF_MULTI_QUEUE, a queue per shard) comes with steering
 * between shards, later in issue 19.  No packet-information header and no
 * virtio net header: a read is exactly one Ethernet frame, as wire.h parses it.
 */
#include "net/native/native.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/io.h"

int sea__tap_open(struct sea__tap *t, const char *name) {
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    if (!name || !*name || strlen(name) >= IFNAMSIZ)
        return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
