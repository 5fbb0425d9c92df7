/*
 * sea/app.h - the application template: options, start-up, exit code.
 *
 *     static sea_future app_main(void *arg) { ... return sea_sleep(SEA_SEC(1)); }
 *     int main(int argc, char **argv) { return sea_app_run(argc, argv, app_main, NULL); }
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
 */
#ifndef SEA_APP_H
#define SEA_APP_H

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The application's entry point: runs once, on shard 0, inside the reactor. */
typedef sea_future (*sea_main_fn)(void *arg);

/*
 * Parses argv, runs the application and returns its exit code: main's value,
 * 1 on failure (start-up errors print "Couldn't start application: <why>"),
 * 2 on a bad command line, 0 after --help.  Meant to be returned from main().
 */
int sea_app_run(int argc, char **argv, sea_main_fn main_fn, void *arg);

/*
 * Like sea_app_run, but main_fn runs in a fiber named "main" (default stack
 * size), so it can wait with sea_await() from its first line:
 *
 *     static sea_future app_main(void *arg) {
 *         int err = sea_await_value(sea_sleep(SEA_SEC(1)), NULL);
 *         ...
 *     }
 *     int main(int argc, char **argv) { return sea_app_run_fiber(argc, argv, app_main, NULL); }
 */
int sea_app_run_fiber(int argc, char **argv, sea_main_fn main_fn, void *arg);

/*
 * Registers fn(arg) to run when the application stops: after main's future
 * resolves, or on SIGINT/SIGTERM.  Callbacks run on shard 0, one after
 * another, most recently registered first; each returns a future that is
 * waited for (a failure is reported and the next callback still runs).  Stop
 * sharded services here.  Call it on shard 0 while the application runs.
 * Returns 0, -ENOMEM, or -EINVAL (not on shard 0, or no fn).
 *
 * Signals: the first SIGINT or SIGTERM starts this orderly stop (exit code 0
 * unless main already set one); a second one exits at once with status
 * 128 + the signal number.
 */
int sea_app_at_exit(sea_future (*fn)(void *arg), void *arg);

/*
 * The arguments sea_app_run did not consume (positional ones and those after
 * "--"), as a NULL-terminated array; *count receives their number.  Valid
 * while the application runs.
 */
char **sea_app_args(int *count);

#ifdef __cplusplus
}
#endif
#endif
