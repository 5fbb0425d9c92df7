/*
 * fiber_switch_x86_64.S - the context switch between fibers, x86-64 SysV.
 *
 *   void sea__ctx_switch(void **save_sp, void *load_sp);
 *
 * Pushes the callee-saved registers (rbx, rbp, r12-r15) and the SSE and x87
 * control words (MXCSR, FPU control word) on the current stack, stores the
 * stack pointer in *save_sp, switches to load_sp and pops the same frame
 * there.  Caller-saved registers need no saving: this is an ordinary call.
 * No system call, no signal mask: that is what makes it ~2 ns, where
 * swapcontext() costs a sigprocmask per switch.
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
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
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
