/*
 * sea/signal.h - signal handlers that run on the reactor.
 *
 *     static void on_hup(int signo, void *arg) { reload_config(arg); }
 *     ... sea_signal_handle(SIGHUP, on_hup, cfg);
 *
 * The handler runs on the shard that registered it, as ordinary code in the
 * event loop (not in signal context), so it may do anything a continuation
 * may: allocate, log, start futures.  Signals that arrive together may be
 * merged into one call, as the kernel merges pending signals.
 *
 * SIGINT and SIGTERM stop the application by default (sea/app.h); handling
 * one replaces that.  SIGUSR2 dumps every shard's fibers, timers and queued
 * tasks to the log (sea/debug.h); handling it replaces that too.  sea itself
 * uses SIGRTMIN for the stall detector; it cannot be handled.  Handlers are
 * removed, and the previous dispositions put back, when the application
 * ends.
 */
#ifndef SEA_SIGNAL_H
#define SEA_SIGNAL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*sea_signal_fn)(int signo, void *arg);

/*
 * Runs fn(signo, arg) on the calling shard each time signo arrives,
 * replacing any handler signo had.  Returns 0; SEA_ESHUTDOWN outside a
 * running application; -EINVAL for a signal that cannot be handled
 * (SIGKILL, SIGSTOP, faults such as SIGSEGV, or out of range) or no fn;
 * -EBUSY for the stall detector's signal.
 */
int sea_signal_handle(int signo, sea_signal_fn fn, void *arg);

/* Removes signo's handler (SIGINT, SIGTERM, SIGUSR2 go back to sea's behaviour).  0 or -ENOENT. */
int sea_signal_unhandle(int signo);

#ifdef __cplusplus
}
#endif
#endif
