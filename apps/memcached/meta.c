/*
 * meta.c - memcached's meta commands (meta.h): mg, ms, md, ma, mn, me.
 *
 * The checks, their order and their messages follow memcached 1.6.18 so that
 * the differential test can compare answers byte for byte: a command with no
 * key is ERROR, a key over 250 bytes is "bad command line format", twenty or
 * more tokens are "options flags (are) too long", a repeated flag is a
 * "duplicate flag" and an unknown one an "invalid flag" (md and ma say
 * "invalid or duplicate flag" for every flag error), and an ms whose line is
 * bad after its length swallows its data block.  Errors are always answered,
 * q or not; q hides only the nominal answer (HD, and EN for mg).
 */
#include "meta.h"

#include <stdio.h>
#include <string.h>

#define MAX_TOKENS 24          /* as text.c: memcached splits at most 23 tokens, the rest stays one */
#define FLAG_TOKENS_MAX 20     /* memcached's MFLAG_MAX_OPT_LENGTH, counted on its tokenizer's tokens */
#define OPAQUE_MAX 32          /* MFLAG_MAX_OPAQUE_LENGTH, the O included */

static const char BAD_FORMAT[] = "CLIENT_ERROR bad command line format\r\n";
static const char BAD_TOKEN[] = "CLIENT_ERROR bad token in command line format\r\n";

/* ---- base64 ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c) {
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

size_t mc_base64_decode(const char *src, size_t len, char *dst, size_t cap) {
    if (len == 0 || len % 4 != 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (src[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64_value(src[i + k])) < 0) {
                return 0;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        char bytes[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
        int take = 3 - pad;
        if (n + (size_t)take > cap)
            return 0;
        memcpy(dst + n, bytes, (size_t)take);
        n += (size_t)take;
    }
    return n;
}

size_t mc_base64_encode(const char *src, size_t len, char *dst, size_t cap) {
    size_t need = (len + 2) / 3 * 4;
    if (need > cap)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t w = (uint32_t)(unsigned char)src[i] << 16;
        if (i + 1 < len)
            w |= (uint32_t)(unsigned char)src[i + 1] << 8;
        if (i + 2 < len)
            w |= (unsigned char)src[i + 2];
        dst[n++] = B64[w >> 18 & 63];
        dst[n++] = B64[w >> 12 & 63];
        dst[n++] = i + 1 < len ? B64[w >> 6 & 63] : '=';
        dst[n++] = i + 2 < len ? B64[w & 63] : '=';
    }
    return n;
}

/* ---- slab classes, for answers that show memcached's item accounting ---- */

unsigned mc_slab_class(size_t nkey, size_t nbytes, size_t *total) {
    /* item header 48, key and its NUL, value and its \r\n, CAS 8; classes from 96 bytes, factor 1.25, 8-aligned */
    size_t size = 48 + nkey + 1 + nbytes + 2 + 8;
    if (total)
        *total = size;
    unsigned cls = 1;
    for (size_t chunk = 96; chunk < size && chunk < 512 * 1024; cls++) {
        chunk = chunk * 5 / 4;
        chunk = (chunk + 7) & ~(size_t)7;
    }
    return cls;
}

/* ---- parsing ---- */

static mc_kind reply(mc_request *r, const char *msg, size_t consumed) {
    r->kind = MC_REPLY_ERROR;
    r->error = msg;
    r->consumed = consumed;
    r->noreply = false; /* errors are always answered */
    return r->kind;
}

static mc_kind swallow(mc_request *r, const char *msg, size_t consumed, size_t bytes) {
    r->kind = MC_SWALLOW;
    r->error = msg;
    r->consumed = consumed;
    r->swallow = bytes;
    r->noreply = false;
    r->mode = MC_ADD; /* errors before the size check keep the old value */
    return r->kind;
}

/*
 * memcached's _meta_flag_preparse over the flag tokens t[0..n): fills m and
 * returns NULL, or returns the error line.  A repeated or unknown flag stops
 * at once; a bad number is noted and parsing goes on, so the last bad
 * number's message wins, as in memcached.
 */
