/*
 * net/native/frag.c - IPv4 fragment reassembly: a bounded table of the
 * datagrams in progress, each one buffer its fragments are copied into and
 * the list of the ranges held, which is all the overlap rule, the end rules
 * and completion need.  frag.h states the rules.
 */
#include "net/native/frag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The payload of a datagram with a 20-byte header can be at most this long. */
#define PAYLOAD_MAX (65535u - SEA__IPV4_HLEN)

struct range {
    uint32_t start, end; /* [start, end) of the payload */
};

struct sea__frag_dgram {
    struct sea__frag_dgram *older, *newer;
    uint64_t started; /* the time of its first fragment to arrive */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    bool has_first, has_last;
    /* The first fragment's header, once it came: the reassembled datagram's. */
    uint8_t header_len, tos, ttl;
    bool df;
    uint8_t options[40];
    uint32_t total;    /* the payload's length, once the last fragment came */
    uint32_t max_end;  /* the end of the furthest range held */
    uint32_t received; /* bytes held: the sum of the ranges, which never overlap */
    uint8_t *buf;      /* cap bytes; the ranges held are filled */
    size_t cap;
    size_t rec_size; /* this record's own size, ranges included */
    uint32_t nfrags;
    struct range r[]; /* nfrags ranges sorted by start, room for cfg.max_frags */
};

void sea__frag_init(struct sea__frag *t, const struct sea__frag_config *cfg) {
    memset(t, 0, sizeof(*t));
    if (cfg)
        t->cfg = *cfg;
    if (!t->cfg.max_datagrams)
        t->cfg.max_datagrams = SEA__FRAG_MAX_DATAGRAMS;
    if (!t->cfg.max_bytes)
        t->cfg.max_bytes = SEA__FRAG_MAX_BYTES;
    if (!t->cfg.timeout_ns)
        t->cfg.timeout_ns = SEA__FRAG_TIMEOUT_NS;
    if (!t->cfg.max_frags)
        t->cfg.max_frags = SEA__FRAG_MAX_FRAGS;
    if (t->cfg.max_frags > SEA__FRAG_MAX_FRAGS_LIMIT)
        t->cfg.max_frags = SEA__FRAG_MAX_FRAGS_LIMIT;
}

static void unlink_dgram(struct sea__frag *t, struct sea__frag_dgram *d) {
    if (d->older)
        d->older->newer = d->newer;
    else
        t->oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        t->newest = d->older;
    t->count--;
}

static void destroy(struct sea__frag *t, struct sea__frag_dgram *d) {
    t->bytes -= d->rec_size + d->cap;
    free(d->buf);
    free(d);
}

/* Drops a datagram in progress, counted in *counter. */
static void drop(struct sea__frag *t, struct sea__frag_dgram *d, uint64_t *counter) {
    unlink_dgram(t, d);
    destroy(t, d);
    (*counter)++;
}

void sea__frag_release(struct sea__frag *t) {
    if (t->done) {
        destroy(t, t->done);
        t->done = NULL;
    }
}

void sea__frag_free(struct sea__frag *t) {
    sea__frag_release(t);
    while (t->oldest) {
        struct sea__frag_dgram *d = t->oldest;
        unlink_dgram(t, d);
        destroy(t, d);
    }
}

size_t sea__frag_expire(struct sea__frag *t, uint64_t now) {
    size_t n = 0;
    /* Oldest first: the first one still live ends the walk (now never goes back). */
    while (t->oldest && now >= t->oldest->started && now - t->oldest->started >= t->cfg.timeout_ns) {
        drop(t, t->oldest, &t->stats.dropped_timeout);
        n++;
    }
    return n;
}

uint64_t sea__frag_next_expiry(const struct sea__frag *t) {
    if (!t->oldest)
        return UINT64_MAX;
    uint64_t s = t->oldest->started;
    return s > UINT64_MAX - t->cfg.timeout_ns ? UINT64_MAX : s + t->cfg.timeout_ns;
}

/*
 * Makes room for need more bytes by dropping the oldest datagrams but keep;
 * false (nothing dropped) when even all of them would not make enough.
 */
