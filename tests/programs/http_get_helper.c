/*
 * http_get_helper.c - a command-line HTTP client on sea/http_client.h, for
 * tests that drive it against real servers (tests/apps/test_http_client_peers.py):
 *
 *     http_get_helper [sea options] ADDRESS COMMAND...
 *
 * One client for ADDRESS ("127.0.0.1:8080"); each COMMAND is one argument,
 * its words separated by spaces, run in order:
 *
 *   METHOD PATH [Name=Value...] [>FILE]   a request, its response read whole (the body saved to FILE)
 *   STREAM PATH [Name=Value...]           a GET through the streaming call, its body read piece by piece
 *   PAR N PATH                            N GETs of PATH at once
 *   EACH N PATH                           on every shard, a client of its own makes N GETs of PATH at once
 *                                         (its connections are that shard's: sea_connect from each shard)
 *   OPT max_connections=N                 a new client with that option (the old one closed)
 *   OPT tls=CAFILE                        a new client speaking HTTPS, trusting CAFILE, for "localhost"
 *
 * For each response it prints one line:
 *
 *   METHOD PATH STATUS len=BYTES fnv=FNV1A64 cl=CONTENT_LENGTH te=TRANSFER_ENCODING ce=CONTENT_ENCODING conn=CONNECTION
 *
 * (a missing header is "-"), or "METHOD PATH error ERRNAME MESSAGE"; for EACH, one
 * line per shard instead: "EACH PATH shard=I ok=K of N fnv=FNV1A64" (K answers 200 whose
 * bodies all hash to FNV; " mixed" after it if they differ), after any errors; at the end
 * "stats connects=N requests=N reused=N retries=N stale=N".  Exit code 0,
 * or 2 for a malformed command line.
 */
#include <sea/sea.h>
#include <sea/http_client.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * UINT64_C(1099511628211);
    return h;
}
#define FNV_START UINT64_C(14695981039346656037)

static const char *hdr(const sea_http_client_response *r, const char *name) {
    const char *v = sea_http_client_response_header(r, name);
    return v && *v ? v : "-";
}

static void print_response(const char *method, const char *path, const sea_http_client_response *r, uint64_t len,
                           uint64_t h) {
    printf("%s %s %d len=%" PRIu64 " fnv=%016" PRIx64 " cl=%" PRId64 " te=%s ce=%s conn=%s\n", method, path, r->status,
           len, h, r->content_length, hdr(r, "Transfer-Encoding"), hdr(r, "Content-Encoding"), hdr(r, "Connection"));
}

static void print_error(const char *method, const char *path, sea_future *f) {
    int err = sea_future_error(f);
    const char *m = sea_future_message(f);
    printf("%s %s error %s %s\n", method, path, sea_errname(err), m ? m : sea_strerror(err));
}

/* Splits s (modified) into at most max words; returns how many. */
static int split(char *s, char **w, int max) {
    int n = 0;
    for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
        w[n++] = t;
    return n;
}