static const char *preparse(const mc_token *t, unsigned n, mc_request *r, mc_token *key) {
    mc_meta *m = &r->meta;
    bool seen[128] = {false};
    const char *err = NULL;
    for (unsigned i = 0; i < n; i++) {
        unsigned char o = (unsigned char)t[i].p[0];
        if (o >= 127 || seen[o])
            return "CLIENT_ERROR duplicate flag\r\n";
        seen[o] = true;
        mc_token arg = {t[i].p + 1, t[i].len - 1};
        switch (o) {
        case 'b': {
            size_t got = mc_base64_decode(key->p, key->len, m->key, sizeof(m->key));
            if (got == 0)
                err = "CLIENT_ERROR error decoding key\r\n";
            *key = (mc_token){m->key, got};
            m->key_binary = true;
            break;
        }
        case 'N': /* the times: a TTL as memcached's exptime rules read it */
        case 'T':
        case 'R': {
            bool *given = o == 'N' ? &m->vivify : o == 'T' ? &m->new_ttl : &m->recache;
            int64_t *when = o == 'N' ? &m->vivify_exptime : o == 'T' ? &m->exptime : &m->recache_time;
            if (mc_parse_i32(arg, when))
                *given = true;
            else
                err = BAD_TOKEN;
            break;
        }
        case 'O': case 'P': case 'L': case 'k': case 's': case 't': case 'c': case 'f': case 'l': case 'h':
            break;
        case 'v':
            m->value = true;
            break;
        case 'u':
            m->no_update = true;
            break;
        case 'q':
            r->noreply = true;
            break;
        case 'F':
            if (!mc_parse_u32(arg, &m->client_flags))
                err = BAD_FORMAT;
            break;
        case 'C':
            if (!mc_parse_u64(arg, &m->cas))
                err = BAD_TOKEN;
            else
                m->has_cas = true;
            break;
        case 'M':
            if (t[i].len != 2)
                err = "CLIENT_ERROR incorrect length for M token\r\n";
            else
                m->mode = t[i].p[1];
            break;
        case 'J':
            if (!mc_parse_u64(arg, &m->initial))
                err = "CLIENT_ERROR invalid numeric initial value\r\n";
            break;
        case 'D':
            if (!mc_parse_u64(arg, &m->delta))
                err = "CLIENT_ERROR invalid numeric delta value\r\n";
            break;
        case 'I':
            m->set_stale = true;
            break;
        default:
            return "CLIENT_ERROR invalid flag\r\n";
        }
    }
    return err;
}

static bool opaque_too_long(const mc_token *t, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        if (t[i].p[0] == 'O' && t[i].len > OPAQUE_MAX)
            return true;
    return false;
}

