/*
 * core/mem_module.h - the shards' memory (the mem layer) as a module: its
 * options, sizing the region, each shard attaching to its slice, the
 * poller that moves cross-shard frees, and memory's metrics.
 */
#ifndef SEA_CORE_MEM_MODULE_H
#define SEA_CORE_MEM_MODULE_H

struct sea__module;

extern const struct sea__module sea__module_memory;

#endif
