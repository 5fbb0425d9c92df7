/*
 * test_ctx_switch.c - the raw context switch on its own, without a reactor.
 *
 * Two contexts ping-pong many times.  Across every switch each side checks
 * that its callee-saved state survived: integer and floating-point values the
 * compiler keeps live across the call (in callee-saved registers at -O2), and
 * its own floating-point rounding mode (MXCSR/x87 control word on x86-64,
 * FPCR on aarch64), which the two sides set differently.  Depends only on
 * src/core/fiber_ctx.c and src/core/fiber_switch_*.S, so it also runs under
 * an emulator for the other architecture:
 *
 *   aarch64-linux-gnu-gcc -O2 -static -Isrc tests/unit/core/test_ctx_switch.c \
 *       src/core/fiber_ctx.c src/core/fiber_switch_aarch64.S -o /tmp/t && qemu-aarch64 /tmp/t
 *
 * Then the same ping-pong under a profiling timer whose signal handler
 * unwinds the stack with backtrace(), as the stall detector does: a signal
 * may land on any instruction of the switch, including between the two
 * stacks, and the unwind information must describe every one of them (it
 * once did not, and the stall detector crashed programs that switch
 * fibers).  It runs until many signals have landed inside the switch.
 */
#include <execinfo.h>
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#include "core/fiber_ctx.h"

#define ROUNDS 100000

/*
 * Switches with known patterns pinned in every callee-saved register (local
 * register variables, forced in and read back by empty asm statements), and
 * returns how many came back changed.  Each side uses its own patterns, so a
 * register the switch failed to save or restore shows up here.
 */
__attribute__((noinline)) static int switch_checked(void **save, void *load, uint64_t salt) {
#if defined(__x86_64__)
    register uint64_t r1 __asm__("rbx") = salt ^ 0x1111;
    register uint64_t r2 __asm__("r12") = salt ^ 0x2222;
    register uint64_t r3 __asm__("r13") = salt ^ 0x3333;
    register uint64_t r4 __asm__("r14") = salt ^ 0x4444;
    register uint64_t r5 __asm__("r15") = salt ^ 0x5555;
    __asm__ __volatile__("" : "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5));
    sea__ctx_switch(save, load);
    __asm__ __volatile__("" : "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5));
    return (r1 != (salt ^ 0x1111)) + (r2 != (salt ^ 0x2222)) + (r3 != (salt ^ 0x3333)) +
           (r4 != (salt ^ 0x4444)) + (r5 != (salt ^ 0x5555));
#elif defined(__aarch64__)
    register uint64_t r1 __asm__("x19") = salt ^ 0x1111;
    register uint64_t r2 __asm__("x22") = salt ^ 0x2222;
    register uint64_t r3 __asm__("x25") = salt ^ 0x3333;
    register uint64_t r4 __asm__("x28") = salt ^ 0x4444;
    register double f1 __asm__("d8") = (double)(salt & 0xffff) + 0.5;
    register double f2 __asm__("d11") = (double)(salt & 0xffff) + 1.5;
    register double f3 __asm__("d15") = (double)(salt & 0xffff) + 2.5;
    __asm__ __volatile__("" : "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+w"(f1), "+w"(f2), "+w"(f3));
    sea__ctx_switch(save, load);
    __asm__ __volatile__("" : "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+w"(f1), "+w"(f2), "+w"(f3));
    return (r1 != (salt ^ 0x1111)) + (r2 != (salt ^ 0x2222)) + (r3 != (salt ^ 0x3333)) +
           (r4 != (salt ^ 0x4444)) + (f1 != (double)(salt & 0xffff) + 0.5) +
           (f2 != (double)(salt & 0xffff) + 1.5) + (f3 != (double)(salt & 0xffff) + 2.5);
#endif
}

/* The SSE rounding mode on x86-64 (MXCSR bits 13-14), which fegetround() does not read. */
static unsigned sse_rounding(void) {
#if defined(__x86_64__)
    uint32_t mxcsr;
    __asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
    return (mxcsr >> 13) & 3;
#else
    return 0;
#endif
}

static void *main_sp, *co_sp;
static int failures;
static volatile uint64_t seed = 0x9e3779b97f4a7c15ull;

#define EXPECT(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++; \
        } \
    } while (0)

