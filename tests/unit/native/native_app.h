/*
 * native_app.h - what the native stack's test programs (native_ping.c,
 * native_echo.c) share: the orderly stop that waits for the device to be
 * closed, and the parsing of their address options.
 */
#ifndef SEA_TEST_NATIVE_APP_H
#define SEA_TEST_NATIVE_APP_H

#include <sea/sea.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

static inline int native_parse_ipv4(const char *s, uint32_t *out) {
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -EINVAL;
    *out = ntohl(a.s_addr);
    return 0;
}

/* "aa:bb:cc:dd:ee:ff" into mac; -EINVAL for anything else. */
static inline int native_parse_mac(const char *s, uint8_t mac[6]) {
    unsigned m[6];
    char extra;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        if (m[i] > 0xff)
            return -EINVAL;
        mac[i] = (uint8_t)m[i];
    }
    return 0;
}

#endif