static bool make_room(struct sea__frag *t, size_t need, const struct sea__frag_dgram *keep) {
    size_t kept = keep ? keep->rec_size + keep->cap : 0;
    if (need > t->cfg.max_bytes || kept > t->cfg.max_bytes - need)
        return false;
    while (t->bytes + need > t->cfg.max_bytes) {
        struct sea__frag_dgram *v = t->oldest == keep ? keep->newer : t->oldest;
        drop(t, v, &t->stats.dropped_limit); /* (v exists: the others hold more than need - room) */
    }
    return true;
}

/* The refusals that need no datagram: 0, or the negative errno. */
static int check_alone(const struct sea__ipv4 *ip) {
    size_t off = ip->frag_offset, len = ip->payload_len, end = off + len;
    if (!ip->mf && off == 0)
        return -EINVAL; /* a whole datagram, not a fragment */
    if (len == 0 || off % 8 || (ip->mf && len % 8))
        return -EINVAL;
    if (ip->header_len < SEA__IPV4_HLEN || ip->header_len > 60 || ip->options_len != ip->header_len - 20u)
        return -EINVAL; /* (sea__ipv4_parse never gives these) */
    if (end > PAYLOAD_MAX)
        return -EMSGSIZE;
    if (off == 0) {
        /* RFC 1858: a first fragment must hold the transport's header, so no filter can be fooled by a tiny one. */
        if (len < (ip->proto == SEA__IP_TCP ? SEA__TCP_HLEN : 8u))
            return -EINVAL;
        if (ip->header_len + end > 65535)
            return -EMSGSIZE;
    }
    return 0;
}

static struct sea__frag_dgram *find(struct sea__frag *t, const struct sea__ipv4 *ip) {
    for (struct sea__frag_dgram *d = t->newest; d; d = d->older)
        if (d->id == ip->id && d->src == ip->src && d->dst == ip->dst && d->proto == ip->proto)
            return d;
    return NULL;
}

/* A new, empty datagram for ip's key, making room for it; NULL with *rc set (and counted) when there is none. */
static struct sea__frag_dgram *start(struct sea__frag *t, const struct sea__ipv4 *ip, uint64_t now, int *rc) {
    size_t rec_size = sizeof(struct sea__frag_dgram) + (size_t)t->cfg.max_frags * sizeof(struct range);
    if (rec_size <= t->cfg.max_bytes && t->count >= t->cfg.max_datagrams)
        drop(t, t->oldest, &t->stats.dropped_limit);
    if (!make_room(t, rec_size, NULL)) {
        t->stats.dropped_limit++;
        *rc = -ENOBUFS;
        return NULL;
    }
    struct sea__frag_dgram *d = malloc(rec_size);
    if (!d) {
        t->stats.dropped_limit++;
        *rc = -ENOMEM;
        return NULL;
    }
    memset(d, 0, sizeof(*d));
    d->started = now;
    d->src = ip->src;
    d->dst = ip->dst;
    d->id = ip->id;
    d->proto = ip->proto;
    d->rec_size = rec_size;
    d->older = t->newest;
    if (t->newest)
        t->newest->newer = d;
    else
        t->oldest = d;
    t->newest = d;
    t->count++;
    t->bytes += rec_size;
    return d;
}

/* Grows d's buffer to hold at least end bytes; false when it cannot (the caller drops d). */
static bool grow(struct sea__frag *t, struct sea__frag_dgram *d, uint32_t end, bool last, int *rc) {
    if (d->cap >= end)
        return true;
    /*
     * Exactly the length once it is known; else doubling (fewer copies for
     * fragments in order) up to the most a payload can be, but only into room
     * that is free: other datagrams are dropped for bytes needed, never for
     * bytes reserved.
     */
    size_t limit = d->has_last ? d->total : last ? end : PAYLOAD_MAX;
    size_t want = d->cap * 2 > end ? d->cap * 2 : end;
    if (want > limit)
        want = limit;
    if (t->bytes + (want - d->cap) > t->cfg.max_bytes)
        want = end;
    if (!make_room(t, want - d->cap, d)) {
        *rc = -ENOBUFS;
        return false;
    }
    uint8_t *b = realloc(d->buf, want);
    if (!b) {
        *rc = -ENOMEM;
        return false;
    }
    t->bytes += want - d->cap;
    d->buf = b;
    d->cap = want;
    return true;
}

