/*
 * base/thread.h - sea's own helper threads (the log writer, the stall
 * watchdog), which must never take a signal meant for the shards.
 */
#ifndef SEA_BASE_THREAD_H
#define SEA_BASE_THREAD_H

#include <pthread.h>

/*
 * Starts fn(NULL) on a new thread called name (seen in gdb's "info threads"
 * and top -H) with every signal blocked.  Returns 0 or an errno value.
 */
int sea__helper_thread_start(pthread_t *thread, void *(*fn)(void *), const char *name);

#endif