static int run_request(sea_http_client *c, char **w, int n) {
    const char *method = w[0], *path = w[1];
    sea_http_header headers[16];
    unsigned nh = 0;
    const char *save = NULL;
    for (int i = 2; i < n; i++) {
        char *eq = strchr(w[i], '=');
        if (w[i][0] == '>') {
            save = w[i] + 1;
        } else if (eq && nh < 16) {
            *eq = 0;
            headers[nh++] = (sea_http_header){w[i], eq + 1};
        } else {
            fprintf(stderr, "http_get_helper: cannot read \"%s\"\n", w[i]);
            return 2;
        }
    }
    bool stream = strcmp(method, "STREAM") == 0;
    sea_http_client_req req = {.method = stream ? "GET" : method, .path = path, .headers = headers,
                               .header_count = nh};
    sea_http_client_response r;
    sea_future f = sea_await(stream ? sea_http_client_request_stream(c, &req, &r)
                                    : sea_http_client_request(c, &req, &r));
    if (sea_future_failed(&f)) {
        print_error(method, path, &f);
        sea_future_detach(f);
        return 0;
    }
    sea_future_detach(f);
    uint64_t h = FNV_START, len = 0;
    if (stream) {
        for (;;) {
            sea_buf b;
            sea_future g = sea_await(sea_input_read(r.body_stream, &b));
            if (sea_future_failed(&g)) {
                print_error(method, path, &g);
                sea_future_detach(g);
                sea_http_client_response_free(&r);
                return 0;
            }
            sea_future_detach(g);
            if (b.len == 0)
                break;
            h = fnv(h, b.data, b.len);
            len += b.len;
            sea_buf_release(&b);
        }
    } else {
        h = fnv(h, r.body.data, r.body.len);
        len = r.body.len;
        if (save) {
            FILE *out = fopen(save, "wb");
            if (!out || fwrite(r.body.data, 1, r.body.len, out) != r.body.len || fclose(out) != 0)
                fprintf(stderr, "http_get_helper: cannot write %s\n", save);
        }
    }
    print_response(method, path, &r, len, h);
    sea_http_client_response_free(&r);
    return 0;
}

static int run_parallel(sea_http_client *c, int count, const char *path) {
    sea_http_client_response *r = calloc((size_t)count, sizeof(*r));
    sea_future *f = calloc((size_t)count, sizeof(*f));
    for (int i = 0; i < count; i++)
        f[i] = sea_http_client_get(c, path, &r[i]);
    sea_future_detach(sea_await(sea_when_all(f, (size_t)count)));
    for (int i = 0; i < count; i++) {
        if (sea_future_failed(&f[i]))
            print_error("GET", path, &f[i]);
        else
            print_response("GET", path, &r[i], r[i].body.len, fnv(FNV_START, r[i].body.data, r[i].body.len));
        sea_future_detach(sea_future_move(&f[i]));
        sea_http_client_response_free(&r[i]);
    }
    free(f);
    free(r);
    return 0;
}

/* EACH: what every shard is given. */
struct each_arg {
    char addr[64];
    char path[128];
    int count;
};

static sea_future each_fiber(struct each_arg *a) {
    unsigned id = sea_shard_id();
    sea_http_client *c;
    int rc = sea_http_client_new(a->addr, NULL, &c);
    if (rc < 0) {
        printf("EACH %s shard=%u error %s\n", a->path, id, sea_strerror(rc));
        fflush(stdout);
        return sea_ready();
    }
    sea_http_client_response *r = calloc((size_t)a->count, sizeof(*r));
    sea_future *f = calloc((size_t)a->count, sizeof(*f));
    int ok = 0;
    bool same = true;
    uint64_t h0 = 0;
    if (r && f) {
        for (int i = 0; i < a->count; i++)
            f[i] = sea_http_client_get(c, a->path, &r[i]);
        sea_future_detach(sea_await(sea_when_all(f, (size_t)a->count)));
        for (int i = 0; i < a->count; i++) {
            if (sea_future_failed(&f[i])) {
                print_error("GET", a->path, &f[i]);
            } else if (r[i].status == 200) {
                uint64_t h = fnv(FNV_START, r[i].body.data, r[i].body.len);
                same = same && (ok == 0 || h == h0);
                h0 = ok++ == 0 ? h : h0;
            }
            sea_future_detach(sea_future_move(&f[i]));
            sea_http_client_response_free(&r[i]);
        }
    }
    printf("EACH %s shard=%u ok=%d of %d fnv=%016" PRIx64 "%s\n", a->path, id, ok, a->count, h0, same ? "" : " mixed");
    fflush(stdout);
    free(f);
    free(r);
    sea_future_detach(sea_await(sea_http_client_close(c)));
    return sea_ready();
}

static sea_future each_start(struct each_arg *a) {
    return sea_fiber_start(each_fiber, *a);
}

