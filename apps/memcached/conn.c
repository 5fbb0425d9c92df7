/*
 * conn.c - a sea-memcached connection: read, parse, run each request where
 * its key lives, answer in the request's protocol, write.
 *
 * A connection reads into a buffer, answers every whole request in it in
 * order (pipelining), writes the answers in one go, and only then reads
 * again: a client that never reads its answers stops being read from, so it
 * cannot make the server buffer without bound.  Its first byte decides its
 * protocol for good, as in memcached: 0x80 binary, anything else text (the
 * meta commands are text commands).  With -Z the connection first runs a
 * TLS handshake, then reads and writes through its TLS streams instead of
 * the socket (tls_serve); the plain path is the same as without TLS.
 *
 * Each shard owns the keys whose hash picks it.  A request for another
 * shard's key runs there by message (sea_submit_to) while the connection's
 * fiber waits; the owner writes the answer straight into the connection's
 * output buffer, next to the item, so a value is copied once.  A multi-get
 * sends one message per run of keys with the same owner.
 */
#include "mc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "binary.h"
#include "meta.h"

#define READ_CHUNK (16 * 1024)
/*
 * Answers are written once this many bytes are waiting, even in the middle
 * of a batch or of a multi-get (which runs GET_KEYS_PER_JOB keys at a time):
 * what a connection holds for a client that does not read is bounded by this
 * plus one part of one answer, and the client that stops reading stops
 * being read from.
 */
#define OUT_FLUSH (256 * 1024)
/* Output buffers that grew beyond 4 x this are freed once written (the next answer starts a small one). */
#define OUT_KEEP (16 * 1024)
#define GET_KEYS_PER_JOB 16

SEA_LOGGER(conn_log, "memcached-conn");

/* With -v: why a connection is being closed, with its peer's address. */
static void log_close(const mc_conn *c, const char *why) {
    if (!mc_config.verbose)
        return;
    sea_addr peer = sea_socket_peer(c->s);
    char pa[128] = "(unix socket)";
    sea_addr_format(&peer, pa, sizeof(pa));
    sea_log_info(&conn_log, "closing the connection from %s: %s", pa, why);
}

__thread mc_conn *mc_shard_conns;

/* ---- on the owner shard ---- */

/* What to run where: a request, or a slice of a multi-get's keys. */
struct job {
    const mc_request *r;
    mc_out *out;
    mc_kind kind;           /* r->kind, or MC_DELETE for the old value of a set refused as too large */
    bool quiet;             /* that delete: no answer */
    uint64_t hash;          /* of r->key */
    const uint64_t *hashes; /* MC_GET: of r->keys[], computed once by the connection */
    unsigned first, count;  /* MC_GET: the keys r->keys[first..first+count) */
};

static void bin_put(mc_out *o, const mc_request *r, uint16_t status, uint8_t extlen, uint16_t keylen, uint32_t bodylen,
                    uint64_t cas) {
    char h[MC_BIN_HEADER];
    mc_bin_header(h, r, status, extlen, keylen, bodylen, cas);
    mc_out_put(o, h, sizeof(h));
}

/* A binary error answer: the status and memcached's message for it. */
static void bin_error(mc_out *o, const mc_request *r, uint16_t status) {
    const char *msg = mc_bin_status_text(status);
    size_t n = strlen(msg);
    bin_put(o, r, status, 0, 0, (uint32_t)n, 0);
    mc_out_put(o, msg, n);
}

static void bin_u32(mc_out *o, uint32_t v) {
    char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    mc_out_put(o, b, 4);
}

static void text_value(mc_out *o, const mc_item *it, bool with_cas) {
    /* "VALUE key flags bytes [cas]\r\n" data "\r\n", reserved at once and written without printf */
    if (!mc_out_reserve(o, 6 + it->nkey + 3 * 21 + 4 + it->nbytes + 2))
        return;
    char *p = o->p + o->len;
    memcpy(p, "VALUE ", 6);
    p += 6;
    memcpy(p, mc_item_key(it), it->nkey);
    p += it->nkey;
    *p++ = ' ';
    p = mc_u64_text(p, it->flags);
    *p++ = ' ';
    p = mc_u64_text(p, it->nbytes);
    if (with_cas) {
        *p++ = ' ';
        p = mc_u64_text(p, it->cas);
    }
    memcpy(p, "\r\n", 2);
    p += 2;
    memcpy(p, mc_item_value(it), it->nbytes);
    p += it->nbytes;
    memcpy(p, "\r\n", 2);
    o->len = (size_t)(p + 2 - o->p);
}

