/*
 * net/native/wire.c - the wire formats of sea's own TCP/IP stack: the
 * Internet checksum, and the parsers and builders of wire.h.
 *
 * Every read is checked against the length first (a parser's input may be
 * any bytes a device received), and bytes are read one at a time in network
 * order, so no alignment or endianness is assumed of the frame.
 */
#include "net/native/wire.h"

#include <errno.h>
#include <string.h>

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Folds a wide sum to 16 bits with end-around carries (each round at least halves it). */
static uint32_t fold(uint64_t s) {
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint32_t sea__csum_partial(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t s = 0;
    size_t i = 0;
    /* 32 bits at a time into 64: a carry out of 2^64 needs 2^32 words, more than any frame. */
    for (; i + 4 <= n; i += 4)
        s += get32(b + i);
    for (; i + 2 <= n; i += 2)
        s += get16(b + i);
    if (i < n)
        s += (uint32_t)b[i] << 8;
    return fold(s);
}

uint32_t sea__csum_combine(uint32_t a, uint32_t b, size_t a_len) {
    /* b's words start at an odd offset: its bytes sit in the other halves of the message's words. */
    if (a_len & 1)
        b = (b >> 8 | b << 8) & 0xffff;
    return fold((uint64_t)a + b);
}

uint32_t sea__csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len) {
    return fold((uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len);
}

/* A message with its checksum in place sums to 0xffff (RFC 1071). */
static bool csum_ok(uint32_t sum) { return sum == 0xffff; }

/* ---- Ethernet ---- */

int sea__eth_parse(const void *frame, size_t len, struct sea__eth *out) {
    const uint8_t *p = frame;
    if (len < SEA__ETH_HLEN)
        return -EMSGSIZE;
    uint16_t type = get16(p + 12);
    if (type < 0x0600 || type == 0x8100 || type == 0x88a8)
        return -EPROTONOSUPPORT;
    memcpy(out->dst, p, 6);
    memcpy(out->src, p + 6, 6);
    out->type = type;
    out->payload = p + SEA__ETH_HLEN;
    out->payload_len = len - SEA__ETH_HLEN;
    return 0;
}

int sea__eth_build(void *buf, size_t cap, const uint8_t dst[6], const uint8_t src[6], uint16_t type) {
    uint8_t *p = buf;
    if (cap < SEA__ETH_HLEN)
        return -ENOSPC;
    memmove(p, dst, 6);
    memmove(p + 6, src, 6);
    put16(p + 12, type);
    return SEA__ETH_HLEN;
}

/* ---- ARP ---- */

int sea__arp_parse(const void *buf, size_t len, struct sea__arp *out) {
    const uint8_t *p = buf;
    if (len < SEA__ARP_LEN)
        return -EMSGSIZE;
    if (get16(p) != 1 || get16(p + 2) != SEA__ETH_P_IPV4)
        return -EPROTONOSUPPORT;
    if (p[4] != 6 || p[5] != 4)
        return -EINVAL;
    uint16_t op = get16(p + 6);
    if (op != SEA__ARP_REQUEST && op != SEA__ARP_REPLY)
        return -EINVAL;
    out->op = op;
    memcpy(out->sha, p + 8, 6);
    out->spa = get32(p + 14);
    memcpy(out->tha, p + 18, 6);
    out->tpa = get32(p + 24);
    return 0;
}

int sea__arp_build(void *buf, size_t cap, const struct sea__arp *a) {
    uint8_t *p = buf;
    if (cap < SEA__ARP_LEN)
        return -ENOSPC;
    if (a->op != SEA__ARP_REQUEST && a->op != SEA__ARP_REPLY)
        return -EINVAL;
    put16(p, 1);
    put16(p + 2, SEA__ETH_P_IPV4);
    p[4] = 6;
    p[5] = 4;
    put16(p + 6, a->op);
    memcpy(p + 8, a->sha, 6);
    put32(p + 14, a->spa);
    memcpy(p + 18, a->tha, 6);
    put32(p + 24, a->tpa);
    return SEA__ARP_LEN;
}

/* ---- IPv4 ---- */

int sea__ipv4_parse(const void *buf, size_t len, struct sea__ipv4 *out) {
    const uint8_t *p = buf;
    if (len < SEA__IPV4_HLEN)
        return -EMSGSIZE;
    if (p[0] >> 4 != 4)
        return -EPROTONOSUPPORT;
    size_t hlen = (size_t)(p[0] & 0xf) * 4;
    if (hlen < SEA__IPV4_HLEN)
        return -EINVAL;
    if (hlen > len)
        return -EMSGSIZE;
    uint16_t total = get16(p + 2);
    if (total < hlen)
        return -EINVAL;
    if (total > len)
        return -EMSGSIZE;
    uint16_t frag = get16(p + 6);
    if (frag & 0x8000)
        return -EINVAL;
    size_t offset = (size_t)(frag & 0x1fff) * 8;
    /* The reassembled datagram could not be longer than 65535 bytes (the "ping of death"). */
    if (offset + (total - hlen) > 65535 - SEA__IPV4_HLEN)
        return -EMSGSIZE;
    if (!csum_ok(sea__csum_partial(p, hlen)))
        return -EPROTO;
    out->header_len = (uint8_t)hlen;
    out->tos = p[1];
    out->total_len = total;
    out->id = get16(p + 4);
    out->df = frag & 0x4000;
    out->mf = frag & 0x2000;
    out->frag_offset = (uint16_t)offset;
    out->ttl = p[8];
    out->proto = p[9];
    out->src = get32(p + 12);
    out->dst = get32(p + 16);
    out->options = p + SEA__IPV4_HLEN;
    out->options_len = hlen - SEA__IPV4_HLEN;
    out->payload = p + hlen;
    out->payload_len = total - hlen;
    out->l4_csum_verified = false;
    return 0;
}

int sea__ipv4_build(void *buf, size_t cap, const struct sea__ipv4_args *a) {
    uint8_t *p = buf;
    if (a->payload_len > 65535 - SEA__IPV4_HLEN)
        return -EMSGSIZE;
    if (a->frag_offset % 8)
        return -EINVAL;
    if (cap < SEA__IPV4_HLEN)
        return -ENOSPC;
    p[0] = 0x45;
    p[1] = a->tos;
    put16(p + 2, (uint16_t)(SEA__IPV4_HLEN + a->payload_len));
    put16(p + 4, a->id);
    put16(p + 6, (uint16_t)((a->df ? 0x4000 : 0) | (a->mf ? 0x2000 : 0) | a->frag_offset / 8));
    p[8] = a->ttl;
    p[9] = a->proto;
    put16(p + 10, 0);
    put32(p + 12, a->src);
    put32(p + 16, a->dst);
    put16(p + 10, sea__csum_finish(sea__csum_partial(p, SEA__IPV4_HLEN)));
    return SEA__IPV4_HLEN;
}

/* ---- ICMP ---- */

int sea__icmp_parse(const void *buf, size_t len, struct sea__icmp *out) {
    const uint8_t *p = buf;
    if (len < SEA__ICMP_HLEN)
        return -EMSGSIZE;
    if (len > 65535 - SEA__IPV4_HLEN)
        return -EMSGSIZE;
    if (!csum_ok(sea__csum_partial(p, len)))
        return -EPROTO;
    if ((p[0] == SEA__ICMP_ECHO_REPLY || p[0] == SEA__ICMP_ECHO_REQUEST) && p[1] != 0)
        return -EINVAL;
    out->type = p[0];
    out->code = p[1];
    out->id = get16(p + 4);
    out->seq = get16(p + 6);
    out->data = p + SEA__ICMP_HLEN;
    out->data_len = len - SEA__ICMP_HLEN;
    return 0;
}

int sea__icmp_error_build(void *buf, size_t cap, uint8_t type, uint8_t code, uint16_t mtu, const void *orig,
                          size_t orig_len) {
    const uint8_t *o = orig;
    if (orig_len < SEA__IPV4_HLEN || (o[0] >> 4) != 4 || (size_t)(o[0] & 0x0f) * 4 < SEA__IPV4_HLEN ||
        (size_t)(o[0] & 0x0f) * 4 > orig_len)
        return -EINVAL;
    size_t quote = (size_t)(o[0] & 0x0f) * 4 + 8;
    if (quote > orig_len)
        quote = orig_len;
    if (cap < SEA__ICMP_HLEN + quote)
        return -ENOSPC;
    uint8_t *p = buf;
    p[0] = type;
    p[1] = code;
    put16(p + 2, 0);
    put16(p + 4, 0);
    put16(p + 6, mtu);
    memmove(p + SEA__ICMP_HLEN, o, quote);
    put16(p + 2, sea__csum_finish(sea__csum_partial(p, SEA__ICMP_HLEN + quote)));
    return (int)(SEA__ICMP_HLEN + quote);
}

int sea__icmp_quote_parse(const struct sea__icmp *ic, struct sea__icmp_quote *out) {
    const uint8_t *q = ic->data;
    if (ic->data_len < SEA__IPV4_HLEN || (q[0] >> 4) != 4)
        return -EINVAL;
    size_t hlen = (size_t)(q[0] & 0x0f) * 4;
    if (hlen < SEA__IPV4_HLEN || hlen > ic->data_len)
        return -EINVAL;
    if (ic->data_len < hlen + 8)
        return -EMSGSIZE;
    out->proto = q[9];
    out->src = get32(q + 12);
    out->dst = get32(q + 16);
    out->sport = get16(q + hlen);
    out->dport = get16(q + hlen + 2);
    out->seq = get32(q + hlen + 4);
    return 0;
}

int sea__icmp_echo_build(void *buf, size_t cap, uint8_t type, uint16_t id, uint16_t seq, const void *data,
                         size_t data_len) {
    uint8_t *p = buf;
    if (type != SEA__ICMP_ECHO_REPLY && type != SEA__ICMP_ECHO_REQUEST)
        return -EINVAL;
    if (data_len > 65535 - SEA__IPV4_HLEN - SEA__ICMP_HLEN)
        return -EMSGSIZE;
    if (cap < SEA__ICMP_HLEN + data_len)
        return -ENOSPC;
    /* memmove: a reply is built over its request, whose data already lies at buf + 8. */
    if (data_len)
        memmove(p + SEA__ICMP_HLEN, data, data_len);
    p[0] = type;
    p[1] = 0;
    put16(p + 2, 0);
    put16(p + 4, id);
    put16(p + 6, seq);
    put16(p + 2, sea__csum_finish(sea__csum_partial(p, SEA__ICMP_HLEN + data_len)));
    return (int)(SEA__ICMP_HLEN + data_len);
}

int sea__icmp_echo_reply_build(void *buf, size_t cap, const struct sea__icmp *request) {
    if (request->type != SEA__ICMP_ECHO_REQUEST || request->code != 0)
        return -EINVAL;
    return sea__icmp_echo_build(buf, cap, SEA__ICMP_ECHO_REPLY, request->id, request->seq, request->data,
                                request->data_len);
}

/* ---- UDP ---- */

static int udp_parse(const void *buf, size_t len, uint32_t src, uint32_t dst, bool check, struct sea__udp *out) {
    const uint8_t *p = buf;
    if (len < SEA__UDP_HLEN)
        return -EMSGSIZE;
    uint16_t ulen = get16(p + 4);
    if (ulen < SEA__UDP_HLEN)
        return -EINVAL;
    if (ulen > len)
        return -EMSGSIZE;
    uint16_t csum = get16(p + 6);
    if (check && csum != 0) {
        uint32_t s = sea__csum_combine(sea__csum_pseudo4(src, dst, SEA__IP_UDP, ulen), sea__csum_partial(p, ulen), 0);
        if (!csum_ok(s))
            return -EPROTO;
    }
    out->sport = get16(p);
    out->dport = get16(p + 2);
    out->len = ulen;
    out->has_csum = csum != 0;
    out->payload = p + SEA__UDP_HLEN;
    out->payload_len = ulen - SEA__UDP_HLEN;
    return 0;
}

int sea__udp_parse(const void *buf, size_t len, uint32_t src, uint32_t dst, struct sea__udp *out) {
    return udp_parse(buf, len, src, dst, true, out);
}

int sea__udp_parse_verified(const void *buf, size_t len, struct sea__udp *out) {
    return udp_parse(buf, len, 0, 0, false, out);
}

int sea__udp_build(void *buf, size_t cap, uint16_t sport, uint16_t dport, uint32_t src, uint32_t dst,
                   const void *payload, size_t payload_len) {
    uint8_t *p = buf;
    if (payload_len > 65535 - SEA__IPV4_HLEN - SEA__UDP_HLEN)
        return -EMSGSIZE;
    if (cap < SEA__UDP_HLEN)
        return -ENOSPC;
    uint16_t ulen = (uint16_t)(SEA__UDP_HLEN + payload_len);
    put16(p, sport);
    put16(p + 2, dport);
    put16(p + 4, ulen);
    put16(p + 6, 0);
    uint32_t s = sea__csum_combine(sea__csum_pseudo4(src, dst, SEA__IP_UDP, ulen), sea__csum_partial(p, SEA__UDP_HLEN), 0);
    s = sea__csum_combine(s, sea__csum_partial(payload, payload_len), SEA__UDP_HLEN);
    uint16_t c = sea__csum_finish(s);
    /* 0 means "no checksum" in UDP: a computed 0 is sent as its other form, 0xffff (RFC 768). */
    put16(p + 6, c ? c : 0xffff);
    return SEA__UDP_HLEN;
}

/* ---- TCP ---- */

static int tcp_parse(const void *buf, size_t len, uint32_t src, uint32_t dst, bool check, struct sea__tcp *out) {
    const uint8_t *p = buf;
    if (len < SEA__TCP_HLEN)
        return -EMSGSIZE;
    if (len > 65535 - SEA__IPV4_HLEN)
        return -EMSGSIZE;
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < SEA__TCP_HLEN)
        return -EINVAL;
    if (hlen > len)
        return -EMSGSIZE;
    if (check && !csum_ok(sea__csum_combine(sea__csum_pseudo4(src, dst, SEA__IP_TCP, (uint16_t)len),
                                            sea__csum_partial(p, len), 0)))
        return -EPROTO;
    out->sport = get16(p);
    out->dport = get16(p + 2);
    out->seq = get32(p + 4);
    out->ack = get32(p + 8);
    out->header_len = (uint8_t)hlen;
    out->flags = p[13];
    out->window = get16(p + 14);
    out->urgent = get16(p + 18);
    out->options = p + SEA__TCP_HLEN;
    out->options_len = hlen - SEA__TCP_HLEN;
    out->payload = p + hlen;
    out->payload_len = len - hlen;
    return 0;
}

