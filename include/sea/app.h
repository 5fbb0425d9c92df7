/*
 * sea/app.h - the application template: options, start-up, exit code.
 *
 *     static sea_future app_main(void) { ... return sea_sleep(SEA_SEC(1)); }
 *     int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main); }
 *
 * sea_app_run parses the standard options, starts the reactor, runs main once
 * and keeps the loop going until the future main returned resolves.  The
 * application's exit code is that future's value (v.i, so sea_ready() means 0);
 * if it fails, the error is printed on stderr and the exit code is 1.
 *
 * sea_app_run takes sea's standard options (-c, -m, --reactor-backend, log
 * levels, ...: --help lists them, docs/options.md describes them) and the
 * application's own (sea/options.h).  Unknown or malformed options print one
 * line on stderr and exit with 2.  Arguments after "--", and arguments not
 * starting with "-", are left for the application in sea_app_args().
 *
 * A server's main usually returns a future that resolves when the
 * application is asked to stop (sea_app_stopped(), or a server's own future:
 * sea/server.h), so it runs until SIGINT or SIGTERM.
 */
#ifndef SEA_APP_H
#define SEA_APP_H

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * sea_app_run(argc, argv, main_fn [, capture]): parses argv, runs
 *     sea_future main_fn(T *capture)    (or main_fn(void))
 * once, on shard 0, inside the reactor, and returns the application's exit
 * code: main's value, 1 on failure (start-up errors print "Couldn't start
 * application: <why>"), 2 on a bad command line, 0 after --help.  Meant to be
 * returned from main().  The capture is the caller's, alive for the whole run.
 */
#define sea_app_run(argc, argv, ...) \
    SEA__CAPTURE_DISPATCH(sea__app_m, __VA_ARGS__)("sea_app_run", ((argc), (argv), false, ), __VA_ARGS__)

/*
 * sea_app_run_fiber(argc, argv, main_fn [, capture]): the same, but main_fn
 * runs in a fiber named "main" (default stack size), so it can wait with
 * sea_await() (or SEA_AWAIT) from its first line:
 *
 *     static sea_future app_main(void) {
 *         SEA_AWAIT(sea_sleep(SEA_SEC(1)));
 *         ...
 *     }
 *     int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main); }
 */
#define sea_app_run_fiber(argc, argv, ...) \
    SEA__CAPTURE_DISPATCH(sea__app_m, __VA_ARGS__)("sea_app_run_fiber", ((argc), (argv), true, ), __VA_ARGS__)

/*
 * sea_app_at_exit(fn [, capture]): registers
 *     sea_future fn(T *capture)    (or fn(void))
 * to run when the application stops: after main's future resolves, or on
 * SIGINT/SIGTERM.  The capture is copied.  Callbacks run on shard 0, one
 * after another, most recently registered first; each returns a future that
 * is waited for (a failure is reported and the next callback still runs).
 * Stop sharded services here.  Call it on shard 0 while the application
 * runs.  Returns 0, -ENOMEM, or -EINVAL (not on shard 0, or no fn).
 *
 * Signals: the first SIGINT or SIGTERM starts this orderly stop (exit code 0
 * unless main already set one); a second one exits at once with status
 * 128 + the signal number.
 */
#define sea_app_at_exit(...) SEA__CAPTURE_DISPATCH(sea__at_exit_m, __VA_ARGS__)(__VA_ARGS__)

/*
 * A future that resolves when the application starts to stop: on SIGINT or
 * SIGTERM (or sea_app_stop), before the sea_app_at_exit callbacks run.
 * Return it from main to run until then.  Fails with SEA_ESHUTDOWN outside a
 * running application; -ENOMEM.
 */
sea_future sea_app_stopped(void) SEA_MUST_USE;

/*
 * Starts the orderly stop from anywhere on shard 0, as SIGTERM would, with
 * exit code `code` (unless main already set one).  Returns 0, or -EINVAL off
 * shard 0 or outside an application.
 */
int sea_app_stop(int code);

/*
 * The arguments sea_app_run did not consume (positional ones and those after
 * "--"), as a NULL-terminated array; *count receives their number.  Valid
 * while the application runs.
 */
char **sea_app_args(int *count);

/* ---- private ---- */
int sea__app_run(int argc, char **argv, bool fiber, sea__fnptr fn, const void *cap, size_t capsz);
int sea__app_at_exit(sea__fnptr fn, const void *cap, size_t capsz);
#define sea__app_m0(what, pre, fn) sea__fn_m0(what, sea__app_run, pre, fn)
#define sea__app_m1(what, pre, fn, ...) sea__fn_m1(what, sea__app_run, pre, fn, __VA_ARGS__)
#define sea__at_exit_m0(fn) sea__fn_m0("sea_app_at_exit", sea__app_at_exit, (), fn)
#define sea__at_exit_m1(fn, ...) sea__fn_m1("sea_app_at_exit", sea__app_at_exit, (), fn, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
