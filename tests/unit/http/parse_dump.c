/*
 * parse_dump.c - what sea's HTTP/1.x parsers (http/parse.h) make of a
 * byte stream, one JSON line per input, for the differential test against
 * Node's llhttp (test_http_diff.py; http_oracle.js prints the same shape).
 *
 *     parse_dump FILE...         each file (or "-": stdin) is one input
 *     parse_dump --lines FILE    each line "ID HEX" is one input (the test's form)
 *
 * An input is what a client sent on one connection: the requests are read
 * as the server reads them, one after another, until the input ends, one is
 * refused, or one ends the connection (not keep-alive, or CONNECT).  A line:
 *
 *     {"id": ..., "requests": [REQ...], "end": END, "status": N, "error": "why"}
 *
 * REQ is {"method", "target", "version" ("1.0"/"1.1"), "headers" ([[name,
 * value]...]), "body" (hex), "keep_alive", "start" (its offset in the
 * input)}, for each request read whole (head and body); "next" is the
 * offset of the first byte not in one of them.  END is "eof" (the input ended between requests, empty
 * lines aside), "incomplete" (it ended inside a request), "reject" (status
 * and error say why: a head refused, or a malformed chunked body), or
 * "close" (the last request ends the connection; the bytes after it are not
 * read).  Strings are bytes as JSON strings, a byte above 0x7e as \u00XX
 * (Latin-1, as Node decodes them).
 *
 * The limits are sea_http_server_options' defaults: request line 8 KiB,
 * head 16 KiB, 100 header fields, trailers up to the head's limit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

static const struct sea__http_limits limits = {.max_request_line = 8192, .max_head = 16384, .max_headers = 100};

static void put_str(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\u%04x", c);
    }
    fputc('"', f);
}

static void put_cstr(FILE *f, const char *s) {
    put_str(f, s, strlen(s));
}

static void put_hex(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", (unsigned char)s[i]);
    fputc('"', f);
}

/* A growing byte string. */
struct bytes {
    char *p;
    size_t n, cap;
};

static void bytes_add(struct bytes *b, const char *s, size_t n) {
    if (n == 0)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            perror("parse_dump");
            exit(2);
        }
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* Only CR and LF: what a server skips between requests. */
static bool only_newlines(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Reads and prints one input of n bytes. */
static void dump(FILE *f, const char *id, const char *in, size_t n) {
    fputs("{\"id\": ", f);
    put_cstr(f, id);
    fputs(", \"requests\": [", f);
    size_t pos = 0;
    int nreq = 0, status = 0;
    const char *end = "eof", *error = NULL;
    sea_http_header *headers = malloc(sizeof(*headers) * limits.max_headers);
    for (;;) {
        if (only_newlines(in + pos, n - pos)) {
            end = "eof";
            break;
        }
        struct sea__http_scan scan = {0};
        long found = sea__http_head_find(in + pos, n - pos, &limits, &scan);
        if (found == 0) {
            end = "incomplete";
            break;
        }
        if (found < 0) {
            end = "reject";
            status = (int)-found;
            error = status == 414 ? "request line too long" : "head too large";
            break;
        }
        size_t start = pos, hlen = (size_t)found;
        char *head = malloc(hlen), *path = malloc(hlen + 1);
        memcpy(head, in + pos, hlen);
        struct sea__http_head h;
        int rc = sea__http_head_parse(head, hlen, &limits, headers, path, &h);
        if (rc != 0) {
            end = "reject";
            status = rc;
            error = h.error;
            free(head);
            free(path);
            break;
        }
        pos += hlen;
        bool connect = strcmp(h.method, "CONNECT") == 0;
        struct bytes body = {0};
        bool complete = true;
        if (connect) {
            /* What follows a CONNECT is the tunnel's, not HTTP. */
        } else if (h.chunked) {
            struct sea__http_chunked d = {0};
            while (!sea__http_chunked_done(&d)) {
                const char *data;
                size_t data_len;
                long used = sea__http_chunked_feed(&d, in + pos, n - pos, limits.max_head, &data, &data_len);
                if (used < 0) {
                    status = 400;
                    error = d.error;
                    break;
                }
                bytes_add(&body, data, data_len);
                pos += (size_t)used;
                if (used == 0 && !sea__http_chunked_done(&d))
                    break;
            }
            complete = sea__http_chunked_done(&d);
        } else if ((uint64_t)h.content_length > n - pos) {
            complete = false;
        } else {
            bytes_add(&body, in + pos, (size_t)h.content_length);
            pos += (size_t)h.content_length;
        }
        if (status || !complete) {
            pos = start;
            end = status ? "reject" : "incomplete";
            free(body.p);
            free(head);
            free(path);
            break;
        }
        fputs(nreq++ ? ", {\"method\": " : "{\"method\": ", f);
        put_cstr(f, h.method);
        fputs(", \"target\": ", f);
        put_cstr(f, h.target);
        fprintf(f, ", \"version\": \"%s\", \"headers\": [", h.version == 10 ? "1.0" : "1.1");
        for (unsigned k = 0; k < h.header_count; k++) {
            fputs(k ? ", [" : "[", f);
            put_cstr(f, h.headers[k].name);
            fputs(", ", f);
            put_cstr(f, h.headers[k].value);
            fputs("]", f);
        }
        fputs("], \"body\": ", f);
        put_hex(f, body.p, body.n);
        fprintf(f, ", \"keep_alive\": %s, \"start\": %zu}", h.keep_alive ? "true" : "false", start);
        free(body.p);
        free(head);
        free(path);
        if (connect || !h.keep_alive) {
            end = "close";
            break;
        }
    }
    fprintf(f, "], \"end\": \"%s\", \"next\": %zu", end, pos);
    if (status) {
        fprintf(f, ", \"status\": %d, \"error\": ", status);
        put_cstr(f, error ? error : "?");
    }
    fputs("}\n", f);
    free(headers);
}

static bool read_all(FILE *f, struct bytes *b) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        bytes_add(b, buf, n);
    return !ferror(f);
}

