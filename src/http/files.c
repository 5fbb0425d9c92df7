/*
 * files.c - serving a directory's files (sea_http_files) over the disk API:
 * conditional requests, byte ranges, and a per-shard cache of small files.
 *
 * Every open goes through openat2 with RESOLVE_BENEATH (sea_file_options'
 * beneath), so the kernel, not string checks, keeps a request inside the
 * root: "..", absolute symbolic links and links that lead out all fail.
 * The path is also refused earlier, with the same 404, when a segment
 * starts with "." (hidden files, and ".." however it was encoded: the path
 * arrives decoded).
 *
 * A file up to cache_file_max is read whole once and kept, per shard, in
 * memory: answering it again costs no system call, and its body goes out
 * as a reference to the cached buffer.  A cached file is checked against
 * the disk (one stat) when it is older than cache_validity, and dropped if
 * it changed; the least recently used go when the cache is over
 * cache_bytes.  Larger files are streamed from the disk in pieces.
 */
#include "http/http.h"

#include <sea/fiber.h>
#include <sea/file.h>
#include <sea/reactor.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/list.h"

#define BUCKETS 1024
/* Large files held open per shard, at most. */
#define OPEN_FILES_MAX 256
/* A large file is sent in pieces of this much, each brought into the page cache first if it is not. */
#define SEND_PIECE (1024 * 1024)
/* A file up to this size is checked for the page cache whole, and then trusted to stay for cache_validity. */
#define CHECK_WHOLE (8 * 1024 * 1024)

struct entry {
    struct entry *next_in_bucket;
    struct sea__link lru;   /* most recently used at the back */
    char *key;              /* the path under the root */
    uint64_t hash;
    sea_buf data;           /* a small file: its bytes */
    sea_file *file;         /* a large file: open (buffered), sent with sendfile */
    unsigned users;         /* requests sending from file right now */
    bool doomed;            /* dropped from the cache while in use: freed by its last user */
    unsigned shard;         /* the shard that opened file */
    sea_time in_cache_at;   /* when all of file was last seen in the page cache (0: never) */
    struct stat st;
    sea_time checked;
};

struct cache {
    struct entry *buckets[BUCKETS];
    struct sea__list lru;
    size_t bytes;
    unsigned files;         /* entries holding an open file */
};

struct files {
    char *root;
    char *prefix;  /* "" for "/" */
    char *index;
    size_t cache_file_max, cache_bytes;
    sea_time validity;
    unsigned nshards;
    struct cache *caches; /* one per shard */
};

/* ---- MIME types ---- */

const char *sea_http_mime_type(const char *name) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},   {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"}, {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},   {"xml", "application/xml"},
        {"svg", "image/svg+xml"},             {"png", "image/png"},
        {"jpg", "image/jpeg"},                {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},                 {"webp", "image/webp"},
        {"avif", "image/avif"},               {"ico", "image/vnd.microsoft.icon"},
        {"pdf", "application/pdf"},           {"wasm", "application/wasm"},
        {"woff", "font/woff"},                {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},                  {"otf", "font/otf"},
        {"mp4", "video/mp4"},                 {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},                {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},                 {"zip", "application/zip"},
        {"gz", "application/gzip"},           {"tar", "application/x-tar"},
        {"map", "application/json"},          {"bin", "application/octet-stream"},
    };
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* ---- the cache ---- */

