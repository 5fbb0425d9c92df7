/*
 * sea/gate.h - gates: shutting down a service once its running operations
 * have finished.
 *
 * Every operation enters the gate when it starts and leaves when it ends.
 * Closing the gate refuses new operations (entering fails with
 * SEA_EGATE_CLOSED, "gate closed") and resolves once the last running one has
 * left.  Long operations can call sea_gate_check() now and then to stop early
 * once a close is under way.
 *
 *     return sea_with_gate(&g, slow, (struct slow_args){.i = i});
 *     ...
 *     return sea_gate_close(&g);      // resolves when every slow() is done
 */
#ifndef SEA_GATE_H
#define SEA_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/future.h>
#include <sea/promise.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fields are private. */
typedef struct sea_gate {
    uint64_t sea__count;
    bool sea__closed;
    bool sea__waiting;        /* sea__closing was handed out */
    sea_promise sea__closing;
} sea_gate;

/* Prepares g: open, nobody inside. */
void sea_gate_init(sea_gate *g);
/* A static initialiser, the same as sea_gate_init: static sea_gate g = SEA_GATE_INIT; */
#define SEA_GATE_INIT {0}
/* Enters g: returns 0, or SEA_EGATE_CLOSED once g is closed (or closing). */
int sea_gate_enter(sea_gate *g);
/* Leaves g (one enter each).  Leaving more often than entering aborts the program. */
void sea_gate_leave(sea_gate *g);
/* 0 while g is open, SEA_EGATE_CLOSED once closing: for long operations to stop early. */
int sea_gate_check(const sea_gate *g);
/*
 * Closes g: no more enters.  Resolves once every operation inside has left
 * (at once if none).  Closing twice fails with -EALREADY.
 */
sea_future sea_gate_close(sea_gate *g) SEA_MUST_USE;
/* True once sea_gate_close was called. */
bool sea_gate_is_closed(const sea_gate *g);
/* Operations inside g now. */
uint64_t sea_gate_count(const sea_gate *g);

/*
 * sea_with_gate(g, fn [, capture]): enters g, runs
 *     sea_future fn(T *capture)    (or fn(void))
 * at once, and leaves when fn's future resolves.  If g is closed, fn does
 * not run and the result fails with SEA_EGATE_CLOSED.  From a fiber, fn runs
 * in that fiber and is waited for there: the result comes back ready.  To
 * run work in the background inside a gate from a fiber, start a fiber in
 * it with sea_fiber_start_in (sea/fiber.h).
 */
#define sea_with_gate(g, ...) SEA__CAPTURE_DISPATCH(sea__with_gate_m, __VA_ARGS__)(g, __VA_ARGS__)

sea_future sea__with_gate(sea_gate *g, sea__fnptr fn, void *cap, size_t capsz) SEA_MUST_USE;
#define sea__with_gate_m0(g, fn) sea__fn_m0("sea_with_gate", sea__with_gate, ((g), ), fn)
#define sea__with_gate_m1(g, fn, ...) sea__fn_m1("sea_with_gate", sea__with_gate, ((g), ), fn, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