mc_kind mc_meta_parse(const char *buf, size_t len, size_t line_len, size_t consumed, size_t max_item,
                      mc_request *r) {
    mc_token t[MAX_TOKENS + 1];
    unsigned n = mc_tokenize(buf, line_len, t, MAX_TOKENS);
    unsigned mem_ntokens = (n > MAX_TOKENS - 1 ? MAX_TOKENS - 1 : n) + 1; /* memcached's count, its end included */
    mc_meta *m = &r->meta;
    memset(m, 0, offsetof(mc_meta, key));
    m->cmd = t[0].p[1];
    m->delta = 1;
    r->proto = MC_PROTO_META;
    r->noreply = false;
    switch (m->cmd) {
    case 'n':
        r->kind = MC_NOOP;
        r->consumed = consumed;
        return r->kind;
    case 'e': /* me <key> [b] */
        if (n < 2 || t[1].len > MC_KEY_MAX)
            return reply(r, BAD_FORMAT, consumed);
        if (n >= 3 && t[2].len == 1 && t[2].p[0] == 'b') {
            size_t got = mc_base64_decode(t[1].p, t[1].len, m->key, sizeof(m->key));
            if (got == 0)
                return reply(r, BAD_FORMAT, consumed);
            r->key = (mc_key){m->key, (uint8_t)got};
            m->key_binary = true;
        } else {
            r->key = (mc_key){t[1].p, (uint8_t)t[1].len};
        }
        r->kind = MC_META_DEBUG;
        r->consumed = consumed;
        return r->kind;
    case 'g': case 's': case 'd': case 'a':
        break;
    default:
        return reply(r, "ERROR\r\n", consumed);
    }
    if (n < 2)
        return reply(r, "ERROR\r\n", consumed);
    if (t[1].len > MC_KEY_MAX)
        return reply(r, BAD_FORMAT, consumed);
    const char *too_long = m->cmd == 'g' ? "CLIENT_ERROR options flags are too long\r\n"
                                         : "CLIENT_ERROR options flags too long\r\n";
    unsigned first = 2; /* the first flag token */
    size_t vlen = 0;
    if (m->cmd == 's') {
        if (n == 2)
            return reply(r, BAD_FORMAT, consumed);
        if (mem_ntokens > FLAG_TOKENS_MAX)
            return reply(r, too_long, consumed);
        int64_t v;
        if (!mc_parse_i32(t[2], &v) || v < 0 || v > 0x7ffffffd)
            return reply(r, BAD_FORMAT, consumed);
        vlen = (size_t)v;
        first = 3;
    } else if (mem_ntokens > FLAG_TOKENS_MAX) {
        return reply(r, too_long, consumed);
    }
    mc_token key = t[1];
    unsigned nflags = n - first;
    const char *err = preparse(t + first, nflags, r, &key);
    m->flags = nflags ? t[first].p : buf + line_len;
    m->flags_len = nflags ? (size_t)(t[n - 1].p + t[n - 1].len - t[first].p) : 0;
    r->key = (mc_key){key.p, (uint8_t)key.len};
    bool quiet = r->noreply;

    switch (m->cmd) {
    case 'g':
        if (err)
            return reply(r, err, consumed);
        if (opaque_too_long(t + first, nflags))
            return reply(r, "CLIENT_ERROR opaque token too long\r\n", consumed);
        r->kind = MC_GET;
        break;
    case 'd':
    case 'a':
        if (err)
            return reply(r, "CLIENT_ERROR invalid or duplicate flag\r\n", consumed);
        if (m->cmd == 'a' && m->mode && !strchr("I+D-", m->mode))
            return reply(r, "CLIENT_ERROR invalid mode for ma M token\r\n", consumed);
        if (opaque_too_long(t + first, nflags))
            return reply(r, "CLIENT_ERROR opaque token too long\r\n", consumed);
        r->kind = m->cmd == 'd' ? MC_DELETE : MC_ARITH;
        break;
    case 's': {
        size_t block = vlen + 2;
        if (err)
            return swallow(r, err, consumed, block);
        int mode = MC_SET;
        switch (m->mode) {
        case 0: case 'S': mode = MC_SET; break;
        case 'E': mode = MC_ADD; break;
        case 'A': mode = MC_APPEND; break;
        case 'P': mode = MC_PREPEND; break;
        case 'R': mode = MC_REPLACE; break;
        default: return swallow(r, "CLIENT_ERROR invalid mode for ms M token\r\n", consumed, block);
        }
        if (opaque_too_long(t + first, nflags))
            return swallow(r, "CLIENT_ERROR opaque token too long\r\n", consumed, block);
        if (m->has_cas && (mode == MC_SET || mode == MC_REPLACE))
            mode = MC_CAS; /* as memcached: a CAS makes set and replace a cas */
        if (!mc_item_fits(key.len, vlen, max_item)) {
            swallow(r, "SERVER_ERROR object too large for cache\r\n", consumed, block);
            r->mode = MC_SET; /* memcached drops the old value whatever the mode */
            return r->kind;
        }
        if (len < consumed + block) {
            r->kind = MC_NEED_MORE;
            r->consumed = 0;
            return r->kind;
        }
        if (buf[consumed + vlen] != '\r' || buf[consumed + vlen + 1] != '\n')
            return reply(r, "CLIENT_ERROR bad data chunk\r\n", consumed + block);
        r->mode = (mc_store_mode)mode;
        r->flags = m->client_flags;
        r->exptime = m->exptime;
        r->cas_unique = m->cas;
        r->data = buf + consumed;
        r->nbytes = (uint32_t)vlen;
        r->kind = MC_STORE;
        r->consumed = consumed + block;
        r->noreply = quiet;
        return r->kind;
    }
    }
    r->noreply = quiet;
    r->consumed = consumed;
    return r->kind;
}

