/*
 * cache.c - one shard's slice of the cache (cache.h).
 *
 * A chained hash table whose bucket array doubles when the items outnumber
 * the buckets by half, and a doubly linked LRU list.  Each item is one
 * allocation: header, key, value.  memcached's rules are kept where a
 * client can see them: incr/decr on a value that is not a decimal number is
 * an error; incr wraps at 2^64, decr stops at 0; a result no longer than the
 * old value is written in place and padded with spaces (memcached does
 * this, so "decr 10 by 5" reads back as "5 "); append and prepend keep the
 * old item's flags and expiry; every store, incr and decr takes a new CAS.
 */
#include "cache.h"

#include <ctype.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

#define REL_TIME_MAX (60 * 60 * 24 * 30) /* memcached's REALTIME_MAXDELTA: 30 days */

struct mc_cache {
    mc_item **buckets;
    size_t nbuckets; /* a power of two */
    mc_item *head, *tail;
    uint64_t next_cas; /* this shard's CAS values: next_cas * n + id */
    unsigned id, n;
    size_t limit;      /* bytes of items kept at most; beyond, the cold end is evicted */
    int64_t flush_at;  /* items stored at or before it are gone once the clock reaches it; -1: none */
    uint64_t flush_cas; /* items whose CAS is below it are gone (an immediate flush_all); 0: none */
    mc_cache_stats st;
};

/* ---- time ---- */

static int64_t start_mono = -1, start_unix;

static void clock_init(void) {
    if (start_mono >= 0)
        return;
    struct timespec m, r;
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_REALTIME, &r);
    /* memcached starts its clock 2 s in the past, so that "expired at 1" is already over. */
    start_mono = m.tv_sec - 2;
    start_unix = r.tv_sec - 2;
}

int64_t mc_cache_now(void) {
    clock_init();
    struct timespec m;
    clock_gettime(CLOCK_MONOTONIC, &m);
    return m.tv_sec - start_mono;
}

int64_t mc_cache_exptime(int64_t exptime, int64_t now) {
    clock_init();
    if (exptime == 0)
        return 0;
    if (exptime < 0)
        return 1; /* already expired */
    if (exptime > REL_TIME_MAX) {
        if (exptime <= start_unix)
            return 1;
        return exptime - start_unix;
    }
    return exptime + now;
}

/* ---- hashing ---- */

