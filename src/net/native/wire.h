/*
 * net/native/wire.h - the wire formats of sea's own TCP/IP stack (issue 19):
 * the Internet checksum, and parsers and builders for Ethernet II, ARP,
 * IPv4, ICMP echo, UDP and TCP headers.
 *
 * Everything here is a pure function over bytes: no I/O, no allocation, no
 * shard state, so the protocol layers above can trust a view without
 * re-checking it, and the fuzz in tests/unit/native/test_wire.c can feed any
 * bytes to any parser.  docs/native-stack.md states the rules.
 *
 * Conventions:
 *  - Numbers in views and arguments are in host order; IPv4 addresses are
 *    uint32_t in host order (192.0.2.1 is 0xc0000201).
 *  - A parser returns 0 and fills its view, or a negative errno and leaves
 *    the view undefined:
 *      -EMSGSIZE        the bytes are too short for what the header says
 *                       (truncated), or a length is beyond what the format allows
 *      -EINVAL          a field breaks the format (a length below its minimum,
 *                       a malformed option, a reserved bit set)
 *      -EPROTO          the checksum is wrong
 *      -EPROTONOSUPPORT well formed, but not a kind sea speaks (an 802.1Q
 *                       tag, ARP for another hardware or protocol, IPv4
 *                       version other than 4)
 *  - A view's pointers point into the parser's input and its lengths keep
 *    them inside it: payload + payload_len <= input + len, always.
 *  - A builder writes into a caller's buffer of cap bytes and returns the
 *    number of bytes written, or -ENOSPC (nothing useful written) when cap is
 *    too small, or -EMSGSIZE when the result could not be represented.
 */
#ifndef SEA_NET_NATIVE_WIRE_H
#define SEA_NET_NATIVE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The Internet checksum (RFC 1071) ---- */

/*
 * The ones' complement sum of p[0..n) read as big-endian 16-bit words (an odd
 * last byte is the high half of a word), folded to 16 bits: 0..0xffff.  The
 * sum of bytes that start at an odd offset of the message must be combined
 * with sea__csum_combine, which swaps it into place.
 */
uint32_t sea__csum_partial(const void *p, size_t n);

/* The partial sum of a message a (a_len bytes) followed by b, from their partial sums. */
uint32_t sea__csum_combine(uint32_t a, uint32_t b, size_t a_len);

/* The sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768): addresses, protocol, length. */
uint32_t sea__csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* The checksum to store, from the partial sum of the message with its checksum field zero. */
static inline uint16_t sea__csum_finish(uint32_t sum) { return (uint16_t)~sum; }

/* ---- Ethernet II ---- */

#define SEA__ETH_HLEN 14
#define SEA__ETH_P_IPV4 0x0800
#define SEA__ETH_P_ARP 0x0806

struct sea__eth {
    uint8_t dst[6], src[6];
    uint16_t type; /* >= 0x0600: an EtherType, never an 802.3 length */
    const uint8_t *payload;
    size_t payload_len; /* everything after the header, padding included */
};

/*
 * An Ethernet II frame without its FCS (as TAP and AF_XDP deliver it).  An
 * 802.1Q or 802.1ad tag is refused (-EPROTONOSUPPORT): sea's devices carry
 * untagged frames, and a tagged one is for a VLAN sea is not on.  An
 * EtherType below 0x0600 is an 802.3 length: -EPROTONOSUPPORT.
 */
int sea__eth_parse(const void *frame, size_t len, struct sea__eth *out);
int sea__eth_build(void *buf, size_t cap, const uint8_t dst[6], const uint8_t src[6], uint16_t type);

/* ---- ARP for IPv4 over Ethernet (RFC 826) ---- */

#define SEA__ARP_LEN 28
#define SEA__ARP_REQUEST 1
#define SEA__ARP_REPLY 2

struct sea__arp {
    uint16_t op; /* SEA__ARP_REQUEST or SEA__ARP_REPLY */
    uint8_t sha[6], tha[6];
    uint32_t spa, tpa;
};

/* htype 1, ptype 0x0800 (else -EPROTONOSUPPORT), hlen 6, plen 4, op 1 or 2 (else -EINVAL). */
int sea__arp_parse(const void *p, size_t len, struct sea__arp *out);
int sea__arp_build(void *buf, size_t cap, const struct sea__arp *a);

/* ---- IPv4 (RFC 791) ---- */

#define SEA__IPV4_HLEN 20
#define SEA__IP_ICMP 1
#define SEA__IP_TCP 6
#define SEA__IP_UDP 17

