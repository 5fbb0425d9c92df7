/*
 * test_servers.c - the tutorial's servers as a user runs them: started as
 * processes, reached over loopback by real clients, stopped with SIGTERM.
 *
 *     test_servers SERVER_BINARY [sea options...]
 *
 * For each mode (accept, canned, echo) it starts "SERVER MODE 127.0.0.1:0
 * [options]", reads the port from the "listening on" line, makes 40
 * connections (echo: 256 KiB each, written in pieces while reading, then
 * half-closed), checks every answer, sends SIGTERM and expects exit status 0
 * within 10 seconds; for accept, one "Accepted connection from
 * 127.0.0.1:PORT" line per connection.  Not a sea program itself: plain
 * blocking sockets, as any client would use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stall_filter.h"

#define CONNS 40

static int failures;

#define EXPECT(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            failures++; \
        } \
    } while (0)

struct server {
    pid_t pid;
    int out, err; /* its stdout and stderr */
    int port;
};

static int start(struct server *s, char *const argv[]) {
    int out[2], err[2];
    if (pipe(out) < 0 || pipe(err) < 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    s->out = out[0];
    s->err = err[0];
    /* The first line on stderr: "listening on 127.0.0.1:PORT on N shards". */
    char line[256];
    size_t n = 0;
    while (n < sizeof(line) - 1) {
        struct pollfd p = {s->err, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            return -1;
        ssize_t r = read(s->err, line + n, 1);
        if (r <= 0)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    if (sscanf(line, "listening on 127.0.0.1:%d", &s->port) != 1) {
        fprintf(stderr, "unexpected first line: %s\n", line);
        return -1;
    }
    return 0;
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Reads until end of stream (or limit); returns the byte count, -1 on error. */
static ssize_t read_all(int fd, char *buf, size_t limit) {
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, limit - n); /* sockets and pipes alike */
        if (r == 0)
            return (ssize_t)n;
        if (r < 0)
            return -1;
        n += (size_t)r;
        if (n == limit)
            return (ssize_t)n;
    }
}

static bool echo_once(int port, unsigned seed) {
    enum { TOTAL = 256 * 1024 };
    static char out[TOTAL], in[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = (char)(i * 7 + seed);
    int fd = connect_to(port);
    if (fd < 0)
        return false;
    size_t sent = 0, got = 0;
    while (got < TOTAL) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < TOTAL ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 10000) <= 0)
            break;
        if ((p.revents & POLLOUT) && sent < TOTAL) {
            ssize_t w = send(fd, out + sent, TOTAL - sent > 3000 ? 3000 : TOTAL - sent, MSG_DONTWAIT);
            if (w > 0 && (sent += (size_t)w) == TOTAL)
                shutdown(fd, SHUT_WR);
        }
        if (p.revents & POLLIN) {
            ssize_t r = recv(fd, in + got, TOTAL - got, MSG_DONTWAIT);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    char c;
    bool ok = got == TOTAL && memcmp(in, out, TOTAL) == 0 && recv(fd, &c, 1, 0) == 0;
    close(fd);
    return ok;
}

/* SIGTERM, then the exit status (or -1 after 10 s, when it is killed). */
static int stop(struct server *s) {
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 1000; i++) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            return status;
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    return -1;
}

static void run_mode(const char *binary, const char *mode, int nopts, char **opts) {
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)binary;
    argv[n++] = (char *)mode;
    argv[n++] = "127.0.0.1:0";
    for (int i = 0; i < nopts && n < 31; i++)
        argv[n++] = opts[i];
    argv[n] = NULL;
    struct server s;
    if (start(&s, argv) < 0) {
        EXPECT(0, "%s: the server did not start", mode);
        return;
    }
    int ok = 0;
    for (int i = 0; i < CONNS; i++) {
        if (strcmp(mode, "echo") == 0) {
            ok += echo_once(s.port, (unsigned)i);
            continue;
        }
        int fd = connect_to(s.port);
        char buf[256];
        ssize_t r = fd < 0 ? -1 : read_all(fd, buf, sizeof(buf) - 1);
        if (fd >= 0)
            close(fd);
        if (strcmp(mode, "canned") == 0)
            ok += r == 23 && memcmp(buf, "Seastar is the future!\n", 23) == 0;
        else
            ok += r == 0;
    }
    EXPECT(ok == CONNS, "%s: %d of %d connections answered right", mode, ok, CONNS);
    int status = stop(&s);
    EXPECT(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: exit status 0x%x", mode, status);
    /* Everything it printed. */
    static char out[65536];
    ssize_t got = read_all(s.out, out, sizeof(out) - 1);
    out[got > 0 ? got : 0] = '\0';
    if (strcmp(mode, "accept") == 0) {
        int lines = 0;
        for (char *p = out; (p = strstr(p, "Accepted connection from 127.0.0.1:")); p++)
            lines++;
        EXPECT(lines == CONNS, "accept: %d \"Accepted connection\" lines, want %d:\n%s", lines, CONNS, out);
    }
    char err[4096];
    got = read_all(s.err, err, sizeof(err) - 1);
    err[got > 0 ? got : 0] = '\0';
    EXPECT(!*sea_test_drop_stall_reports(err), "%s: unexpected stderr: %s", mode, err);
    close(s.out);
    close(s.err);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SERVER_BINARY [sea options...]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    static const char *const modes[] = {"accept", "canned", "echo"};
    for (int m = 0; m < 3; m++)
        run_mode(argv[1], modes[m], argc - 2, argv + 2);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