static int run_each(const char *addr, int count, const char *path) {
    struct each_arg a = {.count = count};
    if (count < 1 || strlen(addr) >= sizeof(a.addr) || strlen(path) >= sizeof(a.path)) {
        fprintf(stderr, "http_get_helper: EACH: a count of 1 or more, an address and a path not too long\n");
        return 2;
    }
    memcpy(a.addr, addr, strlen(addr) + 1);
    memcpy(a.path, path, strlen(path) + 1);
    sea_future f = sea_await(sea_invoke_on_all(each_start, a));
    if (sea_future_failed(&f))
        print_error("EACH", path, &f);
    sea_future_detach(f);
    return 0;
}

static void print_stats(sea_http_client *c) {
    sea_http_client_stats st;
    sea_http_client_stats_get(c, &st);
    printf("stats connects=%" PRIu64 " requests=%" PRIu64 " reused=%" PRIu64 " retries=%" PRIu64 " stale=%" PRIu64
           "\n",
           st.connects, st.requests, st.reused, st.retries, st.stale);
}

static sea_future app_main(void) {
    int argc;
    char **argv = sea_app_args(&argc);
    if (argc < 1) {
        fprintf(stderr, "usage: http_get_helper [sea options] ADDRESS COMMAND...\n");
        return sea_ready_int(2);
    }
    sea_http_client *c;
    sea_tls_creds *creds = NULL; /* OPT tls= */
    int rc = sea_http_client_new(argv[0], NULL, &c);
    if (rc < 0) {
        fprintf(stderr, "http_get_helper: %s: %s\n", argv[0], sea_strerror(rc));
        return sea_ready_int(2);
    }
    int status = 0;
    for (int i = 1; i < argc && !status; i++) {
        char *w[24];
        int n = split(argv[i], w, 24);
        if (n == 2 && strcmp(w[0], "OPT") == 0 && strncmp(w[1], "max_connections=", 16) == 0) {
            print_stats(c);
            sea_future_detach(sea_await(sea_http_client_close(c)));
            rc = sea_http_client_new(argv[0], &(sea_http_client_options){.max_connections = (unsigned)atoi(w[1] + 16)},
                                     &c);
            if (rc < 0)
                return sea_ready_int(2);
        } else if (n == 2 && strcmp(w[0], "OPT") == 0 && strncmp(w[1], "tls=", 4) == 0) {
            print_stats(c);
            sea_future_detach(sea_await(sea_http_client_close(c)));
            char why[512];
            sea_tls_creds_free(creds);
            creds = NULL;
            rc = sea_tls_creds_new(SEA_TLS_CLIENT, &(sea_tls_options){.ca_file = w[1] + 4}, &creds, why, sizeof(why));
            if (rc == 0)
                rc = sea_http_client_new(argv[0], &(sea_http_client_options){.tls = creds, .tls_name = "localhost"},
                                         &c);
            if (rc < 0) {
                fprintf(stderr, "http_get_helper: TLS: %s\n", rc == -EINVAL ? why : sea_strerror(rc));
                sea_tls_creds_free(creds);
                return sea_ready_int(2);
            }
        } else if (n == 3 && strcmp(w[0], "PAR") == 0) {
            status = run_parallel(c, atoi(w[1]), w[2]);
        } else if (n == 3 && strcmp(w[0], "EACH") == 0) {
            status = run_each(argv[0], atoi(w[1]), w[2]);
        } else if (n >= 2) {
            status = run_request(c, w, n);
        } else {
            fprintf(stderr, "http_get_helper: cannot read \"%s\"\n", argv[i]);
            status = 2;
        }
        fflush(stdout);
    }
    print_stats(c);
    fflush(stdout);
    sea_future_detach(sea_await(sea_http_client_close(c)));
    sea_tls_creds_free(creds);
    return sea_ready_int(status);
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, app_main);
}