static void bin_value(mc_out *o, const mc_request *r, const mc_item *it) {
    uint16_t keylen = r->return_key ? it->nkey : 0;
    bin_put(o, r, MC_BIN_OK, 4, keylen, 4u + keylen + it->nbytes, it->cas);
    bin_u32(o, it->flags);
    mc_out_put(o, mc_item_key(it), keylen);
    mc_out_put(o, mc_item_value(it), it->nbytes);
}

static void run_get(const struct job *j, int64_t now) {
    const mc_request *r = j->r;
    mc_cache *c = mc_shard_cache;
    for (unsigned i = j->first; i < j->first + j->count; i++) {
        const mc_key *k = &r->keys[i];
        mc_item *it = r->touch ? mc_cache_touch(c, k->p, k->len, j->hashes[i], r->exptime, now)
                               : mc_cache_get(c, k->p, k->len, j->hashes[i], now);
        if (r->proto == MC_PROTO_TEXT) {
            if (it)
                text_value(j->out, it, r->with_cas);
        } else if (it) {
            bin_value(j->out, r, it);
        } else if (!r->noreply) {
            if (r->return_key) { /* getk's miss carries the key */
                bin_put(j->out, r, MC_BIN_KEY_ENOENT, 0, k->len, k->len, 0);
                mc_out_put(j->out, k->p, k->len);
            } else {
                bin_error(j->out, r, MC_BIN_KEY_ENOENT);
            }
        }
    }
}

static const char *text_store_reply(mc_result res) {
    switch (res) {
    case MC_STORED: return "STORED\r\n";
    case MC_NOT_STORED: return "NOT_STORED\r\n";
    case MC_EXISTS: return "EXISTS\r\n";
    case MC_NOT_FOUND: return "NOT_FOUND\r\n";
    default: return "SERVER_ERROR out of memory storing object\r\n";
    }
}

/* memcached's binary status for a store that did not happen. */
static uint16_t bin_store_status(mc_result res, int mode) {
    if (res == MC_EXISTS)
        return MC_BIN_KEY_EEXISTS;
    if (res == MC_NOT_FOUND)
        return MC_BIN_KEY_ENOENT;
    return mode == MC_ADD ? MC_BIN_KEY_EEXISTS : mode == MC_REPLACE ? MC_BIN_KEY_ENOENT : MC_BIN_NOT_STORED;
}

static void run_store(const struct job *j, int64_t now) {
    const mc_request *r = j->r;
    mc_store s = {.mode = (int)r->mode, .flags = r->flags, .exptime = r->exptime, .value = r->data,
                  .nbytes = r->nbytes, .cas = r->cas_unique};
    mc_item *it = NULL;
    mc_result res = mc_cache_store(mc_shard_cache, r->key.p, r->key.len, j->hash, &s, now, &it);
    if (r->proto == MC_PROTO_TEXT) {
        if (!r->noreply)
            mc_out_str(j->out, text_store_reply(res));
    } else if (res != MC_STORED) {
        bin_error(j->out, r, bin_store_status(res, (int)r->mode));
    } else if (!r->noreply) {
        bin_put(j->out, r, MC_BIN_OK, 0, 0, 0, it->cas);
    }
}

