/*
 * modules.c - the list of modules, in start order.  Each one may rely on
 * every module before it: memory's slice before anything allocates,
 * futures before any promise, I/O before the loop polls it, and so on up
 * the layers.  Stopping goes in reverse, so the metrics registry, first,
 * goes last.  The state dump lists the modules newest first.
 */
#include "app/modules.h"

#include "core/fiber.h"
#include "core/future.h"
#include "core/io.h"
#include "core/log.h"
#include "core/mem_module.h"
#include "core/metrics.h"
#include "core/shard.h"
#include "core/signals.h"
#include "core/sleep.h"
#include "core/smp.h"
#include "core/stall.h"
#include "core/timers.h"
#include "disk/disk.h"
#include "http/prometheus.h"
#include "net/native/module.h"
#include "net/net.h"

const struct sea__module *const sea__app_modules[] = {
    &sea__module_metrics,  /* the registry: last to go, as the others' releases may still remove metrics */
    &sea__module_memory,   /* the region (start), each shard's slice (thread_start) */
    &sea__module_futures,
    &sea__module_disk_late, /* stops after io: frees the disk requests the backend let go of */
    &sea__module_io,
    &sea__module_smp,      /* its poller right after the heap's: a message is handled as early in a turn as it can */
    &sea__module_reactor,
    &sea__module_timers,
    &sea__module_sleep,
    &sea__module_fibers,
    &sea__module_signals,
    &sea__module_log,
    &sea__module_stall,
    &sea__module_disk,     /* files: after the loop's modules, before the network (a sibling, named first) */
    &sea__module_net,
    &sea__module_native,   /* the native stack (--network-stack): after the network's counters, which it counts in */
    &sea__module_prometheus,
    &sea__module_app,
};

const size_t sea__app_module_count = sizeof(sea__app_modules) / sizeof(sea__app_modules[0]);