/* ---- running, on the key's shard ---- */

static void put_key(mc_out *o, const char *key, size_t nkey, bool binary) {
    mc_out_str(o, " k");
    if (!binary) {
        mc_out_put(o, key, nkey);
        return;
    }
    char enc[(MC_KEY_MAX + 2) / 3 * 4];
    mc_out_put(o, enc, mc_base64_encode(key, nkey, enc, sizeof(enc)));
    mc_out_str(o, " b");
}

static void put_ttl(mc_out *o, const mc_item *it, int64_t now) {
    mc_out_str(o, " t");
    if (it->exptime == 0)
        mc_out_str(o, "-1");
    else
        mc_out_u64(o, (uint32_t)(it->exptime - now));
}

/* The next flag token of m->flags from *i; len 0 at the end. */
static mc_token next_flag(const mc_meta *m, size_t *i) {
    while (*i < m->flags_len && m->flags[*i] == ' ')
        (*i)++;
    size_t start = *i;
    while (*i < m->flags_len && m->flags[*i] != ' ')
        (*i)++;
    return (mc_token){m->flags + start, *i - start};
}

/* The flags every answer echoes: O (opaque) and k (the key). */
static void put_echoes(mc_out *o, const mc_meta *m, const char *key, size_t nkey, bool binary) {
    size_t i = 0;
    for (mc_token f; (f = next_flag(m, &i)).len;) {
        if (f.p[0] == 'O') {
            mc_out_put(o, " ", 1);
            mc_out_put(o, f.p, f.len);
        } else if (f.p[0] == 'k') {
            put_key(o, key, nkey, binary);
        }
    }
}

static void meta_get(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now) {
    const mc_meta *m = &r->meta;
    mc_item *it = mc_cache_find(c, r->key.p, r->key.len, hash, now);
    bool created = false, won = false;
    if (!it && m->vivify) { /* memcached does not mark a vivified item's key as base64 */
        it = mc_cache_vivify(c, r->key.p, r->key.len, hash, 0, now);
        created = it != NULL;
    }
    mc_cache_count(c, it != NULL, m->new_ttl);
    if (!it) {
        if (r->noreply)
            return;
        mc_out_str(o, "EN");
        put_echoes(o, m, r->key.p, r->key.len, m->key_binary);
        mc_out_str(o, "\r\n");
        return;
    }
    if (m->value) {
        mc_out_str(o, "VA ");
        mc_out_u64(o, it->nbytes);
    } else {
        mc_out_str(o, "HD");
    }
    /* h and l report the item as it was before this request touched it */
    bool fetched = it->iflags & MC_ITEM_FETCHED;
    uint32_t atime = it->atime;
    size_t i = 0;
    for (mc_token f; (f = next_flag(m, &i)).len;) {
        switch (f.p[0]) {
        case 'T':
            it->exptime = mc_cache_exptime(m->exptime, now);
            break;
        case 'N':
            if (created) {
                it->exptime = mc_cache_exptime(m->vivify_exptime, now);
                won = true;
            }
            break;
        case 'R':
            if (!(it->iflags & MC_ITEM_TOKEN_SENT) && !created && it->exptime != 0 &&
                it->exptime < mc_cache_exptime(m->recache_time, now))
                won = true;
            break;
        case 's':
            mc_out_str(o, " s");
            mc_out_u64(o, it->nbytes);
            break;
        case 't':
            put_ttl(o, it, now);
            break;
        case 'c':
            mc_out_str(o, " c");
            mc_out_u64(o, it->cas);
            break;
        case 'f':
            mc_out_str(o, " f");
            mc_out_u64(o, it->flags);
            break;
        case 'l':
            mc_out_str(o, " l");
            mc_out_u64(o, (uint32_t)(now - atime));
            break;
        case 'h':
            mc_out_str(o, fetched ? " h1" : " h0");
            break;
        case 'O':
            mc_out_put(o, " ", 1);
            mc_out_put(o, f.p, f.len);
            break;
        case 'k':
            put_key(o, mc_item_key(it), it->nkey, it->iflags & MC_ITEM_KEY_BINARY);
            break;
        default:
            break;
        }
    }
    if (it->iflags & MC_ITEM_TOKEN_SENT)
        mc_out_str(o, " Z");
    if (it->iflags & MC_ITEM_STALE) {
        mc_out_str(o, " X");
        if (!(it->iflags & MC_ITEM_TOKEN_SENT))
            won = true; /* stale and nobody recaching it yet: this client does */
    }
    if (won) {
        mc_out_str(o, " W");
        it->iflags |= MC_ITEM_TOKEN_SENT;
    }
    mc_out_str(o, "\r\n");
    if (m->value) {
        mc_out_put(o, mc_item_value(it), it->nbytes);
        mc_out_str(o, "\r\n");
    }
    if (!m->no_update)
        mc_cache_bump(c, it, now);
}

