/*
 * cache.h - one shard's slice of the cache: items by key, least recently
 * used first out, expiry, CAS.
 *
 * A shard owns the keys whose hash picks it (mc_shard_of) and is the only
 * one to touch its cache, so nothing here locks.  Items are allocated from
 * the shard's own memory and counted against the cache's byte limit; beyond
 * it, or when the shard's memory runs short first (the allocator's reclaim
 * hook), the cold end of the LRU list is evicted, and a store that still
 * cannot allocate evicts until it can (it fails only if the item alone does
 * not fit).  Expired items are dropped when met, and by mc_cache_crawl a few at a
 * time.  Times are whole seconds on the cache's clock (mc_cache_now).
 */
#ifndef MC_CACHE_H
#define MC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mc_item {
    struct mc_item *hnext;       /* the hash chain */
    struct mc_item *prev, *next; /* the LRU list: head most recent */
    uint64_t cas;
    int64_t exptime;             /* on the cache clock; 0: never */
    int64_t stored;              /* when it was stored, for flush_all */
    uint64_t hash;
    uint32_t flags;
    uint32_t nbytes;             /* the value's length */
    uint8_t nkey;
    char data[];                 /* the key, then the value */
} mc_item;

static inline const char *mc_item_key(const mc_item *it) { return it->data; }
static inline const char *mc_item_value(const mc_item *it) { return it->data + it->nkey; }

typedef enum {
    MC_STORED,
    MC_NOT_STORED,
    MC_EXISTS,
    MC_NOT_FOUND,
    MC_NO_MEMORY,
    MC_NON_NUMERIC,
    MC_DELETED,
    MC_TOUCHED,
    MC_OK,
} mc_result;

typedef struct mc_cache_stats {
    uint64_t curr_items, total_items, bytes, evictions, expired_unfetched, reclaimed, crawler_reclaimed;
    uint64_t get_hits, get_misses, get_expired, get_flushed;
    uint64_t cmd_set, cas_misses, cas_hits, cas_badval, incr_misses, incr_hits, decr_misses, decr_hits;
    uint64_t delete_misses, delete_hits, touch_misses, touch_hits, cmd_touch;
} mc_cache_stats;

typedef struct mc_cache mc_cache;

/* The hash of a key, and the shard (of n) that owns it. */
uint64_t mc_hash(const char *key, size_t nkey);
static inline unsigned mc_shard_of(uint64_t hash, unsigned n) { return (unsigned)((hash >> 32) % n); }

/* The cache clock: seconds since the process started. */
int64_t mc_cache_now(void);
/* memcached's exptime rules: 0 never, < 0 already expired, up to 30 days relative, else a unix time. */
int64_t mc_cache_exptime(int64_t exptime, int64_t now);

/*
 * A cache for shard `id` of `n` (CAS values are unique across the n) that
 * keeps at most `limit` bytes of items (memcached's -m, per shard): a store
 * beyond it evicts from the cold end.  NULL if out of memory.
 */
mc_cache *mc_cache_new(unsigned id, unsigned n, size_t limit);
void mc_cache_free(mc_cache *c);

/* The live item for key, or NULL; a hit moves it to the LRU head.  Valid until the next call that stores. */
mc_item *mc_cache_get(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now);

/*
 * A storage command (mode: text.h's mc_store_mode as an int).  cas_in is
 * the client's CAS value for MC_CAS.  Returns MC_STORED, MC_NOT_STORED,
 * MC_EXISTS, MC_NOT_FOUND (cas on a missing key) or MC_NO_MEMORY.
 */
mc_result mc_cache_store(mc_cache *c, int mode, const char *key, size_t nkey, uint64_t hash, uint32_t flags,
                         int64_t exptime, const char *value, size_t nbytes, uint64_t cas_in, int64_t now);

/* incr/decr: MC_OK with the new *value, MC_NOT_FOUND, MC_NON_NUMERIC or MC_NO_MEMORY. */
mc_result mc_cache_arith(mc_cache *c, const char *key, size_t nkey, uint64_t hash, bool incr, uint64_t delta,
                         uint64_t *value, int64_t now);

mc_result mc_cache_delete(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now);
mc_result mc_cache_touch(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t exptime, int64_t now);

/* flush_all: every item stored at or before `when` is gone once the clock reaches it. */
void mc_cache_flush(mc_cache *c, int64_t when, int64_t now);

/* Evicts from the cold end until `wanted` bytes are freed or nothing is left; returns the bytes freed. */
size_t mc_cache_evict(mc_cache *c, size_t wanted);

/* Looks at up to `budget` items from the cold end and drops the expired ones; returns how many. */
unsigned mc_cache_crawl(mc_cache *c, unsigned budget, int64_t now);

const mc_cache_stats *mc_cache_stats_get(const mc_cache *c);
void mc_cache_stats_reset(mc_cache *c);

#endif
