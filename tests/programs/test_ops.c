/*
 * test_ops.c - operability features as a user meets them: ops_helper runs
 * as a process, and this driver checks its exit status, stdout and stderr.
 *
 *     test_ops OPS_HELPER_BINARY [sea options...]
 *
 * Covers: application options (values, defaults, bounds, bad values, the
 * options file and its precedence, --help), logging (levels, per-logger
 * levels, --help-loggers, unknown loggers, line format, arguments of a
 * disabled level not evaluated, a flood into a pipe nobody reads that must
 * not block the reactor), the stall detector (a report with a backtrace
 * naming the blocking function), signal handlers (on the reactor, on the
 * registering shard, SIGTERM replaced), slow stop callbacks reported, and
 * the SIGUSR2 state dump.  Every child is bounded in time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static const char *binary;
static char **sea_opts;
static int nsea_opts;

#define EXPECT(cond, ...)                                                                                        \
    do {                                                                                                         \
        if (!(cond)) {                                                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                                                        \
            fprintf(stderr, "\n");                                                                               \
            failures++;                                                                                          \
        }                                                                                                        \
    } while (0)

struct child {
    pid_t pid;
    int out, err; /* read ends */
    char *obuf, *ebuf; /* everything read, NUL-terminated (grown as needed) */
    size_t olen, elen, ocap, ecap;
    int status;
    bool exited;
};

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts "binary MODE [extra...] [sea options]"; read_err false leaves stderr unread (a full pipe). */
static void spawn(struct child *c, const char *mode, const char *const extra[]) {
    int op[2], ep[2];
    if (pipe(op) < 0 || pipe(ep) < 0) {
        perror("pipe");
        exit(1);
    }
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)binary;
    argv[n++] = (char *)mode;
    for (int i = 0; i < nsea_opts; i++)
        argv[n++] = sea_opts[i];
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    free(c->obuf);
    free(c->ebuf);
    memset(c, 0, sizeof(*c));
    c->ocap = c->ecap = 1 << 16;
    c->obuf = calloc(1, c->ocap);
    c->ebuf = calloc(1, c->ecap);
    c->pid = fork();
    if (c->pid == 0) {
        dup2(op[1], 1);
        dup2(ep[1], 2);
        close(op[0]);
        close(ep[0]);
        execv(binary, argv);
        _exit(127);
    }
    close(op[1]);
    close(ep[1]);
    c->out = op[0];
    c->err = ep[0];
    fcntl(c->out, F_SETFL, O_NONBLOCK);
    fcntl(c->err, F_SETFL, O_NONBLOCK);
}

/* Appends what fd has to *buf (grown to fit, kept NUL-terminated); read(2)'s result. */
static ssize_t read_more(int fd, char **buf, size_t *len, size_t *cap) {
    if (*cap - *len < 65536) {
        char *grown = realloc(*buf, *cap * 2);
        if (!grown)
            return -1;
        *buf = grown;
        *cap *= 2;
    }
    ssize_t r = read(fd, *buf + *len, *cap - 1 - *len);
    if (r > 0)
        *len += (size_t)r;
    (*buf)[*len] = '\0';
    return r;
}

/* Reads what is there (stderr too if read_err) for up to ms; returns when want appears in stdout (if given). */
static bool pump(struct child *c, int ms, bool read_err, const char *want) {
    long end = now_ms() + ms;
    for (;;) {
        if (want && memmem(c->obuf, c->olen, want, strlen(want)))
            return true;
        long left = end - now_ms();
        if (left <= 0)
            return false;
        struct pollfd pf[2] = {{.fd = c->out, .events = POLLIN}, {.fd = read_err ? c->err : -1, .events = POLLIN}};
        if (poll(pf, 2, (int)(left < 50 ? left : 50)) < 0 && errno != EINTR)
            return false;
        bool eof = true;
        if (c->out >= 0) {
            ssize_t r = read_more(c->out, &c->obuf, &c->olen, &c->ocap);
            eof = r == 0;
        }
        if (read_err) {
            ssize_t r = read_more(c->err, &c->ebuf, &c->elen, &c->ecap);
            eof = eof && r == 0;
        }
        if (!c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
            c->exited = true;
        if (eof && c->exited && !want)
            return true;
    }
}

/* Waits up to ms for the exit (reading both pipes); kills it if it does not come.  Returns the exit status or -1. */
static int finish(struct child *c, int ms, bool read_err) {
    long end = now_ms() + ms;
    while (!c->exited && now_ms() < end)
        pump(c, 50, read_err, NULL);
    if (!c->exited) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &c->status, 0);
        c->exited = true;
        fprintf(stderr, "  (child did not exit in time; killed)\n");
        close(c->out);
        close(c->err);
        return -1;
    }
    pump(c, 200, true, NULL); /* what is left in the pipes */
    close(c->out);
    close(c->err);
    return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status);
}

