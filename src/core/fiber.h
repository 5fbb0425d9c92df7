/*
 * core/fiber.h - fibers' private side (fiber.c): the module that gives each
 * shard its fibers (SEA__SLOT_FIBERS), drops those still waiting when the
 * shard stops, and lists them in the state dump.
 */
#ifndef SEA_CORE_FIBER_H
#define SEA_CORE_FIBER_H

struct sea__module;

extern const struct sea__module sea__module_fibers;

#endif
