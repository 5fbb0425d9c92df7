/*
 * thread.c - starting sea's signal-free helper threads (see thread.h).
 */
#include "base/thread.h"

#include <signal.h>

int sea__helper_thread_start(pthread_t *thread, void *(*fn)(void *), const char *name) {
    /* Signals are for the shards and sea's handlers: a helper thread blocks them all. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    int rc = pthread_create(thread, NULL, fn, NULL);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc == 0)
        pthread_setname_np(*thread, name);
    return rc;
}
