/*
 * form.c - percent-decoding, and looking a name up in form-encoded text
 * (a query string, an application/x-www-form-urlencoded body).
 */
#include "http/http.h"

#include <errno.h>
#include <string.h>

static int hex(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long sea_http_decode(const char *in, size_t len, char *out, size_t outlen, bool plus_is_space) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -EINVAL;
            int h = hex((unsigned char)in[i + 1]), l = h < 0 ? -1 : hex((unsigned char)in[i + 2]);
            if (h < 0 || l < 0)
                return -EINVAL;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == 0)
            return -EINVAL;
        if (o + 1 >= outlen)
            return -ENOSPC;
        out[o++] = c;
    }
    if (outlen == 0)
        return -ENOSPC;
    out[o] = 0;
    return (long)o;
}

long sea_http_form_get(const char *form, size_t len, const char *name, char *out, size_t outlen) {
    size_t name_len = strlen(name);
    const char *end = form + len;
    for (const char *p = form; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *key_end = eq ? eq : pair_end;
        /* Names are compared decoded, so "a%5Fb" finds "a_b". */
        char key[256];
        long k = sea_http_decode(p, (size_t)(key_end - p), key, sizeof(key), true);
        if (k >= 0 && (size_t)k == name_len && memcmp(key, name, name_len) == 0) {
            if (!eq)
                return sea_http_decode("", 0, out, outlen, true);
            return sea_http_decode(eq + 1, (size_t)(pair_end - eq - 1), out, outlen, true);
        }
        p = pair_end + 1;
    }
    return -ENOENT;
}

long sea_http_query_get(const sea_http_request *req, const char *name, char *out, size_t outlen) {
    return sea_http_form_get(req->query, strlen(req->query), name, out, outlen);
}
