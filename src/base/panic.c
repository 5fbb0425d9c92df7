/*
 * panic.c - sea__panic: report a programming error and abort.
 */
#include "base/panic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sea__panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("sea: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