struct sea__ipv4 {
    uint8_t header_len; /* IHL * 4: 20..60 */
    uint8_t tos, ttl, proto;
    uint16_t total_len, id;
    bool df, mf;
    uint16_t frag_offset; /* in bytes (the field times 8) */
    uint32_t src, dst;
    const uint8_t *options; /* skipped by the stack; header_len - 20 bytes */
    size_t options_len;
    const uint8_t *payload; /* total_len - header_len bytes: trailing padding is not in it */
    size_t payload_len;
    /*
     * Not the parser's: the device says the TCP or UDP checksum inside was
     * verified, or was never filled in because the frame comes from the
     * kernel's own memory (a TAP's virtio net header), so TCP and UDP skip it.
     */
    bool l4_csum_verified;
};

/*
 * Version 4 (else -EPROTONOSUPPORT); IHL >= 5 (-EINVAL) and within the bytes
 * (-EMSGSIZE); total length >= IHL * 4 (-EINVAL) and within the bytes
 * (-EMSGSIZE); the reserved flag clear (-EINVAL); a fragment that would end
 * past 65535 bytes (-EMSGSIZE); the header checksum (-EPROTO).
 */
int sea__ipv4_parse(const void *p, size_t len, struct sea__ipv4 *out);

struct sea__ipv4_args {
    uint8_t tos, ttl, proto;
    uint16_t id;
    bool df, mf;
    uint16_t frag_offset; /* bytes, a multiple of 8 (else -EINVAL) */
    uint32_t src, dst;
    size_t payload_len; /* header + payload <= 65535, else -EMSGSIZE */
};

/* A 20-byte header (no options) with its checksum; returns 20. */
int sea__ipv4_build(void *buf, size_t cap, const struct sea__ipv4_args *a);

/* ---- ICMP (RFC 792) ---- */

#define SEA__ICMP_HLEN 8
#define SEA__ICMP_ECHO_REPLY 0
#define SEA__ICMP_ECHO_REQUEST 8

struct sea__icmp {
    uint8_t type, code;
    uint16_t id, seq; /* echo's identifier and sequence number (the rest of the header) */
    const uint8_t *data;
    size_t data_len;
};

/* Any ICMP message, checksum over all of it (-EPROTO); an echo's code must be 0 (-EINVAL). */
int sea__icmp_parse(const void *p, size_t len, struct sea__icmp *out);
/* An echo message (type 0 or 8) with data; data may already lie at buf + 8 (it is moved, not copied over). */
int sea__icmp_echo_build(void *buf, size_t cap, uint8_t type, uint16_t id, uint16_t seq, const void *data,
                         size_t data_len);
/* The reply to an echo request (-EINVAL for any other message), into buf (which may be the request's). */
int sea__icmp_echo_reply_build(void *buf, size_t cap, const struct sea__icmp *request);

/* Destination unreachable (RFC 792) and its codes; code 4's next-hop MTU is the header's last 16 bits (RFC 1191). */
#define SEA__ICMP_DEST_UNREACH 3
#define SEA__ICMP_NET_UNREACH 0
#define SEA__ICMP_HOST_UNREACH 1
#define SEA__ICMP_PROTO_UNREACH 2
#define SEA__ICMP_PORT_UNREACH 3
#define SEA__ICMP_FRAG_NEEDED 4

