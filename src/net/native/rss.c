/*
 * net/native/rss.c - a NIC's receive-side scaling, computed in software:
 * the Toeplitz hash with the device's key and its indirection table, read
 * with the ethtool ioctls, so that a shard knows which queue (and so which
 * shard) the NIC puts a flow on.
 *
 * With AF_XDP on a NIC, shard i serves queue i, and the NIC, not sea,
 * decides each frame's queue.  Knowing its function lets the stack name a
 * flow's owner the way the NIC will (a frame that lands elsewhere anyway is
 * forwarded), and lets connect pick a local port whose answers the NIC
 * brings to the calling shard, as Seastar does.  A device without RSS (a
 * veth, loopback) says so (-EOPNOTSUPP) and sea's own hash steers instead
 * (the TAP's program, or veth_steer).
 */
#include "net/native/native.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ETH_RSS_HASH_TOP, the Toeplitz function's bit in hfunc (the kernel's ethtool_stringset; not in older uapi headers). */
#define RSS_HASH_TOEPLITZ 1u

uint32_t sea__toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n) {
    /*
     * For each set bit of the input, from the most significant of its first
     * byte on, the hash takes in the 32 bits of the key that start at that
     * bit's position (Microsoft's RSS specification).  The key must be at
     * least n + 4 bytes long.
     */
    if (key_len < n + 4)
        return 0;
    uint32_t h = 0;
    uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
    for (size_t i = 0; i < n; i++) {
        for (int b = 7; b >= 0; b--) {
            if (in[i] >> b & 1)
                h ^= window;
            window = window << 1 | (uint32_t)(key[i + 4] >> b & 1);
        }
    }
    return h;
}

unsigned sea__rss_queue(const struct sea__rss *r, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    uint8_t in[12] = {(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
                      (uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
                      (uint8_t)(sport >> 8),  (uint8_t)sport,       (uint8_t)(dport >> 8), (uint8_t)dport};
    uint32_t h = sea__toeplitz(r->key, r->key_len, in, r->ports ? 12 : 8);
    /* The NIC's table is indexed by the hash's low bits (its size a power of two on every NIC seen). */
    return r->indir_size ? r->indir[h % r->indir_size] : 0;
}

static int ethtool(int fd, const char *ifname, void *cmd) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    ifr.ifr_data = cmd;
    return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

int sea__rss_read(const char *ifname, struct sea__rss *out) {
    memset(out, 0, sizeof(*out));
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* First the sizes, then the table and the key (ETHTOOL_GRSSH). */
    struct ethtool_rxfh head = {.cmd = ETHTOOL_GRSSH};
    int rc = ethtool(fd, ifname, &head);
    if (rc == 0 && (!head.indir_size || head.key_size > sizeof(out->key) || head.key_size < 16))
        rc = -EOPNOTSUPP; /* no table, or a key sea cannot use */
    struct ethtool_rxfh *full = NULL;
    if (rc == 0) {
        full = calloc(1, sizeof(*full) + head.indir_size * sizeof(uint32_t) + head.key_size);
        rc = full ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        full->cmd = ETHTOOL_GRSSH;
        full->indir_size = head.indir_size;
        full->key_size = head.key_size;
        rc = ethtool(fd, ifname, full);
    }
    if (rc == 0 && full->hfunc && !(full->hfunc & RSS_HASH_TOEPLITZ))
        rc = -EOPNOTSUPP; /* a hash function other than Toeplitz (XOR, CRC32) */
    if (rc == 0 && !(out->indir = malloc(head.indir_size * sizeof(uint32_t))))
        rc = -ENOMEM;
    if (rc == 0) {
        memcpy(out->indir, full->rss_config, head.indir_size * sizeof(uint32_t));
        out->indir_size = head.indir_size;
        memcpy(out->key, (const uint8_t *)(full->rss_config + head.indir_size), head.key_size);
        out->key_len = head.key_size;
        /* Whether TCP over IPv4 hashes the ports too (almost always); assumed when the device will not say. */
        struct ethtool_rxnfc fields = {.cmd = ETHTOOL_GRXFH, .flow_type = TCP_V4_FLOW};
        out->ports = ethtool(fd, ifname, &fields) < 0 || (fields.data & (RXH_L4_B_0_1 | RXH_L4_B_2_3));
    }
    free(full);
    close(fd);
    if (rc < 0)
        sea__rss_free(out);
    return rc;
}

void sea__rss_free(struct sea__rss *r) {
    free(r->indir);
    memset(r, 0, sizeof(*r));
}