uint64_t mc_hash(const char *key, size_t nkey) {
    /* FNV-1a, then a 64-bit finaliser so that both halves (bucket and shard) are well mixed. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < nkey; i++)
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* ---- the table and the list ---- */

mc_cache *mc_cache_new(unsigned id, unsigned n, size_t limit) {
    clock_init();
    mc_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->nbuckets = 1024;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->id = id;
    c->n = n ? n : 1;
    c->limit = limit;
    c->next_cas = 1;
    c->flush_at = -1;
    return c;
}

void mc_cache_free(mc_cache *c) {
    if (!c)
        return;
    for (mc_item *it = c->head; it;) {
        mc_item *next = it->next;
        free(it);
        it = next;
    }
    free(c->buckets);
    free(c);
}

static uint64_t new_cas(mc_cache *c) {
    return c->next_cas++ * c->n + c->id;
}

/* What an item takes from the shard's memory: the allocator's size class, not just what was asked for. */
static size_t item_bytes(const mc_item *it) {
    return malloc_usable_size((void *)it);
}

static void lru_unlink(mc_cache *c, mc_item *it) {
    if (it->prev)
        it->prev->next = it->next;
    else
        c->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        c->tail = it->prev;
    it->prev = it->next = NULL;
}

static void lru_push(mc_cache *c, mc_item *it) {
    it->prev = NULL;
    it->next = c->head;
    if (c->head)
        c->head->prev = it;
    else
        c->tail = it;
    c->head = it;
}

static void lru_bump(mc_cache *c, mc_item *it) {
    if (c->head != it) {
        lru_unlink(c, it);
        lru_push(c, it);
    }
}

static mc_item **bucket_of(mc_cache *c, uint64_t hash) {
    return &c->buckets[hash & (c->nbuckets - 1)];
}

/* Rehashes into n buckets (a power of two, more than now). */
static void grow_to(mc_cache *c, size_t n) {
    mc_item **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* longer chains, not an error */
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (mc_item *it = c->buckets[i]; it;) {
            mc_item *next = it->hnext;
            it->hnext = b[it->hash & (n - 1)];
            b[it->hash & (n - 1)] = it;
            it = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static void grow(mc_cache *c) {
    grow_to(c, c->nbuckets * 2);
}

/* Takes it out of the table and the list, and frees it. */
static void unlink_item(mc_cache *c, mc_item *it) {
    for (mc_item **pp = bucket_of(c, it->hash); *pp; pp = &(*pp)->hnext) {
        if (*pp == it) {
            *pp = it->hnext;
            break;
        }
    }
    lru_unlink(c, it);
    c->st.curr_items--;
    c->st.bytes -= item_bytes(it);
    free(it);
}

static void link_item(mc_cache *c, mc_item *it) {
    mc_item **b = bucket_of(c, it->hash);
    it->hnext = *b;
    *b = it;
    lru_push(c, it);
    c->st.curr_items++;
    c->st.total_items++;
    c->st.bytes += item_bytes(it);
    if (c->st.curr_items > c->nbuckets + c->nbuckets / 2)
        grow(c);
    while (c->st.bytes > c->limit && c->tail != it) { /* over the budget: the cold end goes, never the newcomer */
        c->st.evictions++;
        unlink_item(c, c->tail);
    }
}

static bool dead(const mc_cache *c, const mc_item *it, int64_t now) {
    if (it->exptime != 0 && it->exptime <= now)
        return true;
    if (it->cas < c->flush_cas)
        return true;
    return c->flush_at >= 0 && c->flush_at <= now && it->stored <= c->flush_at;
}

/* The item for key, live or not (dead ones are dropped here and counted). */
static mc_item *find(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now, bool fetch) {
    for (mc_item *it = *bucket_of(c, hash); it; it = it->hnext) {
        if (it->hash != hash || it->nkey != nkey || memcmp(it->data, key, nkey) != 0)
            continue;
        if (dead(c, it, now)) {
            if (fetch) {
                if (it->exptime != 0 && it->exptime <= now)
                    c->st.get_expired++;
                else
                    c->st.get_flushed++;
            }
            c->st.reclaimed++;
            unlink_item(c, it);
            return NULL;
        }
        return it;
    }
    return NULL;
}

size_t mc_cache_evict(mc_cache *c, size_t wanted) {
    size_t freed = 0;
    while (freed < wanted && c->tail) {
        freed += item_bytes(c->tail);
        c->st.evictions++;
        unlink_item(c, c->tail);
    }
    return freed;
}

unsigned mc_cache_crawl(mc_cache *c, unsigned budget, int64_t now) {
    unsigned dropped = 0;
    mc_item *it = c->tail;
    while (it && budget--) {
        mc_item *prev = it->prev;
        if (dead(c, it, now)) {
            c->st.crawler_reclaimed++;
            unlink_item(c, it);
            dropped++;
        }
        it = prev;
    }
    return dropped;
}

/* A new, unlinked item; evicts from the cold end until the allocation succeeds. */
static mc_item *alloc_item(mc_cache *c, const char *key, size_t nkey, uint64_t hash, size_t nbytes) {
    size_t size = sizeof(mc_item) + nkey + nbytes;
    mc_item *it;
    while (!(it = malloc(size))) {
        if (!c->tail)
            return NULL;
        mc_cache_evict(c, size);
    }
    memset(it, 0, sizeof(*it));
    it->hash = hash;
    it->nkey = (uint8_t)nkey;
    it->nbytes = (uint32_t)nbytes;
    memcpy(it->data, key, nkey);
    return it;
}

/*
 * alloc_item for a key whose current item is *old (or NULL): if making room
 * evicted anything, *old is looked up again, since it may have gone too.
 */
static mc_item *alloc_replacing(mc_cache *c, const char *key, size_t nkey, uint64_t hash, size_t nbytes,
                                mc_item **old, int64_t now) {
    uint64_t evictions = c->st.evictions;
    mc_item *it = alloc_item(c, key, nkey, hash, nbytes);
    if (it && *old && c->st.evictions != evictions)
        *old = find(c, key, nkey, hash, now, false);
    return it;
}

void mc_cache_bump(mc_cache *c, mc_item *it, int64_t now) {
    lru_bump(c, it);
    it->iflags |= MC_ITEM_FETCHED;
    it->atime = (uint32_t)now;
}

mc_item *mc_cache_get(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now) {
    mc_item *it = find(c, key, nkey, hash, now, true);
    if (!it) {
        c->st.get_misses++;
        return NULL;
    }
    c->st.get_hits++;
    mc_cache_bump(c, it, now);
    return it;
}

void mc_cache_count(mc_cache *c, bool hit, bool touch) {
    if (touch) {
        c->st.cmd_touch++;
        if (hit)
            c->st.touch_hits++;
        else
            c->st.touch_misses++;
    } else if (hit) {
        c->st.get_hits++;
    } else {
        c->st.get_misses++;
    }
}

mc_item *mc_cache_find(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t now) {
    return find(c, key, nkey, hash, now, false);
}

void mc_cache_recas(mc_cache *c, mc_item *it) {
    it->cas = new_cas(c);
}

void mc_cache_remove(mc_cache *c, mc_item *it) {
    unlink_item(c, it);
}

/* Puts `it` where `old` was (or adds it), with a new CAS. */
static void replace_item(mc_cache *c, mc_item *old, mc_item *it, int64_t now) {
    if (old)
        unlink_item(c, old);
    it->cas = new_cas(c);
    it->stored = now;
    it->atime = (uint32_t)now;
    link_item(c, it);
}

mc_item *mc_cache_vivify(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t exptime, int64_t now) {
    mc_item *old = find(c, key, nkey, hash, now, false);
    mc_item *it = alloc_replacing(c, key, nkey, hash, 0, &old, now);
    if (!it)
        return NULL;
    it->exptime = mc_cache_exptime(exptime, now);
    replace_item(c, old, it, now);
    return it;
}

mc_result mc_cache_store(mc_cache *c, const char *key, size_t nkey, uint64_t hash, const mc_store *s, int64_t now,
                         mc_item **stored) {
    c->st.cmd_set++;
    mc_item *old = find(c, key, nkey, hash, now, false);
    /* memcached's do_store_item: how the client's CAS compares with the item's. */
    enum { CAS_NONE, CAS_MATCH, CAS_STALE, CAS_BADVAL } cas_res = CAS_NONE;
    if (old && s->cas != 0)
        cas_res = s->cas == old->cas ? CAS_MATCH : (s->cas_stale && s->cas < old->cas) ? CAS_STALE : CAS_BADVAL;
    switch (s->mode) {
    case MC_ADD:
        if (old) { /* memcached bumps the existing item */
            lru_bump(c, old);
            return MC_NOT_STORED;
        }
        break;
    case MC_REPLACE:
        if (!old)
            return MC_NOT_STORED;
        break;
    case MC_APPEND:
    case MC_PREPEND:
        if (!old)
            return MC_NOT_STORED;
        if (cas_res != CAS_NONE && cas_res != CAS_MATCH)
            return MC_EXISTS;
        break;
    case MC_CAS:
        if (!old) {
            c->st.cas_misses++;
            return MC_NOT_FOUND;
        }
        if (cas_res != CAS_MATCH && cas_res != CAS_STALE) {
            c->st.cas_badval++;
            return MC_EXISTS;
        }
        c->st.cas_hits++;
        break;
    default:
        break;
    }
    mc_item *it;
    if (s->mode == MC_APPEND || s->mode == MC_PREPEND) {
        it = alloc_replacing(c, key, nkey, hash, old->nbytes + s->nbytes, &old, now);
        if (!it)
            return MC_NO_MEMORY;
        if (!old) { /* evicted to make room */
            free(it);
            return MC_NOT_STORED;
        }
        char *dst = (char *)mc_item_value(it);
        if (s->mode == MC_APPEND) {
            memcpy(dst, mc_item_value(old), old->nbytes);
            memcpy(dst + old->nbytes, s->value, s->nbytes);
        } else {
            memcpy(dst, s->value, s->nbytes);
            memcpy(dst + s->nbytes, mc_item_value(old), old->nbytes);
        }
        it->flags = old->flags;
        it->exptime = old->exptime;
    } else {
        bool stale = cas_res == CAS_STALE && s->mode == MC_CAS;
        it = alloc_replacing(c, key, nkey, hash, s->nbytes, &old, now);
        if (!it)
            return MC_NO_MEMORY;
        memcpy((char *)mc_item_value(it), s->value, s->nbytes);
        it->flags = s->flags;
        it->exptime = mc_cache_exptime(s->exptime, now);
        if (stale && old) { /* an older CAS under meta I: stored, but stale, and keeps the item's expiry */
            it->exptime = old->exptime;
            it->iflags |= MC_ITEM_STALE | (old->iflags & MC_ITEM_TOKEN_SENT);
        }
    }
    replace_item(c, old, it, now);
    if (stored)
        *stored = it;
    return MC_STORED;
}

/* memcached's safe_strtoull on an item's value: optional leading space, digits, then only space. */
static bool value_number(const mc_item *it, uint64_t *out) {
    const char *p = mc_item_value(it), *end = p + it->nbytes;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p == end || !isdigit((unsigned char)*p))
        return false;
    uint64_t v = 0;
    for (; p < end && isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    for (; p < end; p++)
        if (!isspace((unsigned char)*p))
            return false;
    *out = v;
    return true;
}

/* Stores v as the decimal value of key, new or replacing old (which may be NULL). */
static mc_result store_number(mc_cache *c, const char *key, size_t nkey, uint64_t hash, mc_item *old,
                              uint32_t flags, int64_t exptime, uint64_t v, mc_item **changed, int64_t now) {
    char buf[24];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    mc_item *n = alloc_replacing(c, key, nkey, hash, len, &old, now);
    if (!n)
        return MC_NO_MEMORY;
    memcpy((char *)mc_item_value(n), buf, len);
    n->flags = flags;
    n->exptime = exptime;
    replace_item(c, old, n, now);
    if (changed)
        *changed = n;
    return MC_OK;
}

mc_result mc_cache_arith(mc_cache *c, const char *key, size_t nkey, uint64_t hash, const mc_arith *a,
                         uint64_t *value, mc_item **changed, int64_t now) {
    mc_item *it = find(c, key, nkey, hash, now, false);
    if (!it) {
        if (a->create) {
            *value = a->initial;
            return store_number(c, key, nkey, hash, NULL, 0, mc_cache_exptime(a->create_exptime, now), a->initial,
                                changed, now);
        }
        if (a->incr)
            c->st.incr_misses++;
        else
            c->st.decr_misses++;
        return MC_NOT_FOUND;
    }
    if (a->cas != 0 && a->cas != it->cas)
        return MC_EXISTS;
    uint64_t v;
    if (!value_number(it, &v))
        return MC_NON_NUMERIC;
    if (a->incr) {
        v += a->delta; /* wraps, as memcached's does */
        c->st.incr_hits++;
    } else {
        v = a->delta > v ? 0 : v - a->delta;
        c->st.decr_hits++;
    }
    *value = v;
    char buf[24];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    if (len <= it->nbytes) { /* in place, padded with spaces, as memcached does */
        char *dst = (char *)mc_item_value(it);
        memcpy(dst, buf, len);
        memset(dst + len, ' ', it->nbytes - len);
        it->cas = new_cas(c);
        lru_bump(c, it);
        if (changed)
            *changed = it;
        return MC_OK;
    }
    /* it may be evicted to make room for the longer number: store_number looks it up again then */
    return store_number(c, key, nkey, hash, it, it->flags, it->exptime, v, changed, now);
}

mc_result mc_cache_delete(mc_cache *c, const char *key, size_t nkey, uint64_t hash, uint64_t cas, int64_t now) {
    mc_item *it = find(c, key, nkey, hash, now, false);
    if (!it) {
        c->st.delete_misses++;
        return MC_NOT_FOUND;
    }
    if (cas != 0 && cas != it->cas)
        return MC_EXISTS;
    c->st.delete_hits++;
    unlink_item(c, it);
    return MC_DELETED;
}

mc_item *mc_cache_touch(mc_cache *c, const char *key, size_t nkey, uint64_t hash, int64_t exptime, int64_t now) {
    c->st.cmd_touch++;
    mc_item *it = find(c, key, nkey, hash, now, false);
    if (!it) {
        c->st.touch_misses++;
        return NULL;
    }
    c->st.touch_hits++;
    it->exptime = mc_cache_exptime(exptime, now);
    mc_cache_bump(c, it, now);
    return it;
}

void mc_cache_flush(mc_cache *c, int64_t when, int64_t now) {
    if (when <= now) { /* now: everything stored so far, by CAS, so that a store later in this second lives */
        c->flush_cas = c->next_cas * c->n;
        c->flush_at = -1; /* and, as in memcached, it replaces a delayed flush still to come */
    } else {
        c->flush_at = when;
    }
}

const mc_cache_stats *mc_cache_stats_get(const mc_cache *c) {
    return &c->st;
}

int64_t mc_cache_oldest_age(const mc_cache *c, int64_t now) {
    return c->tail ? now - (int64_t)c->tail->atime : 0;
}

void mc_cache_stats_reset(mc_cache *c) {
    uint64_t items = c->st.curr_items, bytes = c->st.bytes;
    memset(&c->st, 0, sizeof(c->st));
    c->st.curr_items = items;
    c->st.bytes = bytes;
}

/* ---- snapshots ---- */

const mc_item *mc_cache_coldest(const mc_cache *c) {
    return c->tail;
}

bool mc_cache_item_dead(const mc_cache *c, const mc_item *it, int64_t now) {
    return dead(c, it, now);
}

mc_result mc_cache_restore(mc_cache *c, const char *key, size_t nkey, uint64_t hash, uint32_t flags, int64_t exptime,
                           uint8_t iflags, const char *value, size_t nbytes, uint64_t cas, int64_t now) {
    mc_item *old = find(c, key, nkey, hash, now, false);
    mc_item *it = alloc_replacing(c, key, nkey, hash, nbytes, &old, now);
    if (!it)
        return MC_NO_MEMORY;
    memcpy((char *)mc_item_value(it), value, nbytes);
    it->flags = flags;
    it->exptime = exptime;
    it->iflags = iflags & MC_ITEM_KEY_BINARY;
    replace_item(c, old, it, now);
    it->cas = cas; /* the snapshot's, not the one replace_item drew */
    return MC_STORED;
}

void mc_cache_reserve(mc_cache *c, uint64_t items) {
    uint64_t want = c->st.curr_items + items;
    size_t n = c->nbuckets;
    while (n < want && n < ((size_t)1 << 40))
        n *= 2;
    if (n > c->nbuckets)
        grow_to(c, n);
}

uint64_t mc_cache_max_cas(const mc_cache *c) {
    uint64_t m = 0;
    for (const mc_item *it = c->head; it; it = it->next)
        if (it->cas > m)
            m = it->cas;
    return m;
}

void mc_cache_cas_floor(mc_cache *c, uint64_t max_cas) {
    uint64_t next = max_cas / c->n + 1;
    if (c->next_cas < next)
        c->next_cas = next;
}

int64_t mc_cache_clock_origin(void) {
    clock_init();
    return start_unix;
}
