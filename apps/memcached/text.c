/*
 * text.c - the text protocol's parser (text.h).
 *
 * The rules are memcached 1.6.18's, checked against it byte for byte by the
 * differential test (tests/memcached_diff.py), including its quirks: tokens
 * are separated by runs of spaces; a line ends at "\n", with or without
 * "\r"; a storage command's line with a bad number is answered
 * "CLIENT_ERROR bad command line format" and its data block is then read as
 * commands (memcached does not skip it); a value too large is answered
 * "SERVER_ERROR object too large for cache" and its data block is skipped; a
 * data block not followed by "\r\n" is "CLIENT_ERROR bad data chunk" and
 * takes exactly its announced length plus two bytes; a sixth token on a set
 * line that is not "noreply" is ignored, a seventh is an error.  Once a line
 * says "noreply", nothing is answered to it, errors included (memcached
 * drops the next reply, whatever it is).
 */
#include "text.h"

#include "meta.h"

#include <string.h>

#define MAX_TOKENS 24 /* per line, command included; a get line may have more (its keys) */
/* A line longer than this with no end yet is closed on, unless it is a get (memcached's 2048). */
#define PLAIN_LINE_MAX 2048
/* memcached's item header, its key's NUL and its data's \r\n, and the CAS value. */
#define ITEM_OVERHEAD (48 + 1 + 2 + 8)

static const char ERR[] = "ERROR\r\n";
static const char BAD_FORMAT[] = "CLIENT_ERROR bad command line format\r\n";
static const char BAD_CHUNK[] = "CLIENT_ERROR bad data chunk\r\n";
static const char TOO_LARGE[] = "SERVER_ERROR object too large for cache\r\n";
static const char BAD_DELTA[] = "CLIENT_ERROR invalid numeric delta argument\r\n";
static const char BAD_EXPTIME[] = "CLIENT_ERROR invalid exptime argument\r\n";
static const char BAD_DELETE[] = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";
static const char LINE_TOO_LONG[] = "CLIENT_ERROR line too long\r\n";

typedef mc_token token;

static bool tok_is(token t, const char *word) {
    size_t n = strlen(word);
    return t.len == n && memcmp(t.p, word, n) == 0;
}

