/*
 * check.h - the tiny test harness every sea test program uses.
 *
 * A test program lists its cases; each case is a function returning a future.
 * sea_test_main runs them one after another inside one reactor (so the cases
 * also exercise the reactor), counts failed CHECKs and failed futures, prints
 * "N passed, N failed" and exits non-zero if anything failed.
 *
 * A positional argument runs only the case of that name:
 *     build/tests/test_future --reactor-backend=epoll t_box_detach
 *
 * Helpers for the cases: a reactor statistics snapshot, capturing this
 * process's stderr, running a function in a forked child or running another
 * program with their stdout and stderr captured.
 *
 * The stall detector is off in test programs (--blocked-reactor-notify-ms=0
 * first on the command line), and the stderr the helpers capture comes
 * without stall reports (stall_filter.h): a loaded machine may print them
 * for any program, and no test here is about them but test_ops.
 */
#ifndef SEA_TEST_CHECK_H
#define SEA_TEST_CHECK_H

#include <sea/sea.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

extern int sea_test_failures;

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            sea_test_failures++; \
        } \
    } while (0)

#define CHECK_EQ(a, b) \
    do { \
        long long sea__a = (long long)(a), sea__b = (long long)(b); \
        if (sea__a != sea__b) { \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, __LINE__, #a, \
                    sea__a, #b, sea__b); \
            sea_test_failures++; \
        } \
    } while (0)

/* s (which may be NULL) contains sub. */
#define CHECK_CONTAINS(s, sub) \
    do { \
        const char *sea__s = (s), *sea__sub = (sub); \
        if (!sea__s || !strstr(sea__s, sea__sub)) { \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: %s == \"%s\" lacks \"%s\"\n", __FILE__, \
                    __LINE__, #s, sea__s ? sea__s : "(null)", sea__sub); \
            sea_test_failures++; \
        } \
    } while (0)

/* Both strings non-NULL and equal. */
#define CHECK_STREQ(a, b) \
    do { \
        const char *sea__x = (a), *sea__y = (b); \
        if (!sea__x || !sea__y || strcmp(sea__x, sea__y) != 0) { \
            fprintf(stderr, "%s:%d: CHECK_STREQ failed: %s == \"%s\", %s == \"%s\"\n", __FILE__, \
                    __LINE__, #a, sea__x ? sea__x : "(null)", #b, sea__y ? sea__y : "(null)"); \
            sea_test_failures++; \
        } \
    } while (0)

struct sea_test_case {
    const char *name;
    sea_future (*fn)(void);
};

#define SEA_TEST(name) {#name, name}
#define SEA_TEST_COUNT(cases) (sizeof(cases) / sizeof((cases)[0]))

/* What a sea_then_wrapped checker expects of a ready future: a value, or an error (and message). */
struct expect {
    int64_t v;
    int err;
    const char *msg; /* NULL: any message */
};
/* Continuations for sea_then_wrapped: CHECK that the future holds e->v, or fails with e->err (e->msg). */
sea_future expect_value(struct expect *e, sea_future *in);
sea_future expect_error(struct expect *e, sea_future *in);

/* Runs the cases in order inside sea_app_run; returns the process exit code. */
int sea_test_main(int argc, char **argv, const struct sea_test_case *cases, size_t n);

/* The backend named on the command line ("io_uring", "epoll"), or NULL. */
extern const char *sea_test_backend_arg;

/* The current shard's counters (all zero outside a reactor). */
sea_reactor_stats sea_test_stats(void);

/*
 * Captures everything written to stderr (fd 2) from now until
 * sea_test_stderr_end(), which restores stderr and returns the text (valid
 * until the next capture), stall reports removed.  Captures do not nest.
 */
void sea_test_stderr_begin(void);
const char *sea_test_stderr_end(void);

/* What a child process did. */
struct sea_test_child {
    int status;      /* as from waitpid; -1 if the child could not be started */
    char out[16384]; /* its stdout (truncated), NUL-terminated */
    char err[16384]; /* its stderr (truncated), NUL-terminated, stall reports removed */
};

/*
 * Forks; the child runs fn(arg) with stdout and stderr redirected and then
 * _exit(0)s (it never returns into the harness; it is killed after 20 s).
 * The parent waits for it.  Returns c->status.
 */
int sea_test_fork(void (*fn)(void *arg), void *arg, struct sea_test_child *c);

/* Runs the program argv[0] (a path) with argv, waits for it; returns c->status. */
int sea_test_exec(char *const argv[], struct sea_test_child *c);

/* Number of '\n' in s. */
int sea_test_count_lines(const char *s);

/* Both describe c->status: normal exit with code, or death by signal sig. */
int sea_test_exited_with(const struct sea_test_child *c, int code);
int sea_test_killed_by(const struct sea_test_child *c, int sig);

/*
 * A pending future that becomes f after one trip through the run queue
 * (f may be a value, an error, a box...).  Consumes f.
 */
sea_future sea_test_later(sea_future f) SEA_MUST_USE;
/* The same after a sleep of d. */
sea_future sea_test_sleep_then(sea_time d, sea_future f) SEA_MUST_USE;

/*
 * Waits for a, then resolves to b.  If a fails, that counts as a test failure
 * (reported on stderr) and b still follows.  Consumes both.
 */
sea_future sea_test_join(sea_future a, sea_future b) SEA_MUST_USE;

/* A boxed value that counts its releases in *released (and frees itself). */
struct sea_test_box {
    sea_box box;
    int *released;
    int64_t payload;
};
struct sea_test_box *sea_test_box_new(int *released, int64_t payload);
/* Frees a box the test took ownership of (without counting a release). */
void sea_test_box_free(void *box_ptr);

/* A test case that is a fiber: name(void) starts name_body() as a fiber named after the case. */
#define FIBER_CASE(case_) \
    static sea_future case_##_body(void); \
    static sea_future case_(void) { \
        return sea_fiber_start_attr(&(sea_fiber_attr){.name = #case_}, case_##_body); \
    } \
    static sea_future case_##_body(void)

/* The next shard after the current one (the current one if it is alone). */
static inline unsigned sea_test_next_shard(void) {
    return (sea_shard_id() + 1) % sea_shard_count();
}

/*
 * A future that is still formally pending but whose promise has already been
 * resolved with v: attaching to it would run the continuation at once.
 */
sea_future sea_test_arrived_int(int64_t v) SEA_MUST_USE;

/* In a fiber: awaits f and CHECKs that it holds the integer v. */
#define AWAIT_INT(f, v) \
    do { \
        sea_value got_ = {0}; \
        int err_ = sea_await_value((f), &got_); \
        CHECK_EQ(err_, 0); \
        if (!err_) \
            CHECK_EQ(got_.i, (v)); \
    } while (0)

/* In a fiber: awaits f and CHECKs that it failed with err and, if msg is not NULL, that message. */
void sea_test_await_error(sea_future f, int err, const char *msg);

/* In a fiber: awaits f and returns its error (0 for success), its value in *v if v is not NULL. */
int sea_test_await_err(sea_future f, sea_value *v);

/* A small deterministic pseudo-random generator (xorshift64*). */
uint64_t sea_test_rand(uint64_t *state);

#endif
