/*
 * veth_steer.c - what a NIC's RSS would do, for the kernel's end of a veth
 * pair whose other end sea serves with AF_XDP on several queues: a test and
 * benchmark helper, not part of sea (tests/apps/test_native_apps.py,
 * bench/bench_native.c):
 *
 *     veth_steer IFNAME NQUEUES
 *
 * On a veth, the queue a frame arrives on is the one the sending end put it
 * on, which its kernel picks per socket at random: about half of a
 * two-shard sea's frames would land on the other shard's queue and be
 * forwarded.  This attaches sea__steer_prog_tc (net/native/native.h) to
 * IFNAME's tc egress hook with a BPF link (tcx, kernel 6.6+), so that each
 * IPv4 TCP frame leaves on queue sea__steer_hash(...) % NQUEUES, the one of
 * the shard that owns its flow, and everything else on queue 0 (shard 0's).
 *
 * It prints "steering IFNAME NQUEUES queues (tcx egress)" once attached and
 * holds the link until SIGTERM or SIGINT, then exits 0: the program goes
 * with the link, so nothing is left behind, even after SIGKILL.  It warns
 * on stderr where XPS is set on one of IFNAME's queues (XPS picks the queue
 * before the program's choice is looked at).  Errors: a line on stderr and
 * exit 1; 2 for a wrong command line.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/native/native.h"

/* BPF_TCX_EGRESS (enum bpf_attach_type, kernel 6.6), which older headers lack. */
#define TCX_EGRESS 47

/* Whether XPS maps some CPU to one of the interface's first queues (read where sysfs shows this namespace). */
static void warn_xps(const char *ifname, unsigned nqueues) {
    for (unsigned q = 0; q < nqueues; q++) {
        char path[128], buf[256];
        snprintf(path, sizeof(path), "/sys/class/net/%s/queues/tx-%u/xps_cpus", ifname, q);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        if (strspn(buf, "0,\n") != n) /* a mask with a bit set */
            fprintf(stderr, "veth_steer: warning: XPS is set on %s's queue %u (%s): it chooses the queue first\n",
                    ifname, q, strtok(buf, "\n"));
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: veth_steer IFNAME NQUEUES\n");
        return 2;
    }
    char *end;
    unsigned long n = strtoul(argv[2], &end, 10);
    if (*end || n < 1 || n > 65535) {
        fprintf(stderr, "veth_steer: NQUEUES: a number from 1 to 65535\n");
        return 2;
    }
    unsigned ifindex = if_nametoindex(argv[1]);
    if (!ifindex) {
        fprintf(stderr, "veth_steer: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    /* The signals are waited for, not handled: blocked before anything can arrive. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int prog = sea__steer_prog_tc((unsigned)n);
    if (prog < 0) {
        fprintf(stderr, "veth_steer: bpf(BPF_PROG_LOAD, sched_cls): %s\n", strerror(-prog));
        return 1;
    }
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.link_create.prog_fd = (uint32_t)prog;
    a.link_create.target_ifindex = ifindex;
    a.link_create.attach_type = TCX_EGRESS;
    long link = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
    if (link < 0) {
        fprintf(stderr, "veth_steer: bpf(BPF_LINK_CREATE, tcx egress) on %s: %s%s\n", argv[1], strerror(errno),
                errno == EINVAL ? " (tcx links need Linux 6.6 or later)" : "");
        close(prog);
        return 1;
    }
    warn_xps(argv[1], (unsigned)n);
    printf("steering %s %lu queues (tcx egress)\n", argv[1], n);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    close((int)link); /* the program is detached with its last reference */
    close(prog);
    return 0;
}
