/*
 * symbolize.c - code addresses as "function+0xOFF (binary)" (see symbolize.h).
 */
#include "base/symbolize.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void sea__describe_addr(const void *addr, char *buf, size_t len) {
    Dl_info info;
    if (!addr) {
        snprintf(buf, len, "(unknown)");
        return;
    }
    if (dladdr(addr, &info) && info.dli_fname) {
        const char *file = strrchr(info.dli_fname, '/');
        file = file ? file + 1 : info.dli_fname;
        if (info.dli_sname && info.dli_saddr)
            snprintf(buf, len, "%s+0x%lx (%s)", info.dli_sname,
                     (unsigned long)((const char *)addr - (const char *)info.dli_saddr), file);
        else
            snprintf(buf, len, "%s+0x%lx", file, (unsigned long)((const char *)addr - (const char *)info.dli_fbase));
        return;
    }
    snprintf(buf, len, "%p", addr);
}
