/*
 * native_app.h - what the native stack's test programs (native_ping.c,
 * native_echo.c) share: the orderly stop that waits for the device to be
 * closed (their addresses are sea's standard options of the native stack:
 * net/native/module.h).
 */
#ifndef SEA_TEST_NATIVE_APP_H
#define SEA_TEST_NATIVE_APP_H

#include <sea/sea.h>

#include <stdbool.h>

/* Static, not on a fiber's stack: the stop callback may run after main's fiber returned early. */
static sea_abort_source native_stop;
static bool native_done, native_stop_waiting;
static sea_promise native_ended;

/*
 * SIGTERM's orderly stop (sea_app_at_exit): requests native_stop and waits
 * until the program has closed its device and called native_finished (an
 * application's stop does not wait for main by itself, so without this the
 * device would be left open at exit).
 */
static inline sea_future native_on_stop(void) {
    if (native_done)
        return sea_ready();
    sea_promise_init(&native_ended);
    native_stop_waiting = true;
    sea_future f = sea_promise_get_future(&native_ended);
    sea_abort_source_request(&native_stop, SEA_ECANCELED);
    return f;
}

/* The device is closed and the counters printed: a stop in progress may end. */
static inline void native_finished(void) {
    native_done = true;
    if (native_stop_waiting) {
        sea_promise_set_void(&native_ended);
        sea_promise_release(&native_ended);
    }
}

#endif
