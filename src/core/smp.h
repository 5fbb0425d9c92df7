/*
 * core/smp.h - the shards of one application and the queues between them
 * (smp.c), as the application template drives them: creating the queues,
 * asking every shard to stop, and the two drain phases of an orderly end.
 */
#ifndef SEA_CORE_SMP_H
#define SEA_CORE_SMP_H

#include <stdatomic.h>
#include <stdbool.h>

struct sea__shard;
struct sea__module;
struct sea__xq;
struct smp_shard;

/* What the shards of one application share: each other, and the queues between them. */
struct sea__smp {
    unsigned n;
    struct sea__shard **shards;   /* each set by its own shard before the start-up barrier */
    struct smp_shard **peers;     /* each shard's end of the queues (smp.c) */
    struct sea__xq *req;          /* n*n: requests from a to b at [a*n + b] */
    struct sea__xq *resp;         /* n*n: responses from a to b at [a*n + b] */
    bool membarrier_ok;
    _Atomic int stopping;
    int exit_code;                /* the first stop request's */
    struct sea__stop_callback *stop_callbacks; /* shard 0's: core/stop.h */
};

/* Makes the queues of n shards.  0 or -ENOMEM. */
int sea__smp_create(struct sea__smp *smp, unsigned n);
void sea__smp_free(struct sea__smp *smp);
/* Asks every shard to stop (waking those asleep); the first call's exit code wins. */
void sea__smp_request_stop(struct sea__smp *smp, int exit_code);
/*
 * Once every loop has ended, phase 1 on every shard: requests that reached
 * it but never ran, or are still running, are answered with SEA_ESHUTDOWN.
 */
void sea__smp_drain_requests(struct sea__shard *s);
/*
 * Phase 2, once every shard finished phase 1: the shard's own messages come
 * home from wherever they are, and their promises are resolved or failed.
 */
void sea__smp_drain_home(struct sea__shard *s);

/* The module: each shard's end of the queues (SEA__SLOT_SMP), polled and put to sleep by a poller. */
extern const struct sea__module sea__module_smp;

#endif