/* Whether an ICMP message of this type is an error (RFC 1122 §3.2.2: none is ever sent about one). */
static inline bool sea__icmp_is_error(uint8_t type) {
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * An error message of type and code (the header's last 16 bits: mtu, for
 * FRAG_NEEDED; else 0) about the datagram at orig (its IPv4 header and
 * what follows, orig_len bytes): it quotes the header and the first 8
 * bytes of its payload (RFC 792).  Its length, -EINVAL when orig holds no
 * whole header, or -ENOSPC.
 */
int sea__icmp_error_build(void *buf, size_t cap, uint8_t type, uint8_t code, uint16_t mtu, const void *orig,
                          size_t orig_len);

/* What an error message says of the datagram it quotes: enough to find its connection. */
struct sea__icmp_quote {
    uint32_t src, dst; /* host order: src is ours when we sent it */
    uint8_t proto;
    uint16_t sport, dport; /* TCP's and UDP's */
    uint32_t seq;          /* TCP's */
};

/*
 * The datagram an error message quotes (ic->data): an IPv4 header whose
 * length is within the bytes (-EINVAL), then at least 8 bytes (-EMSGSIZE).
 * The quoted header's total length and checksum are not checked: the
 * sender of the error may have changed it, and cut the quote.
 */
int sea__icmp_quote_parse(const struct sea__icmp *ic, struct sea__icmp_quote *out);

/* ---- UDP (RFC 768) ---- */

#define SEA__UDP_HLEN 8

struct sea__udp {
    uint16_t sport, dport, len; /* len: the header's length field, header included */
    bool has_csum;              /* false: the sender sent 0 (no checksum, allowed over IPv4) */
    const uint8_t *payload;
    size_t payload_len;
};

/*
 * A UDP datagram, len the IP payload's length.  Length >= 8 (-EINVAL) and
 * within the bytes (-EMSGSIZE; bytes beyond it are ignored, as IP padding);
 * a non-zero checksum over the pseudo-header of src and dst (-EPROTO).
 */
int sea__udp_parse(const void *p, size_t len, uint32_t src, uint32_t dst, struct sea__udp *out);
/* The same without the checksum, for a datagram whose checksum the device vouches for (a TAP's virtio net header). */
int sea__udp_parse_verified(const void *p, size_t len, struct sea__udp *out);
/* The 8-byte header for payload (wherever it lies), checksummed (0 sent as 0xffff). */
int sea__udp_build(void *buf, size_t cap, uint16_t sport, uint16_t dport, uint32_t src, uint32_t dst,
                   const void *payload, size_t payload_len);

/* ---- TCP (RFC 9293) ---- */

#define SEA__TCP_HLEN 20
#define SEA__TCP_OPT_MAX 40
#define SEA__TCP_FIN 0x01
#define SEA__TCP_SYN 0x02
#define SEA__TCP_RST 0x04
#define SEA__TCP_PSH 0x08
#define SEA__TCP_ACK 0x10
#define SEA__TCP_URG 0x20
#define SEA__TCP_ECE 0x40
#define SEA__TCP_CWR 0x80

struct sea__tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t header_len; /* data offset * 4: 20..60 */
    uint8_t flags;      /* SEA__TCP_*; the four reserved bits are ignored, as RFC 9293 says */
    uint16_t window, urgent;
    const uint8_t *options;
    size_t options_len;
    const uint8_t *payload;
    size_t payload_len;
};

/*
 * A TCP segment, len the IP payload's length (<= 65535, else -EMSGSIZE).
 * Data offset >= 5 (-EINVAL) and within the segment (-EMSGSIZE); the
 * checksum over the pseudo-header of src and dst (-EPROTO).  The options are
 * not read: sea__tcp_options_parse walks them.
 */
int sea__tcp_parse(const void *p, size_t len, uint32_t src, uint32_t dst, struct sea__tcp *out);
/* The same without the checksum, for a segment whose checksum the device vouches for (a TAP's virtio net header). */
int sea__tcp_parse_verified(const void *p, size_t len, struct sea__tcp *out);

#define SEA__TCP_MAX_SACK 4

struct sea__tcp_opts {
    bool has_mss, has_wscale, sack_ok, has_ts;
    uint16_t mss;
    uint8_t wscale; /* as sent: clamping to 14 (RFC 7323) is TCP's business */
    uint32_t ts_val, ts_ecr;
    uint8_t nsack; /* SACK blocks (RFC 2018), 0..4 */
    struct {
        uint32_t left, right;
    } sack[SEA__TCP_MAX_SACK];
};

/*
 * Walks options[0..len) (a view's options): EOL ends them, NOP is skipped,
 * MSS (length 4), window scale (3), SACK-permitted (2), SACK (2 + 8n, n 1..4)
 * and timestamps (10) are read; any other kind is skipped by its length.  A
 * kind without a length byte, a length below 2 or past the end, or a known
 * kind with the wrong length: -EINVAL.  Never reads past options + len.
 */
int sea__tcp_options_parse(const uint8_t *options, size_t len, struct sea__tcp_opts *out);
/*
 * The options in o, as Linux lays them out (MSS, SACK-permitted with
 * timestamps, window scale, SACK blocks), NOP-padded to a multiple of 4;
 * returns their length (0..40) or -EMSGSIZE when they exceed 40 bytes.
 */
int sea__tcp_options_build(uint8_t *buf, size_t cap, const struct sea__tcp_opts *o);

struct sea__tcp_args {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window, urgent;
    const struct sea__tcp_opts *opts; /* NULL: none */
    uint32_t src, dst;                /* for the pseudo-header */
    /*
     * Leave the checksum to the device (checksum offload): the field holds
     * the pseudo-header's sum, which the device adds to its sum of the
     * segment, as a virtio net header's NEEDS_CSUM asks.
     */
    bool csum_partial;
};

/* The header with its options for payload (wherever it lies), checksummed; returns 20 + options. */
int sea__tcp_build(void *buf, size_t cap, const struct sea__tcp_args *a, const void *payload, size_t payload_len);

#endif