static void child_free(struct child *c) {
    free(c->obuf);
    free(c->ebuf);
    c->obuf = c->ebuf = NULL;
}

static int run(struct child *c, const char *mode, const char *const extra[]) {
    spawn(c, mode, extra);
    return finish(c, 20000, true);
}

static bool matches(const char *text, const char *pattern) {
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
        return false;
    bool m = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

/* ---- options ---- */

static void test_options(void) {
    struct child c = {0};
    int st = run(&c, "options", NULL);
    EXPECT(st == 0, "exit %d, stderr: %s", st, c.ebuf);
    EXPECT(strstr(c.obuf, "shard 0: port=11211 name=demo ratio=0.5 cache=1048576 verbose=0 count=unset given=\n"),
           "defaults: %s", c.obuf);

    st = run(&c, "options",
             (const char *const[]){"--port=8080", "--name", "cache box", "--verbose", "--cache", "2G", "--count=-5",
                                   "--ratio", "1e-1", NULL});
    EXPECT(st == 0, "exit %d, stderr: %s", st, c.ebuf);
    EXPECT(strstr(c.obuf, "port=8080 name=cache box ratio=0.1 cache=2147483648 verbose=1 count=set given=port,verbose"),
           "given: %s", c.obuf);

    static const struct {
        const char *arg, *message;
    } bad[] = {
        {"--port=0", "option '--port': '0' is not a whole number in 1..65535"},
        {"--port=abc", "option '--port': 'abc' is not a whole number in 1..65535"},
        {"--port=99999999999999999999999", "option '--port'"},
        {"--ratio=2", "option '--ratio': '2' is not a number in 0..1"},
        {"--ratio=nan", "option '--ratio': 'nan' is not a number"},
        {"--cache=lots", "option '--cache': 'lots' is not a size"},
        {"--verbose=maybe", "option '--verbose': 'maybe' is not true or false"},
        {"--name", "option '--name' needs a value"},
        {"--nosuch=1", "unknown option '--nosuch'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        st = run(&c, "options", (const char *const[]){bad[i].arg, NULL});
        EXPECT(st == 2, "%s: exit %d", bad[i].arg, st);
        EXPECT(strstr(c.ebuf, bad[i].message) && strchr(c.ebuf, '\n') == c.ebuf + c.elen - 1,
               "%s: want one line with \"%s\", got: %s", bad[i].arg, bad[i].message, c.ebuf);
    }

    /* The options file: its values, comments, flags; the command line wins; errors name file and line. */
    char path[] = "/tmp/sea-test-ops-XXXXXX";
    int fd = mkstemp(path);
    const char good[] = "# a comment\n\nport = 9000\nname=from file\nverbose = yes\nratio 0.25\n";
    EXPECT(write(fd, good, sizeof(good) - 1) == (ssize_t)sizeof(good) - 1, "write");
    close(fd);
    char fileopt[128];
    snprintf(fileopt, sizeof(fileopt), "--options-file=%s", path);
    st = run(&c, "options", (const char *const[]){fileopt, NULL});
    EXPECT(st == 0 && strstr(c.obuf, "port=9000 name=from file ratio=0.25 cache=1048576 verbose=1"), "file: %s %s",
           c.obuf, c.ebuf);
    st = run(&c, "options", (const char *const[]){"--port", "7", fileopt, NULL});
    EXPECT(st == 0 && strstr(c.obuf, "port=7 name=from file"), "command line wins: %s %s", c.obuf, c.ebuf);
    static const struct {
        const char *text, *message;
    } bad_files[] = {
        {"port = 9000\nport = x\n", ":2: option '--port': 'x' is not a whole number"},
        {"nosuch = 1\n", ":1: unknown option '--nosuch'"},
        {"verbose = perhaps\n", ":1: option '--verbose': 'perhaps' is not true or false"},
        {"options-file = /etc/passwd\n", ":1: an options file cannot name another"},
        {"= 3\n", ":1: expected \"name = value\""},
        {"smp = many\n", ":1: option '--smp'"},
    };
    for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
        fd = open(path, O_WRONLY | O_TRUNC);
        EXPECT(write(fd, bad_files[i].text, strlen(bad_files[i].text)) == (ssize_t)strlen(bad_files[i].text), "w");
        close(fd);
        st = run(&c, "options", (const char *const[]){fileopt, NULL});
        EXPECT(st == 2 && strstr(c.ebuf, path) && strstr(c.ebuf, bad_files[i].message), "bad file %zu: %d %s", i, st,
               c.ebuf);
    }
    fd = open(path, O_WRONLY | O_TRUNC);
    EXPECT(write(fd, "name = a\0b\n", 11) == 11, "w");
    close(fd);
    st = run(&c, "options", (const char *const[]){fileopt, NULL});
    EXPECT(st == 2 && strstr(c.ebuf, ":1: the line holds a NUL byte"), "NUL: %d %s", st, c.ebuf);
    unlink(path);
    /* A file that never ends is read only so far. */
    st = run(&c, "options", (const char *const[]){"--options-file=/dev/zero", NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "/dev/zero: larger than 1048576 bytes"), "/dev/zero: %d %s", st, c.ebuf);
    /* A FIFO: read as its writer writes; with no writer, start-up fails after 5 s and says why. */
    char fifo[] = "/tmp/sea-test-fifo-XXXXXX";
    int tmp = mkstemp(fifo);
    close(tmp);
    unlink(fifo);
    EXPECT(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    snprintf(fileopt, sizeof(fileopt), "--options-file=%s", fifo);
    st = run(&c, "options", (const char *const[]){fileopt, NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "is not a regular file and its data did not come within 5 s"), "FIFO: %d %s", st,
           c.ebuf);
    pid_t writer = fork();
    if (writer == 0) { /* opens (blocking until the server opens its end), writes, closes */
        alarm(20);
        int w = open(fifo, O_WRONLY);
        const char line[] = "port = 9001\n";
        _exit(w >= 0 && write(w, line, sizeof(line) - 1) == (ssize_t)sizeof(line) - 1 ? 0 : 1);
    }
    st = run(&c, "options", (const char *const[]){fileopt, NULL});
    EXPECT(st == 0 && strstr(c.obuf, "port=9001 "), "FIFO with a writer: %d %s %s", st, c.obuf, c.ebuf);
    int wst = 0;
    EXPECT(waitpid(writer, &wst, 0) == writer && WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "FIFO writer: %d", wst);
    unlink(fifo);
    /* Only a real --options-file names a file: here it is the value of --name. */
    st = run(&c, "options", (const char *const[]){"--name", "--options-file=/nonexistent/sea.conf", NULL});
    EXPECT(st == 0 && strstr(c.obuf, "name=--options-file=/nonexistent/sea.conf "), "value, not file: %d %s %s", st,
           c.obuf, c.ebuf);
    st = run(&c, "options", (const char *const[]){"--options-file=/nonexistent/sea.conf", NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "cannot read options file '/nonexistent/sea.conf'"), "missing file: %s", c.ebuf);

    st = run(&c, "options", (const char *const[]){"--help", NULL});
    EXPECT(st == 0 && strstr(c.obuf, "Application options:") && matches(c.obuf, "--port INT +TCP port \\(default 11211\\)") &&
               strstr(c.obuf, "--verbose") && strstr(c.obuf, "--blocked-reactor-notify-ms"),
           "help: %s", c.obuf);
    child_free(&c);
}

/* ---- logging ---- */

static const char line_re[] = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} \\[shard 0\\] ERROR ops - an error 1$";

static void test_logging(void) {
    struct child c = {0};
    int st = run(&c, "log", NULL);
    EXPECT(st == 0, "exit %d %s", st, c.ebuf);
    EXPECT(matches(c.ebuf, line_re), "line format: %s", c.ebuf);
    EXPECT(strstr(c.ebuf, "WARN  ops - a warning 2") && strstr(c.ebuf, "INFO  ops - some info 3") &&
               !strstr(c.ebuf, "debugging") && !strstr(c.ebuf, "tracing"),
           "default level info: %s", c.ebuf);
    EXPECT(strstr(c.obuf, "debug arguments evaluated 0 times"), "disabled level evaluated its arguments: %s", c.obuf);

    st = run(&c, "log", (const char *const[]){"--logger-log-level", "ops=trace", NULL});
    EXPECT(st == 0 && strstr(c.ebuf, "DEBUG ops - debugging 1") && strstr(c.ebuf, "TRACE ops - tracing 5"),
           "ops=trace: %s", c.ebuf);
    EXPECT(!strstr(c.obuf, "evaluated 0 times"), "enabled level: %s", c.obuf);

    st = run(&c, "log", (const char *const[]){"--default-log-level=error", NULL});
    EXPECT(st == 0 && strstr(c.ebuf, "ERROR ops") && !strstr(c.ebuf, "WARN ") && !strstr(c.ebuf, "INFO "),
           "default error: %s", c.ebuf);
    st = run(&c, "log", (const char *const[]){"--default-log-level=error", "--logger-log-level=ops=warn", NULL});
    EXPECT(st == 0 && strstr(c.ebuf, "WARN  ops") && !strstr(c.ebuf, "INFO "), "per logger wins: %s", c.ebuf);

    st = run(&c, "log", (const char *const[]){"--help-loggers", NULL});
    EXPECT(st == 0 && strstr(c.obuf, "  ops\n") && strstr(c.obuf, "  sea\n"), "help-loggers: %s", c.obuf);
    st = run(&c, "log", (const char *const[]){"--logger-log-level=nosuch=info", NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "no logger named 'nosuch' (see --help-loggers)"), "unknown logger: %s", c.ebuf);
    st = run(&c, "log", (const char *const[]){"--logger-log-level=ops=loud", NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "is not NAME=LEVEL"), "bad level: %s", c.ebuf);
    st = run(&c, "log", (const char *const[]){"--default-log-level=verbose", NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "option '--default-log-level': 'verbose' is not a level"), "bad default: %s",
           c.ebuf);

    /* A flood into a pipe nobody reads: the reactor must go on (lines are dropped, not waited for). */
    spawn(&c, "flood", NULL);
    bool done = pump(&c, 20000, false, "flood done");
    EXPECT(done, "the flood blocked the reactor; stdout: %s", c.obuf);
    /* Now read: the writer catches up and reports what it dropped. */
    st = finish(&c, 20000, true);
    EXPECT(st == 0, "flood exit %d", st);
    EXPECT(strstr(c.ebuf, "log lines from shard 0 dropped: the log output is too slow"), "no drop report: %.300s",
           c.ebuf);
    /* Nobody ever reads: the exit must not wait for a reader (the writer gives up after a second). */
    spawn(&c, "flood", (const char *const[]){"--blocked-reactor-notify-ms=1", NULL});
    st = finish(&c, 15000, false);
    EXPECT(st == 0, "exit with a blocked stderr: %d", st);
    child_free(&c);
}

/* ---- stall detector ---- */

static void test_stall(void) {
    struct child c = {0};
    int st = run(&c, "stall", (const char *const[]){"--blocked-reactor-notify-ms=50", NULL});
    EXPECT(st == 0, "exit %d", st);
    EXPECT(matches(c.ebuf, "WARN  sea - Reactor stalled for [0-9]+ ms on shard 0\\. Backtrace:"), "report: %s", c.ebuf);
    /* The backtrace shows where it was stuck (exported by the executable: see CMakeLists, -rdynamic). */
    EXPECT(strstr(c.ebuf, "ops_block_reactor_on_purpose"), "backtrace lacks the blocking function: %s", c.ebuf);
    /* Rate-limited: at 50, 100, 200 ms of a 300 ms stall, not every tick. */
    int reports = 0;
    for (const char *p = c.ebuf; (p = strstr(p, "Reactor stalled")); p++)
        reports++;
    EXPECT(reports >= 1 && reports <= 4, "%d reports", reports);
    /* The same stall is a task-quota violation in the reactor's statistics (and metrics). */
    EXPECT(matches(c.obuf, "^quota violations: [1-9][0-9]*$"), "quota violations: %s", c.obuf);
    st = run(&c, "stall", (const char *const[]){"--blocked-reactor-notify-ms=0", NULL});
    EXPECT(st == 0 && !strstr(c.ebuf, "Reactor stalled"), "off: %s", c.ebuf);
    st = run(&c, "stall", (const char *const[]){"--blocked-reactor-notify-ms=1000", NULL});
    EXPECT(st == 0 && !strstr(c.ebuf, "Reactor stalled"), "under the threshold: %s", c.ebuf);
    child_free(&c);
}

/* ---- signals, stop, dump ---- */

static void test_signals(void) {
    struct child c = {0};
    spawn(&c, "signal", NULL);
    EXPECT(pump(&c, 10000, true, "ready\n"), "not ready: %s %s", c.obuf, c.ebuf);
    kill(c.pid, SIGHUP);
    EXPECT(pump(&c, 5000, true, "handled SIGHUP on shard "), "SIGHUP: %s", c.obuf);
    kill(c.pid, SIGTERM); /* handled: does not stop the application */
    EXPECT(pump(&c, 5000, true, "handled SIGTERM on shard 0"), "SIGTERM: %s", c.obuf);
    kill(c.pid, SIGUSR1); /* the handler ends main */
    int st = finish(&c, 10000, true);
    EXPECT(st == 0 && strstr(c.obuf, "handled SIGUSR1 on shard 0"), "exit %d: %s %s", st, c.obuf, c.ebuf);
    if (nsea_opts == 0 || !strstr(sea_opts[nsea_opts - 1], "c1")) {
        /* The last shard registered SIGHUP; with one shard that is shard 0. */
        char want[64];
        bool two = false;
        for (int i = 0; i < nsea_opts; i++)
            two = two || strcmp(sea_opts[i], "-c2") == 0;
        snprintf(want, sizeof(want), "handled SIGHUP on shard %d", two ? 1 : 0);
        EXPECT(strstr(c.obuf, want), "want \"%s\": %s", want, c.obuf);
    }

    spawn(&c, "slow-stop", (const char *const[]){"--stop-report-ms=100", NULL});
    st = finish(&c, 10000, true);
    EXPECT(st == 0 && matches(c.ebuf, "WARN  sea - stop callback .* has not finished after [0-9]+ ms"),
           "slow stop: %d %s", st, c.ebuf);
    /* The watchdog's long sleep (an hour's threshold) does not hold up the exit. */
    spawn(&c, "slow-stop", (const char *const[]){"--blocked-reactor-notify-ms=3600000", "--stop-report-ms=0", NULL});
    st = finish(&c, 10000, true);
    EXPECT(st == 0 && !strstr(c.ebuf, "stop callback"), "exit with a long stall threshold: %d %s", st, c.ebuf);

    /* A removed handler: SIGHUP terminates again. */
    spawn(&c, "unhandle", NULL);
    EXPECT(pump(&c, 10000, true, "ready\n"), "unhandle not ready: %s %s", c.obuf, c.ebuf);
    kill(c.pid, SIGHUP);
    st = finish(&c, 10000, true);
    EXPECT(st == 128 + SIGHUP, "after unhandle, SIGHUP gave %d: %s", st, c.ebuf);

    /* A second application while one runs is refused without disturbing the first. */
    st = run(&c, "twice", NULL);
    EXPECT(st == 0 && strstr(c.obuf, "second sea_app_run returned 1; port still 11211") &&
               strstr(c.ebuf, "Couldn't start application: another sea application is already running") &&
               strstr(c.ebuf, "still logging after the second application was refused"),
           "twice: %d %s %s", st, c.obuf, c.ebuf);

    /* A standard flag can be undone on the command line (after an options file set it). */
    st = run(&c, "options", (const char *const[]){"--poll-mode", "--poll-mode=false", NULL});
    EXPECT(st == 0, "--poll-mode=false: %d %s", st, c.ebuf);
    st = run(&c, "options", (const char *const[]){"--poll-mode=sometimes", NULL});
    EXPECT(st == 2 && strstr(c.ebuf, "option '--poll-mode': 'sometimes' is not true or false"), "bad flag: %s",
           c.ebuf);

    spawn(&c, "dump", NULL);
    EXPECT(pump(&c, 10000, true, "ready\n"), "dump not ready: %s %s", c.obuf, c.ebuf);
    EXPECT(matches(c.obuf, "^shard 0: [0-9]+ fibers, [0-9]+ timers") &&
               matches(c.obuf, "fiber \"waiter-a\": waiting for [0-9]+ ms, in sea_await called from ops_waiter") &&
               strstr(c.obuf, "fiber \"waiter-b\"") && matches(c.obuf, "timer: due in [0-9]+ ms, calls ops_tick"),
           "dump from code: %s", c.obuf);
    kill(c.pid, SIGUSR2);
    long until = now_ms() + 5000;
    while (!strstr(c.ebuf, "dump: ") && now_ms() < until)
        pump(&c, 100, true, NULL);
    until = now_ms() + 500;
    while (now_ms() < until)
        pump(&c, 100, true, NULL);
    EXPECT(matches(c.ebuf, "\\[shard 0\\] INFO  sea - dump: shard 0: [0-9]+ fibers") &&
               strstr(c.ebuf, "fiber \\\"waiter-a\\\"") == NULL && strstr(c.ebuf, "fiber \"waiter-a\": waiting for"),
           "SIGUSR2 dump: %s", c.ebuf);
    kill(c.pid, SIGTERM);
    st = finish(&c, 10000, true);
    EXPECT(st == 0, "dump exit %d: %s", st, c.ebuf);
    child_free(&c);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_ops OPS_HELPER [sea options...]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    binary = argv[1];
    sea_opts = argv + 2;
    nsea_opts = argc - 2;
    test_options();
    test_logging();
    test_stall();
    test_signals();
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    else
        printf("all operability checks passed\n");
    return failures ? 1 : 0;
}
