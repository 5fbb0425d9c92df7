/*
 * snapshot.c - a restartable cache (--snapshot-dir DIR): on an orderly
 * stop every shard writes its items to its own file with DMA writes, and
 * on start every shard loads files in parallel, so a restart does not
 * begin with an empty cache.
 *
 * Saving.  Shard K writes DIR/shard-K.snap.tmp through a file output
 * stream (write-behind: the next chunk is built while the last is
 * written), flushes it, renames it over DIR/shard-K.snap and syncs the
 * directory: a crash or a kill -9 at any point leaves the previous
 * snapshot whole (a .tmp file is never loaded, and is removed at the next
 * start).  Items go coldest first, so loading them in order rebuilds the
 * LRU order; expired and flushed ones stay out.  While saving, the cache's
 * reclaim hook evicts nothing (the walk must not lose its place); the
 * server has stopped, so nothing else touches the cache.
 *
 * Loading.  Shard K loads every DIR/shard-J.snap with J % shards == K,
 * through a file input stream (read-ahead), so the shards read in
 * parallel whatever the shard count was when the files were written.  An
 * item whose key another shard now owns is passed to that shard in
 * batches of up to 1 MiB.  Items already expired are skipped.  Each chunk
 * is checked (snapfmt.h) before anything in it is stored: at the first bad
 * or missing chunk the file's loading stops and the log says which file,
 * where and why, and how many items were loaded from it before.  CAS
 * values are kept; new ones start above the largest loaded on any shard.
 */
#include "mc.h"
#include "snapfmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

SEA_LOGGER(snap_log, "snapshot");

#define CHUNK_TARGET (1024 * 1024) /* a chunk's payload, unless one item is larger */
#define BATCH_TARGET (1024 * 1024) /* records passed to another shard at once */
#define STREAM_BUFFER (1024 * 1024)
#define STREAM_AHEAD 4

/* Set while this shard saves: the reclaim hook must not evict under the walk. */
__thread bool mc_snapshot_saving;

static bool snap_name(const char *name, unsigned *shard, bool *tmp) {
    unsigned j;
    int used = 0;
    if (sscanf(name, "shard-%u.snap%n", &j, &used) != 1 || used == 0)
        return false;
    if (name[used] == '\0')
        *tmp = false;
    else if (strcmp(name + used, ".tmp") == 0)
        *tmp = true;
    else
        return false;
    char canon[64];
    snprintf(canon, sizeof(canon), "shard-%u.snap", j);
    if (strncmp(name, canon, strlen(canon)) != 0)
        return false; /* "shard-01.snap": not one of ours */
    *shard = j;
    return true;
}

/* ---- saving ---- */

struct save_result {
    uint64_t items, bytes;
};

/* Writes one chunk (header and payload). */
static sea_future write_chunk(sea_output_stream *out, const char *payload, size_t len, uint32_t count) {
    unsigned char h[MC_SNAP_CHUNK_HEADER];
    mc_snap_chunk_encode(h, (uint32_t)len, count, mc_crc32c(0, payload, len));
    SEA_AWAIT(sea_output_write(out, h, sizeof(h)));
    SEA_AWAIT(sea_output_write(out, payload, len));
    return sea_ready();
}

