/*
 * fiber_ctx.c - the first frame of a new execution context.
 *
 * The switch (fiber_switch_*.S) resumes a context by popping a saved frame and
 * returning.  A context that has never run has no saved frame, so this file
 * writes one by hand: callee-saved registers that the trampoline reads
 * (entry function and argument), the floating-point control state inherited
 * from the creating thread, and the trampoline as return address.  It depends
 * on nothing else in sea, so the switch can be tested on its own (and under an
 * emulator for the other architecture).
 */
#include "core/fiber_ctx.h"

#include <stdint.h>
#include <string.h>

/* fiber_switch_*.S: calls entry(arg) from the registers the first frame fills. */
void sea__fiber_trampoline(void);

void *sea__ctx_prepare(char *top, void (*entry)(void *), void *arg) {
#if defined(__x86_64__)
    top = (char *)((uintptr_t)top & ~(uintptr_t)15);
    uint64_t *sp = (uint64_t *)top - 8;
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
    __asm__ __volatile__("fnstcw %0" : "=m"(fpucw));
    sp[0] = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    sp[1] = 0;                             /* r15 */
    sp[2] = 0;                             /* r14 */
    sp[3] = (uint64_t)(uintptr_t)entry;    /* r13: entry function */
    sp[4] = (uint64_t)(uintptr_t)arg;      /* r12: its argument */
    sp[5] = 0;                             /* rbx */
    sp[6] = 0;                             /* rbp */
    sp[7] = (uint64_t)(uintptr_t)sea__fiber_trampoline;
    return sp;
#elif defined(__aarch64__)
    top = (char *)((uintptr_t)top & ~(uintptr_t)15);
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    sp[0] = (uint64_t)(uintptr_t)arg;         /* x19: argument */
    sp[1] = (uint64_t)(uintptr_t)entry;       /* x20: entry function */
    sp[11] = (uint64_t)(uintptr_t)sea__fiber_trampoline; /* x30 */
    sp[20] = fpcr;
    return sp;
#else
#error "sea fibers support x86-64 and aarch64"
#endif
}
