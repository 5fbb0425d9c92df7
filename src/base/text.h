/*
 * base/text.h - strict parsers and small formatters for text that comes
 * from users: command lines, options files, /proc and /sys.
 *
 * Every parser accepts exactly one spelling and rejects everything else
 * (signs, spaces, hexadecimal, "inf", trailing bytes), so that a typo is
 * an error rather than a surprising value.
 */
#ifndef SEA_BASE_TEXT_H
#define SEA_BASE_TEXT_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal whole number ("0".."18446744073709551615") no greater than hi. */
bool sea__parse_uint(const char *s, unsigned long long hi, unsigned long long *out);
/* A decimal number in [lo, hi]: digits, '.', an exponent; no "inf", "nan" or hex. */
bool sea__parse_double(const char *s, double lo, double hi, double *out);
/* A size in bytes: "4096", or a number with k, M, G or T in either case (powers of two: "512M", "2m"). */
bool sea__parse_size(const char *s, uint64_t *out);
/* A CPU list such as "0-3,8" (CPUs below CPU_SETSIZE); no empty items or reversed ranges. */
bool sea__parse_cpuset(const char *s, cpu_set_t *set);
/* A log level's name (error, warn, info, debug, trace): its number, or -1. */
int sea__parse_log_level(const char *s);

/* "10 TiB", "23.4 GiB", "4096 bytes": buf, for messages. */
const char *sea__format_size(uint64_t bytes, char *buf, size_t len);
/* Replaces control characters in s by '?', so that a message stays one line. */
void sea__one_line(char *s);

#endif