static sea_future save_items(sea_output_stream *out, struct save_result *res) {
    mc_cache *c = mc_shard_cache;
    int64_t now = mc_cache_now(), origin = mc_cache_clock_origin();
    unsigned char header[MC_SNAP_HEADER];
    mc_snap_header_encode(header, &(mc_snap_header){.shard = sea_shard_id(), .nshards = sea_shard_count(),
                                                   .created = (int64_t)time(NULL),
                                                   .items = mc_cache_stats_get(c)->curr_items});
    SEA_AWAIT(sea_output_write(out, header, sizeof(header)));
    size_t cap = CHUNK_TARGET, len = 0;
    char *chunk = malloc(cap);
    if (!chunk)
        return sea_failed(-ENOMEM, "no memory for a snapshot chunk");
    uint32_t count = 0, chunks = 0;
    uint64_t records = 0;
    long stall_after = sea_option_int("snapshot-test-stall-after");
    sea_future failed = sea_ready();
    for (const mc_item *it = mc_cache_coldest(c); it; it = mc_item_warmer(it)) {
        if (mc_cache_item_dead(c, it, now))
            continue;
        size_t need = mc_snap_record_size(it->nkey, it->nbytes);
        if (len && len + need > CHUNK_TARGET) {
            sea_value v;
            int rc = sea_await_value(write_chunk(out, chunk, len, count), &v);
            if (rc < 0) {
                failed = sea_failed_fmt(rc, "writing the snapshot: %s", sea_strerror(rc));
                break;
            }
            chunks++;
            len = count = 0;
            if (stall_after > 0 && chunks == (uint32_t)stall_after) {
                sea_log_warn(&snap_log, "stalling after %u chunks (--snapshot-test-stall-after)", chunks);
                for (;;)
                    sea_future_detach(sea_await(sea_sleep(SEA_SEC(3600))));
            }
        }
        if (need > cap) {
            char *grown = realloc(chunk, need);
            if (!grown) {
                failed = sea_failed(-ENOMEM, "no memory for a snapshot chunk");
                break;
            }
            chunk = grown;
            cap = need;
        }
        mc_snap_record r = {
            .key = mc_item_key(it),
            .nkey = it->nkey,
            .iflags = it->iflags & MC_ITEM_KEY_BINARY,
            .flags = it->flags,
            .value = mc_item_value(it),
            .nbytes = it->nbytes,
            .exptime = it->exptime ? origin + it->exptime : 0,
            .cas = it->cas,
        };
        mc_snap_record_encode(chunk + len, &r);
        len += need;
        count++;
        records++;
        res->bytes += need;
    }
    if (!sea_future_failed(&failed) && len) {
        sea_value v;
        int rc = sea_await_value(write_chunk(out, chunk, len, count), &v);
        if (rc < 0)
            failed = sea_failed_fmt(rc, "writing the snapshot: %s", sea_strerror(rc));
        else
            chunks++;
    }
    free(chunk);
    if (sea_future_failed(&failed))
        return failed;
    unsigned char end[MC_SNAP_END];
    mc_snap_end_encode(end, chunks, (uint32_t)records);
    SEA_AWAIT(sea_output_write(out, end, sizeof(end)));
    res->items = records;
    return sea_ready();
}

static sea_future save_fiber(void) {
    if (!mc_shard_cache)
        return sea_ready();
    const char *dir = sea_option_string("snapshot-dir");
    char tmp[4200], final[4200];
    snprintf(tmp, sizeof(tmp), "%s/shard-%u.snap.tmp", dir, sea_shard_id());
    snprintf(final, sizeof(final), "%s/shard-%u.snap", dir, sea_shard_id());
    sea_time t0 = sea_now();
    sea_file *f = SEA_AWAIT(sea_file_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, NULL)).ptr;
    sea_output_stream *out =
        sea_file_output_stream(f, 0, &(sea_file_stream_options){.buffer_size = STREAM_BUFFER, .ahead = STREAM_AHEAD});
    if (!out) {
        sea_future_detach(sea_await(sea_file_close(f)));
        return sea_failed(-ENOMEM, "no memory for the snapshot's stream");
    }
    struct save_result res = {0};
    mc_snapshot_saving = true;
    sea_value v;
    int rc = sea_await_value(save_items(out, &res), &v);
    mc_snapshot_saving = false;
    char why[300] = "";
    if (rc < 0)
        snprintf(why, sizeof(why), "%s", sea_strerror(rc));
    int rc2 = sea_await_value(sea_output_close(out), &v); /* the last block, every write, the exact size */
    sea_output_stream_free(out);
    if (rc == 0 && rc2 < 0)
        rc = rc2;
    if (rc == 0)
        rc = sea_await_value(sea_file_flush(f), &v);
    int rc3 = sea_await_value(sea_file_close(f), &v);
    if (rc == 0)
        rc = rc3;
    if (rc == 0)
        rc = sea_await_value(sea_path_rename(tmp, final), &v);
    if (rc == 0)
        rc = sea_await_value(sea_dir_sync(dir), &v);
    if (rc < 0) {
        sea_future_detach(sea_await(sea_path_remove(tmp)));
        return sea_failed_fmt(rc, "shard %u: the snapshot was not saved (%s); the previous one, if any, stays",
                              sea_shard_id(), why[0] ? why : sea_strerror(rc));
    }
    double secs = (double)(sea_now() - t0) / 1e9;
    sea_log_info(&snap_log, "shard %u saved %llu items (%.1f MB) to %s in %.3f s (%.0f MB/s)", sea_shard_id(),
                 (unsigned long long)res.items, (double)res.bytes / 1e6, final, secs,
                 secs > 0 ? (double)res.bytes / 1e6 / secs : 0.0);
    return sea_ready_int((int64_t)res.items);
}

static sea_future save_on_shard(void) {
    return sea_fiber_start(save_fiber);
}

