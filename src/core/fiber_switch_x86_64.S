/*
 * fiber_switch_x86_64.S - the context switch between fibers, x86-64 SysV.
 *
 *   int sea__ctx_switch(void **save_sp, void *load_sp);   (returns 0 when resumed)
 *
 * Pushes the callee-saved registers (rbx, rbp, r12-r15) and the SSE and x87
 * control words (MXCSR, FPU control word) on the current stack, stores the
 * stack pointer in *save_sp, switches to load_sp and pops the same frame
 * there.  Caller-saved registers need no saving: this is an ordinary call.
 * No system call, no signal mask (swapcontext() makes a sigprocmask system
 * call per switch).
 *
 * It returns by popping the resumed context's return address and jumping to
 * it, not with ret (as Boost.Context does).  The CPU predicts a ret from its
 * return stack, which holds the call site of the context that just switched
 * away: after a switch a ret is always mispredicted (about 6 ns per switch on
 * Zen 5, bench/bench_fiber.c: 12.5 -> 5 ns).  The indirect jump is predicted
 * from its own history.  (If user-space IBT is ever enabled, return sites are
 * not ENDBR64 landing pads; neither design works with shadow stacks as is.)
 *
 * A new stack is prepared (see fiber.c) so that the first switch to it "returns"
 * into sea__fiber_trampoline with r12 = argument and r13 = entry function.
 */
    .text
    .globl  sea__ctx_switch
    .type   sea__ctx_switch, @function
    .p2align 4
sea__ctx_switch:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbp, -16
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbx, -24
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r12, -32
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r13, -40
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r14, -48
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r15, -56
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    /*
     * From here on rsp is the resumed context's saved frame, laid out like
     * the one just pushed, so the same unwind rules describe it: a signal
     * (the stall detector's backtrace) landing here unwinds into the
     * resumed context, or stops at a new fiber's trampoline.
     */
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbp
    xorl    %eax, %eax          /* returns 0: sea_fiber_yield tail-calls the switch */
    popq    %rcx                /* return address of the context resumed: */
    .cfi_adjust_cfa_offset -8
    .cfi_register %rip, %rcx
    jmpq    *%rcx               /* an indirect jump, not ret (see above) */
    .cfi_endproc
    .size   sea__ctx_switch, .-sea__ctx_switch

    .globl  sea__fiber_trampoline
    .type   sea__fiber_trampoline, @function
    .p2align 4
sea__fiber_trampoline:
    .cfi_startproc
    .cfi_undefined rip          /* the outermost frame of a fiber: backtraces stop here */
    movq    %r12, %rdi
    callq   *%r13               /* never returns: the fiber switches away for good */
    ud2
    .cfi_endproc
    .size   sea__fiber_trampoline, .-sea__fiber_trampoline

    .section .note.GNU-stack,"",@progbits