__attribute__((noinline)) static void co_body(void *arg) {
    EXPECT(arg == (void *)&seed);
    EXPECT(fesetround(FE_TOWARDZERO) == 0);
    unsigned sse = sse_rounding();
    uint64_t a = seed * 3, b = seed * 5, c = seed * 7, d = seed * 11, e = seed * 13, f = seed * 17;
    double x = (double)(seed & 0xffff) + 0.25, y = x * 3, z = x * 5, w = x * 7;
    for (;;) {
        EXPECT(switch_checked(&co_sp, main_sp, 0xc0c0c0c0ull) == 0);
        EXPECT(fegetround() == FE_TOWARDZERO);
        EXPECT(sse_rounding() == sse);
        EXPECT(a == seed * 3 && b == seed * 5 && c == seed * 7);
        EXPECT(d == seed * 11 && e == seed * 13 && f == seed * 17);
        EXPECT(y == x * 3 && z == x * 5 && w == x * 7);
        a += 0, x += 0;
    }
}

static void co_entry(void *arg) {
    co_body(arg);
    abort(); /* co_body never returns */
}

/* ---- unwinding from anywhere in the switch ---- */

void sea__fiber_trampoline(void); /* fiber_switch_*.S: the function right after sea__ctx_switch */

static volatile sig_atomic_t signals, inside, empty;

static void unwind_here(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    (void)si;
    void *frames[64];
    int n = backtrace(frames, 64);
    if (n < 1)
        empty++;
#if defined(__x86_64__)
    const ucontext_t *uc = ucv;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (pc >= (uintptr_t)sea__ctx_switch && pc < (uintptr_t)sea__fiber_trampoline)
        inside++;
#else
    (void)ucv;
    inside++; /* elsewhere the signals are only counted */
#endif
    signals++;
}

static void *unwind_main_sp, *unwind_co_sp;

static void unwind_co(void *arg) {
    (void)arg;
    for (;;)
        sea__ctx_switch(&unwind_co_sp, unwind_main_sp);
}

/* Switches back and forth under a 20 us profiling timer until 200 signals landed in the switch (at most 50,000 signals). */
static void test_unwind_anywhere(void) {
    size_t size = 64 * 1024;
    char *stack = malloc(size);
    EXPECT(stack != NULL);
    if (!stack)
        return;
    /* Load the unwinder before the first signal: loading it from a handler is not safe. */
    void *warm[2];
    backtrace(warm, 2);
    unwind_co_sp = sea__ctx_prepare(stack + size, unwind_co, NULL);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = unwind_here;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPROF, &sa, &old);
    struct itimerval every = {{0, 20}, {0, 20}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &every, NULL);
    while (inside < 200 && signals < 50000)
        sea__ctx_switch(&unwind_main_sp, unwind_co_sp);
    setitimer(ITIMER_PROF, &off, NULL);
    sigaction(SIGPROF, &old, NULL);
    EXPECT(inside >= 200);
    EXPECT(empty == 0);
    printf("unwound from %d signals, %d of them inside the switch\n", (int)signals, (int)inside);
    free(stack);
}

int main(void) {
    size_t size = 64 * 1024;
    char *stack = malloc(size);
    if (!stack)
        return 1;
    co_sp = sea__ctx_prepare(stack + size, co_entry, (void *)&seed);
    EXPECT(((uintptr_t)co_sp & 15) == 0);
    EXPECT(fesetround(FE_UPWARD) == 0);
    unsigned sse = sse_rounding();
    uint64_t a = seed * 19, b = seed * 23, c = seed * 29, d = seed * 31, e = seed * 37, f = seed * 41;
    double x = (double)(seed & 0xfff) + 0.5, y = x * 2, z = x * 4, w = x * 8;
    for (int i = 0; i < ROUNDS && failures < 10; i++) {
        EXPECT(switch_checked(&main_sp, co_sp, 0xa5a5a5a5ull + (uint64_t)i) == 0);
        EXPECT(fegetround() == FE_UPWARD);
        EXPECT(sse_rounding() == sse);
        EXPECT(a == seed * 19 && b == seed * 23 && c == seed * 29);
        EXPECT(d == seed * 31 && e == seed * 37 && f == seed * 41);
        EXPECT(y == x * 2 && z == x * 4 && w == x * 8);
    }
    fesetround(FE_TONEAREST);
    test_unwind_anywhere();
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    free(stack);
    return failures ? 1 : 0;
}
