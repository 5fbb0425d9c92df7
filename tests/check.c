/*
 * check.c - runs a test program's cases in sequence inside one reactor.
 */
#include "check.h"

#include <string.h>

int sea_test_failures;

struct runner {
    const struct sea_test_case *cases;
    size_t n, next, passed, failed;
    int failures_before;
    const char *only;
};

static struct runner the_runner;

static sea_future run_next(struct runner **rp, sea_value v);

static sea_future case_done(struct runner **rp, sea_future *result) {
    struct runner *r = *rp;
    const struct sea_test_case *c = &r->cases[r->next];
    int err = sea_future_error(result);
    bool ok = !err && sea_test_failures == r->failures_before;
    if (err) {
        const char *msg = sea_future_message(result);
        fprintf(stderr, "  case %s failed with %s: %s\n", c->name, sea_errname(err), msg ? msg : "");
    }
    printf("%s %s\n", ok ? "ok  " : "FAIL", c->name);
    fflush(stdout);
    if (ok)
        r->passed++;
    else
        r->failed++;
    r->next++;
    return sea_then(sea_yield(), run_next, *rp);
}

static sea_future run_next(struct runner **rp, sea_value v) {
    struct runner *r = *rp;
    (void)v;
    while (r->next < r->n && r->only && strcmp(r->only, r->cases[r->next].name) != 0)
        r->next++;
    if (r->next >= r->n) {
        printf("%zu passed, %zu failed\n", r->passed, r->failed);
        return sea_ready_int(r->failed ? 1 : 0);
    }
    r->failures_before = sea_test_failures;
    return sea_then_wrapped(r->cases[r->next].fn(), case_done, *rp);
}

static sea_future start(void *arg) {
    struct runner *r = arg;
    int nargs;
    char **args = sea_app_args(&nargs);
    r->only = nargs > 0 ? args[0] : NULL;
    return run_next(&r, sea_ready().sea__v);
}

int sea_test_main(int argc, char **argv, const struct sea_test_case *cases, size_t n) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    the_runner = (struct runner){.cases = cases, .n = n};
    return sea_app_run(argc, argv, start, &the_runner);
}
