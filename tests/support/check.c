/*
 * check.c - runs a test program's cases in sequence inside one reactor, and
 * the helpers declared in check.h.
 */
#include "check.h"

#include "stall_filter.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int sea_test_failures;
const char *sea_test_backend_arg;

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
        if (r->passed + r->failed == 0) {
            fprintf(stderr, "no test case matched\n");
            return sea_ready_int(1);
        }
        return sea_ready_int(r->failed ? 1 : 0);
    }
    r->failures_before = sea_test_failures;
    return sea_then_wrapped(r->cases[r->next].fn(), case_done, *rp);
}

static sea_future start(struct runner **rp) {
    struct runner *r = *rp;
    int nargs;
    char **args = sea_app_args(&nargs);
    r->only = nargs > 0 ? args[0] : NULL;
    /* Run the first case from a task, like every other one. */
    return sea_then(sea_yield(), run_next, r);
}

int sea_test_main(int argc, char **argv, const struct sea_test_case *cases, size_t n) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--reactor-backend=", 18) == 0)
            sea_test_backend_arg = argv[i] + 18;
        else if (strcmp(argv[i], "--reactor-backend") == 0 && i + 1 < argc)
            sea_test_backend_arg = argv[i + 1];
    }
    /*
     * The cases block their shard on purpose now and then (a child to wait
     * for, a file to write), and some capture this process's stderr: the
     * stall detector is off unless the command line turns it on (a later
     * option wins).
     */
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    if (!args)
        return 1;
    args[0] = argc > 0 ? argv[0] : "test";
    args[1] = "--blocked-reactor-notify-ms=0";
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    the_runner = (struct runner){.cases = cases, .n = n};
    int code = sea_app_run(argc + 1, args, start, &the_runner);
    free(args);
    return code;
}

sea_reactor_stats sea_test_stats(void) {
    sea_reactor_stats st;
    memset(&st, 0, sizeof(st));
    if (sea_reactor_stats_get(&st) != 0)
        memset(&st, 0, sizeof(st));
    return st;
}

/* ---- stderr capture ---- */

static FILE *capture_file;
static int capture_saved_fd = -1;
static char capture_text[65536];

void sea_test_stderr_begin(void) {
    fflush(stderr);
    capture_file = tmpfile();
    if (!capture_file) {
        perror("tmpfile");
        abort();
    }
    capture_saved_fd = dup(2);
    dup2(fileno(capture_file), 2);
}

static void read_all(int fd, char *buf, size_t len) {
    size_t got = 0;
    lseek(fd, 0, SEEK_SET);
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
}

const char *sea_test_stderr_end(void) {
    fflush(stderr);
    dup2(capture_saved_fd, 2);
    close(capture_saved_fd);
    capture_saved_fd = -1;
    read_all(fileno(capture_file), capture_text, sizeof(capture_text));
    sea_test_drop_stall_reports(capture_text);
    fclose(capture_file);
    capture_file = NULL;
    return capture_text;
}

/* ---- child processes ---- */

static int run_child(void (*fn)(void *), void *arg, char *const argv[], struct sea_test_child *c) {
    c->status = -1;
    c->out[0] = c->err[0] = '\0';
    FILE *out = tmpfile(), *err = tmpfile();
    if (!out || !err) {
        perror("tmpfile");
        if (out)
            fclose(out);
        if (err)
            fclose(err);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        fclose(out);
        fclose(err);
        return -1;
    }
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        alarm(20);
        if (argv) {
            execv(argv[0], argv);
            fprintf(stderr, "execv %s: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        fn(arg);
        fflush(NULL);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            status = -1;
            break;
        }
    }
    c->status = status;
    read_all(fileno(out), c->out, sizeof(c->out));
    read_all(fileno(err), c->err, sizeof(c->err));
    sea_test_drop_stall_reports(c->err);
    fclose(out);
    fclose(err);
    return status;
}

int sea_test_fork(void (*fn)(void *arg), void *arg, struct sea_test_child *c) {
    return run_child(fn, arg, NULL, c);
}

int sea_test_exec(char *const argv[], struct sea_test_child *c) {
    return run_child(NULL, NULL, argv, c);
}

int sea_test_count_lines(const char *s) {
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

int sea_test_exited_with(const struct sea_test_child *c, int code) {
    return c->status != -1 && WIFEXITED(c->status) && WEXITSTATUS(c->status) == code;
}

int sea_test_killed_by(const struct sea_test_child *c, int sig) {
    return c->status != -1 && WIFSIGNALED(c->status) && WTERMSIG(c->status) == sig;
}

uint64_t sea_test_rand(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* ---- futures for the cases ---- */

static sea_future later_cont(sea_future *saved, sea_value v) {
    (void)v;
    return sea_future_move(saved);
}

sea_future sea_test_later(sea_future f) {
    return sea_then(sea_yield(), later_cont, f);
}

sea_future sea_test_sleep_then(sea_time d, sea_future f) {
    return sea_then(sea_sleep(d), later_cont, f);
}

static void test_box_release(sea_box *b) {
    struct sea_test_box *tb = (struct sea_test_box *)b;
    (*tb->released)++;
    free(tb);
}

struct sea_test_box *sea_test_box_new(int *released, int64_t payload) {
    struct sea_test_box *tb = malloc(sizeof(*tb));
    if (!tb) {
        perror("malloc");
        abort();
    }
    tb->box.release = test_box_release;
    tb->released = released;
    tb->payload = payload;
    return tb;
}

void sea_test_box_free(void *box_ptr) {
    free(box_ptr);
}

struct join {
    sea_future second;
};

static sea_future join_cont(struct join *j, sea_future *first) {
    int err = sea_future_error(first);
    if (err) {
        const char *msg = sea_future_message(first);
        fprintf(stderr, "  a step failed with %s: %s\n", sea_errname(err), msg ? msg : "");
        sea_test_failures++;
    }
    return sea_future_move(&j->second);
}

sea_future sea_test_join(sea_future a, sea_future b) {
    return sea_then_wrapped(a, join_cont, (struct join){b});
}

sea_future expect_value(struct expect *e, sea_future *in) {
    int err = sea_future_error(in);
    if (err)
        fprintf(stderr, "  expected value %lld, got %s: %s\n", (long long)e->v, sea_errname(err),
                sea_future_message(in) ? sea_future_message(in) : "");
    CHECK_EQ(err, 0);
    if (!err)
        CHECK_EQ(sea_future_value(in).i, e->v);
    return sea_ready();
}

sea_future expect_error(struct expect *e, sea_future *in) {
    CHECK(sea_future_failed(in));
    CHECK_EQ(sea_future_error(in), e->err);
    if (e->msg)
        CHECK_STREQ(sea_future_message(in), e->msg);
    return sea_ready();
}

int sea_test_await_err(sea_future f, sea_value *v) {
    sea_future r = sea_await(f);
    int err = sea_future_failed(&r) ? sea_future_error(&r) : 0;
    if (!err && v)
        *v = sea_future_value(&r);
    sea_future_detach(r);
    return err;
}

sea_future sea_test_arrived_int(int64_t v) {
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    sea_promise_set_int(&p, v);
    sea_promise_release(&p);
    return f;
}

void sea_test_await_error(sea_future f, int err, const char *msg) {
    sea_future r = sea_await(f);
    CHECK(sea_future_failed(&r));
    CHECK_EQ(sea_future_error(&r), err);
    if (msg)
        CHECK_STREQ(sea_future_message(&r), msg);
    sea_future_detach(r);
}
