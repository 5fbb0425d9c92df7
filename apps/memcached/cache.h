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
    uint32_t atime;              /* last access, on the cache clock */
    uint8_t nkey;
    uint8_t iflags;              /* MC_ITEM_* */
    char data[];                 /* the key, then the value */
} mc_item;

/* Item states the meta protocol reports. */
enum {
    MC_ITEM_FETCHED = 1,    /* read at least once since stored ("hit before") */
    MC_ITEM_STALE = 2,      /* invalidated (md I, ms I): its value is served with X until recached */
    MC_ITEM_TOKEN_SENT = 4, /* a client has been told it won the right to recache (W); others see Z */
    MC_ITEM_KEY_BINARY = 8, /* stored with a base64 key (meta b): meta answers show it base64 again */
};

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

/* A storage request: every protocol's set, add, replace, append, prepend and cas. */
typedef struct mc_store {
    int mode;          /* text.h's mc_store_mode */
    uint32_t flags;
    int64_t exptime;   /* as sent (mc_cache_exptime's rules) */
    const char *value;
    size_t nbytes;
    uint64_t cas;      /* compare with the item's CAS; 0: do not (MC_CAS mode compares always) */
    bool cas_stale;    /* meta I: an older CAS still stores, and the item is marked stale */
} mc_store;

/* An incr or decr, with the binary and meta protocols' options. */
typedef struct mc_arith {
    bool incr;
    uint64_t delta;
    uint64_t cas;           /* compare with the item's CAS; 0: do not */
    bool create;            /* on a miss, store `initial` (binary incr, meta ma N) */
    uint64_t initial;
    int64_t create_exptime; /* as sent */
} mc_arith;

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

/*
 * The live item for key, or NULL, counted as a get hit or miss; a hit moves
 * it to the LRU head and marks it fetched.  Valid until the next call that
 * stores.
 */
mc_item *mc_cache_get(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now);

/* The live item for key, or NULL, without counting, bumping or marking it (meta commands decide that). */
mc_item *mc_cache_find(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now);
/* Counts a meta get: a hit or a miss, a get or (with T) a touch. */
void mc_cache_count(mc_cache *c, bool hit, bool touch);
/* What a read does to an item: LRU head, fetched, accessed now. */
void mc_cache_bump(mc_cache *c, mc_item *it, int64_t now);
/* Gives it a new CAS value (meta invalidation). */
void mc_cache_recas(mc_cache *c, mc_item *it);
/* Removes it from the cache and frees it. */
void mc_cache_remove(mc_cache *c, mc_item *it);
/* Stores an empty item for key that expires per `exptime` (meta mg N: the stub a recacher fills); NULL if no memory. */
mc_item *mc_cache_vivify(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t exptime, int64_t now);

/*
 * A storage command.  Returns MC_STORED (with the stored item, and so its
 * new CAS, in *stored if not NULL), MC_NOT_STORED, MC_EXISTS (CAS
 * mismatch), MC_NOT_FOUND (cas on a missing key) or MC_NO_MEMORY.
 */
mc_result mc_cache_store(mc_cache *c, const char *key, size_t nkey, uint64_t hash, const mc_store *s, int64_t now,
                         mc_item **stored);

/*
 * incr/decr: MC_OK with the new *value (and the changed or created item in
 * *changed if not NULL), MC_NOT_FOUND, MC_NON_NUMERIC, MC_EXISTS (CAS
 * mismatch) or MC_NO_MEMORY.
 */
mc_result mc_cache_arith(mc_cache *c, const char *key, size_t nkey, uint64_t hash, const mc_arith *a,
                         uint64_t *value, mc_item **changed, int64_t now);

/* MC_DELETED, MC_NOT_FOUND, or MC_EXISTS if cas is not 0 and not the item's. */
mc_result mc_cache_delete(mc_cache *c, const char *key, size_t nkey, uint64_t hash, uint64_t cas, int64_t now);
/* Sets the item's expiry and returns it (bumped), or NULL on a miss; counted as a touch. */
mc_item *mc_cache_touch(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t exptime, int64_t now);

/* flush_all: every item stored at or before `when` is gone once the clock reaches it. */
void mc_cache_flush(mc_cache *c, int64_t when, int64_t now);

/* Evicts from the cold end until `wanted` bytes are freed or nothing is left; returns the bytes freed. */
size_t mc_cache_evict(mc_cache *c, size_t wanted);

/* Looks at up to `budget` items from the cold end and drops the expired ones; returns how many. */
unsigned mc_cache_crawl(mc_cache *c, unsigned budget, int64_t now);

/* ---- snapshots (snapshot.c) ---- */

/* The coldest item (NULL if empty), and the next warmer one: the LRU order, cold to hot. */
const mc_item *mc_cache_coldest(const mc_cache *c);
static inline const mc_item *mc_item_warmer(const mc_item *it) { return it->prev; }
/* True if it is expired or flushed (a snapshot leaves it out). */
bool mc_cache_item_dead(const mc_cache *c, const mc_item *it, int64_t now);
/*
 * Stores an item read back from a snapshot, as the warmest, with its CAS
 * (exptime on the cache clock, 0: never; iflags: MC_ITEM_KEY_BINARY is
 * kept).  Replaces an item of the same key.  MC_STORED or MC_NO_MEMORY.
 */
mc_result mc_cache_restore(mc_cache *c, const char *key, size_t nkey, uint64_t hash, uint32_t flags, int64_t exptime,
                           uint8_t iflags, const char *value, size_t nbytes, uint64_t cas, int64_t now);
/* Grows the hash table for `items` more items at once (a snapshot's count), instead of doubling on the way. */
void mc_cache_reserve(mc_cache *c, uint64_t items);
/* The largest CAS value in the cache. */
uint64_t mc_cache_max_cas(const mc_cache *c);
/* New CAS values from now on are above max_cas (restored items keep theirs; new ones must not repeat them). */
void mc_cache_cas_floor(mc_cache *c, uint64_t max_cas);
/* The unix time of the cache clock's 0. */
int64_t mc_cache_clock_origin(void);

const mc_cache_stats *mc_cache_stats_get(const mc_cache *c);
/* Seconds since the least recently used item was last used; 0 if the cache is empty. */
int64_t mc_cache_oldest_age(const mc_cache *c, int64_t now);
void mc_cache_stats_reset(mc_cache *c);

#endif
