/*
 * seccomp_block.c - runs a program with one system call blocked (it fails
 * with EPERM), the way container runtimes' seccomp profiles and old kernels
 * take features away.  Built once per blocked call (tests/CMakeLists.txt):
 *   no_io_uring    blocks io_uring_setup: sea must fall back to epoll by
 *                  itself, and --reactor-backend=io_uring must fail clearly;
 *   no_membarrier  blocks membarrier: many shards must fall back to a full
 *                  fence on the sending side (src/smp.c);
 *   no_io_setup    blocks io_setup: without Linux AIO the epoll backend makes
 *                  direct file requests at once (test_file's t_stream_no_aio).
 *
 *     TOOL PROGRAM [ARGS...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef BLOCKED_SYSCALL
#error "define BLOCKED_SYSCALL (a __NR_ constant) and TOOL_NAME"
#endif

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: " TOOL_NAME " PROGRAM [ARGS...]\n");
        return 2;
    }
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BLOCKED_SYSCALL, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
        fprintf(stderr, TOOL_NAME ": cannot install the seccomp filter: %s\n", strerror(errno));
        return 2;
    }
    execv(argv[1], argv + 1);
    fprintf(stderr, TOOL_NAME ": cannot run %s: %s\n", argv[1], strerror(errno));
    return 2;
}
