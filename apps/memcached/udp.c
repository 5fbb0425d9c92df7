/*
 * udp.c - memcached over UDP (-U PORT): each datagram starts with memcached's
 * 8-byte frame header (request id, sequence number, datagram count,
 * reserved), then holds whole requests; the answers go back to the sender
 * split into datagrams of at most 1400 bytes, each with the request id, its
 * sequence number and the count.
 *
 * As in memcached, a request must fit in one datagram (a header that says
 * more is answered "SERVER_ERROR multi-packet request not supported"), and
 * what a datagram leaves unfinished is dropped.  The answers to one
 * datagram may take 8 MiB; a get asking for more is answered "SERVER_ERROR
 * out of memory writing get response", memcached's words for it.  One socket on shard 0
 * serves UDP; its requests still run on the shards that own their keys.
 */
#include "mc.h"

#include <errno.h>
#include <string.h>

#include "binary.h"

#define UDP_HEADER 8
#define UDP_MAX_PAYLOAD 1400 /* memcached's UDP_MAX_PAYLOAD_SIZE, header included */
#define UDP_MAX_DATAGRAM 65536
#define UDP_MAX_ANSWER (8 << 20) /* what one datagram's requests may ask for; beyond, an error */

struct udp {
    sea_socket *s;
    char in[UDP_MAX_DATAGRAM];
    char frame[UDP_MAX_PAYLOAD];
    sea_addr from;
    mc_out out;
    mc_request req;
};

/* Sends o's bytes to u->from in framed datagrams for request id `id`. */
static sea_future send_answer(struct udp *u, const unsigned char *id, const mc_out *o) {
    size_t per = UDP_MAX_PAYLOAD - UDP_HEADER;
    size_t total = (o->len + per - 1) / per;
    if (total > 0xffff)
        total = 0xffff; /* memcached's cap too; the rest is lost */
    for (size_t seq = 0; seq < total; seq++) {
        size_t off = seq * per, n = o->len - off < per ? o->len - off : per;
        unsigned char *h = (unsigned char *)u->frame;
        h[0] = id[0];
        h[1] = id[1];
        h[2] = (unsigned char)(seq >> 8);
        h[3] = (unsigned char)seq;
        h[4] = (unsigned char)(total >> 8);
        h[5] = (unsigned char)total;
        h[6] = h[7] = 0;
        memcpy(u->frame + UDP_HEADER, o->p + off, n);
        sea_future f = sea_await(sea_udp_send(u->s, &u->from, u->frame, UDP_HEADER + n));
        if (sea_future_failed(&f)) /* the sender went away: its answer is lost, as UDP's are */
            return sea_ready();
    }
    return sea_ready();
}

/* Answers every whole request of one datagram's payload into u->out. */
static sea_future answer_datagram(struct udp *u, const char *p, size_t len) {
    bool binary = len > 0 && (unsigned char)p[0] == MC_BIN_REQ_MAGIC;
    size_t off = 0;
    u->req.more = false; /* a get line cut by the end of the last datagram is not continued here */
    while (off < len) {
        mc_request *r = &u->req;
        mc_kind k = binary ? mc_bin_parse(p + off, len - off, mc_config.max_item, r)
                           : mc_text_parse(p + off, len - off, mc_config.max_item, r);
        if (k == MC_NEED_MORE || k == MC_CLOSE || k == MC_QUIT || k == MC_SWALLOW) {
            if (k == MC_SWALLOW) /* its data block is in no later datagram: answer and stop here */
                SEA_AWAIT(mc_answer(r, &u->out, NULL));
            break;
        }
        SEA_AWAIT(mc_answer(r, &u->out, NULL));
        off += r->consumed;
    }
    return sea_ready();
}

static __thread sea_socket *udp_socket;

static sea_future serve_udp(struct udp **up) {
    struct udp *u = *up;
    while (udp_socket) { /* NULL once mc_udp_stop closed it */
        sea_future f = sea_await(sea_udp_recv(u->s, u->in, sizeof(u->in), &u->from));
        if (sea_future_failed(&f))
            break; /* closed: the server is stopping */
        size_t n = sea_future_value(&f).size;
        if (n < UDP_HEADER)
            continue; /* not even a frame header: memcached drops it too */
        u->out.len = 0;
        u->out.failed = false;
        const unsigned char *h = (const unsigned char *)u->in;
        if (h[4] != 0 || h[5] != 1)
            mc_out_str(&u->out, "SERVER_ERROR multi-packet request not supported\r\n");
        else
            SEA_AWAIT(answer_datagram(u, u->in + UDP_HEADER, n - UDP_HEADER));
        if (u->out.failed) {
            u->out.len = 0;
            u->out.failed = false;
            mc_out_str(&u->out, "SERVER_ERROR out of memory writing get response\r\n");
        }
        if (u->out.len)
            SEA_AWAIT(send_answer(u, h, &u->out));
    }
    free(u->out.p);
    free(u);
    return sea_ready();
}

sea_future mc_udp_start(const sea_addr *addr) {
    struct udp *u = calloc(1, sizeof(*u));
    if (!u)
        return sea_failed(-ENOMEM, "no memory for the UDP server");
    int rc = sea_udp_bind(addr, &u->s);
    if (rc < 0) {
        free(u);
        return sea_failed(rc, "cannot bind the UDP port (-U)");
    }
    udp_socket = u->s;
    u->out.limit = UDP_MAX_ANSWER;
    return sea_fiber_start(serve_udp, u);
}

void mc_udp_stop(void) {
    sea_socket_close(udp_socket);
    udp_socket = NULL;
}
