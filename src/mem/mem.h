/*
 * mem/mem.h - the shards' memory, as the layers above see it: the region,
 * planning it at start-up, each shard attaching to its slice, and pages for
 * fiber stacks.  The allocator's own structures stay in memory.c.
 */
#ifndef SEA_MEM_MEM_H
#define SEA_MEM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The region every shard's memory lives in: nslices slices of 1 << shift
 * bytes, slice i holding shard i's heap.  Reserved once per process, at the
 * first application start; zero until then (every pointer is then the C
 * library's).
 */
struct sea__mem_region {
    uintptr_t base;
    uintptr_t size;          /* nslices << shift */
    unsigned shift;
    unsigned nslices;
    uint64_t shard_budget;   /* bytes each shard of the current run may use */
    bool huge_pages;         /* transparent huge pages were requested for the region */
};
extern struct sea__mem_region sea__mem;

/* What the user asked for (-m, --reserve-memory, --transparent-huge-pages). */
struct sea__mem_config {
    uint64_t memory;         /* bytes for the application, 0 for "all but the reserve" */
    uint64_t reserve;        /* bytes left to the OS, when has_reserve */
    bool has_reserve;
    bool huge_pages;
};

/*
 * Sizes the shards' memory from cfg for nshards shards on cpus (for NUMA
 * placement), and reserves the region on first use.  Returns 0, or -ENOMEM
 * with a one-line reason in err.
 */
int sea__memory_plan(const struct sea__mem_config *cfg, unsigned nshards, const int *cpus, char *err,
                     size_t errlen);
/*
 * Makes slice id the calling thread's heap (a shard starting), with
 * sea__mem.shard_budget.  Returns 0, or -EBUSY when another application in
 * this process is using that slice.
 */
int sea__heap_attach(unsigned id);
/* The shard is ending: sends batched frees home and stops serving malloc from the heap. */
void sea__heap_detach(void);
/* Once per loop turn: sends batched frees home and takes back what others freed. */
void sea__heap_poll(void);
/* Page-aligned memory for fiber stacks, in small pages: from the shard's heap, else mmap. */
void *sea__pages_alloc(size_t bytes);
void sea__pages_free(void *p, size_t bytes);

#endif
