/*
 * base/compiler.h - small language helpers every layer uses.
 */
#ifndef SEA_BASE_COMPILER_H
#define SEA_BASE_COMPILER_H

#include <stddef.h>

/* The struct of type `type` whose member `member` is at ptr. */
#define sea__container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define sea__likely(x) __builtin_expect(!!(x), 1)
#define sea__unlikely(x) __builtin_expect(!!(x), 0)

#endif
