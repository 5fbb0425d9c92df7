/*
 * core/stall.h - the stall detector (stall.c): --blocked-reactor-notify-ms.
 */
#ifndef SEA_CORE_STALL_H
#define SEA_CORE_STALL_H

struct sea__module;

/*
 * The module: its option; on each shard, the slot a stalled shard's
 * backtrace is written to (SEA__SLOT_STALL); on shard 0 once the shards
 * run, the watchdog thread, stopped when the loops end.
 */
extern const struct sea__module sea__module_stall;

#endif