int sea__tcp_parse(const void *buf, size_t len, uint32_t src, uint32_t dst, struct sea__tcp *out) {
    return tcp_parse(buf, len, src, dst, true, out);
}

int sea__tcp_parse_verified(const void *buf, size_t len, struct sea__tcp *out) {
    return tcp_parse(buf, len, 0, 0, false, out);
}

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACK_OK = 4, OPT_SACK = 5, OPT_TS = 8 };

int sea__tcp_options_parse(const uint8_t *o, size_t len, struct sea__tcp_opts *out) {
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    /* Each turn moves i forward by at least 1 byte, so at most len turns. */
    while (i < len) {
        uint8_t kind = o[i];
        if (kind == OPT_EOL)
            break;
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return -EINVAL;
        size_t olen = o[i + 1];
        if (olen < 2 || olen > len - i)
            return -EINVAL;
        const uint8_t *v = o + i + 2;
        switch (kind) {
        case OPT_MSS:
            if (olen != 4)
                return -EINVAL;
            out->has_mss = true;
            out->mss = get16(v);
            break;
        case OPT_WS:
            if (olen != 3)
                return -EINVAL;
            out->has_wscale = true;
            out->wscale = v[0];
            break;
        case OPT_SACK_OK:
            if (olen != 2)
                return -EINVAL;
            out->sack_ok = true;
            break;
        case OPT_SACK:
            if (olen < 10 || (olen - 2) % 8 || (olen - 2) / 8 > SEA__TCP_MAX_SACK)
                return -EINVAL;
            out->nsack = (uint8_t)((olen - 2) / 8);
            for (size_t k = 0; k < out->nsack; k++) {
                out->sack[k].left = get32(v + 8 * k);
                out->sack[k].right = get32(v + 8 * k + 4);
            }
            break;
        case OPT_TS:
            if (olen != 10)
                return -EINVAL;
            out->has_ts = true;
            out->ts_val = get32(v);
            out->ts_ecr = get32(v + 4);
            break;
        default: /* unknown kinds are skipped by their length (RFC 9293 §3.2) */
            break;
        }
        i += olen;
    }
    return 0;
}

