/*
 * sea/sea.h - everything: include this to use sea.
 *
 * sea is a shared-nothing, thread-per-core server framework in C: one reactor
 * per core, futures and continuations, non-blocking I/O.  See docs/ for the
 * architecture and the tutorial.
 */
#ifndef SEA_SEA_H
#define SEA_SEA_H

#include <sea/abort.h>
#include <sea/app.h>
#include <sea/buffer.h>
#include <sea/condvar.h>
#include <sea/debug.h>
#include <sea/error.h>
#include <sea/fiber.h>
#include <sea/file.h>
#include <sea/future.h>
#include <sea/gate.h>
#include <sea/io_sched.h>
#include <sea/lifetime.h>
#include <sea/log.h>
#include <sea/loop.h>
#include <sea/memory.h>
#include <sea/metrics.h>
#include <sea/net.h>
#include <sea/options.h>
#include <sea/prometheus.h>
#include <sea/promise.h>
#include <sea/queue.h>
#include <sea/reactor.h>
#include <sea/rwlock.h>
#include <sea/semaphore.h>
#include <sea/server.h>
#include <sea/shared_future.h>
#include <sea/signal.h>
#include <sea/sharded.h>
#include <sea/smp.h>
#include <sea/stream.h>
#include <sea/timer.h>
#include <sea/when.h>

#endif
