/*
 * binary.c - memcached's binary protocol parser and packet headers (binary.h).
 *
 * Validation follows memcached 1.6.18's dispatch_bin_command() so that a
 * client sees the same thing from both servers: memcached waits for the
 * header, extras and key before it looks at a request; a body shorter than
 * its key and extras is "Unknown command" and the connection closes; a key
 * over 250 bytes or extras of the wrong size for the opcode is "Invalid
 * arguments" and the connection closes; an unknown opcode (verbosity and
 * SASL included: memcached built without SASL) is "Unknown command" and its
 * body is skipped.  Only storage commands wait for their value; the other
 * commands take the header, extras and key, whatever the body length says,
 * exactly as memcached does.
 */
#include "binary.h"

#include <string.h>

static uint16_t be16(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint16_t)(u[0] << 8 | u[1]);
}

static uint32_t be32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static uint64_t be64(const char *p) {
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put16(char *p, uint16_t v) {
    p[0] = (char)(v >> 8);
    p[1] = (char)v;
}

static void put32(char *p, uint32_t v) {
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

const char *mc_bin_status_text(uint16_t status) {
    switch (status) {
    case MC_BIN_ENOMEM: return "Out of memory";
    case MC_BIN_UNKNOWN_COMMAND: return "Unknown command";
    case MC_BIN_KEY_ENOENT: return "Not found";
    case MC_BIN_EINVAL: return "Invalid arguments";
    case MC_BIN_KEY_EEXISTS: return "Data exists for key.";
    case MC_BIN_E2BIG: return "Too large.";
    case MC_BIN_DELTA_BADVAL: return "Non-numeric server-side value for incr or decr";
    case MC_BIN_NOT_STORED: return "Not stored.";
    default: return "";
    }
}

void mc_bin_header(char h[MC_BIN_HEADER], const mc_request *r, uint16_t status, uint8_t extlen, uint16_t keylen,
                   uint32_t bodylen, uint64_t cas) {
    h[0] = (char)MC_BIN_RES_MAGIC;
    h[1] = (char)r->opcode;
    put16(h + 2, keylen);
    h[4] = (char)extlen;
    h[5] = 0; /* raw bytes */
    put16(h + 6, status);
    put32(h + 8, bodylen);
    memcpy(h + 12, &r->opaque, 4); /* echoed as sent */
    put32(h + 16, (uint32_t)(cas >> 32));
    put32(h + 20, (uint32_t)cas);
}

static mc_kind fail(mc_request *r, mc_kind kind, uint16_t status, size_t consumed, size_t swallow) {
    r->kind = kind;
    r->status = status;
    r->error = mc_bin_status_text(status);
    r->consumed = consumed;
    r->swallow = swallow;
    return kind;
}

/* A malformed request: "Invalid arguments", then the connection closes. */
static mc_kind protocol_error(mc_request *r, size_t consumed) {
    return fail(r, MC_CLOSE, MC_BIN_EINVAL, consumed, 0);
}

static mc_kind done(mc_request *r, mc_kind kind, size_t consumed) {
    r->kind = kind;
    r->consumed = consumed;
    return kind;
}

/* The quiet opcodes answer like their loud twins, but only errors (and get hits). */
static uint8_t loud(uint8_t op, bool *quiet) {
    static const uint8_t twin[][2] = {
        {MC_BIN_SETQ, MC_BIN_SET},         {MC_BIN_ADDQ, MC_BIN_ADD},     {MC_BIN_REPLACEQ, MC_BIN_REPLACE},
        {MC_BIN_DELETEQ, MC_BIN_DELETE},   {MC_BIN_INCREMENTQ, MC_BIN_INCREMENT},
        {MC_BIN_DECREMENTQ, MC_BIN_DECREMENT}, {MC_BIN_QUITQ, MC_BIN_QUIT}, {MC_BIN_FLUSHQ, MC_BIN_FLUSH},
        {MC_BIN_APPENDQ, MC_BIN_APPEND},   {MC_BIN_PREPENDQ, MC_BIN_PREPEND}, {MC_BIN_GETQ, MC_BIN_GET},
        {MC_BIN_GETKQ, MC_BIN_GETK},       {MC_BIN_GATQ, MC_BIN_GAT},     {MC_BIN_GATKQ, MC_BIN_GATK},
    };
    for (size_t i = 0; i < sizeof(twin) / sizeof(twin[0]); i++) {
        if (twin[i][0] == op) {
            *quiet = true;
            return twin[i][1];
        }
    }
    *quiet = false;
    return op;
}

mc_kind mc_bin_parse(const char *buf, size_t len, size_t max_item, mc_request *r) {
    r->kind = MC_NEED_MORE;
    r->proto = MC_PROTO_BINARY;
    r->consumed = 0;
    r->noreply = false;
    r->error = NULL;
    r->status = MC_BIN_OK;
    r->with_cas = false;
    r->touch = false;
    r->return_key = false;
    r->create = false;
    r->mode = MC_ADD; /* only a binary set that is too large drops the old value */
    if (len < MC_BIN_HEADER) {
        if (len > 0 && (unsigned char)buf[0] != MC_BIN_REQ_MAGIC)
            return done(r, MC_CLOSE, 0); /* memcached closes on a bad magic without a word */
        return MC_NEED_MORE;
    }
    if ((unsigned char)buf[0] != MC_BIN_REQ_MAGIC)
        return done(r, MC_CLOSE, 0);
    r->opcode = (uint8_t)buf[1];
    uint16_t keylen = be16(buf + 2);
    uint8_t extlen = (uint8_t)buf[4];
    uint32_t bodylen = be32(buf + 8);
    memcpy(&r->opaque, buf + 12, 4);
    r->cas_unique = be64(buf + 16);
    size_t head = MC_BIN_HEADER + (size_t)extlen + keylen; /* what memcached reads before it dispatches */
    if (len < head)
        return MC_NEED_MORE;
    if (keylen > bodylen || (uint32_t)keylen + extlen > bodylen)
        return fail(r, MC_CLOSE, MC_BIN_UNKNOWN_COMMAND, head, 0);
    if (keylen > MC_KEY_MAX)
        return protocol_error(r, head);

    const char *ext = buf + MC_BIN_HEADER;
    r->key = (mc_key){ext + extlen, (uint8_t)keylen};
    bool quiet;
    uint8_t op = loud(r->opcode, &quiet);
    r->noreply = quiet;
    switch (op) {
    case MC_BIN_VERSION:
        return extlen == 0 && keylen == 0 && bodylen == 0 ? done(r, MC_VERSION, head) : protocol_error(r, head);
    case MC_BIN_NOOP:
        return extlen == 0 && keylen == 0 && bodylen == 0 ? done(r, MC_NOOP, head) : protocol_error(r, head);
    case MC_BIN_QUIT:
        return extlen == 0 && keylen == 0 && bodylen == 0 ? done(r, MC_QUIT, head) : protocol_error(r, head);
    case MC_BIN_FLUSH:
        if (keylen != 0 || bodylen != extlen || (extlen != 0 && extlen != 4))
            return protocol_error(r, head);
        r->exptime = extlen == 4 ? (int64_t)be32(ext) : 0;
        return done(r, MC_FLUSH_ALL, head);
    case MC_BIN_SET:
    case MC_BIN_ADD:
    case MC_BIN_REPLACE:
    case MC_BIN_APPEND:
    case MC_BIN_PREPEND: {
        bool append = op == MC_BIN_APPEND || op == MC_BIN_PREPEND;
        if (append ? (keylen == 0 || extlen != 0) : (extlen != 8 || keylen == 0 || bodylen < (uint32_t)keylen + 8))
            return protocol_error(r, head);
        size_t vlen = bodylen - keylen - extlen;
        r->mode = op == MC_BIN_SET       ? MC_SET
                  : op == MC_BIN_ADD     ? MC_ADD
                  : op == MC_BIN_REPLACE ? MC_REPLACE
                  : op == MC_BIN_APPEND  ? MC_APPEND
                                         : MC_PREPEND;
        if (!mc_item_fits(keylen, vlen, max_item)) /* a set also drops the old value, as in text */
            return fail(r, MC_SWALLOW, MC_BIN_E2BIG, head, vlen);
        if (len < head + vlen)
            return MC_NEED_MORE;
        r->flags = append ? 0 : be32(ext);
        r->exptime = append ? 0 : (int64_t)be32(ext + 4);
        if (r->cas_unique != 0 && !append)
            r->mode = MC_CAS; /* memcached turns any set, add or replace with a CAS into a cas */
        r->data = buf + head;
        r->nbytes = (uint32_t)vlen;
        return done(r, MC_STORE, head + vlen);
    }
    case MC_BIN_GET:
    case MC_BIN_GETK:
        if (extlen != 0 || bodylen != keylen || keylen == 0)
            return protocol_error(r, head);
        r->return_key = op == MC_BIN_GETK;
        r->nkeys = 1;
        r->keys[0] = r->key;
        return done(r, MC_GET, head);
    case MC_BIN_TOUCH:
    case MC_BIN_GAT:
    case MC_BIN_GATK:
        if (extlen != 4 || keylen == 0)
            return protocol_error(r, head);
        r->exptime = (int64_t)be32(ext);
        if (op == MC_BIN_TOUCH)
            return done(r, MC_TOUCH, head);
        r->touch = true;
        r->return_key = op == MC_BIN_GATK;
        r->nkeys = 1;
        r->keys[0] = r->key;
        return done(r, MC_GET, head);
    case MC_BIN_DELETE:
        if (keylen == 0 || extlen != 0 || bodylen != keylen)
            return protocol_error(r, head);
        return done(r, MC_DELETE, head);
    case MC_BIN_INCREMENT:
    case MC_BIN_DECREMENT: {
        if (keylen == 0 || extlen != 20 || bodylen != (uint32_t)keylen + extlen)
            return protocol_error(r, head);
        uint32_t expiration = be32(ext + 16);
        r->incr = op == MC_BIN_INCREMENT;
        r->delta = be64(ext);
        r->initial = be64(ext + 8);
        r->create = expiration != 0xffffffffu;
        r->create_exptime = (int64_t)expiration;
        return done(r, MC_ARITH, head);
    }
    case MC_BIN_STAT:
        if (extlen != 0)
            return protocol_error(r, head);
        return done(r, MC_STATS, head);
    case MC_BIN_SASL_LIST_MECHS:
        if (extlen != 0 || keylen != 0 || bodylen != 0)
            return protocol_error(r, head);
        return fail(r, MC_SWALLOW, MC_BIN_UNKNOWN_COMMAND, head, 0);
    case MC_BIN_SASL_AUTH:
    case MC_BIN_SASL_STEP:
        if (extlen != 0 || keylen == 0)
            return protocol_error(r, head);
        return fail(r, MC_SWALLOW, MC_BIN_UNKNOWN_COMMAND, head, bodylen - keylen); /* no SASL here */
    default:
        /* memcached skips the whole body after the extras and key it already took */
        return fail(r, MC_SWALLOW, MC_BIN_UNKNOWN_COMMAND, head, bodylen);
    }
}