int sea__tcp_options_build(uint8_t *buf, size_t cap, const struct sea__tcp_opts *o) {
    uint8_t t[SEA__TCP_OPT_MAX + 12];
    size_t n = 0;
    if (o->nsack > SEA__TCP_MAX_SACK)
        return -EINVAL;
    if (o->has_mss) {
        t[n++] = OPT_MSS;
        t[n++] = 4;
        put16(t + n, o->mss);
        n += 2;
    }
    if (o->sack_ok && o->has_ts) { /* Linux's SYN: the two share one 12-byte word group */
        t[n++] = OPT_SACK_OK;
        t[n++] = 2;
    } else if (o->has_ts || o->sack_ok) {
        t[n++] = OPT_NOP;
        t[n++] = OPT_NOP;
        if (o->sack_ok) {
            t[n++] = OPT_SACK_OK;
            t[n++] = 2;
        }
    }
    if (o->has_ts) {
        t[n++] = OPT_TS;
        t[n++] = 10;
        put32(t + n, o->ts_val);
        put32(t + n + 4, o->ts_ecr);
        n += 8;
    }
    if (o->has_wscale) {
        t[n++] = OPT_NOP;
        t[n++] = OPT_WS;
        t[n++] = 3;
        t[n++] = o->wscale;
    }
    if (o->nsack) {
        size_t need = 2 + 2 + 8 * (size_t)o->nsack;
        if (n + need > SEA__TCP_OPT_MAX)
            return -EMSGSIZE;
        t[n++] = OPT_NOP;
        t[n++] = OPT_NOP;
        t[n++] = OPT_SACK;
        t[n++] = (uint8_t)(2 + 8 * o->nsack);
        for (size_t k = 0; k < o->nsack; k++) {
            put32(t + n, o->sack[k].left);
            put32(t + n + 4, o->sack[k].right);
            n += 8;
        }
    }
    while (n % 4)
        t[n++] = OPT_NOP;
    if (n > SEA__TCP_OPT_MAX)
        return -EMSGSIZE;
    if (cap < n)
        return -ENOSPC;
    memcpy(buf, t, n);
    return (int)n;
}

