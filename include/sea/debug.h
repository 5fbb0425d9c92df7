/*
 * sea/debug.h - what each shard is doing, on demand.
 *
 * A dump lists, per shard: its live fibers with their names and, for those
 * waiting, for how long and where they called sea_await; its pending timers
 * with when they are due and what they will call; and the tasks queued to
 * run.  Code addresses are shown as "function+0xOFFSET (binary)" where the
 * dynamic symbol table knows the function, else as "binary+0xOFFSET", which
 * `addr2line -f -e binary 0xOFFSET` turns into a function and line.
 *
 * Send the process SIGUSR2 (kill -USR2 PID) for a dump to the log, or call
 * sea_debug_dump() from code.  docs/debugging.md shows how to read it, and
 * how to use gdb with sea.
 */
#ifndef SEA_DEBUG_H
#define SEA_DEBUG_H

#include <stdio.h>

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Dumps every shard's state to the log (logger "sea", whatever its level;
 * one line per item, each tagged with its shard).  Each shard writes its own
 * part from its own loop, so a shard stuck in a long task answers late
 * (the stall detector reports those).  Resolves once every shard has.
 */
sea_future sea_debug_dump(void) SEA_MUST_USE;

/*
 * Writes the calling shard's state to out, now.  Returns 0, or SEA_ESHUTDOWN
 * outside a shard.  Also callable from gdb: `call sea_debug_dump_shard(stderr)`.
 */
int sea_debug_dump_shard(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
