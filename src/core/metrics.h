/*
 * core/metrics.h - the metrics registry's module (metrics.c): each shard's
 * registry (SEA__SLOT_METRICS), made first and freed last of the core's.
 */
#ifndef SEA_CORE_METRICS_H
#define SEA_CORE_METRICS_H

struct sea__module;

extern const struct sea__module sea__module_metrics;

#endif