static uint64_t hash_of(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct entry *cache_find(struct cache *c, const char *key, uint64_t h) {
    for (struct entry *e = c->buckets[h % BUCKETS]; e; e = e->next_in_bucket)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void entry_free(struct entry *e) {
    sea_buf_release(&e->data); /* a response still sending it keeps its own reference */
    if (e->file && e->shard == sea_shard_id())
        sea_future_detach(sea_file_close(e->file)); /* else the disk layer closes it when its shard stops */
    free(e->key);
    free(e);
}

static void cache_drop(struct cache *c, struct entry *e) {
    struct entry **p = &c->buckets[e->hash % BUCKETS];
    while (*p != e)
        p = &(*p)->next_in_bucket;
    *p = e->next_in_bucket;
    sea__list_remove(&c->lru, &e->lru);
    c->bytes -= e->data.len;
    if (e->file)
        c->files--;
    if (e->users)
        e->doomed = true; /* a request is sending from its file: the last one frees it */
    else
        entry_free(e);
}

static void entry_put(struct entry *e) {
    if (--e->users == 0 && e->doomed)
        entry_free(e);
}

/* Adds a small file's bytes, or a large file's open descriptor, to the cache; returns the entry or NULL. */
static struct entry *cache_add(struct files *f, struct cache *c, const char *key, uint64_t h, sea_buf data,
                               sea_file *file, const struct stat *st) {
    struct entry *e = calloc(1, sizeof(*e));
    char *k = e ? strdup(key) : NULL;
    if (!k) {
        free(e);
        sea_buf_release(&data);
        if (file)
            sea_future_detach(sea_file_close(file));
        return NULL;
    }
    while ((c->bytes + data.len > f->cache_bytes || (file && c->files >= OPEN_FILES_MAX)) &&
           !sea__list_empty(&c->lru))
        cache_drop(c, sea__container_of(sea__list_first(&c->lru), struct entry, lru));
    *e = (struct entry){.key = k, .hash = h, .data = data, .file = file, .shard = sea_shard_id(), .st = *st,
                        .checked = sea_lowres_now()};
    e->next_in_bucket = c->buckets[h % BUCKETS];
    c->buckets[h % BUCKETS] = e;
    sea__list_push_back(&c->lru, &e->lru);
    c->bytes += data.len;
    if (file)
        c->files++;
    return e;
}

static void files_free(void *arg) {
    struct files *f = arg;
    for (unsigned s = 0; s < f->nshards; s++) {
        struct cache *c = &f->caches[s];
        while (!sea__list_empty(&c->lru))
            cache_drop(c, sea__container_of(sea__list_first(&c->lru), struct entry, lru));
    }
    free(f->caches);
    free(f->root);
    free(f->prefix);
    free(f->index);
    free(f);
}

/* ---- answering ---- */

static bool same_file(const struct stat *a, const struct stat *b) {
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void etag_of(const struct stat *st, char out[64]) {
    snprintf(out, 64, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_mtim.tv_sec * 1000000000ull + (unsigned long long)st->st_mtim.tv_nsec,
             (unsigned long long)st->st_size);
}

/* Does an If-None-Match list hold etag (weak comparison, RFC 9110 section 13.1.2)? */
static bool etag_listed(const char *list, const char *etag) {
    size_t n = strlen(etag);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == 0 || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

/*
 * Parses a Range header for a file of size bytes: 1 with [*from, *to] set
 * for one satisfiable range, 0 to ignore it (not bytes, several ranges,
 * malformed: the whole file is sent), -1 when unsatisfiable (416).
 */
static int parse_range(const char *v, uint64_t size, uint64_t *from, uint64_t *to) {
    if (strncmp(v, "bytes=", 6) != 0)
        return 0;
    v += 6;
    while (*v == ' ')
        v++;
    if (strchr(v, ','))
        return 0;
    char *end;
    if (*v == '-') {
        if (v[1] < '0' || v[1] > '9')
            return 0;
        unsigned long long n = strtoull(v + 1, &end, 10);
        if (*end && *end != ' ')
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    if (*v < '0' || *v > '9')
        return 0;
    unsigned long long a = strtoull(v, &end, 10);
    if (*end != '-')
        return 0;
    v = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*v >= '0' && *v <= '9') {
        b = strtoull(v, &end, 10);
        if ((*end && *end != ' ') || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    } else if (*v && *v != ' ') {
        return 0;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b;
    return 1;
}

/*
 * The headers and status common to cached and streamed files: validators,
 * conditionals (true when it answered 304) and the range to send.
 */
static bool prepare(sea_http_request *req, sea_http_response *resp, const char *key, const struct stat *st,
                    uint64_t *from, uint64_t *len) {
    char etag[64], date[30];
    etag_of(st, etag);
    sea__http_format_date(st->st_mtim.tv_sec, date);
    sea_http_response_add_header(resp, "Last-Modified", date);
    sea_http_response_add_header(resp, "ETag", etag);
    const char *inm = sea_http_header_get(req, "If-None-Match");
    const char *ims = sea_http_header_get(req, "If-Modified-Since");
    bool not_modified = false;
    if (inm) {
        not_modified = etag_listed(inm, etag);
    } else if (ims) {
        long t = sea__http_parse_date(ims);
        not_modified = t >= 0 && st->st_mtim.tv_sec <= t;
    }
    if (not_modified) {
        sea_http_response_set_status(resp, 304);
        return true;
    }
    sea_http_response_set_type(resp, sea_http_mime_type(key));
    sea_http_response_add_header(resp, "Accept-Ranges", "bytes");
    uint64_t size = (uint64_t)st->st_size;
    *from = 0;
    *len = size;
    const char *range = sea_http_header_get(req, "Range");
    const char *if_range = sea_http_header_get(req, "If-Range");
    if (range && (!if_range || strcmp(if_range, etag) == 0 || strcmp(if_range, date) == 0)) {
        uint64_t a, b;
        char cr[96];
        int r = parse_range(range, size, &a, &b);
        if (r < 0) {
            snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
            sea_http_response_error(resp, 416, "the range is outside the file");
            sea_http_response_add_header(resp, "Content-Range", cr);
            return true;
        }
        if (r > 0) {
            snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)a, (unsigned long long)b,
                     (unsigned long long)size);
            sea_http_response_set_status(resp, 206);
            sea_http_response_add_header(resp, "Content-Range", cr);
            *from = a;
            *len = b - a + 1;
        }
    }
    return false;
}

/*
 * Sends [pos, pos + len) of a large file with sendfile, a piece at a time,
 * each brought into the page cache on a syscall thread first if it is not
 * there, so that the shard never waits for the disk.
 */
static sea_future send_file(struct files *fs, struct entry *e, sea_http_request *req, sea_http_response *resp,
                            uint64_t pos, uint64_t len) {
    sea_output_stream *out = sea_http_response_stream(resp, (int64_t)len);
    if (!out)
        return sea_failed(-ENOMEM, "no memory for a response stream");
    bool head = strcmp(req->method, "HEAD") == 0;
    int fd = sea_file_fd(e->file);
    uint64_t size = (uint64_t)e->st.st_size;
    sea_time now = sea_lowres_now();
    /*
     * cachestat walks the file's pages: for a file of a few MiB, once per
     * cache_validity for the whole file, not at every request.
     */
    bool whole = size <= CHECK_WHOLE;
    if (!head && whole && (!e->in_cache_at || now - e->in_cache_at >= fs->validity)) {
        if (sea_file_cached(e->file, 0, size) != 1)
            sea_future_ignore(sea_await(sea_file_prefetch(e->file, 0, size))); /* if it fails, sendfile reads */
        e->in_cache_at = now;
    }
    sea_future f = sea_ready();
    while (!head && len > 0) {
        size_t piece = len > SEND_PIECE ? SEND_PIECE : (size_t)len;
        if (!whole && sea_file_cached(e->file, pos, piece) != 1)
            sea_future_ignore(sea_await(sea_file_prefetch(e->file, pos, piece)));
        sea_future_ignore(f);
        f = sea_await(sea__http_response_send_file(resp, fd, pos, piece));
        if (sea_future_failed(&f))
            return f;
        pos += piece;
        len -= piece;
    }
    sea_future_ignore(f);
    return sea_output_close(out);
}

static int reply_not_found(sea_http_response *resp) {
    return sea_http_response_error(resp, 404, "no such file");
}

/* The key is fine: it has no segment starting with "." and no empty segment but the last. */
static bool acceptable(const char *rel) {
    const char *seg = rel;
    for (;;) {
        const char *slash = strchr(seg, '/');
        if (seg[0] == '.' || (slash == seg))
            return false;
        if (!slash)
            return true;
        seg = slash + 1;
        if (!*seg)
            return true; /* a trailing "/": a directory */
    }
}

static sea_future files_handler(sea_http_request *req, sea_http_response *resp, void *data) {
    struct files *f = data;
    const char *rel = sea_http_param(req, "path");
    if (!rel)
        rel = "";
    if (*rel && !acceptable(rel))
        return reply_not_found(resp) < 0 ? sea_failed(-ENOMEM, "no memory") : sea_ready();
    size_t rlen = strlen(rel);
    bool dir = rlen == 0 || rel[rlen - 1] == '/';
    char key[PATH_MAX];
    int kn = snprintf(key, sizeof(key), "%s%s", *rel ? rel : "", dir ? f->index : "");
    if (kn <= 0 || (size_t)kn >= sizeof(key))
        return reply_not_found(resp) < 0 ? sea_failed(-ENOMEM, "no memory") : sea_ready();
    unsigned id = sea_shard_id();
    struct cache *c = &f->caches[id < f->nshards ? id : 0];
    uint64_t h = hash_of(key);
    struct entry *e = cache_find(c, key, h);
    sea_time now = sea_lowres_now();
    if (e && now - e->checked >= f->validity) {
        char full[PATH_MAX + 2];
        snprintf(full, sizeof(full), "%s/%s", f->root, key);
        struct stat st;
        sea_future sf = sea_await(sea_path_stat(full, &st, false));
        bool still = !sea_future_failed(&sf) && same_file(&st, &e->st);
        sea_future_ignore(sf);
        e = cache_find(c, key, h); /* it may have gone while this fiber waited */
        if (e && still)
            e->checked = now;
        else if (e)
            cache_drop(c, e), e = NULL;
    }
    uint64_t from, len;
    if (e) {
        sea__list_remove(&c->lru, &e->lru);
        sea__list_push_back(&c->lru, &e->lru);
        if (prepare(req, resp, key, &e->st, &from, &len) || !len)
            return sea_ready();
        if (!e->file)
            return sea_http_response_set_body(resp, sea_buf_slice(&e->data, (size_t)from, (size_t)len)) < 0
                       ? sea_failed(-ENOMEM, "no memory")
                       : sea_ready();
        e->users++;
        sea_future r = sea_await(send_file(f, e, req, resp, from, len));
        entry_put(e);
        return r;
    }

    /* Buffered: small files are read once into the cache, large ones sent from the page cache. */
    sea_future of =
        sea_await(sea_file_open(key, O_RDONLY, &(sea_file_options){.beneath = f->root, .buffered = true}));
    if (sea_future_failed(&of)) {
        int err = sea_future_error(&of);
        sea_future_ignore(of);
        if (err == -EISDIR && !dir) {
            /* A directory named without its "/": send the client to the name with it, as relative links need. */
            char loc[PATH_MAX + 16];
            snprintf(loc, sizeof(loc), "%s/%s%s", req->path, *req->query ? "?" : "", req->query);
            sea_http_response_error(resp, 301, "the directory's name ends with /");
            sea_http_response_add_header(resp, "Location", loc);
            return sea_ready();
        }
        if (err == -ENOMEM)
            return sea_failed(err, "no memory to open a file");
        reply_not_found(resp);
        return sea_ready();
    }
    sea_file *file = sea_future_value(&of).ptr;
    struct stat st;
    sea_future sf = sea_await(sea_file_stat(file, &st));
    sea_future r = sea_ready();
    if (sea_future_failed(&sf) || !S_ISREG(st.st_mode)) {
        reply_not_found(resp);
        sea_future_ignore(sf);
    } else if ((uint64_t)st.st_size <= f->cache_file_max && (uint64_t)st.st_size <= f->cache_bytes) {
        /* Read it whole, keep it, answer from it. */
        size_t size = (size_t)st.st_size;
        sea_buf b = SEA_BUF_EMPTY;
        if (size && sea_buf_new(&b, size) < 0) {
            r = sea_failed(-ENOMEM, "no memory to cache a file");
        } else {
            sea_future rf = size ? sea_await(sea_file_read(file, 0, b.data, size)) : sea_ready_size(0);
            if (sea_future_failed(&rf) || sea_future_value(&rf).size != size) {
                r = sea_future_failed(&rf) ? rf : sea_failed(-EIO, "the file shrank while it was read");
                sea_buf_release(&b);
            } else {
                struct entry *old = cache_find(c, key, h);
                if (old)
                    cache_drop(c, old);
                sea_buf shared = sea_buf_share(&b);
                cache_add(f, c, key, h, b, NULL, &st);
                if (!prepare(req, resp, key, &st, &from, &len) && len)
                    sea_http_response_set_body(resp, sea_buf_slice(&shared, (size_t)from, (size_t)len));
                sea_buf_release(&shared);
            }
        }
    } else {
        /* Large: the open file goes into the cache (it is sent from the page cache, never held in memory). */
        struct entry *old = cache_find(c, key, h);
        if (old)
            cache_drop(c, old);
        e = cache_add(f, c, key, h, SEA_BUF_EMPTY, file, &st);
        if (!e)
            return sea_failed(-ENOMEM, "no memory for the file cache");
        file = NULL; /* the cache's now */
        if (!prepare(req, resp, key, &st, &from, &len) && len) {
            e->users++;
            r = sea_await(send_file(f, e, req, resp, from, len));
            entry_put(e);
        }
    }
    if (file)
        sea_future_ignore(sea_await(sea_file_close(file)));
    return r;
}

static sea_future redirect_to_dir(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    char loc[PATH_MAX + 16];
    snprintf(loc, sizeof(loc), "%s/%s%s", req->path, *req->query ? "?" : "", req->query);
    sea_http_response_error(resp, 301, "the directory's name ends with /");
    sea_http_response_add_header(resp, "Location", loc);
    return sea_ready();
}

int sea_http_files(sea_http_routes *routes, const char *prefix, const char *root,
                   const sea_http_files_options *opts) {
    if (!routes || !prefix || prefix[0] != '/' || !root)
        return -EINVAL;
    struct stat st;
    char *real = realpath(root, NULL);
    if (!real)
        return errno == ENOMEM ? -ENOMEM : -ENOENT;
    if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(real);
        return -ENOENT;
    }
    struct files *f = calloc(1, sizeof(*f));
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    unsigned n = sea_shard_count();
    if (f) {
        f->root = real;
        f->prefix = strndup(prefix, plen);
        f->index = strdup(opts && opts->index ? opts->index : "index.html");
        f->nshards = n ? n : 1;
        f->caches = calloc(f->nshards, sizeof(*f->caches));
    }
    if (!f || !f->prefix || !f->index || !f->caches) {
        if (f)
            files_free(f);
        else
            free(real);
        return -ENOMEM;
    }
    for (unsigned s = 0; s < f->nshards; s++)
        sea__list_init(&f->caches[s].lru);
    f->cache_file_max = opts && opts->cache_file_max ? opts->cache_file_max : 64 * 1024;
    if (opts && opts->cache_file_max == SIZE_MAX)
        f->cache_file_max = 0;
    f->cache_bytes = opts && opts->cache_bytes ? opts->cache_bytes : 64 * 1024 * 1024;
    f->validity = opts && opts->cache_validity > 0 ? opts->cache_validity : SEA_SEC(1);
    int rc = sea__http_routes_own(routes, f, files_free); /* from here on the routes free it */
    if (rc < 0) {
        files_free(f);
        return rc;
    }
    char pattern[PATH_MAX];
    snprintf(pattern, sizeof(pattern), "%s/{path*}", f->prefix);
    rc = sea_http_route(routes, "GET", pattern, files_handler, f);
    if (rc == 0 && plen > 0)
        rc = sea_http_route(routes, "GET", f->prefix, redirect_to_dir, NULL);
    return rc;
}
