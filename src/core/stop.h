/*
 * core/stop.h - the callbacks an orderly stop runs first, on shard 0,
 * newest first: the application's (sea_app_at_exit) and those of sea's own
 * parts that must wind down while the loops still run (a server closes its
 * listeners and waits for its connections).  The list belongs to the run
 * (struct sea__smp); the application template pops and runs them (app.c).
 */
#ifndef SEA_CORE_STOP_H
#define SEA_CORE_STOP_H

#include <sea/future.h>

struct sea__smp;

/* One stop callback: fn(cap) or fn(), and the capture bytes it owns. */
struct sea__stop_callback {
    sea__fnptr fn;
    bool has_cap;
    struct sea__stop_callback *next;
    _Alignas(max_align_t) unsigned char cap[];
};

/*
 * Adds fn (with a copy of the capture, if cap is not NULL) to the current
 * run's list.  On shard 0 only.  0, -EINVAL (not on shard 0 of a run, or no
 * fn) or -ENOMEM.
 */
int sea__stop_callback_add(sea__fnptr fn, const void *cap, size_t capsz);
/* Removes and returns the newest callback (the caller frees it), or NULL. */
struct sea__stop_callback *sea__stop_callback_pop(struct sea__smp *smp);
/* Runs c: its future.  Does not free c. */
sea_future sea__stop_callback_run(struct sea__stop_callback *c);

#endif