int sea__tcp_build(void *buf, size_t cap, const struct sea__tcp_args *a, const void *payload, size_t payload_len) {
    uint8_t *p = buf;
    uint8_t opts[SEA__TCP_OPT_MAX];
    int olen = 0;
    if (a->opts) {
        olen = sea__tcp_options_build(opts, sizeof(opts), a->opts);
        if (olen < 0)
            return olen;
    }
    size_t hlen = SEA__TCP_HLEN + (size_t)olen;
    if (hlen + payload_len > 65535 - SEA__IPV4_HLEN)
        return -EMSGSIZE;
    if (cap < hlen)
        return -ENOSPC;
    put16(p, a->sport);
    put16(p + 2, a->dport);
    put32(p + 4, a->seq);
    put32(p + 8, a->ack);
    p[12] = (uint8_t)(hlen / 4 << 4);
    p[13] = a->flags;
    put16(p + 14, a->window);
    put16(p + 16, 0);
    put16(p + 18, a->urgent);
    memcpy(p + SEA__TCP_HLEN, opts, (size_t)olen);
    uint16_t seglen = (uint16_t)(hlen + payload_len);
    uint32_t pseudo = sea__csum_pseudo4(a->src, a->dst, SEA__IP_TCP, seglen);
    if (a->csum_partial) { /* the device sums the segment from here on, this field included */
        put16(p + 16, (uint16_t)pseudo);
        return (int)hlen;
    }
    uint32_t s = sea__csum_combine(pseudo, sea__csum_partial(p, hlen), 0);
    s = sea__csum_combine(s, sea__csum_partial(payload, payload_len), hlen);
    put16(p + 16, sea__csum_finish(s));
    return (int)hlen;
}
