/*
 * sea/memory.h - per-shard memory: the sharded allocator, its statistics and
 * reclaim hooks.
 *
 * At start-up the memory given to the application (-m, or all of it but
 * --reserve-memory) is split evenly among the shards.  Each shard allocates
 * only from its own part, so malloc and free on a shard take no lock and no
 * atomic operation.  Memory freed on another shard (or another thread) goes
 * back to the shard that owns it, in batches, through a lock-free list.
 *
 * In a normal build sea replaces malloc and its family for the whole program:
 * on a shard they are served from the shard's memory, elsewhere (threads that
 * are not shards, before sea_app_run and after it returns) from the C
 * library's allocator.  Either kind of pointer may be freed anywhere.  Builds
 * with SEA_MALLOC_OVERRIDE=OFF (and sanitizer builds, which need the
 * sanitizer's own malloc) leave malloc alone; the functions below still
 * allocate from the shard's memory.
 */
#ifndef SEA_MEMORY_H
#define SEA_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The allocator itself.  They behave as malloc, free, calloc, realloc,
 * aligned_alloc and malloc_usable_size do: on failure they return NULL with
 * errno set to ENOMEM (EINVAL for a bad alignment).  On a shard they allocate
 * from that shard's memory; elsewhere from the C library.  When the shard's
 * memory is spent, its reclaim hooks run before an allocation fails.
 */
void *sea_malloc(size_t size);
void sea_free(void *p);
void *sea_calloc(size_t count, size_t size);
void *sea_realloc(void *p, size_t size);
/* alignment: a power of two. */
void *sea_aligned_alloc(size_t alignment, size_t size);
/* Bytes usable at p (at least what was asked for); 0 for NULL. */
size_t sea_malloc_usable_size(const void *p);

/* The shard whose memory holds p, or -1 for memory from the C library (and NULL). */
int sea_memory_owner(const void *p);

/* True when this build routes malloc and its family to sea (SEA_MALLOC_OVERRIDE). */
bool sea_memory_overrides_malloc(void);

/* One shard's memory, as seen from that shard. */
typedef struct sea_memory_stats {
    size_t total;            /* the shard's budget, in bytes */
    size_t used;             /* held by live allocations (rounded up to their size class or pages) */
    size_t cached;           /* in pages the allocator holds for small objects but not in use */
    size_t free;             /* in free pages: what large allocations can still get */
    size_t metadata;         /* page descriptors the allocator has touched */
    uint64_t small_spans;    /* spans cut into small objects so far */
    uint64_t large_allocs;   /* allocations over 16 KiB, served by whole pages */
    uint64_t cross_shard_frees; /* frees of this shard's memory made by other threads */
    uint64_t foreign_frees;  /* frees this shard made of memory it does not own */
    uint64_t failed_allocs;  /* allocations that returned NULL */
    uint64_t reclaims;       /* times the reclaim hooks ran */
    uint64_t reclaimed;      /* bytes the hooks said they freed */
} sea_memory_stats;

/*
 * Fills *st for the calling shard.  Returns 0, or -EPERM when called from a
 * thread that is not a shard (*st is then zeroed).
 */
int sea_memory_stats_get(sea_memory_stats *st);

/*
 * A reclaim hook: called on the shard when an allocation would fail, to free
 * memory it can rebuild (a cache's entries, say).  wanted is the size of the
 * allocation that failed; return how many bytes were freed (0 for none).  It
 * may call free and, carefully, malloc (a nested failure does not reclaim
 * again).  After the hooks run the allocation is retried once.
 */
typedef size_t (*sea_reclaim_fn)(void *arg, size_t wanted);

/*
 * Registers fn(arg) on the calling shard, until removed or the shard stops.
 * Returns 0, -EPERM off a shard, -ENOSPC when 16 hooks are registered already.
 */
int sea_memory_reclaimer_add(sea_reclaim_fn fn, void *arg);
/* Removes a hook added with the same fn and arg.  Returns 0 or -ENOENT. */
int sea_memory_reclaimer_remove(sea_reclaim_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