static void run_arith(const struct job *j, int64_t now) {
    const mc_request *r = j->r;
    mc_arith a = {.incr = r->incr, .delta = r->delta, .create = r->create, .initial = r->initial,
                  .create_exptime = r->create_exptime, .cas = r->proto == MC_PROTO_BINARY ? r->cas_unique : 0};
    uint64_t v = 0;
    mc_item *it = NULL;
    mc_result res = mc_cache_arith(mc_shard_cache, r->key.p, r->key.len, j->hash, &a, &v, &it, now);
    mc_out *o = j->out;
    if (r->proto == MC_PROTO_BINARY) {
        if (res == MC_OK) {
            if (!r->noreply) {
                bin_put(o, r, MC_BIN_OK, 0, 0, 8, it->cas);
                bin_u32(o, (uint32_t)(v >> 32));
                bin_u32(o, (uint32_t)v);
            }
        } else {
            bin_error(o, r,
                      res == MC_NOT_FOUND      ? MC_BIN_KEY_ENOENT
                      : res == MC_NON_NUMERIC  ? MC_BIN_DELTA_BADVAL
                      : res == MC_EXISTS       ? MC_BIN_KEY_EEXISTS
                                               : MC_BIN_ENOMEM);
        }
        return;
    }
    if (r->noreply)
        return;
    if (res == MC_OK) {
        mc_out_u64(o, v);
        mc_out_str(o, "\r\n");
    } else {
        mc_out_str(o, res == MC_NOT_FOUND     ? "NOT_FOUND\r\n"
                      : res == MC_NON_NUMERIC ? "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
                                              : "SERVER_ERROR out of memory\r\n");
    }
}

/* Runs on the owner shard: the request's effect on this shard's cache, and its answer. */
static sea_future run_job(struct job *j) {
    const mc_request *r = j->r;
    mc_cache *c = mc_shard_cache;
    mc_out *o = j->out;
    int64_t now = mc_cache_now();
    if (j->quiet) { /* a set refused as too large: the old value must not stay readable */
        mc_cache_delete(c, r->key.p, r->key.len, j->hash, 0, now);
        return sea_ready();
    }
    if (r->proto == MC_PROTO_META) {
        mc_meta_run(c, r, j->hash, o, now);
        return sea_ready();
    }
    bool bin = r->proto == MC_PROTO_BINARY;
    switch (j->kind) {
    case MC_GET:
        run_get(j, now);
        break;
    case MC_STORE:
        run_store(j, now);
        break;
    case MC_ARITH:
        run_arith(j, now);
        break;
    case MC_DELETE: {
        mc_result res = mc_cache_delete(c, r->key.p, r->key.len, j->hash, bin ? r->cas_unique : 0, now);
        if (!bin) {
            if (!r->noreply)
                mc_out_str(o, res == MC_DELETED ? "DELETED\r\n" : "NOT_FOUND\r\n");
        } else if (res != MC_DELETED) {
            bin_error(o, r, res == MC_EXISTS ? MC_BIN_KEY_EEXISTS : MC_BIN_KEY_ENOENT);
        } else if (!r->noreply) {
            bin_put(o, r, MC_BIN_OK, 0, 0, 0, 0);
        }
        break;
    }
    case MC_TOUCH: {
        mc_item *it = mc_cache_touch(c, r->key.p, r->key.len, j->hash, r->exptime, now);
        if (!bin) {
            if (!r->noreply)
                mc_out_str(o, it ? "TOUCHED\r\n" : "NOT_FOUND\r\n");
        } else if (!it) {
            bin_error(o, r, MC_BIN_KEY_ENOENT);
        } else { /* binary touch answers with the item's flags */
            bin_put(o, r, MC_BIN_OK, 4, 0, 4, it->cas);
            bin_u32(o, it->flags);
        }
        break;
    }
    default:
        break;
    }
    return sea_ready();
}

/* Runs j on the shard that owns the hash it names: here, or there while this fiber waits. */
static sea_future run_on_owner(uint64_t hash, struct job *j) {
    unsigned owner = mc_shard_of(hash, sea_shard_count());
    if (owner == sea_shard_id() || mc_config.shard_local)
        return run_job(j);
    return sea_submit_to(owner, run_job, *j);
}

/* ---- on the connection's shard ---- */

static sea_future flush_here(int64_t *when) {
    mc_cache_flush(mc_shard_cache, *when, mc_cache_now());
    return sea_ready();
}

/* The answer to a request that failed to parse (or was refused), in its protocol. */
static void answer_error(const mc_request *r, mc_out *o) {
    if (r->proto == MC_PROTO_BINARY) {
        if (r->error) /* a bad magic closes without a word */
            bin_error(o, r, r->status);
    } else if (r->error && !r->noreply) {
        mc_out_str(o, r->error);
    }
}

