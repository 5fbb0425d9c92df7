/*
 * core/fiber_ctx.h - the raw context switch under fibers: saving one stack
 * pointer and resuming another (fiber_switch_*.S), and the first frame of
 * a context that never ran (fiber_ctx.c).  Depends on nothing else in sea.
 */
#ifndef SEA_CORE_FIBER_CTX_H
#define SEA_CORE_FIBER_CTX_H

/*
 * Saves the running context's stack pointer in *save_sp and resumes the
 * context whose stack pointer is load_sp.  Returns 0 when switched back to.
 */
int sea__ctx_switch(void **save_sp, void *load_sp);
/*
 * Builds a first frame below top (16-byte aligned) so that switching to the
 * returned stack pointer "returns" into a trampoline that calls entry(arg).
 * entry must never return: it ends by switching away for good.
 */
void *sea__ctx_prepare(char *top, void (*entry)(void *), void *arg);

#endif