static void meta_set(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now) {
    const mc_meta *m = &r->meta;
    mc_store s = {.mode = r->mode, .flags = r->flags, .exptime = r->exptime, .value = r->data, .nbytes = r->nbytes,
                  .cas = m->cas, .cas_stale = m->set_stale && r->mode == MC_CAS};
    mc_item *it = NULL;
    mc_result res = mc_cache_store(c, r->key.p, r->key.len, hash, &s, now, &it);
    const char *code;
    switch (res) {
    case MC_STORED:
        if (m->key_binary)
            it->iflags |= MC_ITEM_KEY_BINARY;
        if (r->noreply)
            return;
        code = "HD";
        break;
    case MC_EXISTS: code = "EX"; break;
    case MC_NOT_FOUND: code = "NF"; break;
    case MC_NOT_STORED: code = "NS"; break;
    default:
        mc_out_str(o, "SERVER_ERROR out of memory storing object\r\n");
        return;
    }
    mc_out_str(o, code);
    size_t i = 0;
    for (mc_token f; (f = next_flag(m, &i)).len;) {
        if (f.p[0] == 'O') {
            mc_out_put(o, " ", 1);
            mc_out_put(o, f.p, f.len);
        } else if (f.p[0] == 'k') {
            put_key(o, r->key.p, r->key.len, m->key_binary);
        } else if (f.p[0] == 'c') {
            mc_out_str(o, " c");
            mc_out_u64(o, res == MC_STORED ? it->cas : 0);
        }
    }
    mc_out_str(o, "\r\n");
}

static void meta_delete(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now) {
    const mc_meta *m = &r->meta;
    mc_item *it = mc_cache_find(c, r->key.p, r->key.len, hash, now);
    const char *code;
    if (!it) {
        code = "NF";
    } else if (m->has_cas && it->cas != m->cas) {
        code = "EX";
    } else {
        if (m->set_stale) { /* keep it, stale, with a new CAS: the next reader wins the right to recache */
            if (m->new_ttl)
                it->exptime = mc_cache_exptime(m->exptime, now);
            it->iflags = (uint8_t)((it->iflags | MC_ITEM_STALE) & ~MC_ITEM_TOKEN_SENT);
            mc_cache_recas(c, it);
        } else {
            mc_cache_remove(c, it);
        }
        if (r->noreply)
            return;
        code = "HD";
    }
    mc_out_str(o, code);
    put_echoes(o, m, r->key.p, r->key.len, m->key_binary);
    mc_out_str(o, "\r\n");
}

