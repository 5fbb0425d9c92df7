/*
 * app.c - the application template: parse options, run main in a reactor,
 * turn its future into an exit code.
 *
 * This sea runs one shard on the calling thread; sea_app_run is the
 * one place that will start more.
 */
#include "internal.h"

#include <sea/app.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app_run {
    struct sea__shard *shard;
    struct sea__options *opts;
};

static __thread struct sea__options *app_options;

char **sea_app_args(int *count) {
    if (!app_options) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = app_options->nargs;
    return app_options->args;
}

static sea_future main_done(struct sea__shard **sp, sea_future *result) {
    struct sea__shard *s = *sp;
    int err = sea_future_error(result);
    if (err) {
        const char *msg = sea_future_message(result);
        fprintf(stderr, "sea: application failed: %s (%s)%s%s\n", sea_strerror(err), sea_errname(err),
                msg ? ": " : "", msg ? msg : "");
        sea__shard_stop(s, 1);
    } else {
        sea_value v = sea_future_value(result);
        sea__shard_stop(s, (int)v.i);
    }
    return sea_ready();
}

int sea_app_run(int argc, char **argv, sea_main_fn main_fn, void *arg) {
    struct sea__options opts;
    char err[256] = "";
    const char *prog = argc > 0 && argv && argv[0] ? argv[0] : "sea";
    int rc = sea__options_parse(argc, argv, &opts, err, sizeof(err));
    if (rc == 1) {
        printf("Usage: %s [options]\n\n%s", prog, sea__options_help());
        sea__options_free(&opts);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        sea__options_free(&opts);
        return 2;
    }
    if (!main_fn) {
        fprintf(stderr, "Couldn't start application: no main function given\n");
        sea__options_free(&opts);
        return 1;
    }
    struct sea__shard *shard = malloc(sizeof(*shard));
    if (!shard) {
        fprintf(stderr, "Couldn't start application: out of memory\n");
        sea__options_free(&opts);
        return 1;
    }
    rc = sea__shard_init(shard, 0, 1, &opts, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "Couldn't start application: %s\n", err);
        free(shard);
        sea__options_free(&opts);
        return 1;
    }
    app_options = &opts;
    sea_future f = main_fn(arg);
    sea_future_detach(sea_then_wrapped(f, main_done, shard));
    sea__shard_run(shard);
    int code = shard->exit_code;
    sea__shard_destroy(shard);
    free(shard);
    app_options = NULL;
    sea__options_free(&opts);
    fflush(stdout);
    return code;
}

/* sea_app_run_fiber: the application's main function, run in a fiber. */
struct fiber_main {
    sea_main_fn fn;
    void *arg;
};

static sea_future start_main_fiber(void *arg) {
    struct fiber_main *m = arg;
    sea_fiber_attr attr = {.name = "main"};
    return sea_fiber_start(m->fn, m->arg, &attr);
}

int sea_app_run_fiber(int argc, char **argv, sea_main_fn main_fn, void *arg) {
    if (!main_fn)
        return sea_app_run(argc, argv, NULL, arg);
    struct fiber_main m = {main_fn, arg};
    return sea_app_run(argc, argv, start_main_fiber, &m);
}
