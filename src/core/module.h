/*
 * core/module.h - modules: how a subsystem plugs into the application's
 * life without the application template naming it.
 *
 * A module is a table: its options (parsed with the standard ones, shown
 * by --help), and hooks the template calls at each step of a run.  Every
 * hook is optional.  The template (app layer) hands core the list of
 * modules in order (sea__modules_use); starting hooks run in that order,
 * stopping ones in reverse, so a module may rely on every module before it.
 *
 *   configure     once, after the command line is parsed: read the options
 *   start         once, before the shards start (calling thread)
 *   thread_start  on each shard's thread, before its shard exists
 *   shard_start   on each shard, once it exists: fill its slot, register
 *                 pollers
 *   metrics       on each shard, once every module's shard_start ran:
 *                 register the module's metrics
 *   running       on shard 0, once every shard runs, before main
 *   stopping      on shard 0, at the orderly stop, after the application's
 *                 own stop callbacks: wind down while the loops still run
 *   ended         on shard 0, once every loop has ended
 *   shard_stop    on each shard, after the queues drained: empty the slot
 *   thread_stop   on each shard's thread, after its shard is gone
 *   stop          once, after every shard thread ended
 *   dump          the state dump (sea/debug.h)
 */
#ifndef SEA_CORE_MODULE_H
#define SEA_CORE_MODULE_H

#include <stddef.h>
#include <stdio.h>

#include <sea/future.h>

#include "base/opt.h"

struct sea__shard;
struct sea__smp;

/* The run being started, as modules see it. */
struct sea__run {
    unsigned nshards;
    const int *cpus; /* the CPU of each shard */
};

/* What a dump hook is asked for. */
enum {
    SEA__DUMP_SUMMARY, /* a fragment for the header line: "3 fibers" (nothing: no fragment) */
    SEA__DUMP_DETAILS, /* lines "  fiber ...\n" */
};

struct sea__module {
    const char *name;
    const struct sea__opt *options;
    size_t noptions;
    /* 0; 1 when the module did what was asked and the program should exit 0 (--help-loggers); SEA_EUSAGE. */
    int (*configure)(const struct sea__opt_values *v, char *err, size_t errlen);
    /* 0, or -errno with a one-line reason in err: start-up fails. */
    int (*start)(const struct sea__run *run, char *err, size_t errlen);
    void (*stop)(void);
    int (*thread_start)(unsigned id, char *err, size_t errlen);
    void (*thread_stop)(unsigned id);
    int (*shard_start)(struct sea__shard *s, char *err, size_t errlen);
    void (*shard_stop)(struct sea__shard *s);
    /* 0, or -errno with err (start-up fails).  The metrics go with the shard's registry. */
    int (*metrics)(struct sea__shard *s, char *err, size_t errlen);
    /* 0, or -errno with err: the application does not run main and stops with exit code 1. */
    int (*running)(struct sea__smp *smp, char *err, size_t errlen);
    /* Resolves when the module has wound down (a failure is reported; the stop goes on). */
    sea_future (*stopping)(struct sea__smp *smp);
    void (*ended)(struct sea__smp *smp);
    void (*dump)(struct sea__shard *s, FILE *out, int part);
};

/* The modules of the program, in order (the app layer's list); the list must stay valid. */
void sea__modules_use(const struct sea__module *const *list, size_t n);
size_t sea__modules_count(void);
const struct sea__module *sea__module_at(size_t i);

/*
 * Each hook of every module, in order (stopping ones in reverse).  A
 * failing start hook stops the modules started before it and returns its
 * error (its reason in err); running and configure stop at the first
 * failure.  sea__modules_shard_start runs every shard_start hook, then
 * every metrics hook.
 */
int sea__modules_configure(const struct sea__opt_values *v, char *err, size_t errlen);
int sea__modules_start(const struct sea__run *run, char *err, size_t errlen);
void sea__modules_stop(void);
int sea__modules_thread_start(unsigned id, char *err, size_t errlen);
void sea__modules_thread_stop(unsigned id);
int sea__modules_shard_start(struct sea__shard *s, char *err, size_t errlen);
void sea__modules_shard_stop(struct sea__shard *s);
int sea__modules_running(struct sea__smp *smp, char *err, size_t errlen);
void sea__modules_ended(struct sea__smp *smp);

#endif