/* The answer to a request that needs no key: in text or binary. */
static void answer_simple(const mc_request *r, mc_out *o, const char *text, const char *body) {
    if (r->proto != MC_PROTO_BINARY) {
        if (!r->noreply)
            mc_out_str(o, text);
    } else if (!r->noreply) {
        size_t n = body ? strlen(body) : 0;
        bin_put(o, r, MC_BIN_OK, 0, 0, (uint32_t)n, 0);
        mc_out_put(o, body, n);
    }
}

static sea_future write_out(mc_conn *c);

sea_future mc_answer(mc_request *r, mc_out *o, mc_conn *c) {
    switch (r->kind) {
    case MC_GET: {
        if (r->proto != MC_PROTO_TEXT) {
            /* one key (binary: also in keys[0]); the job's copy points at this fiber's hash */
            uint64_t hash = mc_hash(r->key.p, r->key.len);
            struct job job = {.r = r, .out = o, .kind = MC_GET, .hash = hash, .hashes = &hash, .count = 1};
            SEA_AWAIT(run_on_owner(hash, &job));
            return sea_ready();
        }
        /* Keys in runs by owner, in order: one message per run of another shard's keys (at most
         * GET_KEYS_PER_JOB of them, so that the answers can be written as they grow).  Each key is
         * hashed once, here, for both the owner and the owner's table. */
        uint64_t hashes[MC_GET_KEYS_MAX];
        for (unsigned i = 0; i < r->nkeys; i++)
            hashes[i] = mc_hash(r->keys[i].p, r->keys[i].len);
        unsigned n = mc_config.shard_local ? 1 : sea_shard_count();
        for (unsigned i = 0, j; i < r->nkeys; i = j) {
            unsigned owner = mc_shard_of(hashes[i], n);
            for (j = i + 1; j < r->nkeys && j - i < GET_KEYS_PER_JOB && mc_shard_of(hashes[j], n) == owner;)
                j++;
            struct job job = {.r = r, .out = o, .kind = MC_GET, .hashes = hashes, .first = i, .count = j - i};
            SEA_AWAIT(run_on_owner(hashes[i], &job));
            if (c && o->len >= OUT_FLUSH)
                SEA_AWAIT(write_out(c));
        }
        if (!r->more) /* a long line's last part ends the answer */
            mc_out_str(o, "END\r\n");
        return sea_ready();
    }
    case MC_STORE:
    case MC_DELETE:
    case MC_TOUCH:
    case MC_ARITH:
    case MC_META_DEBUG: {
        struct job job = {.r = r, .out = o, .kind = r->kind, .hash = mc_hash(r->key.p, r->key.len)};
        SEA_AWAIT(run_on_owner(job.hash, &job));
        return sea_ready();
    }
    case MC_FLUSH_ALL: {
        int64_t now = mc_cache_now();
        int64_t when = r->exptime > 0 ? mc_cache_exptime(r->exptime, now) - 1 : now;
        SEA_AWAIT(sea_invoke_on_all(flush_here, when));
        answer_simple(r, o, "OK\r\n", NULL);
        return sea_ready();
    }
    case MC_VERSION:
        answer_simple(r, o, "VERSION " MC_VERSION_STRING "\r\n", MC_VERSION_STRING);
        return sea_ready();
    case MC_VERBOSITY:
        answer_simple(r, o, "OK\r\n", NULL);
        return sea_ready();
    case MC_NOOP:
        answer_simple(r, o, "MN\r\n", NULL);
        return sea_ready();
    case MC_STATS:
        return mc_stats(r, o);
    case MC_REFRESH_CERTS: {
        /* memcached sends its errors even with noreply: only "OK" is silenced */
        if (!mc_config.tls) {
            mc_out_str(o, "Error TLS not enabled\r\n");
            return sea_ready();
        }
        sea_future f = sea_await(mc_tls_refresh());
        if (!sea_future_failed(&f)) {
            if (!r->noreply)
                mc_out_str(o, "OK\r\n");
            return sea_ready();
        }
        /* one line, starting "Error" as memcached's ("Error loading the key: ...") */
        char line[600];
        int n = snprintf(line, sizeof(line), "Error %s",
                         sea_future_message(&f) ? sea_future_message(&f) : sea_strerror(sea_future_error(&f)));
        sea_future_detach(f);
        for (int i = 0; i < n && i < (int)sizeof(line) - 1; i++)
            if (line[i] == '\r' || line[i] == '\n')
                line[i] = ' ';
        mc_out_str(o, line);
        mc_out_str(o, "\r\n");
        return sea_ready();
    }
    case MC_SWALLOW:
        answer_error(r, o);
        if (r->mode == MC_SET) {
            struct job job = {.r = r, .out = o, .kind = MC_DELETE, .quiet = true, .hash = mc_hash(r->key.p, r->key.len)};
            SEA_AWAIT(run_on_owner(job.hash, &job));
        }
        return sea_ready();
    case MC_REPLY_ERROR:
        answer_error(r, o);
        return sea_ready();
    default:
        return sea_ready();
    }
}