/* Removes the files of shards this run does not have (an earlier run had more). */
static sea_future remove_stale(void) {
    const char *dir = sea_option_string("snapshot-dir");
    sea_dir *d = SEA_AWAIT(sea_dir_open(dir)).ptr;
    sea_dir_entry e;
    sea_value v;
    while (sea_await_value(sea_dir_next(d, &e), &v) == 0 && v.i == 1) {
        unsigned j;
        bool tmp;
        if (snap_name(e.name, &j, &tmp) && !tmp && j >= sea_shard_count()) {
            char path[4200];
            snprintf(path, sizeof(path), "%s/%s", dir, e.name);
            if (sea_await_value(sea_path_remove(path), &v) == 0)
                sea_log_info(&snap_log, "removed %s: this run has %u shards", path, sea_shard_count());
        }
    }
    sea_dir_close(d);
    return sea_ready();
}

sea_future mc_snapshot_save(void) {
    sea_time t0 = sea_now();
    sea_value items;
    int rc = sea_await_value(sea_map_reduce(save_on_shard, sea_reduce_sum_int, (sea_value){.i = 0}), &items);
    if (rc < 0)
        return sea_failed_fmt(rc, "snapshot: %s", sea_strerror(rc));
    SEA_AWAIT(remove_stale());
    sea_log_info(&snap_log, "saved %lld items in %.3f s", (long long)items.i, (double)(sea_now() - t0) / 1e9);
    return sea_ready();
}

/* ---- loading ---- */

struct load_stats {
    uint64_t items, expired, bytes, files, bad_files;
};

struct batch {
    const char *data;
    size_t len;
    int64_t origin, now_unix;
};

static bool restore_record(const mc_snap_record *r, int64_t origin, int64_t now_unix, int64_t now) {
    if (r->exptime != 0 && r->exptime <= now_unix)
        return false;
    int64_t exptime = r->exptime ? r->exptime - origin : 0;
    uint64_t hash = mc_hash(r->key, r->nkey);
    return mc_cache_restore(mc_shard_cache, r->key, r->nkey, hash, r->flags, exptime, r->iflags, r->value, r->nbytes,
                            r->cas, now) == MC_STORED;
}

/* On the owning shard: the records another shard read for it (checked already). */
static sea_future restore_batch(struct batch *b) {
    int64_t n = 0, now = mc_cache_now();
    for (size_t off = 0; off < b->len;) {
        mc_snap_record r;
        off += mc_snap_record_decode(b->data + off, &r);
        n += restore_record(&r, b->origin, b->now_unix, now);
    }
    return sea_ready_int(n);
}

struct loader {
    char **batch;     /* per shard: records for it */
    size_t *blen, *bcap;
    int64_t origin, now_unix, now; /* now: the cache clock, read once per chunk */
    struct load_stats st;
};

static sea_future flush_batch(struct loader *L, unsigned owner) {
    if (!L->blen[owner])
        return sea_ready();
    struct batch b = {L->batch[owner], L->blen[owner], L->origin, L->now_unix};
    sea_value v;
    int rc = sea_await_value(sea_submit_to(owner, restore_batch, b), &v);
    L->blen[owner] = 0;
    if (rc < 0)
        return sea_failed_fmt(rc, "passing items to shard %u: %s", owner, sea_strerror(rc));
    L->st.items += (uint64_t)v.i;
    return sea_ready();
}

/*
 * Stores a record here or adds it to its owner's batch; 0 or -errno.  It
 * waits (in the loading fiber) only to pass on a full batch: a record this
 * shard owns costs no future.
 */
static int take_record(struct loader *L, const mc_snap_record *r, const char *raw, size_t size) {
    unsigned me = sea_shard_id(), n = sea_shard_count();
    if (r->exptime != 0 && r->exptime <= L->now_unix) {
        L->st.expired++;
        return 0;
    }
    unsigned owner = mc_config.shard_local ? me : mc_shard_of(mc_hash(r->key, r->nkey), n);
    if (owner == me) {
        L->st.items += restore_record(r, L->origin, L->now_unix, L->now);
        return 0;
    }
    if (L->blen[owner] + size > L->bcap[owner]) {
        sea_value v;
        int rc = L->blen[owner] ? sea_await_value(flush_batch(L, owner), &v) : 0;
        if (rc < 0)
            return rc;
        size_t want = size > BATCH_TARGET ? size : BATCH_TARGET;
        if (want > L->bcap[owner]) {
            char *grown = realloc(L->batch[owner], want);
            if (!grown)
                return -ENOMEM;
            L->batch[owner] = grown;
            L->bcap[owner] = want;
        }
    }
    memcpy(L->batch[owner] + L->blen[owner], raw, size);
    L->blen[owner] += size;
    return 0;
}