static void meta_arith(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now) {
    const mc_meta *m = &r->meta;
    bool existed = mc_cache_find(c, r->key.p, r->key.len, hash, now) != NULL;
    mc_arith a = {.incr = m->mode != 'D' && m->mode != '-', .delta = m->delta, .cas = m->cas, .create = m->vivify,
                  .initial = m->initial, .create_exptime = 0};
    uint64_t v = 0;
    mc_item *it = NULL;
    mc_result res = mc_cache_arith(c, r->key.p, r->key.len, hash, &a, &v, &it, now);
    if (res == MC_NON_NUMERIC) {
        mc_out_str(o, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
        return;
    }
    if (res == MC_NO_MEMORY) {
        mc_out_str(o, "SERVER_ERROR out of memory\r\n");
        return;
    }
    if (res != MC_OK) {
        mc_out_str(o, res == MC_EXISTS ? "EX" : "NF");
        put_echoes(o, m, r->key.p, r->key.len, m->key_binary);
        mc_out_str(o, "\r\n");
        return;
    }
    bool created = !existed;
    char num[24];
    int nlen = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    size_t mark = o->len; /* with q the whole answer is dropped, after the flags had their effect */
    if (m->value) {
        mc_out_str(o, "VA ");
        mc_out_u64(o, (uint64_t)nlen);
    } else {
        mc_out_str(o, "HD");
    }
    size_t i = 0;
    for (mc_token f; (f = next_flag(m, &i)).len;) {
        switch (f.p[0]) {
        case 'c':
            mc_out_str(o, " c");
            mc_out_u64(o, it->cas);
            break;
        case 't':
            put_ttl(o, it, now);
            break;
        case 'T':
            it->exptime = mc_cache_exptime(m->exptime, now);
            break;
        case 'N':
            if (created)
                it->exptime = mc_cache_exptime(m->vivify_exptime, now);
            break;
        case 'O':
            mc_out_put(o, " ", 1);
            mc_out_put(o, f.p, f.len);
            break;
        case 'k':
            put_key(o, r->key.p, r->key.len, m->key_binary);
            break;
        default:
            break;
        }
    }
    if (m->value) {
        mc_out_str(o, "\r\n");
        mc_out_put(o, num, (size_t)nlen);
    }
    mc_out_str(o, "\r\n");
    if (r->noreply && !created && !o->failed) /* memcached answers a q that created the item */
        o->len = mark;
}

static void meta_debug(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now) {
    mc_item *it = mc_cache_find(c, r->key.p, r->key.len, hash, now);
    if (!it) {
        mc_out_str(o, "EN\r\n");
        return;
    }
    mc_out_str(o, "ME ");
    if (it->iflags & MC_ITEM_KEY_BINARY) {
        char enc[(MC_KEY_MAX + 2) / 3 * 4];
        mc_out_put(o, enc, mc_base64_encode(mc_item_key(it), it->nkey, enc, sizeof(enc)));
    } else {
        mc_out_put(o, mc_item_key(it), it->nkey);
    }
    size_t total;
    unsigned cls = mc_slab_class(it->nkey, it->nbytes, &total);
    char line[160];
    int n = snprintf(line, sizeof(line), " exp=%d la=%llu cas=%llu fetch=%s cls=%u size=%zu\r\n",
                     it->exptime == 0 ? -1 : (int)(now - it->exptime), (unsigned long long)(now - it->atime),
                     (unsigned long long)it->cas, it->iflags & MC_ITEM_FETCHED ? "yes" : "no", cls, total);
    mc_out_put(o, line, (size_t)n);
}

void mc_meta_run(mc_cache *c, const mc_request *r, uint64_t hash, mc_out *o, int64_t now) {
    switch (r->kind) {
    case MC_GET: meta_get(c, r, hash, o, now); break;
    case MC_STORE: meta_set(c, r, hash, o, now); break;
    case MC_DELETE: meta_delete(c, r, hash, o, now); break;
    case MC_ARITH: meta_arith(c, r, hash, o, now); break;
    case MC_META_DEBUG: meta_debug(c, r, hash, o, now); break;
    default: break;
    }
}
