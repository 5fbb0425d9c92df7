/*
 * core/signals.h - signal handlers that run on the reactor (signal.c), as
 * the application template sees them.
 */
#ifndef SEA_CORE_SIGNALS_H
#define SEA_CORE_SIGNALS_H

#include <stdbool.h>

struct sea__module;

/*
 * A signal read from a signalfd (SIGINT, SIGTERM on shard 0): true if the
 * application handles it (its handler will run on its shard), else false.
 */
bool sea__signal_deliver(int signo);

/*
 * The module: on shard 0 once the shards run, installs sea's SIGUSR2 dump
 * and lets handlers wake their shards; when the loops have ended, puts the
 * previous dispositions back.  Each shard runs its pending handlers from a
 * poller.
 */
extern const struct sea__module sea__module_signals;

#endif