/*
 * The transport: the socket, or (-Z) TLS over it.  One test of c->tls per
 * read and per write is all the plain path pays for TLS being possible.
 */
static sea_future write_out(mc_conn *c) {
    if (c->out.len) {
        c->state = "conn_mwrite";
        if (!c->tls) {
            SEA_AWAIT(sea_socket_write(c->s, c->out.p, c->out.len));
        } else {
            /* encrypted at once into records; the flush sends them now: the client waits for its answers */
            SEA_AWAIT(sea_output_write(c->tout, c->out.p, c->out.len));
            SEA_AWAIT(sea_output_flush(c->tout));
        }
        c->out.len = 0;
    }
    return sea_ready();
}

/*
 * Reads what the TLS stream has, up to len bytes, into dst: v.size, 0 at
 * the end.  A TLS stream that breaks (a client gone without close_notify,
 * which is how most memcached clients leave, or a damaged record) ends the
 * connection like a close: memcached's framing never takes a cut request
 * for a whole one, and it is the client's doing, not the server's failure.
 */
static sea_future tls_read(mc_conn *c, char *dst, size_t len) {
    sea_buf b;
    sea_future f = sea_await(sea_input_read_up_to(c->tin, len, &b));
    if (sea_future_failed(&f)) {
        if (sea_future_error(&f) != -EPROTO)
            return f;
        log_close(c, sea_future_message(&f) ? sea_future_message(&f) : "TLS: a protocol error");
        sea_future_detach(f);
        c->tls_broken = true;
        return sea_ready_size(0);
    }
    size_t n = b.len;
    memcpy(dst, b.data, n);
    sea_buf_release(&b);
    return sea_ready_size(n);
}

static mc_kind parse(mc_conn *c, const char *buf, size_t len) {
    if (!c->negotiated) {
        c->binary = (unsigned char)buf[0] == MC_BIN_REQ_MAGIC;
        c->negotiated = true;
    }
    return c->binary ? mc_bin_parse(buf, len, mc_config.max_item, &c->req)
                     : mc_text_parse(buf, len, mc_config.max_item, &c->req);
}