/* Reads exactly n bytes into *b; fails with -EPIPE (and says so in *why) if the file ends first. */
static int read_n(sea_input_stream *in, size_t n, sea_buf *b) {
    sea_value v;
    int rc = sea_await_value(sea_input_read_exactly(in, n, b), &v);
    if (rc < 0)
        return rc;
    if (b->len < n) {
        sea_buf_release(b);
        return -EPIPE;
    }
    return 0;
}

/* Loads one file; a damaged file stops at its first bad chunk and is reported (the return says whether it was whole). */
static bool load_file(struct loader *L, const char *path) {
    sea_value v;
    int rc = sea_await_value(sea_file_open(path, O_RDONLY, NULL), &v);
    if (rc < 0) {
        sea_log_error(&snap_log, "cannot open %s: %s", path, sea_strerror(rc));
        return false;
    }
    sea_file *f = v.ptr;
    sea_input_stream *in =
        sea_file_input_stream(f, 0, &(sea_file_stream_options){.buffer_size = STREAM_BUFFER, .ahead = STREAM_AHEAD});
    uint64_t before = L->st.items;
    uint32_t chunks = 0;
    uint64_t records = 0, offset = 0;
    char why[256] = "";
    sea_buf b = SEA_BUF_EMPTY;
    bool whole = false;
    if (!in) {
        snprintf(why, sizeof(why), "out of memory");
        goto out;
    }
    rc = read_n(in, MC_SNAP_HEADER, &b);
    if (rc < 0) {
        snprintf(why, sizeof(why), "%s", rc == -EPIPE ? "shorter than a header" : sea_strerror(rc));
        goto out;
    }
    mc_snap_header h;
    if (mc_snap_header_decode((const unsigned char *)b.data, &h, why, sizeof(why)) < 0)
        goto out;
    sea_buf_release(&b);
    /* Room for this shard's share of the file's items at once (the rest goes to other shards). */
    mc_cache_reserve(mc_shard_cache, h.items / sea_shard_count());
    offset = MC_SNAP_HEADER;
    for (;;) {
        rc = read_n(in, MC_SNAP_CHUNK_HEADER, &b);
        if (rc < 0) {
            snprintf(why, sizeof(why), "%s after chunk %u at offset %llu",
                     rc == -EPIPE ? "cut short (no end record)" : sea_strerror(rc), chunks,
                     (unsigned long long)offset);
            goto out;
        }
        mc_snap_frame fr;
        if (mc_snap_frame_decode((const unsigned char *)b.data, &fr, why, sizeof(why)) < 0) {
            size_t l = strlen(why);
            snprintf(why + l, sizeof(why) - l, " (offset %llu)", (unsigned long long)offset);
            goto out;
        }
        sea_buf_release(&b);
        offset += MC_SNAP_CHUNK_HEADER;
        if (fr.end) {
            if (fr.count != chunks || fr.records != (uint32_t)records) {
                snprintf(why, sizeof(why), "the end record counts %u chunks and %u records, the file has %u and %llu",
                         fr.count, fr.records, chunks, (unsigned long long)records);
                goto out;
            }
            whole = true;
            break;
        }
        rc = read_n(in, fr.len, &b);
        if (rc < 0) {
            snprintf(why, sizeof(why), "%s in chunk %u at offset %llu",
                     rc == -EPIPE ? "cut short" : sea_strerror(rc), chunks + 1, (unsigned long long)offset);
            goto out;
        }
        if (mc_snap_payload_check(b.data, b.len, fr.count, fr.crc, why, sizeof(why)) < 0) {
            size_t l = strlen(why);
            snprintf(why + l, sizeof(why) - l, " (chunk %u at offset %llu)", chunks + 1, (unsigned long long)offset);
            goto out;
        }
        L->now = mc_cache_now();
        for (size_t off = 0; off < b.len;) {
            mc_snap_record r;
            size_t size = mc_snap_record_decode(b.data + off, &r);
            rc = take_record(L, &r, b.data + off, size);
            if (rc < 0) {
                snprintf(why, sizeof(why), "%s", sea_strerror(rc));
                goto out;
            }
            off += size;
        }
        L->st.bytes += b.len;
        sea_buf_release(&b);
        offset += fr.len;
        chunks++;
        records += fr.count;
    }
out:
    sea_buf_release(&b);
    sea_input_stream_free(in);
    sea_future_detach(sea_await(sea_file_close(f)));
    if (!whole)
        sea_log_error(&snap_log, "%s is damaged: %s; loaded the %u whole chunks before it (%llu items), not the rest",
                      path, why, chunks, (unsigned long long)(L->st.items - before));
    return whole;
}

