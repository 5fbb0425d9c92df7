/*
 * core/log.h - the loggers' private side (log.c): the writer thread's
 * rings, and the module that configures and starts them.
 */
#ifndef SEA_CORE_LOG_H
#define SEA_CORE_LOG_H

struct sea__module;

/* The calling thread (not a shard: sea's watchdog) logs through the writer's extra ring. */
void sea__log_use_extra_ring(void);

/*
 * The module: --default-log-level, --logger-log-level, --help-loggers,
 * --log-to-syslog; before the shards start, one ring per shard and the
 * writer thread; after they end, the last lines flushed.
 */
extern const struct sea__module sea__module_log;

#endif
