/*
 * core/sleep.h - sleeps' private side (sleep.c): the module that keeps each
 * shard's sleeps in progress (SEA__SLOT_SLEEP) and breaks them when the
 * shard stops.
 */
#ifndef SEA_CORE_SLEEP_H
#define SEA_CORE_SLEEP_H

struct sea__module;

extern const struct sea__module sea__module_sleep;

#endif