/* strtoull's rules, as memcached's safe_strtoull: digits only (no sign, no spaces), no overflow. */
bool mc_parse_u64(token t, uint64_t *out) {
    if (t.len == 0 || t.len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < t.len; i++) {
        unsigned d = (unsigned char)t.p[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/*
 * A signed decimal as memcached's safe_strtol on a 64-bit machine: strtol
 * into a long, then stored into 32 bits, so that values beyond them wrap
 * (memcached takes exptime 3000000000 as a negative time: already expired).
 */
bool mc_parse_i32(token t, int64_t *out) {
    bool neg = t.len > 0 && t.p[0] == '-';
    token digits = {t.p + neg, t.len - neg};
    uint64_t v;
    if (!mc_parse_u64(digits, &v) || v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return false;
    int64_t l = neg ? (int64_t)(0 - v) : (int64_t)v;
    *out = (int32_t)(uint32_t)(uint64_t)l;
    return true;
}

/* Flags: safe_strtoul into 32 bits, so larger values are kept modulo 2^32, as memcached does on 64-bit. */
bool mc_parse_u32(token t, uint32_t *out) {
    uint64_t v;
    if (!mc_parse_u64(t, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool key_ok(token t) {
    return t.len > 0 && t.len <= MC_KEY_MAX;
}

static mc_key key_of(token t) {
    return (mc_key){t.p, (uint8_t)t.len};
}

static mc_kind reply_error(mc_request *r, const char *msg, size_t consumed) {
    r->kind = MC_REPLY_ERROR;
    r->error = msg;
    r->consumed = consumed;
    return r->kind;
}

/* The next token of line[0..len) from *i (runs of spaces separate tokens); an empty token at the end. */
static token next_token(const char *line, size_t len, size_t *i) {
    while (*i < len && line[*i] == ' ')
        (*i)++;
    size_t start = *i;
    while (*i < len && line[*i] != ' ')
        (*i)++;
    return (token){line + start, *i - start};
}

/* Splits line[0..len) into at most max tokens; returns how many (max+1: too many). */
unsigned mc_tokenize(const char *line, size_t len, token *t, unsigned max) {
    unsigned n = 0;
    size_t i = 0;
    for (token tk; (tk = next_token(line, len, &i)).len > 0;) {
        if (n == max)
            return max + 1;
        t[n++] = tk;
    }
    return n;
}

/*
 * The keys of a get line from line[i]: at most MC_GET_KEYS_MAX of them; if
 * more follow, r->more is set and r->consumed stops at the next key, where
 * the next call (continue_get) goes on.  END is answered after the last part.
 */
static mc_kind get_keys(const char *line, size_t len, size_t i, size_t consumed, mc_request *r) {
    r->nkeys = 0;
    r->more = false;
    for (token k; (k = next_token(line, len, &i)).len > 0;) {
        if (r->nkeys == MC_GET_KEYS_MAX) {
            r->more = true;
            consumed = (size_t)(k.p - line);
            break;
        }
        r->keys[r->nkeys++] = key_of(k);
    }
    r->kind = MC_GET;
    r->consumed = consumed;
    return r->kind;
}

static mc_kind parse_get(const char *line, size_t len, size_t consumed, token cmd, mc_request *r) {
    r->with_cas = tok_is(cmd, "gets") || tok_is(cmd, "gats");
    r->touch = cmd.p[1] == 'a';
    r->nkeys = 0;
    size_t i = cmd.len;
    if (r->touch) { /* gat EXPTIME KEY...; with no key at all memcached answers an empty result */
        token ex = next_token(line, len, &i);
        if (ex.len == 0)
            return reply_error(r, ERR, consumed);
        if (!mc_parse_i32(ex, &r->exptime))
            return reply_error(r, BAD_EXPTIME, consumed);
    }
    /* Every key is checked before any is answered: a bad one anywhere makes the whole line an error. */
    unsigned n = 0;
    for (size_t j = i; ; n++) {
        token k = next_token(line, len, &j);
        if (k.len == 0)
            break;
        if (!key_ok(k))
            return reply_error(r, BAD_FORMAT, consumed);
    }
    if (n == 0 && !r->touch)
        return reply_error(r, ERR, consumed);
    return get_keys(line, len, i, consumed, r);
}

static mc_kind parse_store(const char *buf, size_t len, size_t max_item, size_t consumed, const token *t,
                           unsigned n, mc_request *r) {
    bool cas = tok_is(t[0], "cas");
    unsigned need = cas ? 6 : 5; /* command key flags exptime bytes [cas] */
    if (n < need || n > need + 1)
        return reply_error(r, ERR, consumed);
    r->noreply = n == need + 1 && tok_is(t[need], "noreply");
    r->cas_unique = 0; /* only cas compares */
    int64_t nbytes;
    if (!key_ok(t[1]) || !mc_parse_u32(t[2], &r->flags) || !mc_parse_i32(t[3], &r->exptime) ||
        !mc_parse_i32(t[4], &nbytes) || nbytes < 0 || (cas && !mc_parse_u64(t[5], &r->cas_unique))) {
        return reply_error(r, BAD_FORMAT, consumed);
    }
    r->key = key_of(t[1]);
    if (tok_is(t[0], "set"))
        r->mode = MC_SET;
    else if (tok_is(t[0], "add"))
        r->mode = MC_ADD;
    else if (tok_is(t[0], "replace"))
        r->mode = MC_REPLACE;
    else if (tok_is(t[0], "append"))
        r->mode = MC_APPEND;
    else if (tok_is(t[0], "prepend"))
        r->mode = MC_PREPEND;
    else
        r->mode = MC_CAS;
    if (!mc_item_fits(t[1].len, (size_t)nbytes, max_item)) {
        r->kind = MC_SWALLOW;
        r->error = TOO_LARGE;
        r->consumed = consumed;
        r->swallow = (size_t)nbytes + 2;
        return r->kind;
    }
    size_t total = consumed + (size_t)nbytes + 2;
    if (len < total) {
        r->kind = MC_NEED_MORE;
        r->consumed = 0;
        return r->kind;
    }
    if (buf[total - 2] != '\r' || buf[total - 1] != '\n') {
        return reply_error(r, BAD_CHUNK, total);
    }
    r->data = buf + consumed;
    r->nbytes = (uint32_t)nbytes;
    r->kind = MC_STORE;
    r->consumed = total;
    return r->kind;
}

bool mc_item_fits(size_t nkey, size_t nbytes, size_t max_item) {
    return (uint64_t)nbytes + nkey + ITEM_OVERHEAD <= max_item;
}

static bool starts_with(const char *buf, size_t len, const char *word) {
    size_t n = strlen(word);
    return len >= n && memcmp(buf, word, n) == 0;
}

mc_kind mc_text_parse(const char *buf, size_t len, size_t max_item, mc_request *r) {
    r->kind = MC_NEED_MORE;
    r->proto = MC_PROTO_TEXT;
    r->consumed = 0;
    r->noreply = false;
    r->error = NULL;
    const char *nl = memchr(buf, '\n', len < MC_LINE_MAX ? len : MC_LINE_MAX);
    if (!nl) {
        bool get = starts_with(buf, len, "get ") || starts_with(buf, len, "gets ") || starts_with(buf, len, "gat ") ||
                   starts_with(buf, len, "gats ");
        if (len >= MC_LINE_MAX || (!get && len > PLAIN_LINE_MAX)) {
            r->kind = MC_CLOSE;
            r->error = get ? LINE_TOO_LONG : NULL; /* memcached closes on a long non-get line without a word */
        }
        return r->kind;
    }
    size_t consumed = (size_t)(nl - buf) + 1;
    size_t line_len = (size_t)(nl - buf);
    if (line_len > 0 && buf[line_len - 1] == '\r')
        line_len--;
    if (r->more) /* the rest of a get line with more keys than one part holds */
        return get_keys(buf, line_len, 0, consumed, r);

    /* The command word first: a get line may hold more tokens than any other. */
    size_t after_cmd = 0;
    token cmd = next_token(buf, line_len, &after_cmd);
    if (cmd.len == 0)
        return reply_error(r, ERR, consumed);
    if (cmd.len == 2 && cmd.p[0] == 'm') /* the meta commands: mg ms md ma mn me */
        return mc_meta_parse(buf, len, line_len, consumed, max_item, r);
    if (tok_is(cmd, "get") || tok_is(cmd, "gets") || tok_is(cmd, "gat") || tok_is(cmd, "gats"))
        return parse_get(buf, line_len, consumed, cmd, r);

    token t[MAX_TOKENS + 1];
    unsigned n = mc_tokenize(buf, line_len, t, MAX_TOKENS);
    if (n > MAX_TOKENS)
        return reply_error(r, ERR, consumed);
    if (tok_is(cmd, "set") || tok_is(cmd, "add") || tok_is(cmd, "replace") || tok_is(cmd, "append") ||
        tok_is(cmd, "prepend") || tok_is(cmd, "cas"))
        return parse_store(buf, len, max_item, consumed, t, n, r);

    if (tok_is(cmd, "delete")) {
        if (n < 2 || n > 4)
            return reply_error(r, ERR, consumed);
        if (n > 2) {
            bool hold_is_zero = tok_is(t[2], "0");
            r->noreply = tok_is(t[n - 1], "noreply");
            bool valid = (n == 3 && (hold_is_zero || r->noreply)) || (n == 4 && hold_is_zero && r->noreply);
            if (!valid) {
                return reply_error(r, BAD_DELETE, consumed);
            }
        }
        if (!key_ok(t[1])) {
            return reply_error(r, BAD_FORMAT, consumed);
        }
        r->key = key_of(t[1]);
        r->kind = MC_DELETE;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "incr") || tok_is(cmd, "decr")) {
        if (n < 3 || n > 4)
            return reply_error(r, ERR, consumed);
        r->noreply = n == 4 && tok_is(t[3], "noreply");
        if (!key_ok(t[1])) {
            return reply_error(r, BAD_FORMAT, consumed);
        }
        if (!mc_parse_u64(t[2], &r->delta)) {
            return reply_error(r, BAD_DELTA, consumed);
        }
        r->incr = cmd.p[0] == 'i';
        r->key = key_of(t[1]);
        r->kind = MC_ARITH;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "touch")) {
        if (n < 3 || n > 4)
            return reply_error(r, ERR, consumed);
        r->noreply = n == 4 && tok_is(t[3], "noreply");
        if (!key_ok(t[1])) {
            return reply_error(r, BAD_FORMAT, consumed);
        }
        if (!mc_parse_i32(t[2], &r->exptime)) {
            return reply_error(r, BAD_EXPTIME, consumed);
        }
        r->key = key_of(t[1]);
        r->kind = MC_TOUCH;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "flush_all")) { /* flush_all [delay] [noreply]; as memcached, a third token means a delay */
        if (n > 3)
            return reply_error(r, ERR, consumed);
        r->noreply = tok_is(t[n - 1], "noreply");
        r->exptime = 0;
        if (n != (r->noreply ? 2u : 1u) && !mc_parse_i32(t[1], &r->exptime)) {
            return reply_error(r, BAD_EXPTIME, consumed);
        }
        r->kind = MC_FLUSH_ALL;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "version")) { /* extra tokens are ignored, as memcached does */
        r->kind = MC_VERSION;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "verbosity") && (n == 2 || n == 3)) {
        r->noreply = tok_is(t[n - 1], "noreply");
        r->kind = MC_VERBOSITY;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "refresh_certs")) { /* any tokens; a last "noreply" silences only its OK, as memcached */
        r->noreply = n > 1 && tok_is(t[n - 1], "noreply");
        r->kind = MC_REFRESH_CERTS;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "quit")) {
        r->kind = MC_QUIT;
        r->consumed = consumed;
        return r->kind;
    }
    if (tok_is(cmd, "stats")) {
        r->key = n > 1 && t[1].len <= MC_KEY_MAX ? key_of(t[1]) : (mc_key){"", 0};
        r->kind = MC_STATS;
        r->consumed = consumed;
        return r->kind;
    }
    /* memcached hangs up on what looks like HTTP: the last token it split starts with "HTTP/" */
    token last = t[(n > MAX_TOKENS - 1 ? MAX_TOKENS - 1 : n) - 1];
    if (last.len >= 5 && memcmp(last.p, "HTTP/", 5) == 0) {
        r->kind = MC_CLOSE;
        r->consumed = consumed;
        return r->kind;
    }
    return reply_error(r, ERR, consumed);
}
