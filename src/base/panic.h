/*
 * base/panic.h - the end of the road for a programming error.
 */
#ifndef SEA_BASE_PANIC_H
#define SEA_BASE_PANIC_H

/*
 * Prints "sea: <message>" on stderr and aborts.  For misuse that cannot be
 * reported any other way (a future used twice, a timer cancelled on the
 * wrong shard); never for bad input, which gets an error code.
 */
__attribute__((noreturn, format(printf, 1, 2))) void sea__panic(const char *fmt, ...);

#endif