static int hexdigit(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Each line "ID HEX". */
static int dump_lines(const char *name) {
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
    if (!f) {
        fprintf(stderr, "parse_dump: %s: %s\n", name, strerror(errno));
        return 2;
    }
    struct bytes all = {0};
    if (!read_all(f, &all)) {
        fprintf(stderr, "parse_dump: %s: read error\n", name);
        return 2;
    }
    bytes_add(&all, "\n", 1);
    char *p = all.p, *stop = all.p + all.n;
    int rc = 0;
    while (p < stop) {
        char *nl = memchr(p, '\n', (size_t)(stop - p));
        *nl = 0;
        if (*p) {
            char *sp = strchr(p, ' ');
            size_t hexlen = sp ? strlen(sp + 1) : 0;
            if (!sp || hexlen % 2) {
                fprintf(stderr, "parse_dump: %s: a line is not \"ID HEX\": %.40s\n", name, p);
                rc = 2;
                break;
            }
            *sp = 0;
            char *raw = malloc(hexlen / 2 + 1);
            for (size_t i = 0; i < hexlen / 2; i++) {
                int h = hexdigit((unsigned char)sp[1 + 2 * i]), l = hexdigit((unsigned char)sp[2 + 2 * i]);
                if (h < 0 || l < 0) {
                    fprintf(stderr, "parse_dump: %s: bad hex in input %s\n", name, p);
                    exit(2);
                }
                raw[i] = (char)(h * 16 + l);
            }
            dump(stdout, p, raw, hexlen / 2);
            free(raw);
        }
        p = nl + 1;
    }
    free(all.p);
    if (f != stdin)
        fclose(f);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fprintf(stderr, "usage: parse_dump FILE... | parse_dump --lines FILE  (\"-\": stdin)\n");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--lines") == 0)
        return dump_lines(argv[2]);
    int rc = 0;
    for (int i = 1; i < argc || (argc == 1 && i == 1); i++) {
        const char *name = argc == 1 ? "-" : argv[i];
        FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
        struct bytes b = {0};
        if (!f || !read_all(f, &b)) {
            fprintf(stderr, "parse_dump: %s: %s\n", name, strerror(errno));
            rc = 2;
            continue;
        }
        if (f != stdin)
            fclose(f);
        dump(stdout, name, b.p ? b.p : "", b.n);
        free(b.p);
    }
    fflush(stdout);
    return rc;
}