static sea_future load_fiber(void) {
    const char *dir = sea_option_string("snapshot-dir");
    unsigned me = sea_shard_id(), n = sea_shard_count();
    struct loader L = {.origin = mc_cache_clock_origin(), .now_unix = (int64_t)time(NULL)};
    L.batch = calloc(n, sizeof(*L.batch));
    L.blen = calloc(n, sizeof(*L.blen));
    L.bcap = calloc(n, sizeof(*L.bcap));
    sea_future result = sea_ready();
    if (!L.batch || !L.blen || !L.bcap) {
        result = sea_failed(-ENOMEM, "no memory to load the snapshot");
        goto done;
    }
    sea_value v;
    int rc = sea_await_value(sea_dir_open(dir), &v);
    if (rc < 0) {
        result = sea_failed_fmt(rc, "--snapshot-dir %s: %s", dir, sea_strerror(rc));
        goto done;
    }
    sea_dir *d = v.ptr;
    sea_dir_entry e;
    sea_time t0 = sea_now();
    while (sea_await_value(sea_dir_next(d, &e), &v) == 0 && v.i == 1) {
        unsigned j;
        bool tmp;
        if (!snap_name(e.name, &j, &tmp) || j % n != me)
            continue;
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, e.name);
        if (tmp) { /* a save that never finished */
            if (sea_await_value(sea_path_remove(path), &v) == 0)
                sea_log_info(&snap_log, "removed %s, left by a save that did not finish", path);
            continue;
        }
        L.st.files++;
        if (!load_file(&L, path))
            L.st.bad_files++;
    }
    sea_dir_close(d);
    for (unsigned o = 0; o < n; o++) {
        rc = sea_await_value(flush_batch(&L, o), &v);
        if (rc < 0 && !sea_future_failed(&result))
            result = sea_failed_fmt(rc, "%s", sea_strerror(rc));
    }
    double secs = (double)(sea_now() - t0) / 1e9;
    if (L.st.files)
        sea_log_info(&snap_log, "shard %u read %llu file(s), %.1f MB, in %.3f s (%.0f MB/s): %llu items stored, %llu "
                                "expired",
                     me, (unsigned long long)L.st.files, (double)L.st.bytes / 1e6, secs,
                     secs > 0 ? (double)L.st.bytes / 1e6 / secs : 0.0, (unsigned long long)L.st.items,
                     (unsigned long long)L.st.expired);
done:
    for (unsigned o = 0; L.batch && o < n; o++)
        free(L.batch[o]);
    free(L.batch);
    free(L.blen);
    free(L.bcap);
    if (sea_future_failed(&result))
        return result;
    return sea_ready_int((int64_t)L.st.items);
}

static sea_future load_on_shard(void) {
    return sea_fiber_start(load_fiber);
}

static sea_future max_cas_here(void) {
    return sea_ready_int((int64_t)mc_cache_max_cas(mc_shard_cache));
}

static sea_future set_cas_floor(int64_t *max) {
    mc_cache_cas_floor(mc_shard_cache, (uint64_t)*max);
    return sea_ready();
}

sea_future mc_snapshot_load(void) {
    const char *dir = sea_option_string("snapshot-dir");
    sea_value v;
    int rc = sea_await_value(sea_file_exists(dir), &v);
    if (rc < 0)
        return sea_failed_fmt(rc, "--snapshot-dir %s: %s", dir, sea_strerror(rc));
    if (v.i == 0) {
        rc = sea_await_value(sea_dir_make(dir, 0755), &v);
        if (rc < 0)
            return sea_failed_fmt(rc, "--snapshot-dir %s: cannot make it: %s", dir, sea_strerror(rc));
        sea_log_info(&snap_log, "made %s; no snapshot to load", dir);
        return sea_ready();
    }
    sea_time t0 = sea_now();
    sea_value items = SEA_AWAIT(sea_map_reduce(load_on_shard, sea_reduce_sum_int, (sea_value){.i = 0}));
    sea_value max = SEA_AWAIT(sea_map_reduce(max_cas_here, sea_reduce_max_int, (sea_value){.i = 0}));
    int64_t m = max.i;
    SEA_AWAIT(sea_invoke_on_all(set_cas_floor, m));
    sea_log_info(&snap_log, "loaded %lld items from %s in %.3f s", (long long)items.i, dir,
                 (double)(sea_now() - t0) / 1e9);
    return sea_ready();
}
