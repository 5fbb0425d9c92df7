/*
 * gate.c - gates (sea/gate.h): a count of running operations and a promise
 * for whoever closes the gate.
 */
#include <sea/fiber.h>
#include <sea/gate.h>

#include <errno.h>
#include <string.h>
#include "base/panic.h"
#include "core/future.h"

void sea_gate_init(sea_gate *g) {
    memset(g, 0, sizeof(*g));
    sea_promise_init(&g->sea__closing);
}
int sea_gate_enter(sea_gate *g) {
    if (g->sea__closed)
        return SEA_EGATE_CLOSED;
    g->sea__count++;
    return 0;
}

void sea_gate_leave(sea_gate *g) {
    if (g->sea__count == 0)
        sea__panic("sea_gate_leave without a matching sea_gate_enter");
    if (--g->sea__count == 0 && g->sea__waiting) {
        g->sea__waiting = false;
        sea_promise_set_void(&g->sea__closing);
        sea_promise_release(&g->sea__closing);
    }
}

int sea_gate_check(const sea_gate *g) {
    return g->sea__closed ? SEA_EGATE_CLOSED : 0;
}

sea_future sea_gate_close(sea_gate *g) {
    if (g->sea__closed)
        return sea_failed(-EALREADY, "gate closed twice");
    g->sea__closed = true;
    if (g->sea__count == 0)
        return sea_ready();
    sea_future f = sea_promise_get_future(&g->sea__closing);
    if (sea_future_failed(&f)) {
        sea_promise_release(&g->sea__closing);
        return f;
    }
    g->sea__waiting = true;
    return f;
}
bool sea_gate_is_closed(const sea_gate *g) {
    return g->sea__closed;
}
uint64_t sea_gate_count(const sea_gate *g) {
    return g->sea__count;
}
static sea_future leave_gate(sea_gate **g) {
    sea_gate_leave(*g);
    return sea_ready();
}

/* Waits for r's result, leaving g when it arrives (at once if no memory is left to wait). */
static sea_future leave_when_done(sea_gate *g, sea_future r) {
    sea__future_settle(&r);
    bool waiting = !sea_future_available(&r);
    sea_future out = sea_finally(r, leave_gate, g);
    if (waiting && sea_future_failed(&out) && sea_future_error(&out) == -ENOMEM)
        sea_gate_leave(g); /* no memory to wait for the operation: do not hold the gate forever */
    return out;
}

sea_future sea__with_gate(sea_gate *g, sea__fnptr fn, void *cap, size_t capsz) {
    (void)capsz; /* fn runs now: the caller's capture is still there */
    if (g->sea__closed)
        return sea_failed(SEA_EGATE_CLOSED, NULL);
    g->sea__count++;
    if (sea_fiber_self()) {
        /* From a fiber: fn runs in it, and is waited for here. */
        sea_future r = sea_await(sea__call(fn, cap));
        sea_gate_leave(g);
        return r;
    }
    return leave_when_done(g, sea__call(fn, cap));
}

sea_future sea__fiber_start_in(sea_gate *g, sea__fnptr fn, const void *cap, size_t capsz) {
    if (g->sea__closed)
        return sea_failed(SEA_EGATE_CLOSED, "sea_fiber_start_in: the gate is closed");
    sea_future r = sea__fiber_start(NULL, fn, cap, capsz);
    if (sea_future_failed(&r))
        return r;
    g->sea__count++;
    return leave_when_done(g, r);
}