static sea_future serve_conn(mc_conn *c) {
    for (;;) {
        /* Room to read: a request may need its whole data block in the buffer. */
        if (c->cap - c->len < READ_CHUNK) {
            size_t cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
            char *in = realloc(c->in, cap);
            if (!in)
                return sea_failed(-ENOMEM, "no memory for a connection's input");
            c->in = in;
            c->cap = cap;
        }
        c->state = "conn_waiting";
        size_t n = c->tls ? SEA_AWAIT(tls_read(c, c->in + c->len, c->cap - c->len)).size
                          : SEA_AWAIT(sea_socket_read(c->s, c->in + c->len, c->cap - c->len)).size;
        if (n == 0)
            return sea_ready(); /* the client closed */
        c->state = "conn_parse_cmd";
        c->last_cmd = mc_cache_now();
        c->len += n;
        size_t off = 0;
        bool close_after = false;
        while (off < c->len && !close_after) {
            if (c->swallow) {
                size_t drop = c->swallow < c->len - off ? c->swallow : c->len - off;
                c->swallow -= drop;
                off += drop;
                continue;
            }
            mc_request *r = &c->req;
            mc_kind k = parse(c, c->in + off, c->len - off);
            if (k == MC_NEED_MORE)
                break;
            if (k == MC_CLOSE || k == MC_QUIT) {
                if (k == MC_CLOSE) {
                    answer_error(r, &c->out);
                    log_close(c, r->error ? r->error : c->binary ? "not a binary request (bad magic byte)"
                                                                 : "a request line too long, or HTTP");
                }
                else if (r->proto == MC_PROTO_BINARY)
                    answer_simple(r, &c->out, "", NULL);
                close_after = true;
                break;
            }
            SEA_AWAIT(mc_answer(r, &c->out, c));
            if (k == MC_SWALLOW)
                c->swallow = r->swallow;
            off += r->consumed;
            if (c->out.failed)
                return sea_failed(-ENOMEM, "no memory for a connection's answers");
            if (c->out.len >= OUT_FLUSH)
                SEA_AWAIT(write_out(c));
        }
        memmove(c->in, c->in + off, c->len - off);
        c->len -= off;
        SEA_AWAIT(write_out(c));
        if (close_after)
            return sea_ready();
        /* A large value or answer grew the buffers: give the memory back once they are empty. */
        if (c->len == 0 && c->cap > 2 * READ_CHUNK) {
            free(c->in);
            c->in = NULL;
            c->cap = 0;
        }
        if (c->out.cap > 4 * OUT_KEEP) {
            free(c->out.p);
            c->out.p = NULL;
            c->out.cap = 0;
        }
    }
}

/*
 * With -Z: the handshake (a client that fails it is counted, and logged
 * with -v, but is no failure of the server's), then the connection through
 * its TLS streams, ended with close_notify when it ended in order.
 */
static sea_future tls_serve(mc_conn *c) {
    sea_future h = sea_await(sea_tls_accept(mc_tls_creds, c->s, mc_config.tls_handshake_timeout));
    if (sea_future_failed(&h)) {
        mc_tls_handshake_errors++;
        char why[300];
        snprintf(why, sizeof(why), "the TLS handshake failed: %s",
                 sea_future_message(&h) ? sea_future_message(&h) : sea_strerror(sea_future_error(&h)));
        log_close(c, why);
        sea_future_detach(h);
        return sea_ready();
    }
    c->tls = sea_future_value(&h).ptr;
    c->tin = sea_tls_input(c->tls);
    c->tout = sea_tls_output(c->tls, mc_config.ssl_wbuf_size);
    sea_future r = c->tin && c->tout ? sea_await(serve_conn(c))
                                     : sea_failed(-ENOMEM, "no memory for a TLS connection's streams");
    if (!sea_future_failed(&r) && !c->tls_broken && c->tout)
        sea_future_detach(sea_await(sea_output_close(c->tout))); /* close_notify; the client may be gone */
    if (c->tout)
        sea_output_stream_free(c->tout);
    if (c->tin)
        sea_input_stream_free(c->tin);
    sea_tls_free(c->tls);
    c->tls = NULL;
    return r;
}

sea_future mc_serve(sea_socket *s) {
    mc_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return sea_failed(-ENOMEM, "no memory for a connection");
    c->s = s;
    c->state = "conn_new_cmd";
    c->last_cmd = mc_cache_now();
    c->next = mc_shard_conns;
    if (c->next)
        c->next->prev = c;
    mc_shard_conns = c;
    /* -Z makes TCP connections TLS; a Unix socket stays plain, as in memcached */
    bool tls = mc_tls_creds && strncmp(mc_config.listen, "unix:", 5) != 0;
    sea_future r = tls ? sea_await(tls_serve(c)) : sea_await(serve_conn(c));
    if (sea_future_failed(&r))
        log_close(c, sea_future_message(&r) ? sea_future_message(&r) : sea_strerror(sea_future_error(&r)));
    if (c->prev)
        c->prev->next = c->next;
    else
        mc_shard_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->in);
    free(c->out.p);
    free(c);
    return r;
}
