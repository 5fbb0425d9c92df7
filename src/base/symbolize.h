/*
 * base/symbolize.h - code addresses as names, for stall reports and dumps.
 */
#ifndef SEA_BASE_SYMBOLIZE_H
#define SEA_BASE_SYMBOLIZE_H

#include <stddef.h>

/*
 * Writes "function+0xOFF (binary)" for a code address into buf, or
 * "binary+0xOFF" when the symbol is not exported (link with -rdynamic to
 * name a program's own functions), or the bare address.
 */
void sea__describe_addr(const void *addr, char *buf, size_t len);

#endif