int sea__frag_input(struct sea__frag *t, const struct sea__ipv4 *ip, uint64_t now, struct sea__frag_datagram *out) {
    sea__frag_release(t);
    t->stats.fragments_in++;
    sea__frag_expire(t, now);
    int rc = check_alone(ip);
    if (rc < 0) {
        t->stats.dropped_invalid++;
        return rc;
    }
    uint32_t off = ip->frag_offset, len = (uint32_t)ip->payload_len, end = off + len;
    bool last = !ip->mf;
    struct sea__frag_dgram *d = find(t, ip);
    if (!d && !(d = start(t, ip, now, &rc)))
        return rc;

    /* Where it ends: one last fragment, and nothing held past it. */
    if (last ? (d->has_last ? end != d->total : d->max_end >= end) : (d->has_last && end >= d->total))
        goto conflict;
    /* The whole under 65535 bytes with the first fragment's header (which may carry options). */
    uint32_t hl = off == 0 ? ip->header_len : d->has_first ? d->header_len : SEA__IPV4_HLEN;
    uint32_t furthest = d->has_last ? d->total : end > d->max_end ? end : d->max_end;
    if (hl + furthest > 65535) {
        t->stats.dropped_invalid++;
        return -EMSGSIZE;
    }
    /* Overlaps: i is the first range starting at or after off. */
    uint32_t i = 0;
    while (i < d->nfrags && d->r[i].start < off)
        i++;
    if (i < d->nfrags && d->r[i].start == off && d->r[i].end == end) {
        /* An exact duplicate (its MF agrees: the end rules above saw to that) is ignored; other bytes conflict. */
        if (memcmp(d->buf + off, ip->payload, len) == 0)
            return 0;
        goto conflict;
    }
    if ((i > 0 && d->r[i - 1].end > off) || (i < d->nfrags && d->r[i].start < end))
        goto conflict;
    if (d->nfrags >= t->cfg.max_frags) {
        drop(t, d, &t->stats.dropped_limit);
        return -ENOBUFS;
    }
    if (!grow(t, d, end, last, &rc)) {
        drop(t, d, &t->stats.dropped_limit);
        return rc;
    }

    memcpy(d->buf + off, ip->payload, len);
    memmove(&d->r[i + 1], &d->r[i], (d->nfrags - i) * sizeof(struct range));
    d->r[i] = (struct range){off, end};
    d->nfrags++;
    d->received += len;
    if (end > d->max_end)
        d->max_end = end;
    if (last) {
        d->has_last = true;
        d->total = end;
    }
    if (off == 0) {
        d->has_first = true;
        d->header_len = ip->header_len;
        d->tos = ip->tos;
        d->ttl = ip->ttl;
        d->df = ip->df;
        if (ip->options_len)
            memcpy(d->options, ip->options, ip->options_len);
    }
    /* Complete: the ranges never overlap and lie within [0, total), so total bytes of them cover it all. */
    if (!d->has_last || d->received != d->total)
        return 0;
    unlink_dgram(t, d);
    t->done = d;
    t->stats.reassembled++;
    *out = (struct sea__frag_datagram){.ip = {
        .header_len = d->header_len, .tos = d->tos, .ttl = d->ttl, .proto = d->proto,
        .total_len = (uint16_t)(d->header_len + d->total), .id = d->id, .df = d->df, .mf = false,
        .frag_offset = 0, .src = d->src, .dst = d->dst, .options = d->options,
        .options_len = (size_t)d->header_len - SEA__IPV4_HLEN, .payload = d->buf, .payload_len = d->total,
    }};
    return 1;

conflict:
    drop(t, d, &t->stats.dropped_overlap);
    return -EBADMSG;
}
