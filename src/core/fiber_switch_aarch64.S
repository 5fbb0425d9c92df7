/*
 * fiber_switch_aarch64.S - the context switch between fibers, AArch64 (AAPCS64).
 *
 *   int sea__ctx_switch(void **save_sp, void *load_sp);   (returns 0 when resumed)
 *
 * Saves the callee-saved registers x19-x28, the frame pointer x29, the link
 * register x30, the low halves of v8-v15 (d8-d15) and the FP control
 * register FPCR in a 176-byte frame on the current stack, stores sp in
 * *save_sp, switches to load_sp and restores the same frame from there; the
 * final ret jumps to the restored x30.
 *
 * A new stack is prepared (see fiber.c) with x30 = sea__fiber_trampoline,
 * x19 = argument and x20 = entry function.
 */
    .text
    .globl  sea__ctx_switch
    .type   sea__ctx_switch, %function
    .p2align 4
sea__ctx_switch:
    sub     sp, sp, #176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8,  d9,  [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr
    str     x9, [sp, #160]
    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8,  d9,  [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    ldr     x9, [sp, #160]
    msr     fpcr, x9
    add     sp, sp, #176
    mov     w0, #0              /* returns 0: sea_fiber_yield tail-calls the switch */
    ret
    .size   sea__ctx_switch, .-sea__ctx_switch

    .globl  sea__fiber_trampoline
    .type   sea__fiber_trampoline, %function
    .p2align 4
sea__fiber_trampoline:
    .cfi_startproc
    .cfi_undefined x30          /* the outermost frame of a fiber */
    mov     x0, x19
    blr     x20                 /* never returns */
    brk     #0
    .cfi_endproc
    .size   sea__fiber_trampoline, .-sea__fiber_trampoline

    .section .note.GNU-stack,"",%progbits
