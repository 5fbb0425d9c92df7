/*
 * net/native/frag.h - IPv4 fragment reassembly for sea's own TCP/IP stack
 * (issue 19): a bounded table that takes parsed fragments and gives back
 * whole datagrams.
 *
 * It is pure bookkeeping: no I/O, no shard state, no clock of its own (the
 * caller passes the time in nanoseconds), so every rule is tested with an
 * explicit clock (tests/unit/native/test_frag.c).  One table belongs to one
 * shard.  docs/native-stack.md states the rules and why.
 *
 * The rules, in short:
 *  - Datagrams are keyed by (src, dst, proto, id), as RFC 791 says.
 *  - A fragment is refused on its own (the datagram it belongs to is kept;
 *    counted in dropped_invalid) when it is not a fragment (MF clear and
 *    offset 0), carries no data, is not the last and its length is not a
 *    multiple of 8, has an offset that is not a multiple of 8, ends past
 *    65515 bytes of payload (65535 with a 20-byte header), is a first
 *    fragment too short to hold its transport's header (20 bytes for TCP,
 *    8 for anything else: RFC 1858's tiny fragments), or would make the
 *    datagram with its first fragment's header (options included) longer
 *    than 65535 bytes.
 *  - A fragment that overlaps bytes already held drops the whole datagram
 *    (RFC 5722's rule for IPv6, which Linux applies to IPv4 too), as does
 *    one that disagrees about where the datagram ends (a second last
 *    fragment ending elsewhere, data past the last fragment's end, a last
 *    fragment ending before bytes already held): counted in dropped_overlap.
 *    An exact duplicate (same offset, length, bytes and MF) is ignored: the
 *    network may duplicate a packet; a duplicate whose bytes differ is an
 *    overlap.
 *  - A datagram lives at most timeout_ns from its first fragment (not
 *    refreshed by later ones, as Linux's ipfrag_time); expired ones are
 *    dropped by sea__frag_expire and, lazily, by every sea__frag_input.
 *  - Limits: max_datagrams in progress, max_bytes held in all (each
 *    datagram's record and its payload buffer, and the datagram last
 *    returned until it is released), max_frags per datagram.  When a new
 *    datagram or a fragment needs room, the oldest other datagrams are
 *    dropped until it fits (counted in dropped_limit): refusing new ones
 *    instead would let anyone who fills the table once stop all reassembly
 *    for the whole timeout.  A datagram that cannot fit alone, or that would
 *    need more than max_frags fragments, is dropped itself.
 */
#ifndef SEA_NET_NATIVE_FRAG_H
#define SEA_NET_NATIVE_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "net/native/wire.h"

#define SEA__FRAG_MAX_DATAGRAMS 64             /* default max_datagrams */
#define SEA__FRAG_MAX_BYTES (4u << 20)         /* default max_bytes: 4 MiB */
#define SEA__FRAG_TIMEOUT_NS 30000000000ull    /* default timeout_ns: 30 s, Linux's ipfrag_time */
#define SEA__FRAG_MAX_FRAGS 64                 /* default max_frags */
#define SEA__FRAG_MAX_FRAGS_LIMIT 8192         /* max_frags is clamped to this: 65536 / 8 */

/* The limits of a table; a field left 0 takes its default (SEA__FRAG_*). */
struct sea__frag_config {
    uint32_t max_datagrams; /* datagrams being reassembled at once (>= 1) */
    size_t max_bytes;       /* everything the table holds, in bytes (see sea__frag.bytes) */
    uint64_t timeout_ns;    /* how long a datagram may wait for its fragments, from its first */
    uint32_t max_frags;     /* distinct fragments per datagram, 1..SEA__FRAG_MAX_FRAGS_LIMIT */
};

/*
 * The counters.  fragments_in counts every fragment offered; dropped_invalid
 * counts fragments refused on their own; the others count datagrams, so that
 * every datagram started is, in the end, exactly one of reassembled,
 * dropped_overlap, dropped_timeout or dropped_limit (or still in progress).
 */
struct sea__frag_stats {
    uint64_t fragments_in;    /* calls to sea__frag_input */
    uint64_t reassembled;     /* datagrams returned whole */
    uint64_t dropped_overlap; /* datagrams dropped: overlapping fragments, or fragments disagreeing about the end */
    uint64_t dropped_timeout; /* datagrams dropped: not complete within timeout_ns */
    uint64_t dropped_limit;   /* datagrams dropped: evicted for room, over max_frags, too big alone, out of memory */
    uint64_t dropped_invalid; /* fragments refused on their own (the rules above); their datagram is kept */
};

struct sea__frag_dgram; /* one datagram in progress (frag.c) */

struct sea__frag {
    struct sea__frag_config cfg;          /* with the defaults filled in */
    struct sea__frag_dgram *oldest;       /* the datagrams in progress, in the order they started */
    struct sea__frag_dgram *newest;
    struct sea__frag_dgram *done;         /* the datagram last returned, until it is released */
    size_t count;                         /* datagrams in progress: <= cfg.max_datagrams */
    size_t bytes;                         /* bytes allocated, records and buffers, done included: <= cfg.max_bytes */
    struct sea__frag_stats stats;
};

/*
 * A reassembled datagram.  ip is the view sea__ipv4_parse would give of it
 * whole: the first fragment's header (header_len, tos, ttl, df, options),
 * mf clear, frag_offset 0, total_len header_len + payload_len (<= 65535),
 * and payload the whole payload, in a buffer the table owns.  The view is
 * valid until the next sea__frag_input, sea__frag_release or sea__frag_free
 * on the table (sea__frag_expire leaves it alone).
 */
struct sea__frag_datagram {
    struct sea__ipv4 ip;
};

/* An empty table with the limits of cfg (NULL: all defaults).  Allocates nothing. */
void sea__frag_init(struct sea__frag *t, const struct sea__frag_config *cfg);

/* Drops every datagram in progress and the one last returned; t may be initialised again. */
void sea__frag_free(struct sea__frag *t);

/*
 * Takes one fragment, parsed by sea__ipv4_parse (its payload is copied; the
 * frame may be reused as soon as this returns), at time now (nanoseconds of
 * a clock that never goes back, such as CLOCK_MONOTONIC).  First releases
 * the datagram last returned and drops the datagrams that have expired.
 * Returns:
 *    1  the fragment completed its datagram, which is in *out
 *    0  the fragment is held (or was an exact duplicate): more are needed
 *   -EINVAL    refused on its own: not a fragment, empty, misaligned, a tiny first fragment
 *   -EMSGSIZE  refused on its own: the datagram would exceed 65535 bytes
 *   -EBADMSG   it overlaps or contradicts what is held: the datagram is dropped
 *   -ENOBUFS   the datagram was dropped: over max_frags, or it cannot fit max_bytes even alone
 *   -ENOMEM    the datagram was dropped: malloc failed
 * *out is written only when 1 is returned.
 */
int sea__frag_input(struct sea__frag *t, const struct sea__ipv4 *ip, uint64_t now, struct sea__frag_datagram *out);

/*
 * Drops every datagram whose first fragment came timeout_ns or more before
 * now (each counted in dropped_timeout); returns how many.  The datagram
 * last returned is not touched.
 */
size_t sea__frag_expire(struct sea__frag *t, uint64_t now);

/* When the oldest datagram in progress expires (for a timer), or UINT64_MAX when there is none. */
uint64_t sea__frag_next_expiry(const struct sea__frag *t);

/* Frees the datagram last returned now rather than at the next sea__frag_input (its view becomes invalid). */
void sea__frag_release(struct sea__frag *t);

#endif
